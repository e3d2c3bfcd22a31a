/* Video encoder front: picks a backend, converts the input pixel format when it
 * must, measures encode time, and owns the VAAPI -> software fallback.
 *
 * The fallback is permanent for the encoder: a GPU that failed once (driver reset,
 * surface exhaustion) is not trusted with the conference again; the cost is the CPU
 * of one software encoder, which is what every deployment must budget anyway. */
#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/video_encoder.h>

#include <errno.h>
#include <glib.h>
#include <libyuv/convert.h>
#include <libyuv/convert_from.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "video_encoder_backend.h"

/* Home thread: the encoder group's worker (caller-serialized). */
struct tsr_video_encoder {
    struct tsr_video_encoder_params params;
    char log_ctx[96];
    char vaapi_device[256];
    char *sw_options;
    const struct tsr_encoder_backend_ops *ops;
    void *state;
    bool force_keyframe;
    AVFrame *conv; /* pixel-format conversion target, allocated once */
    struct tsr_video_encoder_stats stats;
    struct tsr_counter *fallback_counter;
    struct tsr_counter *encode_us_counter;
};

struct deliver_ctx {
    struct tsr_video_encoder *enc;
    tsr_video_encoder_packet_fn cb;
    void *user;
};

int tsr_encoder_backend_parse(const char *name, enum tsr_encoder_backend *out)
{
    static const char *names[] = {"auto", "software", "vaapi"};
    for (int i = 0; name && out && i < 3; i++) {
        if (!strcasecmp(name, names[i])) {
            *out = (enum tsr_encoder_backend)i;
            return 0;
        }
    }
    return TSR_ERR_INVALID;
}

bool tsr_video_encoder_probe_vaapi(const char *device, enum tsr_video_codec codec)
{
    struct tsr_video_encoder_params p = {.codec = codec,
                                         .width = 320,
                                         .height = 240,
                                         .fps = 30,
                                         .bitrate_bps = 300000,
                                         .vaapi_device = device,
                                         .log_ctx = "vaapi-probe"};
    void *state = NULL;
    if (tsr_encoder_backend_vaapi.open(&state, &p) < 0)
        return false;
    tsr_encoder_backend_vaapi.close(&state);
    return true;
}

/* Cached probe per (device, codec) for AUTO: opening a VA display costs
 * milliseconds, and AUTO is asked for every new encoder. */
static bool auto_wants_vaapi(const char *device, enum tsr_video_codec codec)
{
    static GMutex lock;
    static struct {
        char device[256];
        int codec;
        bool ok;
        bool used;
    } cache[4];
    bool found = false, ok = false;
    g_mutex_lock(&lock);
    for (int i = 0; i < 4; i++)
        if (cache[i].used && cache[i].codec == (int)codec && !strcmp(cache[i].device, device)) {
            found = true;
            ok = cache[i].ok;
        }
    g_mutex_unlock(&lock);
    if (found)
        return ok;
    ok = tsr_video_encoder_probe_vaapi(device, codec);
    g_mutex_lock(&lock);
    for (int i = 0; i < 4; i++)
        if (!cache[i].used) {
            g_strlcpy(cache[i].device, device, sizeof cache[i].device);
            cache[i].codec = (int)codec;
            cache[i].ok = ok;
            cache[i].used = true;
            break;
        }
    g_mutex_unlock(&lock);
    return ok;
}

static int validate(const struct tsr_video_encoder_params *p)
{
    if (!p || (p->codec != TSR_VIDEO_CODEC_VP8 && p->codec != TSR_VIDEO_CODEC_H264) ||
        p->width < 16 || p->height < 16 || (p->width & 1) || (p->height & 1) || p->width > 8192 ||
        p->height > 8192 || p->fps < 1 || p->fps > 120 || p->bitrate_bps < 50000 ||
        p->bitrate_bps > 200000000 || p->keyint_frames < 0 || p->threads < 0 ||
        p->max_nal_bytes < 0 || (p->max_nal_bytes > 0 && p->max_nal_bytes < 200) ||
        (int)p->backend < 0 || p->backend > TSR_ENCODER_BACKEND_VAAPI)
        return -EINVAL;
    return 0;
}

static void switch_to_software(struct tsr_video_encoder *enc, int why)
{
    enc->stats.fallbacks++;
    tsr_counter_inc(enc->fallback_counter);
    TSR_LOG(TSR_LOG_WARN, enc->log_ctx,
            "VAAPI %s encoder failed (%s); this encoder continues in software",
            tsr_video_codec_name(enc->params.codec), tsr_strerror(why));
    enc->ops = &tsr_encoder_backend_software;
    enc->force_keyframe = true; /* the receivers' reference chain starts anew */
}

static int open_backend(struct tsr_video_encoder *enc)
{
    const struct tsr_video_encoder_params *p = &enc->params;
    bool vaapi =
        p->max_nal_bytes == 0 &&
        (p->backend == TSR_ENCODER_BACKEND_VAAPI ||
         (p->backend == TSR_ENCODER_BACKEND_AUTO && auto_wants_vaapi(p->vaapi_device, p->codec)));
    if (vaapi && enc->stats.fallbacks == 0) {
        int ret = tsr_encoder_backend_vaapi.open(&enc->state, p);
        if (ret == 0) {
            enc->ops = &tsr_encoder_backend_vaapi;
            return 0;
        }
        if (ret == -ENOMEM)
            return ret;
        switch_to_software(enc, ret);
    }
    enc->ops = &tsr_encoder_backend_software;
    return tsr_encoder_backend_software.open(&enc->state, p);
}

int tsr_video_encoder_new(struct tsr_video_encoder **out,
                          const struct tsr_video_encoder_params *params)
{
    int ret = 0;
    struct tsr_video_encoder *enc = NULL;
    if (!out || validate(params) < 0) {
        ret = -EINVAL;
        goto fail;
    }
    enc = calloc(1, sizeof *enc);
    if (!enc) {
        ret = -ENOMEM;
        goto fail;
    }
    enc->params = *params;
    g_strlcpy(enc->log_ctx, params->log_ctx ? params->log_ctx : "encoder", sizeof enc->log_ctx);
    g_strlcpy(enc->vaapi_device,
              params->vaapi_device ? params->vaapi_device : "/dev/dri/renderD128",
              sizeof enc->vaapi_device);
    enc->params.log_ctx = enc->log_ctx;
    enc->params.vaapi_device = enc->vaapi_device;
    enc->params.sw_options = enc->sw_options =
        params->sw_options ? strdup(params->sw_options) : NULL;
    if (params->sw_options && !enc->sw_options) {
        ret = -ENOMEM;
        goto fail;
    }
    char labels[64];
    snprintf(labels, sizeof labels, "codec=\"%s\"", tsr_video_codec_name(params->codec));
    enc->fallback_counter =
        tsr_metrics_counter("tessera_encoder_fallbacks_total", labels,
                            "Encoders switched from VAAPI to software after a VAAPI error.");
    enc->encode_us_counter = tsr_metrics_counter("tessera_encode_microseconds_total", labels,
                                                 "Wall time spent encoding video frames.");
    ret = open_backend(enc);
    if (ret < 0)
        goto fail;
    *out = enc;
    return 0;
fail:
    tsr_video_encoder_free(&enc);
    return ret;
}

void tsr_video_encoder_free(struct tsr_video_encoder **p)
{
    if (!p || !*p)
        return;
    struct tsr_video_encoder *enc = *p;
    if (enc->ops)
        enc->ops->close(&enc->state);
    av_frame_free(&enc->conv);
    free(enc->sw_options);
    free(enc);
    *p = NULL;
}

static void deliver(void *user, const AVPacket *pkt)
{
    struct deliver_ctx *d = user;
    d->enc->stats.bytes += (uint64_t)pkt->size;
    if (pkt->flags & AV_PKT_FLAG_KEY)
        d->enc->stats.keyframes++;
    if (d->cb)
        d->cb(d->user, pkt);
}

/* The frame in the backend's pixel format: `frame` itself, or a converted copy. */
static int to_backend_format(struct tsr_video_encoder *enc, const AVFrame *frame,
                             const AVFrame **out)
{
    int want = enc->ops->input_pix_fmt;
    bool is_i420 = frame->format == AV_PIX_FMT_YUV420P || frame->format == AV_PIX_FMT_YUVJ420P;
    if ((want == AV_PIX_FMT_YUV420P && is_i420) || frame->format == want) {
        *out = frame;
        return 0;
    }
    if (!enc->conv || enc->conv->format != want) {
        av_frame_free(&enc->conv);
        enc->conv = av_frame_alloc();
        if (!enc->conv)
            return -ENOMEM;
        enc->conv->format = want;
        enc->conv->width = frame->width;
        enc->conv->height = frame->height;
        if (av_frame_get_buffer(enc->conv, 0) < 0) {
            av_frame_free(&enc->conv);
            return -ENOMEM;
        }
    }
    AVFrame *c = enc->conv;
    if (want == AV_PIX_FMT_NV12)
        I420ToNV12(frame->data[0], frame->linesize[0], frame->data[1], frame->linesize[1],
                   frame->data[2], frame->linesize[2], c->data[0], c->linesize[0], c->data[1],
                   c->linesize[1], frame->width, frame->height);
    else
        NV12ToI420(frame->data[0], frame->linesize[0], frame->data[1], frame->linesize[1],
                   c->data[0], c->linesize[0], c->data[1], c->linesize[1], c->data[2],
                   c->linesize[2], frame->width, frame->height);
    c->pts = frame->pts;
    *out = c;
    return 0;
}

static int encode_once(struct tsr_video_encoder *enc, const AVFrame *frame, struct deliver_ctx *d)
{
    const AVFrame *in = NULL;
    int ret = to_backend_format(enc, frame, &in);
    if (ret < 0)
        return ret;
    return enc->ops->encode(enc->state, in, enc->force_keyframe, deliver, d);
}

int tsr_video_encoder_encode(struct tsr_video_encoder *enc, const AVFrame *frame,
                             tsr_video_encoder_packet_fn cb, void *user)
{
    if (!enc || !frame || frame->width != enc->params.width ||
        frame->height != enc->params.height ||
        (frame->format != AV_PIX_FMT_YUV420P && frame->format != AV_PIX_FMT_YUVJ420P &&
         frame->format != AV_PIX_FMT_NV12))
        return -EINVAL;
    int64_t t0 = g_get_monotonic_time();
    struct deliver_ctx d = {enc, cb, user};
    int ret = 0;
    if (!enc->state && enc->ops->open(&enc->state, &enc->params) < 0)
        return TSR_ERR_CODEC; /* a failed reopen earlier; try again each frame */
    ret = encode_once(enc, frame, &d);
    if (ret < 0 && ret != -ENOMEM && enc->ops == &tsr_encoder_backend_vaapi) {
        /* Re-encode this very frame in software, as a keyframe. */
        enc->ops->close(&enc->state);
        switch_to_software(enc, ret);
        ret = tsr_encoder_backend_software.open(&enc->state, &enc->params);
        if (ret == 0)
            ret = encode_once(enc, frame, &d);
    }
    if (ret == 0) {
        enc->force_keyframe = false;
        enc->stats.frames++;
    }
    int64_t dt = g_get_monotonic_time() - t0;
    enc->stats.last_encode_us = dt;
    enc->stats.total_encode_us += dt;
    tsr_counter_add(enc->encode_us_counter, (uint64_t)dt);
    return ret;
}

void tsr_video_encoder_request_keyframe(struct tsr_video_encoder *enc)
{
    if (enc)
        enc->force_keyframe = true;
}

int tsr_video_encoder_set_bitrate(struct tsr_video_encoder *enc, int64_t bitrate_bps)
{
    if (!enc || bitrate_bps < 50000 || bitrate_bps > 200000000)
        return -EINVAL;
    if (bitrate_bps == enc->params.bitrate_bps)
        return 0;
    int64_t old = enc->params.bitrate_bps;
    enc->params.bitrate_bps = bitrate_bps;
    int ret = enc->ops->set_bitrate(enc->state, bitrate_bps);
    if (ret != TSR_ERR_UNSUPPORTED)
        return ret;
    /* Reopen with the new target; the first frame out of it is a keyframe. */
    void *fresh = NULL;
    ret = enc->ops->open(&fresh, &enc->params);
    if (ret < 0 && enc->ops == &tsr_encoder_backend_vaapi) {
        enc->ops->close(&enc->state);
        switch_to_software(enc, ret);
        ret = tsr_encoder_backend_software.open(&enc->state, &enc->params);
        return ret < 0 ? TSR_ERR_CODEC : 0;
    }
    if (ret < 0) {
        enc->params.bitrate_bps = old;
        return TSR_ERR_CODEC;
    }
    enc->ops->close(&enc->state);
    enc->state = fresh;
    return 0;
}

enum tsr_encoder_backend tsr_video_encoder_backend(const struct tsr_video_encoder *enc)
{
    return enc && enc->ops == &tsr_encoder_backend_vaapi ? TSR_ENCODER_BACKEND_VAAPI
                                                         : TSR_ENCODER_BACKEND_SOFTWARE;
}

int tsr_video_encoder_pix_fmt(const struct tsr_video_encoder *enc)
{
    return enc ? enc->ops->input_pix_fmt : AV_PIX_FMT_NONE;
}

void tsr_video_encoder_get_stats(const struct tsr_video_encoder *enc,
                                 struct tsr_video_encoder_stats *out)
{
    if (enc && out)
        *out = enc->stats;
}
