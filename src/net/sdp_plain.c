/* Plain RTP offer/answer for SIP endpoints (see tessera/sdp_plain.h). Pure. */
#include <tessera/sdp_plain.h>
#include <tessera/err.h>
#include <tessera/sdp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H264_FMTP "packetization-mode=1;profile-level-id=42e01f"

struct plain_ctx {
    const struct tsr_sdp *offer; /* what is read: the caller's offer, or its answer */
    bool answer;                 /* reading an answer to tsr_sdp_plain_offer */
    const struct tsr_sdp_plain_local *local;
    struct tsr_sdp_negotiation *neg;
    struct tsr_sdp_plain_peers *peers;
    char *reason;
};

static int fail(struct plain_ctx *c, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct plain_ctx *c, int rc, const char *fmt, ...)
{
    if (c->reason) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->reason, TSR_SDP_REASON_MAX, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static bool plain_proto(const char *proto)
{
    return strcmp(proto, "RTP/AVP") == 0 || strcmp(proto, "RTP/AVPF") == 0 ||
           strcmp(proto, "RTP/SAVP") == 0 || strcmp(proto, "RTP/SAVPF") == 0 ||
           tsr_sdp_dtls_proto(proto);
}

/* Whether our offer carries keys: SDES asked for and both keys at hand. */
enum tsr_sdp_offer_srtp tsr_sdp_offer_srtp_from_name(const char *name)
{
    if (g_strcmp0(name, "mandatory") == 0)
        return TSR_SDP_OFFER_SRTP_MANDATORY;
    return g_strcmp0(name, "optional") == 0 ? TSR_SDP_OFFER_SRTP_OPTIONAL : TSR_SDP_OFFER_SRTP_NONE;
}

static bool offers_srtp(const struct tsr_sdp_plain_local *l)
{
    return l->offer_srtp != TSR_SDP_OFFER_SRTP_NONE && l->audio_key && l->video_key;
}

static bool sdes_proto(const char *proto)
{
    return strncmp(proto, "RTP/SAVP", 8) == 0;
}

/* An answer's crypto line must pick one of ours (RFC 4568 §5.1.2: our tag with
 * its suite) and carry the answerer's own key, not ours echoed. */
static bool answer_crypto_ok(const struct plain_ctx *c, const struct tsr_sdp_media *m,
                             const struct tsr_sdp_crypto *got)
{
    const uint8_t *ours = strcmp(m->kind, "audio") == 0 ? c->local->audio_key : c->local->video_key;
    bool tag_ok = (got->tag == 1 && got->suite == TSR_SRTP_PROFILE_AES128_CM_SHA1_80) ||
                  (got->tag == 2 && got->suite == TSR_SRTP_PROFILE_AES128_CM_SHA1_32);
    return tag_ok && ours && memcmp(got->key_salt, ours, sizeof got->key_salt) != 0;
}

/* The first a=crypto line of m we can use (RFC 4568 §6.3: the offerer lists them
 * in its preference order; unusable ones are skipped). */
static int pick_crypto(struct plain_ctx *c, const struct tsr_sdp_media *m,
                       struct tsr_sdp_plain_peer *peer)
{
    const char *why = "there is no a=crypto line";
    for (size_t i = 0; i < m->n_attrs; i++) {
        if (strcmp(m->attrs[i].name, "crypto") != 0)
            continue;
        if (tsr_sdp_crypto_parse(m->attrs[i].value, &peer->crypto, &why) == 0) {
            if (c->answer && !answer_crypto_ok(c, m, &peer->crypto))
                return fail(c, TSR_ERR_UNSUPPORTED,
                            "the answer's %s a=crypto is not one we offered (tag 1 "
                            "AES_CM_128_HMAC_SHA1_80 or tag 2 _32, with a key of its own)",
                            m->kind);
            peer->srtp = true;
            return 0;
        }
    }
    return fail(c, TSR_ERR_UNSUPPORTED,
                "the %s section is %s without a usable a=crypto line (%s); Tessera takes "
                "AES_CM_128_HMAC_SHA1_80 or _32 with one inline key",
                m->kind, m->proto, why);
}

/* DTLS-SRTP: the caller's fingerprint and our role; a re-offer must keep the
 * association the call runs on. */
static int pick_dtls(struct plain_ctx *c, const struct tsr_sdp_media *m,
                     struct tsr_sdp_plain_peer *peer, const struct tsr_sdp_plain_peer *running)
{
    const char *why = NULL;
    if (!c->local->fingerprint_sha256)
        return fail(c, TSR_ERR_UNSUPPORTED, "DTLS-SRTP is not available for this call");
    if (tsr_sdp_dtls_read(c->offer, m, &peer->dtls_params, &why) != 0)
        return fail(c, TSR_ERR_UNSUPPORTED, "the %s section is %s but %s", m->kind, m->proto, why);
    peer->dtls = true;
    if (!running || !running->dtls)
        return 0;
    if (running->rtcp_mux != peer->rtcp_mux)
        why = "it turns rtcp-mux on or off";
    else if (tsr_sdp_dtls_keep(&running->dtls_params, &peer->dtls_params, &why) == 0)
        return 0;
    return fail(c, TSR_ERR_UNSUPPORTED,
                "the re-INVITE's %s section cannot keep the call's DTLS-SRTP association: %s; "
                "start a new call",
                m->kind, why);
}

bool tsr_sdp_is_plain_rtp(const char *offer, size_t len)
{
    struct tsr_sdp *sdp = NULL;
    if (tsr_sdp_parse(offer, len, &sdp, NULL) != 0)
        return false;
    bool plain = sdp->n_media > 0;
    for (size_t i = 0; i < sdp->n_media && plain; i++) {
        const struct tsr_sdp_media *m = &sdp->media[i];
        if (m->port == 0 || !strstr(m->proto, "RTP/"))
            continue;
        /* DTLS with ICE is WebRTC. ICE in an RTP/AVP(F) or SDES offer (SIP
         * softphones with ICE on) is answered here as ICE-lite (local->ice_ufrag),
         * else without ICE attributes, and the caller then falls back to the
         * m=/c= address it offered (RFC 8445 §5.1; RFC 8839 §4.2). */
        bool dtls = tsr_sdp_dtls_proto(m->proto);
        plain = plain_proto(m->proto) && !(dtls && tsr_sdp_media_attr(sdp, m, "ice-ufrag")) &&
                (dtls || !tsr_sdp_media_attr(sdp, m, "fingerprint"));
    }
    tsr_sdp_free(&sdp);
    return plain;
}

/* "IN IP4 192.0.2.1" → the address when it is an IP literal of that family. */
static bool parse_connection(const char *c, char *out, size_t size)
{
    char net[8], type[8], addr[64];
    if (!c || sscanf(c, "%7s %7s %63s", net, type, addr) != 3 || strcmp(net, "IN") != 0)
        return false;
    uint8_t buf[16];
    int family = strcmp(type, "IP4") == 0 ? AF_INET : strcmp(type, "IP6") == 0 ? AF_INET6 : -1;
    if (family < 0 || inet_pton(family, addr, buf) != 1)
        return false;
    g_strlcpy(out, addr, size);
    return true;
}

/* H.264 the PIN lobby's picture can use: packetization-mode 1, baseline family. */
bool tsr_sdp_h264_usable(const char *fmtp)
{
    struct tsr_sdp_h264 h;
    return tsr_sdp_h264_read(fmtp, &h) == 0 && h.mode == 1;
}

/* The offer's rtpmap for pt, or RFC 3551's static one for 0 (PCMU), 8 (PCMA) and
 * 9 (G722), which offers may leave out. */
static bool rtpmap_of(const struct tsr_sdp_media *m, int pt, struct tsr_sdp_rtpmap *r)
{
    if (tsr_sdp_media_rtpmap(m, pt, r))
        return true;
    if (pt != 0 && pt != 8 && pt != 9)
        return false;
    memset(r, 0, sizeof *r);
    r->pt = pt;
    snprintf(r->name, sizeof r->name, "%s", pt == 0 ? "PCMU" : pt == 8 ? "PCMA" : "G722");
    r->clock_rate = 8000; /* G.722 too: RFC 3551 keeps its clock at 8000 */
    r->channels = 1;
    return true;
}

/* From the offer: the first format at 8000 Hz, mono, named like one of the
 * `n` codecs in `want` (G722, PCMU, PCMA). */
static int pick_narrow(const struct tsr_sdp_media *m, const enum tsr_sdp_codec *want, size_t n,
                       enum tsr_sdp_codec *codec)
{
    for (size_t k = 0; k < m->n_fmts; k++) {
        struct tsr_sdp_rtpmap r;
        int pt = tsr_sdp_media_fmt_pt(m, k);
        if (pt < 0 || !rtpmap_of(m, pt, &r) || r.clock_rate != 8000 || r.channels > 1)
            continue;
        for (size_t w = 0; w < n; w++) {
            if (g_ascii_strcasecmp(r.name, tsr_sdp_codec_name(want[w])) == 0) {
                *codec = want[w];
                return pt;
            }
        }
    }
    return -1;
}

/* The first payload type of codec `want` in the offer's order, or -1. */
static int pick_pt(const struct tsr_sdp_media *m, enum tsr_sdp_codec want)
{
    for (size_t k = 0; k < m->n_fmts; k++) {
        struct tsr_sdp_rtpmap r;
        int pt = tsr_sdp_media_fmt_pt(m, k);
        if (pt < 0 || !tsr_sdp_media_rtpmap(m, pt, &r))
            continue;
        if (want == TSR_SDP_CODEC_OPUS && g_ascii_strcasecmp(r.name, "opus") == 0 &&
            r.clock_rate == 48000 && r.channels == 2)
            return pt;
        if (want == TSR_SDP_CODEC_VP8 && g_ascii_strcasecmp(r.name, "VP8") == 0 &&
            r.clock_rate == 90000)
            return pt;
    }
    return -1;
}

/* H.264 in the offer's order, packetization-mode 1 before 0 (mode 1 carries
 * large NAL units in FU-A; mode 0 needs slices that each fit a packet). The
 * chosen format's parameters go to *h. -1 when there is none we can use. */
static int pick_h264(const struct tsr_sdp_media *m, struct tsr_sdp_h264 *h)
{
    int found = -1;
    for (size_t k = 0; k < m->n_fmts; k++) {
        struct tsr_sdp_rtpmap r;
        struct tsr_sdp_h264 got;
        int pt = tsr_sdp_media_fmt_pt(m, k);
        if (pt < 0 || !tsr_sdp_media_rtpmap(m, pt, &r) || g_ascii_strcasecmp(r.name, "H264") != 0 ||
            r.clock_rate != 90000 || tsr_sdp_h264_read(tsr_sdp_media_fmtp(m, pt), &got) != 0)
            continue;
        if (found < 0 || (got.mode == 1 && h->mode == 0)) {
            found = pt;
            *h = got;
        }
        if (got.mode == 1)
            break;
    }
    return found;
}

static void read_feedback(const struct tsr_sdp_media *m, struct tsr_sdp_mline *line)
{
    for (size_t i = 0; i < m->n_attrs; i++) {
        struct tsr_sdp_rtcp_fb fb;
        if (strcmp(m->attrs[i].name, "rtcp-fb") != 0 ||
            tsr_sdp_parse_rtcp_fb(m->attrs[i].value, &fb) != 0 ||
            (fb.pt != -1 && fb.pt != line->pt))
            continue;
        if (strcmp(fb.type, "nack") == 0 && !fb.subtype[0])
            line->fb |= TSR_SDP_FB_NACK;
        else if (strcmp(fb.type, "nack") == 0 && strcmp(fb.subtype, "pli") == 0)
            line->fb |= TSR_SDP_FB_PLI;
        else if (strcmp(fb.type, "ccm") == 0 && strcmp(fb.subtype, "fir") == 0)
            line->fb |= TSR_SDP_FB_FIR;
        else if (strcmp(fb.type, "ccm") == 0 && strcmp(fb.subtype, "tmmbr") == 0)
            line->fb |= TSR_SDP_FB_TMMBR;
    }
}

static const char *direction(const struct tsr_sdp *o, const struct tsr_sdp_media *m)
{
    static const char *const dirs[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    for (size_t d = 0; d < G_N_ELEMENTS(dirs); d++)
        if (tsr_sdp_media_attr(o, m, dirs[d]))
            return dirs[d];
    return "sendrecv";
}

/* Where the offerer receives this medium; false for a bad address. */
static bool read_peer(const struct tsr_sdp *o, const struct tsr_sdp_media *m,
                      struct tsr_sdp_plain_peer *peer)
{
    memset(peer, 0, sizeof *peer);
    if (!parse_connection(m->connection ? m->connection : o->connection, peer->address,
                          sizeof peer->address))
        return false;
    peer->rtp_port = m->port;
    peer->rtcp_mux = tsr_sdp_attr_find(m->attrs, m->n_attrs, "rtcp-mux") != NULL;
    const char *rtcp = tsr_sdp_attr_find(m->attrs, m->n_attrs, "rtcp");
    long port = rtcp ? strtol(rtcp, NULL, 10) : 0;
    peer->rtcp_port = peer->rtcp_mux               ? m->port
                      : (port > 0 && port < 65536) ? (uint16_t)port
                      : m->port < 65535            ? (uint16_t)(m->port + 1)
                                                   : m->port;
    return true;
}

/* The payload type our offer gave codec (tsr_sdp_plain_offer). */
static int offered_pt(enum tsr_sdp_codec codec)
{
    switch (codec) {
    case TSR_SDP_CODEC_OPUS:
        return TSR_SDP_PLAIN_OFFER_PT_OPUS;
    case TSR_SDP_CODEC_VP8:
        return TSR_SDP_PLAIN_OFFER_PT_VP8;
    case TSR_SDP_CODEC_H264:
        return TSR_SDP_PLAIN_OFFER_PT_H264;
    case TSR_SDP_CODEC_G722:
        return 9;
    case TSR_SDP_CODEC_PCMU:
        return 0;
    case TSR_SDP_CODEC_PCMA:
        return 8;
    default:
        return -1;
    }
}

static int pick_codec_any(struct plain_ctx *c, const struct tsr_sdp_media *m,
                          struct tsr_sdp_mline *line);

/* The codec of an offer's section; in an answer to our offer, only with the
 * payload type we offered it on (RFC 3264 §6.1: the mapping does not change), so
 * an answer that calls PCMU 96 is not taken for Opus or for PCMU. */
static int pick_codec(struct plain_ctx *c, const struct tsr_sdp_media *m,
                      struct tsr_sdp_mline *line)
{
    int pt = pick_codec_any(c, m, line);
    if (c->answer && pt >= 0 && pt != offered_pt(line->codec))
        return line->pt = -1;
    /* RFC 6184 §8.2.2: the answer keeps the offered packetization mode (our 1). */
    if (c->answer && pt >= 0 && line->h264_read && line->h264.mode != 1) {
        line->h264_read = false;
        return line->pt = -1;
    }
    return pt;
}

static int pick_codec_any(struct plain_ctx *c, const struct tsr_sdp_media *m,
                          struct tsr_sdp_mline *line)
{
    if (line->kind == TSR_SDP_MEDIA_KIND_AUDIO) {
        line->codec = TSR_SDP_CODEC_OPUS;
        line->clock_rate = 48000;
        line->channels = 2;
        if ((line->pt = pick_pt(m, TSR_SDP_CODEC_OPUS)) >= 0)
            return line->pt;
        /* Without Opus: G.722 (wideband) before G.711, wherever the offer lists it. */
        static const enum tsr_sdp_codec wide[] = {TSR_SDP_CODEC_G722},
                                        g711[] = {TSR_SDP_CODEC_PCMU, TSR_SDP_CODEC_PCMA};
        line->clock_rate = 8000;
        line->channels = 1;
        if (c->local->audio_g722 && (line->pt = pick_narrow(m, wide, 1, &line->codec)) >= 0)
            return line->pt;
        if (c->local->audio_g711 && (line->pt = pick_narrow(m, g711, 2, &line->codec)) >= 0)
            return line->pt;
        return line->pt = -1;
    }
    enum tsr_sdp_codec first =
        c->local->video_pref == TSR_SDP_VIDEO_PREF_H264 ? TSR_SDP_CODEC_H264 : TSR_SDP_CODEC_VP8;
    enum tsr_sdp_codec second = first == TSR_SDP_CODEC_VP8 ? TSR_SDP_CODEC_H264 : TSR_SDP_CODEC_VP8;
    line->clock_rate = 90000;
    line->channels = 1;
    line->codec = first;
    line->pt = first == TSR_SDP_CODEC_H264 ? pick_h264(m, &line->h264) : pick_pt(m, first);
    if (line->pt < 0) {
        line->codec = second;
        line->pt = second == TSR_SDP_CODEC_H264 ? pick_h264(m, &line->h264) : pick_pt(m, second);
    }
    line->h264_read = line->pt >= 0 && line->codec == TSR_SDP_CODEC_H264;
    return line->pt;
}

/* RFC 4733 telephone-event from the offer: a dynamic payload type, the one on
 * the audio codec's clock when there are several, else the first (baresip 1.0
 * offers telephone-event/8000 beside Opus). -1 when none. */
static int pick_event(const struct tsr_sdp_media *m, uint32_t clock_rate, uint32_t *event_clock)
{
    int found = -1;
    for (size_t k = 0; k < m->n_fmts; k++) {
        struct tsr_sdp_rtpmap r;
        int pt = tsr_sdp_media_fmt_pt(m, k);
        if (pt < 96 || pt > 127 || !tsr_sdp_media_rtpmap(m, pt, &r) ||
            g_ascii_strcasecmp(r.name, "telephone-event") != 0 || r.clock_rate == 0)
            continue;
        if (found < 0 || r.clock_rate == clock_rate) {
            found = pt;
            *event_clock = r.clock_rate;
        }
        if (r.clock_rate == clock_rate)
            break;
    }
    return found;
}

/* Classifies one m-line; accepts it when it is the first usable one of its kind. */
static int choose_line(struct plain_ctx *c, size_t i)
{
    const struct tsr_sdp_media *m = &c->offer->media[i];
    struct tsr_sdp_mline *line = &c->neg->mlines[i];
    line->pt = line->rtx_pt = line->red_pt = line->event_pt = -1;
    line->kind = strcmp(m->kind, "audio") == 0   ? TSR_SDP_MEDIA_KIND_AUDIO
                 : strcmp(m->kind, "video") == 0 ? TSR_SDP_MEDIA_KIND_VIDEO
                                                 : TSR_SDP_MEDIA_KIND_OTHER;
    int *index = line->kind == TSR_SDP_MEDIA_KIND_AUDIO   ? &c->neg->audio_index
                 : line->kind == TSR_SDP_MEDIA_KIND_VIDEO ? &c->neg->video_index
                                                          : NULL;
    if (!index || *index >= 0 || m->port == 0 || !plain_proto(m->proto))
        return 0;
    if (pick_codec(c, m, line) < 0) {
        line->codec = TSR_SDP_CODEC_NONE;
        return 0;
    }
    if (line->kind == TSR_SDP_MEDIA_KIND_AUDIO)
        line->event_pt = pick_event(m, line->clock_rate, &line->event_clock_rate);
    struct tsr_sdp_plain_peer *peer =
        line->kind == TSR_SDP_MEDIA_KIND_AUDIO ? &c->peers->audio : &c->peers->video;
    if (!read_peer(c->offer, m, peer))
        return fail(c, TSR_ERR_INVALID, "the %s section has no usable c= address", m->kind);
    peer->ice = !c->answer && c->local->ice_ufrag && c->local->ice_pwd &&
                tsr_sdp_media_attr(c->offer, m, "ice-ufrag") &&
                tsr_sdp_media_attr(c->offer, m, "ice-pwd");
    const struct tsr_sdp_plain_peers *run = c->local->running;
    const struct tsr_sdp_plain_peer *running = !run ? NULL
                                               : line->kind == TSR_SDP_MEDIA_KIND_AUDIO
                                                   ? &run->audio
                                                   : &run->video;
    int rc = 0;
    bool has_crypto = tsr_sdp_attr_find(m->attrs, m->n_attrs, "crypto") != NULL;
    const uint8_t *key =
        line->kind == TSR_SDP_MEDIA_KIND_AUDIO ? c->local->audio_key : c->local->video_key;
    if (sdes_proto(m->proto) || (c->answer && offers_srtp(c->local) && has_crypto)) {
        rc = key ? pick_crypto(c, m, peer)
                 : fail(c, TSR_ERR_UNSUPPORTED, "SRTP is not available for this call");
    } else if (tsr_sdp_dtls_proto(m->proto)) {
        rc = pick_dtls(c, m, peer, running);
    } else if (!c->answer && has_crypto && key && pick_crypto(c, m, peer) != 0) {
        /* "Best effort" SRTP (RTP/AVP with a=crypto): keyed when a line is usable,
         * else plain RTP as the profile says, not a refusal. */
        peer->srtp = false;
        if (c->reason)
            c->reason[0] = '\0';
    }
    if (rc == 0 && running && running->address[0] && running->srtp && !peer->srtp)
        rc = fail(c, TSR_ERR_UNSUPPORTED,
                  "the re-INVITE drops SRTP from the %s section; start a new call", m->kind);
    if (rc == 0 && running && running->address[0] && running->dtls != peer->dtls)
        rc = fail(c, TSR_ERR_UNSUPPORTED,
                  "the re-INVITE switches the %s section %s DTLS-SRTP; start a new call", m->kind,
                  peer->dtls ? "to" : "away from");
    if (rc)
        return rc;
    read_feedback(m, line);
    if (line->kind == TSR_SDP_MEDIA_KIND_VIDEO)
        line->remote_max_bps = tsr_sdp_media_max_bps(c->offer, m);
    for (size_t k = 0; k < m->n_attrs; k++) {
        uint32_t ssrc;
        const char *rest;
        if (strcmp(m->attrs[k].name, "ssrc") == 0 &&
            tsr_sdp_parse_ssrc(m->attrs[k].value, &ssrc, &rest) == 0) {
            line->remote_ssrc = ssrc;
            break;
        }
    }
    const char *dir = direction(c->offer, m);
    line->remote_sends = strcmp(dir, "sendrecv") == 0 || strcmp(dir, "sendonly") == 0;
    peer->sends = line->remote_sends;
    /* RFC 3264 §8.4 hold, and the older RFC 2543 one (a zero connection address). */
    peer->held = strcmp(dir, "sendonly") == 0 || strcmp(dir, "inactive") == 0 ||
                 strcmp(peer->address, "0.0.0.0") == 0 || strcmp(peer->address, "::") == 0;
    line->accepted = true;
    *index = (int)i;
    return 0;
}

/* ICE-lite (RFC 8839): our credentials and one host candidate per component, on
 * the ports the section is answered on (the c= address; RTCP on port + 1). */
static void answer_ice(const struct tsr_sdp_plain_local *l, struct tsr_sdp *ans,
                       struct tsr_sdp_media *m, uint16_t port, bool rtcp)
{
    tsr_sdp_add_attr(ans, m, "ice-ufrag", l->ice_ufrag);
    tsr_sdp_add_attr(ans, m, "ice-pwd", l->ice_pwd);
    tsr_sdp_add_attrf(ans, m, "candidate", "1 1 UDP 2130706431 %s %u typ host", l->address, port);
    if (rtcp)
        tsr_sdp_add_attrf(ans, m, "candidate", "1 2 UDP 2130706430 %s %u typ host", l->address,
                          port + 1u);
    tsr_sdp_add_attr(ans, m, "end-of-candidates", NULL);
}

static void answer_line(struct plain_ctx *c, struct tsr_sdp *ans, size_t i)
{
    const struct tsr_sdp_media *om = &c->offer->media[i];
    const struct tsr_sdp_mline *line = &c->neg->mlines[i];
    const struct tsr_sdp_plain_local *l = c->local;
    struct tsr_sdp_media *m;
    char pt[8], ev[8];
    snprintf(pt, sizeof pt, "%d", line->pt);
    snprintf(ev, sizeof ev, "%d", line->event_pt);
    const char *fmts[] = {line->accepted ? pt : om->fmts[0], ev};
    bool audio = line->kind == TSR_SDP_MEDIA_KIND_AUDIO;
    bool event = line->accepted && audio && line->event_pt >= 0;
    uint16_t port = !line->accepted ? 0 : audio ? l->audio_port : l->video_port;
    tsr_sdp_add_media(ans, om->kind, port, om->proto, fmts, om->n_fmts ? 1 + event : 0, &m);
    if (!line->accepted)
        return;
    if (audio && line->codec != TSR_SDP_CODEC_OPUS) {
        tsr_sdp_add_attrf(ans, m, "rtpmap", "%d %s/8000", line->pt,
                          tsr_sdp_codec_name(line->codec));
        tsr_sdp_add_attr(ans, m, "ptime", "20");
    } else if (audio) {
        tsr_sdp_add_attrf(ans, m, "rtpmap", "%d opus/48000/2", line->pt);
        tsr_sdp_add_attrf(ans, m, "fmtp", "%d useinbandfec=1", line->pt);
        tsr_sdp_add_attr(ans, m, "ptime", "20");
    } else {
        tsr_sdp_add_attrf(ans, m, "rtpmap", "%d %s/90000", line->pt,
                          tsr_sdp_codec_name(line->codec));
        if (line->codec == TSR_SDP_CODEC_H264) {
            char fmtp[96];
            tsr_sdp_h264_answer_fmtp(&line->h264, fmtp, sizeof fmtp);
            tsr_sdp_add_attrf(ans, m, "fmtp", "%d %s", line->pt, fmtp);
        }
        if (line->fb & TSR_SDP_FB_NACK)
            tsr_sdp_add_attrf(ans, m, "rtcp-fb", "%d nack", line->pt);
        if (line->fb & TSR_SDP_FB_PLI)
            tsr_sdp_add_attrf(ans, m, "rtcp-fb", "%d nack pli", line->pt);
        if (line->fb & TSR_SDP_FB_FIR)
            tsr_sdp_add_attrf(ans, m, "rtcp-fb", "%d ccm fir", line->pt);
        if (line->fb & TSR_SDP_FB_TMMBR)
            tsr_sdp_add_attrf(ans, m, "rtcp-fb", "%d ccm tmmbr", line->pt);
        m->bw.as_kbps = (l->video_accept_bps + 999) / 1000;
        m->bw.tias_bps = l->video_accept_bps;
    }
    /* Gateways that carry keys as RFC 4733 events keep them; we only count them. */
    if (event) {
        tsr_sdp_add_attrf(ans, m, "rtpmap", "%d telephone-event/%u", line->event_pt,
                          line->event_clock_rate);
        tsr_sdp_add_attrf(ans, m, "fmtp", "%d 0-15", line->event_pt);
    }
    const struct tsr_sdp_plain_peer *peer = audio ? &c->peers->audio : &c->peers->video;
    if (peer->rtcp_mux)
        tsr_sdp_add_attr(ans, m, "rtcp-mux", NULL);
    else
        tsr_sdp_add_attrf(ans, m, "rtcp", "%u", port + 1u);
    const char *dir = direction(c->offer, om);
    tsr_sdp_add_attr(ans, m,
                     strcmp(dir, "sendonly") == 0   ? "recvonly"
                     : strcmp(dir, "recvonly") == 0 ? "sendonly"
                                                    : dir,
                     NULL);
    tsr_sdp_add_attrf(ans, m, "ssrc", "%u cname:%s", audio ? l->audio_ssrc : l->video_ssrc,
                      l->cname);
    if (peer->ice)
        answer_ice(l, ans, m, port, !peer->rtcp_mux);
    if (peer->srtp) {
        /* Our own key, under the tag and suite of the line we took (§5.1.2). */
        struct tsr_sdp_crypto ours = peer->crypto;
        memcpy(ours.key_salt, audio ? l->audio_key : l->video_key, sizeof ours.key_salt);
        char value[TSR_SDES_LINE_MAX];
        if (tsr_sdp_crypto_format(&ours, value, sizeof value) == 0)
            tsr_sdp_add_attr(ans, m, "crypto", value);
        memset(&ours, 0, sizeof ours);
        memset(value, 0, sizeof value);
    }
    if (peer->dtls) {
        /* RFC 5763 §5: our certificate and role; a=connection echoes the offer's. */
        tsr_sdp_add_attr(ans, m, "setup", tsr_sdp_dtls_setup_answer(peer->dtls_params.local_role));
        tsr_sdp_add_attrf(ans, m, "fingerprint", "sha-256 %s", l->fingerprint_sha256);
        if (peer->dtls_params.connection_new || peer->dtls_params.connection_existing)
            tsr_sdp_add_attr(ans, m, "connection",
                             peer->dtls_params.connection_new ? "new" : "existing");
    }
}

/* A description with our o= and session-level c= lines. */
static int new_description(const struct tsr_sdp_plain_local *l, struct tsr_sdp **out)
{
    const char *ip = strchr(l->address, ':') ? "IP6" : "IP4";
    char origin[128], conn[96];
    snprintf(origin, sizeof origin, "tessera %" G_GUINT64_FORMAT " %u IN %s %s",
             l->session_id ? l->session_id : 1, l->session_version ? l->session_version : 1, ip,
             l->address);
    snprintf(conn, sizeof conn, "IN %s %s", ip, l->address);
    int rc = tsr_sdp_new(out, origin, "Tessera");
    if (rc == 0)
        (*out)->connection = g_strdup(conn);
    return rc;
}

static int build_answer(struct plain_ctx *c)
{
    struct tsr_sdp *ans = NULL;
    int rc = new_description(c->local, &ans);
    if (rc)
        return rc;
    if (c->peers->audio.ice || c->peers->video.ice)
        tsr_sdp_add_attr(ans, NULL, "ice-lite", NULL); /* we answer checks, never send them */
    for (size_t i = 0; i < c->offer->n_media; i++)
        answer_line(c, ans, i);
    rc = tsr_sdp_write(ans, &c->neg->answer);
    tsr_sdp_free(&ans);
    return rc;
}

int tsr_sdp_plain_negotiate(const char *offer, size_t len, const struct tsr_sdp_plain_local *local,
                            struct tsr_sdp_negotiation **neg, struct tsr_sdp_plain_peers *peers,
                            char reason[TSR_SDP_REASON_MAX])
{
    if (!local || !local->address || !local->cname || !*local->cname || !local->audio_ssrc ||
        !local->video_ssrc)
        return -EINVAL;
    struct tsr_sdp_plain_peers found;
    memset(&found, 0, sizeof found);
    struct plain_ctx c = {.local = local, .peers = &found, .reason = reason};
    const char *why = "malformed SDP";
    struct tsr_sdp *parsed = NULL;
    int rc = tsr_sdp_parse(offer, len, &parsed, &why);
    if (rc)
        return fail(&c, rc == TSR_ERR_FULL ? TSR_ERR_INVALID : rc, "bad SDP offer: %s", why);
    c.offer = parsed;
    c.neg = g_new0(struct tsr_sdp_negotiation, 1);
    c.neg->audio_index = c.neg->video_index = c.neg->slides_index = -1;
    c.neg->n_mlines = parsed->n_media;
    for (size_t i = 0; i < parsed->n_media && rc == 0; i++)
        rc = choose_line(&c, i);
    if (rc == 0 && c.neg->audio_index < 0 && c.neg->video_index < 0)
        rc = fail(&c, TSR_ERR_UNSUPPORTED,
                  "no common codec: Tessera takes %s audio and VP8 or H.264 "
                  "(constrained baseline, packetization-mode 0 or 1) video over RTP/AVP(F), "
                  "RTP/SAVP(F) or "
                  "UDP/TLS/RTP/SAVP(F)",
                  local->audio_g722 && local->audio_g711 ? "Opus, G722, PCMU or PCMA"
                  : local->audio_g711                    ? "Opus, PCMU or PCMA"
                  : local->audio_g722                    ? "Opus or G722"
                                                         : "opus/48000/2");
    if (rc == 0)
        rc = build_answer(&c);
    tsr_sdp_free(&parsed);
    if (rc) {
        tsr_sdp_negotiation_free(&c.neg);
        return rc;
    }
    *neg = c.neg;
    *peers = found;
    return 0;
}

/* --- our offer, the caller's answer (an INVITE without SDP) ------------------- */

static void offer_video_codec(struct tsr_sdp *o, struct tsr_sdp_media *m, enum tsr_sdp_codec codec)
{
    int pt = codec == TSR_SDP_CODEC_H264 ? TSR_SDP_PLAIN_OFFER_PT_H264 : TSR_SDP_PLAIN_OFFER_PT_VP8;
    tsr_sdp_add_attrf(o, m, "rtpmap", "%d %s/90000", pt, tsr_sdp_codec_name(codec));
    if (codec == TSR_SDP_CODEC_H264)
        tsr_sdp_add_attrf(o, m, "fmtp", "%d %s", pt, H264_FMTP);
    tsr_sdp_add_attrf(o, m, "rtcp-fb", "%d nack", pt);
    tsr_sdp_add_attrf(o, m, "rtcp-fb", "%d nack pli", pt);
    tsr_sdp_add_attrf(o, m, "rtcp-fb", "%d ccm fir", pt);
}

static const char *offer_proto(const struct tsr_sdp_plain_local *l)
{
    return offers_srtp(l) && l->offer_srtp == TSR_SDP_OFFER_SRTP_MANDATORY ? "RTP/SAVP" : "RTP/AVP";
}

/* a=crypto lines for one medium: both suites with its key, _80 first. */
static void offer_crypto(const struct tsr_sdp_plain_local *l, struct tsr_sdp *o,
                         struct tsr_sdp_media *m, const uint8_t *key)
{
    if (!offers_srtp(l))
        return;
    const enum tsr_srtp_profile suites[] = {TSR_SRTP_PROFILE_AES128_CM_SHA1_80,
                                            TSR_SRTP_PROFILE_AES128_CM_SHA1_32};
    for (size_t i = 0; i < G_N_ELEMENTS(suites); i++) {
        struct tsr_sdp_crypto c = {.tag = (uint32_t)i + 1, .suite = suites[i]};
        memcpy(c.key_salt, key, sizeof c.key_salt);
        char value[128];
        if (tsr_sdp_crypto_format(&c, value, sizeof value) == 0)
            tsr_sdp_add_attr(o, m, "crypto", value);
        memset(&c, 0, sizeof c);
        memset(value, 0, sizeof value);
    }
}

static void offer_tail(struct tsr_sdp *o, struct tsr_sdp_media *m, uint16_t port, uint32_t ssrc,
                       const char *cname)
{
    tsr_sdp_add_attrf(o, m, "rtcp", "%u", port + 1u);
    tsr_sdp_add_attr(o, m, "sendrecv", NULL);
    tsr_sdp_add_attrf(o, m, "ssrc", "%u cname:%s", ssrc, cname);
}

int tsr_sdp_plain_offer(const struct tsr_sdp_plain_local *l, char **offer)
{
    if (!l || !l->address || !l->cname || !*l->cname || !l->audio_ssrc || !l->video_ssrc ||
        !l->audio_port || !l->video_port)
        return -EINVAL;
    struct tsr_sdp *o = NULL;
    int rc = new_description(l, &o);
    if (rc)
        return rc;
    char opus[8], dtmf[8], vp8[8], h264[8];
    snprintf(opus, sizeof opus, "%d", TSR_SDP_PLAIN_OFFER_PT_OPUS);
    snprintf(dtmf, sizeof dtmf, "%d", TSR_SDP_PLAIN_OFFER_PT_DTMF);
    snprintf(vp8, sizeof vp8, "%d", TSR_SDP_PLAIN_OFFER_PT_VP8);
    snprintf(h264, sizeof h264, "%d", TSR_SDP_PLAIN_OFFER_PT_H264);
    /* Opus, then G.722 (wideband), then G.711, as far as local allows. */
    const char *afmts[5] = {opus};
    size_t n_afmts = 1;
    if (l->audio_g722)
        afmts[n_afmts++] = "9";
    if (l->audio_g711) {
        afmts[n_afmts++] = "0";
        afmts[n_afmts++] = "8";
    }
    afmts[n_afmts++] = dtmf;
    struct tsr_sdp_media *m = NULL;
    tsr_sdp_add_media(o, "audio", l->audio_port, offer_proto(l), afmts, n_afmts, &m);
    tsr_sdp_add_attrf(o, m, "rtpmap", "%s opus/48000/2", opus);
    tsr_sdp_add_attrf(o, m, "fmtp", "%s useinbandfec=1", opus);
    if (l->audio_g722)
        tsr_sdp_add_attr(o, m, "rtpmap", "9 G722/8000");
    if (l->audio_g711) {
        tsr_sdp_add_attr(o, m, "rtpmap", "0 PCMU/8000");
        tsr_sdp_add_attr(o, m, "rtpmap", "8 PCMA/8000");
    }
    tsr_sdp_add_attrf(o, m, "rtpmap", "%s telephone-event/8000", dtmf);
    tsr_sdp_add_attrf(o, m, "fmtp", "%s 0-15", dtmf);
    tsr_sdp_add_attr(o, m, "ptime", "20");
    offer_crypto(l, o, m, l->audio_key);
    offer_tail(o, m, l->audio_port, l->audio_ssrc, l->cname);
    bool h264_first = l->video_pref == TSR_SDP_VIDEO_PREF_H264;
    const char *vfmts[] = {h264_first ? h264 : vp8, h264_first ? vp8 : h264};
    tsr_sdp_add_media(o, "video", l->video_port, offer_proto(l), vfmts, 2, &m);
    offer_video_codec(o, m, h264_first ? TSR_SDP_CODEC_H264 : TSR_SDP_CODEC_VP8);
    offer_video_codec(o, m, h264_first ? TSR_SDP_CODEC_VP8 : TSR_SDP_CODEC_H264);
    offer_crypto(l, o, m, l->video_key);
    offer_tail(o, m, l->video_port, l->video_ssrc, l->cname);
    rc = tsr_sdp_write(o, offer);
    tsr_sdp_free(&o);
    return rc;
}

/* The answer keeps our sections: audio then video, in the profile we offered
 * where not rejected (RTP/SAVP also answers an optional-SRTP offer). */
static int answer_shape(struct plain_ctx *c)
{
    const char *ours = offer_proto(c->local);
    const struct tsr_sdp *a = c->offer;
    static const char *const kinds[] = {"audio", "video"};
    if (a->n_media != G_N_ELEMENTS(kinds))
        return fail(c, TSR_ERR_INVALID,
                    "the answer has %zu media sections; our offer had audio and video", a->n_media);
    for (size_t i = 0; i < a->n_media; i++) {
        const struct tsr_sdp_media *m = &a->media[i];
        if (strcmp(m->kind, kinds[i]) != 0)
            return fail(c, TSR_ERR_INVALID, "the answer's section %zu is %s; our offer's is %s",
                        i + 1, m->kind, kinds[i]);
        bool savp_ok = offers_srtp(c->local) && strcmp(m->proto, "RTP/SAVP") == 0;
        if (m->port != 0 && strcmp(m->proto, ours) != 0 && !savp_ok)
            return fail(c, TSR_ERR_INVALID, "the answer's %s section is %s; we offered %s", m->kind,
                        m->proto, ours);
    }
    return 0;
}

int tsr_sdp_plain_read_answer(const char *answer, size_t len,
                              const struct tsr_sdp_plain_local *local,
                              struct tsr_sdp_negotiation **neg, struct tsr_sdp_plain_peers *peers,
                              char reason[TSR_SDP_REASON_MAX])
{
    if (!local || !local->address || !local->cname || !*local->cname)
        return -EINVAL;
    struct tsr_sdp_plain_peers found;
    memset(&found, 0, sizeof found);
    struct tsr_sdp_plain_local ours = *local;
    if (!offers_srtp(local))
        ours.audio_key = ours.video_key = NULL; /* nothing keyed was offered */
    ours.fingerprint_sha256 = NULL;
    ours.running = NULL;
    struct plain_ctx c = {.local = &ours, .peers = &found, .reason = reason, .answer = true};
    const char *why = "malformed SDP";
    struct tsr_sdp *parsed = NULL;
    int rc = tsr_sdp_parse(answer, len, &parsed, &why);
    if (rc)
        return fail(&c, rc == TSR_ERR_FULL ? TSR_ERR_INVALID : rc, "bad SDP answer: %s", why);
    c.offer = parsed;
    c.neg = g_new0(struct tsr_sdp_negotiation, 1);
    c.neg->audio_index = c.neg->video_index = c.neg->slides_index = -1;
    c.neg->n_mlines = parsed->n_media;
    rc = answer_shape(&c);
    for (size_t i = 0; i < parsed->n_media && rc == 0; i++)
        rc = choose_line(&c, i);
    if (rc == 0 && c.neg->audio_index < 0 && c.neg->video_index < 0)
        rc = fail(&c, TSR_ERR_UNSUPPORTED,
                  "the answer picks none of the codecs we offered (%s; VP8, H.264 "
                  "packetization-mode 1)",
                  local->audio_g722 && local->audio_g711 ? "Opus, G.722, PCMU, PCMA"
                  : local->audio_g711                    ? "Opus, PCMU, PCMA"
                                                         : "Opus");
    tsr_sdp_free(&parsed);
    if (rc) {
        tsr_sdp_negotiation_free(&c.neg);
        return rc;
    }
    *neg = c.neg;
    *peers = found;
    return 0;
}
