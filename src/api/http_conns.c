/* Accepted HTTP connections: a process-wide table by "local|remote" address (the
 * socket under a message) and a count per client address (connection caps).
 * Entries go when libsoup finalizes the connection. Thread-safe: tests run
 * servers on threads of their own. */
#include "http_conns.h"

#include <tessera/http.h>
#include <tessera/metrics.h>

#include <stdio.h>
#include <string.h>

struct conn_entry {
    char *key;     /* "local|remote" */
    char *address; /* the client's IP address */
    GSocket *sock; /* borrowed from its connection */
};

static GMutex lock;
static GHashTable *by_key;     /* key -> struct conn_entry (owned) */
static GHashTable *by_address; /* address (owned) -> count (GUINT_TO_POINTER) */

static char *address_of(GSocketAddress *sa)
{
    if (!sa || !G_IS_INET_SOCKET_ADDRESS(sa))
        return NULL;
    return g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(sa)));
}

static char *conn_key(GSocketAddress *local, GSocketAddress *remote)
{
    char *la = address_of(local), *ra = address_of(remote);
    char *key = NULL;
    if (la && ra)
        key = g_strdup_printf("%s:%u|%s:%u", la,
                              g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local)), ra,
                              g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(remote)));
    g_free(la);
    g_free(ra);
    return key;
}

static void entry_free(gpointer p)
{
    struct conn_entry *e = p;
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(by_address, e->address));
    if (n > 1)
        g_hash_table_insert(by_address, g_strdup(e->address), GUINT_TO_POINTER(n - 1));
    else
        g_hash_table_remove(by_address, e->address);
    g_free(e->key);
    g_free(e->address);
    g_free(e);
}

static void tables_init(void)
{
    if (by_key)
        return;
    by_key = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, entry_free);
    by_address = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static void conn_gone(gpointer data, GObject *where_the_object_was)
{
    (void)where_the_object_was;
    struct conn_entry *e = data;
    g_mutex_lock(&lock);
    g_hash_table_remove(by_key, e->key); /* frees e */
    g_mutex_unlock(&lock);
}

void tsr_http_conns_track(GSocketConnection *conn, GSocket *sock, GSocketAddress *local,
                          GSocketAddress *remote)
{
    char *key = conn_key(local, remote);
    if (!key)
        return;
    struct conn_entry *e = g_new0(struct conn_entry, 1);
    e->key = key;
    e->address = address_of(remote);
    e->sock = sock;
    g_mutex_lock(&lock);
    tables_init();
    g_hash_table_replace(by_key, e->key, e);
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(by_address, e->address));
    g_hash_table_insert(by_address, g_strdup(e->address), GUINT_TO_POINTER(n + 1));
    g_mutex_unlock(&lock);
    g_object_weak_ref(G_OBJECT(conn), conn_gone, e);
}

unsigned tsr_http_conns_total(void)
{
    g_mutex_lock(&lock);
    unsigned n = by_key ? g_hash_table_size(by_key) : 0;
    g_mutex_unlock(&lock);
    return n;
}

bool tsr_http_address_listed(const char *list, GInetAddress *addr)
{
    if (!list || !*list || !addr)
        return false;
    bool found = false;
    char **items = g_strsplit(list, ",", -1);
    for (char **it = items; *it && !found; it++) {
        GInetAddress *a = g_inet_address_new_from_string(g_strstrip(*it));
        found = a && g_inet_address_equal(a, addr);
        g_clear_object(&a);
    }
    g_strfreev(items);
    return found;
}

bool tsr_http_conns_admit(const struct tsr_http_limits *limits, GSocketAddress *remote,
                          const char **why)
{
    char *address = address_of(remote);
    bool proxy =
        G_IS_INET_SOCKET_ADDRESS(remote) &&
        tsr_http_address_listed(limits->trusted_proxies,
                                g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(remote)));
    g_mutex_lock(&lock);
    unsigned total = by_key ? g_hash_table_size(by_key) : 0;
    unsigned mine =
        by_address && address ? GPOINTER_TO_UINT(g_hash_table_lookup(by_address, address)) : 0;
    g_mutex_unlock(&lock);
    g_free(address);
    *why = NULL;
    if (limits->max_connections > 0 && total >= (unsigned)limits->max_connections)
        *why = "too_many_connections";
    else if (!proxy && limits->max_connections_per_address > 0 &&
             mine >= (unsigned)limits->max_connections_per_address)
        *why = "too_many_connections_from_address";
    return *why == NULL;
}

void tsr_http_conns_refuse(GSocket *sock, unsigned status, const char *code, const char *message,
                           bool shut_read)
{
    char body[512];
    int blen = snprintf(body, sizeof body, "{\"error\":\"%s\",\"message\":\"%s\"}", code, message);
    char head[256];
    int hlen = snprintf(
        head, sizeof head,
        "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
        "Content-Length: %d\r\nConnection: close\r\nServer: tessera/" TSR_VERSION "\r\n%s\r\n",
        status, status == 431 ? "Request Header Fields Too Large" : soup_status_get_phrase(status),
        blen, status == 503 ? "Retry-After: 1\r\n" : "");
    char labels[96];
    g_snprintf(labels, sizeof labels, "code=\"%s\"", code);
    tsr_counter_inc(tsr_metrics_counter("tessera_http_refused_total", labels,
                                        "Connections and requests refused at the HTTP layer, "
                                        "before any handler: limits, by code."));
    /* Small enough for any socket buffer; a client that is not reading loses it. */
    g_socket_send(sock, head, (gsize)hlen, NULL, NULL);
    g_socket_send(sock, body, (gsize)blen, NULL, NULL);
    g_socket_shutdown(sock, shut_read, TRUE, NULL);
}

GSocket *tsr_http_message_socket(SoupServerMessage *msg)
{
    GSocket *sock = soup_server_message_get_socket(msg);
    if (sock)
        return sock;
    char *key = conn_key(soup_server_message_get_local_address(msg),
                         soup_server_message_get_remote_address(msg));
    if (!key)
        return NULL;
    g_mutex_lock(&lock);
    struct conn_entry *e = by_key ? g_hash_table_lookup(by_key, key) : NULL;
    sock = e ? e->sock : NULL;
    g_mutex_unlock(&lock);
    g_free(key);
    return sock;
}
