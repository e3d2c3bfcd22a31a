/* Private to src/net/dtls*.c: the certificate layout and the GnuTLS glue hooks. */
#ifndef TESSERA_NET_DTLS_INTERNAL_H
#define TESSERA_NET_DTLS_INTERNAL_H

#include <tessera/dtls.h>

#include <gnutls/crypto.h>
#include <gnutls/dtls.h>
#include <gnutls/gnutls.h>

struct tsr_dtls_cert {
    gint refs;
    gnutls_certificate_credentials_t cred;
    char fingerprint[3 * 32]; /* "AB:CD:…" of the first certificate's DER */
};

/* GnuTLS verify hook installed on every credentials structure: accepts the peer
 * only when its certificate's SHA-256 equals the session's expected fingerprint.
 * Defined in dtls.c. */
int tsr_dtls_verify_peer(gnutls_session_t session);

/* GnuTLS transport glue (dtls_gnutls.c): push/pull/pull_timeout over the
 * session's datagram queue and send callback. */
void tsr_dtls_gnutls_attach(gnutls_session_t session, struct tsr_dtls *dtls);

/* The glue's view of a tsr_dtls (defined in dtls.c). */
int tsr_dtls_glue_send(struct tsr_dtls *dtls, const uint8_t *data, size_t len);
GBytes *tsr_dtls_glue_pop(struct tsr_dtls *dtls);
bool tsr_dtls_glue_pending(const struct tsr_dtls *dtls);

#endif
