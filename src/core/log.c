/* TSR_LOG backend: level threshold, monotonic timestamps, context prefix, sinks,
 * and per-call-site rate limiting for the packet path. */
#include <tessera/log.h>
#include <tessera/err.h>

#include <glib.h>
#include <stdio.h>
#include <string.h>

atomic_int tsr_log_threshold = TSR_LOG_INFO;

static GMutex sink_lock;
static tsr_log_sink_fn sink_fn;
static void *sink_user;
static gint64 start_us;

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};
static const char *const level_tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG", "TRACE"};

static gint64 log_start_us(void)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        start_us = g_get_monotonic_time();
        g_once_init_leave(&once, 1);
    }
    return start_us;
}

double tsr_log_uptime_s(void)
{
    return (double)(g_get_monotonic_time() - log_start_us()) / 1e6;
}

void tsr_log_set_level(enum tsr_log_level level)
{
    if (level > TSR_LOG_TRACE)
        level = TSR_LOG_TRACE;
    atomic_store(&tsr_log_threshold, (int)level);
}

enum tsr_log_level tsr_log_get_level(void)
{
    return (enum tsr_log_level)atomic_load(&tsr_log_threshold);
}

int tsr_log_level_parse(const char *name, enum tsr_log_level *out)
{
    for (int i = 0; name && i < (int)G_N_ELEMENTS(level_names); i++) {
        if (g_ascii_strcasecmp(name, level_names[i]) == 0) {
            *out = (enum tsr_log_level)i;
            return 0;
        }
    }
    return TSR_ERR_INVALID;
}

const char *tsr_log_level_name(enum tsr_log_level level)
{
    return (unsigned)level < G_N_ELEMENTS(level_names) ? level_names[level] : "?";
}

void tsr_log_set_sink(tsr_log_sink_fn sink, void *user)
{
    g_mutex_lock(&sink_lock);
    sink_fn = sink;
    sink_user = user;
    g_mutex_unlock(&sink_lock);
}

static void log_emit(enum tsr_log_level level, const char *line)
{
    g_mutex_lock(&sink_lock);
    if (sink_fn) {
        sink_fn(level, line, sink_user);
    } else {
        fputs(line, stderr);
        fputc('\n', stderr);
    }
    g_mutex_unlock(&sink_lock);
}

/* Formats the whole line into one buffer so concurrent lines never interleave. */
static void log_format(enum tsr_log_level level, const char *ctx, const char *suffix,
                       const char *fmt, va_list ap)
{
    char msg[1024];
    char line[1280];
    if ((unsigned)level > TSR_LOG_TRACE)
        level = TSR_LOG_TRACE;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    double t = tsr_log_uptime_s();
    if (ctx && *ctx)
        snprintf(line, sizeof line, "[%12.6f] %s [%s] %s%s", t, level_tags[level], ctx, msg,
                 suffix);
    else
        snprintf(line, sizeof line, "[%12.6f] %s %s%s", t, level_tags[level], msg, suffix);
    log_emit(level, line);
}

void tsr_log_write(enum tsr_log_level level, const char *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_format(level, ctx, "", fmt, ap);
    va_end(ap);
}

int tsr_log_ratelimit_pass(struct tsr_log_ratelimit *rl, int interval_ms)
{
    int64_t now = g_get_monotonic_time();
    int64_t next = atomic_load(&rl->next_us);
    if (now >= next &&
        atomic_compare_exchange_strong(&rl->next_us, &next, now + (int64_t)interval_ms * 1000))
        return 1;
    atomic_fetch_add(&rl->suppressed, 1);
    return 0;
}

void tsr_log_write_rl(enum tsr_log_level level, const char *ctx, struct tsr_log_ratelimit *rl,
                      const char *fmt, ...)
{
    char suffix[64] = "";
    unsigned skipped = atomic_exchange(&rl->suppressed, 0);
    if (skipped)
        snprintf(suffix, sizeof suffix, " (%u similar suppressed)", skipped);
    va_list ap;
    va_start(ap, fmt);
    log_format(level, ctx, suffix, fmt, ap);
    va_end(ap);
}
