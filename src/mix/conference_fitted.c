/* Encoder groups for receivers whose decoders take less than the canvas: a SIP
 * endpoint's H.264 max-fs / max-mbps or level (tessera/video_limits.h) and
 * packetization-mode 0. Each such group encodes the view's canvas scaled to its
 * size (libyuv, once per size per canvas, shared by the view's groups of that
 * size) at its rate (canvas ticks skipped), and is shared by every receiver with
 * the same codec, tier, size, rate and mode. Mixer thread (lookups) and the
 * view's render job (pictures). */
#include "conference_mixer_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <errno.h>
#include <libyuv/scale.h>

size_t tsr_mix_view_n_groups(const struct mix_view *v)
{
    return MIXER_GROUPS + (v->fitted ? v->fitted->len : 0);
}

struct mix_vgroup *tsr_mix_view_group(struct mix_view *v, size_t i)
{
    return i < MIXER_GROUPS ? &v->groups[i] : g_ptr_array_index(v->fitted, i - MIXER_GROUPS);
}

static bool same_format(const struct tsr_video_format *a, const struct tsr_video_format *b)
{
    return a->width == b->width && a->height == b->height && a->fps == b->fps;
}

struct mix_vgroup *tsr_mix_view_group_for(struct tsr_conf_mixer *m, struct mix_view *v,
                                          const struct mix_peer *e)
{
    struct tsr_video_format canvas = {m->params.canvas_w, m->params.canvas_h, m->params.fps};
    if (same_format(&e->fmt, &canvas) && !e->single_nal && !e->max_bps)
        return &v->groups[e->codec * MIXER_TIERS + e->tier];
    if (!v->fitted)
        v->fitted = g_ptr_array_new();
    for (guint i = 0; i < v->fitted->len; i++) {
        struct mix_vgroup *g = g_ptr_array_index(v->fitted, i);
        if (g->codec == e->codec && g->tier == e->tier && g->single_nal == e->single_nal &&
            g->max_bps == e->max_bps && same_format(&g->fmt, &e->fmt))
            return g;
    }
    struct mix_vgroup *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    *g = (struct mix_vgroup){.view = v,
                             .codec = e->codec,
                             .tier = e->tier,
                             .fmt = e->fmt,
                             .single_nal = e->single_nal,
                             .max_bps = e->max_bps,
                             .fitted = true};
    g_ptr_array_add(v->fitted, g);
    return g;
}

/* A fitted group's rate follows its pixels a second (a quarter of the canvas's
 * takes a quarter of the bits), but keeps at least a quarter of the tier's rate
 * (small pictures need more bits per pixel to look as good), and stays within
 * what its receivers' decoders take (the H.264 level's MaxBR: 768 kb/s at 1.3;
 * sending more than that is a stream their level does not cover). */
int64_t tsr_mix_vgroup_bitrate(const struct tsr_conf_mixer *m, const struct mix_vgroup *g,
                               int64_t tier_bps)
{
    if (!g->fitted)
        return tier_bps;
    double canvas = (double)m->params.canvas_w * m->params.canvas_h * m->params.fps;
    double mine = (double)g->fmt.width * g->fmt.height * g->fmt.fps;
    int64_t bps = MAX((int64_t)((double)tier_bps * mine / canvas), tier_bps / 4);
    if (g->max_bps > 0)
        bps = MIN(bps, g->max_bps);
    return MAX(bps, 50000); /* the encoders' floor */
}

int64_t tsr_mix_rate_step(int64_t cap_bps)
{
    /* Steps of 1.5x and 4/3 by turns: 64k, 96k, 128k, 192k, … */
    int64_t step = 64000;
    for (int i = 0; i < 40; i++) {
        int64_t next = i % 2 == 0 ? step * 3 / 2 : step * 4 / 3;
        if (next > cap_bps)
            break;
        step = next;
    }
    return step;
}

static void fitted_free(struct mix_vgroup *g)
{
    tsr_encoder_group_free(&g->group);
    tsr_rtp_packetizer_free(&g->packetizer);
    tsr_rtp_packetized_unref(&g->last);
    av_frame_free(&g->scaled);
    free(g);
}

void tsr_mix_vgroup_drop_if_unused(struct mix_vgroup *g)
{
    if (!g || !g->fitted || g->subscribers)
        return;
    g_ptr_array_remove(g->view->fitted, g);
    fitted_free(g);
}

void tsr_mix_view_free_fitted(struct mix_view *v)
{
    if (!v->fitted)
        return;
    for (guint i = 0; i < v->fitted->len; i++)
        fitted_free(g_ptr_array_index(v->fitted, i));
    g_ptr_array_free(v->fitted, TRUE);
    v->fitted = NULL;
}

bool tsr_mix_vgroup_due(struct tsr_conf_mixer *m, struct mix_vgroup *g, int64_t now_us)
{
    if (!g->fitted || g->fmt.fps >= m->params.fps)
        return true;
    if (g->next_due_us && now_us < g->next_due_us)
        return false;
    /* One frame per 1/fps on average: the schedule advances by the interval, and
     * restarts from now after a pause rather than bursting to catch up. */
    int64_t interval = 1000000 / g->fmt.fps;
    if (!g->next_due_us || now_us - g->next_due_us > interval)
        g->next_due_us = now_us + interval;
    else
        g->next_due_us += interval;
    return true;
}

static int scale_into(const AVFrame *canvas, AVFrame *dst)
{
    return I420Scale(canvas->data[0], canvas->linesize[0], canvas->data[1], canvas->linesize[1],
                     canvas->data[2], canvas->linesize[2], canvas->width, canvas->height,
                     dst->data[0], dst->linesize[0], dst->data[1], dst->linesize[1], dst->data[2],
                     dst->linesize[2], dst->width, dst->height, kFilterBox)
               ? -EINVAL
               : 0;
}

/* An earlier group of the view holding this canvas at g's size already. */
static const AVFrame *shared_scaled(struct mix_vgroup *g, int64_t now_us)
{
    struct mix_view *v = g->view;
    for (guint i = 0; v->fitted && i < v->fitted->len; i++) {
        const struct mix_vgroup *o = g_ptr_array_index(v->fitted, i);
        if (o == g)
            break;
        if (o->scaled && o->scaled_us == now_us && o->fmt.width == g->fmt.width &&
            o->fmt.height == g->fmt.height)
            return o->scaled;
    }
    return NULL;
}

static int scale_picture(struct mix_vgroup *g, const AVFrame *canvas, int64_t now_us)
{
    if (canvas->format != AV_PIX_FMT_YUV420P)
        return TSR_ERR_UNSUPPORTED;
    if (!g->scaled) {
        g->scaled = av_frame_alloc();
        if (!g->scaled)
            return -ENOMEM;
        g->scaled->format = AV_PIX_FMT_YUV420P;
        g->scaled->width = g->fmt.width;
        g->scaled->height = g->fmt.height;
        if (av_frame_get_buffer(g->scaled, 0) < 0) {
            av_frame_free(&g->scaled);
            return -ENOMEM;
        }
    }
    /* An encoder may still hold the last one (a reference): write a fresh buffer. */
    if (av_frame_make_writable(g->scaled) < 0)
        return -ENOMEM;
    int rc = scale_into(canvas, g->scaled);
    if (rc == 0) {
        g->scaled->pts = canvas->pts;
        g->scaled_us = now_us;
    }
    return rc;
}

int tsr_mix_vgroup_picture(struct tsr_conf_mixer *m, struct mix_vgroup *g, const AVFrame *canvas,
                           int64_t now_us, const AVFrame **out)
{
    if (g->fmt.width == canvas->width && g->fmt.height == canvas->height) {
        *out = canvas;
        return 0;
    }
    const AVFrame *shared = shared_scaled(g, now_us);
    if (shared) {
        *out = shared;
        return 0;
    }
    int rc = scale_picture(g, canvas, now_us);
    if (rc) {
        TSR_LOG_RL(TSR_LOG_WARN, m->log_ctx, 5000, "cannot scale the canvas to %dx%d: %s",
                   g->fmt.width, g->fmt.height, tsr_strerror(rc));
        tsr_counter_inc(tsr_metrics_counter("tessera_video_scale_errors_total", NULL,
                                            "Canvases not scaled for a receiver's smaller size."));
        return rc;
    }
    *out = g->scaled;
    return 0;
}
