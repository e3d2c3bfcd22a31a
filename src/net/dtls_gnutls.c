/* GnuTLS transport callbacks for DTLS over ICE: records never touch a socket
 * here. pull() hands GnuTLS one queued datagram (DTLS needs datagram
 * boundaries kept); push() sends a record through the ICE agent. Everything is
 * non-blocking: an empty queue is EAGAIN and the handshake resumes on the next
 * datagram or retransmission timer. */
#include "dtls_internal.h"

#include <errno.h>
#include <string.h>

static ssize_t push(gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
    /* A failed send is a lost datagram: DTLS retransmits, so report success
     * rather than making GnuTLS abort the handshake. */
    tsr_dtls_glue_send(ptr, data, len);
    return (ssize_t)len;
}

static ssize_t pull(gnutls_transport_ptr_t ptr, void *buf, size_t size)
{
    struct tsr_dtls *dtls = ptr;
    GBytes *b = tsr_dtls_glue_pop(dtls);
    if (!b) {
        errno = EAGAIN;
        return -1;
    }
    gsize n = 0;
    const void *d = g_bytes_get_data(b, &n);
    if (n > size)
        n = size; /* GnuTLS reads with a full-MTU buffer; truncation = a bad record */
    memcpy(buf, d, n);
    g_bytes_unref(b);
    return (ssize_t)n;
}

static int pull_timeout(gnutls_transport_ptr_t ptr, unsigned int ms)
{
    (void)ms; /* never block: the net loop must keep running */
    return tsr_dtls_glue_pending(ptr) ? 1 : 0;
}

void tsr_dtls_gnutls_attach(gnutls_session_t session, struct tsr_dtls *dtls)
{
    gnutls_transport_set_ptr(session, dtls);
    gnutls_transport_set_push_function(session, push);
    gnutls_transport_set_pull_function(session, pull);
    gnutls_transport_set_pull_timeout_function(session, pull_timeout);
}
