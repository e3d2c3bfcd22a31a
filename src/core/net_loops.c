/* Net loop threads and the two ways to hand them work. */
#include <tessera/net_loops.h>
#include <tessera/log.h>

#include <errno.h>

struct net_loop {
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
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
    for (size_t i = 0; i < p->n; i++) {
        g_thread_join(p->loops[i].thread);
        g_main_loop_unref(p->loops[i].loop);
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

size_t tsr_net_loops_count(const struct tsr_net_loops *loops)
{
    return loops->n;
}

void tsr_loop_post(GMainContext *ctx, GSourceFunc fn, void *data, GDestroyNotify destroy)
{
    GSource *src = g_idle_source_new();
    g_source_set_priority(src, G_PRIORITY_DEFAULT);
    g_source_set_callback(src, fn, data, destroy);
    g_source_attach(src, ctx);
    g_source_unref(src);
}

struct sync_job {
    tsr_loop_job_fn fn;
    void *data;
    int result;
    gboolean done;
    GMutex lock;
    GCond cond;
};

static gboolean sync_job_run(gpointer p)
{
    struct sync_job *job = p;
    int rc = job->fn(job->data);
    g_mutex_lock(&job->lock);
    job->result = rc;
    job->done = TRUE;
    g_cond_signal(&job->cond);
    g_mutex_unlock(&job->lock);
    return G_SOURCE_REMOVE;
}

int tsr_loop_run_sync(GMainContext *ctx, tsr_loop_job_fn fn, void *data)
{
    if (g_main_context_is_owner(ctx))
        return fn(data);
    struct sync_job job = {.fn = fn, .data = data};
    g_mutex_init(&job.lock);
    g_cond_init(&job.cond);
    tsr_loop_post(ctx, sync_job_run, &job, NULL);
    g_mutex_lock(&job.lock);
    while (!job.done)
        g_cond_wait(&job.cond, &job.lock);
    g_mutex_unlock(&job.lock);
    g_mutex_clear(&job.lock);
    g_cond_clear(&job.cond);
    return job.result;
}
