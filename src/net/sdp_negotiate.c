/* Offer → answer for WebRTC offers. Pure; see include/net/tessera/sdp_negotiate.h.
 *
 * Policy, in one place: one BUNDLE transport (ICE and DTLS parameters from the
 * first accepted line, the session level, or the offerer-tagged section),
 * rtcp-mux required, the first audio line with Opus gets it, the first video
 * line with VP8 or H.264 constrained baseline gets it, the first video line
 * marked a=content:slides becomes the presentation line (receive only),
 * everything else is rejected with port 0 in its original position. RTX is not negotiated: the
 * browser then retransmits NACKed packets on the original SSRC, which the RTP
 * layer already understands. */
#include <tessera/sdp_negotiate.h>

#include <tessera/err.h>

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define URI_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define URI_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define RTP_PROTO "UDP/TLS/RTP/SAVPF"
#define H264_FMTP "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"

struct neg_ctx {
    const struct tsr_sdp *offer;
    const struct tsr_sdp_local *local;
    struct tsr_sdp_negotiation *neg;
    const char *bundle; /* a=group:BUNDLE value, NULL when absent */
    char *reason;       /* TSR_SDP_REASON_MAX bytes or NULL */
};

static int fail(struct neg_ctx *c, int rc, const char *fmt, const char *arg)
{
    if (c->reason)
        snprintf(c->reason, TSR_SDP_REASON_MAX, fmt, arg ? arg : "");
    return rc;
}

const char *tsr_sdp_codec_name(enum tsr_sdp_codec codec)
{
    switch (codec) {
    case TSR_SDP_CODEC_OPUS:
        return "opus";
    case TSR_SDP_CODEC_VP8:
        return "VP8";
    case TSR_SDP_CODEC_H264:
        return "H264";
    case TSR_SDP_CODEC_PCMU:
        return "PCMU";
    case TSR_SDP_CODEC_PCMA:
        return "PCMA";
    case TSR_SDP_CODEC_G722:
        return "G722";
    case TSR_SDP_CODEC_NONE:
        break;
    }
    return "none";
}

int tsr_sdp_video_pref_parse(const char *name, enum tsr_sdp_video_pref *out)
{
    if (!name || !out)
        return TSR_ERR_INVALID;
    if (g_ascii_strcasecmp(name, "vp8") == 0)
        *out = TSR_SDP_VIDEO_PREF_VP8;
    else if (g_ascii_strcasecmp(name, "h264") == 0)
        *out = TSR_SDP_VIDEO_PREF_H264;
    else
        return TSR_ERR_INVALID;
    return 0;
}

void tsr_sdp_negotiation_free(struct tsr_sdp_negotiation **neg)
{
    if (!neg || !*neg)
        return;
    g_strfreev((*neg)->remote_candidates);
    g_free((*neg)->answer);
    g_free(*neg);
    *neg = NULL;
}

static bool mid_in_bundle(const char *bundle, const char *mid)
{
    if (!bundle || !*mid)
        return false;
    gchar **parts = g_strsplit_set(bundle, " \t", -1);
    bool found = false;
    for (size_t i = 1; parts[i] && !found; i++) /* parts[0] is "BUNDLE" */
        found = strcmp(parts[i], mid) == 0;
    g_strfreev(parts);
    return found;
}

static const char *bundle_group(const struct tsr_sdp *offer)
{
    for (size_t i = 0; i < offer->n_attrs; i++) {
        const char *v = offer->attrs[i].value;
        if (strcmp(offer->attrs[i].name, "group") == 0 && v && g_str_has_prefix(v, "BUNDLE") &&
            (v[6] == ' ' || v[6] == '\0'))
            return v;
    }
    return NULL;
}

/* An RTP section we may accept: a live port, or port 0 with a=bundle-only (RFC
 * 8843 §6: the offerer wants it only inside the BUNDLE group, as webrtcbin and
 * JSEP's max-bundle policy offer every section after the first). Port 0 without
 * bundle-only is a section the offerer disabled. */
static bool is_offered_rtp_line(const struct tsr_sdp_media *m)
{
    if (strcmp(m->proto, RTP_PROTO) != 0)
        return false;
    return m->port != 0 || tsr_sdp_attr_find(m->attrs, m->n_attrs, "bundle-only") != NULL;
}

/* RFC 6184 profile-level-id: baseline (42xxxx) or any constrained-baseline
 * spelling (4D with constraint_set0, 58 with set0+set1). Missing means 42000A.
 * *cb says whether it is constrained baseline exactly. */
static bool h264_profile_ok(const char *fmtp, bool *cb)
{
    char plid[16];
    unsigned long v;
    char *end;
    if (tsr_sdp_fmtp_get(fmtp, "profile-level-id", plid, sizeof(plid)) != 0) {
        *cb = false;
        return true;
    }
    v = strtoul(plid, &end, 16);
    if (strlen(plid) != 6 || *end)
        return false;
    unsigned idc = (unsigned)(v >> 16), iop = (unsigned)(v >> 8) & 0xff;
    *cb = (idc == 0x42 && (iop & 0x40)) || (idc == 0x4d && (iop & 0x80)) ||
          (idc == 0x58 && (iop & 0xc0) == 0xc0);
    return idc == 0x42 || *cb;
}

static bool h264_mode1(const char *fmtp)
{
    char mode[8];
    return tsr_sdp_fmtp_get(fmtp, "packetization-mode", mode, sizeof(mode)) == 0 &&
           strcmp(mode, "1") == 0;
}

/* Finds the best payload type of `want` in offer order; H.264 prefers exact
 * constrained baseline over plain baseline. Returns the pt or -1. */
static int pick_video_pt(const struct tsr_sdp_media *m, enum tsr_sdp_codec want)
{
    int baseline_pt = -1;
    for (size_t k = 0; k < m->n_fmts; k++) {
        struct tsr_sdp_rtpmap r;
        int pt = tsr_sdp_media_fmt_pt(m, k);
        if (pt < 0 || !tsr_sdp_media_rtpmap(m, pt, &r) || r.clock_rate != 90000)
            continue;
        if (want == TSR_SDP_CODEC_VP8 && g_ascii_strcasecmp(r.name, "VP8") == 0)
            return pt;
        if (want != TSR_SDP_CODEC_H264 || g_ascii_strcasecmp(r.name, "H264") != 0)
            continue;
        const char *fmtp = tsr_sdp_media_fmtp(m, pt);
        bool cb;
        if (!h264_mode1(fmtp) || !h264_profile_ok(fmtp, &cb))
            continue;
        if (cb)
            return pt;
        if (baseline_pt < 0)
            baseline_pt = pt;
    }
    return baseline_pt;
}

static int pick_opus_pt(const struct tsr_sdp_media *m)
{
    for (size_t k = 0; k < m->n_fmts; k++) {
        struct tsr_sdp_rtpmap r;
        int pt = tsr_sdp_media_fmt_pt(m, k);
        if (pt >= 0 && tsr_sdp_media_rtpmap(m, pt, &r) && g_ascii_strcasecmp(r.name, "opus") == 0 &&
            r.clock_rate == 48000 && r.channels == 2)
            return pt;
    }
    return -1;
}

/* RED around Opus: red/48000/2 whose fmtp lists only `opus_pt` ("111/111", one
 * entry per block; RFC 2198 §5), so every block is Opus. Returns the pt or -1. */
static int pick_red_pt(const struct tsr_sdp_media *m, int opus_pt)
{
    for (size_t k = 0; k < m->n_fmts; k++) {
        struct tsr_sdp_rtpmap r;
        int pt = tsr_sdp_media_fmt_pt(m, k);
        if (pt < 0 || !tsr_sdp_media_rtpmap(m, pt, &r) || g_ascii_strcasecmp(r.name, "red") != 0 ||
            r.clock_rate != 48000 || r.channels != 2)
            continue;
        const char *fmtp = tsr_sdp_media_fmtp(m, pt);
        if (!fmtp || !*fmtp)
            continue;
        gchar **parts = g_strsplit(fmtp, "/", 0);
        bool all_opus = parts[0] != NULL;
        for (size_t i = 0; parts[i] && all_opus; i++) {
            char *end = NULL;
            long v = strtol(parts[i], &end, 10);
            all_opus = end != parts[i] && *end == '\0' && v == opus_pt;
        }
        g_strfreev(parts);
        if (all_opus)
            return pt;
    }
    return -1;
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
        else if (strcmp(fb.type, "goog-remb") == 0)
            line->fb |= TSR_SDP_FB_REMB;
        else if (strcmp(fb.type, "transport-cc") == 0)
            line->fb |= TSR_SDP_FB_TRANSPORT_CC;
    }
}

static void read_extensions(const struct tsr_sdp_media *m, struct tsr_sdp_mline *line)
{
    for (size_t i = 0; i < m->n_attrs; i++) {
        struct tsr_sdp_extmap e;
        if (strcmp(m->attrs[i].name, "extmap") != 0 ||
            tsr_sdp_parse_extmap(m->attrs[i].value, &e) != 0 || e.id > 14)
            continue; /* ids 15..255 need two-byte headers; we send one-byte ones */
        if (line->kind == TSR_SDP_MEDIA_KIND_AUDIO && strcmp(e.uri, URI_AUDIO_LEVEL) == 0)
            line->ext_audio_level_id = e.id;
        else if (strcmp(e.uri, URI_MID) == 0)
            line->ext_mid_id = e.id;
    }
}

/* The offerer's SSRC: the FID primary when grouped, else the first a=ssrc. */
static void read_remote_ssrc(const struct tsr_sdp_media *m, struct tsr_sdp_mline *line)
{
    for (size_t i = 0; i < m->n_attrs; i++) {
        uint32_t a, b;
        const char *rest;
        if (strcmp(m->attrs[i].name, "ssrc-group") == 0 &&
            tsr_sdp_parse_ssrc_group_fid(m->attrs[i].value, &a, &b) == 0) {
            line->remote_ssrc = a;
            line->remote_rtx_ssrc = b;
            return;
        }
        if (!line->remote_ssrc && strcmp(m->attrs[i].name, "ssrc") == 0 &&
            tsr_sdp_parse_ssrc(m->attrs[i].value, &a, &rest) == 0)
            line->remote_ssrc = a;
    }
}

static const char *offer_direction(const struct tsr_sdp *o, const struct tsr_sdp_media *m)
{
    static const char *const dirs[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    for (size_t d = 0; d < G_N_ELEMENTS(dirs); d++)
        if (tsr_sdp_media_attr(o, m, dirs[d]))
            return dirs[d];
    return "sendrecv";
}

/* Decides codec and parameters of one audio/video line; false = reject it. */
static bool accept_media_line(struct neg_ctx *c, const struct tsr_sdp_media *m,
                              struct tsr_sdp_mline *line)
{
    enum tsr_sdp_video_pref pref = c->local->video_pref;
    if (line->kind == TSR_SDP_MEDIA_KIND_AUDIO) {
        line->pt = pick_opus_pt(m);
        line->codec = TSR_SDP_CODEC_OPUS;
        if (line->pt >= 0 && c->local->audio_red)
            line->red_pt = pick_red_pt(m, line->pt);
        line->clock_rate = 48000;
        line->channels = 2;
    } else {
        enum tsr_sdp_codec first =
            pref == TSR_SDP_VIDEO_PREF_H264 ? TSR_SDP_CODEC_H264 : TSR_SDP_CODEC_VP8;
        enum tsr_sdp_codec second =
            first == TSR_SDP_CODEC_VP8 ? TSR_SDP_CODEC_H264 : TSR_SDP_CODEC_VP8;
        line->codec = first;
        line->pt = pick_video_pt(m, first);
        if (line->pt < 0) {
            line->codec = second;
            line->pt = pick_video_pt(m, second);
        }
        line->clock_rate = 90000;
        line->channels = 1;
    }
    if (line->pt < 0) {
        line->codec = TSR_SDP_CODEC_NONE;
        return false;
    }
    read_feedback(m, line);
    /* b=TIAS / b=AS on video: the most the browser takes (the mixer's tiers heed it). */
    if (line->kind == TSR_SDP_MEDIA_KIND_VIDEO)
        line->remote_max_bps = tsr_sdp_media_max_bps(c->offer, m);
    read_extensions(m, line);
    read_remote_ssrc(m, line);
    const char *dir = offer_direction(c->offer, m);
    line->remote_sends = strcmp(dir, "sendrecv") == 0 || strcmp(dir, "sendonly") == 0;
    return true;
}

/* Classifies every m-line and picks what to accept. A line whose codecs we lack
 * is rejected on its own (JSEP §5.3.1) and the next line of its kind may take
 * its place; the offer fails only when no audio or video line is left. */
static int choose_lines(struct neg_ctx *c)
{
    struct tsr_sdp_negotiation *neg = c->neg;
    const char *no_codec_kind = NULL;
    for (size_t i = 0; i < c->offer->n_media; i++) {
        const struct tsr_sdp_media *m = &c->offer->media[i];
        struct tsr_sdp_mline *line = &neg->mlines[i];
        const char *mid = tsr_sdp_attr_find(m->attrs, m->n_attrs, "mid");
        line->pt = line->rtx_pt = line->red_pt = line->event_pt = -1;
        if (mid && strlen(mid) >= sizeof(line->mid))
            return fail(c, TSR_ERR_INVALID, "a=mid is too long", NULL);
        g_strlcpy(line->mid, mid ? mid : "", sizeof(line->mid));
        line->kind = strcmp(m->kind, "audio") == 0   ? TSR_SDP_MEDIA_KIND_AUDIO
                     : strcmp(m->kind, "video") == 0 ? TSR_SDP_MEDIA_KIND_VIDEO
                                                     : TSR_SDP_MEDIA_KIND_OTHER;
        const char *content = tsr_sdp_attr_find(m->attrs, m->n_attrs, "content");
        line->slides =
            line->kind == TSR_SDP_MEDIA_KIND_VIDEO && content && strcmp(content, "slides") == 0;
        int *slot = line->slides                             ? &neg->slides_index
                    : line->kind == TSR_SDP_MEDIA_KIND_AUDIO ? &neg->audio_index
                    : line->kind == TSR_SDP_MEDIA_KIND_VIDEO ? &neg->video_index
                                                             : NULL;
        if (!slot || *slot >= 0 || !is_offered_rtp_line(m) || !mid_in_bundle(c->bundle, line->mid))
            continue;
        if (!tsr_sdp_attr_find(m->attrs, m->n_attrs, "rtcp-mux"))
            return fail(c, TSR_ERR_UNSUPPORTED, "m-line %s has no a=rtcp-mux", line->mid);
        if (accept_media_line(c, m, line)) {
            line->accepted = true;
            *slot = (int)i;
        } else if (!no_codec_kind && !line->slides) {
            no_codec_kind = line->kind == TSR_SDP_MEDIA_KIND_AUDIO
                                ? "no common audio codec: Tessera needs opus/48000/2"
                                : "no common video codec: Tessera needs VP8 or H264 "
                                  "constrained baseline with packetization-mode=1";
        }
    }
    if (neg->audio_index < 0 && neg->video_index < 0)
        return no_codec_kind
                   ? fail(c, TSR_ERR_UNSUPPORTED, "%s", no_codec_kind)
                   : fail(c, TSR_ERR_UNSUPPORTED,
                          "offer has no bundled UDP/TLS/RTP/SAVPF audio or video m-line%s", NULL);
    return 0;
}

/* The offerer-tagged section: the first mid of the BUNDLE group (RFC 8843 §7.2),
 * or NULL when no section carries that mid. */
static const struct tsr_sdp_media *tagged_section(const struct neg_ctx *c)
{
    const struct tsr_sdp_media *found = NULL;
    gchar **parts = g_strsplit_set(c->bundle, " \t", -1);
    for (size_t i = 0; i < c->offer->n_media && parts[0] && parts[1] && !found; i++) {
        const struct tsr_sdp_media *m = &c->offer->media[i];
        const char *mid = tsr_sdp_attr_find(m->attrs, m->n_attrs, "mid");
        if (mid && strcmp(mid, parts[1]) == 0)
            found = m;
    }
    g_strfreev(parts);
    return found;
}

/* A transport attribute of the bundle: on the accepted line, at session level,
 * else on the offerer-tagged section (where a bundle-only line may leave it). */
static const char *transport_attr(const struct neg_ctx *c, const struct tsr_sdp_media *m,
                                  const char *name)
{
    const char *v = tsr_sdp_media_attr(c->offer, m, name);
    const struct tsr_sdp_media *tagged = v ? NULL : tagged_section(c);
    return v ? v : tagged ? tsr_sdp_attr_find(tagged->attrs, tagged->n_attrs, name) : NULL;
}

static void add_candidates(const struct tsr_sdp_media *m, GPtrArray *cands)
{
    for (size_t i = 0; m && i < m->n_attrs; i++) {
        struct tsr_sdp_candidate cand;
        if (strcmp(m->attrs[i].name, "candidate") != 0)
            continue;
        char *full = g_strconcat("candidate:", m->attrs[i].value ? m->attrs[i].value : "", NULL);
        if (tsr_sdp_parse_candidate(full, &cand) == 0 && cand.component == 1)
            g_ptr_array_add(cands, full);
        else
            g_free(full); /* RTCP components and malformed lines: not ours to use */
    }
}

/* Component-1 candidates of the bundle transport: those of the first accepted
 * line, else (a bundle-only line has none) those of the offerer-tagged section,
 * which may be one we reject (a data channel offered first). */
static void read_candidates(struct neg_ctx *c, const struct tsr_sdp_media *m)
{
    struct tsr_sdp_negotiation *neg = c->neg;
    GPtrArray *cands = g_ptr_array_new();
    add_candidates(m, cands);
    if (cands->len == 0)
        add_candidates(tagged_section(c), cands);
    neg->n_remote_candidates = cands->len;
    g_ptr_array_add(cands, NULL);
    neg->remote_candidates = (char **)g_ptr_array_free(cands, FALSE);
}

/* ICE and DTLS parameters of the bundle transport (the first accepted line). */
static int read_transport(struct neg_ctx *c)
{
    struct tsr_sdp_negotiation *neg = c->neg;
    int first = neg->audio_index;
    if (first < 0 || (neg->video_index >= 0 && neg->video_index < first))
        first = neg->video_index;
    const struct tsr_sdp_media *m = &c->offer->media[first];
    const char *ufrag = transport_attr(c, m, "ice-ufrag");
    const char *pwd = transport_attr(c, m, "ice-pwd");
    const char *fp = transport_attr(c, m, "fingerprint");
    const char *setup = transport_attr(c, m, "setup");

    if (!tsr_sdp_ice_credentials_valid(ufrag, pwd))
        return fail(c, TSR_ERR_INVALID, "offer has no valid a=ice-ufrag/a=ice-pwd%s", NULL);
    if (!fp)
        return fail(c, TSR_ERR_INVALID, "offer has no DTLS fingerprint (a=fingerprint)%s", NULL);
    if (tsr_sdp_parse_fingerprint(fp, &neg->remote_fingerprint) != 0)
        return fail(c, TSR_ERR_INVALID, "malformed a=fingerprint%s", NULL);
    if (strcmp(neg->remote_fingerprint.hash, "sha-256") != 0 || neg->remote_fingerprint.len != 32)
        return fail(c, TSR_ERR_UNSUPPORTED, "fingerprint hash %s is not sha-256",
                    neg->remote_fingerprint.hash);
    if (!setup || strcmp(setup, "actpass") == 0 || strcmp(setup, "active") == 0)
        neg->local_dtls_role = TSR_SDP_DTLS_ROLE_SERVER;
    else if (strcmp(setup, "passive") == 0)
        neg->local_dtls_role = TSR_SDP_DTLS_ROLE_CLIENT;
    else
        return fail(c, TSR_ERR_INVALID, "unsupported a=setup:%s", setup);
    g_strlcpy(neg->remote_ufrag, ufrag, sizeof(neg->remote_ufrag));
    g_strlcpy(neg->remote_pwd, pwd, sizeof(neg->remote_pwd));
    read_candidates(c, m);
    return 0;
}

static int check_local(const struct tsr_sdp_local *l)
{
    if (!l || !tsr_sdp_ice_credentials_valid(l->ice_ufrag, l->ice_pwd) || !l->fingerprint_sha256 ||
        !l->audio_ssrc || !l->video_ssrc || !l->cname || !*l->cname || !l->stream_id ||
        !*l->stream_id || (l->n_candidates && !l->candidates))
        return -EINVAL;
    for (size_t i = 0; i < l->n_candidates; i++)
        if (!l->candidates[i] || !g_str_has_prefix(l->candidates[i], "candidate:") ||
            strpbrk(l->candidates[i], "\r\n"))
            return -EINVAL;
    return 0;
}

/* c=, ICE credentials, fingerprint and DTLS role: in every section, rejected ones
 * included, because strict parsers (webrtcbin: "No fingerprint lines in sdp for
 * media N", a missing a=setup) check each section on its own; the session level
 * carries them too (RFC 8839 §5.4, RFC 8122 §5) for parsers that look there. */
static void add_transport_attrs(struct neg_ctx *c, struct tsr_sdp *ans, struct tsr_sdp_media *m)
{
    const struct tsr_sdp_local *l = c->local;
    tsr_sdp_set_connection(m, "IN IP4 0.0.0.0");
    tsr_sdp_add_attr(ans, m, "ice-ufrag", l->ice_ufrag);
    tsr_sdp_add_attr(ans, m, "ice-pwd", l->ice_pwd);
    tsr_sdp_add_attrf(ans, m, "fingerprint", "sha-256 %s", l->fingerprint_sha256);
    tsr_sdp_add_attr(ans, m, "setup",
                     c->neg->local_dtls_role == TSR_SDP_DTLS_ROLE_SERVER ? "passive" : "active");
}

/* A rejected section (RFC 3264 §6, JSEP §5.3.1): port 0, same media, protocol and
 * first format, its mid, the transport attributes, and for RTP a=rtcp-mux and
 * a=inactive; no codecs, SSRCs or candidates, and not in the BUNDLE group. */
static void answer_rejected(struct neg_ctx *c, const struct tsr_sdp_media *om,
                            const struct tsr_sdp_mline *line, struct tsr_sdp *ans)
{
    struct tsr_sdp_media *m;
    const char *fmts[] = {om->fmts[0]};
    tsr_sdp_add_media(ans, om->kind, 0, om->proto, fmts, 1, &m);
    add_transport_attrs(c, ans, m);
    if (line->mid[0])
        tsr_sdp_add_attr(ans, m, "mid", line->mid);
    if (strstr(om->proto, "RTP/")) {
        tsr_sdp_add_attr(ans, m, "rtcp-mux", NULL);
        tsr_sdp_add_attr(ans, m, "inactive", NULL);
    }
}

/* Answer lines for one accepted audio/video section. */
static void answer_accepted(struct neg_ctx *c, const struct tsr_sdp_media *om,
                            const struct tsr_sdp_mline *line, struct tsr_sdp *ans)
{
    const struct tsr_sdp_local *l = c->local;
    bool audio = line->kind == TSR_SDP_MEDIA_KIND_AUDIO;
    char pt[8], red[8];
    snprintf(pt, sizeof(pt), "%d", line->pt);
    snprintf(red, sizeof(red), "%d", line->red_pt);
    /* RED first: Chromium sends RED only when it precedes the codec it carries. */
    const char *fmts[] = {line->red_pt >= 0 ? red : pt, pt};
    struct tsr_sdp_media *m;
    tsr_sdp_add_media(ans, om->kind, 9, RTP_PROTO, fmts, line->red_pt >= 0 ? 2 : 1, &m);
    add_transport_attrs(c, ans, m);
    tsr_sdp_add_attr(ans, m, "mid", line->mid);
    if (line->ext_audio_level_id)
        tsr_sdp_add_attrf(ans, m, "extmap", "%d %s", line->ext_audio_level_id, URI_AUDIO_LEVEL);
    if (line->ext_mid_id)
        tsr_sdp_add_attrf(ans, m, "extmap", "%d %s", line->ext_mid_id, URI_MID);
    const char *dir = offer_direction(c->offer, om);
    const char *content = tsr_sdp_attr_find(om->attrs, om->n_attrs, "content");
    if (line->slides) /* we receive a presentation there, never send one */
        dir =
            strcmp(dir, "sendonly") == 0 || strcmp(dir, "sendrecv") == 0 ? "recvonly" : "inactive";
    else
        dir = strcmp(dir, "sendonly") == 0   ? "recvonly"
              : strcmp(dir, "recvonly") == 0 ? "sendonly"
                                             : dir;
    tsr_sdp_add_attr(ans, m, dir, NULL);
    /* Pexip's SDK matches lines by content (RFC 4796) and stops syncing a line
     * whose answer names another. */
    if (content)
        tsr_sdp_add_attr(ans, m, "content", content);
    if (!line->slides)
        tsr_sdp_add_attrf(ans, m, "msid", "%s %s-%s", l->stream_id, l->stream_id,
                          audio ? "audio" : "video");
    tsr_sdp_add_attr(ans, m, "rtcp-mux", NULL);
    if (audio) {
        if (line->red_pt >= 0) {
            tsr_sdp_add_attrf(ans, m, "rtpmap", "%d red/48000/2", line->red_pt);
            tsr_sdp_add_attrf(ans, m, "fmtp", "%d %d/%d", line->red_pt, line->pt, line->pt);
        }
        tsr_sdp_add_attrf(ans, m, "rtpmap", "%d opus/48000/2", line->pt);
        tsr_sdp_add_attrf(ans, m, "fmtp", "%d minptime=10;useinbandfec=1%s", line->pt,
                          c->local->ask_dtx ? ";usedtx=1" : "");
    } else {
        tsr_sdp_add_attrf(ans, m, "rtpmap", "%d %s/90000", line->pt,
                          tsr_sdp_codec_name(line->codec));
        if (line->codec == TSR_SDP_CODEC_H264)
            tsr_sdp_add_attrf(ans, m, "fmtp", "%d %s", line->pt, H264_FMTP);
        static const struct {
            unsigned bit;
            const char *v;
        } fbs[] = {{TSR_SDP_FB_NACK, "nack"},
                   {TSR_SDP_FB_PLI, "nack pli"},
                   {TSR_SDP_FB_FIR, "ccm fir"},
                   {TSR_SDP_FB_REMB, "goog-remb"}};
        for (size_t i = 0; i < G_N_ELEMENTS(fbs); i++)
            if (line->fb & fbs[i].bit)
                tsr_sdp_add_attrf(ans, m, "rtcp-fb", "%d %s", line->pt, fbs[i].v);
    }
    uint32_t ssrc = audio ? l->audio_ssrc : l->video_ssrc;
    if (!line->slides) {
        tsr_sdp_add_attrf(ans, m, "ssrc", "%u cname:%s", ssrc, l->cname);
        tsr_sdp_add_attrf(ans, m, "ssrc", "%u msid:%s %s-%s", ssrc, l->stream_id, l->stream_id,
                          audio ? "audio" : "video");
    }
    for (size_t i = 0; i < l->n_candidates; i++)
        tsr_sdp_add_attr(ans, m, "candidate", l->candidates[i] + strlen("candidate:"));
    if (l->ice_lite)
        tsr_sdp_add_attr(ans, m, "end-of-candidates", NULL);
}

static int build_answer(struct neg_ctx *c)
{
    const struct tsr_sdp_local *l = c->local;
    struct tsr_sdp *ans = NULL;
    char origin[96];
    snprintf(origin, sizeof(origin), "- %" G_GUINT64_FORMAT " 2 IN IP4 0.0.0.0",
             l->session_id ? l->session_id : 1);
    tsr_sdp_new(&ans, origin, "-");
    GString *group = g_string_new("BUNDLE");
    for (size_t i = 0; i < c->neg->n_mlines; i++)
        if (c->neg->mlines[i].accepted)
            g_string_append_printf(group, " %s", c->neg->mlines[i].mid);
    tsr_sdp_add_attr(ans, NULL, "group", group->str);
    g_string_free(group, TRUE);
    if (l->ice_lite)
        tsr_sdp_add_attr(ans, NULL, "ice-lite", NULL);
    tsr_sdp_add_attr(ans, NULL, "ice-ufrag", l->ice_ufrag);
    tsr_sdp_add_attr(ans, NULL, "ice-pwd", l->ice_pwd);
    tsr_sdp_add_attrf(ans, NULL, "fingerprint", "sha-256 %s", l->fingerprint_sha256);
    tsr_sdp_add_attrf(ans, NULL, "msid-semantic", " WMS %s", l->stream_id);
    for (size_t i = 0; i < c->offer->n_media; i++) {
        const struct tsr_sdp_media *om = &c->offer->media[i];
        const struct tsr_sdp_mline *line = &c->neg->mlines[i];
        if (line->accepted)
            answer_accepted(c, om, line, ans);
        else
            answer_rejected(c, om, line, ans);
    }
    int rc = tsr_sdp_write(ans, &c->neg->answer);
    tsr_sdp_free(&ans);
    return rc;
}

int tsr_sdp_negotiate(const char *offer, size_t len, const struct tsr_sdp_local *local,
                      struct tsr_sdp_negotiation **out, char reason[TSR_SDP_REASON_MAX])
{
    struct neg_ctx c = {.local = local, .reason = reason};
    struct tsr_sdp *parsed = NULL;
    const char *why = NULL;
    int rc;

    if (!offer || !out)
        return -EINVAL;
    if (check_local(local) != 0)
        return fail(&c, -EINVAL, "server configuration error (local SDP parameters)%s", NULL);
    rc = tsr_sdp_parse(offer, len, &parsed, &why);
    if (rc != 0) {
        rc = fail(&c, rc == -ENOMEM ? rc : TSR_ERR_INVALID, "malformed SDP: %s", why);
        goto out;
    }
    if (parsed->n_media == 0) {
        rc = fail(&c, TSR_ERR_INVALID, "offer has no m= lines%s", NULL);
        goto out;
    }
    c.offer = parsed;
    c.bundle = bundle_group(parsed);
    c.neg = g_new0(struct tsr_sdp_negotiation, 1);
    c.neg->n_mlines = parsed->n_media;
    c.neg->audio_index = c.neg->video_index = c.neg->slides_index = -1;
    if (!c.bundle) {
        rc = fail(&c, TSR_ERR_UNSUPPORTED, "offer has no a=group:BUNDLE%s", NULL);
        goto out;
    }
    rc = choose_lines(&c);
    if (rc == 0)
        rc = read_transport(&c);
    if (rc == 0)
        rc = build_answer(&c);
    if (rc == 0) {
        *out = c.neg;
        c.neg = NULL;
    }
out:
    tsr_sdp_negotiation_free(&c.neg);
    tsr_sdp_free(&parsed);
    return rc;
}
