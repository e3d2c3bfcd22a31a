/* Encoder group: shared packets (no copies), merged and rate-limited keyframe
 * requests, late joiners, unsubscribe. */
#include <tessera/encoder_group.h>
#include <tessera/err.h>
#include <tessera/metrics.h>
#include <tessera/video_decoder.h>

#include <errno.h>

#include "video_testutil.h"

#define FRAME_US 33334

struct rx {
    int packets;
    int keyframes;
    int first_key_frame; /* frame index of the first keyframe seen, -1 none */
    const uint8_t *last_data;
    AVPacket *kept; /* a reference kept past the callback */
    int *frame_index;
    struct tsr_video_decoder *dec;
};

static void on_pkt(void *user, const AVPacket *pkt)
{
    struct rx *r = user;
    r->packets++;
    r->last_data = pkt->data;
    if (pkt->flags & AV_PKT_FLAG_KEY) {
        r->keyframes++;
        if (r->first_key_frame < 0)
            r->first_key_frame = *r->frame_index;
    }
    av_packet_free(&r->kept);
    r->kept = av_packet_alloc();
    g_assert_cmpint(av_packet_ref(r->kept, pkt), ==, 0);
    if (r->dec)
        tsr_video_decoder_decode(r->dec, pkt->data, (size_t)pkt->size, (uint32_t)pkt->pts,
                                 (pkt->flags & AV_PKT_FLAG_KEY) != 0);
}

static struct tsr_encoder_group *make_group(int64_t interval_ms)
{
    struct tsr_encoder_group_params p = {
        .key = {.codec = TSR_VIDEO_CODEC_H264, .width = 160, .height = 96, .tier = 0},
        .fps = 30,
        .bitrate_bps = 200000,
        .backend = TSR_ENCODER_BACKEND_SOFTWARE,
        .keyframe_min_interval_ms = interval_ms};
    struct tsr_encoder_group *g = NULL;
    g_assert_cmpint(tsr_encoder_group_new(&g, &p), ==, 0);
    return g;
}

static void encode_frame(struct tsr_encoder_group *g, AVFrame *f, int i)
{
    vt_fill_pattern(f, i);
    f->pts = (int64_t)i * 3000;
    g_assert_cmpint(tsr_encoder_group_encode(g, f, (int64_t)i * FRAME_US), ==, 0);
}

static void test_shared_packets(void)
{
    struct tsr_encoder_group *g = make_group(1000);
    int frame = 0;
    struct rx r[3];
    uint64_t id[3];
    for (int i = 0; i < 3; i++) {
        r[i] = (struct rx){.first_key_frame = -1, .frame_index = &frame};
        struct tsr_video_decoder_params dp = {.codec = TSR_VIDEO_CODEC_H264};
        g_assert_cmpint(tsr_video_decoder_new(&r[i].dec, &dp), ==, 0);
        g_assert_cmpint(tsr_encoder_group_subscribe(g, on_pkt, &r[i], &id[i]), ==, 0);
    }
    AVFrame *f = vt_frame_new(AV_PIX_FMT_YUV420P, 160, 96);
    for (; frame < 5; frame++) {
        encode_frame(g, f, frame);
        /* Every subscriber saw the same bytes at the same address, and the ref each
         * kept shares that buffer: one packet, no copies. */
        g_assert_true(r[0].last_data == r[1].last_data && r[1].last_data == r[2].last_data);
        g_assert_true(r[0].kept->buf->data == r[1].kept->buf->data);
        g_assert_cmpint(av_buffer_get_ref_count(r[0].kept->buf), >=, 3);
    }
    for (int i = 0; i < 3; i++) {
        g_assert_cmpint(r[i].packets, ==, 5);
        g_assert_cmpint(r[i].keyframes, ==, 1);
        g_assert_cmpuint(tsr_video_decoder_seq(r[i].dec), ==, 5);
    }
    /* Unsubscribed: no more packets. */
    g_assert_cmpint(tsr_encoder_group_unsubscribe(g, id[1]), ==, 0);
    g_assert_cmpint(tsr_encoder_group_unsubscribe(g, id[1]), ==, TSR_ERR_NOT_FOUND);
    g_assert_cmpint(tsr_encoder_group_request_keyframe(g, id[1], 0), ==, TSR_ERR_NOT_FOUND);
    encode_frame(g, f, frame++);
    g_assert_cmpint(r[1].packets, ==, 5);
    g_assert_cmpint(r[0].packets, ==, 6);
    struct tsr_encoder_group_stats st;
    tsr_encoder_group_get_stats(g, &st);
    g_assert_cmpuint(st.subscribers, ==, 2);
    g_assert_cmpuint(st.frames, ==, 6);
    g_assert_cmpuint(st.packets_delivered, ==, 5 * 3 + 2);
    for (int i = 0; i < 3; i++) {
        av_packet_free(&r[i].kept);
        tsr_video_decoder_free(&r[i].dec);
    }
    av_frame_free(&f);
    tsr_encoder_group_free(&g);
    g_assert_null(g);
}

static void test_keyframe_merge_and_limit(void)
{
    struct tsr_encoder_group *g = make_group(1000); /* 1 s window = 30 frames */
    int frame = 0;
    struct rx a = {.first_key_frame = -1, .frame_index = &frame};
    struct rx b = a;
    uint64_t ia, ib;
    g_assert_cmpint(tsr_encoder_group_subscribe(g, on_pkt, &a, &ia), ==, 0);
    g_assert_cmpint(tsr_encoder_group_subscribe(g, on_pkt, &b, &ib), ==, 0);
    AVFrame *f = vt_frame_new(AV_PIX_FMT_YUV420P, 160, 96);
    encode_frame(g, f, frame++); /* frame 0: the first keyframe */
    g_assert_cmpint(a.keyframes, ==, 1);
    /* Both ask, repeatedly, well inside the window: nothing until it ends, then
     * exactly one keyframe serves them all. */
    int key_frames_at[8], n_keys = 0;
    for (; frame < 100; frame++) {
        tsr_encoder_group_request_keyframe(g, ia, (int64_t)frame * FRAME_US);
        tsr_encoder_group_request_keyframe(g, ib, (int64_t)frame * FRAME_US);
        int before = a.keyframes;
        encode_frame(g, f, frame);
        if (a.keyframes > before && n_keys < 8)
            key_frames_at[n_keys++] = frame;
    }
    /* Requests on every frame for 3.3 s: keyframes only at 1 s spacing. */
    g_assert_cmpint(n_keys, ==, 3);
    g_assert_cmpint(key_frames_at[0], ==, 30);
    g_assert_cmpint(key_frames_at[1], ==, 60);
    g_assert_cmpint(key_frames_at[2], ==, 90);
    g_assert_cmpint(b.keyframes, ==, a.keyframes);
    struct tsr_encoder_group_stats st;
    tsr_encoder_group_get_stats(g, &st);
    g_assert_cmpuint(st.keyframe_requests, ==, 2 + 2 * 99);
    g_assert_cmpuint(st.keyframes_forced, ==, 4);
    /* The requests of frames 91..99 are still owed: served once at frame 120; then
     * with no new request, no keyframe (periodic ones are 10 s apart). */
    for (int end = frame + 60; frame < end; frame++)
        encode_frame(g, f, frame);
    g_assert_cmpint(a.keyframes, ==, 5);
    av_packet_free(&a.kept);
    av_packet_free(&b.kept);
    av_frame_free(&f);
    tsr_encoder_group_free(&g);
}

static void test_late_joiner(void)
{
    struct tsr_encoder_group *g = make_group(500);
    int frame = 0;
    struct rx a = {.first_key_frame = -1, .frame_index = &frame};
    struct rx late = a;
    uint64_t ia, il;
    g_assert_cmpint(tsr_encoder_group_subscribe(g, on_pkt, &a, &ia), ==, 0);
    AVFrame *f = vt_frame_new(AV_PIX_FMT_YUV420P, 160, 96);
    for (; frame < 5; frame++)
        encode_frame(g, f, frame);
    /* Joins 5 frames after a keyframe: a newcomer waits a quarter second since
     * that keyframe (frame 8 at 30 fps), not the whole 500 ms window of losses. */
    g_assert_cmpint(tsr_encoder_group_subscribe(g, on_pkt, &late, &il), ==, 0);
    for (; frame < 40; frame++)
        encode_frame(g, f, frame);
    g_assert_cmpint(late.first_key_frame, ==, 8);
    g_assert_cmpint(a.keyframes, ==, 2);
    av_packet_free(&a.kept);
    av_packet_free(&late.kept);
    av_frame_free(&f);
    tsr_encoder_group_free(&g);
}

static void test_keys(void)
{
    struct tsr_encoder_group_key a = {TSR_VIDEO_CODEC_H264, 1280, 720, 0, false};
    struct tsr_encoder_group_key b = a;
    g_assert_true(tsr_encoder_group_key_equal(&a, &b));
    b.tier = 1;
    g_assert_false(tsr_encoder_group_key_equal(&a, &b));
    b = a; /* packetization-mode 0 receivers never share mode 1's encoder */
    b.single_nal = true;
    g_assert_false(tsr_encoder_group_key_equal(&a, &b));
    b = a;
    b.width = 416;
    b.height = 234;
    g_assert_false(tsr_encoder_group_key_equal(&a, &b));
    b = a;
    b.codec = TSR_VIDEO_CODEC_VP8;
    g_assert_false(tsr_encoder_group_key_equal(&a, &b));
    struct tsr_encoder_group *g = NULL;
    struct tsr_encoder_group_params p = {.key = a, .fps = 30, .bitrate_bps = 1};
    g_assert_cmpint(tsr_encoder_group_new(&g, &p), ==, -EINVAL);
    g_assert_null(g);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/encoder_group/shared_packets", test_shared_packets);
    g_test_add_func("/encoder_group/keyframe_merge_and_limit", test_keyframe_merge_and_limit);
    g_test_add_func("/encoder_group/late_joiner", test_late_joiner);
    g_test_add_func("/encoder_group/keys", test_keys);
    int ret = g_test_run();
    tsr_metrics_reset();
    return ret;
}
