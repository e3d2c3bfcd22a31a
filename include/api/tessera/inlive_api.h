/* The inLive-compatible Hub API v1: REST + server-sent events under /v1, so that
 * apps written against inLive's hub (the public conference tutorials, the
 * @inlivedev/inlive-js-sdk Room module, the Python agent SDK) can be pointed at
 * Tessera. Wire details: shared/specs/inlive-hub-api.md; README "inLive-compatible
 * Hub API".
 *
 * An inLive room is one Tessera conference (the room id is the conference alias
 * when it is a valid alias, else "inlive-<hash>"). A registered client becomes a
 * conference participant with its first SDP offer. Every response is the
 * {"code","message","data"} envelope with application/json, CORS on every route.
 *
 * Home thread: the API loop (the HTTP server's and the registry's). */
#ifndef TESSERA_INLIVE_API_H
#define TESSERA_INLIVE_API_H

#include <stddef.h>
#include <stdint.h>

#include <tessera/conference.h>
#include <tessera/front.h>
#include <tessera/http.h>

/* Largest request body accepted (413 above it); a Chrome offer is ~6 KiB. */
#define TSR_INLIVE_API_MAX_BODY_BYTES (64 * 1024)
/* Seconds between SSE `ping` events (the Python SDK reads with a 60 s timeout). */
#define TSR_INLIVE_API_PING_S 15
/* Seconds an answer to a server offer is awaited before the client is removed. */
#define TSR_INLIVE_API_ANSWER_TIMEOUT_S 30
/* Seconds a registered client may stay without ever sending an offer. */
#define TSR_INLIVE_API_IDLE_CLIENT_S 300

struct tsr_inlive_api;

struct tsr_inlive_api_opts {
    /* Default empty-room timeout (a room's create options may override it);
     * 0 removes a room as soon as its last client leaves. */
    int64_t empty_room_timeout_s;
    /* Milliseconds between housekeeping passes (offers due, timeouts, pings);
     * 0 means 250. */
    int64_t tick_ms;
};

/* Purpose: add the /v1 routes to `http` and subscribe to the registry's events.
 * Ownership: http and reg are borrowed and must outlive the API (free it first);
 * opts is copied (NULL: defaults). Returns 0 and *out. Thread: the API loop. */
int tsr_inlive_api_new(struct tsr_inlive_api **out, struct tsr_http *http,
                       struct tsr_conference_registry *reg, const struct tsr_inlive_api_opts *opts);

/* Purpose: remove the routes, close every event stream, make every inLive client
 * leave its conference, free. Accepts NULL; NULLs *p. Thread: the API loop. */
void tsr_inlive_api_free(struct tsr_inlive_api **p);

/* Purpose: live rooms and registered clients (tests, metrics). */
size_t tsr_inlive_api_n_rooms(const struct tsr_inlive_api *api);
size_t tsr_inlive_api_n_clients(const struct tsr_inlive_api *api);

/* The inLive front: its descriptor and its entry in the server's table (the
 * configuration's [conferences] empty_timeout_s as the default room timeout). */
extern const struct tsr_front_desc tsr_inlive_front_desc;
extern const struct tsr_front_ops tsr_inlive_front;

#endif
