/* The PIN lobby's video section: which offered video section can show the "enter
 * PIN" picture (sip_picture.c), and how the lobby's answer accepts it. Pure; offers
 * are hostile input that Sofia-SIP only framed. */
#include <tessera/err.h>
#include <tessera/sdp.h>
#include <tessera/sdp_plain.h>
#include <tessera/sip_message.h>

#include <glib.h>
#include <string.h>

#define H264_FMTP "packetization-mode=1;profile-level-id=42e01f"

static bool lobby_video_proto(const char *p, bool *srtp)
{
    *srtp = strcmp(p, "RTP/SAVP") == 0 || strcmp(p, "RTP/SAVPF") == 0;
    return *srtp || strcmp(p, "RTP/AVP") == 0 || strcmp(p, "RTP/AVPF") == 0;
}

/* The section's codec: H.264 first (Tessera's preferred), else VP8. */
static bool pick_codec(const struct tsr_sdp_media *m, struct tsr_sip_lobby_video *out)
{
    int vp8 = -1;
    for (size_t k = 0; k < m->n_fmts; k++) {
        struct tsr_sdp_rtpmap r;
        int pt = tsr_sdp_media_fmt_pt(m, k);
        if (pt < 0 || !tsr_sdp_media_rtpmap(m, pt, &r) || r.clock_rate != 90000)
            continue;
        if (g_ascii_strcasecmp(r.name, "H264") == 0 &&
            tsr_sdp_h264_usable(tsr_sdp_media_fmtp(m, pt))) {
            out->pt = pt;
            out->h264 = true;
            g_snprintf(out->rtpmap, sizeof out->rtpmap, "%s/90000", r.name);
            return true;
        }
        if (g_ascii_strcasecmp(r.name, "VP8") == 0 && vp8 < 0)
            vp8 = pt;
    }
    if (vp8 < 0)
        return false;
    out->pt = vp8;
    g_strlcpy(out->rtpmap, "VP8/90000", sizeof out->rtpmap);
    return true;
}

static bool read_section(const struct tsr_sdp *sdp, const struct tsr_sdp_media *m,
                         struct tsr_sip_lobby_video *out)
{
    if (tsr_sdp_media_attr(sdp, m, "sendonly") || tsr_sdp_media_attr(sdp, m, "inactive"))
        return false;
    const char *c = m->connection ? m->connection : sdp->connection;
    if (!c || strncmp(c, "IN IP", 5) != 0 || strlen(c) < 8)
        return false;
    g_strlcpy(out->address, c + 7, sizeof out->address); /* after "IN IP4 " */
    out->address[strcspn(out->address, " /")] = '\0';
    if (strcmp(out->address, "0.0.0.0") == 0 || !pick_codec(m, out))
        return false;
    g_strlcpy(out->proto, m->proto, sizeof out->proto);
    out->port = m->port;
    for (size_t i = 0; out->srtp && i < m->n_attrs && !out->remote_crypto.tag; i++)
        if (strcmp(m->attrs[i].name, "crypto") == 0 &&
            tsr_sdp_crypto_parse(m->attrs[i].value, &out->remote_crypto, NULL) != 0)
            memset(&out->remote_crypto, 0, sizeof out->remote_crypto);
    return !out->srtp || out->remote_crypto.tag != 0;
}

void tsr_sip_lobby_video_read(const char *offer, size_t len, struct tsr_sip_lobby_video *out)
{
    memset(out, 0, sizeof *out);
    out->pt = -1;
    struct tsr_sdp *sdp = NULL;
    if (tsr_sdp_parse(offer, len, &sdp, NULL) != 0)
        return;
    for (size_t i = 0; i < sdp->n_media; i++) {
        const struct tsr_sdp_media *m = &sdp->media[i];
        if (strcmp(m->kind, "video") != 0)
            continue;
        /* Only the first video section: the answer's other sections stay inactive. */
        if (!m->port || !lobby_video_proto(m->proto, &out->srtp) || !read_section(sdp, m, out)) {
            struct tsr_sip_lobby_video none = {.pt = -1};
            *out = none;
        }
        break;
    }
    tsr_sdp_free(&sdp);
}

void tsr_sip_lobby_video_answer(GString *s, const struct tsr_sip_lobby_video *v, uint16_t port)
{
    g_string_append_printf(s, "m=video %u %s %d\r\na=rtpmap:%d %s\r\n", port, v->proto, v->pt,
                           v->pt, v->rtpmap);
    if (v->h264)
        g_string_append_printf(s, "a=fmtp:%d " H264_FMTP "\r\n", v->pt);
    char crypto[TSR_SDES_LINE_MAX];
    if (v->srtp && tsr_sdp_crypto_format(&v->local_crypto, crypto, sizeof crypto) == 0)
        g_string_append_printf(s, "a=crypto:%s\r\n", crypto);
    g_string_append(s, "a=sendonly\r\n");
}
