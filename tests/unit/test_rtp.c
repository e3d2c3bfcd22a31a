/* RTP header and header-extension parsing/writing, unwrapping: known vectors laid
 * out by hand from RFC 3550 §5.1, RFC 8285, RFC 6464 and the abs-send-time /
 * transport-cc drafts, as Chrome sends them; malformed input of every length. */
#include <glib.h>
#include <string.h>

#include <tessera/err.h>
#include <tessera/metrics.h>
#include <tessera/rtp.h>

/* Chrome-like Opus packet: one-byte extensions audio-level (id 1), abs-send-time
 * (id 2), transport-cc (id 3), mid (id 4), one padding byte in the block. */
static const uint8_t audio_pkt[] = {
    0x90, 0x6f, 0x12, 0x34, /* V=2 X=1 CC=0, M=0 PT=111, seq 0x1234 */
    0x00, 0x01, 0xe2, 0x40, /* ts 123456 */
    0xde, 0xad, 0xbe, 0xef, /* ssrc */
    0xbe, 0xde, 0x00, 0x03, /* one-byte profile, 3 words */
    0x10, 0xab,             /* id 1 len 1: V=1 level 43 */
    0x22, 0x12, 0x34, 0x56, /* id 2 len 3: abs-send-time 0x123456 */
    0x31, 0x00, 0x07,       /* id 3 len 2: transport-cc seq 7 */
    0x40, 0x30,             /* id 4 len 1: mid "0" */
    0x00,                   /* padding */
    0xfc, 0xff, 0xfe,       /* Opus payload */
};

/* VP8 packet: padding, 2 CSRCs, two-byte extensions (mid "ab" id 4, transport-cc id 3). */
static const uint8_t video_pkt[] = {
    0xb2, 0xe0, 0xff, 0xff, /* V=2 P=1 X=1 CC=2, M=1 PT=96, seq 65535 */
    0xff, 0xff, 0xff, 0xf0, /* ts */
    0x01, 0x02, 0x03, 0x04, /* ssrc */
    0x11, 0x11, 0x11, 0x11, /* csrc 0 */
    0x22, 0x22, 0x22, 0x22, /* csrc 1 */
    0x10, 0x00, 0x00, 0x02, /* two-byte profile, 2 words */
    0x04, 0x02, 'a',  'b',  /* id 4 len 2 "ab" */
    0x03, 0x02, 0x00, 0x09, /* id 3 len 2 seq 9 */
    0x90, 0x80, 0x80, 0x05, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, /* VP8 payload */
    0x00, 0x00, 0x03,                                           /* 3 padding bytes */
};

static void map_chrome(struct tsr_rtp_ext_map *m)
{
    tsr_rtp_ext_map_init(m);
    g_assert_cmpint(tsr_rtp_ext_map_set_uri(m, 1, "urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
                    ==, 0);
    g_assert_cmpint(
        tsr_rtp_ext_map_set_uri(m, 2, "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"),
        ==, 0);
    g_assert_cmpint(
        tsr_rtp_ext_map_set_uri(
            m, 3, "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"),
        ==, 0);
    g_assert_cmpint(tsr_rtp_ext_map_set_uri(m, 4, "urn:ietf:params:rtp-hdrext:sdes:mid"), ==, 0);
    g_assert_cmpint(tsr_rtp_ext_map_set_uri(m, 5, "urn:3gpp:video-orientation"), ==,
                    TSR_ERR_UNSUPPORTED);
}

static void test_known_audio(void)
{
    struct tsr_rtp_header h;
    struct tsr_rtp_ext_map m;
    struct tsr_rtp_ext_values v;

    g_assert_cmpint(tsr_rtp_parse(audio_pkt, sizeof audio_pkt, &h), ==, 0);
    g_assert_cmpuint(h.version, ==, 2);
    g_assert_false(h.padding);
    g_assert_true(h.extension);
    g_assert_false(h.marker);
    g_assert_cmpuint(h.csrc_count, ==, 0);
    g_assert_cmpuint(h.payload_type, ==, 111);
    g_assert_cmpuint(h.seq, ==, 0x1234);
    g_assert_cmpuint(h.timestamp_rtp, ==, 123456);
    g_assert_cmpuint(h.ssrc, ==, 0xdeadbeef);
    g_assert_cmphex(h.ext_profile, ==, 0xBEDE);
    g_assert_cmpuint(h.ext_bytes, ==, 12);
    g_assert_true(h.ext_data == audio_pkt + 16);
    g_assert_cmpuint(h.header_bytes, ==, 28);
    g_assert_true(h.payload == audio_pkt + 28);
    g_assert_cmpuint(h.payload_bytes, ==, 3);
    g_assert_cmpuint(h.padding_bytes, ==, 0);

    map_chrome(&m);
    g_assert_cmpint(tsr_rtp_ext_parse(&m, &h, &v), ==, 0);
    g_assert_true(v.has_audio_level);
    g_assert_true(v.voice_activity);
    g_assert_cmpuint(v.audio_level_dbov, ==, 43);
    g_assert_true(v.has_abs_send_time);
    g_assert_cmphex(v.abs_send_time, ==, 0x123456);
    g_assert_true(v.has_transport_cc);
    g_assert_cmpuint(v.transport_cc_seq, ==, 7);
    g_assert_true(v.has_mid);
    g_assert_cmpstr(v.mid, ==, "0");

    /* With nothing negotiated, every element is skipped. */
    struct tsr_rtp_ext_map empty;
    tsr_rtp_ext_map_init(&empty);
    g_assert_cmpint(tsr_rtp_ext_parse(&empty, &h, &v), ==, 0);
    g_assert_false(v.has_audio_level || v.has_mid || v.has_abs_send_time || v.has_transport_cc);
    g_assert_cmpint(tsr_rtp_ext_map_id(&m, TSR_RTP_EXT_MID), ==, 4);
    g_assert_cmpint(tsr_rtp_ext_map_id(&empty, TSR_RTP_EXT_MID), ==, 0);
}

static void test_known_video(void)
{
    struct tsr_rtp_header h;
    struct tsr_rtp_ext_map m;
    struct tsr_rtp_ext_values v;

    g_assert_cmpint(tsr_rtp_parse(video_pkt, sizeof video_pkt, &h), ==, 0);
    g_assert_true(h.padding);
    g_assert_true(h.marker);
    g_assert_cmpuint(h.payload_type, ==, 96);
    g_assert_cmpuint(h.seq, ==, 65535);
    g_assert_cmphex(h.timestamp_rtp, ==, 0xfffffff0);
    g_assert_cmphex(h.ssrc, ==, 0x01020304);
    g_assert_cmpuint(h.csrc_count, ==, 2);
    g_assert_cmphex(h.csrc[0], ==, 0x11111111);
    g_assert_cmphex(h.csrc[1], ==, 0x22222222);
    g_assert_cmphex(h.ext_profile, ==, 0x1000);
    g_assert_cmpuint(h.ext_bytes, ==, 8);
    g_assert_cmpuint(h.header_bytes, ==, 32);
    g_assert_cmpuint(h.padding_bytes, ==, 3);
    g_assert_cmpuint(h.payload_bytes, ==, 10);
    g_assert_cmpmem(h.payload, h.payload_bytes, video_pkt + 32, 10);

    map_chrome(&m);
    g_assert_cmpint(tsr_rtp_ext_parse(&m, &h, &v), ==, 0);
    g_assert_true(v.has_mid);
    g_assert_cmpstr(v.mid, ==, "ab");
    g_assert_true(v.has_transport_cc);
    g_assert_cmpuint(v.transport_cc_seq, ==, 9);
    g_assert_false(v.has_audio_level);
}

/* Rebuild each vector's header from the parsed fields: identical bytes. */
static void test_write_roundtrip(void)
{
    const uint8_t *pkts[] = {audio_pkt, video_pkt};
    size_t lens[] = {sizeof audio_pkt, sizeof video_pkt};
    for (int i = 0; i < 2; i++) {
        struct tsr_rtp_header h;
        uint8_t buf[128];
        size_t n;
        g_assert_cmpint(tsr_rtp_parse(pkts[i], lens[i], &h), ==, 0);
        g_assert_cmpint(tsr_rtp_write_header(&h, buf, sizeof buf, &n), ==, 0);
        g_assert_cmpuint(n, ==, h.header_bytes);
        g_assert_cmpmem(buf, n, pkts[i], n);
        g_assert_cmpint(tsr_rtp_write_header(&h, buf, n - 1, &n), ==, TSR_ERR_FULL);
    }
}

static void test_ext_write(void)
{
    const uint8_t lvl = 0x85, tw[2] = {0x01, 0x02}, big[20] = {0};
    struct tsr_rtp_ext_elem one[] = {{1, 1, &lvl}, {3, 2, tw}, {4, 1, (const uint8_t *)"7"}};
    uint8_t body[64];
    uint16_t profile;
    size_t n;
    g_assert_cmpint(tsr_rtp_ext_write(one, 3, body, sizeof body, &profile, &n), ==, 0);
    g_assert_cmphex(profile, ==, 0xBEDE);
    const uint8_t want1[] = {0x10, 0x85, 0x31, 0x01, 0x02, 0x40, '7', 0x00};
    g_assert_cmpmem(body, n, want1, sizeof want1);

    /* id 15 or len 20 forces the two-byte form */
    struct tsr_rtp_ext_elem two[] = {{15, 20, big}, {1, 1, &lvl}};
    g_assert_cmpint(tsr_rtp_ext_write(two, 2, body, sizeof body, &profile, &n), ==, 0);
    g_assert_cmphex(profile, ==, 0x1000);
    g_assert_cmpuint(n, ==, 28); /* 2+20 + 2+1 = 25 → 28 */
    g_assert_cmpuint(body[0], ==, 15);
    g_assert_cmpuint(body[1], ==, 20);
    g_assert_cmpuint(body[22], ==, 1);
    g_assert_cmpuint(body[24], ==, 0x85);

    /* parse what we wrote through a header */
    struct tsr_rtp_header h = {
        .extension = true, .ext_profile = profile, .ext_data = body, .ext_bytes = n};
    struct tsr_rtp_ext_map m;
    struct tsr_rtp_ext_values v;
    tsr_rtp_ext_map_init(&m);
    tsr_rtp_ext_map_set(&m, 1, TSR_RTP_EXT_AUDIO_LEVEL);
    g_assert_cmpint(tsr_rtp_ext_parse(&m, &h, &v), ==, 0);
    g_assert_true(v.has_audio_level && v.voice_activity);
    g_assert_cmpuint(v.audio_level_dbov, ==, 5);

    struct tsr_rtp_ext_elem bad[] = {{0, 1, &lvl}};
    g_assert_cmpint(tsr_rtp_ext_write(bad, 1, body, sizeof body, &profile, &n), ==, -EINVAL);
    g_assert_cmpint(tsr_rtp_ext_write(one, 3, body, 4, &profile, &n), ==, TSR_ERR_FULL);
    g_assert_cmpuint(tsr_rtp_abs_send_time_from_us(1500000), ==, (uint32_t)(1.5 * 262144));
    g_assert_cmpuint(tsr_rtp_abs_send_time_from_us(64000000 + 250000), ==, 65536);
}

static void test_unwrap(void)
{
    struct tsr_rtp_unwrapper u;
    tsr_rtp_unwrapper_init(&u);
    int64_t a = tsr_rtp_unwrap_seq(&u, 65534);
    g_assert_cmpint(tsr_rtp_unwrap_seq(&u, 65535), ==, a + 1);
    g_assert_cmpint(tsr_rtp_unwrap_seq(&u, 1), ==, a + 3);     /* wrap forward */
    g_assert_cmpint(tsr_rtp_unwrap_seq(&u, 65533), ==, a - 1); /* reordered from before the wrap */
    g_assert_cmpint(tsr_rtp_unwrap_seq(&u, 2), ==, a + 4);
    g_assert_cmpint(tsr_rtp_seq_diff(65535, 1), ==, 2);
    g_assert_cmpint(tsr_rtp_seq_diff(1, 65535), ==, -2);

    tsr_rtp_unwrapper_init(&u);
    int64_t t = tsr_rtp_unwrap_ts(&u, 0xfffff000u);
    g_assert_cmpint(tsr_rtp_unwrap_ts(&u, 0x00000800u), ==, t + 0x1800);
    g_assert_cmpint(tsr_rtp_unwrap_ts(&u, 0xffffe000u), ==, t - 0x1000);
}

static uint64_t errors_total(void)
{
    uint64_t sum = 0;
    const char *kinds[] = {"short", "version", "csrc", "extension", "padding"};
    for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
        char l[48];
        g_snprintf(l, sizeof l, "kind=\"%s\"", kinds[i]);
        sum += tsr_counter_value(tsr_metrics_counter("tessera_rtp_parse_errors_total", l, "x"));
    }
    return sum;
}

/* Every truncation of the vectors, wrong versions, bad padding: an error, a
 * counter step, and the output untouched. Copies are exact-size heap buffers so
 * ASan catches any read past the end. */
static void test_malformed(void)
{
    struct tsr_rtp_header h, sentinel;
    memset(&sentinel, 0x5a, sizeof sentinel);
    const uint8_t *pkts[] = {audio_pkt, video_pkt};
    size_t lens[] = {sizeof audio_pkt, sizeof video_pkt};
    for (int i = 0; i < 2; i++) {
        for (size_t n = 0; n < lens[i]; n++) {
            uint8_t *copy = g_memdup2(pkts[i], n ? n : 1);
            uint64_t before = errors_total();
            h = sentinel;
            int rc = tsr_rtp_parse(copy, n, &h);
            if (rc == 0) {
                /* only the video packet minus its padding tail can fail to be an
                 * error (then padding count differs) — anything accepted must be
                 * self-consistent */
                g_assert_cmpuint(h.header_bytes + h.payload_bytes + h.padding_bytes, ==, n);
            } else {
                g_assert_true(rc == TSR_ERR_TRUNCATED || rc == TSR_ERR_INVALID);
                g_assert_cmpmem(&h, sizeof h, &sentinel, sizeof sentinel);
                g_assert_cmpuint(errors_total(), ==, before + 1);
            }
            g_free(copy);
        }
    }
    uint8_t bad[sizeof audio_pkt];
    memcpy(bad, audio_pkt, sizeof bad);
    bad[0] = 0x50; /* version 1 */
    g_assert_cmpint(tsr_rtp_parse(bad, sizeof bad, &h), ==, TSR_ERR_INVALID);
    memcpy(bad, audio_pkt, sizeof bad);
    bad[0] |= 0x20;
    bad[sizeof bad - 1] = 0; /* padding count 0 */
    g_assert_cmpint(tsr_rtp_parse(bad, sizeof bad, &h), ==, TSR_ERR_INVALID);
    bad[sizeof bad - 1] = 4; /* more padding than payload */
    g_assert_cmpint(tsr_rtp_parse(bad, sizeof bad, &h), ==, TSR_ERR_TRUNCATED);

    /* extension elements running past the block, wrong sizes */
    struct tsr_rtp_ext_map m;
    struct tsr_rtp_ext_values v;
    map_chrome(&m);
    const uint8_t overrun[] = {0x2f, 0x01};                /* id 2 len 16 in a 4-byte block */
    const uint8_t wrong_size[] = {0x21, 0x01, 0x02, 0x00}; /* abs-send-time with 2 bytes */
    const uint8_t two_trunc[] = {0x04, 0x09, 'a', 'b'};    /* two-byte: len 9 of 2 */
    const uint8_t nul_mid[] = {0x41, 'a', 0x00, 0x00};     /* mid with embedded NUL */
    struct {
        const uint8_t *d;
        size_t n;
        uint16_t prof;
        int want;
    } cases[] = {
        {overrun, 2, 0xBEDE, TSR_ERR_TRUNCATED},
        {wrong_size, 4, 0xBEDE, TSR_ERR_INVALID},
        {two_trunc, 4, 0x1000, TSR_ERR_TRUNCATED},
        {nul_mid, 4, 0xBEDE, TSR_ERR_INVALID},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        uint8_t *copy = g_memdup2(cases[i].d, cases[i].n);
        struct tsr_rtp_header eh = {.extension = true,
                                    .ext_profile = cases[i].prof,
                                    .ext_data = copy,
                                    .ext_bytes = cases[i].n};
        memset(&v, 0x77, sizeof v);
        g_assert_cmpint(tsr_rtp_ext_parse(&m, &eh, &v), ==, cases[i].want);
        g_assert_cmpuint(((uint8_t *)&v)[0], ==, 0x77);
        g_free(copy);
    }
    /* id 15 in the one-byte form stops processing (RFC 8285 §4.2) */
    const uint8_t stop[] = {0xf0, 0x10, 0xab, 0x00};
    struct tsr_rtp_header sh = {
        .extension = true, .ext_profile = 0xBEDE, .ext_data = stop, .ext_bytes = 4};
    g_assert_cmpint(tsr_rtp_ext_parse(&m, &sh, &v), ==, 0);
    g_assert_false(v.has_audio_level);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtp/known_audio", test_known_audio);
    g_test_add_func("/rtp/known_video", test_known_video);
    g_test_add_func("/rtp/write_roundtrip", test_write_roundtrip);
    g_test_add_func("/rtp/ext_write", test_ext_write);
    g_test_add_func("/rtp/unwrap", test_unwrap);
    g_test_add_func("/rtp/malformed", test_malformed);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
