/* Talker selection: a scripted 20-party conversation checked tick by tick. */
#include <tessera/err.h>
#include <tessera/talkers.h>

#include <glib.h>
#include <string.h>

#define N 20
#define TICK_MS 20
#define SILENT TSR_TALKERS_LEVEL_SILENT

/* The script (K = 3, hysteresis 6 dB, hold 200 ms, active at <= 50 -dBov):
 *  p1: 20 always, but pauses ticks 15..19 (100 ms, shorter than hold)
 *  p2: 25 until tick 19, then silent (leaves 200 ms later, at tick 30)
 *  p3: 30 always (loses its slot to p5 once its 200 ms tenure is over, tick 10)
 *  p4: 28 from tick 1 (only 2 dB over p3: hysteresis keeps it out until p2 leaves)
 *  p5: 10 from tick 3 (louder by 20 dB: in at tick 10), muted by the host at tick 35
 *  p6: 0 (loudest of all) but muted throughout
 *  p7..p20: background noise 60..86 -dBov, never talking */
static int level_of(uint32_t id, int tick)
{
    switch (id) {
    case 1:
        return tick >= 15 && tick <= 19 ? SILENT : 20;
    case 2:
        return tick <= 19 ? 25 : SILENT;
    case 3:
        return 30;
    case 4:
        return tick >= 1 ? 28 : SILENT;
    case 5:
        return tick >= 3 ? 10 : SILENT;
    case 6:
        return 0;
    default:
        return 60 + (int)id + (tick % 7);
    }
}

static void expect_set(struct tsr_talkers *t, int tick, const uint32_t *want, size_t n)
{
    uint32_t got[TSR_TALKERS_MAX_K];
    size_t k = tsr_talkers_get(t, got, G_N_ELEMENTS(got));
    if (k != n)
        g_error("tick %d: %zu talkers, expected %zu", tick, k, n);
    for (size_t i = 0; i < n; i++) {
        if (!tsr_talkers_is_talker(t, want[i]))
            g_error("tick %d: participant %u should be a talker", tick, want[i]);
    }
}

static void test_script(void)
{
    struct tsr_talkers_params p = {.k = 3, .hysteresis_db = 6, .hold_ms = 200, .active_level = 50};
    struct tsr_talkers *t = NULL;
    g_assert_cmpint(tsr_talkers_new(&t, &p), ==, 0);
    for (uint32_t id = 1; id <= N; id++)
        g_assert_cmpint(tsr_talkers_add(t, id), ==, 0);
    g_assert_cmpint(tsr_talkers_add(t, 3), ==, TSR_ERR_STATE);
    g_assert_cmpint(tsr_talkers_set_muted(t, 6, true), ==, 0);
    int changes = 0;
    for (int tick = 0; tick <= 40; tick++) {
        if (tick == 35) {
            g_assert_cmpint(tsr_talkers_set_muted(t, 5, true), ==, 0);
            g_assert_false(tsr_talkers_is_talker(t, 5)); /* at once, not at the next tick */
        }
        for (uint32_t id = 1; id <= N; id++)
            g_assert_cmpint(tsr_talkers_set_level(t, id, level_of(id, tick)), ==, 0);
        changes += tsr_talkers_update(t, (int64_t)tick * TICK_MS);
        g_assert_false(tsr_talkers_is_talker(t, 6));
        for (uint32_t id = 7; id <= N; id++)
            g_assert_false(tsr_talkers_is_talker(t, id));
        if (tick < 10)
            expect_set(t, tick, (const uint32_t[]){1, 2, 3}, 3);
        else if (tick < 30)
            expect_set(t, tick, (const uint32_t[]){1, 2, 5}, 3);
        else if (tick < 35)
            expect_set(t, tick, (const uint32_t[]){1, 4, 5}, 3);
        else
            expect_set(t, tick, (const uint32_t[]){1, 3, 4}, 3);
        uint32_t order[3];
        tsr_talkers_get(t, order, 3);
        if (tick == 0) /* admitted loudest first */
            g_assert_true(order[0] == 1 && order[1] == 2 && order[2] == 3);
        if (tick >= 12 && tick < 35) /* p5 (20 dB louder) became the dominant speaker */
            g_assert_cmpuint(order[0], ==, 5);
        if (tick >= 15 && tick <= 19) /* p1's pause keeps its place right after p5 */
            g_assert_cmpuint(order[1], ==, 1);
    }
    /* set changes: 0, 10, 30, 35 (+ order moves at 10, 11): the set never flapped */
    g_assert_cmpint(changes, <=, 6);
    g_assert_cmpint(tsr_talkers_remove(t, 1), ==, 0);
    g_assert_false(tsr_talkers_is_talker(t, 1));
    g_assert_cmpint(tsr_talkers_remove(t, 1), ==, TSR_ERR_NOT_FOUND);
    g_assert_cmpuint(tsr_talkers_get(t, NULL, 0), ==, 2);
    tsr_talkers_free(&t);
    g_assert_null(t);
}

/* Levels just below the hysteresis margin never swap the set, however long. */
static void test_hysteresis_no_flap(void)
{
    struct tsr_talkers_params p = {.k = 1, .hysteresis_db = 6, .hold_ms = 0, .active_level = 50};
    struct tsr_talkers *t = NULL;
    g_assert_cmpint(tsr_talkers_new(&t, &p), ==, 0);
    tsr_talkers_add(t, 1);
    tsr_talkers_add(t, 2);
    for (int tick = 0; tick < 100; tick++) {
        /* the two alternate being 5 dB louder than the other */
        tsr_talkers_set_level(t, 1, tick == 0 ? 30 : (tick % 2 ? 35 : 30));
        tsr_talkers_set_level(t, 2, tick == 0 ? SILENT : (tick % 2 ? 30 : 35));
        g_assert_true(tsr_talkers_update(t, tick * TICK_MS) == (tick == 0));
        g_assert_true(tsr_talkers_is_talker(t, 1));
    }
    /* 6 dB louder does switch (hold 0) */
    tsr_talkers_set_level(t, 1, 36);
    tsr_talkers_set_level(t, 2, 30);
    g_assert_true(tsr_talkers_update(t, 100 * TICK_MS));
    g_assert_true(tsr_talkers_is_talker(t, 2));
    g_assert_false(tsr_talkers_is_talker(t, 1));
    tsr_talkers_free(&t);
}

static void test_invalid_params(void)
{
    struct tsr_talkers *t = NULL;
    struct tsr_talkers_params p = {.k = 0, .hysteresis_db = 6, .hold_ms = 200, .active_level = 50};
    g_assert_cmpint(tsr_talkers_new(&t, &p), ==, TSR_ERR_INVALID);
    p.k = TSR_TALKERS_MAX_K + 1;
    g_assert_cmpint(tsr_talkers_new(&t, &p), ==, TSR_ERR_INVALID);
    g_assert_null(t);
    tsr_talkers_free(NULL);
    tsr_talkers_free(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/talkers/script", test_script);
    g_test_add_func("/talkers/hysteresis_no_flap", test_hysteresis_no_flap);
    g_test_add_func("/talkers/invalid_params", test_invalid_params);
    return g_test_run();
}
