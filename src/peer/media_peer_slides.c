/* The presentation line of a Pexip call: a second video m-line (a=content:slides)
 * in the same BUNDLE as the camera, on which the SDK sends a screen share after
 * taking the floor. Its packets share the transport and usually the payload type
 * of the camera, so they are told apart by SSRC (from the offer's a=ssrc, or
 * learnt from the RTP MID header extension) before payload-type routing.
 *
 * The receiver is a media peer of its own without a transport (a "child"): its
 * jitter buffer, decoder and picture slot are the ordinary receive path, its
 * NACK/PLI go out through the call's transport, and the mixer shows it as the
 * presentation's content exactly like the screen-share peer of the native API.
 * Home thread: the call's net loop. */
#include "media_peer_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <string.h>

/* A child reports nothing to the mixer: the call's peer does that. */
static const struct tsr_media_peer_sink slides_sink = {0};

int tsr_media_peer_slides_setup(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg,
                                uint32_t slides_id)
{
    if (neg->slides_index < 0 || !slides_id || !p->transport)
        return 0;
    struct tsr_media_peer *c = g_new0(struct tsr_media_peer, 1);
    c->refs = 1;
    c->id = slides_id;
    c->log_ctx = g_strdup_printf("%s/slides", p->log_ctx);
    c->ctx = g_main_context_ref(p->ctx);
    c->sink = &slides_sink;
    g_mutex_init(&c->slot_lock);
    c->m_rx_bytes = p->m_rx_bytes;
    c->m_tx_bytes = p->m_tx_bytes;
    c->m_decode_us = p->m_decode_us;
    c->m_frames_dropped = p->m_frames_dropped;
    c->parent = p;
    p->slides = c;
    /* The receive path reads the video line: show it the slides line as that. */
    struct tsr_sdp_negotiation *view = g_new(struct tsr_sdp_negotiation, 1);
    *view = *neg;
    view->audio_index = -1;
    view->video_index = neg->slides_index;
    int rc = tsr_media_peer_rx_setup(c, view);
    g_free(view);
    if (rc)
        return rc;
    g_strlcpy(p->slides_mid, neg->mlines[neg->slides_index].mid, sizeof p->slides_mid);
    tsr_media_peer_slides_apply(p, neg);
    TSR_LOG(TSR_LOG_INFO, p->log_ctx, "slides line %s: %s, payload type %d", p->slides_mid,
            tsr_video_codec_name(c->video_codec), c->rx_video.pt);
    return 0;
}

/* Packets of the slides: its SSRC, or (before the SSRC is known, when the offer
 * did not signal it) the slides' mid in the MID header extension. */
bool tsr_media_peer_slides_take(struct tsr_media_peer *p, struct tsr_rtp_header *h, int64_t now)
{
    struct tsr_media_peer *c = p->slides;
    if (!c || g_atomic_int_get(&c->closed))
        return false;
    bool ours = c->rx_video.ssrc && h->ssrc == c->rx_video.ssrc;
    if (!ours && h->extension && h->ssrc != p->rx_video.ssrc && h->ssrc != p->rx_audio.ssrc) {
        struct tsr_rtp_ext_values ext;
        memset(&ext, 0, sizeof ext);
        ours = tsr_rtp_ext_parse(&p->ext_map, h, &ext) == 0 && ext.has_mid &&
               strcmp(ext.mid, p->slides_mid) == 0;
        if (ours)
            c->rx_video.ssrc = h->ssrc;
    }
    if (!ours)
        return false;
    if (h->payload_type != c->rx_video.pt) {
        tsr_counter_inc(tsr_metrics_counter("tessera_media_rx_errors_total",
                                            "kind=\"payload_type\"",
                                            "Inbound media packets dropped, by reason."));
        TSR_LOG_RL(TSR_LOG_DEBUG, c->log_ctx, 5000, "slides RTP with payload type %u dropped",
                   h->payload_type);
        return true; /* RTX is not negotiated; anything else is not ours to decode */
    }
    tsr_media_peer_rx_video(c, h, now);
    return true;
}

int tsr_media_peer_slides_check(const struct tsr_media_peer *p,
                                const struct tsr_sdp_negotiation *neg,
                                char reason[TSR_SDP_REASON_MAX])
{
    bool had = p->slides != NULL, has = neg->slides_index >= 0;
    if (!had || !has || neg->mlines[neg->slides_index].pt == p->slides->rx_video.pt)
        return 0; /* a line never set up is answered and its packets dropped */
    g_strlcpy(reason, "the offer changes the slides m-line's codec; start a new call",
              TSR_SDP_REASON_MAX);
    return TSR_ERR_UNSUPPORTED;
}

void tsr_media_peer_slides_apply(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg)
{
    struct tsr_media_peer *c = p->slides;
    if (!c)
        return;
    const struct tsr_sdp_mline *m = neg->slides_index >= 0 ? &neg->mlines[neg->slides_index] : NULL;
    bool sending = m && m->remote_sends;
    /* A new screen comes with a new SSRC; the old one must not pass for it. */
    if (m && m->remote_ssrc)
        c->rx_video.ssrc = m->remote_ssrc;
    if (sending && !g_atomic_int_get(&p->slides_sending))
        tsr_jitter_buffer_request_keyframe(c->jitter, g_get_monotonic_time());
    if (sending != (g_atomic_int_get(&p->slides_sending) != 0))
        TSR_LOG(TSR_LOG_INFO, p->log_ctx, "slides %s", sending ? "received" : "stopped");
    g_atomic_int_set(&p->slides_sending, sending);
}

void tsr_media_peer_slides_detach(struct tsr_media_peer *p)
{
    if (!p->slides)
        return;
    g_atomic_int_set(&p->slides->closed, 1);
    p->slides->parent = NULL;
    g_atomic_int_set(&p->slides_sending, 0);
}

struct tsr_media_peer *tsr_media_peer_slides(struct tsr_media_peer *p)
{
    if (!p->slides || !g_atomic_int_get(&p->slides_sending) || g_atomic_int_get(&p->closed))
        return NULL;
    return tsr_media_peer_ref(p->slides);
}
