/* The PIN lobby's prompt: what a caller waiting to enter a PIN hears. There are
 * no recorded voice prompts in Tessera, so the prompt is a tone cadence, encoded
 * once per process in the codec the caller offered (Opus, G.722, or
 * G.711 µ-law/A-law) and played in a loop as RTP from the lobby's socket:
 *   enter the PIN:  two 880 Hz beeps (200 ms, 100 ms apart), then 2.5 s quiet;
 *   wrong PIN:      three 330 Hz beeps (150 ms, 100 ms apart), then the prompt.
 * Home thread: the API loop. */
#include "sip_prompt.h"

#include <tessera/err.h>
#include <tessera/g711.h>
#include <tessera/g722.h>
#include <tessera/opus_codec.h>

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <string.h>

#define FRAME_MS 20
#define MAX_PAYLOAD 400
#define LEVEL 0.25 /* about -12 dBFS */

struct segment {
    unsigned hz; /* 0: silence */
    unsigned ms;
};

static const struct segment enter_pin[] = {{880, 200}, {0, 100}, {880, 200}, {0, 2500}};
static const struct segment wrong_pin[] = {{330, 150}, {0, 100},   {330, 150},
                                           {0, 100},   {330, 150}, {0, 550}};

struct tsr_sip_prompt {
    enum tsr_sip_prompt_codec codec;
    unsigned rate;          /* samples per second the codec encodes */
    unsigned clock;         /* its RTP clock (G.722: half its sample rate) */
    GPtrArray *cadence[2];  /* GBytes*: 20 ms payloads; [0] enter, [1] wrong */
    unsigned playing, next; /* which cadence, which frame of it */
    uint16_t seq;
    uint32_t ts, ssrc;
    bool started;
};

/* One 20 ms frame of the cadence at sample offset `at`, mono at `rate`. */
static void synth(const struct segment *seg, size_t n_seg, unsigned rate, size_t at, int16_t *pcm,
                  size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t t = at + i, start = 0;
        double v = 0;
        for (size_t s = 0; s < n_seg; s++) {
            size_t len = (size_t)seg[s].ms * rate / 1000;
            if (t < start + len) {
                if (seg[s].hz)
                    v = LEVEL * sin(2 * G_PI * seg[s].hz * (double)(t - start) / rate);
                break;
            }
            start += len;
        }
        pcm[i] = (int16_t)lrint(v * 32767);
    }
}

struct encoders {
    struct tsr_opus_encoder *opus;
    struct tsr_g722_encoder *g722;
};

static int encode_frame(struct encoders *enc, enum tsr_sip_prompt_codec codec, const int16_t *pcm,
                        size_t n, uint8_t *out)
{
    if (codec == TSR_SIP_PROMPT_OPUS)
        return tsr_opus_encode(enc->opus, pcm, n, out, MAX_PAYLOAD);
    if (codec == TSR_SIP_PROMPT_G722)
        return tsr_g722_encode(enc->g722, pcm, n, out, MAX_PAYLOAD);
    tsr_g711_encode(codec == TSR_SIP_PROMPT_PCMU ? TSR_G711_ULAW : TSR_G711_ALAW, pcm, n, out);
    return (int)n;
}

static int build(struct tsr_sip_prompt *p, const struct segment *seg, size_t n_seg, GPtrArray **out)
{
    struct encoders enc = {0};
    struct tsr_opus_encoder_params op = {.bitrate_bps = 32000, .channels = 1, .complexity = 5};
    if ((p->codec == TSR_SIP_PROMPT_OPUS && tsr_opus_encoder_new(&enc.opus, &op) != 0) ||
        (p->codec == TSR_SIP_PROMPT_G722 && tsr_g722_encoder_new(&enc.g722) != 0))
        return TSR_ERR_CODEC;
    unsigned ms = 0;
    for (size_t s = 0; s < n_seg; s++)
        ms += seg[s].ms;
    size_t per_frame = (size_t)p->rate * FRAME_MS / 1000;
    int16_t pcm[48000 * FRAME_MS / 1000];
    uint8_t payload[MAX_PAYLOAD];
    *out = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    int rc = 0;
    for (unsigned f = 0; f < ms / FRAME_MS && rc >= 0; f++) {
        synth(seg, n_seg, p->rate, (size_t)f * per_frame, pcm, per_frame);
        rc = encode_frame(&enc, p->codec, pcm, per_frame, payload);
        if (rc > 0)
            g_ptr_array_add(*out, g_bytes_new(payload, (size_t)rc));
    }
    tsr_opus_encoder_free(&enc.opus);
    tsr_g722_encoder_free(&enc.g722);
    return rc < 0 ? rc : 0;
}

/* The cadences are encoded once per codec for the process (a lobby only numbers
 * them), so a flood of calls to a PIN conference costs no encoding on the API
 * loop after the first; a codec that cannot be encoded is not tried again. */
static GPtrArray *cache[TSR_SIP_PROMPT_G722 + 1][2];
static bool cache_failed[TSR_SIP_PROMPT_G722 + 1];
static GMutex cache_lock;

static int cached(struct tsr_sip_prompt *p)
{
    int rc = 0;
    g_mutex_lock(&cache_lock);
    if (!cache[p->codec][0] && !cache_failed[p->codec]) {
        rc = build(p, enter_pin, G_N_ELEMENTS(enter_pin), &cache[p->codec][0]);
        if (rc == 0)
            rc = build(p, wrong_pin, G_N_ELEMENTS(wrong_pin), &cache[p->codec][1]);
        if (rc != 0) {
            for (int i = 0; i < 2; i++)
                if (cache[p->codec][i]) {
                    g_ptr_array_unref(cache[p->codec][i]);
                    cache[p->codec][i] = NULL;
                }
            cache_failed[p->codec] = true;
        }
    }
    if (cache_failed[p->codec])
        rc = rc ? rc : TSR_ERR_CODEC;
    for (int i = 0; i < 2 && rc == 0; i++)
        p->cadence[i] = g_ptr_array_ref(cache[p->codec][i]);
    g_mutex_unlock(&cache_lock);
    return rc;
}

int tsr_sip_prompt_new(struct tsr_sip_prompt **out, enum tsr_sip_prompt_codec codec)
{
    if (codec <= TSR_SIP_PROMPT_NONE || codec > TSR_SIP_PROMPT_G722)
        return -EINVAL;
    struct tsr_sip_prompt *p = g_new0(struct tsr_sip_prompt, 1);
    p->codec = codec;
    p->rate = codec == TSR_SIP_PROMPT_OPUS ? 48000 : codec == TSR_SIP_PROMPT_G722 ? 16000 : 8000;
    p->clock = codec == TSR_SIP_PROMPT_G722 ? 8000 : p->rate;
    p->seq = (uint16_t)g_random_int();
    p->ts = g_random_int();
    p->ssrc = g_random_int();
    int rc = cached(p);
    if (rc != 0) {
        tsr_sip_prompt_free(&p);
        return rc;
    }
    *out = p;
    return 0;
}

void tsr_sip_prompt_set_ssrc(struct tsr_sip_prompt *p, uint32_t ssrc)
{
    p->ssrc = ssrc;
}

void tsr_sip_prompt_free(struct tsr_sip_prompt **pp)
{
    if (!pp || !*pp)
        return;
    for (int i = 0; i < 2; i++)
        if ((*pp)->cadence[i])
            g_ptr_array_unref((*pp)->cadence[i]);
    g_free(*pp);
    *pp = NULL;
}

void tsr_sip_prompt_wrong_pin(struct tsr_sip_prompt *p)
{
    p->playing = 1;
    p->next = 0;
}

size_t tsr_sip_prompt_next(struct tsr_sip_prompt *p, uint8_t pt, uint8_t *out, size_t cap)
{
    GPtrArray *c = p->cadence[p->playing];
    if (p->next >= c->len) { /* the wrong-PIN beeps go back to the prompt */
        p->playing = 0;
        p->next = 0;
        c = p->cadence[0];
    }
    gsize n = 0;
    const uint8_t *payload = g_bytes_get_data(c->pdata[p->next++], &n);
    if (cap < 12 + n)
        return 0;
    out[0] = 0x80;
    out[1] = (uint8_t)((p->started ? 0 : 0x80) | (pt & 0x7f)); /* marker: first packet */
    out[2] = (uint8_t)(p->seq >> 8);
    out[3] = (uint8_t)p->seq;
    for (int i = 0; i < 4; i++) {
        out[4 + i] = (uint8_t)(p->ts >> (24 - 8 * i));
        out[8 + i] = (uint8_t)(p->ssrc >> (24 - 8 * i));
    }
    memcpy(out + 12, payload, n);
    p->started = true;
    p->seq++;
    p->ts += p->clock * FRAME_MS / 1000;
    return 12 + n;
}
