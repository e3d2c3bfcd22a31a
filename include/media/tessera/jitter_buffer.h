/* Video jitter buffer and frame assembly, one per received video SSRC.
 *
 * Packets go in with tsr_jitter_buffer_push (any order, duplicates tolerated);
 * complete frames come out in timestamp order with tsr_jitter_buffer_pop_frame.
 * A frame is complete when its first packet (codec `inspect`: frame start), every
 * sequence number up to the marker-bit packet, and the marker packet are present.
 * Gaps become NACK lists (tsr_jitter_buffer_poll_nack) with a retry limit and a
 * minimum interval, and are given up once the frame could no longer play in time.
 * A frame that cannot be completed in time is dropped, never handed out partial;
 * after a drop only a keyframe is emitted again and a keyframe request is raised
 * (PLI, repeated, then FIR; tsr_jitter_buffer_poll_keyframe_request). The decoder
 * can ask for a keyframe itself (tsr_jitter_buffer_request_keyframe).
 *
 * Time is passed in (monotonic µs): the object never reads clocks. Memory is
 * bounded by max_packets. Home thread: the participant's net loop; not thread-safe.
 * Pure: no I/O, no globals (metrics counters only). */
#ifndef TESSERA_JITTER_BUFFER_H
#define TESSERA_JITTER_BUFFER_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tessera/rtp.h>
#include <tessera/rtp_codec.h>

struct tsr_jitter_buffer_config {
    int64_t max_delay_ms;     /* how long a frame may wait for missing packets (default 200) */
    int nack_max_retries;     /* NACKs per missing packet (default 5) */
    int64_t nack_interval_ms; /* min time between NACKs of one packet, ~1 RTT (default 50) */
    int64_t pli_interval_ms;  /* min time between keyframe requests (default 300) */
    int pli_before_fir;       /* PLIs sent before escalating to FIR (default 3) */
    size_t max_packets;       /* packets held at most (default 1024) */
};

/* Purpose: fill `c` with the defaults above. */
void tsr_jitter_buffer_config_default(struct tsr_jitter_buffer_config *c);

struct tsr_jitter_buffer;

/* Purpose: create a buffer for a video codec. `cfg` NULL means defaults; it is
 * copied. Returns 0, -EINVAL (codec NULL or audio), -ENOMEM. */
int tsr_jitter_buffer_new(struct tsr_jitter_buffer **out, const struct tsr_rtp_codec *codec,
                          const struct tsr_jitter_buffer_config *cfg);
void tsr_jitter_buffer_free(struct tsr_jitter_buffer **jb);

/* Purpose: insert one parsed packet (payload copied; `h` and its buffer borrowed).
 * Returns 0; TSR_ERR_INVALID for a payload the codec rejects (counted, dropped);
 * TSR_ERR_AGAIN for a duplicate or a packet too old to use (dropped, counted);
 * TSR_ERR_FULL when it had to flush (then a keyframe request is raised). */
int tsr_jitter_buffer_push(struct tsr_jitter_buffer *jb, const struct tsr_rtp_header *h,
                           int64_t now_us);

/* A complete frame. */
struct tsr_jitter_buffer_frame {
    GBytes *data;           /* owned by the caller: g_bytes_unref */
    uint32_t timestamp_rtp; /* 90 kHz */
    int64_t timestamp_ext;  /* unwrapped */
    bool keyframe;
    uint16_t width, height; /* 0 when unknown */
    enum tsr_rtp_codec_id codec;
    uint16_t first_seq, last_seq;
    int64_t first_arrival_us; /* arrival of the frame's first packet */
};

/* Purpose: the next complete frame in order, if any. Also drops frames whose time
 * ran out (raising a keyframe request). Returns 0 and fills *out; TSR_ERR_AGAIN
 * when no frame is ready. */
int tsr_jitter_buffer_pop_frame(struct tsr_jitter_buffer *jb, int64_t now_us,
                                struct tsr_jitter_buffer_frame *out);

/* Purpose: sequence numbers to NACK now (each counted as one retry). Writes at most
 * `cap`; *n gets the count (0 when nothing is due). Returns 0. */
int tsr_jitter_buffer_poll_nack(struct tsr_jitter_buffer *jb, int64_t now_us, uint16_t *seqs,
                                size_t cap, size_t *n);

enum tsr_keyframe_request {
    TSR_KEYFRAME_REQUEST_NONE = 0,
    TSR_KEYFRAME_REQUEST_PLI,
    TSR_KEYFRAME_REQUEST_FIR,
};

/* Purpose: whether to send PLI or FIR now (rate-limited by pli_interval_ms;
 * escalates to FIR after pli_before_fir PLIs without a keyframe). */
enum tsr_keyframe_request tsr_jitter_buffer_poll_keyframe_request(struct tsr_jitter_buffer *jb,
                                                                  int64_t now_us);

/* Purpose: the decoder lost sync: drop non-keyframes until a keyframe arrives and
 * raise a keyframe request. */
void tsr_jitter_buffer_request_keyframe(struct tsr_jitter_buffer *jb, int64_t now_us);

/* Purpose: the earliest time (monotonic µs) a poll could produce something new
 * (NACK due, frame deadline, keyframe request), or INT64_MAX. For timers. */
int64_t tsr_jitter_buffer_next_wakeup_us(const struct tsr_jitter_buffer *jb);

struct tsr_jitter_buffer_stats {
    uint64_t frames_out;
    uint64_t frames_dropped; /* incomplete in time, or waiting for a keyframe */
    uint64_t packets_in;
    uint64_t duplicates;
    uint64_t late_packets;
    uint64_t nacks_sent;
    uint64_t keyframe_requests;
};

void tsr_jitter_buffer_get_stats(const struct tsr_jitter_buffer *jb,
                                 struct tsr_jitter_buffer_stats *out);

#endif
