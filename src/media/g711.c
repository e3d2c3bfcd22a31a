/* G.711 companders and the 1:6 resampler settings (see tessera/g711.h). */
#include <tessera/g711.h>


/* µ-law: the magnitude plus a bias of 132 puts every segment's start on a power
 * of two, so the segment is the position of the top bit (7..14) minus 7. */
#define ULAW_BIAS 0x84
#define ULAW_CLIP 32635

/* Index of the highest set bit of v (v > 0). */
static int top_bit(unsigned v)
{
    int b = 0;
    while (v >>= 1)
        b++;
    return b;
}

uint8_t tsr_g711_ulaw_encode(int16_t s)
{
    int v = s;
    unsigned sign = 0;
    if (v < 0) {
        v = -v;
        sign = 0x80;
    }
    if (v > ULAW_CLIP)
        v = ULAW_CLIP;
    v += ULAW_BIAS;
    int seg = top_bit((unsigned)v) - 7;
    unsigned mant = ((unsigned)v >> (seg + 3)) & 0x0f;
    return (uint8_t) ~(sign | (unsigned)seg << 4 | mant);
}

int16_t tsr_g711_ulaw_decode(uint8_t u)
{
    unsigned c = (uint8_t)~u;
    int seg = (int)(c >> 4) & 7;
    int v = ((((int)c & 0x0f) << 3) + ULAW_BIAS) << seg;
    return (int16_t)((c & 0x80) ? ULAW_BIAS - v : v - ULAW_BIAS);
}

/* A-law works on 13 bits: segment 0 covers magnitudes 0..31 linearly (step 2),
 * segment s >= 1 covers [16 << s, 32 << s) with 16 steps; the even bits are
 * inverted on the wire (xor 0x55) and the sign bit is set for positive values. */
uint8_t tsr_g711_alaw_encode(int16_t s)
{
    unsigned sign = s >= 0 ? 0x80 : 0;
    unsigned m = (unsigned)(s >= 0 ? s : ~s) >> 3; /* ~s = -s - 1: no overflow at -32768 */
    unsigned code;
    if (m < 32) {
        code = m >> 1;
    } else {
        int seg = top_bit(m) - 4;
        code = (unsigned)seg << 4 | ((m >> seg) & 0x0f);
    }
    return (uint8_t)((sign | code) ^ 0x55);
}

int16_t tsr_g711_alaw_decode(uint8_t a)
{
    unsigned c = a ^ 0x55u;
    int seg = (int)(c >> 4) & 7;
    int mant = (int)c & 0x0f;
    /* Reconstruct at the middle of the step, scaled back to 16 bits. */
    int v = seg == 0 ? (mant << 4) + 8 : ((mant << 1) | 0x21) << (seg + 2);
    return (int16_t)((c & 0x80) ? v : -v);
}

void tsr_g711_encode(enum tsr_g711_law law, const int16_t *pcm, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = law == TSR_G711_ALAW ? tsr_g711_alaw_encode(pcm[i]) : tsr_g711_ulaw_encode(pcm[i]);
}

void tsr_g711_decode(enum tsr_g711_law law, const uint8_t *in, size_t n, int16_t *pcm)
{
    for (size_t i = 0; i < n; i++)
        pcm[i] = law == TSR_G711_ALAW ? tsr_g711_alaw_decode(in[i]) : tsr_g711_ulaw_decode(in[i]);
}

/* Cutoff 3.7 kHz keeps the telephone band (300..3400 Hz) flat; the Blackman
 * window's transition (~5.5 * 48000 / 120 = 2.2 kHz) ends near 4.8 kHz, so what
 * folds around 4 kHz lands above 3.2 kHz at most -70 dB down. */
void tsr_g711_resampler_init(struct tsr_resampler *r)
{
    tsr_resampler_init(r, TSR_G711_RATIO, TSR_G711_FIR_TAPS, 3700.0);
}
