/* Test helpers for the fronts: a server thread (HTTP listener, conference registry
 * and any fronts from their struct tsr_front_ops, on their own GMainContext) and a
 * blocking libsoup client for plain HTTP calls and server-sent event streams.
 * Header-only (static inline) so each test links just what it uses. */
#ifndef TSR_TESTS_FRONT_SERVER_H
#define TSR_TESTS_FRONT_SERVER_H

#include <tessera/conference.h>
#include <tessera/front.h>
#include <tessera/http.h>

#include <glib.h>
#include <jansson.h>
#include <libsoup/soup.h>
#include <string.h>

#define FRONT_SERVER_MAX_FRONTS 8

struct front_server {
    /* set before front_server_start */
    struct tsr_conference_registry_opts opts; /* context and clock are filled in */
    const char *definitions;                  /* conferences JSON, or NULL */
    const struct tsr_config *cfg;             /* the fronts' configuration, or NULL */
    const struct tsr_front_ops *fronts[FRONT_SERVER_MAX_FRONTS];
    size_t n_fronts;
    /* the server thread's */
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    struct tsr_http *http;
    struct tsr_conference_registry *reg;
    void *state[FRONT_SERVER_MAX_FRONTS];
    GMutex lock;
    GCond cond;
    bool ready;
    uint16_t port;
    int64_t now_us; /* the registry's clock; under lock */
    SoupSession *session;
};

static inline int64_t front_server_clock(void *user)
{
    struct front_server *fs = user;
    g_mutex_lock(&fs->lock);
    int64_t v = fs->now_us;
    g_mutex_unlock(&fs->lock);
    return v;
}

static inline gpointer front_server_main(gpointer data)
{
    struct front_server *fs = data;
    g_main_context_push_thread_default(fs->ctx);
    fs->opts.context = fs->ctx;
    fs->opts.clock = front_server_clock;
    fs->opts.clock_user = fs;
    char *err = NULL;
    g_assert_cmpint(tsr_http_new(&fs->http, "127.0.0.1", 0), ==, 0);
    g_assert_cmpint(tsr_conference_registry_new(&fs->reg, &fs->opts), ==, 0);
    if (fs->definitions)
        g_assert_cmpint(tsr_conference_registry_load_json(fs->reg, fs->definitions,
                                                          strlen(fs->definitions), "test", &err),
                        ==, 0);
    struct tsr_front_env env = {.http = fs->http, .reg = fs->reg, .cfg = fs->cfg};
    for (size_t i = 0; i < fs->n_fronts; i++)
        g_assert_cmpint(fs->fronts[i]->start(&env, &fs->state[i]), ==, 0);
    g_mutex_lock(&fs->lock);
    fs->port = tsr_http_port(fs->http);
    fs->ready = true;
    g_cond_broadcast(&fs->cond);
    g_mutex_unlock(&fs->lock);
    g_main_loop_run(fs->loop);
    for (size_t i = fs->n_fronts; i-- > 0;)
        fs->fronts[i]->stop(&fs->state[i]);
    tsr_conference_registry_free(&fs->reg);
    tsr_http_free(&fs->http);
    while (g_main_context_iteration(fs->ctx, FALSE))
        ;
    g_main_context_pop_thread_default(fs->ctx);
    return NULL;
}

static inline void front_server_start(struct front_server *fs)
{
    g_mutex_init(&fs->lock);
    g_cond_init(&fs->cond);
    fs->now_us = 1000 * G_USEC_PER_SEC;
    fs->ctx = g_main_context_new();
    fs->loop = g_main_loop_new(fs->ctx, FALSE);
    fs->thread = g_thread_new("front-server", front_server_main, fs);
    g_mutex_lock(&fs->lock);
    while (!fs->ready)
        g_cond_wait(&fs->cond, &fs->lock);
    g_mutex_unlock(&fs->lock);
    /* event streams stay open beside the calls */
    fs->session = soup_session_new_with_options("max-conns-per-host", 16, NULL);
}

static inline void front_server_stop(struct front_server *fs)
{
    g_object_unref(fs->session);
    g_main_loop_quit(fs->loop);
    g_thread_join(fs->thread);
    g_main_loop_unref(fs->loop);
    g_main_context_unref(fs->ctx);
}

/* Runs fn(fs, arg) on the server thread and waits for it. */
struct front_server_call {
    struct front_server *fs;
    void (*fn)(struct front_server *fs, void *arg);
    void *arg;
    bool done;
};

static inline gboolean front_server_call_cb(gpointer data)
{
    struct front_server_call *c = data;
    c->fn(c->fs, c->arg);
    g_mutex_lock(&c->fs->lock);
    c->done = true;
    g_cond_broadcast(&c->fs->cond);
    g_mutex_unlock(&c->fs->lock);
    return G_SOURCE_REMOVE;
}

static inline void front_server_run(struct front_server *fs,
                                    void (*fn)(struct front_server *fs, void *arg), void *arg)
{
    struct front_server_call c = {fs, fn, arg, false};
    g_main_context_invoke(fs->ctx, front_server_call_cb, &c);
    g_mutex_lock(&fs->lock);
    while (!c.done)
        g_cond_wait(&fs->cond, &fs->lock);
    g_mutex_unlock(&fs->lock);
}

/* --- plain calls --------------------------------------------------------------- */

struct front_reply {
    unsigned status;
    char *ctype;
    char *retry_after;
    char *text;
    json_t *json; /* NULL when the body is not JSON */
};

static inline void front_reply_clear(struct front_reply *r)
{
    g_free(r->ctype);
    g_free(r->retry_after);
    g_free(r->text);
    json_decref(r->json);
    memset(r, 0, sizeof *r);
}

/* headers: "name: value" strings, NULL-terminated (may be NULL); body NULL: none. */
static inline struct front_reply front_call(struct front_server *fs, const char *method,
                                            const char *path, const char *body,
                                            const char *const *headers)
{
    char *url = g_strdup_printf("http://127.0.0.1:%u%s", fs->port, path);
    SoupMessage *msg = soup_message_new(method, url);
    g_assert_nonnull(msg);
    SoupMessageHeaders *h = soup_message_get_request_headers(msg);
    for (size_t i = 0; headers && headers[i]; i++) {
        gchar **kv = g_strsplit(headers[i], ": ", 2);
        soup_message_headers_replace(h, kv[0], kv[1]);
        g_strfreev(kv);
    }
    if (body) {
        GBytes *b = g_bytes_new(body, strlen(body));
        soup_message_set_request_body_from_bytes(msg, "application/json", b);
        g_bytes_unref(b);
    }
    GBytes *out = soup_session_send_and_read(fs->session, msg, NULL, NULL);
    g_assert_nonnull(out);
    SoupMessageHeaders *rh = soup_message_get_response_headers(msg);
    struct front_reply r = {.status = soup_message_get_status(msg)};
    r.ctype = g_strdup(soup_message_headers_get_one(rh, "Content-Type"));
    r.retry_after = g_strdup(soup_message_headers_get_one(rh, "Retry-After"));
    r.text = g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
    r.json = json_loads(r.text, JSON_DECODE_ANY, NULL);
    g_bytes_unref(out);
    g_object_unref(msg);
    g_free(url);
    return r;
}

/* The string member `key` of a reply's JSON object, or NULL. */
static inline const char *front_reply_str(const struct front_reply *r, const char *key)
{
    return json_string_value(json_object_get(r->json, key));
}

/* --- event streams -------------------------------------------------------------- */

struct front_sse {
    SoupMessage *msg;
    GInputStream *in;
    GString *buf;
    size_t pos; /* consumed up to here */
};

/* Opens GET path as an event stream; the answer's status must be 200. */
static inline void front_sse_open(struct front_server *fs, struct front_sse *s, const char *path)
{
    char *url = g_strdup_printf("http://127.0.0.1:%u%s", fs->port, path);
    s->msg = soup_message_new("GET", url);
    s->in = soup_session_send(fs->session, s->msg, NULL, NULL);
    g_assert_nonnull(s->in);
    g_assert_cmpuint(soup_message_get_status(s->msg), ==, 200);
    s->buf = g_string_new(NULL);
    s->pos = 0;
    g_free(url);
}

/* Reads until an event `name` whose data contains `needle` (NULL: any) arrives after
 * what was consumed; returns its data (owned), or NULL when the stream ends first. */
static inline char *front_sse_next(struct front_sse *s, const char *name, const char *needle)
{
    char *head = g_strdup_printf("event: %s\ndata: ", name);
    for (;;) {
        const char *at = strstr(s->buf->str + s->pos, head);
        while (at) {
            const char *data = at + strlen(head), *end = strstr(data, "\n\n");
            if (!end)
                break;
            if (!needle || g_strstr_len(data, end - data, needle)) {
                s->pos = (size_t)(end - s->buf->str) + 2;
                g_free(head);
                return g_strndup(data, end - data);
            }
            at = strstr(end, head);
        }
        char chunk[4096];
        gssize n = g_input_stream_read(s->in, chunk, sizeof chunk, NULL, NULL);
        if (n <= 0) {
            g_free(head);
            return NULL;
        }
        g_string_append_len(s->buf, chunk, n);
    }
}

/* Like front_sse_next, but the event must come. */
static inline void front_sse_expect(struct front_sse *s, const char *name, const char *needle)
{
    char *d = front_sse_next(s, name, needle);
    if (!d)
        g_error("no %s event with %s; got:\n%s", name, needle ? needle : "-", s->buf->str);
    g_free(d);
}

static inline void front_sse_close(struct front_sse *s)
{
    g_input_stream_close(s->in, NULL, NULL);
    g_object_unref(s->in);
    g_object_unref(s->msg);
    g_string_free(s->buf, TRUE);
}

#endif
