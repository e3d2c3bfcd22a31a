/* Outgoing streams: one packetized frame fanned out to two subscribers differing
 * only in SSRC/seq/ts/PT; continuity across an encoder switch; retransmission as
 * RTX (RFC 4588) or plain resend; SR from the shared media clock; header
 * extensions written as negotiated; Opus wrapped in RED (RFC 2198). */
#include <glib.h>
#include <string.h>

#include <tessera/err.h>
#include <tessera/metrics.h>
#include <tessera/rtcp.h>
#include <tessera/rtp.h>
#include <tessera/rtp_codec.h>
#include <tessera/rtp_red.h>
#include <tessera/rtp_stream_out.h>

static struct tsr_rtp_packetized *packetize(struct tsr_rtp_packetizer *pz, size_t len,
                                            int64_t capture_us, uint8_t seed)
{
    uint8_t *frame = g_malloc(len);
    for (size_t i = 0; i < len; i++)
        frame[i] = (uint8_t)(seed + i);
    frame[0] = 0x10; /* VP8 keyframe bit clear = key; contents otherwise arbitrary */
    struct tsr_rtp_packetized *pk = NULL;
    g_assert_cmpint(tsr_rtp_packetizer_run(pz, frame, len, 1200, capture_us, true, &pk), ==, 0);
    g_free(frame);
    return pk;
}

static void test_fanout_and_rtx(void)
{
    struct tsr_media_clock clock;
    tsr_media_clock_init(&clock, 5000000, 1700000000000000);
    struct tsr_rtp_packetizer *pz = NULL;
    g_assert_cmpint(tsr_rtp_packetizer_new(&pz, &tsr_rtp_codec_vp8), ==, 0);
    struct tsr_rtp_stream_out_config a_cfg = {.ssrc = 0xaaaa,
                                              .payload_type = 96,
                                              .clock_rate = 90000,
                                              .timestamp_offset = 777,
                                              .first_seq = 65535,
                                              .rtx_ssrc = 0xabab,
                                              .rtx_payload_type = 97,
                                              .rtx_first_seq = 10,
                                              .history_packets = 8};
    struct tsr_rtp_stream_out_config b_cfg = {.ssrc = 0xbbbb,
                                              .payload_type = 100,
                                              .clock_rate = 90000,
                                              .timestamp_offset = 123456,
                                              .first_seq = 42};
    struct tsr_rtp_stream_out *a = NULL, *b = NULL;
    g_assert_cmpint(tsr_rtp_stream_out_new(&a, &a_cfg, &clock), ==, 0);
    g_assert_cmpint(tsr_rtp_stream_out_new(&b, &b_cfg, &clock), ==, 0);
    g_assert_cmpint(tsr_rtp_stream_out_fill_sr(a, 0, &(struct tsr_rtcp_sr){0}), ==, TSR_ERR_STATE);

    struct tsr_rtp_packetized *pk = packetize(pz, 3000, 5000000 + 100000, 1);
    size_t np = tsr_rtp_packetized_count(pk);
    g_assert_cmpuint(np, ==, 3);
    uint8_t pa[3][1500], pb[3][1500];
    size_t la[3], lb[3];
    for (size_t i = 0; i < np; i++) {
        g_assert_cmpint(tsr_rtp_stream_out_write(a, pk, i, NULL, pa[i], 1500, &la[i]), ==, 0);
        g_assert_cmpint(tsr_rtp_stream_out_write(b, pk, i, NULL, pb[i], 1500, &lb[i]), ==, 0);
        struct tsr_rtp_header ha, hb;
        g_assert_cmpint(tsr_rtp_parse(pa[i], la[i], &ha), ==, 0);
        g_assert_cmpint(tsr_rtp_parse(pb[i], lb[i], &hb), ==, 0);
        /* same payload bytes, own header fields */
        g_assert_cmpmem(ha.payload, ha.payload_bytes, hb.payload, hb.payload_bytes);
        g_assert_cmpuint(ha.ssrc, ==, 0xaaaa);
        g_assert_cmpuint(hb.ssrc, ==, 0xbbbb);
        g_assert_cmpuint(ha.seq, ==, (uint16_t)(65535 + i));
        g_assert_cmpuint(hb.seq, ==, 42 + i);
        g_assert_cmpuint(ha.timestamp_rtp, ==, 777 + 9000);
        g_assert_cmpuint(hb.timestamp_rtp, ==, 123456 + 9000);
        g_assert_cmpuint(ha.payload_type, ==, 96);
        g_assert_cmpuint(hb.payload_type, ==, 100);
        g_assert_cmpint(ha.marker, ==, i == np - 1);
    }
    /* the next frame from a different encoder (new packetizer): seq and ts continue */
    struct tsr_rtp_packetizer *pz2 = NULL;
    g_assert_cmpint(tsr_rtp_packetizer_new(&pz2, &tsr_rtp_codec_vp8), ==, 0);
    struct tsr_rtp_packetized *pk2 = packetize(pz2, 100, 5000000 + 133333, 9);
    uint8_t p2[1500];
    size_t l2;
    g_assert_cmpint(tsr_rtp_stream_out_write(a, pk2, 0, NULL, p2, 1500, &l2), ==, 0);
    struct tsr_rtp_header h2;
    g_assert_cmpint(tsr_rtp_parse(p2, l2, &h2), ==, 0);
    g_assert_cmpuint(h2.seq, ==, 2);
    g_assert_cmpuint(h2.timestamp_rtp, ==, 777 + 11999);
    g_assert_cmpuint(tsr_rtp_stream_out_next_seq(a), ==, 3);

    /* NACK of seq 0 on stream a: RTX with OSN; on b: the original packet again */
    uint8_t r[1500];
    size_t rl;
    g_assert_cmpint(tsr_rtp_stream_out_retransmit(a, 0, NULL, r, sizeof r, &rl), ==, 0);
    struct tsr_rtp_header hr, ho;
    g_assert_cmpint(tsr_rtp_parse(r, rl, &hr), ==, 0);
    g_assert_cmpint(tsr_rtp_parse(pa[1], la[1], &ho), ==, 0);
    g_assert_cmpuint(hr.ssrc, ==, 0xabab);
    g_assert_cmpuint(hr.payload_type, ==, 97);
    g_assert_cmpuint(hr.seq, ==, 10);
    g_assert_cmpuint(hr.timestamp_rtp, ==, ho.timestamp_rtp);
    g_assert_cmpuint(hr.payload_bytes, ==, ho.payload_bytes + 2);
    g_assert_cmpuint(hr.payload[0], ==, 0);
    g_assert_cmpuint(hr.payload[1], ==, 0); /* OSN = 0 */
    g_assert_cmpmem(hr.payload + 2, hr.payload_bytes - 2, ho.payload, ho.payload_bytes);
    g_assert_cmpint(tsr_rtp_stream_out_retransmit(a, 65535, NULL, r, sizeof r, &rl), ==, 0);
    g_assert_cmpint(tsr_rtp_parse(r, rl, &hr), ==, 0);
    g_assert_cmpuint(hr.seq, ==, 11);
    g_assert_cmpuint((hr.payload[0] << 8) | hr.payload[1], ==, 65535);

    g_assert_cmpint(tsr_rtp_stream_out_retransmit(b, 43, NULL, r, sizeof r, &rl), ==, 0);
    g_assert_cmpmem(r, rl, pb[1], lb[1]);
    /* never sent, or pushed out of the 8-packet history */
    g_assert_cmpint(tsr_rtp_stream_out_retransmit(b, 1000, NULL, r, sizeof r, &rl), ==,
                    TSR_ERR_NOT_FOUND);
    for (int i = 0; i < 8; i++)
        g_assert_cmpint(tsr_rtp_stream_out_write(a, pk2, 0, NULL, p2, 1500, &l2), ==, 0);
    g_assert_cmpint(tsr_rtp_stream_out_retransmit(a, 0, NULL, r, sizeof r, &rl), ==,
                    TSR_ERR_NOT_FOUND);
    /* too small a buffer: nothing consumed */
    uint16_t before = tsr_rtp_stream_out_next_seq(a);
    g_assert_cmpint(tsr_rtp_stream_out_write(a, pk, 0, NULL, p2, 100, &l2), ==, TSR_ERR_FULL);
    g_assert_cmpuint(tsr_rtp_stream_out_next_seq(a), ==, before);

    /* SR: NTP and RTP of the same instant from the one media clock */
    struct tsr_rtcp_sr sr;
    g_assert_cmpint(tsr_rtp_stream_out_fill_sr(b, 6000000, &sr), ==, 0);
    g_assert_cmpuint(sr.ssrc, ==, 0xbbbb);
    g_assert_cmpuint(sr.ntp, ==, tsr_media_clock_ntp(&clock, 6000000));
    g_assert_cmpuint(sr.timestamp_rtp, ==, 123456 + 90000);
    g_assert_cmpuint(sr.packet_count, ==, 3);
    g_assert_cmpuint(sr.octet_count, ==, 3000 + 3 * 4); /* frame + three VP8 descriptors */
    /* A stream carrying on b's (same SSRC, a codec change) keeps b's SR counts. */
    struct tsr_rtp_stream_out_stats bst;
    tsr_rtp_stream_out_get_stats(b, &bst);
    struct tsr_rtp_stream_out_config cc = b_cfg;
    cc.first_seq = tsr_rtp_stream_out_next_seq(b);
    cc.carried_packets = bst.packets_sent;
    cc.carried_octets = bst.octets_sent;
    struct tsr_rtp_stream_out *carried = NULL;
    g_assert_cmpint(tsr_rtp_stream_out_new(&carried, &cc, &clock), ==, 0);
    struct tsr_rtcp_sr csr;
    g_assert_cmpint(tsr_rtp_stream_out_fill_sr(carried, 6000000, &csr), ==, 0);
    g_assert_cmpuint(csr.packet_count, ==, 3);
    g_assert_cmpuint(csr.octet_count, ==, sr.octet_count);
    tsr_rtp_stream_out_free(&carried);
    struct tsr_rtp_stream_out_stats st;
    tsr_rtp_stream_out_get_stats(a, &st);
    g_assert_cmpuint(st.retransmitted, ==, 2);
    g_assert_cmpuint(st.nack_misses, ==, 1);

    /* the history held references: the frames outlive our own unref */
    tsr_rtp_packetized_unref(&pk);
    tsr_rtp_packetized_unref(&pk2);
    g_assert_cmpint(tsr_rtp_stream_out_retransmit(b, 44, NULL, r, sizeof r, &rl), ==, 0);
    g_assert_cmpmem(r, rl, pb[2], lb[2]);
    tsr_rtp_stream_out_free(&a);
    tsr_rtp_stream_out_free(&b);
    g_assert_null(a);
    tsr_rtp_packetizer_free(&pz);
    tsr_rtp_packetizer_free(&pz2);
}

/* Audio and video streams of one participant: their SRs map the same NTP instant
 * to RTP times that agree with each clock rate (lip-sync). */
static void test_lip_sync_and_extensions(void)
{
    struct tsr_media_clock clock;
    tsr_media_clock_init(&clock, 0, 1700000000000000);
    struct tsr_rtp_stream_out_config vc = {
        .ssrc = 1, .payload_type = 96, .clock_rate = 90000, .timestamp_offset = 1000};
    struct tsr_rtp_stream_out_config ac = {.ssrc = 2,
                                           .payload_type = 111,
                                           .clock_rate = 48000,
                                           .timestamp_offset = 5,
                                           .ext_mid_id = 4,
                                           .mid = "1",
                                           .ext_abs_send_time_id = 2,
                                           .ext_transport_cc_id = 3,
                                           .ext_audio_level_id = 1};
    struct tsr_rtp_stream_out *v = NULL, *a = NULL;
    g_assert_cmpint(tsr_rtp_stream_out_new(&v, &vc, &clock), ==, 0);
    g_assert_cmpint(tsr_rtp_stream_out_new(&a, &ac, &clock), ==, 0);
    struct tsr_rtp_packetizer *pz = NULL;
    tsr_rtp_packetizer_new(&pz, &tsr_rtp_codec_opus);
    const uint8_t opus[] = {0xf8, 1, 2, 3};
    struct tsr_rtp_packetized *pk = NULL;
    g_assert_cmpint(tsr_rtp_packetizer_run(pz, opus, sizeof opus, 0, 40000, true, &pk), ==, 0);
    uint8_t buf[200];
    size_t len;
    struct tsr_rtp_send_opts o = {
        .now_us = 1500000, .transport_cc_seq = 77, .audio_level_dbov = 30, .voice_activity = true};
    g_assert_cmpint(tsr_rtp_stream_out_write(a, pk, 0, &o, buf, sizeof buf, &len), ==, 0);
    size_t alen = len;
    g_assert_cmpint(tsr_rtp_stream_out_write(v, pk, 0, NULL, buf + 100, 100, &len), ==, 0);

    struct tsr_rtp_header h;
    struct tsr_rtp_ext_map m;
    struct tsr_rtp_ext_values ev;
    g_assert_cmpint(tsr_rtp_parse(buf, alen, &h), ==, 0);
    tsr_rtp_ext_map_init(&m);
    tsr_rtp_ext_map_set(&m, 1, TSR_RTP_EXT_AUDIO_LEVEL);
    tsr_rtp_ext_map_set(&m, 2, TSR_RTP_EXT_ABS_SEND_TIME);
    tsr_rtp_ext_map_set(&m, 3, TSR_RTP_EXT_TRANSPORT_CC);
    tsr_rtp_ext_map_set(&m, 4, TSR_RTP_EXT_MID);
    g_assert_cmpint(tsr_rtp_ext_parse(&m, &h, &ev), ==, 0);
    g_assert_true(ev.has_mid);
    g_assert_cmpstr(ev.mid, ==, "1");
    g_assert_cmpuint(ev.abs_send_time, ==, (uint32_t)(1.5 * 262144));
    g_assert_cmpuint(ev.transport_cc_seq, ==, 77);
    g_assert_true(ev.voice_activity);
    g_assert_cmpuint(ev.audio_level_dbov, ==, 30);
    g_assert_cmpuint(h.timestamp_rtp, ==, 5 + 1920);
    g_assert_cmpmem(h.payload, h.payload_bytes, opus, sizeof opus);

    struct tsr_rtcp_sr sa, sv;
    g_assert_cmpint(tsr_rtp_stream_out_fill_sr(a, 2000000, &sa), ==, 0);
    g_assert_cmpint(tsr_rtp_stream_out_fill_sr(v, 2000000, &sv), ==, 0);
    g_assert_cmpuint(sa.ntp, ==, sv.ntp);
    g_assert_cmpuint(sa.timestamp_rtp - 5, ==, 96000);
    g_assert_cmpuint(sv.timestamp_rtp - 1000, ==, 180000);
    tsr_rtp_packetized_unref(&pk);
    tsr_rtp_packetizer_free(&pz);
    tsr_rtp_stream_out_free(&a);
    tsr_rtp_stream_out_free(&v);
    struct tsr_rtp_stream_out_config bad = ac;
    bad.mid[0] = '\0';
    g_assert_cmpint(tsr_rtp_stream_out_new(&a, &bad, &clock), ==, -EINVAL);
}

/* One Opus payload of `len` bytes tagged `tag`, captured at capture_us. */
static struct tsr_rtp_packetized *opus_frame(struct tsr_rtp_packetizer *pz, size_t len,
                                             int64_t capture_us, uint8_t tag)
{
    uint8_t frame[900];
    memset(frame, tag, sizeof frame);
    frame[0] = 0xf8; /* CELT FB 20 ms, one frame */
    struct tsr_rtp_packetized *pk = NULL;
    g_assert_cmpint(tsr_rtp_packetizer_run(pz, frame, len, 0, capture_us, true, &pk), ==, 0);
    return pk;
}

/* Writes `pk` on s and checks the RTP header (RED's payload type, the audio level
 * extension kept); returns the parsed RED payload (pointing into buf). */
static struct tsr_rtp_red_packet
write_red(struct tsr_rtp_stream_out *s, struct tsr_rtp_packetized *pk, uint8_t *buf, uint32_t *ts)
{
    struct tsr_rtp_send_opts o = {.now_us = 1, .transport_cc_seq = -1, .audio_level_dbov = 25};
    size_t len = 0;
    g_assert_cmpint(tsr_rtp_stream_out_write(s, pk, 0, &o, buf, 1500, &len), ==, 0);
    struct tsr_rtp_header h;
    g_assert_cmpint(tsr_rtp_parse(buf, len, &h), ==, 0);
    g_assert_cmpuint(h.payload_type, ==, 63);
    struct tsr_rtp_ext_map m;
    struct tsr_rtp_ext_values ev;
    tsr_rtp_ext_map_init(&m);
    tsr_rtp_ext_map_set(&m, 1, TSR_RTP_EXT_AUDIO_LEVEL);
    g_assert_cmpint(tsr_rtp_ext_parse(&m, &h, &ev), ==, 0);
    g_assert_true(ev.has_audio_level);
    g_assert_cmpuint(ev.audio_level_dbov, ==, 25);
    struct tsr_rtp_red_packet red;
    g_assert_cmpint(tsr_rtp_red_parse(h.payload, h.payload_bytes, &red), ==, 0);
    for (size_t i = 0; i < red.n_blocks; i++)
        g_assert_cmpuint(red.blocks[i].pt, ==, 111);
    *ts = h.timestamp_rtp;
    return red;
}

/* RED (RFC 2198) at distance 2: each packet repeats the two sent before it while
 * they are within RED's 14-bit offset, oldest first; too-old copies are left
 * out, and so are copies that would not fit; retransmission repeats the same
 * packet; switching RED off sends plain Opus again. */
static void test_red(void)
{
    struct tsr_media_clock clock;
    tsr_media_clock_init(&clock, 0, 1700000000000000);
    struct tsr_rtp_stream_out_config c = {.ssrc = 9,
                                          .payload_type = 111,
                                          .clock_rate = 48000,
                                          .timestamp_offset = 100,
                                          .first_seq = 65534,
                                          .ext_audio_level_id = 1,
                                          .red_payload_type = 63,
                                          .red_distance = 2};
    struct tsr_rtp_stream_out *s = NULL;
    g_assert_cmpint(tsr_rtp_stream_out_new(&s, &c, &clock), ==, 0);
    struct tsr_rtp_packetizer *pz = NULL;
    tsr_rtp_packetizer_new(&pz, &tsr_rtp_codec_opus);
    /* captures: 0, 20, 40 ms, then 500 ms (460 ms = 22080 ticks: past RED's reach),
     * then two 800-byte frames (both cannot fit one packet). */
    const int64_t at_us[] = {1000000, 1020000, 1040000, 1500000, 1520000, 1540000};
    const size_t lens[] = {60, 61, 62, 63, 800, 800};
    const size_t want_blocks[] = {1, 2, 3, 1, 2, 1};
    struct tsr_rtp_packetized *pk[6];
    uint8_t bufs[6][1500];
    for (int i = 0; i < 6; i++) {
        pk[i] = opus_frame(pz, lens[i], at_us[i], (uint8_t)(0x10 + i));
        uint32_t ts = 0;
        struct tsr_rtp_red_packet red = write_red(s, pk[i], bufs[i], &ts);
        g_assert_cmpuint(ts, ==, 100 + (uint32_t)(at_us[i] * 48 / 1000));
        g_assert_cmpuint(red.n_blocks, ==, want_blocks[i]);
        for (size_t b = 0; b < red.n_blocks; b++) {
            int src = i - (int)(red.n_blocks - 1 - b); /* oldest copy first */
            g_assert_cmpuint(red.blocks[b].len, ==, lens[src]);
            g_assert_cmpuint(red.blocks[b].data[1], ==, 0x10 + src);
            uint32_t off = (uint32_t)((at_us[i] - at_us[src]) * 48 / 1000);
            g_assert_cmpuint(red.blocks[b].ts_offset, ==, b + 1 < red.n_blocks ? off : 0);
        }
    }
    /* A NACK for the third packet (seq 0) gets it again, copies included. */
    uint8_t again[1500];
    size_t len = 0;
    g_assert_cmpint(tsr_rtp_stream_out_retransmit(s, 0, NULL, again, sizeof again, &len), ==, 0);
    struct tsr_rtp_header h, h0;
    g_assert_cmpint(tsr_rtp_parse(again, len, &h), ==, 0);
    g_assert_cmpint(tsr_rtp_parse(bufs[2], 1500, &h0), ==, 0);
    g_assert_cmpuint(h.payload_type, ==, 63);
    g_assert_cmpuint(h.seq, ==, 0);
    g_assert_cmpmem(h.payload, h.payload_bytes, h0.payload, h.payload_bytes);
    struct tsr_rtp_red_packet red;
    g_assert_cmpint(tsr_rtp_red_parse(h.payload, h.payload_bytes, &red), ==, 0);
    g_assert_cmpuint(red.n_blocks, ==, 3);

    /* RED off (a renegotiation dropped it): plain Opus as payload type 111. */
    g_assert_cmpint(tsr_rtp_stream_out_set_red(s, 0, 0), ==, 0);
    g_assert_cmpint(tsr_rtp_stream_out_set_red(s, 200, 1), ==, -EINVAL);
    g_assert_cmpint(tsr_rtp_stream_out_write(s, pk[0], 0, NULL, again, sizeof again, &len), ==, 0);
    g_assert_cmpint(tsr_rtp_parse(again, len, &h), ==, 0);
    g_assert_cmpuint(h.payload_type, ==, 111);
    g_assert_cmpuint(h.payload_bytes, ==, 60);
    for (int i = 0; i < 6; i++)
        tsr_rtp_packetized_unref(&pk[i]);
    tsr_rtp_packetizer_free(&pz);
    tsr_rtp_stream_out_free(&s);
    c.red_distance = TSR_RTP_STREAM_OUT_MAX_RED_DISTANCE + 1;
    g_assert_cmpint(tsr_rtp_stream_out_new(&s, &c, &clock), ==, -EINVAL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtp_stream_out/fanout_and_rtx", test_fanout_and_rtx);
    g_test_add_func("/rtp_stream_out/lip_sync_and_extensions", test_lip_sync_and_extensions);
    g_test_add_func("/rtp_stream_out/red", test_red);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
