/* libFuzzer target: what a client sends back to a server offer (sdp_offer.h). A
 * fixed client offer (audio and video send-only, max-bundle) is answered and
 * extended with our send-only lines; the input is then read as the client's
 * answer to that offer and as its re-offer on the running session. Both must
 * refuse garbage cleanly, and a re-answer we write must parse back. */
#include <tessera/sdp.h>
#include <tessera/sdp_negotiate.h>
#include <tessera/sdp_offer.h>

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FP "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"

static const char OFFER[] =
    "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "a=fingerprint:sha-256 " FP "\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=setup:actpass\r\na=mid:0\r\n"
    "a=sendonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
    "m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=setup:actpass\r\na=mid:1\r\n"
    "a=bundle-only\r\na=sendonly\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tsr_sdp_local local = {.ice_ufrag = "fuzz",
                                  .ice_pwd = "FuzzFuzzFuzzFuzzFuzzFuzz",
                                  .ice_lite = true,
                                  .fingerprint_sha256 = FP,
                                  .audio_ssrc = 1,
                                  .video_ssrc = 2,
                                  .cname = "fuzz",
                                  .stream_id = "fuzz"};
    struct tsr_sdp_negotiation *neg = NULL;
    if (tsr_sdp_negotiate(OFFER, strlen(OFFER), &local, &neg, NULL) != 0)
        __builtin_trap();
    struct tsr_sdp_send_offer_params params = {
        .audio_ssrc = 3, .video_ssrc = 4, .cname = "fuzz", .stream_id = "fuzz"};
    struct tsr_sdp_send_offer *so = NULL;
    if (tsr_sdp_send_offer_new(&so, neg->answer, strlen(neg->answer), &params, NULL) != 0)
        __builtin_trap();
    char *text = g_strndup((const char *)data, size);
    struct tsr_sdp_send_line lines[2];
    size_t n = 0;
    char reason[TSR_SDP_REASON_MAX];
    tsr_sdp_send_offer_apply_answer(so, (const char *)data, size, lines, &n, reason);
    char *answer = NULL;
    if (tsr_sdp_answer_reoffer(so->sdp, OFFER, text, strlen(text), &answer, reason) == 0) {
        struct tsr_sdp *back = NULL;
        if (tsr_sdp_parse(answer, strlen(answer), &back, NULL) != 0)
            __builtin_trap();
        tsr_sdp_free(&back);
        g_free(answer);
    }
    g_free(text);
    tsr_sdp_send_offer_free(&so);
    tsr_sdp_negotiation_free(&neg);
    return 0;
}
