/* The video half of the conference mixer: which view each participant receives,
 * laying out and composing each view, encoding it once per codec, and handing
 * every subscriber the same packetized frame. Mixer thread only. */
#include "conference_mixer_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <string.h>

#define MIN_ENCODE_INTERVAL_US 200000 /* keep ≥ 5 fps flowing when nothing moves */

static void vgroup_fini(struct mix_vgroup *g)
{
    tsr_encoder_group_free(&g->group);
    tsr_rtp_packetizer_free(&g->packetizer);
    tsr_rtp_packetized_unref(&g->last);
    g->subscribers = 0;
}

static void view_free(struct mix_view *v)
{
    for (int c = 0; c < MIXER_GROUPS; c++)
        vgroup_fini(&v->groups[c]);
    tsr_mix_view_free_fitted(v);
    tsr_compositor_free(&v->comp);
    free(v);
}

static struct mix_view *view_get(struct tsr_conf_mixer *m, uint32_t exclude_id, bool create)
{
    for (guint i = 0; i < m->views->len; i++) {
        struct mix_view *v = g_ptr_array_index(m->views, i);
        if (v->exclude_id == exclude_id)
            return v;
    }
    if (!create)
        return NULL;
    struct tsr_compositor_params cp = {.width = m->params.canvas_w,
                                       .height = m->params.canvas_h,
                                       .format = TSR_COMPOSITOR_FORMAT_I420,
                                       .background_rgb = m->params.background_rgb,
                                       .kernels = TSR_COMPOSITOR_KERNELS_FAST,
                                       .backend = m->params.compositor};
    struct mix_view *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->exclude_id = exclude_id;
    if (tsr_compositor_new(&v->comp, &cp) != 0) {
        free(v);
        return NULL;
    }
    for (int c = 0; c < MIXER_GROUPS; c++) {
        v->groups[c].view = v;
        v->groups[c].codec = (enum tsr_video_codec)(c / MIXER_TIERS);
        v->groups[c].tier = c % MIXER_TIERS;
        v->groups[c].fmt =
            (struct tsr_video_format){m->params.canvas_w, m->params.canvas_h, m->params.fps};
    }
    g_ptr_array_add(m->views, v);
    return v;
}

/* The encoder group's callback: packetize each frame once, then fan out. */
static void on_group_packet(void *user, const AVPacket *pkt)
{
    struct mix_peer *e = user;
    struct mix_vgroup *g = e->group;
    if (!g->last || g->last_pts != pkt->pts) {
        tsr_rtp_packetized_unref(&g->last);
        int rc = tsr_rtp_packetizer_run(g->packetizer, pkt->data, (size_t)pkt->size, 0,
                                        g->view->capture_us, (pkt->flags & AV_PKT_FLAG_KEY) != 0,
                                        &g->last);
        if (rc) {
            /* Mode 0: a NAL unit over a packet (the encoder's slice limit failed). */
            TSR_LOG_RL(TSR_LOG_WARN, e->pid, 5000, "frame not packetized: %s", tsr_strerror(rc));
            tsr_counter_inc(tsr_metrics_counter("tessera_video_packetize_errors_total", NULL,
                                                "Encoded composite frames not packetized."));
            return;
        }
        g->last_pts = pkt->pts;
    }
    tsr_media_peer_send_video(e->peer, g->codec, g->single_nal, g->last);
}

int tsr_mix_vgroup_open(struct tsr_conf_mixer *m, struct mix_vgroup *g)
{
    if (g->group)
        return 0;
    char ctx[96];
    g_snprintf(ctx, sizeof ctx, "%s/view-%08x/%s/tier%d", m->log_ctx, g->view->exclude_id,
               tsr_video_codec_name(g->codec), g->tier);
    if (g->fitted)
        g_snprintf(ctx + strlen(ctx), sizeof ctx - strlen(ctx), "/%dx%d@%d%s/%" G_GINT64_FORMAT "k",
                   g->fmt.width, g->fmt.height, g->fmt.fps, g->single_nal ? "/mode0" : "",
                   tsr_mix_vgroup_bitrate(m, g, m->params.video_bitrate_bps) / 1000);
    struct tsr_encoder_group_params gp = {
        .key = {.codec = g->codec,
                .width = g->fmt.width,
                .height = g->fmt.height,
                .tier = g->tier,
                .single_nal = g->single_nal},
        .fps = g->fmt.fps,
        .bitrate_bps = tsr_mix_vgroup_bitrate(
            m, g, g->tier ? m->params.video_bitrate_bps / 3 : m->params.video_bitrate_bps),
        .backend = m->params.backend,
        .vaapi_device = m->params.vaapi_device,
        .keyframe_min_interval_ms = m->params.keyframe_min_interval_ms,
        .log_ctx = ctx,
    };
    int rc = tsr_encoder_group_new(&g->group, &gp);
    const struct tsr_rtp_codec *pay = g->codec != TSR_VIDEO_CODEC_H264 ? &tsr_rtp_codec_vp8
                                      : g->single_nal                  ? &tsr_rtp_codec_h264_single
                                                                       : &tsr_rtp_codec_h264;
    if (rc == 0)
        rc = tsr_rtp_packetizer_new(&g->packetizer, pay);
    if (rc == 0 && g->fitted)
        TSR_LOG(TSR_LOG_INFO, ctx,
                "encoder for receivers that decode at most this size and rate, or take at most "
                "this bit rate");
    if (rc) {
        TSR_LOG(TSR_LOG_ERROR, ctx, "cannot open the view's encoder: %s", tsr_strerror(rc));
        vgroup_fini(g);
    }
    return rc;
}

void tsr_mix_vgroup_release(struct mix_vgroup *g, uint64_t sub_id)
{
    if (g->group)
        tsr_encoder_group_unsubscribe(g->group, sub_id);
    if (g->subscribers && --g->subscribers == 0) {
        vgroup_fini(g);
        tsr_mix_vgroup_drop_if_unused(g);
    }
}

void tsr_mix_video_detach(struct tsr_conf_mixer *m, struct mix_peer *e)
{
    (void)m;
    struct mix_vgroup *g = e->group;
    if (!g)
        return;
    tsr_mix_vgroup_release(g, e->sub_id);
    e->view = NULL;
    e->group = NULL;
}

/* Subscribes e to the encoder of view `exclude_id` at its codec and tier. A move
 * costs the receiver one keyframe (the new encoder's first frame), nothing else:
 * its SSRC, sequence numbers and timestamps are its own (rtp_stream_out). */
static void attach_to_view(struct tsr_conf_mixer *m, struct mix_peer *e, uint32_t exclude_id)
{
    if (e->group && e->view->exclude_id == exclude_id && e->group->tier == e->tier &&
        e->group->max_bps == e->max_bps)
        return;
    tsr_mix_video_detach(m, e);
    struct mix_view *v = view_get(m, exclude_id, true);
    struct mix_vgroup *g = v ? tsr_mix_view_group_for(m, v, e) : NULL;
    if (!g || tsr_mix_vgroup_open(m, g) != 0 ||
        tsr_encoder_group_subscribe(g->group, on_group_packet, e, &e->sub_id) != 0) {
        tsr_mix_vgroup_drop_if_unused(g);
        return;
    }
    g->subscribers++;
    e->view = v;
    e->group = g;
    v->keyframe_wanted = true;
}

void tsr_mix_video_keyframe(struct tsr_conf_mixer *m, struct mix_peer *e)
{
    (void)m;
    if (e->group && e->group->group) {
        tsr_encoder_group_request_keyframe(e->group->group, e->sub_id, g_get_monotonic_time());
        e->view->keyframe_wanted = true;
    }
}

#define TIER_GRACE_US 5000000    /* the browser's estimator settles after joining */
#define TIER_DEMOTE_US 3000000   /* congested this long: go down */
#define TIER_PROMOTE_US 10000000 /* uncongested this long on the low tier: try the top again */
#define TIER_MIN_RATE_BPS 64000  /* below this, estimates are noise */
#define CAP_HOLD_US 2000000      /* a capped receiver moves at most this often */

/* The receiver's REMB picks its tier. REMB only estimates what the link can carry
 * when the link is the limit; when we send little (a still picture encodes to a
 * few kb/s) it just follows ~1.5x what arrives. So a receiver is congested when
 * its estimate falls below what it is actually sent, not below the tier's target.
 * Going back up is a probe after a calm period, with hold times against flapping. */
static void count_switch(void)
{
    tsr_counter_inc(tsr_metrics_counter(
        "tessera_bitrate_tier_switches_total", NULL,
        "Receivers moved between bitrate tiers or rate steps by their REMB, TMMBR or b= limit."));
}

static void switch_tier(struct tsr_conf_mixer *m, struct mix_peer *e, int want, const char *why,
                        int64_t said_bps, int64_t sent_bps)
{
    TSR_LOG(TSR_LOG_INFO, m->log_ctx,
            "%s: %s %" G_GINT64_FORMAT " kb/s for %" G_GINT64_FORMAT
            " kb/s sent, moving to bitrate tier %d",
            e->pid, why, said_bps / 1000, sent_bps / 1000, want);
    count_switch();
    e->tier = want;
    e->low_since_us = e->high_since_us = 0;
}

/* Holds e's encoder at `step` under a signalled limit (0: none), with its decoder's
 * own limit still applying; the next attach_to_view moves it to that group. */
static void set_cap_step(struct tsr_conf_mixer *m, struct mix_peer *e, int64_t step,
                         const char *why, int64_t cap, int64_t sent)
{
    TSR_LOG(TSR_LOG_INFO, m->log_ctx,
            "%s: %s %" G_GINT64_FORMAT " kb/s, %" G_GINT64_FORMAT
            " kb/s sent: its encoder now at %s%" G_GINT64_FORMAT " kb/s",
            e->pid, why, cap / 1000, sent / 1000, step ? "" : "the top rate, ",
            (step ? step : m->params.video_bitrate_bps) / 1000);
    count_switch();
    e->cap_step_bps = step;
    e->max_bps = step && (!e->level_bps || step < e->level_bps) ? step : e->level_bps;
    e->tier = 0;
    e->low_since_us = e->high_since_us = 0;
}

/* A limit the receiver signalled (SIP b=TIAS / b=AS, RTCP TMMBR) is not an
 * estimate: below the top rate the first one takes at once (no grace) an encoder
 * at the rate step under the limit (tsr_mix_rate_step), shared with receivers on
 * the same step, kept while the limit stands; REMB is not consulted meanwhile.
 * Each move costs the receiver a keyframe and may open an encoder, so a capped
 * receiver moves at most every CAP_HOLD_US (a caller sending TMMBR after TMMBR
 * cannot make the mixer churn encoders), a rising limit must clear the next
 * step, or the top rate, by a tenth (one wobbling around a boundary stays put).
 * Returns true when the limit decided. */
static bool capped_tier(struct tsr_conf_mixer *m, struct mix_peer *e, int64_t now)
{
    int64_t cap = tsr_media_peer_video_cap_bps(e->peer);
    int64_t sent = tsr_media_peer_video_send_bps(e->peer);
    int64_t top = m->params.video_bitrate_bps;
    bool held = e->capped && now - e->cap_moved_us < CAP_HOLD_US;
    if (e->capped && cap >= top && cap < top + top / 10)
        return true; /* just over the top: where it is */
    if (cap <= 0 || cap >= top) {
        if (e->capped && !held) { /* lifted: back to the top; REMB, if any, goes on */
            set_cap_step(m, e, 0, "signalled limit lifted to", cap, sent);
            e->capped = false;
            e->cap_moved_us = now;
        }
        return e->capped;
    }
    int64_t step = tsr_mix_rate_step(cap);
    if (e->capped && step > e->cap_step_bps && tsr_mix_rate_step(cap * 10 / 11) <= e->cap_step_bps)
        step = e->cap_step_bps;
    if (!e->capped || (step != e->cap_step_bps && !held)) {
        set_cap_step(m, e, step, "signalled limit", cap, sent);
        e->cap_moved_us = now;
    }
    e->capped = true;
    return true;
}

static void choose_tier(struct tsr_conf_mixer *m, struct mix_peer *e, int64_t now)
{
    if (capped_tier(m, e, now))
        return;
    int64_t est = tsr_media_peer_receive_estimate_bps(e->peer);
    int64_t sent = tsr_media_peer_video_send_bps(e->peer);
    int64_t top = m->params.video_bitrate_bps;
    if (est <= 0 || now - e->joined_us < TIER_GRACE_US)
        return;
    /* Moving down only helps when it lowers the rate: above the low tier's target. */
    bool congested = sent > MAX(top / 3, TIER_MIN_RATE_BPS) && est < sent * 8 / 10;
    e->low_since_us = congested ? (e->low_since_us ? e->low_since_us : now) : 0;
    e->high_since_us = congested ? 0 : (e->high_since_us ? e->high_since_us : now);
    int want = e->tier;
    if (e->tier == 0 && e->low_since_us && now - e->low_since_us >= TIER_DEMOTE_US)
        want = 1;
    else if (e->tier == 1 && e->high_since_us && now - e->high_since_us >= TIER_PROMOTE_US)
        want = 0;
    if (want != e->tier)
        switch_tier(m, e, want, "downlink estimate", est, sent);
}

/* Spotlighted participants first (earliest pin first), then talkers (dominant
 * first), then everyone else in join order (tsr_layout_order). */
static size_t speaker_order(struct tsr_conf_mixer *m, uint32_t exclude, uint32_t *ids, size_t cap)
{
    uint32_t present[1000]; /* [conferences] max_participants is at most 1000 */
    size_t n_present = 0;
    for (guint i = 0; i < m->peers->len && n_present < G_N_ELEMENTS(present); i++)
        present[n_present++] = ((const struct mix_peer *)g_ptr_array_index(m->peers, i))->id;
    return tsr_layout_order(present, n_present, m->spotlight, m->n_spotlight, m->talkers,
                            m->n_talkers, exclude, ids, cap);
}

static int layout_view(struct tsr_conf_mixer *m, struct mix_view *v, bool *changed)
{
    uint32_t ids[64];
    size_t n = speaker_order(m, v->exclude_id, ids, G_N_ELEMENTS(ids));
    struct tsr_layout_params lp = {.kind = m->layout,
                                   .canvas_w = m->params.canvas_w,
                                   .canvas_h = m->params.canvas_h,
                                   .gap_px = m->params.gap_px};
    tsr_mix_content_layout(m, &lp);
    struct tsr_layout_tile tiles[TSR_LAYOUT_MAX_TILES];
    size_t nt = 0;
    int rc = tsr_layout_compute(&lp, ids, n, v->tiles, v->n_tiles, tiles, &nt);
    if (rc)
        return rc;
    *changed = nt != v->n_tiles || memcmp(tiles, v->tiles, nt * sizeof tiles[0]) != 0;
    if (*changed)
        memset(v->shown_seq, 0, sizeof v->shown_seq);
    memcpy(v->tiles, tiles, nt * sizeof tiles[0]);
    v->n_tiles = nt;
    return 0;
}

/* Gathers each tile's source (the peers' tick frames, and the shared tile when it
 * holds that picture); true when any tile needs redrawing. */
static bool gather_sources(struct tsr_conf_mixer *m, struct mix_view *v,
                           struct tsr_compositor_source *src)
{
    bool any = false;
    for (size_t i = 0; i < v->n_tiles; i++) {
        const struct mix_peer *e = tsr_mix_find(m, v->tiles[i].participant_id);
        bool has = e && e->tick_frame;
        uint64_t seq = has ? e->tick_seq : 0;
        bool changed = has ? (!v->shown_video[i] || seq != v->shown_seq[i]) : v->shown_video[i];
        v->shown_video[i] = has;
        v->shown_seq[i] = seq;
        const struct tsr_compositor_overlay *ov = &v->tick_overlay[i];
        uint64_t ov_key = (ov->name ? ov->name->serial : 0) * 31 +
                          (ov->initials ? ov->initials->serial : 0) * 7 + ov->highlight * 2u +
                          ov->mic_muted;
        changed |= ov_key != v->shown_overlay[i]; /* the compositor redraws it too */
        v->shown_overlay[i] = ov_key;
        const struct mix_shared_tile *st = has ? v->tick_shared[i] : NULL;
        bool shared = st && st->ok && st->seq == seq; /* holds this very picture */
        src[i] = (struct tsr_compositor_source){.frame = has ? e->tick_frame : NULL,
                                                .changed = changed,
                                                .scaled = shared ? st->tile : NULL,
                                                .overlay = &v->tick_overlay[i]};
        any |= changed;
    }
    return any;
}

static void encode_view(struct tsr_conf_mixer *m, struct mix_view *v, AVFrame *canvas,
                        int64_t now_us)
{
    canvas->pts = (now_us - m->start_us) * 9 / 100; /* 90 kHz */
    v->capture_us = now_us;
    for (size_t c = 0; c < tsr_mix_view_n_groups(v); c++) {
        struct mix_vgroup *g = tsr_mix_view_group(v, c);
        const AVFrame *picture = NULL;
        if (!g->group || !g->subscribers || !tsr_mix_vgroup_due(m, g, now_us) ||
            tsr_mix_vgroup_picture(m, g, canvas, now_us, &picture) != 0)
            continue;
        /* encode time is counted by the encoder (tessera_encode_microseconds_total{codec}) */
        int rc = tsr_encoder_group_encode(g->group, picture, now_us);
        if (rc)
            TSR_LOG_RL(TSR_LOG_WARN, m->log_ctx, 5000, "view encode failed: %s", tsr_strerror(rc));
        g_mutex_lock(&m->stats_lock);
        m->stats.video_frames_encoded += rc == 0;
        g_mutex_unlock(&m->stats_lock);
    }
    v->last_encode_us = now_us;
    v->keyframe_wanted = false;
}

static void render_view(struct tsr_conf_mixer *m, struct mix_view *v, bool layout_changed,
                        int64_t now_us)
{
    struct tsr_compositor_source src[TSR_LAYOUT_MAX_TILES];
    bool changed = gather_sources(m, v, src) || layout_changed;
    if (changed || v->keyframe_wanted || now_us - v->last_encode_us >= MIN_ENCODE_INTERVAL_US) {
        AVFrame *canvas = NULL;
        int rc = tsr_compositor_render(v->comp, v->tiles, src, v->n_tiles, &canvas);
        if (rc == 0)
            encode_view(m, v, canvas, now_us);
        else
            TSR_LOG_RL(TSR_LOG_WARN, m->log_ctx, 5000, "compose failed: %s", tsr_strerror(rc));
        av_frame_free(&canvas);
    }
}

static bool view_has_subscribers(struct mix_view *v)
{
    for (size_t c = 0; c < tsr_mix_view_n_groups(v); c++)
        if (tsr_mix_view_group(v, c)->subscribers)
            return true;
    return false;
}

/* Whether `id` needs a view without itself: it is shown in the shared view in a
 * tile big enough that seeing oneself there would be odd (a quarter of a 2x2 grid,
 * the speaker's large tile). In the small tiles of a large conference's strip it
 * sees the shared view, self included, as in a gallery: one conference of 100 then
 * needs a couple of encoders instead of one per visible participant (23 in 1:21),
 * which is what lets it run on one core. */
static bool needs_personal_view(const struct tsr_conf_mixer *m, const struct mix_view *v,
                                uint32_t id)
{
    int64_t canvas = (int64_t)m->params.canvas_w * m->params.canvas_h;
    if (m->self_view)
        return false; /* the host chose that everyone sees the same picture */
    for (size_t i = 0; i < v->n_tiles; i++)
        if (v->tiles[i].participant_id == id)
            return (int64_t)v->tiles[i].w * v->tiles[i].h * 100 >=
                   canvas * m->params.personal_view_min_tile_pct;
    return false;
}

/* Asks each camera for about what its largest tile needs (~3 bit/pixel/s). */
static void update_send_hints(struct tsr_conf_mixer *m)
{
    for (guint i = 0; i < m->peers->len; i++) {
        struct mix_peer *e = g_ptr_array_index(m->peers, i);
        int64_t area = 0;
        for (guint k = 0; k < m->views->len; k++) {
            const struct mix_view *v = g_ptr_array_index(m->views, k);
            for (size_t t = 0; t < v->n_tiles; t++)
                if (v->tiles[t].participant_id == e->id)
                    area = MAX(area, (int64_t)v->tiles[t].w * v->tiles[t].h);
        }
        tsr_media_peer_set_send_hint_bps(e->peer, CLAMP(area * 3, 100000, 2500000));
        tsr_media_peer_set_shown(e->peer, area > 0);
    }
}

/* Second phase: one view's compose + encode. Views share nothing mutable (each has
 * its compositor, encoders and packetizers; peers and shared tiles are read-only
 * in this phase, and the peers' send calls are thread-safe). */
static void render_job(struct tsr_conf_mixer *m, void *arg)
{
    struct mix_view *v = arg;
    render_view(m, v, v->tick_layout_changed, v->tick_now_us);
}

void tsr_mix_video_job(gpointer job, gpointer mixer)
{
    struct tsr_conf_mixer *m = mixer;
    struct mix_job *j = job;
    int64_t cpu0 = tsr_video_load_thread_cpu_us();
    j->run(m, j->arg);
    atomic_fetch_add_explicit(&m->tick_worker_cpu_us, tsr_video_load_thread_cpu_us() - cpu0,
                              memory_order_relaxed);
    g_mutex_lock(&m->jobs_lock);
    if (--m->jobs_pending == 0)
        g_cond_signal(&m->jobs_done);
    g_mutex_unlock(&m->jobs_lock);
}

/* One fork-join phase: runs `jobs` (struct mix_job*) in parallel on the worker pool
 * when there are several, waits for all of them, and empties the array. */
static void run_jobs(struct tsr_conf_mixer *m, GPtrArray *jobs)
{
    if (jobs->len == 1) {
        struct mix_job *j = g_ptr_array_index(jobs, 0);
        j->run(m, j->arg);
    } else if (jobs->len > 1) {
        g_mutex_lock(&m->jobs_lock);
        m->jobs_pending = (int)jobs->len;
        g_mutex_unlock(&m->jobs_lock);
        for (guint i = 0; i < jobs->len; i++)
            g_thread_pool_push(m->encoders, g_ptr_array_index(jobs, i), NULL);
        g_mutex_lock(&m->jobs_lock);
        while (m->jobs_pending > 0)
            g_cond_wait(&m->jobs_done, &m->jobs_lock);
        g_mutex_unlock(&m->jobs_lock);
    }
    g_ptr_array_set_size(jobs, 0);
}

/* Whether e has sent nothing for the media timeout: a crashed browser or a lost
 * network. Its frozen last picture would mislead, so its tile turns into a
 * "reconnecting" placeholder until packets come back or the consent timeout
 * removes it. Logged on each change. */
static bool stalled(struct tsr_conf_mixer *m, struct mix_peer *e, int64_t now)
{
    int64_t timeout = m->params.media_timeout_ms * 1000, last = tsr_media_peer_last_rx_us(e->peer);
    bool s = timeout > 0 && last > 0 && now - last > timeout; /* joining is not stalling */
    if (s != e->stalled)
        TSR_LOG(TSR_LOG_INFO, m->log_ctx, "%s: %s", e->pid,
                s ? "no packets: shown as reconnecting" : "packets again: shown");
    e->stalled = s;
    return s;
}

/* Every peer a due view shows gets its latest picture once for this tick. */
static void take_frames(struct tsr_conf_mixer *m, GPtrArray *due)
{
    int64_t now = g_get_monotonic_time();
    for (guint k = 0; k < due->len; k++) {
        const struct mix_view *v = g_ptr_array_index(due, k);
        for (size_t i = 0; i < v->n_tiles; i++) {
            struct mix_peer *e = tsr_mix_find(m, v->tiles[i].participant_id);
            if (!e || e->tick_taken)
                continue;
            e->tick_taken = true;
            if (!stalled(m, e, now) && e->has_video && !e->video_muted &&
                tsr_media_peer_latest_video(e->peer, &e->tick_frame, &e->tick_seq) != 0)
                e->tick_frame = NULL;
        }
    }
}

static void release_frames(struct tsr_conf_mixer *m)
{
    if (m->content) {
        av_frame_free(&m->content->tick_frame);
        m->content->tick_taken = false;
    }
    for (guint i = 0; i < m->peers->len; i++) {
        struct mix_peer *e = g_ptr_array_index(m->peers, i);
        av_frame_free(&e->tick_frame);
        e->tick_taken = false;
    }
}

/* Composes and encodes every due view: first the tiles several views share are
 * scaled (once each), then the views compose from them and encode, each phase in
 * parallel on the worker pool. */
static void render_views(struct tsr_conf_mixer *m, GPtrArray *due)
{
    take_frames(m, due);
    tsr_mix_labels_plan(m, due);
    tsr_mix_tiles_plan(m, due, m->tick_jobs);
    run_jobs(m, m->tick_jobs);
    for (guint i = 0; i < due->len; i++) {
        struct mix_view *v = g_ptr_array_index(due, i);
        v->job = (struct mix_job){.run = render_job, .arg = v};
        g_ptr_array_add(m->tick_jobs, &v->job);
    }
    run_jobs(m, m->tick_jobs);
    release_frames(m);
}

void tsr_mix_video_count_encoders(struct tsr_conf_mixer *m)
{
    size_t n[2] = {0, 0}; /* software, vaapi */
    for (guint i = 0; i < m->views->len; i++) {
        struct mix_view *v = g_ptr_array_index(m->views, i);
        for (size_t c = 0; c < tsr_mix_view_n_groups(v); c++) {
            struct mix_vgroup *g = tsr_mix_view_group(v, c);
            if (!g->group)
                continue;
            struct tsr_video_encoder *enc = tsr_encoder_group_encoder(g->group);
            n[tsr_video_encoder_backend(enc) == TSR_ENCODER_BACKEND_VAAPI]++;
        }
    }
    static const char *const labels[2] = {"backend=\"software\"", "backend=\"vaapi\""};
    for (int b = 0; b < 2; b++) {
        tsr_gauge_add(tsr_metrics_gauge("tessera_video_encoders", labels[b],
                                        "Live composite video encoders, by backend."),
                      (double)n[b] - (double)m->gauge_encoders[b]);
        m->gauge_encoders[b] = n[b];
    }
    g_mutex_lock(&m->stats_lock);
    m->stats.video_encoders = n[0] + n[1];
    g_mutex_unlock(&m->stats_lock);
}

void tsr_mix_video_tick(struct tsr_conf_mixer *m, int64_t now_us)
{
    if (m->peers->len == 0) {
        tsr_mix_video_free_all(m);
        return;
    }
    g_mutex_lock(&m->talkers_lock);
    m->n_talkers = m->n_talkers_shared;
    memcpy(m->talkers, m->talkers_shared, m->n_talkers * sizeof m->talkers[0]);
    g_mutex_unlock(&m->talkers_lock);
    struct mix_view *common = view_get(m, 0, true);
    bool common_changed = false;
    if (!common || layout_view(m, common, &common_changed) != 0)
        return;
    for (guint i = 0; i < m->peers->len; i++) {
        struct mix_peer *e = g_ptr_array_index(m->peers, i);
        if (!e->has_video)
            continue;
        choose_tier(m, e, now_us);
        attach_to_view(m, e, needs_personal_view(m, common, e->id) ? e->id : 0);
    }
    tsr_mix_outputs_video_tick(m, common, now_us);
    GPtrArray *due = m->tick_due;
    for (guint i = 0; i < m->views->len;) {
        struct mix_view *v = g_ptr_array_index(m->views, i);
        bool changed = common_changed;
        if (v != common && !view_has_subscribers(v)) {
            g_ptr_array_remove_index(m->views, i);
            view_free(v);
            continue;
        }
        if ((v == common || layout_view(m, v, &changed) == 0) && view_has_subscribers(v)) {
            v->tick_layout_changed = changed;
            v->tick_now_us = now_us;
            g_ptr_array_add(due, v);
        }
        i++;
    }
    if (due->len)
        render_views(m, due);
    g_ptr_array_set_size(due, 0);
    update_send_hints(m);
    tsr_mix_content_hint(m);
    tsr_mix_video_count_encoders(m);
}

void tsr_mix_video_free_all(struct tsr_conf_mixer *m)
{
    tsr_mix_tiles_free_all(m);
    tsr_mix_outputs_video_forget(m);
    if (m->views->len == 0)
        return;
    for (guint i = 0; i < m->peers->len; i++) {
        struct mix_peer *e = g_ptr_array_index(m->peers, i);
        e->view = NULL;
        e->group = NULL;
    }
    while (m->views->len) {
        struct mix_view *v = g_ptr_array_index(m->views, m->views->len - 1);
        g_ptr_array_remove_index(m->views, m->views->len - 1);
        view_free(v);
    }
    tsr_mix_video_count_encoders(m);
}
