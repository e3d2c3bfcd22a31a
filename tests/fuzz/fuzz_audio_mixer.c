/* Fuzz target: hostile Opus packets, sequence numbers, levels and loss reports
 * into the audio mixer (push validation, queue and gap handling, FEC/PLC,
 * decoder warm-up, limiter, shared and personal encoders).
 *
 * Input: records of [flags][level][len][len bytes of payload]:
 *   flags bits 0-1 participant (1..3; 0 = 3), bit 2 report the next sequence
 *   lost instead of pushing, bit 3 run a tick after the record, bits 4-7 added
 *   to the sequence number (0 = in order; jumps make gaps, wraps make late ones).
 *   level 0..127 is an RFC 6464 level, anything above means "absent". */
#include <tessera/audio_mixer.h>

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct tsr_audio_variant variants[3] = {
    {.bitrate_bps = 32000, .channels = 1, .fec = true},
    {.bitrate_bps = 64000, .channels = 2, .fec = false},
    {.bitrate_bps = 32000, .channels = 1, .fec = true},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tsr_audio_mixer_params p;
    tsr_audio_mixer_params_default(&p);
    p.talkers = 2;
    p.hold_ms = 40;
    struct tsr_audio_mixer *m = NULL;
    if (tsr_audio_mixer_new(&m, &p) < 0)
        return 0;
    for (uint32_t id = 1; id <= 3; id++)
        tsr_audio_mixer_add(m, id, &variants[id - 1]);
    uint16_t seq[4] = {0, 100, 200, 300};
    uint32_t ts[4] = {0, 0, 0, 0};
    int64_t now_ms = 0;
    int ticks = 0;
    size_t i = 0;
    while (i + 3 <= size && ticks < 64) {
        uint8_t flags = data[i], level = data[i + 1], len = data[i + 2];
        i += 3;
        if (len > size - i)
            len = (uint8_t)(size - i);
        uint32_t id = (flags & 3) ? (flags & 3u) : 3u;
        seq[id] = (uint16_t)(seq[id] + (flags >> 4));
        if (flags & 4) {
            tsr_audio_mixer_lost(m, id, seq[id]);
        } else {
            struct tsr_audio_packet pkt = {.data = data + i,
                                           .len_bytes = len,
                                           .ts_rtp = ts[id],
                                           .seq = seq[id],
                                           .level = level <= 127 ? level : TSR_AUDIO_LEVEL_ABSENT,
                                           .voice = level < 64};
            tsr_audio_mixer_push(m, id, &pkt);
        }
        seq[id]++;
        ts[id] += 960;
        i += len;
        if (flags & 8) {
            const struct tsr_audio_out *outs;
            size_t n;
            tsr_audio_mixer_tick(m, now_ms, &outs, &n);
            now_ms += 20;
            ticks++;
        }
    }
    if (ticks == 0) { /* always mix at least once */
        const struct tsr_audio_out *outs;
        size_t n;
        tsr_audio_mixer_tick(m, now_ms, &outs, &n);
    }
    uint32_t talkers[4];
    tsr_audio_mixer_talkers(m, talkers, 4);
    tsr_audio_mixer_free(&m);
    return 0;
}
