/* Config: defaults, the shipped file, every kind of bad input with its exact message. */
#include <tessera/config.h>
#include <tessera/err.h>

#include <glib.h>
#include <string.h>

static void expect_error(const char *text, const char *message)
{
    struct tsr_config cfg, before;
    tsr_config_defaults(&cfg);
    before = cfg;
    char *err = NULL;
    int rc = tsr_config_apply_text(&cfg, text, strlen(text), "t.conf", &err);
    g_assert_cmpint(rc, ==, TSR_ERR_CONFIG);
    g_assert_cmpstr(err, ==, message);
    g_assert_true(memcmp(&cfg, &before, sizeof cfg) == 0); /* all-or-nothing */
    g_free(err);
}

static void test_defaults(void)
{
    struct tsr_config cfg;
    g_assert_cmpint(tsr_config_defaults(&cfg), ==, 0);
    g_assert_cmpstr(cfg.listen, ==, "0.0.0.0:8080");
    g_assert_cmpstr(cfg.log_level, ==, "info");
    g_assert_cmpstr(cfg.encoder, ==, "auto");
    char host[64];
    uint16_t port = 0;
    g_assert_cmpint(tsr_config_listen_split(&cfg, host, sizeof host, &port), ==, 0);
    g_assert_cmpstr(host, ==, "0.0.0.0");
    g_assert_cmpint(port, ==, 8080);
}

/* config/tessera.conf names every key and parses to exactly the built-in defaults. */
static void test_shipped_file_matches_defaults(void)
{
    char *path = g_build_filename(g_getenv("TSR_SOURCE_DIR"), "config", "tessera.conf", NULL);
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    for (const struct tsr_config_key *k = tsr_config_schema(); k->key; k++) {
        char *line = g_strdup_printf("\n%s = %s\n", k->key, k->def);
        char *header = g_strdup_printf("[%s]", k->section);
        if (!strstr(text, line) || !strstr(text, header))
            g_error("config/tessera.conf lacks [%s] %s = %s", k->section, k->key, k->def);
        g_free(line);
        g_free(header);
    }
    struct tsr_config from_file, defaults;
    tsr_config_defaults(&defaults);
    tsr_config_defaults(&from_file);
    char *err = NULL;
    if (tsr_config_apply_file(&from_file, path, &err) != 0)
        g_error("%s", err);
    g_assert_true(memcmp(&from_file, &defaults, sizeof defaults) == 0);
    g_free(text);
    g_free(path);
}

static void test_good_file(void)
{
    const char *text = "# comment\n; other comment\n\n[server]\n  listen = 127.0.0.1:9000  \n"
                       "[log]\nlevel = \"debug\"\n[media]\nencoder=software # inline\n"
                       "vaapi_device = /dev/dri/renderD129\n";
    struct tsr_config cfg;
    tsr_config_defaults(&cfg);
    char *err = NULL;
    g_assert_cmpint(tsr_config_apply_text(&cfg, text, strlen(text), "good.conf", &err), ==, 0);
    g_assert_null(err);
    g_assert_cmpstr(cfg.listen, ==, "127.0.0.1:9000");
    g_assert_cmpstr(cfg.log_level, ==, "debug");
    g_assert_cmpstr(cfg.encoder, ==, "software");
    g_assert_cmpstr(cfg.vaapi_device, ==, "/dev/dri/renderD129");
    /* IPv6 in brackets */
    const char *v6 = "[server]\nlisten = [::1]:8081\n";
    g_assert_cmpint(tsr_config_apply_text(&cfg, v6, strlen(v6), "v6.conf", &err), ==, 0);
    char host[64];
    uint16_t port;
    g_assert_cmpint(tsr_config_listen_split(&cfg, host, sizeof host, &port), ==, 0);
    g_assert_cmpstr(host, ==, "::1");
    g_assert_cmpint(port, ==, 8081);
}

/* The allowed lists grow as modules add keys, so the test derives them from the
 * schema; the sentence around them is fixed. */
static char *schema_list(const char *section)
{
    GString *s = g_string_new(NULL);
    for (const struct tsr_config_key *k = tsr_config_schema(); k->key; k++) {
        const char *item = section ? k->key : k->section;
        if (section && strcmp(k->section, section) != 0)
            continue;
        char *needle = g_strdup_printf(", %s,", item);
        char *hay = g_strdup_printf(", %s,", s->str);
        if (!strstr(hay, needle))
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", item);
        g_free(needle);
        g_free(hay);
    }
    return g_string_free(s, FALSE);
}

static void test_bad_inputs(void)
{
    char *sections = schema_list(NULL), *keys = schema_list("server");
    char *msg = g_strdup_printf("t.conf:3: unknown section [nosuch]; allowed sections: %s",
                                sections);
    g_assert_true(g_str_has_prefix(sections, "server, log, media"));
    expect_error("[server]\nlisten = 0.0.0.0:8080\n[nosuch]\n", msg);
    g_free(msg);
    msg = g_strdup_printf("t.conf:2: unknown key 'port' in [server]; allowed keys: %s", keys);
    g_assert_true(g_str_has_prefix(keys, "listen"));
    expect_error("[server]\nport = 80\n", msg);
    g_free(msg);
    g_free(sections);
    g_free(keys);
    expect_error("\n[media]\nencoder = fast\n",
                 "t.conf:3: [media] encoder: 'fast' is not allowed; allowed values: "
                 "auto|software|vaapi");
    expect_error("[server]\nlisten = 0.0.0.0:99999\n",
                 "t.conf:2: [server] listen: expected ADDR:PORT with port 1..65535, got "
                 "'0.0.0.0:99999'");
    expect_error("[server]\nlisten = localhost\n",
                 "t.conf:2: [server] listen: expected ADDR:PORT with port 1..65535, got "
                 "'localhost'");
    expect_error("listen = 1.2.3.4:5\n", "t.conf:1: key 'listen' appears before any [section]");
    expect_error("[server]\njust some words\n",
                 "t.conf:2: expected 'key = value' or '[section]', got 'just some words'");
    expect_error("[server\n", "t.conf:1: malformed section header '[server'; expected [name]");
    expect_error("[log]\nlevel = loud\n", "t.conf:2: [log] level: 'loud' is not allowed; "
                                          "allowed values: error|warn|info|debug|trace");
    char *longv = g_strnfill(300, 'x');
    char *text = g_strdup_printf("[media]\nvaapi_device = %s\n", longv);
    expect_error(text, "t.conf:2: [media] vaapi_device: value is longer than 255 bytes");
    g_free(text);
    g_free(longv);
}

static void test_nul_and_unreadable(void)
{
    struct tsr_config cfg;
    tsr_config_defaults(&cfg);
    char *err = NULL;
    const char bin[] = "[server]\0garbage";
    g_assert_cmpint(tsr_config_apply_text(&cfg, bin, sizeof bin, "bin.conf", &err), ==,
                    TSR_ERR_CONFIG);
    g_assert_cmpstr(err, ==, "bin.conf: contains a NUL byte; expected a text file");
    g_free(err);
    err = NULL;
    g_assert_cmpint(tsr_config_apply_file(&cfg, "/nonexistent/tessera.conf", &err), ==,
                    TSR_ERR_CONFIG);
    g_assert_cmpstr(err, ==, "/nonexistent/tessera.conf: cannot read the file: No such file or "
                             "directory");
    g_free(err);
}

static void test_command_line_set(void)
{
    struct tsr_config cfg;
    tsr_config_defaults(&cfg);
    char *err = NULL;
    g_assert_cmpint(tsr_config_set(&cfg, "server", "listen", "127.0.0.1:1", "--listen", &err), ==,
                    0);
    g_assert_cmpstr(cfg.listen, ==, "127.0.0.1:1");
    g_assert_cmpint(tsr_config_set(&cfg, "log", "level", "chatty", "--log-level", &err), ==,
                    TSR_ERR_CONFIG);
    g_assert_cmpstr(err, ==, "--log-level: [log] level: 'chatty' is not allowed; allowed values: "
                             "error|warn|info|debug|trace");
    g_free(err);
    g_assert_cmpstr(cfg.log_level, ==, "info");
}

static void test_render_defaults_round_trip(void)
{
    char *text = tsr_config_render_defaults();
    struct tsr_config a, b;
    tsr_config_defaults(&a);
    memset(&b, 0, sizeof b);
    tsr_config_defaults(&b);
    char *err = NULL;
    g_assert_cmpint(tsr_config_apply_text(&b, text, strlen(text), "rendered", &err), ==, 0);
    g_assert_true(memcmp(&a, &b, sizeof a) == 0);
    g_free(text);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/config/defaults", test_defaults);
    g_test_add_func("/config/shipped_file_matches_defaults", test_shipped_file_matches_defaults);
    g_test_add_func("/config/good_file", test_good_file);
    g_test_add_func("/config/bad_inputs", test_bad_inputs);
    g_test_add_func("/config/nul_and_unreadable", test_nul_and_unreadable);
    g_test_add_func("/config/command_line_set", test_command_line_set);
    g_test_add_func("/config/render_defaults_round_trip", test_render_defaults_round_trip);
    return g_test_run();
}
