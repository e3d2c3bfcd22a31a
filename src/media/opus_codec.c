/* Opus through libopus: see include/media/tessera/opus_codec.h. */
#include <tessera/err.h>
#include <tessera/opus_codec.h>

#include <errno.h>
#include <opus/opus.h>
#include <stdlib.h>
#include <string.h>

struct tsr_opus_decoder {
    OpusDecoder *st;
};

/* The encoder state lives in our own allocation (opus_encoder_get_size bytes)
 * so copy_state can memcpy it; libopus documents the state as position
 * independent. */
struct tsr_opus_encoder {
    struct tsr_opus_encoder_params params;
    size_t state_bytes;
    OpusEncoder *st;
    int16_t stereo[2 * TSR_OPUS_MAX_PACKET_SAMPLES / 2]; /* interleaved scratch, 60 ms */
};

int tsr_opus_packet_samples(const uint8_t *pkt, size_t len)
{
    if (!pkt || len == 0)
        return TSR_ERR_TRUNCATED;
    if (len > INT32_MAX)
        return TSR_ERR_INVALID;
    /* opus_packet_parse validates the whole framing (code 0..3, padding, frame
     * lengths); opus_packet_get_nb_samples alone only reads the TOC. */
    const unsigned char *frames[48];
    opus_int16 sizes[48];
    int nframes = opus_packet_parse(pkt, (opus_int32)len, NULL, frames, sizes, NULL);
    if (nframes <= 0)
        return TSR_ERR_INVALID;
    int samples = opus_packet_get_nb_samples(pkt, (opus_int32)len, TSR_OPUS_RATE_HZ);
    if (samples <= 0 || samples > TSR_OPUS_MAX_PACKET_SAMPLES)
        return TSR_ERR_INVALID;
    return samples;
}

int tsr_opus_decoder_new(struct tsr_opus_decoder **out)
{
    struct tsr_opus_decoder *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    int err = OPUS_OK;
    d->st = opus_decoder_create(TSR_OPUS_RATE_HZ, 1, &err);
    if (!d->st || err != OPUS_OK) {
        free(d);
        return err == OPUS_ALLOC_FAIL ? -ENOMEM : TSR_ERR_CODEC;
    }
    *out = d;
    return 0;
}

void tsr_opus_decoder_free(struct tsr_opus_decoder **dec)
{
    if (!dec || !*dec)
        return;
    opus_decoder_destroy((*dec)->st);
    free(*dec);
    *dec = NULL;
}

int tsr_opus_decoder_reset(struct tsr_opus_decoder *dec)
{
    return opus_decoder_ctl(dec->st, OPUS_RESET_STATE) == OPUS_OK ? 0 : TSR_ERR_CODEC;
}

static int map_decode_error(int r)
{
    if (r == OPUS_BUFFER_TOO_SMALL)
        return TSR_ERR_FULL;
    if (r == OPUS_INVALID_PACKET || r == OPUS_BAD_ARG)
        return TSR_ERR_INVALID;
    return TSR_ERR_CODEC;
}

int tsr_opus_decode(struct tsr_opus_decoder *dec, const uint8_t *pkt, size_t len, int16_t *pcm,
                    size_t cap)
{
    int samples = tsr_opus_packet_samples(pkt, len);
    if (samples < 0)
        return TSR_ERR_INVALID;
    if ((size_t)samples > cap)
        return TSR_ERR_FULL;
    int r = opus_decode(dec->st, pkt, (opus_int32)len, pcm, samples, 0);
    return r < 0 ? map_decode_error(r) : r;
}

int tsr_opus_decode_plc(struct tsr_opus_decoder *dec, size_t samples, int16_t *pcm)
{
    if (samples == 0 || samples > TSR_OPUS_MAX_PACKET_SAMPLES || samples % 120 != 0)
        return TSR_ERR_INVALID;
    int r = opus_decode(dec->st, NULL, 0, pcm, (int)samples, 0);
    return r < 0 ? map_decode_error(r) : r;
}

int tsr_opus_decode_fec(struct tsr_opus_decoder *dec, const uint8_t *next_pkt, size_t len,
                        size_t samples, int16_t *pcm)
{
    if (samples == 0 || samples > TSR_OPUS_MAX_PACKET_SAMPLES || samples % 120 != 0)
        return TSR_ERR_INVALID;
    if (tsr_opus_packet_samples(next_pkt, len) < 0)
        return TSR_ERR_INVALID;
    /* With decode_fec=1 libopus decodes the LBRR copy of the previous frame that
     * next_pkt carries, or conceals when there is none; frame_size must be the
     * duration of what was lost. */
    int r = opus_decode(dec->st, next_pkt, (opus_int32)len, pcm, (int)samples, 1);
    return r < 0 ? map_decode_error(r) : r;
}

static bool params_valid(const struct tsr_opus_encoder_params *p)
{
    return p->bitrate_bps >= 6000 && p->bitrate_bps <= 510000 &&
           (p->channels == 1 || p->channels == 2) && p->complexity >= 0 && p->complexity <= 10 &&
           p->expected_loss_pct >= 0 && p->expected_loss_pct <= 100;
}

static int encoder_configure(struct tsr_opus_encoder *e)
{
    const struct tsr_opus_encoder_params *p = &e->params;
    OpusEncoder *st = e->st;
    int ok =
        opus_encoder_ctl(st, OPUS_SET_BITRATE((opus_int32)p->bitrate_bps)) == OPUS_OK &&
        opus_encoder_ctl(st, OPUS_SET_INBAND_FEC(p->fec ? 1 : 0)) == OPUS_OK &&
        opus_encoder_ctl(st, OPUS_SET_DTX(p->dtx ? 1 : 0)) == OPUS_OK &&
        opus_encoder_ctl(st, OPUS_SET_COMPLEXITY(p->complexity)) == OPUS_OK &&
        opus_encoder_ctl(st, OPUS_SET_PACKET_LOSS_PERC(p->expected_loss_pct)) == OPUS_OK &&
        opus_encoder_ctl(st, OPUS_SET_SIGNAL(p->voice ? OPUS_SIGNAL_VOICE : OPUS_AUTO)) == OPUS_OK;
    return ok ? 0 : TSR_ERR_CODEC;
}

int tsr_opus_encoder_new(struct tsr_opus_encoder **out, const struct tsr_opus_encoder_params *p)
{
    if (!p || !params_valid(p))
        return TSR_ERR_INVALID;
    int ret = 0;
    struct tsr_opus_encoder *e = calloc(1, sizeof(*e));
    if (!e)
        return -ENOMEM;
    e->params = *p;
    e->state_bytes = (size_t)opus_encoder_get_size(p->channels);
    e->st = malloc(e->state_bytes);
    if (!e->st) {
        ret = -ENOMEM;
        goto fail;
    }
    int app = p->voice ? OPUS_APPLICATION_VOIP : OPUS_APPLICATION_AUDIO;
    if (opus_encoder_init(e->st, TSR_OPUS_RATE_HZ, p->channels, app) != OPUS_OK) {
        ret = TSR_ERR_CODEC;
        goto fail;
    }
    ret = encoder_configure(e);
    if (ret < 0)
        goto fail;
    *out = e;
    return 0;
fail:
    free(e->st);
    free(e);
    return ret;
}

void tsr_opus_encoder_free(struct tsr_opus_encoder **enc)
{
    if (!enc || !*enc)
        return;
    free((*enc)->st);
    free(*enc);
    *enc = NULL;
}

int tsr_opus_encoder_copy_state(struct tsr_opus_encoder *dst, const struct tsr_opus_encoder *src)
{
    const struct tsr_opus_encoder_params *a = &dst->params, *b = &src->params;
    /* field by field: the struct has padding */
    if (a->bitrate_bps != b->bitrate_bps || a->channels != b->channels || a->fec != b->fec ||
        a->dtx != b->dtx || a->complexity != b->complexity ||
        a->expected_loss_pct != b->expected_loss_pct || a->voice != b->voice ||
        dst->state_bytes != src->state_bytes)
        return TSR_ERR_INVALID;
    memcpy(dst->st, src->st, src->state_bytes);
    return 0;
}

int tsr_opus_encoder_set_independent_next(struct tsr_opus_encoder *enc)
{
    return opus_encoder_ctl(enc->st, OPUS_SET_PREDICTION_DISABLED(1)) == OPUS_OK ? 0
                                                                                 : TSR_ERR_CODEC;
}

int tsr_opus_encode(struct tsr_opus_encoder *enc, const int16_t *pcm, size_t samples, uint8_t *out,
                    size_t cap)
{
    if (samples == 0 || samples > TSR_OPUS_MAX_PACKET_SAMPLES / 2 || cap == 0)
        return TSR_ERR_INVALID;
    const int16_t *in = pcm;
    if (enc->params.channels == 2) {
        for (size_t i = 0; i < samples; i++)
            enc->stereo[2 * i] = enc->stereo[2 * i + 1] = pcm[i];
        in = enc->stereo;
    }
    opus_int32 max = cap > INT32_MAX ? INT32_MAX : (opus_int32)cap;
    int r = opus_encode(enc->st, in, (int)samples, out, max);
    int pred_off = 0;
    opus_encoder_ctl(enc->st, OPUS_GET_PREDICTION_DISABLED(&pred_off));
    if (pred_off) /* one independent frame only */
        opus_encoder_ctl(enc->st, OPUS_SET_PREDICTION_DISABLED(0));
    if (r == OPUS_BAD_ARG)
        return TSR_ERR_INVALID;
    return r < 0 ? TSR_ERR_CODEC : r;
}

const struct tsr_opus_encoder_params *tsr_opus_encoder_params(const struct tsr_opus_encoder *enc)
{
    return &enc->params;
}
