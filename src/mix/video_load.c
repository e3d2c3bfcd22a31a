/* Video load meter: the mixers' smoothed busy cores, summed with atomics so that
 * the API loop reads the load without waiting for any mixer. */
#include <tessera/video_load.h>

#include <glib.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#define MICRO 1000000.0

struct tsr_video_load {
    int cores;
    _Atomic int64_t busy_ucores; /* sum of the shares, in millionths of a core */
};

int tsr_video_load_usable_cores(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    return MAX((int)g_get_num_processors(), 1);
}

int tsr_video_load_new(struct tsr_video_load **out, int cores)
{
    struct tsr_video_load *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->cores = cores > 0 ? cores : tsr_video_load_usable_cores();
    atomic_init(&l->busy_ucores, 0);
    *out = l;
    return 0;
}

void tsr_video_load_free(struct tsr_video_load **p)
{
    if (!p || !*p)
        return;
    free(*p);
    *p = NULL;
}

int tsr_video_load_cores(const struct tsr_video_load *l)
{
    return l->cores;
}

double tsr_video_load_get(const struct tsr_video_load *l)
{
    if (!l)
        return 0.0;
    int64_t u =
        atomic_load_explicit(&((struct tsr_video_load *)l)->busy_ucores, memory_order_relaxed);
    return (double)MAX(u, 0) / MICRO / l->cores;
}

int64_t tsr_video_load_thread_cpu_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

double tsr_video_load_smooth(double prev, double sample, int64_t dt_us, int64_t tau_us)
{
    if (dt_us <= 0)
        return prev;
    if (tau_us <= 0)
        return sample;
    double alpha = 1.0 - exp(-(double)dt_us / (double)tau_us);
    return prev + (sample - prev) * alpha;
}

void tsr_video_load_share_update(struct tsr_video_load_share *s, int64_t busy_us, int64_t period_us)
{
    if (period_us <= 0)
        return;
    double sample = (double)MAX(busy_us, 0) / (double)period_us;
    s->busy_cores = tsr_video_load_smooth(s->busy_cores, sample, period_us, TSR_VIDEO_LOAD_TAU_US);
    if (!s->meter)
        return;
    int64_t now = (int64_t)llround(s->busy_cores * MICRO);
    if (now != s->published)
        atomic_fetch_add_explicit(&s->meter->busy_ucores, now - s->published, memory_order_relaxed);
    s->published = now;
}

void tsr_video_load_share_clear(struct tsr_video_load_share *s)
{
    if (s->meter && s->published)
        atomic_fetch_sub_explicit(&s->meter->busy_ucores, s->published, memory_order_relaxed);
    s->published = 0;
    s->busy_cores = 0;
}
