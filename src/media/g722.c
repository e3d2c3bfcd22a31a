/* G.722 through libavcodec's adpcm_g722, and its 1:3 resampler (tessera/g722.h). */
#include <tessera/g722.h>

#include <tessera/err.h>

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The longest packet we decode: 120 ms (960 bytes), as for Opus and G.711. */
#define G722_MAX_BYTES 960

struct tsr_g722_encoder {
    AVCodecContext *ctx;
    AVFrame *frame;
    AVPacket *pkt;
};

struct tsr_g722_decoder {
    AVCodecContext *ctx;
    AVFrame *frame;
    AVPacket *pkt;
};

/* Open a 16 kHz mono S16 context of `codec` (NULL: not built into libavcodec). */
static int open_ctx(const AVCodec *codec, int frame_size, AVCodecContext **out)
{
    if (!codec)
        return TSR_ERR_UNSUPPORTED;
    AVCodecContext *ctx = avcodec_alloc_context3(codec);
    if (!ctx)
        return -ENOMEM;
    ctx->sample_fmt = AV_SAMPLE_FMT_S16;
    ctx->sample_rate = TSR_G722_RATE_HZ;
    ctx->time_base = (AVRational){1, TSR_G722_RATE_HZ};
    ctx->bit_rate = 64000;
    ctx->frame_size = frame_size;
    av_channel_layout_default(&ctx->ch_layout, 1);
    if (avcodec_open2(ctx, codec, NULL) < 0) {
        avcodec_free_context(&ctx);
        return TSR_ERR_CODEC;
    }
    *out = ctx;
    return 0;
}

void tsr_g722_encoder_free(struct tsr_g722_encoder **pe)
{
    if (!pe || !*pe)
        return;
    avcodec_free_context(&(*pe)->ctx);
    av_frame_free(&(*pe)->frame);
    av_packet_free(&(*pe)->pkt);
    free(*pe);
    *pe = NULL;
}

int tsr_g722_encoder_new(struct tsr_g722_encoder **out)
{
    struct tsr_g722_encoder *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    int rc =
        open_ctx(avcodec_find_encoder(AV_CODEC_ID_ADPCM_G722), TSR_G722_FRAME_SAMPLES, &e->ctx);
    if (rc == 0 && e->ctx->frame_size != TSR_G722_FRAME_SAMPLES)
        rc = TSR_ERR_CODEC;
    if (rc == 0) {
        e->frame = av_frame_alloc();
        e->pkt = av_packet_alloc();
        rc = e->frame && e->pkt ? 0 : -ENOMEM;
    }
    if (rc == 0) {
        e->frame->format = AV_SAMPLE_FMT_S16;
        e->frame->nb_samples = TSR_G722_FRAME_SAMPLES;
        e->frame->sample_rate = TSR_G722_RATE_HZ;
        av_channel_layout_default(&e->frame->ch_layout, 1);
        rc = av_frame_get_buffer(e->frame, 0) < 0 ? -ENOMEM : 0;
    }
    if (rc) {
        tsr_g722_encoder_free(&e);
        return rc;
    }
    *out = e;
    return 0;
}

/* One 320-sample frame in, its 160 bytes out. */
static int encode_frame(struct tsr_g722_encoder *e, const int16_t *pcm, uint8_t *out)
{
    if (av_frame_make_writable(e->frame) < 0)
        return -ENOMEM;
    memcpy(e->frame->data[0], pcm, TSR_G722_FRAME_SAMPLES * sizeof *pcm);
    int rc = avcodec_send_frame(e->ctx, e->frame);
    if (rc < 0)
        return TSR_ERR_CODEC;
    rc = avcodec_receive_packet(e->ctx, e->pkt);
    if (rc < 0)
        return TSR_ERR_CODEC;
    int n = e->pkt->size == TSR_G722_FRAME_SAMPLES / 2 ? e->pkt->size : TSR_ERR_CODEC;
    if (n > 0)
        memcpy(out, e->pkt->data, (size_t)n);
    av_packet_unref(e->pkt);
    return n;
}

int tsr_g722_encode(struct tsr_g722_encoder *e, const int16_t *pcm16k, size_t n, uint8_t *out,
                    size_t cap)
{
    if (n == 0 || n % TSR_G722_FRAME_SAMPLES || !pcm16k || !out)
        return TSR_ERR_INVALID;
    if (n / 2 > cap)
        return TSR_ERR_FULL;
    for (size_t i = 0; i < n; i += TSR_G722_FRAME_SAMPLES) {
        int rc = encode_frame(e, pcm16k + i, out + i / 2);
        if (rc < 0)
            return rc;
    }
    return (int)(n / 2);
}

void tsr_g722_decoder_free(struct tsr_g722_decoder **pd)
{
    if (!pd || !*pd)
        return;
    avcodec_free_context(&(*pd)->ctx);
    av_frame_free(&(*pd)->frame);
    av_packet_free(&(*pd)->pkt);
    free(*pd);
    *pd = NULL;
}

int tsr_g722_decoder_new(struct tsr_g722_decoder **out)
{
    struct tsr_g722_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    int rc = open_ctx(avcodec_find_decoder(AV_CODEC_ID_ADPCM_G722), 0, &d->ctx);
    if (rc == 0) {
        d->frame = av_frame_alloc();
        d->pkt = av_packet_alloc();
        rc = d->frame && d->pkt ? 0 : -ENOMEM;
    }
    if (rc) {
        tsr_g722_decoder_free(&d);
        return rc;
    }
    *out = d;
    return 0;
}

int tsr_g722_decoder_reset(struct tsr_g722_decoder *d)
{
    /* adpcm_g722 keeps its band state in the context and has no flush: reopen. */
    AVCodecContext *fresh = NULL;
    int rc = open_ctx(d->ctx->codec, 0, &fresh);
    if (rc)
        return rc;
    avcodec_free_context(&d->ctx);
    d->ctx = fresh;
    return 0;
}

int tsr_g722_decode(struct tsr_g722_decoder *d, const uint8_t *in, size_t len, int16_t *pcm16k,
                    size_t cap)
{
    if (len == 0 || !in)
        return TSR_ERR_TRUNCATED;
    if (len > G722_MAX_BYTES || len * 2 > cap)
        return TSR_ERR_FULL;
    /* Not refcounted: libavcodec copies it into a buffer with zeroed padding
     * (network buffers have none, and its bit reader may look past the end). */
    d->pkt->data = (uint8_t *)(uintptr_t)in;
    d->pkt->size = (int)len;
    int rc = avcodec_send_packet(d->ctx, d->pkt);
    d->pkt->data = NULL;
    d->pkt->size = 0;
    if (rc < 0)
        return TSR_ERR_CODEC;
    size_t got = 0;
    while ((rc = avcodec_receive_frame(d->ctx, d->frame)) == 0) {
        size_t n = (size_t)d->frame->nb_samples;
        if (d->frame->format != AV_SAMPLE_FMT_S16 || got + n > cap) {
            av_frame_unref(d->frame);
            return TSR_ERR_CODEC;
        }
        memcpy(pcm16k + got, d->frame->data[0], n * sizeof *pcm16k);
        got += n;
        av_frame_unref(d->frame);
    }
    if (rc != AVERROR(EAGAIN))
        return TSR_ERR_CODEC;
    return got == len * 2 ? (int)got : TSR_ERR_CODEC;
}

void tsr_g722_resampler_init(struct tsr_resampler *r)
{
    tsr_resampler_init(r, TSR_G722_RATIO, TSR_G722_FIR_TAPS, 7300.0);
}
