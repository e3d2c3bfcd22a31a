/* HTTP listener: libsoup-3.0 server on the API loop, built-in /healthz and
 * /metrics, JSON errors, and body/CORS helpers shared by the API fronts. */
#include <tessera/http.h>
#include "http_conns.h"
#include "http_head_guard.h"
#include "http_listener.h"
#include <tessera/err.h>
#include <tessera/front.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <glib.h>
#include <stdio.h>
#include <string.h>

/* Home thread: the API loop. */
struct tsr_http {
    SoupServer *server;
    struct tsr_http_listener *listener;
    struct tsr_http_limits limits; /* defaults filled in; trusted_proxies owned */
    uint16_t port;
};

void tsr_http_reply_json(SoupServerMessage *msg, unsigned status, json_t *body)
{
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(9)) : NULL;
    soup_server_message_set_status(msg, status, NULL);
    if (text) {
        soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text,
                                         strlen(text));
    }
    json_decref(body);
}

/* Errors of the built-in routes and of fronts that use the plain {"error",
 * "message"} shape, counted in tessera_http_errors_total{code}. */
const struct tsr_front_desc tsr_http_front = {
    .name = "http",
    .prefix = "/",
    .path_base = "/",
    .cors = {.methods = TSR_FRONT_CORS_ALL_METHODS, .headers = TSR_FRONT_CORS_ALL_HEADERS},
    .error_metric = "tessera_http_errors_total",
    .error_metric_help = "HTTP requests answered with an error, by error code.",
    .write_error = tsr_http_write_error,
};

void tsr_http_write_error(SoupServerMessage *msg, const struct tsr_front_error *e)
{
    tsr_http_reply_json(msg, e->status,
                        json_pack("{s:s, s:s}", "error", e->code, "message", e->text));
}

void tsr_http_reply_error(SoupServerMessage *msg, unsigned status, const char *code,
                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tsr_front_failv(&tsr_http_front, msg, status, code, fmt, ap);
    va_end(ap);
}

void tsr_http_set_retry_after(SoupServerMessage *msg, unsigned seconds)
{
    char value[16];
    g_snprintf(value, sizeof value, "%u", seconds);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Retry-After",
                                 value);
}

/* libsoup clears a message's I/O when its connection goes; unpausing it then is an
 * error, so a paused message remembers that it lost its connection. */
#define GONE_KEY "tsr-http-gone"

static void on_paused_disconnected(SoupServerMessage *msg, gpointer user)
{
    (void)user;
    g_object_set_data(G_OBJECT(msg), GONE_KEY, GINT_TO_POINTER(1));
}

SoupServerMessage *tsr_http_pause(SoupServerMessage *msg)
{
    g_object_ref(msg);
    g_signal_connect(msg, "disconnected", G_CALLBACK(on_paused_disconnected), NULL);
    soup_server_message_pause(msg);
    return msg;
}

void tsr_http_resume(SoupServerMessage **pmsg)
{
    SoupServerMessage *msg = pmsg ? *pmsg : NULL;
    if (!msg)
        return;
    *pmsg = NULL;
    g_signal_handlers_disconnect_by_func(msg, on_paused_disconnected, NULL);
    if (!g_object_get_data(G_OBJECT(msg), GONE_KEY))
        soup_server_message_unpause(msg);
    g_object_unref(msg);
}

int tsr_http_read_json(SoupServerMessage *msg, size_t max_bytes, json_t **out, char **err_text)
{
    SoupMessageBody *body = soup_server_message_get_request_body(msg);
    return tsr_front_parse_json((const uint8_t *)body->data, (size_t)body->length, max_bytes, 0,
                                out, err_text);
}

int tsr_http_cors(SoupServerMessage *msg)
{
    return tsr_front_cors_apply(msg, &tsr_http_front.cors);
}

static void handle_healthz(SoupServer *server, SoupServerMessage *msg, const char *path,
                           GHashTable *query, gpointer user)
{
    (void)server, (void)path, (void)query, (void)user;
    if (tsr_http_cors(msg))
        return;
    const char *method = soup_server_message_get_method(msg);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        tsr_http_reply_error(msg, 405, "method_not_allowed", "%s is not allowed on /healthz",
                             method);
        return;
    }
    tsr_http_reply_json(msg, 200,
                        json_pack("{s:s, s:s, s:f}", "status", "ok", "version", TSR_VERSION,
                                  "uptime_s", tsr_log_uptime_s()));
}

static void handle_metrics(SoupServer *server, SoupServerMessage *msg, const char *path,
                           GHashTable *query, gpointer user)
{
    (void)server, (void)path, (void)query, (void)user;
    if (strcmp(soup_server_message_get_method(msg), "GET") != 0) {
        tsr_http_reply_error(msg, 405, "method_not_allowed", "only GET is allowed on /metrics");
        return;
    }
    char *text = tsr_metrics_render();
    soup_server_message_set_status(msg, 200, NULL);
    soup_server_message_set_response(msg, "text/plain; version=0.0.4; charset=utf-8",
                                     SOUP_MEMORY_TAKE, text, strlen(text));
}

/* Fallback for every path no module claimed. */
static void handle_not_found(SoupServer *server, SoupServerMessage *msg, const char *path,
                             GHashTable *query, gpointer user)
{
    (void)server, (void)query, (void)user;
    if (tsr_http_cors(msg))
        return;
    tsr_http_reply_error(msg, 404, "not_found", "no resource at %s", path);
}

/* A body over the limit is refused as soon as that is known: from Content-Length
 * when the headers arrive, else (chunked) when the chunks read so far pass it.
 * libsoup would read the whole body into memory before any handler ran. */
static void refuse_body(SoupServerMessage *msg, struct tsr_http *http)
{
    soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
    if (g_object_get_data(G_OBJECT(msg), "tsr-refused"))
        return;
    g_object_set_data(G_OBJECT(msg), "tsr-refused", msg);
    /* no handler runs for it; what is still sent is read and dropped until the
     * client, having its answer, closes (closing first would reset the answer) */
    soup_server_message_set_status(msg, 413, NULL);
    GSocket *sock = tsr_http_message_socket(msg);
    if (!sock)
        return;
    char text[96];
    g_snprintf(text, sizeof text, "request body over the limit of %zu bytes",
               http->limits.max_body_bytes);
    tsr_http_conns_refuse(sock, 413, "body_too_large", text, false);
}

static void on_got_headers(SoupServerMessage *msg, gpointer user)
{
    struct tsr_http *http = user;
    tsr_http_head_guard_done(tsr_http_message_socket(msg));
    SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
    if (soup_message_headers_get_encoding(h) == SOUP_ENCODING_CONTENT_LENGTH &&
        soup_message_headers_get_content_length(h) > (goffset)http->limits.max_body_bytes)
        refuse_body(msg, http);
}

static void on_got_chunk(SoupServerMessage *msg, GBytes *chunk, gpointer user)
{
    struct tsr_http *http = user;
    gsize seen = GPOINTER_TO_SIZE(g_object_get_data(G_OBJECT(msg), "tsr-body-bytes"));
    seen += g_bytes_get_size(chunk);
    g_object_set_data(G_OBJECT(msg), "tsr-body-bytes", GSIZE_TO_POINTER(seen));
    if (seen > http->limits.max_body_bytes)
        refuse_body(msg, http);
}

/* Every response closes its connection. libsoup 3.2 (Debian 12) never closes a
 * keep-alive connection after the client has closed its end: each one would stay
 * in CLOSE_WAIT and leak a descriptor (fixed upstream in 3.3.0). A new TCP
 * connection per API call costs little; event streams are long-lived anyway. */
static void on_request_started(SoupServer *server, SoupServerMessage *msg, gpointer user)
{
    (void)server;
    struct tsr_http *http = user;
    g_object_set_data(G_OBJECT(msg), "tsr-http", http);
    g_signal_connect(msg, "got-headers", G_CALLBACK(on_got_headers), http);
    g_signal_connect(msg, "got-chunk", G_CALLBACK(on_got_chunk), http);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection",
                                 "close");
    tsr_counter_inc(
        tsr_metrics_counter("tessera_http_requests_total", NULL, "HTTP requests received."));
}

/* libsoup answers some malformed requests itself before any handler (a path that
 * decodes to "/../" or holds %00): give those the JSON envelope every API promises
 * instead of an empty body. */
static void on_request_read(SoupServer *server, SoupServerMessage *msg, gpointer user)
{
    (void)server, (void)user;
    unsigned status = soup_server_message_get_status(msg);
    if (status < 400 || g_object_get_data(G_OBJECT(msg), "tsr-refused"))
        return;
    SoupMessageBody *body = soup_server_message_get_response_body(msg);
    if (body && body->length > 0)
        return;
    const char *code = status == 400 ? "bad_request" : "http_error";
    char text[96];
    g_snprintf(text, sizeof text, "the request is malformed (HTTP %u)", status);
    tsr_http_reply_error(msg, status, code, "%s", text);
}

char *tsr_http_client_address(SoupServerMessage *msg)
{
    GSocketAddress *peer = soup_server_message_get_remote_address(msg);
    if (!peer || !G_IS_INET_SOCKET_ADDRESS(peer))
        return NULL;
    GInetAddress *ip = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(peer));
    struct tsr_http *http = g_object_get_data(G_OBJECT(msg), "tsr-http");
    const char *fwd = soup_message_headers_get_list(soup_server_message_get_request_headers(msg),
                                                    "X-Forwarded-For");
    if (http && fwd && tsr_http_address_listed(http->limits.trusted_proxies, ip)) {
        /* the proxy appends the address it saw last: earlier ones are the client's word */
        const char *last = strrchr(fwd, ',');
        char *cand = g_strstrip(g_strdup(last ? last + 1 : fwd));
        GInetAddress *parsed = g_inet_address_new_from_string(cand);
        if (parsed) {
            g_object_unref(parsed);
            return cand;
        }
        g_free(cand);
    }
    return g_inet_address_to_string(ip);
}

static void limits_fill(struct tsr_http_limits *out, const struct tsr_http_limits *in)
{
    out->max_connections =
        in->max_connections > 0 ? in->max_connections : TSR_HTTP_DEFAULT_MAX_CONNECTIONS;
    out->max_connections_per_address = in->max_connections_per_address > 0
                                           ? in->max_connections_per_address
                                           : TSR_HTTP_DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
    out->idle_timeout_s =
        in->idle_timeout_s > 0 ? in->idle_timeout_s : TSR_HTTP_DEFAULT_IDLE_TIMEOUT_S;
    out->max_body_bytes =
        in->max_body_bytes > 0 ? in->max_body_bytes : TSR_HTTP_DEFAULT_MAX_BODY_BYTES;
    out->max_header_bytes =
        in->max_header_bytes > 0
            ? MIN(in->max_header_bytes, (size_t)TSR_HTTP_MAX_HEADER_BYTES_CEILING)
            : TSR_HTTP_DEFAULT_MAX_HEADER_BYTES;
    out->trusted_proxies =
        g_strdup(in->trusted_proxies ? in->trusted_proxies : TSR_HTTP_DEFAULT_TRUSTED_PROXIES);
}

int tsr_http_new(struct tsr_http **out, const char *host, uint16_t port)
{
    return tsr_http_new_with(out, host, port, &(struct tsr_http_options){0});
}

int tsr_http_new_with(struct tsr_http **out, const char *host, uint16_t port,
                      const struct tsr_http_options *opts)
{
    int backlog = opts->listen_backlog > 0 ? opts->listen_backlog : TSR_HTTP_DEFAULT_BACKLOG;
    GError *err = NULL;
    GInetAddress *addr = g_inet_address_new_from_string(host);
    if (!addr && strcmp(host, "localhost") == 0)
        addr = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    if (!addr) {
        TSR_LOG(TSR_LOG_ERROR, "http", "listen address '%s' is not an IP address", host);
        return TSR_ERR_INVALID;
    }
    GSocketAddress *sa = g_inet_socket_address_new(addr, port);
    g_object_unref(addr);
    struct tsr_http *http = g_new0(struct tsr_http, 1);
    limits_fill(&http->limits, &opts->limits);
    http->server = soup_server_new("server-header", "tessera/" TSR_VERSION, NULL);
    soup_server_add_handler(http->server, NULL, handle_not_found, NULL, NULL);
    soup_server_add_handler(http->server, "/healthz", handle_healthz, NULL, NULL);
    soup_server_add_handler(http->server, "/metrics", handle_metrics, NULL, NULL);
    g_signal_connect(http->server, "request-started", G_CALLBACK(on_request_started), http);
    g_signal_connect(http->server, "request-read", G_CALLBACK(on_request_read), http);
    if (tsr_http_listener_new(&http->listener, http->server, sa, backlog, &http->limits, &err) !=
        0) {
        TSR_LOG(TSR_LOG_ERROR, "http", "cannot listen on %s:%u: %s", host, port, err->message);
        g_error_free(err);
        g_object_unref(sa);
        tsr_http_free(&http);
        return TSR_ERR_IO;
    }
    g_object_unref(sa);
    http->port = tsr_http_listener_port(http->listener);
    TSR_LOG(TSR_LOG_INFO, "http", "listening on http://%s:%u/", host, http->port);
    *out = http;
    return 0;
}

void tsr_http_free(struct tsr_http **p)
{
    if (!p || !*p)
        return;
    struct tsr_http *http = *p;
    tsr_http_listener_free(&http->listener);
    if (http->server) {
        soup_server_disconnect(http->server);
        g_object_unref(http->server);
    }
    g_free((char *)http->limits.trusted_proxies);
    g_free(http);
    *p = NULL;
}

SoupServer *tsr_http_soup_server(struct tsr_http *http)
{
    return http->server;
}

uint16_t tsr_http_port(const struct tsr_http *http)
{
    return http->port;
}
