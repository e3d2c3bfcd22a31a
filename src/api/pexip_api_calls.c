/* Pexip client API: participants/{uuid}/… — the call (SDP offer → answer, ack,
 * trickle, renegotiation, hang-up) and the participant actions (mute, video mute,
 * raise hand, kick, direct chat). Home thread: the API loop. */
#include "pexip_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>

#include <string.h>

static const char *body_str(struct pex_req *r, const char *key, bool *bad)
{
    json_t *v = json_object_get(r->body, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

/* The participant in the path must be the token's owner (its own call). */
static bool is_self(struct pex_req *r, struct tsr_participant *a)
{
    if (strcmp(tsr_participant_id(a), r->seg[2]) == 0)
        return true;
    if (tsr_conference_registry_find_participant(r->api->reg, r->seg[2]))
        tsr_pex_fail(r, 403, "That is another participant's call");
    else
        tsr_pex_fail(r, 404, "No participant %s in this conference", r->seg[2]);
    return false;
}

/* --- the call ------------------------------------------------------------------ */

static unsigned refusal_status(enum tsr_conference_refusal why)
{
    switch (why) {
    case TSR_CONFERENCE_REFUSAL_BAD_SDP: return 400;
    case TSR_CONFERENCE_REFUSAL_MEDIA_FAILED: return 500;
    default: return 403; /* no common codec, no media engine: the app shows the error */
    }
}

static void handle_calls(struct pex_req *r, struct tsr_participant *p)
{
    bool bad = false;
    const char *sdp = body_str(r, "sdp", &bad);
    const char *call_type = body_str(r, "call_type", &bad);
    if (bad || !sdp || !*sdp || (call_type && strcmp(call_type, "WEBRTC") != 0)) {
        tsr_pex_fail(r, 400, "Body needs \"call_type\": \"WEBRTC\" and \"sdp\" (an SDP offer)");
        return;
    }
    if (tsr_participant_has_media(p)) {
        tsr_pex_fail(r, 403, "This participant already has a call; use update");
        return;
    }
    char *answer = NULL, *err = NULL;
    enum tsr_conference_refusal why = TSR_CONFERENCE_REFUSAL_NONE;
    if (tsr_participant_attach_media(p, sdp, &answer, &why, &err) != 0) {
        if (why == TSR_CONFERENCE_REFUSAL_CAPACITY)
            tsr_pex_fail(r, 403, TSR_PEX_OUT_OF_RESOURCE);
        else
            tsr_pex_fail(r, refusal_status(why), "%s", err ? err : "media refused");
        g_free(err);
        return;
    }
    char *uuid = g_uuid_string_random();
    g_hash_table_replace(r->api->calls, g_strdup(tsr_participant_id(p)), g_strdup(uuid));
    tsr_pex_reply(r, 200, true, json_pack("{s:s, s:s}", "call_uuid", uuid, "sdp", answer));
    g_free(uuid);
    g_free(answer);
}

static void handle_new_candidate(struct pex_req *r, struct tsr_participant *p)
{
    bool bad = false;
    const char *cand = body_str(r, "candidate", &bad);
    const char *mid = body_str(r, "mid", &bad);
    body_str(r, "ufrag", &bad);
    if (bad || !cand) {
        tsr_pex_fail(r, 400, "Body needs \"candidate\" (string; \"\" ends), optional \"mid\" "
                             "and \"ufrag\" (strings)");
        return;
    }
    int rc = tsr_participant_add_candidate(p, cand, mid, -1);
    if (rc != 0) {
        tsr_pex_fail(r, 400, "The candidate was not accepted: %s", tsr_strerror(rc));
        return;
    }
    tsr_pex_reply(r, 200, true, NULL);
}

static void handle_update(struct pex_req *r, struct tsr_participant *p)
{
    bool bad = false;
    const char *sdp = body_str(r, "sdp", &bad);
    if (bad || !sdp || !*sdp) {
        tsr_pex_fail(r, 400, "Body needs \"sdp\" (an SDP offer)");
        return;
    }
    char *answer = NULL, *err = NULL;
    int rc = tsr_participant_renegotiate(p, sdp, &answer, &err);
    if (rc != 0) {
        tsr_pex_fail(r, rc == TSR_ERR_INVALID ? 400 : 403, "%s", err ? err : "refused");
        g_free(err);
        return;
    }
    /* A plain string answer: the SDK accepts it and it needs no call_uuid. */
    tsr_pex_reply(r, 200, true, json_string(answer));
    g_free(answer);
}

static void route_call(struct pex_req *r, struct tsr_participant *p)
{
    const char *call = r->seg[4], *action = r->seg[5];
    const char *mine = g_hash_table_lookup(r->api->calls, tsr_participant_id(p));
    if (!mine || strcmp(mine, call) != 0) {
        tsr_pex_fail(r, 404, "No call %s for this participant", call);
        return;
    }
    if (strcmp(action, "ack") == 0) {
        /* Media already flows from the answer; ack may repeat (after every update). */
        tsr_pex_reply(r, 200, true, json_true());
    } else if (strcmp(action, "new_candidate") == 0) {
        handle_new_candidate(r, p);
    } else if (strcmp(action, "update") == 0) {
        handle_update(r, p);
    } else if (strcmp(action, "disconnect") == 0) {
        g_hash_table_remove(r->api->calls, tsr_participant_id(p));
        tsr_participant_detach_media(p); /* stays signed in until release_token */
        tsr_pex_reply(r, 200, true, NULL);
    } else {
        tsr_pex_fail(r, 403, "Not supported");
    }
}

/* --- participant actions ------------------------------------------------------------ */

static void reply_rc(struct pex_req *r, int rc)
{
    if (rc == 0)
        tsr_pex_reply(r, 200, true, json_true());
    else
        tsr_pex_fail(r, 403, "Not permitted");
}

static void participant_action(struct pex_req *r, struct tsr_participant *a,
                               struct tsr_participant *t, const char *action)
{
    if (strcmp(action, "mute") == 0 || strcmp(action, "unmute") == 0) {
        reply_rc(r, tsr_participant_set_muted(a, t, false, strcmp(action, "mute") == 0));
    } else if (strcmp(action, "video_muted") == 0 || strcmp(action, "video_unmuted") == 0) {
        reply_rc(r, tsr_participant_set_muted(a, t, true, strcmp(action, "video_muted") == 0));
    } else if (strcmp(action, "buzz") == 0 || strcmp(action, "clearbuzz") == 0) {
        reply_rc(r, tsr_participant_set_hand_raised(a, t, strcmp(action, "buzz") == 0));
    } else if (strcmp(action, "disconnect") == 0) {
        if (a == t) {
            tsr_participant_leave(a, TSR_LEAVE_REQUESTED);
            tsr_pex_reply(r, 200, true, NULL);
        } else if (tsr_participant_kick(a, t) == 0) {
            tsr_pex_reply(r, 200, true, NULL);
        } else {
            tsr_pex_fail(r, 403, "Only a host may disconnect others");
        }
    } else {
        /* take_floor, spotlight, role, overlaytext …: participant-level refusal. */
        tsr_pex_fail(r, 403, "Not supported");
    }
}

void tsr_pex_route_participant(struct pex_req *r)
{
    /* seg: alias, "participants", uuid, action[, call_uuid, call_action] */
    bool call_path = r->n_seg == 6 && strcmp(r->seg[3], "calls") == 0;
    if ((r->n_seg != 4 && !call_path) || !r->seg[2][0] || !r->seg[3][0] ||
        (call_path && (!r->seg[4][0] || !r->seg[5][0]))) {
        tsr_pex_fail(r, 404, "Not found");
        return;
    }
    if (strcmp(r->method, "POST") != 0) {
        soup_message_headers_replace(soup_server_message_get_response_headers(r->msg), "Allow",
                                     "POST");
        tsr_pex_fail(r, 405, "%s is not allowed here; use POST", r->method);
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
    if (!(t = tsr_pex_target(r, a, r->seg[2])))
        return;
    if (strcmp(action, "message") != 0) {
        participant_action(r, a, t, action);
        return;
    }
    bool bad = false;
    const char *type = body_str(r, "type", &bad);
    const char *payload = body_str(r, "payload", &bad);
    int rc = bad || !type || !payload ? TSR_ERR_INVALID
                                      : tsr_conference_send_message(a, t, type, payload);
    if (rc == TSR_ERR_INVALID)
        tsr_pex_fail(r, 400, "Body needs \"type\" (a MIME type) and \"payload\" (string, at "
                             "most %d bytes)", TSR_CONFERENCE_MESSAGE_MAX);
    else
        reply_rc(r, rc);
}
