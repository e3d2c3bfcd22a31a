/* The PIN lobby for an INVITE without SDP (a delayed offer, RFC 3261 §13.2.1): our
 * lobby offer goes in the 200 and the caller's answer comes in its ACK. The offer is
 * the one the media layer makes for such an INVITE (tsr_sdp_plain_offer: Opus,
 * G.722, PCMU, PCMA, telephone-event; VP8 and H.264 mode 1) on the lobby's own
 * ports, video send-only since the lobby only shows its picture; the answer is read
 * by the same reader as the media layer's and turned into what the lobby reads from
 * a caller's offer, so the lobby then runs exactly as it does for one. With [sip]
 * offer_srtp the offer carries a=crypto as the media layer's does, and a keyed
 * answer makes the lobby SDES-SRTP under the keys offered. Pure. */
#include <tessera/err.h>
#include <tessera/sdp_plain.h>
#include <tessera/sip_message.h>

#include <glib.h>
#include <string.h>

/* What our offer said, as the plain SDP writer and reader take it. */
static void plain_local(const struct tsr_sip_lobby_ours *ours, struct tsr_sdp_plain_local *local)
{
    memset(local, 0, sizeof *local);
    local->address = ours->address;
    local->audio_port = ours->audio_port;
    local->video_port = ours->video_port;
    local->video_pref = TSR_SDP_VIDEO_PREF_H264; /* the picture's preferred codec */
    local->audio_ssrc = ours->audio_ssrc;
    local->video_ssrc = ours->video_ssrc;
    local->cname = "tessera-lobby";
    local->session_id = ours->session_id;
    local->session_version = ours->session_version;
    local->audio_g711 = true;
    local->audio_g722 = true;
    local->offer_srtp = ours->offer_srtp;
    local->audio_key = ours->audio_key;
    local->video_key = ours->video_key;
}

/* A keyed section: the caller's key from its answer, ours the one offered under
 * the tag and suite it took. */
static void keyed(const struct tsr_sdp_plain_peer *peer, const uint8_t *key,
                  struct tsr_sdp_crypto *remote, struct tsr_sdp_crypto *local)
{
    *remote = peer->crypto;
    *local = (struct tsr_sdp_crypto){.tag = peer->crypto.tag, .suite = peer->crypto.suite};
    memcpy(local->key_salt, key, sizeof local->key_salt);
}

int tsr_sip_lobby_sdp_offer(const struct tsr_sip_lobby_ours *ours, char **out)
{
    struct tsr_sdp_plain_local local;
    plain_local(ours, &local);
    char *offer = NULL;
    int rc = tsr_sdp_plain_offer(&local, &offer);
    if (rc != 0)
        return rc;
    /* The lobby only sends its picture: the video section is ours to send. */
    char *video = strstr(offer, "\r\nm=video ");
    char *dir = video ? strstr(video, "\r\na=sendrecv\r\n") : NULL;
    if (!dir) {
        g_free(offer);
        return TSR_ERR_INVALID; /* not the writer's shape: a bug, not input */
    }
    memcpy(dir + 4, "sendonly", 8);
    *out = offer;
    return 0;
}

/* The name of an accepted audio codec as the lobby's prompt knows it. */
static const char *audio_rtpmap(enum tsr_sdp_codec codec)
{
    switch (codec) {
    case TSR_SDP_CODEC_OPUS:
        return "opus/48000/2";
    case TSR_SDP_CODEC_G722:
        return "G722/8000";
    case TSR_SDP_CODEC_PCMU:
        return "PCMU/8000";
    case TSR_SDP_CODEC_PCMA:
        return "PCMA/8000";
    default:
        return "";
    }
}

static void fill_audio(const struct tsr_sdp_mline *a, const struct tsr_sdp_plain_peer *peer,
                       const struct tsr_sip_lobby_ours *ours, struct tsr_sip_lobby_sdp *out)
{
    g_strlcpy(out->remote_address, peer->address, sizeof out->remote_address);
    out->remote_port = peer->rtp_port;
    out->receives = !peer->held;
    out->audio_pt = a->pt;
    g_strlcpy(out->audio_rtpmap, audio_rtpmap(a->codec), sizeof out->audio_rtpmap);
    out->event_pt = a->event_pt >= 96 ? a->event_pt : -1;
    out->event_rate = out->event_pt >= 0 ? a->event_clock_rate : 0;
    g_strlcpy(out->audio_proto, "RTP/AVP", sizeof out->audio_proto);
    out->srtp = out->local_keyed = peer->srtp;
    if (peer->srtp)
        keyed(peer, ours->audio_key, &out->remote_crypto, &out->local_crypto);
}

/* The picture goes where the answer takes video: its codec, address and port. */
static void fill_video(const struct tsr_sdp_mline *v, const struct tsr_sdp_plain_peer *peer,
                       const struct tsr_sip_lobby_ours *ours, struct tsr_sip_lobby_video *out)
{
    memset(out, 0, sizeof *out);
    out->pt = -1;
    if (peer->held || !peer->rtp_port || strcmp(peer->address, "0.0.0.0") == 0 ||
        strcmp(peer->address, "::") == 0)
        return;
    out->pt = v->pt;
    out->h264 = v->codec == TSR_SDP_CODEC_H264;
    g_strlcpy(out->rtpmap, out->h264 ? "H264/90000" : "VP8/90000", sizeof out->rtpmap);
    g_strlcpy(out->proto, "RTP/AVP", sizeof out->proto);
    g_strlcpy(out->address, peer->address, sizeof out->address);
    out->port = peer->rtp_port;
    out->srtp = out->local_keyed = peer->srtp;
    if (peer->srtp)
        keyed(peer, ours->video_key, &out->remote_crypto, &out->local_crypto);
}

int tsr_sip_lobby_sdp_read_answer(const char *answer, size_t len,
                                  const struct tsr_sip_lobby_ours *ours,
                                  struct tsr_sip_lobby_sdp *out, char reason[TSR_SDP_REASON_MAX])
{
    struct tsr_sdp_plain_local local;
    plain_local(ours, &local);
    struct tsr_sdp_negotiation *neg = NULL;
    struct tsr_sdp_plain_peers peers;
    int rc = tsr_sdp_plain_read_answer(answer, len, &local, &neg, &peers, reason);
    if (rc != 0)
        return rc;
    if (neg->audio_index < 0) {
        g_strlcpy(reason, "the answer rejects audio: PIN entry needs it", TSR_SDP_REASON_MAX);
        tsr_sdp_negotiation_free(&neg);
        return TSR_ERR_UNSUPPORTED;
    }
    memset(out, 0, sizeof *out);
    fill_audio(&neg->mlines[neg->audio_index], &peers.audio, ours, out);
    out->video.pt = -1;
    if (neg->video_index >= 0)
        fill_video(&neg->mlines[neg->video_index], &peers.video, ours, &out->video);
    tsr_sdp_negotiation_free(&neg);
    memset(&peers, 0, sizeof peers); /* the caller's keys */
    return 0;
}
