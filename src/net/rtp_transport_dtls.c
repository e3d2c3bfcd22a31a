/* DTLS-SRTP on a plain RTP transport's own sockets (SIP without ICE); see
 * tsr_rtp_transport_set_dtls in include/net/tessera/rtp_transport.h.
 *
 * Each socket that carries a component (RTP; RTCP unless muxed) runs its own
 * tsr_dtls: datagrams whose first byte is 20..63 are its records (RFC 7983 §7),
 * what it sends goes to the socket's current target, and the keys it exports
 * become the socket's SRTP context. The handshake's retransmission timer is
 * tsr_dtls's, on this transport's net loop. Home thread: the net loop. */
#include "rtp_transport_internal.h"

#include <tessera/demux.h>
#include <tessera/err.h>
#include <tessera/log.h>

#include <errno.h>
#include <string.h>

/* Offered to the client, or accepted from it, in this order: what libsrtp2 and
 * GnuTLS 3.7 both have (GnuTLS 3.7 has no AEAD_AES_128_GCM profile). */
#define SIP_SRTP_PROFILES "SRTP_AES128_CM_HMAC_SHA1_80:SRTP_AES128_CM_HMAC_SHA1_32"

static const char *component_name(const struct rtp_sock *s)
{
    static const char *const names[2][2] = {{"audio RTP", "audio RTCP"},
                                            {"video RTP", "video RTCP"}};
    return names[s->video][s->rtcp];
}

static int dtls_send(void *user, const uint8_t *data, size_t len)
{
    return tsr_rtp_transport_sock_send(user, data, len);
}

static void dtls_connected(void *user, const struct tsr_dtls_srtp_keys *keys)
{
    struct rtp_sock *s = user;
    struct tsr_rtp_transport *t = s->t;
    struct tsr_srtp *fresh = NULL;
    int rc = tsr_srtp_new(&fresh, keys);
    if (rc) {
        TSR_LOG(TSR_LOG_ERROR, t->log_ctx, "%s: SRTP setup from DTLS keys failed: %s",
                component_name(s), tsr_strerror(rc));
        tsr_rtp_transport_set_state(t, TSR_WEBRTC_STATE_FAILED);
        return;
    }
    tsr_srtp_free(&s->srtp);
    s->srtp = fresh;
    tsr_counter_inc(tsr_metrics_counter(
        "tessera_rtp_dtls_associations_total", NULL,
        "DTLS-SRTP associations keyed on plain RTP ports (SIP media): one per medium with "
        "rtcp-mux, two (RTP and RTCP) without."));
    TSR_LOG(TSR_LOG_INFO, t->log_ctx, "%s: DTLS-SRTP keyed (%s)", component_name(s),
            tsr_srtp_profile_name(keys->profile));
}

static void dtls_failed(void *user, int err)
{
    struct rtp_sock *s = user;
    struct tsr_rtp_transport *t = s->t;
    if (err == TSR_ERR_STATE) {
        /* close_notify: the caller is hanging up (its BYE follows). The keys stay
         * good for whatever is still in flight. */
        TSR_LOG(TSR_LOG_INFO, t->log_ctx, "%s: the caller closed its DTLS association",
                component_name(s));
        return;
    }
    TSR_LOG(TSR_LOG_WARN, t->log_ctx, "%s: DTLS-SRTP failed: %s%s", component_name(s),
            tsr_strerror(err),
            err == TSR_ERR_AUTH ? " (its certificate does not match the SDP's a=fingerprint)" : "");
    tsr_rtp_transport_set_state(t, TSR_WEBRTC_STATE_FAILED);
}

static int make_component(struct rtp_sock *s, const struct tsr_rtp_transport_dtls *cfg)
{
    static const struct tsr_dtls_callbacks cb = {dtls_send, dtls_connected, dtls_failed};
    char log_ctx[160];
    g_snprintf(log_ctx, sizeof log_ctx, "%s %s", s->t->log_ctx, component_name(s));
    struct tsr_dtls_config dc = {
        .role = cfg->role,
        .cert = cfg->cert,
        .remote_fingerprint = cfg->fingerprint,
        .srtp_profiles = cfg->srtp_profiles ? cfg->srtp_profiles : SIP_SRTP_PROFILES,
        .log_ctx = log_ctx,
        .handshake_timeout_ms = cfg->handshake_timeout_ms,
    };
    return tsr_dtls_new(&s->dtls, s->t->ctx, &dc, &cb, s);
}

int tsr_rtp_transport_set_dtls(struct tsr_rtp_transport *t, enum tsr_rtp_transport_medium medium,
                               const struct tsr_rtp_transport_dtls *cfg)
{
    if (!t || !cfg || !cfg->cert || !cfg->fingerprint)
        return -EINVAL;
    struct rtp_leg *leg = &t->legs[medium == TSR_RTP_TRANSPORT_VIDEO ? 1 : 0];
    if (!leg->active || leg->dtls || t->state == TSR_WEBRTC_STATE_CLOSED)
        return TSR_ERR_STATE;
    int rc = make_component(&leg->rtp, cfg);
    if (rc == 0 && !leg->mux)
        rc = make_component(&leg->rtcp, cfg);
    if (rc) {
        tsr_rtp_transport_dtls_free(&leg->rtp);
        tsr_rtp_transport_dtls_free(&leg->rtcp);
        return rc;
    }
    leg->dtls = true;
    /* A client's ClientHello leaves now; a server arms its handshake timeout. */
    tsr_dtls_start(leg->rtp.dtls);
    if (leg->rtcp.dtls)
        tsr_dtls_start(leg->rtcp.dtls);
    return 0;
}

unsigned tsr_rtp_transport_dtls_keyed(const struct tsr_rtp_transport *t)
{
    unsigned n = 0;
    for (int i = 0; i < 2; i++)
        n += (t->legs[i].rtp.dtls && t->legs[i].rtp.srtp) +
             (t->legs[i].rtcp.dtls && t->legs[i].rtcp.srtp);
    return n;
}

unsigned tsr_rtp_transport_dtls_count(const struct tsr_rtp_transport *t)
{
    unsigned n = 0;
    for (int i = 0; i < 2; i++)
        n += (t->legs[i].rtp.dtls != NULL) + (t->legs[i].rtcp.dtls != NULL);
    return n;
}

bool tsr_rtp_transport_dtls_take(struct rtp_sock *s, const uint8_t *buf, size_t len,
                                 GSocketAddress *from)
{
    struct tsr_rtp_transport *t = s->t;
    enum tsr_demux_kind kind = tsr_demux_classify(buf, len);
    if (kind == TSR_DEMUX_DTLS && s->dtls) {
        /* Until it is up, the association answers whoever speaks DTLS to it: the
         * caller's NAT mapping (RFC 4961). An impostor gets no further than the
         * fingerprint check; once keyed, only authenticated SRTP moves the target. */
        if (!tsr_dtls_is_connected(s->dtls))
            tsr_rtp_transport_latch(s, from);
        tsr_dtls_handle_packet(s->dtls, buf, len);
        return true;
    }
    if ((kind == TSR_DEMUX_RTP || kind == TSR_DEMUX_RTCP) && s->srtp)
        return false;
    if (kind == TSR_DEMUX_RTP || kind == TSR_DEMUX_RTCP) {
        tsr_counter_inc(tsr_metrics_counter(
            "tessera_rtp_dtls_unkeyed_packets_total", NULL,
            "RTP/RTCP dropped on a DTLS-SRTP socket whose handshake had not finished."));
        TSR_LOG_RL(TSR_LOG_DEBUG, t->log_ctx, 2000, "%s: %s before DTLS-SRTP keys: dropped",
                   component_name(s), tsr_demux_kind_name(kind));
    } else {
        tsr_counter_inc(t->m_bad);
    }
    return true;
}

void tsr_rtp_transport_dtls_close(struct rtp_sock *s)
{
    if (s->dtls)
        tsr_dtls_close(s->dtls);
}

void tsr_rtp_transport_dtls_free(struct rtp_sock *s)
{
    tsr_dtls_free(&s->dtls);
    tsr_srtp_free(&s->srtp);
}
