/* The peer's send side: outgoing stream state, RTCP reports (SR, RR, SDES,
 * REMB) and NACK answers. Home thread: the peer's net loop. */
#include "media_peer_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <stdlib.h>
#include <string.h>

static void stream_config(struct tsr_media_peer *p, const struct tsr_sdp_mline *m, uint32_t ssrc,
                          uint32_t clock_rate, struct tsr_rtp_stream_out_config *out)
{
    struct tsr_rtp_stream_out_config c;
    memset(&c, 0, sizeof c);
    c.ssrc = ssrc;
    c.payload_type = (uint8_t)m->pt;
    c.clock_rate = clock_rate;
    c.timestamp_offset = g_random_int();
    c.first_seq = (uint16_t)g_random_int_range(0, 0x8000);
    if (m->ext_mid_id > 0 && m->ext_mid_id <= 14) {
        c.ext_mid_id = (uint8_t)m->ext_mid_id;
        g_strlcpy(c.mid, m->mid, sizeof c.mid);
    }
    if (m->kind == TSR_SDP_MEDIA_KIND_AUDIO && m->red_pt > 0 && p->audio_red_distance) {
        c.red_payload_type = (uint8_t)m->red_pt;
        c.red_distance = p->audio_red_distance;
    }
    *out = c;
}

static int make_stream(struct tsr_media_peer *p, const struct tsr_sdp_mline *m, uint32_t ssrc,
                       uint32_t clock_rate, struct tsr_rtp_stream_out **out)
{
    struct tsr_rtp_stream_out_config c;
    stream_config(p, m, ssrc, clock_rate, &c);
    return tsr_rtp_stream_out_new(out, &c, &p->clock);
}

/* A stream for line m that carries on from `old` (same SSRC): its sequence numbers
 * follow on (an SRTP context keyed for the SSRC must never see an index again)
 * and its timestamps continue from where the old clock stands now. */
static int follow_stream(struct tsr_media_peer *p, const struct tsr_sdp_mline *m,
                         const struct tsr_rtp_stream_out *old, uint32_t clock_rate,
                         struct tsr_rtp_stream_out **out)
{
    struct tsr_rtp_stream_out_config c;
    stream_config(p, m, tsr_rtp_stream_out_ssrc(old), clock_rate, &c);
    c.first_seq = tsr_rtp_stream_out_next_seq(old);
    c.timestamp_offset = 0;
    struct tsr_rtp_stream_out_stats st;
    tsr_rtp_stream_out_get_stats(old, &st);
    c.carried_packets = st.packets_sent;
    c.carried_octets = st.octets_sent;
    struct tsr_rtp_stream_out *probe = NULL;
    int rc = tsr_rtp_stream_out_new(&probe, &c, &p->clock);
    if (rc)
        return rc;
    int64_t now = g_get_monotonic_time();
    c.timestamp_offset =
        tsr_rtp_stream_out_timestamp(old, now) - tsr_rtp_stream_out_timestamp(probe, now);
    tsr_rtp_stream_out_free(&probe);
    return tsr_rtp_stream_out_new(out, &c, &p->clock);
}

int tsr_media_peer_tx_setup(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg,
                            uint32_t audio_ssrc, uint32_t video_ssrc)
{
    int rc = 0;
    if (neg->audio_index >= 0)
        rc = make_stream(p, &neg->mlines[neg->audio_index], audio_ssrc,
                         neg->mlines[neg->audio_index].clock_rate == 8000 ? 8000 : 48000,
                         &p->tx_audio);
    if (rc == 0 && neg->video_index >= 0)
        rc = make_stream(p, &neg->mlines[neg->video_index], video_ssrc, 90000, &p->tx_video);
    return rc;
}

/* One medium's outgoing stream after a re-offer: made, remade or dropped. */
static int restream(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg, int index,
                    bool had, int old_pt, uint32_t clock_rate, uint32_t ssrc,
                    struct tsr_rtp_stream_out **s)
{
    if (index < 0) {
        tsr_rtp_stream_out_free(s);
        return 0;
    }
    const struct tsr_sdp_mline *m = &neg->mlines[index];
    if (had && *s && m->pt == old_pt)
        return 0;
    struct tsr_rtp_stream_out *fresh = NULL;
    int rc = *s ? follow_stream(p, m, *s, clock_rate, &fresh)
                : make_stream(p, m, ssrc, clock_rate, &fresh);
    if (rc)
        return rc;
    tsr_rtp_stream_out_free(s);
    *s = fresh;
    return 0;
}

int tsr_media_peer_tx_recodec(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg,
                              uint32_t audio_ssrc, uint32_t video_ssrc)
{
    uint32_t audio_clock =
        neg->audio_index >= 0 && neg->mlines[neg->audio_index].clock_rate == 8000 ? 8000 : 48000;
    int rc = restream(p, neg, neg->audio_index, p->has_audio, p->rx_audio.pt, audio_clock,
                      audio_ssrc, &p->tx_audio);
    if (rc == 0)
        rc = restream(p, neg, neg->video_index, p->has_video, p->rx_video.pt, 90000, video_ssrc,
                      &p->tx_video);
    return rc;
}

void tsr_media_peer_send_rtcp(struct tsr_media_peer *p, const uint8_t *buf, size_t len)
{
    if (p->parent) /* a slides receiver has no transport of its own */
        p = p->parent;
    if (tsr_media_peer_transport_up(p))
        tsr_media_peer_transport_send_rtcp(p, buf, len);
}

/* Receiver-report blocks for what we receive from the participant. */
static uint8_t fill_report_blocks(struct tsr_media_peer *p, int64_t now_us,
                                  struct tsr_rtcp_report_block *blocks)
{
    uint8_t n = 0;
    struct peer_rx *rxs[3] = {&p->rx_audio, &p->rx_video, p->slides ? &p->slides->rx_video : NULL};
    for (int i = 0; i < 3; i++) {
        if (rxs[i] && rxs[i]->started &&
            tsr_rtp_stream_in_report(&rxs[i]->stats, now_us, &blocks[n]) == 0)
            n++;
    }
    return n;
}

#define TMMBR_REPEAT_US (5 * G_USEC_PER_SEC)

/* A SIP caller that negotiated `ccm tmmbr` is asked again when the bitrate its
 * tile needs changes by a tenth, and every few seconds (a TMMBR may be lost). */
static bool tmmbr_due(const struct tsr_media_peer *p, int kbps, int64_t now_us)
{
    if (!p->rx_video_tmmbr)
        return false;
    int diff = abs(kbps - p->tmmbr_sent_kbps);
    return p->tmmbr_sent_kbps == 0 || diff * 10 > p->tmmbr_sent_kbps ||
           now_us - p->tmmbr_sent_us >= TMMBR_REPEAT_US;
}

static void write_tmmbr(struct tsr_media_peer *p, struct tsr_rtcp_writer *w, uint32_t me, int kbps,
                        int64_t now_us)
{
    /* Overhead: IPv4 + UDP + RTP headers, what RFC 5104 §4.2.1.2 counts. */
    struct tsr_rtcp_tmmb_fci fci = {
        .ssrc = p->rx_video.ssrc, .bitrate_bps = (uint64_t)kbps * 1000, .overhead = 40};
    if (tsr_rtcp_write_tmmb(w, 3, me, &fci, 1) != 0)
        return;
    p->tmmbr_sent_kbps = kbps;
    p->tmmbr_sent_us = now_us;
    tsr_counter_inc(tsr_metrics_counter("tessera_rtcp_tmmbr_sent_total", NULL,
                                        "TMMBR requests sent to SIP callers for their video."));
}

/* One SR per stream we have sent on (the first carries the report blocks), else
 * an RR; then SDES CNAME; then REMB asking the camera for its tile's bitrate. */
void tsr_media_peer_send_reports(struct tsr_media_peer *p, int64_t now_us)
{
    uint8_t buf[1200];
    struct tsr_rtcp_writer w;
    tsr_rtcp_writer_init(&w, buf, sizeof buf);
    struct tsr_rtcp_report_block blocks[3];
    uint8_t nb = fill_report_blocks(p, now_us, blocks);
    struct tsr_rtp_stream_out *outs[2] = {p->tx_video, p->tx_audio};
    bool wrote_sr = false;
    uint32_t me = p->tx_video   ? tsr_rtp_stream_out_ssrc(p->tx_video)
                  : p->tx_audio ? tsr_rtp_stream_out_ssrc(p->tx_audio)
                                : 1;
    for (int i = 0; i < 2; i++) {
        struct tsr_rtcp_sr sr;
        if (!outs[i] || tsr_rtp_stream_out_fill_sr(outs[i], now_us, &sr) != 0)
            continue;
        if (!wrote_sr) {
            memcpy(sr.reports, blocks, sizeof blocks[0] * nb);
            sr.n_reports = nb;
        }
        tsr_rtcp_write_sr(&w, &sr);
        wrote_sr = true;
    }
    if (!wrote_sr) {
        struct tsr_rtcp_rr rr = {.ssrc = me, .n_reports = nb};
        memcpy(rr.reports, blocks, sizeof blocks[0] * nb);
        tsr_rtcp_write_rr(&w, &rr);
    }
    char cname[32];
    g_snprintf(cname, sizeof cname, "tessera-%08x", p->id);
    tsr_rtcp_write_sdes_cname(&w, me, cname);
    int64_t hint_kbps = g_atomic_int_get(&p->send_hint_kbps);
    uint32_t remb_ssrcs[2] = {p->rx_video.ssrc, 0};
    unsigned n_remb = 1;
    /* The browser caps everything it sends at the REMB: slides being sent on the
     * same transport need their own share on top of the camera's. */
    if (p->slides && p->slides->rx_video.started && g_atomic_int_get(&p->slides_sending)) {
        hint_kbps += g_atomic_int_get(&p->slides->send_hint_kbps);
        remb_ssrcs[n_remb++] = p->slides->rx_video.ssrc;
    }
    if (hint_kbps > 0 && p->rx_video.started && !p->plain)
        tsr_rtcp_write_remb(&w, me, (uint64_t)hint_kbps * 1000, remb_ssrcs, n_remb);
    else if (hint_kbps > 0 && p->rx_video.started && tmmbr_due(p, (int)hint_kbps, now_us))
        write_tmmbr(p, &w, me, (int)hint_kbps, now_us);
    tsr_media_peer_send_rtcp(p, buf, w.len);
}

void tsr_media_peer_answer_nack(struct tsr_media_peer *p, const struct tsr_rtcp_nack *nack,
                                int64_t now_us)
{
    struct tsr_rtp_stream_out *out = NULL;
    if (p->tx_video && nack->media_ssrc == tsr_rtp_stream_out_ssrc(p->tx_video))
        out = p->tx_video;
    else if (p->tx_audio && nack->media_ssrc == tsr_rtp_stream_out_ssrc(p->tx_audio))
        out = p->tx_audio;
    if (!out)
        return;
    uint16_t seqs[128];
    size_t n = 0;
    tsr_rtcp_nack_seqs(nack, seqs, G_N_ELEMENTS(seqs), &n);
    struct tsr_rtp_send_opts opts = {
        .now_us = now_us, .transport_cc_seq = -1, .audio_level_dbov = -1};
    uint8_t buf[1500];
    for (size_t i = 0; i < n; i++) {
        size_t len = 0;
        if (tsr_rtp_stream_out_retransmit(out, seqs[i], &opts, buf, sizeof buf, &len) == 0)
            tsr_media_peer_transport_send_rtp(p, buf, len);
    }
    tsr_counter_add(tsr_metrics_counter("tessera_nacks_received_total", NULL,
                                        "Sequence numbers NACKed by receivers."),
                    n);
}
