/* Server lifecycle: probe, HTTP listener, API main loop, clean shutdown. */
#include <tessera/server.h>
#include <tessera/compositor.h>
#include <tessera/conference.h>
#include <tessera/err.h>
#include <tessera/front.h>
#include <tessera/http.h>
#include <tessera/inlive_api.h>
#include <tessera/log.h>
#include <tessera/media_engine.h>
#include <tessera/metrics.h>
#include <tessera/native_api.h>
#include <tessera/net_loops.h>
#include <tessera/pexip_api.h>
#include <tessera/probe.h>
#include <tessera/sip_front.h>
#include <tessera/ws_signalling.h>

#include <glib-unix.h>
#include <glib.h>
#include <string.h>

static gboolean on_signal(gpointer user)
{
    TSR_LOG(TSR_LOG_INFO, "server", "signal received, shutting down");
    g_main_loop_quit(user);
    return G_SOURCE_CONTINUE;
}

/* Logs the probe line by line so the operator sees at start what will encode. */
static void log_probe(const struct tsr_config *cfg)
{
    struct tsr_probe *probe = NULL;
    if (tsr_probe_run(&probe, cfg->vaapi_device) != 0)
        return;
    enum tsr_compositor_backend setting = TSR_COMPOSITOR_BACKEND_AUTO;
    tsr_compositor_backend_parse(cfg->compositor, &setting);
    struct tsr_compositor_probe comp;
    tsr_compositor_probe_run(setting, &comp);
    char *ptext = tsr_probe_to_text(probe), *ctext = tsr_compositor_probe_to_text(&comp);
    char *text = g_strconcat(ptext, ctext, NULL);
    g_free(ptext);
    g_free(ctext);
    gchar **lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        if (*lines[i])
            TSR_LOG(TSR_LOG_INFO, "probe", "%s", lines[i]);
    }
    if (strcmp(cfg->encoder, "vaapi") == 0 && !tsr_probe_vaapi_available(probe))
        TSR_LOG(TSR_LOG_WARN, "probe", "encoder = vaapi but VAAPI is unavailable; encoders will "
                                       "fall back to software");
    g_strfreev(lines);
    g_free(text);
    tsr_probe_free(&probe);
}

/* Every way in, started in this order and stopped in the reverse one (sockets
 * first, so their participants leave while the registry still exists). The SIP
 * front is absent (NULL state) with [sip] enabled = false. */
static const struct tsr_front_ops *const fronts[] = {
    &tsr_native_front,
    &tsr_inlive_front,
    &tsr_pexip_front,
    &tsr_ws_front,
    &tsr_sip_front,
};

/* The media engine and the conference registry wired to it. */
static int start_conferences(const struct tsr_config *cfg, struct tsr_media_engine **engine,
                             struct tsr_conference_registry **reg)
{
    struct tsr_conference_registry_opts opts;
    tsr_conference_registry_opts_from_config(&opts, cfg);
    int rc = tsr_media_engine_new(engine, cfg);
    if (rc)
        return rc;
    opts.media = tsr_media_engine_ops();
    opts.media_user = *engine;
    rc = tsr_conference_registry_new(reg, &opts);
    if (rc == 0)
        tsr_media_engine_set_registry(*engine, *reg);
    char *err = NULL;
    if (rc == 0 && cfg->conferences_file[0])
        rc = tsr_conference_registry_load_file(*reg, cfg->conferences_file, &err);
    if (rc != 0)
        TSR_LOG(TSR_LOG_ERROR, "server", "conferences: %s", err ? err : tsr_strerror(rc));
    g_free(err);
    return rc;
}

/* Starts fronts[0..] into state[]; on a failure the ones started are stopped. */
static int start_fronts(const struct tsr_front_env *env, void *state[])
{
    for (size_t i = 0; i < G_N_ELEMENTS(fronts); i++) {
        int rc = fronts[i]->start(env, &state[i]);
        if (rc != 0) {
            TSR_LOG(TSR_LOG_ERROR, "server", "the %s front did not start: %s",
                    fronts[i]->desc->name, tsr_strerror(rc));
            while (i-- > 0)
                fronts[i]->stop(&state[i]);
            return rc;
        }
    }
    return 0;
}

static void stop_fronts(void *state[])
{
    for (size_t i = G_N_ELEMENTS(fronts); i-- > 0;)
        if (state[i])
            fronts[i]->stop(&state[i]);
}

int tsr_server_run(const struct tsr_config *cfg)
{
    char host[TSR_CONFIG_STR_MAX];
    uint16_t port = 0;
    int rc = tsr_config_listen_split(cfg, host, sizeof host, &port);
    if (rc)
        return rc;
    TSR_LOG(TSR_LOG_INFO, "server", "tessera %s starting", TSR_VERSION);
    tsr_metrics_register_process();
    log_probe(cfg);

    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    struct tsr_http *http = NULL;
    struct tsr_conference_registry *reg = NULL;
    struct tsr_media_engine *engine = NULL;
    void *state[G_N_ELEMENTS(fronts)] = {0};
    struct tsr_http_options hopts = {
        .listen_backlog = (int)cfg->listen_backlog,
        .limits = {.max_connections = (int)cfg->max_connections,
                   .max_connections_per_address = (int)cfg->max_connections_per_address,
                   .idle_timeout_s = (int)cfg->idle_timeout_s,
                   .max_body_bytes = (size_t)cfg->max_body_bytes,
                   .max_header_bytes = (size_t)cfg->max_header_bytes,
                   .trusted_proxies = cfg->trusted_proxies},
    };
    rc = tsr_http_new_with(&http, host, port, &hopts);
    if (rc == 0)
        rc = start_conferences(cfg, &engine, &reg);
    if (rc == 0)
        rc = start_fronts(&(struct tsr_front_env){.http = http, .reg = reg, .cfg = cfg}, state);
    if (rc == 0) {
        guint sigint = g_unix_signal_add(SIGINT, on_signal, loop);
        guint sigterm = g_unix_signal_add(SIGTERM, on_signal, loop);
        tsr_api_loop_enter(); /* from here on a wait for another thread is a bug */
        g_main_loop_run(loop);
        tsr_api_loop_leave(); /* shutdown joins threads */
        g_source_remove(sigint);
        g_source_remove(sigterm);
        stop_fronts(state);
    }
    tsr_conference_registry_free(&reg);
    tsr_media_engine_free(&engine);
    tsr_http_free(&http);
    /* Closed client connections finish their teardown on the loop; drain it so
     * nothing is left half-freed at exit. */
    while (g_main_context_iteration(NULL, FALSE))
        ;
    g_main_loop_unref(loop);
    if (rc == 0)
        TSR_LOG(TSR_LOG_INFO, "server", "stopped");
    return rc;
}
