/* Server-sent event streams for every front: one chunked text/event-stream
 * response per stream, kept alive, with a bounded backlog.
 *
 * libsoup pauses a chunked response once it has written every chunk it has; each
 * write appends a chunk and unpauses it. The body does not accumulate, so a stream
 * open for hours holds only what the socket has not taken yet: the backlog, counted
 * from what is appended and what libsoup reports written. A reader that falls more
 * than max_backlog_bytes behind is dropped (its socket shut down) rather than
 * buffered without bound; EventSource clients reconnect and get a fresh snapshot.
 * Home thread: the API loop. */
#include <tessera/front.h>
#include <tessera/http.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <gio/gio.h>
#include <string.h>

#define DEFAULT_MAX_BACKLOG_BYTES (4u << 20)

struct tsr_front_stream {
    const struct tsr_front_desc *front;
    SoupServerMessage *msg; /* ref held */
    tsr_front_stream_closed_fn on_closed;
    void *user;
    GSource *keepalive;
    size_t backlog; /* appended - written */
    bool ended;     /* the last chunk is written or the stream was dropped */
    bool finished;  /* the connection is done */
};

static void count_gauge(const struct tsr_front_desc *d, double delta)
{
    if (d->sse.gauge)
        tsr_gauge_add(tsr_metrics_gauge(d->sse.gauge, NULL, d->sse.gauge_help), delta);
}

static size_t max_backlog(const struct tsr_front_stream *s)
{
    return s->front->sse.max_backlog_bytes ? s->front->sse.max_backlog_bytes
                                           : DEFAULT_MAX_BACKLOG_BYTES;
}

static void stop_keepalive(struct tsr_front_stream *s)
{
    if (!s->keepalive)
        return;
    g_source_destroy(s->keepalive);
    g_source_unref(s->keepalive);
    s->keepalive = NULL;
}

/* The slow-reader policy: no more writes, and the socket shut so that libsoup
 * finishes the message and frees what is queued. */
static void drop(struct tsr_front_stream *s)
{
    char labels[64];
    g_snprintf(labels, sizeof labels, "front=\"%s\"", s->front->name);
    tsr_counter_inc(tsr_metrics_counter("tessera_sse_streams_dropped_total", labels,
                                        "Event streams dropped because the reader fell too far "
                                        "behind, by front."));
    TSR_LOG(TSR_LOG_WARN, s->front->name, "event stream dropped: %zu bytes not taken by the reader",
            s->backlog);
    s->ended = true;
    stop_keepalive(s);
    GSocket *sock = tsr_http_message_socket(s->msg);
    if (sock)
        g_socket_shutdown(sock, TRUE, TRUE, NULL);
    soup_server_message_unpause(s->msg);
}

void tsr_front_stream_write(struct tsr_front_stream *s, const char *text)
{
    if (s->ended)
        return;
    size_t n = strlen(text);
    if (s->backlog + n > max_backlog(s)) {
        drop(s);
        return;
    }
    s->backlog += n;
    soup_message_body_append(soup_server_message_get_response_body(s->msg), SOUP_MEMORY_COPY, text,
                             n);
    soup_server_message_unpause(s->msg);
}

char *tsr_front_sse_format(const char *event, const json_t *data)
{
    /* Compact JSON has no raw newlines, so one data: line is enough (inLive's
     * Python client accepts nothing else). */
    char *json = data ? json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    char *text = g_strdup_printf("event: %s\ndata: %s\n\n", event, json ? json : "null");
    free(json);
    return text;
}

void tsr_front_stream_send(struct tsr_front_stream *s, const char *event, const json_t *data)
{
    if (s->ended)
        return;
    char *text = tsr_front_sse_format(event, data);
    tsr_front_stream_write(s, text);
    g_free(text);
}

void tsr_front_stream_end(struct tsr_front_stream *s)
{
    if (s->ended)
        return;
    s->ended = true;
    stop_keepalive(s);
    soup_message_body_complete(soup_server_message_get_response_body(s->msg));
    soup_server_message_unpause(s->msg);
}

bool tsr_front_stream_ended(const struct tsr_front_stream *s)
{
    return s->ended;
}

size_t tsr_front_stream_backlog(const struct tsr_front_stream *s)
{
    return s->backlog;
}

static void on_wrote_body_data(SoupServerMessage *msg, guint chunk_size, gpointer user)
{
    struct tsr_front_stream *s = user;
    (void)msg;
    s->backlog = chunk_size < s->backlog ? s->backlog - chunk_size : 0;
}

static void on_finished(SoupServerMessage *msg, gpointer user)
{
    struct tsr_front_stream *s = user;
    (void)msg;
    if (s->finished)
        return;
    s->finished = true;
    s->ended = true;
    stop_keepalive(s);
    if (s->on_closed)
        s->on_closed(s, s->user); /* may free s */
}

static gboolean keepalive_cb(gpointer user)
{
    struct tsr_front_stream *s = user;
    tsr_front_stream_write(s, s->front->sse.keepalive);
    return G_SOURCE_CONTINUE;
}

static void set_headers(const struct tsr_front_desc *d, SoupServerMessage *msg)
{
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
    soup_message_headers_replace(h, "Content-Type",
                                 d->sse.content_type ? d->sse.content_type : "text/event-stream");
    soup_message_headers_replace(h, "Cache-Control", "no-cache");
    if (d->sse.connection_keep_alive)
        soup_message_headers_replace(h, "Connection", "keep-alive");
    soup_message_headers_replace(h, "X-Accel-Buffering", "no"); /* nginx: do not buffer */
    soup_message_body_set_accumulate(soup_server_message_get_response_body(msg), FALSE);
    soup_server_message_set_status(msg, 200, NULL);
}

struct tsr_front_stream *tsr_front_stream_open(const struct tsr_front_desc *d,
                                               SoupServerMessage *msg,
                                               tsr_front_stream_closed_fn on_closed, void *user)
{
    struct tsr_front_stream *s = g_new0(struct tsr_front_stream, 1);
    s->front = d;
    s->msg = g_object_ref(msg);
    s->on_closed = on_closed;
    s->user = user;
    set_headers(d, msg);
    g_signal_connect(msg, "wrote-body-data", G_CALLBACK(on_wrote_body_data), s);
    g_signal_connect(msg, "finished", G_CALLBACK(on_finished), s);
    if (d->sse.keepalive_s && d->sse.keepalive) {
        s->keepalive = g_timeout_source_new_seconds(d->sse.keepalive_s);
        g_source_set_callback(s->keepalive, keepalive_cb, s, NULL);
        g_source_attach(s->keepalive, g_main_context_get_thread_default());
    }
    count_gauge(d, 1);
    /* Flushed at once: clients (the Pexip SDK's call()) wait for the stream to open. */
    tsr_front_stream_write(s, "retry: 3000\n\n");
    return s;
}

void tsr_front_stream_free(struct tsr_front_stream **sp)
{
    if (!sp || !*sp)
        return;
    struct tsr_front_stream *s = *sp;
    tsr_front_stream_end(s);
    stop_keepalive(s);
    g_signal_handlers_disconnect_by_data(s->msg, s);
    g_object_unref(s->msg);
    count_gauge(s->front, -1);
    g_free(s);
    *sp = NULL;
}
