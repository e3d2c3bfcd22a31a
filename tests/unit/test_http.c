/* HTTP module: built-in routes and the JSON/CORS helpers, against a real libsoup
 * server on 127.0.0.1 running in its own thread, driven by a libsoup client. */
#include <tessera/err.h>
#include <tessera/http.h>
#include <tessera/metrics.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <glib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct server_thread {
    GMainContext *ctx;
    GMainLoop *loop;
    struct tsr_http *http;
    GMutex lock;
    GCond ready;
    uint16_t port;
};

/* A route of the kind API modules add: echo a JSON body, limit 64 bytes. */
static void handle_echo(SoupServer *server, SoupServerMessage *msg, const char *path,
                        GHashTable *query, gpointer user)
{
    (void)server, (void)path, (void)query, (void)user;
    if (tsr_http_cors(msg))
        return;
    json_t *body = NULL;
    char *err = NULL;
    int rc = tsr_http_read_json(msg, 64, &body, &err);
    if (rc == TSR_ERR_FULL)
        tsr_http_reply_error(msg, 413, "too_large", "%s", err);
    else if (rc)
        tsr_http_reply_error(msg, 400, "bad_request", "%s", err);
    else
        tsr_http_reply_json(msg, 200, body);
    g_free(err);
}

static gpointer serve(gpointer data)
{
    struct server_thread *st = data;
    g_main_context_push_thread_default(st->ctx);
    g_assert_cmpint(tsr_http_new(&st->http, "127.0.0.1", 0), ==, 0);
    soup_server_add_handler(tsr_http_soup_server(st->http), "/echo", handle_echo, NULL, NULL);
    g_mutex_lock(&st->lock);
    st->port = tsr_http_port(st->http);
    g_cond_signal(&st->ready);
    g_mutex_unlock(&st->lock);
    g_main_loop_run(st->loop);
    tsr_http_free(&st->http);
    /* let the closed connections finish their teardown */
    while (g_main_context_iteration(st->ctx, FALSE))
        ;
    g_main_context_pop_thread_default(st->ctx);
    return NULL;
}

static struct server_thread st;
static SoupSession *session;

static char *request(const char *method, const char *path, const char *body, unsigned *status,
                     char **ctype)
{
    char *url = g_strdup_printf("http://127.0.0.1:%u%s", st.port, path);
    SoupMessage *msg = soup_message_new(method, url);
    if (body) {
        GBytes *b = g_bytes_new(body, strlen(body));
        soup_message_set_request_body_from_bytes(msg, "application/json", b);
        g_bytes_unref(b);
    }
    GBytes *out = soup_session_send_and_read(session, msg, NULL, NULL);
    *status = soup_message_get_status(msg);
    if (ctype)
        *ctype = g_strdup(soup_message_headers_get_content_type(
            soup_message_get_response_headers(msg), NULL));
    char *text = g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
    g_bytes_unref(out);
    g_object_unref(msg);
    g_free(url);
    return text;
}

static void test_healthz(void)
{
    unsigned status;
    char *ctype = NULL;
    char *text = request("GET", "/healthz", NULL, &status, &ctype);
    g_assert_cmpuint(status, ==, 200);
    g_assert_cmpstr(ctype, ==, "application/json");
    json_t *j = json_loads(text, 0, NULL);
    g_assert_cmpstr(json_string_value(json_object_get(j, "status")), ==, "ok");
    g_assert_cmpstr(json_string_value(json_object_get(j, "version")), ==, TSR_VERSION);
    g_assert_true(json_is_number(json_object_get(j, "uptime_s")));
    g_assert_cmpfloat(json_number_value(json_object_get(j, "uptime_s")), >=, 0);
    json_decref(j);
    g_free(text);
    g_free(ctype);
    text = request("POST", "/healthz", "{}", &status, NULL);
    g_assert_cmpuint(status, ==, 405);
    g_free(text);
}

static void test_metrics_and_404(void)
{
    unsigned status;
    char *ctype = NULL;
    char *text = request("GET", "/no/such/thing", NULL, &status, NULL);
    g_assert_cmpuint(status, ==, 404);
    g_assert_cmpstr(text, ==, "{\"error\":\"not_found\",\"message\":\"no resource at "
                              "/no/such/thing\"}");
    g_free(text);
    text = request("GET", "/metrics", NULL, &status, &ctype);
    g_assert_cmpuint(status, ==, 200);
    g_assert_true(g_str_has_prefix(ctype, "text/plain"));
    g_assert_nonnull(strstr(text, "tessera_http_errors_total{code=\"not_found\"} 1\n"));
    g_assert_nonnull(strstr(text, "# TYPE tessera_http_requests_total counter\n"));
    g_free(text);
    g_free(ctype);
}

static void test_json_helpers(void)
{
    unsigned status;
    char *text = request("POST", "/echo", "{\"a\":1}", &status, NULL);
    g_assert_cmpuint(status, ==, 200);
    g_assert_cmpstr(text, ==, "{\"a\":1}");
    g_free(text);
    text = request("POST", "/echo", "{\"a\":", &status, NULL);
    g_assert_cmpuint(status, ==, 400);
    g_assert_nonnull(strstr(text, "\"error\":\"bad_request\""));
    g_assert_nonnull(strstr(text, "not valid JSON"));
    g_free(text);
    text = request("POST", "/echo", "[1,2]", &status, NULL);
    g_assert_cmpuint(status, ==, 400);
    g_assert_nonnull(strstr(text, "body must be a JSON object"));
    g_free(text);
    char *big = g_strdup_printf("{\"k\":\"%0100d\"}", 0);
    text = request("POST", "/echo", big, &status, NULL);
    g_assert_cmpuint(status, ==, 413);
    g_assert_nonnull(strstr(text, "the limit is 64"));
    g_free(text);
    g_free(big);
    text = request("OPTIONS", "/echo", NULL, &status, NULL);
    g_assert_cmpuint(status, ==, 204);
    g_free(text);
}

static void test_bind_failure(void)
{
    struct tsr_http *h = NULL;
    /* the port the server thread already holds */
    g_assert_cmpint(tsr_http_new(&h, "127.0.0.1", st.port), ==, TSR_ERR_IO);
    g_assert_null(h);
    g_assert_cmpint(tsr_http_new(&h, "not-an-address", 0), ==, TSR_ERR_INVALID);
    tsr_http_free(&h); /* accepts NULL */
}

static uint64_t fd_limit_errors(void)
{
    return tsr_counter_value(tsr_metrics_counter("tessera_http_accept_errors_total",
                                                 "reason=\"fd_limit\"", "accept errors"));
}

/* The process runs out of fds while a connection waits in the backlog: accept()
 * fails with EMFILE. Once fds are free again the listener accepts that very
 * connection and answers it (libsoup's own listener stopped for good here). */
static void test_fd_limit(void)
{
    struct rlimit rl;
    g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &rl), ==, 0);
    struct rlimit low = {.rlim_cur = MIN(rl.rlim_cur, 256), .rlim_max = rl.rlim_max};
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
    int hogs[256];
    int n = 0;
    while (n < 256 && (hogs[n] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
        n++;
    g_assert_cmpint(n, >, 1);
    g_assert_cmpint(n, <, 256);
    close(hogs[--n]); /* exactly one fd left: the client's */
    uint64_t before = fd_limit_errors();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(st.port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* completes in the kernel's backlog; the server cannot accept it */
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
    for (int i = 0; i < 1000 && fd_limit_errors() == before; i++)
        g_usleep(10000);
    g_assert_cmpuint(fd_limit_errors(), >, before);
    while (n > 0)
        close(hogs[--n]);
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &rl), ==, 0);
    static const char req[] = "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    g_assert_cmpint(write(fd, req, sizeof req - 1), ==, (ssize_t)(sizeof req - 1));
    struct timeval tv = {.tv_sec = 20};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256] = "";
    ssize_t got = read(fd, buf, sizeof buf - 1);
    g_assert_cmpint(got, >, 12);
    g_assert_true(g_str_has_prefix(buf, "HTTP/1.1 200"));
    close(fd);
    /* and new connections are served as before */
    unsigned status;
    g_free(request("GET", "/healthz", NULL, &status, NULL));
    g_assert_cmpuint(status, ==, 200);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_log_set_always_fatal(G_LOG_FATAL_MASK);
    tsr_metrics_reset();
    st.ctx = g_main_context_new();
    st.loop = g_main_loop_new(st.ctx, FALSE);
    g_mutex_init(&st.lock);
    g_cond_init(&st.ready);
    g_mutex_lock(&st.lock);
    GThread *t = g_thread_new("http", serve, &st);
    while (!st.port)
        g_cond_wait(&st.ready, &st.lock);
    g_mutex_unlock(&st.lock);
    session = soup_session_new();
    g_test_add_func("/http/healthz", test_healthz);
    g_test_add_func("/http/metrics_and_404", test_metrics_and_404);
    g_test_add_func("/http/json_helpers", test_json_helpers);
    g_test_add_func("/http/bind_failure", test_bind_failure);
    g_test_add_func("/http/fd_limit", test_fd_limit);
    int rc = g_test_run();
    g_object_unref(session);
    g_main_loop_quit(st.loop);
    g_thread_join(t);
    g_main_loop_unref(st.loop);
    g_main_context_unref(st.ctx);
    tsr_metrics_reset();
    return rc;
}
