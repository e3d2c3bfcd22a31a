/* One SIP call: an INVITE becomes a join with its SDP offer, the answer goes back
 * in the 200 OK, a refusal becomes a SIP error with a Reason header; BYE, CANCEL
 * and the core removing the participant end it. Home thread: the API loop. */
#include "sip_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <sofia-sip/sip_tag.h>

#include <string.h>

static void update_gauge(struct tsr_sip_front *f)
{
    tsr_gauge_set(f->calls_gauge, (double)f->calls->len);
}

/* A final error answer to the INVITE; the dialog then terminates (nua_i_state). */
static void reject(struct sip_call *c, const struct tsr_front_error *e)
{
    tsr_front_count_error(&tsr_sip_front_desc, c->alias[0] ? c->alias : "-", e);
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s] call refused: %u %s", c->alias, e->status, e->text);
    char reason[TSR_SIP_REASON_MAX];
    tsr_sip_reason_value(e->status, e->text, reason);
    char retry[16];
    g_snprintf(retry, sizeof retry, "%u", e->retry_after_s);
    c->answered = true;
    nua_respond(c->nh, (int)e->status, tsr_sip_status_phrase(e->status), SIPTAG_REASON_STR(reason),
                TAG_IF(e->retry_after_s, SIPTAG_RETRY_AFTER_STR(retry)), TAG_END());
}

static void reject_text(struct sip_call *c, unsigned status, const char *code, const char *text)
{
    struct tsr_front_error e = {.status = status, .code = code, .text = text};
    reject(c, &e);
}

/* The participant leaves (if it is in); our own leave does not come back as on_left. */
static void leave(struct sip_call *c, enum tsr_leave_reason reason)
{
    tsr_sip_lobby_close(c);
    tsr_conference_call_cancel(&c->join); /* a join still on a net loop: undone */
    tsr_conference_call_cancel(&c->reneg);
    if (!c->session)
        return;
    tsr_front_session_on_left(c->session, NULL, NULL);
    tsr_front_session_leave(c->session, reason);
    c->session = tsr_front_session_unref(c->session);
}

void tsr_sip_call_bye(struct sip_call *c, unsigned cause, const char *text)
{
    if (c->bye_sent)
        return;
    c->bye_sent = true;
    char reason[TSR_SIP_REASON_MAX];
    tsr_sip_reason_value(cause, text, reason);
    nua_bye(c->nh, TSR_SIP_CONTACT(c), SIPTAG_REASON_STR(reason), TAG_END());
}

/* The core removed the participant (kick, media failure, conference ended). */
static void on_left(struct tsr_front_session *session, enum tsr_leave_reason reason, void *user)
{
    struct sip_call *c = user;
    (void)session;
    c->session = tsr_front_session_unref(c->session);
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s] removed (%s): BYE", c->alias, tsr_leave_reason_name(reason));
    if (reason == TSR_LEAVE_MEDIA_FAILED) { /* e.g. a DTLS-SRTP handshake that failed */
        struct tsr_front_error e = {
            .status = 500, .code = "media_failed", .text = "the call's media failed"};
        tsr_front_count_error(&tsr_sip_front_desc, c->alias, &e);
    }
    tsr_sip_call_bye(c, reason == TSR_LEAVE_MEDIA_FAILED ? 500 : 200,
                     tsr_leave_reason_name(reason));
}

static void join_done(void *user, struct tsr_conference_result *res)
{
    struct sip_call *c = user;
    c->join = NULL;
    if (c->outbound) {
        tsr_sip_dialout_joined(c, res);
        return;
    }
    if (c->lobby) {
        tsr_sip_lobby_join_done(c, res);
        return;
    }
    if (res->rc != 0) {
        c->session = tsr_front_session_unref(c->session); /* the core let go of it too */
        struct tsr_front_error e;
        tsr_front_refusal_error(&tsr_sip_front_desc, res->refusal, res->err_text, &e);
        reject(c, &e);
        return;
    }
    c->local_sdp = g_steal_pointer(&res->sdp);
    c->answered = true;
    c->awaiting_ack = !c->offer;
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s/%s] joined over SIP%s", c->alias,
            tsr_participant_id(res->participant),
            c->awaiting_ack ? ", our offer in the 200, the answer due in the ACK" : "");
    nua_respond(c->nh, SIP_200_OK, TSR_SIP_CONTACT(c), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(c->local_sdp), TAG_END());
}

/* Checks what the front can check itself, then joins; false: already refused. */
static bool admit(struct sip_call *c, const struct tsr_sip_invite *inv)
{
    struct tsr_front_error e;
    if (!tsr_conference_alias_valid(inv->alias)) {
        tsr_front_alias_error(&e);
        reject(c, &e);
        return false;
    }
    if (!tsr_conference_registry_knows(c->front->reg, inv->alias) &&
        !tsr_conference_registry_allow_adhoc(c->front->reg)) {
        char *text = g_strdup_printf("there is no conference '%s'", inv->alias);
        tsr_front_refusal_error(&tsr_sip_front_desc, TSR_CONFERENCE_REFUSAL_NO_SUCH_CONFERENCE,
                                text, &e);
        reject(c, &e);
        g_free(text);
        return false;
    }
    return true;
}

/* Lobbies are answered before any PIN and hold sockets and timers, so their
 * number is bounded, per caller address and in all: refused (and counted) past it. */
static bool lobby_full(struct sip_call *c)
{
    guint mine = 0, all = 0;
    for (guint i = 0; i < c->front->calls->len; i++) {
        const struct sip_call *o = c->front->calls->pdata[i];
        if (!o->lobby)
            continue;
        all++;
        mine += strcmp(o->client_address, c->client_address) == 0;
    }
    if (mine >= TSR_SIP_LOBBIES_PER_ADDRESS) {
        reject_text(c, 486, "lobby_full", "too many calls from this address are waiting for a PIN");
        return true;
    }
    if (all >= TSR_SIP_LOBBIES_MAX) {
        struct tsr_front_error e = {.status = 503,
                                    .code = "lobby_full",
                                    .text = "too many calls are waiting for a PIN",
                                    .retry_after_s = 30};
        reject(c, &e);
        return true;
    }
    return false;
}

void tsr_sip_call_invite(struct tsr_sip_front *f, nua_handle_t *nh, const sip_t *sip)
{
    struct sip_call *c = g_new0(struct sip_call, 1);
    c->front = f;
    c->nh = nh;
    nua_handle_bind(nh, c);
    g_ptr_array_add(f->calls, c);
    update_gauge(f);
    c->contact = tsr_sip_tls_contact(sip, f->tls_port);
    struct tsr_sip_invite inv;
    const char *why = NULL;
    if (tsr_sip_invite_read(sip, &inv, &why) != 0) {
        reject_text(c, 415, "bad_request", why);
        return;
    }
    g_strlcpy(c->alias, inv.alias, sizeof c->alias);
    g_strlcpy(c->display_name, inv.display_name, sizeof c->display_name);
    const char *transport =
        sip->sip_via && sip->sip_via->v_protocol ? sip->sip_via->v_protocol : "?";
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s] INVITE from '%s' over %s", c->alias, inv.display_name,
            transport);
    if (!admit(c, &inv))
        return;
    const sip_via_t *via = sip->sip_via;
    if (via)
        g_strlcpy(c->client_address, via->v_received ? via->v_received : via->v_host,
                  sizeof c->client_address);
    c->offer = inv.sdp ? g_strndup(inv.sdp, inv.sdp_len) : NULL;
    bool pin = false;
    if (tsr_conference_registry_pin_required(f->reg, inv.alias, &pin) == 0 && pin) {
        if (lobby_full(c))
            return;
        /* Without SDP the lobby offers and the caller answers in its ACK. */
        if (!inv.sdp && tsr_sip_lobby_offer(c, &why) != 0)
            reject_text(c, 500, "pin_entry_unavailable", why);
        else if (inv.sdp && tsr_sip_lobby_open(c, inv.sdp, inv.sdp_len, &why) != 0)
            reject_text(c, 488, "pin_entry_unavailable", why);
        return;
    }
    tsr_sip_call_join(c, NULL);
}

void tsr_sip_call_join(struct sip_call *c, const char *pin)
{
    c->session = tsr_front_session_new(&tsr_sip_front_desc, TSR_PARTICIPANT_BOUND);
    tsr_front_session_on_left(c->session, on_left, c);
    struct tsr_conference_invitation invitation = {.participant_id = c->participant_id,
                                                   .role = c->role};
    struct tsr_conference_join_request req = {
        .alias = c->alias,
        .display_name = c->display_name,
        .pin = pin,
        .client_address = c->client_address[0] ? c->client_address : NULL,
        .offer_sdp = c->offer,
        .make_offer = !c->offer, /* an INVITE without SDP: we offer in the 200 */
        .holder = tsr_front_session_holder(c->session),
        .invitation = c->outbound ? &invitation : NULL,
    };
    tsr_conference_join(c->front->reg, &req, join_done, c, &c->join);
}

/* Answers the pending re-offer: the re-INVITE (the dialog's INVITE server request)
 * or the UPDATE saved when it came. reason and sdp may be NULL. */
static void respond_reoffer(struct sip_call *c, int status, const char *phrase, const char *reason,
                            const char *sdp)
{
    msg_t *update = c->update_saved ? nua_saved_event_request(c->update_event) : NULL;
    nua_respond(c->nh, status, phrase, TAG_IF(update, NUTAG_WITH(update)), TSR_SIP_CONTACT(c),
                TAG_IF(reason, SIPTAG_REASON_STR(reason)),
                TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
                TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)), TAG_END());
    if (c->update_saved) {
        nua_destroy_event(c->update_event);
        c->update_saved = false;
    }
}

/* A re-offer's refusal, counted, with a Reason header. */
static void refuse_reoffer(struct sip_call *c, unsigned status, const char *text)
{
    struct tsr_front_error e = {.status = status, .code = "bad_reinvite", .text = text};
    tsr_front_count_error(&tsr_sip_front_desc, c->alias, &e);
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s] re-offer refused: %u %s", c->alias, status, text);
    char reason[TSR_SIP_REASON_MAX];
    tsr_sip_reason_value(status, text, reason);
    respond_reoffer(c, (int)status, tsr_sip_status_phrase(status), reason, NULL);
}

/* The net loop answered a re-INVITE's or UPDATE's offer: 200 with the new answer,
 * or a refusal that leaves the call as it was (RFC 3261 §14.2, RFC 3311 §5.2: the
 * old session stays). */
static void reneg_done(void *user, struct tsr_conference_result *res)
{
    struct sip_call *c = user;
    c->reneg = NULL;
    if (res->rc != 0) {
        const char *text = res->err_text ? res->err_text : tsr_strerror(res->rc);
        refuse_reoffer(c, res->rc == TSR_ERR_INVALID ? 400 : 488, text);
        return;
    }
    g_free(c->local_sdp);
    c->local_sdp = g_steal_pointer(&res->sdp);
    if (c->sdp_session_id) { /* the lobby's o= line goes on */
        char *sdp = tsr_sip_sdp_set_origin(c->local_sdp, c->sdp_session_id, ++c->sdp_version);
        g_free(c->local_sdp);
        c->local_sdp = sdp;
    }
    respond_reoffer(c, SIP_200_OK, NULL, c->local_sdp);
}

/* A re-INVITE (update false) or an UPDATE (RFC 3311) on an established call: an
 * offer renegotiates the media; none is a session-timer refresh (RFC 4028), which
 * nua has already accounted for: a re-INVITE gets our current description, an
 * UPDATE a 200 without a body. */
static void reoffer(struct sip_call *c, const sip_t *sip, bool update)
{
    struct tsr_sip_invite inv;
    const char *why = NULL;
    nua_t *nua = c->front->nua;
    struct tsr_participant *p = c->session ? tsr_front_session_participant(c->session) : NULL;
    /* In the PIN lobby there is no participant yet, but a session refresh (no
     * offer) must still get its 200, or nua ends the call while the PIN is typed. */
    bool lobby_refresh = c->lobby && c->local_sdp && !c->reneg && !c->join && !c->awaiting_ack &&
                         tsr_sip_invite_read(sip, &inv, &why) == 0 && !inv.sdp;
    if (!lobby_refresh &&
        (!c->local_sdp || c->reneg || c->awaiting_ack || c->reinvite_offer || !p)) {
        nua_respond(c->nh, SIP_491_REQUEST_PENDING, NUTAG_WITH_THIS(nua), TAG_END());
        return;
    }
    if (tsr_sip_invite_read(sip, &inv, &why) != 0) {
        struct tsr_front_error e = {.status = 415, .code = "bad_request", .text = why};
        tsr_front_count_error(&tsr_sip_front_desc, c->alias, &e);
        char reason[TSR_SIP_REASON_MAX];
        tsr_sip_reason_value(415, why, reason);
        nua_respond(c->nh, SIP_415_UNSUPPORTED_MEDIA, NUTAG_WITH_THIS(nua),
                    SIPTAG_REASON_STR(reason), TAG_END());
        return;
    }
    if (!inv.sdp) {
        nua_respond(c->nh, SIP_200_OK, NUTAG_WITH_THIS(nua), TSR_SIP_CONTACT(c),
                    TAG_IF(!update, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
                    TAG_IF(!update, SIPTAG_PAYLOAD_STR(c->local_sdp)), TAG_END());
        return;
    }
    if (update) {
        nua_save_event(nua, c->update_event);
        c->update_saved = true;
    }
    char *offer = g_strndup(inv.sdp, inv.sdp_len);
    tsr_participant_renegotiate(p, offer, reneg_done, c, &c->reneg);
    g_free(offer);
}

void tsr_sip_call_answer_failed(struct sip_call *c, unsigned status, const char *code,
                                const char *text)
{
    struct tsr_front_error e = {.status = status, .code = code, .text = text};
    tsr_front_count_error(&tsr_sip_front_desc, c->alias, &e);
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s] the answer to our offer failed: %u %s: BYE", c->alias,
            status, text);
    leave(c, TSR_LEAVE_MEDIA_FAILED); /* also closes a lobby */
    tsr_sip_call_bye(c, status, text);
}

static void answer_done(void *user, struct tsr_conference_result *res)
{
    struct sip_call *c = user;
    c->reneg = NULL;
    if (res->rc == 0) {
        TSR_LOG(TSR_LOG_INFO, "sip", "[%s] media from the answer to our offer", c->alias);
        return;
    }
    const char *text = res->err_text ? res->err_text : tsr_strerror(res->rc);
    tsr_sip_call_answer_failed(c, res->rc == TSR_ERR_INVALID ? 400 : 488, "bad_answer", text);
}

/* The SDP body of an ACK or a response (NULL without one); false: a body that is
 * not application/sdp. */
static bool sdp_body(const sip_t *sip, const char **sdp, size_t *len)
{
    const sip_payload_t *pl = sip ? sip->sip_payload : NULL;
    *sdp = NULL;
    *len = 0;
    if (!pl || !pl->pl_data || !pl->pl_len)
        return true;
    const sip_content_type_t *ct = sip->sip_content_type;
    if (!ct || !ct->c_type || g_ascii_strcasecmp(ct->c_type, "application/sdp") != 0)
        return false;
    *sdp = pl->pl_data;
    *len = pl->pl_len;
    return true;
}

/* The answer in an ACK (where = "ACK") or a 200 ("200 OK") to media, or the lobby. */
static void take_answer(struct sip_call *c, struct tsr_participant *p, const sip_t *sip,
                        const char *where)
{
    const char *sdp = NULL;
    size_t len = 0;
    char text[128];
    if (!sdp_body(sip, &sdp, &len)) {
        g_snprintf(text, sizeof text, "the %s's body is not application/sdp", where);
        tsr_sip_call_answer_failed(c, 400, "bad_answer", text);
        return;
    }
    if (!sdp) {
        g_snprintf(text, sizeof text, "the %s carries no SDP answer to the offer in our %s", where,
                   c->reinvite_offer ? "re-INVITE" : "200 OK");
        tsr_sip_call_answer_failed(c, 488, "answer_required", text);
        return;
    }
    if (!p) {
        tsr_sip_lobby_answer(c, sdp, len);
        return;
    }
    char *answer = g_strndup(sdp, len);
    tsr_participant_apply_send_answer(p, answer, answer_done, c, &c->reneg);
    g_free(answer);
}

void tsr_sip_call_ack(struct sip_call *c, const sip_t *sip)
{
    if (!c->awaiting_ack)
        return;
    c->awaiting_ack = false;
    struct tsr_participant *p = c->session ? tsr_front_session_participant(c->session) : NULL;
    if (!p && !c->lobby)
        return; /* gone meanwhile (kicked: the BYE is out) */
    take_answer(c, p, sip, "ACK");
}

void tsr_sip_call_reinvite_answer(struct sip_call *c, const sip_t *sip)
{
    struct tsr_participant *p = c->session ? tsr_front_session_participant(c->session) : NULL;
    if (p)
        take_answer(c, p, sip, "200 OK");
    c->reinvite_offer = false;
}

void tsr_sip_call_reinvite(struct sip_call *c, const sip_t *sip)
{
    reoffer(c, sip, false);
}

void tsr_sip_call_update(struct sip_call *c, const sip_t *sip)
{
    reoffer(c, sip, true);
}

void tsr_sip_call_hangup(struct sip_call *c, const char *why)
{
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s] %s from the caller", c->alias, why);
    c->answered = true; /* nua answers a CANCELled INVITE with 487 itself */
    leave(c, TSR_LEAVE_REQUESTED);
}

void tsr_sip_call_terminated(struct sip_call *c)
{
    struct tsr_sip_front *f = c->front;
    leave(c, TSR_LEAVE_REQUESTED);
    if (c->outbound)
        tsr_sip_dialout_ended(c);
    g_ptr_array_remove_fast(f->calls, c); /* frees c */
    update_gauge(f);
}

void tsr_sip_call_shutdown(struct sip_call *c)
{
    bool unacked = c->outbound && c->join; /* a callee's 200 whose join is in flight */
    leave(c, TSR_LEAVE_SHUTDOWN);
    if (unacked)
        nua_ack(c->nh, TAG_END());
    if (!c->answered && c->outbound) {
        nua_cancel(c->nh, TAG_END());
        return;
    }
    if (!c->answered) {
        reject_text(c, 503, "shutting_down", "the server is shutting down");
        return;
    }
    tsr_sip_call_bye(c, 503, "the server is shutting down");
}

void tsr_sip_call_free(gpointer data)
{
    struct sip_call *c = data;
    leave(c, TSR_LEAVE_SHUTDOWN);
    tsr_sip_lobby_close(c);
    if (c->update_saved)
        nua_destroy_event(c->update_event);
    g_free(c->offer);
    g_free(c->contact);
    nua_handle_bind(c->nh, NULL);
    nua_handle_destroy(c->nh);
    g_free(c->local_sdp);
    g_free(c->uri);
    if (c->no_answer_timer) {
        g_source_destroy(c->no_answer_timer);
        g_source_unref(c->no_answer_timer);
    }
    g_free(c);
}
