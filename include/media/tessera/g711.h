/* G.711 (ITU-T) µ-law and A-law, and the 8 kHz <-> 48 kHz resampling that puts a
 * G.711 caller into the 48 kHz conference mix and the mix back onto its 8 kHz line.
 *
 * The companders are computed, not looked up: a byte costs a handful of shifts
 * and a bit scan, which is cheaper than a cache miss at 160 samples per 20 ms.
 *
 * The resampler (tessera/resampler.h) runs at 1:6 with TSR_G711_FIR_TAPS taps at
 * 48 kHz and a 3.7 kHz cutoff: 6 phases of 20 taps going up, > 70 dB image and
 * alias rejection, 59.5 samples at 48 kHz (~1.2 ms) of delay per direction.
 *
 * Thread: the functions are pure; a resampler state is used by one thread at a
 * time (the conference's audio tick). */
#ifndef TESSERA_G711_H
#define TESSERA_G711_H

#include <stddef.h>
#include <stdint.h>

#include <tessera/resampler.h>

#define TSR_G711_RATE_HZ 8000
/* 48 kHz samples per 8 kHz sample. */
#define TSR_G711_RATIO 6
#define TSR_G711_FIR_TAPS 120

enum tsr_g711_law {
    TSR_G711_ULAW, /* PCMU, RTP payload type 0 */
    TSR_G711_ALAW, /* PCMA, RTP payload type 8 */
};

/* Purpose: one sample to its code byte (as sent on the wire) and back. */
uint8_t tsr_g711_ulaw_encode(int16_t s);
int16_t tsr_g711_ulaw_decode(uint8_t u);
uint8_t tsr_g711_alaw_encode(int16_t s);
int16_t tsr_g711_alaw_decode(uint8_t a);

/* Purpose: encode n samples of pcm into n bytes of out. Borrowed buffers. */
void tsr_g711_encode(enum tsr_g711_law law, const int16_t *pcm, size_t n, uint8_t *out);
/* Purpose: decode n bytes (network input: every byte value is valid) into n samples. */
void tsr_g711_decode(enum tsr_g711_law law, const uint8_t *in, size_t n, int16_t *pcm);

/* Purpose: set r up for 8 kHz <-> 48 kHz (1:6, TSR_G711_FIR_TAPS taps, cutoff
 * 3.7 kHz) with a clear history; then tsr_resampler_up/down. */
void tsr_g711_resampler_init(struct tsr_resampler *r);

#endif
