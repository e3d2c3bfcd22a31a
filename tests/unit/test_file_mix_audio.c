/* tessera-mix's audio half: tone files in, the full mix or one participant's
 * mix-minus out, read back from the written WebM and analysed. */
#include "../common/tone.h"
#include <tessera/audio_file.h>
#include <tessera/err.h>
#include <tessera/file_mix_audio.h>
#include <tessera/opus_codec.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define TICKS 25 /* 0.5 s */

/* Amplitude of tone `f` at 48 kHz: tests/common/tone.h. */
static double tone_db(const int16_t *x, size_t n, double f)
{
    return tsr_test_tone_db(x, n, f, 48000);
}

static double freq_of(int i)
{
    return 350.0 + 400.0 * i;
}

/* An audio-only WebM holding `ticks` x 20 ms of a sine at freq_of(i), -14 dBFS. */
static void write_tone(const char *path, int i, int ticks)
{
    AVFormatContext *oc = NULL;
    g_assert_cmpint(avformat_alloc_output_context2(&oc, NULL, "webm", path), >=, 0);
    AVStream *st = NULL;
    g_assert_cmpint(tsr_audio_sink_add_stream(oc, 1, &st), ==, 0);
    g_assert_cmpint(avio_open(&oc->pb, path, AVIO_FLAG_WRITE), >=, 0);
    g_assert_cmpint(avformat_write_header(oc, NULL), >=, 0);
    struct tsr_opus_encoder_params ep = {.bitrate_bps = 64000, .channels = 1, .complexity = 5};
    struct tsr_opus_encoder *enc = NULL;
    g_assert_cmpint(tsr_opus_encoder_new(&enc, &ep), ==, 0);
    for (int t = 0; t < ticks; t++) {
        int16_t pcm[960];
        uint8_t pkt[TSR_OPUS_MAX_PACKET_BYTES];
        for (int j = 0; j < 960; j++)
            pcm[j] =
                (int16_t)lrint(0.2 * 32767 * sin(2 * M_PI * freq_of(i) * (t * 960 + j) / 48000.0));
        int len = tsr_opus_encode(enc, pcm, 960, pkt, sizeof(pkt));
        g_assert_cmpint(len, >, 0);
        g_assert_cmpint(tsr_audio_sink_write(oc, st, pkt, (size_t)len, (int64_t)t * 960, 960), ==,
                        0);
    }
    g_assert_cmpint(av_write_trailer(oc), ==, 0);
    avio_closep(&oc->pb);
    avformat_free_context(oc);
    tsr_opus_encoder_free(&enc);
}

/* Mix inputs 1..3 into `out` (audio_for 0 = full mix); return its decoded PCM. */
static int16_t *mix_files(char **in, const char *out, uint32_t audio_for, size_t *n)
{
    struct tsr_file_mix_audio_params p = {
        .bitrate_bps = 96000, .channels = 1, .audio_for = audio_for};
    struct tsr_file_mix_audio *f = NULL;
    g_assert_cmpint(tsr_file_mix_audio_new(&f, &p), ==, 0);
    for (uint32_t i = 1; i <= 3; i++)
        g_assert_cmpint(tsr_file_mix_audio_add_input(f, i, in[i]), ==, 0);
    g_assert_cmpint(tsr_file_mix_audio_add_input(f, 2, in[1]), ==, TSR_ERR_STATE);
    g_assert_cmpuint(tsr_file_mix_audio_inputs(f), ==, 3);
    AVFormatContext *oc = NULL;
    g_assert_cmpint(avformat_alloc_output_context2(&oc, NULL, NULL, out), >=, 0);
    g_assert_cmpint(tsr_file_mix_audio_open_output(f, oc), ==, 0);
    g_assert_cmpint(avio_open(&oc->pb, out, AVIO_FLAG_WRITE), >=, 0);
    g_assert_cmpint(avformat_write_header(oc, NULL), >=, 0);
    for (int k = 1; k <= 8; k++) /* the caller's clock, e.g. video frames */
        g_assert_cmpint(tsr_file_mix_audio_run_until(f, k * 0.1), ==, 0);
    g_assert_cmpint(tsr_file_mix_audio_ticks(f), ==, 40); /* 0.8 s, past the inputs' end */
    g_assert_cmpint(av_write_trailer(oc), ==, 0);
    avio_closep(&oc->pb);
    avformat_free_context(oc);
    tsr_file_mix_audio_free(&f);
    g_assert_null(f);

    struct tsr_audio_source *src = NULL;
    g_assert_cmpint(tsr_audio_source_open(&src, out), ==, 0);
    g_assert_true(tsr_audio_source_is_passthrough(src));
    struct tsr_opus_decoder *dec = NULL;
    g_assert_cmpint(tsr_opus_decoder_new(&dec), ==, 0);
    int16_t *pcm = g_new0(int16_t, 40 * 960);
    struct tsr_audio_packet pkt;
    size_t got = 0;
    while (tsr_audio_source_read(src, &pkt) == 0) {
        g_assert_cmpuint(pkt.ts_rtp, ==, got);
        g_assert_cmpint(tsr_opus_decode(dec, pkt.data, pkt.len_bytes, pcm + got, 960), ==, 960);
        got += 960;
    }
    g_assert_cmpuint(got, ==, 40 * 960);
    tsr_opus_decoder_free(&dec);
    tsr_audio_source_free(&src);
    *n = got;
    return pcm;
}

static void test_full_mix_and_audio_for(void)
{
    char *dir = g_dir_make_tmp("tsr-fma-XXXXXX", NULL);
    char *in[4] = {NULL};
    for (int i = 1; i <= 3; i++) {
        char name[16];
        g_snprintf(name, sizeof(name), "in%d.webm", i);
        in[i] = g_build_filename(dir, name, NULL);
        write_tone(in[i], i, TICKS);
    }
    char *out = g_build_filename(dir, "out.mkv", NULL);
    size_t n;
    int16_t *full = mix_files(in, out, 0, &n);
    int16_t *for2 = mix_files(in, out, 2, &n);
    const size_t from = 5 * 960, len = 15 * 960; /* steady part, 100..400 ms */
    for (int i = 1; i <= 3; i++) {
        double db = tone_db(full + from, len, freq_of(i));
        g_test_message("full mix: input %d at %.1f dB", i, db);
        g_assert_cmpfloat(fabs(db - 20 * log10(0.2)), <, 1.5);
    }
    double own = tone_db(for2 + from, len, freq_of(2));
    double other =
        fmin(tone_db(for2 + from, len, freq_of(1)), tone_db(for2 + from, len, freq_of(3)));
    g_test_message("--audio-for 2: own %.1f dB, others >= %.1f dB", own, other);
    g_assert_cmpfloat(other, >, 20 * log10(0.2) - 1.5);
    g_assert_cmpfloat(own, <, other - 40.0);
    /* the inputs end at 0.5 s: concealment fades them for at most 100 ms, then
     * the output goes on in silence */
    for (int i = 1; i <= 3; i++)
        g_assert_cmpfloat(tone_db(full + 32 * 960, 8 * 960, freq_of(i)), <, -60.0);
    g_free(full);
    g_free(for2);
    for (int i = 1; i <= 3; i++) {
        g_unlink(in[i]);
        g_free(in[i]);
    }
    g_unlink(out);
    g_free(out);
    g_rmdir(dir);
    g_free(dir);
}

static void test_bad_use(void)
{
    struct tsr_file_mix_audio_params p = {.bitrate_bps = 64000, .channels = 3};
    struct tsr_file_mix_audio *f = NULL;
    g_assert_cmpint(tsr_file_mix_audio_new(&f, &p), ==, TSR_ERR_INVALID);
    p.channels = 1;
    p.audio_for = 7;
    g_assert_cmpint(tsr_file_mix_audio_new(&f, &p), ==, 0);
    g_assert_cmpint(tsr_file_mix_audio_add_input(f, 1, "/nonexistent.webm"), ==, TSR_ERR_IO);
    g_assert_cmpint(tsr_file_mix_audio_run_until(f, 1.0), ==, TSR_ERR_STATE);
    AVFormatContext *oc = NULL;
    g_assert_cmpint(avformat_alloc_output_context2(&oc, NULL, "webm", NULL), >=, 0);
    g_assert_cmpint(tsr_file_mix_audio_open_output(f, oc), ==, TSR_ERR_NOT_FOUND);
    avformat_free_context(oc);
    tsr_file_mix_audio_free(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/file_mix_audio/full_mix_and_audio_for", test_full_mix_and_audio_for);
    g_test_add_func("/file_mix_audio/bad_use", test_bad_use);
    return g_test_run();
}
