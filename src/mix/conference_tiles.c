/* Shared tiles: each personal view shows everyone but its viewer, so in a room of N
 * every visible participant appears in N-1 views, mostly at the same tile size
 * (a grid's cells are all one size). Scaling is the costly part of composing
 * (bilinear up-scaling of small cameras measured about a fifth of a 4-party room's
 * server time), so a picture shown by several views at one size and role is scaled
 * once per new picture into a tile buffer, and the views copy its rows.
 * bench/bench_shared_tiles.c: a 4-party room composes in about 0.4x the CPU.
 *
 * A tile shown by one view only is not shared: that view scales it straight into
 * its canvas, as before (a copy would be extra work). Buffers live as long as the
 * layout keeps the (participant, size, role): no allocation per frame.
 * Mixer thread, except the scale jobs (one per tile, in the first fork-join phase). */
#include "conference_mixer_internal.h"

#include <tessera/log.h>
#include <tessera/metrics.h>

static void scale_job(struct tsr_conf_mixer *m, void *arg)
{
    struct mix_shared_tile *st = arg;
    int rc = tsr_compositor_tile_scale(st->tile, st->pending, st->w, st->h, st->role);
    /* On failure the views scale (or placeholder) the picture themselves. */
    st->ok = rc == 0;
    st->seq = st->pending_seq;
    st->pending = NULL;
    if (rc)
        TSR_LOG_RL(TSR_LOG_DEBUG, m->log_ctx, 5000, "shared tile not scaled (%d)", rc);
}

static void shared_free(struct mix_shared_tile *st)
{
    tsr_compositor_tile_free(&st->tile);
    free(st);
}

static struct mix_shared_tile *shared_get(struct tsr_conf_mixer *m, const struct tsr_layout_tile *t)
{
    for (guint i = 0; i < m->shared_tiles->len; i++) {
        struct mix_shared_tile *st = g_ptr_array_index(m->shared_tiles, i);
        if (st->id == t->participant_id && st->w == t->w && st->h == t->h && st->role == t->role)
            return st;
    }
    struct mix_shared_tile *st = calloc(1, sizeof *st);
    /* The views' canvases are I420 with the fast kernels (view_get). */
    if (!st || tsr_compositor_tile_new(&st->tile, TSR_COMPOSITOR_FORMAT_I420,
                                       TSR_COMPOSITOR_KERNELS_FAST) != 0) {
        free(st);
        return NULL;
    }
    st->id = t->participant_id;
    st->w = t->w;
    st->h = t->h;
    st->role = t->role;
    st->job = (struct mix_job){.run = scale_job, .arg = st};
    g_ptr_array_add(m->shared_tiles, st);
    return st;
}

void tsr_mix_tiles_plan(struct tsr_conf_mixer *m, GPtrArray *due, GPtrArray *jobs)
{
    for (guint i = 0; i < m->shared_tiles->len; i++)
        ((struct mix_shared_tile *)g_ptr_array_index(m->shared_tiles, i))->users = 0;
    for (guint k = 0; k < due->len; k++) {
        struct mix_view *v = g_ptr_array_index(due, k);
        /* A view on the GPU scales every tile itself: sharing would only cost CPU. */
        bool cpu = tsr_compositor_backend_in_use(v->comp) == TSR_COMPOSITOR_BACKEND_CPU;
        for (size_t i = 0; i < v->n_tiles; i++) {
            struct mix_peer *e = tsr_mix_find(m, v->tiles[i].participant_id);
            v->tick_shared[i] = cpu && e && e->tick_frame ? shared_get(m, &v->tiles[i]) : NULL;
            if (v->tick_shared[i])
                v->tick_shared[i]->users++;
        }
    }
    size_t scaled = 0;
    for (guint i = m->shared_tiles->len; i-- > 0;) {
        struct mix_shared_tile *st = g_ptr_array_index(m->shared_tiles, i);
        if (st->users == 0) { /* off every due view: the layout moved on */
            g_ptr_array_remove_index_fast(m->shared_tiles, i);
            shared_free(st);
            continue;
        }
        struct mix_peer *e = tsr_mix_find(m, st->id);
        if (st->users < 2 || (st->ok && st->seq == e->tick_seq))
            continue;
        st->pending = e->tick_frame;
        st->pending_seq = e->tick_seq;
        g_ptr_array_add(jobs, &st->job);
        scaled++;
    }
    if (!scaled)
        return;
    tsr_counter_add(tsr_metrics_counter("tessera_shared_tiles_scaled_total", NULL,
                                        "Pictures scaled once for several personal views."),
                    scaled);
    g_mutex_lock(&m->stats_lock);
    m->stats.shared_tiles_scaled += scaled;
    g_mutex_unlock(&m->stats_lock);
}

void tsr_mix_tiles_free_all(struct tsr_conf_mixer *m)
{
    while (m->shared_tiles->len) {
        guint last = m->shared_tiles->len - 1;
        struct mix_shared_tile *st = g_ptr_array_index(m->shared_tiles, last);
        g_ptr_array_remove_index(m->shared_tiles, last);
        shared_free(st);
    }
}
