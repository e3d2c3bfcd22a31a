/* Polyphase windowed-sinc resampling by an integer ratio (see tessera/resampler.h). */
#include <tessera/resampler.h>

#include <errno.h>
#include <math.h>
#include <string.h>

int tsr_resampler_init(struct tsr_resampler *r, int ratio, int n_taps, double cutoff_hz)
{
    if (ratio < 2 || ratio > 12 || n_taps < ratio || n_taps > TSR_RESAMPLER_MAX_TAPS ||
        n_taps % ratio || !(cutoff_hz > 0) || cutoff_hz >= 24000.0 / ratio)
        return -EINVAL;
    const double fc = cutoff_hz / 48000.0, mid = (n_taps - 1) / 2.0;
    double h[TSR_RESAMPLER_MAX_TAPS], sum = 0;
    for (int k = 0; k < n_taps; k++) {
        double t = k - mid, x = 2.0 * M_PI * fc * t;
        double sinc = fabs(t) < 1e-9 ? 2.0 * fc : sin(x) / (M_PI * t);
        double w = 2.0 * M_PI * k / (n_taps - 1);
        h[k] = sinc * (0.42 - 0.5 * cos(w) + 0.08 * cos(2.0 * w));
        sum += h[k];
    }
    memset(r, 0, sizeof *r);
    r->ratio = ratio;
    r->n_taps = n_taps;
    for (int k = 0; k < n_taps; k++)
        r->taps[k] = (float)(h[k] / sum);
    return 0;
}

void tsr_resampler_clear(struct tsr_resampler *r)
{
    memset(r->hist, 0, sizeof r->hist);
}

static int16_t clamp16(float v)
{
    v = v >= 0 ? v + 0.5f : v - 0.5f;
    return (int16_t)(v > 32767.f ? 32767 : v < -32768.f ? -32768 : (int)v);
}

int tsr_resampler_up(struct tsr_resampler *r, const int16_t *in, size_t n, int16_t *out48k)
{
    const size_t ratio = (size_t)r->ratio, phase_taps = (size_t)r->n_taps / ratio;
    if (!ratio || n * ratio > TSR_RESAMPLER_MAX_BLOCK_48K || (n && (!in || !out48k)))
        return -EINVAL;
    /* buf: the last phase_taps - 1 inputs, then the new ones. */
    int16_t buf[TSR_RESAMPLER_MAX_TAPS / 2 + TSR_RESAMPLER_MAX_BLOCK_48K / 2];
    const size_t h = phase_taps - 1, end = (size_t)r->n_taps;
    memcpy(buf, r->hist + end - h, h * sizeof *buf);
    memcpy(buf + h, in, n * sizeof *buf);
    for (size_t i = 0; i < n; i++) {
        const int16_t *x = buf + h + i; /* x[-j] is input i - j */
        for (size_t p = 0; p < ratio; p++) {
            float acc = 0;
            for (size_t j = 0; j < phase_taps; j++)
                acc += r->taps[p + ratio * j] * (float)x[-(ptrdiff_t)j];
            out48k[i * ratio + p] = clamp16(acc * (float)ratio);
        }
    }
    memcpy(r->hist + end - h, buf + n, h * sizeof *buf);
    return 0;
}

int tsr_resampler_down(struct tsr_resampler *r, const int16_t *in48k, size_t n, int16_t *out)
{
    const size_t ratio = (size_t)r->ratio, taps = (size_t)r->n_taps;
    if (!ratio || n % ratio || n > TSR_RESAMPLER_MAX_BLOCK_48K || (n && (!in48k || !out)))
        return -EINVAL;
    int16_t buf[TSR_RESAMPLER_MAX_TAPS - 1 + TSR_RESAMPLER_MAX_BLOCK_48K];
    const size_t h = taps - 1;
    memcpy(buf, r->hist + 1, h * sizeof *buf);
    memcpy(buf + h, in48k, n * sizeof *buf);
    for (size_t i = 0; i < n / ratio; i++) {
        const int16_t *x = buf + h + i * ratio + ratio - 1;
        float acc = 0;
        for (size_t k = 0; k < taps; k++)
            acc += r->taps[k] * (float)x[-(ptrdiff_t)k];
        out[i] = clamp16(acc);
    }
    memcpy(r->hist + 1, buf + n, h * sizeof *buf);
    return 0;
}
