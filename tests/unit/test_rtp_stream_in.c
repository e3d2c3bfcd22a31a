/* Receiver statistics → report blocks (RFC 3550 A.3 loss, A.8 jitter, LSR/DLSR),
 * and the block survives an RR build → parse. */
#include <glib.h>

#include <tessera/err.h>
#include <tessera/rtcp.h>
#include <tessera/rtp_stream_in.h>

static void test_report(void)
{
    struct tsr_rtp_stream_in s;
    struct tsr_rtcp_report_block b;
    tsr_rtp_stream_in_init(&s, 0x77, 90000);
    g_assert_cmpint(tsr_rtp_stream_in_report(&s, 0, &b), ==, TSR_ERR_STATE);
    /* seq 65530..65539 (wrapping), 65533 and 2 lost, 65535 and 0 swapped; steady
     * 10 ms spacing with matching timestamps: zero jitter */
    const uint16_t order[] = {65530, 65531, 65532, 65534, 0, 65535, 1, 3};
    for (size_t i = 0; i < G_N_ELEMENTS(order); i++) {
        uint16_t q = order[i];
        int64_t idx = (uint16_t)(q - 65530);
        tsr_rtp_stream_in_update(&s, q, (uint32_t)(idx * 900), 1000000 + idx * 10000);
    }
    struct tsr_rtcp_sr sr = {.ssrc = 0x77, .ntp = 0x1122334455667788ull};
    tsr_rtp_stream_in_on_sr(&s, &sr, 1050000);
    g_assert_cmpint(tsr_rtp_stream_in_report(&s, 1550000, &b), ==, 0);
    g_assert_cmpuint(b.ssrc, ==, 0x77);
    g_assert_cmpint(b.cumulative_lost, ==, 2);
    g_assert_cmpuint(b.fraction_lost, ==, (2 * 256) / 10);
    g_assert_cmpuint(b.ext_highest_seq, ==, 65536u + 3u); /* one wrap, highest 3 */
    g_assert_cmpuint(b.jitter_rtp, ==, 0);
    g_assert_cmphex(b.lsr, ==, 0x33445566);
    g_assert_cmpuint(b.dlsr, ==, 32768); /* 0.5 s in 1/65536 s */

    /* next interval: 5 more, none lost → fraction 0, cumulative unchanged; late
     * arrivals now add jitter */
    for (int i = 4; i < 9; i++)
        tsr_rtp_stream_in_update(&s, (uint16_t)i, (uint32_t)((i + 6) * 900),
                                 1000000 + (i + 6) * 10000 + (i % 2) * 5000);
    g_assert_cmpint(tsr_rtp_stream_in_report(&s, 2000000, &b), ==, 0);
    g_assert_cmpuint(b.fraction_lost, ==, 0);
    g_assert_cmpint(b.cumulative_lost, ==, 2);
    g_assert_cmpuint(b.ext_highest_seq, ==, 65536u + 8u);
    g_assert_cmpuint(b.jitter_rtp, >, 0);

    /* the block round-trips through an RR */
    uint8_t buf[64];
    struct tsr_rtcp_writer w;
    struct tsr_rtcp_rr rr = {.ssrc = 1, .n_reports = 1, .reports = {b}};
    tsr_rtcp_writer_init(&w, buf, sizeof buf);
    g_assert_cmpint(tsr_rtcp_write_rr(&w, &rr), ==, 0);
    struct tsr_rtcp_item it;
    size_t n;
    g_assert_cmpint(tsr_rtcp_parse(buf, w.len, &it, 1, &n), ==, 0);
    g_assert_cmpmem(&it.u.rr.reports[0], sizeof b, &b, sizeof b);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtp_stream_in/report", test_report);
    return g_test_run();
}
