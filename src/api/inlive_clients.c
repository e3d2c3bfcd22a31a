/* inLive Hub API v1: clients. Register, name, the negotiation state machine of
 * spec §5 (client offers, server offers for send-only clients, their answers),
 * candidates, track notices, leave, and the per-client SSE channel with its queue.
 * Home thread: the API loop. */
#include "inlive_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/sdp.h>

#include <string.h>

/* Our outgoing tracks: one msid stream, as the media engine's SDP writes it. */
#define MIX_STREAM_ID "tessera"
/* A client id is its credential: logs show only its start ("%.6s..."). */
#define LOG_ID "%.6s..."

static struct tsr_participant *participant(const struct tsr_inlive_client *cl)
{
    return tsr_front_session_participant(cl->session);
}

static struct tsr_front_req *req(struct tsr_inlive_req *r)
{
    return &r->req;
}

/* --- SSE ------------------------------------------------------------------------------ */

/* PY's parser wants `event:` then exactly one `data:` line (tsr_front_sse_format). */
static void send_text(struct tsr_inlive_client *cl, char *text_taken)
{
    if (cl->stream) {
        tsr_front_stream_write(cl->stream, text_taken);
        g_free(text_taken);
        return;
    }
    if (cl->queue->len >= TSR_INLIVE_QUEUE_MAX) /* a client that never listens: keep the newest */
        g_ptr_array_remove_index(cl->queue, 0);
    g_ptr_array_add(cl->queue, text_taken);
}

void tsr_inlive_client_send(struct tsr_inlive_client *cl, const char *event, json_t *data)
{
    send_text(cl, tsr_front_sse_format(event, data));
    json_decref(data);
}

static void on_stream_closed(struct tsr_front_stream *s, void *user)
{
    struct tsr_inlive_client *cl = user;
    if (cl->stream == s) {
        tsr_front_stream_free(&cl->stream);
        TSR_LOG(TSR_LOG_DEBUG, "inlive", "event stream of " LOG_ID " closed", cl->id);
    }
}

/* Writes the last chunk and lets go; the connection then finishes. */
static void stream_close(struct tsr_inlive_client *cl)
{
    tsr_front_stream_free(&cl->stream);
}

static void stream_open(struct tsr_inlive_req *r)
{
    struct tsr_inlive_client *cl = r->client;
    stream_close(cl); /* one stream per client: the newest wins */
    cl->stream = tsr_front_stream_open(&tsr_inlive_front_desc, r->req.msg, on_stream_closed, cl);
    /* A reconnecting client may have missed what was written to its last stream:
     * the mix's tracks and an unanswered offer (queued events follow). */
    if (cl->n_streams++ > 0 && cl->tracks_available)
        tsr_inlive_client_send(cl, "tracks_available", json_incref(cl->tracks_available));
    if (cl->server_offering && cl->offer_written_us)
        tsr_inlive_client_send(cl, "offer",
                               json_pack("{s:s, s:s}", "type", "offer", "sdp", cl->offer_sdp));
    for (guint i = 0; i < cl->queue->len; i++) {
        const char *text = cl->queue->pdata[i];
        if (cl->server_offering && !cl->offer_written_us &&
            g_str_has_prefix(text, "event: offer\n"))
            cl->offer_written_us = g_get_monotonic_time();
        tsr_front_stream_write(cl->stream, text);
    }
    g_ptr_array_set_size(cl->queue, 0);
}

/* --- requests waiting for a conference call -------------------------------------------- */

/* A request parked until its call on the participant's net loop completes;
 * w->data is the client (borrowed: the client calls its waits off before it goes). */
static struct tsr_front_wait *wait_new(struct tsr_inlive_req *r)
{
    struct tsr_front_wait *w = tsr_front_wait_new(req(r), r->client->waiting);
    w->data = r->client;
    return w;
}

/* The client goes: its calls are called off, their requests answered. */
static void client_cancel_calls(struct tsr_inlive_client *cl)
{
    tsr_conference_call_cancel(&cl->offer_call);
    cl->joining = false;
    struct tsr_front_error e = {.status = 409,
                                .code = "client_gone",
                                .text = "the client was removed before this request was answered"};
    tsr_front_wait_cancel_all(cl->waiting, &e);
}

/* --- lifecycle ----------------------------------------------------------------------- */

static void json_decref_cb(gpointer p)
{
    json_decref(p);
}

void tsr_inlive_client_free(struct tsr_inlive_client *cl)
{
    client_cancel_calls(cl);
    g_ptr_array_free(cl->waiting, TRUE);
    stream_close(cl);
    tsr_front_session_on_left(cl->session, NULL, NULL);
    cl->session = tsr_front_session_unref(cl->session);
    cl->room->api->n_clients--;
    g_ptr_array_free(cl->candidates, TRUE);
    g_ptr_array_free(cl->queue, TRUE);
    json_decref(cl->tracks_available);
    g_free(cl->offer_sdp);
    g_free(cl->first_offer);
    g_free(cl->id);
    g_free(cl->uid);
    g_free(cl->name);
    g_free(cl);
}

void tsr_inlive_client_remove(struct tsr_inlive_client *cl, const char *reason)
{
    struct tsr_inlive_room *room = cl->room;
    client_cancel_calls(cl); /* before the leave: nothing may complete into cl */
    tsr_front_session_on_left(cl->session, NULL, NULL); /* our own leave is not news */
    tsr_front_session_leave(cl->session, TSR_LEAVE_REQUESTED);
    tsr_inlive_client_send(cl, "left",
                           json_pack("{s:s, s:s}", "client_id", cl->id, "reason", reason));
    TSR_LOG(TSR_LOG_INFO, "inlive", "room %s: client " LOG_ID " removed (%s)", room->id, cl->id,
            reason);
    g_hash_table_remove(room->clients, cl->id); /* frees cl, closing its stream */
    if (g_hash_table_size(room->clients) == 0)
        room->empty_since_us = g_get_monotonic_time();
}

/* The client's participant left the conference on its own (media failure, kick,
 * shutdown): the client goes too. */
static void on_participant_left(struct tsr_front_session *s, enum tsr_leave_reason reason,
                                void *user)
{
    (void)s;
    tsr_inlive_client_remove(user, tsr_leave_reason_name(reason));
}

/* --- register / name / state ---------------------------------------------------------- */

static json_t *client_json(const struct tsr_inlive_client *cl)
{
    return json_pack("{s:s, s:s, s:o}", "client_id", cl->id, "name", cl->name, "bitrates",
                     tsr_inlive_bitrates_json());
}

/* uid as a string or a JSON number (T23 sends Math.floor(Math.random()*1000)). */
static bool read_uid(json_t *body, char *buf, size_t size, bool *given)
{
    json_t *v = json_object_get(body, "uid");
    *given = v && !json_is_null(v);
    if (!*given)
        return true;
    if (json_is_integer(v))
        g_snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_string(v) && json_string_length(v) < size)
        g_strlcpy(buf, json_string_value(v), size);
    else
        return false;
    g_strchomp(buf);
    return tsr_conference_display_name_valid(buf) && !strchr(buf, '/');
}

/* The id is always the server's (inlive_auth.c says why): a uid is kept as the
 * client's label and default name, and two clients may ask for the same one. */
static struct tsr_inlive_client *client_new(struct tsr_inlive_room *room, const char *uid,
                                            const char *name)
{
    char id[TSR_INLIVE_CREDENTIAL_CHARS + 1];
    do
        tsr_inlive_random_id(id, sizeof id - 1);
    while (g_hash_table_contains(room->clients, id));
    struct tsr_inlive_client *cl = g_new0(struct tsr_inlive_client, 1);
    cl->room = room;
    cl->id = g_strdup(id);
    cl->uid = uid ? g_strdup(uid) : NULL;
    /* never the id by default: names are shown to everyone (rosters, tiles) */
    cl->name = g_strdup(name && *name ? name : uid ? uid : "Guest");
    cl->created_us = g_get_monotonic_time();
    cl->candidates = g_ptr_array_new_with_free_func(json_decref_cb);
    cl->queue = g_ptr_array_new_with_free_func(g_free);
    cl->session = tsr_front_session_new(&tsr_inlive_front_desc, TSR_PARTICIPANT_BOUND);
    tsr_front_session_on_left(cl->session, on_participant_left, cl);
    cl->waiting = g_ptr_array_new();
    return cl;
}

void tsr_inlive_handle_register(struct tsr_inlive_req *r)
{
    if (!tsr_front_req_body(req(r), TSR_FRONT_BODY_EMPTY_OK))
        return;
    char uid[TSR_INLIVE_ID_MAX + 1] = "";
    bool given = false, bad = false;
    const char *name = tsr_front_json_str(r->req.body, "name", &bad);
    json_t *vad = json_object_get(r->req.body, "enable_vad");
    bad = bad || (vad && !json_is_null(vad) && !json_is_boolean(vad)) ||
          !read_uid(r->req.body, uid, sizeof uid, &given) ||
          (name && *name && !tsr_conference_display_name_valid(name));
    if (bad) {
        tsr_front_req_fail(req(r), 400, "invalid_request_body",
                           "invalid request body: optional \"uid\" (string or integer, 1-128 "
                           "printable bytes, no '/'), \"name\" (string), \"enable_vad\" "
                           "(boolean)");
        return;
    }
    struct tsr_inlive_client *cl = client_new(r->room, given ? uid : NULL, name);
    g_hash_table_insert(r->room->clients, cl->id, cl);
    r->room->api->n_clients++;
    r->room->empty_since_us = 0;
    TSR_LOG(TSR_LOG_INFO, "inlive", "room %s: client " LOG_ID " registered (uid %s)", r->room->id,
            cl->id, given ? uid : "-");
    tsr_inlive_reply(r->req.msg, 200, "client registered", client_json(cl));
}

static void handle_setname(struct tsr_inlive_req *r)
{
    if (!tsr_front_req_body(req(r), 0))
        return;
    bool bad = false;
    const char *name = tsr_front_json_str(r->req.body, "name", &bad);
    if (bad || !name || !tsr_conference_display_name_valid(name)) {
        tsr_front_req_fail(req(r), 400, "invalid_request_body",
                           "invalid request body: \"name\" (string, 1-128 printable bytes)");
        return;
    }
    g_free(r->client->name);
    r->client->name = g_strdup(name);
    tsr_inlive_reply(r->req.msg, 200, "name updated", client_json(r->client));
}

static void handle_get_client(struct tsr_inlive_req *r)
{
    const char *state = participant(r->client) ? "connected" : "new";
    tsr_inlive_reply(r->req.msg, 200, "ok",
                     json_pack("{s:s, s:s, s:s, s:s, s:{}}", "id", r->client->id, "name",
                               r->client->name, "peer_connection_state", state,
                               "ice_peer_connection_state", state, "events"));
}

static void handle_isallow(struct tsr_inlive_req *r)
{
    struct tsr_inlive_client *cl = r->client;
    if (cl->server_offering || cl->offer_call) { /* made or being made */
        cl->pending_allow = true;
        tsr_front_req_fail(req(r), 403, "negotiation_not_allowed",
                           "not allowed to negotiate: a server offer is waiting for its answer");
        return;
    }
    cl->client_negotiating = true;
    tsr_inlive_reply(r->req.msg, 200, "negotiation allowed", NULL);
}

/* --- negotiation ----------------------------------------------------------------------- */

/* tracks_added from the client's offer: every sending audio/video m-line's msid. */
static json_t *tracks_from_offer(const struct tsr_inlive_client *cl, const char *sdp)
{
    struct tsr_sdp *s = NULL;
    if (tsr_sdp_parse(sdp, strlen(sdp), &s, NULL) != 0)
        return NULL;
    json_t *tracks = json_object();
    for (size_t i = 0; i < s->n_media; i++) {
        const struct tsr_sdp_media *m = &s->media[i];
        const char *msid = tsr_sdp_attr_find(m->attrs, m->n_attrs, "msid");
        bool sends = !tsr_sdp_media_attr(s, m, "recvonly") && !tsr_sdp_media_attr(s, m, "inactive");
        if (!msid || !sends || m->port == 0 ||
            (strcmp(m->kind, "audio") != 0 && strcmp(m->kind, "video") != 0))
            continue;
        gchar **parts = g_strsplit(msid, " ", 2);
        if (parts[0] && parts[1] && *parts[1])
            json_object_set_new(tracks, parts[1],
                                json_pack("{s:s, s:s, s:s, s:s}", "id", parts[1], "stream_id",
                                          parts[0], "client_id", cl->id, "kind", m->kind));
        g_strfreev(parts);
    }
    tsr_sdp_free(&s);
    if (json_object_size(tracks) == 0) {
        json_decref(tracks);
        return NULL;
    }
    return json_pack("{s:o}", "tracks", tracks);
}

/* The mix as one client: audio + video of one msid stream (spec §7). */
static json_t *mix_tracks_available(void)
{
    json_t *tracks = json_object();
    static const char *const kinds[] = {"audio", "video"};
    for (size_t i = 0; i < 2; i++) {
        char id[32];
        g_snprintf(id, sizeof id, "%s-%s", MIX_STREAM_ID, kinds[i]);
        json_object_set_new(tracks, id,
                            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "track_id", id, "stream_id",
                                      MIX_STREAM_ID, "client_id", "mcu", "client_name",
                                      "Conference", "source", "media", "kind", kinds[i]));
    }
    return json_pack("{s:o}", "tracks", tracks);
}

static void apply_buffered_candidates(struct tsr_inlive_client *cl)
{
    for (guint i = 0; i < cl->candidates->len; i++) {
        json_t *c = cl->candidates->pdata[i];
        json_t *idx = json_object_get(c, "sdpMLineIndex");
        /* Its answer went long ago: nobody waits for the outcome. */
        tsr_participant_add_candidate(
            participant(cl), json_string_value(json_object_get(c, "candidate")),
            json_string_value(json_object_get(c, "sdpMid")),
            json_is_integer(idx) ? (int)json_integer_value(idx) : -1, NULL, NULL, NULL);
    }
    g_ptr_array_set_size(cl->candidates, 0);
}

static void reoffer_done(void *user, struct tsr_conference_result *res)
{
    struct tsr_front_wait *w = tsr_front_wait_resumed(user);
    struct tsr_inlive_client *cl = w->data;
    cl->client_negotiating = false;
    if (res->rc == 0)
        tsr_inlive_reply(w->req.msg, 200, "ok",
                         json_pack("{s:{s:s, s:s}}", "answer", "type", "answer", "sdp", res->sdp));
    else if (res->rc == TSR_ERR_INVALID)
        tsr_front_req_fail(&w->req, 400, "invalid_sdp", "invalid offer: %s",
                           res->err_text ? res->err_text : "bad SDP");
    else
        tsr_front_req_fail(&w->req, 409, "renegotiation_unsupported",
                           "this offer cannot be applied to the running session (%s); leave and "
                           "register again",
                           res->err_text ? res->err_text : tsr_strerror(res->rc));
    tsr_front_wait_done(w);
}

/* A new offer on the running session (spec: clients re-offer after adding tracks,
 * the SDK after allowed_renegotation). */
static void negotiate_reoffer(struct tsr_inlive_req *r, const char *sdp)
{
    struct tsr_inlive_client *cl = r->client;
    if (cl->server_offering) {
        tsr_front_req_fail(req(r), 409, "server_offer_pending",
                           "a server offer is waiting for its answer; answer it first");
        return;
    }
    struct tsr_front_wait *w = wait_new(r);
    tsr_participant_answer_reoffer(participant(cl), sdp, reoffer_done, w, &w->call);
}

/* The first offer's join is back from the net loop. */
static void join_done(void *user, struct tsr_conference_result *res)
{
    struct tsr_front_wait *w = tsr_front_wait_resumed(user);
    struct tsr_inlive_client *cl = w->data;
    cl->joining = false;
    if (res->rc != 0) {
        tsr_front_req_refuse(&w->req, res->refusal, res->err_text);
        tsr_front_wait_done(w);
        return;
    }
    cl->client_negotiating = false;
    cl->offer_due = true; /* media says whether anything must be added (§7) */
    apply_buffered_candidates(cl);
    json_t *added = tracks_from_offer(cl, cl->first_offer);
    g_clear_pointer(&cl->first_offer, g_free);
    if (added)
        tsr_inlive_client_send(cl, "tracks_added", added);
    json_decref(cl->tracks_available);
    cl->tracks_available = mix_tracks_available();
    tsr_inlive_client_send(cl, "tracks_available", json_incref(cl->tracks_available));
    tsr_inlive_reply(w->req.msg, 200, "ok",
                     json_pack("{s:{s:s, s:s}}", "answer", "type", "answer", "sdp", res->sdp));
    tsr_front_wait_done(w);
}

static void negotiate_offer(struct tsr_inlive_req *r, const char *sdp)
{
    struct tsr_inlive_client *cl = r->client;
    if (participant(cl)) {
        negotiate_reoffer(r, sdp);
        return;
    }
    if (cl->joining) {
        tsr_front_req_fail(req(r), 409, "negotiation_in_progress",
                           "the first offer is still being answered; wait for its answer");
        return;
    }
    struct tsr_conference_join_request jr = {.alias = cl->room->alias,
                                             .display_name = cl->name,
                                             .offer_sdp = sdp,
                                             .holder = tsr_front_session_holder(cl->session)};
    struct tsr_front_wait *w = wait_new(r);
    g_free(cl->first_offer);
    cl->first_offer = g_strdup(sdp);
    cl->joining = true;
    tsr_conference_join(cl->room->api->reg, &jr, join_done, w, &w->call);
}

static void answer_done(void *user, struct tsr_conference_result *res)
{
    struct tsr_front_wait *w = tsr_front_wait_resumed(user);
    struct tsr_inlive_client *cl = w->data;
    cl->server_offering = false;
    g_clear_pointer(&cl->offer_sdp, g_free);
    cl->offer_written_us = 0;
    if (cl->pending_allow) {
        cl->pending_allow = false;
        tsr_inlive_client_send(cl, "allowed_renegotation", json_object());
    }
    if (res->rc)
        tsr_front_req_fail(&w->req, 400, "invalid_answer", "the answer was not applied: %s",
                           res->err_text ? res->err_text : tsr_strerror(res->rc));
    else
        tsr_inlive_reply(w->req.msg, 200, "ok", NULL);
    tsr_front_wait_done(w);
}

static void negotiate_answer(struct tsr_inlive_req *r, const char *sdp)
{
    struct tsr_inlive_client *cl = r->client;
    if (!cl->server_offering || !participant(cl)) {
        tsr_front_req_fail(req(r), 409, "no_offer_pending", "there is no server offer to answer");
        return;
    }
    struct tsr_front_wait *w = wait_new(r);
    tsr_participant_apply_send_answer(participant(cl), sdp, answer_done, w, &w->call);
}

static void handle_negotiate(struct tsr_inlive_req *r)
{
    bool bad = false;
    if (!tsr_front_req_body(req(r), 0))
        return;
    const char *type = tsr_front_json_str(r->req.body, "type", &bad);
    const char *sdp = tsr_front_json_str(r->req.body, "sdp", &bad);
    if (bad || !type || !sdp || !*sdp ||
        (strcmp(type, "offer") != 0 && strcmp(type, "answer") != 0)) {
        tsr_front_req_fail(
            req(r), 400, "invalid_request_body",
            "invalid request body: {\"type\": \"offer\" or \"answer\", \"sdp\": string}");
        return;
    }
    if (strcmp(type, "offer") == 0)
        negotiate_offer(r, sdp);
    else
        negotiate_answer(r, sdp);
}

static void candidate_done(void *user, struct tsr_conference_result *res)
{
    struct tsr_front_wait *w = tsr_front_wait_resumed(user);
    if (res->rc)
        tsr_front_req_fail(&w->req, 400, "invalid_candidate", "invalid candidate: %s",
                           tsr_strerror(res->rc));
    else
        tsr_inlive_reply(w->req.msg, 200, "ok", NULL);
    tsr_front_wait_done(w);
}

static void handle_candidate(struct tsr_inlive_req *r)
{
    if (!tsr_front_req_body(req(r), 0))
        return;
    json_t *body = r->req.body, *idx = json_object_get(body, "sdpMLineIndex");
    bool bad = false;
    const char *cand = tsr_front_json_str(body, "candidate", &bad);
    const char *mid = tsr_front_json_str(body, "sdpMid", &bad);
    if (bad || !cand || (idx && !json_is_null(idx) && !json_is_integer(idx))) {
        tsr_front_req_fail(req(r), 400, "invalid_request_body",
                           "invalid request body: RTCIceCandidateInit {\"candidate\": string, "
                           "\"sdpMid\"?: string, \"sdpMLineIndex\"?: integer}");
        return;
    }
    struct tsr_inlive_client *cl = r->client;
    if (*cand && !g_str_has_prefix(cand, "candidate:")) {
        tsr_front_req_fail(req(r), 400, "invalid_candidate",
                           "invalid candidate: must start with \"candidate:\"");
        return;
    }
    if (!participant(cl)) { /* it raced ahead of its offer: apply it after the offer */
        if (cl->candidates->len >= TSR_INLIVE_CANDIDATES_MAX) {
            tsr_front_req_fail(req(r), 429, "too_many_candidates",
                               "too many candidates before the offer");
            return;
        }
        g_ptr_array_add(cl->candidates, json_incref(r->req.body));
        tsr_inlive_reply(r->req.msg, 200, "ok", NULL);
        return;
    }
    struct tsr_front_wait *w = wait_new(r);
    tsr_participant_add_candidate(participant(cl), cand, mid,
                                  json_is_integer(idx) ? (int)json_integer_value(idx) : -1,
                                  candidate_done, w, &w->call);
}

/* settracksources [{track_id, source}] and subscribetracks [{client_id, track_id}]:
 * checked, then accepted. The MCU sends everyone the same composite, so neither
 * changes what is sent. */
static void handle_track_list(struct tsr_inlive_req *r, bool subscribe)
{
    if (!tsr_front_req_body(req(r), TSR_FRONT_BODY_ANY))
        return;
    bool bad = !json_is_array(r->req.body);
    size_t i;
    json_t *e;
    json_array_foreach(bad ? NULL : r->req.body, i, e)
    {
        bool b = !json_is_object(e);
        const char *track = b ? NULL : tsr_front_json_str(e, "track_id", &b);
        const char *other =
            b ? NULL : tsr_front_json_str(e, subscribe ? "client_id" : "source", &b);
        bad = bad || b || !track || !other ||
              (!subscribe && strcmp(other, "media") != 0 && strcmp(other, "screen") != 0);
    }
    if (bad) {
        tsr_front_req_fail(req(r), 400, "invalid_request_body",
                           subscribe
                               ? "invalid request body: [{\"client_id\": string, \"track_id\": "
                                 "string, \"stream_id\"?: string}]"
                               : "invalid request body: [{\"track_id\": string, \"source\": "
                                 "\"media\" or \"screen\"}]");
        return;
    }
    tsr_inlive_reply(r->req.msg, 200, "ok", NULL);
}

static void handle_leave(struct tsr_inlive_req *r)
{
    tsr_inlive_client_remove(r->client, "left");
    tsr_inlive_reply(r->req.msg, 200, "client left", NULL);
}

static void handle_settracksources(struct tsr_inlive_req *r)
{
    handle_track_list(r, false);
}

static void handle_subscribetracks(struct tsr_inlive_req *r)
{
    handle_track_list(r, true);
}

/* The client routes of inlive_api.c's table, by action. */
static const struct {
    const char *action;
    void (*handle)(struct tsr_inlive_req *r);
} client_actions[] = {
    {"client", handle_get_client},
    {"setname", handle_setname},
    {"isallownegotiate", handle_isallow},
    {"negotiate", handle_negotiate},
    {"candidate", handle_candidate},
    {"events", stream_open},
    {"settracksources", handle_settracksources},
    {"subscribetracks", handle_subscribetracks},
    {"leave", handle_leave},
};

void tsr_inlive_handle_client_action(struct tsr_inlive_req *r, const char *action)
{
    for (size_t i = 0; i < G_N_ELEMENTS(client_actions); i++)
        if (strcmp(client_actions[i].action, action) == 0)
            client_actions[i].handle(r);
}

/* --- housekeeping -------------------------------------------------------------------- */

static void offer_done(void *user, struct tsr_conference_result *res)
{
    struct tsr_inlive_client *cl = user;
    cl->offer_call = NULL;
    if (res->rc == TSR_ERR_AGAIN)
        return; /* not connected yet: the next tick asks again */
    cl->offer_due = false;
    if (res->rc == 0) {
        cl->server_offering = true;
        cl->offer_sdp = g_steal_pointer(&res->sdp);
        cl->offer_written_us = cl->stream ? g_get_monotonic_time() : 0;
        TSR_LOG(TSR_LOG_INFO, "inlive", "client " LOG_ID ": server offer adds send-only m-lines",
                cl->id);
        tsr_inlive_client_send(cl, "offer",
                               json_pack("{s:s, s:s}", "type", "offer", "sdp", cl->offer_sdp));
    } else if (res->rc != TSR_ERR_NOT_FOUND) {
        TSR_LOG(TSR_LOG_WARN, "inlive", "client " LOG_ID ": no server offer: %s", cl->id,
                res->err_text ? res->err_text : tsr_strerror(res->rc));
    }
}

/* §5.3: offer only when connected (media says TSR_ERR_AGAIN before), stable, and
 * the client is not negotiating itself. */
static void maybe_offer(struct tsr_inlive_client *cl)
{
    if (!cl->offer_due || !participant(cl) || cl->server_offering || cl->client_negotiating ||
        cl->offer_call)
        return;
    tsr_participant_create_send_offer(participant(cl), offer_done, cl, &cl->offer_call);
}

bool tsr_inlive_client_tick(struct tsr_inlive_client *cl, int64_t now_us)
{
    if (cl->server_offering && cl->offer_written_us &&
        now_us - cl->offer_written_us > TSR_INLIVE_API_ANSWER_TIMEOUT_S * G_USEC_PER_SEC) {
        tsr_inlive_client_remove(cl, "no answer to the server offer");
        return false;
    }
    if (!participant(cl) &&
        now_us - cl->created_us > TSR_INLIVE_API_IDLE_CLIENT_S * G_USEC_PER_SEC) {
        tsr_inlive_client_remove(cl, "never negotiated");
        return false;
    }
    maybe_offer(cl);
    return true;
}
