/* The media engine's STUN server address: "host:port" from [webrtc] stun_server,
 * resolved with GResolver's asynchronous lookup on the API loop, never with a
 * blocking one (a slow DNS server would otherwise stall the thread doing it). The
 * address is looked up at start and kept; a join that finds it older than
 * ENGINE_STUN_REFRESH_S uses it and looks it up again in the background. A join
 * that comes before the first answer waits for it (asynchronously). Private to
 * the media engine. Home thread: the API loop (the thread that created it). */
#ifndef TSR_APP_MEDIA_ENGINE_STUN_H
#define TSR_APP_MEDIA_ENGINE_STUN_H

#include <glib.h>

#define ENGINE_STUN_REFRESH_S 300

struct engine_stun;

/* `literal` is "IP:port" (borrowed for the call; NULL: no STUN server configured),
 * or NULL with `error` when the name could not be resolved. */
typedef void (*engine_stun_fn)(void *data, const char *literal, const char *error);

/* Purpose: parse `hostport` ("" = none) and start resolving a name. Returns 0, or
 * TSR_ERR_CONFIG (malformed; logged). */
int engine_stun_new(struct engine_stun **out, const char *hostport);

/* Purpose: cancel a lookup under way (its waiters are then called with an error,
 * from the loop) and drop the engine's reference; a lookup still finishing keeps
 * its own. Accepts NULL; NULLs *s. */
void engine_stun_free(struct engine_stun **s);

/* Purpose: call fn(data, …) with the address: right away when one is known (or none
 * is configured), else when the lookup under way ends. */
void engine_stun_use(struct engine_stun *s, engine_stun_fn fn, void *data);

#endif
