/* Opus, G.711 or G.722 behind one decoder/encoder type (see audio_mixer_codec.h). */
#include "audio_mixer_codec.h"

#include <tessera/err.h>
#include <tessera/g711.h>
#include <tessera/g722.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Both narrowband codecs spend one byte per RTP tick (8 kHz): 6 samples at 48 kHz. */
#define BYTE_48K 6
/* Longest narrow block: 120 ms at 16 kHz. */
#define NARROW_MAX (TSR_RESAMPLER_MAX_BLOCK_48K / TSR_G722_RATIO)

struct mix_dec {
    enum tsr_audio_codec codec;
    struct tsr_opus_decoder *opus;
    struct tsr_g722_decoder *g722;
    struct tsr_resampler up;
};

struct mix_enc {
    enum tsr_audio_codec codec;
    struct tsr_opus_encoder *opus;
    struct tsr_g722_encoder *g722;
    struct tsr_resampler down;
    /* G.722: the last frame's 16 kHz input, which a copy replays (see copy_state). */
    int16_t last16k[TSR_G722_FRAME_SAMPLES];
    bool has_last;
};

static enum tsr_g711_law law_of(enum tsr_audio_codec codec)
{
    return codec == TSR_AUDIO_CODEC_PCMA ? TSR_G711_ALAW : TSR_G711_ULAW;
}

int mix_packet_samples(enum tsr_audio_codec codec, const uint8_t *pkt, size_t len)
{
    if (codec == TSR_AUDIO_CODEC_OPUS)
        return tsr_opus_packet_samples(pkt, len);
    if (len == 0)
        return TSR_ERR_TRUNCATED;
    if (len * BYTE_48K > TSR_OPUS_MAX_PACKET_SAMPLES)
        return TSR_ERR_INVALID; /* over 120 ms, as for Opus */
    return (int)(len * BYTE_48K);
}

uint32_t mix_ts_48k(enum tsr_audio_codec codec, uint32_t ts_rtp)
{
    return codec == TSR_AUDIO_CODEC_OPUS ? ts_rtp : ts_rtp * BYTE_48K;
}

static void resampler_init(struct tsr_resampler *r, enum tsr_audio_codec codec)
{
    if (codec == TSR_AUDIO_CODEC_G722)
        tsr_g722_resampler_init(r);
    else
        tsr_g711_resampler_init(r);
}

int mix_dec_new(struct mix_dec **out, enum tsr_audio_codec codec)
{
    struct mix_dec *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->codec = codec;
    int rc = codec == TSR_AUDIO_CODEC_OPUS   ? tsr_opus_decoder_new(&d->opus)
             : codec == TSR_AUDIO_CODEC_G722 ? tsr_g722_decoder_new(&d->g722)
                                             : 0;
    if (rc) {
        free(d);
        return rc;
    }
    resampler_init(&d->up, codec);
    *out = d;
    return 0;
}

void mix_dec_free(struct mix_dec **d)
{
    if (!d || !*d)
        return;
    tsr_opus_decoder_free(&(*d)->opus);
    tsr_g722_decoder_free(&(*d)->g722);
    free(*d);
    *d = NULL;
}

int mix_dec_reset(struct mix_dec *d)
{
    tsr_resampler_clear(&d->up);
    if (d->g722)
        return tsr_g722_decoder_reset(d->g722);
    return d->opus ? tsr_opus_decoder_reset(d->opus) : 0;
}

int mix_dec_decode(struct mix_dec *d, const uint8_t *pkt, size_t len, int16_t *pcm, size_t cap)
{
    if (d->opus)
        return tsr_opus_decode(d->opus, pkt, len, pcm, cap);
    if (len == 0)
        return TSR_ERR_TRUNCATED;
    if (len * BYTE_48K > cap || len * BYTE_48K > TSR_RESAMPLER_MAX_BLOCK_48K)
        return TSR_ERR_FULL;
    int16_t narrow[NARROW_MAX];
    size_t n = len;
    if (d->g722) {
        int rc = tsr_g722_decode(d->g722, pkt, len, narrow, NARROW_MAX);
        if (rc < 0)
            return rc;
        n = (size_t)rc;
    } else {
        tsr_g711_decode(law_of(d->codec), pkt, len, narrow);
    }
    int rc = tsr_resampler_up(&d->up, narrow, n, pcm);
    return rc ? rc : (int)(len * BYTE_48K);
}

int mix_dec_plc(struct mix_dec *d, size_t samples, int16_t *pcm)
{
    if (d->opus)
        return tsr_opus_decode_plc(d->opus, samples, pcm);
    size_t n = samples / (size_t)d->up.ratio;
    if (samples % BYTE_48K || samples > TSR_RESAMPLER_MAX_BLOCK_48K)
        return TSR_ERR_INVALID;
    int16_t zeros[NARROW_MAX] = {0};
    int rc = tsr_resampler_up(&d->up, zeros, n, pcm);
    return rc ? rc : (int)samples;
}

int mix_dec_fec(struct mix_dec *d, const uint8_t *next, size_t len, size_t samples, int16_t *pcm)
{
    if (d->opus)
        return tsr_opus_decode_fec(d->opus, next, len, samples, pcm);
    return mix_dec_plc(d, samples, pcm);
}

int mix_enc_new(struct mix_enc **out, enum tsr_audio_codec codec,
                const struct tsr_opus_encoder_params *op)
{
    struct mix_enc *e = calloc(1, sizeof *e);
    if (!e)
        return -ENOMEM;
    e->codec = codec;
    int rc = codec == TSR_AUDIO_CODEC_OPUS   ? tsr_opus_encoder_new(&e->opus, op)
             : codec == TSR_AUDIO_CODEC_G722 ? tsr_g722_encoder_new(&e->g722)
                                             : 0;
    if (rc) {
        free(e);
        return rc;
    }
    resampler_init(&e->down, codec);
    *out = e;
    return 0;
}

void mix_enc_free(struct mix_enc **e)
{
    if (!e || !*e)
        return;
    tsr_opus_encoder_free(&(*e)->opus);
    tsr_g722_encoder_free(&(*e)->g722);
    free(*e);
    *e = NULL;
}

int mix_enc_copy_state(struct mix_enc *dst, const struct mix_enc *src)
{
    if (dst->codec != src->codec)
        return TSR_ERR_INVALID;
    if (dst->opus)
        return tsr_opus_encoder_copy_state(dst->opus, src->opus);
    dst->down = src->down;
    if (!dst->g722 || !src->has_last)
        return 0;
    /* libavcodec keeps G.722's ADPCM state private: replay the last 20 ms the
     * source encoded instead. Its step sizes and predictors adapt within a few
     * ms, so the copy ends close to the source's state and the receiver's decoder
     * (which tracked the source) sees no jump. Cost: one 20 ms encode per switch. */
    uint8_t scratch[TSR_G722_FRAME_SAMPLES / 2];
    int rc =
        tsr_g722_encode(dst->g722, src->last16k, TSR_G722_FRAME_SAMPLES, scratch, sizeof scratch);
    if (rc < 0)
        return rc;
    memcpy(dst->last16k, src->last16k, sizeof dst->last16k);
    dst->has_last = true;
    return 0;
}

void mix_enc_set_independent_next(struct mix_enc *e)
{
    if (e->opus)
        tsr_opus_encoder_set_independent_next(e->opus);
}

int mix_enc_encode(struct mix_enc *e, const int16_t *pcm, size_t samples, uint8_t *out, size_t cap)
{
    if (e->opus)
        return tsr_opus_encode(e->opus, pcm, samples, out, cap);
    size_t n = samples / (size_t)e->down.ratio; /* narrow samples */
    if (samples / BYTE_48K > cap)
        return TSR_ERR_FULL;
    int16_t narrow[NARROW_MAX];
    int rc = tsr_resampler_down(&e->down, pcm, samples, narrow);
    if (rc)
        return rc;
    if (!e->g722) {
        tsr_g711_encode(law_of(e->codec), narrow, n, out);
        return (int)n;
    }
    rc = tsr_g722_encode(e->g722, narrow, n, out, cap);
    if (rc > 0 && n >= TSR_G722_FRAME_SAMPLES) {
        memcpy(e->last16k, narrow + n - TSR_G722_FRAME_SAMPLES, sizeof e->last16k);
        e->has_last = true;
    }
    return rc;
}
