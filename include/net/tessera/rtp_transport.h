/* One SIP participant's media transport: plain RTP and RTCP over UDP, one port
 * pair per medium (RTP on an even port, RTCP on the next; or RTCP muxed on the RTP
 * port), no ICE; SRTP/SRTCP per medium when SDES keyed it (set_srtp) or DTLS-SRTP
 * handshakes on the media sockets themselves did (set_dtls).
 *
 * Symmetric RTP (RFC 4961) with latching: we send to the address the SDP gave
 * until packets arrive, then to wherever the caller's packets really come from, so
 * a caller behind a NAT that wrote its private address into the SDP still hears
 * us. Outgoing packets are routed to audio or video by their SSRC (ours, given to
 * set_peers); incoming RTP and RTCP go to the callbacks. State: CONNECTING until
 * the first packet (with DTLS-SRTP: the first one after every association is
 * keyed), CONNECTED while packets come, DISCONNECTED after consent_timeout_ms
 * without any (the peer drops a participant that stays so), FAILED for good when
 * DTLS-SRTP fails.
 *
 * Home thread: the net loop owning the GMainContext given to _new; every function
 * and callback runs there. */
#ifndef TESSERA_RTP_TRANSPORT_H
#define TESSERA_RTP_TRANSPORT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tessera/dtls.h>
#include <tessera/sdp_plain.h>
#include <tessera/webrtc_transport.h>

struct tsr_rtp_transport;

struct tsr_rtp_transport_config {
    uint16_t port_min, port_max; /* 0/0 = any */
    const char *bind_address;    /* NULL/"" = every interface of `family` */
    bool ipv6;                   /* the caller's media is IPv6 */
    uint32_t consent_timeout_ms; /* 0 = 5000 */
    const char *log_ctx;         /* copied; NULL = "rtp" */
};

struct tsr_rtp_transport_callbacks {
    tsr_webrtc_packet_fn on_audio_rtp; /* came in on the audio port */
    tsr_webrtc_packet_fn on_video_rtp; /* came in on the video port */
    tsr_webrtc_packet_fn on_rtcp;
    tsr_webrtc_state_fn on_state;
};

enum tsr_rtp_transport_medium {
    TSR_RTP_TRANSPORT_AUDIO = 0,
    TSR_RTP_TRANSPORT_VIDEO = 1,
};

/* Purpose: bind an RTP/RTCP port pair for audio and one for video on ctx.
 * Ownership: ctx referenced, cfg strings copied, cb/user borrowed until free.
 * Returns 0, TSR_ERR_FULL (no free pair in the range), TSR_ERR_IO. */
int tsr_rtp_transport_new(struct tsr_rtp_transport **out, GMainContext *ctx,
                          const struct tsr_rtp_transport_config *cfg,
                          const struct tsr_rtp_transport_callbacks *cb, void *user);

/* Purpose: the local RTP port of a medium (RTCP is the next one). */
uint16_t tsr_rtp_transport_port(const struct tsr_rtp_transport *t,
                                enum tsr_rtp_transport_medium medium);

/* Purpose: the local address the kernel would send to `remote_ip` from (what an
 * SDP answer should carry when the transport is bound to every interface).
 * Writes an IP literal into out. Returns 0 or TSR_ERR_IO. */
int tsr_rtp_transport_route_address(const char *remote_ip, char *out, size_t size);

/* Purpose: where to send (from the offer), and our SSRCs, which route outgoing
 * packets to the audio or video ports. A medium whose address is "" is closed.
 * Called again (a re-INVITE), a medium whose address and ports did not change
 * keeps its latched address.
 * Returns 0, TSR_ERR_INVALID (an address that is not an IP literal). */
int tsr_rtp_transport_set_peers(struct tsr_rtp_transport *t,
                                const struct tsr_sdp_plain_peers *peers, uint32_t audio_ssrc,
                                uint32_t video_ssrc);

/* Purpose: answer ICE connectivity checks on every socket as an ICE-lite agent
 * with our credentials (`ufrag`, `pwd`: what the SDP answer carries), for a SIP
 * offer that carried ICE. A check whose USERNAME is "ufrag:…" and whose
 * MESSAGE-INTEGRITY is keyed with `pwd` gets a success response (XOR-MAPPED-ADDRESS,
 * integrity, fingerprint); one with USE-CANDIDATE also makes that socket send to
 * the check's source (as latching does). Other STUN is dropped. Counted in
 * tessera_sip_ice_checks_total{result}. Returns 0 or -EINVAL. */
int tsr_rtp_transport_set_ice(struct tsr_rtp_transport *t, const char *ufrag, const char *pwd);

/* Purpose: protect this medium's packets with SRTP/SRTCP from now on (keys from
 * SDES: ours to protect, the caller's to check); keys NULL = plain again. Packets
 * that fail authentication are dropped (tessera_srtp_errors_total) and never
 * latch. Returns 0, -EINVAL, TSR_ERR_CRYPTO. */
int tsr_rtp_transport_set_srtp(struct tsr_rtp_transport *t, enum tsr_rtp_transport_medium medium,
                               const struct tsr_dtls_srtp_keys *keys);

/* DTLS-SRTP for one medium (RFC 5763, RFC 5764) without ICE. */
struct tsr_rtp_transport_dtls {
    enum tsr_dtls_role role;                       /* ours (tsr_sdp_dtls decides) */
    struct tsr_dtls_cert *cert;                    /* borrowed; each association refs it */
    const struct tsr_sdp_fingerprint *fingerprint; /* the caller's; copied */
    const char *srtp_profiles;     /* GnuTLS list; NULL = AES128_CM_HMAC_SHA1_80, then _32 */
    uint32_t handshake_timeout_ms; /* 0 = tsr_dtls's default (20 s) */
};

/* Purpose: key this medium by DTLS-SRTP: one DTLS association on its RTP socket
 * and, without rtcp-mux, a second one on its RTCP socket, whose own exported keys
 * protect the RTCP (RFC 5764 §4.1). Each socket tells DTLS from RTP/RTCP by the
 * first byte (RFC 7983). Until a socket's handshake has finished nothing is sent
 * on it and what arrives there that is not DTLS is dropped (counted in
 * tessera_rtp_dtls_unkeyed_packets_total); tsr_rtp_transport_sending() is false
 * while the RTP socket has no keys. As server we answer whoever sends the first
 * ClientHello (the socket latches to it, so a caller behind a NAT is reached);
 * as client the ClientHello goes to the SDP's address now. A failed handshake, a
 * certificate that does not match the fingerprint, or no handshake within the
 * timeout makes the transport FAILED (tessera_dtls_errors_total{reason}); each
 * association keyed counts in tessera_rtp_dtls_associations_total. Call once per
 * medium, after set_peers (which says whether RTCP is muxed); the associations
 * last as long as the transport (a re-INVITE keeps them).
 * Returns 0, TSR_ERR_STATE (medium not active, or already DTLS), -EINVAL, and
 * tsr_dtls_new's codes. */
int tsr_rtp_transport_set_dtls(struct tsr_rtp_transport *t, enum tsr_rtp_transport_medium medium,
                               const struct tsr_rtp_transport_dtls *cfg);

/* Purpose: how many DTLS associations of the transport are keyed (0 to 4). */
unsigned tsr_rtp_transport_dtls_keyed(const struct tsr_rtp_transport *t);

/* Purpose: hold and resume (RFC 3264 §8.4): `send` false drops this medium's RTP
 * (sent as successfully dropped, RTCP goes on); `expect_rx` false when the caller
 * said it will not send (sendonly from us, inactive), so silence on this medium
 * does not count toward DISCONNECTED. Both true until first set. */
void tsr_rtp_transport_set_direction(struct tsr_rtp_transport *t,
                                     enum tsr_rtp_transport_medium medium, bool send,
                                     bool expect_rx);

/* Purpose: whether this medium's RTP goes out (false while held, and before a
 * DTLS-SRTP medium is keyed), so a sender can skip numbering packets nobody gets
 * (sequence numbers stay contiguous). */
bool tsr_rtp_transport_sending(const struct tsr_rtp_transport *t,
                               enum tsr_rtp_transport_medium medium);

/* Purpose: send one RTP / RTCP packet (borrowed). RTCP goes to the video RTCP port
 * when its sender SSRC is our video SSRC, else to audio. Returns 0, TSR_ERR_STATE
 * (no peer for that medium, or closed), TSR_ERR_AGAIN (DTLS-SRTP not keyed yet),
 * -EMSGSIZE, TSR_ERR_IO. */
int tsr_rtp_transport_send_rtp(struct tsr_rtp_transport *t, const uint8_t *data, size_t len);
int tsr_rtp_transport_send_rtcp(struct tsr_rtp_transport *t, const uint8_t *data, size_t len);

enum tsr_webrtc_state tsr_rtp_transport_state(const struct tsr_rtp_transport *t);

/* Purpose: close the sockets, report CLOSED once; idempotent. */
void tsr_rtp_transport_close(struct tsr_rtp_transport *t);
/* Purpose: close and free; NULLs *t; accepts NULL. Not from inside a callback. */
void tsr_rtp_transport_free(struct tsr_rtp_transport **t);

#endif
