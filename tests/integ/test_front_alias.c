/* One alias rule on every front. A server starts the four fronts from their table
 * entries (as src/core/server.c does) with ad hoc conferences on, and a conference
 * alias with a leading dot is refused the same way everywhere: 400 (WebSocket: its
 * error message, then close 1008) with the code "bad_request" and the text
 * TSR_CONFERENCE_ALIAS_RULE, each in its front's envelope, and nothing created. A
 * dot inside an alias is fine everywhere. */
#include <tessera/inlive_api.h>
#include <tessera/metrics.h>
#include <tessera/native_api.h>
#include <tessera/pexip_api.h>
#include <tessera/ws_signalling.h>

#include "../common/front_server.h"

static struct front_server fs;

static size_t n_conferences;
static void count_conferences(struct front_server *s, void *arg)
{
    (void)arg;
    n_conferences = tsr_conference_registry_n_conferences(s->reg);
}

static size_t conferences(void)
{
    front_server_run(&fs, count_conferences, NULL);
    return n_conferences;
}

/* 400 with the machine word in `code_key` and the rule in `text_key`. */
static void expect_alias_refusal(const char *method, const char *path, const char *body,
                                 const char *code_key, const char *text_key)
{
    struct front_reply r = front_call(&fs, method, path, body, NULL);
    g_assert_cmpuint(r.status, ==, 400);
    g_assert_cmpstr(r.ctype, ==, "application/json");
    g_assert_cmpstr(front_reply_str(&r, code_key), ==, "bad_request");
    g_assert_cmpstr(front_reply_str(&r, text_key), ==, TSR_CONFERENCE_ALIAS_RULE);
    front_reply_clear(&r);
}

static void test_native(void)
{
    expect_alias_refusal("POST", "/api/v1/conferences/.hidden/join", "{\"display_name\":\"A\"}",
                         "error", "message");
    expect_alias_refusal("GET", "/api/v1/conferences/.hidden", NULL, "error", "message");
    struct front_reply r =
        front_call(&fs, "POST", "/api/v1/conferences/a.b/join", "{\"display_name\":\"A\"}", NULL);
    g_assert_cmpuint(r.status, ==, 200);
    front_reply_clear(&r);
    g_assert_cmpuint(conferences(), ==, 1);
}

static void test_pexip(void)
{
    expect_alias_refusal("POST", "/api/client/v2/conferences/.hidden/request_token",
                         "{\"display_name\":\"A\"}", "error", "result");
    /* the Pexip envelope around it */
    struct front_reply r = front_call(&fs, "POST", "/api/client/v2/conferences/.x/request_token",
                                      "{\"display_name\":\"A\"}", NULL);
    g_assert_cmpstr(front_reply_str(&r, "status"), ==, "failed");
    front_reply_clear(&r);
    g_assert_cmpuint(conferences(), ==, 1);
}

static void test_inlive(void)
{
    expect_alias_refusal("POST", "/v1/rooms/create", "{\"id\":\".hidden\"}", "error", "message");
    struct front_reply r = front_call(&fs, "POST", "/v1/rooms/create", "{\"id\":\"c.d\"}", NULL);
    g_assert_cmpuint(r.status, ==, 201);
    /* ending a room takes the secret its creation returned */
    char *auth = g_strdup_printf(
        "Authorization: Bearer %s",
        json_string_value(json_object_get(json_object_get(r.json, "data"), "room_secret")));
    const char *hs[] = {auth, NULL};
    front_reply_clear(&r);
    r = front_call(&fs, "PUT", "/v1/rooms/c.d/end", NULL, hs);
    g_assert_cmpuint(r.status, ==, 200);
    front_reply_clear(&r);
    g_free(auth);
}

/* --- WebSocket: the client runs on this thread's default context ------------------ */
struct ws_client {
    SoupWebsocketConnection *conn;
    GQueue inbox; /* json_t* */
    bool failed, closed;
};

static void on_ws_message(SoupWebsocketConnection *conn, gint type, GBytes *bytes, gpointer user)
{
    (void)conn, (void)type;
    struct ws_client *c = user;
    gsize len = 0;
    const char *data = g_bytes_get_data(bytes, &len);
    g_queue_push_tail(&c->inbox, json_loadb(data, len, 0, NULL));
}

static void on_ws_closed(SoupWebsocketConnection *conn, gpointer user)
{
    (void)conn;
    ((struct ws_client *)user)->closed = true;
}

static void on_ws_connected(GObject *source, GAsyncResult *res, gpointer user)
{
    struct ws_client *c = user;
    c->conn = soup_session_websocket_connect_finish(SOUP_SESSION(source), res, NULL);
    c->failed = c->conn == NULL;
    if (c->conn) {
        g_signal_connect(c->conn, "message", G_CALLBACK(on_ws_message), c);
        g_signal_connect(c->conn, "closed", G_CALLBACK(on_ws_closed), c);
    }
}

/* Runs this thread's loop until done(c) or 15 s. */
static void iterate_until(bool (*done)(const struct ws_client *c), const struct ws_client *c)
{
    gint64 end = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
    while (!done(c) && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
}

static bool connect_done(const struct ws_client *c)
{
    return c->conn || c->failed;
}

static bool close_done(const struct ws_client *c)
{
    return c->closed;
}

static void test_websocket(void)
{
    struct ws_client c = {0};
    g_queue_init(&c.inbox);
    SoupSession *session = soup_session_new();
    char *url = g_strdup_printf("ws://127.0.0.1:%u/ws/.hidden", fs.port);
    SoupMessage *msg = soup_message_new("GET", url);
    soup_session_websocket_connect_async(session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                         on_ws_connected, &c);
    iterate_until(connect_done, &c);
    g_assert_nonnull(c.conn);
    iterate_until(close_done, &c);
    g_assert_true(c.closed);
    g_assert_cmpuint(soup_websocket_connection_get_close_code(c.conn), ==,
                     SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
    json_t *o = g_queue_pop_head(&c.inbox);
    g_assert_cmpstr(json_string_value(json_object_get(o, "error")), ==, "bad_request");
    g_assert_cmpstr(json_string_value(json_object_get(o, "message")), ==,
                    TSR_CONFERENCE_ALIAS_RULE);
    json_decref(o);
    g_assert_true(g_queue_is_empty(&c.inbox));
    g_object_unref(c.conn);
    g_object_unref(msg);
    g_object_unref(session);
    g_free(url);
    g_assert_cmpuint(conferences(), ==, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fs.opts = (struct tsr_conference_registry_opts){
        .allow_adhoc = true, .token_ttl_s = 120, .default_max_participants = 10};
    const struct tsr_front_ops *fronts[] = {&tsr_native_front, &tsr_inlive_front, &tsr_pexip_front,
                                            &tsr_ws_front};
    for (size_t i = 0; i < G_N_ELEMENTS(fronts); i++)
        fs.fronts[fs.n_fronts++] = fronts[i];
    front_server_start(&fs);
    g_test_add_func("/front_alias/native", test_native);
    g_test_add_func("/front_alias/pexip", test_pexip);
    g_test_add_func("/front_alias/inlive", test_inlive);
    g_test_add_func("/front_alias/websocket", test_websocket);
    int rc = g_test_run();
    front_server_stop(&fs);
    tsr_metrics_reset();
    return rc;
}
