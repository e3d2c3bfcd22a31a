/* DTLS-SRTP endpoint with GnuTLS; see include/net/tessera/dtls.h.
 *
 * The handshake is a small state machine driven from two places on the net loop:
 * a datagram arriving (tsr_dtls_handle_packet) and the retransmission timer that
 * GnuTLS asks for (gnutls_dtls_get_timeout). The peer is trusted only through
 * the fingerprint its SDP carried, checked in the certificate verify hook. */
#include "dtls_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/sdp_dtls.h>

#include <errno.h>
#include <string.h>

#define DEFAULT_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_HMAC_SHA1_80"
#define FALLBACK_PROFILES "SRTP_AES128_CM_HMAC_SHA1_80"
#define GNUTLS_SRTP_AEAD_AES_128_GCM_ID 0x0007 /* RFC 7714; not in GnuTLS 3.7's enum */
#define INBOX_MAX 32                           /* datagrams queued before the handshake reads */
#define HANDSHAKE_TOTAL_MS 20000

struct tsr_dtls {
    GMainContext *ctx;
    gnutls_session_t session;
    struct tsr_dtls_cert *cert;
    struct tsr_sdp_fingerprint remote_fp;
    enum tsr_dtls_role role;
    struct tsr_dtls_callbacks cb;
    void *user;
    GSource *timer;
    GQueue inbox;                  /* GBytes, one datagram each */
    bool started, connected, done; /* done: failed or closed; no more callbacks */
    bool fp_mismatch;
    char *log_ctx;
};

static struct tsr_counter *error_counter(const char *reason)
{
    char labels[64];
    g_snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
    return tsr_metrics_counter("tessera_dtls_errors_total", labels,
                               "DTLS failures: fingerprint mismatch, handshake, bad records.");
}

const char *tsr_srtp_profile_name(enum tsr_srtp_profile profile)
{
    switch (profile) {
    case TSR_SRTP_PROFILE_AES128_CM_SHA1_80:
        return "AES_CM_128_HMAC_SHA1_80";
    case TSR_SRTP_PROFILE_AEAD_AES_128_GCM:
        return "AEAD_AES_128_GCM";
    case TSR_SRTP_PROFILE_AES128_CM_SHA1_32:
        return "AES_CM_128_HMAC_SHA1_32";
    case TSR_SRTP_PROFILE_NONE:
        break;
    }
    return "none";
}

bool tsr_dtls_srtp_profile_supported(enum tsr_srtp_profile profile)
{
    gnutls_srtp_profile_t p;
    const char *name =
        profile == TSR_SRTP_PROFILE_AEAD_AES_128_GCM    ? "SRTP_AEAD_AES_128_GCM"
        : profile == TSR_SRTP_PROFILE_AES128_CM_SHA1_80 ? "SRTP_AES128_CM_HMAC_SHA1_80"
        : profile == TSR_SRTP_PROFILE_AES128_CM_SHA1_32 ? "SRTP_AES128_CM_HMAC_SHA1_32"
                                                        : NULL;
    return name && gnutls_srtp_get_profile_id(name, &p) == 0;
}

/* ---- glue hooks (dtls_internal.h) ---- */

int tsr_dtls_glue_send(struct tsr_dtls *d, const uint8_t *data, size_t len)
{
    int rc = d->done && !d->connected ? TSR_ERR_STATE : d->cb.send(d->user, data, len);
    TSR_LOG(TSR_LOG_TRACE, d->log_ctx, "record out: %zu bytes, type %u: %s", len, len ? data[0] : 0,
            tsr_strerror(rc));
    return rc;
}

GBytes *tsr_dtls_glue_pop(struct tsr_dtls *d)
{
    return g_queue_pop_head(&d->inbox);
}

bool tsr_dtls_glue_pending(const struct tsr_dtls *d)
{
    return d->inbox.length > 0;
}

/* The GnuTLS digest for a fingerprint we check (tsr_sdp_fingerprint_digest_bytes
 * says which: "sha-256" is GnuTLS's "sha256"), else GNUTLS_DIG_UNKNOWN. */
static gnutls_digest_algorithm_t fingerprint_digest(const struct tsr_sdp_fingerprint *fp)
{
    char name[sizeof fp->hash];
    size_t n = 0;
    if (!fp || tsr_sdp_fingerprint_digest_bytes(fp->hash) != fp->len)
        return GNUTLS_DIG_UNKNOWN;
    for (const char *h = fp->hash; *h && n + 1 < sizeof name; h++)
        if (*h != '-')
            name[n++] = *h;
    name[n] = '\0';
    gnutls_digest_algorithm_t dig = gnutls_digest_get_id(name);
    return gnutls_hash_get_len(dig) == fp->len ? dig : GNUTLS_DIG_UNKNOWN;
}

int tsr_dtls_verify_peer(gnutls_session_t session)
{
    struct tsr_dtls *d = gnutls_session_get_ptr(session);
    unsigned n = 0;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(session, &n);
    uint8_t digest[TSR_SDP_FINGERPRINT_MAX_BYTES];
    if (!d)
        return GNUTLS_E_CERTIFICATE_ERROR;
    gnutls_digest_algorithm_t dig = fingerprint_digest(&d->remote_fp);
    if (certs && n > 0 && dig != GNUTLS_DIG_UNKNOWN &&
        gnutls_hash_fast(dig, certs[0].data, certs[0].size, digest) == 0 &&
        memcmp(digest, d->remote_fp.bytes, d->remote_fp.len) == 0)
        return 0;
    d->fp_mismatch = true;
    tsr_counter_inc(error_counter("fingerprint_mismatch"));
    TSR_LOG(TSR_LOG_WARN, d->log_ctx,
            "peer certificate does not match the SDP a=fingerprint (%s); "
            "refusing the connection",
            d->remote_fp.hash);
    return GNUTLS_E_CERTIFICATE_ERROR;
}

bool tsr_dtls_fingerprint_usable(const struct tsr_sdp_fingerprint *fp)
{
    return fingerprint_digest(fp) != GNUTLS_DIG_UNKNOWN;
}

/* ---- state machine ---- */

static void stop_timer(struct tsr_dtls *d)
{
    if (d->timer) {
        g_source_destroy(d->timer);
        g_source_unref(d->timer);
        d->timer = NULL;
    }
}

static void drive(struct tsr_dtls *d);

static gboolean on_timer(gpointer data)
{
    struct tsr_dtls *d = data;
    g_source_unref(d->timer);
    d->timer = NULL;
    drive(d);
    return G_SOURCE_REMOVE;
}

static void arm_timer(struct tsr_dtls *d)
{
    unsigned ms = gnutls_dtls_get_timeout(d->session);
    stop_timer(d);
    d->timer = g_timeout_source_new(ms ? ms : 1);
    g_source_set_callback(d->timer, on_timer, d, NULL);
    g_source_attach(d->timer, d->ctx);
}

static void fail(struct tsr_dtls *d, int err)
{
    if (d->done)
        return;
    d->done = true;
    stop_timer(d);
    if (d->cb.on_failed)
        d->cb.on_failed(d->user, err);
}

static int export_keys(struct tsr_dtls *d, struct tsr_dtls_srtp_keys *k)
{
    gnutls_srtp_profile_t p;
    gnutls_datum_t ck, cs, sk, ss;
    uint8_t material[2 * (TSR_SRTP_MAX_KEY_BYTES + TSR_SRTP_MAX_SALT_BYTES)];
    memset(k, 0, sizeof(*k));
    if (gnutls_srtp_get_selected_profile(d->session, &p) < 0)
        return TSR_ERR_PROTOCOL; /* the peer did not agree to DTLS-SRTP */
    if (p == GNUTLS_SRTP_AES128_CM_HMAC_SHA1_80)
        k->profile = TSR_SRTP_PROFILE_AES128_CM_SHA1_80;
    else if (p == GNUTLS_SRTP_AES128_CM_HMAC_SHA1_32)
        k->profile = TSR_SRTP_PROFILE_AES128_CM_SHA1_32; /* 32-bit RTP tag; SRTCP keeps 80 */
    else if ((int)p == GNUTLS_SRTP_AEAD_AES_128_GCM_ID)
        k->profile = TSR_SRTP_PROFILE_AEAD_AES_128_GCM;
    else
        return TSR_ERR_UNSUPPORTED;
    if (gnutls_srtp_get_keys(d->session, material, sizeof(material), &ck, &cs, &sk, &ss) < 0 ||
        ck.size != 16 || sk.size != 16 || cs.size != ss.size || cs.size > TSR_SRTP_MAX_SALT_BYTES)
        return TSR_ERR_CRYPTO;
    bool server = d->role == TSR_DTLS_ROLE_SERVER;
    k->key_len = ck.size;
    k->salt_len = cs.size;
    memcpy(k->local_key, server ? sk.data : ck.data, ck.size);
    memcpy(k->local_salt, server ? ss.data : cs.data, cs.size);
    memcpy(k->remote_key, server ? ck.data : sk.data, ck.size);
    memcpy(k->remote_salt, server ? cs.data : ss.data, cs.size);
    memset(material, 0, sizeof(material));
    return 0;
}

static void handshake_done(struct tsr_dtls *d)
{
    struct tsr_dtls_srtp_keys keys;
    int rc = export_keys(d, &keys);
    stop_timer(d);
    if (rc != 0) {
        tsr_counter_inc(error_counter("no_srtp"));
        TSR_LOG(TSR_LOG_WARN, d->log_ctx, "handshake finished without usable DTLS-SRTP keys: %s",
                tsr_strerror(rc));
        fail(d, rc);
        return;
    }
    d->connected = true;
    TSR_LOG(TSR_LOG_INFO, d->log_ctx, "DTLS %s connected, SRTP profile %s",
            d->role == TSR_DTLS_ROLE_SERVER ? "server" : "client",
            tsr_srtp_profile_name(keys.profile));
    if (d->cb.on_connected)
        d->cb.on_connected(d->user, &keys);
    memset(&keys, 0, sizeof(keys));
}

/* After the handshake: nothing but alerts and close_notify are expected (no
 * data channels), so application data is read and dropped. */
static void drain_records(struct tsr_dtls *d)
{
    uint8_t buf[2048];
    while (!d->done && tsr_dtls_glue_pending(d)) {
        ssize_t r = gnutls_record_recv(d->session, buf, sizeof(buf));
        if (r == 0 || r == GNUTLS_E_PREMATURE_TERMINATION) {
            TSR_LOG(TSR_LOG_INFO, d->log_ctx, "peer closed the DTLS session");
            fail(d, TSR_ERR_STATE);
        } else if (r < 0 && r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) {
            tsr_counter_inc(error_counter("bad_record"));
            TSR_LOG_RL(TSR_LOG_WARN, d->log_ctx, 2000, "bad DTLS record: %s",
                       gnutls_strerror((int)r));
            if (gnutls_error_is_fatal((int)r))
                fail(d, TSR_ERR_PROTOCOL);
        }
    }
}

static void drive(struct tsr_dtls *d)
{
    if (d->done)
        return;
    if (d->connected) {
        drain_records(d);
        return;
    }
    int r = gnutls_handshake(d->session);
    if (r == GNUTLS_E_SUCCESS) {
        handshake_done(d);
        if (d->connected)
            drain_records(d);
    } else if (!gnutls_error_is_fatal(r)) {
        arm_timer(d); /* EAGAIN: wait for a datagram or the retransmission timeout */
    } else {
        int err = d->fp_mismatch           ? TSR_ERR_AUTH
                  : r == GNUTLS_E_TIMEDOUT ? TSR_ERR_TIMEOUT
                                           : TSR_ERR_CRYPTO;
        if (!d->fp_mismatch)
            tsr_counter_inc(error_counter("handshake"));
        TSR_LOG(TSR_LOG_WARN, d->log_ctx, "DTLS handshake failed: %s", gnutls_strerror(r));
        if (r != GNUTLS_E_FATAL_ALERT_RECEIVED)
            gnutls_alert_send_appropriate(d->session, r); /* tell the peer at once */
        fail(d, err);
    }
}

/* ---- construction ---- */

static int setup_session(struct tsr_dtls *d, const struct tsr_dtls_config *cfg)
{
    unsigned flags = (d->role == TSR_DTLS_ROLE_SERVER ? GNUTLS_SERVER : GNUTLS_CLIENT) |
                     GNUTLS_DATAGRAM | GNUTLS_NONBLOCK;
    const char *err_pos = NULL;
    if (gnutls_init(&d->session, flags) < 0)
        return TSR_ERR_CRYPTO;
    gnutls_session_set_ptr(d->session, d);
    if (gnutls_priority_set_direct(d->session, "NORMAL:-VERS-ALL:+VERS-DTLS1.2:+VERS-DTLS1.0",
                                   &err_pos) < 0 ||
        gnutls_credentials_set(d->session, GNUTLS_CRD_CERTIFICATE, d->cert->cred) < 0)
        return TSR_ERR_CRYPTO;
    const char *profiles = cfg->srtp_profiles ? cfg->srtp_profiles : DEFAULT_PROFILES;
    int rc = gnutls_srtp_set_profile_direct(d->session, profiles, &err_pos);
    if (rc < 0 && !cfg->srtp_profiles) {
        /* GnuTLS < 3.8 has no AEAD_AES_128_GCM profile: offer AES_CM_80 alone. */
        TSR_LOG(TSR_LOG_DEBUG, d->log_ctx, "GnuTLS %s lacks SRTP_AEAD_AES_128_GCM; offering %s",
                gnutls_check_version(NULL), FALLBACK_PROFILES);
        rc = gnutls_srtp_set_profile_direct(d->session, FALLBACK_PROFILES, &err_pos);
    }
    if (rc < 0) {
        TSR_LOG(TSR_LOG_ERROR, d->log_ctx, "SRTP profiles \"%s\" rejected by GnuTLS: %s", profiles,
                gnutls_strerror(rc));
        return -EINVAL;
    }
    if (d->role == TSR_DTLS_ROLE_SERVER)
        gnutls_certificate_server_set_request(d->session, GNUTLS_CERT_REQUIRE);
    gnutls_dtls_set_mtu(d->session, cfg->mtu ? cfg->mtu : 1200);
    gnutls_dtls_set_timeouts(d->session, 1000,
                             cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms
                                                       : HANDSHAKE_TOTAL_MS);
    tsr_dtls_gnutls_attach(d->session, d);
    return 0;
}

int tsr_dtls_new(struct tsr_dtls **out, GMainContext *ctx, const struct tsr_dtls_config *cfg,
                 const struct tsr_dtls_callbacks *cb, void *user)
{
    struct tsr_dtls *d = NULL;
    int rc;
    if (!out || !ctx || !cfg || !cfg->cert || !cb || !cb->send ||
        !tsr_dtls_fingerprint_usable(cfg->remote_fingerprint))
        return -EINVAL;
    d = g_new0(struct tsr_dtls, 1);
    d->ctx = g_main_context_ref(ctx);
    d->cert = tsr_dtls_cert_ref(cfg->cert);
    d->remote_fp = *cfg->remote_fingerprint;
    d->role = cfg->role;
    d->cb = *cb;
    d->user = user;
    d->log_ctx = g_strdup(cfg->log_ctx ? cfg->log_ctx : "dtls");
    g_queue_init(&d->inbox);
    rc = setup_session(d, cfg);
    if (rc != 0) {
        tsr_dtls_free(&d);
        return rc;
    }
    *out = d;
    return 0;
}

int tsr_dtls_start(struct tsr_dtls *d)
{
    if (!d || d->started || d->done)
        return TSR_ERR_STATE;
    d->started = true;
    drive(d);
    return 0;
}

int tsr_dtls_handle_packet(struct tsr_dtls *d, const uint8_t *data, size_t len)
{
    if (!d || d->done)
        return TSR_ERR_STATE;
    if (!data || len < 13 || data[0] < 20 || data[0] > 63) { /* 13 = DTLS record header */
        tsr_counter_inc(error_counter("bad_record"));
        return TSR_ERR_INVALID;
    }
    TSR_LOG(TSR_LOG_TRACE, d->log_ctx, "record in: %zu bytes, type %u", len, data[0]);
    if (g_queue_get_length(&d->inbox) >= INBOX_MAX)
        g_bytes_unref(g_queue_pop_head(&d->inbox)); /* a flood: keep the newest */
    g_queue_push_tail(&d->inbox, g_bytes_new(data, len));
    /* A server may answer a ClientHello that races ahead of ICE's "connected". */
    if (d->started || d->role == TSR_DTLS_ROLE_SERVER)
        drive(d);
    return 0;
}

bool tsr_dtls_is_connected(const struct tsr_dtls *d)
{
    return d && d->connected && !d->done;
}

void tsr_dtls_close(struct tsr_dtls *d)
{
    if (!d)
        return;
    bool send_bye = d->connected && !d->done;
    d->done = true;
    stop_timer(d);
    if (send_bye && d->session)
        gnutls_bye(d->session, GNUTLS_SHUT_WR); /* one close_notify; no wait for the reply */
    d->connected = false;
}

void tsr_dtls_free(struct tsr_dtls **dtls)
{
    if (!dtls || !*dtls)
        return;
    struct tsr_dtls *d = *dtls;
    tsr_dtls_close(d);
    if (d->session)
        gnutls_deinit(d->session);
    g_queue_clear_full(&d->inbox, (GDestroyNotify)g_bytes_unref);
    tsr_dtls_cert_unref(&d->cert);
    g_free(d->log_ctx);
    g_main_context_unref(d->ctx);
    g_free(d);
    *dtls = NULL;
}
