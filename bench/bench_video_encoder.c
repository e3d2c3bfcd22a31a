/* Software encoder settings for the composite: what each option set costs per
 * 1280x720 frame and what it gives (bitrate reached, PSNR of the decoded picture),
 * measured side by side in one run through the server's own encoder
 * (tsr_video_encoder, software backend, 1.5 Mb/s, 30 fps, one thread) with
 * tsr_video_encoder_params.sw_options laid over the defaults.
 *
 * Input: a talking-heads personal view of a 4-party room, composed by the server's
 * compositor: three 320x240 cameras in a 2x2 grid, each a still textured room with
 * a head that sways a few pixels per frame, plus sensor noise (flat colours would
 * flatter every encoder). Each frame is composed once and encoded by every
 * variant in turn (interleaved, so noise on the shared machine hits all alike).
 * Time is the thread CPU time of the encode calls, less the decode + PSNR check
 * their packet callback runs.
 *
 * Usage: bench_video_encoder OUT_DIR [FRAMES]  (writes OUT_DIR/video_encoder.csv) */
#include <tessera/compositor.h>
#include <tessera/layout.h>
#include <tessera/video_encoder.h>

#include <glib.h>
#include <libavcodec/avcodec.h>
#include <libavutil/log.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define W 1280
#define H 720
#define CAM_W 320
#define CAM_H 240
#define CAMS 3

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static AVFrame *frame_new(int w, int h)
{
    AVFrame *f = av_frame_alloc();
    if (!f)
        abort();
    f->format = AV_PIX_FMT_YUV420P;
    f->width = w;
    f->height = h;
    if (av_frame_get_buffer(f, 0) < 0)
        abort();
    return f;
}

/* Camera `who` at frame t: the room is fixed, the head (an ellipse) sways, the
 * sensor adds a little noise everywhere. */
static void camera(AVFrame *f, int who, int t, GRand *rng)
{
    double hx = CAM_W / 2 + 10 * sin(t * 0.15 + who), hy = CAM_H / 2 + 4 * sin(t * 0.1);
    for (int y = 0; y < CAM_H; y++)
        for (int x = 0; x < CAM_W; x++) {
            double dx = (x - hx) / 60.0, dy = (y - hy) / 80.0;
            bool head = dx * dx + dy * dy < 1.0;
            int v = head ? 150 + (int)(20 * sin(x * 0.3) * cos(y * 0.25))
                         : 60 + who * 30 + (x / 16 + y / 16) % 2 * 25 + (x * y) % 7;
            v += g_rand_int_range(rng, -3, 4);
            f->data[0][y * f->linesize[0] + x] = (uint8_t)CLAMP(v, 16, 235);
        }
    for (int y = 0; y < CAM_H / 2; y++)
        for (int x = 0; x < CAM_W / 2; x++) {
            double dx = (2 * x - hx) / 60.0, dy = (2 * y - hy) / 80.0;
            bool head = dx * dx + dy * dy < 1.0;
            f->data[1][y * f->linesize[1] + x] = (uint8_t)(head ? 110 : 100 + who * 20);
            f->data[2][y * f->linesize[2] + x] = (uint8_t)(head ? 150 : 140 - who * 15);
        }
}

struct variant {
    enum tsr_video_codec codec;
    int64_t bitrate_bps;
    const char *options; /* over the server's defaults; "" = the defaults */
    const char *note;
};

/* 1.5 Mb/s is the configured rate, 500 kb/s the low tier (a third) for weak links. */
static const struct variant variants[] = {
    {TSR_VIDEO_CODEC_VP8, 1500000, "", "server default (cpu-used -16, libvpx's fastest)"},
    {TSR_VIDEO_CODEC_VP8, 1500000, "cpu-used=-4", "slower, for reference"},
    {TSR_VIDEO_CODEC_VP8, 1500000, "cpu-used=-8", "the default until 2026-12"},
    {TSR_VIDEO_CODEC_VP8, 1500000, "cpu-used=-12", ""},
    {TSR_VIDEO_CODEC_VP8, 500000, "", "low tier, server default"},
    {TSR_VIDEO_CODEC_VP8, 500000, "cpu-used=-8", "low tier, the default until 2026-12"},
    {TSR_VIDEO_CODEC_H264, 1500000, "", "server default (ultrafast, zerolatency)"},
    {TSR_VIDEO_CODEC_H264, 1500000, "preset=superfast", "slower, for reference"},
    {TSR_VIDEO_CODEC_H264, 500000, "", "low tier, server default"},
};

#define N_VARIANTS (sizeof variants / sizeof variants[0])

static AVCodecContext *decoder_new(enum tsr_video_codec codec)
{
    const AVCodec *dec =
        avcodec_find_decoder(codec == TSR_VIDEO_CODEC_H264 ? AV_CODEC_ID_H264 : AV_CODEC_ID_VP8);
    AVCodecContext *d = dec ? avcodec_alloc_context3(dec) : NULL;
    if (!d)
        abort();
    d->flags |= AV_CODEC_FLAG_LOW_DELAY;
    d->thread_count = 1;
    if (avcodec_open2(d, dec, NULL) < 0)
        abort();
    return d;
}

/* One variant's encoder and what it produced. */
struct lane {
    struct tsr_video_encoder *enc;
    AVCodecContext *dec;
    AVFrame *out;
    const AVFrame *in;
    int64_t bytes;
    double sse;
    int64_t samples;
    double encode_ms;
    double check_ms; /* decode + PSNR, inside the encode call: not the encoder's */
};

static void on_packet(void *user, const AVPacket *pkt)
{
    struct lane *l = user;
    double t0 = now_ms();
    l->bytes += pkt->size;
    if (avcodec_send_packet(l->dec, pkt) < 0)
        return;
    while (avcodec_receive_frame(l->dec, l->out) == 0) {
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int d = l->out->data[0][y * l->out->linesize[0] + x] -
                        l->in->data[0][y * l->in->linesize[0] + x];
                l->sse += d * d;
            }
        l->samples += W * H;
        av_frame_unref(l->out);
    }
    l->check_ms += now_ms() - t0;
}

static void lane_open(struct lane *l, const struct variant *v)
{
    struct tsr_video_encoder_params ep = {.codec = v->codec,
                                          .width = W,
                                          .height = H,
                                          .fps = 30,
                                          .bitrate_bps = v->bitrate_bps,
                                          .backend = TSR_ENCODER_BACKEND_SOFTWARE,
                                          .sw_options = v->options};
    if (tsr_video_encoder_new(&l->enc, &ep) < 0) {
        fprintf(stderr, "bench_video_encoder: options \"%s\" refused\n", v->options);
        exit(1);
    }
    l->dec = decoder_new(v->codec);
    l->out = av_frame_alloc();
}

static void lane_close(struct lane *l)
{
    tsr_video_encoder_free(&l->enc);
    avcodec_free_context(&l->dec);
    av_frame_free(&l->out);
}

/* Every frame goes through every variant in turn, so noise on this shared machine
 * spreads over all of them alike. */
static void run(struct lane *lanes, int frames)
{
    struct tsr_compositor_params cp = {.width = W, .height = H, .background_rgb = 0x202020};
    struct tsr_compositor *comp = NULL;
    struct tsr_layout_params lp = {
        .kind = TSR_LAYOUT_GRID, .canvas_w = W, .canvas_h = H, .gap_px = 4};
    struct tsr_layout_tile tiles[TSR_LAYOUT_MAX_TILES];
    size_t n = 0;
    uint32_t ids[CAMS] = {1, 2, 3};
    if (tsr_compositor_new(&comp, &cp) < 0 ||
        tsr_layout_compute(&lp, ids, CAMS, NULL, 0, tiles, &n) < 0)
        abort();
    AVFrame *cams[CAMS];
    for (int i = 0; i < CAMS; i++)
        cams[i] = frame_new(CAM_W, CAM_H);
    GRand *rng = g_rand_new_with_seed(42);
    for (int t = 0; t < frames; t++) {
        struct tsr_compositor_source src[CAMS];
        for (int i = 0; i < CAMS; i++) {
            camera(cams[i], i, t, rng);
            src[i] = (struct tsr_compositor_source){.frame = cams[i], .changed = true};
        }
        AVFrame *canvas = NULL;
        if (tsr_compositor_render(comp, tiles, src, n, &canvas) < 0)
            abort();
        canvas->pts = (int64_t)t * 3000;
        for (size_t v = 0; v < N_VARIANTS; v++) {
            struct lane *l = &lanes[(v + (size_t)t) % N_VARIANTS]; /* rotate who goes first */
            l->in = canvas;
            double t0 = now_ms();
            if (tsr_video_encoder_encode(l->enc, canvas, on_packet, l) < 0)
                abort();
            l->encode_ms += now_ms() - t0;
        }
        av_frame_free(&canvas);
    }
    g_rand_free(rng);
    for (int i = 0; i < CAMS; i++)
        av_frame_free(&cams[i]);
    tsr_compositor_free(&comp);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    int frames = argc > 2 ? atoi(argv[2]) : 150;
    frames = frames < 10 ? 10 : frames;
    char *csv_path = g_build_filename(dir, "video_encoder.csv", NULL);
    FILE *csv = fopen(csv_path, "w");
    if (!csv) {
        fprintf(stderr, "bench_video_encoder: cannot write %s\n", csv_path);
        return 1;
    }
    av_log_set_level(AV_LOG_ERROR);
    printf("software encoders, 1280x720 talking-heads composite, %d frames "
           "(encoder CPU ms per frame)\n",
           frames);
    printf("%-5s %6s %-18s %9s %8s %8s %7s  %s\n", "codec", "target", "options", "ms/frame", "kb/s",
           "PSNR-Y", "ratio", "note");
    fprintf(csv, "codec,target_kbps,options,ms_per_frame,kbps,psnr_y_db,ratio_vs_default\n");
    struct lane lanes[N_VARIANTS] = {{0}};
    for (size_t i = 0; i < N_VARIANTS; i++)
        lane_open(&lanes[i], &variants[i]);
    run(lanes, frames);
    double base = 0;
    for (size_t i = 0; i < N_VARIANTS; i++) {
        const struct variant *v = &variants[i];
        const struct lane *l = &lanes[i];
        double ms = (l->encode_ms - l->check_ms) / frames;
        double kbps = (double)l->bytes * 8 * 30 / frames / 1000;
        double psnr =
            l->samples ? 10 * log10(255.0 * 255.0 * (double)l->samples / (l->sse > 0 ? l->sse : 1))
                       : 0;
        if (!*v->options) /* ratio: against the default of that codec and rate */
            base = ms;
        const char *codec = v->codec == TSR_VIDEO_CODEC_H264 ? "h264" : "vp8";
        int target = (int)(v->bitrate_bps / 1000);
        printf("%-5s %6d %-18s %9.2f %8.0f %8.2f %7.2f  %s\n", codec, target,
               *v->options ? v->options : "-", ms, kbps, psnr, ms / base, v->note);
        fprintf(csv, "%s,%d,%s,%.3f,%.1f,%.3f,%.3f\n", codec, target, v->options, ms, kbps, psnr,
                ms / base);
        lane_close(&lanes[i]);
    }
    fclose(csv);
    g_free(csv_path);
    return 0;
}
