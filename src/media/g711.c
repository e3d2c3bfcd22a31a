/* G.711 companders and the 1:6 polyphase resampler (see tessera/g711.h). */
#include <tessera/g711.h>

#include <errno.h>
#include <math.h>
#include <string.h>

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

/* Windowed sinc at 48 kHz: cutoff 3.7 kHz keeps the telephone band (300..3400 Hz)
 * flat; the Blackman window's transition (~5.5 * 48000 / 120 = 2.2 kHz) ends
 * near 4.8 kHz, so what folds around 4 kHz lands above 3.2 kHz at most -70 dB
 * down. Normalised to unity DC gain. */
void tsr_g711_resampler_init(struct tsr_g711_resampler *r)
{
    const double fc = 3700.0 / 48000.0, mid = (TSR_G711_FIR_TAPS - 1) / 2.0;
    double h[TSR_G711_FIR_TAPS], sum = 0;
    for (int k = 0; k < TSR_G711_FIR_TAPS; k++) {
        double t = k - mid, x = 2.0 * M_PI * fc * t;
        double sinc = fabs(t) < 1e-9 ? 2.0 * fc : sin(x) / (M_PI * t);
        double w = 2.0 * M_PI * k / (TSR_G711_FIR_TAPS - 1);
        h[k] = sinc * (0.42 - 0.5 * cos(w) + 0.08 * cos(2.0 * w));
        sum += h[k];
    }
    for (int k = 0; k < TSR_G711_FIR_TAPS; k++)
        r->taps[k] = (float)(h[k] / sum);
    memset(r->hist, 0, sizeof r->hist);
}

static int16_t clamp16(float v)
{
    v = v >= 0 ? v + 0.5f : v - 0.5f;
    return (int16_t)(v > 32767.f ? 32767 : v < -32768.f ? -32768 : (int)v);
}

#define PHASE_TAPS (TSR_G711_FIR_TAPS / TSR_G711_RATIO)

int tsr_g711_upsample(struct tsr_g711_resampler *r, const int16_t *in8k, size_t n, int16_t *out48k)
{
    if (n * TSR_G711_RATIO > TSR_G711_MAX_BLOCK_48K || (n && (!in8k || !out48k)))
        return -EINVAL;
    /* buf: the last PHASE_TAPS - 1 inputs, then the new ones. */
    int16_t buf[PHASE_TAPS - 1 + TSR_G711_MAX_BLOCK_48K / TSR_G711_RATIO];
    const size_t h = PHASE_TAPS - 1;
    memcpy(buf, r->hist + TSR_G711_FIR_TAPS - h, h * sizeof *buf);
    memcpy(buf + h, in8k, n * sizeof *buf);
    for (size_t i = 0; i < n; i++) {
        const int16_t *x = buf + h + i; /* x[-j] is input i - j */
        for (int p = 0; p < TSR_G711_RATIO; p++) {
            float acc = 0;
            for (int j = 0; j < PHASE_TAPS; j++)
                acc += r->taps[p + TSR_G711_RATIO * j] * (float)x[-j];
            out48k[i * TSR_G711_RATIO + (size_t)p] = clamp16(acc * TSR_G711_RATIO);
        }
    }
    memcpy(r->hist + TSR_G711_FIR_TAPS - h, buf + n, h * sizeof *buf);
    return 0;
}

int tsr_g711_downsample(struct tsr_g711_resampler *r, const int16_t *in48k, size_t n,
                        int16_t *out8k)
{
    if (n % TSR_G711_RATIO || n > TSR_G711_MAX_BLOCK_48K || (n && (!in48k || !out8k)))
        return -EINVAL;
    int16_t buf[TSR_G711_FIR_TAPS - 1 + TSR_G711_MAX_BLOCK_48K];
    const size_t h = TSR_G711_FIR_TAPS - 1;
    memcpy(buf, r->hist + 1, h * sizeof *buf);
    memcpy(buf + h, in48k, n * sizeof *buf);
    for (size_t i = 0; i < n / TSR_G711_RATIO; i++) {
        const int16_t *x = buf + h + i * TSR_G711_RATIO + TSR_G711_RATIO - 1;
        float acc = 0;
        for (int k = 0; k < TSR_G711_FIR_TAPS; k++)
            acc += r->taps[k] * (float)x[-k];
        out8k[i] = clamp16(acc);
    }
    memcpy(r->hist + 1, buf + n, h * sizeof *buf);
    return 0;
}
