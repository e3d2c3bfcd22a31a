/* Plain C reference kernels. Written for clarity, not speed: the scaler computes
 * per-axis weights in double precision (box average when shrinking by more than
 * 2, bilinear otherwise), so it is the yardstick the fast path
 * and the tests are measured against. */
#include "compositor_kernels.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct taps {
    int first; /* first source index */
    int count;
    double w[]; /* per-tap weights, summing to 1 */
};

static struct taps *bilinear_taps(double c, int s)
{
    struct taps *t = malloc(sizeof(struct taps) + sizeof(double) * 2);
    if (!t)
        return NULL;
    if (c > s - 1)
        c = s - 1;
    int f = (int)c;
    t->first = f;
    t->count = f + 1 < s ? 2 : 1;
    t->w[0] = t->count == 2 ? 1.0 - (c - f) : 1.0;
    t->w[1] = t->count == 2 ? c - f : 0.0;
    return t;
}

/* Box taps with whole-sample edges: output i averages source samples
 * [i*s/d, (i+1)*s/d) with the edges truncated in 16.16 fixed point, at least one
 * sample. Whole-sample edges (rather than fractional coverage) are what lets a SIMD
 * box filter sum plain runs of bytes; the reference uses the same definition. */
static struct taps *box_taps(int i, int s, int d)
{
    int64_t dx = ((int64_t)s << 16) / d;
    int first = (int)((i * dx) >> 16);
    int64_t end_fp = (i + 1) * dx;
    if (end_fp > (int64_t)s << 16)
        end_fp = (int64_t)s << 16;
    int count = (int)(end_fp >> 16) - first;
    if (count < 1)
        count = 1;
    if (first + count > s)
        first = s - count;
    struct taps *t = malloc(sizeof(struct taps) + sizeof(double) * (size_t)count);
    if (!t)
        return NULL;
    t->first = first;
    t->count = count;
    for (int k = 0; k < count; k++)
        t->w[k] = 1.0 / count;
    return t;
}

/* Weights of every output index along one axis. `box`: shrinking by more than 2
 * (decided once per plane, from the vertical ratio, so both axes use one filter);
 * otherwise bilinear: centre-aligned when shrinking or doubling (`up2`), else
 * corner-aligned when enlarging (first and last samples map onto each other):
 * the conventions libyuv uses, so the two paths can be compared pixel by pixel. */
static struct taps **axis_taps(int s, int d, bool box, bool up2)
{
    struct taps **t = calloc((size_t)d, sizeof *t);
    if (!t)
        return NULL;
    double ratio = (double)s / d;
    for (int i = 0; i < d; i++) {
        if (box)
            t[i] = box_taps(i, s, d);
        else if (up2) /* exactly half-sample steps, even for odd d */
            t[i] = bilinear_taps(fmax((i + 0.5) * 0.5 - 0.5, 0.0), s);
        else if (d < s)
            t[i] = bilinear_taps(fmax((i + 0.5) * ratio - 0.5, 0.0), s);
        else
            t[i] = bilinear_taps(d > 1 ? (double)i * (s - 1) / (d - 1) : 0.0, s);
        if (!t[i])
            goto oom;
    }
    return t;
oom:
    for (int i = 0; i < d; i++)
        free(t[i]);
    free(t);
    return NULL;
}

static void taps_free(struct taps **t, int n)
{
    for (int i = 0; t && i < n; i++)
        free(t[i]);
    free(t);
}

/* Box average in integers: the sum times 65536/count, truncated (a reciprocal
 * multiply, the form SIMD code uses instead of a division per pixel); exact 2x and
 * 4x reductions round to nearest instead (fixed 2x2 / 4x4 sums need no reciprocal). */
static void box_scale(const uint8_t *src, int src_stride, struct taps **tx, struct taps **ty,
                      uint8_t *dst, int dst_stride, int dw, int dh, bool round)
{
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++) {
            uint32_t sum = 0;
            for (int j = 0; j < ty[y]->count; j++)
                for (int i = 0; i < tx[x]->count; i++)
                    sum += src[(size_t)(ty[y]->first + j) * src_stride + tx[x]->first + i];
            uint32_t n = (uint32_t)(tx[x]->count * ty[y]->count);
            dst[(size_t)y * dst_stride + x] =
                (uint8_t)(round ? (sum + n / 2) / n : (sum * (65536u / n)) >> 16);
        }
}

static void c_scale(const uint8_t *src, int src_stride, int sw, int sh, uint8_t *dst,
                    int dst_stride, int dw, int dh)
{
    bool box = 2 * dh < sh;
    bool up2 = (dw + 1) / 2 == sw && (dh + 1) / 2 == sh && dw > sw;
    struct taps **tx = axis_taps(sw, dw, box, up2), **ty = axis_taps(sh, dh, box, up2);
    double *row = malloc(sizeof(double) * (size_t)sw);
    if (!tx || !ty || !row)
        goto done; /* the reference has no error path; tests run with memory */
    if (box) {
        bool exact = (sw == 2 * dw && sh == 2 * dh) || (sw == 4 * dw && sh == 4 * dh);
        box_scale(src, src_stride, tx, ty, dst, dst_stride, dw, dh, exact);
        goto done;
    }
    for (int y = 0; y < dh; y++) {
        const struct taps *vy = ty[y];
        for (int x = 0; x < sw; x++) {
            double acc = 0;
            for (int k = 0; k < vy->count; k++)
                acc += vy->w[k] * src[(size_t)(vy->first + k) * src_stride + x];
            row[x] = acc;
        }
        for (int x = 0; x < dw; x++) {
            const struct taps *vx = tx[x];
            double acc = 0;
            for (int k = 0; k < vx->count; k++)
                acc += vx->w[k] * row[vx->first + k];
            int v = (int)(acc + 0.5);
            dst[(size_t)y * dst_stride + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
done:
    taps_free(tx, dw);
    taps_free(ty, dh);
    free(row);
}

static void c_fill(uint8_t *dst, int stride, int w, int h, uint8_t value)
{
    for (int y = 0; y < h; y++)
        memset(dst + (size_t)y * stride, value, (size_t)w);
}

static void c_split_uv(const uint8_t *uv, int uv_stride, uint8_t *u, int u_stride, uint8_t *v,
                       int v_stride, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            u[(size_t)y * u_stride + x] = uv[(size_t)y * uv_stride + 2 * x];
            v[(size_t)y * v_stride + x] = uv[(size_t)y * uv_stride + 2 * x + 1];
        }
}

static void c_merge_uv(const uint8_t *u, int u_stride, const uint8_t *v, int v_stride, uint8_t *uv,
                       int uv_stride, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uv[(size_t)y * uv_stride + 2 * x] = u[(size_t)y * u_stride + x];
            uv[(size_t)y * uv_stride + 2 * x + 1] = v[(size_t)y * v_stride + x];
        }
}

const struct tsr_compositor_kernel_ops tsr_compositor_kernels_c = {
    .name = "c",
    .scale = c_scale,
    .fill = c_fill,
    .split_uv = c_split_uv,
    .merge_uv = c_merge_uv,
};
