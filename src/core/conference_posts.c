/* Posts from media threads: talker changes and media failures reach the API loop
 * as idle sources; each looks its conference or participant up again there, so
 * one that is gone by then is skipped. Thread: any (the posts); the API loop (what
 * they run). */
#include "conference_internal.h"

#include <tessera/log.h>

#include <string.h>

struct talkers_post {
    struct tsr_conference_link *link;
    char *alias;
    GPtrArray *ids;
};

static void talkers_post_free(gpointer data)
{
    struct talkers_post *tp = data;
    tsr_conference_link_unref(&tp->link);
    g_free(tp->alias);
    g_ptr_array_free(tp->ids, TRUE);
    g_free(tp);
}

static bool talkers_equal(GPtrArray *a, GPtrArray *b)
{
    if (a->len != b->len)
        return false;
    for (guint i = 0; i < a->len; i++)
        if (strcmp(a->pdata[i], b->pdata[i]) != 0)
            return false;
    return true;
}

static gboolean talkers_apply(gpointer data)
{
    struct talkers_post *tp = data;
    struct tsr_conference *c =
        tp->link->reg ? tsr_conference_registry_find(tp->link->reg, tp->alias) : NULL;
    if (!c || talkers_equal(c->talkers, tp->ids))
        return G_SOURCE_REMOVE;
    g_ptr_array_set_size(c->talkers, 0);
    json_t *list = json_array();
    for (guint i = 0; i < tp->ids->len; i++) {
        g_ptr_array_add(c->talkers, g_strdup(tp->ids->pdata[i]));
        json_array_append_new(list, json_string(tp->ids->pdata[i]));
    }
    tsr_conference_emit(c, TSR_CONFERENCE_EVENT_TALKERS, NULL, json_pack("{s:o}", "talkers", list));
    return G_SOURCE_REMOVE;
}

static void post(struct tsr_conference_link *link, GSourceFunc fn, gpointer data,
                 GDestroyNotify destroy)
{
    GSource *src = g_idle_source_new();
    g_source_set_callback(src, fn, data, destroy);
    g_source_attach(src, link->context);
    g_source_unref(src);
}

void tsr_conference_link_post_talkers(struct tsr_conference_link *link, const char *alias,
                                      const char *const *participant_ids, size_t n)
{
    struct talkers_post *tp = g_new0(struct talkers_post, 1);
    g_atomic_ref_count_inc(&link->ref);
    tp->link = link;
    tp->alias = g_strdup(alias);
    tp->ids = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < n; i++)
        g_ptr_array_add(tp->ids, g_strdup(participant_ids[i]));
    post(link, talkers_apply, tp, talkers_post_free);
}

void tsr_conference_post_talkers(struct tsr_conference_registry *reg, const char *alias,
                                 const char *const *participant_ids, size_t n)
{
    tsr_conference_link_post_talkers(reg->link, alias, participant_ids, n);
}

struct failed_post {
    struct tsr_conference_link *link;
    char *id;
};

static void failed_post_free(gpointer data)
{
    struct failed_post *fp = data;
    tsr_conference_link_unref(&fp->link);
    g_free(fp->id);
    g_free(fp);
}

static gboolean failed_apply(gpointer data)
{
    struct failed_post *fp = data;
    struct tsr_participant *p =
        fp->link->reg ? g_hash_table_lookup(fp->link->reg->participants, fp->id) : NULL;
    if (p) {
        TSR_LOG(TSR_LOG_WARN, p->conf->def.alias, "participant %s: media failed", p->id);
        tsr_participant_leave(p, TSR_LEAVE_MEDIA_FAILED);
    }
    return G_SOURCE_REMOVE;
}

void tsr_conference_link_post_media_failed(struct tsr_conference_link *link,
                                           const char *participant_id)
{
    struct failed_post *fp = g_new0(struct failed_post, 1);
    g_atomic_ref_count_inc(&link->ref);
    fp->link = link;
    fp->id = g_strdup(participant_id);
    post(link, failed_apply, fp, failed_post_free);
}

void tsr_conference_post_media_failed(struct tsr_conference_registry *reg,
                                      const char *participant_id)
{
    tsr_conference_link_post_media_failed(reg->link, participant_id);
}
