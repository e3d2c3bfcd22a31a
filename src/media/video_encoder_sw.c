/* Software encoders through libavcodec: libx264 (H.264) and libvpx (VP8).
 *
 * Real-time settings. H.264: constrained baseline (what every WebRTC browser
 * decodes), ultrafast + zerolatency (no lookahead, no B-frames, one packet per frame
 * at once; on a 2-core MCU CPU is the budget), VBV max rate = target with a half
 * second buffer so a keyframe cannot burst far above the link rate, SPS/PPS in band
 * before every IDR. VP8: realtime deadline, no lag, CBR with a half second buffer,
 * keyframes capped at 3x an average frame, libvpx's fastest fixed speed (cpu-used
 * -16): on a 720p talking-heads composite (bench/bench_video_encoder.c) it costs
 * 0.71x the CPU of -8 at 1.5 Mb/s for 0.2 dB less PSNR-Y (41.9 dB), and 0.78x at
 * the 500 kb/s tier for 0.8 dB less (40.3 dB); VP8 is the default output codec and
 * was 2x the CPU of x264 ultrafast there. x264 is already at its floor (ultrafast
 * + zerolatency; superfast costs 1.3x for +0.6 dB). */
#include <tessera/err.h>
#include <tessera/log.h>

#include <errno.h>
#include <libavutil/opt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "video_encoder_backend.h"

struct sw_state {
    AVCodecContext *avctx;
    AVPacket *pkt;
    AVFrame *work; /* shallow ref of the input, to set pict_type without touching it */
};

int tsr_encoder_backend_send_receive(AVCodecContext *avctx, AVPacket *pkt, const AVFrame *frame,
                                     tsr_video_encoder_packet_fn cb, void *user)
{
    int ret = avcodec_send_frame(avctx, frame);
    if (ret < 0)
        return TSR_ERR_CODEC;
    for (;;) {
        ret = avcodec_receive_packet(avctx, pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return 0;
        if (ret < 0)
            return TSR_ERR_CODEC;
        if (cb)
            cb(user, pkt);
        av_packet_unref(pkt);
    }
}

static void set_rate(AVCodecContext *c, int64_t bps)
{
    c->bit_rate = bps;
    c->rc_max_rate = bps;
    c->rc_buffer_size = (int)(bps / 2);
}

static int configure(AVCodecContext *c, const struct tsr_video_encoder_params *p)
{
    c->width = p->width;
    c->height = p->height;
    c->pix_fmt = AV_PIX_FMT_YUV420P;
    c->time_base = (AVRational){1, 90000};
    c->framerate = (AVRational){p->fps, 1};
    c->gop_size = p->keyint_frames > 0 ? p->keyint_frames : 10 * p->fps;
    c->max_b_frames = 0;
    c->thread_count = p->threads > 0 ? p->threads : 1;
    set_rate(c, p->bitrate_bps);
    if (p->codec == TSR_VIDEO_CODEC_H264) {
        /* slice-max-size: x264 ends a slice before its NAL unit (header and
         * emulation prevention included) passes the limit. */
        char params[96] = "repeat-headers=1:annexb=1:sliced-threads=1";
        if (p->max_nal_bytes > 0)
            snprintf(params + strlen(params), sizeof params - strlen(params), ":slice-max-size=%d",
                     p->max_nal_bytes);
        c->profile = FF_PROFILE_H264_CONSTRAINED_BASELINE;
        if (av_opt_set(c->priv_data, "preset", "ultrafast", 0) < 0 ||
            av_opt_set(c->priv_data, "tune", "zerolatency", 0) < 0 ||
            av_opt_set(c->priv_data, "profile", "baseline", 0) < 0 ||
            av_opt_set_int(c->priv_data, "forced-idr", 1, 0) < 0 ||
            av_opt_set(c->priv_data, "x264-params", params, 0) < 0)
            return TSR_ERR_CODEC;
        return 0;
    }
    /* VP8 CBR: libavcodec picks VPX_CBR when min = max = target. */
    c->rc_min_rate = p->bitrate_bps;
    c->qmin = 4;
    c->qmax = 56;
    if (av_opt_set(c->priv_data, "deadline", "realtime", 0) < 0 ||
        av_opt_set_int(c->priv_data, "cpu-used", -16, 0) < 0 ||
        av_opt_set_int(c->priv_data, "lag-in-frames", 0, 0) < 0 ||
        av_opt_set_int(c->priv_data, "max-intra-rate", 300, 0) < 0 ||
        av_opt_set_int(c->priv_data, "static-thresh", 100, 0) < 0)
        return TSR_ERR_CODEC;
    return 0;
}

static void sw_close(void **state)
{
    struct sw_state *s = state ? *state : NULL;
    if (!s)
        return;
    avcodec_free_context(&s->avctx);
    av_packet_free(&s->pkt);
    av_frame_free(&s->work);
    free(s);
    *state = NULL;
}

static int sw_open(void **state, const struct tsr_video_encoder_params *p)
{
    int ret = 0;
    const char *name = p->codec == TSR_VIDEO_CODEC_H264 ? "libx264" : "libvpx";
    const AVCodec *codec = avcodec_find_encoder_by_name(name);
    AVDictionary *opts = NULL;
    struct sw_state *s = calloc(1, sizeof *s);
    if (!s) {
        ret = -ENOMEM;
        goto fail;
    }
    if (!codec) {
        TSR_LOG(TSR_LOG_ERROR, p->log_ctx, "libavcodec has no %s encoder", name);
        ret = TSR_ERR_CODEC;
        goto fail;
    }
    s->avctx = avcodec_alloc_context3(codec);
    s->pkt = av_packet_alloc();
    s->work = av_frame_alloc();
    if (!s->avctx || !s->pkt || !s->work) {
        ret = -ENOMEM;
        goto fail;
    }
    ret = configure(s->avctx, p);
    if (ret < 0)
        goto fail;
    if (p->sw_options && av_dict_parse_string(&opts, p->sw_options, "=", ":", 0) < 0) {
        ret = -EINVAL;
        goto fail;
    }
    if (avcodec_open2(s->avctx, codec, &opts) < 0) {
        TSR_LOG(TSR_LOG_ERROR, p->log_ctx, "%s does not open at %dx%d", name, p->width, p->height);
        ret = TSR_ERR_CODEC;
        goto fail;
    }
    if (av_dict_count(opts) > 0) { /* what the encoder did not take is left here */
        TSR_LOG(TSR_LOG_ERROR, p->log_ctx, "%s has no option %s", name,
                av_dict_get(opts, "", NULL, AV_DICT_IGNORE_SUFFIX)->key);
        ret = -EINVAL;
        goto fail;
    }
    av_dict_free(&opts);
    *state = s;
    return 0;
fail:
    av_dict_free(&opts);
    sw_close((void **)&s);
    return ret;
}

static int sw_encode(void *state, const AVFrame *frame, bool force_keyframe,
                     tsr_video_encoder_packet_fn cb, void *user)
{
    struct sw_state *s = state;
    if (av_frame_ref(s->work, frame) < 0)
        return -ENOMEM;
    s->work->pict_type = force_keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    int ret = tsr_encoder_backend_send_receive(s->avctx, s->pkt, s->work, cb, user);
    av_frame_unref(s->work);
    return ret;
}

static int sw_set_bitrate(void *state, int64_t bps)
{
    struct sw_state *s = state;
    /* libavcodec's libx264 wrapper compares these with x264's settings before each
     * frame and calls x264_encoder_reconfig; its libvpx wrapper has no such path. */
    if (s->avctx->codec_id != AV_CODEC_ID_H264)
        return TSR_ERR_UNSUPPORTED;
    set_rate(s->avctx, bps);
    return 0;
}

const struct tsr_encoder_backend_ops tsr_encoder_backend_software = {
    .name = "software",
    .input_pix_fmt = AV_PIX_FMT_YUV420P,
    .open = sw_open,
    .close = sw_close,
    .encode = sw_encode,
    .set_bitrate = sw_set_bitrate,
};
