/* One participant's WebRTC transport: ICE (libnice) + DTLS (GnuTLS) + SRTP
 * (libsrtp2) over one BUNDLE'd, rtcp-mux'ed UDP flow.
 *
 * Received datagrams are classified by their first byte (RFC 7983, tsr_demux): DTLS goes to
 * the handshake, RTP/RTCP is unprotected and handed to on_rtp / on_rtcp; garbage
 * is counted (tessera_webrtc_bad_packets_total) and dropped. Every failure on the
 * packet path is counted and logged (rate-limited); the transport carries on.
 * Home thread: the net loop owning the GMainContext given to _new; every function
 * and callback runs there.
 *
 * A join, on the participant's net loop:
 *   tsr_webrtc_transport_new(&t, ctx, &cfg, &cb, participant);
 *   tsr_webrtc_transport_local(t, &local);      ICE + DTLS half of the answer
 *   local.audio_ssrc = …; local.video_ssrc = …; local.cname = …; local.stream_id = …;
 *   tsr_sdp_negotiate(offer, len, &local, &neg, reason);   error → HTTP 400 + reason
 *   tsr_webrtc_transport_set_remote_description(t, neg);   ICE starts; neg->answer goes back
 *   tsr_webrtc_transport_add_remote_candidate(t, …)        for each trickled candidate
 *   on_state(CONNECTED) → media flows; FAILED (ICE, DTLS, fingerprint mismatch) → drop;
 *   DISCONNECTED for 30 s → drop; then tsr_webrtc_transport_free(&t) outside callbacks. */
#ifndef TESSERA_WEBRTC_TRANSPORT_H
#define TESSERA_WEBRTC_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gio/gio.h>
#include <glib.h>

#include <tessera/config.h>
#include <tessera/dtls.h>
#include <tessera/sdp_negotiate.h>

struct tsr_webrtc_transport;

enum tsr_webrtc_state {
    TSR_WEBRTC_STATE_NEW,
    TSR_WEBRTC_STATE_CONNECTING,   /* ICE checks / DTLS handshake under way */
    TSR_WEBRTC_STATE_CONNECTED,    /* SRTP keyed; media flows */
    TSR_WEBRTC_STATE_DISCONNECTED, /* no packets for a while (consent); may recover */
    TSR_WEBRTC_STATE_FAILED,       /* ICE failed, DTLS failed or fingerprint mismatch */
    TSR_WEBRTC_STATE_CLOSED,
};

struct tsr_webrtc_config {
    uint16_t port_min; /* 0/0 = any */
    uint16_t port_max;
    const char *public_address;  /* NULL/"" = none */
    const char *stun_server;     /* "IP:port" (see tessera/ice.h); NULL/"" = ICE-lite */
    const char *bind_address;    /* NULL = every interface */
    const char *media_addresses; /* "ip[,ip…]" to gather on; NULL/"" = automatic */
    bool include_loopback;       /* automatic: add loopback (server listens there) */
    bool ice_tcp;                /* passive ICE-TCP candidates too (RFC 6544) */
    struct tsr_dtls_cert *cert;  /* borrowed; the transport takes a reference */
    const char *srtp_profiles;   /* NULL = GCM then AES_CM_80 */
    uint32_t consent_timeout_ms; /* 0 = 5000 */
    const char *log_ctx;         /* log prefix, e.g. "conf/participant" (copied); NULL = "webrtc" */
    /* Loopback/test client side: full ICE, controlling, DTLS role from the remote. */
    bool ice_controlling;
};

/* Decrypted packets; `data` is writable and borrowed for the call. */
typedef void (*tsr_webrtc_packet_fn)(void *user, uint8_t *data, size_t len);
typedef void (*tsr_webrtc_state_fn)(void *user, enum tsr_webrtc_state state);
typedef void (*tsr_webrtc_candidate_fn)(void *user, const char *candidate);

struct tsr_webrtc_callbacks {
    tsr_webrtc_packet_fn on_rtp;
    tsr_webrtc_packet_fn on_rtcp;
    tsr_webrtc_state_fn on_state;
    tsr_webrtc_candidate_fn on_candidate; /* later local candidates (full ICE: srflx) to
                                             trickle to the peer; may be NULL */
};

/* The peer's transport parameters, as an SDP carries them. Borrowed for the call. */
struct tsr_webrtc_remote {
    const char *ice_ufrag;
    const char *ice_pwd;
    const struct tsr_sdp_fingerprint *fingerprint;
    enum tsr_dtls_role local_role; /* our DTLS role */
    const char *const *candidates;
    size_t n_candidates;
};

/* Purpose: fill *out from the [webrtc] section of cfg (and [server] listen: a
 * server listening on loopback also gathers there). The strings point into cfg
 * (keep cfg alive); cert is left NULL (see tsr_webrtc_cert_from_config);
 * stun_server is the configured text, which may be a name to resolve first.
 * Returns 0 or TSR_ERR_CONFIG (media_addresses holds something that is not an IP
 * address; logged). */
int tsr_webrtc_config_from(struct tsr_webrtc_config *out, const struct tsr_config *cfg);

/* Purpose: the DTLS certificate the config names, or a fresh self-signed one when
 * certificate/private_key are empty. Returns 0, TSR_ERR_CONFIG (only one of the two
 * files given), or tsr_dtls_cert_load/generate's codes. */
int tsr_webrtc_cert_from_config(const struct tsr_config *cfg, struct tsr_dtls_cert **out);

/* Purpose: create the transport and gather local candidates. Callbacks run on ctx.
 * Ownership: ctx referenced; cfg strings copied; cb/user borrowed until free.
 * Returns 0, -EINVAL (no cert), tsr_ice_new's codes, -ENOMEM. */
int tsr_webrtc_transport_new(struct tsr_webrtc_transport **out, GMainContext *ctx,
                             const struct tsr_webrtc_config *cfg,
                             const struct tsr_webrtc_callbacks *cb, void *user);

/* Purpose: our ICE credentials, DTLS fingerprint and candidates, ready for
 * tsr_sdp_negotiate (the caller fills codec preference, SSRCs and names).
 * Borrowed pointers valid until the transport is freed. Returns 0 or -ENOMEM. */
int tsr_webrtc_transport_local(struct tsr_webrtc_transport *t, struct tsr_sdp_local *local);

/* Purpose: apply the negotiated remote side (credentials, fingerprint, role,
 * candidates) and start ICE; DTLS starts when ICE connects.
 * Returns 0, TSR_ERR_STATE (already set or closed), TSR_ERR_INVALID, -ENOMEM. */
int tsr_webrtc_transport_set_remote_description(struct tsr_webrtc_transport *t,
                                                const struct tsr_sdp_negotiation *neg);

/* Purpose: the same from explicit parameters (the loopback peer, tests). */
int tsr_webrtc_transport_set_remote(struct tsr_webrtc_transport *t,
                                    const struct tsr_webrtc_remote *remote);

/* Purpose: an ICE restart requested by the peer (its new offer carries a new
 * ice-ufrag/pwd): take the new remote credentials and candidates. Our own
 * credentials, the DTLS association and the SRTP keys stay; see the comment in
 * webrtc_transport.c for why. Returns 0, TSR_ERR_STATE (no remote yet, closed),
 * TSR_ERR_INVALID (bad credentials). */
int tsr_webrtc_transport_restart_ice(struct tsr_webrtc_transport *t, const char *ufrag,
                                     const char *pwd, const char *const *candidates,
                                     size_t n_candidates);

/* Purpose: a trickled remote candidate ("candidate:…", with or without "a=");
 * NULL or "" means end-of-candidates (what browsers trickle last).
 * Returns tsr_ice_add_remote_candidate's codes. */
int tsr_webrtc_transport_add_remote_candidate(struct tsr_webrtc_transport *t,
                                              const char *candidate);

/* Purpose: protect and send one RTP / RTCP packet; `data` is borrowed and not
 * modified (copied into a local buffer first, since SRTP works in place).
 * Returns 0, TSR_ERR_STATE (not connected), -EMSGSIZE (> 1500 bytes),
 * tsr_srtp_protect_*'s and tsr_ice_send's codes. */
int tsr_webrtc_transport_send_rtp(struct tsr_webrtc_transport *t, const uint8_t *data, size_t len);
int tsr_webrtc_transport_send_rtcp(struct tsr_webrtc_transport *t, const uint8_t *data, size_t len);

enum tsr_webrtc_state tsr_webrtc_transport_state(const struct tsr_webrtc_transport *t);
const char *tsr_webrtc_state_name(enum tsr_webrtc_state state);

/* The negotiated SRTP profile (NONE until connected). */
enum tsr_srtp_profile tsr_webrtc_transport_srtp_profile(const struct tsr_webrtc_transport *t);

/* Local UDP port (tests, logs); 0 when none. */
uint16_t tsr_webrtc_transport_local_port(const struct tsr_webrtc_transport *t);
/* tsr_ice_sends_direct of its ICE agent. */
bool tsr_webrtc_transport_sends_direct(const struct tsr_webrtc_transport *t);
/* Purpose: once CONNECTED, tsr_ice_take_receive of its ICE agent: what arrives is
 * then the caller's to read, still SRTP-protected, and no callback sees it. NULL
 * before CONNECTED or without a UDP pair. */
GSocket *tsr_webrtc_transport_take_receive(struct tsr_webrtc_transport *t);

/* Purpose: stop ICE and DTLS (close_notify), report CLOSED once; idempotent. */
void tsr_webrtc_transport_close(struct tsr_webrtc_transport *t);

/* Purpose: close and free; NULLs *t; accepts NULL. Must not be called from
 * inside one of its own callbacks. */
void tsr_webrtc_transport_free(struct tsr_webrtc_transport **t);

#endif
