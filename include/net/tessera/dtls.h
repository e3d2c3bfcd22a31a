/* DTLS-SRTP (RFC 5764, RFC 8842) with GnuTLS over a caller-supplied datagram path.
 *
 * The handshake is driven by datagrams the caller feeds in (tsr_dtls_handle_packet)
 * and by a retransmission timer on the owner's GMainContext; records go out
 * through the send callback (the ICE agent, or a plain UDP socket for SIP). The
 * peer's certificate is accepted only when its digest (the hash the SDP names:
 * sha-256, or sha-1/224/384/512) equals the a=fingerprint from its SDP. When the
 * handshake finishes, the SRTP keying material is exported for libsrtp2. */
#ifndef TESSERA_DTLS_H
#define TESSERA_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include <tessera/sdp.h>

/* A certificate + private key. Immutable once made, shared by every transport
 * (refcounted; thread: any). */
struct tsr_dtls_cert;

/* Purpose: make an ECDSA P-256 self-signed certificate (CN=tessera, valid 30
 * days from one day ago). Returns 0, TSR_ERR_CRYPTO, -ENOMEM. Cost: ~1 ms. */
int tsr_dtls_cert_generate(struct tsr_dtls_cert **out);

/* Purpose: load a PEM certificate and PEM private key (any type GnuTLS accepts).
 * Returns 0, TSR_ERR_IO (unreadable file, message logged), TSR_ERR_CRYPTO (bad PEM). */
int tsr_dtls_cert_load(struct tsr_dtls_cert **out, const char *cert_path, const char *key_path);

struct tsr_dtls_cert *tsr_dtls_cert_ref(struct tsr_dtls_cert *cert);
/* Drops a reference; NULLs *cert; accepts NULL. */
void tsr_dtls_cert_unref(struct tsr_dtls_cert **cert);

/* Purpose: "AB:CD:…" SHA-256 fingerprint of the certificate (borrowed). */
const char *tsr_dtls_cert_fingerprint(const struct tsr_dtls_cert *cert);

enum tsr_dtls_role {
    TSR_DTLS_ROLE_SERVER,
    TSR_DTLS_ROLE_CLIENT,
};

enum tsr_srtp_profile {
    TSR_SRTP_PROFILE_NONE,
    TSR_SRTP_PROFILE_AES128_CM_SHA1_80, /* key 16, salt 14 */
    TSR_SRTP_PROFILE_AEAD_AES_128_GCM,  /* key 16, salt 12 */
    TSR_SRTP_PROFILE_AES128_CM_SHA1_32, /* key 16, salt 14; 32-bit RTP tag (SDES, SIP DTLS) */
};

#define TSR_SRTP_MAX_KEY_BYTES 16
#define TSR_SRTP_MAX_SALT_BYTES 14

/* Keying material from the handshake, already split into our send (local) and
 * receive (remote) halves according to our DTLS role. */
struct tsr_dtls_srtp_keys {
    enum tsr_srtp_profile profile;
    size_t key_len;
    size_t salt_len;
    uint8_t local_key[TSR_SRTP_MAX_KEY_BYTES];
    uint8_t local_salt[TSR_SRTP_MAX_SALT_BYTES];
    uint8_t remote_key[TSR_SRTP_MAX_KEY_BYTES];
    uint8_t remote_salt[TSR_SRTP_MAX_SALT_BYTES];
};

struct tsr_dtls;

/* Sends one DTLS record datagram; returns 0 or a negative code. */
typedef int (*tsr_dtls_send_fn)(void *user, const uint8_t *data, size_t len);
/* Handshake finished and the fingerprint matched. `keys` is borrowed for the call. */
typedef void (*tsr_dtls_connected_fn)(void *user, const struct tsr_dtls_srtp_keys *keys);
/* Handshake failed (err: TSR_ERR_AUTH fingerprint mismatch, TSR_ERR_CRYPTO,
 * TSR_ERR_TIMEOUT) or the peer closed (TSR_ERR_STATE). Called at most once. */
typedef void (*tsr_dtls_failed_fn)(void *user, int err);

struct tsr_dtls_callbacks {
    tsr_dtls_send_fn send;
    tsr_dtls_connected_fn on_connected;
    tsr_dtls_failed_fn on_failed;
};

struct tsr_dtls_config {
    enum tsr_dtls_role role;
    struct tsr_dtls_cert *cert; /* borrowed; a reference is taken */
    /* Copied; tsr_dtls_fingerprint_usable() must accept it. */
    const struct tsr_sdp_fingerprint *remote_fingerprint;
    const char *
        srtp_profiles; /* GnuTLS list; NULL = "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_HMAC_SHA1_80" */
    uint16_t mtu;      /* 0 = 1200 */
    const char *log_ctx;           /* log prefix, e.g. "conf/participant" (copied); NULL = "dtls" */
    uint32_t handshake_timeout_ms; /* the whole handshake, retransmissions included; 0 = 20000 */
};

/* Purpose: whether a peer fingerprint can be checked: hash sha-1, sha-224,
 * sha-256, sha-384 or sha-512 (RFC 8122 §5) with a digest of that hash's length.
 * md5/md2 (forbidden by RFC 8122) and unknown names are not. Thread: any. */
bool tsr_dtls_fingerprint_usable(const struct tsr_sdp_fingerprint *fp);

/* Purpose: a DTLS endpoint. Nothing is sent until tsr_dtls_start().
 * Ownership: ctx referenced (retransmission timer); cb/user borrowed until free.
 * Thread: the net loop owning ctx. Returns 0, -EINVAL (no fingerprint, or one
 * tsr_dtls_fingerprint_usable refuses), TSR_ERR_CRYPTO, -ENOMEM. */
int tsr_dtls_new(struct tsr_dtls **out, GMainContext *ctx, const struct tsr_dtls_config *cfg,
                 const struct tsr_dtls_callbacks *cb, void *user);

/* Purpose: begin the handshake (a client sends its ClientHello; a server waits).
 * Call once ICE is connected. Returns 0 or TSR_ERR_STATE. */
int tsr_dtls_start(struct tsr_dtls *dtls);

/* Purpose: feed one received DTLS datagram (first byte 20..63; copied). A server
 * answers at once (a ClientHello may race ICE's "connected"); a client queues
 * datagrams until tsr_dtls_start (at most 32, oldest dropped). Returns 0,
 * TSR_ERR_INVALID for a datagram that is no DTLS record (counted; the session
 * carries on), TSR_ERR_STATE after close/failure. */
int tsr_dtls_handle_packet(struct tsr_dtls *dtls, const uint8_t *data, size_t len);

bool tsr_dtls_is_connected(const struct tsr_dtls *dtls);

/* Purpose: send close_notify once (idempotent) and stop the timer; no callback runs
 * afterwards. */
void tsr_dtls_close(struct tsr_dtls *dtls);

/* Purpose: close and free; NULLs *dtls; accepts NULL. */
void tsr_dtls_free(struct tsr_dtls **dtls);

const char *tsr_srtp_profile_name(enum tsr_srtp_profile profile);

/* Purpose: whether the linked GnuTLS can negotiate `profile` in DTLS-SRTP.
 * GnuTLS 3.7 (Debian 12) knows AES128_CM_HMAC_SHA1_80 and _32, not
 * AEAD_AES_128_GCM, which is offered automatically when the library supports it.
 * Thread: any. */
bool tsr_dtls_srtp_profile_supported(enum tsr_srtp_profile profile);

#endif
