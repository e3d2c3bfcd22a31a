/* Process-wide metrics registry, rendered as Prometheus text at GET /metrics.
 *
 * A metric is a (name, labels) pair. Modules fetch a handle once (get-or-create,
 * so two modules naming the same series share it) and then update it with
 * lock-free atomics from any thread. Handles live until tsr_metrics_reset() or
 * process exit; never free them. Names follow Prometheus style with the unit in
 * the name: tessera_srtp_errors_total, tessera_encode_seconds_total. */
#ifndef TESSERA_METRICS_H
#define TESSERA_METRICS_H

#include <stdint.h>

struct tsr_counter;
struct tsr_gauge;

/* Purpose: the counter `name{labels}`; labels is Prometheus label text without
 * braces (`backend="vaapi"`) or NULL. Returns NULL only when out of memory or the
 * name was registered as a gauge. Thread: any. Ownership: registry keeps it. */
struct tsr_counter *tsr_metrics_counter(const char *name, const char *labels, const char *help);
struct tsr_gauge *tsr_metrics_gauge(const char *name, const char *labels, const char *help);

/* Lock-free updates; NULL handles are ignored so a failed registration never
 * crashes the media path. */
void tsr_counter_add(struct tsr_counter *c, uint64_t n);
static inline void tsr_counter_inc(struct tsr_counter *c)
{
    tsr_counter_add(c, 1);
}
uint64_t tsr_counter_value(const struct tsr_counter *c);
void tsr_gauge_set(struct tsr_gauge *g, double v);
void tsr_gauge_add(struct tsr_gauge *g, double delta);
double tsr_gauge_value(const struct tsr_gauge *g);

/* Called just before rendering so computed values (process CPU, memory) are
 * fresh. Thread: the API loop. `user` is borrowed until unregistered. */
typedef void (*tsr_metrics_collect_fn)(void *user);
int tsr_metrics_add_collector(tsr_metrics_collect_fn fn, void *user);
void tsr_metrics_remove_collector(tsr_metrics_collect_fn fn, void *user);

/* Purpose: render every metric as Prometheus text exposition format 0.0.4.
 * Returns a newly allocated string (caller frees with g_free), or NULL. */
char *tsr_metrics_render(void);

/* Purpose: drop every metric and collector (tests, and process exit so leak
 * checkers stay quiet). Handles fetched before become invalid. */
void tsr_metrics_reset(void);

/* Purpose: register the process metrics (build info, CPU seconds, resident
 * memory, start time). Idempotent. */
void tsr_metrics_register_process(void);

#endif
