/* Muxer: one recording file (Matroska) or one live push (FLV over RTMP/RTMPS)
 * through libavformat, fed with packets that are already encoded.
 *
 * Opening and starting are separate so that an unwritable directory or an
 * unreachable server is reported at once, while the stream parameters (the H.264
 * SPS/PPS of the first keyframe) are only known later.
 *
 * Crash safety (files): Matroska clusters are closed every second and every packet
 * is flushed to the kernel, so a SIGKILL leaves a file that players and ffprobe read
 * up to about the last second; only the duration and the index (cues) written by
 * tsr_muxer_close are missing then.
 *
 * Thread: none of its own; one thread at a time. Every call may block on I/O (a
 * disk, a TCP connect), so it belongs on a writer thread, never on a mixer or the
 * API loop. Network I/O gives up after io_timeout_ms or as soon as *abort is set. */
#ifndef TESSERA_MUXER_H
#define TESSERA_MUXER_H

#include <libavcodec/packet.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tessera/video_codec.h>

struct tsr_muxer;

enum tsr_muxer_container {
    TSR_MUXER_MATROSKA = 0, /* a file: H.264 or VP8, Opus */
    TSR_MUXER_FLV,          /* RTMP/RTMPS: H.264, AAC */
};

enum tsr_muxer_audio_codec {
    TSR_MUXER_AUDIO_OPUS = 0,
    TSR_MUXER_AUDIO_AAC,
};

/* Streams of the output; byte arrays are borrowed for the call. */
struct tsr_muxer_streams {
    enum tsr_video_codec video_codec;
    int width, height;
    /* H.264: SPS and PPS in Annex B (tsr_muxer_h264_parameter_sets); VP8: none. */
    const uint8_t *video_extradata;
    size_t video_extradata_len;
    enum tsr_muxer_audio_codec audio_codec;
    int audio_channels; /* 1 or 2; 48 kHz */
    /* AAC: the AudioSpecificConfig of the encoder; Opus: none (OpusHead is built). */
    const uint8_t *audio_extradata;
    size_t audio_extradata_len;
};

#define TSR_MUXER_VIDEO 0 /* stream index of the video */
#define TSR_MUXER_AUDIO 1

/* Purpose: open `url` for writing (a file path, created or truncated, or an
 * rtmp:// / rtmps:// URL, connected). `abort` (borrowed, may be NULL) interrupts
 * blocking network I/O when set. Returns 0 or a negative AVERROR/errno code;
 * tsr_muxer_reason() names it. */
int tsr_muxer_open(struct tsr_muxer **out, enum tsr_muxer_container container, const char *url,
                   int64_t io_timeout_ms, const atomic_int *abort);

/* Purpose: declare the streams and write the container header. Returns 0, -EINVAL
 * (bad parameters, already started) or the muxer's error. */
int tsr_muxer_start(struct tsr_muxer *m, const struct tsr_muxer_streams *s);

bool tsr_muxer_started(const struct tsr_muxer *m);

/* Purpose: write one packet of stream `stream` (TSR_MUXER_VIDEO/AUDIO) with its
 * presentation time in microseconds from the start of the output (never going
 * back per stream) and its duration. Takes ownership of pkt's reference (it is
 * unreferenced whatever happens). Returns 0 or the I/O error (disk full …). */
int tsr_muxer_write(struct tsr_muxer *m, int stream, AVPacket *pkt, int64_t pts_us,
                    int64_t duration_us);

/* Purpose: bytes written so far (header included). */
int64_t tsr_muxer_bytes(const struct tsr_muxer *m);

/* Purpose: write the trailer (when started and no write failed), close the file
 * or connection and free. Returns the trailer's or the close's error, else 0.
 * Accepts NULL; NULLs *m. */
int tsr_muxer_close(struct tsr_muxer **m);

/* Purpose: a short cause for an error code of this module, for events and logs:
 * "disk full", "permission denied", "no such directory", "connection refused",
 * "timed out", … (else FFmpeg's message). Writes into buf and returns it. Thread: any. */
const char *tsr_muxer_reason(int err, char *buf, size_t size);

/* Purpose: a stable label for metrics: "disk_full", "permission", "not_found",
 * "unreachable", "timeout", "io". Static string. Thread: any. */
const char *tsr_muxer_reason_label(int err);

/* Purpose: copy the SPS and PPS NAL units (with 4-byte start codes) of an Annex B
 * H.264 access unit into out (capacity cap). Returns the bytes written, 0 when the
 * unit has no SPS+PPS or they do not fit. Network-derived input: every length is
 * checked. Thread: any. */
size_t tsr_muxer_h264_parameter_sets(const uint8_t *au, size_t len, uint8_t *out, size_t cap);

#endif
