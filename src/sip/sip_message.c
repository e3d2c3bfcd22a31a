/* Reading INVITEs and writing Reason headers. Pure. */
#include <tessera/sip_message.h>
#include <tessera/err.h>

#include <sofia-sip/sip_status.h>

#include <glib.h>
#include <string.h>

/* Copies a display name without its quotes and backslash escapes (RFC 3261
 * quoted-string); control characters become spaces. */
static void unquote(const char *in, char *out, size_t size)
{
    size_t n = 0, len = strlen(in);
    bool quoted = len >= 2 && in[0] == '"' && in[len - 1] == '"';
    const char *p = quoted ? in + 1 : in;
    const char *end = quoted ? in + len - 1 : in + len;
    while (p < end && n + 1 < size) {
        char c = *p++;
        if (quoted && c == '\\' && p < end)
            c = *p++;
        out[n++] = (unsigned char)c < 0x20 || c == 0x7f ? ' ' : c;
    }
    out[n] = '\0';
    /* A cut may leave half a UTF-8 sequence: drop it. */
    const char *bad = NULL;
    if (!g_utf8_validate(out, -1, &bad))
        out[bad - out] = '\0';
}

static void read_display_name(const sip_from_t *from, char *out, size_t size)
{
    out[0] = '\0';
    if (from && from->a_display)
        unquote(from->a_display, out, size);
    if (!tsr_conference_display_name_valid(out) && from && from->a_url->url_user)
        unquote(from->a_url->url_user, out, size);
    if (!tsr_conference_display_name_valid(out))
        g_strlcpy(out, TSR_SIP_DEFAULT_DISPLAY_NAME, size);
}

static bool is_sdp(const sip_content_type_t *ct)
{
    return ct && ct->c_type && g_ascii_strcasecmp(ct->c_type, "application/sdp") == 0;
}

int tsr_sip_invite_read(const sip_t *sip, struct tsr_sip_invite *out, const char **why)
{
    if (!sip || !sip->sip_request) {
        *why = "the request has no request line";
        return TSR_ERR_INVALID;
    }
    struct tsr_sip_invite inv;
    memset(&inv, 0, sizeof inv);
    const char *user = sip->sip_request->rq_url->url_user;
    if ((!user || !*user) && sip->sip_to)
        user = sip->sip_to->a_url->url_user;
    if (user && strlen(user) < sizeof inv.alias)
        g_strlcpy(inv.alias, user, sizeof inv.alias);
    else if (user)
        g_strlcpy(inv.alias, "-", sizeof inv.alias); /* too long: no alias, refused as such */
    read_display_name(sip->sip_from, inv.display_name, sizeof inv.display_name);
    const sip_payload_t *pl = sip->sip_payload;
    if (pl && pl->pl_len > 0) {
        if (!is_sdp(sip->sip_content_type)) {
            *why = "the INVITE body is not application/sdp";
            return TSR_ERR_INVALID;
        }
        inv.sdp = pl->pl_data;
        inv.sdp_len = pl->pl_len;
    }
    *out = inv;
    return 0;
}

void tsr_sip_reason_value(unsigned status, const char *text, char buf[TSR_SIP_REASON_MAX])
{
    int n = g_snprintf(buf, TSR_SIP_REASON_MAX, "SIP;cause=%u;text=\"", status);
    size_t room = TSR_SIP_REASON_MAX - (size_t)n - 2; /* closing quote and NUL */
    size_t w = (size_t)n;
    for (const char *p = text ? text : ""; *p && w - (size_t)n < room; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            c = '\'';
        else if (c < 0x20 || c == 0x7f)
            c = ' ';
        buf[w++] = (char)c;
    }
    buf[w] = '\0';
    const char *bad = NULL;
    if (!g_utf8_validate(buf, -1, &bad))
        w = (size_t)(bad - buf);
    buf[w++] = '"';
    buf[w] = '\0';
}

const char *tsr_sip_status_phrase(unsigned status)
{
    const char *p = status < 700 ? sip_status_phrase((int)status) : NULL;
    return p ? p : "";
}
