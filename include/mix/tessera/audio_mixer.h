/* Conference audio mixer: Opus (or G.711) in, the same out, mix-minus from the
 * top K talkers.
 *
 * One mixer per conference. Every 20 ms the caller runs tsr_audio_mixer_tick();
 * it picks the talkers (tessera/talkers.h), decodes only them, sums them once in
 * int32, and produces for every participant the Opus payload it should receive:
 *  - a talker gets total - own, limited and encoded by its personal encoder;
 *  - everyone else gets the total, limited once and encoded once per output
 *    *variant* (bitrate, channels, FEC): all listeners of a variant receive the
 *    SAME refcounted payload, so the RTP layer packetizes it once.
 * Live encoders = talkers + variants in use; live decoders = talkers + inputs
 * that send no RFC 6464 level (their level must be measured from the signal).
 *
 * Output continuity: every participant's output is stamped with the conference
 * audio clock (ts_48k advances 960 per tick for everyone, whichever encoder made
 * the payload), so the RTP layer keeps one SSRC, sequence and timestamp per
 * participant. A listener that becomes a talker gets a personal encoder that
 * starts as a copy of its variant's shared encoder (and limiter), so its receiver
 * decodes on without a seam; a talker that goes back to the shared encoder gets
 * a frame encoded without inter-frame prediction from that encoder.
 *
 * Inputs: packets in order from the jitter buffer (tsr_audio_mixer_push), gaps
 * reported with tsr_audio_mixer_lost or detected from sequence numbers. A gap
 * is recovered from the next packet's in-band FEC when that packet is already
 * queued at mix time, otherwise concealed (PLC).
 *
 * Thread: single-threaded; the caller serializes all calls for one mixer (the
 * conference's audio tick). Payloads may be referenced and released from any
 * thread (atomic refcount). */
#ifndef TESSERA_AUDIO_MIXER_H
#define TESSERA_AUDIO_MIXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tessera/audio_packet.h>

struct tsr_config;

/* Samples per tick at 48 kHz (20 ms). */
#define TSR_AUDIO_TICK_SAMPLES 960

struct tsr_audio_mixer;

/* An encoded output frame shared between receivers; immutable; refcounted. */
struct tsr_audio_payload;

/* Purpose: take a reference. Thread: any. Returns p. */
struct tsr_audio_payload *tsr_audio_payload_ref(struct tsr_audio_payload *p);
/* Purpose: drop a reference and NULL *p; frees at zero. Accepts NULL. Thread: any. */
void tsr_audio_payload_unref(struct tsr_audio_payload **p);
/* Purpose: the Opus bytes; *len_bytes receives the length. Borrowed while a reference is held. */
const uint8_t *tsr_audio_payload_data(const struct tsr_audio_payload *p, size_t *len_bytes);

/* Mixer-wide settings (see [audio] in config/tessera.conf). */
struct tsr_audio_mixer_params {
    int talkers; /* K */
    int hysteresis_db;
    int hold_ms;
    int active_level; /* -dBov */
    int complexity;   /* encoder complexity 0..10 */
    bool dtx;
    int expected_loss_pct; /* how much the output FEC spends, when a variant asks for FEC */
};

/* What a participant's client receives. Participants with equal variants share
 * one encoder while they are not talkers. */
struct tsr_audio_variant {
    int64_t bitrate_bps; /* 6000..510000 */
    int channels;        /* 1 or 2 */
    bool fec;
    /* The participant's codec both ways (zero: Opus). With G.711 (PCMU/PCMA) its
     * pushed packets are G.711 bytes with 8 kHz RTP timestamps, decoded and
     * upsampled to the 48 kHz mix; its output is the mix downsampled to 8 kHz and
     * G.711-encoded (20 ms = 160 bytes), shared by every listener of that law;
     * bitrate, channels and fec are ignored. */
    enum tsr_audio_codec codec;
};


enum tsr_audio_mute {
    TSR_AUDIO_MUTE_SELF = 1, /* the participant muted itself */
    TSR_AUDIO_MUTE_HOST = 2, /* a host muted it */
};

/* What one participant receives for one tick. */
struct tsr_audio_out {
    uint32_t participant_id;
    uint32_t encoder_id;               /* unique per live encoder of this mixer */
    bool shared;                       /* payload from a variant encoder (else personal) */
    bool talker;                       /* the participant is a talker this tick */
    bool dtx;                          /* 1..2 byte silence packet: the RTP layer may skip it */
    struct tsr_audio_payload *payload; /* borrowed until the next tick; ref to keep */
    enum tsr_audio_codec codec;        /* what payload is (the listener's codec) */
    uint32_t ts_48k;                   /* conference audio clock of the first sample */
    uint32_t duration_48k;             /* 960 */
};

/* Counters, for tests, metrics and the benchmark. */
struct tsr_audio_mixer_stats {
    size_t participants;
    size_t talkers;
    size_t encoders_live; /* personal + shared encoders that exist now */
    size_t encoders_shared;
    size_t decoders_live;
    uint64_t packets_in;
    uint64_t packets_invalid;  /* dropped malformed packets */
    uint64_t packets_late;     /* sequence older than expected: dropped */
    uint64_t packets_overflow; /* dropped because the queue held > 200 ms */
    uint64_t frames_decoded;
    uint64_t frames_concealed; /* PLC */
    uint64_t frames_fec;       /* recovered from the next packet's FEC */
    uint64_t frames_encoded;
};

/* Purpose: fill *p with the defaults (K=3, 6 dB, 600 ms, level 50, complexity 5,
 * DTX off, 10 % loss). */
void tsr_audio_mixer_params_default(struct tsr_audio_mixer_params *p);
/* Purpose: fill *p and the default variant from the [audio] section of cfg
 * (either out-param may be NULL). */
void tsr_audio_mixer_params_from_config(struct tsr_audio_mixer_params *p,
                                        struct tsr_audio_variant *variant,
                                        const struct tsr_config *cfg);

/* Purpose: new mixer with no participants. Returns 0, -ENOMEM or TSR_ERR_INVALID.
 * Ownership: *out is the caller's; free with tsr_audio_mixer_free. */
int tsr_audio_mixer_new(struct tsr_audio_mixer **out, const struct tsr_audio_mixer_params *p);
/* Purpose: free everything (payloads still referenced elsewhere stay valid). */
void tsr_audio_mixer_free(struct tsr_audio_mixer **m);

/* Purpose: add participant `id` receiving `variant`. Returns 0, -ENOMEM,
 * TSR_ERR_STATE (id exists), TSR_ERR_INVALID (variant out of range) or
 * TSR_ERR_CODEC (a new variant's encoder could not be created). */
int tsr_audio_mixer_add(struct tsr_audio_mixer *m, uint32_t id,
                        const struct tsr_audio_variant *variant);
/* Purpose: remove `id`; its encoder/decoder go. 0 or TSR_ERR_NOT_FOUND. */
int tsr_audio_mixer_remove(struct tsr_audio_mixer *m, uint32_t id);
/* Purpose: set or clear one mute source; the participant is silent while any
 * source is set. 0, TSR_ERR_NOT_FOUND or TSR_ERR_INVALID (unknown source). */
int tsr_audio_mixer_set_muted(struct tsr_audio_mixer *m, uint32_t id, enum tsr_audio_mute source,
                              bool muted);

/* Purpose: queue one inbound packet (copied). Network input: a malformed Opus
 * packet or level is rejected with TSR_ERR_INVALID and counted; a duplicate or
 * late sequence number gives TSR_ERR_STATE (counted); missing sequence numbers
 * in between become gaps (at most 10). Returns 0 or those errors, or
 * TSR_ERR_NOT_FOUND. */
int tsr_audio_mixer_push(struct tsr_audio_mixer *m, uint32_t id,
                         const struct tsr_audio_packet *pkt);

/* Purpose: the jitter buffer gave up on sequence `seq` of `id`: queue a gap of
 * the last seen packet duration so the mixer conceals (or FEC-recovers) it.
 * Returns 0, TSR_ERR_STATE (seq is not the next expected one), TSR_ERR_NOT_FOUND. */
int tsr_audio_mixer_lost(struct tsr_audio_mixer *m, uint32_t id, uint16_t seq);

/* Purpose: mix one 20 ms tick. *outs receives an array of *n_outs entries, one
 * per participant, owned by the mixer and valid until the next tick, remove or
 * free. now_ms is the conference clock (hold time). Returns 0, or TSR_ERR_CODEC
 * / -ENOMEM when an encoder failed: the outputs of that encoder then have
 * payload == NULL for this tick (everything else is filled as usual). */
int tsr_audio_mixer_tick(struct tsr_audio_mixer *m, int64_t now_ms,
                         const struct tsr_audio_out **outs, size_t *n_outs);

/* Purpose: the PCM (mono, 960 samples) that participant `id` was sent in the last
 * tick, before encoding (recording, tests). Borrowed until the next tick.
 * Returns 0, TSR_ERR_NOT_FOUND or TSR_ERR_AGAIN (no tick yet). */
int tsr_audio_mixer_last_pcm(const struct tsr_audio_mixer *m, uint32_t id, const int16_t **pcm);

/* Purpose: talker ids, dominant first (drives the `speaker` layout and stage
 * events). Returns how many there are; writes up to cap. */
size_t tsr_audio_mixer_talkers(const struct tsr_audio_mixer *m, uint32_t *ids, size_t cap);

/* Purpose: counters now. */
void tsr_audio_mixer_stats(const struct tsr_audio_mixer *m, struct tsr_audio_mixer_stats *out);

#endif
