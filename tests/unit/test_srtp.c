/* SRTP sessions: both profiles round-trip RTP and RTCP, tampering and replays
 * are refused with distinct codes and counted. */
#include <tessera/err.h>
#include <tessera/metrics.h>
#include <tessera/srtp.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

/* Keys for two peers: a's local half is b's remote half. */
static void make_keys(enum tsr_srtp_profile profile, struct tsr_dtls_srtp_keys *a,
                      struct tsr_dtls_srtp_keys *b)
{
    memset(a, 0, sizeof(*a));
    a->profile = profile;
    a->key_len = 16;
    a->salt_len = profile == TSR_SRTP_PROFILE_AEAD_AES_128_GCM ? 12 : 14;
    for (int i = 0; i < 16; i++) {
        a->local_key[i] = (uint8_t)(i + 1);
        a->remote_key[i] = (uint8_t)(0xA0 + i);
    }
    for (int i = 0; i < 14; i++) {
        a->local_salt[i] = (uint8_t)(0x30 + i);
        a->remote_salt[i] = (uint8_t)(0x70 + i);
    }
    *b = *a;
    memcpy(b->local_key, a->remote_key, 16);
    memcpy(b->remote_key, a->local_key, 16);
    memcpy(b->local_salt, a->remote_salt, 14);
    memcpy(b->remote_salt, a->local_salt, 14);
}

static size_t make_rtp(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload)
{
    buf[0] = 0x80;
    buf[1] = 96;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    memset(buf + 4, 0, 4);
    buf[8] = (uint8_t)(ssrc >> 24);
    buf[9] = (uint8_t)(ssrc >> 16);
    buf[10] = (uint8_t)(ssrc >> 8);
    buf[11] = (uint8_t)ssrc;
    for (size_t i = 0; i < payload; i++)
        buf[12 + i] = (uint8_t)(i * 7 + seq);
    return 12 + payload;
}

static uint64_t errors(const char *op)
{
    char labels[64];
    g_snprintf(labels, sizeof(labels), "op=\"%s\"", op);
    return tsr_counter_value(tsr_metrics_counter("tessera_srtp_errors_total", labels, "x"));
}

static void roundtrip(gconstpointer data)
{
    enum tsr_srtp_profile profile = (enum tsr_srtp_profile)GPOINTER_TO_INT(data);
    struct tsr_dtls_srtp_keys ka, kb;
    struct tsr_srtp *a = NULL, *b = NULL;
    make_keys(profile, &ka, &kb);
    g_assert_cmpint(tsr_srtp_new(&a, &ka), ==, 0);
    g_assert_cmpint(tsr_srtp_new(&b, &kb), ==, 0);

    uint8_t plain[200], buf[200 + TSR_SRTP_MAX_TRAILER_BYTES], copy[sizeof(buf)];
    for (uint16_t seq = 1000; seq < 1010; seq++) {
        size_t n = make_rtp(plain, seq, 0x11223344, 100);
        memcpy(buf, plain, n);
        size_t len = n;
        g_assert_cmpint(tsr_srtp_protect_rtp(a, buf, &len, sizeof(buf)), ==, 0);
        g_assert_cmpuint(len, ==, n + (profile == TSR_SRTP_PROFILE_AEAD_AES_128_GCM ? 16 : 10));
        g_assert_true(memcmp(buf + 12, plain + 12, 100) != 0); /* payload encrypted */
        memcpy(copy, buf, len);
        size_t clen = len;
        g_assert_cmpint(tsr_srtp_unprotect_rtp(b, buf, &len), ==, 0);
        g_assert_cmpuint(len, ==, n);
        g_assert_cmpmem(buf, len, plain, n);
        /* the same packet again is a replay */
        uint64_t before = errors("unprotect_rtp");
        g_assert_cmpint(tsr_srtp_unprotect_rtp(b, copy, &clen), ==, TSR_ERR_PROTOCOL);
        g_assert_cmpuint(errors("unprotect_rtp"), ==, before + 1);
    }

    /* a flipped payload bit fails authentication and is counted */
    size_t n = make_rtp(plain, 2000, 0x11223344, 50), len = n;
    memcpy(buf, plain, n);
    g_assert_cmpint(tsr_srtp_protect_rtp(a, buf, &len, sizeof(buf)), ==, 0);
    buf[20] ^= 0x01;
    uint64_t before = errors("unprotect_rtp");
    g_assert_cmpint(tsr_srtp_unprotect_rtp(b, buf, &len), ==, TSR_ERR_AUTH);
    g_assert_cmpuint(errors("unprotect_rtp"), ==, before + 1);

    /* RTCP the other way: a receiver report with one block (b → a) */
    uint8_t rr[32] = {0x81, 201, 0, 7, 0xde, 0xad, 0xbe, 0xef, 0x11, 0x22, 0x33, 0x44};
    uint8_t rbuf[32 + TSR_SRTP_MAX_TRAILER_BYTES];
    memcpy(rbuf, rr, sizeof(rr));
    len = sizeof(rr);
    g_assert_cmpint(tsr_srtp_protect_rtcp(b, rbuf, &len, sizeof(rbuf)), ==, 0);
    g_assert_cmpuint(len, >, sizeof(rr));
    g_assert_cmpint(tsr_srtp_unprotect_rtcp(a, rbuf, &len), ==, 0);
    g_assert_cmpmem(rbuf, len, rr, sizeof(rr));

    /* keys of the wrong direction do not authenticate */
    memcpy(rbuf, rr, sizeof(rr));
    rbuf[4] = 0x55; /* another SSRC, so the replay check cannot answer first */
    len = sizeof(rr);
    g_assert_cmpint(tsr_srtp_protect_rtcp(a, rbuf, &len, sizeof(rbuf)), ==, 0);
    g_assert_cmpint(tsr_srtp_unprotect_rtcp(a, rbuf, &len), ==, TSR_ERR_AUTH);

    tsr_srtp_free(&a);
    tsr_srtp_free(&b);
    g_assert_null(a);
    tsr_srtp_free(&b);
}

static void bad_input(void)
{
    struct tsr_dtls_srtp_keys ka, kb;
    struct tsr_srtp *a = NULL;
    make_keys(TSR_SRTP_PROFILE_AES128_CM_SHA1_80, &ka, &kb);
    ka.salt_len = 12; /* CM needs 14 */
    g_assert_cmpint(tsr_srtp_new(&a, &ka), ==, -EINVAL);
    ka.salt_len = 14;
    ka.profile = TSR_SRTP_PROFILE_NONE;
    g_assert_cmpint(tsr_srtp_new(&a, &ka), ==, -EINVAL);
    g_assert_null(a);
    ka.profile = TSR_SRTP_PROFILE_AES128_CM_SHA1_80;
    g_assert_cmpint(tsr_srtp_new(&a, &ka), ==, 0);

    uint8_t buf[64] = {0x80, 96};
    size_t len = 5;
    g_assert_cmpint(tsr_srtp_unprotect_rtp(a, buf, &len), ==, TSR_ERR_INVALID);
    len = 40;
    buf[0] = 0x00; /* version 0 */
    g_assert_cmpint(tsr_srtp_unprotect_rtp(a, buf, &len), ==, TSR_ERR_INVALID);
    buf[0] = 0x80;
    len = 40;
    g_assert_cmpint(tsr_srtp_protect_rtp(a, buf, &len, 41), ==, -EMSGSIZE);
    g_assert_cmpuint(len, ==, 40);
    uint8_t junk[40];
    memset(junk, 0x80, sizeof(junk));
    len = sizeof(junk);
    g_assert_cmpint(tsr_srtp_unprotect_rtp(a, junk, &len), ==, TSR_ERR_AUTH);
    tsr_srtp_free(&a);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/srtp/roundtrip_aes_cm_sha1_80",
                         GINT_TO_POINTER(TSR_SRTP_PROFILE_AES128_CM_SHA1_80), roundtrip);
    g_test_add_data_func("/srtp/roundtrip_aead_aes_128_gcm",
                         GINT_TO_POINTER(TSR_SRTP_PROFILE_AEAD_AES_128_GCM), roundtrip);
    g_test_add_func("/srtp/bad_input", bad_input);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
