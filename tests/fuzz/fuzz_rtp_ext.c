/* libFuzzer target: RFC 8285 header-extension blocks on their own. Byte 0 picks
 * the profile (one-byte 0xBEDE, two-byte 0x100X, or another), byte 1 how ids map
 * (Chrome-like ids 1..4, all ids to one extension, or ids > 14); the rest is the
 * block body as an exact-size buffer. What parses is written back with
 * tsr_rtp_ext_write and parsed again to the same values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/rtp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void map_for(struct tsr_rtp_ext_map *m, uint8_t sel)
{
    tsr_rtp_ext_map_init(m);
    switch (sel % 3) {
    case 0:
        for (int e = 1; e < TSR_RTP_EXT_COUNT; e++)
            tsr_rtp_ext_map_set(m, e, (enum tsr_rtp_ext)e);
        break;
    case 1:
        for (int id = 1; id < 256; id++)
            tsr_rtp_ext_map_set(m, id, (enum tsr_rtp_ext)(1 + sel / 3 % (TSR_RTP_EXT_COUNT - 1)));
        break;
    default:
        for (int e = 1; e < TSR_RTP_EXT_COUNT; e++)
            tsr_rtp_ext_map_set(m, 14 + e, (enum tsr_rtp_ext)e);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint16_t profiles[] = {0xBEDE, 0x1000, 0x1005, 0x0000};
    struct tsr_rtp_ext_map m;
    struct tsr_rtp_ext_values v, v2;

    if (size < 2)
        return 0;
    map_for(&m, data[1]);
    size_t n = size - 2;
    uint8_t *body = malloc(n ? n : 1);
    memcpy(body, data + 2, n);
    struct tsr_rtp_header h = {.version = 2,
                               .extension = true,
                               .ext_profile = profiles[data[0] % 4],
                               .ext_data = body,
                               .ext_bytes = n};
    if (tsr_rtp_ext_parse(&m, &h, &v) == 0) {
        /* rebuild the known values and parse them back */
        struct tsr_rtp_ext_elem el[4];
        uint8_t lvl, abs[3], tw[2], out[64];
        size_t k = 0, len;
        uint16_t prof;
        int id;
        if (v.has_audio_level && (id = tsr_rtp_ext_map_id(&m, TSR_RTP_EXT_AUDIO_LEVEL)) > 0) {
            lvl = (uint8_t)((v.voice_activity ? 0x80 : 0) | v.audio_level_dbov);
            el[k++] = (struct tsr_rtp_ext_elem){(uint8_t)id, 1, &lvl};
        }
        if (v.has_mid && (id = tsr_rtp_ext_map_id(&m, TSR_RTP_EXT_MID)) > 0)
            el[k++] = (struct tsr_rtp_ext_elem){(uint8_t)id, (uint8_t)strlen(v.mid),
                                                (const uint8_t *)v.mid};
        if (v.has_abs_send_time && (id = tsr_rtp_ext_map_id(&m, TSR_RTP_EXT_ABS_SEND_TIME)) > 0) {
            tsr_rtp_ext_encode_abs_send_time(v.abs_send_time, abs);
            el[k++] = (struct tsr_rtp_ext_elem){(uint8_t)id, 3, abs};
        }
        if (v.has_transport_cc && (id = tsr_rtp_ext_map_id(&m, TSR_RTP_EXT_TRANSPORT_CC)) > 0) {
            tw[0] = (uint8_t)(v.transport_cc_seq >> 8);
            tw[1] = (uint8_t)v.transport_cc_seq;
            el[k++] = (struct tsr_rtp_ext_elem){(uint8_t)id, 2, tw};
        }
        /* only when each value maps back to a single id (map 0 and 2) */
        if (k && data[1] % 3 != 1) {
            if (tsr_rtp_ext_write(el, k, out, sizeof out, &prof, &len) != 0)
                abort();
            struct tsr_rtp_header h2 = {
                .extension = true, .ext_profile = prof, .ext_data = out, .ext_bytes = len};
            if (tsr_rtp_ext_parse(&m, &h2, &v2) != 0 || v2.has_mid != v.has_mid ||
                v2.has_audio_level != v.has_audio_level ||
                v2.audio_level_dbov != v.audio_level_dbov || v2.abs_send_time != v.abs_send_time ||
                v2.transport_cc_seq != v.transport_cc_seq ||
                (v.has_mid && strcmp(v.mid, v2.mid) != 0))
                abort();
        }
    }
    free(body);
    return 0;
}
