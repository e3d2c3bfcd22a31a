/* Server-sent events for the native API: one front stream (front_sse.c) per
 * participant, fed from the conference registry's event bus: a snapshot first,
 * then every event of its conference, ending when it leaves or the conference
 * ends. Home thread: the API loop. */
#include "native_internal.h"

#include <tessera/log.h>

#include <string.h>

struct tsr_sse_stream {
    struct tsr_native_api *api;
    struct tsr_front_stream *out;
    uint64_t sub_id;
    char participant_id[64];
};

static void unsubscribe(struct tsr_sse_stream *s)
{
    if (s->sub_id)
        tsr_conference_registry_unsubscribe(s->api->reg, s->sub_id);
    s->sub_id = 0;
}

static void on_event(const struct tsr_conference_event *ev, void *user)
{
    struct tsr_sse_stream *s = user;
    if (ev->type == TSR_CONFERENCE_EVENT_MESSAGE) {
        /* Chat goes to everyone but the sender, a direct message to its target only. */
        const char *to = json_string_value(json_object_get(ev->data, "to"));
        if ((ev->participant_id && strcmp(ev->participant_id, s->participant_id) == 0) ||
            (to && strcmp(to, s->participant_id) != 0))
            return;
    }
    tsr_front_stream_send(s->out, tsr_conference_event_name(ev->type), ev->data);
    bool self_left = ev->type == TSR_CONFERENCE_EVENT_PARTICIPANT_LEFT && ev->participant_id &&
                     strcmp(ev->participant_id, s->participant_id) == 0;
    if (self_left || ev->type == TSR_CONFERENCE_EVENT_ENDED) {
        unsubscribe(s);
        tsr_front_stream_end(s->out); /* the connection then finishes: on_closed frees s */
    }
}

static void on_closed(struct tsr_front_stream *out, void *user)
{
    struct tsr_sse_stream *s = user;
    (void)out;
    TSR_LOG(TSR_LOG_DEBUG, "sse", "stream of %s closed", s->participant_id);
    g_ptr_array_remove(s->api->streams, s); /* frees */
}

void tsr_sse_open(struct tsr_native_api *api, SoupServerMessage *msg, struct tsr_participant *p)
{
    struct tsr_sse_stream *s = g_new0(struct tsr_sse_stream, 1);
    struct tsr_conference *c = tsr_participant_conference(p);
    s->api = api;
    g_strlcpy(s->participant_id, tsr_participant_id(p), sizeof s->participant_id);
    s->out = tsr_front_stream_open(&tsr_native_front_desc, msg, on_closed, s);
    g_ptr_array_add(api->streams, s);
    json_t *snap = tsr_conference_to_json(c, true);
    json_object_set_new(snap, "you", json_string(tsr_participant_id(p)));
    tsr_front_stream_send(s->out, "snapshot", snap);
    json_decref(snap);
    tsr_conference_registry_subscribe(api->reg, tsr_conference_alias(c), on_event, s, &s->sub_id);
}

void tsr_sse_stream_free_cb(gpointer data)
{
    struct tsr_sse_stream *s = data;
    unsubscribe(s);
    tsr_front_stream_free(&s->out);
    g_free(s);
}
