/* Offer → answer: real Chrome and Firefox offers answered line by line, codec
 * choice, rejected m-lines, and the errors the HTTP layer turns into 400s. */
#include <tessera/err.h>
#include <tessera/sdp_negotiate.h>

#include <glib.h>
#include <string.h>

#include "sdp_testutil.h"

#define FP_HEX                                                                                     \
    "0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:"   \
    "E8:F9"
#define CAND "candidate:1 1 udp 2130706431 198.51.100.10 40000 typ host"

static const char *const local_cands[] = {CAND};

static struct tsr_sdp_local local_params(enum tsr_sdp_video_pref pref)
{
    struct tsr_sdp_local l = {
        .ice_ufrag = "tsrU",
        .ice_pwd = "TesseraIcePassword0123456",
        .ice_lite = true,
        .fingerprint_sha256 = FP_HEX,
        .candidates = local_cands,
        .n_candidates = 1,
        .video_pref = pref,
        .audio_ssrc = 1111,
        .video_ssrc = 2222,
        .cname = "tsr-cname",
        .stream_id = "tessera",
        .session_id = 42,
    };
    return l;
}

/* The offer without lines starting with `drop` (NULL: none), with `from` → `to`
 * substituted once per line (NULL: none). */
static char *edit_offer(const char *text, const char *drop, const char *from, const char *to)
{
    gchar **lines = g_strsplit(text, "\r\n", -1);
    GString *out = g_string_new(NULL);
    for (size_t i = 0; lines[i]; i++) {
        if (!lines[i][0] || (drop && g_str_has_prefix(lines[i], drop)))
            continue;
        const char *hit = from ? strstr(lines[i], from) : NULL;
        if (hit) {
            g_string_append_len(out, lines[i], hit - lines[i]);
            g_string_append(out, to);
            g_string_append(out, hit + strlen(from));
        } else {
            g_string_append(out, lines[i]);
        }
        g_string_append(out, "\r\n");
    }
    g_strfreev(lines);
    return g_string_free(out, FALSE);
}

static struct tsr_sdp_negotiation *negotiate_ok(const char *offer, enum tsr_sdp_video_pref pref)
{
    struct tsr_sdp_local l = local_params(pref);
    struct tsr_sdp_negotiation *neg = NULL;
    char reason[TSR_SDP_REASON_MAX] = "";
    int rc = tsr_sdp_negotiate(offer, strlen(offer), &l, &neg, reason);
    if (rc != 0)
        g_error("negotiate failed: %d %s", rc, reason);
    return neg;
}

static void assert_lines(const char *answer, const char *const *expect, size_t n)
{
    gchar **got = g_strsplit(answer, "\r\n", -1);
    size_t n_got = g_strv_length(got);
    g_assert_cmpstr(got[n_got - 1], ==, ""); /* ends with CRLF */
    for (size_t i = 0; i < n && i < n_got - 1; i++) {
        if (strcmp(got[i], expect[i]) != 0)
            g_error("answer line %zu: got \"%s\", want \"%s\"", i + 1, got[i], expect[i]);
    }
    g_assert_cmpuint(n_got - 1, ==, n);
    g_strfreev(got);
}

static void test_chrome_answer(void)
{
    char *offer = st_load_fixture("chrome_offer.sdp");
    struct tsr_sdp_negotiation *neg = negotiate_ok(offer, TSR_SDP_VIDEO_PREF_VP8);
    static const char *const want[] = {
        "v=0",
        "o=- 42 2 IN IP4 0.0.0.0",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "a=ice-lite",
        "a=ice-ufrag:tsrU",
        "a=ice-pwd:TesseraIcePassword0123456",
        "a=fingerprint:sha-256 " FP_HEX,
        "a=msid-semantic: WMS tessera",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 0.0.0.0",
        "a=ice-ufrag:tsrU",
        "a=ice-pwd:TesseraIcePassword0123456",
        "a=fingerprint:sha-256 " FP_HEX,
        "a=setup:passive",
        "a=mid:0",
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=sendrecv",
        "a=msid:tessera tessera-audio",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=ssrc:1111 cname:tsr-cname",
        "a=ssrc:1111 msid:tessera tessera-audio",
        "a=" CAND,
        "a=end-of-candidates",
        "m=video 9 UDP/TLS/RTP/SAVPF 96",
        "c=IN IP4 0.0.0.0",
        "a=ice-ufrag:tsrU",
        "a=ice-pwd:TesseraIcePassword0123456",
        "a=fingerprint:sha-256 " FP_HEX,
        "a=setup:passive",
        "a=mid:1",
        "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid",
        "a=sendrecv",
        "a=msid:tessera tessera-video",
        "a=rtcp-mux",
        "a=rtpmap:96 VP8/90000",
        "a=rtcp-fb:96 nack",
        "a=rtcp-fb:96 nack pli",
        "a=rtcp-fb:96 ccm fir",
        "a=rtcp-fb:96 goog-remb",
        "a=ssrc:2222 cname:tsr-cname",
        "a=ssrc:2222 msid:tessera tessera-video",
        "a=" CAND,
        "a=end-of-candidates",
        "m=application 0 UDP/DTLS/SCTP webrtc-datachannel",
        "c=IN IP4 0.0.0.0",
        "a=ice-ufrag:tsrU",
        "a=ice-pwd:TesseraIcePassword0123456",
        "a=fingerprint:sha-256 " FP_HEX,
        "a=setup:passive",
        "a=mid:2",
    };
    assert_lines(neg->answer, want, G_N_ELEMENTS(want));

    g_assert_cmpuint(neg->n_mlines, ==, 3);
    g_assert_cmpint(neg->audio_index, ==, 0);
    g_assert_cmpint(neg->video_index, ==, 1);
    const struct tsr_sdp_mline *a = &neg->mlines[0], *v = &neg->mlines[1], *d = &neg->mlines[2];
    g_assert_true(a->accepted);
    g_assert_cmpstr(a->mid, ==, "0");
    g_assert_cmpint(a->codec, ==, TSR_SDP_CODEC_OPUS);
    g_assert_cmpint(a->pt, ==, 111);
    g_assert_cmpuint(a->clock_rate, ==, 48000);
    g_assert_cmpuint(a->channels, ==, 2);
    g_assert_cmpint(a->ext_audio_level_id, ==, 1);
    g_assert_cmpint(a->ext_mid_id, ==, 4);
    g_assert_cmpuint(a->remote_ssrc, ==, 2180035812u);
    g_assert_true(a->remote_sends);
    g_assert_cmpint(v->codec, ==, TSR_SDP_CODEC_VP8);
    g_assert_cmpint(v->pt, ==, 96);
    g_assert_cmpint(v->rtx_pt, ==, -1);
    g_assert_cmpuint(v->clock_rate, ==, 90000);
    g_assert_cmpint(v->ext_audio_level_id, ==, 0);
    g_assert_cmpint(v->ext_mid_id, ==, 4);
    g_assert_cmpuint(v->fb, ==,
                     TSR_SDP_FB_NACK | TSR_SDP_FB_PLI | TSR_SDP_FB_FIR | TSR_SDP_FB_REMB |
                         TSR_SDP_FB_TRANSPORT_CC);
    g_assert_cmpuint(v->remote_ssrc, ==, 3127409815u);
    g_assert_cmpuint(v->remote_rtx_ssrc, ==, 1498356112u);
    g_assert_false(d->accepted);
    g_assert_cmpint(d->kind, ==, TSR_SDP_MEDIA_KIND_OTHER);
    g_assert_cmpint(d->pt, ==, -1);

    g_assert_cmpstr(neg->remote_ufrag, ==, "Xq0W");
    g_assert_cmpstr(neg->remote_pwd, ==, "Zm8dEjtYvKq1xH7bP3c9Lr2s");
    g_assert_cmpint(neg->local_dtls_role, ==, TSR_SDP_DTLS_ROLE_SERVER);
    g_assert_cmpuint(neg->remote_fingerprint.len, ==, 32);
    g_assert_cmphex(neg->remote_fingerprint.bytes[0], ==, 0x3C);
    g_assert_cmpuint(neg->n_remote_candidates, ==, 3);
    g_assert_true(g_str_has_prefix(neg->remote_candidates[0], "candidate:1467250027 1 udp"));
    g_assert_null(neg->remote_candidates[3]);
    tsr_sdp_negotiation_free(&neg);
    g_assert_null(neg);
    g_free(offer);
}

static struct tsr_sdp_negotiation *negotiate_red(const char *offer, bool red)
{
    struct tsr_sdp_local l = local_params(TSR_SDP_VIDEO_PREF_VP8);
    struct tsr_sdp_negotiation *neg = NULL;
    char reason[TSR_SDP_REASON_MAX] = "";
    l.audio_red = red;
    int rc = tsr_sdp_negotiate(offer, strlen(offer), &l, &neg, reason);
    if (rc != 0)
        g_error("negotiate failed: %d %s", rc, reason);
    return neg;
}

/* RED for Opus (RFC 2198): Chrome's offer lists red/48000/2 with fmtp 111/111.
 * The answer puts RED before Opus (Chromium only sends RED that precedes the codec
 * it carries) and is otherwise exactly the answer without RED; Opus keeps its FEC. */
static void test_chrome_red(void)
{
    char *offer = st_load_fixture("chrome_offer.sdp");
    struct tsr_sdp_negotiation *plain = negotiate_red(offer, false);
    struct tsr_sdp_negotiation *neg = negotiate_red(offer, true);
    g_assert_cmpint(plain->mlines[0].red_pt, ==, -1);
    g_assert_cmpint(neg->mlines[0].red_pt, ==, 63);
    g_assert_cmpint(neg->mlines[0].pt, ==, 111);
    g_assert_cmpint(neg->mlines[1].red_pt, ==, -1); /* video's red/90000 is not ours */
    g_assert_nonnull(strstr(neg->answer, "m=audio 9 UDP/TLS/RTP/SAVPF 63 111\r\n"));
    g_assert_nonnull(strstr(neg->answer, "a=rtpmap:63 red/48000/2\r\n"
                                         "a=fmtp:63 111/111\r\n"
                                         "a=rtpmap:111 opus/48000/2\r\n"
                                         "a=fmtp:111 minptime=10;useinbandfec=1\r\n"));
    char *back = edit_offer(neg->answer, "a=rtpmap:63", "SAVPF 63 111", "SAVPF 111");
    char *back2 = edit_offer(back, "a=fmtp:63", NULL, NULL);
    g_assert_cmpstr(back2, ==, plain->answer);
    g_free(back);
    g_free(back2);
    tsr_sdp_negotiation_free(&plain);
    tsr_sdp_negotiation_free(&neg);

    /* RED whose blocks are not all Opus, or without its fmtp, is not taken. */
    static const char *const bad[][2] = {{"a=fmtp:63 111/111", "a=fmtp:63 111/9"},
                                         {"a=fmtp:63 111/111", "a=fmtp:63 111/x"},
                                         {"a=fmtp:63 111/111", "a=fmtp:63 "},
                                         {"a=rtpmap:63 red/48000/2", "a=rtpmap:63 red/48000/1"}};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *o = edit_offer(offer, NULL, bad[i][0], bad[i][1]);
        neg = negotiate_red(o, true);
        g_assert_cmpint(neg->mlines[0].red_pt, ==, -1);
        g_assert_null(strstr(neg->answer, "red/48000"));
        tsr_sdp_negotiation_free(&neg);
        g_free(o);
    }
    char *no_fmtp = edit_offer(offer, "a=fmtp:63", NULL, NULL);
    neg = negotiate_red(no_fmtp, true);
    g_assert_cmpint(neg->mlines[0].red_pt, ==, -1);
    tsr_sdp_negotiation_free(&neg);
    g_free(no_fmtp);
    g_free(offer);

    /* A client without RED (Firefox ESR 153 offers none for audio) gets exactly
     * the answer it got before. */
    offer = st_load_fixture("firefox153esr_headless_offer.sdp");
    plain = negotiate_red(offer, false);
    neg = negotiate_red(offer, true);
    g_assert_cmpint(neg->mlines[0].red_pt, ==, -1);
    g_assert_cmpstr(neg->answer, ==, plain->answer);
    tsr_sdp_negotiation_free(&plain);
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
}

static void test_chrome_h264(void)
{
    char *offer = st_load_fixture("chrome_offer.sdp");
    struct tsr_sdp_negotiation *neg = negotiate_ok(offer, TSR_SDP_VIDEO_PREF_H264);
    /* 106 is the first constrained-baseline (42e01f) entry with packetization-mode=1;
     * 102 (42001f, baseline) is offered earlier but CB is preferred. */
    g_assert_cmpint(neg->mlines[1].codec, ==, TSR_SDP_CODEC_H264);
    g_assert_cmpint(neg->mlines[1].pt, ==, 106);
    g_assert_nonnull(strstr(neg->answer, "m=video 9 UDP/TLS/RTP/SAVPF 106\r\n"));
    g_assert_nonnull(strstr(neg->answer, "a=rtpmap:106 H264/90000\r\n"));
    g_assert_nonnull(strstr(neg->answer, "a=fmtp:106 level-asymmetry-allowed=1;"
                                         "packetization-mode=1;profile-level-id=42e01f\r\n"));
    tsr_sdp_negotiation_free(&neg);

    /* Without VP8 and without 42e01f, plain baseline 42001f mode 1 is taken. */
    char *no_vp8 = edit_offer(offer, "a=fmtp:106", "VP8/90000", "VP7/90000");
    neg = negotiate_ok(no_vp8, TSR_SDP_VIDEO_PREF_VP8);
    g_assert_cmpint(neg->mlines[1].codec, ==, TSR_SDP_CODEC_H264);
    g_assert_cmpint(neg->mlines[1].pt, ==, 102);
    tsr_sdp_negotiation_free(&neg);
    g_free(no_vp8);
    g_free(offer);
}

static void test_firefox_answer(void)
{
    char *offer = st_load_fixture("firefox_offer.sdp");
    struct tsr_sdp_negotiation *neg = negotiate_ok(offer, TSR_SDP_VIDEO_PREF_VP8);
    g_assert_cmpuint(neg->n_mlines, ==, 4);
    g_assert_true(neg->mlines[0].accepted);
    g_assert_cmpint(neg->mlines[0].pt, ==, 109);
    g_assert_cmpint(neg->mlines[0].ext_audio_level_id, ==, 1);
    g_assert_cmpint(neg->mlines[0].ext_mid_id, ==, 3);
    g_assert_true(neg->mlines[1].accepted);
    g_assert_cmpint(neg->mlines[1].pt, ==, 120);
    g_assert_cmpuint(neg->mlines[1].remote_ssrc, ==, 1122334455u);
    g_assert_cmpuint(neg->mlines[1].remote_rtx_ssrc, ==, 2233445566u);
    g_assert_false(neg->mlines[2].accepted); /* second video */
    g_assert_cmpint(neg->mlines[2].kind, ==, TSR_SDP_MEDIA_KIND_VIDEO);
    g_assert_false(neg->mlines[3].accepted); /* data channel */
    g_assert_cmpstr(neg->remote_ufrag, ==, "9f3a1c2e");
    g_assert_cmphex(neg->remote_fingerprint.bytes[0], ==, 0xA1); /* session-level */
    g_assert_cmpuint(neg->n_remote_candidates, ==, 2);

    /* m-lines in the offer's order, rejected ones with port 0 and their mid */
    gchar **lines = g_strsplit(neg->answer, "\r\n", -1);
    const char *mlines[4] = {0}, *mids[4] = {0};
    size_t nm = 0;
    for (size_t i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], "m=") && nm < 4)
            mlines[nm++] = lines[i];
        else if (g_str_has_prefix(lines[i], "a=mid:") && nm)
            mids[nm - 1] = lines[i];
    }
    g_assert_cmpuint(nm, ==, 4);
    g_assert_cmpstr(mlines[0], ==, "m=audio 9 UDP/TLS/RTP/SAVPF 109");
    g_assert_cmpstr(mlines[1], ==, "m=video 9 UDP/TLS/RTP/SAVPF 120");
    g_assert_cmpstr(mlines[2], ==, "m=video 0 UDP/TLS/RTP/SAVPF 120");
    g_assert_cmpstr(mlines[3], ==, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel");
    g_assert_cmpstr(mids[2], ==, "a=mid:2");
    g_assert_cmpstr(mids[3], ==, "a=mid:3");
    g_strfreev(lines);
    g_assert_nonnull(strstr(neg->answer, "a=group:BUNDLE 0 1\r\n"));
    g_assert_nonnull(strstr(neg->answer, "a=fmtp:109 minptime=10;useinbandfec=1\r\n"));
    tsr_sdp_negotiation_free(&neg);

    /* Asking for DTX ([audio] client_dtx): the Opus fmtp says usedtx=1. */
    struct tsr_sdp_local l = local_params(TSR_SDP_VIDEO_PREF_VP8);
    l.ask_dtx = true;
    char reason[TSR_SDP_REASON_MAX] = "";
    g_assert_cmpint(tsr_sdp_negotiate(offer, strlen(offer), &l, &neg, reason), ==, 0);
    g_assert_nonnull(strstr(neg->answer, "a=fmtp:109 minptime=10;useinbandfec=1;usedtx=1\r\n"));
    tsr_sdp_negotiation_free(&neg);

    /* H.264 preferred: 126 has packetization-mode=1; 97 (mode 0) is skipped. */
    neg = negotiate_ok(offer, TSR_SDP_VIDEO_PREF_H264);
    g_assert_cmpint(neg->mlines[1].pt, ==, 126);
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
}

/* An offer captured from headless Chromium 156 (Debian 12) during an interop run
 * in which that browser connected to this transport and decoded our video. */
static void test_chromium_captured(void)
{
    char *offer = st_load_fixture("chromium156_headless_offer.sdp");
    struct tsr_sdp_negotiation *neg = negotiate_ok(offer, TSR_SDP_VIDEO_PREF_VP8);
    g_assert_cmpuint(neg->n_mlines, ==, 3);
    g_assert_cmpint(neg->mlines[0].pt, ==, 111);
    g_assert_cmpint(neg->mlines[0].ext_audio_level_id, ==, 1);
    g_assert_cmpint(neg->mlines[0].ext_mid_id, ==, 4);
    g_assert_cmpint(neg->mlines[1].pt, ==, 96);
    g_assert_false(neg->mlines[2].accepted);
    g_assert_cmpstr(neg->remote_ufrag, ==, "NUWI");
    g_assert_cmpstr(neg->remote_pwd, ==, "K/SlC2yar/+NkCYSDvz9CHt6");
    g_assert_cmpuint(neg->n_remote_candidates, ==, 4); /* 2 UDP + 2 TCP, component 1 */
    g_assert_nonnull(strstr(neg->answer, "m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
    tsr_sdp_negotiation_free(&neg);
    neg = negotiate_ok(offer, TSR_SDP_VIDEO_PREF_H264);
    g_assert_cmpint(neg->mlines[1].codec, ==, TSR_SDP_CODEC_H264);
    g_assert_cmpint(neg->mlines[1].pt, ==, 108); /* 42e01f, packetization-mode=1 */
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
}

/* An offer captured from headless Firefox ESR 153 (Debian 12) in an interop run:
 * session-level fingerprint and direction, mDNS-only candidates, no H.264
 * (no OpenH264 plugin), RTCP-component candidates. */
static void test_firefox_captured(void)
{
    char *offer = st_load_fixture("firefox153esr_headless_offer.sdp");
    struct tsr_sdp_negotiation *neg = negotiate_ok(offer, TSR_SDP_VIDEO_PREF_H264);
    g_assert_cmpuint(neg->n_mlines, ==, 3);
    g_assert_cmpint(neg->mlines[0].codec, ==, TSR_SDP_CODEC_OPUS);
    g_assert_cmpint(neg->mlines[0].pt, ==, 109);
    g_assert_cmpint(neg->mlines[1].codec, ==, TSR_SDP_CODEC_VP8); /* H.264 preferred, absent */
    g_assert_cmpint(neg->mlines[1].pt, ==, 120);
    g_assert_false(neg->mlines[2].accepted);
    g_assert_cmpstr(neg->remote_ufrag, ==, "742b3843");
    g_assert_cmpint(neg->local_dtls_role, ==, TSR_SDP_DTLS_ROLE_SERVER);
    g_assert_cmpuint(neg->remote_fingerprint.len, ==, 32);
    g_assert_cmphex(neg->remote_fingerprint.bytes[0], ==, 0x39);
    /* component-1 candidates of the bundle line only: 2 UDP + 2 TCP, all mDNS */
    g_assert_cmpuint(neg->n_remote_candidates, ==, 4);
    for (size_t i = 0; i < neg->n_remote_candidates; i++)
        g_assert_nonnull(strstr(neg->remote_candidates[i], ".local "));
    g_assert_nonnull(strstr(neg->answer, "a=sendrecv\r\n"));
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
}

static void test_directions_and_setup(void)
{
    char *offer = st_load_fixture("chrome_offer.sdp");
    char *passive = edit_offer(offer, NULL, "a=setup:actpass", "a=setup:passive");
    struct tsr_sdp_negotiation *neg = negotiate_ok(passive, TSR_SDP_VIDEO_PREF_VP8);
    g_assert_cmpint(neg->local_dtls_role, ==, TSR_SDP_DTLS_ROLE_CLIENT);
    g_assert_nonnull(strstr(neg->answer, "a=setup:active\r\n"));
    g_assert_null(strstr(neg->answer, "a=setup:passive"));
    tsr_sdp_negotiation_free(&neg);

    char *sendonly = edit_offer(offer, NULL, "a=sendrecv", "a=sendonly");
    neg = negotiate_ok(sendonly, TSR_SDP_VIDEO_PREF_VP8);
    g_assert_nonnull(strstr(neg->answer, "a=recvonly\r\n"));
    g_assert_null(strstr(neg->answer, "a=sendrecv"));
    g_assert_true(neg->mlines[0].remote_sends);
    tsr_sdp_negotiation_free(&neg);

    char *recvonly = edit_offer(offer, NULL, "a=sendrecv", "a=recvonly");
    neg = negotiate_ok(recvonly, TSR_SDP_VIDEO_PREF_VP8);
    g_assert_nonnull(strstr(neg->answer, "a=sendonly\r\n"));
    g_assert_false(neg->mlines[1].remote_sends);
    tsr_sdp_negotiation_free(&neg);
    g_free(passive);
    g_free(sendonly);
    g_free(recvonly);
    g_free(offer);
}

/* Pexip's SDK with a presentation call type: Chrome's offer plus a third video
 * line (a=content:slides) in the BUNDLE, in direction `dir`; `ssrcs` keeps the
 * sender's a=ssrc lines (with another SSRC) as when it sends a screen. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
/* GCC 12 at -O2 takes st_load_fixture's returned buffer for its dangling local. */
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif
static char *pexip_offer(const char *dir, bool ssrcs)
{
    char *offer = st_load_fixture("chrome_offer.sdp");
    gsize from = (gsize)(strstr(offer, "m=video") - offer);
    gsize to = (gsize)(strstr(offer, "m=application") - offer);
    char *video = g_strndup(offer + from, to - from);
    char *a = st_replace_all(video, "a=mid:1", "a=mid:3");
    char *dir_line = g_strdup_printf("a=%s\r\na=content:slides", dir);
    char *b = st_replace_all(a, "a=sendrecv", dir_line);
    char *c =
        ssrcs ? st_replace_all(b, "3127409815", "4000000001") : edit_offer(b, "a=ssrc", NULL, NULL);
    char *d = edit_offer(c, "a=msid", NULL, NULL);
    char *bundled = st_replace_all(offer, "BUNDLE 0 1 2", "BUNDLE 0 1 2 3");
    char *out = g_strconcat(bundled, d, NULL);
    g_free(offer), g_free(video), g_free(a), g_free(dir_line), g_free(b), g_free(c), g_free(d);
    g_free(bundled);
    return out;
}

/* The slides line is accepted in the BUNDLE with its content echoed, and only
 * ever receives: inactive stays inactive, sendonly gets recvonly, recvonly (a
 * Pexip receiver) gets inactive, since the presentation is in the composite. */
static void test_pexip_slides(void)
{
    static const struct {
        const char *offer_dir, *answer_dir;
        bool sends;
    } cases[] = {{"inactive", "inactive", false},
                 {"sendonly", "recvonly", true},
                 {"recvonly", "inactive", false}};
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *offer = pexip_offer(cases[i].offer_dir, cases[i].sends);
        struct tsr_sdp_negotiation *neg = negotiate_ok(offer, TSR_SDP_VIDEO_PREF_VP8);
        g_assert_cmpuint(neg->n_mlines, ==, 4);
        g_assert_cmpint(neg->video_index, ==, 1);
        g_assert_cmpint(neg->slides_index, ==, 3);
        const struct tsr_sdp_mline *m = &neg->mlines[3];
        g_assert_true(m->accepted && m->slides && !neg->mlines[1].slides);
        g_assert_cmpstr(m->mid, ==, "3");
        g_assert_cmpint(m->codec, ==, TSR_SDP_CODEC_VP8);
        g_assert_cmpint(m->pt, ==, 96);
        g_assert_true(m->remote_sends == cases[i].sends);
        g_assert_cmpuint(m->remote_ssrc, ==, cases[i].sends ? 4000000001u : 0);
        g_assert_nonnull(strstr(neg->answer, "a=group:BUNDLE 0 1 3\r\n"));
        const char *sec = strstr(neg->answer, "a=mid:3\r\n");
        g_assert_nonnull(sec);
        char *want = g_strdup_printf("a=mid:3\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid"
                                     "\r\na=%s\r\na=content:slides\r\na=rtcp-mux\r\n"
                                     "a=rtpmap:96 VP8/90000\r\n",
                                     cases[i].answer_dir);
        if (!g_str_has_prefix(sec, want))
            g_error("slides answer for %s:\n%s", cases[i].offer_dir, sec);
        /* We send nothing there: no SSRC or msid of ours on that line. */
        g_assert_null(strstr(sec, "a=ssrc:"));
        g_assert_null(strstr(sec, "a=msid:"));
        g_free(want);
        tsr_sdp_negotiation_free(&neg);
        g_free(offer);
    }
}

static void expect_error(const char *offer, int want_rc, const char *want_reason)
{
    struct tsr_sdp_local l = local_params(TSR_SDP_VIDEO_PREF_VP8);
    struct tsr_sdp_negotiation *neg = NULL;
    char reason[TSR_SDP_REASON_MAX] = "";
    int rc = tsr_sdp_negotiate(offer, strlen(offer), &l, &neg, reason);
    g_assert_cmpint(rc, ==, want_rc);
    g_assert_null(neg);
    if (!strstr(reason, want_reason))
        g_error("reason \"%s\" does not contain \"%s\"", reason, want_reason);
}

static void test_errors(void)
{
    char *offer = st_load_fixture("chrome_offer.sdp");
    char *fx = st_load_fixture("firefox_offer.sdp");

    char *no_fp = edit_offer(offer, "a=fingerprint", NULL, NULL);
    expect_error(no_fp, TSR_ERR_INVALID, "no DTLS fingerprint");
    char *no_fp_fx = edit_offer(fx, "a=fingerprint", NULL, NULL);
    expect_error(no_fp_fx, TSR_ERR_INVALID, "no DTLS fingerprint");
    char *sha1 = edit_offer(offer, NULL, "sha-256 3C:4A", "sha-1 3C:4A");
    expect_error(sha1, TSR_ERR_UNSUPPORTED, "not sha-256");

    /* only VP9 and AV1 and High-profile H.264 left */
    char *no_video = edit_offer(offer, NULL, "VP8/90000", "VP7/90000");
    char *no_video2 = edit_offer(no_video, NULL, "packetization-mode=1;profile-level-id=42",
                                 "packetization-mode=1;profile-level-id=64");
    /* a section without a common codec is rejected alone (JSEP); the offer fails
     * only when no audio or video section is left */
    struct tsr_sdp_negotiation *part = negotiate_ok(no_video2, TSR_SDP_VIDEO_PREF_VP8);
    g_assert_true(part->mlines[0].accepted);
    g_assert_false(part->mlines[1].accepted);
    g_assert_cmpint(part->video_index, ==, -1);
    tsr_sdp_negotiation_free(&part);
    char *no_audio = edit_offer(offer, NULL, "opus/48000/2", "speex/48000/2");
    part = negotiate_ok(no_audio, TSR_SDP_VIDEO_PREF_VP8);
    g_assert_false(part->mlines[0].accepted);
    g_assert_true(part->mlines[1].accepted);
    tsr_sdp_negotiation_free(&part);
    char *no_both = edit_offer(no_video2, NULL, "opus/48000/2", "speex/48000/2");
    expect_error(no_both, TSR_ERR_UNSUPPORTED, "no common audio codec");

    expect_error("v=0\r\nthis is not sdp\r\n", TSR_ERR_INVALID, "malformed SDP");
    expect_error("", TSR_ERR_INVALID, "malformed SDP");
    char *no_bundle = edit_offer(offer, "a=group:BUNDLE", NULL, NULL);
    expect_error(no_bundle, TSR_ERR_UNSUPPORTED, "BUNDLE");
    char *no_mux = edit_offer(offer, "a=rtcp-mux", NULL, NULL);
    expect_error(no_mux, TSR_ERR_UNSUPPORTED, "rtcp-mux");
    char *no_pwd = edit_offer(offer, "a=ice-pwd", NULL, NULL);
    expect_error(no_pwd, TSR_ERR_INVALID, "ice-ufrag");

    enum tsr_sdp_video_pref pref = TSR_SDP_VIDEO_PREF_VP8;
    g_assert_cmpint(tsr_sdp_video_pref_parse("h264", &pref), ==, 0);
    g_assert_cmpint(pref, ==, TSR_SDP_VIDEO_PREF_H264);
    g_assert_cmpint(tsr_sdp_video_pref_parse("vp8", &pref), ==, 0);
    g_assert_cmpint(pref, ==, TSR_SDP_VIDEO_PREF_VP8);
    g_assert_cmpint(tsr_sdp_video_pref_parse("av1", &pref), ==, TSR_ERR_INVALID);
    g_assert_cmpint(pref, ==, TSR_SDP_VIDEO_PREF_VP8);

    /* a bad local configuration is the server's fault, not the offer's */
    struct tsr_sdp_local l = local_params(TSR_SDP_VIDEO_PREF_VP8);
    l.audio_ssrc = 0;
    struct tsr_sdp_negotiation *neg = NULL;
    g_assert_cmpint(tsr_sdp_negotiate(offer, strlen(offer), &l, &neg, NULL), ==, -EINVAL);
    g_assert_null(neg);

    g_free(no_fp);
    g_free(no_fp_fx);
    g_free(sha1);
    g_free(no_video);
    g_free(no_video2);
    g_free(no_audio);
    g_free(no_both);
    g_free(no_bundle);
    g_free(no_mux);
    g_free(no_pwd);
    g_free(fx);
    g_free(offer);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sdp_negotiate/chrome_answer", test_chrome_answer);
    g_test_add_func("/sdp_negotiate/chrome_red", test_chrome_red);
    g_test_add_func("/sdp_negotiate/chrome_h264", test_chrome_h264);
    g_test_add_func("/sdp_negotiate/firefox_answer", test_firefox_answer);
    g_test_add_func("/sdp_negotiate/chromium_captured", test_chromium_captured);
    g_test_add_func("/sdp_negotiate/firefox_captured", test_firefox_captured);
    g_test_add_func("/sdp_negotiate/directions_and_setup", test_directions_and_setup);
    g_test_add_func("/sdp_negotiate/errors", test_errors);
    g_test_add_func("/sdp_negotiate/pexip_slides", test_pexip_slides);
    return g_test_run();
}
