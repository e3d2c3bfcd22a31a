/* Video load: how much of the CPU the conference mixers' video work takes, for
 * admission control and /metrics (tessera_video_load).
 *
 * Each mixer's video thread measures the CPU time its views spend composing and
 * encoding in one tick and divides it by the tick period: the cores that
 * conference keeps busy at its frame rate (0.5 = half a core). It smooths that
 * (time constant TSR_VIDEO_LOAD_TAU_US) in its share; the meter holds the sum of
 * the shares, because conferences share the CPU. The load is that sum over the
 * cores the process may run on (sched_getaffinity): 1.0 = every usable core busy
 * with video, when frames start to be late.
 *
 * CPU time of the working threads, not wall time: a neighbour process or a
 * preempted thread would otherwise read as our own work, and a hardware encoder's
 * wait is not CPU. Decoding (on the net threads) and audio are not in the figure.
 *
 * Thread: any. Reading the load is one atomic load and never waits. */
#ifndef TESSERA_VIDEO_LOAD_H
#define TESSERA_VIDEO_LOAD_H

#include <stdint.h>

#define TSR_VIDEO_LOAD_TAU_US 1000000 /* smoothing: a step shows ~63 % after 1 s */

struct tsr_video_load;

/* Purpose: a meter for `cores` cores (<= 0: the cores this process may run on).
 * Returns 0 or -ENOMEM. */
int tsr_video_load_new(struct tsr_video_load **out, int cores);
/* Purpose: free; every share must have been cleared. Accepts NULL; NULLs *p. */
void tsr_video_load_free(struct tsr_video_load **p);

/* Purpose: the CPUs this process may run on (its affinity mask; at least 1). */
int tsr_video_load_usable_cores(void);
/* Purpose: the cores the meter divides by. */
int tsr_video_load_cores(const struct tsr_video_load *l);
/* Purpose: the load: the shares' sum of busy cores over the cores (0 when l is NULL). */
double tsr_video_load_get(const struct tsr_video_load *l);

/* Purpose: CPU time the calling thread has used, in microseconds. */
int64_t tsr_video_load_thread_cpu_us(void);

/* Purpose: next value of an exponentially smoothed figure after `dt_us` with a new
 * `sample`: prev + (sample - prev) * (1 - e^(-dt/tau)). Pure. */
double tsr_video_load_smooth(double prev, double sample, int64_t dt_us, int64_t tau_us);

/* One contributor's (a mixer's) part of the meter. Home: the contributor's thread. */
struct tsr_video_load_share {
    struct tsr_video_load *meter; /* borrowed; NULL: nothing is published */
    double busy_cores;            /* smoothed */
    int64_t published;            /* what this share has added to the meter (micro-cores) */
};

/* Purpose: one tick's work: `busy_us` of CPU time during a tick of `period_us`
 * (> 0); smooths it and publishes the change to the meter. */
void tsr_video_load_share_update(struct tsr_video_load_share *s, int64_t busy_us,
                                 int64_t period_us);
/* Purpose: take this share's part out of the meter (the contributor stops). */
void tsr_video_load_share_clear(struct tsr_video_load_share *s);

#endif
