/* The media engine: what joins a conference participant to real media. It
 * implements the conference's media operations (tessera/conference.h) with the
 * WebRTC peers (tessera/media_peer.h) on the net loops and one conference mixer
 * thread per conference (tessera/conference_mixer.h).
 *
 * Home thread: the API loop (the conference registry's). */
#ifndef TESSERA_MEDIA_ENGINE_H
#define TESSERA_MEDIA_ENGINE_H

#include <tessera/conference.h>
#include <tessera/config.h>
#include <tessera/net_loops.h>

struct tsr_media_engine;

/* Purpose: start the net loops and make (or load) the DTLS certificate.
 * Returns 0, TSR_ERR_CONFIG or the certificate's errors (logged).
 * Ownership: cfg is copied. */
int tsr_media_engine_new(struct tsr_media_engine **out, const struct tsr_config *cfg);

/* Purpose: stop the net loops and free. Every conference must have ended first
 * (free the registry before the engine); jobs still coming back from the net loops
 * are waited for here (shutdown only: the API loop no longer serves). Accepts NULL;
 * NULLs *p. */
void tsr_media_engine_free(struct tsr_media_engine **p);

/* Purpose: the engine's net loops (borrowed), for a test that holds one busy to
 * show that a join pinned to it stalls nothing else. Participants are pinned round
 * robin in the order their media attaches, the first to loop 0. Thread: the API loop. */
struct tsr_net_loops *tsr_media_engine_net_loops(struct tsr_media_engine *e);

/* Purpose: the ops table to give the registry, with the engine as media_user. */
const struct tsr_conference_media_ops *tsr_media_engine_ops(void);

/* Purpose: where talker changes and media failures are reported (borrowed; set
 * right after the registry is created, before any join). */
void tsr_media_engine_set_registry(struct tsr_media_engine *e,
                                   struct tsr_conference_registry *reg);

#endif
