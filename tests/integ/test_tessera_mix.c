/* tessera-mix end to end: four inputs of distinct colours at 1280x720, 640x480,
 * 320x240 and 1920x1080 (VP8 and H.264, made with the ffmpeg CLI at test time, a
 * few frames each) plus one unreadable file -> the output decodes (with libavcodec,
 * independently of our decoder) and each 2x2 quadrant has its input's colour. */
#include <tessera/compositor.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct in_spec {
    const char *name;
    const char *size;
    const char *codec;
    uint32_t rgb;
};

static const struct in_spec inputs[] = {
    {"red.webm", "1280x720", "libvpx", 0xd02020},
    {"green.mp4", "640x480", "libx264", 0x20c020}, /* High profile with B-frames */
    {"blue.webm", "320x240", "libvpx", 0x2020d0},
    {"yellow.mkv", "1920x1080", "libx264", 0xc0c020},
};

static char *run(char **argv, int *status)
{
    char *out = NULL, *err = NULL;
    GError *e = NULL;
    gboolean ok =
        g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, status, &e);
    if (!ok)
        g_error("cannot run %s: %s", argv[0], e->message);
    g_free(out);
    return err;
}

static void make_input(const char *dir, const struct in_spec *s)
{
    char *path = g_build_filename(dir, s->name, NULL);
    char *src = g_strdup_printf("color=c=0x%06x:s=%s:r=30", s->rgb, s->size);
    char *argv[] = {"ffmpeg",    "-v", "error",    "-y",      "-f",   "lavfi",          "-i", src,
                    "-frames:v", "6",  "-pix_fmt", "yuv420p", "-c:v", (char *)s->codec, path, NULL};
    int status = 0;
    char *err = run(argv, &status);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("ffmpeg failed for %s: %s", s->name, err);
    g_free(err);
    g_free(src);
    g_free(path);
}

/* Average Y, U, V of a 16x16 block centred at (cx, cy). */
static void block_mean(const AVFrame *f, int cx, int cy, double out[3])
{
    out[0] = out[1] = out[2] = 0;
    for (int y = cy - 8; y < cy + 8; y++)
        for (int x = cx - 8; x < cx + 8; x++) {
            out[0] += f->data[0][y * f->linesize[0] + x];
            out[1] += f->data[1][(y / 2) * f->linesize[1] + x / 2];
            out[2] += f->data[2][(y / 2) * f->linesize[2] + x / 2];
        }
    for (int i = 0; i < 3; i++)
        out[i] /= 256.0;
}

/* Decode the whole output; returns the number of frames, keeps the last one. */
static int decode_output(const char *path, enum AVCodecID want, AVFrame **last)
{
    AVFormatContext *fmt = NULL;
    g_assert_cmpint(avformat_open_input(&fmt, path, NULL, NULL), ==, 0);
    g_assert_cmpint(avformat_find_stream_info(fmt, NULL), >=, 0);
    g_assert_cmpuint(fmt->nb_streams, ==, 1);
    AVCodecParameters *par = fmt->streams[0]->codecpar;
    g_assert_cmpint(par->codec_id, ==, want);
    g_assert_cmpint(par->width, ==, 640);
    g_assert_cmpint(par->height, ==, 360);
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    AVCodecContext *c = avcodec_alloc_context3(codec);
    avcodec_parameters_to_context(c, par);
    c->err_recognition = AV_EF_EXPLODE;
    g_assert_cmpint(avcodec_open2(c, codec, NULL), ==, 0);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    int frames = 0;
    for (int eof = 0; !eof;) {
        if (av_read_frame(fmt, pkt) < 0) {
            eof = 1;
            g_assert_cmpint(avcodec_send_packet(c, NULL), ==, 0);
        } else {
            g_assert_cmpint(avcodec_send_packet(c, pkt), ==, 0);
            av_packet_unref(pkt);
        }
        while (avcodec_receive_frame(c, f) == 0) {
            frames++;
            av_frame_free(last);
            *last = av_frame_clone(f);
            av_frame_unref(f);
        }
    }
    av_frame_free(&f);
    av_packet_free(&pkt);
    avcodec_free_context(&c);
    avformat_close_input(&fmt);
    return frames;
}

static void mix_case(const char *dir, const char *codec, const char *out_name, enum AVCodecID id)
{
    const char *build = g_getenv("TSR_BUILD_DIR");
    g_assert_nonnull(build);
    char *tool = g_build_filename(build, "tessera-mix", NULL);
    char *out = g_build_filename(dir, out_name, NULL);
    char *in[5], *bad = g_build_filename(dir, "broken.mp4", NULL);
    for (int i = 0; i < 4; i++)
        in[i] = g_build_filename(dir, inputs[i].name, NULL);
    in[4] = bad;
    g_assert_true(g_file_set_contents(bad, "not a video at all", -1, NULL));
    /* The broken file sits in the middle: it must be left out, the others mixed. */
    char *argv[] = {tool,       "--size",    "640x360", "--codec", (char *)codec, "--encoder",
                    "software", "--bitrate", "800k",    "-o",      out,           in[0],
                    in[1],      bad,         in[2],     in[3],     NULL};
    int status = 0;
    char *err = run(argv, &status);
    g_test_message("tessera-mix: %s", err);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_assert_nonnull(strstr(err, "broken.mp4"));
    g_assert_nonnull(strstr(err, "4 inputs"));

    AVFrame *last = NULL;
    int frames = decode_output(out, id, &last);
    g_assert_cmpint(frames, >=, 6);
    g_assert_nonnull(last);
    int centres[4][2] = {{160, 90}, {480, 90}, {160, 270}, {480, 270}};
    for (int q = 0; q < 4; q++) {
        uint8_t ey, eu, ev;
        tsr_compositor_rgb_to_yuv(inputs[q].rgb, &ey, &eu, &ev);
        double m[3];
        block_mean(last, centres[q][0], centres[q][1], m);
        g_test_message("quadrant %d: %.1f %.1f %.1f want %d %d %d", q, m[0], m[1], m[2], ey, eu,
                       ev);
        g_assert_cmpfloat(fabs(m[0] - ey), <=, 6.0);
        g_assert_cmpfloat(fabs(m[1] - eu), <=, 6.0);
        g_assert_cmpfloat(fabs(m[2] - ev), <=, 6.0);
    }
    av_frame_free(&last);
    for (int i = 0; i < 5; i++)
        g_free(in[i]);
    g_free(err);
    g_free(out);
    g_free(tool);
}

static char *workdir;

/* Luma samples above 200 in a rectangle of f (the inputs are darker than that). */
static int bright(const AVFrame *f, int x0, int y0, int w, int h)
{
    int n = 0;
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++)
            n += f->data[0][y * f->linesize[0] + x] > 200;
    return n;
}

/* --names: each quadrant carries its name in white in its bottom band, nowhere else. */
static void test_mix_names(void)
{
    char *tool = g_build_filename(g_getenv("TSR_BUILD_DIR"), "tessera-mix", NULL);
    char *out = g_build_filename(workdir, "names.mp4", NULL);
    char *in[4];
    for (int i = 0; i < 4; i++)
        in[i] = g_build_filename(workdir, inputs[i].name, NULL);
    char *argv[] = {tool,  "--size", "640x360", "--names", "Ada Lovelace,Bo,Царь Иван,王小明",
                    "-o",  out,      in[0],     in[1],     in[2],
                    in[3], NULL};
    int status = 0;
    char *err = run(argv, &status);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    AVFrame *last = NULL;
    g_assert_cmpint(decode_output(out, AV_CODEC_ID_H264, &last), >=, 6);
    struct tsr_compositor_label_fit fit;
    tsr_compositor_label_fit(320, 180, &fit);
    for (int q = 0; q < 4; q++) {
        int x = (q % 2) * 320, y = (q / 2) * 180;
        int band = bright(last, x, y + 180 - fit.band_h, 320, fit.band_h);
        int above = bright(last, x, y, 320, 180 - fit.band_h - 2);
        g_test_message("quadrant %d: %d bright samples in the band, %d above", q, band, above);
        g_assert_cmpint(band, >=, 20);
        g_assert_cmpint(above, ==, 0);
    }
    av_frame_free(&last);
    for (int i = 0; i < 4; i++)
        g_free(in[i]);
    g_free(err);
    g_free(out);
    g_free(tool);
}

static void test_mix_h264_mp4(void)
{
    mix_case(workdir, "h264", "mix.mp4", AV_CODEC_ID_H264);
}

static void test_mix_vp8_webm(void)
{
    mix_case(workdir, "vp8", "mix.webm", AV_CODEC_ID_VP8);
}

static void test_bad_usage(void)
{
    char *tool = g_build_filename(g_getenv("TSR_BUILD_DIR"), "tessera-mix", NULL);
    char *argv[] = {tool, "--layout", "nonsense", "-o", "x.mp4", "y.webm", NULL};
    int status = 0;
    char *err = run(argv, &status);
    g_assert_false(g_spawn_check_wait_status(status, NULL));
    g_assert_nonnull(strstr(err, "nonsense"));
    g_free(err);
    char *argv2[] = {tool, "-o", "x.mp4", "/nonexistent/input.webm", NULL};
    err = run(argv2, &status);
    g_assert_false(g_spawn_check_wait_status(status, NULL));
    g_assert_nonnull(strstr(err, "no usable input"));
    g_free(err);
    g_free(tool);
}

static void rm_rf(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, name, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    workdir = g_dir_make_tmp("tessera-mix-XXXXXX", NULL);
    g_assert_nonnull(workdir);
    for (size_t i = 0; i < G_N_ELEMENTS(inputs); i++)
        make_input(workdir, &inputs[i]);
    g_test_add_func("/tessera_mix/h264_mp4", test_mix_h264_mp4);
    g_test_add_func("/tessera_mix/vp8_webm", test_mix_vp8_webm);
    g_test_add_func("/tessera_mix/bad_usage", test_bad_usage);
    g_test_add_func("/tessera_mix/names", test_mix_names);
    int ret = g_test_run();
    rm_rf(workdir);
    g_free(workdir);
    return ret;
}
