/* DTLS-SRTP endpoints wired back to back in memory: the handshake completes, both
 * sides export mirrored SRTP keys, a wrong fingerprint is refused and counted. */
#include <tessera/dtls.h>
#include <tessera/err.h>
#include <tessera/metrics.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

struct peer {
    struct tsr_dtls *dtls;
    struct peer *other;
    GQueue *wire; /* datagrams in flight towards `other` */
    bool connected;
    int failed; /* error code, 0 = none */
    struct tsr_dtls_srtp_keys keys;
};

static int peer_send(void *user, const uint8_t *data, size_t len)
{
    struct peer *p = user;
    g_queue_push_tail(p->wire, g_bytes_new(data, len));
    return 0;
}

static void peer_connected(void *user, const struct tsr_dtls_srtp_keys *keys)
{
    struct peer *p = user;
    p->connected = true;
    p->keys = *keys;
}

static void peer_failed(void *user, int err)
{
    struct peer *p = user;
    p->failed = err;
}

/* Delivers queued datagrams and runs timers until `done` or the deadline. */
static void pump(GMainContext *ctx, struct peer *a, struct peer *b,
                 bool (*done)(struct peer *, struct peer *))
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!done(a, b) && g_get_monotonic_time() < deadline) {
        struct peer *ps[2] = {a, b};
        bool moved = false;
        for (int i = 0; i < 2; i++) {
            GBytes *bytes;
            while ((bytes = g_queue_pop_head(ps[i]->wire))) {
                gsize n;
                const uint8_t *d = g_bytes_get_data(bytes, &n);
                tsr_dtls_handle_packet(ps[i]->other->dtls, d, n);
                g_bytes_unref(bytes);
                moved = true;
            }
        }
        if (!moved)
            g_main_context_iteration(ctx, TRUE); /* the retransmission timer */
    }
}

static bool both_connected(struct peer *a, struct peer *b)
{
    return (a->connected && b->connected) || a->failed || b->failed;
}

static bool both_failed(struct peer *a, struct peer *b)
{
    return (a->failed && b->failed) || (a->connected && b->connected);
}

static bool first_failed(struct peer *a, struct peer *b)
{
    (void)b;
    return a->failed != 0;
}

static void make_pair(GMainContext *ctx, struct tsr_dtls_cert *cs, struct tsr_dtls_cert *cc,
                      const char *fp_for_server, struct peer *srv, struct peer *cli)
{
    struct tsr_sdp_fingerprint fs, fc;
    char *v = g_strdup_printf("sha-256 %s", fp_for_server);
    g_assert_cmpint(tsr_sdp_parse_fingerprint(v, &fc), ==, 0);
    g_free(v);
    v = g_strdup_printf("sha-256 %s", tsr_dtls_cert_fingerprint(cs));
    g_assert_cmpint(tsr_sdp_parse_fingerprint(v, &fs), ==, 0);
    g_free(v);
    struct tsr_dtls_callbacks cb = {peer_send, peer_connected, peer_failed};
    struct tsr_dtls_config scfg = {
        .role = TSR_DTLS_ROLE_SERVER, .cert = cs, .remote_fingerprint = &fc};
    struct tsr_dtls_config ccfg = {
        .role = TSR_DTLS_ROLE_CLIENT, .cert = cc, .remote_fingerprint = &fs};
    memset(srv, 0, sizeof(*srv));
    memset(cli, 0, sizeof(*cli));
    srv->wire = g_queue_new();
    cli->wire = g_queue_new();
    srv->other = cli;
    cli->other = srv;
    g_assert_cmpint(tsr_dtls_new(&srv->dtls, ctx, &scfg, &cb, srv), ==, 0);
    g_assert_cmpint(tsr_dtls_new(&cli->dtls, ctx, &ccfg, &cb, cli), ==, 0);
    g_assert_cmpint(tsr_dtls_start(srv->dtls), ==, 0);
    g_assert_cmpint(tsr_dtls_start(cli->dtls), ==, 0);
}

static void free_pair(struct peer *a, struct peer *b)
{
    tsr_dtls_free(&a->dtls);
    tsr_dtls_free(&b->dtls);
    g_assert_null(a->dtls);
    g_queue_free_full(a->wire, (GDestroyNotify)g_bytes_unref);
    g_queue_free_full(b->wire, (GDestroyNotify)g_bytes_unref);
}

static void test_cert(void)
{
    struct tsr_dtls_cert *c = NULL;
    g_assert_cmpint(tsr_dtls_cert_generate(&c), ==, 0);
    const char *fp = tsr_dtls_cert_fingerprint(c);
    g_assert_cmpuint(strlen(fp), ==, 95);
    struct tsr_sdp_fingerprint f;
    char *v = g_strdup_printf("sha-256 %s", fp);
    g_assert_cmpint(tsr_sdp_parse_fingerprint(v, &f), ==, 0);
    g_assert_cmpuint(f.len, ==, 32);
    g_free(v);
    struct tsr_dtls_cert *c2 = tsr_dtls_cert_ref(c);
    tsr_dtls_cert_unref(&c2);
    g_assert_null(c2);
    g_assert_cmpuint(strlen(tsr_dtls_cert_fingerprint(c)), ==, 95); /* still alive */
    tsr_dtls_cert_unref(&c);
    g_assert_null(c);
    g_assert_cmpint(tsr_dtls_cert_load(&c, "/nonexistent.pem", "/nonexistent.key"), ==, TSR_ERR_IO);
    g_assert_null(c);
}

static void test_cert_load_pem(void)
{
    char *dir = g_dir_make_tmp("tsr-dtls-XXXXXX", NULL);
    char *crt = g_build_filename(dir, "c.pem", NULL), *key = g_build_filename(dir, "k.pem", NULL);
    char *cmd = g_strdup_printf("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                                "-nodes -subj /CN=t -days 2 -keyout %s -out %s",
                                key, crt);
    int status = 1;
    char *junk_out = NULL, *junk_err = NULL;
    gboolean ran = g_spawn_command_line_sync(cmd, &junk_out, &junk_err, &status, NULL);
    g_free(junk_out);
    g_free(junk_err);
    if (!ran || status != 0) {
        g_test_skip("openssl CLI not available");
    } else {
        struct tsr_dtls_cert *c = NULL;
        g_assert_cmpint(tsr_dtls_cert_load(&c, crt, key), ==, 0);
        /* the fingerprint GnuTLS computes equals openssl's */
        char *out = NULL;
        char *fcmd = g_strdup_printf("openssl x509 -noout -fingerprint -sha256 -in %s", crt);
        g_assert_true(g_spawn_command_line_sync(fcmd, &out, NULL, NULL, NULL));
        g_assert_nonnull(strstr(out, tsr_dtls_cert_fingerprint(c)));
        g_free(out);
        g_free(fcmd);
        tsr_dtls_cert_unref(&c);
        g_assert_cmpint(tsr_dtls_cert_load(&c, key, key), ==, TSR_ERR_CRYPTO);
    }
    g_unlink(crt);
    g_unlink(key);
    g_rmdir(dir);
    g_free(cmd);
    g_free(crt);
    g_free(key);
    g_free(dir);
}

static void test_handshake(void)
{
    GMainContext *ctx = g_main_context_new();
    struct tsr_dtls_cert *cs = NULL, *cc = NULL;
    struct peer srv, cli;
    g_assert_cmpint(tsr_dtls_cert_generate(&cs), ==, 0);
    g_assert_cmpint(tsr_dtls_cert_generate(&cc), ==, 0);
    make_pair(ctx, cs, cc, tsr_dtls_cert_fingerprint(cc), &srv, &cli);
    pump(ctx, &srv, &cli, both_connected);
    g_assert_cmpint(srv.failed, ==, 0);
    g_assert_cmpint(cli.failed, ==, 0);
    g_assert_true(srv.connected && cli.connected);
    g_assert_true(tsr_dtls_is_connected(srv.dtls));
    g_assert_cmpint(srv.keys.profile, ==, cli.keys.profile);
    g_assert_cmpint(srv.keys.profile, !=, TSR_SRTP_PROFILE_NONE);
    g_assert_cmpmem(srv.keys.local_key, 16, cli.keys.remote_key, 16);
    g_assert_cmpmem(srv.keys.remote_key, 16, cli.keys.local_key, 16);
    g_assert_cmpmem(srv.keys.local_salt, srv.keys.salt_len, cli.keys.remote_salt,
                    cli.keys.salt_len);
    g_assert_true(memcmp(srv.keys.local_key, srv.keys.remote_key, 16) != 0);

    /* close_notify reaches the peer, which reports the session closed */
    tsr_dtls_close(cli.dtls);
    tsr_dtls_close(cli.dtls); /* idempotent */
    pump(ctx, &srv, &cli, first_failed);
    g_assert_cmpint(srv.failed, ==, TSR_ERR_STATE);
    free_pair(&srv, &cli);
    tsr_dtls_cert_unref(&cs);
    tsr_dtls_cert_unref(&cc);
    g_main_context_unref(ctx);
}

static void test_fingerprint_mismatch(void)
{
    GMainContext *ctx = g_main_context_new();
    struct tsr_dtls_cert *cs = NULL, *cc = NULL, *other = NULL;
    struct peer srv, cli;
    g_assert_cmpint(tsr_dtls_cert_generate(&cs), ==, 0);
    g_assert_cmpint(tsr_dtls_cert_generate(&cc), ==, 0);
    g_assert_cmpint(tsr_dtls_cert_generate(&other), ==, 0);
    struct tsr_counter *mismatch =
        tsr_metrics_counter("tessera_dtls_errors_total", "reason=\"fingerprint_mismatch\"", "x");
    uint64_t before = tsr_counter_value(mismatch);
    /* the server expects `other`'s fingerprint but the client presents cc */
    make_pair(ctx, cs, cc, tsr_dtls_cert_fingerprint(other), &srv, &cli);
    pump(ctx, &srv, &cli, both_failed);
    g_assert_false(srv.connected);
    g_assert_cmpint(srv.failed, ==, TSR_ERR_AUTH);
    g_assert_false(cli.connected);
    g_assert_cmpint(cli.failed, !=, 0);
    g_assert_cmpuint(tsr_counter_value(mismatch), ==, before + 1);
    g_assert_cmpint(tsr_dtls_handle_packet(srv.dtls, (const uint8_t *)"\x16\xfe\xfd", 3), ==,
                    TSR_ERR_STATE);
    free_pair(&srv, &cli);
    tsr_dtls_cert_unref(&cs);
    tsr_dtls_cert_unref(&cc);
    tsr_dtls_cert_unref(&other);
    g_main_context_unref(ctx);
}

static void test_bad_config(void)
{
    GMainContext *ctx = g_main_context_new();
    struct tsr_dtls_cert *c = NULL;
    struct tsr_dtls *d = NULL;
    struct tsr_sdp_fingerprint f;
    g_assert_cmpint(tsr_dtls_cert_generate(&c), ==, 0);
    struct tsr_dtls_callbacks cb = {peer_send, peer_connected, peer_failed};
    struct tsr_dtls_config cfg = {
        .role = TSR_DTLS_ROLE_SERVER, .cert = c, .remote_fingerprint = &f};
    /* sha-1 (what some SIP phones send) is checked; md5 and wrong lengths are not. */
    g_assert_cmpint(tsr_sdp_parse_fingerprint("sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
                                              "EE:FF:00:11:22:33",
                                              &f),
                    ==, 0);
    g_assert_true(tsr_dtls_fingerprint_usable(&f));
    g_assert_cmpint(tsr_dtls_new(&d, ctx, &cfg, &cb, NULL), ==, 0);
    tsr_dtls_free(&d);
    g_assert_cmpint(tsr_sdp_parse_fingerprint("md5 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:"
                                              "EE:FF",
                                              &f),
                    ==, 0);
    g_assert_false(tsr_dtls_fingerprint_usable(&f));
    g_assert_cmpint(tsr_dtls_new(&d, ctx, &cfg, &cb, NULL), ==, -EINVAL);
    g_strlcpy(f.hash, "sha-256", sizeof f.hash); /* 16 bytes are no sha-256 digest */
    g_assert_cmpint(tsr_dtls_new(&d, ctx, &cfg, &cb, NULL), ==, -EINVAL);
    cfg.remote_fingerprint = NULL;
    g_assert_cmpint(tsr_dtls_new(&d, ctx, &cfg, &cb, NULL), ==, -EINVAL);
    g_assert_null(d);
    tsr_dtls_cert_unref(&c);
    g_main_context_unref(ctx);
}

/* A client certificate made by openssl, so its sha-1 fingerprint can be taken
 * independently of GnuTLS. Returns false (test skipped) without the CLI. */
static bool openssl_cert(const char *dir, struct tsr_dtls_cert **out,
                         struct tsr_sdp_fingerprint *sha1)
{
    char *crt = g_build_filename(dir, "c.pem", NULL), *key = g_build_filename(dir, "k.pem", NULL);
    char *cmd = g_strdup_printf("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                                "-nodes -subj /CN=t -days 2 -keyout %s -out %s",
                                key, crt);
    char *fcmd = g_strdup_printf("openssl x509 -noout -fingerprint -sha1 -in %s", crt);
    char *junk = NULL, *err = NULL, *out_fp = NULL;
    int status = 1;
    bool ok = g_spawn_command_line_sync(cmd, &junk, &err, &status, NULL) && status == 0 &&
              g_spawn_command_line_sync(fcmd, &out_fp, NULL, &status, NULL) && status == 0;
    if (ok) { /* "SHA1 Fingerprint=AB:CD:…" */
        char *v = g_strdup_printf("sha-1 %s", g_strstrip(strchr(out_fp, '=') + 1));
        g_assert_cmpint(tsr_sdp_parse_fingerprint(v, sha1), ==, 0);
        g_free(v);
        g_assert_cmpint(tsr_dtls_cert_load(out, crt, key), ==, 0);
    }
    g_unlink(crt);
    g_unlink(key);
    g_free(junk);
    g_free(err);
    g_free(out_fp);
    g_free(cmd);
    g_free(fcmd);
    g_free(crt);
    g_free(key);
    return ok;
}

/* A sha-1 fingerprint is verified like a sha-256 one, and SIP's second DTLS-SRTP
 * profile, AES128_CM_HMAC_SHA1_32, exports keys for it. */
static void test_sha1_and_sha1_32(void)
{
    char *dir = g_dir_make_tmp("tsr-dtls-XXXXXX", NULL);
    struct tsr_dtls_cert *cs = NULL, *cc = NULL;
    struct tsr_sdp_fingerprint sha1, fs;
    if (!openssl_cert(dir, &cc, &sha1)) {
        g_test_skip("openssl CLI not available");
        g_rmdir(dir);
        g_free(dir);
        return;
    }
    GMainContext *ctx = g_main_context_new();
    g_assert_cmpint(tsr_dtls_cert_generate(&cs), ==, 0);
    char *v = g_strdup_printf("sha-256 %s", tsr_dtls_cert_fingerprint(cs));
    g_assert_cmpint(tsr_sdp_parse_fingerprint(v, &fs), ==, 0);
    g_free(v);
    struct peer srv, cli;
    memset(&srv, 0, sizeof srv);
    memset(&cli, 0, sizeof cli);
    srv.wire = g_queue_new();
    cli.wire = g_queue_new();
    srv.other = &cli;
    cli.other = &srv;
    struct tsr_dtls_callbacks cb = {peer_send, peer_connected, peer_failed};
    struct tsr_dtls_config scfg = {.role = TSR_DTLS_ROLE_SERVER,
                                   .cert = cs,
                                   .remote_fingerprint = &sha1,
                                   .srtp_profiles = "SRTP_AES128_CM_HMAC_SHA1_32"};
    struct tsr_dtls_config ccfg = {.role = TSR_DTLS_ROLE_CLIENT,
                                   .cert = cc,
                                   .remote_fingerprint = &fs,
                                   .srtp_profiles = "SRTP_AES128_CM_HMAC_SHA1_32"};
    g_assert_cmpint(tsr_dtls_new(&srv.dtls, ctx, &scfg, &cb, &srv), ==, 0);
    g_assert_cmpint(tsr_dtls_new(&cli.dtls, ctx, &ccfg, &cb, &cli), ==, 0);
    g_assert_cmpint(tsr_dtls_start(srv.dtls), ==, 0);
    g_assert_cmpint(tsr_dtls_start(cli.dtls), ==, 0);
    pump(ctx, &srv, &cli, both_connected);
    g_assert_true(srv.connected && cli.connected);
    g_assert_cmpint(srv.keys.profile, ==, TSR_SRTP_PROFILE_AES128_CM_SHA1_32);
    g_assert_cmpuint(srv.keys.salt_len, ==, 14);
    g_assert_cmpmem(srv.keys.local_key, 16, cli.keys.remote_key, 16);
    free_pair(&srv, &cli);
    tsr_dtls_cert_unref(&cs);
    tsr_dtls_cert_unref(&cc);
    g_rmdir(dir);
    g_free(dir);
    g_main_context_unref(ctx);
}

/* A server whose client never speaks gives up after the handshake timeout. */
static void test_timeout(void)
{
    GMainContext *ctx = g_main_context_new();
    struct tsr_dtls_cert *c = NULL;
    g_assert_cmpint(tsr_dtls_cert_generate(&c), ==, 0);
    struct tsr_sdp_fingerprint f;
    char *v = g_strdup_printf("sha-256 %s", tsr_dtls_cert_fingerprint(c));
    g_assert_cmpint(tsr_sdp_parse_fingerprint(v, &f), ==, 0);
    g_free(v);
    struct peer srv;
    memset(&srv, 0, sizeof srv);
    srv.wire = g_queue_new();
    struct tsr_dtls_callbacks cb = {peer_send, peer_connected, peer_failed};
    struct tsr_dtls_config cfg = {.role = TSR_DTLS_ROLE_SERVER,
                                  .cert = c,
                                  .remote_fingerprint = &f,
                                  .handshake_timeout_ms = 1500};
    g_assert_cmpint(tsr_dtls_new(&srv.dtls, ctx, &cfg, &cb, &srv), ==, 0);
    g_assert_cmpint(tsr_dtls_start(srv.dtls), ==, 0);
    gint64 start = g_get_monotonic_time();
    while (!srv.failed && g_get_monotonic_time() - start < 10 * G_USEC_PER_SEC)
        g_main_context_iteration(ctx, TRUE);
    g_assert_cmpint(srv.failed, ==, TSR_ERR_TIMEOUT);
    g_assert_cmpint(g_get_monotonic_time() - start, <, 5 * G_USEC_PER_SEC);
    tsr_dtls_free(&srv.dtls);
    g_queue_free_full(srv.wire, (GDestroyNotify)g_bytes_unref);
    tsr_dtls_cert_unref(&c);
    g_main_context_unref(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dtls/cert", test_cert);
    g_test_add_func("/dtls/cert_load_pem", test_cert_load_pem);
    g_test_add_func("/dtls/handshake", test_handshake);
    g_test_add_func("/dtls/fingerprint_mismatch", test_fingerprint_mismatch);
    g_test_add_func("/dtls/bad_config", test_bad_config);
    g_test_add_func("/dtls/sha1_and_sha1_32", test_sha1_and_sha1_32);
    g_test_add_func("/dtls/timeout", test_timeout);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
