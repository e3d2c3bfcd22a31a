/* G.722 through libavcodec and the 1:3 resampler: a wideband tone survives the
 * codec at its frequency and level, the whole mixer path (48 kHz -> 16 kHz ->
 * G.722 -> 16 kHz -> 48 kHz) keeps a tone and removes what would alias, 20 ms is
 * 160 bytes and 160 RTP ticks (RFC 3551's 8000 Hz clock), bad input is refused. */
#include <tessera/audio_buffer.h>
#include <tessera/err.h>
#include <tessera/g722.h>
#include <tessera/rtcp.h>
#include <tessera/rtp_stream_out.h>

#include "../common/tone.h"

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <string.h>

enum { FRAME = TSR_G722_FRAME_SAMPLES, BLOCKS = 25 };

/* 1 kHz and 6 kHz (above G.711's band) at -20 dBFS, 20 ms frames of 160 bytes:
 * each comes back at its level, and a tone that was not sent stays absent. */
static void test_codec_tone(void)
{
    const double freqs[2] = {1000, 6000}, lvl = 20 * log10(0.1);
    for (int k = 0; k < 2; k++) {
        struct tsr_g722_encoder *e = NULL;
        struct tsr_g722_decoder *d = NULL;
        g_assert_cmpint(tsr_g722_encoder_new(&e), ==, 0);
        g_assert_cmpint(tsr_g722_decoder_new(&d), ==, 0);
        static int16_t out[BLOCKS * FRAME];
        for (int b = 0; b < BLOCKS; b++) {
            int16_t in[FRAME];
            uint8_t pkt[FRAME];
            tsr_test_sine(in, FRAME, freqs[k], TSR_G722_RATE_HZ, 0.1, (size_t)b * FRAME);
            g_assert_cmpint(tsr_g722_encode(e, in, FRAME, pkt, sizeof pkt), ==, 160);
            g_assert_cmpint(tsr_g722_decode(d, pkt, 160, out + b * FRAME, FRAME), ==, FRAME);
        }
        const int16_t *tail = out + 5 * FRAME; /* the ADPCM step sizes have adapted */
        size_t n = (BLOCKS - 5) * FRAME;
        double got = tsr_test_tone_db(tail, n, freqs[k], TSR_G722_RATE_HZ);
        g_test_message("G.722 %.0f Hz at %.1f dBFS came back at %.2f dBFS", freqs[k], lvl, got);
        g_assert_cmpfloat(fabs(got - lvl), <, 1.0);
        g_assert_cmpfloat(tsr_test_tone_db(tail, n, freqs[1 - k], TSR_G722_RATE_HZ), <, lvl - 30);
        tsr_g722_encoder_free(&e);
        tsr_g722_decoder_free(&d);
        tsr_g722_encoder_free(&e);
    }
}

/* Run one 48 kHz tone through down, encode, decode, up; return the level of
 * `probe` Hz in what comes out at 48 kHz. */
static double through(double f, double probe)
{
    struct tsr_resampler down, up;
    tsr_g722_resampler_init(&down);
    tsr_g722_resampler_init(&up);
    struct tsr_g722_encoder *e = NULL;
    struct tsr_g722_decoder *d = NULL;
    g_assert_cmpint(tsr_g722_encoder_new(&e), ==, 0);
    g_assert_cmpint(tsr_g722_decoder_new(&d), ==, 0);
    static int16_t out[BLOCKS * 960];
    for (int b = 0; b < BLOCKS; b++) {
        int16_t in[960], narrow[FRAME], back[FRAME];
        uint8_t pkt[160];
        tsr_test_sine(in, 960, f, 48000, 0.1, (size_t)b * 960);
        g_assert_cmpint(tsr_resampler_down(&down, in, 960, narrow), ==, 0);
        g_assert_cmpint(tsr_g722_encode(e, narrow, FRAME, pkt, sizeof pkt), ==, 160);
        g_assert_cmpint(tsr_g722_decode(d, pkt, sizeof pkt, back, FRAME), ==, FRAME);
        g_assert_cmpint(tsr_resampler_up(&up, back, FRAME, out + b * 960), ==, 0);
    }
    tsr_g722_encoder_free(&e);
    tsr_g722_decoder_free(&d);
    return tsr_test_tone_db(out + 5 * 960, (BLOCKS - 5) * 960, probe, 48000);
}

/* 1 kHz and 5 kHz keep frequency and level through the whole path; 12 kHz,
 * which would fold onto 4 kHz at 16 kHz, is stopped before the encoder. */
static void test_mix_path(void)
{
    const double lvl = 20 * log10(0.1);
    double l1 = through(1000, 1000), l5 = through(5000, 5000), alias = through(12000, 4000);
    g_test_message("48k->G.722->48k: 1 kHz %.2f, 5 kHz %.2f dBFS (sent %.1f); 12 kHz -> 4 kHz "
                   "alias %.1f dBFS",
                   l1, l5, lvl, alias);
    g_assert_cmpfloat(fabs(l1 - lvl), <, 1.0);
    g_assert_cmpfloat(fabs(l5 - lvl), <, 1.0);
    g_assert_cmpfloat(through(1000, 3000), <, lvl - 30);
    g_assert_cmpfloat(alias, <, lvl - 50);
}

/* RFC 3551: the RTP clock is 8000 although G.722 samples at 16 kHz, so 20 ms is
 * 160 ticks on the wire and 160 ticks in the jitter buffer (one per byte). */
static void test_rtp_clock(void)
{
    struct tsr_media_clock clock;
    tsr_media_clock_init(&clock, 5000000, 1700000000000000);
    struct tsr_rtp_stream_out_config c = {
        .ssrc = 7, .payload_type = TSR_G722_PT, .clock_rate = TSR_G722_RTP_CLOCK_HZ};
    struct tsr_rtp_stream_out *s = NULL;
    g_assert_cmpint(tsr_rtp_stream_out_new(&s, &c, &clock), ==, 0);
    uint32_t t0 = tsr_rtp_stream_out_timestamp(s, 6000000);
    g_assert_cmpuint(tsr_rtp_stream_out_timestamp(s, 6020000) - t0, ==, 160);
    tsr_rtp_stream_out_free(&s);

    struct tsr_audio_buffer_config bc;
    tsr_audio_buffer_config_default(&bc);
    bc.clock_rate = TSR_G722_RTP_CLOCK_HZ;
    bc.codec = TSR_AUDIO_CODEC_G722;
    struct tsr_audio_buffer *ab = NULL;
    g_assert_cmpint(tsr_audio_buffer_new(&ab, &bc), ==, 0);
    uint8_t pl[160] = {0};
    for (uint16_t i = 0; i < 3; i++) {
        struct tsr_audio_packet p = {.data = pl,
                                     .len_bytes = 160,
                                     .ts_rtp = 1000u + i * 160u,
                                     .seq = i,
                                     .level = TSR_AUDIO_LEVEL_ABSENT};
        g_assert_cmpint(tsr_audio_buffer_push(ab, &p, i * 20000), ==, 0);
    }
    struct tsr_audio_buffer_out o;
    g_assert_cmpint(tsr_audio_buffer_pop(ab, 400000, &o), ==, TSR_AUDIO_BUFFER_PACKET);
    g_assert_cmpuint(o.samples, ==, 160);
    g_assert_cmpuint(o.len, ==, 160);
    tsr_audio_buffer_free(&ab);
}

static void test_bad_input(void)
{
    struct tsr_g722_encoder *e = NULL;
    struct tsr_g722_decoder *d = NULL;
    g_assert_cmpint(tsr_g722_encoder_new(&e), ==, 0);
    g_assert_cmpint(tsr_g722_decoder_new(&d), ==, 0);
    int16_t pcm[2 * FRAME] = {0};
    uint8_t pkt[FRAME];
    g_assert_cmpint(tsr_g722_encode(e, pcm, FRAME - 2, pkt, sizeof pkt), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_g722_encode(e, pcm, FRAME, pkt, 100), ==, TSR_ERR_FULL);
    g_assert_cmpint(tsr_g722_decode(d, pkt, 0, pcm, FRAME), ==, TSR_ERR_TRUNCATED);
    g_assert_cmpint(tsr_g722_decode(d, pkt, 161, pcm, FRAME), ==, TSR_ERR_FULL);
    /* Any bytes decode: every code is valid ADPCM. */
    memset(pkt, 0xa5, sizeof pkt);
    g_assert_cmpint(tsr_g722_decode(d, pkt, 7, pcm, FRAME), ==, 14);
    g_assert_cmpint(tsr_g722_decoder_reset(d), ==, 0);
    g_assert_cmpint(tsr_g722_decode(d, pkt, 160, pcm, 2 * FRAME), ==, FRAME);
    struct tsr_resampler r;
    g_assert_cmpint(tsr_resampler_init(&r, 3, 181, 7300), ==, -EINVAL);
    g_assert_cmpint(tsr_resampler_init(&r, 3, 180, 8000), ==, -EINVAL);
    tsr_g722_resampler_init(&r);
    g_assert_cmpint(tsr_resampler_down(&r, pcm, 10, pcm + FRAME), ==, -EINVAL);
    tsr_g722_encoder_free(&e);
    tsr_g722_decoder_free(&d);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/g722/codec_tone", test_codec_tone);
    g_test_add_func("/g722/mix_path", test_mix_path);
    g_test_add_func("/g722/rtp_clock", test_rtp_clock);
    g_test_add_func("/g722/bad_input", test_bad_input);
    return g_test_run();
}
