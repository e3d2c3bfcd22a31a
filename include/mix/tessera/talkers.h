/* Speaker selection: the top K talkers of a conference from per-tick audio
 * levels, with hysteresis and a hold time so the set does not flap.
 *
 * Pure module: no threads, no I/O, no clock (the caller passes now_ms). Levels
 * are RFC 6464 values: -dBov, 0 (loudest) .. 127 (silence).
 *
 * Rules, evaluated by tsr_talkers_update():
 *  - a participant is *active* in a tick when it is not muted and its level is
 *    at or louder than `active_level` (level <= active_level);
 *  - muted or removed participants leave the set at once and are never chosen;
 *  - a talker that has not been active for more than `hold_ms` leaves the set
 *    (pauses between words shorter than hold_ms keep the slot, and during such
 *    a pause the talker competes with the level it last spoke at);
 *  - active non-talkers fill free slots, loudest first;
 *  - with no free slot, an active non-talker replaces the quietest talker only
 *    when it is louder by at least `hysteresis_db` and that talker has held its
 *    slot for at least `hold_ms`.
 * Order (tsr_talkers_get): the dominant speaker first. The previous order is
 * kept, newcomers are appended, and a talker moves ahead of the one before it
 * only when it is louder by at least `hysteresis_db` (so the `speaker` layout
 * does not swap on every syllable).
 *
 * Thread: the owner's (the conference's audio tick); no locking. */
#ifndef TESSERA_TALKERS_H
#define TESSERA_TALKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSR_TALKERS_MAX_K 16
#define TSR_TALKERS_LEVEL_SILENT 127

struct tsr_talkers_params {
    int k;             /* 1..TSR_TALKERS_MAX_K */
    int hysteresis_db; /* 0..60 */
    int hold_ms;       /* 0..10000 */
    int active_level;  /* -dBov 0..127: this loud or louder counts as talking */
};

struct tsr_talkers;

/* Purpose: new, empty selector. Returns 0, -ENOMEM or TSR_ERR_INVALID (params out
 * of range). Ownership: *out is the caller's. */
int tsr_talkers_new(struct tsr_talkers **out, const struct tsr_talkers_params *p);
void tsr_talkers_free(struct tsr_talkers **t);

/* Purpose: track participant `id`. Returns 0, -ENOMEM, TSR_ERR_STATE (already
 * known). Starts silent, unmuted. */
int tsr_talkers_add(struct tsr_talkers *t, uint32_t id);
/* Purpose: forget `id` (leaves the talker set at once). 0 or TSR_ERR_NOT_FOUND. */
int tsr_talkers_remove(struct tsr_talkers *t, uint32_t id);

/* Purpose: the level of `id` for the coming update (-dBov 0..127; larger values
 * are clamped to 127). Returns 0 or TSR_ERR_NOT_FOUND. */
int tsr_talkers_set_level(struct tsr_talkers *t, uint32_t id, int level);

/* Purpose: mute/unmute; a muted talker leaves the set at once. 0 or NOT_FOUND. */
int tsr_talkers_set_muted(struct tsr_talkers *t, uint32_t id, bool muted);

/* Purpose: apply the rules above with the levels set since the previous update;
 * levels reset to silent afterwards (an input that sends nothing is silent).
 * Returns true when the set or its order changed. */
bool tsr_talkers_update(struct tsr_talkers *t, int64_t now_ms);

/* Purpose: copy up to `cap` talker ids, dominant first; returns how many talkers
 * there are (may exceed cap). */
size_t tsr_talkers_get(const struct tsr_talkers *t, uint32_t *ids, size_t cap);

/* Purpose: whether `id` is currently a talker. */
bool tsr_talkers_is_talker(const struct tsr_talkers *t, uint32_t id);

#endif
