/* What the compositor draws over a tile after its picture: the name band, the
 * muted-microphone mark, a placeholder's initials and the active speaker's border.
 *
 * Everything is blended in Y'CbCr straight into the canvas, inside the tile only:
 * labels arrive rasterised (labels.c), so a redraw costs one pass over the band's
 * pixels (a few percent of a tile), and an unchanged tile costs nothing because the
 * compositor does not redraw it. Chroma is blended per 2x2 block with the block's
 * strongest coverage, so white text stays white on a coloured picture. */
#include <tessera/compositor.h>

#include <libyuv/planar_functions.h>
#include <math.h>
#include <string.h>

#include "compositor_internal.h"

#define BORDER_RGB 0xffb300u /* amber: reads on faces, walls and placeholder colours */
#define MARK_RGB 0xd93025u   /* the muted mark's disc */

static int clamp_int(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static double clamp01(double v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

void tsr_compositor_label_fit(int w, int h, struct tsr_compositor_label_fit *out)
{
    int px = clamp_int(h / 14, 9, 36);
    int pad = px / 3 > 2 ? px / 3 : 2;
    /* An em of DejaVu Sans spans ~1.17 em from ascender to descender. */
    int band = (px * 117 / 100 + pad + 1) & ~1;
    int name_w = w - 2 * pad - band; /* room for the mark at the band's end */
    /* A band taller than a third of the tile would hide the picture it names (the
     * strip of a small canvas): such tiles go without. */
    bool room = name_w >= px && band * 3 <= h;
    *out = (struct tsr_compositor_label_fit){
        .name_px = px,
        .name_max_w = room ? name_w : 0,
        .initials_px = clamp_int(h * 2 / 5, 8, 240),
        .initials_max_w = w - 2 * pad > 0 ? w - 2 * pad : 1,
        .band_h = band < h ? band : h,
    };
}

static int pad_of(const struct tsr_compositor_label_fit *fit)
{
    return fit->name_px / 3 > 2 ? fit->name_px / 3 : 2;
}

#define MAX_ROW 4096 /* wider than any canvas ([mixer] canvas_width <= 3840) */

/* dst = dst + (to - dst) * a / 255 over a plane rectangle, `a` per pixel (a_stride
 * 0: one row for every line). libyuv's SIMD BlendPlane does the work; `to` is one
 * row of the colour, read with stride 0 for every line. */
static void blend_plane(uint8_t *dst, int ds, uint8_t to, const uint8_t *a, int a_stride, int w,
                        int h)
{
    uint8_t row[MAX_ROW];
    if (w <= 0 || h <= 0 || w > MAX_ROW)
        return;
    memset(row, to, (size_t)w);
    BlendPlane(row, 0, dst, ds, a, a_stride, dst, ds, w, h);
}

/* dst + (to - dst) * a / 255 for one sample (the NV12 and chroma paths). */
static uint8_t mix(uint8_t dst, uint8_t to, unsigned a)
{
    unsigned t = dst * (255 - a) + to * a + 128;
    return (uint8_t)((t + (t >> 8)) >> 8);
}

/* Darkens a rectangle (even x, y, w, h) to 40 % towards black, and its chroma
 * towards grey, so white text reads on any picture while the picture shows through. */
static void dim(const struct overlay_canvas *c, int x, int y, int w, int h)
{
    uint8_t a[MAX_ROW];
    if (w <= 0 || w > MAX_ROW)
        return;
    memset(a, 153, (size_t)w); /* 60 % of the way to black (16) and grey (128) */
    blend_plane(c->y + (size_t)y * c->ys + x, c->ys, 16, a, 0, w, h);
    if (c->cstep == 1) {
        blend_plane(c->u + (size_t)(y / 2) * c->cs + x / 2, c->cs, 128, a, 0, w / 2, h / 2);
        blend_plane(c->v + (size_t)(y / 2) * c->cs + x / 2, c->cs, 128, a, 0, w / 2, h / 2);
        return;
    }
    for (int j = 0; j < h / 2; j++) {
        uint8_t *uv = c->u + (size_t)(y / 2 + j) * c->cs + (size_t)x;
        for (int i = 0; i < w; i++)
            uv[i] = mix(uv[i], 128, 153);
    }
}

/* Blends coverage `alpha` (w x h, stride w) in colour (y, u, v) at (x0, y0),
 * clipped to the rectangle `clip`. Chroma (per 2x2 block, with the block's
 * strongest coverage, so white stays white on colour) only when `chroma`: thin
 * text on the dimmed band does without it. */
static void blend(const struct overlay_canvas *c, const uint8_t *alpha, int w, int h, int x0,
                  int y0, struct rect clip, const uint8_t yuv[3], bool chroma)
{
    int xa = x0 > clip.x ? x0 : clip.x, ya = y0 > clip.y ? y0 : clip.y;
    int xb = x0 + w < clip.x + clip.w ? x0 + w : clip.x + clip.w;
    int yb = y0 + h < clip.y + clip.h ? y0 + h : clip.y + clip.h;
    if (xa >= xb || ya >= yb)
        return;
    blend_plane(c->y + (size_t)ya * c->ys + xa, c->ys, yuv[0],
                alpha + (size_t)(ya - y0) * w + (xa - x0), w, xb - xa, yb - ya);
    for (int cy = ya / 2; chroma && cy < (yb + 1) / 2; cy++)
        for (int cx = xa / 2; cx < (xb + 1) / 2; cx++) {
            unsigned a = 0;
            for (int y = 2 * cy > ya ? 2 * cy : ya; y < 2 * cy + 2 && y < yb; y++)
                for (int x = 2 * cx > xa ? 2 * cx : xa; x < 2 * cx + 2 && x < xb; x++) {
                    unsigned s = alpha[(size_t)(y - y0) * w + (x - x0)];
                    a = s > a ? s : a;
                }
            if (!a)
                continue;
            size_t o = (size_t)cy * c->cs + (size_t)cx * c->cstep;
            c->u[o] = mix(c->u[o], yuv[1], a);
            c->v[o] = mix(c->v[o], yuv[2], a);
        }
}

static void blend_label(const struct overlay_canvas *c, const struct tsr_label *l, int x0, int y0,
                        struct rect clip, bool chroma)
{
    static const uint8_t white[3] = {235, 128, 128};
    if (l && l->w > 0)
        blend(c, l->alpha, l->w, l->h, x0, y0, clip, white, chroma);
}

static void make_mark(struct overlay_mark *mk, int s);

/* The muted-microphone mark: a red disc crossed by a white bar, s x s pixels,
 * anti-aliased analytically (no glyph needed: fonts rarely have one). */
static void draw_mark(const struct overlay_canvas *c, int x0, int y0, int s, struct rect clip)
{
    struct overlay_mark *mk = c->mark;
    if (s > 64)
        s = 64;
    if (mk->s != s)
        make_mark(mk, s);
    uint8_t red[3], white[3] = {235, 128, 128};
    tsr_compositor_rgb_to_yuv(MARK_RGB, &red[0], &red[1], &red[2]);
    blend(c, mk->disc, s, s, x0, y0, clip, red, true);
    blend(c, mk->bar, s, s, x0, y0, clip, white, true);
}

/* Rasterises the mark at size s once (then kept: a muted tile is redrawn at each of
 * its new frames, and square roots per pixel per frame would cost more than the
 * blend). */
static void make_mark(struct overlay_mark *mk, int s)
{
    uint8_t *disc = mk->disc, *bar = mk->bar;
    mk->s = s;
    double r = s / 2.0, cx = r, cy = r, half = s / 10.0 + 0.5;
    for (int y = 0; y < s; y++)
        for (int x = 0; x < s; x++) {
            double px = x + 0.5 - cx, py = y + 0.5 - cy;
            double d = sqrt(px * px + py * py);
            double a = clamp01(r - d + 0.5);
            /* distance from the diagonal bar (top-left to bottom-right), inside the disc */
            double dl = fabs(px - py) / sqrt(2.0);
            double b = d < r * 0.72 ? clamp01(half - dl + 0.5) : 0;
            disc[y * s + x] = (uint8_t)lround(a * 255);
            bar[y * s + x] = (uint8_t)lround(b * 255);
        }
}

static void fill(const struct overlay_canvas *c, struct rect r, const uint8_t yuv[3])
{
    for (int j = 0; j < r.h; j++)
        memset(c->y + (size_t)(r.y + j) * c->ys + r.x, yuv[0], (size_t)r.w);
    for (int j = 0; j < r.h / 2; j++)
        for (int i = 0; i < r.w / 2; i++) {
            size_t o = (size_t)(r.y / 2 + j) * c->cs + (size_t)(r.x / 2 + i) * c->cstep;
            c->u[o] = yuv[1];
            c->v[o] = yuv[2];
        }
}

static void draw_border(const struct overlay_canvas *c, const struct tsr_layout_tile *t)
{
    int m = t->w < t->h ? t->w : t->h;
    int b = clamp_int(m / 40, 2, 8) & ~1;
    uint8_t col[3];
    tsr_compositor_rgb_to_yuv(BORDER_RGB, &col[0], &col[1], &col[2]);
    if (2 * b >= m)
        return;
    fill(c, (struct rect){t->x, t->y, t->w, b}, col);
    fill(c, (struct rect){t->x, t->y + t->h - b, t->w, b}, col);
    fill(c, (struct rect){t->x, t->y + b, b, t->h - 2 * b}, col);
    fill(c, (struct rect){t->x + t->w - b, t->y + b, b, t->h - 2 * b}, col);
}

static void draw_band(const struct overlay_canvas *c, const struct tsr_layout_tile *t,
                      const struct tsr_compositor_label_fit *fit, const struct tsr_label *name,
                      bool muted)
{
    struct rect tile = {t->x, t->y, t->w, t->h};
    int pad = pad_of(fit), band = fit->band_h;
    int mark = muted ? band - pad : 0;
    int w = pad + name->w + (name->w ? pad : 0) + (mark ? mark + pad : 0);
    w = (w + 1) & ~1;
    if (w > t->w)
        w = t->w;
    int y = t->y + t->h - band;
    dim(c, t->x, y, w, band);
    blend_label(c, name, t->x + pad, y + (band - name->h) / 2, tile, false);
    if (mark)
        draw_mark(c, t->x + pad + name->w + (name->w ? pad : 0), y + pad / 2, mark, tile);
}

bool tsr_compositor_draw_overlay(const struct overlay_canvas *c, const struct tsr_layout_tile *t,
                                 const struct tsr_compositor_overlay *ov, bool placeholder)
{
    if (!ov)
        return false;
    struct tsr_compositor_label_fit fit;
    tsr_compositor_label_fit(t->w, t->h, &fit);
    bool drew = false;
    if (placeholder && ov->initials && ov->initials->w > 0) {
        const struct tsr_label *l = ov->initials;
        int above = ov->name ? fit.band_h / 2 : 0; /* centred in what the band leaves */
        blend_label(c, l, t->x + (t->w - l->w) / 2, t->y + (t->h - l->h) / 2 - above,
                    (struct rect){t->x, t->y, t->w, t->h}, true);
        drew = true;
    }
    if (ov->name && fit.band_h < t->h) {
        draw_band(c, t, &fit, ov->name, ov->mic_muted);
        drew = true;
    }
    if (ov->highlight) {
        draw_border(c, t);
        drew = true;
    }
    return drew;
}
