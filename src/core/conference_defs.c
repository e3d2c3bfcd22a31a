/* Conference definitions: what the operator configured (the conferences file, or
 * code through tsr_conference_registry_define), checked field by field with
 * errors that name the entry. Home thread: the API loop. */
#include "conference_internal.h"

#include <tessera/err.h>
#include <tessera/layout.h>
#include <tessera/log.h>

#include <errno.h>
#include <string.h>

static bool pin_valid(const char *pin)
{
    size_t n = strlen(pin);
    if (n > TSR_CONFERENCE_PIN_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isdigit(pin[i]))
            return false;
    return true;
}

/* --- definitions ------------------------------------------------------------ */

/* Checks one definition and fills *d; *msg names the entry by its alias, or by its
 * place in the file (idx, when >= 0) when the alias is what is wrong. */
static int def_check(const struct tsr_conference_registry *reg,
                     const struct tsr_conference_definition *in, long idx, struct conf_def *d,
                     char **msg)
{
    const char *alias = in->alias, *host_pin = in->host_pin ? in->host_pin : "";
    const char *guest_pin = in->guest_pin ? in->guest_pin : "";
    int64_t max = in->max_participants ? in->max_participants : reg->opts.default_max_participants;
    if (!tsr_conference_alias_valid(alias)) {
        char *where = idx >= 0 ? g_strdup_printf("conference #%ld: ", idx) : g_strdup("");
        *msg =
            g_strdup_printf("%salias '%s': " TSR_CONFERENCE_ALIAS_RULE, where, alias ? alias : "");
        g_free(where);
        return TSR_ERR_CONFIG;
    }
    if (!pin_valid(host_pin) || !pin_valid(guest_pin) || (guest_pin[0] && !host_pin[0]) ||
        (host_pin[0] && strcmp(host_pin, guest_pin) == 0)) {
        *msg = g_strdup_printf("conference '%s': PINs are up to %d digits; a guest PIN needs a "
                               "different host PIN",
                               alias, TSR_CONFERENCE_PIN_MAX);
        return TSR_ERR_CONFIG;
    }
    if (in->layout && !tsr_conference_layout_valid(in->layout)) {
        *msg = g_strdup_printf("conference '%s': layout '%s' is not one of grid, four, single, "
                               "speaker, 1:21, 2:21, presentation (or a Pexip alias)",
                               alias, in->layout);
        return TSR_ERR_CONFIG;
    }
    if (max < 1 || max > 1000 || (in->name && strlen(in->name) > TSR_CONFERENCE_NAME_MAX)) {
        *msg = g_strdup_printf("conference '%s': max_participants must be 1..1000 and name at "
                               "most %d bytes",
                               alias, TSR_CONFERENCE_NAME_MAX);
        return TSR_ERR_CONFIG;
    }
    memset(d, 0, sizeof *d);
    g_strlcpy(d->alias, alias, sizeof d->alias);
    g_strlcpy(d->name, in->name ? in->name : alias, sizeof d->name);
    g_strlcpy(d->host_pin, host_pin, sizeof d->host_pin);
    g_strlcpy(d->guest_pin, guest_pin, sizeof d->guest_pin);
    g_strlcpy(d->layout,
              in->layout ? tsr_conference_layout_canonical(in->layout) : reg->default_layout,
              sizeof d->layout);
    d->max_participants = max;
    d->auto_record = in->auto_record;
    return 0;
}

static int def_from_json(struct tsr_conference_registry *reg, json_t *e, size_t idx,
                         struct conf_def *d, char **msg)
{
    struct tsr_conference_definition in = {0};
    json_int_t max = 0;
    int auto_record = 0;
    json_error_t jerr;
    if (!json_is_object(e) ||
        json_unpack_ex(e, &jerr, JSON_STRICT, "{s:s, s?s, s?s, s?s, s?s, s?I, s?b}", "alias",
                       &in.alias, "name", &in.name, "host_pin", &in.host_pin, "guest_pin",
                       &in.guest_pin, "layout", &in.layout, "max_participants", &max, "auto_record",
                       &auto_record) != 0) {
        *msg = g_strdup_printf("conference #%zu: %s (allowed keys: alias, name, host_pin, "
                               "guest_pin, layout, max_participants, auto_record)",
                               idx, json_is_object(e) ? jerr.text : "not an object");
        return TSR_ERR_CONFIG;
    }
    if (json_object_get(e, "max_participants"))
        in.max_participants = max < 1 ? -1 : max; /* 0 would mean "the default" */
    in.auto_record = auto_record != 0;
    return def_check(reg, &in, (long)idx, d, msg);
}

int tsr_conference_registry_define(struct tsr_conference_registry *reg,
                                   const struct tsr_conference_definition *def, char **err)
{
    struct conf_def d;
    int rc = def_check(reg, def, -1, &d, err);
    if (rc == 0) {
        struct conf_def *copy = g_memdup2(&d, sizeof d);
        g_hash_table_replace(reg->defs, copy->alias, copy);
    }
    return rc;
}

void tsr_conference_registry_undefine(struct tsr_conference_registry *reg, const char *alias)
{
    if (alias)
        g_hash_table_remove(reg->defs, alias);
}

int tsr_conference_registry_load_json(struct tsr_conference_registry *reg, const char *text,
                                      size_t len, const char *name, char **err)
{
    json_error_t jerr;
    char *msg = NULL;
    int rc = TSR_ERR_CONFIG;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *list = root ? json_object_get(root, "conferences") : NULL;
    struct conf_def *defs = NULL;
    if (!root) {
        msg = g_strdup_printf("line %d: %s", jerr.line, jerr.text);
        goto out;
    }
    if (!json_is_array(list)) {
        msg = g_strdup("expected {\"conferences\": [ … ]}");
        goto out;
    }
    size_t n = json_array_size(list);
    defs = g_new0(struct conf_def, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        if (def_from_json(reg, json_array_get(list, i), i, &defs[i], &msg) != 0)
            goto out;
        for (size_t j = 0; j < i; j++) {
            if (strcmp(defs[j].alias, defs[i].alias) == 0) {
                msg = g_strdup_printf("conference '%s' is defined twice", defs[i].alias);
                goto out;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct conf_def *d = g_memdup2(&defs[i], sizeof defs[i]);
        g_hash_table_replace(reg->defs, d->alias, d);
    }
    rc = 0;
out:
    if (rc != 0)
        *err = g_strdup_printf("%s: %s", name, msg);
    g_free(msg);
    g_free(defs);
    json_decref(root);
    return rc;
}

int tsr_conference_registry_load_file(struct tsr_conference_registry *reg, const char *path,
                                      char **err)
{
    char *text = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, &len, &gerr)) {
        *err = g_strdup_printf("%s: cannot read: %s", path, gerr->message);
        g_error_free(gerr);
        return TSR_ERR_CONFIG;
    }
    int rc = tsr_conference_registry_load_json(reg, text, len, path, err);
    g_free(text);
    return rc;
}
