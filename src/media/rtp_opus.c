/* Opus RTP payload format (RFC 7587): one Opus packet per RTP payload, no header. */
#include <tessera/rtp_codec.h>

#include <errno.h>
#include <string.h>

#include <tessera/err.h>

/* RFC 6716 §3.1: frame duration from the TOC config, frame count from code c. */
int tsr_rtp_opus_packet_samples(const uint8_t *p, size_t len)
{
    static const uint16_t silk_celt_48k[32] = {
        480, 960, 1920, 2880, 480, 960, 1920, 2880, 480, 960, 1920, 2880, /* SILK */
        480, 960, 480,  960,                                              /* Hybrid */
        120, 240, 480,  960,  120, 240, 480,  960,  120, 240, 480,  960,  /* CELT */
        120, 240, 480,  960,
    };
    unsigned frames;
    if (!p || len < 1)
        return TSR_ERR_TRUNCATED;
    switch (p[0] & 3) {
    case 0:
        frames = 1;
        break;
    case 1:
    case 2:
        frames = 2;
        break;
    default:
        if (len < 2)
            return TSR_ERR_TRUNCATED;
        frames = p[1] & 0x3f;
        if (frames == 0)
            return TSR_ERR_INVALID;
        break;
    }
    unsigned samples = frames * silk_celt_48k[p[0] >> 3];
    if (samples > 5760) /* 120 ms is the RFC 6716 maximum */
        return TSR_ERR_INVALID;
    return (int)samples;
}

static int opus_inspect(const uint8_t *payload, size_t len, struct tsr_rtp_payload_info *info)
{
    int s = tsr_rtp_opus_packet_samples(payload, len);
    if (s < 0)
        return s;
    memset(info, 0, sizeof *info);
    info->frame_start = true;
    info->keyframe = true; /* every Opus packet decodes on its own */
    info->picture_id = -1;
    return 0;
}

static int opus_depacketize(void *state, const uint8_t *const *payloads, const size_t *lens,
                            size_t n, GByteArray *out, struct tsr_rtp_frame_info *info)
{
    (void)state;
    if (n != 1)
        return TSR_ERR_INVALID;
    int s = tsr_rtp_opus_packet_samples(payloads[0], lens[0]);
    if (s < 0)
        return s;
    g_byte_array_append(out, payloads[0], (guint)lens[0]);
    info->keyframe = true;
    return 0;
}

static int opus_packetize(void *state, const uint8_t *frame, size_t len, size_t max_payload,
                          struct tsr_rtp_packetized *out)
{
    (void)state;
    if (len > max_payload)
        return -EMSGSIZE; /* Opus packets are never fragmented */
    if (tsr_rtp_opus_packet_samples(frame, len) < 0)
        return -EINVAL;
    return tsr_rtp_packetized_append(out, NULL, 0, frame, len);
}

const struct tsr_rtp_codec tsr_rtp_codec_opus = {
    .name = "opus",
    .id = TSR_RTP_CODEC_OPUS,
    .clock_rate = 48000,
    .video = false,
    .inspect = opus_inspect,
    .depacketize = opus_depacketize,
    .packetize = opus_packetize,
};
