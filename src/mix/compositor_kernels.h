/* Compositor kernels: the per-plane operations behind one function table, so the
 * plain C reference and the SIMD fast path are interchangeable and comparable.
 * Internal to src/mix (and the compositor tests/benchmarks). Thread: any; pure. */
#ifndef TSR_MIX_COMPOSITOR_KERNELS_H
#define TSR_MIX_COMPOSITOR_KERNELS_H

#include <stdint.h>

struct tsr_compositor_kernel_ops {
    const char *name;
    /* Scale an 8-bit plane sw x sh -> dw x dh (all >= 1): area average when
     * shrinking, bilinear when enlarging (per axis in the reference). */
    void (*scale)(const uint8_t *src, int src_stride, int sw, int sh, uint8_t *dst, int dst_stride,
                  int dw, int dh);
    void (*fill)(uint8_t *dst, int stride, int w, int h, uint8_t value);
    /* NV12 chroma <-> two planes; w, h in chroma samples. */
    void (*split_uv)(const uint8_t *uv, int uv_stride, uint8_t *u, int u_stride, uint8_t *v,
                     int v_stride, int w, int h);
    void (*merge_uv)(const uint8_t *u, int u_stride, const uint8_t *v, int v_stride, uint8_t *uv,
                     int uv_stride, int w, int h);
};

extern const struct tsr_compositor_kernel_ops tsr_compositor_kernels_c;
extern const struct tsr_compositor_kernel_ops tsr_compositor_kernels_libyuv;

#endif
