/* A conference output's writer thread (tessera/output.h): the queue the mixer
 * feeds, the muxer it writes, and for a push the reconnection with back-off. */
#include <tessera/output.h>

#include <tessera/aac_encoder.h>
#include <tessera/conference.h>
#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/muxer.h>
#include <tessera/net_loops.h>

#include <glib.h>
#include <libavutil/error.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Items queued and not yet written before the feeders start dropping: about 4 s of
 * 30 fps video and 50 audio ticks a second. A file on a stalled disk or a push on a
 * thin uplink then loses pictures (and waits for a keyframe), never the mixer's time. */
#define MAX_QUEUE 320
#define OPUS_MAX 1500
#define PCM_SAMPLES 960
#define TICK_US 20000
#define MAX_FILL_TICKS 50 /* 1 s: the longest hole in a push's audio filled with silence */
#define H264_HEADERS_MAX 1024
/* A push asks for a keyframe at least this often: a viewer joining the stream (or a
 * service's ingest) starts at one; 2 s is what streaming services ask for. */
#define STREAM_KEYFRAME_US 2000000

enum item_type { ITEM_VIDEO, ITEM_AUDIO, ITEM_WAKE };

/* One queued frame; allocated per frame (about 80 a second per output). */
struct item {
    enum item_type type;
    int64_t t_us;
    AVPacket *pkt; /* video: a reference to the encoder group's packet */
    bool has_pcm;
    size_t opus_len;
    int16_t pcm[PCM_SAMPLES];
    uint8_t opus[OPUS_MAX];
};

struct tsr_output {
    gint refs;
    struct tsr_output_params params;
    char *target, *log_ctx;
    char *shown; /* target as logged: a stream URL without its key */
    GAsyncQueue *queue;
    GThread *thread;
    atomic_int stop;     /* finish after the current item */
    atomic_int abort;    /* interrupt network waits (close) */
    atomic_int finished; /* a final state was reported */
    atomic_int want_keyframe;
    atomic_int queued;
    atomic_int gap;      /* a frame was dropped: the next picture must be a keyframe */
    gint closed;

    /* Writer thread only. */
    struct tsr_muxer *mux;
    struct tsr_aac_encoder *aac;
    int64_t origin_us;     /* media-clock time of the output's zero; INT64_MIN: not started */
    int64_t aac_origin_us; /* media-clock time of the AAC encoder's first sample */
    int64_t aac_next_us;   /* media-clock time of the tick the AAC encoder expects next */
    int64_t last_key_us;   /* media-clock time of the last keyframe written */
    bool need_key;
    enum tsr_output_state state;
};

const char *tsr_output_state_name(enum tsr_output_state s)
{
    static const char *const names[] = {"starting", "active", "reconnecting", "stopped", "failed"};
    return (unsigned)s < G_N_ELEMENTS(names) ? names[s] : "unknown";
}

static const char *kind_label(const struct tsr_output *o)
{
    return o->params.kind == TSR_OUTPUT_STREAM ? "kind=\"stream\"" : "kind=\"recording\"";
}

static void item_free(struct item *it)
{
    if (!it)
        return;
    av_packet_free(&it->pkt);
    free(it);
}

static void report(struct tsr_output *o, enum tsr_output_state st, const char *detail)
{
    o->state = st;
    if (st == TSR_OUTPUT_STOPPED || st == TSR_OUTPUT_FAILED)
        atomic_store(&o->finished, 1);
    if (o->params.on_state)
        o->params.on_state(o->params.user, o->params.id, st, detail);
}

static void count_failure(struct tsr_output *o, int err)
{
    char labels[96];
    g_snprintf(labels, sizeof labels, "%s,reason=\"%s\"", kind_label(o),
               tsr_muxer_reason_label(err));
    tsr_counter_inc(tsr_metrics_counter("tessera_output_failures_total", labels,
                                        "Recordings and streams ended or interrupted by a fault, "
                                        "by cause."));
}

static int connect_target(struct tsr_output *o)
{
    enum tsr_muxer_container c =
        o->params.kind == TSR_OUTPUT_STREAM ? TSR_MUXER_FLV : TSR_MUXER_MATROSKA;
    int rc = tsr_muxer_open(&o->mux, c, o->target, o->params.io_timeout_ms, &o->abort);
    o->origin_us = INT64_MIN;
    o->need_key = true;
    atomic_store(&o->want_keyframe, 1);
    return rc;
}

/* The first keyframe fixes the streams (its SPS/PPS) and the output's zero. */
static int start_muxer(struct tsr_output *o, const AVPacket *key, int64_t t_us)
{
    uint8_t headers[H264_HEADERS_MAX];
    size_t n = 0;
    if (o->params.video_codec == TSR_VIDEO_CODEC_H264 &&
        (n = tsr_muxer_h264_parameter_sets(key->data, (size_t)key->size, headers,
                                           sizeof headers)) == 0)
        return TSR_ERR_AGAIN; /* a keyframe without its parameter sets: wait for the next */
    struct tsr_muxer_streams s = {.video_codec = o->params.video_codec,
                                  .width = o->params.width,
                                  .height = o->params.height,
                                  .video_extradata = headers,
                                  .video_extradata_len = n,
                                  .audio_channels = o->params.audio_channels};
    if (o->params.kind == TSR_OUTPUT_STREAM) {
        tsr_aac_encoder_free(&o->aac);
        int rc = tsr_aac_encoder_new(&o->aac, 1, o->params.aac_bitrate_bps);
        if (rc)
            return rc;
        s.audio_codec = TSR_MUXER_AUDIO_AAC;
        s.audio_channels = 1;
        s.audio_extradata = tsr_aac_encoder_extradata(o->aac, &s.audio_extradata_len);
        o->aac_origin_us = INT64_MIN;
    }
    int rc = tsr_muxer_start(o->mux, &s);
    if (rc == 0)
        o->origin_us = t_us;
    return rc;
}

static int write_video(struct tsr_output *o, struct item *it)
{
    bool key = (it->pkt->flags & AV_PKT_FLAG_KEY) != 0;
    if (atomic_exchange(&o->gap, 0))
        o->need_key = true;
    if (o->need_key && !key) {
        atomic_store(&o->want_keyframe, 1);
        return 0;
    }
    if (!tsr_muxer_started(o->mux)) {
        int rc = start_muxer(o, it->pkt, it->t_us);
        if (rc == TSR_ERR_AGAIN)
            return 0;
        if (rc)
            return rc;
    }
    o->need_key = false;
    if (key)
        o->last_key_us = it->t_us;
    else if (o->params.kind == TSR_OUTPUT_STREAM && it->t_us - o->last_key_us >= STREAM_KEYFRAME_US)
        atomic_store(&o->want_keyframe, 1);
    return tsr_muxer_write(o->mux, TSR_MUXER_VIDEO, it->pkt, it->t_us - o->origin_us, 0);
}

/* One tick of PCM through AAC into the push; the encoder is drained after each,
 * as it takes only a few frames ahead. AAC is stamped by its sample count from
 * the first sample it got. */
static int aac_encode(struct tsr_output *o, const int16_t *pcm)
{
    int rc = tsr_aac_encoder_push(o->aac, pcm, PCM_SAMPLES);
    AVPacket *pkt = av_packet_alloc();
    int64_t pts = 0;
    while (rc == 0 && pkt && (rc = tsr_aac_encoder_pull(o->aac, pkt, &pts)) == 0) {
        int64_t at = o->aac_origin_us - o->origin_us + MAX(0, pts) * 1000000 / 48000;
        rc = tsr_muxer_write(o->mux, TSR_MUXER_AUDIO, pkt, at, 1024 * 1000000 / 48000);
    }
    av_packet_free(&pkt);
    return rc == TSR_ERR_AGAIN ? 0 : rc;
}

/* A push's audio. Ticks that never came (a mixer that fell behind skips them, a
 * full queue drops them) are filled with silence up to MAX_FILL_TICKS; a longer
 * hole moves the encoder's origin instead. Either way the sample count stays on
 * the media clock, beside the pictures: without this a loaded mixer left the
 * stream's audio seconds behind its video. */
static int write_aac(struct tsr_output *o, struct item *it)
{
    static const int16_t silence[PCM_SAMPLES];
    if (!it->has_pcm)
        return 0;
    if (o->aac_origin_us == INT64_MIN)
        o->aac_origin_us = o->aac_next_us = it->t_us;
    int64_t missing = (it->t_us - o->aac_next_us + TICK_US / 2) / TICK_US;
    if (missing > MAX_FILL_TICKS)
        o->aac_origin_us += (missing - MAX_FILL_TICKS) * TICK_US;
    o->aac_next_us = MAX(o->aac_next_us, it->t_us) + TICK_US;
    int rc = 0;
    for (int64_t i = 0; rc == 0 && i < MIN(missing, MAX_FILL_TICKS); i++)
        rc = aac_encode(o, silence);
    return rc ? rc : aac_encode(o, it->pcm);
}

static int write_audio(struct tsr_output *o, struct item *it)
{
    if (!o->mux || !tsr_muxer_started(o->mux) || it->t_us < o->origin_us)
        return 0;
    if (o->params.kind == TSR_OUTPUT_STREAM)
        return write_aac(o, it);
    AVPacket *pkt = av_packet_alloc();
    if (!pkt || av_new_packet(pkt, (int)it->opus_len) < 0) {
        av_packet_free(&pkt);
        return 0; /* out of memory: this tick is missing from the file */
    }
    memcpy(pkt->data, it->opus, it->opus_len);
    pkt->flags |= AV_PKT_FLAG_KEY;
    int rc = tsr_muxer_write(o->mux, TSR_MUXER_AUDIO, pkt, it->t_us - o->origin_us, TICK_US);
    av_packet_free(&pkt);
    return rc;
}

static int write_item(struct tsr_output *o, struct item *it)
{
    int64_t before = tsr_muxer_bytes(o->mux);
    int rc = it->type == ITEM_VIDEO ? write_video(o, it)
             : it->type == ITEM_AUDIO ? write_audio(o, it)
                                      : 0;
    tsr_counter_add(tsr_metrics_counter("tessera_output_bytes_total", kind_label(o),
                                        "Bytes written to recordings and sent to streams."),
                    (uint64_t)MAX(0, tsr_muxer_bytes(o->mux) - before));
    return rc;
}

/* Takes the next item (NULL after timeout_us without one) and keeps the count. */
static struct item *pop(struct tsr_output *o, int64_t timeout_us)
{
    struct item *it = g_async_queue_timeout_pop(o->queue, (guint64)MAX(0, timeout_us));
    if (it)
        atomic_fetch_sub(&o->queued, 1);
    return it;
}

/* Waits `delay_us` while the items arriving meanwhile are dropped. False: stop. */
static bool idle_wait(struct tsr_output *o, int64_t delay_us)
{
    int64_t until = g_get_monotonic_time() + delay_us;
    while (!atomic_load(&o->stop)) {
        int64_t left = until - g_get_monotonic_time();
        if (left <= 0)
            return true;
        item_free(pop(o, left));
    }
    return false;
}

/* A push that lost its server: back off and reconnect until it answers, the
 * output is stopped, or reconnect_timeout_ms passes. Returns 0 when connected
 * again, else the last error (AVERROR_EXIT when stopped). */
static int reconnect(struct tsr_output *o, int err)
{
    char why[128];
    int64_t since = g_get_monotonic_time();
    int64_t delay_ms = o->params.retry_min_ms;
    tsr_muxer_close(&o->mux);
    for (;;) {
        tsr_muxer_reason(err, why, sizeof why);
        TSR_LOG(TSR_LOG_WARN, o->log_ctx, "stream %s: %s; reconnecting in %" G_GINT64_FORMAT " ms",
                o->shown, why, delay_ms);
        report(o, TSR_OUTPUT_RECONNECTING, why);
        if (!idle_wait(o, delay_ms * 1000))
            return AVERROR_EXIT;
        tsr_counter_inc(tsr_metrics_counter("tessera_stream_reconnects_total", NULL,
                                            "Reconnection attempts of live streams."));
        err = connect_target(o);
        if (err == 0) {
            TSR_LOG(TSR_LOG_INFO, o->log_ctx, "stream %s: connected again", o->shown);
            report(o, TSR_OUTPUT_ACTIVE, NULL);
            return 0;
        }
        if ((g_get_monotonic_time() - since) / 1000 >= o->params.reconnect_timeout_ms)
            return err;
        delay_ms = MIN(delay_ms * 2, o->params.retry_max_ms);
    }
}

/* Writes items until stopped (0) or a fault that ends the output (its error). A
 * stop queues a wake-up behind everything fed before it and refuses what comes
 * after, so the file or push gets every picture and tick up to the stop. */
static int write_loop(struct tsr_output *o)
{
    for (;;) {
        struct item *it = pop(o, 200000);
        if (!it) {
            if (atomic_load(&o->stop)) /* no wake-up (out of memory): nothing is behind */
                return 0;
            continue;
        }
        bool wake = it->type == ITEM_WAKE;
        int rc = write_item(o, it);
        item_free(it);
        if (wake && atomic_load(&o->stop))
            return 0;
        if (rc == 0)
            continue;
        if (o->params.kind != TSR_OUTPUT_STREAM)
            return rc;
        rc = reconnect(o, rc);
        if (rc)
            return rc == AVERROR_EXIT && atomic_load(&o->stop) ? 0 : rc;
    }
}

static void fail(struct tsr_output *o, int err, const char *doing)
{
    char why[128];
    tsr_muxer_reason(err, why, sizeof why);
    TSR_LOG(TSR_LOG_ERROR, o->log_ctx, "%s %s: %s %s; it is stopped",
            o->params.kind == TSR_OUTPUT_STREAM ? "stream" : "recording", o->shown, doing, why);
    count_failure(o, err);
    report(o, TSR_OUTPUT_FAILED, why);
}

static gpointer writer_main(gpointer data)
{
    struct tsr_output *o = data;
    struct tsr_gauge *active = tsr_metrics_gauge("tessera_outputs_active", kind_label(o),
                                                 "Recordings and streams running now.");
    tsr_gauge_add(active, 1);
    report(o, TSR_OUTPUT_STARTING, NULL);
    if (o->params.kind == TSR_OUTPUT_RECORDING) {
        char *dir = g_path_get_dirname(o->target);
        g_mkdir_with_parents(dir, 0755); /* a failure shows as the open's error */
        g_free(dir);
    }
    int rc = connect_target(o);
    if (rc) {
        fail(o, rc, o->params.kind == TSR_OUTPUT_STREAM ? "cannot connect:" : "cannot create:");
    } else {
        TSR_LOG(TSR_LOG_INFO, o->log_ctx, "%s %s started",
                o->params.kind == TSR_OUTPUT_STREAM ? "stream to" : "recording", o->shown);
        report(o, TSR_OUTPUT_ACTIVE, NULL);
        rc = write_loop(o);
        int rc_close = tsr_muxer_close(&o->mux);
        if (rc)
            fail(o, rc, o->params.kind == TSR_OUTPUT_STREAM ? "lost:" : "cannot write:");
        else if (rc_close && o->params.kind == TSR_OUTPUT_RECORDING)
            fail(o, rc_close, "cannot finish:");
        else {
            TSR_LOG(TSR_LOG_INFO, o->log_ctx, "%s %s stopped",
                    o->params.kind == TSR_OUTPUT_STREAM ? "stream to" : "recording", o->shown);
            report(o, TSR_OUTPUT_STOPPED, NULL);
        }
    }
    tsr_aac_encoder_free(&o->aac);
    tsr_gauge_add(active, -1);
    return NULL;
}

int tsr_output_new(struct tsr_output **out, const struct tsr_output_params *p)
{
    if (!p->target || !*p->target || p->width <= 0 || p->height <= 0 ||
        (p->audio_channels != 1 && p->audio_channels != 2) ||
        (p->kind == TSR_OUTPUT_STREAM && p->video_codec != TSR_VIDEO_CODEC_H264))
        return -EINVAL;
    struct tsr_output *o = calloc(1, sizeof *o);
    if (!o)
        return -ENOMEM;
    o->refs = 1;
    o->params = *p;
    o->target = g_strdup(p->target);
    o->log_ctx = g_strdup(p->log_ctx ? p->log_ctx : "output");
    o->shown = p->kind == TSR_OUTPUT_STREAM ? tsr_conference_redact_url(p->target)
                                            : g_strdup(p->target);
    o->params.target = o->target;
    o->params.log_ctx = o->log_ctx;
    o->params.retry_min_ms = MAX(p->retry_min_ms, 100);
    o->params.retry_max_ms = MAX(p->retry_max_ms, o->params.retry_min_ms);
    o->queue = g_async_queue_new_full((GDestroyNotify)item_free);
    char name[16];
    g_snprintf(name, sizeof name, "out-%u", p->id);
    o->thread = g_thread_new(name, writer_main, o);
    *out = o;
    return 0;
}

struct tsr_output *tsr_output_ref(struct tsr_output *o)
{
    g_atomic_int_inc(&o->refs);
    return o;
}

void tsr_output_unref(struct tsr_output **po)
{
    if (!po || !*po)
        return;
    struct tsr_output *o = *po;
    *po = NULL;
    if (!g_atomic_int_dec_and_test(&o->refs))
        return;
    tsr_output_close(o);
    g_async_queue_unref(o->queue); /* frees what is left */
    g_free(o->target);
    g_free(o->shown);
    g_free(o->log_ctx);
    free(o);
}

uint32_t tsr_output_id(const struct tsr_output *o)
{
    return o->params.id;
}

enum tsr_output_kind tsr_output_kind(const struct tsr_output *o)
{
    return o->params.kind;
}

enum tsr_video_codec tsr_output_video_codec(const struct tsr_output *o)
{
    return o->params.video_codec;
}

void tsr_output_stop(struct tsr_output *o)
{
    atomic_store(&o->stop, 1);
    struct item *wake = calloc(1, sizeof *wake);
    if (wake) {
        wake->type = ITEM_WAKE;
        atomic_fetch_add(&o->queued, 1);
        g_async_queue_push(o->queue, wake);
    }
}

void tsr_output_close(struct tsr_output *o)
{
    if (!g_atomic_int_compare_and_exchange(&o->closed, 0, 1))
        return;
    tsr_output_stop(o);
    atomic_store(&o->abort, 1);
    tsr_loop_assert_may_wait("joining an output's writer thread");
    g_thread_join(o->thread);
    o->thread = NULL;
}

bool tsr_output_finished(const struct tsr_output *o)
{
    return atomic_load(&o->finished) != 0;
}

/* Queues it, or drops it when the writer is too far behind (then the writer
 * needs a keyframe before the next picture). */
static void enqueue(struct tsr_output *o, struct item *it)
{
    if (atomic_load(&o->finished) || atomic_load(&o->stop) ||
        atomic_load(&o->queued) >= MAX_QUEUE) {
        atomic_store(&o->gap, 1);
        if (!atomic_load(&o->finished) && !atomic_load(&o->stop))
            tsr_counter_inc(tsr_metrics_counter("tessera_output_frames_dropped_total", NULL,
                                                "Frames a recording or stream dropped because "
                                                "its writer fell behind."));
        item_free(it);
        return;
    }
    atomic_fetch_add(&o->queued, 1);
    g_async_queue_push(o->queue, it);
}

void tsr_output_push_video(struct tsr_output *o, const AVPacket *pkt, int64_t t_us)
{
    struct item *it = malloc(offsetof(struct item, pcm));
    if (!it)
        return;
    it->type = ITEM_VIDEO;
    it->t_us = t_us;
    it->pkt = av_packet_clone(pkt);
    if (!it->pkt) {
        free(it);
        return;
    }
    enqueue(o, it);
}

void tsr_output_push_audio(struct tsr_output *o, const uint8_t *opus, size_t opus_len,
                           const int16_t *pcm, size_t n_samples, int64_t t_us)
{
    if (opus_len > OPUS_MAX || atomic_load(&o->finished))
        return;
    struct item *it = malloc(sizeof *it);
    if (!it)
        return;
    it->type = ITEM_AUDIO;
    it->t_us = t_us;
    it->pkt = NULL;
    it->opus_len = opus_len;
    memcpy(it->opus, opus, opus_len);
    it->has_pcm = pcm && n_samples == PCM_SAMPLES && o->params.kind == TSR_OUTPUT_STREAM;
    if (it->has_pcm)
        memcpy(it->pcm, pcm, sizeof it->pcm);
    enqueue(o, it);
}

bool tsr_output_take_keyframe_request(struct tsr_output *o)
{
    return atomic_exchange(&o->want_keyframe, 0) != 0;
}
