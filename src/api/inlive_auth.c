/* inLive Hub API v1: who may act on a client or on a room (issue 17).
 *
 * Clients. Every known inLive client (both tutorials, the JS SDK, the Python SDK)
 * takes its client id from register's answer (data.client_id) and sends nothing
 * else on the client routes: no Authorization on negotiate, candidate, events,
 * setname or leave, and EventSource and sendBeacon could not add a header anyway.
 * The id in the path is therefore the only credential a client can carry, so the
 * server issues it: TSR_INLIVE_CREDENTIAL_CHARS characters of [0-9A-Za-z] from
 * GnuTLS's key-grade generator (131 bits). inLive's hub takes a uid the client asks
 * for verbatim, and the tutorial picks one of 1,000: whoever guesses it could
 * negotiate, listen or leave for that client. Here a uid only names the client (its
 * default name), and a request that uses one as an id is refused with 403
 * uid_not_client_id, so an app that still builds URLs from its own uid learns why.
 *
 * Rooms. Every participant knows its room's id (it is in every URL), so the id
 * cannot guard the room. Ending a room and writing its metadata need
 * "Authorization: Bearer" with the secret rooms/create returned (data.room_secret,
 * shown only then) or with the Bearer token the room was created with, which is
 * what the JS SDK sends on create and on end. A room keeps SHA-256 of both and
 * compares in constant time; 401 without a Bearer, 403 with another one.
 *
 * Access tokens (spec #19) must then mean something: the access token is
 * HMAC-SHA256(a random per-process key, the Bearer it was asked with) and the
 * refresh token is that Bearer. The SDK's refresh asks again with its refresh
 * token and gets the same access token, so a room created before a refresh can be
 * ended after it; apps sharing an API key share tokens, as an inLive account does.
 * Asked without a Bearer, a random refresh token is made. Tokens are not checked
 * anywhere else: create and register stay open, as the spec says.
 *
 * Home thread: the API loop. */
#include "inlive_internal.h"

#include <tessera/err.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

#define ID_ALPHABET "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define ID_ALPHABET_LEN 62

void tsr_inlive_random_id(char *out, size_t len)
{
    /* Bytes from 248 (4 x 62) up are dropped: every character equally likely. */
    uint8_t buf[64];
    size_t n = 0;
    while (n < len) {
        if (gnutls_rnd(GNUTLS_RND_KEY, buf, sizeof buf) < 0)
            g_error("inlive: no random bytes from GnuTLS"); /* no safe fallback */
        for (size_t i = 0; i < sizeof buf && n < len; i++)
            if (buf[i] < 4 * ID_ALPHABET_LEN)
                out[n++] = ID_ALPHABET[buf[i] % ID_ALPHABET_LEN];
    }
    out[len] = '\0';
}

int tsr_inlive_auth_init(struct tsr_inlive_api *api)
{
    return gnutls_rnd(GNUTLS_RND_KEY, api->token_key, sizeof api->token_key) == 0 ? 0
                                                                                  : TSR_ERR_CRYPTO;
}

static void hash_token(const char *token, uint8_t out[TSR_INLIVE_HASH_BYTES])
{
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, token, strlen(token), out) < 0)
        g_error("inlive: SHA-256 failed"); /* only without a working GnuTLS */
}

/* Constant time: how much of a guess matched must not show in the answer's time. */
static bool hash_equal(const uint8_t *a, const uint8_t *b)
{
    uint8_t diff = 0;
    for (size_t i = 0; i < TSR_INLIVE_HASH_BYTES; i++)
        diff |= a[i] ^ b[i];
    return diff == 0;
}

/* The TOKEN of "Authorization: Bearer TOKEN" (scheme in any case, blanks trimmed),
 * newly allocated; NULL when absent, empty or not printable ASCII (RFC 6750's
 * b64token is ASCII, and the token may be echoed in JSON). */
static char *bearer(const struct tsr_inlive_req *r)
{
    const char *v = soup_message_headers_get_one(
        soup_server_message_get_request_headers(r->req.msg), "Authorization");
    if (!v || g_ascii_strncasecmp(v, "Bearer ", 7) != 0)
        return NULL;
    char *token = g_strstrip(g_strdup(v + 7));
    bool printable = *token != '\0';
    for (const char *s = token; printable && *s; s++)
        printable = *s > 0x20 && *s < 0x7f;
    if (!printable)
        g_clear_pointer(&token, g_free);
    return token;
}

void tsr_inlive_room_credential_init(struct tsr_inlive_room *room, const struct tsr_inlive_req *r,
                                     char *secret_out)
{
    tsr_inlive_random_id(secret_out, TSR_INLIVE_CREDENTIAL_CHARS);
    hash_token(secret_out, room->secret_hash);
    char *token = bearer(r);
    room->has_owner = token != NULL;
    if (token)
        hash_token(token, room->owner_hash);
    g_free(token);
}

bool tsr_inlive_room_authorised(struct tsr_inlive_req *r)
{
    struct tsr_inlive_room *room = r->room;
    char *token = bearer(r);
    if (!token) {
        soup_message_headers_replace(soup_server_message_get_response_headers(r->req.msg),
                                     "WWW-Authenticate", "Bearer realm=\"inlive\"");
        tsr_front_req_fail(&r->req, 401, "room_credential_required",
                           "this needs the room's credential: Authorization: Bearer with the "
                           "room_secret rooms/create returned, or with the token the room was "
                           "created with");
        return false;
    }
    uint8_t h[TSR_INLIVE_HASH_BYTES];
    hash_token(token, h);
    g_free(token);
    bool ok =
        hash_equal(h, room->secret_hash) | (room->has_owner & hash_equal(h, room->owner_hash));
    if (!ok)
        tsr_front_req_fail(&r->req, 403, "room_credential_wrong",
                           "the Bearer token is not this room's credential");
    return ok;
}

bool tsr_inlive_client_find(struct tsr_inlive_req *r, const char *id)
{
    r->client = g_hash_table_lookup(r->room->clients, id);
    if (r->client)
        return true;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, r->room->clients);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const struct tsr_inlive_client *cl = v;
        if (cl->uid && strcmp(cl->uid, id) == 0) {
            tsr_front_req_fail(&r->req, 403, "uid_not_client_id",
                               "\"%s\" is a uid, not a client id: use the client_id register "
                               "returned (the server issues client ids; each is its client's "
                               "credential)",
                               id);
            return false;
        }
    }
    tsr_front_req_fail(&r->req, 404, "client_not_found", "client not found");
    return false;
}

void tsr_inlive_handle_accesstoken(struct tsr_inlive_req *r)
{
    struct tsr_inlive_api *api = r->req.api;
    if (!tsr_front_req_body(&r->req, TSR_FRONT_BODY_EMPTY_OK | TSR_FRONT_BODY_ANY))
        return;
    char *refresh = bearer(r);
    if (!refresh) {
        refresh = g_malloc(TSR_INLIVE_CREDENTIAL_CHARS + 1);
        tsr_inlive_random_id(refresh, TSR_INLIVE_CREDENTIAL_CHARS);
    }
    uint8_t mac[TSR_INLIVE_HASH_BYTES];
    char access[2 * TSR_INLIVE_HASH_BYTES + 1];
    if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, api->token_key, sizeof api->token_key, refresh,
                         strlen(refresh), mac) < 0) {
        tsr_front_req_fail(&r->req, 500, "internal", "no access token could be made");
        g_free(refresh);
        return;
    }
    for (size_t i = 0; i < sizeof mac; i++)
        g_snprintf(access + 2 * i, 3, "%02x", mac[i]);
    tsr_inlive_reply(r->req.msg, 200, "ok",
                     json_pack("{s:s, s:s}", "access_token", access, "refresh_token", refresh));
    g_free(refresh);
}
