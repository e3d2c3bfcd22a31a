/* Logging: threshold, lazy arguments, format, rate limiting, library bridges. */
#include <tessera/log.h>

#include <glib.h>
#include <gnutls/gnutls.h>
#include <libavutil/log.h>
#include <string.h>

static GPtrArray *lines;

static void capture(enum tsr_log_level level, const char *line, void *user)
{
    (void)level, (void)user;
    g_ptr_array_add(lines, g_strdup(line));
}

static void setup(void)
{
    if (lines)
        g_ptr_array_unref(lines);
    lines = g_ptr_array_new_with_free_func(g_free);
    tsr_log_set_sink(capture, NULL);
}

static int side_effects;
static int bump(void)
{
    return ++side_effects;
}

static void test_threshold_and_lazy_args(void)
{
    setup();
    tsr_log_set_level(TSR_LOG_WARN);
    side_effects = 0;
    TSR_LOG(TSR_LOG_DEBUG, "c", "value %d", bump());
    g_assert_cmpint(side_effects, ==, 0); /* arguments not evaluated */
    g_assert_cmpuint(lines->len, ==, 0);
    TSR_LOG(TSR_LOG_ERROR, "c", "value %d", bump());
    g_assert_cmpint(side_effects, ==, 1);
    g_assert_cmpuint(lines->len, ==, 1);
}

static void test_format(void)
{
    setup();
    tsr_log_set_level(TSR_LOG_INFO);
    TSR_LOG(TSR_LOG_INFO, "conf1/alice/video", "joined with %s\n", "VP8");
    TSR_LOG(TSR_LOG_WARN, NULL, "no context");
    g_assert_cmpuint(lines->len, ==, 2);
    const char *l0 = g_ptr_array_index(lines, 0), *l1 = g_ptr_array_index(lines, 1);
    g_assert_true(g_regex_match_simple("^\\[ *[0-9]+\\.[0-9]{6}\\] INFO  \\[conf1/alice/video\\] "
                                       "joined with VP8$",
                                       l0, 0, 0));
    g_assert_true(g_regex_match_simple("^\\[ *[0-9]+\\.[0-9]{6}\\] WARN  no context$", l1, 0, 0));
    /* timestamps are monotonic */
    double t0 = g_ascii_strtod(strchr(l0, '[') + 1, NULL);
    double t1 = g_ascii_strtod(strchr(l1, '[') + 1, NULL);
    g_assert_cmpfloat(t1, >=, t0);
}

static void test_level_names(void)
{
    enum tsr_log_level lv;
    g_assert_cmpint(tsr_log_level_parse("DEBUG", &lv), ==, 0);
    g_assert_cmpint(lv, ==, TSR_LOG_DEBUG);
    g_assert_cmpint(tsr_log_level_parse("verbose", &lv), !=, 0);
    g_assert_cmpstr(tsr_log_level_name(TSR_LOG_TRACE), ==, "trace");
}

static void test_rate_limit(void)
{
    setup();
    tsr_log_set_level(TSR_LOG_INFO);
    for (int i = 0; i < 100; i++)
        TSR_LOG_RL(TSR_LOG_WARN, "rtp", 60000, "bad packet %d", i);
    g_assert_cmpuint(lines->len, ==, 1);
    g_assert_true(g_str_has_suffix(g_ptr_array_index(lines, 0), "bad packet 0"));
}

static void test_bridges(void)
{
    setup();
    /* g_test_init makes warnings fatal; here a warning is the input under test. */
    g_log_set_always_fatal(G_LOG_FATAL_MASK);
    tsr_log_set_level(TSR_LOG_DEBUG);
    tsr_log_bridge_install();
    av_log(NULL, AV_LOG_ERROR, "ffmpeg %s", "broke");
    av_log(NULL, AV_LOG_ERROR, " badly\n");
    g_log("libnice", G_LOG_LEVEL_WARNING, "agent %d failed", 3);
    g_assert_cmpuint(lines->len, ==, 2);
    g_assert_true(g_regex_match_simple("ERROR \\[ffmpeg\\] ffmpeg broke badly$",
                                       g_ptr_array_index(lines, 0), 0, 0));
    g_assert_true(g_regex_match_simple("WARN  \\[libnice\\] agent 3 failed$",
                                       g_ptr_array_index(lines, 1), 0, 0));
    /* below the threshold: dropped */
    tsr_log_set_level(TSR_LOG_WARN);
    av_log(NULL, AV_LOG_INFO, "chatter\n");
    g_log("libsoup", G_LOG_LEVEL_DEBUG, "debug chatter");
    g_assert_cmpuint(lines->len, ==, 2);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/log/threshold_and_lazy_args", test_threshold_and_lazy_args);
    g_test_add_func("/log/format", test_format);
    g_test_add_func("/log/level_names", test_level_names);
    g_test_add_func("/log/rate_limit", test_rate_limit);
    g_test_add_func("/log/bridges", test_bridges);
    int rc = g_test_run();
    tsr_log_set_sink(NULL, NULL);
    g_ptr_array_unref(lines);
    return rc;
}
