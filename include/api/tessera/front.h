/* The front layer: what every way into Tessera shares, so that a front (native
 * REST + SSE, Pexip client API, inLive Hub API, WebSocket; SIP next) is only its
 * routes and its wire format.
 *
 *  - struct tsr_front_desc, one const descriptor per front: name, paths, CORS
 *    policy, where tokens come from, body limit, how errors are written and
 *    counted, and a table from conference refusals to status + code + text;
 *  - struct tsr_front_req, one request helper: CORS and preflights, decoded path
 *    segments, the JSON body (size limit, duplicate keys refused) with typed member
 *    getters, the token, uniform errors (the alias rule included);
 *  - struct tsr_front_stream, one server-sent event stream: keep-alive, a bounded
 *    backlog, and a slow reader dropped and counted;
 *  - struct tsr_front_wait, a request parked until the conference call it waits
 *    for completes on a net loop;
 *  - struct tsr_front_session, a refcounted session the conference core holds for
 *    each participant (struct tsr_participant_holder): LEASE (the token) or BOUND
 *    (the front's connection) says what keeps the participant alive;
 *  - struct tsr_front_ops, how the server starts and stops every front from one
 *    table.
 *
 * Errors: every front answers an error with a status, a stable machine word (the
 * code) and a text, in its own envelope, and counts it by code (or by status,
 * where the front's metric always did). A refused alias is the same everywhere:
 * 400, "bad_request", TSR_CONFERENCE_ALIAS_RULE.
 *
 * Home thread: the API loop, except functions marked "thread: any". */
#ifndef TESSERA_FRONT_H
#define TESSERA_FRONT_H

#include <tessera/conference.h>
#include <tessera/http.h>

#include <jansson.h>
#include <libsoup/soup.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tsr_config;

/* --- the descriptor -------------------------------------------------------------- */

/* Where a participant token may come from (flags). */
#define TSR_FRONT_TOKEN_BEARER 0x1u        /* Authorization: Bearer TOKEN */
#define TSR_FRONT_TOKEN_HEADER 0x2u        /* token: TOKEN (Pexip's header) */
#define TSR_FRONT_TOKEN_QUERY 0x4u         /* ?token=TOKEN on every route (sendBeacon) */
#define TSR_FRONT_TOKEN_QUERY_STREAMS 0x8u /* ?token=TOKEN on event streams only */

/* What the browser-facing APIs allow from any origin. */
#define TSR_FRONT_CORS_ALL_METHODS "GET, POST, PUT, PATCH, DELETE, OPTIONS"
#define TSR_FRONT_CORS_ALL_HEADERS "Content-Type, Authorization, token, X-Requested-With"

/* CORS answer of a front. */
struct tsr_front_cors {
    bool echo_origin;     /* Allow-Origin: the request's Origin (+ credentials), else "*" */
    const char *methods;  /* Access-Control-Allow-Methods */
    const char *headers;  /* Access-Control-Allow-Headers */
    bool private_network; /* preflights also allow Chrome's Private Network Access */
};

/* One error as a front writes it. */
struct tsr_front_error {
    unsigned status;        /* HTTP status (a WebSocket front ignores it) */
    const char *code;       /* stable machine word: "bad_request", "wrong_pin" */
    const char *text;       /* for humans */
    unsigned retry_after_s; /* > 0: Retry-After on the answer */
};

/* How one front says a conference refusal. The default (no table, or an entry
 * with status 0) is the HTTP meaning every front shares: 404 no such conference,
 * 401 PIN required, 403 wrong PIN, 409 full or locked, 429 too many attempts, 503
 * capacity (Retry-After) or no media, 500 media failed, else 400. An entry with a
 * status replaces the default; its NULL code and text are the core's word
 * (tsr_conference_refusal_code) and the core's message. */
struct tsr_front_refusal {
    unsigned status;
    const char *code;
    const char *text;
    unsigned retry_after_s;
};

/* Writes an error in the front's envelope (already counted and logged). */
typedef void (*tsr_front_write_error_fn)(SoupServerMessage *msg, const struct tsr_front_error *e);

/* What a front's event streams look like. */
struct tsr_front_sse {
    const char *content_type;   /* "text/event-stream" (+ charset) */
    unsigned keepalive_s;       /* 0: no keep-alive */
    const char *keepalive;      /* what is written then (a comment, or a ping event) */
    bool connection_keep_alive; /* say "Connection: keep-alive" (inLive's clients read it) */
    size_t max_backlog_bytes;   /* written but not yet sent; more drops the stream (0: 4 MiB) */
    const char *gauge;          /* gauge of open streams, or NULL */
    const char *gauge_help;
};

struct tsr_front_desc {
    const char *name;      /* "native", "pexip", "inlive", "ws": logs and metric labels */
    const char *prefix;    /* the handler's path on the HTTP server ("/api/v1") */
    const char *path_base; /* what precedes the route's segments ("/api/v1/") */
    bool trim_segments;    /* trailing blanks of a segment are dropped (an inLive client's quirk) */
    struct tsr_front_cors cors;
    unsigned token_sources; /* TSR_FRONT_TOKEN_* */
    size_t max_body_bytes;
    const char *bad_body_code;            /* code of a body that is not acceptable JSON */
    const char *bad_body_prefix;          /* put before the parser's message ("" or NULL: none) */
    tsr_front_write_error_fn write_error; /* NULL: the front writes its own (WebSocket) */
    const char *error_metric;             /* counter of errors sent */
    const char *error_metric_help;
    bool error_label_status; /* label the counter status="…" instead of code="…" */
    struct tsr_front_sse sse;
    /* TSR_CONFERENCE_REFUSAL_COUNT entries indexed by the refusal (status 0: the
     * default), or NULL: every refusal as the default says. */
    const struct tsr_front_refusal *refusals;
};

/* Purpose: the error a front gives for refusal `why` with the core's message
 * core_text (borrowed; *out points into it or into static tables). Thread: any. */
void tsr_front_refusal_error(const struct tsr_front_desc *d, enum tsr_conference_refusal why,
                             const char *core_text, struct tsr_front_error *out);
/* Purpose: the one answer to an alias that breaks the rule: 400, "bad_request",
 * TSR_CONFERENCE_ALIAS_RULE. Thread: any. */
void tsr_front_alias_error(struct tsr_front_error *out);

/* Purpose: count e in d's error metric and log it at debug (`where`: the path or
 * the socket's alias). Fronts that write errors themselves (WebSocket) call it. */
void tsr_front_count_error(const struct tsr_front_desc *d, const char *where,
                           const struct tsr_front_error *e);
/* Purpose: answer msg with e: counted, logged, Retry-After when set, then written
 * by d->write_error. */
void tsr_front_reply_error(const struct tsr_front_desc *d, SoupServerMessage *msg,
                           const struct tsr_front_error *e);

/* Purpose: tsr_front_reply_error with a formatted text. */
void tsr_front_fail(const struct tsr_front_desc *d, SoupServerMessage *msg, unsigned status,
                    const char *code, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void tsr_front_failv(const struct tsr_front_desc *d, SoupServerMessage *msg, unsigned status,
                     const char *code, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

/* Purpose: apply a CORS policy to msg's response. Returns true when msg was an
 * OPTIONS preflight, which is then answered (204). */
bool tsr_front_cors_apply(SoupServerMessage *msg, const struct tsr_front_cors *c);

/* --- request bodies and JSON members (pure; thread: any) ----------------------------- */

#define TSR_FRONT_BODY_EMPTY_OK 0x1u /* a blank body reads as {} */
#define TSR_FRONT_BODY_ANY 0x2u      /* any JSON value (else an object is required) */

/* Purpose: parse a request body of at most max_bytes as JSON with duplicate keys
 * refused (two "pin" members must not mean whichever wins). Returns 0 and *out
 * (json_decref), TSR_ERR_FULL (too large) or TSR_ERR_INVALID (not JSON, or not an
 * object without TSR_FRONT_BODY_ANY); on failure *err_text is a newly allocated
 * message (g_free) and *out untouched. */
int tsr_front_parse_json(const uint8_t *data, size_t len, size_t max_bytes, unsigned flags,
                         json_t **out, char **err_text);

/* Purpose: string member `key` of obj: absent or null gives NULL; a string without
 * an embedded NUL gives it (borrowed from obj); anything else sets *bad and gives
 * NULL. obj may be any value (not an object: absent). */
const char *tsr_front_json_str(const json_t *obj, const char *key, bool *bad);
/* Purpose: boolean member `key`: true and *out when it is one, else false. */
bool tsr_front_json_bool(const json_t *obj, const char *key, bool *out);
/* Purpose: optional integer member in [min, max]: absent or null leaves *out and
 * returns true; an integer in range sets *out; anything else returns false. */
bool tsr_front_json_int(const json_t *obj, const char *key, json_int_t min, json_int_t max,
                        json_int_t *out);

/* Purpose: split `path` after `base` into percent-decoded segments (at most 8;
 * "/" escaped inside a segment and NUL are refused; trim drops trailing blanks).
 * Returns a NULL-terminated vector (g_strfreev) and *n, or NULL when path does not
 * start with base or cannot be decoded. Thread: any. */
char **tsr_front_split_path(const char *path, const char *base, bool trim, unsigned *n);

/* --- one request -------------------------------------------------------------------- */

struct tsr_front_req {
    const struct tsr_front_desc *front;
    void *api; /* the front's state: the handler's user data */
    SoupServerMessage *msg;
    GHashTable *query;
    const char *method;
    char **seg; /* decoded segments after front->path_base; NULL: not a route */
    unsigned n_seg;
    json_t *body; /* owned once read; NULL before */
};

/* Purpose: start handling msg: CORS first (a preflight is answered and false
 * returned), then method and segments. Always pair with tsr_front_req_end. */
bool tsr_front_req_begin(struct tsr_front_req *r, const struct tsr_front_desc *d, void *api,
                         SoupServerMessage *msg, const char *path, GHashTable *query);
/* Purpose: free what the request holds (segments, body). */
void tsr_front_req_end(struct tsr_front_req *r);

bool tsr_front_req_is(const struct tsr_front_req *r, const char *method);
/* Purpose: true when the path is a route (seg set) and no segment is empty. */
bool tsr_front_req_segments_ok(const struct tsr_front_req *r);
/* Purpose: answer with an error (see tsr_front_reply_error); text from fmt. */
void tsr_front_req_fail(struct tsr_front_req *r, unsigned status, const char *code, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));
/* Purpose: 405 method_not_allowed with Allow: allowed. */
void tsr_front_req_method_not_allowed(struct tsr_front_req *r, const char *allowed);
/* Purpose: answer a conference refusal through the front's table. */
void tsr_front_req_refuse(struct tsr_front_req *r, enum tsr_conference_refusal why,
                          const char *core_text);
/* Purpose: true when alias keeps the rule; otherwise the uniform refusal is sent. */
bool tsr_front_req_alias_ok(struct tsr_front_req *r, const char *alias);
/* Purpose: read r->body (flags TSR_FRONT_BODY_*); on failure 413 body_too_large or
 * 400 front->bad_body_code is sent and false returned. */
bool tsr_front_req_body(struct tsr_front_req *r, unsigned flags);
/* Purpose: the participant token from the front's token sources (stream: the
 * request opens an event stream, whose EventSource cannot set headers), or NULL.
 * Empty values count as absent. Borrowed from the request. */
const char *tsr_front_req_token(const struct tsr_front_req *r, bool stream);

/* --- server-sent event streams ---------------------------------------------------------- */

struct tsr_front_stream;
/* The stream's connection finished (the client went away, or the end was sent, or
 * the stream was dropped). s stays valid until tsr_front_stream_free. */
typedef void (*tsr_front_stream_closed_fn)(struct tsr_front_stream *s, void *user);

/* Purpose: turn msg into an event stream: 200 with d->sse's headers, "retry:
 * 3000", keep-alive every d->sse.keepalive_s. Everything written waits in
 * libsoup until the socket takes it; a stream more than max_backlog_bytes behind
 * is dropped (no more writes, connection shut, on_closed called,
 * tessera_sse_streams_dropped_total{front} counted): a client that cannot keep up
 * reconnects and starts from a fresh snapshot, instead of the server buffering
 * without bound. Returns the stream (free with tsr_front_stream_free). */
struct tsr_front_stream *tsr_front_stream_open(const struct tsr_front_desc *d,
                                               SoupServerMessage *msg,
                                               tsr_front_stream_closed_fn on_closed, void *user);
/* Purpose: "event: NAME\ndata: JSON\n\n" with compact JSON on one line (data NULL:
 * null). Newly allocated (g_free). Thread: any. */
char *tsr_front_sse_format(const char *event, const json_t *data);
/* Purpose: send one event (data borrowed). Nothing happens once ended. */
void tsr_front_stream_send(struct tsr_front_stream *s, const char *event, const json_t *data);
/* Purpose: write text as it is (an event formatted earlier, a comment). */
void tsr_front_stream_write(struct tsr_front_stream *s, const char *text);
/* Purpose: write the last chunk; the connection then finishes (on_closed). */
void tsr_front_stream_end(struct tsr_front_stream *s);
bool tsr_front_stream_ended(const struct tsr_front_stream *s);
/* Purpose: bytes written to s that the socket has not taken yet. */
size_t tsr_front_stream_backlog(const struct tsr_front_stream *s);
/* Purpose: end s if it is not, let go of the connection, free. on_closed is not
 * called. Accepts NULL; NULLs *s. */
void tsr_front_stream_free(struct tsr_front_stream **s);

/* --- sessions --------------------------------------------------------------------------- */

struct tsr_front_session;
/* The session's participant left (reason as the core says it); the session no
 * longer has a participant when this runs. */
typedef void (*tsr_front_session_left_fn)(struct tsr_front_session *s, enum tsr_leave_reason reason,
                                          void *user);

/* Purpose: a session of front d (refcount 1, the caller's) whose participant stays
 * alive as `liveness` says. Join with tsr_front_session_holder(s) in the request;
 * the core then holds a reference until the participant leaves. */
struct tsr_front_session *tsr_front_session_new(const struct tsr_front_desc *d,
                                                enum tsr_participant_liveness liveness);
struct tsr_front_session *tsr_front_session_ref(struct tsr_front_session *s);
/* Purpose: drop a reference; the last one frees (data_free runs). Returns NULL, so
 * `s = tsr_front_session_unref(s)`. Accepts NULL. */
struct tsr_front_session *tsr_front_session_unref(struct tsr_front_session *s);
struct tsr_participant_holder *tsr_front_session_holder(struct tsr_front_session *s);
/* Purpose: the participant while it is in its conference, else NULL. Borrowed. */
struct tsr_participant *tsr_front_session_participant(const struct tsr_front_session *s);
/* Purpose: be told when the participant leaves (fn NULL: not any more). */
void tsr_front_session_on_left(struct tsr_front_session *s, tsr_front_session_left_fn fn,
                               void *user);
/* Purpose: the front's data on the session (a Pexip call id); data_free runs on the
 * next set and when the session is freed. */
void tsr_front_session_set_data(struct tsr_front_session *s, void *data, GDestroyNotify data_free);
void *tsr_front_session_data(const struct tsr_front_session *s);
/* Purpose: the participant leaves now, if it is still in (the front's connection
 * went away). on_left runs as for any leave. */
void tsr_front_session_leave(struct tsr_front_session *s, enum tsr_leave_reason reason);
/* Purpose: the session p joined with, if it joined through a front, else NULL. */
struct tsr_front_session *tsr_front_session_of(const struct tsr_participant *p);
/* Purpose: the descriptor of s's front. */
const struct tsr_front_desc *tsr_front_session_front(const struct tsr_front_session *s);

/* --- requests waiting for a conference call -------------------------------------------
 * A join with an offer, an offer, an answer or a candidate completes on a net loop
 * (conference.h, "asynchronous calls"): the handler parks its request in a wait
 * (the message paused and referenced) and answers it from the call's done. Waits
 * live in a set (a GPtrArray of the front, or of an inLive client) so that whoever
 * goes away first can call the rest off and answer them. */
struct tsr_front_wait {
    struct tsr_front_req req;         /* the request to answer: no segments, no body */
    struct tsr_conference_call *call; /* what it waits for, while in flight */
    void *data;                       /* the front's, freed with data_free */
    GDestroyNotify data_free;
    GPtrArray *set; /* borrowed */
};

/* Purpose: park r (its message paused) in set; pass &w->call to the conference call. */
struct tsr_front_wait *tsr_front_wait_new(const struct tsr_front_req *r, GPtrArray *set);
/* Purpose: the first thing a done does with its user pointer: the call is over
 * (nothing to cancel any more). Returns the wait. */
struct tsr_front_wait *tsr_front_wait_resumed(void *user);
/* Purpose: the answer is written into w->req.msg: send it, leave the set, free. */
void tsr_front_wait_done(struct tsr_front_wait *w);
/* Purpose: every wait of set: its call cancelled, answered with e, done. */
void tsr_front_wait_cancel_all(GPtrArray *set, const struct tsr_front_error *e);
/* Purpose: a front stops: every wait of *set is answered 503 "shutting_down" (its
 * call will not complete now), then the set is freed; NULLs *set. */
void tsr_front_wait_shutdown(GPtrArray **set);

/* --- starting fronts -------------------------------------------------------------------- */

/* What a front is started with; all borrowed, outliving the front. */
struct tsr_front_env {
    struct tsr_http *http;
    struct tsr_conference_registry *reg;
    const struct tsr_config *cfg; /* NULL: built-in defaults */
};

/* A front as the server sees it: a table entry (Janus' transport idea). */
struct tsr_front_ops {
    const struct tsr_front_desc *desc;
    /* Adds the front's routes; *state is its object. Returns 0 or a negative code. */
    int (*start)(const struct tsr_front_env *env, void **state);
    /* Removes the routes, closes its connections (their participants leave). NULLs *state. */
    void (*stop)(void **state);
};

/* Defines `const struct tsr_front_ops name` for a front whose object type is T,
 * made by `int make(T **out, const struct tsr_front_env *env)` and freed by the
 * project's `void free_fn(T **p)`: the front keeps its typed API, the server's
 * table gets the untyped entry. */
#define TSR_FRONT_OPS_DEFINE(name, desc_ptr, T, make, free_fn)                                     \
    static int name##_start(const struct tsr_front_env *env, void **state)                         \
    {                                                                                              \
        T *obj = NULL;                                                                             \
        int rc = make(&obj, env);                                                                  \
        *state = obj;                                                                              \
        return rc;                                                                                 \
    }                                                                                              \
    static void name##_stop(void **state)                                                          \
    {                                                                                              \
        T *obj = *state;                                                                           \
        free_fn(&obj);                                                                             \
        *state = NULL;                                                                             \
    }                                                                                              \
    const struct tsr_front_ops name = {.desc = desc_ptr, .start = name##_start, .stop = name##_stop}

#endif
