/* Pieces of the Pexip-compatible API shared between its files; private to src/api.
 * Home thread: the API loop. */
#ifndef TSR_API_PEXIP_INTERNAL_H
#define TSR_API_PEXIP_INTERNAL_H

#include <tessera/front.h>
#include <tessera/pexip_api.h>

#include <stdbool.h>

/* A join refused because the server is at capacity (Tessera's "capacity"), in
 * Pexip's words: the SDK knows this result (error code #pex114) and shows it. It
 * is answered as the other join refusals are ("Participant limit reached"): 403
 * with {"status":"failed"}, which the SDK's validators accept. */
#define TSR_PEX_OUT_OF_RESOURCE "Out of resource"

struct tsr_pexip_api {
    struct tsr_http *http;
    struct tsr_conference_registry *reg;
    GPtrArray *streams; /* struct pex_stream*, owned */
    GHashTable *stages; /* alias → GPtrArray of participant ids, most recent talker first */
    uint64_t sub_id;    /* one subscription to every conference; fanned out here */
    bool routed;        /* the handler is added */
    GPtrArray *waiting; /* struct tsr_front_wait*: requests paused for a conference call */
};

/* A request under /api/client/v2/conferences/: r->api is the struct tsr_pexip_api,
 * r->seg the percent-decoded segments after conferences/ (alias, …), r->body {}
 * for an empty body once read. */

/* --- pexip_api.c ---------------------------------------------------------- */
/* Purpose: reply {"status": "success", "result": result} with `status` (200, or
 * 403 for the PIN answers the SDK expects as success). Takes result (NULL: null). */
void tsr_pex_reply(struct tsr_front_req *r, unsigned status, json_t *result);
/* Purpose: read the body (empty → {}); replies 400/413 and returns false on error. */
bool tsr_pex_read_body(struct tsr_front_req *r);
/* Purpose: the participant owning the request's token (header `token` or ?token=),
 * in the path's conference; replies 403 "Invalid token" and returns NULL otherwise. */
struct tsr_participant *tsr_pex_actor(struct tsr_front_req *r);
/* Purpose: participant `uuid` of actor's conference; replies 404 and returns NULL. */
struct tsr_participant *tsr_pex_target(struct tsr_front_req *r, struct tsr_participant *actor,
                                       const char *uuid);
/* Purpose: the "HOST"/"GUEST" word of request_token and refresh_token. */
const char *tsr_pex_role_word(const struct tsr_participant *p);
/* Purpose: the body's "type" and "payload" as a chat message from a to target
 * (NULL: everyone): true/false, or 400 for a bad type or payload. */
void tsr_pex_send_message(struct tsr_front_req *r, struct tsr_participant *a,
                          struct tsr_participant *target);

/* --- pexip_api_calls.c ---------------------------------------------------- */
/* Purpose: participants/{uuid}/… (seg[1] == "participants", n_seg >= 4). */
void tsr_pex_route_participant(struct tsr_front_req *r);

/* --- pexip_api_events.c --------------------------------------------------- */
/* What differs between participant objects (spec §5.1); strings borrowed. */
struct tsr_pex_fields {
    const char *uuid, *display_name, *alias, *protocol, *uri;
    bool host, outgoing, has_media, muted, video_muted, presenting;
    bool streaming; /* a recorder or streamer: is_streaming_conference */
    int64_t buzz_time, start_time;
    int64_t spotlight; /* unix seconds of the pin, 0 = not spotlighted */
};
/* Purpose: a participant object of spec §5.1 with those fields. New reference. */
json_t *tsr_pex_object(const struct tsr_pex_fields *f);
/* Purpose: the participant object of spec §5.1. New reference. */
json_t *tsr_pex_participant_json(struct tsr_pexip_api *api, const struct tsr_participant *p);
/* Purpose: turn msg into p's event stream: 200 text/event-stream, the roster
 * sync, the layout, then conference events as Pexip events. */
void tsr_pex_events_open(struct tsr_pexip_api *api, SoupServerMessage *msg,
                         struct tsr_participant *p);
/* Purpose: the registry subscription callback (user = api). */
void tsr_pex_on_event(const struct tsr_conference_event *ev, void *user);
/* GDestroyNotify for api->streams: ends the stream and frees it. */
void tsr_pex_stream_free_cb(gpointer data);

/* --- pexip_api_outputs.c --------------------------------------------------- */
/* Recordings and streams appear in the roster as streaming participants (protocol
 * rtmp, is_streaming_conference true): the SDK's isStreaming indicator. */
/* Purpose: POST dial with an RTMP destination: a stream (host only). */
void tsr_pex_handle_dial(struct tsr_front_req *r, struct tsr_participant *a);
/* Purpose: the roster entries of c's recording and streams. New reference. */
json_t *tsr_pex_output_participants(struct tsr_conference *c);
/* Purpose: the roster entry of one output as a recording/stream event carries it
 * ({"id","state","file"|"url",…}); `recording` says which. New reference. */
json_t *tsr_pex_output_json(const json_t *output, bool recording, const char *alias);
/* Purpose: participants/{uuid}/disconnect where uuid names an output: stops it
 * and replies. False (nothing replied) when uuid is no output of a's conference. */
bool tsr_pex_output_disconnect(struct tsr_front_req *r, struct tsr_participant *a,
                               const char *uuid);

/* Purpose: the Pexip name of a Tessera layout ("speaker" → "1:7", "grid" → "ac"). */
const char *tsr_pex_layout_view(const char *layout);

#endif
