/* HTTP listener on the GLib main loop (libsoup-3.0), plus the small helpers every
 * API front uses for JSON replies and request bodies.
 *
 * Home thread: the API loop (the thread running the GMainContext the server was
 * created on). Handlers run there; they must not block and must not touch media,
 * only post commands to conferences. Modules add routes with soup_server_add_handler()
 * on tsr_http_soup_server(); the built-in routes are /healthz, /metrics and a JSON 404
 * for everything no one claimed. */
#ifndef TESSERA_HTTP_H
#define TESSERA_HTTP_H

#include <jansson.h>
#include <libsoup/soup.h>
#include <stddef.h>
#include <stdint.h>

struct tsr_http;

/* Purpose: create the server and start listening on host:port.
 * Returns 0 and *out, TSR_ERR_IO when the address cannot be bound (the message
 * is logged), or TSR_ERR_INVALID for a bad host. Thread: the API loop. */
int tsr_http_new(struct tsr_http **out, const char *host, uint16_t port);

/* Defaults of the [server] limits (config/tessera.conf says why). */
#define TSR_HTTP_DEFAULT_BACKLOG 511
#define TSR_HTTP_DEFAULT_MAX_CONNECTIONS 4096
#define TSR_HTTP_DEFAULT_MAX_CONNECTIONS_PER_ADDRESS 256
#define TSR_HTTP_DEFAULT_IDLE_TIMEOUT_S 30
#define TSR_HTTP_DEFAULT_MAX_BODY_BYTES (1024 * 1024)
/* Below libsoup's own 64 KiB, past which it drops the connection unanswered. */
#define TSR_HTTP_DEFAULT_MAX_HEADER_BYTES (32 * 1024)
#define TSR_HTTP_MAX_HEADER_BYTES_CEILING (60 * 1024)
#define TSR_HTTP_DEFAULT_TRUSTED_PROXIES "127.0.0.1, ::1"

/* What one client may hold. Zero fields take the defaults above. */
struct tsr_http_limits {
    int max_connections;             /* open connections in total */
    int max_connections_per_address; /* from one client address; trusted proxies exempt */
    int idle_timeout_s;              /* a request or reply without progress this long ends */
    size_t max_body_bytes;           /* refused with 413 before the body is read */
    size_t max_header_bytes;         /* request line + headers; more is refused with 431 */
    const char *trusted_proxies;     /* comma-separated IPs whose X-Forwarded-For counts */
};

/* Listener settings ([server]); zero fields take the defaults. */
struct tsr_http_options {
    int listen_backlog;
    struct tsr_http_limits limits;
};

/* Purpose: the client address of msg: the connection's peer, or the last
 * address of X-Forwarded-For when the peer is a trusted proxy. Newly allocated
 * (g_free); NULL when unknown. Thread: the API loop. */
char *tsr_http_client_address(SoupServerMessage *msg);

/* Purpose: tsr_http_new() with settings. Same contract. */
int tsr_http_new_with(struct tsr_http **out, const char *host, uint16_t port,
                      const struct tsr_http_options *opts);

/* Purpose: the socket under msg's connection (to shut down a reader that fell
 * behind), or NULL. Borrowed: valid while the connection lives. Any thread. */
GSocket *tsr_http_message_socket(SoupServerMessage *msg);

/* Purpose: stop listening, drop every connection, free. Accepts NULL; NULLs *p. */
void tsr_http_free(struct tsr_http **p);

/* Purpose: the libsoup server, for adding handlers. Borrowed; lives as long as http. */
SoupServer *tsr_http_soup_server(struct tsr_http *http);

/* Purpose: the port actually bound (useful with port 0 in tests). */
uint16_t tsr_http_port(const struct tsr_http *http);

/* Purpose: reply with `body` as application/json. Takes ownership of body. */
void tsr_http_reply_json(SoupServerMessage *msg, unsigned status, json_t *body);

/* Purpose: reply {"error": code, "message": message} with `status`; also counts
 * tessera_http_errors_total{code=…}. code is a stable machine word ("not_found",
 * "wrong_pin"); message is for humans. */
void tsr_http_reply_error(SoupServerMessage *msg, unsigned status, const char *code,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The built-in routes as a front (include/tessera/front.h): the plain error shape
 * and its counter; fronts with the same shape use tsr_http_write_error. */
struct tsr_front_desc;
struct tsr_front_error;
extern const struct tsr_front_desc tsr_http_front;
/* Purpose: write {"error": e->code, "message": e->text} with e->status (not counted). */
void tsr_http_write_error(SoupServerMessage *msg, const struct tsr_front_error *e);

/* Purpose: set Retry-After: `seconds` on the response (a refusal that passes, such
 * as a server at capacity). Thread: the API loop. */
void tsr_http_set_retry_after(SoupServerMessage *msg, unsigned seconds);

/* Purpose: answer msg later, when the conference call it waits for completes (a
 * join or an offer answered on a net loop): pause it and hold a reference, so the
 * API loop goes on serving meanwhile. Returns msg. Thread: the API loop. */
SoupServerMessage *tsr_http_pause(SoupServerMessage *msg);
/* Purpose: send what was written into a paused msg and drop the reference; NULLs
 * *msg, accepts NULL. A connection that closed meanwhile is skipped quietly. */
void tsr_http_resume(SoupServerMessage **msg);

/* Purpose: parse the request body as a JSON object of at most max_bytes, duplicate
 * keys refused (tsr_front_parse_json).
 * Returns 0 and *out (caller json_decref()s), or TSR_ERR_FULL (too large),
 * TSR_ERR_INVALID (not JSON / not an object); on failure *err_text is a newly
 * allocated message for the client (g_free). */
int tsr_http_read_json(SoupServerMessage *msg, size_t max_bytes, json_t **out, char **err_text);

/* Purpose: add the CORS headers the browser APIs need (any origin, the usual methods
 * and headers: tsr_http_front's policy); answer OPTIONS preflights with 204.
 * Returns 1 when msg was a preflight (already answered), else 0. */
int tsr_http_cors(SoupServerMessage *msg);

#endif
