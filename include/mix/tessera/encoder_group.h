/* Encoder group: one encoder shared by every receiver that sees the same picture at
 * the same codec, size and bitrate tier (DESIGN.md §2.1). The canvas is encoded once;
 * each subscriber's callback gets the same refcounted packet (no copies).
 *
 * Keyframe requests (PLI/FIR from subscribers, and every new subscriber) are merged
 * and rate-limited: at most one forced keyframe per `keyframe_min_interval_ms`; a
 * request inside that window is remembered and served as soon as the window ends,
 * so a late joiner waits at most that long and one receiver cannot make the whole
 * group send keyframes back to back. Periodic keyframes also satisfy requests.
 *
 * Thread: none of its own; the caller serializes all calls (the group's encode
 * worker; other threads post to it). */
#ifndef TESSERA_ENCODER_GROUP_H
#define TESSERA_ENCODER_GROUP_H

#include <libavcodec/packet.h>
#include <libavutil/frame.h>
#include <stdbool.h>
#include <stdint.h>

#include <tessera/video_codec.h>
#include <tessera/video_encoder.h>

struct tsr_encoder_group;

/* What makes two views shareable. */
struct tsr_encoder_group_key {
    enum tsr_video_codec codec;
    int width, height;
    int tier; /* bitrate tier index chosen by the caller (0 = top) */
    /* H.264 for RFC 6184 packetization-mode 0 receivers: every NAL unit at most
     * TSR_ENCODER_GROUP_SINGLE_NAL_BYTES, so each goes in one RTP packet. */
    bool single_nal;
};

/* 1200-byte packets less TSR_RTP_PACKET_OVERHEAD_BYTES (52) leave 1148 bytes of
 * payload; x264's slice-max-size is kept under that with room to spare. */
#define TSR_ENCODER_GROUP_SINGLE_NAL_BYTES 1100

struct tsr_encoder_group_params {
    struct tsr_encoder_group_key key;
    int fps;
    int64_t bitrate_bps;
    enum tsr_encoder_backend backend;
    const char *vaapi_device;         /* NULL = default node */
    int64_t keyframe_min_interval_ms; /* 0 = 1000 */
    const char *log_ctx;              /* copied; may be NULL */
};

struct tsr_encoder_group_stats {
    uint64_t frames;
    uint64_t keyframe_requests; /* requests received (subscribers and joins) */
    uint64_t keyframes_forced;  /* keyframes actually forced for them */
    uint64_t packets_delivered; /* packet x subscriber */
    size_t subscribers;
};

/* Receives each packet, during tsr_encoder_group_encode(). Borrowed for the call;
 * av_packet_ref() it to keep it (shares the buffer). */
typedef void (*tsr_encoder_group_packet_fn)(void *user, const AVPacket *pkt);

/* Purpose: true when the two keys name the same view. Thread: any. */
bool tsr_encoder_group_key_equal(const struct tsr_encoder_group_key *a,
                                 const struct tsr_encoder_group_key *b);

/* Purpose: create a group (opens its encoder). Ownership: *out is the caller's.
 * Returns 0, -EINVAL, -ENOMEM, TSR_ERR_CODEC. */
int tsr_encoder_group_new(struct tsr_encoder_group **out,
                          const struct tsr_encoder_group_params *params);

/* Purpose: free the group and its encoder. NULLs *p; accepts NULL. */
void tsr_encoder_group_free(struct tsr_encoder_group **p);

/* Purpose: add a subscriber; it also counts as a keyframe request (it needs one to
 * start decoding). `user` is borrowed until unsubscribed. *out_id identifies it.
 * Returns 0, -EINVAL, -ENOMEM. */
int tsr_encoder_group_subscribe(struct tsr_encoder_group *grp, tsr_encoder_group_packet_fn cb,
                                void *user, uint64_t *out_id);

/* Purpose: remove a subscriber. Returns 0 or TSR_ERR_NOT_FOUND. */
int tsr_encoder_group_unsubscribe(struct tsr_encoder_group *grp, uint64_t id);

/* Purpose: record a keyframe request from subscriber `id` at `now_us` (monotonic).
 * Returns 0 or TSR_ERR_NOT_FOUND. */
int tsr_encoder_group_request_keyframe(struct tsr_encoder_group *grp, uint64_t id, int64_t now_us);

/* Purpose: encode `canvas` (borrowed; pts in 90 kHz) at `now_us` and deliver the
 * packet to every subscriber. Forces a keyframe when a request is pending and the
 * rate-limit window has passed. Returns 0 or the encoder's error. */
int tsr_encoder_group_encode(struct tsr_encoder_group *grp, const AVFrame *canvas, int64_t now_us);


/* Purpose: the group's encoder, for stats and backend queries (borrowed). */
struct tsr_video_encoder *tsr_encoder_group_encoder(struct tsr_encoder_group *grp);

void tsr_encoder_group_get_stats(const struct tsr_encoder_group *grp,
                                 struct tsr_encoder_group_stats *out);

#endif
