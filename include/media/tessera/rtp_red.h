/* RTP payload for redundant audio data (RED, RFC 2198), as browsers use it for
 * Opus: each packet carries the current Opus frame (the primary) and copies of
 * one or more earlier ones, so a lost packet's frame usually arrives in the
 * next one. Chromium negotiates it as `a=rtpmap:N red/48000/2` with
 * `a=fmtp:N 111/111` (the block payload types) and sends one earlier frame.
 *
 * Layout: one header per block, then the blocks' data in the same order. A
 * redundant block's header is 4 bytes: F=1 (another header follows), its
 * payload type (7 bits), how far its RTP timestamp lies before the packet's
 * (14 bits) and its length (10 bits). The last header, the primary's, is one
 * byte: F=0 and the payload type; its data is whatever remains.
 *
 * Pure: no threads, no I/O, no globals. Parsers take hostile input. */
#ifndef TESSERA_RTP_RED_H
#define TESSERA_RTP_RED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most blocks accepted in one packet (redundant + primary). Senders use 2 or 3;
 * anything longer is refused rather than walked. */
#define TSR_RTP_RED_MAX_BLOCKS 16
#define TSR_RTP_RED_MAX_TS_OFFSET 0x3fff  /* 14 bits */
#define TSR_RTP_RED_MAX_BLOCK_BYTES 0x3ff /* 10 bits, redundant blocks only */

struct tsr_rtp_red_block {
    uint8_t pt;          /* block payload type, 0..127 */
    uint16_t ts_offset;  /* RTP timestamp = packet's − ts_offset; 0 for the primary */
    const uint8_t *data; /* into the parsed packet (borrowed), or the caller's bytes */
    size_t len;
};

/* A parsed RED payload: blocks in packet order, the primary last. */
struct tsr_rtp_red_packet {
    size_t n_blocks; /* 1..TSR_RTP_RED_MAX_BLOCKS */
    struct tsr_rtp_red_block blocks[TSR_RTP_RED_MAX_BLOCKS];
};

/* Purpose: split a RED payload (len bytes, hostile) into its blocks. The blocks
 * point into `payload`. No side effects on failure.
 * Returns 0; TSR_ERR_TRUNCATED (a header or a block runs past the end);
 * TSR_ERR_INVALID (more than TSR_RTP_RED_MAX_BLOCKS blocks); -EINVAL (NULL). */
int tsr_rtp_red_parse(const uint8_t *payload, size_t len, struct tsr_rtp_red_packet *out);

/* Purpose: write a RED payload from blocks[0..n) (the primary last; its
 * ts_offset is ignored) into out (cap bytes).
 * Returns 0 and *len; -EINVAL (n is 0 or too large, a payload type over 127, a
 * redundant block's offset or length past its field); TSR_ERR_FULL (cap). */
int tsr_rtp_red_write(const struct tsr_rtp_red_block *blocks, size_t n, uint8_t *out, size_t cap,
                      size_t *len);

/* One media frame recovered from a RED packet, with the RTP numbers it had. */
struct tsr_rtp_red_frame {
    const uint8_t *data; /* borrowed from the packet */
    size_t len;
    uint32_t ts_rtp;
    uint16_t seq;
    bool redundant; /* a copy of an earlier packet's frame */
};

/* Purpose: the frames of payload type `media_pt` in a RED packet that arrived
 * with RTP timestamp `ts_rtp` and sequence number `seq`: the redundant ones
 * first, oldest first, then the primary. A redundant block k places from the end
 * stands for the packet sent k before this one (seq − k: senders repeat their
 * latest frames in order), at ts_rtp − its offset. Blocks of another payload
 * type, empty blocks, and redundant blocks whose offset is 0 or not below the
 * previous one's are left out (counted in *skipped when not NULL).
 * Returns the number of frames written to frames[0..TSR_RTP_RED_MAX_BLOCKS), or
 * the parse error (nothing written). */
int tsr_rtp_red_frames(const uint8_t *payload, size_t len, uint8_t media_pt, uint32_t ts_rtp,
                       uint16_t seq, struct tsr_rtp_red_frame frames[TSR_RTP_RED_MAX_BLOCKS],
                       size_t *skipped);

#endif
