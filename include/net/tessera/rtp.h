/* RTP packets (RFC 3550) and header extensions (RFC 8285): parse, write, unwrap.
 *
 * Pure module: no I/O, no threads, no globals beyond metrics counters. Parsers take
 * the SRTP-decrypted packet as `const uint8_t *` + length, validate every length,
 * and write their out-parameters only on success; the parsed header borrows
 * pointers into the caller's buffer (valid as long as that buffer is).
 * Thread: any; objects here are plain values owned by the caller. */
#ifndef TESSERA_RTP_H
#define TESSERA_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSR_RTP_HEADER_BYTES 12
#define TSR_RTP_MAX_CSRC 15

/* A parsed RTP header. Pointers borrow the parsed buffer. */
struct tsr_rtp_header {
    uint8_t version; /* always 2 after a successful parse */
    bool padding;
    bool extension;
    bool marker;
    uint8_t csrc_count;
    uint8_t payload_type; /* 0..127 */
    uint16_t seq;
    uint32_t timestamp_rtp;
    uint32_t ssrc;
    uint32_t csrc[TSR_RTP_MAX_CSRC];
    uint16_t ext_profile;    /* 0xBEDE one-byte, 0x100X two-byte, other = opaque */
    const uint8_t *ext_data; /* extension body (after profile+length), NULL if none */
    size_t ext_bytes;        /* body length in bytes (4 × the length field) */
    const uint8_t *payload;  /* payload, padding removed */
    size_t payload_bytes;
    uint8_t padding_bytes; /* count including the last (count) byte; 0 if none */
    size_t header_bytes;   /* fixed + CSRC + extension block */
};

/* Purpose: parse one RTP packet. Checks version 2, CSRC and extension lengths,
 * and that padding fits the payload. Returns 0 and fills *out, TSR_ERR_TRUNCATED
 * when a length runs past `len`, TSR_ERR_INVALID for a wrong version or padding of 0.
 * Bad input increments tessera_rtp_parse_errors_total{kind=...}. Thread: any. */
int tsr_rtp_parse(const uint8_t *buf, size_t len, struct tsr_rtp_header *out);

/* Purpose: write the fixed header, the CSRCs and (when h->extension) the extension
 * block from h->ext_profile/ext_data/ext_bytes (ext_bytes must be a multiple of 4)
 * into buf. Payload and padding are not written. *len gets the header length.
 * Returns 0, -EINVAL for inconsistent fields, TSR_ERR_FULL if cap is too small. */
int tsr_rtp_write_header(const struct tsr_rtp_header *h, uint8_t *buf, size_t cap, size_t *len);

/* ---- sequence and timestamp unwrapping ---- */

/* Extends 16-bit sequence numbers (or 32-bit timestamps) to 64 bits, taking the
 * nearer of the candidates around the last value; reordering within half the
 * range is handled. Embedded by value; zero-initialise (or _init) before use. */
struct tsr_rtp_unwrapper {
    int64_t last;
    bool started;
};

void tsr_rtp_unwrapper_init(struct tsr_rtp_unwrapper *u);
/* Purpose: unwrap a 16-bit sequence number. First call returns seq itself (+ 2^16
 * so that earlier packets never go negative). */
int64_t tsr_rtp_unwrap_seq(struct tsr_rtp_unwrapper *u, uint16_t seq);
/* Purpose: unwrap a 32-bit RTP timestamp (first call: ts + 2^32). */
int64_t tsr_rtp_unwrap_ts(struct tsr_rtp_unwrapper *u, uint32_t ts_rtp);
/* Signed distance b − a modulo 2^16 (positive when b is newer). */
static inline int32_t tsr_rtp_seq_diff(uint16_t a, uint16_t b)
{
    return (int16_t)(uint16_t)(b - a);
}

/* ---- header extensions (RFC 8285) ---- */

/* The extensions we understand; ids are negotiated in SDP (a=extmap). */
enum tsr_rtp_ext {
    TSR_RTP_EXT_NONE = 0,
    TSR_RTP_EXT_AUDIO_LEVEL,   /* urn:ietf:params:rtp-hdrext:ssrc-audio-level (RFC 6464) */
    TSR_RTP_EXT_MID,           /* urn:ietf:params:rtp-hdrext:sdes:mid (RFC 8843) */
    TSR_RTP_EXT_ABS_SEND_TIME, /* http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time */
    TSR_RTP_EXT_TRANSPORT_CC, /* http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
                               */
    TSR_RTP_EXT_COUNT
};

/* id (1..255) → extension. Zero-initialised means "nothing negotiated". */
struct tsr_rtp_ext_map {
    uint8_t by_id[256];
};

void tsr_rtp_ext_map_init(struct tsr_rtp_ext_map *m);
/* Purpose: map `id` (1..255) to `ext`. Returns 0 or -EINVAL. */
int tsr_rtp_ext_map_set(struct tsr_rtp_ext_map *m, int id, enum tsr_rtp_ext ext);
/* Purpose: map `id` to the extension named by SDP `uri`. Returns 0,
 * TSR_ERR_UNSUPPORTED for a URI we do not know (the caller just skips it), -EINVAL. */
int tsr_rtp_ext_map_set_uri(struct tsr_rtp_ext_map *m, int id, const char *uri);
/* Purpose: the id mapped to `ext`, or 0 when not negotiated. */
int tsr_rtp_ext_map_id(const struct tsr_rtp_ext_map *m, enum tsr_rtp_ext ext);

#define TSR_RTP_MID_MAX 16

/* Values found in one packet; has_* says which were present. */
struct tsr_rtp_ext_values {
    bool has_audio_level;
    bool voice_activity;      /* V bit of RFC 6464 */
    uint8_t audio_level_dbov; /* 0 (loud) .. 127 (silence), as −dBov */
    bool has_mid;
    char mid[TSR_RTP_MID_MAX + 1]; /* NUL-terminated */
    bool has_abs_send_time;
    uint32_t abs_send_time; /* 24-bit 6.18 fixed-point seconds */
    bool has_transport_cc;
    uint16_t transport_cc_seq;
};

/* Purpose: decode the extension block of `h` (one-byte 0xBEDE or two-byte 0x100X
 * profile) with ids resolved through `map`. Unknown ids are skipped; an element
 * whose length runs past the block, or a known element with the wrong size, is an
 * error. A packet without extensions gives all has_* false. Returns 0 and fills
 * *out, TSR_ERR_TRUNCATED or TSR_ERR_INVALID (counted). Thread: any. */
int tsr_rtp_ext_parse(const struct tsr_rtp_ext_map *map, const struct tsr_rtp_header *h,
                      struct tsr_rtp_ext_values *out);

/* One element to write. */
struct tsr_rtp_ext_elem {
    uint8_t id;  /* 1..14 for one-byte form, 1..255 for two-byte */
    uint8_t len; /* 1..16 for one-byte form, 0..255 for two-byte */
    const uint8_t *data;
};

/* Purpose: write an extension *body* (elements + zero padding to 4 bytes) and pick
 * the profile: one-byte (0xBEDE) when every id ≤ 14 and every len is 1..16, else
 * two-byte (0x1000). Put the result in h->ext_profile/ext_data/ext_bytes.
 * Returns 0, -EINVAL (bad id/len), TSR_ERR_FULL. */
int tsr_rtp_ext_write(const struct tsr_rtp_ext_elem *elems, size_t n, uint8_t *buf, size_t cap,
                      uint16_t *profile, size_t *len);

/* Helpers for the element bodies (network byte order). */
void tsr_rtp_ext_encode_abs_send_time(uint32_t abs_send_time, uint8_t out[3]);
/* abs-send-time from a monotonic time in microseconds: 6.18 fixed point, mod 64 s. */
uint32_t tsr_rtp_abs_send_time_from_us(int64_t t_us);

#endif
