/* Recording and streaming as the conference core sees them
 * (src/core/conference_outputs.c): who may start and stop them, the file name, the
 * URL shown to others, the states media posts back, the events and the conference
 * state, auto-record. `fake_*` below is a TEST DOUBLE for the media engine: it
 * records which outputs were started and stopped and never touches a file. */
#include <tessera/conference.h>
#include <tessera/err.h>

#include <glib.h>
#include <string.h>

struct fake_media {
    uint32_t started[8], stopped[8];
    enum tsr_conference_output_kind kinds[8];
    char targets[8][256];
    int n_started, n_stopped;
};

/* Joins here are roster-only; an offer would get a fixed answer. */
static void fake_attach(void *user, struct tsr_participant *p, const char *offer,
                        struct tsr_conference_call *call)
{
    (void)user, (void)p, (void)offer;
    tsr_conference_call_done(call, 0, g_strdup("answer"), NULL);
}

static void fake_detach(void *user, struct tsr_participant *p)
{
    (void)user, (void)p;
}

static int fake_start_output(void *user, struct tsr_conference *c, uint32_t id,
                             enum tsr_conference_output_kind kind, const char *target, char **err)
{
    struct fake_media *m = user;
    (void)c, (void)err;
    g_assert_cmpint(m->n_started, <, 8);
    m->kinds[m->n_started] = kind;
    g_strlcpy(m->targets[m->n_started], target, sizeof m->targets[0]);
    m->started[m->n_started++] = id;
    return 0;
}

static void fake_stop_output(void *user, struct tsr_conference *c, uint32_t id)
{
    struct fake_media *m = user;
    (void)c;
    m->stopped[m->n_stopped++] = id;
}

static const struct tsr_conference_media_ops fake_ops = {
    .attach = fake_attach,
    .detach = fake_detach,
    .start_output = fake_start_output,
    .stop_output = fake_stop_output,
};

struct fx {
    struct tsr_conference_registry *reg;
    struct fake_media media;
    GPtrArray *events; /* "name:id:state:reason" */
    uint64_t sub;
};

static void on_event(const struct tsr_conference_event *ev, void *user)
{
    struct fx *f = user;
    if (ev->type != TSR_CONFERENCE_EVENT_RECORDING && ev->type != TSR_CONFERENCE_EVENT_STREAM)
        return;
    const char *reason = json_string_value(json_object_get(ev->data, "reason"));
    g_ptr_array_add(f->events,
                    g_strdup_printf("%s:%s:%s:%s", tsr_conference_event_name(ev->type),
                                    json_string_value(json_object_get(ev->data, "id")),
                                    json_string_value(json_object_get(ev->data, "state")),
                                    reason ? reason : "-"));
}

static void fx_setup(struct fx *f, const char *dir)
{
    memset(f, 0, sizeof *f);
    f->events = g_ptr_array_new_with_free_func(g_free);
    struct tsr_conference_registry_opts o = {.allow_adhoc = true, .empty_timeout_s = 60,
                                             .token_ttl_s = 120, .default_max_participants = 25,
                                             .recording_dir = dir, .media = &fake_ops,
                                             .media_user = &f->media};
    g_assert_cmpint(tsr_conference_registry_new(&f->reg, &o), ==, 0);
    g_assert_cmpint(tsr_conference_registry_subscribe(f->reg, NULL, on_event, f, &f->sub), ==, 0);
}

static void fx_teardown(struct fx *f)
{
    tsr_conference_registry_free(&f->reg);
    g_ptr_array_free(f->events, TRUE);
}

static struct tsr_participant *join(struct fx *f, const char *alias, const char *name,
                                    const char *pin)
{
    struct tsr_conference_join_request jr = {.alias = alias, .display_name = name, .pin = pin};
    struct tsr_participant *p = NULL;
    enum tsr_conference_refusal why;
    char *err = NULL;
    g_assert_cmpint(tsr_conference_join_roster(f->reg, &jr, &p, &why, &err), ==, 0);
    return p;
}

/* Runs the API loop's pending posts (the media states). */
static void drain(void)
{
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

static const char *last_event(struct fx *f)
{
    return f->events->len ? g_ptr_array_index(f->events, f->events->len - 1) : "";
}

static void test_recording_lifecycle(void)
{
    struct fx f;
    fx_setup(&f, "/rec");
    struct tsr_participant *host = join(&f, "board", "Host", NULL);
    struct tsr_conference *c = tsr_participant_conference(host);
    char *err = NULL;
    g_assert_cmpint(tsr_conference_start_recording(c, host, &err), ==, 0);
    g_assert_cmpint(f.media.n_started, ==, 1);
    g_assert_cmpint(f.media.kinds[0], ==, TSR_CONFERENCE_OUTPUT_RECORDING);
    g_assert_true(g_str_has_prefix(f.media.targets[0], "/rec/board-"));
    g_assert_true(g_str_has_suffix(f.media.targets[0], "Z.mkv"));
    g_assert_true(tsr_conference_recording(c));
    g_assert_cmpint(tsr_conference_start_recording(c, host, &err), ==, TSR_ERR_STATE);
    char *want = g_strdup_printf("recording:rec-%u:starting:-", f.media.started[0]);
    g_assert_cmpstr(last_event(&f), ==, want);
    g_free(want);

    tsr_conference_post_output_state(f.reg, "board", f.media.started[0],
                                     TSR_CONFERENCE_OUTPUT_ACTIVE, NULL);
    drain();
    json_t *state = tsr_conference_to_json(c, false);
    g_assert_cmpstr(json_string_value(json_object_get(json_object_get(state, "recording"), "state")),
                    ==, "active");
    json_decref(state);

    g_assert_cmpint(tsr_conference_stop_recording(host), ==, 0);
    g_assert_cmpint(f.media.n_stopped, ==, 1);
    g_assert_cmpuint(f.media.stopped[0], ==, f.media.started[0]);
    tsr_conference_post_output_state(f.reg, "board", f.media.started[0],
                                     TSR_CONFERENCE_OUTPUT_STOPPED, NULL);
    drain();
    g_assert_false(tsr_conference_recording(c));
    g_assert_cmpint(tsr_conference_stop_recording(host), ==, TSR_ERR_STATE);
    state = tsr_conference_to_json(c, false);
    g_assert_true(json_is_null(json_object_get(state, "recording")));
    json_decref(state);
    fx_teardown(&f);
}

static void test_fault_and_roles(void)
{
    struct fx f;
    fx_setup(&f, "/rec");
    struct conf_def_text {
        const char *json;
    } defs = {"{\"conferences\":[{\"alias\":\"pinned\",\"host_pin\":\"1234\",\"guest_pin\":\"55\"}]}"};
    char *err = NULL;
    g_assert_cmpint(tsr_conference_registry_load_json(f.reg, defs.json, strlen(defs.json), "t",
                                                      &err), ==, 0);
    struct tsr_participant *host = join(&f, "pinned", "Host", "1234");
    struct tsr_participant *guest = join(&f, "pinned", "Guest", "55");
    struct tsr_conference *c = tsr_participant_conference(host);
    g_assert_cmpint(tsr_conference_start_recording(c, guest, &err), ==, TSR_ERR_AUTH);
    g_assert_cmpint(tsr_conference_start_recording(c, host, &err), ==, 0);
    g_assert_cmpint(tsr_conference_stop_recording(guest), ==, TSR_ERR_AUTH);
    /* A fault: the event names it and the recording is gone; the conference stays. */
    tsr_conference_post_output_state(f.reg, "pinned", f.media.started[0],
                                     TSR_CONFERENCE_OUTPUT_FAILED, "disk full");
    drain();
    char *want = g_strdup_printf("recording:rec-%u:failed:disk full", f.media.started[0]);
    g_assert_cmpstr(last_event(&f), ==, want);
    g_free(want);
    g_assert_false(tsr_conference_recording(c));
    g_assert_cmpuint(tsr_conference_n_participants(c), ==, 2);
    /* A state for an output that is gone, or a conference that is gone, is ignored. */
    tsr_conference_post_output_state(f.reg, "pinned", 999, TSR_CONFERENCE_OUTPUT_ACTIVE, NULL);
    tsr_conference_post_output_state(f.reg, "nowhere", 1, TSR_CONFERENCE_OUTPUT_ACTIVE, NULL);
    guint n = f.events->len;
    drain();
    g_assert_cmpuint(f.events->len, ==, n);
    fx_teardown(&f);
}

static void test_streams(void)
{
    struct fx f;
    fx_setup(&f, "");
    struct tsr_participant *host = join(&f, "live", "Host", NULL);
    struct tsr_conference *c = tsr_participant_conference(host);
    const char *id = NULL;
    char *err = NULL;
    /* Recording is disabled without a directory. */
    g_assert_cmpint(tsr_conference_start_recording(c, host, &err), ==, TSR_ERR_UNSUPPORTED);
    static const char *const bad[] = {"http://x/live/k", "rtmp://", "rtmp:///live", "rtmp://h/a b",
                                      "", "file:///etc/passwd"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        g_assert_cmpint(tsr_conference_add_stream(host, bad[i], &id, &err), ==, TSR_ERR_INVALID);
    for (int i = 0; i < TSR_CONFERENCE_STREAMS_MAX; i++)
        g_assert_cmpint(tsr_conference_add_stream(host, "rtmps://live.example.com/app/SECRET", &id,
                                                  &err), ==, 0);
    g_assert_cmpint(tsr_conference_add_stream(host, "rtmp://h/app/k", &id, &err), ==, TSR_ERR_FULL);
    g_assert_cmpstr(f.media.targets[0], ==, "rtmps://live.example.com/app/SECRET");
    json_t *state = tsr_conference_to_json(c, false);
    json_t *streams = json_object_get(state, "streams");
    g_assert_cmpuint(json_array_size(streams), ==, TSR_CONFERENCE_STREAMS_MAX);
    g_assert_cmpstr(json_string_value(json_object_get(json_array_get(streams, 0), "url")), ==,
                    "rtmps://live.example.com/app/***"); /* the key is never shown */
    json_decref(state);
    g_assert_cmpint(tsr_conference_remove_stream(host, "stream-0"), ==, TSR_ERR_NOT_FOUND);
    g_assert_cmpint(tsr_conference_remove_stream(host, id), ==, 0);
    g_assert_cmpuint(f.media.stopped[0], ==, f.media.started[TSR_CONFERENCE_STREAMS_MAX - 1]);
    fx_teardown(&f);
}

static void test_redact_and_auto_record(void)
{
    char *r = tsr_conference_redact_url("rtmp://a.example:1935/live2/abc-def");
    g_assert_cmpstr(r, ==, "rtmp://a.example:1935/live2/***");
    g_free(r);
    r = tsr_conference_redact_url("rtmp://a.example/live");
    g_assert_cmpstr(r, ==, "rtmp://a.example/live");
    g_free(r);

    struct fx f;
    fx_setup(&f, "/rec");
    const char *defs = "{\"conferences\":[{\"alias\":\"town-hall\",\"auto_record\":true}]}";
    char *err = NULL;
    g_assert_cmpint(tsr_conference_registry_load_json(f.reg, defs, strlen(defs), "t", &err), ==, 0);
    struct tsr_participant *p = join(&f, "town-hall", "First", NULL);
    g_assert_cmpint(f.media.n_started, ==, 1);
    g_assert_true(tsr_conference_recording(tsr_participant_conference(p)));
    g_assert_true(g_str_has_prefix(f.media.targets[0], "/rec/town-hall-"));
    const char *bad = "{\"conferences\":[{\"alias\":\"x\",\"auto_record\":\"yes\"}]}";
    g_assert_cmpint(tsr_conference_registry_load_json(f.reg, bad, strlen(bad), "t", &err), ==,
                    TSR_ERR_CONFIG);
    g_free(err);
    fx_teardown(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conference_outputs/recording_lifecycle", test_recording_lifecycle);
    g_test_add_func("/conference_outputs/fault_and_roles", test_fault_and_roles);
    g_test_add_func("/conference_outputs/streams", test_streams);
    g_test_add_func("/conference_outputs/redact_and_auto_record", test_redact_and_auto_record);
    return g_test_run();
}
