/* Integer-ratio resampling between a narrow codec rate and the 48 kHz mix: 8 kHz
 * G.711 (ratio 6) and 16 kHz G.722 (ratio 3).
 *
 * A polyphase windowed-sinc FIR (n_taps at 48 kHz, Blackman window, cutoff below
 * the narrow rate's Nyquist): one filter serves as the interpolation filter going
 * up (zero-stuffing by `ratio` then low-pass, computed as `ratio` phases of
 * n_taps / ratio taps) and as the anti-alias filter going down (low-pass then
 * keep every ratio-th sample, computed only for the kept samples). Linear
 * interpolation would leave the narrow signal's images in the mix and fold
 * everything above the narrow Nyquist into the caller's band; the Blackman FIR
 * stops both by > 70 dB for n_taps / ratio multiply-adds per 48 kHz output sample
 * going up and n_taps per narrow output sample going down. Its delay is
 * (n_taps - 1) / 2 samples at 48 kHz per direction. libswresample would do as well
 * but brings a context and allocation per stream for one fixed ratio.
 *
 * Thread: a resampler state is used by one thread at a time (the conference's
 * audio tick). */
#ifndef TESSERA_RESAMPLER_H
#define TESSERA_RESAMPLER_H

#include <stddef.h>
#include <stdint.h>

#define TSR_RESAMPLER_MAX_TAPS 180
/* Longest block one call takes, in 48 kHz samples (120 ms). */
#define TSR_RESAMPLER_MAX_BLOCK_48K 5760

/* One direction of resampling; embed it and _init it. Holds the filter and the
 * input history, so consecutive blocks join without a seam. */
struct tsr_resampler {
    int ratio;  /* 48 kHz samples per narrow sample */
    int n_taps; /* a multiple of ratio */
    float taps[TSR_RESAMPLER_MAX_TAPS];
    int16_t hist[TSR_RESAMPLER_MAX_TAPS]; /* last inputs, oldest first (48 kHz when down) */
};

/* Purpose: compute the filter (cutoff_hz at 48 kHz, unity DC gain) and clear the
 * history. ratio 2..12, n_taps a multiple of ratio up to TSR_RESAMPLER_MAX_TAPS,
 * 0 < cutoff_hz < 24000 / ratio. Returns 0 or -EINVAL. */
int tsr_resampler_init(struct tsr_resampler *r, int ratio, int n_taps, double cutoff_hz);

/* Purpose: clear the history only (the filter stays). */
void tsr_resampler_clear(struct tsr_resampler *r);

/* Purpose: n narrow samples -> n * ratio samples at 48 kHz in out (n * ratio <=
 * TSR_RESAMPLER_MAX_BLOCK_48K). Borrowed buffers. Returns 0 or -EINVAL. */
int tsr_resampler_up(struct tsr_resampler *r, const int16_t *in, size_t n, int16_t *out48k);

/* Purpose: n samples at 48 kHz (a multiple of ratio, <= TSR_RESAMPLER_MAX_BLOCK_48K)
 * -> n / ratio narrow samples in out. Returns 0 or -EINVAL. */
int tsr_resampler_down(struct tsr_resampler *r, const int16_t *in48k, size_t n, int16_t *out);

#endif
