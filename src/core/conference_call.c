/* Calls that complete by callback. A join with an offer, an offer, an answer or a
 * candidate needs the participant's net loop; the API loop must not wait for it
 * (one slow join would stall every request), so the work is handed to media with a
 * call, media finishes the call from a later iteration of the API loop, and the
 * outcome is applied to the conference and reported to whoever started it in that
 * same iteration. A result known at once (a refusal, a roster-only join) is still
 * delivered from a fresh iteration, so `done` never runs inside the function that
 * started the call.
 *
 * Lifetimes: a call is owned by reg->calls until it is delivered or cancelled, but
 * is never freed while media holds it (TSR_CALL_MEDIA_ASKED). Media lets go of the
 * calls of a participant when the conference detaches it; the participant's calls
 * then end with TSR_ERR_STATE, so nothing ever reaches a freed participant.
 * Home thread: the API loop. */
#include "conference_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>

static const char shutting_down[] = "the server is shutting down";

struct tsr_conference_call *tsr_call_new(struct tsr_conference_registry *reg,
                                         enum tsr_call_kind kind, struct tsr_participant *p,
                                         tsr_conference_done_fn done, void *user,
                                         struct tsr_conference_call **handle)
{
    struct tsr_conference_call *call = g_new0(struct tsr_conference_call, 1);
    call->reg = reg;
    call->kind = kind;
    call->p = p;
    call->done = done;
    call->user = user;
    call->link.data = call;
    g_queue_push_tail_link(&reg->calls, &call->link);
    if (handle)
        *handle = call;
    return call;
}

static void stop_delivery(struct tsr_conference_call *call)
{
    if (!call->deliver)
        return;
    g_source_destroy(call->deliver);
    g_source_unref(call->deliver);
    call->deliver = NULL;
}

/* Unlinked already; frees what the caller did not take. */
static void call_free(struct tsr_conference_call *call)
{
    stop_delivery(call);
    g_free(call->res.sdp);
    g_free(call->res.err_text);
    g_free(call);
}

static void uncount_media(struct tsr_conference_call *call)
{
    if (!call->counts_media)
        return;
    call->counts_media = false;
    call->reg->n_media_pending--;
}

/* What media said about a renegotiation reads as the other media refusals do. */
static void prefix_media_text(struct tsr_conference_call *call)
{
    char *text = g_strdup_printf("media: %s", call->res.err_text ? call->res.err_text
                                                                 : tsr_strerror(call->res.rc));
    g_free(call->res.err_text);
    call->res.err_text = text;
}

/* Applies the outcome to the conference, then tells the caller; frees the call.
 * The call leaves reg->calls first: a leave from inside done must not find it. */
static void call_deliver(struct tsr_conference_call *call)
{
    uncount_media(call);
    if (call->kind == TSR_CALL_JOIN)
        tsr_conference_join_finish(call);
    else if (call->kind == TSR_CALL_ATTACH)
        tsr_participant_attach_finish(call);
    else if (call->kind == TSR_CALL_PRESENT)
        tsr_participant_present_finish(call);
    else if (call->kind == TSR_CALL_RENEGOTIATE && call->media == TSR_CALL_MEDIA_DONE &&
             call->res.rc != 0)
        prefix_media_text(call);
    g_queue_unlink(&call->reg->calls, &call->link);
    stop_delivery(call);
    if (!call->cancelled && call->done)
        call->done(call->user, &call->res);
    call_free(call);
}

static gboolean deliver_cb(gpointer data)
{
    struct tsr_conference_call *call = data;
    g_source_unref(call->deliver);
    call->deliver = NULL; /* being dispatched; G_SOURCE_REMOVE destroys it */
    call_deliver(call);
    return G_SOURCE_REMOVE;
}

static void deliver_later(struct tsr_conference_call *call)
{
    if (call->deliver)
        return;
    call->deliver = g_idle_source_new();
    g_source_set_priority(call->deliver, G_PRIORITY_DEFAULT);
    g_source_set_callback(call->deliver, deliver_cb, call, NULL);
    g_source_attach(call->deliver, call->reg->context);
}

void tsr_call_fail(struct tsr_conference_call *call, int rc, enum tsr_conference_refusal refusal,
                   char *err_text)
{
    call->res.rc = rc;
    call->res.refusal = refusal;
    g_free(call->res.err_text);
    call->res.err_text = err_text;
    deliver_later(call);
}

void tsr_call_asking(struct tsr_conference_call *call)
{
    call->media = TSR_CALL_MEDIA_ASKED;
    call->starting = true;
}

void tsr_call_asked(struct tsr_conference_call *call)
{
    call->starting = false;
    if (call->media == TSR_CALL_MEDIA_DONE)
        deliver_later(call); /* media answered inside the op */
}

void tsr_conference_call_done(struct tsr_conference_call *call, int rc, char *sdp, char *err_text)
{
    if (!call || call->media != TSR_CALL_MEDIA_ASKED) {
        /* A media layer that breaks the contract; the call may be gone already. */
        TSR_LOG(TSR_LOG_ERROR, "conference", "a call was finished twice or after detach");
        g_free(sdp);
        g_free(err_text);
        return;
    }
    call->media = TSR_CALL_MEDIA_DONE;
    call->res.rc = rc;
    call->res.sdp = rc == 0 ? sdp : NULL;
    if (rc != 0)
        g_free(sdp);
    call->res.err_text = err_text;
    if (!call->starting)
        call_deliver(call); /* from a media callback on the API loop: apply now */
}

/* An attach (cancelled, or taken away by shutdown) whose media is or may be set up. */
static void undo_attach(struct tsr_conference_call *call)
{
    struct tsr_participant *p = call->p;
    struct tsr_conference_registry *reg = call->reg;
    bool set_up = call->media == TSR_CALL_MEDIA_ASKED ||
                  (call->media == TSR_CALL_MEDIA_DONE && call->res.rc == 0);
    call->p = NULL;
    call->media = TSR_CALL_MEDIA_NONE;
    if (!p)
        return;
    p->media_pending = false;
    if (set_up)
        reg->opts.media->detach(reg->opts.media_user, p);
}

void tsr_conference_call_cancel(struct tsr_conference_call **handle)
{
    struct tsr_conference_call *call = handle ? *handle : NULL;
    if (!call)
        return;
    *handle = NULL;
    call->cancelled = true;
    if (call->kind == TSR_CALL_JOIN)
        tsr_conference_join_undo(call);
    else if (call->kind == TSR_CALL_ATTACH)
        undo_attach(call);
    else if (call->kind == TSR_CALL_PRESENT)
        tsr_participant_present_undo(call);
    uncount_media(call);
    if (call->media == TSR_CALL_MEDIA_ASKED)
        return; /* media still holds it: freed when it finishes (or p leaves) */
    g_queue_unlink(&call->reg->calls, &call->link);
    call_free(call);
}

static bool is_content_call(const struct tsr_conference_call *call)
{
    return call->kind == TSR_CALL_PRESENT || call->kind == TSR_CALL_CONTENT_CANDIDATE;
}

static void abandon(struct tsr_conference_registry *reg, struct tsr_participant *p,
                    const char *why, bool content_only)
{
    for (GList *l = reg->calls.head; l; l = l->next) {
        struct tsr_conference_call *call = l->data;
        if (call->p != p || call->kind == TSR_CALL_JOIN || (content_only && !is_content_call(call)))
            continue;
        if (call->kind == TSR_CALL_ATTACH)
            p->media_pending = false;
        if (call->kind == TSR_CALL_PRESENT)
            p->content_pending = false;
        call->p = NULL;
        call->media = TSR_CALL_MEDIA_NONE;
        uncount_media(call);
        g_clear_pointer(&call->res.sdp, g_free);
        if (call->kind == TSR_CALL_CANDIDATE || call->kind == TSR_CALL_CONTENT_CANDIDATE) {
            /* It reached media before the media went: taken, as it was when the
             * candidate was applied before the hang-up could be. */
            tsr_call_fail(call, 0, TSR_CONFERENCE_REFUSAL_NONE, NULL);
            continue;
        }
        tsr_call_fail(call, TSR_ERR_STATE,
                      call->kind == TSR_CALL_ATTACH ? TSR_CONFERENCE_REFUSAL_MEDIA_FAILED
                                                    : TSR_CONFERENCE_REFUSAL_NONE,
                      g_strdup(why));
    }
}

void tsr_call_abandon_participant(struct tsr_conference_registry *reg, struct tsr_participant *p,
                                  const char *why)
{
    abandon(reg, p, why, false);
}

void tsr_call_abandon_content(struct tsr_conference_registry *reg, struct tsr_participant *p,
                              const char *why)
{
    abandon(reg, p, why, true);
}

void tsr_call_undo_joins(struct tsr_conference_registry *reg)
{
    for (GList *l = reg->calls.head; l; l = l->next) {
        struct tsr_conference_call *call = l->data;
        if (call->kind == TSR_CALL_JOIN && call->p)
            tsr_conference_join_undo(call);
    }
}

void tsr_call_finish_all(struct tsr_conference_registry *reg)
{
    GList *l;
    while ((l = reg->calls.head)) {
        struct tsr_conference_call *call = l->data;
        if (call->media == TSR_CALL_MEDIA_ASKED) /* every participant left: cannot be */
            TSR_LOG(TSR_LOG_ERROR, "conference", "a call is still with media at shutdown");
        call->media = TSR_CALL_MEDIA_NONE;
        if (call->kind == TSR_CALL_ATTACH)
            undo_attach(call);
        else if (call->kind == TSR_CALL_PRESENT)
            tsr_participant_present_undo(call);
        call->p = NULL;
        g_clear_pointer(&call->res.sdp, g_free);
        g_free(call->res.err_text);
        call->res.rc = TSR_ERR_STATE;
        call->res.err_text = g_strdup(shutting_down);
        if (call->kind == TSR_CALL_JOIN || call->kind == TSR_CALL_ATTACH)
            call->res.refusal = TSR_CONFERENCE_REFUSAL_MEDIA_FAILED;
        call_deliver(call);
    }
}
