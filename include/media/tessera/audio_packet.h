/* One inbound Opus packet as the receive path hands it on: the type shared by the
 * participant's media peer (which receives it), the audio buffer and the audio file
 * reader (media) and the conference audio mixer (which consumes it). Pure data. */
#ifndef TESSERA_AUDIO_PACKET_H
#define TESSERA_AUDIO_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 6464 level absent: measure from the decoded signal. */
#define TSR_AUDIO_LEVEL_ABSENT (-1)

/* The codec of a participant's audio, both ways. G.711 and G.722 packets carry
 * 8 kHz RTP timestamps and one byte per tick; the mixer works at 48 kHz either way. */
enum tsr_audio_codec {
    TSR_AUDIO_CODEC_OPUS, /* the default (zero) */
    TSR_AUDIO_CODEC_PCMU, /* G.711 µ-law */
    TSR_AUDIO_CODEC_PCMA, /* G.711 A-law */
    TSR_AUDIO_CODEC_G722, /* G.722 at 16 kHz, 8 kHz RTP clock, one byte per tick (RFC 3551) */
};

/* One inbound Opus packet. */
struct tsr_audio_packet {
    const uint8_t *data; /* Opus payload, borrowed for the call */
    size_t len_bytes;
    uint32_t ts_rtp; /* RTP timestamp (48 kHz clock for Opus) */
    uint16_t seq;
    int level;  /* RFC 6464 -dBov 0..127, or TSR_AUDIO_LEVEL_ABSENT */
    bool voice; /* RFC 6464 V flag; advisory (see audio_mixer.c) */
    /* A copy of an earlier packet's frame from a RED packet (RFC 2198): it only
     * fills a gap (never counted late or duplicate, never timing the jitter). */
    bool redundant;
};

#endif
