/* SDES a=crypto lines (RFC 4568): baresip's shape and the other accepted forms read
 * to the right tag, suite and bytes; malformed and unusable lines are refused with
 * the right code; ours is written back in a form the parser takes again. */
#include <tessera/err.h>
#include <tessera/sdp_crypto.h>

#include <glib.h>
#include <string.h>

#define KEY_0_29 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd" /* bytes 0..29 */

static void assert_key_0_29(const struct tsr_sdp_crypto *c)
{
    for (int i = 0; i < TSR_SDES_KEY_SALT_BYTES; i++)
        g_assert_cmpuint(c->key_salt[i], ==, (unsigned)i);
}

static void test_accepted(void)
{
    struct tsr_sdp_crypto c;
    const char *why = NULL;
    /* baresip 1.0 with mediaenc=srtp / srtp-mand. */
    g_assert_cmpint(tsr_sdp_crypto_parse("1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_0_29, &c, &why),
                    ==, 0);
    g_assert_cmpuint(c.tag, ==, 1);
    g_assert_cmpint(c.suite, ==, TSR_SRTP_PROFILE_AES128_CM_SHA1_80);
    assert_key_0_29(&c);
    g_assert_cmpint(tsr_sdp_crypto_parse("42 AES_CM_128_HMAC_SHA1_32 inline:" KEY_0_29 "|2^31",
                                         &c, &why), ==, 0);
    g_assert_cmpuint(c.tag, ==, 42);
    g_assert_cmpint(c.suite, ==, TSR_SRTP_PROFILE_AES128_CM_SHA1_32);
    assert_key_0_29(&c);
    g_assert_cmpint(tsr_sdp_crypto_parse("999999999 AES_CM_128_HMAC_SHA1_80 inline:" KEY_0_29
                                         "|1048576", &c, &why), ==, 0);
    g_assert_cmpuint(c.tag, ==, 999999999u);
}

static void test_refused(void)
{
    static const struct {
        const char *line;
        int rc;
    } cases[] = {
        {"", TSR_ERR_INVALID},
        {"AES_CM_128_HMAC_SHA1_80 inline:" KEY_0_29, TSR_ERR_INVALID},            /* no tag */
        {"1234567890 AES_CM_128_HMAC_SHA1_80 inline:" KEY_0_29, TSR_ERR_INVALID}, /* 10 digits */
        {"1 AES_CM_128_HMAC_SHA1_80", TSR_ERR_INVALID},                           /* no key */
        {"1 AES_CM_128_HMAC_SHA1_80 uri:http://x/" KEY_0_29, TSR_ERR_INVALID},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBka", TSR_ERR_INVALID},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGx*d",
         TSR_ERR_INVALID}, /* not base64 */
        {"1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_0_29 "|2^x", TSR_ERR_INVALID},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_0_29 "junk", TSR_ERR_INVALID},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_0_29 "|2^20|1:4", TSR_ERR_UNSUPPORTED}, /* MKI */
        {"1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_0_29 "|1:4", TSR_ERR_UNSUPPORTED},
        {"1 AES_256_CM_HMAC_SHA1_80 inline:" KEY_0_29, TSR_ERR_UNSUPPORTED},
        {"1 F8_128_HMAC_SHA1_80 inline:" KEY_0_29, TSR_ERR_UNSUPPORTED},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_0_29 " UNENCRYPTED_SRTP", TSR_ERR_UNSUPPORTED},
        {"1 AES_CM_128_HMAC_SHA1_80 inline:" KEY_0_29 ";inline:" KEY_0_29, TSR_ERR_UNSUPPORTED},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct tsr_sdp_crypto c;
        const char *why = NULL;
        int rc = tsr_sdp_crypto_parse(cases[i].line, &c, &why);
        if (rc != cases[i].rc)
            g_error("'%s': %d (%s), wanted %d", cases[i].line, rc, why, cases[i].rc);
        g_assert_nonnull(why);
    }
    struct tsr_sdp_crypto c;
    g_assert_cmpint(tsr_sdp_crypto_parse(NULL, &c, NULL), ==, TSR_ERR_INVALID);
    char *long_line = g_strnfill(300, 'A');
    g_assert_cmpint(tsr_sdp_crypto_parse(long_line, &c, NULL), ==, TSR_ERR_INVALID);
    g_free(long_line);
}

static void test_format_round_trip(void)
{
    struct tsr_sdp_crypto c = {.tag = 7, .suite = TSR_SRTP_PROFILE_AES128_CM_SHA1_32};
    for (int i = 0; i < TSR_SDES_KEY_SALT_BYTES; i++)
        c.key_salt[i] = (uint8_t)i;
    char line[TSR_SDES_LINE_MAX];
    g_assert_cmpint(tsr_sdp_crypto_format(&c, line, sizeof line), ==, 0);
    g_assert_cmpstr(line, ==, "7 AES_CM_128_HMAC_SHA1_32 inline:" KEY_0_29);
    struct tsr_sdp_crypto back;
    g_assert_cmpint(tsr_sdp_crypto_parse(line, &back, NULL), ==, 0);
    g_assert_cmpmem(&back, sizeof back, &c, sizeof c);
    char small[20];
    g_assert_cmpint(tsr_sdp_crypto_format(&c, small, sizeof small), ==, -EMSGSIZE);
    c.suite = TSR_SRTP_PROFILE_AEAD_AES_128_GCM;
    g_assert_cmpint(tsr_sdp_crypto_format(&c, line, sizeof line), ==, -EINVAL);

    /* Ours protects, theirs checks. */
    struct tsr_sdp_crypto ours = {.suite = TSR_SRTP_PROFILE_AES128_CM_SHA1_80};
    struct tsr_sdp_crypto theirs = {.suite = TSR_SRTP_PROFILE_AES128_CM_SHA1_80};
    memset(ours.key_salt, 0xaa, sizeof ours.key_salt);
    memset(theirs.key_salt, 0x55, sizeof theirs.key_salt);
    struct tsr_dtls_srtp_keys k;
    tsr_sdp_crypto_keys(&ours, &theirs, &k);
    g_assert_cmpint(k.profile, ==, TSR_SRTP_PROFILE_AES128_CM_SHA1_80);
    g_assert_cmpuint(k.key_len, ==, 16);
    g_assert_cmpuint(k.salt_len, ==, 14);
    g_assert_cmpuint(k.local_key[0], ==, 0xaa);
    g_assert_cmpuint(k.local_salt[13], ==, 0xaa);
    g_assert_cmpuint(k.remote_key[15], ==, 0x55);
    g_assert_cmpuint(k.remote_salt[0], ==, 0x55);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sdp_crypto/accepted", test_accepted);
    g_test_add_func("/sdp_crypto/refused", test_refused);
    g_test_add_func("/sdp_crypto/format_round_trip", test_format_round_trip);
    return g_test_run();
}
