/* The API loop never waits for a net loop (DESIGN.md §3, issue 12): the whole
 * server in this process — HTTP, the native API, the conference core and the real
 * media engine with two net loops — and a libsoup client, all on this thread's
 * main loop, which is the API loop.
 *
 * The slow path is real: net loop 0 is held busy (a job on it that runs until the
 * test lets it go, as a loop stuck in a slow lookup or a long decode would be).
 * A join with a real Chrome offer is pinned to loop 0 (participants are pinned
 * round robin from loop 0), so its answer cannot be made. Meanwhile /healthz must
 * be answered, and a join to another conference (pinned to loop 1) must be
 * answered with its SDP; only then is loop 0 let go, and the held join must
 * complete with a correct answer. Before the calls completed by callback, the API
 * loop blocked inside the held join until the hold gave up on its own (60 s), and
 * /healthz came after it. Every wait here is on a condition with a deadline.
 *
 * A second test names the STUN server by host name ("localhost"): it is resolved
 * asynchronously by the media engine and the join gets a full-ICE answer. */
#include <tessera/config.h>
#include <tessera/http.h>
#include <tessera/log.h>
#include <tessera/media_engine.h>
#include <tessera/metrics.h>
#include <tessera/native_api.h>
#include <tessera/net_loops.h>

#include <glib.h>
#include <jansson.h>
#include <libsoup/soup.h>
#include <string.h>

#define HOLD_GIVE_UP_S 60 /* the hold lets go by itself: a regression fails, not hangs */

static struct {
    struct tsr_http *http;
    struct tsr_media_engine *engine;
    struct tsr_conference_registry *reg;
    struct tsr_native_api *api;
    SoupSession *session;
    char *offer;
} srv;

/* --- holding a net loop busy --------------------------------------------------- */
static struct {
    GMutex lock;
    GCond cond;
    bool started, released;
} hold;

static gboolean hold_job(gpointer data)
{
    (void)data;
    gint64 give_up = g_get_monotonic_time() + HOLD_GIVE_UP_S * G_USEC_PER_SEC;
    g_mutex_lock(&hold.lock);
    hold.started = true;
    while (!hold.released && g_cond_wait_until(&hold.cond, &hold.lock, give_up))
        ;
    g_mutex_unlock(&hold.lock);
    return G_SOURCE_REMOVE;
}

static bool hold_started(void *arg)
{
    (void)arg;
    g_mutex_lock(&hold.lock);
    bool v = hold.started;
    g_mutex_unlock(&hold.lock);
    return v;
}

static void hold_release(void)
{
    g_mutex_lock(&hold.lock);
    hold.released = true;
    g_cond_signal(&hold.cond);
    g_mutex_unlock(&hold.lock);
}

/* --- running the loop until something holds -------------------------------------- */
static gboolean wake(gpointer data)
{
    (void)data;
    return G_SOURCE_CONTINUE;
}

static bool run_until(bool (*cond)(void *), void *arg, unsigned seconds)
{
    GSource *tick = g_timeout_source_new(100); /* sees conditions set by other threads */
    g_source_set_callback(tick, wake, NULL, NULL);
    g_source_attach(tick, NULL);
    gint64 end = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
    while (!cond(arg) && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_source_destroy(tick);
    g_source_unref(tick);
    return cond(arg);
}

/* --- HTTP client ------------------------------------------------------------------- */
struct reply {
    bool done;
    unsigned status;
    json_t *body;
    gint64 at_us; /* when it arrived */
};

static void on_reply(GObject *source, GAsyncResult *res, gpointer user)
{
    struct reply *r = user;
    SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), res);
    GBytes *bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), res, NULL);
    r->status = soup_message_get_status(msg);
    if (bytes) {
        gsize len = 0;
        const char *data = g_bytes_get_data(bytes, &len);
        r->body = json_loadb(data, len, 0, NULL);
        g_bytes_unref(bytes);
    }
    r->at_us = g_get_monotonic_time();
    r->done = true;
}

static bool reply_done(void *arg)
{
    return ((struct reply *)arg)->done;
}

/* Sends method path (with a JSON body when given); the reply lands in *r. */
static void request(struct reply *r, const char *method, const char *path, json_t *body)
{
    memset(r, 0, sizeof *r);
    char *url = g_strdup_printf("http://127.0.0.1:%u%s", tsr_http_port(srv.http), path);
    SoupMessage *msg = soup_message_new(method, url);
    g_assert_nonnull(msg);
    if (body) {
        char *text = json_dumps(body, JSON_COMPACT);
        GBytes *b = g_bytes_new_take(text, strlen(text));
        soup_message_set_request_body_from_bytes(msg, "application/json", b);
        g_bytes_unref(b);
        json_decref(body);
    }
    soup_session_send_and_read_async(srv.session, msg, G_PRIORITY_DEFAULT, NULL, on_reply, r);
    g_object_unref(msg);
    g_free(url);
}

static void join(struct reply *r, const char *alias, const char *name)
{
    char *path = g_strdup_printf("/api/v1/conferences/%s/join", alias);
    request(r, "POST", path, json_pack("{s:s, s:s}", "display_name", name, "sdp", srv.offer));
    g_free(path);
}

static void reply_clear(struct reply *r)
{
    json_decref(r->body);
    r->body = NULL;
}

/* A join's 200: the participant and an SDP answer for the offer's transport. */
static void assert_joined(const struct reply *r)
{
    g_assert_cmpuint(r->status, ==, 200);
    const char *sdp = json_string_value(json_object_get(r->body, "sdp"));
    g_assert_nonnull(sdp);
    g_assert_true(g_str_has_prefix(sdp, "v=0\r\n"));
    g_assert_nonnull(strstr(sdp, "a=fingerprint:sha-256 "));
    g_assert_nonnull(strstr(sdp, "a=ice-ufrag:"));
    g_assert_nonnull(strstr(sdp, "m=audio "));
    g_assert_nonnull(strstr(sdp, "m=video "));
    g_assert_nonnull(json_string_value(json_object_get(r->body, "token")));
}

/* --- the server ---------------------------------------------------------------------- */
static void server_start(const char *extra_conf)
{
    struct tsr_config cfg;
    tsr_config_defaults(&cfg);
    char *err = NULL;
    char *conf = g_strconcat("[mixer]\ncanvas_width = 160\ncanvas_height = 90\nfps = 10\n"
                             "net_threads = 2\n"
                             "[webrtc]\nrtp_port_min = 45000\nrtp_port_max = 45999\n",
                             extra_conf, "[conferences]\nempty_timeout_s = 0\n", NULL);
    if (tsr_config_apply_text(&cfg, conf, strlen(conf), "test", &err) != 0)
        g_error("%s", err);
    g_free(conf);
    g_assert_cmpint(tsr_media_engine_new(&srv.engine, &cfg), ==, 0);
    struct tsr_conference_registry_opts opts;
    tsr_conference_registry_opts_from_config(&opts, &cfg);
    opts.media = tsr_media_engine_ops();
    opts.media_user = srv.engine;
    g_assert_cmpint(tsr_conference_registry_new(&srv.reg, &opts), ==, 0);
    tsr_media_engine_set_registry(srv.engine, srv.reg);
    g_assert_cmpint(tsr_http_new(&srv.http, "127.0.0.1", 0), ==, 0);
    g_assert_cmpint(tsr_native_api_new(&srv.api, srv.http, srv.reg, NULL), ==, 0);
    srv.session = soup_session_new_with_options("timeout", 30, NULL);
    tsr_api_loop_enter(); /* this thread serves: waiting for another thread would abort */
}

static void server_stop(void)
{
    tsr_api_loop_leave();
    g_object_unref(srv.session);
    tsr_native_api_free(&srv.api);
    tsr_conference_registry_free(&srv.reg);
    tsr_media_engine_free(&srv.engine);
    tsr_http_free(&srv.http);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    tsr_metrics_reset();
}

static bool slow_join_is_waiting(void *arg)
{
    (void)arg;
    /* the join was taken: its conference exists, its participant is not listed yet */
    return tsr_conference_registry_find(srv.reg, "slow") != NULL;
}

static void test_held_join_stalls_nothing(void)
{
    server_start("");
    GMainContext *loop0 = tsr_net_loops_context(tsr_media_engine_net_loops(srv.engine), 0);
    tsr_loop_post(loop0, hold_job, NULL, NULL);
    g_assert_true(run_until(hold_started, NULL, 10));

    struct reply slow, health, other;
    join(&slow, "slow", "Held");
    g_assert_true(run_until(slow_join_is_waiting, NULL, 20));
    g_assert_cmpuint(tsr_conference_registry_n_participants(srv.reg), ==, 0);

    request(&health, "GET", "/healthz", NULL);
    g_assert_true(run_until(reply_done, &health, 20));
    g_assert_cmpuint(health.status, ==, 200);
    g_assert_cmpstr(json_string_value(json_object_get(health.body, "status")), ==, "ok");
    g_assert_false(slow.done);

    join(&other, "other", "Unhindered");
    g_assert_true(run_until(reply_done, &other, 20));
    assert_joined(&other);
    g_assert_false(slow.done); /* still held: it was not waited for */
    g_assert_cmpuint(tsr_conference_registry_n_participants(srv.reg), ==, 1);

    hold_release();
    g_assert_true(run_until(reply_done, &slow, 20));
    assert_joined(&slow);
    g_assert_cmpint(slow.at_us, >, other.at_us);
    g_assert_cmpuint(tsr_conference_registry_n_participants(srv.reg), ==, 2);
    g_assert_cmpuint(tsr_conference_registry_n_with_media(srv.reg), ==, 2);
    /* the two answers are two transports */
    g_assert_cmpstr(json_string_value(json_object_get(slow.body, "participant_id")), !=,
                    json_string_value(json_object_get(other.body, "participant_id")));
    reply_clear(&slow);
    reply_clear(&health);
    reply_clear(&other);
    server_stop();
}

/* [webrtc] stun_server by name: looked up asynchronously, the join is answered with
 * full ICE (no a=ice-lite) once the address is known. */
static void test_stun_server_by_name(void)
{
    server_start("stun_server = localhost:3478\n");
    struct reply r;
    join(&r, "stun", "Named");
    g_assert_true(run_until(reply_done, &r, 20));
    assert_joined(&r);
    const char *sdp = json_string_value(json_object_get(r.body, "sdp"));
    g_assert_null(strstr(sdp, "a=ice-lite"));
    reply_clear(&r);
    /* libnice warns when an agent goes while its STUN request is still out; that is
     * not what this test is about, and g_test makes warnings fatal. */
    GLogLevelFlags old = g_log_set_always_fatal(G_LOG_LEVEL_ERROR);
    server_stop();
    g_log_set_always_fatal(old);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tsr_log_set_level(g_getenv("TSR_TEST_LOG") ? TSR_LOG_DEBUG : TSR_LOG_WARN);
    g_mutex_init(&hold.lock);
    g_cond_init(&hold.cond);
    char *path =
        g_build_filename(g_getenv("TSR_SOURCE_DIR") ? g_getenv("TSR_SOURCE_DIR") : TSR_SOURCE_DIR,
                         "tests", "data", "sdp", "chrome_offer.sdp", NULL);
    g_assert_true(g_file_get_contents(path, &srv.offer, NULL, NULL));
    g_free(path);
    g_test_add_func("/api_loop_async/held_join_stalls_nothing", test_held_join_stalls_nothing);
    g_test_add_func("/api_loop_async/stun_server_by_name", test_stun_server_by_name);
    int rc = g_test_run();
    g_free(srv.offer);
    return rc;
}
