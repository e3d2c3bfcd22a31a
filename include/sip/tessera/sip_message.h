/* What the SIP front reads from a request and writes into its answers. Pure: no
 * I/O, no globals; the request comes from Sofia-SIP's parser (hostile input that
 * parsed), so every field may be absent, empty or absurd.
 *
 * Thread: any. */
#ifndef TESSERA_SIP_MESSAGE_H
#define TESSERA_SIP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <sofia-sip/sip.h>

#include <tessera/conference.h>
#include <tessera/sdp_crypto.h>
#include <tessera/sdp_negotiate.h>
#include <tessera/sdp_plain.h>

#define TSR_SIP_DEFAULT_DISPLAY_NAME "SIP caller"
#define TSR_SIP_REASON_MAX 256

/* An INVITE as the front needs it. Strings are copies; sdp is borrowed from the
 * message (NULL when the INVITE has no body). */
struct tsr_sip_invite {
    char alias[TSR_CONFERENCE_ALIAS_MAX + 1];       /* "" when the request-URI has no user */
    char display_name[TSR_CONFERENCE_NAME_MAX + 1]; /* always a valid display name */
    const char *sdp;
    size_t sdp_len;
};

/* Purpose: read an INVITE: the alias is the request-URI's user part (the To's
 * when the request-URI has none; copied as written, the caller checks it with
 * tsr_conference_alias_valid), the display name is From's display name
 * (unquoted), else its user part, else TSR_SIP_DEFAULT_DISPLAY_NAME, and the body
 * is the SDP when its type is application/sdp.
 * Returns 0; TSR_ERR_INVALID when the body is not application/sdp (415) or the
 * request has no request line; *why then says why (static text). */
int tsr_sip_invite_read(const sip_t *sip, struct tsr_sip_invite *out, const char **why);

/* Purpose: the value of a Reason header (RFC 3326) for a SIP status and a human
 * text: SIP;cause=404;text="there is no conference 'x'". Quotes, backslashes and
 * control characters in text become safe; long text is cut at a UTF-8 boundary.
 * Writes a NUL-terminated string into buf (TSR_SIP_REASON_MAX bytes). */
void tsr_sip_reason_value(unsigned status, const char *text, char buf[TSR_SIP_REASON_MAX]);

/* Purpose: the standard phrase for a SIP status ("Not Found"), "" for unknown ones. */
const char *tsr_sip_status_phrase(unsigned status);

/* Purpose: the key of a SIP INFO body of type application/dtmf-relay
 * ("Signal=5\r\nDuration=160"; Signal 0-9, *, #, A-D, or 10/11 for * and #).
 * Returns 0 and *key; TSR_ERR_INVALID when there is no usable Signal line (*why
 * says why, static text). */
int tsr_sip_dtmf_relay_parse(const char *body, size_t len, char *key, const char **why);

/* Purpose: check a URI to dial out to: sip:user@host[:port] as RFC 3261 writes
 * it (scheme case-insensitive; user: unreserved, user-unreserved and %HH escapes;
 * host: a name, an IPv4 address or [IPv6]; port 1..65535), with nothing else (no
 * parameters, headers, password or display name). Returns 0 and the user part (as
 * written) in user; TSR_ERR_INVALID with *why (static text). */
int tsr_sip_dial_uri_check(const char *uri, char user[TSR_CONFERENCE_NAME_MAX + 1],
                           const char **why);

/* The lobby's video: the first video section it can show its "enter PIN" picture
 * on (RTP/AVP(F) or SDES RTP/SAVP(F), not send-only or inactive, H.264
 * packetization-mode 1 constrained baseline or VP8). */
struct tsr_sip_lobby_video {
    int pt;           /* -1: no such section; the answer keeps video inactive */
    bool h264;        /* else VP8 */
    char rtpmap[32];  /* "H264/90000", "VP8/90000" */
    char proto[24];   /* as offered */
    char address[64]; /* its c= (else the session's) */
    uint16_t port;
    bool srtp;
    struct tsr_sdp_crypto remote_crypto, local_crypto;
    bool local_keyed; /* local_crypto is the key our own offer gave (a delayed offer) */
    bool picture;     /* set by the lobby: it sends the picture (answer sendonly) */
};

/* What a PIN lobby answers with before the caller is a participant. */
struct tsr_sip_lobby_sdp {
    char remote_address[64]; /* the offer's audio c= address */
    uint16_t remote_port;    /* its m= port */
    bool receives;           /* the audio section accepts media (not sendonly/inactive) */
    bool prompt;             /* set by the lobby: it sends its prompt (answer sendrecv) */
    int audio_pt;            /* the codec we accept (Opus if offered, else the first) */
    char audio_rtpmap[64];   /* its a=rtpmap value after the PT, "" when static */
    int event_pt;            /* telephone-event PT, -1 when not offered */
    unsigned event_rate;     /* its clock rate */
    /* SDES-SRTP (RTP/SAVP, RTP/SAVPF audio): the caller's first usable a=crypto and
     * ours (the lobby fills local_crypto's key before the answer is written). */
    bool srtp;
    char audio_proto[24];
    struct tsr_sdp_crypto remote_crypto, local_crypto;
    bool local_keyed; /* local_crypto is the key our own offer gave (a delayed offer) */
    struct tsr_sip_lobby_video video;
};

/* Purpose: read an RTP/AVP(F) or SDES RTP/SAVP(F) offer for the lobby: the audio
 * section's address, a codec to name, telephone-event and its a=crypto. Returns 0;
 * TSR_ERR_UNSUPPORTED when the offer has no such audio section (DTLS-SRTP lobbies
 * are not done) or an SRTP one without a usable a=crypto line,
 * TSR_ERR_INVALID when it is not SDP we can read; *why says why (static text). */
int tsr_sip_lobby_sdp_read(const char *offer, size_t len, struct tsr_sip_lobby_sdp *out,
                           const char **why);

/* Purpose: the first video section of offer the lobby can show its picture on
 * (out->pt -1 when none). Never fails: a lobby without a picture still works. */
void tsr_sip_lobby_video_read(const char *offer, size_t len, struct tsr_sip_lobby_video *out);
/* Purpose: the answer's section for v (its picture set) on our `port`: the offered
 * proto, the codec, H.264's fmtp, our a=crypto for SRTP, a=sendonly. */
void tsr_sip_lobby_video_answer(GString *s, const struct tsr_sip_lobby_video *v, uint16_t port);

/* Purpose: the lobby's answer (g_free): audio receive-only on `port` at `address`
 * with the codec and telephone-event (sendrecv with a prompt), the first video
 * section sendonly on `video_port` when l->video.picture, every other section accepted inactive on
 * the discard port (so the re-INVITE that joins can turn them on), o= with
 * `session_id`, version 1. */
char *tsr_sip_lobby_sdp_answer(const char *offer, size_t len, const struct tsr_sip_lobby_sdp *l,
                               const char *address, uint16_t port, uint16_t video_port,
                               uint64_t session_id);

/* What the lobby's own offer (an INVITE without SDP) says about us. */
struct tsr_sip_lobby_ours {
    const char *address;             /* o= and c=: an IP literal */
    uint16_t audio_port, video_port; /* the lobby's sockets */
    uint32_t audio_ssrc, video_ssrc; /* the prompt's and the picture's */
    uint64_t session_id;             /* kept through the join's re-INVITE */
    unsigned session_version;
    /* SDES in the offer ([sip] offer_srtp) with these keys, one per medium. */
    enum tsr_sdp_offer_srtp offer_srtp;
    const uint8_t *audio_key, *video_key; /* TSR_SDES_KEY_SALT_BYTES each */
};

/* Purpose: the lobby's offer for an INVITE without SDP (g_free): the media layer's
 * own delayed offer (tsr_sdp_plain_offer: RTP/AVP audio Opus 96, G.722 9, PCMU 0,
 * PCMA 8, telephone-event 101, sendrecv; video H.264 mode 1 98 then VP8 97) on
 * the lobby's ports, with the video section a=sendonly (the lobby only shows its
 * picture); with ours->offer_srtp, a=crypto lines with its keys as the media
 * layer's offer has them (RTP/SAVP when mandatory). Returns 0; -EINVAL (bad
 * ours), TSR_ERR_INVALID (a writer bug). */
int tsr_sip_lobby_sdp_offer(const struct tsr_sip_lobby_ours *ours, char **out);

/* Purpose: read the caller's answer (in its ACK) to that offer into what the lobby
 * reads from a caller's offer: the chosen audio codec (payload type and name), the
 * answer's audio address and port, telephone-event, whether we may send it audio
 * (not a=sendonly/inactive, not 0.0.0.0), and the video section the picture goes
 * to (out->video.pt -1: none). The answer must keep our two sections and their
 * profile, and take audio with a codec we offered, on the payload type we offered
 * it on. A section whose answer has a=crypto (one of our tags, a key of its own)
 * is SDES-SRTP: out->srtp / out->video.srtp, the caller's key and ours (the one
 * offered, local_keyed).
 * Returns 0; TSR_ERR_INVALID (malformed, not our sections: a 400), TSR_ERR_UNSUPPORTED
 * (no codec we offered, audio rejected: a 488), -EINVAL; reason says why. */
int tsr_sip_lobby_sdp_read_answer(const char *answer, size_t len,
                                  const struct tsr_sip_lobby_ours *ours,
                                  struct tsr_sip_lobby_sdp *out, char reason[TSR_SDP_REASON_MAX]);

/* Purpose: sdp (an answer from media) with its o= line replaced by ours
 * (`session_id`, `version`), so the caller sees one session across the lobby and
 * the join (RFC 3264 §8). g_free. */
char *tsr_sip_sdp_set_origin(const char *sdp, uint64_t session_id, unsigned version);

#endif
