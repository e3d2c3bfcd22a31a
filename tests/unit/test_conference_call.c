/* Calls that complete by callback (src/core/conference_call.c): a join or an
 * attach whose media answer is still out is not listed yet but counts against the
 * limits and keeps its conference; the outcome comes from a later loop iteration,
 * never from inside the call; cancelling undoes a join; a participant that leaves,
 * or a registry that is freed, ends the calls still out with TSR_ERR_STATE.
 *
 * held_media below is a TEST DOUBLE for the media layer that keeps every call it
 * is given until the test finishes it, as a net loop busy with something else
 * would; it records what the conference asked of it. */
#include <tessera/conference.h>
#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <glib.h>
#include <string.h>

/* --- test double: a media layer that answers when told ------------------------ */
struct held_media {
    struct tsr_conference_call *calls[8]; /* handed over, not finished */
    struct tsr_participant *owners[8];
    size_t n;
    int detached;
};

static struct held_media media;

static void hold(struct tsr_participant *p, struct tsr_conference_call *call)
{
    g_assert_cmpuint(media.n, <, G_N_ELEMENTS(media.calls));
    media.owners[media.n] = p;
    media.calls[media.n++] = call;
}

static void held_attach(void *user, struct tsr_participant *p, const char *offer,
                        struct tsr_conference_call *call)
{
    (void)user, (void)offer;
    hold(p, call);
}

static void held_renegotiate(void *user, struct tsr_participant *p, const char *offer,
                             struct tsr_conference_call *call)
{
    (void)user, (void)offer;
    hold(p, call);
}

static void held_candidate(void *user, struct tsr_participant *p, const char *candidate,
                           const char *mid, int mline_index, struct tsr_conference_call *call)
{
    (void)user, (void)candidate, (void)mid, (void)mline_index;
    hold(p, call);
}

/* Detach lets go of p's calls: media must never finish them afterwards. */
static void held_detach(void *user, struct tsr_participant *p)
{
    (void)user;
    media.detached++;
    for (size_t i = 0; i < media.n;)
        if (media.owners[i] == p) {
            media.calls[i] = media.calls[media.n - 1];
            media.owners[i] = media.owners[--media.n];
        } else {
            i++;
        }
}

static const struct tsr_conference_media_ops held_ops = {.attach = held_attach,
                                                         .detach = held_detach,
                                                         .renegotiate = held_renegotiate,
                                                         .add_candidate = held_candidate};

/* Media answers the oldest call it holds. */
static void media_answer(int rc, const char *sdp)
{
    g_assert_cmpuint(media.n, >, 0);
    struct tsr_conference_call *call = media.calls[0];
    media.n--;
    memmove(media.calls, media.calls + 1, media.n * sizeof media.calls[0]);
    memmove(media.owners, media.owners + 1, media.n * sizeof media.owners[0]);
    tsr_conference_call_done(call, rc, sdp ? g_strdup(sdp) : NULL,
                             rc ? g_strdup("held: refused") : NULL);
}

/* --- what a front sees ------------------------------------------------------------ */
struct seen {
    int n_done;
    int rc;
    enum tsr_conference_refusal refusal;
    struct tsr_participant *participant;
    char *sdp;
};

static void on_done(void *user, struct tsr_conference_result *res)
{
    struct seen *s = user;
    s->n_done++;
    s->rc = res->rc;
    s->refusal = res->refusal;
    s->participant = res->participant;
    g_free(s->sdp);
    s->sdp = g_steal_pointer(&res->sdp);
}

/* Runs whatever is due on this thread's loop, without waiting. */
static void run_due(void)
{
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

static struct tsr_conference_registry *registry_new(int64_t empty_timeout_s)
{
    memset(&media, 0, sizeof media);
    struct tsr_conference_registry_opts o = {.allow_adhoc = true,
                                             .empty_timeout_s = empty_timeout_s,
                                             .token_ttl_s = 120,
                                             .default_max_participants = 2,
                                             .media = &held_ops};
    struct tsr_conference_registry *reg = NULL;
    g_assert_cmpint(tsr_conference_registry_new(&reg, &o), ==, 0);
    return reg;
}

static struct tsr_participant *roster_join(struct tsr_conference_registry *reg, const char *alias,
                                           const char *name)
{
    struct tsr_conference_join_request req = {.alias = alias, .display_name = name};
    struct tsr_participant *p = NULL;
    enum tsr_conference_refusal why;
    char *err = NULL;
    if (tsr_conference_join_roster(reg, &req, &p, &why, &err) != 0)
        g_error("roster join refused: %s", err);
    return p;
}

static void join_with_offer(struct tsr_conference_registry *reg, const char *alias,
                            const char *name, struct seen *s, struct tsr_conference_call **call)
{
    struct tsr_conference_join_request req = {
        .alias = alias, .display_name = name, .offer_sdp = "offer"};
    tsr_conference_join(reg, &req, on_done, s, call);
}

/* A join waits for its media; meanwhile it is not listed, another conference's
 * join and a roster join in its own are answered, and the limit counts it. */
static void test_join_completes_later(void)
{
    struct tsr_conference_registry *reg = registry_new(0);
    struct seen slow = {0}, full = {0};
    join_with_offer(reg, "room", "Slow", &slow, NULL);
    g_assert_cmpint(slow.n_done, ==, 0); /* never from inside the call */
    run_due();
    g_assert_cmpint(slow.n_done, ==, 0);
    g_assert_cmpuint(media.n, ==, 1);
    g_assert_cmpuint(tsr_conference_registry_n_participants(reg), ==, 0);

    roster_join(reg, "elsewhere", "Other");
    roster_join(reg, "room", "Panel");
    g_assert_cmpuint(tsr_conference_registry_n_participants(reg), ==, 2);
    join_with_offer(reg, "room", "Third", &full, NULL); /* limit 2: Slow counts */
    run_due();
    g_assert_cmpint(full.n_done, ==, 1);
    g_assert_cmpint(full.refusal, ==, TSR_CONFERENCE_REFUSAL_FULL);
    g_assert_cmpuint(media.n, ==, 1);

    media_answer(0, "answer");
    g_assert_cmpint(slow.n_done, ==, 1);
    g_assert_cmpint(slow.rc, ==, 0);
    g_assert_cmpstr(slow.sdp, ==, "answer");
    g_assert_nonnull(slow.participant);
    g_assert_true(tsr_participant_has_media(slow.participant));
    g_assert_cmpuint(tsr_conference_registry_n_participants(reg), ==, 3);
    g_assert_cmpuint(tsr_conference_registry_n_with_media(reg), ==, 1);
    tsr_conference_registry_free(&reg);
    g_free(slow.sdp);
}

/* A media refusal of the only join drops the conference it created; a cancelled
 * join is undone (media told to let go) and its done never comes. */
static void test_refused_and_cancelled_joins(void)
{
    struct tsr_conference_registry *reg = registry_new(0);
    struct seen refused = {0}, cancelled = {0};
    join_with_offer(reg, "r", "A", &refused, NULL);
    g_assert_cmpuint(tsr_conference_registry_n_conferences(reg), ==, 1);
    media_answer(TSR_ERR_INVALID, NULL);
    g_assert_cmpint(refused.n_done, ==, 1);
    g_assert_cmpint(refused.refusal, ==, TSR_CONFERENCE_REFUSAL_BAD_SDP);
    g_assert_cmpuint(tsr_conference_registry_n_conferences(reg), ==, 0);

    struct tsr_conference_call *call = NULL;
    join_with_offer(reg, "c", "B", &cancelled, &call);
    g_assert_nonnull(call);
    tsr_conference_call_cancel(&call);
    g_assert_null(call);
    g_assert_cmpint(media.detached, ==, 1);
    g_assert_cmpuint(media.n, ==, 0);
    g_assert_cmpuint(tsr_conference_registry_n_conferences(reg), ==, 0);
    run_due();
    g_assert_cmpint(cancelled.n_done, ==, 0);
    tsr_conference_registry_free(&reg);
}

/* A pending join keeps an emptied conference (empty_timeout 0) from ending. */
static void test_pending_join_keeps_conference(void)
{
    struct tsr_conference_registry *reg = registry_new(0);
    struct tsr_participant *first = roster_join(reg, "k", "First");
    struct seen s = {0};
    join_with_offer(reg, "k", "Second", &s, NULL);
    tsr_participant_leave(first, TSR_LEAVE_REQUESTED);
    g_assert_nonnull(tsr_conference_registry_find(reg, "k"));
    tsr_conference_registry_sweep(reg);
    g_assert_nonnull(tsr_conference_registry_find(reg, "k"));
    media_answer(0, "answer");
    g_assert_cmpint(s.rc, ==, 0);
    g_assert_cmpuint(tsr_conference_n_participants(tsr_conference_registry_find(reg, "k")), ==, 1);
    tsr_participant_leave(s.participant, TSR_LEAVE_REQUESTED);
    g_assert_null(tsr_conference_registry_find(reg, "k"));
    tsr_conference_registry_free(&reg);
    g_free(s.sdp);
}

/* A participant that leaves while its attach and its renegotiation are out: media
 * is detached, and each call ends with TSR_ERR_STATE from the loop; a candidate
 * media had already taken counts as taken (0). */
static void test_leave_while_calls_out(void)
{
    struct tsr_conference_registry *reg = registry_new(0);
    struct tsr_participant *p = roster_join(reg, "l", "Lu");
    struct seen attach = {0};
    tsr_participant_attach_media(p, "offer", on_done, &attach, NULL);
    g_assert_cmpuint(media.n, ==, 1);
    tsr_participant_leave(p, TSR_LEAVE_KICKED);
    g_assert_cmpint(media.detached, ==, 1);
    g_assert_cmpint(attach.n_done, ==, 0);
    run_due();
    g_assert_cmpint(attach.n_done, ==, 1);
    g_assert_cmpint(attach.rc, ==, TSR_ERR_STATE);

    struct tsr_participant *q = roster_join(reg, "l", "Qu");
    struct seen q_attach = {0}, reneg = {0}, cand = {0};
    tsr_participant_attach_media(q, "offer", on_done, &q_attach, NULL);
    media_answer(0, "answer");
    g_assert_true(tsr_participant_has_media(q));
    tsr_participant_renegotiate(q, "again", on_done, &reneg, NULL);
    tsr_participant_add_candidate(q, "candidate:1 1 udp 1 192.0.2.1 9 typ host", "0", 0, on_done,
                                  &cand, NULL);
    g_assert_cmpuint(media.n, ==, 2);
    tsr_participant_detach_media(q); /* the call hung up; q stays */
    run_due();
    g_assert_cmpint(reneg.n_done, ==, 1);
    g_assert_cmpint(reneg.rc, ==, TSR_ERR_STATE);
    g_assert_cmpint(cand.n_done, ==, 1);
    g_assert_cmpint(cand.rc, ==, 0);
    g_assert_false(tsr_participant_has_media(q));
    tsr_conference_registry_free(&reg);
    g_free(q_attach.sdp);
}

/* Freeing the registry finishes what is still out, from inside the free. */
static void test_registry_free_finishes_calls(void)
{
    struct tsr_conference_registry *reg = registry_new(30);
    struct tsr_participant *p = roster_join(reg, "f", "P");
    struct seen join = {0}, attach = {0};
    join_with_offer(reg, "f", "J", &join, NULL);
    tsr_participant_attach_media(p, "offer", on_done, &attach, NULL);
    g_assert_cmpuint(media.n, ==, 2);
    tsr_conference_registry_free(&reg);
    g_assert_cmpint(join.n_done, ==, 1);
    g_assert_cmpint(join.rc, ==, TSR_ERR_STATE);
    g_assert_null(join.participant);
    g_assert_cmpint(attach.n_done, ==, 1);
    g_assert_cmpint(attach.rc, ==, TSR_ERR_STATE);
    g_assert_cmpuint(media.n, ==, 0);
    run_due();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tsr_log_set_level(TSR_LOG_ERROR);
    g_test_add_func("/conference_call/join_completes_later", test_join_completes_later);
    g_test_add_func("/conference_call/refused_and_cancelled_joins",
                    test_refused_and_cancelled_joins);
    g_test_add_func("/conference_call/pending_join_keeps_conference",
                    test_pending_join_keeps_conference);
    g_test_add_func("/conference_call/leave_while_calls_out", test_leave_while_calls_out);
    g_test_add_func("/conference_call/registry_free_finishes_calls",
                    test_registry_free_finishes_calls);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
