/* Video jitter buffer: exact NACK lists with retry limits and timing, no NACK
 * when too late, PLI/FIR escalation, no partial frame ever emitted. VP8 payloads
 * are laid out by hand (RFC 7741) so every byte of every frame is known. */
#include <glib.h>
#include <string.h>

#include <tessera/err.h>
#include <tessera/jitter_buffer.h>
#include <tessera/metrics.h>
#include <tessera/rtp.h>

#define PKTS_PER_FRAME 3
#define BASE_SEQ 65530 /* wraps during the tests */

struct pkt {
    uint8_t buf[64];
    size_t len;
};

/* Packet k of frame f: RTP header + VP8 descriptor (S on k == 0) + VP8 data whose
 * first byte says key/delta; payload bytes encode (f, k) so frames are checkable. */
static void make_pkt(struct pkt *p, int f, int k, bool key)
{
    uint16_t seq = (uint16_t)(BASE_SEQ + f * PKTS_PER_FRAME + k);
    uint32_t ts = 1000u + (uint32_t)f * 3000u;
    uint8_t *b = p->buf;
    b[0] = 0x80;
    b[1] = (uint8_t)(96 | (k == PKTS_PER_FRAME - 1 ? 0x80 : 0));
    b[2] = (uint8_t)(seq >> 8);
    b[3] = (uint8_t)seq;
    b[4] = (uint8_t)(ts >> 24);
    b[5] = (uint8_t)(ts >> 16);
    b[6] = (uint8_t)(ts >> 8);
    b[7] = (uint8_t)ts;
    b[8] = 0;
    b[9] = 0;
    b[10] = 0x12;
    b[11] = 0x34;
    size_t n = 12;
    b[n++] = k == 0 ? 0x10 : 0x00; /* S bit, PID 0 */
    if (k == 0)
        b[n++] = key ? 0x00 : 0x01; /* VP8 P bit */
    for (int i = 0; i < 5; i++)
        b[n++] = (uint8_t)(f * 16 + k * 4 + i);
    p->len = n;
}

static uint16_t seq_of(int f, int k)
{
    return (uint16_t)(BASE_SEQ + f * PKTS_PER_FRAME + k);
}

static int push(struct tsr_jitter_buffer *jb, int f, int k, bool key, int64_t now)
{
    struct pkt p;
    struct tsr_rtp_header h;
    make_pkt(&p, f, k, key);
    g_assert_cmpint(tsr_rtp_parse(p.buf, p.len, &h), ==, 0);
    return tsr_jitter_buffer_push(jb, &h, now);
}

static void push_frame(struct tsr_jitter_buffer *jb, int f, bool key, int64_t now, int skip)
{
    for (int k = 0; k < PKTS_PER_FRAME; k++)
        if (k != skip)
            g_assert_cmpint(push(jb, f, k, key, now), ==, 0);
}

/* Expected bytes of frame f after depacketizing. */
static void check_frame(const struct tsr_jitter_buffer_frame *fr, int f, bool key)
{
    uint8_t want[32];
    size_t n = 0;
    want[n++] = key ? 0x00 : 0x01;
    for (int k = 0; k < PKTS_PER_FRAME; k++)
        for (int i = 0; i < 5; i++)
            want[n++] = (uint8_t)(f * 16 + k * 4 + i);
    gsize len;
    const uint8_t *d = g_bytes_get_data(fr->data, &len);
    g_assert_cmpmem(d, len, want, n);
    g_assert_cmpint(fr->keyframe, ==, key);
    g_assert_cmpuint(fr->timestamp_rtp, ==, 1000u + (uint32_t)f * 3000u);
    g_assert_cmpuint(fr->first_seq, ==, seq_of(f, 0));
    g_assert_cmpuint(fr->last_seq, ==, seq_of(f, PKTS_PER_FRAME - 1));
    g_assert_cmpint(fr->codec, ==, TSR_RTP_CODEC_VP8);
}

static struct tsr_jitter_buffer *new_jb(void)
{
    struct tsr_jitter_buffer_config c;
    struct tsr_jitter_buffer *jb = NULL;
    tsr_jitter_buffer_config_default(&c);
    c.max_delay_ms = 200;
    c.nack_interval_ms = 50;
    c.nack_max_retries = 3;
    c.pli_interval_ms = 300;
    c.pli_before_fir = 2;
    c.max_packets = 64;
    g_assert_cmpint(tsr_jitter_buffer_new(&jb, &tsr_rtp_codec_vp8, &c), ==, 0);
    return jb;
}

static int pop_all(struct tsr_jitter_buffer *jb, int64_t now, int *frames, int max)
{
    struct tsr_jitter_buffer_frame fr;
    int n = 0;
    while (tsr_jitter_buffer_pop_frame(jb, now, &fr) == 0) {
        if (n < max)
            frames[n] = (int)((fr.timestamp_rtp - 1000u) / 3000u);
        g_assert_true(fr.first_seq == seq_of(frames[n], 0)); /* whole frames only */
        check_frame(&fr, frames[n], frames[n] == 0 || fr.keyframe);
        g_bytes_unref(fr.data);
        n++;
    }
    return n;
}

static size_t nacks(struct tsr_jitter_buffer *jb, int64_t now, uint16_t *out)
{
    size_t n = 99;
    g_assert_cmpint(tsr_jitter_buffer_poll_nack(jb, now, out, 64, &n), ==, 0);
    return n;
}

/* Drop two packets: exactly those are NACKed, retried every interval up to the
 * limit; a retransmission completes its frame; the other frame times out, is
 * never emitted partial, and PLI then FIR follow until a keyframe arrives. */
static void test_loss_nack_pli(void)
{
    struct tsr_jitter_buffer *jb = new_jb();
    uint16_t s[64];
    int got[16];
    const int64_t t0 = 1000000;

    push_frame(jb, 0, true, t0, -1);
    push_frame(jb, 1, false, t0 + 33000, 1); /* seq of (1,1) lost */
    push_frame(jb, 2, false, t0 + 66000, -1);
    push_frame(jb, 3, false, t0 + 99000, 1); /* seq of (3,1) lost */
    int64_t now = t0 + 100000;
    g_assert_cmpint(pop_all(jb, now, got, 16), ==, 1);
    g_assert_cmpint(got[0], ==, 0);

    g_assert_cmpuint(nacks(jb, now, s), ==, 2);
    g_assert_cmpuint(s[0], ==, seq_of(1, 1));
    g_assert_cmpuint(s[1], ==, seq_of(3, 1));
    g_assert_cmpuint(nacks(jb, now + 10000, s), ==, 0); /* within the interval */
    g_assert_cmpuint(nacks(jb, now + 50000, s), ==, 2); /* retry 2 */
    g_assert_cmpint(tsr_jitter_buffer_poll_keyframe_request(jb, now), ==,
                    TSR_KEYFRAME_REQUEST_NONE);

    /* the retransmission of (1,1) arrives: frames 1 and 2 go out, 3 still waits */
    g_assert_cmpint(push(jb, 1, 1, false, now + 60000), ==, 0);
    g_assert_cmpint(pop_all(jb, now + 60000, got, 16), ==, 2);
    g_assert_cmpint(got[0], ==, 1);
    g_assert_cmpint(got[1], ==, 2);
    g_assert_cmpuint(nacks(jb, now + 100000, s), ==, 1); /* retry 3 of (3,1) only */
    g_assert_cmpuint(s[0], ==, seq_of(3, 1));
    g_assert_cmpuint(nacks(jb, now + 150000, s), ==, 0); /* retry limit reached */

    /* frame 3's deadline passes: dropped, keyframe requested */
    g_assert_cmpint(pop_all(jb, t0 + 99000 + 200000, got, 16), ==, 0);
    now = t0 + 300000;
    g_assert_cmpint(tsr_jitter_buffer_poll_keyframe_request(jb, now), ==, TSR_KEYFRAME_REQUEST_PLI);
    /* a complete delta frame that depends on the lost one is not emitted */
    push_frame(jb, 4, false, now, -1);
    g_assert_cmpint(pop_all(jb, now, got, 16), ==, 0);
    g_assert_cmpint(tsr_jitter_buffer_poll_keyframe_request(jb, now + 100000), ==,
                    TSR_KEYFRAME_REQUEST_NONE);
    g_assert_cmpint(tsr_jitter_buffer_poll_keyframe_request(jb, now + 300000), ==,
                    TSR_KEYFRAME_REQUEST_PLI);
    g_assert_cmpint(tsr_jitter_buffer_poll_keyframe_request(jb, now + 600000), ==,
                    TSR_KEYFRAME_REQUEST_FIR);
    /* the keyframe ends it */
    push_frame(jb, 5, true, now + 610000, -1);
    g_assert_cmpint(pop_all(jb, now + 610000, got, 16), ==, 1);
    g_assert_cmpint(got[0], ==, 5);
    g_assert_cmpint(tsr_jitter_buffer_poll_keyframe_request(jb, now + 999000), ==,
                    TSR_KEYFRAME_REQUEST_NONE);

    struct tsr_jitter_buffer_stats st;
    tsr_jitter_buffer_get_stats(jb, &st);
    g_assert_cmpuint(st.frames_out, ==, 4);
    g_assert_cmpuint(st.frames_dropped, ==, 2);
    g_assert_cmpuint(st.nacks_sent, ==, 5);
    tsr_jitter_buffer_free(&jb);
    g_assert_null(jb);
}

/* A gap that nobody polls for until its frame is already too late: no NACK. */
static void test_no_nack_when_late(void)
{
    struct tsr_jitter_buffer *jb = new_jb();
    uint16_t s[64];
    int got[4];
    push_frame(jb, 0, true, 0, -1);
    push_frame(jb, 1, false, 10000, 2);
    push_frame(jb, 2, false, 20000, -1);
    g_assert_cmpint(tsr_jitter_buffer_next_wakeup_us(jb), ==, 20000); /* NACK due now */
    g_assert_cmpuint(nacks(jb, 20000 + 250000, s), ==, 0);
    g_assert_cmpint(pop_all(jb, 20000 + 250000, got, 4), ==, 1); /* only frame 0 */
    tsr_jitter_buffer_free(&jb);
}

/* The keyframe loses a packet that is never retransmitted: nothing reaches the
 * decoder (no partial keyframe, no deltas on top), PLI is raised in time. */
static void test_lost_keyframe_packet(void)
{
    struct tsr_jitter_buffer *jb = new_jb();
    int got[8];
    push_frame(jb, 0, true, 0, 1);
    push_frame(jb, 1, false, 33000, -1);
    push_frame(jb, 2, false, 66000, -1);
    for (int64_t t = 0; t <= 400000; t += 20000)
        g_assert_cmpint(pop_all(jb, t, got, 8), ==, 0);
    g_assert_cmpint(tsr_jitter_buffer_poll_keyframe_request(jb, 400000), ==,
                    TSR_KEYFRAME_REQUEST_PLI);
    /* the late packet arriving now is useless and is refused */
    g_assert_cmpint(push(jb, 0, 1, true, 400000), ==, TSR_ERR_AGAIN);
    push_frame(jb, 3, true, 420000, -1);
    g_assert_cmpint(pop_all(jb, 420000, got, 8), ==, 1);
    g_assert_cmpint(got[0], ==, 3);
    struct tsr_jitter_buffer_stats st;
    tsr_jitter_buffer_get_stats(jb, &st);
    g_assert_cmpuint(st.frames_out, ==, 1);
    g_assert_cmpuint(st.frames_dropped, >=, 1);
    tsr_jitter_buffer_free(&jb);
}

/* The decoder asks for a keyframe: PLI, deltas held back until it comes. */
static void test_decoder_request(void)
{
    struct tsr_jitter_buffer *jb = new_jb();
    int got[8];
    push_frame(jb, 0, true, 0, -1);
    push_frame(jb, 1, false, 1000, -1);
    g_assert_cmpint(pop_all(jb, 1000, got, 8), ==, 2);
    tsr_jitter_buffer_request_keyframe(jb, 2000);
    g_assert_cmpint(tsr_jitter_buffer_poll_keyframe_request(jb, 2000), ==,
                    TSR_KEYFRAME_REQUEST_PLI);
    push_frame(jb, 2, false, 3000, -1);
    g_assert_cmpint(pop_all(jb, 3000, got, 8), ==, 0);
    push_frame(jb, 3, true, 4000, -1);
    g_assert_cmpint(pop_all(jb, 4000, got, 8), ==, 1);
    g_assert_cmpint(got[0], ==, 3);
    tsr_jitter_buffer_free(&jb);
}

static void test_bad_input(void)
{
    struct tsr_jitter_buffer *jb = new_jb();
    struct tsr_counter *bad = tsr_metrics_counter("tessera_jitter_bad_payloads_total", NULL, "x");
    uint64_t before = tsr_counter_value(bad);
    push_frame(jb, 0, true, 0, -1);
    g_assert_cmpint(push(jb, 0, 1, true, 10), ==, TSR_ERR_AGAIN); /* duplicate */
    struct tsr_rtp_header h = {.seq = 5, .payload = (const uint8_t *)"\x90", .payload_bytes = 1};
    g_assert_cmpint(tsr_jitter_buffer_push(jb, &h, 20), ==, TSR_ERR_INVALID);
    g_assert_cmpuint(tsr_counter_value(bad), ==, before + 1);
    /* a jump beyond the window flushes and asks for a keyframe */
    struct pkt p;
    make_pkt(&p, 0, 0, true);
    uint16_t far = (uint16_t)(seq_of(0, 0) + 1000);
    p.buf[2] = (uint8_t)(far >> 8);
    p.buf[3] = (uint8_t)far;
    g_assert_cmpint(tsr_rtp_parse(p.buf, p.len, &h), ==, 0);
    g_assert_cmpint(tsr_jitter_buffer_push(jb, &h, 30), ==, TSR_ERR_FULL);
    g_assert_cmpint(tsr_jitter_buffer_poll_keyframe_request(jb, 30), ==, TSR_KEYFRAME_REQUEST_PLI);
    struct tsr_jitter_buffer *none = NULL;
    g_assert_cmpint(tsr_jitter_buffer_new(&none, &tsr_rtp_codec_opus, NULL), ==, -EINVAL);
    g_assert_null(none);
    tsr_jitter_buffer_free(&jb);
    tsr_jitter_buffer_free(&jb); /* NULL is fine */
}

/* H.264 keyframe whose STAP-A (SPS, PPS) arrives after the IDR's FU-A start and
 * end: the frame waits for it and goes out whole, parameter sets first. */
static void test_h264_parameter_sets_late(void)
{
    const uint8_t prev[] = {0x41, 0x9a, 0x20}; /* slice of the frame before */
    const uint8_t stap[] = {0x78, 0x00, 0x04, 0x67, 0x42, 0xc0, 0x1e, 0x00, 0x03, 0x68, 0xce, 0x3c};
    const uint8_t fu0[] = {0x7c, 0x85, 0x88, 0x84};
    const uint8_t fu1[] = {0x7c, 0x45, 0x22};
    const uint8_t *pl[] = {prev, stap, fu0, fu1};
    const size_t len[] = {sizeof prev, sizeof stap, sizeof fu0, sizeof fu1};
    const uint32_t ts[] = {0, 3000, 3000, 3000};
    const int order[] = {0, 2, 3, 1};
    struct tsr_jitter_buffer *jb = NULL;
    struct tsr_jitter_buffer_frame fr;
    g_assert_cmpint(tsr_jitter_buffer_new(&jb, &tsr_rtp_codec_h264, NULL), ==, 0);
    int emitted = 0;
    for (int i = 0; i < 4; i++) {
        int k = order[i];
        struct tsr_rtp_header h = {.version = 2,
                                   .payload_type = 102,
                                   .seq = (uint16_t)(500 + k),
                                   .timestamp_rtp = ts[k],
                                   .marker = k == 0 || k == 3,
                                   .payload = pl[k],
                                   .payload_bytes = len[k]};
        g_assert_cmpint(tsr_jitter_buffer_push(jb, &h, i * 1000), ==, 0);
        while (tsr_jitter_buffer_pop_frame(jb, i * 1000, &fr) == 0) {
            gsize n;
            const uint8_t *d = g_bytes_get_data(fr.data, &n);
            if (fr.timestamp_rtp == 3000) {
                const uint8_t want[] = {0, 0, 0, 1,    0x67, 0x42, 0xc0, 0x1e,
                                        0, 0, 0, 1,    0x68, 0xce, 0x3c, 0,
                                        0, 0, 1, 0x65, 0x88, 0x84, 0x22};
                g_assert_cmpint(i, ==, 3); /* not before the STAP-A came */
                g_assert_cmpmem(d, n, want, sizeof want);
                g_assert_true(fr.keyframe);
            }
            g_bytes_unref(fr.data);
            emitted++;
        }
    }
    g_assert_cmpint(emitted, ==, 1); /* the delta before it: no keyframe yet, dropped */
    tsr_jitter_buffer_free(&jb);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/jitter_buffer/loss_nack_pli", test_loss_nack_pli);
    g_test_add_func("/jitter_buffer/no_nack_when_late", test_no_nack_when_late);
    g_test_add_func("/jitter_buffer/lost_keyframe_packet", test_lost_keyframe_packet);
    g_test_add_func("/jitter_buffer/decoder_request", test_decoder_request);
    g_test_add_func("/jitter_buffer/bad_input", test_bad_input);
    g_test_add_func("/jitter_buffer/h264_parameter_sets_late", test_h264_parameter_sets_late);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
