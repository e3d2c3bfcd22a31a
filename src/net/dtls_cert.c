/* DTLS certificates: generated ECDSA P-256 or loaded PEM; see include/net/tessera/dtls.h.
 *
 * One certificate serves every participant: its credentials structure is shared
 * read-only by all GnuTLS sessions (GnuTLS allows that across threads), and its
 * SHA-256 fingerprint goes into every answer. */
#include "dtls_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>

#include <errno.h>
#include <gnutls/x509.h>
#include <string.h>
#include <time.h>

static int fingerprint_of(struct tsr_dtls_cert *c)
{
    gnutls_datum_t der = {0};
    uint8_t digest[32];
    int rc = gnutls_certificate_get_crt_raw(c->cred, 0, 0, &der);
    if (rc < 0 || gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, digest) < 0)
        return TSR_ERR_CRYPTO;
    return tsr_sdp_format_fingerprint(digest, sizeof(digest), c->fingerprint,
                                      sizeof(c->fingerprint)) == 0
               ? 0
               : TSR_ERR_CRYPTO;
}

static struct tsr_dtls_cert *cert_alloc(void)
{
    struct tsr_dtls_cert *c = g_new0(struct tsr_dtls_cert, 1);
    c->refs = 1;
    if (gnutls_certificate_allocate_credentials(&c->cred) < 0) {
        g_free(c);
        return NULL;
    }
    /* Peer certificates are self-signed by design; the fingerprint is the trust. */
    gnutls_certificate_set_verify_function(c->cred, tsr_dtls_verify_peer);
    return c;
}

/* Fills crt as a self-signed certificate for key. */
static int self_sign(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
    uint8_t serial[16];
    time_t now = time(NULL);
    if (gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial)) < 0)
        return TSR_ERR_CRYPTO;
    serial[0] &= 0x7f; /* a positive INTEGER */
    if (gnutls_x509_crt_set_version(crt, 3) < 0 ||
        gnutls_x509_crt_set_serial(crt, serial, sizeof(serial)) < 0 ||
        gnutls_x509_crt_set_activation_time(crt, now - 24 * 3600) < 0 ||
        gnutls_x509_crt_set_expiration_time(crt, now + 30 * 24 * 3600) < 0 ||
        gnutls_x509_crt_set_dn(crt, "CN=tessera", NULL) < 0 ||
        gnutls_x509_crt_set_key(crt, key) < 0 ||
        gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0) < 0)
        return TSR_ERR_CRYPTO;
    return 0;
}

int tsr_dtls_cert_generate(struct tsr_dtls_cert **out)
{
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    struct tsr_dtls_cert *c = NULL;
    int rc = TSR_ERR_CRYPTO;

    if (!out)
        return -EINVAL;
    c = cert_alloc();
    if (!c)
        return -ENOMEM;
    if (gnutls_x509_privkey_init(&key) < 0 || gnutls_x509_crt_init(&crt) < 0)
        goto out;
    if (gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                     GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0) < 0)
        goto out;
    rc = self_sign(crt, key);
    if (rc == 0 && gnutls_certificate_set_x509_key(c->cred, &crt, 1, key) < 0)
        rc = TSR_ERR_CRYPTO;
    if (rc == 0)
        rc = fingerprint_of(c);
out:
    if (crt)
        gnutls_x509_crt_deinit(crt);
    if (key)
        gnutls_x509_privkey_deinit(key);
    if (rc == 0)
        *out = c;
    else
        tsr_dtls_cert_unref(&c);
    return rc;
}

int tsr_dtls_cert_load(struct tsr_dtls_cert **out, const char *cert_path, const char *key_path)
{
    struct tsr_dtls_cert *c = NULL;
    int rc;
    if (!out || !cert_path || !key_path)
        return -EINVAL;
    if (!g_file_test(cert_path, G_FILE_TEST_IS_REGULAR) ||
        !g_file_test(key_path, G_FILE_TEST_IS_REGULAR)) {
        TSR_LOG(TSR_LOG_ERROR, "dtls", "cannot read certificate %s or key %s", cert_path, key_path);
        return TSR_ERR_IO;
    }
    c = cert_alloc();
    if (!c)
        return -ENOMEM;
    rc = gnutls_certificate_set_x509_key_file(c->cred, cert_path, key_path, GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
        TSR_LOG(TSR_LOG_ERROR, "dtls", "bad PEM certificate %s / key %s: %s", cert_path, key_path,
                gnutls_strerror(rc));
        rc = TSR_ERR_CRYPTO;
    } else {
        rc = fingerprint_of(c);
    }
    if (rc == 0)
        *out = c;
    else
        tsr_dtls_cert_unref(&c);
    return rc;
}

struct tsr_dtls_cert *tsr_dtls_cert_ref(struct tsr_dtls_cert *cert)
{
    if (cert)
        g_atomic_int_inc(&cert->refs);
    return cert;
}

void tsr_dtls_cert_unref(struct tsr_dtls_cert **cert)
{
    if (!cert || !*cert)
        return;
    if (g_atomic_int_dec_and_test(&(*cert)->refs)) {
        gnutls_certificate_free_credentials((*cert)->cred);
        g_free(*cert);
    }
    *cert = NULL;
}

const char *tsr_dtls_cert_fingerprint(const struct tsr_dtls_cert *cert)
{
    return cert ? cert->fingerprint : "";
}
