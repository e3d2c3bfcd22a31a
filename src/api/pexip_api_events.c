/* Pexip client API: the `events` server-sent event stream. One registry
 * subscription for the whole API turns conference events into Pexip events
 * (participant_create/update/delete with roster re-syncs, layout, stage,
 * conference_update, message_received, disconnect) and writes them to the
 * streams of that conference. Spec §5. Home thread: the API loop. */
#include "pexip_internal.h"

#include <tessera/log.h>
#include <tessera/metrics.h>

#include <string.h>

/* One open GET …/events response; owned by api->streams until it finishes. */
struct pex_stream {
    struct tsr_pexip_api *api;
    struct tsr_front_stream *out;
    char alias[TSR_CONFERENCE_ALIAS_MAX + 1];
    char participant_id[64];
};

const char *tsr_pex_layout_view(const char *layout)
{
    static const char *const map[][2] = {
        {"grid", "ac"},   {"four", "4:0"},  {"single", "1:0"},       {"speaker", "1:7"},
        {"1:21", "1:21"}, {"2:21", "2:21"}, {"presentation", "1:7"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(map); i++)
        if (strcmp(layout, map[i][0]) == 0)
            return map[i][1];
    return "ac";
}

static const char *yes_no(bool b)
{
    return b ? "YES" : "NO";
}

json_t *tsr_pex_object(const struct tsr_pex_fields *f)
{
    char *api_url = g_strdup_printf("/participants/%s", f->uuid);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:b, s:b, s:s}", "uuid",
        f->uuid, "display_name", f->display_name, "overlay_text", f->display_name, "role",
        f->host ? "chair" : "guest", "service_type", "conference", "protocol", f->protocol,
        "call_direction", f->outgoing ? "out" : "in", "encryption", "On", "has_media",
        f->has_media, "is_audio_only_call", "NO", "is_video_call", yes_no(f->has_media),
        "is_muted", yes_no(f->muted), "is_video_muted", f->video_muted, "is_video_silent", 0,
        "is_presenting", yes_no(f->presenting));
    json_t *rest = json_pack(
        "{s:b, s:b, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:b, s:b,"
        " s:{s:s, s:I}, s:b, s:s, s:s}",
        "is_streaming_conference", f->streaming, "is_external", 0, "external_node_uuid", "",
        "local_alias", f->alias, "uri", f->uri ? f->uri : "", "vendor", "", "mute_supported",
        yes_no(!f->streaming), "disconnect_supported", "YES", "transfer_supported", "NO",
        "fecc_supported", "NO", "presentation_supported", yes_no(!f->streaming), "rx_presentation_policy",
        "ALLOW", "buzz_time", (json_int_t)f->buzz_time, "spotlight", (json_int_t)f->spotlight,
        "start_time", (json_int_t)f->start_time, "supports_direct_chat", !f->streaming,
        "can_receive_personal_mix", 0, "receive_from_video_mix", "mix_name", "main",
        "timestamp", (json_int_t)0, "is_client_muted", 0, "api_url", api_url, "call_tag", "");
    json_object_update(o, rest);
    json_decref(rest);
    g_free(api_url);
    return o;
}

json_t *tsr_pex_participant_json(struct tsr_pexip_api *api, const struct tsr_participant *p)
{
    (void)api;
    bool media = tsr_participant_has_media(p);
    struct tsr_pex_fields f = {
        .uuid = tsr_participant_id(p),
        .display_name = tsr_participant_display_name(p),
        .alias = tsr_conference_alias(tsr_participant_conference(p)),
        .protocol = media ? "webrtc" : "api",
        .host = tsr_participant_role(p) == TSR_ROLE_HOST,
        .has_media = media,
        .muted = tsr_participant_muted(p),
        .video_muted = tsr_participant_video_muted(p),
        .buzz_time = tsr_participant_hand_raised_at_s(p),
        .presenting = tsr_participant_presenting(p),
        .start_time = tsr_participant_joined_at_s(p),
        .spotlight = tsr_participant_spotlight_s(p),
    };
    return tsr_pex_object(&f);
}

/* --- writing ------------------------------------------------------------------- */

/* `data` NULL is sent as `data: null`: an empty data line would be dropped by the SDK. */
static void stream_send(struct pex_stream *s, const char *name, json_t *data)
{
    tsr_front_stream_send(s->out, name, data);
}

static void stream_end(struct pex_stream *s)
{
    tsr_front_stream_end(s->out);
}

/* Calls fn for every open stream of `alias`. */
#define FOR_STREAMS(api, alias_, s)                                                                \
    for (guint i_ = 0; i_ < (api)->streams->len; i_++)                                             \
        for (struct pex_stream *s = (api)->streams->pdata[i_]; s; s = NULL)                        \
            if (!tsr_front_stream_ended(s->out) && strcmp(s->alias, (alias_)) == 0)

/* --- roster, layout, stage ----------------------------------------------------- */

static void send_sync(struct tsr_pexip_api *api, struct pex_stream *s, struct tsr_conference *c)
{
    size_t n = 0;
    struct tsr_participant *const *list = tsr_conference_participants(c, &n);
    stream_send(s, "participant_sync_begin", NULL);
    for (size_t i = 0; i < n; i++) {
        json_t *o = tsr_pex_participant_json(api, list[i]);
        stream_send(s, "participant_create", o);
        json_decref(o);
    }
    json_t *outputs = tsr_pex_output_participants(c), *o;
    size_t i;
    json_array_foreach(outputs, i, o)
        stream_send(s, "participant_create", o);
    json_decref(outputs);
    stream_send(s, "participant_sync_end", NULL);
}

static json_t *layout_json(struct tsr_conference *c)
{
    const char *view = tsr_pex_layout_view(tsr_conference_layout(c));
    json_t *ids = json_array();
    size_t n = 0;
    /* The order the mixer gives the layout: pinned participants first (earliest pin
     * first), then the others in join order. */
    struct tsr_participant *pins[16];
    size_t n_pins = MIN(tsr_conference_spotlight(c, pins, G_N_ELEMENTS(pins)), G_N_ELEMENTS(pins));
    for (size_t i = 0; i < n_pins; i++)
        if (tsr_participant_has_media(pins[i]))
            json_array_append_new(ids, json_string(tsr_participant_id(pins[i])));
    struct tsr_participant *const *list = tsr_conference_participants(c, &n);
    for (size_t i = 0; i < n; i++)
        if (tsr_participant_has_media(list[i]) && tsr_participant_spotlight_s(list[i]) == 0)
            json_array_append_new(ids, json_string(tsr_participant_id(list[i])));
    return json_pack("{s:s, s:o, s:{s:{s:s, s:s}}, s:b}", "view", view, "participants", ids,
                     "requested_layout", "primary_screen", "chair_layout", view, "guest_layout",
                     view, "overlay_text_enabled", 1);
}

static GPtrArray *stage_of(struct tsr_pexip_api *api, const char *alias)
{
    GPtrArray *st = g_hash_table_lookup(api->stages, alias);
    if (!st) {
        st = g_ptr_array_new_with_free_func(g_free);
        g_hash_table_insert(api->stages, g_strdup(alias), st);
    }
    return st;
}

/* Moves the current talkers to the front of the stage order (loudest first) and
 * builds the `stage` array: everyone, by recent speech, vad 100 while talking. */
static json_t *stage_update(struct tsr_pexip_api *api, struct tsr_conference *c, json_t *talkers)
{
    GPtrArray *st = stage_of(api, tsr_conference_alias(c));
    for (size_t k = json_array_size(talkers); k-- > 0;) {
        const char *id = json_string_value(json_array_get(talkers, k));
        for (guint i = 0; id && i < st->len; i++)
            if (strcmp(st->pdata[i], id) == 0)
                g_ptr_array_remove_index(st, i);
        if (id)
            g_ptr_array_insert(st, 0, g_strdup(id));
    }
    json_t *arr = json_array();
    size_t n = 0;
    struct tsr_participant *const *list = tsr_conference_participants(c, &n);
    GPtrArray *order = g_ptr_array_new();
    for (guint i = 0; i < st->len; i++)
        if (tsr_conference_registry_find_participant(api->reg, st->pdata[i]))
            g_ptr_array_add(order, st->pdata[i]);
    for (size_t i = 0; i < n; i++)
        if (!g_ptr_array_find_with_equal_func(order, tsr_participant_id(list[i]), g_str_equal,
                                              NULL))
            g_ptr_array_add(order, (gpointer)tsr_participant_id(list[i]));
    for (guint i = 0; i < order->len; i++) {
        bool talking = false;
        for (size_t k = 0; k < json_array_size(talkers); k++)
            talking |=
                g_strcmp0(json_string_value(json_array_get(talkers, k)), order->pdata[i]) == 0;
        json_array_append_new(
            arr, json_pack("{s:s, s:I, s:I}", "participant_uuid", (const char *)order->pdata[i],
                           "stage_index", (json_int_t)i, "vad", (json_int_t)(talking ? 100 : 0)));
    }
    g_ptr_array_free(order, TRUE);
    return arr;
}

/* --- event translation ------------------------------------------------------------- */

static const char *disconnect_reason(const char *leave_reason)
{
    if (g_strcmp0(leave_reason, "kicked") == 0)
        return "Disconnected by another participant";
    if (g_strcmp0(leave_reason, "conference_ended") == 0)
        return "Conference terminated by another participant";
    if (g_strcmp0(leave_reason, "media_failed") == 0)
        return "Ice failure";
    if (g_strcmp0(leave_reason, "token_expired") == 0)
        return "Invalid token";
    return "Disconnected";
}

static void on_left(struct tsr_pexip_api *api, const struct tsr_conference_event *ev,
                    struct tsr_conference *c)
{
    const char *id = ev->participant_id;
    const char *reason = json_string_value(json_object_get(ev->data, "reason"));
    GPtrArray *st = g_hash_table_lookup(api->stages, ev->alias);
    for (guint i = st ? st->len : 0; i-- > 0;)
        if (strcmp(st->pdata[i], id) == 0)
            g_ptr_array_remove_index(st, i);
    json_t *del = json_pack("{s:s}", "uuid", id);
    FOR_STREAMS(api, ev->alias, s)
    {
        if (strcmp(s->participant_id, id) == 0) {
            json_t *d = json_pack("{s:s}", "reason", disconnect_reason(reason));
            if (g_strcmp0(reason, "left") != 0)
                stream_send(s, "disconnect", d);
            json_decref(d);
            stream_end(s);
            continue;
        }
        stream_send(s, "participant_delete", del);
        /* 20.x apps that only read onParticipants need a whole sync (spec §5). */
        if (c)
            send_sync(api, s, c);
    }
    json_decref(del);
}

static void on_message(struct tsr_pexip_api *api, const struct tsr_conference_event *ev)
{
    const char *to = json_string_value(json_object_get(ev->data, "to"));
    json_t *m = json_pack(
        "{s:O, s:O, s:O, s:O, s:b}", "origin", json_object_get(ev->data, "display_name"), "uuid",
        json_object_get(ev->data, "from"), "type", json_object_get(ev->data, "type"), "payload",
        json_object_get(ev->data, "payload"), "direct", to != NULL);
    FOR_STREAMS(api, ev->alias, s)
    {
        bool from_self = g_strcmp0(s->participant_id, ev->participant_id) == 0;
        if (m && !from_self && (!to || strcmp(to, s->participant_id) == 0))
            stream_send(s, "message_received", m);
    }
    json_decref(m);
}

static void to_all(struct tsr_pexip_api *api, const char *alias, const char *name, json_t *data)
{
    FOR_STREAMS(api, alias, s)
    stream_send(s, name, data);
    json_decref(data);
}

/* Spec §7: presentation_start/stop go to everyone but the presenter (its SDK
 * would read its own start as "stolen"). A takeover tells the old presenter with
 * the new one's presentation_start, so the stop of a takeover is not sent. */
static void on_presentation(struct tsr_pexip_api *api, const struct tsr_conference_event *ev,
                            const struct tsr_participant *p)
{
    const char *presenter = ev->participant_id ? ev->participant_id : "";
    bool start = ev->type == TSR_CONFERENCE_EVENT_PRESENTATION_START;
    const char *reason = json_string_value(json_object_get(ev->data, "reason"));
    if (!start && reason && strcmp(reason, "taken_over") == 0)
        return;
    json_t *data = start && p ? json_pack("{s:s, s:s, s:s}", "presenter_name",
                                          tsr_participant_display_name(p), "presenter_uri", "",
                                          "presenter_uuid", presenter)
                              : json_object();
    FOR_STREAMS(api, ev->alias, s)
    if (strcmp(s->participant_id, presenter) != 0)
        stream_send(s, start ? "presentation_start" : "presentation_stop", data);
    json_decref(data);
}

/* A recording or stream is a streaming participant: created when it starts,
 * updated while it runs, deleted when it ends. */
static void on_output(struct tsr_pexip_api *api, const struct tsr_conference_event *ev)
{
    const char *state = json_string_value(json_object_get(ev->data, "state"));
    const char *id = json_string_value(json_object_get(ev->data, "id"));
    if (!state || !id)
        return;
    if (!json_is_true(json_object_get(ev->data, "active"))) {
        to_all(api, ev->alias, "participant_delete", json_pack("{s:s}", "uuid", id));
        return;
    }
    bool rec = ev->type == TSR_CONFERENCE_EVENT_RECORDING;
    json_t *o = tsr_pex_output_json(ev->data, rec, ev->alias);
    if (o)
        to_all(api, ev->alias, strcmp(state, "starting") == 0 ? "participant_create"
                                                             : "participant_update", o);
}

void tsr_pex_on_event(const struct tsr_conference_event *ev, void *user)
{
    struct tsr_pexip_api *api = user;
    struct tsr_conference *c = tsr_conference_registry_find(api->reg, ev->alias);
    struct tsr_participant *p =
        ev->participant_id ? tsr_conference_registry_find_participant(api->reg, ev->participant_id)
                           : NULL;
    switch (ev->type) {
    case TSR_CONFERENCE_EVENT_PARTICIPANT_JOINED:
        if (!p || !c)
            break;
        to_all(api, ev->alias, "participant_create", tsr_pex_participant_json(api, p));
        FOR_STREAMS(api, ev->alias, s)
        send_sync(api, s, c);
        break;
    case TSR_CONFERENCE_EVENT_PARTICIPANT_UPDATED:
        if (p)
            to_all(api, ev->alias, "participant_update", tsr_pex_participant_json(api, p));
        if (c) /* has_media changes who is on the canvas */
            to_all(api, ev->alias, "layout", layout_json(c));
        break;
    case TSR_CONFERENCE_EVENT_PARTICIPANT_LEFT:
        on_left(api, ev, c);
        break;
    case TSR_CONFERENCE_EVENT_LAYOUT:
        if (c)
            to_all(api, ev->alias, "layout", layout_json(c));
        break;
    case TSR_CONFERENCE_EVENT_CONFERENCE_UPDATED:
        if (c)
            to_all(api, ev->alias, "conference_update",
                   json_pack("{s:b, s:b, s:b}", "locked", tsr_conference_locked(c), "guests_muted",
                             0, "started", 1));
        break;
    case TSR_CONFERENCE_EVENT_TALKERS:
        if (c)
            to_all(api, ev->alias, "stage",
                   stage_update(api, c, json_object_get(ev->data, "talkers")));
        break;
    case TSR_CONFERENCE_EVENT_MESSAGE:
        on_message(api, ev);
        break;
    case TSR_CONFERENCE_EVENT_RECORDING:
    case TSR_CONFERENCE_EVENT_STREAM:
        on_output(api, ev);
        break;
    case TSR_CONFERENCE_EVENT_PRESENTATION_START:
    case TSR_CONFERENCE_EVENT_PRESENTATION_STOP:
        on_presentation(api, ev, p);
        break;
    case TSR_CONFERENCE_EVENT_DIAL: /* the callee shows up as participant_create once in */
        break;
    case TSR_CONFERENCE_EVENT_ENDED:
        FOR_STREAMS(api, ev->alias, s)
        stream_end(s);
        g_hash_table_remove(api->stages, ev->alias);
        break;
    }
}

/* --- stream lifecycle ----------------------------------------------------------------- */

void tsr_pex_stream_free_cb(gpointer data)
{
    struct pex_stream *s = data;
    tsr_front_stream_free(&s->out);
    g_free(s);
}

static void on_closed(struct tsr_front_stream *out, void *user)
{
    struct pex_stream *s = user;
    (void)out;
    g_ptr_array_remove(s->api->streams, s); /* frees */
}

void tsr_pex_events_open(struct tsr_pexip_api *api, SoupServerMessage *msg,
                         struct tsr_participant *p)
{
    struct pex_stream *s = g_new0(struct pex_stream, 1);
    struct tsr_conference *c = tsr_participant_conference(p);
    s->api = api;
    g_strlcpy(s->alias, tsr_conference_alias(c), sizeof s->alias);
    g_strlcpy(s->participant_id, tsr_participant_id(p), sizeof s->participant_id);
    s->out = tsr_front_stream_open(&tsr_pexip_front_desc, msg, on_closed, s);
    g_ptr_array_add(api->streams, s);
    tsr_front_stream_set_owner(s->out, s->participant_id);
    send_sync(api, s, c);
    json_t *l = layout_json(c);
    stream_send(s, "layout", l);
    json_decref(l);
}
