/* RTCP (RFC 3550, 4585, 5104, REMB, transport-cc) compound parse and build, and
 * the per-participant media clock that stamps sender reports.
 *
 * Parsing is all-or-nothing: tsr_rtcp_parse validates the whole compound packet
 * first and only then writes the caller's array, so a malformed compound packet
 * is rejected whole with an error and no side effect. Parsed items borrow
 * pointers into the input buffer for variable-length lists (NACK FCIs, FIR
 * entries, REMB SSRCs, transport-cc chunks). Pure: no I/O, no threads; metrics
 * counters only. Thread: any. */
#ifndef TESSERA_RTCP_H
#define TESSERA_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tsr_rtcp_type {
    TSR_RTCP_SR = 200,
    TSR_RTCP_RR = 201,
    TSR_RTCP_SDES = 202,
    TSR_RTCP_BYE = 203,
    TSR_RTCP_APP = 204,
    TSR_RTCP_RTPFB = 205, /* transport feedback: FMT 1 NACK, 3 TMMBR, 4 TMMBN, 15 transport-cc */
    TSR_RTCP_PSFB = 206,  /* payload feedback: FMT 1 PLI, 4 FIR, 15 AFB (REMB) */
};

/* Which item a parsed packet is (the union member to read). */
enum tsr_rtcp_kind {
    TSR_RTCP_KIND_SR = 1,
    TSR_RTCP_KIND_RR,
    TSR_RTCP_KIND_SDES,
    TSR_RTCP_KIND_BYE,
    TSR_RTCP_KIND_NACK,
    TSR_RTCP_KIND_TWCC,
    TSR_RTCP_KIND_PLI,
    TSR_RTCP_KIND_FIR,
    TSR_RTCP_KIND_REMB,
    TSR_RTCP_KIND_TMMBR, /* u.tmmb */
    TSR_RTCP_KIND_TMMBN, /* u.tmmb */
    TSR_RTCP_KIND_OTHER, /* well-formed but not interpreted (APP, XR, other FMT) */
};

#define TSR_RTCP_MAX_REPORTS 31
#define TSR_RTCP_CNAME_MAX 255

struct tsr_rtcp_report_block {
    uint32_t ssrc;            /* source this block reports on */
    uint8_t fraction_lost;    /* lost fraction since last report, /256 */
    int32_t cumulative_lost;  /* 24-bit signed */
    uint32_t ext_highest_seq; /* cycles << 16 | highest seq */
    uint32_t jitter_rtp;      /* interarrival jitter, RTP units */
    uint32_t lsr;             /* middle 32 bits of the last SR NTP time */
    uint32_t dlsr;            /* delay since last SR, 1/65536 s */
};

struct tsr_rtcp_sr {
    uint32_t ssrc;
    uint64_t ntp;           /* 32.32 NTP timestamp */
    uint32_t timestamp_rtp; /* same instant as ntp on the media clock */
    uint32_t packet_count;
    uint32_t octet_count;
    uint8_t n_reports;
    struct tsr_rtcp_report_block reports[TSR_RTCP_MAX_REPORTS];
};

struct tsr_rtcp_rr {
    uint32_t ssrc;
    uint8_t n_reports;
    struct tsr_rtcp_report_block reports[TSR_RTCP_MAX_REPORTS];
};

/* First CNAME item of the first chunk (others are validated and skipped). */
struct tsr_rtcp_sdes {
    uint32_t ssrc;
    char cname[TSR_RTCP_CNAME_MAX + 1]; /* NUL-terminated; "" if the chunk has none */
};

struct tsr_rtcp_bye {
    uint8_t n_ssrcs;
    uint32_t ssrcs[TSR_RTCP_MAX_REPORTS];
};

/* Generic NACK: n_fci pairs (PID, BLP) at `fci` (4 bytes each, network order). */
struct tsr_rtcp_nack {
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
    size_t n_fci;
    const uint8_t *fci;
};

struct tsr_rtcp_pli {
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
};

/* FIR: n_entries (SSRC, seq nr) entries at `entries` (8 bytes each). */
struct tsr_rtcp_fir {
    uint32_t sender_ssrc;
    size_t n_entries;
    const uint8_t *entries;
};

struct tsr_rtcp_remb {
    uint32_t sender_ssrc;
    uint64_t bitrate_bps; /* mantissa << exp, saturated to UINT64_MAX */
    uint8_t n_ssrcs;
    const uint8_t *ssrcs; /* n_ssrcs × 4 bytes */
};

/* TMMBR / TMMBN (RFC 5104 §4.2.1, §4.2.2): n_entries FCI entries of 8 bytes at
 * `entries` (SSRC; 6-bit exponent, 17-bit mantissa, 9-bit measured overhead). A
 * TMMBR has at least one entry, a TMMBN may have none. */
struct tsr_rtcp_tmmb {
    uint32_t sender_ssrc;
    size_t n_entries;
    const uint8_t *entries;
};

/* transport-cc feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1). */
struct tsr_rtcp_twcc {
    uint32_t sender_ssrc;
    uint32_t media_ssrc;
    uint16_t base_seq;
    uint16_t status_count;
    int32_t reference_time_64ms; /* 24-bit signed, ×64 ms */
    uint8_t fb_pkt_count;
    const uint8_t *chunks; /* packet chunks followed by receive deltas */
    size_t chunks_bytes;
};

struct tsr_rtcp_item {
    enum tsr_rtcp_kind kind;
    union {
        struct tsr_rtcp_sr sr;
        struct tsr_rtcp_rr rr;
        struct tsr_rtcp_sdes sdes;
        struct tsr_rtcp_bye bye;
        struct tsr_rtcp_nack nack;
        struct tsr_rtcp_pli pli;
        struct tsr_rtcp_fir fir;
        struct tsr_rtcp_remb remb;
        struct tsr_rtcp_twcc twcc;
        struct tsr_rtcp_tmmb tmmb;
        uint8_t other_type;
    } u;
};

/* Purpose: parse a compound RTCP packet into items[0..*n_items). Every packet
 * must have version 2, a length that fits, and a body valid for its type; the
 * packets must exactly fill `len` (padding only on the last). Reduced-size RTCP
 * (RFC 5506: a lone feedback packet) is accepted.
 * Returns 0; TSR_ERR_TRUNCATED/TSR_ERR_INVALID for malformed input (counted in
 * tessera_rtcp_parse_errors_total); TSR_ERR_FULL when more than `cap` items.
 * On failure items and *n_items are untouched. Ownership: items borrow `buf`. */
int tsr_rtcp_parse(const uint8_t *buf, size_t len, struct tsr_rtcp_item *items, size_t cap,
                   size_t *n_items);

/* Purpose: expand NACK FCIs to sequence numbers (PID then each set BLP bit), in
 * order. Writes at most `cap`; *n gets the number written. Returns 0, or
 * TSR_ERR_FULL when more were present (the first `cap` are written). */
int tsr_rtcp_nack_seqs(const struct tsr_rtcp_nack *nack, uint16_t *seqs, size_t cap, size_t *n);

/* Purpose: FIR entry i. Returns 0 or -EINVAL when i is out of range. */
int tsr_rtcp_fir_entry(const struct tsr_rtcp_fir *fir, size_t i, uint32_t *ssrc, uint8_t *seq_nr);

/* Purpose: REMB SSRC i. Returns 0 or -EINVAL. */
int tsr_rtcp_remb_ssrc(const struct tsr_rtcp_remb *remb, size_t i, uint32_t *ssrc);

/* Purpose: TMMBR/TMMBN entry i: the SSRC it limits, its maximum total media bit
 * rate (mantissa << exponent, saturated) and measured overhead (bytes per packet).
 * Returns 0 or -EINVAL when i is out of range. */
int tsr_rtcp_tmmb_entry(const struct tsr_rtcp_tmmb *t, size_t i, uint32_t *ssrc,
                        uint64_t *bitrate_bps, unsigned *overhead);

/* One transport-cc packet status. */
struct tsr_rtcp_twcc_packet {
    uint16_t seq;
    bool received;
    int32_t delta_250us; /* receive delta (×250 µs), valid when received */
};

/* Purpose: decode every packet status of `twcc`. Writes up to `cap` (in sequence
 * order); *n gets the count written. Returns 0, TSR_ERR_FULL if status_count >
 * cap, TSR_ERR_INVALID/TRUNCATED on a body the parser would have rejected. */
int tsr_rtcp_twcc_decode(const struct tsr_rtcp_twcc *twcc, struct tsr_rtcp_twcc_packet *pkts,
                         size_t cap, size_t *n);

/* ---- building ---- */

/* Appends packets into one compound buffer. Each tsr_rtcp_write_* either appends a
 * whole packet or, when it does not fit, returns TSR_ERR_FULL leaving the writer
 * unchanged. Embedded by value; the buffer is borrowed. */
struct tsr_rtcp_writer {
    uint8_t *buf;
    size_t cap;
    size_t len;
};

void tsr_rtcp_writer_init(struct tsr_rtcp_writer *w, uint8_t *buf, size_t cap);

int tsr_rtcp_write_sr(struct tsr_rtcp_writer *w, const struct tsr_rtcp_sr *sr);
int tsr_rtcp_write_rr(struct tsr_rtcp_writer *w, const struct tsr_rtcp_rr *rr);
/* SDES with one chunk holding one CNAME item. -EINVAL when cname is > 255 bytes. */
int tsr_rtcp_write_sdes_cname(struct tsr_rtcp_writer *w, uint32_t ssrc, const char *cname);
int tsr_rtcp_write_bye(struct tsr_rtcp_writer *w, const uint32_t *ssrcs, size_t n);
/* Generic NACK for `seqs` (any order, duplicates allowed), packed into PID/BLP
 * pairs. -EINVAL when n == 0. */
int tsr_rtcp_write_nack(struct tsr_rtcp_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc,
                        const uint16_t *seqs, size_t n);
int tsr_rtcp_write_pli(struct tsr_rtcp_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc);
/* FIR with one entry; the caller keeps the per-media-sender seq_nr (RFC 5104 §4.3.1.1). */
int tsr_rtcp_write_fir(struct tsr_rtcp_writer *w, uint32_t sender_ssrc, uint32_t media_ssrc,
                       uint8_t seq_nr);
/* REMB: bitrate encoded as 18-bit mantissa + 6-bit exponent (rounded down). */
int tsr_rtcp_write_remb(struct tsr_rtcp_writer *w, uint32_t sender_ssrc, uint64_t bitrate_bps,
                        const uint32_t *ssrcs, size_t n);

/* TMMBR (FMT 3, one entry) or TMMBN (FMT 4; n 0 or 1 entry): the bitrate is
 * encoded with a 17-bit mantissa and 6-bit exponent, rounded down; overhead is
 * 0..511. -EINVAL for another FMT, n > 1 or overhead > 511. */
struct tsr_rtcp_tmmb_fci {
    uint32_t ssrc;
    uint64_t bitrate_bps;
    unsigned overhead;
};
int tsr_rtcp_write_tmmb(struct tsr_rtcp_writer *w, unsigned fmt, uint32_t sender_ssrc,
                        const struct tsr_rtcp_tmmb_fci *fci, size_t n);

/* ---- media clock: one per participant, shared by its audio and video outputs ---- */

/* Maps the monotonic clock (µs) to NTP wall-clock time and to RTP time, so every
 * SR of a participant's streams describes the same timeline (lip-sync). Embedded
 * by value; home thread: the participant's net loop (read-only after init). */
struct tsr_media_clock {
    int64_t origin_mono_us; /* monotonic time at init */
    uint64_t origin_ntp;    /* NTP 32.32 at that instant */
};

/* Purpose: anchor the clock: `mono_us` (g_get_monotonic_time()) and `wall_us` (Unix
 * time in µs, g_get_real_time()) read at the same instant. Pure: the caller reads clocks. */
void tsr_media_clock_init(struct tsr_media_clock *c, int64_t mono_us, int64_t wall_us);
/* Purpose: NTP 32.32 timestamp of monotonic time `mono_us`. */
uint64_t tsr_media_clock_ntp(const struct tsr_media_clock *c, int64_t mono_us);
/* Purpose: RTP time of `mono_us` at `clock_rate` Hz, plus `offset_rtp` (mod 2^32). */
uint32_t tsr_media_clock_rtp(const struct tsr_media_clock *c, int64_t mono_us, uint32_t clock_rate,
                             uint32_t offset_rtp);
/* Middle 32 bits of an NTP timestamp (the LSR field). */
static inline uint32_t tsr_rtcp_ntp_mid32(uint64_t ntp)
{
    return (uint32_t)(ntp >> 16);
}

#endif
