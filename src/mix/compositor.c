/* Compositor: decoded frames -> tiles of one canvas, redrawing only what changed.
 *
 * Each tile is one scale per plane from the source crop straight into the canvas
 * (NV12 sources and NV12 canvases add one split/merge of the tile's chroma through
 * a small scratch buffer: chroma is a quarter of the pixels, and libyuv has no
 * scaler that reads NV12 and writes I420 in one go). Unchanged tiles cost nothing.
 *
 * A shared tile (struct tsr_compositor_tile) runs the same scaling code into its own
 * tile-sized buffer instead of a canvas, so that several canvases showing one source
 * at one size copy rows (memcpy speed) instead of scaling it again each. */
#include <tessera/compositor.h>
#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <libavutil/pixfmt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compositor_gpu.h"
#include "compositor_internal.h"
#include "compositor_kernels.h"

/* What an overlay looked like when its tile was drawn (labels by serial). */
struct overlay_key {
    uint64_t name, initials;
    bool highlight, mic_muted;
};

struct tile_state {
    struct tsr_layout_tile tile;
    bool placeholder;
    struct overlay_key overlay;
};

/* What scaling needs besides the pixels: the kernels and their work buffers (kept
 * between calls, grown only when a larger tile comes). One per compositor and one
 * per shared tile, so shared tiles can be scaled on several threads at once. */
struct scaler {
    const struct tsr_compositor_kernel_ops *ops;
    bool nv12_out;
    uint8_t *scratch;
    size_t scratch_size;
    uint8_t *stage; /* pre-reduced plane for large shrink ratios */
    size_t stage_size;
    uint8_t full_to_limited_y[256], full_to_limited_c[256];
};

/* Where scaled pixels go: the canvas, or a shared tile's buffer. */
struct dst_planes {
    uint8_t *data[3]; /* data[2] unused for NV12 (data[1] holds interleaved UV) */
    int linesize[3];
};

/* Home thread: the conference mixer (caller-serialized). */
struct tsr_compositor {
    struct tsr_compositor_params params;
    struct scaler sc;
    AVFrame *canvas;
    uint8_t bg_y, bg_u, bg_v;
    struct tile_state prev[TSR_LAYOUT_MAX_TILES];
    size_t n_prev;
    bool drawn_once;
    struct tsr_compositor_gpu *gpu; /* NULL: the CPU draws */
    enum tsr_compositor_backend in_use;
    bool counted; /* in the tessera_compositors gauge */
    struct tsr_compositor_stats stats;
    struct overlay_mark mark; /* the muted mark, rasterised once per size */
};

/* Home thread: whoever scales it; read-only while compositors copy from it. */
struct tsr_compositor_tile {
    struct scaler sc;
    enum tsr_compositor_format format;
    uint8_t *buf;
    size_t buf_size;
    struct dst_planes planes; /* into buf: the picture, d.w x d.h */
    bool valid;
    int w, h; /* the tile it was scaled for */
    enum tsr_layout_role role;
    struct rect d;        /* the picture inside the tile (content is letterboxed) */
    const uint8_t *src_y; /* data[0] of the frame scaled: cheap check it is the same picture */
};

void tsr_compositor_rgb_to_yuv(uint32_t rgb, uint8_t *y, uint8_t *u, uint8_t *v)
{
    double r = (rgb >> 16) & 0xff, g = (rgb >> 8) & 0xff, b = rgb & 0xff;
    double yy = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
    double uu = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
    double vv = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
    *y = (uint8_t)lround(yy);
    *u = (uint8_t)lround(uu);
    *v = (uint8_t)lround(vv);
}

uint32_t tsr_compositor_placeholder_rgb(uint32_t id)
{
    /* Integer hash (murmur3 finalizer) -> hue; fixed saturation and value keep
     * placeholders calm and names (later) readable on top of them. */
    uint32_t h = id;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    double hue = (h % 360u) / 60.0, s = 0.45, v = 0.62;
    double c = v * s, x = c * (1.0 - fabs(fmod(hue, 2.0) - 1.0)), m = v - c;
    double r = 0, g = 0, b = 0;
    int sector = (int)hue;
    switch (sector) {
    case 0:
        r = c, g = x;
        break;
    case 1:
        r = x, g = c;
        break;
    case 2:
        g = c, b = x;
        break;
    case 3:
        g = x, b = c;
        break;
    case 4:
        r = x, b = c;
        break;
    default:
        r = c, b = x;
        break;
    }
    return (uint32_t)lround((r + m) * 255) << 16 | (uint32_t)lround((g + m) * 255) << 8 |
           (uint32_t)lround((b + m) * 255);
}

static void fill_rect(struct tsr_compositor *c, struct rect r, uint8_t y, uint8_t u, uint8_t v)
{
    AVFrame *f = c->canvas;
    const struct tsr_compositor_kernel_ops *ops = c->sc.ops;
    ops->fill(f->data[0] + (size_t)r.y * f->linesize[0] + r.x, f->linesize[0], r.w, r.h, y);
    int cx = r.x / 2, cy = r.y / 2, cw = r.w / 2, ch = r.h / 2;
    if (c->params.format == TSR_COMPOSITOR_FORMAT_I420) {
        ops->fill(f->data[1] + (size_t)cy * f->linesize[1] + cx, f->linesize[1], cw, ch, u);
        ops->fill(f->data[2] + (size_t)cy * f->linesize[2] + cx, f->linesize[2], cw, ch, v);
        return;
    }
    if (cw <= 0 || ch <= 0)
        return;
    uint8_t *row0 = f->data[1] + (size_t)cy * f->linesize[1] + 2 * cx;
    for (int i = 0; i < cw; i++) {
        row0[2 * i] = u;
        row0[2 * i + 1] = v;
    }
    for (int j = 1; j < ch; j++)
        memcpy(row0 + (size_t)j * f->linesize[1], row0, (size_t)cw * 2);
}

static bool valid_format(enum tsr_compositor_format f)
{
    return f == TSR_COMPOSITOR_FORMAT_I420 || f == TSR_COMPOSITOR_FORMAT_NV12;
}

static void scaler_init(struct scaler *sc, enum tsr_compositor_kernels k,
                        enum tsr_compositor_format f)
{
    memset(sc, 0, sizeof *sc);
    sc->ops = k == TSR_COMPOSITOR_KERNELS_REFERENCE ? &tsr_compositor_kernels_c
                                                    : &tsr_compositor_kernels_libyuv;
    sc->nv12_out = f == TSR_COMPOSITOR_FORMAT_NV12;
    for (int i = 0; i < 256; i++) {
        sc->full_to_limited_y[i] = (uint8_t)lround(16.0 + i * 219.0 / 255.0);
        sc->full_to_limited_c[i] = (uint8_t)lround(128.0 + (i - 128) * 224.0 / 255.0);
    }
}

static void scaler_fini(struct scaler *sc)
{
    free(sc->scratch);
    free(sc->stage);
    sc->scratch = sc->stage = NULL;
}

static void gauge_backend(const struct tsr_compositor *c, int delta)
{
    const char *label = c->in_use == TSR_COMPOSITOR_BACKEND_VULKAN ? "backend=\"vulkan\""
                                                                   : "backend=\"cpu\"";
    tsr_gauge_add(tsr_metrics_gauge("tessera_compositors", label,
                                    "Live compositors (one per canvas), by backend."),
                  delta);
}

/* auto: the GPU only when it is a real one; vulkan: any Vulkan device. Without one,
 * the CPU (a forced vulkan is warned about once per process and counted). */
static void gpu_attach(struct tsr_compositor *c)
{
    static atomic_bool warned;
    char why[640] = "";
    bool forced = c->params.backend == TSR_COMPOSITOR_BACKEND_VULKAN;
    if (tsr_compositor_gpu_new(&c->gpu, c->params.width, c->params.height,
                               c->params.format == TSR_COMPOSITOR_FORMAT_NV12, !forced, why,
                               sizeof why) == 0) {
        c->in_use = TSR_COMPOSITOR_BACKEND_VULKAN;
        return;
    }
    if (!forced) {
        TSR_LOG(TSR_LOG_DEBUG, "compositor", "compositor = auto: CPU (%s)", why);
        return;
    }
    if (!atomic_exchange(&warned, true))
        TSR_LOG(TSR_LOG_WARN, "compositor", "compositor = vulkan, but %s; composing on the CPU",
                why);
    tsr_counter_inc(tsr_metrics_counter("tessera_compositor_fallbacks_total",
                                        "reason=\"unavailable\"",
                                        "Compositors moved from the GPU to the CPU, by cause."));
}

int tsr_compositor_new(struct tsr_compositor **out, const struct tsr_compositor_params *params)
{
    int ret = 0;
    struct tsr_compositor *c = NULL;
    if (!out || !params || params->width < 2 || params->height < 2 || (params->width & 1) ||
        (params->height & 1) || params->width > 8192 || params->height > 8192 ||
        !valid_format(params->format)) {
        ret = -EINVAL;
        goto fail;
    }
    c = calloc(1, sizeof *c);
    if (!c || !(c->canvas = av_frame_alloc())) {
        ret = -ENOMEM;
        goto fail;
    }
    c->params = *params;
    scaler_init(&c->sc, params->kernels, params->format);
    c->canvas->format =
        params->format == TSR_COMPOSITOR_FORMAT_NV12 ? AV_PIX_FMT_NV12 : AV_PIX_FMT_YUV420P;
    c->canvas->width = params->width;
    c->canvas->height = params->height;
    c->canvas->color_range = AVCOL_RANGE_MPEG;
    if (av_frame_get_buffer(c->canvas, 0) < 0) {
        ret = -ENOMEM;
        goto fail;
    }
    tsr_compositor_rgb_to_yuv(params->background_rgb, &c->bg_y, &c->bg_u, &c->bg_v);
    fill_rect(c, (struct rect){0, 0, params->width, params->height}, c->bg_y, c->bg_u, c->bg_v);
    c->in_use = TSR_COMPOSITOR_BACKEND_CPU;
    if (params->backend != TSR_COMPOSITOR_BACKEND_CPU)
        gpu_attach(c);
    gauge_backend(c, +1);
    c->counted = true;
    *out = c;
    return 0;
fail:
    tsr_compositor_free(&c);
    return ret;
}

void tsr_compositor_free(struct tsr_compositor **p)
{
    if (!p || !*p)
        return;
    if ((*p)->counted)
        gauge_backend(*p, -1);
    tsr_compositor_gpu_free(&(*p)->gpu);
    av_frame_free(&(*p)->canvas);
    scaler_fini(&(*p)->sc);
    free(*p);
    *p = NULL;
}

static int grow(uint8_t **buf, size_t *size, size_t need)
{
    if (need <= *size)
        return 0;
    uint8_t *n = realloc(*buf, need);
    if (!n)
        return -ENOMEM;
    *buf = n;
    *size = need;
    return 0;
}

/* Scale one plane, through a stage buffer for large shrinks (tsr_compositor_plan_plane). */
static int scale_plane(struct scaler *sc, const uint8_t *src, int ss, int sw, int sh, uint8_t *dst,
                       int ds, int dw, int dh)
{
    struct plane_plan p = tsr_compositor_plan_plane(sw, sh, dw, dh);
    if (!p.stage) {
        sc->ops->scale(src, ss, sw, sh, dst, ds, dw, dh);
        return 0;
    }
    if (grow(&sc->stage, &sc->stage_size, (size_t)p.tw * p.th) < 0)
        return -ENOMEM;
    const uint8_t *s0 = src + (size_t)p.oy * ss + p.ox;
    sc->ops->scale(s0, ss, p.tw * p.k, p.th * p.k, sc->stage, p.tw, p.tw, p.th);
    sc->ops->scale(sc->stage, p.tw, p.tw, p.th, dst, ds, dw, dh);
    return 0;
}

static uint8_t *at(const struct dst_planes *p, int plane, int x, int y)
{
    return p->data[plane] + (size_t)y * p->linesize[plane] + x;
}

static void to_limited_range(const struct scaler *sc, const struct dst_planes *f, struct rect d)
{
    for (int y = 0; y < d.h; y++) {
        uint8_t *p = at(f, 0, d.x, d.y + y);
        for (int x = 0; x < d.w; x++)
            p[x] = sc->full_to_limited_y[p[x]];
    }
    bool nv12 = sc->nv12_out;
    for (int pl = 1; pl <= (nv12 ? 1 : 2); pl++)
        for (int y = 0; y < d.h / 2; y++) {
            uint8_t *p = at(f, pl, nv12 ? d.x : d.x / 2, d.y / 2 + y);
            for (int x = 0; x < (nv12 ? d.w : d.w / 2); x++)
                p[x] = sc->full_to_limited_c[p[x]];
        }
}

/* The source crop scaled into rectangle d of f (even position and size). */
static int scale_video(struct scaler *sc, const struct src_view *s, struct rect crop,
                       const struct dst_planes *f, struct rect d)
{
    if (scale_plane(sc, s->y + (size_t)crop.y * s->ys + crop.x, s->ys, crop.w, crop.h,
                    at(f, 0, d.x, d.y), f->linesize[0], d.w, d.h) < 0)
        return -ENOMEM;
    struct rect cc = tsr_compositor_chroma_crop(s, crop);
    int ccx = cc.x, ccy = cc.y, ccw = cc.w, cch = cc.h;
    int dcw = d.w / 2, dch = d.h / 2;
    size_t need = (s->v ? 0 : 2 * (size_t)ccw * cch) + (sc->nv12_out ? 2 * (size_t)dcw * dch : 0);
    if (grow(&sc->scratch, &sc->scratch_size, need) < 0)
        return -ENOMEM;
    const uint8_t *su = s->u + (size_t)ccy * s->us + ((s->v ? 1 : 2) * ccx), *sv;
    int sus = s->us, svs = s->vs;
    uint8_t *scr = sc->scratch;
    if (s->v) {
        sv = s->v + (size_t)ccy * s->vs + ccx;
    } else { /* NV12 source: split the crop's chroma first */
        sc->ops->split_uv(su, s->us, scr, ccw, scr + (size_t)ccw * cch, ccw, ccw, cch);
        su = scr;
        sv = scr + (size_t)ccw * cch;
        sus = svs = ccw;
        scr += 2 * (size_t)ccw * cch;
    }
    int r = 0;
    if (!sc->nv12_out) {
        r |= scale_plane(sc, su, sus, ccw, cch, at(f, 1, d.x / 2, d.y / 2), f->linesize[1], dcw,
                         dch);
        r |= scale_plane(sc, sv, svs, ccw, cch, at(f, 2, d.x / 2, d.y / 2), f->linesize[2], dcw,
                         dch);
    } else {
        r |= scale_plane(sc, su, sus, ccw, cch, scr, dcw, dcw, dch);
        r |= scale_plane(sc, sv, svs, ccw, cch, scr + (size_t)dcw * dch, dcw, dcw, dch);
        sc->ops->merge_uv(scr, dcw, scr + (size_t)dcw * dch, dcw, at(f, 1, d.x, d.y / 2),
                          f->linesize[1], dcw, dch);
    }
    if (r < 0)
        return -ENOMEM;
    if (s->full_range)
        to_limited_range(sc, f, d);
    return 0;
}

static struct dst_planes canvas_planes(const AVFrame *f)
{
    return (struct dst_planes){{f->data[0], f->data[1], f->data[2]},
                               {f->linesize[0], f->linesize[1], f->linesize[2]}};
}

static int draw_video(struct tsr_compositor *c, const struct tsr_layout_tile *t,
                      const struct src_view *s)
{
    struct rect crop, d;
    tsr_compositor_place(s, t, &crop, &d);
    if (d.w != t->w || d.h != t->h)
        fill_rect(c, (struct rect){t->x, t->y, t->w, t->h}, c->bg_y, c->bg_u, c->bg_v);
    struct dst_planes f = canvas_planes(c->canvas);
    return scale_video(&c->sc, s, crop, &f, d);
}

int tsr_compositor_tile_new(struct tsr_compositor_tile **out, enum tsr_compositor_format format,
                            enum tsr_compositor_kernels kernels)
{
    if (!out || !valid_format(format))
        return -EINVAL;
    struct tsr_compositor_tile *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    scaler_init(&t->sc, kernels, format);
    t->format = format;
    *out = t;
    return 0;
}

void tsr_compositor_tile_free(struct tsr_compositor_tile **p)
{
    if (!p || !*p)
        return;
    scaler_fini(&(*p)->sc);
    free((*p)->buf);
    free(*p);
    *p = NULL;
}

int tsr_compositor_tile_scale(struct tsr_compositor_tile *t, const AVFrame *frame, int w, int h,
                              enum tsr_layout_role role)
{
    if (!t || !frame || w < 2 || h < 2 || (w | h) & 1 || w > 8192 || h > 8192)
        return -EINVAL;
    t->valid = false;
    struct src_view s;
    int ret = tsr_compositor_src_view_init(&s, frame);
    if (ret < 0)
        return ret;
    struct tsr_layout_tile at0 = {.role = role, .w = w, .h = h};
    struct rect crop, d;
    tsr_compositor_place(&s, &at0, &crop, &d);
    size_t luma = (size_t)d.w * d.h;
    if (grow(&t->buf, &t->buf_size, luma + luma / 2) < 0)
        return -ENOMEM;
    /* Packed planes, each row exactly the picture's width. */
    if (t->format == TSR_COMPOSITOR_FORMAT_NV12)
        t->planes = (struct dst_planes){{t->buf, t->buf + luma, NULL}, {d.w, d.w, 0}};
    else
        t->planes = (struct dst_planes){{t->buf, t->buf + luma, t->buf + luma + luma / 4},
                                        {d.w, d.w / 2, d.w / 2}};
    if ((ret = scale_video(&t->sc, &s, crop, &t->planes, (struct rect){0, 0, d.w, d.h})) < 0)
        return ret;
    t->w = w;
    t->h = h;
    t->role = role;
    t->d = d;
    t->src_y = frame->data[0];
    t->valid = true;
    return 0;
}

static bool tile_fits(const struct tsr_compositor *c, const struct tsr_compositor_tile *st,
                      const struct tsr_layout_tile *t, const AVFrame *frame)
{
    return st && st->valid && st->format == c->params.format && st->w == t->w && st->h == t->h &&
           st->role == t->role && st->src_y == frame->data[0];
}

static void copy_plane(const uint8_t *src, int ss, uint8_t *dst, int ds, int w_bytes, int h)
{
    for (int y = 0; y < h; y++)
        memcpy(dst + (size_t)y * ds, src + (size_t)y * ss, (size_t)w_bytes);
}

/* A shared tile's rows into the canvas: the same bytes draw_video would write. */
static void copy_tile(struct tsr_compositor *c, const struct tsr_layout_tile *t,
                      const struct tsr_compositor_tile *st)
{
    struct rect d = {t->x + st->d.x, t->y + st->d.y, st->d.w, st->d.h};
    if (d.w != t->w || d.h != t->h)
        fill_rect(c, (struct rect){t->x, t->y, t->w, t->h}, c->bg_y, c->bg_u, c->bg_v);
    struct dst_planes f = canvas_planes(c->canvas);
    const struct dst_planes *s = &st->planes;
    copy_plane(s->data[0], s->linesize[0], at(&f, 0, d.x, d.y), f.linesize[0], d.w, d.h);
    if (c->params.format == TSR_COMPOSITOR_FORMAT_NV12) {
        copy_plane(s->data[1], s->linesize[1], at(&f, 1, d.x, d.y / 2), f.linesize[1], d.w,
                   d.h / 2);
        return;
    }
    for (int pl = 1; pl <= 2; pl++)
        copy_plane(s->data[pl], s->linesize[pl], at(&f, pl, d.x / 2, d.y / 2), f.linesize[pl],
                   d.w / 2, d.h / 2);
}

static bool same_tile(const struct tsr_layout_tile *a, const struct tsr_layout_tile *b)
{
    return a->participant_id == b->participant_id && a->role == b->role && a->x == b->x &&
           a->y == b->y && a->w == b->w && a->h == b->h;
}

static int draw_tile(struct tsr_compositor *c, const struct tsr_layout_tile *t,
                     const struct tsr_compositor_source *src, bool *placeholder)
{
    struct src_view s;
    if (src->frame && tile_fits(c, src->scaled, t, src->frame)) {
        copy_tile(c, t, src->scaled);
        c->stats.tiles_copied++;
        *placeholder = false;
        return 0;
    }
    if (src->frame && tsr_compositor_src_view_init(&s, src->frame) == 0) {
        int ret = draw_video(c, t, &s);
        if (ret < 0)
            return ret;
        c->stats.tiles_scaled++;
        *placeholder = false;
        return 0;
    }
    if (src->frame) {
        c->stats.unsupported_frames++;
        TSR_LOG_RL(TSR_LOG_WARN, "compositor", 5000, "pixel format %d not supported; placeholder",
                   src->frame->format);
    }
    uint8_t y, u, v;
    tsr_compositor_rgb_to_yuv(tsr_compositor_placeholder_rgb(t->participant_id), &y, &u, &v);
    fill_rect(c, (struct rect){t->x, t->y, t->w, t->h}, y, u, v);
    c->stats.tiles_placeholder++;
    *placeholder = true;
    return 0;
}

static int validate_tiles(const struct tsr_compositor *c, const struct tsr_layout_tile *tiles,
                          const struct tsr_compositor_source *sources, size_t n)
{
    if (n > TSR_LAYOUT_MAX_TILES || (n && (!tiles || !sources)))
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        const struct tsr_layout_tile *t = &tiles[i];
        if (t->x < 0 || t->y < 0 || t->w < 2 || t->h < 2 || (t->x | t->y | t->w | t->h) & 1 ||
            t->x + t->w > c->params.width || t->y + t->h > c->params.height)
            return -EINVAL;
    }
    return 0;
}

static struct overlay_key overlay_key_of(const struct tsr_compositor_overlay *ov)
{
    if (!ov)
        return (struct overlay_key){0};
    return (struct overlay_key){.name = ov->name ? ov->name->serial : 0,
                                .initials = ov->initials ? ov->initials->serial : 0,
                                .highlight = ov->highlight,
                                .mic_muted = ov->mic_muted && ov->name};
}

static bool same_overlay(struct overlay_key a, struct overlay_key b)
{
    return a.name == b.name && a.initials == b.initials && a.highlight == b.highlight &&
           a.mic_muted == b.mic_muted;
}

/* After a tile's picture: its overlay, and what was drawn, for the next plan. */
static void finish_tile(struct tsr_compositor *c, size_t i, const struct tsr_layout_tile *t,
                        const struct tsr_compositor_source *src, bool placeholder)
{
    AVFrame *f = c->canvas;
    bool nv12 = c->params.format == TSR_COMPOSITOR_FORMAT_NV12;
    struct overlay_canvas oc = {.y = f->data[0],
                                .u = f->data[1],
                                .v = nv12 ? f->data[1] + 1 : f->data[2],
                                .ys = f->linesize[0],
                                .cs = f->linesize[1],
                                .cstep = nv12 ? 2 : 1,
                                .mark = &c->mark};
    c->stats.overlays_drawn += tsr_compositor_draw_overlay(&oc, t, src->overlay, placeholder);
    c->prev[i].tile = *t;
    c->prev[i].placeholder = placeholder;
    c->prev[i].overlay = overlay_key_of(src->overlay);
}

/* The GPU backend is dropped for good: the CPU draws from this frame on. A lost
 * device is logged once for all its compositors; each fallback is counted. */
static void gpu_fall_back(struct tsr_compositor *c, const char *why, bool first, const char *reason)
{
    if (first)
        TSR_LOG(TSR_LOG_WARN, "compositor", "%s; composing on the CPU from this frame on", why);
    else
        TSR_LOG(TSR_LOG_DEBUG, "compositor", "%s; composing on the CPU", why);
    char labels[64];
    snprintf(labels, sizeof labels, "reason=\"%s\"", reason);
    tsr_counter_inc(tsr_metrics_counter("tessera_compositor_fallbacks_total", labels,
                                        "Compositors moved from the GPU to the CPU, by cause."));
    tsr_compositor_gpu_free(&c->gpu);
    gauge_backend(c, -1);
    c->in_use = TSR_COMPOSITOR_BACKEND_CPU;
    gauge_backend(c, +1);
    c->stats.gpu_fallbacks++;
}

/* A redrawn tile as the GPU draws it: its picture, or its placeholder colour. */
static bool gpu_job_for(struct tsr_compositor *c, const struct tsr_layout_tile *t,
                        const AVFrame *frame, struct src_view *view, struct gpu_job *job)
{
    *job = (struct gpu_job){.tile = *t, .fill = {c->bg_y, c->bg_u, c->bg_v}};
    if (frame && tsr_compositor_src_view_init(view, frame) == 0) {
        job->src = view;
        return false;
    }
    if (frame) {
        c->stats.unsupported_frames++;
        TSR_LOG_RL(TSR_LOG_WARN, "compositor", 5000, "pixel format %d not supported; placeholder",
                   frame->format);
    }
    tsr_compositor_rgb_to_yuv(tsr_compositor_placeholder_rgb(t->participant_id), &job->fill[0],
                              &job->fill[1], &job->fill[2]);
    return true;
}

/* Shared tiles (sources[i].scaled) are not used: the GPU scales every tile itself. */
static int draw_gpu(struct tsr_compositor *c, const struct tsr_layout_tile *tiles,
                    const struct tsr_compositor_source *sources, size_t n, const bool *redraw,
                    bool layout_changed)
{
    struct gpu_job jobs[TSR_LAYOUT_MAX_TILES + 1];
    struct src_view views[TSR_LAYOUT_MAX_TILES];
    bool ph[TSR_LAYOUT_MAX_TILES];
    size_t nj = 0, placeholders = 0;
    if (layout_changed)
        jobs[nj++] = (struct gpu_job){
            .tile = {.w = c->params.width, .h = c->params.height},
            .fill = {c->bg_y, c->bg_u, c->bg_v}};
    for (size_t i = 0; i < n; i++) {
        if (redraw[i]) {
            ph[i] = gpu_job_for(c, &tiles[i], sources[i].frame, &views[i], &jobs[nj++]);
            placeholders += ph[i];
        }
    }
    char why[640];
    bool first = false;
    int rc = tsr_compositor_gpu_draw(c->gpu, jobs, nj, c->canvas, why, sizeof why, &first);
    if (rc != 0) {
        gpu_fall_back(c, why, first, strstr(why, "lost") ? "device_lost" : "dispatch");
        return rc;
    }
    /* The canvas is back in memory: overlays are blended on the CPU (a band's worth
     * of pixels per redrawn tile, cheaper than another dispatch and readback). */
    for (size_t i = 0; i < n; i++)
        if (redraw[i])
            finish_tile(c, i, &tiles[i], &sources[i], ph[i]);
    c->stats.full_redraws += layout_changed;
    c->stats.tiles_placeholder += placeholders;
    c->stats.tiles_scaled += nj - layout_changed - placeholders;
    c->stats.gpu_renders++;
    return 0;
}

static bool plan_redraw(const struct tsr_compositor *c, const struct tsr_layout_tile *tiles,
                        const struct tsr_compositor_source *sources, size_t n, bool *redraw)
{
    bool layout_changed = !c->drawn_once || n != c->n_prev;
    for (size_t i = 0; !layout_changed && i < n; i++)
        layout_changed = !same_tile(&tiles[i], &c->prev[i].tile);
    for (size_t i = 0; i < n; i++)
        redraw[i] = layout_changed || sources[i].changed ||
                    (sources[i].frame == NULL) != c->prev[i].placeholder ||
                    !same_overlay(overlay_key_of(sources[i].overlay), c->prev[i].overlay);
    return layout_changed;
}

static int draw_cpu(struct tsr_compositor *c, const struct tsr_layout_tile *tiles,
                    const struct tsr_compositor_source *sources, size_t n, const bool *redraw,
                    bool layout_changed)
{
    if (layout_changed) {
        fill_rect(c, (struct rect){0, 0, c->params.width, c->params.height}, c->bg_y, c->bg_u,
                  c->bg_v);
        c->stats.full_redraws++;
    }
    for (size_t i = 0; i < n; i++) {
        if (!redraw[i])
            continue;
        bool ph = false;
        int ret = draw_tile(c, &tiles[i], &sources[i], &ph);
        if (ret < 0) {
            c->drawn_once = false; /* half-drawn: redraw everything next time */
            return ret;
        }
        finish_tile(c, i, &tiles[i], &sources[i], ph);
    }
    return 0;
}

int tsr_compositor_render(struct tsr_compositor *c, const struct tsr_layout_tile *tiles,
                          const struct tsr_compositor_source *sources, size_t n,
                          AVFrame **canvas_out)
{
    if (!c || validate_tiles(c, tiles, sources, n) < 0)
        return -EINVAL;
    bool redraw[TSR_LAYOUT_MAX_TILES];
    bool layout_changed = plan_redraw(c, tiles, sources, n, redraw);
    bool any = layout_changed;
    for (size_t i = 0; i < n; i++)
        any = any || redraw[i];
    AVFrame *ref = NULL;
    if (canvas_out && !(ref = av_frame_alloc()))
        return -ENOMEM;
    if (any && !av_frame_is_writable(c->canvas)) {
        /* A consumer still holds the last canvas: copy so its picture stays intact. */
        if (av_frame_make_writable(c->canvas) < 0) {
            av_frame_free(&ref);
            return -ENOMEM;
        }
        c->stats.canvas_copies++;
    }
    int ret = 0;
    if (any && c->gpu && draw_gpu(c, tiles, sources, n, redraw, layout_changed) != 0) {
        /* The GPU failed this frame: the CPU draws it whole, and every frame after. */
        layout_changed = true;
        for (size_t i = 0; i < n; i++)
            redraw[i] = true;
    }
    if (any && !c->gpu)
        ret = draw_cpu(c, tiles, sources, n, redraw, layout_changed);
    if (ret < 0) {
        av_frame_free(&ref);
        return ret;
    }
    c->n_prev = n;
    c->drawn_once = true;
    c->stats.renders++;
    if (ref) {
        if (av_frame_ref(ref, c->canvas) < 0) {
            av_frame_free(&ref);
            return -ENOMEM;
        }
        *canvas_out = ref;
    }
    return 0;
}

enum tsr_compositor_backend tsr_compositor_backend_in_use(const struct tsr_compositor *c)
{
    return c ? c->in_use : TSR_COMPOSITOR_BACKEND_CPU;
}

void tsr_compositor_inject_gpu_failure(struct tsr_compositor *c)
{
    if (c && c->gpu)
        tsr_compositor_gpu_fail_next(c->gpu);
}

void tsr_compositor_get_stats(const struct tsr_compositor *c, struct tsr_compositor_stats *out)
{
    if (c && out)
        *out = c->stats;
}
