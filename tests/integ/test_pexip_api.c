/* The Pexip client API over real HTTP (libsoup server in its own thread, libsoup
 * client here), with the conference core behind it: the PIN flow of spec §3.2,
 * CORS, bad input → the failed envelope with nothing changed, the event stream
 * (roster, hand, chat, mute, layout, kick, token expiry on the core's clock, end
 * for all), and a server at capacity answered as the SDK knows it.
 *
 * fake_media_ops below is a TEST DOUBLE for the media layer (no WebRTC here): it
 * answers offers that have m-lines, refuses others as having no common codec, and
 * reports the load the test sets. The server is capped at two participants with
 * media and a load of 0.8. */
#include <tessera/conference.h>
#include <tessera/err.h>
#include <tessera/http.h>
#include <tessera/metrics.h>
#include <tessera/pexip_api.h>

#include <glib.h>
#include <string.h>

#define CONFS                                                                                      \
    "{\"conferences\":[{\"alias\":\"board\",\"host_pin\":\"1234\",\"guest_pin\":\"5678\"},"        \
    "{\"alias\":\"meet\"}]}"
#define BASE "/api/client/v2/conferences/"

struct server_thread {
    GMainContext *ctx;
    GMainLoop *loop;
    struct tsr_http *http;
    struct tsr_conference_registry *reg;
    struct tsr_pexip_api *api;
    GMutex lock;
    GCond cond;
    bool ready;
    uint16_t port;
    int64_t now_us; /* the registry's clock; under lock */
    double load;    /* what the fake media layer reports; under lock */
};

static struct server_thread st;
static SoupSession *session;

static int64_t test_clock(void *user)
{
    (void)user;
    g_mutex_lock(&st.lock);
    int64_t v = st.now_us;
    g_mutex_unlock(&st.lock);
    return v;
}

/* --- test double for the media layer ------------------------------------------ */
static void fake_attach(void *user, struct tsr_participant *p, const char *offer,
                        struct tsr_conference_call *call)
{
    (void)user, (void)p;
    if (!strstr(offer, "\nm=")) {
        tsr_conference_call_done(call, TSR_ERR_UNSUPPORTED, NULL,
                                 g_strdup("fake: no m-lines, no common codec"));
        return;
    }
    tsr_conference_call_done(call, 0, g_strdup("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"), NULL);
}

static void fake_detach(void *user, struct tsr_participant *p)
{
    (void)user, (void)p;
}

static double fake_load(void *user)
{
    (void)user;
    g_mutex_lock(&st.lock);
    double v = st.load;
    g_mutex_unlock(&st.lock);
    return v;
}

/* Outputs (streams from dial): remembers the last one started and stopped. */
static uint32_t started_output, stopped_output;
static char started_target[256];

static int fake_start_output(void *user, struct tsr_conference *c, uint32_t id,
                             enum tsr_conference_output_kind kind, const char *target, char **err)
{
    (void)user, (void)c, (void)err;
    g_assert_cmpint(kind, ==, TSR_CONFERENCE_OUTPUT_STREAM);
    started_output = id;
    g_strlcpy(started_target, target, sizeof started_target);
    return 0;
}

static void fake_stop_output(void *user, struct tsr_conference *c, uint32_t id)
{
    (void)user, (void)c;
    stopped_output = id;
}

static const struct tsr_conference_media_ops fake_media_ops = {.attach = fake_attach,
                                                               .detach = fake_detach,
                                                               .load = fake_load,
                                                               .start_output = fake_start_output,
                                                               .stop_output = fake_stop_output};

static gpointer serve(gpointer data)
{
    (void)data;
    g_main_context_push_thread_default(st.ctx);
    struct tsr_conference_registry_opts o = {
        .allow_adhoc = false,
        .empty_timeout_s = 0,
        .token_ttl_s = 120,
        .default_max_participants = 10,
        .max_media_participants = 2,
        .max_load = 0.8,
        .media = &fake_media_ops,
        .clock = test_clock,
        .context = st.ctx,
        .ice_servers = "stun:stun.example.com:3478, turns:turn.example.com:443 alice s3cret"};
    char *err = NULL;
    g_assert_cmpint(tsr_http_new(&st.http, "127.0.0.1", 0), ==, 0);
    g_assert_cmpint(tsr_conference_registry_new(&st.reg, &o), ==, 0);
    g_assert_cmpint(tsr_conference_registry_load_json(st.reg, CONFS, strlen(CONFS), "t", &err), ==,
                    0);
    g_assert_cmpint(tsr_pexip_api_new(&st.api, st.http, st.reg), ==, 0);
    g_mutex_lock(&st.lock);
    st.port = tsr_http_port(st.http);
    st.ready = true;
    g_cond_signal(&st.cond);
    g_mutex_unlock(&st.lock);
    g_main_loop_run(st.loop);
    tsr_pexip_api_free(&st.api);
    tsr_conference_registry_free(&st.reg);
    tsr_http_free(&st.http);
    while (g_main_context_iteration(st.ctx, FALSE))
        ;
    g_main_context_pop_thread_default(st.ctx);
    return NULL;
}

/* Runs fn on the server thread and waits for it. */
struct invoke {
    void (*fn)(void);
    bool done;
};

static gboolean invoke_cb(gpointer data)
{
    struct invoke *iv = data;
    iv->fn();
    g_mutex_lock(&st.lock);
    iv->done = true;
    g_cond_broadcast(&st.cond);
    g_mutex_unlock(&st.lock);
    return G_SOURCE_REMOVE;
}

static void on_server(void (*fn)(void))
{
    struct invoke iv = {fn, false};
    g_main_context_invoke(st.ctx, invoke_cb, &iv);
    g_mutex_lock(&st.lock);
    while (!iv.done)
        g_cond_wait(&st.cond, &st.lock);
    g_mutex_unlock(&st.lock);
}

static size_t n_participants;
static void count_participants(void)
{
    n_participants = tsr_conference_registry_n_participants(st.reg);
}

static size_t participants(void)
{
    on_server(count_participants);
    return n_participants;
}

static const char *talker_id;
static void post_talker(void)
{
    tsr_conference_post_talkers(st.reg, "meet", &talker_id, 1);
}

static void sweep(void)
{
    tsr_conference_registry_sweep(st.reg);
}

static void advance_s(int64_t s)
{
    g_mutex_lock(&st.lock);
    st.now_us += s * G_USEC_PER_SEC;
    g_mutex_unlock(&st.lock);
    on_server(sweep);
}

/* --- client helpers ----------------------------------------------------------- */

struct reply {
    unsigned status;
    char *ctype;
    json_t *json; /* NULL when the body is not JSON */
    char *text;
};

static void reply_clear(struct reply *r)
{
    g_free(r->ctype);
    g_free(r->text);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* headers: "name: value" strings, NULL-terminated (may be NULL). */
static struct reply call(const char *method, const char *path, const char *body,
                         const char *const *headers)
{
    char *url = g_strdup_printf("http://127.0.0.1:%u%s", st.port, path);
    SoupMessage *msg = soup_message_new(method, url);
    SoupMessageHeaders *h = soup_message_get_request_headers(msg);
    for (size_t i = 0; headers && headers[i]; i++) {
        gchar **kv = g_strsplit(headers[i], ": ", 2);
        soup_message_headers_replace(h, kv[0], kv[1]);
        g_strfreev(kv);
    }
    if (body) {
        GBytes *b = g_bytes_new(body, strlen(body));
        soup_message_set_request_body_from_bytes(msg, "application/json", b);
        g_bytes_unref(b);
    }
    GBytes *out = soup_session_send_and_read(session, msg, NULL, NULL);
    struct reply r = {.status = soup_message_get_status(msg)};
    const char *ct =
        soup_message_headers_get_one(soup_message_get_response_headers(msg), "Content-Type");
    r.ctype = g_strdup(ct);
    r.text = g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
    r.json = json_loads(r.text, JSON_DECODE_ANY, NULL);
    g_bytes_unref(out);
    g_object_unref(msg);
    g_free(url);
    return r;
}

static struct reply post_tok(const char *path, const char *body, const char *token)
{
    char *hdr = g_strdup_printf("token: %s", token);
    const char *hs[] = {hdr, NULL};
    struct reply r = call("POST", path, body, hs);
    g_free(hdr);
    return r;
}

/* The failed envelope: status, exactly application/json, a string result. */
static void assert_failed(struct reply *r, unsigned status)
{
    g_assert_cmpuint(r->status, ==, status);
    g_assert_cmpstr(r->ctype, ==, "application/json");
    g_assert_nonnull(r->json);
    g_assert_cmpstr(json_string_value(json_object_get(r->json, "status")), ==, "failed");
    g_assert_true(json_is_string(json_object_get(r->json, "result")));
    reply_clear(r);
}

static json_t *result(struct reply *r)
{
    g_assert_cmpstr(r->ctype, ==, "application/json");
    g_assert_cmpstr(json_string_value(json_object_get(r->json, "status")), ==, "success");
    return json_object_get(r->json, "result");
}

/* request_token → 200; fills token and uuid (caller frees). */
static void join(const char *alias, const char *name, const char *pin, char **token, char **uuid)
{
    char *path = g_strdup_printf(BASE "%s/request_token", alias);
    char *body = g_strdup_printf("{\"display_name\":\"%s\",\"chosen_idp\":\"none\"}", name);
    char *pinh = pin ? g_strdup_printf("pin: %s", pin) : NULL;
    const char *hs[] = {pinh, NULL};
    struct reply r = call("POST", path, body, hs);
    g_assert_cmpuint(r.status, ==, 200);
    json_t *res = result(&r);
    g_assert_cmpstr(json_string_value(json_object_get(res, "expires")), ==, "120");
    /* [webrtc] turn_servers in the token's stun/turn shape */
    json_t *servers = json_pack("{s:O, s:O}", "stun", json_object_get(res, "stun"), "turn",
                                json_object_get(res, "turn"));
    char *ice = json_dumps(servers, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(servers);
    g_assert_cmpstr(
        ice, ==,
        "{\"stun\":[{\"url\":\"stun:stun.example.com:3478\"}],\"turn\":[{\"credential\":"
        "\"s3cret\",\"urls\":[\"turns:turn.example.com:443\"],\"username\":\"alice\"}]}");
    free(ice);
    *token = g_strdup(json_string_value(json_object_get(res, "token")));
    *uuid = g_strdup(json_string_value(json_object_get(res, "participant_uuid")));
    reply_clear(&r);
    g_free(path);
    g_free(body);
    g_free(pinh);
}

/* --- tests ------------------------------------------------------------------------- */

static void test_pin_flow(void)
{
    struct reply r = call("POST", BASE "board/request_token", "{\"display_name\":\"Pat\"}", NULL);
    g_assert_cmpuint(r.status, ==, 403);
    json_t *res = result(&r);
    g_assert_cmpstr(json_string_value(json_object_get(res, "pin")), ==, "required");
    g_assert_cmpstr(json_string_value(json_object_get(res, "guest_pin")), ==, "required");
    g_assert_true(json_is_object(json_object_get(res, "version")));
    reply_clear(&r);
    static const char *const wrong[] = {"pin: none", "pin: 0000", NULL};
    for (size_t i = 0; wrong[i]; i++) {
        const char *hs[] = {wrong[i], NULL};
        r = call("POST", BASE "board/request_token", "{\"display_name\":\"Pat\"}", hs);
        g_assert_cmpuint(r.status, ==, 403);
        g_assert_cmpstr(json_string_value(result(&r)), ==, "Invalid PIN");
        reply_clear(&r);
    }
    r = call("POST", BASE "nowhere/request_token", "{\"display_name\":\"Pat\"}", NULL);
    g_assert_cmpstr(json_string_value(json_object_get(r.json, "result")), ==,
                    "Neither conference nor gateway found");
    assert_failed(&r, 404);
    g_assert_cmpuint(participants(), ==, 0);

    char *tok = NULL, *id = NULL;
    const char *hs[] = {"pin: 5678", NULL};
    r = call("POST", BASE "board/request_token", "{\"display_name\":\"Pat\"}", hs);
    g_assert_cmpstr(json_string_value(json_object_get(result(&r), "role")), ==, "GUEST");
    tok = g_strdup(json_string_value(json_object_get(result(&r), "token")));
    reply_clear(&r);
    r = post_tok(BASE "board/release_token", NULL, tok);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    g_free(tok);
    join("board", "Hal", "1234", &tok, &id);
    r = post_tok(BASE "board/refresh_token", NULL, tok);
    g_assert_cmpstr(json_string_value(json_object_get(result(&r), "role")), ==, "HOST");
    g_assert_cmpstr(json_string_value(json_object_get(result(&r), "expires")), ==, "120");
    reply_clear(&r);
    /* the token rides in the URL only where a browser cannot set a header */
    char *path = g_strdup_printf(BASE "board/refresh_token?token=%s", tok);
    r = call("POST", path, NULL, NULL);
    assert_failed(&r, 403);
    reply_clear(&r);
    g_free(path);
    /* release by ?token= (sendBeacon), then the token is dead */
    path = g_strdup_printf(BASE "board/release_token?token=%s", tok);
    r = call("POST", path, "{\"reason\":\"Browser closed\"}", NULL);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    r = post_tok(BASE "board/refresh_token", NULL, tok);
    assert_failed(&r, 403);
    g_assert_cmpuint(participants(), ==, 0);
    g_free(path);
    g_free(tok);
    g_free(id);
}

static void test_cors(void)
{
    const char *hs[] = {"Origin: http://app.example", "Access-Control-Request-Method: POST", NULL};
    char *url = g_strdup_printf("http://127.0.0.1:%u" BASE "meet/request_token", st.port);
    SoupMessage *msg = soup_message_new("OPTIONS", url);
    for (size_t i = 0; hs[i]; i++) {
        gchar **kv = g_strsplit(hs[i], ": ", 2);
        soup_message_headers_replace(soup_message_get_request_headers(msg), kv[0], kv[1]);
        g_strfreev(kv);
    }
    GBytes *out = soup_session_send_and_read(session, msg, NULL, NULL);
    SoupMessageHeaders *rh = soup_message_get_response_headers(msg);
    g_assert_cmpuint(soup_message_get_status(msg), ==, 204);
    g_assert_cmpstr(soup_message_headers_get_one(rh, "Access-Control-Allow-Origin"), ==,
                    "http://app.example");
    g_assert_cmpstr(soup_message_headers_get_one(rh, "Access-Control-Allow-Credentials"), ==,
                    "true");
    g_assert_cmpstr(soup_message_headers_get_one(rh, "Access-Control-Allow-Headers"), ==,
                    "content-type, token, pin");
    g_bytes_unref(out);
    g_object_unref(msg);
    g_free(url);
}

static void test_bad_input(void)
{
    char *tok = NULL, *id = NULL, *tok2 = NULL, *id2 = NULL, *path = NULL;
    join("meet", "Ann", NULL, &tok, &id);
    join("meet", "Ben", NULL, &tok2, &id2);
    struct reply r;
    /* request_token */
    static const char *const bodies[] = {
        "not json", "[1,2]", "{}", "{\"display_name\":7}", "{\"display_name\":\"\"}", NULL};
    for (size_t i = 0; bodies[i]; i++) {
        r = call("POST", BASE "meet/request_token", bodies[i], NULL);
        assert_failed(&r, 400);
    }
    GString *big = g_string_new("{\"display_name\":\"");
    while (big->len < TSR_PEXIP_API_MAX_BODY_BYTES + 10)
        g_string_append(big, "xxxxxxxxxxxxxxxx");
    g_string_append(big, "\"}");
    r = call("POST", BASE "meet/request_token", big->str, NULL);
    assert_failed(&r, 413);
    g_assert_cmpuint(participants(), ==, 2);
    /* tokens */
    r = post_tok(BASE "meet/refresh_token", NULL, "00ff");
    assert_failed(&r, 403);
    r = post_tok(BASE "board/refresh_token", NULL, tok); /* another conference's path */
    assert_failed(&r, 403);
    /* calls */
    path = g_strdup_printf(BASE "meet/participants/%s/calls", id);
    static const char *const call_bodies[] = {"{}", "{\"sdp\":5}",
                                              "{\"call_type\":\"RTMP\",\"sdp\":\"v=0\"}", NULL};
    for (size_t i = 0; call_bodies[i]; i++) {
        r = post_tok(path, call_bodies[i], tok);
        assert_failed(&r, 400);
    }
    r = post_tok(path, big->str, tok);
    assert_failed(&r, 413);
    r = post_tok(path, "{\"call_type\":\"WEBRTC\",\"sdp\":\"v=0\"}", tok2); /* Ben on Ann's */
    assert_failed(&r, 403);
    g_free(path);
    /* presentation (spec §7): the floor is one's own and needs a call; releasing a
     * floor one does not hold is a harmless null */
    path = g_strdup_printf(BASE "meet/participants/%s/take_floor", id);
    r = post_tok(path, NULL, tok); /* no call yet: "Presentation rejected" */
    assert_failed(&r, 403);
    r = post_tok(path, NULL, tok2); /* Ben for Ann */
    assert_failed(&r, 403);
    g_free(path);
    path = g_strdup_printf(BASE "meet/participants/%s/release_floor", id);
    r = post_tok(path, NULL, tok);
    g_assert_cmpuint(r.status, ==, 200);
    g_assert_true(json_is_null(result(&r)));
    reply_clear(&r);
    g_free(path);
    path = g_strdup_printf(BASE "meet/participants/%s/calls", id);
    /* an offer the media layer cannot answer is refused, not crashed on */
    r = post_tok(path, "{\"call_type\":\"WEBRTC\",\"sdp\":\"v=0\\r\\n\"}", tok);
    assert_failed(&r, 403);
    g_free(path);
    path = g_strdup_printf(BASE "meet/participants/%s/calls", "no-such-id");
    r = post_tok(path, "{\"sdp\":\"v=0\"}", tok);
    assert_failed(&r, 404);
    g_free(path);
    path = g_strdup_printf(BASE "meet/participants/%s/calls/nocall/ack", id);
    r = post_tok(path, "{}", tok);
    assert_failed(&r, 404);
    g_free(path);
    path = g_strdup_printf(BASE "meet/participants/%s/calls/nocall/new_candidate", id);
    r = post_tok(path, "{\"candidate\":\"\"}", tok);
    assert_failed(&r, 404);
    g_free(path);
    /* participant actions */
    path = g_strdup_printf(BASE "meet/participants/%s/mute", "no-such-id");
    r = post_tok(path, NULL, tok);
    assert_failed(&r, 404);
    g_free(path);
    path = g_strdup_printf(BASE "meet/participants/%s/mute", id);
    r = post_tok(path, "{\"oops\":", tok);
    assert_failed(&r, 400);
    g_free(path);
    /* conference actions */
    static const char *const layouts[] = {"{}", "{\"transforms\":3}",
                                          "{\"transforms\":{\"layout\":9}}", NULL};
    for (size_t i = 0; layouts[i]; i++) {
        r = post_tok(BASE "meet/transform_layout", layouts[i], tok);
        assert_failed(&r, 400);
    }
    r = post_tok(BASE "meet/transform_layout", "{\"transforms\":{\"layout\":\"9:99\"}}", tok);
    g_assert_true(json_is_false(result(&r)));
    reply_clear(&r);
    r = post_tok(BASE "meet/message", "{\"type\":\"text/plain\"}", tok);
    assert_failed(&r, 400);
    char *long_msg = g_strnfill(TSR_CONFERENCE_MESSAGE_MAX + 1, 'a');
    char *body = g_strdup_printf("{\"type\":\"text/plain\",\"payload\":\"%s\"}", long_msg);
    r = post_tok(BASE "meet/message", body, tok);
    assert_failed(&r, 400);
    /* routing */
    r = call("GET", BASE "meet/request_token", NULL, NULL);
    assert_failed(&r, 405);
    r = post_tok(BASE "meet/no_such_thing", NULL, tok);
    assert_failed(&r, 404);
    r = call("GET", "/api/client/v2/elsewhere", NULL, NULL);
    assert_failed(&r, 404);
    g_assert_cmpuint(participants(), ==, 2); /* nothing changed */
    g_free(long_msg);
    g_free(body);
    g_string_free(big, TRUE);
    r = post_tok(BASE "meet/release_token", NULL, tok);
    reply_clear(&r);
    r = post_tok(BASE "meet/release_token", NULL, tok2);
    reply_clear(&r);
    g_assert_cmpuint(participants(), ==, 0);
    g_free(tok), g_free(id), g_free(tok2), g_free(id2);
}

/* --- the event stream ------------------------------------------------------------ */

struct stream {
    SoupMessage *msg;
    GInputStream *in;
    GString *buf;
    size_t pos; /* consumed up to here */
};

static void stream_open(struct stream *s, const char *token)
{
    char *url = g_strdup_printf("http://127.0.0.1:%u" BASE "meet/events?token=%s", st.port, token);
    s->msg = soup_message_new("GET", url);
    soup_message_headers_replace(soup_message_get_request_headers(s->msg), "Origin",
                                 "http://app.example");
    s->in = soup_session_send(session, s->msg, NULL, NULL);
    g_assert_nonnull(s->in);
    g_assert_cmpuint(soup_message_get_status(s->msg), ==, 200);
    SoupMessageHeaders *rh = soup_message_get_response_headers(s->msg);
    g_assert_cmpstr(soup_message_headers_get_one(rh, "Content-Type"), ==, "text/event-stream");
    g_assert_cmpstr(soup_message_headers_get_one(rh, "Access-Control-Allow-Origin"), ==,
                    "http://app.example");
    s->buf = g_string_new(NULL);
    s->pos = 0;
    g_free(url);
}

/* Reads until an event `name` whose data contains `needle` arrives after what was
 * consumed; returns its data line (owned) or NULL when the stream ends first. */
static char *stream_expect(struct stream *s, const char *name, const char *needle)
{
    char *head = g_strdup_printf("event: %s\ndata: ", name);
    for (;;) {
        const char *at = strstr(s->buf->str + s->pos, head);
        while (at) {
            const char *data = at + strlen(head), *end = strstr(data, "\n\n");
            if (!end)
                break;
            if (!needle || g_strstr_len(data, end - data, needle)) {
                s->pos = (size_t)(end - s->buf->str) + 2;
                g_free(head);
                return g_strndup(data, end - data);
            }
            at = strstr(end, head);
        }
        char chunk[4096];
        gssize n = g_input_stream_read(s->in, chunk, sizeof chunk, NULL, NULL);
        if (n <= 0) {
            g_free(head);
            return NULL;
        }
        g_string_append_len(s->buf, chunk, n);
    }
}

static void stream_close(struct stream *s)
{
    g_input_stream_close(s->in, NULL, NULL);
    g_object_unref(s->in);
    g_object_unref(s->msg);
    g_string_free(s->buf, TRUE);
}

static void expect(struct stream *s, const char *name, const char *needle)
{
    char *d = stream_expect(s, name, needle);
    if (!d)
        g_error("no %s event containing %s; got:\n%s", name, needle ? needle : "-", s->buf->str);
    g_free(d);
}

static void test_events(void)
{
    char *ta, *ia, *tb, *ib, *tc, *ic, *path;
    struct reply r;
    struct stream s;
    join("meet", "Ann", NULL, &ta, &ia);
    stream_open(&s, ta);
    expect(&s, "participant_sync_begin", "null");
    expect(&s, "participant_create", "\"display_name\":\"Ann\"");
    expect(&s, "participant_sync_end", "null");
    expect(&s, "layout", "\"view\":\"ac\"");
    join("meet", "Ben", NULL, &tb, &ib);
    expect(&s, "participant_create", "\"display_name\":\"Ben\"");
    /* the mixer's talker order becomes `stage`: Ben first with vad 100, Ann after */
    talker_id = ib;
    on_server(post_talker);
    char *stage = stream_expect(&s, "stage", ib);
    json_t *arr = json_loads(stage, 0, NULL);
    g_assert_cmpuint(json_array_size(arr), ==, 2);
    g_assert_cmpstr(json_string_value(json_object_get(json_array_get(arr, 0), "participant_uuid")),
                    ==, ib);
    g_assert_cmpint(json_integer_value(json_object_get(json_array_get(arr, 0), "vad")), ==, 100);
    g_assert_cmpint(json_integer_value(json_object_get(json_array_get(arr, 1), "stage_index")), ==,
                    1);
    g_assert_cmpint(json_integer_value(json_object_get(json_array_get(arr, 1), "vad")), ==, 0);
    json_decref(arr);
    g_free(stage);
    /* raise hand, chat, host mute, layout */
    path = g_strdup_printf(BASE "meet/participants/%s/buzz", ib);
    r = post_tok(path, NULL, tb);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    g_free(path);
    char *d = stream_expect(&s, "participant_update", "\"display_name\":\"Ben\"");
    json_t *o = json_loads(d, 0, NULL);
    g_assert_cmpint(json_integer_value(json_object_get(o, "buzz_time")), >, 0);
    json_decref(o);
    g_free(d);
    r = post_tok(BASE "meet/message", "{\"type\":\"text/plain\",\"payload\":\"hi Ann\"}", tb);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    expect(&s, "message_received", "\"origin\":\"Ben\"");
    path = g_strdup_printf(BASE "meet/participants/%s/mute", ib);
    r = post_tok(path, NULL, ta);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    g_free(path);
    expect(&s, "participant_update", "\"is_muted\":\"YES\"");
    r = post_tok(BASE "meet/transform_layout", "{\"transforms\":{\"layout\":\"1:7\"}}", ta);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    expect(&s, "layout", "\"view\":\"1:7\"");
    /* kick: Ben's own stream is told why and ends; Ann sees him go */
    struct stream sb;
    stream_open(&sb, tb);
    expect(&sb, "participant_sync_end", "null");
    /* a direct message reaches Ben only, marked direct */
    path = g_strdup_printf(BASE "meet/participants/%s/message", ib);
    r = post_tok(path, "{\"type\":\"text/plain\",\"payload\":\"psst\"}", ta);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    g_free(path);
    char *dm = stream_expect(&sb, "message_received", "psst");
    g_assert_nonnull(strstr(dm, "\"direct\":true"));
    g_assert_nonnull(strstr(dm, "\"origin\":\"Ann\""));
    g_free(dm);
    path = g_strdup_printf(BASE "meet/participants/%s/disconnect", ib);
    r = post_tok(path, NULL, ta);
    g_assert_cmpuint(r.status, ==, 200);
    reply_clear(&r);
    g_free(path);
    expect(&s, "participant_delete", ib);
    g_assert_null(strstr(s.buf->str, "psst")); /* not to the sender */
    expect(&sb, "disconnect", "Disconnected by another participant");
    g_assert_null(stream_expect(&sb, "never", NULL));
    stream_close(&sb);
    r = post_tok(BASE "meet/refresh_token", NULL, tb);
    assert_failed(&r, 403);
    /* token expiry: Cy never refreshes, Ann does */
    join("meet", "Cy", NULL, &tc, &ic);
    expect(&s, "participant_create", "\"display_name\":\"Cy\"");
    advance_s(60);
    r = post_tok(BASE "meet/refresh_token", NULL, ta);
    /* a new token each refresh (as Pexip does); only the current one refreshes */
    char *ta_new = g_strdup(json_string_value(json_object_get(result(&r), "token")));
    g_assert_cmpstr(ta_new, !=, ta);
    reply_clear(&r);
    r = post_tok(BASE "meet/refresh_token", NULL, ta);
    assert_failed(&r, 403);
    reply_clear(&r);
    advance_s(61);
    /* the old token lapsed at its own expiry; the new one lives on */
    r = post_tok(BASE "meet/refresh_token", NULL, ta);
    assert_failed(&r, 403);
    reply_clear(&r);
    g_free(ta);
    ta = ta_new;
    expect(&s, "participant_delete", ic);
    g_assert_cmpuint(participants(), ==, 1);
    /* end for everyone */
    r = post_tok(BASE "meet/disconnect", NULL, ta);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    expect(&s, "disconnect", "Conference terminated by another participant");
    g_assert_null(stream_expect(&s, "never", NULL)); /* the stream ends */
    stream_close(&s);
    g_assert_cmpuint(participants(), ==, 0);
    g_free(ta), g_free(ia), g_free(tb), g_free(ib), g_free(tc), g_free(ic);
}

static void set_load(double v)
{
    g_mutex_lock(&st.lock);
    st.load = v;
    g_mutex_unlock(&st.lock);
}

#define OFFER                                                                                      \
    "{\"call_type\":\"WEBRTC\",\"sdp\":\"v=0\\r\\nm=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\n\"}"

/* participants/{uuid}/calls with an offer; returns the HTTP reply. */
static struct reply call_media(const char *alias, const char *uuid, const char *token)
{
    char *path = g_strdup_printf(BASE "%s/participants/%s/calls", alias, uuid);
    struct reply r = post_tok(path, OFFER, token);
    g_free(path);
    return r;
}

/* A refusal for capacity: 403 {"status":"failed","result":"Out of resource"}. */
static void assert_out_of_resource(struct reply *r)
{
    g_assert_cmpstr(json_string_value(json_object_get(r->json, "result")), ==, "Out of resource");
    assert_failed(r, 403);
}

static uint64_t refusals(const char *metric, const char *labels)
{
    return tsr_counter_value(tsr_metrics_counter(metric, labels, NULL));
}

/* Two participants with media fill the server: a third call and a new
 * request_token get "Out of resource" (the SDK's #pex114), counted; the two keep
 * their calls; a leave frees a place. The measured load refuses the same way. */
static void test_capacity(void)
{
    uint64_t refused = refusals("tessera_join_refusals_total", "reason=\"capacity\"");
    uint64_t failed = refusals("tessera_pexip_errors_total", "status=\"403\"");
    char *tok[4], *id[4], *call_uuid[2];
    static const char *const names[] = {"M1", "M2", "M3", "M4"};
    for (int i = 0; i < 3; i++)
        join("meet", names[i], NULL, &tok[i], &id[i]);
    for (int i = 0; i < 2; i++) {
        struct reply r = call_media("meet", id[i], tok[i]);
        g_assert_cmpuint(r.status, ==, 200);
        call_uuid[i] = g_strdup(json_string_value(json_object_get(result(&r), "call_uuid")));
        g_assert_nonnull(call_uuid[i]);
        reply_clear(&r);
    }
    struct reply r = call_media("meet", id[2], tok[2]);
    assert_out_of_resource(&r);
    r = call("POST", BASE "meet/request_token", "{\"display_name\":\"M4\"}", NULL);
    assert_out_of_resource(&r);
    g_assert_cmpuint(participants(), ==, 3); /* M4 was not listed */
    g_assert_cmpuint(refusals("tessera_join_refusals_total", "reason=\"capacity\""), ==,
                     refused + 2);
    g_assert_cmpuint(refusals("tessera_pexip_errors_total", "status=\"403\""), ==, failed + 2);
    /* the two calls are still there */
    for (int i = 0; i < 2; i++) {
        char *path = g_strdup_printf(BASE "meet/participants/%s/calls/%s/ack", id[i], call_uuid[i]);
        r = post_tok(path, "{}", tok[i]);
        g_assert_true(json_is_true(result(&r)));
        reply_clear(&r);
        g_free(path);
        g_free(call_uuid[i]);
    }
    /* M2 hangs up and leaves: M3's call gets in */
    r = post_tok(BASE "meet/release_token", NULL, tok[1]);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    r = call_media("meet", id[2], tok[2]);
    g_assert_cmpuint(r.status, ==, 200);
    reply_clear(&r);
    r = post_tok(BASE "meet/release_token", NULL, tok[2]);
    reply_clear(&r);
    /* the measured limit: above 0.8 nobody new gets in, under it they do */
    set_load(0.95);
    r = call("POST", BASE "meet/request_token", "{\"display_name\":\"M4\"}", NULL);
    assert_out_of_resource(&r);
    set_load(0.5);
    join("meet", names[3], NULL, &tok[3], &id[3]);
    for (int i = 0; i < 4; i++) {
        if (i != 1 && i != 2) {
            r = post_tok(BASE "meet/release_token", NULL, tok[i]);
            reply_clear(&r);
        }
        g_free(tok[i]);
        g_free(id[i]);
    }
    g_assert_cmpuint(participants(), ==, 0);
}

static void post_stream_stopped(void)
{
    tsr_conference_post_output_state(st.reg, "meet", started_output, TSR_CONFERENCE_OUTPUT_STOPPED,
                                     NULL);
}

/* The streaming participant of id in GET participants, or NULL (a new reference). */
static json_t *roster_entry(const char *token, const char *id)
{
    char *hdr = g_strdup_printf("token: %s", token);
    const char *hs[] = {hdr, NULL};
    struct reply r = call("GET", BASE "meet/participants", NULL, hs);
    g_free(hdr);
    g_assert_cmpuint(r.status, ==, 200);
    json_t *found = NULL, *p;
    size_t i;
    json_array_foreach(result(&r), i, p) if (strcmp(json_string_value(json_object_get(p, "uuid")),
                                                    id) == 0) found = json_incref(p);
    reply_clear(&r);
    return found;
}

/* POST a participant action of `alias` on `uuid` as `token`; returns the reply. */
static struct reply participant_post(const char *alias, const char *uuid, const char *action,
                                     const char *token)
{
    char *path = g_strdup_printf(BASE "%s/participants/%s/%s", alias, uuid, action);
    struct reply r = post_tok(path, NULL, token);
    g_free(path);
    return r;
}

static int64_t event_spotlight(struct stream *s, const char *uuid)
{
    char *d = stream_expect(s, "participant_update", uuid);
    g_assert_nonnull(d);
    json_t *o = json_loads(d, 0, NULL);
    g_assert_true(json_is_integer(json_object_get(o, "spotlight")));
    int64_t v = json_integer_value(json_object_get(o, "spotlight"));
    json_decref(o);
    g_free(d);
    return v;
}

/* spotlighton / spotlightoff (host only, participant_update with spotlight) and
 * transform_layout with the Virtual Auditorium keys beside `layout`. */
static void test_spotlight_and_layouts(void)
{
    char *ta, *ia, *tb, *ib, *th, *ih, *tg, *ig;
    size_t base = participants(); /* what earlier tests left in */
    join("meet", "Ann", NULL, &ta, &ia);
    join("meet", "Ben", NULL, &tb, &ib);
    struct stream s;
    stream_open(&s, ta);
    expect(&s, "participant_sync_end", "null");
    struct reply r = participant_post("meet", ib, "spotlighton", ta);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    g_assert_cmpint(event_spotlight(&s, ib), >, 1600000000);
    json_t *entry = roster_entry(ta, ib);
    g_assert_cmpint(json_integer_value(json_object_get(entry, "spotlight")), >, 1600000000);
    json_decref(entry);
    r = participant_post("meet", ib, "spotlightoff", ta);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    g_assert_cmpint(event_spotlight(&s, ib), ==, 0);
    r = participant_post("meet", "no-such-id", "spotlighton", ta);
    assert_failed(&r, 404);

    /* `layout` wins; the auditorium keys and others beside it are accepted. */
    r = post_tok(BASE "meet/transform_layout",
                 "{\"transforms\":{\"layout\":\"2:21\",\"host_layout\":\"1:33\","
                 "\"guest_layout\":\"weird\",\"streaming\":{\"layout\":\"1:0\"}}}",
                 ta);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    expect(&s, "layout", "\"view\":\"2:21\"");
    /* Without `layout`, host_layout, then guest_layout: one layout serves all. */
    r = post_tok(BASE "meet/transform_layout", "{\"transforms\":{\"host_layout\":\"4:0\"}}", ta);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    expect(&s, "layout", "\"view\":\"4:0\"");
    r = post_tok(BASE "meet/transform_layout", "{\"transforms\":{\"guest_layout\":\"1:7\"}}", ta);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    expect(&s, "layout", "\"view\":\"1:7\"");
    stream_close(&s);

    /* Guests may neither pin nor change the layout. */
    join("board", "Hal", "1234", &th, &ih);
    join("board", "Gia", "5678", &tg, &ig);
    r = participant_post("board", ih, "spotlighton", tg);
    assert_failed(&r, 403);
    r = participant_post("board", ig, "spotlighton", tg);
    assert_failed(&r, 403);
    r = post_tok(BASE "board/transform_layout", "{\"transforms\":{\"layout\":\"1:7\"}}", tg);
    g_assert_true(json_is_false(result(&r)));
    reply_clear(&r);
    r = participant_post("board", ig, "spotlighton", th);
    g_assert_true(json_is_true(result(&r)));
    reply_clear(&r);
    /* A host of one conference cannot pin into another. */
    r = participant_post("board", ig, "spotlightoff", ta);
    g_assert_cmpuint(r.status, >=, 400);
    reply_clear(&r);
    const char *toks[] = {ta, tb, th, tg};
    for (size_t i = 0; i < G_N_ELEMENTS(toks); i++) {
        r = post_tok(i < 2 ? BASE "meet/release_token" : BASE "board/release_token", NULL, toks[i]);
        g_assert_true(json_is_true(result(&r)));
        reply_clear(&r);
    }
    g_assert_cmpuint(participants(), ==, base);
    g_free(ta), g_free(ia), g_free(tb), g_free(ib);
    g_free(th), g_free(ih), g_free(tg), g_free(ig);
}

/* The SDK's dial with an RTMP URI: a stream, listed as a streaming participant; with
 * a SIP URI: dial-out, which needs the SIP front. */
static void test_dial_rtmp(void)
{
    char *tok = NULL, *uuid = NULL, *gtok = NULL, *guuid = NULL;
    join("meet", "Host", NULL, &tok, &uuid);
    join("board", "Guest", "5678", &gtok, &guuid);
    const char *rtmp = "{\"destination\":\"rtmp://127.0.0.1/live/KEY\",\"protocol\":\"rtmp\","
                       "\"role\":\"GUEST\",\"streaming\":\"yes\"}";
    struct reply r = post_tok(BASE "board/dial", rtmp, gtok);
    assert_failed(&r, 403); /* a guest may not */
    /* A SIP destination is dial-out: a guest may not, a URI that is not sip: is
     * refused, and without a SIP front (none here) it is unavailable. */
    const char *sip = "{\"destination\":\"sip:bob@example.com\",\"protocol\":\"sip\"}";
    r = post_tok(BASE "board/dial", sip, gtok);
    assert_failed(&r, 403);
    r = post_tok(BASE "meet/dial", "{\"destination\":\"tel:+15551234\",\"protocol\":\"sip\"}",
                 tok);
    assert_failed(&r, 400);
    r = post_tok(BASE "meet/dial", sip, tok);
    assert_failed(&r, 503);
    r = post_tok(BASE "meet/dial", "{\"destination\":\"h323:bob\",\"protocol\":\"h323\"}",
                 tok);
    assert_failed(&r, 400);
    r = post_tok(BASE "meet/dial", rtmp, tok);
    g_assert_cmpuint(r.status, ==, 200);
    char *id = g_strdup(json_string_value(json_array_get(result(&r), 0)));
    reply_clear(&r);
    g_assert_true(g_str_has_prefix(id, "stream-"));
    g_assert_cmpstr(started_target, ==, "rtmp://127.0.0.1/live/KEY");
    json_t *e = roster_entry(tok, id);
    g_assert_nonnull(e);
    g_assert_true(json_is_true(json_object_get(e, "is_streaming_conference")));
    g_assert_cmpstr(json_string_value(json_object_get(e, "protocol")), ==, "rtmp");
    g_assert_null(strstr(json_string_value(json_object_get(e, "display_name")), "KEY"));
    json_decref(e);
    char *path = g_strdup_printf(BASE "meet/participants/%s/disconnect", id);
    r = post_tok(path, NULL, tok);
    g_assert_cmpuint(r.status, ==, 200);
    reply_clear(&r);
    g_assert_cmpuint(stopped_output, ==, started_output);
    on_server(post_stream_stopped);
    on_server(sweep); /* runs the posted state before the next request */
    g_assert_null(roster_entry(tok, id));
    g_free(path);
    g_free(id);
    g_free(tok), g_free(uuid), g_free(gtok), g_free(guuid);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    st.ctx = g_main_context_new();
    st.loop = g_main_loop_new(st.ctx, FALSE);
    st.now_us = 1000 * G_USEC_PER_SEC;
    g_mutex_init(&st.lock);
    g_cond_init(&st.cond);
    GThread *t = g_thread_new("server", serve, NULL);
    g_mutex_lock(&st.lock);
    while (!st.ready)
        g_cond_wait(&st.cond, &st.lock);
    g_mutex_unlock(&st.lock);
    session = soup_session_new_with_options("max-conns-per-host", 16, NULL); /* streams stay open */
    g_test_add_func("/pexip_api/pin_flow", test_pin_flow);
    g_test_add_func("/pexip_api/cors", test_cors);
    g_test_add_func("/pexip_api/bad_input", test_bad_input);
    g_test_add_func("/pexip_api/events", test_events);
    g_test_add_func("/pexip_api/capacity", test_capacity);
    g_test_add_func("/pexip_api/dial_rtmp", test_dial_rtmp);
    g_test_add_func("/pexip_api/spotlight_and_layouts", test_spotlight_and_layouts);
    int rc = g_test_run();
    g_object_unref(session);
    g_main_loop_quit(st.loop);
    g_thread_join(t);
    g_main_loop_unref(st.loop);
    g_main_context_unref(st.ctx);
    return rc;
}
