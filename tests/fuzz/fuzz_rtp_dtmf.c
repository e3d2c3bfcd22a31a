/* libFuzzer target: RFC 4733 event packets through the parser and a collector;
 * the first byte picks the telephone-event payload type. */
#include <stdint.h>
#include <stdlib.h>

#include <tessera/rtp_dtmf.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t pt = data[0] & 0x7f;
    struct tsr_dtmf_collector col = {0};
    struct tsr_dtmf_event ev;
    /* The rest is split into packets by a length byte each, as a stream would be. */
    size_t at = 1;
    while (at < size) {
        size_t n = data[at++];
        if (n > size - at)
            n = size - at;
        if (tsr_rtp_dtmf_parse(data + at, n, pt, &ev) == 0) {
            char d = tsr_dtmf_collector_push(&col, &ev);
            if (d && !tsr_dtmf_digit(ev.code))
                abort(); /* a digit only from a keypad event */
        }
        at += n;
    }
    return 0;
}
