/* A non-blocking UDP socket on 127.0.0.1 at a port the kernel picks, and its
 * port: the fake callers of the integration tests. */
#ifndef TSR_TEST_LOOPBACK_UDP_H
#define TSR_TEST_LOOPBACK_UDP_H

#include <gio/gio.h>
#include <glib.h>
#include <stdint.h>

static inline GSocket *test_loopback_udp(void)
{
    GError *err = NULL;
    GSocket *s =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &err);
    g_assert_no_error(err);
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *a = g_inet_socket_address_new(lo, 0);
    g_assert_true(g_socket_bind(s, a, FALSE, &err));
    g_assert_no_error(err);
    g_object_unref(a);
    g_object_unref(lo);
    g_socket_set_blocking(s, FALSE);
    return s;
}

static inline uint16_t test_port_of(GSocket *s)
{
    GSocketAddress *a = g_socket_get_local_address(s, NULL);
    uint16_t port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(a));
    g_object_unref(a);
    return port;
}

#endif
