/* The Pexip Infinity client REST API v2 (what the @pexip/infinity web SDK speaks),
 * so that existing Pexip apps can join Tessera conferences as if Tessera were a
 * Pexip Conferencing Node. Wire details: specs/pexip-client-api.md; user guide:
 * README.md "Pexip-compatible API".
 *
 * Everything is under /api/client/v2/conferences/{alias}/: request_token,
 * refresh_token, release_token, theme/, events (server-sent events), participants,
 * participants/{uuid}/calls, …/calls/{call_uuid}/{ack,new_candidate,update,
 * disconnect}, participant and conference actions (mute, buzz, kick, chat,
 * transform_layout, lock, end for all). Replies use Pexip's envelope
 * {"status":"success"|"failed","result":…} as exactly application/json; bad input
 * gets 400 (413 for bodies over TSR_PEXIP_API_MAX_BODY_BYTES, 404 for unknown
 * resources or ids) with {"status":"failed","result":"<why>"} and changes nothing.
 *
 * The Pexip token is the conference core's participant token and its "expires" is
 * the core's token TTL, so a participant whose app stops refreshing lapses in the
 * core's sweep and leaves like any other.
 *
 * Home thread: the API loop (the HTTP server's and the conference registry's). */
#ifndef TESSERA_PEXIP_API_H
#define TESSERA_PEXIP_API_H

#include <tessera/conference.h>
#include <tessera/front.h>
#include <tessera/http.h>

/* Largest request body accepted; an SDP offer from Chrome is ~6 KiB. */
#define TSR_PEXIP_API_MAX_BODY_BYTES (64 * 1024)
/* Seconds between event-stream keep-alive comments (spec: every 10-20 s). */
#define TSR_PEXIP_API_KEEPALIVE_S 15

struct tsr_pexip_api;

/* Purpose: add the /api/client/v2 routes to `http` and subscribe to the
 * registry's events. Ownership: http and reg are borrowed and must outlive the
 * API object (free it first). Returns 0 and *out, or -ENOMEM. Thread: the API loop. */
int tsr_pexip_api_new(struct tsr_pexip_api **out, struct tsr_http *http,
                      struct tsr_conference_registry *reg);

/* Purpose: remove the routes, unsubscribe, end every event stream. Accepts NULL;
 * NULLs *p. Thread: the API loop. */
void tsr_pexip_api_free(struct tsr_pexip_api **p);

/* Purpose: open event streams (tests). */
unsigned tsr_pexip_api_n_streams(const struct tsr_pexip_api *api);

/* The Pexip front: its descriptor and its entry in the server's table. */
extern const struct tsr_front_desc tsr_pexip_front_desc;
extern const struct tsr_front_ops tsr_pexip_front;

#endif
