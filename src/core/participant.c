/* Participants: identity, token, mute state, leaving. Home thread: the API loop.
 * The registry tables and events are in conference.c. */
#include "conference_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <errno.h>
#include <string.h>
#include <sys/random.h>

const char *tsr_leave_reason_name(enum tsr_leave_reason r)
{
    switch (r) {
    case TSR_LEAVE_REQUESTED:
        return "left";
    case TSR_LEAVE_KICKED:
        return "kicked";
    case TSR_LEAVE_TOKEN_EXPIRED:
        return "token_expired";
    case TSR_LEAVE_MEDIA_FAILED:
        return "media_failed";
    case TSR_LEAVE_SHUTDOWN:
        return "shutdown";
    case TSR_LEAVE_CONFERENCE_ENDED:
        return "conference_ended";
    }
    return "unknown";
}

/* 32 bytes from the kernel CSPRNG: a token must not be guessable from earlier ones,
 * which GRand (a Mersenne twister) would allow. */
static void random_hex(char *out, size_t n_bytes)
{
    uint8_t buf[32];
    size_t got = 0;
    g_assert(n_bytes <= sizeof buf);
    while (got < n_bytes) {
        ssize_t r = getrandom(buf + got, n_bytes - got, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            g_error("getrandom failed: %s", g_strerror(errno)); /* no safe fallback */
        got += (size_t)r;
    }
    for (size_t i = 0; i < n_bytes; i++)
        g_snprintf(out + 2 * i, 3, "%02x", buf[i]);
}

int tsr_participant_new(struct tsr_participant **out, struct tsr_conference *c,
                        const char *display_name, enum tsr_role role)
{
    struct tsr_participant *p = g_new0(struct tsr_participant, 1);
    char *uuid = g_uuid_string_random();
    p->conf = c;
    g_strlcpy(p->id, uuid, sizeof p->id);
    g_free(uuid);
    random_hex(p->token, 32);
    g_strlcpy(p->display_name, display_name, sizeof p->display_name);
    g_strstrip(p->display_name);
    p->role = role;
    p->joined_at_s = g_get_real_time() / G_USEC_PER_SEC;
    p->expires_us = tsr_conference_now_us(c->reg) + c->reg->opts.token_ttl_s * G_USEC_PER_SEC;
    *out = p;
    return 0;
}

void tsr_participant_free(struct tsr_participant **p)
{
    if (!p || !*p)
        return;
    /* A join that never completed lets its holder go without a word (a leave took
     * the holder already). */
    if ((*p)->holder)
        (*p)->holder->ops->unref((*p)->holder);
    /* The token is a credential: do not leave it in freed memory. */
    memset((*p)->token, 0, sizeof(*p)->token);
    memset((*p)->prev_token, 0, sizeof(*p)->prev_token);
    g_free(*p);
    *p = NULL;
}

void tsr_participant_leave(struct tsr_participant *p, enum tsr_leave_reason reason)
{
    struct tsr_conference *c = p->conf;
    struct tsr_conference_registry *reg = c->reg;
    char labels[48];
    tsr_participant_presentation_gone(p, "left");
    if (p->has_media || p->media_pending)
        reg->opts.media->detach(reg->opts.media_user, p);
    tsr_call_abandon_participant(reg, p, "the participant left");
    g_hash_table_remove(reg->participants, p->id);
    g_ptr_array_remove(c->participants, p);
    for (guint i = c->talkers->len; i-- > 0;)
        if (strcmp(c->talkers->pdata[i], p->id) == 0)
            g_ptr_array_remove_index(c->talkers, i);
    tsr_conference_spotlight_left(p);
    TSR_LOG(TSR_LOG_INFO, c->def.alias, "participant %s '%s' left (%s)", p->id, p->display_name,
            tsr_leave_reason_name(reason));
    g_snprintf(labels, sizeof labels, "reason=\"%s\"", tsr_leave_reason_name(reason));
    tsr_counter_inc(
        tsr_metrics_counter("tessera_leaves_total", labels, "Participants that left, by reason."));
    tsr_gauge_set(tsr_metrics_gauge("tessera_participants", NULL, "Participants in conferences."),
                  (double)g_hash_table_size(reg->participants));
    /* Emit while p is still readable so subscribers can match the id; it is no
     * longer in the tables, so a callback cannot reach it. */
    tsr_conference_emit(c, TSR_CONFERENCE_EVENT_PARTICIPANT_LEFT, p->id,
                        json_pack("{s:s, s:s, s:s}", "id", p->id, "display_name", p->display_name,
                                  "reason", tsr_leave_reason_name(reason)));
    struct tsr_participant_holder *h = g_steal_pointer(&p->holder);
    if (h && h->ops->left)
        h->ops->left(h, p, reason);
    if (h)
        h->ops->unref(h);
    tsr_participant_free(&p);
    if (c->participants->len == 0)
        tsr_conference_became_empty(c);
}

struct tsr_participant_holder *tsr_participant_holder(const struct tsr_participant *p)
{
    return p->holder;
}

enum tsr_participant_liveness tsr_participant_liveness(const struct tsr_participant *p)
{
    return p->holder ? p->holder->liveness : TSR_PARTICIPANT_LEASE;
}

bool tsr_participant_lapsed(const struct tsr_participant *p, int64_t now_us)
{
    return tsr_participant_liveness(p) == TSR_PARTICIPANT_LEASE && now_us >= p->expires_us;
}

bool tsr_participant_token_valid(const struct tsr_participant *p, const char *token, int64_t now_us)
{
    if (!token || tsr_participant_lapsed(p, now_us))
        return false;
    /* Both compared every time: which one matched must not show in the timing. */
    bool current = tsr_secret_equal(p->token, token);
    bool previous = p->prev_token[0] != '\0' && tsr_secret_equal(p->prev_token, token) &&
                    now_us < p->prev_expires_us;
    return current || previous;
}

int64_t tsr_participant_refresh(struct tsr_participant *p, const char *presented)
{
    struct tsr_conference_registry *reg = p->conf->reg;
    int64_t now_us = tsr_conference_now_us(reg);
    if (!presented || !tsr_secret_equal(p->token, presented) || tsr_participant_lapsed(p, now_us))
        return TSR_ERR_AUTH;
    memcpy(p->prev_token, p->token, sizeof p->token);
    p->prev_expires_us = p->expires_us;
    random_hex(p->token, 32);
    p->expires_us = now_us + reg->opts.token_ttl_s * G_USEC_PER_SEC;
    return reg->opts.token_ttl_s;
}

/* A call on p's running media: refused at once (delivered later) when p has no
 * media or the op is not wired; else returns the call, marked as being asked. */
static struct tsr_conference_call *media_call(struct tsr_participant *p, enum tsr_call_kind kind,
                                              bool wired, tsr_conference_done_fn done, void *user,
                                              struct tsr_conference_call **handle)
{
    struct tsr_conference_call *call = tsr_call_new(p->conf->reg, kind, p, done, user, handle);
    if (!p->has_media) {
        tsr_call_fail(call, TSR_ERR_STATE, TSR_CONFERENCE_REFUSAL_NONE,
                      kind == TSR_CALL_RENEGOTIATE
                          ? g_strdup("this participant has no media to renegotiate")
                          : NULL);
        return NULL;
    }
    if (!wired) {
        tsr_call_fail(call, TSR_ERR_UNSUPPORTED, TSR_CONFERENCE_REFUSAL_NONE,
                      kind == TSR_CALL_RENEGOTIATE ? g_strdup("the media layer cannot renegotiate")
                                                   : NULL);
        return NULL;
    }
    tsr_call_asking(call);
    return call;
}

void tsr_participant_create_send_offer(struct tsr_participant *p, tsr_conference_done_fn done,
                                       void *user, struct tsr_conference_call **handle)
{
    const struct tsr_conference_media_ops *m = p->conf->reg->opts.media;
    struct tsr_conference_call *call =
        media_call(p, TSR_CALL_SEND_OFFER, m && m->create_send_offer, done, user, handle);
    if (!call)
        return;
    m->create_send_offer(p->conf->reg->opts.media_user, p, call);
    tsr_call_asked(call);
}

void tsr_participant_apply_send_answer(struct tsr_participant *p, const char *answer_sdp,
                                       tsr_conference_done_fn done, void *user,
                                       struct tsr_conference_call **handle)
{
    const struct tsr_conference_media_ops *m = p->conf->reg->opts.media;
    struct tsr_conference_call *call =
        media_call(p, TSR_CALL_SEND_ANSWER, m && m->apply_send_answer, done, user, handle);
    if (!call)
        return;
    m->apply_send_answer(p->conf->reg->opts.media_user, p, answer_sdp, call);
    tsr_call_asked(call);
}

void tsr_participant_answer_reoffer(struct tsr_participant *p, const char *offer_sdp,
                                    tsr_conference_done_fn done, void *user,
                                    struct tsr_conference_call **handle)
{
    const struct tsr_conference_media_ops *m = p->conf->reg->opts.media;
    struct tsr_conference_call *call =
        media_call(p, TSR_CALL_REOFFER, m && m->answer_reoffer, done, user, handle);
    if (!call)
        return;
    m->answer_reoffer(p->conf->reg->opts.media_user, p, offer_sdp, call);
    tsr_call_asked(call);
}

void tsr_participant_renegotiate(struct tsr_participant *p, const char *offer_sdp,
                                 tsr_conference_done_fn done, void *user,
                                 struct tsr_conference_call **handle)
{
    const struct tsr_conference_media_ops *m = p->conf->reg->opts.media;
    struct tsr_conference_call *call =
        media_call(p, TSR_CALL_RENEGOTIATE, m && m->renegotiate, done, user, handle);
    if (!call)
        return;
    m->renegotiate(p->conf->reg->opts.media_user, p, offer_sdp, call);
    tsr_call_asked(call);
}

void tsr_participant_add_candidate(struct tsr_participant *p, const char *candidate,
                                   const char *mid, int mline_index, tsr_conference_done_fn done,
                                   void *user, struct tsr_conference_call **handle)
{
    struct tsr_conference_registry *reg = p->conf->reg;
    bool bad = !candidate || strlen(candidate) > 1024 ||
               (candidate[0] && !g_str_has_prefix(candidate, "candidate:"));
    /* ICE-lite media that ignores trickle is allowed: 0 without asking it. */
    bool wired = reg->opts.media && reg->opts.media->add_candidate;
    /* A real agent trickles a few dozen; past the cap they are refused, so one
     * participant cannot grow its ICE agent without bound. */
    bool over = !bad && candidate[0] && ++p->candidates > TSR_PARTICIPANT_MAX_CANDIDATES;
    if (over)
        tsr_counter_inc(tsr_metrics_counter("tessera_candidates_refused_total", NULL,
                                            "Trickled candidates refused: past the per-participant "
                                            "cap."));
    if (p->has_media && (bad || over || !wired)) {
        struct tsr_conference_call *now =
            tsr_call_new(reg, TSR_CALL_CANDIDATE, p, done, user, handle);
        tsr_call_fail(now,
                      bad    ? TSR_ERR_INVALID
                      : over ? TSR_ERR_FULL
                             : 0,
                      TSR_CONFERENCE_REFUSAL_NONE, NULL);
        return;
    }
    struct tsr_conference_call *call = media_call(p, TSR_CALL_CANDIDATE, true, done, user, handle);
    if (!call)
        return;
    reg->opts.media->add_candidate(reg->opts.media_user, p, candidate, mid, mline_index, call);
    tsr_call_asked(call);
}

int tsr_participant_request_keyframe(struct tsr_participant *p)
{
    struct tsr_conference_registry *reg = p->conf->reg;
    if (!p->has_media || !reg->opts.media || !reg->opts.media->request_keyframe)
        return TSR_ERR_STATE;
    reg->opts.media->request_keyframe(reg->opts.media_user, p);
    return 0;
}

int tsr_participant_set_muted(struct tsr_participant *actor, struct tsr_participant *target,
                              bool video, bool muted)
{
    if (actor->conf != target->conf || (actor != target && actor->role != TSR_ROLE_HOST))
        return TSR_ERR_AUTH;
    bool *field = video ? &target->video_muted : &target->muted;
    if (*field == muted)
        return 0;
    *field = muted;
    struct tsr_conference_registry *reg = target->conf->reg;
    if (target->has_media && reg->opts.media->set_muted)
        reg->opts.media->set_muted(reg->opts.media_user, target, target->muted,
                                   target->video_muted);
    tsr_participant_emit_updated(target, actor);
    return 0;
}

int tsr_participant_kick(struct tsr_participant *actor, struct tsr_participant *target)
{
    if (actor->conf != target->conf || actor->role != TSR_ROLE_HOST || actor == target)
        return TSR_ERR_AUTH;
    TSR_LOG(TSR_LOG_INFO, actor->conf->def.alias, "participant %s kicked by %s", target->id,
            actor->id);
    tsr_participant_leave(target, TSR_LEAVE_KICKED);
    return 0;
}

void tsr_participant_emit_updated(struct tsr_participant *p, const struct tsr_participant *by)
{
    json_t *data = tsr_participant_to_json(p);
    if (by)
        json_object_set_new(data, "by", json_string(by->id));
    tsr_conference_emit(p->conf, TSR_CONFERENCE_EVENT_PARTICIPANT_UPDATED, p->id, data);
}

int tsr_participant_set_hand_raised(struct tsr_participant *actor, struct tsr_participant *target,
                                    bool raised)
{
    if (actor->conf != target->conf)
        return TSR_ERR_AUTH;
    /* Only the owner raises a hand; a host may lower anyone's (clear all buzz). */
    if (actor != target && (raised || actor->role != TSR_ROLE_HOST))
        return TSR_ERR_AUTH;
    if ((target->hand_raised_at_s != 0) == raised)
        return 0;
    target->hand_raised_at_s = raised ? MAX(g_get_real_time() / G_USEC_PER_SEC, 1) : 0;
    tsr_participant_emit_updated(target, actor);
    return 0;
}

void tsr_participant_attach_media(struct tsr_participant *p, const char *offer_sdp,
                                  tsr_conference_done_fn done, void *user,
                                  struct tsr_conference_call **handle)
{
    struct tsr_conference_registry *reg = p->conf->reg;
    struct tsr_conference_call *call = tsr_call_new(reg, TSR_CALL_ATTACH, p, done, user, handle);
    char *msg = NULL;
    if (p->has_media || p->media_pending) {
        tsr_call_fail(call, TSR_ERR_STATE, TSR_CONFERENCE_REFUSAL_BAD_REQUEST,
                      g_strdup("this participant already has media; renegotiate instead"));
        return;
    }
    if (!reg->opts.media) {
        tsr_call_fail(call, TSR_ERR_UNSUPPORTED, TSR_CONFERENCE_REFUSAL_MEDIA_UNAVAILABLE,
                      g_strdup("this server has no media engine wired"));
        return;
    }
    if (tsr_conference_capacity_check(reg, &msg) != TSR_CONFERENCE_REFUSAL_NONE) {
        tsr_conference_count_refusal(TSR_CONFERENCE_REFUSAL_CAPACITY);
        TSR_LOG(TSR_LOG_INFO, p->conf->def.alias, "participant %s: media refused (%s)", p->id, msg);
        tsr_call_fail(call, TSR_ERR_FULL, TSR_CONFERENCE_REFUSAL_CAPACITY, msg);
        return;
    }
    p->media_pending = true;
    call->counts_media = true;
    reg->n_media_pending++;
    tsr_call_asking(call);
    reg->opts.media->attach(reg->opts.media_user, p, offer_sdp, call);
    tsr_call_asked(call);
}

void tsr_participant_attach_finish(struct tsr_conference_call *call)
{
    struct tsr_participant *p = call->p;
    if (!p || call->media != TSR_CALL_MEDIA_DONE)
        return; /* refused before media, or p left meanwhile */
    p->media_pending = false;
    if (call->res.rc == 0) {
        p->has_media = true;
        TSR_LOG(TSR_LOG_INFO, p->conf->def.alias, "participant %s: media attached", p->id);
        tsr_participant_emit_updated(p, NULL);
        return;
    }
    char *msg = g_strdup_printf("media: %s", call->res.err_text ? call->res.err_text
                                                                : tsr_strerror(call->res.rc));
    g_free(call->res.err_text);
    call->res.err_text = msg;
    call->res.refusal = tsr_conference_media_refusal(call->res.rc);
    TSR_LOG(TSR_LOG_INFO, p->conf->def.alias, "participant %s: media refused (%s)", p->id, msg);
}

void tsr_participant_detach_media(struct tsr_participant *p)
{
    struct tsr_conference_registry *reg = p->conf->reg;
    if (!p->has_media && !p->media_pending)
        return;
    tsr_participant_presentation_gone(p, "media_gone");
    reg->opts.media->detach(reg->opts.media_user, p);
    tsr_call_abandon_participant(reg, p, "the participant's media was detached");
    if (!p->has_media)
        return; /* only an attach in flight: nothing anyone saw changes */
    p->has_media = false;
    for (guint i = p->conf->talkers->len; i-- > 0;)
        if (strcmp(p->conf->talkers->pdata[i], p->id) == 0)
            g_ptr_array_remove_index(p->conf->talkers, i);
    TSR_LOG(TSR_LOG_INFO, p->conf->def.alias, "participant %s: media detached", p->id);
    tsr_participant_emit_updated(p, NULL);
}

const char *tsr_participant_id(const struct tsr_participant *p)
{
    return p->id;
}

const char *tsr_participant_token(const struct tsr_participant *p)
{
    return p->token;
}

const char *tsr_participant_display_name(const struct tsr_participant *p)
{
    return p->display_name;
}

enum tsr_role tsr_participant_role(const struct tsr_participant *p)
{
    return p->role;
}

bool tsr_participant_muted(const struct tsr_participant *p)
{
    return p->muted;
}

bool tsr_participant_video_muted(const struct tsr_participant *p)
{
    return p->video_muted;
}

bool tsr_participant_has_media(const struct tsr_participant *p)
{
    return p->has_media;
}

struct tsr_conference *tsr_participant_conference(const struct tsr_participant *p)
{
    return p->conf;
}

int64_t tsr_participant_expires_in_s(const struct tsr_participant *p)
{
    return (p->expires_us - tsr_conference_now_us(p->conf->reg)) / G_USEC_PER_SEC;
}

json_t *tsr_participant_to_json(const struct tsr_participant *p)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:I, s:I, s:b}", "id", p->id, "display_name",
                     p->display_name, "role", p->role == TSR_ROLE_HOST ? "host" : "guest", "muted",
                     p->muted, "video_muted", p->video_muted, "has_media", p->has_media,
                     "hand_raised_at", (json_int_t)p->hand_raised_at_s, "spotlight",
                     (json_int_t)p->spotlight_at_s, "is_presenting", p->conf->presenter == p);
}

int64_t tsr_participant_hand_raised_at_s(const struct tsr_participant *p)
{
    return p->hand_raised_at_s;
}

int64_t tsr_participant_joined_at_s(const struct tsr_participant *p)
{
    return p->joined_at_s;
}

void tsr_participant_set_media_data(struct tsr_participant *p, void *data)
{
    p->media_data = data;
}

void *tsr_participant_media_data(const struct tsr_participant *p)
{
    return p->media_data;
}
