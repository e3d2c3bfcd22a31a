/* tessera-load: plays N synthetic WebRTC participants against a running Tessera
 * over the native API and measures what they receive. See load.h and the README
 * ("Load generator") for what it sends, measures and prints.
 *
 * Phases, driven by one 5 ms pump on the main loop: ramp (joins at --ramp-per-s,
 * conference by conference) → settle (everyone connected or failed) → warm-up →
 * measurement window of --seconds (with --churn-per-s joins and leaves in a
 * conference of their own) → everyone leaves → the server's RSS and fds are read
 * again → report. */
#include "load.h"

#include <tessera/dtls.h>
#include <tessera/log.h>

#include <libavutil/log.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#define PUMP_MS 5
#define SETTLE_TIMEOUT_US (30 * G_USEC_PER_SEC)
#define LEAVE_TIMEOUT_US (15 * G_USEC_PER_SEC)
#define AFTER_LEAVE_US (3 * G_USEC_PER_SEC)
/* Descriptors not yet back after AFTER_LEAVE_US (a saturated server still tearing a
 * thousand participants down): read again every second, up to this long. */
#define AFTER_LEAVE_MAX_US (30 * G_USEC_PER_SEC)
#define CHURN_COLOURS 4

enum phase { RAMP, SETTLE, WARMUP, WINDOW, LEAVE, AFTER, DONE };

struct runner {
    struct load_run run;
    enum phase phase;
    int64_t phase_until_us, next_join_us, next_churn_us, window_start_us, settle_start_us;
    int joined_created; /* steady peers created so far */
    int churn_created;
    int video_peers_created, audio_peers_created;
    struct load_camera *cameras[LOAD_MAX_COLOURS];
    struct load_audio *silence;
    struct load_audio **tones; /* per talker index */
    struct load_report rep;
    struct rusage ru_start;
    json_t *window; /* the window's figures, completed after everyone left */
    int exit_code;
};

/* ---- the run's shared book-keeping (called by peers) ----------------------------- */

void load_run_conference_peers(struct load_run *run, int conference, GPtrArray **out)
{
    GPtrArray *members = g_ptr_array_index(run->conf_members, conference);
    *out = g_ptr_array_new();
    for (guint i = 0; i < members->len; i++) {
        struct load_peer *p = g_ptr_array_index(members, i);
        if (load_peer_connected(p) && load_peer_has_video(p))
            g_ptr_array_add(*out, p);
    }
}

static void on_layout_set(void *user, int status, json_t *body, GBytes *raw)
{
    (void)raw;
    struct load_run *run = user;
    if (status != 200)
        load_results_http_error(&run->res, "layout", status, body);
}

void load_run_peer_joined(struct load_run *run, struct load_peer *p, const char *token)
{
    int c = load_peer_conference(p);
    if (run->conf_host_token[c] || !run->opt.layout || c >= run->opt.conferences)
        return;
    run->conf_host_token[c] = g_strdup(token);
    char *url = g_strdup_printf("%s/api/v1/conferences/%s/layout", run->opt.server,
                                run->conf_alias[c]);
    json_t *b = json_pack("{s:s}", "layout", run->opt.layout);
    load_http_request(run->http, "POST", url, b, token, on_layout_set, run);
    json_decref(b);
    g_free(url);
}

void load_run_peer_gone(struct load_run *run, struct load_peer *p)
{
    g_ptr_array_remove(g_ptr_array_index(run->conf_members, load_peer_conference(p)), p);
}

/* ---- server samples ------------------------------------------------------------------ */

static int sample_server(struct load_run *run, struct load_server_sample *out)
{
    char *url = g_strdup_printf("%s/metrics", run->opt.server);
    int status = 0;
    char *text = load_http_get_sync(run->metrics_http, url, &status);
    g_free(url);
    out->at_us = g_get_monotonic_time();
    if (status != 200 || !text) {
        g_free(text);
        return -EIO;
    }
    out->cpu_s = load_metrics_value(text, "process_cpu_seconds_total");
    out->rss_bytes = load_metrics_value(text, "process_resident_memory_bytes");
    out->open_fds = load_metrics_value(text, "process_open_fds");
    out->video_encoders = load_metrics_value(text, "tessera_video_encoders");
    g_free(text);
    return 0;
}

static double rusage_s(const struct rusage *ru)
{
    return (double)ru->ru_utime.tv_sec + ru->ru_utime.tv_usec / 1e6 +
           (double)ru->ru_stime.tv_sec + ru->ru_stime.tv_usec / 1e6;
}

/* ---- making peers ---------------------------------------------------------------------- */

static void add_peer(struct runner *r, int conference, int index, bool churn)
{
    struct load_run *run = &r->run;
    bool video = run->opt.video_width > 0;
    bool talker = !churn && index < run->opt.talkers;
    bool decode = false, count_only = false;
    if (!churn) { /* every Nth steady receiver is sampled: decodes, or checks SRTP */
        int k = video ? r->video_peers_created++ : r->audio_peers_created++;
        decode = run->opt.decode_every > 0 && k % run->opt.decode_every == 0;
        count_only = !video && !decode;
        decode = decode && video;
    }
    int colour = churn ? (run->opt.participants + index % CHURN_COLOURS) % LOAD_MAX_COLOURS
                       : index % LOAD_MAX_COLOURS;
    struct load_peer_params pp = {.run = run, .conference = conference, .index = colour,
                                  .churn = churn, .decode = decode,
                                  .count_only = count_only,
                                  .camera = video ? r->cameras[colour] : NULL,
                                  .audio = talker ? r->tones[index] : r->silence};
    struct load_peer *p = NULL;
    int rc = load_peer_new(&p, &pp);
    if (rc != 0) {
        char what[64];
        g_snprintf(what, sizeof what, "local setup: %s", g_strerror(rc < 0 ? -rc : EIO));
        load_results_error(&run->res, what);
        run->res.joins_failed++;
        return;
    }
    g_ptr_array_add(run->peers, p);
    g_ptr_array_add(g_ptr_array_index(run->conf_members, conference), p);
}

static bool everyone_settled(struct runner *r)
{
    for (guint i = 0; i < r->run.peers->len; i++) {
        struct load_peer *p = g_ptr_array_index(r->run.peers, i);
        if (!load_peer_connected(p) && !load_peer_done(p))
            return false;
    }
    return true;
}

static bool everyone_done(struct runner *r)
{
    for (guint i = 0; i < r->run.peers->len; i++)
        if (!load_peer_done(g_ptr_array_index(r->run.peers, i)))
            return false;
    return true;
}

/* ---- phases ------------------------------------------------------------------------------ */

static void ramp(struct runner *r, int64_t now)
{
    const struct load_options *o = &r->run.opt;
    int total = o->conferences * o->participants;
    int64_t step = (int64_t)(G_USEC_PER_SEC / o->ramp_per_s);
    while (r->joined_created < total && now >= r->next_join_us) {
        add_peer(r, r->joined_created / o->participants, r->joined_created % o->participants,
                 false);
        r->joined_created++;
        r->next_join_us += step;
    }
    if (r->joined_created == total) {
        r->phase = SETTLE;
        r->settle_start_us = now;
    }
}

static void start_window(struct runner *r, int64_t now)
{
    if (sample_server(&r->run, &r->rep.server_start) != 0)
        load_results_error(&r->run.res, "metrics: unreadable at window start");
    getrusage(RUSAGE_SELF, &r->ru_start);
    for (guint i = 0; i < r->run.peers->len; i++)
        load_peer_window_start(g_ptr_array_index(r->run.peers, i), now);
    r->run.res.in_window = true;
    r->window_start_us = now;
    r->next_churn_us = now;
    r->phase = WINDOW;
    r->phase_until_us = now + (int64_t)(r->run.opt.seconds * G_USEC_PER_SEC);
}

static void end_window(struct runner *r, int64_t now)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    if (sample_server(&r->run, &r->rep.server_end) != 0)
        load_results_error(&r->run.res, "metrics: unreadable at window end");
    r->run.res.in_window = false;
    r->rep.window_s = (double)(now - r->window_start_us) / G_USEC_PER_SEC;
    r->rep.load_cpu_s = rusage_s(&ru) - rusage_s(&r->ru_start);
    for (guint i = 0; i < r->run.peers->len; i++)
        load_peer_window_end(g_ptr_array_index(r->run.peers, i), now);
}

static void churn(struct runner *r, int64_t now)
{
    if (r->run.opt.churn_per_s <= 0)
        return;
    int64_t step = (int64_t)(G_USEC_PER_SEC / r->run.opt.churn_per_s);
    for (; now >= r->next_churn_us; r->next_churn_us += step)
        add_peer(r, r->run.opt.conferences, r->churn_created++, true);
}

static void leave_all(struct runner *r)
{
    for (guint i = 0; i < r->run.peers->len; i++)
        load_peer_leave(g_ptr_array_index(r->run.peers, i));
}

/* The server's RSS and descriptors after everyone left: read once they are back
 * to where they were before the run (or AFTER_LEAVE_MAX_US has passed). */
static void after_leave(struct runner *r, int64_t now)
{
    struct load_report *rep = &r->rep;
    bool read = sample_server(&r->run, &rep->server_after) == 0;
    bool back = read && rep->server_after.open_fds <= rep->server_before.open_fds + 1;
    if (!back && now - rep->left_at_us < AFTER_LEAVE_MAX_US) {
        r->phase_until_us = now + G_USEC_PER_SEC;
        return;
    }
    if (!read)
        load_results_error(&r->run.res, "metrics: unreadable after the run");
    r->exit_code = load_report_write(&r->run, rep, r->window) == 0 ? 0 : 1;
    r->phase = DONE;
    g_main_loop_quit(r->run.loop);
}

static void advance(struct runner *r, int64_t now)
{
    switch (r->phase) {
    case RAMP:
        ramp(r, now);
        break;
    case SETTLE:
        if (everyone_settled(r) || now - r->settle_start_us > SETTLE_TIMEOUT_US) {
            r->phase = WARMUP;
            r->phase_until_us = now + (int64_t)(r->run.opt.warmup_s * G_USEC_PER_SEC);
        }
        break;
    case WARMUP:
        if (now >= r->phase_until_us)
            start_window(r, now);
        break;
    case WINDOW:
        churn(r, now);
        if (now >= r->phase_until_us) {
            end_window(r, now);
            r->window = load_report_window(&r->run, &r->rep);
            leave_all(r);
            r->phase = LEAVE;
            r->phase_until_us = now + LEAVE_TIMEOUT_US;
        }
        break;
    case LEAVE:
        if (everyone_done(r) || now >= r->phase_until_us) {
            r->phase = AFTER;
            r->rep.left_at_us = now;
            r->phase_until_us = now + AFTER_LEAVE_US;
        }
        break;
    case AFTER:
        if (now >= r->phase_until_us)
            after_leave(r, now);
        break;
    case DONE:
        break;
    }
}

static gboolean pump(gpointer data)
{
    struct runner *r = data;
    int64_t now = g_get_monotonic_time();
    for (guint i = 0; i < r->run.peers->len; i++)
        load_peer_tick(g_ptr_array_index(r->run.peers, i), now);
    advance(r, now);
    return G_SOURCE_CONTINUE;
}

/* ---- options ------------------------------------------------------------------------------ */

static int parse_video(const char *s, int *width)
{
    if (!s || strcmp(s, "none") == 0) {
        *width = 0;
        return 0;
    }
    static const char *const sizes[] = {"320x240", "640x360", "1280x720"};
    static const int widths[] = {320, 640, 1280};
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++)
        if (strcmp(s, sizes[i]) == 0) {
            *width = widths[i];
            return 0;
        }
    return -EINVAL;
}

/* The --server URL's host when it is an IP literal (brackets of IPv6 removed): every
 * participant then gathers one candidate there instead of a socket per interface,
 * which the server would have to poll too. NULL otherwise. */
static char *server_ip(const char *url)
{
    GUri *uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
    const char *host = uri ? g_uri_get_host(uri) : NULL;
    char *ip = host && g_hostname_is_ip_address(host) ? g_strdup(host) : NULL;
    if (uri)
        g_uri_unref(uri);
    return ip;
}

/* Returns 0, or prints what is wrong and returns 2 (usage error). */
static int parse_options(int argc, char **argv, struct load_options *o,
                         enum tsr_layout_kind *layout_kind)
{
    char *video = NULL, *codec = NULL;
    o->server = NULL;
    o->conferences = 1, o->participants = 4, o->talkers = 1, o->decode_every = 4;
    o->seconds = 20, o->ramp_per_s = 20, o->gap_px = 4, o->warmup_s = 3, o->self_view_pct = 5;
    GOptionEntry entries[] = {
        {"server", 0, 0, G_OPTION_ARG_STRING, &o->server, "Tessera's base URL", "URL"},
        {"conferences", 0, 0, G_OPTION_ARG_INT, &o->conferences, "conferences (1)", "C"},
        {"participants", 0, 0, G_OPTION_ARG_INT, &o->participants, "per conference (4)", "P"},
        {"layout", 0, 0, G_OPTION_ARG_STRING, &o->layout, "set by the first joiner", "NAME"},
        {"video", 0, 0, G_OPTION_ARG_STRING, &video,
         "largest camera rendition: 320x240|640x360|1280x720|none (640x360)", "WxH"},
        {"codec", 0, 0, G_OPTION_ARG_STRING, &codec, "vp8|h264 (vp8)", "CODEC"},
        {"talkers", 0, 0, G_OPTION_ARG_INT, &o->talkers, "tone senders per conference (1)", "K"},
        {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &o->seconds, "measurement window (20)", "S"},
        {"ramp-per-s", 0, 0, G_OPTION_ARG_DOUBLE, &o->ramp_per_s, "joins per second (20)", "R"},
        {"churn-per-s", 0, 0, G_OPTION_ARG_DOUBLE, &o->churn_per_s,
         "extra joins (and leaves) per second during the window (0)", "X"},
        {"decode-every", 0, 0, G_OPTION_ARG_INT, &o->decode_every,
         "decode and check every Nth receiver (4; 0 = none)", "N"},
        {"json", 0, 0, G_OPTION_ARG_FILENAME, &o->json_path, "write the results here", "FILE"},
        {"prefix", 0, 0, G_OPTION_ARG_STRING, &o->prefix, "conference alias prefix (load)", "P"},
        {"gap", 0, 0, G_OPTION_ARG_INT, &o->gap_px, "the server's [mixer] gap_px (4)", "PX"},
        {"warmup", 0, 0, G_OPTION_ARG_DOUBLE, &o->warmup_s, "seconds before measuring (3)", "S"},
        {"self-view-pct", 0, 0, G_OPTION_ARG_INT, &o->self_view_pct,
         "the server's [mixer] personal_view_min_tile_pct: own camera allowed in smaller tiles (5)",
         "PCT"},
        {"media-address", 0, 0, G_OPTION_ARG_STRING, &o->media_address,
         "the one local address participants gather ICE candidates on (the --server host when "
         "it is an IP address, else every interface)",
         "IP"},
        {NULL, 0, 0, 0, NULL, NULL, NULL}};
    GOptionContext *ctx = g_option_context_new("- synthetic WebRTC participants for Tessera");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *err = NULL;
    bool ok = g_option_context_parse(ctx, &argc, &argv, &err);
    g_option_context_free(ctx);
    const char *bad = NULL;
    if (!ok)
        bad = err->message;
    else if (!o->server)
        bad = "--server is required (e.g. http://127.0.0.1:8080)";
    else if (o->conferences < 1 || o->participants < 1 || o->participants > 1000)
        bad = "--conferences must be >= 1 and --participants 1..1000";
    else if (parse_video(video ? video : "640x360", &o->video_width) != 0)
        bad = "--video must be 320x240, 640x360, 1280x720 or none";
    else if (codec && tsr_video_codec_parse(codec, &o->codec) != 0)
        bad = "--codec must be vp8 or h264";
    else if (o->seconds <= 0 || o->ramp_per_s <= 0 || o->churn_per_s < 0 || o->decode_every < 0)
        bad = "--seconds and --ramp-per-s must be > 0, --churn-per-s and --decode-every >= 0";
    else if (o->talkers < 0 || o->talkers > o->participants)
        bad = "--talkers must be 0..participants";
    else if (tsr_layout_parse(o->layout ? o->layout : "grid", layout_kind) != 0)
        bad = "--layout: unknown layout";
    else if (o->media_address && !g_hostname_is_ip_address(o->media_address))
        bad = "--media-address must be an IP address";
    if (!codec)
        o->codec = TSR_VIDEO_CODEC_VP8;
    g_free(video);
    g_free(codec);
    if (bad) {
        fprintf(stderr, "tessera-load: %s\n", bad);
        g_clear_error(&err);
        return 2;
    }
    if (!o->prefix)
        o->prefix = g_strdup("load");
    while (g_str_has_suffix(o->server, "/"))
        o->server[strlen(o->server) - 1] = '\0';
    if (!o->media_address)
        o->media_address = server_ip(o->server);
    return 0;
}

/* ---- set-up and tear-down ------------------------------------------------------------------ */

/* Each participant holds a UDP socket (and the server one more): the default
 * 1024-descriptor limit would end a 1,000-participant run early. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static int prepare_media(struct runner *r)
{
    const struct load_options *o = &r->run.opt;
    int rc = load_audio_new(&r->silence, 0);
    r->tones = g_new0(struct load_audio *, (size_t)o->talkers + 1);
    for (int k = 0; rc == 0 && k < o->talkers; k++)
        rc = load_audio_new(&r->tones[k], 300 + 100 * k);
    if (rc != 0 || o->video_width == 0)
        return rc;
    int n = MIN(o->participants + (o->churn_per_s > 0 ? CHURN_COLOURS : 0), LOAD_MAX_COLOURS);
    int64_t t0 = g_get_monotonic_time();
    for (int c = 0; rc == 0 && c < n; c++)
        rc = load_camera_new(&r->cameras[c], c, o->codec, o->video_width);
    fprintf(stderr, "tessera-load: %d camera loops encoded in %.1f s\n", n,
            (double)(g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
    return rc;
}

static int setup(struct runner *r)
{
    struct load_run *run = &r->run;
    load_results_init(&run->res);
    run->loop = g_main_loop_new(NULL, FALSE);
    run->http = soup_session_new_with_options("max-conns", 256, "max-conns-per-host", 64,
                                              "timeout", 30, NULL);
    run->metrics_http = soup_session_new_with_options("timeout", 10, NULL);
    run->peers = g_ptr_array_new();
    int n_conf = run->opt.conferences + 1; /* + the churners' conference */
    run->conf_members = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
    run->conf_alias = g_new0(char *, (size_t)n_conf + 1);
    run->conf_host_token = g_new0(char *, (size_t)n_conf + 1);
    uint32_t tag = g_random_int() & 0xffff; /* fresh conferences for every run */
    for (int c = 0; c < n_conf; c++) {
        g_ptr_array_add(run->conf_members, g_ptr_array_new());
        run->conf_alias[c] = c < run->opt.conferences
                                 ? g_strdup_printf("%s-%04x-%d", run->opt.prefix, tag, c)
                                 : g_strdup_printf("%s-%04x-churn", run->opt.prefix, tag);
    }
    int rc = tsr_dtls_cert_generate(&run->cert);
    if (rc == 0 && sample_server(run, &r->rep.server_before) != 0) {
        fprintf(stderr, "tessera-load: no /metrics answer from %s\n", run->opt.server);
        rc = -EIO;
    }
    if (rc == 0)
        rc = prepare_media(r);
    return rc;
}

static void teardown(struct runner *r)
{
    struct load_run *run = &r->run;
    soup_session_abort(run->http);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    for (guint i = 0; i < run->peers->len; i++) {
        struct load_peer *p = g_ptr_array_index(run->peers, i);
        load_peer_free(&p);
    }
    g_ptr_array_unref(run->peers);
    g_ptr_array_unref(run->conf_members);
    g_strfreev(run->conf_alias);
    g_strfreev(run->conf_host_token);
    for (int c = 0; c < LOAD_MAX_COLOURS; c++)
        load_camera_free(&r->cameras[c]);
    load_audio_free(&r->silence);
    for (int k = 0; r->tones && k < run->opt.talkers; k++)
        load_audio_free(&r->tones[k]);
    g_free(r->tones);
    json_decref(r->window);
    tsr_dtls_cert_unref(&run->cert);
    g_object_unref(run->http);
    g_object_unref(run->metrics_http);
    g_main_loop_unref(run->loop);
    load_results_fini(&run->res);
    g_free(run->opt.server);
    g_free(run->opt.layout);
    g_free(run->opt.json_path);
    g_free(run->opt.prefix);
    g_free(run->opt.media_address);
}

int main(int argc, char **argv)
{
    static struct runner r; /* large; zeroed */
    int rc = parse_options(argc, argv, &r.run.opt, &r.run.layout_kind);
    if (rc != 0)
        return rc;
    tsr_log_set_level(TSR_LOG_WARN);
    av_log_set_level(AV_LOG_ERROR);
    raise_fd_limit();
    if (setup(&r) != 0) {
        teardown(&r);
        return 1;
    }
    r.exit_code = 1;
    r.next_join_us = g_get_monotonic_time();
    g_timeout_add(PUMP_MS, pump, &r);
    g_main_loop_run(r.run.loop);
    rc = r.exit_code;
    teardown(&r);
    return rc;
}
