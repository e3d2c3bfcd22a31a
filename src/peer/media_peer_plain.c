/* A SIP participant's media: a plain RTP/AVP(F), SDES RTP/SAVP(F) or DTLS-SRTP
 * UDP/TLS/RTP/SAVP(F) offer (no ICE) answered on a tsr_rtp_transport with
 * symmetric RTP, and the transport seam the rest of the
 * peer sends through (WebRTC or plain). The receive and send chains are the
 * WebRTC participant's, unchanged: same jitter buffer, decoder, Opus path to the
 * mixer and packetized composite. Home thread: the peer's net loop. */
#include "media_peer_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/srtp.h>

#include <string.h>

/* What a plain SIP answer says we take on video (b=AS / b=TIAS): the most the
 * mixer ever asks a camera for (conference_video.c sizes its hint to the tile,
 * 100 kb/s .. 2.5 Mb/s). */
#define PLAIN_VIDEO_ACCEPT_BPS 2500000

/* The address our answer carries: the configured public or first media address,
 * else the one the kernel routes to the caller from. */
static int answer_address(const struct tsr_webrtc_config *w,
                          const struct tsr_sdp_plain_peers *peers, char *out, size_t size)
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

/* SDES: each SRTP medium is protected with our key and checked with the caller's.
 * Keys are replaced only when the caller's changed (a re-INVITE may carry the
 * same line again), so the running streams keep their rollover counters. */
static int apply_srtp(struct tsr_media_peer *p, const struct tsr_sdp_plain_peers *peers,
                      bool initial)
{
    const struct tsr_sdp_plain_peer *now[2] = {&peers->audio, &peers->video};
    const struct tsr_sdp_plain_peer *was[2] = {&p->plain_peers.audio, &p->plain_peers.video};
    for (int i = 0; i < 2; i++) {
        if (!initial && now[i]->srtp == was[i]->srtp &&
            (!now[i]->srtp || memcmp(&now[i]->crypto, &was[i]->crypto, sizeof now[i]->crypto) == 0))
            continue;
        struct tsr_sdp_crypto ours = {.suite = now[i]->crypto.suite};
        memcpy(ours.key_salt, p->sdes_key[i], sizeof ours.key_salt);
        struct tsr_dtls_srtp_keys keys;
        tsr_sdp_crypto_keys(&ours, &now[i]->crypto, &keys);
        int rc = tsr_rtp_transport_set_srtp(p->plain, (enum tsr_rtp_transport_medium)i,
                                            now[i]->srtp ? &keys : NULL);
        memset(&keys, 0, sizeof keys);
        memset(&ours, 0, sizeof ours);
        if (rc)
            return rc;
    }
    return 0;
}

/* A re-offer that changes a medium's SDES key makes us rebuild that medium's
 * SRTP context, and a rebuilt context starts its packet index again: under our
 * old key that would reuse keystream once a stream had wrapped its sequence
 * numbers (RFC 3711 §9.2). So such a medium gets a new key of ours too, which
 * the answer carries (RFC 4568 §7.1.4); they go into `keys`, which the call
 * takes only once the re-offer is accepted. Returns how many keys changed, or -1
 * without randomness. */
static int fresh_sdes_keys(const struct tsr_media_peer *p, const struct tsr_sdp_plain_peers *peers,
                           uint8_t keys[2][TSR_SDES_KEY_SALT_BYTES])
{
    const struct tsr_sdp_plain_peer *now[2] = {&peers->audio, &peers->video};
    const struct tsr_sdp_plain_peer *was[2] = {&p->plain_peers.audio, &p->plain_peers.video};
    int n = 0;
    for (int i = 0; i < 2; i++) {
        if (!now[i]->srtp || !was[i]->srtp ||
            memcmp(&now[i]->crypto, &was[i]->crypto, sizeof now[i]->crypto) == 0)
            continue;
        if (tsr_srtp_random_key(keys[i], TSR_SDES_KEY_SALT_BYTES) != 0)
            return -1;
        n++;
    }
    return n;
}

/* The caller's SDP as it now stands; a medium once keyed stays so. */
static void set_plain_peers(struct tsr_media_peer *p, const struct tsr_sdp_plain_peers *peers)
{
    p->plain_peers = *peers;
    p->plain_keyed[0] |= peers->audio.srtp || peers->audio.dtls;
    p->plain_keyed[1] |= peers->video.srtp || peers->video.dtls;
}

/* A re-offer may not carry a medium in clear that was ever keyed, even after
 * rejecting it in between (the SDP layer sees only the last SDP). */
static int keeps_keying(const struct tsr_media_peer *p, const struct tsr_sdp_plain_peers *peers,
                        char reason[TSR_SDP_REASON_MAX])
{
    const struct tsr_sdp_plain_peer *now[2] = {&peers->audio, &peers->video};
    for (int i = 0; i < 2; i++)
        if (p->plain_keyed[i] && now[i]->rtp_port && !now[i]->srtp && !now[i]->dtls) {
            g_snprintf(reason, TSR_SDP_REASON_MAX,
                       "the re-INVITE carries the %s section without the SRTP the call had; "
                       "start a new call",
                       i ? "video" : "audio");
            return TSR_ERR_UNSUPPORTED;
        }
    return 0;
}

/* DTLS-SRTP: the handshakes run on the media sockets from now on (a caller that
 * is the client sends its ClientHello as soon as it has our answer). */
static int apply_dtls(struct tsr_media_peer *p, struct tsr_dtls_cert *cert,
                      const struct tsr_sdp_plain_peers *peers)
{
    const struct tsr_sdp_plain_peer *now[2] = {&peers->audio, &peers->video};
    for (int i = 0; i < 2; i++) {
        if (!now[i]->dtls)
            continue;
        struct tsr_rtp_transport_dtls cfg = {
            .role = now[i]->dtls_params.local_role,
            .cert = cert,
            .fingerprint = &now[i]->dtls_params.fingerprint,
        };
        int rc = tsr_rtp_transport_set_dtls(p->plain, (enum tsr_rtp_transport_medium)i, &cfg);
        if (rc)
            return rc;
    }
    return 0;
}

static const char *keying_name(const struct tsr_sdp_plain_peers *peers)
{
    if (peers->audio.dtls || peers->video.dtls)
        return "DTLS-SRTP";
    return peers->audio.srtp || peers->video.srtp ? "SDES-SRTP" : "plain RTP";
}

/* The codec an accepted line runs, for the log; "none" without that line. */
static const char *line_codec(const struct tsr_sdp_negotiation *neg, int index)
{
    return index >= 0 ? tsr_sdp_codec_name(neg->mlines[index].codec) : "none";
}

/* An SSRC for a medium a re-offer adds: not zero, not the other medium's. */
static uint32_t fresh_ssrc(const struct tsr_rtp_stream_out *other)
{
    uint32_t ssrc;
    do
        ssrc = g_random_int();
    while (ssrc == 0 || (other && ssrc == tsr_rtp_stream_out_ssrc(other)));
    return ssrc;
}

/* Our ICE-lite credentials for the call (RFC 8839 ice-char: ALPHA / DIGIT / + / /). */
static void ice_credentials(struct tsr_media_peer *p)
{
    static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out[2] = {p->plain_ice_ufrag, p->plain_ice_pwd};
    size_t len[2] = {8, 24};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < len[k]; i++)
            out[k][i] = chars[g_random_int_range(0, (gint32)sizeof chars - 1)];
        out[k][len[k]] = '\0';
    }
}

/* Hold and resume: RTP goes to a medium only while the caller wants it. */
static void apply_direction(struct tsr_media_peer *p, const struct tsr_sdp_plain_peers *peers)
{
    tsr_rtp_transport_set_direction(p->plain, TSR_RTP_TRANSPORT_AUDIO, !peers->audio.held,
                                    peers->audio.sends);
    tsr_rtp_transport_set_direction(p->plain, TSR_RTP_TRANSPORT_VIDEO, !peers->video.held,
                                    peers->video.sends);
}

int tsr_media_peer_negotiate_plain(struct tsr_media_peer *p,
                                   const struct tsr_media_peer_params *params, const char *offer,
                                   uint32_t assrc, uint32_t vssrc,
                                   struct tsr_sdp_negotiation **neg_out,
                                   char reason[TSR_SDP_REASON_MAX])
{
    char cname[32];
    g_snprintf(cname, sizeof cname, "tessera-%08x", p->id);
    struct tsr_dtls_cert *cert = params->webrtc ? params->webrtc->cert : NULL;
    if (cert) /* kept for re-answers, which must carry the same fingerprint */
        g_strlcpy(p->plain_fingerprint, tsr_dtls_cert_fingerprint(cert),
                  sizeof p->plain_fingerprint);
    struct tsr_sdp_plain_local local = {
        .address = "0.0.0.0",
        .video_pref = params->video_pref,
        .audio_ssrc = assrc,
        .video_ssrc = vssrc,
        .cname = cname,
        .session_id = ((uint64_t)g_random_int() << 20) | p->id,
        .audio_key = p->sdes_key[0],
        .video_key = p->sdes_key[1],
        .fingerprint_sha256 = cert ? p->plain_fingerprint : NULL,
        .audio_g711 = true, /* the mixer takes PCMU/PCMA when Opus is not offered */
        .audio_g722 = true, /* and G.722 before them */
        .video_accept_bps = PLAIN_VIDEO_ACCEPT_BPS,
        .ice_ufrag = p->plain_ice_ufrag,
        .ice_pwd = p->plain_ice_pwd,
    };
    ice_credentials(p);
    if (tsr_srtp_random_key(&p->sdes_key[0][0], sizeof p->sdes_key) != 0) {
        local.audio_key = local.video_key = NULL; /* plain RTP still works; SRTP offers get 488 */
        TSR_LOG(TSR_LOG_WARN, p->log_ctx, "no randomness for SDES keys: SRTP refused");
    }
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
    if (rc == 0 && (rc = apply_srtp(p, &peers, true)) != 0)
        g_snprintf(reason, TSR_SDP_REASON_MAX, "SRTP setup failed: %s", tsr_strerror(rc));
    if (rc == 0 && (rc = apply_dtls(p, cert, &peers)) != 0)
        g_snprintf(reason, TSR_SDP_REASON_MAX, "DTLS-SRTP setup failed: %s", tsr_strerror(rc));
    if (rc == 0 && (peers.audio.ice || peers.video.ice))
        rc = tsr_rtp_transport_set_ice(p->plain, p->plain_ice_ufrag, p->plain_ice_pwd);
    if (rc) {
        tsr_sdp_negotiation_free(&neg);
        return rc;
    }
    apply_direction(p, &peers);
    set_plain_peers(p, &peers);
    p->sdp_session_id = local.session_id;
    p->sdp_version = 1;
    g_strlcpy(p->plain_address, address, sizeof p->plain_address);
    TSR_LOG(TSR_LOG_INFO, p->log_ctx, "%s: audio %s:%u (%s), video %s:%u (%s); ours %s:%u/%u",
            keying_name(&peers), peers.audio.address, peers.audio.rtp_port,
            line_codec(neg, neg->audio_index), peers.video.address, peers.video.rtp_port,
            line_codec(neg, neg->video_index), address, local.audio_port, local.video_port);
    *neg_out = neg;
    return 0;
}

/* The address our own offer carries: the configured public or first media
 * address, else the one the default route leaves from, else loopback (there is
 * no caller's SDP yet to route towards). */
static void offer_address(const struct tsr_webrtc_config *w, char *out, size_t size)
{
    struct tsr_sdp_plain_peers none;
    memset(&none, 0, sizeof none);
    g_strlcpy(none.audio.address, "192.0.2.1", sizeof none.audio.address); /* TEST-NET-1 */
    if (answer_address(w, &none, out, size) != 0)
        g_strlcpy(out, "127.0.0.1", size);
}

/* What our offer said about us, for writing it and reading its answer. */
static void offer_local(const struct tsr_media_peer *p, const char *cname,
                        struct tsr_sdp_plain_local *local)
{
    memset(local, 0, sizeof *local);
    local->address = p->plain_address;
    local->audio_port = tsr_rtp_transport_port(p->plain, TSR_RTP_TRANSPORT_AUDIO);
    local->video_port = tsr_rtp_transport_port(p->plain, TSR_RTP_TRANSPORT_VIDEO);
    local->video_pref = p->offer_video_pref;
    local->audio_ssrc = p->offer_ssrc[0];
    local->video_ssrc = p->offer_ssrc[1];
    local->cname = cname;
    local->session_id = p->sdp_session_id;
    local->session_version = p->sdp_version;
    local->audio_g711 = true;
    local->audio_g722 = true;
    if (p->offer_keyed) {
        local->offer_srtp = p->offer_srtp;
        local->audio_key = p->sdes_key[0];
        local->video_key = p->sdes_key[1];
    }
}

int tsr_media_peer_offer_plain(struct tsr_media_peer *p, const struct tsr_media_peer_params *params,
                               uint32_t assrc, uint32_t vssrc, char **offer,
                               char reason[TSR_SDP_REASON_MAX])
{
    char cname[32];
    g_snprintf(cname, sizeof cname, "tessera-%08x", p->id);
    /* Keys for SDES in the offer ([sip] offer_srtp) or a later SDES re-INVITE. */
    p->offer_keyed = tsr_srtp_random_key(&p->sdes_key[0][0], sizeof p->sdes_key) == 0;
    p->offer_srtp = params->offer_srtp;
    if (!p->offer_keyed && p->offer_srtp == TSR_SDP_OFFER_SRTP_MANDATORY) {
        g_strlcpy(reason, "no randomness for SDES keys, and [sip] offer_srtp is mandatory",
                  TSR_SDP_REASON_MAX);
        return TSR_ERR_CRYPTO;
    }
    if (!p->offer_keyed)
        TSR_LOG(TSR_LOG_WARN, p->log_ctx, "no randomness for SDES keys: plain RTP offered");
    int rc = open_transport(p, params, false);
    if (rc) {
        g_snprintf(reason, TSR_SDP_REASON_MAX, "cannot open RTP ports: %s", tsr_strerror(rc));
        return rc;
    }
    offer_address(params->webrtc, p->plain_address, sizeof p->plain_address);
    p->offer_ssrc[0] = assrc;
    p->offer_ssrc[1] = vssrc;
    p->offer_video_pref = params->video_pref;
    p->sdp_session_id = ((uint64_t)g_random_int() << 20) | p->id;
    p->sdp_version = 1;
    struct tsr_sdp_plain_local local;
    offer_local(p, cname, &local);
    rc = tsr_sdp_plain_offer(&local, offer);
    if (rc) {
        g_snprintf(reason, TSR_SDP_REASON_MAX, "cannot write our offer: %s", tsr_strerror(rc));
        return rc;
    }
    p->awaiting_answer = true;
    TSR_LOG(TSR_LOG_INFO, p->log_ctx, "plain RTP offer: ours %s:%u/%u", p->plain_address,
            local.audio_port, local.video_port);
    return 0;
}

int tsr_media_peer_read_plain_answer(struct tsr_media_peer *p, const char *answer,
                                     struct tsr_sdp_negotiation **neg_out,
                                     char reason[TSR_SDP_REASON_MAX])
{
    char cname[32];
    g_snprintf(cname, sizeof cname, "tessera-%08x", p->id);
    struct tsr_sdp_plain_local local;
    offer_local(p, cname, &local);
    struct tsr_sdp_plain_peers peers;
    struct tsr_sdp_negotiation *neg = NULL;
    int rc = tsr_sdp_plain_read_answer(answer, strlen(answer), &local, &neg, &peers, reason);
    if (rc == 0 && (rc = tsr_rtp_transport_set_peers(p->plain, &peers, local.audio_ssrc,
                                                     local.video_ssrc)) != 0)
        g_snprintf(reason, TSR_SDP_REASON_MAX, "cannot send to the answer's address: %s",
                   tsr_strerror(rc));
    if (rc == 0 && (rc = apply_srtp(p, &peers, true)) != 0)
        g_snprintf(reason, TSR_SDP_REASON_MAX, "SRTP setup failed: %s", tsr_strerror(rc));
    if (rc) {
        tsr_sdp_negotiation_free(&neg);
        return rc;
    }
    apply_direction(p, &peers);
    set_plain_peers(p, &peers);
    TSR_LOG(TSR_LOG_INFO, p->log_ctx, "answer to our offer (%s): audio %s:%u, video %s:%u",
            keying_name(&peers), peers.audio.address, peers.audio.rtp_port, peers.video.address,
            peers.video.rtp_port);
    *neg_out = neg;
    return 0;
}

bool tsr_media_peer_transport_up(const struct tsr_media_peer *p)
{
    if (p->plain) /* symmetric RTP sends to the SDP's address before anything arrives */
        return tsr_rtp_transport_state(p->plain) != TSR_WEBRTC_STATE_CLOSED;
    return p->transport && tsr_webrtc_transport_state(p->transport) == TSR_WEBRTC_STATE_CONNECTED;
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

/* What a plain re-offer asks of the running chains: nothing new, or other
 * payload types (codecs) or media (one added or dropped), which need the peer
 * out of the mixer while they change. */
static bool plain_changes(const struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg)
{
    if (p->has_audio != (neg->audio_index >= 0) || p->has_video != (neg->video_index >= 0))
        return true;
    return (p->has_audio && tsr_media_peer_audio_differs(p, &neg->mlines[neg->audio_index])) ||
           (p->has_video && tsr_media_peer_video_differs(p, &neg->mlines[neg->video_index]));
}

/* Checks a change against what the caller allows; 0 to go on. */
static int plain_change_check(const struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg,
                              const struct tsr_sdp_plain_peers *peers, bool recodec,
                              char reason[TSR_SDP_REASON_MAX])
{
    if (!plain_changes(p, neg))
        return 0;
    bool media = p->has_audio != (neg->audio_index >= 0) || p->has_video != (neg->video_index >= 0);
    if (media && (peers->audio.dtls || peers->video.dtls || p->plain_peers.audio.dtls ||
                  p->plain_peers.video.dtls)) {
        g_strlcpy(reason,
                  "a DTLS-SRTP call cannot add or drop audio or video by re-INVITE; "
                  "start a new call",
                  TSR_SDP_REASON_MAX);
        return TSR_ERR_UNSUPPORTED;
    }
    if (!recodec) {
        g_strlcpy(reason, "the re-INVITE changes a codec or adds or drops a medium",
                  TSR_SDP_REASON_MAX);
        return TSR_ERR_AGAIN;
    }
    return 0;
}

/* The peer is out of the mixer: the chains of each changed, added or dropped
 * medium start again (an added one sends with `ssrc`). */
static int plain_recodec(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg,
                         const uint32_t ssrc[2], char reason[TSR_SDP_REASON_MAX])
{
    if (!plain_changes(p, neg))
        return 0;
    int rc = tsr_media_peer_tx_recodec(p, neg, ssrc[0], ssrc[1]);
    if (rc == 0)
        rc = tsr_media_peer_rx_recodec(p, neg);
    if (rc) {
        g_snprintf(reason, TSR_SDP_REASON_MAX, "the new media could not be set up: %s",
                   tsr_strerror(rc));
        return rc;
    }
    TSR_LOG(TSR_LOG_INFO, p->log_ctx, "media changed: audio %s, video %s",
            line_codec(neg, neg->audio_index), line_codec(neg, neg->video_index));
    return 0;
}

int tsr_media_peer_renegotiate_plain(struct tsr_media_peer *p, const char *offer, char **answer,
                                     bool recodec, char reason[TSR_SDP_REASON_MAX])
{
    char cname[32];
    g_snprintf(cname, sizeof cname, "tessera-%08x", p->id);
    uint8_t keys[2][TSR_SDES_KEY_SALT_BYTES]; /* ours; new ones where the caller's change */
    memcpy(keys, p->sdes_key, sizeof keys);
    struct tsr_sdp_plain_local local = {
        .address = p->plain_address,
        .audio_port = tsr_rtp_transport_port(p->plain, TSR_RTP_TRANSPORT_AUDIO),
        .video_port = tsr_rtp_transport_port(p->plain, TSR_RTP_TRANSPORT_VIDEO),
        /* Prefer what runs, so an offer that still has it keeps it. */
        .video_pref = p->video_codec == TSR_VIDEO_CODEC_H264 ? TSR_SDP_VIDEO_PREF_H264
                                                             : TSR_SDP_VIDEO_PREF_VP8,
        /* A medium the re-offer adds sends with a fresh SSRC. */
        .audio_ssrc = p->tx_audio ? tsr_rtp_stream_out_ssrc(p->tx_audio) : fresh_ssrc(p->tx_video),
        .video_ssrc = p->tx_video ? tsr_rtp_stream_out_ssrc(p->tx_video) : fresh_ssrc(p->tx_audio),
        .cname = cname,
        .session_id = p->sdp_session_id,
        .session_version = p->sdp_version + 1,
        .audio_key = keys[0],
        .video_key = keys[1],
        .fingerprint_sha256 = p->plain_fingerprint[0] ? p->plain_fingerprint : NULL,
        .audio_g711 = true,
        .audio_g722 = true,
        .video_accept_bps = PLAIN_VIDEO_ACCEPT_BPS,
        .running = &p->plain_peers, /* DTLS associations stay as they are */
        .ice_ufrag = p->plain_ice_ufrag[0] ? p->plain_ice_ufrag : NULL,
        .ice_pwd = p->plain_ice_pwd[0] ? p->plain_ice_pwd : NULL,
    };
    struct tsr_sdp_plain_peers peers;
    struct tsr_sdp_negotiation *neg = NULL;
    int rc = tsr_sdp_plain_negotiate(offer, strlen(offer), &local, &neg, &peers, reason);
    int fresh = rc == 0 ? fresh_sdes_keys(p, &peers, keys) : 0;
    if (fresh < 0) {
        g_strlcpy(reason, "no randomness for new SDES keys", TSR_SDP_REASON_MAX);
        rc = TSR_ERR_CRYPTO;
    } else if (fresh > 0) { /* answer with the new keys */
        tsr_sdp_negotiation_free(&neg);
        rc = tsr_sdp_plain_negotiate(offer, strlen(offer), &local, &neg, &peers, reason);
    }
    if (rc == 0)
        rc = keeps_keying(p, &peers, reason);
    if (rc == 0)
        rc = plain_change_check(p, neg, &peers, recodec, reason);
    /* A zero address (old-style hold) says nothing about where the caller is. */
    if (rc == 0 && strcmp(peers.audio.address, "0.0.0.0") != 0 &&
        strcmp(peers.video.address, "0.0.0.0") != 0)
        rc = tsr_rtp_transport_set_peers(p->plain, &peers, local.audio_ssrc, local.video_ssrc);
    if (rc == 0)
        memcpy(p->sdes_key, keys, sizeof keys);
    memset(keys, 0, sizeof keys);
    if (rc == 0 && (rc = apply_srtp(p, &peers, false)) != 0)
        g_snprintf(reason, TSR_SDP_REASON_MAX, "SRTP setup failed: %s", tsr_strerror(rc));
    if (rc == 0)
        rc = plain_recodec(p, neg, (const uint32_t[2]){local.audio_ssrc, local.video_ssrc}, reason);
    if (rc == 0 && (peers.audio.ice || peers.video.ice)) /* ICE may come with a re-offer */
        rc = tsr_rtp_transport_set_ice(p->plain, p->plain_ice_ufrag, p->plain_ice_pwd);
    if (rc == 0) {
        apply_direction(p, &peers);
        if (neg->video_index >= 0) /* a re-offer may change its b= line */
            g_atomic_int_set(
                &p->sdp_cap_kbps,
                (gint)MIN(neg->mlines[neg->video_index].remote_max_bps / 1000, (uint64_t)G_MAXINT));
        if (neg->audio_index >= 0) /* telephone-event may come, go or move */
            p->rx_audio.event_pt = neg->mlines[neg->audio_index].event_pt >= 96
                                       ? neg->mlines[neg->audio_index].event_pt
                                       : -1;
        set_plain_peers(p, &peers);
        p->sdp_version++;
        *answer = g_steal_pointer(&neg->answer);
        g_free(p->local_sdp);
        p->local_sdp = g_strdup(*answer);
        g_free(p->remote_sdp);
        p->remote_sdp = g_strdup(offer);
        TSR_LOG(TSR_LOG_INFO, p->log_ctx, "re-INVITE answered (version %u): audio %s, video %s",
                p->sdp_version, peers.audio.held ? "held" : "sent",
                peers.video.held ? "held" : "sent");
    }
    tsr_sdp_negotiation_free(&neg);
    return rc;
}
