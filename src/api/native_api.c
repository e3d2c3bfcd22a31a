/* Native REST API under /api/v1: join, trickle, refresh, leave, host actions,
 * conference state, event streams. Routes and errors: README.md "Native API".
 * Home thread: the API loop. */
#include "native_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>

#include <string.h>

#define PREFIX "/api/v1"

/* One parsed request: the route's path segments and the JSON body (POST). */
struct req {
    struct tsr_native_api *api;
    SoupServerMessage *msg;
    GHashTable *query;
    const char *method;
    gchar **seg; /* after /api/v1/ */
    guint n_seg;
    json_t *body; /* owned; NULL unless read */
};

/* --- helpers ---------------------------------------------------------------- */

static bool is_method(const struct req *r, const char *m)
{
    return strcmp(r->method, m) == 0;
}

static void reply_method(struct req *r, const char *allowed)
{
    soup_message_headers_replace(soup_server_message_get_response_headers(r->msg), "Allow",
                                 allowed);
    tsr_http_reply_error(r->msg, 405, "method_not_allowed", "%s is not allowed here; use %s",
                         r->method, allowed);
}

/* Reads the JSON body; on failure the error reply is sent. Returns true when r->body is set. */
static bool read_body(struct req *r)
{
    char *err = NULL;
    int rc = tsr_http_read_json(r->msg, TSR_NATIVE_API_MAX_BODY_BYTES, &r->body, &err);
    if (rc == TSR_ERR_FULL)
        tsr_http_reply_error(r->msg, 413, "body_too_large", "%s", err);
    else if (rc != 0)
        tsr_http_reply_error(r->msg, 400, "bad_request", "%s", err);
    g_free(err);
    return rc == 0;
}

/* A string member, or NULL (absent or JSON null). *bad set when present with another type. */
static const char *body_string(const struct req *r, const char *key, bool *bad)
{
    json_t *v = json_object_get(r->body, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

/* The bool member `key`; replies 400 and returns false when missing or not a bool. */
static bool body_bool(struct req *r, const char *key, bool *out)
{
    json_t *v = json_object_get(r->body, key);
    if (!json_is_boolean(v)) {
        tsr_http_reply_error(r->msg, 400, "bad_request", "body needs \"%s\": true or false", key);
        return false;
    }
    *out = json_is_true(v);
    return true;
}

/* Bearer token from Authorization, the Pexip-style "token" header, or (for
 * EventSource, which cannot set headers) the token query parameter. */
static const char *request_token(const struct req *r, bool allow_query)
{
    SoupMessageHeaders *h = soup_server_message_get_request_headers(r->msg);
    const char *auth = soup_message_headers_get_one(h, "Authorization");
    if (auth && g_ascii_strncasecmp(auth, "Bearer ", 7) == 0)
        return auth + 7;
    const char *tok = soup_message_headers_get_one(h, "token");
    if (tok)
        return tok;
    return allow_query && r->query ? g_hash_table_lookup(r->query, "token") : NULL;
}

/* The participant the token belongs to; replies 401 and returns NULL otherwise. */
static struct tsr_participant *actor(struct req *r, bool allow_query)
{
    const char *tok = request_token(r, allow_query);
    struct tsr_participant *p = NULL;
    if (!tok || !*tok) {
        tsr_http_reply_error(r->msg, 401, "token_required",
                             "send the participant token as 'Authorization: Bearer TOKEN'");
        return NULL;
    }
    if (tsr_conference_registry_authenticate_token(r->api->reg, tok, &p) != 0) {
        tsr_http_reply_error(r->msg, 401, "bad_token", "the token is unknown or has lapsed");
        return NULL;
    }
    return p;
}

/* The actor must be participant `id` itself (leave, refresh, candidates). */
static struct tsr_participant *self(struct req *r, const char *id)
{
    struct tsr_participant *p = actor(r, false);
    if (p && strcmp(tsr_participant_id(p), id) != 0) {
        tsr_http_reply_error(r->msg, 403, "forbidden", "the token belongs to another participant");
        return NULL;
    }
    return p;
}

/* A participant of the actor's conference; replies 404 otherwise. */
static struct tsr_participant *target(struct req *r, struct tsr_participant *a, const char *id)
{
    struct tsr_participant *t = tsr_conference_registry_find_participant(r->api->reg, id);
    if (!t || tsr_participant_conference(t) != tsr_participant_conference(a)) {
        tsr_http_reply_error(r->msg, 404, "no_such_participant",
                             "no participant %s in your conference", id);
        return NULL;
    }
    return t;
}

static void reply_host_rc(struct req *r, int rc, json_t *ok_body)
{
    if (rc == 0) {
        tsr_http_reply_json(r->msg, 200, ok_body);
        return;
    }
    json_decref(ok_body);
    if (rc == TSR_ERR_AUTH)
        tsr_http_reply_error(r->msg, 403, "forbidden", "only a host may do that");
    else
        tsr_http_reply_error(r->msg, 400, "bad_request", "%s", tsr_strerror(rc));
}

/* --- conferences ------------------------------------------------------------- */

static unsigned refusal_status(enum tsr_conference_refusal why)
{
    switch (why) {
    case TSR_CONFERENCE_REFUSAL_NO_SUCH_CONFERENCE:
        return 404;
    case TSR_CONFERENCE_REFUSAL_PIN_REQUIRED:
        return 401;
    case TSR_CONFERENCE_REFUSAL_WRONG_PIN:
        return 403;
    case TSR_CONFERENCE_REFUSAL_FULL:
    case TSR_CONFERENCE_REFUSAL_LOCKED:
        return 409;
    case TSR_CONFERENCE_REFUSAL_MEDIA_UNAVAILABLE:
    case TSR_CONFERENCE_REFUSAL_CAPACITY:
        return 503;
    case TSR_CONFERENCE_REFUSAL_MEDIA_FAILED:
        return 500;
    case TSR_CONFERENCE_REFUSAL_TOO_MANY_ATTEMPTS:
        return 429;
    default:
        return 400;
    }
}

/* Replies 413/400 for a parser's failure code. */
static void reply_parse_error(struct req *r, int rc, char *err)
{
    if (rc == TSR_ERR_FULL)
        tsr_http_reply_error(r->msg, 413, "body_too_large", "%s", err);
    else
        tsr_http_reply_error(r->msg, 400, "bad_request", "%s", err);
    g_free(err);
}

static const uint8_t *raw_body(struct req *r, size_t *len)
{
    SoupMessageBody *b = soup_server_message_get_request_body(r->msg);
    *len = (size_t)b->length;
    return (const uint8_t *)(b->data ? b->data : "");
}

static void handle_join(struct req *r, const char *alias)
{
    struct tsr_native_join_body jb = {0};
    char *perr = NULL;
    size_t len;
    const uint8_t *data = raw_body(r, &len);
    int prc = tsr_native_api_parse_join(data, len, &jb, &perr);
    if (prc != 0) {
        reply_parse_error(r, prc, perr);
        return;
    }
    struct tsr_conference_join_request jr = {
        .alias = alias, .display_name = jb.display_name, .pin = jb.pin, .offer_sdp = jb.sdp};
    struct tsr_participant *p = NULL;
    char *answer = NULL, *err = NULL;
    enum tsr_conference_refusal why = TSR_CONFERENCE_REFUSAL_NONE;
    int rc = tsr_conference_join(r->api->reg, &jr, &p, &answer, &why, &err);
    tsr_native_join_body_fini(&jb);
    if (rc != 0) {
        if (why == TSR_CONFERENCE_REFUSAL_CAPACITY)
            tsr_http_set_retry_after(r->msg, TSR_CONFERENCE_CAPACITY_RETRY_AFTER_S);
        tsr_http_reply_error(r->msg, refusal_status(why), tsr_conference_refusal_code(why), "%s",
                             err);
        g_free(err);
        return;
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "participant_id", tsr_participant_id(p),
                          "token", tsr_participant_token(p), "role",
                          tsr_participant_role(p) == TSR_ROLE_HOST ? "host" : "guest", "expires_in",
                          (json_int_t)tsr_participant_expires_in_s(p), "participant",
                          tsr_participant_to_json(p), "conference",
                          tsr_conference_to_json(tsr_participant_conference(p), true));
    if (answer)
        json_object_set_new(o, "sdp", json_string(answer));
    g_free(answer);
    tsr_http_reply_json(r->msg, 200, o);
}

static void handle_conference_get(struct req *r, const char *alias)
{
    struct tsr_conference *c = tsr_conference_registry_find(r->api->reg, alias);
    bool pin = false;
    if (tsr_conference_registry_pin_required(r->api->reg, alias, &pin) != 0) {
        tsr_http_reply_error(
            r->msg, 404, "no_such_conference", "there is no conference '%s'%s", alias,
            tsr_conference_registry_allow_adhoc(r->api->reg) ? " yet; joining creates it" : "");
        return;
    }
    /* The roster is for members only; anyone may learn whether a PIN is needed. */
    struct tsr_participant *p = NULL;
    const char *tok = request_token(r, true);
    bool member = tok && tsr_conference_registry_authenticate_token(r->api->reg, tok, &p) == 0 &&
                  c && tsr_participant_conference(p) == c;
    json_t *o = c ? tsr_conference_to_json(c, member)
                  : json_pack("{s:s, s:I}", "alias", alias, "participant_count", (json_int_t)0);
    json_object_set_new(o, "pin_required", json_boolean(pin));
    json_object_set_new(o, "live", json_boolean(c != NULL));
    tsr_http_reply_json(r->msg, 200, o);
}

static void handle_events(struct req *r, const char *alias)
{
    struct tsr_participant *p = actor(r, true);
    if (!p)
        return;
    if (strcmp(tsr_conference_alias(tsr_participant_conference(p)), alias) != 0) {
        tsr_http_reply_error(r->msg, 403, "forbidden", "the token is for another conference");
        return;
    }
    tsr_sse_open(r->api, r->msg, p);
}

static void handle_conference_action(struct req *r, const char *alias, const char *action)
{
    struct tsr_participant *a = actor(r, false);
    if (!a || !read_body(r))
        return;
    struct tsr_conference *c = tsr_participant_conference(a);
    if (strcmp(tsr_conference_alias(c), alias) != 0) {
        tsr_http_reply_error(r->msg, 403, "forbidden", "the token is for another conference");
        return;
    }
    int rc;
    if (strcmp(action, "layout") == 0) {
        bool bad = false;
        const char *layout = body_string(r, "layout", &bad);
        if (!layout || !tsr_conference_layout_valid(layout)) {
            tsr_http_reply_error(r->msg, 400, "bad_layout",
                                 "body needs \"layout\": one of grid, four, single, speaker, "
                                 "1:21, 2:21, presentation");
            return;
        }
        rc = tsr_conference_set_layout(a, layout);
    } else {
        bool locked;
        if (!body_bool(r, "locked", &locked))
            return;
        rc = tsr_conference_set_locked(a, locked);
    }
    reply_host_rc(r, rc, tsr_conference_to_json(c, false));
}

/* --- recording and streams ---------------------------------------------------- */

/* The host's conference, when the token is a host's in `alias`; else replied. */
static struct tsr_participant *output_actor(struct req *r, const char *alias, bool body)
{
    struct tsr_participant *a = actor(r, false);
    if (!a || (body && !read_body(r)))
        return NULL;
    if (strcmp(tsr_conference_alias(tsr_participant_conference(a)), alias) != 0) {
        tsr_http_reply_error(r->msg, 403, "forbidden", "the token is for another conference");
        return NULL;
    }
    if (tsr_participant_role(a) != TSR_ROLE_HOST) {
        tsr_http_reply_error(r->msg, 403, "forbidden", "only a host may record or stream");
        return NULL;
    }
    return a;
}

static void reply_output_error(struct req *r, int rc, char *err, const char *state_code,
                               const char *state_msg)
{
    if (rc == TSR_ERR_STATE)
        tsr_http_reply_error(r->msg, 409, state_code, "%s", state_msg);
    else if (rc == TSR_ERR_UNSUPPORTED)
        tsr_http_reply_error(r->msg, 503, "unavailable",
                             "recording is disabled ([recording] dir) or media is not wired");
    else
        tsr_http_reply_error(r->msg, 500, "output_failed", "%s", err ? err : tsr_strerror(rc));
    g_free(err);
}

static void handle_recording(struct req *r, const char *alias)
{
    struct tsr_participant *a = output_actor(r, alias, true);
    if (!a)
        return;
    bool bad = false;
    const char *action = body_string(r, "action", &bad);
    bool start = action && strcmp(action, "start") == 0;
    if (!action || (!start && strcmp(action, "stop") != 0)) {
        tsr_http_reply_error(r->msg, 400, "bad_request", "body needs \"action\": start or stop");
        return;
    }
    struct tsr_conference *c = tsr_participant_conference(a);
    char *err = NULL;
    int rc = start ? tsr_conference_start_recording(c, a, &err) : tsr_conference_stop_recording(a);
    if (rc) {
        reply_output_error(r, rc, err, start ? "already_recording" : "not_recording",
                           start ? "a recording is running" : "nothing is being recorded");
        return;
    }
    json_t *conf = tsr_conference_to_json(c, false);
    tsr_http_reply_json(r->msg, start ? 201 : 200,
                        json_pack("{s:O}", "recording", json_object_get(conf, "recording")));
    json_decref(conf);
}

static void handle_stream_add(struct req *r, const char *alias)
{
    struct tsr_participant *a = output_actor(r, alias, true);
    if (!a)
        return;
    bool bad = false;
    const char *url = body_string(r, "url", &bad), *id = NULL;
    char *err = NULL;
    int rc = tsr_conference_add_stream(a, url, &id, &err);
    if (rc == TSR_ERR_INVALID)
        tsr_http_reply_error(r->msg, 400, "bad_url",
                             "body needs \"url\": rtmp://host[:port]/app/key or rtmps://…");
    else if (rc == TSR_ERR_FULL)
        tsr_http_reply_error(r->msg, 409, "too_many_streams", "at most %d streams at once",
                             TSR_CONFERENCE_STREAMS_MAX);
    else if (rc)
        reply_output_error(r, rc, err, "conflict", "");
    else
        tsr_http_reply_json(r->msg, 201, json_pack("{s:s}", "id", id));
    if (rc == TSR_ERR_INVALID || rc == TSR_ERR_FULL)
        g_free(err);
}

static void handle_stream_remove(struct req *r, const char *alias, const char *id)
{
    struct tsr_participant *a = output_actor(r, alias, false);
    if (!a)
        return;
    if (tsr_conference_remove_stream(a, id) != 0)
        tsr_http_reply_error(r->msg, 404, "no_such_stream", "no stream %s in this conference", id);
    else
        soup_server_message_set_status(r->msg, 204, NULL);
}

static void route_outputs(struct req *r, const char *alias, const char *action)
{
    if (r->n_seg == 4) {
        if (strcmp(action, "streams") != 0)
            tsr_http_reply_error(r->msg, 404, "not_found", "no such conference resource");
        else if (!is_method(r, "DELETE"))
            reply_method(r, "DELETE");
        else
            handle_stream_remove(r, alias, r->seg[3]);
    } else if (!is_method(r, "POST")) {
        reply_method(r, "POST");
    } else if (strcmp(action, "recording") == 0) {
        handle_recording(r, alias);
    } else {
        handle_stream_add(r, alias);
    }
}

static void route_conference(struct req *r)
{
    const char *alias = r->seg[1];
    const char *action = r->n_seg >= 3 ? r->seg[2] : NULL;
    if (action && (strcmp(action, "recording") == 0 || strcmp(action, "streams") == 0) &&
        (r->n_seg == 3 || strcmp(action, "streams") == 0)) {
        route_outputs(r, alias, action);
    } else if (r->n_seg == 4) {
        tsr_http_reply_error(r->msg, 404, "not_found", "no such conference resource");
    } else if (r->n_seg == 2) {
        if (is_method(r, "GET") || is_method(r, "HEAD"))
            handle_conference_get(r, alias);
        else
            reply_method(r, "GET");
    } else if (action && strcmp(action, "events") == 0) {
        if (is_method(r, "GET"))
            handle_events(r, alias);
        else
            reply_method(r, "GET");
    } else if (action && (strcmp(action, "join") == 0 || strcmp(action, "layout") == 0 ||
                          strcmp(action, "lock") == 0)) {
        if (!is_method(r, "POST"))
            reply_method(r, "POST");
        else if (strcmp(action, "join") == 0)
            handle_join(r, alias);
        else
            handle_conference_action(r, alias, action);
    } else {
        tsr_http_reply_error(r->msg, 404, "not_found", "no such conference resource");
    }
}

/* --- participants ---------------------------------------------------------------- */

static void handle_candidate(struct req *r, struct tsr_participant *p)
{
    struct tsr_native_candidate_body cb = {0};
    char *perr = NULL;
    size_t len;
    const uint8_t *data = raw_body(r, &len);
    int rc = tsr_native_api_parse_candidate(data, len, &cb, &perr);
    if (rc != 0) {
        reply_parse_error(r, rc, perr);
        return;
    }
    rc = tsr_participant_add_candidate(p, cb.candidate, cb.mid, cb.mline_index);
    tsr_native_candidate_body_fini(&cb);
    if (rc == TSR_ERR_STATE)
        tsr_http_reply_error(r->msg, 409, "no_media", "this participant joined without media");
    else if (rc != 0)
        tsr_http_reply_error(r->msg, 400, "bad_candidate", "the candidate was not accepted: %s",
                             tsr_strerror(rc));
    else
        soup_server_message_set_status(r->msg, 204, NULL);
}

static void handle_self_action(struct req *r, const char *id, const char *action)
{
    struct tsr_participant *p = self(r, id);
    if (!p)
        return;
    if (strcmp(action, "leave") == 0) {
        tsr_participant_leave(p, TSR_LEAVE_REQUESTED);
        soup_server_message_set_status(r->msg, 204, NULL);
    } else if (strcmp(action, "refresh") == 0) {
        int64_t ttl = tsr_participant_refresh(p);
        tsr_http_reply_json(r->msg, 200,
                            json_pack("{s:s, s:I}", "token", tsr_participant_token(p), "expires_in",
                                      (json_int_t)ttl));
    } else {
        handle_candidate(r, p);
    }
}

static void handle_mute(struct req *r, const char *id, bool video)
{
    struct tsr_participant *a = actor(r, false), *t = NULL;
    bool muted;
    if (!a || !(t = target(r, a, id)) || !read_body(r) || !body_bool(r, "muted", &muted))
        return;
    int rc = tsr_participant_set_muted(a, t, video, muted);
    reply_host_rc(r, rc, rc == 0 ? tsr_participant_to_json(t) : NULL);
}

static void handle_kick(struct req *r, const char *id)
{
    struct tsr_participant *a = actor(r, false), *t = NULL;
    if (!a || !(t = target(r, a, id)))
        return;
    int rc = tsr_participant_kick(a, t);
    if (rc == 0)
        soup_server_message_set_status(r->msg, 204, NULL);
    else
        tsr_http_reply_error(r->msg, 403, "forbidden",
                             a == t ? "use leave to hang up" : "only a host may remove others");
}

static void route_participant(struct req *r)
{
    const char *id = r->seg[1];
    const char *action = r->n_seg == 3 ? r->seg[2] : NULL;
    if (r->n_seg == 2) {
        if (is_method(r, "DELETE"))
            handle_kick(r, id);
        else
            reply_method(r, "DELETE");
        return;
    }
    static const char *const actions[] = {"candidates", "leave",      "refresh",
                                          "mute",       "video_mute", NULL};
    if (!action || !g_strv_contains(actions, action)) {
        tsr_http_reply_error(r->msg, 404, "not_found", "no such participant resource");
        return;
    }
    if (!is_method(r, "POST"))
        reply_method(r, "POST");
    else if (strcmp(action, "mute") == 0 || strcmp(action, "video_mute") == 0)
        handle_mute(r, id, strcmp(action, "video_mute") == 0);
    else
        handle_self_action(r, id, action);
}

/* --- entry ------------------------------------------------------------------------- */

static void handle_status(struct req *r)
{
    struct tsr_conference_registry *reg = r->api->reg;
    tsr_http_reply_json(r->msg, 200,
                        json_pack("{s:s, s:b, s:b, s:I, s:I}", "version", TSR_VERSION, "media",
                                  tsr_conference_registry_has_media(reg), "allow_adhoc",
                                  tsr_conference_registry_allow_adhoc(reg), "conferences",
                                  (json_int_t)tsr_conference_registry_n_conferences(reg),
                                  "participants",
                                  (json_int_t)tsr_conference_registry_n_participants(reg)));
}

static void handle_api(SoupServer *server, SoupServerMessage *msg, const char *path,
                       GHashTable *query, gpointer user)
{
    (void)server;
    if (tsr_http_cors(msg))
        return;
    struct req r = {
        .api = user, .msg = msg, .query = query, .method = soup_server_message_get_method(msg)};
    const char *rest = g_str_has_prefix(path, PREFIX "/") ? path + strlen(PREFIX "/") : "";
    r.seg = g_strsplit(rest, "/", 4);
    r.n_seg = g_strv_length(r.seg);
    bool empty_seg = false;
    for (guint i = 0; i < r.n_seg; i++)
        empty_seg |= r.seg[i][0] == '\0';
    if (r.n_seg == 1 && strcmp(r.seg[0], "status") == 0)
        is_method(&r, "GET") ? handle_status(&r) : reply_method(&r, "GET");
    else if (empty_seg || r.n_seg < 2 || r.n_seg > 4 ||
             (r.n_seg == 4 && strcmp(r.seg[0], "conferences") != 0))
        tsr_http_reply_error(msg, 404, "not_found", "no resource at %s", path);
    else if (strcmp(r.seg[0], "conferences") == 0)
        route_conference(&r);
    else if (strcmp(r.seg[0], "participants") == 0)
        route_participant(&r);
    else
        tsr_http_reply_error(msg, 404, "not_found", "no resource at %s", path);
    json_decref(r.body);
    g_strfreev(r.seg);
}

static gboolean keepalive_cb(gpointer user)
{
    tsr_sse_keepalive_all(user);
    return G_SOURCE_CONTINUE;
}

int tsr_native_api_new(struct tsr_native_api **out, struct tsr_http *http,
                       struct tsr_conference_registry *reg, const char *web_root)
{
    struct tsr_native_api *api = g_new0(struct tsr_native_api, 1);
    api->http = http;
    api->reg = reg;
    api->web_root =
        web_root && *web_root ? g_strdup(web_root) : g_build_filename(TSR_SOURCE_DIR, "web", NULL);
    api->streams = g_ptr_array_new_with_free_func(tsr_sse_stream_free_cb);
    SoupServer *server = tsr_http_soup_server(http);
    soup_server_add_handler(server, PREFIX, handle_api, api, NULL);
    soup_server_add_handler(server, "/", tsr_web_files_handle, api, NULL);
    api->keepalive = g_timeout_source_new_seconds(TSR_NATIVE_API_KEEPALIVE_S);
    g_source_set_callback(api->keepalive, keepalive_cb, api, NULL);
    g_source_attach(api->keepalive, g_main_context_get_thread_default());
    TSR_LOG(TSR_LOG_INFO, "api", "native API at " PREFIX ", web client from %s", api->web_root);
    *out = api;
    return 0;
}

void tsr_native_api_free(struct tsr_native_api **p)
{
    if (!p || !*p)
        return;
    struct tsr_native_api *api = *p;
    SoupServer *server = tsr_http_soup_server(api->http);
    soup_server_remove_handler(server, PREFIX);
    soup_server_remove_handler(server, "/");
    g_source_destroy(api->keepalive);
    g_source_unref(api->keepalive);
    tsr_sse_close_all(api);
    g_ptr_array_free(api->streams, TRUE);
    g_free(api->web_root);
    g_free(api);
    *p = NULL;
}

unsigned tsr_native_api_n_streams(const struct tsr_native_api *api)
{
    return api->streams->len;
}
