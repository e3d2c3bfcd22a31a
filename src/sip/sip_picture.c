/* The PIN lobby's "enter PIN" picture: white text on a dark blue 640x360 frame,
 * drawn with Tessera's label renderer (HarfBuzz + FreeType, the [layout] default
 * font) and encoded once per codec per process as one keyframe, which the lobby
 * repeats every second. Home thread: the API loop (the first lobby with video
 * pays the encoder's start, tens of milliseconds, once). */
#include "sip_picture.h"

#include <tessera/err.h>
#include <tessera/labels.h>
#include <tessera/log.h>
#include <tessera/video_encoder.h>

#include <libavutil/frame.h>
#include <string.h>

#define PIC_W 640
#define PIC_H 360
#define TEXT_PX 34
/* Dark blue (RGB 20, 40, 90) in BT.601 limited range. */
#define BG_Y 50
#define BG_U 153
#define BG_V 116

static const char *const lines[] = {"Enter the conference PIN", "then press #"};

static GBytes *cache[2]; /* [h264] */
static bool cache_failed[2]; /* not tried again: each try costs the API loop tens of ms */
static GMutex cache_lock;

/* Blends label l (white ink) into f with its top-left corner at (x0, y0). */
static void blend(AVFrame *f, const struct tsr_label *l, int x0, int y0)
{
    for (int y = 0; y < l->h && y0 + y < PIC_H; y++)
        for (int x = 0; x < l->w && x0 + x < PIC_W; x++) {
            int a = l->alpha[y * l->w + x];
            uint8_t *py = f->data[0] + (y0 + y) * f->linesize[0] + x0 + x;
            *py = (uint8_t)(*py + (235 - *py) * a / 255);
            if (((y0 + y) | (x0 + x)) & 1)
                continue; /* chroma once per 2x2 block, from its top-left sample */
            uint8_t *pu = f->data[1] + (y0 + y) / 2 * f->linesize[1] + (x0 + x) / 2;
            uint8_t *pv = f->data[2] + (y0 + y) / 2 * f->linesize[2] + (x0 + x) / 2;
            *pu = (uint8_t)(*pu + (128 - *pu) * a / 255);
            *pv = (uint8_t)(*pv + (128 - *pv) * a / 255);
        }
}

static AVFrame *draw(void)
{
    AVFrame *f = av_frame_alloc();
    if (!f)
        return NULL;
    f->format = AV_PIX_FMT_YUV420P;
    f->width = PIC_W;
    f->height = PIC_H;
    if (av_frame_get_buffer(f, 32) < 0) {
        av_frame_free(&f);
        return NULL;
    }
    for (int y = 0; y < PIC_H; y++)
        memset(f->data[0] + y * f->linesize[0], BG_Y, PIC_W);
    for (int y = 0; y < PIC_H / 2; y++) {
        memset(f->data[1] + y * f->linesize[1], BG_U, PIC_W / 2);
        memset(f->data[2] + y * f->linesize[2], BG_V, PIC_W / 2);
    }
    struct tsr_label_font *font = NULL;
    const char *paths[] = {TSR_LABEL_FONT_DEFAULT, TSR_LABEL_FONT_FALLBACK_DEFAULT};
    if (tsr_label_font_new(&font, paths, G_N_ELEMENTS(paths)) == 0) {
        for (size_t i = 0; i < G_N_ELEMENTS(lines); i++) {
            struct tsr_label *l = NULL;
            if (tsr_label_render(font, lines[i], TEXT_PX, PIC_W - 40, &l) == 0 && l->w > 0)
                blend(f, l, (PIC_W - l->w) / 2, PIC_H / 2 - TEXT_PX * 3 / 2 + (int)i * TEXT_PX * 2);
            tsr_label_free(&l);
        }
        tsr_label_font_free(&font);
    }
    return f;
}

static void on_packet(void *user, const AVPacket *pkt)
{
    GByteArray *out = user;
    if (out->len == 0)
        g_byte_array_append(out, pkt->data, (guint)pkt->size);
}

/* One keyframe of the picture; x264 and libvpx at zero latency emit it at once,
 * a few more frames are offered in case an encoder holds the first back. */
static GBytes *encode(bool h264)
{
    struct tsr_video_encoder_params params = {
        .codec = h264 ? TSR_VIDEO_CODEC_H264 : TSR_VIDEO_CODEC_VP8,
        .width = PIC_W,
        .height = PIC_H,
        .fps = 1,
        .bitrate_bps = 400000,
        .backend = TSR_ENCODER_BACKEND_SOFTWARE,
        .keyint_frames = 1,
        .log_ctx = "sip lobby picture",
    };
    struct tsr_video_encoder *enc = NULL;
    AVFrame *f = draw();
    GByteArray *out = g_byte_array_new();
    if (f && tsr_video_encoder_new(&enc, &params) == 0)
        for (int i = 0; i < 4 && out->len == 0; i++) {
            f->pts = (int64_t)i * 90000;
            tsr_video_encoder_encode(enc, f, on_packet, out);
        }
    tsr_video_encoder_free(&enc);
    av_frame_free(&f);
    if (out->len == 0) {
        g_byte_array_unref(out);
        return NULL;
    }
    return g_byte_array_free_to_bytes(out);
}

GBytes *tsr_sip_picture_get(bool h264)
{
    g_mutex_lock(&cache_lock);
    if (!cache[h264] && !cache_failed[h264]) {
        cache[h264] = encode(h264);
        cache_failed[h264] = !cache[h264];
        if (!cache[h264])
            TSR_LOG(TSR_LOG_WARN, "sip", "the \"enter PIN\" picture could not be encoded (%s)",
                    h264 ? "H.264" : "VP8");
    }
    GBytes *b = cache[h264] ? g_bytes_ref(cache[h264]) : NULL;
    g_mutex_unlock(&cache_lock);
    return b;
}
