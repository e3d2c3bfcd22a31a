/* The native HTTP API (REST + server-sent events) and the web client's files.
 *
 * Routes, bodies and error codes are documented in README.md, "Native API".
 * Everything is under /api/v1; the web client (web/) is served at / and /c/ALIAS.
 *
 * Home thread: the API loop, the same one as the HTTP server and the conference
 * registry. Handlers never block; they call the conference core, which calls the
 * media layer's non-blocking operations. */
#ifndef TESSERA_NATIVE_API_H
#define TESSERA_NATIVE_API_H

#include <tessera/conference.h>
#include <tessera/front.h>
#include <tessera/http.h>

#include <stddef.h>
#include <stdint.h>

/* Largest request body accepted; an SDP offer from Chrome is ~6 KiB. */
#define TSR_NATIVE_API_MAX_BODY_BYTES (64 * 1024)
/* Seconds between SSE keep-alive comments (proxies drop idle streams at ~60 s). */
#define TSR_NATIVE_API_KEEPALIVE_S 15

struct tsr_native_api;

/* --- request bodies (pure parsers: no I/O, no globals; fuzzed) -----------------
 * Each takes the raw request body; returns 0 and fills *out, TSR_ERR_FULL when
 * len > TSR_NATIVE_API_MAX_BODY_BYTES, or TSR_ERR_INVALID (not a JSON object, a
 * missing or mistyped member) with *err_text a newly allocated message for the
 * client (g_free). On failure *out is untouched. Thread: any. */

/* POST /conferences/{alias}/join: {"display_name", "pin"?, "sdp"?}. */
struct tsr_native_join_body {
    json_t *root; /* owned: the strings below point into it */
    const char *display_name;
    const char *pin; /* NULL when absent */
    const char *sdp; /* NULL when absent */
};
int tsr_native_api_parse_join(const uint8_t *body, size_t len, struct tsr_native_join_body *out,
                              char **err_text);
/* Purpose: release what parse_join filled; accepts a zeroed struct. */
void tsr_native_join_body_fini(struct tsr_native_join_body *b);

/* POST /participants/{id}/candidates: {"candidate", "sdpMid"?, "sdpMLineIndex"?}. */
struct tsr_native_candidate_body {
    json_t *root;          /* owned */
    const char *candidate; /* "" means end of candidates */
    const char *mid;       /* NULL when absent */
    int mline_index;       /* -1 when absent */
};
int tsr_native_api_parse_candidate(const uint8_t *body, size_t len,
                                   struct tsr_native_candidate_body *out, char **err_text);
void tsr_native_candidate_body_fini(struct tsr_native_candidate_body *b);

/* Purpose: add the /api/v1 routes and the web client's files to `http`.
 * web_root: directory of index.html, app.js …; NULL or "" means TSR_SOURCE_DIR/web.
 * Ownership: http and reg are borrowed and must outlive the API object (free the
 * API first). Returns 0 and *out. Thread: the API loop. */
int tsr_native_api_new(struct tsr_native_api **out, struct tsr_http *http,
                       struct tsr_conference_registry *reg, const char *web_root);

/* Purpose: remove the routes, close every event stream. Accepts NULL; NULLs *p. */
void tsr_native_api_free(struct tsr_native_api **p);

/* Purpose: open event streams (tests). */
unsigned tsr_native_api_n_streams(const struct tsr_native_api *api);

/* The native front: its descriptor, and its entry in the server's table (the
 * configuration's web_root). */
extern const struct tsr_front_desc tsr_native_front_desc;
extern const struct tsr_front_ops tsr_native_front;

#endif
