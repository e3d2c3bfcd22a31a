/* AAC encoder for live pushes (FLV carries AAC, not Opus): FFmpeg's native `aac`
 * encoder fed with the conference mix as 16-bit PCM in 20 ms ticks, re-framed into
 * AAC's 1024-sample frames.
 *
 * Thread: none of its own; one thread at a time (the stream's writer thread). */
#ifndef TESSERA_AAC_ENCODER_H
#define TESSERA_AAC_ENCODER_H

#include <libavcodec/packet.h>
#include <stddef.h>
#include <stdint.h>

struct tsr_aac_encoder;

/* Purpose: open an encoder at 48 kHz with `channels` (1 or 2) at bitrate_bps.
 * Returns 0, -EINVAL, -ENOMEM or TSR_ERR_CODEC. */
int tsr_aac_encoder_new(struct tsr_aac_encoder **out, int channels, int64_t bitrate_bps);
void tsr_aac_encoder_free(struct tsr_aac_encoder **e);

/* Purpose: the AudioSpecificConfig the container needs (borrowed; *len set). */
const uint8_t *tsr_aac_encoder_extradata(const struct tsr_aac_encoder *e, size_t *len);

/* Purpose: queue n_samples of mono PCM (duplicated to both channels of a stereo
 * encoder). Returns 0, -ENOMEM or TSR_ERR_CODEC. */
int tsr_aac_encoder_push(struct tsr_aac_encoder *e, const int16_t *pcm, size_t n_samples);

/* Purpose: the next encoded frame, if one is ready: 0 and *pkt filled (the
 * caller's reference; *pts_samples is its first sample counted from the first
 * sample pushed), TSR_ERR_AGAIN when none is ready, or TSR_ERR_CODEC. */
int tsr_aac_encoder_pull(struct tsr_aac_encoder *e, AVPacket *pkt, int64_t *pts_samples);

#endif
