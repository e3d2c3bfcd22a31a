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

/* --- body ------------------------------------------------------------------------- */

bool tsr_inlive_read_body(struct tsr_inlive_req *r, bool empty_ok)
{
    SoupMessageBody *body = soup_server_message_get_request_body(r->msg);
    if ((size_t)body->length > TSR_INLIVE_API_MAX_BODY_BYTES) {
        tsr_inlive_reply_error(r->msg, 413, "body_too_large",
                               "request body is %" G_GINT64_FORMAT " bytes; the limit is %d",
                               body->length, TSR_INLIVE_API_MAX_BODY_BYTES);
        return false;
    }
    size_t n = (size_t)body->length;
    const char *data = body->data ? body->data : "";
    bool blank = true;
    for (size_t i = 0; i < n && blank; i++)
        blank = g_ascii_isspace(data[i]);
    if (blank && empty_ok) {
        r->body = json_object();
        return true;
    }
    json_error_t jerr;
    r->body = json_loadb(data, n, 0, &jerr);
    if (!r->body) {
        tsr_inlive_reply_error(r->msg, 400, "invalid_request_body", "invalid request body: %s",
                               jerr.text);
        return false;
    }
    return true;
}

/* A string member or NULL; *bad when present, not null and not a string. */
static const char *opt_string(json_t *o, const char *key, bool *bad)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v))
        *bad = true;
    return json_string_value(v);
}

/* Display names go to the conference core: printable UTF-8, 1..128 bytes. */
static bool name_ok(const char *s)
{
    if (!*s || strlen(s) > TSR_CONFERENCE_NAME_MAX || !g_utf8_validate(s, -1, NULL))
        return false;
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return false;
    return true;
}

/* --- SSE ------------------------------------------------------------------------------ */

static void stream_write(struct tsr_inlive_client *cl, const char *text)
{
    SoupMessageBody *body = soup_server_message_get_response_body(cl->stream);
    soup_message_body_append(body, SOUP_MEMORY_COPY, text, strlen(text));
    soup_server_message_unpause(cl->stream);
}

static void send_text(struct tsr_inlive_client *cl, char *text_taken)
{
    if (cl->stream) {
        stream_write(cl, text_taken);
        g_free(text_taken);
        return;
    }
    if (cl->queue->len >= TSR_INLIVE_QUEUE_MAX) /* a client that never listens: keep the newest */
        g_ptr_array_remove_index(cl->queue, 0);
    g_ptr_array_add(cl->queue, text_taken);
}

void tsr_inlive_client_send(struct tsr_inlive_client *cl, const char *event, json_t *data)
{
    char *json = json_dumps(data, JSON_COMPACT);
    /* PY's parser wants `event:` then exactly one `data:` line; compact JSON has no
     * raw newlines. */
    send_text(cl, g_strdup_printf("event: %s\ndata: %s\n\n", event, json ? json : "{}"));
    free(json);
    json_decref(data);
}

static void on_stream_finished(SoupServerMessage *msg, gpointer user)
{
    struct tsr_inlive_client *cl = user;
    g_signal_handlers_disconnect_by_data(msg, cl);
    if (cl->stream == msg) {
        g_object_unref(cl->stream);
        cl->stream = NULL;
        TSR_LOG(TSR_LOG_DEBUG, "inlive", "event stream of %s closed", cl->id);
    }
}

/* Writes the last chunk and lets go; the connection then finishes. */
static void stream_close(struct tsr_inlive_client *cl)
{
    if (!cl->stream)
        return;
    SoupServerMessage *msg = cl->stream;
    cl->stream = NULL;
    g_signal_handlers_disconnect_by_data(msg, cl);
    soup_message_body_complete(soup_server_message_get_response_body(msg));
    soup_server_message_unpause(msg);
    g_object_unref(msg);
}

static void stream_open(struct tsr_inlive_req *r)
{
    struct tsr_inlive_client *cl = r->client;
    stream_close(cl); /* one stream per client: the newest wins */
    SoupServerMessage *msg = r->msg;
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
    soup_message_headers_replace(h, "Content-Type", "text/event-stream");
    soup_message_headers_replace(h, "Cache-Control", "no-cache");
    soup_message_headers_replace(h, "Connection", "keep-alive");
    soup_message_headers_replace(h, "X-Accel-Buffering", "no");
    soup_message_body_set_accumulate(soup_server_message_get_response_body(msg), FALSE);
    soup_server_message_set_status(msg, 200, NULL);
    cl->stream = g_object_ref(msg);
    g_signal_connect(msg, "finished", G_CALLBACK(on_stream_finished), cl);
    stream_write(cl, "retry: 3000\n\n");
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
        stream_write(cl, text);
    }
    g_ptr_array_set_size(cl->queue, 0);
}

/* --- requests waiting for a conference call -------------------------------------------- */

/* A request whose reply waits for a call on the participant's net loop: paused,
 * answered from the call's completion. Owned by cl->waiting until then. */
struct inlive_wait {
    struct tsr_inlive_client *cl;
    SoupServerMessage *msg; /* paused; a reference */
    struct tsr_conference_call *call;
    char *sdp; /* the client's offer, for tracks_added */
};

static struct inlive_wait *wait_new(struct tsr_inlive_req *r)
{
    struct inlive_wait *w = g_new0(struct inlive_wait, 1);
    w->cl = r->client;
    w->msg = tsr_http_pause(r->msg);
    g_ptr_array_add(r->client->waiting, w);
    return w;
}

static void wait_done(struct inlive_wait *w)
{
    g_ptr_array_remove_fast(w->cl->waiting, w);
    tsr_http_resume(&w->msg);
    g_free(w->sdp);
    g_free(w);
}

/* The client goes: its calls are called off, their requests answered. */
static void client_cancel_calls(struct tsr_inlive_client *cl)
{
    tsr_conference_call_cancel(&cl->offer_call);
    cl->joining = false;
    while (cl->waiting->len) {
        struct inlive_wait *w = cl->waiting->pdata[0];
        tsr_conference_call_cancel(&w->call);
        tsr_inlive_reply_error(w->msg, 409, "client_gone",
                               "the client was removed before this request was answered");
        wait_done(w);
    }
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
    if (cl->pid[0])
        g_hash_table_remove(cl->room->api->by_pid, cl->pid);
    cl->room->api->n_clients--;
    g_ptr_array_free(cl->candidates, TRUE);
    g_ptr_array_free(cl->queue, TRUE);
    json_decref(cl->tracks_available);
    g_free(cl->offer_sdp);
    g_free(cl->id);
    g_free(cl->name);
    g_free(cl);
}

static void forget_participant(struct tsr_inlive_client *cl)
{
    if (cl->pid[0])
        g_hash_table_remove(cl->room->api->by_pid, cl->pid);
    cl->pid[0] = '\0';
    cl->p = NULL;
}

void tsr_inlive_client_remove(struct tsr_inlive_client *cl, const char *reason)
{
    struct tsr_inlive_room *room = cl->room;
    struct tsr_participant *p = cl->p;
    client_cancel_calls(cl); /* before the leave: nothing may complete into cl */
    forget_participant(cl); /* our own leave must not come back as "gone" */
    if (p)
        tsr_participant_leave(p, TSR_LEAVE_REQUESTED);
    tsr_inlive_client_send(cl, "left",
                           json_pack("{s:s, s:s}", "client_id", cl->id, "reason", reason));
    TSR_LOG(TSR_LOG_INFO, "inlive", "room %s: client %s removed (%s)", room->id, cl->id, reason);
    g_hash_table_remove(room->clients, cl->id); /* frees cl, closing its stream */
    if (g_hash_table_size(room->clients) == 0)
        room->empty_since_us = g_get_monotonic_time();
}

void tsr_inlive_client_participant_gone(struct tsr_inlive_client *cl, const char *reason)
{
    forget_participant(cl);
    tsr_inlive_client_remove(cl, reason);
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
    return name_ok(buf) && !strchr(buf, '/');
}

void tsr_inlive_handle_register(struct tsr_inlive_req *r)
{
    if (!tsr_inlive_read_body(r, true))
        return;
    char uid[TSR_INLIVE_ID_MAX + 1] = "";
    bool given = false, bad = !json_is_object(r->body);
    const char *name = bad ? NULL : opt_string(r->body, "name", &bad);
    json_t *vad = json_object_get(r->body, "enable_vad");
    bad = bad || (vad && !json_is_null(vad) && !json_is_boolean(vad)) ||
          !read_uid(r->body, uid, sizeof uid, &given) || (name && *name && !name_ok(name));
    if (bad) {
        tsr_inlive_reply_error(
            r->msg, 400, "invalid_request_body",
            "invalid request body: optional \"uid\" (string or integer, 1-128 "
            "printable bytes, no '/'), \"name\" (string), \"enable_vad\" (boolean)");
        return;
    }
    if (given && g_hash_table_contains(r->room->clients, uid)) {
        tsr_inlive_reply_error(r->msg, 409, "client_exists", "client already exists");
        return;
    }
    if (!given) {
        do
            for (int i = 0; i < 21; i++)
                uid[i] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    [g_random_int_range(0, 62)];
        while (uid[21] = '\0', g_hash_table_contains(r->room->clients, uid));
    }
    struct tsr_inlive_client *cl = g_new0(struct tsr_inlive_client, 1);
    cl->room = r->room;
    cl->id = g_strdup(uid);
    cl->name = g_strdup(name && *name ? name : uid);
    cl->created_us = g_get_monotonic_time();
    cl->candidates = g_ptr_array_new_with_free_func(json_decref_cb);
    cl->queue = g_ptr_array_new_with_free_func(g_free);
    cl->waiting = g_ptr_array_new();
    g_hash_table_insert(r->room->clients, cl->id, cl);
    r->room->api->n_clients++;
    r->room->empty_since_us = 0;
    TSR_LOG(TSR_LOG_INFO, "inlive", "room %s: client %s registered", r->room->id, cl->id);
    tsr_inlive_reply(r->msg, 200, "client registered", client_json(cl));
}

static void handle_setname(struct tsr_inlive_req *r)
{
    if (!tsr_inlive_read_body(r, false))
        return;
    bool bad = !json_is_object(r->body);
    const char *name = bad ? NULL : opt_string(r->body, "name", &bad);
    if (bad || !name || !name_ok(name)) {
        tsr_inlive_reply_error(r->msg, 400, "invalid_request_body",
                               "invalid request body: \"name\" (string, 1-128 printable bytes)");
        return;
    }
    g_free(r->client->name);
    r->client->name = g_strdup(name);
    tsr_inlive_reply(r->msg, 200, "name updated", client_json(r->client));
}

static void handle_get_client(struct tsr_inlive_req *r)
{
    const char *state = r->client->p ? "connected" : "new";
    tsr_inlive_reply(r->msg, 200, "ok",
                     json_pack("{s:s, s:s, s:s, s:s, s:{}}", "id", r->client->id, "name",
                               r->client->name, "peer_connection_state", state,
                               "ice_peer_connection_state", state, "events"));
}

static void handle_isallow(struct tsr_inlive_req *r)
{
    struct tsr_inlive_client *cl = r->client;
    if (cl->server_offering || cl->offer_call) { /* made or being made */
        cl->pending_allow = true;
        tsr_inlive_reply_error(
            r->msg, 403, "negotiation_not_allowed",
            "not allowed to negotiate: a server offer is waiting for its answer");
        return;
    }
    cl->client_negotiating = true;
    tsr_inlive_reply(r->msg, 200, "negotiation allowed", NULL);
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
        tsr_participant_add_candidate(cl->p, json_string_value(json_object_get(c, "candidate")),
                                      json_string_value(json_object_get(c, "sdpMid")),
                                      json_is_integer(idx) ? (int)json_integer_value(idx) : -1,
                                      NULL, NULL, NULL);
    }
    g_ptr_array_set_size(cl->candidates, 0);
}

static unsigned refusal_status(enum tsr_conference_refusal why)
{
    switch (why) {
    case TSR_CONFERENCE_REFUSAL_NO_SUCH_CONFERENCE:
        return 404;
    case TSR_CONFERENCE_REFUSAL_PIN_REQUIRED:
    case TSR_CONFERENCE_REFUSAL_WRONG_PIN:
    case TSR_CONFERENCE_REFUSAL_FULL:
    case TSR_CONFERENCE_REFUSAL_LOCKED:
        return 403;
    case TSR_CONFERENCE_REFUSAL_MEDIA_UNAVAILABLE:
    case TSR_CONFERENCE_REFUSAL_CAPACITY:
        return 503;
    case TSR_CONFERENCE_REFUSAL_MEDIA_FAILED:
        return 500;
    default:
        return 400;
    }
}

static void reoffer_done(void *user, struct tsr_conference_result *res)
{
    struct inlive_wait *w = user;
    w->call = NULL;
    w->cl->client_negotiating = false;
    if (res->rc == 0)
        tsr_inlive_reply(w->msg, 200, "ok",
                         json_pack("{s:{s:s, s:s}}", "answer", "type", "answer", "sdp", res->sdp));
    else if (res->rc == TSR_ERR_INVALID)
        tsr_inlive_reply_error(w->msg, 400, "invalid_sdp", "invalid offer: %s",
                               res->err_text ? res->err_text : "bad SDP");
    else
        tsr_inlive_reply_error(
            w->msg, 409, "renegotiation_unsupported",
            "this offer cannot be applied to the running session (%s); leave and "
            "register again",
            res->err_text ? res->err_text : tsr_strerror(res->rc));
    wait_done(w);
}

/* A new offer on the running session (spec: clients re-offer after adding tracks,
 * the SDK after allowed_renegotation). */
static void negotiate_reoffer(struct tsr_inlive_req *r, const char *sdp)
{
    struct tsr_inlive_client *cl = r->client;
    if (cl->server_offering) {
        tsr_inlive_reply_error(r->msg, 409, "server_offer_pending",
                               "a server offer is waiting for its answer; answer it first");
        return;
    }
    struct inlive_wait *w = wait_new(r);
    tsr_participant_answer_reoffer(cl->p, sdp, reoffer_done, w, &w->call);
}

/* The first offer's join is back from the net loop. */
static void join_done(void *user, struct tsr_conference_result *res)
{
    struct inlive_wait *w = user;
    struct tsr_inlive_client *cl = w->cl;
    w->call = NULL;
    cl->joining = false;
    if (res->rc != 0) {
        enum tsr_conference_refusal why = res->refusal;
        if (why == TSR_CONFERENCE_REFUSAL_CAPACITY)
            tsr_http_set_retry_after(w->msg, TSR_CONFERENCE_CAPACITY_RETRY_AFTER_S);
        tsr_inlive_reply_error(w->msg, refusal_status(why), tsr_conference_refusal_code(why), "%s",
                               res->err_text);
        wait_done(w);
        return;
    }
    cl->p = res->participant;
    g_strlcpy(cl->pid, tsr_participant_id(cl->p), sizeof cl->pid);
    g_hash_table_insert(cl->room->api->by_pid, cl->pid, cl);
    cl->client_negotiating = false;
    cl->offer_due = true; /* media says whether anything must be added (§7) */
    apply_buffered_candidates(cl);
    json_t *added = tracks_from_offer(cl, w->sdp);
    if (added)
        tsr_inlive_client_send(cl, "tracks_added", added);
    json_decref(cl->tracks_available);
    cl->tracks_available = mix_tracks_available();
    tsr_inlive_client_send(cl, "tracks_available", json_incref(cl->tracks_available));
    tsr_inlive_reply(w->msg, 200, "ok",
                     json_pack("{s:{s:s, s:s}}", "answer", "type", "answer", "sdp", res->sdp));
    wait_done(w);
}

static void negotiate_offer(struct tsr_inlive_req *r, const char *sdp)
{
    struct tsr_inlive_client *cl = r->client;
    if (cl->p) {
        negotiate_reoffer(r, sdp);
        return;
    }
    if (cl->joining) {
        tsr_inlive_reply_error(r->msg, 409, "negotiation_in_progress",
                               "the first offer is still being answered; wait for its answer");
        return;
    }
    struct tsr_conference_join_request jr = {
        .alias = cl->room->alias, .display_name = cl->name, .offer_sdp = sdp};
    struct inlive_wait *w = wait_new(r);
    w->sdp = g_strdup(sdp);
    cl->joining = true;
    tsr_conference_join(cl->room->api->reg, &jr, join_done, w, &w->call);
}

static void answer_done(void *user, struct tsr_conference_result *res)
{
    struct inlive_wait *w = user;
    struct tsr_inlive_client *cl = w->cl;
    w->call = NULL;
    cl->server_offering = false;
    g_clear_pointer(&cl->offer_sdp, g_free);
    cl->offer_written_us = 0;
    if (cl->pending_allow) {
        cl->pending_allow = false;
        tsr_inlive_client_send(cl, "allowed_renegotation", json_object());
    }
    if (res->rc)
        tsr_inlive_reply_error(w->msg, 400, "invalid_answer", "the answer was not applied: %s",
                               res->err_text ? res->err_text : tsr_strerror(res->rc));
    else
        tsr_inlive_reply(w->msg, 200, "ok", NULL);
    wait_done(w);
}

static void negotiate_answer(struct tsr_inlive_req *r, const char *sdp)
{
    struct tsr_inlive_client *cl = r->client;
    if (!cl->server_offering || !cl->p) {
        tsr_inlive_reply_error(r->msg, 409, "no_offer_pending",
                               "there is no server offer to answer");
        return;
    }
    struct inlive_wait *w = wait_new(r);
    tsr_participant_apply_send_answer(cl->p, sdp, answer_done, w, &w->call);
}

static void handle_negotiate(struct tsr_inlive_req *r)
{
    if (!tsr_inlive_read_body(r, false))
        return;
    bool bad = !json_is_object(r->body);
    const char *type = bad ? NULL : opt_string(r->body, "type", &bad);
    const char *sdp = bad ? NULL : opt_string(r->body, "sdp", &bad);
    if (bad || !type || !sdp || !*sdp ||
        (strcmp(type, "offer") != 0 && strcmp(type, "answer") != 0)) {
        tsr_inlive_reply_error(
            r->msg, 400, "invalid_request_body",
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
    struct inlive_wait *w = user;
    w->call = NULL;
    if (res->rc)
        tsr_inlive_reply_error(w->msg, 400, "invalid_candidate", "invalid candidate: %s",
                               tsr_strerror(res->rc));
    else
        tsr_inlive_reply(w->msg, 200, "ok", NULL);
    wait_done(w);
}

static void handle_candidate(struct tsr_inlive_req *r)
{
    if (!tsr_inlive_read_body(r, false))
        return;
    bool bad = !json_is_object(r->body);
    const char *cand = bad ? NULL : opt_string(r->body, "candidate", &bad);
    const char *mid = bad ? NULL : opt_string(r->body, "sdpMid", &bad);
    json_t *idx = json_object_get(r->body, "sdpMLineIndex");
    (void)mid;
    if (bad || !cand || (idx && !json_is_null(idx) && !json_is_integer(idx))) {
        tsr_inlive_reply_error(r->msg, 400, "invalid_request_body",
                               "invalid request body: RTCIceCandidateInit {\"candidate\": string, "
                               "\"sdpMid\"?: string, \"sdpMLineIndex\"?: integer}");
        return;
    }
    struct tsr_inlive_client *cl = r->client;
    if (*cand && !g_str_has_prefix(cand, "candidate:")) {
        tsr_inlive_reply_error(r->msg, 400, "invalid_candidate",
                               "invalid candidate: must start with "
                               "\"candidate:\"");
        return;
    }
    if (!cl->p) { /* it raced ahead of its offer: apply it after the offer */
        if (cl->candidates->len >= TSR_INLIVE_CANDIDATES_MAX) {
            tsr_inlive_reply_error(r->msg, 429, "too_many_candidates",
                                   "too many candidates before the "
                                   "offer");
            return;
        }
        g_ptr_array_add(cl->candidates, json_incref(r->body));
        tsr_inlive_reply(r->msg, 200, "ok", NULL);
        return;
    }
    struct inlive_wait *w = wait_new(r);
    tsr_participant_add_candidate(
        cl->p, cand, json_string_value(json_object_get(r->body, "sdpMid")),
        json_is_integer(idx) ? (int)json_integer_value(idx) : -1, candidate_done, w, &w->call);
}

/* settracksources [{track_id, source}] and subscribetracks [{client_id, track_id}]:
 * checked, then accepted. The MCU sends everyone the same composite, so neither
 * changes what is sent. */
static void handle_track_list(struct tsr_inlive_req *r, bool subscribe)
{
    if (!tsr_inlive_read_body(r, false))
        return;
    bool bad = !json_is_array(r->body);
    size_t i;
    json_t *e;
    json_array_foreach(bad ? NULL : r->body, i, e)
    {
        bool b = !json_is_object(e);
        const char *track = b ? NULL : opt_string(e, "track_id", &b);
        const char *other = b ? NULL : opt_string(e, subscribe ? "client_id" : "source", &b);
        bad = bad || b || !track || !other ||
              (!subscribe && strcmp(other, "media") != 0 && strcmp(other, "screen") != 0);
    }
    if (bad) {
        tsr_inlive_reply_error(r->msg, 400, "invalid_request_body",
                               subscribe
                                   ? "invalid request body: [{\"client_id\": string, \"track_id\": "
                                     "string, \"stream_id\"?: string}]"
                                   : "invalid request body: [{\"track_id\": string, \"source\": "
                                     "\"media\" or \"screen\"}]");
        return;
    }
    tsr_inlive_reply(r->msg, 200, "ok", NULL);
}

void tsr_inlive_handle_client_action(struct tsr_inlive_req *r, const char *action)
{
    if (strcmp(action, "client") == 0)
        handle_get_client(r);
    else if (strcmp(action, "setname") == 0)
        handle_setname(r);
    else if (strcmp(action, "isallownegotiate") == 0)
        handle_isallow(r);
    else if (strcmp(action, "negotiate") == 0)
        handle_negotiate(r);
    else if (strcmp(action, "candidate") == 0)
        handle_candidate(r);
    else if (strcmp(action, "events") == 0)
        stream_open(r);
    else if (strcmp(action, "settracksources") == 0 || strcmp(action, "subscribetracks") == 0)
        handle_track_list(r, strcmp(action, "subscribetracks") == 0);
    else if (strcmp(action, "leave") == 0) {
        tsr_inlive_client_remove(r->client, "left");
        tsr_inlive_reply(r->msg, 200, "client left", NULL);
    }
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
        TSR_LOG(TSR_LOG_INFO, "inlive", "client %s: server offer adds send-only m-lines", cl->id);
        tsr_inlive_client_send(cl, "offer",
                               json_pack("{s:s, s:s}", "type", "offer", "sdp", cl->offer_sdp));
    } else if (res->rc != TSR_ERR_NOT_FOUND) {
        TSR_LOG(TSR_LOG_WARN, "inlive", "client %s: no server offer: %s", cl->id,
                res->err_text ? res->err_text : tsr_strerror(res->rc));
    }
}

/* §5.3: offer only when connected (media says TSR_ERR_AGAIN before), stable, and
 * the client is not negotiating itself. */
static void maybe_offer(struct tsr_inlive_client *cl)
{
    if (!cl->offer_due || !cl->p || cl->server_offering || cl->client_negotiating || cl->offer_call)
        return;
    tsr_participant_create_send_offer(cl->p, offer_done, cl, &cl->offer_call);
}

bool tsr_inlive_client_tick(struct tsr_inlive_client *cl, int64_t now_us, bool ping, bool refresh)
{
    if (cl->server_offering && cl->offer_written_us &&
        now_us - cl->offer_written_us > TSR_INLIVE_API_ANSWER_TIMEOUT_S * G_USEC_PER_SEC) {
        tsr_inlive_client_remove(cl, "no answer to the server offer");
        return false;
    }
    if (!cl->p && now_us - cl->created_us > TSR_INLIVE_API_IDLE_CLIENT_S * G_USEC_PER_SEC) {
        tsr_inlive_client_remove(cl, "never negotiated");
        return false;
    }
    if (refresh && cl->p) /* inLive clients carry no token: keep theirs alive */
        tsr_participant_refresh(cl->p);
    maybe_offer(cl);
    if (ping && cl->stream)
        tsr_inlive_client_send(cl, "ping", json_object());
    return true;
}
