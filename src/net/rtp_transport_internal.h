/* Internal to src/net/rtp_transport*.c: a plain RTP transport's sockets and media
 * legs, shared by rtp_transport.c (sockets, latching, SDES, sending) and
 * rtp_transport_dtls.c (DTLS-SRTP on those sockets). Home thread: the net loop. */
#ifndef TSR_RTP_TRANSPORT_INTERNAL_H
#define TSR_RTP_TRANSPORT_INTERNAL_H

#include <tessera/metrics.h>
#include <tessera/rtp_transport.h>
#include <tessera/srtp.h>

#include <gio/gio.h>

struct tsr_rtp_transport;

/* One socket and what it carries. */
struct rtp_sock {
    struct tsr_rtp_transport *t;
    GSocket *socket;
    GSource *source;
    GSocketAddress *to; /* where this socket sends: the SDP's, then the latched one */
    bool rtcp;          /* the RTCP socket of its medium */
    bool video;         /* a socket of the video medium */
    bool latched;
    /* DTLS-SRTP (rtp_transport_dtls.c): this socket's own association (RFC 5764
     * §4.1: RTP and, without rtcp-mux, RTCP each have one) and the keys it
     * exported, which protect everything this socket sends and receives. */
    struct tsr_dtls *dtls;
    struct tsr_srtp *srtp;
};

struct rtp_leg {
    struct rtp_sock rtp, rtcp; /* rtcp.socket is used only without rtcp-mux */
    uint16_t port;
    bool active, mux;
    bool on_hold;          /* we do not send RTP (the caller holds the call) */
    bool rx_idle;          /* the caller said it sends nothing on this medium */
    bool dtls;             /* keyed by DTLS-SRTP: nothing flows on a socket without keys */
    uint32_t ssrc;         /* ours */
    struct tsr_srtp *srtp; /* SDES-keyed, else NULL (plain RTP or DTLS-SRTP) */
    char sdp_address[64];  /* what the SDP said, to tell a re-INVITE's move */
    uint16_t sdp_rtp_port, sdp_rtcp_port;
};

struct tsr_rtp_transport {
    GMainContext *ctx;
    char *log_ctx;
    struct tsr_rtp_transport_callbacks cb;
    void *user;
    struct rtp_leg legs[2];
    enum tsr_webrtc_state state;
    int64_t last_rx_us;
    uint32_t consent_ms;
    GSource *timer;
    struct tsr_counter *m_bad;
    struct rtp_ice *ice; /* ICE-lite responder (rtp_transport_ice.c), or NULL */
};

static inline struct rtp_leg *rtp_sock_leg(const struct rtp_sock *s)
{
    return &s->t->legs[s->video ? 1 : 0];
}

/* The SRTP context for what travels on s: its DTLS keys on a DTLS leg (NULL until
 * the handshake finished), else the medium's SDES keys (NULL for plain RTP). */
static inline struct tsr_srtp *rtp_sock_srtp(const struct rtp_sock *s)
{
    const struct rtp_leg *leg = rtp_sock_leg(s);
    return leg->dtls ? s->srtp : leg->srtp;
}

/* rtp_transport.c */
/* Moves the state and tells the owner; CLOSED and FAILED are final. */
void tsr_rtp_transport_set_state(struct tsr_rtp_transport *t, enum tsr_webrtc_state s);
/* Symmetric RTP: s sends to `from` from now on. */
void tsr_rtp_transport_latch(struct rtp_sock *s, GSocketAddress *from);
/* Sends one datagram as it is from s to its current target. Returns 0,
 * TSR_ERR_STATE (closed, no target), TSR_ERR_IO. */
int tsr_rtp_transport_sock_send(struct rtp_sock *s, const uint8_t *data, size_t len);

/* rtp_transport_ice.c */
/* Whether a datagram was an ICE check (or other STUN) and was taken here: a
 * check with our credentials is answered, and its nomination latches s. */
bool tsr_rtp_transport_ice_take(struct rtp_sock *s, const uint8_t *buf, size_t len,
                                GSocketAddress *from);
void tsr_rtp_transport_ice_free(struct tsr_rtp_transport *t);

/* rtp_transport_dtls.c */
/* Whether a datagram on a DTLS leg's socket was taken here: DTLS records go to
 * the handshake, RTP/RTCP before the socket has keys is dropped. False: deliver
 * it as RTP/RTCP (rtp_sock_srtp(s) then has keys). */
bool tsr_rtp_transport_dtls_take(struct rtp_sock *s, const uint8_t *buf, size_t len,
                                 GSocketAddress *from);
/* How many DTLS associations the transport has (keyed or not). */
unsigned tsr_rtp_transport_dtls_count(const struct tsr_rtp_transport *t);
/* close_notify on s's association, if any (before its socket closes). */
void tsr_rtp_transport_dtls_close(struct rtp_sock *s);
/* Frees s's association and keys. */
void tsr_rtp_transport_dtls_free(struct rtp_sock *s);

#endif
