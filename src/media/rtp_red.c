/* RED (RFC 2198) payloads: parse, write, and the media frames a packet holds;
 * see include/media/tessera/rtp_red.h. */
#include <tessera/rtp_red.h>

#include <errno.h>
#include <string.h>

#include <tessera/err.h>

int tsr_rtp_red_parse(const uint8_t *payload, size_t len, struct tsr_rtp_red_packet *out)
{
    struct tsr_rtp_red_packet pk;
    size_t at = 0, data_bytes = 0;
    if (!payload || !out)
        return -EINVAL;
    pk.n_blocks = 0;
    for (;;) {
        if (at >= len)
            return TSR_ERR_TRUNCATED;
        if (pk.n_blocks == TSR_RTP_RED_MAX_BLOCKS)
            return TSR_ERR_INVALID;
        struct tsr_rtp_red_block *b = &pk.blocks[pk.n_blocks++];
        b->pt = payload[at] & 0x7f;
        if (!(payload[at] & 0x80)) { /* the primary's 1-byte header ends the list */
            b->ts_offset = 0;
            at++;
            break;
        }
        if (len - at < 4)
            return TSR_ERR_TRUNCATED;
        b->ts_offset = (uint16_t)((payload[at + 1] << 6) | (payload[at + 2] >> 2));
        b->len = (size_t)((payload[at + 2] & 0x03) << 8 | payload[at + 3]);
        data_bytes += b->len;
        at += 4;
    }
    if (data_bytes > len - at) /* the redundant blocks run past the end */
        return TSR_ERR_TRUNCATED;
    for (size_t i = 0; i + 1 < pk.n_blocks; i++) {
        pk.blocks[i].data = payload + at;
        at += pk.blocks[i].len;
    }
    struct tsr_rtp_red_block *primary = &pk.blocks[pk.n_blocks - 1];
    primary->data = payload + at;
    primary->len = len - at;
    out->n_blocks = pk.n_blocks;
    memcpy(out->blocks, pk.blocks, pk.n_blocks * sizeof pk.blocks[0]);
    return 0;
}

int tsr_rtp_red_write(const struct tsr_rtp_red_block *blocks, size_t n, uint8_t *out, size_t cap,
                      size_t *len)
{
    size_t need = 0;
    if (!blocks || !out || !len || n == 0 || n > TSR_RTP_RED_MAX_BLOCKS)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        const struct tsr_rtp_red_block *b = &blocks[i];
        bool primary = i + 1 == n;
        if (b->pt > 127 || (b->len && !b->data) ||
            (!primary &&
             (b->ts_offset > TSR_RTP_RED_MAX_TS_OFFSET || b->len > TSR_RTP_RED_MAX_BLOCK_BYTES)))
            return -EINVAL;
        need += (primary ? 1 : 4) + b->len;
    }
    if (need > cap)
        return TSR_ERR_FULL;
    size_t at = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        const struct tsr_rtp_red_block *b = &blocks[i];
        out[at] = (uint8_t)(0x80 | b->pt);
        out[at + 1] = (uint8_t)(b->ts_offset >> 6);
        out[at + 2] = (uint8_t)(((b->ts_offset & 0x3f) << 2) | (b->len >> 8));
        out[at + 3] = (uint8_t)(b->len & 0xff);
        at += 4;
    }
    out[at++] = blocks[n - 1].pt;
    for (size_t i = 0; i < n; i++) {
        if (blocks[i].len) /* memcpy from NULL is undefined even for 0 bytes */
            memcpy(out + at, blocks[i].data, blocks[i].len);
        at += blocks[i].len;
    }
    *len = at;
    return 0;
}

int tsr_rtp_red_frames(const uint8_t *payload, size_t len, uint8_t media_pt, uint32_t ts_rtp,
                       uint16_t seq, struct tsr_rtp_red_frame frames[TSR_RTP_RED_MAX_BLOCKS],
                       size_t *skipped)
{
    struct tsr_rtp_red_packet pk;
    if (!frames)
        return -EINVAL;
    int rc = tsr_rtp_red_parse(payload, len, &pk);
    if (rc)
        return rc;
    size_t n = 0, left_out = 0;
    uint32_t last_offset = UINT32_MAX;
    size_t n_redundant = pk.n_blocks - 1;
    for (size_t i = 0; i < pk.n_blocks; i++) {
        const struct tsr_rtp_red_block *b = &pk.blocks[i];
        bool redundant = i < n_redundant;
        /* Offsets must fall towards the primary: a block at or after an earlier
         * one's time (or at the primary's) is no earlier frame of this stream. */
        bool in_order = !redundant || (b->ts_offset > 0 && b->ts_offset < last_offset);
        if (redundant && in_order)
            last_offset = b->ts_offset;
        if (b->pt != media_pt || b->len == 0 || !in_order) {
            left_out++;
            continue;
        }
        frames[n++] = (struct tsr_rtp_red_frame){
            .data = b->data,
            .len = b->len,
            .ts_rtp = ts_rtp - b->ts_offset,
            .seq = (uint16_t)(seq - (n_redundant - i)),
            .redundant = redundant,
        };
    }
    if (skipped)
        *skipped = left_out;
    return (int)n;
}
