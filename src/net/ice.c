/* ICE with libnice; see include/net/tessera/ice.h.
 *
 * One NiceAgent per participant, one stream, one component (BUNDLE + rtcp-mux).
 * A server on a public address runs ICE-lite: it only answers the browser's
 * checks, so there is nothing to time out on our side and no STUN traffic of
 * our own. Consent (RFC 7675) is judged from what arrives: browsers send RTCP
 * at least every few seconds on a live session, so consent_timeout_ms of
 * silence reports DISCONNECTED, and the server drops the participant when that
 * lasts 30 s. */
#include <tessera/ice.h>

#include <tessera/net_loops.h>
#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/sdp.h>

#include <errno.h>
#include <gio/gio.h>
#include <nice/agent.h>
#include <nice/interfaces.h>
#include <string.h>
#include <sys/socket.h>

#define DEFAULT_CONSENT_TIMEOUT_MS 5000
#define WATCHDOG_INTERVAL_MS 500

struct tsr_ice {
    GMainContext *ctx;
    NiceAgent *agent;
    guint stream_id;
    struct tsr_ice_callbacks cb;
    void *user;
    char *public_address;
    bool keep_loopback; /* loopback candidates are shown as they are */
    char *ufrag;
    char *pwd;
    enum tsr_ice_state state;
    bool closed;
    bool full;
    uint32_t consent_timeout_ms;
    gint64 last_recv_us;
    GSource *watchdog;
    gulong sig_state, sig_cand, sig_pair;
    char *log_ctx;
    /* The selected pair's UDP socket and peer, once libnice reports one: media is
     * sent there directly instead of through nice_agent_send, whose lock is one
     * for every agent in the process (every net loop contends for it per packet). */
    GSocket *direct_sock;
    struct sockaddr_storage direct_to;
    socklen_t direct_to_len;
    bool receive_taken; /* tsr_ice_take_receive: the caller reads the socket */
};

const char *tsr_ice_state_name(enum tsr_ice_state state)
{
    static const char *const names[] = {"new",          "checking", "connected",
                                        "disconnected", "failed",   "closed"};
    return (unsigned)state < G_N_ELEMENTS(names) ? names[state] : "?";
}

static void set_state(struct tsr_ice *ice, enum tsr_ice_state state)
{
    if (ice->state == state || ice->closed)
        return;
    TSR_LOG(TSR_LOG_DEBUG, ice->log_ctx, "state %s -> %s", tsr_ice_state_name(ice->state),
            tsr_ice_state_name(state));
    ice->state = state;
    if (ice->cb.on_state)
        ice->cb.on_state(ice->user, state);
}

/* ---- libnice callbacks (net loop) ---- */

static void clear_direct(struct tsr_ice *ice)
{
    g_clear_object(&ice->direct_sock);
    ice->direct_to_len = 0;
}

static void on_recv(NiceAgent *agent, guint stream_id, guint component_id, guint len, gchar *buf,
                    gpointer data)
{
    struct tsr_ice *ice = data;
    (void)agent, (void)stream_id, (void)component_id;
    if (ice->closed)
        return;
    ice->last_recv_us = g_get_monotonic_time();
    if (ice->state == TSR_ICE_STATE_DISCONNECTED)
        set_state(ice, TSR_ICE_STATE_CONNECTED); /* consent is back */
    if (ice->cb.on_recv)
        ice->cb.on_recv(ice->user, (uint8_t *)buf, len);
}

static void on_component_state(NiceAgent *agent, guint stream_id, guint component_id, guint state,
                               gpointer data)
{
    struct tsr_ice *ice = data;
    (void)agent, (void)component_id;
    if (stream_id != ice->stream_id)
        return;
    switch (state) {
    case NICE_COMPONENT_STATE_CONNECTING:
        set_state(ice, TSR_ICE_STATE_CHECKING);
        break;
    case NICE_COMPONENT_STATE_CONNECTED:
    case NICE_COMPONENT_STATE_READY:
        ice->last_recv_us = g_get_monotonic_time();
        set_state(ice, TSR_ICE_STATE_CONNECTED);
        break;
    case NICE_COMPONENT_STATE_FAILED:
        clear_direct(ice);
        set_state(ice, TSR_ICE_STATE_FAILED);
        break;
    default:
        break;
    }
}

/* A UDP pair (host, server- or peer-reflexive base: the socket is ours) is sent to
 * directly; a relayed or TCP one stays with libnice, which frames it. */
static void on_selected_pair(NiceAgent *agent, guint stream_id, guint component_id,
                             NiceCandidate *local, NiceCandidate *remote, gpointer data)
{
    struct tsr_ice *ice = data;
    (void)component_id;
    if (ice->closed || stream_id != ice->stream_id)
        return;
    clear_direct(ice);
    if (local->transport != NICE_CANDIDATE_TRANSPORT_UDP ||
        local->type == NICE_CANDIDATE_TYPE_RELAYED)
        return;
    GSocket *sock = nice_agent_get_selected_socket(agent, stream_id, 1);
    if (!sock)
        return;
    if (g_socket_get_socket_type(sock) != G_SOCKET_TYPE_DATAGRAM) {
        g_object_unref(sock);
        return;
    }
    memset(&ice->direct_to, 0, sizeof ice->direct_to);
    nice_address_copy_to_sockaddr(&remote->addr, (struct sockaddr *)&ice->direct_to);
    ice->direct_to_len = ice->direct_to.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                              : sizeof(struct sockaddr_in);
    ice->direct_sock = sock;
}

static char *format_candidate(const struct tsr_ice *ice, const NiceCandidate *c);

static void on_new_candidate(NiceAgent *agent, NiceCandidate *c, gpointer data)
{
    struct tsr_ice *ice = data;
    (void)agent;
    if (ice->closed || !ice->cb.on_candidate || c->stream_id != ice->stream_id)
        return;
    char *line = format_candidate(ice, c);
    if (line)
        ice->cb.on_candidate(ice->user, line);
    g_free(line);
}

static gboolean on_watchdog(gpointer data)
{
    struct tsr_ice *ice = data;
    gint64 silent_us = g_get_monotonic_time() - ice->last_recv_us;
    if (ice->state == TSR_ICE_STATE_CONNECTED && !ice->receive_taken &&
        silent_us > (gint64)ice->consent_timeout_ms * 1000) {
        TSR_LOG(TSR_LOG_INFO, ice->log_ctx,
                "nothing received for %" G_GINT64_FORMAT " ms: consent lost", silent_us / 1000);
        set_state(ice, TSR_ICE_STATE_DISCONNECTED);
    }
    return G_SOURCE_CONTINUE;
}

/* ---- candidates ---- */

static const char *type_name(NiceCandidateType t)
{
    switch (t) {
    case NICE_CANDIDATE_TYPE_HOST:
        return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
        return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
        return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED:
        return "relay";
    }
    return "host";
}

/* "candidate:…" for one local UDP or passive TCP candidate; the host address is
 * replaced by the public one for 1:1 NAT. NULL for candidates we do not
 * advertise: active TCP ones (port 9, we never connect out) and simultaneous-open. */
static char *format_candidate(const struct tsr_ice *ice, const NiceCandidate *c)
{
    char addr[NICE_ADDRESS_STRING_LEN], raddr[NICE_ADDRESS_STRING_LEN];
    bool tcp = c->transport == NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE;
    if ((c->transport != NICE_CANDIDATE_TRANSPORT_UDP && !tcp) || c->component_id != 1)
        return NULL;
    nice_address_to_string(&c->addr, addr);
    if (g_str_has_prefix(addr, "fe80:"))
        return NULL; /* IPv6 link-local: useless to a peer without the scope id */
    const char *shown = addr;
    /* 1:1 NAT maps one address family: an IPv6 host candidate keeps its own
     * address when the public one is IPv4, and the other way round. Loopback
     * gathered because the server listens there is not behind the NAT. */
    bool loopback = g_str_has_prefix(addr, "127.") || strcmp(addr, "::1") == 0;
    if (c->type == NICE_CANDIDATE_TYPE_HOST && ice->public_address &&
        !(loopback && ice->keep_loopback) &&
        nice_address_ip_version(&c->addr) == (strchr(ice->public_address, ':') ? 6 : 4))
        shown = ice->public_address;
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "candidate:%s 1 %s %u %s %u typ %s", c->foundation,
                           tcp ? "tcp" : "udp", c->priority, shown, nice_address_get_port(&c->addr),
                           type_name(c->type));
    if (c->type != NICE_CANDIDATE_TYPE_HOST && nice_address_is_valid(&c->base_addr)) {
        nice_address_to_string(&c->base_addr, raddr);
        g_string_append_printf(s, " raddr %s rport %u", raddr,
                               nice_address_get_port(&c->base_addr));
    }
    if (tcp)
        g_string_append(s, " tcptype passive");
    return g_string_free(s, FALSE);
}

int tsr_ice_local_candidates(const struct tsr_ice *ice, char ***out, size_t *n_out)
{
    if (!ice || !out || !n_out || ice->closed)
        return -EINVAL;
    GSList *list = nice_agent_get_local_candidates(ice->agent, ice->stream_id, 1);
    GPtrArray *arr = g_ptr_array_new();
    for (GSList *l = list; l; l = l->next) {
        char *line = format_candidate(ice, l->data);
        if (line)
            g_ptr_array_add(arr, line);
    }
    g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
    *n_out = arr->len;
    g_ptr_array_add(arr, NULL);
    *out = (char **)g_ptr_array_free(arr, FALSE);
    return 0;
}

/* ---- construction ---- */

/* "IP:port" → the IP and port for libnice, which needs a literal address. Names are
 * refused rather than looked up: a lookup here would block the net loop (and,
 * before, the API loop waiting on it); the media engine resolves them
 * asynchronously and hands the address in. */
static int parse_stun(const char *hostport, char **ip, guint *port)
{
    const char *colon = strrchr(hostport, ':');
    char *end = NULL;
    unsigned long p = colon ? strtoul(colon + 1, &end, 10) : 0;
    if (!colon || colon == hostport || !end || *end || p == 0 || p > 65535)
        return TSR_ERR_CONFIG;
    char *host = g_strndup(hostport, (gsize)(colon - hostport));
    if (!g_hostname_is_ip_address(host)) {
        g_free(host);
        return TSR_ERR_CONFIG;
    }
    *ip = host;
    *port = (guint)p;
    return 0;
}

/* "a, b" → {"a", "b"}: entries trimmed, empty ones dropped. */
static gchar **split_addresses(const char *list)
{
    gchar **parts = g_strsplit(list, ",", -1);
    size_t n = 0;
    for (size_t i = 0; parts[i]; i++) {
        char *p = g_strstrip(parts[i]);
        if (*p)
            parts[n++] = p;
        else
            g_free(p);
    }
    parts[n] = NULL;
    return parts;
}

int tsr_ice_check_media_addresses(const char *list, char **bad)
{
    gchar **parts = split_addresses(list ? list : "");
    int rc = 0;
    for (size_t i = 0; parts[i] && rc == 0; i++) {
        if (!g_hostname_is_ip_address(parts[i])) {
            rc = TSR_ERR_CONFIG;
            if (bad)
                *bad = g_strdup(parts[i]);
        }
    }
    g_strfreev(parts);
    return rc;
}

/* Every interface address, loopback included (libnice's own choice leaves
 * loopback out whenever another interface exists); IPv6 link-local left out. */
static gchar **interface_addresses(void)
{
    GList *ips = nice_interfaces_get_local_ips(TRUE);
    GPtrArray *arr = g_ptr_array_new();
    for (GList *l = ips; l; l = l->next)
        if (!g_str_has_prefix(l->data, "fe80:"))
            g_ptr_array_add(arr, g_strdup(l->data));
    g_list_free_full(ips, g_free);
    g_ptr_array_add(arr, NULL);
    return (gchar **)g_ptr_array_free(arr, FALSE);
}

/* Where candidates are gathered: the configured list, else every interface with
 * loopback (a server told to live on loopback is reached there), else the one
 * bind address, else libnice's default. Cost: one getifaddrs() per participant. */
static int add_local_addresses(struct tsr_ice *ice, const struct tsr_ice_config *cfg)
{
    gchar **list = NULL;
    if (cfg->media_addresses && *cfg->media_addresses)
        list = split_addresses(cfg->media_addresses);
    else if (cfg->include_loopback)
        list = interface_addresses();
    else if (cfg->bind_address && *cfg->bind_address)
        list = g_strsplit(cfg->bind_address, ",", 1);
    int rc = 0;
    for (size_t i = 0; list && list[i] && rc == 0; i++) {
        NiceAddress a;
        if (!nice_address_set_from_string(&a, list[i])) {
            TSR_LOG(TSR_LOG_ERROR, ice->log_ctx, "bad media address \"%s\"", list[i]);
            rc = TSR_ERR_CONFIG;
        } else {
            nice_agent_add_local_address(ice->agent, &a);
        }
    }
    g_strfreev(list);
    return rc;
}

static int configure_agent(struct tsr_ice *ice, const struct tsr_ice_config *cfg)
{
    /* No UPnP port mapping (slow, spawns threads); ICE-TCP when configured. */
    g_object_set(ice->agent, "ice-tcp", cfg->ice_tcp, "upnp", FALSE, "controlling-mode",
                 cfg->controlling, NULL);
    if (cfg->stun_server && *cfg->stun_server) {
        char *ip = NULL;
        guint port = 0;
        if (parse_stun(cfg->stun_server, &ip, &port) != 0) {
            TSR_LOG(TSR_LOG_ERROR, ice->log_ctx, "bad stun_server \"%s\" (want IP:port)",
                    cfg->stun_server);
            return TSR_ERR_CONFIG;
        }
        g_object_set(ice->agent, "stun-server", ip, "stun-server-port", port, NULL);
        g_free(ip);
    }
    if (add_local_addresses(ice, cfg) != 0)
        return TSR_ERR_CONFIG;
    if (cfg->public_address && *cfg->public_address) {
        if (!g_hostname_is_ip_address(cfg->public_address)) {
            TSR_LOG(TSR_LOG_ERROR, ice->log_ctx, "public_address \"%s\" is not an IP address",
                    cfg->public_address);
            return TSR_ERR_CONFIG;
        }
        ice->public_address = g_strdup(cfg->public_address);
        ice->keep_loopback = cfg->include_loopback;
    }
    return 0;
}

static int start_stream(struct tsr_ice *ice, const struct tsr_ice_config *cfg)
{
    gchar *ufrag = NULL, *pwd = NULL;
    ice->stream_id = nice_agent_add_stream(ice->agent, 1);
    if (ice->stream_id == 0)
        return -ENOMEM;
    if (cfg->port_min || cfg->port_max)
        nice_agent_set_port_range(ice->agent, ice->stream_id, 1, cfg->port_min, cfg->port_max);
    ice->sig_state = g_signal_connect(ice->agent, "component-state-changed",
                                      G_CALLBACK(on_component_state), ice);
    ice->sig_cand =
        g_signal_connect(ice->agent, "new-candidate-full", G_CALLBACK(on_new_candidate), ice);
    ice->sig_pair = g_signal_connect(ice->agent, "new-selected-pair-full",
                                     G_CALLBACK(on_selected_pair), ice);
    nice_agent_attach_recv(ice->agent, ice->stream_id, 1, ice->ctx, on_recv, ice);
    if (!nice_agent_gather_candidates(ice->agent, ice->stream_id)) {
        TSR_LOG(TSR_LOG_ERROR, ice->log_ctx, "no local candidate (ports %u..%u exhausted?)",
                cfg->port_min, cfg->port_max);
        return TSR_ERR_IO;
    }
    if (!nice_agent_get_local_credentials(ice->agent, ice->stream_id, &ufrag, &pwd))
        return TSR_ERR_IO;
    ice->ufrag = ufrag;
    ice->pwd = pwd;
    return 0;
}

int tsr_ice_new(struct tsr_ice **out, GMainContext *ctx, const struct tsr_ice_config *cfg,
                const struct tsr_ice_callbacks *cb, void *user)
{
    struct tsr_ice *ice;
    int rc;
    if (!out || !ctx || !cfg || !cb || (cfg->port_max && cfg->port_min > cfg->port_max))
        return -EINVAL;
    ice = g_new0(struct tsr_ice, 1);
    ice->ctx = g_main_context_ref(ctx);
    ice->cb = *cb;
    ice->user = user;
    ice->log_ctx = g_strdup(cfg->log_ctx ? cfg->log_ctx : "ice");
    ice->full = cfg->controlling || cfg->full_ice || (cfg->stun_server && *cfg->stun_server);
    ice->consent_timeout_ms =
        cfg->consent_timeout_ms ? cfg->consent_timeout_ms : DEFAULT_CONSENT_TIMEOUT_MS;
    NiceAgentOption opts = ice->full ? NICE_AGENT_OPTION_ICE_TRICKLE : NICE_AGENT_OPTION_LITE_MODE;
    if (cfg->controlling)
        opts = NICE_AGENT_OPTION_NONE; /* the loopback client knows all candidates */
    ice->agent = nice_agent_new_full(ctx, NICE_COMPATIBILITY_RFC5245, opts);
    rc = ice->agent ? configure_agent(ice, cfg) : -ENOMEM;
    if (rc == 0)
        rc = start_stream(ice, cfg);
    if (rc != 0) {
        tsr_ice_free(&ice);
        return rc;
    }
    ice->watchdog = tsr_aligned_timer_source_new(WATCHDOG_INTERVAL_MS);
    g_source_set_callback(ice->watchdog, on_watchdog, ice, NULL);
    g_source_attach(ice->watchdog, ctx);
    *out = ice;
    return 0;
}

/* ---- remote side ---- */

int tsr_ice_set_remote_credentials(struct tsr_ice *ice, const char *ufrag, const char *pwd)
{
    if (!ice || ice->closed)
        return TSR_ERR_STATE;
    if (!tsr_sdp_ice_credentials_valid(ufrag, pwd))
        return TSR_ERR_INVALID;
    if (!nice_agent_set_remote_credentials(ice->agent, ice->stream_id, ufrag, pwd))
        return TSR_ERR_INVALID;
    return 0;
}

static NiceCandidateType parse_type(const char *t)
{
    if (strcmp(t, "srflx") == 0)
        return NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE;
    if (strcmp(t, "prflx") == 0)
        return NICE_CANDIDATE_TYPE_PEER_REFLEXIVE;
    if (strcmp(t, "relay") == 0)
        return NICE_CANDIDATE_TYPE_RELAYED;
    return NICE_CANDIDATE_TYPE_HOST;
}

int tsr_ice_add_remote_candidate(struct tsr_ice *ice, const char *candidate)
{
    struct tsr_sdp_candidate c;
    if (!ice || ice->closed)
        return TSR_ERR_STATE;
    if (!candidate || tsr_sdp_parse_candidate(candidate, &c) != 0)
        return TSR_ERR_INVALID;
    if (c.component != 1 || strcmp(c.transport, "udp") != 0)
        return TSR_ERR_UNSUPPORTED; /* rtcp-mux: component 1 only; no ICE-TCP */
    NiceCandidate *nc = nice_candidate_new(parse_type(c.type));
    int rc = 0;
    if (!nice_address_set_from_string(&nc->addr, c.address)) {
        rc = TSR_ERR_UNSUPPORTED; /* mDNS ".local" names: the peer shows up as prflx */
        goto out;
    }
    nice_address_set_port(&nc->addr, c.port);
    nc->stream_id = ice->stream_id;
    nc->component_id = 1;
    nc->transport = NICE_CANDIDATE_TRANSPORT_UDP;
    nc->priority = c.priority;
    g_strlcpy(nc->foundation, c.foundation, sizeof(nc->foundation));
    GSList one = {nc, NULL};
    if (nice_agent_set_remote_candidates(ice->agent, ice->stream_id, 1, &one) < 1)
        rc = TSR_ERR_INVALID;
out:
    nice_candidate_free(nc);
    return rc;
}

int tsr_ice_remote_gathering_done(struct tsr_ice *ice)
{
    if (!ice || ice->closed)
        return TSR_ERR_STATE;
    if (ice->full)
        nice_agent_peer_candidate_gathering_done(ice->agent, ice->stream_id);
    return 0;
}

/* ---- data path ---- */

int tsr_ice_send(struct tsr_ice *ice, const uint8_t *data, size_t len)
{
    if (!ice || ice->closed)
        return TSR_ERR_STATE;
    if (len > G_MAXUINT)
        return -EMSGSIZE;
    if (ice->direct_sock) {
        ssize_t n = sendto(g_socket_get_fd(ice->direct_sock), data, len, MSG_DONTWAIT,
                           (const struct sockaddr *)&ice->direct_to, ice->direct_to_len);
        return n == (ssize_t)len ? 0 : TSR_ERR_IO;
    }
    /* Tried even before CONNECTED is reported: a lite agent may already have the
     * pair the browser nominated when its DTLS ClientHello races the state signal,
     * and answering at once saves a 1 s DTLS retransmission. */
    gint sent = nice_agent_send(ice->agent, ice->stream_id, 1, (guint)len, (const gchar *)data);
    if (sent == (gint)len)
        return 0;
    return ice->state == TSR_ICE_STATE_CONNECTED || ice->state == TSR_ICE_STATE_DISCONNECTED
               ? TSR_ERR_IO
               : TSR_ERR_AGAIN;
}

enum tsr_ice_state tsr_ice_get_state(const struct tsr_ice *ice)
{
    return ice ? ice->state : TSR_ICE_STATE_CLOSED;
}

const char *tsr_ice_local_ufrag(const struct tsr_ice *ice)
{
    return ice ? ice->ufrag : NULL;
}

const char *tsr_ice_local_pwd(const struct tsr_ice *ice)
{
    return ice ? ice->pwd : NULL;
}

uint16_t tsr_ice_local_port(const struct tsr_ice *ice)
{
    uint16_t port = 0;
    if (!ice || ice->closed)
        return 0;
    GSList *list = nice_agent_get_local_candidates(ice->agent, ice->stream_id, 1);
    for (GSList *l = list; l && !port; l = l->next) {
        NiceCandidate *c = l->data;
        if (c->type == NICE_CANDIDATE_TYPE_HOST && c->transport == NICE_CANDIDATE_TRANSPORT_UDP)
            port = (uint16_t)nice_address_get_port(&c->addr);
    }
    g_slist_free_full(list, (GDestroyNotify)nice_candidate_free);
    return port;
}

GSocket *tsr_ice_take_receive(struct tsr_ice *ice)
{
    if (!ice || ice->closed || !ice->direct_sock || ice->receive_taken)
        return NULL;
    /* libnice's socket sources move to a context no thread runs, so it reads
     * nothing more (pausing with a NULL callback leaves them on ice->ctx, ready
     * for ever: a busy loop). Nothing of ICE needs reception once a pair is
     * selected: libnice's keep-alives are indications, consent freshness is off. */
    static GMainContext *parked;
    if (g_once_init_enter(&parked))
        g_once_init_leave(&parked, g_main_context_new());
    nice_agent_attach_recv(ice->agent, ice->stream_id, 1, parked, on_recv, ice);
    ice->receive_taken = true;
    return g_object_ref(ice->direct_sock);
}

bool tsr_ice_sends_direct(const struct tsr_ice *ice)
{
    return ice && !ice->closed && ice->direct_sock;
}

/* ---- shutdown ---- */

void tsr_ice_close(struct tsr_ice *ice)
{
    if (!ice || ice->closed)
        return;
    if (ice->watchdog) {
        g_source_destroy(ice->watchdog);
        g_source_unref(ice->watchdog);
        ice->watchdog = NULL;
    }
    if (ice->agent) {
        if (ice->stream_id) {
            nice_agent_attach_recv(ice->agent, ice->stream_id, 1, ice->ctx, NULL, NULL);
            nice_agent_remove_stream(ice->agent, ice->stream_id);
        }
        if (ice->sig_state)
            g_signal_handler_disconnect(ice->agent, ice->sig_state);
        if (ice->sig_cand)
            g_signal_handler_disconnect(ice->agent, ice->sig_cand);
        if (ice->sig_pair)
            g_signal_handler_disconnect(ice->agent, ice->sig_pair);
    }
    clear_direct(ice);
    ice->state = TSR_ICE_STATE_CLOSED; /* no callback: the owner asked for it */
    ice->closed = true;
}

void tsr_ice_free(struct tsr_ice **pice)
{
    if (!pice || !*pice)
        return;
    struct tsr_ice *ice = *pice;
    tsr_ice_close(ice);
    if (ice->agent) {
        /* close_async stops STUN discovery and frees its state; the agent is
         * finalised once its pending sources on ctx have run. */
        nice_agent_close_async(ice->agent, NULL, NULL);
        g_object_unref(ice->agent);
    }
    g_free(ice->public_address);
    g_free(ice->ufrag);
    g_free(ice->pwd);
    g_free(ice->log_ctx);
    g_main_context_unref(ice->ctx);
    g_free(ice);
    *pice = NULL;
}
