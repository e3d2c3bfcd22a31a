/* Conference audio mixer: see include/mix/tessera/audio_mixer.h.
 *
 * Per tick (20 ms):
 *  1. inputs that send no RFC 6464 level are decoded to measure their level;
 *  2. the talker set is updated (talkers.c);
 *  3. new talkers get a warmed-up decoder, a personal encoder copied from their
 *     variant's shared encoder and a limiter copied from the shared one;
 *     demoted talkers lose both, and their variant's next frame is encoded
 *     without inter-frame prediction so their receivers re-sync cleanly;
 *  4. talkers are decoded (FEC / PLC for gaps), everyone else's queue advances
 *     by 20 ms without decoding;
 *  5. total = sum of talkers (int32); the shared output is the limited total,
 *     encoded once per variant with listeners; each talker gets total - own,
 *     limited and encoded by its personal encoder.
 * The per-listener work is O(1) and allocation-free: a queue slot copy on push
 * and one payload reference on tick. */
#include "audio_mixer_codec.h"

#include <tessera/audio_limiter.h>
#include <tessera/audio_mixer.h>
#include <tessera/config.h>
#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/opus_codec.h>
#include <tessera/talkers.h>

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define TICK TSR_AUDIO_TICK_SAMPLES
/* Packets waiting per input: 16 (320 ms of 20 ms packets). The jitter buffer
 * in front of us delivers on time; this only absorbs bursts. */
#define MAX_PENDING 16
/* Inbound packets larger than an MTU cannot come over RTP. */
#define SLOT_BYTES 1500
/* Packets kept after use to warm up a decoder when the input becomes a talker
 * (see start_decoder for why 8). */
#define HISTORY 8
/* One ring holds the history behind the head and the pending packets after it,
 * so keeping history costs no copy. */
#define QUEUE_SLOTS (MAX_PENDING + HISTORY)
/* Consecutive concealed frames before an input that sends nothing is silence. */
#define MAX_PLC_FRAMES 5
/* Sequence jumps larger than this are a sender restart, not loss. */
#define MAX_GAP 10
/* A queue head this far (1 s) from the play position re-anchors it. */
#define RESYNC_SAMPLES 48000

struct tsr_audio_payload {
    atomic_int refs;
    size_t len;
    uint8_t data[];
};

struct slot {
    uint16_t len;     /* 0: a gap (lost packet) */
    uint16_t samples; /* duration at 48 kHz */
    uint32_t ts;      /* RTP timestamp of its first sample */
    uint8_t data[SLOT_BYTES];
};

/* One output variant and its shared encoder. */
struct variant {
    struct tsr_audio_variant v;
    struct mix_enc *enc;
    uint32_t enc_id;
    size_t users;          /* participants with this variant */
    bool encoded_last;     /* encoder state is the one its listeners decoded last tick */
    bool independent_next; /* a talker rejoined: next frame without prediction */
    struct tsr_audio_payload *payload; /* this tick's frame, one mixer reference */
};

struct participant {
    uint32_t id;
    struct variant *var;
    unsigned mute_bits;
    bool measured;  /* last packet had no level: decode to measure */
    int tick_level; /* loudest RFC 6464 level pushed since the last tick */
    /* input queue */
    struct slot q[QUEUE_SLOTS]; /* ring: hist_n used slots, then q_len pending */
    size_t q_head, q_len;
    size_t hist_n;
    bool seq_known;
    uint16_t next_seq;
    uint16_t last_samples;
    uint32_t end_ts; /* RTP timestamp just after the last queued entry */
    bool play_known;
    uint32_t play_ts; /* RTP timestamp of the next sample to mix */
    /* decoding */
    struct mix_dec *dec;
    int16_t pcm[TICK + TSR_OPUS_MAX_PACKET_SAMPLES];
    size_t pcm_len;  /* decoded samples not yet mixed */
    size_t virt_len; /* same, for an input that is not decoded */
    int plc_run;
    /* output */
    bool talker;
    struct mix_enc *enc;
    uint32_t enc_id;
    struct tsr_audio_limiter lim;
    struct tsr_audio_payload *payload;
    int16_t out_pcm[TICK];
};

struct tsr_audio_mixer {
    struct tsr_audio_mixer_params p;
    struct tsr_talkers *talkers;
    GPtrArray *parts;    /* struct participant *, output order */
    GHashTable *by_id;   /* id -> struct participant * */
    GPtrArray *variants; /* struct variant * */
    uint32_t next_enc_id;
    uint32_t ts_48k;
    bool ticked;
    struct tsr_audio_limiter shared_lim;
    int32_t total[TICK];
    int32_t scratch32[TICK];
    int16_t shared_pcm[TICK];
    int16_t warm[TSR_OPUS_MAX_PACKET_SAMPLES];
    struct tsr_audio_out *outs;
    size_t outs_cap;
    struct tsr_audio_mixer_stats st;
    struct tsr_counter *c_invalid, *c_late;
    struct tsr_counter *c_decoded, *c_fec, *c_concealed; /* talkers' frames, by how */
};

struct tsr_audio_payload *tsr_audio_payload_ref(struct tsr_audio_payload *p)
{
    if (p)
        atomic_fetch_add_explicit(&p->refs, 1, memory_order_relaxed);
    return p;
}

void tsr_audio_payload_unref(struct tsr_audio_payload **p)
{
    if (!p || !*p)
        return;
    if (atomic_fetch_sub_explicit(&(*p)->refs, 1, memory_order_acq_rel) == 1)
        free(*p);
    *p = NULL;
}

const uint8_t *tsr_audio_payload_data(const struct tsr_audio_payload *p, size_t *len_bytes)
{
    *len_bytes = p->len;
    return p->data;
}

/* One malloc per encoded frame (K + variants per tick, not per listener). */
static int encode_payload(struct mix_enc *enc, const int16_t *pcm, struct tsr_audio_payload **out)
{
    uint8_t buf[TSR_OPUS_MAX_PACKET_BYTES];
    int n = mix_enc_encode(enc, pcm, TICK, buf, sizeof(buf));
    if (n < 0)
        return n;
    struct tsr_audio_payload *p = malloc(sizeof(*p) + (size_t)n);
    if (!p)
        return -ENOMEM;
    atomic_init(&p->refs, 1);
    p->len = (size_t)n;
    memcpy(p->data, buf, (size_t)n);
    *out = p;
    return 0;
}

void tsr_audio_mixer_params_default(struct tsr_audio_mixer_params *p)
{
    *p = (struct tsr_audio_mixer_params){
        .talkers = 3,
        .hysteresis_db = 6,
        .hold_ms = 600,
        .active_level = 50,
        .complexity = 5,
        .dtx = false,
        .expected_loss_pct = 10,
    };
}

void tsr_audio_mixer_params_from_config(struct tsr_audio_mixer_params *p,
                                        struct tsr_audio_variant *variant,
                                        const struct tsr_config *cfg)
{
    if (p) {
        tsr_audio_mixer_params_default(p);
        p->talkers = (int)cfg->audio_talkers;
        p->hysteresis_db = (int)cfg->audio_hysteresis_db;
        p->hold_ms = (int)cfg->audio_hold_ms;
        p->active_level = (int)cfg->audio_active_level;
        p->complexity = (int)cfg->audio_complexity;
        p->dtx = cfg->audio_dtx;
    }
    if (variant) {
        variant->bitrate_bps = cfg->audio_bitrate_bps;
        variant->channels = (int)cfg->audio_channels;
        variant->fec = cfg->audio_fec;
    }
}

static struct tsr_opus_encoder_params enc_params(const struct tsr_audio_mixer *m,
                                                 const struct tsr_audio_variant *v)
{
    return (struct tsr_opus_encoder_params){
        .bitrate_bps = v->bitrate_bps,
        .channels = v->channels,
        .fec = v->fec,
        .dtx = m->p.dtx,
        .complexity = m->p.complexity,
        .expected_loss_pct = v->fec ? m->p.expected_loss_pct : 0,
        /* Low rates: the speech tuning (SILK, where in-band FEC lives). High
         * rates: a mix of several voices is "mixed content"; the AUDIO tuning
         * keeps its coding noise ~10 dB lower there (measured at 128 kb/s).
         * DTX exists only in the speech modes of libopus 1.3 (the AUDIO tuning
         * sends 3-byte CELT frames in silence), so DTX selects them too. */
        .voice = v->bitrate_bps < 40000 || m->p.dtx,
    };
}

static void participant_free(struct participant *p)
{
    mix_dec_free(&p->dec);
    mix_enc_free(&p->enc);
    tsr_audio_payload_unref(&p->payload);
    free(p);
}

static void variant_free(struct variant *v)
{
    mix_enc_free(&v->enc);
    tsr_audio_payload_unref(&v->payload);
    free(v);
}

int tsr_audio_mixer_new(struct tsr_audio_mixer **out, const struct tsr_audio_mixer_params *p)
{
    if (!p || p->complexity < 0 || p->complexity > 10 || p->expected_loss_pct < 0 ||
        p->expected_loss_pct > 100)
        return TSR_ERR_INVALID;
    struct tsr_audio_mixer *m = calloc(1, sizeof(*m));
    if (!m)
        return -ENOMEM;
    struct tsr_talkers_params tp = {
        .k = p->talkers,
        .hysteresis_db = p->hysteresis_db,
        .hold_ms = p->hold_ms,
        .active_level = p->active_level,
    };
    int ret = tsr_talkers_new(&m->talkers, &tp);
    if (ret < 0) {
        free(m);
        return ret;
    }
    m->p = *p;
    m->parts = g_ptr_array_new();
    m->by_id = g_hash_table_new(g_direct_hash, g_direct_equal);
    m->variants = g_ptr_array_new();
    m->next_enc_id = 1;
    tsr_audio_limiter_init(&m->shared_lim);
    m->c_invalid = tsr_metrics_counter("tessera_audio_packets_invalid_total", NULL,
                                       "Inbound Opus packets dropped as malformed.");
    m->c_late = tsr_metrics_counter("tessera_audio_packets_late_total", NULL,
                                    "Inbound Opus packets dropped as late or duplicate.");
    static const char help[] = "Talkers' audio frames the mixer decoded, recovered from the "
                               "next packet's in-band FEC, or concealed (PLC): the share "
                               "concealed is the loss a listener hears.";
    m->c_decoded = tsr_metrics_counter("tessera_audio_frames_total", "how=\"decoded\"", help);
    m->c_fec = tsr_metrics_counter("tessera_audio_frames_total", "how=\"fec\"", help);
    m->c_concealed = tsr_metrics_counter("tessera_audio_frames_total", "how=\"concealed\"", help);
    *out = m;
    return 0;
}

void tsr_audio_mixer_free(struct tsr_audio_mixer **mp)
{
    if (!mp || !*mp)
        return;
    struct tsr_audio_mixer *m = *mp;
    for (guint i = 0; i < m->parts->len; i++)
        participant_free(g_ptr_array_index(m->parts, i));
    for (guint i = 0; i < m->variants->len; i++)
        variant_free(g_ptr_array_index(m->variants, i));
    g_ptr_array_free(m->parts, TRUE);
    g_ptr_array_free(m->variants, TRUE);
    g_hash_table_destroy(m->by_id);
    tsr_talkers_free(&m->talkers);
    free(m->outs);
    free(m);
    *mp = NULL;
}

static struct participant *lookup(const struct tsr_audio_mixer *m, uint32_t id)
{
    return g_hash_table_lookup(m->by_id, GUINT_TO_POINTER(id));
}

/* The shared variant equal to *v, created (with its encoder) when new. */
static int variant_get(struct tsr_audio_mixer *m, const struct tsr_audio_variant *v,
                       struct variant **out)
{
    for (guint i = 0; i < m->variants->len; i++) {
        struct variant *x = g_ptr_array_index(m->variants, i);
        if (x->v.codec == v->codec && x->v.bitrate_bps == v->bitrate_bps &&
            x->v.channels == v->channels && x->v.fec == v->fec) {
            *out = x;
            return 0;
        }
    }
    struct variant *x = calloc(1, sizeof(*x));
    if (!x)
        return -ENOMEM;
    x->v = *v;
    struct tsr_opus_encoder_params ep = enc_params(m, v);
    int ret = mix_enc_new(&x->enc, v->codec, &ep);
    if (ret < 0) {
        free(x);
        return ret;
    }
    x->enc_id = m->next_enc_id++;
    g_ptr_array_add(m->variants, x);
    *out = x;
    return 0;
}

static void variant_put(struct tsr_audio_mixer *m, struct variant *v)
{
    if (--v->users > 0)
        return;
    g_ptr_array_remove_fast(m->variants, v);
    variant_free(v);
}

int tsr_audio_mixer_add(struct tsr_audio_mixer *m, uint32_t id,
                        const struct tsr_audio_variant *variant)
{
    if (!variant || variant->bitrate_bps < 6000 || variant->bitrate_bps > 510000 ||
        (variant->channels != 1 && variant->channels != 2) ||
        (unsigned)variant->codec > TSR_AUDIO_CODEC_G722)
        return TSR_ERR_INVALID;
    struct tsr_audio_variant fixed = {.codec = variant->codec, .bitrate_bps = 64000, .channels = 1};
    if (variant->codec != TSR_AUDIO_CODEC_OPUS)
        variant = &fixed; /* one shared encoder per law or for G.722, whatever Opus asked */
    if (lookup(m, id))
        return TSR_ERR_STATE;
    struct participant *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    struct tsr_audio_out *outs = m->outs;
    if (m->parts->len + 1 > m->outs_cap) {
        size_t cap = m->outs_cap ? m->outs_cap * 2 : 16;
        outs = realloc(m->outs, cap * sizeof(*outs));
        if (!outs) {
            free(p);
            return -ENOMEM;
        }
        m->outs = outs;
        m->outs_cap = cap;
    }
    int ret = tsr_talkers_add(m->talkers, id);
    if (ret < 0) {
        free(p);
        return ret;
    }
    ret = variant_get(m, variant, &p->var);
    if (ret < 0) {
        tsr_talkers_remove(m->talkers, id);
        free(p);
        return ret;
    }
    p->var->users++;
    p->id = id;
    p->tick_level = TSR_TALKERS_LEVEL_SILENT;
    p->last_samples = TICK;
    g_ptr_array_add(m->parts, p);
    g_hash_table_insert(m->by_id, GUINT_TO_POINTER(id), p);
    return 0;
}

int tsr_audio_mixer_remove(struct tsr_audio_mixer *m, uint32_t id)
{
    struct participant *p = lookup(m, id);
    if (!p)
        return TSR_ERR_NOT_FOUND;
    tsr_talkers_remove(m->talkers, id);
    g_hash_table_remove(m->by_id, GUINT_TO_POINTER(id));
    g_ptr_array_remove(m->parts, p); /* keeps output order stable */
    variant_put(m, p->var);
    participant_free(p);
    m->ticked = false; /* outs of the last tick may name it: invalid now */
    return 0;
}

int tsr_audio_mixer_set_muted(struct tsr_audio_mixer *m, uint32_t id, enum tsr_audio_mute source,
                              bool muted)
{
    if (source != TSR_AUDIO_MUTE_SELF && source != TSR_AUDIO_MUTE_HOST)
        return TSR_ERR_INVALID;
    struct participant *p = lookup(m, id);
    if (!p)
        return TSR_ERR_NOT_FOUND;
    if (muted)
        p->mute_bits |= (unsigned)source;
    else
        p->mute_bits &= ~(unsigned)source;
    return tsr_talkers_set_muted(m->talkers, id, p->mute_bits != 0);
}

/* Append a packet (len > 0) or a gap (data NULL) to the queue; the oldest
 * entry goes when full. */
static void enqueue(struct tsr_audio_mixer *m, struct participant *p, const uint8_t *data,
                    size_t len, uint32_t ts, int samples)
{
    if (p->q_len == MAX_PENDING) {
        p->q_head = (p->q_head + 1) % QUEUE_SLOTS;
        p->q_len--;
        p->hist_n = 0; /* the dropped packet breaks the history */
        m->st.packets_overflow++;
    }
    struct slot *s = &p->q[(p->q_head + p->q_len) % QUEUE_SLOTS];
    s->len = (uint16_t)len;
    s->samples = (uint16_t)samples;
    s->ts = ts;
    if (len)
        memcpy(s->data, data, len);
    p->q_len++;
    p->end_ts = ts + (uint32_t)samples;
}

static int reject(struct tsr_audio_mixer *m, uint32_t id, size_t len)
{
    m->st.packets_invalid++;
    tsr_counter_inc(m->c_invalid);
    TSR_LOG_RL(TSR_LOG_WARN, "audio", 5000, "participant %u: malformed Opus packet (%zu bytes)", id,
               len);
    return TSR_ERR_INVALID;
}

int tsr_audio_mixer_push(struct tsr_audio_mixer *m, uint32_t id, const struct tsr_audio_packet *pkt)
{
    struct participant *p = lookup(m, id);
    if (!p)
        return TSR_ERR_NOT_FOUND;
    enum tsr_audio_codec codec = p->var->v.codec;
    int samples =
        pkt->data ? mix_packet_samples(codec, pkt->data, pkt->len_bytes) : TSR_ERR_INVALID;
    uint32_t ts = mix_ts_48k(codec, pkt->ts_rtp);
    if (samples < 0 || pkt->len_bytes > SLOT_BYTES || pkt->level < TSR_AUDIO_LEVEL_ABSENT ||
        pkt->level > 127)
        return reject(m, id, pkt->len_bytes);
    if (p->seq_known) {
        int16_t d = (int16_t)(uint16_t)(pkt->seq - p->next_seq);
        if (d < 0) {
            m->st.packets_late++;
            tsr_counter_inc(m->c_late);
            return TSR_ERR_STATE;
        }
        /* Missing sequence numbers become gaps, spread over the time the RTP
         * timestamps say is missing (a larger jump is a restart, not loss). */
        int32_t missing = (int32_t)(ts - p->end_ts);
        for (int i = 0; d <= MAX_GAP && i < d && missing >= 120; i++) {
            int dur = missing / (d - i);
            dur = dur > TSR_OPUS_MAX_PACKET_SAMPLES ? TSR_OPUS_MAX_PACKET_SAMPLES : dur / 120 * 120;
            enqueue(m, p, NULL, 0, p->end_ts, dur);
            missing -= dur;
        }
    }
    p->seq_known = true;
    p->next_seq = (uint16_t)(pkt->seq + 1);
    p->last_samples = (uint16_t)samples;
    enqueue(m, p, pkt->data, pkt->len_bytes, ts, samples);
    /* The V flag is not used for selection: senders differ in whether they run
     * a VAD at all, while the level is always meaningful. */
    p->measured = pkt->level == TSR_AUDIO_LEVEL_ABSENT;
    if (!p->measured && pkt->level < p->tick_level)
        p->tick_level = pkt->level;
    m->st.packets_in++;
    return 0;
}

int tsr_audio_mixer_lost(struct tsr_audio_mixer *m, uint32_t id, uint16_t seq)
{
    struct participant *p = lookup(m, id);
    if (!p)
        return TSR_ERR_NOT_FOUND;
    if (!p->seq_known || seq != p->next_seq)
        return TSR_ERR_STATE;
    p->next_seq = (uint16_t)(seq + 1);
    enqueue(m, p, NULL, 0, p->end_ts, p->last_samples);
    return 0;
}

/* Samples of the queue head already played (concealed) before it arrived.
 * Positions are RTP timestamps; a head far from the play position (sender
 * restart, long DTX pause) re-anchors instead. */
static uint32_t head_overlap(struct participant *p)
{
    const struct slot *s = &p->q[p->q_head];
    int32_t ahead = (int32_t)(p->play_ts - s->ts);
    if (!p->play_known || ahead <= 0 || ahead > RESYNC_SAMPLES) {
        p->play_known = true;
        p->play_ts = ahead > 0 && ahead <= RESYNC_SAMPLES ? p->play_ts : s->ts;
        return 0;
    }
    return (uint32_t)ahead;
}

/* Pop the queue head (it becomes history); returns it (valid until HISTORY
 * more pops) and in *skip the samples of it that were already concealed. */
static struct slot *pop(struct participant *p, uint32_t *skip)
{
    uint32_t over = head_overlap(p);
    struct slot *s = &p->q[p->q_head];
    p->q_head = (p->q_head + 1) % QUEUE_SLOTS;
    p->q_len--;
    if (p->hist_n < HISTORY)
        p->hist_n++;
    *skip = over < s->samples ? over : s->samples;
    p->play_ts = s->ts + s->samples;
    return s;
}

/* History slot i (0 = oldest of hist_n). */
static struct slot *hist_at(struct participant *p, size_t i)
{
    return &p->q[(p->q_head + QUEUE_SLOTS - p->hist_n + i) % QUEUE_SLOTS];
}

/* Nothing queued at mix time: conceal `need` samples (PLC for a few frames,
 * then silence, after which the next packet re-anchors the position). */
static int underrun(struct tsr_audio_mixer *m, struct participant *p, size_t need, int16_t *dst)
{
    p->play_ts += (uint32_t)need;
    if (p->plc_run >= MAX_PLC_FRAMES) {
        p->play_known = false;
        if (dst)
            memset(dst, 0, need * sizeof(*dst));
        return (int)need;
    }
    p->plc_run++;
    if (!dst)
        return (int)need;
    m->st.frames_concealed++;
    tsr_counter_inc(m->c_concealed);
    int r = mix_dec_plc(p->dec, need, dst);
    if (r < 0)
        memset(dst, 0, need * sizeof(*dst));
    return (int)need;
}

/* Decode (or recover, or conceal) the queue head into dst; returns samples. */
static int decode_head(struct tsr_audio_mixer *m, struct participant *p, int16_t *dst, size_t room)
{
    uint32_t skip;
    bool gap = p->q[p->q_head].len == 0;
    struct slot *s = pop(p, &skip);
    int r;
    if (skip == s->samples) { /* entirely concealed already: late */
        m->st.packets_late += !gap;
        return 0;
    }
    if (!gap) {
        r = mix_dec_decode(p->dec, s->data, s->len, dst, room);
        p->plc_run = 0;
        m->st.frames_decoded++;
        tsr_counter_inc(m->c_decoded);
    } else if (p->q_len > 0 && p->q[p->q_head].len > 0) {
        struct slot *next = &p->q[p->q_head];
        r = mix_dec_fec(p->dec, next->data, next->len, s->samples, dst);
        m->st.frames_fec++;
        tsr_counter_inc(m->c_fec);
    } else {
        r = mix_dec_plc(p->dec, s->samples, dst);
        m->st.frames_concealed++;
        tsr_counter_inc(m->c_concealed);
    }
    if (r < 0) { /* a corrupt packet: its time is silence, the stream goes on */
        r = s->samples <= room ? s->samples : (int)room;
        memset(dst, 0, (size_t)r * sizeof(*dst));
    }
    if (skip > 0 && (uint32_t)r > skip) {
        memmove(dst, dst + skip, ((size_t)r - skip) * sizeof(*dst));
        r -= (int)skip;
    }
    return r;
}

/* Bring p->pcm to at least one tick of samples. */
static void fill_pcm(struct tsr_audio_mixer *m, struct participant *p)
{
    while (p->pcm_len < TICK) {
        int16_t *dst = p->pcm + p->pcm_len;
        size_t room = sizeof(p->pcm) / sizeof(p->pcm[0]) - p->pcm_len;
        int r =
            p->q_len == 0 ? underrun(m, p, TICK - p->pcm_len, dst) : decode_head(m, p, dst, room);
        p->pcm_len += (size_t)r;
    }
}

/* Advance an input that is not decoded by one tick. */
static void skip_tick(struct tsr_audio_mixer *m, struct participant *p)
{
    while (p->virt_len < TICK) {
        if (p->q_len == 0) {
            p->virt_len += (size_t)underrun(m, p, TICK - p->virt_len, NULL);
            break;
        }
        uint32_t skip;
        struct slot *s = pop(p, &skip);
        p->virt_len += s->samples - skip;
        if (s->len)
            p->plc_run = 0;
    }
    p->virt_len -= TICK;
}

static void consume_pcm(struct participant *p)
{
    p->pcm_len -= TICK;
    memmove(p->pcm, p->pcm + TICK, p->pcm_len * sizeof(p->pcm[0]));
}

/* -dBov of one tick of decoded signal (RFC 6464 scale). */
static int measure_level(const int16_t *pcm)
{
    double sum = 0;
    for (int i = 0; i < TICK; i++)
        sum += (double)pcm[i] * pcm[i];
    double rms = sqrt(sum / TICK);
    if (rms < 1.0)
        return TSR_TALKERS_LEVEL_SILENT;
    long level = lrint(-20.0 * log10(rms / 32767.0));
    return level < 0 ? 0 : level > 127 ? 127 : (int)level;
}

static int ensure_decoder(struct participant *p)
{
    if (p->dec)
        return 0;
    return mix_dec_new(&p->dec, p->var->v.codec);
}

/* A new talker's decoder starts from the last HISTORY packets the input sent
 * (consumed undecoded while it was a listener), decoded and discarded, so its
 * state (CELT band energies and overlap, SILK LPC and pitch history, mode) is
 * close to a decoder that ran all along: the first mixed frame has no onset
 * click and nothing of the syllable that made it a talker is lost. A fade-in
 * would be cheaper but eats that syllable. Why 8: CELT predicts each frame's
 * band energies from the previous frame's (coefficient ~0.9 at 20 ms), so a
 * fresh decoder converges slowly; against a continuous decoder the first frame
 * measured 12.6 dB SNR with 2 packets of warm-up, 23 dB with 4, 47 dB with 8
 * (tests/unit/test_audio_mixer.c, new_talker_decoder_is_warm). Cost: up to 8
 * decodes (~0.3 ms) once per switch. The part of the last packet not yet
 * played (a 40/60 ms packet spans ticks) becomes the pending PCM. */
static int start_decoder(struct tsr_audio_mixer *m, struct participant *p)
{
    int ret = ensure_decoder(p);
    if (ret < 0)
        return ret;
    mix_dec_reset(p->dec);
    p->pcm_len = 0;
    p->plc_run = 0;
    for (size_t i = 0; i < p->hist_n; i++) {
        struct slot *h = hist_at(p, i);
        int n = h->len
                    ? mix_dec_decode(p->dec, h->data, h->len, m->warm, TSR_OPUS_MAX_PACKET_SAMPLES)
                    : mix_dec_plc(p->dec, h->samples, m->warm);
        if (i + 1 == p->hist_n && n > 0 && p->virt_len > 0 && p->virt_len <= (size_t)n) {
            memcpy(p->pcm, m->warm + (size_t)n - p->virt_len, p->virt_len * sizeof(p->pcm[0]));
            p->pcm_len = p->virt_len;
        }
    }
    p->virt_len = 0;
    return 0;
}

/* Step 1: decode inputs without levels so their level is known. */
static void measure_inputs(struct tsr_audio_mixer *m)
{
    for (guint i = 0; i < m->parts->len; i++) {
        struct participant *p = g_ptr_array_index(m->parts, i);
        if (!p->measured || p->mute_bits)
            continue;
        if (!p->dec) {
            if (start_decoder(m, p) < 0)
                continue;
        }
        fill_pcm(m, p);
        p->tick_level = measure_level(p->pcm);
    }
}

/* Step 3: a listener becomes a talker. */
static int promote(struct tsr_audio_mixer *m, struct participant *p)
{
    int ret = 0;
    if (!p->dec) {
        ret = start_decoder(m, p);
        if (ret < 0)
            return ret;
    }
    struct tsr_opus_encoder_params ep = enc_params(m, &p->var->v);
    ret = mix_enc_new(&p->enc, p->var->v.codec, &ep);
    if (ret < 0)
        return ret;
    /* Continue the stream the receiver was decoding: same encoder history and
     * the same limiter gain, so only the content changes (total -> total - own). */
    if (p->var->encoded_last)
        mix_enc_copy_state(p->enc, p->var->enc);
    p->lim = m->shared_lim;
    p->enc_id = m->next_enc_id++;
    p->talker = true;
    return 0;
}

static void demote(struct participant *p)
{
    mix_enc_free(&p->enc);
    p->talker = false;
    p->var->independent_next = true;
    if (p->measured)
        return; /* still decoded for its level */
    mix_dec_free(&p->dec);
    p->virt_len = p->pcm_len; /* keep the queue position; the samples go undecoded */
    p->pcm_len = 0;
}

/* Steps 2-4: update the talker set, then advance every input by one tick. */
static void advance_inputs(struct tsr_audio_mixer *m, int64_t now_ms)
{
    for (guint i = 0; i < m->parts->len; i++) {
        struct participant *p = g_ptr_array_index(m->parts, i);
        tsr_talkers_set_level(m->talkers, p->id, p->tick_level);
        p->tick_level = TSR_TALKERS_LEVEL_SILENT;
    }
    tsr_talkers_update(m->talkers, now_ms);
    for (guint i = 0; i < m->parts->len; i++) {
        struct participant *p = g_ptr_array_index(m->parts, i);
        bool talker = tsr_talkers_is_talker(m->talkers, p->id);
        if (talker && !p->talker && promote(m, p) < 0) {
            TSR_LOG_RL(TSR_LOG_ERROR, "audio", 5000, "participant %u: cannot start talker", p->id);
            mix_enc_free(&p->enc);
            talker = false;
        }
        if (!talker && p->talker)
            demote(p);
        if (!p->talker && p->dec && (!p->measured || p->mute_bits)) {
            /* started sending levels, or muted: no reason to decode any more */
            mix_dec_free(&p->dec);
            p->virt_len = p->pcm_len;
            p->pcm_len = 0;
        }
        if (p->dec)
            fill_pcm(m, p); /* measured inputs are already full: no-op */
        else
            skip_tick(m, p);
    }
}

static void mix_total(struct tsr_audio_mixer *m)
{
    memset(m->total, 0, sizeof(m->total));
    for (guint i = 0; i < m->parts->len; i++) {
        struct participant *p = g_ptr_array_index(m->parts, i);
        if (!p->talker)
            continue;
        for (int s = 0; s < TICK; s++)
            m->total[s] += p->pcm[s];
    }
}

static int encode_shared(struct tsr_audio_mixer *m)
{
    int ret = 0;
    tsr_audio_limiter_process(&m->shared_lim, m->total, m->shared_pcm, TICK);
    for (guint i = 0; i < m->variants->len; i++) {
        struct variant *v = g_ptr_array_index(m->variants, i);
        tsr_audio_payload_unref(&v->payload);
        size_t listeners = 0;
        for (guint j = 0; j < m->parts->len && listeners == 0; j++) {
            struct participant *p = g_ptr_array_index(m->parts, j);
            listeners += p->var == v && !p->talker;
        }
        v->encoded_last = false;
        if (listeners == 0)
            continue; /* every user talks: nobody would receive it */
        if (v->independent_next)
            mix_enc_set_independent_next(v->enc);
        v->independent_next = false;
        int r = encode_payload(v->enc, m->shared_pcm, &v->payload);
        if (r < 0) {
            ret = r;
            continue;
        }
        v->encoded_last = true;
        m->st.frames_encoded++;
    }
    return ret;
}

static int encode_talkers(struct tsr_audio_mixer *m)
{
    int ret = 0;
    for (guint i = 0; i < m->parts->len; i++) {
        struct participant *p = g_ptr_array_index(m->parts, i);
        tsr_audio_payload_unref(&p->payload);
        if (!p->talker)
            continue;
        for (int s = 0; s < TICK; s++)
            m->scratch32[s] = m->total[s] - p->pcm[s];
        tsr_audio_limiter_process(&p->lim, m->scratch32, p->out_pcm, TICK);
        int r = encode_payload(p->enc, p->out_pcm, &p->payload);
        if (r < 0)
            ret = r;
        else
            m->st.frames_encoded++;
    }
    return ret;
}

static void fill_outs(struct tsr_audio_mixer *m)
{
    for (guint i = 0; i < m->parts->len; i++) {
        struct participant *p = g_ptr_array_index(m->parts, i);
        struct tsr_audio_out *o = &m->outs[i];
        o->participant_id = p->id;
        o->talker = p->talker;
        o->shared = !p->talker;
        o->encoder_id = p->talker ? p->enc_id : p->var->enc_id;
        o->payload = p->talker ? p->payload : p->var->payload;
        o->codec = p->var->v.codec;
        o->dtx = o->payload && o->payload->len <= 2;
        o->ts_48k = m->ts_48k;
        o->duration_48k = TICK;
    }
}

int tsr_audio_mixer_tick(struct tsr_audio_mixer *m, int64_t now_ms,
                         const struct tsr_audio_out **outs, size_t *n_outs)
{
    measure_inputs(m);
    advance_inputs(m, now_ms);
    mix_total(m);
    int r1 = encode_shared(m);
    int r2 = encode_talkers(m);
    for (guint i = 0; i < m->parts->len; i++) {
        struct participant *p = g_ptr_array_index(m->parts, i);
        if (p->dec)
            consume_pcm(p);
    }
    fill_outs(m);
    m->ticked = true;
    m->ts_48k += TICK;
    *outs = m->outs;
    *n_outs = m->parts->len;
    return r1 < 0 ? r1 : r2;
}

int tsr_audio_mixer_last_pcm(const struct tsr_audio_mixer *m, uint32_t id, const int16_t **pcm)
{
    struct participant *p = lookup(m, id);
    if (!p)
        return TSR_ERR_NOT_FOUND;
    if (!m->ticked)
        return TSR_ERR_AGAIN;
    *pcm = p->talker ? p->out_pcm : m->shared_pcm;
    return 0;
}

size_t tsr_audio_mixer_talkers(const struct tsr_audio_mixer *m, uint32_t *ids, size_t cap)
{
    return tsr_talkers_get(m->talkers, ids, cap);
}

void tsr_audio_mixer_stats(const struct tsr_audio_mixer *m, struct tsr_audio_mixer_stats *out)
{
    *out = m->st;
    out->participants = m->parts->len;
    out->talkers = 0;
    out->decoders_live = 0;
    out->encoders_live = 0;
    for (guint i = 0; i < m->parts->len; i++) {
        struct participant *p = g_ptr_array_index(m->parts, i);
        out->talkers += p->talker;
        out->decoders_live += p->dec != NULL;
        out->encoders_live += p->enc != NULL;
    }
    out->encoders_shared = m->variants->len;
    out->encoders_live += m->variants->len;
}
