/* Look-ahead limiter: no wrap, no clip, ceiling, bit-exact quiet passages, no pumping. */
#include <tessera/audio_limiter.h>

#include <glib.h>
#include <math.h>
#include <stdlib.h>

#define RATE 48000
#define BLOCK 960
#define MINUS_0_1_DBFS 32393 /* 32767 * 10^(-0.1/20) */

static int32_t tone(double f, size_t n, double amp)
{
    return (int32_t)lrint(amp * 32767.0 * sin(2.0 * M_PI * f * (double)n / RATE));
}

/* Run `n` samples of in[] through a fresh limiter in 20 ms blocks. */
static void run(const int32_t *in, int16_t *out, size_t n, struct tsr_audio_limiter *l)
{
    for (size_t i = 0; i < n; i += BLOCK)
        tsr_audio_limiter_process(l, in + i, out + i, n - i < BLOCK ? n - i : BLOCK);
}

/* Ten full-scale talkers summed: up to 10x over int16. */
static void test_ten_full_scale(void)
{
    const size_t n = 15 * BLOCK; /* 300 ms */
    int32_t *in = g_new(int32_t, n);
    int16_t *out = g_new(int16_t, n);
    for (size_t i = 0; i < n; i++) {
        int64_t s = 0;
        for (int k = 0; k < 10; k++)
            s += tone(200.0 + 130.0 * k, i, 1.0);
        in[i] = (int32_t)s;
    }
    struct tsr_audio_limiter l;
    tsr_audio_limiter_init(&l);
    run(in, out, n, &l);
    int peak = 0;
    for (size_t i = TSR_LIMITER_DELAY; i < n; i++) {
        int32_t x = in[i - TSR_LIMITER_DELAY], y = out[i];
        if ((int64_t)x * y < 0)
            g_error("sample %zu: sign flipped (true sum %d, out %d)", i, x, y);
        if (abs(y) > abs(x))
            g_error("sample %zu: amplified", i);
        if (abs(y) > peak)
            peak = abs(y);
    }
    g_assert_cmpint(peak, <=, MINUS_0_1_DBFS);
    g_assert_cmpint(peak, >, 30000); /* and it is still loud: limited, not muted */
    g_free(in);
    g_free(out);
}

/* A mix that stays under the ceiling is passed bit-exact, only delayed. */
static void test_quiet_is_bit_exact(void)
{
    const size_t n = 10 * BLOCK;
    int32_t *in = g_new(int32_t, n);
    int16_t *out = g_new(int16_t, n);
    for (size_t i = 0; i < n; i++)
        in[i] = tone(440.0, i, 0.3) + tone(660.0, i, 0.3);
    struct tsr_audio_limiter l;
    tsr_audio_limiter_init(&l);
    run(in, out, n, &l);
    for (size_t i = TSR_LIMITER_DELAY; i < n; i++)
        g_assert_cmpint(out[i], ==, in[i - TSR_LIMITER_DELAY]);
    g_assert_cmpfloat(tsr_audio_limiter_gain(&l), ==, 1.0f);
    g_free(in);
    g_free(out);
}

static int block_peak(const int16_t *x, size_t n)
{
    int p = 0;
    for (size_t i = 0; i < n; i++)
        p = abs(x[i]) > p ? abs(x[i]) : p;
    return p;
}

/* A steady loud tone comes out at a steady level (the gain does not follow the
 * waveform), and the quiet passage after it returns to full level instead of
 * staying ducked or swelling back and forth. */
static void test_no_pumping(void)
{
    const size_t loud = 20 * BLOCK, quiet = 40 * BLOCK, n = loud + quiet;
    int32_t *in = g_new(int32_t, n);
    int16_t *out = g_new(int16_t, n);
    for (size_t i = 0; i < n; i++)
        in[i] = i < loud ? tone(300.0, i, 4.0) : tone(300.0, i, 0.1);
    struct tsr_audio_limiter l;
    tsr_audio_limiter_init(&l);
    run(in, out, n, &l);
    int lo = 1 << 30, hi = 0;
    for (size_t b = 5; b < 19; b++) { /* steady part of the loud section */
        int p = block_peak(out + b * BLOCK, BLOCK);
        lo = p < lo ? p : lo;
        hi = p > hi ? p : hi;
    }
    g_test_message("loud block peaks %d..%d", lo, hi);
    g_assert_cmpfloat(20 * log10((double)hi / lo), <, 0.5);
    /* quiet section: block peaks only rise (no dip after the recovery) and end
     * at the input level */
    int prev = 0;
    for (size_t b = 21; b < 60; b++) {
        int p = block_peak(out + b * BLOCK, BLOCK);
        g_assert_cmpint(p, >=, prev - 2);
        prev = p;
    }
    int want = (int)lrint(0.1 * 32767.0);
    g_assert_cmpint(abs(prev - want), <=, want / 100); /* within 0.1 dB */
    g_assert_cmpfloat(tsr_audio_limiter_gain(&l), ==, 1.0f);
    g_free(in);
    g_free(out);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/limiter/ten_full_scale", test_ten_full_scale);
    g_test_add_func("/limiter/quiet_is_bit_exact", test_quiet_is_bit_exact);
    g_test_add_func("/limiter/no_pumping", test_no_pumping);
    return g_test_run();
}
