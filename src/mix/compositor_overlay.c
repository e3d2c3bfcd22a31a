/* What the compositor draws over a tile after its picture: the name band, the
 * muted-microphone mark, a placeholder's initials and the active speaker's border.
 *
 * Everything is blended in Y'CbCr straight into the canvas, inside the tile only:
 * labels arrive rasterised (labels.c), so a redraw costs one pass over the band's
 * pixels (a few percent of a tile), and an unchanged tile costs nothing because the
 * compositor does not redraw it. Chroma is blended per 2x2 block with the block's
 * strongest coverage, so white text stays white on a coloured picture. */
#include <tessera/compositor.h>

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
    *out = (struct tsr_compositor_label_fit){
        .name_px = px,
        .name_max_w = name_w >= px ? name_w : 0,
        .initials_px = clamp_int(h * 2 / 5, 8, 240),
        .initials_max_w = w - 2 * pad > 0 ? w - 2 * pad : 1,
        .band_h = band < h ? band : h,
    };
}

static int pad_of(const struct tsr_compositor_label_fit *fit)
{
    return fit->name_px / 3 > 2 ? fit->name_px / 3 : 2;
}

/* Darkens a rectangle (even x, y, w, h) to 40 %, and its chroma towards grey, so
 * white text reads on any picture while the picture still shows through. */
static void dim(const struct overlay_canvas *c, int x, int y, int w, int h)
{
    for (int j = 0; j < h; j++) {
        uint8_t *p = c->y + (size_t)(y + j) * c->ys + x;
        for (int i = 0; i < w; i++)
            p[i] = (uint8_t)(16 + (p[i] - 16) * 2 / 5);
    }
    for (int j = 0; j < h / 2; j++) {
        size_t row = (size_t)(y / 2 + j) * c->cs;
        for (int i = 0; i < w / 2; i++) {
            uint8_t *u = c->u + row + (size_t)(x / 2 + i) * c->cstep;
            uint8_t *v = c->v + row + (size_t)(x / 2 + i) * c->cstep;
            *u = (uint8_t)(128 + (*u - 128) * 2 / 5);
            *v = (uint8_t)(128 + (*v - 128) * 2 / 5);
        }
    }
}

static uint8_t mix(uint8_t dst, uint8_t to, unsigned a)
{
    return (uint8_t)((dst * (255 - a) + to * a + 127) / 255);
}

/* Blends coverage `alpha` (w x h, stride w) in colour (y, u, v) at (x0, y0),
 * clipped to the rectangle `clip`. */
static void blend(const struct overlay_canvas *c, const uint8_t *alpha, int w, int h, int x0,
                  int y0, struct rect clip, const uint8_t yuv[3])
{
    int xa = x0 > clip.x ? x0 : clip.x, ya = y0 > clip.y ? y0 : clip.y;
    int xb = x0 + w < clip.x + clip.w ? x0 + w : clip.x + clip.w;
    int yb = y0 + h < clip.y + clip.h ? y0 + h : clip.y + clip.h;
    for (int y = ya; y < yb; y++)
        for (int x = xa; x < xb; x++) {
            unsigned a = alpha[(size_t)(y - y0) * w + (x - x0)];
            if (a)
                c->y[(size_t)y * c->ys + x] = mix(c->y[(size_t)y * c->ys + x], yuv[0], a);
        }
    for (int cy = ya / 2; cy < (yb + 1) / 2; cy++)
        for (int cx = xa / 2; cx < (xb + 1) / 2; cx++) {
            unsigned a = 0;
            for (int k = 0; k < 4; k++) {
                int x = 2 * cx + (k & 1), y = 2 * cy + (k >> 1);
                if (x >= xa && x < xb && y >= ya && y < yb) {
                    unsigned s = alpha[(size_t)(y - y0) * w + (x - x0)];
                    a = s > a ? s : a;
                }
            }
            if (!a)
                continue;
            size_t o = (size_t)cy * c->cs + (size_t)cx * c->cstep;
            c->u[o] = mix(c->u[o], yuv[1], a);
            c->v[o] = mix(c->v[o], yuv[2], a);
        }
}

static void blend_label(const struct overlay_canvas *c, const struct tsr_label *l, int x0, int y0,
                        struct rect clip)
{
    static const uint8_t white[3] = {235, 128, 128};
    if (l && l->w > 0)
        blend(c, l->alpha, l->w, l->h, x0, y0, clip, white);
}

/* The muted-microphone mark: a red disc crossed by a white bar, s x s pixels,
 * anti-aliased analytically (no glyph needed: fonts rarely have one). */
static void draw_mark(const struct overlay_canvas *c, int x0, int y0, int s, struct rect clip)
{
    uint8_t disc[64 * 64], bar[64 * 64];
    if (s > 64)
        s = 64;
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
    uint8_t red[3], white[3] = {235, 128, 128};
    tsr_compositor_rgb_to_yuv(MARK_RGB, &red[0], &red[1], &red[2]);
    blend(c, disc, s, s, x0, y0, clip, red);
    blend(c, bar, s, s, x0, y0, clip, white);
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
    blend_label(c, name, t->x + pad, y + (band - name->h) / 2, tile);
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
                    (struct rect){t->x, t->y, t->w, t->h});
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
