/* Two in-process WebRTC endpoints on 127.0.0.1: a Tessera-style server (ICE-lite,
 * DTLS server, answer from tsr_sdp_negotiate) and a client (full ICE,
 * controlling, DTLS client) that offers like a browser. They complete ICE, DTLS
 * and SRTP and exchange RTP and RTCP both ways; a wrong fingerprint is refused;
 * garbage on the media port is counted while the session carries on; silence
 * reports DISCONNECTED (consent) and media brings CONNECTED back.
 * Deterministic: the test runs the GMainContext until the awaited event
 * happens, with a generous deadline instead of sleeps. */
#include <tessera/dtls.h>
#include <tessera/err.h>
#include <tessera/ice.h>
#include <tessera/metrics.h>
#include <tessera/sdp.h>
#include <tessera/sdp_negotiate.h>
#include <tessera/srtp.h>
#include <tessera/webrtc_transport.h>

#include <gio/gio.h>
#include <glib.h>
#include <string.h>

#define DEADLINE_S 20

/* NULL: the server is ICE-lite; else its stun_server (full ICE, controlled). */
static const char *srv_stun;

struct endpoint {
    struct tsr_webrtc_transport *t;
    enum tsr_webrtc_state state;
    GPtrArray *rtp;  /* GBytes of each decrypted RTP packet */
    GPtrArray *rtcp; /* GBytes of each decrypted RTCP packet */
};

static void ep_rtp(void *user, uint8_t *data, size_t len)
{
    g_ptr_array_add(((struct endpoint *)user)->rtp, g_bytes_new(data, len));
}

static void ep_rtcp(void *user, uint8_t *data, size_t len)
{
    g_ptr_array_add(((struct endpoint *)user)->rtcp, g_bytes_new(data, len));
}

static void ep_state(void *user, enum tsr_webrtc_state s)
{
    ((struct endpoint *)user)->state = s;
}

static const struct tsr_webrtc_callbacks ep_cb = {ep_rtp, ep_rtcp, ep_state, NULL};

static gboolean wake(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

/* Iterates ctx until pred(a, b) holds; false when the deadline passes first. */
static bool run_until(GMainContext *ctx, bool (*pred)(struct endpoint *, struct endpoint *),
                      struct endpoint *a, struct endpoint *b)
{
    bool timed_out = false;
    GSource *deadline = g_timeout_source_new_seconds(DEADLINE_S);
    g_source_set_callback(deadline, wake, &timed_out, NULL);
    g_source_attach(deadline, ctx);
    while (!pred(a, b) && !timed_out)
        g_main_context_iteration(ctx, TRUE);
    g_source_destroy(deadline);
    g_source_unref(deadline);
    return pred(a, b);
}

static bool both_connected(struct endpoint *a, struct endpoint *b)
{
    return a->state == TSR_WEBRTC_STATE_CONNECTED && b->state == TSR_WEBRTC_STATE_CONNECTED;
}

static bool both_failed(struct endpoint *a, struct endpoint *b)
{
    return a->state == TSR_WEBRTC_STATE_FAILED && b->state == TSR_WEBRTC_STATE_FAILED;
}

static guint want_rtp, want_rtcp;
static bool got_media(struct endpoint *a, struct endpoint *b)
{
    return a->rtp->len >= want_rtp && b->rtp->len >= want_rtp && a->rtcp->len >= want_rtcp &&
           b->rtcp->len >= want_rtcp;
}

/* A browser-like offer carrying the client's ICE, DTLS and candidates. */
static char *client_offer(const struct tsr_sdp_local *c, const char *fingerprint)
{
    GString *cands = g_string_new(NULL);
    for (size_t i = 0; i < c->n_candidates; i++)
        g_string_append_printf(cands, "a=%s\r\n", c->candidates[i]);
    char *transport = g_strdup_printf("c=IN IP4 0.0.0.0\r\na=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
                                      "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\n",
                                      c->ice_ufrag, c->ice_pwd, fingerprint);
    char *offer = g_strdup_printf(
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1 2\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n%sa=mid:0\r\n"
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=sendrecv\r\na=rtcp-mux\r\n"
        "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
        "a=ssrc:1001 cname:client\r\n%s"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n%sa=mid:1\r\na=sendrecv\r\na=rtcp-mux\r\n"
        "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack pli\r\na=ssrc:1002 cname:client\r\n"
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n%sa=mid:2\r\n"
        "a=sctp-port:5000\r\n",
        transport, cands->str, transport, transport);
    g_free(transport);
    g_string_free(cands, TRUE);
    return offer;
}

/* The client applies the server's answer, as a browser would. */
static void client_apply_answer(struct endpoint *cli, const char *answer)
{
    struct tsr_sdp *sdp = NULL;
    g_assert_cmpint(tsr_sdp_parse(answer, strlen(answer), &sdp, NULL), ==, 0);
    g_assert_true((tsr_sdp_attr_find(sdp->attrs, sdp->n_attrs, "ice-lite") != NULL) ==
                  (srv_stun == NULL));
    const struct tsr_sdp_media *m = &sdp->media[0];
    struct tsr_sdp_fingerprint fp;
    g_assert_cmpint(tsr_sdp_parse_fingerprint(tsr_sdp_media_attr(sdp, m, "fingerprint"), &fp), ==,
                    0);
    g_assert_cmpstr(tsr_sdp_media_attr(sdp, m, "setup"), ==, "passive");
    GPtrArray *cands = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < m->n_attrs; i++)
        if (strcmp(m->attrs[i].name, "candidate") == 0)
            g_ptr_array_add(cands, g_strconcat("candidate:", m->attrs[i].value, NULL));
    g_assert_cmpuint(cands->len, >=, 1);
    struct tsr_webrtc_remote r = {
        .ice_ufrag = tsr_sdp_media_attr(sdp, m, "ice-ufrag"),
        .ice_pwd = tsr_sdp_media_attr(sdp, m, "ice-pwd"),
        .fingerprint = &fp,
        .local_role = TSR_DTLS_ROLE_CLIENT,
        .candidates = (const char *const *)cands->pdata,
        .n_candidates = cands->len,
    };
    g_assert_cmpint(tsr_webrtc_transport_set_remote(cli->t, &r), ==, 0);
    g_ptr_array_free(cands, TRUE);
    tsr_sdp_free(&sdp);
}

struct pair {
    GMainContext *ctx;
    struct tsr_dtls_cert *srv_cert, *cli_cert;
    struct endpoint srv, cli;
};

/* Builds both ends; `offer_fp` overrides the fingerprint the offer claims. */
static void pair_connect(struct pair *p, const char *profiles, const char *offer_fp)
{
    memset(p, 0, sizeof(*p));
    p->ctx = g_main_context_new();
    g_assert_cmpint(tsr_dtls_cert_generate(&p->srv_cert), ==, 0);
    g_assert_cmpint(tsr_dtls_cert_generate(&p->cli_cert), ==, 0);
    struct endpoint *eps[2] = {&p->srv, &p->cli};
    for (int i = 0; i < 2; i++) {
        eps[i]->rtp = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
        eps[i]->rtcp = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
        struct tsr_webrtc_config cfg = {
            .bind_address = "127.0.0.1",
            .cert = i == 0 ? p->srv_cert : p->cli_cert,
            .srtp_profiles = profiles,
            .ice_controlling = i == 1,
            .stun_server = i == 0 ? srv_stun : NULL,
        };
        g_assert_cmpint(tsr_webrtc_transport_new(&eps[i]->t, p->ctx, &cfg, &ep_cb, eps[i]), ==, 0);
    }
    struct tsr_sdp_local cl = {0}, sl = {0};
    g_assert_cmpint(tsr_webrtc_transport_local(p->cli.t, &cl), ==, 0);
    g_assert_cmpuint(cl.n_candidates, >=, 1);
    g_assert_false(cl.ice_lite);
    char *offer = client_offer(&cl, offer_fp ? offer_fp : tsr_dtls_cert_fingerprint(p->cli_cert));

    g_assert_cmpint(tsr_webrtc_transport_local(p->srv.t, &sl), ==, 0);
    g_assert_true(sl.ice_lite == (srv_stun == NULL));
    sl.audio_ssrc = 2001;
    sl.video_ssrc = 2002;
    sl.cname = "tessera";
    sl.stream_id = "tessera";
    struct tsr_sdp_negotiation *neg = NULL;
    char reason[TSR_SDP_REASON_MAX];
    g_assert_cmpint(tsr_sdp_negotiate(offer, strlen(offer), &sl, &neg, reason), ==, 0);
    g_assert_cmpint(neg->local_dtls_role, ==, TSR_SDP_DTLS_ROLE_SERVER);
    g_assert_cmpint(tsr_webrtc_transport_set_remote_description(p->srv.t, neg), ==, 0);
    g_assert_cmpint(tsr_webrtc_transport_set_remote_description(p->srv.t, neg), ==, TSR_ERR_STATE);
    client_apply_answer(&p->cli, neg->answer);
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
}

static void pair_free(struct pair *p)
{
    struct endpoint *eps[2] = {&p->srv, &p->cli};
    for (int i = 0; i < 2; i++) {
        tsr_webrtc_transport_close(eps[i]->t);
        g_assert_cmpint(eps[i]->state, ==, TSR_WEBRTC_STATE_CLOSED);
        tsr_webrtc_transport_close(eps[i]->t); /* idempotent */
        tsr_webrtc_transport_free(&eps[i]->t);
        g_assert_null(eps[i]->t);
        g_ptr_array_free(eps[i]->rtp, TRUE);
        g_ptr_array_free(eps[i]->rtcp, TRUE);
    }
    tsr_dtls_cert_unref(&p->srv_cert);
    tsr_dtls_cert_unref(&p->cli_cert);
    /* let libnice finish its teardown sources before the context goes */
    while (g_main_context_iteration(p->ctx, FALSE))
        ;
    g_main_context_unref(p->ctx);
}

static size_t make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, uint8_t fill, size_t payload)
{
    buf[0] = 0x80;
    buf[1] = 96;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    buf[4] = buf[5] = buf[6] = buf[7] = 0;
    buf[8] = (uint8_t)(ssrc >> 24);
    buf[9] = (uint8_t)(ssrc >> 16);
    buf[10] = (uint8_t)(ssrc >> 8);
    buf[11] = (uint8_t)ssrc;
    for (size_t i = 0; i < payload; i++)
        buf[12 + i] = (uint8_t)(fill + i);
    return 12 + payload;
}

static void assert_bytes(GBytes *got, const uint8_t *want, size_t len)
{
    gsize n;
    const uint8_t *d = g_bytes_get_data(got, &n);
    g_assert_cmpmem(d, n, want, len);
}

/* Sends `count` RTP packets each way plus one RTCP RR each way and checks what
 * arrives, byte for byte. */
static void exchange(struct pair *p, int count, uint16_t seq0)
{
    uint8_t pkt[1200];
    guint base_s = p->srv.rtp->len, base_c = p->cli.rtp->len;
    guint base_sr = p->srv.rtcp->len, base_cr = p->cli.rtcp->len;
    for (int i = 0; i < count; i++) {
        size_t n = make_rtp(pkt, (uint16_t)(seq0 + i), 0xC0FFEE01, (uint8_t)i, 100 + 10 * i);
        g_assert_cmpint(tsr_webrtc_transport_send_rtp(p->cli.t, pkt, n), ==, 0);
        n = make_rtp(pkt, (uint16_t)(seq0 + i), 0x5E4E4001, (uint8_t)(0x80 + i), 900);
        g_assert_cmpint(tsr_webrtc_transport_send_rtp(p->srv.t, pkt, n), ==, 0);
    }
    uint8_t rr_c[8] = {0x80, 201, 0, 1, 0xC0, 0xFF, 0xEE, 0x01};
    uint8_t rr_s[8] = {0x80, 201, 0, 1, 0x5E, 0x4E, 0x40, 0x01};
    g_assert_cmpint(tsr_webrtc_transport_send_rtcp(p->cli.t, rr_c, sizeof(rr_c)), ==, 0);
    g_assert_cmpint(tsr_webrtc_transport_send_rtcp(p->srv.t, rr_s, sizeof(rr_s)), ==, 0);
    want_rtp = base_s + (guint)count;
    want_rtcp = base_sr + 1;
    g_assert_cmpuint(base_s, ==, base_c);
    g_assert_cmpuint(base_sr, ==, base_cr);
    g_assert_true(run_until(p->ctx, got_media, &p->srv, &p->cli));
    /* loopback UDP keeps order; compare each packet with what was sent */
    for (int i = 0; i < count; i++) {
        size_t n = make_rtp(pkt, (uint16_t)(seq0 + i), 0xC0FFEE01, (uint8_t)i, 100 + 10 * i);
        assert_bytes(g_ptr_array_index(p->srv.rtp, base_s + i), pkt, n);
        n = make_rtp(pkt, (uint16_t)(seq0 + i), 0x5E4E4001, (uint8_t)(0x80 + i), 900);
        assert_bytes(g_ptr_array_index(p->cli.rtp, base_c + i), pkt, n);
    }
    assert_bytes(g_ptr_array_index(p->srv.rtcp, base_sr), rr_c, sizeof(rr_c));
    assert_bytes(g_ptr_array_index(p->cli.rtcp, base_cr), rr_s, sizeof(rr_s));
}

static void loopback(gconstpointer data)
{
    enum tsr_srtp_profile profile = (enum tsr_srtp_profile)GPOINTER_TO_INT(data);
    if (!tsr_dtls_srtp_profile_supported(profile)) {
        g_test_skip("the linked GnuTLS cannot negotiate this SRTP profile in DTLS-SRTP");
        return;
    }
    const char *profiles = profile == TSR_SRTP_PROFILE_AEAD_AES_128_GCM
                               ? "SRTP_AEAD_AES_128_GCM"
                               : "SRTP_AES128_CM_HMAC_SHA1_80";
    struct pair p;
    pair_connect(&p, profiles, NULL);
    /* sending before the keys exist is refused, not queued */
    uint8_t early[20] = {0x80, 96};
    g_assert_cmpint(tsr_webrtc_transport_send_rtp(p.srv.t, early, sizeof(early)), ==,
                    TSR_ERR_STATE);
    g_assert_true(run_until(p.ctx, both_connected, &p.srv, &p.cli));
    g_assert_cmpint(tsr_webrtc_transport_srtp_profile(p.srv.t), ==, profile);
    g_assert_cmpint(tsr_webrtc_transport_srtp_profile(p.cli.t), ==, profile);
    /* Both sides write media to the selected UDP pair's socket themselves. */
    g_assert_true(tsr_webrtc_transport_sends_direct(p.srv.t));
    g_assert_true(tsr_webrtc_transport_sends_direct(p.cli.t));
    exchange(&p, 20, 100);
    pair_free(&p);
}

/* With a STUN server configured the server runs full ICE (controlled, trickle):
 * it checks the client's candidates itself. The STUN server here is a dead
 * port, so only host candidates exist — enough on loopback. */
static void loopback_full_ice_server(void)
{
    struct pair p;
    srv_stun = "127.0.0.1:9";
    pair_connect(&p, NULL, NULL);
    g_assert_true(run_until(p.ctx, both_connected, &p.srv, &p.cli));
    exchange(&p, 5, 300);
    pair_free(&p);
    srv_stun = NULL;
}

static void fingerprint_mismatch(void)
{
    struct tsr_dtls_cert *other = NULL;
    g_assert_cmpint(tsr_dtls_cert_generate(&other), ==, 0);
    struct tsr_counter *c =
        tsr_metrics_counter("tessera_dtls_errors_total", "reason=\"fingerprint_mismatch\"", "x");
    uint64_t before = tsr_counter_value(c);
    struct pair p;
    /* the offer claims another certificate than the one the client presents */
    pair_connect(&p, NULL, tsr_dtls_cert_fingerprint(other));
    g_assert_true(run_until(p.ctx, both_failed, &p.srv, &p.cli));
    g_assert_cmpuint(tsr_counter_value(c), ==, before + 1);
    uint8_t pkt[64];
    size_t n = make_rtp(pkt, 1, 1, 0, 20);
    g_assert_cmpint(tsr_webrtc_transport_send_rtp(p.srv.t, pkt, n), ==, TSR_ERR_STATE);
    g_assert_cmpuint(p.srv.rtp->len, ==, 0);
    pair_free(&p);
    tsr_dtls_cert_unref(&other);
}

/* ---- a client built from the modules directly (ICE + DTLS + SRTP), so the test
 * can also put raw datagrams on the ICE-validated path ---- */

struct raw_client {
    struct tsr_ice *ice;
    struct tsr_dtls *dtls;
    struct tsr_srtp *srtp;
    GPtrArray *rtp;
};

static void raw_recv(void *user, uint8_t *data, size_t len)
{
    struct raw_client *rc = user;
    if (data[0] >= 20 && data[0] <= 63) {
        tsr_dtls_handle_packet(rc->dtls, data, len);
    } else if (rc->srtp && data[0] >= 128 && len > 12 && data[1] != 201 &&
               tsr_srtp_unprotect_rtp(rc->srtp, data, &len) == 0) {
        g_ptr_array_add(rc->rtp, g_bytes_new(data, len));
    }
}

static void raw_ice_state(void *user, enum tsr_ice_state s)
{
    struct raw_client *rc = user;
    if (s == TSR_ICE_STATE_CONNECTED && rc->dtls)
        tsr_dtls_start(rc->dtls);
}

static int raw_dtls_send(void *user, const uint8_t *data, size_t len)
{
    return tsr_ice_send(((struct raw_client *)user)->ice, data, len);
}

static void raw_dtls_connected(void *user, const struct tsr_dtls_srtp_keys *keys)
{
    struct raw_client *rc = user;
    g_assert_cmpint(tsr_srtp_new(&rc->srtp, keys), ==, 0);
}

static void raw_dtls_failed(void *user, int err)
{
    (void)user;
    g_error("raw client DTLS failed: %d", err);
}

static struct raw_client *raw_cli;
static bool raw_ready(struct endpoint *srv, struct endpoint *unused)
{
    (void)unused;
    return srv->state == TSR_WEBRTC_STATE_CONNECTED && raw_cli->srtp;
}

static bool srv_rtp_count(struct endpoint *srv, struct endpoint *unused)
{
    (void)unused;
    return srv->rtp->len >= want_rtp && raw_cli->rtp->len >= want_rtp;
}

static bool srv_state_is(struct endpoint *srv, struct endpoint *want)
{
    return srv->state == want->state;
}

static void raw_send_rtp(struct raw_client *rc, uint16_t seq)
{
    uint8_t pkt[200 + TSR_SRTP_MAX_TRAILER_BYTES];
    size_t n = make_rtp(pkt, seq, 0xC0FFEE01, (uint8_t)seq, 120);
    g_assert_cmpint(tsr_srtp_protect_rtp(rc->srtp, pkt, &n, sizeof(pkt)), ==, 0);
    g_assert_cmpint(tsr_ice_send(rc->ice, pkt, n), ==, 0);
}

static void garbage_and_consent(void)
{
    GMainContext *ctx = g_main_context_new();
    struct tsr_dtls_cert *srv_cert = NULL, *cli_cert = NULL;
    struct endpoint srv = {0};
    struct raw_client rc = {0};
    raw_cli = &rc;
    g_assert_cmpint(tsr_dtls_cert_generate(&srv_cert), ==, 0);
    g_assert_cmpint(tsr_dtls_cert_generate(&cli_cert), ==, 0);
    srv.rtp = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    srv.rtcp = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    rc.rtp = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    struct tsr_webrtc_config scfg = {
        .bind_address = "127.0.0.1", .cert = srv_cert, .consent_timeout_ms = 300};
    g_assert_cmpint(tsr_webrtc_transport_new(&srv.t, ctx, &scfg, &ep_cb, &srv), ==, 0);
    struct tsr_ice_config icfg = {.bind_address = "127.0.0.1", .controlling = true};
    struct tsr_ice_callbacks icb = {raw_recv, raw_ice_state, NULL};
    g_assert_cmpint(tsr_ice_new(&rc.ice, ctx, &icfg, &icb, &rc), ==, 0);

    /* offer/answer as in pair_connect, the client side by hand */
    char **cands = NULL;
    size_t n_cands = 0;
    g_assert_cmpint(tsr_ice_local_candidates(rc.ice, &cands, &n_cands), ==, 0);
    struct tsr_sdp_local cl = {.ice_ufrag = tsr_ice_local_ufrag(rc.ice),
                               .ice_pwd = tsr_ice_local_pwd(rc.ice),
                               .candidates = (const char *const *)cands,
                               .n_candidates = n_cands};
    char *offer = client_offer(&cl, tsr_dtls_cert_fingerprint(cli_cert));
    struct tsr_sdp_local sl = {0};
    g_assert_cmpint(tsr_webrtc_transport_local(srv.t, &sl), ==, 0);
    sl.audio_ssrc = 1;
    sl.video_ssrc = 2;
    sl.cname = sl.stream_id = "t";
    struct tsr_sdp_negotiation *neg = NULL;
    g_assert_cmpint(tsr_sdp_negotiate(offer, strlen(offer), &sl, &neg, NULL), ==, 0);
    g_assert_cmpint(tsr_webrtc_transport_set_remote_description(srv.t, neg), ==, 0);
    struct tsr_sdp_fingerprint sfp;
    char *fpv = g_strdup_printf("sha-256 %s", tsr_dtls_cert_fingerprint(srv_cert));
    g_assert_cmpint(tsr_sdp_parse_fingerprint(fpv, &sfp), ==, 0);
    struct tsr_dtls_config dcfg = {
        .role = TSR_DTLS_ROLE_CLIENT, .cert = cli_cert, .remote_fingerprint = &sfp};
    struct tsr_dtls_callbacks dcb = {raw_dtls_send, raw_dtls_connected, raw_dtls_failed};
    g_assert_cmpint(tsr_dtls_new(&rc.dtls, ctx, &dcfg, &dcb, &rc), ==, 0);
    g_assert_cmpint(tsr_ice_set_remote_credentials(rc.ice, sl.ice_ufrag, sl.ice_pwd), ==, 0);
    for (size_t i = 0; i < sl.n_candidates; i++)
        g_assert_cmpint(tsr_ice_add_remote_candidate(rc.ice, sl.candidates[i]), ==, 0);
    g_assert_true(run_until(ctx, raw_ready, &srv, NULL));

    /* garbage over the validated path: counted by the demux or by SRTP, dropped */
    struct tsr_counter *unknown =
        tsr_metrics_counter("tessera_webrtc_bad_packets_total", "reason=\"unknown\"", "x");
    struct tsr_counter *srtp_err =
        tsr_metrics_counter("tessera_srtp_errors_total", "op=\"unprotect_rtp\"", "x");
    uint64_t unknown0 = tsr_counter_value(unknown), srtp0 = tsr_counter_value(srtp_err);
    static const uint8_t junk[][8] = {
        {0x42, 1, 2, 3, 4, 5, 6, 7}, {0xff, 0, 0, 0, 0, 0, 0, 0}, {0x05, 1, 1, 1, 1, 1, 1, 1}};
    for (size_t i = 0; i < G_N_ELEMENTS(junk); i++)
        g_assert_cmpint(tsr_ice_send(rc.ice, junk[i], 8), ==, 0);
    uint8_t fake[64];
    size_t n = make_rtp(fake, 7, 0xC0FFEE01, 0, 40); /* RTP-looking, not authenticated */
    g_assert_cmpint(tsr_ice_send(rc.ice, fake, n), ==, 0);
    /* then real media both ways: the session carries on */
    for (uint16_t seq = 10; seq < 15; seq++)
        raw_send_rtp(&rc, seq);
    for (uint16_t seq = 10; seq < 15; seq++) {
        uint8_t pkt[300];
        size_t m = make_rtp(pkt, seq, 0x5E4E4001, 1, 200);
        g_assert_cmpint(tsr_webrtc_transport_send_rtp(srv.t, pkt, m), ==, 0);
    }
    want_rtp = 5;
    g_assert_true(run_until(ctx, srv_rtp_count, &srv, NULL));
    g_assert_cmpuint(tsr_counter_value(unknown), ==, unknown0 + 3);
    g_assert_cmpuint(tsr_counter_value(srtp_err), ==, srtp0 + 1);
    g_assert_cmpuint(srv.rtp->len, ==, 5); /* the fake never reached on_rtp */
    for (uint16_t seq = 10; seq < 15; seq++) {
        uint8_t pkt[200];
        size_t m = make_rtp(pkt, seq, 0xC0FFEE01, (uint8_t)seq, 120);
        assert_bytes(g_ptr_array_index(srv.rtp, seq - 10), pkt, m);
    }
    g_assert_cmpint(srv.state, ==, TSR_WEBRTC_STATE_CONNECTED);

    /* consent: silence for longer than consent_timeout_ms reports DISCONNECTED,
     * the next packet brings the transport back to CONNECTED */
    struct endpoint want = {.state = TSR_WEBRTC_STATE_DISCONNECTED};
    g_assert_true(run_until(ctx, srv_state_is, &srv, &want));
    raw_send_rtp(&rc, 20);
    want.state = TSR_WEBRTC_STATE_CONNECTED;
    g_assert_true(run_until(ctx, srv_state_is, &srv, &want));

    tsr_webrtc_transport_free(&srv.t);
    tsr_srtp_free(&rc.srtp);
    tsr_dtls_free(&rc.dtls);
    tsr_ice_free(&rc.ice);
    g_strfreev(cands);
    g_free(fpv);
    g_free(offer);
    tsr_sdp_negotiation_free(&neg);
    g_ptr_array_free(srv.rtp, TRUE);
    g_ptr_array_free(srv.rtcp, TRUE);
    g_ptr_array_free(rc.rtp, TRUE);
    tsr_dtls_cert_unref(&srv_cert);
    tsr_dtls_cert_unref(&cli_cert);
    while (g_main_context_iteration(ctx, FALSE))
        ;
    g_main_context_unref(ctx);
}

static void foreign_source(void)
{
    /* datagrams from an address ICE never validated: libnice drops them before
     * our demux; the session must not notice */
    struct pair p;
    pair_connect(&p, NULL, NULL);
    g_assert_true(run_until(p.ctx, both_connected, &p.srv, &p.cli));
    GSocket *sock =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
    GInetAddress *lo = g_inet_address_new_from_string("127.0.0.1");
    GSocketAddress *dst = g_inet_socket_address_new(lo, tsr_webrtc_transport_local_port(p.srv.t));
    uint8_t fake[64];
    size_t n = make_rtp(fake, 7, 0xC0FFEE01, 0, 40);
    for (int i = 0; i < 10; i++)
        g_assert_cmpint(g_socket_send_to(sock, dst, (const gchar *)fake, n, NULL, NULL), ==,
                        (gssize)n);
    exchange(&p, 5, 1);
    g_assert_cmpuint(p.srv.rtp->len, ==, 5);
    g_assert_cmpint(p.srv.state, ==, TSR_WEBRTC_STATE_CONNECTED);
    g_object_unref(dst);
    g_object_unref(lo);
    g_object_unref(sock);
    pair_free(&p);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/webrtc/loopback_aes_cm_sha1_80",
                         GINT_TO_POINTER(TSR_SRTP_PROFILE_AES128_CM_SHA1_80), loopback);
    g_test_add_data_func("/webrtc/loopback_aead_aes_128_gcm",
                         GINT_TO_POINTER(TSR_SRTP_PROFILE_AEAD_AES_128_GCM), loopback);
    g_test_add_func("/webrtc/loopback_full_ice_server", loopback_full_ice_server);
    g_test_add_func("/webrtc/fingerprint_mismatch", fingerprint_mismatch);
    g_test_add_func("/webrtc/garbage_and_consent", garbage_and_consent);
    g_test_add_func("/webrtc/foreign_source", foreign_source);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
