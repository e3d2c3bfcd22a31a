/* WebRTC offer → answer (JSEP, RFC 8829; BUNDLE, RFC 8843). Pure.
 *
 * Tessera answers every offer as an ICE-lite (by default), DTLS-server (when the
 * offerer is actpass), BUNDLE + rtcp-mux endpoint with one audio (Opus 48000/2,
 * in-band FEC, and RED around it when offered and local->audio_red) and one video (VP8 or H.264 constrained baseline,
 * packetization-mode 1) m-line, plus one presentation video line when the offer
 * marks one with a=content:slides (RFC 4796; Pexip's SDK). That line only ever
 * receives: a sendonly offer is answered recvonly, anything else inactive, since
 * an MCU's presentation reaches everyone inside the composite. Offered sections with port 0 and a=bundle-only
 * (max-bundle: webrtcbin, JSEP) are accepted into the group. Every other m-line
 * (a data channel, a second audio or video, a codec we lack, a section the
 * offerer disabled) is answered rejected in place: port 0, its mid, the
 * transport attributes and nothing else, outside the group. ICE credentials and
 * the fingerprint are in every section and at session level. The result tells
 * the server, per m-line, what was chosen. */
#ifndef TESSERA_SDP_NEGOTIATE_H
#define TESSERA_SDP_NEGOTIATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tessera/sdp.h>
#include <tessera/sdp_h264.h>

enum tsr_sdp_media_kind {
    TSR_SDP_MEDIA_KIND_AUDIO,
    TSR_SDP_MEDIA_KIND_VIDEO,
    TSR_SDP_MEDIA_KIND_OTHER, /* application (data channel) or unknown */
};

enum tsr_sdp_codec {
    TSR_SDP_CODEC_NONE,
    TSR_SDP_CODEC_OPUS,
    TSR_SDP_CODEC_VP8,
    TSR_SDP_CODEC_H264,
    TSR_SDP_CODEC_PCMU, /* G.711 µ-law, 8000 Hz (SIP path only, see tessera/sdp_plain.h) */
    TSR_SDP_CODEC_PCMA, /* G.711 A-law, 8000 Hz */
    TSR_SDP_CODEC_G722, /* G.722, 16 kHz audio on an 8000 Hz RTP clock (RFC 3551) */
};

enum tsr_sdp_video_pref {
    TSR_SDP_VIDEO_PREF_VP8,  /* VP8, else H.264 (the default) */
    TSR_SDP_VIDEO_PREF_H264, /* H.264 constrained baseline, else VP8 */
};

/* Which end is the DTLS server (RFC 8842 a=setup). */
enum tsr_sdp_dtls_role {
    TSR_SDP_DTLS_ROLE_SERVER, /* we answer setup:passive */
    TSR_SDP_DTLS_ROLE_CLIENT, /* we answer setup:active (offer said passive) */
};

/* RTCP feedback accepted on a line (bit set). */
enum tsr_sdp_fb {
    TSR_SDP_FB_NACK = 1u << 0,
    TSR_SDP_FB_PLI = 1u << 1,
    TSR_SDP_FB_FIR = 1u << 2,
    TSR_SDP_FB_REMB = 1u << 3,
    TSR_SDP_FB_TRANSPORT_CC = 1u << 4, /* seen in the offer; never answered */
    TSR_SDP_FB_TMMBR = 1u << 5,        /* ccm tmmbr (RFC 5104; plain SIP video) */
};

/* What we put in the answer besides codecs. All borrowed for the call. */
struct tsr_sdp_local {
    const char *ice_ufrag;          /* 4..256 ice-chars */
    const char *ice_pwd;            /* 22..256 ice-chars */
    bool ice_lite;                  /* a=ice-lite at session level */
    const char *fingerprint_sha256; /* "AB:CD:…" (32 bytes) */
    const char *const *candidates;  /* "candidate:…" values (no "a="); may be NULL */
    size_t n_candidates;
    enum tsr_sdp_video_pref video_pref;
    bool ask_dtx;        /* Opus fmtp asks the client for DTX (usedtx=1) */
    uint32_t audio_ssrc; /* our SSRCs, chosen by the caller, non-zero */
    uint32_t video_ssrc;
    const char *cname;     /* RTCP CNAME; non-empty */
    const char *stream_id; /* msid stream id (e.g. "tessera") */
    uint64_t session_id;   /* o= session id; 0 is replaced by 1 */
    /* Accept RED for Opus (RFC 2198) when the offer has it: a red/48000/2 format
     * whose fmtp names only the chosen Opus payload type ("111/111"). The answer
     * then lists it before Opus, which is what makes Chromium send it. */
    bool audio_red;
};

#define TSR_SDP_MID_MAX 32
#define TSR_SDP_ICE_MAX 257
#define TSR_SDP_REASON_MAX 160

/* One m-line of the offer, in order, and what the answer did with it. */
struct tsr_sdp_mline {
    char mid[TSR_SDP_MID_MAX]; /* "" when the offer had none */
    enum tsr_sdp_media_kind kind;
    bool accepted; /* false: port 0 in the answer */
    enum tsr_sdp_codec codec;
    int pt;     /* chosen payload type; -1 when rejected */
    int rtx_pt; /* RTX payload type for pt, -1 when not negotiated */
    int red_pt; /* audio: RED (RFC 2198) carrying pt, both ways; -1 when not negotiated */
    /* Plain SIP audio: RFC 4733 telephone-event as offered (a dynamic type, 96..127,
     * and its clock); -1 (or 0, zeroed) when not negotiated. */
    int event_pt;
    uint32_t event_clock_rate;
    /* Plain SIP video: the most the offerer takes from us, from its b=TIAS (b/s),
     * else b=AS (kb/s), media level before session level; 0 = not said. */
    uint64_t remote_max_bps;
    /* Plain SIP H.264: the chosen format's fmtp as read (packetization mode, what
     * the offerer decodes); h264_read is false on every other line, so WebRTC
     * H.264 stays packetization-mode 1 at the conference's size. */
    bool h264_read;
    struct tsr_sdp_h264 h264;
    uint32_t clock_rate;
    unsigned channels;
    int ext_audio_level_id;   /* 0 = not negotiated */
    int ext_mid_id;           /* 0 = not negotiated */
    unsigned fb;              /* enum tsr_sdp_fb bits */
    uint32_t remote_ssrc;     /* 0 when not signalled */
    uint32_t remote_rtx_ssrc; /* from ssrc-group FID; 0 when absent */
    bool remote_sends;        /* the offer's direction includes send */
    bool slides;              /* the presentation line (a=content:slides) */
};

struct tsr_sdp_negotiation {
    size_t n_mlines;
    struct tsr_sdp_mline mlines[TSR_SDP_MAX_MEDIA];
    int audio_index; /* index into mlines of the accepted audio; -1 */
    int video_index; /* index into mlines of the accepted video; -1 */
    int slides_index; /* index into mlines of the accepted slides video; -1 */
    char remote_ufrag[TSR_SDP_ICE_MAX];
    char remote_pwd[TSR_SDP_ICE_MAX];
    struct tsr_sdp_fingerprint remote_fingerprint;
    enum tsr_sdp_dtls_role local_dtls_role;
    size_t n_remote_candidates; /* candidates in the offer (bundled transport) */
    char **remote_candidates;   /* "candidate:…" values, owned */
    char *answer;               /* answer SDP text (CRLF), owned */
};

/* Purpose: negotiate an answer to `offer` (len bytes).
 * Ownership: *out is new; free with tsr_sdp_negotiation_free(). Thread: any.
 * Returns 0; TSR_ERR_INVALID for malformed SDP or missing/invalid ICE
 * credentials or fingerprint; TSR_ERR_UNSUPPORTED when nothing can be accepted
 * (no common codec, no BUNDLE-able audio/video, no rtcp-mux); -EINVAL for a bad
 * `local`; -ENOMEM. On failure, when reason is not NULL, it receives a
 * human-readable sentence (fit for a 400 body) — NUL-terminated, at most
 * TSR_SDP_REASON_MAX bytes. */
int tsr_sdp_negotiate(const char *offer, size_t len, const struct tsr_sdp_local *local,
                      struct tsr_sdp_negotiation **out, char reason[TSR_SDP_REASON_MAX]);

/* Purpose: free a negotiation result; NULLs *neg; accepts NULL. */
void tsr_sdp_negotiation_free(struct tsr_sdp_negotiation **neg);

const char *tsr_sdp_codec_name(enum tsr_sdp_codec codec);

/* Purpose: "vp8" / "h264" (the [webrtc] video_codec key) → the preference.
 * Returns 0 and writes *out, or TSR_ERR_INVALID. Thread: any. */
int tsr_sdp_video_pref_parse(const char *name, enum tsr_sdp_video_pref *out);

#endif
