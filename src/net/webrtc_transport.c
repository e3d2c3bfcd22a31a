/* One participant's WebRTC transport: ICE → first-byte demux → DTLS | SRTP.
 * See include/net/tessera/webrtc_transport.h.
 *
 * The receive path is a chain of small stages on the net loop: ice.c hands each
 * datagram to on_ice_recv, which classifies it (RFC 7983) and passes it to DTLS
 * or to SRTP unprotect and then to the owner's on_rtp / on_rtcp. Nothing here
 * allocates per packet: decryption is in place in libnice's receive buffer and
 * sending protects a copy in the transport's own buffer. */
#include <tessera/webrtc_transport.h>

#include <tessera/demux.h>
#include <tessera/err.h>
#include <tessera/ice.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/srtp.h>

#include <errno.h>
#include <gio/gio.h>
#include <string.h>

#define MAX_PLAIN_BYTES 1500
#define DTLS_BACKLOG_MAX 16 /* one handshake flight is at most ~6 records */

struct tsr_webrtc_transport {
    GMainContext *ctx;
    struct tsr_ice *ice;
    struct tsr_dtls *dtls;
    struct tsr_srtp *srtp;
    struct tsr_dtls_cert *cert;
    char *srtp_profiles;
    struct tsr_webrtc_callbacks cb;
    void *user;
    enum tsr_webrtc_state state;
    enum tsr_srtp_profile profile;
    bool lite;
    bool remote_set;
    bool closed;
    char *log_ctx;
    char **local_cands;  /* cache behind tsr_webrtc_transport_local */
    GQueue dtls_backlog; /* GBytes: DTLS records sent before ICE had a pair */
    uint8_t sendbuf[MAX_PLAIN_BYTES + TSR_SRTP_MAX_TRAILER_BYTES];
};

static void count_bad(const char *reason)
{
    char labels[64];
    g_snprintf(labels, sizeof(labels), "reason=\"%s\"", reason);
    tsr_counter_inc(tsr_metrics_counter("tessera_webrtc_bad_packets_total", labels,
                                        "Datagrams on media ports dropped before the RTP layer."));
}

const char *tsr_webrtc_state_name(enum tsr_webrtc_state state)
{
    static const char *const names[] = {"new",          "connecting", "connected",
                                        "disconnected", "failed",     "closed"};
    return (unsigned)state < G_N_ELEMENTS(names) ? names[state] : "?";
}

static void set_state(struct tsr_webrtc_transport *t, enum tsr_webrtc_state s)
{
    if (t->state == s || t->state == TSR_WEBRTC_STATE_CLOSED ||
        (t->state == TSR_WEBRTC_STATE_FAILED && s != TSR_WEBRTC_STATE_CLOSED))
        return;
    TSR_LOG(TSR_LOG_INFO, t->log_ctx, "transport %s -> %s", tsr_webrtc_state_name(t->state),
            tsr_webrtc_state_name(s));
    t->state = s;
    if (t->cb.on_state)
        t->cb.on_state(t->user, s);
}

/* ---- receive chain ---- */

static void on_media(struct tsr_webrtc_transport *t, uint8_t *data, size_t len, bool rtcp)
{
    if (!t->srtp) {
        count_bad("before_keys");
        TSR_LOG_RL(TSR_LOG_DEBUG, t->log_ctx, 2000, "media before DTLS finished: dropped");
        return;
    }
    int rc = rtcp ? tsr_srtp_unprotect_rtcp(t->srtp, data, &len)
                  : tsr_srtp_unprotect_rtp(t->srtp, data, &len);
    if (rc != 0)
        return; /* counted and logged by srtp.c */
    tsr_webrtc_packet_fn fn = rtcp ? t->cb.on_rtcp : t->cb.on_rtp;
    if (fn)
        fn(t->user, data, len);
}

/* First-byte demux (RFC 7983, src/net/demux.c). STUN never gets here: libnice
 * consumes it. */
static void on_ice_recv(void *user, uint8_t *data, size_t len)
{
    struct tsr_webrtc_transport *t = user;
    enum tsr_demux_kind kind = tsr_demux_classify(data, len);
    switch (kind) {
    case TSR_DEMUX_DTLS:
        if (!t->dtls || tsr_dtls_handle_packet(t->dtls, data, len) == TSR_ERR_INVALID)
            count_bad("dtls");
        break;
    case TSR_DEMUX_RTP:
        on_media(t, data, len, false);
        break;
    case TSR_DEMUX_RTCP:
        on_media(t, data, len, true);
        break;
    default: /* unknown, ZRTP, TURN channel data, stray STUN: not ours */
        count_bad("unknown");
        TSR_LOG_RL(TSR_LOG_WARN, t->log_ctx, 2000, "dropped %s datagram (%zu bytes, first 0x%02x)",
                   tsr_demux_kind_name(kind), len, len ? data[0] : 0);
        break;
    }
}

/* A browser's ClientHello often arrives with the check that nominates the pair,
 * a moment before libnice reports CONNECTED; our reply flight could not go out
 * then. Sending it now saves GnuTLS's 1 s retransmission timeout. */
static void flush_dtls_backlog(struct tsr_webrtc_transport *t)
{
    GBytes *b;
    while ((b = g_queue_pop_head(&t->dtls_backlog))) {
        gsize n;
        const uint8_t *d = g_bytes_get_data(b, &n);
        tsr_ice_send(t->ice, d, n);
        g_bytes_unref(b);
    }
}

static void on_ice_state(void *user, enum tsr_ice_state s)
{
    struct tsr_webrtc_transport *t = user;
    switch (s) {
    case TSR_ICE_STATE_CHECKING:
        set_state(t, TSR_WEBRTC_STATE_CONNECTING);
        break;
    case TSR_ICE_STATE_CONNECTED:
        flush_dtls_backlog(t);
        if (t->srtp) {
            set_state(t, TSR_WEBRTC_STATE_CONNECTED); /* back from DISCONNECTED */
        } else {
            set_state(t, TSR_WEBRTC_STATE_CONNECTING);
            if (t->dtls)
                tsr_dtls_start(t->dtls); /* TSR_ERR_STATE when started already: fine */
        }
        break;
    case TSR_ICE_STATE_DISCONNECTED:
        if (t->state == TSR_WEBRTC_STATE_CONNECTED)
            set_state(t, TSR_WEBRTC_STATE_DISCONNECTED);
        break;
    case TSR_ICE_STATE_FAILED:
        TSR_LOG(TSR_LOG_WARN, t->log_ctx, "ICE failed");
        set_state(t, TSR_WEBRTC_STATE_FAILED);
        break;
    default:
        break;
    }
}

static void on_ice_candidate(void *user, const char *candidate)
{
    struct tsr_webrtc_transport *t = user;
    /* Host candidates exist before the answer is written and are in it; only
     * later ones (server-reflexive, full ICE) need trickling. */
    if (t->cb.on_candidate && !strstr(candidate, " typ host"))
        t->cb.on_candidate(t->user, candidate);
}

/* ---- DTLS hooks ---- */

static int dtls_send(void *user, const uint8_t *data, size_t len)
{
    struct tsr_webrtc_transport *t = user;
    int rc = tsr_ice_send(t->ice, data, len);
    if (rc == TSR_ERR_AGAIN && g_queue_get_length(&t->dtls_backlog) < DTLS_BACKLOG_MAX)
        g_queue_push_tail(&t->dtls_backlog, g_bytes_new(data, len));
    return rc;
}

static void dtls_connected(void *user, const struct tsr_dtls_srtp_keys *keys)
{
    struct tsr_webrtc_transport *t = user;
    int rc = tsr_srtp_new(&t->srtp, keys);
    if (rc != 0) {
        TSR_LOG(TSR_LOG_ERROR, t->log_ctx, "SRTP setup failed: %s", tsr_strerror(rc));
        set_state(t, TSR_WEBRTC_STATE_FAILED);
        return;
    }
    t->profile = keys->profile;
    set_state(t, TSR_WEBRTC_STATE_CONNECTED);
}

static void dtls_failed(void *user, int err)
{
    struct tsr_webrtc_transport *t = user;
    if (err == TSR_ERR_STATE) { /* the peer sent close_notify: it hung up */
        set_state(t, TSR_WEBRTC_STATE_CLOSED);
        return;
    }
    TSR_LOG(TSR_LOG_WARN, t->log_ctx, "DTLS failed: %s%s", tsr_strerror(err),
            err == TSR_ERR_AUTH ? " (certificate does not match a=fingerprint)" : "");
    set_state(t, TSR_WEBRTC_STATE_FAILED);
}

/* ---- configuration ---- */

/* Whether the HTTP listener lives on a loopback address (127/8, ::1, localhost). */
static bool listens_on_loopback(const struct tsr_config *cfg)
{
    char host[TSR_CONFIG_STR_MAX];
    uint16_t port;
    if (tsr_config_listen_split(cfg, host, sizeof host, &port) != 0)
        return false;
    GInetAddress *a = g_inet_address_new_from_string(host);
    bool loopback = a ? g_inet_address_get_is_loopback(a) : strcmp(host, "localhost") == 0;
    if (a)
        g_object_unref(a);
    return loopback;
}

int tsr_webrtc_config_from(struct tsr_webrtc_config *out, const struct tsr_config *cfg)
{
    memset(out, 0, sizeof(*out));
    out->port_min = (uint16_t)cfg->webrtc_port_min;
    out->port_max = (uint16_t)cfg->webrtc_port_max;
    out->public_address = cfg->webrtc_public_address;
    out->stun_server = cfg->webrtc_stun_server;
    out->media_addresses = cfg->webrtc_media_addresses;
    out->include_loopback = listens_on_loopback(cfg);
    out->ice_tcp = cfg->webrtc_ice_tcp;
    char *bad = NULL;
    if (tsr_ice_check_media_addresses(cfg->webrtc_media_addresses, &bad) != 0) {
        TSR_LOG(TSR_LOG_ERROR, "webrtc", "[webrtc] media_addresses: \"%s\" is not an IP address",
                bad);
        g_free(bad);
        return TSR_ERR_CONFIG;
    }
    return 0;
}

int tsr_webrtc_cert_from_config(const struct tsr_config *cfg, struct tsr_dtls_cert **out)
{
    bool has_cert = cfg->webrtc_certificate[0] != '\0';
    bool has_key = cfg->webrtc_private_key[0] != '\0';
    if (has_cert != has_key) {
        TSR_LOG(TSR_LOG_ERROR, "webrtc",
                "[webrtc] certificate and private_key must be set together (or both empty)");
        return TSR_ERR_CONFIG;
    }
    if (has_cert)
        return tsr_dtls_cert_load(out, cfg->webrtc_certificate, cfg->webrtc_private_key);
    return tsr_dtls_cert_generate(out);
}

/* ---- lifecycle ---- */

int tsr_webrtc_transport_new(struct tsr_webrtc_transport **out, GMainContext *ctx,
                             const struct tsr_webrtc_config *cfg,
                             const struct tsr_webrtc_callbacks *cb, void *user)
{
    if (!out || !ctx || !cfg || !cfg->cert || !cb)
        return -EINVAL;
    struct tsr_webrtc_transport *t = g_new0(struct tsr_webrtc_transport, 1);
    t->ctx = g_main_context_ref(ctx);
    t->cert = tsr_dtls_cert_ref(cfg->cert);
    t->srtp_profiles = g_strdup(cfg->srtp_profiles);
    t->cb = *cb;
    t->user = user;
    t->log_ctx = g_strdup(cfg->log_ctx ? cfg->log_ctx : "webrtc");
    g_queue_init(&t->dtls_backlog);
    t->lite = !cfg->ice_controlling && !(cfg->stun_server && *cfg->stun_server);
    struct tsr_ice_config icfg = {
        .port_min = cfg->port_min,
        .port_max = cfg->port_max,
        .public_address = cfg->public_address,
        .stun_server = cfg->stun_server,
        .bind_address = cfg->bind_address,
        .media_addresses = cfg->media_addresses,
        .include_loopback = cfg->include_loopback,
        .ice_tcp = cfg->ice_tcp,
        .controlling = cfg->ice_controlling,
        .consent_timeout_ms = cfg->consent_timeout_ms,
        .log_ctx = cfg->log_ctx,
    };
    struct tsr_ice_callbacks icb = {on_ice_recv, on_ice_state, on_ice_candidate};
    int rc = tsr_ice_new(&t->ice, ctx, &icfg, &icb, t);
    if (rc != 0) {
        t->closed = true; /* no CLOSED callback for an object never handed out */
        tsr_webrtc_transport_free(&t);
        return rc;
    }
    *out = t;
    return 0;
}

int tsr_webrtc_transport_local(struct tsr_webrtc_transport *t, struct tsr_sdp_local *local)
{
    size_t n = 0;
    char **cands = NULL;
    if (!t || !local || t->closed)
        return -EINVAL;
    int rc = tsr_ice_local_candidates(t->ice, &cands, &n);
    if (rc != 0)
        return rc;
    g_strfreev(t->local_cands);
    t->local_cands = cands;
    local->ice_ufrag = tsr_ice_local_ufrag(t->ice);
    local->ice_pwd = tsr_ice_local_pwd(t->ice);
    local->ice_lite = t->lite;
    local->fingerprint_sha256 = tsr_dtls_cert_fingerprint(t->cert);
    local->candidates = (const char *const *)t->local_cands;
    local->n_candidates = n;
    return 0;
}

int tsr_webrtc_transport_set_remote(struct tsr_webrtc_transport *t,
                                    const struct tsr_webrtc_remote *r)
{
    if (!t || !r || !r->fingerprint || (r->n_candidates && !r->candidates))
        return -EINVAL;
    if (t->remote_set || t->closed)
        return TSR_ERR_STATE;
    int rc = tsr_ice_set_remote_credentials(t->ice, r->ice_ufrag, r->ice_pwd);
    if (rc != 0)
        return rc;
    struct tsr_dtls_config dcfg = {
        .role = r->local_role,
        .cert = t->cert,
        .remote_fingerprint = r->fingerprint,
        .srtp_profiles = t->srtp_profiles,
        .log_ctx = t->log_ctx,
    };
    struct tsr_dtls_callbacks dcb = {dtls_send, dtls_connected, dtls_failed};
    rc = tsr_dtls_new(&t->dtls, t->ctx, &dcfg, &dcb, t);
    if (rc != 0)
        return rc == -EINVAL ? TSR_ERR_INVALID : rc;
    t->remote_set = true;
    for (size_t i = 0; i < r->n_candidates; i++) {
        int crc = tsr_ice_add_remote_candidate(t->ice, r->candidates[i]);
        if (crc != 0 && crc != TSR_ERR_UNSUPPORTED)
            TSR_LOG(TSR_LOG_DEBUG, t->log_ctx, "remote candidate ignored (%s): %s",
                    tsr_strerror(crc), r->candidates[i]);
    }
    set_state(t, TSR_WEBRTC_STATE_CONNECTING);
    if (tsr_ice_get_state(t->ice) == TSR_ICE_STATE_CONNECTED)
        tsr_dtls_start(t->dtls);
    return 0;
}

int tsr_webrtc_transport_set_remote_description(struct tsr_webrtc_transport *t,
                                                const struct tsr_sdp_negotiation *neg)
{
    if (!neg)
        return -EINVAL;
    struct tsr_webrtc_remote r = {
        .ice_ufrag = neg->remote_ufrag,
        .ice_pwd = neg->remote_pwd,
        .fingerprint = &neg->remote_fingerprint,
        .local_role = neg->local_dtls_role == TSR_SDP_DTLS_ROLE_SERVER ? TSR_DTLS_ROLE_SERVER
                                                                       : TSR_DTLS_ROLE_CLIENT,
        .candidates = (const char *const *)neg->remote_candidates,
        .n_candidates = neg->n_remote_candidates,
    };
    return tsr_webrtc_transport_set_remote(t, &r);
}

int tsr_webrtc_transport_add_remote_candidate(struct tsr_webrtc_transport *t, const char *candidate)
{
    if (!t || t->closed)
        return TSR_ERR_STATE;
    if (!candidate || !*candidate || strcmp(candidate, "a=end-of-candidates") == 0 ||
        strcmp(candidate, "end-of-candidates") == 0)
        return tsr_ice_remote_gathering_done(t->ice);
    return tsr_ice_add_remote_candidate(t->ice, candidate);
}

/* ---- send path ---- */

static int send_protected(struct tsr_webrtc_transport *t, const uint8_t *data, size_t len,
                          bool rtcp)
{
    if (!t || t->closed || !t->srtp)
        return TSR_ERR_STATE;
    if (!data || len > MAX_PLAIN_BYTES)
        return -EMSGSIZE;
    memcpy(t->sendbuf, data, len);
    int rc = rtcp ? tsr_srtp_protect_rtcp(t->srtp, t->sendbuf, &len, sizeof(t->sendbuf))
                  : tsr_srtp_protect_rtp(t->srtp, t->sendbuf, &len, sizeof(t->sendbuf));
    if (rc == 0)
        rc = tsr_ice_send(t->ice, t->sendbuf, len);
    return rc;
}

int tsr_webrtc_transport_send_rtp(struct tsr_webrtc_transport *t, const uint8_t *data, size_t len)
{
    return send_protected(t, data, len, false);
}

int tsr_webrtc_transport_send_rtcp(struct tsr_webrtc_transport *t, const uint8_t *data, size_t len)
{
    return send_protected(t, data, len, true);
}

enum tsr_webrtc_state tsr_webrtc_transport_state(const struct tsr_webrtc_transport *t)
{
    return t ? t->state : TSR_WEBRTC_STATE_CLOSED;
}

enum tsr_srtp_profile tsr_webrtc_transport_srtp_profile(const struct tsr_webrtc_transport *t)
{
    return t ? t->profile : TSR_SRTP_PROFILE_NONE;
}

uint16_t tsr_webrtc_transport_local_port(const struct tsr_webrtc_transport *t)
{
    return t ? tsr_ice_local_port(t->ice) : 0;
}

bool tsr_webrtc_transport_sends_direct(const struct tsr_webrtc_transport *t)
{
    return t && tsr_ice_sends_direct(t->ice);
}

GSocket *tsr_webrtc_transport_take_receive(struct tsr_webrtc_transport *t)
{
    if (!t || tsr_webrtc_transport_state(t) != TSR_WEBRTC_STATE_CONNECTED)
        return NULL;
    return tsr_ice_take_receive(t->ice);
}

void tsr_webrtc_transport_close(struct tsr_webrtc_transport *t)
{
    if (!t || t->closed)
        return;
    tsr_dtls_close(t->dtls); /* close_notify goes out while ICE still runs */
    tsr_ice_close(t->ice);
    set_state(t, TSR_WEBRTC_STATE_CLOSED);
    t->closed = true;
}

void tsr_webrtc_transport_free(struct tsr_webrtc_transport **pt)
{
    if (!pt || !*pt)
        return;
    struct tsr_webrtc_transport *t = *pt;
    tsr_webrtc_transport_close(t);
    tsr_srtp_free(&t->srtp);
    tsr_dtls_free(&t->dtls);
    tsr_ice_free(&t->ice);
    tsr_dtls_cert_unref(&t->cert);
    g_strfreev(t->local_cands);
    g_queue_clear_full(&t->dtls_backlog, (GDestroyNotify)g_bytes_unref);
    g_free(t->srtp_profiles);
    g_free(t->log_ctx);
    g_main_context_unref(t->ctx);
    g_free(t);
    *pt = NULL;
}

/* ---- ICE restart ---- */

/* The peer restarted ICE (new ufrag/pwd in a new offer). We are ICE-lite: the
 * browser runs the checks and we only answer them, so what matters is that we
 * accept its new checks. libnice validates an incoming check against OUR ufrag
 * (the USERNAME's first half) and OUR password (MESSAGE-INTEGRITY); the remote
 * credentials are what libnice stores for the peer's side of the pairs. So we set
 * the new remote credentials and candidates and keep our own credentials: the
 * checks from the browser's new candidates then create a new pair that replaces
 * the old one, while DTLS and SRTP — which sit above ICE — carry on untouched
 * (RFC 8445 §2.4: a restart keeps the media session). Fresh local credentials
 * (nice_agent_restart_stream) would also reset libnice's pairs and selected pair,
 * dropping media until the new checks complete, for no gain to an ICE-lite end;
 * a browser accepts an answer whose credentials did not change. */
int tsr_webrtc_transport_restart_ice(struct tsr_webrtc_transport *t, const char *ufrag,
                                     const char *pwd, const char *const *candidates,
                                     size_t n_candidates)
{
    if (!t || t->closed || !t->remote_set)
        return TSR_ERR_STATE;
    int rc = tsr_ice_set_remote_credentials(t->ice, ufrag, pwd);
    if (rc != 0)
        return rc;
    for (size_t i = 0; i < n_candidates; i++) {
        int crc = tsr_ice_add_remote_candidate(t->ice, candidates[i]);
        if (crc != 0 && crc != TSR_ERR_UNSUPPORTED)
            TSR_LOG(TSR_LOG_DEBUG, "webrtc", "remote candidate ignored (%s): %s",
                    tsr_strerror(crc), candidates[i]);
    }
    TSR_LOG(TSR_LOG_INFO, "webrtc", "ICE restart: new remote credentials");
    return 0;
}
