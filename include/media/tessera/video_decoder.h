/* Per-participant video decoder (libavcodec VP8 and H.264).
 *
 * Fed with complete encoded frames (one depacketized frame at a time: VP8 frames
 * or H.264 Annex B access units), it keeps the latest cleanly decoded picture as a
 * refcounted AVFrame. Any frame size (odd ones included) and resolution changes
 * mid-stream are handled: the next published frame simply has the new size.
 *
 * Corrupt or truncated input never crashes and never reaches the published slot:
 * the error is counted (tessera_video_decode_errors_total), the last good frame
 * stays published, the keyframe callback fires, and every frame up to the next
 * keyframe that decodes cleanly is dropped without being decoded (its references
 * are broken anyway, and skipping it costs nothing). The decoder starts in that
 * same "waiting for a keyframe" state.
 *
 * Thread: none of its own. One decoder is driven by one thread at a time (the
 * caller serializes, e.g. the decode worker pinned to the participant). The
 * published frame is immutable once published, so a reference taken with
 * tsr_video_decoder_latest() can be read on any thread. */
#ifndef TESSERA_VIDEO_DECODER_H
#define TESSERA_VIDEO_DECODER_H

#include <libavutil/frame.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tessera/video_codec.h>

struct tsr_video_decoder;

/* Raised (on the decoding thread, from inside tsr_video_decoder_decode) when the
 * decoder needs a keyframe: after corrupt input, or when a delta frame arrives
 * while it waits for one. Re-raised at most once per `keyframe_retry_ms` of input
 * timestamps while the wait lasts. Must not call back into this decoder. */
typedef void (*tsr_video_decoder_keyframe_fn)(void *user);

struct tsr_video_decoder_params {
    enum tsr_video_codec codec;
    const char *log_ctx; /* "[conf/participant/video]"; copied; may be NULL */
    tsr_video_decoder_keyframe_fn on_keyframe_request; /* may be NULL */
    void *user;                                        /* borrowed; passed to the callback */
    int threads;           /* slice threads; 0 or 1 = single-threaded (lowest latency) */
    int keyframe_retry_ms; /* 0 = 1000 */
};

struct tsr_video_decoder_stats {
    uint64_t frames_in;         /* frames given to tsr_video_decoder_decode */
    uint64_t frames_decoded;    /* pictures published */
    uint64_t frames_skipped;    /* dropped while waiting for a keyframe */
    uint64_t errors;            /* corrupt or truncated frames */
    uint64_t keyframe_requests; /* times the callback fired */
    uint64_t resolution_changes;
};

/* Purpose: create a decoder. Ownership: *out is the caller's; free with
 * tsr_video_decoder_free(). `params` is borrowed (log_ctx copied).
 * Returns 0, -EINVAL (bad params), -ENOMEM, or TSR_ERR_CODEC (libavcodec has no
 * decoder for the codec). */
int tsr_video_decoder_new(struct tsr_video_decoder **out,
                          const struct tsr_video_decoder_params *params);

/* Purpose: free the decoder and drop its published frame reference (references the
 * caller took stay valid). Sets *p to NULL; accepts NULL or *p == NULL. */
void tsr_video_decoder_free(struct tsr_video_decoder **p);

/* Purpose: decode one complete encoded frame.
 * `data`/`len` are borrowed (copied into the codec's padded packet); `ts_rtp` is the
 * 90 kHz RTP timestamp, carried to the published frame's pts; `keyframe` is the
 * depacketizer's opinion (VP8 P bit clear / H.264 IDR present), used to leave the
 * waiting state; the bitstream itself must then decode cleanly.
 * Returns 0 when a new picture was published, TSR_ERR_AGAIN when the frame was
 * accepted but nothing new is shown (skipped while waiting for a keyframe, or the
 * codec produced no picture), TSR_ERR_INVALID / TSR_ERR_TRUNCATED for corrupt input
 * (counted, keyframe requested, last good frame kept), -EINVAL for NULL data or
 * len 0 (counted as truncated), -ENOMEM. */
int tsr_video_decoder_decode(struct tsr_video_decoder *dec, const uint8_t *data, size_t len,
                             uint32_t ts_rtp, bool keyframe);

/* Purpose: a new reference to the latest published picture (yuv420p, yuvj420p,
 * yuv422p, yuv444p or nv12; pts = its 90 kHz timestamp). *seq (may be NULL) gets the
 * publication counter: it grows by one per published picture, so a consumer compares
 * it with the value it saw last to know whether its tile changed.
 * Ownership: the caller owns *out (av_frame_free); the picture is read-only.
 * Returns 0, TSR_ERR_AGAIN (nothing decoded yet), -ENOMEM. */
int tsr_video_decoder_latest(struct tsr_video_decoder *dec, AVFrame **out, uint64_t *seq);

/* Purpose: the publication counter alone (0 before the first picture). */
uint64_t tsr_video_decoder_seq(const struct tsr_video_decoder *dec);

/* Purpose: true while corrupt input or a missing keyframe blocks new pictures. */
bool tsr_video_decoder_waiting_keyframe(const struct tsr_video_decoder *dec);

/* Purpose: copy the counters into *out. */
void tsr_video_decoder_get_stats(const struct tsr_video_decoder *dec,
                                 struct tsr_video_decoder_stats *out);

#endif
