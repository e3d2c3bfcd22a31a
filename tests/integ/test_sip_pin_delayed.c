/* PIN entry for an INVITE without SDP (a delayed offer: what Cisco CUCM trunks send
 * by default), on the wire: the 200 carries the lobby's own offer, the ACK's answer
 * sets the lobby up (the prompt in the codec it chose, at its port, once the caller
 * is heard), keys come by RFC 4733 or INFO, and the right PIN's join makes the
 * media layer's offer, sent in a re-INVITE whose 200 carries the caller's answer.
 * The harness and its fake media are sip_wire.c; the lobby is the real one. */
#include "sip_wire.h"

#include <tessera/g722.h>
#include <tessera/metrics.h>
#include <tessera/sdp_crypto.h>
#include <tessera/video_decoder.h>

#include <stdlib.h>
#include <string.h>

/* An INVITE without SDP to "pin": 200 with the lobby's offer; the response. */
static char *invite_pin(struct caller *c, const char *call_id)
{
    send_request(c, "INVITE", "pin", call_id, "", NULL);
    char *resp = receive_final(c);
    if (!g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"))
        g_error("expected 200 with the lobby's offer, got:\n%s", resp);
    char *ctype = header(resp, "Content-Type");
    g_assert_cmpstr(ctype, ==, "application/sdp");
    g_free(ctype);
    return resp;
}

/* The o= line's session id and version. */
static void origin(const char *msg, uint64_t *id, unsigned *version)
{
    const char *o = strstr(msg, "\r\no=tessera ");
    g_assert_nonnull(o);
    char *end = NULL;
    *id = g_ascii_strtoull(o + 12, &end, 10);
    *version = (unsigned)strtoul(end, NULL, 10);
    g_assert_cmpuint(*id, >, 0);
}

/* The lobby's offer: our delayed offer's codecs on the lobby's ports, video
 * send-only (the picture), version 1. */
static void check_lobby_offer(const char *resp)
{
    const char *sdp = strstr(resp, "\r\n\r\nv=0\r\n");
    g_assert_nonnull(sdp);
    uint16_t aport = answer_port(resp, "audio"), vport = answer_port(resp, "video");
    g_assert_cmpuint(aport, !=, vport);
    char *m = g_strdup_printf("\r\nm=audio %u RTP/AVP 96 9 0 8 101\r\n", aport);
    g_assert_nonnull(strstr(sdp, m));
    g_free(m);
    m = g_strdup_printf("\r\nm=video %u RTP/AVP 98 97\r\n", vport);
    g_assert_nonnull(strstr(sdp, m));
    g_free(m);
    static const char *const lines[] = {
        "c=IN IP4 127.0.0.1",
        "a=rtpmap:96 opus/48000/2",
        "a=rtpmap:9 G722/8000",
        "a=rtpmap:0 PCMU/8000",
        "a=rtpmap:8 PCMA/8000",
        "a=rtpmap:101 telephone-event/8000",
        "a=fmtp:101 0-15",
        "a=rtpmap:98 H264/90000",
        "a=rtpmap:97 VP8/90000",
        "a=fmtp:98 packetization-mode=1;profile-level-id=42e01f",
        "a=ptime:20",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
        char *l = g_strdup_printf("\r\n%s\r\n", lines[i]);
        if (!strstr(sdp, l))
            g_error("the lobby offer lacks %s:\n%s", lines[i], sdp);
        g_free(l);
    }
    const char *video = strstr(sdp, "\r\nm=video ");
    g_assert_nonnull(strstr(video, "\r\na=sendonly\r\n"));
    g_assert_null(strstr(video, "a=sendrecv"));
    char *audio = g_strndup(sdp, (size_t)(video - sdp));
    g_assert_nonnull(strstr(audio, "\r\na=sendrecv\r\n"));
    g_free(audio);
    uint64_t id = 0;
    unsigned version = 0;
    origin(resp, &id, &version);
    g_assert_cmpuint(version, ==, 1);
}

/* An answer to the lobby's offer: audio `codec` ("0 101" …) with its rtpmap lines
 * at 127.0.0.1:aport, video (vport 0: rejected) H.264 98 receive-only. */
static char *lobby_answer(uint16_t aport, const char *codec, const char *rtpmaps, uint16_t vport)
{
    return g_strdup_printf("v=0\r\no=caller 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                           "t=0 0\r\nm=audio %u RTP/AVP %s\r\n%sa=sendrecv\r\n"
                           "m=video %u RTP/AVP 98\r\na=rtpmap:98 H264/90000\r\n"
                           "a=fmtp:98 packetization-mode=1;profile-level-id=42e01f\r\n"
                           "a=recvonly\r\n",
                           aport, codec, rtpmaps, vport);
}

/* An INFO of no package the server knows, answered 200: the server has handled
 * everything sent before it (one UDP socket, one loop), so the ACK's answer is
 * set up when this returns. */
static void handled(struct caller *c, const char *call_id, const char *tag)
{
    send_typed(c, "INFO", "pin", call_id, tag, "application/x-sync", "sync");
    char *resp = receive_final(c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    g_free(resp);
}

static uint64_t wrong_pins(void)
{
    return tsr_counter_value(
        tsr_metrics_counter("tessera_sip_pin_entries_total", "result=\"wrong\"", "PIN entries."));
}

/* One key as RFC 4733 events (payload type 101) from sock: a start packet, then
 * the end packet three times, all with the key's own RTP timestamp. */
static void send_event_key(GSocket *sock, uint16_t port, char key, uint32_t ts)
{
    static uint16_t seq = 1000;
    uint8_t code = key == '#' ? 11 : key == '*' ? 10 : (uint8_t)(key - '0');
    for (int i = 0; i < 4; i++, seq++) {
        bool end = i > 0;
        uint16_t duration = (uint16_t)(end ? 800 : 160);
        uint8_t pkt[16] = {0x80,
                           (uint8_t)((i == 0 ? 0x80 : 0) | 101),
                           (uint8_t)(seq >> 8),
                           (uint8_t)seq,
                           (uint8_t)(ts >> 24),
                           (uint8_t)(ts >> 16),
                           (uint8_t)(ts >> 8),
                           (uint8_t)ts,
                           0x12,
                           0x34,
                           0x56,
                           0x78,
                           code,
                           (uint8_t)((end ? 0x80 : 0) | 10),
                           (uint8_t)(duration >> 8),
                           (uint8_t)duration};
        send_udp(sock, port, pkt, sizeof pkt);
    }
}

static void send_event_keys(GSocket *sock, uint16_t port, const char *keys)
{
    static uint32_t ts = 5000;
    for (const char *k = keys; *k; k++, ts += 1600)
        send_event_key(sock, port, *k, ts);
}

/* The next SIP message that is not the server's ACK. */
static char *receive_not_ack(struct caller *c)
{
    char *msg = receive_final(c);
    while (g_str_has_prefix(msg, "ACK ")) {
        g_free(msg);
        msg = receive_final(c);
    }
    return msg;
}

/* The re-INVITE after the right PIN: the join's offer (the fake media's) under the
 * lobby's o= session, next version; answered 200 with `answer`, which reaches the
 * media layer; the server ACKs the 200. */
static void expect_join_reinvite(struct caller *c, uint64_t session_id, const char *answer)
{
    char *reinvite = receive_final(c);
    if (!g_str_has_prefix(reinvite, "INVITE sip:room1@127.0.0.1"))
        g_error("expected the re-INVITE with the join's offer, got:\n%s", reinvite);
    uint64_t id = 0;
    unsigned version = 0;
    origin(reinvite, &id, &version);
    g_assert_cmpuint(id, ==, session_id);
    g_assert_cmpuint(version, ==, 2);
    g_assert_nonnull(strstr(reinvite, "\r\nm=audio 40004 RTP/AVP 96 0\r\n")); /* FAKE_OFFER */
    respond_request_sdp(c, reinvite, "200 OK", answer);
    char *got = fake_next_answer();
    g_assert_cmpstr(got, ==, answer);
    char *ack = receive_final(c);
    g_assert_true(g_str_has_prefix(ack, "ACK sip:"));
    g_free(ack);
    g_free(got);
    g_free(reinvite);
}

/* After the right PIN: the join's re-INVITE is answered with audio `codec` (its
 * payload type, CRLF and rtpmap line) at 127.0.0.1:port, the caller is in the
 * roster, and its BYE is answered 200 and takes it out again. */
static void joined_then_bye(struct caller *c, struct server *s, const char *call_id,
                            const char *tag, uint64_t session_id, uint16_t port, const char *codec)
{
    char *media_answer = g_strdup_printf("v=0\r\no=caller 7 2 IN IP4 127.0.0.1\r\ns=-\r\n"
                                         "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %u RTP/AVP %s\r\n"
                                         "a=sendrecv\r\n",
                                         port, codec);
    expect_join_reinvite(c, session_id, media_answer);
    g_assert_cmpuint(n_participants(s), ==, 1);
    send_request(c, "BYE", "pin", call_id, tag, NULL);
    char *bye = receive_not_ack(c);
    g_assert_true(g_str_has_prefix(bye, "SIP/2.0 200 OK\r\n"));
    g_assert_cmpuint(n_participants(s), ==, 0);
    g_free(bye);
    g_free(media_answer);
}

/* A PCMU caller without SDP in its INVITE: the lobby offers, the ACK answers PCMU
 * with telephone-event 101; the prompt comes as PCMU from the offer's audio port to
 * the answer's port once the caller is heard, a wrong PIN by RFC 4733 plays the
 * 330 Hz beeps, the right one by RFC 4733 joins and the media offer goes out in
 * the re-INVITE, whose 200 answer reaches the media layer. */
static void test_pcmu_rfc4733(void)
{
    struct server s;
    struct caller c;
    uint16_t port = 0;
    GSocket *rtp = lobby_rig_open(&s, &c, &port);

    char *resp = invite_pin(&c, "delayed-pin-1@t");
    check_lobby_offer(resp);
    uint64_t session_id = 0;
    unsigned version = 0;
    origin(resp, &session_id, &version);
    char *tag = to_tag(resp);
    char *answer = lobby_answer(port, "0 101", "a=rtpmap:101 telephone-event/8000\r\n", 0);
    send_request(&c, "ACK", "pin", "delayed-pin-1@t", tag, answer);
    handled(&c, "delayed-pin-1@t", tag);
    uint16_t lobby = answer_port(resp, "audio");
    /* Nothing is sent before the caller is heard from where its packets come from. */
    g_assert_false(g_socket_condition_timed_wait(rtp, G_IO_IN, 300000, NULL, NULL));
    send_rtp_from(rtp, lobby, 0);
    struct prompt_rx rx = {.pt = 0}, wrong = {.pt = 0};
    read_prompt(rtp, 150, &rx); /* one whole 3 s cadence */
    g_test_message("prompt: %u packets, %u frames of 880 Hz, %u quiet", rx.packets, rx.beeps_880,
                   rx.quiet);
    g_assert_cmpuint(rx.beeps_880, >=, 18);
    g_assert_cmpuint(rx.beeps_880, <=, 22);
    g_assert_cmpuint(rx.quiet, >=, 120);

    send_rtp_from(rtp, lobby, 0); /* still there */
    send_event_keys(rtp, lobby, "99#");
    read_prompt(rtp, 50, &wrong);
    g_assert_cmpuint(wrong.beeps_330, >=, 18);
    g_assert_cmpuint(n_participants(&s), ==, 0);

    send_event_keys(rtp, lobby, "5678#");
    joined_then_bye(&c, &s, "delayed-pin-1@t", tag, session_id, port, "0\r\na=rtpmap:0 PCMU/8000");
    g_free(answer);
    g_free(tag);
    g_free(resp);
    g_object_unref(rtp);
    caller_close(&c);
    server_stop(&s);
}

/* An answer taking H.264 video gets the "enter PIN" picture from the offer's video
 * port at the answer's video port (a keyframe a second, 640x360); the host PIN by
 * INFO joins. */
static void test_picture_and_info(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);
    uint16_t aport = 0, vport = 0;
    GSocket *audio = loopback_udp(&aport), *video = loopback_udp(&vport);

    char *resp = invite_pin(&c, "delayed-pin-2@t");
    unsigned invite_cseq = c.cseq;
    uint64_t session_id = 0;
    unsigned version = 0;
    origin(resp, &session_id, &version);
    char *tag = to_tag(resp);
    char *answer = lobby_answer(aport, "96 101",
                                "a=rtpmap:96 opus/48000/2\r\n"
                                "a=rtpmap:101 telephone-event/8000\r\n",
                                vport);
    /* Keys before the ACK's answer are dropped: the host PIN typed now is not one. */
    send_keys(&c, "delayed-pin-2@t", tag, "1234#");
    unsigned next_cseq = c.cseq;
    c.cseq = invite_cseq; /* the ACK takes the INVITE's CSeq, the INFOs went on */
    send_request(&c, "ACK", "pin", "delayed-pin-2@t", tag, answer);
    c.cseq = next_cseq;
    handled(&c, "delayed-pin-2@t", tag);
    send_rtp_from(video, answer_port(resp, "video"), 98); /* its RTP: the picture starts */
    AVFrame *f = receive_lobby_picture(video, 98);

    /* "9" alone is a wrong PIN: nothing typed before the ACK was kept. */
    uint64_t wrong = wrong_pins();
    send_keys(&c, "delayed-pin-2@t", tag, "9#");
    /* The core's refusal comes back on the server's loop after the INFO's 200. */
    for (int i = 0; i < 5000 && wrong_pins() == wrong; i++)
        g_usleep(1000);
    g_assert_cmpuint(wrong_pins(), ==, wrong + 1);
    g_assert_cmpuint(n_participants(&s), ==, 0);
    send_keys(&c, "delayed-pin-2@t", tag, "1234#");
    joined_then_bye(&c, &s, "delayed-pin-2@t", tag, session_id, aport,
                    "96\r\na=rtpmap:96 opus/48000/2");
    av_frame_free(&f);
    g_free(answer);
    g_free(tag);
    g_free(resp);
    g_object_unref(audio);
    g_object_unref(video);
    caller_close(&c);
    server_stop(&s);
}

/* An ACK without an answer, one picking no codec we offered, and a re-INVITE 200
 * without an answer: each ends the call with our BYE and its Reason, counted,
 * nobody left in the conference. */
static void test_bad_answers(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);

    uint64_t required = sip_errors("answer_required");
    char *resp = invite_pin(&c, "delayed-pin-3@t");
    char *tag = to_tag(resp);
    send_request(&c, "ACK", "pin", "delayed-pin-3@t", tag, NULL);
    expect_bye(&c, "SIP;cause=488;text=\"the ACK carries no SDP answer to the offer in our "
                   "200 OK\"");
    g_assert_cmpuint(sip_errors("answer_required"), ==, required + 1);
    g_free(tag);
    g_free(resp);

    uint64_t bad = sip_errors("bad_answer");
    resp = invite_pin(&c, "delayed-pin-4@t");
    tag = to_tag(resp);
    char *answer = lobby_answer(4000, "18", "a=rtpmap:18 G729/8000\r\n", 0);
    send_request(&c, "ACK", "pin", "delayed-pin-4@t", tag, answer);
    expect_bye(&c, "SIP;cause=488;text=\"the answer picks none of the codecs we offered (Opus, "
                   "G.722, PCMU, PCMA; VP8, H.264 packetization-mode 1)\"");
    g_assert_cmpuint(sip_errors("bad_answer"), ==, bad + 1);
    g_free(answer);
    g_free(tag);
    g_free(resp);

    resp = invite_pin(&c, "delayed-pin-5@t");
    tag = to_tag(resp);
    answer = lobby_answer(4000, "0", "", 0);
    send_request(&c, "ACK", "pin", "delayed-pin-5@t", tag, answer);
    send_keys(&c, "delayed-pin-5@t", tag, "5678#");
    char *reinvite = receive_final(&c);
    g_assert_true(g_str_has_prefix(reinvite, "INVITE sip:room1@127.0.0.1"));
    g_assert_cmpuint(n_participants(&s), ==, 1);
    answer_request(&c, reinvite); /* a 200 without the answer */
    char *bye = receive_not_ack(&c);
    g_assert_true(g_str_has_prefix(bye, "BYE "));
    char *reason = header(bye, "Reason");
    g_assert_cmpstr(reason, ==,
                    "SIP;cause=488;text=\"the 200 OK carries no SDP answer to the offer in our "
                    "re-INVITE\"");
    answer_request(&c, bye);
    g_assert_cmpuint(sip_errors("answer_required"), ==, required + 2);
    g_assert_cmpuint(n_participants(&s), ==, 0);
    g_free(reason);
    g_free(bye);
    g_free(reinvite);
    g_free(answer);
    g_free(tag);
    g_free(resp);
    caller_close(&c);
    server_stop(&s);
}

/* The audio section's first a=crypto in msg (our lobby offer's tag 1). */
static struct tsr_sdp_crypto offered_crypto(const char *msg)
{
    const char *audio = strstr(msg, "\r\nm=audio ");
    const char *line = audio ? strstr(audio, "\r\na=crypto:1 ") : NULL;
    const char *video = strstr(msg, "\r\nm=video ");
    g_assert_true(line && video && line < video);
    char *value = g_strndup(line + 11, strcspn(line + 11, "\r"));
    struct tsr_sdp_crypto c;
    const char *why = NULL;
    g_assert_cmpint(tsr_sdp_crypto_parse(value, &c, &why), ==, 0);
    g_assert_cmpint(c.suite, ==, TSR_SRTP_PROFILE_AES128_CM_SHA1_80);
    g_free(value);
    return c;
}

/* [sip] offer_srtp = optional: the lobby's offer carries a=crypto; a PCMU caller
 * answers with a key of its own, and from then on the lobby is SDES-SRTP: the
 * prompt comes protected under the offer's key (every packet checks with it),
 * keys sent in clear move nothing, and the right PIN sent inside SRTP joins. */
static void test_sdes(void)
{
    server_offer_srtp = TSR_SDP_OFFER_SRTP_OPTIONAL;
    struct server s;
    struct caller c;
    uint16_t port = 0;
    GSocket *rtp = lobby_rig_open(&s, &c, &port);

    char *resp = invite_pin(&c, "delayed-pin-sdes@t");
    g_assert_nonnull(strstr(resp, "\r\nm=audio "));
    struct tsr_sdp_crypto ours = offered_crypto(resp), mine = {.tag = 1};
    mine.suite = TSR_SRTP_PROFILE_AES128_CM_SHA1_80;
    memset(mine.key_salt, 0x5a, sizeof mine.key_salt);
    char value[128];
    g_assert_cmpint(tsr_sdp_crypto_format(&mine, value, sizeof value), ==, 0);
    uint64_t session_id = 0;
    unsigned version = 0;
    origin(resp, &session_id, &version);
    char *tag = to_tag(resp);
    char *answer = g_strdup_printf(
        "v=0\r\no=caller 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio %u RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=crypto:%s\r\n"
        "a=sendrecv\r\nm=video 0 RTP/AVP 98\r\n",
        port, value);
    struct tsr_dtls_srtp_keys keys;
    tsr_sdp_crypto_keys(&mine, &ours, &keys);
    g_assert_cmpint(tsr_srtp_new(&caller_srtp, &keys), ==, 0);
    send_request(&c, "ACK", "pin", "delayed-pin-sdes@t", tag, answer);
    handled(&c, "delayed-pin-sdes@t", tag);
    uint16_t lobby = answer_port(resp, "audio");
    send_rtp_from(rtp, lobby, 0);
    struct prompt_rx rx = {.pt = 0};
    read_prompt(rtp, 150, &rx); /* each packet checked under our offer's key */
    g_assert_cmpuint(rx.beeps_880, >=, 18);

    struct tsr_srtp *keyed = g_steal_pointer(&caller_srtp);
    send_event_keys(rtp, lobby, "5678#"); /* in clear: fails authentication */
    handled(&c, "delayed-pin-sdes@t", tag);
    g_assert_cmpuint(n_participants(&s), ==, 0);
    caller_srtp = keyed;
    send_event_keys(rtp, lobby, "5678#");
    joined_then_bye(&c, &s, "delayed-pin-sdes@t", tag, session_id, port,
                    "0\r\na=rtpmap:0 PCMU/8000");
    g_free(answer);
    g_free(tag);
    g_free(resp);
    tsr_srtp_free(&caller_srtp);
    g_object_unref(rtp);
    caller_close(&c);
    server_stop(&s);
    server_offer_srtp = TSR_SDP_OFFER_SRTP_NONE;
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sip_pin_delayed/pcmu_rfc4733", test_pcmu_rfc4733);
    g_test_add_func("/sip_pin_delayed/picture_and_info", test_picture_and_info);
    g_test_add_func("/sip_pin_delayed/bad_answers", test_bad_answers);
    g_test_add_func("/sip_pin_delayed/sdes", test_sdes);
    return g_test_run();
}
