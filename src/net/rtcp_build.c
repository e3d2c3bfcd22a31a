/* RTCP packet builders appending to a compound buffer, and the media clock that
 * stamps sender reports (NTP↔RTP from one monotonic clock per participant). */
#include <tessera/rtcp.h>

#include <errno.h>
#include <string.h>

#include <tessera/err.h>

#include "net_bytes.h"

void tsr_rtcp_writer_init(struct tsr_rtcp_writer *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
}

/* Reserve `bytes` (a multiple of 4, header included) and write the common header.
 * Returns the packet start or NULL when it does not fit. */
static uint8_t *begin(struct tsr_rtcp_writer *w, size_t bytes, unsigned count, uint8_t pt)
{
    if (!w || !w->buf || w->len > w->cap || w->cap - w->len < bytes || bytes / 4 - 1 > 0xffff)
        return NULL;
    uint8_t *p = w->buf + w->len;
    memset(p, 0, bytes);
    p[0] = (uint8_t)(0x80 | (count & 0x1f));
    p[1] = pt;
    wr16(p + 2, (uint16_t)(bytes / 4 - 1));
    w->len += bytes;
    return p;
}

static void write_report_block(uint8_t *p, const struct tsr_rtcp_report_block *b)
{
    wr32(p, b->ssrc);
    p[4] = b->fraction_lost;
    int32_t lost = b->cumulative_lost;
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    uint32_t l = (uint32_t)lost & 0xffffffu;
    p[5] = (uint8_t)(l >> 16);
    p[6] = (uint8_t)(l >> 8);
    p[7] = (uint8_t)l;
    wr32(p + 8, b->ext_highest_seq);
    wr32(p + 12, b->jitter_rtp);
    wr32(p + 16, b->lsr);
    wr32(p + 20, b->dlsr);
}

int tsr_rtcp_write_sr(struct tsr_rtcp_writer *w, const struct tsr_rtcp_sr *sr)
{
    if (!sr || sr->n_reports > TSR_RTCP_MAX_REPORTS)
        return -EINVAL;
    uint8_t *p = begin(w, 28 + (size_t)sr->n_reports * 24, sr->n_reports, TSR_RTCP_SR);
    if (!p)
        return TSR_ERR_FULL;
    wr32(p + 4, sr->ssrc);
    wr32(p + 8, (uint32_t)(sr->ntp >> 32));
    wr32(p + 12, (uint32_t)sr->ntp);
    wr32(p + 16, sr->timestamp_rtp);
    wr32(p + 20, sr->packet_count);
    wr32(p + 24, sr->octet_count);
    for (unsigned i = 0; i < sr->n_reports; i++)
        write_report_block(p + 28 + i * 24, &sr->reports[i]);
    return 0;
}

int tsr_rtcp_write_rr(struct tsr_rtcp_writer *w, const struct tsr_rtcp_rr *rr)
{
    if (!rr || rr->n_reports > TSR_RTCP_MAX_REPORTS)
        return -EINVAL;
    uint8_t *p = begin(w, 8 + (size_t)rr->n_reports * 24, rr->n_reports, TSR_RTCP_RR);
    if (!p)
        return TSR_ERR_FULL;
    wr32(p + 4, rr->ssrc);
    for (unsigned i = 0; i < rr->n_reports; i++)
        write_report_block(p + 8 + i * 24, &rr->reports[i]);
    return 0;
}

int tsr_rtcp_write_sdes_cname(struct tsr_rtcp_writer *w, uint32_t ssrc, const char *cname)
{
    if (!cname)
        return -EINVAL;
    size_t clen = strlen(cname);
    if (clen > TSR_RTCP_CNAME_MAX)
        return -EINVAL;
    /* chunk: SSRC, CNAME item (2 + clen), end byte, pad to 4 (memset zeroes it) */
    size_t chunk = (4 + 2 + clen + 1 + 3) & ~(size_t)3;
    uint8_t *p = begin(w, 4 + chunk, 1, TSR_RTCP_SDES);
    if (!p)
        return TSR_ERR_FULL;
    wr32(p + 4, ssrc);
    p[8] = 1;
    p[9] = (uint8_t)clen;
    memcpy(p + 10, cname, clen);
    return 0;
}

int tsr_rtcp_write_bye(struct tsr_rtcp_writer *w, const uint32_t *ssrcs, size_t n)
{
    if ((!ssrcs && n) || n > TSR_RTCP_MAX_REPORTS)
        return -EINVAL;
    uint8_t *p = begin(w, 4 + n * 4, (unsigned)n, TSR_RTCP_BYE);
    if (!p)
        return TSR_ERR_FULL;
    for (size_t i = 0; i < n; i++)
        wr32(p + 4 + i * 4, ssrcs[i]);
    return 0;
}

#define NACK_MAX_FCI 256

int tsr_rtcp_write_nack(struct tsr_rtcp_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc,
                        const uint16_t *seqs, size_t n)
{
    uint16_t pid[NACK_MAX_FCI], blp[NACK_MAX_FCI];
    size_t nf = 0;

    if (!seqs || n == 0)
        return -EINVAL;
    /* Greedy packing: a seq joins the first FCI whose 17-packet window holds it.
     * Sorted input (what the jitter buffer produces) packs optimally. */
    for (size_t i = 0; i < n; i++) {
        size_t f;
        for (f = 0; f < nf; f++) {
            uint16_t d = (uint16_t)(seqs[i] - pid[f]);
            if (d == 0)
                break;
            if (d <= 16) {
                blp[f] |= (uint16_t)(1u << (d - 1));
                break;
            }
        }
        if (f < nf)
            continue;
        if (nf == NACK_MAX_FCI)
            return TSR_ERR_FULL;
        pid[nf] = seqs[i];
        blp[nf++] = 0;
    }
    uint8_t *p = begin(w, 12 + nf * 4, 1, TSR_RTCP_RTPFB);
    if (!p)
        return TSR_ERR_FULL;
    wr32(p + 4, sender_ssrc);
    wr32(p + 8, media_ssrc);
    for (size_t f = 0; f < nf; f++) {
        wr16(p + 12 + f * 4, pid[f]);
        wr16(p + 14 + f * 4, blp[f]);
    }
    return 0;
}

int tsr_rtcp_write_pli(struct tsr_rtcp_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc)
{
    uint8_t *p = begin(w, 12, 1, TSR_RTCP_PSFB);
    if (!p)
        return TSR_ERR_FULL;
    wr32(p + 4, sender_ssrc);
    wr32(p + 8, media_ssrc);
    return 0;
}

int tsr_rtcp_write_fir(struct tsr_rtcp_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc,
                       uint8_t seq_nr)
{
    /* RFC 5104 §4.3.1.2: the media source SSRC field is unused (0); the target is in the FCI. */
    uint8_t *p = begin(w, 20, 4, TSR_RTCP_PSFB);
    if (!p)
        return TSR_ERR_FULL;
    wr32(p + 4, sender_ssrc);
    wr32(p + 12, media_ssrc);
    p[16] = seq_nr;
    return 0;
}

int tsr_rtcp_write_remb(struct tsr_rtcp_writer *w, uint32_t sender_ssrc, uint64_t bitrate_bps,
                        const uint32_t *ssrcs, size_t n)
{
    unsigned exp = 0;
    if ((!ssrcs && n) || n > 255)
        return -EINVAL;
    while ((bitrate_bps >> exp) > 0x3ffffu)
        exp++;
    uint32_t mant = (uint32_t)(bitrate_bps >> exp);
    uint8_t *p = begin(w, 20 + n * 4, 15, TSR_RTCP_PSFB);
    if (!p)
        return TSR_ERR_FULL;
    wr32(p + 4, sender_ssrc);
    memcpy(p + 12, "REMB", 4);
    p[16] = (uint8_t)n;
    p[17] = (uint8_t)((exp << 2) | (mant >> 16));
    p[18] = (uint8_t)(mant >> 8);
    p[19] = (uint8_t)mant;
    for (size_t i = 0; i < n; i++)
        wr32(p + 20 + i * 4, ssrcs[i]);
    return 0;
}

int tsr_rtcp_write_tmmb(struct tsr_rtcp_writer *w, unsigned fmt, uint32_t sender_ssrc,
                        const struct tsr_rtcp_tmmb_fci *fci, size_t n)
{
    if ((fmt != 3 && fmt != 4) || n > 1 || (fmt == 3 && n == 0) || (n && !fci) ||
        (n && fci->overhead > 0x1ff))
        return -EINVAL;
    uint8_t *p = begin(w, 12 + n * 8, fmt, TSR_RTCP_RTPFB);
    if (!p)
        return TSR_ERR_FULL;
    wr32(p + 4, sender_ssrc); /* media source SSRC (p + 8) stays 0: RFC 5104 §4.2 */
    if (n) {
        unsigned exp = 0;
        while ((fci->bitrate_bps >> exp) > 0x1ffffu)
            exp++;
        uint32_t mant = (uint32_t)(fci->bitrate_bps >> exp);
        wr32(p + 12, fci->ssrc);
        wr32(p + 16, (uint32_t)exp << 26 | mant << 9 | fci->overhead);
    }
    return 0;
}

/* ---- media clock ---- */

/* Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
#define NTP_UNIX_OFFSET_S 2208988800ull

static uint64_t us_to_ntp(uint64_t us)
{
    uint64_t s = us / 1000000u, frac_us = us % 1000000u;
    return (s << 32) | ((frac_us << 32) / 1000000u);
}

void tsr_media_clock_init(struct tsr_media_clock *c, int64_t mono_us, int64_t wall_us)
{
    c->origin_mono_us = mono_us;
    uint64_t w = wall_us > 0 ? (uint64_t)wall_us : 0;
    c->origin_ntp = us_to_ntp(w) + (NTP_UNIX_OFFSET_S << 32);
}

uint64_t tsr_media_clock_ntp(const struct tsr_media_clock *c, int64_t mono_us)
{
    int64_t d = mono_us - c->origin_mono_us;
    if (d >= 0)
        return c->origin_ntp + us_to_ntp((uint64_t)d);
    return c->origin_ntp - us_to_ntp((uint64_t)-d);
}

uint32_t tsr_media_clock_rtp(const struct tsr_media_clock *c, int64_t mono_us, uint32_t clock_rate,
                             uint32_t offset_rtp)
{
    /* Computed from the origin each time (not accumulated) so rounding never drifts:
     * audio and video of one participant stay on the same line for hours. */
    int64_t d = mono_us - c->origin_mono_us;
    uint64_t a = (uint64_t)(d >= 0 ? d : -d);
    uint64_t t = (a / 1000000u) * clock_rate + ((a % 1000000u) * clock_rate) / 1000000u;
    int64_t ticks = d >= 0 ? (int64_t)t : -(int64_t)t;
    return (uint32_t)((uint64_t)ticks + offset_rtp);
}
