/* Video decoder: VP8 and H.264 profiles, odd sizes, resolution changes, and the
 * corruption contract (no crash, last good frame kept, keyframe requested, nothing
 * shown until a clean keyframe). */
#include <tessera/err.h>
#include <tessera/metrics.h>
#include <tessera/video_decoder.h>

#include "video_testutil.h"

struct kf_counter {
    int requests;
};

static void on_kf(void *user)
{
    ((struct kf_counter *)user)->requests++;
}

static struct tsr_video_decoder *make_decoder(enum tsr_video_codec codec, struct kf_counter *kc)
{
    struct tsr_video_decoder_params p = {
        .codec = codec, .log_ctx = "test", .on_keyframe_request = on_kf, .user = kc};
    struct tsr_video_decoder *dec = NULL;
    g_assert_cmpint(tsr_video_decoder_new(&dec, &p), ==, 0);
    return dec;
}

static int decode_pkt(struct tsr_video_decoder *dec, const AVPacket *p)
{
    return tsr_video_decoder_decode(dec, p->data, (size_t)p->size, (uint32_t)p->pts,
                                    (p->flags & AV_PKT_FLAG_KEY) != 0);
}

/* Decode a stream and check every picture against the source pattern. */
static void check_stream(enum tsr_video_codec codec, const char *encoder, const char *profile,
                         int w, int h)
{
    struct kf_counter kc = {0};
    struct tsr_video_decoder *dec = make_decoder(codec, &kc);
    AVPacket **pkts = vt_encode_pattern(encoder, w, h, 4, profile, 0);
    AVFrame *ref = vt_frame_new(AV_PIX_FMT_YUV420P, w, h);
    for (int i = 0; pkts[i]; i++) {
        g_assert_cmpint(decode_pkt(dec, pkts[i]), ==, 0);
        AVFrame *f = NULL;
        uint64_t seq = 0;
        g_assert_cmpint(tsr_video_decoder_latest(dec, &f, &seq), ==, 0);
        g_assert_cmpuint(seq, ==, (uint64_t)i + 1);
        g_assert_cmpint(f->width, ==, w);
        g_assert_cmpint(f->height, ==, h);
        g_assert_cmpint(f->pts, ==, pkts[i]->pts);
        vt_fill_pattern(ref, i);
        double psnr = vt_psnr(f->data[0], f->linesize[0], ref->data[0], ref->linesize[0], w, h);
        g_assert_cmpfloat(psnr, >=, 28.0);
        av_frame_free(&f);
    }
    g_assert_cmpint(kc.requests, ==, 0);
    av_frame_free(&ref);
    vt_packets_free(pkts);
    tsr_video_decoder_free(&dec);
    g_assert_null(dec);
}

static void test_vp8_odd_size(void)
{
    check_stream(TSR_VIDEO_CODEC_VP8, "libvpx", NULL, 97, 55);
}

static void test_h264_profiles(void)
{
    check_stream(TSR_VIDEO_CODEC_H264, "libx264", "baseline", 96, 54);
    check_stream(TSR_VIDEO_CODEC_H264, "libx264", "main", 96, 54);
    check_stream(TSR_VIDEO_CODEC_H264, "libx264", "high", 128, 72);
}

static void test_h264_bframes(void)
{
    /* Reordered streams: the keyframe's picture comes out frames later; the frames in
     * between must be decoded (not skipped as "waiting for a keyframe"). */
    struct kf_counter kc = {0};
    struct tsr_video_decoder *dec = make_decoder(TSR_VIDEO_CODEC_H264, &kc);
    AVPacket **pkts = vt_encode_pattern("libx264", 128, 72, 12, "high+b", 0);
    int shown = 0;
    for (int i = 0; pkts[i]; i++) {
        int ret = decode_pkt(dec, pkts[i]);
        g_assert_true(ret == 0 || ret == TSR_ERR_AGAIN);
        shown += ret == 0;
    }
    g_assert_cmpint(shown, >=, 9); /* all but the reorder delay */
    g_assert_cmpint(kc.requests, ==, 0);
    struct tsr_video_decoder_stats st;
    tsr_video_decoder_get_stats(dec, &st);
    g_assert_cmpuint(st.errors, ==, 0);
    g_assert_cmpuint(st.frames_skipped, ==, 0);
    vt_packets_free(pkts);
    tsr_video_decoder_free(&dec);
}

static void test_resolution_change(void)
{
    struct kf_counter kc = {0};
    struct tsr_video_decoder *dec = make_decoder(TSR_VIDEO_CODEC_VP8, &kc);
    AVPacket **a = vt_encode_pattern("libvpx", 64, 48, 2, NULL, 0);
    AVPacket **b = vt_encode_pattern("libvpx", 81, 61, 2, NULL, 2);
    AVFrame *f = NULL;
    for (int i = 0; i < 2; i++)
        g_assert_cmpint(decode_pkt(dec, a[i]), ==, 0);
    g_assert_cmpint(tsr_video_decoder_latest(dec, &f, NULL), ==, 0);
    g_assert_cmpint(f->width, ==, 64);
    av_frame_free(&f);
    for (int i = 0; i < 2; i++)
        g_assert_cmpint(decode_pkt(dec, b[i]), ==, 0);
    g_assert_cmpint(tsr_video_decoder_latest(dec, &f, NULL), ==, 0);
    g_assert_cmpint(f->width, ==, 81);
    g_assert_cmpint(f->height, ==, 61);
    av_frame_free(&f);
    struct tsr_video_decoder_stats st;
    tsr_video_decoder_get_stats(dec, &st);
    g_assert_cmpuint(st.resolution_changes, ==, 1);
    g_assert_cmpuint(st.errors, ==, 0);
    vt_packets_free(a);
    vt_packets_free(b);
    tsr_video_decoder_free(&dec);
}

/* Snapshot of the published luma, to prove the last good frame stays. */
static guint8 *luma_copy(struct tsr_video_decoder *dec, uint64_t *seq)
{
    AVFrame *f = NULL;
    g_assert_cmpint(tsr_video_decoder_latest(dec, &f, seq), ==, 0);
    guint8 *copy = g_malloc((gsize)f->width * f->height);
    for (int y = 0; y < f->height; y++)
        memcpy(copy + y * f->width, f->data[0] + y * f->linesize[0], (size_t)f->width);
    av_frame_free(&f);
    return copy;
}

/* Feed a damaged frame after a good prefix; check the whole contract. */
static gboolean corruption_case(enum tsr_video_codec codec, const char *encoder, int w, int h,
                                gboolean truncate, guint32 seed)
{
    struct kf_counter kc = {0};
    struct tsr_video_decoder *dec = make_decoder(codec, &kc);
    AVPacket **pkts = vt_encode_pattern(encoder, w, h, 6, "baseline", 0);
    for (int i = 0; i < 2; i++)
        g_assert_cmpint(decode_pkt(dec, pkts[i]), ==, 0);
    uint64_t seq_before = 0;
    guint8 *before = luma_copy(dec, &seq_before);

    AVPacket *bad = pkts[2];
    guint8 *data = g_memdup2(bad->data, (gsize)bad->size);
    size_t len = (size_t)bad->size;
    GRand *rnd = g_rand_new_with_seed(seed);
    if (truncate) {
        /* VP8: cut inside the first partition (a cut inside the last DCT partition
         * is invisible in VP8's own syntax; the depacketizer only hands over
         * complete frames). H.264: cut the slice data. */
        if (codec == TSR_VIDEO_CODEC_VP8)
            len = 3 + ((size_t)(data[0] | data[1] << 8 | data[2] << 16) >> 5) / 2;
        else
            len = len / 3;
    } else {
        /* Flip bits across the whole frame, headers included. */
        for (int k = 0; k < 24; k++) {
            gint32 pos = g_rand_int_range(rnd, 0, (gint32)len);
            data[pos] ^= (guint8)(1u << g_rand_int_range(rnd, 0, 8));
        }
    }
    int ret = tsr_video_decoder_decode(dec, data, len, (uint32_t)bad->pts, false);
    uint64_t seq_now = tsr_video_decoder_seq(dec);
    if (ret < 0 && ret != TSR_ERR_AGAIN) {
        /* Detected: nothing new shown, last good picture intact, keyframe asked. */
        g_assert_cmpuint(seq_now, ==, seq_before);
        guint8 *after = luma_copy(dec, NULL);
        g_assert_cmpmem(before, (gsize)w * h, after, (gsize)w * h);
        g_free(after);
        g_assert_cmpint(kc.requests, ==, 1);
        g_assert_true(tsr_video_decoder_waiting_keyframe(dec));
        /* Delta frames after it are not shown (and not decoded). */
        for (int i = 3; i < 6; i++)
            g_assert_cmpint(decode_pkt(dec, pkts[i]), ==, TSR_ERR_AGAIN);
        g_assert_cmpuint(tsr_video_decoder_seq(dec), ==, seq_before);
        /* Only a clean keyframe resumes the picture. */
        AVPacket **kf = vt_encode_pattern(encoder, w, h, 1, "baseline", 9);
        g_assert_true(kf[0]->flags & AV_PKT_FLAG_KEY);
        g_assert_cmpint(decode_pkt(dec, kf[0]), ==, 0);
        g_assert_false(tsr_video_decoder_waiting_keyframe(dec));
        g_assert_cmpuint(tsr_video_decoder_seq(dec), ==, seq_before + 1);
        vt_packets_free(kf);
    }
    if (truncate)
        g_assert_cmpint(ret, <, 0); /* truncation is always detected */
    struct tsr_video_decoder_stats st;
    tsr_video_decoder_get_stats(dec, &st);
    g_assert_cmpuint(st.errors, ==, (ret < 0 && ret != TSR_ERR_AGAIN) ? 1 : 0);
    g_rand_free(rnd);
    g_free(data);
    g_free(before);
    vt_packets_free(pkts);
    tsr_video_decoder_free(&dec);
    return ret < 0 && ret != TSR_ERR_AGAIN;
}

static void test_truncated(void)
{
    corruption_case(TSR_VIDEO_CODEC_VP8, "libvpx", 160, 120, TRUE, 1);
    corruption_case(TSR_VIDEO_CODEC_H264, "libx264", 160, 120, TRUE, 1);
}

static void test_bit_flips(void)
{
    int detected_vp8 = 0, detected_h264 = 0;
    for (guint32 seed = 1; seed <= 12; seed++) {
        detected_vp8 += corruption_case(TSR_VIDEO_CODEC_VP8, "libvpx", 160, 120, FALSE, seed);
        detected_h264 += corruption_case(TSR_VIDEO_CODEC_H264, "libx264", 160, 120, FALSE, seed);
    }
    g_test_message("bit flips detected: vp8 %d/12, h264 %d/12", detected_vp8, detected_h264);
    /* Not every flip is visible in the syntax (a flipped coefficient is valid), but
     * the header and slice checks must catch a good share. */
    g_assert_cmpint(detected_vp8 + detected_h264, >=, 6);
}

static void test_start_waits_for_keyframe(void)
{
    struct kf_counter kc = {0};
    struct tsr_video_decoder *dec = make_decoder(TSR_VIDEO_CODEC_VP8, &kc);
    AVPacket **pkts = vt_encode_pattern("libvpx", 64, 48, 3, NULL, 0);
    /* Joining mid-stream: deltas first. One request, repeated only after 1 s. */
    g_assert_cmpint(decode_pkt(dec, pkts[1]), ==, TSR_ERR_AGAIN);
    g_assert_cmpint(decode_pkt(dec, pkts[2]), ==, TSR_ERR_AGAIN);
    g_assert_cmpint(kc.requests, ==, 1);
    g_assert_cmpint(tsr_video_decoder_decode(dec, pkts[2]->data, (size_t)pkts[2]->size,
                                             (uint32_t)pkts[2]->pts + 90000, false),
                    ==, TSR_ERR_AGAIN);
    g_assert_cmpint(kc.requests, ==, 2);
    AVFrame *f = NULL;
    g_assert_cmpint(tsr_video_decoder_latest(dec, &f, NULL), ==, TSR_ERR_AGAIN);
    g_assert_cmpint(decode_pkt(dec, pkts[0]), ==, 0);
    g_assert_cmpint(tsr_video_decoder_latest(dec, &f, NULL), ==, 0);
    av_frame_free(&f);
    /* Empty input is an error, not a crash. */
    g_assert_cmpint(tsr_video_decoder_decode(dec, NULL, 0, 0, true), ==, -EINVAL);
    g_assert_true(tsr_video_decoder_waiting_keyframe(dec));
    vt_packets_free(pkts);
    tsr_video_decoder_free(&dec);
}

static void test_garbage_keyframes(void)
{
    /* Random bytes flagged as keyframes: never published, never crash. */
    for (int c = 0; c < 2; c++) {
        struct kf_counter kc = {0};
        struct tsr_video_decoder *dec =
            make_decoder(c ? TSR_VIDEO_CODEC_H264 : TSR_VIDEO_CODEC_VP8, &kc);
        GRand *rnd = g_rand_new_with_seed(7);
        for (int i = 0; i < 200; i++) {
            guint8 buf[300];
            size_t len = (size_t)g_rand_int_range(rnd, 1, (gint32)sizeof buf);
            for (size_t k = 0; k < len; k++)
                buf[k] = (guint8)g_rand_int(rnd);
            if (c && len > 4) { /* an Annex B start code and an IDR NAL header */
                buf[0] = 0, buf[1] = 0, buf[2] = 1, buf[3] = 0x65;
            }
            tsr_video_decoder_decode(dec, buf, len, (uint32_t)i * 3000, true);
        }
        g_rand_free(rnd);
        tsr_video_decoder_free(&dec);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/video_decoder/vp8_odd_size", test_vp8_odd_size);
    g_test_add_func("/video_decoder/h264_profiles", test_h264_profiles);
    g_test_add_func("/video_decoder/h264_bframes", test_h264_bframes);
    g_test_add_func("/video_decoder/resolution_change", test_resolution_change);
    g_test_add_func("/video_decoder/truncated", test_truncated);
    g_test_add_func("/video_decoder/bit_flips", test_bit_flips);
    g_test_add_func("/video_decoder/start_waits_for_keyframe", test_start_waits_for_keyframe);
    g_test_add_func("/video_decoder/garbage_keyframes", test_garbage_keyframes);
    int ret = g_test_run();
    tsr_metrics_reset();
    return ret;
}
