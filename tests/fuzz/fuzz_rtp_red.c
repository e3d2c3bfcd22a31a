/* libFuzzer target: RED payloads (RFC 2198) through the parser and the frame
 * splitter; the first byte picks the media payload type. Whatever parses must
 * write back to the same bytes, and every frame must lie inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/rtp_red.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t pt = data[0] & 0x7f;
    const uint8_t *p = data + 1;
    size_t len = size - 1;
    struct tsr_rtp_red_frame fr[TSR_RTP_RED_MAX_BLOCKS];
    size_t skipped = 0;
    int n = tsr_rtp_red_frames(p, len, pt, 123456, 65530, fr, &skipped);
    for (int i = 0; i < n; i++)
        if (fr[i].len == 0 || fr[i].data < p || fr[i].data + fr[i].len > p + len)
            abort();
    struct tsr_rtp_red_packet pk;
    if (tsr_rtp_red_parse(p, len, &pk) != 0)
        return 0;
    if (n < 0 || (size_t)n + skipped != pk.n_blocks)
        abort(); /* parse and split disagree */
    uint8_t *out = malloc(len ? len : 1);
    size_t out_len = 0;
    if (!out)
        return 0;
    if (tsr_rtp_red_write(pk.blocks, pk.n_blocks, out, len, &out_len) != 0 || out_len != len ||
        memcmp(out, p, len) != 0)
        abort();
    free(out);
    return 0;
}
