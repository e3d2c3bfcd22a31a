/* The codec probe: open each encoder for real, encode a few small frames, decode
 * them back, and report what works and why not. */
#include <tessera/probe.h>
#include <tessera/err.h>
#include <tessera/log.h>

#include "probe_internal.h"

#include <errno.h>
#include <glib.h>
#include <gnutls/gnutls.h>
#include <libavcodec/avcodec.h>
#include <libavutil/hwcontext.h>
#include <libavutil/opt.h>
#include <opus.h>
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fill_frame(AVFrame *f, int n)
{
    for (int p = 0; p < 3; p++) {
        int w = p ? f->width / 2 : f->width, h = p ? f->height / 2 : f->height;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                f->data[p][y * f->linesize[p] + x] = (uint8_t)(p ? 128 : (x + y + n * 8));
    }
}

static AVBufferRef *open_vaapi_frames(const char *node, char *why, size_t why_size)
{
    AVBufferRef *dev = NULL;
    int rc = av_hwdevice_ctx_create(&dev, AV_HWDEVICE_TYPE_VAAPI, node, NULL, 0);
    if (rc < 0) {
        snprintf(why, why_size, "av_hwdevice_ctx_create(%s): %s", node, av_err2str(rc));
        return NULL;
    }
    AVBufferRef *frames = av_hwframe_ctx_alloc(dev);
    AVHWFramesContext *fc = (AVHWFramesContext *)frames->data;
    fc->format = AV_PIX_FMT_VAAPI;
    fc->sw_format = AV_PIX_FMT_NV12;
    fc->width = PROBE_W;
    fc->height = PROBE_H;
    fc->initial_pool_size = 4;
    rc = av_hwframe_ctx_init(frames);
    av_buffer_unref(&dev);
    if (rc < 0) {
        snprintf(why, why_size, "av_hwframe_ctx_init: %s", av_err2str(rc));
        av_buffer_unref(&frames);
    }
    return frames;
}

static AVCodecContext *open_encoder(struct probe_codec *c, const char *node)
{
    const AVCodec *codec = avcodec_find_encoder_by_name(c->name);
    if (!codec) {
        snprintf(c->reason, sizeof c->reason, "FFmpeg was built without %s", c->name);
        return NULL;
    }
    AVCodecContext *ctx = avcodec_alloc_context3(codec);
    ctx->width = PROBE_W;
    ctx->height = PROBE_H;
    ctx->time_base = (AVRational){1, 30};
    ctx->framerate = (AVRational){30, 1};
    ctx->bit_rate = 300000;
    ctx->gop_size = 30;
    ctx->max_b_frames = 0;
    ctx->pix_fmt = c->hardware ? AV_PIX_FMT_VAAPI : AV_PIX_FMT_YUV420P;
    if (strcmp(c->name, "libx264") == 0) {
        av_opt_set(ctx->priv_data, "preset", "ultrafast", 0);
        av_opt_set(ctx->priv_data, "tune", "zerolatency", 0);
    } else if (strcmp(c->name, "libvpx") == 0) {
        av_opt_set(ctx->priv_data, "deadline", "realtime", 0);
        av_opt_set_int(ctx->priv_data, "cpu-used", 8, 0);
    }
    if (c->hardware) {
        ctx->hw_frames_ctx = open_vaapi_frames(node, c->reason, sizeof c->reason);
        if (!ctx->hw_frames_ctx) {
            avcodec_free_context(&ctx);
            return NULL;
        }
    }
    int rc = avcodec_open2(ctx, codec, NULL);
    if (rc < 0) {
        snprintf(c->reason, sizeof c->reason, "avcodec_open2: %s", av_err2str(rc));
        avcodec_free_context(&ctx);
    }
    return ctx;
}

/* Software frame, or a VAAPI surface with the software frame uploaded into it. */
static AVFrame *make_input(AVCodecContext *ctx, int n)
{
    AVFrame *sw = av_frame_alloc();
    sw->format = ctx->hw_frames_ctx ? AV_PIX_FMT_NV12 : AV_PIX_FMT_YUV420P;
    sw->width = PROBE_W;
    sw->height = PROBE_H;
    if (av_frame_get_buffer(sw, 0) < 0) {
        av_frame_free(&sw);
        return NULL;
    }
    if (!ctx->hw_frames_ctx) {
        fill_frame(sw, n);
        sw->pts = n;
        return sw;
    }
    memset(sw->data[0], 16 + n * 8, (size_t)sw->linesize[0] * PROBE_H);
    memset(sw->data[1], 128, (size_t)sw->linesize[1] * PROBE_H / 2);
    AVFrame *hw = av_frame_alloc();
    if (av_hwframe_get_buffer(ctx->hw_frames_ctx, hw, 0) < 0 ||
        av_hwframe_transfer_data(hw, sw, 0) < 0)
        av_frame_free(&hw);
    av_frame_free(&sw);
    if (hw)
        hw->pts = n;
    return hw;
}

static int drain(AVCodecContext *ctx, struct probe_codec *c)
{
    for (;;) {
        AVPacket *pkt = av_packet_alloc();
        int rc = avcodec_receive_packet(ctx, pkt);
        if (rc < 0) {
            av_packet_free(&pkt);
            return rc == AVERROR(EAGAIN) || rc == AVERROR_EOF ? 0 : rc;
        }
        if (c->packets_out < (int)G_N_ELEMENTS(c->pkts))
            c->pkts[c->packets_out++] = pkt;
        else
            av_packet_free(&pkt);
    }
}

static void probe_encoder(struct probe_codec *c, const char *node)
{
    AVCodecContext *ctx = open_encoder(c, node);
    int rc = 0;
    for (int n = 0; ctx && n < PROBE_FRAMES && rc == 0; n++) {
        AVFrame *f = make_input(ctx, n);
        rc = f ? avcodec_send_frame(ctx, f) : AVERROR(ENOMEM);
        av_frame_free(&f);
        if (rc == 0) {
            c->frames_in++;
            rc = drain(ctx, c);
        }
    }
    if (ctx && rc == 0 && avcodec_send_frame(ctx, NULL) == 0)
        rc = drain(ctx, c);
    if (ctx && rc < 0)
        snprintf(c->reason, sizeof c->reason, "encoding failed: %s", av_err2str(rc));
    else if (ctx && c->packets_out == 0)
        snprintf(c->reason, sizeof c->reason, "encoder produced no packets");
    c->usable = ctx && rc == 0 && c->packets_out > 0;
    avcodec_free_context(&ctx);
}

/* Decodes what `src` encoded; with no packets, only checks that the decoder opens. */
static void probe_decoder(struct probe_codec *d, const struct probe_codec *src)
{
    const AVCodec *codec = avcodec_find_decoder_by_name(d->name);
    AVCodecContext *ctx = codec ? avcodec_alloc_context3(codec) : NULL;
    if (!ctx || avcodec_open2(ctx, codec, NULL) < 0) {
        snprintf(d->reason, sizeof d->reason, "decoder %s cannot be opened", d->name);
        avcodec_free_context(&ctx);
        return;
    }
    AVFrame *f = av_frame_alloc();
    for (int i = 0; i < src->packets_out; i++) {
        if (avcodec_send_packet(ctx, src->pkts[i]) < 0)
            break;
        while (avcodec_receive_frame(ctx, f) == 0)
            d->packets_out++; /* frames out */
    }
    avcodec_send_packet(ctx, NULL);
    while (avcodec_receive_frame(ctx, f) == 0)
        d->packets_out++;
    av_frame_free(&f);
    avcodec_free_context(&ctx);
    d->usable = src->packets_out == 0 || d->packets_out > 0;
    if (!d->usable)
        snprintf(d->reason, sizeof d->reason, "decoded no frames from %d %s packets",
                 src->packets_out, src->name);
}

int tsr_probe_run(struct tsr_probe **out, const char *vaapi_device)
{
    struct tsr_probe *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    const struct probe_codec encs[4] = {{.name = "libx264", .codec = "h264"},
                                        {.name = "libvpx", .codec = "vp8"},
                                        {.name = "h264_vaapi", .codec = "h264", .hardware = true},
                                        {.name = "vp8_vaapi", .codec = "vp8", .hardware = true}};
    memcpy(p->enc, encs, sizeof encs);
    p->dec[0] = (struct probe_codec){.name = "vp8", .codec = "vp8"};
    p->dec[1] = (struct probe_codec){.name = "h264", .codec = "h264"};
    tsr_probe_vaapi_run(&p->vaapi, vaapi_device);
    for (int i = 0; i < 4; i++) {
        struct probe_codec *c = &p->enc[i];
        if (c->hardware && !p->vaapi.available)
            snprintf(c->reason, sizeof c->reason, "VAAPI unavailable: %s", p->vaapi.reason);
        else if (c->hardware && !(strcmp(c->codec, "h264") ? p->vaapi.vp8_encode
                                                           : p->vaapi.h264_encode))
            snprintf(c->reason, sizeof c->reason, "driver '%s' has no %s encode entrypoint",
                     p->vaapi.driver, c->codec);
        else
            probe_encoder(c, p->vaapi.render_node);
    }
    probe_decoder(&p->dec[0], &p->enc[1]);
    probe_decoder(&p->dec[1], &p->enc[0]);
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < p->enc[i].packets_out; k++)
            av_packet_free(&p->enc[i].pkts[k]);
    *out = p;
    return 0;
}

void tsr_probe_free(struct tsr_probe **pp)
{
    if (!pp || !*pp)
        return;
    json_decref((*pp)->vaapi.profiles);
    free(*pp);
    *pp = NULL;
}

static const struct probe_codec *find(const struct probe_codec *list, int n, const char *name)
{
    for (int i = 0; name && i < n; i++)
        if (strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

bool tsr_probe_encoder_usable(const struct tsr_probe *p, const char *name)
{
    const struct probe_codec *c = find(p->enc, 4, name);
    return c && c->usable;
}

bool tsr_probe_decoder_usable(const struct tsr_probe *p, const char *name)
{
    const struct probe_codec *c = find(p->dec, 2, name);
    return c && c->usable;
}

bool tsr_probe_vaapi_available(const struct tsr_probe *p)
{
    return p->vaapi.available;
}

const char *tsr_probe_auto_encoder(const struct tsr_probe *p, const char *codec)
{
    /* Hardware first (DESIGN.md principle 7), then software. */
    for (int i = 3; i >= 0; i--) {
        if (p->enc[i].hardware && p->enc[i].usable && strcmp(p->enc[i].codec, codec) == 0)
            return p->enc[i].name;
    }
    for (int i = 0; i < 4; i++) {
        if (!p->enc[i].hardware && p->enc[i].usable && strcmp(p->enc[i].codec, codec) == 0)
            return p->enc[i].name;
    }
    return NULL;
}
