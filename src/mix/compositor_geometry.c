/* Compositor geometry: source planes, crops, destination rectangles and the plan
 * of each plane's scale. Shared by both backends (compositor_internal.h). */
#include "compositor_internal.h"

#include <tessera/err.h>

#include <libavutil/pixfmt.h>
#include <string.h>

int tsr_compositor_src_view_init(struct src_view *s, const AVFrame *f)
{
    memset(s, 0, sizeof *s);
    s->w = f->width;
    s->h = f->height;
    s->y = f->data[0];
    s->ys = f->linesize[0];
    s->u = f->data[1];
    s->us = f->linesize[1];
    s->v = f->data[2];
    s->vs = f->linesize[2];
    s->full_range = f->color_range == AVCOL_RANGE_JPEG;
    switch (f->format) {
    case AV_PIX_FMT_YUVJ420P:
        s->full_range = true;
        /* fall through */
    case AV_PIX_FMT_YUV420P:
        s->sx = s->sy = 1;
        break;
    case AV_PIX_FMT_YUVJ422P:
        s->full_range = true;
        /* fall through */
    case AV_PIX_FMT_YUV422P:
        s->sx = 1;
        break;
    case AV_PIX_FMT_YUVJ444P:
        s->full_range = true;
        /* fall through */
    case AV_PIX_FMT_YUV444P:
        break;
    case AV_PIX_FMT_NV12:
        s->sx = s->sy = 1;
        s->v = NULL;
        break;
    default:
        return TSR_ERR_UNSUPPORTED;
    }
    if (s->w < 1 || s->h < 1 || !s->y || !s->u || s->ys <= 0 || s->us <= 0 || (s->v && s->vs <= 0))
        return TSR_ERR_UNSUPPORTED; /* negative strides (flipped) are not taken */
    return 0;
}

/* Crop offsets stay on chroma sample boundaries. Depends only on the source size
 * and the tile's size and role, so a shared tile scaled at the origin lands on the
 * same pixels as one scaled in place. */
void tsr_compositor_place(const struct src_view *s, const struct tsr_layout_tile *t,
                          struct rect *crop, struct rect *dst)
{
    *crop = (struct rect){0, 0, s->w, s->h};
    *dst = (struct rect){t->x, t->y, t->w, t->h};
    int64_t lhs = (int64_t)t->w * s->h, rhs = (int64_t)s->w * t->h;
    if (t->role == TSR_LAYOUT_ROLE_CONTENT) {
        if (lhs > rhs) { /* tile wider than the source: bars left and right */
            int w = (int)(rhs / s->h) & ~1;
            dst->w = w < 2 ? 2 : w;
            dst->x = t->x + ((t->w - dst->w) / 2 & ~1);
        } else if (lhs < rhs) {
            int h = (int)(lhs / s->w) & ~1;
            dst->h = h < 2 ? 2 : h;
            dst->y = t->y + ((t->h - dst->h) / 2 & ~1);
        }
        return;
    }
    if (lhs > rhs) { /* tile wider: crop top and bottom */
        int h = (int)(rhs / t->w);
        crop->h = h < 1 ? 1 : h;
        crop->y = ((s->h - crop->h) / 2) & ~((1 << s->sy) - 1);
    } else if (lhs < rhs) {
        int w = (int)(lhs / t->h);
        crop->w = w < 1 ? 1 : w;
        crop->x = ((s->w - crop->w) / 2) & ~((1 << s->sx) - 1);
    }
}

struct rect tsr_compositor_chroma_crop(const struct src_view *s, struct rect crop)
{
    int ccx = crop.x >> s->sx, ccy = crop.y >> s->sy;
    int cpw = (s->w + (1 << s->sx) - 1) >> s->sx, cph = (s->h + (1 << s->sy) - 1) >> s->sy;
    int ccw = ((crop.x + crop.w + (1 << s->sx) - 1) >> s->sx) - ccx;
    int cch = ((crop.y + crop.h + (1 << s->sy) - 1) >> s->sy) - ccy;
    if (ccw > cpw - ccx)
        ccw = cpw - ccx;
    if (cch > cph - ccy)
        cch = cph - ccy;
    return (struct rect){ccx, ccy, ccw, cch};
}

/* Shrinking by 2 or 4 exactly hits libyuv's SIMD box rows; any other ratio above 2
 * would take its general box path, whose column sums are plain C (8 ms for a 3x3
 * canvas here). So a large shrink is split: an exact 2x or 4x box into a small
 * stage (a quarter or a sixteenth of the source), then a mild (< 2.5x) filter.
 * Measured: 3x3 and 5x5 canvases ~5x faster, same PSNR class (README). The stage
 * region is the centred k-aligned one; at most k-1 edge samples are dropped. */
struct plane_plan tsr_compositor_plan_plane(int sw, int sh, int dw, int dh)
{
    int k = (sw >= 5 * dw && sh >= 5 * dh) ? 4 : (sw >= 5 * dw / 2 && sh >= 5 * dh / 2) ? 2 : 1;
    if (k == 1 || (sw == k * dw && sh == k * dh))
        return (struct plane_plan){.stage = false, .k = 1, .tw = sw, .th = sh};
    int tw = sw / k, th = sh / k;
    return (struct plane_plan){.stage = true,
                               .k = k,
                               .ox = (sw - tw * k) / 2,
                               .oy = (sh - th * k) / 2,
                               .tw = tw,
                               .th = th};
}
