/* ICE wrapper: port range, 1:1 NAT address in candidates, credentials, remote
 * candidate validation, configuration errors. */
#include <tessera/err.h>
#include <tessera/ice.h>
#include <tessera/sdp.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

static void noop_recv(void *user, uint8_t *data, size_t len)
{
    (void)user, (void)data, (void)len;
}

static void noop_state(void *user, enum tsr_ice_state s)
{
    (void)user, (void)s;
}

static const struct tsr_ice_callbacks cbs = {noop_recv, noop_state, NULL};

static void test_candidates_public_address(void)
{
    GMainContext *ctx = g_main_context_new();
    struct tsr_ice *ice = NULL;
    struct tsr_ice_config cfg = {.port_min = 41230,
                                 .port_max = 41239,
                                 .public_address = "203.0.113.5",
                                 .bind_address = "127.0.0.1"};
    g_assert_cmpint(tsr_ice_new(&ice, ctx, &cfg, &cbs, NULL), ==, 0);
    g_assert_cmpint(tsr_ice_get_state(ice), ==, TSR_ICE_STATE_NEW);
    g_assert_cmpuint(strlen(tsr_ice_local_ufrag(ice)), >=, 4);
    g_assert_cmpuint(strlen(tsr_ice_local_pwd(ice)), >=, 22);
    uint16_t port = tsr_ice_local_port(ice);
    g_assert_cmpuint(port, >=, 41230);
    g_assert_cmpuint(port, <=, 41239);

    char **cands = NULL;
    size_t n = 0;
    g_assert_cmpint(tsr_ice_local_candidates(ice, &cands, &n), ==, 0);
    g_assert_cmpuint(n, ==, 1);
    struct tsr_sdp_candidate c;
    g_assert_cmpint(tsr_sdp_parse_candidate(cands[0], &c), ==, 0);
    g_assert_cmpstr(c.address, ==, "203.0.113.5"); /* advertised, not 127.0.0.1 */
    g_assert_cmpuint(c.port, ==, port);
    g_assert_cmpstr(c.type, ==, "host");
    g_assert_cmpstr(c.transport, ==, "udp");
    g_assert_cmpuint(c.component, ==, 1);
    g_strfreev(cands);

    /* remote candidates: valid, mDNS, TCP, RTCP component, garbage */
    g_assert_cmpint(tsr_ice_set_remote_credentials(ice, "abcd", "short"), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_ice_set_remote_credentials(ice, "abcd", "abcdefghijklmnopqrstuvwx"), ==, 0);
    g_assert_cmpint(
        tsr_ice_add_remote_candidate(ice, "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host"),
        ==, 0);
    g_assert_cmpint(tsr_ice_add_remote_candidate(
                        ice, "a=candidate:2 1 udp 2122260223 127.0.0.1 50001 typ host"),
                    ==, 0);
    g_assert_cmpint(tsr_ice_add_remote_candidate(
                        ice, "candidate:0 1 UDP 2122252543 3b1a6c2e.local 50312 typ host"),
                    ==, TSR_ERR_UNSUPPORTED);
    g_assert_cmpint(tsr_ice_add_remote_candidate(
                        ice, "candidate:3 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active"),
                    ==, TSR_ERR_UNSUPPORTED);
    g_assert_cmpint(
        tsr_ice_add_remote_candidate(ice, "candidate:4 2 udp 2122260222 127.0.0.1 50002 typ host"),
        ==, TSR_ERR_UNSUPPORTED);
    g_assert_cmpint(tsr_ice_add_remote_candidate(ice, "candidate:garbage"), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_ice_send(ice, (const uint8_t *)"x", 1), ==, TSR_ERR_AGAIN);

    tsr_ice_close(ice);
    tsr_ice_close(ice);
    g_assert_cmpint(tsr_ice_get_state(ice), ==, TSR_ICE_STATE_CLOSED);
    g_assert_cmpint(tsr_ice_send(ice, (const uint8_t *)"x", 1), ==, TSR_ERR_STATE);
    g_assert_cmpint(
        tsr_ice_add_remote_candidate(ice, "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host"),
        ==, TSR_ERR_STATE);
    tsr_ice_free(&ice);
    g_assert_null(ice);
    tsr_ice_free(&ice);
    g_main_context_unref(ctx);
}

/* Every interface: IPv4 host candidates advertise the (IPv4) public address,
 * IPv6 ones keep their own address. */
static void test_public_address_family(void)
{
    GMainContext *ctx = g_main_context_new();
    struct tsr_ice *ice = NULL;
    struct tsr_ice_config cfg = {.public_address = "203.0.113.5"};
    int rc = tsr_ice_new(&ice, ctx, &cfg, &cbs, NULL);
    if (rc == TSR_ERR_IO) { /* a machine with loopback only has nothing to gather */
        g_test_skip("no non-loopback interface");
        g_main_context_unref(ctx);
        return;
    }
    g_assert_cmpint(rc, ==, 0);
    char **cands = NULL;
    size_t n = 0;
    g_assert_cmpint(tsr_ice_local_candidates(ice, &cands, &n), ==, 0);
    g_assert_cmpuint(n, >=, 1);
    size_t v4 = 0;
    for (size_t i = 0; i < n; i++) {
        struct tsr_sdp_candidate c;
        g_assert_cmpint(tsr_sdp_parse_candidate(cands[i], &c), ==, 0);
        if (strchr(c.address, ':')) {
            g_assert_cmpstr(c.address, !=, "203.0.113.5");
            g_assert_false(g_str_has_prefix(c.address, "fe80:")); /* link-local left out */
        } else {
            g_assert_cmpstr(c.address, ==, "203.0.113.5");
            v4++;
        }
    }
    if (v4 == 0)
        g_test_skip("no IPv4 interface besides loopback");
    g_strfreev(cands);
    tsr_ice_free(&ice);
    g_main_context_unref(ctx);
}

static void test_config_errors(void)
{
    GMainContext *ctx = g_main_context_new();
    struct tsr_ice *ice = NULL;
    struct tsr_ice_config cfg = {.bind_address = "127.0.0.1", .stun_server = "no-port"};
    g_assert_cmpint(tsr_ice_new(&ice, ctx, &cfg, &cbs, NULL), ==, TSR_ERR_CONFIG);
    cfg.stun_server = "127.0.0.1:0";
    g_assert_cmpint(tsr_ice_new(&ice, ctx, &cfg, &cbs, NULL), ==, TSR_ERR_CONFIG);
    cfg.stun_server = NULL;
    cfg.public_address = "not an address";
    g_assert_cmpint(tsr_ice_new(&ice, ctx, &cfg, &cbs, NULL), ==, TSR_ERR_CONFIG);
    cfg.public_address = NULL;
    cfg.bind_address = "999.1.1.1";
    g_assert_cmpint(tsr_ice_new(&ice, ctx, &cfg, &cbs, NULL), ==, TSR_ERR_CONFIG);
    cfg.bind_address = "127.0.0.1";
    cfg.port_min = 50010;
    cfg.port_max = 50000;
    g_assert_cmpint(tsr_ice_new(&ice, ctx, &cfg, &cbs, NULL), ==, -EINVAL);
    g_assert_null(ice);
    /* a STUN server given as a literal address switches to full ICE and works */
    cfg.port_min = cfg.port_max = 0;
    cfg.stun_server = "127.0.0.1:3478";
    g_assert_cmpint(tsr_ice_new(&ice, ctx, &cfg, &cbs, NULL), ==, 0);
    /* Freeing right away cancels libnice's asynchronous STUN lookup, which it
     * reports as a warning; g_test makes warnings fatal, so not here. */
    GLogLevelFlags old = g_log_set_always_fatal(G_LOG_LEVEL_ERROR);
    tsr_ice_free(&ice);
    while (g_main_context_iteration(ctx, FALSE))
        ;
    g_log_set_always_fatal(old);
    g_main_context_unref(ctx);
}

static void test_port_range_exhausted(void)
{
    GMainContext *ctx = g_main_context_new();
    struct tsr_ice *a = NULL, *b = NULL;
    struct tsr_ice_config cfg = {.port_min = 41240, .port_max = 41240, .bind_address = "127.0.0.1"};
    g_assert_cmpint(tsr_ice_new(&a, ctx, &cfg, &cbs, NULL), ==, 0);
    g_assert_cmpuint(tsr_ice_local_port(a), ==, 41240);
    g_assert_cmpint(tsr_ice_new(&b, ctx, &cfg, &cbs, NULL), ==, TSR_ERR_IO);
    g_assert_null(b);
    tsr_ice_free(&a);
    g_main_context_unref(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ice/candidates_public_address", test_candidates_public_address);
    g_test_add_func("/ice/public_address_family", test_public_address_family);
    g_test_add_func("/ice/config_errors", test_config_errors);
    g_test_add_func("/ice/port_range_exhausted", test_port_range_exhausted);
    return g_test_run();
}
