/* G.711 (ITU-T) µ-law and A-law, and the 8 kHz <-> 48 kHz resampling that puts a
 * G.711 caller into the 48 kHz conference mix and the mix back onto its 8 kHz line.
 *
 * The companders are computed, not looked up: a byte costs a handful of shifts
 * and a bit scan, which is cheaper than a cache miss at 160 samples per 20 ms.
 *
 * The resampler is a polyphase windowed-sinc FIR (TSR_G711_FIR_TAPS taps at 48 kHz,
 * Blackman window, cutoff 3.7 kHz): one filter serves as the interpolation
 * filter going up (zero-stuffing by 6 then low-pass, computed as 6 phases of 20
 * taps) and as the anti-alias filter going down (low-pass then keep every 6th
 * sample, computed only for the kept samples). Linear interpolation would leave
 * the 8 kHz images of speech at 4..20 kHz in the mix and alias everything above
 * 4 kHz into the caller's band; the Blackman FIR stops both by > 70 dB at a cost
 * of 20 multiply-adds per output sample. Its delay is 59.5 samples at 48 kHz
 * (~1.2 ms) per direction. libswresample would do as well but brings a context
 * and allocation per stream for a fixed 1:6 ratio.
 *
 * Thread: the functions are pure; a resampler state is used by one thread at a
 * time (the conference's audio tick). */
#ifndef TESSERA_G711_H
#define TESSERA_G711_H

#include <stddef.h>
#include <stdint.h>

#define TSR_G711_RATE_HZ 8000
/* 48 kHz samples per 8 kHz sample. */
#define TSR_G711_RATIO 6
#define TSR_G711_FIR_TAPS 120
/* Longest block the resampler takes in one call, in 48 kHz samples (120 ms). */
#define TSR_G711_MAX_BLOCK_48K 5760

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

/* One direction of 1:6 resampling; embed it and _init it. Holds the filter and
 * the input history, so consecutive blocks join without a seam. */
struct tsr_g711_resampler {
    float taps[TSR_G711_FIR_TAPS];
    int16_t hist[TSR_G711_FIR_TAPS]; /* last inputs, oldest first (48 kHz when down) */
};

/* Purpose: compute the filter and clear the history. */
void tsr_g711_resampler_init(struct tsr_g711_resampler *r);

/* Purpose: n samples at 8 kHz -> 6n samples at 48 kHz in out (n * 6 <=
 * TSR_G711_MAX_BLOCK_48K). Returns 0 or -EINVAL. */
int tsr_g711_upsample(struct tsr_g711_resampler *r, const int16_t *in8k, size_t n, int16_t *out48k);

/* Purpose: n samples at 48 kHz (a multiple of 6, <= TSR_G711_MAX_BLOCK_48K) ->
 * n / 6 samples at 8 kHz in out. Returns 0 or -EINVAL. */
int tsr_g711_downsample(struct tsr_g711_resampler *r, const int16_t *in48k, size_t n,
                        int16_t *out8k);

#endif
