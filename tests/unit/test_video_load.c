/* Video load meter: the smoothing, shares summed over contributors and divided by
 * the cores, a stopped contributor taking its part out. */
#include <tessera/video_load.h>

#include <glib.h>
#include <math.h>

#define TICK_US 33333 /* 30 fps */

static void test_smooth(void)
{
    /* one time constant after a step: 1 - 1/e of the way */
    g_assert_cmpfloat_with_epsilon(tsr_video_load_smooth(0, 1, 1000000, 1000000), 1 - exp(-1),
                                   1e-9);
    g_assert_cmpfloat_with_epsilon(tsr_video_load_smooth(2, 0, 1000000, 1000000), 2 * exp(-1),
                                   1e-9);
    g_assert_cmpfloat(tsr_video_load_smooth(0.3, 1, 0, 1000000), ==, 0.3); /* no time passed */
    g_assert_cmpfloat(tsr_video_load_smooth(0.3, 1, 10, 0), ==, 1);        /* no smoothing */
    /* a steady sample is reached, whatever the step size */
    double a = 0, b = 0;
    for (int i = 0; i < 300; i++)
        a = tsr_video_load_smooth(a, 0.7, TICK_US, TSR_VIDEO_LOAD_TAU_US);
    for (int i = 0; i < 20; i++)
        b = tsr_video_load_smooth(b, 0.7, 500000, TSR_VIDEO_LOAD_TAU_US);
    g_assert_cmpfloat_with_epsilon(a, 0.7, 1e-3);
    g_assert_cmpfloat_with_epsilon(b, 0.7, 1e-3);
}

static void run_ticks(struct tsr_video_load_share *s, int64_t busy_us, int n)
{
    for (int i = 0; i < n; i++)
        tsr_video_load_share_update(s, busy_us, TICK_US);
}

static void test_shares_sum_over_cores(void)
{
    struct tsr_video_load *meter = NULL;
    g_assert_cmpint(tsr_video_load_new(&meter, 2), ==, 0);
    g_assert_cmpint(tsr_video_load_cores(meter), ==, 2);
    g_assert_cmpfloat(tsr_video_load_get(meter), ==, 0);
    struct tsr_video_load_share a = {.meter = meter}, b = {.meter = meter};
    run_ticks(&a, TICK_US, 300);     /* a whole core, 10 s long */
    run_ticks(&b, TICK_US / 2, 300); /* half a core */
    g_assert_cmpfloat_with_epsilon(a.busy_cores, 1.0, 1e-3);
    g_assert_cmpfloat_with_epsilon(tsr_video_load_get(meter), 0.75, 1e-3);
    /* a tick that takes two periods of CPU (parallel views) counts two cores */
    run_ticks(&a, 2 * TICK_US, 300);
    g_assert_cmpfloat_with_epsilon(tsr_video_load_get(meter), 1.25, 1e-3);
    /* a conference that stops composing decays to nothing */
    run_ticks(&b, 0, 600);
    g_assert_cmpfloat_with_epsilon(tsr_video_load_get(meter), 1.0, 1e-3);
    tsr_video_load_share_clear(&a);
    g_assert_cmpfloat_with_epsilon(tsr_video_load_get(meter), 0.0, 1e-5);
    tsr_video_load_share_clear(&b);
    g_assert_cmpfloat(tsr_video_load_get(meter), ==, 0);
    tsr_video_load_free(&meter);
    g_assert_null(meter);
    tsr_video_load_free(&meter); /* NULL is fine */
    g_assert_cmpfloat(tsr_video_load_get(NULL), ==, 0);
}

static void test_unmetered_share_and_cores(void)
{
    struct tsr_video_load_share s = {0};
    run_ticks(&s, TICK_US, 100); /* no meter: smoothed locally, published nowhere */
    g_assert_cmpfloat(s.busy_cores, >, 0.9);
    g_assert_cmpint(s.published, ==, 0);
    tsr_video_load_share_clear(&s);
    g_assert_cmpint(tsr_video_load_usable_cores(), >=, 1);
    struct tsr_video_load *meter = NULL;
    tsr_video_load_new(&meter, 0);
    g_assert_cmpint(tsr_video_load_cores(meter), ==, tsr_video_load_usable_cores());
    tsr_video_load_free(&meter);
    int64_t t0 = tsr_video_load_thread_cpu_us();
    g_assert_cmpint(t0, >=, 0);
    g_assert_cmpint(tsr_video_load_thread_cpu_us(), >=, t0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/video_load/smooth", test_smooth);
    g_test_add_func("/video_load/shares_sum_over_cores", test_shares_sum_over_cores);
    g_test_add_func("/video_load/unmetered_share_and_cores", test_unmetered_share_and_cores);
    return g_test_run();
}
