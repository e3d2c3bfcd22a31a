/* Opus or G.711 behind one decoder/encoder type (see audio_mixer_codec.h). */
#include "audio_mixer_codec.h"

#include <tessera/err.h>
#include <tessera/g711.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct mix_dec {
    enum tsr_audio_codec codec;
    struct tsr_opus_decoder *opus;
    struct tsr_g711_resampler up;
};

struct mix_enc {
    enum tsr_audio_codec codec;
    struct tsr_opus_encoder *opus;
    struct tsr_g711_resampler down;
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
    if (len * TSR_G711_RATIO > TSR_OPUS_MAX_PACKET_SAMPLES)
        return TSR_ERR_INVALID; /* over 120 ms, as for Opus */
    return (int)(len * TSR_G711_RATIO);
}

uint32_t mix_ts_48k(enum tsr_audio_codec codec, uint32_t ts_rtp)
{
    return codec == TSR_AUDIO_CODEC_OPUS ? ts_rtp : ts_rtp * TSR_G711_RATIO;
}

int mix_dec_new(struct mix_dec **out, enum tsr_audio_codec codec)
{
    struct mix_dec *d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->codec = codec;
    int rc = codec == TSR_AUDIO_CODEC_OPUS ? tsr_opus_decoder_new(&d->opus) : 0;
    if (rc) {
        free(d);
        return rc;
    }
    tsr_g711_resampler_init(&d->up);
    *out = d;
    return 0;
}

void mix_dec_free(struct mix_dec **d)
{
    if (!d || !*d)
        return;
    tsr_opus_decoder_free(&(*d)->opus);
    free(*d);
    *d = NULL;
}

int mix_dec_reset(struct mix_dec *d)
{
    tsr_g711_resampler_init(&d->up);
    return d->opus ? tsr_opus_decoder_reset(d->opus) : 0;
}

int mix_dec_decode(struct mix_dec *d, const uint8_t *pkt, size_t len, int16_t *pcm, size_t cap)
{
    if (d->opus)
        return tsr_opus_decode(d->opus, pkt, len, pcm, cap);
    if (len * TSR_G711_RATIO > cap || len * TSR_G711_RATIO > TSR_G711_MAX_BLOCK_48K)
        return TSR_ERR_FULL;
    int16_t narrow[TSR_G711_MAX_BLOCK_48K / TSR_G711_RATIO];
    tsr_g711_decode(law_of(d->codec), pkt, len, narrow);
    int rc = tsr_g711_upsample(&d->up, narrow, len, pcm);
    return rc ? rc : (int)(len * TSR_G711_RATIO);
}

int mix_dec_plc(struct mix_dec *d, size_t samples, int16_t *pcm)
{
    if (d->opus)
        return tsr_opus_decode_plc(d->opus, samples, pcm);
    size_t n = samples / TSR_G711_RATIO;
    if (n * TSR_G711_RATIO != samples || samples > TSR_G711_MAX_BLOCK_48K)
        return TSR_ERR_INVALID;
    int16_t zeros[TSR_G711_MAX_BLOCK_48K / TSR_G711_RATIO] = {0};
    int rc = tsr_g711_upsample(&d->up, zeros, n, pcm);
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
    int rc = codec == TSR_AUDIO_CODEC_OPUS ? tsr_opus_encoder_new(&e->opus, op) : 0;
    if (rc) {
        free(e);
        return rc;
    }
    tsr_g711_resampler_init(&e->down);
    *out = e;
    return 0;
}

void mix_enc_free(struct mix_enc **e)
{
    if (!e || !*e)
        return;
    tsr_opus_encoder_free(&(*e)->opus);
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
    size_t n = samples / TSR_G711_RATIO;
    if (n > cap)
        return TSR_ERR_FULL;
    int16_t narrow[TSR_G711_MAX_BLOCK_48K / TSR_G711_RATIO];
    int rc = tsr_g711_downsample(&e->down, pcm, samples, narrow);
    if (rc)
        return rc;
    tsr_g711_encode(law_of(e->codec), narrow, n, out);
    return (int)n;
}
