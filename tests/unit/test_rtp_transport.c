/* The SIP media transport over real loopback UDP: two tsr_rtp_transports face
 * each other as caller and Tessera. With DTLS-SRTP they run one handshake per RTP
 * socket and, without rtcp-mux, one per RTCP socket (RFC 5764 §4.1), demultiplexed
 * from RTP by the first byte; then RTP and RTCP cross both ways, protected with
 * the keys of the socket they travel on. Before the keys nothing is sent and what
 * arrives in clear is dropped; a certificate that does not match the fingerprint,
 * or a caller that never starts the handshake, fails the transport. ICE-lite:
 * a caller's checks (libnice's STUN agent on its side) are answered and
 * nominate where we send. */
#include <tessera/dtls.h>
#include <tessera/err.h>
#include <tessera/metrics.h>
#include <tessera/rtp_transport.h>

#include <arpa/inet.h>
#include <gio/gio.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>

struct side {
    struct tsr_rtp_transport *t;
    uint32_t assrc, vssrc;
    unsigned audio, video, rtcp; /* packets received */
    uint8_t last[256];           /* the last one, as the callback got it */
    size_t last_len;
    enum tsr_webrtc_state state;
};

static void keep(struct side *s, const uint8_t *data, size_t len)
{
    s->last_len = MIN(len, sizeof s->last);
    memcpy(s->last, data, s->last_len);
}

static void on_audio(void *user, uint8_t *data, size_t len)
{
    struct side *s = user;
    s->audio++;
    keep(s, data, len);
}

static void on_video(void *user, uint8_t *data, size_t len)
{
    struct side *s = user;
    s->video++;
    keep(s, data, len);
}

static void on_rtcp(void *user, uint8_t *data, size_t len)
{
    struct side *s = user;
    s->rtcp++;
    keep(s, data, len);
}

static void on_state(void *user, enum tsr_webrtc_state state)
{
    struct side *s = user;
    s->state = state;
}

static void open_side(GMainContext *ctx, struct side *s, uint32_t assrc, uint32_t vssrc)
{
    static const struct tsr_rtp_transport_callbacks cb = {on_audio, on_video, on_rtcp, on_state};
    struct tsr_rtp_transport_config cfg = {.bind_address = "127.0.0.1"};
    memset(s, 0, sizeof *s);
    s->assrc = assrc;
    s->vssrc = vssrc;
    g_assert_cmpint(tsr_rtp_transport_new(&s->t, ctx, &cfg, &cb, s), ==, 0);
}

/* Each side sends to the other's ports. */
static void face(struct side *a, struct side *b, bool mux)
{
    struct side *ends[2][2] = {{a, b}, {b, a}};
    for (int i = 0; i < 2; i++) {
        struct side *me = ends[i][0], *other = ends[i][1];
        struct tsr_sdp_plain_peers p;
        memset(&p, 0, sizeof p);
        struct tsr_sdp_plain_peer *m[2] = {&p.audio, &p.video};
        for (int k = 0; k < 2; k++) {
            g_strlcpy(m[k]->address, "127.0.0.1", sizeof m[k]->address);
            m[k]->rtp_port = tsr_rtp_transport_port(other->t, (enum tsr_rtp_transport_medium)k);
            m[k]->rtcp_port = mux ? m[k]->rtp_port : (uint16_t)(m[k]->rtp_port + 1);
            m[k]->rtcp_mux = mux;
        }
        g_assert_cmpint(tsr_rtp_transport_set_peers(me->t, &p, me->assrc, me->vssrc), ==, 0);
    }
}

static struct tsr_sdp_fingerprint fingerprint_of(struct tsr_dtls_cert *c)
{
    struct tsr_sdp_fingerprint f;
    char *v = g_strdup_printf("sha-256 %s", tsr_dtls_cert_fingerprint(c));
    g_assert_cmpint(tsr_sdp_parse_fingerprint(v, &f), ==, 0);
    g_free(v);
    return f;
}

static void set_dtls(struct side *s, enum tsr_dtls_role role, struct tsr_dtls_cert *own,
                     const struct tsr_sdp_fingerprint *theirs, uint32_t timeout_ms)
{
    struct tsr_rtp_transport_dtls cfg = {
        .role = role, .cert = own, .fingerprint = theirs, .handshake_timeout_ms = timeout_ms};
    for (int k = 0; k < 2; k++)
        g_assert_cmpint(tsr_rtp_transport_set_dtls(s->t, (enum tsr_rtp_transport_medium)k, &cfg),
                        ==, 0);
    g_assert_cmpint(tsr_rtp_transport_set_dtls(s->t, TSR_RTP_TRANSPORT_AUDIO, &cfg), ==,
                    TSR_ERR_STATE);
}

static void pump_until(GMainContext *ctx, bool (*done)(void *), void *arg)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!done(arg) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(ctx, TRUE);
    g_assert_true(done(arg));
}

static size_t rtp_packet(uint8_t *buf, uint32_t ssrc, uint16_t seq)
{
    memset(buf, 0, 12 + 40);
    buf[0] = 0x80;
    buf[1] = 96;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    buf[8] = (uint8_t)(ssrc >> 24);
    buf[9] = (uint8_t)(ssrc >> 16);
    buf[10] = (uint8_t)(ssrc >> 8);
    buf[11] = (uint8_t)ssrc;
    for (int i = 0; i < 40; i++)
        buf[12 + i] = (uint8_t)(i + seq);
    return 12 + 40;
}

static size_t rtcp_rr(uint8_t *buf, uint32_t ssrc)
{
    static const uint8_t head[4] = {0x80, 201, 0, 1}; /* an empty receiver report */
    memcpy(buf, head, 4);
    buf[4] = (uint8_t)(ssrc >> 24);
    buf[5] = (uint8_t)(ssrc >> 16);
    buf[6] = (uint8_t)(ssrc >> 8);
    buf[7] = (uint8_t)ssrc;
    return 8;
}

struct pair {
    struct side *a, *b;
    unsigned keyed; /* associations each side must have keyed */
    unsigned audio, video, rtcp;
};

static bool both_keyed(void *arg)
{
    struct pair *p = arg;
    return tsr_rtp_transport_dtls_keyed(p->a->t) == p->keyed &&
           tsr_rtp_transport_dtls_keyed(p->b->t) == p->keyed;
}

static bool b_received(void *arg)
{
    struct pair *p = arg;
    return p->b->audio >= p->audio && p->b->video >= p->video && p->b->rtcp >= p->rtcp;
}

/* From a to b, one packet of each kind, each arriving as it was sent. */
static void exchange(GMainContext *ctx, struct side *a, struct side *b)
{
    uint8_t pkt[64];
    struct pair p = {.a = a, .b = b, .audio = b->audio + 1};
    size_t n = rtp_packet(pkt, a->assrc, 7);
    g_assert_cmpint(tsr_rtp_transport_send_rtp(a->t, pkt, n), ==, 0);
    pump_until(ctx, b_received, &p);
    g_assert_cmpmem(b->last, b->last_len, pkt, n);
    p.video = b->video + 1;
    n = rtp_packet(pkt, a->vssrc, 9);
    g_assert_cmpint(tsr_rtp_transport_send_rtp(a->t, pkt, n), ==, 0);
    pump_until(ctx, b_received, &p);
    g_assert_cmpmem(b->last, b->last_len, pkt, n);
    /* RTCP of each medium: on its RTCP socket (its own keys), or muxed. */
    for (int k = 0; k < 2; k++) {
        p.rtcp = b->rtcp + 1;
        n = rtcp_rr(pkt, k ? a->vssrc : a->assrc);
        g_assert_cmpint(tsr_rtp_transport_send_rtcp(a->t, pkt, n), ==, 0);
        pump_until(ctx, b_received, &p);
        g_assert_cmpmem(b->last, b->last_len, pkt, n);
    }
}

/* Plain RTP from a socket of our own to one of t's ports. */
static void send_raw(struct tsr_rtp_transport *t, const uint8_t *data, size_t len)
{
    GSocket *s =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *to =
        g_inet_socket_address_new(lo, tsr_rtp_transport_port(t, TSR_RTP_TRANSPORT_AUDIO));
    g_assert_cmpint(g_socket_send_to(s, to, (const gchar *)data, len, NULL, NULL), ==, len);
    g_object_unref(to);
    g_object_unref(lo);
    g_object_unref(s);
}

static uint64_t counter(const char *name, const char *labels)
{
    return tsr_counter_value(tsr_metrics_counter(name, labels, "x"));
}

static void run_keyed(bool mux)
{
    GMainContext *ctx = g_main_context_new();
    struct tsr_dtls_cert *ca = NULL, *cb = NULL;
    g_assert_cmpint(tsr_dtls_cert_generate(&ca), ==, 0);
    g_assert_cmpint(tsr_dtls_cert_generate(&cb), ==, 0);
    struct tsr_sdp_fingerprint fa = fingerprint_of(ca), fb = fingerprint_of(cb);
    struct side a, b;
    open_side(ctx, &a, 0x1000, 0x1001);
    open_side(ctx, &b, 0x2000, 0x2001);
    face(&a, &b, mux);
    set_dtls(&a, TSR_DTLS_ROLE_SERVER, ca, &fb, 0);
    /* Nothing leaves in clear before the keys, and clear RTP that arrives is dropped. */
    uint8_t pkt[64];
    size_t n = rtp_packet(pkt, a.assrc, 1);
    g_assert_false(tsr_rtp_transport_sending(a.t, TSR_RTP_TRANSPORT_AUDIO));
    g_assert_cmpint(tsr_rtp_transport_send_rtp(a.t, pkt, n), ==, TSR_ERR_AGAIN);
    uint64_t unkeyed = counter("tessera_rtp_dtls_unkeyed_packets_total", NULL);
    send_raw(a.t, pkt, n);
    while (counter("tessera_rtp_dtls_unkeyed_packets_total", NULL) == unkeyed)
        g_main_context_iteration(ctx, TRUE);
    g_assert_cmpuint(a.audio, ==, 0);
    uint64_t keyed_before = counter("tessera_rtp_dtls_associations_total", NULL);
    set_dtls(&b, TSR_DTLS_ROLE_CLIENT, cb, &fa, 0);
    struct pair p = {.a = &a, .b = &b, .keyed = mux ? 2 : 4};
    pump_until(ctx, both_keyed, &p);
    g_assert_cmpuint(counter("tessera_rtp_dtls_associations_total", NULL), ==,
                     keyed_before + 2 * p.keyed);
    g_assert_true(tsr_rtp_transport_sending(a.t, TSR_RTP_TRANSPORT_VIDEO));
    exchange(ctx, &a, &b);
    exchange(ctx, &b, &a);
    g_assert_cmpint(a.state, ==, TSR_WEBRTC_STATE_CONNECTED);
    /* Clear RTP after the keys fails SRTP authentication and is dropped. */
    uint64_t auth = counter("tessera_srtp_errors_total", "op=\"unprotect_rtp\"");
    unsigned heard = a.audio;
    send_raw(a.t, pkt, n);
    while (counter("tessera_srtp_errors_total", "op=\"unprotect_rtp\"") == auth)
        g_main_context_iteration(ctx, TRUE);
    g_assert_cmpuint(a.audio, ==, heard);
    tsr_rtp_transport_free(&a.t);
    tsr_rtp_transport_free(&b.t);
    tsr_dtls_cert_unref(&ca);
    tsr_dtls_cert_unref(&cb);
    g_main_context_unref(ctx);
}

static void test_dtls_four_associations(void)
{
    run_keyed(false);
}

static void test_dtls_rtcp_mux(void)
{
    run_keyed(true);
}

static bool a_failed(void *arg)
{
    return ((struct side *)arg)->state == TSR_WEBRTC_STATE_FAILED;
}

/* The caller presents a certificate other than the one its SDP named. */
static void test_dtls_fingerprint_mismatch(void)
{
    GMainContext *ctx = g_main_context_new();
    struct tsr_dtls_cert *ca = NULL, *cb = NULL, *other = NULL;
    g_assert_cmpint(tsr_dtls_cert_generate(&ca), ==, 0);
    g_assert_cmpint(tsr_dtls_cert_generate(&cb), ==, 0);
    g_assert_cmpint(tsr_dtls_cert_generate(&other), ==, 0);
    struct tsr_sdp_fingerprint fa = fingerprint_of(ca), fo = fingerprint_of(other);
    uint64_t before = counter("tessera_dtls_errors_total", "reason=\"fingerprint_mismatch\"");
    struct side a, b;
    open_side(ctx, &a, 0x1000, 0x1001);
    open_side(ctx, &b, 0x2000, 0x2001);
    face(&a, &b, false);
    set_dtls(&a, TSR_DTLS_ROLE_SERVER, ca, &fo, 0);
    set_dtls(&b, TSR_DTLS_ROLE_CLIENT, cb, &fa, 0);
    pump_until(ctx, a_failed, &a);
    g_assert_cmpuint(tsr_rtp_transport_dtls_keyed(a.t), ==, 0);
    g_assert_cmpuint(counter("tessera_dtls_errors_total", "reason=\"fingerprint_mismatch\""), >,
                     before);
    g_assert_false(tsr_rtp_transport_sending(a.t, TSR_RTP_TRANSPORT_AUDIO));
    tsr_rtp_transport_free(&a.t);
    tsr_rtp_transport_free(&b.t);
    tsr_dtls_cert_unref(&ca);
    tsr_dtls_cert_unref(&cb);
    tsr_dtls_cert_unref(&other);
    g_main_context_unref(ctx);
}

/* A caller that never starts DTLS: the handshake times out and the transport fails. */
static void test_dtls_timeout(void)
{
    GMainContext *ctx = g_main_context_new();
    struct tsr_dtls_cert *ca = NULL;
    g_assert_cmpint(tsr_dtls_cert_generate(&ca), ==, 0);
    struct tsr_sdp_fingerprint fa = fingerprint_of(ca);
    struct side a, b;
    open_side(ctx, &a, 0x1000, 0x1001);
    open_side(ctx, &b, 0x2000, 0x2001);
    face(&a, &b, true);
    gint64 start = g_get_monotonic_time();
    set_dtls(&a, TSR_DTLS_ROLE_SERVER, ca, &fa, 1000);
    pump_until(ctx, a_failed, &a);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
    tsr_rtp_transport_free(&a.t);
    tsr_rtp_transport_free(&b.t);
    tsr_dtls_cert_unref(&ca);
    g_main_context_unref(ctx);
}

#define ICE_UFRAG "TsrUfrag"
#define ICE_PWD "TessPasswordOf24Chars+/x"

/* An ICE check (the caller is the controlling full agent) from `sock` to t's
 * audio RTP port; the agent keeps the transaction to check the response. */
static void send_check(StunAgent *agent, GSocket *sock, struct tsr_rtp_transport *t,
                       const char *pwd, bool nominate)
{
    uint8_t buf[512];
    StunMessage msg;
    const char *user = ICE_UFRAG ":callr";
    size_t len = stun_usage_ice_conncheck_create(
        agent, &msg, buf, sizeof buf, (const uint8_t *)user, strlen(user), (const uint8_t *)pwd,
        strlen(pwd), nominate, true, 0x6e0001ff, 0x1122334455667788ull, NULL,
        STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    g_assert_cmpuint(len, >, 20);
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *to =
        g_inet_socket_address_new(lo, tsr_rtp_transport_port(t, TSR_RTP_TRANSPORT_AUDIO));
    g_assert_cmpint(g_socket_send_to(sock, to, (const gchar *)buf, len, NULL, NULL), ==, len);
    g_object_unref(to);
    g_object_unref(lo);
}

struct catch
{
    GSocket *sock;
    uint8_t buf[1500];
    gssize len;
};

static bool caught(void *arg)
{
    struct catch *c = arg;
    c->len = g_socket_receive(c->sock, (gchar *)c->buf, sizeof c->buf, NULL, NULL);
    return c->len > 0;
}

/* Runs ctx until the caller's socket (not one of ctx's) has a datagram. */
static void pump_caught(GMainContext *ctx, struct catch *c)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!caught(c) && g_get_monotonic_time() < deadline) {
        g_main_context_iteration(ctx, FALSE);
        g_usleep(1000);
    }
    g_assert_cmpint(c->len, >, 0);
}

/* ICE-lite on the plain ports: a check with our ufrag and our password gets a
 * success response that the caller's own STUN agent accepts (integrity with our
 * password, fingerprint) and that maps the caller's address; its nomination moves
 * where we send RTP. A check keyed with another password is not answered, and
 * RTP from nowhere else is needed for any of it. */
static void test_ice_lite(void)
{
    GMainContext *ctx = g_main_context_new();
    struct side a, b;
    open_side(ctx, &a, 0x1000, 0x1001);
    open_side(ctx, &b, 0x2000, 0x2001);
    face(&a, &b, false); /* a sends to b's ports until a check says otherwise */
    g_assert_cmpint(tsr_rtp_transport_set_ice(a.t, ICE_UFRAG, ICE_PWD), ==, 0);
    GSocket *caller =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *any = g_inet_socket_address_new(lo, 0);
    g_assert_true(g_socket_bind(caller, any, FALSE, NULL));
    g_socket_set_blocking(caller, FALSE);
    StunAgent agent;
    static const uint16_t attrs[] = {STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, STUN_ATTRIBUTE_USERNAME,
                                     STUN_ATTRIBUTE_MESSAGE_INTEGRITY,  STUN_ATTRIBUTE_FINGERPRINT,
                                     STUN_ATTRIBUTE_ICE_CONTROLLED,     0};
    stun_agent_init(&agent, attrs, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);

    /* A wrong password: dropped, counted, no answer. */
    send_check(&agent, caller, a.t, "not-the-right-password!!", true);
    gint64 until = g_get_monotonic_time() + 300 * 1000;
    while (g_get_monotonic_time() < until)
        g_main_context_iteration(ctx, FALSE);
    struct catch c = {.sock = caller};
    g_assert_false(caught(&c));
    g_assert_cmpuint(counter("tessera_sip_ice_checks_total", "result=\"unauthorized\""), ==, 1);

    /* The right one, nominated. */
    send_check(&agent, caller, a.t, ICE_PWD, true);
    pump_caught(ctx, &c);
    StunMessage res;
    g_assert_cmpint(stun_agent_validate(&agent, &res, c.buf, (size_t)c.len, NULL, NULL), ==,
                    STUN_VALIDATION_SUCCESS);
    g_assert_cmpint(stun_message_get_class(&res), ==, STUN_RESPONSE);
    struct sockaddr_storage mapped;
    socklen_t mapped_len = sizeof mapped;
    g_assert_cmpint(stun_usage_ice_conncheck_process(&res, &mapped, &mapped_len,
                                                     STUN_USAGE_ICE_COMPATIBILITY_RFC5245),
                    ==, STUN_USAGE_ICE_RETURN_SUCCESS);
    GSocketAddress *self = g_socket_get_local_address(caller, NULL);
    struct sockaddr_in *sin = (struct sockaddr_in *)&mapped;
    g_assert_cmpuint(ntohs(sin->sin_port), ==,
                     g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(self)));
    g_assert_cmpuint(counter("tessera_sip_ice_checks_total", "result=\"answered\""), ==, 1);

    /* Nominated: RTP now goes to the caller, not to b. */
    uint8_t pkt[64];
    size_t n = rtp_packet(pkt, 0x1000, 7);
    g_assert_cmpint(tsr_rtp_transport_send_rtp(a.t, pkt, n), ==, 0);
    pump_caught(ctx, &c);
    g_assert_cmpint(c.len, ==, (gssize)n);
    g_assert_cmpuint(b.audio, ==, 0);

    g_object_unref(self);
    g_object_unref(any);
    g_object_unref(lo);
    g_object_unref(caller);
    tsr_rtp_transport_free(&a.t);
    tsr_rtp_transport_free(&b.t);
    g_main_context_unref(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtp_transport/dtls_four_associations", test_dtls_four_associations);
    g_test_add_func("/rtp_transport/dtls_rtcp_mux", test_dtls_rtcp_mux);
    g_test_add_func("/rtp_transport/dtls_fingerprint_mismatch", test_dtls_fingerprint_mismatch);
    g_test_add_func("/rtp_transport/dtls_timeout", test_dtls_timeout);
    g_test_add_func("/rtp_transport/ice_lite", test_ice_lite);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
