/* SDES-SRTP rekeying by re-INVITE, end to end through the conference core, the
 * media engine and the mixer: a PCMU caller joins with RTP/SAVP and its own key,
 * and another plain PCMU caller sends it something to hear. The SRTP it gets
 * checks under the answer's key. Then it re-offers with a new key of its own:
 * the re-answer carries a new key of ours too (a context rebuilt under the old
 * key would start its packet index again and reuse keystream, RFC 3711 §9.2),
 * and from the first packet under the new key on, every packet checks under it
 * and none under the old one. A re-offer that keeps the key keeps ours. Keys are
 * never dropped: a plain re-offer is refused, and so is one that offers in clear
 * a section an earlier re-offer had rejected. */
#include <tessera/conference.h>
#include <tessera/config.h>
#include <tessera/media_engine.h>
#include <tessera/sdp_crypto.h>
#include <tessera/srtp.h>

#include <gio/gio.h>
#include <glib.h>
#include <string.h>

#include "../common/conference_wait.h"
#include "../common/engine_registry.h"
#include "../common/loopback_udp.h"

struct caller {
    const char *name;
    GSocket *sock; /* audio, rtcp-mux, on 127.0.0.1 */
    struct tsr_participant *participant;
    GSocketAddress *server; /* the answer's audio address */
    uint16_t seq;
    uint32_t ts;
};

/* A PCMU offer, RTP/SAVP with `crypto` (an a=crypto value) or plain without. */
static char *offer(const struct caller *c, unsigned version, const char *crypto)
{
    char *line = crypto ? g_strdup_printf("a=crypto:%s\r\n", crypto) : g_strdup("");
    char *sdp = g_strdup_printf("v=0\r\no=- 7 %u IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                                "t=0 0\r\nm=audio %u RTP/%s 0\r\na=rtpmap:0 PCMU/8000\r\n%s"
                                "a=rtcp-mux\r\na=sendrecv\r\n",
                                version, test_port_of(c->sock), crypto ? "SAVP" : "AVP", line);
    g_free(line);
    return sdp;
}

static struct tsr_sdp_crypto caller_key(unsigned char fill)
{
    struct tsr_sdp_crypto k = {.tag = 1, .suite = TSR_SRTP_PROFILE_AES128_CM_SHA1_80};
    memset(k.key_salt, fill, sizeof k.key_salt);
    return k;
}

/* The answer's a=crypto, which must take our tag 1 and suite. */
static struct tsr_sdp_crypto answer_key(const char *answer)
{
    const char *line = strstr(answer, "\r\na=crypto:");
    g_assert_nonnull(line);
    char *value = g_strndup(line + 11, strcspn(line + 11, "\r"));
    struct tsr_sdp_crypto k;
    const char *why = NULL;
    g_assert_cmpint(tsr_sdp_crypto_parse(value, &k, &why), ==, 0);
    g_assert_cmpuint(k.tag, ==, 1);
    g_free(value);
    return k;
}

/* What the caller decrypts with: its key for what it sends, ours for what it gets. */
static struct tsr_srtp *session(const struct tsr_sdp_crypto *mine,
                                const struct tsr_sdp_crypto *ours)
{
    struct tsr_dtls_srtp_keys keys;
    tsr_sdp_crypto_keys(mine, ours, &keys);
    struct tsr_srtp *s = NULL;
    g_assert_cmpint(tsr_srtp_new(&s, &keys), ==, 0);
    return s;
}

static void read_answer(struct caller *c, const char *answer)
{
    char addr[64] = "";
    unsigned port = 0;
    const char *conn = strstr(answer, "c=IN IP4 "), *audio = strstr(answer, "m=audio ");
    g_assert_true(conn && audio);
    g_assert_cmpint(sscanf(conn, "c=IN IP4 %63[0-9.]", addr), ==, 1);
    g_assert_cmpint(sscanf(audio, "m=audio %u", &port), ==, 1);
    g_clear_object(&c->server);
    c->server = g_inet_socket_address_new_from_string(addr, port);
}

/* One 20 ms PCMU packet of a 1 kHz square tone (plain: the other caller). */
static void send_tone(struct caller *c)
{
    uint8_t pkt[12 + 160] = {0x80,
                             0,
                             (uint8_t)(c->seq >> 8),
                             (uint8_t)c->seq,
                             (uint8_t)(c->ts >> 24),
                             (uint8_t)(c->ts >> 16),
                             (uint8_t)(c->ts >> 8),
                             (uint8_t)c->ts,
                             0x0b,
                             0x0b,
                             0x0b,
                             0x0b};
    for (int i = 0; i < 160; i++)
        pkt[12 + i] = (i / 4) % 2 ? 0x20 : 0xa0;
    c->seq++;
    c->ts += 160;
    g_socket_send_to(c->sock, c->server, (const gchar *)pkt, sizeof pkt, NULL, NULL);
}

struct got {
    unsigned fresh, stale, neither; /* packets that check under the new key, the old, none */
};

/* Runs the loops for `ms`, the plain caller talking, and sorts what the SRTP
 * caller gets by the key it checks under (old may be NULL). */
static void listen(struct caller *srtp, struct caller *talker, struct tsr_srtp *fresh,
                   struct tsr_srtp *old, unsigned ms, struct got *g)
{
    gint64 end = g_get_monotonic_time() + (gint64)ms * 1000, next = 0;
    while (g_get_monotonic_time() < end) {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        if (g_get_monotonic_time() >= next) {
            send_tone(talker);
            next = g_get_monotonic_time() + 20000;
        }
        uint8_t buf[1500], copy[1500];
        gssize n;
        while ((n = g_socket_receive(srtp->sock, (gchar *)buf, sizeof buf, NULL, NULL)) > 0) {
            if ((buf[1] & 0x7f) >= 72 && (buf[1] & 0x7f) <= 79)
                continue; /* RTCP (muxed) */
            size_t len = (size_t)n;
            memcpy(copy, buf, len);
            if (tsr_srtp_unprotect_rtp(fresh, buf, &len) == 0) {
                g->fresh++;
                continue;
            }
            len = (size_t)n;
            if (old && tsr_srtp_unprotect_rtp(old, copy, &len) == 0) {
                g_assert_cmpuint(g->fresh, ==, 0); /* nothing under the old key after the new */
                g->stale++;
            } else {
                g->neither++;
            }
        }
        g_usleep(2000);
    }
}

/* Audio and video, both RTP/SAVP with `crypto`; video (VP8) `video`: "keyed",
 * "rejected" (port 0) or "plain" (RTP/AVP, no key). */
static char *offer_av(const struct caller *c, unsigned version, const char *crypto,
                      const char *video)
{
    char *audio = offer(c, version, crypto);
    bool keyed = strcmp(video, "keyed") == 0, plain = strcmp(video, "plain") == 0;
    char *v = g_strdup_printf("m=video %u RTP/%s 96\r\na=rtpmap:96 VP8/90000\r\n%s%s%s"
                              "a=rtcp-mux\r\na=sendrecv\r\n",
                              strcmp(video, "rejected") == 0 ? 0 : test_port_of(c->sock) + 2,
                              plain ? "AVP" : "SAVP", keyed ? "a=crypto:" : "", keyed ? crypto : "",
                              keyed ? "\r\n" : "");
    char *sdp = g_strconcat(audio, v, NULL);
    g_free(audio);
    g_free(v);
    return sdp;
}

/* Keys are never dropped, not even by a re-offer that first rejects a keyed
 * section and then offers it again in clear: the second is refused. */
static void sticky_keys(struct tsr_conference_registry *reg, const char *crypto)
{
    struct caller c = {.name = "camera", .sock = test_loopback_udp()};
    char *o = offer_av(&c, 1, crypto, "keyed"), *answer = NULL, *err = NULL;
    struct tsr_conference_join_request req = {
        .alias = "rekey", .display_name = c.name, .offer_sdp = o};
    enum tsr_conference_refusal refusal = TSR_CONFERENCE_REFUSAL_NONE;
    if (test_join(reg, &req, &c.participant, &answer, &refusal, &err) != 0)
        g_error("join refused: %s (%s)", tsr_conference_refusal_code(refusal), err);
    g_assert_nonnull(strstr(answer, " RTP/SAVP 96\r\n"));
    g_free(answer);
    g_free(o);
    o = offer_av(&c, 2, crypto, "rejected");
    g_assert_cmpint(test_renegotiate(c.participant, o, &answer, &err), ==, 0);
    g_assert_nonnull(strstr(answer, "m=video 0 "));
    g_free(answer);
    g_free(o);
    o = offer_av(&c, 3, crypto, "plain");
    g_assert_cmpint(test_renegotiate(c.participant, o, &answer, &err), !=, 0);
    g_test_message("video rejected, then offered in clear: %s", err);
    g_assert_nonnull(strstr(err, "without the SRTP the call had"));
    g_free(err);
    g_free(o);
    tsr_participant_leave(c.participant, TSR_LEAVE_REQUESTED);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_object_unref(c.sock);
}

static void test_rekey(void)
{
    static const char conf[] = "[mixer]\ncanvas_width = 160\ncanvas_height = 90\nfps = 5\n";
    struct tsr_media_engine *engine = NULL;
    struct tsr_conference_registry *reg = NULL;
    test_engine_registry(conf, &engine, &reg);
    char *err = NULL;

    struct caller a = {.name = "keyed", .sock = test_loopback_udp()};
    struct caller b = {.name = "talker", .sock = test_loopback_udp(), .seq = 100, .ts = 1000};
    struct tsr_sdp_crypto k1 = caller_key(0x31), k2 = caller_key(0x32);
    char v1[128], v2[128], *answers[2] = {NULL, NULL};
    g_assert_cmpint(tsr_sdp_crypto_format(&k1, v1, sizeof v1), ==, 0);
    g_assert_cmpint(tsr_sdp_crypto_format(&k2, v2, sizeof v2), ==, 0);
    struct caller *cs[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        char *o = offer(cs[i], 1, i == 0 ? v1 : NULL);
        struct tsr_conference_join_request req = {
            .alias = "rekey", .display_name = cs[i]->name, .offer_sdp = o};
        enum tsr_conference_refusal refusal = TSR_CONFERENCE_REFUSAL_NONE;
        if (test_join(reg, &req, &cs[i]->participant, &answers[i], &refusal, &err) != 0)
            g_error("join %s refused: %s (%s)", cs[i]->name, tsr_conference_refusal_code(refusal),
                    err);
        read_answer(cs[i], answers[i]);
        g_free(o);
    }
    g_assert_nonnull(strstr(answers[0], " RTP/SAVP 0\r\n"));
    struct tsr_sdp_crypto s1 = answer_key(answers[0]);
    struct tsr_srtp *first = session(&k1, &s1);
    struct got g1 = {0};
    listen(&a, &b, first, NULL, 1500, &g1);
    g_test_message("under the first keys: %u packets check, %u do not", g1.fresh, g1.neither);
    g_assert_cmpuint(g1.fresh, >=, 10);

    /* The same key again (a hold-style re-offer): our key stays. */
    char *o = offer(&a, 2, v1), *again = NULL;
    g_assert_cmpint(test_renegotiate(a.participant, o, &again, &err), ==, 0);
    struct tsr_sdp_crypto same = answer_key(again);
    g_assert_cmpmem(same.key_salt, sizeof same.key_salt, s1.key_salt, sizeof s1.key_salt);
    g_free(again);
    g_free(o);

    /* A new key of the caller's: a new one of ours, and only it from then on. */
    o = offer(&a, 3, v2);
    char *rekeyed = NULL;
    g_assert_cmpint(test_renegotiate(a.participant, o, &rekeyed, &err), ==, 0);
    g_test_message("the answer to the new key:\n%s", rekeyed);
    struct tsr_sdp_crypto s2 = answer_key(rekeyed);
    g_assert_true(memcmp(s2.key_salt, s1.key_salt, sizeof s1.key_salt) != 0);
    struct tsr_srtp *second = session(&k2, &s2);
    struct got g2 = {0};
    listen(&a, &b, second, first, 2000, &g2);
    g_test_message("after the new key: %u under it, %u under the old before it, %u neither",
                   g2.fresh, g2.stale, g2.neither);
    g_assert_cmpuint(g2.fresh, >=, 10);
    g_assert_cmpuint(g2.neither, ==, 0);
    g_free(rekeyed);
    g_free(o);

    /* Keys are never dropped: not by a plain re-offer, nor by one that first
     * rejects the section and then offers it again in clear. */
    o = offer(&a, 4, NULL);
    char *refused = NULL;
    g_assert_cmpint(test_renegotiate(a.participant, o, &refused, &err), !=, 0);
    g_test_message("a plain re-offer: %s", err);
    g_assert_nonnull(strstr(err, "SRTP"));
    g_clear_pointer(&err, g_free);
    g_free(o);
    sticky_keys(reg, v1);

    tsr_srtp_free(&first);
    tsr_srtp_free(&second);
    for (int i = 0; i < 2; i++) {
        tsr_participant_leave(cs[i]->participant, TSR_LEAVE_REQUESTED);
        g_free(answers[i]);
    }
    tsr_conference_registry_free(&reg);
    tsr_media_engine_free(&engine);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    for (int i = 0; i < 2; i++) {
        g_clear_object(&cs[i]->server);
        g_object_unref(cs[i]->sock);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/plain_sdes_rekey/rekey", test_rekey);
    return g_test_run();
}
