/* Batch queues in front of a loop (tessera/net_loops.h): calls posted while a
 * drain is pending run in that one drain, in order, each destroyed after it ran;
 * posts from another thread while the loop drains all run once, in order, and a
 * pool being freed runs what was posted to it. */
#include <tessera/net_loops.h>

#include <glib.h>

struct record {
    GArray *ran; /* ints, in run order */
    int destroyed;
};

struct call {
    struct record *rec;
    int n;
};

static void call_run(void *data)
{
    struct call *c = data;
    g_array_append_val(c->rec->ran, c->n);
}

static void call_free(void *data)
{
    struct call *c = data;
    c->rec->destroyed++;
    g_free(c);
}

static void post(struct tsr_loop_batch *b, struct record *rec, int n)
{
    struct call *c = g_new(struct call, 1);
    c->rec = rec;
    c->n = n;
    tsr_loop_batch_post(b, call_run, c, call_free);
}

/* Counts iterations that dispatched something. */
static int iterate_all(GMainContext *ctx)
{
    int n = 0;
    while (g_main_context_iteration(ctx, FALSE))
        n++;
    return n;
}

static void test_one_drain_in_order(void)
{
    GMainContext *ctx = g_main_context_new();
    struct tsr_loop_batch *b = tsr_loop_batch_new(ctx);
    struct record rec = {.ran = g_array_new(FALSE, FALSE, sizeof(int))};
    for (int i = 0; i < 1000; i++)
        post(b, &rec, i);
    g_assert_cmpint(rec.ran->len, ==, 0);     /* nothing runs before the loop does */
    g_assert_cmpint(iterate_all(ctx), ==, 1); /* one dispatch for the thousand */
    g_assert_cmpuint(rec.ran->len, ==, 1000);
    for (int i = 0; i < 1000; i++)
        g_assert_cmpint(g_array_index(rec.ran, int, i), ==, i);
    g_assert_cmpint(rec.destroyed, ==, 1000);
    /* after a drain the next post schedules another */
    post(b, &rec, 1000);
    g_assert_cmpint(iterate_all(ctx), ==, 1);
    g_assert_cmpuint(rec.ran->len, ==, 1001);
    tsr_loop_batch_unref(b);
    g_main_context_unref(ctx);
    g_array_unref(rec.ran);
}

struct poster {
    struct tsr_loop_batch *b;
    struct record *rec;
    int from, n;
};

static gpointer poster_main(gpointer data)
{
    struct poster *p = data;
    for (int i = 0; i < p->n; i++)
        post(p->b, p->rec, p->from + i);
    return NULL;
}

/* Another thread posts while the loop drains: every call runs exactly once, in
 * the poster's order. */
static void test_concurrent(void)
{
    struct tsr_net_loops *loops = NULL;
    g_assert_cmpint(tsr_net_loops_new(&loops, 1), ==, 0);
    GMainContext *ctx = tsr_net_loops_context(loops, 0);
    struct tsr_loop_batch *b = tsr_net_loops_batch(loops, ctx);
    g_assert_nonnull(b);
    g_assert_null(tsr_net_loops_batch(loops, g_main_context_default()));
    struct record rec = {.ran = g_array_new(FALSE, FALSE, sizeof(int))};
    struct poster p = {.b = b, .rec = &rec, .from = 0, .n = 20000};
    GThread *t = g_thread_new("poster", poster_main, &p);
    g_thread_join(t);
    tsr_net_loops_free(&loops); /* runs what was posted, then joins */
    g_assert_cmpuint(rec.ran->len, ==, 20000);
    for (int i = 0; i < 20000; i++)
        g_assert_cmpint(g_array_index(rec.ran, int, i), ==, i);
    g_assert_cmpint(rec.destroyed, ==, 20000);
    g_array_unref(rec.ran);
}

static gboolean count_fire(gpointer data)
{
    (*(int *)data)++;
    return G_SOURCE_CONTINUE;
}

/* Timers made at different moments fall due on the same multiple of their
 * interval, so one wake-up of the loop runs them all. */
static void test_aligned_timers(void)
{
    GMainContext *ctx = g_main_context_new();
    GSource *a = NULL, *b = NULL;
    do { /* made on either side of a 20 ms boundary: make them again */
        if (a)
            g_source_unref(a), g_source_unref(b);
        a = tsr_aligned_timer_source_new(20);
        g_usleep(3000);
        b = tsr_aligned_timer_source_new(20);
    } while (g_source_get_ready_time(a) != g_source_get_ready_time(b));
    g_assert_cmpint(g_source_get_ready_time(a) % 20000, ==, 0);
    int fired_a = 0, fired_b = 0;
    g_source_set_callback(a, count_fire, &fired_a, NULL);
    g_source_set_callback(b, count_fire, &fired_b, NULL);
    g_source_attach(a, ctx);
    g_source_attach(b, ctx);
    g_main_context_iteration(ctx, TRUE); /* one wake-up */
    g_assert_cmpint(fired_a, ==, 1);
    g_assert_cmpint(fired_b, ==, 1);
    /* re-armed on the next multiple */
    g_assert_cmpint(g_source_get_ready_time(a) % 20000, ==, 0);
    g_assert_cmpint(g_source_get_ready_time(a), ==, g_source_get_ready_time(b));
    g_source_destroy(a), g_source_destroy(b);
    g_source_unref(a), g_source_unref(b);
    g_main_context_unref(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/loop_batch/one_drain_in_order", test_one_drain_in_order);
    g_test_add_func("/loop_batch/concurrent", test_concurrent);
    g_test_add_func("/loop_batch/aligned_timers", test_aligned_timers);
    return g_test_run();
}
