/* Dial-out: a host calls a SIP URI into its conference. The INVITE carries no SDP
 * (a delayed offer, RFC 3261 §13.2.1 / RFC 3264 §5): the callee offers in its 200
 * and we answer in the ACK. Its offer then takes exactly the path of an inbound
 * caller's offer (the join through the conference core, answered on a net loop), so
 * everything SIP callers get (plain RTP, SDES, DTLS-SRTP, Opus/G.711, VP8/H.264)
 * works when we call out too. Debian's baresip 1.0 answers an SDP-less INVITE this
 * way (its 200 carries a full offer, our ACK's answer starts its media).
 *
 * A failure (a 3xx-6xx final response, no final response within
 * SIP_DIAL_NO_ANSWER_S, a join the core refuses) is logged, counted in
 * tessera_sip_dialout_total{result} and reported as a dial event to the
 * conference. Home thread: the API loop. */
#include "sip_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <sofia-sip/sip_tag.h>

#include <errno.h>
#include <string.h>

/* How long a callee may ring before the call is cancelled (a phone nobody picks
 * up; SIP's own transaction timeout only covers a callee that never answers at all). */
#define SIP_DIAL_NO_ANSWER_S 60

static void count(struct sip_call *c, const char *result)
{
    if (c->result)
        return;
    c->result = result;
    char labels[48];
    g_snprintf(labels, sizeof labels, "result=\"%s\"", result);
    tsr_counter_inc(tsr_metrics_counter("tessera_sip_dialout_total", labels,
                                        "SIP calls dialled out, by outcome."));
}

static void report(struct sip_call *c, const char *state, unsigned status, const char *reason)
{
    tsr_conference_dial_state(c->front->reg, c->alias, c->participant_id, c->uri, c->by, state,
                              status, reason);
}

/* A failure: counted once, logged, reported. */
static void failed(struct sip_call *c, const char *result, unsigned status, const char *reason)
{
    if (c->result)
        return;
    count(c, result);
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s] dial-out to %s failed (%s): %u %s", c->alias, c->uri, result,
            status, reason ? reason : "");
    report(c, "failed", status, reason);
}

static void stop_timer(struct sip_call *c)
{
    if (c->no_answer_timer) {
        g_source_destroy(c->no_answer_timer);
        g_source_unref(c->no_answer_timer);
    }
    c->no_answer_timer = NULL;
}

static gboolean on_no_answer(gpointer user)
{
    struct sip_call *c = user;
    stop_timer(c);
    char text[64];
    g_snprintf(text, sizeof text, "no answer within %d s", SIP_DIAL_NO_ANSWER_S);
    failed(c, "timeout", 0, text);
    nua_cancel(c->nh, TAG_END()); /* the 487 and the dialog's end follow */
    return G_SOURCE_REMOVE;
}

/* The name the callee gets: the dial's, else the URI's user part, else the default. */
static void pick_name(struct sip_call *c, const char *given, const char *user)
{
    g_strlcpy(c->display_name, given ? given : user, sizeof c->display_name);
    if (!tsr_conference_display_name_valid(c->display_name))
        g_strlcpy(c->display_name, TSR_SIP_DEFAULT_DISPLAY_NAME, sizeof c->display_name);
}

static int dial(void *user, const struct tsr_conference_dial_request *req, char **err_text)
{
    struct tsr_sip_front *f = user;
    char uri_user[TSR_CONFERENCE_NAME_MAX + 1];
    const char *why = NULL;
    if (tsr_sip_dial_uri_check(req->uri, uri_user, &why) != 0) {
        *err_text = g_strdup(why);
        return TSR_ERR_INVALID;
    }
    struct sip_call *c = g_new0(struct sip_call, 1);
    c->front = f;
    c->outbound = true;
    c->role = req->role;
    c->uri = g_strdup(req->uri);
    g_strlcpy(c->alias, req->alias, sizeof c->alias);
    g_strlcpy(c->participant_id, req->participant_id, sizeof c->participant_id);
    g_strlcpy(c->by, req->by ? req->by : "", sizeof c->by);
    pick_name(c, req->display_name, uri_user);
    char *to = g_strdup_printf("<%s>", req->uri);
    char *from = g_strdup_printf("<sip:%s@%s>", req->alias, f->from_host);
    /* AUTOACK off: nua must not ACK the 200 itself, the ACK carries our answer. */
    c->nh = nua_handle(f->nua, c, NUTAG_URL(req->uri), SIPTAG_TO_STR(to), SIPTAG_FROM_STR(from),
                       NUTAG_AUTOACK(0), TAG_END());
    g_free(to);
    g_free(from);
    if (!c->nh) {
        g_free(c->uri);
        g_free(c);
        *err_text = g_strdup("the SIP stack could not make a call handle");
        return -ENOMEM;
    }
    g_ptr_array_add(f->calls, c);
    tsr_gauge_set(f->calls_gauge, (double)f->calls->len);
    nua_invite(c->nh, NUTAG_AUTOACK(0), TAG_END()); /* no SDP: the callee offers */
    c->no_answer_timer = g_timeout_source_new_seconds(SIP_DIAL_NO_ANSWER_S);
    g_source_set_callback(c->no_answer_timer, on_no_answer, c, NULL);
    g_source_attach(c->no_answer_timer, f->ctx);
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s] dialling %s for %s", c->alias, c->uri, c->participant_id);
    report(c, "calling", 0, NULL);
    return 0;
}

/* The pending call that will be participant_id of alias, or an answered one. */
static struct sip_call *find(struct tsr_sip_front *f, const char *alias, const char *id)
{
    for (guint i = 0; i < f->calls->len; i++) {
        struct sip_call *c = f->calls->pdata[i];
        if (c->outbound && strcmp(c->participant_id, id) == 0 && strcmp(c->alias, alias) == 0)
            return c;
    }
    return NULL;
}

static int hangup(void *user, const char *alias, const char *participant_id)
{
    struct sip_call *c = find(user, alias, participant_id);
    /* Over already: hung up, failed or cancelled (its dialog may not have ended yet). */
    if (!c || c->bye_sent || (c->result && strcmp(c->result, "answered") != 0))
        return TSR_ERR_NOT_FOUND;
    if (!c->answered) {
        failed(c, "cancelled", 0, "the host hung up before the callee answered");
        stop_timer(c);
        nua_cancel(c->nh, TAG_END());
        return 0;
    }
    /* Answered: the participant leaves (or its join is undone: the 200 still wants
     * its ACK then) and the callee gets a BYE. */
    failed(c, "cancelled", 0, "the host hung up");
    if (c->join) {
        tsr_conference_call_cancel(&c->join);
        nua_ack(c->nh, TAG_END());
    }
    if (c->session) {
        tsr_front_session_on_left(c->session, NULL, NULL);
        tsr_front_session_leave(c->session, TSR_LEAVE_KICKED);
        c->session = tsr_front_session_unref(c->session);
    }
    tsr_sip_call_bye(c, 200, "hung up by a host");
    return 0;
}

const struct tsr_conference_dialler tsr_sip_dialler = {.dial = dial, .hangup = hangup};

/* The callee's offer in a 2xx, or NULL (*len set). */
static const char *offer_of(const sip_t *sip, size_t *len)
{
    if (!sip || !sip->sip_payload || !sip->sip_payload->pl_len || !sip->sip_content_type ||
        !sip->sip_content_type->c_type ||
        g_ascii_strcasecmp(sip->sip_content_type->c_type, "application/sdp") != 0)
        return NULL;
    *len = sip->sip_payload->pl_len;
    return sip->sip_payload->pl_data;
}

/* A 2xx we cannot use: it is ACKed (RFC 3261 §13.2.2.4 wants every 2xx ACKed)
 * and the call hung up with the reason. */
static void ack_and_bye(struct sip_call *c, unsigned cause, const char *text)
{
    nua_ack(c->nh, TAG_END());
    tsr_sip_call_bye(c, cause, text);
}

/* A final error as a counter label: "timeout" for 408 (nothing answered the
 * INVITE), else "rejected". Sofia's own answers (503 when ICMP says nothing
 * listens, 502/503 for DNS) look like the callee's, To tag included, so they count
 * as rejected too; the status in the log and the dial event tells them apart. */
static const char *failure_result(int status)
{
    return status == 408 ? "timeout" : "rejected";
}

void tsr_sip_dialout_response(struct sip_call *c, int status, const char *phrase, const sip_t *sip)
{
    if (status < 200) {
        if ((status == 180 || status == 183) && !c->result)
            report(c, "ringing", (unsigned)status, phrase);
        return;
    }
    c->answered = true; /* a final response came: from here on a hang-up is a BYE */
    stop_timer(c);
    if (status >= 300) {
        /* 487 answers our own CANCEL (timeout, host hung up): already counted. */
        failed(c, failure_result(status), (unsigned)status, phrase);
        return; /* the dialog terminates (nua_i_state) and frees c */
    }
    if (c->result) { /* the 200 crossed our CANCEL */
        ack_and_bye(c, 487, "the call was cancelled");
        return;
    }
    size_t len = 0;
    const char *sdp = offer_of(sip, &len);
    if (!sdp) {
        failed(c, "failed", 488, "the callee's 200 OK has no SDP offer");
        ack_and_bye(c, 488, "an SDP offer in the 200 OK was expected (our INVITE had none)");
        return;
    }
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s] %s answered with an offer: joining", c->alias, c->uri);
    c->offer = g_strndup(sdp, len);
    tsr_sip_call_join(c, NULL);
}

void tsr_sip_dialout_joined(struct sip_call *c, struct tsr_conference_result *res)
{
    if (res->rc != 0) {
        c->session = tsr_front_session_unref(c->session); /* the core let go of it too */
        struct tsr_front_error e;
        tsr_front_refusal_error(&tsr_sip_front_desc, res->refusal, res->err_text, &e);
        tsr_front_count_error(&tsr_sip_front_desc, c->alias, &e);
        failed(c, "failed", e.status, e.text);
        ack_and_bye(c, e.status, e.text);
        return;
    }
    c->local_sdp = g_steal_pointer(&res->sdp);
    count(c, "answered");
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s/%s] %s answered and joined", c->alias, c->participant_id,
            c->uri);
    report(c, "answered", 200, NULL);
    nua_ack(c->nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(c->local_sdp),
            TAG_END());
}

void tsr_sip_dialout_ended(struct sip_call *c)
{
    stop_timer(c);
    if (!c->result)
        failed(c, "failed", 0, "the call ended before it was answered");
    else if (strcmp(c->result, "answered") == 0)
        report(c, "ended", 0, NULL);
}
