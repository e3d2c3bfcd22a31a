/* Speaker selection: see include/mix/tessera/talkers.h for the rules.
 *
 * Participants live in a flat array (swap-remove); the talker set is at most
 * K ids. An update is O(N * K): one pass to drop, one pass over candidates that
 * compares each with the quietest talker. At N = 1,000 and K = 3 that is a few
 * microseconds per 20 ms tick. */
#include <tessera/err.h>
#include <tessera/talkers.h>

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

struct talker_entry {
    uint32_t id;
    int level; /* level of this tick (-dBov), reset after update */
    bool muted;
    bool talker;
    int64_t selected_ms;    /* when it entered the set */
    int64_t last_active_ms; /* last tick it was active */
    int held_level;         /* its level when last active: stands in during a pause */
};

struct tsr_talkers {
    struct tsr_talkers_params p;
    struct talker_entry *v;
    size_t n, cap;
    GHashTable *index; /* id -> array index + 1, so per-packet lookups stay O(1) */
    bool *tried;       /* per update: candidates already considered (cap entries) */
    uint32_t order[TSR_TALKERS_MAX_K];
    size_t n_order;
};

int tsr_talkers_new(struct tsr_talkers **out, const struct tsr_talkers_params *p)
{
    if (!p || p->k < 1 || p->k > TSR_TALKERS_MAX_K || p->hysteresis_db < 0 ||
        p->hysteresis_db > 60 || p->hold_ms < 0 || p->hold_ms > 10000 || p->active_level < 0 ||
        p->active_level > TSR_TALKERS_LEVEL_SILENT)
        return TSR_ERR_INVALID;
    struct tsr_talkers *t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    t->p = *p;
    t->index = g_hash_table_new(g_direct_hash, g_direct_equal);
    *out = t;
    return 0;
}

void tsr_talkers_free(struct tsr_talkers **t)
{
    if (!t || !*t)
        return;
    free((*t)->v);
    free((*t)->tried);
    g_hash_table_destroy((*t)->index);
    free(*t);
    *t = NULL;
}

static struct talker_entry *find(const struct tsr_talkers *t, uint32_t id)
{
    size_t i = GPOINTER_TO_SIZE(g_hash_table_lookup(t->index, GUINT_TO_POINTER(id)));
    return i ? &t->v[i - 1] : NULL;
}

static void order_remove(struct tsr_talkers *t, uint32_t id)
{
    for (size_t i = 0; i < t->n_order; i++) {
        if (t->order[i] == id) {
            memmove(&t->order[i], &t->order[i + 1], (t->n_order - i - 1) * sizeof(t->order[0]));
            t->n_order--;
            return;
        }
    }
}

int tsr_talkers_add(struct tsr_talkers *t, uint32_t id)
{
    if (find(t, id))
        return TSR_ERR_STATE;
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        struct talker_entry *v = realloc(t->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        t->v = v;
        bool *tried = realloc(t->tried, cap * sizeof(*tried));
        if (!tried)
            return -ENOMEM; /* v is larger but still valid; cap unchanged */
        t->tried = tried;
        t->cap = cap;
    }
    t->v[t->n++] = (struct talker_entry){.id = id, .level = TSR_TALKERS_LEVEL_SILENT};
    g_hash_table_insert(t->index, GUINT_TO_POINTER(id), GSIZE_TO_POINTER(t->n));
    return 0;
}

int tsr_talkers_remove(struct tsr_talkers *t, uint32_t id)
{
    struct talker_entry *e = find(t, id);
    if (!e)
        return TSR_ERR_NOT_FOUND;
    if (e->talker)
        order_remove(t, id);
    g_hash_table_remove(t->index, GUINT_TO_POINTER(id));
    size_t i = (size_t)(e - t->v);
    t->n--;
    if (i != t->n) {
        *e = t->v[t->n];
        g_hash_table_insert(t->index, GUINT_TO_POINTER(e->id), GSIZE_TO_POINTER(i + 1));
    }
    return 0;
}

int tsr_talkers_set_level(struct tsr_talkers *t, uint32_t id, int level)
{
    struct talker_entry *e = find(t, id);
    if (!e)
        return TSR_ERR_NOT_FOUND;
    if (level < 0)
        level = 0;
    if (level > TSR_TALKERS_LEVEL_SILENT)
        level = TSR_TALKERS_LEVEL_SILENT;
    e->level = level;
    return 0;
}

int tsr_talkers_set_muted(struct tsr_talkers *t, uint32_t id, bool muted)
{
    struct talker_entry *e = find(t, id);
    if (!e)
        return TSR_ERR_NOT_FOUND;
    e->muted = muted;
    if (muted && e->talker) {
        e->talker = false;
        order_remove(t, id);
    }
    return 0;
}

static bool is_active(const struct tsr_talkers *t, const struct talker_entry *e)
{
    return !e->muted && e->level <= t->p.active_level;
}

/* A talker pausing within its hold time competes with the level it last spoke
 * at, so a breath between words neither costs its slot nor its place. */
static int effective_level(const struct tsr_talkers *t, const struct talker_entry *e)
{
    return e->talker && !is_active(t, e) ? e->held_level : e->level;
}

/* The quietest talker that may be displaced now, or NULL. */
static struct talker_entry *weakest_displaceable(struct tsr_talkers *t, int64_t now_ms)
{
    struct talker_entry *w = NULL;
    for (size_t i = 0; i < t->n_order; i++) {
        struct talker_entry *e = find(t, t->order[i]);
        if (now_ms - e->selected_ms < t->p.hold_ms)
            continue;
        if (!w || effective_level(t, e) > effective_level(t, w))
            w = e;
    }
    return w;
}

static void select_entry(struct tsr_talkers *t, struct talker_entry *e, int64_t now_ms)
{
    e->talker = true;
    e->selected_ms = now_ms;
    e->last_active_ms = now_ms;
    e->held_level = e->level;
    t->order[t->n_order++] = e->id;
}

/* Loudest active non-talker not yet considered this update (level > floor or
 * equal level with a larger index), or NULL. */
static struct talker_entry *next_candidate(struct tsr_talkers *t, const bool *tried)
{
    struct talker_entry *best = NULL;
    for (size_t i = 0; i < t->n; i++) {
        struct talker_entry *e = &t->v[i];
        if (e->talker || tried[i] || !is_active(t, e))
            continue;
        if (!best || e->level < best->level)
            best = e;
    }
    return best;
}

static void admit_candidates(struct tsr_talkers *t, int64_t now_ms)
{
    bool *tried = t->tried;
    if (t->n == 0)
        return;
    memset(tried, 0, t->n * sizeof(*tried));
    for (int round = 0; round < t->p.k; round++) { /* at most K admissions */
        struct talker_entry *c = next_candidate(t, tried);
        if (!c)
            break;
        tried[c - t->v] = true;
        if (t->n_order < (size_t)t->p.k) {
            select_entry(t, c, now_ms);
            continue;
        }
        struct talker_entry *w = weakest_displaceable(t, now_ms);
        if (!w || c->level + t->p.hysteresis_db > effective_level(t, w))
            break; /* candidates only get quieter from here */
        w->talker = false;
        order_remove(t, w->id);
        select_entry(t, c, now_ms);
    }
}

static bool reorder(struct tsr_talkers *t)
{
    bool changed = false;
    for (size_t i = 1; i < t->n_order; i++) {
        struct talker_entry *ahead = find(t, t->order[i - 1]);
        struct talker_entry *e = find(t, t->order[i]);
        int le = effective_level(t, e), la = effective_level(t, ahead);
        if (le + t->p.hysteresis_db <= la && le < la) {
            t->order[i - 1] = e->id;
            t->order[i] = ahead->id;
            changed = true;
        }
    }
    return changed;
}

bool tsr_talkers_update(struct tsr_talkers *t, int64_t now_ms)
{
    uint32_t before[TSR_TALKERS_MAX_K];
    size_t n_before = t->n_order;
    memcpy(before, t->order, sizeof(before));

    for (size_t i = 0; i < t->n; i++) {
        struct talker_entry *e = &t->v[i];
        if (!e->talker)
            continue;
        if (is_active(t, e)) {
            e->last_active_ms = now_ms;
            e->held_level = e->level;
        } else if (e->muted || now_ms - e->last_active_ms > t->p.hold_ms) {
            e->talker = false;
            order_remove(t, e->id);
        }
    }
    admit_candidates(t, now_ms);
    reorder(t);
    for (size_t i = 0; i < t->n; i++)
        t->v[i].level = TSR_TALKERS_LEVEL_SILENT;
    return n_before != t->n_order || memcmp(before, t->order, n_before * sizeof(before[0])) != 0;
}

size_t tsr_talkers_get(const struct tsr_talkers *t, uint32_t *ids, size_t cap)
{
    for (size_t i = 0; i < t->n_order && i < cap; i++)
        ids[i] = t->order[i];
    return t->n_order;
}

bool tsr_talkers_is_talker(const struct tsr_talkers *t, uint32_t id)
{
    const struct talker_entry *e = find(t, id);
    return e && e->talker;
}
