/* For tests that play the API loop: run one of the conference core's calls (which
 * complete by callback) to its end by iterating this thread's main context, and
 * hand back its result in the shape of the synchronous calls these tests were
 * written against: the return code, and the out-parameters written as those calls
 * wrote them (the participant and answer on success, the refusal and message on
 * failure). A call that does not complete within 60 s fails the test. */
#ifndef TSR_TESTS_CONFERENCE_WAIT_H
#define TSR_TESTS_CONFERENCE_WAIT_H

#include <tessera/conference.h>

#include <glib.h>

struct test_outcome {
    bool done;
    int rc;
    enum tsr_conference_refusal refusal;
    struct tsr_participant *participant;
    char *sdp;
    char *err_text;
};

static inline void test_outcome_cb(void *user, struct tsr_conference_result *res)
{
    struct test_outcome *o = user;
    o->done = true;
    o->rc = res->rc;
    o->refusal = res->refusal;
    o->participant = res->participant;
    o->sdp = res->sdp;
    o->err_text = res->err_text;
    res->sdp = res->err_text = NULL; /* taken */
}

static inline gboolean test_outcome_tick(gpointer data)
{
    (void)data;
    return G_SOURCE_CONTINUE; /* wakes the loop so the deadline is seen */
}

static inline void test_outcome_wait(struct test_outcome *o)
{
    GMainContext *ctx = g_main_context_get_thread_default();
    GSource *tick = g_timeout_source_new(500);
    g_source_set_callback(tick, test_outcome_tick, NULL, NULL);
    g_source_attach(tick, ctx);
    gint64 end = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (!o->done && g_get_monotonic_time() < end)
        g_main_context_iteration(ctx, TRUE);
    g_source_destroy(tick);
    g_source_unref(tick);
    if (!o->done)
        g_error("a conference call did not complete within 60 s");
}

/* Hands over the answer (success) or the message (failure); frees the rest. */
static inline int test_outcome_give(struct test_outcome *o, char **sdp, char **err_text)
{
    if (o->rc == 0 && sdp)
        *sdp = o->sdp;
    else
        g_free(o->sdp);
    if (o->rc != 0 && err_text)
        *err_text = o->err_text;
    else
        g_free(o->err_text);
    return o->rc;
}

static inline int test_join(struct tsr_conference_registry *reg,
                            const struct tsr_conference_join_request *req,
                            struct tsr_participant **out, char **answer_sdp,
                            enum tsr_conference_refusal *refusal, char **err_text)
{
    struct test_outcome o = {0};
    tsr_conference_join(reg, req, test_outcome_cb, &o, NULL);
    test_outcome_wait(&o);
    if (o.rc == 0)
        *out = o.participant;
    else
        *refusal = o.refusal;
    return test_outcome_give(&o, answer_sdp, err_text);
}

static inline int test_attach_media(struct tsr_participant *p, const char *offer_sdp,
                                    char **answer_sdp, enum tsr_conference_refusal *refusal,
                                    char **err_text)
{
    struct test_outcome o = {0};
    tsr_participant_attach_media(p, offer_sdp, test_outcome_cb, &o, NULL);
    test_outcome_wait(&o);
    if (o.rc != 0)
        *refusal = o.refusal;
    return test_outcome_give(&o, answer_sdp, err_text);
}

static inline int test_renegotiate(struct tsr_participant *p, const char *offer_sdp,
                                   char **answer_sdp, char **err_text)
{
    struct test_outcome o = {0};
    tsr_participant_renegotiate(p, offer_sdp, test_outcome_cb, &o, NULL);
    test_outcome_wait(&o);
    return test_outcome_give(&o, answer_sdp, err_text);
}

static inline int test_add_candidate(struct tsr_participant *p, const char *candidate,
                                     const char *mid, int mline_index)
{
    struct test_outcome o = {0};
    tsr_participant_add_candidate(p, candidate, mid, mline_index, test_outcome_cb, &o, NULL);
    test_outcome_wait(&o);
    return test_outcome_give(&o, NULL, NULL);
}

#endif
