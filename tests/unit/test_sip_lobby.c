/* The PIN lobby's pure parts: baresip's offer read to its address, Opus and
 * telephone-event 101/8000; the lobby's answer (audio receive-only with both,
 * video inactive on the discard port) parses as SDP; SRTP and audio-less offers
 * are refused with a reason; the o= line is replaced and nothing else; SIP INFO
 * dtmf-relay bodies read to their key, malformed ones refused. */
#include "sdp_testutil.h"

#include <tessera/err.h>
#include <tessera/sdp.h>
#include <tessera/sip_message.h>

#include <string.h>

static void test_read_baresip(void)
{
    char *offer = st_load_fixture("baresip10_offer.sdp");
    struct tsr_sip_lobby_sdp l;
    const char *why = NULL;
    g_assert_cmpint(tsr_sip_lobby_sdp_read(offer, strlen(offer), &l, &why), ==, 0);
    g_assert_cmpstr(l.remote_address, ==, "192.0.2.2");
    g_assert_cmpuint(l.remote_port, ==, 10910);
    g_assert_true(l.receives);
    g_assert_false(l.prompt);
    g_assert_cmpint(l.audio_pt, ==, 96);
    g_assert_cmpstr(l.audio_rtpmap, ==, "opus/48000/2");
    g_assert_cmpint(l.event_pt, ==, 101);
    g_assert_cmpuint(l.event_rate, ==, 8000);

    char *answer = tsr_sip_lobby_sdp_answer(offer, strlen(offer), &l, "192.0.2.1", 41000, 0, 55);
    g_assert_nonnull(strstr(answer, "o=tessera 55 1 IN IP4 192.0.2.1\r\n"));
    g_assert_nonnull(strstr(answer, "m=audio 41000 RTP/AVP 96 101\r\n"
                                    "a=rtpmap:96 opus/48000/2\r\n"
                                    "a=rtpmap:101 telephone-event/8000\r\n"
                                    "a=fmtp:101 0-15\r\na=recvonly\r\n"));
    g_assert_nonnull(strstr(answer, "m=video 9 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
                                    "a=inactive\r\n"));
    struct tsr_sdp *sdp = NULL;
    g_assert_cmpint(tsr_sdp_parse(answer, strlen(answer), &sdp, NULL), ==, 0);
    tsr_sdp_free(&sdp);

    /* Its video: H.264 mode 1 (98) chosen over mode 0 and VP8, at the section's
     * address and port; with the picture the answer sends it there. */
    g_assert_cmpint(l.video.pt, ==, 98);
    g_assert_true(l.video.h264);
    g_assert_cmpstr(l.video.address, ==, "192.0.2.2");
    g_assert_cmpuint(l.video.port, ==, 16538);
    g_assert_false(l.video.srtp);
    l.video.picture = true;
    char *pic = tsr_sip_lobby_sdp_answer(offer, strlen(offer), &l, "192.0.2.1", 41000, 41002, 55);
    g_assert_nonnull(strstr(pic, "m=video 41002 RTP/AVP 98\r\na=rtpmap:98 H264/90000\r\n"
                                 "a=fmtp:98 packetization-mode=1;profile-level-id=42e01f\r\n"
                                 "a=sendonly\r\n"));
    g_free(pic);
    l.video.picture = false;

    /* A lobby that plays its prompt answers sendrecv; a caller that only sends
     * (a=sendonly) gets none. */
    l.prompt = true;
    char *sendrecv = tsr_sip_lobby_sdp_answer(offer, strlen(offer), &l, "192.0.2.1", 41000, 0, 55);
    g_assert_nonnull(strstr(sendrecv, "a=fmtp:101 0-15\r\na=sendrecv\r\n"));
    g_free(sendrecv);
    const char *sendonly = "v=0\r\nc=IN IP4 192.0.2.2\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
    g_assert_cmpint(tsr_sip_lobby_sdp_read(sendonly, strlen(sendonly), &l, &why), ==, 0);
    g_assert_false(l.receives);
    g_assert_cmpuint(l.remote_port, ==, 4000);

    /* The join's answer keeps our session id and takes the next version. */
    char *moved = tsr_sip_sdp_set_origin("v=0\r\no=- 123 1 IN IP4 192.0.2.1\r\ns=-\r\n", 55, 2);
    g_assert_cmpstr(moved, ==, "v=0\r\no=tessera 55 2 IN IP4 192.0.2.1\r\ns=-\r\n");
    g_free(moved);
    g_free(answer);
    g_free(offer);
}

static void test_refused(void)
{
    struct tsr_sip_lobby_sdp l;
    const char *why = NULL;
    const char *savp = "v=0\r\nc=IN IP4 192.0.2.2\r\nm=audio 4000 RTP/SAVP 96\r\n"
                       "a=rtpmap:96 opus/48000/2\r\n";
    g_assert_cmpint(tsr_sip_lobby_sdp_read(savp, strlen(savp), &l, &why), ==, TSR_ERR_UNSUPPORTED);
    g_assert_cmpstr(why, ==, "there is no a=crypto line");
    const char *dtls = "v=0\r\nc=IN IP4 192.0.2.2\r\nm=audio 4000 UDP/TLS/RTP/SAVP 96\r\n"
                       "a=rtpmap:96 opus/48000/2\r\n";
    g_assert_cmpint(tsr_sip_lobby_sdp_read(dtls, strlen(dtls), &l, &why), ==, TSR_ERR_UNSUPPORTED);
    g_assert_nonnull(strstr(why, "DTLS-SRTP lobbies are not supported"));
    const char *video = "v=0\r\nc=IN IP4 192.0.2.2\r\nm=video 4000 RTP/AVP 96\r\n";
    g_assert_cmpint(tsr_sip_lobby_sdp_read(video, strlen(video), &l, &why), ==,
                    TSR_ERR_UNSUPPORTED);
    const char *no_c = "v=0\r\nm=audio 4000 RTP/AVP 0\r\n";
    g_assert_cmpint(tsr_sip_lobby_sdp_read(no_c, strlen(no_c), &l, &why), ==, TSR_ERR_INVALID);
    /* PCMU only, no telephone-event: still a lobby (INFO keys only). */
    const char *pcmu = "v=0\r\nc=IN IP4 192.0.2.2\r\nm=audio 4000 RTP/AVP 0\r\n";
    g_assert_cmpint(tsr_sip_lobby_sdp_read(pcmu, strlen(pcmu), &l, &why), ==, 0);
    g_assert_cmpint(l.audio_pt, ==, 0);
    g_assert_cmpint(l.event_pt, ==, -1);
}

static void test_dtmf_relay(void)
{
    char key = 0;
    const char *why = NULL;
    const char *body = "Signal=5\r\nDuration=160\r\n";
    g_assert_cmpint(tsr_sip_dtmf_relay_parse(body, strlen(body), &key, &why), ==, 0);
    g_assert_cmpint(key, ==, '5');
    body = "Duration=100\nsignal = #\n";
    g_assert_cmpint(tsr_sip_dtmf_relay_parse(body, strlen(body), &key, &why), ==, 0);
    g_assert_cmpint(key, ==, '#');
    body = "Signal=11\r\n";
    g_assert_cmpint(tsr_sip_dtmf_relay_parse(body, strlen(body), &key, &why), ==, 0);
    g_assert_cmpint(key, ==, '#');
    body = "Signal=d\r\n";
    g_assert_cmpint(tsr_sip_dtmf_relay_parse(body, strlen(body), &key, &why), ==, 0);
    g_assert_cmpint(key, ==, 'D');
    const char *bad[] = {"", "Duration=160\r\n", "Signal=\r\n", "Signal=55\r\n", "Signal=x"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        why = NULL;
        g_assert_cmpint(tsr_sip_dtmf_relay_parse(bad[i], strlen(bad[i]), &key, &why), ==,
                        TSR_ERR_INVALID);
        g_assert_nonnull(why);
    }
}

/* SDES: an RTP/SAVP audio section's first usable a=crypto line is the caller's key;
 * the answer keeps the proto and carries our line with its tag and suite. */
static void test_sdes(void)
{
    const char *offer = "v=0\r\no=- 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n"
                        "m=audio 4000 RTP/SAVP 0 101\r\n"
                        "a=crypto:1 AES_CM_256_HMAC_SHA1_80 inline:"
                        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\r\n"
                        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"
                        "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkw\r\n"
                        "a=rtpmap:101 telephone-event/8000\r\n";
    struct tsr_sip_lobby_sdp l;
    const char *why = NULL;
    g_assert_cmpint(tsr_sip_lobby_sdp_read(offer, strlen(offer), &l, &why), ==, 0);
    g_assert_true(l.srtp);
    g_assert_cmpstr(l.audio_proto, ==, "RTP/SAVP");
    g_assert_cmpuint(l.remote_crypto.tag, ==, 2);
    g_assert_cmpint(l.remote_crypto.suite, ==, TSR_SRTP_PROFILE_AES128_CM_SHA1_32);
    l.local_crypto = l.remote_crypto;
    memset(l.local_crypto.key_salt, 0x55, sizeof l.local_crypto.key_salt);
    char *answer = tsr_sip_lobby_sdp_answer(offer, strlen(offer), &l, "192.0.2.1", 41000, 0, 7);
    g_assert_nonnull(strstr(answer, "m=audio 41000 RTP/SAVP 0 101\r\n"));
    g_assert_nonnull(strstr(answer, "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:"
                                    "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV\r\n"));
    g_free(answer);
}

/* The lobby's own ports, SSRCs and o= line for the delayed-offer tests. */
static struct tsr_sip_lobby_ours lobby_ours(void)
{
    return (struct tsr_sip_lobby_ours){.address = "192.0.2.1",
                                       .audio_port = 41000,
                                       .video_port = 41002,
                                       .audio_ssrc = 11,
                                       .video_ssrc = 22,
                                       .session_id = 55,
                                       .session_version = 1};
}

/* An INVITE without SDP: the lobby's offer is our delayed offer on the lobby's
 * ports with video send-only, and answers to it read to what the lobby reads from
 * an offer: PCMU with telephone-event, Opus and VP8 at the answer's addresses, an
 * audio a=sendonly (send it nothing); audio rejected, no codec of ours, a
 * malformed answer are refused with the reason. */
static void test_delayed_offer(void)
{
    struct tsr_sip_lobby_ours ours = lobby_ours();
    char *offer = NULL;
    g_assert_cmpint(tsr_sip_lobby_sdp_offer(&ours, &offer), ==, 0);
    g_assert_nonnull(strstr(offer, "o=tessera 55 1 IN IP4 192.0.2.1\r\n"));
    g_assert_nonnull(strstr(offer, "m=audio 41000 RTP/AVP 96 9 0 8 101\r\n"));
    g_assert_nonnull(strstr(offer, "a=ssrc:11 cname:"));
    const char *video = strstr(offer, "m=video 41002 RTP/AVP 98 97\r\n");
    g_assert_nonnull(video);
    g_assert_nonnull(strstr(video, "a=sendonly\r\na=ssrc:22 cname:"));
    g_assert_null(strstr(video, "sendrecv"));
    struct tsr_sdp *sdp = NULL;
    g_assert_cmpint(tsr_sdp_parse(offer, strlen(offer), &sdp, NULL), ==, 0);
    tsr_sdp_free(&sdp);
    g_free(offer);

    struct tsr_sip_lobby_sdp l;
    char reason[TSR_SDP_REASON_MAX];
    const char *pcmu = "v=0\r\no=c 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 "
                       "0\r\nm=audio 4000 RTP/AVP 0 101\r\n"
                       "a=rtpmap:101 telephone-event/8000\r\nm=video 0 RTP/AVP 98\r\n";
    g_assert_cmpint(tsr_sip_lobby_sdp_read_answer(pcmu, strlen(pcmu), &ours, &l, reason), ==, 0);
    g_assert_cmpint(l.audio_pt, ==, 0);
    g_assert_cmpstr(l.audio_rtpmap, ==, "PCMU/8000");
    g_assert_cmpint(l.event_pt, ==, 101);
    g_assert_cmpuint(l.event_rate, ==, 8000);
    g_assert_cmpstr(l.remote_address, ==, "192.0.2.2");
    g_assert_cmpuint(l.remote_port, ==, 4000);
    g_assert_true(l.receives);
    g_assert_false(l.srtp);
    g_assert_cmpint(l.video.pt, ==, -1);

    const char *opus = "v=0\r\no=c 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 "
                       "0\r\nm=audio 4000 RTP/AVP 96\r\n"
                       "a=rtpmap:96 opus/48000/2\r\na=sendonly\r\nm=video 4002 RTP/AVP 97\r\n"
                       "c=IN IP4 192.0.2.3\r\na=rtpmap:97 VP8/90000\r\na=recvonly\r\n";
    g_assert_cmpint(tsr_sip_lobby_sdp_read_answer(opus, strlen(opus), &ours, &l, reason), ==, 0);
    g_assert_cmpint(l.audio_pt, ==, 96);
    g_assert_cmpstr(l.audio_rtpmap, ==, "opus/48000/2");
    g_assert_cmpint(l.event_pt, ==, -1);
    g_assert_false(l.receives);
    g_assert_cmpint(l.video.pt, ==, 97);
    g_assert_false(l.video.h264);
    g_assert_cmpstr(l.video.rtpmap, ==, "VP8/90000");
    g_assert_cmpstr(l.video.address, ==, "192.0.2.3");
    g_assert_cmpuint(l.video.port, ==, 4002);

    const char *no_audio = "v=0\r\no=c 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 "
                           "0\r\nm=audio 0 RTP/AVP 0\r\n"
                           "m=video 4002 RTP/AVP 97\r\na=rtpmap:97 VP8/90000\r\n";
    g_assert_cmpint(tsr_sip_lobby_sdp_read_answer(no_audio, strlen(no_audio), &ours, &l, reason),
                    ==, TSR_ERR_UNSUPPORTED);
    g_assert_cmpstr(reason, ==, "the answer rejects audio: PIN entry needs it");
    const char *g729 = "v=0\r\no=c 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 "
                       "0\r\nm=audio 4000 RTP/AVP 18\r\n"
                       "m=video 0 RTP/AVP 98\r\n";
    g_assert_cmpint(tsr_sip_lobby_sdp_read_answer(g729, strlen(g729), &ours, &l, reason), ==,
                    TSR_ERR_UNSUPPORTED);
    g_assert_nonnull(strstr(reason, "the answer picks none of the codecs we offered"));
    const char *one = "v=0\r\no=c 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 "
                      "0\r\nm=audio 4000 RTP/AVP 0\r\n";
    g_assert_cmpint(tsr_sip_lobby_sdp_read_answer(one, strlen(one), &ours, &l, reason), ==,
                    TSR_ERR_INVALID);
    g_assert_cmpint(tsr_sip_lobby_sdp_read_answer("x", 1, &ours, &l, reason), ==, TSR_ERR_INVALID);
}

/* SDES in the lobby's own offer ([sip] offer_srtp): optional puts a=crypto with
 * each medium's key in the RTP/AVP sections; a keyed answer makes that section
 * SRTP, with the caller's key and ours the one offered under the tag it took; a
 * plain answer stays plain; mandatory offers RTP/SAVP and refuses a plain answer. */
static void test_delayed_offer_sdes(void)
{
    uint8_t akey[TSR_SDES_KEY_SALT_BYTES], vkey[TSR_SDES_KEY_SALT_BYTES];
    memset(akey, 0x11, sizeof akey);
    memset(vkey, 0x22, sizeof vkey);
    struct tsr_sip_lobby_ours ours = lobby_ours();
    ours.offer_srtp = TSR_SDP_OFFER_SRTP_OPTIONAL;
    ours.audio_key = akey;
    ours.video_key = vkey;
    char *offer = NULL;
    g_assert_cmpint(tsr_sip_lobby_sdp_offer(&ours, &offer), ==, 0);
    const char *video = strstr(offer, "m=video 41002 RTP/AVP 98 97\r\n");
    g_assert_nonnull(video);
    g_assert_nonnull(strstr(offer, "m=audio 41000 RTP/AVP 96 9 0 8 101\r\n"));
    /* 0x11 and 0x22 repeated, in base64. */
    const char *ak =
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:ERERERERERERERERERERERERERERERERERERERER";
    const char *vk =
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:IiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIiIi";
    g_assert_true(strstr(offer, ak) && strstr(offer, ak) < video);
    g_assert_true(strstr(video, vk) != NULL);
    g_assert_nonnull(strstr(video, "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:IiIi"));
    g_free(offer);

    struct tsr_sip_lobby_sdp l;
    char reason[TSR_SDP_REASON_MAX];
    const char *keyed = "v=0\r\no=c 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n"
                        "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
                        "a=crypto:2 AES_CM_128_HMAC_SHA1_32 "
                        "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\r\n"
                        "m=video 4002 RTP/AVP 98\r\na=rtpmap:98 H264/90000\r\n"
                        "a=fmtp:98 packetization-mode=1;profile-level-id=42e01f\r\n"
                        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 "
                        "inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd\r\na=recvonly\r\n";
    g_assert_cmpint(tsr_sip_lobby_sdp_read_answer(keyed, strlen(keyed), &ours, &l, reason), ==, 0);
    g_assert_true(l.srtp && l.local_keyed);
    g_assert_cmpuint(l.remote_crypto.tag, ==, 2);
    g_assert_cmpuint(l.remote_crypto.key_salt[29], ==, 29);
    g_assert_cmpuint(l.local_crypto.tag, ==, 2);
    g_assert_cmpint(l.local_crypto.suite, ==, TSR_SRTP_PROFILE_AES128_CM_SHA1_32);
    g_assert_cmpmem(l.local_crypto.key_salt, sizeof akey, akey, sizeof akey);
    g_assert_true(l.video.srtp && l.video.local_keyed);
    g_assert_cmpuint(l.video.local_crypto.tag, ==, 1);
    g_assert_cmpmem(l.video.local_crypto.key_salt, sizeof vkey, vkey, sizeof vkey);

    const char *plain = "v=0\r\no=c 1 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n"
                        "m=audio 4000 RTP/AVP 0\r\nm=video 0 RTP/AVP 98\r\n";
    g_assert_cmpint(tsr_sip_lobby_sdp_read_answer(plain, strlen(plain), &ours, &l, reason), ==, 0);
    g_assert_false(l.srtp || l.local_keyed);

    ours.offer_srtp = TSR_SDP_OFFER_SRTP_MANDATORY;
    g_assert_cmpint(tsr_sip_lobby_sdp_offer(&ours, &offer), ==, 0);
    g_assert_nonnull(strstr(offer, "m=audio 41000 RTP/SAVP 96 9 0 8 101\r\n"));
    g_assert_nonnull(strstr(offer, "m=video 41002 RTP/SAVP 98 97\r\n"));
    g_free(offer);
    g_assert_cmpint(tsr_sip_lobby_sdp_read_answer(plain, strlen(plain), &ours, &l, reason), ==,
                    TSR_ERR_INVALID);
    g_assert_cmpstr(reason, !=, "");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sip_lobby/read_baresip", test_read_baresip);
    g_test_add_func("/sip_lobby/sdes", test_sdes);
    g_test_add_func("/sip_lobby/refused", test_refused);
    g_test_add_func("/sip_lobby/dtmf_relay", test_dtmf_relay);
    g_test_add_func("/sip_lobby/delayed_offer", test_delayed_offer);
    g_test_add_func("/sip_lobby/delayed_offer_sdes", test_delayed_offer_sdes);
    return g_test_run();
}
