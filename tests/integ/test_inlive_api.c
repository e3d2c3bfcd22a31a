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
 * Issue 17: client ids are issued by the server and are the clients' credentials
 * (a uid is refused as an id, one client's id acts on that client only), ending a
 * room and writing its metadata take the room's credential (its secret or its
 * creator's Bearer token; /keys/accesstoken makes stable tokens), and the quotas:
 * rooms at once, metadata per room (all keys or none), empty-room timeouts.
 *
 * fake_media_ops below is a TEST DOUBLE for the media layer (no WebRTC here): it
 * answers offers, refuses "BADSDP", counts candidates, and makes a server offer
 * once the test says media is connected. */
#include <tessera/config.h>
#include <tessera/err.h>
#include <tessera/inlive_api.h>
#include <tessera/metrics.h>

#include <stdarg.h>

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

/* A path from a format (the issued client ids are only known at run time); the
 * last few stay valid, enough for one call's arguments. */
static const char *P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *P(const char *fmt, ...)
{
    static char bufs[8][16 * 1024];
    static unsigned next;
    char *b = bufs[next++ % G_N_ELEMENTS(bufs)];
    va_list ap;
    va_start(ap, fmt);
    g_vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    return b;
}

/* auth: the Bearer token to send, or NULL for none. */
static struct front_reply call_as(const char *auth, const char *method, const char *path,
                                  const char *body)
{
    char *header = auth ? g_strdup_printf("Authorization: Bearer %s", auth) : NULL;
    const char *hs[] = {header, NULL};
    struct front_reply r = front_call(&fs, method, path, body, header ? hs : NULL);
    g_free(header);
    /* the envelope on every answer: JSON, code = status, ok, message, data */
    g_assert_cmpstr(r.ctype, ==, "application/json");
    g_assert_nonnull(r.json);
    g_assert_cmpint(json_integer_value(json_object_get(r.json, "code")), ==, r.status);
    g_assert_true(json_is_boolean(json_object_get(r.json, "ok")));
    g_assert_true(json_is_string(json_object_get(r.json, "message")));
    g_assert_nonnull(json_object_get(r.json, "data"));
    return r;
}

static struct front_reply call(const char *method, const char *path, const char *body)
{
    return call_as(NULL, method, path, body);
}

/* A call that must fail with `status` and the machine word `code`. */
static void fails_as(const char *auth, const char *method, const char *path, const char *body,
                     unsigned status, const char *code)
{
    struct front_reply r = call_as(auth, method, path, body);
    if (r.status != status || g_strcmp0(front_reply_str(&r, "error"), code) != 0)
        g_error("%s %s %s: want %u %s, got %u %s", method, path, body ? body : "", status, code,
                r.status, r.text);
    g_assert_false(json_is_true(json_object_get(r.json, "ok")));
    g_assert_true(json_is_null(json_object_get(r.json, "data")));
    front_reply_clear(&r);
}

static void fails(const char *method, const char *path, const char *body, unsigned status,
                  const char *code)
{
    fails_as(NULL, method, path, body, status, code);
}

/* A call that must answer `status`; returns the data member (owned). */
static json_t *ok_as(const char *auth, const char *method, const char *path, const char *body,
                     unsigned status)
{
    struct front_reply r = call_as(auth, method, path, body);
    if (r.status != status)
        g_error("%s %s %s: want %u, got %u %s", method, path, body ? body : "", status, r.status,
                r.text);
    g_assert_true(json_is_true(json_object_get(r.json, "ok")));
    json_t *data = json_incref(json_object_get(r.json, "data"));
    front_reply_clear(&r);
    return data;
}

static json_t *ok(const char *method, const char *path, const char *body, unsigned status)
{
    return ok_as(NULL, method, path, body, status);
}

static void ok_void(const char *method, const char *path, const char *body)
{
    json_decref(ok(method, path, body, 200));
}

static void ok_void_as(const char *auth, const char *method, const char *path, const char *body)
{
    json_decref(ok_as(auth, method, path, body, 200));
}

static const char *str_of(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static json_int_t timeout_ns(const json_t *room)
{
    return json_integer_value(
        json_object_get(json_object_get(room, "options"), "empty_room_timeout_ns"));
}

/* A server-issued credential: 22 characters of [0-9A-Za-z] (131 bits). */
static void assert_credential(const char *s)
{
    g_assert_nonnull(s);
    g_assert_cmpuint(strlen(s), ==, 22);
    for (const char *c = s; *c; c++)
        g_assert_true(g_ascii_isalnum(*c));
}

/* rooms/create with body (and a Bearer token, or NULL); returns the room secret
 * (owned), which GET never shows. */
static char *create_room_as(const char *auth, const char *body)
{
    json_t *d = ok_as(auth, "POST", ROOMS "create", body, 201);
    char *secret = g_strdup(str_of(d, "room_secret"));
    assert_credential(secret);
    char *id = g_uri_escape_string(str_of(d, "id"), NULL, FALSE);
    json_t *got = ok("GET", P(ROOMS "%s", id), NULL, 200);
    g_free(id);
    g_assert_null(json_object_get(got, "room_secret"));
    json_decref(got);
    json_decref(d);
    return secret;
}

static char *create_room(const char *body)
{
    return create_room_as(NULL, body);
}

/* PUT end with the room's secret, which is then freed. */
static void end_room(const char *room, char *secret)
{
    ok_void_as(secret, "PUT", P(ROOMS "%s/end", room), NULL);
    g_free(secret);
}

/* register; returns the client id the server issued (owned). */
static char *register_client(const char *room, const char *body)
{
    json_t *d = ok("POST", P(ROOMS "%s/register", room), body, 200);
    char *id = g_strdup(str_of(d, "client_id"));
    assert_credential(id);
    json_decref(d);
    return id;
}

static uint64_t errors_counted(const char *code)
{
    char *labels = g_strdup_printf("code=\"%s\"", code);
    uint64_t v = tsr_counter_value(tsr_metrics_counter("tessera_inlive_errors_total", labels, "x"));
    g_free(labels);
    return v;
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

/* What the API holds, read on the server thread. */
static struct {
    size_t rooms, clients, meta_bytes;
} held;
static void read_held(struct front_server *s, void *arg)
{
    (void)arg;
    const struct tsr_inlive_api *api = s->state[0];
    held.rooms = tsr_inlive_api_n_rooms(api);
    held.clients = tsr_inlive_api_n_clients(api);
    held.meta_bytes = tsr_inlive_api_meta_bytes(api);
}

static void update_held(void)
{
    front_server_run(&fs, read_held, NULL);
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
    char *r1_secret = g_strdup(str_of(d, "room_secret"));
    json_decref(d);
    fails("POST", ROOMS "create", "{\"id\":\"r1\"}", 409, "room_exists");
    d = ok("GET", ROOMS "r1", NULL, 200);
    g_assert_cmpstr(json_string_value(json_object_get(d, "name")), ==, "Room one");
    json_decref(d);
    json_decref(ok("GET", ROOMS "r1%20", NULL, 200)); /* trailing blanks are trimmed */
    fails("GET", ROOMS "nope", NULL, 404, "room_not_found");
    /* an id that is not alias-shaped maps to a hashed conference alias */
    char *team = create_room("{\"id\":\"Team Room #1\"}");
    json_decref(ok("GET", ROOMS "Team%20Room%20%231", NULL, 200));
    end_room("Team%20Room%20%231", team);
    /* end: the room is gone; the operator's conference stays */
    end_room("r1", r1_secret);
    fails("GET", ROOMS "r1", NULL, 404, "room_not_found");
    front_server_run(&fs, knows, "r1");
    g_assert_true(knows_result);
}

static void test_bad_requests(void)
{
    char *secret = create_room("{\"id\":\"b1\"}");
    char *alice = register_client("b1", "{\"uid\":\"alice\"}");
    uint64_t errors = errors_counted("invalid_request_body");
    fails("POST", ROOMS "create", "{\"id\":5}", 400, "invalid_request_body");
    fails("POST", ROOMS "create", "{not json", 400, "invalid_request_body");
    fails("POST", ROOMS "create", "{\"id\":\"a\",\"id\":\"b\"}", 400, "invalid_request_body");
    fails("POST", ROOMS "create", "{\"id\":\"a/b\"}", 400, "invalid_request_body");
    fails("POST", ROOMS "create", "{\"options\":{\"empty_room_timeout_ns\":-1}}", 400,
          "invalid_request_body");
    fails("POST", ROOMS "b1/register", "{\"uid\":true}", 400, "invalid_request_body");
    fails("POST", ROOMS "b1/register", "{\"uid\":\"x\",\"name\":\"   \"}", 400,
          "invalid_request_body"); /* the core's display-name rule */
    fails("PUT", P(ROOMS "b1/negotiate/%s", alice), "{\"type\":\"rollback\",\"sdp\":\"v=0\"}", 400,
          "invalid_request_body");
    fails("PUT", P(ROOMS "b1/negotiate/%s", alice), "{\"type\":\"answer\",\"sdp\":\"v=0\"}", 409,
          "no_offer_pending");
    fails("POST", P(ROOMS "b1/candidate/%s", alice), "{\"candidate\":\"bogus\"}", 400,
          "invalid_candidate");
    fails("PUT", P(ROOMS "b1/settracksources/%s", alice),
          "[{\"track_id\":\"a\",\"source\":\"tv\"}]", 400, "invalid_request_body");
    fails("GET", ROOMS "b1/client/nobody", NULL, 404, "client_not_found");
    fails("GET", ROOMS "b1/getmeta/none", NULL, 404, "meta_not_found");
    fails("GET", P(ROOMS "b1/negotiate/%s", alice), NULL, 405, "method_not_allowed");
    fails("DELETE", ROOMS "b1/end", NULL, 405, "method_not_allowed");
    fails("GET", P(ROOMS "b1/whatever/%s", alice), NULL, 404, "not_found");
    fails("GET", "/v1/nothing", NULL, 404, "not_found");
    fails("GET", ROOMS "b1//x", NULL, 404, "not_found");
    GString *big = g_string_new("{\"uid\":\"");
    while (big->len < TSR_INLIVE_API_MAX_BODY_BYTES + 10)
        g_string_append(big, "xxxxxxxxxxxxxxxx");
    g_string_append(big, "\"}");
    fails("POST", ROOMS "b1/register", big->str, 413, "body_too_large");
    g_string_free(big, TRUE);
    g_assert_cmpuint(errors_counted("invalid_request_body"), ==, errors + 9);
    /* CORS on a preflight: any origin, and Chrome's Private Network Access */
    const char *hs[] = {"Origin: http://example.org", "Access-Control-Request-Method: PUT", NULL};
    struct front_reply r = front_call(&fs, "OPTIONS", ROOMS "create", NULL, hs);
    g_assert_cmpuint(r.status, ==, 204);
    front_reply_clear(&r);
    g_free(alice);
    end_room("b1", secret);
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
    end_room("a.b", create_room("{\"id\":\"a.b\"}"));
}

static void test_clients_and_negotiation(void)
{
    char *secret = create_room("{\"id\":\"n1\"}");
    /* the uid is a name, not the id: the server issues the id */
    json_t *d = ok("POST", ROOMS "n1/register", "{\"uid\":123,\"name\":\"Ann\"}", 200);
    char *ann = g_strdup(str_of(d, "client_id"));
    assert_credential(ann);
    g_assert_cmpstr(json_string_value(json_object_get(d, "name")), ==, "Ann");
    json_decref(d);
    d = ok("POST", ROOMS "n1/register", NULL, 200); /* no body: an id and a default name */
    assert_credential(str_of(d, "client_id"));
    g_assert_cmpstr(str_of(d, "name"), ==, "Guest");
    json_decref(d);
    d = ok("PUT", P(ROOMS "n1/setname/%s", ann), "{\"name\":\"Ann B.\"}", 200);
    g_assert_cmpstr(json_string_value(json_object_get(d, "name")), ==, "Ann B.");
    json_decref(d);
    d = ok("GET", P(ROOMS "n1/client/%s", ann), NULL, 200);
    g_assert_cmpstr(json_string_value(json_object_get(d, "peer_connection_state")), ==, "new");
    json_decref(d);

    /* candidates before the offer wait for it */
    ok_void("POST", P(ROOMS "n1/candidate/%s", ann),
            "{\"candidate\":\"candidate:1 1 udp 2122260223 127.0.0.1 40000 typ host\","
            "\"sdpMid\":\"0\",\"sdpMLineIndex\":0}");
    ok_void("POST", P(ROOMS "n1/candidate/%s", ann), "{\"candidate\":\"\"}");
    front_server_run(&fs, read_candidates, NULL);
    g_assert_cmpint(media_value, ==, 0);
    ok_void("POST", P(ROOMS "n1/isallownegotiate/%s", ann), NULL);
    char *answer = negotiate("n1", ann, chrome_offer, 200);
    g_assert_cmpstr(answer, ==, "v=0\r\nfake-answer\r\n");
    g_free(answer);
    front_server_run(&fs, read_candidates, NULL);
    g_assert_cmpint(media_value, ==, 2);
    g_assert_cmpuint(participants(), ==, 1);
    d = ok("GET", P(ROOMS "n1/client/%s", ann), NULL, 200);
    g_assert_cmpstr(json_string_value(json_object_get(d, "peer_connection_state")), ==,
                    "connected");
    json_decref(d);

    /* the stream gets what was queued: tracks_added (the offer's msid), tracks_available */
    struct front_sse s;
    front_sse_open(&fs, &s, P(ROOMS "n1/events/%s", ann));
    front_sse_expect(&s, "tracks_added", "\"kind\":\"audio\"");
    front_sse_expect(&s, "tracks_available", "\"client_id\":\"mcu\"");
    /* media connects: the server offers (spec §5.3), and negotiation waits for it */
    front_server_run(&fs, set_connected, &fs);
    front_sse_expect(&s, "offer", "fake-server-offer");
    fails("POST", P(ROOMS "n1/isallownegotiate/%s", ann), NULL, 403, "negotiation_not_allowed");
    char *body = offer_body("v=0\r\nclient-answer\r\n", "answer");
    ok_void("PUT", P(ROOMS "n1/negotiate/%s", ann), body);
    free(body);
    front_sse_expect(&s, "allowed_renegotation", NULL);
    /* a re-offer is answered on the running session; an ICE restart is refused */
    answer = negotiate("n1", ann, "v=0\r\nre-offer\r\n", 200);
    g_assert_cmpstr(answer, ==, "v=0\r\nfake-reanswer\r\n");
    g_free(answer);
    body = offer_body("v=0\r\nRESTART\r\n", "offer");
    fails("PUT", P(ROOMS "n1/negotiate/%s", ann), body, 409, "renegotiation_unsupported");
    free(body);
    g_assert_cmpuint(participants(), ==, 1);

    /* metadata reaches the stream */
    ok_void_as(secret, "POST", ROOMS "n1/setmeta", "{\"topic\":\"x\"}");
    front_sse_expect(&s, "meta_changed", "{\"topic\":\"x\"}");
    d = ok("GET", ROOMS "n1/getmeta/topic", NULL, 200);
    g_assert_cmpstr(json_string_value(json_object_get(d, "topic")), ==, "x");
    json_decref(d);

    /* leave: `left` to this client, its stream ends, its participant is gone */
    ok_void("DELETE", P(ROOMS "n1/leave/%s", ann), NULL);
    front_sse_expect(&s, "left", "\"reason\":\"left\"");
    g_assert_null(front_sse_next(&s, "never", NULL));
    front_sse_close(&s);
    g_assert_cmpuint(participants(), ==, 0);
    fails("GET", P(ROOMS "n1/client/%s", ann), NULL, 404, "client_not_found");
    fails("POST", P(ROOMS "n1/leave/%s", ann), NULL, 404, "client_not_found");
    front_server_run(&fs, set_connected, NULL);
    g_free(ann);
    end_room("n1", secret);
}

/* Issue 17: a client id is the client's credential. A uid someone asked for names
 * nobody on the client routes, and one client's id acts on that client only. */
static void test_client_credentials(void)
{
    char *secret = create_room("{\"id\":\"k1\"}");
    char *alice = register_client("k1", "{\"uid\":\"alice\",\"name\":\"Alice\"}");
    char *mallory = register_client("k1", "{\"uid\":\"mallory\"}");
    g_assert_cmpstr(alice, !=, mallory);
    g_free(negotiate("k1", alice, chrome_offer, 200));
    g_assert_cmpuint(participants(), ==, 1);
    /* the guessable uid is refused on every client route, and nothing changes */
    uint64_t refused = errors_counted("uid_not_client_id");
    char *offer = offer_body(chrome_offer, "offer");
    fails("PUT", ROOMS "k1/setname/alice", "{\"name\":\"pwned\"}", 403, "uid_not_client_id");
    fails("DELETE", ROOMS "k1/leave/alice", NULL, 403, "uid_not_client_id");
    fails("POST", ROOMS "k1/leave/alice", NULL, 403, "uid_not_client_id");
    fails("GET", ROOMS "k1/events/alice", NULL, 403, "uid_not_client_id");
    fails("GET", ROOMS "k1/client/alice", NULL, 403, "uid_not_client_id");
    fails("PUT", ROOMS "k1/negotiate/alice", offer, 403, "uid_not_client_id");
    fails("POST", ROOMS "k1/isallownegotiate/alice", NULL, 403, "uid_not_client_id");
    free(offer);
    g_assert_cmpuint(errors_counted("uid_not_client_id"), ==, refused + 7);
    /* a guessed id is nobody */
    fails("DELETE", ROOMS "k1/leave/0123456789ABCDEFGHIJKL", NULL, 404, "client_not_found");
    /* Mallory's own id renames Mallory only */
    json_t *d = ok("PUT", P(ROOMS "k1/setname/%s", mallory), "{\"name\":\"Alice\"}", 200);
    g_assert_cmpstr(str_of(d, "client_id"), ==, mallory);
    json_decref(d);
    d = ok("GET", P(ROOMS "k1/client/%s", alice), NULL, 200);
    g_assert_cmpstr(str_of(d, "name"), ==, "Alice");
    g_assert_cmpstr(str_of(d, "peer_connection_state"), ==, "connected");
    json_decref(d);
    g_assert_cmpuint(participants(), ==, 1);
    update_held();
    g_assert_cmpuint(held.clients, ==, 2);
    /* a uid may be asked for twice (it is only a name): two clients, two ids */
    char *again = register_client("k1", "{\"uid\":\"alice\"}");
    g_assert_cmpstr(again, !=, alice);
    /* the rightful clients leave with their own ids */
    ok_void("DELETE", P(ROOMS "k1/leave/%s", alice), NULL);
    ok_void("POST", P(ROOMS "k1/leave/%s", mallory), NULL);
    g_assert_cmpuint(participants(), ==, 0);
    g_free(again);
    g_free(alice);
    g_free(mallory);
    end_room("k1", secret);
}

/* Issue 17: ending a room and writing its metadata take the room's credential. */
static void test_room_credentials(void)
{
    char *secret = create_room("{\"id\":\"k2\"}");
    char *cl = register_client("k2", NULL);
    g_free(negotiate("k2", cl, chrome_offer, 200));
    uint64_t required = errors_counted("room_credential_required");
    uint64_t wrong = errors_counted("room_credential_wrong");
    fails("PUT", ROOMS "k2/end", NULL, 401, "room_credential_required");
    fails_as("not-the-secret", "PUT", ROOMS "k2/end", NULL, 403, "room_credential_wrong");
    const char *basic[] = {"Authorization: Basic a2V5", NULL}; /* not a Bearer: none */
    struct front_reply r = front_call(&fs, "PUT", ROOMS "k2/end", NULL, basic);
    g_assert_cmpuint(r.status, ==, 401);
    front_reply_clear(&r);
    fails("POST", ROOMS "k2/setmeta", "{\"moderatorClientIDs\":[\"me\"]}", 401,
          "room_credential_required");
    fails_as("not-the-secret", "POST", ROOMS "k2/setmeta", "{\"a\":1}", 403,
             "room_credential_wrong");
    ok_void_as(secret, "POST", ROOMS "k2/setmeta", "{\"topic\":\"kept\"}");
    fails("DELETE", ROOMS "k2/deletemeta/topic", NULL, 401, "room_credential_required");
    g_assert_cmpuint(errors_counted("room_credential_required"), ==, required + 4);
    g_assert_cmpuint(errors_counted("room_credential_wrong"), ==, wrong + 2);
    /* the room still works: metadata kept, its client re-negotiates, reads are open */
    json_t *d = ok("GET", ROOMS "k2/getmeta/topic", NULL, 200);
    g_assert_cmpstr(str_of(d, "topic"), ==, "kept");
    json_decref(d);
    fails("GET", ROOMS "k2/getmeta/moderatorClientIDs", NULL, 404, "meta_not_found");
    g_free(negotiate("k2", cl, "v=0\r\nre-offer\r\n", 200));
    g_assert_cmpuint(participants(), ==, 1);
    ok_void_as(secret, "DELETE", ROOMS "k2/deletemeta/topic", NULL);
    g_free(cl);
    end_room("k2", secret); /* the right one: the room and its client go */
    fails("GET", ROOMS "k2", NULL, 404, "room_not_found");
    g_assert_cmpuint(participants(), ==, 0);
}

/* /keys/accesstoken makes stable, unguessable tokens, and a room created with a
 * Bearer token can be ended with it (the JS SDK's createRoom/endRoom). */
static void test_access_tokens(void)
{
    json_t *a = ok_as("my-api-key", "POST", "/v1/keys/accesstoken", "{\"expiry_seconds\":60}", 200);
    const char *token = str_of(a, "access_token");
    g_assert_cmpuint(strlen(token), ==, 64);
    g_assert_cmpstr(token, !=, "tessera");
    g_assert_cmpstr(str_of(a, "refresh_token"), ==, "my-api-key");
    /* the SDK's refresh asks with its refresh token and gets the same access token */
    json_t *b = ok_as(str_of(a, "refresh_token"), "POST", "/v1/keys/accesstoken", NULL, 200);
    g_assert_cmpstr(str_of(b, "access_token"), ==, token);
    json_t *c = ok_as("another-key", "POST", "/v1/keys/accesstoken", NULL, 200);
    g_assert_cmpstr(str_of(c, "access_token"), !=, token);
    /* without a Bearer: a fresh random refresh token each time */
    json_t *e = ok("POST", "/v1/keys/accesstoken", NULL, 200),
           *f = ok("POST", "/v1/keys/accesstoken", NULL, 200);
    assert_credential(str_of(e, "refresh_token"));
    g_assert_cmpstr(str_of(e, "refresh_token"), !=, str_of(f, "refresh_token"));
    g_assert_cmpstr(str_of(e, "access_token"), !=, str_of(f, "access_token"));

    char *secret = create_room_as(token, "{\"id\":\"k3\"}");
    fails_as(str_of(c, "access_token"), "PUT", ROOMS "k3/end", NULL, 403, "room_credential_wrong");
    ok_void_as(token, "PUT", ROOMS "k3/end", NULL);
    fails("GET", ROOMS "k3", NULL, 404, "room_not_found");
    g_free(secret);
    json_decref(a);
    json_decref(b);
    json_decref(c);
    json_decref(e);
    json_decref(f);
}

/* Issue 17: rooms at once and empty-room timeouts have bounds (main sets [inlive]
 * max_rooms = 3; the timeout bound keeps its default, 3600 s). */
static void test_room_quotas(void)
{
    update_held();
    g_assert_cmpuint(held.rooms, ==, 0);
    uint64_t clamped = tsr_counter_value(
        tsr_metrics_counter("tessera_inlive_clamped_total", "limit=\"empty_room_timeout\"", "x"));
    /* a timeout past max_empty_room_timeout_s is cut to it (and said so); others stay */
    json_t *d = ok("POST", ROOMS "create",
                   "{\"id\":\"q1\",\"options\":{\"empty_room_timeout_ns\":10000000000000}}", 201);
    g_assert_cmpint(timeout_ns(d), ==, 3600 * G_GINT64_CONSTANT(1000000000));
    char *q1 = g_strdup(str_of(d, "room_secret"));
    json_decref(d);
    d = ok("GET", ROOMS "q1", NULL, 200);
    g_assert_cmpint(timeout_ns(d), ==, 3600 * G_GINT64_CONSTANT(1000000000));
    json_decref(d);
    d = ok("POST", ROOMS "create",
           "{\"id\":\"q2\",\"options\":{\"empty_room_timeout_ns\":1800000000000}}", 201);
    g_assert_cmpint(timeout_ns(d), ==, 1800 * G_GINT64_CONSTANT(1000000000));
    char *q2 = g_strdup(str_of(d, "room_secret"));
    json_decref(d);
    g_assert_cmpuint(tsr_counter_value(tsr_metrics_counter("tessera_inlive_clamped_total",
                                                           "limit=\"empty_room_timeout\"", "x")),
                     ==, clamped + 1);

    /* max_rooms: the fourth room is refused and nothing is made; ending one frees a place */
    char *q3 = create_room("{\"id\":\"q3\"}");
    uint64_t too_many = errors_counted("too_many_rooms");
    fails("POST", ROOMS "create", "{\"id\":\"q4\"}", 503, "too_many_rooms");
    fails("POST", ROOMS "create", "{}", 503, "too_many_rooms");
    g_assert_cmpuint(errors_counted("too_many_rooms"), ==, too_many + 2);
    fails("GET", ROOMS "q4", NULL, 404, "room_not_found");
    update_held();
    g_assert_cmpuint(held.rooms, ==, 3);
    end_room("q3", q3);
    end_room("q4", create_room("{\"id\":\"q4\"}"));
    end_room("q1", q1);
    end_room("q2", q2);
}

/* Issue 17: what a room's metadata holds is charged (key + compact JSON + 64 per
 * key) and capped at 16 KiB (the default); a setmeta past it changes nothing. */
static void test_metadata_quota(void)
{
    char *q1 = create_room("{\"id\":\"q1\"}"), *q2 = create_room("{\"id\":\"q2\"}");
    GString *v10k = g_string_new(NULL);
    g_string_append_c(v10k, '"');
    for (int i = 0; i < 10000; i++)
        g_string_append_c(v10k, 'x');
    g_string_append_c(v10k, '"');
    ok_void_as(q1, "POST", ROOMS "q1/setmeta", P("{\"a\":%s}", v10k->str));
    update_held();
    g_assert_cmpuint(held.meta_bytes, ==, 1 + 10002 + 64);
    uint64_t too_large = errors_counted("metadata_too_large");
    fails_as(q1, "POST", ROOMS "q1/setmeta", P("{\"b\":%s}", v10k->str), 413, "metadata_too_large");
    /* all keys or none: "c" alone would fit, with "d" it does not */
    fails_as(q1, "POST", ROOMS "q1/setmeta", P("{\"c\":1,\"d\":%s}", v10k->str), 413,
             "metadata_too_large");
    g_assert_cmpuint(errors_counted("metadata_too_large"), ==, too_large + 2);
    fails("GET", ROOMS "q1/getmeta/b", NULL, 404, "meta_not_found");
    fails("GET", ROOMS "q1/getmeta/c", NULL, 404, "meta_not_found");
    update_held();
    g_assert_cmpuint(held.meta_bytes, ==, 1 + 10002 + 64);
    /* replacing a value is charged the difference; other rooms have their own cap */
    ok_void_as(q1, "POST", ROOMS "q1/setmeta", P("{\"a\":[],\"b\":%s}", v10k->str));
    ok_void_as(q2, "POST", ROOMS "q2/setmeta", P("{\"a\":%s}", v10k->str));
    update_held();
    g_assert_cmpuint(held.meta_bytes, ==, (1 + 2 + 64) + 2 * (1 + 10002 + 64));
    ok_void_as(q1, "DELETE", ROOMS "q1/deletemeta/b", NULL);
    update_held();
    g_assert_cmpuint(held.meta_bytes, ==, (1 + 2 + 64) + (1 + 10002 + 64));
    /* a room's end gives its metadata back */
    end_room("q2", q2);
    update_held();
    g_assert_cmpuint(held.meta_bytes, ==, 1 + 2 + 64);
    g_string_free(v10k, TRUE);
    end_room("q1", q1);
    update_held();
    g_assert_cmpuint(held.rooms, ==, 0);
    g_assert_cmpuint(held.meta_bytes, ==, 0);
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
    char *secret = create_room("{\"id\":\"cap\"}");
    char *c[3];
    for (int i = 0; i < 3; i++)
        c[i] = register_client("cap", P("{\"uid\":\"c%d\"}", i));
    /* a bad offer is the core's bad_sdp; the client stays and may try again */
    char *body = offer_body("v=0\r\nBADSDP\r\n", "offer");
    fails("PUT", P(ROOMS "cap/negotiate/%s", c[0]), body, 400, "bad_sdp");
    free(body);
    g_free(negotiate("cap", c[0], chrome_offer, 200));
    g_free(negotiate("cap", c[1], chrome_offer, 200));
    /* the server carries two participants with media: the third is refused for
     * capacity with Retry-After, and nothing else changes */
    body = offer_body(chrome_offer, "offer");
    struct front_reply r = call("PUT", P(ROOMS "cap/negotiate/%s", c[2]), body);
    g_assert_cmpuint(r.status, ==, 503);
    g_assert_cmpstr(front_reply_str(&r, "error"), ==, "capacity");
    g_assert_cmpstr(r.retry_after, ==, "10");
    front_reply_clear(&r);
    free(body);
    g_assert_cmpuint(participants(), ==, 2);

    /* the core removes c0's participant (media failed): the client goes with it */
    struct front_sse s;
    front_sse_open(&fs, &s, P(ROOMS "cap/events/%s", c[0]));
    front_server_run(&fs, find_first, "cap");
    kick_id = first_participant_id;
    front_server_run(&fs, kick, NULL);
    front_sse_expect(&s, "left", "\"reason\":\"media_failed\"");
    g_assert_null(front_sse_next(&s, "never", NULL));
    front_sse_close(&s);
    fails("GET", P(ROOMS "cap/client/%s", c[0]), NULL, 404, "client_not_found");
    g_assert_cmpuint(participants(), ==, 1);
    g_free(first_participant_id);
    for (int i = 0; i < 3; i++)
        g_free(c[i]);
    end_room("cap", secret);
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
                     "{\"alias\":\"k1\"},{\"alias\":\"k2\"},{\"alias\":\"k3\"},"
                     "{\"alias\":\"q1\"},{\"alias\":\"q2\"},{\"alias\":\"q3\"},"
                     "{\"alias\":\"q4\"},{\"alias\":\"inlive-a4a7402f6dab6b5af65813ca\"}]}";
    /* the front's settings: built-in defaults, a 180 s room timeout, three rooms */
    static struct tsr_config cfg;
    tsr_config_defaults(&cfg);
    cfg.empty_timeout_s = 180;
    cfg.inlive_max_rooms = 3;
    fs.cfg = &cfg;
    fs.fronts[fs.n_fronts++] = &tsr_inlive_front;
    front_server_start(&fs);
    g_test_add_func("/inlive_api/rooms", test_rooms);
    g_test_add_func("/inlive_api/bad_requests", test_bad_requests);
    g_test_add_func("/inlive_api/alias_rule", test_alias_rule);
    g_test_add_func("/inlive_api/clients_and_negotiation", test_clients_and_negotiation);
    g_test_add_func("/inlive_api/client_credentials", test_client_credentials);
    g_test_add_func("/inlive_api/room_credentials", test_room_credentials);
    g_test_add_func("/inlive_api/access_tokens", test_access_tokens);
    g_test_add_func("/inlive_api/room_quotas", test_room_quotas);
    g_test_add_func("/inlive_api/metadata_quota", test_metadata_quota);
    g_test_add_func("/inlive_api/refusals_and_removal", test_refusals_and_removal);
    int rc = g_test_run();
    front_server_stop(&fs);
    g_free(chrome_offer);
    tsr_metrics_reset();
    return rc;
}
