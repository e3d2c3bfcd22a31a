/* RFC 7983 first-byte demultiplexing of one UDP 5-tuple (ICE + DTLS-SRTP bundle).
 * Pure: no state, no allocation. Thread: any. */
#ifndef TESSERA_DEMUX_H
#define TESSERA_DEMUX_H

#include <stddef.h>
#include <stdint.h>

enum tsr_demux_kind {
    TSR_DEMUX_UNKNOWN = 0, /* drop it (counted) */
    TSR_DEMUX_STUN,        /* first byte 0..3 */
    TSR_DEMUX_ZRTP,        /* 16..19 (we drop it) */
    TSR_DEMUX_DTLS,        /* 20..63 */
    TSR_DEMUX_TURN,        /* 64..79: TURN channel data */
    TSR_DEMUX_RTP,         /* 128..191 and second byte's PT not in 64..95 */
    TSR_DEMUX_RTCP,        /* 128..191 and PT 192..223 (RFC 5761 §4) */
};

/* Purpose: classify a datagram by its first bytes. Never reads past `len`; an
 * empty packet or an RTP/RTCP first byte with fewer than 2 bytes is UNKNOWN.
 * Unknown packets increment tessera_demux_unknown_total. */
enum tsr_demux_kind tsr_demux_classify(const uint8_t *buf, size_t len);

/* Purpose: static name ("stun", "dtls", "rtp", …) for logs. */
const char *tsr_demux_kind_name(enum tsr_demux_kind kind);

#endif
