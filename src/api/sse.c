/* Server-sent events for the native API: one chunked text/event-stream response
 * per participant, fed from the conference registry's event bus.
 *
 * libsoup pauses a chunked response when it has written every chunk it has; each
 * new event appends a chunk and unpauses it. The body does not accumulate, so a
 * stream open for hours holds only what is not yet written. */
#include "native_internal.h"

#include <tessera/log.h>
#include <tessera/metrics.h>

#include <string.h>

struct tsr_sse_stream {
    struct tsr_native_api *api;
    SoupServerMessage *msg; /* ref held */
    uint64_t sub_id;
    char participant_id[64];
    bool ended; /* final chunk written; waiting for "finished" */
};

static void stream_write(struct tsr_sse_stream *s, const char *text)
{
    if (s->ended)
        return;
    SoupMessageBody *body = soup_server_message_get_response_body(s->msg);
    soup_message_body_append(body, SOUP_MEMORY_COPY, text, strlen(text));
    soup_server_message_unpause(s->msg);
}

static void stream_send_event(struct tsr_sse_stream *s, const char *name, json_t *data)
{
    char *json = json_dumps(data, JSON_COMPACT);
    /* JSON from json_dumps has no raw newlines, so one data: line is enough. */
    char *text = g_strdup_printf("event: %s\ndata: %s\n\n", name, json ? json : "{}");
    stream_write(s, text);
    g_free(text);
    free(json);
}

/* Writes the last chunk; the connection then finishes and "finished" frees s. */
static void stream_end(struct tsr_sse_stream *s)
{
    if (s->ended)
        return;
    tsr_conference_registry_unsubscribe(s->api->reg, s->sub_id);
    s->sub_id = 0;
    s->ended = true;
    soup_message_body_complete(soup_server_message_get_response_body(s->msg));
    soup_server_message_unpause(s->msg);
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
    stream_send_event(s, tsr_conference_event_name(ev->type), ev->data);
    bool self_left = ev->type == TSR_CONFERENCE_EVENT_PARTICIPANT_LEFT && ev->participant_id &&
                     strcmp(ev->participant_id, s->participant_id) == 0;
    if (self_left || ev->type == TSR_CONFERENCE_EVENT_ENDED)
        stream_end(s);
}

static void stream_free(struct tsr_sse_stream *s)
{
    if (s->sub_id)
        tsr_conference_registry_unsubscribe(s->api->reg, s->sub_id);
    g_signal_handlers_disconnect_by_data(s->msg, s);
    g_object_unref(s->msg);
    g_free(s);
    tsr_gauge_add(tsr_metrics_gauge("tessera_sse_streams", NULL, "Open event streams."), -1);
}

static void on_finished(SoupServerMessage *msg, gpointer user)
{
    struct tsr_sse_stream *s = user;
    (void)msg;
    TSR_LOG(TSR_LOG_DEBUG, "sse", "stream of %s closed", s->participant_id);
    g_ptr_array_remove(s->api->streams, s); /* frees */
}

void tsr_sse_open(struct tsr_native_api *api, SoupServerMessage *msg, struct tsr_participant *p)
{
    struct tsr_sse_stream *s = g_new0(struct tsr_sse_stream, 1);
    struct tsr_conference *c = tsr_participant_conference(p);
    s->api = api;
    s->msg = g_object_ref(msg);
    g_strlcpy(s->participant_id, tsr_participant_id(p), sizeof s->participant_id);
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
    soup_message_headers_replace(h, "Content-Type", "text/event-stream; charset=utf-8");
    soup_message_headers_replace(h, "Cache-Control", "no-cache");
    soup_message_headers_replace(h, "X-Accel-Buffering", "no"); /* nginx: do not buffer */
    soup_message_body_set_accumulate(soup_server_message_get_response_body(msg), FALSE);
    soup_server_message_set_status(msg, 200, NULL);
    g_signal_connect(msg, "finished", G_CALLBACK(on_finished), s);
    g_ptr_array_add(api->streams, s);
    tsr_gauge_add(tsr_metrics_gauge("tessera_sse_streams", NULL, "Open event streams."), 1);

    stream_write(s, "retry: 3000\n\n");
    json_t *snap = tsr_conference_to_json(c, true);
    json_object_set_new(snap, "you", json_string(tsr_participant_id(p)));
    stream_send_event(s, "snapshot", snap);
    json_decref(snap);
    tsr_conference_registry_subscribe(api->reg, tsr_conference_alias(c), on_event, s, &s->sub_id);
}

void tsr_sse_keepalive_all(struct tsr_native_api *api)
{
    for (guint i = 0; i < api->streams->len; i++)
        stream_write(api->streams->pdata[i], ": keep-alive\n\n");
}

void tsr_sse_close_all(struct tsr_native_api *api)
{
    /* Free directly: after the API is gone no "finished" handler may run. */
    for (guint i = 0; i < api->streams->len; i++)
        stream_end(api->streams->pdata[i]);
    g_ptr_array_set_size(api->streams, 0);
}

void tsr_sse_stream_free_cb(gpointer data)
{
    stream_free(data);
}
