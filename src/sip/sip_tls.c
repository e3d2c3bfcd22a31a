/* SIP over TLS (RFC 3261 §26, `sips:`): Sofia-SIP's TLS transport reads its key and
 * certificate from a directory (agent.pem: the private key and the certificate
 * chain; cafile.pem: the CAs it trusts). [sip] certificate and private_key are
 * PEM files anywhere, so the front makes a private directory of that shape at
 * start-up and removes it when it stops. Home thread: the API loop. */
#include "sip_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>

#include <sofia-sip/sip_tag.h>

#include <glib/gstdio.h>
#include <string.h>

/* Reads a PEM file that must hold `what` ("CERTIFICATE", "PRIVATE KEY"). */
static char *read_pem(const char *path, const char *what, const char *key)
{
    char *text = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(path, &text, NULL, &err)) {
        TSR_LOG(TSR_LOG_ERROR, "sip", "[sip] %s: %s", key, err->message);
        g_error_free(err);
        return NULL;
    }
    if (!strstr(text, "-----BEGIN ") || !strstr(text, what)) {
        TSR_LOG(TSR_LOG_ERROR, "sip", "[sip] %s: %s holds no PEM %s", key, path, what);
        g_free(text);
        return NULL;
    }
    return text;
}

static bool write_private(const char *dir, const char *name, const char *a, const char *b)
{
    char *path = g_build_filename(dir, name, NULL);
    char *text = g_strconcat(a, b ? "\n" : "", b ? b : "", NULL);
    GError *err = NULL;
    bool ok = g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_NONE, 0600, &err);
    if (!ok) {
        TSR_LOG(TSR_LOG_ERROR, "sip", "cannot write %s: %s", path, err->message);
        g_error_free(err);
    }
    g_free(text);
    g_free(path);
    return ok;
}

int tsr_sip_tls_dir_new(const char *certificate, const char *private_key, char **out)
{
    *out = NULL;
    char *cert = read_pem(certificate, "CERTIFICATE", "certificate");
    char *key = cert ? read_pem(private_key, "PRIVATE KEY", "private_key") : NULL;
    if (!key) {
        g_free(cert);
        return TSR_ERR_INVALID;
    }
    GError *err = NULL;
    char *dir = g_dir_make_tmp("tessera-sip-tls-XXXXXX", &err); /* mode 0700 */
    bool ok = dir != NULL;
    if (!ok) {
        TSR_LOG(TSR_LOG_ERROR, "sip", "cannot make a TLS directory: %s", err->message);
        g_error_free(err);
    }
    ok = ok && write_private(dir, "agent.pem", key, cert) &&
         write_private(dir, "cafile.pem", cert, NULL);
    memset(key, 0, strlen(key));
    g_free(key);
    g_free(cert);
    if (!ok) {
        tsr_sip_tls_dir_free(dir);
        return TSR_ERR_IO;
    }
    *out = dir;
    return 0;
}

void tsr_sip_tls_dir_free(char *dir)
{
    if (!dir)
        return;
    static const char *const files[] = {"agent.pem", "cafile.pem"};
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        char *path = g_build_filename(dir, files[i], NULL);
        g_unlink(path);
        g_free(path);
    }
    g_rmdir(dir);
    g_free(dir);
}

char *tsr_sip_tls_contact(const sip_t *sip, uint16_t tls_port)
{
    const sip_via_t *via = sip->sip_via;
    if (!via || !via->v_protocol || g_ascii_strcasecmp(via->v_protocol, "SIP/2.0/TLS") != 0 ||
        !sip->sip_request || !sip->sip_request->rq_url->url_host)
        return NULL;
    const url_t *u = sip->sip_request->rq_url;
    if (strpbrk(u->url_host, "<>\"; ") || (u->url_port && strspn(u->url_port, "0123456789") !=
                                                               strlen(u->url_port)))
        return NULL;
    if (u->url_port)
        return g_strdup_printf("<sip:%s:%s;transport=tls>", u->url_host, u->url_port);
    return g_strdup_printf("<sip:%s:%u;transport=tls>", u->url_host, tls_port ? tls_port : 5061);
}
