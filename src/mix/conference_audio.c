/* The conference's audio thread: every 20 ms on the media clock, mix-minus from
 * the talkers (tessera/audio_mixer.h), each distinct payload packetized once and
 * sent to its listeners, talker changes reported. It has its own thread so a slow
 * video tick (compose + encode) never delays or drops audio.
 *
 * Each participant's packets first go through its adaptive audio buffer
 * (tessera/audio_buffer.h): back in order, held for as long as the measured
 * jitter needs, missing ones named. Before each tick the buffer hands the mixer
 * enough to mix this tick and the next (so a lost packet's successor is already
 * queued and its in-band FEC can recover it). */
#include "conference_mixer_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/net_loops.h>

#include <stdlib.h>
#include <string.h>

#define AUDIO_TICK_US 20000
#define MAX_LAG_US 200000 /* behind by more than this: skip ticks instead of bursting */
#define LOOKAHEAD_SAMPLES (2 * TSR_AUDIO_TICK_SAMPLES) /* this tick + the next */

static struct audio_peer *audio_find(struct tsr_conf_mixer *m, uint32_t id)
{
    for (guint i = 0; i < m->audio_peers->len; i++) {
        struct audio_peer *a = g_ptr_array_index(m->audio_peers, i);
        if (a->id == id)
            return a;
    }
    return NULL;
}

static void audio_peer_free(struct audio_peer *a)
{
    tsr_media_peer_unref(&a->peer);
    tsr_audio_buffer_free(&a->buffer);
    free(a->pid);
    free(a);
}

static void audio_add(struct tsr_conf_mixer *m, struct mix_cmd *c)
{
    struct audio_peer *a = calloc(1, sizeof *a);
    if (!a) {
        TSR_LOG(TSR_LOG_ERROR, m->log_ctx, "out of memory: %s not heard", c->text);
        return;
    }
    a->id = c->id;
    a->pid = g_steal_pointer(&c->text);
    a->peer = g_steal_pointer(&c->peer);
    /* A G.711 caller: its buffer counts in 8 kHz RTP units, its variant says the law. */
    enum tsr_audio_codec codec =
        a->peer ? tsr_media_peer_audio_codec(a->peer) : TSR_AUDIO_CODEC_OPUS;
    a->has_audio = a->peer && tsr_media_peer_has_audio(a->peer);
    struct tsr_audio_buffer_config bc = m->params.audio_buffer;
    if (!bc.clock_rate)
        tsr_audio_buffer_config_default(&bc);
    bc.codec = codec;
    bc.clock_rate = codec == TSR_AUDIO_CODEC_OPUS ? bc.clock_rate : 8000;
    a->rate_ratio = (int)(48000 / bc.clock_rate);
    int rc = tsr_audio_buffer_new(&a->buffer, &bc);
    if (rc)
        TSR_LOG(TSR_LOG_ERROR, m->log_ctx, "no audio buffer for %s: %s", a->pid, tsr_strerror(rc));
    struct tsr_audio_variant v = m->params.audio_variant;
    v.codec = codec;
    rc = tsr_audio_mixer_add(m->audio, a->id, &v);
    if (rc)
        TSR_LOG(TSR_LOG_ERROR, m->log_ctx, "audio mixer refused %s: %s", a->pid, tsr_strerror(rc));
    g_ptr_array_add(m->audio_peers, a);
}

static void audio_remove(struct tsr_conf_mixer *m, uint32_t id)
{
    struct audio_peer *a = audio_find(m, id);
    if (!a)
        return;
    tsr_audio_mixer_remove(m->audio, id);
    g_ptr_array_remove(m->audio_peers, a);
    audio_peer_free(a);
}

/* An arriving packet goes into the participant's buffer (bad, late and duplicate
 * packets are counted there); without a buffer, straight to the mixer. */
static void audio_receive(struct tsr_conf_mixer *m, const struct mix_cmd *c)
{
    struct audio_peer *a = audio_find(m, c->id);
    if (!a)
        return;
    if (a->buffer)
        tsr_audio_buffer_push(a->buffer, &c->pkt, c->at_us);
    else if (!c->pkt.redundant)                         /* RED copies only fill a buffer's gaps */
        tsr_audio_mixer_push(m->audio, c->id, &c->pkt); /* counted inside */
}

/* Hand the mixer what each participant's buffer has ready, up to the lookahead. */
static void audio_release(struct tsr_conf_mixer *m, int64_t now_us)
{
    struct tsr_audio_buffer_out o;
    for (guint i = 0; i < m->audio_peers->len; i++) {
        struct audio_peer *a = g_ptr_array_index(m->audio_peers, i);
        while (a->buffer && a->queued < LOOKAHEAD_SAMPLES) {
            enum tsr_audio_buffer_result r = tsr_audio_buffer_pop(a->buffer, now_us, &o);
            if (r == TSR_AUDIO_BUFFER_EMPTY)
                break;
            if (r == TSR_AUDIO_BUFFER_PACKET) {
                struct tsr_audio_packet pkt = {.data = o.data,
                                               .len_bytes = o.len,
                                               .ts_rtp = o.timestamp_rtp,
                                               .seq = o.seq,
                                               .level = o.level,
                                               .voice = o.voice};
                tsr_audio_mixer_push(m->audio, a->id, &pkt); /* counted inside */
            } else {
                tsr_audio_mixer_lost(m->audio, a->id, o.seq);
            }
            a->queued += (int64_t)o.samples * a->rate_ratio; /* 48 kHz */
        }
    }
}

/* The mixer played one tick of every participant (or concealed what was missing). */
static void audio_played(struct tsr_conf_mixer *m)
{
    for (guint i = 0; i < m->audio_peers->len; i++) {
        struct audio_peer *a = g_ptr_array_index(m->audio_peers, i);
        a->queued = MAX(0, a->queued - TSR_AUDIO_TICK_SAMPLES);
    }
}

/* Returns false on STOP. */
static bool audio_cmd(struct tsr_conf_mixer *m, struct mix_cmd *c)
{
    switch (c->type) {
    case MIX_CMD_ADD:
        audio_add(m, c);
        break;
    case MIX_CMD_REMOVE:
        audio_remove(m, c->id);
        break;
    case MIX_CMD_MUTE:
        tsr_audio_mixer_set_muted(m->audio, c->id, TSR_AUDIO_MUTE_HOST, c->a);
        break;
    case MIX_CMD_AUDIO:
        audio_receive(m, c);
        break;
    case MIX_CMD_OUTPUT_ADD:
    case MIX_CMD_OUTPUT_REMOVE:
        tsr_mix_outputs_audio_cmd(m, c);
        break;
    case MIX_CMD_STOP:
        return false;
    default:
        break;
    }
    return true;
}

/* Audio payloads of one tick, packetized once per encoder. */
struct tick_payloads {
    uint32_t encoder_id[64];
    struct tsr_rtp_packetized *pkts[64];
    size_t n;
};

/* The audio thread's packetizers: Opus (checks each packet's TOC) and G.711/G.722
 * (opaque frames: their bytes must not be read as Opus, or one frame in a few is
 * refused as a malformed Opus packet and never sent). */
struct audio_pay {
    struct tsr_rtp_packetizer *opus, *narrow;
};

static struct tsr_rtp_packetized *tick_packetize(struct tick_payloads *tp,
                                                 const struct audio_pay *ap,
                                                 const struct tsr_audio_out *o, int64_t capture)
{
    struct tsr_rtp_packetizer *pz = o->codec == TSR_AUDIO_CODEC_OPUS ? ap->opus : ap->narrow;
    for (size_t i = 0; i < tp->n; i++)
        if (tp->encoder_id[i] == o->encoder_id)
            return tp->pkts[i];
    size_t len = 0;
    const uint8_t *data = tsr_audio_payload_data(o->payload, &len);
    struct tsr_rtp_packetized *pk = NULL;
    if (tp->n == G_N_ELEMENTS(tp->pkts) ||
        tsr_rtp_packetizer_run(pz, data, len, 0, capture, false, &pk) != 0)
        return NULL;
    tp->encoder_id[tp->n] = o->encoder_id;
    tp->pkts[tp->n++] = pk;
    return pk;
}

static void report_talkers(struct tsr_conf_mixer *m)
{
    uint32_t ids[TSR_LAYOUT_MAX_TILES];
    size_t n = MIN(tsr_audio_mixer_talkers(m->audio, ids, G_N_ELEMENTS(ids)), G_N_ELEMENTS(ids));
    g_mutex_lock(&m->talkers_lock);
    bool same = n == m->n_talkers_shared && memcmp(ids, m->talkers_shared, n * sizeof ids[0]) == 0;
    memcpy(m->talkers_shared, ids, n * sizeof ids[0]);
    m->n_talkers_shared = n;
    g_mutex_unlock(&m->talkers_lock);
    if (same || !m->params.on_talkers)
        return;
    const char *pids[TSR_LAYOUT_MAX_TILES];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct audio_peer *a = audio_find(m, ids[i]);
        if (a)
            pids[k++] = a->pid;
    }
    m->params.on_talkers(m->params.user, pids, k);
}

static void audio_tick(struct tsr_conf_mixer *m, const struct audio_pay *pz, int64_t now_us)
{
    const struct tsr_audio_out *outs = NULL;
    size_t n = 0;
    audio_release(m, now_us);
    int rc = tsr_audio_mixer_tick(m->audio, (now_us - m->start_us) / 1000, &outs, &n);
    audio_played(m);
    if (rc != 0)
        return;
    struct tick_payloads tp = {.n = 0};
    for (size_t i = 0; i < n; i++) {
        struct audio_peer *a = audio_find(m, outs[i].participant_id);
        if (!a || !a->has_audio || !outs[i].payload)
            continue;
        struct tsr_rtp_packetized *pk = tick_packetize(&tp, pz, &outs[i], now_us);
        if (pk)
            tsr_media_peer_send_audio(a->peer, outs[i].codec, pk);
    }
    for (size_t i = 0; i < tp.n; i++)
        tsr_rtp_packetized_unref(&tp.pkts[i]);
    tsr_mix_outputs_audio_tick(m, outs, n, now_us - m->start_us);
    report_talkers(m);
    struct tsr_audio_mixer_stats as;
    tsr_audio_mixer_stats(m->audio, &as);
    g_mutex_lock(&m->stats_lock);
    m->stats.audio_encoders = as.encoders_live;
    m->stats.audio_ticks++;
    g_mutex_unlock(&m->stats_lock);
}

/* Ticks on exact 20 ms multiples of the conference's start, so RTP timestamps
 * advance evenly whatever the wake-up jitter. */
static gpointer audio_main(gpointer data)
{
    struct tsr_conf_mixer *m = data;
    struct audio_pay pay = {0};
    tsr_rtp_packetizer_new(&pay.opus, &tsr_rtp_codec_opus);
    tsr_rtp_packetizer_new(&pay.narrow, &tsr_rtp_codec_narrowband);
    int64_t next = m->start_us;
    for (;;) {
        int64_t now = g_get_monotonic_time();
        struct mix_cmd *c = g_async_queue_timeout_pop(m->audio_queue, MAX(0, next - now));
        if (c) {
            bool go_on = audio_cmd(m, c);
            tsr_mix_cmd_free(c);
            if (!go_on)
                break;
            continue;
        }
        now = g_get_monotonic_time();
        if (now < next)
            continue;
        audio_tick(m, &pay, next);
        next = now - next > MAX_LAG_US ? now + AUDIO_TICK_US : next + AUDIO_TICK_US;
    }
    while (m->audio_peers->len)
        audio_remove(m, ((struct audio_peer *)g_ptr_array_index(m->audio_peers, 0))->id);
    tsr_mix_outputs_audio_free_all(m);
    tsr_rtp_packetizer_free(&pay.opus);
    tsr_rtp_packetizer_free(&pay.narrow);
    return NULL;
}

void tsr_mix_audio_start(struct tsr_conf_mixer *m)
{
    char name[16];
    g_snprintf(name, sizeof name, "aud-%.10s", m->log_ctx);
    m->audio_thread = g_thread_new(name, audio_main, m);
}

void tsr_mix_audio_post(struct tsr_conf_mixer *m, struct mix_cmd *c)
{
    if (!c) {
        tsr_mix_count_lost_command();
        return;
    }
    if (g_atomic_int_get(&m->closed)) {
        tsr_mix_cmd_free(c);
        return;
    }
    g_async_queue_push(m->audio_queue, c);
}

void tsr_mix_audio_stop(struct tsr_conf_mixer *m)
{
    if (!m->audio_thread)
        return;
    g_async_queue_push(m->audio_queue, g_steal_pointer(&m->audio_stop));
    tsr_loop_assert_may_wait("stopping a conference's audio thread");
    g_thread_join(m->audio_thread);
    m->audio_thread = NULL;
}
