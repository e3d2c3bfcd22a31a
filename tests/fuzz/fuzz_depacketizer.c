/* libFuzzer target: every depacketizer. Byte 0 picks the codec (VP8, H.264,
 * Opus); the rest is a list of payloads, each prefixed by a one-byte length,
 * inspected one by one and then depacketized as one frame (twice, so the H.264
 * SPS/PPS memory from the first run is used by the second). */
#include <stdint.h>
#include <stdlib.h>

#include <tessera/rtp_codec.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct tsr_rtp_codec *const codecs[] = {&tsr_rtp_codec_vp8, &tsr_rtp_codec_h264,
                                                         &tsr_rtp_codec_opus};
    const uint8_t *pl[64];
    size_t len[64], n = 0, off = 1;

    if (size < 1)
        return 0;
    const struct tsr_rtp_codec *c = codecs[data[0] % 3];
    while (off < size && n < 64) {
        size_t l = data[off++];
        if (l > size - off)
            l = size - off;
        /* exact-size copies so ASan sees any over-read of a payload */
        uint8_t *copy = malloc(l ? l : 1);
        for (size_t i = 0; i < l; i++)
            copy[i] = data[off + i];
        pl[n] = copy;
        len[n++] = l;
        off += l;
        struct tsr_rtp_payload_info info;
        (void)c->inspect(copy, l, &info);
    }
    if (n) {
        struct tsr_rtp_depacketizer *d = NULL;
        if (tsr_rtp_depacketizer_new(&d, c) != 0)
            abort();
        for (int round = 0; round < 2; round++) {
            GBytes *frame = NULL;
            struct tsr_rtp_frame_info fi;
            if (tsr_rtp_depacketizer_run(d, pl, len, round ? n - n / 2 : n, &frame, &fi) == 0)
                g_bytes_unref(frame);
            else if (frame)
                abort(); /* out-params only on success */
        }
        tsr_rtp_depacketizer_free(&d);
    }
    /* the packetizer must accept any frame the size allows and round-trip it */
    if (size > 1 && c->id != TSR_RTP_CODEC_OPUS) {
        struct tsr_rtp_packetizer *p = NULL;
        struct tsr_rtp_packetized *pk = NULL;
        tsr_rtp_packetizer_new(&p, c);
        if (tsr_rtp_packetizer_run(p, data + 1, size - 1, 200, 0, false, &pk) == 0) {
            for (size_t i = 0; i < tsr_rtp_packetized_count(pk); i++) {
                const uint8_t *d;
                size_t l;
                bool m;
                if (tsr_rtp_packetized_get(pk, i, &d, &l, &m) != 0 ||
                    l > 200 - TSR_RTP_PACKET_OVERHEAD_BYTES)
                    abort();
            }
            tsr_rtp_packetized_unref(&pk);
        }
        tsr_rtp_packetizer_free(&p);
    }
    for (size_t i = 0; i < n; i++)
        free((void *)pl[i]);
    return 0;
}
