/* Audio tracks of media files as Opus packets, for tools (tessera-mix) that
 * feed files to the audio mixer and write its output into a file.
 *
 * A source reads the best audio stream of a file. Opus tracks pass through
 * untouched (no decode, no re-encode); any other codec is decoded with
 * libavcodec, downmixed to mono, resampled to 48 kHz (linear interpolation:
 * adequate for a tool, not a mastering resampler) and encoded to 20 ms Opus
 * packets at 64 kb/s. Packets carry a 48 kHz timestamp and a sequence number
 * like RTP would, and no RFC 6464 level (the mixer measures it).
 *
 * A sink adds an Opus stream to an output AVFormatContext the caller owns
 * (WebM, Matroska, MP4, Ogg) and writes mixer payloads into it, interleaved
 * with whatever else the caller writes there.
 *
 * Thread: each object is used by one thread at a time. */
#ifndef TESSERA_AUDIO_FILE_H
#define TESSERA_AUDIO_FILE_H

#include <stddef.h>
#include <stdint.h>

#include <libavformat/avformat.h>

#include <tessera/audio_packet.h>

/* tsr_audio_source_read() at the end of the track. */
#define TSR_AUDIO_SOURCE_EOF 1

struct tsr_audio_source;

/* Purpose: open `path` and pick its audio stream. Returns 0, TSR_ERR_IO (cannot
 * open or parse), TSR_ERR_NOT_FOUND (no audio stream), TSR_ERR_CODEC (no
 * decoder for it) or -ENOMEM. Ownership: *out is the caller's. */
int tsr_audio_source_open(struct tsr_audio_source **out, const char *path);
void tsr_audio_source_free(struct tsr_audio_source **src);

/* Purpose: the next Opus packet. pkt->data is borrowed until the next call or
 * free; ts_rtp is in 48 kHz units from the start of the file; level is
 * TSR_AUDIO_LEVEL_ABSENT. Returns 0, TSR_AUDIO_SOURCE_EOF, or a negative error
 * (TSR_ERR_IO, TSR_ERR_CODEC). */
int tsr_audio_source_read(struct tsr_audio_source *src, struct tsr_audio_packet *pkt);

/* Purpose: whether the file's track was Opus already (passed through). */
int tsr_audio_source_is_passthrough(const struct tsr_audio_source *src);

/* Purpose: add an Opus stream (48 kHz, `channels` 1 or 2, with its OpusHead)
 * to `oc` before avformat_write_header(). *out is owned by oc. Returns 0,
 * -ENOMEM or TSR_ERR_INVALID. */
int tsr_audio_sink_add_stream(AVFormatContext *oc, int channels, AVStream **out);

/* Purpose: write one Opus payload whose first sample is at pts_48k (48 kHz
 * units from the start of the output) into stream st of oc, interleaved.
 * Call after avformat_write_header(). Returns 0, -ENOMEM or TSR_ERR_IO. */
int tsr_audio_sink_write(AVFormatContext *oc, AVStream *st, const uint8_t *data, size_t len,
                         int64_t pts_48k, int duration_48k);

#endif
