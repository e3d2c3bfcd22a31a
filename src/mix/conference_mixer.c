/* Conference mixer: its public entry points, and the video thread (the command
 * queue and the video tick on the conference's media clock). The audio half runs
 * on its own thread (conference_audio.c) on the same clock. */
#include "conference_mixer_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/net_loops.h>

#include <errno.h>
#include <stdlib.h>
#include <malloc.h>
#include <string.h>

#define MAX_LAG_US 200000 /* behind by more than this: skip ticks instead of bursting */

void tsr_mix_cmd_free(struct mix_cmd *c)
{
    if (!c)
        return;
    tsr_media_peer_unref(&c->peer);
    tsr_output_unref(&c->output);
    free(c->text);
    free(c);
}

/* A command that could not be allocated is lost: counted, and the mixer goes on. */
void tsr_mix_count_lost_command(void)
{
    tsr_counter_inc(tsr_metrics_counter("tessera_mixer_commands_lost_total", NULL,
                                        "Mixer commands dropped because memory ran out."));
}

static void post(struct tsr_conf_mixer *m, struct mix_cmd *c)
{
    if (!c) {
        tsr_mix_count_lost_command();
        return;
    }
    if (g_atomic_int_get(&m->closed)) {
        tsr_mix_cmd_free(c);
        return;
    }
    g_async_queue_push(m->queue, c);
}

struct mix_cmd *tsr_mix_cmd_new(enum mix_cmd_type type, uint32_t id, size_t extra)
{
    struct mix_cmd *c = calloc(1, sizeof *c + extra);
    if (!c)
        return NULL;
    c->type = type;
    c->id = id;
    return c;
}

struct mix_peer *tsr_mix_find(struct tsr_conf_mixer *m, uint32_t id)
{
    if (m->content && m->content->id == id)
        return m->content;
    for (guint i = 0; i < m->peers->len; i++) {
        struct mix_peer *e = g_ptr_array_index(m->peers, i);
        if (e->id == id)
            return e;
    }
    return NULL;
}

/* The picture e's decoder takes (its declared limits against the canvas). A bit
 * rate limit at or above the top tier's never binds, so it is dropped: receivers
 * then share groups whatever their levels say. */
static void fit_picture(struct tsr_conf_mixer *m, struct mix_peer *e)
{
    struct tsr_video_limits l;
    tsr_media_peer_video_limits(e->peer, &l);
    e->single_nal = l.single_nal && e->codec == TSR_VIDEO_CODEC_H264;
    e->level_bps = (int64_t)l.max_kbps * 1000;
    if (e->level_bps >= m->params.video_bitrate_bps)
        e->level_bps = 0;
    e->max_bps = e->level_bps; /* a signalled limit comes later (tsr_mix_video_tick) */
    if (tsr_video_limits_fit(&l, m->params.canvas_w, m->params.canvas_h, m->params.fps, &e->fmt) !=
        0)
        e->fmt = (struct tsr_video_format){m->params.canvas_w, m->params.canvas_h, m->params.fps};
    if (e->fmt.width != m->params.canvas_w || e->fmt.height != m->params.canvas_h ||
        e->fmt.fps != m->params.fps || e->single_nal || e->max_bps)
        TSR_LOG(TSR_LOG_INFO, m->log_ctx, "%s receives %dx%d at %d fps%s%s (its decoder's limits)",
                e->pid, e->fmt.width, e->fmt.height, e->fmt.fps,
                e->single_nal ? ", H.264 packetization-mode 0" : "",
                e->max_bps ? ", bit rate capped" : "");
}

static void handle_add(struct tsr_conf_mixer *m, struct mix_cmd *c)
{
    struct mix_peer *e = calloc(1, sizeof *e);
    if (!e) {
        TSR_LOG(TSR_LOG_ERROR, m->log_ctx, "out of memory: %s not shown", c->text);
        return;
    }
    e->id = c->id;
    e->pid = g_steal_pointer(&c->text);
    e->peer = g_steal_pointer(&c->peer);
    e->has_video = tsr_media_peer_has_video(e->peer);
    e->has_audio = tsr_media_peer_has_audio(e->peer);
    e->codec = tsr_media_peer_video_codec(e->peer);
    fit_picture(m, e);
    e->joined_us = g_get_monotonic_time();
    g_ptr_array_add(m->peers, e);
}

static void handle_remove(struct tsr_conf_mixer *m, uint32_t id)
{
    struct mix_peer *e = tsr_mix_find(m, id);
    if (!e)
        return;
    tsr_mix_video_detach(m, e);
    g_ptr_array_remove(m->peers, e);
    tsr_media_peer_unref(&e->peer);
    tsr_mix_labels_peer_fini(e);
    free(e->pid);
    free(e);
}

static void handle_cmd(struct tsr_conf_mixer *m, struct mix_cmd *c)
{
    struct mix_peer *e = c->type == MIX_CMD_ADD ? NULL : tsr_mix_find(m, c->id);
    switch (c->type) {
    case MIX_CMD_ADD:
        handle_add(m, c);
        break;
    case MIX_CMD_REMOVE:
        handle_remove(m, c->id);
        break;
    case MIX_CMD_LAYOUT:
        tsr_layout_parse(c->text, &m->layout);
        break;
    case MIX_CMD_SPOTLIGHT:
        m->n_spotlight = MIN(c->id, TSR_CONF_MIXER_SPOTLIGHT_MAX);
        memcpy(m->spotlight, c->bytes, m->n_spotlight * sizeof m->spotlight[0]);
        break;
    case MIX_CMD_SELF_VIEW:
        m->self_view = c->a;
        break;
    case MIX_CMD_MUTE:
        if (e) {
            e->audio_muted = c->a;
            e->video_muted = c->b;
        }
        break;
    case MIX_CMD_NAME:
        if (e)
            tsr_mix_labels_set_name(e, c->text);
        break;
    case MIX_CMD_AUDIO:
        break; /* audio goes to the audio thread */
    case MIX_CMD_KEYFRAME:
        if (e)
            tsr_mix_video_keyframe(m, e);
        break;
    case MIX_CMD_FAILED:
        if (e && e == m->content) /* the screen share's transport: the camera goes on */
            tsr_mix_content_failed(m, c->text);
        else if (e && m->params.on_failed)
            m->params.on_failed(m->params.user, e->pid, c->text);
        break;
    case MIX_CMD_OUTPUT_ADD:
    case MIX_CMD_OUTPUT_REMOVE:
        tsr_mix_outputs_video_cmd(m, c);
        break;
    case MIX_CMD_CONTENT:
        tsr_mix_content_cmd(m, c);
        break;
    case MIX_CMD_STOP:
        break;
    }
}

static void update_stats(struct tsr_conf_mixer *m)
{
    g_mutex_lock(&m->stats_lock);
    m->stats.peers = m->peers->len;
    m->stats.views = m->views->len;
    m->stats.video_ticks++;
    g_mutex_unlock(&m->stats_lock);
}

/* One video tick, with its CPU time (this thread's, plus the pool's jobs for it)
 * counted against the frame period in the conference's share of the video load. */
static void video_tick_metered(struct tsr_conf_mixer *m, int64_t tick_us, int64_t period_us)
{
    int64_t cpu0 = tsr_video_load_thread_cpu_us();
    tsr_mix_video_tick(m, tick_us);
    int64_t busy = tsr_video_load_thread_cpu_us() - cpu0 +
                   atomic_exchange_explicit(&m->tick_worker_cpu_us, 0, memory_order_relaxed);
    tsr_video_load_share_update(&m->load, busy, period_us);
}

/* Video ticks are scheduled on exact multiples of the frame period from the
 * conference's start (the media clock the audio thread shares), so capture times
 * and RTP timestamps advance evenly whatever the wake-up jitter. */
static gpointer mixer_main(gpointer data)
{
    struct tsr_conf_mixer *m = data;
    int64_t video_period = 1000000 / m->params.fps;
    int64_t next_video = m->start_us;
    for (;;) {
        int64_t now = g_get_monotonic_time();
        struct mix_cmd *c = g_async_queue_timeout_pop(m->queue, MAX(0, next_video - now));
        if (c) {
            bool stop = c->type == MIX_CMD_STOP;
            handle_cmd(m, c);
            tsr_mix_cmd_free(c);
            if (stop)
                break;
            continue;
        }
        now = g_get_monotonic_time();
        if (now < next_video)
            continue;
        video_tick_metered(m, next_video, video_period);
        next_video = now - next_video > MAX_LAG_US ? now + video_period : next_video + video_period;
        update_stats(m);
    }
    tsr_video_load_share_clear(&m->load);
    tsr_mix_content_free(m);
    while (m->peers->len)
        handle_remove(m, ((struct mix_peer *)g_ptr_array_index(m->peers, 0))->id);
    tsr_mix_video_free_all(m);
    tsr_mix_outputs_video_free_all(m);
    tsr_mix_labels_free_all(m);
    return NULL;
}

int tsr_conf_mixer_new(struct tsr_conf_mixer **out, const struct tsr_conf_mixer_params *params)
{
    enum tsr_layout_kind kind;
    if (params->canvas_w < 64 || params->canvas_h < 36 ||
        (params->canvas_w | params->canvas_h) & 1 || params->fps < 1 || params->fps > 60 ||
        tsr_layout_parse(params->layout ? params->layout : "grid", &kind) != 0)
        return -EINVAL;
    struct tsr_audio_mixer *audio = NULL;
    int rc = tsr_audio_mixer_new(&audio, &params->audio);
    if (rc)
        return rc;
    struct tsr_conf_mixer *m = calloc(1, sizeof *m);
    if (m) {
        m->log_ctx = strdup(params->log_ctx ? params->log_ctx : "mixer");
        m->stop = tsr_mix_cmd_new(MIX_CMD_STOP, 0, 0);
        m->audio_stop = tsr_mix_cmd_new(MIX_CMD_STOP, 0, 0);
    }
    if (!m || !m->log_ctx || !m->stop || !m->audio_stop) {
        if (m) {
            free(m->log_ctx);
            tsr_mix_cmd_free(m->stop);
            tsr_mix_cmd_free(m->audio_stop);
            free(m);
        }
        tsr_audio_mixer_free(&audio);
        return -ENOMEM;
    }
    m->refs = 1;
    m->params = *params;
    m->params.log_ctx = m->log_ctx;
    m->params.layout = NULL;
    m->params.vaapi_device = params->vaapi_device ? g_intern_string(params->vaapi_device) : NULL;
    m->params.font = params->font ? g_intern_string(params->font) : NULL;
    m->params.font_fallback = params->font_fallback ? g_intern_string(params->font_fallback) : NULL;
    m->layout = kind;
    m->self_view = params->self_view;
    m->audio = audio;
    m->queue = g_async_queue_new();
    m->audio_queue = g_async_queue_new();
    m->peers = g_ptr_array_new();
    m->views = g_ptr_array_new();
    m->audio_peers = g_ptr_array_new();
    m->outputs = g_ptr_array_new();
    m->audio_outputs = g_ptr_array_new();
    m->shared_tiles = g_ptr_array_new();
    m->tick_due = g_ptr_array_new();
    m->tick_jobs = g_ptr_array_new();
    m->encoders =
        g_thread_pool_new(tsr_mix_video_job, m, (gint)g_get_num_processors(), FALSE, NULL);
    g_mutex_init(&m->stats_lock);
    g_mutex_init(&m->talkers_lock);
    g_mutex_init(&m->jobs_lock);
    g_cond_init(&m->jobs_done);
    atomic_init(&m->tick_worker_cpu_us, 0);
    m->load.meter = params->video_load;
    m->start_us = g_get_monotonic_time();
    char name[16];
    g_snprintf(name, sizeof name, "mix-%.10s", m->log_ctx);
    m->thread = g_thread_new(name, mixer_main, m);
    tsr_mix_audio_start(m);
    TSR_LOG(TSR_LOG_INFO, m->log_ctx, "mixer started: %dx%d at %d fps, layout %s", params->canvas_w,
            params->canvas_h, params->fps, tsr_layout_name(kind));
    *out = m;
    return 0;
}

void tsr_conf_mixer_close(struct tsr_conf_mixer *m)
{
    if (!m || g_atomic_int_get(&m->closed))
        return;
    tsr_loop_assert_may_wait("stopping a conference mixer");
    g_async_queue_push(m->queue, g_steal_pointer(&m->stop));
    g_thread_join(m->thread);
    m->thread = NULL;
    tsr_mix_audio_stop(m);
    g_atomic_int_set(&m->closed, 1);
    /* Commands queued after STOP are dropped unrun. */
    struct mix_cmd *c;
    while ((c = g_async_queue_try_pop(m->queue)))
        tsr_mix_cmd_free(c);
    while ((c = g_async_queue_try_pop(m->audio_queue)))
        tsr_mix_cmd_free(c);
    TSR_LOG(TSR_LOG_INFO, m->log_ctx, "mixer stopped");
}

struct tsr_conf_mixer *tsr_conf_mixer_ref(struct tsr_conf_mixer *m)
{
    g_atomic_int_inc(&m->refs);
    return m;
}

void tsr_conf_mixer_unref(struct tsr_conf_mixer **pm)
{
    if (!pm || !*pm)
        return;
    struct tsr_conf_mixer *m = *pm;
    *pm = NULL;
    if (!g_atomic_int_dec_and_test(&m->refs))
        return;
    tsr_conf_mixer_close(m);
    g_async_queue_unref(m->queue);
    g_async_queue_unref(m->audio_queue);
    tsr_loop_assert_may_wait("freeing a conference mixer's encoder pool");
    g_thread_pool_free(m->encoders, FALSE, TRUE);
    g_ptr_array_unref(m->peers);
    g_ptr_array_unref(m->views);
    g_ptr_array_unref(m->shared_tiles); /* emptied by tsr_mix_video_free_all */
    g_ptr_array_unref(m->tick_due);
    g_ptr_array_unref(m->tick_jobs);
    g_ptr_array_unref(m->audio_peers);
    g_ptr_array_unref(m->outputs); /* emptied by the threads as they stopped */
    g_ptr_array_unref(m->audio_outputs);
    tsr_audio_mixer_free(&m->audio);
    g_mutex_clear(&m->stats_lock);
    g_mutex_clear(&m->talkers_lock);
    g_mutex_clear(&m->jobs_lock);
    g_cond_clear(&m->jobs_done);
    tsr_mix_cmd_free(m->stop); /* NULL once sent */
    tsr_mix_cmd_free(m->audio_stop);
    free(m->log_ctx);
    free(m);
    /* A conference's encoders, canvases and frame pools were spread over the
     * arenas of its threads: hand what is free back to the system, so RSS follows
     * the conferences that are live rather than the peak. */
    malloc_trim(0);
}

void tsr_conf_mixer_unref_cb(void *m)
{
    struct tsr_conf_mixer *mm = m;
    tsr_conf_mixer_unref(&mm);
}

/* Posts one command of `type` for `id` to each of the two threads; `fill` (may be
 * NULL) completes each copy from `arg`. */
static void post_both(struct tsr_conf_mixer *m, enum mix_cmd_type type, uint32_t id,
                      void (*fill)(struct mix_cmd *c, const void *arg), const void *arg)
{
    for (int audio = 0; audio < 2; audio++) {
        struct mix_cmd *c = tsr_mix_cmd_new(type, id, 0);
        if (c && fill)
            fill(c, arg);
        if (audio)
            tsr_mix_audio_post(m, c);
        else
            post(m, c);
    }
}

struct add_arg {
    struct tsr_media_peer *peer;
    const char *participant_id;
};

static void fill_add(struct mix_cmd *c, const void *arg)
{
    const struct add_arg *a = arg;
    c->peer = tsr_media_peer_ref(a->peer);
    c->text = strdup(a->participant_id ? a->participant_id : "");
}

void tsr_conf_mixer_add_peer(struct tsr_conf_mixer *m, struct tsr_media_peer *peer,
                             const char *participant_id)
{
    struct add_arg a = {peer, participant_id};
    post_both(m, MIX_CMD_ADD, tsr_media_peer_id(peer), fill_add, &a);
}

void tsr_conf_mixer_set_name(struct tsr_conf_mixer *m, uint32_t peer_id, const char *name)
{
    struct mix_cmd *c = tsr_mix_cmd_new(MIX_CMD_NAME, peer_id, 0);
    if (c && !(c->text = strdup(name ? name : ""))) {
        tsr_mix_cmd_free(c);
        c = NULL;
    }
    post(m, c);
}

void tsr_conf_mixer_remove_peer(struct tsr_conf_mixer *m, uint32_t peer_id)
{
    post_both(m, MIX_CMD_REMOVE, peer_id, NULL, NULL);
}

void tsr_conf_mixer_set_layout(struct tsr_conf_mixer *m, const char *layout)
{
    struct mix_cmd *c = tsr_mix_cmd_new(MIX_CMD_LAYOUT, 0, 0);
    if (c)
        c->text = strdup(layout ? layout : "");
    post(m, c);
}

void tsr_conf_mixer_set_spotlight(struct tsr_conf_mixer *m, const uint32_t *peer_ids, size_t n)
{
    n = MIN(n, TSR_CONF_MIXER_SPOTLIGHT_MAX);
    struct mix_cmd *c = tsr_mix_cmd_new(MIX_CMD_SPOTLIGHT, (uint32_t)n, n * sizeof peer_ids[0]);
    if (c && n)
        memcpy(c->bytes, peer_ids, n * sizeof peer_ids[0]);
    post(m, c);
}

void tsr_conf_mixer_set_self_view(struct tsr_conf_mixer *m, bool on)
{
    struct mix_cmd *c = tsr_mix_cmd_new(MIX_CMD_SELF_VIEW, 0, 0);
    if (c)
        c->a = on;
    post(m, c);
}

void tsr_conf_mixer_set_content(struct tsr_conf_mixer *m, struct tsr_media_peer *peer,
                                const char *participant_id)
{
    struct mix_cmd *c = tsr_mix_cmd_new(MIX_CMD_CONTENT, tsr_media_peer_id(peer), 0);
    if (c) {
        c->peer = tsr_media_peer_ref(peer);
        c->text = strdup(participant_id ? participant_id : "");
    }
    post(m, c);
}

void tsr_conf_mixer_clear_content(struct tsr_conf_mixer *m, uint32_t peer_id)
{
    post(m, tsr_mix_cmd_new(MIX_CMD_CONTENT, peer_id, 0));
}

static void fill_mute(struct mix_cmd *c, const void *arg)
{
    const bool *muted = arg; /* audio, video */
    c->a = muted[0];
    c->b = muted[1];
}

void tsr_conf_mixer_set_muted(struct tsr_conf_mixer *m, uint32_t peer_id, bool audio_muted,
                              bool video_muted)
{
    bool muted[2] = {audio_muted, video_muted};
    post_both(m, MIX_CMD_MUTE, peer_id, fill_mute, muted);
}

static void fill_output(struct mix_cmd *c, const void *arg)
{
    c->output = tsr_output_ref((struct tsr_output *)arg);
}

void tsr_conf_mixer_add_output(struct tsr_conf_mixer *m, struct tsr_output *out)
{
    post_both(m, MIX_CMD_OUTPUT_ADD, tsr_output_id(out), fill_output, out);
}

void tsr_conf_mixer_remove_output(struct tsr_conf_mixer *m, uint32_t output_id)
{
    post_both(m, MIX_CMD_OUTPUT_REMOVE, output_id, NULL, NULL);
}

void tsr_conf_mixer_get_stats(struct tsr_conf_mixer *m, struct tsr_conf_mixer_stats *out)
{
    g_mutex_lock(&m->stats_lock);
    *out = m->stats;
    g_mutex_unlock(&m->stats_lock);
}

/* ---- the sink peers report to (their net loops) ---- */

static void sink_audio(void *user, uint32_t peer_id, const struct tsr_audio_packet *pkt)
{
    struct tsr_conf_mixer *m = user;
    if (pkt->len_bytes > 1500)
        return;
    struct mix_cmd *c = tsr_mix_cmd_new(MIX_CMD_AUDIO, peer_id, pkt->len_bytes);
    if (!c) {
        tsr_mix_count_lost_command();
        return;
    }
    c->pkt = *pkt;
    memcpy(c->bytes, pkt->data, pkt->len_bytes);
    c->pkt.data = c->bytes;
    c->at_us = g_get_monotonic_time();
    tsr_mix_audio_post(m, c);
}

static void sink_keyframe(void *user, uint32_t peer_id)
{
    post(user, tsr_mix_cmd_new(MIX_CMD_KEYFRAME, peer_id, 0));
}

static void sink_failed(void *user, uint32_t peer_id, const char *why)
{
    struct mix_cmd *c = tsr_mix_cmd_new(MIX_CMD_FAILED, peer_id, 0);
    if (c)
        c->text = strdup(why ? why : "");
    post(user, c);
}

const struct tsr_media_peer_sink tsr_conf_mixer_peer_sink = {
    .on_audio = sink_audio,
    .on_keyframe_request = sink_keyframe,
    .on_failed = sink_failed,
};
