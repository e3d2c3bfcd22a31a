/* Conference core: host control of the picture — spotlight (pins, in pin order,
 * host only, kept across layout changes, dropped on leave) and self-view.
 *
 * spot_media below is a TEST DOUBLE for the media layer: it keeps the last
 * spotlight list and self-view setting the conference handed it. It exists only in
 * this test; the server wires the real media layer (src/app/media_engine.c). */
#include <tessera/conference.h>
#include <tessera/err.h>
#include <tessera/metrics.h>

#include <glib.h>
#include <string.h>

struct spot_media {
    char ids[8][40]; /* the last list, participant ids, earliest pin first */
    size_t n;
    int spotlight_calls, self_view_calls;
    bool self_view;
};

static void spot_attach(void *user, struct tsr_participant *p, const char *offer,
                        struct tsr_conference_call *call)
{
    (void)user, (void)p, (void)offer;
    tsr_conference_call_done(call, TSR_ERR_UNSUPPORTED, NULL, NULL);
}

static void spot_detach(void *user, struct tsr_participant *p)
{
    (void)user, (void)p;
}

static void spot_set_spotlight(void *user, struct tsr_conference *c,
                               struct tsr_participant *const *list, size_t n)
{
    struct spot_media *m = user;
    (void)c;
    m->spotlight_calls++;
    m->n = MIN(n, G_N_ELEMENTS(m->ids));
    for (size_t i = 0; i < m->n; i++)
        g_strlcpy(m->ids[i], tsr_participant_id(list[i]), sizeof m->ids[i]);
}

static void spot_set_self_view(void *user, struct tsr_conference *c, bool on)
{
    struct spot_media *m = user;
    (void)c;
    m->self_view_calls++;
    m->self_view = on;
}

static const struct tsr_conference_media_ops spot_ops = {
    .attach = spot_attach,
    .detach = spot_detach,
    .set_spotlight = spot_set_spotlight,
    .set_self_view = spot_set_self_view,
};

struct fx {
    struct tsr_conference_registry *reg;
    struct spot_media media;
    GPtrArray *events; /* "type:participant_id" */
    json_t *last_data; /* data of the last event */
    uint64_t sub;
};

static void on_event(const struct tsr_conference_event *ev, void *user)
{
    struct fx *f = user;
    g_ptr_array_add(f->events, g_strdup_printf("%s:%s", tsr_conference_event_name(ev->type),
                                               ev->participant_id ? ev->participant_id : "-"));
    json_decref(f->last_data);
    f->last_data = json_deep_copy(ev->data);
}

static void fx_setup(struct fx *f)
{
    memset(f, 0, sizeof *f);
    f->events = g_ptr_array_new_with_free_func(g_free);
    struct tsr_conference_registry_opts o = {
        .allow_adhoc = true,
        .token_ttl_s = 120,
        .default_max_participants = 25,
        .media = &spot_ops,
        .media_user = &f->media,
    };
    g_assert_cmpint(tsr_conference_registry_new(&f->reg, &o), ==, 0);
    static const char defs[] = "{\"conferences\":[{\"alias\":\"pins\",\"host_pin\":\"1234\","
                               "\"guest_pin\":\"5678\",\"layout\":\"speaker\"}]}";
    char *err = NULL;
    g_assert_cmpint(tsr_conference_registry_load_json(f->reg, defs, strlen(defs), "t", &err), ==,
                    0);
    g_assert_cmpint(tsr_conference_registry_subscribe(f->reg, NULL, on_event, f, &f->sub), ==, 0);
}

static void fx_teardown(struct fx *f)
{
    tsr_conference_registry_free(&f->reg);
    g_ptr_array_free(f->events, TRUE);
    json_decref(f->last_data);
    tsr_metrics_reset();
}

static struct tsr_participant *join(struct fx *f, const char *alias, const char *name,
                                    const char *pin)
{
    struct tsr_conference_join_request req = {.alias = alias, .display_name = name, .pin = pin};
    struct tsr_participant *p = NULL;
    enum tsr_conference_refusal r;
    char *err = NULL;
    g_assert_cmpint(tsr_conference_join_roster(f->reg, &req, &p, &r, &err), ==, 0);
    return p;
}

static int64_t json_spotlight(const struct tsr_participant *p)
{
    json_t *o = tsr_participant_to_json(p);
    int64_t v = json_integer_value(json_object_get(o, "spotlight"));
    g_assert_true(json_is_integer(json_object_get(o, "spotlight")));
    json_decref(o);
    return v;
}

static void test_spotlight_order_and_rights(void)
{
    struct fx f;
    fx_setup(&f);
    struct tsr_participant *host = join(&f, "pins", "Host", "1234");
    struct tsr_participant *a = join(&f, "pins", "Ann", "5678");
    struct tsr_participant *b = join(&f, "pins", "Bob", "5678");
    struct tsr_conference *c = tsr_participant_conference(host);
    struct tsr_participant *list[4];
    g_assert_cmpuint(tsr_conference_spotlight(c, list, 4), ==, 0);
    g_assert_cmpint(json_spotlight(a), ==, 0);

    /* Guests may not pin anyone, themselves included. */
    g_assert_cmpint(tsr_participant_set_spotlight(a, b, true), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_participant_set_spotlight(a, a, true), ==, TSR_ERR_AUTH);
    g_assert_cmpint(f.media.spotlight_calls, ==, 0);

    /* Bob first, then Ann: the list (and media's) keeps pin order, not join order. */
    guint before = f.events->len;
    g_assert_cmpint(tsr_participant_set_spotlight(host, b, true), ==, 0);
    g_assert_cmpint(tsr_participant_set_spotlight(host, a, true), ==, 0);
    g_assert_cmpuint(f.events->len, ==, before + 2);
    char *want = g_strdup_printf("participant_updated:%s", tsr_participant_id(a));
    g_assert_cmpstr(f.events->pdata[f.events->len - 1], ==, want);
    g_free(want);
    g_assert_cmpint(json_integer_value(json_object_get(f.last_data, "spotlight")), >, 0);
    g_assert_cmpstr(json_string_value(json_object_get(f.last_data, "by")), ==,
                    tsr_participant_id(host));
    g_assert_cmpuint(tsr_conference_spotlight(c, list, 4), ==, 2);
    g_assert_true(list[0] == b && list[1] == a);
    g_assert_cmpuint(f.media.n, ==, 2);
    g_assert_cmpstr(f.media.ids[0], ==, tsr_participant_id(b));
    g_assert_cmpstr(f.media.ids[1], ==, tsr_participant_id(a));
    g_assert_cmpint(json_spotlight(b), >=, 1);
    g_assert_cmpint(tsr_participant_spotlight_s(b), ==, json_spotlight(b));

    /* Pinning again changes nothing and says nothing. */
    before = f.events->len;
    int calls = f.media.spotlight_calls;
    g_assert_cmpint(tsr_participant_set_spotlight(host, b, true), ==, 0);
    g_assert_cmpuint(f.events->len, ==, before);
    g_assert_cmpint(f.media.spotlight_calls, ==, calls);

    /* A guest may not unpin either; a host unpins Bob and Ann moves up. */
    g_assert_cmpint(tsr_participant_set_spotlight(b, b, false), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_participant_set_spotlight(host, b, false), ==, 0);
    g_assert_cmpint(json_spotlight(b), ==, 0);
    g_assert_cmpuint(tsr_conference_spotlight(c, list, 4), ==, 1);
    g_assert_true(list[0] == a);
    g_assert_cmpuint(f.media.n, ==, 1);
    g_assert_cmpstr(f.media.ids[0], ==, tsr_participant_id(a));

    /* Re-pinned, Bob comes after Ann: the newer pin. */
    g_assert_cmpint(tsr_participant_set_spotlight(host, b, true), ==, 0);
    g_assert_cmpuint(tsr_conference_spotlight(c, list, 1), ==, 2); /* count beyond cap */
    g_assert_true(list[0] == a);

    /* A host of another conference cannot reach in. */
    struct tsr_participant *other = join(&f, "elsewhere", "Olga", NULL);
    g_assert_cmpint(tsr_participant_role(other), ==, TSR_ROLE_HOST);
    g_assert_cmpint(tsr_participant_set_spotlight(other, a, false), ==, TSR_ERR_AUTH);
    g_assert_cmpint(json_spotlight(a), >, 0);
    fx_teardown(&f);
}

static void test_spotlight_survives_layout_and_goes_on_leave(void)
{
    struct fx f;
    fx_setup(&f);
    struct tsr_participant *host = join(&f, "pins", "Host", "1234");
    struct tsr_participant *a = join(&f, "pins", "Ann", "5678");
    struct tsr_participant *b = join(&f, "pins", "Bob", "5678");
    struct tsr_conference *c = tsr_participant_conference(host);
    g_assert_cmpint(tsr_participant_set_spotlight(host, a, true), ==, 0);
    g_assert_cmpint(tsr_participant_set_spotlight(host, b, true), ==, 0);
    int calls = f.media.spotlight_calls;

    /* Layout changes leave the pins alone. */
    g_assert_cmpint(tsr_conference_set_layout(host, "2:21"), ==, 0);
    g_assert_cmpint(tsr_conference_set_layout(host, "grid"), ==, 0);
    struct tsr_participant *list[4];
    g_assert_cmpuint(tsr_conference_spotlight(c, list, 4), ==, 2);
    g_assert_true(list[0] == a && list[1] == b);
    g_assert_cmpint(f.media.spotlight_calls, ==, calls);

    /* Ann leaves: her pin goes and media hears the shorter list. */
    char ann[40];
    g_strlcpy(ann, tsr_participant_id(a), sizeof ann);
    tsr_participant_leave(a, TSR_LEAVE_REQUESTED);
    g_assert_cmpuint(tsr_conference_spotlight(c, list, 4), ==, 1);
    g_assert_true(list[0] == b);
    g_assert_cmpint(f.media.spotlight_calls, ==, calls + 1);
    g_assert_cmpuint(f.media.n, ==, 1);
    g_assert_cmpstr(f.media.ids[0], ==, tsr_participant_id(b));
    g_assert_cmpstr(f.media.ids[0], !=, ann);

    /* An unpinned participant leaving tells media nothing. */
    struct tsr_participant *d = join(&f, "pins", "Dan", "5678");
    tsr_participant_leave(d, TSR_LEAVE_REQUESTED);
    g_assert_cmpint(f.media.spotlight_calls, ==, calls + 1);

    /* The conference state lists the pin in the roster. */
    json_t *state = tsr_conference_to_json(c, true);
    json_t *roster = json_object_get(state, "participants");
    int pinned = 0;
    for (size_t i = 0; i < json_array_size(roster); i++)
        pinned += json_integer_value(json_object_get(json_array_get(roster, i), "spotlight")) > 0;
    g_assert_cmpint(pinned, ==, 1);
    json_decref(state);
    fx_teardown(&f);
}

static void test_self_view(void)
{
    struct fx f;
    fx_setup(&f);
    struct tsr_participant *host = join(&f, "pins", "Host", "1234");
    struct tsr_participant *guest = join(&f, "pins", "Gus", "5678");
    struct tsr_conference *c = tsr_participant_conference(host);
    json_t *state = tsr_conference_to_json(c, false);
    g_assert_true(json_is_false(json_object_get(state, "self_view")));
    json_decref(state);
    g_assert_false(tsr_conference_self_view(c));

    g_assert_cmpint(tsr_conference_set_self_view(guest, true), ==, TSR_ERR_AUTH);
    g_assert_false(tsr_conference_self_view(c));
    g_assert_cmpint(f.media.self_view_calls, ==, 0);

    guint before = f.events->len;
    g_assert_cmpint(tsr_conference_set_self_view(host, true), ==, 0);
    g_assert_true(tsr_conference_self_view(c));
    g_assert_cmpint(f.media.self_view_calls, ==, 1);
    g_assert_true(f.media.self_view);
    g_assert_cmpuint(f.events->len, ==, before + 1);
    g_assert_cmpstr(f.events->pdata[before], ==, "conference_updated:-");
    g_assert_true(json_is_true(json_object_get(f.last_data, "self_view")));

    /* No change, no event; the layout does not touch it. */
    g_assert_cmpint(tsr_conference_set_self_view(host, true), ==, 0);
    g_assert_cmpint(tsr_conference_set_layout(host, "four"), ==, 0);
    g_assert_true(tsr_conference_self_view(c));
    g_assert_cmpint(f.media.self_view_calls, ==, 1);

    g_assert_cmpint(tsr_conference_set_self_view(host, false), ==, 0);
    g_assert_false(f.media.self_view);
    g_assert_cmpint(f.media.self_view_calls, ==, 2);
    fx_teardown(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conference_spotlight/order_and_rights", test_spotlight_order_and_rights);
    g_test_add_func("/conference_spotlight/survives_layout_goes_on_leave",
                    test_spotlight_survives_layout_and_goes_on_leave);
    g_test_add_func("/conference_spotlight/self_view", test_self_view);
    return g_test_run();
}
