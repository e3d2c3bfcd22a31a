/* WebSocket signalling over real sockets: a libsoup WebSocket client talks to
 * /ws/{alias} on our HTTP server, with the real media engine behind the
 * conference core and a real Chrome offer (tests/data/sdp/chrome_offer.sdp).
 * Joins in both offer forms answer in the same form; candidates before and after
 * the offer are taken silently; bye and a dropped socket both leave; the server
 * removing a participant says bye. Every bad input gets its JSON error code (and
 * a counter), closes the socket where documented, and the bystander already in
 * the conference is left exactly as it was. The server is capped at two
 * participants with media ([mixer] max_participants): the third gets "capacity". */
#include <tessera/config.h>
#include <tessera/err.h>
#include <tessera/http.h>
#include <tessera/media_engine.h>
#include <tessera/metrics.h>
#include <tessera/net_loops.h>
#include <tessera/ws_signalling.h>

#include <glib.h>
#include <jansson.h>
#include <libsoup/soup.h>
#include <string.h>

static struct {
    struct tsr_http *http;
    struct tsr_media_engine *engine;
    struct tsr_conference_registry *reg;
    struct tsr_ws_signalling *ws;
    SoupSession *session;
    char *offer;
} srv;

struct client {
    SoupWebsocketConnection *conn;
    GQueue inbox; /* json_t* */
    bool failed;
    bool closed;
};

static bool run_until(bool (*done)(void *), void *arg, unsigned seconds)
{
    gint64 end = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
    while (!done(arg) && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    return done(arg);
}

static void on_message(SoupWebsocketConnection *conn, gint type, GBytes *bytes, gpointer user)
{
    (void)conn;
    struct client *c = user;
    g_assert_cmpint(type, ==, SOUP_WEBSOCKET_DATA_TEXT);
    gsize len = 0;
    const char *data = g_bytes_get_data(bytes, &len);
    json_error_t jerr;
    json_t *o = json_loadb(data, len, 0, &jerr);
    if (!json_is_object(o))
        g_error("server sent something that is not a JSON object: %.*s", (int)len, data);
    g_queue_push_tail(&c->inbox, o);
}

static void on_closed(SoupWebsocketConnection *conn, gpointer user)
{
    (void)conn;
    ((struct client *)user)->closed = true;
}

static void on_connected(GObject *source, GAsyncResult *res, gpointer user)
{
    struct client *c = user;
    GError *err = NULL;
    c->conn = soup_session_websocket_connect_finish(SOUP_SESSION(source), res, &err);
    if (!c->conn) {
        g_test_message("connect: %s", err->message);
        g_error_free(err);
        c->failed = true;
        return;
    }
    g_signal_connect(c->conn, "message", G_CALLBACK(on_message), c);
    g_signal_connect(c->conn, "closed", G_CALLBACK(on_closed), c);
}

static bool connected_or_failed(void *arg)
{
    struct client *c = arg;
    return c->conn || c->failed;
}

/* Opens ws://…/ws/<path_and_query>. */
static struct client *client_connect(const char *path_and_query)
{
    struct client *c = g_new0(struct client, 1);
    g_queue_init(&c->inbox);
    char *url = g_strdup_printf("ws://127.0.0.1:%u/ws/%s", tsr_http_port(srv.http), path_and_query);
    SoupMessage *msg = soup_message_new("GET", url);
    g_assert_nonnull(msg);
    soup_session_websocket_connect_async(srv.session, msg, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                         on_connected, c);
    g_free(url);
    g_assert_true(run_until(connected_or_failed, c, 10));
    g_assert_nonnull(c->conn);
    /* a clean 101: "Connection: Upgrade" only (the API's "close" must not leak in) */
    g_assert_cmpuint(soup_message_get_status(msg), ==, 101);
    g_assert_cmpstr(
        soup_message_headers_get_list(soup_message_get_response_headers(msg), "Connection"), ==,
        "Upgrade");
    g_object_unref(msg);
    return c;
}

static void client_free(struct client *c)
{
    if (c->conn) {
        g_signal_handlers_disconnect_by_data(c->conn, c);
        g_object_unref(c->conn);
    }
    g_queue_clear_full(&c->inbox, (GDestroyNotify)json_decref);
    g_free(c);
}

static void client_send(struct client *c, const char *text)
{
    soup_websocket_connection_send_text(c->conn, text);
}

static bool has_mail(void *arg)
{
    return !g_queue_is_empty(&((struct client *)arg)->inbox);
}

/* The next message from the server (caller json_decref()s). */
static json_t *client_next(struct client *c)
{
    if (!run_until(has_mail, c, 15))
        g_error("no message from the server within 15 s");
    return g_queue_pop_head(&c->inbox);
}

/* The next message must be {"error": code, "message": non-empty text}. */
static void expect_error(struct client *c, const char *code)
{
    json_t *o = client_next(c);
    const char *got = json_string_value(json_object_get(o, "error"));
    const char *text = json_string_value(json_object_get(o, "message"));
    if (g_strcmp0(got, code) != 0 || !text || !*text || json_object_size(o) != 2)
        g_error("expected error %s, got %s", code, json_dumps(o, JSON_COMPACT));
    json_decref(o);
}

static bool is_closed(void *arg)
{
    return ((struct client *)arg)->closed;
}

/* The server closes the socket with `code`, sending nothing more. */
static void expect_closed(struct client *c, unsigned short code)
{
    g_assert_true(run_until(is_closed, c, 15));
    g_assert_cmpuint(soup_websocket_connection_get_close_code(c->conn), ==, code);
    g_assert_true(g_queue_is_empty(&c->inbox));
}

static char *offer_message(const char *sdp, bool as_object)
{
    json_t *o = as_object ? json_pack("{s:{s:s, s:s}}", "sdp", "type", "offer", "sdp", sdp)
                          : json_pack("{s:s}", "sdp", sdp);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* Sends the Chrome offer and checks the answer's form; returns the participant. */
static struct tsr_participant *join(struct client *c, const char *alias, bool as_object)
{
    size_t before = tsr_conference_registry_n_participants(srv.reg);
    char *m = offer_message(srv.offer, as_object);
    client_send(c, m);
    free(m);
    json_t *o = client_next(c);
    json_t *sdp = json_object_get(o, "sdp");
    g_assert_cmpuint(json_object_size(o), ==, 1);
    if (as_object) {
        g_assert_cmpstr(json_string_value(json_object_get(sdp, "type")), ==, "answer");
        sdp = json_object_get(sdp, "sdp");
    }
    g_assert_true(g_str_has_prefix(json_string_value(sdp), "v=0\r\n"));
    g_assert_nonnull(strstr(json_string_value(sdp), "a=candidate:"));
    json_decref(o);
    g_assert_cmpuint(tsr_conference_registry_n_participants(srv.reg), ==, before + 1);
    struct tsr_conference *conf = tsr_conference_registry_find(srv.reg, alias);
    size_t n = 0;
    struct tsr_participant *const *ps = tsr_conference_participants(conf, &n);
    return ps[n - 1];
}

static uint64_t errors_counted(const char *code)
{
    char labels[96];
    g_snprintf(labels, sizeof labels, "code=\"%s\"", code);
    return tsr_counter_value(tsr_metrics_counter("tessera_ws_signalling_errors_total", labels,
                                                 "WebSocket signalling errors sent to clients, "
                                                 "by code."));
}

static bool n_participants_is(void *arg)
{
    return tsr_conference_registry_n_participants(srv.reg) == GPOINTER_TO_SIZE(arg);
}

static void test_join_string_form_and_bye(void)
{
    struct client *c = client_connect("open?name=Ann%20Example");
    /* a candidate before the offer is kept and applied after the join */
    client_send(c, "{\"candidate\":\"candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host\"}");
    struct tsr_participant *p = join(c, "open", false);
    g_assert_cmpstr(tsr_participant_display_name(p), ==, "Ann Example");
    g_assert_true(tsr_participant_has_media(p));
    client_send(c, "{\"candidate\":{\"candidate\":\"candidate:2 1 udp 2122260223 192.0.2.1 "
                   "50001 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0}}");
    client_send(c, "{\"candidate\":null}");
    /* the candidates produced no reply: the next message answers the next request */
    client_send(c, "{\"candidate\":\"candidate:garbage\"}");
    expect_error(c, "bad_candidate");
    client_send(c, "{\"sdp\":\"v=0\\r\\n\"}");
    expect_error(c, "renegotiation_unsupported");
    client_send(c, "{\"join\":{\"display_name\":\"Late\"}}");
    expect_error(c, "already_joined");
    g_assert_cmpstr(tsr_participant_display_name(p), ==, "Ann Example");
    client_send(c, "{\"bye\":true}");
    expect_closed(c, SOUP_WEBSOCKET_CLOSE_NORMAL);
    g_assert_cmpuint(tsr_conference_registry_n_participants(srv.reg), ==, 0);
    client_free(c);
}

static void test_join_message_object_form_and_drop(void)
{
    struct client *c = client_connect("pinned");
    client_send(c, "{\"join\":{\"display_name\":\"Bo\",\"pin\":\"1234\"}}");
    struct tsr_participant *p = join(c, "pinned", true);
    g_assert_cmpstr(tsr_participant_display_name(p), ==, "Bo");
    g_assert_cmpint(tsr_participant_role(p), ==, TSR_ROLE_HOST);
    /* the client goes away without bye: the participant leaves all the same */
    soup_websocket_connection_close(c->conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    g_assert_true(run_until(n_participants_is, GSIZE_TO_POINTER(0), 15));
    g_assert_true(run_until(is_closed, c, 15));
    client_free(c);
}

static void test_removed_by_server(void)
{
    struct client *c = client_connect("open");
    struct tsr_participant *p = join(c, "open", false);
    g_assert_cmpstr(tsr_participant_display_name(p), ==, "WebSocket guest");
    tsr_participant_leave(p, TSR_LEAVE_KICKED);
    json_t *o = client_next(c);
    g_assert_true(json_is_true(json_object_get(o, "bye")));
    g_assert_cmpstr(json_string_value(json_object_get(o, "reason")), ==, "kicked");
    json_decref(o);
    expect_closed(c, SOUP_WEBSOCKET_CLOSE_NORMAL);
    client_free(c);
}

/* A participant already in "open", to show bad input elsewhere changes nothing. */
struct bystander {
    struct client *c;
    char *id;
};

static struct bystander bystander_join(void)
{
    struct bystander b = {client_connect("open?name=Bystander"), NULL};
    b.id = g_strdup(tsr_participant_id(join(b.c, "open", false)));
    return b;
}

static void bystander_check_and_leave(struct bystander *b)
{
    g_assert_nonnull(tsr_conference_registry_find_participant(srv.reg, b->id));
    g_assert_cmpuint(tsr_conference_registry_n_participants(srv.reg), ==, 1);
    g_assert_false(b->c->closed);
    g_assert_true(g_queue_is_empty(&b->c->inbox));
    client_send(b->c, "{\"bye\":true}");
    expect_closed(b->c, SOUP_WEBSOCKET_CLOSE_NORMAL);
    client_free(b->c);
    g_free(b->id);
}

static void test_bad_messages(void)
{
    struct bystander b = bystander_join();
    uint64_t bad_json = errors_counted("bad_json"), unknown = errors_counted("unknown_message");
    struct client *c = client_connect("open");
    client_send(c, "{\"sdp\": \"v=0");
    expect_error(c, "bad_json");
    client_send(c, "[1,2]");
    expect_error(c, "bad_json");
    client_send(c, "{\"hello\":\"world\"}");
    expect_error(c, "unknown_message");
    client_send(c, "{\"sdp\":5}");
    expect_error(c, "bad_message");
    client_send(c, "{\"candidate\":\"not a candidate\"}");
    expect_error(c, "bad_message");
    soup_websocket_connection_send_binary(c->conn, "{\"bye\":true}", 12);
    expect_error(c, "bad_message");
    g_assert_false(c->closed);
    g_assert_cmpuint(errors_counted("bad_json"), ==, bad_json + 2);
    g_assert_cmpuint(errors_counted("unknown_message"), ==, unknown + 1);
    /* over the size limit: an error, then the socket is closed (1009) */
    GString *big = g_string_new("{\"sdp\":\"");
    while (big->len < TSR_WS_SIGNALLING_MAX_MESSAGE_BYTES + 100)
        g_string_append(big, "xxxxxxxxxxxxxxxx");
    g_string_append(big, "\"}");
    client_send(c, big->str);
    g_string_free(big, TRUE);
    expect_error(c, "too_large");
    expect_closed(c, SOUP_WEBSOCKET_CLOSE_TOO_BIG);
    client_free(c);

    /* candidates before the offer are kept up to a limit */
    c = client_connect("open");
    for (int i = 0; i <= TSR_WS_SIGNALLING_MAX_EARLY_CANDIDATES; i++)
        client_send(c, "{\"candidate\":\"candidate:1 1 udp 1 192.0.2.1 9 typ host\"}");
    expect_error(c, "too_many_candidates");
    soup_websocket_connection_close(c->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_assert_true(run_until(is_closed, c, 15));
    client_free(c);

    /* a client that keeps sending garbage is cut off */
    c = client_connect("open");
    for (int i = 0; i < TSR_WS_SIGNALLING_MAX_ERRORS; i++)
        client_send(c, "nonsense");
    for (int i = 0; i < TSR_WS_SIGNALLING_MAX_ERRORS; i++)
        expect_error(c, "bad_json");
    expect_error(c, "too_many_errors");
    expect_closed(c, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
    client_free(c);
    bystander_check_and_leave(&b);
}

/* Connects, optionally sends an offer, and expects a refusal that closes (1008). */
static void expect_refusal(const char *path, const char *offer, const char *code)
{
    uint64_t before = errors_counted(code);
    struct client *c = client_connect(path);
    if (offer) {
        char *m = offer_message(offer, false);
        client_send(c, m);
        free(m);
    }
    expect_error(c, code);
    expect_closed(c, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
    g_assert_cmpuint(errors_counted(code), ==, before + 1);
    client_free(c);
}

static void test_refusals(void)
{
    struct bystander b = bystander_join();
    expect_refusal("nowhere", NULL, "no_such_conference");
    expect_refusal("bad%20alias", NULL, "bad_request");
    expect_refusal("pinned", srv.offer, "pin_required");
    expect_refusal("pinned?pin=9999", srv.offer, "wrong_pin");
    expect_refusal("open?name=%01", srv.offer, "bad_request");
    /* no Opus, no VP8 and no H.264 in the offer (a section without a common codec
     * alone is rejected, and the participant joins with the rest) */
    char *no_codec = g_strdup(srv.offer);
    for (char *s = no_codec; (s = strstr(s, "opus/")) != NULL;)
        memcpy(s, "xpus/", 5);
    for (char *s = no_codec; (s = strstr(s, "VP8/")) != NULL;)
        memcpy(s, "XP8/", 4);
    for (char *s = no_codec; (s = strstr(s, "H264/")) != NULL;)
        memcpy(s, "X264/", 5);
    expect_refusal("open", no_codec, "no_common_codec");
    g_free(no_codec);
    expect_refusal("open", "v=0\r\nthis is not SDP\r\n", "bad_sdp");

    /* "tiny" takes one participant */
    struct client *first = client_connect("tiny");
    join(first, "tiny", false);
    expect_refusal("tiny", srv.offer, "conference_full");
    /* the server carries its two participants with media ([mixer] max_participants):
     * a third is refused in any conference, and the two inside keep their media */
    uint64_t refused = tsr_counter_value(tsr_metrics_counter(
        "tessera_join_refusals_total", "reason=\"capacity\"", "Joins refused, by reason."));
    expect_refusal("open?name=Third", srv.offer, "capacity");
    g_assert_cmpuint(tsr_counter_value(tsr_metrics_counter("tessera_join_refusals_total",
                                                           "reason=\"capacity\"",
                                                           "Joins refused, by reason.")),
                     ==, refused + 1);
    g_assert_true(
        tsr_participant_has_media(tsr_conference_registry_find_participant(srv.reg, b.id)));
    g_assert_cmpuint(tsr_conference_registry_n_with_media(srv.reg), ==, 2);
    g_assert_false(first->closed);
    client_send(first, "{\"bye\":true}");
    expect_closed(first, SOUP_WEBSOCKET_CLOSE_NORMAL);
    client_free(first);
    g_assert_true(run_until(n_participants_is, GSIZE_TO_POINTER(1), 15));
    /* one left: a join with media gets in again */
    struct client *again = client_connect("open?name=Again");
    join(again, "open", false);
    client_send(again, "{\"bye\":true}");
    expect_closed(again, SOUP_WEBSOCKET_CLOSE_NORMAL);
    client_free(again);
    g_assert_true(run_until(n_participants_is, GSIZE_TO_POINTER(1), 15));
    bystander_check_and_leave(&b);
}

static void on_http_done(GObject *source, GAsyncResult *res, gpointer user)
{
    GBytes **body = user;
    *body = soup_session_send_and_read_finish(SOUP_SESSION(source), res, NULL);
    if (!*body)
        *body = g_bytes_new(NULL, 0);
}

static bool http_done(void *arg)
{
    return *(GBytes **)arg != NULL;
}

/* A plain GET (no Upgrade) gets a JSON 426. Async: the server runs on this loop. */
static void test_plain_http(void)
{
    char *url = g_strdup_printf("http://127.0.0.1:%u/ws/open", tsr_http_port(srv.http));
    SoupMessage *msg = soup_message_new("GET", url);
    GBytes *body = NULL;
    soup_session_send_and_read_async(srv.session, msg, G_PRIORITY_DEFAULT, NULL, on_http_done,
                                     &body);
    g_assert_true(run_until(http_done, &body, 15));
    g_assert_cmpuint(soup_message_get_status(msg), ==, 426);
    gsize len = 0;
    const char *data = g_bytes_get_data(body, &len);
    json_error_t jerr;
    json_t *o = json_loadb(data ? data : "", len, 0, &jerr);
    g_assert_cmpstr(json_string_value(json_object_get(o, "error")), ==, "websocket_required");
    json_decref(o);
    g_bytes_unref(body);
    g_object_unref(msg);
    g_free(url);
}

static void setup(void)
{
    struct tsr_config cfg;
    tsr_config_defaults(&cfg);
    char *err = NULL;
    /* max_participants: two participants with media at most, server-wide */
    const char *conf = "[mixer]\ncanvas_width = 160\ncanvas_height = 90\nfps = 10\n"
                       "net_threads = 2\nmax_participants = 2\n"
                       "[webrtc]\nrtp_port_min = 44000\nrtp_port_max = 44999\n"
                       "[conferences]\nallow_adhoc = false\nempty_timeout_s = 0\n";
    g_assert_cmpint(tsr_config_apply_text(&cfg, conf, strlen(conf), "test", &err), ==, 0);
    g_assert_cmpint(tsr_media_engine_new(&srv.engine, &cfg), ==, 0);
    struct tsr_conference_registry_opts opts;
    tsr_conference_registry_opts_from_config(&opts, &cfg);
    opts.media = tsr_media_engine_ops();
    opts.media_user = srv.engine;
    g_assert_cmpint(tsr_conference_registry_new(&srv.reg, &opts), ==, 0);
    tsr_media_engine_set_registry(srv.engine, srv.reg);
    const char *defs = "{\"conferences\":[{\"alias\":\"open\"},"
                       "{\"alias\":\"pinned\",\"host_pin\":\"1234\"},"
                       "{\"alias\":\"tiny\",\"max_participants\":1}]}";
    g_assert_cmpint(tsr_conference_registry_load_json(srv.reg, defs, strlen(defs), "test", &err),
                    ==, 0);
    g_assert_cmpint(tsr_http_new(&srv.http, "127.0.0.1", 0), ==, 0);
    g_assert_cmpint(tsr_ws_signalling_new(&srv.ws, srv.http, srv.reg), ==, 0);
    srv.session = soup_session_new();
    char *path =
        g_build_filename(g_getenv("TSR_SOURCE_DIR") ? g_getenv("TSR_SOURCE_DIR") : TSR_SOURCE_DIR,
                         "tests", "data", "sdp", "chrome_offer.sdp", NULL);
    g_assert_true(g_file_get_contents(path, &srv.offer, NULL, NULL));
    g_free(path);
}

static bool no_sessions(void *arg)
{
    (void)arg;
    return tsr_ws_signalling_n_sessions(srv.ws) == 0;
}

static void teardown(void)
{
    g_assert_true(run_until(no_sessions, NULL, 15));
    g_object_unref(srv.session);
    tsr_ws_signalling_free(&srv.ws);
    tsr_conference_registry_free(&srv.reg);
    tsr_media_engine_free(&srv.engine);
    tsr_http_free(&srv.http);
    g_free(srv.offer);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    tsr_metrics_reset();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    setup();
    g_test_add_func("/ws_signalling/join_string_form_and_bye", test_join_string_form_and_bye);
    g_test_add_func("/ws_signalling/join_message_object_form_and_drop",
                    test_join_message_object_form_and_drop);
    g_test_add_func("/ws_signalling/removed_by_server", test_removed_by_server);
    g_test_add_func("/ws_signalling/bad_messages", test_bad_messages);
    g_test_add_func("/ws_signalling/refusals", test_refusals);
    g_test_add_func("/ws_signalling/plain_http", test_plain_http);
    tsr_api_loop_enter(); /* a wait for another thread while serving aborts */
    int rc = g_test_run();
    tsr_api_loop_leave();
    teardown();
    return rc;
}
