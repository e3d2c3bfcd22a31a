/* HTTP listener: libsoup-3.0 server on the API loop, built-in /healthz and
 * /metrics, JSON errors, and body/CORS helpers shared by the API fronts. */
#include <tessera/http.h>
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

/* Every response closes its connection. libsoup 3.2 (Debian 12) never closes a
 * keep-alive connection after the client has closed its end: each one would stay
 * in CLOSE_WAIT and leak a descriptor (fixed upstream in 3.3.0). A new TCP
 * connection per API call costs little; event streams are long-lived anyway. */
static void count_request(SoupServer *server, SoupServerMessage *msg, gpointer user)
{
    (void)server, (void)user;
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection",
                                 "close");
    tsr_counter_inc(tsr_metrics_counter("tessera_http_requests_total", NULL,
                                        "HTTP requests received."));
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
    http->server = soup_server_new("server-header", "tessera/" TSR_VERSION, NULL);
    soup_server_add_handler(http->server, NULL, handle_not_found, NULL, NULL);
    soup_server_add_handler(http->server, "/healthz", handle_healthz, NULL, NULL);
    soup_server_add_handler(http->server, "/metrics", handle_metrics, NULL, NULL);
    g_signal_connect(http->server, "request-started", G_CALLBACK(count_request), NULL);
    if (tsr_http_listener_new(&http->listener, http->server, sa, backlog, &err) != 0) {
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
