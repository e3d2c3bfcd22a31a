/* The PIN lobby's video: the "enter PIN" picture (sip_picture.c) packetized once
 * for the caller's codec and sent as one keyframe a second from a UDP socket of
 * its own, to where the caller's own video or RTCP on that port comes from, else
 * to the offer's video port at the address its audio comes from (a caller that
 * only receives video sends none), and only while it keeps coming (the SDP's
 * address is never trusted, so an INVITE naming a third party aims nothing at it); SDES-SRTP when
 * the section asked for it. What the caller sends is read and dropped. Home thread: the API loop.
 */
#include "sip_picture.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/rtp_codec.h>
#include <tessera/sip_message.h>
#include <tessera/srtp.h>

#include <gio/gio.h>
#include <string.h>

#define PICTURE_INTERVAL_MS 1000
#define RECV_BATCH 64
#define PEER_QUIET_US (5 * G_USEC_PER_SEC) /* as the prompt's: see sip_lobby.c */

struct tsr_sip_lobby_pic {
    GSocket *sock;
    GSource *source, *timer;
    GMainContext *ctx;
    GSocketAddress *peer; /* where the caller's video or RTCP comes from */
    bool latched;
    int64_t heard_us;
    struct tsr_srtp *srtp;
    struct tsr_rtp_packetized *frame;
    uint16_t sdp_port; /* the offer's video port, at the address the caller is heard from */
    uint8_t pt;
    uint16_t seq;
    uint32_t ts, ssrc;
};

void tsr_sip_latch(GSocketAddress **peer, bool *latched, int64_t *heard_us, GSocketAddress *from,
                   int64_t quiet_us)
{
    int64_t now = g_get_monotonic_time();
    if (!from)
        return;
    if (!*latched || now - *heard_us > quiet_us) {
        g_clear_object(peer);
        *peer = g_object_ref(from);
        *latched = true;
        *heard_us = now;
        return;
    }
    GInetSocketAddress *a = G_INET_SOCKET_ADDRESS(*peer), *b = G_INET_SOCKET_ADDRESS(from);
    if (g_inet_socket_address_get_port(a) == g_inet_socket_address_get_port(b) &&
        g_inet_address_equal(g_inet_socket_address_get_address(a),
                             g_inet_socket_address_get_address(b)))
        *heard_us = now;
}

/* The caller's own video (its payload type) or RTCP, authenticated under SDES. */
static bool genuine(struct tsr_sip_lobby_pic *v, uint8_t *buf, size_t len)
{
    if (len < 12 || (buf[0] & 0xc0) != 0x80)
        return false;
    if (buf[1] >= 200 && buf[1] <= 206)
        return !v->srtp || tsr_srtp_unprotect_rtcp(v->srtp, buf, &len) == 0;
    return (buf[1] & 0x7f) == v->pt &&
           (!v->srtp || tsr_srtp_unprotect_rtp(v->srtp, buf, &len) == 0);
}

static gboolean on_readable(GSocket *sock, GIOCondition cond, gpointer user)
{
    struct tsr_sip_lobby_pic *v = user;
    (void)cond;
    uint8_t buf[1500];
    for (int i = 0; i < RECV_BATCH; i++) {
        GSocketAddress *from = NULL;
        gssize n = g_socket_receive_from(sock, &from, (gchar *)buf, sizeof buf, NULL, NULL);
        if (n < 0)
            break;
        if (genuine(v, buf, (size_t)n))
            tsr_sip_latch(&v->peer, &v->latched, &v->heard_us, from, PEER_QUIET_US);
        g_clear_object(&from);
    }
    return G_SOURCE_CONTINUE;
}

static void send_payload(struct tsr_sip_lobby_pic *v, const uint8_t *payload, size_t len,
                         bool marker)
{
    uint8_t pkt[1600];
    if (len + 12 + 16 > sizeof pkt)
        return;
    pkt[0] = 0x80;
    pkt[1] = (uint8_t)((marker ? 0x80 : 0) | v->pt);
    pkt[2] = (uint8_t)(v->seq >> 8);
    pkt[3] = (uint8_t)v->seq;
    for (int i = 0; i < 4; i++) {
        pkt[4 + i] = (uint8_t)(v->ts >> (24 - 8 * i));
        pkt[8 + i] = (uint8_t)(v->ssrc >> (24 - 8 * i));
    }
    memcpy(pkt + 12, payload, len);
    size_t n = 12 + len;
    v->seq++;
    if (v->srtp && tsr_srtp_protect_rtp(v->srtp, pkt, &n, sizeof pkt) != 0)
        return;
    g_socket_send_to(v->sock, v->peer, (const gchar *)pkt, n, NULL, NULL);
}

static gboolean on_tick(gpointer user)
{
    struct tsr_sip_lobby_pic *v = user;
    bool live = v->latched && g_get_monotonic_time() - v->heard_us < PEER_QUIET_US;
    for (size_t i = 0; live && i < tsr_rtp_packetized_count(v->frame); i++) {
        const uint8_t *data = NULL;
        size_t len = 0;
        bool marker = false;
        if (tsr_rtp_packetized_get(v->frame, i, &data, &len, &marker) == 0)
            send_payload(v, data, len, marker);
    }
    v->ts += 90 * PICTURE_INTERVAL_MS;
    return G_SOURCE_CONTINUE;
}

static int bind_socket(struct tsr_sip_lobby_pic *v, const char *local, uint16_t *port)
{
    GInetAddress *ia = g_inet_address_new_from_string(local);
    if (!ia)
        return TSR_ERR_IO;
    GSocketAddress *sa = g_inet_socket_address_new(ia, 0);
    v->sock = g_socket_new(g_inet_address_get_family(ia), G_SOCKET_TYPE_DATAGRAM,
                           G_SOCKET_PROTOCOL_UDP, NULL);
    bool ok = v->sock && g_socket_bind(v->sock, sa, FALSE, NULL);
    g_object_unref(sa);
    g_object_unref(ia);
    if (!ok)
        return TSR_ERR_IO;
    g_socket_set_blocking(v->sock, FALSE);
    GSocketAddress *bound = g_socket_get_local_address(v->sock, NULL);
    *port = bound ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)) : 0;
    if (bound)
        g_object_unref(bound);
    return *port ? 0 : TSR_ERR_IO;
}

/* The picture for the section's codec, packetized once for this lobby. */
static int packetize(struct tsr_sip_lobby_pic *v, bool h264)
{
    GBytes *pic = tsr_sip_picture_get(h264);
    if (!pic)
        return TSR_ERR_CODEC;
    struct tsr_rtp_packetizer *pay = NULL;
    int rc = tsr_rtp_packetizer_new(&pay, h264 ? &tsr_rtp_codec_h264 : &tsr_rtp_codec_vp8);
    gsize len = 0;
    const uint8_t *data = g_bytes_get_data(pic, &len);
    if (rc == 0)
        rc = tsr_rtp_packetizer_run(pay, data, len, 0, 0, true, &v->frame);
    tsr_rtp_packetizer_free(&pay);
    g_bytes_unref(pic);
    return rc;
}

static int keyed(struct tsr_sip_lobby_pic *v, struct tsr_sip_lobby_video *sec)
{
    if (!sec->srtp)
        return 0;
    int rc = 0;
    if (!sec->local_keyed) { /* a delayed offer's lobby has the key it offered */
        sec->local_crypto.tag = sec->remote_crypto.tag;
        sec->local_crypto.suite = sec->remote_crypto.suite;
        rc = tsr_srtp_random_key(sec->local_crypto.key_salt, sizeof sec->local_crypto.key_salt);
    }
    struct tsr_dtls_srtp_keys keys;
    tsr_sdp_crypto_keys(&sec->local_crypto, &sec->remote_crypto, &keys);
    if (rc == 0)
        rc = tsr_srtp_new(&v->srtp, &keys);
    memset(&keys, 0, sizeof keys);
    return rc;
}

int tsr_sip_lobby_pic_bind(struct tsr_sip_lobby_pic **out, GMainContext *ctx, const char *local,
                           uint16_t *port)
{
    struct tsr_sip_lobby_pic *v = g_new0(struct tsr_sip_lobby_pic, 1);
    v->pt = 0xff; /* no payload type is this: only RTCP counts until the setup */
    v->ctx = ctx;
    v->seq = (uint16_t)g_random_int();
    v->ts = g_random_int();
    v->ssrc = g_random_int() | 1;
    int rc = bind_socket(v, local, port);
    if (rc != 0) {
        tsr_sip_lobby_pic_free(&v);
        return rc;
    }
    v->source = g_socket_create_source(v->sock, G_IO_IN, NULL);
    g_source_set_callback(v->source, G_SOURCE_FUNC(on_readable), v, NULL);
    g_source_attach(v->source, ctx);
    *out = v;
    return 0;
}

int tsr_sip_lobby_pic_setup(struct tsr_sip_lobby_pic *v, struct tsr_sip_lobby_video *sec)
{
    if (v->timer)
        return TSR_ERR_INVALID;
    int rc = packetize(v, sec->h264);
    if (rc == 0)
        rc = keyed(v, sec);
    if (rc != 0)
        return rc;
    v->pt = (uint8_t)sec->pt;
    v->sdp_port = sec->port;
    v->timer = g_timeout_source_new(PICTURE_INTERVAL_MS);
    g_source_set_callback(v->timer, on_tick, v, NULL);
    g_source_attach(v->timer, v->ctx);
    return 0;
}

uint32_t tsr_sip_lobby_pic_ssrc(const struct tsr_sip_lobby_pic *v)
{
    return v->ssrc;
}

int tsr_sip_lobby_pic_new(struct tsr_sip_lobby_pic **out, GMainContext *ctx, const char *local,
                          struct tsr_sip_lobby_video *sec, uint16_t *port)
{
    struct tsr_sip_lobby_pic *v = NULL;
    int rc = tsr_sip_lobby_pic_bind(&v, ctx, local, port);
    if (rc == 0 && (rc = tsr_sip_lobby_pic_setup(v, sec)) != 0)
        tsr_sip_lobby_pic_free(&v);
    if (rc == 0)
        *out = v;
    return rc;
}

void tsr_sip_lobby_pic_heard(struct tsr_sip_lobby_pic *v, GSocketAddress *audio_from)
{
    GInetAddress *ip = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(audio_from));
    GSocketAddress *to = g_inet_socket_address_new(ip, v->sdp_port);
    tsr_sip_latch(&v->peer, &v->latched, &v->heard_us, to, PEER_QUIET_US);
    g_object_unref(to);
}

void tsr_sip_lobby_pic_start(struct tsr_sip_lobby_pic *v)
{
    on_tick(v); /* the first picture at once if the caller was heard, then one a second */
}

void tsr_sip_lobby_pic_free(struct tsr_sip_lobby_pic **p)
{
    if (!p || !*p)
        return;
    struct tsr_sip_lobby_pic *v = *p;
    *p = NULL;
    GSource *sources[] = {v->source, v->timer};
    for (size_t i = 0; i < G_N_ELEMENTS(sources); i++)
        if (sources[i]) {
            g_source_destroy(sources[i]);
            g_source_unref(sources[i]);
        }
    if (v->sock) {
        g_socket_close(v->sock, NULL);
        g_object_unref(v->sock);
    }
    g_clear_object(&v->peer);
    tsr_srtp_free(&v->srtp);
    tsr_rtp_packetized_unref(&v->frame);
    g_free(v);
}
