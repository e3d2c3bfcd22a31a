/* Small adaptive Opus buffer: reorder by RTP timestamp, play at a target delay
 * that follows the measured jitter, never hold more than max_delay_ms, and name
 * each missing slot so the decoder conceals it (or decodes the FEC in the next). */
#include <tessera/audio_buffer.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/err.h>
#include <tessera/metrics.h>
#include <tessera/rtp.h>
#include <tessera/rtp_codec.h>

#define AB_PAYLOAD_MAX 1500

struct ab_slot {
    bool used;
    int64_t ts; /* unwrapped */
    uint32_t samples;
    uint16_t seq;
    int level;
    bool voice;
    size_t len;
    uint8_t *data; /* AB_PAYLOAD_MAX bytes in payloads: the slots stay small, so the
                    * scans every 20 ms tick touch 2 KiB, not 64 strided payloads */
};

struct tsr_audio_buffer {
    struct tsr_audio_buffer_config cfg;
    struct ab_slot *slots;
    size_t n_slots;
    size_t n_used;
    uint8_t *payloads;
    struct tsr_rtp_unwrapper ts_unwrap;
    bool playing;
    bool played;           /* next_ts is valid: older packets are late even when re-buffering */
    int64_t next_ts;       /* unwrapped timestamp of the next slot to play */
    uint32_t last_samples; /* duration of the last packet, used for lost slots */
    uint16_t last_seq;     /* sequence number of the last slot played */
    bool played_seq;       /* last_seq is valid */
    /* RFC 3550 A.8 jitter, in RTP units */
    bool have_transit;
    int64_t last_transit;
    double jitter;
    struct tsr_audio_buffer_stats st;
};

void tsr_audio_buffer_config_default(struct tsr_audio_buffer_config *c)
{
    c->clock_rate = 48000;
    c->min_delay_ms = 20;
    c->max_delay_ms = 200;
    c->max_packets = 64;
    c->codec = TSR_AUDIO_CODEC_OPUS;
}

int tsr_audio_buffer_new(struct tsr_audio_buffer **out, const struct tsr_audio_buffer_config *cfg)
{
    struct tsr_audio_buffer *ab;
    struct tsr_audio_buffer_config c;

    if (!out)
        return -EINVAL;
    if (cfg)
        c = *cfg;
    else
        tsr_audio_buffer_config_default(&c);
    if (c.clock_rate == 0 || (unsigned)c.codec > TSR_AUDIO_CODEC_G722 || c.max_packets < 4 ||
        c.max_packets > 4096 || c.min_delay_ms < 0 || c.max_delay_ms < c.min_delay_ms ||
        c.max_delay_ms <= 0)
        return -EINVAL;
    ab = calloc(1, sizeof *ab);
    if (!ab)
        return -ENOMEM;
    ab->cfg = c;
    ab->n_slots = c.max_packets;
    ab->slots = calloc(ab->n_slots, sizeof *ab->slots);
    ab->payloads = malloc(ab->n_slots * AB_PAYLOAD_MAX);
    if (!ab->slots || !ab->payloads) {
        free(ab->slots);
        free(ab->payloads);
        free(ab);
        return -ENOMEM;
    }
    for (size_t i = 0; i < ab->n_slots; i++)
        ab->slots[i].data = ab->payloads + i * AB_PAYLOAD_MAX;
    ab->last_samples = c.clock_rate / 50;
    *out = ab;
    return 0;
}

void tsr_audio_buffer_free(struct tsr_audio_buffer **pab)
{
    if (!pab || !*pab)
        return;
    free((*pab)->slots);
    free((*pab)->payloads);
    free(*pab);
    *pab = NULL;
}

static int64_t ms_to_ts(const struct tsr_audio_buffer *ab, int64_t ms)
{
    return ms * (int64_t)ab->cfg.clock_rate / 1000;
}

/* Oldest buffered packet (lowest ts), or NULL. */
static struct ab_slot *oldest(struct tsr_audio_buffer *ab)
{
    struct ab_slot *o = NULL;
    for (size_t i = 0; i < ab->n_slots && ab->n_used; i++)
        if (ab->slots[i].used && (!o || ab->slots[i].ts < o->ts))
            o = &ab->slots[i];
    return o;
}

static struct ab_slot *find_ts(struct tsr_audio_buffer *ab, int64_t ts)
{
    for (size_t i = 0; i < ab->n_slots && ab->n_used; i++)
        if (ab->slots[i].used && ab->slots[i].ts == ts)
            return &ab->slots[i];
    return NULL;
}

/* Span from the play position (or oldest packet) to the end of the newest. */
static int64_t buffered_ts(struct tsr_audio_buffer *ab)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < ab->n_slots && ab->n_used; i++) {
        struct ab_slot *s = &ab->slots[i];
        if (!s->used)
            continue;
        if (s->ts < lo)
            lo = s->ts;
        if (s->ts + s->samples > hi)
            hi = s->ts + s->samples;
    }
    if (hi == INT64_MIN)
        return 0;
    if (ab->playing)
        lo = ab->next_ts;
    return hi > lo ? hi - lo : 0;
}

int64_t tsr_audio_buffer_target_delay_ms(const struct tsr_audio_buffer *ab)
{
    if (!ab)
        return 0;
    /* Three jitter deviations cover ~99% of arrivals for a roughly normal spread;
     * round up to whole 20 ms frames because playout moves in frames. */
    int64_t j_ms = (int64_t)(3.0 * ab->jitter * 1000.0 / ab->cfg.clock_rate + 0.999);
    int64_t t = ((j_ms + 19) / 20) * 20;
    if (t < ab->cfg.min_delay_ms)
        t = ab->cfg.min_delay_ms;
    if (t > ab->cfg.max_delay_ms)
        t = ab->cfg.max_delay_ms;
    return t;
}

int64_t tsr_audio_buffer_buffered_ms(const struct tsr_audio_buffer *ab)
{
    if (!ab)
        return 0;
    return buffered_ts((struct tsr_audio_buffer *)ab) * 1000 / ab->cfg.clock_rate;
}

static void update_jitter(struct tsr_audio_buffer *ab, int64_t ts, int64_t now_us)
{
    int64_t arrival = now_us * (int64_t)ab->cfg.clock_rate / 1000000;
    int64_t transit = arrival - ts;
    if (ab->have_transit) {
        int64_t d = transit - ab->last_transit;
        if (d < 0)
            d = -d;
        ab->jitter += ((double)d - ab->jitter) / 16.0;
    }
    ab->last_transit = transit;
    ab->have_transit = true;
}

/* Keep at most max_delay_ms: drop from the play position forward. */
static void enforce_max(struct tsr_audio_buffer *ab)
{
    int64_t max_ts = ms_to_ts(ab, ab->cfg.max_delay_ms);
    while (buffered_ts(ab) > max_ts) {
        struct ab_slot *o = oldest(ab);
        if (!o)
            return;
        if (ab->playing)
            ab->next_ts = o->ts + o->samples;
        o->used = false;
        ab->n_used--;
        ab->st.overflow++;
        tsr_counter_inc(tsr_metrics_counter("tessera_audio_buffer_overflow_total", NULL,
                                            "Audio packets dropped to bound the delay"));
    }
}

static void count_redundant_used(struct tsr_audio_buffer *ab)
{
    ab->st.redundant_used++;
    tsr_counter_inc(tsr_metrics_counter("tessera_audio_red_frames_used_total", NULL,
                                        "Redundant (RED) audio frames that filled a gap in a "
                                        "participant's audio buffer"));
}

int tsr_audio_buffer_push(struct tsr_audio_buffer *ab, const struct tsr_audio_packet *pkt,
                          int64_t now_us)
{
    if (!ab || !pkt || (!pkt->data && pkt->len_bytes))
        return -EINVAL;
    int samples48 = ab->cfg.codec == TSR_AUDIO_CODEC_OPUS
                        ? tsr_rtp_opus_packet_samples(pkt->data, pkt->len_bytes)
                    : pkt->len_bytes > 0 && pkt->len_bytes <= 960 /* 120 ms */
                        ? (int)(pkt->len_bytes * 48000 / ab->cfg.clock_rate)
                        : TSR_ERR_INVALID;
    if (samples48 < 0 || pkt->len_bytes > AB_PAYLOAD_MAX) {
        tsr_counter_inc(tsr_metrics_counter("tessera_audio_buffer_bad_packets_total", NULL,
                                            "Audio packets rejected (not Opus)"));
        return TSR_ERR_INVALID;
    }
    uint32_t samples = (uint32_t)((int64_t)samples48 * ab->cfg.clock_rate / 48000);
    int64_t ts = tsr_rtp_unwrap_ts(&ab->ts_unwrap, pkt->ts_rtp);
    /* A RED copy of a frame already here or already played is the normal case
     * (every packet repeats the last one), not a late or duplicate packet. */
    if (ab->played && ts < ab->next_ts) {
        ab->st.late += !pkt->redundant;
        return TSR_ERR_AGAIN;
    }
    if (find_ts(ab, ts)) {
        ab->st.duplicates += !pkt->redundant;
        return TSR_ERR_AGAIN;
    }
    /* A copy travels with a later packet: its arrival says nothing about jitter. */
    if (!pkt->redundant)
        update_jitter(ab, ts, now_us);
    else
        count_redundant_used(ab);
    struct ab_slot *s = NULL;
    for (size_t i = 0; i < ab->n_slots && !s; i++)
        if (!ab->slots[i].used)
            s = &ab->slots[i];
    if (!s) { /* full: the oldest goes, as with the delay bound */
        s = oldest(ab);
        if (ab->playing)
            ab->next_ts = s->ts + s->samples;
        ab->st.overflow++;
    }
    if (!s->used)
        ab->n_used++;
    s->used = true;
    s->ts = ts;
    s->samples = samples;
    s->seq = pkt->seq;
    s->level = pkt->level;
    s->voice = pkt->voice;
    s->len = pkt->len_bytes;
    memcpy(s->data, pkt->data, pkt->len_bytes);
    ab->st.packets_in++;
    enforce_max(ab);
    return 0;
}

static enum tsr_audio_buffer_result pop_packet(struct tsr_audio_buffer *ab, struct ab_slot *o,
                                               struct tsr_audio_buffer_out *out)
{
    out->result = TSR_AUDIO_BUFFER_PACKET;
    out->samples = o->samples;
    out->seq = o->seq;
    out->level = o->level;
    out->voice = o->voice;
    out->len = o->len;
    memcpy(out->data, o->data, o->len);
    ab->next_ts += o->samples;
    ab->last_samples = o->samples;
    ab->last_seq = o->seq;
    ab->played_seq = true;
    o->used = false;
    ab->n_used--;
    ab->st.packets_out++;
    return out->result;
}

enum tsr_audio_buffer_result tsr_audio_buffer_pop(struct tsr_audio_buffer *ab, int64_t now_us,
                                                  struct tsr_audio_buffer_out *out)
{
    (void)now_us;
    if (!ab || !out)
        return TSR_AUDIO_BUFFER_EMPTY;
    memset(out, 0, offsetof(struct tsr_audio_buffer_out, data));
    out->len = 0;
    out->fec_available = false;
    out->result = TSR_AUDIO_BUFFER_EMPTY;
    struct ab_slot *o = oldest(ab);
    if (!ab->playing) {
        if (!o || buffered_ts(ab) < ms_to_ts(ab, tsr_audio_buffer_target_delay_ms(ab)))
            return TSR_AUDIO_BUFFER_EMPTY;
        ab->playing = true;
        ab->played = true;
        ab->next_ts = o->ts;
    }
    if (!o) { /* underrun: re-buffer to the target delay before playing again */
        ab->playing = false;
        return TSR_AUDIO_BUFFER_EMPTY;
    }
    /* The next sequence number with a later timestamp: the sender paused (DTX). */
    if (o->ts > ab->next_ts && ab->played_seq && o->seq == (uint16_t)(ab->last_seq + 1))
        ab->next_ts = o->ts;
    /* Timestamps that advance by less than a packet's duration (GStreamer's
     * first Opus packets do) overlap the play position: play the packet now
     * rather than take the negative distance for a gap. */
    if (o->ts < ab->next_ts)
        ab->next_ts = o->ts;
    out->timestamp_rtp = (uint32_t)ab->next_ts;
    if (o->ts == ab->next_ts)
        return pop_packet(ab, o, out);
    /* o->ts > next_ts: the slot is missing. */
    int64_t gap = o->ts - ab->next_ts;
    out->result = TSR_AUDIO_BUFFER_LOST;
    out->seq = (uint16_t)(ab->last_seq + 1);
    if (ab->played_seq)
        ab->last_seq = out->seq;
    out->samples = (uint32_t)(gap < ab->last_samples ? gap : ab->last_samples);
    if (o->ts == ab->next_ts + out->samples) {
        out->fec_available = true; /* the next packet can carry FEC for this slot */
        out->len = o->len;
        memcpy(out->data, o->data, o->len);
    }
    ab->next_ts += out->samples;
    ab->st.lost++;
    tsr_counter_inc(tsr_metrics_counter("tessera_audio_buffer_lost_total", NULL,
                                        "Audio slots reported lost to the decoder"));
    return out->result;
}

void tsr_audio_buffer_get_stats(const struct tsr_audio_buffer *ab,
                                struct tsr_audio_buffer_stats *out)
{
    if (ab && out)
        *out = ab->st;
}
