/* Dial-out as the conference core sees it (src/core/conference_dial.c and the
 * invited join in conference.c): who may dial, what reaches the dialler, the id the
 * callee then joins under with the role chosen (no PIN, past a lock), ids that are
 * taken, hang-up, and the dial events. `recording_dialler` is a TEST DOUBLE for the
 * SIP front's dialler: it keeps the last request and places no call. */
#include <tessera/conference.h>
#include <tessera/err.h>

#include <glib.h>
#include <string.h>

struct recording_dialler {
    int n_dials, n_hangups;
    char alias[65], uri[256], name[129], id[37], by[37], hung_up[37];
    bool name_given;
    enum tsr_role role;
    int next_rc; /* what the next dial returns */
};

static int record_dial(void *user, const struct tsr_conference_dial_request *req, char **err_text)
{
    struct recording_dialler *d = user;
    if (d->next_rc) {
        *err_text = g_strdup("refused by the dialler");
        return d->next_rc;
    }
    d->n_dials++;
    g_strlcpy(d->alias, req->alias, sizeof d->alias);
    g_strlcpy(d->uri, req->uri, sizeof d->uri);
    d->name_given = req->display_name != NULL;
    g_strlcpy(d->name, req->display_name ? req->display_name : "", sizeof d->name);
    g_strlcpy(d->id, req->participant_id, sizeof d->id);
    g_strlcpy(d->by, req->by, sizeof d->by);
    d->role = req->role;
    return 0;
}

static int record_hangup(void *user, const char *alias, const char *participant_id)
{
    struct recording_dialler *d = user;
    (void)alias;
    if (strcmp(participant_id, d->id) != 0)
        return TSR_ERR_NOT_FOUND;
    d->n_hangups++;
    g_strlcpy(d->hung_up, participant_id, sizeof d->hung_up);
    return 0;
}

static const struct tsr_conference_dialler dialler = {.dial = record_dial, .hangup = record_hangup};

struct fx {
    struct tsr_conference_registry *reg;
    struct recording_dialler d;
    GPtrArray *events; /* "state:status:reason" of dial events */
    uint64_t sub;
};

static void on_event(const struct tsr_conference_event *ev, void *user)
{
    struct fx *f = user;
    if (ev->type != TSR_CONFERENCE_EVENT_DIAL)
        return;
    const char *reason = json_string_value(json_object_get(ev->data, "reason"));
    g_ptr_array_add(f->events,
                    g_strdup_printf("%s:%s:%" JSON_INTEGER_FORMAT ":%s",
                                    json_string_value(json_object_get(ev->data, "participant_id")),
                                    json_string_value(json_object_get(ev->data, "state")),
                                    json_integer_value(json_object_get(ev->data, "status")),
                                    reason ? reason : "-"));
}

static void fx_setup(struct fx *f)
{
    memset(f, 0, sizeof *f);
    f->events = g_ptr_array_new_with_free_func(g_free);
    struct tsr_conference_registry_opts o = {.allow_adhoc = false,
                                             .empty_timeout_s = 60,
                                             .token_ttl_s = 120,
                                             .default_max_participants = 25};
    g_assert_cmpint(tsr_conference_registry_new(&f->reg, &o), ==, 0);
    const char *defs = "{\"conferences\":[{\"alias\":\"board\",\"host_pin\":\"1234\","
                       "\"guest_pin\":\"5678\",\"max_participants\":3}]}";
    char *err = NULL;
    g_assert_cmpint(tsr_conference_registry_load_json(f->reg, defs, strlen(defs), "t", &err), ==,
                    0);
    g_assert_cmpint(tsr_conference_registry_subscribe(f->reg, NULL, on_event, f, &f->sub), ==, 0);
}

static void fx_teardown(struct fx *f)
{
    tsr_conference_registry_free(&f->reg);
    g_ptr_array_free(f->events, TRUE);
}

static struct tsr_participant *join(struct fx *f, const char *name, const char *pin,
                                    const struct tsr_conference_invitation *inv,
                                    enum tsr_conference_refusal *why)
{
    struct tsr_conference_join_request jr = {
        .alias = "board", .display_name = name, .pin = pin, .invitation = inv};
    struct tsr_participant *p = NULL;
    char *err = NULL;
    *why = TSR_CONFERENCE_REFUSAL_NONE;
    if (tsr_conference_join_roster(f->reg, &jr, &p, why, &err) != 0)
        p = NULL;
    g_free(err);
    return p;
}

/* Who may dial, what the dialler gets, and what is refused before it. */
static void test_dial_rules(void)
{
    struct fx f;
    fx_setup(&f);
    enum tsr_conference_refusal why;
    struct tsr_participant *host = join(&f, "Host", "1234", NULL, &why);
    struct tsr_participant *guest = join(&f, "Guest", "5678", NULL, &why);
    g_assert_nonnull(host);
    g_assert_nonnull(guest);
    char id[37] = "";
    char *err = NULL;

    /* No dialler registered (SIP off). */
    g_assert_cmpint(tsr_conference_dial(host, "sip:room@h", NULL, TSR_ROLE_GUEST, id, &err), ==,
                    TSR_ERR_UNSUPPORTED);
    g_assert_nonnull(strstr(err, "[sip] enabled"));
    g_clear_pointer(&err, g_free);

    tsr_conference_registry_set_dialler(f.reg, &dialler, &f.d);
    g_assert_cmpint(tsr_conference_dial(guest, "sip:room@h", NULL, TSR_ROLE_GUEST, id, &err), ==,
                    TSR_ERR_AUTH);
    static const char *const bad[] = {"tel:+1555", "sip:", "http://x", "sip:a b@h", "sip:é@h"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_cmpint(tsr_conference_dial(host, bad[i], NULL, TSR_ROLE_GUEST, id, &err), ==,
                        TSR_ERR_INVALID);
        g_assert_nonnull(err);
        g_clear_pointer(&err, g_free);
    }
    g_assert_cmpint(tsr_conference_dial(host, "sip:room@h", " ", TSR_ROLE_GUEST, id, &err), ==,
                    TSR_ERR_INVALID);
    g_clear_pointer(&err, g_free);
    g_assert_cmpint(f.d.n_dials, ==, 0);

    f.d.next_rc = TSR_ERR_INVALID; /* the dialler's own checks come back as they are */
    g_assert_cmpint(tsr_conference_dial(host, "sip:@h", NULL, TSR_ROLE_GUEST, id, &err), ==,
                    TSR_ERR_INVALID);
    g_assert_cmpstr(err, ==, "refused by the dialler");
    g_clear_pointer(&err, g_free);
    f.d.next_rc = 0;

    g_assert_cmpint(
        tsr_conference_dial(host, "sip:room@10.0.0.7:5062", "Room 7", TSR_ROLE_HOST, id, &err), ==,
        0);
    g_assert_null(err);
    g_assert_cmpint(f.d.n_dials, ==, 1);
    g_assert_cmpstr(f.d.alias, ==, "board");
    g_assert_cmpstr(f.d.uri, ==, "sip:room@10.0.0.7:5062");
    g_assert_cmpstr(f.d.name, ==, "Room 7");
    g_assert_cmpstr(f.d.id, ==, id);
    g_assert_cmpuint(strlen(id), ==, 36);
    g_assert_cmpstr(f.d.by, ==, tsr_participant_id(host));
    g_assert_cmpint(f.d.role, ==, TSR_ROLE_HOST);

    g_assert_cmpint(tsr_conference_dial_hangup(guest, id), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_conference_dial_hangup(host, "nobody"), ==, TSR_ERR_NOT_FOUND);
    g_assert_cmpint(tsr_conference_dial_hangup(host, id), ==, 0);
    g_assert_cmpstr(f.d.hung_up, ==, id);
    tsr_conference_registry_set_dialler(f.reg, NULL, NULL);
    g_assert_cmpint(tsr_conference_dial_hangup(host, id), ==, TSR_ERR_UNSUPPORTED);
    fx_teardown(&f);
}

/* The callee joins under the dialled id, with the dialled role, without a PIN and
 * past a lock; a taken id is refused; the limit still holds. */
static void test_invited_join(void)
{
    struct fx f;
    fx_setup(&f);
    enum tsr_conference_refusal why;
    struct tsr_participant *host = join(&f, "Host", "1234", NULL, &why);
    g_assert_cmpint(tsr_conference_set_locked(host, true), ==, 0);
    g_assert_null(join(&f, "Walk-in", "5678", NULL, &why));
    g_assert_cmpint(why, ==, TSR_CONFERENCE_REFUSAL_LOCKED);

    const char *id = "5b0e6f3c-1111-4d2a-9e4e-000000000001";
    struct tsr_conference_invitation inv = {.participant_id = id, .role = TSR_ROLE_GUEST};
    struct tsr_participant *callee = join(&f, "Room 7", NULL, &inv, &why);
    g_assert_nonnull(callee);
    g_assert_cmpstr(tsr_participant_id(callee), ==, id);
    g_assert_cmpint(tsr_participant_role(callee), ==, TSR_ROLE_GUEST);
    g_assert_true(tsr_conference_registry_find_participant(f.reg, id) == callee);

    g_assert_null(join(&f, "Twin", NULL, &inv, &why)); /* the id is someone's already */
    g_assert_cmpint(why, ==, TSR_CONFERENCE_REFUSAL_BAD_REQUEST);

    struct tsr_conference_invitation host_inv = {
        .participant_id = "5b0e6f3c-1111-4d2a-9e4e-000000000002", .role = TSR_ROLE_HOST};
    struct tsr_participant *chair = join(&f, "Chair", NULL, &host_inv, &why);
    g_assert_nonnull(chair);
    g_assert_cmpint(tsr_participant_role(chair), ==, TSR_ROLE_HOST);

    struct tsr_conference_invitation more = {
        .participant_id = "5b0e6f3c-1111-4d2a-9e4e-000000000003", .role = TSR_ROLE_GUEST};
    g_assert_null(join(&f, "Fourth", NULL, &more, &why)); /* max_participants 3 */
    g_assert_cmpint(why, ==, TSR_CONFERENCE_REFUSAL_FULL);
    fx_teardown(&f);
}

/* The dialler's reports become dial events of a live conference, none otherwise. */
static void test_dial_events(void)
{
    struct fx f;
    fx_setup(&f);
    enum tsr_conference_refusal why;
    struct tsr_participant *host = join(&f, "Host", "1234", NULL, &why);
    const char *by = tsr_participant_id(host);
    tsr_conference_dial_state(f.reg, "board", "id-1", "sip:a@h", by, "calling", 0, NULL);
    tsr_conference_dial_state(f.reg, "board", "id-1", "sip:a@h", by, "failed", 486, "Busy Here");
    tsr_conference_dial_state(f.reg, "nowhere", "id-2", "sip:a@h", by, "failed", 404, NULL);
    g_assert_cmpuint(f.events->len, ==, 2);
    g_assert_cmpstr(g_ptr_array_index(f.events, 0), ==, "id-1:calling:0:-");
    g_assert_cmpstr(g_ptr_array_index(f.events, 1), ==, "id-1:failed:486:Busy Here");
    g_assert_cmpstr(tsr_conference_event_name(TSR_CONFERENCE_EVENT_DIAL), ==, "dial");
    fx_teardown(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conference_dial/rules", test_dial_rules);
    g_test_add_func("/conference_dial/invited_join", test_invited_join);
    g_test_add_func("/conference_dial/events", test_dial_events);
    return g_test_run();
}
