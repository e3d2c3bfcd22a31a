/* Video encoder: one interface over software H.264 (libx264), software VP8 (libvpx)
 * and VAAPI H.264 / VP8 (h264_vaapi, vp8_vaapi with hardware frames).
 *
 * Settings are the real-time ones: H.264 constrained baseline, zerolatency, no
 * B-frames, VBV capped at one frame interval's worth of bits times a small factor,
 * SPS/PPS repeated in-band before every IDR (receivers join late); VP8 realtime
 * deadline, no lag. One frame in gives at most one packet out, immediately.
 *
 * Backend choice: SOFTWARE always works; VAAPI opens the render node given; AUTO
 * tries VAAPI first. Any VAAPI error, at open or while encoding, switches this
 * encoder to software for good: the frame that failed is re-encoded in software as
 * a keyframe (so receivers never see a broken reference chain), a warning is logged
 * once, and tessera_encoder_fallbacks_total{codec=...} is incremented.
 *
 * Thread: none of its own; the caller serializes (the encoder group's worker). */
#ifndef TESSERA_VIDEO_ENCODER_H
#define TESSERA_VIDEO_ENCODER_H

#include <libavcodec/packet.h>
#include <libavutil/frame.h>
#include <stdbool.h>
#include <stdint.h>

#include <tessera/video_codec.h>

struct tsr_video_encoder;

enum tsr_encoder_backend {
    TSR_ENCODER_BACKEND_AUTO = 0,
    TSR_ENCODER_BACKEND_SOFTWARE,
    TSR_ENCODER_BACKEND_VAAPI,
};

struct tsr_video_encoder_params {
    enum tsr_video_codec codec;
    int width, height;   /* even */
    int fps;             /* nominal rate, for rate control; 1..120 */
    int64_t bitrate_bps; /* target; >= 50000 */
    enum tsr_encoder_backend backend;
    const char *vaapi_device; /* render node; NULL = /dev/dri/renderD128 */
    int keyint_frames;        /* periodic keyframe distance; 0 = 10 s worth */
    int threads;              /* 0 = 1 (latency); software only */
    /* Software only: libavcodec/encoder options "key=value:key=value" applied over
     * the defaults above (tuning experiments, bench/bench_video_encoder.c); NULL
     * or "" for none. Copied. An unknown key makes tsr_video_encoder_new fail. */
    const char *sw_options;
    /* H.264: every NAL unit at most this many bytes (x264's slice-max-size), so that
     * each fits one RTP packet (RFC 6184 packetization-mode 0); 0 = no limit. The
     * VAAPI encoders cannot promise it, so a limit means the software encoder. */
    int max_nal_bytes;
    const char *log_ctx;      /* copied; may be NULL */
};

struct tsr_video_encoder_stats {
    uint64_t frames;
    uint64_t keyframes;
    uint64_t bytes;
    uint64_t fallbacks;     /* 0 or 1: VAAPI -> software switches */
    int64_t last_encode_us; /* wall time of the last tsr_video_encoder_encode */
    int64_t total_encode_us;
};

/* Receives each encoded packet, on the encoding thread, during
 * tsr_video_encoder_encode(). The packet is borrowed for the call: av_packet_ref()
 * it to keep it (that shares the refcounted buffer, no copy). pkt->pts is the
 * frame's pts (90 kHz), AV_PKT_FLAG_KEY marks keyframes; H.264 is Annex B. */
typedef void (*tsr_video_encoder_packet_fn)(void *user, const AVPacket *pkt);

/* Purpose: parse "auto", "software", "vaapi". Returns 0 or TSR_ERR_INVALID. */
int tsr_encoder_backend_parse(const char *name, enum tsr_encoder_backend *out);

/* Purpose: true when a VAAPI encoder for `codec` at this size opens on `device`
 * (opens and closes one; costs a few ms to hundreds of ms; call once at start).
 * Thread: any. */
bool tsr_video_encoder_probe_vaapi(const char *device, enum tsr_video_codec codec);

/* Purpose: create an encoder. Ownership: *out is the caller's; params borrowed.
 * A VAAPI open failure is not an error: the encoder falls back to software and
 * returns 0 (tsr_video_encoder_backend() tells which one runs).
 * Returns 0, -EINVAL (bad params), -ENOMEM, TSR_ERR_CODEC (software encoder does
 * not open). */
int tsr_video_encoder_new(struct tsr_video_encoder **out,
                          const struct tsr_video_encoder_params *params);

/* Purpose: free it. NULLs *p; accepts NULL. */
void tsr_video_encoder_free(struct tsr_video_encoder **p);

/* Purpose: encode one frame (yuv420p or nv12 at the encoder's size; borrowed; its
 * pts must be in 90 kHz units and increasing). Packets are delivered through `cb`
 * before this returns. Returns 0 (a packet may still be absent when rate control
 * drops a frame), -EINVAL (wrong size or format), TSR_ERR_CODEC (software encoder
 * failed; the frame is lost, the next call may succeed). */
int tsr_video_encoder_encode(struct tsr_video_encoder *enc, const AVFrame *frame,
                             tsr_video_encoder_packet_fn cb, void *user);

/* Purpose: make the next encoded frame a keyframe. Cheap; idempotent until then. */
void tsr_video_encoder_request_keyframe(struct tsr_video_encoder *enc);

/* Purpose: change the target bitrate from the next frame on. H.264 (x264) and
 * VAAPI reconfigure in place; VP8 (libvpx through libavcodec cannot reconfigure)
 * reopens the encoder, so its next frame is a keyframe. Returns 0 or -EINVAL. */
int tsr_video_encoder_set_bitrate(struct tsr_video_encoder *enc, int64_t bitrate_bps);

/* Purpose: the backend in use now (SOFTWARE or VAAPI; never AUTO). */
enum tsr_encoder_backend tsr_video_encoder_backend(const struct tsr_video_encoder *enc);

/* Purpose: the pixel format the encoder wants (yuv420p for software, nv12 for
 * VAAPI; it accepts both and converts when they differ, at a cost). */
int tsr_video_encoder_pix_fmt(const struct tsr_video_encoder *enc);

void tsr_video_encoder_get_stats(const struct tsr_video_encoder *enc,
                                 struct tsr_video_encoder_stats *out);

#endif
