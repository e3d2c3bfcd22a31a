/* Server-initiated offers that ADD send-only m-lines to an established session.
 * Pure: no threads, no I/O, no globals.
 *
 * Why: a client that offered its audio/video m-lines send-only (the inLive JS SDK
 * publishes with sendonly transceivers) got recvonly lines in our answer, so the
 * mix cannot travel back on them. Our re-offer keeps every m-line of the current
 * session in order with the same mid (rejected ones stay at port 0, and lines we
 * do not send on lose their a=ssrc/a=msid), and appends one sendonly m-line per
 * kind that needs it, cloned from the accepted line of that kind (same payload
 * types, RED included, feedback and header extensions, same ICE/DTLS parameters and candidates,
 * bundled) with our new SSRC and msid. The client's answer then tells which
 * payload type and MID extension id to send with. Answers and re-offers from any
 * JSEP/RFC 8843 stack are read alike: a section at port 0 with a=bundle-only is
 * live (bundled), transport attributes may sit at session level, and the
 * answerer may list the formats in its own order. */
#ifndef TESSERA_SDP_OFFER_H
#define TESSERA_SDP_OFFER_H

#include <stddef.h>
#include <stdint.h>

#include <tessera/sdp_negotiate.h>

/* One added m-line: what we offered, then (after the answer) what to send with. */
struct tsr_sdp_send_line {
    enum tsr_sdp_media_kind kind; /* audio or video */
    size_t index;                 /* position in the offer's m-lines */
    char mid[TSR_SDP_MID_MAX];
    int pt; /* payload type to send */
    int red_pt; /* audio: RED (RFC 2198) around pt, when both sides list it; -1 */
    enum tsr_sdp_codec codec;
    uint32_t ssrc;
    int ext_mid_id; /* MID header extension id; 0 = do not write it */
    unsigned fb;    /* enum tsr_sdp_fb bits */
};

struct tsr_sdp_send_offer_params {
    uint32_t audio_ssrc, video_ssrc; /* for the added lines; non-zero, unused so far */
    const char *cname;               /* RTCP CNAME; non-empty */
    const char *stream_id;           /* msid stream id of the added tracks; non-empty */
};

/* An outstanding offer. One owner; thread: any. */
struct tsr_sdp_send_offer {
    char *sdp;       /* the offer text (CRLF), owned */
    size_t n_mlines; /* m-lines in the offer */
    size_t n_lines;  /* added lines (1 or 2), audio first */
    struct tsr_sdp_send_line lines[2];
};

/* Purpose: build the offer from `local` (len bytes), our current local description
 * (the answer we gave, or our last applied offer).
 * Ownership: *out is new; free with tsr_sdp_send_offer_free(). Thread: any.
 * Returns 0; TSR_ERR_NOT_FOUND when every accepted audio/video line already
 * carries our media (nothing to add); TSR_ERR_INVALID (local is not SDP we can
 * extend; *reason says why); TSR_ERR_FULL (no room for more m-lines); -EINVAL
 * (bad params); -ENOMEM. reason may be NULL. */
int tsr_sdp_send_offer_new(struct tsr_sdp_send_offer **out, const char *local, size_t len,
                           const struct tsr_sdp_send_offer_params *params,
                           char reason[TSR_SDP_REASON_MAX]);

/* Purpose: check the client's answer (len bytes of hostile text) against `offer`
 * and fill lines[0..*n_lines) with what to send (payload type from the answer,
 * its MID extension id and feedback). No side effects on failure.
 * Returns 0; TSR_ERR_INVALID (malformed, wrong m-line count or mids, an added line
 * rejected or not recvonly, an unknown payload type, a DTLS role change; *reason
 * says which). reason may be NULL. */
int tsr_sdp_send_offer_apply_answer(const struct tsr_sdp_send_offer *offer, const char *answer,
                                    size_t len, struct tsr_sdp_send_line lines[2], size_t *n_lines,
                                    char reason[TSR_SDP_REASON_MAX]);

/* Purpose: answer a client's re-offer on the running session from our current
 * local description `local` (after added lines too): every m-line of `local` keeps
 * its section (codec, SSRC, ICE/DTLS, candidates) with the direction intersected
 * with the re-offer's; m-lines the re-offer appends are rejected (port 0); the o=
 * version is bumped. For same-transport renegotiations only: `prev_remote` is the
 * client's last description, and an offer that changes its ICE credentials or DTLS
 * fingerprint (ICE restart), the kind or mid of an existing line, or drops one of
 * our payload types (RED included) from one is refused with TSR_ERR_UNSUPPORTED (*reason says why).
 * Returns 0 and *answer (g_free); TSR_ERR_INVALID (malformed offer); -ENOMEM.
 * Thread: any. reason may be NULL. */
int tsr_sdp_answer_reoffer(const char *local, const char *prev_remote, const char *offer,
                           size_t len, char **answer, char reason[TSR_SDP_REASON_MAX]);

/* Purpose: free; NULLs *o; accepts NULL. */
void tsr_sdp_send_offer_free(struct tsr_sdp_send_offer **o);

#endif
