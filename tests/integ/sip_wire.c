/* The SIP front's wire tests' harness (tests/integ/test_sip_*.c): a server thread
 * runs a conference registry with a fake media layer (a named test double: attach
 * answers a canned SDP or refuses an offer marked "nocodec"; a re-offer gets
 * another canned SDP) and the SIP front on 127.0.0.1; the test thread is a SIP
 * endpoint on a UDP socket of its own, writing and reading messages byte for byte. */
#include "sip_wire.h"

#include <tessera/err.h>
#include <tessera/g711.h>
#include <tessera/g722.h>
#include <tessera/metrics.h>
#include <tessera/rtp_codec.h>
#include <tessera/video_decoder.h>

#include <libavutil/frame.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pending_attach {
    struct tsr_conference_call *call;
    bool refuse;
    bool reoffer;
};

static gboolean finish_attach(gpointer data)
{
    struct pending_attach *a = data;
    if (a->refuse)
        tsr_conference_call_done(a->call, TSR_ERR_UNSUPPORTED, NULL,
                                 g_strdup("no common audio codec"));
    else
        tsr_conference_call_done(a->call, 0, g_strdup(a->reoffer ? FAKE_REANSWER : FAKE_ANSWER),
                                 NULL);
    g_free(a);
    return G_SOURCE_REMOVE;
}

static void finish_later(struct tsr_conference_call *call, const char *offer, bool reoffer)
{
    struct pending_attach *a = g_new0(struct pending_attach, 1);
    a->call = call;
    a->refuse = strstr(offer, "nocodec") != NULL;
    a->reoffer = reoffer;
    GSource *idle = g_idle_source_new(); /* never from inside the op */
    g_source_set_callback(idle, finish_attach, a, NULL);
    g_source_attach(idle, g_main_context_get_thread_default());
    g_source_unref(idle);
}

static void fake_attach(void *user, struct tsr_participant *p, const char *offer,
                        struct tsr_conference_call *call)
{
    (void)user, (void)p;
    finish_later(call, offer, false);
}

static void fake_renegotiate(void *user, struct tsr_participant *p, const char *offer,
                             struct tsr_conference_call *call)
{
    (void)user, (void)p;
    finish_later(call, offer, true);
}

static gboolean finish_offer(gpointer data)
{
    tsr_conference_call_done(data, 0, g_strdup(FAKE_OFFER), NULL);
    return G_SOURCE_REMOVE;
}

static void fake_attach_offer(void *user, struct tsr_participant *p,
                              struct tsr_conference_call *call)
{
    (void)user, (void)p;
    GSource *idle = g_idle_source_new();
    g_source_set_callback(idle, finish_offer, call, NULL);
    g_source_attach(idle, g_main_context_get_thread_default());
    g_source_unref(idle);
}

/* The answers given to the fake's offers, in order, for the test thread. */
static GMutex answers_lock;
static GCond answers_cond;
static GQueue answers = G_QUEUE_INIT;

struct pending_answer {
    struct tsr_conference_call *call; /* NULL once its participant was detached */
    struct tsr_participant *p;
    bool refuse;
};

/* Answers not finished yet (server thread): a detach abandons them, as media must. */
static GSList *pending_answers;

static gboolean finish_answer(gpointer data)
{
    struct pending_answer *a = data;
    pending_answers = g_slist_remove(pending_answers, a);
    if (!a->call)
        ;
    else if (a->refuse)
        tsr_conference_call_done(a->call, TSR_ERR_UNSUPPORTED, NULL,
                                 g_strdup("the answer picks none of the codecs we offered"));
    else
        tsr_conference_call_done(a->call, 0, NULL, NULL);
    g_free(a);
    return G_SOURCE_REMOVE;
}

static void fake_apply_answer(void *user, struct tsr_participant *p, const char *answer,
                              struct tsr_conference_call *call)
{
    (void)user, (void)p;
    g_mutex_lock(&answers_lock);
    g_queue_push_tail(&answers, g_strdup(answer));
    g_cond_broadcast(&answers_cond);
    g_mutex_unlock(&answers_lock);
    struct pending_answer *a = g_new0(struct pending_answer, 1);
    a->call = call;
    a->p = p;
    pending_answers = g_slist_prepend(pending_answers, a);
    a->refuse = strstr(answer, "nocodec") != NULL;
    GSource *idle = g_idle_source_new();
    g_source_set_callback(idle, finish_answer, a, NULL);
    g_source_attach(idle, g_main_context_get_thread_default());
    g_source_unref(idle);
}

char *fake_next_answer(void)
{
    gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    g_mutex_lock(&answers_lock);
    while (g_queue_is_empty(&answers))
        if (!g_cond_wait_until(&answers_cond, &answers_lock, until))
            g_error("the fake media got no answer in 10 s");
    char *a = g_queue_pop_head(&answers);
    g_mutex_unlock(&answers_lock);
    return a;
}

static void fake_detach(void *user, struct tsr_participant *p)
{
    (void)user;
    for (GSList *l = pending_answers; l; l = l->next) {
        struct pending_answer *a = l->data;
        if (a->p == p)
            a->call = NULL;
    }
}

gint keyframe_requests; /* request_keyframe calls (SIP INFO picture_fast_update) */

static void fake_keyframe(void *user, struct tsr_participant *p)
{
    (void)user, (void)p;
    g_atomic_int_inc(&keyframe_requests);
}

const struct tsr_conference_media_ops fake_media = {.attach = fake_attach,
                                                    .detach = fake_detach,
                                                    .renegotiate = fake_renegotiate,
                                                    .attach_offer = fake_attach_offer,
                                                    .apply_send_answer = fake_apply_answer,
                                                    .request_keyframe = fake_keyframe};

unsigned session_expires_s; /* the next server's [sip] session_expires_s; 0: default */
enum tsr_sdp_offer_srtp server_offer_srtp;
struct tsr_srtp *caller_srtp;

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
        struct tsr_sip_front_options o = {.host = "127.0.0.1",
                                          .port = s->port,
                                          .transports = "udp",
                                          .session_expires_s = session_expires_s,
                                          .min_se_s = session_expires_s,
                                          .offer_srtp = server_offer_srtp};
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

void server_start(struct server *s)
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

void server_stop(struct server *s)
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

size_t n_participants(struct server *s)
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

void caller_open(struct caller *c, uint16_t server_port)
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

void caller_close(struct caller *c)
{
    g_object_unref(c->server);
    g_object_unref(c->sock);
}

void send_typed(struct caller *c, const char *method, const char *user, const char *call_id,
                const char *to_tag, const char *type, const char *body)
{
    send_full(c, method, user, call_id, to_tag, "", type, body);
}

/* Sends one request; tag "" means none on To. */
void send_request(struct caller *c, const char *method, const char *user, const char *call_id,
                  const char *to_tag, const char *body)
{
    send_typed(c, method, user, call_id, to_tag, "application/sdp", body);
}

/* The same with a body of `type` and `extra` header lines (each ending in CRLF). */
void send_full(struct caller *c, const char *method, const char *user, const char *call_id,
               const char *to_tag, const char *extra, const char *type, const char *body)
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
                                "%s%s%s%s"
                                "Content-Length: %zu\r\n\r\n%s",
                                method, user, c->port, c->port, cseq, user,
                                to_tag[0] ? ";tag=" : "", to_tag, call_id, cseq, method, c->port,
                                extra, body ? "Content-Type: " : "", body ? type : "",
                                body ? "\r\n" : "", body ? strlen(body) : 0, body ? body : "");
    g_assert_cmpint(g_socket_send_to(c->sock, c->server, msg, strlen(msg), NULL, NULL), ==,
                    (gssize)strlen(msg));
    g_free(msg);
}

/* The next response or request that is not a provisional response. */
char *receive_final(struct caller *c)
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
char *header(const char *msg, const char *name)
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

char *to_tag(const char *msg)
{
    char *to = header(msg, "To");
    const char *t = to ? strstr(to, ";tag=") : NULL;
    char *tag = g_strdup(t ? t + 5 : "");
    g_free(to);
    return tag;
}

char *st_replace(const char *text, const char *from, const char *to)
{
    gchar **parts = g_strsplit(text, from, -1);
    char *out = g_strjoinv(to, parts);
    g_strfreev(parts);
    return out;
}

const char *const offer_sdp =
    "v=0\r\no=room1 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n";

/* A 200 to a request the server sent (its Via, From, To, Call-ID and CSeq back). */
void answer_request(struct caller *c, const char *req)
{
    respond_request(c, req, "200 OK");
}

void respond_request(struct caller *c, const char *req, const char *status)
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

/* A response with an SDP body to a request the server sent (a re-INVITE's 200). */
void respond_request_sdp(struct caller *c, const char *req, const char *status, const char *sdp)
{
    char *via = header(req, "Via"), *from = header(req, "From"), *to = header(req, "To");
    char *cid = header(req, "Call-ID"), *cseq = header(req, "CSeq");
    char *msg = g_strdup_printf("SIP/2.0 %s\r\nVia: %s\r\nFrom: %s\r\nTo: %s\r\n"
                                "Call-ID: %s\r\nCSeq: %s\r\nContact: <sip:room1@127.0.0.1:%u>\r\n"
                                "Content-Type: application/sdp\r\nContent-Length: %zu\r\n\r\n%s",
                                status, via, from, to, cid, cseq, c->port, strlen(sdp), sdp);
    g_assert_cmpint(g_socket_send_to(c->sock, c->server, msg, strlen(msg), NULL, NULL), ==,
                    (gssize)strlen(msg));
    g_free(msg);
    g_free(via), g_free(from), g_free(to), g_free(cid), g_free(cseq);
}

/* --- media on the wire: counters, keys, the lobby's prompt and picture ------------ */

uint64_t sip_errors(const char *code)
{
    char *labels = g_strdup_printf("code=\"%s\"", code);
    uint64_t v = tsr_counter_value(
        tsr_metrics_counter("tessera_sip_errors_total", labels, "SIP requests refused, by code."));
    g_free(labels);
    return v;
}

/* The BYE the server sends when the ACK's answer fails: its Reason, answered 200. */
void expect_bye(struct caller *c, const char *reason)
{
    char *bye = receive_final(c);
    if (!g_str_has_prefix(bye, "BYE sip:"))
        g_error("expected a BYE, got:\n%s", bye);
    char *r = header(bye, "Reason");
    g_assert_cmpstr(r, ==, reason);
    answer_request(c, bye);
    g_free(r);
    g_free(bye);
}

/* Keys by SIP INFO application/dtmf-relay, each answered 200. */
void send_keys(struct caller *c, const char *call_id, const char *tag, const char *keys)
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

/* Power of `hz` in n samples at `rate` (Goertzel), relative to a full-scale sine. */
static double tone_power(const int16_t *pcm, size_t n, unsigned rate, double hz)
{
    double k = 2 * cos(2 * G_PI * hz / rate), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = pcm[i] / 32768.0 + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return (s1 * s1 + s2 * s2 - k * s1 * s2) / ((double)n * n / 4);
}

/* One 20 ms payload of 160 bytes to samples (8 kHz PCMU, 16 kHz G.722); the count. */
static size_t prompt_decode(struct prompt_rx *rx, const uint8_t *payload, int16_t pcm[320])
{
    if (rx->pt == 0) {
        tsr_g711_decode(TSR_G711_ULAW, payload, 160, pcm);
        return 160;
    }
    int n = tsr_g722_decode(rx->g722, payload, 160, pcm, 320);
    g_assert_cmpint(n, ==, 320);
    return 320;
}

/* Reads `n` RTP packets of the prompt: rx->pt, 20 ms, consecutive sequence numbers
 * and timestamps 160 apart (G.722's clock is 8 kHz too); counts the frames that
 * are an 880 Hz beep, a 330 Hz beep, or quiet. */
void read_prompt(GSocket *rtp, unsigned n, struct prompt_rx *rx)
{
    for (unsigned i = 0; i < n; i++) {
        uint8_t buf[512];
        gssize len = g_socket_receive(rtp, (gchar *)buf, sizeof buf, NULL, NULL);
        size_t plain = len > 0 ? (size_t)len : 0;
        if (caller_srtp)
            g_assert_cmpint(tsr_srtp_unprotect_rtp(caller_srtp, buf, &plain), ==, 0);
        len = (gssize)plain;
        g_assert_cmpint(len, ==, 12 + 160);
        g_assert_cmpuint(buf[0], ==, 0x80);
        g_assert_cmpint(buf[1] & 0x7f, ==, rx->pt);
        uint16_t seq = (uint16_t)(buf[2] << 8 | buf[3]);
        uint32_t ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | buf[6] << 8 | buf[7];
        if (rx->packets++) {
            g_assert_cmpuint(seq, ==, (uint16_t)(rx->last_seq + 1));
            g_assert_cmpuint(ts, ==, rx->last_ts + 160);
        }
        rx->last_seq = seq;
        rx->last_ts = ts;
        int16_t pcm[320];
        size_t got = prompt_decode(rx, buf + 12, pcm);
        unsigned rate = got == 320 ? 16000 : 8000;
        double p880 = tone_power(pcm, got, rate, 880), p330 = tone_power(pcm, got, rate, 330);
        rx->beeps_880 += p880 > 0.01; /* a -12 dBFS beep is about 0.06 */
        rx->beeps_330 += p330 > 0.01;
        rx->quiet += p880 < 1e-4 && p330 < 1e-4;
    }
}

GSocket *loopback_udp(uint16_t *port)
{
    GSocket *sock =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *any = g_inet_socket_address_new(lo, 0);
    g_assert_true(g_socket_bind(sock, any, FALSE, NULL));
    GSocketAddress *bound = g_socket_get_local_address(sock, NULL);
    *port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
    g_socket_set_timeout(sock, 10);
    g_object_unref(bound);
    g_object_unref(any);
    g_object_unref(lo);
    return sock;
}

GSocket *lobby_rig_open(struct server *s, struct caller *c, uint16_t *port)
{
    server_start(s);
    caller_open(c, s->port);
    return loopback_udp(port);
}

/* The port of the answer's first `kind` ("audio", "video") section. */
uint16_t answer_port(const char *resp, const char *kind)
{
    char *needle = g_strdup_printf("\r\nm=%s ", kind);
    const char *m = strstr(resp, needle);
    g_assert_nonnull(m);
    unsigned long port = strtoul(m + strlen(needle), NULL, 10);
    g_free(needle);
    g_assert_cmpuint(port, >, 0);
    return (uint16_t)port;
}

/* One RTP packet of payload type pt from sock to 127.0.0.1:port: the lobby sends
 * its prompt and picture only to where the caller's own packets come from. */
void send_udp(GSocket *sock, uint16_t port, uint8_t *pkt, size_t len)
{
    uint8_t buf[1500];
    g_assert_cmpuint(len, <=, sizeof buf - 64);
    memcpy(buf, pkt, len);
    if (caller_srtp)
        g_assert_cmpint(tsr_srtp_protect_rtp(caller_srtp, buf, &len, sizeof buf), ==, 0);
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *to = g_inet_socket_address_new(lo, port);
    g_assert_cmpint(g_socket_send_to(sock, to, (const gchar *)buf, len, NULL, NULL), ==,
                    (gssize)len);
    g_object_unref(to);
    g_object_unref(lo);
}

void send_rtp_from(GSocket *sock, uint16_t port, int pt)
{
    static uint16_t seq;
    uint8_t pkt[12 + 160] = {
        0x80, (uint8_t)pt, (uint8_t)(seq >> 8), (uint8_t)seq, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78};
    seq++;
    memset(pkt + 12, 0xff, 160);
    send_udp(sock, port, pkt, sizeof pkt);
}

/* One whole frame of H.264 RTP (payload type pt, up to the marker), depacketized. */
GBytes *receive_frame(GSocket *sock, int pt, uint32_t *ts)
{
    struct tsr_rtp_depacketizer *d = NULL;
    g_assert_cmpint(tsr_rtp_depacketizer_new(&d, &tsr_rtp_codec_h264), ==, 0);
    GPtrArray *pkts = g_ptr_array_new_with_free_func(g_free);
    bool marker = false;
    while (!marker) {
        uint8_t buf[1600];
        gssize n = g_socket_receive(sock, (gchar *)buf, sizeof buf, NULL, NULL);
        g_assert_cmpint(n, >, 12);
        g_assert_cmpint(buf[1] & 0x7f, ==, pt);
        *ts = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 | buf[6] << 8 | buf[7];
        marker = buf[1] & 0x80;
        size_t len = (size_t)n - 12;
        uint8_t *p = g_malloc(len + sizeof len);
        memcpy(p, &len, sizeof len);
        memcpy(p + sizeof len, buf + 12, len);
        g_ptr_array_add(pkts, p);
    }
    const uint8_t *payloads[256];
    size_t lens[256], n = MIN(pkts->len, 256u);
    for (size_t i = 0; i < n; i++) {
        memcpy(&lens[i], pkts->pdata[i], sizeof lens[i]);
        payloads[i] = (const uint8_t *)pkts->pdata[i] + sizeof lens[i];
    }
    GBytes *frame = NULL;
    struct tsr_rtp_frame_info info;
    int rc = tsr_rtp_depacketizer_run(d, payloads, lens, n, &frame, &info);
    g_ptr_array_free(pkts, TRUE);
    tsr_rtp_depacketizer_free(&d);
    return rc == 0 ? frame : NULL;
}

AVFrame *receive_lobby_picture(GSocket *sock, int pt)
{
    uint32_t ts1 = 0, ts2 = 0;
    GBytes *first = receive_frame(sock, pt, &ts1), *second = receive_frame(sock, pt, &ts2);
    g_assert_nonnull(first);
    g_assert_nonnull(second);
    g_assert_cmpuint(ts2 - ts1, ==, 90000); /* one picture a second */
    struct tsr_video_decoder *dec = NULL;
    struct tsr_video_decoder_params dp = {.codec = TSR_VIDEO_CODEC_H264};
    g_assert_cmpint(tsr_video_decoder_new(&dec, &dp), ==, 0);
    g_assert_cmpint(tsr_video_decoder_decode(dec, g_bytes_get_data(second, NULL),
                                             g_bytes_get_size(second), ts2, true),
                    ==, 0);
    AVFrame *f = NULL;
    g_assert_cmpint(tsr_video_decoder_latest(dec, &f, NULL), ==, 0);
    g_assert_cmpint(f->width, ==, 640);
    g_assert_cmpint(f->height, ==, 360);
    tsr_video_decoder_free(&dec);
    g_bytes_unref(first);
    g_bytes_unref(second);
    return f;
}
