/* Plain RTP/RTCP over UDP with symmetric RTP and latching; see
 * include/net/tessera/rtp_transport.h. Home thread: the net loop. */
#include "rtp_transport_internal.h"
#include <tessera/net_loops.h>

#include <tessera/err.h>
#include <tessera/log.h>

#include <errno.h>
#include <string.h>

#define MAX_DATAGRAM 1500
#define BIND_TRIES 64
#define CHECK_MS 500

void tsr_rtp_transport_set_state(struct tsr_rtp_transport *t, enum tsr_webrtc_state s)
{
    if (t->state == s || t->state == TSR_WEBRTC_STATE_CLOSED ||
        (t->state == TSR_WEBRTC_STATE_FAILED && s != TSR_WEBRTC_STATE_CLOSED))
        return;
    t->state = s;
    if (t->cb.on_state)
        t->cb.on_state(t->user, s);
}

static bool is_rtcp_packet(const uint8_t *d, size_t len)
{
    return len >= 8 && (d[1] & 0x7f) >= 64 && (d[1] & 0x7f) <= 95; /* RFC 5761 §4 */
}

/* Symmetric RTP: answer to where the caller's packets really come from. */
void tsr_rtp_transport_latch(struct rtp_sock *s, GSocketAddress *from)
{
    GInetSocketAddress *a = G_INET_SOCKET_ADDRESS(from);
    if (s->to) {
        GInetSocketAddress *b = G_INET_SOCKET_ADDRESS(s->to);
        if (g_inet_socket_address_get_port(a) == g_inet_socket_address_get_port(b) &&
            g_inet_address_equal(g_inet_socket_address_get_address(a),
                                 g_inet_socket_address_get_address(b)))
            return;
    }
    char *addr = g_inet_address_to_string(g_inet_socket_address_get_address(a));
    TSR_LOG(TSR_LOG_INFO, s->t->log_ctx, "%s latched to %s:%u", s->rtcp ? "RTCP" : "RTP", addr,
            g_inet_socket_address_get_port(a));
    g_free(addr);
    g_clear_object(&s->to);
    s->to = g_object_ref(from);
    s->latched = true;
}

static void deliver(struct rtp_sock *s, uint8_t *buf, size_t len, GSocketAddress *from)
{
    struct tsr_rtp_transport *t = s->t;
    if (len < 12 || (buf[0] >> 6) != 2) {
        tsr_counter_inc(t->m_bad);
        return;
    }
    bool rtcp = is_rtcp_packet(buf, len);
    struct tsr_srtp *srtp = rtp_sock_srtp(s);
    if (srtp && (rtcp ? tsr_srtp_unprotect_rtcp(srtp, buf, &len)
                      : tsr_srtp_unprotect_rtp(srtp, buf, &len)) != 0)
        return; /* forged or broken: counted by srtp, and it must not move our target */
    if (!rtcp || s->rtcp)
        tsr_rtp_transport_latch(s, from);
    t->last_rx_us = g_get_monotonic_time();
    /* With DTLS-SRTP, CONNECTED (which asks for a keyframe) waits until every
     * association is keyed: a keyframe sent before the video is keyed is lost. */
    if (tsr_rtp_transport_dtls_keyed(t) == tsr_rtp_transport_dtls_count(t))
        tsr_rtp_transport_set_state(t, TSR_WEBRTC_STATE_CONNECTED);
    if (rtcp && t->cb.on_rtcp)
        t->cb.on_rtcp(t->user, buf, len);
    else if (!rtcp && s->video && t->cb.on_video_rtp)
        t->cb.on_video_rtp(t->user, buf, len);
    else if (!rtcp && !s->video && t->cb.on_audio_rtp)
        t->cb.on_audio_rtp(t->user, buf, len);
}

static gboolean on_readable(GSocket *socket, GIOCondition cond, gpointer data)
{
    struct rtp_sock *s = data;
    (void)cond;
    uint8_t buf[MAX_DATAGRAM];
    for (int i = 0; i < 64; i++) { /* bounded: other participants share this loop */
        GSocketAddress *from = NULL;
        gssize n = g_socket_receive_from(socket, &from, (gchar *)buf, sizeof buf, NULL, NULL);
        if (n < 0)
            break;
        if (from && s->t->state != TSR_WEBRTC_STATE_CLOSED &&
            !tsr_rtp_transport_ice_take(s, buf, (size_t)n, from) &&
            !(rtp_sock_leg(s)->dtls && tsr_rtp_transport_dtls_take(s, buf, (size_t)n, from)))
            deliver(s, buf, (size_t)n, from);
        g_clear_object(&from);
    }
    return G_SOURCE_CONTINUE;
}

static gboolean on_check(gpointer data)
{
    struct tsr_rtp_transport *t = data;
    bool expect =
        (t->legs[0].active && !t->legs[0].rx_idle) || (t->legs[1].active && !t->legs[1].rx_idle);
    if (!expect) /* on hold with nothing coming: silence is what was agreed */
        t->last_rx_us = g_get_monotonic_time();
    if (t->state == TSR_WEBRTC_STATE_CONNECTED &&
        g_get_monotonic_time() - t->last_rx_us > (int64_t)t->consent_ms * 1000)
        tsr_rtp_transport_set_state(t, TSR_WEBRTC_STATE_DISCONNECTED);
    return G_SOURCE_CONTINUE;
}

static GSocket *bind_udp(GInetAddress *addr, uint16_t port)
{
    GSocket *s = g_socket_new(g_inet_address_get_family(addr), G_SOCKET_TYPE_DATAGRAM,
                              G_SOCKET_PROTOCOL_UDP, NULL);
    if (!s)
        return NULL;
    GSocketAddress *sa = g_inet_socket_address_new(addr, port);
    bool ok = g_socket_bind(s, sa, FALSE, NULL);
    g_object_unref(sa);
    if (!ok)
        g_clear_object(&s);
    else
        g_socket_set_blocking(s, FALSE);
    return s;
}

/* An even port and the one after it, both free. */
static int bind_pair(struct tsr_rtp_transport *t, struct rtp_leg *leg, GInetAddress *addr,
                     uint16_t lo, uint16_t hi)
{
    if (!lo || hi <= lo) {
        lo = 20000;
        hi = 60999;
    }
    for (int i = 0; i < BIND_TRIES; i++) {
        uint16_t port = (uint16_t)(g_random_int_range(lo, hi) & ~1u);
        if (port < lo)
            port = (uint16_t)(port + 2);
        GSocket *rtp = bind_udp(addr, port);
        GSocket *rtcp = rtp ? bind_udp(addr, (uint16_t)(port + 1)) : NULL;
        if (rtp && rtcp) {
            bool video = leg == &t->legs[1];
            leg->rtp = (struct rtp_sock){.t = t, .socket = rtp, .video = video};
            leg->rtcp = (struct rtp_sock){.t = t, .socket = rtcp, .rtcp = true, .video = video};
            leg->port = port;
            return 0;
        }
        g_clear_object(&rtp);
        g_clear_object(&rtcp);
    }
    return TSR_ERR_FULL;
}

static void watch(struct tsr_rtp_transport *t, struct rtp_sock *s)
{
    s->source = g_socket_create_source(s->socket, G_IO_IN, NULL);
    g_source_set_callback(s->source, G_SOURCE_FUNC(on_readable), s, NULL);
    g_source_attach(s->source, t->ctx);
}

int tsr_rtp_transport_new(struct tsr_rtp_transport **out, GMainContext *ctx,
                          const struct tsr_rtp_transport_config *cfg,
                          const struct tsr_rtp_transport_callbacks *cb, void *user)
{
    GSocketFamily fam = cfg->ipv6 ? G_SOCKET_FAMILY_IPV6 : G_SOCKET_FAMILY_IPV4;
    GInetAddress *addr = cfg->bind_address && *cfg->bind_address
                             ? g_inet_address_new_from_string(cfg->bind_address)
                             : g_inet_address_new_any(fam);
    if (!addr)
        return TSR_ERR_INVALID;
    struct tsr_rtp_transport *t = g_new0(struct tsr_rtp_transport, 1);
    t->ctx = g_main_context_ref(ctx);
    t->log_ctx = g_strdup(cfg->log_ctx ? cfg->log_ctx : "rtp");
    t->cb = *cb;
    t->user = user;
    t->state = TSR_WEBRTC_STATE_NEW;
    t->consent_ms = cfg->consent_timeout_ms ? cfg->consent_timeout_ms : 5000;
    t->m_bad = tsr_metrics_counter("tessera_rtp_bad_packets_total", NULL,
                                   "Datagrams on plain RTP ports that are not RTP or RTCP.");
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++)
        rc = bind_pair(t, &t->legs[i], addr, (uint16_t)cfg->port_min, (uint16_t)cfg->port_max);
    g_object_unref(addr);
    if (rc) {
        tsr_rtp_transport_free(&t);
        return rc;
    }
    for (int i = 0; i < 2; i++) {
        watch(t, &t->legs[i].rtp);
        watch(t, &t->legs[i].rtcp);
    }
    t->timer = tsr_aligned_timer_source_new(CHECK_MS);
    g_source_set_callback(t->timer, on_check, t, NULL);
    g_source_attach(t->timer, ctx);
    *out = t;
    return 0;
}

uint16_t tsr_rtp_transport_port(const struct tsr_rtp_transport *t,
                                enum tsr_rtp_transport_medium medium)
{
    return t->legs[medium == TSR_RTP_TRANSPORT_VIDEO ? 1 : 0].port;
}

int tsr_rtp_transport_route_address(const char *remote_ip, char *out, size_t size)
{
    GInetAddress *ra = g_inet_address_new_from_string(remote_ip);
    if (!ra)
        return TSR_ERR_INVALID;
    int rc = TSR_ERR_IO;
    GSocket *s = g_socket_new(g_inet_address_get_family(ra), G_SOCKET_TYPE_DATAGRAM,
                              G_SOCKET_PROTOCOL_UDP, NULL);
    GSocketAddress *to = g_inet_socket_address_new(ra, 9);
    if (s && g_socket_connect(s, to, NULL, NULL)) { /* UDP connect: a route lookup, no packet */
        GSocketAddress *local = g_socket_get_local_address(s, NULL);
        if (local) {
            char *a = g_inet_address_to_string(
                g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(local)));
            g_strlcpy(out, a, size);
            g_free(a);
            g_object_unref(local);
            rc = 0;
        }
    }
    g_clear_object(&s);
    g_object_unref(to);
    g_object_unref(ra);
    return rc;
}

static GSocketAddress *address_of(const char *ip, uint16_t port)
{
    GInetAddress *a = g_inet_address_new_from_string(ip);
    if (!a)
        return NULL;
    GSocketAddress *sa = g_inet_socket_address_new(a, port);
    g_object_unref(a);
    return sa;
}

static bool same_target(const struct rtp_leg *leg, const struct tsr_sdp_plain_peer *p)
{
    return strcmp(leg->sdp_address, p->address) == 0 && leg->sdp_rtp_port == p->rtp_port &&
           leg->sdp_rtcp_port == p->rtcp_port && leg->mux == p->rtcp_mux;
}

void tsr_rtp_transport_set_direction(struct tsr_rtp_transport *t,
                                     enum tsr_rtp_transport_medium medium, bool send,
                                     bool expect_rx)
{
    struct rtp_leg *leg = &t->legs[medium == TSR_RTP_TRANSPORT_VIDEO ? 1 : 0];
    if (leg->on_hold != !send)
        TSR_LOG(TSR_LOG_INFO, t->log_ctx, "%s RTP %s", medium ? "video" : "audio",
                send ? "resumed" : "held: not sending");
    leg->on_hold = !send;
    leg->rx_idle = !expect_rx;
}

bool tsr_rtp_transport_sending(const struct tsr_rtp_transport *t,
                               enum tsr_rtp_transport_medium medium)
{
    const struct rtp_leg *leg = &t->legs[medium == TSR_RTP_TRANSPORT_VIDEO ? 1 : 0];
    return leg->active && !leg->on_hold && (!leg->dtls || leg->rtp.srtp);
}

int tsr_rtp_transport_set_peers(struct tsr_rtp_transport *t,
                                const struct tsr_sdp_plain_peers *peers, uint32_t audio_ssrc,
                                uint32_t video_ssrc)
{
    const struct tsr_sdp_plain_peer *p[2] = {&peers->audio, &peers->video};
    uint32_t ssrc[2] = {audio_ssrc, video_ssrc};
    for (int i = 0; i < 2; i++) {
        struct rtp_leg *leg = &t->legs[i];
        leg->ssrc = ssrc[i];
        leg->active = p[i]->address[0] != '\0';
        if (!leg->active)
            continue;
        if (leg->rtp.to && same_target(leg, p[i]))
            continue; /* a re-INVITE that moved nothing: keep what latched */
        leg->mux = p[i]->rtcp_mux;
        leg->rtp.latched = leg->rtcp.latched = false;
        leg->sdp_rtp_port = p[i]->rtp_port;
        leg->sdp_rtcp_port = p[i]->rtcp_port;
        g_strlcpy(leg->sdp_address, p[i]->address, sizeof leg->sdp_address);
        g_clear_object(&leg->rtp.to);
        g_clear_object(&leg->rtcp.to);
        leg->rtp.to = address_of(p[i]->address, p[i]->rtp_port);
        leg->rtcp.to = address_of(p[i]->address, p[i]->rtcp_port);
        if (!leg->rtp.to || !leg->rtcp.to)
            return TSR_ERR_INVALID;
    }
    if (t->state == TSR_WEBRTC_STATE_NEW)
        tsr_rtp_transport_set_state(t, TSR_WEBRTC_STATE_CONNECTING);
    return 0;
}

int tsr_rtp_transport_set_srtp(struct tsr_rtp_transport *t, enum tsr_rtp_transport_medium medium,
                               const struct tsr_dtls_srtp_keys *keys)
{
    struct rtp_leg *leg = &t->legs[medium == TSR_RTP_TRANSPORT_VIDEO ? 1 : 0];
    struct tsr_srtp *fresh = NULL;
    if (keys) {
        int rc = tsr_srtp_new(&fresh, keys);
        if (rc)
            return rc;
    }
    tsr_srtp_free(&leg->srtp);
    leg->srtp = fresh;
    return 0;
}

int tsr_rtp_transport_sock_send(struct rtp_sock *s, const uint8_t *data, size_t len)
{
    if (s->t->state == TSR_WEBRTC_STATE_CLOSED || !s->socket || !s->to)
        return TSR_ERR_STATE;
    gssize n = g_socket_send_to(s->socket, s->to, (const gchar *)data, len, NULL, NULL);
    return n == (gssize)len ? 0 : TSR_ERR_IO;
}

static int send_on(struct rtp_sock *s, const uint8_t *data, size_t len, bool rtcp)
{
    if (len > MAX_DATAGRAM)
        return -EMSGSIZE;
    struct tsr_srtp *srtp = rtp_sock_srtp(s);
    if (!srtp && rtp_sock_leg(s)->dtls)
        return TSR_ERR_AGAIN; /* DTLS-SRTP not keyed yet: nothing goes out in clear */
    uint8_t buf[MAX_DATAGRAM + TSR_SRTP_MAX_TRAILER_BYTES];
    if (srtp) { /* protect a copy: the caller's packet may go to others too */
        memcpy(buf, data, len);
        int rc = rtcp ? tsr_srtp_protect_rtcp(srtp, buf, &len, sizeof buf)
                      : tsr_srtp_protect_rtp(srtp, buf, &len, sizeof buf);
        if (rc)
            return rc;
        data = buf;
    }
    return tsr_rtp_transport_sock_send(s, data, len);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int tsr_rtp_transport_send_rtp(struct tsr_rtp_transport *t, const uint8_t *data, size_t len)
{
    if (len < 12)
        return TSR_ERR_INVALID;
    struct rtp_leg *leg = &t->legs[be32(data + 8) == t->legs[1].ssrc ? 1 : 0];
    if (leg->active && leg->on_hold)
        return 0; /* held: dropped by agreement, not a failure */
    return leg->active ? send_on(&leg->rtp, data, len, false) : TSR_ERR_STATE;
}

int tsr_rtp_transport_send_rtcp(struct tsr_rtp_transport *t, const uint8_t *data, size_t len)
{
    if (len < 8)
        return TSR_ERR_INVALID;
    struct rtp_leg *leg = &t->legs[be32(data + 4) == t->legs[1].ssrc ? 1 : 0];
    if (!leg->active)
        return TSR_ERR_STATE;
    return send_on(leg->mux ? &leg->rtp : &leg->rtcp, data, len, true);
}

enum tsr_webrtc_state tsr_rtp_transport_state(const struct tsr_rtp_transport *t)
{
    return t->state;
}

static void close_sock(struct rtp_sock *s)
{
    tsr_rtp_transport_dtls_close(s); /* its close_notify needs the socket */
    if (s->source) {
        g_source_destroy(s->source);
        g_source_unref(s->source);
        s->source = NULL;
    }
    g_clear_object(&s->socket);
    g_clear_object(&s->to);
}

void tsr_rtp_transport_close(struct tsr_rtp_transport *t)
{
    if (!t || t->state == TSR_WEBRTC_STATE_CLOSED)
        return;
    for (int i = 0; i < 2; i++) {
        close_sock(&t->legs[i].rtp);
        close_sock(&t->legs[i].rtcp);
    }
    if (t->timer) {
        g_source_destroy(t->timer);
        g_source_unref(t->timer);
        t->timer = NULL;
    }
    tsr_rtp_transport_set_state(t, TSR_WEBRTC_STATE_CLOSED);
}

void tsr_rtp_transport_free(struct tsr_rtp_transport **pt)
{
    if (!pt || !*pt)
        return;
    struct tsr_rtp_transport *t = *pt;
    *pt = NULL;
    t->cb.on_state = NULL; /* nobody to tell any more */
    tsr_rtp_transport_close(t);
    for (int i = 0; i < 2; i++) { /* a half-built transport */
        close_sock(&t->legs[i].rtp);
        close_sock(&t->legs[i].rtcp);
        tsr_rtp_transport_dtls_free(&t->legs[i].rtp);
        tsr_rtp_transport_dtls_free(&t->legs[i].rtcp);
        tsr_srtp_free(&t->legs[i].srtp);
    }
    tsr_rtp_transport_ice_free(t);
    g_main_context_unref(t->ctx);
    g_free(t->log_ctx);
    g_free(t);
}
