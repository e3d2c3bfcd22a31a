/* A small publish/subscribe list keyed by a topic string (the conference alias).
 * Private to src/core; the public face is tsr_conference_registry_subscribe().
 *
 * Home thread: the API loop; not thread-safe. Callbacks may subscribe and
 * unsubscribe while an event is being delivered: removals during delivery only
 * mark the entry, which is dropped when the outermost delivery finishes, so the
 * array never moves under the loop that walks it. */
#ifndef TSR_CORE_EVENT_BUS_H
#define TSR_CORE_EVENT_BUS_H

#include <tessera/conference.h>

#include <stdint.h>

/* Typed on conference events: they are the only events in src/core today. */
typedef tsr_conference_event_fn tsr_event_bus_fn;

struct tsr_event_bus;

/* Purpose: an empty bus. Returns 0 and *out, or -ENOMEM. */
int tsr_event_bus_new(struct tsr_event_bus **out);
/* Purpose: free; subscribers are forgotten without a call. Accepts NULL; NULLs *p. */
void tsr_event_bus_free(struct tsr_event_bus **p);
/* Purpose: call fn(event, user) for every event on `topic` (NULL: every topic).
 * Returns 0 and *out_id (> 0). topic is copied; user borrowed. */
int tsr_event_bus_subscribe(struct tsr_event_bus *bus, const char *topic, tsr_event_bus_fn fn,
                            void *user, uint64_t *out_id);
/* Purpose: drop subscription id; unknown ids are ignored. */
void tsr_event_bus_unsubscribe(struct tsr_event_bus *bus, uint64_t id);
/* Purpose: deliver `event` (borrowed) to the subscribers of `topic` that exist
 * when the call starts. Returns how many were called. */
unsigned tsr_event_bus_emit(struct tsr_event_bus *bus, const char *topic,
                            const struct tsr_conference_event *event);
/* Purpose: live subscriptions (tests). */
unsigned tsr_event_bus_count(const struct tsr_event_bus *bus);

#endif
