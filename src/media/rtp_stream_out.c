/* Outgoing RTP stream: per-subscriber header over shared payloads, retransmission
 * history (references, not copies), sender report numbers. */
#include <tessera/rtp_stream_out.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/err.h>
#include <tessera/metrics.h>
#include <tessera/rtp.h>
#include <tessera/rtp_red.h>

/* Bytes a RED payload leaves in the caller's buffer for the RTP header and its
 * extensions (12 + at most 64). */
#define RED_HEADER_ROOM 76

struct hist_ent {
    bool used;
    uint16_t seq;
    uint32_t ts;
    bool marker;
    int64_t sent_us;
    struct tsr_rtp_packetized *pkts;
    size_t index;
};

struct tsr_rtp_stream_out {
    struct tsr_rtp_stream_out_config cfg;
    const struct tsr_media_clock *clock;
    uint16_t seq, rtx_seq;
    bool sent_any;
    uint32_t last_ts;
    struct hist_ent *hist;
    size_t n_hist;
    struct tsr_rtp_stream_out_stats st;
    struct tsr_counter *c_nack_miss;
};

int tsr_rtp_stream_out_new(struct tsr_rtp_stream_out **out,
                           const struct tsr_rtp_stream_out_config *cfg,
                           const struct tsr_media_clock *clock)
{
    struct tsr_rtp_stream_out *s;
    if (!out || !cfg || !clock || cfg->payload_type > 127 || cfg->rtx_payload_type > 127 ||
        cfg->red_payload_type > 127 || cfg->red_distance > TSR_RTP_STREAM_OUT_MAX_RED_DISTANCE ||
        cfg->clock_rate == 0 || cfg->ext_mid_id > 14 || cfg->ext_abs_send_time_id > 14 ||
        cfg->ext_transport_cc_id > 14 || cfg->ext_audio_level_id > 14 ||
        (cfg->ext_mid_id && (cfg->mid[0] == '\0' || strnlen(cfg->mid, sizeof cfg->mid) > 16)))
        return -EINVAL;
    s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->cfg = *cfg;
    s->cfg.mid[sizeof s->cfg.mid - 1] = '\0';
    if (!s->cfg.history_packets)
        s->cfg.history_packets = 512;
    if (!s->cfg.history_max_age_ms)
        s->cfg.history_max_age_ms = 1000;
    s->clock = clock;
    s->seq = cfg->first_seq;
    s->rtx_seq = cfg->rtx_first_seq;
    s->st.packets_sent = cfg->carried_packets;
    s->st.octets_sent = cfg->carried_octets;
    s->sent_any = cfg->carried_packets > 0;
    s->n_hist = s->cfg.history_packets;
    s->hist = calloc(s->n_hist, sizeof *s->hist);
    if (!s->hist) {
        free(s);
        return -ENOMEM;
    }
    s->c_nack_miss = tsr_metrics_counter("tessera_rtx_misses_total", NULL,
                                         "NACKed packets no longer in the retransmission buffer");
    *out = s;
    return 0;
}

void tsr_rtp_stream_out_free(struct tsr_rtp_stream_out **ps)
{
    if (!ps || !*ps)
        return;
    struct tsr_rtp_stream_out *s = *ps;
    for (size_t i = 0; i < s->n_hist; i++)
        tsr_rtp_packetized_unref(&s->hist[i].pkts);
    free(s->hist);
    free(s);
    *ps = NULL;
}

uint32_t tsr_rtp_stream_out_timestamp(const struct tsr_rtp_stream_out *s, int64_t capture_us)
{
    return tsr_media_clock_rtp(s->clock, capture_us, s->cfg.clock_rate, s->cfg.timestamp_offset);
}

uint32_t tsr_rtp_stream_out_ssrc(const struct tsr_rtp_stream_out *s)
{
    return s->cfg.ssrc;
}

uint16_t tsr_rtp_stream_out_next_seq(const struct tsr_rtp_stream_out *s)
{
    return s->seq;
}

struct pkt_desc {
    uint32_t ssrc;
    uint8_t pt;
    uint16_t seq;
    uint32_t ts;
    bool marker;
    const uint8_t *prefix; /* RTX: original sequence number */
    size_t prefix_len;
    const uint8_t *payload;
    size_t payload_len;
};

/* Header + configured extensions + payload into buf. Nothing changes on failure. */
static int build(const struct tsr_rtp_stream_out *s, const struct pkt_desc *d,
                 const struct tsr_rtp_send_opts *o, uint8_t *buf, size_t cap, size_t *len)
{
    struct tsr_rtp_ext_elem el[4];
    uint8_t ext[64], abs[3], twcc[2], level;
    size_t n = 0, ext_len = 0, hlen;
    struct tsr_rtp_header h = {0};

    if (s->cfg.ext_mid_id)
        el[n++] = (struct tsr_rtp_ext_elem){s->cfg.ext_mid_id, (uint8_t)strlen(s->cfg.mid),
                                            (const uint8_t *)s->cfg.mid};
    if (s->cfg.ext_abs_send_time_id && o) {
        tsr_rtp_ext_encode_abs_send_time(tsr_rtp_abs_send_time_from_us(o->now_us), abs);
        el[n++] = (struct tsr_rtp_ext_elem){s->cfg.ext_abs_send_time_id, 3, abs};
    }
    if (s->cfg.ext_transport_cc_id && o && o->transport_cc_seq >= 0) {
        twcc[0] = (uint8_t)(o->transport_cc_seq >> 8);
        twcc[1] = (uint8_t)o->transport_cc_seq;
        el[n++] = (struct tsr_rtp_ext_elem){s->cfg.ext_transport_cc_id, 2, twcc};
    }
    if (s->cfg.ext_audio_level_id && o && o->audio_level_dbov >= 0) {
        level = (uint8_t)((o->voice_activity ? 0x80 : 0) | (o->audio_level_dbov & 0x7f));
        el[n++] = (struct tsr_rtp_ext_elem){s->cfg.ext_audio_level_id, 1, &level};
    }
    h.payload_type = d->pt;
    h.marker = d->marker;
    h.seq = d->seq;
    h.timestamp_rtp = d->ts;
    h.ssrc = d->ssrc;
    if (n) {
        int rc = tsr_rtp_ext_write(el, n, ext, sizeof ext, &h.ext_profile, &ext_len);
        if (rc < 0)
            return rc;
        h.extension = true;
        h.ext_data = ext;
        h.ext_bytes = ext_len;
    }
    int rc = tsr_rtp_write_header(&h, buf, cap, &hlen);
    if (rc < 0)
        return rc;
    if (cap - hlen < d->prefix_len + d->payload_len)
        return TSR_ERR_FULL;
    if (d->prefix_len) /* memcpy from NULL is undefined even for 0 bytes */
        memcpy(buf + hlen, d->prefix, d->prefix_len);
    memcpy(buf + hlen + d->prefix_len, d->payload, d->payload_len);
    *len = hlen + d->prefix_len + d->payload_len;
    return 0;
}

/* d's payload, to be sent as `seq`, becomes RED's primary block after copies of
 * the payloads sent as the red_distance sequence numbers before it, oldest first
 * (bytes in buf). A copy RED cannot carry (offset or length past its field, not
 * in the history any more) is left out, and so are the oldest copies when the
 * packet would not fit. Nothing changes on failure. */
static int wrap_red(const struct tsr_rtp_stream_out *s, uint16_t seq, struct pkt_desc *d,
                    uint8_t *buf, size_t cap)
{
    struct tsr_rtp_red_block b[TSR_RTP_STREAM_OUT_MAX_RED_DISTANCE + 1];
    size_t n = 0;
    unsigned distance = s->cfg.red_distance ? s->cfg.red_distance : 1;
    for (unsigned k = distance; k >= 1; k--) {
        uint16_t prev = (uint16_t)(seq - k);
        const struct hist_ent *e = &s->hist[prev % s->n_hist];
        const uint8_t *data = NULL;
        size_t len = 0;
        uint32_t offset = d->ts - e->ts;
        if (!e->used || e->seq != prev || offset == 0 || offset > TSR_RTP_RED_MAX_TS_OFFSET ||
            tsr_rtp_packetized_get(e->pkts, e->index, &data, &len, NULL) < 0 || len == 0 ||
            len > TSR_RTP_RED_MAX_BLOCK_BYTES)
            continue;
        b[n++] = (struct tsr_rtp_red_block){
            .pt = s->cfg.payload_type, .ts_offset = (uint16_t)offset, .data = data, .len = len};
    }
    b[n++] = (struct tsr_rtp_red_block){
        .pt = s->cfg.payload_type, .data = d->payload, .len = d->payload_len};
    size_t room = cap > RED_HEADER_ROOM ? cap - RED_HEADER_ROOM : 0, first = 0, len = 0;
    int rc;
    while ((rc = tsr_rtp_red_write(b + first, n - first, buf, room, &len)) == TSR_ERR_FULL &&
           first + 1 < n)
        first++;
    if (rc < 0)
        return rc;
    d->pt = s->cfg.red_payload_type;
    d->payload = buf;
    d->payload_len = len;
    return 0;
}

int tsr_rtp_stream_out_set_red(struct tsr_rtp_stream_out *s, uint8_t red_payload_type,
                               uint8_t red_distance)
{
    if (!s || red_payload_type > 127 || red_distance > TSR_RTP_STREAM_OUT_MAX_RED_DISTANCE)
        return -EINVAL;
    s->cfg.red_payload_type = red_payload_type;
    s->cfg.red_distance = red_distance;
    return 0;
}

int tsr_rtp_stream_out_write(struct tsr_rtp_stream_out *s, struct tsr_rtp_packetized *pkts,
                             size_t index, const struct tsr_rtp_send_opts *opts, uint8_t *buf,
                             size_t cap, size_t *len)
{
    struct pkt_desc d = {0};
    if (!s || !pkts || !buf || !len)
        return -EINVAL;
    int rc = tsr_rtp_packetized_get(pkts, index, &d.payload, &d.payload_len, &d.marker);
    if (rc < 0)
        return rc;
    d.ssrc = s->cfg.ssrc;
    d.pt = s->cfg.payload_type;
    d.seq = s->seq;
    d.ts = tsr_rtp_stream_out_timestamp(s, tsr_rtp_packetized_capture_us(pkts));
    uint8_t red[1500];
    if (s->cfg.red_payload_type && (rc = wrap_red(s, d.seq, &d, red, MIN(cap, sizeof red))) < 0)
        return rc;
    rc = build(s, &d, opts, buf, cap, len);
    if (rc < 0)
        return rc;
    struct hist_ent *e = &s->hist[d.seq % s->n_hist];
    tsr_rtp_packetized_unref(&e->pkts);
    e->used = true;
    e->seq = d.seq;
    e->ts = d.ts;
    e->marker = d.marker;
    e->sent_us = opts ? opts->now_us : 0;
    e->pkts = tsr_rtp_packetized_ref(pkts);
    e->index = index;
    s->seq++;
    s->sent_any = true;
    s->last_ts = d.ts;
    s->st.packets_sent++;
    s->st.octets_sent += d.payload_len;
    return 0;
}

int tsr_rtp_stream_out_retransmit(struct tsr_rtp_stream_out *s, uint16_t seq,
                                  const struct tsr_rtp_send_opts *opts, uint8_t *buf, size_t cap,
                                  size_t *len)
{
    struct pkt_desc d = {0};
    uint8_t osn[2] = {(uint8_t)(seq >> 8), (uint8_t)seq};
    if (!s || !buf || !len)
        return -EINVAL;
    struct hist_ent *e = &s->hist[seq % s->n_hist];
    if (!e->used || e->seq != seq ||
        (opts && opts->now_us - e->sent_us > s->cfg.history_max_age_ms * 1000)) {
        s->st.nack_misses++;
        tsr_counter_inc(s->c_nack_miss);
        return TSR_ERR_NOT_FOUND;
    }
    int rc = tsr_rtp_packetized_get(e->pkts, e->index, &d.payload, &d.payload_len, NULL);
    if (rc < 0)
        return rc;
    d.ts = e->ts;
    d.marker = e->marker;
    d.pt = s->cfg.payload_type;
    uint8_t red[1500];
    if (s->cfg.red_payload_type && (rc = wrap_red(s, seq, &d, red, MIN(cap, sizeof red))) < 0)
        return rc;
    if (s->cfg.rtx_payload_type) { /* RFC 4588 §4: OSN then the original payload */
        d.ssrc = s->cfg.rtx_ssrc;
        d.pt = s->cfg.rtx_payload_type;
        d.seq = s->rtx_seq;
        d.prefix = osn;
        d.prefix_len = 2;
    } else {
        d.ssrc = s->cfg.ssrc;
        d.seq = seq;
    }
    rc = build(s, &d, opts, buf, cap, len);
    if (rc < 0)
        return rc;
    if (s->cfg.rtx_payload_type)
        s->rtx_seq++;
    s->st.retransmitted++;
    return 0;
}

int tsr_rtp_stream_out_fill_sr(const struct tsr_rtp_stream_out *s, int64_t now_us,
                               struct tsr_rtcp_sr *sr)
{
    if (!s || !sr)
        return -EINVAL;
    if (!s->sent_any)
        return TSR_ERR_STATE;
    memset(sr, 0, sizeof *sr);
    sr->ssrc = s->cfg.ssrc;
    sr->ntp = tsr_media_clock_ntp(s->clock, now_us);
    sr->timestamp_rtp = tsr_rtp_stream_out_timestamp(s, now_us);
    sr->packet_count = (uint32_t)s->st.packets_sent;
    sr->octet_count = (uint32_t)s->st.octets_sent;
    return 0;
}

void tsr_rtp_stream_out_get_stats(const struct tsr_rtp_stream_out *s,
                                  struct tsr_rtp_stream_out_stats *out)
{
    if (s && out)
        *out = s->st;
}
