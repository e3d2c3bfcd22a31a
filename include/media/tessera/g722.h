/* G.722 (ITU-T, 64 kbit/s sub-band ADPCM, 16 kHz wideband) through libavcodec's
 * adpcm_g722 encoder and decoder, and the 16 kHz <-> 48 kHz resampler that puts a
 * G.722 caller into the conference mix.
 *
 * RFC 3551 quirk: G.722 samples at 16 kHz but its RTP clock rate is 8000 (an
 * historical error kept for compatibility), so `a=rtpmap:9 G722/8000`, and a
 * 20 ms packet (320 samples, 160 bytes) advances the timestamp by 160: one RTP
 * tick per byte, exactly as G.711. Everything above the codec (jitter buffer,
 * timestamps, 48 kHz durations: 6 per byte) therefore treats G.722 like G.711.
 *
 * The resampler (tessera/resampler.h) runs at 1:3 with TSR_G722_FIR_TAPS taps at
 * 48 kHz and a 7.3 kHz cutoff: flat to ~6.6 kHz (G.722's own band ends at 7 kHz),
 * stopband from ~8 kHz, 60 multiply-adds per 48 kHz sample going up, 180 per
 * 16 kHz sample going down, 89.5 samples at 48 kHz (~1.9 ms) delay per direction.
 *
 * Thread: an encoder or decoder is used by one thread at a time. */
#ifndef TESSERA_G722_H
#define TESSERA_G722_H

#include <stddef.h>
#include <stdint.h>

#include <tessera/resampler.h>

#define TSR_G722_RATE_HZ 16000
#define TSR_G722_RTP_CLOCK_HZ 8000 /* RFC 3551 */
#define TSR_G722_PT 9              /* static payload type */
/* 48 kHz samples per 16 kHz sample. */
#define TSR_G722_RATIO 3
#define TSR_G722_FIR_TAPS 180
/* Samples at 16 kHz per frame the encoder takes (20 ms); a byte holds two. */
#define TSR_G722_FRAME_SAMPLES 320

struct tsr_g722_encoder;
struct tsr_g722_decoder;

/* Purpose: a 64 kbit/s encoder. Returns 0, -ENOMEM or TSR_ERR_UNSUPPORTED when
 * libavcodec has no G.722 encoder. */
int tsr_g722_encoder_new(struct tsr_g722_encoder **out);
void tsr_g722_encoder_free(struct tsr_g722_encoder **e);

/* Purpose: encode n samples at 16 kHz (a multiple of TSR_G722_FRAME_SAMPLES) into
 * n / 2 bytes of out (room for cap). Borrowed buffers. Returns bytes or
 * TSR_ERR_INVALID / TSR_ERR_FULL / a libavcodec error. */
int tsr_g722_encode(struct tsr_g722_encoder *e, const int16_t *pcm16k, size_t n, uint8_t *out,
                    size_t cap);

/* Purpose: a 64 kbit/s decoder. Returns 0, -ENOMEM or TSR_ERR_UNSUPPORTED. */
int tsr_g722_decoder_new(struct tsr_g722_decoder **out);
void tsr_g722_decoder_free(struct tsr_g722_decoder **d);
/* Purpose: forget the ADPCM state (a new stream follows). Returns 0 or < 0. */
int tsr_g722_decoder_reset(struct tsr_g722_decoder *d);

/* Purpose: decode len bytes (network input; every byte value is valid) into
 * 2 * len samples at 16 kHz in pcm (room for cap). Returns samples or
 * TSR_ERR_TRUNCATED / TSR_ERR_FULL / a libavcodec error. */
int tsr_g722_decode(struct tsr_g722_decoder *d, const uint8_t *in, size_t len, int16_t *pcm16k,
                    size_t cap);

/* Purpose: set r up for 16 kHz <-> 48 kHz (1:3, TSR_G722_FIR_TAPS taps, cutoff
 * 7.3 kHz) with a clear history; then tsr_resampler_up/down. */
void tsr_g722_resampler_init(struct tsr_resampler *r);

#endif
