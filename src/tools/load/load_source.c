/* Synthetic cameras and microphones, encoded once at start-up.
 *
 * A camera picture has what makes encoders work as with a real camera: luma waves
 * that move every frame and per-pixel sensor noise on every plane (a flat colour
 * encodes to almost nothing and flatters every figure). Its chroma is the
 * participant's palette colour, so a tile is identified by averaging its chroma;
 * a band of 16 black/white blocks across the middle carries the frame stamp (loop
 * index + check bits). The band sits in the vertical middle because a 4:3 camera
 * cropped to fill a 16:9 tile loses its top and bottom eighths. */
#include "load.h"

#include <tessera/err.h>
#include <tessera/opus_codec.h>
#include <tessera/video_encoder.h>

#include <math.h>
#include <string.h>

#define PALETTE_STEPS 11
#define PALETTE_BASE 48
#define PALETTE_STEP 16
#define PALETTE_TOLERANCE 7.0

/* Palette slots, skipping the grid points near grey (U≈V≈128). */
static int palette_slot(int index)
{
    int slot = 0;
    for (int k = 0; k < PALETTE_STEPS * PALETTE_STEPS; k++) {
        int u = PALETTE_BASE + PALETTE_STEP * (k % PALETTE_STEPS);
        int v = PALETTE_BASE + PALETTE_STEP * (k / PALETTE_STEPS);
        if (abs(u - 128) < 24 && abs(v - 128) < 24)
            continue;
        if (slot++ == index)
            return k;
    }
    return 0;
}

void load_palette(int index, struct load_colour *out)
{
    /* Spread neighbours apart: consecutive participants get distant colours. */
    int k = palette_slot((index * 37) % LOAD_MAX_COLOURS);
    out->y = 128;
    out->u = (uint8_t)(PALETTE_BASE + PALETTE_STEP * (k % PALETTE_STEPS));
    out->v = (uint8_t)(PALETTE_BASE + PALETTE_STEP * (k / PALETTE_STEPS));
}

int load_palette_match(double u, double v)
{
    for (int i = 0; i < LOAD_MAX_COLOURS; i++) {
        struct load_colour c;
        load_palette(i, &c);
        if (fabs(u - c.u) <= PALETTE_TOLERANCE && fabs(v - c.v) <= PALETTE_TOLERANCE)
            return i;
    }
    return -1;
}

static uint32_t stamp_check(uint32_t index)
{
    return ((index * 29u) + 7u) & 63u;
}

uint32_t load_stamp_encode(uint32_t index)
{
    index &= (1u << LOAD_STAMP_INDEX_BITS) - 1;
    return index | (stamp_check(index) << LOAD_STAMP_INDEX_BITS);
}

int load_stamp_decode(uint32_t stamp)
{
    uint32_t index = stamp & ((1u << LOAD_STAMP_INDEX_BITS) - 1);
    if ((stamp >> LOAD_STAMP_INDEX_BITS) != stamp_check(index))
        return -1;
    return (int)index;
}

/* xorshift32: cheap deterministic noise. */
static uint32_t rng_next(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static uint8_t clamp_u8(int v)
{
    return (uint8_t)(v < 16 ? 16 : v > 235 ? 235 : v);
}

static void draw_luma(AVFrame *f, int index, uint32_t *rng)
{
    int w = f->width, h = f->height;
    int16_t wave[4096];
    double phase = index * 2 * M_PI / 32.0;
    for (int x = 0; x < w && x < 4096; x++)
        wave[x] = (int16_t)(40 * sin(6 * M_PI * x / w + phase));
    for (int y = 0; y < h; y++) {
        uint8_t *row = f->data[0] + (size_t)y * f->linesize[0];
        int vwave = (int)(20 * sin(4 * M_PI * y / h - phase));
        for (int x = 0; x < w; x++)
            row[x] = clamp_u8(120 + wave[x] + vwave + (int)(rng_next(rng) % 15) - 7);
    }
}

static void draw_chroma(AVFrame *f, const struct load_colour *c, uint32_t *rng)
{
    int cw = f->width / 2, ch = f->height / 2;
    for (int y = 0; y < ch; y++) {
        uint8_t *u = f->data[1] + (size_t)y * f->linesize[1];
        uint8_t *v = f->data[2] + (size_t)y * f->linesize[2];
        for (int x = 0; x < cw; x++) {
            uint32_t r = rng_next(rng);
            u[x] = clamp_u8(c->u + (int)(r % 5) - 2);
            v[x] = clamp_u8(c->v + (int)((r >> 8) % 5) - 2);
        }
    }
}

static void draw_stamp(AVFrame *f, int index)
{
    uint32_t stamp = load_stamp_encode((uint32_t)index);
    int x0 = (int)(f->width * LOAD_STAMP_X0), x1 = (int)(f->width * LOAD_STAMP_X1);
    int y0 = (int)(f->height * LOAD_STAMP_Y0), y1 = (int)(f->height * LOAD_STAMP_Y1);
    for (int y = y0; y < y1; y++) {
        uint8_t *row = f->data[0] + (size_t)y * f->linesize[0];
        for (int x = x0; x < x1; x++) {
            int bit = (x - x0) * LOAD_STAMP_BLOCKS / (x1 - x0);
            row[x] = (stamp >> bit) & 1 ? 235 : 16;
        }
    }
}

void load_picture_draw(AVFrame *f, const struct load_colour *colour, int index)
{
    uint32_t rng = 0x9e3779b9u ^ (uint32_t)(colour->u * 131 + colour->v * 7919 + index * 104729);
    if (!rng)
        rng = 1;
    draw_luma(f, index, &rng);
    draw_chroma(f, colour, &rng);
    draw_stamp(f, index);
}

/* ---- camera loops ----------------------------------------------------------- */

static const struct {
    int w, h;
    int64_t bps;
} renditions[LOAD_MAX_RENDITIONS] = {
    {320, 240, 300000},
    {640, 360, 800000},
    {1280, 720, 2000000},
};

struct encode_ctx {
    struct tsr_rtp_packetizer *pz;
    struct tsr_rtp_packetized **slot;
    int64_t capture_us;
    int rc;
};

static void on_packet(void *user, const AVPacket *pkt)
{
    struct encode_ctx *e = user;
    if (*e->slot) /* one packet per frame from these encoders */
        return;
    e->rc = tsr_rtp_packetizer_run(e->pz, pkt->data, (size_t)pkt->size, 0, e->capture_us,
                                   (pkt->flags & AV_PKT_FLAG_KEY) != 0, e->slot);
}

static int encode_loop(struct load_rendition *r, int colour, enum tsr_video_codec codec)
{
    struct tsr_video_encoder_params vp = {.codec = codec, .width = r->width, .height = r->height,
                                          .fps = LOAD_FPS, .bitrate_bps = r->bitrate_bps,
                                          .backend = TSR_ENCODER_BACKEND_SOFTWARE,
                                          .keyint_frames = 100000, .log_ctx = "load/camera"};
    struct tsr_video_encoder *enc = NULL;
    struct tsr_rtp_packetizer *pz = NULL;
    AVFrame *f = av_frame_alloc();
    int rc = f ? tsr_video_encoder_new(&enc, &vp) : -ENOMEM;
    if (rc == 0)
        rc = tsr_rtp_packetizer_new(&pz, codec == TSR_VIDEO_CODEC_H264 ? &tsr_rtp_codec_h264
                                                                        : &tsr_rtp_codec_vp8);
    if (rc == 0) {
        f->format = AV_PIX_FMT_YUV420P;
        f->width = r->width;
        f->height = r->height;
        rc = av_frame_get_buffer(f, 0) < 0 ? -ENOMEM : 0;
    }
    struct load_colour c;
    load_palette(colour, &c);
    for (int i = 0; rc == 0 && i < LOAD_LOOP_FRAMES; i++) {
        load_picture_draw(f, &c, i);
        f->pts = (int64_t)i * 90000 / LOAD_FPS;
        if (i == 0)
            tsr_video_encoder_request_keyframe(enc);
        struct encode_ctx e = {pz, &r->frames[i], (int64_t)i * 1000000 / LOAD_FPS, 0};
        rc = tsr_video_encoder_encode(enc, f, on_packet, &e);
        if (rc == 0)
            rc = e.rc;
        /* A frame rate control dropped stays NULL and is skipped when sending,
         * as a browser's dropped frame would be. */
    }
    av_frame_free(&f);
    tsr_video_encoder_free(&enc);
    tsr_rtp_packetizer_free(&pz);
    return rc;
}

int load_camera_new(struct load_camera **out, int colour, enum tsr_video_codec codec,
                    int max_width)
{
    struct load_camera *cam = g_new0(struct load_camera, 1);
    cam->colour = colour;
    int rc = 0;
    for (int i = 0; rc == 0 && i < LOAD_MAX_RENDITIONS && renditions[i].w <= max_width; i++) {
        struct load_rendition *r = &cam->r[cam->n_renditions++];
        r->width = renditions[i].w;
        r->height = renditions[i].h;
        r->bitrate_bps = renditions[i].bps;
        rc = encode_loop(r, colour, codec);
    }
    if (rc == 0 && cam->n_renditions == 0)
        rc = -EINVAL;
    if (rc != 0) {
        load_camera_free(&cam);
        return rc;
    }
    *out = cam;
    return 0;
}

void load_camera_free(struct load_camera **cam)
{
    if (!cam || !*cam)
        return;
    for (int i = 0; i < (*cam)->n_renditions; i++)
        for (int k = 0; k < LOAD_LOOP_FRAMES; k++)
            tsr_rtp_packetized_unref(&(*cam)->r[i].frames[k]);
    g_free(*cam);
    *cam = NULL;
}

/* Like a browser without simulcast: the largest picture the estimate affords
 * (about 1.2× the rendition's rate), never above the camera's largest. */
int load_camera_rendition_for(const struct load_camera *cam, int64_t bps)
{
    int best = 0;
    for (int i = 1; i < cam->n_renditions; i++)
        if (bps >= cam->r[i - 1].bitrate_bps * 6 / 5 + 1)
            best = i;
    return best;
}

/* ---- microphones -------------------------------------------------------------- */

int load_audio_new(struct load_audio **out, double tone_hz)
{
    struct tsr_opus_encoder_params op = {.bitrate_bps = 32000, .channels = 1, .complexity = 5,
                                         .voice = true, .dtx = tone_hz <= 0};
    struct tsr_opus_encoder *enc = NULL;
    int rc = tsr_opus_encoder_new(&enc, &op);
    if (rc != 0)
        return rc;
    struct load_audio *a = g_new0(struct load_audio, 1);
    a->talker = tone_hz > 0;
    a->tone_hz = tone_hz;
    int16_t pcm[TSR_OPUS_FRAME_20MS];
    uint8_t buf[TSR_OPUS_MAX_PACKET_BYTES];
    /* A tone of whole cycles per second loops seamlessly; silence: the encoder's
     * steady DTX packet after it has settled. */
    int frames = a->talker ? LOAD_AUDIO_LOOP_PACKETS : 25;
    for (int i = 0; rc == 0 && i < frames; i++) {
        for (int s = 0; s < TSR_OPUS_FRAME_20MS; s++) {
            double t = (double)(i * TSR_OPUS_FRAME_20MS + s) / TSR_OPUS_RATE_HZ;
            pcm[s] = a->talker ? (int16_t)(6000 * sin(2 * M_PI * tone_hz * t)) : 0;
        }
        int n = tsr_opus_encode(enc, pcm, TSR_OPUS_FRAME_20MS, buf, sizeof buf);
        if (n <= 0) {
            rc = n < 0 ? n : TSR_ERR_CODEC;
            break;
        }
        int slot = a->talker ? i : 0;
        if (a->packets[slot])
            g_bytes_unref(a->packets[slot]);
        a->packets[slot] = g_bytes_new(buf, (size_t)n);
    }
    tsr_opus_encoder_free(&enc);
    if (rc != 0) {
        load_audio_free(&a);
        return rc;
    }
    *out = a;
    return 0;
}

void load_audio_free(struct load_audio **a)
{
    if (!a || !*a)
        return;
    for (int i = 0; i < LOAD_AUDIO_LOOP_PACKETS; i++)
        if ((*a)->packets[i])
            g_bytes_unref((*a)->packets[i]);
    g_free(*a);
    *a = NULL;
}
