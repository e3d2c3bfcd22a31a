/* libFuzzer target: RTCP compound parse and every accessor of its items
 * (NACK expansion, FIR entries, REMB SSRCs, transport-cc decoding); a parsed
 * SR/RR is rebuilt and parsed again to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tessera/rtcp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct tsr_rtcp_item items[64];
    static struct tsr_rtcp_twcc_packet tw[1024];
    uint16_t seqs[256];
    size_t n, k;

    if (tsr_rtcp_parse(data, size, items, 64, &n) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        struct tsr_rtcp_item *it = &items[i];
        uint32_t ssrc;
        uint8_t sn;
        switch (it->kind) {
        case TSR_RTCP_KIND_NACK:
            (void)tsr_rtcp_nack_seqs(&it->u.nack, seqs, 256, &k);
            break;
        case TSR_RTCP_KIND_FIR:
            for (size_t e = 0; e < it->u.fir.n_entries; e++)
                if (tsr_rtcp_fir_entry(&it->u.fir, e, &ssrc, &sn) != 0)
                    abort();
            break;
        case TSR_RTCP_KIND_REMB:
            for (size_t e = 0; e < it->u.remb.n_ssrcs; e++)
                if (tsr_rtcp_remb_ssrc(&it->u.remb, e, &ssrc) != 0)
                    abort();
            break;
        case TSR_RTCP_KIND_TWCC: {
            int rc = tsr_rtcp_twcc_decode(&it->u.twcc, tw, 1024, &k);
            (void)rc;
            break;
        }
        case TSR_RTCP_KIND_SR: {
            uint8_t buf[1024];
            struct tsr_rtcp_writer w;
            struct tsr_rtcp_item back;
            tsr_rtcp_writer_init(&w, buf, sizeof buf);
            if (tsr_rtcp_write_sr(&w, &it->u.sr) != 0 ||
                tsr_rtcp_parse(buf, w.len, &back, 1, &k) != 0 || back.u.sr.ntp != it->u.sr.ntp ||
                back.u.sr.n_reports != it->u.sr.n_reports ||
                memcmp(back.u.sr.reports, it->u.sr.reports,
                       it->u.sr.n_reports * sizeof it->u.sr.reports[0]))
                abort();
            break;
        }
        default:
            break;
        }
    }
    return 0;
}
