/* RTCP: every packet type round-trips build → parse; known transport-cc vector;
 * malformed compound packets are rejected whole; media clock NTP↔RTP. */
#include <errno.h>
#include <glib.h>
#include <string.h>

#include <tessera/err.h>
#include <tessera/metrics.h>
#include <tessera/rtcp.h>

static struct tsr_rtcp_report_block block(uint32_t ssrc, int32_t lost)
{
    return (struct tsr_rtcp_report_block){ssrc, 25, lost, 0x0001fffe, 345, 0xaabbccdd, 65536 * 2};
}

static void assert_block(const struct tsr_rtcp_report_block *a,
                         const struct tsr_rtcp_report_block *b)
{
    g_assert_cmpmem(a, sizeof *a, b, sizeof *b);
}

/* One compound packet with every type we build, parsed back field by field. */
static void test_roundtrip_all(void)
{
    uint8_t buf[1500];
    struct tsr_rtcp_writer w;
    struct tsr_rtcp_sr sr = {.ssrc = 0x11,
                             .ntp = 0xe1234567890abcdeull,
                             .timestamp_rtp = 90000,
                             .packet_count = 77,
                             .octet_count = 66000,
                             .n_reports = 2};
    sr.reports[0] = block(0x21, 5);
    sr.reports[1] = block(0x22, -3);
    struct tsr_rtcp_rr rr = {.ssrc = 0x12, .n_reports = 1};
    rr.reports[0] = block(0x23, 0x7fffff);
    const uint16_t nack_seqs[] = {100, 101, 105, 116, 117, 65535, 0};
    const uint32_t bye[] = {0x11, 0x12};
    const uint32_t remb_ssrcs[] = {0x31, 0x32};

    tsr_rtcp_writer_init(&w, buf, sizeof buf);
    g_assert_cmpint(tsr_rtcp_write_sr(&w, &sr), ==, 0);
    g_assert_cmpint(tsr_rtcp_write_rr(&w, &rr), ==, 0);
    g_assert_cmpint(tsr_rtcp_write_sdes_cname(&w, 0x11, "tessera-cname-1"), ==, 0);
    g_assert_cmpint(tsr_rtcp_write_nack(&w, 0x11, 0x41, nack_seqs, G_N_ELEMENTS(nack_seqs)), ==, 0);
    g_assert_cmpint(tsr_rtcp_write_pli(&w, 0x11, 0x42), ==, 0);
    g_assert_cmpint(tsr_rtcp_write_fir(&w, 0x11, 0x43, 9), ==, 0);
    g_assert_cmpint(tsr_rtcp_write_remb(&w, 0x11, 1500000, remb_ssrcs, 2), ==, 0);
    g_assert_cmpint(tsr_rtcp_write_bye(&w, bye, 2), ==, 0);
    g_assert_cmpuint(w.len % 4, ==, 0);

    struct tsr_rtcp_item items[16];
    size_t n = 0;
    g_assert_cmpint(tsr_rtcp_parse(buf, w.len, items, G_N_ELEMENTS(items), &n), ==, 0);
    g_assert_cmpuint(n, ==, 8);

    g_assert_cmpint(items[0].kind, ==, TSR_RTCP_KIND_SR);
    g_assert_cmpuint(items[0].u.sr.ssrc, ==, 0x11);
    g_assert_cmphex(items[0].u.sr.ntp, ==, sr.ntp);
    g_assert_cmpuint(items[0].u.sr.timestamp_rtp, ==, 90000);
    g_assert_cmpuint(items[0].u.sr.packet_count, ==, 77);
    g_assert_cmpuint(items[0].u.sr.octet_count, ==, 66000);
    g_assert_cmpuint(items[0].u.sr.n_reports, ==, 2);
    assert_block(&items[0].u.sr.reports[0], &sr.reports[0]);
    assert_block(&items[0].u.sr.reports[1], &sr.reports[1]);

    g_assert_cmpint(items[1].kind, ==, TSR_RTCP_KIND_RR);
    g_assert_cmpuint(items[1].u.rr.ssrc, ==, 0x12);
    g_assert_cmpuint(items[1].u.rr.n_reports, ==, 1);
    assert_block(&items[1].u.rr.reports[0], &rr.reports[0]);

    g_assert_cmpint(items[2].kind, ==, TSR_RTCP_KIND_SDES);
    g_assert_cmpuint(items[2].u.sdes.ssrc, ==, 0x11);
    g_assert_cmpstr(items[2].u.sdes.cname, ==, "tessera-cname-1");

    g_assert_cmpint(items[3].kind, ==, TSR_RTCP_KIND_NACK);
    g_assert_cmpuint(items[3].u.nack.sender_ssrc, ==, 0x11);
    g_assert_cmpuint(items[3].u.nack.media_ssrc, ==, 0x41);
    g_assert_cmpuint(items[3].u.nack.n_fci, ==, 3); /* 100..116 | 117 | 65535,0 */
    uint16_t got[64];
    size_t ng;
    g_assert_cmpint(tsr_rtcp_nack_seqs(&items[3].u.nack, got, 64, &ng), ==, 0);
    g_assert_cmpuint(ng, ==, 7);
    for (size_t i = 0; i < G_N_ELEMENTS(nack_seqs); i++) {
        bool found = false;
        for (size_t j = 0; j < ng; j++)
            found |= got[j] == nack_seqs[i];
        g_assert_true(found);
    }
    g_assert_cmpint(tsr_rtcp_nack_seqs(&items[3].u.nack, got, 3, &ng), ==, TSR_ERR_FULL);
    g_assert_cmpuint(ng, ==, 3);

    g_assert_cmpint(items[4].kind, ==, TSR_RTCP_KIND_PLI);
    g_assert_cmpuint(items[4].u.pli.sender_ssrc, ==, 0x11);
    g_assert_cmpuint(items[4].u.pli.media_ssrc, ==, 0x42);

    g_assert_cmpint(items[5].kind, ==, TSR_RTCP_KIND_FIR);
    g_assert_cmpuint(items[5].u.fir.n_entries, ==, 1);
    uint32_t fssrc;
    uint8_t fseq;
    g_assert_cmpint(tsr_rtcp_fir_entry(&items[5].u.fir, 0, &fssrc, &fseq), ==, 0);
    g_assert_cmpuint(fssrc, ==, 0x43);
    g_assert_cmpuint(fseq, ==, 9);
    g_assert_cmpint(tsr_rtcp_fir_entry(&items[5].u.fir, 1, &fssrc, &fseq), ==, -EINVAL);

    g_assert_cmpint(items[6].kind, ==, TSR_RTCP_KIND_REMB);
    g_assert_cmpuint(items[6].u.remb.bitrate_bps, ==, 1500000); /* 187500 × 2^3 */
    g_assert_cmpuint(items[6].u.remb.n_ssrcs, ==, 2);
    uint32_t rs;
    g_assert_cmpint(tsr_rtcp_remb_ssrc(&items[6].u.remb, 1, &rs), ==, 0);
    g_assert_cmpuint(rs, ==, 0x32);

    g_assert_cmpint(items[7].kind, ==, TSR_RTCP_KIND_BYE);
    g_assert_cmpuint(items[7].u.bye.n_ssrcs, ==, 2);
    g_assert_cmpuint(items[7].u.bye.ssrcs[1], ==, 0x12);

    /* too small a destination: TSR_ERR_FULL, nothing written */
    size_t n2 = 1234;
    g_assert_cmpint(tsr_rtcp_parse(buf, w.len, items, 3, &n2), ==, TSR_ERR_FULL);
    g_assert_cmpuint(n2, ==, 1234);
}

static void test_nack_packing(void)
{
    uint8_t buf[24];
    struct tsr_rtcp_writer w;
    const uint16_t seqs[] = {65534, 65535, 0, 3, 14}; /* all within 17 of 65534 */
    tsr_rtcp_writer_init(&w, buf, sizeof buf);
    g_assert_cmpint(tsr_rtcp_write_nack(&w, 1, 2, seqs, 5), ==, 0);
    g_assert_cmpuint(w.len, ==, 16);
    const uint8_t want[] = {0x81, 205, 0x00, 0x03, 0,    0,    0,    1,
                            0,    0,   0,    2,    0xff, 0xfe, 0x80, 0x13}; /* BLP bits 0,1,4,15 */
    g_assert_cmpmem(buf, w.len, want, sizeof want);
    g_assert_cmpint(tsr_rtcp_write_nack(&w, 1, 2, seqs, 0), ==, -EINVAL);
    /* full writer: unchanged */
    size_t before = w.len;
    g_assert_cmpint(tsr_rtcp_write_nack(&w, 1, 2, seqs, 5), ==, TSR_ERR_FULL);
    g_assert_cmpuint(w.len, ==, before);
}

/* Transport-cc feedback laid out per draft-holmer §3.1: base 10, 6 packets:
 * run-length chunk "2 × small delta", status vector (two-bit) "large, not
 * received, small, small(x) ..." then deltas. */
static void test_twcc_vector(void)
{
    const uint8_t pkt[] = {
        0x8f, 205,  0x00, 0x07, /* FMT 15, length 7 → 32 bytes */
        0x00, 0x00, 0x00, 0x01, /* sender */
        0x00, 0x00, 0x00, 0x02, /* media */
        0x00, 0x0a, 0x00, 0x06, /* base seq 10, status count 6 */
        0xff, 0xff, 0xfe, 0x03, /* reference time −2 (×64 ms), fb count 3 */
        0x20, 0x02,             /* run length: symbol 1, run 2 */
        0xe1, 0x40,             /* vector 2-bit: 2,0,1,1,0,0,0 → 4 statuses used */
        0x04, 0x08,             /* small deltas for seq 10, 11 */
        0xff, 0xf0,             /* large delta −16 for seq 12 */
        0x01, 0x02,             /* small deltas for seq 14, 15 */
        0x00, 0x00,             /* padding to 32 bits */
    };
    struct tsr_rtcp_item it;
    size_t n;
    g_assert_cmpint(tsr_rtcp_parse(pkt, sizeof pkt, &it, 1, &n), ==, 0);
    g_assert_cmpint(it.kind, ==, TSR_RTCP_KIND_TWCC);
    g_assert_cmpuint(it.u.twcc.base_seq, ==, 10);
    g_assert_cmpuint(it.u.twcc.status_count, ==, 6);
    g_assert_cmpint(it.u.twcc.reference_time_64ms, ==, -2);
    g_assert_cmpuint(it.u.twcc.fb_pkt_count, ==, 3);
    struct tsr_rtcp_twcc_packet p[8];
    g_assert_cmpint(tsr_rtcp_twcc_decode(&it.u.twcc, p, 8, &n), ==, 0);
    g_assert_cmpuint(n, ==, 6);
    const bool recv[] = {true, true, true, false, true, true};
    const int32_t delta[] = {4, 8, -16, 0, 1, 2};
    for (int i = 0; i < 6; i++) {
        g_assert_cmpuint(p[i].seq, ==, 10 + i);
        g_assert_cmpint(p[i].received, ==, recv[i]);
        g_assert_cmpint(p[i].delta_250us, ==, delta[i]);
    }
    g_assert_cmpint(tsr_rtcp_twcc_decode(&it.u.twcc, p, 5, &n), ==, TSR_ERR_FULL);
}

/* What Chrome sends as a receiver, laid out by hand from RFC 3550 §6.4.2/§6.5
 * and the REMB draft: RR with one block, SDES CNAME, REMB. Every field checked. */
static void test_known_chrome_compound(void)
{
    static const uint8_t pkt[] = {
        0x81, 0xc9, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01, /* RR, RC 1, sender 1 */
        0x5e, 0xed, 0xf0, 0x0d, 0x0a, 0xff, 0xff, 0xfe, /* ssrc, 10/256, lost −2 */
        0x00, 0x01, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x10, /* ext seq, jitter 16 */
        0x12, 0x34, 0x56, 0x78, 0x00, 0x01, 0x00, 0x00, /* LSR, DLSR 1 s */
        0x81, 0xca, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, /* SDES, 1 chunk, ssrc 1 */
        0x01, 0x10, 'r',  'W',  'n',  '1',  'e',  'P',  '4',  'T',  'y',  '/',
        '8',  'J',  'm',  '0',  'N',  'y',  0x00, 0x00,                         /* end + padding */
        0x8f, 0xce, 0x00, 0x05, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* PSFB AFB */
        'R',  'E',  'M',  'B',  0x01, 0x0b, 0x72, 0x1a, 0x5e, 0xed, 0xf0, 0x0d,
    };
    struct tsr_rtcp_item it[4];
    size_t n;
    g_assert_cmpint(tsr_rtcp_parse(pkt, sizeof pkt, it, 4, &n), ==, 0);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpint(it[0].kind, ==, TSR_RTCP_KIND_RR);
    g_assert_cmpuint(it[0].u.rr.ssrc, ==, 1);
    g_assert_cmpuint(it[0].u.rr.n_reports, ==, 1);
    const struct tsr_rtcp_report_block *b = &it[0].u.rr.reports[0];
    g_assert_cmphex(b->ssrc, ==, 0x5eedf00d);
    g_assert_cmpuint(b->fraction_lost, ==, 10);
    g_assert_cmpint(b->cumulative_lost, ==, -2);
    g_assert_cmphex(b->ext_highest_seq, ==, 0x0001002a);
    g_assert_cmpuint(b->jitter_rtp, ==, 16);
    g_assert_cmphex(b->lsr, ==, 0x12345678);
    g_assert_cmpuint(b->dlsr, ==, 65536);
    g_assert_cmpint(it[1].kind, ==, TSR_RTCP_KIND_SDES);
    g_assert_cmpuint(it[1].u.sdes.ssrc, ==, 1);
    g_assert_cmpstr(it[1].u.sdes.cname, ==, "rWn1eP4Ty/8Jm0Ny");
    g_assert_cmpint(it[2].kind, ==, TSR_RTCP_KIND_REMB);
    g_assert_cmpuint(it[2].u.remb.sender_ssrc, ==, 1);
    g_assert_cmpuint(it[2].u.remb.bitrate_bps, ==, 0x3721au << 2);
    g_assert_cmpuint(it[2].u.remb.n_ssrcs, ==, 1);
    uint32_t ssrc;
    g_assert_cmpint(tsr_rtcp_remb_ssrc(&it[2].u.remb, 0, &ssrc), ==, 0);
    g_assert_cmphex(ssrc, ==, 0x5eedf00d);
}

static uint64_t rtcp_errors(void)
{
    uint64_t s = 0;
    const char *k[] = {"short", "header", "version", "length", "padding", "body", "tmmbr"};
    for (size_t i = 0; i < G_N_ELEMENTS(k); i++) {
        char l[48];
        g_snprintf(l, sizeof l, "kind=\"%s\"", k[i]);
        s += tsr_counter_value(tsr_metrics_counter("tessera_rtcp_parse_errors_total", l, "x"));
    }
    return s;
}

static void expect_reject(const uint8_t *p, size_t len)
{
    struct tsr_rtcp_item items[8];
    memset(items, 0x33, sizeof items);
    size_t n = 999;
    uint8_t *copy = g_memdup2(p, len ? len : 1);
    uint64_t before = rtcp_errors();
    int rc = tsr_rtcp_parse(copy, len, items, 8, &n);
    g_assert_true(rc == TSR_ERR_INVALID || rc == TSR_ERR_TRUNCATED);
    g_assert_cmpuint(n, ==, 999);
    g_assert_cmpuint(((uint8_t *)items)[0], ==, 0x33); /* untouched */
    g_assert_cmpuint(rtcp_errors(), ==, before + 1);
    g_free(copy);
}

/* A valid SR followed by a broken packet: the whole compound is rejected. */
static void test_malformed_compound(void)
{
    uint8_t buf[256];
    struct tsr_rtcp_writer w;
    struct tsr_rtcp_sr sr = {.ssrc = 1, .n_reports = 1};
    tsr_rtcp_writer_init(&w, buf, sizeof buf);
    tsr_rtcp_write_sr(&w, &sr);
    tsr_rtcp_write_pli(&w, 1, 2);
    size_t good = w.len;

    /* every truncation of a valid compound */
    for (size_t n = 0; n < good; n++)
        if (n != 52) /* 52 bytes is the SR alone: valid */
            expect_reject(buf, n);
    uint8_t bad[256];
    /* wrong version in the second packet */
    memcpy(bad, buf, good);
    bad[52] = 0x41;
    expect_reject(bad, good);
    /* second packet's length runs past the end */
    memcpy(bad, buf, good);
    bad[55] = 9;
    expect_reject(bad, good);
    /* SR claiming 3 report blocks in a 1-block body */
    memcpy(bad, buf, good);
    bad[0] = 0x83;
    expect_reject(bad, good);
    /* padding bit on a packet that is not last */
    memcpy(bad, buf, good);
    bad[0] |= 0x20;
    expect_reject(bad, good);
    /* a packet type outside RTCP's range */
    memcpy(bad, buf, good);
    bad[53] = 96;
    expect_reject(bad, good);
    /* NACK with no FCI, FIR with half an entry */
    const uint8_t nack0[] = {0x81, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2};
    expect_reject(nack0, sizeof nack0);
    const uint8_t fir_half[] = {0x84, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9};
    expect_reject(fir_half, sizeof fir_half);
    /* SDES item length past the chunk; REMB with more SSRCs than present */
    const uint8_t sdes_bad[] = {0x81, 202, 0, 2, 0, 0, 0, 1, 1, 40, 'a', 'b'};
    expect_reject(sdes_bad, sizeof sdes_bad);
    const uint8_t remb_bad[] = {0x8f, 206, 0,   4,   0,   0,   0, 1, 0, 0,
                                0,    0,   'R', 'E', 'M', 'B', 3, 0, 0, 1};
    expect_reject(remb_bad, sizeof remb_bad);
    /* transport-cc with a reserved status symbol, and with missing deltas */
    const uint8_t twcc_bad[] = {0x8f, 205, 0, 5, 0, 0, 0, 1, 0,    0,    0, 2,
                                0,    1,   0, 1, 0, 0, 0, 0, 0x60, 0x01, 0, 0};
    expect_reject(twcc_bad, sizeof twcc_bad);
    const uint8_t twcc_short[] = {0x8f, 205, 0, 5, 0, 0, 0, 1, 0,    0,    0, 2,
                                  0,    1,   0, 5, 0, 0, 0, 0, 0x20, 0x05, 1, 2};
    expect_reject(twcc_short, sizeof twcc_short);
    /* BYE reason length past the end */
    const uint8_t bye_bad[] = {0x81, 203, 0, 2, 0, 0, 0, 1, 9, 'x', 'y', 'z'};
    expect_reject(bye_bad, sizeof bye_bad);

    /* the good compound still parses; padded last packet is fine */
    struct tsr_rtcp_item items[4];
    size_t n;
    g_assert_cmpint(tsr_rtcp_parse(buf, good, items, 4, &n), ==, 0);
    g_assert_cmpuint(n, ==, 2);
    const uint8_t padded[] = {0xa1, 206, 0, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 4};
    g_assert_cmpint(tsr_rtcp_parse(padded, sizeof padded, items, 4, &n), ==, 0);
    g_assert_cmpint(items[0].kind, ==, TSR_RTCP_KIND_PLI);
    /* APP is well-formed but not interpreted */
    const uint8_t app[] = {0x80, 204, 0, 2, 0, 0, 0, 1, 'a', 'b', 'c', 'd'};
    g_assert_cmpint(tsr_rtcp_parse(app, sizeof app, items, 4, &n), ==, 0);
    g_assert_cmpint(items[0].kind, ==, TSR_RTCP_KIND_OTHER);
    g_assert_cmpuint(items[0].u.other_type, ==, 204);
}

/* RFC 5104 TMMBR (RTPFB FMT 3) and TMMBN (FMT 4): the bytes on the wire for a known
 * entry, the round trip, an empty TMMBN, and malformed ones counted under
 * kind="tmmbr" while a valid packet after them still parses. */
static void test_tmmbr(void)
{
    uint8_t buf[128];
    struct tsr_rtcp_writer w;
    tsr_rtcp_writer_init(&w, buf, sizeof buf);
    /* 300 kb/s = 75000 << 2 (the mantissa has 17 bits); overhead 40 bytes. */
    struct tsr_rtcp_tmmb_fci f = {.ssrc = 0x11223344, .bitrate_bps = 300000, .overhead = 40};
    g_assert_cmpint(tsr_rtcp_write_tmmb(&w, 3, 0xaabbccdd, &f, 1), ==, 0);
    const uint8_t want[] = {0x83, 205, 0,    4,    0xaa, 0xbb, 0xcc, 0xdd, 0,    0,
                            0,    0,   0x11, 0x22, 0x33, 0x44, 0x0a, 0x49, 0xf0, 0x28};
    g_assert_cmpmem(buf, w.len, want, sizeof want);
    g_assert_cmpint(tsr_rtcp_write_tmmb(&w, 4, 0x01020304, &f, 1), ==, 0);
    g_assert_cmpint(tsr_rtcp_write_tmmb(&w, 4, 0x01020304, NULL, 0), ==, 0);
    g_assert_cmpint(tsr_rtcp_write_tmmb(&w, 3, 1, NULL, 0), ==, -EINVAL);
    g_assert_cmpint(tsr_rtcp_write_tmmb(&w, 5, 1, &f, 1), ==, -EINVAL);
    struct tsr_rtcp_item it[4];
    size_t n = 0;
    g_assert_cmpint(tsr_rtcp_parse(buf, w.len, it, 4, &n), ==, 0);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpint(it[0].kind, ==, TSR_RTCP_KIND_TMMBR);
    g_assert_cmpint(it[1].kind, ==, TSR_RTCP_KIND_TMMBN);
    g_assert_cmpint(it[2].kind, ==, TSR_RTCP_KIND_TMMBN);
    g_assert_cmphex(it[0].u.tmmb.sender_ssrc, ==, 0xaabbccdd);
    g_assert_cmpuint(it[0].u.tmmb.n_entries, ==, 1);
    g_assert_cmpuint(it[2].u.tmmb.n_entries, ==, 0);
    uint32_t ssrc;
    uint64_t bps;
    unsigned oh;
    g_assert_cmpint(tsr_rtcp_tmmb_entry(&it[1].u.tmmb, 0, &ssrc, &bps, &oh), ==, 0);
    g_assert_cmphex(ssrc, ==, 0x11223344);
    g_assert_cmpuint(bps, ==, 300000);
    g_assert_cmpuint(oh, ==, 40);
    g_assert_cmpint(tsr_rtcp_tmmb_entry(&it[2].u.tmmb, 0, &ssrc, &bps, &oh), ==, -EINVAL);
    /* An odd rate rounds down to what 17 bits can say. */
    tsr_rtcp_writer_init(&w, buf, sizeof buf);
    f.bitrate_bps = 1000001;
    g_assert_cmpint(tsr_rtcp_write_tmmb(&w, 3, 1, &f, 1), ==, 0);
    g_assert_cmpint(tsr_rtcp_parse(buf, w.len, it, 4, &n), ==, 0);
    g_assert_cmpint(tsr_rtcp_tmmb_entry(&it[0].u.tmmb, 0, &ssrc, &bps, &oh), ==, 0);
    g_assert_cmpuint(bps, <=, 1000001);
    g_assert_cmpuint(bps, >, 1000001 - 16);

    /* Malformed: a TMMBR without an entry, half an entry; each counted as tmmbr. */
    char l[] = "kind=\"tmmbr\"";
    struct tsr_counter *c = tsr_metrics_counter("tessera_rtcp_parse_errors_total", l, "x");
    uint64_t before = tsr_counter_value(c);
    const uint8_t empty[] = {0x83, 205, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0};
    expect_reject(empty, sizeof empty);
    const uint8_t half[] = {0x83, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9};
    expect_reject(half, sizeof half);
    const uint8_t tmmbn_half[] = {0x84, 205, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9};
    expect_reject(tmmbn_half, sizeof tmmbn_half);
    g_assert_cmpuint(tsr_counter_value(c), ==, before + 3);
    /* ...and the next packet parses as before. */
    g_assert_cmpint(tsr_rtcp_parse(want, sizeof want, it, 4, &n), ==, 0);
    g_assert_cmpint(it[0].kind, ==, TSR_RTCP_KIND_TMMBR);
}

static void test_media_clock(void)
{
    struct tsr_media_clock c;
    /* 2024-01-01T00:00:00.5Z = 1704067200.5 s Unix */
    tsr_media_clock_init(&c, 1000000, 1704067200500000);
    uint64_t ntp = tsr_media_clock_ntp(&c, 1000000);
    g_assert_cmpuint(ntp >> 32, ==, 1704067200ull + 2208988800ull);
    g_assert_cmpuint(ntp & 0xffffffffu, ==, 0x80000000u);
    /* one second later: +1 s NTP, +90000 video ticks, +48000 audio ticks */
    g_assert_cmpuint(tsr_media_clock_ntp(&c, 2000000) - ntp, ==, 1ull << 32);
    uint32_t v0 = tsr_media_clock_rtp(&c, 1000000, 90000, 5000);
    g_assert_cmpuint(v0, ==, 5000);
    g_assert_cmpuint(tsr_media_clock_rtp(&c, 2000000, 90000, 5000), ==, 95000);
    g_assert_cmpuint(tsr_media_clock_rtp(&c, 1020000, 48000, 0), ==, 960);
    g_assert_cmpuint(tsr_media_clock_rtp(&c, 980000, 48000, 0), ==, (uint32_t)-960);
    /* after 10 hours the mapping has not drifted (no accumulated rounding) */
    int64_t later = 1000000 + 36000ll * 1000000 + 1;
    g_assert_cmpuint(tsr_media_clock_rtp(&c, later, 90000, 0), ==, (uint32_t)(36000ull * 90000));
    g_assert_cmpuint(tsr_rtcp_ntp_mid32(ntp), ==, (uint32_t)(ntp >> 16));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtcp/roundtrip_all", test_roundtrip_all);
    g_test_add_func("/rtcp/nack_packing", test_nack_packing);
    g_test_add_func("/rtcp/twcc_vector", test_twcc_vector);
    g_test_add_func("/rtcp/known_chrome_compound", test_known_chrome_compound);
    g_test_add_func("/rtcp/malformed_compound", test_malformed_compound);
    g_test_add_func("/rtcp/media_clock", test_media_clock);
    g_test_add_func("/rtcp/tmmbr", test_tmmbr);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
