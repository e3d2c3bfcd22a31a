/* A conference output: the recording of the shared view and the full mix to a
 * Matroska file, or a live push of them to an RTMP/RTMPS server (FLV, H.264 + AAC).
 *
 * The conference mixer feeds it encoded frames of the common view (the encoder
 * group it shares with receivers of that view, so a matching encoder costs
 * nothing more) and, every 20 ms, the mix every listener who is not talking hears
 * (its Opus payload, and its PCM for the AAC of a push). Its own writer thread
 * opens the target, writes, and for a push reconnects with back-off when the
 * server drops; the feeding calls only queue (dropping when the writer falls more
 * than MAX_QUEUE behind), so a slow disk or network never holds up a mixer.
 *
 * Faults end it: a file that cannot be created or written (disk full, permissions),
 * a server that cannot be reached at the start, or one that stays away for
 * reconnect_timeout_s. The state callback says which, with the cause.
 *
 * Thread: every function may be called from any thread; the state callback runs on
 * the writer thread. Lifetime: refcounted; tsr_output_close (not on the writer
 * thread) stops it and waits for the writer, the last unref frees. */
#ifndef TESSERA_OUTPUT_H
#define TESSERA_OUTPUT_H

#include <libavcodec/packet.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tessera/video_codec.h>

struct tsr_output;

enum tsr_output_kind {
    TSR_OUTPUT_RECORDING = 0, /* Matroska file */
    TSR_OUTPUT_STREAM,        /* RTMP/RTMPS push */
};

enum tsr_output_state {
    TSR_OUTPUT_STARTING = 0, /* opening the file / connecting */
    TSR_OUTPUT_ACTIVE,       /* writing (a push: connected and sending) */
    TSR_OUTPUT_RECONNECTING, /* a push lost its server and is trying again */
    TSR_OUTPUT_STOPPED,      /* stopped on request; the file is complete (final) */
    TSR_OUTPUT_FAILED,       /* ended by a fault, named in `detail` (final) */
};

/* Called on the writer thread at each change. `detail` (may be NULL) is the cause
 * of FAILED and RECONNECTING ("disk full", "connection refused"); borrowed. */
typedef void (*tsr_output_state_fn)(void *user, uint32_t output_id, enum tsr_output_state state,
                                    const char *detail);

struct tsr_output_params {
    uint32_t id;                  /* the conference's output id */
    enum tsr_output_kind kind;
    const char *target;           /* file path or rtmp(s):// URL; copied */
    const char *log_ctx;          /* copied */
    enum tsr_video_codec video_codec; /* a push needs H.264 */
    int width, height;
    int audio_channels;           /* of the Opus mix it is fed (1 or 2) */
    int64_t aac_bitrate_bps;      /* a push's AAC */
    int64_t io_timeout_ms;        /* a push: connect / write gives up after this */
    int64_t retry_min_ms;         /* a push: first back-off, doubled up to retry_max_ms */
    int64_t retry_max_ms;
    int64_t reconnect_timeout_ms; /* a push away this long has failed */
    tsr_output_state_fn on_state;
    void *user;                   /* borrowed until tsr_output_close returns */
};

/* Purpose: start the writer thread (it reports STARTING, then opens the target).
 * Returns 0, -EINVAL (bad parameters) or -ENOMEM. *out holds one reference. */
int tsr_output_new(struct tsr_output **out, const struct tsr_output_params *params);

struct tsr_output *tsr_output_ref(struct tsr_output *o);
/* Accepts NULL; NULLs *o. */
void tsr_output_unref(struct tsr_output **o);

uint32_t tsr_output_id(const struct tsr_output *o);
enum tsr_output_kind tsr_output_kind(const struct tsr_output *o);
enum tsr_video_codec tsr_output_video_codec(const struct tsr_output *o);

/* Purpose: ask the writer to finish: the file gets its trailer, a push closes.
 * Returns at once; STOPPED follows. Idempotent. */
void tsr_output_stop(struct tsr_output *o);

/* Purpose: stop (as above, interrupting any network wait) and wait for the writer
 * thread to end. Idempotent; neither on the writer thread nor on the API loop (it
 * waits: tsr_loop_assert_may_wait). The last unref closes too. */
void tsr_output_close(struct tsr_output *o);

/* Purpose: true once the output reached a final state (the feeders drop it). */
bool tsr_output_finished(const struct tsr_output *o);

/* Purpose: one encoded frame of the view, `t_us` its capture time on the mixer's
 * media clock. Shares pkt's buffer (av_packet_ref), no copy. */
void tsr_output_push_video(struct tsr_output *o, const AVPacket *pkt, int64_t t_us);

/* Purpose: one 20 ms tick of the mix: its Opus payload (copied) and its mono PCM
 * (960 samples, copied when the output encodes AAC; may be NULL). */
void tsr_output_push_audio(struct tsr_output *o, const uint8_t *opus, size_t opus_len,
                           const int16_t *pcm, size_t n_samples, int64_t t_us);

/* Purpose: true (once) when the writer needs a keyframe (its start, a reconnect, a
 * dropped frame): the video feeder asks the encoder group for one. */
bool tsr_output_take_keyframe_request(struct tsr_output *o);

/* Purpose: the state names used in events: "starting", "active", "reconnecting",
 * "stopped", "failed". Static. */
const char *tsr_output_state_name(enum tsr_output_state s);

#endif
