/* AAC for live pushes (tessera/aac_encoder.h). */
#include <tessera/aac_encoder.h>

#include <tessera/err.h>

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PENDING_MAX 4096 /* samples per channel: a few ticks ahead of one AAC frame */

struct tsr_aac_encoder {
    AVCodecContext *ctx;
    AVFrame *frame;
    float pending[2][PENDING_MAX]; /* planar, what the encoder takes */
    size_t n_pending;
    int64_t next_pts; /* samples handed to the encoder */
};

void tsr_aac_encoder_free(struct tsr_aac_encoder **pe)
{
    if (!pe || !*pe)
        return;
    struct tsr_aac_encoder *e = *pe;
    avcodec_free_context(&e->ctx);
    av_frame_free(&e->frame);
    free(e);
    *pe = NULL;
}

static int open_codec(struct tsr_aac_encoder *e, int channels, int64_t bitrate_bps)
{
    const AVCodec *codec = avcodec_find_encoder_by_name("aac");
    if (!codec)
        return TSR_ERR_CODEC;
    e->ctx = avcodec_alloc_context3(codec);
    if (!e->ctx)
        return -ENOMEM;
    e->ctx->sample_fmt = AV_SAMPLE_FMT_FLTP;
    e->ctx->sample_rate = 48000;
    e->ctx->bit_rate = bitrate_bps;
    e->ctx->time_base = (AVRational){1, 48000};
    av_channel_layout_default(&e->ctx->ch_layout, channels);
    /* The AudioSpecificConfig goes into the FLV header, not into every frame. */
    e->ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (avcodec_open2(e->ctx, codec, NULL) < 0 || e->ctx->frame_size <= 0 ||
        e->ctx->frame_size > PENDING_MAX / 2)
        return TSR_ERR_CODEC;
    e->frame = av_frame_alloc();
    if (!e->frame)
        return -ENOMEM;
    e->frame->format = AV_SAMPLE_FMT_FLTP;
    e->frame->nb_samples = e->ctx->frame_size;
    e->frame->sample_rate = 48000;
    if (av_channel_layout_copy(&e->frame->ch_layout, &e->ctx->ch_layout) < 0 ||
        av_frame_get_buffer(e->frame, 0) < 0)
        return -ENOMEM;
    return 0;
}

int tsr_aac_encoder_new(struct tsr_aac_encoder **out, int channels, int64_t bitrate_bps)
{
    if ((channels != 1 && channels != 2) || bitrate_bps < 16000 || bitrate_bps > 512000)
        return -EINVAL;
    struct tsr_aac_encoder *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    int rc = open_codec(e, channels, bitrate_bps);
    if (rc) {
        tsr_aac_encoder_free(&e);
        return rc;
    }
    *out = e;
    return 0;
}

const uint8_t *tsr_aac_encoder_extradata(const struct tsr_aac_encoder *e, size_t *len)
{
    *len = e->ctx->extradata_size > 0 ? (size_t)e->ctx->extradata_size : 0;
    return e->ctx->extradata;
}

/* Hands one frame_size frame of pending samples to the encoder. */
static int send_frame(struct tsr_aac_encoder *e)
{
    size_t fs = (size_t)e->ctx->frame_size;
    if (av_frame_make_writable(e->frame) < 0)
        return -ENOMEM;
    int channels = e->ctx->ch_layout.nb_channels;
    for (int c = 0; c < channels; c++) {
        memcpy(e->frame->extended_data[c], e->pending[c], fs * sizeof(float));
        memmove(e->pending[c], e->pending[c] + fs, (e->n_pending - fs) * sizeof(float));
    }
    e->n_pending -= fs;
    e->frame->pts = e->next_pts;
    e->next_pts += (int64_t)fs;
    return avcodec_send_frame(e->ctx, e->frame) < 0 ? TSR_ERR_CODEC : 0;
}

int tsr_aac_encoder_push(struct tsr_aac_encoder *e, const int16_t *pcm, size_t n_samples)
{
    int channels = e->ctx->ch_layout.nb_channels;
    while (n_samples > 0) {
        size_t take = FFMIN(n_samples, PENDING_MAX - e->n_pending);
        for (size_t i = 0; i < take; i++)
            for (int c = 0; c < channels; c++)
                e->pending[c][e->n_pending + i] = (float)pcm[i] / 32768.0f;
        e->n_pending += take;
        pcm += take;
        n_samples -= take;
        while (e->n_pending >= (size_t)e->ctx->frame_size) {
            int rc = send_frame(e);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int tsr_aac_encoder_pull(struct tsr_aac_encoder *e, AVPacket *pkt, int64_t *pts_samples)
{
    int rc = avcodec_receive_packet(e->ctx, pkt);
    if (rc == AVERROR(EAGAIN))
        return TSR_ERR_AGAIN;
    if (rc < 0)
        return TSR_ERR_CODEC;
    *pts_samples = pkt->pts;
    return 0;
}
