/* The SIP media transport over real loopback UDP: two tsr_rtp_transports face
 * each other as caller and Tessera. With DTLS-SRTP they run one handshake per RTP
 * socket and, without rtcp-mux, one per RTCP socket (RFC 5764 §4.1), demultiplexed
 * from RTP by the first byte; then RTP and RTCP cross both ways, protected with
 * the keys of the socket they travel on. Before the keys nothing is sent and what
 * arrives in clear is dropped; a certificate that does not match the fingerprint,
 * or a caller that never starts the handshake, fails the transport. */
#include <tessera/dtls.h>
#include <tessera/err.h>
#include <tessera/metrics.h>
#include <tessera/rtp_transport.h>

#include <gio/gio.h>
#include <glib.h>
#include <string.h>

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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtp_transport/dtls_four_associations", test_dtls_four_associations);
    g_test_add_func("/rtp_transport/dtls_rtcp_mux", test_dtls_rtcp_mux);
    g_test_add_func("/rtp_transport/dtls_fingerprint_mismatch", test_dtls_fingerprint_mismatch);
    g_test_add_func("/rtp_transport/dtls_timeout", test_dtls_timeout);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
