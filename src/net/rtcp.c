/* RTCP compound packet parsing (RFC 3550 §6, RFC 4585, RFC 5104, REMB,
 * transport-cc). Two passes over the compound packet: the first validates every
 * packet and fills a local item array, the second copies to the caller, so a
 * malformed packet anywhere rejects the whole compound without side effects. */
#include <tessera/rtcp.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <tessera/err.h>
#include <tessera/metrics.h>

#include "net_bytes.h"

static int rtcp_error(int err, const char *kind)
{
    char labels[48];
    snprintf(labels, sizeof labels, "kind=\"%s\"", kind);
    tsr_counter_inc(tsr_metrics_counter("tessera_rtcp_parse_errors_total", labels,
                                        "RTCP compound packets rejected by the parser"));
    return err;
}

static void parse_report_block(const uint8_t *p, struct tsr_rtcp_report_block *b)
{
    b->ssrc = rd32(p);
    b->fraction_lost = p[4];
    uint32_t lost = ((uint32_t)p[5] << 16) | ((uint32_t)p[6] << 8) | p[7];
    b->cumulative_lost = (lost & 0x800000u) ? (int32_t)lost - 0x1000000 : (int32_t)lost;
    b->ext_highest_seq = rd32(p + 8);
    b->jitter_rtp = rd32(p + 12);
    b->lsr = rd32(p + 16);
    b->dlsr = rd32(p + 20);
}

static int parse_sr(const uint8_t *b, size_t n, unsigned rc, struct tsr_rtcp_item *it)
{
    if (n < 24 + (size_t)rc * 24)
        return TSR_ERR_TRUNCATED;
    struct tsr_rtcp_sr *sr = &it->u.sr;
    it->kind = TSR_RTCP_KIND_SR;
    sr->ssrc = rd32(b);
    sr->ntp = ((uint64_t)rd32(b + 4) << 32) | rd32(b + 8);
    sr->timestamp_rtp = rd32(b + 12);
    sr->packet_count = rd32(b + 16);
    sr->octet_count = rd32(b + 20);
    sr->n_reports = (uint8_t)rc;
    for (unsigned i = 0; i < rc; i++)
        parse_report_block(b + 24 + i * 24, &sr->reports[i]);
    return 0;
}

static int parse_rr(const uint8_t *b, size_t n, unsigned rc, struct tsr_rtcp_item *it)
{
    if (n < 4 + (size_t)rc * 24)
        return TSR_ERR_TRUNCATED;
    it->kind = TSR_RTCP_KIND_RR;
    it->u.rr.ssrc = rd32(b);
    it->u.rr.n_reports = (uint8_t)rc;
    for (unsigned i = 0; i < rc; i++)
        parse_report_block(b + 4 + i * 24, &it->u.rr.reports[i]);
    return 0;
}

/* SDES chunks: SSRC, items (type, len, text) ended by a zero type, padded to 32 bits. */
static int parse_sdes(const uint8_t *b, size_t n, unsigned sc, struct tsr_rtcp_item *it)
{
    size_t off = 0;
    it->kind = TSR_RTCP_KIND_SDES;
    memset(&it->u.sdes, 0, sizeof it->u.sdes);
    for (unsigned c = 0; c < sc; c++) {
        if (n - off < 4)
            return TSR_ERR_TRUNCATED;
        uint32_t ssrc = rd32(b + off);
        if (c == 0)
            it->u.sdes.ssrc = ssrc;
        off += 4;
        for (;;) {
            if (off >= n)
                return TSR_ERR_TRUNCATED;
            uint8_t type = b[off];
            if (type == 0) {
                off = (off + 4) & ~(size_t)3; /* the end byte plus padding to 4 */
                if (off > n)
                    return TSR_ERR_TRUNCATED;
                break;
            }
            if (n - off < 2 || n - off - 2 < b[off + 1])
                return TSR_ERR_TRUNCATED;
            uint8_t ilen = b[off + 1];
            if (c == 0 && type == 1 && it->u.sdes.cname[0] == '\0') {
                memcpy(it->u.sdes.cname, b + off + 2, ilen);
                it->u.sdes.cname[ilen] = '\0';
            }
            off += 2u + ilen;
        }
    }
    return 0;
}

static int parse_bye(const uint8_t *b, size_t n, unsigned sc, struct tsr_rtcp_item *it)
{
    if (n < (size_t)sc * 4)
        return TSR_ERR_TRUNCATED;
    if (n > (size_t)sc * 4 && n - (size_t)sc * 4 < 1u + b[sc * 4])
        return TSR_ERR_TRUNCATED; /* reason length runs past the packet */
    it->kind = TSR_RTCP_KIND_BYE;
    it->u.bye.n_ssrcs = (uint8_t)sc;
    for (unsigned i = 0; i < sc; i++)
        it->u.bye.ssrcs[i] = rd32(b + i * 4);
    return 0;
}

/* Walks the transport-cc chunks and deltas. pkts NULL: validate only. */
static int twcc_walk(const struct tsr_rtcp_twcc *t, struct tsr_rtcp_twcc_packet *pkts, size_t cap)
{
    const uint8_t *c = t->chunks;
    size_t n = t->chunks_bytes, off = 0, got = 0;
    uint8_t sym[14];
    unsigned nsym;
    size_t received = 0;

    /* First pass: statuses. Keep symbols compactly by re-walking for deltas. */
    while (got < t->status_count) {
        if (n - off < 2)
            return TSR_ERR_TRUNCATED;
        uint16_t ch = rd16(c + off);
        off += 2;
        size_t run;
        if (!(ch & 0x8000)) { /* run length chunk */
            uint8_t s = (ch >> 13) & 3;
            run = ch & 0x1fff;
            if (s == 3)
                return TSR_ERR_INVALID;
            for (size_t i = 0; i < run && got < t->status_count; i++, got++) {
                if (pkts && got < cap) {
                    pkts[got].seq = (uint16_t)(t->base_seq + got);
                    pkts[got].received = s != 0;
                    pkts[got].delta_250us = s; /* symbol, replaced below */
                }
                received += s != 0;
            }
            continue;
        }
        if (ch & 0x4000) {
            nsym = 7;
            for (unsigned i = 0; i < 7; i++)
                sym[i] = (ch >> (12 - 2 * i)) & 3;
        } else {
            nsym = 14;
            for (unsigned i = 0; i < 14; i++)
                sym[i] = (ch >> (13 - i)) & 1;
        }
        for (unsigned i = 0; i < nsym && got < t->status_count; i++, got++) {
            if (sym[i] == 3)
                return TSR_ERR_INVALID;
            if (pkts && got < cap) {
                pkts[got].seq = (uint16_t)(t->base_seq + got);
                pkts[got].received = sym[i] != 0;
                pkts[got].delta_250us = sym[i];
            }
            received += sym[i] != 0;
        }
    }
    /* Deltas: one byte for symbol 1, two signed bytes for symbol 2, in order. When
     * only validating we cannot know the sizes without the symbols, so compute the
     * minimum (all small) and let the decode pass check exact sizes. */
    if (!pkts)
        return n - off < received ? TSR_ERR_TRUNCATED : 0;
    for (size_t i = 0; i < got && i < cap; i++) {
        if (!pkts[i].received) {
            pkts[i].delta_250us = 0;
            continue;
        }
        if (pkts[i].delta_250us == 1) {
            if (n - off < 1)
                return TSR_ERR_TRUNCATED;
            pkts[i].delta_250us = c[off++];
        } else {
            if (n - off < 2)
                return TSR_ERR_TRUNCATED;
            pkts[i].delta_250us = (int16_t)rd16(c + off);
            off += 2;
        }
    }
    return 0;
}

static int parse_rtpfb(const uint8_t *b, size_t n, unsigned fmt, struct tsr_rtcp_item *it)
{
    if (n < 8)
        return TSR_ERR_TRUNCATED;
    if (fmt == 1) {
        if (n == 8 || (n - 8) % 4 != 0)
            return TSR_ERR_INVALID;
        it->kind = TSR_RTCP_KIND_NACK;
        it->u.nack.sender_ssrc = rd32(b);
        it->u.nack.media_ssrc = rd32(b + 4);
        it->u.nack.n_fci = (n - 8) / 4;
        it->u.nack.fci = b + 8;
        return 0;
    }
    if (fmt == 3 || fmt == 4) { /* TMMBR / TMMBN */
        if ((n - 8) % 8 != 0 || (fmt == 3 && n == 8))
            return TSR_ERR_INVALID;
        it->kind = fmt == 3 ? TSR_RTCP_KIND_TMMBR : TSR_RTCP_KIND_TMMBN;
        it->u.tmmb.sender_ssrc = rd32(b);
        it->u.tmmb.n_entries = (n - 8) / 8;
        it->u.tmmb.entries = b + 8;
        return 0;
    }
    if (fmt == 15) {
        if (n < 16)
            return TSR_ERR_TRUNCATED;
        struct tsr_rtcp_twcc *t = &it->u.twcc;
        it->kind = TSR_RTCP_KIND_TWCC;
        t->sender_ssrc = rd32(b);
        t->media_ssrc = rd32(b + 4);
        t->base_seq = rd16(b + 8);
        t->status_count = rd16(b + 10);
        uint32_t ref = ((uint32_t)b[12] << 16) | ((uint32_t)b[13] << 8) | b[14];
        t->reference_time_64ms = (ref & 0x800000u) ? (int32_t)ref - 0x1000000 : (int32_t)ref;
        t->fb_pkt_count = b[15];
        t->chunks = b + 16;
        t->chunks_bytes = n - 16;
        return twcc_walk(t, NULL, 0);
    }
    it->kind = TSR_RTCP_KIND_OTHER;
    it->u.other_type = TSR_RTCP_RTPFB;
    return 0;
}

static int parse_psfb(const uint8_t *b, size_t n, unsigned fmt, struct tsr_rtcp_item *it)
{
    if (n < 8)
        return TSR_ERR_TRUNCATED;
    if (fmt == 1) {
        it->kind = TSR_RTCP_KIND_PLI;
        it->u.pli.sender_ssrc = rd32(b);
        it->u.pli.media_ssrc = rd32(b + 4);
        return 0;
    }
    if (fmt == 4) {
        if (n == 8 || (n - 8) % 8 != 0)
            return TSR_ERR_INVALID;
        it->kind = TSR_RTCP_KIND_FIR;
        it->u.fir.sender_ssrc = rd32(b);
        it->u.fir.n_entries = (n - 8) / 8;
        it->u.fir.entries = b + 8;
        return 0;
    }
    if (fmt == 15 && n >= 12 && memcmp(b + 8, "REMB", 4) == 0) {
        if (n < 16)
            return TSR_ERR_TRUNCATED;
        unsigned num = b[12], exp = b[13] >> 2;
        uint64_t mant = ((uint64_t)(b[13] & 3) << 16) | ((uint64_t)b[14] << 8) | b[15];
        if (n - 16 < (size_t)num * 4)
            return TSR_ERR_TRUNCATED;
        it->kind = TSR_RTCP_KIND_REMB;
        it->u.remb.sender_ssrc = rd32(b);
        /* mantissa < 2^18, so exponents above 46 overflow 64 bits: saturate. */
        it->u.remb.bitrate_bps = exp > 46 && mant ? UINT64_MAX : mant << exp;
        if (exp <= 46 && mant && (it->u.remb.bitrate_bps >> exp) != mant)
            it->u.remb.bitrate_bps = UINT64_MAX;
        it->u.remb.n_ssrcs = (uint8_t)num;
        it->u.remb.ssrcs = b + 16;
        return 0;
    }
    it->kind = TSR_RTCP_KIND_OTHER;
    it->u.other_type = TSR_RTCP_PSFB;
    return 0;
}

/* Parse one packet whose header is at p with total length plen (padding included). */
static int parse_one(const uint8_t *p, size_t plen, struct tsr_rtcp_item *it)
{
    unsigned count = p[0] & 0x1f;
    uint8_t pt = p[1];
    const uint8_t *b = p + 4;
    size_t n = plen - 4;

    if (p[0] & 0x20) { /* padding: last byte counts padding octets */
        uint8_t pad = p[plen - 1];
        if (pad == 0 || pad > n)
            return TSR_ERR_INVALID;
        n -= pad;
    }
    switch (pt) {
    case TSR_RTCP_SR:
        return parse_sr(b, n, count, it);
    case TSR_RTCP_RR:
        return parse_rr(b, n, count, it);
    case TSR_RTCP_SDES:
        return parse_sdes(b, n, count, it);
    case TSR_RTCP_BYE:
        return parse_bye(b, n, count, it);
    case TSR_RTCP_RTPFB:
        return parse_rtpfb(b, n, count, it);
    case TSR_RTCP_PSFB:
        return parse_psfb(b, n, count, it);
    default:
        if (pt < 192 || pt > 223)
            return TSR_ERR_INVALID; /* not RTCP at all (RFC 5761 range) */
        it->kind = TSR_RTCP_KIND_OTHER;
        it->u.other_type = pt;
        return 0;
    }
}

/* Walk the compound packet. items NULL: validate into a scratch item and count. */
static int walk(const uint8_t *buf, size_t len, struct tsr_rtcp_item *items, size_t *n_out)
{
    struct tsr_rtcp_item scratch;
    size_t off = 0, n = 0;

    if (len < 4)
        return rtcp_error(TSR_ERR_TRUNCATED, "short");
    while (off < len) {
        if (len - off < 4)
            return rtcp_error(TSR_ERR_TRUNCATED, "header");
        const uint8_t *p = buf + off;
        size_t plen = ((size_t)rd16(p + 2) + 1) * 4;
        if ((p[0] >> 6) != 2)
            return rtcp_error(TSR_ERR_INVALID, "version");
        if (plen > len - off)
            return rtcp_error(TSR_ERR_TRUNCATED, "length");
        if ((p[0] & 0x20) && off + plen != len)
            return rtcp_error(TSR_ERR_INVALID, "padding"); /* only the last may pad */
        struct tsr_rtcp_item *it = items ? &items[n] : &scratch;
        memset(it, 0, sizeof *it);
        int rc = parse_one(p, plen, it);
        bool tmmb = p[1] == TSR_RTCP_RTPFB && ((p[0] & 0x1f) == 3 || (p[0] & 0x1f) == 4);
        if (rc < 0)
            return rtcp_error(rc, tmmb ? "tmmbr" : "body");
        n++;
        off += plen;
    }
    *n_out = n;
    return 0;
}

int tsr_rtcp_parse(const uint8_t *buf, size_t len, struct tsr_rtcp_item *items, size_t cap,
                   size_t *n_items)
{
    size_t n = 0;
    int rc;

    if (!buf || !n_items || (!items && cap))
        return -EINVAL;
    /* Validate first (no writes to items), then fill: all-or-nothing without a
     * heap allocation per packet. RTCP is a few packets a second, so two passes
     * cost nothing measurable. */
    rc = walk(buf, len, NULL, &n);
    if (rc < 0)
        return rc;
    if (n > cap)
        return TSR_ERR_FULL;
    rc = walk(buf, len, items, &n);
    if (rc < 0)
        return rc;
    *n_items = n;
    return 0;
}

int tsr_rtcp_nack_seqs(const struct tsr_rtcp_nack *nack, uint16_t *seqs, size_t cap, size_t *n)
{
    size_t k = 0;
    if (!nack || !n || (!seqs && cap))
        return -EINVAL;
    for (size_t i = 0; i < nack->n_fci; i++) {
        uint16_t pid = rd16(nack->fci + i * 4), blp = rd16(nack->fci + i * 4 + 2);
        for (int bit = -1; bit < 16; bit++) {
            if (bit >= 0 && !(blp & (1u << bit)))
                continue;
            if (k == cap) {
                *n = k;
                return TSR_ERR_FULL;
            }
            seqs[k++] = (uint16_t)(pid + bit + 1);
        }
    }
    *n = k;
    return 0;
}

int tsr_rtcp_fir_entry(const struct tsr_rtcp_fir *fir, size_t i, uint32_t *ssrc, uint8_t *seq_nr)
{
    if (!fir || i >= fir->n_entries || !ssrc || !seq_nr)
        return -EINVAL;
    *ssrc = rd32(fir->entries + i * 8);
    *seq_nr = fir->entries[i * 8 + 4];
    return 0;
}

int tsr_rtcp_remb_ssrc(const struct tsr_rtcp_remb *remb, size_t i, uint32_t *ssrc)
{
    if (!remb || i >= remb->n_ssrcs || !ssrc)
        return -EINVAL;
    *ssrc = rd32(remb->ssrcs + i * 4);
    return 0;
}

int tsr_rtcp_tmmb_entry(const struct tsr_rtcp_tmmb *t, size_t i, uint32_t *ssrc,
                        uint64_t *bitrate_bps, unsigned *overhead)
{
    if (!t || i >= t->n_entries || !ssrc || !bitrate_bps || !overhead)
        return -EINVAL;
    const uint8_t *e = t->entries + i * 8;
    uint32_t word = rd32(e + 4);
    unsigned exp = word >> 26;
    uint64_t mant = (word >> 9) & 0x1ffffu;
    *ssrc = rd32(e);
    /* mantissa < 2^17: exponents up to 47 fit in 64 bits (the field's max is 63). */
    *bitrate_bps = mant && exp > 47 ? UINT64_MAX : mant << exp;
    *overhead = word & 0x1ffu;
    return 0;
}

int tsr_rtcp_twcc_decode(const struct tsr_rtcp_twcc *twcc, struct tsr_rtcp_twcc_packet *pkts,
                         size_t cap, size_t *n)
{
    if (!twcc || !pkts || !n)
        return -EINVAL;
    if (twcc->status_count > cap)
        return TSR_ERR_FULL;
    int rc = twcc_walk(twcc, pkts, cap);
    if (rc < 0)
        return rc;
    *n = twcc->status_count;
    return 0;
}
