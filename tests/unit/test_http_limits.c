/* HTTP limits against a real listener on 127.0.0.1 in a thread of its own, driven
 * by raw sockets: bodies over the limit refused before they are read (Content-
 * Length and chunked), connections over the per-address cap answered 503, a
 * stalled request closed at the idle timeout, a burst of 200 connections all
 * served (backlog), and the client address behind a trusted proxy. */
#include <tessera/http.h>
#include <tessera/metrics.h>

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct server_thread {
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    struct tsr_http *http;
    struct tsr_http_options opts;
    GMutex lock;
    GCond ready;
    uint16_t port;
};

static char last_client[64];

static void handle_whoami(SoupServer *server, SoupServerMessage *msg, const char *path,
                          GHashTable *query, gpointer user)
{
    (void)server, (void)path, (void)query, (void)user;
    char *addr = tsr_http_client_address(msg);
    g_strlcpy(last_client, addr ? addr : "", sizeof last_client);
    g_free(addr);
    tsr_http_reply_json(msg, 200, json_pack("{s:s}", "client", last_client));
}

static gpointer serve(gpointer data)
{
    struct server_thread *st = data;
    g_main_context_push_thread_default(st->ctx);
    g_assert_cmpint(tsr_http_new_with(&st->http, "127.0.0.1", 0, &st->opts), ==, 0);
    soup_server_add_handler(tsr_http_soup_server(st->http), "/whoami", handle_whoami, NULL, NULL);
    g_mutex_lock(&st->lock);
    st->port = tsr_http_port(st->http);
    g_cond_signal(&st->ready);
    g_mutex_unlock(&st->lock);
    g_main_loop_run(st->loop);
    tsr_http_free(&st->http);
    while (g_main_context_iteration(st->ctx, FALSE))
        ;
    g_main_context_pop_thread_default(st->ctx);
    return NULL;
}

static void server_start(struct server_thread *st)
{
    st->ctx = g_main_context_new();
    st->loop = g_main_loop_new(st->ctx, FALSE);
    g_mutex_init(&st->lock);
    g_cond_init(&st->ready);
    g_mutex_lock(&st->lock);
    st->thread = g_thread_new("http", serve, st);
    while (!st->port)
        g_cond_wait(&st->ready, &st->lock);
    g_mutex_unlock(&st->lock);
}

static void server_stop(struct server_thread *st)
{
    g_main_loop_quit(st->loop);
    g_thread_join(st->thread);
    g_main_loop_unref(st->loop);
    g_main_context_unref(st->ctx);
    g_mutex_clear(&st->lock);
    g_cond_clear(&st->ready);
}

static int dial(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
    struct timeval tv = {.tv_sec = 20};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_all(int fd, const char *text)
{
    size_t n = strlen(text);
    g_assert_cmpint(send(fd, text, n, MSG_NOSIGNAL), ==, (ssize_t)n);
}

/* Reads until EOF (or 20 s): what the server wrote. */
static char *read_reply(int fd)
{
    GString *s = g_string_new(NULL);
    char buf[4096];
    ssize_t got;
    while ((got = recv(fd, buf, sizeof buf, 0)) > 0)
        g_string_append_len(s, buf, got);
    return g_string_free(s, FALSE);
}

static long rss_kib(void)
{
    char *text = NULL;
    g_assert_true(g_file_get_contents("/proc/self/status", &text, NULL, NULL));
    const char *p = strstr(text, "VmRSS:");
    long kib = p ? strtol(p + 6, NULL, 10) : -1;
    g_free(text);
    return kib;
}

static uint64_t refused(const char *code)
{
    char labels[96];
    g_snprintf(labels, sizeof labels, "code=\"%s\"", code);
    return tsr_counter_value(tsr_metrics_counter("tessera_http_refused_total", labels, "x"));
}

/* A 64 MiB Content-Length: 413 while the body is still being sent; memory flat. */
static void test_body_content_length(void)
{
    struct server_thread st = {0};
    server_start(&st);
    long before = rss_kib();
    int fd = dial(st.port);
    send_all(fd, "POST /whoami HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 "Content-Length: 67108864\r\n\r\n");
    char chunk[65536];
    memset(chunk, 'a', sizeof chunk);
    /* the first 256 KiB of the 64 MiB; the server does not wait for the rest */
    for (int i = 0; i < 4; i++)
        if (send(fd, chunk, sizeof chunk, MSG_NOSIGNAL) < 0)
            break;
    char *reply = read_reply(fd);
    g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 413"));
    g_assert_nonnull(strstr(reply, "\"error\":\"body_too_large\""));
    g_free(reply);
    close(fd);
    g_assert_cmpuint(refused("body_too_large"), ==, 1);
    g_assert_cmpint(rss_kib() - before, <, 32 * 1024);
    server_stop(&st);
}

/* A chunked body that goes past the limit is cut off there. */
static void test_body_chunked(void)
{
    struct server_thread st = {.opts.limits.max_body_bytes = 100000};
    server_start(&st);
    int fd = dial(st.port);
    send_all(fd, "POST /whoami HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    char chunk[8192 + 16];
    int head = snprintf(chunk, sizeof chunk, "%x\r\n", 8192);
    memset(chunk + head, 'b', 8192);
    memcpy(chunk + head + 8192, "\r\n", 2);
    size_t sent = 0;
    /* up to 1 MiB, stopping when the server has closed */
    while (sent < 1024 * 1024 && send(fd, chunk, (size_t)head + 8194, MSG_NOSIGNAL) > 0)
        sent += 8192;
    char *reply = read_reply(fd);
    g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 413"));
    g_assert_nonnull(strstr(reply, "over the limit of 100000 bytes"));
    g_free(reply);
    close(fd);
    server_stop(&st);
}

/* Two connections from one address are held; the third is refused with a reason,
 * and served again once one has gone. */
static void test_per_address_cap(void)
{
    struct server_thread st = {
        .opts.limits = {.max_connections_per_address = 2, .trusted_proxies = "192.0.2.1"}};
    server_start(&st);
    int a = dial(st.port), b = dial(st.port);
    send_all(a, "GET /who"); /* both stay open: headers not finished */
    send_all(b, "GET /who");
    int c = dial(st.port);
    char *reply = read_reply(c);
    g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 503"));
    g_assert_nonnull(strstr(reply, "\"error\":\"too_many_connections_from_address\""));
    g_assert_nonnull(strstr(reply, "Retry-After: 1"));
    g_free(reply);
    close(c);
    close(a);
    /* a's slot comes back when the server has seen it go */
    char *ok = NULL;
    for (int i = 0; i < 100; i++) {
        int d = dial(st.port);
        send_all(d, "GET /whoami HTTP/1.1\r\nHost: t\r\n\r\n");
        g_free(ok);
        ok = read_reply(d);
        close(d);
        if (g_str_has_prefix(ok, "HTTP/1.1 200"))
            break;
        g_usleep(20000);
    }
    g_assert_true(g_str_has_prefix(ok, "HTTP/1.1 200"));
    g_free(ok);
    close(b);
    server_stop(&st);
}

/* Half a request line, then silence: closed at the idle timeout (1 s here). */
static void test_idle_timeout(void)
{
    struct server_thread st = {.opts.limits.idle_timeout_s = 1};
    server_start(&st);
    int fd = dial(st.port);
    send_all(fd, "GET /whoami HTTP/1.1\r\nHost:");
    gint64 t0 = g_get_monotonic_time();
    char *reply = read_reply(fd); /* EOF when the server gives up */
    gint64 waited_ms = (g_get_monotonic_time() - t0) / 1000;
    g_assert_cmpint(waited_ms, <, 15000); /* recv's own limit is 20 s */
    g_free(reply);
    close(fd);
    server_stop(&st);
}

/* Headers trickled a byte at a time, each within the idle timeout, still have to
 * be complete within it: 408 headers_too_slow with the JSON envelope. */
static void test_headers_trickled(void)
{
    struct server_thread st = {.opts.limits.idle_timeout_s = 2};
    server_start(&st);
    int fd = dial(st.port);
    const char *req = "GET /whoami HTTP/1.1\r\nHost: t\r\nX-Slow: abcdefghijklmnopqrstuvwxyz";
    gint64 t0 = g_get_monotonic_time();
    bool answered = false;
    for (const char *c = req; *c && !answered; c++) {
        answered = send(fd, c, 1, MSG_NOSIGNAL) != 1;
        /* well inside the idle timeout each time; readable means answered */
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        answered = answered || poll(&pfd, 1, 500) > 0;
    }
    g_assert_true(answered);
    char *reply = read_reply(fd);
    g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 408"));
    g_assert_nonnull(strstr(reply, "\"error\":\"headers_too_slow\""));
    g_assert_cmpint((g_get_monotonic_time() - t0) / 1000, >=, 2000);
    g_assert_cmpuint(refused("headers_too_slow"), ==, 1);
    g_free(reply);
    close(fd);
    server_stop(&st);
}

/* 200 clients connect at once: every one is accepted and answered. */
static void test_burst(void)
{
    struct server_thread st = {0};
    server_start(&st);
    enum { N = 200 };
    int fds[N];
    for (int i = 0; i < N; i++)
        fds[i] = dial(st.port);
    for (int i = 0; i < N; i++)
        send_all(fds[i], "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    int ok = 0;
    for (int i = 0; i < N; i++) {
        char *reply = read_reply(fds[i]);
        ok += g_str_has_prefix(reply, "HTTP/1.1 200");
        g_free(reply);
        close(fds[i]);
    }
    g_assert_cmpint(ok, ==, N);
    server_stop(&st);
}

/* X-Forwarded-For counts only from a trusted proxy, and only its last entry. */
static void test_client_address(void)
{
    struct server_thread trusting = {.opts.limits.trusted_proxies = "127.0.0.1"};
    struct server_thread strict = {.opts.limits.trusted_proxies = "192.0.2.1"};
    server_start(&trusting);
    server_start(&strict);
    const char *req = "GET /whoami HTTP/1.1\r\nHost: t\r\n"
                      "X-Forwarded-For: 203.0.113.9, 198.51.100.7\r\n\r\n";
    int fd = dial(trusting.port);
    send_all(fd, req);
    g_free(read_reply(fd));
    close(fd);
    g_assert_cmpstr(last_client, ==, "198.51.100.7");
    fd = dial(strict.port);
    send_all(fd, req);
    g_free(read_reply(fd));
    close(fd);
    g_assert_cmpstr(last_client, ==, "127.0.0.1");
    server_stop(&trusting);
    server_stop(&strict);
}

/* Requests libsoup itself refuses still get the JSON envelope. */
static void test_malformed_envelope(void)
{
    struct server_thread st = {0};
    server_start(&st);
    const char *paths[] = {"/a%2f..%2fb", "/x%00y"};
    for (size_t i = 0; i < G_N_ELEMENTS(paths); i++) {
        int fd = dial(st.port);
        char req[128];
        g_snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", paths[i]);
        send_all(fd, req);
        char *reply = read_reply(fd);
        g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 400"));
        g_assert_nonnull(strstr(reply, "application/json"));
        g_assert_nonnull(strstr(reply, "\"error\":\"bad_request\""));
        g_free(reply);
        close(fd);
    }
    server_stop(&st);
}

/* Headers past max_header_bytes: 431 with the JSON envelope, counted, whether
 * they stop just past the limit or run far beyond libsoup's own 64 KiB (which
 * used to reset the connection unanswered). A request just under the limit is
 * served, and a large body after small headers is the body limit's business. */
static void test_headers_too_large(void)
{
    struct server_thread st = {.opts.limits.max_header_bytes = 8192};
    server_start(&st);
    const size_t sizes[] = {9000, 200000};
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++) {
        int fd = dial(st.port);
        GString *req = g_string_new("GET /whoami HTTP/1.1\r\nHost: t\r\nX-Big: ");
        for (size_t k = 0; k < sizes[i]; k++)
            g_string_append_c(req, 'h');
        g_string_append(req, "\r\n\r\n");
        /* the server may answer and close before all of it is sent */
        (void)!send(fd, req->str, req->len, MSG_NOSIGNAL);
        char *reply = read_reply(fd);
        g_assert_true(g_str_has_prefix(reply, "HTTP/1.1 431 Request Header Fields Too Large"));
        g_assert_nonnull(strstr(reply, "application/json"));
        g_assert_nonnull(strstr(reply, "\"error\":\"headers_too_large\""));
        g_assert_nonnull(strstr(reply, "over the limit of 8192 bytes"));
        g_free(reply);
        g_string_free(req, TRUE);
        close(fd);
    }
    g_assert_cmpuint(refused("headers_too_large"), ==, 2);
    int fd = dial(st.port);
    GString *req = g_string_new("POST /whoami HTTP/1.1\r\nHost: t\r\nX-Fits: ");
    for (size_t k = 0; k < 7000; k++)
        g_string_append_c(req, 'f');
    g_string_append_printf(req, "\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
                           30000);
    for (size_t k = 0; k < 30000; k++)
        g_string_append_c(req, k == 0 ? '{' : k == 29999 ? '}' : ' ');
    send_all(fd, req->str);
    char *reply = read_reply(fd);
    g_assert_false(g_str_has_prefix(reply, "HTTP/1.1 431"));
    g_assert_cmpuint(refused("headers_too_large"), ==, 2);
    g_free(reply);
    g_string_free(req, TRUE);
    close(fd);
    server_stop(&st);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tsr_metrics_reset();
    g_test_add_func("/http_limits/body_content_length", test_body_content_length);
    g_test_add_func("/http_limits/body_chunked", test_body_chunked);
    g_test_add_func("/http_limits/per_address_cap", test_per_address_cap);
    g_test_add_func("/http_limits/idle_timeout", test_idle_timeout);
    g_test_add_func("/http_limits/burst", test_burst);
    g_test_add_func("/http_limits/client_address", test_client_address);
    g_test_add_func("/http_limits/malformed_envelope", test_malformed_envelope);
    g_test_add_func("/http_limits/headers_too_large", test_headers_too_large);
    g_test_add_func("/http_limits/headers_trickled", test_headers_trickled);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
