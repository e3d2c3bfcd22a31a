/* Internal to media_peer*.c: the peer's state, split by thread. */
#ifndef TSR_MEDIA_PEER_INTERNAL_H
#define TSR_MEDIA_PEER_INTERNAL_H

#include <stdatomic.h>
#include <tessera/jitter_buffer.h>
#include <tessera/metrics.h>
#include <tessera/media_peer.h>
#include <tessera/rtcp.h>
#include <tessera/rtp_dtmf.h>
#include <tessera/rtp.h>
#include <tessera/rtp_stream_in.h>
#include <tessera/rtp_stream_out.h>
#include <tessera/rtp_transport.h>
#include <tessera/sdp_offer.h>
#include <tessera/video_decoder.h>

/* Receive state of one kind (audio or video). Home: the net loop. */
struct peer_rx {
    int pt;       /* negotiated payload type, -1 when the m-line is absent */
    int rtx_pt;   /* -1 when RTX is not negotiated */
    int red_pt;   /* audio: RED around pt (RFC 2198); -1 when not negotiated */
    int event_pt; /* audio: RFC 4733 telephone-event (plain SIP); -1 when not */
    /* Keys from event_pt: counted, never decoded. */
    struct tsr_dtmf_collector dtmf;
    uint32_t ssrc; /* learnt from the first packet (or the offer) */
    struct tsr_rtp_stream_in stats;
    bool started;
};

struct tsr_media_peer {
    gint refs;
    uint32_t id;
    char *log_ctx;
    GMainContext *ctx;
    struct tsr_loop_batch *send_batch; /* sends go through it when set */
    const struct tsr_media_peer_sink *sink;
    void *sink_user;
    GDestroyNotify sink_user_free;
    int64_t consent_failure_ms;
    uint8_t audio_red_distance; /* from the params; 0: RED is never negotiated */

    /* Fixed after _new; read from any thread. */
    enum tsr_video_codec video_codec;
    /* What its decoder takes (a SIP caller's H.264 fmtp); zero: no limit. */
    struct tsr_video_limits video_limits;
    bool ask_dtx; /* answers (and re-answers) ask for Opus DTX */
    bool has_video, has_audio;
    enum tsr_audio_codec audio_codec; /* Opus, or G.711 for a SIP caller without Opus */

    /* Cross-thread: the decoded-picture slot and the REMB hint. */
    GMutex slot_lock;
    AVFrame *slot_frame;
    uint64_t slot_seq;
    gint send_hint_kbps;            /* atomic */
    gint remb_kbps;                 /* atomic: the participant's REMB for what we send it */
    gint sdp_cap_kbps;              /* atomic: its offer's video b=TIAS/b=AS; 0 = none */
    gint tmmbr_kbps;                /* atomic: its latest TMMBR for our video; 0 = none */
    gint hidden;                    /* atomic: 1 while on no canvas (frames are not decoded) */
    bool decoding_paused;           /* net loop: we stopped decoding because hidden */
    gint tx_video_kbps;             /* atomic: composite bitrate sent to it over the last second */
    _Atomic int64_t last_rx_us;     /* the last RTP/RTCP packet from it (monotonic) */
    uint64_t tx_video_window_bytes; /* net loop: bytes sent since the last report tick */
    int64_t tx_video_window_start_us;

    /* Home: the net loop. */
    gint closed; /* atomic; set once by close */
    bool failed_reported;
    struct tsr_webrtc_transport *transport;       /* a WebRTC participant's, else NULL */
    struct tsr_rtp_transport *plain;              /* a SIP participant's plain RTP, else NULL */
    uint8_t sdes_key[2][TSR_SDES_KEY_SALT_BYTES]; /* plain: our SDES keys, audio and video */
    struct tsr_sdp_plain_peers plain_peers;       /* plain: what the caller's SDP said last */
    bool plain_keyed[2];            /* plain: audio, video ever SRTP (a re-offer may not drop it) */
    char plain_address[64];         /* plain: the address our answers carry */
    char plain_fingerprint[3 * 32]; /* plain: our certificate's sha-256, or "" */
    char plain_ice_ufrag[16], plain_ice_pwd[32]; /* plain: our ICE-lite credentials */
    /* plain, our own offer (a SIP INVITE without SDP): waiting for the answer. */
    bool awaiting_answer;
    uint32_t offer_ssrc[2]; /* the SSRCs our offer named, audio and video */
    enum tsr_sdp_video_pref offer_video_pref;
    enum tsr_sdp_offer_srtp offer_srtp; /* SDES in that offer (sdes_key has the keys) */
    bool offer_keyed;                   /* the keys were made */
    struct tsr_media_clock clock;
    struct tsr_rtp_ext_map ext_map;
    struct peer_rx rx_audio, rx_video;
    struct tsr_jitter_buffer *jitter;
    struct tsr_video_decoder *decoder;
    struct tsr_rtp_stream_out *tx_audio, *tx_video;
    uint8_t fir_seq;
    /* Plain video with `ccm tmmbr`: the camera's bitrate is asked for by TMMBR
     * (RFC 5104) instead of REMB, when it changes and every few seconds. */
    bool rx_video_tmmbr;
    int tmmbr_sent_kbps;
    int64_t tmmbr_sent_us;
    int64_t disconnected_since_us; /* 0 while connected */
    guint tick_timer, report_timer;
    /* Metrics handles, fetched once at creation (the registry outlives peers). */
    struct tsr_counter *m_rx_bytes, *m_tx_bytes, *m_decode_us, *m_frames_dropped;
    uint64_t jitter_dropped_seen;

    /* Renegotiation (media_peer_reneg.c). Home: the net loop. */
    uint64_t sdp_session_id; /* our o= session id, kept across answers */
    unsigned sdp_version;    /* our o= version, +1 per answer */
    char remote_ufrag[TSR_SDP_ICE_MAX];
    struct tsr_sdp_fingerprint remote_fp;
    /* Server offers (media_peer_offer.c); home: the net loop. */
    char *local_sdp;                       /* our current local description */
    char *remote_sdp;                      /* the participant's current description */
    struct tsr_sdp_send_offer *send_offer; /* outstanding server offer or NULL */

    /* The presentation line of a Pexip call (a=content:slides; media_peer_slides.c).
     * `slides` is that line's receiver: a peer of its own with no transport, fed by
     * this one, so the mixer can show it as content like a screen-share peer. Fixed
     * after _new; freed with this peer. */
    struct tsr_media_peer *slides;
    /* On a slides receiver: the call's peer, while it runs. Net loop only. */
    struct tsr_media_peer *parent;
    char slides_mid[TSR_SDP_MID_MAX];
    gint slides_sending; /* atomic: the participant's last offer sends slides */
};

/* media_peer.c */
void tsr_media_peer_on_transport_state(void *user, enum tsr_webrtc_state state);

/* media_peer_plain.c: the plain RTP path and the transport seam. */
/* Opens the plain RTP transport and answers a plain offer; fills *neg_out. */
int tsr_media_peer_negotiate_plain(struct tsr_media_peer *p,
                                   const struct tsr_media_peer_params *params, const char *offer,
                                   uint32_t assrc, uint32_t vssrc,
                                   struct tsr_sdp_negotiation **neg_out,
                                   char reason[TSR_SDP_REASON_MAX]);
/* Opens the plain RTP transport and writes our own offer (*offer, g_free). */
int tsr_media_peer_offer_plain(struct tsr_media_peer *p, const struct tsr_media_peer_params *params,
                               uint32_t assrc, uint32_t vssrc, char **offer,
                               char reason[TSR_SDP_REASON_MAX]);
/* The caller's answer to that offer: sends to where it says; fills *neg_out. */
int tsr_media_peer_read_plain_answer(struct tsr_media_peer *p, const char *answer,
                                     struct tsr_sdp_negotiation **neg_out,
                                     char reason[TSR_SDP_REASON_MAX]);
/* A re-INVITE's offer on a plain peer (hold, resume, a new address, key or codec).
 * A codec change needs `recodec` (the peer out of the mixer), else TSR_ERR_AGAIN. */
int tsr_media_peer_renegotiate_plain(struct tsr_media_peer *p, const char *offer, char **answer,
                                     bool recodec, char reason[TSR_SDP_REASON_MAX]);
/* Whether packets may go out now (WebRTC: connected; plain: not closed). */
bool tsr_media_peer_transport_up(const struct tsr_media_peer *p);
int tsr_media_peer_transport_send_rtp(struct tsr_media_peer *p, const uint8_t *buf, size_t len);
int tsr_media_peer_transport_send_rtcp(struct tsr_media_peer *p, const uint8_t *buf, size_t len);

/* media_peer_rx.c */
void tsr_media_peer_on_rtp(void *user, uint8_t *data, size_t len);
/* Plain RTP: packets that came in on the audio / video port. */
void tsr_media_peer_on_audio_rtp(void *user, uint8_t *data, size_t len);
void tsr_media_peer_on_video_rtp(void *user, uint8_t *data, size_t len);
void tsr_media_peer_on_rtcp(void *user, uint8_t *data, size_t len);
/* Jitter-buffer housekeeping: frames whose time ran out, NACKs, PLI/FIR. */
void tsr_media_peer_service_rx(struct tsr_media_peer *p, int64_t now_us);
int tsr_media_peer_rx_setup(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg);
/* A plain re-offer with other payload types or media (the peer is out of the
 * mixer): the receive side of each changed medium starts again for its codec, an
 * added one starts, a dropped one stops. */
int tsr_media_peer_rx_recodec(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg);
/* Whether a re-offer's line m asks another codec of the running medium: another
 * payload type or codec, and for video also another H.264 packetization mode or
 * other decoder limits (those only refresh what the mixer reads). */
bool tsr_media_peer_audio_differs(const struct tsr_media_peer *p, const struct tsr_sdp_mline *m);
bool tsr_media_peer_video_differs(const struct tsr_media_peer *p, const struct tsr_sdp_mline *m);

/* Video RTP of this peer's video stream (jitter buffer, decoder, NACK/PLI). */
void tsr_media_peer_rx_video(struct tsr_media_peer *p, struct tsr_rtp_header *h, int64_t now);

/* media_peer_slides.c */
/* Makes the slides receiver when the negotiation accepted a slides line. */
int tsr_media_peer_slides_setup(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg,
                                uint32_t slides_id);
/* Whether h is the slides' RTP; if so it has been handled. */
bool tsr_media_peer_slides_take(struct tsr_media_peer *p, struct tsr_rtp_header *h, int64_t now);
/* A renegotiation must keep the slides line as it was set up (0), else *reason. */
int tsr_media_peer_slides_check(const struct tsr_media_peer *p,
                                const struct tsr_sdp_negotiation *neg,
                                char reason[TSR_SDP_REASON_MAX]);
/* The accepted renegotiation's slides direction and SSRC. */
void tsr_media_peer_slides_apply(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg);
/* The call's peer goes: its slides receiver is fed no more. Net loop. */
void tsr_media_peer_slides_detach(struct tsr_media_peer *p);

/* media_peer_reneg.c */
/* Records what the first negotiation agreed, for later offers to be checked against. */
void tsr_media_peer_reneg_remember(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg,
                                   uint64_t session_id);

/* media_peer_tx.c */
/* Sends SR/RR + SDES (+ REMB) for the peer. */
void tsr_media_peer_send_reports(struct tsr_media_peer *p, int64_t now_us);
/* Sends one RTCP compound (protects it). */
void tsr_media_peer_send_rtcp(struct tsr_media_peer *p, const uint8_t *buf, size_t len);
int tsr_media_peer_tx_setup(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg,
                            uint32_t audio_ssrc, uint32_t video_ssrc);
/* The send side of the same change: a new outgoing stream (same SSRC) per changed
 * medium, for its payload type and clock; an added medium's with its ssrc, a
 * dropped one's freed. Call before the receive side changes. */
int tsr_media_peer_tx_recodec(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg,
                              uint32_t audio_ssrc, uint32_t video_ssrc);
/* Answers a NACK from the participant with retransmissions. */
void tsr_media_peer_answer_nack(struct tsr_media_peer *p, const struct tsr_rtcp_nack *nack,
                                int64_t now_us);

#endif
