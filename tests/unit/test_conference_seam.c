/* The conference core's seam to the fronts: the one alias and display-name rule,
 * conferences defined from code (what the inLive front does with ad hoc
 * conferences off), and holders: a BOUND participant never lapses, a LEASE one
 * does, and the holder is referenced from the start of the join until the
 * participant leaves and told once when it does, whatever the reason; a join with
 * an offer still on its net loop holds it too, and lets it go when called off.
 * fake_media_ops below is a TEST DOUBLE for the media layer: attach keeps the call
 * for the test to finish or cancel. */
#include <tessera/conference.h>
#include <tessera/err.h>
#include <tessera/metrics.h>

#include <glib.h>
#include <string.h>

static struct tsr_conference_registry *cur_reg;

/* --- a test holder: counts refs and remembers how its participant left ---------- */
struct test_holder {
    struct tsr_participant_holder h; /* first: the core sees only this */
    int refs;
    int left_calls;
    struct tsr_participant *joined; /* while in */
    enum tsr_leave_reason reason;
    char left_id[40];
};

static void th_ref(struct tsr_participant_holder *h)
{
    ((struct test_holder *)h)->refs++;
}

static void th_unref(struct tsr_participant_holder *h)
{
    ((struct test_holder *)h)->refs--;
}

static void th_joined(struct tsr_participant_holder *h, struct tsr_participant *p)
{
    ((struct test_holder *)h)->joined = p;
}

static void th_left(struct tsr_participant_holder *h, struct tsr_participant *p,
                    enum tsr_leave_reason reason)
{
    struct test_holder *t = (struct test_holder *)h;
    t->left_calls++;
    g_assert_true(t->joined == p);
    t->joined = NULL;
    t->reason = reason;
    g_strlcpy(t->left_id, tsr_participant_id(p), sizeof t->left_id);
    /* p is already out of the tables: a lookup must not find it */
    g_assert_null(tsr_conference_registry_find_participant(cur_reg, tsr_participant_id(p)));
}

static const struct tsr_participant_holder_ops th_ops = {
    .ref = th_ref, .unref = th_unref, .joined = th_joined, .left = th_left};

static void th_init(struct test_holder *t, enum tsr_participant_liveness liveness)
{
    memset(t, 0, sizeof *t);
    t->h.ops = &th_ops;
    t->h.liveness = liveness;
    t->refs = 1; /* the test's own */
}

/* --- fixture: a registry on a test clock, ad hoc off --------------------------------- */
static int64_t now_us;

static int64_t test_clock(void *user)
{
    (void)user;
    return now_us;
}

static struct tsr_conference_registry *registry(bool adhoc)
{
    struct tsr_conference_registry_opts o = {.allow_adhoc = adhoc,
                                             .empty_timeout_s = 0,
                                             .token_ttl_s = 120,
                                             .default_max_participants = 5,
                                             .clock = test_clock};
    struct tsr_conference_registry *reg = NULL;
    now_us = 1000 * G_USEC_PER_SEC;
    g_assert_cmpint(tsr_conference_registry_new(&reg, &o), ==, 0);
    cur_reg = reg;
    return reg;
}

static struct tsr_participant *join(struct tsr_conference_registry *reg, const char *alias,
                                    struct test_holder *t, enum tsr_conference_refusal *why,
                                    char **err)
{
    struct tsr_conference_join_request req = {
        .alias = alias, .display_name = "Ann", .holder = t ? &t->h : NULL};
    struct tsr_participant *p = NULL;
    char *e = NULL;
    enum tsr_conference_refusal r = TSR_CONFERENCE_REFUSAL_NONE;
    if (tsr_conference_join_roster(reg, &req, &p, &r, &e) != 0)
        p = NULL;
    if (why)
        *why = r;
    if (err)
        *err = e;
    else
        g_free(e);
    return p;
}

/* --- tests ---------------------------------------------------------------------------- */

static void test_alias_rule(void)
{
    const char *good[] = {
        "a",  "board", "A.b_c-9",
        "x.", "a..b",  "0123456789012345678901234567890123456789012345678901234567890123"};
    const char *bad[] = {
        NULL,  "",
        ".",   ".hidden",
        "..",  "a b",
        "a/b", "a%2e",
        "é",   "01234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
        g_assert_true(tsr_conference_alias_valid(good[i]));
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        g_assert_false(tsr_conference_alias_valid(bad[i]));
    g_assert_true(tsr_conference_alias_char('.'));
    g_assert_false(tsr_conference_alias_char(' '));

    /* a join quotes the rule; a bad name gets the name rule instead */
    struct tsr_conference_registry *reg = registry(true);
    enum tsr_conference_refusal why;
    char *err = NULL;
    g_assert_null(join(reg, ".hidden", NULL, &why, &err));
    g_assert_cmpint(why, ==, TSR_CONFERENCE_REFUSAL_BAD_REQUEST);
    g_assert_cmpstr(err, ==, TSR_CONFERENCE_ALIAS_RULE);
    g_free(err);
    struct tsr_conference_join_request req = {.alias = "ok", .display_name = " \t "};
    struct tsr_participant *p = NULL;
    g_assert_cmpint(tsr_conference_join_roster(reg, &req, &p, &why, &err), <, 0);
    g_assert_cmpstr(err, ==, TSR_CONFERENCE_DISPLAY_NAME_RULE);
    g_free(err);
    g_assert_cmpuint(tsr_conference_registry_n_conferences(reg), ==, 0);
    tsr_conference_registry_free(&reg);
}

static void test_display_name_rule(void)
{
    g_assert_true(tsr_conference_display_name_valid("Ann"));
    g_assert_true(tsr_conference_display_name_valid("  Zoë  "));
    g_assert_false(tsr_conference_display_name_valid(NULL));
    g_assert_false(tsr_conference_display_name_valid(""));
    g_assert_false(tsr_conference_display_name_valid("   "));
    /* zero-width only (ZWSP, ZWJ, BOM) shows nothing; an emoji ZWJ sequence does */
    g_assert_false(tsr_conference_display_name_valid("\u200B\u200D\uFEFF"));
    g_assert_true(tsr_conference_display_name_valid("\U0001F469\u200D\U0001F4BB"));
    /* direction overrides and isolates would reorder the roster's text */
    g_assert_false(tsr_conference_display_name_valid("Eve\u202Egnp.exe"));
    g_assert_false(tsr_conference_display_name_valid("\u2066Bob\u2069"));
    g_assert_false(tsr_conference_display_name_valid("tab\there"));
    g_assert_false(tsr_conference_display_name_valid("a\x01"));
    g_assert_false(tsr_conference_display_name_valid("a\xc3"));     /* truncated UTF-8 */
    g_assert_false(tsr_conference_display_name_valid("a\xc2\x85")); /* U+0085, a control */
    char long_name[TSR_CONFERENCE_NAME_MAX + 2];
    memset(long_name, 'n', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    g_assert_false(tsr_conference_display_name_valid(long_name));
    long_name[TSR_CONFERENCE_NAME_MAX] = '\0';
    g_assert_true(tsr_conference_display_name_valid(long_name));
}

static void test_define_from_code(void)
{
    struct tsr_conference_registry *reg = registry(false);
    enum tsr_conference_refusal why;
    g_assert_null(join(reg, "room", NULL, &why, NULL));
    g_assert_cmpint(why, ==, TSR_CONFERENCE_REFUSAL_NO_SUCH_CONFERENCE);

    char *err = NULL;
    struct tsr_conference_definition bad = {.alias = ".room"};
    g_assert_cmpint(tsr_conference_registry_define(reg, &bad, &err), ==, TSR_ERR_CONFIG);
    g_assert_nonnull(strstr(err, TSR_CONFERENCE_ALIAS_RULE));
    g_free(err);
    struct tsr_conference_definition pins = {.alias = "room", .guest_pin = "1"};
    g_assert_cmpint(tsr_conference_registry_define(reg, &pins, &err), ==, TSR_ERR_CONFIG);
    g_free(err);
    g_assert_false(tsr_conference_registry_knows(reg, "room"));

    struct tsr_conference_definition def = {.alias = "room", .name = "The room"};
    g_assert_cmpint(tsr_conference_registry_define(reg, &def, &err), ==, 0);
    g_assert_true(tsr_conference_registry_knows(reg, "room"));
    struct tsr_participant *p = join(reg, "room", NULL, NULL, NULL);
    g_assert_nonnull(p);
    struct tsr_conference *c = tsr_participant_conference(p);
    g_assert_cmpstr(tsr_conference_name(c), ==, "The room");
    g_assert_cmpstr(tsr_conference_layout(c), ==, "grid");
    json_t *cj = tsr_conference_to_json(c, false);
    g_assert_cmpint(json_integer_value(json_object_get(cj, "max_participants")), ==, 5);
    json_decref(cj);
    /* undefined while live: it runs on, and is gone once it ends */
    tsr_conference_registry_undefine(reg, "room");
    tsr_conference_registry_undefine(reg, "never-defined");
    g_assert_nonnull(join(reg, "room", NULL, NULL, NULL));
    g_assert_cmpuint(tsr_conference_registry_n_participants(reg), ==, 2);
    tsr_conference_registry_free(&reg);
    g_assert_null(reg);
}

static void test_holders_and_liveness(void)
{
    struct tsr_conference_registry *reg = registry(true);
    struct test_holder lease, bound;
    th_init(&lease, TSR_PARTICIPANT_LEASE);
    th_init(&bound, TSR_PARTICIPANT_BOUND);
    struct tsr_participant *a = join(reg, "r", &lease, NULL, NULL);
    struct tsr_participant *b = join(reg, "r", &bound, NULL, NULL);
    struct tsr_participant *c = join(reg, "r", NULL, NULL, NULL);
    g_assert_true(tsr_participant_holder(a) == &lease.h);
    g_assert_true(lease.joined == a);
    g_assert_true(tsr_participant_holder(c) == NULL);
    g_assert_cmpint(tsr_participant_liveness(b), ==, TSR_PARTICIPANT_BOUND);
    g_assert_cmpint(tsr_participant_liveness(c), ==, TSR_PARTICIPANT_LEASE);
    g_assert_cmpint(lease.refs, ==, 2);
    g_assert_cmpint(bound.refs, ==, 2);
    char *b_id = g_strdup(tsr_participant_id(b)), *b_tok = g_strdup(tsr_participant_token(b));

    /* past the TTL the leases lapse; the bound one stays and still authenticates */
    now_us += 121 * G_USEC_PER_SEC;
    tsr_conference_registry_sweep(reg);
    g_assert_cmpuint(tsr_conference_registry_n_participants(reg), ==, 1);
    g_assert_cmpint(lease.left_calls, ==, 1);
    g_assert_cmpint(lease.reason, ==, TSR_LEAVE_TOKEN_EXPIRED);
    g_assert_cmpint(lease.refs, ==, 1);
    struct tsr_participant *found = NULL;
    g_assert_cmpint(tsr_conference_registry_authenticate(reg, b_id, b_tok, &found), ==, 0);
    g_assert_true(found == b);

    /* kicked: told once with the reason, reference dropped */
    struct tsr_participant *host = join(reg, "r", NULL, NULL, NULL);
    g_assert_cmpint(tsr_participant_kick(host, b), ==, 0);
    g_assert_cmpint(bound.left_calls, ==, 1);
    g_assert_cmpint(bound.reason, ==, TSR_LEAVE_KICKED);
    g_assert_cmpstr(bound.left_id, ==, b_id);
    g_assert_cmpint(bound.refs, ==, 1);

    /* a refused join takes no reference */
    struct test_holder refused;
    th_init(&refused, TSR_PARTICIPANT_BOUND);
    g_assert_null(join(reg, ".bad", &refused, NULL, NULL));
    g_assert_cmpint(refused.refs, ==, 1);
    g_assert_null(refused.joined);
    g_assert_cmpint(refused.left_calls, ==, 0);

    /* shutdown tells the holders that are left */
    struct test_holder last;
    th_init(&last, TSR_PARTICIPANT_BOUND);
    join(reg, "r", &last, NULL, NULL);
    tsr_conference_registry_free(&reg);
    g_assert_cmpint(last.left_calls, ==, 1);
    g_assert_cmpint(last.reason, ==, TSR_LEAVE_SHUTDOWN);
    g_assert_cmpint(last.refs, ==, 1);
    g_free(b_id);
    g_free(b_tok);
}

/* --- a join with an offer, pending on the (fake) net loop --------------------------- */
static struct tsr_conference_call *pending_call;

static void fake_attach(void *user, struct tsr_participant *p, const char *offer,
                        struct tsr_conference_call *call)
{
    (void)user, (void)p, (void)offer;
    pending_call = call;
}

static void fake_detach(void *user, struct tsr_participant *p)
{
    (void)user, (void)p;
}

static const struct tsr_conference_media_ops fake_media_ops = {.attach = fake_attach,
                                                               .detach = fake_detach};

static struct tsr_participant *joined_p;
static bool join_finished;

static void on_join_done(void *user, struct tsr_conference_result *res)
{
    (void)user;
    join_finished = true;
    joined_p = res->rc == 0 ? res->participant : NULL;
}

static void test_pending_join_holds(void)
{
    struct tsr_conference_registry_opts o = {.allow_adhoc = true,
                                             .token_ttl_s = 120,
                                             .default_max_participants = 5,
                                             .media = &fake_media_ops,
                                             .clock = test_clock};
    struct tsr_conference_registry *reg = NULL;
    g_assert_cmpint(tsr_conference_registry_new(&reg, &o), ==, 0);
    cur_reg = reg;
    struct test_holder t;
    th_init(&t, TSR_PARTICIPANT_BOUND);
    struct tsr_conference_join_request req = {
        .alias = "p", .display_name = "Ann", .offer_sdp = "offer", .holder = &t.h};
    struct tsr_conference_call *handle = NULL;
    /* called off on the way: held meanwhile, let go without joined or left */
    tsr_conference_join(reg, &req, on_join_done, NULL, &handle);
    g_assert_cmpint(t.refs, ==, 2);
    g_assert_null(t.joined);
    tsr_conference_call_cancel(&handle);
    g_assert_cmpint(t.refs, ==, 1);
    g_assert_cmpint(t.left_calls, ==, 0);
    g_assert_cmpuint(tsr_conference_registry_n_participants(reg), ==, 0);
    /* completed: joined right before done, held until the participant leaves */
    tsr_conference_join(reg, &req, on_join_done, NULL, &handle);
    tsr_conference_call_done(pending_call, 0, g_strdup("answer"), NULL);
    while (!join_finished)
        g_main_context_iteration(NULL, TRUE);
    g_assert_nonnull(joined_p);
    g_assert_true(t.joined == joined_p);
    g_assert_cmpint(t.refs, ==, 2);
    tsr_participant_leave(joined_p, TSR_LEAVE_REQUESTED);
    g_assert_cmpint(t.left_calls, ==, 1);
    g_assert_cmpint(t.refs, ==, 1);
    tsr_conference_registry_free(&reg);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conference_seam/alias_rule", test_alias_rule);
    g_test_add_func("/conference_seam/display_name_rule", test_display_name_rule);
    g_test_add_func("/conference_seam/define_from_code", test_define_from_code);
    g_test_add_func("/conference_seam/holders_and_liveness", test_holders_and_liveness);
    g_test_add_func("/conference_seam/pending_join_holds", test_pending_join_holds);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
