/* Recording files and pushes: the muxer (tessera/muxer.h) writes a Matroska file
 * that libavformat reads back with both streams and the right span; its faults
 * carry their causes (disk full from /dev/full, a missing directory, a refused
 * RTMP connect); the output (tessera/output.h) reports them as states. */
#include <tessera/muxer.h>
#include <tessera/output.h>
#include <tessera/video_encoder.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <libavformat/avformat.h>
#include <math.h>
#include <string.h>

#include "video_testutil.h"

#define W 160
#define H 96

static const uint8_t annexb_au[] = {
    0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xaa, /* SPS */
    0, 0, 1, 0x68, 0xce, 0x3c, 0x80,          /* PPS (3-byte start code) */
    0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00,       /* IDR slice */
};

static void test_parameter_sets(void)
{
    uint8_t out[64];
    size_t n = tsr_muxer_h264_parameter_sets(annexb_au, sizeof annexb_au, out, sizeof out);
    static const uint8_t want[] = {0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0xaa,
                                   0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80};
    g_assert_cmpuint(n, ==, sizeof want);
    g_assert_cmpmem(out, n, want, sizeof want);
    /* No PPS: nothing; too small an output: nothing; every truncation is safe. */
    g_assert_cmpuint(tsr_muxer_h264_parameter_sets(annexb_au, 9, out, sizeof out), ==, 0);
    g_assert_cmpuint(tsr_muxer_h264_parameter_sets(annexb_au, sizeof annexb_au, out, 10), ==, 0);
    for (size_t len = 0; len < sizeof annexb_au; len++)
        tsr_muxer_h264_parameter_sets(annexb_au, len, out, sizeof out);
}

struct frames {
    AVPacket *pkts[64];
    size_t n;
};

static void keep_packet(void *user, const AVPacket *pkt)
{
    struct frames *f = user;
    if (f->n < G_N_ELEMENTS(f->pkts))
        f->pkts[f->n++] = av_packet_clone(pkt);
}

/* n frames of H.264 at 25 fps, the first a keyframe with its SPS/PPS. */
static void encode_frames(struct frames *out, int n)
{
    struct tsr_video_encoder_params p = {.codec = TSR_VIDEO_CODEC_H264, .width = W, .height = H,
                                         .fps = 25, .bitrate_bps = 300000,
                                         .backend = TSR_ENCODER_BACKEND_SOFTWARE};
    struct tsr_video_encoder *enc = NULL;
    g_assert_cmpint(tsr_video_encoder_new(&enc, &p), ==, 0);
    AVFrame *f = vt_frame_new(AV_PIX_FMT_YUV420P, W, H);
    for (int i = 0; i < n; i++) {
        vt_fill_pattern(f, i);
        f->pts = (int64_t)i * 3600;
        g_assert_cmpint(tsr_video_encoder_encode(enc, f, keep_packet, out), ==, 0);
    }
    av_frame_free(&f);
    tsr_video_encoder_free(&enc);
    g_assert_cmpuint(out->n, ==, (size_t)n);
}

static int start_h264(struct tsr_muxer *m, const AVPacket *key)
{
    uint8_t headers[256];
    size_t n = tsr_muxer_h264_parameter_sets(key->data, (size_t)key->size, headers, sizeof headers);
    g_assert_cmpuint(n, >, 0);
    struct tsr_muxer_streams s = {.video_codec = TSR_VIDEO_CODEC_H264, .width = W, .height = H,
                                  .video_extradata = headers, .video_extradata_len = n,
                                  .audio_codec = TSR_MUXER_AUDIO_OPUS, .audio_channels = 1};
    return tsr_muxer_start(m, &s);
}

/* Writes 1 s of video and audio; returns the first error. */
static int write_second(struct tsr_muxer *m, struct frames *fr)
{
    static const uint8_t opus_silence[] = {0xf8, 0xff, 0xfe}; /* CELT 20 ms frame */
    for (size_t i = 0; i < fr->n; i++) {
        AVPacket *v = av_packet_clone(fr->pkts[i]);
        int rc = tsr_muxer_write(m, TSR_MUXER_VIDEO, v, (int64_t)i * 40000, 40000);
        av_packet_free(&v);
        for (int k = 0; rc == 0 && k < 2; k++) {
            AVPacket *a = av_packet_alloc();
            g_assert_cmpint(av_new_packet(a, sizeof opus_silence), ==, 0);
            memcpy(a->data, opus_silence, sizeof opus_silence);
            rc = tsr_muxer_write(m, TSR_MUXER_AUDIO, a, ((int64_t)i * 2 + k) * 20000, 20000);
            av_packet_free(&a);
        }
        if (rc)
            return rc;
    }
    return 0;
}

static void frames_free(struct frames *fr)
{
    for (size_t i = 0; i < fr->n; i++)
        av_packet_free(&fr->pkts[i]);
}

static void test_matroska_round_trip(void)
{
    struct frames fr = {.n = 0};
    encode_frames(&fr, 25);
    char *dir = g_dir_make_tmp("rec-test-XXXXXX", NULL);
    char *path = g_build_filename(dir, "a.mkv", NULL);
    struct tsr_muxer *m = NULL;
    g_assert_cmpint(tsr_muxer_open(&m, TSR_MUXER_MATROSKA, path, 0, NULL), ==, 0);
    g_assert_cmpint(start_h264(m, fr.pkts[0]), ==, 0);
    g_assert_cmpint(write_second(m, &fr), ==, 0);
    g_assert_cmpint(tsr_muxer_bytes(m), >, 100); /* the header; the cluster is still open */
    g_assert_cmpint(tsr_muxer_close(&m), ==, 0);
    GStatBuf st;
    g_assert_cmpint(g_stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_size, >, 25 * 1000);

    AVFormatContext *in = NULL;
    g_assert_cmpint(avformat_open_input(&in, path, NULL, NULL), ==, 0);
    g_assert_cmpint(avformat_find_stream_info(in, NULL), >=, 0);
    g_assert_cmpuint(in->nb_streams, ==, 2);
    g_assert_cmpint(in->streams[0]->codecpar->codec_id, ==, AV_CODEC_ID_H264);
    g_assert_cmpint(in->streams[0]->codecpar->width, ==, W);
    g_assert_cmpint(in->streams[1]->codecpar->codec_id, ==, AV_CODEC_ID_OPUS);
    g_assert_cmpint(llabs(in->duration - AV_TIME_BASE), <, AV_TIME_BASE / 10);
    int video = 0;
    AVPacket *pkt = av_packet_alloc();
    while (av_read_frame(in, pkt) == 0) {
        video += pkt->stream_index == 0;
        av_packet_unref(pkt);
    }
    g_assert_cmpint(video, ==, 25);
    av_packet_free(&pkt);
    avformat_close_input(&in);
    frames_free(&fr);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}

static void test_faults_named(void)
{
    char why[64];
    struct frames fr = {.n = 0};
    encode_frames(&fr, 25);
    /* Disk full: /dev/full takes the open and refuses every write with ENOSPC. */
    struct tsr_muxer *m = NULL;
    g_assert_cmpint(tsr_muxer_open(&m, TSR_MUXER_MATROSKA, "/dev/full", 0, NULL), ==, 0);
    int rc = start_h264(m, fr.pkts[0]);
    if (rc == 0)
        rc = write_second(m, &fr);
    g_assert_cmpint(rc, ==, AVERROR(ENOSPC));
    g_assert_cmpstr(tsr_muxer_reason(rc, why, sizeof why), ==, "disk full");
    g_assert_cmpstr(tsr_muxer_reason_label(rc), ==, "disk_full");
    tsr_muxer_close(&m);
    /* A directory that cannot exist (under a regular file). */
    rc = tsr_muxer_open(&m, TSR_MUXER_MATROSKA, "/dev/null/rec/a.mkv", 0, NULL);
    g_assert_cmpint(rc, ==, AVERROR(ENOTDIR));
    g_assert_cmpstr(tsr_muxer_reason(rc, why, sizeof why), ==, "no such directory");
    /* Nobody listens on port 1 of the loopback. */
    rc = tsr_muxer_open(&m, TSR_MUXER_FLV, "rtmp://127.0.0.1:1/live/x", 3000, NULL);
    g_assert_cmpint(rc, ==, AVERROR(ECONNREFUSED));
    g_assert_cmpstr(tsr_muxer_reason_label(rc), ==, "unreachable");
    frames_free(&fr);
}

struct states {
    GMutex lock;
    GCond changed;
    enum tsr_output_state seen[16];
    char detail[128];
    int n;
};

static void on_state(void *user, uint32_t id, enum tsr_output_state st, const char *detail)
{
    struct states *s = user;
    g_assert_cmpuint(id, ==, 7);
    g_mutex_lock(&s->lock);
    if (s->n < 16)
        s->seen[s->n++] = st;
    if (detail)
        g_strlcpy(s->detail, detail, sizeof s->detail);
    g_cond_signal(&s->changed);
    g_mutex_unlock(&s->lock);
}

static void wait_final(struct states *s)
{
    gint64 until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    g_mutex_lock(&s->lock);
    while ((s->n == 0 || s->seen[s->n - 1] < TSR_OUTPUT_STOPPED) &&
           g_cond_wait_until(&s->changed, &s->lock, until))
        ;
    g_mutex_unlock(&s->lock);
}

static struct tsr_output *output_to(const char *target, enum tsr_output_kind kind,
                                    struct states *s)
{
    struct tsr_output_params p = {.id = 7, .kind = kind, .target = target, .log_ctx = "test",
                                  .video_codec = TSR_VIDEO_CODEC_H264, .width = W, .height = H,
                                  .audio_channels = 1, .aac_bitrate_bps = 64000,
                                  .io_timeout_ms = 3000, .retry_min_ms = 100,
                                  .retry_max_ms = 200, .reconnect_timeout_ms = 500,
                                  .on_state = on_state, .user = s};
    struct tsr_output *o = NULL;
    g_assert_cmpint(tsr_output_new(&o, &p), ==, 0);
    return o;
}

static void test_output_states(void)
{
    struct frames fr = {.n = 0};
    encode_frames(&fr, 25);
    struct states s = {.n = 0};
    /* A recording on a full disk: starting, active, then failed with the cause. */
    struct tsr_output *o = output_to("/dev/full", TSR_OUTPUT_RECORDING, &s);
    for (size_t i = 0; i < fr.n && !tsr_output_finished(o); i++) {
        tsr_output_push_video(o, fr.pkts[i], (int64_t)i * 40000);
        g_usleep(20000);
    }
    wait_final(&s);
    g_assert_cmpint(s.n, ==, 3);
    g_assert_cmpint(s.seen[0], ==, TSR_OUTPUT_STARTING);
    g_assert_cmpint(s.seen[1], ==, TSR_OUTPUT_ACTIVE);
    g_assert_cmpint(s.seen[2], ==, TSR_OUTPUT_FAILED);
    g_assert_cmpstr(s.detail, ==, "disk full");
    g_assert_true(tsr_output_finished(o));
    tsr_output_close(o);
    tsr_output_unref(&o);
    /* A push nobody accepts fails at once. */
    s.n = 0;
    o = output_to("rtmp://127.0.0.1:1/live/x", TSR_OUTPUT_STREAM, &s);
    wait_final(&s);
    g_assert_cmpint(s.seen[s.n - 1], ==, TSR_OUTPUT_FAILED);
    g_assert_cmpstr(s.detail, ==, "connection refused");
    tsr_output_close(o);
    tsr_output_unref(&o);
    frames_free(&fr);
}

/* What a push writes, into a file instead of a socket: FLV with the first picture a
 * keyframe carrying H.264's parameter sets, every picture, and AAC from the PCM of
 * the mix, whose 300 ms without ticks (a mixer that fell behind) is filled so that
 * the audio still ends with the pictures. Pushes stay under the output's queue
 * limit, so nothing is dropped; the stop comes after all of them. */
static void test_flv_push(void)
{
    struct frames fr = {.n = 0};
    encode_frames(&fr, 25);
    char *dir = g_dir_make_tmp("push-test-XXXXXX", NULL);
    char *path = g_build_filename(dir, "push.flv", NULL);
    struct states s = {.n = 0};
    struct tsr_output *o = output_to(path, TSR_OUTPUT_STREAM, &s);
    static const uint8_t opus_silence[] = {0xf8, 0xff, 0xfe};
    int16_t pcm[960];
    for (size_t i = 0; i < fr.n; i++) {
        tsr_output_push_video(o, fr.pkts[i], (int64_t)i * 40000);
        for (int k = 0; k < 2; k++) {
            if (i * 2 + k >= 20 && i * 2 + k < 35)
                continue; /* the hole */
            for (int n = 0; n < 960; n++)
                pcm[n] = (int16_t)(8000 * sin(2 * G_PI * 1000 * ((i * 2 + k) * 960 + n) / 48000));
            tsr_output_push_audio(o, opus_silence, sizeof opus_silence, pcm, 960,
                                  ((int64_t)i * 2 + k) * 20000);
        }
    }
    tsr_output_stop(o);
    wait_final(&s);
    g_assert_cmpint(s.seen[s.n - 1], ==, TSR_OUTPUT_STOPPED);
    tsr_output_close(o);
    tsr_output_unref(&o);

    AVFormatContext *in = NULL;
    g_assert_cmpint(avformat_open_input(&in, path, NULL, NULL), ==, 0);
    g_assert_cmpint(avformat_find_stream_info(in, NULL), >=, 0);
    g_assert_cmpuint(in->nb_streams, ==, 2);
    g_assert_cmpint(in->streams[0]->codecpar->codec_id, ==, AV_CODEC_ID_H264);
    g_assert_cmpint(in->streams[0]->codecpar->width, ==, W);
    g_assert_cmpint(in->streams[1]->codecpar->codec_id, ==, AV_CODEC_ID_AAC);
    int video = 0, audio = 0, first_key = -1;
    int64_t audio_end_ms = 0;
    AVPacket *pkt = av_packet_alloc();
    while (av_read_frame(in, pkt) == 0) {
        if (pkt->stream_index == 0 && video++ == 0)
            first_key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
        if (pkt->stream_index == 1) {
            audio++;
            audio_end_ms = av_rescale_q(pkt->pts + pkt->duration, in->streams[1]->time_base,
                                        (AVRational){1, 1000});
        }
        av_packet_unref(pkt);
    }
    g_assert_cmpint(video, ==, 25);
    g_assert_cmpint(first_key, ==, 1);
    /* 1 s of 1024-sample frames, less what the encoder still holds at the end. */
    g_assert_cmpint(audio, >=, 40);
    g_assert_cmpint(audio_end_ms, >=, 900);
    av_packet_free(&pkt);
    avformat_close_input(&in);
    frames_free(&fr);
    g_unlink(path);
    g_rmdir(dir);
    g_free(path);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/output/h264_parameter_sets", test_parameter_sets);
    g_test_add_func("/output/matroska_round_trip", test_matroska_round_trip);
    g_test_add_func("/output/faults_named", test_faults_named);
    g_test_add_func("/output/states", test_output_states);
    g_test_add_func("/output/flv_push", test_flv_push);
    return g_test_run();
}
