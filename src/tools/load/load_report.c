/* The run's figures: a readable table on stdout and, with --json, one object. */
#include "load.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void load_results_init(struct load_results *r)
{
    memset(r, 0, sizeof *r);
    r->latency_ms = g_array_new(FALSE, FALSE, sizeof(double));
    r->join_ms = g_array_new(FALSE, FALSE, sizeof(double));
    r->errors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

void load_results_fini(struct load_results *r)
{
    g_array_unref(r->latency_ms);
    g_array_unref(r->join_ms);
    g_hash_table_unref(r->errors);
}

void load_results_error(struct load_results *r, const char *what)
{
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(r->errors, what));
    g_hash_table_replace(r->errors, g_strdup(what), GUINT_TO_POINTER(n + 1));
}

void load_results_http_error(struct load_results *r, const char *what, int status, json_t *body)
{
    const char *code = json_string_value(json_object_get(body, "error"));
    char text[128];
    if (status)
        g_snprintf(text, sizeof text, "%s: HTTP %d %s", what, status, code ? code : "");
    else
        g_snprintf(text, sizeof text, "%s: no answer", what);
    load_results_error(r, text);
}

static int cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of `v` (sorted in place); NAN when empty. */
static double percentile(GArray *v, double pct)
{
    if (v->len == 0)
        return NAN;
    g_array_sort(v, cmp_double);
    size_t rank = (size_t)ceil(pct / 100.0 * v->len);
    rank = CLAMP(rank, 1, v->len);
    return g_array_index(v, double, rank - 1);
}

static double minimum(GArray *v)
{
    return v->len ? percentile(v, 0) : NAN;
}

/* Per-receiver figures over the window, for the steady (non-churn) peers still in. */
struct receivers {
    GArray *fps, *audio_pps, *video_kbps;
    uint64_t freezes, audio_gaps;
    int steady, video_receivers;
};

static bool steady_peer(const struct load_peer *p)
{
    return load_peer_connected(p) && !load_peer_churn(p);
}

static void collect(struct load_run *run, double window_s, struct receivers *rx)
{
    rx->fps = g_array_new(FALSE, FALSE, sizeof(double));
    rx->audio_pps = g_array_new(FALSE, FALSE, sizeof(double));
    rx->video_kbps = g_array_new(FALSE, FALSE, sizeof(double));
    for (guint i = 0; i < run->peers->len; i++) {
        struct load_peer *p = g_ptr_array_index(run->peers, i);
        const struct load_rx_stats *s = load_peer_stats(p);
        if (!steady_peer(p))
            continue;
        rx->steady++;
        double pps = (double)(s->audio_packets - s->audio_packets_at_window) / window_s;
        g_array_append_val(rx->audio_pps, pps);
        rx->audio_gaps += s->audio_gaps;
        if (!load_peer_has_video(p))
            continue;
        rx->video_receivers++;
        double fps = (double)(s->frames - s->frames_at_window) / window_s;
        double kbps = (double)(s->video_bytes - s->video_bytes_at_window) * 8 / window_s / 1000;
        g_array_append_val(rx->fps, fps);
        g_array_append_val(rx->video_kbps, kbps);
        rx->freezes += s->freezes;
    }
}

static void receivers_free(struct receivers *rx)
{
    g_array_unref(rx->fps);
    g_array_unref(rx->audio_pps);
    g_array_unref(rx->video_kbps);
}

static double cores(double cpu_s0, double cpu_s1, double window_s)
{
    return (cpu_s1 - cpu_s0) / window_s;
}

/* JSON has no NaN: absent figures are null. */
static json_t *num(double v)
{
    return isnan(v) ? json_null() : json_real(round(v * 1000) / 1000);
}

static json_t *errors_json(const struct load_results *r)
{
    json_t *errors = json_object();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, r->errors);
    while (g_hash_table_iter_next(&it, &k, &v))
        json_object_set_new(errors, k, json_integer(GPOINTER_TO_UINT(v)));
    return errors;
}

static json_t *build_json(struct load_run *run, const struct load_report *rep,
                          struct receivers *rx)
{
    struct load_results *r = &run->res;
    json_t *o = json_pack(
        "{s:i, s:i, s:s, s:i, s:s, s:i, s:f, s:f, s:f}", "participants",
        run->opt.participants * run->opt.conferences, "conferences", run->opt.conferences,
        "layout", run->opt.layout ? run->opt.layout : "default", "video_width",
        run->opt.video_width, "codec", run->opt.codec == TSR_VIDEO_CODEC_H264 ? "h264" : "vp8",
        "talkers", run->opt.talkers, "seconds", rep->window_s, "churn_per_s", run->opt.churn_per_s,
        "ramp_per_s", run->opt.ramp_per_s);
    json_object_set_new(o, "steady_receivers", json_integer(rx->steady));
    json_object_set_new(o, "fps_received_p50", num(percentile(rx->fps, 50)));
    json_object_set_new(o, "fps_received_min", num(minimum(rx->fps)));
    json_object_set_new(o, "video_kbps_received_p50", num(percentile(rx->video_kbps, 50)));
    json_object_set_new(o, "freezes", json_integer((json_int_t)rx->freezes));
    json_object_set_new(o, "latency_ms_p50", num(percentile(r->latency_ms, 50)));
    json_object_set_new(o, "latency_ms_p99", num(percentile(r->latency_ms, 99)));
    json_object_set_new(o, "latency_samples", json_integer(r->latency_ms->len));
    json_object_set_new(o, "join_ms_p50", num(percentile(r->join_ms, 50)));
    json_object_set_new(o, "join_ms_p95", num(percentile(r->join_ms, 95)));
    json_object_set_new(o, "audio_packets_per_s_p50", num(percentile(rx->audio_pps, 50)));
    json_object_set_new(o, "audio_packets_per_s_min", num(minimum(rx->audio_pps)));
    json_object_set_new(o, "audio_gaps", json_integer((json_int_t)rx->audio_gaps));
    json_object_set_new(o, "tiles_checked", json_integer((json_int_t)r->tiles_checked));
    json_object_set_new(o, "tiles_correct", json_integer((json_int_t)r->tiles_correct));
    json_object_set_new(o, "own_tile_seen", json_integer((json_int_t)r->own_tile_seen));
    json_object_set_new(o, "self_view_tiles", json_integer((json_int_t)r->self_view_tiles));
    json_object_set_new(o, "stamps_read", json_integer((json_int_t)r->stamps_read));
    json_object_set_new(o, "stamps_bad", json_integer((json_int_t)r->stamps_bad));
    json_object_set_new(o, "server_cpu_cores", num(cores(rep->server_start.cpu_s,
                                                         rep->server_end.cpu_s, rep->window_s)));
    json_object_set_new(o, "load_cpu_cores", num(rep->load_cpu_s / rep->window_s));
    json_object_set_new(o, "server_video_encoders", num(rep->server_end.video_encoders));
    json_object_set_new(o, "server_rss_mb_before", num(rep->server_before.rss_bytes / 1048576));
    json_object_set_new(o, "server_open_fds_before", num(rep->server_before.open_fds));
    json_object_set_new(o, "joins_ok", json_integer((json_int_t)r->joins_ok));
    json_object_set_new(o, "joins_failed", json_integer((json_int_t)r->joins_failed));
    json_object_set_new(o, "leaves", json_integer((json_int_t)r->leaves));
    json_object_set_new(o, "ice_dtls_failures", json_integer((json_int_t)r->ice_dtls_failures));
    json_object_set_new(o, "rendition_switches", json_integer((json_int_t)r->rendition_switches));
    json_object_set_new(o, "audio_counted_only", json_integer((json_int_t)r->counted_only));
    json_object_set_new(o, "plis_received", json_integer((json_int_t)r->plis_in));
    json_object_set_new(o, "nacks_received", json_integer((json_int_t)r->nacks_in));
    return o;
}

static void print_row(const char *what, json_t *o, const char *key, const char *unit)
{
    json_t *v = json_object_get(o, key);
    if (json_is_integer(v))
        printf("  %-34s %12lld %s\n", what, (long long)json_integer_value(v), unit);
    else if (json_is_real(v))
        printf("  %-34s %12.2f %s\n", what, json_real_value(v), unit);
    else
        printf("  %-34s %12s %s\n", what, "-", unit);
}

static void print_table(json_t *o)
{
    static const char *const rows[][3] = {
        {"participants", "participants", ""},
        {"conferences", "conferences", ""},
        {"steady receivers at the end", "steady_receivers", ""},
        {"composite fps received, p50", "fps_received_p50", "fps"},
        {"composite fps received, min", "fps_received_min", "fps"},
        {"composite bitrate received, p50", "video_kbps_received_p50", "kb/s"},
        {"freezes (> 200 ms without a frame)", "freezes", ""},
        {"added latency p50", "latency_ms_p50", "ms"},
        {"added latency p99", "latency_ms_p99", "ms"},
        {"latency samples", "latency_samples", ""},
        {"join -> first frame p50", "join_ms_p50", "ms"},
        {"join -> first frame p95", "join_ms_p95", "ms"},
        {"audio packets/s per receiver, p50", "audio_packets_per_s_p50", "pkt/s"},
        {"audio packets/s per receiver, min", "audio_packets_per_s_min", "pkt/s"},
        {"audio gaps (missing packets)", "audio_gaps", ""},
        {"tiles checked", "tiles_checked", ""},
        {"tiles correct", "tiles_correct", ""},
        {"own camera seen in a large tile", "own_tile_seen", ""},
        {"own camera in a small (self-view) tile", "self_view_tiles", ""},
        {"frame stamps read / unreadable", "stamps_read", ""},
        {"", "stamps_bad", ""},
        {"server CPU", "server_cpu_cores", "cores"},
        {"load generator CPU", "load_cpu_cores", "cores"},
        {"server video encoders (window end)", "server_video_encoders", ""},
        {"server RSS before / after", "server_rss_mb_before", "MiB"},
        {"", "server_rss_mb_after", "MiB"},
        {"server open fds before / after", "server_open_fds_before", ""},
        {"", "server_open_fds_after", ""},
        {"  read this long after everyone left", "server_after_read_s", "s"},
        {"joins ok / failed, leaves", "joins_ok", ""},
        {"", "joins_failed", ""},
        {"", "leaves", ""},
        {"ICE/DTLS failures", "ice_dtls_failures", ""},
        {"rendition switches (REMB)", "rendition_switches", ""},
        {"audio receivers counting headers only", "audio_counted_only", ""},
    };
    printf("tessera-load results (window %.1f s)\n", json_real_value(json_object_get(o, "seconds")));
    for (size_t i = 0; i < G_N_ELEMENTS(rows); i++)
        print_row(rows[i][0], o, rows[i][1], rows[i][2]);
    json_t *errors = json_object_get(o, "errors");
    const char *key;
    json_t *v;
    json_object_foreach(errors, key, v)
        printf("  error: %-27s %12lld\n", key, (long long)json_integer_value(v));
}

json_t *load_report_window(struct load_run *run, const struct load_report *rep)
{
    struct receivers rx = {0};
    collect(run, rep->window_s, &rx);
    json_t *o = build_json(run, rep, &rx);
    receivers_free(&rx);
    return o;
}

int load_report_write(struct load_run *run, const struct load_report *rep, json_t *o)
{
    json_object_set_new(o, "server_rss_mb_after", num(rep->server_after.rss_bytes / 1048576));
    json_object_set_new(o, "server_open_fds_after", num(rep->server_after.open_fds));
    json_object_set_new(o, "server_after_read_s",
                        num((double)(rep->server_after.at_us - rep->left_at_us) / G_USEC_PER_SEC));
    json_object_set_new(o, "leaves", json_integer((json_int_t)run->res.leaves));
    json_object_set_new(o, "errors", errors_json(&run->res));
    print_table(o);
    if (run->opt.json_path && json_dump_file(o, run->opt.json_path, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "tessera-load: cannot write %s\n", run->opt.json_path);
        return -EIO;
    }
    return 0;
}
