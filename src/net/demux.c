/* RFC 7983 §7 first-byte demultiplexing, with RFC 5761 §4 RTP/RTCP split. */
#include <tessera/demux.h>

#include <tessera/metrics.h>

enum tsr_demux_kind tsr_demux_classify(const uint8_t *buf, size_t len)
{
    enum tsr_demux_kind k = TSR_DEMUX_UNKNOWN;

    if (buf && len > 0) {
        uint8_t b = buf[0];
        if (b <= 3)
            k = TSR_DEMUX_STUN;
        else if (b >= 16 && b <= 19)
            k = TSR_DEMUX_ZRTP;
        else if (b >= 20 && b <= 63)
            k = TSR_DEMUX_DTLS;
        else if (b >= 64 && b <= 79)
            k = TSR_DEMUX_TURN;
        else if (b >= 128 && b <= 191 && len >= 2) {
            /* RTCP packet types 192..223 show as PT 64..95 with the marker bit. */
            uint8_t pt = buf[1];
            k = (pt >= 192 && pt <= 223) ? TSR_DEMUX_RTCP : TSR_DEMUX_RTP;
        }
    }
    if (k == TSR_DEMUX_UNKNOWN)
        tsr_counter_inc(tsr_metrics_counter("tessera_demux_unknown_total", NULL,
                                            "Datagrams matching no RFC 7983 range"));
    return k;
}

const char *tsr_demux_kind_name(enum tsr_demux_kind kind)
{
    switch (kind) {
    case TSR_DEMUX_STUN:
        return "stun";
    case TSR_DEMUX_ZRTP:
        return "zrtp";
    case TSR_DEMUX_DTLS:
        return "dtls";
    case TSR_DEMUX_TURN:
        return "turn";
    case TSR_DEMUX_RTP:
        return "rtp";
    case TSR_DEMUX_RTCP:
        return "rtcp";
    default:
        return "unknown";
    }
}
