/* The peer's server-initiated offers: add sendonly m-lines for the mix when the
 * participant's own lines are send-only, then move the outgoing streams onto them
 * once answered (the receive side is untouched: it routes by payload type).
 * Kept apart from media_peer.c so that client-initiated renegotiation can grow
 * there without touching this. Home thread: the peer's net loop. */
#include "media_peer_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>

#include <string.h>

static uint32_t fresh_ssrc(const struct tsr_media_peer *p)
{
    uint32_t v;
    do
        v = g_random_int();
    while (v == 0 || (p->tx_audio && v == tsr_rtp_stream_out_ssrc(p->tx_audio)) ||
           (p->tx_video && v == tsr_rtp_stream_out_ssrc(p->tx_video)));
    return v;
}

int tsr_media_peer_create_send_offer(struct tsr_media_peer *p, char **offer,
                                     char reason[TSR_SDP_REASON_MAX])
{
    reason[0] = '\0';
    if (g_atomic_int_get(&p->closed) || !p->transport || !p->local_sdp)
        return TSR_ERR_STATE;
    if (p->send_offer)
        return TSR_ERR_STATE;
    char cname[32];
    g_snprintf(cname, sizeof cname, "tessera-%08x", p->id);
    struct tsr_sdp_send_offer_params params = {
        .audio_ssrc = fresh_ssrc(p),
        .video_ssrc = fresh_ssrc(p),
        .cname = cname,
        .stream_id = "tessera",
    };
    struct tsr_sdp_send_offer *so = NULL;
    int rc = tsr_sdp_send_offer_new(&so, p->local_sdp, strlen(p->local_sdp), &params, reason);
    if (rc)
        return rc;
    /* Only offer once the transport is up (spec: connected and stable). */
    if (tsr_webrtc_transport_state(p->transport) != TSR_WEBRTC_STATE_CONNECTED) {
        tsr_sdp_send_offer_free(&so);
        return TSR_ERR_AGAIN;
    }
    *offer = g_strdup(so->sdp);
    p->send_offer = so;
    return 0;
}

static int new_stream(struct tsr_media_peer *p, const struct tsr_sdp_send_line *line,
                      struct tsr_rtp_stream_out **out)
{
    struct tsr_rtp_stream_out_config c;
    memset(&c, 0, sizeof c);
    c.ssrc = line->ssrc;
    c.payload_type = (uint8_t)line->pt;
    c.clock_rate = line->kind == TSR_SDP_MEDIA_KIND_AUDIO ? 48000 : 90000;
    c.timestamp_offset = g_random_int();
    c.first_seq = (uint16_t)g_random_int_range(0, 0x8000);
    if (line->ext_mid_id > 0 && line->ext_mid_id <= 14 && strlen(line->mid) < sizeof c.mid) {
        c.ext_mid_id = (uint8_t)line->ext_mid_id;
        g_strlcpy(c.mid, line->mid, sizeof c.mid);
    }
    if (line->kind == TSR_SDP_MEDIA_KIND_AUDIO && line->red_pt > 0 && p->audio_red_distance) {
        c.red_payload_type = (uint8_t)line->red_pt;
        c.red_distance = p->audio_red_distance;
    }
    return tsr_rtp_stream_out_new(out, &c, &p->clock);
}

int tsr_media_peer_apply_send_answer(struct tsr_media_peer *p, const char *answer,
                                     char reason[TSR_SDP_REASON_MAX])
{
    reason[0] = '\0';
    if (!p->send_offer || g_atomic_int_get(&p->closed))
        return TSR_ERR_STATE;
    struct tsr_sdp_send_offer *so = p->send_offer;
    p->send_offer = NULL;
    struct tsr_sdp_send_line lines[2];
    size_t n = 0;
    struct tsr_rtp_stream_out *streams[2] = {NULL, NULL};
    int rc = tsr_sdp_send_offer_apply_answer(so, answer, strlen(answer), lines, &n, reason);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = new_stream(p, &lines[i], &streams[i]);
    if (rc) {
        tsr_rtp_stream_out_free(&streams[0]);
        tsr_rtp_stream_out_free(&streams[1]);
        tsr_sdp_send_offer_free(&so);
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        struct tsr_rtp_stream_out **slot =
            lines[i].kind == TSR_SDP_MEDIA_KIND_AUDIO ? &p->tx_audio : &p->tx_video;
        tsr_rtp_stream_out_free(slot);
        *slot = streams[i];
        TSR_LOG(TSR_LOG_INFO, p->log_ctx,
                "sending %s on added m-line mid %s (pt %d, RED pt %d, ssrc %u)",
                lines[i].kind == TSR_SDP_MEDIA_KIND_AUDIO ? "audio" : "video", lines[i].mid,
                lines[i].pt, p->audio_red_distance ? lines[i].red_pt : -1, lines[i].ssrc);
    }
    g_free(p->local_sdp);
    p->local_sdp = so->sdp; /* our offer is now the local description */
    so->sdp = NULL;
    g_free(p->remote_sdp);
    p->remote_sdp = g_strdup(answer);
    tsr_sdp_send_offer_free(&so);
    /* The new video stream must start with a keyframe. */
    if (p->sink->on_keyframe_request)
        p->sink->on_keyframe_request(p->sink_user, p->id);
    return 0;
}

int tsr_media_peer_answer_reoffer(struct tsr_media_peer *p, const char *offer, char **answer_out,
                                  char reason[TSR_SDP_REASON_MAX])
{
    reason[0] = '\0';
    if (g_atomic_int_get(&p->closed) || !p->local_sdp || !p->remote_sdp)
        return TSR_ERR_STATE;
    if (p->send_offer) {
        g_strlcpy(reason, "a server offer is waiting for its answer", TSR_SDP_REASON_MAX);
        return TSR_ERR_STATE;
    }
    char *answer = NULL;
    int rc =
        tsr_sdp_answer_reoffer(p->local_sdp, p->remote_sdp, offer, strlen(offer), &answer, reason);
    if (rc)
        return rc;
    g_free(p->local_sdp);
    p->local_sdp = g_strdup(answer);
    g_free(p->remote_sdp);
    p->remote_sdp = g_strdup(offer);
    *answer_out = answer;
    TSR_LOG(TSR_LOG_INFO, p->log_ctx, "re-offer answered on the running session");
    return 0;
}
