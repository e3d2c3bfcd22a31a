/* The audio mixer's codec seam: one decoder and one encoder type whose 48 kHz mono
 * PCM side is the mixer's, behind which sit either libopus (tessera/opus_codec.h)
 * or G.711 plus the 1:6 resampler (tessera/g711.h), or G.722 (libavcodec) plus the
 * 1:3 resampler (tessera/g722.h). Keeping the choice here leaves audio_mixer.c one
 * code path for every codec. Private to src/mix.
 *
 * G.711 and G.722 have no in-band FEC: FEC recovery and PLC both give silence
 * (run through the upsampler, so the filter tail rings out instead of cutting).
 * Copying a G.711 encoder copies its resampler history; a G.722 encoder also
 * replays the source's last 20 ms to reach its ADPCM state (libavcodec does not
 * expose it). "Independent next" is a no-op for both. Both spend one byte per
 * 8 kHz RTP tick (RFC 3551 gives G.722 an 8000 Hz clock), so a packet's 48 kHz
 * duration is 6 samples per byte for either. Thread: the mixer's. */
#ifndef TESSERA_AUDIO_MIXER_CODEC_H
#define TESSERA_AUDIO_MIXER_CODEC_H

#include <tessera/audio_packet.h>
#include <tessera/opus_codec.h>

#include <stddef.h>
#include <stdint.h>

struct mix_dec;
struct mix_enc;

/* Purpose: duration at 48 kHz of a packet of `codec`, without decoding.
 * Network input. Returns samples (> 0) or TSR_ERR_INVALID / TSR_ERR_TRUNCATED. */
int mix_packet_samples(enum tsr_audio_codec codec, const uint8_t *pkt, size_t len);
/* Purpose: the codec's RTP timestamp in 48 kHz units (x6 for G.711 and G.722). */
uint32_t mix_ts_48k(enum tsr_audio_codec codec, uint32_t ts_rtp);

int mix_dec_new(struct mix_dec **out, enum tsr_audio_codec codec);
void mix_dec_free(struct mix_dec **d);
int mix_dec_reset(struct mix_dec *d);
/* Decode into pcm (room for cap samples at 48 kHz); returns samples or < 0. */
int mix_dec_decode(struct mix_dec *d, const uint8_t *pkt, size_t len, int16_t *pcm, size_t cap);
int mix_dec_plc(struct mix_dec *d, size_t samples, int16_t *pcm);
int mix_dec_fec(struct mix_dec *d, const uint8_t *next, size_t len, size_t samples, int16_t *pcm);

/* Purpose: new encoder; `op` is used for Opus only. */
int mix_enc_new(struct mix_enc **out, enum tsr_audio_codec codec,
                const struct tsr_opus_encoder_params *op);
void mix_enc_free(struct mix_enc **e);
/* Purpose: dst continues where src is (same codec). Returns 0 or < 0. */
int mix_enc_copy_state(struct mix_enc *dst, const struct mix_enc *src);
void mix_enc_set_independent_next(struct mix_enc *e);
/* Purpose: encode `samples` (a multiple of 6) at 48 kHz; returns bytes or < 0. */
int mix_enc_encode(struct mix_enc *e, const int16_t *pcm, size_t samples, uint8_t *out, size_t cap);

#endif
