/* WebSocket signalling sessions at /ws/{alias}: one socket is one participant.
 * Messages are parsed by ws_signalling_message.c; joins, candidates and leaves go
 * through the conference core, like every other front. Home thread: the API loop. */
#include <tessera/ws_signalling.h>
#include <tessera/err.h>
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

/* A trickled candidate that came before the offer. */
struct early_candidate {
    char *line;
    char *mid;
    int mline_index;
};

/* One socket. Home thread: the API loop. Owned by ws->sessions until libsoup
 * reports the socket closed (or the endpoint is freed). The participant is found
 * again by id each time, never kept as a pointer: the core may remove it (kick,
 * token lapse, media failure) between two messages. */
struct ws_session {
    struct tsr_ws_signalling *ws;
    SoupWebsocketConnection *conn; /* a reference */
    char *alias;
    char *display_name;
    char *pin;
    char *participant_id; /* NULL until joined and after leaving */
    uint64_t sub_id;      /* conference events, while joined */
    GSource *timer;       /* join timeout before the offer, token refresh after */
    GPtrArray *early;     /* struct early_candidate*, before the offer and while joining */
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

static void count_error(const char *code)
{
    char labels[96];
    g_snprintf(labels, sizeof labels, "code=\"%s\"", code);
    tsr_counter_inc(tsr_metrics_counter("tessera_ws_signalling_errors_total", labels,
                                        "WebSocket signalling errors sent to clients, by code."));
}

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

/* The participant leaves (if joined); safe to call twice. Clearing the id first
 * makes our own participant_left event unrecognisable to on_event. */
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
    if (s->sub_id) {
        tsr_conference_registry_unsubscribe(s->ws->reg, s->sub_id);
        s->sub_id = 0;
    }
    char *id = g_steal_pointer(&s->participant_id);
    struct tsr_participant *p =
        id ? tsr_conference_registry_find_participant(s->ws->reg, id) : NULL;
    if (p)
        tsr_participant_leave(p, reason);
    g_free(id);
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
    count_error(code);
    TSR_LOG(TSR_LOG_DEBUG, "ws", "[%s] error %s: %s", s->alias, code, text);
    send_text(s, tsr_ws_signalling_format_error(code, text));
    if (!fatal && ++s->n_errors >= TSR_WS_SIGNALLING_MAX_ERRORS) {
        count_error("too_many_errors");
        send_text(
            s, tsr_ws_signalling_format_error("too_many_errors", "too many bad messages; closing"));
        fatal = true;
        close_code = CLOSE_POLICY;
    }
    if (fatal)
        close_session(s, close_code, code, TSR_LEAVE_REQUESTED);
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

/* While the socket is open the client is alive: keep its token from lapsing. */
static gboolean on_refresh(gpointer user)
{
    struct ws_session *s = user;
    struct tsr_participant *p =
        s->participant_id ? tsr_conference_registry_find_participant(s->ws->reg, s->participant_id)
                          : NULL;
    if (p)
        tsr_participant_refresh(p);
    return G_SOURCE_CONTINUE;
}

static void start_timer(struct ws_session *s, unsigned seconds, GSourceFunc fn)
{
    stop_timer(s);
    s->timer = g_timeout_source_new_seconds(seconds);
    g_source_set_callback(s->timer, fn, s, NULL);
    g_source_attach(s->timer, g_main_context_get_thread_default());
}

/* The core removed our participant (kick, token lapse, media failure, end). */
static void on_event(const struct tsr_conference_event *ev, void *user)
{
    struct ws_session *s = user;
    if (ev->type != TSR_CONFERENCE_EVENT_PARTICIPANT_LEFT || !s->participant_id ||
        !ev->participant_id || strcmp(ev->participant_id, s->participant_id) != 0)
        return;
    g_clear_pointer(&s->participant_id, g_free);
    json_t *why = json_object_get(ev->data, "reason");
    json_t *bye = json_pack("{s:b, s:s}", "bye", 1, "reason",
                            json_is_string(why) ? json_string_value(why) : "removed");
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
    struct tsr_participant *p =
        tsr_conference_registry_find_participant(s->ws->reg, s->participant_id);
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
    if (s->participant_id) {
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
        send_error(s, tsr_conference_refusal_code(res->refusal), res->err_text, true, CLOSE_POLICY);
        leave_handler(s);
        return;
    }
    struct tsr_participant *p = res->participant;
    s->participant_id = g_strdup(tsr_participant_id(p));
    int64_t ttl_s = tsr_participant_refresh(p);
    tsr_conference_registry_subscribe(s->ws->reg, s->alias, on_event, s, &s->sub_id);
    start_timer(s, (unsigned)MAX(1, ttl_s / 3), on_refresh);
    send_text(s, tsr_ws_signalling_format_answer(res->sdp, s->answer_as_object));
    TSR_LOG(TSR_LOG_INFO, "ws", "[%s/%s] joined over WebSocket", s->alias, s->participant_id);
    for (guint i = 0; i < s->early->len && s->participant_id; i++) {
        struct early_candidate *c = s->early->pdata[i];
        apply_candidate(s, c->line, c->mid, c->mline_index);
    }
    g_ptr_array_set_size(s->early, 0);
    leave_handler(s);
}

static void on_offer(struct ws_session *s, struct tsr_ws_signalling_message *m)
{
    if (s->participant_id || s->join_call) {
        send_error(s, "renegotiation_unsupported", "already joined; reconnect to send a new offer",
                   false, 0);
        return;
    }
    struct tsr_conference_join_request req = {
        .alias = s->alias,
        .display_name = s->display_name ? s->display_name : DEFAULT_DISPLAY_NAME,
        .pin = s->pin,
        .offer_sdp = m->sdp,
    };
    stop_timer(s); /* the offer came; the join's own time is the net loop's */
    s->answer_as_object = m->sdp_as_object;
    tsr_conference_join(s->ws->reg, &req, join_done, s, &s->join_call);
}

static void on_join(struct ws_session *s, struct tsr_ws_signalling_message *m)
{
    if (s->participant_id || s->join_call) {
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

static bool alias_ok(const char *alias)
{
    size_t n = strlen(alias);
    if (n == 0 || n > TSR_CONFERENCE_ALIAS_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = alias[i];
        if (!g_ascii_isalnum(ch) && ch != '.' && ch != '_' && ch != '-')
            return false;
    }
    return true;
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
    const char *rest = path + strlen(TSR_WS_SIGNALLING_PATH);
    s->alias = g_strdup(*rest == '/' ? rest + 1 : "");
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
    if (!alias_ok(s->alias)) {
        send_error(s, "bad_request", "connect to /ws/ALIAS; an alias is 1-64 of A-Z a-z 0-9 . _ -",
                   true, CLOSE_POLICY);
    } else if (!tsr_conference_registry_knows(ws->reg, s->alias) &&
               !tsr_conference_registry_allow_adhoc(ws->reg)) {
        char *text = g_strdup_printf("there is no conference '%s'", s->alias);
        send_error(s, "no_such_conference", text, true, CLOSE_POLICY);
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
