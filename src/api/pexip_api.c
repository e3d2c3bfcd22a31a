/* Pexip client REST API v2: routing, CORS, the envelope, tokens, and the
 * conference-level actions. Calls and participant actions are in
 * pexip_api_calls.c, the event stream in pexip_api_events.c.
 * Spec: specs/pexip-client-api.md. Home thread: the API loop. */
#include "pexip_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <stdio.h>
#include <string.h>

#define PREFIX "/api/client/v2"
#define CONF_PREFIX PREFIX "/conferences/"

/* What request_token reports as the node's version (the SDK needs an object of
 * strings; "36" is the Infinity release whose API this follows). */
#define PEX_VERSION_ID "36"

/* --- the descriptor, envelope, body, auth --------------------------------------- */

/* The failed envelope, with the machine word beside the result (the SDK's
 * validators strip members they do not know, spec §1). */
static void write_error(SoupServerMessage *msg, const struct tsr_front_error *e)
{
    tsr_http_reply_json(msg, e->status,
                        json_pack("{s:s, s:s, s:s}", "status", "failed", "result", e->text, "error",
                                  e->code)); /* exactly "application/json" */
}

/* Join and call refusals as Pexip says them (spec §3.1/§3.2); the PIN answers are
 * success envelopes, written before this table is consulted. */
static const struct tsr_front_refusal refusals[TSR_CONFERENCE_REFUSAL_COUNT] = {
    [TSR_CONFERENCE_REFUSAL_NO_SUCH_CONFERENCE] = {.status = 404,
                                                   .text = "Neither conference nor gateway found"},
    [TSR_CONFERENCE_REFUSAL_TOO_MANY_ATTEMPTS] = {.status = 403,
                                                  .text = "Participant exceeded PIN entry retries"},
    [TSR_CONFERENCE_REFUSAL_FULL] = {.status = 403, .text = "Participant limit reached"},
    [TSR_CONFERENCE_REFUSAL_CAPACITY] = {.status = 403, .text = TSR_PEX_OUT_OF_RESOURCE},
    [TSR_CONFERENCE_REFUSAL_LOCKED] = {.status = 403, .text = "Conference is locked"},
    /* no common codec, no media engine: 403, and the app shows the error */
    [TSR_CONFERENCE_REFUSAL_NO_COMMON_CODEC] = {.status = 403},
    [TSR_CONFERENCE_REFUSAL_MEDIA_UNAVAILABLE] = {.status = 403},
};

const struct tsr_front_desc tsr_pexip_front_desc = {
    .name = "pexip",
    .prefix = PREFIX,
    .path_base = CONF_PREFIX,
    /* The origin is echoed (not "*") because sendBeacon sends credentials (spec §1). */
    .cors = {.echo_origin = true,
             .methods = "GET, POST, OPTIONS",
             .headers = "content-type, token, pin"},
    .token_sources = TSR_FRONT_TOKEN_HEADER | TSR_FRONT_TOKEN_QUERY_STREAMS,
    .max_body_bytes = TSR_PEXIP_API_MAX_BODY_BYTES,
    .bad_body_code = "bad_request",
    .write_error = write_error,
    .error_metric = "tessera_pexip_errors_total",
    .error_metric_help = "Pexip API requests answered with failed, by status.",
    .error_label_status = true,
    .sse = {.content_type = "text/event-stream",
            .keepalive_s = TSR_PEXIP_API_KEEPALIVE_S,
            .keepalive = ": ping\n\n",
            .gauge = "tessera_pexip_event_streams",
            .gauge_help = "Open Pexip API event streams."},
    .refusals = refusals,
};

static struct tsr_pexip_api *api_of(const struct tsr_front_req *r)
{
    return r->api;
}

void tsr_pex_reply(struct tsr_front_req *r, unsigned status, json_t *result)
{
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string("success"));
    json_object_set_new(o, "result", result ? result : json_null());
    tsr_http_reply_json(r->msg, status, o); /* exactly "application/json" */
}

bool tsr_pex_read_body(struct tsr_front_req *r)
{
    return tsr_front_req_body(r, TSR_FRONT_BODY_EMPTY_OK); /* body-less POSTs: refresh, mute … */
}

/* The routes a browser reaches without setting headers: EventSource (events) and
 * sendBeacon (release_token). Only there may the token ride in the URL, where
 * proxies and logs see it. */
static bool token_in_url_allowed(const struct tsr_front_req *r)
{
    return r->n_seg == 2 &&
           (strcmp(r->seg[1], "events") == 0 || strcmp(r->seg[1], "release_token") == 0);
}

struct tsr_participant *tsr_pex_actor(struct tsr_front_req *r)
{
    struct tsr_participant *p = NULL;
    const char *tok = tsr_front_req_token(r, token_in_url_allowed(r));
    if (!tok || tsr_conference_registry_authenticate_token(api_of(r)->reg, tok, &p) != 0 ||
        strcmp(tsr_conference_alias(tsr_participant_conference(p)), r->seg[0]) != 0) {
        tsr_front_req_fail(r, 403, "bad_token", "Invalid token");
        return NULL;
    }
    return p;
}

struct tsr_participant *tsr_pex_target(struct tsr_front_req *r, struct tsr_participant *actor,
                                       const char *uuid)
{
    struct tsr_participant *t = tsr_conference_registry_find_participant(api_of(r)->reg, uuid);
    if (!t || tsr_participant_conference(t) != tsr_participant_conference(actor)) {
        tsr_front_req_fail(r, 404, "no_such_participant", "No participant %s in this conference",
                           uuid);
        return NULL;
    }
    return t;
}

const char *tsr_pex_role_word(const struct tsr_participant *p)
{
    return tsr_participant_role(p) == TSR_ROLE_HOST ? "HOST" : "GUEST";
}

void tsr_pex_send_message(struct tsr_front_req *r, struct tsr_participant *a,
                          struct tsr_participant *target)
{
    bool bad = false;
    const char *type = tsr_front_json_str(r->body, "type", &bad);
    const char *payload = tsr_front_json_str(r->body, "payload", &bad);
    int rc = bad || !type || !payload ? TSR_ERR_INVALID
                                      : tsr_conference_send_message(a, target, type, payload);
    if (rc == TSR_ERR_INVALID)
        tsr_front_req_fail(r, 400, "bad_request",
                           "Body needs \"type\" (a MIME type) and \"payload\" (string, at most %d "
                           "bytes of UTF-8)",
                           TSR_CONFERENCE_MESSAGE_MAX);
    else
        tsr_pex_reply(r, 200, json_boolean(rc == 0));
}

/* --- tokens -------------------------------------------------------------------- */

static json_t *version_json(void)
{
    return json_pack("{s:s, s:s}", "version_id", PEX_VERSION_ID, "pseudo_version", TSR_VERSION);
}

/* The join refusal as Pexip says it (spec §3.1/§3.2). has_pin: a pin header came. */
static void reply_refusal(struct tsr_front_req *r, enum tsr_conference_refusal why, bool has_pin,
                          const char *text)
{
    if (why == TSR_CONFERENCE_REFUSAL_PIN_REQUIRED && !has_pin) {
        /* Our PIN model has no PIN-less guests: a PIN is always required. */
        tsr_pex_reply(r, 403,
                      json_pack("{s:s, s:s, s:o}", "pin", "required", "guest_pin", "required",
                                "version", version_json()));
    } else if (why == TSR_CONFERENCE_REFUSAL_PIN_REQUIRED ||
               why == TSR_CONFERENCE_REFUSAL_WRONG_PIN) {
        tsr_pex_reply(r, 403, json_string("Invalid PIN")); /* also "pin: none" */
    } else {
        tsr_front_req_refuse(r, why, text);
    }
}

/* [webrtc] turn_servers in the token's shape (specs/pexip-client-api.md): `stun`
 * [{url}] and `turn` [{urls, username, credential}], which the SDK turns into its
 * RTCPeerConnection's iceServers. Only here: in a `calls` answer the SDK would
 * restart ICE to add them. Absent when none are configured. */
static void add_ice_servers(json_t *token, const struct tsr_conference_registry *reg)
{
    size_t n = 0;
    const struct tsr_ice_server *s = tsr_conference_registry_ice_servers(reg, &n);
    json_t *stun = json_array(), *turn = json_array();
    for (size_t i = 0; i < n; i++) {
        if (s[i].turn)
            json_array_append_new(turn, json_pack("{s:[s], s:s, s:s}", "urls", s[i].url, "username",
                                                  s[i].username, "credential", s[i].credential));
        else
            json_array_append_new(stun, json_pack("{s:s}", "url", s[i].url));
    }
    if (json_array_size(stun))
        json_object_set(token, "stun", stun);
    if (json_array_size(turn))
        json_object_set(token, "turn", turn);
    json_decref(stun);
    json_decref(turn);
}

static void handle_request_token(struct tsr_front_req *r)
{
    if (!tsr_pex_read_body(r))
        return;
    bool bad = false;
    const char *name = tsr_front_json_str(r->body, "display_name", &bad);
    if (bad || !name) {
        tsr_front_req_fail(r, 400, "bad_request", "Body needs \"display_name\" (string)");
        return;
    }
    SoupMessageHeaders *h = soup_server_message_get_request_headers(r->msg);
    const char *pin = soup_message_headers_get_one(h, "pin");
    char *from = tsr_http_client_address(r->msg);
    struct tsr_front_session *session =
        tsr_front_session_new(&tsr_pexip_front_desc, TSR_PARTICIPANT_LEASE);
    struct tsr_conference_join_request jr = {
        .alias = r->seg[0],
        .display_name = name,
        /* "none" is how the SDK sends a blank PIN: join without one. */
        .pin = pin && g_ascii_strcasecmp(pin, "none") != 0 ? pin : "",
        .client_address = from,
        /* the app calls (participants/…/calls) right after: a server at capacity
         * says so now, before the participant is listed */
        .media_expected = true,
        .holder = tsr_front_session_holder(session),
    };
    struct tsr_participant *p = NULL;
    char *err = NULL;
    enum tsr_conference_refusal why = TSR_CONFERENCE_REFUSAL_NONE;
    int rc = tsr_conference_join_roster(api_of(r)->reg, &jr, &p, &why, &err);
    g_free(from);
    tsr_front_session_unref(session); /* the core holds it while p is in */
    if (rc != 0) {
        reply_refusal(r, why, pin != NULL, err);
        g_free(err);
        return;
    }
    struct tsr_conference *c = tsr_participant_conference(p);
    char *expires = g_strdup_printf("%" G_GINT64_FORMAT, tsr_participant_expires_in_s(p));
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:b, s:b, s:b}",
                          "token", tsr_participant_token(p), "expires", expires, "participant_uuid",
                          tsr_participant_id(p), "display_name", tsr_participant_display_name(p),
                          "role", tsr_pex_role_word(p), "current_service_type", "conference",
                          "service_type", "conference", "conference_name", tsr_conference_name(c),
                          "version", version_json(), "call_type", "video", "chat_enabled", 1,
                          "guests_can_present", 1, "direct_media", 0);
    g_free(expires);
    add_ice_servers(o, api_of(r)->reg);
    tsr_pex_reply(r, 200, o);
}

static void handle_refresh_token(struct tsr_front_req *r)
{
    struct tsr_participant *p = tsr_pex_actor(r);
    if (!p)
        return;
    /* A new token each time, as Pexip Infinity does; the old one lapses at its own
     * expiry (requests in flight with it still work). */
    int64_t ttl = tsr_participant_refresh(p, tsr_front_req_token(r, false));
    if (ttl < 0) {
        tsr_front_req_fail(r, 403, "bad_token", "Invalid token");
        return;
    }
    char *expires = g_strdup_printf("%" G_GINT64_FORMAT, ttl);
    tsr_pex_reply(r, 200,
                  json_pack("{s:s, s:s, s:s}", "token", tsr_participant_token(p), "expires",
                            expires, "role", tsr_pex_role_word(p)));
    g_free(expires);
}

static void handle_release_token(struct tsr_front_req *r)
{
    struct tsr_participant *p = tsr_pex_actor(r);
    if (!p)
        return;
    tsr_participant_leave(p, TSR_LEAVE_REQUESTED);
    tsr_pex_reply(r, 200, json_true());
}

/* --- conference-level actions --------------------------------------------------- */

static const char *layout_from_transforms(struct tsr_front_req *r, bool *bad)
{
    json_t *tr = json_object_get(r->body, "transforms");
    if (!json_is_object(tr)) {
        *bad = true;
        return NULL;
    }
    static const char *const keys[] = {"layout", "host_layout", "guest_layout"};
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        const char *v = tsr_front_json_str(tr, keys[i], bad);
        if (v || *bad)
            return v;
    }
    return NULL;
}

static void handle_transform_layout(struct tsr_front_req *r, struct tsr_participant *a)
{
    bool bad = false;
    const char *layout = layout_from_transforms(r, &bad);
    if (bad) {
        tsr_front_req_fail(r, 400, "bad_request",
                           "Body needs \"transforms\": {\"layout\": \"1:7\"|\"4:0\"|…}");
        return;
    }
    /* Only a host may, and only to a layout we compose: false refuses cleanly. */
    bool ok = !layout ||
              (tsr_conference_layout_valid(layout) && tsr_conference_set_layout(a, layout) == 0);
    tsr_pex_reply(r, 200, json_boolean(ok));
}

/* Host-only actions on every participant (clearallbuzz, muteguests, unmuteguests). */
static bool for_all(struct tsr_participant *a, const char *action)
{
    if (tsr_participant_role(a) != TSR_ROLE_HOST)
        return false;
    size_t n = 0;
    struct tsr_participant *const *list =
        tsr_conference_participants(tsr_participant_conference(a), &n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(action, "clearallbuzz") == 0)
            tsr_participant_set_hand_raised(a, list[i], false);
        else if (tsr_participant_role(list[i]) == TSR_ROLE_GUEST)
            tsr_participant_set_muted(a, list[i], false, strcmp(action, "muteguests") == 0);
    }
    return true;
}

static void handle_conference_post(struct tsr_front_req *r, const char *action)
{
    struct tsr_participant *a = tsr_pex_actor(r);
    if (!a || !tsr_pex_read_body(r))
        return;
    if (strcmp(action, "message") == 0) {
        tsr_pex_send_message(r, a, NULL);
    } else if (strcmp(action, "transform_layout") == 0) {
        handle_transform_layout(r, a);
    } else if (strcmp(action, "lock") == 0 || strcmp(action, "unlock") == 0) {
        bool ok = tsr_conference_set_locked(a, strcmp(action, "lock") == 0) == 0;
        tsr_pex_reply(r, 200, json_boolean(ok));
    } else if (strcmp(action, "disconnect") == 0) {
        /* a is freed by a successful end; answer first from what we know now. */
        bool host = tsr_participant_role(a) == TSR_ROLE_HOST;
        tsr_pex_reply(r, 200, json_boolean(host));
        if (host)
            tsr_conference_end_for_all(a);
    } else if (strcmp(action, "dial") == 0) {
        tsr_pex_handle_dial(r, a);
    } else if (strcmp(action, "clearallbuzz") == 0 || strcmp(action, "muteguests") == 0 ||
               strcmp(action, "unmuteguests") == 0) {
        tsr_pex_reply(r, 200, json_boolean(for_all(a, action)));
    } else {
        /* start_conference, set_guests_can_unmute …: 200-only schemas, so refuse
         * with false rather than an error (spec §3). */
        tsr_pex_reply(r, 200, json_false());
    }
}

static void handle_participants_get(struct tsr_front_req *r)
{
    struct tsr_participant *a = tsr_pex_actor(r);
    if (!a)
        return;
    size_t n = 0;
    struct tsr_participant *const *list =
        tsr_conference_participants(tsr_participant_conference(a), &n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, tsr_pex_participant_json(api_of(r), list[i]));
    json_t *outputs = tsr_pex_output_participants(tsr_participant_conference(a));
    json_array_extend(arr, outputs);
    json_decref(outputs);
    tsr_pex_reply(r, 200, arr);
}

/* --- routing --------------------------------------------------------------------- */

static bool expect_method(struct tsr_front_req *r, const char *m)
{
    if (tsr_front_req_is(r, m))
        return true;
    tsr_front_req_method_not_allowed(r, m);
    return false;
}

static const char *const conference_posts[] = {"request_token",
                                               "refresh_token",
                                               "release_token",
                                               "message",
                                               "transform_layout",
                                               "lock",
                                               "unlock",
                                               "disconnect",
                                               "clearallbuzz",
                                               "muteguests",
                                               "unmuteguests",
                                               "start_conference",
                                               "set_guests_can_unmute",
                                               "dial",
                                               NULL};

static void route_conference(struct tsr_front_req *r)
{
    const char *what = r->seg[1];
    if (r->n_seg >= 4 && strcmp(what, "participants") == 0) {
        tsr_pex_route_participant(r);
    } else if (strcmp(what, "theme") == 0 && r->n_seg <= 3) {
        /* No theme: 204 is what the SDK tolerates without a theme object. */
        if (expect_method(r, "GET"))
            soup_server_message_set_status(r->msg, 204, NULL);
    } else if (r->n_seg != 2) {
        tsr_front_req_fail(r, 404, "not_found", "Not found");
    } else if (strcmp(what, "events") == 0) {
        struct tsr_participant *p = expect_method(r, "GET") ? tsr_pex_actor(r) : NULL;
        if (p)
            tsr_pex_events_open(api_of(r), r->msg, p);
    } else if (strcmp(what, "participants") == 0) {
        if (expect_method(r, "GET"))
            handle_participants_get(r);
    } else if (g_strv_contains(conference_posts, what)) {
        if (!expect_method(r, "POST"))
            return;
        if (strcmp(what, "request_token") == 0)
            handle_request_token(r);
        else if (strcmp(what, "refresh_token") == 0)
            handle_refresh_token(r);
        else if (strcmp(what, "release_token") == 0)
            handle_release_token(r);
        else
            handle_conference_post(r, what);
    } else {
        tsr_front_req_fail(r, 404, "not_found", "Not found");
    }
}

static void handle_pexip(SoupServer *server, SoupServerMessage *msg, const char *path,
                         GHashTable *query, gpointer user)
{
    (void)server;
    struct tsr_front_req r;
    if (!tsr_front_req_begin(&r, &tsr_pexip_front_desc, user, msg, path, query))
        return;
    if (!r.seg || r.n_seg < 2 || !r.seg[0][0] || !r.seg[1][0])
        tsr_front_req_fail(&r, 404, "not_found", "Not found");
    else if (tsr_front_req_alias_ok(&r, r.seg[0]))
        route_conference(&r);
    tsr_front_req_end(&r);
}

static void stage_free(gpointer data)
{
    g_ptr_array_free(data, TRUE);
}

int tsr_pexip_api_new(struct tsr_pexip_api **out, struct tsr_http *http,
                      struct tsr_conference_registry *reg)
{
    struct tsr_pexip_api *api = g_new0(struct tsr_pexip_api, 1);
    api->http = http;
    api->reg = reg;
    api->streams = g_ptr_array_new_with_free_func(tsr_pex_stream_free_cb);
    api->waiting = g_ptr_array_new();
    api->stages = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, stage_free);
    int rc = tsr_conference_registry_subscribe(reg, NULL, tsr_pex_on_event, api, &api->sub_id);
    if (rc != 0) {
        tsr_pexip_api_free(&api);
        return rc;
    }
    soup_server_add_handler(tsr_http_soup_server(http), PREFIX, handle_pexip, api, NULL);
    api->routed = true;
    TSR_LOG(TSR_LOG_INFO, "api", "Pexip client API at " CONF_PREFIX "{alias}/");
    *out = api;
    return 0;
}

void tsr_pexip_api_free(struct tsr_pexip_api **p)
{
    if (!p || !*p)
        return;
    struct tsr_pexip_api *api = *p;
    if (api->routed)
        soup_server_remove_handler(tsr_http_soup_server(api->http), PREFIX);
    if (api->sub_id)
        tsr_conference_registry_unsubscribe(api->reg, api->sub_id);
    g_ptr_array_free(api->streams, TRUE); /* ends every stream */
    tsr_front_wait_shutdown(&api->waiting);
    g_hash_table_destroy(api->stages);
    g_free(api);
    *p = NULL;
}

unsigned tsr_pexip_api_n_streams(const struct tsr_pexip_api *api)
{
    return api->streams->len;
}

static int make(struct tsr_pexip_api **out, const struct tsr_front_env *env)
{
    return tsr_pexip_api_new(out, env->http, env->reg);
}

TSR_FRONT_OPS_DEFINE(tsr_pexip_front, &tsr_pexip_front_desc, struct tsr_pexip_api, make,
                     tsr_pexip_api_free);
