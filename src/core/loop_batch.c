/* Fewer wake-ups of the net loops (tessera/net_loops.h): timers aligned to their
 * interval, and batch queues. A batch queue's first call posted
 * to an idle queue schedules one drain on the loop; the calls posted before the
 * drain runs ride along. A conference's audio thread hands a packet to each of a
 * thousand listeners every 20 ms: one GSource and one wake-up per loop instead of
 * one per listener, which (with GLib polling every descriptor of the loop on each
 * wake-up) grew with the square of the participants. */
#include <tessera/net_loops.h>

struct aligned_timer {
    GSource source;
    gint64 interval_us;
};

static void aligned_rearm(struct aligned_timer *t, gint64 now_us)
{
    g_source_set_ready_time(&t->source, (now_us / t->interval_us + 1) * t->interval_us);
}

static gboolean aligned_dispatch(GSource *s, GSourceFunc cb, gpointer user)
{
    aligned_rearm((struct aligned_timer *)s, g_source_get_time(s));
    return cb ? cb(user) : G_SOURCE_REMOVE;
}

static GSourceFuncs aligned_funcs = {.dispatch = aligned_dispatch};

GSource *tsr_aligned_timer_source_new(guint interval_ms)
{
    GSource *s = g_source_new(&aligned_funcs, sizeof(struct aligned_timer));
    struct aligned_timer *t = (struct aligned_timer *)s;
    t->interval_us = (gint64)MAX(interval_ms, 1u) * 1000;
    aligned_rearm(t, g_get_monotonic_time());
    return s;
}

struct batch_call {
    void (*fn)(void *data);
    void *data;
    GDestroyNotify destroy;
};

struct tsr_loop_batch {
    gint refs;
    GMainContext *ctx;
    GMutex lock;
    GArray *calls;  /* struct batch_call, under lock */
    bool scheduled; /* a drain is posted and has not yet taken the calls */
};

/* One posted drain: `ran` tells its destroy whether the loop ran it. */
struct drain_job {
    struct tsr_loop_batch *b;
    bool ran;
};

struct tsr_loop_batch *tsr_loop_batch_new(GMainContext *ctx)
{
    struct tsr_loop_batch *b = g_new0(struct tsr_loop_batch, 1);
    b->refs = 1;
    b->ctx = g_main_context_ref(ctx);
    g_mutex_init(&b->lock);
    b->calls = g_array_new(FALSE, FALSE, sizeof(struct batch_call));
    return b;
}

struct tsr_loop_batch *tsr_loop_batch_ref(struct tsr_loop_batch *b)
{
    g_atomic_int_inc(&b->refs);
    return b;
}

static void destroy_calls(GArray *calls)
{
    for (guint i = 0; i < calls->len; i++) {
        struct batch_call *c = &g_array_index(calls, struct batch_call, i);
        if (c->destroy)
            c->destroy(c->data);
    }
    g_array_set_size(calls, 0);
}

void tsr_loop_batch_unref(struct tsr_loop_batch *b)
{
    if (!b || !g_atomic_int_dec_and_test(&b->refs))
        return;
    destroy_calls(b->calls);
    g_array_unref(b->calls);
    g_mutex_clear(&b->lock);
    g_main_context_unref(b->ctx);
    g_free(b);
}

/* Takes the queued calls (a later post schedules the next drain), runs them. */
static gboolean drain_run(gpointer data)
{
    struct drain_job *job = data;
    struct tsr_loop_batch *b = job->b;
    job->ran = true;
    g_mutex_lock(&b->lock);
    GArray *calls = b->calls;
    b->calls = g_array_sized_new(FALSE, FALSE, sizeof(struct batch_call), calls->len);
    b->scheduled = false;
    g_mutex_unlock(&b->lock);
    for (guint i = 0; i < calls->len; i++) {
        struct batch_call *c = &g_array_index(calls, struct batch_call, i);
        c->fn(c->data);
        if (c->destroy)
            c->destroy(c->data);
    }
    g_array_unref(calls);
    return G_SOURCE_REMOVE;
}

/* The drain's source was destroyed without running (g_source_destroy, or its
 * context finalized): what was queued is only destroyed. */
static void drain_free(gpointer data)
{
    struct drain_job *job = data;
    if (!job->ran) {
        g_mutex_lock(&job->b->lock);
        destroy_calls(job->b->calls);
        job->b->scheduled = false;
        g_mutex_unlock(&job->b->lock);
    }
    tsr_loop_batch_unref(job->b);
    g_free(job);
}

void tsr_loop_batch_post(struct tsr_loop_batch *b, void (*fn)(void *data), void *data,
                         GDestroyNotify destroy)
{
    struct batch_call c = {.fn = fn, .data = data, .destroy = destroy};
    g_mutex_lock(&b->lock);
    g_array_append_val(b->calls, c);
    bool schedule = !b->scheduled;
    b->scheduled = true;
    g_mutex_unlock(&b->lock);
    if (!schedule)
        return;
    struct drain_job *job = g_new0(struct drain_job, 1);
    job->b = tsr_loop_batch_ref(b);
    tsr_loop_post(b->ctx, drain_run, job, drain_free);
}
