/* Net loops: a fixed pool of threads, each running its own GMainContext. A
 * participant is pinned to one loop at join; its ICE, DTLS, SRTP, RTP/RTCP,
 * jitter buffering and decoding run there (DESIGN.md §3).
 *
 * Home thread: the pool is created and freed on the API loop; the loops run on
 * their own threads. Work reaches a loop with tsr_loop_post() and its result comes
 * back the same way (posted to the API loop's context): nothing waits for a loop.
 * The API loop never waits for another thread at all (DESIGN.md §3); the guard
 * below makes a wait that creeps onto it visible. */
#ifndef TESSERA_NET_LOOPS_H
#define TESSERA_NET_LOOPS_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

struct tsr_net_loops;

/* Purpose: start `n` loop threads (0 = number of CPU cores). Returns 0 or -ENOMEM.
 * Ownership: *out is the caller's; free with tsr_net_loops_free. */
int tsr_net_loops_new(struct tsr_net_loops **out, size_t n);

/* Purpose: stop every loop (after running what was already posted), join the
 * threads, free. Accepts NULL; NULLs *p. Thread: not one of the loops. */
void tsr_net_loops_free(struct tsr_net_loops **p);

/* Purpose: the context of the next loop, round robin from loop 0 (borrowed; valid
 * until the pool is freed). Thread: any. */
GMainContext *tsr_net_loops_pick(struct tsr_net_loops *loops);
size_t tsr_net_loops_count(const struct tsr_net_loops *loops);
/* Purpose: the context of loop `i` (< count; borrowed). Thread: any. */
GMainContext *tsr_net_loops_context(const struct tsr_net_loops *loops, size_t i);

/* Purpose: run `fn(data)` later on `ctx`'s thread; `destroy(data)` runs after it
 * (or instead of it when the loop is gone). Thread: any. */
void tsr_loop_post(GMainContext *ctx, GSourceFunc fn, void *data, GDestroyNotify destroy);

/* Purpose: a timer source that fires every `interval_ms` on the multiples of the
 * interval in monotonic time, so the periodic work of every participant on a loop
 * (ticks, RTCP reports, watchdogs) falls due together: one wake-up of the loop for
 * all of them, where timers at their own phases woke it once each and GLib polls
 * every descriptor of the loop on each wake-up. Set a callback and attach it like
 * g_timeout_source_new()'s. Ownership: the caller's reference. */
GSource *tsr_aligned_timer_source_new(guint interval_ms);

/* A batch queue in front of one loop: calls posted while a batch is pending join
 * it, so the loop wakes once for many of them (a mixer's fan-out of one packet to
 * every participant on that loop: one wake-up and one pass, not one GSource each).
 * Calls run in the order posted. Reference-counted; thread: any. */
struct tsr_loop_batch;
/* Purpose: a new batch queue for `ctx` (referenced). Ownership: the caller's
 * reference; tsr_loop_batch_unref. */
struct tsr_loop_batch *tsr_loop_batch_new(GMainContext *ctx);
struct tsr_loop_batch *tsr_loop_batch_ref(struct tsr_loop_batch *b);
/* Purpose: drop a reference; the last one destroys calls never run. Accepts NULL. */
void tsr_loop_batch_unref(struct tsr_loop_batch *b);
/* Purpose: run `fn(data)` on the batch's loop, then `destroy(data)` (or only
 * `destroy` when the loop is gone first). */
void tsr_loop_batch_post(struct tsr_loop_batch *b, void (*fn)(void *data), void *data,
                         GDestroyNotify destroy);
/* Purpose: the batch queue of the pool's loop whose context is `ctx` (borrowed,
 * valid until the pool is freed), or NULL when `ctx` is not one of its loops. */
struct tsr_loop_batch *tsr_net_loops_batch(struct tsr_net_loops *loops, GMainContext *ctx);

/* Purpose: mark the calling thread as the API loop while it serves requests
 * (the server around its main loop; tests that play the API loop). Thread: the API
 * loop. tsr_api_loop_leave() ends the mark (shutdown may then wait for threads). */
void tsr_api_loop_enter(void);
void tsr_api_loop_leave(void);
/* Purpose: whether the calling thread is the API loop serving requests. Thread: any. */
bool tsr_api_loop_is_current(void);

/* Purpose: say that the caller is about to wait for another thread (a join, a
 * condition wait, a synchronous lookup). On the API loop that is a bug: it is
 * logged as an error naming `what`, and debug builds (no NDEBUG, the sanitizer
 * build of `make test`) abort so the test that reached it fails. Cost: one
 * thread-local read. Thread: any. */
void tsr_loop_assert_may_wait(const char *what);

#endif
