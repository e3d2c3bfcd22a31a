/* Pexip client API: participants/{uuid}/… — the call (SDP offer → answer, ack,
 * trickle, renegotiation, hang-up) and the participant actions (mute, video mute,
 * raise hand, kick, direct chat). The call's id lives on the participant's front
 * session, so it goes when the participant does. Home thread: the API loop. */
#include "pexip_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>

#include <string.h>

static struct tsr_pexip_api *api_of(const struct tsr_front_req *r)
{
    return r->api;
}

/* The participant in the path must be the token's owner (its own call). */
static bool is_self(struct tsr_front_req *r, struct tsr_participant *a)
{
    if (strcmp(tsr_participant_id(a), r->seg[2]) == 0)
        return true;
    if (tsr_conference_registry_find_participant(api_of(r)->reg, r->seg[2]))
        tsr_front_req_fail(r, 403, "forbidden", "That is another participant's call");
    else
        tsr_front_req_fail(r, 404, "no_such_participant", "No participant %s in this conference",
                           r->seg[2]);
    return false;
}

/* --- the call ------------------------------------------------------------------ */

static void session_unref_cb(gpointer data)
{
    tsr_front_session_unref(data);
}

/* A request parked until p's call completes; it keeps p's session for the call id. */
static struct tsr_front_wait *wait_new(struct tsr_front_req *r, struct tsr_participant *p)
{
    struct tsr_front_wait *w = tsr_front_wait_new(r, api_of(r)->waiting);
    struct tsr_front_session *session = tsr_front_session_of(p);
    w->data = session ? tsr_front_session_ref(session) : NULL;
    w->data_free = session_unref_cb;
    return w;
}

static void calls_done(void *user, struct tsr_conference_result *res)
{
    struct tsr_front_wait *w = tsr_front_wait_resumed(user);
    if (res->rc != 0) {
        tsr_front_req_refuse(&w->req, res->refusal,
                             res->err_text ? res->err_text : "media refused");
        tsr_front_wait_done(w);
        return;
    }
    char *uuid = g_uuid_string_random();
    tsr_front_session_set_data(w->data, g_strdup(uuid), g_free);
    tsr_pex_reply(&w->req, 200, json_pack("{s:s, s:s}", "call_uuid", uuid, "sdp", res->sdp));
    g_free(uuid);
    tsr_front_wait_done(w);
}

static void handle_calls(struct tsr_front_req *r, struct tsr_participant *p)
{
    bool bad = false;
    const char *sdp = tsr_front_json_str(r->body, "sdp", &bad);
    const char *call_type = tsr_front_json_str(r->body, "call_type", &bad);
    if (bad || !sdp || !*sdp || (call_type && strcmp(call_type, "WEBRTC") != 0)) {
        tsr_front_req_fail(r, 400, "bad_request",
                           "Body needs \"call_type\": \"WEBRTC\" and \"sdp\" (an SDP offer)");
        return;
    }
    struct tsr_front_session *session = tsr_front_session_of(p);
    if (tsr_participant_has_media(p)) {
        tsr_front_req_fail(r, 403, "call_exists",
                           "This participant already has a call; use update");
        return;
    }
    if (!session) { /* joined past every front (a tool): nowhere to keep the call */
        tsr_front_req_fail(r, 403, "not_supported", "Not supported");
        return;
    }
    struct tsr_front_wait *w = wait_new(r, p);
    tsr_participant_attach_media(p, sdp, calls_done, w, &w->call);
}

static void candidate_done(void *user, struct tsr_conference_result *res)
{
    struct tsr_front_wait *w = tsr_front_wait_resumed(user);
    if (res->rc != 0)
        tsr_front_req_fail(&w->req, 400, "bad_candidate", "The candidate was not accepted: %s",
                           tsr_strerror(res->rc));
    else
        tsr_pex_reply(&w->req, 200, NULL);
    tsr_front_wait_done(w);
}

static void handle_new_candidate(struct tsr_front_req *r, struct tsr_participant *p)
{
    bool bad = false;
    const char *cand = tsr_front_json_str(r->body, "candidate", &bad);
    const char *mid = tsr_front_json_str(r->body, "mid", &bad);
    tsr_front_json_str(r->body, "ufrag", &bad);
    if (bad || !cand) {
        tsr_front_req_fail(r, 400, "bad_request",
                           "Body needs \"candidate\" (string; \"\" ends), optional \"mid\" "
                           "and \"ufrag\" (strings)");
        return;
    }
    struct tsr_front_wait *w = wait_new(r, p);
    tsr_participant_add_candidate(p, cand, mid, -1, candidate_done, w, &w->call);
}

static void update_done(void *user, struct tsr_conference_result *res)
{
    struct tsr_front_wait *w = tsr_front_wait_resumed(user);
    int rc = res->rc;
    if (rc != 0)
        tsr_front_req_fail(&w->req, rc == TSR_ERR_INVALID ? 400 : 403,
                           rc == TSR_ERR_INVALID ? "bad_sdp" : "renegotiation_refused", "%s",
                           res->err_text ? res->err_text : "refused");
    else /* A plain string answer: the SDK accepts it and it needs no call_uuid. */
        tsr_pex_reply(&w->req, 200, json_string(res->sdp));
    tsr_front_wait_done(w);
}

static void handle_update(struct tsr_front_req *r, struct tsr_participant *p)
{
    bool bad = false;
    const char *sdp = tsr_front_json_str(r->body, "sdp", &bad);
    if (bad || !sdp || !*sdp) {
        tsr_front_req_fail(r, 400, "bad_request", "Body needs \"sdp\" (an SDP offer)");
        return;
    }
    struct tsr_front_wait *w = wait_new(r, p);
    tsr_participant_renegotiate(p, sdp, update_done, w, &w->call);
}

static void route_call(struct tsr_front_req *r, struct tsr_participant *p)
{
    const char *call = r->seg[4], *action = r->seg[5];
    struct tsr_front_session *session = tsr_front_session_of(p);
    const char *mine = session ? tsr_front_session_data(session) : NULL;
    if (!mine || strcmp(mine, call) != 0) {
        tsr_front_req_fail(r, 404, "no_such_call", "No call %s for this participant", call);
        return;
    }
    if (strcmp(action, "ack") == 0) {
        /* Media already flows from the answer; ack may repeat (after every update). */
        tsr_pex_reply(r, 200, json_true());
    } else if (strcmp(action, "new_candidate") == 0) {
        handle_new_candidate(r, p);
    } else if (strcmp(action, "update") == 0) {
        handle_update(r, p);
    } else if (strcmp(action, "disconnect") == 0) {
        tsr_front_session_set_data(session, NULL, NULL);
        tsr_participant_detach_media(p); /* stays signed in until release_token */
        tsr_pex_reply(r, 200, NULL);
    } else {
        tsr_front_req_fail(r, 403, "not_supported", "Not supported");
    }
}

/* --- participant actions ------------------------------------------------------------ */

static void reply_rc(struct tsr_front_req *r, int rc)
{
    if (rc == 0)
        tsr_pex_reply(r, 200, json_true());
    else
        tsr_front_req_fail(r, 403, "forbidden", "Not permitted");
}

/* Spec §7: the presenter's own floor. The SDK then sends its slides on its call
 * (an `update` with the slides line sendonly); the media engine shows them as the
 * presentation while the floor is held and the line sends. */
static void floor_action(struct tsr_front_req *r, struct tsr_participant *a,
                         struct tsr_participant *t, bool take)
{
    if (a != t) {
        tsr_front_req_fail(r, 403, "forbidden", "Presentation rejected");
        return;
    }
    if (!take) {
        tsr_participant_stop_presentation(a); /* not presenting: nothing to release */
        tsr_pex_reply(r, 200, NULL);
    } else if (tsr_participant_take_floor(a) == 0) {
        tsr_pex_reply(r, 200, NULL);
    } else {
        tsr_front_req_fail(r, 403, "forbidden", "Presentation rejected");
    }
}

static void participant_action(struct tsr_front_req *r, struct tsr_participant *a,
                               struct tsr_participant *t, const char *action)
{
    if (strcmp(action, "mute") == 0 || strcmp(action, "unmute") == 0) {
        reply_rc(r, tsr_participant_set_muted(a, t, false, strcmp(action, "mute") == 0));
    } else if (strcmp(action, "video_muted") == 0 || strcmp(action, "video_unmuted") == 0) {
        reply_rc(r, tsr_participant_set_muted(a, t, true, strcmp(action, "video_muted") == 0));
    } else if (strcmp(action, "buzz") == 0 || strcmp(action, "clearbuzz") == 0) {
        reply_rc(r, tsr_participant_set_hand_raised(a, t, strcmp(action, "buzz") == 0));
    } else if (strcmp(action, "spotlighton") == 0 || strcmp(action, "spotlightoff") == 0) {
        reply_rc(r, tsr_participant_set_spotlight(a, t, strcmp(action, "spotlighton") == 0));
    } else if (strcmp(action, "message") == 0) {
        tsr_pex_send_message(r, a, t);
    } else if (strcmp(action, "disconnect") == 0) {
        if (a == t) {
            tsr_participant_leave(a, TSR_LEAVE_REQUESTED);
            tsr_pex_reply(r, 200, NULL);
        } else if (tsr_participant_kick(a, t) == 0) {
            tsr_pex_reply(r, 200, NULL);
        } else {
            tsr_front_req_fail(r, 403, "forbidden", "Only a host may disconnect others");
        }
    } else if (strcmp(action, "take_floor") == 0 || strcmp(action, "release_floor") == 0) {
        floor_action(r, a, t, strcmp(action, "take_floor") == 0);
    } else {
        /* role, overlaytext …: participant-level refusal. */
        tsr_front_req_fail(r, 403, "not_supported", "Not supported");
    }
}

void tsr_pex_route_participant(struct tsr_front_req *r)
{
    /* seg: alias, "participants", uuid, action[, call_uuid, call_action] */
    bool call_path = r->n_seg == 6 && strcmp(r->seg[3], "calls") == 0;
    if ((r->n_seg != 4 && !call_path) || !r->seg[2][0] || !r->seg[3][0] ||
        (call_path && (!r->seg[4][0] || !r->seg[5][0]))) {
        tsr_front_req_fail(r, 404, "not_found", "Not found");
        return;
    }
    if (!tsr_front_req_is(r, "POST")) {
        tsr_front_req_method_not_allowed(r, "POST");
        return;
    }
    struct tsr_participant *a = tsr_pex_actor(r), *t = NULL;
    if (!a || !tsr_pex_read_body(r))
        return;
    const char *action = r->seg[3];
    if (call_path || strcmp(action, "calls") == 0) {
        if (!is_self(r, a))
            return;
        if (call_path)
            route_call(r, a);
        else
            handle_calls(r, a);
        return;
    }
    if (strcmp(action, "disconnect") == 0 && tsr_pex_output_disconnect(r, a, r->seg[2]))
        return;
    if ((t = tsr_pex_target(r, a, r->seg[2])) != NULL)
        participant_action(r, a, t, action);
}
