/* G.711 companders and the 1:6 resampler: code points, round trip within the
 * quantisation step, tone frequency and level kept, out-of-band tone removed. */
#include "../common/tone.h"
#include <tessera/g711.h>

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdlib.h>

/* Goertzel power of `f` Hz in x[0..n) at `rate`, in dB relative to a full-scale sine. */
static double tone_db(const int16_t *x, size_t n, double f, double rate)
{
    double w = 2.0 * M_PI * f / rate, c = 2.0 * cos(w), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = x[i] / 32768.0 + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double p = s1 * s1 + s2 * s2 - c * s1 * s2;
    return 10.0 * log10(p / ((double)n * n / 4.0) + 1e-30);
}

static void test_code_points(void)
{
    g_assert_cmpint(tsr_g711_ulaw_decode(0xff), ==, 0);
    g_assert_cmpint(tsr_g711_ulaw_decode(0x7f), ==, 0);
    g_assert_cmpint(tsr_g711_ulaw_encode(0), ==, 0xff);
    g_assert_cmpint(tsr_g711_ulaw_decode(0x80), ==, 32124);
    g_assert_cmpint(tsr_g711_ulaw_decode(0x00), ==, -32124);
    g_assert_cmpint(tsr_g711_ulaw_encode(32767), ==, 0x80);
    g_assert_cmpint(tsr_g711_ulaw_encode(-32768), ==, 0x00);
    g_assert_cmpint(tsr_g711_alaw_encode(0), ==, 0xd5);
    g_assert_cmpint(tsr_g711_alaw_encode(-1), ==, 0x55);
    g_assert_cmpint(tsr_g711_alaw_decode(0xd5), ==, 8);
    g_assert_cmpint(tsr_g711_alaw_decode(0x55), ==, -8);
    g_assert_cmpint(tsr_g711_alaw_decode(0xaa), ==, 32256);
    g_assert_cmpint(tsr_g711_alaw_decode(0x2a), ==, -32256);
    g_assert_cmpint(tsr_g711_alaw_encode(32767), ==, 0xaa);
    g_assert_cmpint(tsr_g711_alaw_encode(-32768), ==, 0x2a);
}

/* Every code decodes to a value that encodes back to the same code (apart from
 * µ-law's negative zero), and every 16-bit input lands within half a step. */
static void test_round_trip_all(void)
{
    for (int c = 0; c < 256; c++) {
        if (c != 0x7f)
            g_assert_cmpint(tsr_g711_ulaw_encode(tsr_g711_ulaw_decode((uint8_t)c)), ==, c);
        g_assert_cmpint(tsr_g711_alaw_encode(tsr_g711_alaw_decode((uint8_t)c)), ==, c);
    }
    for (int s = -32768; s <= 32767; s++) {
        int a = abs(s), u = tsr_g711_ulaw_decode(tsr_g711_ulaw_encode((int16_t)s));
        int al = tsr_g711_alaw_decode(tsr_g711_alaw_encode((int16_t)s));
        /* step / 2 of the segment holding s, plus clipping at the top. */
        int ustep = 8 << (int)floor(log2((a + 132) / 128.0));
        int astep = a < 512 ? 16 : 16 << (int)floor(log2(a / 256.0));
        g_assert_cmpint(abs(u - s), <=, ustep / 2 + (a > 32124 ? 700 : 0) + 1);
        g_assert_cmpint(abs(al - s), <=, astep / 2 + (a > 32256 ? 512 : 0) + 1);
    }
}

/* A 1020 Hz tone (the ITU test tone: not a divisor of 8 kHz) at -6 dBFS through
 * either law: G.711 gives about 38 dB SNR over most of its range. */
static void test_tone_snr(void)
{
    enum { N = 800 };
    int16_t x[N], y[N];
    uint8_t b[N];
    tsr_test_sine(x, N, 1020, 8000, 0.5, 0);
    for (int law = TSR_G711_ULAW; law <= TSR_G711_ALAW; law++) {
        tsr_g711_encode((enum tsr_g711_law)law, x, N, b);
        tsr_g711_decode((enum tsr_g711_law)law, b, N, y);
        double sig = 0, err = 0;
        for (int i = 0; i < N; i++) {
            sig += (double)x[i] * x[i];
            err += (double)(y[i] - x[i]) * (y[i] - x[i]);
        }
        g_assert_cmpfloat(10 * log10(sig / err), >, 35.0);
    }
}

/* 1 kHz at 8 kHz up to 48 kHz, in 20 ms blocks: same frequency and level, and
 * the images (7 kHz, 9 kHz, 15 kHz) are gone. */
static void test_upsample_tone(void)
{
    struct tsr_resampler r;
    tsr_g711_resampler_init(&r);
    enum { BLOCKS = 10, IN = 160 };
    int16_t out[BLOCKS * IN * 6];
    for (int b = 0; b < BLOCKS; b++) {
        int16_t in[IN];
        tsr_test_sine(in, IN, 1000, 8000, 0.5, (size_t)b * IN);
        g_assert_cmpint(tsr_resampler_up(&r, in, IN, out + b * IN * 6), ==, 0);
    }
    const int16_t *tail = out + 960; /* past the filter's start-up */
    size_t n = BLOCKS * IN * 6 - 960;
    double lvl = tone_db(tail, n, 1000, 48000);
    g_assert_cmpfloat(fabs(lvl - 20 * log10(0.5)), <, 0.5);
    g_assert_cmpfloat(tone_db(tail, n, 7000, 48000), <, lvl - 60);
    g_assert_cmpfloat(tone_db(tail, n, 9000, 48000), <, lvl - 60);
    g_assert_cmpfloat(tone_db(tail, n, 15000, 48000), <, lvl - 60);
}

/* 48 kHz -> 8 kHz: a 1 kHz tone keeps frequency and level; a 6 kHz tone (which
 * would alias to 2 kHz) is removed. */
static void test_downsample(void)
{
    enum { BLOCKS = 10, IN = 960 };
    for (int which = 0; which < 2; which++) {
        double f = which ? 6000 : 1000;
        struct tsr_resampler r;
        tsr_g711_resampler_init(&r);
        int16_t out[BLOCKS * IN / 6];
        for (int b = 0; b < BLOCKS; b++) {
            int16_t in[IN];
            tsr_test_sine(in, IN, f, 48000, 0.5, (size_t)b * IN);
            g_assert_cmpint(tsr_resampler_down(&r, in, IN, out + b * IN / 6), ==, 0);
        }
        const int16_t *tail = out + 160;
        size_t n = BLOCKS * IN / 6 - 160;
        if (!which) {
            g_assert_cmpfloat(fabs(tone_db(tail, n, 1000, 8000) - 20 * log10(0.5)), <, 0.5);
        } else {
            g_assert_cmpfloat(tone_db(tail, n, 2000, 8000), <, -70.0);
            double e = 0;
            for (size_t i = 0; i < n; i++)
                e += (double)tail[i] * tail[i];
            g_assert_cmpfloat(sqrt(e / (double)n), <, 10.0);
        }
    }
    struct tsr_resampler r;
    tsr_g711_resampler_init(&r);
    int16_t in[7] = {0}, out[2];
    g_assert_cmpint(tsr_resampler_down(&r, in, 7, out), ==, -EINVAL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/g711/code_points", test_code_points);
    g_test_add_func("/g711/round_trip_all", test_round_trip_all);
    g_test_add_func("/g711/tone_snr", test_tone_snr);
    g_test_add_func("/g711/upsample_tone", test_upsample_tone);
    g_test_add_func("/g711/downsample", test_downsample);
    return g_test_run();
}
