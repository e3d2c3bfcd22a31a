/* A request's header block over the limit gets 431 with the JSON envelope, and
 * one that is still not complete after the idle timeout gets 408 (a client that
 * trickles a byte now and then never trips the idle timeout itself).
 *
 * libsoup 3.2 reads at most 64 KiB of headers and then drops the connection
 * without a word. Tessera puts a pass-through GConverter between the socket and
 * libsoup that counts what libsoup reads until the headers are parsed (got-headers;
 * every connection carries one request, see http.c); past the limit, which is
 * below libsoup's, it writes the refusal to the socket itself and fails the read,
 * so libsoup drops a connection that has had its answer. */
#include "http_head_guard.h"

#include "http_conns.h"

#include <stdbool.h>
#include <string.h>

#define GUARD_KEY "tsr-head-guard"

struct _TsrHeadGuard {
    GObject parent;
    GSocket *sock; /* borrowed: the socket owns the guard (object data) */
    gsize limit;
    gsize seen;
    gint64 deadline_us; /* monotonic: the headers must be in by then */
    gboolean done;
    gboolean refused;
};

static void tsr_head_guard_iface_init(GConverterIface *iface);

G_DEFINE_TYPE_WITH_CODE(TsrHeadGuard, tsr_head_guard, G_TYPE_OBJECT,
                        G_IMPLEMENT_INTERFACE(G_TYPE_CONVERTER, tsr_head_guard_iface_init))

static void tsr_head_guard_init(TsrHeadGuard *g)
{
    (void)g;
}

static void tsr_head_guard_class_init(TsrHeadGuardClass *klass)
{
    (void)klass;
}

static void refuse(TsrHeadGuard *g, bool late)
{
    if (g->refused)
        return;
    g->refused = TRUE;
    char text[96];
    if (late)
        g_strlcpy(text, "the request headers took too long", sizeof text);
    else
        g_snprintf(text, sizeof text, "request headers over the limit of %zu bytes", g->limit);
    tsr_http_conns_refuse(g->sock, late ? 408 : 431,
                          late ? "headers_too_slow" : "headers_too_large", text, true);
}

static GConverterResult guard_convert(GConverter *converter, const void *in, gsize in_size,
                                      void *out, gsize out_size, GConverterFlags flags,
                                      gsize *bytes_read, gsize *bytes_written, GError **error)
{
    TsrHeadGuard *g = TSR_HEAD_GUARD(converter);
    gsize n = MIN(in_size, out_size);
    if (in_size > 0 && out_size == 0) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "no room to pass bytes on");
        return G_CONVERTER_ERROR;
    }
    bool late = !g->done && g_get_monotonic_time() > g->deadline_us;
    if (!g->done && (g->refused || late || g->seen + n > g->limit)) {
        refuse(g, late);
        g_set_error(error, G_IO_ERROR, late ? G_IO_ERROR_TIMED_OUT : G_IO_ERROR_MESSAGE_TOO_LARGE,
                    "request headers %s", late ? "too slow" : "too large");
        return G_CONVERTER_ERROR;
    }
    if (!g->done)
        g->seen += n;
    memcpy(out, in, n);
    *bytes_read = *bytes_written = n;
    if (n == in_size && (flags & G_CONVERTER_INPUT_AT_END))
        return G_CONVERTER_FINISHED;
    if (n == in_size && (flags & G_CONVERTER_FLUSH))
        return G_CONVERTER_FLUSHED;
    if (n == 0) {
        g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT, "waiting for bytes");
        return G_CONVERTER_ERROR;
    }
    return G_CONVERTER_CONVERTED;
}

static void guard_reset(GConverter *converter)
{
    TsrHeadGuard *g = TSR_HEAD_GUARD(converter);
    g->seen = 0;
}

static void tsr_head_guard_iface_init(GConverterIface *iface)
{
    iface->convert = guard_convert;
    iface->reset = guard_reset;
}

GSocketConnection *tsr_http_head_guard_wrap(GSocketConnection *conn, GSocket *sock, gsize limit,
                                            unsigned timeout_s)
{
    TsrHeadGuard *g = g_object_new(TSR_TYPE_HEAD_GUARD, NULL);
    g->sock = sock;
    g->limit = limit;
    g->deadline_us = g_get_monotonic_time() + (gint64)timeout_s * G_USEC_PER_SEC;
    g_object_set_data_full(G_OBJECT(sock), GUARD_KEY, g, g_object_unref);
    GIOStream *base = G_IO_STREAM(conn);
    GInputStream *in =
        g_converter_input_stream_new(g_io_stream_get_input_stream(base), G_CONVERTER(g));
    GIOStream *both = g_simple_io_stream_new(in, g_io_stream_get_output_stream(base));
    g_object_unref(in);
    /* The wrapped streams belong to conn: it lives as long as the wrapper. */
    g_object_set_data_full(G_OBJECT(both), "tsr-conn", g_object_ref(conn), g_object_unref);
    GSocketConnection *wrapped = G_SOCKET_CONNECTION(g_tcp_wrapper_connection_new(both, sock));
    g_object_unref(both);
    return wrapped;
}

void tsr_http_head_guard_done(GSocket *sock)
{
    TsrHeadGuard *g = sock ? g_object_get_data(G_OBJECT(sock), GUARD_KEY) : NULL;
    if (g)
        g->done = TRUE;
}
