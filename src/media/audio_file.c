/* Audio tracks of files as Opus packets, and Opus into output files: see
 * include/media/tessera/audio_file.h. */
#include <tessera/audio_file.h>
#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/opus_codec.h>

#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mem.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define FRAME TSR_OPUS_FRAME_20MS
/* Encoder delay of libopus at 48 kHz (OPUS_GET_LOOKAHEAD), the OpusHead pre-skip. */
#define OPUS_PRE_SKIP 312

struct tsr_audio_source {
    AVFormatContext *fmt;
    int stream;
    AVRational tb;
    bool passthrough;
    AVPacket *pkt;
    int64_t first_pts;
    uint16_t seq;
    int64_t next_ts; /* transcoded: 48 kHz position of the next packet */
    /* transcoding only */
    AVCodecContext *dec;
    AVFrame *frame;
    struct tsr_opus_encoder *enc;
    double step, t; /* resampler: input samples per output sample, position */
    float prev;     /* last input sample of the previous frame */
    int16_t *pcm;   /* 48 kHz mono waiting to be encoded */
    size_t pcm_len, pcm_cap;
    bool demux_eof, dec_eof;
    uint8_t out[TSR_OPUS_MAX_PACKET_BYTES];
};

static int open_decoder(struct tsr_audio_source *s, const AVCodecParameters *par)
{
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec)
        return TSR_ERR_CODEC;
    s->dec = avcodec_alloc_context3(codec);
    s->frame = av_frame_alloc();
    if (!s->dec || !s->frame)
        return -ENOMEM;
    if (avcodec_parameters_to_context(s->dec, par) < 0 || avcodec_open2(s->dec, codec, NULL) < 0)
        return TSR_ERR_CODEC;
    struct tsr_opus_encoder_params ep = {
        .bitrate_bps = 64000, .channels = 1, .complexity = 5, .voice = false};
    int ret = tsr_opus_encoder_new(&s->enc, &ep);
    if (ret < 0)
        return ret;
    int rate = s->dec->sample_rate > 0 ? s->dec->sample_rate : TSR_OPUS_RATE_HZ;
    s->step = (double)rate / TSR_OPUS_RATE_HZ;
    return 0;
}

int tsr_audio_source_open(struct tsr_audio_source **out, const char *path)
{
    struct tsr_audio_source *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    int ret = 0;
    s->first_pts = AV_NOPTS_VALUE;
    s->pkt = av_packet_alloc();
    if (!s->pkt) {
        ret = -ENOMEM;
        goto fail;
    }
    if (avformat_open_input(&s->fmt, path, NULL, NULL) < 0 ||
        avformat_find_stream_info(s->fmt, NULL) < 0) {
        TSR_LOG(TSR_LOG_ERROR, "audio", "%s: cannot open or parse", path);
        ret = TSR_ERR_IO;
        goto fail;
    }
    s->stream = av_find_best_stream(s->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (s->stream < 0) {
        ret = TSR_ERR_NOT_FOUND;
        goto fail;
    }
    const AVStream *st = s->fmt->streams[s->stream];
    s->tb = st->time_base;
    s->passthrough = st->codecpar->codec_id == AV_CODEC_ID_OPUS;
    if (!s->passthrough) {
        ret = open_decoder(s, st->codecpar);
        if (ret < 0)
            goto fail;
    }
    *out = s;
    return 0;
fail:
    tsr_audio_source_free(&s);
    return ret;
}

void tsr_audio_source_free(struct tsr_audio_source **src)
{
    if (!src || !*src)
        return;
    struct tsr_audio_source *s = *src;
    av_packet_free(&s->pkt);
    av_frame_free(&s->frame);
    avcodec_free_context(&s->dec);
    avformat_close_input(&s->fmt);
    tsr_opus_encoder_free(&s->enc);
    free(s->pcm);
    free(s);
    *src = NULL;
}

int tsr_audio_source_is_passthrough(const struct tsr_audio_source *src)
{
    return src->passthrough;
}

/* Next packet of our stream into s->pkt; TSR_AUDIO_SOURCE_EOF at the end. */
static int next_packet(struct tsr_audio_source *s)
{
    for (;;) {
        av_packet_unref(s->pkt);
        int r = av_read_frame(s->fmt, s->pkt);
        if (r == AVERROR_EOF)
            return TSR_AUDIO_SOURCE_EOF;
        if (r < 0)
            return TSR_ERR_IO;
        if (s->pkt->stream_index == s->stream)
            return 0;
    }
}

static int read_passthrough(struct tsr_audio_source *s, struct tsr_audio_packet *pkt)
{
    for (;;) {
        int r = next_packet(s);
        if (r != 0)
            return r;
        int samples = tsr_opus_packet_samples(s->pkt->data, (size_t)s->pkt->size);
        if (samples < 0)
            continue; /* a damaged packet: the mixer would drop it too */
        int64_t ts = s->next_ts;
        if (s->pkt->pts != AV_NOPTS_VALUE) {
            if (s->first_pts == AV_NOPTS_VALUE)
                s->first_pts = s->pkt->pts;
            ts = av_rescale_q(s->pkt->pts - s->first_pts, s->tb, (AVRational){1, TSR_OPUS_RATE_HZ});
        }
        s->next_ts = ts + samples;
        *pkt = (struct tsr_audio_packet){.data = s->pkt->data,
                                         .len_bytes = (size_t)s->pkt->size,
                                         .ts_rtp = (uint32_t)ts,
                                         .seq = s->seq++,
                                         .level = TSR_AUDIO_LEVEL_ABSENT};
        return 0;
    }
}

/* Sample i of channel ch of a decoded frame as float in [-1, 1]. */
static float sample_at(const AVFrame *f, int ch, int i)
{
    enum AVSampleFormat fmt = (enum AVSampleFormat)f->format;
    int nch = f->ch_layout.nb_channels;
    bool planar = av_sample_fmt_is_planar(fmt);
    const uint8_t *base = planar ? f->extended_data[ch] : f->extended_data[0];
    int idx = planar ? i : i * nch + ch;
    switch (av_get_packed_sample_fmt(fmt)) {
    case AV_SAMPLE_FMT_U8:
        return ((float)base[idx] - 128.0f) / 128.0f;
    case AV_SAMPLE_FMT_S16:
        return (float)((const int16_t *)base)[idx] / 32768.0f;
    case AV_SAMPLE_FMT_S32:
        return (float)((const int32_t *)base)[idx] / 2147483648.0f;
    case AV_SAMPLE_FMT_S64:
        return (float)((const int64_t *)base)[idx] / 9.2233720e18f;
    case AV_SAMPLE_FMT_FLT:
        return ((const float *)base)[idx];
    case AV_SAMPLE_FMT_DBL:
        return (float)((const double *)base)[idx];
    default:
        return 0.0f;
    }
}

static float mono_at(const AVFrame *f, int i)
{
    int nch = f->ch_layout.nb_channels > 0 ? f->ch_layout.nb_channels : 1;
    float sum = 0;
    for (int ch = 0; ch < nch; ch++)
        sum += sample_at(f, ch, i);
    return sum / (float)nch;
}

static int pcm_append(struct tsr_audio_source *s, float v)
{
    if (s->pcm_len == s->pcm_cap) {
        size_t cap = s->pcm_cap ? s->pcm_cap * 2 : 4 * FRAME;
        int16_t *p = realloc(s->pcm, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        s->pcm = p;
        s->pcm_cap = cap;
    }
    float x = v * 32767.0f;
    s->pcm[s->pcm_len++] = (int16_t)(x > 32767.0f    ? 32767
                                     : x < -32768.0f ? -32768
                                                     : (int)lrintf(x));
    return 0;
}

/* Linear interpolation from the input rate to 48 kHz; position -1 is the last
 * sample of the previous frame, so frames join without a seam. */
static int resample_frame(struct tsr_audio_source *s, const AVFrame *f)
{
    int n = f->nb_samples;
    if (n <= 0)
        return 0;
    while (s->t <= (double)(n - 1)) {
        double fl = floor(s->t);
        int idx = (int)fl;
        float a = (float)(s->t - fl);
        float s0 = idx < 0 ? s->prev : mono_at(f, idx);
        float s1 = idx + 1 < n ? mono_at(f, idx + 1) : s0;
        int r = pcm_append(s, s0 + (s1 - s0) * a);
        if (r < 0)
            return r;
        s->t += s->step;
    }
    s->t -= n;
    s->prev = mono_at(f, n - 1);
    return 0;
}

/* Decode until at least one 20 ms frame of 48 kHz PCM is waiting (or the end:
 * then the rest is padded with silence to a whole frame). */
static int fill_frame(struct tsr_audio_source *s)
{
    while (s->pcm_len < FRAME && !s->dec_eof) {
        int r = avcodec_receive_frame(s->dec, s->frame);
        if (r == 0) {
            r = resample_frame(s, s->frame);
            av_frame_unref(s->frame);
            if (r < 0)
                return r;
            continue;
        }
        if (r == AVERROR_EOF) {
            s->dec_eof = true;
            break;
        }
        if (r != AVERROR(EAGAIN))
            return TSR_ERR_CODEC;
        if (s->demux_eof)
            return TSR_ERR_CODEC; /* drained without EOF: should not happen */
        r = next_packet(s);
        if (r < 0)
            return r;
        if (r == TSR_AUDIO_SOURCE_EOF)
            s->demux_eof = true;
        if (avcodec_send_packet(s->dec, s->demux_eof ? NULL : s->pkt) < 0 && !s->demux_eof)
            continue; /* a damaged packet: skip it */
    }
    if (s->pcm_len == 0)
        return TSR_AUDIO_SOURCE_EOF;
    while (s->pcm_len < FRAME) {
        int r = pcm_append(s, 0.0f);
        if (r < 0)
            return r;
    }
    return 0;
}

static int read_transcoded(struct tsr_audio_source *s, struct tsr_audio_packet *pkt)
{
    int r = fill_frame(s);
    if (r != 0)
        return r;
    int len = tsr_opus_encode(s->enc, s->pcm, FRAME, s->out, sizeof(s->out));
    if (len < 0)
        return TSR_ERR_CODEC;
    s->pcm_len -= FRAME;
    memmove(s->pcm, s->pcm + FRAME, s->pcm_len * sizeof(*s->pcm));
    *pkt = (struct tsr_audio_packet){.data = s->out,
                                     .len_bytes = (size_t)len,
                                     .ts_rtp = (uint32_t)s->next_ts,
                                     .seq = s->seq++,
                                     .level = TSR_AUDIO_LEVEL_ABSENT};
    s->next_ts += FRAME;
    return 0;
}

int tsr_audio_source_read(struct tsr_audio_source *src, struct tsr_audio_packet *pkt)
{
    return src->passthrough ? read_passthrough(src, pkt) : read_transcoded(src, pkt);
}

int tsr_audio_sink_add_stream(AVFormatContext *oc, int channels, AVStream **out)
{
    if (!oc || (channels != 1 && channels != 2))
        return TSR_ERR_INVALID;
    AVStream *st = avformat_new_stream(oc, NULL);
    if (!st)
        return -ENOMEM;
    AVCodecParameters *par = st->codecpar;
    par->codec_type = AVMEDIA_TYPE_AUDIO;
    par->codec_id = AV_CODEC_ID_OPUS;
    par->sample_rate = TSR_OPUS_RATE_HZ;
    av_channel_layout_default(&par->ch_layout, channels);
    par->initial_padding = OPUS_PRE_SKIP;
    par->frame_size = FRAME; /* the mixer's 20 ms; MP4 wants it */
    /* OpusHead (RFC 7845 §5.1): containers need it to describe the stream. */
    uint8_t *head = av_mallocz(19 + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!head)
        return -ENOMEM;
    memcpy(head, "OpusHead", 8);
    head[8] = 1; /* version */
    head[9] = (uint8_t)channels;
    head[10] = OPUS_PRE_SKIP & 0xff; /* little endian */
    head[11] = OPUS_PRE_SKIP >> 8;
    head[12] = TSR_OPUS_RATE_HZ & 0xff;
    head[13] = (TSR_OPUS_RATE_HZ >> 8) & 0xff;
    head[14] = (TSR_OPUS_RATE_HZ >> 16) & 0xff;
    head[15] = 0; /* rate >> 24, gain (2 bytes), mapping family 0 stay zero */
    par->extradata = head;
    par->extradata_size = 19;
    st->time_base = (AVRational){1, TSR_OPUS_RATE_HZ};
    *out = st;
    return 0;
}

int tsr_audio_sink_write(AVFormatContext *oc, AVStream *st, const uint8_t *data, size_t len,
                         int64_t pts_48k, int duration_48k)
{
    if (len > INT32_MAX)
        return TSR_ERR_INVALID;
    AVPacket *p = av_packet_alloc();
    if (!p || av_new_packet(p, (int)len) < 0) {
        av_packet_free(&p);
        return -ENOMEM;
    }
    memcpy(p->data, data, len);
    p->pts = p->dts = pts_48k;
    p->duration = duration_48k;
    p->stream_index = st->index;
    av_packet_rescale_ts(p, (AVRational){1, TSR_OPUS_RATE_HZ}, st->time_base);
    int r = av_interleaved_write_frame(oc, p);
    av_packet_free(&p);
    return r < 0 ? TSR_ERR_IO : 0;
}
