/* RFC 4733 events: baresip's packets read to the right code, end bit, volume and
 * duration; other payload types and short payloads are told apart; a digit counts
 * once however many end packets repeat it; '#' and '*' map as on a keypad. */
#include <tessera/err.h>
#include <tessera/rtp_dtmf.h>

#include <glib.h>
#include <string.h>

/* An RTP packet (no CSRC, no extension) with a 4-byte event payload. */
static size_t event_packet(uint8_t *b, uint8_t pt, uint16_t seq, uint32_t ts, uint8_t code,
                           bool end, uint16_t duration)
{
    memset(b, 0, 16);
    b[0] = 0x80;
    b[1] = pt;
    b[2] = (uint8_t)(seq >> 8);
    b[3] = (uint8_t)seq;
    b[4] = (uint8_t)(ts >> 24);
    b[5] = (uint8_t)(ts >> 16);
    b[6] = (uint8_t)(ts >> 8);
    b[7] = (uint8_t)ts;
    b[11] = 0x42; /* SSRC */
    b[12] = code;
    b[13] = (uint8_t)((end ? 0x80 : 0) | 0x40 | 10); /* R set: must be ignored */
    b[14] = (uint8_t)(duration >> 8);
    b[15] = (uint8_t)duration;
    return 16;
}

static void test_parse(void)
{
    uint8_t b[32];
    struct tsr_dtmf_event ev;
    size_t n = event_packet(b, 101, 7, 48000, 11, true, 960);
    g_assert_cmpint(tsr_rtp_dtmf_parse(b, n, 101, &ev), ==, 0);
    g_assert_cmpuint(ev.code, ==, 11);
    g_assert_true(ev.end);
    g_assert_cmpuint(ev.volume, ==, 10);
    g_assert_cmpuint(ev.duration, ==, 960);
    g_assert_cmpuint(ev.timestamp, ==, 48000);
    /* Opus on the same port: not an event, not an error. */
    g_assert_cmpint(tsr_rtp_dtmf_parse(b, n, 96, &ev), ==, TSR_ERR_NOT_FOUND);
    /* An event payload of 3 bytes, and something that is not RTP. */
    g_assert_cmpint(tsr_rtp_dtmf_parse(b, n - 1, 101, &ev), ==, TSR_ERR_TRUNCATED);
    b[0] = 0x40;
    g_assert_cmpint(tsr_rtp_dtmf_parse(b, n, 101, &ev), !=, 0);
    g_assert_cmpint(tsr_rtp_dtmf_parse(b, 5, 101, &ev), !=, 0);
}

static char push(struct tsr_dtmf_collector *c, uint32_t ts, uint8_t code, bool end)
{
    uint8_t b[32];
    struct tsr_dtmf_event ev;
    size_t n = event_packet(b, 101, 1, ts, code, end, 160);
    g_assert_cmpint(tsr_rtp_dtmf_parse(b, n, 101, &ev), ==, 0);
    return tsr_dtmf_collector_push(c, &ev);
}

static void test_collector(void)
{
    struct tsr_dtmf_collector c = {0};
    /* "1" then "#": start and continuation packets, then three ends each. */
    g_assert_cmpint(push(&c, 1000, 1, false), ==, 0);
    g_assert_cmpint(push(&c, 1000, 1, false), ==, 0);
    g_assert_cmpint(push(&c, 1000, 1, true), ==, '1');
    g_assert_cmpint(push(&c, 1000, 1, true), ==, 0);
    g_assert_cmpint(push(&c, 1000, 1, true), ==, 0);
    g_assert_cmpint(push(&c, 9000, 11, false), ==, 0);
    g_assert_cmpint(push(&c, 9000, 11, true), ==, '#');
    g_assert_cmpint(push(&c, 9000, 11, true), ==, 0);
    /* The same key again is a new event (new timestamp); an end whose start was
     * lost still counts. */
    g_assert_cmpint(push(&c, 17000, 11, true), ==, '#');
    /* Flash (16) and tones are not keys. */
    g_assert_cmpint(push(&c, 25000, 16, true), ==, 0);
}

static void test_digits(void)
{
    const char *keys = "0123456789*#ABCD";
    for (uint8_t i = 0; i < 16; i++)
        g_assert_cmpint(tsr_dtmf_digit(i), ==, keys[i]);
    g_assert_cmpint(tsr_dtmf_digit(16), ==, 0);
    g_assert_cmpint(tsr_dtmf_digit(255), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtp_dtmf/parse", test_parse);
    g_test_add_func("/rtp_dtmf/collector", test_collector);
    g_test_add_func("/rtp_dtmf/digits", test_digits);
    return g_test_run();
}
