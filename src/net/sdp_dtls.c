/* DTLS-SRTP attributes of SIP offers; see include/net/tessera/sdp_dtls.h. Pure. */
#include <tessera/sdp_dtls.h>

#include <tessera/err.h>

#include <glib.h>
#include <string.h>

/* Weakest first: the index is the strength RFC 8122 §5 asks us to prefer. */
static const struct {
    const char *name;
    size_t bytes;
} hashes[] = {
    {"sha-1", 20}, {"sha-224", 28}, {"sha-256", 32}, {"sha-384", 48}, {"sha-512", 64},
};

static int refuse(const char **why, const char *text)
{
    if (why)
        *why = text;
    return TSR_ERR_UNSUPPORTED;
}

bool tsr_sdp_dtls_proto(const char *proto)
{
    return proto &&
           (strcmp(proto, "UDP/TLS/RTP/SAVP") == 0 || strcmp(proto, "UDP/TLS/RTP/SAVPF") == 0);
}

static int hash_rank(const char *hash)
{
    for (size_t i = 0; i < G_N_ELEMENTS(hashes); i++)
        if (hash && strcmp(hash, hashes[i].name) == 0)
            return (int)i;
    return -1;
}

size_t tsr_sdp_fingerprint_digest_bytes(const char *hash)
{
    int rank = hash_rank(hash);
    return rank < 0 ? 0 : hashes[rank].bytes;
}

/* The strongest usable a=fingerprint among attrs; false when there is none. */
static bool best_fingerprint(const struct tsr_sdp_attr *attrs, size_t n, bool *seen,
                             struct tsr_sdp_fingerprint *out)
{
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        struct tsr_sdp_fingerprint fp;
        if (strcmp(attrs[i].name, "fingerprint") != 0)
            continue;
        *seen = true;
        if (tsr_sdp_parse_fingerprint(attrs[i].value, &fp) != 0)
            continue;
        int rank = hash_rank(fp.hash);
        if (rank > best && tsr_sdp_fingerprint_digest_bytes(fp.hash) == fp.len) {
            best = rank;
            *out = fp;
        }
    }
    return best >= 0;
}

static int read_setup(const char *setup, enum tsr_sdp_setup *out, const char **why)
{
    if (!setup || strcmp(setup, "actpass") == 0)
        *out = TSR_SDP_SETUP_ACTPASS;
    else if (strcmp(setup, "active") == 0)
        *out = TSR_SDP_SETUP_ACTIVE;
    else if (strcmp(setup, "passive") == 0)
        *out = TSR_SDP_SETUP_PASSIVE;
    else if (strcmp(setup, "holdconn") == 0)
        return refuse(why, "it says a=setup:holdconn (no connection)");
    else
        return refuse(why, "its a=setup is not actpass, active or passive");
    return 0;
}

int tsr_sdp_dtls_read(const struct tsr_sdp *sdp, const struct tsr_sdp_media *m,
                      struct tsr_sdp_dtls *out, const char **why)
{
    struct tsr_sdp_dtls d;
    memset(&d, 0, sizeof d);
    bool seen = false;
    /* Media-level lines replace the session's (RFC 8122 §5), they do not add to them. */
    bool found = best_fingerprint(m->attrs, m->n_attrs, &seen, &d.fingerprint);
    if (!seen)
        found = best_fingerprint(sdp->attrs, sdp->n_attrs, &seen, &d.fingerprint);
    if (!seen)
        return refuse(why, "it has no a=fingerprint");
    if (!found)
        return refuse(why, "no a=fingerprint is a sha-256/1/224/384/512 digest");
    int rc = read_setup(tsr_sdp_media_attr(sdp, m, "setup"), &d.setup, why);
    if (rc)
        return rc;
    d.local_role = d.setup == TSR_SDP_SETUP_PASSIVE ? TSR_DTLS_ROLE_CLIENT : TSR_DTLS_ROLE_SERVER;
    /* RFC 4145 §5; another value means nothing to us and changes nothing. */
    const char *connection = tsr_sdp_media_attr(sdp, m, "connection");
    d.connection_new = connection && strcmp(connection, "new") == 0;
    d.connection_existing = connection && strcmp(connection, "existing") == 0;
    *out = d;
    return 0;
}

int tsr_sdp_dtls_keep(const struct tsr_sdp_dtls *running, struct tsr_sdp_dtls *offered,
                      const char **why)
{
    if (strcmp(running->fingerprint.hash, offered->fingerprint.hash) != 0 ||
        running->fingerprint.len != offered->fingerprint.len ||
        memcmp(running->fingerprint.bytes, offered->fingerprint.bytes, running->fingerprint.len) !=
            0)
        return refuse(why, "its a=fingerprint changed");
    if (offered->connection_new)
        return refuse(why, "it asks for a new one (a=connection:new)");
    bool they_client = offered->setup == TSR_SDP_SETUP_ACTIVE;
    bool they_server = offered->setup == TSR_SDP_SETUP_PASSIVE;
    if ((they_client && running->local_role != TSR_DTLS_ROLE_SERVER) ||
        (they_server && running->local_role != TSR_DTLS_ROLE_CLIENT))
        return refuse(why, "its a=setup swaps the DTLS roles");
    offered->local_role = running->local_role;
    return 0;
}

const char *tsr_sdp_dtls_setup_answer(enum tsr_dtls_role local_role)
{
    return local_role == TSR_DTLS_ROLE_SERVER ? "passive" : "active";
}
