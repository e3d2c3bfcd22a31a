/* Host control of who is seen: spotlighted (pinned) participants and the
 * conference's self-view setting. Both live here, in the conference core, so that
 * they survive layout changes and media renegotiation; media hears them through
 * the set_spotlight / set_self_view ops. Home thread: the API loop. */
#include "conference_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>

#include <string.h>

/* Earliest pin first: by the order number, which the same second cannot tie. */
static gint by_spotlight(gconstpointer a, gconstpointer b)
{
    const struct tsr_participant *pa = *(struct tsr_participant *const *)a;
    const struct tsr_participant *pb = *(struct tsr_participant *const *)b;
    return pa->spotlight_seq < pb->spotlight_seq ? -1 : pa->spotlight_seq > pb->spotlight_seq;
}

size_t tsr_conference_spotlight(const struct tsr_conference *c, struct tsr_participant **out,
                                size_t cap)
{
    GPtrArray *list = g_ptr_array_new();
    for (guint i = 0; i < c->participants->len; i++) {
        struct tsr_participant *p = c->participants->pdata[i];
        if (p->spotlight_at_s)
            g_ptr_array_add(list, p);
    }
    g_ptr_array_sort(list, by_spotlight);
    size_t n = list->len;
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = list->pdata[i];
    g_ptr_array_free(list, TRUE);
    return n;
}

/* Hands media the current list (a conference rarely has more than a few pins; the
 * mixer keeps the first TSR_CONF_MIXER_SPOTLIGHT_MAX anyway). */
static void tell_media(struct tsr_conference *c)
{
    const struct tsr_conference_media_ops *m = c->reg->opts.media;
    if (!m || !m->set_spotlight)
        return;
    struct tsr_participant *list[32];
    size_t n = tsr_conference_spotlight(c, list, G_N_ELEMENTS(list));
    m->set_spotlight(c->reg->opts.media_user, c, list, MIN(n, G_N_ELEMENTS(list)));
}

int tsr_participant_set_spotlight(struct tsr_participant *actor, struct tsr_participant *target,
                                  bool on)
{
    if (actor->conf != target->conf || actor->role != TSR_ROLE_HOST)
        return TSR_ERR_AUTH;
    if ((target->spotlight_at_s != 0) == on)
        return 0;
    struct tsr_conference *c = target->conf;
    target->spotlight_at_s = on ? MAX(g_get_real_time() / G_USEC_PER_SEC, 1) : 0;
    target->spotlight_seq = on ? ++c->spotlight_seq : 0;
    TSR_LOG(TSR_LOG_INFO, c->def.alias, "participant %s spotlight %s (by %s)", target->id,
            on ? "on" : "off", actor->id);
    tell_media(c);
    tsr_participant_emit_updated(target, actor);
    return 0;
}

int64_t tsr_participant_spotlight_s(const struct tsr_participant *p)
{
    return p->spotlight_at_s;
}

void tsr_conference_spotlight_left(struct tsr_participant *p)
{
    if (!p->spotlight_at_s)
        return;
    p->spotlight_at_s = 0;
    p->spotlight_seq = 0;
    tell_media(p->conf);
}

int tsr_conference_set_self_view(struct tsr_participant *actor, bool on)
{
    struct tsr_conference *c = actor->conf;
    if (actor->role != TSR_ROLE_HOST)
        return TSR_ERR_AUTH;
    if (c->self_view == on)
        return 0;
    c->self_view = on;
    const struct tsr_conference_media_ops *m = c->reg->opts.media;
    if (m && m->set_self_view)
        m->set_self_view(c->reg->opts.media_user, c, on);
    TSR_LOG(TSR_LOG_INFO, c->def.alias, "self-view %s (by %s)", on ? "on" : "off", actor->id);
    tsr_conference_emit(c, TSR_CONFERENCE_EVENT_CONFERENCE_UPDATED, NULL,
                        tsr_conference_to_json(c, false));
    return 0;
}

bool tsr_conference_self_view(const struct tsr_conference *c)
{
    return c->self_view;
}
