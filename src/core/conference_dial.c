/* Dial-out as the conference core sees it: who may call someone in, the id the
 * callee will have, and the dial events. Placing the call is the dialler's (the
 * SIP front registers one), so this layer never learns SIP.
 * Home thread: the API loop. */
#include "conference_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>

#include <string.h>

void tsr_conference_registry_set_dialler(struct tsr_conference_registry *reg,
                                         const struct tsr_conference_dialler *d, void *user)
{
    reg->dialler = d;
    reg->dialler_user = d ? user : NULL;
}

/* A URI the core lets through to the dialler: "sip:" and something after it, of
 * printable ASCII without blanks (the dialler checks the rest). */
static bool uri_plausible(const char *uri, char **err_text)
{
    size_t len = uri ? strlen(uri) : 0;
    if (!uri || g_ascii_strncasecmp(uri, "sip:", 4) != 0 || len <= 4) {
        *err_text = g_strdup("only sip: URIs can be dialled (sip:user@host[:port])");
        return false;
    }
    if (len > TSR_CONFERENCE_DIAL_URI_MAX) {
        *err_text = g_strdup_printf("the URI is longer than %d bytes", TSR_CONFERENCE_DIAL_URI_MAX);
        return false;
    }
    for (const char *s = uri; *s; s++) {
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f) {
            *err_text = g_strdup("the URI has a blank, control or non-ASCII character");
            return false;
        }
    }
    return true;
}

int tsr_conference_dial(struct tsr_participant *actor, const char *uri, const char *display_name,
                        enum tsr_role role, char out_id[37], char **err_text)
{
    struct tsr_conference *c = actor->conf;
    struct tsr_conference_registry *reg = c->reg;
    if (actor->role != TSR_ROLE_HOST)
        return TSR_ERR_AUTH;
    if (!uri_plausible(uri, err_text))
        return TSR_ERR_INVALID;
    if (display_name && !tsr_conference_display_name_valid(display_name)) {
        *err_text = g_strdup(TSR_CONFERENCE_DISPLAY_NAME_RULE);
        return TSR_ERR_INVALID;
    }
    if (!reg->dialler) {
        *err_text = g_strdup("dial-out needs the SIP front ([sip] enabled = true)");
        return TSR_ERR_UNSUPPORTED;
    }
    char *id = g_uuid_string_random();
    struct tsr_conference_dial_request req = {
        .alias = c->def.alias,
        .uri = uri,
        .display_name = display_name,
        .role = role,
        .participant_id = id,
        .by = actor->id,
    };
    int rc = reg->dialler->dial(reg->dialler_user, &req, err_text);
    if (rc == 0) {
        g_strlcpy(out_id, id, 37);
        TSR_LOG(TSR_LOG_INFO, c->def.alias, "%s dials %s as %s (participant %s)", actor->id, uri,
                role == TSR_ROLE_HOST ? "host" : "guest", id);
    }
    g_free(id);
    return rc;
}

int tsr_conference_dial_hangup(struct tsr_participant *actor, const char *participant_id)
{
    struct tsr_conference_registry *reg = actor->conf->reg;
    if (actor->role != TSR_ROLE_HOST)
        return TSR_ERR_AUTH;
    if (!reg->dialler)
        return TSR_ERR_UNSUPPORTED;
    return reg->dialler->hangup(reg->dialler_user, actor->conf->def.alias, participant_id);
}

void tsr_conference_dial_state(struct tsr_conference_registry *reg, const char *alias,
                               const char *participant_id, const char *uri, const char *by,
                               const char *state, unsigned status, const char *reason)
{
    struct tsr_conference *c = tsr_conference_registry_find(reg, alias);
    if (!c)
        return;
    json_t *data = json_pack("{s:s, s:s, s:s, s:I, s:s?, s:s?}", "participant_id", participant_id,
                             "uri", uri, "state", state, "status", (json_int_t)status, "reason",
                             reason, "by", by && by[0] ? by : NULL);
    if (data)
        tsr_conference_emit(c, TSR_CONFERENCE_EVENT_DIAL, NULL, data);
}
