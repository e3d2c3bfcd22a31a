/* The HTTP listening socket: accepts connections and hands them to libsoup
 * (see http_listener.c for why Tessera accepts them itself). API loop only. */
#ifndef TESSERA_HTTP_LISTENER_H
#define TESSERA_HTTP_LISTENER_H

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <stdint.h>

struct tsr_http_listener;
struct tsr_http_limits;

/* Purpose: bind addr, listen with `backlog` pending connections and serve each
 * accepted one with `server` (borrowed; must outlive the listener) under
 * `limits` (copied; its strings must outlive the listener): connection caps and
 * the idle timeout. Watches on the thread-default main context. Returns 0 and
 * *out, or -1 with *err set. */
int tsr_http_listener_new(struct tsr_http_listener **out, SoupServer *server, GSocketAddress *addr,
                          int backlog, const struct tsr_http_limits *limits, GError **err);

/* Purpose: the port bound (the real one when addr had port 0). */
uint16_t tsr_http_listener_port(const struct tsr_http_listener *l);

/* Purpose: stop accepting and close the socket; connections already accepted are
 * the server's. Accepts NULL; NULLs *p. */
void tsr_http_listener_free(struct tsr_http_listener **p);

#endif
