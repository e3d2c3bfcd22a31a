/* The native API's recording and streams routes over loopback HTTP, from the
 * front's table entry: host only, the answers and their machine words, the
 * conference state listing them, the events every member's stream gets, and the
 * alias rule. `fake_*` below is a TEST DOUBLE for the media engine: it only notes
 * which outputs it was asked to start and stop, and reports a stop back through
 * the core's post from another thread, as the writer thread would. */
#include <tessera/err.h>
#include <tessera/native_api.h>

#include "../common/front_server.h"

#define BASE "/api/v1/conferences/"

static struct front_server fs;

struct fake_media {
    GMutex lock;
    uint32_t last_started, last_stopped;
    enum tsr_conference_output_kind last_kind;
    char last_target[256];
};
static struct fake_media media;

static void fake_attach(void *user, struct tsr_participant *p, const char *offer,
                        struct tsr_conference_call *call)
{
    (void)user, (void)p, (void)offer;
    tsr_conference_call_done(call, TSR_ERR_UNSUPPORTED, NULL, g_strdup("roster only"));
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
    g_mutex_lock(&m->lock);
    m->last_started = id;
    m->last_kind = kind;
    g_strlcpy(m->last_target, target, sizeof m->last_target);
    g_mutex_unlock(&m->lock);
    return 0;
}

struct stop_report {
    struct tsr_conference_link *link;
    char *alias;
    uint32_t id;
};

/* A writer thread's last word: STOPPED, posted from off the API loop. */
static gpointer report_stopped(gpointer data)
{
    struct stop_report *r = data;
    tsr_conference_link_post_output_state(r->link, r->alias, r->id, TSR_CONFERENCE_OUTPUT_STOPPED,
                                          NULL);
    tsr_conference_link_unref(&r->link);
    g_free(r->alias);
    g_free(r);
    return NULL;
}

static void fake_stop_output(void *user, struct tsr_conference *c, uint32_t id)
{
    struct fake_media *m = user;
    g_mutex_lock(&m->lock);
    m->last_stopped = id;
    g_mutex_unlock(&m->lock);
    struct stop_report *r = g_new0(struct stop_report, 1);
    r->link = tsr_conference_registry_link(fs.reg);
    r->alias = g_strdup(tsr_conference_alias(c));
    r->id = id;
    g_thread_unref(g_thread_new("fake-writer", report_stopped, r));
}

static const struct tsr_conference_media_ops fake_ops = {
    .attach = fake_attach,
    .detach = fake_detach,
    .start_output = fake_start_output,
    .stop_output = fake_stop_output,
};

/* --- helpers ---------------------------------------------------------------------- */

static uint32_t media_last_stopped(void)
{
    g_mutex_lock(&media.lock);
    uint32_t id = media.last_stopped;
    g_mutex_unlock(&media.lock);
    return id;
}

static char *join(const char *alias, const char *name, const char *pin)
{
    char *body = g_strdup_printf("{\"display_name\":\"%s\",\"pin\":\"%s\"}", name, pin);
    char *path = g_strdup_printf(BASE "%s/join", alias);
    struct front_reply r = front_call(&fs, "POST", path, body, NULL);
    g_assert_cmpuint(r.status, ==, 200);
    char *tok = g_strdup(front_reply_str(&r, "token"));
    front_reply_clear(&r);
    g_free(path);
    g_free(body);
    return tok;
}

static struct front_reply call_tok(const char *method, const char *path, const char *body,
                                   const char *tok)
{
    char *auth = g_strdup_printf("Authorization: Bearer %s", tok);
    const char *headers[] = {auth, NULL};
    struct front_reply r = front_call(&fs, method, path, body, headers);
    g_free(auth);
    return r;
}

/* status and the machine word of an error answer ("error"), then cleared. */
static void expect(struct front_reply r, unsigned status, const char *code)
{
    if (r.status != status)
        g_error("expected %u, got %u: %s", status, r.status, r.text);
    if (code)
        g_assert_cmpstr(front_reply_str(&r, "error"), ==, code);
    front_reply_clear(&r);
}

/* The conference state as a member sees it. */
static json_t *state(const char *tok)
{
    struct front_reply r = call_tok("GET", BASE "board", NULL, tok);
    g_assert_cmpuint(r.status, ==, 200);
    json_t *o = json_incref(r.json);
    front_reply_clear(&r);
    return o;
}

/* --- tests ------------------------------------------------------------------------- */

static void test_recording(void)
{
    char *host = join("board", "Host", "1234"), *guest = join("board", "Guest", "5678");
    char *path = g_strdup_printf(BASE "board/events?token=%s", guest);
    struct front_sse ev;
    front_sse_open(&fs, &ev, path);

    expect(call_tok("POST", BASE "board/recording", "{\"action\":\"start\"}", guest), 403,
           "forbidden");
    expect(call_tok("GET", BASE "board/recording", NULL, host), 405, NULL);
    expect(call_tok("POST", BASE "board/recording", "{\"action\":\"rewind\"}", host), 400,
           "bad_request");
    expect(call_tok("POST", BASE "board/recording", "{\"action\":\"stop\"}", host), 409,
           "not_recording");

    struct front_reply r = call_tok("POST", BASE "board/recording", "{\"action\":\"start\"}", host);
    g_assert_cmpuint(r.status, ==, 201);
    json_t *rec = json_object_get(r.json, "recording");
    g_assert_cmpstr(json_string_value(json_object_get(rec, "state")), ==, "starting");
    const char *file = json_string_value(json_object_get(rec, "file"));
    g_assert_true(g_str_has_prefix(file, "board-") && g_str_has_suffix(file, "Z.mkv"));
    g_assert_cmpint(media.last_kind, ==, TSR_CONFERENCE_OUTPUT_RECORDING);
    g_assert_true(g_str_has_prefix(media.last_target, "/srv/rec/board-"));
    char *id = g_strdup(json_string_value(json_object_get(rec, "id")));
    front_reply_clear(&r);
    front_sse_expect(&ev, "recording", "\"starting\"");

    expect(call_tok("POST", BASE "board/recording", "{\"action\":\"start\"}", host), 409,
           "already_recording");
    json_t *st = state(guest);
    g_assert_cmpstr(json_string_value(json_object_get(json_object_get(st, "recording"), "id")), ==,
                    id);
    json_decref(st);

    expect(call_tok("POST", BASE "board/recording", "{\"action\":\"stop\"}", host), 200, NULL);
    char *stopped = g_strdup_printf("rec-%u", media_last_stopped());
    g_assert_cmpstr(stopped, ==, id);
    g_free(stopped);
    front_sse_expect(&ev, "recording", "\"stopped\"");
    st = state(guest);
    g_assert_true(json_is_null(json_object_get(st, "recording")));
    json_decref(st);

    front_sse_close(&ev);
    g_free(id);
    g_free(path);
    g_free(host);
    g_free(guest);
}

static void test_streams(void)
{
    char *host = join("board", "Host", "1234"), *guest = join("board", "Guest", "5678");
    const char *url = "{\"url\":\"rtmp://live.example.com/app/SECRETKEY\"}";
    expect(call_tok("POST", BASE "board/streams", url, guest), 403, "forbidden");
    expect(call_tok("POST", BASE "board/streams", "{\"url\":\"http://x/y\"}", host), 400,
           "bad_url");
    expect(call_tok("POST", BASE "board/streams", "{\"url\":7}", host), 400, "bad_url");

    struct front_reply r = call_tok("POST", BASE "board/streams", url, host);
    g_assert_cmpuint(r.status, ==, 201);
    char *id = g_strdup(front_reply_str(&r, "id"));
    g_assert_true(g_str_has_prefix(id, "stream-"));
    front_reply_clear(&r);
    g_assert_cmpint(media.last_kind, ==, TSR_CONFERENCE_OUTPUT_STREAM);
    g_assert_cmpstr(media.last_target, ==, "rtmp://live.example.com/app/SECRETKEY");

    /* Members see the URL without its key. */
    json_t *st = state(guest);
    json_t *s0 = json_array_get(json_object_get(st, "streams"), 0);
    g_assert_cmpstr(json_string_value(json_object_get(s0, "url")), ==,
                    "rtmp://live.example.com/app/***");
    json_decref(st);

    char *one = g_strdup_printf(BASE "board/streams/%s", id);
    expect(call_tok("DELETE", one, NULL, guest), 403, "forbidden");
    expect(call_tok("POST", one, NULL, host), 405, NULL);
    expect(call_tok("DELETE", BASE "board/streams/stream-999", NULL, host), 404, "no_such_stream");
    expect(call_tok("DELETE", one, NULL, host), 204, NULL);
    expect(call_tok("POST", BASE "board/streamz", url, host), 404, "not_found");
    expect(call_tok("POST", BASE ".board/streams", url, host), 400, "bad_request");
    g_free(one);
    g_free(id);
    g_free(host);
    g_free(guest);
}

/* A token of another conference records nothing here. */
static void test_other_conference(void)
{
    char *other = join("other", "Host", "1234");
    expect(call_tok("POST", BASE "board/recording", "{\"action\":\"start\"}", other), 403,
           "forbidden");
    expect(call_tok("POST", BASE "board/recording", "{\"action\":\"start\"}", "nope"), 401,
           "bad_token");
    g_free(other);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_mutex_init(&media.lock);
    fs.opts = (struct tsr_conference_registry_opts){.allow_adhoc = false,
                                                    .empty_timeout_s = 60,
                                                    .token_ttl_s = 120,
                                                    .default_max_participants = 25,
                                                    .recording_dir = "/srv/rec",
                                                    .media = &fake_ops,
                                                    .media_user = &media};
    fs.definitions = "{\"conferences\":["
                     "{\"alias\":\"board\",\"host_pin\":\"1234\",\"guest_pin\":\"5678\"},"
                     "{\"alias\":\"other\",\"host_pin\":\"1234\"}]}";
    fs.fronts[fs.n_fronts++] = &tsr_native_front;
    front_server_start(&fs);
    g_test_add_func("/native_outputs/recording", test_recording);
    g_test_add_func("/native_outputs/streams", test_streams);
    g_test_add_func("/native_outputs/other_conference", test_other_conference);
    int rc = g_test_run();
    front_server_stop(&fs);
    return rc;
}
