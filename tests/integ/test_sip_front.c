/* The SIP front on a real UDP socket: what a SIP endpoint sends, byte for byte, and
 * what comes back. A server thread runs a conference registry with a fake media
 * layer (attach answers a canned SDP, or refuses an offer marked "nocodec") and the
 * SIP front on 127.0.0.1; the test thread is the caller. */
#include <tessera/conference.h>
#include <tessera/err.h>
#include <tessera/sip_front.h>

#include <gio/gio.h>
#include <glib.h>
#include <string.h>

#define FAKE_ANSWER                                                                                \
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"                    \
    "m=audio 40000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n"

struct server {
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    struct tsr_conference_registry *reg;
    struct tsr_sip_front *sip;
    uint16_t port;
    GMutex lock;
    GCond cond;
    bool ready;
    int start_rc;
};

struct pending_attach {
    struct tsr_conference_call *call;
    bool refuse;
};

static gboolean finish_attach(gpointer data)
{
    struct pending_attach *a = data;
    if (a->refuse)
        tsr_conference_call_done(a->call, TSR_ERR_UNSUPPORTED, NULL,
                                 g_strdup("no common audio codec"));
    else
        tsr_conference_call_done(a->call, 0, g_strdup(FAKE_ANSWER), NULL);
    g_free(a);
    return G_SOURCE_REMOVE;
}

static void fake_attach(void *user, struct tsr_participant *p, const char *offer,
                        struct tsr_conference_call *call)
{
    (void)user, (void)p;
    struct pending_attach *a = g_new0(struct pending_attach, 1);
    a->call = call;
    a->refuse = strstr(offer, "nocodec") != NULL;
    GSource *idle = g_idle_source_new(); /* never from inside the op */
    g_source_set_callback(idle, finish_attach, a, NULL);
    g_source_attach(idle, g_main_context_get_thread_default());
    g_source_unref(idle);
}

static void fake_detach(void *user, struct tsr_participant *p)
{
    (void)user, (void)p;
}

static gint keyframe_requests; /* request_keyframe calls (SIP INFO picture_fast_update) */

static void fake_keyframe(void *user, struct tsr_participant *p)
{
    (void)user, (void)p;
    g_atomic_int_inc(&keyframe_requests);
}

static const struct tsr_conference_media_ops fake_media = {
    .attach = fake_attach, .detach = fake_detach, .request_keyframe = fake_keyframe};

static gpointer server_main(gpointer data)
{
    struct server *s = data;
    g_main_context_push_thread_default(s->ctx);
    struct tsr_conference_registry_opts opts = {.allow_adhoc = false,
                                                .token_ttl_s = 60,
                                                .default_max_participants = 10,
                                                .media = &fake_media,
                                                .context = s->ctx};
    g_assert_cmpint(tsr_conference_registry_new(&s->reg, &opts), ==, 0);
    const char *defs = "{\"conferences\":[{\"alias\":\"room\"},"
                       "{\"alias\":\"pin\",\"host_pin\":\"1234\",\"guest_pin\":\"5678\"},"
                       "{\"alias\":\"small\",\"max_participants\":1}]}";
    char *err = NULL;
    g_assert_cmpint(tsr_conference_registry_load_json(s->reg, defs, strlen(defs), "t", &err), ==,
                    0);
    int rc = TSR_ERR_IO;
    for (int i = 0; i < 20 && rc == TSR_ERR_IO; i++) {
        s->port = (uint16_t)g_random_int_range(20000, 60000);
        struct tsr_sip_front_options o = {
            .host = "127.0.0.1", .port = s->port, .transports = "udp"};
        rc = tsr_sip_front_new(&s->sip, s->reg, &o);
    }
    g_mutex_lock(&s->lock);
    s->start_rc = rc;
    s->ready = true;
    g_cond_broadcast(&s->cond);
    g_mutex_unlock(&s->lock);
    if (rc == 0)
        g_main_loop_run(s->loop);
    tsr_sip_front_free(&s->sip);
    tsr_conference_registry_free(&s->reg);
    while (g_main_context_iteration(s->ctx, FALSE))
        ;
    g_main_context_pop_thread_default(s->ctx);
    return NULL;
}

static void server_start(struct server *s)
{
    memset(s, 0, sizeof *s);
    s->ctx = g_main_context_new();
    s->loop = g_main_loop_new(s->ctx, FALSE);
    g_mutex_init(&s->lock);
    g_cond_init(&s->cond);
    s->thread = g_thread_new("sip-server", server_main, s);
    g_mutex_lock(&s->lock);
    while (!s->ready)
        g_cond_wait(&s->cond, &s->lock);
    g_mutex_unlock(&s->lock);
    g_assert_cmpint(s->start_rc, ==, 0);
}

static void server_stop(struct server *s)
{
    g_main_loop_quit(s->loop);
    g_thread_join(s->thread);
    g_main_loop_unref(s->loop);
    g_main_context_unref(s->ctx);
    g_mutex_clear(&s->lock);
    g_cond_clear(&s->cond);
}

/* Runs fn on the server thread and waits for it (test-side only). */
struct on_server {
    struct server *s;
    size_t result;
    bool done;
};

static gboolean count_participants(gpointer data)
{
    struct on_server *o = data;
    g_mutex_lock(&o->s->lock);
    o->result = tsr_conference_registry_n_participants(o->s->reg);
    o->done = true;
    g_cond_broadcast(&o->s->cond);
    g_mutex_unlock(&o->s->lock);
    return G_SOURCE_REMOVE;
}

static size_t n_participants(struct server *s)
{
    struct on_server o = {.s = s};
    g_main_context_invoke(s->ctx, count_participants, &o);
    g_mutex_lock(&s->lock);
    while (!o.done)
        g_cond_wait(&s->cond, &s->lock);
    g_mutex_unlock(&s->lock);
    return o.result;
}

/* --- the caller ------------------------------------------------------------------- */

struct caller {
    GSocket *sock;
    uint16_t port;
    GSocketAddress *server;
    unsigned cseq;
};

static void caller_open(struct caller *c, uint16_t server_port)
{
    memset(c, 0, sizeof *c);
    c->sock =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *any = g_inet_socket_address_new(lo, 0);
    g_assert_true(g_socket_bind(c->sock, any, FALSE, NULL));
    GSocketAddress *bound = g_socket_get_local_address(c->sock, NULL);
    c->port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    c->server = g_inet_socket_address_new(lo, server_port);
    g_socket_set_timeout(c->sock, 10);
    g_object_unref(bound);
    g_object_unref(any);
    g_object_unref(lo);
}

static void caller_close(struct caller *c)
{
    g_object_unref(c->server);
    g_object_unref(c->sock);
}

static void send_typed(struct caller *c, const char *method, const char *user, const char *call_id,
                       const char *to_tag, const char *type, const char *body);

/* Sends one request; tag "" means none on To. */
static void send_request(struct caller *c, const char *method, const char *user,
                         const char *call_id, const char *to_tag, const char *body)
{
    send_typed(c, method, user, call_id, to_tag, "application/sdp", body);
}

/* The same with a body of `type`. */
static void send_typed(struct caller *c, const char *method, const char *user, const char *call_id,
                       const char *to_tag, const char *type, const char *body)
{
    c->cseq++;
    unsigned cseq = strcmp(method, "ACK") == 0 ? c->cseq - 1 : c->cseq;
    char *msg = g_strdup_printf("%s sip:%s@127.0.0.1 SIP/2.0\r\n"
                                "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bK%u-%u;rport\r\n"
                                "Max-Forwards: 70\r\n"
                                "From: \"Room 1\" <sip:room1@127.0.0.1>;tag=caller1\r\n"
                                "To: <sip:%s@127.0.0.1>%s%s\r\n"
                                "Call-ID: %s\r\n"
                                "CSeq: %u %s\r\n"
                                "Contact: <sip:room1@127.0.0.1:%u>\r\n"
                                "%s%s%s"
                                "Content-Length: %zu\r\n\r\n%s",
                                method, user, c->port, c->port, cseq, user,
                                to_tag[0] ? ";tag=" : "", to_tag, call_id, cseq, method, c->port,
                                body ? "Content-Type: " : "", body ? type : "", body ? "\r\n" : "",
                                body ? strlen(body) : 0, body ? body : "");
    g_assert_cmpint(g_socket_send_to(c->sock, c->server, msg, strlen(msg), NULL, NULL), ==,
                    (gssize)strlen(msg));
    g_free(msg);
}

/* The next response or request that is not a provisional response. */
static char *receive_final(struct caller *c)
{
    for (;;) {
        char buf[8192];
        GError *err = NULL;
        gssize n = g_socket_receive(c->sock, buf, sizeof buf - 1, NULL, &err);
        if (n < 0)
            g_error("no SIP message: %s", err->message);
        buf[n] = '\0';
        if (!g_str_has_prefix(buf, "SIP/2.0 1"))
            return g_strdup(buf);
    }
}

/* The value of header `name` (first line), or NULL. */
static char *header(const char *msg, const char *name)
{
    char *needle = g_strdup_printf("\r\n%s:", name);
    const char *p = strstr(msg, needle);
    g_free(needle);
    if (!p)
        return NULL;
    p += strlen(name) + 3;
    while (*p == ' ')
        p++;
    return g_strndup(p, strcspn(p, "\r\n"));
}

static char *to_tag(const char *msg)
{
    char *to = header(msg, "To");
    const char *t = to ? strstr(to, ";tag=") : NULL;
    char *tag = g_strdup(t ? t + 5 : "");
    g_free(to);
    return tag;
}

static char *st_replace(const char *text, const char *from, const char *to)
{
    gchar **parts = g_strsplit(text, from, -1);
    char *out = g_strjoinv(to, parts);
    g_strfreev(parts);
    return out;
}

static const char *offer_sdp =
    "v=0\r\no=room1 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n";

static void expect_refusal(struct caller *c, const char *user, const char *body,
                           const char *status_line, const char *reason)
{
    char *call_id = g_strdup_printf("refuse-%s-%u@t", user, c->cseq);
    send_request(c, "INVITE", user, call_id, "", body);
    char *resp = receive_final(c);
    if (!g_str_has_prefix(resp, status_line))
        g_error("expected %s, got:\n%s", status_line, resp);
    char *r = header(resp, "Reason");
    g_assert_cmpstr(r, ==, reason);
    char *tag = to_tag(resp);
    send_request(c, "ACK", user, call_id, tag, NULL);
    g_free(tag);
    g_free(r);
    g_free(resp);
    g_free(call_id);
}

static void test_options_and_refusals(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);

    send_request(&c, "OPTIONS", "room", "options-1@t", "", NULL);
    char *resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    char *allow = header(resp, "Allow");
    g_assert_nonnull(strstr(allow, "INVITE"));
    g_assert_nonnull(strstr(allow, "BYE"));
    char *cseq = header(resp, "CSeq");
    g_assert_cmpstr(cseq, ==, "1 OPTIONS");
    g_free(cseq);
    g_free(allow);
    g_free(resp);

    expect_refusal(&c, "nosuch", offer_sdp, "SIP/2.0 404 Not Found\r\n",
                   "SIP;cause=404;text=\"there is no conference 'nosuch'\"");
    expect_refusal(&c, ".dot", offer_sdp, "SIP/2.0 400 Bad Request\r\n",
                   "SIP;cause=400;text=\"" TSR_CONFERENCE_ALIAS_RULE "\"");
    expect_refusal(&c, "room", NULL, "SIP/2.0 488 Not Acceptable Here\r\n",
                   "SIP;cause=488;text=\"an INVITE without an SDP offer is not supported yet: "
                   "send an offer\"");
    char *nocodec = g_strconcat(offer_sdp, "a=nocodec\r\n", NULL);
    expect_refusal(&c, "room", nocodec, "SIP/2.0 488 Not Acceptable Here\r\n",
                   "SIP;cause=488;text=\"media: no common audio codec\"");
    g_free(nocodec);
    g_assert_cmpuint(n_participants(&s), ==, 0);
    caller_close(&c);
    server_stop(&s);
}

/* INVITE → 200 with the media layer's answer, ACK, in the roster; a second caller
 * to a one-seat room is busy (486); BYE → 200 and the participant is gone. */
static void test_call_and_bye(void)
{
    struct server s;
    server_start(&s);
    struct caller c, d;
    caller_open(&c, s.port);
    caller_open(&d, s.port);

    send_request(&c, "INVITE", "small", "call-1@t", "", offer_sdp);
    char *resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    char *ctype = header(resp, "Content-Type");
    g_assert_cmpstr(ctype, ==, "application/sdp");
    g_assert_true(g_str_has_suffix(resp, "\r\n\r\n" FAKE_ANSWER));
    char *tag = to_tag(resp);
    g_assert_cmpstr(tag, !=, "");
    send_request(&c, "ACK", "small", "call-1@t", tag, NULL);
    g_assert_cmpuint(n_participants(&s), ==, 1);

    expect_refusal(&d, "small", offer_sdp, "SIP/2.0 486 Busy Here\r\n",
                   "SIP;cause=486;text=\"the conference is full (1 participants)\"");

    /* RFC 5168 picture_fast_update by INFO: answered 200, a keyframe asked for as
     * a PLI would; another INFO package is answered 200 and asks for nothing. */
    g_atomic_int_set(&keyframe_requests, 0);
    send_typed(&c, "INFO", "small", "call-1@t", tag, "application/media_control+xml",
               "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n<media_control><vc_primitive>"
               "<to_encoder><picture_fast_update/></to_encoder></vc_primitive></media_control>");
    char *info = receive_final(&c);
    g_assert_true(g_str_has_prefix(info, "SIP/2.0 200 OK\r\n"));
    g_free(info);
    send_typed(&c, "INFO", "small", "call-1@t", tag, "application/x-unknown", "hello");
    info = receive_final(&c);
    g_assert_true(g_str_has_prefix(info, "SIP/2.0 200 OK\r\n"));
    g_free(info);
    g_assert_cmpint(g_atomic_int_get(&keyframe_requests), ==, 1);

    send_request(&c, "BYE", "small", "call-1@t", tag, NULL);
    char *bye = receive_final(&c);
    g_assert_true(g_str_has_prefix(bye, "SIP/2.0 200 OK\r\n"));
    g_assert_cmpuint(n_participants(&s), ==, 0);
    g_free(bye);
    g_free(tag);
    g_free(ctype);
    g_free(resp);
    caller_close(&c);
    caller_close(&d);
    server_stop(&s);
}

static void respond_request(struct caller *c, const char *req, const char *status);

/* A 200 to a request the server sent (its Via, From, To, Call-ID and CSeq back). */
static void answer_request(struct caller *c, const char *req)
{
    respond_request(c, req, "200 OK");
}

static void respond_request(struct caller *c, const char *req, const char *status)
{
    char *via = header(req, "Via"), *from = header(req, "From"), *to = header(req, "To");
    char *cid = header(req, "Call-ID"), *cseq = header(req, "CSeq");
    char *msg = g_strdup_printf("SIP/2.0 %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\n"
                                "Call-ID: %s\r\nCSeq: %s\r\nContact: <sip:room1@127.0.0.1:%u>\r\n"
                                "Content-Length: 0\r\n\r\n",
                                status, via, from, to, cid, cseq, c->port);
    g_assert_cmpint(g_socket_send_to(c->sock, c->server, msg, strlen(msg), NULL, NULL), ==,
                    (gssize)strlen(msg));
    g_free(msg);
    g_free(via), g_free(from), g_free(to), g_free(cid), g_free(cseq);
}

/* Keys by SIP INFO application/dtmf-relay, each answered 200. */
static void send_keys(struct caller *c, const char *call_id, const char *tag, const char *keys)
{
    for (const char *k = keys; *k; k++) {
        char *body = g_strdup_printf("Signal=%c\r\nDuration=160\r\n", *k);
        send_typed(c, "INFO", "pin", call_id, tag, "application/dtmf-relay", body);
        char *resp = receive_final(c);
        if (!g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"))
            g_error("INFO not answered 200:\n%s", resp);
        g_free(resp);
        g_free(body);
    }
}

/* INVITE to a PIN conference → 200 with the lobby (audio receive-only with
 * telephone-event); a wrong PIN by INFO leaves it out; the guest PIN joins and the
 * media answer comes in a re-INVITE under the lobby's o= session, version 2. */
static void test_pin_by_info(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);
    char *offer = g_strconcat(offer_sdp, "a=rtpmap:101 telephone-event/48000\r\n", NULL);
    char *with_te = g_strdup(offer);
    g_free(offer);
    offer = st_replace(with_te, "RTP/AVP 96\r\n", "RTP/AVP 96 101\r\n");
    send_request(&c, "INVITE", "pin", "pin-1@t", "", offer);
    char *resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    g_assert_nonnull(strstr(resp, "a=rtpmap:101 telephone-event/48000\r\n"));
    g_assert_nonnull(strstr(resp, "a=recvonly\r\n"));
    char *tag = to_tag(resp);
    send_request(&c, "ACK", "pin", "pin-1@t", tag, NULL);
    send_keys(&c, "pin-1@t", tag, "99#");
    g_assert_cmpuint(n_participants(&s), ==, 0);
    send_keys(&c, "pin-1@t", tag, "5678#");
    char *reinvite = receive_final(&c);
    g_assert_true(g_str_has_prefix(reinvite, "INVITE sip:room1@127.0.0.1"));
    g_assert_nonnull(strstr(reinvite, "\r\no=tessera "));
    g_assert_nonnull(strstr(reinvite, " 2 IN IP4 127.0.0.1\r\n"));
    g_assert_nonnull(strstr(reinvite, "m=audio 40000 RTP/AVP 96\r\n"));
    answer_request(&c, reinvite);
    g_assert_cmpuint(n_participants(&s), ==, 1);
    send_request(&c, "BYE", "pin", "pin-1@t", tag, NULL);
    g_free(reinvite);
    g_free(tag);
    g_free(resp);
    g_free(with_te);
    g_free(offer);
    caller_close(&c);
    server_stop(&s);
}

/* Three wrong PINs: the server hangs up with a BYE that says why. */
static void test_pin_three_wrong(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);
    send_request(&c, "INVITE", "pin", "pin-2@t", "", offer_sdp);
    char *resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    char *tag = to_tag(resp);
    send_request(&c, "ACK", "pin", "pin-2@t", tag, NULL);
    send_keys(&c, "pin-2@t", tag, "1#2#3#");
    char *bye = receive_final(&c);
    g_assert_true(g_str_has_prefix(bye, "BYE sip:room1@127.0.0.1"));
    char *reason = header(bye, "Reason");
    g_assert_cmpstr(reason, ==, "SIP;cause=403;text=\"wrong PIN\"");
    answer_request(&c, bye);
    g_assert_cmpuint(n_participants(&s), ==, 0);
    g_free(reason);
    g_free(bye);
    g_free(tag);
    g_free(resp);
    caller_close(&c);
    server_stop(&s);
}

/* The caller refuses the re-INVITE that carries the join's answer: the
 * participant leaves and the server hangs up saying why. */
static void test_pin_reinvite_refused(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);
    send_request(&c, "INVITE", "pin", "pin-3@t", "", offer_sdp);
    char *resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    char *tag = to_tag(resp);
    send_request(&c, "ACK", "pin", "pin-3@t", tag, NULL);
    send_keys(&c, "pin-3@t", tag, "1234#");
    char *reinvite = receive_final(&c);
    g_assert_true(g_str_has_prefix(reinvite, "INVITE "));
    g_assert_cmpuint(n_participants(&s), ==, 1);
    respond_request(&c, reinvite, "488 Not Acceptable Here");
    char *bye = receive_final(&c);
    while (g_str_has_prefix(bye, "ACK ")) { /* the server's ACK of our 488 */
        g_free(bye);
        bye = receive_final(&c);
    }
    g_assert_true(g_str_has_prefix(bye, "BYE "));
    char *reason = header(bye, "Reason");
    g_assert_cmpstr(reason, ==,
                    "SIP;cause=488;text=\"the caller refused the conference's media answer\"");
    answer_request(&c, bye);
    g_assert_cmpuint(n_participants(&s), ==, 0);
    g_free(reason);
    g_free(bye);
    g_free(reinvite);
    g_free(tag);
    g_free(resp);
    caller_close(&c);
    server_stop(&s);
}

/* --- dial-out: the server calls the test's socket ------------------------------------ */

/* The callee's offer in its 200 (the INVITE had none). */
static const char *callee_offer =
    "v=0\r\no=callee 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 4100 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n";

/* One job on the server thread: a host of "room" (joined roster-only on first use)
 * dials uri; or, with uri NULL, the participant `id` is looked up. */
struct dial_job {
    struct server *s;
    const char *uri;
    bool hangup; /* hang up call `id` instead */
    int rc;
    char id[37];
    char *err;
    bool found, guest;
    char name[64];
    bool done;
};

static struct tsr_participant *dial_host; /* the server thread's; lives until the registry goes */

static gboolean run_dial_job(gpointer data)
{
    struct dial_job *j = data;
    if (j->hangup) {
        j->rc = tsr_conference_dial_hangup(dial_host, j->id);
    } else if (j->uri) {
        if (!dial_host) {
            struct tsr_conference_join_request req = {.alias = "room", .display_name = "Host"};
            enum tsr_conference_refusal why;
            char *err = NULL;
            g_assert_cmpint(tsr_conference_join_roster(j->s->reg, &req, &dial_host, &why, &err), ==,
                            0);
        }
        j->rc =
            tsr_conference_dial(dial_host, j->uri, "Lobby Phone", TSR_ROLE_GUEST, j->id, &j->err);
    } else {
        struct tsr_participant *p = tsr_conference_registry_find_participant(j->s->reg, j->id);
        j->found = p != NULL;
        if (p) {
            j->guest = tsr_participant_role(p) == TSR_ROLE_GUEST;
            g_strlcpy(j->name, tsr_participant_display_name(p), sizeof j->name);
        }
    }
    g_mutex_lock(&j->s->lock);
    j->done = true;
    g_cond_broadcast(&j->s->cond);
    g_mutex_unlock(&j->s->lock);
    return G_SOURCE_REMOVE;
}

static void on_server_thread(struct dial_job *j)
{
    g_main_context_invoke(j->s->ctx, run_dial_job, j);
    g_mutex_lock(&j->s->lock);
    while (!j->done)
        g_cond_wait(&j->s->cond, &j->s->lock);
    g_mutex_unlock(&j->s->lock);
}

/* The callee's final answer to the server's INVITE: status, a To tag, Contact, body. */
static void respond_invite(struct caller *c, const char *req, const char *status, const char *body)
{
    char *via = header(req, "Via"), *from = header(req, "From"), *to = header(req, "To");
    char *cid = header(req, "Call-ID"), *cseq = header(req, "CSeq");
    char *msg = g_strdup_printf("SIP/2.0 %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s;tag=callee1\r\n"
                                "Call-ID: %s\r\nCSeq: %s\r\nContact: <sip:callee@127.0.0.1:%u>\r\n"
                                "%sContent-Length: %zu\r\n\r\n%s",
                                status, via, from, to, cid, cseq, c->port,
                                body ? "Content-Type: application/sdp\r\n" : "",
                                body ? strlen(body) : 0, body ? body : "");
    g_assert_cmpint(g_socket_send_to(c->sock, c->server, msg, strlen(msg), NULL, NULL), ==,
                    (gssize)strlen(msg));
    g_free(msg);
    g_free(via), g_free(from), g_free(to), g_free(cid), g_free(cseq);
}

/* The server dials the test's socket: an INVITE without a body; our 200 carries the
 * offer, the server's ACK the answer; the callee is a participant under the id the
 * dial gave, with its name and role; its BYE takes it out. */
static void test_dial_out(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);
    char *uri = g_strdup_printf("sip:callee@127.0.0.1:%u", c.port);
    struct dial_job j = {.s = &s, .uri = uri};
    on_server_thread(&j);
    g_assert_cmpint(j.rc, ==, 0);

    char *invite = receive_final(&c);
    g_assert_true(g_str_has_prefix(invite, "INVITE sip:callee@127.0.0.1:"));
    char *len = header(invite, "Content-Length"), *type = header(invite, "Content-Type");
    g_assert_cmpstr(len, ==, "0"); /* a delayed offer */
    g_assert_null(type);
    char *from = header(invite, "From");
    g_assert_nonnull(strstr(from, "<sip:room@127.0.0.1>"));
    respond_invite(&c, invite, "200 OK", callee_offer);

    char *ack = receive_final(&c);
    g_assert_true(g_str_has_prefix(ack, "ACK "));
    char *ack_type = header(ack, "Content-Type");
    g_assert_cmpstr(ack_type, ==, "application/sdp");
    g_assert_true(g_str_has_suffix(ack, "\r\n\r\n" FAKE_ANSWER));
    g_assert_cmpuint(n_participants(&s), ==, 2); /* the host and the callee */
    struct dial_job look = {.s = &s};
    memcpy(look.id, j.id, sizeof look.id);
    on_server_thread(&look);
    g_assert_true(look.found);
    g_assert_true(look.guest);
    g_assert_cmpstr(look.name, ==, "Lobby Phone");

    char *bye_req = g_strdup_printf("BYE sip:room@127.0.0.1:%u SIP/2.0\r\n", s.port);
    char *cid = header(invite, "Call-ID"), *ftag = strstr(from, ";tag=");
    char *msg = g_strdup_printf("%sVia: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKbye1;rport\r\n"
                                "Max-Forwards: 70\r\nFrom: <sip:callee@127.0.0.1>;tag=callee1\r\n"
                                "To: <sip:room@127.0.0.1>%s\r\nCall-ID: %s\r\nCSeq: 1 BYE\r\n"
                                "Content-Length: 0\r\n\r\n",
                                bye_req, c.port, ftag ? ftag : "", cid);
    g_assert_cmpint(g_socket_send_to(c.sock, c.server, msg, strlen(msg), NULL, NULL), ==,
                    (gssize)strlen(msg));
    char *ok = receive_final(&c);
    g_assert_true(g_str_has_prefix(ok, "SIP/2.0 200 OK\r\n"));
    g_assert_cmpuint(n_participants(&s), ==, 1);

    g_free(ok), g_free(msg), g_free(cid), g_free(bye_req), g_free(ack_type), g_free(ack);
    g_free(from), g_free(len), g_free(type), g_free(invite), g_free(uri);
    caller_close(&c);
    server_stop(&s);
    dial_host = NULL;
}

/* A URI the front cannot call is refused at once; a 200 without an offer is ACKed
 * and hung up with the reason; nobody joins. */
static void test_dial_out_refusals(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);
    static const char *const bad[] = {
        "sip:host.example", "sip:a@b@c",     "sip:a@host;transport=tcp",
        "sip:a@host:0",     "sip:a:pw@host", "sips:a@host"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct dial_job j = {.s = &s, .uri = bad[i]};
        on_server_thread(&j);
        g_assert_cmpint(j.rc, ==, TSR_ERR_INVALID);
        g_assert_nonnull(j.err);
        g_free(j.err);
    }
    char *uri = g_strdup_printf("sip:callee@127.0.0.1:%u", c.port);
    struct dial_job j = {.s = &s, .uri = uri};
    on_server_thread(&j);
    g_assert_cmpint(j.rc, ==, 0);
    char *invite = receive_final(&c);
    respond_invite(&c, invite, "200 OK", NULL);
    char *ack = receive_final(&c);
    g_assert_true(g_str_has_prefix(ack, "ACK "));
    char *bye = receive_final(&c);
    g_assert_true(g_str_has_prefix(bye, "BYE "));
    char *reason = header(bye, "Reason");
    g_assert_nonnull(strstr(reason, "SIP;cause=488;"));
    answer_request(&c, bye);
    g_assert_cmpuint(n_participants(&s), ==, 1); /* the host only */
    g_free(reason), g_free(bye), g_free(ack), g_free(invite), g_free(uri);
    caller_close(&c);
    server_stop(&s);
    dial_host = NULL;
}

/* The host hangs up while the callee rings: CANCEL on the wire, the callee's 487
 * is ACKed, nobody joins, and the call is gone (a second hang-up finds nothing). */
static void test_dial_out_cancel(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);
    char *uri = g_strdup_printf("sip:callee@127.0.0.1:%u", c.port);
    struct dial_job j = {.s = &s, .uri = uri};
    on_server_thread(&j);
    g_assert_cmpint(j.rc, ==, 0);
    char *invite = receive_final(&c);
    respond_request(&c, invite, "180 Ringing");
    struct dial_job h = {.s = &s, .hangup = true};
    memcpy(h.id, j.id, sizeof h.id);
    on_server_thread(&h);
    g_assert_cmpint(h.rc, ==, 0);
    char *cancel = receive_final(&c);
    g_assert_true(g_str_has_prefix(cancel, "CANCEL sip:callee@127.0.0.1:"));
    answer_request(&c, cancel);
    respond_invite(&c, invite, "487 Request Terminated", NULL);
    char *ack = receive_final(&c);
    g_assert_true(g_str_has_prefix(ack, "ACK "));
    g_assert_cmpuint(n_participants(&s), ==, 1); /* the host only */
    struct dial_job again = {.s = &s, .hangup = true};
    memcpy(again.id, j.id, sizeof again.id);
    on_server_thread(&again);
    g_assert_cmpint(again.rc, ==, TSR_ERR_NOT_FOUND);
    g_free(ack), g_free(cancel), g_free(invite), g_free(uri);
    caller_close(&c);
    server_stop(&s);
    dial_host = NULL;
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sip_front/options_and_refusals", test_options_and_refusals);
    g_test_add_func("/sip_front/call_and_bye", test_call_and_bye);
    g_test_add_func("/sip_front/pin_by_info", test_pin_by_info);
    g_test_add_func("/sip_front/pin_three_wrong", test_pin_three_wrong);
    g_test_add_func("/sip_front/pin_reinvite_refused", test_pin_reinvite_refused);
    g_test_add_func("/sip_front/dial_out", test_dial_out);
    g_test_add_func("/sip_front/dial_out_refusals", test_dial_out_refusals);
    g_test_add_func("/sip_front/dial_out_cancel", test_dial_out_cancel);
    return g_test_run();
}
