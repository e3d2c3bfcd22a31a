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
 * Credentials (src/api/inlive_auth.c): the server issues every client id (131
 * random bits; a uid the client asks for is only its default name), and the id in
 * the path is the client's credential on every client route. Ending a room and
 * writing its metadata need Authorization: Bearer with the secret rooms/create
 * returned or the Bearer token the room was created with.
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
/* Quotas when the options leave them 0 ([inlive] in the configuration). */
#define TSR_INLIVE_API_DEFAULT_MAX_ROOMS 1000
#define TSR_INLIVE_API_DEFAULT_MAX_META_BYTES (16 * 1024)
#define TSR_INLIVE_API_DEFAULT_MAX_EMPTY_TIMEOUT_S 3600

struct tsr_inlive_api;

struct tsr_inlive_api_opts {
    /* Default empty-room timeout (a room's create options may override it);
     * 0 removes a room as soon as its last client leaves. */
    int64_t empty_room_timeout_s;
    /* Milliseconds between housekeeping passes (offers due, timeouts, pings);
     * 0 means 250. */
    int64_t tick_ms;
    /* Rooms at once; rooms/create past it is refused (503 too_many_rooms). */
    int64_t max_rooms;
    /* Metadata one room holds (keys + values as compact JSON + a per-key
     * overhead); a setmeta past it is refused whole (413 metadata_too_large). */
    int64_t max_meta_bytes;
    /* Longest empty-room timeout a create may ask for; longer ones are cut to it. */
    int64_t max_empty_timeout_s;
    /* true: setmeta/deletemeta need no credential (inLive's hub; the JS SDK's
     * setMetadata sends none); false: they need the room's, like end. */
    bool open_metadata;
};

/* Purpose: add the /v1 routes to `http` and subscribe to the registry's events.
 * Ownership: http and reg are borrowed and must outlive the API (free it first);
 * opts is copied (NULL: defaults). Returns 0 and *out. Thread: the API loop. */
int tsr_inlive_api_new(struct tsr_inlive_api **out, struct tsr_http *http,
                       struct tsr_conference_registry *reg, const struct tsr_inlive_api_opts *opts);

/* Purpose: remove the routes, close every event stream, make every inLive client
 * leave its conference, free. Accepts NULL; NULLs *p. Thread: the API loop. */
void tsr_inlive_api_free(struct tsr_inlive_api **p);

/* Purpose: live rooms, registered clients and the metadata bytes all rooms are
 * charged (tests, metrics). */
size_t tsr_inlive_api_n_rooms(const struct tsr_inlive_api *api);
size_t tsr_inlive_api_n_clients(const struct tsr_inlive_api *api);
size_t tsr_inlive_api_meta_bytes(const struct tsr_inlive_api *api);

/* The inLive front: its descriptor and its entry in the server's table (the
 * configuration's [conferences] empty_timeout_s as the default room timeout, its
 * [inlive] section for the quotas). */
extern const struct tsr_front_desc tsr_inlive_front_desc;
extern const struct tsr_front_ops tsr_inlive_front;

#endif
