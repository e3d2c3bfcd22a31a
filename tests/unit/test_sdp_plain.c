/* Plain RTP offer/answer for SIP: baresip 1.0's real offers (captured on the wire,
 * tests/data/sdp/baresip10_offer.sdp, and with mediaenc=dtls_srtp
 * baresip10_dtls_offer.sdp) and hand-made shapes; the answers are parsed back and
 * checked line by line. */
#include <tessera/err.h>
#include <tessera/sdp.h>
#include <tessera/sdp_plain.h>

#include <glib.h>
#include <stdlib.h>
#include <string.h>

static char *fixture(const char *name)
{
    char *path = g_build_filename(g_getenv("TSR_SOURCE_DIR"), "tests", "data", "sdp", name, NULL);
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_free(path);
    return text;
}

static const struct tsr_sdp_plain_local local = {
    .address = "127.0.0.1",
    .audio_port = 40000,
    .video_port = 40002,
    .video_pref = TSR_SDP_VIDEO_PREF_VP8,
    .audio_ssrc = 1111,
    .video_ssrc = 2222,
    .cname = "tessera-1",
    .session_id = 77,
};

static void test_baresip_offer(void)
{
    char *offer = fixture("baresip10_offer.sdp");
    g_assert_true(tsr_sdp_is_plain_rtp(offer, strlen(offer)));
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    char reason[TSR_SDP_REASON_MAX];
    g_assert_cmpint(tsr_sdp_plain_negotiate(offer, strlen(offer), &local, &neg, &peers, reason), ==,
                    0);
    g_assert_cmpint(neg->audio_index, ==, 0);
    g_assert_cmpint(neg->video_index, ==, 1);
    g_assert_cmpint(neg->mlines[0].pt, ==, 96);
    g_assert_cmpint(neg->mlines[0].codec, ==, TSR_SDP_CODEC_OPUS);
    g_assert_cmpuint(neg->mlines[0].remote_ssrc, ==, 522874550u);
    g_assert_cmpint(neg->mlines[1].pt, ==, 96);
    g_assert_cmpint(neg->mlines[1].codec, ==, TSR_SDP_CODEC_VP8);
    g_assert_cmpuint(neg->mlines[1].fb, ==, TSR_SDP_FB_PLI); /* "* nack pli" */
    g_assert_cmpstr(peers.audio.address, ==, "192.0.2.2");
    g_assert_cmpuint(peers.audio.rtp_port, ==, 10910);
    g_assert_cmpuint(peers.audio.rtcp_port, ==, 10911);
    g_assert_false(peers.audio.rtcp_mux);
    g_assert_cmpuint(peers.video.rtp_port, ==, 16538);

    struct tsr_sdp *ans = NULL;
    g_assert_cmpint(tsr_sdp_parse(neg->answer, strlen(neg->answer), &ans, NULL), ==, 0);
    g_assert_cmpstr(ans->connection, ==, "IN IP4 127.0.0.1");
    g_assert_cmpuint(ans->n_media, ==, 2);
    g_assert_cmpuint(ans->media[0].port, ==, 40000);
    g_assert_cmpstr(ans->media[0].proto, ==, "RTP/AVP");
    /* Opus, and telephone-event 101 on the clock it was offered with (8000). */
    g_assert_cmpuint(ans->media[0].n_fmts, ==, 2);
    g_assert_cmpstr(ans->media[0].fmts[0], ==, "96");
    g_assert_cmpstr(ans->media[0].fmts[1], ==, "101");
    g_assert_cmpint(neg->mlines[0].event_pt, ==, 101);
    g_assert_cmpuint(neg->mlines[0].event_clock_rate, ==, 8000);
    g_assert_nonnull(strstr(neg->answer, "a=rtpmap:101 telephone-event/8000\r\n"
                                         "a=fmtp:101 0-15\r\n"));
    g_assert_cmpstr(tsr_sdp_attr_find(ans->media[0].attrs, ans->media[0].n_attrs, "rtpmap"), ==,
                    "96 opus/48000/2");
    g_assert_cmpstr(tsr_sdp_attr_find(ans->media[0].attrs, ans->media[0].n_attrs, "rtcp"), ==,
                    "40001");
    g_assert_nonnull(tsr_sdp_attr_find(ans->media[0].attrs, ans->media[0].n_attrs, "sendrecv"));
    g_assert_cmpuint(ans->media[1].port, ==, 40002);
    g_assert_cmpstr(tsr_sdp_attr_find(ans->media[1].attrs, ans->media[1].n_attrs, "rtpmap"), ==,
                    "96 VP8/90000");
    g_assert_cmpstr(tsr_sdp_attr_find(ans->media[1].attrs, ans->media[1].n_attrs, "rtcp-fb"), ==,
                    "96 nack pli");
    tsr_sdp_free(&ans);

    /* H.264 preferred: mode 1 (pt 98) over mode 0 (pt 97), both at level 3.1. */
    struct tsr_sdp_plain_local h264 = local;
    h264.video_pref = TSR_SDP_VIDEO_PREF_H264;
    tsr_sdp_negotiation_free(&neg);
    g_assert_cmpint(tsr_sdp_plain_negotiate(offer, strlen(offer), &h264, &neg, &peers, reason), ==,
                    0);
    g_assert_cmpint(neg->mlines[1].codec, ==, TSR_SDP_CODEC_H264);
    g_assert_cmpint(neg->mlines[1].pt, ==, 98);
    g_assert_nonnull(
        strstr(neg->answer, "a=fmtp:98 packetization-mode=1;profile-level-id=42e01f\r\n"));
    g_assert_true(neg->mlines[1].h264_read);
    g_assert_cmpint(neg->mlines[1].h264.mode, ==, 1);
    g_assert_cmpuint(neg->mlines[1].h264.max_fs, ==, 3600);
    g_assert_cmpuint(neg->mlines[1].h264.max_mbps, ==, 108000);
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
}

static void test_shapes(void)
{
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    char reason[TSR_SDP_REASON_MAX] = "";
    /* G.711 only: no common codec, said in words. */
    const char *g711 = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                       "m=audio 5000 RTP/AVP 0 8\r\n";
    g_assert_cmpint(tsr_sdp_plain_negotiate(g711, strlen(g711), &local, &neg, &peers, reason), ==,
                    TSR_ERR_UNSUPPORTED);
    g_assert_nonnull(strstr(reason, "no common codec"));
    g_assert_null(neg);
    /* rtcp-mux, a=rtcp, recvonly audio, a rejected application line and port-0 video. */
    const char *mux = "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\n"
                      "m=application 9 UDP/BFCP *\r\n"
                      "m=audio 6000 RTP/AVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-mux\r\n"
                      "a=recvonly\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n";
    g_assert_true(tsr_sdp_is_plain_rtp(mux, strlen(mux)));
    g_assert_cmpint(tsr_sdp_plain_negotiate(mux, strlen(mux), &local, &neg, &peers, reason), ==, 0);
    g_assert_cmpint(neg->audio_index, ==, 1);
    g_assert_cmpint(neg->video_index, ==, -1);
    g_assert_false(neg->mlines[1].remote_sends);
    g_assert_true(peers.audio.rtcp_mux);
    g_assert_cmpuint(peers.audio.rtcp_port, ==, 6000);
    g_assert_cmpstr(peers.audio.address, ==, "::1");
    g_assert_nonnull(strstr(neg->answer, "m=application 0 UDP/BFCP *\r\n"));
    g_assert_nonnull(strstr(neg->answer, "m=audio 40000 RTP/AVPF 111\r\n"));
    g_assert_nonnull(strstr(neg->answer, "a=rtcp-mux\r\n"));
    g_assert_nonnull(strstr(neg->answer, "a=sendonly\r\n"));
    g_assert_nonnull(strstr(neg->answer, "m=video 0 RTP/AVP 96\r\n"));
    tsr_sdp_negotiation_free(&neg);
    /* A host name in c= is refused (symmetric RTP needs an address to start from). */
    const char *named = "v=0\r\no=- 1 1 IN IP4 h\r\ns=-\r\nc=IN IP4 pbx.example\r\nt=0 0\r\n"
                        "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n";
    g_assert_cmpint(tsr_sdp_plain_negotiate(named, strlen(named), &local, &neg, &peers, reason), ==,
                    TSR_ERR_INVALID);
    /* WebRTC offers are not plain. */
    const char *webrtc = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=ice-ufrag:abcd\r\n"
                         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";
    g_assert_false(tsr_sdp_is_plain_rtp(webrtc, strlen(webrtc)));
    g_assert_false(tsr_sdp_is_plain_rtp("garbage", 7));
    /* A SIP softphone with ICE on: RTP/AVP with ice-ufrag and candidates is plain;
     * without our credentials the answer has no ICE attributes (the caller then
     * uses its m=/c= address). */
    const char *ice = "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
                      "a=ice-ufrag:Fz8a\r\na=ice-pwd:aaaaaaaaaaaaaaaaaaaaaaaa\r\n"
                      "m=audio 7078 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n"
                      "a=candidate:1 1 UDP 2130706431 192.0.2.7 7078 typ host\r\n";
    g_assert_true(tsr_sdp_is_plain_rtp(ice, strlen(ice)));
    g_assert_cmpint(tsr_sdp_plain_negotiate(ice, strlen(ice), &local, &neg, &peers, reason), ==, 0);
    g_assert_cmpstr(peers.audio.address, ==, "192.0.2.7");
    g_assert_cmpuint(peers.audio.rtp_port, ==, 7078);
    g_assert_null(strstr(neg->answer, "a=ice-"));
    g_assert_null(strstr(neg->answer, "a=candidate"));
    g_assert_false(peers.audio.ice);
    tsr_sdp_negotiation_free(&neg);
    /* With our ICE-lite credentials the same offer gets them, a=ice-lite and a
     * host candidate per component on our ports. */
    struct tsr_sdp_plain_local lite = local;
    lite.ice_ufrag = "TsrUfrag";
    lite.ice_pwd = "TessPasswordOf24Chars+/x";
    g_assert_cmpint(tsr_sdp_plain_negotiate(ice, strlen(ice), &lite, &neg, &peers, reason), ==, 0);
    g_assert_true(peers.audio.ice);
    g_assert_nonnull(strstr(neg->answer, "\r\na=ice-lite\r\n"));
    g_assert_nonnull(strstr(neg->answer, "\r\na=ice-ufrag:TsrUfrag\r\n"));
    g_assert_nonnull(strstr(neg->answer, "\r\na=ice-pwd:TessPasswordOf24Chars+/x\r\n"));
    g_assert_nonnull(
        strstr(neg->answer, "\r\na=candidate:1 1 UDP 2130706431 127.0.0.1 40000 typ host\r\n"));
    g_assert_nonnull(
        strstr(neg->answer, "\r\na=candidate:1 2 UDP 2130706430 127.0.0.1 40001 typ host\r\n"));
    g_assert_true(strstr(neg->answer, "a=ice-lite") < strstr(neg->answer, "m=audio"));
    tsr_sdp_negotiation_free(&neg);
    /* An offer without ICE gets none, credentials or not. */
    const char *no_ice = "v=0\r\no=- 1 1 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\nt=0 0\r\n"
                         "m=audio 7078 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n";
    g_assert_cmpint(tsr_sdp_plain_negotiate(no_ice, strlen(no_ice), &lite, &neg, &peers, reason),
                    ==, 0);
    g_assert_null(strstr(neg->answer, "a=ice-"));
    tsr_sdp_negotiation_free(&neg);
}

/* "Best effort" SRTP (RTP/AVP with a=crypto, as our own offer_srtp = optional
 * makes): a usable line keys the call and the answer carries our key under its
 * tag; only unusable lines leave it plain RTP, not refused. A re-offer that drops
 * the keys from a keyed call is refused (no silent downgrade to plain). */
static void test_sdes_best_effort(const struct tsr_sdp_plain_local *keyed, const char *avp)
{
    struct tsr_sdp_plain_local l = *keyed;
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers running, peers;
    char reason[TSR_SDP_REASON_MAX] = "";
    char *offer = g_strconcat(avp, "a=crypto:7 AES_CM_128_HMAC_SHA1_80 inline:short\r\n",
                              "a=crypto:2 AES_CM_128_HMAC_SHA1_32 "
                              "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\r\n",
                              NULL);
    g_assert_cmpint(tsr_sdp_plain_negotiate(offer, strlen(offer), &l, &neg, &running, reason), ==,
                    0);
    g_assert_true(running.audio.srtp);
    g_assert_cmpuint(running.audio.crypto.tag, ==, 2);
    g_assert_nonnull(strstr(neg->answer, "m=audio 40000 RTP/AVP 96\r\n"));
    g_assert_nonnull(strstr(neg->answer, "a=crypto:2 AES_CM_128_HMAC_SHA1_32 "
                                         "inline:ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CB\r\n"));
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
    offer = g_strconcat(avp, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:short\r\n", NULL);
    g_assert_cmpint(tsr_sdp_plain_negotiate(offer, strlen(offer), &l, &neg, &peers, reason), ==, 0);
    g_assert_false(peers.audio.srtp);
    g_assert_null(strstr(neg->answer, "a=crypto"));
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
    l.running = &running;
    g_assert_cmpint(tsr_sdp_plain_negotiate(avp, strlen(avp), &l, &neg, &peers, reason), ==,
                    TSR_ERR_UNSUPPORTED);
    g_assert_nonnull(strstr(reason, "drops SRTP from the audio section"));
    g_assert_null(neg);
}

/* SDES: RTP/SAVP with baresip's crypto line is answered RTP/SAVP with our own key
 * under the offer's tag and suite; without a usable line it is refused. */
static void test_sdes(void)
{
    static const uint8_t key_a[TSR_SDES_KEY_SALT_BYTES] = {
        100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113, 114,
        115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129};
    struct tsr_sdp_plain_local l = local;
    l.audio_key = l.video_key = key_a;
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    char reason[TSR_SDP_REASON_MAX] = "";
    const char *head = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                       "m=audio 5000 RTP/SAVP 96\r\na=rtpmap:96 opus/48000/2\r\n";
    char *offer = g_strconcat(head, "a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:bad\r\n",
                              "a=crypto:4 AES_CM_128_HMAC_SHA1_32 "
                              "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\r\n",
                              NULL);
    g_assert_true(tsr_sdp_is_plain_rtp(offer, strlen(offer)));
    g_assert_cmpint(tsr_sdp_plain_negotiate(offer, strlen(offer), &l, &neg, &peers, reason), ==, 0);
    g_assert_true(peers.audio.srtp);
    g_assert_cmpuint(peers.audio.crypto.tag, ==, 4);
    g_assert_cmpint(peers.audio.crypto.suite, ==, TSR_SRTP_PROFILE_AES128_CM_SHA1_32);
    g_assert_cmpuint(peers.audio.crypto.key_salt[29], ==, 29);
    g_assert_nonnull(strstr(neg->answer, "m=audio 40000 RTP/SAVP 96\r\n"));
    g_assert_nonnull(strstr(neg->answer, "a=crypto:4 AES_CM_128_HMAC_SHA1_32 "
                                         "inline:ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CB\r\n"));
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
    /* Only a malformed line: 488 material, and the words say which line and why. */
    offer = g_strconcat(head, "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:short\r\n", NULL);
    g_assert_cmpint(tsr_sdp_plain_negotiate(offer, strlen(offer), &l, &neg, &peers, reason), ==,
                    TSR_ERR_UNSUPPORTED);
    g_assert_nonnull(strstr(reason, "RTP/SAVP without a usable a=crypto line"));
    g_assert_nonnull(strstr(reason, "40 base64"));
    g_assert_null(neg);
    g_free(offer);
    /* No crypto line at all, and no local keys. */
    g_assert_cmpint(tsr_sdp_plain_negotiate(head, strlen(head), &l, &neg, &peers, reason), ==,
                    TSR_ERR_UNSUPPORTED);
    g_assert_nonnull(strstr(reason, "there is no a=crypto line"));
    g_assert_cmpint(tsr_sdp_plain_negotiate(head, strlen(head), &local, &neg, &peers, reason), ==,
                    TSR_ERR_UNSUPPORTED);
    /* Plain RTP/AVP never carries keys. */
    const char *avp = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                      "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n";
    g_assert_cmpint(tsr_sdp_plain_negotiate(avp, strlen(avp), &l, &neg, &peers, reason), ==, 0);
    g_assert_false(peers.audio.srtp);
    g_assert_null(strstr(neg->answer, "a=crypto"));
    tsr_sdp_negotiation_free(&neg);
    test_sdes_best_effort(&l, avp);
}

/* Hold (RFC 3264 §8.4 and the RFC 2543 zero address): the caller's direction
 * tells whether we send, and the answer mirrors it. */
static void test_hold(void)
{
    static const struct {
        const char *conn, *dir, *answer_dir;
        bool held, sends;
    } cases[] = {
        {"10.0.0.1", "a=sendonly\r\n", "a=recvonly\r\n", true, true},
        {"10.0.0.1", "a=inactive\r\n", "a=inactive\r\n", true, false},
        {"0.0.0.0", "", "a=sendrecv\r\n", true, true},
        {"10.0.0.1", "a=sendrecv\r\n", "a=sendrecv\r\n", false, true},
        {"10.0.0.1", "a=recvonly\r\n", "a=sendonly\r\n", false, false},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *offer = g_strdup_printf("v=0\r\no=- 1 2 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 %s\r\n"
                                      "t=0 0\r\nm=audio 5000 RTP/AVP 96\r\n"
                                      "a=rtpmap:96 opus/48000/2\r\n%s",
                                      cases[i].conn, cases[i].dir);
        struct tsr_sdp_plain_local l = local;
        l.session_version = 3;
        struct tsr_sdp_negotiation *neg = NULL;
        struct tsr_sdp_plain_peers peers;
        char reason[TSR_SDP_REASON_MAX] = "";
        g_assert_cmpint(tsr_sdp_plain_negotiate(offer, strlen(offer), &l, &neg, &peers, reason), ==,
                        0);
        g_assert_cmpint(peers.audio.held, ==, cases[i].held);
        g_assert_cmpint(peers.audio.sends, ==, cases[i].sends);
        g_assert_nonnull(strstr(neg->answer, cases[i].answer_dir));
        g_assert_nonnull(strstr(neg->answer, "o=tessera 77 3 IN IP4 127.0.0.1\r\n"));
        tsr_sdp_negotiation_free(&neg);
        g_free(offer);
    }
}

#define OUR_FP                                                                                     \
    "11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"      \
    "EE:FF:00"
#define SHA1_FP "sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33"

/* The value of attribute `name` in the answer's section i (NULL when absent). */
static const char *answer_attr(const char *answer, size_t i, const char *name, char *buf,
                               size_t size)
{
    struct tsr_sdp *ans = NULL;
    g_assert_cmpint(tsr_sdp_parse(answer, strlen(answer), &ans, NULL), ==, 0);
    g_assert_cmpuint(i, <, ans->n_media);
    const char *v = tsr_sdp_attr_find(ans->media[i].attrs, ans->media[i].n_attrs, name);
    if (v)
        g_strlcpy(buf, v, size);
    tsr_sdp_free(&ans);
    return v ? buf : NULL;
}

/* DTLS-SRTP without ICE: baresip 1.0's mediaenc=dtls_srtp offer, as it went over
 * the wire (a=setup:actpass and an upper-case SHA-256 fingerprint at session level
 * only, UDP/TLS/RTP/SAVPF, no rtcp-mux): answered in kind with our fingerprint in
 * each section and a=setup:passive; we are the DTLS server of both media. */
static void test_dtls_baresip(void)
{
    char *offer = fixture("baresip10_dtls_offer.sdp");
    g_assert_true(tsr_sdp_is_plain_rtp(offer, strlen(offer)));
    struct tsr_sdp_plain_local l = local;
    l.fingerprint_sha256 = OUR_FP;
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    char reason[TSR_SDP_REASON_MAX] = "", buf[160];
    g_assert_cmpint(tsr_sdp_plain_negotiate(offer, strlen(offer), &l, &neg, &peers, reason), ==, 0);
    g_assert_cmpint(neg->audio_index, ==, 0);
    g_assert_cmpint(neg->video_index, ==, 1);
    g_assert_true(peers.audio.dtls && peers.video.dtls);
    g_assert_false(peers.audio.srtp || peers.audio.rtcp_mux);
    g_assert_cmpuint(peers.audio.rtcp_port, ==, 2887);
    g_assert_cmpstr(peers.audio.dtls_params.fingerprint.hash, ==, "sha-256");
    g_assert_cmpuint(peers.audio.dtls_params.fingerprint.len, ==, 32);
    g_assert_cmpuint(peers.audio.dtls_params.fingerprint.bytes[0], ==, 0x62);
    g_assert_cmpint(peers.audio.dtls_params.setup, ==, TSR_SDP_SETUP_ACTPASS);
    g_assert_cmpint(peers.video.dtls_params.local_role, ==, TSR_DTLS_ROLE_SERVER);
    g_assert_nonnull(strstr(neg->answer, "m=audio 40000 UDP/TLS/RTP/SAVPF 96 101\r\n"));
    g_assert_nonnull(strstr(neg->answer, "m=video 40002 UDP/TLS/RTP/SAVPF 96\r\n"));
    for (size_t i = 0; i < 2; i++) {
        g_assert_cmpstr(answer_attr(neg->answer, i, "setup", buf, sizeof buf), ==, "passive");
        g_assert_cmpstr(answer_attr(neg->answer, i, "fingerprint", buf, sizeof buf), ==,
                        "sha-256 " OUR_FP);
        g_assert_null(answer_attr(neg->answer, i, "connection", buf, sizeof buf));
        g_assert_null(answer_attr(neg->answer, i, "crypto", buf, sizeof buf));
    }
    g_assert_cmpstr(answer_attr(neg->answer, 1, "rtcp", buf, sizeof buf), ==, "40003");
    tsr_sdp_negotiation_free(&neg);
    /* Without a certificate there is nothing to answer DTLS with. */
    g_assert_cmpint(tsr_sdp_plain_negotiate(offer, strlen(offer), &local, &neg, &peers, reason), ==,
                    TSR_ERR_UNSUPPORTED);
    g_assert_nonnull(strstr(reason, "DTLS-SRTP is not available"));
    g_free(offer);
}

static int dtls_offer(const char *session, const char *media, const struct tsr_sdp_plain_local *l,
                      struct tsr_sdp_negotiation **neg, struct tsr_sdp_plain_peers *peers,
                      char reason[TSR_SDP_REASON_MAX])
{
    char *offer = g_strdup_printf("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\n"
                                  "t=0 0\r\n%sm=audio 5000 UDP/TLS/RTP/SAVP 96\r\n"
                                  "a=rtpmap:96 opus/48000/2\r\na=rtcp-mux\r\n%s",
                                  session, media);
    int rc = tsr_sdp_plain_negotiate(offer, strlen(offer), l, neg, peers, reason);
    g_free(offer);
    return rc;
}

/* Roles, a=connection, several fingerprints, and what is refused with a reason
 * (a SIP front answers those 488 with the reason in its Reason header). */
static void test_dtls_shapes(void)
{
    struct tsr_sdp_plain_local l = local;
    l.fingerprint_sha256 = OUR_FP;
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    char reason[TSR_SDP_REASON_MAX] = "", buf[160];
    /* passive caller: we are the client; a=connection:new is echoed; the media's
     * sha-1 replaces the session's md5, and of two the strongest is taken. */
    g_assert_cmpint(
        dtls_offer("a=fingerprint:md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n",
                   "a=setup:passive\r\na=connection:new\r\na=fingerprint:" SHA1_FP
                   "\r\na=fingerprint:sha-256 " OUR_FP "\r\n",
                   &l, &neg, &peers, reason),
        ==, 0);
    g_assert_true(peers.audio.dtls && peers.audio.rtcp_mux);
    g_assert_cmpint(peers.audio.dtls_params.local_role, ==, TSR_DTLS_ROLE_CLIENT);
    g_assert_cmpstr(peers.audio.dtls_params.fingerprint.hash, ==, "sha-256");
    g_assert_cmpstr(answer_attr(neg->answer, 0, "setup", buf, sizeof buf), ==, "active");
    g_assert_cmpstr(answer_attr(neg->answer, 0, "connection", buf, sizeof buf), ==, "new");
    g_assert_nonnull(answer_attr(neg->answer, 0, "rtcp-mux", buf, sizeof buf));
    tsr_sdp_negotiation_free(&neg);
    /* sha-1 alone is checked too; active caller: we are the server. */
    g_assert_cmpint(
        dtls_offer("", "a=setup:active\r\na=fingerprint:" SHA1_FP "\r\n", &l, &neg, &peers, reason),
        ==, 0);
    g_assert_cmpstr(peers.audio.dtls_params.fingerprint.hash, ==, "sha-1");
    g_assert_cmpint(peers.audio.dtls_params.local_role, ==, TSR_DTLS_ROLE_SERVER);
    g_assert_cmpstr(answer_attr(neg->answer, 0, "setup", buf, sizeof buf), ==, "passive");
    tsr_sdp_negotiation_free(&neg);
    static const struct {
        const char *session, *media, *words;
    } refused[] = {
        {"", "a=setup:actpass\r\n", "it has no a=fingerprint"},
        {"a=fingerprint:md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n", "",
         "no a=fingerprint is a sha-256/1/224/384/512 digest"},
        {"", "a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n",
         "no a=fingerprint is a sha-256/1/224/384/512 digest"}, /* 16 bytes: not a sha-256 digest */
        {"", "a=fingerprint:sha-256 zz\r\n", "no a=fingerprint is a sha-256/1/224/384/512 digest"},
        {"a=fingerprint:" SHA1_FP "\r\n", "a=setup:holdconn\r\n", "holdconn"},
        {"a=fingerprint:" SHA1_FP "\r\n", "a=setup:both\r\n", "not actpass, active or passive"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        reason[0] = '\0';
        g_assert_cmpint(dtls_offer(refused[i].session, refused[i].media, &l, &neg, &peers, reason),
                        ==, TSR_ERR_UNSUPPORTED);
        g_assert_null(neg);
        g_assert_nonnull(strstr(reason, "the audio section is UDP/TLS/RTP/SAVP but"));
        g_assert_nonnull(strstr(reason, refused[i].words));
    }
    /* A fingerprint beside RTP/AVP (no UDP/TLS) is no SIP-style DTLS offer. */
    const char *odd = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                      "a=fingerprint:" SHA1_FP "\r\nm=audio 5000 RTP/AVP 96\r\n";
    g_assert_false(tsr_sdp_is_plain_rtp(odd, strlen(odd)));
}

/* A re-INVITE (hold) keeps the association: same fingerprint, our role as it was
 * even when the re-offer says actpass again; a new fingerprint, a=connection:new,
 * swapped roles, rtcp-mux changes or leaving DTLS are refused. */
static void test_dtls_reoffer(void)
{
    struct tsr_sdp_plain_local l = local;
    l.fingerprint_sha256 = OUR_FP;
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers running, peers;
    char reason[TSR_SDP_REASON_MAX] = "", buf[160];
    const char *fp = "a=fingerprint:sha-256 " OUR_FP "\r\n";
    g_assert_cmpint(dtls_offer(fp, "a=setup:passive\r\n", &l, &neg, &running, reason), ==, 0);
    g_assert_cmpint(running.audio.dtls_params.local_role, ==, TSR_DTLS_ROLE_CLIENT);
    tsr_sdp_negotiation_free(&neg);
    l.running = &running;
    g_assert_cmpint(
        dtls_offer(fp, "a=sendonly\r\na=connection:existing\r\n", &l, &neg, &peers, reason), ==, 0);
    g_assert_true(peers.audio.held);
    g_assert_cmpint(peers.audio.dtls_params.local_role, ==, TSR_DTLS_ROLE_CLIENT);
    g_assert_cmpstr(answer_attr(neg->answer, 0, "setup", buf, sizeof buf), ==, "active");
    g_assert_cmpstr(answer_attr(neg->answer, 0, "connection", buf, sizeof buf), ==, "existing");
    g_assert_cmpstr(answer_attr(neg->answer, 0, "fingerprint", buf, sizeof buf), ==,
                    "sha-256 " OUR_FP);
    tsr_sdp_negotiation_free(&neg);
    static const struct {
        const char *session, *media, *words;
    } refused[] = {
        {"a=fingerprint:" SHA1_FP "\r\n", "", "its a=fingerprint changed"},
        {"", "a=connection:new\r\n", "a=connection:new"},
        {"", "a=setup:active\r\n", "its a=setup swaps the DTLS roles"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        char *session = g_strconcat(fp, refused[i].session, NULL);
        if (refused[i].session[0]) { /* a new fingerprint instead of ours */
            g_free(session);
            session = g_strdup(refused[i].session);
        }
        g_assert_cmpint(dtls_offer(session, refused[i].media, &l, &neg, &peers, reason), ==,
                        TSR_ERR_UNSUPPORTED);
        g_assert_nonnull(strstr(reason, "cannot keep the call's DTLS-SRTP"));
        g_assert_nonnull(strstr(reason, refused[i].words));
        g_free(session);
    }
    /* rtcp-mux dropped, and a plain RTP/AVP re-offer. */
    const char *nomux = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                        "a=fingerprint:sha-256 " OUR_FP "\r\nm=audio 5000 UDP/TLS/RTP/SAVP 96\r\n"
                        "a=rtpmap:96 opus/48000/2\r\n";
    g_assert_cmpint(tsr_sdp_plain_negotiate(nomux, strlen(nomux), &l, &neg, &peers, reason), ==,
                    TSR_ERR_UNSUPPORTED);
    g_assert_nonnull(strstr(reason, "rtcp-mux"));
    const char *avp = "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
                      "m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\na=rtcp-mux\r\n";
    g_assert_cmpint(tsr_sdp_plain_negotiate(avp, strlen(avp), &l, &neg, &peers, reason), ==,
                    TSR_ERR_UNSUPPORTED);
    g_assert_nonnull(strstr(reason, "switches the audio section away from DTLS-SRTP"));
    g_assert_null(neg);
}

/* G.711 for callers without Opus: the first of PCMU/PCMA in the offer's order
 * (static payload types need no rtpmap), a=ptime:20; Opus still wins when offered;
 * nothing but Opus unless the local side says it can carry G.711. */
static char *g711_offer(const char *fmts, const char *maps)
{
    return g_strdup_printf("v=0\r\no=- 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\n"
                           "t=0 0\r\nm=audio 10910 RTP/AVP %s\r\n%sa=sendrecv\r\n",
                           fmts, maps);
}

/* What the local side may carry besides Opus (expect_audio's `allow`). */
enum { NO_NARROW = 0, G711 = 1, G722 = 2, BOTH = 3 };

static void expect_audio(const char *offer, int allow, int rc_want, int pt,
                         enum tsr_sdp_codec codec, const char *rtpmap)
{
    static const char *const takes[] = {"opus/48000/2 audio", "Opus, PCMU or PCMA audio",
                                        "Opus or G722 audio", "Opus, G722, PCMU or PCMA audio"};
    struct tsr_sdp_plain_local l = local;
    l.audio_g711 = allow & G711;
    l.audio_g722 = allow & G722;
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    char reason[TSR_SDP_REASON_MAX];
    int rc = tsr_sdp_plain_negotiate(offer, strlen(offer), &l, &neg, &peers, reason);
    g_assert_cmpint(rc, ==, rc_want);
    if (rc) {
        g_assert_nonnull(strstr(reason, takes[allow]));
        return;
    }
    g_assert_cmpint(neg->audio_index, ==, 0);
    g_assert_cmpint(neg->mlines[0].pt, ==, pt);
    g_assert_cmpint(neg->mlines[0].codec, ==, codec);
    g_assert_cmpuint(neg->mlines[0].clock_rate, ==, codec == TSR_SDP_CODEC_OPUS ? 48000 : 8000);
    struct tsr_sdp *ans = NULL;
    g_assert_cmpint(tsr_sdp_parse(neg->answer, strlen(neg->answer), &ans, NULL), ==, 0);
    bool event = strstr(offer, "telephone-event/8000") != NULL;
    g_assert_cmpuint(ans->media[0].n_fmts, ==, event ? 2 : 1);
    g_assert_cmpint(atoi(ans->media[0].fmts[0]), ==, pt);
    if (event)
        g_assert_cmpint(atoi(ans->media[0].fmts[1]), ==, 101);
    const struct tsr_sdp_media *m = &ans->media[0];
    g_assert_cmpstr(tsr_sdp_attr_find(m->attrs, m->n_attrs, "rtpmap"), ==, rtpmap);
    g_assert_cmpstr(tsr_sdp_attr_find(m->attrs, m->n_attrs, "ptime"), ==, "20");
    if (codec != TSR_SDP_CODEC_OPUS) /* no fmtp for the codec (the event's is "101 0-15") */
        g_assert_cmpstr(tsr_sdp_attr_find(m->attrs, m->n_attrs, "fmtp"), ==,
                        event ? "101 0-15" : NULL);
    tsr_sdp_free(&ans);
    tsr_sdp_negotiation_free(&neg);
}

static void test_g711(void)
{
    const char *ev = "a=rtpmap:101 telephone-event/8000\r\n";
    char *maps = g_strdup_printf("a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n%s", ev);
    char *o = g711_offer("0 8 101", maps);
    expect_audio(o, G711, 0, 0, TSR_SDP_CODEC_PCMU, "0 PCMU/8000");
    expect_audio(o, NO_NARROW, TSR_ERR_UNSUPPORTED, 0, TSR_SDP_CODEC_NONE, NULL);
    g_free(o);
    o = g711_offer("8 0", ""); /* static types, no rtpmap: PCMA listed first */
    expect_audio(o, G711, 0, 8, TSR_SDP_CODEC_PCMA, "8 PCMA/8000");
    g_free(o);
    o = g711_offer("101 0", ev);
    expect_audio(o, G711, 0, 0, TSR_SDP_CODEC_PCMU, "0 PCMU/8000");
    g_free(o);
    char *opus = g_strdup_printf("a=rtpmap:96 opus/48000/2\r\n%s", maps);
    o = g711_offer("0 8 96 101", opus); /* Opus offered after G.711: still Opus */
    expect_audio(o, G711, 0, 96, TSR_SDP_CODEC_OPUS, "96 opus/48000/2");
    expect_audio(o, NO_NARROW, 0, 96, TSR_SDP_CODEC_OPUS, "96 opus/48000/2");
    g_free(o);
    o = g711_offer("9 101", "a=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\n");
    expect_audio(o, G711, TSR_ERR_UNSUPPORTED, 0, TSR_SDP_CODEC_NONE, NULL);
    expect_audio(o, BOTH, 0, 9, TSR_SDP_CODEC_G722, "9 G722/8000");
    g_free(o);
    o = g711_offer("0", "a=rtpmap:0 PCMU/16000\r\n"); /* a rate G.711 does not have */
    expect_audio(o, G711, TSR_ERR_UNSUPPORTED, 0, TSR_SDP_CODEC_NONE, NULL);
    g_free(o);
    g_free(opus);
    g_free(maps);
}

/* G.722 for callers without Opus, before G.711 wherever the offer lists it
 * (wideband), answered `a=rtpmap:9 G722/8000` (RFC 3551's clock) and a=ptime:20;
 * baresip 1.0's full offer (96 9 0 8 101) still gets Opus. */
static void test_g722(void)
{
    const char *maps = "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
                       "a=rtpmap:9 G722/8000\r\na=rtpmap:101 telephone-event/8000\r\n";
    char *o = g711_offer("0 8 9 101", maps); /* G.711 listed first: G.722 still wins */
    expect_audio(o, BOTH, 0, 9, TSR_SDP_CODEC_G722, "9 G722/8000");
    expect_audio(o, G711, 0, 0, TSR_SDP_CODEC_PCMU, "0 PCMU/8000");
    expect_audio(o, G722, 0, 9, TSR_SDP_CODEC_G722, "9 G722/8000");
    g_free(o);
    o = g711_offer("8 9", ""); /* static types without rtpmap */
    expect_audio(o, BOTH, 0, 9, TSR_SDP_CODEC_G722, "9 G722/8000");
    g_free(o);
    o = g711_offer("9", "a=rtpmap:9 G722/16000\r\n"); /* the rate people mistakenly write */
    expect_audio(o, BOTH, TSR_ERR_UNSUPPORTED, 0, TSR_SDP_CODEC_NONE, NULL);
    g_free(o);
    o = g711_offer("9", "");
    expect_audio(o, G722, 0, 9, TSR_SDP_CODEC_G722, "9 G722/8000");
    expect_audio(o, G711, TSR_ERR_UNSUPPORTED, 0, TSR_SDP_CODEC_NONE, NULL);
    g_free(o);
    char *offer = fixture("baresip10_offer.sdp");
    struct tsr_sdp_plain_local l = local;
    l.audio_g711 = l.audio_g722 = true;
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    char reason[TSR_SDP_REASON_MAX];
    g_assert_cmpint(tsr_sdp_plain_negotiate(offer, strlen(offer), &l, &neg, &peers, reason), ==, 0);
    g_assert_cmpint(neg->mlines[0].codec, ==, TSR_SDP_CODEC_OPUS);
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
}

/* RFC 4733 telephone-event is answered in every plain audio answer that offers
 * it: its payload type and clock as offered (the one on the codec's clock when
 * several are), fmtp 0-15; never a static type, never without audio. */
static void test_telephone_event(void)
{
    struct {
        const char *fmts, *maps;
        int event_pt;
        const char *line;
    } cases[] = {
        {"9 101", "a=rtpmap:101 telephone-event/8000\r\n", 101, "101 telephone-event/8000"},
        {"96 100 101",
         "a=rtpmap:96 opus/48000/2\r\na=rtpmap:100 telephone-event/8000\r\n"
         "a=rtpmap:101 telephone-event/48000\r\n",
         101, "101 telephone-event/48000"},
        {"96 110", "a=rtpmap:96 opus/48000/2\r\na=rtpmap:110 telephone-event/8000\r\n", 110,
         "110 telephone-event/8000"},
        {"0 13", "a=rtpmap:13 telephone-event/8000\r\n", -1, NULL}, /* static: not RFC 4733 */
        {"0", "", -1, NULL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *o = g711_offer(cases[i].fmts, cases[i].maps);
        struct tsr_sdp_plain_local l = local;
        l.audio_g711 = l.audio_g722 = true;
        struct tsr_sdp_negotiation *neg = NULL;
        struct tsr_sdp_plain_peers peers;
        char reason[TSR_SDP_REASON_MAX];
        g_assert_cmpint(tsr_sdp_plain_negotiate(o, strlen(o), &l, &neg, &peers, reason), ==, 0);
        g_assert_cmpint(neg->mlines[0].event_pt, ==, cases[i].event_pt);
        struct tsr_sdp *ans = NULL;
        g_assert_cmpint(tsr_sdp_parse(neg->answer, strlen(neg->answer), &ans, NULL), ==, 0);
        const struct tsr_sdp_media *m = &ans->media[0];
        g_assert_cmpuint(m->n_fmts, ==, cases[i].line ? 2 : 1);
        struct tsr_sdp_rtpmap r;
        g_assert_cmpint(tsr_sdp_media_rtpmap(m, cases[i].event_pt, &r), ==, cases[i].line != NULL);
        if (cases[i].line) {
            char want[64];
            g_snprintf(want, sizeof want, "%s/%u", r.name, r.clock_rate);
            g_assert_cmpstr(strchr(cases[i].line, ' ') + 1, ==, want);
        }
        tsr_sdp_free(&ans);
        tsr_sdp_negotiation_free(&neg);
        g_free(o);
    }
}

/* b=TIAS (b/s) or else b=AS (kb/s), media level before session level, is the
 * most the offerer takes on video; our answer says what we take (b=AS and
 * b=TIAS) and echoes `ccm tmmbr` when offered. The b= lines survive a parse and
 * write of the answer. */
static void test_bandwidth(void)
{
    struct {
        const char *session, *media;
        uint64_t want_bps;
    } cases[] = {
        {"b=AS:256\r\n", "", 256000},
        {"b=AS:256\r\n", "b=AS:512\r\n", 512000},
        {"", "b=AS:400\r\nb=TIAS:300000\r\n", 300000},
        {"b=TIAS:128000\r\n", "b=CT:99\r\n", 128000},
        {"", "b=AS:lots\r\nb=X-YZ:1\r\n", 0},
        {"", "", 0},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *o = g_strdup_printf(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\n%st=0 0\r\n"
            "m=audio 10910 RTP/AVP 0\r\nb=AS:80\r\n"
            "m=video 16538 RTP/AVPF 96\r\n%sa=rtpmap:96 VP8/90000\r\n"
            "a=rtcp-fb:96 nack pli\r\na=rtcp-fb:96 ccm tmmbr\r\n",
            cases[i].session, cases[i].media);
        struct tsr_sdp_plain_local l = local;
        l.audio_g711 = true;
        l.video_accept_bps = 2500000;
        struct tsr_sdp_negotiation *neg = NULL;
        struct tsr_sdp_plain_peers peers;
        char reason[TSR_SDP_REASON_MAX];
        g_assert_cmpint(tsr_sdp_plain_negotiate(o, strlen(o), &l, &neg, &peers, reason), ==, 0);
        g_assert_cmpint(neg->video_index, ==, 1);
        g_assert_cmpuint(neg->mlines[1].remote_max_bps, ==, cases[i].want_bps);
        g_assert_cmpuint(neg->mlines[0].remote_max_bps, ==, 0); /* audio: not ours to cap */
        g_assert_true(neg->mlines[1].fb & TSR_SDP_FB_TMMBR);
        g_assert_nonnull(strstr(neg->answer, "a=rtcp-fb:96 ccm tmmbr\r\n"));
        g_assert_nonnull(strstr(neg->answer, "m=video 40002 RTP/AVPF 96\r\n"
                                             "b=AS:2500\r\nb=TIAS:2500000\r\n"));
        struct tsr_sdp *ans = NULL;
        g_assert_cmpint(tsr_sdp_parse(neg->answer, strlen(neg->answer), &ans, NULL), ==, 0);
        g_assert_cmpuint(ans->media[1].bw.as_kbps, ==, 2500);
        g_assert_cmpuint(ans->media[1].bw.tias_bps, ==, 2500000);
        g_assert_cmpuint(ans->media[0].bw.as_kbps, ==, 0);
        tsr_sdp_free(&ans);
        tsr_sdp_negotiation_free(&neg);
        g_free(o);
    }
}

/* A video section offering the given H.264 formats ("97 98", then each one's
 * rtpmap and fmtp lines), answered with H.264 preferred. */
static struct tsr_sdp_negotiation *h264_answer(const char *fmts, const char *lines)
{
    char *o = g_strdup_printf("v=0\r\no=- 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\n"
                              "t=0 0\r\nm=audio 10910 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n"
                              "m=video 16538 RTP/AVP %s\r\n%s",
                              fmts, lines);
    struct tsr_sdp_plain_local l = local;
    l.video_pref = TSR_SDP_VIDEO_PREF_H264;
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    char reason[TSR_SDP_REASON_MAX];
    g_assert_cmpint(tsr_sdp_plain_negotiate(o, strlen(o), &l, &neg, &peers, reason), ==, 0);
    g_free(o);
    return neg;
}

#define H264_MAP(pt) "a=rtpmap:" pt " H264/90000\r\n"

/* Packetization-mode 0 (RFC 6184 single NAL unit) is answered when it is all the
 * offer has; with both, mode 1 wins wherever it is listed. The answer keeps the
 * mode, lowers the level to the offer's when that is below our 3.1 (never raises
 * it) and then says what we decode in max-fs/max-mbps; the offer's own max-fs
 * and max-mbps are read as what it decodes and never echoed back as ours. */
static void test_h264_modes(void)
{
    struct tsr_sdp_negotiation *neg = h264_answer(
        "97", H264_MAP("97") "a=fmtp:97 packetization-mode=0;profile-level-id=42e01f\r\n");
    const struct tsr_sdp_mline *v = &neg->mlines[1];
    g_assert_cmpint(v->codec, ==, TSR_SDP_CODEC_H264);
    g_assert_cmpint(v->pt, ==, 97);
    g_assert_true(v->h264_read);
    g_assert_cmpint(v->h264.mode, ==, 0);
    g_assert_nonnull(
        strstr(neg->answer, "a=fmtp:97 packetization-mode=0;profile-level-id=42e01f\r\n"));
    tsr_sdp_negotiation_free(&neg);

    /* Both, mode 0 first: mode 1. No packetization-mode means 0 (RFC 6184 §8.1). */
    neg = h264_answer("97 98",
                      H264_MAP("97") "a=fmtp:97 profile-level-id=42e01f\r\n" H264_MAP(
                          "98") "a=fmtp:98 profile-level-id=42e01f;packetization-mode=1\r\n");
    g_assert_cmpint(neg->mlines[1].pt, ==, 98);
    g_assert_cmpint(neg->mlines[1].h264.mode, ==, 1);
    tsr_sdp_negotiation_free(&neg);

    /* A CIF room system: level 1.3 with max-fs=396. The answer lowers the level to
     * 1.3 and states our own receive limits. */
    neg = h264_answer("97", H264_MAP("97") "a=fmtp:97 profile-level-id=42e00d;max-fs=396;"
                                           "packetization-mode=0\r\n");
    v = &neg->mlines[1];
    g_assert_cmpint(v->h264.mode, ==, 0);
    g_assert_cmpuint(v->h264.level_idc, ==, 13);
    g_assert_cmpuint(v->h264.max_fs, ==, 396);
    g_assert_true(v->h264.max_fs_said);
    g_assert_cmpuint(v->h264.max_mbps, ==, 11880); /* level 1.3's */
    g_assert_false(v->h264.max_mbps_said);
    g_assert_cmpuint(v->h264.max_br_kbps, ==, 768); /* level 1.3's MaxBR */
    g_assert_nonnull(strstr(neg->answer, "a=fmtp:97 packetization-mode=0;profile-level-id=42e00d;"
                                         "max-fs=3600;max-mbps=108000\r\n"));
    g_assert_null(strstr(neg->answer, "max-fs=396"));
    tsr_sdp_negotiation_free(&neg);

    /* Level 4.0 with a large max-fs: answered at our 3.1; read as it was said. */
    neg = h264_answer("98", H264_MAP("98") "a=fmtp:98 profile-level-id=42e028;max-fs=8160;"
                                           "max-mbps=244800;packetization-mode=1\r\n");
    g_assert_cmpuint(neg->mlines[1].h264.max_fs, ==, 8160);
    g_assert_cmpuint(neg->mlines[1].h264.max_mbps, ==, 244800);
    g_assert_cmpuint(neg->mlines[1].h264.max_br_kbps, ==, 20000); /* level 4.0's */
    g_assert_nonnull(
        strstr(neg->answer, "a=fmtp:98 packetization-mode=1;profile-level-id=42e01f\r\n"));
    tsr_sdp_negotiation_free(&neg);

    /* No profile-level-id: RFC 6184's default 42000A, level 1.0 (QCIF). */
    neg = h264_answer("98", H264_MAP("98") "a=fmtp:98 packetization-mode=1\r\n");
    g_assert_cmpuint(neg->mlines[1].h264.max_fs, ==, 99);
    g_assert_nonnull(strstr(neg->answer, "profile-level-id=42e00a;max-fs=3600"));
    tsr_sdp_negotiation_free(&neg);

    /* Unusable H.264 (mode 2, High profile, a malformed max-fs) falls back to VP8. */
    const char *bad[] = {"packetization-mode=2;profile-level-id=42e01f",
                         "packetization-mode=1;profile-level-id=64001f",
                         "packetization-mode=1;profile-level-id=42e01f;max-fs=0",
                         "packetization-mode=1;profile-level-id=42e01f;max-mbps=lots",
                         "packetization-mode=1;profile-level-id=42e01f;max-br=-5"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *lines =
            g_strdup_printf(H264_MAP("98") "a=fmtp:98 %s\r\na=rtpmap:96 VP8/90000\r\n", bad[i]);
        neg = h264_answer("98 96", lines);
        g_assert_cmpint(neg->mlines[1].codec, ==, TSR_SDP_CODEC_VP8);
        g_assert_false(neg->mlines[1].h264_read);
        tsr_sdp_negotiation_free(&neg);
        g_free(lines);
    }
    /* The PIN lobby's picture (mode 1 packetizer) still takes mode 1 only. */
    g_assert_false(tsr_sdp_h264_usable("packetization-mode=0;profile-level-id=42e01f"));
    g_assert_true(tsr_sdp_h264_usable("packetization-mode=1;profile-level-id=42e01f"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sdp_plain/h264_modes", test_h264_modes);
    g_test_add_func("/sdp_plain/baresip_offer", test_baresip_offer);
    g_test_add_func("/sdp_plain/shapes", test_shapes);
    g_test_add_func("/sdp_plain/sdes", test_sdes);
    g_test_add_func("/sdp_plain/hold", test_hold);
    g_test_add_func("/sdp_plain/dtls_baresip", test_dtls_baresip);
    g_test_add_func("/sdp_plain/dtls_shapes", test_dtls_shapes);
    g_test_add_func("/sdp_plain/dtls_reoffer", test_dtls_reoffer);
    g_test_add_func("/sdp_plain/g711", test_g711);
    g_test_add_func("/sdp_plain/g722", test_g722);
    g_test_add_func("/sdp_plain/telephone_event", test_telephone_event);
    g_test_add_func("/sdp_plain/bandwidth", test_bandwidth);
    return g_test_run();
}
