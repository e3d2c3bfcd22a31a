/* tessera-mix: mix video files into one composed, encoded file through the same
 * decoder -> layout -> compositor -> encoder group modules the server uses.
 *
 *   tessera-mix [--layout NAME] [--size WxH] [--fps N] [--codec h264|vp8]
 *               [--encoder auto|software|vaapi] [--vaapi-device PATH] [--bitrate RATE]
 *               [--gap PX] [--background RRGGBB] [--duration S]
 *               [--names "A,B,…"] [--font PATH] -o OUT IN...
 *
 * Each input is a participant; the first one listed counts as the latest talker.
 * Frames are consumed in timestamp order as fast as the CPU allows: output frame n
 * shows, for every input, the newest picture whose timestamp is <= n / fps. An input
 * that cannot be opened or decoded is reported and left out; the others still mix.
 * VP8 and H.264 inputs use the server's decoder; anything else FFmpeg reads is
 * decoded by libavcodec directly (the server never receives those).
 *
 * Audio (--audio-for N, --audio-bitrate RATE): each input's audio track is a
 * participant of the server's audio mixer (tessera/file_mix_audio.h); the output
 * gets one Opus track with the full mix (what a participant who is not talking
 * hears) or, with --audio-for N, what input N (1 = first listed) hears: everyone
 * but itself. When no input has audio the output has no audio track. */
#include <tessera/compositor.h>
#include <tessera/encoder_group.h>
#include <tessera/err.h>
#include <tessera/file_mix_audio.h>
#include <tessera/hwdevice.h>
#include <tessera/labels.h>
#include <tessera/layout.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/video_decoder.h>

#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_INPUTS TSR_LAYOUT_MAX_TILES

struct options {
    enum tsr_layout_kind layout;
    int width, height, fps, gap;
    enum tsr_video_codec codec;
    enum tsr_encoder_backend backend;
    const char *vaapi_device;
    int64_t bitrate_bps;
    uint32_t background_rgb;
    double duration_s;
    const char *out;
    uint32_t audio_for;
    int64_t audio_bitrate_bps;
    const char *names; /* comma-separated, one per input in order; NULL: no labels */
    const char *font;
};

struct input {
    const char *path;
    uint32_t id;
    AVFormatContext *fmt;
    int stream;
    AVRational tb;
    int64_t start_pts;
    AVBSFContext *bsf;             /* H.264 in MP4/MKV -> Annex B */
    struct tsr_video_decoder *dec; /* VP8 / H.264 */
    AVCodecContext *generic;       /* anything else */
    struct SwsContext *sws;
    AVFrame *generic_frame; /* latest picture of the generic path */
    uint64_t generic_seq;
    AVPacket *pending; /* read ahead, not yet due */
    bool eof;
    uint64_t seen_seq;
    char *name; /* --names entry; NULL: none */
    struct tsr_label *label, *initials;
    struct tsr_compositor_overlay overlay;
};

struct output {
    AVFormatContext *fmt;
    AVStream *st;
    bool header_written;
    int failed;
    int64_t packets;
};

static void usage(FILE *f)
{
    fprintf(f, "usage: tessera-mix [--layout NAME] [--size WxH] [--fps N] [--codec h264|vp8]\n"
               "                   [--encoder auto|software|vaapi] [--vaapi-device PATH]\n"
               "                   [--bitrate RATE] [--gap PX] [--background RRGGBB]\n"
               "                   [--duration S] [--audio-for N] [--audio-bitrate RATE]\n"
               "                   [--names \"A,B,...\"] [--font PATH]\n"
               "                   -o OUT IN...\n"
               "layouts: grid ac four 4:0 single 1:0 speaker 1:7 1:21 2:21 presentation\n");
}

static int parse_rate(const char *s, int64_t *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || v <= 0)
        return -EINVAL;
    if (*end == 'k' || *end == 'K')
        v *= 1e3, end++;
    else if (*end == 'm' || *end == 'M')
        v *= 1e6, end++;
    if (*end)
        return -EINVAL;
    *out = (int64_t)v;
    return 0;
}

static int check_args(const struct options *o, int n_inputs)
{
    if (!o->out || n_inputs < 1) {
        fprintf(stderr, "tessera-mix: need -o OUT and at least one input\n");
        return -EINVAL;
    }
    if (o->width < 64 || o->height < 36 || (o->width & 1) || (o->height & 1)) {
        fprintf(stderr, "tessera-mix: --size must be even and at least 64x36\n");
        return -EINVAL;
    }
    return 0;
}

/* Applies one option; returns 1 when its value is bad, -1 for an unknown option. */
static int apply_option(int c, struct options *o)
{
    int bad = 0;
    switch (c) {
    case 'l':
        bad = tsr_layout_parse(optarg, &o->layout) < 0;
        break;
    case 's':
        bad = sscanf(optarg, "%dx%d", &o->width, &o->height) != 2;
        break;
    case 'f':
        o->fps = atoi(optarg);
        bad = o->fps < 1 || o->fps > 120;
        break;
    case 'c':
        bad = tsr_video_codec_parse(optarg, &o->codec) < 0;
        break;
    case 'e':
        bad = tsr_encoder_backend_parse(optarg, &o->backend) < 0;
        break;
    case 'd':
        o->vaapi_device = optarg;
        break;
    case 'b':
        bad = parse_rate(optarg, &o->bitrate_bps) < 0;
        break;
    case 'g':
        o->gap = atoi(optarg);
        bad = o->gap < 0 || o->gap > 64;
        break;
    case 'B':
        o->background_rgb = (uint32_t)strtoul(optarg, NULL, 16);
        break;
    case 't':
        o->duration_s = atof(optarg);
        bad = o->duration_s < 0;
        break;
    case 'A':
        o->audio_for = (uint32_t)atoi(optarg);
        bad = atoi(optarg) < 1;
        break;
    case 'R':
        bad = parse_rate(optarg, &o->audio_bitrate_bps) < 0 || o->audio_bitrate_bps < 6000 ||
              o->audio_bitrate_bps > 510000;
        break;
    case 'N':
        o->names = optarg;
        break;
    case 'F':
        o->font = optarg;
        break;
    case 'o':
        o->out = optarg;
        break;
    case 'h':
        usage(stdout);
        exit(0);
    default:
        return -1;
    }
    return bad;
}

static int parse_args(int argc, char **argv, struct options *o, int *first_input)
{
    static const struct option longopts[] = {{"layout", required_argument, NULL, 'l'},
                                             {"size", required_argument, NULL, 's'},
                                             {"fps", required_argument, NULL, 'f'},
                                             {"codec", required_argument, NULL, 'c'},
                                             {"encoder", required_argument, NULL, 'e'},
                                             {"vaapi-device", required_argument, NULL, 'd'},
                                             {"bitrate", required_argument, NULL, 'b'},
                                             {"gap", required_argument, NULL, 'g'},
                                             {"background", required_argument, NULL, 'B'},
                                             {"duration", required_argument, NULL, 't'},
                                             {"audio-for", required_argument, NULL, 'A'},
                                             {"audio-bitrate", required_argument, NULL, 'R'},
                                             {"names", required_argument, NULL, 'N'},
                                             {"font", required_argument, NULL, 'F'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    *o = (struct options){.layout = TSR_LAYOUT_GRID,
                          .width = 1280,
                          .height = 720,
                          .fps = 30,
                          .codec = TSR_VIDEO_CODEC_H264,
                          .bitrate_bps = 2000000,
                          .background_rgb = 0x101010,
                          .duration_s = 0,
                          .audio_bitrate_bps = 64000};
    int c, idx = -1;
    while ((c = getopt_long(argc, argv, "o:h", longopts, &idx)) != -1) {
        int bad = apply_option(c, o);
        if (bad < 0)
            return -EINVAL;
        if (bad) {
            fprintf(stderr, "tessera-mix: bad value '%s' for --%s\n", optarg,
                    idx >= 0 ? longopts[idx].name : "?");
            return -EINVAL;
        }
        idx = -1;
    }
    *first_input = optind;
    return check_args(o, argc - optind);
}

static int open_generic(struct input *in, const AVCodecParameters *par)
{
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec)
        return TSR_ERR_UNSUPPORTED;
    in->generic = avcodec_alloc_context3(codec);
    in->generic_frame = av_frame_alloc();
    if (!in->generic || !in->generic_frame || avcodec_parameters_to_context(in->generic, par) < 0 ||
        avcodec_open2(in->generic, codec, NULL) < 0)
        return TSR_ERR_CODEC;
    return 0;
}

static int open_decoder(struct input *in, const AVCodecParameters *par)
{
    if (par->codec_id != AV_CODEC_ID_VP8 && par->codec_id != AV_CODEC_ID_H264)
        return open_generic(in, par);
    struct tsr_video_decoder_params dp = {
        .codec = par->codec_id == AV_CODEC_ID_VP8 ? TSR_VIDEO_CODEC_VP8 : TSR_VIDEO_CODEC_H264,
        .log_ctx = in->path};
    int ret = tsr_video_decoder_new(&in->dec, &dp);
    if (ret < 0 || par->codec_id != AV_CODEC_ID_H264)
        return ret;
    /* The server receives Annex B from RTP; files usually carry length prefixes. */
    const AVBitStreamFilter *f = av_bsf_get_by_name("h264_mp4toannexb");
    if (!f || av_bsf_alloc(f, &in->bsf) < 0 || avcodec_parameters_copy(in->bsf->par_in, par) < 0)
        return TSR_ERR_CODEC;
    in->bsf->time_base_in = in->tb;
    return av_bsf_init(in->bsf) < 0 ? TSR_ERR_CODEC : 0;
}

static int open_input(struct input *in)
{
    char err[128];
    int ret = avformat_open_input(&in->fmt, in->path, NULL, NULL);
    if (ret >= 0)
        ret = avformat_find_stream_info(in->fmt, NULL);
    if (ret >= 0)
        ret = av_find_best_stream(in->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (ret < 0) {
        av_strerror(ret, err, sizeof err);
        fprintf(stderr, "tessera-mix: %s: cannot read video (%s); left out of the mix\n", in->path,
                err);
        return ret;
    }
    in->stream = ret;
    AVStream *st = in->fmt->streams[in->stream];
    in->tb = st->time_base;
    in->start_pts = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
    in->pending = av_packet_alloc();
    ret = in->pending ? open_decoder(in, st->codecpar) : -ENOMEM;
    if (ret < 0) {
        fprintf(stderr, "tessera-mix: %s: no decoder for %s (%s); left out of the mix\n", in->path,
                avcodec_get_name(st->codecpar->codec_id), tsr_strerror(ret));
        return ret;
    }
    return 0;
}

static void close_input(struct input *in)
{
    avformat_close_input(&in->fmt);
    av_bsf_free(&in->bsf);
    tsr_video_decoder_free(&in->dec);
    avcodec_free_context(&in->generic);
    sws_freeContext(in->sws);
    in->sws = NULL;
    av_frame_free(&in->generic_frame);
    av_packet_free(&in->pending);
    g_free(in->name);
    in->name = NULL;
    tsr_label_free(&in->label);
    tsr_label_free(&in->initials);
}

/* Generic path: decode and keep the newest picture, converted to yuv420p when the
 * compositor does not take its format. */
static void generic_decode(struct input *in, AVPacket *pkt)
{
    if (avcodec_send_packet(in->generic, pkt) < 0)
        return;
    AVFrame *f = av_frame_alloc();
    while (f && avcodec_receive_frame(in->generic, f) == 0) {
        int fmt = f->format;
        bool ok = fmt == AV_PIX_FMT_YUV420P || fmt == AV_PIX_FMT_YUVJ420P ||
                  fmt == AV_PIX_FMT_YUV422P || fmt == AV_PIX_FMT_YUV444P || fmt == AV_PIX_FMT_NV12;
        av_frame_unref(in->generic_frame);
        if (ok) {
            av_frame_move_ref(in->generic_frame, f);
        } else {
            AVFrame *g = in->generic_frame;
            g->format = AV_PIX_FMT_YUV420P;
            g->width = f->width & ~1;
            g->height = f->height & ~1;
            in->sws = sws_getCachedContext(in->sws, f->width, f->height, fmt, g->width, g->height,
                                           AV_PIX_FMT_YUV420P, SWS_BILINEAR, NULL, NULL, NULL);
            if (!in->sws || g->width < 2 || g->height < 2 || av_frame_get_buffer(g, 0) < 0) {
                av_frame_unref(g);
                av_frame_unref(f);
                continue;
            }
            sws_scale(in->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, g->data,
                      g->linesize);
            av_frame_unref(f);
        }
        in->generic_seq++;
    }
    av_frame_free(&f);
}

static void feed(struct input *in, AVPacket *pkt)
{
    int64_t pts = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
    uint32_t ts = (uint32_t)av_rescale_q(pts - in->start_pts, in->tb, (AVRational){1, 90000});
    if (in->generic) {
        generic_decode(in, pkt);
        return;
    }
    if (!in->bsf) {
        tsr_video_decoder_decode(in->dec, pkt->data, (size_t)pkt->size, ts,
                                 (pkt->flags & AV_PKT_FLAG_KEY) != 0);
        return;
    }
    if (av_bsf_send_packet(in->bsf, pkt) < 0)
        return;
    AVPacket *out = av_packet_alloc();
    while (out && av_bsf_receive_packet(in->bsf, out) == 0) {
        tsr_video_decoder_decode(in->dec, out->data, (size_t)out->size, ts,
                                 (out->flags & AV_PKT_FLAG_KEY) != 0);
        av_packet_unref(out);
    }
    av_packet_free(&out);
}

/* Decode every packet of `in` due by `t_s` (seconds from the input's start). */
static void advance(struct input *in, double t_s)
{
    while (!in->eof) {
        if (!in->pending->data) {
            int ret;
            while ((ret = av_read_frame(in->fmt, in->pending)) >= 0 &&
                   in->pending->stream_index != in->stream)
                av_packet_unref(in->pending);
            if (ret < 0) {
                in->eof = true;
                return;
            }
        }
        /* Gate on decode order (dts) so B-frame streams are fed in order. */
        int64_t ts = in->pending->dts != AV_NOPTS_VALUE ? in->pending->dts : in->pending->pts;
        if (ts != AV_NOPTS_VALUE && (ts - in->start_pts) * av_q2d(in->tb) > t_s)
            return;
        feed(in, in->pending);
        av_packet_unref(in->pending);
    }
}

static AVFrame *latest_frame(struct input *in, uint64_t *seq)
{
    if (in->generic) {
        *seq = in->generic_seq;
        return in->generic_seq ? av_frame_clone(in->generic_frame) : NULL;
    }
    AVFrame *f = NULL;
    if (tsr_video_decoder_latest(in->dec, &f, seq) < 0)
        return NULL;
    return f;
}

static const uint8_t *next_start_code(const uint8_t *p, const uint8_t *end)
{
    for (; p + 3 <= end; p++)
        if (p[0] == 0 && p[1] == 0 && p[2] == 1)
            return p;
    return end;
}

/* H.264 SPS and PPS NAL units of an Annex B keyframe, as Annex B extradata (what
 * the MP4 and Matroska muxers turn into avcC). */
static int h264_extradata(const AVPacket *pkt, AVCodecParameters *par)
{
    const uint8_t *end = pkt->data + pkt->size;
    uint8_t *buf = av_mallocz((size_t)pkt->size + 4 + AV_INPUT_BUFFER_PADDING_SIZE);
    size_t n = 0;
    if (!buf)
        return -ENOMEM;
    for (const uint8_t *p = next_start_code(pkt->data, end); p < end;) {
        const uint8_t *nal = p + 3, *next = next_start_code(nal, end), *nal_end = next;
        while (next < end && nal_end > nal && nal_end[-1] == 0)
            nal_end--; /* the leading zero of a 4-byte start code */
        int type = nal < end ? nal[0] & 0x1f : 0;
        if ((type == 7 || type == 8) && nal_end > nal) {
            memcpy(buf + n, "\0\0\0\1", 4);
            memcpy(buf + n + 4, nal, (size_t)(nal_end - nal));
            n += 4 + (size_t)(nal_end - nal);
        }
        p = next;
    }
    if (n == 0) {
        av_free(buf);
        return TSR_ERR_INVALID;
    }
    par->extradata = buf;
    par->extradata_size = (int)n;
    return 0;
}

static void write_packet(void *user, const AVPacket *pkt)
{
    struct output *o = user;
    if (o->failed)
        return;
    if (!o->header_written) {
        if (!(pkt->flags & AV_PKT_FLAG_KEY))
            return;
        if (o->st->codecpar->codec_id == AV_CODEC_ID_H264 &&
            h264_extradata(pkt, o->st->codecpar) < 0) {
            o->failed = TSR_ERR_CODEC;
            return;
        }
        if ((o->failed = avformat_write_header(o->fmt, NULL)) < 0)
            return;
        o->header_written = true;
    }
    AVPacket *p = av_packet_clone(pkt); /* a reference: the muxer may keep it */
    if (!p) {
        o->failed = -ENOMEM;
        return;
    }
    av_packet_rescale_ts(p, (AVRational){1, 90000}, o->st->time_base);
    p->dts = p->pts;
    p->stream_index = 0;
    if (av_interleaved_write_frame(o->fmt, p) < 0)
        o->failed = TSR_ERR_IO;
    else
        o->packets++;
    av_packet_free(&p);
}

static int open_output(struct output *o, const struct options *opt)
{
    if (avformat_alloc_output_context2(&o->fmt, NULL, NULL, opt->out) < 0 || !o->fmt) {
        fprintf(stderr, "tessera-mix: %s: unknown output format (use .mp4, .mkv or .webm)\n",
                opt->out);
        return TSR_ERR_INVALID;
    }
    o->st = avformat_new_stream(o->fmt, NULL);
    if (!o->st)
        return -ENOMEM;
    o->st->time_base = (AVRational){1, 90000};
    o->st->avg_frame_rate = (AVRational){opt->fps, 1};
    AVCodecParameters *par = o->st->codecpar;
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    par->codec_id = opt->codec == TSR_VIDEO_CODEC_H264 ? AV_CODEC_ID_H264 : AV_CODEC_ID_VP8;
    par->width = opt->width;
    par->height = opt->height;
    par->format = AV_PIX_FMT_YUV420P;
    if (avformat_query_codec(o->fmt->oformat, par->codec_id, FF_COMPLIANCE_NORMAL) != 1) {
        fprintf(stderr, "tessera-mix: %s: container cannot hold %s\n", opt->out,
                avcodec_get_name(par->codec_id));
        return TSR_ERR_UNSUPPORTED;
    }
    if (!(o->fmt->oformat->flags & AVFMT_NOFILE) &&
        avio_open(&o->fmt->pb, opt->out, AVIO_FLAG_WRITE) < 0) {
        fprintf(stderr, "tessera-mix: %s: cannot create\n", opt->out);
        return TSR_ERR_IO;
    }
    return 0;
}

static void close_output(struct output *o)
{
    if (!o->fmt)
        return;
    if (o->header_written)
        av_write_trailer(o->fmt);
    if (!(o->fmt->oformat->flags & AVFMT_NOFILE))
        avio_closep(&o->fmt->pb);
    avformat_free_context(o->fmt);
    o->fmt = NULL;
}

struct mixer {
    const struct options *opt;
    struct input *inputs;
    int n_inputs;
    struct tsr_compositor *comp;
    struct tsr_encoder_group *group;
    struct tsr_layout_tile tiles[TSR_LAYOUT_MAX_TILES];
    size_t n_tiles;
    struct tsr_file_mix_audio *audio; /* NULL: no input has audio */
};

/* Audio up to the end of `frames` video frames, once the output header exists
 * (it is written with the first keyframe). */
static int mix_audio(struct mixer *m, const struct output *out, int64_t frames)
{
    if (!m->audio || !out->header_written)
        return 0;
    int ret = tsr_file_mix_audio_run_until(m->audio, (double)frames / m->opt->fps);
    if (ret < 0)
        fprintf(stderr, "tessera-mix: audio: %s\n", tsr_strerror(ret));
    return ret;
}

static struct input *input_by_id(struct mixer *m, uint32_t id)
{
    for (int i = 0; i < m->n_inputs; i++)
        if (m->inputs[i].id == id)
            return &m->inputs[i];
    return NULL;
}

/* --names: each input's name and initials, drawn once for its tile's size. */
static int setup_labels(struct mixer *m)
{
    const char *paths[] = {m->opt->font ? m->opt->font : TSR_LABEL_FONT_DEFAULT,
                           TSR_LABEL_FONT_FALLBACK_DEFAULT};
    struct tsr_label_font *font = NULL;
    int ret = tsr_label_font_new(&font, paths, G_N_ELEMENTS(paths));
    if (ret < 0) {
        fprintf(stderr, "tessera-mix: --names: no usable font (%s)\n", paths[0]);
        return ret;
    }
    for (size_t i = 0; i < m->n_tiles && ret == 0; i++) {
        struct input *in = input_by_id(m, m->tiles[i].participant_id);
        if (!in || !in->name)
            continue;
        struct tsr_compositor_label_fit fit;
        tsr_compositor_label_fit(m->tiles[i].w, m->tiles[i].h, &fit);
        char *initials = tsr_label_initials(in->name);
        if (fit.name_max_w)
            ret = tsr_label_render(font, in->name, fit.name_px, fit.name_max_w, &in->label);
        if (ret == 0)
            ret = tsr_label_render(font, initials, fit.initials_px, fit.initials_max_w,
                                   &in->initials);
        g_free(initials);
        in->overlay = (struct tsr_compositor_overlay){.name = in->label, .initials = in->initials};
    }
    if (ret < 0)
        fprintf(stderr, "tessera-mix: --names: %s\n", tsr_strerror(ret));
    tsr_label_font_free(&font);
    return ret;
}

/* Compose and encode output frame n. Returns 0 or a negative code. */
static int mix_frame(struct mixer *m, int64_t n)
{
    struct tsr_compositor_source src[TSR_LAYOUT_MAX_TILES];
    AVFrame *frames[TSR_LAYOUT_MAX_TILES] = {NULL};
    for (size_t i = 0; i < m->n_tiles; i++) {
        struct input *in = input_by_id(m, m->tiles[i].participant_id);
        uint64_t seq = 0;
        frames[i] = latest_frame(in, &seq);
        src[i] = (struct tsr_compositor_source){.frame = frames[i],
                                                .changed = seq != in->seen_seq,
                                                .overlay = in->name ? &in->overlay : NULL};
        in->seen_seq = seq;
    }
    AVFrame *canvas = NULL;
    int ret = tsr_compositor_render(m->comp, m->tiles, src, m->n_tiles, &canvas);
    for (size_t i = 0; i < m->n_tiles; i++)
        av_frame_free(&frames[i]);
    if (ret < 0)
        return ret;
    canvas->pts = av_rescale(n, 90000, m->opt->fps);
    ret = tsr_encoder_group_encode(m->group, canvas, n * 1000000 / m->opt->fps);
    av_frame_free(&canvas);
    return ret;
}

static int run_mix(struct mixer *m, struct output *out)
{
    int64_t n = 0;
    for (;; n++) {
        double t = (double)n / m->opt->fps;
        if (m->opt->duration_s > 0 && t >= m->opt->duration_s)
            break;
        bool all_done = true;
        for (int i = 0; i < m->n_inputs; i++) {
            advance(&m->inputs[i], t);
            all_done = all_done && m->inputs[i].eof;
        }
        int ret = mix_frame(m, n);
        if (ret < 0) {
            fprintf(stderr, "tessera-mix: frame %lld: %s\n", (long long)n, tsr_strerror(ret));
            return ret;
        }
        if (out->failed) {
            fprintf(stderr, "tessera-mix: %s: write failed\n", m->opt->out);
            return out->failed;
        }
        if ((ret = mix_audio(m, out, n + 1)) < 0)
            return ret;
        if (all_done) { /* every input's last picture is now in the output */
            n++;
            break;
        }
    }
    fprintf(stderr, "tessera-mix: %lld frames, %d inputs -> %s\n", (long long)n, m->n_inputs,
            m->opt->out);
    return 0;
}

/* The inputs' audio tracks -> one Opus track in the output; none -> no track.
 * A container that cannot hold Opus drops the audio with a warning. */
static int setup_audio(struct mixer *m, struct output *out)
{
    const struct options *o = m->opt;
    struct tsr_file_mix_audio_params ap = {
        .bitrate_bps = o->audio_bitrate_bps, .channels = 1, .audio_for = o->audio_for};
    int ret = tsr_file_mix_audio_new(&m->audio, &ap);
    if (ret < 0)
        return ret;
    for (int i = 0; i < m->n_inputs; i++) {
        ret = tsr_file_mix_audio_add_input(m->audio, m->inputs[i].id, m->inputs[i].path);
        if (ret < 0 && ret != TSR_ERR_NOT_FOUND)
            fprintf(stderr, "tessera-mix: %s: audio left out: %s\n", m->inputs[i].path,
                    tsr_strerror(ret));
    }
    bool any = tsr_file_mix_audio_inputs(m->audio) > 0;
    if (any &&
        avformat_query_codec(out->fmt->oformat, AV_CODEC_ID_OPUS, FF_COMPLIANCE_NORMAL) != 1) {
        fprintf(stderr, "tessera-mix: %s: container cannot hold Opus; no audio\n", o->out);
        any = false;
    }
    if (!any) {
        tsr_file_mix_audio_free(&m->audio);
        if (!o->audio_for)
            return 0;
        fprintf(stderr, "tessera-mix: --audio-for %u: no audio to write\n", o->audio_for);
        return TSR_ERR_NOT_FOUND;
    }
    ret = tsr_file_mix_audio_open_output(m->audio, out->fmt);
    if (ret == TSR_ERR_NOT_FOUND)
        fprintf(stderr, "tessera-mix: --audio-for %u: no such input with audio\n", o->audio_for);
    return ret;
}

static int setup(struct mixer *m, struct output *out)
{
    const struct options *o = m->opt;
    struct tsr_encoder_group_params gp = {
        .key = {.codec = o->codec, .width = o->width, .height = o->height},
        .fps = o->fps,
        .bitrate_bps = o->bitrate_bps,
        .backend = o->backend,
        .vaapi_device = o->vaapi_device,
        .log_ctx = "mix"};
    int ret = tsr_encoder_group_new(&m->group, &gp);
    if (ret < 0)
        return ret;
    bool nv12 = tsr_video_encoder_pix_fmt(tsr_encoder_group_encoder(m->group)) == AV_PIX_FMT_NV12;
    struct tsr_compositor_params cp = {.width = o->width,
                                       .height = o->height,
                                       .format = nv12 ? TSR_COMPOSITOR_FORMAT_NV12
                                                      : TSR_COMPOSITOR_FORMAT_I420,
                                       .background_rgb = o->background_rgb};
    if ((ret = tsr_compositor_new(&m->comp, &cp)) < 0)
        return ret;
    uint32_t ids[MAX_INPUTS];
    for (int i = 0; i < m->n_inputs; i++)
        ids[i] = m->inputs[i].id;
    struct tsr_layout_params lp = {
        .kind = o->layout, .canvas_w = o->width, .canvas_h = o->height, .gap_px = o->gap};
    if ((ret = tsr_layout_compute(&lp, ids, (size_t)m->n_inputs, NULL, 0, m->tiles, &m->n_tiles)) <
        0)
        return ret;
    if (o->names && (ret = setup_labels(m)) < 0)
        return ret;
    uint64_t sub = 0;
    return tsr_encoder_group_subscribe(m->group, write_packet, out, &sub);
}

int main(int argc, char **argv)
{
    struct options opt;
    int first = 0, ret = 0, n_ok = 0;
    tsr_log_set_level(TSR_LOG_WARN);
    tsr_log_bridge_install();
    if (parse_args(argc, argv, &opt, &first) < 0) {
        usage(stderr);
        return 2;
    }
    if (argc - first > MAX_INPUTS) {
        fprintf(stderr, "tessera-mix: at most %d inputs\n", MAX_INPUTS);
        return 2;
    }
    struct input inputs[MAX_INPUTS];
    memset(inputs, 0, sizeof inputs);
    char **names = opt.names ? g_strsplit(opt.names, ",", -1) : NULL;
    for (int i = first; i < argc; i++) {
        struct input *in = &inputs[n_ok];
        in->path = argv[i];
        in->id = (uint32_t)(i - first + 1);
        in->name = names && (guint)(i - first) < g_strv_length(names) && *names[i - first]
                       ? g_strstrip(g_strdup(names[i - first]))
                       : NULL;
        if (open_input(in) < 0) {
            close_input(in);
            memset(in, 0, sizeof *in);
            continue;
        }
        n_ok++;
    }
    g_strfreev(names);
    if (n_ok == 0) {
        fprintf(stderr, "tessera-mix: no usable input\n");
        return 1;
    }
    struct output out = {0};
    struct mixer m = {.opt = &opt, .inputs = inputs, .n_inputs = n_ok};
    ret = open_output(&out, &opt);
    if (ret == 0 && (ret = setup_audio(&m, &out)) < 0)
        fprintf(stderr, "tessera-mix: cannot set up the audio: %s\n", tsr_strerror(ret));
    if (ret == 0 && (ret = setup(&m, &out)) < 0)
        fprintf(stderr, "tessera-mix: cannot set up the mix: %s\n", tsr_strerror(ret));
    if (ret == 0)
        ret = run_mix(&m, &out);
    tsr_encoder_group_free(&m.group);
    tsr_compositor_free(&m.comp);
    tsr_file_mix_audio_free(&m.audio);
    close_output(&out);
    for (int i = 0; i < n_ok; i++)
        close_input(&inputs[i]);
    tsr_hwdevice_release_all();
    tsr_metrics_reset();
    return ret < 0 ? 1 : 0;
}
