/* Net loops: a fixed pool of threads, each running its own GMainContext. A
 * participant is pinned to one loop at join; its ICE, DTLS, SRTP, RTP/RTCP,
 * jitter buffering and decoding run there (DESIGN.md §3).
 *
 * Home thread: the pool is created and freed on the API loop; the loops run on
 * their own threads. tsr_loop_run_sync() lets the API loop run a short job on a
 * loop and wait for its result (used where an HTTP reply needs it, e.g. the SDP
 * answer); jobs must be quick (milliseconds). */
#ifndef TESSERA_NET_LOOPS_H
#define TESSERA_NET_LOOPS_H

#include <glib.h>
#include <stddef.h>

struct tsr_net_loops;

/* Purpose: start `n` loop threads (0 = number of CPU cores). Returns 0 or -ENOMEM.
 * Ownership: *out is the caller's; free with tsr_net_loops_free. */
int tsr_net_loops_new(struct tsr_net_loops **out, size_t n);

/* Purpose: stop every loop (after running what was already posted), join the
 * threads, free. Accepts NULL; NULLs *p. Thread: not one of the loops. */
void tsr_net_loops_free(struct tsr_net_loops **p);

/* Purpose: the context of the next loop, round robin (borrowed; valid until the
 * pool is freed). Thread: any. */
GMainContext *tsr_net_loops_pick(struct tsr_net_loops *loops);
size_t tsr_net_loops_count(const struct tsr_net_loops *loops);

/* A job run on a loop; returns an int handed back to the caller. */
typedef int (*tsr_loop_job_fn)(void *data);

/* Purpose: run `fn(data)` on `ctx`'s thread and wait for it; when called on that
 * thread already, run it directly. Returns fn's result. Thread: any but must not be
 * called while holding a lock that fn takes. */
int tsr_loop_run_sync(GMainContext *ctx, tsr_loop_job_fn fn, void *data);

/* Purpose: run `fn(data)` later on `ctx`'s thread; `destroy(data)` runs after it
 * (or instead of it when the loop is gone). Thread: any. */
void tsr_loop_post(GMainContext *ctx, GSourceFunc fn, void *data, GDestroyNotify destroy);

#endif
