/* RFC 4568 a=crypto lines; see include/net/tessera/sdp_crypto.h. Pure.
 *
 * Strict on purpose: GLib's base64 decoder skips characters it does not know, so
 * the key is checked character by character before it is decoded, and a key of
 * the wrong length is refused rather than padded or cut. */
#include <tessera/sdp_crypto.h>
#include <tessera/err.h>

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_B64_CHARS 40 /* 30 bytes, no padding */

static int refuse(const char **why, int rc, const char *text)
{
    if (why)
        *why = text;
    return rc;
}

static const char *suite_name(enum tsr_srtp_profile s)
{
    return s == TSR_SRTP_PROFILE_AES128_CM_SHA1_80   ? "AES_CM_128_HMAC_SHA1_80"
           : s == TSR_SRTP_PROFILE_AES128_CM_SHA1_32 ? "AES_CM_128_HMAC_SHA1_32"
                                                     : NULL;
}

static bool b64_char(char ch)
{
    return g_ascii_isalnum(ch) || ch == '+' || ch == '/';
}

/* "2^31" or a decimal count of packets; libsrtp's own limit (2^48) applies anyway,
 * so a valid value is only checked, not kept. */
static bool lifetime_valid(const char *s, size_t len)
{
    size_t i = 0;
    if (len > 2 && s[0] == '2' && s[1] == '^')
        i = 2;
    if (i == len || len - i > 15)
        return false;
    for (; i < len; i++)
        if (!g_ascii_isdigit(s[i]))
            return false;
    return true;
}

/* key-info: KEY||SALT ["|" lifetime] ["|" MKI ":" length] */
static int parse_key_info(const char *info, uint8_t out[TSR_SDES_KEY_SALT_BYTES], const char **why)
{
    size_t n = strcspn(info, "|");
    if (n != KEY_B64_CHARS)
        return refuse(why, TSR_ERR_INVALID, "the inline key is not 30 bytes (40 base64 characters)");
    for (size_t i = 0; i < n; i++)
        if (!b64_char(info[i]))
            return refuse(why, TSR_ERR_INVALID, "the inline key is not base64");
    char b64[KEY_B64_CHARS + 1];
    memcpy(b64, info, n);
    b64[n] = '\0';
    gsize len = 0;
    guchar *raw = g_base64_decode(b64, &len);
    bool ok = len == TSR_SDES_KEY_SALT_BYTES;
    if (ok)
        memcpy(out, raw, len);
    memset(raw, 0, len);
    g_free(raw);
    if (!ok)
        return refuse(why, TSR_ERR_INVALID, "the inline key is not 30 bytes");
    const char *rest = info + n;
    if (*rest == '|') {
        rest++;
        size_t m = strcspn(rest, "|");
        if (memchr(rest, ':', m)) /* the only field: an MKI */
            return refuse(why, TSR_ERR_UNSUPPORTED, "an MKI is not supported");
        if (!lifetime_valid(rest, m))
            return refuse(why, TSR_ERR_INVALID, "the key lifetime is not a number or 2^n");
        rest += m;
    }
    if (*rest == '|')
        return refuse(why, TSR_ERR_UNSUPPORTED, "an MKI is not supported");
    return *rest ? refuse(why, TSR_ERR_INVALID, "junk after the inline key") : 0;
}

int tsr_sdp_crypto_parse(const char *value, struct tsr_sdp_crypto *out, const char **why)
{
    char suite[40], params[200];
    memset(out, 0, sizeof *out);
    if (!value || strlen(value) > 256)
        return refuse(why, TSR_ERR_INVALID, "a crypto attribute that is empty or too long");
    size_t tag_len = strspn(value, "0123456789");
    if (tag_len == 0 || tag_len > 9 || value[tag_len] != ' ')
        return refuse(why, TSR_ERR_INVALID, "the crypto tag is not 1 to 9 digits");
    out->tag = (uint32_t)strtoul(value, NULL, 10);
    int used = 0;
    if (sscanf(value + tag_len, " %39s %199s%n", suite, params, &used) != 2)
        return refuse(why, TSR_ERR_INVALID, "a crypto attribute needs a suite and key parameters");
    if (value[tag_len + (size_t)used] != '\0')
        return refuse(why, TSR_ERR_UNSUPPORTED, "session parameters are not supported");
    if (strcmp(suite, "AES_CM_128_HMAC_SHA1_80") == 0)
        out->suite = TSR_SRTP_PROFILE_AES128_CM_SHA1_80;
    else if (strcmp(suite, "AES_CM_128_HMAC_SHA1_32") == 0)
        out->suite = TSR_SRTP_PROFILE_AES128_CM_SHA1_32;
    else
        return refuse(why, TSR_ERR_UNSUPPORTED, "the crypto suite is not AES_CM_128_HMAC_SHA1_80/32");
    if (strncmp(params, "inline:", 7) != 0)
        return refuse(why, TSR_ERR_INVALID, "the key parameter is not inline:");
    if (strchr(params, ';'))
        return refuse(why, TSR_ERR_UNSUPPORTED, "several keys in one crypto line are not supported");
    return parse_key_info(params + 7, out->key_salt, why);
}

int tsr_sdp_crypto_format(const struct tsr_sdp_crypto *c, char *out, size_t size)
{
    const char *suite = suite_name(c->suite);
    if (!suite)
        return -EINVAL;
    gchar *b64 = g_base64_encode(c->key_salt, sizeof c->key_salt);
    int n = snprintf(out, size, "%u %s inline:%s", c->tag, suite, b64);
    memset(b64, 0, strlen(b64));
    g_free(b64);
    return n < 0 || (size_t)n >= size ? -EMSGSIZE : 0;
}

void tsr_sdp_crypto_keys(const struct tsr_sdp_crypto *local, const struct tsr_sdp_crypto *remote,
                         struct tsr_dtls_srtp_keys *keys)
{
    memset(keys, 0, sizeof *keys);
    keys->profile = remote->suite;
    keys->key_len = TSR_SDES_KEY_BYTES;
    keys->salt_len = TSR_SDES_SALT_BYTES;
    memcpy(keys->local_key, local->key_salt, TSR_SDES_KEY_BYTES);
    memcpy(keys->local_salt, local->key_salt + TSR_SDES_KEY_BYTES, TSR_SDES_SALT_BYTES);
    memcpy(keys->remote_key, remote->key_salt, TSR_SDES_KEY_BYTES);
    memcpy(keys->remote_salt, remote->key_salt + TSR_SDES_KEY_BYTES, TSR_SDES_SALT_BYTES);
}
