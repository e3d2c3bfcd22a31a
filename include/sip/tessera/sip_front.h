/* The SIP front: room systems, softphones and SIP gateways dial
 * sip:ALIAS@tessera-host and join conference ALIAS through the conference core,
 * like every other front (DESIGN.md §4: api/sip layer).
 *
 * Sofia-SIP's user agent (nua) runs on the API loop: its su_root is a GSource of
 * that GMainContext (su_glib), so SIP signalling never needs a thread of its own
 * and never waits for one. An INVITE with an SDP offer is a join with that offer
 * (the media engine answers it on a net loop: plain RTP/AVP(F) with symmetric
 * RTP); the call is BOUND to its front session: the participant leaves on BYE or
 * CANCEL, and a participant the core removes (kick, media failure, shutdown) gets
 * a BYE with a Reason header. OPTIONS is answered by the stack (keep-alives).
 * The front also registers the conference core's dialler (tsr_conference_dial):
 * a host's dial-out is an INVITE without SDP, the callee's offer in its 200 joins
 * like an inbound caller's, and our answer goes in the ACK.
 *
 * Home thread: the API loop. */
#ifndef TESSERA_SIP_FRONT_H
#define TESSERA_SIP_FRONT_H

#include <stdint.h>

#include <tessera/conference.h>
#include <tessera/front.h>
#include <tessera/sdp_plain.h>

struct tsr_sip_front;

struct tsr_sip_front_options {
    const char *host;           /* bind address ("0.0.0.0", "127.0.0.1", "::"); NULL = every one */
    uint16_t port;              /* 1..65535 */
    const char *transports;     /* "udp,tcp", "udp" or "tcp"; NULL = "udp,tcp" */
    unsigned session_expires_s; /* RFC 4028 interval offered; 0 = 1800 */
    unsigned min_se_s;          /* shortest interval accepted; 0 = 90 */
    /* SIP over TLS (sips:) on host:tls_port when both PEM files are given. */
    const char *certificate; /* PEM certificate (chain); NULL or "" = no TLS */
    const char *private_key; /* PEM private key of certificate */
    uint16_t tls_port;       /* 0 = 5061 */
    /* SDES in the offers we make ourselves: the PIN lobby's for an INVITE
     * without SDP ([sip] offer_srtp; the media layer's own offers read it too). */
    enum tsr_sdp_offer_srtp offer_srtp;
};

/* Purpose: start a SIP listener that joins callers into reg's conferences.
 * Ownership: reg borrowed for the front's life; opts copied.
 * Returns 0, TSR_ERR_INVALID (bad options), TSR_ERR_IO (the address cannot be
 * bound; logged). Thread: the API loop (its thread-default GMainContext). */
int tsr_sip_front_new(struct tsr_sip_front **out, struct tsr_conference_registry *reg,
                      const struct tsr_sip_front_options *opts);

/* Purpose: every call gets a BYE (its participant leaves with SHUTDOWN), the stack
 * shuts down (its loop is iterated until it has, at most a few seconds), free.
 * NULLs *p; accepts NULL. Thread: the API loop. */
void tsr_sip_front_free(struct tsr_sip_front **p);

/* Purpose: calls in progress or established (tests, metrics). */
unsigned tsr_sip_front_n_calls(const struct tsr_sip_front *f);

extern const struct tsr_front_desc tsr_sip_front_desc;
/* The server's table entry: started from [sip] (enabled, listen, transports); a
 * server with [sip] enabled = false gets no SIP front (state NULL). */
extern const struct tsr_front_ops tsr_sip_front;

#endif
