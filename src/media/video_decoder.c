/* Per-participant video decoder: libavcodec behind a "latest clean picture" slot.
 *
 * Why a slot and not a queue: the mixer samples each participant at its own output
 * rate, so only the newest picture matters; older ones would only cost copies.
 * Why skip delta frames after an error instead of decoding them: their references
 * are broken, so they could only show smeared garbage, and decoding them costs CPU. */
#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/video_decoder.h>

#include <errno.h>
#include <libavcodec/avcodec.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Home thread: the caller's decode worker (one at a time). */
struct tsr_video_decoder {
    enum tsr_video_codec codec;
    char log_ctx[96];
    tsr_video_decoder_keyframe_fn on_keyframe_request;
    void *user;
    uint32_t retry_rtp; /* keyframe re-request interval, 90 kHz ticks */

    AVCodecContext *avctx;
    AVPacket *pkt;
    AVFrame *work;   /* receives decoder output */
    AVFrame *latest; /* published picture; empty before the first */
    uint64_t seq;

    bool waiting_keyframe;
    bool requested_since_wait; /* a request went out during this wait */
    uint32_t last_request_ts;

    struct tsr_video_decoder_stats stats;
    struct tsr_counter *errors_counter;
    struct tsr_counter *kf_counter;
};

static int open_codec(struct tsr_video_decoder *dec, int threads)
{
    enum AVCodecID id = dec->codec == TSR_VIDEO_CODEC_VP8 ? AV_CODEC_ID_VP8 : AV_CODEC_ID_H264;
    const AVCodec *codec = avcodec_find_decoder(id);
    if (!codec)
        return TSR_ERR_CODEC;
    dec->avctx = avcodec_alloc_context3(codec);
    if (!dec->avctx)
        return -ENOMEM;
    /* Slice threads only: frame threading adds a frame of latency per thread. */
    dec->avctx->thread_count = threads > 1 ? threads : 1;
    dec->avctx->thread_type = FF_THREAD_SLICE;
    /* Make the decoders report damage instead of concealing it silently: a concealed
     * picture would be shown to everyone and then serve as a broken reference. */
    dec->avctx->err_recognition = AV_EF_CRCCHECK | AV_EF_BITSTREAM | AV_EF_BUFFER | AV_EF_EXPLODE;
    if (avcodec_open2(dec->avctx, codec, NULL) < 0)
        return TSR_ERR_CODEC;
    return 0;
}

int tsr_video_decoder_new(struct tsr_video_decoder **out,
                          const struct tsr_video_decoder_params *params)
{
    int ret = 0;
    struct tsr_video_decoder *dec = NULL;
    if (!out || !params ||
        (params->codec != TSR_VIDEO_CODEC_VP8 && params->codec != TSR_VIDEO_CODEC_H264) ||
        params->keyframe_retry_ms < 0 || params->threads < 0) {
        ret = -EINVAL;
        goto fail;
    }
    dec = calloc(1, sizeof *dec);
    if (!dec) {
        ret = -ENOMEM;
        goto fail;
    }
    dec->codec = params->codec;
    snprintf(dec->log_ctx, sizeof dec->log_ctx, "%s", params->log_ctx ? params->log_ctx : "video");
    dec->on_keyframe_request = params->on_keyframe_request;
    dec->user = params->user;
    dec->retry_rtp = (uint32_t)(params->keyframe_retry_ms ? params->keyframe_retry_ms : 1000) * 90u;
    dec->waiting_keyframe = true;
    dec->pkt = av_packet_alloc();
    dec->work = av_frame_alloc();
    dec->latest = av_frame_alloc();
    if (!dec->pkt || !dec->work || !dec->latest) {
        ret = -ENOMEM;
        goto fail;
    }
    ret = open_codec(dec, params->threads);
    if (ret < 0)
        goto fail;
    char labels[64];
    snprintf(labels, sizeof labels, "codec=\"%s\"", tsr_video_codec_name(dec->codec));
    dec->errors_counter = tsr_metrics_counter("tessera_video_decode_errors_total", labels,
                                              "Corrupt or truncated video frames.");
    dec->kf_counter = tsr_metrics_counter("tessera_video_decoder_keyframe_requests_total", labels,
                                          "Keyframe requests raised by video decoders.");
    *out = dec;
    return 0;
fail:
    tsr_video_decoder_free(&dec);
    return ret;
}

void tsr_video_decoder_free(struct tsr_video_decoder **p)
{
    if (!p || !*p)
        return;
    struct tsr_video_decoder *dec = *p;
    avcodec_free_context(&dec->avctx);
    av_packet_free(&dec->pkt);
    av_frame_free(&dec->work);
    av_frame_free(&dec->latest);
    free(dec);
    *p = NULL;
}

static void request_keyframe(struct tsr_video_decoder *dec, uint32_t ts_rtp, bool force)
{
    /* While waiting, repeat the request only every retry interval of input time:
     * the sender's PLI handling is rate-limited too, flooding it gains nothing. */
    if (!force && dec->requested_since_wait &&
        (uint32_t)(ts_rtp - dec->last_request_ts) < dec->retry_rtp)
        return;
    dec->requested_since_wait = true;
    dec->last_request_ts = ts_rtp;
    dec->stats.keyframe_requests++;
    tsr_counter_inc(dec->kf_counter);
    if (dec->on_keyframe_request)
        dec->on_keyframe_request(dec->user);
}

static int fail_frame(struct tsr_video_decoder *dec, uint32_t ts_rtp, int err, const char *why)
{
    dec->stats.errors++;
    tsr_counter_inc(dec->errors_counter);
    TSR_LOG_RL(TSR_LOG_WARN, dec->log_ctx, 2000, "%s frame dropped (%s); waiting for a keyframe",
               tsr_video_codec_name(dec->codec), why);
    /* Drop the decoder's references: nothing decoded from them can be trusted. */
    avcodec_flush_buffers(dec->avctx);
    bool was_waiting = dec->waiting_keyframe;
    dec->waiting_keyframe = true;
    request_keyframe(dec, ts_rtp, !was_waiting);
    return err;
}

static bool frame_is_damaged(const AVFrame *f)
{
    return f->decode_error_flags != 0 || (f->flags & AV_FRAME_FLAG_CORRUPT) != 0;
}

static bool format_supported(int fmt)
{
    return fmt == AV_PIX_FMT_YUV420P || fmt == AV_PIX_FMT_YUVJ420P || fmt == AV_PIX_FMT_YUV422P ||
           fmt == AV_PIX_FMT_YUVJ422P || fmt == AV_PIX_FMT_YUV444P || fmt == AV_PIX_FMT_YUVJ444P ||
           fmt == AV_PIX_FMT_NV12;
}

static void publish(struct tsr_video_decoder *dec)
{
    if (dec->seq > 0 &&
        (dec->latest->width != dec->work->width || dec->latest->height != dec->work->height))
        dec->stats.resolution_changes++;
    av_frame_unref(dec->latest);
    av_frame_move_ref(dec->latest, dec->work);
    dec->seq++;
    dec->stats.frames_decoded++;
    dec->waiting_keyframe = false;
    dec->requested_since_wait = false;
}

/* Drain every picture the codec has ready. Returns 0 (published), TSR_ERR_AGAIN
 * (none) or TSR_ERR_INVALID (a damaged picture came out). */
static int receive_pictures(struct tsr_video_decoder *dec)
{
    int result = TSR_ERR_AGAIN;
    for (;;) {
        int ret = avcodec_receive_frame(dec->avctx, dec->work);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
            return result;
        if (ret < 0)
            return TSR_ERR_INVALID;
        if (frame_is_damaged(dec->work) || !format_supported(dec->work->format) ||
            dec->work->width <= 0 || dec->work->height <= 0) {
            av_frame_unref(dec->work);
            return TSR_ERR_INVALID;
        }
        publish(dec);
        result = 0;
    }
}

/* VP8 frame tag and keyframe header (RFC 6386 §9.1): libavcodec reads a short last
 * partition as zeros without complaint, so check what the bitstream does state: the
 * first partition must fit, a keyframe must carry its start code and a size. */
static bool vp8_header_ok(const uint8_t *d, size_t len)
{
    if (len < 3)
        return false;
    uint32_t tag = (uint32_t)d[0] | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 16;
    bool key = (tag & 1) == 0;
    size_t first_part = tag >> 5;
    size_t header = key ? 10 : 3;
    if (len < header || first_part == 0 || first_part > len - header)
        return false;
    if (key) {
        if (d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a)
            return false;
        if ((((unsigned)d[6] | (unsigned)d[7] << 8) & 0x3fff) == 0 ||
            (((unsigned)d[8] | (unsigned)d[9] << 8) & 0x3fff) == 0)
            return false;
    }
    return true;
}

/* H.264 access unit in Annex B: must start with a start code and a NAL header whose
 * forbidden bit is clear. Deeper damage is left to the decoder (AV_EF_EXPLODE). */
static bool h264_header_ok(const uint8_t *d, size_t len)
{
    size_t i;
    if (len >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 1)
        i = 3;
    else if (len >= 5 && d[0] == 0 && d[1] == 0 && d[2] == 0 && d[3] == 1)
        i = 4;
    else
        return false;
    return (d[i] & 0x80) == 0;
}

int tsr_video_decoder_decode(struct tsr_video_decoder *dec, const uint8_t *data, size_t len,
                             uint32_t ts_rtp, bool keyframe)
{
    if (!dec)
        return -EINVAL;
    dec->stats.frames_in++;
    if (!data || len == 0)
        return fail_frame(dec, ts_rtp, -EINVAL, "empty frame");
    if (len > INT_MAX - AV_INPUT_BUFFER_PADDING_SIZE)
        return fail_frame(dec, ts_rtp, TSR_ERR_INVALID, "frame too large");
    bool header_ok =
        dec->codec == TSR_VIDEO_CODEC_VP8 ? vp8_header_ok(data, len) : h264_header_ok(data, len);
    if (!header_ok)
        return fail_frame(dec, ts_rtp, TSR_ERR_TRUNCATED, "bad or truncated frame header");
    if (dec->waiting_keyframe && !keyframe) {
        dec->stats.frames_skipped++;
        request_keyframe(dec, ts_rtp, false);
        return TSR_ERR_AGAIN;
    }
    if (av_new_packet(dec->pkt, (int)len) < 0)
        return -ENOMEM;
    memcpy(dec->pkt->data, data, len);
    dec->pkt->pts = ts_rtp;
    if (keyframe)
        dec->pkt->flags |= AV_PKT_FLAG_KEY;
    int ret = avcodec_send_packet(dec->avctx, dec->pkt);
    av_packet_unref(dec->pkt);
    if (ret == AVERROR_INVALIDDATA)
        return fail_frame(dec, ts_rtp, TSR_ERR_INVALID, "invalid bitstream");
    if (ret < 0 && ret != AVERROR(EAGAIN))
        return fail_frame(dec, ts_rtp, TSR_ERR_TRUNCATED, "decoder rejected frame");
    /* The codec took the keyframe: the reference chain restarts here. Its picture
     * may come out later (H.264 with B-frames reorders), so the wait ends now and
     * the frames after it are decoded; damaged pictures are still never shown. */
    if (keyframe && dec->waiting_keyframe) {
        dec->waiting_keyframe = false;
        dec->requested_since_wait = false;
    }
    ret = receive_pictures(dec);
    if (ret == TSR_ERR_INVALID)
        return fail_frame(dec, ts_rtp, TSR_ERR_INVALID, "damaged picture");
    return ret;
}

int tsr_video_decoder_latest(struct tsr_video_decoder *dec, AVFrame **out, uint64_t *seq)
{
    if (!dec || !out)
        return -EINVAL;
    if (dec->seq == 0)
        return TSR_ERR_AGAIN;
    AVFrame *f = av_frame_clone(dec->latest);
    if (!f)
        return -ENOMEM;
    *out = f;
    if (seq)
        *seq = dec->seq;
    return 0;
}

uint64_t tsr_video_decoder_seq(const struct tsr_video_decoder *dec)
{
    return dec ? dec->seq : 0;
}

bool tsr_video_decoder_waiting_keyframe(const struct tsr_video_decoder *dec)
{
    return dec ? dec->waiting_keyframe : false;
}

void tsr_video_decoder_get_stats(const struct tsr_video_decoder *dec,
                                 struct tsr_video_decoder_stats *out)
{
    if (dec && out)
        *out = dec->stats;
}
