/* Look-ahead peak limiter: see include/mix/tessera/audio_limiter.h.
 *
 * Why it cannot clip or wrap: for output sample n (input n - (W-1)) the applied
 * gain is the mean of W released minima, each taken over a window that contains
 * input n - (W-1); the release only ever raises a value towards its minimum, so
 * every term, hence the mean, is <= CEILING / |x|. The one float rounding that
 * could land a sample an LSB over the ceiling is caught by the final guard. */
#include <tessera/audio_limiter.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W TSR_LIMITER_WINDOW
/* Exponential release towards unity, ~80 ms time constant at 48 kHz:
 * slow enough that the gain does not follow the waveform (no pumping or
 * low-frequency distortion), fast enough that a quiet talker after a loud burst
 * is back at full level within a few hundred ms. */
#define RELEASE_ALPHA 2.6e-4
/* Within this of unity the release snaps to exactly 1 so a quiet passage passes
 * bit-exact instead of at 0.9999 forever. */
#define UNITY_SNAP 1e-4

void tsr_audio_limiter_init(struct tsr_audio_limiter *l)
{
    memset(l, 0, sizeof(*l));
    for (int i = 0; i < W; i++) {
        l->need[i] = 1.0f;
        l->smooth[i] = 1.0f;
    }
    l->box_sum = W;
    l->released = 1.0f;
    l->gain = 1.0f;
}

/* Push required gain r for position pos; return the minimum over the window. */
static float window_min(struct tsr_audio_limiter *l, uint64_t pos, float r)
{
    l->need[pos % W] = r;
    while (l->minq_len > 0) {
        uint32_t back = l->minq[(l->minq_head + l->minq_len - 1) % W];
        if (l->need[back % W] < r)
            break;
        l->minq_len--;
    }
    /* Positions are stored modulo 2^32; the window is tiny, so differences stay exact. */
    l->minq[(l->minq_head + l->minq_len) % W] = (uint32_t)pos;
    l->minq_len++;
    uint32_t front = l->minq[l->minq_head];
    if ((uint32_t)pos - front >= W) {
        l->minq_head = (l->minq_head + 1) % W;
        l->minq_len--;
        front = l->minq[l->minq_head];
    }
    return l->need[front % W];
}

static float release(struct tsr_audio_limiter *l, float c)
{
    double g = l->released;
    if (c <= g)
        g = c;
    else {
        g += (c - g) * RELEASE_ALPHA;
        if (c == 1.0f && g > 1.0 - UNITY_SNAP)
            g = 1.0;
    }
    l->released = g;
    return (float)g;
}

static float box(struct tsr_audio_limiter *l, uint64_t pos, float g)
{
    size_t slot = pos % W;
    float old = l->smooth[slot];
    l->box_dirty += (g < 1.0f) - (old < 1.0f);
    l->smooth[slot] = g;
    if (l->box_dirty == 0) {
        l->box_sum = W;
        return 1.0f;
    }
    if (slot == 0) { /* refresh the running sum once per window: no drift */
        double s = 0;
        for (int i = 0; i < W; i++)
            s += l->smooth[i];
        l->box_sum = s;
    } else
        l->box_sum += (double)g - (double)old;
    return (float)(l->box_sum / W);
}

void tsr_audio_limiter_process(struct tsr_audio_limiter *l, const int32_t *in, int16_t *out,
                               size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t pos = l->pos++;
        int32_t x = in[i];
        int64_t ax = x < 0 ? -(int64_t)x : x;
        float r = ax > TSR_LIMITER_CEILING ? (float)TSR_LIMITER_CEILING / (float)ax : 1.0f;
        float gain = box(l, pos, release(l, window_min(l, pos, r)));
        l->delay[pos % W] = x;
        int32_t xd = l->delay[(pos + 1) % W]; /* input pos - (W - 1) */
        int32_t y;
        if (gain == 1.0f)
            y = xd; /* |xd| <= ceiling here: its own r was 1 */
        else
            y = (int32_t)lrintf((float)xd * gain);
        if (y > TSR_LIMITER_CEILING)
            y = TSR_LIMITER_CEILING;
        else if (y < -TSR_LIMITER_CEILING)
            y = -TSR_LIMITER_CEILING;
        out[i] = (int16_t)y;
        l->gain = gain;
    }
}

float tsr_audio_limiter_gain(const struct tsr_audio_limiter *l)
{
    return l->gain;
}
