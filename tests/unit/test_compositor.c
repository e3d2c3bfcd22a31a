/* Compositor: tile colours and background, PSNR against a double-precision scale,
 * untouched unchanged tiles, the fast kernels against the C reference, and views
 * composed with shared tiles byte for byte against views composed without. */
#include <tessera/compositor.h>
#include <tessera/err.h>
#include <tessera/layout.h>

#include <errno.h>
#include <stdlib.h>

#include "../../src/mix/compositor_kernels.h"
#include "video_testutil.h"

#define BG_RGB 0x202020u

static void canvas_yuv(const AVFrame *c, int x, int y, int *Y, int *U, int *V)
{
    *Y = c->data[0][y * c->linesize[0] + x];
    if (c->format == AV_PIX_FMT_NV12) {
        *U = c->data[1][(y / 2) * c->linesize[1] + (x / 2) * 2];
        *V = c->data[1][(y / 2) * c->linesize[1] + (x / 2) * 2 + 1];
    } else {
        *U = c->data[1][(y / 2) * c->linesize[1] + x / 2];
        *V = c->data[2][(y / 2) * c->linesize[2] + x / 2];
    }
}

static void assert_rect_colour(const AVFrame *c, int x0, int y0, int w, int h, int ey, int eu,
                               int ev, int tol)
{
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++) {
            int Y, U, V;
            canvas_yuv(c, x, y, &Y, &U, &V);
            if (abs(Y - ey) > tol || abs(U - eu) > tol || abs(V - ev) > tol)
                g_error("pixel %d,%d = %d,%d,%d, want %d,%d,%d", x, y, Y, U, V, ey, eu, ev);
        }
}

static gboolean in_tiles(const struct tsr_layout_tile *t, size_t n, int x, int y)
{
    for (size_t i = 0; i < n; i++)
        if (x >= t[i].x && x < t[i].x + t[i].w && y >= t[i].y && y < t[i].y + t[i].h)
            return TRUE;
    return FALSE;
}

static void solid_case(enum tsr_compositor_kernels k, enum tsr_compositor_format fmt)
{
    struct tsr_compositor_params cp = {
        .width = 1280, .height = 720, .format = fmt, .background_rgb = BG_RGB, .kernels = k};
    struct tsr_compositor *comp = NULL;
    g_assert_cmpint(tsr_compositor_new(&comp, &cp), ==, 0);
    struct {
        int fmt, w, h;
        uint32_t rgb;
    } in[] = {
        {AV_PIX_FMT_YUV420P, 1280, 720, 0xd02020},   {AV_PIX_FMT_YUV422P, 640, 480, 0x20c020},
        {AV_PIX_FMT_NV12, 320, 240, 0x2020d0},       {AV_PIX_FMT_YUV444P, 97, 55, 0xc0c020},
        {AV_PIX_FMT_YUVJ420P, 1920, 1080, 0x20c0c0},
    };
    enum { N = G_N_ELEMENTS(in) };
    uint32_t ids[N + 1];
    for (int i = 0; i < N + 1; i++)
        ids[i] = (uint32_t)(i + 1);
    struct tsr_layout_params lp = {
        .kind = TSR_LAYOUT_GRID, .canvas_w = 1280, .canvas_h = 720, .gap_px = 8};
    struct tsr_layout_tile tiles[TSR_LAYOUT_MAX_TILES];
    size_t nt = 0;
    /* One participant more than frames: it has no video yet (placeholder). */
    g_assert_cmpint(tsr_layout_compute(&lp, ids, N + 1, NULL, 0, tiles, &nt), ==, 0);
    struct tsr_compositor_source src[N + 1];
    AVFrame *frames[N];
    uint8_t ey[N + 1], eu[N + 1], ev[N + 1];
    for (int i = 0; i < N; i++) {
        frames[i] = vt_frame_new(in[i].fmt, in[i].w, in[i].h);
        tsr_compositor_rgb_to_yuv(in[i].rgb, &ey[i], &eu[i], &ev[i]);
        if (in[i].fmt == AV_PIX_FMT_YUVJ420P) { /* same colour, full-range coding */
            vt_fill_solid(frames[i], (uint8_t)lround((ey[i] - 16) * 255.0 / 219.0),
                          (uint8_t)lround((eu[i] - 128) * 255.0 / 224.0 + 128),
                          (uint8_t)lround((ev[i] - 128) * 255.0 / 224.0 + 128));
        } else {
            vt_fill_solid(frames[i], ey[i], eu[i], ev[i]);
        }
    }
    tsr_compositor_rgb_to_yuv(tsr_compositor_placeholder_rgb(N + 1), &ey[N], &eu[N], &ev[N]);
    for (size_t t = 0; t < nt; t++) {
        int idx = (int)tiles[t].participant_id - 1;
        src[t] =
            (struct tsr_compositor_source){.frame = idx < N ? frames[idx] : NULL, .changed = TRUE};
    }
    AVFrame *canvas = NULL;
    g_assert_cmpint(tsr_compositor_render(comp, tiles, src, nt, &canvas), ==, 0);
    g_assert_cmpint(canvas->format, ==,
                    fmt == TSR_COMPOSITOR_FORMAT_NV12 ? AV_PIX_FMT_NV12 : AV_PIX_FMT_YUV420P);
    for (size_t t = 0; t < nt; t++) {
        int idx = (int)tiles[t].participant_id - 1;
        assert_rect_colour(canvas, tiles[t].x, tiles[t].y, tiles[t].w, tiles[t].h, ey[idx], eu[idx],
                           ev[idx], 2);
    }
    uint8_t by, bu, bv;
    tsr_compositor_rgb_to_yuv(BG_RGB, &by, &bu, &bv);
    int bg_pixels = 0;
    for (int y = 0; y < 720; y += 2)
        for (int x = 0; x < 1280; x += 2)
            if (!in_tiles(tiles, nt, x, y)) {
                assert_rect_colour(canvas, x, y, 2, 2, by, bu, bv, 0);
                bg_pixels++;
            }
    g_assert_cmpint(bg_pixels, >, 1000); /* gaps and empty cells exist */
    struct tsr_compositor_stats st;
    tsr_compositor_get_stats(comp, &st);
    g_assert_cmpuint(st.tiles_scaled, ==, N);
    g_assert_cmpuint(st.tiles_placeholder, ==, 1);
    av_frame_free(&canvas);
    for (int i = 0; i < N; i++)
        av_frame_free(&frames[i]);
    tsr_compositor_free(&comp);
    g_assert_null(comp);
}

static void test_solid_colours(void)
{
    solid_case(TSR_COMPOSITOR_KERNELS_FAST, TSR_COMPOSITOR_FORMAT_I420);
    solid_case(TSR_COMPOSITOR_KERNELS_FAST, TSR_COMPOSITOR_FORMAT_NV12);
    solid_case(TSR_COMPOSITOR_KERNELS_REFERENCE, TSR_COMPOSITOR_FORMAT_I420);
}

/* Independent double-precision scaler: exact box integration when shrinking,
 * centre-aligned bilinear when enlarging. */
static double ref_axis_weight(int i, int k, int s, int d)
{
    double r = (double)s / d;
    if (d < s) {
        double a = i * r, b = (i + 1) * r;
        double lo = fmax(a, k), hi = fmin(b, k + 1.0);
        return hi > lo ? (hi - lo) / r : 0.0;
    }
    double c = fmin(fmax((i + 0.5) * r - 0.5, 0.0), s - 1.0);
    double w = 1.0 - fabs(c - k);
    return w > 0 ? w : 0.0;
}

static double ref_pixel(const uint8_t *src, int stride, int sw, int sh, int dw, int dh, int x,
                        int y)
{
    double acc = 0;
    int r = sw / dw + 2, rv = sh / dh + 2;
    int cx = (int)((x + 0.5) * sw / dw), cy = (int)((y + 0.5) * sh / dh);
    for (int ky = cy - rv; ky <= cy + rv; ky++) {
        if (ky < 0 || ky >= sh)
            continue;
        double wy = ref_axis_weight(y, ky, sh, dh);
        if (wy == 0)
            continue;
        for (int kx = cx - r; kx <= cx + r; kx++) {
            if (kx < 0 || kx >= sw)
                continue;
            acc += wy * ref_axis_weight(x, kx, sw, dw) * src[ky * stride + kx];
        }
    }
    return acc;
}

static void psnr_case(int sw, int sh, int n_participants)
{
    struct tsr_compositor_params cp = {
        .width = 1280, .height = 720, .kernels = TSR_COMPOSITOR_KERNELS_FAST};
    struct tsr_compositor *comp = NULL;
    g_assert_cmpint(tsr_compositor_new(&comp, &cp), ==, 0);
    struct tsr_layout_params lp = {.kind = TSR_LAYOUT_GRID, .canvas_w = 1280, .canvas_h = 720};
    uint32_t ids[25];
    for (int i = 0; i < n_participants; i++)
        ids[i] = (uint32_t)(i + 1);
    struct tsr_layout_tile tiles[TSR_LAYOUT_MAX_TILES];
    size_t nt = 0;
    g_assert_cmpint(tsr_layout_compute(&lp, ids, (size_t)n_participants, NULL, 0, tiles, &nt), ==,
                    0);
    AVFrame *f = vt_frame_new(AV_PIX_FMT_YUV420P, sw, sh);
    struct tsr_compositor_source src[TSR_LAYOUT_MAX_TILES];
    for (int t = 0; t < 3; t++) { /* moving: a new frame each time */
        vt_fill_pattern(f, t * 5);
        for (size_t i = 0; i < nt; i++)
            src[i] = (struct tsr_compositor_source){.frame = f, .changed = TRUE};
        AVFrame *canvas = NULL;
        g_assert_cmpint(tsr_compositor_render(comp, tiles, src, nt, &canvas), ==, 0);
        const struct tsr_layout_tile *tl = &tiles[0];
        /* These cases keep the source aspect, so the tile is the whole source. */
        g_assert_cmpint((int64_t)tl->w * sh, ==, (int64_t)tl->h * sw);
        double se = 0;
        for (int y = 0; y < tl->h; y++)
            for (int x = 0; x < tl->w; x++) {
                double r = ref_pixel(f->data[0], f->linesize[0], sw, sh, tl->w, tl->h, x, y);
                double d = canvas->data[0][(tl->y + y) * canvas->linesize[0] + tl->x + x] - r;
                se += d * d;
            }
        double psnr = 10 * log10(255.0 * 255.0 / (se / (tl->w * tl->h) + 1e-12));
        g_test_message("%dx%d -> %dx%d: PSNR %.1f dB", sw, sh, tl->w, tl->h, psnr);
        g_assert_cmpfloat(psnr, >=, 35.0);
        av_frame_free(&canvas);
    }
    av_frame_free(&f);
    tsr_compositor_free(&comp);
}

static void test_pattern_psnr(void)
{
    psnr_case(1280, 720, 4);  /* 2x2: 2:1 down */
    psnr_case(1280, 720, 25); /* 5x5: 5:1 down (4x box stage + bilinear) */
    psnr_case(1278, 720, 9);  /* 3x3: 3:1 down (2x box stage + bilinear) */
    psnr_case(320, 180, 4);   /* 2x up */
    psnr_case(960, 540, 4);   /* 3:2 down (bilinear range) */
}

static void test_unchanged_untouched(void)
{
    struct tsr_compositor_params cp = {.width = 640, .height = 360};
    struct tsr_compositor *comp = NULL;
    g_assert_cmpint(tsr_compositor_new(&comp, &cp), ==, 0);
    struct tsr_layout_params lp = {.kind = TSR_LAYOUT_GRID, .canvas_w = 640, .canvas_h = 360};
    uint32_t ids[] = {1, 2};
    struct tsr_layout_tile t[TSR_LAYOUT_MAX_TILES];
    size_t nt = 0;
    g_assert_cmpint(tsr_layout_compute(&lp, ids, 2, NULL, 0, t, &nt), ==, 0);
    AVFrame *a = vt_frame_new(AV_PIX_FMT_YUV420P, 320, 180);
    AVFrame *b = vt_frame_new(AV_PIX_FMT_YUV420P, 320, 180);
    vt_fill_pattern(a, 0);
    vt_fill_pattern(b, 0);
    struct tsr_compositor_source src[2] = {{.frame = a, .changed = TRUE},
                                           {.frame = b, .changed = TRUE}};
    AVFrame *first = NULL, *second = NULL;
    g_assert_cmpint(tsr_compositor_render(comp, t, src, 2, &first), ==, 0);
    guint8 *snap = g_memdup2(first->data[0], (gsize)first->linesize[0] * 360);
    /* New content behind both sources, but only b says it changed; `first` is still
     * held, so the canvas must be copied rather than written under it. */
    vt_fill_solid(a, 200, 50, 50);
    vt_fill_solid(b, 30, 90, 200);
    src[0].changed = FALSE;
    src[1].changed = TRUE;
    struct tsr_compositor_stats before, after;
    tsr_compositor_get_stats(comp, &before);
    g_assert_cmpint(tsr_compositor_render(comp, t, src, 2, &second), ==, 0);
    tsr_compositor_get_stats(comp, &after);
    g_assert_cmpuint(after.tiles_scaled - before.tiles_scaled, ==, 1);
    g_assert_cmpuint(after.canvas_copies - before.canvas_copies, ==, 1);
    g_assert_cmpuint(after.full_redraws, ==, before.full_redraws);
    g_assert_cmpmem(first->data[0], (gsize)first->linesize[0] * 360, snap,
                    (gsize)first->linesize[0] * 360); /* the held ref never changed */
    for (int y = 0; y < 360; y++) {
        for (int x = 0; x < 640; x++) {
            int v = second->data[0][y * second->linesize[0] + x];
            if (x >= t[0].x && x < t[0].x + t[0].w && y >= t[0].y && y < t[0].y + t[0].h)
                g_assert_cmpint(v, ==, snap[y * first->linesize[0] + x]); /* untouched */
            else if (x >= t[1].x && x < t[1].x + t[1].w && y >= t[1].y && y < t[1].y + t[1].h)
                g_assert_cmpint(v, ==, 30);
        }
    }
    /* Nothing changed at all: no scaling, same buffer handed out again. */
    av_frame_free(&first);
    src[1].changed = FALSE;
    AVFrame *third = NULL;
    g_assert_cmpint(tsr_compositor_render(comp, t, src, 2, &third), ==, 0);
    tsr_compositor_get_stats(comp, &before);
    g_assert_cmpuint(before.tiles_scaled, ==, after.tiles_scaled);
    g_assert_true(third->data[0] == second->data[0]);
    /* Muting a source switches it to its placeholder without a `changed` flag. */
    src[1].frame = NULL;
    av_frame_free(&second);
    av_frame_free(&third);
    g_assert_cmpint(tsr_compositor_render(comp, t, src, 2, &third), ==, 0);
    uint8_t py, pu, pv;
    tsr_compositor_rgb_to_yuv(tsr_compositor_placeholder_rgb(t[1].participant_id), &py, &pu, &pv);
    assert_rect_colour(third, t[1].x, t[1].y, t[1].w, t[1].h, py, pu, pv, 0);
    av_frame_free(&third);
    g_free(snap);
    av_frame_free(&a);
    av_frame_free(&b);
    tsr_compositor_free(&comp);
}

static void test_placeholder_colours(void)
{
    /* Deterministic, and different participants mostly get different colours. */
    g_assert_cmpuint(tsr_compositor_placeholder_rgb(42), ==, tsr_compositor_placeholder_rgb(42));
    int distinct = 0;
    for (uint32_t i = 1; i < 20; i++)
        distinct += tsr_compositor_placeholder_rgb(i) != tsr_compositor_placeholder_rgb(i + 1);
    g_assert_cmpint(distinct, >=, 18);
    uint8_t y, u, v;
    tsr_compositor_rgb_to_yuv(0xffffff, &y, &u, &v);
    g_assert_true(y == 235 && u == 128 && v == 128);
    tsr_compositor_rgb_to_yuv(0x000000, &y, &u, &v);
    g_assert_true(y == 16 && u == 128 && v == 128);
}

/* Fast kernels vs the C reference on random sizes, odd widths and misaligned
 * strides. Fill/split/merge must be identical; the scalers compute the same filter
 * (area average from 2:1 down, bilinear otherwise) with different rounding and
 * tap boundaries (libyuv boxes have whole-sample edges), so the
 * agreement is stated as a bound: every pixel within 1, mean difference < 0.25
 * (libyuv's bilinear uses 7-bit fractions; its boxes round the same way). */
static void test_fast_equals_reference(void)
{
    GRand *rnd = g_rand_new_with_seed(1234);
    const struct tsr_compositor_kernel_ops *c = &tsr_compositor_kernels_c,
                                           *f = &tsr_compositor_kernels_libyuv;
    int worst = 0;
    for (int iter = 0; iter < 120; iter++) {
        int sw = g_rand_int_range(rnd, 8, 400), sh = g_rand_int_range(rnd, 8, 240);
        /* The compositor scales both axes by one factor (crop to fill, letterbox);
         * so do these cases, up to rounding. */
        int dw = (int)lround(sw * g_rand_double_range(rnd, 0.08, 3.0));
        dw = dw < 1 ? 1 : dw;
        int dh = (int)lround((double)sh * dw / sw);
        dh = dh < 1 ? 1 : dh;
        int ss = sw + g_rand_int_range(rnd, 0, 33), ds = dw + g_rand_int_range(rnd, 0, 33);
        int so = g_rand_int_range(rnd, 0, 16), dof = g_rand_int_range(rnd, 0, 16);
        guint8 *src = g_malloc((gsize)ss * sh + 64);
        guint8 *oc = g_malloc0((gsize)ds * dh + 64), *of = g_malloc0((gsize)ds * dh + 64);
        for (int y = 0; y < sh; y++)
            for (int x = 0; x < sw; x++)
                src[so + y * ss + x] = vt_pattern_luma(x * 2, y * 2, iter);
        c->scale(src + so, ss, sw, sh, oc + dof, ds, dw, dh);
        f->scale(src + so, ss, sw, sh, of + dof, ds, dw, dh);
        double sum = 0;
        int maxd = 0;
        for (int y = 0; y < dh; y++)
            for (int x = 0; x < dw; x++) {
                int d = abs(oc[dof + y * ds + x] - of[dof + y * ds + x]);
                maxd = d > maxd ? d : maxd;
                sum += d;
            }
        worst = maxd > worst ? maxd : worst;
        if (maxd > 1 || sum / (dw * dh) >= 0.25)
            g_error("%dx%d -> %dx%d: max diff %d mean %.2f", sw, sh, dw, dh, maxd, sum / (dw * dh));
        /* Exact ops. */
        int cw = (sw + 1) / 2, chh = (sh + 1) / 2;
        guint8 *u1 = g_malloc((gsize)cw * chh), *v1 = g_malloc((gsize)cw * chh);
        guint8 *u2 = g_malloc((gsize)cw * chh), *v2 = g_malloc((gsize)cw * chh);
        if (2 * cw <= ss) {
            c->split_uv(src + so, ss, u1, cw, v1, cw, cw, chh);
            f->split_uv(src + so, ss, u2, cw, v2, cw, cw, chh);
            g_assert_cmpmem(u1, (gsize)cw * chh, u2, (gsize)cw * chh);
            g_assert_cmpmem(v1, (gsize)cw * chh, v2, (gsize)cw * chh);
            guint8 *m1 = g_malloc((gsize)2 * cw * chh), *m2 = g_malloc((gsize)2 * cw * chh);
            c->merge_uv(u1, cw, v1, cw, m1, 2 * cw, cw, chh);
            f->merge_uv(u1, cw, v1, cw, m2, 2 * cw, cw, chh);
            g_assert_cmpmem(m1, (gsize)2 * cw * chh, m2, (gsize)2 * cw * chh);
            g_free(m1);
            g_free(m2);
        }
        c->fill(oc + dof, ds, dw, dh, (uint8_t)iter);
        f->fill(of + dof, ds, dw, dh, (uint8_t)iter);
        g_assert_cmpmem(oc, (gsize)ds * dh + 64, of, (gsize)ds * dh + 64);
        g_free(u1), g_free(v1), g_free(u2), g_free(v2);
        g_free(src);
        g_free(oc);
        g_free(of);
    }
    g_test_message("largest fast/reference difference: %d", worst);
    g_rand_free(rnd);
}

/* Whole canvases: odd-sized sources of every format through both kernel sets. */
static void test_canvas_fast_vs_reference(void)
{
    int fmts[] = {AV_PIX_FMT_YUV420P, AV_PIX_FMT_NV12, AV_PIX_FMT_YUV422P, AV_PIX_FMT_YUV444P};
    int sizes[][2] = {{97, 55}, {322, 181}, {641, 359}, {1279, 719}};
    AVFrame *src_frames[4];
    struct tsr_compositor_source src[4];
    for (int i = 0; i < 4; i++) {
        src_frames[i] = vt_frame_new(fmts[i], sizes[i][0], sizes[i][1]);
        vt_fill_pattern(src_frames[i], i);
        src[i] = (struct tsr_compositor_source){.frame = src_frames[i], .changed = TRUE};
    }
    uint32_t ids[] = {1, 2, 3, 4};
    struct tsr_layout_tile t[TSR_LAYOUT_MAX_TILES];
    size_t nt = 0;
    struct tsr_layout_params lp = {
        .kind = TSR_LAYOUT_GRID, .canvas_w = 640, .canvas_h = 360, .gap_px = 4};
    g_assert_cmpint(tsr_layout_compute(&lp, ids, 4, NULL, 0, t, &nt), ==, 0);
    AVFrame *out[2];
    for (int k = 0; k < 2; k++) {
        struct tsr_compositor_params cp = {.width = 640,
                                           .height = 360,
                                           .kernels = k ? TSR_COMPOSITOR_KERNELS_REFERENCE
                                                        : TSR_COMPOSITOR_KERNELS_FAST};
        struct tsr_compositor *comp = NULL;
        g_assert_cmpint(tsr_compositor_new(&comp, &cp), ==, 0);
        g_assert_cmpint(tsr_compositor_render(comp, t, src, nt, &out[k]), ==, 0);
        tsr_compositor_free(&comp);
    }
    int worst = 0;
    for (int p = 0; p < 3; p++) {
        int w = p ? 320 : 640, h = p ? 180 : 360;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int d = abs(out[0]->data[p][y * out[0]->linesize[p] + x] -
                            out[1]->data[p][y * out[1]->linesize[p] + x]);
                worst = d > worst ? d : worst;
            }
    }
    g_assert_cmpint(worst, <=, 1);
    for (int i = 0; i < 4; i++)
        av_frame_free(&src_frames[i]);
    av_frame_free(&out[0]);
    av_frame_free(&out[1]);
}

static void test_invalid(void)
{
    struct tsr_compositor *comp = NULL;
    struct tsr_compositor_params cp = {.width = 641, .height = 360};
    g_assert_cmpint(tsr_compositor_new(&comp, &cp), ==, -EINVAL);
    cp.width = 640;
    g_assert_cmpint(tsr_compositor_new(&comp, &cp), ==, 0);
    struct tsr_layout_tile t = {.participant_id = 1, .x = 600, .y = 0, .w = 64, .h = 64};
    struct tsr_compositor_source s = {.frame = NULL, .changed = TRUE};
    g_assert_cmpint(tsr_compositor_render(comp, &t, &s, 1, NULL), ==, -EINVAL);
    /* A pixel format the compositor does not take: placeholder, counted. */
    AVFrame *rgb = vt_frame_new(AV_PIX_FMT_RGB24, 32, 32);
    t.x = 0;
    s.frame = rgb;
    g_assert_cmpint(tsr_compositor_render(comp, &t, &s, 1, NULL), ==, 0);
    struct tsr_compositor_stats st;
    tsr_compositor_get_stats(comp, &st);
    g_assert_cmpuint(st.unsupported_frames, ==, 1);
    av_frame_free(&rgb);
    tsr_compositor_free(&comp);
}

/* Shared tiles. A room of six: every format the compositor takes, one participant
 * without video (placeholder) and a presentation (content, letterboxed). */
#define ROOM 6
#define CONTENT_ID 100u

struct room {
    AVFrame *frames[ROOM + 1]; /* [ROOM]: the presentation */
    uint32_t ids[ROOM];
    bool changed[ROOM + 1];
};

static void room_init(struct room *r)
{
    static const int fmt[ROOM] = {AV_PIX_FMT_YUV420P, AV_PIX_FMT_NV12,    AV_PIX_FMT_YUVJ420P,
                                  AV_PIX_FMT_YUV422P, AV_PIX_FMT_YUV444P, AV_PIX_FMT_YUV420P};
    static const int size[ROOM + 1][2] = {{320, 240}, {640, 360}, {1280, 720}, {97, 55},
                                          {322, 181}, {0, 0},     {640, 480}};
    for (int i = 0; i <= ROOM; i++) {
        r->frames[i] = NULL;
        if (size[i][0]) {
            r->frames[i] =
                vt_frame_new(i < ROOM ? fmt[i] : AV_PIX_FMT_YUV420P, size[i][0], size[i][1]);
            vt_fill_pattern(r->frames[i], i);
        }
        r->changed[i] = true;
        if (i < ROOM)
            r->ids[i] = (uint32_t)(i + 1);
    }
}

static void room_fini(struct room *r)
{
    for (int i = 0; i <= ROOM; i++)
        av_frame_free(&r->frames[i]);
}

static int room_index(uint32_t id)
{
    return id == CONTENT_ID ? ROOM : (int)id - 1;
}

/* One canvas per participant, showing everyone but that participant. */
struct views {
    struct tsr_compositor *comp[ROOM];
    struct tsr_layout_tile tiles[ROOM][TSR_LAYOUT_MAX_TILES];
    size_t n[ROOM];
    AVFrame *canvas[ROOM];
    /* shared mode: one tile per distinct (participant, w, h, role) */
    struct tsr_compositor_tile *shared[ROOM * TSR_LAYOUT_MAX_TILES];
    struct tsr_layout_tile key[ROOM * TSR_LAYOUT_MAX_TILES];
    size_t n_shared;
};

static void views_init(struct views *v, const struct room *r, enum tsr_layout_kind kind,
                       enum tsr_compositor_kernels k, enum tsr_compositor_format fmt)
{
    memset(v, 0, sizeof *v);
    struct tsr_compositor_params cp = {
        .width = 640, .height = 360, .format = fmt, .background_rgb = BG_RGB, .kernels = k};
    struct tsr_layout_params lp = {.kind = kind,
                                   .canvas_w = 640,
                                   .canvas_h = 360,
                                   .gap_px = 4,
                                   .content_id = kind == TSR_LAYOUT_PRESENTATION ? CONTENT_ID : 0};
    for (int i = 0; i < ROOM; i++) {
        uint32_t others[ROOM];
        size_t n = 0;
        for (int j = 0; j < ROOM; j++)
            if (j != i)
                others[n++] = r->ids[j];
        g_assert_cmpint(tsr_layout_compute(&lp, others, n, NULL, 0, v->tiles[i], &v->n[i]), ==, 0);
        g_assert_cmpint(tsr_compositor_new(&v->comp[i], &cp), ==, 0);
    }
}

static void views_fini(struct views *v)
{
    for (int i = 0; i < ROOM; i++) {
        tsr_compositor_free(&v->comp[i]);
        av_frame_free(&v->canvas[i]);
    }
    for (size_t i = 0; i < v->n_shared; i++)
        tsr_compositor_tile_free(&v->shared[i]);
}

/* Index of the shared tile for t's (participant, w, h, role), made on first use. */
static size_t shared_for(struct views *v, const struct tsr_layout_tile *t,
                         enum tsr_compositor_kernels k, enum tsr_compositor_format fmt, bool *fresh)
{
    *fresh = false;
    for (size_t i = 0; i < v->n_shared; i++)
        if (v->key[i].participant_id == t->participant_id && v->key[i].w == t->w &&
            v->key[i].h == t->h && v->key[i].role == t->role)
            return i;
    g_assert_cmpint(tsr_compositor_tile_new(&v->shared[v->n_shared], fmt, k), ==, 0);
    v->key[v->n_shared] = *t;
    *fresh = true;
    return v->n_shared++;
}

/* One tick: the shared tiles of new and changed sources are scaled first (once
 * each), then every canvas renders, copying them. Returns how many were scaled. */
static int views_render(struct views *v, const struct room *r, bool shared,
                        enum tsr_compositor_kernels k, enum tsr_compositor_format fmt)
{
    struct tsr_compositor_tile *use[ROOM][TSR_LAYOUT_MAX_TILES] = {{NULL}};
    bool done[ROOM * TSR_LAYOUT_MAX_TILES] = {false};
    int scaled = 0;
    for (int i = 0; shared && i < ROOM; i++)
        for (size_t j = 0; j < v->n[i]; j++) {
            const struct tsr_layout_tile *t = &v->tiles[i][j];
            int s = room_index(t->participant_id);
            if (!r->frames[s])
                continue;
            bool fresh = false;
            size_t x = shared_for(v, t, k, fmt, &fresh);
            use[i][j] = v->shared[x];
            if ((fresh || r->changed[s]) && !done[x]) {
                g_assert_cmpint(
                    tsr_compositor_tile_scale(v->shared[x], r->frames[s], t->w, t->h, t->role), ==,
                    0);
                done[x] = true;
                scaled++;
            }
        }
    for (int i = 0; i < ROOM; i++) {
        struct tsr_compositor_source src[TSR_LAYOUT_MAX_TILES];
        for (size_t j = 0; j < v->n[i]; j++) {
            int s = room_index(v->tiles[i][j].participant_id);
            src[j] = (struct tsr_compositor_source){
                .frame = r->frames[s], .changed = r->changed[s], .scaled = use[i][j]};
        }
        av_frame_free(&v->canvas[i]);
        g_assert_cmpint(tsr_compositor_render(v->comp[i], v->tiles[i], src, v->n[i], &v->canvas[i]),
                        ==, 0);
    }
    return scaled;
}

static void assert_same_canvas(const AVFrame *a, const AVFrame *b)
{
    int planes = a->format == AV_PIX_FMT_NV12 ? 2 : 3;
    for (int p = 0; p < planes; p++) {
        int w = p && planes == 3 ? a->width / 2 : a->width, h = p ? a->height / 2 : a->height;
        for (int y = 0; y < h; y++)
            g_assert_cmpmem(a->data[p] + (size_t)y * a->linesize[p], w,
                            b->data[p] + (size_t)y * b->linesize[p], w);
    }
}

static void shared_case(enum tsr_layout_kind kind, enum tsr_compositor_kernels k,
                        enum tsr_compositor_format fmt)
{
    struct room r;
    room_init(&r);
    struct views direct, shared;
    views_init(&direct, &r, kind, k, fmt);
    views_init(&shared, &r, kind, k, fmt);
    views_render(&direct, &r, false, k, fmt);
    int first = views_render(&shared, &r, true, k, fmt);
    size_t shown = 0, copied = 0, scaled_here = 0;
    for (int i = 0; i < ROOM; i++) {
        assert_same_canvas(direct.canvas[i], shared.canvas[i]);
        struct tsr_compositor_stats st;
        tsr_compositor_get_stats(shared.comp[i], &st);
        copied += st.tiles_copied;
        scaled_here += st.tiles_scaled;
        for (size_t j = 0; j < shared.n[i]; j++)
            shown += r.frames[room_index(shared.tiles[i][j].participant_id)] != NULL;
    }
    /* Every video tile came from a shared tile, each scaled once. */
    g_assert_cmpuint(copied, ==, shown);
    g_assert_cmpuint(scaled_here, ==, 0);
    g_assert_cmpint(first, ==, (int)shared.n_shared);
    g_assert_cmpuint(shared.n_shared, <, shown);
    /* Next tick: two sources have new pictures; only their shared tiles are scaled
     * again (into the same buffers), only their tiles redrawn. */
    for (int i = 0; i <= ROOM; i++)
        r.changed[i] = i == 0 || i == 2;
    vt_fill_pattern(r.frames[0], 7);
    vt_fill_pattern(r.frames[2], 8);
    views_render(&direct, &r, false, k, fmt);
    int second = views_render(&shared, &r, true, k, fmt);
    g_assert_cmpint(second, >, 0);
    g_assert_cmpint(second, <, first);
    for (int i = 0; i < ROOM; i++)
        assert_same_canvas(direct.canvas[i], shared.canvas[i]);
    views_fini(&direct);
    views_fini(&shared);
    room_fini(&r);
}

static void test_shared_tiles_equal_direct(void)
{
    enum tsr_layout_kind kinds[] = {TSR_LAYOUT_GRID, TSR_LAYOUT_SPEAKER, TSR_LAYOUT_PRESENTATION};
    for (size_t l = 0; l < G_N_ELEMENTS(kinds); l++)
        for (int k = 0; k < 2; k++)
            for (int f = 0; f < 2; f++)
                shared_case(kinds[l],
                            k ? TSR_COMPOSITOR_KERNELS_REFERENCE : TSR_COMPOSITOR_KERNELS_FAST,
                            f ? TSR_COMPOSITOR_FORMAT_NV12 : TSR_COMPOSITOR_FORMAT_I420);
}

/* A shared tile that does not fit the tile (size, role, picture, format) is ignored:
 * the compositor scales the frame itself and the canvas is what it would be. */
static void test_shared_tile_mismatch(void)
{
    AVFrame *a = vt_frame_new(AV_PIX_FMT_YUV420P, 320, 240);
    AVFrame *b = vt_frame_new(AV_PIX_FMT_YUV420P, 320, 240);
    vt_fill_pattern(a, 1);
    vt_fill_pattern(b, 2);
    struct tsr_layout_tile t = {.participant_id = 1, .x = 20, .y = 10, .w = 200, .h = 120};
    struct tsr_compositor_params cp = {.width = 640, .height = 360, .background_rgb = BG_RGB};
    struct tsr_compositor *direct = NULL, *comp = NULL;
    g_assert_cmpint(tsr_compositor_new(&direct, &cp), ==, 0);
    g_assert_cmpint(tsr_compositor_new(&comp, &cp), ==, 0);
    struct tsr_compositor_source s = {.frame = a, .changed = TRUE};
    AVFrame *want = NULL, *got = NULL;
    g_assert_cmpint(tsr_compositor_render(direct, &t, &s, 1, &want), ==, 0);
    struct tsr_compositor_tile *st = NULL, *nv = NULL;
    g_assert_cmpint(tsr_compositor_tile_new(&st, TSR_COMPOSITOR_FORMAT_I420, 0), ==, 0);
    g_assert_cmpint(tsr_compositor_tile_new(&nv, TSR_COMPOSITOR_FORMAT_NV12, 0), ==, 0);
    g_assert_cmpint(tsr_compositor_tile_scale(nv, a, 200, 120, TSR_LAYOUT_ROLE_MAIN), ==, 0);
    struct {
        const AVFrame *from;
        int w;
        enum tsr_layout_role role;
        struct tsr_compositor_tile *tile;
    } bad[] = {{a, 202, TSR_LAYOUT_ROLE_MAIN, st},
               {a, 200, TSR_LAYOUT_ROLE_CONTENT, st},
               {b, 200, TSR_LAYOUT_ROLE_MAIN, st},
               {a, 200, TSR_LAYOUT_ROLE_MAIN, nv}};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        if (bad[i].tile == st)
            g_assert_cmpint(tsr_compositor_tile_scale(st, bad[i].from, bad[i].w, 120, bad[i].role),
                            ==, 0);
        s.scaled = bad[i].tile;
        av_frame_free(&got);
        g_assert_cmpint(tsr_compositor_render(comp, &t, &s, 1, &got), ==, 0);
        assert_same_canvas(want, got);
    }
    struct tsr_compositor_stats stats;
    tsr_compositor_get_stats(comp, &stats);
    g_assert_cmpuint(stats.tiles_copied, ==, 0);
    g_assert_cmpuint(stats.tiles_scaled, ==, G_N_ELEMENTS(bad));
    /* An unsupported format leaves the tile empty (ignored); bad sizes are refused. */
    AVFrame *rgb = vt_frame_new(AV_PIX_FMT_RGB24, 32, 32);
    g_assert_cmpint(tsr_compositor_tile_scale(st, rgb, 200, 120, 0), ==, TSR_ERR_UNSUPPORTED);
    s.frame = rgb;
    s.scaled = st;
    g_assert_cmpint(tsr_compositor_render(comp, &t, &s, 1, NULL), ==, 0);
    tsr_compositor_get_stats(comp, &stats);
    g_assert_cmpuint(stats.tiles_copied, ==, 0);
    g_assert_cmpuint(stats.unsupported_frames, ==, 1);
    g_assert_cmpint(tsr_compositor_tile_scale(st, a, 201, 120, 0), ==, -EINVAL);
    g_assert_cmpint(tsr_compositor_tile_new(&st, 7, 0), ==, -EINVAL);
    tsr_compositor_tile_free(&st);
    tsr_compositor_tile_free(&st);
    tsr_compositor_tile_free(&nv);
    g_assert_null(st);
    av_frame_free(&rgb);
    av_frame_free(&want);
    av_frame_free(&got);
    av_frame_free(&a);
    av_frame_free(&b);
    tsr_compositor_free(&direct);
    tsr_compositor_free(&comp);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/compositor/solid_colours", test_solid_colours);
    g_test_add_func("/compositor/pattern_psnr", test_pattern_psnr);
    g_test_add_func("/compositor/unchanged_untouched", test_unchanged_untouched);
    g_test_add_func("/compositor/placeholder_colours", test_placeholder_colours);
    g_test_add_func("/compositor/fast_equals_reference", test_fast_equals_reference);
    g_test_add_func("/compositor/canvas_fast_vs_reference", test_canvas_fast_vs_reference);
    g_test_add_func("/compositor/invalid", test_invalid);
    g_test_add_func("/compositor/shared_tiles_equal_direct", test_shared_tiles_equal_direct);
    g_test_add_func("/compositor/shared_tile_mismatch", test_shared_tile_mismatch);
    return g_test_run();
}
