/* The guard on a connection's request headers: see http_head_guard.c. */
#ifndef TESSERA_HTTP_HEAD_GUARD_H
#define TESSERA_HTTP_HEAD_GUARD_H

#include <gio/gio.h>

#define TSR_TYPE_HEAD_GUARD (tsr_head_guard_get_type())
G_DECLARE_FINAL_TYPE(TsrHeadGuard, tsr_head_guard, TSR, HEAD_GUARD, GObject)

/* Purpose: the connection libsoup is given instead of conn (socket sock): reads
 * pass through a counter until tsr_http_head_guard_done(sock); past `limit` bytes
 * the client gets 431 {"error":"headers_too_large"}, and a read more than
 * timeout_s after now with the headers still incomplete gets 408
 * {"error":"headers_too_slow"} (both counted in tessera_http_refused_total); the
 * read fails. Ownership: new reference; it keeps conn alive. Thread: the API loop. */
GSocketConnection *tsr_http_head_guard_wrap(GSocketConnection *conn, GSocket *sock, gsize limit,
                                            unsigned timeout_s);

/* Purpose: the request on sock has its headers (got-headers): stop counting.
 * Accepts NULL or a socket without a guard. */
void tsr_http_head_guard_done(GSocket *sock);

#endif
