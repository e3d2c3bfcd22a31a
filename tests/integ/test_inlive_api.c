/* The inLive Hub API over real HTTP (a libsoup server in its own thread, started
 * from the front's table entry; a libsoup client here), with the conference core
 * behind it and ad hoc conferences off, so a room needs a conference the
 * operator defined (the definitions below) and any other id is refused:
 * rooms (create, get, end, the empty-room clock left to the browser tests), clients
 * (register, name, state, leave), the negotiation of spec §5 (candidates buffered
 * before the offer, the answer, a server offer and its answer, re-offers), the
 * event stream (queued events flushed, `left` then the end), and errors: the
 * envelope with its machine word, bad bodies (duplicate keys included), unknown
 * ids, wrong methods, the alias rule, refusals from the core (capacity with
 * Retry-After), and a participant removed by the core taking its client along.
 *
 * fake_media_ops below is a TEST DOUBLE for the media layer (no WebRTC here): it
 * answers offers, refuses "BADSDP", counts candidates, and makes a server offer
 * once the test says media is connected. */
#include <tessera/err.h>
#include <tessera/inlive_api.h>
#include <tessera/metrics.h>

#include "../common/front_server.h"

#define ROOMS "/v1/rooms/"

static struct front_server fs;
static char *chrome_offer;

/* --- test double for the media layer (server thread; read through front_server_run) -- */
static struct {
    int candidates;
    bool connected; /* create_send_offer answers once this is set */
    int offers_made, answers_applied;
} media;

/* Each op finishes its call at once; the conference delivers it on a later
 * iteration, as with a real net loop. */
static void fake_attach(void *user, struct tsr_participant *p, const char *offer,
                        struct tsr_conference_call *call)
{
    (void)user, (void)p;
    if (strstr(offer, "BADSDP"))
        tsr_conference_call_done(call, TSR_ERR_INVALID, NULL, g_strdup("fake: not SDP"));
    else
        tsr_conference_call_done(call, 0, g_strdup("v=0\r\nfake-answer\r\n"), NULL);
}

static void fake_detach(void *user, struct tsr_participant *p)
{
    (void)user, (void)p;
}

static void fake_add_candidate(void *user, struct tsr_participant *p, const char *candidate,
                               const char *mid, int mline_index, struct tsr_conference_call *call)
{
    (void)user, (void)p, (void)candidate, (void)mid, (void)mline_index;
    media.candidates++;
    tsr_conference_call_done(call, 0, NULL, NULL);
}

static void fake_create_send_offer(void *user, struct tsr_participant *p,
                                   struct tsr_conference_call *call)
{
    (void)user, (void)p;
    if (!media.connected) {
        tsr_conference_call_done(call, TSR_ERR_AGAIN, NULL, NULL);
        return;
    }
    media.offers_made++;
    tsr_conference_call_done(call, 0, g_strdup("v=0\r\nfake-server-offer\r\n"), NULL);
}

static void fake_apply_send_answer(void *user, struct tsr_participant *p, const char *answer_sdp,
                                   struct tsr_conference_call *call)
{
    (void)user, (void)p;
    if (strstr(answer_sdp, "BADSDP")) {
        tsr_conference_call_done(call, TSR_ERR_INVALID, NULL, g_strdup("fake: not SDP"));
        return;
    }
    media.answers_applied++;
    tsr_conference_call_done(call, 0, NULL, NULL);
}

static void fake_answer_reoffer(void *user, struct tsr_participant *p, const char *offer_sdp,
                                struct tsr_conference_call *call)
{
    (void)user, (void)p;
    if (strstr(offer_sdp, "RESTART"))
        tsr_conference_call_done(call, TSR_ERR_UNSUPPORTED, NULL, g_strdup("fake: an ICE restart"));
    else
        tsr_conference_call_done(call, 0, g_strdup("v=0\r\nfake-reanswer\r\n"), NULL);
}

static const struct tsr_conference_media_ops fake_media_ops = {
    .attach = fake_attach,
    .detach = fake_detach,
    .add_candidate = fake_add_candidate,
    .create_send_offer = fake_create_send_offer,
    .apply_send_answer = fake_apply_send_answer,
    .answer_reoffer = fake_answer_reoffer,
};

static void set_connected(struct front_server *s, void *arg)
{
    (void)s;
    media.connected = arg != NULL;
}

static int media_value;
static void read_candidates(struct front_server *s, void *arg)
{
    (void)s, (void)arg;
    media_value = media.candidates;
}

static size_t participants_n;
static void count_participants(struct front_server *s, void *arg)
{
    (void)arg;
    participants_n = tsr_conference_registry_n_participants(s->reg);
}

static size_t participants(void)
{
    front_server_run(&fs, count_participants, NULL);
    return participants_n;
}

static bool knows_result;
static void knows(struct front_server *s, void *alias)
{
    knows_result = tsr_conference_registry_knows(s->reg, alias);
}

/* --- client helpers ---------------------------------------------------------------- */

static struct front_reply call(const char *method, const char *path, const char *body)
{
    struct front_reply r = front_call(&fs, method, path, body, NULL);
    /* the envelope on every answer: JSON, code = status, ok, message, data */
    g_assert_cmpstr(r.ctype, ==, "application/json");
    g_assert_nonnull(r.json);
    g_assert_cmpint(json_integer_value(json_object_get(r.json, "code")), ==, r.status);
    g_assert_true(json_is_boolean(json_object_get(r.json, "ok")));
    g_assert_true(json_is_string(json_object_get(r.json, "message")));
    g_assert_nonnull(json_object_get(r.json, "data"));
    return r;
}

/* A call that must fail with `status` and the machine word `code`. */
static void fails(const char *method, const char *path, const char *body, unsigned status,
                  const char *code)
{
    struct front_reply r = call(method, path, body);
    if (r.status != status || g_strcmp0(front_reply_str(&r, "error"), code) != 0)
        g_error("%s %s %s: want %u %s, got %u %s", method, path, body ? body : "", status, code,
                r.status, r.text);
    g_assert_false(json_is_true(json_object_get(r.json, "ok")));
    g_assert_true(json_is_null(json_object_get(r.json, "data")));
    front_reply_clear(&r);
}

/* A call that must answer `status`; returns the data member (owned). */
static json_t *ok(const char *method, const char *path, const char *body, unsigned status)
{
    struct front_reply r = call(method, path, body);
    if (r.status != status)
        g_error("%s %s %s: want %u, got %u %s", method, path, body ? body : "", status, r.status,
                r.text);
    g_assert_true(json_is_true(json_object_get(r.json, "ok")));
    json_t *data = json_incref(json_object_get(r.json, "data"));
    front_reply_clear(&r);
    return data;
}

static void ok_void(const char *method, const char *path, const char *body)
{
    json_decref(ok(method, path, body, 200));
}

static char *offer_body(const char *sdp, const char *type)
{
    json_t *o = json_pack("{s:s, s:s}", "type", type, "sdp", sdp);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return text;
}

/* PUT negotiate with an offer; returns the answer's SDP (owned) or NULL on failure. */
static char *negotiate(const char *room, const char *client, const char *sdp, unsigned status)
{
    char *path = g_strdup_printf(ROOMS "%s/negotiate/%s", room, client);
    char *body = offer_body(sdp, "offer");
    json_t *data = status == 200 ? ok("PUT", path, body, 200) : NULL;
    if (status != 200) {
        struct front_reply r = call("PUT", path, body);
        g_assert_cmpuint(r.status, ==, status);
        front_reply_clear(&r);
    }
    char *answer =
        data ? g_strdup(json_string_value(json_object_get(json_object_get(data, "answer"), "sdp")))
             : NULL;
    json_decref(data);
    free(body);
    g_free(path);
    return answer;
}

/* --- tests --------------------------------------------------------------------------- */

static void test_rooms(void)
{
    /* ad hoc off: no room, generated id or not, without a defined conference */
    fails("POST", ROOMS "create", "{\"id\":\"\",\"name\":\"\"}", 403, "adhoc_disabled");
    fails("POST", ROOMS "create", "{\"id\":\"secretroom\"}", 403, "adhoc_disabled");
    front_server_run(&fs, knows, "secretroom");
    g_assert_false(knows_result);
    json_t *d = ok("POST", ROOMS "create", "{\"id\":\"r1\",\"name\":\"Room one\"}", 201);
    g_assert_cmpint(
        json_integer_value(json_object_get(json_object_get(d, "options"), "empty_room_timeout_ns")),
        ==, 180 * G_GINT64_CONSTANT(1000000000));
    json_decref(d);
    fails("POST", ROOMS "create", "{\"id\":\"r1\"}", 409, "room_exists");
    d = ok("GET", ROOMS "r1", NULL, 200);
    g_assert_cmpstr(json_string_value(json_object_get(d, "name")), ==, "Room one");
    json_decref(d);
    json_decref(ok("GET", ROOMS "r1%20", NULL, 200)); /* trailing blanks are trimmed */
    fails("GET", ROOMS "nope", NULL, 404, "room_not_found");
    /* an id that is not alias-shaped maps to a hashed conference alias */
    json_decref(ok("POST", ROOMS "create", "{\"id\":\"Team Room #1\"}", 201));
    json_decref(ok("GET", ROOMS "Team%20Room%20%231", NULL, 200));
    ok_void("PUT", ROOMS "Team%20Room%20%231/end", NULL);
    /* end: the room is gone; the operator's conference stays */
    ok_void("PUT", ROOMS "r1/end", NULL);
    fails("GET", ROOMS "r1", NULL, 404, "room_not_found");
    front_server_run(&fs, knows, "r1");
    g_assert_true(knows_result);
}

static void test_bad_requests(void)
{
    json_decref(ok("POST", ROOMS "create", "{\"id\":\"b1\"}", 201));
    json_decref(ok("POST", ROOMS "b1/register", "{\"uid\":\"alice\"}", 200));
    uint64_t errors = tsr_counter_value(
        tsr_metrics_counter("tessera_inlive_errors_total", "code=\"invalid_request_body\"", "x"));
    fails("POST", ROOMS "create", "{\"id\":5}", 400, "invalid_request_body");
    fails("POST", ROOMS "create", "{not json", 400, "invalid_request_body");
    fails("POST", ROOMS "create", "{\"id\":\"a\",\"id\":\"b\"}", 400, "invalid_request_body");
    fails("POST", ROOMS "create", "{\"id\":\"a/b\"}", 400, "invalid_request_body");
    fails("POST", ROOMS "create", "{\"options\":{\"empty_room_timeout_ns\":-1}}", 400,
          "invalid_request_body");
    fails("POST", ROOMS "b1/register", "{\"uid\":true}", 400, "invalid_request_body");
    fails("POST", ROOMS "b1/register", "{\"uid\":\"x\",\"name\":\"   \"}", 400,
          "invalid_request_body"); /* the core's display-name rule */
    fails("POST", ROOMS "b1/register", "{\"uid\":\"alice\"}", 409, "client_exists");
    fails("PUT", ROOMS "b1/negotiate/alice", "{\"type\":\"rollback\",\"sdp\":\"v=0\"}", 400,
          "invalid_request_body");
    fails("PUT", ROOMS "b1/negotiate/alice", "{\"type\":\"answer\",\"sdp\":\"v=0\"}", 409,
          "no_offer_pending");
    fails("POST", ROOMS "b1/candidate/alice", "{\"candidate\":\"bogus\"}", 400,
          "invalid_candidate");
    fails("PUT", ROOMS "b1/settracksources/alice", "[{\"track_id\":\"a\",\"source\":\"tv\"}]", 400,
          "invalid_request_body");
    fails("GET", ROOMS "b1/client/nobody", NULL, 404, "client_not_found");
    fails("GET", ROOMS "b1/getmeta/none", NULL, 404, "meta_not_found");
    fails("GET", ROOMS "b1/negotiate/alice", NULL, 405, "method_not_allowed");
    fails("DELETE", ROOMS "b1/end", NULL, 405, "method_not_allowed");
    fails("GET", ROOMS "b1/whatever/alice", NULL, 404, "not_found");
    fails("GET", "/v1/nothing", NULL, 404, "not_found");
    fails("GET", ROOMS "b1//x", NULL, 404, "not_found");
    GString *big = g_string_new("{\"uid\":\"");
    while (big->len < TSR_INLIVE_API_MAX_BODY_BYTES + 10)
        g_string_append(big, "xxxxxxxxxxxxxxxx");
    g_string_append(big, "\"}");
    fails("POST", ROOMS "b1/register", big->str, 413, "body_too_large");
    g_string_free(big, TRUE);
    g_assert_cmpuint(tsr_counter_value(tsr_metrics_counter("tessera_inlive_errors_total",
                                                           "code=\"invalid_request_body\"", "x")),
                     ==, errors + 9);
    /* CORS on a preflight: any origin, and Chrome's Private Network Access */
    const char *hs[] = {"Origin: http://example.org", "Access-Control-Request-Method: PUT", NULL};
    struct front_reply r = front_call(&fs, "OPTIONS", ROOMS "create", NULL, hs);
    g_assert_cmpuint(r.status, ==, 204);
    front_reply_clear(&r);
    ok_void("PUT", ROOMS "b1/end", NULL);
}

static void test_alias_rule(void)
{
    struct front_reply r = call("POST", ROOMS "create", "{\"id\":\".hidden\"}");
    g_assert_cmpuint(r.status, ==, 400);
    g_assert_cmpstr(front_reply_str(&r, "error"), ==, "bad_request");
    g_assert_cmpstr(front_reply_str(&r, "message"), ==, TSR_CONFERENCE_ALIAS_RULE);
    front_reply_clear(&r);
    fails("GET", ROOMS ".hidden", NULL, 404, "room_not_found");
    /* a dot inside is fine, as everywhere */
    json_decref(ok("POST", ROOMS "create", "{\"id\":\"a.b\"}", 201));
    ok_void("PUT", ROOMS "a.b/end", NULL);
}

static void test_clients_and_negotiation(void)
{
    json_decref(ok("POST", ROOMS "create", "{\"id\":\"n1\"}", 201));
    json_t *d = ok("POST", ROOMS "n1/register", "{\"uid\":123,\"name\":\"Ann\"}", 200);
    g_assert_cmpstr(json_string_value(json_object_get(d, "client_id")), ==, "123");
    g_assert_cmpstr(json_string_value(json_object_get(d, "name")), ==, "Ann");
    json_decref(d);
    d = ok("POST", ROOMS "n1/register", NULL, 200); /* no body: a generated id */
    g_assert_cmpuint(strlen(json_string_value(json_object_get(d, "client_id"))), ==, 21);
    json_decref(d);
    d = ok("PUT", ROOMS "n1/setname/123", "{\"name\":\"Ann B.\"}", 200);
    g_assert_cmpstr(json_string_value(json_object_get(d, "name")), ==, "Ann B.");
    json_decref(d);
    d = ok("GET", ROOMS "n1/client/123", NULL, 200);
    g_assert_cmpstr(json_string_value(json_object_get(d, "peer_connection_state")), ==, "new");
    json_decref(d);

    /* candidates before the offer wait for it */
    ok_void("POST", ROOMS "n1/candidate/123",
            "{\"candidate\":\"candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host\","
            "\"sdpMid\":\"0\",\"sdpMLineIndex\":0}");
    ok_void("POST", ROOMS "n1/candidate/123", "{\"candidate\":\"\"}");
    front_server_run(&fs, read_candidates, NULL);
    g_assert_cmpint(media_value, ==, 0);
    ok_void("POST", ROOMS "n1/isallownegotiate/123", NULL);
    char *answer = negotiate("n1", "123", chrome_offer, 200);
    g_assert_cmpstr(answer, ==, "v=0\r\nfake-answer\r\n");
    g_free(answer);
    front_server_run(&fs, read_candidates, NULL);
    g_assert_cmpint(media_value, ==, 2);
    g_assert_cmpuint(participants(), ==, 1);
    d = ok("GET", ROOMS "n1/client/123", NULL, 200);
    g_assert_cmpstr(json_string_value(json_object_get(d, "peer_connection_state")), ==,
                    "connected");
    json_decref(d);

    /* the stream gets what was queued: tracks_added (the offer's msid), tracks_available */
    struct front_sse s;
    front_sse_open(&fs, &s, ROOMS "n1/events/123");
    front_sse_expect(&s, "tracks_added", "\"kind\":\"audio\"");
    front_sse_expect(&s, "tracks_available", "\"client_id\":\"mcu\"");
    /* media connects: the server offers (spec §5.3), and negotiation waits for it */
    front_server_run(&fs, set_connected, &fs);
    front_sse_expect(&s, "offer", "fake-server-offer");
    fails("POST", ROOMS "n1/isallownegotiate/123", NULL, 403, "negotiation_not_allowed");
    char *body = offer_body("v=0\r\nclient-answer\r\n", "answer");
    ok_void("PUT", ROOMS "n1/negotiate/123", body);
    free(body);
    front_sse_expect(&s, "allowed_renegotation", NULL);
    /* a re-offer is answered on the running session; an ICE restart is refused */
    answer = negotiate("n1", "123", "v=0\r\nre-offer\r\n", 200);
    g_assert_cmpstr(answer, ==, "v=0\r\nfake-reanswer\r\n");
    g_free(answer);
    body = offer_body("v=0\r\nRESTART\r\n", "offer");
    fails("PUT", ROOMS "n1/negotiate/123", body, 409, "renegotiation_unsupported");
    free(body);
    g_assert_cmpuint(participants(), ==, 1);

    /* metadata reaches the stream */
    ok_void("POST", ROOMS "n1/setmeta", "{\"topic\":\"x\"}");
    front_sse_expect(&s, "meta_changed", "{\"topic\":\"x\"}");
    d = ok("GET", ROOMS "n1/getmeta/topic", NULL, 200);
    g_assert_cmpstr(json_string_value(json_object_get(d, "topic")), ==, "x");
    json_decref(d);

    /* leave: `left` to this client, its stream ends, its participant is gone */
    ok_void("DELETE", ROOMS "n1/leave/123", NULL);
    front_sse_expect(&s, "left", "\"reason\":\"left\"");
    g_assert_null(front_sse_next(&s, "never", NULL));
    front_sse_close(&s);
    g_assert_cmpuint(participants(), ==, 0);
    fails("GET", ROOMS "n1/client/123", NULL, 404, "client_not_found");
    fails("POST", ROOMS "n1/leave/123", NULL, 404, "client_not_found");
    front_server_run(&fs, set_connected, NULL);
    ok_void("PUT", ROOMS "n1/end", NULL);
}

static char *kick_id;
static void kick(struct front_server *s, void *arg)
{
    (void)arg;
    struct tsr_participant *p = tsr_conference_registry_find_participant(s->reg, kick_id);
    g_assert_nonnull(p);
    tsr_participant_leave(p, TSR_LEAVE_MEDIA_FAILED);
}

static char *first_participant_id;
static void find_first(struct front_server *s, void *alias)
{
    size_t n = 0;
    struct tsr_participant *const *ps =
        tsr_conference_participants(tsr_conference_registry_find(s->reg, alias), &n);
    first_participant_id = g_strdup(tsr_participant_id(ps[0]));
}

static void test_refusals_and_removal(void)
{
    json_decref(ok("POST", ROOMS "create", "{\"id\":\"cap\"}", 201));
    for (int i = 0; i < 3; i++) {
        char *body = g_strdup_printf("{\"uid\":\"c%d\"}", i);
        json_decref(ok("POST", ROOMS "cap/register", body, 200));
        g_free(body);
    }
    /* a bad offer is the core's bad_sdp; the client stays and may try again */
    char *body = offer_body("v=0\r\nBADSDP\r\n", "offer");
    fails("PUT", ROOMS "cap/negotiate/c0", body, 400, "bad_sdp");
    free(body);
    g_free(negotiate("cap", "c0", chrome_offer, 200));
    g_free(negotiate("cap", "c1", chrome_offer, 200));
    /* the server carries two participants with media: the third is refused for
     * capacity with Retry-After, and nothing else changes */
    body = offer_body(chrome_offer, "offer");
    struct front_reply r = call("PUT", ROOMS "cap/negotiate/c2", body);
    g_assert_cmpuint(r.status, ==, 503);
    g_assert_cmpstr(front_reply_str(&r, "error"), ==, "capacity");
    g_assert_cmpstr(r.retry_after, ==, "10");
    front_reply_clear(&r);
    free(body);
    g_assert_cmpuint(participants(), ==, 2);

    /* the core removes c0's participant (media failed): the client goes with it */
    struct front_sse s;
    front_sse_open(&fs, &s, ROOMS "cap/events/c0");
    front_server_run(&fs, find_first, "cap");
    kick_id = first_participant_id;
    front_server_run(&fs, kick, NULL);
    front_sse_expect(&s, "left", "\"reason\":\"media_failed\"");
    g_assert_null(front_sse_next(&s, "never", NULL));
    front_sse_close(&s);
    fails("GET", ROOMS "cap/client/c0", NULL, 404, "client_not_found");
    g_assert_cmpuint(participants(), ==, 1);
    g_free(first_participant_id);
    ok_void("PUT", ROOMS "cap/end", NULL);
    g_assert_cmpuint(participants(), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    char *path =
        g_build_filename(g_getenv("TSR_SOURCE_DIR") ? g_getenv("TSR_SOURCE_DIR") : TSR_SOURCE_DIR,
                         "tests", "data", "sdp", "chrome_offer.sdp", NULL);
    g_assert_true(g_file_get_contents(path, &chrome_offer, NULL, NULL));
    g_free(path);
    fs.opts = (struct tsr_conference_registry_opts){.allow_adhoc = false,
                                                    .token_ttl_s = 120,
                                                    .default_max_participants = 10,
                                                    .max_media_participants = 2,
                                                    .media = &fake_media_ops};
    /* the conferences rooms may use; "inlive-…" is the hashed alias of "Team Room #1" */
    fs.definitions = "{\"conferences\":[{\"alias\":\"r1\"},{\"alias\":\"b1\"},"
                     "{\"alias\":\"a.b\"},{\"alias\":\"n1\"},{\"alias\":\"cap\"},"
                     "{\"alias\":\"inlive-a4a7402f6dab6b5af65813ca\"}]}";
    fs.fronts[fs.n_fronts++] = &tsr_inlive_front;
    front_server_start(&fs);
    g_test_add_func("/inlive_api/rooms", test_rooms);
    g_test_add_func("/inlive_api/bad_requests", test_bad_requests);
    g_test_add_func("/inlive_api/alias_rule", test_alias_rule);
    g_test_add_func("/inlive_api/clients_and_negotiation", test_clients_and_negotiation);
    g_test_add_func("/inlive_api/refusals_and_removal", test_refusals_and_removal);
    int rc = g_test_run();
    front_server_stop(&fs);
    g_free(chrome_offer);
    tsr_metrics_reset();
    return rc;
}
