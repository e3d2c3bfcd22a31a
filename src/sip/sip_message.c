/* Reading INVITEs and writing Reason headers. Pure. */
#include <tessera/sip_message.h>
#include <tessera/err.h>

#include <sofia-sip/sip_status.h>

#include <glib.h>
#include <stdlib.h>
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

/* RFC 3261 §25.1: unreserved = alphanum / mark; user-unreserved adds these. */
static bool user_char(char ch)
{
    return g_ascii_isalnum(ch) || (ch && strchr("-_.!~*'()&=+$,;?/", ch) != NULL);
}

static const char *check_user(const char *s, size_t len)
{
    if (len == 0)
        return "the URI has no user part before '@' (sip:user@host)";
    if (len > TSR_CONFERENCE_NAME_MAX)
        return "the URI's user part is too long";
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '%') {
            if (i + 2 >= len || !g_ascii_isxdigit(s[i + 1]) || !g_ascii_isxdigit(s[i + 2]))
                return "the URI's user part has a bad %-escape";
            i += 2;
        } else if (s[i] == ';' || s[i] == '?') {
            return "the URI has parameters or headers (only sip:user@host[:port])";
        } else if (!user_char(s[i])) {
            return "the URI's user part has a character SIP does not allow there";
        }
    }
    return NULL;
}

/* host[:port]: a name or IPv4 address of [A-Za-z0-9.-], or [IPv6]. */
static const char *check_hostport(const char *s)
{
    const char *end;
    if (*s == '[') {
        end = strchr(s, ']');
        if (!end || end == s + 1 ||
            strspn(s + 1, "0123456789abcdefABCDEF:.") != (size_t)(end - s - 1))
            return "the URI's host is not a bracketed IPv6 address";
        end++;
    } else {
        end = s + strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
        if (end == s || *s == '.' || *s == '-' || end[-1] == '-')
            return "the URI has no valid host (sip:user@host[:port])";
    }
    if (*end == '\0')
        return NULL;
    if (*end != ':')
        return "the URI has something after the host other than :port (no parameters)";
    const char *port = end + 1;
    size_t n = strspn(port, "0123456789");
    if (n == 0 || n > 5 || port[n] != '\0' || atoi(port) < 1 || atoi(port) > 65535)
        return "the URI's port is not 1-65535";
    return NULL;
}

int tsr_sip_dial_uri_check(const char *uri, char user[TSR_CONFERENCE_NAME_MAX + 1],
                           const char **why)
{
    if (!uri || g_ascii_strncasecmp(uri, "sip:", 4) != 0) {
        *why = "only sip: URIs can be dialled (sip:user@host[:port])";
        return TSR_ERR_INVALID;
    }
    const char *u = uri + 4;
    const char *at = strchr(u, '@');
    if (!at) {
        *why = "the URI has no user part before '@' (sip:user@host)";
        return TSR_ERR_INVALID;
    }
    if (memchr(u, ':', (size_t)(at - u))) {
        *why = "the URI has a password (sip:user:password@host): leave it out";
        return TSR_ERR_INVALID;
    }
    const char *bad = check_user(u, (size_t)(at - u));
    if (!bad && strchr(at + 1, '@'))
        bad = "the URI has more than one '@'";
    if (!bad)
        bad = check_hostport(at + 1);
    if (bad) {
        *why = bad;
        return TSR_ERR_INVALID;
    }
    memcpy(user, u, (size_t)(at - u));
    user[at - u] = '\0';
    return 0;
}
