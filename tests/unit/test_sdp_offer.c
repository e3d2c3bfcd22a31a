/* Server re-offers adding send-only m-lines (tessera/sdp_offer.h): built from our
 * answer to a real Chrome offer whose lines were made send-only (the inLive JS SDK
 * publishes that way); order, mids, directions, BUNDLE, SSRC/msid placement; then
 * the client's answer: accepted, and every kind of bad answer refused without
 * touching the outputs. */
#include <tessera/err.h>
#include <tessera/sdp.h>
#include <tessera/sdp_negotiate.h>
#include <tessera/sdp_offer.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

#include "sdp_testutil.h"

#define FP_HEX                                                                                     \
    "0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:"   \
    "E8:F9"

static const char *const cands[] = {"candidate:1 1 udp 2130706431 198.51.100.10 40000 typ host"};

/* Our answer to chrome_offer.sdp with a=sendrecv replaced by `dir`, RED for Opus
 * accepted when `red`. */
static char *answer_for_red(const char *dir, bool red)
{
    char *text = st_load_fixture("chrome_offer.sdp");
    char *offer = st_replace_all(text, "a=sendrecv", dir);
    struct tsr_sdp_local l = {.ice_ufrag = "tsrU",
                              .ice_pwd = "TesseraIcePassword0123456",
                              .ice_lite = true,
                              .fingerprint_sha256 = FP_HEX,
                              .candidates = cands,
                              .n_candidates = 1,
                              .audio_ssrc = 1111,
                              .video_ssrc = 2222,
                              .cname = "tsr-cname",
                              .stream_id = "tessera",
                              .session_id = 42,
                              .audio_red = red};
    struct tsr_sdp_negotiation *neg = NULL;
    char reason[TSR_SDP_REASON_MAX];
    g_assert_cmpint(tsr_sdp_negotiate(offer, strlen(offer), &l, &neg, reason), ==, 0);
    char *answer = g_strdup(neg->answer);
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
    g_free(text);
    return answer;
}

static char *answer_for(const char *dir)
{
    return answer_for_red(dir, false);
}

static const struct tsr_sdp_send_offer_params params = {
    .audio_ssrc = 5555, .video_ssrc = 6666, .cname = "tsr-cname", .stream_id = "tessera"};

static struct tsr_sdp_send_offer *make_offer(void)
{
    char *answer = answer_for("a=sendonly");
    struct tsr_sdp_send_offer *so = NULL;
    char reason[TSR_SDP_REASON_MAX];
    g_assert_cmpint(tsr_sdp_send_offer_new(&so, answer, strlen(answer), &params, reason), ==, 0);
    g_free(answer);
    return so;
}

static bool has_attr(const struct tsr_sdp_media *m, const char *name, const char *value)
{
    for (size_t i = 0; i < m->n_attrs; i++)
        if (strcmp(m->attrs[i].name, name) == 0 &&
            (!value || g_strcmp0(m->attrs[i].value, value) == 0))
            return true;
    return false;
}

static void test_offer_adds_sendonly_lines(void)
{
    struct tsr_sdp_send_offer *so = make_offer();
    struct tsr_sdp *o = NULL;
    g_assert_cmpint(tsr_sdp_parse(so->sdp, strlen(so->sdp), &o, NULL), ==, 0);
    g_assert_cmpuint(o->n_media, ==, 5);
    g_assert_cmpuint(so->n_mlines, ==, 5);
    static const struct {
        const char *kind, *mid, *dir;
        uint16_t port;
    } want[] = {{"audio", "0", "recvonly", 9},
                {"video", "1", "recvonly", 9},
                {"application", "2", NULL, 0},
                {"audio", "3", "sendonly", 9},
                {"video", "4", "sendonly", 9}};
    for (size_t i = 0; i < 5; i++) {
        const struct tsr_sdp_media *m = &o->media[i];
        g_assert_cmpstr(m->kind, ==, want[i].kind);
        g_assert_cmpuint(m->port, ==, want[i].port);
        g_assert_true(has_attr(m, "mid", want[i].mid));
        if (want[i].dir)
            g_assert_true(has_attr(m, want[i].dir, NULL));
        if (i < 2) { /* lines we only receive on claim no SSRC any more */
            g_assert_false(has_attr(m, "ssrc", NULL));
            g_assert_false(has_attr(m, "msid", NULL));
            g_assert_true(has_attr(m, "setup", "actpass"));
        }
    }
    g_assert_true(has_attr(&o->media[3], "msid", "tessera tessera-audio"));
    g_assert_true(has_attr(&o->media[3], "ssrc", "5555 cname:tsr-cname"));
    g_assert_true(has_attr(&o->media[4], "msid", "tessera tessera-video"));
    g_assert_true(has_attr(&o->media[4], "ssrc", "6666 msid:tessera tessera-video"));
    g_assert_true(has_attr(&o->media[4], "rtpmap", "96 VP8/90000"));
    g_assert_true(has_attr(&o->media[4], "candidate", cands[0] + strlen("candidate:")));
    g_assert_true(has_attr(&o->media[4], "ice-ufrag", "tsrU"));
    g_assert_true(has_attr(&o->media[4], "setup", "actpass"));
    g_assert_true(has_attr(&o->media[4], "rtcp-mux", NULL));
    g_assert_cmpstr(o->media[3].fmts[0], ==, "111");
    g_assert_cmpstr(tsr_sdp_attr_find(o->attrs, o->n_attrs, "group"), ==, "BUNDLE 0 1 3 4");
    g_assert_nonnull(tsr_sdp_attr_find(o->attrs, o->n_attrs, "ice-lite"));
    g_assert_cmpstr(o->origin, ==, "- 42 3 IN IP4 0.0.0.0"); /* version bumped from 2 */
    g_assert_cmpuint(so->n_lines, ==, 2);
    g_assert_cmpint(so->lines[0].kind, ==, TSR_SDP_MEDIA_KIND_AUDIO);
    g_assert_cmpstr(so->lines[0].mid, ==, "3");
    g_assert_cmpint(so->lines[0].pt, ==, 111);
    g_assert_cmpint(so->lines[0].codec, ==, TSR_SDP_CODEC_OPUS);
    g_assert_cmpint(so->lines[1].pt, ==, 96);
    g_assert_cmpint(so->lines[1].codec, ==, TSR_SDP_CODEC_VP8);
    g_assert_cmpuint(so->lines[1].ssrc, ==, 6666);
    g_assert_cmpint(so->lines[1].ext_mid_id, >, 0);
    tsr_sdp_free(&o);
    tsr_sdp_send_offer_free(&so);
    g_assert_null(so);
}

static void test_nothing_to_add(void)
{
    char reason[TSR_SDP_REASON_MAX];
    struct tsr_sdp_send_offer *so = NULL;
    char *answer = answer_for("a=sendrecv");
    g_assert_cmpint(tsr_sdp_send_offer_new(&so, answer, strlen(answer), &params, reason), ==,
                    TSR_ERR_NOT_FOUND);
    g_assert_null(so);
    g_free(answer);
    /* Only audio send-only: only an audio line is added. */
    char *text = answer_for("a=sendrecv");
    char *mixed = g_strdup(text);
    char *first = strstr(mixed, "a=sendrecv");
    memcpy(first, "a=recvonly", 10); /* our audio line: receive only */
    g_assert_cmpint(tsr_sdp_send_offer_new(&so, mixed, strlen(mixed), &params, reason), ==, 0);
    g_assert_cmpuint(so->n_lines, ==, 1);
    g_assert_cmpint(so->lines[0].kind, ==, TSR_SDP_MEDIA_KIND_AUDIO);
    g_assert_cmpstr(so->lines[0].mid, ==, "3");
    tsr_sdp_send_offer_free(&so);
    g_free(text);
    g_free(mixed);
    struct tsr_sdp_send_offer_params zero = params;
    zero.video_ssrc = 0;
    g_assert_cmpint(tsr_sdp_send_offer_new(&so, "v=0", 3, &zero, reason), ==, -EINVAL);
    g_assert_cmpint(tsr_sdp_send_offer_new(&so, "garbage", 7, &params, reason), ==,
                    TSR_ERR_INVALID);
    g_assert_null(so);
}

/* What a browser answers: directions flipped, setup active. */
static char *browser_answer(const char *offer)
{
    char *a = st_replace_all(offer, "a=sendonly", "a=XX");
    char *b = st_replace_all(a, "a=recvonly", "a=sendonly");
    char *c = st_replace_all(b, "a=XX", "a=recvonly");
    char *d = st_replace_all(c, "a=setup:actpass", "a=setup:active");
    g_free(a);
    g_free(b);
    g_free(c);
    return d;
}

static void test_apply_answer(void)
{
    struct tsr_sdp_send_offer *so = make_offer();
    char *ans = browser_answer(so->sdp);
    struct tsr_sdp_send_line lines[2];
    size_t n = 0;
    char reason[TSR_SDP_REASON_MAX];
    g_assert_cmpint(tsr_sdp_send_offer_apply_answer(so, ans, strlen(ans), lines, &n, reason), ==,
                    0);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpstr(lines[1].mid, ==, "4");
    g_assert_cmpint(lines[1].pt, ==, 96);
    g_assert_cmpuint(lines[1].ssrc, ==, 6666);
    g_assert_cmpint(lines[1].ext_mid_id, ==, so->lines[1].ext_mid_id);
    g_assert_true(lines[1].fb & TSR_SDP_FB_NACK);
    g_assert_true(lines[1].fb & TSR_SDP_FB_PLI);
    g_assert_true(lines[1].fb & TSR_SDP_FB_FIR);
    g_free(ans);
    tsr_sdp_send_offer_free(&so);
}

/* `text` with the last section starting `mline_prefix` moved to port 0 and marked
 * a=bundle-only (the prefix ends in " 9 "). */
static char *bundle_only(const char *text, const char *mline_prefix)
{
    char *out = g_strdup(text);
    char *m = g_strrstr(out, mline_prefix);
    m[strlen(mline_prefix) - 2] = '0';
    char *eol = strstr(m, "\r\n") + 2;
    char *head = g_strndup(out, (gsize)(eol - out));
    char *joined = g_strconcat(head, "a=bundle-only\r\n", eol, NULL);
    g_free(head);
    g_free(out);
    return joined;
}

/* Answers from stacks that follow RFC 8843 to the letter: every bundled section
 * but the tagged one at port 0 with a=bundle-only, the DTLS role only at session
 * level. Accepted like a browser's answer. */
static void test_apply_strict_answer(void)
{
    struct tsr_sdp_send_offer *so = make_offer();
    char *good = browser_answer(so->sdp);
    char *a1 = bundle_only(good, "m=audio 9 ");
    char *a2 = bundle_only(a1, "m=video 9 ");
    char *a3 = st_replace_all(a2, "a=setup:active\r\n", "");
    char *strict = st_replace_all(a3, "t=0 0\r\n", "t=0 0\r\na=setup:active\r\n");
    g_assert_nonnull(strstr(strict, "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=bundle-only\r\n"));
    struct tsr_sdp_send_line lines[2];
    size_t n = 0;
    char reason[TSR_SDP_REASON_MAX] = "";
    int rc = tsr_sdp_send_offer_apply_answer(so, strict, strlen(strict), lines, &n, reason);
    if (rc != 0)
        g_error("strict answer refused: %s", reason);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpint(lines[0].pt, ==, 111);
    g_assert_cmpint(lines[1].pt, ==, 96);
    /* the session-level role still has to be active */
    char *passive = st_replace_all(strict, "a=setup:active", "a=setup:passive");
    g_assert_cmpint(
        tsr_sdp_send_offer_apply_answer(so, passive, strlen(passive), lines, &n, reason), ==,
        TSR_ERR_INVALID);
    g_free(passive);
    g_free(strict);
    g_free(a3);
    g_free(a2);
    g_free(a1);
    g_free(good);
    tsr_sdp_send_offer_free(&so);
}

/* Each edit of a good answer must be refused, leaving the outputs alone. */
static void test_bad_answers(void)
{
    struct tsr_sdp_send_offer *so = make_offer();
    char *good = browser_answer(so->sdp);
    char *last_m = g_strrstr(good, "m=video 9 ");
    char *no_last = g_strndup(good, (gsize)(last_m - good));
    char *rejected = g_strdup(good);
    memcpy(g_strrstr(rejected, "m=video 9 "), "m=video 0 ", 10);
    char *other_pt = g_strdup(good);
    memcpy(g_strrstr(other_pt, "m=video 9 UDP/TLS/RTP/SAVPF 96"), "m=video 9 UDP/TLS/RTP/SAVPF 98",
           30);
    char *passive = st_replace_all(good, "a=setup:active", "a=setup:passive");
    char *wrong_mid = st_replace_all(good, "a=mid:4", "a=mid:9");
    char *inactive = st_replace_all(good, "a=recvonly", "a=inactive");
    const char *const bad[] = {no_last,   rejected, other_pt,         passive,
                               wrong_mid, inactive, "v=0\r\nnot sdp", ""};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct tsr_sdp_send_line lines[2];
        memset(lines, 0xab, sizeof lines);
        size_t n = 77;
        char reason[TSR_SDP_REASON_MAX] = "";
        int rc = tsr_sdp_send_offer_apply_answer(so, bad[i], strlen(bad[i]), lines, &n, reason);
        g_assert_cmpint(rc, ==, TSR_ERR_INVALID);
        g_assert_cmpuint(n, ==, 77);
        g_assert_cmpuint(lines[0].ssrc, ==, 0xabababab);
        g_assert_cmpuint(strlen(reason), >, 0);
    }
    g_free(no_last);
    g_free(rejected);
    g_free(other_pt);
    g_free(passive);
    g_free(wrong_mid);
    g_free(inactive);
    g_free(good);
    tsr_sdp_send_offer_free(&so);
}

/* After the added lines run, the client re-offers (the SDK after
 * allowed_renegotation, or with a screen share appended): answered from our
 * session, the added lines keep sending, the appended one is rejected. */
static void test_reoffer(void)
{
    struct tsr_sdp_send_offer *so = make_offer();
    char *client = browser_answer(so->sdp); /* the client's current description */
    char *base = st_replace_all(client, "a=setup:active", "a=setup:actpass");
    char *reoffer = g_strconcat(base,
                                "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\n"
                                "a=mid:5\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n",
                                NULL);
    char *answer = NULL;
    char reason[TSR_SDP_REASON_MAX];
    g_assert_cmpint(
        tsr_sdp_answer_reoffer(so->sdp, client, reoffer, strlen(reoffer), &answer, reason), ==, 0);
    struct tsr_sdp *a = NULL;
    g_assert_cmpint(tsr_sdp_parse(answer, strlen(answer), &a, NULL), ==, 0);
    g_assert_cmpuint(a->n_media, ==, 6);
    static const struct {
        const char *mid, *dir;
        uint16_t port;
    } want[] = {{"0", "recvonly", 9}, {"1", "recvonly", 9}, {"2", NULL, 0},
                {"3", "sendonly", 9}, {"4", "sendonly", 9}, {"5", NULL, 0}};
    for (size_t i = 0; i < 6; i++) {
        g_assert_true(has_attr(&a->media[i], "mid", want[i].mid));
        g_assert_cmpuint(a->media[i].port, ==, want[i].port);
        if (want[i].dir)
            g_assert_true(has_attr(&a->media[i], want[i].dir, NULL));
    }
    g_assert_true(has_attr(&a->media[4], "ssrc", "6666 msid:tessera tessera-video"));
    g_assert_true(has_attr(&a->media[4], "setup", "passive"));
    g_assert_false(has_attr(&a->media[1], "ssrc", NULL));
    g_assert_cmpstr(a->origin, ==, "- 42 4 IN IP4 0.0.0.0");
    /* the rejected appended line stands alone for a strict parser */
    g_assert_true(has_attr(&a->media[5], "setup", "passive"));
    g_assert_true(has_attr(&a->media[5], "fingerprint", "sha-256 " FP_HEX));
    g_assert_true(has_attr(&a->media[5], "ice-ufrag", "tsrU"));
    tsr_sdp_free(&a);
    g_free(answer);

    /* a max-bundle re-offer (webrtcbin): every line after the first bundle-only */
    char *mb1 = bundle_only(reoffer, "m=video 9 ");
    char *mb2 = bundle_only(mb1, "m=audio 9 ");
    answer = NULL;
    g_assert_cmpint(tsr_sdp_answer_reoffer(so->sdp, client, mb2, strlen(mb2), &answer, reason), ==,
                    0);
    g_assert_nonnull(strstr(answer, "a=ssrc:6666 msid:tessera tessera-video"));
    g_free(answer);
    g_free(mb2);
    g_free(mb1);

    /* What a running session cannot take, and garbage. */
    char *restart = st_replace_all(base, "a=ice-ufrag:tsrU", "a=ice-ufrag:zzzz");
    char *new_mid = st_replace_all(base, "a=mid:4", "a=mid:9");
    char *dropped = g_strndup(base, (gsize)(g_strrstr(base, "m=video") - base));
    const char *const bad[] = {restart, new_mid, dropped};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        answer = NULL;
        g_assert_cmpint(
            tsr_sdp_answer_reoffer(so->sdp, client, bad[i], strlen(bad[i]), &answer, reason), ==,
            TSR_ERR_UNSUPPORTED);
        g_assert_null(answer);
        g_assert_cmpuint(strlen(reason), >, 0);
    }
    g_assert_cmpint(tsr_sdp_answer_reoffer(so->sdp, client, "x", 1, &answer, reason), ==,
                    TSR_ERR_INVALID);
    g_assert_null(answer);
    g_free(restart);
    g_free(new_mid);
    g_free(dropped);
    g_free(reoffer);
    g_free(base);
    g_free(client);
    tsr_sdp_send_offer_free(&so);
}

/* Our answer took RED (listed before Opus): the added audio line offers the same,
 * sends Opus as pt 111 inside RED 63 when the client's answer keeps 63, plain
 * Opus when it does not; a re-offer dropping RED from a running line is refused. */
static void test_red(void)
{
    char *answer = answer_for_red("a=sendonly", true);
    g_assert_nonnull(strstr(answer, "m=audio 9 UDP/TLS/RTP/SAVPF 63 111\r\n"));
    struct tsr_sdp_send_offer *so = NULL;
    char reason[TSR_SDP_REASON_MAX] = "";
    g_assert_cmpint(tsr_sdp_send_offer_new(&so, answer, strlen(answer), &params, reason), ==, 0);
    g_assert_cmpint(so->lines[0].pt, ==, 111);
    g_assert_cmpint(so->lines[0].red_pt, ==, 63);
    g_assert_cmpint(so->lines[0].codec, ==, TSR_SDP_CODEC_OPUS);
    g_assert_cmpint(so->lines[1].pt, ==, 96);
    g_assert_cmpint(so->lines[1].red_pt, ==, -1);
    struct tsr_sdp *o = NULL;
    g_assert_cmpint(tsr_sdp_parse(so->sdp, strlen(so->sdp), &o, NULL), ==, 0);
    g_assert_cmpuint(o->media[3].n_fmts, ==, 2); /* the added audio line: RED, then Opus */
    g_assert_cmpstr(o->media[3].fmts[0], ==, "63");
    g_assert_cmpstr(o->media[3].fmts[1], ==, "111");
    g_assert_true(has_attr(&o->media[3], "fmtp", "63 111/111"));
    g_assert_true(has_attr(&o->media[3], "fmtp", "111 minptime=10;useinbandfec=1"));
    tsr_sdp_free(&o);

    char *client = browser_answer(so->sdp);
    struct tsr_sdp_send_line lines[2];
    size_t n = 0;
    g_assert_cmpint(tsr_sdp_send_offer_apply_answer(so, client, strlen(client), lines, &n, reason),
                    ==, 0);
    g_assert_cmpint(lines[0].pt, ==, 111);
    g_assert_cmpint(lines[0].red_pt, ==, 63);
    char *no_red = st_replace_all(client, "SAVPF 63 111", "SAVPF 111");
    g_assert_cmpint(tsr_sdp_send_offer_apply_answer(so, no_red, strlen(no_red), lines, &n, reason),
                    ==, 0);
    g_assert_cmpint(lines[0].pt, ==, 111);
    g_assert_cmpint(lines[0].red_pt, ==, -1);

    /* The client re-offers its description: fine with RED, refused without. */
    char *base = st_replace_all(client, "a=setup:active", "a=setup:actpass");
    char *reanswer = NULL;
    g_assert_cmpint(tsr_sdp_answer_reoffer(so->sdp, client, base, strlen(base), &reanswer, reason),
                    ==, 0);
    g_assert_nonnull(strstr(reanswer, "m=audio 9 UDP/TLS/RTP/SAVPF 63 111\r\n"));
    g_free(reanswer);
    char *base_no_red = st_replace_all(base, "SAVPF 63 111", "SAVPF 111");
    reanswer = NULL;
    g_assert_cmpint(tsr_sdp_answer_reoffer(so->sdp, client, base_no_red, strlen(base_no_red),
                                           &reanswer, reason),
                    ==, TSR_ERR_UNSUPPORTED);
    g_assert_null(reanswer);
    g_free(base_no_red);
    g_free(base);
    g_free(no_red);
    g_free(client);
    tsr_sdp_send_offer_free(&so);
    g_free(answer);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sdp_offer/adds_sendonly_lines", test_offer_adds_sendonly_lines);
    g_test_add_func("/sdp_offer/nothing_to_add", test_nothing_to_add);
    g_test_add_func("/sdp_offer/apply_answer", test_apply_answer);
    g_test_add_func("/sdp_offer/apply_strict_answer", test_apply_strict_answer);
    g_test_add_func("/sdp_offer/bad_answers", test_bad_answers);
    g_test_add_func("/sdp_offer/reoffer", test_reoffer);
    g_test_add_func("/sdp_offer/red", test_red);
    return g_test_run();
}
