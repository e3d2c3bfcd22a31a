/* Net loop threads, how to hand them work, and the API loop's guard against waiting. */
#include <tessera/net_loops.h>
#include <tessera/log.h>

#include <errno.h>

struct net_loop {
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    struct tsr_loop_batch *batch;
};

struct tsr_net_loops {
    struct net_loop *loops;
    size_t n;
    guint next; /* atomic round robin */
};

static gpointer loop_main(gpointer data)
{
    struct net_loop *l = data;
    g_main_context_push_thread_default(l->ctx);
    g_main_loop_run(l->loop);
    /* Run what is still queued (teardown jobs posted during shutdown). */
    while (g_main_context_iteration(l->ctx, FALSE))
        ;
    g_main_context_pop_thread_default(l->ctx);
    return NULL;
}

int tsr_net_loops_new(struct tsr_net_loops **out, size_t n)
{
    if (n == 0)
        n = g_get_num_processors();
    struct tsr_net_loops *p = g_new0(struct tsr_net_loops, 1);
    p->n = n;
    p->loops = g_new0(struct net_loop, n);
    for (size_t i = 0; i < n; i++) {
        char name[16];
        g_snprintf(name, sizeof name, "net%zu", i);
        p->loops[i].ctx = g_main_context_new();
        p->loops[i].loop = g_main_loop_new(p->loops[i].ctx, FALSE);
        p->loops[i].batch = tsr_loop_batch_new(p->loops[i].ctx);
        p->loops[i].thread = g_thread_new(name, loop_main, &p->loops[i]);
    }
    TSR_LOG(TSR_LOG_INFO, "net", "%zu net loop threads started", n);
    *out = p;
    return 0;
}

static gboolean quit_loop(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

void tsr_net_loops_free(struct tsr_net_loops **pp)
{
    if (!pp || !*pp)
        return;
    struct tsr_net_loops *p = *pp;
    for (size_t i = 0; i < p->n; i++)
        tsr_loop_post(p->loops[i].ctx, quit_loop, p->loops[i].loop, NULL);
    tsr_loop_assert_may_wait("joining the net loop threads");
    for (size_t i = 0; i < p->n; i++) {
        g_thread_join(p->loops[i].thread);
        g_main_loop_unref(p->loops[i].loop);
        tsr_loop_batch_unref(p->loops[i].batch);
        g_main_context_unref(p->loops[i].ctx);
    }
    g_free(p->loops);
    g_free(p);
    *pp = NULL;
}

GMainContext *tsr_net_loops_pick(struct tsr_net_loops *loops)
{
    guint i = (guint)g_atomic_int_add((gint *)&loops->next, 1);
    return loops->loops[i % loops->n].ctx;
}

struct tsr_loop_batch *tsr_net_loops_batch(struct tsr_net_loops *loops, GMainContext *ctx)
{
    for (size_t i = 0; loops && i < loops->n; i++)
        if (loops->loops[i].ctx == ctx)
            return loops->loops[i].batch;
    return NULL;
}

size_t tsr_net_loops_count(const struct tsr_net_loops *loops)
{
    return loops->n;
}

GMainContext *tsr_net_loops_context(const struct tsr_net_loops *loops, size_t i)
{
    return loops->loops[i].ctx;
}

void tsr_loop_post(GMainContext *ctx, GSourceFunc fn, void *data, GDestroyNotify destroy)
{
    GSource *src = g_idle_source_new();
    g_source_set_priority(src, G_PRIORITY_DEFAULT);
    g_source_set_callback(src, fn, data, destroy);
    g_source_attach(src, ctx);
    g_source_unref(src);
}

/* Set on the API loop's thread while it serves (see tsr_api_loop_enter). */
static _Thread_local bool api_loop_thread;

void tsr_api_loop_enter(void)
{
    api_loop_thread = true;
}

void tsr_api_loop_leave(void)
{
    api_loop_thread = false;
}

bool tsr_api_loop_is_current(void)
{
    return api_loop_thread;
}

void tsr_loop_assert_may_wait(const char *what)
{
    if (!api_loop_thread)
        return;
#ifdef NDEBUG
    TSR_LOG(TSR_LOG_ERROR, "loop", "the API loop waits for another thread (%s): a bug", what);
#else
    g_error("the API loop waits for another thread (%s); it must post and complete by callback",
            what);
#endif
}
