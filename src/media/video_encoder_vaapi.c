/* VAAPI encoders (h264_vaapi, vp8_vaapi) with hardware frames.
 *
 * The canvas (NV12 when the compositor feeds VAAPI) is uploaded into a surface from
 * a small pool and encoded there; the upload is one copy of the canvas, far cheaper
 * than software encoding. FFmpeg 5.1's VAAPI encoders cannot change their rate
 * control while running, so a bitrate change reopens the encoder (next frame is an
 * IDR). Any error here is reported to video_encoder.c, which falls back to software. */
#include <tessera/err.h>
#include <tessera/hwdevice.h>
#include <tessera/log.h>

#include <errno.h>
#include <libavutil/hwcontext.h>
#include <libavutil/opt.h>
#include <stdlib.h>

#include "video_encoder_backend.h"

struct va_state {
    AVBufferRef *device;
    AVBufferRef *frames;
    AVCodecContext *avctx;
    AVPacket *pkt;
    AVFrame *hw;
};

static void va_close(void **state)
{
    struct va_state *s = state ? *state : NULL;
    if (!s)
        return;
    avcodec_free_context(&s->avctx);
    av_buffer_unref(&s->frames);
    av_buffer_unref(&s->device);
    av_packet_free(&s->pkt);
    av_frame_free(&s->hw);
    free(s);
    *state = NULL;
}

static int make_frames(struct va_state *s, const struct tsr_video_encoder_params *p)
{
    s->frames = av_hwframe_ctx_alloc(s->device);
    if (!s->frames)
        return -ENOMEM;
    AVHWFramesContext *fc = (AVHWFramesContext *)s->frames->data;
    fc->format = AV_PIX_FMT_VAAPI;
    fc->sw_format = AV_PIX_FMT_NV12;
    fc->width = p->width;
    fc->height = p->height;
    fc->initial_pool_size = 8;
    return av_hwframe_ctx_init(s->frames) < 0 ? TSR_ERR_HW_UNAVAILABLE : 0;
}

static int configure(struct va_state *s, const AVCodec *codec,
                     const struct tsr_video_encoder_params *p)
{
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c)
        return -ENOMEM;
    s->avctx = c;
    c->width = p->width;
    c->height = p->height;
    c->pix_fmt = AV_PIX_FMT_VAAPI;
    c->time_base = (AVRational){1, 90000};
    c->framerate = (AVRational){p->fps, 1};
    c->gop_size = p->keyint_frames > 0 ? p->keyint_frames : 10 * p->fps;
    c->max_b_frames = 0;
    c->bit_rate = p->bitrate_bps;
    c->rc_max_rate = p->bitrate_bps;
    c->rc_buffer_size = (int)(p->bitrate_bps / 2);
    c->hw_frames_ctx = av_buffer_ref(s->frames);
    if (!c->hw_frames_ctx)
        return -ENOMEM;
    av_opt_set(c->priv_data, "rc_mode", "CBR", 0);
    if (p->codec == TSR_VIDEO_CODEC_H264) {
        c->profile = FF_PROFILE_H264_CONSTRAINED_BASELINE;
        av_opt_set(c->priv_data, "quality", "7", 0); /* fastest preset the driver has */
    }
    return 0;
}

static int va_open(void **state, const struct tsr_video_encoder_params *p)
{
    int ret = 0;
    const char *name = p->codec == TSR_VIDEO_CODEC_H264 ? "h264_vaapi" : "vp8_vaapi";
    const AVCodec *codec = avcodec_find_encoder_by_name(name);
    struct va_state *s = calloc(1, sizeof *s);
    if (!s) {
        ret = -ENOMEM;
        goto fail;
    }
    if (!codec) {
        ret = TSR_ERR_HW_UNAVAILABLE;
        goto fail;
    }
    ret = tsr_hwdevice_vaapi_get(p->vaapi_device, &s->device);
    if (ret < 0)
        goto fail;
    s->pkt = av_packet_alloc();
    s->hw = av_frame_alloc();
    if (!s->pkt || !s->hw) {
        ret = -ENOMEM;
        goto fail;
    }
    if ((ret = make_frames(s, p)) < 0 || (ret = configure(s, codec, p)) < 0)
        goto fail;
    if (avcodec_open2(s->avctx, codec, NULL) < 0) {
        ret = TSR_ERR_HW_UNAVAILABLE;
        goto fail;
    }
    *state = s;
    return 0;
fail:
    va_close((void **)&s);
    return ret < 0 && ret != -ENOMEM ? TSR_ERR_HW_UNAVAILABLE : ret;
}

static int va_encode(void *state, const AVFrame *frame, bool force_keyframe,
                     tsr_video_encoder_packet_fn cb, void *user)
{
    struct va_state *s = state;
    int ret = 0;
    if (av_hwframe_get_buffer(s->frames, s->hw, 0) < 0 ||
        av_hwframe_transfer_data(s->hw, frame, 0) < 0) {
        ret = TSR_ERR_HW_UNAVAILABLE;
        goto done;
    }
    s->hw->pts = frame->pts;
    s->hw->pict_type = force_keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    ret = tsr_encoder_backend_send_receive(s->avctx, s->pkt, s->hw, cb, user);
    if (ret < 0)
        ret = TSR_ERR_HW_UNAVAILABLE;
done:
    av_frame_unref(s->hw);
    return ret;
}

static int va_set_bitrate(void *state, int64_t bps)
{
    (void)state;
    (void)bps;
    return TSR_ERR_UNSUPPORTED;
}

const struct tsr_encoder_backend_ops tsr_encoder_backend_vaapi = {
    .name = "vaapi",
    .input_pix_fmt = AV_PIX_FMT_NV12,
    .open = va_open,
    .close = va_close,
    .encode = va_encode,
    .set_bitrate = va_set_bitrate,
};
