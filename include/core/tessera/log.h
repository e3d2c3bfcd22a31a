/* Logging: TSR_LOG(level, ctx, fmt, …).
 *
 * Lines look like "[   12.345678] INFO  [conf/participant/stream] text": the
 * timestamp is seconds on the monotonic clock since the process started, ctx is
 * the context prefix (may be NULL). The level is tested before any argument is
 * evaluated, so a disabled TSR_LOG costs one relaxed atomic load. FFmpeg, GLib,
 * libnice and GnuTLS messages are routed through the same sink with
 * tsr_log_bridge_install(). */
#ifndef TESSERA_LOG_H
#define TESSERA_LOG_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>

enum tsr_log_level {
    TSR_LOG_ERROR = 0,
    TSR_LOG_WARN = 1,
    TSR_LOG_INFO = 2,
    TSR_LOG_DEBUG = 3,
    TSR_LOG_TRACE = 4,
};

/* Current threshold; read through TSR_LOG only. */
extern atomic_int tsr_log_threshold;

#define TSR_LOG(level, ctx, ...)                                                                   \
    do {                                                                                           \
        if ((int)(level) <= atomic_load_explicit(&tsr_log_threshold, memory_order_relaxed))        \
            tsr_log_write((level), (ctx), __VA_ARGS__);                                            \
    } while (0)

/* Rate limit for the packet path: at most one line per interval per call site;
 * the next printed line says how many were suppressed. */
struct tsr_log_ratelimit {
    _Atomic int64_t next_us;
    atomic_uint suppressed;
};

#define TSR_LOG_RL(level, ctx, interval_ms, ...)                                                   \
    do {                                                                                           \
        static struct tsr_log_ratelimit tsr_rl_;                                                   \
        if ((int)(level) <= atomic_load_explicit(&tsr_log_threshold, memory_order_relaxed) &&      \
            tsr_log_ratelimit_pass(&tsr_rl_, (interval_ms)))                                       \
            tsr_log_write_rl((level), (ctx), &tsr_rl_, __VA_ARGS__);                               \
    } while (0)

/* Receives each formatted line (without trailing newline). Called on the
 * logging thread; must be thread-safe and must not log. */
typedef void (*tsr_log_sink_fn)(enum tsr_log_level level, const char *line, void *user);

/* Purpose: set the threshold. Thread: any. */
void tsr_log_set_level(enum tsr_log_level level);
enum tsr_log_level tsr_log_get_level(void);

/* Purpose: parse "error", "warn", "info", "debug", "trace".
 * Returns 0 and writes *out, or TSR_ERR_INVALID. */
int tsr_log_level_parse(const char *name, enum tsr_log_level *out);
const char *tsr_log_level_name(enum tsr_log_level level);

/* Purpose: replace the sink (default: stderr). NULL restores stderr.
 * Ownership: `user` is borrowed until the sink is replaced. Thread: any. */
void tsr_log_set_sink(tsr_log_sink_fn sink, void *user);

/* Seconds on the monotonic clock since the log module was first used. */
double tsr_log_uptime_s(void);

void tsr_log_write(enum tsr_log_level level, const char *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int tsr_log_ratelimit_pass(struct tsr_log_ratelimit *rl, int interval_ms);
void tsr_log_write_rl(enum tsr_log_level level, const char *ctx, struct tsr_log_ratelimit *rl,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Purpose: route FFmpeg (av_log), GLib (g_log, which carries libnice and libsoup)
 * and GnuTLS logging into TSR_LOG at matching levels. Idempotent. Thread: call
 * from main before other threads start. */
void tsr_log_bridge_install(void);

#endif
