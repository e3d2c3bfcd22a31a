/* Plain RTP for SIP, the offerer's side: the offer Tessera makes for an INVITE
 * without SDP (RFC 3261 §13.2.1: the caller answers in its ACK), and the caller's
 * answer read into the same peer description an offer gives; answers that do not
 * fit the offer are refused with a reason. */
#include <tessera/err.h>
#include <tessera/sdp.h>
#include <tessera/sdp_crypto.h>
#include <tessera/sdp_plain.h>

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

/* Another Tessera as the caller (its answerer's side). */
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

static const struct tsr_sdp_plain_local offerer = {
    .address = "192.0.2.10",
    .audio_port = 41000,
    .video_port = 41002,
    .video_pref = TSR_SDP_VIDEO_PREF_VP8,
    .audio_ssrc = 3333,
    .video_ssrc = 4444,
    .cname = "tessera-2",
    .session_id = 88,
    .audio_g711 = true,
};

/* Whether section m has attribute `name` with exactly `value`. */
static bool has_attr(const struct tsr_sdp_media *m, const char *name, const char *value)
{
    for (size_t i = 0; i < m->n_attrs; i++)
        if (strcmp(m->attrs[i].name, name) == 0 && g_strcmp0(m->attrs[i].value, value) == 0)
            return true;
    return false;
}

static void expect_rtpmap(const struct tsr_sdp_media *m, int pt, const char *name, unsigned rate)
{
    struct tsr_sdp_rtpmap r;
    g_assert_true(tsr_sdp_media_rtpmap(m, pt, &r));
    g_assert_cmpstr(r.name, ==, name);
    g_assert_cmpuint(r.clock_rate, ==, rate);
}

static void test_our_offer(void)
{
    char *offer = NULL;
    g_assert_cmpint(tsr_sdp_plain_offer(&offerer, &offer), ==, 0);
    g_assert_true(tsr_sdp_is_plain_rtp(offer, strlen(offer)));
    struct tsr_sdp *o = NULL;
    g_assert_cmpint(tsr_sdp_parse(offer, strlen(offer), &o, NULL), ==, 0);
    g_assert_cmpstr(o->connection, ==, "IN IP4 192.0.2.10");
    g_assert_cmpuint(o->n_media, ==, 2);
    const struct tsr_sdp_media *a = &o->media[0], *v = &o->media[1];
    g_assert_cmpstr(a->kind, ==, "audio");
    g_assert_cmpuint(a->port, ==, 41000);
    g_assert_cmpstr(a->proto, ==, "RTP/AVP");
    g_assert_cmpuint(a->n_fmts, ==, 4);
    const char *afmts[] = {"96", "0", "8", "101"};
    for (size_t i = 0; i < 4; i++)
        g_assert_cmpstr(a->fmts[i], ==, afmts[i]);
    expect_rtpmap(a, 96, "opus", 48000);
    expect_rtpmap(a, 0, "PCMU", 8000);
    expect_rtpmap(a, 8, "PCMA", 8000);
    expect_rtpmap(a, 101, "telephone-event", 8000);
    g_assert_cmpstr(tsr_sdp_media_fmtp(a, 101), ==, "0-15");
    g_assert_true(has_attr(a, "ptime", "20"));
    g_assert_true(has_attr(a, "rtcp", "41001"));
    g_assert_true(has_attr(a, "sendrecv", NULL));
    g_assert_true(has_attr(a, "ssrc", "3333 cname:tessera-2"));
    g_assert_cmpstr(v->kind, ==, "video");
    g_assert_cmpuint(v->port, ==, 41002);
    g_assert_cmpstr(v->proto, ==, "RTP/AVP");
    g_assert_cmpuint(v->n_fmts, ==, 2);
    g_assert_cmpstr(v->fmts[0], ==, "97"); /* VP8 first: video_pref */
    g_assert_cmpstr(v->fmts[1], ==, "98");
    expect_rtpmap(v, 97, "VP8", 90000);
    expect_rtpmap(v, 98, "H264", 90000);
    g_assert_nonnull(strstr(tsr_sdp_media_fmtp(v, 98), "packetization-mode=1"));
    g_assert_nonnull(strstr(tsr_sdp_media_fmtp(v, 98), "profile-level-id=42e01f"));
    const char *fbs[] = {"nack", "nack pli", "ccm fir"};
    for (size_t i = 0; i < 3; i++) {
        char *vp8 = g_strdup_printf("97 %s", fbs[i]), *h264 = g_strdup_printf("98 %s", fbs[i]);
        g_assert_true(has_attr(v, "rtcp-fb", vp8));
        g_assert_true(has_attr(v, "rtcp-fb", h264));
        g_free(vp8);
        g_free(h264);
    }
    g_assert_true(has_attr(v, "rtcp", "41003"));
    g_assert_true(has_attr(v, "sendrecv", NULL));
    g_assert_true(has_attr(v, "ssrc", "4444 cname:tessera-2"));
    tsr_sdp_free(&o);
    g_free(offer);

    struct tsr_sdp_plain_local no_g711 = offerer;
    no_g711.audio_g711 = false;
    g_assert_cmpint(tsr_sdp_plain_offer(&no_g711, &offer), ==, 0);
    g_assert_null(strstr(offer, "PCMU"));
    g_assert_nonnull(strstr(offer, "m=audio 41000 RTP/AVP 96 101\r\n"));
    g_free(offer);
    struct tsr_sdp_plain_local portless = offerer;
    portless.video_port = 0;
    g_assert_cmpint(tsr_sdp_plain_offer(&portless, &offer), ==, -EINVAL);
}

/* The answer our own negotiator writes to our offer (another Tessera as the
 * caller) is read back to Opus 96 and VP8 97 at the answerer's ports. */
static void test_own_answer(void)
{
    char *offer = NULL;
    g_assert_cmpint(tsr_sdp_plain_offer(&offerer, &offer), ==, 0);
    struct tsr_sdp_plain_local caller = local;
    caller.audio_g711 = true;
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    char reason[TSR_SDP_REASON_MAX];
    g_assert_cmpint(tsr_sdp_plain_negotiate(offer, strlen(offer), &caller, &neg, &peers, reason),
                    ==, 0);
    struct tsr_sdp_negotiation *back = NULL;
    g_assert_cmpint(tsr_sdp_plain_read_answer(neg->answer, strlen(neg->answer), &offerer, &back,
                                              &peers, reason),
                    ==, 0);
    g_assert_null(back->answer);
    g_assert_cmpint(back->mlines[back->audio_index].pt, ==, 96);
    g_assert_cmpint(back->mlines[back->audio_index].codec, ==, TSR_SDP_CODEC_OPUS);
    g_assert_cmpint(back->mlines[back->video_index].pt, ==, 97);
    g_assert_cmpint(back->mlines[back->video_index].codec, ==, TSR_SDP_CODEC_VP8);
    g_assert_cmpuint(back->mlines[back->video_index].fb, ==,
                     TSR_SDP_FB_NACK | TSR_SDP_FB_PLI | TSR_SDP_FB_FIR);
    g_assert_cmpuint(back->mlines[back->audio_index].remote_ssrc, ==, 1111);
    g_assert_cmpstr(peers.audio.address, ==, "127.0.0.1");
    g_assert_cmpuint(peers.audio.rtp_port, ==, 40000);
    g_assert_cmpuint(peers.video.rtp_port, ==, 40002);
    tsr_sdp_negotiation_free(&back);
    tsr_sdp_negotiation_free(&neg);
    g_free(offer);
}

#define ANSWER_HEAD "v=0\r\no=caller 5 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\n"
#define NO_AUDIO "m=audio 0 RTP/AVP 96\r\n"
#define NO_VIDEO "m=video 0 RTP/AVP 97\r\n"

/* Reads `answer` (head prepended) to our offer; rc expected, and the result. */
static int read_answer(const char *sections, struct tsr_sdp_negotiation **neg,
                       struct tsr_sdp_plain_peers *peers, char reason[TSR_SDP_REASON_MAX])
{
    char *answer = g_strconcat(ANSWER_HEAD, sections, NULL);
    reason[0] = '\0';
    int rc = tsr_sdp_plain_read_answer(answer, strlen(answer), &offerer, neg, peers, reason);
    g_free(answer);
    return rc;
}

static void test_answers(void)
{
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    char reason[TSR_SDP_REASON_MAX];

    /* PCMU, static type without rtpmap; video rejected. */
    g_assert_cmpint(
        read_answer("m=audio 5000 RTP/AVP 0\r\na=sendrecv\r\n" NO_VIDEO, &neg, &peers, reason), ==,
        0);
    g_assert_cmpint(neg->audio_index, ==, 0);
    g_assert_cmpint(neg->video_index, ==, -1);
    g_assert_cmpint(neg->mlines[0].codec, ==, TSR_SDP_CODEC_PCMU);
    g_assert_cmpint(neg->mlines[0].pt, ==, 0);
    g_assert_cmpuint(neg->mlines[0].clock_rate, ==, 8000);
    g_assert_cmpstr(peers.audio.address, ==, "192.0.2.5");
    g_assert_cmpuint(peers.audio.rtp_port, ==, 5000);
    g_assert_cmpuint(peers.audio.rtcp_port, ==, 5001);
    g_assert_true(peers.audio.sends);
    g_assert_false(peers.audio.held);
    g_assert_cmpstr(peers.video.address, ==, "");
    tsr_sdp_negotiation_free(&neg);

    /* Opus with telephone-event, a=rtcp, receive-only: it sends nothing, we send. */
    g_assert_cmpint(read_answer("m=audio 6000 RTP/AVP 96 101\r\na=rtpmap:96 opus/48000/2\r\n"
                                "a=rtpmap:101 telephone-event/8000\r\na=rtcp:6100\r\n"
                                "a=recvonly\r\na=ssrc:99 cname:x\r\n" NO_VIDEO,
                                &neg, &peers, reason),
                    ==, 0);
    g_assert_cmpint(neg->mlines[0].codec, ==, TSR_SDP_CODEC_OPUS);
    g_assert_cmpint(neg->mlines[0].pt, ==, 96);
    g_assert_cmpuint(neg->mlines[0].remote_ssrc, ==, 99);
    g_assert_cmpuint(peers.audio.rtcp_port, ==, 6100);
    g_assert_false(peers.audio.sends);
    g_assert_false(peers.audio.held);
    tsr_sdp_negotiation_free(&neg);

    /* A send-only answer: we send it nothing (held), it sends. */
    g_assert_cmpint(
        read_answer("m=audio 6000 RTP/AVP 8\r\na=sendonly\r\n" NO_VIDEO, &neg, &peers, reason), ==,
        0);
    g_assert_cmpint(neg->mlines[0].codec, ==, TSR_SDP_CODEC_PCMA);
    g_assert_true(peers.audio.held);
    g_assert_true(peers.audio.sends);
    tsr_sdp_negotiation_free(&neg);

    /* H.264 packetization-mode 1 with PLI; audio rejected. */
    g_assert_cmpint(read_answer(NO_AUDIO
                                "m=video 7000 RTP/AVP 98\r\na=rtpmap:98 H264/90000\r\n"
                                "a=fmtp:98 profile-level-id=42e01f;packetization-mode=1\r\n"
                                "a=rtcp-fb:98 nack pli\r\n",
                                &neg, &peers, reason),
                    ==, 0);
    g_assert_cmpint(neg->audio_index, ==, -1);
    g_assert_cmpint(neg->video_index, ==, 1);
    g_assert_cmpint(neg->mlines[1].codec, ==, TSR_SDP_CODEC_H264);
    g_assert_cmpint(neg->mlines[1].pt, ==, 98);
    g_assert_cmpuint(neg->mlines[1].fb, ==, TSR_SDP_FB_PLI);
    g_assert_cmpuint(peers.video.rtp_port, ==, 7000);
    tsr_sdp_negotiation_free(&neg);

    /* VP8 with rtcp-mux, its own c= line. */
    g_assert_cmpint(read_answer("m=audio 5000 RTP/AVP 0\r\n"
                                "m=video 7002 RTP/AVP 97\r\nc=IN IP4 192.0.2.6\r\n"
                                "a=rtpmap:97 VP8/90000\r\na=rtcp-mux\r\n",
                                &neg, &peers, reason),
                    ==, 0);
    g_assert_cmpint(neg->mlines[1].codec, ==, TSR_SDP_CODEC_VP8);
    g_assert_cmpint(neg->mlines[1].pt, ==, 97);
    g_assert_cmpstr(peers.video.address, ==, "192.0.2.6");
    g_assert_true(peers.video.rtcp_mux);
    g_assert_cmpuint(peers.video.rtcp_port, ==, 7002);
    tsr_sdp_negotiation_free(&neg);
}

static void expect_answer_refused(const char *sections, int rc, const char *why)
{
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    char reason[TSR_SDP_REASON_MAX];
    g_assert_cmpint(read_answer(sections, &neg, &peers, reason), ==, rc);
    g_assert_null(neg);
    if (!strstr(reason, why))
        g_error("reason '%s' does not say '%s'", reason, why);
}

static void test_answers_refused(void)
{
    const char *none = "the answer picks none of the codecs we offered";
    /* Codecs we did not offer: G.722, H.263. */
    expect_answer_refused("m=audio 5000 RTP/AVP 9\r\nm=video 5002 RTP/AVP 34\r\n",
                          TSR_ERR_UNSUPPORTED, none);
    /* Our codecs under other payload types than we offered them on: PCMU called
     * 96 (our Opus), VP8 called 98 (our H.264). */
    expect_answer_refused("m=audio 5000 RTP/AVP 96\r\na=rtpmap:96 PCMU/8000\r\n"
                          "m=video 5002 RTP/AVP 98\r\na=rtpmap:98 VP8/90000\r\n",
                          TSR_ERR_UNSUPPORTED, none);
    /* Only telephone-event; H.264 mode 0. */
    expect_answer_refused("m=audio 5000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n"
                          "m=video 5002 RTP/AVP 98\r\na=rtpmap:98 H264/90000\r\n",
                          TSR_ERR_UNSUPPORTED, none);
    /* Both sections rejected: no codec at all. */
    expect_answer_refused(NO_AUDIO NO_VIDEO, TSR_ERR_UNSUPPORTED, none);
    /* Not an answer to our offer: one section, swapped kinds, another profile. */
    expect_answer_refused("m=audio 5000 RTP/AVP 0\r\n", TSR_ERR_INVALID,
                          "the answer has 1 media sections");
    expect_answer_refused("m=video 5002 RTP/AVP 97\r\nm=audio 5000 RTP/AVP 0\r\n", TSR_ERR_INVALID,
                          "section 1 is video");
    expect_answer_refused("m=audio 5000 RTP/SAVP 0\r\n" NO_VIDEO, TSR_ERR_INVALID,
                          "we offered RTP/AVP");
    /* Malformed. */
    expect_answer_refused("m=audio five RTP/AVP 0\r\n" NO_VIDEO, TSR_ERR_INVALID, "bad SDP answer");
    expect_answer_refused("m=audio 5000 RTP/AVP 0\r\nc=IN IP4 not-an-address\r\n" NO_VIDEO,
                          TSR_ERR_INVALID, "no usable c= address");
}

/* With G.722 allowed (as the SIP front does), our offer lists it after Opus and
 * before G.711, and an answer that picks it is read as G.722 on payload type 9. */
static void test_g722(void)
{
    struct tsr_sdp_plain_local l = offerer;
    l.audio_g722 = true;
    char *offer = NULL;
    g_assert_cmpint(tsr_sdp_plain_offer(&l, &offer), ==, 0);
    g_assert_nonnull(strstr(offer, "m=audio 41000 RTP/AVP 96 9 0 8 101\r\n"));
    g_assert_nonnull(strstr(offer, "a=rtpmap:9 G722/8000\r\n"));
    char *answer = g_strconcat(ANSWER_HEAD, "m=audio 5000 RTP/AVP 9\r\n", NO_VIDEO, NULL);
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    char reason[TSR_SDP_REASON_MAX] = "";
    g_assert_cmpint(tsr_sdp_plain_read_answer(answer, strlen(answer), &l, &neg, &peers, reason), ==,
                    0);
    g_assert_cmpint(neg->audio_index, ==, 0);
    g_assert_cmpint(neg->mlines[0].codec, ==, TSR_SDP_CODEC_G722);
    g_assert_cmpint(neg->mlines[0].pt, ==, 9);
    g_assert_cmpuint(peers.audio.rtp_port, ==, 5000);
    tsr_sdp_negotiation_free(&neg);
    g_free(answer);
    g_free(offer);
}

#define THEIR_KEY "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"

/* SDES in our own offer: optional puts a=crypto (both suites, this medium's key)
 * in RTP/AVP sections and keys SRTP when the answer has a=crypto (RTP/AVP or
 * RTP/SAVP), stays plain when it has none; mandatory offers RTP/SAVP and needs a
 * keyed answer; none offers no keys. */
static void test_srtp(void)
{
    uint8_t akey[TSR_SDES_KEY_SALT_BYTES], vkey[TSR_SDES_KEY_SALT_BYTES];
    memset(akey, 0x11, sizeof akey);
    memset(vkey, 0x22, sizeof vkey);
    struct tsr_sdp_plain_local l = offerer;
    l.audio_key = akey;
    l.video_key = vkey;
    l.offer_srtp = TSR_SDP_OFFER_SRTP_OPTIONAL;
    char *offer = NULL;
    g_assert_cmpint(tsr_sdp_plain_offer(&l, &offer), ==, 0);
    struct tsr_sdp *o = NULL;
    const char *why = NULL;
    g_assert_cmpint(tsr_sdp_parse(offer, strlen(offer), &o, &why), ==, 0);
    for (size_t i = 0; i < 2; i++) {
        const struct tsr_sdp_media *m = &o->media[i];
        g_assert_cmpstr(m->proto, ==, "RTP/AVP");
        int tags = 0;
        for (size_t k = 0; k < m->n_attrs; k++) {
            struct tsr_sdp_crypto c;
            const char *cwhy = NULL;
            if (strcmp(m->attrs[k].name, "crypto") != 0)
                continue;
            g_assert_cmpint(tsr_sdp_crypto_parse(m->attrs[k].value, &c, &cwhy), ==, 0);
            g_assert_cmpuint(c.tag, ==, (unsigned)tags + 1);
            g_assert_cmpint(c.suite, ==,
                            tags ? TSR_SRTP_PROFILE_AES128_CM_SHA1_32
                                 : TSR_SRTP_PROFILE_AES128_CM_SHA1_80);
            g_assert_cmpmem(c.key_salt, sizeof c.key_salt, i ? vkey : akey, sizeof akey);
            tags++;
        }
        g_assert_cmpint(tags, ==, 2);
    }
    tsr_sdp_free(&o);
    g_free(offer);

    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    char reason[TSR_SDP_REASON_MAX];
    const char *keyed_avp = "m=audio 5000 RTP/AVP 0\r\na=crypto:2 AES_CM_128_HMAC_SHA1_32 "
                            "inline:" THEIR_KEY "\r\n" NO_VIDEO;
    const char *keyed_savp = "m=audio 5000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 "
                             "inline:" THEIR_KEY "\r\nm=video 0 RTP/SAVP 97\r\n";
    const char *plain = "m=audio 5000 RTP/AVP 0\r\n" NO_VIDEO;
    struct {
        enum tsr_sdp_offer_srtp mode;
        const char *answer;
        int rc;
        bool srtp;
    } cases[] = {
        {TSR_SDP_OFFER_SRTP_OPTIONAL, keyed_avp, 0, true},
        {TSR_SDP_OFFER_SRTP_OPTIONAL, keyed_savp, 0, true},
        {TSR_SDP_OFFER_SRTP_OPTIONAL, plain, 0, false},
        {TSR_SDP_OFFER_SRTP_MANDATORY, keyed_savp, 0, true},
        {TSR_SDP_OFFER_SRTP_MANDATORY, plain, TSR_ERR_INVALID, false},
        {TSR_SDP_OFFER_SRTP_MANDATORY, "m=audio 5000 RTP/SAVP 0\r\nm=video 0 RTP/SAVP 97\r\n",
         TSR_ERR_UNSUPPORTED, false},
        {TSR_SDP_OFFER_SRTP_NONE, keyed_savp, TSR_ERR_INVALID, false},
        /* Not one of ours: tag 1 with the _32 suite, a tag we never offered, our
         * own audio key sent back (RFC 4568 §5.1.2: the answerer's own key). */
        {TSR_SDP_OFFER_SRTP_OPTIONAL,
         "m=audio 5000 RTP/AVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_32 inline:" THEIR_KEY
         "\r\n" NO_VIDEO,
         TSR_ERR_UNSUPPORTED, false},
        {TSR_SDP_OFFER_SRTP_OPTIONAL,
         "m=audio 5000 RTP/AVP 0\r\na=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:" THEIR_KEY
         "\r\n" NO_VIDEO,
         TSR_ERR_UNSUPPORTED, false},
        {TSR_SDP_OFFER_SRTP_MANDATORY,
         "m=audio 5000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 "
         "inline:ERERERERERERERERERERERERERERERERERERERER\r\nm=video 0 RTP/SAVP 97\r\n",
         TSR_ERR_UNSUPPORTED, false},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        l.offer_srtp = cases[i].mode;
        char *answer = g_strconcat(ANSWER_HEAD, cases[i].answer, NULL);
        int rc = tsr_sdp_plain_read_answer(answer, strlen(answer), &l, &neg, &peers, reason);
        g_assert_cmpint(rc, ==, cases[i].rc);
        if (rc == 0) {
            g_assert_cmpint(peers.audio.srtp, ==, cases[i].srtp);
            if (cases[i].srtp)
                g_assert_cmpuint(peers.audio.crypto.tag, ==, cases[i].answer == keyed_avp ? 2 : 1);
            tsr_sdp_negotiation_free(&neg);
        } else {
            g_assert_cmpstr(reason, !=, "");
            g_assert_null(neg);
        }
        g_free(answer);
    }
    l.offer_srtp = TSR_SDP_OFFER_SRTP_MANDATORY;
    g_assert_cmpint(tsr_sdp_plain_offer(&l, &offer), ==, 0);
    g_assert_nonnull(strstr(offer, "m=audio 41000 RTP/SAVP "));
    g_assert_nonnull(strstr(offer, "m=video 41002 RTP/SAVP "));
    g_free(offer);
    l.offer_srtp = TSR_SDP_OFFER_SRTP_NONE;
    g_assert_cmpint(tsr_sdp_plain_offer(&l, &offer), ==, 0);
    g_assert_null(strstr(offer, "a=crypto"));
    g_free(offer);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sdp_plain_offer/our_offer", test_our_offer);
    g_test_add_func("/sdp_plain_offer/own_answer", test_own_answer);
    g_test_add_func("/sdp_plain_offer/answers", test_answers);
    g_test_add_func("/sdp_plain_offer/answers_refused", test_answers_refused);
    g_test_add_func("/sdp_plain_offer/g722", test_g722);
    g_test_add_func("/sdp_plain_offer/srtp", test_srtp);
    return g_test_run();
}
