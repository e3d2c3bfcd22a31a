/* Opus at 48 kHz through libopus: a decoder with packet-loss concealment and
 * in-band FEC recovery, and an encoder with bitrate, FEC, DTX and complexity.
 *
 * Decoders are always mono (Tessera mixes mono: a stereo packet is downmixed by
 * libopus at no extra cost). Encoders take mono PCM and may emit stereo (the mono
 * signal on both channels) so stereo-capable receivers get a stereo stream.
 *
 * Thread: every object is used by one thread at a time (the conference's audio
 * tick); nothing here locks. Both states are position independent (libopus
 * guarantees it), which is what lets tsr_opus_encoder_copy_state() hand an
 * encoder's history to another encoder so a listener becoming a talker keeps a
 * seamless stream. */
#ifndef TESSERA_OPUS_CODEC_H
#define TESSERA_OPUS_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSR_OPUS_RATE_HZ 48000
/* Samples in one 20 ms frame at 48 kHz (the mixer tick). */
#define TSR_OPUS_FRAME_20MS 960
/* Longest Opus packet duration: 120 ms. */
#define TSR_OPUS_MAX_PACKET_SAMPLES 5760
/* Largest packet the encoder writes (RFC 6716: 1275 bytes per frame; we emit one frame). */
#define TSR_OPUS_MAX_PACKET_BYTES 1500

struct tsr_opus_decoder;
struct tsr_opus_encoder;

/* Purpose: duration of an Opus packet in 48 kHz samples, from its TOC byte and
 * frame count, without decoding. Network input: validates every length.
 * Returns the sample count (> 0), TSR_ERR_INVALID for a malformed packet or one
 * longer than 120 ms, TSR_ERR_TRUNCATED for len == 0. Thread: any. */
int tsr_opus_packet_samples(const uint8_t *pkt, size_t len);

/* Purpose: new mono 48 kHz decoder. Ownership: *out is the caller's; free with
 * tsr_opus_decoder_free. Returns 0, -ENOMEM or TSR_ERR_CODEC. */
int tsr_opus_decoder_new(struct tsr_opus_decoder **out);
/* Purpose: free *dec and set it NULL; accepts NULL and *dec == NULL. */
void tsr_opus_decoder_free(struct tsr_opus_decoder **dec);
/* Purpose: forget all history, as if newly created (cheaper than new + free).
 * Returns 0 or TSR_ERR_CODEC. */
int tsr_opus_decoder_reset(struct tsr_opus_decoder *dec);

/* Purpose: decode one packet of 2.5..120 ms into `pcm` (room for `cap` samples).
 * Returns the number of samples written (> 0), TSR_ERR_INVALID for a corrupt
 * packet (the decoder state stays usable), TSR_ERR_FULL if cap is too small.
 * Ownership: pkt and pcm borrowed. */
int tsr_opus_decode(struct tsr_opus_decoder *dec, const uint8_t *pkt, size_t len, int16_t *pcm,
                    size_t cap);

/* Purpose: conceal `samples` missing samples (a multiple of 2.5 ms, at most 120
 * ms) from the decoder's history (libopus PLC). Returns samples written or a
 * negative error. */
int tsr_opus_decode_plc(struct tsr_opus_decoder *dec, size_t samples, int16_t *pcm);

/* Purpose: recover the `samples` that preceded `next_pkt` from the in-band FEC
 * (LBRR) data carried by `next_pkt`; when next_pkt carries none, libopus
 * conceals instead. Call it before decoding next_pkt itself. Returns samples
 * written or a negative error (TSR_ERR_INVALID: next_pkt malformed). */
int tsr_opus_decode_fec(struct tsr_opus_decoder *dec, const uint8_t *next_pkt, size_t len,
                        size_t samples, int16_t *pcm);

/* Encoder settings. */
struct tsr_opus_encoder_params {
    int64_t bitrate_bps;   /* 6000..510000 */
    int channels;          /* 1 or 2 (output channels; input is always mono) */
    bool fec;              /* in-band FEC (LBRR); only used in SILK/hybrid modes */
    bool dtx;              /* discontinuous transmission: 1..2 byte packets in silence */
    int complexity;        /* 0..10 */
    int expected_loss_pct; /* 0..100; steers how much the FEC spends */
    bool voice;            /* true: OPUS_APPLICATION_VOIP; false: AUDIO */
};

/* Purpose: new 48 kHz encoder. Returns 0, -ENOMEM, TSR_ERR_INVALID (params out of
 * range) or TSR_ERR_CODEC. Ownership: *out is the caller's. */
int tsr_opus_encoder_new(struct tsr_opus_encoder **out, const struct tsr_opus_encoder_params *p);
void tsr_opus_encoder_free(struct tsr_opus_encoder **enc);

/* Purpose: make `dst` continue exactly where `src` is (same history), so packets
 * from dst decode seamlessly after packets from src. Both must have the same
 * params. Returns 0 or TSR_ERR_INVALID (params differ). */
int tsr_opus_encoder_copy_state(struct tsr_opus_encoder *dst, const struct tsr_opus_encoder *src);

/* Purpose: encode the next frame without inter-frame prediction, so a receiver
 * whose decoder last saw another encoder's packets decodes it cleanly (costs
 * some bits for that one frame). Returns 0 or TSR_ERR_CODEC. */
int tsr_opus_encoder_set_independent_next(struct tsr_opus_encoder *enc);

/* Purpose: encode `samples` mono samples (2.5..60 ms) into out (`cap` bytes).
 * Returns the packet length (>= 1; 1..2 bytes means a DTX silence packet) or
 * TSR_ERR_CODEC / TSR_ERR_INVALID. */
int tsr_opus_encode(struct tsr_opus_encoder *enc, const int16_t *pcm, size_t samples, uint8_t *out,
                    size_t cap);

const struct tsr_opus_encoder_params *tsr_opus_encoder_params(const struct tsr_opus_encoder *enc);

#endif
