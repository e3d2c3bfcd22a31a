/* STUN server name → address, asynchronously; see media_engine_stun.h. */
#include "media_engine_stun.h"

#include <tessera/err.h>
#include <tessera/log.h>

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

struct stun_waiter {
    engine_stun_fn fn;
    void *data;
};

/* Refcounted: the engine holds one reference, a lookup under way another. */
struct engine_stun {
    gatomicrefcount refs;
    char *host; /* NULL: no STUN server */
    unsigned port;
    char *literal; /* "IP:port" once known */
    int64_t resolved_us;
    GCancellable *cancel; /* of the lookup under way, or NULL */
    GQueue waiters;       /* struct stun_waiter*: joins waiting for the first answer */
};

static void stun_unref(struct engine_stun *s)
{
    if (!g_atomic_ref_count_dec(&s->refs))
        return;
    g_free(s->host);
    g_free(s->literal);
    g_free(s);
}

/* "host:port", "[v6]:port" or "v6:port" → host and port. */
static int parse_hostport(const char *text, char **host, unsigned *port)
{
    const char *colon = strrchr(text, ':');
    char *end = NULL;
    unsigned long p = colon ? strtoul(colon + 1, &end, 10) : 0;
    if (!colon || colon == text || !end || *end || p == 0 || p > 65535)
        return TSR_ERR_CONFIG;
    const char *h = text;
    size_t n = (size_t)(colon - text);
    if (n > 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    *host = g_strndup(h, n);
    *port = (unsigned)p;
    return 0;
}

static void call_waiters(struct engine_stun *s, const char *error)
{
    struct stun_waiter *w;
    while ((w = g_queue_pop_head(&s->waiters))) {
        w->fn(w->data, error ? NULL : s->literal, error);
        g_free(w);
    }
}

/* An IPv4 address when there is one: host candidates are IPv4 on most servers. */
static GInetAddress *pick_address(GList *addrs)
{
    for (GList *l = addrs; l; l = l->next)
        if (g_inet_address_get_family(l->data) == G_SOCKET_FAMILY_IPV4)
            return l->data;
    return addrs ? addrs->data : NULL;
}

static void on_resolved(GObject *source, GAsyncResult *res, gpointer data)
{
    struct engine_stun *s = data;
    GError *err = NULL;
    GList *addrs = g_resolver_lookup_by_name_finish(G_RESOLVER(source), res, &err);
    g_clear_object(&s->cancel);
    char *error = NULL;
    if (addrs) {
        char *ip = g_inet_address_to_string(pick_address(addrs));
        g_free(s->literal);
        s->literal = g_strdup_printf("%s:%u", ip, s->port);
        s->resolved_us = g_get_monotonic_time();
        TSR_LOG(TSR_LOG_INFO, "media", "stun_server %s is %s", s->host, s->literal);
        g_free(ip);
        g_resolver_free_addresses(addrs);
    } else {
        error = g_strdup_printf("cannot resolve stun_server '%s': %s", s->host,
                                err ? err->message : "no address");
        TSR_LOG(s->literal ? TSR_LOG_WARN : TSR_LOG_ERROR, "media", "%s%s", error,
                s->literal ? "; keeping the last address" : "");
    }
    g_clear_error(&err);
    call_waiters(s, s->literal ? NULL : error);
    g_free(error);
    stun_unref(s);
}

static void start_lookup(struct engine_stun *s)
{
    if (s->cancel)
        return;
    s->cancel = g_cancellable_new();
    g_atomic_ref_count_inc(&s->refs);
    GResolver *resolver = g_resolver_get_default();
    g_resolver_lookup_by_name_async(resolver, s->host, s->cancel, on_resolved, s);
    g_object_unref(resolver);
}

int engine_stun_new(struct engine_stun **out, const char *hostport)
{
    struct engine_stun *s = g_new0(struct engine_stun, 1);
    g_atomic_ref_count_init(&s->refs);
    g_queue_init(&s->waiters);
    if (hostport && *hostport) {
        if (parse_hostport(hostport, &s->host, &s->port) != 0) {
            TSR_LOG(TSR_LOG_ERROR, "media", "bad stun_server \"%s\" (want host:port)", hostport);
            stun_unref(s);
            return TSR_ERR_CONFIG;
        }
        if (g_hostname_is_ip_address(s->host))
            s->literal = g_strdup_printf("%s:%u", s->host, s->port);
        else
            start_lookup(s); /* before the first join needs it */
    }
    *out = s;
    return 0;
}

void engine_stun_free(struct engine_stun **ps)
{
    if (!ps || !*ps)
        return;
    struct engine_stun *s = *ps;
    *ps = NULL;
    if (s->cancel)
        g_cancellable_cancel(s->cancel); /* on_resolved still runs, from the loop */
    stun_unref(s);
}

void engine_stun_use(struct engine_stun *s, engine_stun_fn fn, void *data)
{
    if (!s->host) {
        fn(data, NULL, NULL);
        return;
    }
    if (s->literal) {
        if (!g_hostname_is_ip_address(s->host) &&
            g_get_monotonic_time() - s->resolved_us > ENGINE_STUN_REFRESH_S * G_USEC_PER_SEC)
            start_lookup(s); /* in the background; this join uses what is known */
        fn(data, s->literal, NULL);
        return;
    }
    struct stun_waiter *w = g_new(struct stun_waiter, 1);
    w->fn = fn;
    w->data = data;
    g_queue_push_tail(&s->waiters, w);
    start_lookup(s);
}
