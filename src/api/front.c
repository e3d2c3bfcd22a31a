/* The front layer's requests and errors: CORS, path segments, JSON bodies and their
 * members, tokens, refusals and error answers. Streams are in front_sse.c, sessions
 * in front_session.c. Home thread: the API loop (the pure helpers: any). */
#include <tessera/front.h>
#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <string.h>

#define MAX_SEGMENTS 8

/* --- errors ------------------------------------------------------------------------- */

/* What a refusal means in HTTP, for the fronts that do not say otherwise. */
static const struct tsr_front_refusal http_refusals[TSR_CONFERENCE_REFUSAL_COUNT] = {
    [TSR_CONFERENCE_REFUSAL_NO_SUCH_CONFERENCE] = {.status = 404},
    [TSR_CONFERENCE_REFUSAL_PIN_REQUIRED] = {.status = 401},
    [TSR_CONFERENCE_REFUSAL_WRONG_PIN] = {.status = 403},
    [TSR_CONFERENCE_REFUSAL_FULL] = {.status = 409},
    [TSR_CONFERENCE_REFUSAL_LOCKED] = {.status = 409},
    [TSR_CONFERENCE_REFUSAL_MEDIA_UNAVAILABLE] = {.status = 503},
    [TSR_CONFERENCE_REFUSAL_CAPACITY] = {.status = 503,
                                         .retry_after_s = TSR_CONFERENCE_CAPACITY_RETRY_AFTER_S},
    [TSR_CONFERENCE_REFUSAL_MEDIA_FAILED] = {.status = 500},
    [TSR_CONFERENCE_REFUSAL_TOO_MANY_ATTEMPTS] = {.status = 429},
};

void tsr_front_refusal_error(const struct tsr_front_desc *d, enum tsr_conference_refusal why,
                             const char *core_text, struct tsr_front_error *out)
{
    struct tsr_front_refusal r = {0};
    if ((unsigned)why < TSR_CONFERENCE_REFUSAL_COUNT)
        r = d->refusals && d->refusals[why].status ? d->refusals[why] : http_refusals[why];
    out->status = r.status ? r.status : 400;
    out->code = r.code ? r.code : tsr_conference_refusal_code(why);
    out->text = r.text ? r.text : (core_text ? core_text : out->code);
    out->retry_after_s = r.retry_after_s;
}

void tsr_front_alias_error(struct tsr_front_error *out)
{
    *out = (struct tsr_front_error){
        .status = 400, .code = "bad_request", .text = TSR_CONFERENCE_ALIAS_RULE};
}

void tsr_front_count_error(const struct tsr_front_desc *d, const char *where,
                           const struct tsr_front_error *e)
{
    char labels[96];
    if (d->error_label_status)
        g_snprintf(labels, sizeof labels, "status=\"%u\"", e->status);
    else
        g_snprintf(labels, sizeof labels, "code=\"%s\"", e->code);
    tsr_counter_inc(tsr_metrics_counter(d->error_metric, labels, d->error_metric_help));
    TSR_LOG(TSR_LOG_DEBUG, d->name, "%s -> %u %s: %s", where ? where : "-", e->status, e->code,
            e->text);
}

void tsr_front_reply_error(const struct tsr_front_desc *d, SoupServerMessage *msg,
                           const struct tsr_front_error *e)
{
    char *where = g_strdup_printf("%s %s", soup_server_message_get_method(msg),
                                  g_uri_get_path(soup_server_message_get_uri(msg)));
    tsr_front_count_error(d, where, e);
    g_free(where);
    if (e->retry_after_s)
        tsr_http_set_retry_after(msg, e->retry_after_s);
    d->write_error(msg, e);
}

/* --- CORS ------------------------------------------------------------------------------ */

bool tsr_front_cors_apply(SoupServerMessage *msg, const struct tsr_front_cors *c)
{
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    const char *origin =
        c->echo_origin
            ? soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Origin")
            : NULL;
    soup_message_headers_replace(h, "Access-Control-Allow-Origin", origin ? origin : "*");
    if (origin)
        soup_message_headers_replace(h, "Access-Control-Allow-Credentials", "true");
    if (c->echo_origin)
        soup_message_headers_replace(h, "Vary", "Origin");
    soup_message_headers_replace(h, "Access-Control-Allow-Methods", c->methods);
    soup_message_headers_replace(h, "Access-Control-Allow-Headers", c->headers);
    soup_message_headers_replace(h, "Access-Control-Max-Age", "600");
    if (strcmp(soup_server_message_get_method(msg), "OPTIONS") != 0)
        return false;
    if (c->private_network)
        soup_message_headers_replace(h, "Access-Control-Allow-Private-Network", "true");
    soup_server_message_set_status(msg, 204, NULL);
    return true;
}

/* --- bodies and members -------------------------------------------------------------------- */

static bool blank(const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!g_ascii_isspace(data[i]))
            return false;
    return true;
}

int tsr_front_parse_json(const uint8_t *data, size_t len, size_t max_bytes, unsigned flags,
                         json_t **out, char **err_text)
{
    if (len > max_bytes) {
        *err_text = g_strdup_printf("request body is %zu bytes; the limit is %zu", len, max_bytes);
        return TSR_ERR_FULL;
    }
    if ((flags & TSR_FRONT_BODY_EMPTY_OK) && blank(data, len)) {
        *out = json_object();
        return 0;
    }
    json_error_t jerr;
    json_t *root = json_loadb(len ? (const char *)data : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        *err_text = g_strdup_printf("body is not valid JSON: %s (line %d, column %d)", jerr.text,
                                    jerr.line, jerr.column);
        return TSR_ERR_INVALID;
    }
    if (!(flags & TSR_FRONT_BODY_ANY) && !json_is_object(root)) {
        json_decref(root);
        *err_text = g_strdup("body must be a JSON object");
        return TSR_ERR_INVALID;
    }
    *out = root;
    return 0;
}

const char *tsr_front_json_str(const json_t *obj, const char *key, bool *bad)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return NULL;
    /* jansson allows an embedded NUL; the C APIs behind us would cut the string. */
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

bool tsr_front_json_bool(const json_t *obj, const char *key, bool *out)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!json_is_boolean(v))
        return false;
    *out = json_is_true(v);
    return true;
}

bool tsr_front_json_int(const json_t *obj, const char *key, json_int_t min, json_int_t max,
                        json_int_t *out)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return false;
    *out = json_integer_value(v);
    return true;
}

/* --- paths -------------------------------------------------------------------------------- */

char **tsr_front_split_path(const char *path, const char *base, bool trim, unsigned *n)
{
    if (!g_str_has_prefix(path, base))
        return NULL;
    char **seg = g_strsplit(path + strlen(base), "/", MAX_SEGMENTS + 1);
    unsigned count = g_strv_length(seg);
    for (unsigned i = 0; i < count && count <= MAX_SEGMENTS; i++) {
        char *dec = g_uri_unescape_string(seg[i], "/");
        if (!dec) {
            count = MAX_SEGMENTS + 1;
            break;
        }
        if (trim)
            g_strchomp(dec);
        g_free(seg[i]);
        seg[i] = dec;
    }
    if (count > MAX_SEGMENTS) {
        g_strfreev(seg);
        return NULL;
    }
    *n = count;
    return seg;
}

/* --- requests --------------------------------------------------------------------------------- */

bool tsr_front_req_begin(struct tsr_front_req *r, const struct tsr_front_desc *d, void *api,
                         SoupServerMessage *msg, const char *path, GHashTable *query)
{
    *r = (struct tsr_front_req){.front = d,
                                .api = api,
                                .msg = msg,
                                .query = query,
                                .method = soup_server_message_get_method(msg)};
    if (tsr_front_cors_apply(msg, &d->cors))
        return false;
    r->seg = tsr_front_split_path(path, d->path_base, d->trim_segments, &r->n_seg);
    return true;
}

void tsr_front_req_end(struct tsr_front_req *r)
{
    json_decref(r->body);
    r->body = NULL;
    g_strfreev(r->seg);
    r->seg = NULL;
}

bool tsr_front_req_segments_ok(const struct tsr_front_req *r)
{
    for (unsigned i = 0; r->seg && i < r->n_seg; i++)
        if (!r->seg[i][0])
            return false;
    return r->seg != NULL;
}

bool tsr_front_req_is(const struct tsr_front_req *r, const char *method)
{
    return strcmp(r->method, method) == 0;
}

void tsr_front_failv(const struct tsr_front_desc *d, SoupServerMessage *msg, unsigned status,
                     const char *code, const char *fmt, va_list ap)
{
    char *text = g_strdup_vprintf(fmt, ap);
    struct tsr_front_error e = {.status = status, .code = code, .text = text};
    tsr_front_reply_error(d, msg, &e);
    g_free(text);
}

void tsr_front_fail(const struct tsr_front_desc *d, SoupServerMessage *msg, unsigned status,
                    const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tsr_front_failv(d, msg, status, code, fmt, ap);
    va_end(ap);
}

void tsr_front_req_fail(struct tsr_front_req *r, unsigned status, const char *code, const char *fmt,
                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    tsr_front_failv(r->front, r->msg, status, code, fmt, ap);
    va_end(ap);
}

void tsr_front_req_method_not_allowed(struct tsr_front_req *r, const char *allowed)
{
    soup_message_headers_replace(soup_server_message_get_response_headers(r->msg), "Allow",
                                 allowed);
    tsr_front_req_fail(r, 405, "method_not_allowed", "%s is not allowed here; use %s", r->method,
                       allowed);
}

void tsr_front_req_refuse(struct tsr_front_req *r, enum tsr_conference_refusal why,
                          const char *core_text)
{
    struct tsr_front_error e;
    tsr_front_refusal_error(r->front, why, core_text, &e);
    tsr_front_reply_error(r->front, r->msg, &e);
}

bool tsr_front_req_alias_ok(struct tsr_front_req *r, const char *alias)
{
    if (tsr_conference_alias_valid(alias))
        return true;
    struct tsr_front_error e;
    tsr_front_alias_error(&e);
    tsr_front_reply_error(r->front, r->msg, &e);
    return false;
}

bool tsr_front_req_body(struct tsr_front_req *r, unsigned flags)
{
    SoupMessageBody *b = soup_server_message_get_request_body(r->msg);
    char *err = NULL;
    json_t *body = NULL;
    int rc = tsr_front_parse_json((const uint8_t *)b->data, (size_t)b->length,
                                  r->front->max_body_bytes, flags, &body, &err);
    if (rc == TSR_ERR_FULL)
        tsr_front_req_fail(r, 413, "body_too_large", "%s", err);
    else if (rc != 0)
        tsr_front_req_fail(r, 400, r->front->bad_body_code, "%s%s",
                           r->front->bad_body_prefix ? r->front->bad_body_prefix : "", err);
    g_free(err);
    if (rc != 0)
        return false;
    json_decref(r->body);
    r->body = body;
    return true;
}

const char *tsr_front_req_token(const struct tsr_front_req *r, bool stream)
{
    unsigned src = r->front->token_sources;
    SoupMessageHeaders *h = soup_server_message_get_request_headers(r->msg);
    const char *v = NULL;
    if (src & TSR_FRONT_TOKEN_BEARER) {
        const char *auth = soup_message_headers_get_one(h, "Authorization");
        if (auth && g_ascii_strncasecmp(auth, "Bearer ", 7) == 0 && auth[7])
            return auth + 7;
    }
    if ((src & TSR_FRONT_TOKEN_HEADER) && (v = soup_message_headers_get_one(h, "token")) && *v)
        return v;
    bool query = (src & TSR_FRONT_TOKEN_QUERY) || (stream && (src & TSR_FRONT_TOKEN_QUERY_STREAMS));
    if (query && r->query && (v = g_hash_table_lookup(r->query, "token")) && *v)
        return v;
    return NULL;
}
