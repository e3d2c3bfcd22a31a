/* Video encoder: 1280x720 round trip (PSNR), forced keyframes, bitrate change while
 * running, VAAPI -> software fallback on a render node that does not exist, extra
 * software options. */
#include <tessera/err.h>
#include <tessera/hwdevice.h>
#include <tessera/metrics.h>
#include <tessera/rtp_codec.h>
#include <tessera/video_decoder.h>
#include <tessera/video_encoder.h>

#include <errno.h>

#include "video_testutil.h"

#define W 1280
#define H 720

struct sink {
    struct tsr_video_decoder *dec; /* may be NULL */
    int packets;
    int keyframes;
    bool last_key;
    int64_t bytes;
    int decode_failures;
};

static void on_packet(void *user, const AVPacket *pkt)
{
    struct sink *s = user;
    s->packets++;
    s->last_key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    s->keyframes += s->last_key;
    s->bytes += pkt->size;
    if (s->dec && tsr_video_decoder_decode(s->dec, pkt->data, (size_t)pkt->size, (uint32_t)pkt->pts,
                                           s->last_key) != 0)
        s->decode_failures++;
}

static struct tsr_video_encoder *make_encoder(enum tsr_video_codec codec, int w, int h, int64_t bps,
                                              enum tsr_encoder_backend backend, const char *device)
{
    struct tsr_video_encoder_params p = {.codec = codec,
                                         .width = w,
                                         .height = h,
                                         .fps = 30,
                                         .bitrate_bps = bps,
                                         .backend = backend,
                                         .vaapi_device = device,
                                         .log_ctx = "test"};
    struct tsr_video_encoder *enc = NULL;
    g_assert_cmpint(tsr_video_encoder_new(&enc, &p), ==, 0);
    return enc;
}

static struct tsr_video_decoder *make_decoder(enum tsr_video_codec codec)
{
    struct tsr_video_decoder_params dp = {.codec = codec};
    struct tsr_video_decoder *dec = NULL;
    g_assert_cmpint(tsr_video_decoder_new(&dec, &dp), ==, 0);
    return dec;
}

static void round_trip(enum tsr_video_codec codec, int pix_fmt)
{
    struct tsr_video_encoder *enc =
        make_encoder(codec, W, H, 2000000, TSR_ENCODER_BACKEND_SOFTWARE, NULL);
    g_assert_cmpint(tsr_video_encoder_backend(enc), ==, TSR_ENCODER_BACKEND_SOFTWARE);
    struct sink s = {.dec = make_decoder(codec)};
    AVFrame *f = vt_frame_new(pix_fmt, W, H);
    AVFrame *ref = vt_frame_new(AV_PIX_FMT_YUV420P, W, H);
    for (int i = 0; i < 4; i++) {
        vt_fill_pattern(f, i * 2);
        f->pts = (int64_t)i * 3000;
        g_assert_cmpint(tsr_video_encoder_encode(enc, f, on_packet, &s), ==, 0);
        g_assert_cmpint(s.packets, ==, i + 1); /* zero latency: one frame in, one out */
        g_assert_true(s.last_key == (i == 0));
        AVFrame *out = NULL;
        g_assert_cmpint(tsr_video_decoder_latest(s.dec, &out, NULL), ==, 0);
        vt_fill_pattern(ref, i * 2);
        double psnr = vt_psnr(out->data[0], out->linesize[0], ref->data[0], ref->linesize[0], W, H);
        g_test_message("%s frame %d: %.1f dB", tsr_video_codec_name(codec), i, psnr);
        g_assert_cmpfloat(psnr, >=, 30.0);
        g_assert_cmpint(out->pts, ==, f->pts);
        av_frame_free(&out);
    }
    g_assert_cmpint(s.decode_failures, ==, 0);
    struct tsr_video_encoder_stats st;
    tsr_video_encoder_get_stats(enc, &st);
    g_assert_cmpuint(st.frames, ==, 4);
    g_assert_cmpuint(st.keyframes, ==, 1);
    g_assert_cmpuint(st.bytes, ==, (uint64_t)s.bytes);
    g_assert_cmpint(st.last_encode_us, >, 0);
    g_assert_cmpint(st.total_encode_us, >=, st.last_encode_us);

    /* A forced keyframe is the very next frame, and only that one. */
    tsr_video_encoder_request_keyframe(enc);
    for (int i = 4; i < 6; i++) {
        vt_fill_pattern(f, i * 2);
        f->pts = (int64_t)i * 3000;
        g_assert_cmpint(tsr_video_encoder_encode(enc, f, on_packet, &s), ==, 0);
        g_assert_true(s.last_key == (i == 4));
    }
    av_frame_free(&f);
    av_frame_free(&ref);
    tsr_video_decoder_free(&s.dec);
    tsr_video_encoder_free(&enc);
    g_assert_null(enc);
}

static void test_round_trip_h264(void)
{
    round_trip(TSR_VIDEO_CODEC_H264, AV_PIX_FMT_YUV420P);
}

static void test_round_trip_vp8(void)
{
    round_trip(TSR_VIDEO_CODEC_VP8, AV_PIX_FMT_YUV420P);
}

static void test_round_trip_nv12_input(void)
{
    round_trip(TSR_VIDEO_CODEC_H264, AV_PIX_FMT_NV12);
}

/* Moving noise: costly to encode (so rate control, not content, sets the size) and
 * cheap to generate (a window sliding over one random buffer). */
static void fill_noise(AVFrame *f, const guint8 *noise, int noise_w, int t)
{
    for (int y = 0; y < f->height; y++)
        memcpy(f->data[0] + y * f->linesize[0], noise + (size_t)(y + t) * noise_w + t * 3,
               (size_t)f->width);
    for (int y = 0; y < f->height / 2; y++) {
        memset(f->data[1] + y * f->linesize[1], 128, (size_t)f->width / 2);
        memset(f->data[2] + y * f->linesize[2], 128, (size_t)f->width / 2);
    }
}

static void bitrate_change(enum tsr_video_codec codec)
{
    const int64_t first = 2000000, second = 800000;
    struct tsr_video_encoder *enc =
        make_encoder(codec, W, H, first, TSR_ENCODER_BACKEND_SOFTWARE, NULL);
    int noise_w = W + 400, noise_h = H + 200;
    guint8 *noise = g_malloc((gsize)noise_w * noise_h);
    GRand *rnd = g_rand_new_with_seed(5);
    /* Smooth-ish noise (4x4 blocks, mild amplitude): hard enough that the encoder
     * needs its budget, not so hard that a minimum quantizer caps it. */
    for (int y = 0; y < noise_h; y++)
        for (int x = 0; x < noise_w; x++)
            noise[(size_t)y * noise_w + x] =
                (y % 4 || x % 4) ? noise[(size_t)(y - y % 4) * noise_w + (x - x % 4)]
                                 : (guint8)(120 + g_rand_int_range(rnd, 0, 16));
    AVFrame *f = vt_frame_new(AV_PIX_FMT_YUV420P, W, H);
    struct sink s = {0};
    int frame = 0;
    for (; frame < 30; frame++) { /* 1 s at the first rate */
        fill_noise(f, noise, noise_w, frame % 60);
        f->pts = (int64_t)frame * 3000;
        g_assert_cmpint(tsr_video_encoder_encode(enc, f, on_packet, &s), ==, 0);
    }
    /* The first rate must show in the output, or the change proves nothing. */
    double first_bps = s.bytes * 8.0;
    g_test_message("%s: first second at %lld bit/s target: %.0f bit/s", tsr_video_codec_name(codec),
                   (long long)first, first_bps);
    g_assert_cmpfloat(first_bps, >=, second * 1.5);
    g_assert_cmpint(tsr_video_encoder_set_bitrate(enc, second), ==, 0);
    s.bytes = 0;
    for (int i = 0; i < 90; i++, frame++) { /* 3 s at the second */
        fill_noise(f, noise, noise_w, frame % 60);
        f->pts = (int64_t)frame * 3000;
        g_assert_cmpint(tsr_video_encoder_encode(enc, f, on_packet, &s), ==, 0);
    }
    double got_bps = s.bytes * 8.0 / 3.0;
    g_test_message("%s: target %lld bit/s, got %.0f bit/s", tsr_video_codec_name(codec),
                   (long long)second, got_bps);
    g_assert_cmpfloat(got_bps, >=, second * 0.7);
    g_assert_cmpfloat(got_bps, <=, second * 1.3);
    g_assert_cmpint(tsr_video_encoder_set_bitrate(enc, 10), ==, -EINVAL);
    g_rand_free(rnd);
    g_free(noise);
    av_frame_free(&f);
    tsr_video_encoder_free(&enc);
}

static void test_bitrate_change_h264(void)
{
    bitrate_change(TSR_VIDEO_CODEC_H264);
}

static void test_bitrate_change_vp8(void)
{
    bitrate_change(TSR_VIDEO_CODEC_VP8);
}

static void fallback_case(enum tsr_video_codec codec)
{
    char labels[64];
    snprintf(labels, sizeof labels, "codec=\"%s\"", tsr_video_codec_name(codec));
    struct tsr_counter *fb = tsr_metrics_counter("tessera_encoder_fallbacks_total", labels, "x");
    uint64_t before = tsr_counter_value(fb);
    struct tsr_video_encoder *enc = make_encoder(codec, 320, 240, 300000, TSR_ENCODER_BACKEND_VAAPI,
                                                 "/nonexistent/dri/renderD999");
    g_assert_cmpint(tsr_video_encoder_backend(enc), ==, TSR_ENCODER_BACKEND_SOFTWARE);
    g_assert_cmpint(tsr_video_encoder_pix_fmt(enc), ==, AV_PIX_FMT_YUV420P);
    g_assert_cmpuint(tsr_counter_value(fb), ==, before + 1);
    char *text = tsr_metrics_render();
    g_assert_nonnull(strstr(text, "tessera_encoder_fallbacks_total"));
    g_free(text);
    /* Encoding continues in software: packets decode, the first is a keyframe. */
    struct sink s = {.dec = make_decoder(codec)};
    AVFrame *f = vt_frame_new(AV_PIX_FMT_NV12, 320, 240); /* what VAAPI would have taken */
    for (int i = 0; i < 3; i++) {
        vt_fill_pattern(f, i);
        f->pts = (int64_t)i * 3000;
        g_assert_cmpint(tsr_video_encoder_encode(enc, f, on_packet, &s), ==, 0);
        g_assert_true(s.last_key == (i == 0));
    }
    g_assert_cmpint(s.decode_failures, ==, 0);
    g_assert_cmpuint(tsr_video_decoder_seq(s.dec), ==, 3);
    struct tsr_video_encoder_stats st;
    tsr_video_encoder_get_stats(enc, &st);
    g_assert_cmpuint(st.fallbacks, ==, 1);
    av_frame_free(&f);
    tsr_video_decoder_free(&s.dec);
    tsr_video_encoder_free(&enc);

    /* auto without a usable node: software from the start, not a fallback. */
    enc = make_encoder(codec, 320, 240, 300000, TSR_ENCODER_BACKEND_AUTO,
                       "/nonexistent/dri/renderD999");
    g_assert_cmpint(tsr_video_encoder_backend(enc), ==, TSR_ENCODER_BACKEND_SOFTWARE);
    g_assert_cmpuint(tsr_counter_value(fb), ==, before + 1);
    tsr_video_encoder_free(&enc);
    g_assert_false(tsr_video_encoder_probe_vaapi("/nonexistent/dri/renderD999", codec));
}

static void test_vaapi_fallback(void)
{
    fallback_case(TSR_VIDEO_CODEC_H264);
    fallback_case(TSR_VIDEO_CODEC_VP8);
}

/* Options over the defaults: taken (the stream still decodes), copied (a VP8 bitrate
 * change reopens the encoder after the caller's string is gone), and an unknown key
 * refuses the encoder instead of being ignored. */
static void test_sw_options(void)
{
    char *opts = g_strdup("cpu-used=-16:static-thresh=200");
    struct tsr_video_encoder_params p = {.codec = TSR_VIDEO_CODEC_VP8,
                                         .width = 320,
                                         .height = 240,
                                         .fps = 30,
                                         .bitrate_bps = 300000,
                                         .backend = TSR_ENCODER_BACKEND_SOFTWARE,
                                         .sw_options = opts};
    struct tsr_video_encoder *enc = NULL;
    g_assert_cmpint(tsr_video_encoder_new(&enc, &p), ==, 0);
    g_free(opts);
    struct sink s = {.dec = make_decoder(TSR_VIDEO_CODEC_VP8)};
    AVFrame *f = vt_frame_new(AV_PIX_FMT_YUV420P, 320, 240);
    for (int i = 0; i < 4; i++) {
        if (i == 2)
            g_assert_cmpint(tsr_video_encoder_set_bitrate(enc, 200000), ==, 0);
        vt_fill_pattern(f, i);
        f->pts = (int64_t)i * 3000;
        g_assert_cmpint(tsr_video_encoder_encode(enc, f, on_packet, &s), ==, 0);
    }
    g_assert_cmpint(s.packets, ==, 4);
    g_assert_cmpint(s.decode_failures, ==, 0);
    tsr_video_encoder_free(&enc);
    tsr_video_decoder_free(&s.dec);
    av_frame_free(&f);
    p.sw_options = "cpu-used=-16:no-such-option=1";
    g_assert_cmpint(tsr_video_encoder_new(&enc, &p), ==, -EINVAL);
    g_assert_null(enc);
    p.codec = TSR_VIDEO_CODEC_H264;
    p.sw_options = "preset=veryfast";
    g_assert_cmpint(tsr_video_encoder_new(&enc, &p), ==, 0);
    tsr_video_encoder_free(&enc);
}

static void test_invalid(void)
{
    struct tsr_video_encoder *enc = NULL;
    struct tsr_video_encoder_params p = {.codec = TSR_VIDEO_CODEC_H264,
                                         .width = 321,
                                         .height = 240,
                                         .fps = 30,
                                         .bitrate_bps = 300000};
    g_assert_cmpint(tsr_video_encoder_new(&enc, &p), ==, -EINVAL);
    p.width = 320;
    p.bitrate_bps = 10;
    g_assert_cmpint(tsr_video_encoder_new(&enc, &p), ==, -EINVAL);
    g_assert_null(enc);
    p.bitrate_bps = 300000;
    g_assert_cmpint(tsr_video_encoder_new(&enc, &p), ==, 0);
    AVFrame *wrong = vt_frame_new(AV_PIX_FMT_YUV420P, 160, 120);
    g_assert_cmpint(tsr_video_encoder_encode(enc, wrong, NULL, NULL), ==, -EINVAL);
    av_frame_free(&wrong);
    tsr_video_encoder_free(&enc);
    enum tsr_encoder_backend b;
    g_assert_cmpint(tsr_encoder_backend_parse("VAAPI", &b), ==, 0);
    g_assert_cmpint(b, ==, TSR_ENCODER_BACKEND_VAAPI);
    g_assert_cmpint(tsr_encoder_backend_parse("gpu", &b), ==, TSR_ERR_INVALID);
}

/* RFC 6184 packetization-mode 0: packetized one NAL unit per packet (never STAP-A
 * or FU-A), each within the packet, and received through the ordinary H.264
 * depacketizer into pictures that decode at full size. */
struct single_sink {
    struct tsr_rtp_packetizer *pz;
    struct tsr_rtp_depacketizer *depay;
    struct sink dec;
    size_t payloads, max_payload;
    int frames;
};

static void on_single_packet(void *user, const AVPacket *pkt)
{
    struct single_sink *s = user;
    struct tsr_rtp_packetized *pk = NULL;
    g_assert_cmpint(
        tsr_rtp_packetizer_run(s->pz, pkt->data, (size_t)pkt->size, 0, pkt->pts, false, &pk), ==,
        0);
    size_t n = tsr_rtp_packetized_count(pk);
    const uint8_t *data[512];
    size_t lens[512];
    g_assert_cmpuint(n, <=, G_N_ELEMENTS(data));
    for (size_t i = 0; i < n; i++) {
        bool marker;
        g_assert_cmpint(tsr_rtp_packetized_get(pk, i, &data[i], &lens[i], &marker), ==, 0);
        unsigned type = data[i][0] & 0x1f;
        g_assert_cmpuint(type, >=, 1);
        g_assert_cmpuint(type, <=, 23); /* no STAP-A (24), no FU-A (28) */
        g_assert_cmpuint(lens[i], <=, TSR_RTP_DEFAULT_MTU_BYTES - TSR_RTP_PACKET_OVERHEAD_BYTES);
        s->max_payload = MAX(s->max_payload, lens[i]);
    }
    s->payloads += n;
    GBytes *frame = NULL;
    struct tsr_rtp_frame_info info;
    g_assert_cmpint(tsr_rtp_depacketizer_run(s->depay, data, lens, n, &frame, &info), ==, 0);
    gsize flen;
    const uint8_t *fdata = g_bytes_get_data(frame, &flen);
    if (tsr_video_decoder_decode(s->dec.dec, fdata, flen, (uint32_t)pkt->pts, info.keyframe) != 0)
        s->dec.decode_failures++;
    g_bytes_unref(frame);
    tsr_rtp_packetized_unref(&pk);
    s->frames++;
}

static void test_single_nal(void)
{
    struct tsr_video_encoder_params p = {.codec = TSR_VIDEO_CODEC_H264,
                                         .width = W,
                                         .height = H,
                                         .fps = 30,
                                         .bitrate_bps = 2000000,
                                         .backend = TSR_ENCODER_BACKEND_AUTO,
                                         .max_nal_bytes = 1100,
                                         .log_ctx = "test"};
    struct tsr_video_encoder *enc = NULL;
    g_assert_cmpint(tsr_video_encoder_new(&enc, &p), ==, 0);
    /* The VAAPI encoders cannot bound NAL units: a limit means software. */
    g_assert_cmpint(tsr_video_encoder_backend(enc), ==, TSR_ENCODER_BACKEND_SOFTWARE);
    struct single_sink s = {.dec.dec = make_decoder(TSR_VIDEO_CODEC_H264)};
    g_assert_cmpint(tsr_rtp_packetizer_new(&s.pz, &tsr_rtp_codec_h264_single), ==, 0);
    g_assert_cmpint(tsr_rtp_depacketizer_new(&s.depay, &tsr_rtp_codec_h264), ==, 0);
    AVFrame *f = vt_frame_new(AV_PIX_FMT_YUV420P, W, H);
    for (int i = 0; i < 3; i++) {
        vt_fill_pattern(f, i * 2);
        f->pts = (int64_t)i * 3000;
        g_assert_cmpint(tsr_video_encoder_encode(enc, f, on_single_packet, &s), ==, 0);
    }
    g_assert_cmpint(s.frames, ==, 3);
    g_assert_cmpuint(s.payloads, >, 20); /* a 720p keyframe is tens of slices */
    g_test_message("%zu single NAL packets, the largest %zu bytes", s.payloads, s.max_payload);
    AVFrame *out = NULL;
    g_assert_cmpint(tsr_video_decoder_latest(s.dec.dec, &out, NULL), ==, 0);
    g_assert_cmpint(out->width, ==, W);
    g_assert_cmpint(out->height, ==, H);
    g_assert_cmpint(s.dec.decode_failures, ==, 0);
    AVFrame *ref = vt_frame_new(AV_PIX_FMT_YUV420P, W, H);
    vt_fill_pattern(ref, 4);
    g_assert_cmpfloat(vt_psnr(out->data[0], out->linesize[0], ref->data[0], ref->linesize[0], W, H),
                      >=, 30.0);
    av_frame_free(&ref);
    av_frame_free(&out);
    av_frame_free(&f);
    tsr_rtp_packetizer_free(&s.pz);
    tsr_rtp_depacketizer_free(&s.depay);
    tsr_video_decoder_free(&s.dec.dec);
    tsr_video_encoder_free(&enc);
    /* A limit too small for any slice header is refused. */
    p.max_nal_bytes = 100;
    g_assert_cmpint(tsr_video_encoder_new(&enc, &p), ==, -EINVAL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/video_encoder/round_trip_h264", test_round_trip_h264);
    g_test_add_func("/video_encoder/round_trip_vp8", test_round_trip_vp8);
    g_test_add_func("/video_encoder/round_trip_nv12_input", test_round_trip_nv12_input);
    g_test_add_func("/video_encoder/bitrate_change_h264", test_bitrate_change_h264);
    g_test_add_func("/video_encoder/bitrate_change_vp8", test_bitrate_change_vp8);
    g_test_add_func("/video_encoder/vaapi_fallback", test_vaapi_fallback);
    g_test_add_func("/video_encoder/sw_options", test_sw_options);
    g_test_add_func("/video_encoder/invalid", test_invalid);
    g_test_add_func("/video_encoder/single_nal", test_single_nal);
    int ret = g_test_run();
    tsr_hwdevice_release_all();
    tsr_metrics_reset();
    return ret;
}
