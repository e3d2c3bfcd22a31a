/* SDES-SRTP keys in SDP (RFC 4568 `a=crypto`): read a caller's line, write ours.
 * Pure; thread: any.
 *
 * What Tessera takes: suites AES_CM_128_HMAC_SHA1_80 and AES_CM_128_HMAC_SHA1_32,
 * one `inline:` key (30 bytes: 16 of key then 14 of salt, base64 without line
 * breaks), an optional lifetime, no MKI and no session parameters (a line with one
 * we cannot honour, e.g. UNENCRYPTED_SRTP, is not usable: RFC 4568 §6.3 says to
 * skip it). baresip sends `a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:<40 chars>`. */
#ifndef TESSERA_SDP_CRYPTO_H
#define TESSERA_SDP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tessera/dtls.h>

#define TSR_SDES_KEY_BYTES 16
#define TSR_SDES_SALT_BYTES 14
#define TSR_SDES_KEY_SALT_BYTES (TSR_SDES_KEY_BYTES + TSR_SDES_SALT_BYTES)
#define TSR_SDES_LINE_MAX 96 /* "123456789 AES_CM_128_HMAC_SHA1_80 inline:" + 40 */

struct tsr_sdp_crypto {
    uint32_t tag;                /* 1..999999999, echoed in the answer */
    enum tsr_srtp_profile suite; /* AES128_CM_SHA1_80 or _32 */
    uint8_t key_salt[TSR_SDES_KEY_SALT_BYTES];
};

/* Purpose: read one a=crypto value (what follows "a=crypto:").
 * Returns 0 and *out; TSR_ERR_INVALID (malformed: tag, key length, base64,
 * lifetime), TSR_ERR_UNSUPPORTED (well-formed but not usable here: another suite,
 * an MKI, several keys, a session parameter). *why (may be NULL) gets a static
 * sentence on failure. */
int tsr_sdp_crypto_parse(const char *value, struct tsr_sdp_crypto *out, const char **why);

/* Purpose: write c as an a=crypto value ("TAG SUITE inline:BASE64") into out.
 * Returns 0, -EINVAL (a suite SDES does not carry), -EMSGSIZE (size too small). */
int tsr_sdp_crypto_format(const struct tsr_sdp_crypto *c, char *out, size_t size);

/* Purpose: the keys for a tsr_srtp session: we protect with `local` (our answer's
 * key), the caller's packets are checked with `remote` (its offer's). Both must
 * carry the same suite (the answer echoes the offer's). */
void tsr_sdp_crypto_keys(const struct tsr_sdp_crypto *local, const struct tsr_sdp_crypto *remote,
                         struct tsr_dtls_srtp_keys *keys);

#endif
