/* Plain WebSocket signalling at /ws/{alias}: the smallest way for a simple client
 * to join a conference. Wire format and flow: README.md "WebSocket signalling".
 *
 * Client → server, one JSON object per text message, exactly one of these keys:
 *   {"join": {"display_name": "Ann", "pin": "1234"}}   optional, before the offer
 *   {"sdp": "v=0…"}  or  {"sdp": {"type": "offer", "sdp": "v=0…"}}
 *   {"candidate": "candidate:…"} or {"candidate": {"candidate", "sdpMid",
 *                                   "sdpMLineIndex"}} or {"candidate": null}
 *   {"bye": true}
 * Server → client:
 *   {"sdp": answer} in the form the offer came in (string, or {"type":"answer","sdp"})
 *   {"error": code, "message": text}
 *   {"bye": true, "reason": why}   the server removed the participant, then closes
 * The server sends no candidates: every server candidate is already in the answer
 * (ICE-lite). Display name and PIN may also come as ?name=&pin= in the URL.
 *
 * Two layers: a pure message parser (no I/O, no globals, fuzzed by
 * tests/fuzz/fuzz_ws_signalling.c) and the sessions on the libsoup server. */
#ifndef TESSERA_WS_SIGNALLING_H
#define TESSERA_WS_SIGNALLING_H

#include <tessera/conference.h>
#include <tessera/front.h>
#include <tessera/http.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSR_WS_SIGNALLING_PATH "/ws"
/* Largest message handled; a Chrome offer is ~6 KiB. Bigger ones get a "too_large"
 * error and the socket is closed (1009). libsoup itself drops frames over 4× this. */
#define TSR_WS_SIGNALLING_MAX_MESSAGE_BYTES (64 * 1024)
/* Protocol errors (bad JSON, unknown message …) tolerated before the socket is closed. */
#define TSR_WS_SIGNALLING_MAX_ERRORS 8
/* A socket that has not sent its offer this long after connecting is closed. */
#define TSR_WS_SIGNALLING_JOIN_TIMEOUT_S 30
/* Candidates that arrive before the offer are kept (up to this many) and applied
 * after the join; a client may trickle before it sends its offer. */
#define TSR_WS_SIGNALLING_MAX_EARLY_CANDIDATES 32
/* WebSocket pings keep NAT bindings and proxies from dropping an idle socket. */
#define TSR_WS_SIGNALLING_KEEPALIVE_S 15

enum tsr_ws_signalling_message_type {
    TSR_WS_SIGNALLING_MESSAGE_JOIN = 0,
    TSR_WS_SIGNALLING_MESSAGE_SDP,
    TSR_WS_SIGNALLING_MESSAGE_CANDIDATE,
    TSR_WS_SIGNALLING_MESSAGE_BYE,
};

/* One parsed client message. Strings are owned (tsr_ws_signalling_message_fini frees them);
 * members not used by the type are NULL. */
struct tsr_ws_signalling_message {
    enum tsr_ws_signalling_message_type type;
    /* JOIN: either may be NULL (keep what the URL said). */
    char *display_name;
    char *pin;
    /* SDP: the offer; sdp_as_object when it came as {"type":"offer","sdp":…}. */
    char *sdp;
    bool sdp_as_object;
    /* CANDIDATE: "candidate:…" (an "a=" prefix removed) or "" for end of candidates;
     * mid NULL and mline_index -1 when not given. */
    char *candidate;
    char *mid;
    int mline_index;
};

/* Purpose: parse one client message (the payload of a text frame).
 * Returns 0 and fills *out (caller calls tsr_ws_signalling_message_fini), or on failure
 * TSR_ERR_FULL (longer than TSR_WS_SIGNALLING_MAX_MESSAGE_BYTES), TSR_ERR_INVALID
 * (not a JSON object), TSR_ERR_UNSUPPORTED (none of the known keys) or
 * TSR_ERR_PROTOCOL (a known key with a wrong type or value, or two of them);
 * then *err_code is the static wire code ("too_large", "bad_json",
 * "unknown_message", "bad_message"), *err_text a newly allocated message for the
 * client (g_free), and *out untouched. Pure; thread: any. */
int tsr_ws_signalling_parse(const uint8_t *data, size_t len, struct tsr_ws_signalling_message *out,
                            const char **err_code, char **err_text);

/* Purpose: free the strings of m and reset it (pointers NULL, mline_index -1).
 * Accepts NULL and a zeroed m. */
void tsr_ws_signalling_message_fini(struct tsr_ws_signalling_message *m);

/* Purpose: the server's answer message as JSON text: {"sdp": answer_sdp} or, when
 * as_object, {"sdp": {"type": "answer", "sdp": answer_sdp}}. Newly allocated (g_free).
 * Pure; thread: any. */
char *tsr_ws_signalling_format_answer(const char *answer_sdp, bool as_object);

/* Purpose: {"error": code, "message": text} as JSON text. Newly allocated (g_free). */
char *tsr_ws_signalling_format_error(const char *code, const char *text);

/* --- the /ws/{alias} endpoint ------------------------------------------------- */

struct tsr_ws_signalling;

/* Purpose: add the WebSocket handler at /ws on http's server; each socket is one
 * participant of conference {alias}, joined through reg.
 * Ownership: http and reg are borrowed and must outlive the object (free this
 * first). Returns 0 and *out. Thread: the API loop (the registry's). */
int tsr_ws_signalling_new(struct tsr_ws_signalling **out, struct tsr_http *http,
                          struct tsr_conference_registry *reg);

/* Purpose: remove the handler; every joined socket's participant leaves
 * (TSR_LEAVE_SHUTDOWN) and every socket is closed (1001). Accepts NULL; NULLs *p. */
void tsr_ws_signalling_free(struct tsr_ws_signalling **p);

/* Purpose: open sockets (tests, metrics). */
unsigned tsr_ws_signalling_n_sessions(const struct tsr_ws_signalling *ws);

/* The WebSocket front: its descriptor (errors go out on the socket, counted in
 * tessera_ws_signalling_errors_total{code}) and its entry in the server's table. */
extern const struct tsr_front_desc tsr_ws_front_desc;
extern const struct tsr_front_ops tsr_ws_front;

#endif
