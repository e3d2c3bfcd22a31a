/* The compositor's GPU backend (compositor_vk.c), as compositor.c drives it: each
 * render hands it the tiles to draw, it draws them on the device (one dispatch per
 * tile) into its own copy of the canvas and copies that canvas back into the
 * AVFrame the encoders read. Unchanged tiles stay in the device's copy.
 * Internal to src/mix and the compositor tests. Thread: the compositor's caller. */
#ifndef TSR_MIX_COMPOSITOR_GPU_H
#define TSR_MIX_COMPOSITOR_GPU_H

#include <libavutil/frame.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tessera/layout.h>

#include "compositor_internal.h"

struct tsr_compositor_gpu;

/* One rectangle to draw: a picture placed as the tile's role says (src set) with
 * bars of `fill` around it, or `fill` alone (background, placeholder). */
struct gpu_job {
    struct tsr_layout_tile tile;
    const struct src_view *src; /* borrowed for the draw; NULL: fill */
    uint8_t fill[3];            /* Y, U, V */
};

/* Purpose: a GPU canvas of w x h (even) in I420 or NV12. `gpu_only`: refuse a CPU
 * implementation of Vulkan (compositor = auto). On failure `why` says why.
 * Returns 0, TSR_ERR_HW_UNAVAILABLE (no loader, no device, refused), -ENOMEM. */
int tsr_compositor_gpu_new(struct tsr_compositor_gpu **out, int w, int h, bool nv12,
                           bool gpu_only, char *why, size_t why_size);

/* Purpose: free it (waits for nothing: every draw has finished). NULLs *p; accepts NULL. */
void tsr_compositor_gpu_free(struct tsr_compositor_gpu **p);

/* Purpose: draw `jobs` in order and copy the whole canvas into `canvas` (writable,
 * w x h, the compositor's format). On failure the canvas is untouched, `why` says
 * what failed and *first is true when this is the first report of its cause (a lost
 * device is reported once for all its compositors); the backend is then unusable.
 * Returns 0, TSR_ERR_HW_UNAVAILABLE (device lost, dispatch failed), -ENOMEM. */
int tsr_compositor_gpu_draw(struct tsr_compositor_gpu *g, const struct gpu_job *jobs, size_t n,
                            AVFrame *canvas, char *why, size_t why_size, bool *first);

/* Purpose: the device's name. Static for the backend's life. */
const char *tsr_compositor_gpu_device(const struct tsr_compositor_gpu *g);

/* Purpose (tests): make the next draw fail as if the device were lost. */
void tsr_compositor_gpu_fail_next(struct tsr_compositor_gpu *g);

/* Purpose (tests): the same through a compositor (nothing when it draws on the CPU). */
struct tsr_compositor;
void tsr_compositor_inject_gpu_failure(struct tsr_compositor *c);

#endif
