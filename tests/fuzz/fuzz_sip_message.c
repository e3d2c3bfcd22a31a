/* libFuzzer target: the SIP front's message path. The input is one datagram as a
 * SIP endpoint would send it; Sofia-SIP parses it (as the stack does), then the
 * front reads it as an INVITE (alias, display name, body type) and, when it
 * carries SDP, the plain RTP negotiator answers it and the PIN lobby reads it and
 * answers it (the answer must parse as SDP); an INFO body goes through the
 * dtmf-relay reader. Every refusal must be clean,
 * the Reason header we would write must be one safe line, and every answer we
 * write must parse back. */
#include <tessera/sdp.h>
#include <tessera/sdp_plain.h>
#include <tessera/sip_message.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip_header.h>

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void negotiate(const struct tsr_sip_invite *inv)
{
    static const uint8_t key[TSR_SDES_KEY_SALT_BYTES] = {1, 2, 3}; /* SAVP offers reach a=crypto */
    static const struct tsr_sdp_plain_local local = {.address = "192.0.2.1",
                                                     .audio_key = key,
                                                     .video_key = key,
                                                     .audio_port = 40000,
                                                     .video_port = 40002,
                                                     .audio_ssrc = 1,
                                                     .video_ssrc = 2,
                                                     .cname = "fuzz",
                                                     /* DTLS offers reach the answer too */
                                                     .fingerprint_sha256 = "AB:CD"};
    (void)tsr_sdp_is_plain_rtp(inv->sdp, inv->sdp_len);
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    char reason[TSR_SDP_REASON_MAX];
    if (tsr_sdp_plain_negotiate(inv->sdp, inv->sdp_len, &local, &neg, &peers, reason) != 0)
        return;
    struct tsr_sdp *back = NULL;
    if (tsr_sdp_parse(neg->answer, strlen(neg->answer), &back, NULL) != 0)
        __builtin_trap();
    tsr_sdp_free(&back);
    tsr_sdp_negotiation_free(&neg);
}

static void lobby(const struct tsr_sip_invite *inv)
{
    struct tsr_sip_lobby_sdp l;
    const char *why = NULL;
    if (tsr_sip_lobby_sdp_read(inv->sdp, inv->sdp_len, &l, &why) != 0) {
        if (!why)
            __builtin_trap();
        return;
    }
    l.prompt = true;
    l.video.picture = l.video.pt >= 0; /* the answer with the "enter PIN" picture */
    char *answer =
        tsr_sip_lobby_sdp_answer(inv->sdp, inv->sdp_len, &l, "192.0.2.1", 40000, 40002, 7);
    struct tsr_sdp *back = NULL;
    if (tsr_sdp_parse(answer, strlen(answer), &back, NULL) != 0)
        __builtin_trap();
    tsr_sdp_free(&back);
    char *again = tsr_sip_sdp_set_origin(answer, 8, 2);
    g_free(again);
    g_free(answer);
}

static void info_body(const sip_t *sip)
{
    char key = 0;
    const char *why = NULL;
    if (sip->sip_payload &&
        tsr_sip_dtmf_relay_parse(sip->sip_payload->pl_data, sip->sip_payload->pl_len, &key, &why) ==
            0 &&
        !strchr("0123456789*#ABCD", key))
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    msg_t *msg = msg_make(sip_default_mclass(), 0, data, (ssize_t)size);
    if (!msg)
        return 0;
    sip_t *sip = sip_object(msg);
    struct tsr_sip_invite inv;
    const char *why = NULL;
    if (sip && tsr_sip_invite_read(sip, &inv, &why) == 0) {
        if (!g_utf8_validate(inv.display_name, -1, NULL) ||
            !tsr_conference_display_name_valid(inv.display_name))
            __builtin_trap();
        char reason[TSR_SIP_REASON_MAX];
        tsr_sip_reason_value(404, inv.alias, reason);
        if (strpbrk(reason, "\r\n") || !g_utf8_validate(reason, -1, NULL))
            __builtin_trap();
        if (inv.sdp) {
            negotiate(&inv);
            lobby(&inv);
        }
    }
    if (sip)
        info_body(sip);
    msg_destroy(msg);
    return 0;
}
