/* Receiver statistics of one incoming RTP stream (RFC 3550 §6.4.1, A.3, A.8):
 * extended highest sequence, cumulative and fraction lost, interarrival jitter,
 * LSR/DLSR from the sender's last SR; produces receiver-report blocks.
 * Time is passed in (monotonic µs). Embedded by value; home thread: the
 * participant's net loop. Pure. */
#ifndef TESSERA_RTP_STREAM_IN_H
#define TESSERA_RTP_STREAM_IN_H

#include <stdbool.h>
#include <stdint.h>

#include <tessera/rtcp.h>
#include <tessera/rtp.h>

struct tsr_rtp_stream_in {
    uint32_t ssrc;
    uint32_t clock_rate;
    bool started;
    struct tsr_rtp_unwrapper seq_unwrap;
    int64_t base_seq; /* first extended seq */
    int64_t max_seq;  /* highest extended seq */
    uint64_t received;
    uint64_t expected_prior;
    uint64_t received_prior;
    double jitter; /* RTP units, RFC 3550 A.8 */
    int64_t last_transit;
    bool have_transit;
    uint32_t last_sr_mid; /* LSR */
    int64_t last_sr_arrival_us;
    bool have_sr;
    uint64_t last_sr_ntp;
    uint32_t last_sr_rtp;
};

/* Purpose: reset for source `ssrc` at `clock_rate` Hz. */
void tsr_rtp_stream_in_init(struct tsr_rtp_stream_in *s, uint32_t ssrc, uint32_t clock_rate);
/* Purpose: account one received packet (arrival on the monotonic clock). */
void tsr_rtp_stream_in_update(struct tsr_rtp_stream_in *s, uint16_t seq, uint32_t timestamp_rtp,
                              int64_t arrival_us);
/* Purpose: remember the sender's SR for LSR/DLSR and lip-sync (NTP↔RTP of the sender). */
void tsr_rtp_stream_in_on_sr(struct tsr_rtp_stream_in *s, const struct tsr_rtcp_sr *sr,
                             int64_t arrival_us);
/* Purpose: fill a report block for now and start a new fraction-lost interval.
 * Returns 0, TSR_ERR_STATE when nothing was received yet. */
int tsr_rtp_stream_in_report(struct tsr_rtp_stream_in *s, int64_t now_us,
                             struct tsr_rtcp_report_block *out);

#endif
