/* Test helper shared by the audio tests: how loud one tone is in a signal. */
#ifndef TSR_TEST_TONE_H
#define TSR_TEST_TONE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

/* Goertzel amplitude (dBFS of a sine) of `f` Hz over x[0..n) sampled at `rate`,
 * with a Hann window whose side lobes keep neighbouring tones out of the bin. */
static inline double tsr_test_tone_db(const int16_t *x, size_t n, double f, int rate)
{
    double w = 2.0 * M_PI * f / rate, c = 2.0 * cos(w), s1 = 0, s2 = 0, wsum = 0;
    for (size_t i = 0; i < n; i++) {
        double h = 0.5 - 0.5 * cos(2.0 * M_PI * (double)i / (double)(n - 1));
        wsum += h;
        double s0 = h * x[i] / 32768.0 + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double p = s1 * s1 + s2 * s2 - c * s1 * s2;
    return 20.0 * log10(2.0 * sqrt(p > 0 ? p : 0) / wsum + 1e-12);
}

/* Fill x[0..n) with a sine of `f` Hz at `rate`, `amp` of full scale, starting at
 * sample `offset` of an endless tone (so consecutive blocks join). */
static inline void tsr_test_sine(int16_t *x, size_t n, double f, int rate, double amp,
                                 size_t offset)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (int16_t)lrint(amp * 32767.0 * sin(2.0 * M_PI * f * (double)(i + offset) / rate));
}

#endif
