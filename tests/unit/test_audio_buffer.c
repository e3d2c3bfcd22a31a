/* Audio buffer: in-order playout, losses reported (with the next packet for
 * FEC), hard maximum delay, target delay that follows jitter, bad input. */
#include <glib.h>
#include <string.h>

#include <tessera/audio_buffer.h>
#include <tessera/err.h>
#include <tessera/metrics.h>

/* 20 ms CELT-only Opus packet (TOC config 31: FB 20 ms, code 0), body tags i;
 * `redundant`: the copy of it a RED packet carries. */
static int push_as(struct tsr_audio_buffer *ab, int i, int64_t now, bool redundant)
{
    uint8_t pl[4] = {0xf8, (uint8_t)i, (uint8_t)(i * 3), 0x55};
    struct tsr_audio_packet pkt = {.data = pl,
                                   .len_bytes = sizeof pl,
                                   .ts_rtp = 0xfffff000u + (uint32_t)i * 960u,
                                   .seq = (uint16_t)(100 + i),
                                   .level = 30 + i,
                                   .voice = true,
                                   .redundant = redundant};
    return tsr_audio_buffer_push(ab, &pkt, now);
}

static int push(struct tsr_audio_buffer *ab, int i, int64_t now)
{
    return push_as(ab, i, now, false);
}

static struct tsr_audio_buffer *new_ab(int64_t min_ms, int64_t max_ms)
{
    struct tsr_audio_buffer_config c;
    struct tsr_audio_buffer *ab = NULL;
    tsr_audio_buffer_config_default(&c);
    c.min_delay_ms = min_ms;
    c.max_delay_ms = max_ms;
    g_assert_cmpint(tsr_audio_buffer_new(&ab, &c), ==, 0);
    return ab;
}

static void test_loss_and_fec(void)
{
    struct tsr_audio_buffer *ab = new_ab(40, 200);
    struct tsr_audio_buffer_out o;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && i != 8)
            g_assert_cmpint(push(ab, i, i * 20000), ==, 0);
    int64_t now = 200000;
    /* expected slot sequence: 0 1 2 3 LOST(fec=5) 5 6 LOST LOST(fec=9) 9 */
    const int want[] = {0, 1, 2, 3, -5, 5, 6, -1, -9, 9};
    for (size_t k = 0; k < G_N_ELEMENTS(want); k++) {
        enum tsr_audio_buffer_result r = tsr_audio_buffer_pop(ab, now, &o);
        g_assert_cmpuint(o.samples, ==, 960);
        g_assert_cmpuint(o.timestamp_rtp, ==, 0xfffff000u + (uint32_t)k * 960u);
        if (want[k] >= 0) {
            g_assert_cmpint(r, ==, TSR_AUDIO_BUFFER_PACKET);
            g_assert_cmpuint(o.len, ==, 4);
            g_assert_cmpuint(o.data[1], ==, (uint8_t)want[k]);
            g_assert_cmpuint(o.seq, ==, 100 + want[k]);
            g_assert_cmpint(o.level, ==, 30 + want[k]);
            g_assert_true(o.voice);
        } else {
            g_assert_cmpint(r, ==, TSR_AUDIO_BUFFER_LOST);
            g_assert_cmpuint(o.seq, ==, 100 + k); /* the sequence number that is missing */
            g_assert_cmpint(o.fec_available, ==, want[k] != -1);
            if (o.fec_available)
                g_assert_cmpuint(o.data[1], ==, (uint8_t)-want[k]);
        }
        now += 20000;
    }
    g_assert_cmpint(tsr_audio_buffer_pop(ab, now, &o), ==, TSR_AUDIO_BUFFER_EMPTY); /* underrun */
    /* a packet for a slot already played is late */
    g_assert_cmpint(push(ab, 8, now), ==, TSR_ERR_AGAIN);
    struct tsr_audio_buffer_stats st;
    tsr_audio_buffer_get_stats(ab, &st);
    g_assert_cmpuint(st.lost, ==, 3);
    g_assert_cmpuint(st.packets_out, ==, 7);
    g_assert_cmpuint(st.late, ==, 1);
    tsr_audio_buffer_free(&ab);
    g_assert_null(ab);
}

static void test_start_delay_and_max(void)
{
    struct tsr_audio_buffer *ab = new_ab(60, 100);
    struct tsr_audio_buffer_out o;
    g_assert_cmpint(push(ab, 0, 0), ==, 0);
    g_assert_cmpint(push(ab, 1, 20000), ==, 0);
    g_assert_cmpint(tsr_audio_buffer_pop(ab, 20000, &o), ==,
                    TSR_AUDIO_BUFFER_EMPTY); /* 40 < 60 ms */
    g_assert_cmpint(push(ab, 2, 40000), ==, 0);
    g_assert_cmpint(tsr_audio_buffer_pop(ab, 40000, &o), ==, TSR_AUDIO_BUFFER_PACKET);
    g_assert_cmpuint(o.data[1], ==, 0);
    /* a burst of 10 packets: never more than 100 ms held, oldest dropped */
    for (int i = 3; i < 13; i++)
        push(ab, i, 60000);
    g_assert_cmpint(tsr_audio_buffer_buffered_ms(ab), <=, 100);
    g_assert_cmpint(tsr_audio_buffer_pop(ab, 60000, &o), ==, TSR_AUDIO_BUFFER_PACKET);
    g_assert_cmpuint(o.data[1], ==, 8); /* 8..12 = the newest 100 ms */
    struct tsr_audio_buffer_stats st;
    tsr_audio_buffer_get_stats(ab, &st);
    g_assert_cmpuint(st.overflow, ==, 7);
    g_assert_cmpint(push(ab, 9, 60000), ==, TSR_ERR_AGAIN); /* duplicate */
    tsr_audio_buffer_free(&ab);
}

/* Arrivals alternating 0 and 40 ms apart: the target grows above the minimum;
 * steady arrivals keep it at the minimum. */
static void test_adaptive_target(void)
{
    struct tsr_audio_buffer *steady = new_ab(20, 200), *jittery = new_ab(20, 200);
    struct tsr_audio_buffer_out o;
    int64_t t = 0;
    for (int i = 0; i < 50; i++) {
        push(steady, i, i * 20000);
        t += (i % 2) ? 40000 : 0;
        push(jittery, i, t);
        tsr_audio_buffer_pop(steady, i * 20000, &o);
        tsr_audio_buffer_pop(jittery, t, &o);
    }
    g_assert_cmpint(tsr_audio_buffer_target_delay_ms(steady), ==, 20);
    g_assert_cmpint(tsr_audio_buffer_target_delay_ms(jittery), >=, 60);
    g_assert_cmpint(tsr_audio_buffer_target_delay_ms(jittery), <=, 200);
    tsr_audio_buffer_free(&steady);
    tsr_audio_buffer_free(&jittery);
}

/* A sender in DTX pauses: the next sequence number comes with a later
 * timestamp. It plays next, re-anchored, without reporting the pause as loss;
 * a sequence gap with the same timestamp jump is loss. */
static void test_dtx_pause(void)
{
    struct tsr_audio_buffer *ab = new_ab(20, 1000);
    struct tsr_audio_buffer_out o;
    uint8_t pl[4] = {0xf8, 0, 0, 0x55};
    struct tsr_audio_packet pkt = {.data = pl, .len_bytes = sizeof pl, .level = 90};
    const struct {
        uint16_t seq;
        uint32_t ts;
    } in[] = {{10, 0}, {11, 960}, {12, 960 * 12}, {14, 960 * 14}};
    for (size_t i = 0; i < G_N_ELEMENTS(in); i++) {
        pkt.seq = in[i].seq;
        pkt.ts_rtp = in[i].ts;
        pl[1] = (uint8_t)in[i].seq;
        g_assert_cmpint(tsr_audio_buffer_push(ab, &pkt, (int64_t)i * 20000), ==, 0);
    }
    const int want[] = {10, 11, 12, -13, 14}; /* negative: LOST with that sequence number */
    for (size_t k = 0; k < G_N_ELEMENTS(want); k++) {
        enum tsr_audio_buffer_result r = tsr_audio_buffer_pop(ab, 100000, &o);
        g_assert_cmpint(r, ==, want[k] > 0 ? TSR_AUDIO_BUFFER_PACKET : TSR_AUDIO_BUFFER_LOST);
        g_assert_cmpuint(o.seq, ==, want[k] > 0 ? want[k] : -want[k]);
        if (want[k] > 0)
            g_assert_cmpuint(o.data[1], ==, want[k]);
    }
    struct tsr_audio_buffer_stats st;
    tsr_audio_buffer_get_stats(ab, &st);
    g_assert_cmpuint(st.lost, ==, 1);
    tsr_audio_buffer_free(&ab);
}

/* Timestamps that advance by less than the packets' 20 ms (GStreamer's first Opus
 * packets): each is played in turn, none is taken for a gap, and the stream goes
 * on (a negative distance read as a gap once skipped ~2^32 samples ahead, and
 * every later packet was then "late": the sender was silent for good). */
static void test_overlapping_timestamps(void)
{
    struct tsr_audio_buffer *ab = new_ab(20, 1000);
    struct tsr_audio_buffer_out o;
    uint8_t pl[4] = {0xf8, 0, 0, 0x55};
    struct tsr_audio_packet pkt = {.data = pl, .len_bytes = sizeof pl, .level = 90};
    static const uint32_t ts[] = {0, 480, 1440, 2400};
    for (size_t i = 0; i < 3; i++) {
        pkt.seq = (uint16_t)(10 + i);
        pkt.ts_rtp = ts[i];
        pl[1] = (uint8_t)(10 + i);
        g_assert_cmpint(tsr_audio_buffer_push(ab, &pkt, (int64_t)i * 20000), ==, 0);
    }
    for (int k = 10; k <= 12; k++) {
        g_assert_cmpint(tsr_audio_buffer_pop(ab, 100000, &o), ==, TSR_AUDIO_BUFFER_PACKET);
        g_assert_cmpuint(o.seq, ==, k);
        g_assert_cmpuint(o.samples, ==, 960);
    }
    pkt.seq = 13;
    pkt.ts_rtp = ts[3];
    g_assert_cmpint(tsr_audio_buffer_push(ab, &pkt, 60000), ==, 0); /* not late */
    g_assert_cmpint(tsr_audio_buffer_pop(ab, 120000, &o), ==, TSR_AUDIO_BUFFER_PACKET);
    g_assert_cmpuint(o.seq, ==, 13);
    struct tsr_audio_buffer_stats st;
    tsr_audio_buffer_get_stats(ab, &st);
    g_assert_cmpuint(st.lost, ==, 0);
    g_assert_cmpuint(st.late, ==, 0);
    tsr_audio_buffer_free(&ab);
}

/* A RED stream at distance 1: packet i carries a copy of frame i-1. Packets 5, 17,
 * 18 and 30 are lost and 40 comes after 41. The copies fill 5, 18, 30 and 40 in
 * time; only 17 (whose copy travelled in 18) is missing: the buffer runs dry
 * there and goes on at 18, one sequence number on, so the mixer conceals 17
 * (with the FEC inside 18). Copies of frames already here or played are no
 * late or duplicate packets. */
static void test_red_copies(void)
{
    struct tsr_audio_buffer *ab = new_ab(40, 200);
    struct tsr_audio_buffer_out o;
    int next_slot = 0;
    for (int i = 0; i < 60; i++) {
        int64_t now = (int64_t)i * 20000;
        bool lost = i == 5 || i == 17 || i == 18 || i == 30;
        if (!lost && i > 0)
            g_assert_cmpint(push_as(ab, i - 1, now, true), >=, TSR_ERR_AGAIN);
        if (!lost && i != 40)
            g_assert_cmpint(push(ab, i, now), ==, 0);
        if (i == 41)
            g_assert_cmpint(push(ab, 40, now + 1), ==, TSR_ERR_AGAIN); /* the copy came first */
        enum tsr_audio_buffer_result r = tsr_audio_buffer_pop(ab, now, &o);
        if (i == 0 || i == 18) { /* filling up; then dry where 17 and 18 were lost */
            g_assert_cmpint(r, ==, TSR_AUDIO_BUFFER_EMPTY);
            next_slot += i == 18;
            continue;
        }
        g_assert_cmpint(r, ==, TSR_AUDIO_BUFFER_PACKET);
        g_assert_cmpuint(o.seq, ==, 100 + next_slot);
        g_assert_cmpuint(o.data[1], ==, next_slot);
        next_slot++;
    }
    g_assert_cmpint(next_slot, ==, 59);
    struct tsr_audio_buffer_stats st;
    tsr_audio_buffer_get_stats(ab, &st);
    g_assert_cmpuint(st.redundant_used, ==, 4);
    g_assert_cmpuint(st.lost, ==, 0);
    g_assert_cmpuint(st.late, ==, 0);
    g_assert_cmpuint(st.duplicates, ==, 1); /* only the reordered primary 40 */
    tsr_audio_buffer_free(&ab);
}

/* Every other packet lost, each filled by the copy in the next one: the copies
 * arrive 20 ms after their time by design. Marked redundant they leave the
 * target delay at its minimum; taken as ordinary packets they would read as
 * jitter and raise it. */
static void test_red_copies_not_jitter(void)
{
    struct tsr_audio_buffer *ab = new_ab(40, 200), *naive = new_ab(40, 200);
    struct tsr_audio_buffer_out o;
    for (int i = 0; i < 100; i += 2) {
        int64_t now = (int64_t)i * 20000;
        if (i > 0) {
            g_assert_cmpint(push_as(ab, i - 1, now, true), ==, 0);
            g_assert_cmpint(push(naive, i - 1, now), ==, 0);
        }
        push(ab, i, now);
        push(naive, i, now);
        tsr_audio_buffer_pop(ab, now, &o);
        tsr_audio_buffer_pop(ab, now, &o);
        tsr_audio_buffer_pop(naive, now, &o);
        tsr_audio_buffer_pop(naive, now, &o);
    }
    g_assert_cmpint(tsr_audio_buffer_target_delay_ms(ab), ==, 40);
    g_assert_cmpint(tsr_audio_buffer_target_delay_ms(naive), >, 40);
    struct tsr_audio_buffer_stats st;
    tsr_audio_buffer_get_stats(ab, &st);
    g_assert_cmpuint(st.redundant_used, ==, 49);
    tsr_audio_buffer_free(&ab);
    tsr_audio_buffer_free(&naive);
}

static void test_bad_input(void)
{
    struct tsr_audio_buffer *ab = new_ab(20, 200);
    struct tsr_counter *c =
        tsr_metrics_counter("tessera_audio_buffer_bad_packets_total", NULL, "x");
    uint64_t before = tsr_counter_value(c);
    const uint8_t bad[] = {0x03}; /* code 3 without frame count */
    struct tsr_audio_packet pkt = {.data = bad, .len_bytes = 1, .level = TSR_AUDIO_LEVEL_ABSENT};
    g_assert_cmpint(tsr_audio_buffer_push(ab, &pkt, 0), ==, TSR_ERR_INVALID);
    pkt.len_bytes = 0;
    g_assert_cmpint(tsr_audio_buffer_push(ab, &pkt, 0), ==, TSR_ERR_INVALID);
    g_assert_cmpuint(tsr_counter_value(c), ==, before + 2);
    struct tsr_audio_buffer_config cfg = {
        .clock_rate = 48000, .min_delay_ms = 300, .max_delay_ms = 200, .max_packets = 64};
    struct tsr_audio_buffer *x = NULL;
    g_assert_cmpint(tsr_audio_buffer_new(&x, &cfg), ==, -EINVAL);
    tsr_audio_buffer_free(&ab);
}

/* G.711 at 8 kHz: a packet's duration is its byte count (any bytes are valid,
 * an Opus TOC is not read); a loss is named with 160 samples; empty or over
 * 120 ms is refused. */
static void test_g711(void)
{
    struct tsr_audio_buffer_config c;
    struct tsr_audio_buffer *ab = NULL;
    tsr_audio_buffer_config_default(&c);
    c.clock_rate = 8000;
    c.codec = TSR_AUDIO_CODEC_PCMU;
    g_assert_cmpint(tsr_audio_buffer_new(&ab, &c), ==, 0);
    uint8_t pl[961];
    memset(pl, 0xff, sizeof pl);
    for (int i = 0; i < 6; i++) {
        if (i == 3)
            continue;
        struct tsr_audio_packet pkt = {.data = pl,
                                       .len_bytes = 160,
                                       .ts_rtp = 0xffffff00u + (uint32_t)i * 160u,
                                       .seq = (uint16_t)(65533 + i),
                                       .level = TSR_AUDIO_LEVEL_ABSENT};
        g_assert_cmpint(tsr_audio_buffer_push(ab, &pkt, i * 20000), ==, 0);
    }
    struct tsr_audio_packet bad = {.data = pl, .len_bytes = 0, .ts_rtp = 5000, .seq = 9};
    g_assert_cmpint(tsr_audio_buffer_push(ab, &bad, 0), ==, TSR_ERR_INVALID);
    bad.len_bytes = 961;
    g_assert_cmpint(tsr_audio_buffer_push(ab, &bad, 0), ==, TSR_ERR_INVALID);
    struct tsr_audio_buffer_out o;
    for (int i = 0; i < 6; i++) {
        enum tsr_audio_buffer_result r = tsr_audio_buffer_pop(ab, 400000, &o);
        g_assert_cmpint(r, ==, i == 3 ? TSR_AUDIO_BUFFER_LOST : TSR_AUDIO_BUFFER_PACKET);
        g_assert_cmpuint(o.samples, ==, 160);
        g_assert_cmpuint(o.timestamp_rtp, ==, 0xffffff00u + (uint32_t)i * 160u);
        if (r == TSR_AUDIO_BUFFER_PACKET)
            g_assert_cmpuint(o.len, ==, 160);
    }
    tsr_audio_buffer_free(&ab);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/audio_buffer/loss_and_fec", test_loss_and_fec);
    g_test_add_func("/audio_buffer/start_delay_and_max", test_start_delay_and_max);
    g_test_add_func("/audio_buffer/adaptive_target", test_adaptive_target);
    g_test_add_func("/audio_buffer/dtx_pause", test_dtx_pause);
    g_test_add_func("/audio_buffer/overlapping_timestamps", test_overlapping_timestamps);
    g_test_add_func("/audio_buffer/red_copies", test_red_copies);
    g_test_add_func("/audio_buffer/red_copies_not_jitter", test_red_copies_not_jitter);
    g_test_add_func("/audio_buffer/bad_input", test_bad_input);
    g_test_add_func("/audio_buffer/g711", test_g711);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
