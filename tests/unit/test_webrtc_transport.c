/* WebRTC transport configuration: [webrtc] keys map onto the transport config,
 * the certificate comes from PEM files or is generated, and a transport built
 * from that config offers ICE-lite parameters on the configured ports. */
#include <tessera/config.h>
#include <tessera/err.h>
#include <tessera/ice.h>
#include <tessera/sdp.h>
#include <tessera/webrtc_transport.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

static void test_config_mapping(void)
{
    struct tsr_config cfg;
    char *err = NULL;
    g_assert_cmpint(tsr_config_defaults(&cfg), ==, 0);
    g_assert_cmpint(cfg.webrtc_port_min, ==, 40000);
    g_assert_cmpint(cfg.webrtc_port_max, ==, 40999);
    g_assert_cmpstr(cfg.webrtc_video_codec, ==, "h264");
    const char *text = "[webrtc]\nrtp_port_min = 41300\nrtp_port_max = 41309\n"
                       "public_address = 198.51.100.7\n";
    g_assert_cmpint(tsr_config_apply_text(&cfg, text, strlen(text), "t.conf", &err), ==, 0);
    struct tsr_webrtc_config wc;
    g_assert_cmpint(tsr_webrtc_config_from(&wc, &cfg), ==, 0);
    g_assert_true(wc.ice_tcp);
    g_assert_false(wc.include_loopback); /* listen = 0.0.0.0:8080 */
    g_assert_cmpuint(wc.port_min, ==, 41300);
    g_assert_cmpuint(wc.port_max, ==, 41309);
    g_assert_cmpstr(wc.public_address, ==, "198.51.100.7");
    g_assert_cmpstr(wc.stun_server, ==, "");

    /* a transport from this config: ICE-lite, port in range, public address shown */
    struct tsr_dtls_cert *cert = NULL;
    g_assert_cmpint(tsr_webrtc_cert_from_config(&cfg, &cert), ==, 0);
    wc.cert = cert;
    wc.bind_address = "127.0.0.1";
    GMainContext *ctx = g_main_context_new();
    struct tsr_webrtc_transport *t = NULL;
    struct tsr_webrtc_callbacks cb = {0};
    g_assert_cmpint(tsr_webrtc_transport_new(&t, ctx, &wc, &cb, NULL), ==, 0);
    g_assert_cmpint(tsr_webrtc_transport_state(t), ==, TSR_WEBRTC_STATE_NEW);
    struct tsr_sdp_local l = {0};
    g_assert_cmpint(tsr_webrtc_transport_local(t, &l), ==, 0);
    g_assert_true(l.ice_lite);
    g_assert_cmpstr(l.fingerprint_sha256, ==, tsr_dtls_cert_fingerprint(cert));
    /* one UDP and one passive TCP candidate (ice_tcp), both in the range */
    g_assert_cmpuint(l.n_candidates, ==, 2);
    struct tsr_sdp_candidate c, tcp;
    g_assert_cmpint(tsr_sdp_parse_candidate(l.candidates[0], &c), ==, 0);
    g_assert_cmpint(tsr_sdp_parse_candidate(l.candidates[1], &tcp), ==, 0);
    if (strcmp(c.transport, "tcp") == 0) {
        struct tsr_sdp_candidate x = c;
        c = tcp;
        tcp = x;
    }
    g_assert_cmpstr(c.transport, ==, "udp");
    g_assert_cmpstr(c.address, ==, "198.51.100.7");
    g_assert_cmpuint(c.port, >=, 41300);
    g_assert_cmpuint(c.port, <=, 41309);
    g_assert_cmpuint(tsr_webrtc_transport_local_port(t), ==, c.port);
    g_assert_cmpstr(tcp.transport, ==, "tcp");
    g_assert_cmpstr(tcp.address, ==, "198.51.100.7");
    g_assert_cmpuint(tcp.port, >=, 41300);
    g_assert_cmpuint(tcp.port, <=, 41309);
    g_assert_cmpuint(tcp.priority, <, c.priority); /* UDP first when both work */
    const char *tcp_line = strstr(l.candidates[0], " tcp ") ? l.candidates[0] : l.candidates[1];
    g_assert_true(g_str_has_suffix(tcp_line, " typ host tcptype passive"));
    uint8_t pkt[20] = {0x80, 96};
    g_assert_cmpint(tsr_webrtc_transport_send_rtp(t, pkt, sizeof(pkt)), ==, TSR_ERR_STATE);
    g_assert_cmpint(tsr_webrtc_transport_add_remote_candidate(t, "candidate:x"), ==,
                    TSR_ERR_INVALID);
    g_assert_cmpint(tsr_webrtc_transport_add_remote_candidate(t, ""), ==, 0);
    tsr_webrtc_transport_free(&t);
    g_assert_null(t);
    tsr_webrtc_transport_free(&t);
    tsr_dtls_cert_unref(&cert);
    while (g_main_context_iteration(ctx, FALSE))
        ;
    g_main_context_unref(ctx);
}

/* The addresses of every host candidate of a transport made from `text`. */
static char *candidate_addresses(const char *text)
{
    struct tsr_config cfg;
    char *err = NULL;
    tsr_config_defaults(&cfg);
    g_assert_cmpint(tsr_config_apply_text(&cfg, text, strlen(text), "t.conf", &err), ==, 0);
    struct tsr_webrtc_config wc;
    g_assert_cmpint(tsr_webrtc_config_from(&wc, &cfg), ==, 0);
    struct tsr_dtls_cert *cert = NULL;
    g_assert_cmpint(tsr_webrtc_cert_from_config(&cfg, &cert), ==, 0);
    wc.cert = cert;
    GMainContext *ctx = g_main_context_new();
    struct tsr_webrtc_transport *t = NULL;
    struct tsr_webrtc_callbacks cb = {0};
    g_assert_cmpint(tsr_webrtc_transport_new(&t, ctx, &wc, &cb, NULL), ==, 0);
    struct tsr_sdp_local l = {0};
    g_assert_cmpint(tsr_webrtc_transport_local(t, &l), ==, 0);
    GString *out = g_string_new(NULL);
    for (size_t i = 0; i < l.n_candidates; i++) {
        struct tsr_sdp_candidate c;
        g_assert_cmpint(tsr_sdp_parse_candidate(l.candidates[i], &c), ==, 0);
        g_string_append_printf(out, "%s/%s ", c.address, c.transport);
    }
    tsr_webrtc_transport_free(&t);
    tsr_dtls_cert_unref(&cert);
    while (g_main_context_iteration(ctx, FALSE))
        ;
    g_main_context_unref(ctx);
    return g_string_free(out, FALSE);
}

static void test_media_addresses(void)
{
    /* listening on loopback: loopback is advertised (with the interfaces) */
    char *a = candidate_addresses("[server]\nlisten = 127.0.0.1:8080\n"
                                  "[webrtc]\nice_tcp = false\n");
    g_assert_nonnull(strstr(a, "127.0.0.1/udp "));
    g_assert_null(strstr(a, "/tcp"));
    g_free(a);
    /* listening everywhere: libnice's choice, which leaves loopback out when the
     * machine has another interface (a machine with none has only loopback) */
    a = candidate_addresses("[webrtc]\nice_tcp = false\n");
    g_assert_true(*a);
    g_free(a);
    /* a public address (1:1 NAT) stands for the interfaces, never for loopback */
    a = candidate_addresses("[server]\nlisten = 127.0.0.1:8080\n"
                            "[webrtc]\nice_tcp = false\npublic_address = 198.51.100.7\n");
    g_assert_nonnull(strstr(a, "127.0.0.1/udp "));
    g_free(a);
    /* an explicit list wins */
    a = candidate_addresses("[server]\nlisten = 0.0.0.0:8080\n"
                            "[webrtc]\nmedia_addresses = 127.0.0.1\nice_tcp = true\n");
    g_assert_cmpstr(a, ==, "127.0.0.1/udp 127.0.0.1/tcp ");
    g_free(a);

    /* anything but IP literals is refused when the config is read */
    struct tsr_config cfg;
    struct tsr_webrtc_config wc;
    tsr_config_defaults(&cfg);
    g_strlcpy(cfg.webrtc_media_addresses, "127.0.0.1, media.example.com",
              sizeof cfg.webrtc_media_addresses);
    g_assert_cmpint(tsr_webrtc_config_from(&wc, &cfg), ==, TSR_ERR_CONFIG);
    char *bad = NULL;
    g_assert_cmpint(tsr_ice_check_media_addresses(" 127.0.0.1 , ::1 ,", &bad), ==, 0);
    g_assert_null(bad);
    g_assert_cmpint(tsr_ice_check_media_addresses("10.0.0.300", &bad), ==, TSR_ERR_CONFIG);
    g_assert_cmpstr(bad, ==, "10.0.0.300");
    g_free(bad);
}

static void test_cert_config_errors(void)
{
    struct tsr_config cfg;
    struct tsr_dtls_cert *cert = NULL;
    tsr_config_defaults(&cfg);
    g_strlcpy(cfg.webrtc_certificate, "/nonexistent/cert.pem", sizeof(cfg.webrtc_certificate));
    g_assert_cmpint(tsr_webrtc_cert_from_config(&cfg, &cert), ==, TSR_ERR_CONFIG); /* no key */
    g_strlcpy(cfg.webrtc_private_key, "/nonexistent/key.pem", sizeof(cfg.webrtc_private_key));
    g_assert_cmpint(tsr_webrtc_cert_from_config(&cfg, &cert), ==, TSR_ERR_IO);
    g_assert_null(cert);
    /* a transport needs a certificate */
    struct tsr_webrtc_config wc = {0};
    struct tsr_webrtc_transport *t = NULL;
    struct tsr_webrtc_callbacks cb = {0};
    GMainContext *ctx = g_main_context_new();
    g_assert_cmpint(tsr_webrtc_transport_new(&t, ctx, &wc, &cb, NULL), ==, -EINVAL);
    g_assert_null(t);
    g_main_context_unref(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/webrtc_transport/config_mapping", test_config_mapping);
    g_test_add_func("/webrtc_transport/media_addresses", test_media_addresses);
    g_test_add_func("/webrtc_transport/cert_config_errors", test_cert_config_errors);
    return g_test_run();
}
