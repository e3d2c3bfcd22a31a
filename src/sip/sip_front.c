/* The SIP front's agent: Sofia-SIP's nua on the API loop's GMainContext, its event
 * dispatch, start-up from [sip] and shutdown. A call's life is in sip_call.c.
 * Home thread: the API loop. */
#include "sip_internal.h"

#include <tessera/config.h>
#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <sofia-sip/su_tag.h>
#include <sofia-sip/tport_tag.h>

#include <stdlib.h>
#include <string.h>

#define SHUTDOWN_WAIT_US (3 * G_USEC_PER_SEC)

/* What a conference refusal is in SIP (RFC 3261 §21). Malformed SDP is a 400 with
 * the parser's reason; a full conference is busy here (486), a full server is 503
 * with Retry-After. A PIN-protected conference answers and takes the PIN by DTMF
 * (sip_lobby.c); the PIN refusals here are for joins that carry one. */
static const struct tsr_front_refusal sip_refusals[TSR_CONFERENCE_REFUSAL_COUNT] = {
    [TSR_CONFERENCE_REFUSAL_BAD_REQUEST] = {.status = 400},
    [TSR_CONFERENCE_REFUSAL_NO_SUCH_CONFERENCE] = {.status = 404},
    [TSR_CONFERENCE_REFUSAL_PIN_REQUIRED] = {.status = 480},
    [TSR_CONFERENCE_REFUSAL_WRONG_PIN] = {.status = 403},
    [TSR_CONFERENCE_REFUSAL_FULL] = {.status = 486},
    [TSR_CONFERENCE_REFUSAL_LOCKED] = {.status = 403},
    [TSR_CONFERENCE_REFUSAL_BAD_SDP] = {.status = 400},
    [TSR_CONFERENCE_REFUSAL_NO_COMMON_CODEC] = {.status = 488},
    [TSR_CONFERENCE_REFUSAL_MEDIA_UNAVAILABLE] = {.status = 503},
    [TSR_CONFERENCE_REFUSAL_MEDIA_FAILED] = {.status = 500},
    [TSR_CONFERENCE_REFUSAL_TOO_MANY_ATTEMPTS] = {.status = 403},
    [TSR_CONFERENCE_REFUSAL_CAPACITY] = {.status = 503,
                                         .retry_after_s = TSR_CONFERENCE_CAPACITY_RETRY_AFTER_S},
};

const struct tsr_front_desc tsr_sip_front_desc = {
    .name = "sip",
    .error_metric = "tessera_sip_errors_total",
    .error_metric_help = "SIP requests refused, by code.",
    .refusals = sip_refusals,
};

static void on_state(struct sip_call *c, tagi_t tags[])
{
    int state = nua_callstate_init;
    tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
    TSR_LOG(TSR_LOG_DEBUG, "sip", "[%s] call state %s", c->alias,
            nua_callstate_name((enum nua_callstate)state));
    if (state == nua_callstate_terminated)
        tsr_sip_call_terminated(c); /* frees c */
}

/* Requests nua made a handle for that no call owns (OPTIONS, MESSAGE …) are
 * answered by the stack; their handles go at once. */
static void drop_foreign_handle(struct tsr_sip_front *f, nua_handle_t *nh)
{
    if (nh && nh != nua_default(f->nua))
        nua_handle_destroy(nh);
}

static void on_event(nua_event_t event, int status, char const *phrase, nua_t *nua,
                     struct tsr_sip_front *f, nua_handle_t *nh, struct sip_call *c,
                     sip_t const *sip, tagi_t tags[])
{
    TSR_LOG(TSR_LOG_DEBUG, "sip", "%s %d %s", nua_event_name(event), status, phrase ? phrase : "");
    switch (event) {
    case nua_i_invite:
        if (c)
            tsr_sip_call_reinvite(c, sip);
        else
            tsr_sip_call_invite(f, nh, sip);
        break;
    case nua_i_update:
        if (c)
            tsr_sip_call_update(c, sip);
        else if (nh)
            nua_respond(nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(nua), TAG_END());
        break;
    case nua_i_cancel:
        if (c)
            tsr_sip_call_hangup(c, "CANCEL");
        break;
    case nua_i_bye:
        if (c)
            tsr_sip_call_hangup(c, "BYE");
        break;
    case nua_i_ack:
        if (c)
            tsr_sip_call_ack(c, sip);
        break;
    case nua_i_info:
        if (c)
            tsr_sip_call_info(c, sip);
        else if (nh)
            nua_respond(nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(nua), TAG_END());
        drop_foreign_handle(f, c ? NULL : nh);
        break;
    case nua_r_invite: /* a call we dialled, or our re-INVITE after a PIN (sip_lobby.c) */
        if (c && c->outbound && !c->answered)
            tsr_sip_dialout_response(c, status, phrase, sip);
        else if (c && status >= 300)
            tsr_sip_call_reinvite_failed(c, status, phrase);
        else if (c && status >= 200 && c->reinvite_offer) /* its answer to our offer */
            tsr_sip_call_reinvite_answer(c, sip);
        break;
    case nua_i_state:
        if (c)
            on_state(c, tags);
        break;
    case nua_r_shutdown:
        if (status >= 200)
            f->shutdown_done = true;
        break;
    case nua_i_options:
    case nua_i_message:
    case nua_i_subscribe:
    case nua_i_register:
    case nua_i_publish:
    case nua_i_refer:
    case nua_i_method:
        if (!c)
            drop_foreign_handle(f, nh);
        break;
    default:
        break;
    }
}

static int listen_url(const struct tsr_sip_front_options *opts, char **out)
{
    const char *host = opts->host && *opts->host ? opts->host : "0.0.0.0";
    const char *tp = opts->transports && *opts->transports ? opts->transports : "udp,tcp";
    if (!opts->port || strpbrk(host, "<>;\" ") || strspn(tp, "udptc,") != strlen(tp))
        return TSR_ERR_INVALID;
    bool v6 = strchr(host, ':') != NULL;
    /* No transport parameter binds UDP and TCP; Sofia 1.12.11 crashes on a list. */
    bool both = strstr(tp, "udp") && strstr(tp, "tcp");
    *out = g_strdup_printf("sip:%s%s%s:%u%s%s", v6 ? "[" : "", host, v6 ? "]" : "", opts->port,
                           both ? "" : ";transport=", both ? "" : tp);
    return 0;
}

/* nua with our SDP handled by us, INFO and UPDATE answered by us, session timers
 * (RFC 4028) with the caller as refresher: we never send a refresh ourselves, and
 * nua sends BYE when one does not come in time. PRACK (RFC 3262) is handled by nua:
 * an INVITE that requires 100rel is answered, not refused with 420. */
static nua_t *create_agent(struct tsr_sip_front *f, const char *url,
                           const struct tsr_sip_front_options *opts)
{
    unsigned se = opts->session_expires_s ? opts->session_expires_s : 1800;
    unsigned min_se = opts->min_se_s ? opts->min_se_s : 90;
    /* Callers present no certificate (SIP clients rarely have one): TLS here
     * authenticates the server and encrypts the signalling. */
    return nua_create(
        f->root, on_event, f, NUTAG_URL(url), TAG_IF(f->tls_url, NUTAG_SIPS_URL(f->tls_url)),
        TAG_IF(f->tls_dir, NUTAG_CERTIFICATE_DIR(f->tls_dir)),
        TAG_IF(f->tls_dir, TPTAG_TLS_VERIFY_POLICY(TPTLS_VERIFY_NONE)), NUTAG_MEDIA_ENABLE(0),
        NUTAG_AUTOANSWER(0), NUTAG_AUTOALERT(0), NUTAG_ENABLEMESSAGE(0),
        NUTAG_ALLOW("INFO, UPDATE, PRACK"), NUTAG_APPL_METHOD("INFO, UPDATE"),
        NUTAG_SUPPORTED("timer, 100rel"), NUTAG_SESSION_TIMER(se),
        NUTAG_MIN_SE(min_se > se ? se : min_se), NUTAG_SESSION_REFRESHER(nua_remote_refresher),
        NUTAG_USER_AGENT("tessera/" TSR_VERSION), TAG_END());
}

/* The sips: listener and Sofia's certificate directory, when TLS is configured. */
static int setup_tls(struct tsr_sip_front *f, const struct tsr_sip_front_options *opts)
{
    bool cert = opts->certificate && *opts->certificate;
    bool key = opts->private_key && *opts->private_key;
    if (!cert && !key)
        return 0;
    if (cert != key) {
        TSR_LOG(TSR_LOG_ERROR, "sip", "[sip] certificate and private_key: set both or neither");
        return TSR_ERR_INVALID;
    }
    int rc = tsr_sip_tls_dir_new(opts->certificate, opts->private_key, &f->tls_dir);
    if (rc != 0)
        return rc;
    const char *host = opts->host && *opts->host ? opts->host : "0.0.0.0";
    bool v6 = strchr(host, ':') != NULL;
    f->tls_port = opts->tls_port ? opts->tls_port : 5061;
    f->tls_url = g_strdup_printf("sips:%s%s%s:%u;transport=tls", v6 ? "[" : "", host, v6 ? "]" : "",
                                 f->tls_port);
    return 0;
}

/* The host in the From of calls we place: the listen address, else (listening on
 * every address) this machine's name. */
static char *from_host(const char *host)
{
    if (!host || !*host || strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
        return g_strdup(g_get_host_name());
    return strchr(host, ':') ? g_strdup_printf("[%s]", host) : g_strdup(host);
}

int tsr_sip_front_new(struct tsr_sip_front **out, struct tsr_conference_registry *reg,
                      const struct tsr_sip_front_options *opts)
{
    char *url = NULL;
    if (listen_url(opts, &url) != 0)
        return TSR_ERR_INVALID;
    struct tsr_sip_front *f = g_new0(struct tsr_sip_front, 1);
    f->reg = reg;
    f->url = url;
    f->offer_srtp = opts->offer_srtp;
    int tls_rc = setup_tls(f, opts);
    if (tls_rc != 0) {
        tsr_sip_tls_dir_free(f->tls_dir);
        g_free(f->url);
        g_free(f);
        return tls_rc;
    }
    f->ctx = g_main_context_ref_thread_default();
    f->calls = g_ptr_array_new_with_free_func(tsr_sip_call_free);
    f->calls_gauge = tsr_metrics_gauge("tessera_sip_calls", NULL, "SIP calls in progress.");
    static const char pin_help[] = "SIP PIN entries, by result.";
    f->pin_right =
        tsr_metrics_counter("tessera_sip_pin_entries_total", "result=\"right\"", pin_help);
    f->pin_wrong =
        tsr_metrics_counter("tessera_sip_pin_entries_total", "result=\"wrong\"", pin_help);
    f->pin_hangups =
        tsr_metrics_counter("tessera_sip_pin_entries_total", "result=\"hung_up\"", pin_help);
    f->fast_updates = tsr_metrics_counter(
        "tessera_sip_picture_fast_updates_total", NULL,
        "Keyframe requests by SIP INFO (application/media_control+xml picture_fast_update).");
    f->dtmf_errors =
        tsr_metrics_counter("tessera_sip_dtmf_errors_total", NULL,
                            "Malformed DTMF (RTP events, INFO bodies) from SIP callers.");
    su_init();
    f->root = su_glib_root_create(f);
    if (f->root) {
        /* The stack runs on this root, not on a thread of its own (nua's default). */
        su_root_threading(f->root, 0);
        g_source_attach(su_glib_root_gsource(f->root), f->ctx);
    }
    if (f->root)
        f->nua = create_agent(f, url, opts);
    if (!f->nua) {
        TSR_LOG(TSR_LOG_ERROR, "sip", "cannot listen on %s%s%s (address in use or not local?)", url,
                f->tls_url ? " and " : "", f->tls_url ? f->tls_url : "");
        f->shutdown_done = true;
        tsr_sip_front_free(&f);
        return TSR_ERR_IO;
    }
    f->from_host = from_host(opts->host);
    tsr_conference_registry_set_dialler(reg, &tsr_sip_dialler, f);
    TSR_LOG(TSR_LOG_INFO, "sip", "SIP front on %s%s%s: dial sip:ALIAS@this-host", url,
            f->tls_url ? " and " : "", f->tls_url ? f->tls_url : "");
    *out = f;
    return 0;
}

/* Sofia-SIP 1.12.11's GLib port frees its "obtained" mutex while it is still
 * locked when its GSource is finalized, and GLib aborts on that; the root can only
 * be destroyed by the thread that holds it. So the root is destroyed, its source
 * taken off the loop (nothing polls it any more), and the source itself kept: a
 * few hundred bytes per front started, once per process in the server. */
static void retire_root(su_root_t *root)
{
    static GPtrArray *retired; /* GSource*, kept for the process' life */
    static GMutex retired_lock;
    GSource *gs = g_source_ref(su_glib_root_gsource(root));
    su_root_destroy(root);
    g_source_destroy(gs);
    g_mutex_lock(&retired_lock);
    if (!retired)
        retired = g_ptr_array_new();
    g_ptr_array_add(retired, gs);
    g_mutex_unlock(&retired_lock);
}

/* BYE to every call, then nua's shutdown on our own loop (the API loop has left
 * g_main_loop_run by now, or this is a test): bounded, so a caller that never
 * answers the BYE cannot hold the server up. */
static void shutdown_stack(struct tsr_sip_front *f)
{
    for (guint i = 0; i < f->calls->len; i++)
        tsr_sip_call_shutdown(f->calls->pdata[i]);
    nua_shutdown(f->nua);
    int64_t end = g_get_monotonic_time() + SHUTDOWN_WAIT_US;
    while (!f->shutdown_done && g_get_monotonic_time() < end)
        g_main_context_iteration(f->ctx, TRUE);
    if (!f->shutdown_done)
        TSR_LOG(TSR_LOG_WARN, "sip", "SIP stack shutdown timed out");
}

void tsr_sip_front_free(struct tsr_sip_front **p)
{
    if (!p || !*p)
        return;
    struct tsr_sip_front *f = *p;
    *p = NULL;
    if (f->from_host) /* registered: calls can no longer be placed */
        tsr_conference_registry_set_dialler(f->reg, NULL, NULL);
    if (f->nua)
        shutdown_stack(f);
    g_ptr_array_free(f->calls, TRUE); /* destroys the handles nua still has */
    if (f->nua)
        nua_destroy(f->nua);
    if (f->root)
        retire_root(f->root);
    su_deinit();
    tsr_gauge_set(f->calls_gauge, 0);
    g_main_context_unref(f->ctx);
    tsr_sip_tls_dir_free(f->tls_dir);
    g_free(f->tls_url);
    g_free(f->url);
    g_free(f->from_host);
    g_free(f);
}

unsigned tsr_sip_front_n_calls(const struct tsr_sip_front *f)
{
    return f->calls->len;
}

static int make(struct tsr_sip_front **out, const struct tsr_front_env *env)
{
    struct tsr_config defaults;
    const struct tsr_config *cfg = env->cfg;
    if (!cfg) {
        tsr_config_defaults(&defaults);
        cfg = &defaults;
    }
    *out = NULL;
    if (!cfg->sip_enabled)
        return 0;
    char host[TSR_CONFIG_STR_MAX];
    g_strlcpy(host, cfg->sip_listen, sizeof host);
    char *colon = strrchr(host, ':');
    if (!colon)
        return TSR_ERR_INVALID;
    *colon = '\0';
    size_t hl = strlen(host);
    char *h = host;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        h = host + 1;
    }
    struct tsr_sip_front_options opts = {.host = h,
                                         .port = (uint16_t)atoi(colon + 1),
                                         .transports = cfg->sip_transports,
                                         .session_expires_s = (unsigned)cfg->sip_session_expires_s,
                                         .min_se_s = (unsigned)cfg->sip_min_se_s,
                                         .certificate = cfg->sip_certificate,
                                         .private_key = cfg->sip_private_key,
                                         .tls_port = (uint16_t)cfg->sip_tls_port,
                                         .offer_srtp =
                                             tsr_sdp_offer_srtp_from_name(cfg->sip_offer_srtp)};
    return tsr_sip_front_new(out, env->reg, &opts);
}

TSR_FRONT_OPS_DEFINE(tsr_sip_front, &tsr_sip_front_desc, struct tsr_sip_front, make,
                     tsr_sip_front_free);
