/* Pieces of the inLive Hub API shared between src/api/inlive_*.c; private.
 * Home thread of everything here: the API loop. */
#ifndef TSR_API_INLIVE_INTERNAL_H
#define TSR_API_INLIVE_INTERNAL_H

#include <tessera/front.h>
#include <tessera/inlive_api.h>

#include <stdbool.h>

#define TSR_INLIVE_ID_MAX 128        /* bytes of a room id or client id */
#define TSR_INLIVE_QUEUE_MAX 256     /* SSE messages kept per client while no stream is open */
#define TSR_INLIVE_CANDIDATES_MAX 64 /* remote candidates buffered before the first offer */
/* Characters of a server-issued credential (client id, room secret) from
 * [0-9A-Za-z]: 22 x log2(62) = 131 bits. */
#define TSR_INLIVE_CREDENTIAL_CHARS 22
#define TSR_INLIVE_HASH_BYTES 32 /* SHA-256 of a credential, as rooms keep them */
/* What one metadata key costs beyond its key and value text: its hash node and two
 * allocations. Charged so that max_meta_bytes bounds memory, not just wire bytes. */
#define TSR_INLIVE_META_KEY_OVERHEAD_BYTES 64

struct tsr_inlive_api {
    struct tsr_http *http;
    struct tsr_conference_registry *reg;
    struct tsr_inlive_api_opts opts;
    GHashTable *rooms; /* room id → struct tsr_inlive_room* (owned) */
    size_t n_clients;
    size_t meta_bytes; /* all rooms' metadata, as charged (gauge) */
    GSource *tick;
    uint8_t token_key[TSR_INLIVE_HASH_BYTES]; /* HMAC key of /keys/accesstoken (random) */
};

/* One inLive room = one conference alias. Owned by api->rooms. */
struct tsr_inlive_room {
    struct tsr_inlive_api *api;
    char *id;
    char *name;
    char alias[TSR_CONFERENCE_ALIAS_MAX + 1];
    int64_t empty_timeout_s;
    int64_t empty_since_us; /* 0 while it has clients */
    GHashTable *clients;    /* client id → struct tsr_inlive_client* (owned) */
    /* setmeta keys: key → its value as compact JSON text (both owned). Text, not a
     * json_t tree: jansson 2.14 holds 16 KiB of [[],[],…] in 750 KiB (47 bytes per
     * byte sent); text costs what was sent, so the cap bounds memory. */
    GHashTable *meta;
    size_t meta_bytes; /* charged: key + text + overhead per key */
    /* The room's credential (inlive_auth.c): SHA-256 of the secret create returned,
     * and of the Bearer token the creator sent, if any. */
    uint8_t secret_hash[TSR_INLIVE_HASH_BYTES];
    uint8_t owner_hash[TSR_INLIVE_HASH_BYTES];
    bool has_owner;
};

/* One registered client. Owned by its room's clients table. Its participant (from
 * the first offer on) is BOUND to it: alive as long as the client is registered,
 * which its own timeouts and leave decide. */
struct tsr_inlive_client {
    struct tsr_inlive_room *room;
    char *id;  /* issued by the server: the client's credential (inlive_auth.c) */
    char *uid; /* the uid the client asked for (a label, never an id), or NULL */
    char *name;
    int64_t created_us;
    struct tsr_front_session *session; /* ref held; its participant NULL until the offer */
    GPtrArray *candidates;             /* json_t* candidate inits received before the offer */
    GPtrArray *queue;                  /* char* SSE messages waiting for a stream */
    struct tsr_front_stream *stream;   /* the open event stream, or NULL */
    unsigned n_streams;                /* event streams opened so far */
    /* §5 negotiation state. */
    bool server_offering, client_negotiating, pending_allow, offer_due;
    char *offer_sdp;          /* the outstanding server offer (re-sent on reconnect) */
    int64_t offer_written_us; /* when it reached a stream; 0 = not yet */
    json_t *tracks_available; /* re-sent when a stream (re)connects */
    /* Conference calls on a net loop: requests paused for them (struct
     * tsr_front_wait*), whether one is the first offer's join (and that offer, for
     * tracks_added), and a server offer being made. */
    GPtrArray *waiting;
    bool joining;
    char *first_offer;
    struct tsr_conference_call *offer_call;
};

/* A request under /v1: the front's request (api is the struct tsr_inlive_api) and
 * what the route found. */
struct tsr_inlive_req {
    struct tsr_front_req req;
    struct tsr_inlive_room *room;     /* NULL for routes outside a room */
    struct tsr_inlive_client *client; /* NULL for room-level routes */
};

/* --- inlive_api.c ------------------------------------------------------------------ */
/* Purpose: the envelope {"code":status,"ok":…,"message","data"}; takes data (NULL = null). */
void tsr_inlive_reply(SoupServerMessage *msg, unsigned status, const char *message, json_t *data);
json_t *tsr_inlive_bitrates_json(void);

/* --- inlive_auth.c ------------------------------------------------------------------- */
/* Purpose: len characters of [0-9A-Za-z] from GnuTLS's key-grade generator and a NUL
 * into out (the SFU's id format; a credential when len is TSR_INLIVE_CREDENTIAL_CHARS). */
void tsr_inlive_random_id(char *out, size_t len);
/* Purpose: fill api->token_key. Returns 0 or TSR_ERR_CRYPTO. */
int tsr_inlive_auth_init(struct tsr_inlive_api *api);
/* Purpose: give a new room its credential: a fresh secret written to secret_out
 * (TSR_INLIVE_CREDENTIAL_CHARS + 1 bytes, for create's answer only; the room keeps
 * its hash) and the creator's Bearer token from r, if any. */
void tsr_inlive_room_credential_init(struct tsr_inlive_room *room, const struct tsr_inlive_req *r,
                                     char *secret_out);
/* Purpose: true when r carries the room's credential (Authorization: Bearer with
 * the room secret or the creator's token); otherwise 401 or 403 is sent. */
bool tsr_inlive_room_authorised(struct tsr_inlive_req *r);
/* Purpose: r->client = the room's client whose id is `id`; otherwise 403 (id is
 * only a uid some client asked for) or 404 is sent and false returned. */
bool tsr_inlive_client_find(struct tsr_inlive_req *r, const char *id);
/* Purpose: POST /keys/accesstoken (spec #19). */
void tsr_inlive_handle_accesstoken(struct tsr_inlive_req *r);

/* --- inlive_clients.c ---------------------------------------------------------------- */
void tsr_inlive_handle_register(struct tsr_inlive_req *r);
void tsr_inlive_handle_client_action(struct tsr_inlive_req *r, const char *action);
/* Purpose: queue or write one SSE event for the client; takes data. */
void tsr_inlive_client_send(struct tsr_inlive_client *cl, const char *event, json_t *data);
/* Purpose: remove the client: its participant leaves (unless gone already), `left`
 * goes to its stream which is then closed, and it is freed. */
void tsr_inlive_client_remove(struct tsr_inlive_client *cl, const char *reason);
/* Purpose: free a client without any event (API teardown). */
void tsr_inlive_client_free(struct tsr_inlive_client *cl);
/* Purpose: housekeeping for one client; returns false when it was removed. */
bool tsr_inlive_client_tick(struct tsr_inlive_client *cl, int64_t now_us);

#endif
