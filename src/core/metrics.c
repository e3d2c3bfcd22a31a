/* Metrics registry: get-or-create series under a mutex (rare), updates with
 * atomics (hot), Prometheus text rendering for GET /metrics. */
#include <tessera/metrics.h>
#include <tessera/log.h>

#include <glib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum metric_kind { METRIC_COUNTER, METRIC_GAUGE };

/* Home: the registry; values are updated from any thread. */
struct metric {
    char *name;
    char *labels; /* NULL or "k=\"v\"" */
    char *help;
    enum metric_kind kind;
    _Atomic uint64_t value; /* counter value, or the bits of a double for gauges */
};

struct tsr_counter {
    struct metric m;
};
struct tsr_gauge {
    struct metric m;
};

struct collector {
    tsr_metrics_collect_fn fn;
    void *user;
};

static GMutex reg_lock;
static GPtrArray *reg_metrics;    /* struct metric*, in registration order */
static GArray *reg_collectors;     /* struct collector */

static void metric_free(gpointer p)
{
    struct metric *m = p;
    g_free(m->name);
    g_free(m->labels);
    g_free(m->help);
    g_free(m);
}

static struct metric *metric_lookup(const char *name, const char *labels, enum metric_kind kind,
                                    const char *help)
{
    struct metric *found = NULL;
    g_mutex_lock(&reg_lock);
    if (!reg_metrics)
        reg_metrics = g_ptr_array_new_with_free_func(metric_free);
    for (guint i = 0; i < reg_metrics->len; i++) {
        struct metric *m = g_ptr_array_index(reg_metrics, i);
        if (strcmp(m->name, name) == 0 && g_strcmp0(m->labels, labels) == 0) {
            found = m->kind == kind ? m : NULL;
            goto out;
        }
        if (strcmp(m->name, name) == 0 && m->kind != kind)
            goto out; /* same family registered with another type */
    }
    /* tsr_counter/tsr_gauge only wrap struct metric, so one allocation serves both. */
    found = g_malloc0(sizeof(struct tsr_counter));
    found->name = g_strdup(name);
    found->labels = labels && *labels ? g_strdup(labels) : NULL;
    found->help = g_strdup(help ? help : name);
    found->kind = kind;
    g_ptr_array_add(reg_metrics, found);
out:
    g_mutex_unlock(&reg_lock);
    if (!found)
        TSR_LOG(TSR_LOG_ERROR, "metrics", "metric %s registered with two types", name);
    return found;
}

struct tsr_counter *tsr_metrics_counter(const char *name, const char *labels, const char *help)
{
    return (struct tsr_counter *)metric_lookup(name, labels, METRIC_COUNTER, help);
}

struct tsr_gauge *tsr_metrics_gauge(const char *name, const char *labels, const char *help)
{
    return (struct tsr_gauge *)metric_lookup(name, labels, METRIC_GAUGE, help);
}

void tsr_counter_add(struct tsr_counter *c, uint64_t n)
{
    if (c)
        atomic_fetch_add_explicit(&c->m.value, n, memory_order_relaxed);
}

uint64_t tsr_counter_value(const struct tsr_counter *c)
{
    return c ? atomic_load_explicit(&((struct tsr_counter *)c)->m.value, memory_order_relaxed) : 0;
}

static uint64_t dbl_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double bits_dbl(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

void tsr_gauge_set(struct tsr_gauge *g, double v)
{
    if (g)
        atomic_store_explicit(&g->m.value, dbl_bits(v), memory_order_relaxed);
}

void tsr_gauge_add(struct tsr_gauge *g, double delta)
{
    if (!g)
        return;
    uint64_t old = atomic_load(&g->m.value);
    while (!atomic_compare_exchange_weak(&g->m.value, &old, dbl_bits(bits_dbl(old) + delta)))
        ;
}

double tsr_gauge_value(const struct tsr_gauge *g)
{
    return g ? bits_dbl(atomic_load(&((struct tsr_gauge *)g)->m.value)) : 0.0;
}

int tsr_metrics_add_collector(tsr_metrics_collect_fn fn, void *user)
{
    g_mutex_lock(&reg_lock);
    if (!reg_collectors)
        reg_collectors = g_array_new(FALSE, FALSE, sizeof(struct collector));
    struct collector c = {fn, user};
    g_array_append_val(reg_collectors, c);
    g_mutex_unlock(&reg_lock);
    return 0;
}

void tsr_metrics_remove_collector(tsr_metrics_collect_fn fn, void *user)
{
    g_mutex_lock(&reg_lock);
    for (guint i = 0; reg_collectors && i < reg_collectors->len; i++) {
        struct collector *c = &g_array_index(reg_collectors, struct collector, i);
        if (c->fn == fn && c->user == user) {
            g_array_remove_index(reg_collectors, i);
            break;
        }
    }
    g_mutex_unlock(&reg_lock);
}

static void run_collectors(void)
{
    /* Copy first: collectors call back into the registry, and we never call out
     * of a module while holding its lock. */
    GArray *copy = NULL;
    g_mutex_lock(&reg_lock);
    if (reg_collectors && reg_collectors->len)
        copy = g_array_copy(reg_collectors);
    g_mutex_unlock(&reg_lock);
    for (guint i = 0; copy && i < copy->len; i++) {
        struct collector *c = &g_array_index(copy, struct collector, i);
        c->fn(c->user);
    }
    if (copy)
        g_array_unref(copy);
}

static void render_value(GString *out, const struct metric *m)
{
    uint64_t raw = atomic_load(&((struct metric *)m)->value);
    if (m->labels)
        g_string_append_printf(out, "%s{%s} ", m->name, m->labels);
    else
        g_string_append_printf(out, "%s ", m->name);
    if (m->kind == METRIC_COUNTER) {
        g_string_append_printf(out, "%" G_GUINT64_FORMAT "\n", raw);
    } else {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        g_string_append_printf(out, "%s\n", g_ascii_dtostr(buf, sizeof buf, bits_dbl(raw)));
    }
}

char *tsr_metrics_render(void)
{
    run_collectors();
    GString *out = g_string_new(NULL);
    GHashTable *done = g_hash_table_new(g_str_hash, g_str_equal);
    g_mutex_lock(&reg_lock);
    for (guint i = 0; reg_metrics && i < reg_metrics->len; i++) {
        struct metric *m = g_ptr_array_index(reg_metrics, i);
        if (g_hash_table_contains(done, m->name))
            continue;
        g_hash_table_add(done, m->name);
        g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name,
                               m->kind == METRIC_COUNTER ? "counter" : "gauge");
        for (guint j = i; j < reg_metrics->len; j++) {
            struct metric *s = g_ptr_array_index(reg_metrics, j);
            if (strcmp(s->name, m->name) == 0)
                render_value(out, s);
        }
    }
    g_mutex_unlock(&reg_lock);
    g_hash_table_destroy(done);
    return g_string_free(out, FALSE);
}

void tsr_metrics_reset(void)
{
    g_mutex_lock(&reg_lock);
    if (reg_metrics)
        g_ptr_array_unref(reg_metrics);
    reg_metrics = NULL;
    if (reg_collectors)
        g_array_unref(reg_collectors);
    reg_collectors = NULL;
    g_mutex_unlock(&reg_lock);
}

/* Resident set size from /proc/self/statm (pages), 0 when unreadable. */
static double process_rss_bytes(void)
{
    char *text = NULL;
    double rss = 0;
    if (g_file_get_contents("/proc/self/statm", &text, NULL, NULL)) {
        unsigned long size_pages = 0, rss_pages = 0;
        if (sscanf(text, "%lu %lu", &size_pages, &rss_pages) == 2)
            rss = (double)rss_pages * (double)sysconf(_SC_PAGESIZE);
    }
    g_free(text);
    return rss;
}

/* Open file descriptors (entries of /proc/self/fd, less the one reading it). */
static double process_open_fds(void)
{
    GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
    if (!d)
        return 0;
    double n = 0;
    while (g_dir_read_name(d))
        n++;
    g_dir_close(d);
    return n > 0 ? n - 1 : 0;
}

static void collect_process(void *user)
{
    (void)user;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        tsr_gauge_set(tsr_metrics_gauge("process_cpu_seconds_total", NULL,
                                        "User and system CPU time spent, in seconds."),
                      cpu);
    }
    tsr_gauge_set(tsr_metrics_gauge("process_resident_memory_bytes", NULL,
                                    "Resident memory size in bytes."),
                  process_rss_bytes());
    tsr_gauge_set(tsr_metrics_gauge("process_open_fds", NULL, "Number of open file descriptors."),
                  process_open_fds());
    tsr_gauge_set(tsr_metrics_gauge("tessera_uptime_seconds", NULL,
                                    "Seconds since the server started."),
                  tsr_log_uptime_s());
}

void tsr_metrics_register_process(void)
{
    g_mutex_lock(&reg_lock);
    gboolean have = FALSE;
    for (guint i = 0; reg_collectors && i < reg_collectors->len; i++)
        have |= g_array_index(reg_collectors, struct collector, i).fn == collect_process;
    g_mutex_unlock(&reg_lock);
    if (have)
        return;
    char labels[128];
    snprintf(labels, sizeof labels, "version=\"%s\"", TSR_VERSION);
    tsr_gauge_set(tsr_metrics_gauge("tessera_build_info", labels,
                                    "Build information; the value is always 1."),
                  1);
    tsr_gauge_set(tsr_metrics_gauge("process_start_time_seconds", NULL,
                                    "Start time of the process since the Unix epoch, in seconds."),
                  (double)g_get_real_time() / 1e6 - tsr_log_uptime_s());
    tsr_metrics_add_collector(collect_process, NULL);
}
