/* Server-wide admission control: a join with media is refused when the server
 * already carries its configured number of participants with media, or when the
 * media layer's measured load is above its limit. Refusing the newcomer keeps the
 * frame rate of everyone already in; sharing the CPU out would lower it for all.
 * Home thread: the API loop (the decision itself is pure). */
#include "conference_internal.h"

#include <math.h>

enum tsr_conference_capacity tsr_conference_capacity_decide(size_t n_with_media, int64_t max_media,
                                                            double load, double max_load)
{
    if (max_media > 0 && n_with_media >= (uint64_t)max_media)
        return TSR_CONFERENCE_CAPACITY_CAP;
    /* isgreater is false for NaN: a load nobody could measure does not refuse */
    if (max_load > 0 && isgreater(load, max_load))
        return TSR_CONFERENCE_CAPACITY_LOAD;
    return TSR_CONFERENCE_CAPACITY_ADMIT;
}

size_t tsr_conference_registry_n_with_media(const struct tsr_conference_registry *reg)
{
    /* A walk rather than a counter kept beside has_media: joins are rare next to
     * media work, and there is no second count to drift from the truth. */
    GHashTableIter it;
    gpointer value;
    size_t n = 0;
    g_hash_table_iter_init(&it, reg->participants);
    while (g_hash_table_iter_next(&it, NULL, &value))
        n += ((const struct tsr_participant *)value)->has_media;
    return n;
}

enum tsr_conference_refusal tsr_conference_capacity_check(struct tsr_conference_registry *reg,
                                                          char **msg)
{
    const struct tsr_conference_registry_opts *o = &reg->opts;
    if (o->max_media_participants <= 0 && o->max_load <= 0)
        return TSR_CONFERENCE_REFUSAL_NONE;
    /* Joins and attaches still on a net loop count: they will have media. */
    size_t n = o->max_media_participants > 0
                   ? tsr_conference_registry_n_with_media(reg) + reg->n_media_pending
                   : 0;
    double load =
        o->max_load > 0 && o->media && o->media->load ? o->media->load(o->media_user) : 0.0;
    switch (tsr_conference_capacity_decide(n, o->max_media_participants, load, o->max_load)) {
    case TSR_CONFERENCE_CAPACITY_CAP:
        *msg = g_strdup_printf("the server is at capacity (%zu participants with media, its "
                               "limit); try again later",
                               n);
        return TSR_CONFERENCE_REFUSAL_CAPACITY;
    case TSR_CONFERENCE_CAPACITY_LOAD:
        *msg = g_strdup_printf("the server is at capacity (video load %.0f%%, its limit is "
                               "%.0f%%); try again later",
                               load * 100, o->max_load * 100);
        return TSR_CONFERENCE_REFUSAL_CAPACITY;
    case TSR_CONFERENCE_CAPACITY_ADMIT:
        break;
    }
    return TSR_CONFERENCE_REFUSAL_NONE;
}
