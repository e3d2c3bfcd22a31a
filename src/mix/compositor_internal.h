/* Compositor internals shared by the CPU path (compositor.c) and the Vulkan backend
 * (compositor_vk.c): how a source picture lands in a tile. Both backends take every
 * geometric decision from these functions, so they draw the same pixels and differ
 * only in the arithmetic of the filter (tests allow ±2). Internal to src/mix and the
 * compositor tests. Thread: any; pure. */
#ifndef TSR_MIX_COMPOSITOR_INTERNAL_H
#define TSR_MIX_COMPOSITOR_INTERNAL_H

#include <libavutil/frame.h>
#include <stdbool.h>

#include <tessera/compositor.h>
#include <tessera/layout.h>

struct rect {
    int x, y, w, h;
};

/* Where a source picture's planes are and how its chroma is subsampled. */
struct src_view {
    const uint8_t *y, *u, *v; /* v NULL for NV12 (u holds interleaved UV) */
    int ys, us, vs;
    int w, h, sx, sy; /* luma size, chroma shifts */
    bool full_range;
};

/* How one plane is scaled: straight (stage false), or first an exact k x k box of
 * the k-aligned region at (ox, oy) of the source into a tw x th stage, then the
 * stage into the destination. Large shrinks take the second form: libyuv's SIMD box
 * rows exist for 2x and 4x only (compositor.c, scale_plane). */
struct plane_plan {
    bool stage;
    int k, ox, oy, tw, th;
};

/* Purpose: describe frame f's planes. Returns 0 or TSR_ERR_UNSUPPORTED (pixel
 * format, empty picture, flipped strides). */
int tsr_compositor_src_view_init(struct src_view *s, const AVFrame *f);

/* Purpose: the source crop and the destination rectangle (canvas coordinates) for
 * one tile: crop to fill (camera) or fit with bars (content). */
void tsr_compositor_place(const struct src_view *s, const struct tsr_layout_tile *t,
                          struct rect *crop, struct rect *dst);

/* Purpose: the luma crop's chroma samples in the source chroma plane. */
struct rect tsr_compositor_chroma_crop(const struct src_view *s, struct rect crop);

/* Purpose: how a sw x sh plane is scaled to dw x dh. */
struct plane_plan tsr_compositor_plan_plane(int sw, int sh, int dw, int dh);

/* The muted mark's coverage at the last size drawn (one per compositor). */
struct overlay_mark {
    int s;
    uint8_t disc[64 * 64], bar[64 * 64];
};

/* A canvas as the overlay pass writes it. */
struct overlay_canvas {
    uint8_t *y, *u, *v; /* NV12: v is u + 1 and chroma samples are 2 bytes apart */
    int ys, cs;         /* luma and chroma line sizes */
    int cstep;          /* 1 for I420, 2 for NV12 */
    struct overlay_mark *mark;
};

/* Purpose: draw `ov` over tile `t`, whose picture (or placeholder colour, when
 * `placeholder`) is already in the canvas. Touches nothing outside the tile.
 * Returns whether it drew anything. (compositor_overlay.c) */
bool tsr_compositor_draw_overlay(const struct overlay_canvas *c, const struct tsr_layout_tile *t,
                                 const struct tsr_compositor_overlay *ov, bool placeholder);

#endif
