/* libFuzzer target: RTP header parse, header-extension parse (one- and two-byte
 * forms through a Chrome-like id map), header rewrite, RFC 7983 demux. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/demux.h>
#include <tessera/rtp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tsr_rtp_header h;
    struct tsr_rtp_ext_map m;
    struct tsr_rtp_ext_values v;

    (void)tsr_demux_classify(data, size);
    if (tsr_rtp_parse(data, size, &h) != 0)
        return 0;
    if (h.header_bytes + h.payload_bytes + h.padding_bytes != size)
        abort();
    tsr_rtp_ext_map_init(&m);
    tsr_rtp_ext_map_set(&m, 1, TSR_RTP_EXT_AUDIO_LEVEL);
    tsr_rtp_ext_map_set(&m, 2, TSR_RTP_EXT_ABS_SEND_TIME);
    tsr_rtp_ext_map_set(&m, 3, TSR_RTP_EXT_TRANSPORT_CC);
    tsr_rtp_ext_map_set(&m, 4, TSR_RTP_EXT_MID);
    tsr_rtp_ext_map_set(&m, 200, TSR_RTP_EXT_MID);
    if (tsr_rtp_ext_parse(&m, &h, &v) == 0 && v.has_mid && strlen(v.mid) > TSR_RTP_MID_MAX)
        abort();
    /* writing the parsed header back must give the same bytes */
    enum { MAX_HEADER = 12 + 15 * 4 + 4 + 65535 * 4 };
    static uint8_t *big;
    if (!big)
        big = malloc(MAX_HEADER);
    size_t n;
    if (tsr_rtp_write_header(&h, big, MAX_HEADER, &n) != 0 || n != h.header_bytes ||
        memcmp(big, data, n) != 0)
        abort();
    return 0;
}
