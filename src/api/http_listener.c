/* The HTTP listening socket, accepted by Tessera rather than by libsoup: each
 * connection goes to the server with soup_server_accept_iostream().
 *
 * Why not soup_server_listen(): libsoup 3.2's listener (Debian 12) removes its
 * accept source for good on the first accept() error, so one moment at the fd
 * limit (EMFILE) stops the server from ever accepting again; it also keeps a
 * reference to every accepted GSocket (336 bytes per connection, never freed),
 * and its backlog is GLib's default of 10. Here an accept error pauses accepting
 * and retries with back-off, the backlog is configurable, and every accepted
 * socket is owned by its connection alone. Home thread: the API loop. */
#include "http_listener.h"
#include "http_conns.h"
#include "http_head_guard.h"
#include <tessera/http.h>

#include <tessera/log.h>
#include <tessera/metrics.h>

#include <errno.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#define ACCEPTS_PER_WAKEUP 64 /* then let other sources run */
#define RETRY_FIRST_MS 50     /* after an accept error (fd limit, memory) */
#define RETRY_MAX_MS 1000

struct tsr_http_listener {
    SoupServer *server; /* borrowed */
    struct tsr_http_limits limits;
    GSocket *socket;
    GSource *watch; /* readable: accept; NULL while backing off */
    GSource *retry; /* the back-off timeout, NULL when none */
    unsigned retry_ms;
    bool failing; /* logged the current run of accept errors */
};

static void watch_start(struct tsr_http_listener *l);

static void count_accept_error(const GError *err)
{
    const char *reason = "other";
    if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES))
        reason = "fd_limit";
    else if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
        reason = "no_memory";
    char labels[32];
    g_snprintf(labels, sizeof labels, "reason=\"%s\"", reason);
    tsr_counter_inc(tsr_metrics_counter("tessera_http_accept_errors_total", labels,
                                        "accept() failures on the HTTP socket, by reason; "
                                        "accepting pauses and resumes with back-off."));
}

static gboolean retry_accept(gpointer user)
{
    struct tsr_http_listener *l = user;
    g_source_unref(l->retry);
    l->retry = NULL;
    watch_start(l);
    return G_SOURCE_REMOVE;
}

/* An accept error that is about the process (no fds, no memory), not the peer:
 * stop watching, come back later; the pending connections wait in the backlog. */
static void back_off(struct tsr_http_listener *l, const GError *err)
{
    if (!l->failing)
        TSR_LOG(TSR_LOG_WARN, "http",
                "cannot accept connections: %s; retrying every %u ms up "
                "to %u ms until it works again",
                err->message, RETRY_FIRST_MS, RETRY_MAX_MS);
    l->failing = true;
    g_source_destroy(l->watch);
    g_source_unref(l->watch);
    l->watch = NULL;
    l->retry_ms = l->retry_ms ? MIN(l->retry_ms * 2, RETRY_MAX_MS) : RETRY_FIRST_MS;
    l->retry = g_timeout_source_new(l->retry_ms);
    g_source_set_callback(l->retry, retry_accept, l, NULL);
    g_source_attach(l->retry, g_main_context_get_thread_default());
}

static void hand_over(struct tsr_http_listener *l, GSocket *sock)
{
    GSocketAddress *local = g_socket_get_local_address(sock, NULL);
    GSocketAddress *remote = g_socket_get_remote_address(sock, NULL);
    const char *why = NULL;
    if (!local || !remote) {
        /* The peer reset it before we got here: nothing to serve. */
        g_socket_close(sock, NULL);
    } else if (!tsr_http_conns_admit(&l->limits, remote, &why)) {
        TSR_LOG_RL(TSR_LOG_WARN, "http", 5000, "connection refused: %s", why);
        tsr_http_conns_refuse(sock, 503, why, "the server has too many open connections; try again",
                              true);
        g_socket_close(sock, NULL);
    } else {
        g_socket_set_option(sock, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
        /* headers, bodies and replies that make no progress for this long end */
        g_socket_set_timeout(sock, (guint)l->limits.idle_timeout_s);
        GSocketConnection *plain = g_socket_connection_factory_create_connection(sock);
        GSocketConnection *conn = tsr_http_head_guard_wrap(plain, sock, l->limits.max_header_bytes,
                                                           (unsigned)l->limits.idle_timeout_s);
        g_object_unref(plain);
        tsr_http_conns_track(conn, sock, local, remote);
        GError *err = NULL;
        if (!soup_server_accept_iostream(l->server, G_IO_STREAM(conn), local, remote, &err)) {
            TSR_LOG(TSR_LOG_WARN, "http", "libsoup refused a connection: %s", err->message);
            g_error_free(err);
        }
        g_object_unref(conn);
    }
    g_clear_object(&local);
    g_clear_object(&remote);
}

static gboolean on_readable(GSocket *socket, GIOCondition cond, gpointer user)
{
    (void)socket;
    (void)cond;
    struct tsr_http_listener *l = user;
    for (int i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
        GError *err = NULL;
        GSocket *sock = g_socket_accept(l->socket, NULL, &err);
        if (sock) {
            if (l->failing)
                TSR_LOG(TSR_LOG_INFO, "http", "accepting connections again");
            l->failing = false;
            l->retry_ms = 0;
            hand_over(l, sock);
            g_object_unref(sock);
            continue;
        }
        bool again = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
        bool process_limit = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES) ||
                             g_error_matches(err, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
        if (!again)
            count_accept_error(err);
        if (process_limit) {
            back_off(l, err);
            g_error_free(err);
            return G_SOURCE_REMOVE;
        }
        if (!again) /* the peer's trouble (ECONNABORTED and the like): next one */
            TSR_LOG_RL(TSR_LOG_DEBUG, "http", 5000, "accept: %s", err->message);
        g_error_free(err);
        if (again)
            break;
    }
    return G_SOURCE_CONTINUE;
}

static void watch_start(struct tsr_http_listener *l)
{
    l->watch = g_socket_create_source(l->socket, G_IO_IN, NULL);
    g_source_set_callback(l->watch, (GSourceFunc)(void (*)(void))on_readable, l, NULL);
    g_source_attach(l->watch, g_main_context_get_thread_default());
}

int tsr_http_listener_new(struct tsr_http_listener **out, SoupServer *server, GSocketAddress *addr,
                          int backlog, const struct tsr_http_limits *limits, GError **err)
{
    GSocket *sock = g_socket_new(g_socket_address_get_family(addr), G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, err);
    if (!sock)
        return -1;
    g_socket_set_blocking(sock, FALSE);
    g_socket_set_listen_backlog(sock, backlog);
    if (!g_socket_bind(sock, addr, TRUE, err) || !g_socket_listen(sock, err)) {
        g_object_unref(sock);
        return -1;
    }
    struct tsr_http_listener *l = g_new0(struct tsr_http_listener, 1);
    l->server = server;
    l->limits = *limits;
    l->socket = sock;
    watch_start(l);
    *out = l;
    return 0;
}

uint16_t tsr_http_listener_port(const struct tsr_http_listener *l)
{
    GSocketAddress *local = g_socket_get_local_address(l->socket, NULL);
    uint16_t port = 0;
    if (local && G_IS_INET_SOCKET_ADDRESS(local))
        port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
    g_clear_object(&local);
    return port;
}

void tsr_http_listener_free(struct tsr_http_listener **p)
{
    if (!p || !*p)
        return;
    struct tsr_http_listener *l = *p;
    if (l->watch) {
        g_source_destroy(l->watch);
        g_source_unref(l->watch);
    }
    if (l->retry) {
        g_source_destroy(l->retry);
        g_source_unref(l->retry);
    }
    g_socket_close(l->socket, NULL);
    g_object_unref(l->socket);
    g_free(l);
    *p = NULL;
}
