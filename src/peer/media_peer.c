/* Media peer lifecycle: negotiation, transport state, timers, teardown, and the
 * thread-safe entry points the conference mixer uses. */
#include "media_peer_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/net_loops.h>

#include <errno.h>
#include <string.h>

#define PEER_TICK_MS 20
#define PEER_REPORT_MS 1000

static void report_failure(struct tsr_media_peer *p, const char *why)
{
    if (p->failed_reported || g_atomic_int_get(&p->closed))
        return;
    p->failed_reported = true;
    TSR_LOG(TSR_LOG_WARN, p->log_ctx, "media failed: %s", why);
    tsr_counter_inc(tsr_metrics_counter("tessera_media_failures_total", NULL,
                                        "Participants dropped because their media failed."));
    if (p->sink->on_failed)
        p->sink->on_failed(p->sink_user, p->id, why);
}

void tsr_media_peer_on_transport_state(void *user, enum tsr_webrtc_state state)
{
    struct tsr_media_peer *p = user;
    TSR_LOG(TSR_LOG_INFO, p->log_ctx, "transport %s", tsr_webrtc_state_name(state));
    if (state == TSR_WEBRTC_STATE_CONNECTED) {
        p->disconnected_since_us = 0;
        /* What was encoded before SRTP was keyed never arrived: start with a keyframe. */
        if (p->sink->on_keyframe_request && !g_atomic_int_get(&p->closed))
            p->sink->on_keyframe_request(p->sink_user, p->id);
    } else if (state == TSR_WEBRTC_STATE_DISCONNECTED) {
        if (!p->disconnected_since_us)
            p->disconnected_since_us = g_get_monotonic_time();
    } else if (state == TSR_WEBRTC_STATE_FAILED) {
        report_failure(p, p->plain ? "DTLS-SRTP failed" : "ICE or DTLS failed");
    }
}

static gboolean peer_tick(gpointer data)
{
    struct tsr_media_peer *p = data;
    int64_t now = g_get_monotonic_time();
    tsr_media_peer_service_rx(p, now);
    if (p->slides)
        tsr_media_peer_service_rx(p->slides, now);
    if (p->disconnected_since_us && now - p->disconnected_since_us > p->consent_failure_ms * 1000)
        report_failure(p, "ICE consent lost");
    return G_SOURCE_CONTINUE;
}

/* What the participant receives from us, for judging its REMB (mixer tiers). */
static void update_send_rate(struct tsr_media_peer *p, int64_t now)
{
    int64_t span = now - p->tx_video_window_start_us;
    if (p->tx_video_window_start_us && span > 0)
        g_atomic_int_set(&p->tx_video_kbps,
                         (gint)MIN(p->tx_video_window_bytes * 8000 / (uint64_t)span, G_MAXINT));
    p->tx_video_window_bytes = 0;
    p->tx_video_window_start_us = now;
}

static gboolean peer_report(gpointer data)
{
    struct tsr_media_peer *p = data;
    int64_t now = g_get_monotonic_time();
    update_send_rate(p, now);
    if (tsr_media_peer_transport_up(p))
        tsr_media_peer_send_reports(p, now);
    return G_SOURCE_CONTINUE;
}

static guint add_timer(struct tsr_media_peer *p, guint ms, GSourceFunc fn)
{
    GSource *src = tsr_aligned_timer_source_new(ms);
    g_source_set_callback(src, fn, p, NULL);
    guint id = g_source_attach(src, p->ctx);
    g_source_unref(src);
    return id;
}

static uint32_t random_ssrc(void)
{
    uint32_t v;
    do
        v = g_random_int();
    while (v == 0);
    return v;
}

/* Creates the transport and negotiates; fills *neg_out. */
static int negotiate(struct tsr_media_peer *p, const struct tsr_media_peer_params *params,
                     const char *offer, uint32_t assrc, uint32_t vssrc,
                     struct tsr_sdp_negotiation **neg_out, char reason[TSR_SDP_REASON_MAX])
{
    static const struct tsr_webrtc_callbacks cbs = {
        .on_rtp = tsr_media_peer_on_rtp,
        .on_rtcp = tsr_media_peer_on_rtcp,
        .on_state = tsr_media_peer_on_transport_state,
    };
    int rc = tsr_webrtc_transport_new(&p->transport, p->ctx, params->webrtc, &cbs, p);
    if (rc) {
        g_snprintf(reason, TSR_SDP_REASON_MAX, "cannot open a media port: %s", tsr_strerror(rc));
        return rc;
    }
    struct tsr_sdp_local local;
    memset(&local, 0, sizeof local);
    rc = tsr_webrtc_transport_local(p->transport, &local);
    if (rc)
        return rc;
    char cname[32];
    g_snprintf(cname, sizeof cname, "tessera-%08x", p->id);
    local.video_pref = params->video_pref;
    local.ask_dtx = params->ask_dtx;
    local.audio_red = p->audio_red_distance > 0;
    local.audio_ssrc = assrc;
    local.video_ssrc = vssrc;
    local.cname = cname;
    local.stream_id = "tessera";
    local.session_id = ((uint64_t)g_random_int() << 20) | p->id;
    rc = tsr_sdp_negotiate(offer, strlen(offer), &local, neg_out, reason);
    if (rc == 0)
        rc = tsr_webrtc_transport_set_remote_description(p->transport, *neg_out);
    if (rc == 0)
        tsr_media_peer_reneg_remember(p, *neg_out, local.session_id);
    return rc;
}

/* The peer before any SDP: fields, clock, metrics handles. */
static struct tsr_media_peer *peer_alloc(const struct tsr_media_peer_params *params)
{
    struct tsr_media_peer *p = g_new0(struct tsr_media_peer, 1);
    p->refs = 1;
    p->id = params->id;
    p->ask_dtx = params->ask_dtx;
    p->log_ctx = g_strdup(params->log_ctx ? params->log_ctx : "peer");
    p->ctx = g_main_context_ref(params->ctx);
    p->send_batch = params->send_batch ? tsr_loop_batch_ref(params->send_batch) : NULL;
    p->sink = params->sink;
    p->sink_user = params->sink_user;
    p->sink_user_free = params->sink_user_free;
    p->consent_failure_ms = params->consent_failure_ms ? params->consent_failure_ms : 30000;
    p->audio_red_distance =
        (uint8_t)MIN(params->audio_red_distance, TSR_RTP_STREAM_OUT_MAX_RED_DISTANCE);
    g_mutex_init(&p->slot_lock);
    atomic_init(&p->last_rx_us, 0);
    p->m_rx_bytes = tsr_metrics_counter("tessera_media_bytes_total", "direction=\"in\"",
                                        "SRTP payload bytes received and sent (rate = bitrate).");
    p->m_tx_bytes = tsr_metrics_counter("tessera_media_bytes_total", "direction=\"out\"",
                                        "SRTP payload bytes received and sent (rate = bitrate).");
    p->m_decode_us = tsr_metrics_counter("tessera_decode_microseconds_total", NULL,
                                         "Time spent decoding participants' video.");
    p->m_frames_dropped = tsr_metrics_counter(
        "tessera_video_frames_dropped_total", NULL,
        "Received video frames dropped: incomplete in time or waiting for a keyframe.");
    tsr_media_clock_init(&p->clock, g_get_monotonic_time(), g_get_real_time());
    return p;
}

/* The receive and send chains from a negotiation, then the timers: media runs. */
static int peer_start(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg,
                      uint32_t slides_id, uint32_t assrc, uint32_t vssrc)
{
    int rc = tsr_media_peer_rx_setup(p, neg);
    if (rc == 0)
        rc = tsr_media_peer_slides_setup(p, neg, slides_id);
    if (rc == 0)
        rc = tsr_media_peer_tx_setup(p, neg, assrc, vssrc);
    if (rc)
        return rc;
    p->tick_timer = add_timer(p, PEER_TICK_MS, peer_tick);
    p->report_timer = add_timer(p, PEER_REPORT_MS, peer_report);
    TSR_LOG(TSR_LOG_INFO, p->log_ctx, "media negotiated: video %s, audio %s, port %u",
            p->has_video ? tsr_video_codec_name(p->video_codec) : "none",
            !p->has_audio             ? "none"
            : p->rx_audio.red_pt >= 0 ? "opus in RED"
                                      : "opus",
            p->transport ? tsr_webrtc_transport_local_port(p->transport)
                         : tsr_rtp_transport_port(p->plain, TSR_RTP_TRANSPORT_AUDIO));
    return 0;
}

int tsr_media_peer_new(struct tsr_media_peer **out, const struct tsr_media_peer_params *params,
                       const char *offer, char **answer, char reason[TSR_SDP_REASON_MAX])
{
    struct tsr_media_peer *p = peer_alloc(params);
    struct tsr_sdp_negotiation *neg = NULL;
    uint32_t assrc = random_ssrc(), vssrc = random_ssrc();
    reason[0] = '\0';
    int rc = tsr_sdp_is_plain_rtp(offer, strlen(offer))
                 ? tsr_media_peer_negotiate_plain(p, params, offer, assrc, vssrc, &neg, reason)
                 : negotiate(p, params, offer, assrc, vssrc, &neg, reason);
    if (rc == 0)
        rc = peer_start(p, neg, params->slides_id, assrc, vssrc);
    if (rc) {
        g_atomic_int_set(&p->closed, 1);
        tsr_sdp_negotiation_free(&neg);
        tsr_media_peer_unref(&p);
        return rc;
    }
    *answer = neg->answer;
    p->local_sdp = g_strdup(neg->answer); /* the base of any server re-offer */
    p->remote_sdp = g_strdup(offer);
    neg->answer = NULL;
    tsr_sdp_negotiation_free(&neg);
    *out = p;
    return 0;
}

int tsr_media_peer_new_offer(struct tsr_media_peer **out,
                             const struct tsr_media_peer_params *params, char **offer,
                             char reason[TSR_SDP_REASON_MAX])
{
    struct tsr_media_peer *p = peer_alloc(params);
    reason[0] = '\0';
    int rc = tsr_media_peer_offer_plain(p, params, random_ssrc(), random_ssrc(), offer, reason);
    if (rc) {
        g_atomic_int_set(&p->closed, 1);
        tsr_media_peer_unref(&p);
        return rc;
    }
    p->local_sdp = g_strdup(*offer);
    *out = p;
    return 0;
}

int tsr_media_peer_apply_plain_answer(struct tsr_media_peer *p, const char *answer,
                                      char reason[TSR_SDP_REASON_MAX])
{
    reason[0] = '\0';
    if (!p->awaiting_answer || g_atomic_int_get(&p->closed))
        return TSR_ERR_STATE;
    struct tsr_sdp_negotiation *neg = NULL;
    int rc = tsr_media_peer_read_plain_answer(p, answer, &neg, reason);
    if (rc == 0 && (rc = peer_start(p, neg, 0, p->offer_ssrc[0], p->offer_ssrc[1])) != 0 &&
        !reason[0])
        g_snprintf(reason, TSR_SDP_REASON_MAX, "media setup failed: %s", tsr_strerror(rc));
    tsr_sdp_negotiation_free(&neg);
    if (rc)
        return rc;
    p->awaiting_answer = false;
    g_free(p->remote_sdp);
    p->remote_sdp = g_strdup(answer);
    return 0;
}

struct tsr_media_peer *tsr_media_peer_ref(struct tsr_media_peer *p)
{
    g_atomic_int_inc(&p->refs);
    return p;
}

/* Runs on the net loop: everything that lives there goes here. */
static void peer_teardown(struct tsr_media_peer *p)
{
    if (p->tick_timer)
        g_source_destroy(g_main_context_find_source_by_id(p->ctx, p->tick_timer));
    if (p->report_timer)
        g_source_destroy(g_main_context_find_source_by_id(p->ctx, p->report_timer));
    p->tick_timer = p->report_timer = 0;
    tsr_media_peer_slides_detach(p);
    tsr_webrtc_transport_free(&p->transport);
    tsr_rtp_transport_free(&p->plain);
    tsr_jitter_buffer_free(&p->jitter);
    tsr_video_decoder_free(&p->decoder);
    tsr_rtp_stream_out_free(&p->tx_audio);
    tsr_rtp_stream_out_free(&p->tx_video);
}

static void peer_destroy(struct tsr_media_peer *p)
{
    if (p->sink_user_free)
        p->sink_user_free(p->sink_user);
    av_frame_free(&p->slot_frame);
    tsr_media_peer_unref(&p->slides);
    tsr_sdp_send_offer_free(&p->send_offer);
    g_free(p->local_sdp);
    g_free(p->remote_sdp);
    g_mutex_clear(&p->slot_lock);
    tsr_loop_batch_unref(p->send_batch);
    g_main_context_unref(p->ctx);
    g_free(p->log_ctx);
    g_free(p);
}

static gboolean teardown_job(gpointer data)
{
    struct tsr_media_peer *p = data;
    peer_teardown(p);
    peer_destroy(p);
    return G_SOURCE_REMOVE;
}

void tsr_media_peer_unref(struct tsr_media_peer **pp)
{
    if (!pp || !*pp)
        return;
    struct tsr_media_peer *p = *pp;
    *pp = NULL;
    if (!g_atomic_int_dec_and_test(&p->refs))
        return;
    if (g_main_context_is_owner(p->ctx) || (!p->transport && !p->plain)) {
        peer_teardown(p);
        peer_destroy(p);
    } else {
        tsr_loop_post(p->ctx, teardown_job, p, NULL);
    }
}

static gboolean close_job(gpointer data)
{
    struct tsr_media_peer *p = data;
    if (p->transport)
        tsr_webrtc_transport_close(p->transport);
    tsr_rtp_transport_close(p->plain);
    peer_teardown(p);
    return G_SOURCE_REMOVE;
}

static void unref_cb(gpointer data)
{
    struct tsr_media_peer *p = data;
    tsr_media_peer_unref(&p);
}

void tsr_media_peer_close(struct tsr_media_peer *p)
{
    if (!g_atomic_int_compare_and_exchange(&p->closed, 0, 1))
        return;
    tsr_loop_post(p->ctx, close_job, tsr_media_peer_ref(p), unref_cb);
}

uint32_t tsr_media_peer_id(const struct tsr_media_peer *p)
{
    return p->id;
}

enum tsr_video_codec tsr_media_peer_video_codec(const struct tsr_media_peer *p)
{
    return p->video_codec;
}

void tsr_media_peer_video_limits(const struct tsr_media_peer *p, struct tsr_video_limits *out)
{
    *out = p->video_limits;
}

bool tsr_media_peer_has_video(const struct tsr_media_peer *p)
{
    return p->has_video;
}

bool tsr_media_peer_has_audio(const struct tsr_media_peer *p)
{
    return p->has_audio;
}

enum tsr_audio_codec tsr_media_peer_audio_codec(const struct tsr_media_peer *p)
{
    return p->audio_codec;
}

int tsr_media_peer_latest_video(struct tsr_media_peer *p, AVFrame **out, uint64_t *seq)
{
    int rc = TSR_ERR_AGAIN;
    g_mutex_lock(&p->slot_lock);
    if (p->slot_frame) {
        AVFrame *f = av_frame_clone(p->slot_frame);
        rc = f ? 0 : -ENOMEM;
        if (f) {
            *out = f;
            if (seq)
                *seq = p->slot_seq;
        }
    }
    g_mutex_unlock(&p->slot_lock);
    return rc;
}

void tsr_media_peer_set_send_hint_bps(struct tsr_media_peer *p, int64_t bps)
{
    g_atomic_int_set(&p->send_hint_kbps, (gint)CLAMP(bps / 1000, 0, G_MAXINT));
}

int64_t tsr_media_peer_last_rx_us(const struct tsr_media_peer *p)
{
    return atomic_load_explicit(&((struct tsr_media_peer *)p)->last_rx_us, memory_order_relaxed);
}

int64_t tsr_media_peer_receive_estimate_bps(const struct tsr_media_peer *p)
{
    return (int64_t)g_atomic_int_get((gint *)&p->remb_kbps) * 1000;
}

int64_t tsr_media_peer_video_cap_bps(const struct tsr_media_peer *p)
{
    int64_t sdp = g_atomic_int_get((gint *)&p->sdp_cap_kbps);
    int64_t tmmbr = g_atomic_int_get((gint *)&p->tmmbr_kbps);
    int64_t kbps = sdp && tmmbr ? MIN(sdp, tmmbr) : sdp ? sdp : tmmbr;
    return kbps * 1000;
}

void tsr_media_peer_set_shown(struct tsr_media_peer *p, bool shown)
{
    g_atomic_int_set(&p->hidden, shown ? 0 : 1);
}

int64_t tsr_media_peer_video_send_bps(const struct tsr_media_peer *p)
{
    return (int64_t)g_atomic_int_get((gint *)&p->tx_video_kbps) * 1000;
}

struct send_job {
    struct tsr_media_peer *peer;
    struct tsr_rtp_packetized *pkts;
    bool video;
    int codec; /* enum tsr_video_codec or tsr_audio_codec, by `video` */
};

static void send_job_free(gpointer data)
{
    struct send_job *job = data;
    tsr_rtp_packetized_unref(&job->pkts);
    tsr_media_peer_unref(&job->peer);
    g_free(job);
}

/* What a video frame was made for: the codec and, for H.264, the packetization. */
static int video_tag(enum tsr_video_codec codec, bool single_nal)
{
    return (int)codec | (single_nal ? 0x100 : 0);
}

/* Per-participant RTP headers in front of the shared payloads, then SRTP + ICE. */
static void send_job_send(void *data)
{
    struct send_job *job = data;
    struct tsr_media_peer *p = job->peer;
    struct tsr_rtp_stream_out *out = job->video ? p->tx_video : p->tx_audio;
    if (g_atomic_int_get(&p->closed) || !out || !tsr_media_peer_transport_up(p))
        return;
    /* Made for the codec the stream ran before a re-INVITE changed it. */
    if (job->codec !=
        (job->video ? video_tag(p->video_codec, p->video_limits.single_nal) : (int)p->audio_codec))
        return;
    /* A SIP caller holding the call gets nothing, and the sequence numbers it sees
     * after resume follow on (baresip decoded nothing after a 200-packet gap). */
    if (p->plain && !tsr_rtp_transport_sending(p->plain, job->video ? TSR_RTP_TRANSPORT_VIDEO
                                                                    : TSR_RTP_TRANSPORT_AUDIO))
        return;
    struct tsr_rtp_send_opts opts = {
        .now_us = g_get_monotonic_time(), .transport_cc_seq = -1, .audio_level_dbov = -1};
    uint8_t buf[1500];
    size_t n = tsr_rtp_packetized_count(job->pkts);
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        if (tsr_rtp_stream_out_write(out, job->pkts, i, &opts, buf, sizeof buf, &len) == 0 &&
            tsr_media_peer_transport_send_rtp(p, buf, len) == 0) {
            tsr_counter_add(p->m_tx_bytes, len);
            if (job->video)
                p->tx_video_window_bytes += len;
        }
    }
}

static gboolean send_job_run(gpointer data)
{
    send_job_send(data);
    return G_SOURCE_REMOVE;
}

static void post_send(struct tsr_media_peer *p, struct tsr_rtp_packetized *pkts, bool video,
                      int codec)
{
    if (g_atomic_int_get(&p->closed))
        return;
    struct send_job *job = g_new(struct send_job, 1);
    job->peer = tsr_media_peer_ref(p);
    job->pkts = tsr_rtp_packetized_ref(pkts);
    job->video = video;
    job->codec = codec;
    if (p->send_batch) /* one wake-up of the loop for the whole fan-out */
        tsr_loop_batch_post(p->send_batch, send_job_send, job, send_job_free);
    else
        tsr_loop_post(p->ctx, send_job_run, job, send_job_free);
}

void tsr_media_peer_send_video(struct tsr_media_peer *p, enum tsr_video_codec codec,
                               bool single_nal, struct tsr_rtp_packetized *pkts)
{
    post_send(p, pkts, true, video_tag(codec, single_nal));
}

void tsr_media_peer_send_audio(struct tsr_media_peer *p, enum tsr_audio_codec codec,
                               struct tsr_rtp_packetized *pkts)
{
    post_send(p, pkts, false, (int)codec);
}

int tsr_media_peer_add_candidate(struct tsr_media_peer *p, const char *candidate)
{
    if (g_atomic_int_get(&p->closed) || !p->transport)
        return TSR_ERR_STATE;
    if (!candidate || !*candidate)
        return 0; /* end of candidates: nothing to do for ICE-lite */
    int rc = tsr_webrtc_transport_add_remote_candidate(p->transport, candidate);
    /* mDNS and TCP candidates are skipped; the browser is found through its checks. */
    return rc == TSR_ERR_UNSUPPORTED ? 0 : rc;
}
