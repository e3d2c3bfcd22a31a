/* Helpers shared by the video unit tests: synthetic pictures, a direct libavcodec
 * encoder to produce real bitstreams, PSNR. Header-only (static functions) so each
 * test stays one executable. */
#ifndef TSR_VIDEO_TESTUTIL_H
#define TSR_VIDEO_TESTUTIL_H

#include <glib.h>
#include <libavcodec/avcodec.h>
#include <libavutil/frame.h>
#include <libavutil/opt.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* A smooth moving pattern (sinusoids, period tens of pixels) plus a frame-dependent
 * offset, so consecutive frames differ and scaling errors stay measurable. */
static inline uint8_t vt_pattern_luma(int x, int y, int t)
{
    double v = 128.0 + 60.0 * sin((x + 3.0 * t) * 0.09) * cos((y - 2.0 * t) * 0.07) +
               20.0 * sin((x + y) * 0.03 + t * 0.2);
    return (uint8_t)(v < 16 ? 16 : v > 235 ? 235 : v);
}

static inline AVFrame *vt_frame_new(int fmt, int w, int h)
{
    AVFrame *f = av_frame_alloc();
    g_assert_nonnull(f);
    f->format = fmt;
    f->width = w;
    f->height = h;
    g_assert_cmpint(av_frame_get_buffer(f, 0), ==, 0);
    return f;
}

/* Fill a yuv420p/yuv422p/yuv444p/nv12 frame with the pattern at time t. */
static inline void vt_fill_pattern(AVFrame *f, int t)
{
    for (int y = 0; y < f->height; y++)
        for (int x = 0; x < f->width; x++)
            f->data[0][y * f->linesize[0] + x] = vt_pattern_luma(x, y, t);
    int cw = (f->width + 1) / 2, ch = (f->height + 1) / 2;
    if (f->format == AV_PIX_FMT_YUV444P) {
        cw = f->width;
        ch = f->height;
    } else if (f->format == AV_PIX_FMT_YUV422P) {
        ch = f->height;
    }
    if (f->format == AV_PIX_FMT_NV12) {
        for (int y = 0; y < ch; y++)
            for (int x = 0; x < cw; x++) {
                f->data[1][y * f->linesize[1] + 2 * x] =
                    (uint8_t)(128 + 40 * sin(x * 0.1 + t * 0.1));
                f->data[1][y * f->linesize[1] + 2 * x + 1] = (uint8_t)(128 + 40 * cos(y * 0.1));
            }
        return;
    }
    for (int y = 0; y < ch; y++)
        for (int x = 0; x < cw; x++) {
            f->data[1][y * f->linesize[1] + x] = (uint8_t)(128 + 40 * sin(x * 0.1 + t * 0.1));
            f->data[2][y * f->linesize[2] + x] = (uint8_t)(128 + 40 * cos(y * 0.1));
        }
}

static inline void vt_fill_solid(AVFrame *f, uint8_t yv, uint8_t uv, uint8_t vv)
{
    int cw = (f->width + 1) / 2, ch = (f->height + 1) / 2;
    if (f->format == AV_PIX_FMT_YUV444P) {
        cw = f->width;
        ch = f->height;
    } else if (f->format == AV_PIX_FMT_YUV422P) {
        ch = f->height;
    }
    for (int y = 0; y < f->height; y++)
        memset(f->data[0] + y * f->linesize[0], yv, (size_t)f->width);
    for (int y = 0; y < ch; y++) {
        if (f->format == AV_PIX_FMT_NV12) {
            for (int x = 0; x < cw; x++) {
                f->data[1][y * f->linesize[1] + 2 * x] = uv;
                f->data[1][y * f->linesize[1] + 2 * x + 1] = vv;
            }
        } else {
            memset(f->data[1] + y * f->linesize[1], uv, (size_t)cw);
            memset(f->data[2] + y * f->linesize[2], vv, (size_t)cw);
        }
    }
}

/* PSNR of two planes (w x h). */
static inline double vt_psnr(const uint8_t *a, int as, const uint8_t *b, int bs, int w, int h)
{
    double se = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double d = (double)a[y * as + x] - b[y * bs + x];
            se += d * d;
        }
    double mse = se / ((double)w * h);
    return mse <= 1e-10 ? 99.0 : 10.0 * log10(255.0 * 255.0 / mse);
}

/* Encode `n` pattern frames at w x h with libavcodec's `encoder_name`; returns
 * the packets (caller frees each with av_packet_free and the array with g_free). */
static inline AVPacket **vt_encode_pattern(const char *encoder_name, int w, int h, int n,
                                           const char *profile, int t0)
{
    const AVCodec *codec = avcodec_find_encoder_by_name(encoder_name);
    g_assert_nonnull(codec);
    AVCodecContext *c = avcodec_alloc_context3(codec);
    c->width = w;
    c->height = h;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = (AVRational){1, 90000};
    c->framerate = (AVRational){30, 1};
    c->bit_rate = 400000;
    c->gop_size = 1000;
    c->max_b_frames = 0;
    c->thread_count = 1;
    if (!strcmp(encoder_name, "libx264") && profile && !strcmp(profile, "high+b")) {
        /* What file encoders produce: B-frames, so the decoder reorders. */
        c->max_b_frames = 2;
        av_opt_set(c->priv_data, "preset", "fast", 0);
        av_opt_set(c->priv_data, "profile", "high", 0);
    } else if (!strcmp(encoder_name, "libx264")) {
        av_opt_set(c->priv_data, "preset", "ultrafast", 0);
        av_opt_set(c->priv_data, "tune", "zerolatency", 0);
        if (profile)
            av_opt_set(c->priv_data, "profile", profile, 0);
        if (profile && strcmp(profile, "baseline"))
            av_opt_set(c->priv_data, "x264-params", "cabac=1:8x8dct=1", 0);
    } else {
        av_opt_set(c->priv_data, "deadline", "realtime", 0);
        av_opt_set_int(c->priv_data, "lag-in-frames", 0, 0);
        av_opt_set_int(c->priv_data, "cpu-used", 8, 0);
    }
    g_assert_cmpint(avcodec_open2(c, codec, NULL), ==, 0);
    AVPacket **out = g_new0(AVPacket *, (gsize)n + 1);
    int got = 0;
    AVFrame *f = vt_frame_new(AV_PIX_FMT_YUV420P, w, h);
    for (int i = 0; i <= n && got < n; i++) {
        if (i < n) {
            vt_fill_pattern(f, t0 + i);
            f->pts = (int64_t)i * 3000;
            g_assert_cmpint(avcodec_send_frame(c, f), ==, 0);
        } else {
            avcodec_send_frame(c, NULL);
        }
        for (;;) {
            AVPacket *p = av_packet_alloc();
            int r = avcodec_receive_packet(c, p);
            if (r < 0) {
                av_packet_free(&p);
                break;
            }
            out[got++] = p;
        }
    }
    g_assert_cmpint(got, ==, n);
    av_frame_free(&f);
    avcodec_free_context(&c);
    return out;
}

static inline void vt_packets_free(AVPacket **pkts)
{
    for (int i = 0; pkts && pkts[i]; i++)
        av_packet_free(&pkts[i]);
    g_free(pkts);
}

#endif
