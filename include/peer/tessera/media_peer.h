/* One participant's media in the server: its WebRTC transport, the receive path
 * (RTP → jitter buffer → video decoder; Opus packets with their audio level to the
 * conference mixer), the send path (per-participant RTP headers in front of frames
 * packetized once, SRTP, ICE), and RTCP both ways (NACK, PLI/FIR, REMB, SR/RR).
 *
 * Home thread: the net loop whose GMainContext it was created on. Functions marked
 * "thread: any" post to that loop. The decoded picture is published in a
 * mutex-protected slot the conference mixer reads from its own thread.
 * Lifetime: refcounted; tsr_media_peer_close() stops everything (idempotent), the
 * last unref frees. */
#ifndef TESSERA_MEDIA_PEER_H
#define TESSERA_MEDIA_PEER_H

#include <glib.h>
#include <libavutil/frame.h>
#include <stdbool.h>
#include <stdint.h>
#include <tessera/audio_packet.h>
#include <tessera/rtp_codec.h>
#include <tessera/sdp_negotiate.h>
#include <tessera/sdp_plain.h>
#include <tessera/video_codec.h>
#include <tessera/video_limits.h>
#include <tessera/webrtc_transport.h>

struct tsr_media_peer;

/* Where a peer reports to (the conference mixer). Called on the peer's net loop;
 * implementations must be thread-safe and must not call back into the peer. */
struct tsr_media_peer_sink {
    /* One inbound Opus packet (borrowed for the call: copy it). */
    void (*on_audio)(void *user, uint32_t peer_id, const struct tsr_audio_packet *pkt);
    /* The participant's browser asked (PLI/FIR) for a keyframe of what it receives. */
    void (*on_keyframe_request)(void *user, uint32_t peer_id);
    /* The transport failed for good (DTLS failure, fingerprint mismatch, ICE failed,
     * or consent lost for longer than the peer's consent limit). Called once. */
    void (*on_failed)(void *user, uint32_t peer_id, const char *why);
};

struct tsr_media_peer_params {
    uint32_t id;                            /* non-zero, unique in the process */
    const char *log_ctx;                    /* "alias/participant"; copied */
    GMainContext *ctx;                      /* the net loop; referenced */
    struct tsr_loop_batch *send_batch;      /* ctx's batch queue for sends (referenced), or NULL */
    const struct tsr_webrtc_config *webrtc; /* borrowed for the call (strings copied) */
    enum tsr_sdp_video_pref video_pref;
    bool ask_dtx; /* the answer asks for Opus DTX (usedtx=1) */
    /* A SIP call we offer to (an INVITE without SDP): SDES-SRTP in that offer. */
    enum tsr_sdp_offer_srtp offer_srtp;
    /* RED for Opus (RFC 2198) with a browser that offers it: each packet we send
     * repeats this many earlier ones (1..TSR_RTP_STREAM_OUT_MAX_RED_DISTANCE), and
     * the copies in what it sends fill our gaps; 0 = never negotiate RED. */
    unsigned audio_red_distance;
    int64_t consent_failure_ms;             /* DISCONNECTED this long → on_failed; 0 = 30000 */
    const struct tsr_media_peer_sink *sink; /* static table, borrowed for the peer's life */
    void *sink_user;
    GDestroyNotify sink_user_free; /* called on sink_user when the peer is freed; may be NULL */
    /* Id of the receiver of a presentation line (a=content:slides) in the offer,
     * unique like `id`; 0: such a line is answered but its packets are dropped. */
    uint32_t slides_id;
};

/* Purpose: create the peer from the browser's SDP offer: gather candidates,
 * negotiate, start ICE. On success *answer is the SDP answer (g_free).
 * Returns 0; TSR_ERR_INVALID (bad SDP, *reason says why), TSR_ERR_UNSUPPORTED (no
 * common codec, *reason says why), or the transport's error codes.
 * Thread: the net loop of params->ctx (post to it from elsewhere; never wait for it). */
int tsr_media_peer_new(struct tsr_media_peer **out, const struct tsr_media_peer_params *params,
                       const char *offer, char **answer, char reason[TSR_SDP_REASON_MAX]);

/* Purpose: create a SIP participant's peer that offers first (an INVITE without
 * SDP): open its RTP ports and write our plain RTP/AVP offer (*offer, g_free; see
 * tsr_sdp_plain_offer). Nothing is received or sent until
 * tsr_media_peer_apply_plain_answer. Returns 0, or the transport's error codes
 * with *reason. Thread: the net loop of params->ctx. */
int tsr_media_peer_new_offer(struct tsr_media_peer **out,
                             const struct tsr_media_peer_params *params, char **offer,
                             char reason[TSR_SDP_REASON_MAX]);

/* Purpose: the caller's answer to that offer: where to send, the codecs and
 * payload types; the receive and send chains start. Returns 0; TSR_ERR_STATE (no
 * offer outstanding), TSR_ERR_INVALID (malformed, or not an answer to our
 * offer), TSR_ERR_UNSUPPORTED (it picks no codec we offered); *reason says why.
 * On failure the peer stays without media (close it). Thread: the peer's net loop. */
int tsr_media_peer_apply_plain_answer(struct tsr_media_peer *p, const char *answer,
                                      char reason[TSR_SDP_REASON_MAX]);

/* Thread: any. */
struct tsr_media_peer *tsr_media_peer_ref(struct tsr_media_peer *p);
/* Purpose: drop a reference; the last one frees (posting the teardown to the net
 * loop when needed). NULLs *p; accepts NULL. Thread: any. */
void tsr_media_peer_unref(struct tsr_media_peer **p);

/* Purpose: stop the transport and every timer; no sink callback runs afterwards.
 * Idempotent. Thread: any (posts; returns at once). */
void tsr_media_peer_close(struct tsr_media_peer *p);

uint32_t tsr_media_peer_id(const struct tsr_media_peer *p);
/* The negotiated outgoing video codec. Thread: any (fixed after _new). */
enum tsr_video_codec tsr_media_peer_video_codec(const struct tsr_media_peer *p);
/* Purpose: what its decoder takes (a SIP caller's H.264 packetization mode and
 * max-fs / max-mbps or level, as its SDP said at the join; zero: no limit, which
 * is every WebRTC participant). Fixed after the join. Thread: any. */
void tsr_media_peer_video_limits(const struct tsr_media_peer *p, struct tsr_video_limits *out);
bool tsr_media_peer_has_video(const struct tsr_media_peer *p);
bool tsr_media_peer_has_audio(const struct tsr_media_peer *p);
/* The negotiated audio codec, both ways (8 kHz RTP clock for G.711). Thread: any
 * (fixed while the peer is in a mixer; see tsr_media_peer_renegotiate_codecs). */
enum tsr_audio_codec tsr_media_peer_audio_codec(const struct tsr_media_peer *p);

/* Purpose: a new reference to the participant's latest decoded picture and its
 * publication counter. Returns 0, or TSR_ERR_AGAIN before the first picture.
 * Thread: any. Ownership: caller av_frame_free()s *out. */
int tsr_media_peer_latest_video(struct tsr_media_peer *p, AVFrame **out, uint64_t *seq);

/* Purpose: send a packetized composite video frame / an audio frame, encoded with
 * `codec` (video: packetized one NAL unit per packet when `single_nal`), to the
 * participant. Takes a new reference to `pkts`. A frame whose codec (or H.264
 * packetization mode) is not the one the participant's stream runs by the time it
 * goes out (a change by re-INVITE happened meanwhile) is dropped. Thread: any
 * (posted). */
void tsr_media_peer_send_video(struct tsr_media_peer *p, enum tsr_video_codec codec,
                               bool single_nal, struct tsr_rtp_packetized *pkts);
void tsr_media_peer_send_audio(struct tsr_media_peer *p, enum tsr_audio_codec codec,
                               struct tsr_rtp_packetized *pkts);

/* Purpose: the bitrate to ask the participant's browser to send its camera at
 * (REMB), sized to its largest tile. Thread: any. */
void tsr_media_peer_set_send_hint_bps(struct tsr_media_peer *p, int64_t bps);

/* Purpose: whether anyone sees this participant's video. While not shown its
 * frames are not decoded (DESIGN.md principle 3); when shown again a keyframe is
 * requested so its tile starts clean. Thread: any. */
void tsr_media_peer_set_shown(struct tsr_media_peer *p, bool shown);

/* Purpose: a server-initiated offer that adds sendonly audio/video m-lines for
 * the mix when the participant's own lines cannot carry it (it offered them
 * send-only); see tessera/sdp_offer.h. The peer keeps the offer until
 * tsr_media_peer_apply_send_answer(). Returns 0 and *offer (g_free);
 * TSR_ERR_NOT_FOUND (nothing to add); TSR_ERR_AGAIN (the transport is not
 * connected yet); TSR_ERR_STATE (an offer is outstanding, or the peer is closed).
 * Thread: the peer's net loop. */
int tsr_media_peer_create_send_offer(struct tsr_media_peer *p, char **offer,
                                     char reason[TSR_SDP_REASON_MAX]);

/* Purpose: apply the participant's answer to that offer: from now on the composite
 * and the mix go out on the added m-lines (their mid, payload type and new SSRCs)
 * while the original lines keep receiving. On failure the offer is dropped and
 * sending goes on as before. Returns 0, TSR_ERR_STATE (no offer outstanding),
 * TSR_ERR_INVALID (*reason says why). Thread: the peer's net loop. */
int tsr_media_peer_apply_send_answer(struct tsr_media_peer *p, const char *answer,
                                     char reason[TSR_SDP_REASON_MAX]);

/* Purpose: when the last RTP or RTCP packet from the participant arrived
 * (g_get_monotonic_time; 0 before the first). A peer silent for
 * seconds has gone (a crashed browser, a lost network) even before its ICE consent
 * expires. Thread: any. */
int64_t tsr_media_peer_last_rx_us(const struct tsr_media_peer *p);

/* Purpose: the participant's latest downlink estimate (the REMB its browser sends
 * for the composite), or 0 before the first one. Thread: any. */
int64_t tsr_media_peer_receive_estimate_bps(const struct tsr_media_peer *p);

/* Purpose: the most the participant said it takes on video: the lower of its
 * offer's b=TIAS / b=AS and its latest RTCP TMMBR (RFC 5104) for our video SSRC;
 * 0 when it said neither. A signalled limit, not an estimate. Thread: any. */
int64_t tsr_media_peer_video_cap_bps(const struct tsr_media_peer *p);

/* Purpose: the composite video bitrate actually sent to the participant over the
 * last second (RTP bytes). Thread: any. */
int64_t tsr_media_peer_video_send_bps(const struct tsr_media_peer *p);

/* Purpose: answer the participant's re-offer on the running session (same ICE
 * credentials and fingerprint, same m-lines, maybe more appended) from our current
 * local description, so lines added by a server offer keep carrying the mix; see
 * tsr_sdp_answer_reoffer(). Nothing in the media changes. Returns 0 and *answer
 * (g_free); TSR_ERR_UNSUPPORTED (an ICE restart or changed m-lines: *reason says
 * which); TSR_ERR_INVALID (bad SDP); TSR_ERR_STATE (a server offer is outstanding,
 * or closed). Thread: the peer's net loop. */
int tsr_media_peer_answer_reoffer(struct tsr_media_peer *p, const char *offer, char **answer,
                                  char reason[TSR_SDP_REASON_MAX]);

/* Purpose: a trickled remote candidate ("candidate:…"; "" = end of candidates).
 * Returns 0, TSR_ERR_INVALID, TSR_ERR_STATE (closed). Thread: the peer's net loop. */
int tsr_media_peer_add_candidate(struct tsr_media_peer *p, const char *candidate);

/* Purpose: answer a new offer from the browser on the existing transport
 * (renegotiation). The answer keeps our SSRCs, ICE credentials, DTLS fingerprint
 * and codecs; what the offer may change is directions, bandwidth lines and, for an
 * ICE restart (a new ice-ufrag), the browser's ICE credentials and candidates.
 * Offers that change what a running peer cannot change (the DTLS fingerprint, the
 * m-lines carrying audio/video, their codec or payload type) are refused with
 * TSR_ERR_UNSUPPORTED and the peer carries on as before; a plain (SIP) peer's
 * offer that changes only codecs gets TSR_ERR_AGAIN: see
 * tsr_media_peer_renegotiate_codecs().
 * Returns 0 and *answer (g_free); TSR_ERR_INVALID (bad SDP), TSR_ERR_UNSUPPORTED,
 * TSR_ERR_AGAIN, TSR_ERR_STATE (closed), with *reason set on failure.
 * Thread: the peer's net loop (post to it from elsewhere; never wait for it). */
int tsr_media_peer_renegotiate(struct tsr_media_peer *p, const char *offer, char **answer,
                               char reason[TSR_SDP_REASON_MAX]);
/* Purpose: a plain (SIP) peer's re-offer that changes a codec or payload type on the
 * same media, which tsr_media_peer_renegotiate() answered with TSR_ERR_AGAIN. The
 * caller has taken the peer out of the mixer first (the mixer reads the peer's
 * codecs when it adds it) and adds it again afterwards, whatever the result. The
 * changed media get new receive chains (jitter buffer, decoder) and outgoing
 * streams (same SSRC, the new payload type and clock); packets the mixer made for
 * the old codec are dropped on the way out. Returns as tsr_media_peer_renegotiate().
 * Thread: the peer's net loop. */
int tsr_media_peer_renegotiate_codecs(struct tsr_media_peer *p, const char *offer, char **answer,
                                      char reason[TSR_SDP_REASON_MAX]);
/* Purpose: the presentation the participant sends on the slides line of its call
 * (Pexip's a=content:slides m-line): a peer-like receiver with its own id, SSRC,
 * jitter buffer and decoder, which the mixer can show as content exactly like a
 * screen-share peer (latest_video, set_shown, has_video, video_codec, unref).
 * Returns a new reference while the participant's last offer sends on that line,
 * else NULL (no slides line, or inactive). Thread: any. */
struct tsr_media_peer *tsr_media_peer_slides(struct tsr_media_peer *p);

/* Purpose: the net loop the peer lives on (borrowed). Thread: any. */
GMainContext *tsr_media_peer_context(const struct tsr_media_peer *p);

#endif
