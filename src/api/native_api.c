/* Native REST API under /api/v1: join, trickle, refresh, leave, host actions,
 * conference state, event streams. Routes and errors: README.md "Native API".
 * Home thread: the API loop. */
#include "native_internal.h"

#include <tessera/config.h>
#include <tessera/err.h>
#include <tessera/log.h>

#include <string.h>

#define PREFIX "/api/v1"

/* --- the descriptor ------------------------------------------------------------- */

const struct tsr_front_desc tsr_native_front_desc = {
    .name = "native",
    .prefix = PREFIX,
    .path_base = PREFIX "/",
    .cors = {.methods = TSR_FRONT_CORS_ALL_METHODS, .headers = TSR_FRONT_CORS_ALL_HEADERS},
    /* Bearer, or the Pexip-style header; EventSource cannot set headers. */
    .token_sources =
        TSR_FRONT_TOKEN_BEARER | TSR_FRONT_TOKEN_HEADER | TSR_FRONT_TOKEN_QUERY_STREAMS,
    .max_body_bytes = TSR_NATIVE_API_MAX_BODY_BYTES,
    .bad_body_code = "bad_request",
    .write_error = tsr_http_write_error,
    .error_metric = "tessera_http_errors_total",
    .error_metric_help = "HTTP requests answered with an error, by error code.",
    .sse = {.content_type = "text/event-stream; charset=utf-8",
            .keepalive_s = TSR_NATIVE_API_KEEPALIVE_S,
            .keepalive = ": keep-alive\n\n",
            .gauge = "tessera_sse_streams",
            .gauge_help = "Open event streams."},
    .refusals = NULL, /* the HTTP meaning of every refusal (front.c) */
};

/* --- helpers ---------------------------------------------------------------- */

static struct tsr_native_api *api_of(const struct tsr_front_req *r)
{
    return r->api;
}

/* The bool member `key`; replies 400 and returns false when missing or not a bool. */
static bool body_bool(struct tsr_front_req *r, const char *key, bool *out)
{
    if (tsr_front_json_bool(r->body, key, out))
        return true;
    tsr_front_req_fail(r, 400, "bad_request", "body needs \"%s\": true or false", key);
    return false;
}

/* The participant the token belongs to; replies 401 and returns NULL otherwise. */
static struct tsr_participant *actor(struct tsr_front_req *r, bool stream)
{
    const char *tok = tsr_front_req_token(r, stream);
    struct tsr_participant *p = NULL;
    if (!tok) {
        tsr_front_req_fail(r, 401, "token_required",
                           "send the participant token as 'Authorization: Bearer TOKEN'");
        return NULL;
    }
    if (tsr_conference_registry_authenticate_token(api_of(r)->reg, tok, &p) != 0) {
        tsr_front_req_fail(r, 401, "bad_token", "the token is unknown or has lapsed");
        return NULL;
    }
    return p;
}

/* The actor must be participant `id` itself (leave, refresh, candidates). */
static struct tsr_participant *self(struct tsr_front_req *r, const char *id)
{
    struct tsr_participant *p = actor(r, false);
    if (p && strcmp(tsr_participant_id(p), id) != 0) {
        tsr_front_req_fail(r, 403, "forbidden", "the token belongs to another participant");
        return NULL;
    }
    return p;
}

/* A participant of the actor's conference; replies 404 otherwise. */
static struct tsr_participant *target(struct tsr_front_req *r, struct tsr_participant *a,
                                      const char *id)
{
    struct tsr_participant *t = tsr_conference_registry_find_participant(api_of(r)->reg, id);
    if (!t || tsr_participant_conference(t) != tsr_participant_conference(a)) {
        tsr_front_req_fail(r, 404, "no_such_participant", "no participant %s in your conference",
                           id);
        return NULL;
    }
    return t;
}

static void reply_host_rc(struct tsr_front_req *r, int rc, json_t *ok_body)
{
    if (rc == 0) {
        tsr_http_reply_json(r->msg, 200, ok_body);
        return;
    }
    json_decref(ok_body);
    if (rc == TSR_ERR_AUTH)
        tsr_front_req_fail(r, 403, "forbidden", "only a host may do that");
    else
        tsr_front_req_fail(r, 400, "bad_request", "%s", tsr_strerror(rc));
}

/* The token must be for conference `alias`; replies 403 otherwise. */
static bool same_conference(struct tsr_front_req *r, struct tsr_participant *p, const char *alias)
{
    if (strcmp(tsr_conference_alias(tsr_participant_conference(p)), alias) == 0)
        return true;
    tsr_front_req_fail(r, 403, "forbidden", "the token is for another conference");
    return false;
}

/* A pure parser's verdict on the raw body: replies 413/400 and returns false on
 * failure, freeing the parser's message *err. */
static bool parsed(struct tsr_front_req *r, int rc, char **err)
{
    if (rc == TSR_ERR_FULL)
        tsr_front_req_fail(r, 413, "body_too_large", "%s", *err);
    else if (rc != 0)
        tsr_front_req_fail(r, 400, "bad_request", "%s", *err);
    g_clear_pointer(err, g_free);
    return rc == 0;
}

static const uint8_t *body_data(struct tsr_front_req *r)
{
    const char *data = soup_server_message_get_request_body(r->msg)->data;
    return (const uint8_t *)(data ? data : "");
}

static size_t body_len(struct tsr_front_req *r)
{
    return (size_t)soup_server_message_get_request_body(r->msg)->length;
}

static void join_done(void *user, struct tsr_conference_result *res)
{
    struct tsr_front_wait *w = tsr_front_wait_resumed(user);
    struct tsr_participant *p = res->participant;
    if (res->rc != 0) {
        tsr_front_req_refuse(&w->req, res->refusal, res->err_text);
        tsr_front_wait_done(w);
        return;
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:o, s:o}", "participant_id", tsr_participant_id(p),
                          "token", tsr_participant_token(p), "role",
                          tsr_participant_role(p) == TSR_ROLE_HOST ? "host" : "guest", "expires_in",
                          (json_int_t)tsr_participant_expires_in_s(p), "participant",
                          tsr_participant_to_json(p), "conference",
                          tsr_conference_to_json(tsr_participant_conference(p), true));
    if (res->sdp)
        json_object_set_new(o, "sdp", json_string(res->sdp));
    tsr_http_reply_json(w->req.msg, 200, o);
    tsr_front_wait_done(w);
}

static void handle_join(struct tsr_front_req *r, const char *alias)
{
    struct tsr_native_join_body jb = {0};
    char *perr = NULL;
    if (!parsed(r, tsr_native_api_parse_join(body_data(r), body_len(r), &jb, &perr), &perr))
        return;
    struct tsr_front_session *session =
        tsr_front_session_new(&tsr_native_front_desc, TSR_PARTICIPANT_LEASE);
    char *from = tsr_http_client_address(r->msg);
    struct tsr_conference_join_request jr = {.alias = alias,
                                             .display_name = jb.display_name,
                                             .pin = jb.pin,
                                             .client_address = from,
                                             .offer_sdp = jb.sdp,
                                             .holder = tsr_front_session_holder(session)};
    struct tsr_front_wait *w = tsr_front_wait_new(r, api_of(r)->waiting);
    tsr_conference_join(api_of(r)->reg, &jr, join_done, w, &w->call);
    g_free(from);
    tsr_native_join_body_fini(&jb);
    tsr_front_session_unref(session); /* the core holds it while p is in */
}

static void handle_conference_get(struct tsr_front_req *r, const char *alias)
{
    struct tsr_conference_registry *reg = api_of(r)->reg;
    struct tsr_conference *c = tsr_conference_registry_find(reg, alias);
    bool pin = false;
    if (tsr_conference_registry_pin_required(reg, alias, &pin) != 0) {
        tsr_front_req_fail(r, 404, "no_such_conference", "there is no conference '%s'%s", alias,
                           tsr_conference_registry_allow_adhoc(reg) ? " yet; joining creates it"
                                                                    : "");
        return;
    }
    /* The roster is for members only; anyone may learn whether a PIN is needed. */
    struct tsr_participant *p = NULL;
    const char *tok = tsr_front_req_token(r, true);
    bool member = tok && tsr_conference_registry_authenticate_token(reg, tok, &p) == 0 && c &&
                  tsr_participant_conference(p) == c;
    json_t *o = c ? tsr_conference_to_json(c, member)
                  : json_pack("{s:s, s:I}", "alias", alias, "participant_count", (json_int_t)0);
    json_object_set_new(o, "pin_required", json_boolean(pin));
    json_object_set_new(o, "live", json_boolean(c != NULL));
    tsr_http_reply_json(r->msg, 200, o);
}

static void handle_events(struct tsr_front_req *r, const char *alias)
{
    struct tsr_participant *p = actor(r, true);
    if (p && same_conference(r, p, alias))
        tsr_sse_open(api_of(r), r->msg, p);
}

static void handle_conference_action(struct tsr_front_req *r, const char *alias, const char *action)
{
    struct tsr_participant *a = actor(r, false);
    if (!a || !tsr_front_req_body(r, 0) || !same_conference(r, a, alias))
        return;
    struct tsr_conference *c = tsr_participant_conference(a);
    int rc;
    if (strcmp(action, "layout") == 0) {
        bool bad = false;
        const char *layout = tsr_front_json_str(r->body, "layout", &bad);
        if (!layout || !tsr_conference_layout_valid(layout)) {
            tsr_front_req_fail(r, 400, "bad_layout",
                               "body needs \"layout\": one of grid, four, single, speaker, "
                               "1:21, 2:21, presentation");
            return;
        }
        rc = tsr_conference_set_layout(a, layout);
    } else if (strcmp(action, "self_view") == 0) {
        bool on;
        if (!body_bool(r, "self_view", &on))
            return;
        rc = tsr_conference_set_self_view(a, on);
    } else {
        bool locked;
        if (!body_bool(r, "locked", &locked))
            return;
        rc = tsr_conference_set_locked(a, locked);
    }
    reply_host_rc(r, rc, tsr_conference_to_json(c, false));
}

/* --- recording and streams ---------------------------------------------------- */

/* The token's participant, a host of `alias`; else replied and NULL. */
static struct tsr_participant *output_actor(struct tsr_front_req *r, const char *alias, bool body)
{
    struct tsr_participant *a = actor(r, false);
    if (!a || (body && !tsr_front_req_body(r, 0)) || !same_conference(r, a, alias))
        return NULL;
    if (tsr_participant_role(a) != TSR_ROLE_HOST) {
        tsr_front_req_fail(r, 403, "forbidden", "only a host may record or stream");
        return NULL;
    }
    return a;
}

/* A refused start or stop; frees err (media's text). */
static void reply_output_error(struct tsr_front_req *r, int rc, char *err, const char *state_code,
                               const char *state_msg)
{
    if (rc == TSR_ERR_STATE)
        tsr_front_req_fail(r, 409, state_code, "%s", state_msg);
    else if (rc == TSR_ERR_UNSUPPORTED)
        tsr_front_req_fail(r, 503, "unavailable",
                           "recording is disabled ([recording] dir) or media is not wired");
    else
        tsr_front_req_fail(r, 500, "output_failed", "%s", err ? err : tsr_strerror(rc));
    g_free(err);
}

static void handle_recording(struct tsr_front_req *r, const char *alias)
{
    struct tsr_participant *a = output_actor(r, alias, true);
    if (!a)
        return;
    bool bad = false;
    const char *action = tsr_front_json_str(r->body, "action", &bad);
    bool start = action && strcmp(action, "start") == 0;
    if (!action || (!start && strcmp(action, "stop") != 0)) {
        tsr_front_req_fail(r, 400, "bad_request", "body needs \"action\": start or stop");
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

static void handle_stream_add(struct tsr_front_req *r, const char *alias)
{
    struct tsr_participant *a = output_actor(r, alias, true);
    if (!a)
        return;
    bool bad = false;
    const char *url = tsr_front_json_str(r->body, "url", &bad), *id = NULL;
    char *err = NULL;
    int rc = bad ? TSR_ERR_INVALID : tsr_conference_add_stream(a, url, &id, &err);
    if (rc == TSR_ERR_INVALID || rc == TSR_ERR_FULL)
        g_clear_pointer(&err, g_free);
    if (rc == TSR_ERR_INVALID)
        tsr_front_req_fail(r, 400, "bad_url",
                           "body needs \"url\": rtmp://host[:port]/app/key or rtmps://…");
    else if (rc == TSR_ERR_FULL)
        tsr_front_req_fail(r, 409, "too_many_streams", "at most %d streams at once",
                           TSR_CONFERENCE_STREAMS_MAX);
    else if (rc)
        reply_output_error(r, rc, err, "conflict", "");
    else
        tsr_http_reply_json(r->msg, 201, json_pack("{s:s}", "id", id));
}

static void handle_stream_remove(struct tsr_front_req *r, const char *alias, const char *id)
{
    struct tsr_participant *a = output_actor(r, alias, false);
    if (!a)
        return;
    if (tsr_conference_remove_stream(a, id) != 0)
        tsr_front_req_fail(r, 404, "no_such_stream", "no stream %s in this conference", id);
    else
        soup_server_message_set_status(r->msg, 204, NULL);
}

/* recording (POST), streams (POST), streams/{id} (DELETE). */
static void route_outputs(struct tsr_front_req *r, const char *alias, const char *action)
{
    if (r->n_seg == 4) {
        if (!tsr_front_req_is(r, "DELETE"))
            tsr_front_req_method_not_allowed(r, "DELETE");
        else
            handle_stream_remove(r, alias, r->seg[3]);
    } else if (!tsr_front_req_is(r, "POST")) {
        tsr_front_req_method_not_allowed(r, "POST");
    } else if (strcmp(action, "recording") == 0) {
        handle_recording(r, alias);
    } else {
        handle_stream_add(r, alias);
    }
}

/* --- dial-out --------------------------------------------------------------------- */

/* The token's participant, a host of the live conference `alias`; else replied and NULL. */
static struct tsr_participant *dial_actor(struct tsr_front_req *r, const char *alias, bool body)
{
    struct tsr_participant *a = actor(r, false);
    if (!a || (body && !tsr_front_req_body(r, 0)))
        return NULL;
    if (!tsr_conference_registry_find(api_of(r)->reg, alias)) {
        tsr_front_req_fail(r, 404, "no_such_conference", "there is no conference '%s'", alias);
        return NULL;
    }
    if (!same_conference(r, a, alias))
        return NULL;
    if (tsr_participant_role(a) != TSR_ROLE_HOST) {
        tsr_front_req_fail(r, 403, "forbidden", "only a host may dial out");
        return NULL;
    }
    return a;
}

/* "guest" (also when absent) or "host"; false when it is something else. */
static bool dial_role(const char *role, enum tsr_role *out)
{
    *out = role && strcmp(role, "host") == 0 ? TSR_ROLE_HOST : TSR_ROLE_GUEST;
    return !role || strcmp(role, "host") == 0 || strcmp(role, "guest") == 0;
}

static void handle_dial(struct tsr_front_req *r, const char *alias)
{
    struct tsr_participant *a = dial_actor(r, alias, true);
    if (!a)
        return;
    bool bad = false;
    const char *uri = tsr_front_json_str(r->body, "uri", &bad);
    const char *name = tsr_front_json_str(r->body, "display_name", &bad);
    const char *role_s = tsr_front_json_str(r->body, "role", &bad);
    enum tsr_role role;
    if (bad || !uri || !dial_role(role_s, &role)) {
        tsr_front_req_fail(r, 400, "bad_request",
                           "body needs \"uri\": \"sip:user@host[:port]\", and optionally "
                           "\"display_name\" and \"role\": \"guest\" or \"host\"");
        return;
    }
    if (name && !tsr_conference_display_name_valid(name)) {
        tsr_front_req_fail(r, 400, "bad_request", "%s", TSR_CONFERENCE_DISPLAY_NAME_RULE);
        return;
    }
    char id[37];
    char *err = NULL;
    int rc = tsr_conference_dial(a, uri, name, role, id, &err);
    if (rc == 0)
        tsr_http_reply_json(r->msg, 202,
                            json_pack("{s:s, s:s, s:s, s:s}", "participant_id", id, "uri", uri,
                                      "role", role == TSR_ROLE_HOST ? "host" : "guest", "state",
                                      "calling"));
    else if (rc == TSR_ERR_AUTH)
        tsr_front_req_fail(r, 403, "forbidden", "only a host may dial out");
    else if (rc == TSR_ERR_INVALID)
        tsr_front_req_fail(r, 400, "bad_uri", "%s", err ? err : "not a SIP URI");
    else if (rc == TSR_ERR_UNSUPPORTED)
        tsr_front_req_fail(r, 503, "sip_disabled", "%s", err ? err : "dial-out is off");
    else
        tsr_front_req_fail(r, 500, "dial_failed", "%s", err ? err : tsr_strerror(rc));
    g_free(err);
}

static void handle_dial_hangup(struct tsr_front_req *r, const char *alias, const char *id)
{
    struct tsr_participant *a = dial_actor(r, alias, false);
    if (!a)
        return;
    int rc = tsr_conference_dial_hangup(a, id);
    if (rc == 0)
        soup_server_message_set_status(r->msg, 204, NULL);
    else if (rc == TSR_ERR_UNSUPPORTED)
        tsr_front_req_fail(r, 503, "sip_disabled", "dial-out needs the SIP front");
    else
        tsr_front_req_fail(r, 404, "no_such_call", "no call %s dialled from this conference", id);
}

/* dial (POST), dial/{participant id} (DELETE). */
static void route_dial(struct tsr_front_req *r, const char *alias)
{
    if (r->n_seg == 4) {
        if (!tsr_front_req_is(r, "DELETE"))
            tsr_front_req_method_not_allowed(r, "DELETE");
        else
            handle_dial_hangup(r, alias, r->seg[3]);
    } else if (!tsr_front_req_is(r, "POST")) {
        tsr_front_req_method_not_allowed(r, "POST");
    } else {
        handle_dial(r, alias);
    }
}

static bool is_output_route(const struct tsr_front_req *r)
{
    const char *action = r->n_seg >= 3 ? r->seg[2] : "";
    return (r->n_seg == 3 && strcmp(action, "recording") == 0) || strcmp(action, "streams") == 0;
}

static void route_conference(struct tsr_front_req *r)
{
    const char *alias = r->seg[1];
    const char *action = r->n_seg == 3 ? r->seg[2] : NULL;
    if (!tsr_front_req_alias_ok(r, alias))
        return;
    if (is_output_route(r)) {
        route_outputs(r, alias, r->seg[2]);
    } else if (r->n_seg >= 3 && strcmp(r->seg[2], "dial") == 0) {
        route_dial(r, alias);
    } else if (r->n_seg == 2) {
        if (tsr_front_req_is(r, "GET") || tsr_front_req_is(r, "HEAD"))
            handle_conference_get(r, alias);
        else
            tsr_front_req_method_not_allowed(r, "GET");
    } else if (action && strcmp(action, "events") == 0) {
        if (tsr_front_req_is(r, "GET"))
            handle_events(r, alias);
        else
            tsr_front_req_method_not_allowed(r, "GET");
    } else if (action && (strcmp(action, "join") == 0 || strcmp(action, "layout") == 0 ||
                          strcmp(action, "lock") == 0 || strcmp(action, "self_view") == 0)) {
        if (!tsr_front_req_is(r, "POST"))
            tsr_front_req_method_not_allowed(r, "POST");
        else if (strcmp(action, "join") == 0)
            handle_join(r, alias);
        else
            handle_conference_action(r, alias, action);
    } else {
        tsr_front_req_fail(r, 404, "not_found", "no such conference resource");
    }
}

/* --- participants ---------------------------------------------------------------- */

static void candidate_done(void *user, struct tsr_conference_result *res)
{
    struct tsr_front_wait *w = tsr_front_wait_resumed(user);
    if (res->rc == TSR_ERR_STATE)
        tsr_front_req_fail(&w->req, 409, "no_media", "this participant joined without media");
    else if (res->rc != 0)
        tsr_front_req_fail(&w->req, 400, "bad_candidate", "the candidate was not accepted: %s",
                           tsr_strerror(res->rc));
    else
        soup_server_message_set_status(w->req.msg, 204, NULL);
    tsr_front_wait_done(w);
}

static void handle_candidate(struct tsr_front_req *r, struct tsr_participant *p)
{
    struct tsr_native_candidate_body cb = {0};
    char *perr = NULL;
    if (!parsed(r, tsr_native_api_parse_candidate(body_data(r), body_len(r), &cb, &perr), &perr))
        return;
    struct tsr_front_wait *w = tsr_front_wait_new(r, api_of(r)->waiting);
    tsr_participant_add_candidate(p, cb.candidate, cb.mid, cb.mline_index, candidate_done, w,
                                  &w->call);
    tsr_native_candidate_body_fini(&cb);
}

/* --- presentation: the participant's screen share, a second transport -------- */

/* An SDP answer from the media engine ({sdp}), or the refusal in our envelope. */
static void answer_done(void *user, struct tsr_conference_result *res)
{
    struct tsr_front_wait *w = tsr_front_wait_resumed(user);
    const char *why = res->err_text ? res->err_text : tsr_strerror(res->rc);
    if (res->rc == 0)
        tsr_http_reply_json(w->req.msg, 200, json_pack("{s:s}", "sdp", res->sdp));
    else if (res->rc == TSR_ERR_STATE)
        tsr_front_req_fail(&w->req, 409, "no_media", "%s", why);
    else if (res->rc == TSR_ERR_INVALID)
        tsr_front_req_fail(&w->req, 400, "bad_sdp", "%s", why);
    else if (res->rc == TSR_ERR_UNSUPPORTED)
        tsr_front_req_fail(&w->req, 415, "unsupported_media", "%s", why);
    else
        tsr_front_req_fail(&w->req, 500, "media_failed", "%s", why);
    tsr_front_wait_done(w);
}

static void content_candidate_done(void *user, struct tsr_conference_result *res)
{
    struct tsr_front_wait *w = tsr_front_wait_resumed(user);
    if (res->rc == TSR_ERR_STATE)
        tsr_front_req_fail(&w->req, 409, "not_presenting",
                           "this participant has no presentation media");
    else if (res->rc != 0)
        tsr_front_req_fail(&w->req, 400, "bad_candidate", "the candidate was not accepted: %s",
                           tsr_strerror(res->rc));
    else
        soup_server_message_set_status(w->req.msg, 204, NULL);
    tsr_front_wait_done(w);
}

/* A core call that takes an SDP offer and finishes with the answer. */
typedef void (*offer_op)(struct tsr_participant *p, const char *offer_sdp,
                         tsr_conference_done_fn done, void *user,
                         struct tsr_conference_call **handle);

/* Body {sdp}: hands the offer to `op`; the answer (or refusal) follows by answer_done.
 * `what` names the offer in the 400 for a body without one. */
static void handle_offer(struct tsr_front_req *r, struct tsr_participant *p, const char *what,
                         offer_op op)
{
    bool bad = false;
    if (!tsr_front_req_body(r, 0))
        return;
    const char *sdp = tsr_front_json_str(r->body, "sdp", &bad);
    if (bad || !sdp || !*sdp) {
        tsr_front_req_fail(r, 400, "bad_request", "body needs \"sdp\" (%s)", what);
        return;
    }
    struct tsr_front_wait *w = tsr_front_wait_new(r, api_of(r)->waiting);
    op(p, sdp, answer_done, w, &w->call);
}

static void handle_presentation_start(struct tsr_front_req *r, struct tsr_participant *p)
{
    handle_offer(r, p, "the screen share's offer", tsr_participant_start_presentation);
}

/* POST /participants/{id}/sdp {sdp}: a new offer on the running transport, the
 * web client's ICE restart after a network change (same DTLS, SSRCs and codecs). */
static void handle_reoffer(struct tsr_front_req *r, struct tsr_participant *p)
{
    handle_offer(r, p, "the new offer", tsr_participant_renegotiate);
}

/* POST  /participants/{id}/presentation {sdp}            → 200 {sdp}: share, take the floor
 * POST  /participants/{id}/presentation/candidates {…}  → 204
 * DELETE /participants/{id}/presentation (or POST …/stop) → 204; 409 when not presenting */
static void route_presentation(struct tsr_front_req *r, const char *id, const char *sub)
{
    bool del = tsr_front_req_is(r, "DELETE");
    if ((!sub && !del && !tsr_front_req_is(r, "POST")) || (sub && !tsr_front_req_is(r, "POST"))) {
        tsr_front_req_method_not_allowed(r, sub ? "POST" : "POST, DELETE");
        return;
    }
    struct tsr_participant *p = self(r, id);
    if (!p)
        return;
    if (del || (sub && strcmp(sub, "stop") == 0)) {
        if (tsr_participant_stop_presentation(p) == 0)
            soup_server_message_set_status(r->msg, 204, NULL);
        else
            tsr_front_req_fail(r, 409, "not_presenting", "this participant is not presenting");
    } else if (!sub) {
        handle_presentation_start(r, p);
    } else {
        struct tsr_native_candidate_body cb = {0};
        char *perr = NULL;
        if (!parsed(r, tsr_native_api_parse_candidate(body_data(r), body_len(r), &cb, &perr),
                    &perr))
            return;
        struct tsr_front_wait *w = tsr_front_wait_new(r, api_of(r)->waiting);
        tsr_participant_add_content_candidate(p, cb.candidate, content_candidate_done, w, &w->call);
        tsr_native_candidate_body_fini(&cb);
    }
}

static void handle_self_action(struct tsr_front_req *r, const char *id, const char *action)
{
    struct tsr_participant *p = self(r, id);
    if (!p)
        return;
    if (strcmp(action, "leave") == 0) {
        tsr_participant_leave(p, TSR_LEAVE_REQUESTED);
        soup_server_message_set_status(r->msg, 204, NULL);
    } else if (strcmp(action, "refresh") == 0) {
        int64_t ttl = tsr_participant_refresh(p, tsr_front_req_token(r, false));
        if (ttl < 0) {
            tsr_front_req_fail(r, 401, "bad_token",
                               "only the current token can be refreshed (this one was replaced)");
            return;
        }
        tsr_http_reply_json(r->msg, 200,
                            json_pack("{s:s, s:I}", "token", tsr_participant_token(p), "expires_in",
                                      (json_int_t)ttl));
    } else if (strcmp(action, "sdp") == 0) {
        handle_reoffer(r, p);
    } else {
        handle_candidate(r, p);
    }
}

static void handle_mute(struct tsr_front_req *r, const char *id, bool video)
{
    struct tsr_participant *a = actor(r, false), *t = NULL;
    bool muted;
    if (!a || !(t = target(r, a, id)) || !tsr_front_req_body(r, 0) ||
        !body_bool(r, "muted", &muted))
        return;
    int rc = tsr_participant_set_muted(a, t, video, muted);
    reply_host_rc(r, rc, rc == 0 ? tsr_participant_to_json(t) : NULL);
}

static void handle_spotlight(struct tsr_front_req *r, const char *id)
{
    struct tsr_participant *a = actor(r, false), *t = NULL;
    bool on;
    if (!a || !(t = target(r, a, id)) || !tsr_front_req_body(r, 0) || !body_bool(r, "on", &on))
        return;
    int rc = tsr_participant_set_spotlight(a, t, on);
    reply_host_rc(r, rc, rc == 0 ? tsr_participant_to_json(t) : NULL);
}

static void handle_kick(struct tsr_front_req *r, const char *id)
{
    struct tsr_participant *a = actor(r, false), *t = NULL;
    if (!a || !(t = target(r, a, id)))
        return;
    int rc = tsr_participant_kick(a, t);
    if (rc == 0)
        soup_server_message_set_status(r->msg, 204, NULL);
    else
        tsr_front_req_fail(r, 403, "forbidden",
                           a == t ? "use leave to hang up" : "only a host may remove others");
}

static void route_participant(struct tsr_front_req *r)
{
    const char *id = r->seg[1];
    const char *action = r->n_seg == 3 ? r->seg[2] : NULL;
    if (r->n_seg == 2) {
        if (tsr_front_req_is(r, "DELETE"))
            handle_kick(r, id);
        else
            tsr_front_req_method_not_allowed(r, "DELETE");
        return;
    }
    if (action && strcmp(action, "presentation") == 0) {
        route_presentation(r, id, NULL);
        return;
    }
    if (r->n_seg == 4) {
        if (strcmp(r->seg[2], "presentation") == 0 &&
            (strcmp(r->seg[3], "candidates") == 0 || strcmp(r->seg[3], "stop") == 0))
            route_presentation(r, id, r->seg[3]);
        else
            tsr_front_req_fail(r, 404, "not_found", "no such participant resource");
        return;
    }
    static const char *const actions[] = {"candidates", "leave",      "refresh",   "sdp",
                                          "mute",       "video_mute", "spotlight", NULL};
    if (!action || !g_strv_contains(actions, action)) {
        tsr_front_req_fail(r, 404, "not_found", "no such participant resource");
        return;
    }
    if (!tsr_front_req_is(r, "POST"))
        tsr_front_req_method_not_allowed(r, "POST");
    else if (strcmp(action, "mute") == 0 || strcmp(action, "video_mute") == 0)
        handle_mute(r, id, strcmp(action, "video_mute") == 0);
    else if (strcmp(action, "spotlight") == 0)
        handle_spotlight(r, id);
    else
        handle_self_action(r, id, action);
}

/* --- entry ------------------------------------------------------------------------- */

/* [webrtc] turn_servers as RTCIceServer dictionaries, for the web client's
 * RTCPeerConnection configuration. */
static json_t *ice_servers_json(const struct tsr_conference_registry *reg)
{
    size_t n = 0;
    const struct tsr_ice_server *s = tsr_conference_registry_ice_servers(reg, &n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, s[i].turn
                                       ? json_pack("{s:s, s:s, s:s}", "urls", s[i].url, "username",
                                                   s[i].username, "credential", s[i].credential)
                                       : json_pack("{s:s}", "urls", s[i].url));
    return arr;
}

static void handle_status(struct tsr_front_req *r)
{
    struct tsr_conference_registry *reg = api_of(r)->reg;
    tsr_http_reply_json(r->msg, 200,
                        json_pack("{s:s, s:b, s:b, s:I, s:I, s:o}", "version", TSR_VERSION, "media",
                                  tsr_conference_registry_has_media(reg), "allow_adhoc",
                                  tsr_conference_registry_allow_adhoc(reg), "conferences",
                                  (json_int_t)tsr_conference_registry_n_conferences(reg),
                                  "participants",
                                  (json_int_t)tsr_conference_registry_n_participants(reg),
                                  "ice_servers", ice_servers_json(reg)));
}

static void handle_api(SoupServer *server, SoupServerMessage *msg, const char *path,
                       GHashTable *query, gpointer user)
{
    (void)server;
    struct tsr_front_req r;
    if (!tsr_front_req_begin(&r, &tsr_native_front_desc, user, msg, path, query))
        return;
    if (r.seg && r.n_seg == 1 && strcmp(r.seg[0], "status") == 0)
        tsr_front_req_is(&r, "GET") ? handle_status(&r)
                                    : tsr_front_req_method_not_allowed(&r, "GET");
    else if (!tsr_front_req_segments_ok(&r) || r.n_seg < 2 || r.n_seg > 4 ||
             (r.n_seg == 4 && strcmp(r.seg[0], "conferences") != 0 &&
              strcmp(r.seg[0], "participants") != 0))
        tsr_front_req_fail(&r, 404, "not_found", "no resource at %s", path);
    else if (strcmp(r.seg[0], "conferences") == 0)
        route_conference(&r);
    else if (strcmp(r.seg[0], "participants") == 0)
        route_participant(&r);
    else
        tsr_front_req_fail(&r, 404, "not_found", "no resource at %s", path);
    tsr_front_req_end(&r);
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
    api->waiting = g_ptr_array_new();
    SoupServer *server = tsr_http_soup_server(http);
    soup_server_add_handler(server, PREFIX, handle_api, api, NULL);
    soup_server_add_handler(server, "/", tsr_web_files_handle, api, NULL);
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
    g_ptr_array_free(api->streams, TRUE); /* ends every stream */
    tsr_front_wait_shutdown(&api->waiting);
    g_free(api->web_root);
    g_free(api);
    *p = NULL;
}

unsigned tsr_native_api_n_streams(const struct tsr_native_api *api)
{
    return api->streams->len;
}

static int make(struct tsr_native_api **out, const struct tsr_front_env *env)
{
    return tsr_native_api_new(out, env->http, env->reg, env->cfg ? env->cfg->web_root : NULL);
}

TSR_FRONT_OPS_DEFINE(tsr_native_front, &tsr_native_front_desc, struct tsr_native_api, make,
                     tsr_native_api_free);
