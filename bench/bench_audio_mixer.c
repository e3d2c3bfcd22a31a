/* Audio mixer cost per 20 ms tick: Tessera's talker mixer at N = 10, 100, 1000
 * participants (3 talkers) beside the naive mixer (decode all N, encode one
 * N-1 mix per listener) at N = 10 and 100, measured in the same run.
 *
 * Inputs are pre-encoded Opus packets (32 kb/s, FEC) with RFC 6464 levels:
 * three talkers with a moving pitch, everyone else low background noise. Both
 * mixers output the same variant (32 kb/s mono, FEC, complexity 5). Time is the
 * thread CPU time of push (all N packets) + tick, so it is what one core spends.
 *
 * Usage: bench_audio_mixer OUT_DIR   (writes OUT_DIR/audio_mixer.csv) */
#include <tessera/audio_mixer.h>
#include <tessera/opus_codec.h>

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define TICK TSR_AUDIO_TICK_SAMPLES
#define STREAM_TICKS 50 /* 1 s of pre-encoded input, looped */
#define TALKERS 3

struct stream {
    uint8_t pkt[STREAM_TICKS][TSR_OPUS_MAX_PACKET_BYTES];
    int len[STREAM_TICKS];
    int level[STREAM_TICKS];
};

static struct stream streams[TALKERS + 1]; /* [TALKERS] is the background */

static double now_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static const struct tsr_opus_encoder_params SENDER = {.bitrate_bps = 32000,
                                                      .channels = 1,
                                                      .fec = true,
                                                      .complexity = 5,
                                                      .expected_loss_pct = 10,
                                                      .voice = true};

static void make_streams(void)
{
    GRand *rng = g_rand_new_with_seed(7);
    for (int s = 0; s <= TALKERS; s++) {
        struct tsr_opus_encoder *e = NULL;
        if (tsr_opus_encoder_new(&e, &SENDER) < 0)
            abort();
        double phase = 0;
        for (int t = 0; t < STREAM_TICKS; t++) {
            int16_t pcm[TICK];
            double f0 = 120.0 + 40.0 * s + 30.0 * sin(t * 0.3), amp = s < TALKERS ? 0.25 : 0.002;
            for (int i = 0; i < TICK; i++) {
                /* a buzzy voiced sound (fundamental + 2 harmonics) or faint noise */
                phase += 2.0 * M_PI * f0 / 48000.0;
                double v = s < TALKERS ? sin(phase) + 0.5 * sin(2 * phase) + 0.25 * sin(3 * phase)
                                       : g_rand_double_range(rng, -1.0, 1.0);
                pcm[i] = (int16_t)lrint(amp * 32767.0 * v * 0.6);
            }
            streams[s].len[t] =
                tsr_opus_encode(e, pcm, TICK, streams[s].pkt[t], TSR_OPUS_MAX_PACKET_BYTES);
            streams[s].level[t] = s < TALKERS ? 18 + s * 3 : 75;
        }
        tsr_opus_encoder_free(&e);
    }
    g_rand_free(rng);
}

static const struct stream *stream_of(int participant)
{
    return &streams[participant < TALKERS ? participant : TALKERS];
}

/* Tessera: µs of CPU per tick (push N + tick), averaged over `ticks`. */
static double run_tessera(int n, int ticks, size_t *encoders, size_t *decoders)
{
    struct tsr_audio_mixer_params p;
    tsr_audio_mixer_params_default(&p);
    struct tsr_audio_variant v = {.bitrate_bps = 32000, .channels = 1, .fec = true};
    struct tsr_audio_mixer *m = NULL;
    if (tsr_audio_mixer_new(&m, &p) < 0)
        abort();
    for (int i = 0; i < n; i++)
        tsr_audio_mixer_add(m, (uint32_t)i + 1, &v);
    const int warm = 10;
    double t0 = 0;
    for (int t = 0; t < warm + ticks; t++) {
        if (t == warm)
            t0 = now_cpu_us();
        int k = t % STREAM_TICKS;
        for (int i = 0; i < n; i++) {
            const struct stream *s = stream_of(i);
            struct tsr_audio_packet ap = {.data = s->pkt[k],
                                          .len_bytes = (size_t)s->len[k],
                                          .ts_rtp = (uint32_t)t * TICK,
                                          .seq = (uint16_t)t,
                                          .level = s->level[k],
                                          .voice = true};
            tsr_audio_mixer_push(m, (uint32_t)i + 1, &ap);
        }
        const struct tsr_audio_out *outs;
        size_t nouts;
        if (tsr_audio_mixer_tick(m, t * 20, &outs, &nouts) < 0)
            abort();
    }
    double us = (now_cpu_us() - t0) / ticks;
    struct tsr_audio_mixer_stats st;
    tsr_audio_mixer_stats(m, &st);
    *encoders = st.encoders_live;
    *decoders = st.decoders_live;
    tsr_audio_mixer_free(&m);
    return us;
}

/* The usual mixer: every input decoded, one N-1 mix and encoder per listener,
 * saturating int16 sum (what it would do without a limiter). */
static double run_naive(int n, int ticks)
{
    struct tsr_opus_decoder **dec = calloc((size_t)n, sizeof(*dec));
    struct tsr_opus_encoder **enc = calloc((size_t)n, sizeof(*enc));
    int16_t *pcm = malloc((size_t)n * TICK * sizeof(int16_t));
    struct tsr_opus_encoder_params ep = SENDER;
    for (int i = 0; i < n; i++) {
        if (tsr_opus_decoder_new(&dec[i]) < 0 || tsr_opus_encoder_new(&enc[i], &ep) < 0)
            abort();
    }
    const int warm = 2;
    double t0 = 0;
    for (int t = 0; t < warm + ticks; t++) {
        if (t == warm)
            t0 = now_cpu_us();
        int k = t % STREAM_TICKS;
        int32_t total[TICK] = {0};
        for (int i = 0; i < n; i++) {
            const struct stream *s = stream_of(i);
            tsr_opus_decode(dec[i], s->pkt[k], (size_t)s->len[k], pcm + (size_t)i * TICK, TICK);
            for (int j = 0; j < TICK; j++)
                total[j] += pcm[(size_t)i * TICK + j];
        }
        for (int i = 0; i < n; i++) {
            int16_t mix[TICK];
            uint8_t out[TSR_OPUS_MAX_PACKET_BYTES];
            for (int j = 0; j < TICK; j++) {
                int32_t x = total[j] - pcm[(size_t)i * TICK + j];
                mix[j] = (int16_t)(x > 32767 ? 32767 : x < -32768 ? -32768 : x);
            }
            tsr_opus_encode(enc[i], mix, TICK, out, sizeof(out));
        }
    }
    double us = (now_cpu_us() - t0) / ticks;
    for (int i = 0; i < n; i++) {
        tsr_opus_decoder_free(&dec[i]);
        tsr_opus_encoder_free(&enc[i]);
    }
    free(dec);
    free(enc);
    free(pcm);
    return us;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "bench/results";
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        fprintf(stderr, "cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    make_streams();
    static const int ns[] = {10, 100, 1000};
    double tess[3];
    size_t enc[3], dec[3];
    for (int i = 0; i < 3; i++)
        tess[i] = run_tessera(ns[i], 100, &enc[i], &dec[i]);
    double naive10 = run_naive(10, 50), naive100 = run_naive(100, 10);
    /* naive cost is linear in N (N decodes + N encodes + N mixes) */
    double naive1000 = naive100 * 10.0;

    printf("Audio mixer, %d talkers, 32 kb/s Opus in and out; CPU per 20 ms tick\n", TALKERS);
    printf("%-8s %6s %12s %10s %9s %9s\n", "mixer", "N", "us/tick", "% core", "encoders",
           "decoders");
    char *csv_path = g_build_filename(dir, "audio_mixer.csv", NULL);
    FILE *csv = fopen(csv_path, "w");
    if (!csv) {
        fprintf(stderr, "cannot write %s: %s\n", csv_path, strerror(errno));
        g_free(csv_path);
        return 1;
    }
    fprintf(csv, "mixer,n,talkers,us_per_tick,core_pct,encoders,decoders\n");
    for (int i = 0; i < 3; i++) {
        printf("%-8s %6d %12.1f %9.2f%% %9zu %9zu\n", "tessera", ns[i], tess[i], tess[i] / 200.0,
               enc[i], dec[i]);
        fprintf(csv, "tessera,%d,%d,%.1f,%.3f,%zu,%zu\n", ns[i], TALKERS, tess[i], tess[i] / 200.0,
                enc[i], dec[i]);
    }
    printf("%-8s %6d %12.1f %9.2f%% %9d %9d\n", "naive", 10, naive10, naive10 / 200.0, 10, 10);
    printf("%-8s %6d %12.1f %9.2f%% %9d %9d\n", "naive", 100, naive100, naive100 / 200.0, 100, 100);
    printf("%-8s %6d %12.1f %9.2f%% %9d %9d  (extrapolated x10 from N=100)\n", "naive", 1000,
           naive1000, naive1000 / 200.0, 1000, 1000);
    fprintf(csv, "naive,10,%d,%.1f,%.3f,10,10\n", TALKERS, naive10, naive10 / 200.0);
    fprintf(csv, "naive,100,%d,%.1f,%.3f,100,100\n", TALKERS, naive100, naive100 / 200.0);
    fprintf(csv, "naive_extrapolated,1000,%d,%.1f,%.3f,1000,1000\n", TALKERS, naive1000,
            naive1000 / 200.0);
    printf("ratio naive/tessera: N=10 %.1fx, N=100 %.1fx, N=1000 %.1fx (naive extrapolated)\n",
           naive10 / tess[0], naive100 / tess[1], naive1000 / tess[2]);
    fprintf(csv, "ratio,1000,%d,%.1f,,,\n", TALKERS, naive1000 / tess[2]);
    fclose(csv);
    printf("CSV: %s\n", csv_path);
    g_free(csv_path);
    return 0;
}
