/* Opus codec wrapper: frame sizes, validation, PLC, FEC recovery, state copy. */
#include <tessera/err.h>
#include <tessera/opus_codec.h>

#include <glib.h>
#include <math.h>
#include <string.h>

#define RATE 48000

/* Goertzel power of `f` Hz in x[0..n), normalised so a full-scale sine gives ~0 dB. */
static double goertzel_db(const int16_t *x, size_t n, double f)
{
    double w = 2.0 * M_PI * f / RATE, c = 2.0 * cos(w), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = x[i] / 32768.0 + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double p = s1 * s1 + s2 * s2 - c * s1 * s2;
    double amp = 2.0 * sqrt(p > 0 ? p : 0) / (double)n;
    return 20.0 * log10(amp + 1e-12);
}

static void sine(int16_t *x, size_t n, size_t start, double f, double amp)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (int16_t)lrint(amp * 32767.0 * sin(2.0 * M_PI * f * (double)(start + i) / RATE));
}

static struct tsr_opus_encoder *make_encoder(int64_t bps, int ch, bool fec, bool voice)
{
    struct tsr_opus_encoder_params p = {.bitrate_bps = bps,
                                        .channels = ch,
                                        .fec = fec,
                                        .complexity = 5,
                                        .expected_loss_pct = fec ? 20 : 0,
                                        .voice = voice};
    struct tsr_opus_encoder *e = NULL;
    g_assert_cmpint(tsr_opus_encoder_new(&e, &p), ==, 0);
    return e;
}

static void test_frame_sizes(void)
{
    static const size_t sizes[] = {480, 960, 1920, 2880};
    int16_t pcm[2880], out[TSR_OPUS_MAX_PACKET_SAMPLES];
    uint8_t pkt[TSR_OPUS_MAX_PACKET_BYTES];
    for (size_t k = 0; k < G_N_ELEMENTS(sizes); k++) {
        struct tsr_opus_encoder *e = make_encoder(64000, 1, false, false);
        struct tsr_opus_decoder *d = NULL;
        g_assert_cmpint(tsr_opus_decoder_new(&d), ==, 0);
        size_t n = sizes[k];
        double db = -100;
        for (int f = 0; f < 6; f++) {
            sine(pcm, n, (size_t)f * n, 1000.0, 0.5);
            int len = tsr_opus_encode(e, pcm, n, pkt, sizeof(pkt));
            g_assert_cmpint(len, >, 2);
            g_assert_cmpint(tsr_opus_packet_samples(pkt, (size_t)len), ==, (int)n);
            int got = tsr_opus_decode(d, pkt, (size_t)len, out, G_N_ELEMENTS(out));
            g_assert_cmpint(got, ==, (int)n);
            db = goertzel_db(out, n, 1000.0);
        }
        /* -6 dBFS tone survives the codec within 1 dB */
        g_assert_cmpfloat(fabs(db - 20 * log10(0.5)), <, 1.0);
        tsr_opus_encoder_free(&e);
        tsr_opus_decoder_free(&d);
        g_assert_null(e);
        g_assert_null(d);
    }
}

static void test_invalid_packets(void)
{
    const uint8_t code3_zero[] = {0x03, 0x00};  /* code 3 with 0 frames */
    const uint8_t code1_odd[] = {0x01, 0x10};   /* two CBR frames of odd total size */
    const uint8_t code2_short[] = {0x02, 0xfc}; /* length byte promises more than present */
    const uint8_t toolong[] = {0x1b, 0x3f};     /* 60 ms x 63 frames > 120 ms */
    g_assert_cmpint(tsr_opus_packet_samples(NULL, 0), ==, TSR_ERR_TRUNCATED);
    g_assert_cmpint(tsr_opus_packet_samples(code3_zero, sizeof(code3_zero)), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_opus_packet_samples(code1_odd, sizeof(code1_odd)), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_opus_packet_samples(code2_short, sizeof(code2_short)), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_opus_packet_samples(toolong, sizeof(toolong)), ==, TSR_ERR_INVALID);
    struct tsr_opus_decoder *d = NULL;
    g_assert_cmpint(tsr_opus_decoder_new(&d), ==, 0);
    int16_t out[960];
    g_assert_cmpint(tsr_opus_decode(d, code2_short, sizeof(code2_short), out, 960), ==,
                    TSR_ERR_INVALID);
    g_assert_cmpint(tsr_opus_decode_plc(d, 100, out), ==, TSR_ERR_INVALID); /* not 2.5 ms steps */
    g_assert_cmpint(tsr_opus_decode_plc(d, 960, out), ==, 960);
    tsr_opus_decoder_free(&d);
    struct tsr_opus_encoder_params bad = {.bitrate_bps = 1000, .channels = 1};
    struct tsr_opus_encoder *e = NULL;
    g_assert_cmpint(tsr_opus_encoder_new(&e, &bad), ==, TSR_ERR_INVALID);
    g_assert_null(e);
}

/* A 20 ms frame i carries a tone of its own frequency, so the content of a lost
 * frame cannot be guessed from its neighbours: only FEC can bring it back. */
static double step_freq(int i)
{
    return 400.0 + 150.0 * (i % 7);
}

static void test_fec_recovers_lost_frame(void)
{
    struct tsr_opus_encoder *e = make_encoder(32000, 1, true, true);
    uint8_t pkts[12][TSR_OPUS_MAX_PACKET_BYTES];
    int lens[12];
    int16_t pcm[960];
    for (int i = 0; i < 12; i++) {
        sine(pcm, 960, (size_t)i * 960, step_freq(i), 0.3);
        lens[i] = tsr_opus_encode(e, pcm, 960, pkts[i], sizeof(pkts[i]));
        g_assert_cmpint(lens[i], >, 2);
    }
    const int lost = 8;
    int16_t fec[960], plc[960], tmp[960];
    struct tsr_opus_decoder *a = NULL, *b = NULL;
    g_assert_cmpint(tsr_opus_decoder_new(&a), ==, 0);
    g_assert_cmpint(tsr_opus_decoder_new(&b), ==, 0);
    for (int i = 0; i < lost; i++) {
        g_assert_cmpint(tsr_opus_decode(a, pkts[i], (size_t)lens[i], tmp, 960), ==, 960);
        g_assert_cmpint(tsr_opus_decode(b, pkts[i], (size_t)lens[i], tmp, 960), ==, 960);
    }
    g_assert_cmpint(tsr_opus_decode_fec(a, pkts[lost + 1], (size_t)lens[lost + 1], 960, fec), ==,
                    960);
    g_assert_cmpint(tsr_opus_decode_plc(b, 960, plc), ==, 960);
    /* Judge the second half of the frame (the first half overlaps the previous tone). */
    double f = step_freq(lost);
    double fec_db = goertzel_db(fec + 480, 480, f);
    double plc_db = goertzel_db(plc + 480, 480, f);
    g_test_message("lost-frame tone: FEC %.1f dB, PLC %.1f dB", fec_db, plc_db);
    g_assert_cmpfloat(fec_db, >, 20 * log10(0.3) - 6.0);
    g_assert_cmpfloat(fec_db, >, plc_db + 10.0);
    tsr_opus_decoder_free(&a);
    tsr_opus_decoder_free(&b);
    tsr_opus_encoder_free(&e);
}

/* A copy of an encoder continues its stream bit-exactly. */
static void test_copy_state_is_seamless(void)
{
    struct tsr_opus_encoder *a = make_encoder(32000, 1, true, true);
    struct tsr_opus_encoder *b = make_encoder(32000, 1, true, true);
    struct tsr_opus_encoder *c = make_encoder(48000, 1, true, true);
    int16_t pcm[960];
    uint8_t pa[TSR_OPUS_MAX_PACKET_BYTES], pb[TSR_OPUS_MAX_PACKET_BYTES];
    for (int i = 0; i < 5; i++) {
        sine(pcm, 960, (size_t)i * 960, 700.0, 0.4);
        g_assert_cmpint(tsr_opus_encode(a, pcm, 960, pa, sizeof(pa)), >, 0);
    }
    g_assert_cmpint(tsr_opus_encoder_copy_state(b, a), ==, 0);
    g_assert_cmpint(tsr_opus_encoder_copy_state(c, a), ==, TSR_ERR_INVALID);
    for (int i = 5; i < 10; i++) {
        sine(pcm, 960, (size_t)i * 960, 700.0, 0.4);
        int la = tsr_opus_encode(a, pcm, 960, pa, sizeof(pa));
        int lb = tsr_opus_encode(b, pcm, 960, pb, sizeof(pb));
        g_assert_cmpint(la, ==, lb);
        g_assert_cmpmem(pa, (size_t)la, pb, (size_t)lb);
    }
    tsr_opus_encoder_free(&a);
    tsr_opus_encoder_free(&b);
    tsr_opus_encoder_free(&c);
}

static void test_stereo_output(void)
{
    struct tsr_opus_encoder *e = make_encoder(64000, 2, false, false);
    int16_t pcm[960], out[960];
    uint8_t pkt[TSR_OPUS_MAX_PACKET_BYTES];
    struct tsr_opus_decoder *d = NULL;
    g_assert_cmpint(tsr_opus_decoder_new(&d), ==, 0);
    double db = -100;
    for (int i = 0; i < 5; i++) {
        sine(pcm, 960, (size_t)i * 960, 500.0, 0.5);
        int len = tsr_opus_encode(e, pcm, 960, pkt, sizeof(pkt));
        g_assert_cmpint(len, >, 2);
        g_assert_true(pkt[0] & 0x04); /* TOC stereo flag */
        g_assert_cmpint(tsr_opus_decode(d, pkt, (size_t)len, out, 960), ==, 960);
        db = goertzel_db(out, 960, 500.0);
    }
    g_assert_cmpfloat(fabs(db - 20 * log10(0.5)), <, 1.0); /* mono downmix of L=R keeps level */
    tsr_opus_decoder_free(&d);
    tsr_opus_encoder_free(&e);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/opus/frame_sizes", test_frame_sizes);
    g_test_add_func("/opus/invalid_packets", test_invalid_packets);
    g_test_add_func("/opus/fec_recovers_lost_frame", test_fec_recovers_lost_frame);
    g_test_add_func("/opus/copy_state_is_seamless", test_copy_state_is_seamless);
    g_test_add_func("/opus/stereo_output", test_stereo_output);
    return g_test_run();
}
