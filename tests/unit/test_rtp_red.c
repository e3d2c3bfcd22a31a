/* RED payloads (RFC 2198): Chromium's shape (one copy + primary) byte by byte,
 * write/parse round trips, every kind of malformed packet refused without
 * touching the output, and the frames a packet yields (timestamps, sequence
 * numbers, blocks left out). */
#include <glib.h>
#include <string.h>

#include <tessera/err.h>
#include <tessera/rtp_red.h>

/* What Chromium sends with fmtp 111/111: one 4-byte header (F=1, PT 111,
 * offset 960, length 3), the primary's 1-byte header, the copy, the primary. */
static const uint8_t chromium_red[] = {0xef, 0x0f, 0x00, 0x03, 0x6f, 0xf8,
                                       0xaa, 0xbb, 0xf8, 0x01, 0x02, 0x03};

static void test_parse_chromium_shape(void)
{
    struct tsr_rtp_red_packet pk;
    g_assert_cmpint(tsr_rtp_red_parse(chromium_red, sizeof chromium_red, &pk), ==, 0);
    g_assert_cmpuint(pk.n_blocks, ==, 2);
    g_assert_cmpuint(pk.blocks[0].pt, ==, 111);
    g_assert_cmpuint(pk.blocks[0].ts_offset, ==, 960);
    g_assert_cmpuint(pk.blocks[0].len, ==, 3);
    g_assert_true(pk.blocks[0].data == chromium_red + 5);
    g_assert_cmpuint(pk.blocks[1].pt, ==, 111);
    g_assert_cmpuint(pk.blocks[1].ts_offset, ==, 0);
    g_assert_cmpuint(pk.blocks[1].len, ==, 4);
    g_assert_true(pk.blocks[1].data == chromium_red + 8);

    /* A primary alone (the first packet of a stream) and an empty primary. */
    const uint8_t alone[] = {0x6f, 0xf8, 0x00};
    g_assert_cmpint(tsr_rtp_red_parse(alone, sizeof alone, &pk), ==, 0);
    g_assert_cmpuint(pk.n_blocks, ==, 1);
    g_assert_cmpuint(pk.blocks[0].len, ==, 2);
    g_assert_cmpint(tsr_rtp_red_parse(alone, 1, &pk), ==, 0);
    g_assert_cmpuint(pk.blocks[0].len, ==, 0);
}

static void test_write_round_trip(void)
{
    const uint8_t a[] = {0xf8, 1}, b[] = {0xf8, 2, 2}, c[] = {0xf8, 3, 3, 3};
    uint8_t big[TSR_RTP_RED_MAX_BLOCK_BYTES];
    memset(big, 0x5a, sizeof big);
    const struct tsr_rtp_red_block in[] = {
        {.pt = 111, .ts_offset = TSR_RTP_RED_MAX_TS_OFFSET, .data = big, .len = sizeof big},
        {.pt = 111, .ts_offset = 1920, .data = a, .len = sizeof a},
        {.pt = 111, .ts_offset = 960, .data = b, .len = sizeof b},
        {.pt = 111, .ts_offset = 12345, .data = c, .len = sizeof c}, /* primary: offset ignored */
    };
    uint8_t out[1200];
    size_t len = 0;
    g_assert_cmpint(tsr_rtp_red_write(in, 4, out, sizeof out, &len), ==, 0);
    g_assert_cmpuint(len, ==, 3 * 4 + 1 + sizeof big + 2 + 3 + 4);
    struct tsr_rtp_red_packet pk;
    g_assert_cmpint(tsr_rtp_red_parse(out, len, &pk), ==, 0);
    g_assert_cmpuint(pk.n_blocks, ==, 4);
    for (size_t i = 0; i < 4; i++) {
        g_assert_cmpuint(pk.blocks[i].pt, ==, 111);
        g_assert_cmpuint(pk.blocks[i].ts_offset, ==, i < 3 ? in[i].ts_offset : 0);
        g_assert_cmpmem(pk.blocks[i].data, pk.blocks[i].len, in[i].data, in[i].len);
    }
    /* The same bytes Chromium sends. */
    const uint8_t copy[] = {0xf8, 0xaa, 0xbb}, primary[] = {0xf8, 1, 2, 3};
    const struct tsr_rtp_red_block two[] = {{.pt = 111, .ts_offset = 960, .data = copy, .len = 3},
                                            {.pt = 111, .data = primary, .len = 4}};
    g_assert_cmpint(tsr_rtp_red_write(two, 2, out, sizeof out, &len), ==, 0);
    g_assert_cmpmem(out, len, chromium_red, sizeof chromium_red);
    /* Exactly the room needed, one byte less, and values past their fields. */
    g_assert_cmpint(tsr_rtp_red_write(two, 2, out, sizeof chromium_red, &len), ==, 0);
    g_assert_cmpint(tsr_rtp_red_write(two, 2, out, sizeof chromium_red - 1, &len), ==,
                    TSR_ERR_FULL);
    struct tsr_rtp_red_block bad[2] = {two[0], two[1]};
    bad[0].ts_offset = TSR_RTP_RED_MAX_TS_OFFSET + 1;
    g_assert_cmpint(tsr_rtp_red_write(bad, 2, out, sizeof out, &len), ==, -EINVAL);
    bad[0] = two[0];
    bad[0].len = TSR_RTP_RED_MAX_BLOCK_BYTES + 1;
    bad[0].data = big;
    g_assert_cmpint(tsr_rtp_red_write(bad, 2, out, 4000, &len), ==, -EINVAL);
    bad[0] = two[0];
    bad[1].pt = 128;
    g_assert_cmpint(tsr_rtp_red_write(bad, 2, out, sizeof out, &len), ==, -EINVAL);
    g_assert_cmpint(tsr_rtp_red_write(two, 0, out, sizeof out, &len), ==, -EINVAL);
}

/* Each malformed packet is refused and leaves the output as it was. */
static void test_malformed(void)
{
    uint8_t many[TSR_RTP_RED_MAX_BLOCKS * 4 + 2];
    for (size_t i = 0; i < TSR_RTP_RED_MAX_BLOCKS; i++) { /* 16 copies of 0 bytes + primary */
        many[i * 4] = 0xef;
        many[i * 4 + 1] = 0;
        many[i * 4 + 2] = 0x04; /* offset 1 */
        many[i * 4 + 3] = 0;
    }
    many[TSR_RTP_RED_MAX_BLOCKS * 4] = 0x6f;
    many[TSR_RTP_RED_MAX_BLOCKS * 4 + 1] = 0xf8;
    static const struct {
        const char *what;
        uint8_t bytes[12];
        size_t len;
        int rc;
    } cases[] = {
        {"empty", {0}, 0, TSR_ERR_TRUNCATED},
        {"header cut short", {0xef, 0x0f, 0x00}, 3, TSR_ERR_TRUNCATED},
        {"no primary header", {0xef, 0x0f, 0x00, 0x00}, 4, TSR_ERR_TRUNCATED},
        {"copy past the end", {0xef, 0x0f, 0x00, 0x05, 0x6f, 0xf8, 1, 2, 3}, 9, TSR_ERR_TRUNCATED},
        {"length field max", {0xef, 0x0f, 0x03, 0xff, 0x6f, 0xf8}, 6, TSR_ERR_TRUNCATED},
        {"two copies past the end",
         {0xef, 0x0f, 0x00, 0x02, 0xef, 0x07, 0x80, 0x02, 0x6f, 0xf8, 1, 2},
         12,
         TSR_ERR_TRUNCATED},
    };
    struct tsr_rtp_red_packet pk;
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        memset(&pk, 0xab, sizeof pk);
        int rc = tsr_rtp_red_parse(cases[i].bytes, cases[i].len, &pk);
        if (rc != cases[i].rc)
            g_error("%s: got %d, want %d", cases[i].what, rc, cases[i].rc);
        g_assert_cmpuint(pk.n_blocks, ==, (size_t)0xabababababababab);
    }
    /* 16 blocks is the most; 16 copies + a primary is one too many. */
    g_assert_cmpint(tsr_rtp_red_parse(many, sizeof many, &pk), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_rtp_red_parse(many + 4, sizeof many - 4, &pk), ==, 0);
    g_assert_cmpuint(pk.n_blocks, ==, TSR_RTP_RED_MAX_BLOCKS);
    g_assert_cmpint(tsr_rtp_red_parse(NULL, 0, &pk), ==, -EINVAL);
    struct tsr_rtp_red_frame fr[TSR_RTP_RED_MAX_BLOCKS];
    g_assert_cmpint(tsr_rtp_red_frames(many, sizeof many, 111, 0, 0, fr, NULL), ==,
                    TSR_ERR_INVALID);
}

/* Frames: copies first with ts − offset and seq − their distance from the end,
 * then the primary; the wrong payload type, empty blocks and offsets that do
 * not fall towards the primary are left out (and counted). */
static void test_frames(void)
{
    struct tsr_rtp_red_frame fr[TSR_RTP_RED_MAX_BLOCKS];
    size_t skipped = 99;
    int n = tsr_rtp_red_frames(chromium_red, sizeof chromium_red, 111, 1000, 0, fr, &skipped);
    g_assert_cmpint(n, ==, 2);
    g_assert_cmpuint(skipped, ==, 0);
    g_assert_true(fr[0].redundant);
    g_assert_cmpuint(fr[0].ts_rtp, ==, 40);
    g_assert_cmpuint(fr[0].seq, ==, 65535); /* wraps */
    g_assert_cmpuint(fr[0].len, ==, 3);
    g_assert_false(fr[1].redundant);
    g_assert_cmpuint(fr[1].ts_rtp, ==, 1000);
    g_assert_cmpuint(fr[1].seq, ==, 0);
    g_assert_cmpuint(fr[1].len, ==, 4);
    /* The timestamp wraps too. */
    g_assert_cmpint(tsr_rtp_red_frames(chromium_red, sizeof chromium_red, 111, 100, 7, fr, NULL),
                    ==, 2);
    g_assert_cmpuint(fr[0].ts_rtp, ==, (uint32_t)(100 - 960));
    g_assert_cmpuint(fr[0].seq, ==, 6);
    /* Another payload type (e.g. a CN copy) is left out, the rest stays. */
    g_assert_cmpint(
        tsr_rtp_red_frames(chromium_red, sizeof chromium_red, 63, 1000, 5, fr, &skipped), ==, 0);
    g_assert_cmpuint(skipped, ==, 2);

    const uint8_t c1[] = {0xf8, 1}, c2[] = {0xf8, 2}, c3[] = {0xf8, 3}, p[] = {0xf8, 4};
    struct tsr_rtp_red_block in[] = {
        {.pt = 111, .ts_offset = 2880, .data = c1, .len = 2},
        {.pt = 13, .ts_offset = 1920, .data = c2, .len = 2}, /* comfort noise: left out */
        {.pt = 111, .ts_offset = 960, .data = c3, .len = 2},
        {.pt = 111, .data = p, .len = 2},
    };
    uint8_t buf[64];
    size_t len;
    g_assert_cmpint(tsr_rtp_red_write(in, 4, buf, sizeof buf, &len), ==, 0);
    g_assert_cmpint(tsr_rtp_red_frames(buf, len, 111, 10000, 500, fr, &skipped), ==, 3);
    g_assert_cmpuint(skipped, ==, 1);
    g_assert_cmpuint(fr[0].seq, ==, 497);
    g_assert_cmpuint(fr[0].ts_rtp, ==, 10000 - 2880);
    g_assert_cmpuint(fr[1].seq, ==, 499);
    g_assert_cmpuint(fr[1].ts_rtp, ==, 10000 - 960);
    g_assert_cmpuint(fr[1].data[1], ==, 3);
    g_assert_cmpuint(fr[2].seq, ==, 500);
    /* Offsets out of order or zero, and an empty copy: left out. */
    in[1].pt = 111;
    in[1].ts_offset = 2880; /* not below the one before */
    in[2].ts_offset = 0;    /* the primary's own time */
    g_assert_cmpint(tsr_rtp_red_write(in, 4, buf, sizeof buf, &len), ==, 0);
    g_assert_cmpint(tsr_rtp_red_frames(buf, len, 111, 10000, 500, fr, &skipped), ==, 2);
    g_assert_cmpuint(skipped, ==, 2);
    g_assert_cmpuint(fr[0].data[1], ==, 1);
    g_assert_cmpuint(fr[1].data[1], ==, 4);
    in[0].len = 0;
    in[1].ts_offset = 1920;
    in[2].ts_offset = 960;
    g_assert_cmpint(tsr_rtp_red_write(in, 4, buf, sizeof buf, &len), ==, 0);
    g_assert_cmpint(tsr_rtp_red_frames(buf, len, 111, 10000, 500, fr, &skipped), ==, 3);
    g_assert_cmpuint(skipped, ==, 1);
    g_assert_cmpuint(fr[0].seq, ==, 498); /* still counted from the end */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/rtp_red/parse_chromium_shape", test_parse_chromium_shape);
    g_test_add_func("/rtp_red/write_round_trip", test_write_round_trip);
    g_test_add_func("/rtp_red/malformed", test_malformed);
    g_test_add_func("/rtp_red/frames", test_frames);
    return g_test_run();
}
