/* RTP fixed header parse/write and sequence/timestamp unwrapping (RFC 3550 §5.1). */
#include <tessera/rtp.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <tessera/err.h>
#include <tessera/metrics.h>

#include "net_bytes.h"

/* One counter per failure kind; looked up on the error path only, which is rare
 * and already the slow path, so the registry lookup cost does not matter. */
static int parse_error(int err, const char *kind)
{
    char labels[48];
    snprintf(labels, sizeof labels, "kind=\"%s\"", kind);
    tsr_counter_inc(tsr_metrics_counter("tessera_rtp_parse_errors_total", labels,
                                        "RTP packets rejected by the parser"));
    return err;
}

int tsr_rtp_parse(const uint8_t *buf, size_t len, struct tsr_rtp_header *out)
{
    struct tsr_rtp_header h;
    size_t off = TSR_RTP_HEADER_BYTES;

    if (!buf || !out)
        return -EINVAL;
    if (len < TSR_RTP_HEADER_BYTES)
        return parse_error(TSR_ERR_TRUNCATED, "short");
    memset(&h, 0, sizeof h);
    h.version = buf[0] >> 6;
    if (h.version != 2)
        return parse_error(TSR_ERR_INVALID, "version");
    h.padding = (buf[0] & 0x20) != 0;
    h.extension = (buf[0] & 0x10) != 0;
    h.csrc_count = buf[0] & 0x0f;
    h.marker = (buf[1] & 0x80) != 0;
    h.payload_type = buf[1] & 0x7f;
    h.seq = rd16(buf + 2);
    h.timestamp_rtp = rd32(buf + 4);
    h.ssrc = rd32(buf + 8);
    if (len - off < (size_t)h.csrc_count * 4)
        return parse_error(TSR_ERR_TRUNCATED, "csrc");
    for (unsigned i = 0; i < h.csrc_count; i++, off += 4)
        h.csrc[i] = rd32(buf + off);
    if (h.extension) {
        if (len - off < 4)
            return parse_error(TSR_ERR_TRUNCATED, "extension");
        h.ext_profile = rd16(buf + off);
        h.ext_bytes = (size_t)rd16(buf + off + 2) * 4;
        off += 4;
        if (len - off < h.ext_bytes)
            return parse_error(TSR_ERR_TRUNCATED, "extension");
        h.ext_data = buf + off;
        off += h.ext_bytes;
    }
    h.header_bytes = off;
    h.payload = buf + off;
    h.payload_bytes = len - off;
    if (h.padding) {
        if (h.payload_bytes == 0)
            return parse_error(TSR_ERR_TRUNCATED, "padding");
        h.padding_bytes = buf[len - 1];
        if (h.padding_bytes == 0)
            return parse_error(TSR_ERR_INVALID, "padding");
        if (h.padding_bytes > h.payload_bytes)
            return parse_error(TSR_ERR_TRUNCATED, "padding");
        h.payload_bytes -= h.padding_bytes;
    }
    *out = h;
    return 0;
}

int tsr_rtp_write_header(const struct tsr_rtp_header *h, uint8_t *buf, size_t cap, size_t *len)
{
    size_t need;

    if (!h || !buf || !len || h->csrc_count > TSR_RTP_MAX_CSRC || h->payload_type > 127)
        return -EINVAL;
    if (h->extension &&
        (h->ext_bytes % 4 != 0 || h->ext_bytes / 4 > 0xffff || (h->ext_bytes && !h->ext_data)))
        return -EINVAL;
    need = TSR_RTP_HEADER_BYTES + (size_t)h->csrc_count * 4 + (h->extension ? 4 + h->ext_bytes : 0);
    if (cap < need)
        return TSR_ERR_FULL;
    buf[0] = (uint8_t)(0x80 | (h->padding ? 0x20 : 0) | (h->extension ? 0x10 : 0) | h->csrc_count);
    buf[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->payload_type);
    wr16(buf + 2, h->seq);
    wr32(buf + 4, h->timestamp_rtp);
    wr32(buf + 8, h->ssrc);
    size_t off = TSR_RTP_HEADER_BYTES;
    for (unsigned i = 0; i < h->csrc_count; i++, off += 4)
        wr32(buf + off, h->csrc[i]);
    if (h->extension) {
        wr16(buf + off, h->ext_profile);
        wr16(buf + off + 2, (uint16_t)(h->ext_bytes / 4));
        off += 4;
        if (h->ext_bytes)
            memcpy(buf + off, h->ext_data, h->ext_bytes);
        off += h->ext_bytes;
    }
    *len = off;
    return 0;
}

void tsr_rtp_unwrapper_init(struct tsr_rtp_unwrapper *u)
{
    u->last = 0;
    u->started = false;
}

/* Pick the candidate nearest to the last value: last + signed distance. A packet
 * that would unwrap below zero (impossible after the +range start) is clamped by
 * construction because we start one full range up. */
static int64_t unwrap(struct tsr_rtp_unwrapper *u, uint64_t value, unsigned bits)
{
    const int64_t range = (int64_t)1 << bits;
    if (!u->started) {
        u->started = true;
        u->last = (int64_t)value + range;
        return u->last;
    }
    int64_t diff = (int64_t)((value - (uint64_t)u->last) & (uint64_t)(range - 1));
    if (diff >= range / 2)
        diff -= range;
    int64_t v = u->last + diff;
    if (v > u->last)
        u->last = v;
    return v;
}

int64_t tsr_rtp_unwrap_seq(struct tsr_rtp_unwrapper *u, uint16_t seq)
{
    return unwrap(u, seq, 16);
}

int64_t tsr_rtp_unwrap_ts(struct tsr_rtp_unwrapper *u, uint32_t ts_rtp)
{
    return unwrap(u, ts_rtp, 32);
}
