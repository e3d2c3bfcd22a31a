/* Small adaptive audio (Opus) buffer, one per received audio SSRC.
 *
 * The mixer's 20 ms tick pops one packet-slot at a time in timestamp order. The
 * target delay follows the measured interarrival jitter (RFC 3550 §6.4.1 estimate,
 * ×3, rounded up to whole frames) between min_delay_ms and a hard max_delay_ms;
 * playout starts (and restarts after an underrun) once the target is buffered.
 * When the buffer holds more than max_delay_ms the oldest packets are dropped.
 * A missing slot is reported as TSR_AUDIO_BUFFER_LOST (with the next packet's
 * payload when it is already here, for Opus in-band FEC) so the decoder can
 * conceal it. A packet whose sequence number follows the last one played is
 * played next even when its timestamp jumps (DTX: the sender paused), so pauses
 * are not reported as loss. A redundant packet (a RED copy, tsr_audio_packet's
 * `redundant`) fills its slot only when that is still empty and unplayed: it is
 * dropped silently otherwise, and never moves the jitter estimate (it arrives a
 * packet late by design). Time is passed in; no clocks, no threads, no globals.
 * Home: the conference's audio thread, one buffer per participant in front of the
 * audio mixer (src/mix/conference_audio.c). */
#ifndef TESSERA_AUDIO_BUFFER_H
#define TESSERA_AUDIO_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tessera/audio_packet.h>

struct tsr_audio_buffer_config {
    uint32_t clock_rate; /* default 48000 */
    /* Opus (default): a packet's duration from its TOC; G.711 and G.722: one
     * byte per RTP tick (then clock_rate is 8000). */
    enum tsr_audio_codec codec;
    int64_t min_delay_ms; /* default 20 */
    int64_t max_delay_ms; /* hard maximum, default 200 */
    size_t max_packets;   /* default 64 */
};

void tsr_audio_buffer_config_default(struct tsr_audio_buffer_config *c);

struct tsr_audio_buffer;

/* Purpose: create. cfg NULL = defaults (copied). Returns 0, -EINVAL, -ENOMEM. */
int tsr_audio_buffer_new(struct tsr_audio_buffer **out, const struct tsr_audio_buffer_config *cfg);
void tsr_audio_buffer_free(struct tsr_audio_buffer **ab);

/* Purpose: insert one packet (payload, level and voice flag copied; `pkt` borrowed)
 * that arrived at now_us. The packet duration is read from the Opus TOC. Returns
 * 0, TSR_ERR_INVALID (bad Opus packet, counted), TSR_ERR_AGAIN (duplicate or
 * already played: dropped; counted unless redundant). */
int tsr_audio_buffer_push(struct tsr_audio_buffer *ab, const struct tsr_audio_packet *pkt,
                          int64_t now_us);

enum tsr_audio_buffer_result {
    TSR_AUDIO_BUFFER_EMPTY = 0, /* nothing to play (not started, or underrun: play silence) */
    TSR_AUDIO_BUFFER_PACKET,    /* a packet */
    TSR_AUDIO_BUFFER_LOST,      /* a missing packet: conceal `samples` samples */
};

struct tsr_audio_buffer_out {
    enum tsr_audio_buffer_result result;
    uint32_t timestamp_rtp;
    uint16_t seq;       /* PACKET: its sequence number; LOST: the one that is missing */
    int level;          /* PACKET: RFC 6464 -dBov or TSR_AUDIO_LEVEL_ABSENT */
    bool voice;         /* PACKET: RFC 6464 V flag */
    uint32_t samples;   /* duration of the slot at clock_rate */
    uint8_t data[1500]; /* PACKET: the payload; LOST: the next packet if fec_available */
    size_t len;
    bool fec_available; /* LOST: data holds the following packet (Opus FEC) */
};

/* Purpose: take the next slot. Returns the result kind (also in out->result). */
enum tsr_audio_buffer_result tsr_audio_buffer_pop(struct tsr_audio_buffer *ab, int64_t now_us,
                                                  struct tsr_audio_buffer_out *out);

/* Purpose: current target delay in ms (for stats and tests). */
int64_t tsr_audio_buffer_target_delay_ms(const struct tsr_audio_buffer *ab);
/* Purpose: buffered duration in ms. */
int64_t tsr_audio_buffer_buffered_ms(const struct tsr_audio_buffer *ab);

struct tsr_audio_buffer_stats {
    uint64_t packets_in;
    uint64_t packets_out;
    uint64_t lost;     /* slots reported LOST */
    uint64_t late;     /* arrived after their slot was played */
    uint64_t overflow; /* dropped to respect max_delay_ms */
    uint64_t duplicates;
    uint64_t redundant_used; /* RED copies that filled an empty slot */
};

void tsr_audio_buffer_get_stats(const struct tsr_audio_buffer *ab,
                                struct tsr_audio_buffer_stats *out);

#endif
