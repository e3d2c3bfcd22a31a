/* Presentation (content sharing): who holds the floor, and the presenter's
 * screen-share transport. One presenter per conference: taking the floor takes it
 * from the previous presenter, whose transport is closed and who is told
 * (presentation_stop "taken_over") before everyone hears presentation_start.
 * Home thread: the API loop. */
#include "conference_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <string.h>

static void emit_presenter_updated(struct tsr_participant *p)
{
    tsr_conference_emit(p->conf, TSR_CONFERENCE_EVENT_PARTICIPANT_UPDATED, p->id,
                        tsr_participant_to_json(p));
}

/* Closes p's content transport (or the attach of one in flight). */
static void content_detach(struct tsr_participant *p)
{
    struct tsr_conference_registry *reg = p->conf->reg;
    if (!p->has_content && !p->content_pending)
        return;
    if (reg->opts.media && reg->opts.media->detach_content)
        reg->opts.media->detach_content(reg->opts.media_user, p);
    tsr_call_abandon_content(reg, p, "the presentation was stopped");
    p->has_content = false;
    p->content_pending = false;
}

static void tell_media(struct tsr_participant *p, bool presenting)
{
    struct tsr_conference_registry *reg = p->conf->reg;
    if (reg->opts.media && reg->opts.media->floor_changed)
        reg->opts.media->floor_changed(reg->opts.media_user, p, presenting);
}

static void floor_release(struct tsr_conference *c, const char *reason)
{
    struct tsr_participant *p = c->presenter;
    if (!p)
        return;
    c->presenter = NULL;
    content_detach(p);
    tell_media(p, false);
    TSR_LOG(TSR_LOG_INFO, c->def.alias, "participant %s stops presenting (%s)", p->id, reason);
    emit_presenter_updated(p);
    tsr_conference_emit(c, TSR_CONFERENCE_EVENT_PRESENTATION_STOP, p->id,
                        json_pack("{s:s, s:s}", "participant_id", p->id, "reason", reason));
}

static void floor_take(struct tsr_participant *p)
{
    struct tsr_conference *c = p->conf;
    if (c->presenter == p)
        return; /* a new screen for the same presenter: nothing anyone sees changes */
    if (c->presenter) {
        tsr_counter_inc(tsr_metrics_counter("tessera_presentation_takeovers_total", NULL,
                                            "Presentations ended by another presenter."));
        floor_release(c, "taken_over");
    }
    c->presenter = p;
    tell_media(p, true);
    TSR_LOG(TSR_LOG_INFO, c->def.alias, "participant %s '%s' presents", p->id, p->display_name);
    emit_presenter_updated(p);
    tsr_conference_emit(c, TSR_CONFERENCE_EVENT_PRESENTATION_START, p->id,
                        json_pack("{s:s, s:s}", "participant_id", p->id, "display_name",
                                  p->display_name));
}

void tsr_participant_start_presentation(struct tsr_participant *p, const char *offer_sdp,
                                        tsr_conference_done_fn done, void *user,
                                        struct tsr_conference_call **handle)
{
    struct tsr_conference_registry *reg = p->conf->reg;
    const struct tsr_conference_media_ops *m = reg->opts.media;
    struct tsr_conference_call *call = tsr_call_new(reg, TSR_CALL_PRESENT, p, done, user, handle);
    if (!p->has_media || p->content_pending) {
        tsr_call_fail(call, TSR_ERR_STATE, TSR_CONFERENCE_REFUSAL_NONE,
                      g_strdup(p->has_media ? "a presentation of this participant is being set up"
                                            : "this participant has no media: join with an "
                                              "offer first"));
        return;
    }
    if (!m || !m->attach_content) {
        tsr_call_fail(call, TSR_ERR_UNSUPPORTED, TSR_CONFERENCE_REFUSAL_NONE,
                      g_strdup("the media layer cannot carry a presentation"));
        return;
    }
    /* Sharing again (another window) replaces the transport, not the floor. */
    if (p->has_content) {
        m->detach_content(reg->opts.media_user, p);
        tsr_call_abandon_content(reg, p, "the presentation was replaced");
        p->has_content = false;
    }
    p->content_pending = true;
    tsr_call_asking(call);
    m->attach_content(reg->opts.media_user, p, offer_sdp, call);
    tsr_call_asked(call);
}

void tsr_participant_present_finish(struct tsr_conference_call *call)
{
    struct tsr_participant *p = call->p;
    if (!p || call->media != TSR_CALL_MEDIA_DONE)
        return; /* refused before media, or abandoned meanwhile */
    p->content_pending = false;
    if (call->res.rc == 0) {
        p->has_content = true;
        floor_take(p);
        return;
    }
    char *msg = g_strdup_printf("media: %s", call->res.err_text ? call->res.err_text
                                                                : tsr_strerror(call->res.rc));
    g_free(call->res.err_text);
    call->res.err_text = msg;
    TSR_LOG(TSR_LOG_INFO, p->conf->def.alias, "participant %s: presentation refused (%s)", p->id,
            msg);
}

void tsr_participant_present_undo(struct tsr_conference_call *call)
{
    struct tsr_participant *p = call->p;
    bool set_up = call->media == TSR_CALL_MEDIA_ASKED ||
                  (call->media == TSR_CALL_MEDIA_DONE && call->res.rc == 0);
    call->p = NULL;
    call->media = TSR_CALL_MEDIA_NONE;
    if (!p)
        return;
    p->content_pending = false;
    struct tsr_conference_registry *reg = p->conf->reg;
    if (set_up && !p->has_content && reg->opts.media->detach_content)
        reg->opts.media->detach_content(reg->opts.media_user, p);
}

void tsr_participant_add_content_candidate(struct tsr_participant *p, const char *candidate,
                                           tsr_conference_done_fn done, void *user,
                                           struct tsr_conference_call **handle)
{
    struct tsr_conference_registry *reg = p->conf->reg;
    struct tsr_conference_call *call =
        tsr_call_new(reg, TSR_CALL_CONTENT_CANDIDATE, p, done, user, handle);
    bool bad = !candidate || strlen(candidate) > 1024 ||
               (candidate[0] && !g_str_has_prefix(candidate, "candidate:"));
    /* Before the answer there is no transport to take it: clients send their
     * candidates once the presentation call has answered, as with a join. */
    if (bad || !p->has_content) {
        tsr_call_fail(call, bad ? TSR_ERR_INVALID : TSR_ERR_STATE, TSR_CONFERENCE_REFUSAL_NONE,
                      g_strdup(bad ? "not a candidate line" : "no presentation media"));
        return;
    }
    if (candidate[0] && ++p->candidates > TSR_PARTICIPANT_MAX_CANDIDATES) {
        tsr_call_fail(call, TSR_ERR_FULL, TSR_CONFERENCE_REFUSAL_NONE,
                      g_strdup("too many candidates"));
        return;
    }
    tsr_call_asking(call);
    reg->opts.media->add_content_candidate(reg->opts.media_user, p, candidate, call);
    tsr_call_asked(call);
}

int tsr_participant_take_floor(struct tsr_participant *p)
{
    if (!p->has_media)
        return TSR_ERR_STATE;
    floor_take(p);
    return 0;
}

int tsr_participant_stop_presentation(struct tsr_participant *p)
{
    if (p->conf->presenter != p) {
        content_detach(p); /* a share being set up that never got the floor */
        return TSR_ERR_NOT_FOUND;
    }
    floor_release(p->conf, "stopped");
    return 0;
}

void tsr_participant_presentation_gone(struct tsr_participant *p, const char *reason)
{
    if (p->conf->presenter == p)
        floor_release(p->conf, reason);
    else
        content_detach(p);
}

bool tsr_participant_presenting(const struct tsr_participant *p)
{
    return p->conf->presenter == p;
}

struct tsr_participant *tsr_conference_presenter(const struct tsr_conference *c)
{
    return c->presenter;
}
