/* Audio mixer: mix-minus tones, limiter at full scale, loss + FEC, encoder
 * count at 100 participants, seamless talker/listener switches. Real Opus all
 * the way: senders encode with libopus, receivers decode what the mixer sent. */
#include "../common/tone.h"
#include <tessera/audio_limiter.h>
#include <tessera/audio_mixer.h>
#include <tessera/err.h>
#include <tessera/g711.h>
#include <tessera/g722.h>
#include <tessera/opus_codec.h>

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RATE 48000
#define TICK TSR_AUDIO_TICK_SAMPLES
#define MINUS_0_1_DBFS 32393

/* --- helpers ----------------------------------------------------------- */

/* Amplitude of tone `f` at 48 kHz: tests/common/tone.h. */
static double tone_db(const int16_t *x, size_t n, double f)
{
    return tsr_test_tone_db(x, n, f, RATE);
}

struct sender {
    uint32_t id;
    struct tsr_opus_encoder *enc;
    uint16_t seq;
    uint32_t ts;
    size_t pos; /* samples generated */
};

static void sender_init(struct sender *s, uint32_t id, bool voice_fec)
{
    struct tsr_opus_encoder_params p = {.bitrate_bps = voice_fec ? 32000 : 64000,
                                        .channels = 1,
                                        .fec = voice_fec,
                                        .complexity = 5,
                                        .expected_loss_pct = voice_fec ? 20 : 0,
                                        .voice = voice_fec};
    memset(s, 0, sizeof(*s));
    s->id = id;
    s->seq = (uint16_t)(1000 * id);
    s->ts = 7777u * id;
    g_assert_cmpint(tsr_opus_encoder_new(&s->enc, &p), ==, 0);
}

/* Encode the next 20 ms of a sine (f Hz, amplitude amp of full scale). */
static int sender_encode(struct sender *s, double f, double amp, uint8_t *pkt, size_t cap)
{
    int16_t pcm[TICK];
    for (size_t i = 0; i < TICK; i++)
        pcm[i] = (int16_t)lrint(amp * 32767.0 * sin(2.0 * M_PI * f * (double)(s->pos + i) / RATE));
    s->pos += TICK;
    int len = tsr_opus_encode(s->enc, pcm, TICK, pkt, cap);
    g_assert_cmpint(len, >, 0);
    return len;
}

/* Encode and push; `drop` loses the packet (sequence number still used). */
static void sender_send(struct sender *s, struct tsr_audio_mixer *m, double f, double amp,
                        int level, bool drop)
{
    uint8_t pkt[TSR_OPUS_MAX_PACKET_BYTES];
    int len = sender_encode(s, f, amp, pkt, sizeof(pkt));
    struct tsr_audio_packet ap = {.data = pkt,
                                  .len_bytes = (size_t)len,
                                  .ts_rtp = s->ts,
                                  .seq = s->seq,
                                  .level = level,
                                  .voice = level < 127};
    if (!drop)
        g_assert_cmpint(tsr_audio_mixer_push(m, s->id, &ap), ==, 0);
    s->seq++;
    s->ts += TICK;
}

static struct tsr_audio_mixer *mixer_new(int k)
{
    struct tsr_audio_mixer_params p;
    tsr_audio_mixer_params_default(&p);
    p.talkers = k;
    p.hold_ms = 100;
    struct tsr_audio_mixer *m = NULL;
    g_assert_cmpint(tsr_audio_mixer_new(&m, &p), ==, 0);
    return m;
}

static const struct tsr_audio_variant VAR_64K = {.bitrate_bps = 64000, .channels = 1, .fec = false};
/* Transparent enough that codec noise stays 40 dB under a -20 dBFS tone. */
static const struct tsr_audio_variant VAR_128K = {
    .bitrate_bps = 128000, .channels = 1, .fec = false};
static const struct tsr_audio_variant VAR_32K_FEC = {
    .bitrate_bps = 32000, .channels = 1, .fec = true};

static const struct tsr_audio_out *out_of(const struct tsr_audio_out *outs, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++) {
        if (outs[i].participant_id == id)
            return &outs[i];
    }
    g_error("no output for participant %u", id);
    return NULL;
}

/* Decode what participant `id` received this tick into pcm (960 samples). */
static void receive(struct tsr_opus_decoder *d, const struct tsr_audio_out *o, int16_t *pcm)
{
    size_t len;
    const uint8_t *data = tsr_audio_payload_data(o->payload, &len);
    g_assert_cmpint(tsr_opus_decode(d, data, len, pcm, TICK), ==, TICK);
}

/* --- tones: mix-minus ---------------------------------------------------- */

#define TONES 8
static double tone_freq(uint32_t id)
{
    return 300.0 + 170.0 * id;
}

static void test_tones_mix_minus(void)
{
    enum { TICKS = 16, KEEP = 10, LISTENER = 9, MUTED = 10 };
    struct tsr_audio_mixer *m = mixer_new(TONES);
    struct sender s[MUTED + 1];
    struct tsr_opus_decoder *dec[MUTED + 1];
    int16_t *heard[MUTED + 1];
    for (uint32_t id = 1; id <= MUTED; id++) {
        sender_init(&s[id], id, false);
        g_assert_cmpint(tsr_audio_mixer_add(m, id, &VAR_128K), ==, 0);
        g_assert_cmpint(tsr_opus_decoder_new(&dec[id]), ==, 0);
        heard[id] = g_new0(int16_t, KEEP * TICK);
    }
    /* the loudest of all, but muted by the host: nobody may hear 2000 Hz */
    g_assert_cmpint(tsr_audio_mixer_set_muted(m, MUTED, TSR_AUDIO_MUTE_HOST, true), ==, 0);
    for (int t = 0; t < TICKS; t++) {
        for (uint32_t id = 1; id <= TONES; id++)
            sender_send(&s[id], m, tone_freq(id), 0.1, 20, false);
        sender_send(&s[LISTENER], m, 0, 0.0, 127, false);
        sender_send(&s[MUTED], m, 2000.0, 0.5, 0, false);
        const struct tsr_audio_out *outs;
        size_t n;
        g_assert_cmpint(tsr_audio_mixer_tick(m, t * 20, &outs, &n), ==, 0);
        g_assert_cmpuint(n, ==, MUTED);
        for (uint32_t id = 1; id <= MUTED; id++) {
            int16_t pcm[TICK];
            const struct tsr_audio_out *o = out_of(outs, n, id);
            g_assert_cmpuint(o->ts_48k, ==, (uint32_t)t * TICK);
            receive(dec[id], o, pcm);
            if (t >= TICKS - KEEP)
                memcpy(heard[id] + (t - (TICKS - KEEP)) * TICK, pcm, sizeof(pcm));
        }
    }
    uint32_t order[TONES];
    g_assert_cmpuint(tsr_audio_mixer_talkers(m, order, TONES), ==, TONES);
    for (uint32_t who = 1; who <= MUTED; who++) {
        double min_other = 0;
        for (uint32_t id = 1; id <= TONES; id++) {
            if (id == who)
                continue;
            double db = tone_db(heard[who], KEEP * TICK, tone_freq(id));
            g_assert_cmpfloat(db, >, 20 * log10(0.1) - 3.0); /* every other talker present */
            min_other = db < min_other ? db : min_other;
        }
        if (who <= TONES) {
            double own = tone_db(heard[who], KEEP * TICK, tone_freq(who));
            g_test_message("participant %u: own %.1f dB, weakest other %.1f dB", who, own,
                           min_other);
            g_assert_cmpfloat(own, <, min_other - 40.0);
        }
        g_assert_cmpfloat(tone_db(heard[who], KEEP * TICK, 2000.0), <, min_other - 40.0);
    }
    for (uint32_t id = 1; id <= MUTED; id++) {
        tsr_opus_encoder_free(&s[id].enc);
        tsr_opus_decoder_free(&dec[id]);
        g_free(heard[id]);
    }
    tsr_audio_mixer_free(&m);
    g_assert_null(m);
}

/* --- limiter: ten talkers at full scale --------------------------------- */

static void test_full_scale_limited(void)
{
    enum { N = 10, TICKS = 12, LISTENER = N + 1 };
    struct tsr_audio_mixer *m = mixer_new(N);
    struct sender s[N + 2];
    struct tsr_opus_decoder *ref[N + 1]; /* the same decode as the mixer's: the true inputs */
    for (uint32_t id = 1; id <= LISTENER; id++) {
        sender_init(&s[id], id, false);
        g_assert_cmpint(tsr_audio_mixer_add(m, id, &VAR_64K), ==, 0);
        if (id <= N)
            g_assert_cmpint(tsr_opus_decoder_new(&ref[id]), ==, 0);
    }
    /* true sums, delayed by the limiter, per output: [0] listener, [id] talker id */
    int32_t hist[N + 1][TICK + TSR_LIMITER_DELAY];
    memset(hist, 0, sizeof(hist));
    uint64_t checked = 0;
    for (int t = 0; t < TICKS; t++) {
        int16_t in[N + 1][TICK];
        for (uint32_t id = 1; id <= N; id++) {
            uint8_t pkt[TSR_OPUS_MAX_PACKET_BYTES];
            int len = sender_encode(&s[id], 150.0 + 97.0 * id, 1.0, pkt, sizeof(pkt));
            struct tsr_audio_packet ap = {.data = pkt,
                                          .len_bytes = (size_t)len,
                                          .ts_rtp = (uint32_t)t * TICK,
                                          .seq = s[id].seq++,
                                          .level = 0,
                                          .voice = true};
            g_assert_cmpint(tsr_audio_mixer_push(m, id, &ap), ==, 0);
            g_assert_cmpint(tsr_opus_decode(ref[id], pkt, (size_t)len, in[id], TICK), ==, TICK);
        }
        sender_send(&s[LISTENER], m, 0, 0.0, 127, false);
        const struct tsr_audio_out *outs;
        size_t n;
        g_assert_cmpint(tsr_audio_mixer_tick(m, t * 20, &outs, &n), ==, 0);
        for (uint32_t who = 0; who <= N; who++) {
            int32_t *h = hist[who];
            memmove(h, h + TICK, TSR_LIMITER_DELAY * sizeof(*h));
            for (int i = 0; i < TICK; i++) {
                int32_t sum = 0;
                for (uint32_t id = 1; id <= N; id++)
                    sum += id == who ? 0 : in[id][i];
                h[TSR_LIMITER_DELAY + i] = sum;
            }
            const int16_t *pcm;
            g_assert_cmpint(tsr_audio_mixer_last_pcm(m, who ? who : LISTENER, &pcm), ==, 0);
            for (int i = 0; i < TICK; i++) {
                int32_t truth = h[i]; /* output sample i is input sample i - DELAY */
                if ((int64_t)truth * pcm[i] < 0)
                    g_error("tick %d output %u sample %d wrapped: sum %d, out %d", t, who, i, truth,
                            pcm[i]);
                g_assert_cmpint(abs(pcm[i]), <=, MINUS_0_1_DBFS);
                g_assert_cmpint(abs(pcm[i]), <=, abs(truth));
                checked++;
            }
        }
    }
    g_assert_cmpuint(checked, ==, (uint64_t)TICKS * TICK * (N + 1));
    for (uint32_t id = 1; id <= LISTENER; id++) {
        tsr_opus_encoder_free(&s[id].enc);
        if (id <= N)
            tsr_opus_decoder_free(&ref[id]);
    }
    tsr_audio_mixer_free(&m);
}

/* --- loss and FEC --------------------------------------------------------- */

/* SNR (dB) of x against the reference r over one tick. */
static double snr_db(const int16_t *x, const int16_t *r)
{
    double sig = 0, err = 0;
    for (int i = 0; i < TICK; i++) {
        sig += (double)r[i] * r[i];
        err += ((double)x[i] - r[i]) * ((double)x[i] - r[i]);
    }
    return 10.0 * log10((sig + 1) / (err + 1));
}

/* One talker with in-band FEC loses 10 % of its packets at random (plus one
 * double loss). A second mixer gets every packet: what a listener hears must
 * have no gap, and each lost frame whose successor arrived must come back from
 * that successor's FEC close to the lossless mix. The jitter buffer runs one
 * packet ahead, so at mix time a gap is known and the next packet queued. */
static void test_loss_fec(void)
{
    enum { TICKS = 50, TALKER = 1, LISTENER = 2 };
    struct tsr_audio_mixer *m = mixer_new(3), *ref = mixer_new(3);
    struct sender talker, quiet;
    sender_init(&talker, TALKER, true);
    sender_init(&quiet, LISTENER, false);
    for (uint32_t id = 1; id <= 2; id++) {
        g_assert_cmpint(tsr_audio_mixer_add(m, id, &VAR_32K_FEC), ==, 0);
        g_assert_cmpint(tsr_audio_mixer_add(ref, id, &VAR_32K_FEC), ==, 0);
    }
    GRand *rng = g_rand_new_with_seed(4);
    bool lost[TICKS + 1] = {false};
    for (int i = 3; i <= TICKS; i++)
        lost[i] = g_rand_double(rng) < 0.10;
    lost[20] = lost[21] = true;
    g_rand_free(rng);
    int fec_frames = 0, fec_any = 0, plc_frames = 0;
    for (int t = -1; t < TICKS; t++) {
        uint8_t pkt[TSR_OPUS_MAX_PACKET_BYTES];
        double f = 300.0 + 40.0 * (t % 9); /* a voice-like moving pitch */
        int len = sender_encode(&talker, f, 0.3, pkt, sizeof(pkt));
        struct tsr_audio_packet ap = {.data = pkt,
                                      .len_bytes = (size_t)len,
                                      .ts_rtp = talker.ts,
                                      .seq = talker.seq,
                                      .level = 20};
        talker.ts += TICK;
        talker.seq++;
        g_assert_cmpint(tsr_audio_mixer_push(ref, TALKER, &ap), ==, 0);
        if (!lost[t + 1])
            g_assert_cmpint(tsr_audio_mixer_push(m, TALKER, &ap), ==, 0);
        if (t < 0)
            continue;
        len = sender_encode(&quiet, 0, 0.0, pkt, sizeof(pkt));
        ap = (struct tsr_audio_packet){.data = pkt,
                                       .len_bytes = (size_t)len,
                                       .ts_rtp = (uint32_t)t * TICK,
                                       .seq = (uint16_t)t,
                                       .level = 127};
        g_assert_cmpint(tsr_audio_mixer_push(m, LISTENER, &ap), ==, 0);
        g_assert_cmpint(tsr_audio_mixer_push(ref, LISTENER, &ap), ==, 0);
        const struct tsr_audio_out *outs;
        size_t n;
        g_assert_cmpint(tsr_audio_mixer_tick(m, t * 20, &outs, &n), ==, 0);
        g_assert_cmpint(tsr_audio_mixer_tick(ref, t * 20, &outs, &n), ==, 0);
        const int16_t *pcm, *want;
        g_assert_cmpint(tsr_audio_mixer_last_pcm(m, LISTENER, &pcm), ==, 0);
        g_assert_cmpint(tsr_audio_mixer_last_pcm(ref, LISTENER, &want), ==, 0);
        if (t < 2)
            continue;
        /* no gap: every tick carries the talker (silence would be 60 dB down) */
        double rms = 0;
        for (int i = 0; i < TICK; i++)
            rms += (double)pcm[i] * pcm[i];
        rms = 20 * log10(sqrt(rms / TICK) / 32767.0 * sqrt(2.0));
        g_assert_cmpfloat(rms, >, 20 * log10(0.3) - 12.0);
        double snr = snr_db(pcm, want);
        fec_any += lost[t] && !lost[t + 1];
        if (lost[t] && !lost[t - 1] && !lost[t + 1]) {
            fec_frames++; /* recovered from the next packet: close to lossless */
            g_assert_cmpfloat(snr, >, 6.0);
        } else if (lost[t] && lost[t + 1])
            plc_frames++;
        else if (!lost[t] && !lost[t - 1] && !lost[t - 2])
            g_assert_cmpfloat(snr, >, 10.0); /* the decoder re-converges: no lasting damage */
    }
    struct tsr_audio_mixer_stats st;
    tsr_audio_mixer_stats(m, &st);
    g_test_message("isolated FEC frames %d, concealed %d, stats fec %" G_GUINT64_FORMAT
                   " plc %" G_GUINT64_FORMAT,
                   fec_frames, plc_frames, st.frames_fec, st.frames_concealed);
    g_assert_cmpint(fec_frames, >=, 3);
    g_assert_cmpuint(st.frames_concealed, ==, (uint64_t)plc_frames);
    g_assert_cmpuint(st.frames_fec, ==, (uint64_t)fec_any);
    tsr_opus_encoder_free(&talker.enc);
    tsr_opus_encoder_free(&quiet.enc);
    tsr_audio_mixer_free(&m);
    tsr_audio_mixer_free(&ref);
}

/* --- encoder count at 100 participants ----------------------------------- */

static void test_encoder_count(void)
{
    enum { N = 100, TICKS = 5 };
    struct tsr_audio_mixer *m = mixer_new(3);
    struct sender talk[4];
    for (uint32_t id = 1; id <= 3; id++)
        sender_init(&talk[id], id, false);
    /* the 97 listeners send the same quiet packets (pre-encoded once) */
    struct sender quiet;
    sender_init(&quiet, 999, false);
    uint8_t qpkt[TICKS][TSR_OPUS_MAX_PACKET_BYTES];
    int qlen[TICKS];
    for (int t = 0; t < TICKS; t++)
        qlen[t] = sender_encode(&quiet, 200.0, 0.001, qpkt[t], sizeof(qpkt[t]));
    for (uint32_t id = 1; id <= N; id++)
        g_assert_cmpint(tsr_audio_mixer_add(m, id, id % 2 ? &VAR_64K : &VAR_32K_FEC), ==, 0);
    g_assert_cmpint(tsr_audio_mixer_add(m, 5, &VAR_64K), ==, TSR_ERR_STATE);
    for (int t = 0; t < TICKS; t++) {
        for (uint32_t id = 1; id <= 3; id++)
            sender_send(&talk[id], m, 500.0 + 100 * id, 0.2, 25, false);
        for (uint32_t id = 4; id <= N; id++) {
            struct tsr_audio_packet ap = {.data = qpkt[t],
                                          .len_bytes = (size_t)qlen[t],
                                          .ts_rtp = (uint32_t)t * TICK,
                                          .seq = (uint16_t)t,
                                          .level = 70,
                                          .voice = false};
            g_assert_cmpint(tsr_audio_mixer_push(m, id, &ap), ==, 0);
        }
        const struct tsr_audio_out *outs;
        size_t n;
        g_assert_cmpint(tsr_audio_mixer_tick(m, t * 20, &outs, &n), ==, 0);
        g_assert_cmpuint(n, ==, N);
        struct tsr_audio_mixer_stats st;
        tsr_audio_mixer_stats(m, &st);
        g_assert_cmpuint(st.talkers, ==, 3);
        g_assert_cmpuint(st.encoders_shared, ==, 2);
        g_assert_cmpuint(st.encoders_live, ==, 3 + 2);
        g_assert_cmpuint(st.decoders_live, ==, 3);
        /* listeners of a variant share one payload (packetize once); talkers do not */
        const struct tsr_audio_out *a = out_of(outs, n, 5), *b = out_of(outs, n, 4);
        for (uint32_t id = 4; id <= N; id++) {
            const struct tsr_audio_out *o = out_of(outs, n, id);
            const struct tsr_audio_out *same = id % 2 ? a : b;
            g_assert_true(o->shared && !o->talker);
            g_assert_true(o->payload == same->payload);
            g_assert_cmpuint(o->encoder_id, ==, same->encoder_id);
        }
        g_assert_true(a->payload != b->payload);
        for (uint32_t id = 1; id <= 3; id++) {
            const struct tsr_audio_out *o = out_of(outs, n, id);
            g_assert_true(o->talker && !o->shared);
            g_assert_true(o->payload != a->payload && o->payload != b->payload);
        }
    }
    /* a payload outlives the tick when referenced */
    const struct tsr_audio_out *outs;
    size_t n;
    g_assert_cmpint(tsr_audio_mixer_tick(m, TICKS * 20, &outs, &n), ==, 0);
    struct tsr_audio_payload *keep = tsr_audio_payload_ref(outs[10].payload);
    tsr_audio_mixer_free(&m);
    size_t len;
    g_assert_nonnull(tsr_audio_payload_data(keep, &len));
    g_assert_cmpuint(len, >, 0);
    tsr_audio_payload_unref(&keep);
    g_assert_null(keep);
    for (uint32_t id = 1; id <= 3; id++)
        tsr_opus_encoder_free(&talk[id].enc);
    tsr_opus_encoder_free(&quiet.enc);
}

/* --- switching between listener and talker -------------------------------- */

/* Residual (dB relative to the tone) of 960 decoded samples that should hold
 * only a 500 Hz sine (exactly 10 periods, so a rectangular Goertzel is exact). */
static double residual_db(const int16_t *x)
{
    double w = 2.0 * M_PI * 500.0 / RATE, c = 2.0 * cos(w), s1 = 0, s2 = 0, e = 0;
    for (int i = 0; i < TICK; i++) {
        double s0 = x[i] + c * s1 - s2;
        s2 = s1;
        s1 = s0;
        e += (double)x[i] * x[i];
    }
    double tone = 2.0 * (s1 * s1 + s2 * s2 - c * s1 * s2) / TICK; /* energy of the sine */
    double rest = e - tone;
    return 10.0 * log10((rest > 0 ? rest : 0) / tone + 1e-12);
}

/* Participant P hears talker A (500 Hz). P starts talking (its own 900 Hz is
 * removed from what it hears, so its content does not change), then stops and
 * falls back to the shared encoder. What P's client decodes must stay one clean
 * 500 Hz tone through both switches: no click, no gap, continuous timestamps. */
static void test_switch_is_seamless(void)
{
    enum { TICKS = 40, A = 1, P = 2, L = 3 };
    struct tsr_audio_mixer *m = mixer_new(2);
    struct sender s[4];
    for (uint32_t id = 1; id <= 3; id++) {
        sender_init(&s[id], id, false);
        g_assert_cmpint(tsr_audio_mixer_add(m, id, &VAR_64K), ==, 0);
    }
    struct tsr_opus_decoder *client = NULL;
    g_assert_cmpint(tsr_opus_decoder_new(&client), ==, 0);
    bool was_talker = false;
    int switches = 0;
    double worst = -200;
    for (int t = 0; t < TICKS; t++) {
        bool p_talks = t >= 10 && t < 20;
        sender_send(&s[A], m, 500.0, 0.3, 20, false);
        sender_send(&s[P], m, 900.0, p_talks ? 0.3 : 0.0, p_talks ? 20 : 127, false);
        sender_send(&s[L], m, 0, 0.0, 127, false);
        const struct tsr_audio_out *outs;
        size_t n;
        g_assert_cmpint(tsr_audio_mixer_tick(m, t * 20, &outs, &n), ==, 0);
        const struct tsr_audio_out *o = out_of(outs, n, P);
        g_assert_cmpuint(o->ts_48k, ==, (uint32_t)t * TICK);
        switches += o->talker != was_talker;
        was_talker = o->talker;
        int16_t pcm[TICK];
        receive(client, o, pcm);
        if (t >= 3) {
            double r = residual_db(pcm);
            worst = r > worst ? r : worst;
            if (r > -25.0)
                g_error("tick %d (P %s): residual %.1f dB", t, o->talker ? "talker" : "listener",
                        r);
        }
    }
    g_test_message("worst residual %.1f dB over %d switches", worst, switches);
    g_assert_cmpint(switches, ==, 2);
    tsr_opus_decoder_free(&client);
    for (uint32_t id = 1; id <= 3; id++)
        tsr_opus_encoder_free(&s[id].enc);
    tsr_audio_mixer_free(&m);
}

/* P speaks quietly (below the talking level) before it becomes loud enough to
 * be a talker, so its last packets before the switch carry signal. The decoder
 * the mixer starts for P must be warmed up from those packets: from the first
 * tick, what listener L receives equals A + P decoded by decoders that ran all
 * along (no onset click, no lost syllable). */
static void test_new_talker_decoder_is_warm(void)
{
    enum { TICKS = 16, A = 1, P = 2, L = 3, D = TSR_LIMITER_DELAY };
    struct tsr_audio_mixer *m = mixer_new(2);
    struct sender s[4];
    struct tsr_opus_decoder *ref[3];
    for (uint32_t id = 1; id <= 3; id++) {
        sender_init(&s[id], id, false);
        g_assert_cmpint(tsr_audio_mixer_add(m, id, &VAR_64K), ==, 0);
        if (id <= P)
            g_assert_cmpint(tsr_opus_decoder_new(&ref[id]), ==, 0);
    }
    int32_t hist[TICK + D] = {0};
    for (int t = 0; t < TICKS; t++) {
        int16_t dec[3][TICK];
        for (uint32_t id = A; id <= P; id++) {
            uint8_t pkt[TSR_OPUS_MAX_PACKET_BYTES];
            int len = sender_encode(&s[id], id == A ? 500.0 : 900.0, 0.3, pkt, sizeof(pkt));
            int level = id == A ? 20 : (t < 10 ? 60 : 20);
            struct tsr_audio_packet ap = {.data = pkt,
                                          .len_bytes = (size_t)len,
                                          .ts_rtp = s[id].ts,
                                          .seq = s[id].seq++,
                                          .level = level};
            s[id].ts += TICK;
            g_assert_cmpint(tsr_audio_mixer_push(m, id, &ap), ==, 0);
            g_assert_cmpint(tsr_opus_decode(ref[id], pkt, (size_t)len, dec[id], TICK), ==, TICK);
        }
        sender_send(&s[L], m, 0, 0.0, 127, false);
        const struct tsr_audio_out *outs;
        size_t n;
        g_assert_cmpint(tsr_audio_mixer_tick(m, t * 20, &outs, &n), ==, 0);
        bool p_talker = out_of(outs, n, P)->talker;
        g_assert_true(p_talker == (t >= 10));
        memmove(hist, hist + TICK, D * sizeof(hist[0]));
        for (int i = 0; i < TICK; i++)
            hist[D + i] = dec[A][i] + (p_talker ? dec[P][i] : 0);
        const int16_t *pcm;
        g_assert_cmpint(tsr_audio_mixer_last_pcm(m, L, &pcm), ==, 0);
        int16_t want[TICK];
        for (int i = 0; i < TICK; i++)
            want[i] = (int16_t)hist[i];
        double snr = snr_db(pcm, want);
        if (t >= 10 && t <= 11)
            g_test_message("tick %d: listener vs continuous decoders %.1f dB", t, snr);
        g_assert_cmpfloat(snr, >, 40.0);
    }
    for (uint32_t id = 1; id <= 3; id++) {
        tsr_opus_encoder_free(&s[id].enc);
        if (id <= P)
            tsr_opus_decoder_free(&ref[id]);
    }
    tsr_audio_mixer_free(&m);
}

/* Encode the next `n` samples (10..60 ms) of a sine and push them as one packet. */
static void sender_send_n(struct sender *s, struct tsr_audio_mixer *m, size_t n, double f,
                          int level)
{
    int16_t pcm[2880];
    for (size_t i = 0; i < n; i++)
        pcm[i] = (int16_t)lrint(0.3 * 32767.0 * sin(2.0 * M_PI * f * (double)(s->pos + i) / RATE));
    s->pos += n;
    uint8_t pkt[TSR_OPUS_MAX_PACKET_BYTES];
    int len = tsr_opus_encode(s->enc, pcm, n, pkt, sizeof(pkt));
    g_assert_cmpint(len, >, 0);
    struct tsr_audio_packet ap = {
        .data = pkt, .len_bytes = (size_t)len, .ts_rtp = s->ts, .seq = s->seq++, .level = level};
    s->ts += (uint32_t)n;
    g_assert_cmpint(tsr_audio_mixer_push(m, s->id, &ap), ==, 0);
}

/* Talkers sending 10 ms and 60 ms packets are mixed on the 20 ms tick without
 * gaps: every tick carries both tones at their level. */
static void test_packet_durations(void)
{
    enum { TICKS = 18, T10 = 1, T60 = 2, L = 3 };
    struct tsr_audio_mixer *m = mixer_new(3);
    struct sender s[4];
    for (uint32_t id = 1; id <= 3; id++) {
        sender_init(&s[id], id, false);
        g_assert_cmpint(tsr_audio_mixer_add(m, id, &VAR_64K), ==, 0);
    }
    for (int t = 0; t < TICKS; t++) {
        sender_send_n(&s[T10], m, 480, 600.0, 20);
        sender_send_n(&s[T10], m, 480, 600.0, 20);
        if (t % 3 == 0)
            sender_send_n(&s[T60], m, 2880, 1300.0, 20);
        sender_send(&s[L], m, 0, 0.0, 127, false);
        const struct tsr_audio_out *outs;
        size_t n;
        g_assert_cmpint(tsr_audio_mixer_tick(m, t * 20, &outs, &n), ==, 0);
        const int16_t *pcm;
        g_assert_cmpint(tsr_audio_mixer_last_pcm(m, L, &pcm), ==, 0);
        if (t < 3)
            continue;
        double a = tone_db(pcm, TICK, 600.0), b = tone_db(pcm, TICK, 1300.0);
        if (fabs(a - 20 * log10(0.3)) > 2.0 || fabs(b - 20 * log10(0.3)) > 2.0)
            g_error("tick %d: 10 ms talker %.1f dB, 60 ms talker %.1f dB", t, a, b);
    }
    struct tsr_audio_mixer_stats st;
    tsr_audio_mixer_stats(m, &st);
    g_assert_cmpuint(st.frames_concealed, ==, 0);
    for (uint32_t id = 1; id <= 3; id++)
        tsr_opus_encoder_free(&s[id].enc);
    tsr_audio_mixer_free(&m);
}

/* Senders without the RFC 6464 extension are decoded to measure their level:
 * the loud one becomes a talker, the silent one does not, and a self-muted
 * loud one is never heard. */
static void test_level_from_signal(void)
{
    enum { TICKS = 8, LOUD = 1, SILENT = 2, MUTED = 3, L = 4 };
    struct tsr_audio_mixer *m = mixer_new(3);
    struct sender s[5];
    for (uint32_t id = 1; id <= 4; id++) {
        sender_init(&s[id], id, false);
        g_assert_cmpint(tsr_audio_mixer_add(m, id, &VAR_64K), ==, 0);
    }
    g_assert_cmpint(tsr_audio_mixer_set_muted(m, MUTED, TSR_AUDIO_MUTE_SELF, true), ==, 0);
    for (int t = 0; t < TICKS; t++) {
        sender_send(&s[LOUD], m, 700.0, 0.3, TSR_AUDIO_LEVEL_ABSENT, false);
        sender_send(&s[SILENT], m, 0, 0.0, TSR_AUDIO_LEVEL_ABSENT, false);
        sender_send(&s[MUTED], m, 1500.0, 0.5, TSR_AUDIO_LEVEL_ABSENT, false);
        sender_send(&s[L], m, 0, 0.0, 127, false);
        const struct tsr_audio_out *outs;
        size_t n;
        g_assert_cmpint(tsr_audio_mixer_tick(m, t * 20, &outs, &n), ==, 0);
    }
    uint32_t ids[3];
    g_assert_cmpuint(tsr_audio_mixer_talkers(m, ids, 3), ==, 1);
    g_assert_cmpuint(ids[0], ==, LOUD);
    struct tsr_audio_mixer_stats st;
    tsr_audio_mixer_stats(m, &st);
    g_assert_cmpuint(st.decoders_live, ==, 2); /* LOUD and SILENT; not the muted one */
    const int16_t *pcm;
    g_assert_cmpint(tsr_audio_mixer_last_pcm(m, L, &pcm), ==, 0);
    g_assert_cmpfloat(tone_db(pcm, TICK, 700.0), >, 20 * log10(0.3) - 2.0);
    g_assert_cmpfloat(tone_db(pcm, TICK, 1500.0), <, -60.0);
    /* unmuting makes it a talker at the next tick */
    g_assert_cmpint(tsr_audio_mixer_set_muted(m, MUTED, TSR_AUDIO_MUTE_SELF, false), ==, 0);
    sender_send(&s[LOUD], m, 700.0, 0.3, TSR_AUDIO_LEVEL_ABSENT, false);
    sender_send(&s[SILENT], m, 0, 0.0, TSR_AUDIO_LEVEL_ABSENT, false);
    sender_send(&s[MUTED], m, 1500.0, 0.5, TSR_AUDIO_LEVEL_ABSENT, false);
    sender_send(&s[L], m, 0, 0.0, 127, false);
    const struct tsr_audio_out *outs;
    size_t n;
    g_assert_cmpint(tsr_audio_mixer_tick(m, TICKS * 20, &outs, &n), ==, 0);
    g_assert_cmpuint(tsr_audio_mixer_talkers(m, ids, 3), ==, 2);
    for (uint32_t id = 1; id <= 4; id++)
        tsr_opus_encoder_free(&s[id].enc);
    tsr_audio_mixer_free(&m);
}

/* A stereo variant gets stereo packets; with DTX on, silence becomes 1..2 byte
 * packets flagged for the RTP layer to skip, while timestamps keep running. */
static void test_stereo_and_dtx(void)
{
    struct tsr_audio_mixer_params p;
    tsr_audio_mixer_params_default(&p);
    p.dtx = true;
    struct tsr_audio_mixer *m = NULL;
    g_assert_cmpint(tsr_audio_mixer_new(&m, &p), ==, 0);
    const struct tsr_audio_variant stereo = {.bitrate_bps = 48000, .channels = 2, .fec = false};
    g_assert_cmpint(tsr_audio_mixer_add(m, 1, &stereo), ==, 0);
    g_assert_cmpint(tsr_audio_mixer_add(m, 2, &VAR_64K), ==, 0);
    struct sender s[3];
    sender_init(&s[1], 1, false);
    sender_init(&s[2], 2, false);
    int dtx = 0;
    for (int t = 0; t < 40; t++) {
        sender_send(&s[1], m, 0, 0.0, 127, false);
        sender_send(&s[2], m, 0, 0.0, 127, false);
        const struct tsr_audio_out *outs;
        size_t n;
        g_assert_cmpint(tsr_audio_mixer_tick(m, t * 20, &outs, &n), ==, 0);
        const struct tsr_audio_out *o = out_of(outs, n, 1);
        size_t len;
        const uint8_t *data = tsr_audio_payload_data(o->payload, &len);
        g_assert_true(data[0] & 0x04); /* TOC stereo flag */
        g_assert_true(o->dtx == (len <= 2));
        g_assert_cmpuint(o->ts_48k, ==, (uint32_t)t * TICK);
        dtx += o->dtx;
    }
    g_assert_cmpint(dtx, >, 20); /* libopus enters DTX after ~200 ms of silence */
    tsr_opus_encoder_free(&s[1].enc);
    tsr_opus_encoder_free(&s[2].enc);
    tsr_audio_mixer_free(&m);
}

/* --- hostile input and API contract --------------------------------------- */

static void test_bad_input(void)
{
    struct tsr_audio_mixer *m = mixer_new(3);
    g_assert_cmpint(tsr_audio_mixer_add(m, 1, &VAR_64K), ==, 0);
    const uint8_t junk[] = {0x03, 0x00};
    struct tsr_audio_packet ap = {.data = junk, .len_bytes = sizeof(junk), .level = 10};
    g_assert_cmpint(tsr_audio_mixer_push(m, 1, &ap), ==, TSR_ERR_INVALID);
    ap.len_bytes = 0;
    g_assert_cmpint(tsr_audio_mixer_push(m, 1, &ap), ==, TSR_ERR_INVALID);
    struct sender s;
    sender_init(&s, 1, false);
    uint8_t pkt[TSR_OPUS_MAX_PACKET_BYTES];
    int len = sender_encode(&s, 440, 0.1, pkt, sizeof(pkt));
    ap = (struct tsr_audio_packet){.data = pkt, .len_bytes = (size_t)len, .seq = 5, .level = 128};
    g_assert_cmpint(tsr_audio_mixer_push(m, 1, &ap), ==, TSR_ERR_INVALID);
    ap.level = 10;
    g_assert_cmpint(tsr_audio_mixer_push(m, 1, &ap), ==, 0);
    g_assert_cmpint(tsr_audio_mixer_push(m, 1, &ap), ==, TSR_ERR_STATE); /* duplicate */
    g_assert_cmpint(tsr_audio_mixer_push(m, 2, &ap), ==, TSR_ERR_NOT_FOUND);
    g_assert_cmpint(tsr_audio_mixer_lost(m, 1, 9), ==, TSR_ERR_STATE);
    g_assert_cmpint(tsr_audio_mixer_lost(m, 1, 6), ==, 0);
    const int16_t *pcm;
    g_assert_cmpint(tsr_audio_mixer_last_pcm(m, 1, &pcm), ==, TSR_ERR_AGAIN);
    struct tsr_audio_mixer_stats st;
    tsr_audio_mixer_stats(m, &st);
    g_assert_cmpuint(st.packets_invalid, ==, 3);
    g_assert_cmpuint(st.packets_late, ==, 1);
    g_assert_cmpuint(st.packets_in, ==, 1);
    struct tsr_audio_variant bad = {.bitrate_bps = 100, .channels = 1};
    g_assert_cmpint(tsr_audio_mixer_add(m, 3, &bad), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_audio_mixer_set_muted(m, 1, 7, true), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_audio_mixer_remove(m, 1), ==, 0);
    g_assert_cmpint(tsr_audio_mixer_remove(m, 1), ==, TSR_ERR_NOT_FOUND);
    tsr_audio_mixer_stats(m, &st);
    g_assert_cmpuint(st.encoders_live, ==, 0);
    tsr_opus_encoder_free(&s.enc);
    tsr_audio_mixer_free(&m);
    tsr_audio_mixer_free(&m);
}

/* --- G.711 participants ------------------------------------------------- */

/* Push 20 ms of a sine as G.711 (8 kHz) or, with g722, as G.722 (16 kHz): 160
 * bytes either way, timestamps 160 apart (RFC 3551 gives G.722 an 8000 Hz clock). */
static void narrow_send(struct sender *s, struct tsr_audio_mixer *m, enum tsr_g711_law law,
                        struct tsr_g722_encoder *g722, double f, double amp, int level)
{
    int rate = g722 ? 16000 : 8000;
    size_t n = (size_t)rate / 50;
    int16_t pcm[320];
    uint8_t pkt[160];
    tsr_test_sine(pcm, n, f, rate, amp, s->pos);
    s->pos += n;
    if (g722)
        g_assert_cmpint(tsr_g722_encode(g722, pcm, n, pkt, sizeof pkt), ==, 160);
    else
        tsr_g711_encode(law, pcm, n, pkt);
    struct tsr_audio_packet ap = {
        .data = pkt, .len_bytes = 160, .ts_rtp = s->ts, .seq = s->seq, .level = level};
    g_assert_cmpint(tsr_audio_mixer_push(m, s->id, &ap), ==, 0);
    s->seq++;
    s->ts += 160;
}

/* An Opus talker (1 kHz), a PCMU talker (500 Hz) and two silent listeners (PCMA,
 * PCMU): the G.711 talker hears the Opus one and not itself, in 160-byte 20 ms
 * frames; the Opus talker hears the G.711 one at its level; each law's listeners
 * get the shared mix of their law. */
static void test_g711(void)
{
    enum { TICKS = 20, KEEP = 10, OPUS = 1, MU = 2, A = 3, MU2 = 4 };
    struct tsr_audio_mixer *m = mixer_new(3);
    struct tsr_audio_variant mu = VAR_64K, a = VAR_64K;
    mu.codec = TSR_AUDIO_CODEC_PCMU;
    a.codec = TSR_AUDIO_CODEC_PCMA;
    g_assert_cmpint(tsr_audio_mixer_add(m, OPUS, &VAR_128K), ==, 0);
    g_assert_cmpint(tsr_audio_mixer_add(m, MU, &mu), ==, 0);
    g_assert_cmpint(tsr_audio_mixer_add(m, A, &a), ==, 0);
    g_assert_cmpint(tsr_audio_mixer_add(m, MU2, &mu), ==, 0);
    struct sender s[5];
    for (uint32_t id = OPUS; id <= MU2; id++)
        sender_init(&s[id], id, false);
    struct tsr_opus_decoder *dec = NULL;
    g_assert_cmpint(tsr_opus_decoder_new(&dec), ==, 0);
    int16_t heard_opus[KEEP * TICK], heard[5][KEEP * 160];
    for (int t = 0; t < TICKS; t++) {
        sender_send(&s[OPUS], m, 1000, 0.1, 20, false);
        narrow_send(&s[MU], m, TSR_G711_ULAW, NULL, 500, 0.1, 20);
        narrow_send(&s[A], m, TSR_G711_ALAW, NULL, 0, 0, 127);
        narrow_send(&s[MU2], m, TSR_G711_ULAW, NULL, 0, 0, 127);
        const struct tsr_audio_out *outs;
        size_t n;
        g_assert_cmpint(tsr_audio_mixer_tick(m, t * 20, &outs, &n), ==, 0);
        int16_t pcm[TICK];
        receive(dec, out_of(outs, n, OPUS), pcm);
        g_assert_true(out_of(outs, n, MU)->talker);
        g_assert_true(out_of(outs, n, A)->shared && out_of(outs, n, MU2)->shared);
        g_assert_cmpuint(out_of(outs, n, A)->encoder_id, !=, out_of(outs, n, MU2)->encoder_id);
        if (t < TICKS - KEEP)
            continue;
        memcpy(heard_opus + (t - (TICKS - KEEP)) * TICK, pcm, sizeof pcm);
        for (uint32_t id = MU; id <= MU2; id++) {
            size_t len;
            const uint8_t *d = tsr_audio_payload_data(out_of(outs, n, id)->payload, &len);
            g_assert_cmpuint(len, ==, 160);
            tsr_g711_decode(id == A ? TSR_G711_ALAW : TSR_G711_ULAW, d, 160,
                            heard[id] + (t - (TICKS - KEEP)) * 160);
        }
    }
    double lvl = 20 * log10(0.1);
    g_assert_cmpfloat(fabs(tone_db(heard_opus, KEEP * TICK, 500) - lvl), <, 1.5);
    g_assert_cmpfloat(tone_db(heard_opus, KEEP * TICK, 1000), <, lvl - 40);
    g_assert_cmpfloat(fabs(tsr_test_tone_db(heard[MU], KEEP * 160, 1000, 8000) - lvl), <, 1.5);
    g_assert_cmpfloat(tsr_test_tone_db(heard[MU], KEEP * 160, 500, 8000), <, lvl - 30);
    for (uint32_t id = A; id <= MU2; id++) {
        g_assert_cmpfloat(fabs(tsr_test_tone_db(heard[id], KEEP * 160, 1000, 8000) - lvl), <, 1.5);
        g_assert_cmpfloat(fabs(tsr_test_tone_db(heard[id], KEEP * 160, 500, 8000) - lvl), <, 1.5);
    }
    struct tsr_audio_mixer_stats st;
    tsr_audio_mixer_stats(m, &st);
    g_assert_cmpuint(st.encoders_shared, ==, 3); /* Opus, PCMU, PCMA */
    for (uint32_t id = OPUS; id <= MU2; id++)
        tsr_opus_encoder_free(&s[id].enc);
    tsr_opus_decoder_free(&dec);
    tsr_audio_mixer_free(&m);
}

/* --- G.722 participants ------------------------------------------------- */

/* An Opus talker (1 kHz), a G.722 talker (5 kHz: wideband, beyond G.711's band)
 * and two silent G.722 listeners in one mix: the G.722 talker hears the Opus one
 * and not itself, the Opus talker hears 5 kHz at its level, and both listeners
 * get the same 160-byte payloads of one shared G.722 encoder holding both tones. */
static void test_g722(void)
{
    enum { TICKS = 25, KEEP = 15, OPUS = 1, TALK = 2, L1 = 3, L2 = 4 };
    struct tsr_audio_mixer *m = mixer_new(3);
    struct tsr_audio_variant wide = VAR_64K;
    wide.codec = TSR_AUDIO_CODEC_G722;
    g_assert_cmpint(tsr_audio_mixer_add(m, OPUS, &VAR_128K), ==, 0);
    for (uint32_t id = TALK; id <= L2; id++)
        g_assert_cmpint(tsr_audio_mixer_add(m, id, &wide), ==, 0);
    struct sender s[5];
    struct tsr_g722_encoder *enc[5] = {NULL};
    struct tsr_g722_decoder *dec[5] = {NULL};
    for (uint32_t id = OPUS; id <= L2; id++) {
        sender_init(&s[id], id, false);
        if (id == OPUS)
            continue;
        g_assert_cmpint(tsr_g722_encoder_new(&enc[id]), ==, 0);
        g_assert_cmpint(tsr_g722_decoder_new(&dec[id]), ==, 0);
    }
    struct tsr_opus_decoder *odec = NULL;
    g_assert_cmpint(tsr_opus_decoder_new(&odec), ==, 0);
    static int16_t heard_opus[KEEP * TICK], heard[5][KEEP * 320];
    for (int t = 0; t < TICKS; t++) {
        sender_send(&s[OPUS], m, 1000, 0.1, 20, false);
        narrow_send(&s[TALK], m, TSR_G711_ULAW /* unused */, enc[TALK], 5000, 0.1, 20);
        narrow_send(&s[L1], m, TSR_G711_ULAW /* unused */, enc[L1], 0, 0, 127);
        narrow_send(&s[L2], m, TSR_G711_ULAW /* unused */, enc[L2], 0, 0, 127);
        const struct tsr_audio_out *outs;
        size_t n;
        g_assert_cmpint(tsr_audio_mixer_tick(m, t * 20, &outs, &n), ==, 0);
        int16_t pcm[TICK];
        receive(odec, out_of(outs, n, OPUS), pcm);
        g_assert_true(out_of(outs, n, TALK)->talker);
        g_assert_true(out_of(outs, n, L1)->shared && out_of(outs, n, L2)->shared);
        g_assert_cmpuint(out_of(outs, n, L1)->encoder_id, ==, out_of(outs, n, L2)->encoder_id);
        size_t k = t >= TICKS - KEEP ? (size_t)(t - (TICKS - KEEP)) : 0;
        if (t >= TICKS - KEEP)
            memcpy(heard_opus + k * TICK, pcm, sizeof pcm);
        for (uint32_t id = TALK; id <= L2; id++) {
            size_t len;
            const uint8_t *d = tsr_audio_payload_data(out_of(outs, n, id)->payload, &len);
            g_assert_cmpuint(len, ==, 160);
            int16_t w[320];
            g_assert_cmpint(tsr_g722_decode(dec[id], d, len, w, 320), ==, 320);
            if (t >= TICKS - KEEP)
                memcpy(heard[id] + k * 320, w, sizeof w);
        }
    }
    double lvl = 20 * log10(0.1), got;
    g_assert_cmpfloat(fabs(tone_db(heard_opus, KEEP * TICK, 5000) - lvl), <, 1.5);
    g_assert_cmpfloat(tone_db(heard_opus, KEEP * TICK, 1000), <, lvl - 40);
    got = tsr_test_tone_db(heard[TALK], KEEP * 320, 1000, 16000);
    g_test_message("G.722 talker hears the Opus 1 kHz at %.2f dBFS (sent %.1f)", got, lvl);
    g_assert_cmpfloat(fabs(got - lvl), <, 1.5);
    g_assert_cmpfloat(tsr_test_tone_db(heard[TALK], KEEP * 320, 5000, 16000), <, lvl - 30);
    for (uint32_t id = L1; id <= L2; id++) {
        g_assert_cmpfloat(fabs(tsr_test_tone_db(heard[id], KEEP * 320, 1000, 16000) - lvl), <, 1.5);
        g_assert_cmpfloat(fabs(tsr_test_tone_db(heard[id], KEEP * 320, 5000, 16000) - lvl), <, 1.5);
    }
    struct tsr_audio_mixer_stats st;
    tsr_audio_mixer_stats(m, &st);
    g_assert_cmpuint(st.encoders_shared, ==, 2); /* Opus, G.722 */
    for (uint32_t id = OPUS; id <= L2; id++) {
        tsr_opus_encoder_free(&s[id].enc);
        tsr_g722_encoder_free(&enc[id]);
        tsr_g722_decoder_free(&dec[id]);
    }
    tsr_opus_decoder_free(&odec);
    tsr_audio_mixer_free(&m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/audio_mixer/tones_mix_minus", test_tones_mix_minus);
    g_test_add_func("/audio_mixer/full_scale_limited", test_full_scale_limited);
    g_test_add_func("/audio_mixer/loss_fec", test_loss_fec);
    g_test_add_func("/audio_mixer/encoder_count", test_encoder_count);
    g_test_add_func("/audio_mixer/switch_is_seamless", test_switch_is_seamless);
    g_test_add_func("/audio_mixer/new_talker_decoder_is_warm", test_new_talker_decoder_is_warm);
    g_test_add_func("/audio_mixer/packet_durations", test_packet_durations);
    g_test_add_func("/audio_mixer/level_from_signal", test_level_from_signal);
    g_test_add_func("/audio_mixer/stereo_and_dtx", test_stereo_and_dtx);
    g_test_add_func("/audio_mixer/bad_input", test_bad_input);
    g_test_add_func("/audio_mixer/g711", test_g711);
    g_test_add_func("/audio_mixer/g722", test_g722);
    return g_test_run();
}
