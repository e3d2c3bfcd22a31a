/* Topic-keyed subscriber list; see event_bus.h. A linear array: a conference has
 * a handful of SSE streams, and an emit walks them all anyway. */
#include "event_bus.h"

#include <errno.h>
#include <glib.h>
#include <string.h>

struct sub {
    uint64_t id;
    char *topic; /* NULL: all */
    tsr_event_bus_fn fn;
    void *user;
    int dead;
};

struct tsr_event_bus {
    GArray *subs; /* struct sub */
    uint64_t next_id;
    int depth; /* nested emits in progress */
    int n_dead;
};

int tsr_event_bus_new(struct tsr_event_bus **out)
{
    struct tsr_event_bus *bus = g_try_new0(struct tsr_event_bus, 1);
    if (!bus)
        return -ENOMEM;
    bus->subs = g_array_new(FALSE, TRUE, sizeof(struct sub));
    bus->next_id = 1;
    *out = bus;
    return 0;
}

void tsr_event_bus_free(struct tsr_event_bus **p)
{
    if (!p || !*p)
        return;
    struct tsr_event_bus *bus = *p;
    for (guint i = 0; i < bus->subs->len; i++)
        g_free(g_array_index(bus->subs, struct sub, i).topic);
    g_array_free(bus->subs, TRUE);
    g_free(bus);
    *p = NULL;
}

int tsr_event_bus_subscribe(struct tsr_event_bus *bus, const char *topic, tsr_event_bus_fn fn,
                            void *user, uint64_t *out_id)
{
    if (!bus || !fn)
        return -EINVAL;
    struct sub s = {.id = bus->next_id++, .topic = g_strdup(topic), .fn = fn, .user = user};
    g_array_append_val(bus->subs, s);
    *out_id = s.id;
    return 0;
}

static void compact(struct tsr_event_bus *bus)
{
    for (guint i = bus->subs->len; i-- > 0;) {
        struct sub *s = &g_array_index(bus->subs, struct sub, i);
        if (s->dead) {
            g_free(s->topic);
            g_array_remove_index(bus->subs, i);
        }
    }
    bus->n_dead = 0;
}

void tsr_event_bus_unsubscribe(struct tsr_event_bus *bus, uint64_t id)
{
    if (!bus)
        return;
    for (guint i = 0; i < bus->subs->len; i++) {
        struct sub *s = &g_array_index(bus->subs, struct sub, i);
        if (s->id == id && !s->dead) {
            s->dead = 1;
            bus->n_dead++;
            break;
        }
    }
    if (bus->depth == 0)
        compact(bus);
}

unsigned tsr_event_bus_emit(struct tsr_event_bus *bus, const char *topic,
                            const struct tsr_conference_event *event)
{
    if (!bus)
        return 0;
    unsigned called = 0;
    /* Subscriptions added by a callback are not called for this event. */
    guint n = bus->subs->len;
    bus->depth++;
    for (guint i = 0; i < n; i++) {
        /* Re-read each time: a callback's subscribe may have reallocated the array. */
        struct sub s = g_array_index(bus->subs, struct sub, i);
        if (s.dead)
            continue;
        if (s.topic && (!topic || strcmp(s.topic, topic) != 0))
            continue;
        s.fn(event, s.user);
        called++;
    }
    bus->depth--;
    if (bus->depth == 0 && bus->n_dead)
        compact(bus);
    return called;
}

unsigned tsr_event_bus_count(const struct tsr_event_bus *bus)
{
    return bus ? bus->subs->len - (guint)bus->n_dead : 0;
}
