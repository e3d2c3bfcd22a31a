/* A SIP participant's media: a plain RTP/AVP(F) offer (no ICE, no DTLS) answered
 * on a tsr_rtp_transport with symmetric RTP, and the transport seam the rest of the
 * peer sends through (WebRTC or plain). The receive and send chains are the
 * WebRTC participant's, unchanged: same jitter buffer, decoder, Opus path to the
 * mixer and packetized composite. Home thread: the peer's net loop. */
#include "media_peer_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>

#include <string.h>

/* The address our answer carries: the configured public or first media address,
 * else the one the kernel routes to the caller from. */
static int answer_address(const struct tsr_webrtc_config *w, const struct tsr_sdp_plain_peers *peers,
                          char *out, size_t size)
{
    if (w && w->public_address && *w->public_address) {
        g_strlcpy(out, w->public_address, size);
        return 0;
    }
    if (w && w->media_addresses && *w->media_addresses) {
        g_strlcpy(out, w->media_addresses, size);
        out[strcspn(out, ", ")] = '\0';
        return 0;
    }
    const char *remote = peers->audio.address[0] ? peers->audio.address : peers->video.address;
    return tsr_rtp_transport_route_address(remote, out, size);
}

static int open_transport(struct tsr_media_peer *p, const struct tsr_media_peer_params *params,
                          bool ipv6)
{
    static const struct tsr_rtp_transport_callbacks cbs = {
        .on_audio_rtp = tsr_media_peer_on_audio_rtp,
        .on_video_rtp = tsr_media_peer_on_video_rtp,
        .on_rtcp = tsr_media_peer_on_rtcp,
        .on_state = tsr_media_peer_on_transport_state,
    };
    const struct tsr_webrtc_config *w = params->webrtc;
    struct tsr_rtp_transport_config rc = {
        .port_min = w ? w->port_min : 0,
        .port_max = w ? w->port_max : 0,
        .bind_address = w ? w->bind_address : NULL,
        .ipv6 = ipv6,
        .log_ctx = p->log_ctx,
    };
    return tsr_rtp_transport_new(&p->plain, p->ctx, &rc, &cbs, p);
}

int tsr_media_peer_negotiate_plain(struct tsr_media_peer *p,
                                   const struct tsr_media_peer_params *params, const char *offer,
                                   uint32_t assrc, uint32_t vssrc,
                                   struct tsr_sdp_negotiation **neg_out,
                                   char reason[TSR_SDP_REASON_MAX])
{
    char cname[32];
    g_snprintf(cname, sizeof cname, "tessera-%08x", p->id);
    struct tsr_sdp_plain_local local = {.address = "0.0.0.0",
                                        .video_pref = params->video_pref,
                                        .audio_ssrc = assrc,
                                        .video_ssrc = vssrc,
                                        .cname = cname,
                                        .session_id = ((uint64_t)g_random_int() << 20) | p->id};
    struct tsr_sdp_plain_peers peers;
    struct tsr_sdp_negotiation *neg = NULL;
    /* First pass: where the caller is (its address family decides our sockets). */
    int rc = tsr_sdp_plain_negotiate(offer, strlen(offer), &local, &neg, &peers, reason);
    tsr_sdp_negotiation_free(&neg);
    if (rc)
        return rc;
    const char *remote = peers.audio.address[0] ? peers.audio.address : peers.video.address;
    rc = open_transport(p, params, strchr(remote, ':') != NULL);
    if (rc) {
        g_snprintf(reason, TSR_SDP_REASON_MAX, "cannot open RTP ports: %s", tsr_strerror(rc));
        return rc;
    }
    char address[64];
    rc = answer_address(params->webrtc, &peers, address, sizeof address);
    if (rc) {
        g_snprintf(reason, TSR_SDP_REASON_MAX, "no local address reaches %s", remote);
        return rc;
    }
    local.address = address;
    local.audio_port = tsr_rtp_transport_port(p->plain, TSR_RTP_TRANSPORT_AUDIO);
    local.video_port = tsr_rtp_transport_port(p->plain, TSR_RTP_TRANSPORT_VIDEO);
    rc = tsr_sdp_plain_negotiate(offer, strlen(offer), &local, &neg, &peers, reason);
    if (rc == 0)
        rc = tsr_rtp_transport_set_peers(p->plain, &peers, assrc, vssrc);
    if (rc) {
        tsr_sdp_negotiation_free(&neg);
        return rc;
    }
    TSR_LOG(TSR_LOG_INFO, p->log_ctx, "plain RTP: audio %s:%u, video %s:%u; ours %s:%u/%u",
            peers.audio.address, peers.audio.rtp_port, peers.video.address, peers.video.rtp_port,
            address, local.audio_port, local.video_port);
    *neg_out = neg;
    return 0;
}

bool tsr_media_peer_transport_up(const struct tsr_media_peer *p)
{
    if (p->plain) /* symmetric RTP sends to the SDP's address before anything arrives */
        return tsr_rtp_transport_state(p->plain) != TSR_WEBRTC_STATE_CLOSED;
    return p->transport &&
           tsr_webrtc_transport_state(p->transport) == TSR_WEBRTC_STATE_CONNECTED;
}

int tsr_media_peer_transport_send_rtp(struct tsr_media_peer *p, const uint8_t *buf, size_t len)
{
    if (p->plain)
        return tsr_rtp_transport_send_rtp(p->plain, buf, len);
    return p->transport ? tsr_webrtc_transport_send_rtp(p->transport, buf, len) : TSR_ERR_STATE;
}

int tsr_media_peer_transport_send_rtcp(struct tsr_media_peer *p, const uint8_t *buf, size_t len)
{
    if (p->plain)
        return tsr_rtp_transport_send_rtcp(p->plain, buf, len);
    return p->transport ? tsr_webrtc_transport_send_rtcp(p->transport, buf, len) : TSR_ERR_STATE;
}
