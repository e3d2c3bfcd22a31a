/* SDP parser/writer: real Chrome and Firefox offers, typed decoders, malformed input. */
#include <tessera/err.h>
#include <tessera/sdp.h>

#include <glib.h>
#include <string.h>

static char *load_offer(const char *name, size_t *len)
{
    const char *src = g_getenv("TSR_SOURCE_DIR") ? g_getenv("TSR_SOURCE_DIR") : TSR_SOURCE_DIR;
    char *path = g_build_filename(src, "tests", "data", "sdp", name, NULL);
    char *text = NULL;
    gsize n = 0;
    g_assert_true(g_file_get_contents(path, &text, &n, NULL));
    g_free(path);
    *len = n;
    return text;
}

static void test_parse_chrome(void)
{
    size_t len;
    char *text = load_offer("chrome_offer.sdp", &len);
    struct tsr_sdp *sdp = NULL;
    g_assert_cmpint(tsr_sdp_parse(text, len, &sdp, NULL), ==, 0);
    g_assert_cmpstr(sdp->origin, ==, "- 6794453818283563425 2 IN IP4 127.0.0.1");
    g_assert_cmpstr(sdp->session_name, ==, "-");
    g_assert_cmpstr(tsr_sdp_attr_find(sdp->attrs, sdp->n_attrs, "group"), ==, "BUNDLE 0 1 2");
    g_assert_cmpstr(tsr_sdp_attr_find(sdp->attrs, sdp->n_attrs, "extmap-allow-mixed"), ==, "");
    g_assert_cmpuint(sdp->n_media, ==, 3);

    const struct tsr_sdp_media *a = &sdp->media[0], *v = &sdp->media[1], *d = &sdp->media[2];
    g_assert_cmpstr(a->kind, ==, "audio");
    g_assert_cmpuint(a->port, ==, 9);
    g_assert_cmpstr(a->proto, ==, "UDP/TLS/RTP/SAVPF");
    g_assert_cmpuint(a->n_fmts, ==, 8);
    g_assert_cmpstr(a->fmts[0], ==, "111");
    g_assert_cmpstr(a->connection, ==, "IN IP4 0.0.0.0");
    g_assert_cmpstr(tsr_sdp_attr_find(a->attrs, a->n_attrs, "mid"), ==, "0");
    g_assert_cmpstr(tsr_sdp_attr_find(a->attrs, a->n_attrs, "ice-ufrag"), ==, "Xq0W");
    g_assert_cmpstr(tsr_sdp_attr_find(a->attrs, a->n_attrs, "rtcp-mux"), ==, "");
    g_assert_cmpuint(v->n_fmts, ==, 25);
    g_assert_cmpstr(v->fmts[24], ==, "118");
    g_assert_cmpstr(d->kind, ==, "application");
    g_assert_cmpstr(d->proto, ==, "UDP/DTLS/SCTP");
    g_assert_cmpstr(d->fmts[0], ==, "webrtc-datachannel");
    g_assert_cmpstr(tsr_sdp_attr_find(d->attrs, d->n_attrs, "sctp-port"), ==, "5000");

    /* ssrc-group FID of the video line */
    uint32_t p = 0, r = 0;
    g_assert_cmpint(
        tsr_sdp_parse_ssrc_group_fid(tsr_sdp_attr_find(v->attrs, v->n_attrs, "ssrc-group"), &p, &r),
        ==, 0);
    g_assert_cmpuint(p, ==, 3127409815u);
    g_assert_cmpuint(r, ==, 1498356112u);
    tsr_sdp_free(&sdp);
    g_assert_null(sdp);
    g_free(text);
}

static void test_parse_firefox(void)
{
    size_t len;
    char *text = load_offer("firefox_offer.sdp", &len);
    struct tsr_sdp *sdp = NULL;
    g_assert_cmpint(tsr_sdp_parse(text, len, &sdp, NULL), ==, 0);
    g_assert_cmpuint(sdp->n_media, ==, 4);
    /* Firefox puts the fingerprint at session level */
    const char *fp = tsr_sdp_media_attr(sdp, &sdp->media[0], "fingerprint");
    struct tsr_sdp_fingerprint f;
    g_assert_cmpint(tsr_sdp_parse_fingerprint(fp, &f), ==, 0);
    g_assert_cmpstr(f.hash, ==, "sha-256");
    g_assert_cmpuint(f.len, ==, 32);
    g_assert_cmphex(f.bytes[0], ==, 0xA1);
    g_assert_cmphex(f.bytes[31], ==, 0x8E);
    g_assert_cmpstr(sdp->media[2].kind, ==, "video");
    g_assert_cmpstr(tsr_sdp_attr_find(sdp->media[3].attrs, sdp->media[3].n_attrs, "mid"), ==, "3");
    tsr_sdp_free(&sdp);
    g_free(text);
}

static void test_typed_decoders(void)
{
    struct tsr_sdp_rtpmap r;
    g_assert_cmpint(tsr_sdp_parse_rtpmap("111 opus/48000/2", &r), ==, 0);
    g_assert_cmpint(r.pt, ==, 111);
    g_assert_cmpstr(r.name, ==, "opus");
    g_assert_cmpuint(r.clock_rate, ==, 48000);
    g_assert_cmpuint(r.channels, ==, 2);
    g_assert_cmpint(tsr_sdp_parse_rtpmap("96 VP8/90000", &r), ==, 0);
    g_assert_cmpuint(r.channels, ==, 1);
    g_assert_cmpint(tsr_sdp_parse_rtpmap("128 VP8/90000", &r), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_sdp_parse_rtpmap("96 VP8", &r), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_sdp_parse_rtpmap("96 VP8/0", &r), ==, TSR_ERR_INVALID);

    int pt;
    const char *params;
    char buf[16];
    g_assert_cmpint(tsr_sdp_parse_fmtp("102 level-asymmetry-allowed=1;packetization-mode=1;"
                                       "profile-level-id=42001f",
                                       &pt, &params),
                    ==, 0);
    g_assert_cmpint(pt, ==, 102);
    g_assert_cmpint(tsr_sdp_fmtp_get(params, "profile-level-id", buf, sizeof(buf)), ==, 0);
    g_assert_cmpstr(buf, ==, "42001f");
    g_assert_cmpint(tsr_sdp_fmtp_get(params, "packetization-mode", buf, sizeof(buf)), ==, 0);
    g_assert_cmpstr(buf, ==, "1");
    g_assert_cmpint(tsr_sdp_fmtp_get(params, "mode", buf, sizeof(buf)), ==, TSR_ERR_NOT_FOUND);
    g_assert_cmpint(tsr_sdp_fmtp_get(params, "profile-level-id", buf, 4), ==, TSR_ERR_INVALID);

    struct tsr_sdp_rtcp_fb fb;
    g_assert_cmpint(tsr_sdp_parse_rtcp_fb("96 nack pli", &fb), ==, 0);
    g_assert_cmpint(fb.pt, ==, 96);
    g_assert_cmpstr(fb.type, ==, "nack");
    g_assert_cmpstr(fb.subtype, ==, "pli");
    g_assert_cmpint(tsr_sdp_parse_rtcp_fb("* goog-remb", &fb), ==, 0);
    g_assert_cmpint(fb.pt, ==, -1);
    g_assert_cmpstr(fb.subtype, ==, "");

    struct tsr_sdp_extmap e;
    g_assert_cmpint(tsr_sdp_parse_extmap("2/recvonly urn:x:y", &e), ==, 0);
    g_assert_cmpint(e.id, ==, 2);
    g_assert_cmpstr(e.uri, ==, "urn:x:y");
    g_assert_cmpint(tsr_sdp_parse_extmap("0 urn:x", &e), ==, TSR_ERR_INVALID);

    struct tsr_sdp_candidate c;
    g_assert_cmpint(tsr_sdp_parse_candidate("candidate:3125402845 1 udp 1686052607 203.0.113.7 "
                                            "53412 typ srflx raddr 192.168.1.23 rport 53412 "
                                            "generation 0 network-id 1",
                                            &c),
                    ==, 0);
    g_assert_cmpstr(c.foundation, ==, "3125402845");
    g_assert_cmpuint(c.component, ==, 1);
    g_assert_cmpstr(c.transport, ==, "udp");
    g_assert_cmpuint(c.priority, ==, 1686052607u);
    g_assert_cmpstr(c.address, ==, "203.0.113.7");
    g_assert_cmpuint(c.port, ==, 53412);
    g_assert_cmpstr(c.type, ==, "srflx");
    g_assert_cmpstr(c.raddr, ==, "192.168.1.23");
    g_assert_cmpuint(c.rport, ==, 53412);
    g_assert_cmpint(
        tsr_sdp_parse_candidate("a=candidate:0 1 UDP 2122252543 x.local 50312 typ host", &c), ==,
        0);
    g_assert_cmpstr(c.transport, ==, "udp");
    g_assert_cmpint(tsr_sdp_parse_candidate("candidate:1 1 udp 1 1.2.3.4 70000 typ host", &c), ==,
                    TSR_ERR_INVALID);
    g_assert_cmpint(tsr_sdp_parse_candidate("candidate:1 1 udp 1 1.2.3.4 7 typ bogus", &c), ==,
                    TSR_ERR_INVALID);

    struct tsr_sdp_fingerprint f;
    g_assert_cmpint(tsr_sdp_parse_fingerprint("sha-256 zz:00", &f), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_sdp_parse_fingerprint("SHA-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:"
                                              "DD:EE:FF",
                                              &f),
                    ==, 0);
    g_assert_cmpstr(f.hash, ==, "sha-256");
    char hex[64];
    g_assert_cmpint(tsr_sdp_format_fingerprint(f.bytes, 3, hex, sizeof(hex)), ==, 0);
    g_assert_cmpstr(hex, ==, "00:11:22");
}

static void test_write_roundtrip(void)
{
    struct tsr_sdp *sdp = NULL, *back = NULL;
    struct tsr_sdp_media *m = NULL;
    const char *fmts[] = {"111"};
    char *text = NULL;
    g_assert_cmpint(tsr_sdp_new(&sdp, "- 1 2 IN IP4 0.0.0.0", "-"), ==, 0);
    g_assert_cmpint(tsr_sdp_add_attr(sdp, NULL, "ice-lite", NULL), ==, 0);
    g_assert_cmpint(tsr_sdp_add_media(sdp, "audio", 9, "UDP/TLS/RTP/SAVPF", fmts, 1, &m), ==, 0);
    g_assert_cmpint(tsr_sdp_add_attrf(sdp, m, "rtpmap", "%d opus/48000/2", 111), ==, 0);
    g_assert_cmpint(tsr_sdp_add_attr(sdp, m, "bad", "x\r\na=evil"), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_sdp_write(sdp, &text), ==, 0);
    g_assert_cmpstr(text, ==,
                    "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-lite\r\n"
                    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n");
    g_assert_cmpint(tsr_sdp_parse(text, strlen(text), &back, NULL), ==, 0);
    g_assert_cmpstr(back->media[0].attrs[0].value, ==, "111 opus/48000/2");
    tsr_sdp_free(&back);
    tsr_sdp_free(&sdp);
    tsr_sdp_free(&sdp); /* second free of a NULL pointer is a no-op */
    g_free(text);
}

static void test_malformed(void)
{
    static const char *const bad[] = {
        "",
        "garbage",
        "v=1\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n",
        "o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\ns=-\r\nt=0 0\r\n",
        "v=0\r\ns=-\r\nt=0 0\r\n",                                         /* no o= */
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nm=audio 9 RTP/AVP 0\r\n", /* m= before t= */
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP\r\n",
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 99999 RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio x RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=:x\r\n",
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=bad name\r\n",
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nx\r\n",
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=x\x01y\r\n",
        "v=0\r\nv=0\r\n",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct tsr_sdp *sdp = NULL;
        const char *why = NULL;
        int rc = tsr_sdp_parse(bad[i], strlen(bad[i]), &sdp, &why);
        g_assert_cmpint(rc, ==, TSR_ERR_INVALID);
        g_assert_null(sdp);
        g_assert_nonnull(why);
    }
    /* an embedded NUL, and an oversized line */
    struct tsr_sdp *sdp = NULL;
    const char nul[] = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\0\r\ns=-\r\nt=0 0\r\n";
    g_assert_cmpint(tsr_sdp_parse(nul, sizeof(nul) - 1, &sdp, NULL), ==, TSR_ERR_INVALID);
    GString *big = g_string_new("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=x:");
    for (int i = 0; i < TSR_SDP_MAX_LINE_BYTES; i++)
        g_string_append_c(big, 'y');
    g_assert_cmpint(tsr_sdp_parse(big->str, big->len, &sdp, NULL), ==, TSR_ERR_FULL);
    g_string_free(big, TRUE);
    g_assert_null(sdp);
}

/* RFC 8839 ice-chars and lengths, shared by the negotiator and the ICE agent. */
static void test_ice_credentials(void)
{
    g_assert_true(tsr_sdp_ice_credentials_valid("abcd", "0123456789abcdef+/ABCD"));
    g_assert_false(tsr_sdp_ice_credentials_valid("abc", "0123456789abcdef+/ABCD"));  /* short */
    g_assert_false(tsr_sdp_ice_credentials_valid("abcd", "0123456789abcdef+/ABC"));  /* short */
    g_assert_false(tsr_sdp_ice_credentials_valid("ab-d", "0123456789abcdef+/ABCD")); /* '-' */
    g_assert_false(tsr_sdp_ice_credentials_valid(NULL, "0123456789abcdef+/ABCD"));
    g_assert_false(tsr_sdp_ice_credentials_valid("abcd", NULL));
    char long_ufrag[258];
    memset(long_ufrag, 'a', 257);
    long_ufrag[257] = 0;
    g_assert_false(tsr_sdp_ice_credentials_valid(long_ufrag, "0123456789abcdef+/ABCD"));
    long_ufrag[256] = 0;
    g_assert_true(tsr_sdp_ice_credentials_valid(long_ufrag, "0123456789abcdef+/ABCD"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sdp/parse_chrome", test_parse_chrome);
    g_test_add_func("/sdp/parse_firefox", test_parse_firefox);
    g_test_add_func("/sdp/typed_decoders", test_typed_decoders);
    g_test_add_func("/sdp/write_roundtrip", test_write_roundtrip);
    g_test_add_func("/sdp/malformed", test_malformed);
    g_test_add_func("/sdp/ice_credentials", test_ice_credentials);
    return g_test_run();
}
