/* Video jitter buffer: reorder, assemble frames by timestamp + marker, NACK gaps,
 * drop what cannot complete in time and ask for a keyframe instead.
 *
 * Packets live in a ring indexed by unwrapped sequence number (capacity a power
 * of two ≥ max_packets). Payload storage per slot is allocated on first use and
 * reused, so the steady state does no allocation per packet. `low` is the oldest
 * sequence number still of interest: everything below it was emitted or given up. */
#include <tessera/jitter_buffer.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

struct slot {
    bool used;
    bool marker, frame_start, keyframe;
    int64_t seq; /* unwrapped */
    uint32_t ts;
    int64_t arrival_us;
    uint8_t *data;
    size_t len, cap;
};

struct nack_ent {
    int64_t seq;
    int64_t missing_since_us;
    int64_t last_sent_us;
    int retries;
};

struct tsr_jitter_buffer {
    const struct tsr_rtp_codec *codec;
    struct tsr_jitter_buffer_config cfg;
    struct tsr_rtp_depacketizer *depay;
    struct slot *slots;
    size_t cap; /* power of two */
    struct tsr_rtp_unwrapper seq_unwrap, ts_unwrap;
    bool started;
    int64_t low, high; /* seq range [low, high] that may hold packets */
    bool have_next;    /* something was emitted or given up: packets below low are late */
    bool next_exact;   /* low directly follows the last emitted frame's last packet */
    bool waiting_keyframe;
    /* keyframe requests */
    bool kf_pending;
    int64_t kf_last_us;
    int kf_sent;
    /* NACK list */
    struct nack_ent *nacks;
    size_t n_nacks;
    /* scratch for depacketizing */
    const uint8_t **pl;
    size_t *pl_len;
    struct tsr_jitter_buffer_stats st;
};

void tsr_jitter_buffer_config_default(struct tsr_jitter_buffer_config *c)
{
    c->max_delay_ms = 200;
    c->nack_max_retries = 5;
    c->nack_interval_ms = 50;
    c->pli_interval_ms = 300;
    c->pli_before_fir = 3;
    c->max_packets = 1024;
}

int tsr_jitter_buffer_new(struct tsr_jitter_buffer **out, const struct tsr_rtp_codec *codec,
                          const struct tsr_jitter_buffer_config *cfg)
{
    struct tsr_jitter_buffer *jb = NULL;
    int rc = -ENOMEM;

    if (!out || !codec || !codec->video)
        return -EINVAL;
    jb = calloc(1, sizeof *jb);
    if (!jb)
        goto fail;
    jb->codec = codec;
    if (cfg)
        jb->cfg = *cfg;
    else
        tsr_jitter_buffer_config_default(&jb->cfg);
    if (jb->cfg.max_packets < 16 || jb->cfg.max_packets > 65536 / 2 || jb->cfg.max_delay_ms <= 0) {
        rc = -EINVAL;
        goto fail;
    }
    jb->cap = 16;
    while (jb->cap < jb->cfg.max_packets)
        jb->cap *= 2;
    jb->slots = calloc(jb->cap, sizeof *jb->slots);
    jb->nacks = calloc(jb->cap, sizeof *jb->nacks);
    jb->pl = calloc(jb->cap, sizeof *jb->pl);
    jb->pl_len = calloc(jb->cap, sizeof *jb->pl_len);
    if (!jb->slots || !jb->nacks || !jb->pl || !jb->pl_len)
        goto fail;
    rc = tsr_rtp_depacketizer_new(&jb->depay, codec);
    if (rc < 0)
        goto fail;
    jb->waiting_keyframe = true; /* a decoder must start on a keyframe */
    *out = jb;
    return 0;
fail:
    tsr_jitter_buffer_free(&jb);
    return rc;
}

void tsr_jitter_buffer_free(struct tsr_jitter_buffer **pjb)
{
    if (!pjb || !*pjb)
        return;
    struct tsr_jitter_buffer *jb = *pjb;
    if (jb->slots)
        for (size_t i = 0; i < jb->cap; i++)
            free(jb->slots[i].data);
    free(jb->slots);
    free(jb->nacks);
    free(jb->pl);
    free(jb->pl_len);
    tsr_rtp_depacketizer_free(&jb->depay);
    free(jb);
    *pjb = NULL;
}

static struct slot *slot_at(struct tsr_jitter_buffer *jb, int64_t seq)
{
    struct slot *s = &jb->slots[(size_t)seq & (jb->cap - 1)];
    return s->used && s->seq == seq ? s : NULL;
}

static void raise_keyframe(struct tsr_jitter_buffer *jb)
{
    jb->waiting_keyframe = true;
    if (!jb->kf_pending) {
        jb->kf_pending = true;
        jb->kf_sent = 0;
    }
}

static void count_drop(struct tsr_jitter_buffer *jb)
{
    jb->st.frames_dropped++;
    tsr_counter_inc(tsr_metrics_counter("tessera_jitter_frames_dropped_total", NULL,
                                        "Video frames dropped before the decoder"));
}

/* Forget packets [low, upto] and move low past them. `exact`: upto ended an
 * emitted frame, so the packet after it begins the next one. */
static void release_upto(struct tsr_jitter_buffer *jb, int64_t upto, bool exact)
{
    for (int64_t s = jb->low; s <= upto; s++) {
        struct slot *sl = slot_at(jb, s);
        if (sl)
            sl->used = false;
    }
    if (upto + 1 > jb->low)
        jb->low = upto + 1;
    if (jb->high < jb->low - 1)
        jb->high = jb->low - 1;
    jb->have_next = true;
    jb->next_exact = exact;
}

static void flush_all(struct tsr_jitter_buffer *jb)
{
    for (size_t i = 0; i < jb->cap; i++)
        jb->slots[i].used = false;
    jb->n_nacks = 0;
}

static void nack_remove(struct tsr_jitter_buffer *jb, size_t i)
{
    jb->nacks[i] = jb->nacks[--jb->n_nacks];
}

static void nack_add_range(struct tsr_jitter_buffer *jb, int64_t from, int64_t to, int64_t now_us)
{
    for (int64_t s = from; s <= to && jb->n_nacks < jb->cap; s++) {
        struct nack_ent *e = &jb->nacks[jb->n_nacks++];
        e->seq = s;
        e->missing_since_us = now_us;
        e->last_sent_us = 0;
        e->retries = 0;
    }
}

static void nack_received(struct tsr_jitter_buffer *jb, int64_t seq)
{
    for (size_t i = 0; i < jb->n_nacks; i++)
        if (jb->nacks[i].seq == seq) {
            nack_remove(jb, i);
            return;
        }
}

static int store(struct tsr_jitter_buffer *jb, int64_t seq, const struct tsr_rtp_header *h,
                 const struct tsr_rtp_payload_info *info, int64_t now_us)
{
    struct slot *sl = &jb->slots[(size_t)seq & (jb->cap - 1)];
    if (sl->cap < h->payload_bytes) {
        uint8_t *d = realloc(sl->data, h->payload_bytes);
        if (!d)
            return -ENOMEM;
        sl->data = d;
        sl->cap = h->payload_bytes;
    }
    if (h->payload_bytes)
        memcpy(sl->data, h->payload, h->payload_bytes);
    sl->len = h->payload_bytes;
    sl->used = true;
    sl->seq = seq;
    sl->ts = h->timestamp_rtp;
    sl->marker = h->marker;
    sl->frame_start = info->frame_start;
    sl->keyframe = info->keyframe;
    sl->arrival_us = now_us;
    return 0;
}

int tsr_jitter_buffer_push(struct tsr_jitter_buffer *jb, const struct tsr_rtp_header *h,
                           int64_t now_us)
{
    struct tsr_rtp_payload_info info;
    int rc = 0;

    if (!jb || !h || (!h->payload && h->payload_bytes))
        return -EINVAL;
    if (jb->codec->inspect(h->payload, h->payload_bytes, &info) < 0) {
        tsr_counter_inc(tsr_metrics_counter("tessera_jitter_bad_payloads_total", NULL,
                                            "Video payloads rejected by the depacketizer"));
        return TSR_ERR_INVALID;
    }
    int64_t seq = tsr_rtp_unwrap_seq(&jb->seq_unwrap, h->seq);
    jb->st.packets_in++;
    if (!jb->started) {
        jb->started = true;
        jb->low = jb->high = seq;
    } else if (seq < jb->low) {
        /* Before anything was emitted a reordered earlier packet may extend the window. */
        if (jb->have_next || jb->high - seq >= (int64_t)jb->cap) {
            jb->st.late_packets++;
            return TSR_ERR_AGAIN;
        }
        jb->low = seq;
    } else if (seq - jb->low >= (int64_t)jb->cap) {
        /* Too far ahead for the ring: start over from this packet, ask for a keyframe. */
        TSR_LOG_RL(TSR_LOG_WARN, "jitter", 1000, "sequence jump %lld, flushing",
                   (long long)(seq - jb->high));
        flush_all(jb);
        jb->low = jb->high = seq;
        jb->have_next = false;
        raise_keyframe(jb);
        rc = TSR_ERR_FULL;
    } else if (seq > jb->high) {
        nack_add_range(jb, jb->high + 1, seq - 1, now_us);
        jb->high = seq;
    }
    if (slot_at(jb, seq)) {
        jb->st.duplicates++;
        return TSR_ERR_AGAIN;
    }
    nack_received(jb, seq);
    int s = store(jb, seq, h, &info, now_us);
    return s < 0 ? s : rc;
}

/* Can the packet `p` begin a frame? When the previous packet is here: if it ended
 * a frame or has another timestamp. Otherwise: when p follows the last emitted
 * frame; or the codec marks p as a frame start and either the codec's mark is
 * exact (VP8: S=1, PID=0) or nothing before p is still expected (stream start,
 * after a give-up). An H.264 slice arriving before its SPS/PPS packet therefore
 * waits for it instead of going out without them. */
static bool can_start(struct tsr_jitter_buffer *jb, const struct slot *p)
{
    const struct slot *prev = slot_at(jb, p->seq - 1);
    if (prev)
        return prev->marker || prev->ts != p->ts;
    if (p->seq == jb->low && jb->have_next && jb->next_exact)
        return true;
    if (!p->frame_start)
        return false;
    return jb->codec->id == TSR_RTP_CODEC_VP8 || p->seq == jb->low;
}

/* First complete frame at or after low: [*first, *last], keyframe flag. */
static bool find_frame(struct tsr_jitter_buffer *jb, int64_t *first, int64_t *last, bool *key)
{
    int64_t start = -1;
    uint32_t ts = 0;
    bool k = false;
    for (int64_t s = jb->low; s <= jb->high; s++) {
        struct slot *p = slot_at(jb, s);
        if (!p) {
            start = -1;
            continue;
        }
        if (start < 0 || p->ts != ts) {
            start = can_start(jb, p) ? s : -1;
            ts = p->ts;
            k = false;
        }
        if (start < 0)
            continue;
        k |= p->keyframe;
        if (p->marker) {
            *first = start;
            *last = s;
            *key = k;
            return true;
        }
    }
    return false;
}

static int emit(struct tsr_jitter_buffer *jb, int64_t first, int64_t last,
                struct tsr_jitter_buffer_frame *out)
{
    struct tsr_rtp_frame_info fi;
    GBytes *data = NULL;
    size_t n = 0;
    const struct slot *f = slot_at(jb, first);
    for (int64_t s = first; s <= last; s++, n++) {
        const struct slot *p = slot_at(jb, s);
        jb->pl[n] = p->data;
        jb->pl_len[n] = p->len;
    }
    int rc = tsr_rtp_depacketizer_run(jb->depay, jb->pl, jb->pl_len, n, &data, &fi);
    if (rc < 0)
        return rc;
    memset(out, 0, sizeof *out);
    out->data = data;
    out->timestamp_rtp = f->ts;
    out->timestamp_ext = tsr_rtp_unwrap_ts(&jb->ts_unwrap, f->ts);
    out->keyframe = fi.keyframe;
    out->width = fi.width;
    out->height = fi.height;
    out->codec = jb->codec->id;
    out->first_seq = (uint16_t)first;
    out->last_seq = (uint16_t)last;
    out->first_arrival_us = f->arrival_us;
    return 0;
}

/* Earliest arrival among packets in [from, to], or fallback when none. */
static int64_t oldest_arrival(struct tsr_jitter_buffer *jb, int64_t from, int64_t to,
                              int64_t fallback)
{
    int64_t t = fallback;
    for (int64_t s = from; s <= to; s++) {
        struct slot *p = slot_at(jb, s);
        if (p && p->arrival_us < t)
            t = p->arrival_us;
    }
    return t;
}

/* Nothing completes: give up on the oldest frame once its time has run out. */
static bool expire_oldest(struct tsr_jitter_buffer *jb, int64_t now_us)
{
    int64_t oldest = INT64_MAX, oldest_seq = -1;
    for (int64_t s = jb->low; s <= jb->high; s++) {
        struct slot *p = slot_at(jb, s);
        if (p && p->arrival_us < oldest) {
            oldest = p->arrival_us;
            oldest_seq = s;
        }
    }
    if (oldest_seq < 0 || now_us < oldest + jb->cfg.max_delay_ms * 1000)
        return false;
    uint32_t ts = slot_at(jb, oldest_seq)->ts;
    int64_t end = oldest_seq;
    for (int64_t s = oldest_seq; s <= jb->high; s++) {
        struct slot *p = slot_at(jb, s);
        if (p && p->ts == ts)
            end = s;
        else if (p)
            break;
    }
    /* Skip the holes after it too: the next packet that is here becomes low. */
    while (end < jb->high && !slot_at(jb, end + 1))
        end++;
    release_upto(jb, end, false);
    count_drop(jb);
    raise_keyframe(jb);
    return true;
}

int tsr_jitter_buffer_pop_frame(struct tsr_jitter_buffer *jb, int64_t now_us,
                                struct tsr_jitter_buffer_frame *out)
{
    int64_t first, last;
    bool key;

    if (!jb || !out)
        return -EINVAL;
    while (jb->started) {
        if (!find_frame(jb, &first, &last, &key)) {
            if (expire_oldest(jb, now_us))
                continue;
            return TSR_ERR_AGAIN;
        }
        bool gap = first != jb->low;
        if (gap && !key) {
            /* Missing packets before a complete frame (perhaps the keyframe we
             * wait for): wait until their time is up. */
            int64_t t = oldest_arrival(jb, jb->low, first - 1, slot_at(jb, first)->arrival_us);
            if (now_us < t + jb->cfg.max_delay_ms * 1000)
                return TSR_ERR_AGAIN;
            count_drop(jb); /* the frame(s) in the gap */
            raise_keyframe(jb);
        }
        if (!key && jb->waiting_keyframe) {
            release_upto(jb, last, true); /* decodes only against what we no longer have */
            count_drop(jb);
            raise_keyframe(jb);
            continue;
        }
        int rc = emit(jb, first, last, out);
        release_upto(jb, last, true);
        if (rc < 0) {
            count_drop(jb);
            raise_keyframe(jb);
            continue;
        }
        if (out->keyframe) {
            jb->waiting_keyframe = false;
            jb->kf_pending = false;
        }
        jb->st.frames_out++;
        return 0;
    }
    return TSR_ERR_AGAIN;
}

int tsr_jitter_buffer_poll_nack(struct tsr_jitter_buffer *jb, int64_t now_us, uint16_t *seqs,
                                size_t cap, size_t *n)
{
    size_t k = 0;
    if (!jb || !n || (!seqs && cap))
        return -EINVAL;
    for (size_t i = 0; i < jb->n_nacks;) {
        struct nack_ent *e = &jb->nacks[i];
        bool gone = e->seq < jb->low || slot_at(jb, e->seq) != NULL;
        bool too_late = now_us >= e->missing_since_us + jb->cfg.max_delay_ms * 1000;
        if (gone || too_late || e->retries >= jb->cfg.nack_max_retries) {
            nack_remove(jb, i);
            continue;
        }
        if (k < cap &&
            (e->retries == 0 || now_us - e->last_sent_us >= jb->cfg.nack_interval_ms * 1000)) {
            seqs[k++] = (uint16_t)e->seq;
            e->retries++;
            e->last_sent_us = now_us;
        }
        i++;
    }
    /* Sorted output packs into the fewest NACK FCIs. Small n: insertion sort. */
    for (size_t i = 1; i < k; i++) {
        uint16_t v = seqs[i];
        size_t j = i;
        while (j > 0 && tsr_rtp_seq_diff(v, seqs[j - 1]) > 0) {
            seqs[j] = seqs[j - 1];
            j--;
        }
        seqs[j] = v;
    }
    jb->st.nacks_sent += k;
    *n = k;
    return 0;
}

enum tsr_keyframe_request tsr_jitter_buffer_poll_keyframe_request(struct tsr_jitter_buffer *jb,
                                                                  int64_t now_us)
{
    if (!jb || !jb->kf_pending)
        return TSR_KEYFRAME_REQUEST_NONE;
    if (jb->kf_sent > 0 && now_us - jb->kf_last_us < jb->cfg.pli_interval_ms * 1000)
        return TSR_KEYFRAME_REQUEST_NONE;
    jb->kf_last_us = now_us;
    jb->st.keyframe_requests++;
    return jb->kf_sent++ < jb->cfg.pli_before_fir ? TSR_KEYFRAME_REQUEST_PLI
                                                  : TSR_KEYFRAME_REQUEST_FIR;
}

void tsr_jitter_buffer_request_keyframe(struct tsr_jitter_buffer *jb, int64_t now_us)
{
    (void)now_us;
    if (jb)
        raise_keyframe(jb);
}

int64_t tsr_jitter_buffer_next_wakeup_us(const struct tsr_jitter_buffer *jb)
{
    int64_t t = INT64_MAX;
    if (!jb)
        return t;
    for (size_t i = 0; i < jb->n_nacks; i++) {
        const struct nack_ent *e = &jb->nacks[i];
        int64_t due = e->retries == 0 ? e->missing_since_us
                                      : e->last_sent_us + jb->cfg.nack_interval_ms * 1000;
        if (due < t)
            t = due;
    }
    if (jb->kf_pending) {
        int64_t due = jb->kf_sent == 0 ? 0 : jb->kf_last_us + jb->cfg.pli_interval_ms * 1000;
        if (due < t)
            t = due;
    }
    for (int64_t s = jb->low; jb->started && s <= jb->high; s++) {
        const struct slot *p = &jb->slots[(size_t)s & (jb->cap - 1)];
        if (p->used && p->seq == s) {
            int64_t due = p->arrival_us + jb->cfg.max_delay_ms * 1000;
            if (due < t)
                t = due;
        }
    }
    return t;
}

void tsr_jitter_buffer_get_stats(const struct tsr_jitter_buffer *jb,
                                 struct tsr_jitter_buffer_stats *out)
{
    if (jb && out)
        *out = jb->st;
}
