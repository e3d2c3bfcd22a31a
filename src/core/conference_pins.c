/* PIN guessing: wrong PINs counted per conference and client address in a window
 * of TSR_CONFERENCE_PIN_WINDOW_S; past TSR_CONFERENCE_PIN_TRIES that address's PIN
 * joins are refused until the window ends. Home thread: the API loop. */
#include "conference_internal.h"

#include <tessera/log.h>

/* Wrong PINs are counted per conference and client address; past this many
 * entries the expired ones go when the next one is added. */
#define PIN_TABLE_PRUNE_AT 4096

static gboolean pin_expired(gpointer key, gpointer value, gpointer user)
{
    (void)key;
    const struct pin_failures *f = value;
    return tsr_conference_now_us(user) - f->window_start_us >=
           TSR_CONFERENCE_PIN_WINDOW_S * G_USEC_PER_SEC;
}

static char *pin_key(const char *alias, const char *address)
{
    return g_strdup_printf("%s|%s", alias, address && *address ? address : "-");
}

bool tsr_conference_pin_throttled(struct tsr_conference_registry *reg, const char *alias,
                                  const char *address)
{
    char *key = pin_key(alias, address);
    struct pin_failures *f = g_hash_table_lookup(reg->pin_failures, key);
    bool throttled = false;
    if (f && tsr_conference_now_us(reg) - f->window_start_us >=
                 TSR_CONFERENCE_PIN_WINDOW_S * G_USEC_PER_SEC)
        g_hash_table_remove(reg->pin_failures, key);
    else if (f)
        throttled = f->count >= TSR_CONFERENCE_PIN_TRIES;
    g_free(key);
    return throttled;
}

void tsr_conference_pin_failed(struct tsr_conference_registry *reg, const char *alias,
                               const char *address)
{
    if (g_hash_table_size(reg->pin_failures) >= PIN_TABLE_PRUNE_AT)
        g_hash_table_foreach_remove(reg->pin_failures, pin_expired, reg);
    char *key = pin_key(alias, address);
    struct pin_failures *f = g_hash_table_lookup(reg->pin_failures, key);
    if (!f) {
        f = g_new0(struct pin_failures, 1);
        f->window_start_us = tsr_conference_now_us(reg);
        g_hash_table_insert(reg->pin_failures, key, f);
    } else {
        g_free(key);
    }
    if (++f->count == TSR_CONFERENCE_PIN_TRIES)
        TSR_LOG(TSR_LOG_WARN, alias,
                "%d wrong PINs within %d s from %s; its PIN joins refused for the rest of "
                "the window",
                f->count, TSR_CONFERENCE_PIN_WINDOW_S,
                address && *address ? address : "an unknown address");
}
