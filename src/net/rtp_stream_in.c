/* Receiver statistics for RTCP receiver reports (RFC 3550 §6.4.1, A.3, A.8). */
#include <tessera/rtp_stream_in.h>

#include <string.h>

#include <tessera/err.h>

void tsr_rtp_stream_in_init(struct tsr_rtp_stream_in *s, uint32_t ssrc, uint32_t clock_rate)
{
    memset(s, 0, sizeof *s);
    s->ssrc = ssrc;
    s->clock_rate = clock_rate ? clock_rate : 90000;
    tsr_rtp_unwrapper_init(&s->seq_unwrap);
}

void tsr_rtp_stream_in_update(struct tsr_rtp_stream_in *s, uint16_t seq, uint32_t timestamp_rtp,
                              int64_t arrival_us)
{
    int64_t ext = tsr_rtp_unwrap_seq(&s->seq_unwrap, seq);
    if (!s->started) {
        s->started = true;
        s->base_seq = ext;
        s->max_seq = ext;
    } else if (ext > s->max_seq) {
        s->max_seq = ext;
    }
    s->received++;
    /* Interarrival jitter: J += (|D| − J)/16 with D the transit-time difference.
     * The arrival clock is converted to RTP units; only differences matter. */
    int64_t arrival_rtp = arrival_us * (int64_t)s->clock_rate / 1000000;
    int64_t transit = arrival_rtp - (int64_t)timestamp_rtp;
    if (s->have_transit) {
        int64_t d = transit - s->last_transit;
        /* a timestamp wrap shows as a ±2^32 jump; fold it back */
        d = (int64_t)(int32_t)(uint32_t)d;
        if (d < 0)
            d = -d;
        s->jitter += ((double)d - s->jitter) / 16.0;
    }
    s->last_transit = transit;
    s->have_transit = true;
}

void tsr_rtp_stream_in_on_sr(struct tsr_rtp_stream_in *s, const struct tsr_rtcp_sr *sr,
                             int64_t arrival_us)
{
    s->last_sr_mid = tsr_rtcp_ntp_mid32(sr->ntp);
    s->last_sr_arrival_us = arrival_us;
    s->last_sr_ntp = sr->ntp;
    s->last_sr_rtp = sr->timestamp_rtp;
    s->have_sr = true;
}

int tsr_rtp_stream_in_report(struct tsr_rtp_stream_in *s, int64_t now_us,
                             struct tsr_rtcp_report_block *out)
{
    if (!s->started)
        return TSR_ERR_STATE;
    /* The unwrapper starts one cycle up; report cycles relative to the first packet. */
    uint64_t expected = (uint64_t)(s->max_seq - s->base_seq + 1);
    int64_t lost = (int64_t)expected - (int64_t)s->received;
    uint64_t exp_int = expected - s->expected_prior;
    uint64_t rec_int = s->received - s->received_prior;
    int64_t lost_int = (int64_t)exp_int - (int64_t)rec_int;
    s->expected_prior = expected;
    s->received_prior = s->received;

    memset(out, 0, sizeof *out);
    out->ssrc = s->ssrc;
    out->fraction_lost =
        (exp_int == 0 || lost_int <= 0) ? 0 : (uint8_t)((lost_int << 8) / (int64_t)exp_int);
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    out->cumulative_lost = (int32_t)lost;
    int64_t ext_max = s->max_seq - 65536; /* undo the unwrapper's one-cycle head start */
    out->ext_highest_seq = (uint32_t)ext_max;
    out->jitter_rtp = (uint32_t)s->jitter;
    if (s->have_sr) {
        out->lsr = s->last_sr_mid;
        int64_t d = now_us - s->last_sr_arrival_us;
        out->dlsr = d > 0 ? (uint32_t)((d * 65536) / 1000000) : 0;
    }
    return 0;
}
