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

/* --- envelope, body, auth ---------------------------------------------------- */

void tsr_pex_reply(struct pex_req *r, unsigned status, bool ok, json_t *result)
{
    if (!ok) {
        char labels[32];
        snprintf(labels, sizeof labels, "status=\"%u\"", status);
        tsr_counter_inc(tsr_metrics_counter("tessera_pexip_errors_total", labels,
                                            "Pexip API requests answered with failed, by status."));
    }
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(ok ? "success" : "failed"));
    json_object_set_new(o, "result", result ? result : json_null());
    tsr_http_reply_json(r->msg, status, o); /* exactly "application/json" */
}

void tsr_pex_fail(struct pex_req *r, unsigned status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    TSR_LOG(TSR_LOG_DEBUG, "pexip", "%s %s -> %u: %s", r->method,
            g_uri_get_path(soup_server_message_get_uri(r->msg)), status, text);
    tsr_pex_reply(r, status, false, json_string(text));
    g_free(text);
}

bool tsr_pex_read_body(struct pex_req *r)
{
    SoupMessageBody *body = soup_server_message_get_request_body(r->msg);
    if (body->length == 0) {
        r->body = json_object(); /* body-less POSTs (refresh_token, mute, …) */
        return true;
    }
    char *err = NULL;
    int rc = tsr_http_read_json(r->msg, TSR_PEXIP_API_MAX_BODY_BYTES, &r->body, &err);
    if (rc != 0)
        tsr_pex_fail(r, rc == TSR_ERR_FULL ? 413 : 400, "%s", err);
    g_free(err);
    return rc == 0;
}

static const char *request_token(const struct pex_req *r)
{
    SoupMessageHeaders *h = soup_server_message_get_request_headers(r->msg);
    const char *tok = soup_message_headers_get_one(h, "token");
    if (tok && *tok)
        return tok;
    return r->query ? g_hash_table_lookup(r->query, "token") : NULL;
}

struct tsr_participant *tsr_pex_actor(struct pex_req *r)
{
    struct tsr_participant *p = NULL;
    const char *tok = request_token(r);
    if (!tok || tsr_conference_registry_authenticate_token(r->api->reg, tok, &p) != 0 ||
        strcmp(tsr_conference_alias(tsr_participant_conference(p)), r->seg[0]) != 0) {
        tsr_pex_fail(r, 403, "Invalid token");
        return NULL;
    }
    return p;
}

struct tsr_participant *tsr_pex_target(struct pex_req *r, struct tsr_participant *actor,
                                       const char *uuid)
{
    struct tsr_participant *t = tsr_conference_registry_find_participant(r->api->reg, uuid);
    if (!t || tsr_participant_conference(t) != tsr_participant_conference(actor)) {
        tsr_pex_fail(r, 404, "No participant %s in this conference", uuid);
        return NULL;
    }
    return t;
}

const char *tsr_pex_role_word(const struct tsr_participant *p)
{
    return tsr_participant_role(p) == TSR_ROLE_HOST ? "HOST" : "GUEST";
}

/* CORS for pages on other origins: the origin is echoed (not "*") because
 * sendBeacon sends credentials (spec §1). */
static void cors(SoupServerMessage *msg)
{
    SoupMessageHeaders *req = soup_server_message_get_request_headers(msg);
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    const char *origin = soup_message_headers_get_one(req, "Origin");
    soup_message_headers_replace(h, "Access-Control-Allow-Origin", origin ? origin : "*");
    if (origin)
        soup_message_headers_replace(h, "Access-Control-Allow-Credentials", "true");
    soup_message_headers_replace(h, "Vary", "Origin");
    soup_message_headers_replace(h, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    soup_message_headers_replace(h, "Access-Control-Allow-Headers", "content-type, token, pin");
    soup_message_headers_replace(h, "Access-Control-Max-Age", "600");
}

/* --- tokens -------------------------------------------------------------------- */

static json_t *version_json(void)
{
    return json_pack("{s:s, s:s}", "version_id", PEX_VERSION_ID, "pseudo_version", TSR_VERSION);
}

/* The join refusal as Pexip says it (spec §3.1/§3.2). has_pin: a pin header came. */
static void reply_refusal(struct pex_req *r, enum tsr_conference_refusal why, bool has_pin,
                          const char *text)
{
    switch (why) {
    case TSR_CONFERENCE_REFUSAL_NO_SUCH_CONFERENCE:
        tsr_pex_fail(r, 404, "Neither conference nor gateway found");
        return;
    case TSR_CONFERENCE_REFUSAL_PIN_REQUIRED:
        if (!has_pin) {
            /* Our PIN model has no PIN-less guests: a PIN is always required. */
            tsr_pex_reply(r, 403, true,
                          json_pack("{s:s, s:s, s:o}", "pin", "required", "guest_pin",
                                    "required", "version", version_json()));
            return;
        }
        tsr_pex_reply(r, 403, true, json_string("Invalid PIN")); /* "pin: none" */
        return;
    case TSR_CONFERENCE_REFUSAL_WRONG_PIN:
        tsr_pex_reply(r, 403, true, json_string("Invalid PIN"));
        return;
    case TSR_CONFERENCE_REFUSAL_TOO_MANY_ATTEMPTS:
        tsr_pex_fail(r, 403, "Participant exceeded PIN entry retries");
        return;
    case TSR_CONFERENCE_REFUSAL_FULL:
        tsr_pex_fail(r, 403, "Participant limit reached");
        return;
    case TSR_CONFERENCE_REFUSAL_CAPACITY:
        tsr_pex_fail(r, 403, TSR_PEX_OUT_OF_RESOURCE);
        return;
    case TSR_CONFERENCE_REFUSAL_LOCKED:
        tsr_pex_fail(r, 403, "Conference is locked");
        return;
    default:
        tsr_pex_fail(r, 400, "%s", text ? text : "Bad request");
        return;
    }
}

static const char *body_str(struct pex_req *r, const char *key, bool *bad)
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

static void handle_request_token(struct pex_req *r)
{
    if (!tsr_pex_read_body(r))
        return;
    bool bad = false;
    const char *name = body_str(r, "display_name", &bad);
    if (bad || !name) {
        tsr_pex_fail(r, 400, "Body needs \"display_name\" (string)");
        return;
    }
    SoupMessageHeaders *h = soup_server_message_get_request_headers(r->msg);
    const char *pin = soup_message_headers_get_one(h, "pin");
    struct tsr_conference_join_request jr = {
        .alias = r->seg[0],
        .display_name = name,
        /* "none" is how the SDK sends a blank PIN: join without one. */
        .pin = pin && g_ascii_strcasecmp(pin, "none") != 0 ? pin : "",
        /* the app calls (participants/…/calls) right after: a server at capacity
         * says so now, before the participant is listed */
        .media_expected = true,
    };
    struct tsr_participant *p = NULL;
    char *err = NULL;
    enum tsr_conference_refusal why = TSR_CONFERENCE_REFUSAL_NONE;
    if (tsr_conference_join(r->api->reg, &jr, &p, NULL, &why, &err) != 0) {
        reply_refusal(r, why, pin != NULL, err);
        g_free(err);
        return;
    }
    struct tsr_conference *c = tsr_participant_conference(p);
    char *expires = g_strdup_printf("%" G_GINT64_FORMAT, tsr_participant_refresh(p));
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:s, s:b, s:b, s:b}", "token",
        tsr_participant_token(p), "expires", expires, "participant_uuid", tsr_participant_id(p),
        "display_name", tsr_participant_display_name(p), "role", tsr_pex_role_word(p),
        "current_service_type", "conference", "service_type", "conference", "conference_name",
        tsr_conference_name(c), "version", version_json(), "call_type", "video", "chat_enabled",
        1, "guests_can_present", 0, "direct_media", 0);
    g_free(expires);
    tsr_pex_reply(r, 200, true, o);
}

static void handle_refresh_token(struct pex_req *r)
{
    struct tsr_participant *p = tsr_pex_actor(r);
    if (!p)
        return;
    /* One token per participant: refreshing extends it (the old one is the new one,
     * which also keeps an EventSource reconnecting with the old URL valid). */
    char *expires = g_strdup_printf("%" G_GINT64_FORMAT, tsr_participant_refresh(p));
    tsr_pex_reply(r, 200, true,
                  json_pack("{s:s, s:s, s:s}", "token", tsr_participant_token(p), "expires",
                            expires, "role", tsr_pex_role_word(p)));
    g_free(expires);
}

static void handle_release_token(struct pex_req *r)
{
    struct tsr_participant *p = tsr_pex_actor(r);
    if (!p)
        return;
    tsr_participant_leave(p, TSR_LEAVE_REQUESTED);
    tsr_pex_reply(r, 200, true, json_true());
}

/* --- conference-level actions --------------------------------------------------- */

static const char *layout_from_transforms(struct pex_req *r, bool *bad)
{
    json_t *tr = json_object_get(r->body, "transforms");
    if (!json_is_object(tr)) {
        *bad = true;
        return NULL;
    }
    static const char *const keys[] = {"layout", "host_layout", "guest_layout"};
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        json_t *v = json_object_get(tr, keys[i]);
        if (v && !json_is_string(v)) {
            *bad = true;
            return NULL;
        }
        if (v)
            return json_string_value(v);
    }
    return NULL;
}

static void handle_transform_layout(struct pex_req *r, struct tsr_participant *a)
{
    bool bad = false;
    const char *layout = layout_from_transforms(r, &bad);
    if (bad) {
        tsr_pex_fail(r, 400, "Body needs \"transforms\": {\"layout\": \"1:7\"|\"4:0\"|…}");
        return;
    }
    /* Only a host may, and only to a layout we compose: false refuses cleanly. */
    bool ok = !layout || (tsr_conference_layout_valid(layout) &&
                          tsr_conference_set_layout(a, layout) == 0);
    tsr_pex_reply(r, 200, true, json_boolean(ok));
}

static void handle_message(struct pex_req *r, struct tsr_participant *a,
                           struct tsr_participant *target)
{
    bool bad = false;
    const char *type = body_str(r, "type", &bad);
    const char *payload = body_str(r, "payload", &bad);
    if (bad || !type || !payload) {
        tsr_pex_fail(r, 400, "Body needs \"type\" and \"payload\" (strings)");
        return;
    }
    int rc = tsr_conference_send_message(a, target, type, payload);
    if (rc == TSR_ERR_INVALID) {
        tsr_pex_fail(r, 400, "type must be a MIME type and payload at most %d bytes of UTF-8",
                     TSR_CONFERENCE_MESSAGE_MAX);
        return;
    }
    tsr_pex_reply(r, 200, true, json_boolean(rc == 0));
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

static void handle_conference_post(struct pex_req *r, const char *action)
{
    struct tsr_participant *a = tsr_pex_actor(r);
    if (!a || !tsr_pex_read_body(r))
        return;
    if (strcmp(action, "message") == 0) {
        handle_message(r, a, NULL);
    } else if (strcmp(action, "transform_layout") == 0) {
        handle_transform_layout(r, a);
    } else if (strcmp(action, "lock") == 0 || strcmp(action, "unlock") == 0) {
        bool ok = tsr_conference_set_locked(a, strcmp(action, "lock") == 0) == 0;
        tsr_pex_reply(r, 200, true, json_boolean(ok));
    } else if (strcmp(action, "disconnect") == 0) {
        /* a is freed by a successful end; answer first from what we know now. */
        bool host = tsr_participant_role(a) == TSR_ROLE_HOST;
        tsr_pex_reply(r, 200, true, json_boolean(host));
        if (host)
            tsr_conference_end_for_all(a);
    } else if (strcmp(action, "dial") == 0) {
        tsr_pex_handle_dial(r, a);
    } else if (strcmp(action, "clearallbuzz") == 0 || strcmp(action, "muteguests") == 0 ||
               strcmp(action, "unmuteguests") == 0) {
        tsr_pex_reply(r, 200, true, json_boolean(for_all(a, action)));
    } else {
        /* start_conference, set_guests_can_unmute …: 200-only schemas, so refuse
         * with false rather than an error (spec §3). */
        tsr_pex_reply(r, 200, true, json_false());
    }
}

static void handle_participants_get(struct pex_req *r)
{
    struct tsr_participant *a = tsr_pex_actor(r);
    if (!a)
        return;
    size_t n = 0;
    struct tsr_participant *const *list =
        tsr_conference_participants(tsr_participant_conference(a), &n);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, tsr_pex_participant_json(r->api, list[i]));
    json_t *outputs = tsr_pex_output_participants(tsr_participant_conference(a));
    json_array_extend(arr, outputs);
    json_decref(outputs);
    tsr_pex_reply(r, 200, true, arr);
}

/* --- routing --------------------------------------------------------------------- */

static bool expect_method(struct pex_req *r, const char *m)
{
    if (strcmp(r->method, m) == 0)
        return true;
    soup_message_headers_replace(soup_server_message_get_response_headers(r->msg), "Allow", m);
    tsr_pex_fail(r, 405, "%s is not allowed here; use %s", r->method, m);
    return false;
}

static const char *const conference_posts[] = {
    "request_token", "refresh_token", "release_token", "message", "transform_layout", "lock",
    "unlock", "disconnect", "clearallbuzz", "muteguests", "unmuteguests", "start_conference",
    "set_guests_can_unmute", "dial", NULL};

static void route_conference(struct pex_req *r)
{
    const char *what = r->seg[1];
    if (r->n_seg >= 4 && strcmp(what, "participants") == 0) {
        tsr_pex_route_participant(r);
    } else if (strcmp(what, "theme") == 0 && r->n_seg <= 3) {
        /* No theme: 204 is what the SDK tolerates without a theme object. */
        if (expect_method(r, "GET"))
            soup_server_message_set_status(r->msg, 204, NULL);
    } else if (r->n_seg != 2) {
        tsr_pex_fail(r, 404, "Not found");
    } else if (strcmp(what, "events") == 0) {
        struct tsr_participant *p = expect_method(r, "GET") ? tsr_pex_actor(r) : NULL;
        if (p)
            tsr_pex_events_open(r->api, r->msg, p);
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
        tsr_pex_fail(r, 404, "Not found");
    }
}

/* Splits and percent-decodes the path after /conferences/. NULL on a bad escape. */
static gchar **split_path(const char *rest, guint *n_out)
{
    gchar **seg = g_strsplit(rest, "/", 8);
    guint n = g_strv_length(seg);
    for (guint i = 0; i < n; i++) {
        char *dec = g_uri_unescape_string(seg[i], "/");
        if (!dec) {
            g_strfreev(seg);
            return NULL;
        }
        g_free(seg[i]);
        seg[i] = dec;
    }
    *n_out = n;
    return seg;
}

static void handle_pexip(SoupServer *server, SoupServerMessage *msg, const char *path,
                         GHashTable *query, gpointer user)
{
    (void)server;
    cors(msg);
    struct pex_req r = {.api = user, .msg = msg, .query = query,
                        .method = soup_server_message_get_method(msg)};
    if (strcmp(r.method, "OPTIONS") == 0) {
        soup_server_message_set_status(msg, 204, NULL);
        return;
    }
    const char *rest = g_str_has_prefix(path, CONF_PREFIX) ? path + strlen(CONF_PREFIX) : NULL;
    if (rest)
        r.seg = split_path(rest, &r.n_seg);
    if (!r.seg || r.n_seg < 2 || !r.seg[0][0] || !r.seg[1][0])
        tsr_pex_fail(&r, 404, "Not found");
    else
        route_conference(&r);
    json_decref(r.body);
    g_strfreev(r.seg);
}

static gboolean keepalive_cb(gpointer user)
{
    tsr_pex_keepalive_all(user);
    return G_SOURCE_CONTINUE;
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
    api->calls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    api->stages = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, stage_free);
    int rc = tsr_conference_registry_subscribe(reg, NULL, tsr_pex_on_event, api, &api->sub_id);
    if (rc != 0) {
        tsr_pexip_api_free(&api);
        return rc;
    }
    soup_server_add_handler(tsr_http_soup_server(http), PREFIX, handle_pexip, api, NULL);
    api->keepalive = g_timeout_source_new_seconds(TSR_PEXIP_API_KEEPALIVE_S);
    g_source_set_callback(api->keepalive, keepalive_cb, api, NULL);
    g_source_attach(api->keepalive, g_main_context_get_thread_default());
    TSR_LOG(TSR_LOG_INFO, "api", "Pexip client API at " CONF_PREFIX "{alias}/");
    *out = api;
    return 0;
}

void tsr_pexip_api_free(struct tsr_pexip_api **p)
{
    if (!p || !*p)
        return;
    struct tsr_pexip_api *api = *p;
    if (api->keepalive) {
        soup_server_remove_handler(tsr_http_soup_server(api->http), PREFIX);
        g_source_destroy(api->keepalive);
        g_source_unref(api->keepalive);
    }
    if (api->sub_id)
        tsr_conference_registry_unsubscribe(api->reg, api->sub_id);
    tsr_pex_close_all(api);
    g_ptr_array_free(api->streams, TRUE);
    g_hash_table_destroy(api->calls);
    g_hash_table_destroy(api->stages);
    g_free(api);
    *p = NULL;
}

unsigned tsr_pexip_api_n_streams(const struct tsr_pexip_api *api)
{
    return api->streams->len;
}
