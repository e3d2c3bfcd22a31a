/* The SIP front on a real UDP socket: what a SIP endpoint sends, byte for byte, and
 * what comes back (the harness is sip_wire.c): refusals, calls, re-offers, session
 * timers, TLS settings, PIN entry and its prompt. */
#include "sip_wire.h"

#include <tessera/err.h>
#include <tessera/g711.h>
#include <tessera/g722.h>
#include <tessera/metrics.h>
#include <tessera/rtp_codec.h>
#include <tessera/video_decoder.h>

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void expect_refusal(struct caller *c, const char *user, const char *body,
                           const char *status_line, const char *reason)
{
    char *call_id = g_strdup_printf("refuse-%s-%u@t", user, c->cseq);
    send_request(c, "INVITE", user, call_id, "", body);
    char *resp = receive_final(c);
    if (!g_str_has_prefix(resp, status_line))
        g_error("expected %s, got:\n%s", status_line, resp);
    char *r = header(resp, "Reason");
    g_assert_cmpstr(r, ==, reason);
    char *tag = to_tag(resp);
    send_request(c, "ACK", user, call_id, tag, NULL);
    g_free(tag);
    g_free(r);
    g_free(resp);
    g_free(call_id);
}

static void test_options_and_refusals(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);

    send_request(&c, "OPTIONS", "room", "options-1@t", "", NULL);
    char *resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    char *allow = header(resp, "Allow");
    g_assert_nonnull(strstr(allow, "INVITE"));
    g_assert_nonnull(strstr(allow, "BYE"));
    char *cseq = header(resp, "CSeq");
    g_assert_cmpstr(cseq, ==, "1 OPTIONS");
    g_free(cseq);
    g_free(allow);
    g_free(resp);

    expect_refusal(&c, "nosuch", offer_sdp, "SIP/2.0 404 Not Found\r\n",
                   "SIP;cause=404;text=\"there is no conference 'nosuch'\"");
    expect_refusal(&c, ".dot", offer_sdp, "SIP/2.0 400 Bad Request\r\n",
                   "SIP;cause=400;text=\"" TSR_CONFERENCE_ALIAS_RULE "\"");
    char *nocodec = g_strconcat(offer_sdp, "a=nocodec\r\n", NULL);
    expect_refusal(&c, "room", nocodec, "SIP/2.0 488 Not Acceptable Here\r\n",
                   "SIP;cause=488;text=\"media: no common audio codec\"");
    g_free(nocodec);
    g_assert_cmpuint(n_participants(&s), ==, 0);
    caller_close(&c);
    server_stop(&s);
}

/* INVITE → 200 with the media layer's answer, ACK, in the roster; a second caller
 * to a one-seat room is busy (486); BYE → 200 and the participant is gone. */
static void test_call_and_bye(void)
{
    struct server s;
    server_start(&s);
    struct caller c, d;
    caller_open(&c, s.port);
    caller_open(&d, s.port);

    send_request(&c, "INVITE", "small", "call-1@t", "", offer_sdp);
    char *resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    char *ctype = header(resp, "Content-Type");
    g_assert_cmpstr(ctype, ==, "application/sdp");
    g_assert_true(g_str_has_suffix(resp, "\r\n\r\n" FAKE_ANSWER));
    char *tag = to_tag(resp);
    g_assert_cmpstr(tag, !=, "");
    send_request(&c, "ACK", "small", "call-1@t", tag, NULL);
    g_assert_cmpuint(n_participants(&s), ==, 1);

    expect_refusal(&d, "small", offer_sdp, "SIP/2.0 486 Busy Here\r\n",
                   "SIP;cause=486;text=\"the conference is full (1 participants)\"");

    /* RFC 5168 picture_fast_update by INFO: answered 200, a keyframe asked for as
     * a PLI would; another INFO package is answered 200 and asks for nothing. */
    g_atomic_int_set(&keyframe_requests, 0);
    send_typed(&c, "INFO", "small", "call-1@t", tag, "application/media_control+xml",
               "<?xml version=\"1.0\" encoding=\"utf-8\" ?>\r\n<media_control><vc_primitive>"
               "<to_encoder><picture_fast_update/></to_encoder></vc_primitive></media_control>");
    char *info = receive_final(&c);
    g_assert_true(g_str_has_prefix(info, "SIP/2.0 200 OK\r\n"));
    g_free(info);
    send_typed(&c, "INFO", "small", "call-1@t", tag, "application/x-unknown", "hello");
    info = receive_final(&c);
    g_assert_true(g_str_has_prefix(info, "SIP/2.0 200 OK\r\n"));
    g_free(info);
    g_assert_cmpint(g_atomic_int_get(&keyframe_requests), ==, 1);

    send_request(&c, "BYE", "small", "call-1@t", tag, NULL);
    char *bye = receive_final(&c);
    g_assert_true(g_str_has_prefix(bye, "SIP/2.0 200 OK\r\n"));
    g_assert_cmpuint(n_participants(&s), ==, 0);
    g_free(bye);
    g_free(tag);
    g_free(ctype);
    g_free(resp);
    caller_close(&c);
    caller_close(&d);
    server_stop(&s);
}

/* An INVITE without SDP to `user`: 200 with our offer (application/sdp); returns
 * the To tag. */
static char *invite_without_sdp(struct caller *c, const char *user, const char *call_id)
{
    send_request(c, "INVITE", user, call_id, "", NULL);
    char *resp = receive_final(c);
    if (!g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"))
        g_error("expected 200 with an offer, got:\n%s", resp);
    char *ctype = header(resp, "Content-Type");
    g_assert_cmpstr(ctype, ==, "application/sdp");
    g_assert_true(g_str_has_suffix(resp, "\r\n\r\n" FAKE_OFFER));
    char *tag = to_tag(resp);
    g_assert_cmpstr(tag, !=, "");
    g_free(ctype);
    g_free(resp);
    return tag;
}

/* RFC 3261 §13.2.1: an INVITE without SDP gets our offer in the 200; the ACK's
 * answer reaches the media layer and the caller is a participant until its BYE.
 * An ACK without an answer, or one the media refuses, ends the call with a BYE
 * carrying the Reason, counted, and leaves nobody in the roster. */
static void test_invite_without_sdp(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);

    char *tag = invite_without_sdp(&c, "room", "delayed-1@t");
    send_request(&c, "ACK", "room", "delayed-1@t", tag, offer_sdp);
    char *got = fake_next_answer();
    g_assert_cmpstr(got, ==, offer_sdp);
    g_free(got);
    g_assert_cmpuint(n_participants(&s), ==, 1);
    send_request(&c, "BYE", "room", "delayed-1@t", tag, NULL);
    char *bye = receive_final(&c);
    g_assert_true(g_str_has_prefix(bye, "SIP/2.0 200 OK\r\n"));
    g_assert_cmpuint(n_participants(&s), ==, 0);
    g_free(bye);
    g_free(tag);

    uint64_t required = sip_errors("answer_required");
    tag = invite_without_sdp(&c, "room", "delayed-2@t");
    send_request(&c, "ACK", "room", "delayed-2@t", tag, NULL);
    expect_bye(&c, "SIP;cause=488;text=\"the ACK carries no SDP answer to the offer in our "
                   "200 OK\"");
    g_assert_cmpuint(n_participants(&s), ==, 0);
    g_assert_cmpuint(sip_errors("answer_required"), ==, required + 1);
    g_free(tag);

    uint64_t bad = sip_errors("bad_answer");
    tag = invite_without_sdp(&c, "room", "delayed-3@t");
    char *nocodec = g_strconcat(offer_sdp, "a=nocodec\r\n", NULL);
    send_request(&c, "ACK", "room", "delayed-3@t", tag, nocodec);
    got = fake_next_answer();
    g_assert_cmpstr(got, ==, nocodec);
    expect_bye(&c, "SIP;cause=488;text=\"the answer picks none of the codecs we offered\"");
    g_assert_cmpuint(n_participants(&s), ==, 0);
    g_assert_cmpuint(sip_errors("bad_answer"), ==, bad + 1);
    g_free(got);
    g_free(nocodec);
    g_free(tag);
    caller_close(&c);
    server_stop(&s);
}

/* INVITE to a PIN conference → 200 with the lobby (audio receive-only with
 * telephone-event); a wrong PIN by INFO leaves it out; the guest PIN joins and the
 * media answer comes in a re-INVITE under the lobby's o= session, version 2. */
static void test_pin_by_info(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);
    char *offer = g_strconcat(offer_sdp, "a=rtpmap:101 telephone-event/48000\r\n", NULL);
    char *with_te = g_strdup(offer);
    g_free(offer);
    offer = st_replace(with_te, "RTP/AVP 96\r\n", "RTP/AVP 96 101\r\n");
    send_request(&c, "INVITE", "pin", "pin-1@t", "", offer);
    char *resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    g_assert_nonnull(strstr(resp, "a=rtpmap:101 telephone-event/48000\r\n"));
    g_assert_nonnull(strstr(resp, "a=sendrecv\r\n")); /* the prompt tones come */
    char *tag = to_tag(resp);
    send_request(&c, "ACK", "pin", "pin-1@t", tag, NULL);
    send_keys(&c, "pin-1@t", tag, "99#");
    g_assert_cmpuint(n_participants(&s), ==, 0);
    send_keys(&c, "pin-1@t", tag, "5678#");
    char *reinvite = receive_final(&c);
    g_assert_true(g_str_has_prefix(reinvite, "INVITE sip:room1@127.0.0.1"));
    g_assert_nonnull(strstr(reinvite, "\r\no=tessera "));
    g_assert_nonnull(strstr(reinvite, " 2 IN IP4 127.0.0.1\r\n"));
    g_assert_nonnull(strstr(reinvite, "m=audio 40000 RTP/AVP 96\r\n"));
    answer_request(&c, reinvite);
    g_assert_cmpuint(n_participants(&s), ==, 1);
    send_request(&c, "BYE", "pin", "pin-1@t", tag, NULL);
    g_free(reinvite);
    g_free(tag);
    g_free(resp);
    g_free(with_te);
    g_free(offer);
    caller_close(&c);
    server_stop(&s);
}

/* Three wrong PINs: the server hangs up with a BYE that says why. */
static void test_pin_three_wrong(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);
    send_request(&c, "INVITE", "pin", "pin-2@t", "", offer_sdp);
    char *resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    char *tag = to_tag(resp);
    send_request(&c, "ACK", "pin", "pin-2@t", tag, NULL);
    send_keys(&c, "pin-2@t", tag, "1#2#3#");
    char *bye = receive_final(&c);
    g_assert_true(g_str_has_prefix(bye, "BYE sip:room1@127.0.0.1"));
    char *reason = header(bye, "Reason");
    g_assert_cmpstr(reason, ==, "SIP;cause=403;text=\"wrong PIN\"");
    answer_request(&c, bye);
    g_assert_cmpuint(n_participants(&s), ==, 0);
    g_free(reason);
    g_free(bye);
    g_free(tag);
    g_free(resp);
    caller_close(&c);
    server_stop(&s);
}

/* The caller refuses the re-INVITE that carries the join's answer: the
 * participant leaves and the server hangs up saying why. */
static void test_pin_reinvite_refused(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);
    send_request(&c, "INVITE", "pin", "pin-3@t", "", offer_sdp);
    char *resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    char *tag = to_tag(resp);
    send_request(&c, "ACK", "pin", "pin-3@t", tag, NULL);
    send_keys(&c, "pin-3@t", tag, "1234#");
    char *reinvite = receive_final(&c);
    g_assert_true(g_str_has_prefix(reinvite, "INVITE "));
    g_assert_cmpuint(n_participants(&s), ==, 1);
    respond_request(&c, reinvite, "488 Not Acceptable Here");
    char *bye = receive_final(&c);
    while (g_str_has_prefix(bye, "ACK ")) { /* the server's ACK of our 488 */
        g_free(bye);
        bye = receive_final(&c);
    }
    g_assert_true(g_str_has_prefix(bye, "BYE "));
    char *reason = header(bye, "Reason");
    g_assert_cmpstr(reason, ==,
                    "SIP;cause=488;text=\"the caller refused the conference's media answer\"");
    answer_request(&c, bye);
    g_assert_cmpuint(n_participants(&s), ==, 0);
    g_free(reason);
    g_free(bye);
    g_free(reinvite);
    g_free(tag);
    g_free(resp);
    caller_close(&c);
    server_stop(&s);
}

/* RFC 4028 session timers, RFC 3311 UPDATE, RFC 3262 100rel: an INVITE that
 * requires 100rel and asks for a 120 s session is answered 200 with the caller as
 * refresher; UPDATE without a body refreshes it, UPDATE with an offer renegotiates
 * like a re-INVITE; a Session-Expires below Min-SE gets 422. */
static void test_session_timer_and_update(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);

    send_full(&c, "INVITE", "room", "short-1@t", "", "Supported: timer\r\nSession-Expires: 30\r\n",
              "application/sdp", offer_sdp);
    char *resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 422 "));
    char *min_se = header(resp, "Min-SE");
    g_assert_cmpstr(min_se, ==, "90");
    char *tag = to_tag(resp);
    send_request(&c, "ACK", "room", "short-1@t", tag, NULL);
    g_free(tag);
    g_free(min_se);
    g_free(resp);

    send_full(&c, "INVITE", "room", "timer-1@t", "",
              "Supported: timer, 100rel\r\nRequire: 100rel\r\nSession-Expires: 120\r\n",
              "application/sdp", offer_sdp);
    resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    g_assert_true(g_str_has_suffix(resp, "\r\n\r\n" FAKE_ANSWER));
    char *se = header(resp, "Session-Expires");
    g_assert_cmpstr(se, ==, "120;refresher=uac");
    char *require = header(resp, "Require");
    g_assert_nonnull(require);
    g_assert_nonnull(strstr(require, "timer"));
    char *allow = header(resp, "Allow");
    g_assert_nonnull(strstr(allow, "UPDATE"));
    tag = to_tag(resp);
    send_request(&c, "ACK", "room", "timer-1@t", tag, NULL);
    g_assert_cmpuint(n_participants(&s), ==, 1);

    send_full(&c, "UPDATE", "room", "timer-1@t", tag, "Session-Expires: 120;refresher=uac\r\n",
              NULL, NULL);
    char *upd = receive_final(&c);
    g_assert_true(g_str_has_prefix(upd, "SIP/2.0 200 OK\r\n"));
    g_assert_true(g_str_has_suffix(upd, "\r\n\r\n")); /* no body */
    char *cseq = header(upd, "CSeq");
    g_assert_nonnull(strstr(cseq, "UPDATE"));
    g_free(cseq);
    g_free(upd);

    char *moved = st_replace(offer_sdp, "4000", "4010");
    send_full(&c, "UPDATE", "room", "timer-1@t", tag, "", "application/sdp", moved);
    upd = receive_final(&c);
    g_assert_true(g_str_has_prefix(upd, "SIP/2.0 200 OK\r\n"));
    g_assert_true(g_str_has_suffix(upd, "\r\n\r\n" FAKE_REANSWER));
    cseq = header(upd, "CSeq");
    g_assert_nonnull(strstr(cseq, "UPDATE"));
    g_free(cseq);
    g_free(upd);
    g_free(moved);
    g_assert_cmpuint(n_participants(&s), ==, 1);

    send_request(&c, "BYE", "room", "timer-1@t", tag, NULL);
    char *bye = receive_final(&c);
    g_assert_true(g_str_has_prefix(bye, "SIP/2.0 200 OK\r\n"));
    g_assert_cmpuint(n_participants(&s), ==, 0);
    g_free(bye);
    g_free(tag);
    g_free(allow);
    g_free(require);
    g_free(se);
    g_free(resp);
    caller_close(&c);
    server_stop(&s);
}

/* A caller that does not refresh its session: the server ends the call with a BYE
 * before the interval is over (a 4 s session here; 1800 s by default). */
static void test_session_expires(void)
{
    session_expires_s = 4;
    struct server s;
    server_start(&s);
    session_expires_s = 0;
    struct caller c;
    caller_open(&c, s.port);
    send_full(&c, "INVITE", "room", "expire-1@t", "", "Supported: timer\r\nSession-Expires: 4\r\n",
              "application/sdp", offer_sdp);
    char *resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    char *se = header(resp, "Session-Expires");
    g_assert_cmpstr(se, ==, "4;refresher=uac");
    char *tag = to_tag(resp);
    send_request(&c, "ACK", "room", "expire-1@t", tag, NULL);
    g_assert_cmpuint(n_participants(&s), ==, 1);
    gint64 acked = g_get_monotonic_time();
    char *bye = receive_final(&c); /* the socket's timeout is 10 s */
    g_assert_true(g_str_has_prefix(bye, "BYE sip:"));
    g_assert_cmpint(g_get_monotonic_time() - acked, <, 5 * G_USEC_PER_SEC);
    answer_request(&c, bye);
    /* The participant leaves when the dialog ends, as our 200 reaches the server. */
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (n_participants(&s) > 0 && g_get_monotonic_time() < end)
        g_usleep(10000);
    g_assert_cmpuint(n_participants(&s), ==, 0);
    g_free(bye);
    g_free(tag);
    g_free(se);
    g_free(resp);
    caller_close(&c);
    server_stop(&s);
}

/* TLS settings that cannot work stop the front from starting, with a clear error:
 * only one of the two files, a file that is missing, a file that is not PEM. */
static void test_tls_settings_refused(void)
{
    GMainContext *ctx = g_main_context_new();
    g_main_context_push_thread_default(ctx);
    struct tsr_conference_registry *reg = NULL;
    struct tsr_conference_registry_opts ro = {
        .token_ttl_s = 60, .default_max_participants = 10, .media = &fake_media, .context = ctx};
    g_assert_cmpint(tsr_conference_registry_new(&reg, &ro), ==, 0);
    char *dir = g_dir_make_tmp("tsr-sip-tls-XXXXXX", NULL);
    char *junk = g_build_filename(dir, "junk.pem", NULL);
    g_assert_true(g_file_set_contents(junk, "not a certificate\n", -1, NULL));
    const char *pairs[][2] = {
        {junk, ""}, {"", junk}, {"/nonexistent/cert.pem", junk}, {junk, junk}};
    for (size_t i = 0; i < G_N_ELEMENTS(pairs); i++) {
        struct tsr_sip_front *f = NULL;
        struct tsr_sip_front_options o = {.host = "127.0.0.1",
                                          .port = 5,
                                          .transports = "udp",
                                          .certificate = pairs[i][0],
                                          .private_key = pairs[i][1]};
        g_assert_cmpint(tsr_sip_front_new(&f, reg, &o), ==, TSR_ERR_INVALID);
        g_assert_null(f);
    }
    g_unlink(junk);
    g_rmdir(dir);
    g_free(junk);
    g_free(dir);
    tsr_conference_registry_free(&reg);
    g_main_context_pop_thread_default(ctx);
    g_main_context_unref(ctx);
}

/* --- the PIN prompt, heard by PCMU and G.722 callers ----------------------------- */

/* A PCMU (pt 0) or G.722 (pt 9) caller to a PIN conference hears the prompt (880 Hz
 * beeps, then quiet, in a 3 s cadence) on the port its SDP names; a wrong PIN
 * plays 330 Hz beeps, then the prompt again. */
static void test_pin_prompt(gconstpointer data)
{
    int pt = GPOINTER_TO_INT(data);
    struct server s;
    struct caller c;
    uint16_t port = 0;
    GSocket *rtp = lobby_rig_open(&s, &c, &port);
    char *offer = g_strdup_printf("v=0\r\no=room1 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                                  "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %u RTP/AVP %d 101\r\n"
                                  "a=rtpmap:101 telephone-event/8000\r\n",
                                  port, pt);
    send_request(&c, "INVITE", "pin", "prompt-1@t", "", offer);
    char *resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    g_assert_nonnull(strstr(resp, "m=audio "));
    g_assert_nonnull(strstr(resp, "a=sendrecv\r\n"));
    char *tag = to_tag(resp);
    send_request(&c, "ACK", "pin", "prompt-1@t", tag, NULL);

    struct prompt_rx rx = {.pt = pt}, wrong = {.pt = pt};
    if (pt == 9) {
        g_assert_cmpint(tsr_g722_decoder_new(&rx.g722), ==, 0);
        wrong.g722 = rx.g722;
    }
    uint16_t lobby = answer_port(resp, "audio");
    /* Nothing goes to the SDP's address before the caller is heard from it (an
     * INVITE could name anyone's address). */
    g_assert_false(g_socket_condition_timed_wait(rtp, G_IO_IN, 500000, NULL, NULL));
    send_rtp_from(rtp, lobby, pt); /* the caller is heard: the prompt starts */
    read_prompt(rtp, 150, &rx);    /* one whole 3 s cadence */
    g_test_message("prompt (pt %d): %u packets, %u frames of 880 Hz, %u quiet", pt, rx.packets,
                   rx.beeps_880, rx.quiet);
    g_assert_cmpuint(rx.beeps_880, >=, 18); /* two 200 ms beeps: 20 frames */
    g_assert_cmpuint(rx.beeps_880, <=, 22);
    g_assert_cmpuint(rx.beeps_330, ==, 0);
    g_assert_cmpuint(rx.quiet, >=, 120);

    send_rtp_from(rtp, lobby, pt); /* still there */
    uint16_t other_port = 0;       /* a third party's packet does not take the prompt away */
    GSocket *other = loopback_udp(&other_port);
    send_rtp_from(other, lobby, pt);
    send_keys(&c, "prompt-1@t", tag, "99#");
    read_prompt(rtp, 50, &wrong); /* the answer comes within a second */
    g_test_message("after a wrong PIN: %u frames of 330 Hz", wrong.beeps_330);
    g_assert_cmpuint(wrong.beeps_330, >=, 18); /* three 150 ms beeps: 22 frames */

    send_request(&c, "BYE", "pin", "prompt-1@t", tag, NULL);
    g_assert_false(g_socket_condition_timed_wait(other, G_IO_IN, 0, NULL, NULL));
    g_object_unref(other);
    tsr_g722_decoder_free(&rx.g722);
    g_free(tag);
    g_free(resp);
    g_free(offer);
    g_object_unref(rtp);
    caller_close(&c);
    server_stop(&s);
}

/* --- the "enter PIN" picture ---------------------------------------------------------- */

/* A caller whose offer has H.264 video sees the "enter PIN" picture: the answer
 * accepts video sendonly with our fmtp, a keyframe arrives on the offer's video
 * port once a second, and it decodes to a 640x360 dark blue picture with light
 * text in its middle band. */
static void test_pin_picture(void)
{
    struct server s;
    server_start(&s);
    struct caller c;
    caller_open(&c, s.port);
    uint16_t aport = 0, vport = 0;
    GSocket *audio = loopback_udp(&aport), *video = loopback_udp(&vport);
    char *offer = g_strdup_printf(
        "v=0\r\no=room1 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio %u RTP/AVP 0\r\nm=video %u RTP/AVP 96 97\r\na=rtpmap:96 H264/90000\r\n"
        "a=fmtp:96 packetization-mode=0;profile-level-id=42e01f\r\na=rtpmap:97 H264/90000\r\n"
        "a=fmtp:97 packetization-mode=1;profile-level-id=42e01f\r\n",
        aport, vport);
    send_request(&c, "INVITE", "pin", "picture-1@t", "", offer);
    char *resp = receive_final(&c);
    g_assert_true(g_str_has_prefix(resp, "SIP/2.0 200 OK\r\n"));
    g_assert_nonnull(strstr(resp, "a=rtpmap:97 H264/90000\r\n"
                                  "a=fmtp:97 packetization-mode=1;profile-level-id=42e01f\r\n"
                                  "a=sendonly\r\n"));
    char *tag = to_tag(resp);
    send_request(&c, "ACK", "pin", "picture-1@t", tag, NULL);
    send_rtp_from(video, answer_port(resp, "video"), 97); /* its camera: the picture starts */

    AVFrame *f = receive_lobby_picture(video, 97);
    unsigned bg = 0, ink = 0;
    for (int y = 0; y < 360; y += 2)
        for (int x = 0; x < 640; x += 2) {
            uint8_t v = f->data[0][y * f->linesize[0] + x];
            bg += v >= 40 && v <= 60;
            ink += v > 150 && y > 100 && y < 260;
        }
    g_test_message("picture: %u of 57600 samples background, %u text", bg, ink);
    g_assert_cmpuint(bg, >, 57600 * 8 / 10);
    g_assert_cmpuint(ink, >, 300);

    send_request(&c, "BYE", "pin", "picture-1@t", tag, NULL);
    av_frame_free(&f);
    g_free(tag);
    g_free(resp);
    g_free(offer);
    g_object_unref(audio);
    g_object_unref(video);
    caller_close(&c);
    server_stop(&s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sip_front/options_and_refusals", test_options_and_refusals);
    g_test_add_func("/sip_front/call_and_bye", test_call_and_bye);
    g_test_add_func("/sip_front/invite_without_sdp", test_invite_without_sdp);
    g_test_add_func("/sip_front/session_timer_and_update", test_session_timer_and_update);
    g_test_add_func("/sip_front/session_expires", test_session_expires);
    g_test_add_func("/sip_front/tls_settings_refused", test_tls_settings_refused);
    g_test_add_func("/sip_front/pin_by_info", test_pin_by_info);
    g_test_add_func("/sip_front/pin_three_wrong", test_pin_three_wrong);
    g_test_add_data_func("/sip_front/pin_prompt_pcmu", GINT_TO_POINTER(0), test_pin_prompt);
    g_test_add_data_func("/sip_front/pin_prompt_g722", GINT_TO_POINTER(9), test_pin_prompt);
    g_test_add_func("/sip_front/pin_picture", test_pin_picture);
    g_test_add_func("/sip_front/pin_reinvite_refused", test_pin_reinvite_refused);
    return g_test_run();
}
