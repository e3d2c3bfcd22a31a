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
#include <tessera/http.h>

/* Largest request body accepted; an SDP offer from Chrome is ~6 KiB. */
#define TSR_NATIVE_API_MAX_BODY_BYTES (64 * 1024)
/* Seconds between SSE keep-alive comments (proxies drop idle streams at ~60 s). */
#define TSR_NATIVE_API_KEEPALIVE_S 15

struct tsr_native_api;

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

#endif
