/* Renegotiation of a running media peer: a new offer from the browser on the same
 * transport gets a new answer (same SSRCs, ICE credentials, fingerprint, codecs).
 * Kept apart from media_peer.c so server-initiated offers can grow there.
 * Home thread: the peer's net loop. */
#include "media_peer_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>

#include <string.h>

void tsr_media_peer_reneg_remember(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg,
                                   uint64_t session_id)
{
    p->sdp_session_id = session_id ? session_id : 1;
    p->sdp_version = 2; /* what sdp_negotiate writes in the first answer */
    g_strlcpy(p->remote_ufrag, neg->remote_ufrag, sizeof p->remote_ufrag);
    p->remote_fp = neg->remote_fingerprint;
}

GMainContext *tsr_media_peer_context(const struct tsr_media_peer *p)
{
    return p->ctx;
}

/* The accepted audio/video m-line must carry what the running streams use: the
 * decoder, jitter buffer and packetizer were built for that codec and payload type. */
static bool mline_same(const struct tsr_sdp_negotiation *neg, int index, const struct peer_rx *rx,
                       bool present)
{
    if (!present)
        return index < 0;
    return index >= 0 && neg->mlines[index].pt == rx->pt;
}

static int check_offer(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg,
                       char reason[TSR_SDP_REASON_MAX])
{
    const struct tsr_sdp_fingerprint *fp = &neg->remote_fingerprint;
    if (fp->len != p->remote_fp.len || memcmp(fp->bytes, p->remote_fp.bytes, fp->len) != 0) {
        g_strlcpy(reason, "the DTLS fingerprint changed; start a new call", TSR_SDP_REASON_MAX);
        return TSR_ERR_UNSUPPORTED;
    }
    if (!mline_same(neg, neg->audio_index, &p->rx_audio, p->has_audio) ||
        !mline_same(neg, neg->video_index, &p->rx_video, p->has_video)) {
        g_strlcpy(reason,
                  "the offer changes the audio/video m-lines or their codecs; start a "
                  "new call",
                  TSR_SDP_REASON_MAX);
        return TSR_ERR_UNSUPPORTED;
    }
    return tsr_media_peer_slides_check(p, neg, reason);
}

/* A re-offer may add or drop RED around Opus: both directions follow the answer. */
static void apply_red(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg)
{
    int red_pt = p->has_audio && p->audio_red_distance ? neg->mlines[neg->audio_index].red_pt : -1;
    if (red_pt == p->rx_audio.red_pt)
        return;
    TSR_LOG(TSR_LOG_INFO, p->log_ctx, "RED for Opus %s", red_pt >= 0 ? "on" : "off");
    p->rx_audio.red_pt = red_pt;
    if (p->tx_audio)
        tsr_rtp_stream_out_set_red(p->tx_audio, red_pt > 0 ? (uint8_t)red_pt : 0,
                                   p->audio_red_distance);
}

/* Our o= line keeps its session id and counts versions (RFC 3264 §8). */
static char *bump_origin(struct tsr_media_peer *p, const char *answer)
{
    char old_o[64], new_o[64];
    g_snprintf(old_o, sizeof old_o, "o=- %" G_GUINT64_FORMAT " 2 ", p->sdp_session_id);
    g_snprintf(new_o, sizeof new_o, "o=- %" G_GUINT64_FORMAT " %u ", p->sdp_session_id,
               ++p->sdp_version);
    const char *at = strstr(answer, old_o);
    if (!at)
        return g_strdup(answer);
    GString *s = g_string_new_len(answer, at - answer);
    g_string_append(s, new_o);
    g_string_append(s, at + strlen(old_o));
    return g_string_free(s, FALSE);
}

int tsr_media_peer_renegotiate(struct tsr_media_peer *p, const char *offer, char **answer,
                               char reason[TSR_SDP_REASON_MAX])
{
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_local local;
    char cname[32];
    reason[0] = '\0';
    if (p->plain && !g_atomic_int_get(&p->closed))
        return tsr_media_peer_renegotiate_plain(p, offer, answer, false, reason);
    if (g_atomic_int_get(&p->closed) || !p->transport) {
        g_strlcpy(reason, "the media peer is closed", TSR_SDP_REASON_MAX);
        return TSR_ERR_STATE;
    }
    if (p->send_offer) {
        g_strlcpy(reason, "a server offer is outstanding; answer it first", TSR_SDP_REASON_MAX);
        return TSR_ERR_STATE;
    }
    memset(&local, 0, sizeof local);
    int rc = tsr_webrtc_transport_local(p->transport, &local);
    if (rc)
        return rc;
    g_snprintf(cname, sizeof cname, "tessera-%08x", p->id);
    /* Prefer what runs, so an offer that still has it keeps it. */
    local.video_pref =
        p->video_codec == TSR_VIDEO_CODEC_H264 ? TSR_SDP_VIDEO_PREF_H264 : TSR_SDP_VIDEO_PREF_VP8;
    local.ask_dtx = p->ask_dtx;
    local.audio_red = p->audio_red_distance > 0;
    local.audio_ssrc = p->tx_audio ? tsr_rtp_stream_out_ssrc(p->tx_audio) : 1;
    local.video_ssrc = p->tx_video ? tsr_rtp_stream_out_ssrc(p->tx_video) : 2;
    local.cname = cname;
    local.stream_id = "tessera";
    local.session_id = p->sdp_session_id;
    rc = tsr_sdp_negotiate(offer, strlen(offer), &local, &neg, reason);
    if (rc == 0)
        rc = check_offer(p, neg, reason);
    if (rc == 0 && strcmp(neg->remote_ufrag, p->remote_ufrag) != 0) {
        rc = tsr_webrtc_transport_restart_ice(p->transport, neg->remote_ufrag, neg->remote_pwd,
                                              (const char *const *)neg->remote_candidates,
                                              neg->n_remote_candidates);
        if (rc == 0)
            g_strlcpy(p->remote_ufrag, neg->remote_ufrag, sizeof p->remote_ufrag);
        else
            g_snprintf(reason, TSR_SDP_REASON_MAX, "ICE restart failed: %s", tsr_strerror(rc));
    }
    if (rc == 0) {
        /* A replaced track may come with a new SSRC; the receive path also learns it
         * from the packets, this only makes RTCP aim right from the start. */
        if (p->has_video && neg->mlines[neg->video_index].remote_ssrc)
            p->rx_video.ssrc = neg->mlines[neg->video_index].remote_ssrc;
        tsr_media_peer_slides_apply(p, neg); /* presenting or not, per the slides line */
        apply_red(p, neg);
        *answer = bump_origin(p, neg->answer);
        /* The current descriptions, which server offers (media_peer_offer.c) build on. */
        g_free(p->local_sdp);
        p->local_sdp = g_strdup(*answer);
        g_free(p->remote_sdp);
        p->remote_sdp = g_strdup(offer);
        TSR_LOG(TSR_LOG_INFO, p->log_ctx, "renegotiated (answer version %u)", p->sdp_version);
    }
    tsr_sdp_negotiation_free(&neg);
    return rc;
}

int tsr_media_peer_renegotiate_codecs(struct tsr_media_peer *p, const char *offer, char **answer,
                                      char reason[TSR_SDP_REASON_MAX])
{
    reason[0] = '\0';
    if (g_atomic_int_get(&p->closed) || !p->plain) {
        g_strlcpy(reason, "the media peer is closed or not plain RTP", TSR_SDP_REASON_MAX);
        return TSR_ERR_STATE;
    }
    return tsr_media_peer_renegotiate_plain(p, offer, answer, true, reason);
}
