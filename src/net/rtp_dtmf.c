/* RFC 4733 telephone-event payloads (§2.3) and the digits they spell. */
#include <tessera/err.h>
#include <tessera/rtp.h>
#include <tessera/rtp_dtmf.h>

#define EVENT_BYTES 4

int tsr_rtp_dtmf_parse(const uint8_t *pkt, size_t len, uint8_t pt, struct tsr_dtmf_event *out)
{
    struct tsr_rtp_header h;
    int rc = tsr_rtp_parse(pkt, len, &h);
    if (rc != 0)
        return rc;
    if (h.payload_type != pt)
        return TSR_ERR_NOT_FOUND;
    if (h.payload_bytes < EVENT_BYTES)
        return TSR_ERR_TRUNCATED;
    const uint8_t *p = h.payload;
    out->code = p[0];
    out->end = (p[1] & 0x80) != 0;
    out->volume = p[1] & 0x3f; /* bit 6 is reserved (R): ignored as §2.3 asks */
    out->duration = (uint16_t)((p[2] << 8) | p[3]);
    out->timestamp = h.timestamp_rtp;
    return 0;
}

char tsr_dtmf_digit(uint8_t code)
{
    static const char keys[16] = "0123456789*#ABCD";
    return code < 16 ? keys[code] : 0;
}

char tsr_dtmf_collector_push(struct tsr_dtmf_collector *c, const struct tsr_dtmf_event *ev)
{
    if (!ev->end)
        return 0;
    /* The retransmitted ends of one event carry its timestamp; a new event starts
     * at a new one (a sender reusing it would be one long event, §2.5.1.2). */
    if (c->have_last && c->last_end_ts == ev->timestamp)
        return 0;
    c->have_last = true;
    c->last_end_ts = ev->timestamp;
    return tsr_dtmf_digit(ev->code);
}
