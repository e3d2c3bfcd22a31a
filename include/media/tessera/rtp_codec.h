/* RTP payload formats: one const table of hooks per codec (like FFmpeg's codec
 * structs) for VP8 (RFC 7741), H.264 (RFC 6184, packetization-mode 1) and Opus
 * (RFC 7587); plus the depacketizer/packetizer objects that carry per-stream state.
 *
 * Receive side: the jitter buffer calls `inspect` on every packet (frame start,
 * keyframe, picture id) and `depacketize` once per complete frame.
 * Send side: an encoded frame is packetized ONCE into a refcounted
 * struct tsr_rtp_packetized (payloads + marker bits); every subscriber's outgoing
 * stream then only prepends its own RTP header (DESIGN.md principle 5).
 * Pure: no I/O, no threads, no globals. */
#ifndef TESSERA_RTP_CODEC_H
#define TESSERA_RTP_CODEC_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tsr_rtp_codec_id {
    TSR_RTP_CODEC_NONE = 0,
    TSR_RTP_CODEC_VP8,
    TSR_RTP_CODEC_H264,
    TSR_RTP_CODEC_OPUS,
    TSR_RTP_CODEC_NARROWBAND, /* G.711, G.722: packetize only */
};

#define TSR_RTP_DEFAULT_MTU_BYTES 1200

/* What `inspect` learns from one payload. */
struct tsr_rtp_payload_info {
    bool
        frame_start; /* this packet begins a frame (VP8 S=1 PID=0; H.264 not a FU-A continuation) */
    bool keyframe;   /* packet shows the frame is a keyframe (VP8 P=0; H.264 IDR or SPS) */
    int32_t picture_id; /* VP8 picture id, −1 when absent */
    uint16_t width;     /* VP8 keyframe size when this packet carries it, else 0 */
    uint16_t height;
};

/* Properties of a depacketized frame. */
struct tsr_rtp_frame_info {
    bool keyframe;
    uint16_t width; /* 0 when unknown */
    uint16_t height;
};

struct tsr_rtp_packetized;

/* The hook table. All hooks are pure; `state` is state_size zeroed bytes owned by
 * the depacketizer/packetizer object (no pointers needing free). */
struct tsr_rtp_codec {
    const char *name; /* SDP encoding name: "VP8", "H264", "opus" */
    enum tsr_rtp_codec_id id;
    uint32_t clock_rate; /* 90000 or 48000 */
    bool video;
    size_t depay_state_size;
    size_t pay_state_size;
    /* Validate one payload and describe it. Returns 0 or TSR_ERR_INVALID/TRUNCATED. */
    int (*inspect)(const uint8_t *payload, size_t len, struct tsr_rtp_payload_info *info);
    /* Append the frame carried by payloads[0..n) (one frame, in sequence order) to
     * `out`. Returns 0 or TSR_ERR_INVALID/TRUNCATED; on failure `out` may hold a
     * partial append which the caller discards. */
    int (*depacketize)(void *state, const uint8_t *const *payloads, const size_t *lens, size_t n,
                       GByteArray *out, struct tsr_rtp_frame_info *info);
    /* Split `frame` into payloads of at most max_payload_bytes, appended to `out`
     * with tsr_rtp_packetized_append. Returns 0, -EINVAL, -EMSGSIZE. */
    int (*packetize)(void *state, const uint8_t *frame, size_t len, size_t max_payload_bytes,
                     struct tsr_rtp_packetized *out);
};

extern const struct tsr_rtp_codec tsr_rtp_codec_vp8;
extern const struct tsr_rtp_codec tsr_rtp_codec_h264;
/* H.264 packetization-mode 0 (RFC 6184 §6.2), for sending: each NAL unit in one
 * packet, never STAP-A or FU-A; a NAL unit over the payload size fails the frame
 * with -EMSGSIZE (an oversized SEI is left out). Receives like tsr_rtp_codec_h264,
 * whose single NAL unit packets are exactly mode 0's. */
extern const struct tsr_rtp_codec tsr_rtp_codec_h264_single;
extern const struct tsr_rtp_codec tsr_rtp_codec_opus;
/* G.711/G.722 frames (any bytes, one frame per packet): for packetizing only. */
extern const struct tsr_rtp_codec tsr_rtp_codec_narrowband;

/* Purpose: the table for an SDP encoding name (case-insensitive) or NULL. */
const struct tsr_rtp_codec *tsr_rtp_codec_by_name(const char *name);
const struct tsr_rtp_codec *tsr_rtp_codec_by_id(enum tsr_rtp_codec_id id);

/* ---- depacketizer: per received stream ---- */

struct tsr_rtp_depacketizer;

/* Purpose: create a depacketizer for `codec` (borrowed, static). Returns 0 or -ENOMEM.
 * Home thread: the participant's net loop. */
int tsr_rtp_depacketizer_new(struct tsr_rtp_depacketizer **out, const struct tsr_rtp_codec *codec);
void tsr_rtp_depacketizer_free(struct tsr_rtp_depacketizer **d);
/* Purpose: depacketize one complete frame. On success *frame is a new GBytes the
 * caller owns (g_bytes_unref) and *info is filled. Returns 0,
 * TSR_ERR_INVALID/TRUNCATED (counted), -ENOMEM. */
int tsr_rtp_depacketizer_run(struct tsr_rtp_depacketizer *d, const uint8_t *const *payloads,
                             const size_t *lens, size_t n, GBytes **frame,
                             struct tsr_rtp_frame_info *info);

/* ---- packetizer: per encoder ---- */

struct tsr_rtp_packetizer;

int tsr_rtp_packetizer_new(struct tsr_rtp_packetizer **out, const struct tsr_rtp_codec *codec);
void tsr_rtp_packetizer_free(struct tsr_rtp_packetizer **p);
/* Purpose: packetize one encoded frame. `mtu_bytes` is the payload budget of a
 * whole RTP packet (header room of 12 + 40 bytes for CSRC-free header, extensions
 * and SRTP tag is reserved inside it; 0 means TSR_RTP_DEFAULT_MTU_BYTES).
 * `capture_us` is the frame's time on the participant-independent media clock
 * (monotonic µs): outgoing streams derive RTP timestamps from it, so switching
 * encoders keeps timestamps continuous. Ownership: frame is borrowed (copied once);
 * *out is a new reference the caller unrefs. Returns 0, -EINVAL, -ENOMEM, -EMSGSIZE.
 * Home thread: the encoder worker; the result is immutable and may cross threads. */
int tsr_rtp_packetizer_run(struct tsr_rtp_packetizer *p, const uint8_t *frame, size_t len,
                           size_t mtu_bytes, int64_t capture_us, bool keyframe,
                           struct tsr_rtp_packetized **out);

/* Bytes of the MTU kept for the RTP header, extensions and the SRTP auth tag. */
#define TSR_RTP_PACKET_OVERHEAD_BYTES 52

/* Immutable after packetizing; thread-safe refcount. */
struct tsr_rtp_packetized *tsr_rtp_packetized_ref(struct tsr_rtp_packetized *p);
void tsr_rtp_packetized_unref(struct tsr_rtp_packetized **p);
size_t tsr_rtp_packetized_count(const struct tsr_rtp_packetized *p);
/* Purpose: payload i (borrowed while a reference is held) and its marker bit.
 * Returns 0 or -EINVAL. */
int tsr_rtp_packetized_get(const struct tsr_rtp_packetized *p, size_t i, const uint8_t **data,
                           size_t *len, bool *marker);
int64_t tsr_rtp_packetized_capture_us(const struct tsr_rtp_packetized *p);

/* For packetize hooks: append one payload = hdr ‖ body (either may be empty).
 * Marker bits are set on the last payload by tsr_rtp_packetizer_run. */
int tsr_rtp_packetized_append(struct tsr_rtp_packetized *p, const uint8_t *hdr, size_t hdr_len,
                              const uint8_t *body, size_t body_len);

/* Opus TOC helper (RFC 6716 §3.1): samples at 48 kHz in the packet, or
 * TSR_ERR_INVALID. */
int tsr_rtp_opus_packet_samples(const uint8_t *payload, size_t len);

#endif
