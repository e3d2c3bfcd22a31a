/* tessera-mix audio end to end: three inputs with video and a tone each (Opus
 * in WebM at 48 kHz, AAC in MP4 at 44.1 kHz, Opus in WebM; made with the ffmpeg
 * CLI at test time) -> the output's audio track holds every tone (the full mix);
 * with --audio-for 2 it holds the other two and not input 2's own tone. The
 * output is read back through libavformat and decoded with libopus. */
#include "../common/tone.h"
#include <tessera/audio_file.h>
#include <tessera/opus_codec.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <libavformat/avformat.h>
#include <math.h>
#include <string.h>

struct in_spec {
    const char *name, *colour, *vcodec, *acodec;
    int freq, rate;
};

static const struct in_spec inputs[] = {
    {"a.webm", "red", "libvpx", "libopus", 500, 48000},
    {"b.mp4", "green", "libx264", "aac", 900, 44100},
    {"c.webm", "blue", "libvpx", "libopus", 1300, 48000},
};

static void run_ok(char **argv)
{
    char *out = NULL, *err = NULL;
    int status = 0;
    GError *e = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &e))
        g_error("cannot run %s: %s", argv[0], e->message);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("%s failed: %s", argv[0], err);
    g_free(out);
    g_free(err);
}

static void make_input(const char *dir, const struct in_spec *s)
{
    char *path = g_build_filename(dir, s->name, NULL);
    char *v = g_strdup_printf("color=c=%s:s=160x120:r=15", s->colour);
    char *a = g_strdup_printf("sine=frequency=%d:sample_rate=%d", s->freq, s->rate);
    char *argv[] = {"ffmpeg", "-v",
                    "error",  "-y",
                    "-f",     "lavfi",
                    "-i",     v,
                    "-f",     "lavfi",
                    "-i",     a,
                    "-t",     "1",
                    "-c:v",   (char *)s->vcodec,
                    "-c:a",   (char *)s->acodec,
                    path,     NULL};
    run_ok(argv);
    g_free(v);
    g_free(a);
    g_free(path);
}

/* Amplitude of tone `f` at 48 kHz: tests/common/tone.h. */
static double tone_db(const int16_t *x, size_t n, double f)
{
    return tsr_test_tone_db(x, n, f, 48000);
}

/* The output's streams: one video, one Opus; returns its decoded audio. */
static int16_t *output_audio(const char *path, size_t *n)
{
    AVFormatContext *fmt = NULL;
    g_assert_cmpint(avformat_open_input(&fmt, path, NULL, NULL), ==, 0);
    g_assert_cmpint(avformat_find_stream_info(fmt, NULL), >=, 0);
    g_assert_cmpuint(fmt->nb_streams, ==, 2);
    g_assert_cmpint(fmt->streams[0]->codecpar->codec_type, ==, AVMEDIA_TYPE_VIDEO);
    g_assert_cmpint(fmt->streams[1]->codecpar->codec_id, ==, AV_CODEC_ID_OPUS);
    avformat_close_input(&fmt);
    struct tsr_audio_source *src = NULL;
    g_assert_cmpint(tsr_audio_source_open(&src, path), ==, 0);
    g_assert_true(tsr_audio_source_is_passthrough(src));
    struct tsr_opus_decoder *dec = NULL;
    g_assert_cmpint(tsr_opus_decoder_new(&dec), ==, 0);
    int16_t *pcm = g_new0(int16_t, 48000 * 2);
    size_t got = 0;
    struct tsr_audio_packet pkt;
    while (tsr_audio_source_read(src, &pkt) == 0 && got + 960 <= 48000 * 2) {
        int r = tsr_opus_decode(dec, pkt.data, pkt.len_bytes, pcm + got, 960);
        g_assert_cmpint(r, ==, 960);
        got += 960;
    }
    tsr_opus_decoder_free(&dec);
    tsr_audio_source_free(&src);
    *n = got;
    return pcm;
}

static int16_t *mix(const char *dir, const char *out_name, const char *audio_for, size_t *n)
{
    char *tool = g_build_filename(g_getenv("TSR_BUILD_DIR"), "tessera-mix", NULL);
    char *out = g_build_filename(dir, out_name, NULL);
    char *in[3];
    for (int i = 0; i < 3; i++)
        in[i] = g_build_filename(dir, inputs[i].name, NULL);
    char *argv[16] = {tool, "--size", "320x240", "--fps", "15", "--codec", "vp8", "-o", out};
    int k = 9;
    if (audio_for) {
        argv[k++] = "--audio-for";
        argv[k++] = (char *)audio_for;
    }
    for (int i = 0; i < 3; i++)
        argv[k++] = in[i];
    argv[k] = NULL;
    run_ok(argv);
    int16_t *pcm = output_audio(out, n);
    g_unlink(out);
    for (int i = 0; i < 3; i++)
        g_free(in[i]);
    g_free(out);
    g_free(tool);
    return pcm;
}

static void test_full_mix_and_audio_for(void)
{
    char *dir = g_dir_make_tmp("tsr-mix-audio-XXXXXX", NULL);
    for (int i = 0; i < 3; i++)
        make_input(dir, &inputs[i]);
    size_t n_full, n_for;
    int16_t *full = mix(dir, "full.webm", NULL, &n_full);
    int16_t *for2 = mix(dir, "for2.webm", "2", &n_for);
    g_assert_cmpuint(n_full, >=, 48 * 960); /* ~1 s, like the video */
    g_assert_cmpuint(n_for, ==, n_full);
    const size_t from = 10 * 960, len = 30 * 960; /* 0.2 .. 0.8 s */
    const double sine_db = 20 * log10(1.0 / 8);   /* lavfi sine: amplitude 1/8 */
    double others = 0;
    for (int i = 0; i < 3; i++) {
        double a = tone_db(full + from, len, inputs[i].freq);
        double b = tone_db(for2 + from, len, inputs[i].freq);
        g_test_message("%d Hz: full mix %.1f dB, --audio-for 2 %.1f dB", inputs[i].freq, a, b);
        g_assert_cmpfloat(fabs(a - sine_db), <, 1.5);
        if (i != 1) {
            g_assert_cmpfloat(fabs(b - sine_db), <, 1.5);
            others = fmin(others, b);
        }
    }
    g_assert_cmpfloat(tone_db(for2 + from, len, inputs[1].freq), <, others - 40.0);
    g_free(full);
    g_free(for2);
    for (int i = 0; i < 3; i++) {
        char *p = g_build_filename(dir, inputs[i].name, NULL);
        g_unlink(p);
        g_free(p);
    }
    g_rmdir(dir);
    g_free(dir);
}

/* --audio-for naming no input with audio is refused with a message. */
static void test_audio_for_unknown(void)
{
    char *dir = g_dir_make_tmp("tsr-mix-audio-XXXXXX", NULL);
    make_input(dir, &inputs[0]);
    char *tool = g_build_filename(g_getenv("TSR_BUILD_DIR"), "tessera-mix", NULL);
    char *in = g_build_filename(dir, inputs[0].name, NULL);
    char *out = g_build_filename(dir, "out.webm", NULL);
    char *argv[] = {tool, "--codec", "vp8", "--audio-for", "3", "-o", out, in, NULL};
    char *err = NULL;
    int status = 0;
    g_assert_true(g_spawn_sync(NULL, argv, NULL, 0, NULL, NULL, NULL, &err, &status, NULL));
    g_assert_false(g_spawn_check_wait_status(status, NULL));
    g_assert_nonnull(strstr(err, "--audio-for 3"));
    g_free(err);
    g_unlink(out);
    g_unlink(in);
    g_rmdir(dir);
    g_free(out);
    g_free(in);
    g_free(tool);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tessera_mix/audio_full_mix_and_audio_for", test_full_mix_and_audio_for);
    g_test_add_func("/tessera_mix/audio_for_unknown", test_audio_for_unknown);
    return g_test_run();
}
