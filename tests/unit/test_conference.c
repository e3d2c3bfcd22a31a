/* Conference core: PIN flow, roles, limits, lock, kick, mute, token expiry,
 * empty-timeout removal, events, and the media seam.
 *
 * fake_media_ops below is a TEST DOUBLE for the WebRTC media layer: it records
 * which operations the conference called and answers attach with a fixed text.
 * It exists only in this test; the server wires the real media layer. */
#include <tessera/conference.h>
#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <glib.h>
#include <math.h>
#include <string.h>

#include "../common/conference_wait.h"

/* --- test double for the media layer ---------------------------------------- */
struct fake_media {
    int attach_rc; /* what attach returns */
    double load;   /* what load returns */
    int attached, detached, candidates, layouts, mutes, ended, renegotiated;
    bool last_audio_muted, last_video_muted;
    char last_layout[16];
    char last_candidate[128];
};

/* The fakes answer inside the op; the conference still reports from a later loop
 * iteration. */
static void fake_attach(void *user, struct tsr_participant *p, const char *offer,
                        struct tsr_conference_call *call)
{
    struct fake_media *m = user;
    (void)p;
    if (m->attach_rc != 0) {
        tsr_conference_call_done(call, m->attach_rc, NULL, g_strdup("fake refusal"));
        return;
    }
    m->attached++;
    tsr_conference_call_done(call, 0, g_strdup_printf("answer-to:%s", offer), NULL);
}

static void fake_renegotiate(void *user, struct tsr_participant *p, const char *offer,
                             struct tsr_conference_call *call)
{
    struct fake_media *m = user;
    (void)p;
    if (strcmp(offer, "bad") == 0) {
        tsr_conference_call_done(call, TSR_ERR_INVALID, NULL, g_strdup("fake: bad offer"));
        return;
    }
    m->renegotiated++;
    tsr_conference_call_done(call, 0, g_strdup_printf("reanswer-to:%s", offer), NULL);
}

static void fake_detach(void *user, struct tsr_participant *p)
{
    (void)p;
    ((struct fake_media *)user)->detached++;
}

static void fake_add_candidate(void *user, struct tsr_participant *p, const char *cand,
                               const char *mid, int idx, struct tsr_conference_call *call)
{
    struct fake_media *m = user;
    (void)p, (void)mid, (void)idx;
    m->candidates++;
    g_strlcpy(m->last_candidate, cand, sizeof m->last_candidate);
    tsr_conference_call_done(call, 0, NULL, NULL);
}

static void fake_set_layout(void *user, struct tsr_conference *c, const char *layout)
{
    struct fake_media *m = user;
    (void)c;
    m->layouts++;
    g_strlcpy(m->last_layout, layout, sizeof m->last_layout);
}

static void fake_set_muted(void *user, struct tsr_participant *p, bool a, bool v)
{
    struct fake_media *m = user;
    (void)p;
    m->mutes++;
    m->last_audio_muted = a;
    m->last_video_muted = v;
}

static void fake_conference_ended(void *user, struct tsr_conference *c)
{
    (void)c;
    ((struct fake_media *)user)->ended++;
}

static double fake_load(void *user)
{
    return ((struct fake_media *)user)->load;
}

static const struct tsr_conference_media_ops fake_media_ops = {
    .attach = fake_attach,
    .detach = fake_detach,
    .add_candidate = fake_add_candidate,
    .renegotiate = fake_renegotiate,
    .set_layout = fake_set_layout,
    .set_muted = fake_set_muted,
    .conference_ended = fake_conference_ended,
    .load = fake_load,
};

/* --- fixture ------------------------------------------------------------------ */
struct fx {
    struct tsr_conference_registry *reg;
    struct fake_media media;
    int64_t now_us;
    GPtrArray *events; /* "type:participant_id:reason" strings */
    uint64_t sub;
};

static int64_t fx_clock(void *user)
{
    return ((struct fx *)user)->now_us;
}

static void fx_on_event(const struct tsr_conference_event *ev, void *user)
{
    struct fx *f = user;
    json_t *reason = json_object_get(ev->data, "reason");
    g_ptr_array_add(f->events, g_strdup_printf("%s:%s:%s", tsr_conference_event_name(ev->type),
                                               ev->participant_id ? ev->participant_id : "-",
                                               reason ? json_string_value(reason) : "-"));
}

/* Starts the fixture's registry with opts (clock and media user filled in here). */
static void fx_start(struct fx *f, struct tsr_conference_registry_opts *o)
{
    memset(f, 0, sizeof *f);
    f->now_us = 1000 * G_USEC_PER_SEC;
    f->events = g_ptr_array_new_with_free_func(g_free);
    o->token_ttl_s = 120;
    o->default_max_participants = 25;
    o->media_user = &f->media;
    o->clock = fx_clock;
    o->clock_user = f;
    g_assert_cmpint(tsr_conference_registry_new(&f->reg, o), ==, 0);
    g_assert_cmpint(tsr_conference_registry_subscribe(f->reg, NULL, fx_on_event, f, &f->sub), ==,
                    0);
}

static void fx_setup(struct fx *f, bool with_media, bool adhoc, int64_t empty_timeout_s)
{
    struct tsr_conference_registry_opts o = {
        .allow_adhoc = adhoc,
        .empty_timeout_s = empty_timeout_s,
        .media = with_media ? &fake_media_ops : NULL,
    };
    fx_start(f, &o);
}

/* A registry with server-wide capacity limits (see tsr_conference_registry_opts). */
static void fx_setup_capacity(struct fx *f, int64_t max_media, double max_load)
{
    struct tsr_conference_registry_opts o = {
        .allow_adhoc = true,
        .max_media_participants = max_media,
        .max_load = max_load,
        .media = &fake_media_ops,
    };
    fx_start(f, &o);
}

static void fx_teardown(struct fx *f)
{
    tsr_conference_registry_free(&f->reg);
    g_assert_null(f->reg);
    g_ptr_array_free(f->events, TRUE);
    tsr_metrics_reset();
}

static bool fx_saw(struct fx *f, const char *prefix)
{
    for (guint i = 0; i < f->events->len; i++)
        if (g_str_has_prefix(f->events->pdata[i], prefix))
            return true;
    return false;
}

static struct tsr_participant *join_ok(struct fx *f, const char *alias, const char *name,
                                       const char *pin)
{
    struct tsr_conference_join_request req = {.alias = alias, .display_name = name, .pin = pin};
    struct tsr_participant *p = NULL;
    enum tsr_conference_refusal r = TSR_CONFERENCE_REFUSAL_NONE;
    char *err = NULL;
    int rc = tsr_conference_join_roster(f->reg, &req, &p, &r, &err);
    if (rc != 0)
        g_error("join %s/%s refused: %s (%s)", alias, name, tsr_conference_refusal_code(r), err);
    return p;
}

static enum tsr_conference_refusal join_refused(struct fx *f, const char *alias, const char *name,
                                                const char *pin, const char *sdp)
{
    struct tsr_conference_join_request req = {
        .alias = alias, .display_name = name, .pin = pin, .offer_sdp = sdp};
    struct tsr_participant *p = NULL;
    enum tsr_conference_refusal r = TSR_CONFERENCE_REFUSAL_NONE;
    char *err = NULL, *answer = NULL;
    int rc = test_join(f->reg, &req, &p, &answer, &r, &err);
    g_assert_cmpint(rc, <, 0);
    g_assert_null(p);
    g_assert_null(answer);
    g_assert_nonnull(err);
    g_assert_cmpstr(err, !=, "");
    g_free(err);
    return r;
}

static const char defs_json[] =
    "{\"conferences\":["
    "{\"alias\":\"board\",\"name\":\"Board room\",\"host_pin\":\"1234\",\"guest_pin\":\"5678\","
    "\"layout\":\"speaker\",\"max_participants\":3},"
    "{\"alias\":\"hosts\",\"host_pin\":\"42\"},"
    "{\"alias\":\"open\",\"max_participants\":2}]}";

static void load_defs(struct fx *f)
{
    char *err = NULL;
    int rc = tsr_conference_registry_load_json(f->reg, defs_json, strlen(defs_json), "t", &err);
    g_assert_cmpint(rc, ==, 0);
    g_assert_null(err);
}

/* --- tests ------------------------------------------------------------------------ */

static void test_adhoc_join_and_leave(void)
{
    struct fx f;
    fx_setup(&f, false, true, 60);
    struct tsr_participant *a = join_ok(&f, "room-1", "  Alice  ", NULL);
    struct tsr_conference *c = tsr_conference_registry_find(f.reg, "room-1");
    g_assert_nonnull(c);
    g_assert_true(tsr_participant_conference(a) == c);
    g_assert_cmpstr(tsr_participant_display_name(a), ==, "Alice");
    g_assert_cmpint(tsr_participant_role(a), ==, TSR_ROLE_HOST); /* no PIN: everyone hosts */
    g_assert_cmpstr(tsr_conference_layout(c), ==, "grid");
    g_assert_cmpuint(strlen(tsr_participant_token(a)), ==, 64);
    g_assert_cmpuint(strlen(tsr_participant_id(a)), ==, 36);
    g_assert_false(tsr_participant_has_media(a));

    struct tsr_participant *b = join_ok(&f, "room-1", "Bob", NULL);
    g_assert_cmpstr(tsr_participant_token(a), !=, tsr_participant_token(b));
    g_assert_cmpuint(tsr_conference_n_participants(c), ==, 2);
    g_assert_cmpuint(tsr_conference_registry_n_participants(f.reg), ==, 2);

    json_t *j = tsr_conference_to_json(c, true);
    g_assert_cmpuint(json_array_size(json_object_get(j, "participants")), ==, 2);
    char *dump = json_dumps(j, 0);
    g_assert_null(strstr(dump, tsr_participant_token(a))); /* tokens never listed */
    g_free(dump);
    json_decref(j);

    char *ev_a = g_strdup_printf("participant_joined:%s", tsr_participant_id(a));
    g_assert_true(fx_saw(&f, ev_a));
    g_free(ev_a);
    char *b_id = g_strdup(tsr_participant_id(b));
    tsr_participant_leave(b, TSR_LEAVE_REQUESTED);
    char *ev_b = g_strdup_printf("participant_left:%s:left", b_id);
    g_assert_true(fx_saw(&f, ev_b));
    struct tsr_participant *found = NULL;
    g_assert_cmpint(tsr_conference_registry_authenticate(f.reg, b_id, "x", &found), ==,
                    TSR_ERR_NOT_FOUND);
    g_free(ev_b);
    g_free(b_id);

    /* bad input */
    g_assert_cmpint(join_refused(&f, "../etc", "X", NULL, NULL), ==,
                    TSR_CONFERENCE_REFUSAL_BAD_REQUEST);
    g_assert_cmpint(join_refused(&f, "room-1", "   ", NULL, NULL), ==,
                    TSR_CONFERENCE_REFUSAL_BAD_REQUEST);
    g_assert_cmpint(join_refused(&f, "room-1", "bell\a", NULL, NULL), ==,
                    TSR_CONFERENCE_REFUSAL_BAD_REQUEST);
    g_assert_cmpint(join_refused(&f, "room-1", "A", NULL, "v=0"), ==,
                    TSR_CONFERENCE_REFUSAL_MEDIA_UNAVAILABLE);
    g_assert_cmpuint(tsr_conference_n_participants(c), ==, 1);
    fx_teardown(&f);
}

static void test_adhoc_off(void)
{
    struct fx f;
    fx_setup(&f, false, false, 60);
    g_assert_cmpint(join_refused(&f, "nowhere", "A", NULL, NULL), ==,
                    TSR_CONFERENCE_REFUSAL_NO_SUCH_CONFERENCE);
    g_assert_cmpuint(tsr_conference_registry_n_conferences(f.reg), ==, 0);
    g_assert_false(tsr_conference_registry_knows(f.reg, "open"));
    load_defs(&f);
    g_assert_true(tsr_conference_registry_knows(f.reg, "open"));
    join_ok(&f, "open", "A", NULL);
    fx_teardown(&f);
}

static void test_pin_flow_and_roles(void)
{
    struct fx f;
    fx_setup(&f, false, false, 60);
    load_defs(&f);
    bool need = false;
    g_assert_cmpint(tsr_conference_registry_pin_required(f.reg, "board", &need), ==, 0);
    g_assert_true(need);
    g_assert_cmpint(tsr_conference_registry_pin_required(f.reg, "open", &need), ==, 0);
    g_assert_false(need);
    g_assert_cmpint(tsr_conference_registry_pin_required(f.reg, "nope", &need), ==,
                    TSR_ERR_NOT_FOUND);

    g_assert_cmpint(join_refused(&f, "board", "A", NULL, NULL), ==,
                    TSR_CONFERENCE_REFUSAL_PIN_REQUIRED);
    g_assert_cmpint(join_refused(&f, "board", "A", "", NULL), ==,
                    TSR_CONFERENCE_REFUSAL_PIN_REQUIRED);
    g_assert_cmpint(join_refused(&f, "board", "A", "0000", NULL), ==,
                    TSR_CONFERENCE_REFUSAL_WRONG_PIN);
    g_assert_cmpint(join_refused(&f, "board", "A", "12345", NULL), ==,
                    TSR_CONFERENCE_REFUSAL_WRONG_PIN);
    g_assert_cmpuint(tsr_conference_registry_n_conferences(f.reg), ==,
                     0); /* refusals leave nothing */

    struct tsr_participant *h = join_ok(&f, "board", "Host", "1234");
    struct tsr_participant *g = join_ok(&f, "board", "Guest", "5678");
    g_assert_cmpint(tsr_participant_role(h), ==, TSR_ROLE_HOST);
    g_assert_cmpint(tsr_participant_role(g), ==, TSR_ROLE_GUEST);
    struct tsr_conference *c = tsr_participant_conference(h);
    g_assert_cmpstr(tsr_conference_name(c), ==, "Board room");
    g_assert_cmpstr(tsr_conference_layout(c), ==, "speaker");

    /* host PIN only: the PIN makes a host; anything else is wrong */
    g_assert_cmpint(join_refused(&f, "hosts", "A", "5678", NULL), ==,
                    TSR_CONFERENCE_REFUSAL_WRONG_PIN);
    g_assert_cmpint(tsr_participant_role(join_ok(&f, "hosts", "A", "42")), ==, TSR_ROLE_HOST);

    /* guests may not act as hosts */
    g_assert_cmpint(tsr_conference_set_layout(g, "grid"), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_conference_set_locked(g, true), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_participant_set_muted(g, h, false, true), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_participant_kick(g, h), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_conference_set_layout(h, "mosaic"), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_conference_set_layout(h, "single"), ==, 0);
    g_assert_cmpstr(tsr_conference_layout(c), ==, "single");
    g_assert_cmpint(tsr_conference_set_layout(h, "1:7"), ==, 0); /* Pexip alias */
    g_assert_cmpstr(tsr_conference_layout(c), ==, "speaker");    /* stored canonical */
    g_assert_cmpint(tsr_conference_set_layout(h, "2:21"), ==, 0);
    g_assert_cmpstr(tsr_conference_layout(c), ==, "2:21");
    g_assert_true(fx_saw(&f, "layout:-"));
    fx_teardown(&f);
}

static void test_pin_throttle(void)
{
    struct fx f;
    fx_setup(&f, false, false, 60);
    load_defs(&f);
    for (int i = 0; i < TSR_CONFERENCE_PIN_TRIES; i++)
        g_assert_cmpint(join_refused(&f, "board", "A", "0000", NULL), ==,
                        TSR_CONFERENCE_REFUSAL_WRONG_PIN);
    /* now even the right PIN is refused for this conference, not for others */
    g_assert_cmpint(join_refused(&f, "board", "A", "1234", NULL), ==,
                    TSR_CONFERENCE_REFUSAL_TOO_MANY_ATTEMPTS);
    g_assert_cmpint(tsr_participant_role(join_ok(&f, "hosts", "H", "42")), ==, TSR_ROLE_HOST);
    join_ok(&f, "open", "O", NULL); /* no PIN: never throttled */
    f.now_us += (TSR_CONFERENCE_PIN_WINDOW_S - 1) * G_USEC_PER_SEC;
    g_assert_cmpint(join_refused(&f, "board", "A", "1234", NULL), ==,
                    TSR_CONFERENCE_REFUSAL_TOO_MANY_ATTEMPTS);
    f.now_us += 1 * G_USEC_PER_SEC; /* the window is over */
    g_assert_cmpint(tsr_participant_role(join_ok(&f, "board", "A", "1234")), ==, TSR_ROLE_HOST);
    fx_teardown(&f);
}

static void test_bad_definitions(void)
{
    struct fx f;
    fx_setup(&f, false, false, 60);
    const char *bad[] = {
        "not json",
        "{\"conferences\":{}}",
        "{\"conferences\":[{\"alias\":\"a b\"}]}",
        "{\"conferences\":[{\"alias\":\"a\",\"guest_pin\":\"1\"}]}",
        "{\"conferences\":[{\"alias\":\"a\",\"host_pin\":\"12x\"}]}",
        "{\"conferences\":[{\"alias\":\"a\",\"layout\":\"mosaic\"}]}",
        "{\"conferences\":[{\"alias\":\"a\",\"max_participants\":0}]}",
        "{\"conferences\":[{\"alias\":\"a\",\"colour\":\"red\"}]}",
        "{\"conferences\":[{\"alias\":\"ok\"},{\"alias\":\"ok\"}]}",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *err = NULL;
        g_assert_cmpint(
            tsr_conference_registry_load_json(f.reg, bad[i], strlen(bad[i]), "f.json", &err), ==,
            TSR_ERR_CONFIG);
        g_assert_true(g_str_has_prefix(err, "f.json: "));
        g_free(err);
    }
    /* all-or-nothing: the valid first entry of the last case was not defined */
    g_assert_false(tsr_conference_registry_knows(f.reg, "ok"));
    char *err = NULL;
    g_assert_cmpint(tsr_conference_registry_load_file(f.reg, "/nonexistent/conf.json", &err), ==,
                    TSR_ERR_CONFIG);
    g_assert_nonnull(strstr(err, "/nonexistent/conf.json"));
    g_free(err);
    fx_teardown(&f);
}

static void test_limit_and_lock(void)
{
    struct fx f;
    fx_setup(&f, false, false, 60);
    load_defs(&f);
    struct tsr_participant *a = join_ok(&f, "open", "A", NULL);
    join_ok(&f, "open", "B", NULL);
    g_assert_cmpint(join_refused(&f, "open", "C", NULL, NULL), ==, TSR_CONFERENCE_REFUSAL_FULL);

    struct tsr_participant *h = join_ok(&f, "board", "H", "1234");
    g_assert_cmpint(tsr_conference_set_locked(h, true), ==, 0);
    g_assert_true(tsr_conference_locked(tsr_participant_conference(h)));
    g_assert_true(fx_saw(&f, "conference_updated"));
    g_assert_cmpint(join_refused(&f, "board", "G", "5678", NULL), ==,
                    TSR_CONFERENCE_REFUSAL_LOCKED);
    struct tsr_participant *h2 = join_ok(&f, "board", "H2", "1234"); /* hosts still get in */
    g_assert_cmpint(tsr_participant_role(h2), ==, TSR_ROLE_HOST);
    g_assert_cmpint(tsr_conference_set_locked(h, false), ==, 0);
    join_ok(&f, "board", "G", "5678");
    g_assert_cmpint(join_refused(&f, "board", "G2", "5678", NULL), ==, TSR_CONFERENCE_REFUSAL_FULL);

    /* a participant of another conference cannot act here */
    g_assert_cmpint(tsr_participant_kick(a, h), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_participant_set_muted(a, h, false, true), ==, TSR_ERR_AUTH);
    fx_teardown(&f);
}

static void test_kick_and_mute(void)
{
    struct fx f;
    fx_setup(&f, true, false, 60);
    load_defs(&f);
    struct tsr_conference_join_request req = {
        .alias = "board", .display_name = "H", .pin = "1234", .offer_sdp = "OFFER-H"};
    struct tsr_participant *h = NULL, *g = NULL;
    enum tsr_conference_refusal r;
    char *err = NULL, *answer = NULL;
    g_assert_cmpint(test_join(f.reg, &req, &h, &answer, &r, &err), ==, 0);
    g_assert_cmpstr(answer, ==, "answer-to:OFFER-H");
    g_free(answer);
    req.display_name = "G", req.pin = "5678", req.offer_sdp = "OFFER-G";
    g_assert_cmpint(test_join(f.reg, &req, &g, &answer, &r, &err), ==, 0);
    g_free(answer);
    g_assert_true(tsr_participant_has_media(g));
    g_assert_cmpint(f.media.attached, ==, 2);

    /* self mute allowed for a guest; the media layer hears about it */
    g_assert_cmpint(tsr_participant_set_muted(g, g, false, true), ==, 0);
    g_assert_true(tsr_participant_muted(g));
    g_assert_cmpint(f.media.mutes, ==, 1);
    g_assert_true(f.media.last_audio_muted);
    g_assert_false(f.media.last_video_muted);
    char *want = g_strdup_printf("participant_updated:%s", tsr_participant_id(g));
    g_assert_true(fx_saw(&f, want));
    g_free(want);
    g_assert_cmpint(tsr_participant_set_muted(g, g, false, true), ==, 0); /* no change */
    g_assert_cmpint(f.media.mutes, ==, 1);
    g_assert_cmpint(tsr_participant_set_muted(h, g, true, true), ==, 0);
    g_assert_true(tsr_participant_video_muted(g));
    g_assert_true(f.media.last_video_muted);

    /* candidates go to media; junk does not */
    g_assert_cmpint(test_add_candidate(g, "candidate:1 1 udp 1 1.2.3.4 5 typ host", "0", 0), ==, 0);
    g_assert_cmpint(test_add_candidate(g, "rm -rf", "0", 0), ==, TSR_ERR_INVALID);
    g_assert_cmpint(f.media.candidates, ==, 1);

    g_assert_cmpint(tsr_conference_set_layout(h, "grid"), ==, 0);
    g_assert_cmpstr(f.media.last_layout, ==, "grid");

    g_assert_cmpint(tsr_participant_kick(h, h), ==, TSR_ERR_AUTH);
    char *gid = g_strdup(tsr_participant_id(g));
    g_assert_cmpint(tsr_participant_kick(h, g), ==, 0);
    g_assert_cmpint(f.media.detached, ==, 1);
    char *left = g_strdup_printf("participant_left:%s:kicked", gid);
    g_assert_true(fx_saw(&f, left));
    g_assert_cmpuint(tsr_conference_n_participants(tsr_participant_conference(h)), ==, 1);
    g_free(left);
    g_free(gid);
    fx_teardown(&f);
    g_assert_cmpint(f.media.detached, ==, 2); /* the host left at shutdown */
    g_assert_cmpint(f.media.ended, ==, 1);
}

static void test_media_refusals(void)
{
    struct fx f;
    fx_setup(&f, true, true, 60);
    f.media.attach_rc = TSR_ERR_INVALID;
    g_assert_cmpint(join_refused(&f, "m", "A", NULL, "garbage"), ==,
                    TSR_CONFERENCE_REFUSAL_BAD_SDP);
    f.media.attach_rc = TSR_ERR_UNSUPPORTED;
    g_assert_cmpint(join_refused(&f, "m", "A", NULL, "v=0"), ==,
                    TSR_CONFERENCE_REFUSAL_NO_COMMON_CODEC);
    f.media.attach_rc = -ENOMEM;
    g_assert_cmpint(join_refused(&f, "m", "A", NULL, "v=0"), ==,
                    TSR_CONFERENCE_REFUSAL_MEDIA_FAILED);
    g_assert_cmpuint(tsr_conference_registry_n_conferences(f.reg), ==, 0);
    g_assert_cmpint(f.media.detached, ==, 0);
    g_assert_false(fx_saw(&f, "participant_joined"));
    g_assert_false(fx_saw(&f, "ended"));
    /* a roster-only participant has no media to trickle to */
    struct tsr_participant *p = join_ok(&f, "m", "A", NULL);
    g_assert_cmpint(test_add_candidate(p, "", NULL, 0), ==, TSR_ERR_STATE);
    fx_teardown(&f);
}

static void test_token_expiry(void)
{
    struct fx f;
    fx_setup(&f, false, true, 60);
    struct tsr_participant *a = join_ok(&f, "t", "A", NULL);
    struct tsr_participant *b = join_ok(&f, "t", "B", NULL);
    char *a_id = g_strdup(tsr_participant_id(a)), *a_tok = g_strdup(tsr_participant_token(a));
    struct tsr_participant *found = NULL;
    g_assert_cmpint(tsr_conference_registry_authenticate(f.reg, a_id, a_tok, &found), ==, 0);
    g_assert_true(found == a);
    g_assert_cmpint(tsr_conference_registry_authenticate(f.reg, a_id, "bad", &found), ==,
                    TSR_ERR_AUTH);
    g_assert_cmpint(tsr_conference_registry_authenticate(f.reg, a_id, NULL, &found), ==,
                    TSR_ERR_AUTH);
    g_assert_cmpint(tsr_conference_registry_authenticate_token(f.reg, a_tok, &found), ==, 0);
    g_assert_true(found == a);

    f.now_us += 100 * G_USEC_PER_SEC;
    /* b keeps refreshing: each refresh rotates the token; only the current one
     * refreshes, the one before stays valid until its own expiry */
    char *b_id = g_strdup(tsr_participant_id(b)), *b_old = g_strdup(tsr_participant_token(b));
    g_assert_cmpint(tsr_participant_refresh(b, "bad"), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_participant_refresh(b, b_old), ==, 120);
    g_assert_cmpstr(tsr_participant_token(b), !=, b_old);
    g_assert_cmpint(tsr_participant_refresh(b, b_old), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_conference_registry_authenticate(f.reg, b_id, b_old, &found), ==, 0);
    g_assert_cmpint(
        tsr_conference_registry_authenticate(f.reg, b_id, tsr_participant_token(b), &found), ==, 0);
    f.now_us += 30 * G_USEC_PER_SEC; /* a is 130 s old, and so is b's old token */
    g_assert_cmpint(tsr_conference_registry_authenticate(f.reg, b_id, b_old, &found), ==,
                    TSR_ERR_AUTH);
    g_assert_cmpint(
        tsr_conference_registry_authenticate(f.reg, b_id, tsr_participant_token(b), &found), ==, 0);
    g_free(b_id), g_free(b_old);
    g_assert_cmpint(tsr_conference_registry_authenticate(f.reg, a_id, a_tok, &found), ==,
                    TSR_ERR_AUTH);
    tsr_conference_registry_sweep(f.reg);
    char *want = g_strdup_printf("participant_left:%s:token_expired", a_id);
    g_assert_true(fx_saw(&f, want));
    g_assert_cmpint(tsr_conference_registry_authenticate(f.reg, a_id, a_tok, &found), ==,
                    TSR_ERR_NOT_FOUND);
    g_assert_cmpint(tsr_participant_expires_in_s(b), ==, 90);
    g_assert_cmpuint(tsr_conference_registry_n_participants(f.reg), ==, 1);
    g_free(want);
    g_free(a_id);
    g_free(a_tok);
    fx_teardown(&f);
}

static void test_empty_timeout(void)
{
    struct fx f;
    fx_setup(&f, true, true, 60);
    struct tsr_participant *a = join_ok(&f, "e", "A", NULL);
    struct tsr_conference *c = tsr_participant_conference(a);
    g_assert_cmpint(tsr_conference_set_locked(a, true), ==, 0);
    f.now_us += 5 * G_USEC_PER_SEC;
    tsr_participant_leave(a, TSR_LEAVE_REQUESTED);
    g_assert_true(tsr_conference_registry_find(f.reg, "e") == c);
    f.now_us += 59 * G_USEC_PER_SEC;
    tsr_conference_registry_sweep(f.reg);
    g_assert_nonnull(tsr_conference_registry_find(f.reg, "e"));
    g_assert_false(fx_saw(&f, "ended"));
    f.now_us += 1 * G_USEC_PER_SEC;
    tsr_conference_registry_sweep(f.reg);
    g_assert_null(tsr_conference_registry_find(f.reg, "e"));
    g_assert_true(fx_saw(&f, "ended"));
    g_assert_cmpint(f.media.ended, ==, 1);
    /* it comes back fresh: unlocked */
    a = join_ok(&f, "e", "A", NULL);
    g_assert_false(tsr_conference_locked(tsr_participant_conference(a)));
    fx_teardown(&f);

    fx_setup(&f, false, true, 0); /* timeout 0: removed with the last participant */
    tsr_participant_leave(join_ok(&f, "z", "A", NULL), TSR_LEAVE_REQUESTED);
    g_assert_null(tsr_conference_registry_find(f.reg, "z"));
    g_assert_true(fx_saw(&f, "ended"));
    fx_teardown(&f);
}

struct unsub_ctx {
    struct tsr_conference_registry *reg;
    uint64_t id;
    int calls;
};

static void unsub_on_event(const struct tsr_conference_event *ev, void *user)
{
    struct unsub_ctx *u = user;
    (void)ev;
    u->calls++;
    tsr_conference_registry_unsubscribe(u->reg, u->id);
}

static void test_posts_and_subscriptions(void)
{
    struct fx f;
    fx_setup(&f, false, true, 60);
    struct unsub_ctx u = {.reg = f.reg};
    g_assert_cmpint(tsr_conference_registry_subscribe(f.reg, "p", unsub_on_event, &u, &u.id), ==,
                    0);
    struct tsr_participant *a = join_ok(&f, "p", "A", NULL);
    join_ok(&f, "other", "X", NULL); /* other topic: not delivered to u */
    struct tsr_participant *b = join_ok(&f, "p", "B", NULL);
    g_assert_cmpint(u.calls, ==, 1); /* unsubscribed itself during the first event */

    const char *ids[] = {tsr_participant_id(b), tsr_participant_id(a)};
    tsr_conference_post_talkers(f.reg, "p", ids, 2);
    g_assert_false(fx_saw(&f, "talkers")); /* delivered on the loop, not inline */
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_assert_true(fx_saw(&f, "talkers"));
    json_t *j = tsr_conference_to_json(tsr_participant_conference(a), true);
    json_t *t = json_object_get(j, "talkers");
    g_assert_cmpuint(json_array_size(t), ==, 2);
    g_assert_cmpstr(json_string_value(json_array_get(t, 0)), ==, tsr_participant_id(b));
    json_decref(j);

    char *b_id = g_strdup(tsr_participant_id(b));
    tsr_conference_post_media_failed(f.reg, b_id);
    tsr_conference_post_media_failed(f.reg, "no-such-id");
    while (g_main_context_iteration(NULL, FALSE))
        ;
    char *want = g_strdup_printf("participant_left:%s:media_failed", b_id);
    g_assert_true(fx_saw(&f, want));
    g_free(want);

    /* a post still queued when the registry goes away is dropped safely */
    tsr_conference_post_media_failed(f.reg, tsr_participant_id(a));
    fx_teardown(&f);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_free(b_id);
}

/* Roster-only join, media attached later (the Pexip flow), renegotiated, detached. */
static void test_late_media(void)
{
    struct fx f;
    fx_setup(&f, true, true, 0);
    struct tsr_participant *p = join_ok(&f, "late", "Lu", NULL);
    g_assert_false(tsr_participant_has_media(p));
    char *answer = NULL, *err = NULL;
    enum tsr_conference_refusal why = TSR_CONFERENCE_REFUSAL_NONE;
    g_assert_cmpint(test_renegotiate(p, "o1", &answer, &err), ==, TSR_ERR_STATE);
    g_free(err);
    err = NULL;
    f.media.attach_rc = TSR_ERR_UNSUPPORTED;
    g_assert_cmpint(test_attach_media(p, "o1", &answer, &why, &err), ==, TSR_ERR_UNSUPPORTED);
    g_assert_cmpint(why, ==, TSR_CONFERENCE_REFUSAL_NO_COMMON_CODEC);
    g_assert_null(answer);
    g_assert_false(tsr_participant_has_media(p));
    g_free(err);
    err = NULL;
    f.media.attach_rc = 0;
    g_ptr_array_set_size(f.events, 0);
    g_assert_cmpint(test_attach_media(p, "o1", &answer, &why, &err), ==, 0);
    g_assert_cmpstr(answer, ==, "answer-to:o1");
    g_assert_true(tsr_participant_has_media(p));
    g_assert_true(fx_saw(&f, "participant_updated:"));
    g_free(answer);
    g_assert_cmpint(test_attach_media(p, "o2", &answer, &why, &err), ==, TSR_ERR_STATE);
    g_free(err);
    err = NULL;
    g_assert_cmpint(test_renegotiate(p, "o2", &answer, &err), ==, 0);
    g_assert_cmpstr(answer, ==, "reanswer-to:o2");
    g_free(answer);
    g_assert_cmpint(test_renegotiate(p, "bad", &answer, &err), ==, TSR_ERR_INVALID);
    g_assert_nonnull(strstr(err, "bad offer"));
    g_free(err);
    g_assert_cmpint(f.media.renegotiated, ==, 1);
    tsr_participant_detach_media(p);
    g_assert_false(tsr_participant_has_media(p));
    g_assert_cmpint(f.media.detached, ==, 1);
    tsr_participant_leave(p, TSR_LEAVE_REQUESTED);
    g_assert_cmpint(f.media.detached, ==, 1); /* not twice */
    fx_teardown(&f);
}

static void test_hand_chat_end(void)
{
    struct fx f;
    fx_setup(&f, false, true, 0);
    struct tsr_participant *host = join_ok(&f, "room", "Ho", NULL);
    struct tsr_participant *other = join_ok(&f, "room", "Ot", NULL);
    struct tsr_participant *away = join_ok(&f, "elsewhere", "Aw", NULL);
    /* conferences without PINs make everyone a host; the role rules are checked below */
    g_assert_cmpint(tsr_participant_set_hand_raised(host, away, false), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_participant_set_hand_raised(host, other, true), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_participant_set_hand_raised(other, other, true), ==, 0);
    g_assert_cmpint(tsr_participant_hand_raised_at_s(other), >, 0);
    json_t *j = tsr_participant_to_json(other);
    g_assert_cmpint(json_integer_value(json_object_get(j, "hand_raised_at")), >, 0);
    json_decref(j);
    g_assert_cmpint(tsr_participant_set_hand_raised(host, other, false), ==, 0); /* host lowers */
    g_assert_cmpint(tsr_participant_hand_raised_at_s(other), ==, 0);
    g_ptr_array_set_size(f.events, 0);
    g_assert_cmpint(tsr_participant_set_hand_raised(host, other, false), ==, 0);
    g_assert_cmpuint(f.events->len, ==, 0); /* no change, no event */

    g_assert_cmpint(tsr_conference_send_message(host, NULL, "text/plain", "hi all"), ==, 0);
    g_assert_cmpint(tsr_conference_send_message(host, other, "application/json", "{}"), ==, 0);
    g_assert_true(fx_saw(&f, "message:"));
    g_assert_cmpint(tsr_conference_send_message(host, away, "text/plain", "x"), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_conference_send_message(host, NULL, "plain", "x"), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_conference_send_message(host, NULL, "text/plain", "\xff\xfe"), ==,
                    TSR_ERR_INVALID);
    char *big = g_strnfill(TSR_CONFERENCE_MESSAGE_MAX + 1, 'a');
    g_assert_cmpint(tsr_conference_send_message(host, NULL, "text/plain", big), ==,
                    TSR_ERR_INVALID);
    g_free(big);
    g_assert_cmpuint(f.events->len, ==, 2);

    g_assert_cmpint(tsr_conference_end_for_all(host), ==, 0);
    g_assert_cmpuint(tsr_conference_registry_n_participants(f.reg), ==, 1); /* "elsewhere" stays */
    g_assert_true(fx_saw(&f, "participant_left:"));
    g_assert_null(tsr_conference_registry_find(f.reg, "room"));
    bool all_ended = true;
    for (guint i = 0; i < f.events->len; i++)
        if (g_str_has_prefix(f.events->pdata[i], "participant_left:"))
            all_ended &= g_str_has_suffix(f.events->pdata[i], ":conference_ended");
    g_assert_true(all_ended);
    tsr_participant_leave(away, TSR_LEAVE_REQUESTED);
    fx_teardown(&f);
}

/* Guests may not end the conference; Pexip layout names are stored canonically. */
static void test_guest_limits_and_layout_names(void)
{
    struct fx f;
    fx_setup(&f, true, false, 0);
    const char *defs = "{\"conferences\":[{\"alias\":\"b\",\"host_pin\":\"1\",\"guest_pin\":\"2\","
                       "\"layout\":\"1:0\"}]}";
    char *err = NULL;
    g_assert_cmpint(tsr_conference_registry_load_json(f.reg, defs, strlen(defs), "t", &err), ==, 0);
    struct tsr_participant *h = join_ok(&f, "b", "Host", "1");
    struct tsr_participant *g = join_ok(&f, "b", "Guest", "2");
    struct tsr_conference *c = tsr_participant_conference(h);
    g_assert_cmpstr(tsr_conference_layout(c), ==, "single");
    g_assert_cmpint(tsr_conference_end_for_all(g), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_participant_set_hand_raised(g, h, false), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_conference_set_layout(h, "1:7"), ==, 0);
    g_assert_cmpstr(tsr_conference_layout(c), ==, "speaker");
    g_assert_cmpstr(f.media.last_layout, ==, "speaker");
    int layouts = f.media.layouts;
    g_assert_cmpint(tsr_conference_set_layout(h, "speaker"), ==, 0); /* same layout: no-op */
    g_assert_cmpint(f.media.layouts, ==, layouts);
    g_assert_cmpint(tsr_conference_set_layout(h, "4:0"), ==, 0);
    g_assert_cmpstr(tsr_conference_layout(c), ==, "four");
    g_assert_cmpint(tsr_conference_set_layout(h, "9:99"), ==, TSR_ERR_INVALID);
    g_assert_true(tsr_conference_layout_valid("ac"));
    g_assert_true(tsr_conference_layout_valid("2:21"));
    g_assert_false(tsr_conference_layout_valid("mosaic"));
    tsr_participant_leave(g, TSR_LEAVE_REQUESTED);
    tsr_participant_leave(h, TSR_LEAVE_REQUESTED);
    fx_teardown(&f);
}

/* The admission decision alone: a cap counts participants with media, the
 * measured load refuses only above its limit, 0 switches either off. */
static void test_capacity_decide(void)
{
    g_assert_cmpint(tsr_conference_capacity_decide(1000, 0, 50.0, 0), ==,
                    TSR_CONFERENCE_CAPACITY_ADMIT);
    g_assert_cmpint(tsr_conference_capacity_decide(1, 2, 0, 0), ==, TSR_CONFERENCE_CAPACITY_ADMIT);
    g_assert_cmpint(tsr_conference_capacity_decide(2, 2, 0, 0), ==, TSR_CONFERENCE_CAPACITY_CAP);
    g_assert_cmpint(tsr_conference_capacity_decide(3, 2, 0, 0), ==, TSR_CONFERENCE_CAPACITY_CAP);
    g_assert_cmpint(tsr_conference_capacity_decide(0, 0, 0.5, 0.8), ==,
                    TSR_CONFERENCE_CAPACITY_ADMIT);
    g_assert_cmpint(tsr_conference_capacity_decide(0, 0, 0.8, 0.8), ==,
                    TSR_CONFERENCE_CAPACITY_ADMIT);
    g_assert_cmpint(tsr_conference_capacity_decide(0, 0, 0.81, 0.8), ==,
                    TSR_CONFERENCE_CAPACITY_LOAD);
    g_assert_cmpint(tsr_conference_capacity_decide(0, 0, 3.0, 0.8), ==,
                    TSR_CONFERENCE_CAPACITY_LOAD);
    g_assert_cmpint(tsr_conference_capacity_decide(0, 0, NAN, 0.8), ==,
                    TSR_CONFERENCE_CAPACITY_ADMIT);
    g_assert_cmpint(tsr_conference_capacity_decide(5, 5, 0.9, 0.8), ==,
                    TSR_CONFERENCE_CAPACITY_CAP);
    g_assert_cmpint(tsr_conference_capacity_decide(4, 5, 0.9, 0.8), ==,
                    TSR_CONFERENCE_CAPACITY_LOAD);
}

static struct tsr_participant *join_media(struct fx *f, const char *alias, const char *name)
{
    struct tsr_conference_join_request req = {
        .alias = alias, .display_name = name, .offer_sdp = "offer"};
    struct tsr_participant *p = NULL;
    enum tsr_conference_refusal r = TSR_CONFERENCE_REFUSAL_NONE;
    char *err = NULL, *answer = NULL;
    if (test_join(f->reg, &req, &p, &answer, &r, &err) != 0)
        g_error("join %s refused: %s (%s)", name, tsr_conference_refusal_code(r), err);
    g_free(answer);
    g_assert_true(tsr_participant_has_media(p));
    return p;
}

static uint64_t capacity_refusals(void)
{
    return tsr_counter_value(tsr_metrics_counter(
        "tessera_join_refusals_total", "reason=\"capacity\"", "Joins refused, by reason."));
}

/* attach_media on a roster-only participant: expect `rc` (and CAPACITY when refused). */
static void attach_expect(struct tsr_participant *p, int rc)
{
    char *answer = NULL, *err = NULL;
    enum tsr_conference_refusal why = TSR_CONFERENCE_REFUSAL_NONE;
    g_assert_cmpint(test_attach_media(p, "offer", &answer, &why, &err), ==, rc);
    if (rc) {
        g_assert_cmpint(why, ==, TSR_CONFERENCE_REFUSAL_CAPACITY);
        g_assert_null(answer);
        g_assert_nonnull(strstr(err, "capacity"));
    }
    g_free(answer);
    g_free(err);
}

/* [mixer] max_participants = 2, across conferences: the third join with media is
 * refused however it comes (offer, announced media, late attach), roster-only
 * joins still get in, the two inside keep their media, and a leave frees a place. */
static void test_capacity_cap(void)
{
    struct fx f;
    fx_setup_capacity(&f, 2, 0);
    g_assert_cmpstr(tsr_conference_refusal_code(TSR_CONFERENCE_REFUSAL_CAPACITY), ==, "capacity");
    struct tsr_participant *a = join_media(&f, "one", "A");
    struct tsr_participant *b = join_media(&f, "two", "B");
    struct tsr_participant *roster = join_ok(&f, "one", "Panel", NULL);
    g_assert_cmpuint(tsr_conference_registry_n_with_media(f.reg), ==, 2);
    g_assert_cmpint(join_refused(&f, "one", "C", NULL, "offer"), ==,
                    TSR_CONFERENCE_REFUSAL_CAPACITY);
    g_assert_cmpint(join_refused(&f, "three", "C", NULL, "offer"), ==,
                    TSR_CONFERENCE_REFUSAL_CAPACITY);
    struct tsr_conference_join_request announced = {
        .alias = "one", .display_name = "Pex", .media_expected = true};
    struct tsr_participant *p = NULL;
    enum tsr_conference_refusal why = TSR_CONFERENCE_REFUSAL_NONE;
    char *err = NULL;
    g_assert_cmpint(tsr_conference_join_roster(f.reg, &announced, &p, &why, &err), ==,
                    TSR_ERR_FULL);
    g_assert_cmpint(why, ==, TSR_CONFERENCE_REFUSAL_CAPACITY);
    g_free(err);
    attach_expect(roster, TSR_ERR_FULL);
    g_assert_false(tsr_participant_has_media(roster));
    g_assert_cmpuint(capacity_refusals(), ==, 4);
    /* nothing was created for the refused, nobody inside lost anything */
    g_assert_null(tsr_conference_registry_find(f.reg, "three"));
    g_assert_cmpuint(tsr_conference_registry_n_participants(f.reg), ==, 3);
    g_assert_true(tsr_participant_has_media(a) && tsr_participant_has_media(b));
    g_assert_cmpint(f.media.attached, ==, 2);
    g_assert_cmpint(f.media.detached, ==, 0);
    /* one leaves: the next join with media gets in */
    tsr_participant_leave(b, TSR_LEAVE_REQUESTED);
    attach_expect(roster, 0);
    g_assert_true(tsr_participant_has_media(roster));
    g_assert_cmpint(join_refused(&f, "one", "D", NULL, "offer"), ==,
                    TSR_CONFERENCE_REFUSAL_CAPACITY);
    tsr_participant_detach_media(roster);
    join_media(&f, "one", "D");
    g_assert_cmpuint(tsr_conference_registry_n_with_media(f.reg), ==, 2);
    fx_teardown(&f);
}

/* The measured limit: the media layer's load above max_load refuses joins with
 * media (not roster-only ones); back under it, they are admitted again. */
static void test_capacity_load(void)
{
    struct fx f;
    fx_setup_capacity(&f, 0, 0.8);
    f.media.load = 0.5;
    struct tsr_participant *a = join_media(&f, "room", "A");
    f.media.load = 0.9;
    g_assert_cmpint(join_refused(&f, "room", "B", NULL, "offer"), ==,
                    TSR_CONFERENCE_REFUSAL_CAPACITY);
    struct tsr_participant *roster = join_ok(&f, "room", "Panel", NULL);
    attach_expect(roster, TSR_ERR_FULL);
    g_assert_true(tsr_participant_has_media(a));
    g_assert_cmpuint(capacity_refusals(), ==, 2);
    f.media.load = 0.8; /* at the limit is not above it */
    attach_expect(roster, 0);
    join_media(&f, "room", "B");
    fx_teardown(&f);
    /* no cap and no load limit configured: never refused on capacity */
    fx_setup_capacity(&f, 0, 0);
    f.media.load = 5.0;
    join_media(&f, "room", "A");
    join_media(&f, "room", "B");
    fx_teardown(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tsr_log_set_level(TSR_LOG_WARN);
    g_test_add_func("/conference/adhoc_join_and_leave", test_adhoc_join_and_leave);
    g_test_add_func("/conference/adhoc_off", test_adhoc_off);
    g_test_add_func("/conference/pin_flow_and_roles", test_pin_flow_and_roles);
    g_test_add_func("/conference/pin_throttle", test_pin_throttle);
    g_test_add_func("/conference/bad_definitions", test_bad_definitions);
    g_test_add_func("/conference/limit_and_lock", test_limit_and_lock);
    g_test_add_func("/conference/kick_and_mute", test_kick_and_mute);
    g_test_add_func("/conference/media_refusals", test_media_refusals);
    g_test_add_func("/conference/token_expiry", test_token_expiry);
    g_test_add_func("/conference/empty_timeout", test_empty_timeout);
    g_test_add_func("/conference/posts_and_subscriptions", test_posts_and_subscriptions);
    g_test_add_func("/conference/late_media", test_late_media);
    g_test_add_func("/conference/hand_chat_end", test_hand_chat_end);
    g_test_add_func("/conference/guest_limits_and_layout_names",
                    test_guest_limits_and_layout_names);
    g_test_add_func("/conference/capacity_decide", test_capacity_decide);
    g_test_add_func("/conference/capacity_cap", test_capacity_cap);
    g_test_add_func("/conference/capacity_load", test_capacity_load);
    return g_test_run();
}
