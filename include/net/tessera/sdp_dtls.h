/* DTLS-SRTP in a SIP-style offer without ICE (RFC 5763, RFC 5764; a=fingerprint
 * of RFC 8122, a=setup and a=connection of RFC 4145): what an UDP/TLS/RTP/SAVP(F)
 * section says about the caller's certificate and DTLS role, which role we take,
 * and whether a later offer keeps the running association. Pure; thread: any.
 *
 * Roles: the offerer says actpass (RFC 5763 §5 makes it say so), active or
 * passive. To actpass and to active we answer passive and are the DTLS server:
 * the caller's ClientHello then comes from where its media really comes from, so
 * our flight goes back through its NAT (symmetric RTP), and a caller that sends
 * nothing before it is secure (baresip) cannot deadlock against a ClientHello of
 * ours sent to a private SDP address. RFC 5763 recommends active to save the half
 * round trip of the answer; for SIP without ICE, reaching the caller matters more.
 * To passive we answer active and send the ClientHello to the SDP's address.
 * holdconn (no connection now) is refused. */
#ifndef TESSERA_SDP_DTLS_H
#define TESSERA_SDP_DTLS_H

#include <stdbool.h>
#include <stddef.h>

#include <tessera/dtls.h>
#include <tessera/sdp.h>

enum tsr_sdp_setup {
    TSR_SDP_SETUP_ACTPASS, /* also what a missing a=setup means */
    TSR_SDP_SETUP_ACTIVE,
    TSR_SDP_SETUP_PASSIVE,
};

/* One section's DTLS parameters as offered, and our role. */
struct tsr_sdp_dtls {
    struct tsr_sdp_fingerprint fingerprint; /* the strongest usable a=fingerprint offered */
    enum tsr_sdp_setup setup;               /* the offer's a=setup */
    enum tsr_dtls_role local_role;          /* ours: SERVER unless the offer is passive */
    bool connection_new;                    /* a=connection:new (echoed in the answer) */
    bool connection_existing;               /* a=connection:existing (echoed) */
};

/* Purpose: whether proto is DTLS-SRTP without ICE's own proto: "UDP/TLS/RTP/SAVP"
 * or "UDP/TLS/RTP/SAVPF". */
bool tsr_sdp_dtls_proto(const char *proto);

/* Purpose: the digest length of an a=fingerprint hash we check: sha-1 20, sha-224
 * 28, sha-256 32, sha-384 48, sha-512 64 (lower-case names, as tsr_sdp_parse_fingerprint
 * writes them); 0 for md5 and md2 (RFC 8122 §5 forbids them) and unknown names. */
size_t tsr_sdp_fingerprint_digest_bytes(const char *hash);

/* Purpose: read the DTLS attributes of section m of sdp (the section's own, else
 * the session's: baresip puts a=setup and a=fingerprint at session level only).
 * Of several a=fingerprint lines the one with the strongest hash we can check is
 * taken (RFC 8122 §5: sha-512, sha-384, sha-256, sha-224, then sha-1).
 * Returns 0 and *out; TSR_ERR_UNSUPPORTED (no a=fingerprint, none we can check
 * (md5, a wrong length, malformed), a=setup holdconn or unknown) with *why (may
 * be NULL) a static sentence. An a=connection other than new/existing is ignored. */
int tsr_sdp_dtls_read(const struct tsr_sdp *sdp, const struct tsr_sdp_media *m,
                      struct tsr_sdp_dtls *out, const char **why);

/* Purpose: a later offer (a re-INVITE) on a medium whose association runs: it
 * keeps it when the fingerprint is the same, it does not ask for a new connection,
 * and its a=setup allows the role we have (actpass always does). On success
 * offered->local_role becomes the running one. Returns 0, or TSR_ERR_UNSUPPORTED
 * with *why (a new association inside a call is not supported). */
int tsr_sdp_dtls_keep(const struct tsr_sdp_dtls *running, struct tsr_sdp_dtls *offered,
                      const char **why);

/* Purpose: the answer's a=setup value for our role: "passive" (server) or "active". */
const char *tsr_sdp_dtls_setup_answer(enum tsr_dtls_role local_role);

#endif
