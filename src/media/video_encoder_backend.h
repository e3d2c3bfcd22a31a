/* The one interface every encoder backend implements (software x264/vpx, VAAPI).
 * Internal to src/media; tsr_video_encoder (video_encoder.c) picks a backend and
 * owns the fallback from VAAPI to software. Thread: caller-serialized. */
#ifndef TSR_MEDIA_VIDEO_ENCODER_BACKEND_H
#define TSR_MEDIA_VIDEO_ENCODER_BACKEND_H

#include <libavcodec/avcodec.h>
#include <stdbool.h>

#include <tessera/video_encoder.h>

struct tsr_encoder_backend_ops {
    const char *name;
    int input_pix_fmt; /* what encode() wants (AV_PIX_FMT_YUV420P or NV12) */
    /* Open with params (bitrate_bps is the current target). Returns 0, or a negative
     * code with *state untouched. */
    int (*open)(void **state, const struct tsr_video_encoder_params *params);
    void (*close)(void **state);
    /* Encode one frame already in input_pix_fmt at the right size; deliver packets
     * through cb. Returns 0 or a negative code (the frame is lost). */
    int (*encode)(void *state, const AVFrame *frame, bool force_keyframe,
                  tsr_video_encoder_packet_fn cb, void *user);
    /* Apply a new target from the next frame on. Returns 0, or TSR_ERR_UNSUPPORTED
     * when the backend must be reopened instead. */
    int (*set_bitrate)(void *state, int64_t bitrate_bps);
};

extern const struct tsr_encoder_backend_ops tsr_encoder_backend_software;
extern const struct tsr_encoder_backend_ops tsr_encoder_backend_vaapi;

/* Shared by backends: send one frame and hand every packet that comes out to cb.
 * Returns 0, TSR_ERR_CODEC. */
int tsr_encoder_backend_send_receive(AVCodecContext *avctx, AVPacket *pkt, const AVFrame *frame,
                                     tsr_video_encoder_packet_fn cb, void *user);

#endif
