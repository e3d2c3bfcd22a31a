/* SIP-style offer → answer: plain RTP/AVP or RTP/AVPF, RTP/SAVP(F) keyed by SDES
 * (a=crypto, see tessera/sdp_crypto.h), or UDP/TLS/RTP/SAVP(F) keyed by DTLS-SRTP
 * without ICE (a=fingerprint + a=setup, see tessera/sdp_dtls.h); one port per
 * medium (RTCP on the next port, or muxed when offered), no ICE, no BUNDLE. Pure.
 *
 * This is what SIP endpoints, room systems and gateways send (baresip's offer is in
 * tests/data/sdp/baresip10_offer.sdp). The first audio and the first video section
 * with a codec Tessera speaks are accepted; every other section is answered with
 * port 0. Audio: Opus 48000/2 (the conference mix is Opus); an offer without
 * Opus may get G.722 (`G722/8000`, RFC 3551's clock for 16 kHz audio) when
 * local->audio_g722 allows it, else G.711 (PCMU or PCMA at 8000 Hz, the first of
 * the two it lists) when local->audio_g711 does; payload types 0, 8 and 9 need no
 * rtpmap in the offer. Video: VP8 or H.264
 * (packetization-mode 1, else 0; baseline or constrained baseline; its fmtp read
 * into the line's h264 fields, see tessera/sdp_h264.h), as video_pref orders
 * them. The result says, per accepted medium, where the offerer wants media
 * (c= and port; a=rtcp; rtcp-mux), which symmetric RTP starts from and latches
 * away from when packets really come from elsewhere (NAT). */
#ifndef TESSERA_SDP_PLAIN_H
#define TESSERA_SDP_PLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tessera/sdp_crypto.h>
#include <tessera/sdp_dtls.h>
#include <tessera/sdp_negotiate.h>

/* What the answer says about us. Borrowed for the call. */
/* SDES-SRTP in our own offer. OPTIONAL ("best effort", as Asterisk, FreeSWITCH
 * and baresip do it without RFC 5939's capability negotiation): RTP/AVP sections
 * carrying a=crypto lines; an answer with a=crypto (RTP/AVP or RTP/SAVP) keys
 * SRTP, one without stays plain. MANDATORY: RTP/SAVP, the answer must key it. */
enum tsr_sdp_offer_srtp {
    TSR_SDP_OFFER_SRTP_NONE = 0,
    TSR_SDP_OFFER_SRTP_OPTIONAL,
    TSR_SDP_OFFER_SRTP_MANDATORY,
};

/* Purpose: [sip] offer_srtp's value ("none", "optional", "mandatory"; anything
 * else, which the config schema refuses, reads as none). */
enum tsr_sdp_offer_srtp tsr_sdp_offer_srtp_from_name(const char *name);

struct tsr_sdp_plain_local {
    /* The most we take on video: answered as b=AS and b=TIAS; 0 = say nothing. */
    uint64_t video_accept_bps;
    const char *address;             /* o= and c= address: an IPv4 or IPv6 literal */
    uint16_t audio_port, video_port; /* our RTP ports; RTCP on port + 1 */
    enum tsr_sdp_video_pref video_pref;
    uint32_t audio_ssrc, video_ssrc; /* non-zero */
    const char *cname;               /* non-empty */
    uint64_t session_id;             /* o= session id; 0 is replaced by 1 */
    unsigned session_version;        /* o= version; 0 is replaced by 1 (+1 per new answer) */
    /* Our SDES keys (key_salt only; tag and suite follow the offer's line). Needed
     * for an RTP/SAVP(F) offer, which is refused without them. */
    const uint8_t *audio_key, *video_key; /* TSR_SDES_KEY_SALT_BYTES each, or NULL */
    /* Our offer (tsr_sdp_plain_offer) and its answer: SDES with the keys above. */
    enum tsr_sdp_offer_srtp offer_srtp;
    /* ICE-lite credentials for answering an offer that carries ICE (ufrag and pwd
     * of ICE characters), or NULL: such offers are then answered without ICE and
     * the caller falls back to its m=/c= address. */
    const char *ice_ufrag, *ice_pwd;
    /* Our certificate's sha-256 fingerprint ("AB:CD:…"), needed for an
     * UDP/TLS/RTP/SAVP(F) offer, which is refused without it. */
    const char *fingerprint_sha256;
    /* A re-answer: what the call runs on (the last result's peers), or NULL for
     * the first answer. A DTLS-SRTP medium must keep its association (same
     * fingerprint and roles, rtcp-mux as it was) and no medium may switch between
     * DTLS-SRTP and other keying; such offers are refused. */
    const struct tsr_sdp_plain_peers *running;
    /* Accept PCMU/PCMA (with a=ptime:20) when the offer has no usable Opus. Opus
     * stays the choice whenever it is offered. */
    bool audio_g711;
    /* Accept G.722 (a=ptime:20) when the offer has no usable Opus; it wins over
     * G.711 (wideband). */
    bool audio_g722;
};

/* Where the offerer receives one medium. */
struct tsr_sdp_plain_peer {
    char address[64];   /* IP literal from c=; "" when the medium is not accepted */
    uint16_t rtp_port;  /* the m= port */
    uint16_t rtcp_port; /* a=rtcp, else rtp_port + 1; rtp_port when muxed */
    bool rtcp_mux;      /* offered a=rtcp-mux (answered too) */
    bool held;          /* a=sendonly / a=inactive, or c=0.0.0.0: send it nothing */
    bool sends;         /* a=sendrecv / a=sendonly: media will come from it */
    bool srtp;          /* RTP/SAVP(F): `crypto` holds the caller's chosen line */
    bool ice;           /* the section carried ICE credentials; answered as ICE-lite */
    struct tsr_sdp_crypto crypto;
    bool dtls;                       /* UDP/TLS/RTP/SAVP(F): `dtls_params` says how */
    struct tsr_sdp_dtls dtls_params; /* the caller's fingerprint, our role */
};

struct tsr_sdp_plain_peers {
    struct tsr_sdp_plain_peer audio, video;
};

/* Purpose: whether an offer is for this SIP-style path: it parses, has at least
 * one m-line, and every live RTP m-line has no ICE credentials and is RTP/AVP,
 * RTP/AVPF, RTP/SAVP or RTP/SAVPF without a DTLS fingerprint, or
 * UDP/TLS/RTP/SAVP(F) (DTLS without ICE). Thread: any. */
bool tsr_sdp_is_plain_rtp(const char *offer, size_t len);

/* Purpose: whether an H.264 fmtp ("packetization-mode=1;profile-level-id=42e01f")
 * is one the PIN lobby's picture can be sent in: packetization-mode 1, the
 * constrained baseline family (calls take mode 0 too: tsr_sdp_h264_read).
 * Thread: any. */
bool tsr_sdp_h264_usable(const char *fmtp);

/* Purpose: answer a plain RTP offer. On success *neg holds the accepted lines
 * (audio_index/video_index, payload types, feedback, the offerer's SSRCs) and the
 * answer text, and *peers where to send. Ownership: *neg is new, free with
 * tsr_sdp_negotiation_free(). Returns 0; TSR_ERR_INVALID (malformed SDP, a bad
 * connection address or port), TSR_ERR_UNSUPPORTED (no common codec: no line
 * accepted; an RTP/SAVP(F) section without a usable a=crypto line; a DTLS section
 * without a fingerprint we can check, with a=setup:holdconn, or one that cannot
 * keep the running association), -EINVAL (bad local); *reason (may be NULL) says
 * why on failure. */
int tsr_sdp_plain_negotiate(const char *offer, size_t len, const struct tsr_sdp_plain_local *local,
                            struct tsr_sdp_negotiation **neg, struct tsr_sdp_plain_peers *peers,
                            char reason[TSR_SDP_REASON_MAX]);

/* Our own offer for a caller that sent none (a SIP INVITE without SDP, RFC 3261
 * §13.2.1; the caller answers in its ACK). One RTP/AVP audio section (Opus
 * 48000/2 on TSR_SDP_PLAIN_OFFER_PT_OPUS, then G.722 9 when local->audio_g722,
 * PCMU 0 and PCMA 8 when local->audio_g711, telephone-event/8000 on TSR_SDP_PLAIN_OFFER_PT_DTMF
 * with fmtp 0-15, a=ptime:20) and one RTP/AVP video section (VP8 and H.264 constrained baseline
 * packetization-mode 1, ordered by local->video_pref, each with rtcp-fb nack, nack pli, ccm fir),
 * both sendrecv, with a=rtcp (port + 1) and our SSRC and CNAME. With local->offer_srtp and keys,
 * each section also carries a=crypto:1 AES_CM_128_HMAC_SHA1_80 and a=crypto:2
 * AES_CM_128_HMAC_SHA1_32 with that medium's key (RTP/SAVP when MANDATORY). DTLS is not offered. */
#define TSR_SDP_PLAIN_OFFER_PT_OPUS 96
#define TSR_SDP_PLAIN_OFFER_PT_VP8 97
#define TSR_SDP_PLAIN_OFFER_PT_H264 98
#define TSR_SDP_PLAIN_OFFER_PT_DTMF 101

/* Purpose: write that offer from local (address, ports, SSRCs, cname, session id
 * and version, video_pref, audio_g711, offer_srtp and the keys; the fingerprint
 * is ignored).
 * Returns 0 and *offer (g_free), or -EINVAL (bad local). */
int tsr_sdp_plain_offer(const struct tsr_sdp_plain_local *local, char **offer);

/* Purpose: read the caller's answer to tsr_sdp_plain_offer(local) into the same
 * result as tsr_sdp_plain_negotiate gives for an offer: *neg (accepted lines,
 * payload types, feedback, the answerer's SSRCs; neg->answer stays NULL) and
 * *peers (where the answerer receives: c=, port, a=rtcp, rtcp-mux). The answer
 * must have our two sections in order with our protocol (RTP/AVP); in each, the
 * first format that is a codec we offered is taken (port 0 rejects the section).
 * Direction attributes are read as the answerer wrote them (RFC 3264 §6.1: its
 * a=recvonly means it sends nothing, a=sendonly or a=inactive that we send it
 * nothing), which is what the peer fields mean for an offer too.
 * Returns 0; TSR_ERR_INVALID (malformed SDP, sections that do not match the
 * offer, a bad address), TSR_ERR_UNSUPPORTED (no section picks a codec we
 * offered), -EINVAL (bad local); *reason (may be NULL) says why on failure. */
int tsr_sdp_plain_read_answer(const char *answer, size_t len,
                              const struct tsr_sdp_plain_local *local,
                              struct tsr_sdp_negotiation **neg, struct tsr_sdp_plain_peers *peers,
                              char reason[TSR_SDP_REASON_MAX]);

#endif
