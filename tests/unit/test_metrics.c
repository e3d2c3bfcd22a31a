/* Metrics registry: get-or-create, atomic updates from threads, Prometheus text. */
#include <tessera/metrics.h>

#include <glib.h>
#include <string.h>

static void test_counter_identity_and_render(void)
{
    tsr_metrics_reset();
    struct tsr_counter *a = tsr_metrics_counter("tessera_x_total", "kind=\"a\"", "Things.");
    struct tsr_counter *a2 = tsr_metrics_counter("tessera_x_total", "kind=\"a\"", "Things.");
    struct tsr_counter *b = tsr_metrics_counter("tessera_x_total", "kind=\"b\"", "Things.");
    g_assert_true(a == a2);
    g_assert_true(a != b);
    tsr_counter_add(a, 5);
    tsr_counter_inc(b);
    struct tsr_gauge *g = tsr_metrics_gauge("tessera_rooms", NULL, "Rooms.");
    tsr_gauge_set(g, 2.5);
    tsr_gauge_add(g, 1);
    char *text = tsr_metrics_render();
    g_assert_cmpstr(text, ==,
                    "# HELP tessera_x_total Things.\n# TYPE tessera_x_total counter\n"
                    "tessera_x_total{kind=\"a\"} 5\ntessera_x_total{kind=\"b\"} 1\n"
                    "# HELP tessera_rooms Rooms.\n# TYPE tessera_rooms gauge\n"
                    "tessera_rooms 3.5\n");
    g_free(text);
    /* the same name with another type is refused, not silently merged */
    g_assert_null(tsr_metrics_gauge("tessera_x_total", "kind=\"c\"", "x"));
    tsr_counter_inc(NULL); /* NULL handles are ignored */
    tsr_metrics_reset();
}

static gpointer hammer(gpointer c)
{
    for (int i = 0; i < 100000; i++)
        tsr_counter_inc(c);
    return NULL;
}

static void test_threads(void)
{
    tsr_metrics_reset();
    struct tsr_counter *c = tsr_metrics_counter("tessera_t_total", NULL, "t");
    GThread *t[4];
    for (int i = 0; i < 4; i++)
        t[i] = g_thread_new("hammer", hammer, c);
    for (int i = 0; i < 4; i++)
        g_thread_join(t[i]);
    g_assert_cmpuint(tsr_counter_value(c), ==, 400000);
    tsr_metrics_reset();
}

static void collect(void *user)
{
    tsr_gauge_set(tsr_metrics_gauge("tessera_collected", NULL, "c"), *(int *)user);
}

static void test_collectors_and_process(void)
{
    tsr_metrics_reset();
    int v = 7;
    tsr_metrics_add_collector(collect, &v);
    tsr_metrics_register_process();
    tsr_metrics_register_process(); /* idempotent */
    char *text = tsr_metrics_render();
    g_assert_nonnull(strstr(text, "tessera_collected 7\n"));
    g_assert_nonnull(strstr(text, "tessera_build_info{version=\"" TSR_VERSION "\"} 1\n"));
    g_assert_nonnull(strstr(text, "# TYPE process_cpu_seconds_total"));
    g_assert_nonnull(strstr(text, "process_resident_memory_bytes "));
    g_assert_null(strstr(text, "process_resident_memory_bytes 0\n"));
    /* exactly one HELP line per family */
    g_assert_true(strstr(text, "# HELP tessera_build_info") ==
                  g_strrstr(text, "# HELP tessera_build_info"));
    g_free(text);
    tsr_metrics_remove_collector(collect, &v);
    v = 9;
    text = tsr_metrics_render();
    g_assert_nonnull(strstr(text, "tessera_collected 7\n"));
    g_free(text);
    tsr_metrics_reset();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/metrics/counter_identity_and_render", test_counter_identity_and_render);
    g_test_add_func("/metrics/threads", test_threads);
    g_test_add_func("/metrics/collectors_and_process", test_collectors_and_process);
    return g_test_run();
}
