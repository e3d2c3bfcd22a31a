/* Audio tracks of files: Opus round trip through WebM (passthrough, bytes and
 * timestamps intact) and a 44.1 kHz stereo WAV transcoded to 48 kHz Opus. */
#include "../common/tone.h"
#include <tessera/audio_file.h>
#include <tessera/err.h>
#include <tessera/opus_codec.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PKTS 25

static void test_webm_opus_roundtrip(void)
{
    char *dir = g_dir_make_tmp("tsr-audio-XXXXXX", NULL);
    char *path = g_build_filename(dir, "a.webm", NULL);
    AVFormatContext *oc = NULL;
    g_assert_cmpint(avformat_alloc_output_context2(&oc, NULL, "webm", path), >=, 0);
    AVStream *st = NULL;
    g_assert_cmpint(tsr_audio_sink_add_stream(oc, 2, &st), ==, 0);
    g_assert_cmpint(avio_open(&oc->pb, path, AVIO_FLAG_WRITE), >=, 0);
    g_assert_cmpint(avformat_write_header(oc, NULL), >=, 0);
    struct tsr_opus_encoder_params ep = {.bitrate_bps = 48000, .channels = 2, .complexity = 5};
    struct tsr_opus_encoder *enc = NULL;
    g_assert_cmpint(tsr_opus_encoder_new(&enc, &ep), ==, 0);
    uint8_t pkts[PKTS][TSR_OPUS_MAX_PACKET_BYTES];
    int lens[PKTS];
    for (int i = 0; i < PKTS; i++) {
        int16_t pcm[960];
        for (int j = 0; j < 960; j++)
            pcm[j] = (int16_t)lrint(8000.0 * sin(2.0 * M_PI * 440.0 * (i * 960 + j) / 48000.0));
        lens[i] = tsr_opus_encode(enc, pcm, 960, pkts[i], sizeof(pkts[i]));
        g_assert_cmpint(lens[i], >, 0);
        g_assert_cmpint(
            tsr_audio_sink_write(oc, st, pkts[i], (size_t)lens[i], (int64_t)i * 960, 960), ==, 0);
    }
    g_assert_cmpint(av_write_trailer(oc), ==, 0);
    avio_closep(&oc->pb);
    avformat_free_context(oc);
    tsr_opus_encoder_free(&enc);

    struct tsr_audio_source *src = NULL;
    g_assert_cmpint(tsr_audio_source_open(&src, path), ==, 0);
    g_assert_true(tsr_audio_source_is_passthrough(src));
    struct tsr_audio_packet pkt;
    for (int i = 0; i < PKTS; i++) {
        g_assert_cmpint(tsr_audio_source_read(src, &pkt), ==, 0);
        g_assert_cmpmem(pkt.data, pkt.len_bytes, pkts[i], (size_t)lens[i]);
        g_assert_cmpuint(pkt.ts_rtp, ==, (uint32_t)i * 960); /* WebM keeps ms: 20 ms = 960 */
        g_assert_cmpuint(pkt.seq, ==, (uint16_t)i);
        g_assert_cmpint(pkt.level, ==, TSR_AUDIO_LEVEL_ABSENT);
    }
    g_assert_cmpint(tsr_audio_source_read(src, &pkt), ==, TSR_AUDIO_SOURCE_EOF);
    tsr_audio_source_free(&src);
    g_assert_null(src);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}

static void put_le(FILE *f, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        fputc((int)((v >> (8 * i)) & 0xff), f);
}

/* 0.5 s of 44.1 kHz stereo 16-bit PCM: 700 Hz left, 700 Hz right (-10 dBFS). */
static void write_wav(const char *path)
{
    const uint32_t rate = 44100, n = rate / 2;
    FILE *f = fopen(path, "wb");
    g_assert_nonnull(f);
    fwrite("RIFF", 1, 4, f);
    put_le(f, 36 + n * 4, 4);
    fwrite("WAVEfmt ", 1, 8, f);
    put_le(f, 16, 4);
    put_le(f, 1, 2); /* PCM */
    put_le(f, 2, 2);
    put_le(f, rate, 4);
    put_le(f, rate * 4, 4);
    put_le(f, 4, 2);
    put_le(f, 16, 2);
    fwrite("data", 1, 4, f);
    put_le(f, n * 4, 4);
    for (uint32_t i = 0; i < n; i++) {
        int16_t v = (int16_t)lrint(0.316 * 32767.0 * sin(2.0 * M_PI * 700.0 * i / rate));
        put_le(f, (uint16_t)v, 2);
        put_le(f, (uint16_t)v, 2);
    }
    fclose(f);
}

static void test_wav_transcoded(void)
{
    char *dir = g_dir_make_tmp("tsr-audio-XXXXXX", NULL);
    char *path = g_build_filename(dir, "a.wav", NULL);
    write_wav(path);
    struct tsr_audio_source *src = NULL;
    g_assert_cmpint(tsr_audio_source_open(&src, path), ==, 0);
    g_assert_false(tsr_audio_source_is_passthrough(src));
    struct tsr_opus_decoder *dec = NULL;
    g_assert_cmpint(tsr_opus_decoder_new(&dec), ==, 0);
    int16_t *all = g_new0(int16_t, 48000);
    size_t total = 0;
    struct tsr_audio_packet pkt;
    int r, count = 0;
    while ((r = tsr_audio_source_read(src, &pkt)) == 0) {
        g_assert_cmpuint(pkt.ts_rtp, ==, (uint32_t)count * 960);
        g_assert_cmpint(tsr_opus_packet_samples(pkt.data, pkt.len_bytes), ==, 960);
        g_assert_cmpuint(total + 960, <=, 48000);
        g_assert_cmpint(tsr_opus_decode(dec, pkt.data, pkt.len_bytes, all + total, 960), ==, 960);
        total += 960;
        count++;
    }
    g_assert_cmpint(r, ==, TSR_AUDIO_SOURCE_EOF);
    g_assert_cmpint(count, ==, 25); /* 0.5 s = 24000 samples at 48 kHz = 25 packets */
    double db = tsr_test_tone_db(all + 4800, 14400, 700.0, 48000);
    g_assert_cmpfloat(fabs(db - 20 * log10(0.316)), <, 1.0);
    g_assert_cmpfloat(tsr_test_tone_db(all + 4800, 14400, 643.0, 48000), <, db - 30); /* 700 stays 700 */
    g_free(all);
    tsr_opus_decoder_free(&dec);
    tsr_audio_source_free(&src);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}

static void test_missing_file(void)
{
    struct tsr_audio_source *src = NULL;
    g_assert_cmpint(tsr_audio_source_open(&src, "/nonexistent/x.webm"), ==, TSR_ERR_IO);
    g_assert_null(src);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/audio_file/webm_opus_roundtrip", test_webm_opus_roundtrip);
    g_test_add_func("/audio_file/wav_transcoded", test_wav_transcoded);
    g_test_add_func("/audio_file/missing_file", test_missing_file);
    return g_test_run();
}
