/* The HTTP connections Tessera accepted: who holds how many, the socket under a
 * message, and refusals written straight to a socket (before libsoup has a
 * message to answer, or instead of reading a body that is too large). */
#ifndef TESSERA_HTTP_CONNS_H
#define TESSERA_HTTP_CONNS_H

#include <gio/gio.h>
#include <stdbool.h>

struct tsr_http_limits;

/* Purpose: may a connection from `remote` be served under `limits`? On false,
 * *why is the refusal's machine word ("too_many_connections",
 * "too_many_connections_from_address"). Any thread. */
bool tsr_http_conns_admit(const struct tsr_http_limits *limits, GSocketAddress *remote,
                          const char **why);

/* Purpose: count conn (its socket sock, addresses local/remote) until it is
 * finalized. Any thread. */
void tsr_http_conns_track(GSocketConnection *conn, GSocket *sock, GSocketAddress *local,
                          GSocketAddress *remote);

/* Purpose: live connections, in total and from remote's address. Any thread. */
unsigned tsr_http_conns_total(void);

/* Purpose: write a complete HTTP response (status, JSON {"error","message"},
 * Connection: close) to sock and shut down its sending side (and its receiving
 * side when shut_read). For refusals that must not wait for libsoup: a connection
 * over the limit, a body over the limit. Counts tessera_http_refused_total{code}. */
void tsr_http_conns_refuse(GSocket *sock, unsigned status, const char *code, const char *message,
                           bool shut_read);

/* Purpose: is addr one of the comma-separated IP addresses in `list`? */
bool tsr_http_address_listed(const char *list, GInetAddress *addr);

#endif
