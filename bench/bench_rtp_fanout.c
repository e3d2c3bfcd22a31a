/* Fan-out of one encoded frame to N subscribers (DESIGN.md principle 5):
 * "once"  — packetize once, each subscriber writes its own RTP header in front
 *           of the shared payloads (what Tessera does);
 * "each"  — packetize again for every subscriber, then write (the naive way).
 * Both write every packet into a send buffer, as SRTP protect needs. Prints a
 * table and writes rtp_fanout.csv into argv[1]. Ratios are measured side by
 * side in one run. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include <tessera/rtcp.h>
#include <tessera/rtp_codec.h>
#include <tessera/rtp_stream_out.h>

#define FRAME_BYTES 60000 /* a 720p VP8 keyframe-sized frame */
#define ROUNDS 200

static double run(bool once, size_t subs, const uint8_t *frame, struct tsr_rtp_stream_out **outs,
                  struct tsr_rtp_packetizer *pz)
{
    uint8_t buf[1500];
    size_t len, sink = 0;
    int64_t t0 = g_get_monotonic_time();
    for (int r = 0; r < ROUNDS; r++) {
        struct tsr_rtp_packetized *shared = NULL;
        if (once)
            tsr_rtp_packetizer_run(pz, frame, FRAME_BYTES, 1200, r * 33333, true, &shared);
        for (size_t s = 0; s < subs; s++) {
            struct tsr_rtp_packetized *pk = shared;
            if (!once)
                tsr_rtp_packetizer_run(pz, frame, FRAME_BYTES, 1200, r * 33333, true, &pk);
            for (size_t i = 0; i < tsr_rtp_packetized_count(pk); i++) {
                tsr_rtp_stream_out_write(outs[s], pk, i, NULL, buf, sizeof buf, &len);
                sink += buf[len - 1];
            }
            if (!once)
                tsr_rtp_packetized_unref(&pk);
        }
        tsr_rtp_packetized_unref(&shared);
    }
    int64_t t1 = g_get_monotonic_time();
    if (sink == 1)
        printf(" ");
    return (double)(t1 - t0) / ROUNDS;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    static uint8_t frame[FRAME_BYTES];
    for (size_t i = 0; i < sizeof frame; i++)
        frame[i] = (uint8_t)(i * 31 + 7);
    struct tsr_media_clock clock;
    tsr_media_clock_init(&clock, 0, g_get_real_time());
    struct tsr_rtp_packetizer *pz = NULL;
    tsr_rtp_packetizer_new(&pz, &tsr_rtp_codec_vp8);
    const size_t counts[] = {4, 16, 64};
    struct tsr_rtp_stream_out *outs[64];
    for (size_t s = 0; s < 64; s++) {
        struct tsr_rtp_stream_out_config c = {.ssrc = (uint32_t)(1000 + s), .payload_type = 96,
                                              .clock_rate = 90000, .history_packets = 512};
        tsr_rtp_stream_out_new(&outs[s], &c, &clock);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/rtp_fanout.csv", dir);
    FILE *csv = fopen(path, "w");
    if (csv)
        fprintf(csv, "subscribers,once_us_per_frame,each_us_per_frame,once_over_each\n");
    printf("%-12s %16s %16s %10s\n", "subscribers", "once us/frame", "each us/frame", "ratio");
    for (size_t k = 0; k < G_N_ELEMENTS(counts); k++) {
        run(true, counts[k], frame, outs, pz); /* warm-up */
        double once = run(true, counts[k], frame, outs, pz);
        double each = run(false, counts[k], frame, outs, pz);
        printf("%-12zu %16.1f %16.1f %10.2f\n", counts[k], once, each, once / each);
        if (csv)
            fprintf(csv, "%zu,%.1f,%.1f,%.3f\n", counts[k], once, each, once / each);
    }
    if (csv)
        fclose(csv);
    for (size_t s = 0; s < 64; s++)
        tsr_rtp_stream_out_free(&outs[s]);
    tsr_rtp_packetizer_free(&pz);
    return 0;
}
