/* The ICE servers Tessera hands to its clients ([webrtc] turn_servers): STUN and
 * TURN URLs (RFC 7064, RFC 7065) with TURN credentials. Pure: no I/O, no globals.
 *
 * Text form, as in the config file: entries separated by commas, each
 *   URL                          stun:stun.example.com:3478
 *   URL USERNAME CREDENTIAL      turn:turn.example.com:3478?transport=udp alice s3cret
 * (blanks separate the three fields, so neither name nor credential may hold a
 * blank or a comma). A turn:/turns: URL needs both; browsers refuse TURN without. */
#ifndef TESSERA_ICE_SERVERS_H
#define TESSERA_ICE_SERVERS_H

#include <stdbool.h>
#include <stddef.h>

struct tsr_ice_server {
    char *url;        /* "stun:…", "stuns:…", "turn:…" or "turns:…" */
    char *username;   /* NULL for STUN */
    char *credential; /* NULL for STUN */
    bool turn;        /* turn: or turns: */
};

/* Purpose: parse `text` (NULL or "" = none). Ownership: *out is a new array of
 * *n_out entries (NULL when 0); free with tsr_ice_servers_free(). Thread: any.
 * Returns 0, or TSR_ERR_CONFIG with *err (g_free) naming the bad entry and why
 * when err is not NULL; nothing is written on failure. */
int tsr_ice_servers_parse(const char *text, struct tsr_ice_server **out, size_t *n_out,
                          char **err);

/* Purpose: free an array from tsr_ice_servers_parse; accepts NULL. */
void tsr_ice_servers_free(struct tsr_ice_server *servers, size_t n);

#endif
