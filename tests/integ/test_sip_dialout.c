/* SIP dial-out on a real UDP socket: the server calls the test's socket (the
 * harness is sip_wire.c): the delayed offer (INVITE without a body, the offer in
 * our 200, the answer in the server's ACK), refused URIs, a 200 without an offer,
 * a hang-up while it rings. */
#include "sip_wire.h"

#include <tessera/err.h>

#include <string.h>

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
    g_test_add_func("/sip_dialout/dial_out", test_dial_out);
    g_test_add_func("/sip_dialout/dial_out_refusals", test_dial_out_refusals);
    g_test_add_func("/sip_dialout/dial_out_cancel", test_dial_out_cancel);
    return g_test_run();
}
