/* ICE (RFC 8445) for one participant: a libnice NiceAgent with one stream and one
 * component (BUNDLE + rtcp-mux), living on a caller-given GMainContext.
 *
 * ICE-lite (controlled, answers checks only) unless a STUN server is configured,
 * then full ICE. Home thread: the net loop that owns `ctx`; every function and
 * every callback runs there. */
#ifndef TESSERA_ICE_H
#define TESSERA_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gio/gio.h>
#include <glib.h>

struct tsr_ice;

enum tsr_ice_state {
    TSR_ICE_STATE_NEW,
    TSR_ICE_STATE_CHECKING,
    TSR_ICE_STATE_CONNECTED,    /* a pair is selected and packets flow */
    TSR_ICE_STATE_DISCONNECTED, /* nothing received for consent_timeout_ms; may recover */
    TSR_ICE_STATE_FAILED,       /* libnice gave up (full ICE) */
    TSR_ICE_STATE_CLOSED,
};

struct tsr_ice_config {
    uint16_t port_min; /* local UDP port range; 0/0 = any port */
    uint16_t port_max;
    const char
        *public_address;      /* 1:1 NAT: host candidates advertise this address; NULL/"" = none */
    const char *stun_server;  /* "IP:port" (a name is refused: resolve it first, without
                               * blocking a loop); NULL/"" = ICE-lite */
    const char *bind_address; /* gather on this address only (tests: "127.0.0.1"); NULL = all */
    /* Addresses to gather on, "ip[,ip…]" (IP literals; wins over bind_address);
     * NULL/"" = every interface, plus loopback when include_loopback is set. */
    const char *media_addresses;
    bool include_loopback;
    /* Also gather passive ICE-TCP host candidates (RFC 6544) in the same port
     * range, for peers whose UDP is blocked; active and simultaneous-open TCP
     * candidates are never advertised (a lite server does not connect out). */
    bool ice_tcp;
    bool controlling;         /* full-ICE client side (loopback test); forces full ICE */
    bool full_ice;            /* full ICE without STUN (the loopback client) */
    uint32_t consent_timeout_ms; /* silence after which DISCONNECTED is reported; 0 = 5000 */
    const char *log_ctx;         /* log prefix (copied); NULL = "ice" */
};

/* Called with each datagram that is not STUN (libnice consumes STUN). `data` is
 * borrowed for the call and may be modified in place by the callee. */
typedef void (*tsr_ice_recv_fn)(void *user, uint8_t *data, size_t len);
typedef void (*tsr_ice_state_fn)(void *user, enum tsr_ice_state state);
/* A newly gathered local candidate (full ICE trickle), "candidate:…" value. */
typedef void (*tsr_ice_candidate_fn)(void *user, const char *candidate);

struct tsr_ice_callbacks {
    tsr_ice_recv_fn on_recv;
    tsr_ice_state_fn on_state;
    tsr_ice_candidate_fn on_candidate; /* may be NULL */
};

/* Purpose: create the agent, its stream, and gather local candidates (host
 * candidates are ready when this returns; srflx ones follow via on_candidate).
 * Ownership: ctx is referenced; cfg strings are copied; cb/user borrowed until free.
 * Returns 0, TSR_ERR_CONFIG (bad stun_server, address or media_addresses), TSR_ERR_IO (no
 * candidate could be gathered, e.g. the port range is exhausted), -ENOMEM. */
int tsr_ice_new(struct tsr_ice **out, GMainContext *ctx, const struct tsr_ice_config *cfg,
                const struct tsr_ice_callbacks *cb, void *user);

/* Purpose: stop the agent (idempotent); no callback runs afterwards. */
void tsr_ice_close(struct tsr_ice *ice);

/* Purpose: close and free; NULLs *ice; accepts NULL. */
void tsr_ice_free(struct tsr_ice **ice);

/* Purpose: local ICE credentials (borrowed; valid until free). */
const char *tsr_ice_local_ufrag(const struct tsr_ice *ice);
const char *tsr_ice_local_pwd(const struct tsr_ice *ice);

/* Purpose: the local candidates gathered so far as "candidate:…" values with the
 * public address applied: UDP ones, and passive TCP ones with "tcptype passive". Ownership: *out is a new NULL-terminated strv
 * (g_strfreev). Returns 0 or -ENOMEM; *n_out gets the count. */
int tsr_ice_local_candidates(const struct tsr_ice *ice, char ***out, size_t *n_out);

/* Purpose: check a media_addresses value ("ip[,ip…]", blanks allowed around
 * commas; "" is valid). Returns 0 or TSR_ERR_CONFIG, with the first bad entry in
 * *bad (g_free) when bad is not NULL. Thread: any. */
int tsr_ice_check_media_addresses(const char *list, char **bad);

/* Purpose: set the peer's credentials (from the offer) and start checks.
 * Returns 0, TSR_ERR_INVALID (bad ufrag/pwd), TSR_ERR_STATE (closed). */
int tsr_ice_set_remote_credentials(struct tsr_ice *ice, const char *ufrag, const char *pwd);

/* Purpose: add one remote candidate ("candidate:…" with or without "a=").
 * mDNS (.local) and TCP candidates are ignored and return TSR_ERR_UNSUPPORTED
 * (the peer is still found through its checks as peer-reflexive).
 * Returns 0, TSR_ERR_INVALID, TSR_ERR_UNSUPPORTED, TSR_ERR_STATE. */
int tsr_ice_add_remote_candidate(struct tsr_ice *ice, const char *candidate);

/* Purpose: the peer signalled a=end-of-candidates (full ICE: checks may now
 * fail for good instead of waiting for more candidates). Returns 0 or TSR_ERR_STATE. */
int tsr_ice_remote_gathering_done(struct tsr_ice *ice);

/* Purpose: send one datagram on the selected pair. `data` is borrowed.
 * Returns 0, TSR_ERR_AGAIN (no pair selected yet), TSR_ERR_IO, TSR_ERR_STATE. */
int tsr_ice_send(struct tsr_ice *ice, const uint8_t *data, size_t len);

enum tsr_ice_state tsr_ice_get_state(const struct tsr_ice *ice);
const char *tsr_ice_state_name(enum tsr_ice_state state);

/* Purpose: the local UDP port of the component (for tests and logs); 0 when none. */
uint16_t tsr_ice_local_port(const struct tsr_ice *ice);

/* Purpose: true once a UDP pair is selected and tsr_ice_send writes to its socket
 * directly (not through libnice, whose agent lock is process-wide); TCP and relayed
 * pairs stay with libnice. For tests and benchmarks. */
bool tsr_ice_sends_direct(const struct tsr_ice *ice);

/* Purpose: stop reading the component through libnice and hand the selected UDP
 * pair's socket to the caller, who reads it from now on (tessera-load counts the
 * packets of unsampled receivers in batches this way); consent is then no longer
 * judged from what arrives. Returns a new reference, or NULL when no UDP pair is
 * selected (or it was taken before). Thread: ice's context. */
GSocket *tsr_ice_take_receive(struct tsr_ice *ice);

#endif
