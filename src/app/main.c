/* tessera: command line, configuration, then the server or a one-shot mode
 * (--probe, --check-config). Exit status: 0 ok, 1 runtime failure, 2 bad usage
 * or configuration (nothing started). */
#include <tessera/compositor.h>
#include <tessera/conference.h>
#include <tessera/config.h>
#include <tessera/err.h>
#include <tessera/ice.h>
#include <tessera/ice_servers.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/probe.h>
#include <tessera/server.h>

#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

struct cli {
    const char *config;
    const char *listen;
    const char *log_level;
    bool probe;
    bool json;
    bool check_config;
};

static const char usage[] =
    "Usage: tessera [--config FILE] [--listen ADDR:PORT] [--log-level LEVEL]\n"
    "               [--probe [--json]] [--check-config] [--version] [--help]\n"
    "\n"
    "  --config FILE       read settings from FILE (default: built-in defaults)\n"
    "  --listen ADDR:PORT  HTTP address, overrides [server] listen\n"
    "  --log-level LEVEL   error|warn|info|debug|trace, overrides [log] level\n"
    "  --probe             test which encoders, decoders and VAAPI work, then exit\n"
    "  --json              with --probe: print JSON\n"
    "  --check-config      validate the configuration and exit\n"
    "  --version           print the version and exit\n"
    "  --help              print this help and exit\n";

/* Returns -1 to continue, or an exit status. */
static int parse_cli(int argc, char **argv, struct cli *cli)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"listen", required_argument, NULL, 'l'},
        {"log-level", required_argument, NULL, 'L'}, {"probe", no_argument, NULL, 'p'},
        {"json", no_argument, NULL, 'j'}, {"check-config", no_argument, NULL, 'k'},
        {"version", no_argument, NULL, 'v'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cli->config = optarg; break;
        case 'l': cli->listen = optarg; break;
        case 'L': cli->log_level = optarg; break;
        case 'p': cli->probe = true; break;
        case 'j': cli->json = true; break;
        case 'k': cli->check_config = true; break;
        case 'v': printf("tessera %s\n", TSR_VERSION); return 0;
        case 'h': fputs(usage, stdout); return 0;
        default:
            fprintf(stderr, "tessera: unknown or incomplete option '%s'\n%s", argv[optind - 1],
                    usage);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tessera: unexpected argument '%s'\n%s", argv[optind], usage);
        return 2;
    }
    if (cli->json && !cli->probe) {
        fprintf(stderr, "tessera: --json only goes with --probe\n");
        return 2;
    }
    return -1;
}

/* Defaults, then the file, then the command line. Returns 0 or prints and returns 2. */
static int load_config(const struct cli *cli, struct tsr_config *cfg)
{
    char *err = NULL;
    int rc = 0;
    tsr_config_defaults(cfg);
    if (cli->config)
        rc = tsr_config_apply_file(cfg, cli->config, &err);
    if (rc == 0 && cli->listen)
        rc = tsr_config_set(cfg, "server", "listen", cli->listen, "--listen", &err);
    if (rc == 0 && cli->log_level)
        rc = tsr_config_set(cfg, "log", "level", cli->log_level, "--log-level", &err);
    if (rc) {
        fprintf(stderr, "tessera: %s\n", err);
        g_free(err);
        return 2;
    }
    return 0;
}

/* The conference definitions named by [conferences] file are part of the
 * configuration: load them into a throw-away registry to validate them too. */
static int check_conferences_file(const struct tsr_config *cfg)
{
    if (!cfg->conferences_file[0])
        return 0;
    struct tsr_conference_registry_opts opts;
    tsr_conference_registry_opts_from_config(&opts, cfg);
    struct tsr_conference_registry *reg = NULL;
    char *err = NULL;
    int rc = tsr_conference_registry_new(&reg, &opts);
    if (rc == 0)
        rc = tsr_conference_registry_load_file(reg, cfg->conferences_file, &err);
    tsr_conference_registry_free(&reg);
    if (rc) {
        fprintf(stderr, "tessera: %s\n", err ? err : tsr_strerror(rc));
        g_free(err);
        return 2;
    }
    return 0;
}

/* The [webrtc] lists the schema only knows as strings: refused before anything
 * starts, with one line, like any other bad value. */
static int check_webrtc_lists(const struct tsr_config *cfg)
{
    struct tsr_ice_server *servers = NULL;
    size_t n = 0;
    char *err = NULL;
    if (tsr_ice_servers_parse(cfg->webrtc_turn_servers, &servers, &n, &err) != 0) {
        fprintf(stderr, "tessera: [webrtc] %s\n", err);
        g_free(err);
        return 2;
    }
    tsr_ice_servers_free(servers, n);
    if (tsr_ice_check_media_addresses(cfg->webrtc_media_addresses, &err) != 0) {
        fprintf(stderr, "tessera: [webrtc] media_addresses: \"%s\" is not an IP address\n", err);
        g_free(err);
        return 2;
    }
    return 0;
}

static int run_probe(const struct tsr_config *cfg, bool json)
{
    struct tsr_probe *probe = NULL;
    if (tsr_probe_run(&probe, cfg->vaapi_device) != 0)
        return 1;
    enum tsr_compositor_backend setting = TSR_COMPOSITOR_BACKEND_AUTO;
    tsr_compositor_backend_parse(cfg->compositor, &setting);
    struct tsr_compositor_probe comp;
    tsr_compositor_probe_run(setting, &comp);
    char *text;
    if (json) {
        json_t *j = tsr_probe_to_json(probe);
        json_object_set_new(j, "compositor", tsr_compositor_probe_to_json(&comp));
        text = json_dumps(j, JSON_INDENT(2));
        json_decref(j);
        printf("%s\n", text);
        free(text);
    } else {
        text = tsr_probe_to_text(probe);
        fputs(text, stdout);
        g_free(text);
        text = tsr_compositor_probe_to_text(&comp);
        fputs(text, stdout);
        g_free(text);
    }
    tsr_probe_free(&probe);
    return 0;
}

/* Every participant holds at least one UDP socket: a conference of hundreds would
 * hit the usual soft limit of 1024 descriptors long before the CPU limit. The hard
 * limit is what the administrator allows; take it all. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            TSR_LOG(TSR_LOG_WARN, "main", "cannot raise the open-file limit: %s", g_strerror(errno));
    }
}

int main(int argc, char **argv)
{
    struct cli cli = {0};
    int rc = parse_cli(argc, argv, &cli);
    if (rc >= 0)
        return rc;
    struct tsr_config cfg;
    if (load_config(&cli, &cfg) || check_webrtc_lists(&cfg))
        return 2;
    enum tsr_log_level level = TSR_LOG_INFO;
    tsr_log_level_parse(cfg.log_level, &level);
    /* The probe's own output is the product of --probe; keep library chatter out. */
    tsr_log_set_level(cli.probe && level == TSR_LOG_INFO ? TSR_LOG_WARN : level);
    tsr_log_bridge_install();
    if (cli.check_config) {
        if (check_conferences_file(&cfg))
            return 2;
        printf("tessera: configuration OK (%s)\n", cli.config ? cli.config : "built-in defaults");
        return 0;
    }
    if (cli.probe)
        rc = run_probe(&cfg, cli.json);
    else {
        raise_fd_limit();
        rc = tsr_server_run(&cfg) == 0 ? 0 : 1;
    }
    tsr_metrics_reset();
    return rc;
}
