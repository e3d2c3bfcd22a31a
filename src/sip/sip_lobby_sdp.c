/* The PIN lobby's pure parts: reading an offer for what the lobby needs, writing
 * its answer, keeping one o= line across the lobby and the join, and SIP INFO
 * dtmf-relay bodies. Offers are hostile input that Sofia-SIP only framed. */
#include <tessera/err.h>
#include <tessera/sip_message.h>

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINES_MAX 512

static char **split_lines(const char *sdp, size_t len)
{
    char *copy = g_strndup(sdp, len);
    g_strdelimit(copy, "\r", '\n');
    char **lines = g_strsplit(copy, "\n", LINES_MAX);
    g_free(copy);
    return lines;
}

/* "m=audio 10910 RTP/AVP 96 9 101": kind, proto and the formats (port: NULL or
 * where the port goes; 0 when it is not a number). */
static bool media_line_port(const char *l, char kind[16], char proto[24], char ***fmts,
                            uint16_t *port)
{
    char **t = g_strsplit(l + 2, " ", 64);
    bool ok = g_strv_length(t) >= 4 && strlen(t[0]) < 16 && strlen(t[2]) < 24;
    if (ok) {
        g_strlcpy(kind, t[0], 16);
        g_strlcpy(proto, t[2], 24);
        *fmts = g_strdupv(t + 3);
        char *end = NULL;
        unsigned long v = strtoul(t[1], &end, 10);
        if (port)
            *port = end != t[1] && (*end == '\0' || *end == '/') && v <= 65535 ? (uint16_t)v : 0;
    }
    g_strfreev(t);
    return ok;
}

static bool media_line(const char *l, char kind[16], char proto[24], char ***fmts)
{
    return media_line_port(l, kind, proto, fmts, NULL);
}

static int parse_pt(const char *s)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    return end != s && v >= 0 && v <= 127 ? (int)v : -1;
}

/* One a=rtpmap line of the audio section. */
static void audio_rtpmap(const char *val, struct tsr_sip_lobby_sdp *out, int *opus_pt,
                         char opus_map[64], int first_pt)
{
    int pt = parse_pt(val);
    const char *sp = strchr(val, ' ');
    if (pt < 0 || !sp || strlen(sp + 1) >= 64)
        return;
    if (g_ascii_strncasecmp(sp + 1, "telephone-event/", 16) == 0 && out->event_pt < 0) {
        unsigned long rate = strtoul(sp + 17, NULL, 10);
        if (rate >= 8000 && rate <= 96000) {
            out->event_pt = pt;
            out->event_rate = (unsigned)rate;
        }
    } else if (g_ascii_strncasecmp(sp + 1, "opus/", 5) == 0 && *opus_pt < 0) {
        *opus_pt = pt;
        g_strlcpy(opus_map, sp + 1, 64);
    } else if (pt == first_pt) {
        g_strlcpy(out->audio_rtpmap, sp + 1, sizeof out->audio_rtpmap);
    }
}

static bool plain_proto(const char *p)
{
    return strcmp(p, "RTP/AVP") == 0 || strcmp(p, "RTP/AVPF") == 0;
}

static bool sdes_proto(const char *p)
{
    return strcmp(p, "RTP/SAVP") == 0 || strcmp(p, "RTP/SAVPF") == 0;
}

/* What the lobby can answer: plain RTP, or SDES-SRTP (keys in the SDP). */
static bool lobby_proto(const char *p)
{
    return plain_proto(p) || sdes_proto(p);
}

/* The first a=crypto value of the audio section we can use (RFC 4568 §6.3). */
static void audio_crypto(const char *val, struct tsr_sip_lobby_sdp *out, const char **crypto_why)
{
    if (out->srtp && out->remote_crypto.tag)
        return;
    if (tsr_sdp_crypto_parse(val, &out->remote_crypto, crypto_why) != 0)
        memset(&out->remote_crypto, 0, sizeof out->remote_crypto);
}

int tsr_sip_lobby_sdp_read(const char *offer, size_t len, struct tsr_sip_lobby_sdp *out,
                           const char **why)
{
    memset(out, 0, sizeof *out);
    out->audio_pt = out->event_pt = -1;
    char **lines = split_lines(offer, len);
    char session_c[64] = "", kind[16] = "", proto[24] = "", opus_map[64] = "";
    int opus_pt = -1, first_pt = -1;
    bool in_audio = false, seen_audio = false, dtls = false;
    const char *crypto_why = "there is no a=crypto line";
    for (char **l = lines; *l; l++) {
        if (g_str_has_prefix(*l, "m=")) {
            char **fmts = NULL;
            uint16_t port = 0;
            in_audio = false;
            if (!media_line_port(*l, kind, proto, &fmts, &port))
                continue;
            if (strcmp(kind, "audio") == 0 && !seen_audio) {
                dtls |= !lobby_proto(proto);
                in_audio = seen_audio = lobby_proto(proto);
                out->srtp = in_audio && sdes_proto(proto);
                g_strlcpy(out->audio_proto, in_audio ? proto : "", sizeof out->audio_proto);
                first_pt = in_audio ? parse_pt(fmts[0]) : -1;
                out->remote_port = in_audio ? port : 0;
                out->receives = in_audio && port != 0;
            }
            g_strfreev(fmts);
        } else if (g_str_has_prefix(*l, "c=IN IP") && strlen(*l) > 9) {
            char addr[64];
            g_strlcpy(addr, *l + 9, sizeof addr);
            g_strdelimit(addr, " /", '\0');
            if (!seen_audio)
                g_strlcpy(session_c, addr, sizeof session_c);
            else if (in_audio)
                g_strlcpy(out->remote_address, addr, sizeof out->remote_address);
        } else if (in_audio && (strcmp(*l, "a=sendonly") == 0 || strcmp(*l, "a=inactive") == 0)) {
            out->receives = false;
        } else if (in_audio && out->srtp && g_str_has_prefix(*l, "a=crypto:")) {
            audio_crypto(*l + 9, out, &crypto_why);
        } else if (in_audio && g_str_has_prefix(*l, "a=rtpmap:")) {
            audio_rtpmap(*l + 9, out, &opus_pt, opus_map, first_pt);
        }
    }
    g_strfreev(lines);
    if (!out->remote_address[0])
        g_strlcpy(out->remote_address, session_c, sizeof out->remote_address);
    out->audio_pt = opus_pt >= 0 ? opus_pt : first_pt;
    if (opus_pt >= 0)
        g_strlcpy(out->audio_rtpmap, opus_map, sizeof out->audio_rtpmap);
    if (!seen_audio || out->audio_pt < 0 || out->audio_pt == out->event_pt) {
        *why = dtls ? "PIN entry needs an RTP/AVP or SDES RTP/SAVP audio section (DTLS-SRTP "
                      "lobbies are not supported yet)"
                    : "the offer has no audio section with a codec";
        return TSR_ERR_UNSUPPORTED;
    }
    if (out->srtp && !out->remote_crypto.tag) {
        *why = crypto_why;
        return TSR_ERR_UNSUPPORTED;
    }
    if (!out->remote_address[0]) {
        *why = "the offer has no c= address";
        return TSR_ERR_INVALID;
    }
    tsr_sip_lobby_video_read(offer, len, &out->video);
    return 0;
}

static void append_audio(GString *s, const struct tsr_sip_lobby_sdp *l, const char *proto,
                         uint16_t port)
{
    char crypto[TSR_SDES_LINE_MAX];
    if (l->srtp && tsr_sdp_crypto_format(&l->local_crypto, crypto, sizeof crypto) != 0)
        crypto[0] = '\0';
    g_string_append_printf(s, "m=audio %u %s %d", port, proto, l->audio_pt);
    if (l->event_pt >= 0)
        g_string_append_printf(s, " %d", l->event_pt);
    g_string_append(s, "\r\n");
    if (l->audio_rtpmap[0])
        g_string_append_printf(s, "a=rtpmap:%d %s\r\n", l->audio_pt, l->audio_rtpmap);
    if (l->event_pt >= 0)
        g_string_append_printf(s, "a=rtpmap:%d telephone-event/%u\r\na=fmtp:%d 0-15\r\n",
                               l->event_pt, l->event_rate, l->event_pt);
    if (l->srtp && crypto[0])
        g_string_append_printf(s, "a=crypto:%s\r\n", crypto);
    /* sendrecv when the lobby plays its prompt to the caller (sip_prompt.c). */
    g_string_append(s, l->prompt ? "a=sendrecv\r\n" : "a=recvonly\r\n");
}

/* Another section: its first format, inactive on the discard port (RFC 3264 §6:
 * an accepted stream may be inactive; port 0 would reject it for good with some
 * user agents). */
static void append_other(GString *s, char **m, const char *kind, const char *proto, const char *fmt)
{
    g_string_append_printf(s, "m=%s 9 %s %s\r\n", kind, proto, fmt);
    char want[32];
    g_snprintf(want, sizeof want, "a=rtpmap:%s ", fmt);
    for (char **l = m + 1; *l && !g_str_has_prefix(*l, "m="); l++)
        if (g_str_has_prefix(*l, want) && strlen(*l) < 128)
            g_string_append_printf(s, "%s\r\n", *l);
    g_string_append(s, "a=inactive\r\n");
}

char *tsr_sip_lobby_sdp_answer(const char *offer, size_t len, const struct tsr_sip_lobby_sdp *l,
                               const char *address, uint16_t port, uint16_t video_port,
                               uint64_t session_id)
{
    const char *ip = strchr(address, ':') ? "IP6" : "IP4";
    GString *s = g_string_new(NULL);
    g_string_append_printf(s,
                           "v=0\r\no=tessera %" G_GUINT64_FORMAT " 1 IN %s %s\r\ns=tessera\r\n"
                           "c=IN %s %s\r\nt=0 0\r\n",
                           session_id, ip, address, ip, address);
    char **lines = split_lines(offer, len);
    bool audio_done = false, video_done = false;
    for (char **m = lines; *m; m++) {
        char kind[16], proto[24], **fmts = NULL;
        if (!g_str_has_prefix(*m, "m=") || !media_line(*m, kind, proto, &fmts))
            continue;
        if (!audio_done && strcmp(kind, "audio") == 0 && lobby_proto(proto)) {
            append_audio(s, l, proto, port);
            audio_done = true;
        } else if (!video_done && strcmp(kind, "video") == 0 && l->video.picture) {
            tsr_sip_lobby_video_answer(s, &l->video, video_port);
            video_done = true;
        } else if (fmts[0][0]) {
            append_other(s, m, kind, proto, fmts[0]);
        }
        g_strfreev(fmts);
    }
    g_strfreev(lines);
    return g_string_free(s, FALSE);
}

char *tsr_sip_sdp_set_origin(const char *sdp, uint64_t session_id, unsigned version)
{
    GString *s = g_string_new(NULL);
    const char *p = sdp;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p + 1) : strlen(p);
        /* o=<user> <id> <version> <nettype> <addrtype> <address>: ours up to the
         * version, the rest (and the line ending) as media wrote it. */
        char *line = g_str_has_prefix(p, "o=") ? g_strndup(p + 2, n - 2) : NULL;
        char **t = line ? g_strsplit(line, " ", 4) : NULL;
        if (t && g_strv_length(t) == 4)
            g_string_append_printf(s, "o=tessera %" G_GUINT64_FORMAT " %u %s", session_id, version,
                                   t[3]);
        else
            g_string_append_len(s, p, (gssize)n);
        g_strfreev(t);
        g_free(line);
        p += n;
    }
    return g_string_free(s, FALSE);
}

int tsr_sip_dtmf_relay_parse(const char *body, size_t len, char *key, const char **why)
{
    char **lines = split_lines(body, len);
    int rc = TSR_ERR_INVALID;
    *why = "the dtmf-relay body has no Signal= line";
    for (char **l = lines; *l && rc != 0; l++) {
        char *eq = strchr(*l, '=');
        if (!eq)
            continue;
        *eq = '\0';
        if (g_ascii_strcasecmp(g_strstrip(*l), "Signal") != 0)
            continue;
        const char *v = g_strstrip(eq + 1);
        *why = "the dtmf-relay Signal is not a key (0-9, *, #, A-D)";
        if (strlen(v) == 1 && strchr("0123456789*#ABCDabcd", v[0])) {
            *key = g_ascii_toupper(v[0]);
            rc = 0;
        } else if (strcmp(v, "10") == 0 || strcmp(v, "11") == 0) {
            *key = v[1] == '0' ? '*' : '#'; /* the event codes of RFC 4733 */
            rc = 0;
        } else {
            break;
        }
    }
    g_strfreev(lines);
    return rc;
}
