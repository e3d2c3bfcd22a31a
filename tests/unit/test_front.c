/* The front layer: body parsing (size limit, duplicate keys, blank bodies), typed
 * members, path splitting and decoding, refusal tables and the alias answer,
 * sessions (refcounts, the core holding them, told on leave), and event streams
 * against a real libsoup server on 127.0.0.1 in its own thread: keep-alive, end,
 * and a burst past the backlog limit dropped and counted. */
#include <tessera/err.h>
#include <tessera/front.h>
#include <tessera/metrics.h>

#include <glib.h>
#include <string.h>

static int parse(const char *text, size_t max, unsigned flags, json_t **out, char **err)
{
    return tsr_front_parse_json((const uint8_t *)text, strlen(text), max, flags, out, err);
}

static void test_parse_json(void)
{
    json_t *o = NULL;
    char *err = NULL;
    g_assert_cmpint(parse("{\"a\":1}", 64, 0, &o, &err), ==, 0);
    g_assert_cmpint(json_integer_value(json_object_get(o, "a")), ==, 1);
    json_decref(o);
    /* duplicate keys are refused; *out untouched */
    json_t *untouched = (json_t *)&err;
    o = untouched;
    g_assert_cmpint(parse("{\"pin\":\"1\",\"pin\":\"2\"}", 64, 0, &o, &err), ==, TSR_ERR_INVALID);
    g_assert_true(o == untouched);
    g_assert_nonnull(strstr(err, "not valid JSON"));
    g_free(err);
    g_assert_cmpint(parse("[1]", 64, 0, &o, &err), ==, TSR_ERR_INVALID);
    g_assert_cmpstr(err, ==, "body must be a JSON object");
    g_free(err);
    g_assert_cmpint(parse("[1]", 64, TSR_FRONT_BODY_ANY, &o, &err), ==, 0);
    g_assert_true(json_is_array(o));
    json_decref(o);
    g_assert_cmpint(parse("", 64, 0, &o, &err), ==, TSR_ERR_INVALID);
    g_free(err);
    g_assert_cmpint(parse(" \n", 64, TSR_FRONT_BODY_EMPTY_OK, &o, &err), ==, 0);
    g_assert_cmpuint(json_object_size(o), ==, 0);
    json_decref(o);
    g_assert_cmpint(parse("{\"k\":\"0123456789\"}", 8, 0, &o, &err), ==, TSR_ERR_FULL);
    g_assert_cmpstr(err, ==, "request body is 18 bytes; the limit is 8");
    g_free(err);
}

static void test_members(void)
{
    json_t *o = json_loads("{\"s\":\"x\",\"n\":null,\"i\":5,\"b\":true,\"z\":\"a\\u0000b\"}",
                           JSON_ALLOW_NUL, NULL);
    bool bad = false, flag = false;
    g_assert_cmpstr(tsr_front_json_str(o, "s", &bad), ==, "x");
    g_assert_null(tsr_front_json_str(o, "n", &bad));
    g_assert_null(tsr_front_json_str(o, "missing", &bad));
    g_assert_false(bad);
    g_assert_null(tsr_front_json_str(o, "i", &bad));
    g_assert_true(bad);
    bad = false;
    g_assert_null(tsr_front_json_str(o, "z", &bad)); /* embedded NUL */
    g_assert_true(bad);
    bad = false;
    json_t *arr = json_array();
    g_assert_null(tsr_front_json_str(arr, "s", &bad)); /* not an object: absent */
    g_assert_false(bad);
    json_decref(arr);
    g_assert_true(tsr_front_json_bool(o, "b", &flag) && flag);
    g_assert_false(tsr_front_json_bool(o, "s", &flag));
    json_int_t v = -1;
    g_assert_true(tsr_front_json_int(o, "missing", 0, 9, &v) && v == -1);
    g_assert_true(tsr_front_json_int(o, "i", 0, 9, &v) && v == 5);
    g_assert_false(tsr_front_json_int(o, "i", 0, 4, &v));
    g_assert_false(tsr_front_json_int(o, "s", 0, 9, &v));
    json_decref(o);
}

static void test_split_path(void)
{
    unsigned n = 0;
    char **seg = tsr_front_split_path("/v1/rooms/Team%20Room%20%231/register", "/v1/", false, &n);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpstr(seg[1], ==, "Team Room #1");
    g_strfreev(seg);
    seg = tsr_front_split_path("/v1/rooms/r1%20", "/v1/", true, &n);
    g_assert_cmpstr(seg[1], ==, "r1");
    g_strfreev(seg);
    seg = tsr_front_split_path("/x/theme/", "/x/", false, &n);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpstr(seg[1], ==, "");
    g_strfreev(seg);
    g_assert_null(tsr_front_split_path("/v2/rooms", "/v1/", false, &n));
    g_assert_null(tsr_front_split_path("/v1/a%2Fb", "/v1/", false, &n)); /* escaped slash */
    g_assert_null(tsr_front_split_path("/v1/a%00b", "/v1/", false, &n)); /* NUL */
    g_assert_null(tsr_front_split_path("/v1/a%zz", "/v1/", false, &n));  /* bad escape */
    g_assert_null(tsr_front_split_path("/v1/1/2/3/4/5/6/7/8/9", "/v1/", false, &n));
    seg = tsr_front_split_path("/v1/1/2/3/4/5/6/7/8", "/v1/", false, &n);
    g_assert_cmpuint(n, ==, 8);
    g_strfreev(seg);
}

static const struct tsr_front_refusal table[TSR_CONFERENCE_REFUSAL_COUNT] = {
    [TSR_CONFERENCE_REFUSAL_FULL] = {.status = 409},
    [TSR_CONFERENCE_REFUSAL_CAPACITY] = {.status = 403, .text = "Out of resource"},
};
static const struct tsr_front_desc test_desc = {
    .name = "test",
    .path_base = "/sse/",
    .error_metric = "tessera_test_errors_total",
    .error_metric_help = "Test errors.",
    .refusals = table,
    .sse = {.keepalive_s = 1,
            .keepalive = ": ka\n\n",
            .max_backlog_bytes = 64 * 1024,
            .gauge = "tessera_test_streams",
            .gauge_help = "Test streams."},
};

static void test_refusals_and_alias(void)
{
    struct tsr_front_error e;
    tsr_front_refusal_error(&test_desc, TSR_CONFERENCE_REFUSAL_FULL, "core says full", &e);
    g_assert_cmpuint(e.status, ==, 409);
    g_assert_cmpstr(e.code, ==, "conference_full");
    g_assert_cmpstr(e.text, ==, "core says full");
    tsr_front_refusal_error(&test_desc, TSR_CONFERENCE_REFUSAL_CAPACITY, "x", &e);
    g_assert_cmpstr(e.text, ==, "Out of resource");
    g_assert_cmpuint(e.retry_after_s, ==, 0); /* the entry replaces the default's Retry-After */
    tsr_front_refusal_error(&test_desc, TSR_CONFERENCE_REFUSAL_WRONG_PIN, "wrong", &e);
    g_assert_cmpuint(e.status, ==, 403); /* not in the table: the HTTP default */
    g_assert_cmpstr(e.code, ==, "wrong_pin");
    g_assert_cmpstr(e.text, ==, "wrong");
    tsr_front_refusal_error(&test_desc, TSR_CONFERENCE_REFUSAL_BAD_SDP, NULL, &e);
    g_assert_cmpuint(e.status, ==, 400);
    g_assert_cmpstr(e.text, ==, "bad_sdp");
    tsr_front_alias_error(&e);
    g_assert_cmpuint(e.status, ==, 400);
    g_assert_cmpstr(e.code, ==, "bad_request");
    g_assert_cmpstr(e.text, ==, TSR_CONFERENCE_ALIAS_RULE);
    tsr_front_count_error(&test_desc, "here", &e);
    g_assert_cmpuint(tsr_counter_value(tsr_metrics_counter("tessera_test_errors_total",
                                                           "code=\"bad_request\"", "Test errors.")),
                     ==, 1);
}

/* --- sessions ---------------------------------------------------------------------- */
static int data_freed, left_calls;
static enum tsr_leave_reason left_reason;

static void on_data_free(gpointer data)
{
    g_free(data);
    data_freed++;
}

static void on_left(struct tsr_front_session *s, enum tsr_leave_reason reason, void *user)
{
    g_assert_null(tsr_front_session_participant(s));
    g_assert_true(user == &left_calls);
    left_calls++;
    left_reason = reason;
}

static struct tsr_participant *join_with(struct tsr_conference_registry *reg,
                                         struct tsr_front_session *s)
{
    struct tsr_conference_join_request req = {
        .alias = "a", .display_name = "A", .holder = s ? tsr_front_session_holder(s) : NULL};
    struct tsr_participant *p = NULL;
    enum tsr_conference_refusal why;
    char *err = NULL;
    g_assert_cmpint(tsr_conference_join_roster(reg, &req, &p, &why, &err), ==, 0);
    return p;
}

static void test_sessions(void)
{
    struct tsr_conference_registry_opts o = {
        .allow_adhoc = true, .token_ttl_s = 60, .default_max_participants = 5};
    struct tsr_conference_registry *reg = NULL;
    g_assert_cmpint(tsr_conference_registry_new(&reg, &o), ==, 0);
    struct tsr_front_session *s = tsr_front_session_new(&test_desc, TSR_PARTICIPANT_BOUND);
    tsr_front_session_set_data(s, g_strdup("call"), on_data_free);
    tsr_front_session_on_left(s, on_left, &left_calls);
    struct tsr_participant *p = join_with(reg, s);
    struct tsr_participant *plain = join_with(reg, NULL);
    g_assert_true(tsr_front_session_participant(s) == p);
    g_assert_true(tsr_front_session_of(p) == s);
    g_assert_null(tsr_front_session_of(plain));
    g_assert_true(tsr_front_session_front(s) == &test_desc);
    g_assert_cmpint(tsr_participant_liveness(p), ==, TSR_PARTICIPANT_BOUND);
    g_assert_cmpstr(tsr_front_session_data(s), ==, "call");
    /* the core's reference keeps the session when the front lets go */
    struct tsr_front_session *kept = tsr_front_session_ref(s);
    g_assert_null(tsr_front_session_unref(s));
    tsr_front_session_leave(kept, TSR_LEAVE_REQUESTED);
    g_assert_cmpint(left_calls, ==, 1);
    g_assert_cmpint(left_reason, ==, TSR_LEAVE_REQUESTED);
    tsr_front_session_leave(kept, TSR_LEAVE_REQUESTED); /* no participant: nothing */
    g_assert_cmpint(left_calls, ==, 1);
    g_assert_cmpint(data_freed, ==, 0);
    g_assert_null(tsr_front_session_unref(kept)); /* the last reference */
    g_assert_cmpint(data_freed, ==, 1);
    g_assert_null(tsr_front_session_unref(NULL));
    tsr_conference_registry_free(&reg);
}

/* --- streams against a real server --------------------------------------------------- */
static struct {
    GMainContext *ctx;
    GMainLoop *loop;
    struct tsr_http *http;
    GMutex lock;
    GCond cond;
    uint16_t port;
    int closed; /* on_closed calls, under lock */
} st;

static void on_stream_closed(struct tsr_front_stream *s, void *user)
{
    (void)user;
    tsr_front_stream_free(&s);
    g_mutex_lock(&st.lock);
    st.closed++;
    g_cond_broadcast(&st.cond);
    g_mutex_unlock(&st.lock);
}

static gboolean end_later(gpointer data)
{
    tsr_front_stream_end(data);
    return G_SOURCE_REMOVE;
}

static void handle_sse(SoupServer *server, SoupServerMessage *msg, const char *path,
                       GHashTable *query, gpointer user)
{
    (void)server, (void)query, (void)user;
    struct tsr_front_stream *s = tsr_front_stream_open(&test_desc, msg, on_stream_closed, NULL);
    if (strcmp(path, "/sse/burst") == 0) {
        /* 200 events of 1 KiB in one go: more than the socket takes at once and
         * more than the 64 KiB backlog allowed */
        char *pad = g_strnfill(1000, 'x');
        json_t *data = json_pack("{s:s}", "pad", pad);
        for (int i = 0; i < 200 && !tsr_front_stream_ended(s); i++)
            tsr_front_stream_send(s, "bulk", data);
        g_assert_true(tsr_front_stream_ended(s));
        json_decref(data);
        g_free(pad);
        return;
    }
    json_t *hello = json_pack("{s:i}", "n", 1);
    tsr_front_stream_send(s, "hello", hello);
    tsr_front_stream_send(s, "nothing", NULL);
    json_decref(hello);
    GSource *t = g_timeout_source_new(2500); /* past a keep-alive (whole seconds) */
    g_source_set_callback(t, end_later, s, NULL);
    g_source_attach(t, st.ctx);
    g_source_unref(t);
}

static gpointer serve(gpointer data)
{
    (void)data;
    g_main_context_push_thread_default(st.ctx);
    g_assert_cmpint(tsr_http_new(&st.http, "127.0.0.1", 0), ==, 0);
    soup_server_add_handler(tsr_http_soup_server(st.http), "/sse", handle_sse, NULL, NULL);
    g_mutex_lock(&st.lock);
    st.port = tsr_http_port(st.http);
    g_cond_signal(&st.cond);
    g_mutex_unlock(&st.lock);
    g_main_loop_run(st.loop);
    tsr_http_free(&st.http);
    while (g_main_context_iteration(st.ctx, FALSE))
        ;
    g_main_context_pop_thread_default(st.ctx);
    return NULL;
}

static void wait_closed(int n)
{
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    g_mutex_lock(&st.lock);
    while (st.closed < n && g_cond_wait_until(&st.cond, &st.lock, end))
        ;
    g_assert_cmpint(st.closed, ==, n);
    g_mutex_unlock(&st.lock);
}

static char *fetch(SoupSession *session, const char *path)
{
    char *url = g_strdup_printf("http://127.0.0.1:%u%s", st.port, path);
    SoupMessage *msg = soup_message_new("GET", url);
    GBytes *body = soup_session_send_and_read(session, msg, NULL, NULL);
    char *text = body ? g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body)) : NULL;
    if (body)
        g_bytes_unref(body);
    g_object_unref(msg);
    g_free(url);
    return text;
}

static void test_streams(void)
{
    st.ctx = g_main_context_new();
    st.loop = g_main_loop_new(st.ctx, FALSE);
    g_mutex_lock(&st.lock);
    GThread *t = g_thread_new("http", serve, NULL);
    while (!st.port)
        g_cond_wait(&st.cond, &st.lock);
    g_mutex_unlock(&st.lock);
    SoupSession *session = soup_session_new();

    char *text = fetch(session, "/sse/ok");
    g_assert_nonnull(text);
    g_assert_true(g_str_has_prefix(text, "retry: 3000\n\nevent: hello\ndata: {\"n\":1}\n\n"
                                         "event: nothing\ndata: null\n\n"));
    g_assert_nonnull(strstr(text, ": ka\n\n"));
    g_free(text);
    wait_closed(1);

    const char *dropped = "front=\"test\"";
    text = fetch(session, "/sse/burst");
    g_assert_true(text == NULL || strlen(text) < 200 * 1000);
    g_free(text);
    wait_closed(2);
    g_assert_cmpuint(
        tsr_counter_value(tsr_metrics_counter("tessera_sse_streams_dropped_total", dropped, "x")),
        ==, 1);
    g_assert_cmpfloat(tsr_gauge_value(tsr_metrics_gauge("tessera_test_streams", NULL, "x")), ==, 0);

    g_object_unref(session);
    g_main_loop_quit(st.loop);
    g_thread_join(t);
    g_main_loop_unref(st.loop);
    g_main_context_unref(st.ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tsr_metrics_reset();
    g_mutex_init(&st.lock);
    g_cond_init(&st.cond);
    g_test_add_func("/front/parse_json", test_parse_json);
    g_test_add_func("/front/members", test_members);
    g_test_add_func("/front/split_path", test_split_path);
    g_test_add_func("/front/refusals_and_alias", test_refusals_and_alias);
    g_test_add_func("/front/sessions", test_sessions);
    g_test_add_func("/front/streams", test_streams);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
