/* Fast path: libyuv's SIMD row functions (SSE2/AVX2/NEON picked at run time).
 * Chosen over libswscale by measurement (bench/bench_compositor.c, README): box
 * filtering a 1280x720 source into a 640x360 tile is an order of magnitude cheaper
 * here, and libyuv takes plain plane pointers, so no per-tile context is needed. */
#include "compositor_kernels.h"

#include <libyuv/planar_functions.h>
#include <libyuv/scale.h>

static void yuv_scale(const uint8_t *src, int src_stride, int sw, int sh, uint8_t *dst,
                      int dst_stride, int dw, int dh)
{
    /* kFilterBox: area average when shrinking by 2x or more; libyuv itself switches
     * to bilinear for milder ratios and for enlarging. */
    ScalePlane(src, src_stride, sw, sh, dst, dst_stride, dw, dh, kFilterBox);
}

static void yuv_fill(uint8_t *dst, int stride, int w, int h, uint8_t value)
{
    SetPlane(dst, stride, w, h, value);
}

static void yuv_split_uv(const uint8_t *uv, int uv_stride, uint8_t *u, int u_stride, uint8_t *v,
                         int v_stride, int w, int h)
{
    SplitUVPlane(uv, uv_stride, u, u_stride, v, v_stride, w, h);
}

static void yuv_merge_uv(const uint8_t *u, int u_stride, const uint8_t *v, int v_stride,
                         uint8_t *uv, int uv_stride, int w, int h)
{
    MergeUVPlane(u, u_stride, v, v_stride, uv, uv_stride, w, h);
}

const struct tsr_compositor_kernel_ops tsr_compositor_kernels_libyuv = {
    .name = "libyuv",
    .scale = yuv_scale,
    .fill = yuv_fill,
    .split_uv = yuv_split_uv,
    .merge_uv = yuv_merge_uv,
};
