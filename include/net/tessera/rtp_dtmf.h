/* RFC 4733 telephone-events in RTP: one event packet read, and the digits a stream
 * of them spells. Pure: no I/O, no globals; packets are hostile input.
 *
 * Thread: any (a collector belongs to one stream). */
#ifndef TESSERA_RTP_DTMF_H
#define TESSERA_RTP_DTMF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 4733 §2.3: event code, E bit, volume, duration (timestamp units); the
 * packet's RTP timestamp names the event (all its packets share it). */
struct tsr_dtmf_event {
    uint8_t code;
    bool end;
    uint8_t volume;
    uint16_t duration;
    uint32_t timestamp;
};

/* Purpose: read one RTP packet carrying payload type `pt` (the negotiated
 * telephone-event). Returns 0 and *out; TSR_ERR_NOT_FOUND when the packet is RTP of
 * another payload type (audio beside the events: not an error); TSR_ERR_INVALID or
 * TSR_ERR_TRUNCATED for a packet that is not RTP or an event payload under 4
 * bytes. Only the first event of a payload is read (RFC 4733 §2.5.1.5 redundancy
 * repeats older ones after it). */
int tsr_rtp_dtmf_parse(const uint8_t *pkt, size_t len, uint8_t pt, struct tsr_dtmf_event *out);

/* Purpose: the keypad character of an event code ('0'..'9', '*', '#', 'A'..'D'),
 * or 0 for the other events (flash, tones). */
char tsr_dtmf_digit(uint8_t code);

/* Turns events into digits: a digit counts once, when its first end packet comes
 * (a sender repeats the end packet three times, RFC 4733 §2.5.1.4). */
struct tsr_dtmf_collector {
    bool have_last;
    uint32_t last_end_ts; /* timestamp of the last event that ended */
};

/* Purpose: feed one event; returns the digit it completes, or 0 (not ended yet,
 * a repeated end, or not a keypad event). */
char tsr_dtmf_collector_push(struct tsr_dtmf_collector *c, const struct tsr_dtmf_event *ev);

#endif
