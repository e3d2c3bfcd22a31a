/* WebSocket signalling sessions at /ws/{alias}: one socket is one participant,
 * BOUND to its front session: alive while the socket is open, leaving when it
 * closes, and the socket told (bye) when the core removes it. Messages are parsed
 * by ws_signalling_message.c; joins, candidates and leaves go through the
 * conference core, like every other front. Home thread: the API loop. */
#include <tessera/ws_signalling.h>
#include <tessera/err.h>
#include <tessera/front.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <glib.h>
#include <string.h>

/* Close codes (RFC 6455 §7.4.1). */
#define CLOSE_NORMAL 1000
#define CLOSE_GOING_AWAY 1001
#define CLOSE_POLICY 1008
#define CLOSE_TOO_BIG 1009

#define DEFAULT_DISPLAY_NAME "WebSocket guest"

struct tsr_ws_signalling {
    struct tsr_http *http;
    struct tsr_conference_registry *reg;
    GPtrArray *sessions; /* struct ws_session*, owned */
    struct tsr_gauge *open_gauge;
};

/* Errors are sent on the socket ({"error", "message"}), counted by code. */
const struct tsr_front_desc tsr_ws_front_desc = {
    .name = "ws",
    .prefix = TSR_WS_SIGNALLING_PATH,
    .path_base = TSR_WS_SIGNALLING_PATH "/",
    .max_body_bytes = TSR_WS_SIGNALLING_MAX_MESSAGE_BYTES,
    .error_metric = "tessera_ws_signalling_errors_total",
    .error_metric_help = "WebSocket signalling errors sent to clients, by code.",
};

/* A trickled candidate that came before the offer. */
struct early_candidate {
    char *line;
    char *mid;
    int mline_index;
};

/* One socket. Home thread: the API loop. Owned by ws->sessions until libsoup
 * reports the socket closed (or the endpoint is freed). Its participant is the
 * front session's: NULL before the join and once the core removed it (kick, media
 * failure, end), which the session reports. */
struct ws_session {
    struct tsr_ws_signalling *ws;
    SoupWebsocketConnection *conn; /* a reference */
    char *alias;                   /* NULL: the path is no alias */
    char *display_name;
    char *pin;
    char *client_address; /* from the upgrade request (PIN attempts count per address) */
    struct tsr_front_session *session; /* ref held; NULL until the offer */
    GSource *timer;                    /* join timeout before the offer */
    GPtrArray *early; /* struct early_candidate*, before the offer and while joining */
    struct tsr_conference_call *join_call; /* the join, while it is on a net loop */
    bool answer_as_object;                 /* answer in the offer's form */
    GPtrArray *candidate_calls;            /* struct ws_candidate*, on a net loop */
    unsigned n_errors;
    bool closing;
    /* libsoup may report the close from inside a call we make (a failed write):
     * while we are in a handler of ours, the free waits until it returns. */
    unsigned busy;
    bool closed;
    gulong h_message;
    gulong h_closed;
};

/* A trickled candidate on its way through the net loop (its error comes back). */
struct ws_candidate {
    struct ws_session *s;
    struct tsr_conference_call *call;
};

static void enter(struct ws_session *s);
static void leave_handler(struct ws_session *s);

static void early_candidate_free(gpointer data)
{
    struct early_candidate *c = data;
    g_free(c->line);
    g_free(c->mid);
    g_free(c);
}

static void send_text(struct ws_session *s, char *text)
{
    if (soup_websocket_connection_get_state(s->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_send_text(s->conn, text);
    g_free(text);
}

static void stop_timer(struct ws_session *s)
{
    if (s->timer) {
        g_source_destroy(s->timer);
        g_source_unref(s->timer);
        s->timer = NULL;
    }
}

static struct tsr_participant *participant(const struct ws_session *s)
{
    return s->session ? tsr_front_session_participant(s->session) : NULL;
}

/* The participant leaves (if joined); safe to call twice. The session forgets its
 * callback first, so our own leave does not come back as a removal. */
static void leave(struct ws_session *s, enum tsr_leave_reason reason)
{
    stop_timer(s);
    tsr_conference_call_cancel(&s->join_call); /* a join still on a net loop: undone */
    while (s->candidate_calls->len) {
        struct ws_candidate *c = s->candidate_calls->pdata[0];
        tsr_conference_call_cancel(&c->call);
        g_ptr_array_remove_index_fast(s->candidate_calls, 0);
        g_free(c);
    }
    if (!s->session)
        return;
    tsr_front_session_on_left(s->session, NULL, NULL);
    tsr_front_session_leave(s->session, reason);
    s->session = tsr_front_session_unref(s->session);
}

/* Leave and close; later messages are ignored while libsoup finishes the close. */
static void close_session(struct ws_session *s, unsigned short code, const char *reason,
                          enum tsr_leave_reason why)
{
    if (s->closing)
        return;
    s->closing = true;
    leave(s, why);
    if (soup_websocket_connection_get_state(s->conn) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close(s->conn, code, reason);
}

/* Sends {"error"} and counts it. Fatal errors close the socket; so does the
 * TSR_WS_SIGNALLING_MAX_ERRORS-th protocol error, so a broken client cannot keep
 * the server busy answering it. */
static void send_error(struct ws_session *s, const char *code, const char *text, bool fatal,
                       unsigned short close_code)
{
    struct tsr_front_error e = {.code = code, .text = text};
    tsr_front_count_error(&tsr_ws_front_desc, s->alias, &e);
    send_text(s, tsr_ws_signalling_format_error(code, text));
    if (!fatal && ++s->n_errors >= TSR_WS_SIGNALLING_MAX_ERRORS) {
        e = (struct tsr_front_error){.code = "too_many_errors",
                                     .text = "too many bad messages; closing"};
        tsr_front_count_error(&tsr_ws_front_desc, s->alias, &e);
        send_text(s, tsr_ws_signalling_format_error(e.code, e.text));
        fatal = true;
        close_code = CLOSE_POLICY;
    }
    if (fatal)
        close_session(s, close_code, code, TSR_LEAVE_REQUESTED);
}

/* An error the front layer worded (a refusal, the alias rule): fatal. */
static void send_front_error(struct ws_session *s, const struct tsr_front_error *e)
{
    send_error(s, e->code, e->text, true, CLOSE_POLICY);
}

static gboolean on_join_timeout(gpointer user)
{
    struct ws_session *s = user;
    g_source_unref(s->timer);
    s->timer = NULL;
    enter(s);
    send_error(s, "timeout",
               "no offer within " G_STRINGIFY(TSR_WS_SIGNALLING_JOIN_TIMEOUT_S) " s of connecting",
               true, CLOSE_POLICY);
    leave_handler(s);
    return G_SOURCE_REMOVE;
}

static void start_timer(struct ws_session *s, unsigned seconds, GSourceFunc fn)
{
    stop_timer(s);
    s->timer = g_timeout_source_new_seconds(seconds);
    g_source_set_callback(s->timer, fn, s, NULL);
    g_source_attach(s->timer, g_main_context_get_thread_default());
}

/* The core removed our participant (kick, media failure, end, shutdown). */
static void on_left(struct tsr_front_session *session, enum tsr_leave_reason reason, void *user)
{
    struct ws_session *s = user;
    (void)session;
    json_t *bye = json_pack("{s:b, s:s}", "bye", 1, "reason", tsr_leave_reason_name(reason));
    char *text = json_dumps(bye, JSON_COMPACT);
    json_decref(bye);
    enter(s);
    send_text(s, g_strdup(text ? text : "{\"bye\":true}"));
    free(text);
    close_session(s, CLOSE_NORMAL, "removed", TSR_LEAVE_REQUESTED);
    leave_handler(s);
}

static void candidate_refused(struct ws_session *s, int rc)
{
    char *text = g_strdup_printf("the candidate was not accepted: %s", tsr_strerror(rc));
    send_error(s, "bad_candidate", text, false, 0);
    g_free(text);
}

static void candidate_done(void *user, struct tsr_conference_result *res)
{
    struct ws_candidate *c = user;
    struct ws_session *s = c->s;
    g_ptr_array_remove_fast(s->candidate_calls, c);
    g_free(c);
    if (res->rc == 0)
        return;
    enter(s);
    candidate_refused(s, res->rc);
    leave_handler(s);
}

static void apply_candidate(struct ws_session *s, const char *line, const char *mid, int index)
{
    struct tsr_participant *p = participant(s);
    if (!p) {
        candidate_refused(s, TSR_ERR_STATE);
        return;
    }
    struct ws_candidate *c = g_new0(struct ws_candidate, 1);
    c->s = s;
    g_ptr_array_add(s->candidate_calls, c);
    tsr_participant_add_candidate(p, line, mid, index, candidate_done, c, &c->call);
}

static void on_candidate(struct ws_session *s, struct tsr_ws_signalling_message *m)
{
    if (participant(s)) {
        apply_candidate(s, m->candidate, m->mid, m->mline_index);
        return;
    }
    if (s->early->len >= TSR_WS_SIGNALLING_MAX_EARLY_CANDIDATES) {
        send_error(s, "too_many_candidates",
                   "at most " G_STRINGIFY(
                       TSR_WS_SIGNALLING_MAX_EARLY_CANDIDATES) " candidates before the offer",
                   false, 0);
        return;
    }
    struct early_candidate *c = g_new0(struct early_candidate, 1);
    c->line = g_steal_pointer(&m->candidate);
    c->mid = g_steal_pointer(&m->mid);
    c->mline_index = m->mline_index;
    g_ptr_array_add(s->early, c);
}

/* The join is back from the net loop: the answer, then the early candidates. */
static void join_done(void *user, struct tsr_conference_result *res)
{
    struct ws_session *s = user;
    s->join_call = NULL;
    enter(s);
    if (res->rc != 0) {
        s->session = tsr_front_session_unref(s->session); /* the core let go of it too */
        struct tsr_front_error e;
        tsr_front_refusal_error(&tsr_ws_front_desc, res->refusal, res->err_text, &e);
        send_front_error(s, &e);
        leave_handler(s);
        return;
    }
    send_text(s, tsr_ws_signalling_format_answer(res->sdp, s->answer_as_object));
    TSR_LOG(TSR_LOG_INFO, "ws", "[%s/%s] joined over WebSocket", s->alias,
            tsr_participant_id(res->participant));
    for (guint i = 0; i < s->early->len && participant(s); i++) {
        struct early_candidate *c = s->early->pdata[i];
        apply_candidate(s, c->line, c->mid, c->mline_index);
    }
    g_ptr_array_set_size(s->early, 0);
    leave_handler(s);
}

static void on_offer(struct ws_session *s, struct tsr_ws_signalling_message *m)
{
    if (participant(s) || s->join_call) {
        send_error(s, "renegotiation_unsupported", "already joined; reconnect to send a new offer",
                   false, 0);
        return;
    }
    struct tsr_front_session *session =
        tsr_front_session_new(&tsr_ws_front_desc, TSR_PARTICIPANT_BOUND);
    struct tsr_conference_join_request req = {
        .alias = s->alias,
        .display_name = s->display_name ? s->display_name : DEFAULT_DISPLAY_NAME,
        .pin = s->pin,
        .client_address = s->client_address,
        .offer_sdp = m->sdp,
        .holder = tsr_front_session_holder(session),
    };
    stop_timer(s); /* the offer came; the join's own time is the net loop's */
    s->answer_as_object = m->sdp_as_object;
    s->session = session; /* our reference; the core holds its own while it joins */
    tsr_front_session_on_left(session, on_left, s);
    tsr_conference_join(s->ws->reg, &req, join_done, s, &s->join_call);
}

static void on_join(struct ws_session *s, struct tsr_ws_signalling_message *m)
{
    if (participant(s) || s->join_call) {
        send_error(s, "already_joined", "\"join\" must come before the offer", false, 0);
        return;
    }
    if (m->display_name) {
        g_free(s->display_name);
        s->display_name = g_steal_pointer(&m->display_name);
    }
    if (m->pin) {
        g_free(s->pin);
        s->pin = g_steal_pointer(&m->pin);
    }
}

static void dispatch(struct ws_session *s, struct tsr_ws_signalling_message *m)
{
    switch (m->type) {
    case TSR_WS_SIGNALLING_MESSAGE_JOIN:
        on_join(s, m);
        break;
    case TSR_WS_SIGNALLING_MESSAGE_SDP:
        on_offer(s, m);
        break;
    case TSR_WS_SIGNALLING_MESSAGE_CANDIDATE:
        on_candidate(s, m);
        break;
    case TSR_WS_SIGNALLING_MESSAGE_BYE:
        close_session(s, CLOSE_NORMAL, "bye", TSR_LEAVE_REQUESTED);
        break;
    }
}

static void on_message(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer user)
{
    (void)conn;
    struct ws_session *s = user;
    if (s->closing)
        return;
    enter(s);
    gsize len = 0;
    const uint8_t *data = g_bytes_get_data(message, &len);
    struct tsr_ws_signalling_message m;
    const char *code = NULL;
    char *text = NULL;
    int rc = type == SOUP_WEBSOCKET_DATA_TEXT ? tsr_ws_signalling_parse(data, len, &m, &code, &text)
                                              : TSR_ERR_INVALID;
    if (type != SOUP_WEBSOCKET_DATA_TEXT) {
        send_error(s, "bad_message", "send JSON in text messages", false, 0);
    } else if (rc != 0) {
        send_error(s, code, text, rc == TSR_ERR_FULL, CLOSE_TOO_BIG);
        g_free(text);
    } else {
        dispatch(s, &m);
        tsr_ws_signalling_message_fini(&m);
    }
    leave_handler(s);
}

static void session_free(gpointer data)
{
    struct ws_session *s = data;
    leave(s, TSR_LEAVE_REQUESTED);
    g_signal_handler_disconnect(s->conn, s->h_message);
    g_signal_handler_disconnect(s->conn, s->h_closed);
    g_object_unref(s->conn);
    g_ptr_array_free(s->early, TRUE);
    g_ptr_array_free(s->candidate_calls, TRUE); /* emptied by leave */
    g_free(s->alias);
    g_free(s->display_name);
    g_free(s->pin);
    g_free(s->client_address);
    g_free(s);
}

/* libsoup finished the close (either side): the participant leaves if it has not. */
static void on_closed(SoupWebsocketConnection *conn, gpointer user)
{
    (void)conn;
    struct ws_session *s = user;
    struct tsr_ws_signalling *ws = s->ws;
    s->closed = true;
    if (s->busy)
        return;
    g_ptr_array_remove_fast(ws->sessions, s); /* frees s */
    tsr_gauge_set(ws->open_gauge, (double)ws->sessions->len);
}

static void enter(struct ws_session *s)
{
    s->busy++;
}

/* Leaves a handler; s may be freed on return. */
static void leave_handler(struct ws_session *s)
{
    if (--s->busy == 0 && s->closed)
        on_closed(s->conn, s);
}

/* The alias of /ws/ALIAS, percent-decoded, or NULL when the path has none. */
static char *path_alias(const char *path)
{
    unsigned n = 0;
    char **seg = tsr_front_split_path(path, tsr_ws_front_desc.path_base, false, &n);
    char *alias = seg && n == 1 ? g_strdup(seg[0]) : NULL;
    g_strfreev(seg);
    return alias;
}

/* ?name=&pin= from the URL (both optional). */
static void read_query(struct ws_session *s, SoupServerMessage *msg)
{
    const char *q = g_uri_get_query(soup_server_message_get_uri(msg));
    GHashTable *params = q ? g_uri_parse_params(q, -1, "&", G_URI_PARAMS_WWW_FORM, NULL) : NULL;
    if (!params)
        return;
    const char *name = g_hash_table_lookup(params, "name");
    const char *pin = g_hash_table_lookup(params, "pin");
    if (name && *name)
        s->display_name = g_strdup(name); /* the core checks length and UTF-8 */
    if (pin && *pin)
        s->pin = g_strdup(pin);
    g_hash_table_unref(params);
}

static void on_socket(SoupServer *server, SoupServerMessage *msg, const char *path,
                      SoupWebsocketConnection *conn, gpointer user)
{
    (void)server;
    struct tsr_ws_signalling *ws = user;
    struct ws_session *s = g_new0(struct ws_session, 1);
    s->ws = ws;
    s->conn = g_object_ref(conn);
    s->early = g_ptr_array_new_with_free_func(early_candidate_free);
    s->candidate_calls = g_ptr_array_new();
    s->alias = path_alias(path);
    s->client_address = tsr_http_client_address(msg);
    read_query(s, msg);
    /* A frame twice our limit still gets a JSON "too_large"; beyond 4× libsoup
     * drops the connection itself (1009) without buffering more. */
    soup_websocket_connection_set_max_incoming_payload_size(
        conn, 4 * (guint64)TSR_WS_SIGNALLING_MAX_MESSAGE_BYTES);
    soup_websocket_connection_set_keepalive_interval(conn, TSR_WS_SIGNALLING_KEEPALIVE_S);
    s->h_message = g_signal_connect(conn, "message", G_CALLBACK(on_message), s);
    s->h_closed = g_signal_connect(conn, "closed", G_CALLBACK(on_closed), s);
    g_ptr_array_add(ws->sessions, s);
    tsr_gauge_set(ws->open_gauge, (double)ws->sessions->len);
    enter(s);
    struct tsr_front_error e;
    if (!tsr_conference_alias_valid(s->alias)) {
        tsr_front_alias_error(&e);
        send_front_error(s, &e);
    } else if (!tsr_conference_registry_knows(ws->reg, s->alias) &&
               !tsr_conference_registry_allow_adhoc(ws->reg)) {
        char *text = g_strdup_printf("there is no conference '%s'", s->alias);
        tsr_front_refusal_error(&tsr_ws_front_desc, TSR_CONFERENCE_REFUSAL_NO_SUCH_CONFERENCE, text,
                                &e);
        send_front_error(s, &e);
        g_free(text);
    } else {
        start_timer(s, TSR_WS_SIGNALLING_JOIN_TIMEOUT_S, on_join_timeout);
    }
    leave_handler(s);
}

/* Plain HTTP requests to /ws/… (no Upgrade) get a JSON 426 instead of libsoup's
 * bare 400; upgrades fall through to on_socket. The HTTP layer marks every
 * response "Connection: close"; on a 101 that would read "close, Upgrade", so it
 * is dropped here and libsoup's handshake adds the plain "Upgrade". */
static void on_http(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                    gpointer user)
{
    (void)server, (void)query, (void)user;
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    if (!soup_message_headers_header_contains(h, "Upgrade", "websocket")) {
        tsr_http_reply_error(msg, 426, "websocket_required",
                             "%s is a WebSocket endpoint: connect with new WebSocket(url)", path);
        return;
    }
    soup_message_headers_remove(soup_server_message_get_response_headers(msg), "Connection");
}

int tsr_ws_signalling_new(struct tsr_ws_signalling **out, struct tsr_http *http,
                          struct tsr_conference_registry *reg)
{
    struct tsr_ws_signalling *ws = g_new0(struct tsr_ws_signalling, 1);
    ws->http = http;
    ws->reg = reg;
    ws->sessions = g_ptr_array_new_with_free_func(session_free);
    ws->open_gauge = tsr_metrics_gauge("tessera_ws_signalling_sockets", NULL,
                                       "Open WebSocket signalling sockets.");
    SoupServer *server = tsr_http_soup_server(http);
    soup_server_add_handler(server, TSR_WS_SIGNALLING_PATH, on_http, ws, NULL);
    soup_server_add_websocket_handler(server, TSR_WS_SIGNALLING_PATH, NULL, NULL, on_socket, ws,
                                      NULL);
    TSR_LOG(TSR_LOG_INFO, "api", "WebSocket signalling at " TSR_WS_SIGNALLING_PATH "/ALIAS");
    *out = ws;
    return 0;
}

void tsr_ws_signalling_free(struct tsr_ws_signalling **p)
{
    if (!p || !*p)
        return;
    struct tsr_ws_signalling *ws = *p;
    soup_server_remove_handler(tsr_http_soup_server(ws->http), TSR_WS_SIGNALLING_PATH);
    for (guint i = 0; i < ws->sessions->len; i++) {
        struct ws_session *s = ws->sessions->pdata[i];
        enter(s); /* a close reported now must not free s under this loop */
        close_session(s, CLOSE_GOING_AWAY, "shutdown", TSR_LEAVE_SHUTDOWN);
    }
    g_ptr_array_free(ws->sessions, TRUE);
    tsr_gauge_set(ws->open_gauge, 0);
    g_free(ws);
    *p = NULL;
}

unsigned tsr_ws_signalling_n_sessions(const struct tsr_ws_signalling *ws)
{
    return ws->sessions->len;
}

static int make(struct tsr_ws_signalling **out, const struct tsr_front_env *env)
{
    return tsr_ws_signalling_new(out, env->http, env->reg);
}

TSR_FRONT_OPS_DEFINE(tsr_ws_front, &tsr_ws_front_desc, struct tsr_ws_signalling, make,
                     tsr_ws_signalling_free);
