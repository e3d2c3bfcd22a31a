/* JSON over HTTP for the load generator, on libsoup's asynchronous session so a
 * slow answer never holds up the media of the other participants. */
#include "load.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct pending {
    load_http_fn cb;
    void *user;
    SoupMessage *msg;
};

static void on_done(GObject *source, GAsyncResult *res, gpointer data)
{
    struct pending *p = data;
    GError *err = NULL;
    GBytes *raw = soup_session_send_and_read_finish(SOUP_SESSION(source), res, &err);
    int status = err ? 0 : (int)soup_message_get_status(p->msg);
    json_t *body = NULL;
    if (raw) {
        gsize len = 0;
        const char *text = g_bytes_get_data(raw, &len);
        if (len > 0)
            body = json_loadb(text, len, 0, NULL);
    }
    p->cb(p->user, status, body, raw);
    json_decref(body);
    if (raw)
        g_bytes_unref(raw);
    g_clear_error(&err);
    g_object_unref(p->msg);
    g_free(p);
}

void load_http_request(SoupSession *s, const char *method, const char *url, json_t *body,
                       const char *token, load_http_fn cb, void *user)
{
    struct pending *p = g_new0(struct pending, 1);
    p->cb = cb;
    p->user = user;
    p->msg = soup_message_new(method, url);
    if (!p->msg) { /* an unparsable URL: report it like a transport error */
        g_free(p);
        cb(user, 0, NULL, NULL);
        return;
    }
    SoupMessageHeaders *h = soup_message_get_request_headers(p->msg);
    if (token) {
        char *auth = g_strdup_printf("Bearer %s", token);
        soup_message_headers_replace(h, "Authorization", auth);
        g_free(auth);
    }
    if (body) {
        char *text = json_dumps(body, JSON_COMPACT);
        GBytes *b = g_bytes_new_take(text, strlen(text));
        soup_message_set_request_body_from_bytes(p->msg, "application/json", b);
        g_bytes_unref(b);
    }
    soup_session_send_and_read_async(s, p->msg, G_PRIORITY_DEFAULT, NULL, on_done, p);
}

char *load_http_get_sync(SoupSession *s, const char *url, int *status)
{
    SoupMessage *msg = soup_message_new("GET", url);
    *status = 0;
    if (!msg)
        return NULL;
    GBytes *raw = soup_session_send_and_read(s, msg, NULL, NULL);
    *status = (int)soup_message_get_status(msg);
    char *text = NULL;
    if (raw) {
        gsize len = 0;
        const char *d = g_bytes_get_data(raw, &len);
        text = g_strndup(d, len);
        g_bytes_unref(raw);
    }
    g_object_unref(msg);
    return text;
}

double load_metrics_value(const char *text, const char *name)
{
    size_t n = strlen(name);
    double sum = NAN;
    for (const char *line = text; line && *line;) {
        const char *value = NULL;
        if (strncmp(line, name, n) == 0 && line[n] == ' ')
            value = line + n + 1;
        else if (strncmp(line, name, n) == 0 && line[n] == '{' && (value = strchr(line, '}')))
            value++;
        if (value)
            sum = (isnan(sum) ? 0 : sum) + g_ascii_strtod(value, NULL);
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return sum;
}
