/* inLive Hub API v1 (/v1): routing, the response envelope, rooms and their quotas,
 * room metadata, housekeeping. Clients, negotiation and event streams are in
 * inlive_clients.c; who may act on a client or a room in inlive_auth.c.
 * Spec: shared/specs/inlive-hub-api.md. Home thread: the API loop. */
#include "inlive_internal.h"

#include <tessera/config.h>
#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <stdio.h>
#include <string.h>

#define PREFIX "/v1"

/* --- envelope ------------------------------------------------------------------ */

void tsr_inlive_reply(SoupServerMessage *msg, unsigned status, const char *message, json_t *data)
{
    json_t *o = json_pack("{s:I, s:b, s:s, s:o}", "code", (json_int_t)status, "ok",
                          status >= 200 && status < 300, "message", message, "data",
                          data ? data : json_null());
    tsr_http_reply_json(msg, status, o);
}

/* The envelope with the error's word beside it (clients spread the JSON and read
 * code, message and data; one more member is harmless, spec §1). */
static void write_error(SoupServerMessage *msg, const struct tsr_front_error *e)
{
    json_t *o = json_pack("{s:I, s:b, s:s, s:n, s:s}", "code", (json_int_t)e->status, "ok", 0,
                          "message", e->text, "data", "error", e->code);
    tsr_http_reply_json(msg, e->status, o);
}

/* Where inLive differs from the HTTP default: every PIN or room-state refusal is
 * "forbidden", and PIN guessing has no status of its own. */
static const struct tsr_front_refusal refusals[TSR_CONFERENCE_REFUSAL_COUNT] = {
    [TSR_CONFERENCE_REFUSAL_PIN_REQUIRED] = {.status = 403},
    [TSR_CONFERENCE_REFUSAL_WRONG_PIN] = {.status = 403},
    [TSR_CONFERENCE_REFUSAL_FULL] = {.status = 403},
    [TSR_CONFERENCE_REFUSAL_LOCKED] = {.status = 403},
    [TSR_CONFERENCE_REFUSAL_TOO_MANY_ATTEMPTS] = {.status = 400},
};

const struct tsr_front_desc tsr_inlive_front_desc = {
    .name = "inlive",
    .prefix = PREFIX,
    .path_base = PREFIX "/",
    .trim_segments = true, /* an old inlive-room client appended blanks */
    .cors = {.methods = TSR_FRONT_CORS_ALL_METHODS,
             .headers = TSR_FRONT_CORS_ALL_HEADERS,
             .private_network = true},
    .token_sources = 0, /* inLive clients carry no participant token */
    .max_body_bytes = TSR_INLIVE_API_MAX_BODY_BYTES,
    .bad_body_code = "invalid_request_body",
    .bad_body_prefix = "invalid request body: ",
    .write_error = write_error,
    .error_metric = "tessera_inlive_errors_total",
    .error_metric_help = "inLive API requests answered with an error, by cause.",
    .sse = {.content_type = "text/event-stream",
            .keepalive_s = TSR_INLIVE_API_PING_S,
            .keepalive = "event: ping\ndata: {}\n\n",
            /* The hub says "Connection: keep-alive"; EventSource ignores it, and
             * here it kept each ended stream's connection open: libsoup 3.2 never
             * closes a kept-alive connection the client has closed (CLOSE-WAIT,
             * one fd per reconnect), and clients that reused it after the
             * stream's end met a closed socket. Like every other response here,
             * an ended stream closes its connection. */
            .connection_keep_alive = false},
    .refusals = refusals,
};

static struct tsr_inlive_api *api_of(const struct tsr_inlive_req *r)
{
    return r->req.api;
}

json_t *tsr_inlive_bitrates_json(void)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "audio",
                     (json_int_t)48000, "audio_red", (json_int_t)75000, "video", (json_int_t)700000,
                     "video_high", (json_int_t)700000, "video_high_pixels", (json_int_t)259200,
                     "video_mid", (json_int_t)300000, "video_mid_pixels", (json_int_t)64800,
                     "video_low", (json_int_t)90000, "video_low_pixels", (json_int_t)16200,
                     "initial_bandwidth", (json_int_t)1000000);
}

/* --- rooms ---------------------------------------------------------------------- */

static json_t *room_json(const struct tsr_inlive_room *room)
{
    json_t *presets = json_pack("{s:{s:i, s:i}, s:{s:i, s:i}, s:{s:i, s:i}}", "high", "sid", 2,
                                "tid", 2, "mid", "sid", 1, "tid", 1, "low", "sid", 0, "tid", 0);
    json_t *opts = json_pack(
        "{s:o, s:[s, s], s:I, s:I, s:o}", "bitrates", tsr_inlive_bitrates_json(), "codecs",
        "video/VP8", "audio/opus", "pli_interval_ns", (json_int_t)0, "empty_room_timeout_ns",
        (json_int_t)(room->empty_timeout_s * 1000000000), "quality_presets", presets);
    return json_pack("{s:s, s:s, s:o}", "id", room->id, "name", room->name, "options", opts);
}

static void room_free(gpointer data)
{
    struct tsr_inlive_room *room = data;
    g_hash_table_destroy(room->clients);
    room->api->meta_bytes -= room->meta_bytes;
    g_hash_table_destroy(room->meta);
    g_free(room->id);
    g_free(room->name);
    g_free(room);
}

static void client_free_cb(gpointer data)
{
    tsr_inlive_client_free(data);
}

/* Printable, no '/', 1..TSR_INLIVE_ID_MAX bytes: safe in a URL path and in logs. */
static bool id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > TSR_INLIVE_ID_MAX || !g_utf8_validate(id, -1, NULL))
        return false;
    for (const char *s = id; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == '/' || *s == 0x7f)
            return false;
    return true;
}

/* The conference alias of a room: its id when the id is made of alias characters
 * (then it must keep the alias rule, as on every front), else a stable hash of it
 * (two inLive rooms never share a conference by accident). False: the id looks
 * like an alias but breaks the rule. */
static bool room_alias(const char *id, char out[TSR_CONFERENCE_ALIAS_MAX + 1])
{
    bool alias_shaped = strlen(id) <= TSR_CONFERENCE_ALIAS_MAX;
    for (const char *s = id; alias_shaped && *s; s++)
        alias_shaped = tsr_conference_alias_char(*s);
    if (alias_shaped) {
        g_strlcpy(out, id, TSR_CONFERENCE_ALIAS_MAX + 1);
        return tsr_conference_alias_valid(id);
    }
    char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, id, -1);
    g_snprintf(out, TSR_CONFERENCE_ALIAS_MAX + 1, "inlive-%.24s", sum);
    g_free(sum);
    return true;
}

/* A room is a conference: with ad hoc conferences off, only a conference the
 * operator defined can be one ([conferences] allow_adhoc = false holds for every
 * front); with them on, the room's alias is joinable as any ad hoc alias is. */
static bool room_allowed(struct tsr_inlive_api *api, const char *alias)
{
    return tsr_conference_registry_allow_adhoc(api->reg) ||
           tsr_conference_registry_knows(api->reg, alias);
}

/* A room asking for a longer empty-room timeout than max_empty_timeout_s gets that
 * maximum (its answer's options say so): cut rather than refused, because apps
 * written for inLive do not expect create to fail over it, and the JS SDK reads
 * the effective value back. Counted. */
static int64_t clamp_timeout(const struct tsr_inlive_api *api, int64_t timeout_s)
{
    if (timeout_s <= api->opts.max_empty_timeout_s)
        return timeout_s;
    tsr_counter_inc(tsr_metrics_counter(
        "tessera_inlive_clamped_total", "limit=\"empty_room_timeout\"",
        "inLive requests cut to a limit instead of refused (empty-room timeouts past "
        "[inlive] max_empty_room_timeout_s)."));
    return api->opts.max_empty_timeout_s;
}

/* Reads {id?, name?, options?{empty_room_timeout_ns?}}; replies on failure. */
static bool parse_create(struct tsr_inlive_req *r, const char **id, const char **name,
                         int64_t *timeout_s)
{
    json_t *body = r->req.body, *opts = json_object_get(body, "options");
    json_int_t ns = 0;
    bool bad = opts && !json_is_null(opts) && !json_is_object(opts);
    *id = tsr_front_json_str(body, "id", &bad);
    *name = tsr_front_json_str(body, "name", &bad);
    bad = bad || !tsr_front_json_int(opts, "empty_room_timeout_ns", 0, INT64_MAX, &ns);
    *id = *id ? *id : "";
    *name = *name ? *name : "";
    bad = bad || (**id && !id_ok(*id)) || strlen(*name) > TSR_CONFERENCE_NAME_MAX ||
          !g_utf8_validate(*name, -1, NULL) ||
          (**name && !tsr_conference_display_name_valid(*name));
    if (bad) {
        tsr_front_req_fail(&r->req, 400, "invalid_request_body",
                           "invalid request body: \"id\" and \"name\" must be strings (id: 1-%d "
                           "printable bytes, no '/'), \"options.empty_room_timeout_ns\" a "
                           "non-negative integer",
                           TSR_INLIVE_ID_MAX);
        return false;
    }
    if (ns > 0)
        *timeout_s = clamp_timeout(api_of(r), MAX(1, ns / 1000000000));
    return true;
}

static struct tsr_inlive_room *room_new(struct tsr_inlive_api *api, const char *id,
                                        const char *name, int64_t timeout_s)
{
    struct tsr_inlive_room *room = g_new0(struct tsr_inlive_room, 1);
    room->api = api;
    room->id = g_strdup(id);
    room->name = g_strdup(name);
    room->empty_timeout_s = timeout_s;
    room->empty_since_us = g_get_monotonic_time(); /* the clock starts at creation */
    room->clients = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, client_free_cb);
    room->meta = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return room;
}

static void handle_create(struct tsr_inlive_req *r)
{
    struct tsr_inlive_api *api = api_of(r);
    const char *id = NULL, *name = NULL;
    int64_t timeout_s = api->opts.empty_room_timeout_s;
    char gen[17], alias[TSR_CONFERENCE_ALIAS_MAX + 1];
    if (!tsr_front_req_body(&r->req, TSR_FRONT_BODY_EMPTY_OK | TSR_FRONT_BODY_ANY) ||
        !parse_create(r, &id, &name, &timeout_s))
        return;
    if (!*id) {
        do
            tsr_inlive_random_id(gen, 16);
        while (g_hash_table_contains(api->rooms, gen));
        id = gen;
    } else if (g_hash_table_contains(api->rooms, id)) {
        tsr_front_req_fail(&r->req, 409, "room_exists", "room already exists");
        return;
    }
    if (g_hash_table_size(api->rooms) >= (guint)api->opts.max_rooms) {
        tsr_front_req_fail(&r->req, 503, "too_many_rooms",
                           "the server holds its most rooms (%" G_GINT64_FORMAT
                           "); end one or wait for an empty one to time out",
                           api->opts.max_rooms);
        return;
    }
    if (!room_alias(id, alias) && !tsr_front_req_alias_ok(&r->req, alias))
        return;
    if (!room_allowed(api, alias)) {
        tsr_front_req_fail(&r->req, 403, "adhoc_disabled",
                           "ad hoc conferences are off on this server: a room's id must name a "
                           "conference from its conferences file");
        return;
    }
    struct tsr_inlive_room *room = room_new(api, id, name, timeout_s);
    char secret[TSR_INLIVE_CREDENTIAL_CHARS + 1];
    tsr_inlive_room_credential_init(room, r, secret);
    g_strlcpy(room->alias, alias, sizeof room->alias);
    g_hash_table_insert(api->rooms, room->id, room);
    TSR_LOG(TSR_LOG_INFO, "inlive", "room %s created (conference %s%s)", room->id, room->alias,
            room->has_owner ? ", owned by its Bearer token" : "");
    json_t *data = room_json(room); /* GET never shows the secret: only its creator gets it */
    json_object_set_new(data, "room_secret", json_string(secret));
    tsr_inlive_reply(r->req.msg, 201, "room created", data);
}

/* Every client gets `left`; the room is gone afterwards. */
static void room_end(struct tsr_inlive_room *room, const char *reason)
{
    GList *clients = g_hash_table_get_values(room->clients);
    for (GList *l = clients; l; l = l->next)
        tsr_inlive_client_remove(l->data, reason);
    g_list_free(clients);
    TSR_LOG(TSR_LOG_INFO, "inlive", "room %s removed (%s)", room->id, reason);
    g_hash_table_remove(room->api->rooms, room->id);
}

/* --- metadata --------------------------------------------------------------------- */

static void broadcast(struct tsr_inlive_room *room, const char *event, json_t *data)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, room->clients);
    while (g_hash_table_iter_next(&it, NULL, &v))
        tsr_inlive_client_send(v, event, json_deep_copy(data));
    json_decref(data);
}

/* Room metadata writes need the room's credential unless [inlive] open_metadata. */
static bool meta_write_allowed(struct tsr_inlive_req *r)
{
    return api_of(r)->opts.open_metadata || tsr_inlive_room_authorised(r);
}

static size_t meta_cost(const char *key, const char *text)
{
    return strlen(key) + strlen(text) + TSR_INLIVE_META_KEY_OVERHEAD_BYTES;
}

static void meta_charge(struct tsr_inlive_room *room, size_t add, size_t remove)
{
    room->meta_bytes = room->meta_bytes + add - remove;
    room->api->meta_bytes = room->api->meta_bytes + add - remove;
}

/* What the room would be charged with every key of body set: texts gets each
 * value's compact JSON, in body's order. */
static size_t meta_charge_after(const struct tsr_inlive_room *room, json_t *body, GPtrArray *texts)
{
    size_t total = room->meta_bytes;
    const char *key;
    json_t *value;
    json_object_foreach(body, key, value)
    {
        char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text) /* out of memory only: a parsed value always dumps */
            text = strdup("null");
        const char *old = g_hash_table_lookup(room->meta, key);
        total = total + meta_cost(key, text) - (old ? meta_cost(key, old) : 0);
        g_ptr_array_add(texts, text);
    }
    return total;
}

/* All keys or none: a body that would take the room past max_meta_bytes changes
 * nothing (413). */
static void handle_setmeta(struct tsr_inlive_req *r)
{
    if (!meta_write_allowed(r) || !tsr_front_req_body(&r->req, TSR_FRONT_BODY_ANY))
        return;
    json_t *body = r->req.body;
    if (!json_is_object(body) || json_object_size(body) == 0) {
        tsr_front_req_fail(&r->req, 400, "invalid_request_body",
                           "invalid request body: a JSON object of one or more keys");
        return;
    }
    struct tsr_inlive_room *room = r->room;
    GPtrArray *texts = g_ptr_array_new_with_free_func(free); /* jansson's malloc */
    size_t total = meta_charge_after(room, body, texts);
    if (total > (size_t)api_of(r)->opts.max_meta_bytes) {
        tsr_front_req_fail(&r->req, 413, "metadata_too_large",
                           "a room holds at most %" G_GINT64_FORMAT
                           " bytes of metadata (keys, values as compact JSON, %d per key); "
                           "this would make it %zu",
                           api_of(r)->opts.max_meta_bytes, TSR_INLIVE_META_KEY_OVERHEAD_BYTES,
                           total);
        g_ptr_array_free(texts, TRUE);
        return;
    }
    const char *key;
    json_t *value;
    guint i = 0;
    json_object_foreach(body, key, value)
    {
        const char *text = texts->pdata[i++], *old = g_hash_table_lookup(room->meta, key);
        meta_charge(room, meta_cost(key, text), old ? meta_cost(key, old) : 0);
        g_hash_table_replace(room->meta, g_strdup(key), g_strdup(text));
        broadcast(room, "meta_changed", json_pack("{s:O}", key, value));
    }
    g_ptr_array_free(texts, TRUE);
    tsr_inlive_reply(r->req.msg, 200, "meta updated", NULL);
}

static void handle_meta_key(struct tsr_inlive_req *r, bool del, const char *key)
{
    if (del && !meta_write_allowed(r))
        return;
    struct tsr_inlive_room *room = r->room;
    const char *text = g_hash_table_lookup(room->meta, key);
    if (!text) {
        tsr_front_req_fail(&r->req, 404, "meta_not_found", "meta: metadata not found");
        return;
    }
    if (!del) { /* our own compact dump: it parses */
        json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
        tsr_inlive_reply(r->req.msg, 200, "ok", json_pack("{s:o}", key, v ? v : json_null()));
        return;
    }
    meta_charge(room, 0, meta_cost(key, text));
    g_hash_table_remove(room->meta, key);
    broadcast(room, "meta_changed", json_pack("{s:n}", key));
    tsr_inlive_reply(r->req.msg, 200, "meta deleted", NULL);
}

/* --- routing -------------------------------------------------------------------- */

/* One route: /rooms/{id}/<action>[/{arg}] with the allowed methods. */
struct route {
    const char *action;
    const char *methods; /* space separated */
    bool client;         /* arg is a client id */
    bool has_arg;
};

static const struct route room_routes[] = {
    {"register", "POST", false, false},
    {"client", "GET", true, true},
    {"setname", "PUT", true, true},
    {"isallownegotiate", "POST", true, true},
    {"negotiate", "PUT", true, true},
    {"candidate", "POST", true, true},
    {"events", "GET", true, true},
    {"settracksources", "PUT", true, true},
    {"subscribetracks", "POST", true, true},
    {"leave", "DELETE POST", true, true},
    {"end", "PUT", false, false},
    {"setmeta", "POST", false, false},
    {"getmeta", "GET", false, true},
    {"deletemeta", "DELETE", false, true},
};

static const struct route *find_route(const char *action, bool has_arg)
{
    for (size_t i = 0; i < G_N_ELEMENTS(room_routes); i++)
        if (strcmp(room_routes[i].action, action) == 0 && room_routes[i].has_arg == has_arg)
            return &room_routes[i];
    return NULL;
}

/* Answers 405 unless the request's method is one of `methods` (space separated). */
static bool method_allowed(struct tsr_inlive_req *r, const char *methods)
{
    gchar **ms = g_strsplit(methods, " ", -1);
    bool ok = g_strv_contains((const gchar *const *)ms, r->req.method);
    g_strfreev(ms);
    if (!ok) {
        g_autofree char *allowed = g_strdelimit(g_strdup(methods), " ", ',');
        tsr_front_req_method_not_allowed(&r->req, allowed);
    }
    return ok;
}

static void dispatch_room_route(struct tsr_inlive_req *r, const struct route *rt, const char *arg)
{
    if (strcmp(rt->action, "register") == 0)
        tsr_inlive_handle_register(r);
    else if (strcmp(rt->action, "end") == 0) {
        if (!tsr_inlive_room_authorised(r))
            return;
        room_end(r->room, "room ended");
        tsr_inlive_reply(r->req.msg, 200, "room ended", NULL);
    } else if (strcmp(rt->action, "setmeta") == 0)
        handle_setmeta(r);
    else if (!rt->client)
        handle_meta_key(r, strcmp(rt->action, "deletemeta") == 0, arg);
    else
        tsr_inlive_handle_client_action(r, rt->action);
}

/* /rooms/…: seg[1] is the room id. */
static void route_rooms(struct tsr_inlive_req *r)
{
    char **seg = r->req.seg;
    unsigned n = r->req.n_seg;
    if (n == 2 && strcmp(seg[1], "create") == 0 && tsr_front_req_is(&r->req, "POST")) {
        handle_create(r);
        return;
    }
    if (n == 2 && !tsr_front_req_is(&r->req, "HEAD") && !method_allowed(r, "GET"))
        return;
    const struct route *rt = n >= 3 && n <= 4 ? find_route(seg[2], n == 4) : NULL;
    bool channel = n == 4 && strcmp(seg[2], "channel") == 0 && strcmp(seg[3], "create") == 0;
    if (n != 2 && !rt && !channel) {
        tsr_front_req_fail(&r->req, 404, "not_found", "no such route");
        return;
    }
    if (!method_allowed(r, rt ? rt->methods : channel ? "POST" : "GET HEAD"))
        return;
    r->room = g_hash_table_lookup(api_of(r)->rooms, seg[1]);
    if (!r->room) {
        tsr_front_req_fail(&r->req, 404, "room_not_found", "room not found");
        return;
    }
    if (n == 2)
        tsr_inlive_reply(r->req.msg, 200, "ok", room_json(r->room));
    else if (channel) /* data channels are not relayed: accepted, nothing opens */
        tsr_inlive_reply(r->req.msg, 200, "channel accepted", NULL);
    else if (!rt->client || tsr_inlive_client_find(r, seg[3]))
        dispatch_room_route(r, rt, n == 4 ? seg[3] : NULL);
}

static bool seg_is(const struct tsr_inlive_req *r, unsigned n, unsigned i, const char *word)
{
    return r->req.n_seg == n && strcmp(r->req.seg[i], word) == 0;
}

static void handle_v1(SoupServer *server, SoupServerMessage *msg, const char *path,
                      GHashTable *query, gpointer user)
{
    (void)server;
    struct tsr_inlive_req r = {0};
    if (!tsr_front_req_begin(&r.req, &tsr_inlive_front_desc, user, msg, path, query))
        return;
    char **seg = r.req.seg;
    if (!tsr_front_req_segments_ok(&r.req))
        tsr_front_req_fail(&r.req, 404, "not_found", "no such route");
    else if (r.req.n_seg >= 2 && strcmp(seg[0], "rooms") == 0)
        route_rooms(&r);
    else if (seg_is(&r, 4, 0, "room") && strcmp(seg[2], "channel") == 0 &&
             strcmp(seg[3], "create") == 0)
        route_rooms(&r); /* the singular spelling the JS SDK uses */
    else if (seg_is(&r, 2, 0, "keys") && strcmp(seg[1], "accesstoken") == 0) {
        if (method_allowed(&r, "POST"))
            tsr_inlive_handle_accesstoken(&r);
    } else
        tsr_front_req_fail(&r.req, 404, "not_found", "no such route");
    tsr_front_req_end(&r.req);
}

/* --- housekeeping ------------------------------------------------------------------ */

static gboolean tick_cb(gpointer user)
{
    struct tsr_inlive_api *api = user;
    int64_t now = g_get_monotonic_time();
    GList *rooms = g_hash_table_get_values(api->rooms);
    for (GList *l = rooms; l; l = l->next) {
        struct tsr_inlive_room *room = l->data;
        GList *clients = g_hash_table_get_values(room->clients);
        for (GList *c = clients; c; c = c->next)
            tsr_inlive_client_tick(c->data, now);
        g_list_free(clients);
        if (g_hash_table_size(room->clients) == 0 && room->empty_since_us &&
            now - room->empty_since_us >= room->empty_timeout_s * G_USEC_PER_SEC)
            room_end(room, "empty room timeout");
    }
    g_list_free(rooms);
    return G_SOURCE_CONTINUE;
}

/* Refreshes the inLive gauges just before /metrics renders (API loop). */
static void collect(void *user)
{
    struct tsr_inlive_api *api = user;
    tsr_gauge_set(tsr_metrics_gauge("tessera_inlive_rooms", NULL, "Live inLive API rooms."),
                  (double)g_hash_table_size(api->rooms));
    tsr_gauge_set(
        tsr_metrics_gauge("tessera_inlive_clients", NULL, "Registered inLive API clients."),
        (double)api->n_clients);
    tsr_gauge_set(tsr_metrics_gauge("tessera_inlive_metadata_bytes", NULL,
                                    "Room metadata the inLive API holds, as charged against "
                                    "[inlive] max_room_metadata_bytes."),
                  (double)api->meta_bytes);
}

int tsr_inlive_api_new(struct tsr_inlive_api **out, struct tsr_http *http,
                       struct tsr_conference_registry *reg, const struct tsr_inlive_api_opts *opts)
{
    struct tsr_inlive_api *api = g_new0(struct tsr_inlive_api, 1);
    api->http = http;
    api->reg = reg;
    if (opts)
        api->opts = *opts;
    else
        api->opts.empty_room_timeout_s = 180;
    if (api->opts.tick_ms <= 0)
        api->opts.tick_ms = 250;
    if (api->opts.max_rooms <= 0)
        api->opts.max_rooms = TSR_INLIVE_API_DEFAULT_MAX_ROOMS;
    if (api->opts.max_meta_bytes <= 0)
        api->opts.max_meta_bytes = TSR_INLIVE_API_DEFAULT_MAX_META_BYTES;
    if (api->opts.max_empty_timeout_s <= 0)
        api->opts.max_empty_timeout_s = TSR_INLIVE_API_DEFAULT_MAX_EMPTY_TIMEOUT_S;
    int rc = tsr_inlive_auth_init(api);
    if (rc != 0) {
        g_free(api);
        return rc;
    }
    api->rooms = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, room_free);
    soup_server_add_handler(tsr_http_soup_server(http), PREFIX, handle_v1, api, NULL);
    tsr_metrics_add_collector(collect, api);
    api->tick = g_timeout_source_new((guint)api->opts.tick_ms);
    g_source_set_callback(api->tick, tick_cb, api, NULL);
    g_source_attach(api->tick, g_main_context_get_thread_default());
    TSR_LOG(TSR_LOG_INFO, "api",
            "inLive Hub API at " PREFIX " (empty rooms removed after %" G_GINT64_FORMAT
            " s; at most %" G_GINT64_FORMAT " rooms, %" G_GINT64_FORMAT
            " metadata bytes each, empty-room timeouts up to %" G_GINT64_FORMAT " s; metadata "
            "writes %s)",
            api->opts.empty_room_timeout_s, api->opts.max_rooms, api->opts.max_meta_bytes,
            api->opts.max_empty_timeout_s,
            api->opts.open_metadata ? "open to all" : "need the room's credential");
    *out = api;
    return 0;
}

void tsr_inlive_api_free(struct tsr_inlive_api **p)
{
    if (!p || !*p)
        return;
    struct tsr_inlive_api *api = *p;
    soup_server_remove_handler(tsr_http_soup_server(api->http), PREFIX);
    tsr_metrics_remove_collector(collect, api);
    g_source_destroy(api->tick);
    g_source_unref(api->tick);
    GList *rooms = g_hash_table_get_values(api->rooms);
    for (GList *l = rooms; l; l = l->next)
        room_end(l->data, "server shutting down");
    g_list_free(rooms);
    g_hash_table_destroy(api->rooms);
    g_free(api);
    *p = NULL;
}

size_t tsr_inlive_api_n_rooms(const struct tsr_inlive_api *api)
{
    return g_hash_table_size(api->rooms);
}

size_t tsr_inlive_api_n_clients(const struct tsr_inlive_api *api)
{
    return api->n_clients;
}

size_t tsr_inlive_api_meta_bytes(const struct tsr_inlive_api *api)
{
    return api->meta_bytes;
}

/* The configuration's [conferences] empty_timeout_s is the rooms' default; its
 * [inlive] section holds the quotas. */
static int make(struct tsr_inlive_api **out, const struct tsr_front_env *env)
{
    struct tsr_inlive_api_opts io = {.empty_room_timeout_s = 180};
    if (env->cfg) {
        io.empty_room_timeout_s = env->cfg->empty_timeout_s;
        io.max_rooms = env->cfg->inlive_max_rooms;
        io.max_meta_bytes = env->cfg->inlive_max_room_metadata_bytes;
        io.max_empty_timeout_s = env->cfg->inlive_max_empty_room_timeout_s;
        io.open_metadata = env->cfg->inlive_open_metadata;
    }
    return tsr_inlive_api_new(out, env->http, env->reg, &io);
}

TSR_FRONT_OPS_DEFINE(tsr_inlive_front, &tsr_inlive_front_desc, struct tsr_inlive_api, make,
                     tsr_inlive_api_free);
