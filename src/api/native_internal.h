/* Pieces of the native API shared between its files; private to src/api.
 * Home thread: the API loop. */
#ifndef TSR_API_NATIVE_INTERNAL_H
#define TSR_API_NATIVE_INTERNAL_H

#include <tessera/native_api.h>

#include <stdbool.h>

struct tsr_native_api {
    struct tsr_http *http;
    struct tsr_conference_registry *reg;
    char *web_root;
    GPtrArray *streams; /* struct tsr_sse_stream*, owned */
    GPtrArray *waiting; /* struct tsr_front_wait*: requests paused for a conference call */
};

/* One open GET …/events response. Owned by api->streams until the connection
 * finishes or the API is freed. */
struct tsr_sse_stream;

/* Purpose: turn msg into an event stream for participant p of its conference:
 * 200 text/event-stream, a snapshot event, then every conference event. */
void tsr_sse_open(struct tsr_native_api *api, SoupServerMessage *msg, struct tsr_participant *p);
/* GDestroyNotify for api->streams: ends the stream and frees it. */
void tsr_sse_stream_free_cb(gpointer data);

/* Purpose: answer GET/HEAD for the web client's files under api->web_root. */
void tsr_web_files_handle(SoupServer *server, SoupServerMessage *msg, const char *path,
                          GHashTable *query, gpointer user);

#endif
