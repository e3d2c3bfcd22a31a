/* libFuzzer target: SDP parser, typed attribute decoders and offer negotiation.
 * Everything reachable from a browser's offer text must reject garbage cleanly. */
#include <tessera/sdp.h>
#include <tessera/sdp_negotiate.h>

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode_attrs(const struct tsr_sdp_attr *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = attrs[i].value ? attrs[i].value : "";
        struct tsr_sdp_rtpmap r;
        struct tsr_sdp_rtcp_fb fb;
        struct tsr_sdp_extmap e;
        struct tsr_sdp_fingerprint f;
        struct tsr_sdp_candidate c;
        const char *params, *name;
        char buf[32];
        int pt;
        uint32_t a, b;
        tsr_sdp_parse_rtpmap(v, &r);
        if (tsr_sdp_parse_fmtp(v, &pt, &params) == 0)
            tsr_sdp_fmtp_get(params, "profile-level-id", buf, sizeof(buf));
        tsr_sdp_parse_rtcp_fb(v, &fb);
        tsr_sdp_parse_extmap(v, &e);
        if (tsr_sdp_parse_fingerprint(v, &f) == 0) {
            char hex[3 * TSR_SDP_FINGERPRINT_MAX_BYTES];
            tsr_sdp_format_fingerprint(f.bytes, f.len, hex, sizeof(hex));
        }
        tsr_sdp_parse_candidate(v, &c);
        tsr_sdp_parse_ssrc(v, &a, &name);
        tsr_sdp_parse_ssrc_group_fid(v, &a, &b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tsr_sdp *sdp = NULL;
    const char *why = NULL;
    if (tsr_sdp_parse((const char *)data, size, &sdp, &why) == 0) {
        decode_attrs(sdp->attrs, sdp->n_attrs);
        for (size_t i = 0; i < sdp->n_media; i++)
            decode_attrs(sdp->media[i].attrs, sdp->media[i].n_attrs);
        char *text = NULL;
        if (tsr_sdp_write(sdp, &text) == 0)
            g_free(text);
        tsr_sdp_free(&sdp);
    }
    static const char *const cands[] = {"candidate:1 1 udp 2130706431 10.0.0.1 40000 typ host"};
    struct tsr_sdp_local local = {
        .ice_ufrag = "fuzz",
        .ice_pwd = "FuzzFuzzFuzzFuzzFuzzFuzz",
        .ice_lite = true,
        .fingerprint_sha256 = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                              "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
        .candidates = cands,
        .n_candidates = 1,
        .audio_ssrc = 1,
        .video_ssrc = 2,
        .cname = "fuzz",
        .stream_id = "fuzz",
    };
    struct tsr_sdp_negotiation *neg = NULL;
    char reason[TSR_SDP_REASON_MAX];
    if (tsr_sdp_negotiate((const char *)data, size, &local, &neg, reason) == 0) {
        /* the answer we write must parse back */
        if (tsr_sdp_parse(neg->answer, strlen(neg->answer), &sdp, &why) != 0)
            __builtin_trap();
        tsr_sdp_free(&sdp);
        tsr_sdp_negotiation_free(&neg);
    }
    return 0;
}
