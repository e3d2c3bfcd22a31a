/* Look-ahead peak limiter for one mixed output: int32 sums in, int16 out.
 *
 * The gain needed to keep every sample under the ceiling is taken as a running
 * minimum over a 2 ms look-ahead window and then smoothed by a box filter of the
 * same length, so the gain is already down when a peak arrives (no hard clip,
 * no wrap) and never steps. Release is exponential (~80 ms) so a loud passage
 * fades back without pumping; a signal that stays under the ceiling passes
 * bit-exact (gain exactly 1). Cost: TSR_LIMITER_DELAY samples of latency and a
 * few float operations per sample.
 *
 * Thread: the owner's; the state is a plain struct so it can be embedded and
 * copied (a listener that becomes a talker continues the shared output's gain). */
#ifndef TESSERA_AUDIO_LIMITER_H
#define TESSERA_AUDIO_LIMITER_H

#include <stddef.h>
#include <stdint.h>

/* Look-ahead window in samples at 48 kHz (2 ms). */
#define TSR_LIMITER_WINDOW 96
/* Output delay in samples. */
#define TSR_LIMITER_DELAY (TSR_LIMITER_WINDOW - 1)
/* Output ceiling: 32000 is -0.206 dBFS, under the -0.1 dBFS promise after rounding. */
#define TSR_LIMITER_CEILING 32000

/* Embedded by value; fields are private to audio_limiter.c. */
struct tsr_audio_limiter {
    int32_t delay[TSR_LIMITER_WINDOW]; /* input history (ring) */
    float need[TSR_LIMITER_WINDOW];    /* required gains of the window (ring) */
    float smooth[TSR_LIMITER_WINDOW];  /* released minima in the box (ring) */
    uint32_t minq[TSR_LIMITER_WINDOW]; /* monotonic deque of positions for the running min */
    uint32_t minq_head, minq_len;
    uint64_t pos;    /* samples processed */
    double box_sum;  /* sum of smooth[] */
    double released; /* last released gain (double: its tail is below float resolution) */
    float gain;      /* last applied gain, for inspection */
    int box_dirty;   /* smooth[] below 1.0 somewhere in the box */
};

/* Purpose: reset to unity gain and silent history. */
void tsr_audio_limiter_init(struct tsr_audio_limiter *l);

/* Purpose: limit `n` samples from `in` into `out` (delayed by TSR_LIMITER_DELAY).
 * in and out are borrowed and may not overlap. Never fails. */
void tsr_audio_limiter_process(struct tsr_audio_limiter *l, const int32_t *in, int16_t *out,
                               size_t n);

/* Purpose: the gain applied to the last output sample (1.0 = untouched). */
float tsr_audio_limiter_gain(const struct tsr_audio_limiter *l);

#endif
