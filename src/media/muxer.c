/* Recording files and live pushes through libavformat (tessera/muxer.h). */
#include <tessera/muxer.h>

#include <libavformat/avformat.h>
#include <libavutil/avstring.h>
#include <libavutil/channel_layout.h>
#include <libavutil/time.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Matroska closes a cluster after this long: what a SIGKILL can lose at most, plus
 * the kernel's page cache (which survives a killed process). */
#define CLUSTER_MS "1000"

struct tsr_muxer {
    AVFormatContext *fmt;
    enum tsr_muxer_container container;
    bool started;
    bool failed;             /* a write failed: no trailer */
    int64_t last_pts_us[2];  /* per stream, to keep timestamps strictly increasing */
    int64_t io_timeout_us;
    int64_t deadline_us;     /* blocking network I/O gives up after this (0: never) */
    const atomic_int *abort;
    bool aborted;            /* the interrupt was the abort flag, not the deadline */
};

/* libavformat's network code polls this while it waits; files never call it. */
static int interrupt_cb(void *opaque)
{
    struct tsr_muxer *m = opaque;
    if (m->abort && atomic_load(m->abort)) {
        m->aborted = true;
        return 1;
    }
    return m->deadline_us && av_gettime_relative() > m->deadline_us;
}

static void arm_deadline(struct tsr_muxer *m)
{
    m->deadline_us = m->io_timeout_us ? av_gettime_relative() + m->io_timeout_us : 0;
}

int tsr_muxer_open(struct tsr_muxer **out, enum tsr_muxer_container container, const char *url,
                   int64_t io_timeout_ms, const atomic_int *abort)
{
    if (!url || !*url)
        return AVERROR(EINVAL);
    struct tsr_muxer *m = calloc(1, sizeof *m);
    if (!m)
        return AVERROR(ENOMEM);
    m->container = container;
    m->abort = abort;
    m->io_timeout_us = io_timeout_ms * 1000;
    m->last_pts_us[0] = m->last_pts_us[1] = INT64_MIN;
    const char *fmt_name = container == TSR_MUXER_FLV ? "flv" : "matroska";
    int rc = avformat_alloc_output_context2(&m->fmt, NULL, fmt_name, NULL);
    if (rc < 0) {
        free(m);
        return rc;
    }
    m->fmt->interrupt_callback = (AVIOInterruptCB){.callback = interrupt_cb, .opaque = m};
    /* A file path is never taken for a protocol ("rtmp:" in a directory name). */
    char *target = container == TSR_MUXER_FLV ? av_strdup(url) : av_asprintf("file:%s", url);
    arm_deadline(m);
    rc = target ? avio_open2(&m->fmt->pb, target, AVIO_FLAG_WRITE, &m->fmt->interrupt_callback,
                             NULL)
                : AVERROR(ENOMEM);
    av_free(target);
    if (rc < 0) {
        rc = m->aborted ? AVERROR_EXIT : rc;
        avformat_free_context(m->fmt);
        free(m);
        return rc;
    }
    *out = m;
    return 0;
}

static int set_extradata(AVCodecParameters *par, const uint8_t *data, size_t len)
{
    if (!len)
        return 0;
    par->extradata = av_mallocz(len + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!par->extradata)
        return AVERROR(ENOMEM);
    memcpy(par->extradata, data, len);
    par->extradata_size = (int)len;
    return 0;
}

/* RFC 7845 identification header: what Matroska stores as Opus' CodecPrivate. */
static int opus_head(AVCodecParameters *par, int channels)
{
    uint8_t h[19] = {'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, (uint8_t)channels};
    /* pre-skip 0: the mixer's encoder delay is a few ms of the first packet */
    uint32_t rate = 48000;
    for (int i = 0; i < 4; i++)
        h[12 + i] = (uint8_t)(rate >> (8 * i));
    return set_extradata(par, h, sizeof h);
}

static int add_streams(struct tsr_muxer *m, const struct tsr_muxer_streams *s)
{
    AVStream *v = avformat_new_stream(m->fmt, NULL);
    AVStream *a = avformat_new_stream(m->fmt, NULL);
    if (!v || !a)
        return AVERROR(ENOMEM);
    v->time_base = a->time_base = (AVRational){1, 1000};
    AVCodecParameters *vp = v->codecpar, *ap = a->codecpar;
    vp->codec_type = AVMEDIA_TYPE_VIDEO;
    vp->codec_id = s->video_codec == TSR_VIDEO_CODEC_H264 ? AV_CODEC_ID_H264 : AV_CODEC_ID_VP8;
    vp->width = s->width;
    vp->height = s->height;
    vp->format = AV_PIX_FMT_YUV420P;
    int rc = set_extradata(vp, s->video_extradata, s->video_extradata_len);
    ap->codec_type = AVMEDIA_TYPE_AUDIO;
    ap->codec_id = s->audio_codec == TSR_MUXER_AUDIO_AAC ? AV_CODEC_ID_AAC : AV_CODEC_ID_OPUS;
    ap->sample_rate = 48000;
    ap->frame_size = s->audio_codec == TSR_MUXER_AUDIO_AAC ? 1024 : 960;
    av_channel_layout_default(&ap->ch_layout, s->audio_channels);
    if (rc == 0)
        rc = s->audio_codec == TSR_MUXER_AUDIO_AAC
                 ? set_extradata(ap, s->audio_extradata, s->audio_extradata_len)
                 : opus_head(ap, s->audio_channels);
    return rc;
}

int tsr_muxer_start(struct tsr_muxer *m, const struct tsr_muxer_streams *s)
{
    if (m->started || (s->audio_channels != 1 && s->audio_channels != 2) || s->width <= 0 ||
        s->height <= 0 || (s->video_codec == TSR_VIDEO_CODEC_H264 && !s->video_extradata_len) ||
        (m->container == TSR_MUXER_FLV &&
         (s->video_codec != TSR_VIDEO_CODEC_H264 || s->audio_codec != TSR_MUXER_AUDIO_AAC)))
        return AVERROR(EINVAL);
    int rc = add_streams(m, s);
    if (rc < 0)
        return rc;
    AVDictionary *opts = NULL;
    if (m->container == TSR_MUXER_MATROSKA)
        av_dict_set(&opts, "cluster_time_limit", CLUSTER_MS, 0);
    else
        av_dict_set(&opts, "flvflags", "no_duration_filesize", 0); /* a live push never seeks */
    /* Every packet reaches the kernel at once: a killed server loses at most a cluster. */
    m->fmt->flags |= AVFMT_FLAG_FLUSH_PACKETS;
    m->fmt->max_interleave_delta = 1000000;
    arm_deadline(m);
    rc = avformat_write_header(m->fmt, &opts);
    av_dict_free(&opts);
    if (rc < 0) {
        m->failed = true;
        return m->aborted ? AVERROR_EXIT : rc;
    }
    m->started = true;
    return 0;
}

bool tsr_muxer_started(const struct tsr_muxer *m)
{
    return m->started;
}

int tsr_muxer_write(struct tsr_muxer *m, int stream, AVPacket *pkt, int64_t pts_us,
                    int64_t duration_us)
{
    if (!m->started || m->failed || (stream != TSR_MUXER_VIDEO && stream != TSR_MUXER_AUDIO)) {
        av_packet_unref(pkt);
        return m->failed ? AVERROR(EIO) : AVERROR(EINVAL);
    }
    /* Muxers refuse a timestamp that does not move forward within a stream. */
    if (pts_us <= m->last_pts_us[stream])
        pts_us = m->last_pts_us[stream] + 1000;
    m->last_pts_us[stream] = pts_us;
    AVStream *st = m->fmt->streams[stream];
    AVRational us = {1, 1000000};
    pkt->stream_index = stream;
    pkt->pts = pkt->dts = av_rescale_q(pts_us, us, st->time_base);
    pkt->duration = av_rescale_q(duration_us, us, st->time_base);
    pkt->pos = -1;
    arm_deadline(m);
    int rc = av_interleaved_write_frame(m->fmt, pkt);
    av_packet_unref(pkt);
    if (rc == 0 && m->fmt->pb && m->fmt->pb->error < 0)
        rc = m->fmt->pb->error;
    if (rc < 0) {
        m->failed = true;
        return m->aborted ? AVERROR_EXIT : rc;
    }
    return 0;
}

int64_t tsr_muxer_bytes(const struct tsr_muxer *m)
{
    return m && m->fmt && m->fmt->pb ? avio_tell(m->fmt->pb) : 0;
}

int tsr_muxer_close(struct tsr_muxer **pm)
{
    if (!pm || !*pm)
        return 0;
    struct tsr_muxer *m = *pm;
    *pm = NULL;
    int rc = 0;
    arm_deadline(m);
    if (m->started && !m->failed)
        rc = av_write_trailer(m->fmt);
    int rc2 = avio_closep(&m->fmt->pb);
    avformat_free_context(m->fmt);
    free(m);
    return rc < 0 ? rc : rc2;
}

struct reason_row {
    int err;
    const char *label;
    const char *text;
};

static const struct reason_row reasons[] = {
    {ENOSPC, "disk_full", "disk full"},
    {EDQUOT, "disk_full", "disk quota exceeded"},
    {EFBIG, "disk_full", "file too large"},
    {EACCES, "permission", "permission denied"},
    {EPERM, "permission", "permission denied"},
    {EROFS, "permission", "read-only file system"},
    {ENOENT, "not_found", "no such directory"},
    {ENOTDIR, "not_found", "no such directory"},
    {ECONNREFUSED, "unreachable", "connection refused"},
    {EHOSTUNREACH, "unreachable", "host unreachable"},
    {ENETUNREACH, "unreachable", "network unreachable"},
    {ETIMEDOUT, "timeout", "timed out"},
    {ECONNRESET, "connection_lost", "connection reset"},
    {EPIPE, "connection_lost", "connection closed by the server"},
};

static const struct reason_row *reason_find(int err)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (err == AVERROR(reasons[i].err))
            return &reasons[i];
    return NULL;
}

const char *tsr_muxer_reason(int err, char *buf, size_t size)
{
    const struct reason_row *r = reason_find(err);
    if (r)
        snprintf(buf, size, "%s", r->text);
    else if (err == AVERROR_EXIT)
        snprintf(buf, size, "timed out");
    else if (err == AVERROR(EIO) || av_strerror(err, buf, size) < 0)
        snprintf(buf, size, "I/O error");
    return buf;
}

const char *tsr_muxer_reason_label(int err)
{
    const struct reason_row *r = reason_find(err);
    if (r)
        return r->label;
    return err == AVERROR_EXIT ? "timeout" : "io";
}

/* Start of the next NAL unit at or after `i` (just past its start code), or len. */
static size_t next_nal(const uint8_t *p, size_t len, size_t i, size_t *code_at)
{
    for (; i + 3 <= len; i++) {
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1) {
            *code_at = i > 0 && p[i - 1] == 0 ? i - 1 : i;
            return i + 3;
        }
    }
    *code_at = len;
    return len;
}

size_t tsr_muxer_h264_parameter_sets(const uint8_t *au, size_t len, uint8_t *out, size_t cap)
{
    static const uint8_t start[4] = {0, 0, 0, 1};
    size_t n = 0, code_at = 0;
    bool sps = false, pps = false;
    size_t nal = next_nal(au, len, 0, &code_at);
    while (nal < len) {
        size_t end_code = len;
        size_t next = next_nal(au, len, nal, &end_code);
        int type = au[nal] & 0x1f;
        size_t size = end_code - nal;
        if ((type == 7 || type == 8) && size > 0) {
            if (n + sizeof start + size > cap)
                return 0;
            memcpy(out + n, start, sizeof start);
            memcpy(out + n + sizeof start, au + nal, size);
            n += sizeof start + size;
            sps |= type == 7;
            pps |= type == 8;
        }
        nal = next;
    }
    return sps && pps ? n : 0;
}
