/* Offers from stacks other than Chrome, each answered and the answer parsed back
 * with our own parser: which sections are accepted, and that every section of
 * the answer (rejected ones included) carries what strict parsers look for.
 *
 * Fixtures in tests/data/sdp/: gstreamer122_webrtcbin_offer.sdp is captured from
 * GStreamer 1.22 webrtcbin (Debian 12, max-bundle, video then audio);
 * firefox153esr_headless_offer.sdp from Firefox ESR; safari17_offer.sdp and
 * libdatachannel_offer.sdp are written after those stacks' offer formats (Safari:
 * H.264 only, several profile-level-ids, packetization-mode 0 and 1;
 * libdatachannel: ICE and DTLS at session level, named mids, a data channel).
 * The shapes (audio only, video only, three videos, a viewer) are built below.
 *
 * With TSR_SDP_ANSWER_DIR set, every answer is also written there as
 * <case>.answer.sdp (to feed a real stack or an issue note). */
#include <tessera/err.h>
#include <tessera/sdp.h>
#include <tessera/sdp_negotiate.h>

#include <glib.h>
#include <string.h>

#include "sdp_testutil.h"

#define FP_HEX                                                                                     \
    "0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:"   \
    "E8:F9"

static const char *const local_cands[] = {
    "candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host",
    "candidate:2 1 tcp 1015021823 127.0.0.1 40001 typ host tcptype passive",
};

static struct tsr_sdp_negotiation *negotiate(const char *name, const char *offer,
                                             enum tsr_sdp_video_pref pref)
{
    struct tsr_sdp_local l = {
        .ice_ufrag = "tsrU",
        .ice_pwd = "TesseraIcePassword0123456",
        .ice_lite = true,
        .fingerprint_sha256 = FP_HEX,
        .candidates = local_cands,
        .n_candidates = G_N_ELEMENTS(local_cands),
        .video_pref = pref,
        .audio_ssrc = 1111,
        .video_ssrc = 2222,
        .cname = "tsr-cname",
        .stream_id = "tessera",
        .session_id = 42,
    };
    struct tsr_sdp_negotiation *neg = NULL;
    char reason[TSR_SDP_REASON_MAX] = "";
    int rc = tsr_sdp_negotiate(offer, strlen(offer), &l, &neg, reason);
    if (rc != 0)
        g_error("%s: negotiate failed: %d %s", name, rc, reason);
    const char *dir = g_getenv("TSR_SDP_ANSWER_DIR");
    if (dir) {
        char *path = g_strdup_printf("%s/%s.answer.sdp", dir, name);
        g_assert_true(g_file_set_contents(path, neg->answer, -1, NULL));
        g_free(path);
    }
    return neg;
}

/* What one section of the answer must be. */
struct want {
    const char *mline; /* the whole m= line */
    const char *mid;
    bool accepted;
};

static void check_section(const struct tsr_sdp *a, const struct tsr_sdp_media *m,
                          const struct want *w, GString *bundle)
{
    GString *ml = g_string_new(NULL);
    g_string_printf(ml, "m=%s %u %s", m->kind, m->port, m->proto);
    for (size_t f = 0; f < m->n_fmts; f++)
        g_string_append_printf(ml, " %s", m->fmts[f]);
    g_assert_cmpstr(ml->str, ==, w->mline);
    g_string_free(ml, TRUE);
    g_assert_cmpstr(tsr_sdp_attr_find(m->attrs, m->n_attrs, "mid"), ==, w->mid);
    /* every section, rejected or not, stands alone for a strict parser */
    static const char *const transport[] = {"ice-ufrag", "ice-pwd", "fingerprint", "setup"};
    for (size_t t = 0; t < G_N_ELEMENTS(transport); t++)
        g_assert_nonnull(tsr_sdp_attr_find(m->attrs, m->n_attrs, transport[t]));
    g_assert_nonnull(m->connection);
    g_assert_null(tsr_sdp_attr_find(m->attrs, m->n_attrs, "bundle-only"));
    if (w->accepted) {
        g_assert_cmpuint(m->port, ==, 9);
        g_string_append_printf(bundle, " %s", w->mid);
        g_assert_nonnull(tsr_sdp_media_attr(a, m, "candidate"));
    } else {
        g_assert_cmpuint(m->port, ==, 0);
        g_assert_null(tsr_sdp_attr_find(m->attrs, m->n_attrs, "ssrc"));
        g_assert_null(tsr_sdp_attr_find(m->attrs, m->n_attrs, "candidate"));
    }
}

/* Parses the answer back and checks every section against `want`. */
static void check_answer(const struct tsr_sdp_negotiation *neg, const struct want *want, size_t n)
{
    struct tsr_sdp *a = NULL;
    const char *why = NULL;
    if (tsr_sdp_parse(neg->answer, strlen(neg->answer), &a, &why) != 0)
        g_error("the answer does not parse back: %s", why);
    g_assert_cmpuint(a->n_media, ==, n);
    g_assert_cmpuint(neg->n_mlines, ==, n);
    GString *bundle = g_string_new("BUNDLE");
    for (size_t i = 0; i < n; i++) {
        check_section(a, &a->media[i], &want[i], bundle);
        g_assert_cmpint(neg->mlines[i].accepted, ==, want[i].accepted);
        g_assert_cmpstr(neg->mlines[i].mid, ==, want[i].mid);
    }
    g_assert_cmpstr(tsr_sdp_attr_find(a->attrs, a->n_attrs, "group"), ==, bundle->str);
    g_assert_cmpstr(tsr_sdp_attr_find(a->attrs, a->n_attrs, "fingerprint"), ==, "sha-256 " FP_HEX);
    g_assert_cmpstr(tsr_sdp_attr_find(a->attrs, a->n_attrs, "ice-ufrag"), ==, "tsrU");
    g_assert_cmpstr(tsr_sdp_attr_find(a->attrs, a->n_attrs, "ice-pwd"), ==,
                    "TesseraIcePassword0123456");
    g_string_free(bundle, TRUE);
    tsr_sdp_free(&a);
}

/* The direction attribute of section i of the answer. */
static const char *answer_direction(const struct tsr_sdp_negotiation *neg, size_t i)
{
    static char dir[16];
    struct tsr_sdp *a = NULL;
    g_assert_cmpint(tsr_sdp_parse(neg->answer, strlen(neg->answer), &a, NULL), ==, 0);
    static const char *const dirs[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    dir[0] = '\0';
    for (size_t d = 0; d < G_N_ELEMENTS(dirs); d++)
        if (tsr_sdp_attr_find(a->media[i].attrs, a->media[i].n_attrs, dirs[d]))
            g_strlcpy(dir, dirs[d], sizeof dir);
    tsr_sdp_free(&a);
    return dir;
}

static void test_gstreamer_webrtcbin(void)
{
    char *offer = st_load_fixture("gstreamer122_webrtcbin_offer.sdp");
    /* VP8 is all webrtcbin offered here: chosen even when H.264 is preferred */
    struct tsr_sdp_negotiation *neg = negotiate("gstreamer", offer, TSR_SDP_VIDEO_PREF_H264);
    static const struct want want[] = {
        {"m=video 9 UDP/TLS/RTP/SAVPF 96", "video0", true},
        {"m=audio 9 UDP/TLS/RTP/SAVPF 97", "audio1", true}, /* port 0 + bundle-only offered */
    };
    check_answer(neg, want, G_N_ELEMENTS(want));
    g_assert_cmpint(neg->video_index, ==, 0);
    g_assert_cmpint(neg->audio_index, ==, 1);
    g_assert_cmpint(neg->mlines[0].codec, ==, TSR_SDP_CODEC_VP8);
    g_assert_cmpint(neg->mlines[1].codec, ==, TSR_SDP_CODEC_OPUS); /* "OPUS/48000/2" */
    g_assert_cmpuint(neg->mlines[0].fb, ==, TSR_SDP_FB_PLI | TSR_SDP_FB_FIR | TSR_SDP_FB_TRANSPORT_CC);
    g_assert_true(neg->mlines[1].remote_sends);
    g_assert_cmpuint(neg->mlines[1].remote_ssrc, !=, 0);
    g_assert_cmpint(neg->local_dtls_role, ==, TSR_SDP_DTLS_ROLE_SERVER);
    g_assert_cmpuint(neg->n_remote_candidates, ==, 0); /* webrtcbin trickles them all */
    g_assert_nonnull(strstr(neg->answer, "a=rtpmap:97 opus/48000/2\r\n"));
    tsr_sdp_negotiation_free(&neg);

    /* audio in a codec we lack: that section alone is rejected, cleanly */
    char *pcma = st_replace_all(offer, "OPUS/48000/2", "PCMA/8000");
    neg = negotiate("gstreamer_pcma", pcma, TSR_SDP_VIDEO_PREF_VP8);
    static const struct want want_pcma[] = {
        {"m=video 9 UDP/TLS/RTP/SAVPF 96", "video0", true},
        {"m=audio 0 UDP/TLS/RTP/SAVPF 97", "audio1", false},
    };
    check_answer(neg, want_pcma, G_N_ELEMENTS(want_pcma));
    g_assert_cmpint(neg->audio_index, ==, -1);
    g_assert_cmpstr(answer_direction(neg, 1), ==, "inactive");
    tsr_sdp_negotiation_free(&neg);

    /* port 0 without bundle-only is a section the offerer disabled */
    char *disabled = st_replace_all(offer, "a=bundle-only\r\n", "");
    neg = negotiate("gstreamer_disabled", disabled, TSR_SDP_VIDEO_PREF_VP8);
    check_answer(neg, want_pcma, G_N_ELEMENTS(want_pcma));
    tsr_sdp_negotiation_free(&neg);
    g_free(disabled);
    g_free(pcma);
    g_free(offer);
}

static void test_firefox(void)
{
    char *offer = st_load_fixture("firefox153esr_headless_offer.sdp");
    /* headless Firefox ESR offered VP8 and VP9 only (no OpenH264 plug-in yet) */
    struct tsr_sdp_negotiation *neg = negotiate("firefox", offer, TSR_SDP_VIDEO_PREF_H264);
    static const struct want want[] = {
        {"m=audio 9 UDP/TLS/RTP/SAVPF 109", "0", true},
        {"m=video 9 UDP/TLS/RTP/SAVPF 120", "1", true},
        {"m=application 0 UDP/DTLS/SCTP webrtc-datachannel", "2", false},
    };
    check_answer(neg, want, G_N_ELEMENTS(want));
    /* ssrc-group:FID gives the media and the RTX SSRC */
    g_assert_cmpuint(neg->mlines[1].remote_ssrc, ==, 2952795845u);
    g_assert_cmpuint(neg->mlines[1].remote_rtx_ssrc, ==, 1437332531u);
    g_assert_cmpint(neg->local_dtls_role, ==, TSR_SDP_DTLS_ROLE_SERVER); /* actpass */
    g_assert_nonnull(strstr(neg->answer, "a=setup:passive\r\n"));
    g_assert_null(strstr(neg->answer, "a=setup:active"));
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
}

static void test_safari(void)
{
    char *offer = st_load_fixture("safari17_offer.sdp");
    /* H.264 only: constrained baseline with packetization-mode=1 (pt 98) wins over
     * constrained high (96) and the mode-0 payloads (100, 127), even under VP8 */
    struct tsr_sdp_negotiation *neg = negotiate("safari", offer, TSR_SDP_VIDEO_PREF_VP8);
    static const struct want want[] = {
        {"m=audio 9 UDP/TLS/RTP/SAVPF 111", "0", true},
        {"m=video 9 UDP/TLS/RTP/SAVPF 98", "1", true},
    };
    check_answer(neg, want, G_N_ELEMENTS(want));
    g_assert_cmpint(neg->mlines[1].codec, ==, TSR_SDP_CODEC_H264);
    g_assert_cmpint(neg->mlines[1].ext_mid_id, ==, 4);
    g_assert_cmpint(neg->mlines[0].ext_audio_level_id, ==, 1);
    g_assert_cmpuint(neg->mlines[1].remote_rtx_ssrc, ==, 2748110357u);
    g_assert_nonnull(strstr(neg->answer, "a=fmtp:98 level-asymmetry-allowed=1;"
                                         "packetization-mode=1;profile-level-id=42e01f\r\n"));
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
}

static void test_libdatachannel(void)
{
    char *offer = st_load_fixture("libdatachannel_offer.sdp");
    struct tsr_sdp_negotiation *neg = negotiate("libdatachannel", offer, TSR_SDP_VIDEO_PREF_H264);
    static const struct want want[] = {
        {"m=video 9 UDP/TLS/RTP/SAVPF 96", "video", true},
        {"m=audio 9 UDP/TLS/RTP/SAVPF 111", "audio", true},
        {"m=application 0 UDP/DTLS/SCTP webrtc-datachannel", "data", false},
    };
    check_answer(neg, want, G_N_ELEMENTS(want));
    /* ICE and DTLS from the session level */
    g_assert_cmpstr(neg->remote_ufrag, ==, "R2mK");
    g_assert_cmphex(neg->remote_fingerprint.bytes[0], ==, 0xD4);
    g_assert_cmpuint(neg->n_remote_candidates, ==, 2);
    /* a sending gateway: we receive only */
    g_assert_cmpstr(answer_direction(neg, 0), ==, "recvonly");
    g_assert_cmpstr(answer_direction(neg, 1), ==, "recvonly");
    g_assert_true(neg->mlines[0].remote_sends);
    g_assert_cmpuint(neg->mlines[0].remote_ssrc, ==, 42);
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
}

/* ---- shapes, built from one template ---- */

enum section { AUDIO, VIDEO, VIDEO_AV1, DATA };

/* An offer with the given sections (mids 0, 1, …), directions per section
 * (NULL = sendrecv), every section bundled; max_bundle makes every section but
 * the first port 0 + a=bundle-only, as JSEP's max-bundle policy does. */
static char *make_offer(const enum section *s, const char *const *dirs, size_t n, bool max_bundle)
{
    GString *o = g_string_new("v=0\r\no=- 7 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                              "a=group:BUNDLE");
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(o, " %zu", i);
    g_string_append(o, "\r\n");
    for (size_t i = 0; i < n; i++) {
        int port = max_bundle && i > 0 ? 0 : 9;
        if (s[i] == DATA) {
            g_string_append_printf(o, "m=application %d UDP/DTLS/SCTP webrtc-datachannel\r\n", port);
        } else {
            g_string_append_printf(o, "m=%s %d UDP/TLS/RTP/SAVPF %s\r\n",
                                   s[i] == AUDIO ? "audio" : "video", port,
                                   s[i] == AUDIO ? "111" : s[i] == VIDEO ? "96" : "45");
        }
        g_string_append(o, "c=IN IP4 0.0.0.0\r\na=ice-ufrag:ab12\r\n"
                           "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
                           "a=fingerprint:sha-256 " FP_HEX "\r\na=setup:actpass\r\n");
        g_string_append_printf(o, "a=mid:%zu\r\n", i);
        if (port == 0)
            g_string_append(o, "a=bundle-only\r\n");
        if (s[i] == DATA) {
            g_string_append(o, "a=sctp-port:5000\r\n");
            continue;
        }
        g_string_append_printf(o, "a=%s\r\na=rtcp-mux\r\n", dirs && dirs[i] ? dirs[i] : "sendrecv");
        g_string_append(o, s[i] == AUDIO   ? "a=rtpmap:111 opus/48000/2\r\n"
                           : s[i] == VIDEO ? "a=rtpmap:96 VP8/90000\r\n"
                                           : "a=rtpmap:45 AV1/90000\r\n");
        g_string_append_printf(o, "a=ssrc:%zu cname:x\r\n", 100 + i);
    }
    return g_string_free(o, FALSE);
}

static void test_audio_only_video_only(void)
{
    static const enum section a[] = {AUDIO};
    char *offer = make_offer(a, NULL, 1, false);
    struct tsr_sdp_negotiation *neg = negotiate("audio_only", offer, TSR_SDP_VIDEO_PREF_VP8);
    static const struct want want_a[] = {{"m=audio 9 UDP/TLS/RTP/SAVPF 111", "0", true}};
    check_answer(neg, want_a, 1);
    g_assert_cmpint(neg->video_index, ==, -1);
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);

    static const enum section v[] = {VIDEO, DATA};
    offer = make_offer(v, NULL, 2, true);
    neg = negotiate("video_only", offer, TSR_SDP_VIDEO_PREF_VP8);
    static const struct want want_v[] = {
        {"m=video 9 UDP/TLS/RTP/SAVPF 96", "0", true},
        {"m=application 0 UDP/DTLS/SCTP webrtc-datachannel", "1", false},
    };
    check_answer(neg, want_v, 2);
    g_assert_cmpint(neg->audio_index, ==, -1);
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
}

static void test_several_videos(void)
{
    /* max-bundle: the second and third video are bundle-only; one video is answered */
    static const enum section s[] = {AUDIO, VIDEO, VIDEO, VIDEO};
    char *offer = make_offer(s, NULL, 4, true);
    struct tsr_sdp_negotiation *neg = negotiate("three_videos", offer, TSR_SDP_VIDEO_PREF_VP8);
    static const struct want want[] = {
        {"m=audio 9 UDP/TLS/RTP/SAVPF 111", "0", true},
        {"m=video 9 UDP/TLS/RTP/SAVPF 96", "1", true},
        {"m=video 0 UDP/TLS/RTP/SAVPF 96", "2", false},
        {"m=video 0 UDP/TLS/RTP/SAVPF 96", "3", false},
    };
    check_answer(neg, want, G_N_ELEMENTS(want));
    g_assert_cmpuint(neg->mlines[1].remote_ssrc, ==, 101);
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);

    /* the first video has only a codec we lack: the next one takes its place */
    static const enum section s2[] = {VIDEO_AV1, VIDEO, AUDIO};
    offer = make_offer(s2, NULL, 3, false);
    neg = negotiate("av1_then_vp8", offer, TSR_SDP_VIDEO_PREF_VP8);
    static const struct want want2[] = {
        {"m=video 0 UDP/TLS/RTP/SAVPF 45", "0", false},
        {"m=video 9 UDP/TLS/RTP/SAVPF 96", "1", true},
        {"m=audio 9 UDP/TLS/RTP/SAVPF 111", "2", true},
    };
    check_answer(neg, want2, G_N_ELEMENTS(want2));
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
}

static void test_viewer(void)
{
    /* a viewer that sends nothing still gets the composite and the mix */
    static const enum section s[] = {AUDIO, VIDEO};
    static const char *const recv[] = {"recvonly", "recvonly"};
    char *offer = make_offer(s, recv, 2, true);
    struct tsr_sdp_negotiation *neg = negotiate("viewer", offer, TSR_SDP_VIDEO_PREF_VP8);
    static const struct want want[] = {
        {"m=audio 9 UDP/TLS/RTP/SAVPF 111", "0", true},
        {"m=video 9 UDP/TLS/RTP/SAVPF 96", "1", true},
    };
    check_answer(neg, want, 2);
    g_assert_cmpstr(answer_direction(neg, 0), ==, "sendonly");
    g_assert_cmpstr(answer_direction(neg, 1), ==, "sendonly");
    g_assert_false(neg->mlines[0].remote_sends);
    g_assert_false(neg->mlines[1].remote_sends);
    g_assert_nonnull(strstr(neg->answer, "a=ssrc:2222 cname:tsr-cname\r\n"));
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);

    /* inactive stays inactive (JSEP), the line is still accepted and bundled */
    static const char *const inactive[] = {"inactive", "recvonly"};
    offer = make_offer(s, inactive, 2, false);
    neg = negotiate("inactive_audio", offer, TSR_SDP_VIDEO_PREF_VP8);
    check_answer(neg, want, 2);
    g_assert_cmpstr(answer_direction(neg, 0), ==, "inactive");
    g_assert_cmpstr(answer_direction(neg, 1), ==, "sendonly");
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
}

static void test_nothing_acceptable(void)
{
    static const enum section s[] = {VIDEO_AV1, DATA};
    char *offer = make_offer(s, NULL, 2, false);
    struct tsr_sdp_local l = {.ice_ufrag = "tsrU",
                              .ice_pwd = "TesseraIcePassword0123456",
                              .fingerprint_sha256 = FP_HEX,
                              .audio_ssrc = 1,
                              .video_ssrc = 2,
                              .cname = "c",
                              .stream_id = "s"};
    struct tsr_sdp_negotiation *neg = NULL;
    char reason[TSR_SDP_REASON_MAX] = "";
    g_assert_cmpint(tsr_sdp_negotiate(offer, strlen(offer), &l, &neg, reason), ==,
                    TSR_ERR_UNSUPPORTED);
    g_assert_null(neg);
    g_assert_nonnull(strstr(reason, "no common video codec"));
    g_free(offer);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sdp_interop/gstreamer_webrtcbin", test_gstreamer_webrtcbin);
    g_test_add_func("/sdp_interop/firefox", test_firefox);
    g_test_add_func("/sdp_interop/safari", test_safari);
    g_test_add_func("/sdp_interop/libdatachannel", test_libdatachannel);
    g_test_add_func("/sdp_interop/audio_only_video_only", test_audio_only_video_only);
    g_test_add_func("/sdp_interop/several_videos", test_several_videos);
    g_test_add_func("/sdp_interop/viewer", test_viewer);
    g_test_add_func("/sdp_interop/nothing_acceptable", test_nothing_acceptable);
    return g_test_run();
}
