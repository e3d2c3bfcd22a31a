/* RFC 7983 demultiplexing: every first-byte range, the RTP/RTCP split, short input. */
#include <glib.h>

#include <tessera/demux.h>
#include <tessera/metrics.h>

static enum tsr_demux_kind classify2(uint8_t b0, uint8_t b1)
{
    uint8_t *p = g_malloc(2);
    p[0] = b0;
    p[1] = b1;
    enum tsr_demux_kind k = tsr_demux_classify(p, 2);
    g_free(p);
    return k;
}

static void test_ranges(void)
{
    for (int b = 0; b < 256; b++) {
        enum tsr_demux_kind want = TSR_DEMUX_UNKNOWN;
        if (b <= 3)
            want = TSR_DEMUX_STUN;
        else if (b >= 16 && b <= 19)
            want = TSR_DEMUX_ZRTP;
        else if (b >= 20 && b <= 63)
            want = TSR_DEMUX_DTLS;
        else if (b >= 64 && b <= 79)
            want = TSR_DEMUX_TURN;
        else if (b >= 128 && b <= 191)
            want = TSR_DEMUX_RTP;
        g_assert_cmpint(classify2((uint8_t)b, 96), ==, want);
    }
    /* second byte 192..223 is RTCP (SR=200, RR=201, RTPFB=205, PSFB=206) */
    g_assert_cmpint(classify2(0x80, 200), ==, TSR_DEMUX_RTCP);
    g_assert_cmpint(classify2(0x81, 201), ==, TSR_DEMUX_RTCP);
    g_assert_cmpint(classify2(0x8f, 206), ==, TSR_DEMUX_RTCP);
    g_assert_cmpint(classify2(0x80, 191), ==, TSR_DEMUX_RTP);  /* PT 63 + marker */
    g_assert_cmpint(classify2(0x80, 224), ==, TSR_DEMUX_RTP);  /* PT 96 + marker */
    g_assert_cmpint(classify2(0x80, 0x6f), ==, TSR_DEMUX_RTP); /* Opus PT 111 */
    g_assert_cmpstr(tsr_demux_kind_name(TSR_DEMUX_DTLS), ==, "dtls");
}

static void test_short(void)
{
    struct tsr_counter *c = tsr_metrics_counter("tessera_demux_unknown_total", NULL, "x");
    uint64_t before = tsr_counter_value(c);
    uint8_t *one = g_malloc(1);
    one[0] = 0x80;
    g_assert_cmpint(tsr_demux_classify(one, 1), ==, TSR_DEMUX_UNKNOWN); /* RTP needs 2 bytes */
    one[0] = 0x16;
    g_assert_cmpint(tsr_demux_classify(one, 1), ==, TSR_DEMUX_DTLS);
    g_assert_cmpint(tsr_demux_classify(one, 0), ==, TSR_DEMUX_UNKNOWN);
    g_assert_cmpint(tsr_demux_classify(NULL, 5), ==, TSR_DEMUX_UNKNOWN);
    g_assert_cmpuint(tsr_counter_value(c), ==, before + 3);
    g_free(one);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/demux/ranges", test_ranges);
    g_test_add_func("/demux/short", test_short);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
