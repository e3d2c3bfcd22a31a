/* Conference registry: live conferences, joins, events, sweeping (definitions
 * are in conference_defs.c).
 * Participants themselves are in participant.c. Home thread: the API loop. */
#include "conference_internal.h"

#include <tessera/config.h>
#include <tessera/err.h>
#include <tessera/layout.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <errno.h>
#include <string.h>

const char *tsr_conference_layout_canonical(const char *layout)
{
    enum tsr_layout_kind kind;
    return tsr_layout_parse(layout, &kind) == 0 ? tsr_layout_name(kind) : NULL;
}

bool tsr_conference_layout_valid(const char *layout)
{
    return tsr_conference_layout_canonical(layout) != NULL;
}

const char *tsr_conference_refusal_code(enum tsr_conference_refusal r)
{
    switch (r) {
    case TSR_CONFERENCE_REFUSAL_NONE:
        return "ok";
    case TSR_CONFERENCE_REFUSAL_BAD_REQUEST:
        return "bad_request";
    case TSR_CONFERENCE_REFUSAL_NO_SUCH_CONFERENCE:
        return "no_such_conference";
    case TSR_CONFERENCE_REFUSAL_PIN_REQUIRED:
        return "pin_required";
    case TSR_CONFERENCE_REFUSAL_WRONG_PIN:
        return "wrong_pin";
    case TSR_CONFERENCE_REFUSAL_FULL:
        return "conference_full";
    case TSR_CONFERENCE_REFUSAL_LOCKED:
        return "conference_locked";
    case TSR_CONFERENCE_REFUSAL_BAD_SDP:
        return "bad_sdp";
    case TSR_CONFERENCE_REFUSAL_NO_COMMON_CODEC:
        return "no_common_codec";
    case TSR_CONFERENCE_REFUSAL_MEDIA_UNAVAILABLE:
        return "media_unavailable";
    case TSR_CONFERENCE_REFUSAL_MEDIA_FAILED:
        return "media_failed";
    case TSR_CONFERENCE_REFUSAL_TOO_MANY_ATTEMPTS:
        return "too_many_attempts";
    case TSR_CONFERENCE_REFUSAL_CAPACITY:
        return "capacity";
    }
    return "unknown";
}

const char *tsr_conference_event_name(enum tsr_conference_event_type t)
{
    switch (t) {
    case TSR_CONFERENCE_EVENT_PARTICIPANT_JOINED:
        return "participant_joined";
    case TSR_CONFERENCE_EVENT_PARTICIPANT_LEFT:
        return "participant_left";
    case TSR_CONFERENCE_EVENT_PARTICIPANT_UPDATED:
        return "participant_updated";
    case TSR_CONFERENCE_EVENT_LAYOUT:
        return "layout";
    case TSR_CONFERENCE_EVENT_CONFERENCE_UPDATED:
        return "conference_updated";
    case TSR_CONFERENCE_EVENT_TALKERS:
        return "talkers";
    case TSR_CONFERENCE_EVENT_ENDED:
        return "ended";
    case TSR_CONFERENCE_EVENT_MESSAGE:
        return "message";
    case TSR_CONFERENCE_EVENT_RECORDING:
        return "recording";
    case TSR_CONFERENCE_EVENT_STREAM:
        return "stream";
    case TSR_CONFERENCE_EVENT_PRESENTATION_START:
        return "presentation_start";
    case TSR_CONFERENCE_EVENT_PRESENTATION_STOP:
        return "presentation_stop";
    case TSR_CONFERENCE_EVENT_DIAL:
        return "dial";
    }
    return "unknown";
}

int64_t tsr_conference_now_us(const struct tsr_conference_registry *reg)
{
    return reg->opts.clock ? reg->opts.clock(reg->opts.clock_user) : g_get_monotonic_time();
}

void tsr_conference_registry_opts_from_config(struct tsr_conference_registry_opts *opts,
                                              const struct tsr_config *cfg)
{
    memset(opts, 0, sizeof *opts);
    opts->allow_adhoc = cfg->allow_adhoc;
    opts->empty_timeout_s = cfg->empty_timeout_s;
    opts->token_ttl_s = cfg->token_ttl_s;
    opts->default_max_participants = cfg->max_participants;
    opts->default_layout = cfg->default_layout;
    opts->max_media_participants = cfg->mixer_max_participants;
    opts->max_load = (double)cfg->mixer_max_load_percent / 100.0;
    opts->recording_dir = cfg->recording_dir;
    opts->ice_servers = cfg->webrtc_turn_servers;
}

static void update_gauges(struct tsr_conference_registry *reg)
{
    tsr_gauge_set(tsr_metrics_gauge("tessera_conferences", NULL, "Live conferences."),
                  (double)g_hash_table_size(reg->conferences));
    tsr_gauge_set(tsr_metrics_gauge("tessera_participants", NULL, "Participants in conferences."),
                  (double)g_hash_table_size(reg->participants));
}

static gboolean sweep_cb(gpointer user)
{
    tsr_conference_registry_sweep(user);
    return G_SOURCE_CONTINUE;
}

int tsr_conference_registry_new(struct tsr_conference_registry **out,
                                const struct tsr_conference_registry_opts *opts)
{
    const char *layout =
        tsr_conference_layout_canonical(opts->default_layout ? opts->default_layout : "grid");
    if (!layout || opts->token_ttl_s <= 0 || opts->empty_timeout_s < 0 ||
        opts->default_max_participants <= 0 || opts->max_media_participants < 0 ||
        !(opts->max_load >= 0))
        return -EINVAL;
    if (opts->media && (!opts->media->attach || !opts->media->detach))
        return -EINVAL;
    struct tsr_ice_server *ice = NULL;
    size_t n_ice = 0;
    char *err = NULL;
    if (tsr_ice_servers_parse(opts->ice_servers, &ice, &n_ice, &err) != 0) {
        TSR_LOG(TSR_LOG_ERROR, "conference", "[webrtc] %s", err);
        g_free(err);
        return TSR_ERR_CONFIG;
    }
    struct tsr_conference_registry *reg = g_new0(struct tsr_conference_registry, 1);
    reg->opts = *opts;
    reg->opts.ice_servers = NULL; /* parsed below; the text is not kept */
    reg->ice_servers = ice;
    reg->n_ice_servers = n_ice;
    g_strlcpy(reg->default_layout, layout, sizeof reg->default_layout);
    reg->opts.default_layout = reg->default_layout;
    reg->recording_dir = g_strdup(opts->recording_dir ? opts->recording_dir : "");
    reg->opts.recording_dir = reg->recording_dir;
    reg->context =
        g_main_context_ref(opts->context ? opts->context : g_main_context_ref_thread_default());
    if (!opts->context)
        g_main_context_unref(reg->context); /* ref_thread_default already took one */
    reg->defs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
    reg->conferences = g_hash_table_new(g_str_hash, g_str_equal);
    reg->participants = g_hash_table_new(g_str_hash, g_str_equal);
    reg->pin_failures = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    tsr_event_bus_new(&reg->bus);
    reg->link = g_new0(struct tsr_conference_link, 1);
    g_atomic_ref_count_init(&reg->link->ref);
    reg->link->context = g_main_context_ref(reg->context);
    reg->link->reg = reg;
    reg->sweep_timer = g_timeout_source_new(1000);
    g_source_set_callback(reg->sweep_timer, sweep_cb, reg, NULL);
    g_source_attach(reg->sweep_timer, reg->context);
    *out = reg;
    return 0;
}

struct tsr_conference_link *tsr_conference_registry_link(struct tsr_conference_registry *reg)
{
    g_atomic_ref_count_inc(&reg->link->ref);
    return reg->link;
}

void tsr_conference_link_unref(struct tsr_conference_link **pl)
{
    struct tsr_conference_link *l = pl ? *pl : NULL;
    if (!l)
        return;
    *pl = NULL;
    if (!g_atomic_ref_count_dec(&l->ref))
        return;
    g_main_context_unref(l->context);
    g_free(l);
}

static void conference_end(struct tsr_conference *c);

void tsr_conference_registry_free(struct tsr_conference_registry **p)
{
    if (!p || !*p)
        return;
    struct tsr_conference_registry *reg = *p;
    reg->freeing = true;
    tsr_call_undo_joins(reg); /* before the conferences they count in end */
    GList *confs = g_hash_table_get_values(reg->conferences);
    for (GList *l = confs; l; l = l->next) {
        struct tsr_conference *c = l->data;
        while (c->participants->len)
            tsr_participant_leave(g_ptr_array_index(c->participants, c->participants->len - 1),
                                  TSR_LEAVE_SHUTDOWN);
        conference_end(c);
    }
    g_list_free(confs);
    tsr_call_finish_all(reg); /* what is left: media let go of it when p left */
    g_source_destroy(reg->sweep_timer);
    g_source_unref(reg->sweep_timer);
    reg->link->reg = NULL;
    tsr_conference_link_unref(&reg->link);
    tsr_event_bus_free(&reg->bus);
    g_free(reg->recording_dir);
    g_hash_table_destroy(reg->participants);
    g_hash_table_destroy(reg->pin_failures);
    g_hash_table_destroy(reg->conferences);
    g_hash_table_destroy(reg->defs);
    g_main_context_unref(reg->context);
    tsr_ice_servers_free(reg->ice_servers, reg->n_ice_servers);
    g_free(reg);
    *p = NULL;
}

/* --- queries ------------------------------------------------------------------ */

bool tsr_conference_registry_has_media(const struct tsr_conference_registry *reg)
{
    return reg->opts.media != NULL;
}

bool tsr_conference_registry_allow_adhoc(const struct tsr_conference_registry *reg)
{
    return reg->opts.allow_adhoc;
}

const struct tsr_ice_server *
tsr_conference_registry_ice_servers(const struct tsr_conference_registry *reg, size_t *n)
{
    *n = reg->n_ice_servers;
    return reg->ice_servers;
}

size_t tsr_conference_registry_n_conferences(const struct tsr_conference_registry *reg)
{
    return g_hash_table_size(reg->conferences);
}

size_t tsr_conference_registry_n_participants(const struct tsr_conference_registry *reg)
{
    return g_hash_table_size(reg->participants);
}

struct tsr_conference *tsr_conference_registry_find(struct tsr_conference_registry *reg,
                                                    const char *alias)
{
    return alias ? g_hash_table_lookup(reg->conferences, alias) : NULL;
}

bool tsr_conference_registry_knows(struct tsr_conference_registry *reg, const char *alias)
{
    return alias && (g_hash_table_contains(reg->conferences, alias) ||
                     g_hash_table_contains(reg->defs, alias));
}

int tsr_conference_registry_pin_required(struct tsr_conference_registry *reg, const char *alias,
                                         bool *out)
{
    struct tsr_conference *c = tsr_conference_registry_find(reg, alias);
    const struct conf_def *d = c ? &c->def : (alias ? g_hash_table_lookup(reg->defs, alias) : NULL);
    if (!d)
        return TSR_ERR_NOT_FOUND;
    *out = d->host_pin[0] != '\0';
    return 0;
}

bool tsr_secret_equal(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned diff = (unsigned)(na ^ nb);
    for (size_t i = 0; i < na && i < nb; i++)
        diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
    return diff == 0;
}

static int check_token(struct tsr_conference_registry *reg, struct tsr_participant *p,
                       const char *token)
{
    return tsr_participant_token_valid(p, token, tsr_conference_now_us(reg)) ? 0 : TSR_ERR_AUTH;
}

int tsr_conference_registry_authenticate(struct tsr_conference_registry *reg, const char *id,
                                         const char *token, struct tsr_participant **out)
{
    struct tsr_participant *p = id ? g_hash_table_lookup(reg->participants, id) : NULL;
    if (!p)
        return TSR_ERR_NOT_FOUND;
    int rc = check_token(reg, p, token);
    if (rc == 0)
        *out = p;
    return rc;
}

struct tsr_participant *
tsr_conference_registry_find_participant(struct tsr_conference_registry *reg, const char *id)
{
    return id ? g_hash_table_lookup(reg->participants, id) : NULL;
}

int tsr_conference_registry_authenticate_token(struct tsr_conference_registry *reg,
                                               const char *token, struct tsr_participant **out)
{
    GHashTableIter it;
    gpointer v;
    if (!token || !token[0])
        return TSR_ERR_AUTH;
    g_hash_table_iter_init(&it, reg->participants);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct tsr_participant *p = v;
        if (check_token(reg, p, token) == 0) {
            *out = p;
            return 0;
        }
    }
    return TSR_ERR_AUTH;
}

int tsr_conference_registry_subscribe(struct tsr_conference_registry *reg, const char *alias,
                                      tsr_conference_event_fn fn, void *user, uint64_t *out_id)
{
    return tsr_event_bus_subscribe(reg->bus, alias, fn, user, out_id);
}

void tsr_conference_registry_unsubscribe(struct tsr_conference_registry *reg, uint64_t id)
{
    tsr_event_bus_unsubscribe(reg->bus, id);
}

void tsr_conference_emit(struct tsr_conference *c, enum tsr_conference_event_type type,
                         const char *participant_id, json_t *data_stolen)
{
    struct tsr_conference_event ev = {
        .type = type, .alias = c->def.alias, .participant_id = participant_id, .data = data_stolen};
    tsr_event_bus_emit(c->reg->bus, c->def.alias, &ev);
    json_decref(data_stolen);
}

/* --- lifecycle of one conference ------------------------------------------------ */

static struct tsr_conference *conference_new(struct tsr_conference_registry *reg,
                                             const struct conf_def *def)
{
    struct tsr_conference *c = g_new0(struct tsr_conference, 1);
    c->reg = reg;
    c->def = *def;
    g_strlcpy(c->layout, def->layout, sizeof c->layout);
    c->participants = g_ptr_array_new();
    c->talkers = g_ptr_array_new_with_free_func(g_free);
    c->empty_since_us = tsr_conference_now_us(reg);
    g_hash_table_insert(reg->conferences, c->def.alias, c);
    TSR_LOG(TSR_LOG_INFO, c->def.alias,
            "conference started (layout %s, limit %" G_GINT64_FORMAT ", %s)", c->layout,
            c->def.max_participants, c->def.host_pin[0] ? "PIN" : "no PIN");
    update_gauges(reg);
    char *err = NULL;
    int rc = c->def.auto_record ? tsr_conference_start_recording(c, NULL, &err) : 0;
    if (rc)
        TSR_LOG(TSR_LOG_ERROR, c->def.alias, "auto-record did not start: %s",
                err ? err : tsr_strerror(rc));
    g_free(err);
    return c;
}

/* Removes and frees c without telling subscribers (used when it never had anyone). */
static void conference_drop(struct tsr_conference *c)
{
    struct tsr_conference_registry *reg = c->reg;
    if (reg->opts.media && reg->opts.media->conference_ended)
        reg->opts.media->conference_ended(reg->opts.media_user, c);
    g_hash_table_remove(reg->conferences, c->def.alias);
    tsr_conference_outputs_free(c);
    g_ptr_array_free(c->participants, TRUE);
    g_ptr_array_free(c->talkers, TRUE);
    g_free(c);
    update_gauges(reg);
}

static void conference_end(struct tsr_conference *c)
{
    TSR_LOG(TSR_LOG_INFO, c->def.alias, "conference ended");
    tsr_conference_emit(c, TSR_CONFERENCE_EVENT_ENDED, NULL,
                        json_pack("{s:s}", "alias", c->def.alias));
    conference_drop(c);
}

void tsr_conference_became_empty(struct tsr_conference *c)
{
    c->empty_since_us = tsr_conference_now_us(c->reg);
    g_ptr_array_set_size(c->talkers, 0);
    if (c->reg->opts.empty_timeout_s == 0 && !c->reg->freeing && c->pending_joins == 0)
        conference_end(c);
}

void tsr_conference_registry_sweep(struct tsr_conference_registry *reg)
{
    int64_t now = tsr_conference_now_us(reg);
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter it;
    gpointer v;
    /* Collect first, act second: a leave can end a conference and change the tables. */
    g_hash_table_iter_init(&it, reg->participants);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct tsr_participant *p = v;
        if (tsr_participant_lapsed(p, now))
            g_ptr_array_add(ids, g_strdup(p->id));
    }
    for (guint i = 0; i < ids->len; i++) {
        struct tsr_participant *p = g_hash_table_lookup(reg->participants, ids->pdata[i]);
        if (p) {
            TSR_LOG(TSR_LOG_INFO, p->conf->def.alias, "participant %s: token lapsed", p->id);
            tsr_participant_leave(p, TSR_LEAVE_TOKEN_EXPIRED);
        }
    }
    g_ptr_array_set_size(ids, 0);
    g_hash_table_iter_init(&it, reg->conferences);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct tsr_conference *c = v;
        if (c->participants->len == 0 && c->pending_joins == 0 &&
            now - c->empty_since_us >= reg->opts.empty_timeout_s * G_USEC_PER_SEC)
            g_ptr_array_add(ids, g_strdup(c->def.alias));
    }
    for (guint i = 0; i < ids->len; i++) {
        struct tsr_conference *c = g_hash_table_lookup(reg->conferences, ids->pdata[i]);
        if (c && c->participants->len == 0 && c->pending_joins == 0)
            conference_end(c);
    }
    g_ptr_array_free(ids, TRUE);
}

/* --- join ------------------------------------------------------------------------ */

/* Decides the role from the PIN, or the refusal. */
static enum tsr_conference_refusal pick_role(const struct conf_def *d, const char *pin,
                                             enum tsr_role *role)
{
    if (!d->host_pin[0]) {
        *role = TSR_ROLE_HOST;
        return TSR_CONFERENCE_REFUSAL_NONE;
    }
    if (!pin || !pin[0])
        return TSR_CONFERENCE_REFUSAL_PIN_REQUIRED;
    if (tsr_secret_equal(d->host_pin, pin)) {
        *role = TSR_ROLE_HOST;
        return TSR_CONFERENCE_REFUSAL_NONE;
    }
    if (d->guest_pin[0] && tsr_secret_equal(d->guest_pin, pin)) {
        *role = TSR_ROLE_GUEST;
        return TSR_CONFERENCE_REFUSAL_NONE;
    }
    return TSR_CONFERENCE_REFUSAL_WRONG_PIN;
}

static int refusal_rc(enum tsr_conference_refusal r)
{
    switch (r) {
    case TSR_CONFERENCE_REFUSAL_NO_SUCH_CONFERENCE:
        return TSR_ERR_NOT_FOUND;
    case TSR_CONFERENCE_REFUSAL_PIN_REQUIRED:
    case TSR_CONFERENCE_REFUSAL_WRONG_PIN:
        return TSR_ERR_AUTH;
    case TSR_CONFERENCE_REFUSAL_FULL:
    case TSR_CONFERENCE_REFUSAL_CAPACITY:
        return TSR_ERR_FULL;
    case TSR_CONFERENCE_REFUSAL_LOCKED:
        return TSR_ERR_STATE;
    case TSR_CONFERENCE_REFUSAL_MEDIA_UNAVAILABLE:
    case TSR_CONFERENCE_REFUSAL_NO_COMMON_CODEC:
        return TSR_ERR_UNSUPPORTED;
    case TSR_CONFERENCE_REFUSAL_MEDIA_FAILED:
        return TSR_ERR_CODEC;
    case TSR_CONFERENCE_REFUSAL_TOO_MANY_ATTEMPTS:
        return TSR_ERR_AGAIN;
    default:
        return TSR_ERR_INVALID;
    }
}

/* The limits that hold for everyone, a callee a host dialled included. */
static enum tsr_conference_refusal admit_limits(struct tsr_conference_registry *reg,
                                                const struct tsr_conference_join_request *req,
                                                const struct tsr_conference *c,
                                                const struct conf_def *def, char **msg)
{
    if (c && (int64_t)(c->participants->len + c->pending_joins) >= def->max_participants) {
        *msg = g_strdup_printf("the conference is full (%" G_GINT64_FORMAT " participants)",
                               def->max_participants);
        return TSR_CONFERENCE_REFUSAL_FULL;
    }
    if ((req->offer_sdp || req->make_offer) && !reg->opts.media) {
        *msg = g_strdup("this server has no media engine wired; it can only join without SDP");
        return TSR_CONFERENCE_REFUSAL_MEDIA_UNAVAILABLE;
    }
    if (req->make_offer && !reg->opts.media->attach_offer) {
        *msg = g_strdup("this media layer cannot make an offer: send one");
        return TSR_CONFERENCE_REFUSAL_MEDIA_UNAVAILABLE;
    }
    if (req->offer_sdp || req->make_offer || req->media_expected)
        return tsr_conference_capacity_check(reg, msg);
    return TSR_CONFERENCE_REFUSAL_NONE;
}

/* A dialled callee: the role the host chose; its id must not be taken. */
static enum tsr_conference_refusal admit_invited(struct tsr_conference_registry *reg,
                                                 const struct tsr_conference_join_request *req,
                                                 const struct tsr_conference *c,
                                                 const struct conf_def *def, enum tsr_role *role,
                                                 char **msg)
{
    const char *id = req->invitation->participant_id;
    if (!id || !id[0] || strlen(id) >= sizeof(((struct tsr_participant *)NULL)->id) ||
        g_hash_table_contains(reg->participants, id)) {
        *msg = g_strdup("the invitation's participant id is missing or taken");
        return TSR_CONFERENCE_REFUSAL_BAD_REQUEST;
    }
    *role = req->invitation->role;
    return admit_limits(reg, req, c, def, msg);
}

/* Checks everything that can be checked before creating anything. */
static enum tsr_conference_refusal admit(struct tsr_conference_registry *reg,
                                         const struct tsr_conference_join_request *req,
                                         struct conf_def *def, enum tsr_role *role, char **msg)
{
    if (!tsr_conference_alias_valid(req->alias) ||
        !tsr_conference_display_name_valid(req->display_name)) {
        *msg = g_strdup(tsr_conference_alias_valid(req->alias) ? TSR_CONFERENCE_DISPLAY_NAME_RULE
                                                               : TSR_CONFERENCE_ALIAS_RULE);
        return TSR_CONFERENCE_REFUSAL_BAD_REQUEST;
    }
    struct tsr_conference *c = tsr_conference_registry_find(reg, req->alias);
    const struct conf_def *d = c ? &c->def : g_hash_table_lookup(reg->defs, req->alias);
    if (d) {
        *def = *d;
    } else if (reg->opts.allow_adhoc) {
        memset(def, 0, sizeof *def);
        g_strlcpy(def->alias, req->alias, sizeof def->alias);
        g_strlcpy(def->name, req->alias, sizeof def->name);
        g_strlcpy(def->layout, reg->default_layout, sizeof def->layout);
        def->max_participants = reg->opts.default_max_participants;
    } else {
        *msg = g_strdup_printf("there is no conference '%s'", req->alias);
        return TSR_CONFERENCE_REFUSAL_NO_SUCH_CONFERENCE;
    }
    if (req->invitation) /* a host dialled it: no PIN, and a lock does not keep it out */
        return admit_invited(reg, req, c, def, role, msg);
    if (def->host_pin[0] && tsr_conference_pin_throttled(reg, def->alias, req->client_address)) {
        *msg = g_strdup_printf("too many wrong PINs; try again within %d s",
                               TSR_CONFERENCE_PIN_WINDOW_S);
        return TSR_CONFERENCE_REFUSAL_TOO_MANY_ATTEMPTS;
    }
    enum tsr_conference_refusal r = pick_role(def, req->pin, role);
    if (r == TSR_CONFERENCE_REFUSAL_WRONG_PIN)
        tsr_conference_pin_failed(reg, def->alias, req->client_address);
    if (r != TSR_CONFERENCE_REFUSAL_NONE) {
        *msg = g_strdup(r == TSR_CONFERENCE_REFUSAL_PIN_REQUIRED ? "this conference needs a PIN"
                                                                 : "the PIN is not correct");
        return r;
    }
    if (c && c->locked && !(*role == TSR_ROLE_HOST && def->host_pin[0])) {
        *msg = g_strdup("the conference is locked; a host can unlock it");
        return TSR_CONFERENCE_REFUSAL_LOCKED;
    }
    return admit_limits(reg, req, c, def, msg);
}

enum tsr_conference_refusal tsr_conference_media_refusal(int rc)
{
    if (rc == TSR_ERR_INVALID)
        return TSR_CONFERENCE_REFUSAL_BAD_SDP;
    if (rc == TSR_ERR_UNSUPPORTED)
        return TSR_CONFERENCE_REFUSAL_NO_COMMON_CODEC;
    return TSR_CONFERENCE_REFUSAL_MEDIA_FAILED;
}

void tsr_conference_count_refusal(enum tsr_conference_refusal r)
{
    char labels[64];
    g_snprintf(labels, sizeof labels, "reason=\"%s\"", tsr_conference_refusal_code(r));
    tsr_counter_inc(
        tsr_metrics_counter("tessera_join_refusals_total", labels, "Joins refused, by reason."));
}

static void join_refused(const char *alias, enum tsr_conference_refusal r, const char *msg)
{
    tsr_conference_count_refusal(r);
    TSR_LOG(TSR_LOG_INFO, tsr_conference_alias_valid(alias) ? alias : NULL, "join refused: %s (%s)",
            tsr_conference_refusal_code(r), msg);
}

/* Checks and finds or creates the conference; p is counted in its pending joins.
 * On refusal returns it with *msg, and nothing was created. */
static enum tsr_conference_refusal join_start(struct tsr_conference_registry *reg,
                                              const struct tsr_conference_join_request *req,
                                              struct tsr_participant **p, char **msg)
{
    struct conf_def def;
    enum tsr_role role = TSR_ROLE_GUEST;
    enum tsr_conference_refusal r = admit(reg, req, &def, &role, msg);
    if (r != TSR_CONFERENCE_REFUSAL_NONE) {
        join_refused(req->alias, r, *msg);
        return r;
    }
    struct tsr_conference *c = tsr_conference_registry_find(reg, req->alias);
    if (!c)
        c = conference_new(reg, &def);
    c->pending_joins++;
    tsr_participant_new(p, c, req->display_name, role);
    if (req->invitation)
        g_strlcpy((*p)->id, req->invitation->participant_id, sizeof(*p)->id);
    (*p)->holder = req->holder; /* held from now; released if the join does not complete */
    if (req->holder)
        req->holder->ops->ref(req->holder);
    return TSR_CONFERENCE_REFUSAL_NONE;
}

/* The pending join of p becomes a participant: listed, counted, announced. */
static void join_admit(struct tsr_participant *p, bool with_media)
{
    struct tsr_conference *c = p->conf;
    struct tsr_conference_registry *reg = c->reg;
    c->pending_joins--;
    c->ever_joined = true;
    p->has_media = with_media;
    if (p->holder && p->holder->ops->joined)
        p->holder->ops->joined(p->holder, p);
    g_ptr_array_add(c->participants, p);
    g_hash_table_insert(reg->participants, p->id, p);
    update_gauges(reg);
    tsr_counter_inc(tsr_metrics_counter("tessera_joins_total", NULL, "Participants admitted."));
    TSR_LOG(TSR_LOG_INFO, c->def.alias, "participant %s '%s' joined as %s%s", p->id,
            p->display_name, p->role == TSR_ROLE_HOST ? "host" : "guest",
            p->has_media ? "" : " (no media)");
    tsr_conference_emit(c, TSR_CONFERENCE_EVENT_PARTICIPANT_JOINED, p->id,
                        tsr_participant_to_json(p));
}

/* A pending join is gone: the conference ends if that left it with nobody, and
 * disappears without a word if nobody was ever in it. */
static void join_settle(struct tsr_conference *c)
{
    if (c->participants->len || c->pending_joins || c->reg->freeing)
        return;
    if (!c->ever_joined)
        conference_drop(c);
    else if (c->reg->opts.empty_timeout_s == 0)
        conference_end(c);
}

void tsr_conference_join(struct tsr_conference_registry *reg,
                         const struct tsr_conference_join_request *req, tsr_conference_done_fn done,
                         void *user, struct tsr_conference_call **handle)
{
    struct tsr_conference_call *call = tsr_call_new(reg, TSR_CALL_JOIN, NULL, done, user, handle);
    char *msg = NULL;
    enum tsr_conference_refusal r = join_start(reg, req, &call->p, &msg);
    if (r != TSR_CONFERENCE_REFUSAL_NONE) {
        tsr_call_fail(call, refusal_rc(r), r, msg);
        return;
    }
    call->conf = call->p->conf;
    if (!req->offer_sdp && !req->make_offer) {
        tsr_call_fail(call, 0, TSR_CONFERENCE_REFUSAL_NONE, NULL); /* admitted on delivery */
        return;
    }
    call->with_offer = true;
    call->counts_media = true;
    reg->n_media_pending++;
    tsr_call_asking(call);
    if (req->offer_sdp)
        reg->opts.media->attach(reg->opts.media_user, call->p, req->offer_sdp, call);
    else
        reg->opts.media->attach_offer(reg->opts.media_user, call->p, call);
    tsr_call_asked(call);
}

void tsr_conference_join_finish(struct tsr_conference_call *call)
{
    struct tsr_participant *p = call->p;
    if (!p)
        return; /* refused at the start, or undone */
    call->p = NULL;
    if (call->res.rc == 0) {
        join_admit(p, call->with_offer);
        call->res.participant = p;
        return;
    }
    struct tsr_conference *c = p->conf;
    enum tsr_conference_refusal r = tsr_conference_media_refusal(call->res.rc);
    char *msg = g_strdup_printf("media: %s", call->res.err_text ? call->res.err_text
                                                                : tsr_strerror(call->res.rc));
    g_free(call->res.err_text);
    call->res.err_text = msg;
    call->res.refusal = r;
    call->res.rc = refusal_rc(r);
    join_refused(c->def.alias, r, msg);
    c->pending_joins--;
    tsr_participant_free(&p);
    join_settle(c);
}

void tsr_conference_join_undo(struct tsr_conference_call *call)
{
    struct tsr_participant *p = call->p;
    struct tsr_conference_registry *reg = call->reg;
    if (!p)
        return;
    call->p = NULL;
    if (call->media == TSR_CALL_MEDIA_ASKED ||
        (call->media == TSR_CALL_MEDIA_DONE && call->res.rc == 0))
        reg->opts.media->detach(reg->opts.media_user, p);
    call->media = TSR_CALL_MEDIA_NONE;
    g_clear_pointer(&call->res.sdp, g_free);
    g_free(call->res.err_text);
    call->res.rc = TSR_ERR_STATE;
    call->res.refusal = TSR_CONFERENCE_REFUSAL_MEDIA_FAILED;
    call->res.err_text = g_strdup("the join was called off");
    struct tsr_conference *c = p->conf;
    c->pending_joins--;
    tsr_participant_free(&p);
    join_settle(c);
}

int tsr_conference_join_roster(struct tsr_conference_registry *reg,
                               const struct tsr_conference_join_request *req,
                               struct tsr_participant **out, enum tsr_conference_refusal *refusal,
                               char **err_text)
{
    struct tsr_participant *p = NULL;
    char *msg = NULL;
    enum tsr_conference_refusal r = TSR_CONFERENCE_REFUSAL_BAD_REQUEST;
    if (req->offer_sdp) {
        msg = g_strdup("a join with an offer completes on a net loop: use tsr_conference_join");
        join_refused(req->alias, r, msg);
    } else {
        r = join_start(reg, req, &p, &msg);
    }
    if (r != TSR_CONFERENCE_REFUSAL_NONE) {
        *refusal = r;
        *err_text = msg;
        return refusal_rc(r);
    }
    join_admit(p, false);
    *out = p;
    return 0;
}

/* --- conference state and host actions ------------------------------------------- */

const char *tsr_conference_alias(const struct tsr_conference *c)
{
    return c->def.alias;
}

const char *tsr_conference_name(const struct tsr_conference *c)
{
    return c->def.name;
}

const char *tsr_conference_layout(const struct tsr_conference *c)
{
    return c->layout;
}

bool tsr_conference_locked(const struct tsr_conference *c)
{
    return c->locked;
}

size_t tsr_conference_n_participants(const struct tsr_conference *c)
{
    return c->participants->len;
}

struct tsr_participant *const *tsr_conference_participants(const struct tsr_conference *c,
                                                           size_t *n)
{
    *n = c->participants->len;
    return (struct tsr_participant *const *)c->participants->pdata;
}

json_t *tsr_conference_to_json(const struct tsr_conference *c, bool with_roster)
{
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:b, s:I, s:b, s:I, s:b}", "alias", c->def.alias, "name",
                  c->def.name, "layout", c->layout, "locked", c->locked, "max_participants",
                  (json_int_t)c->def.max_participants, "pin_protected", c->def.host_pin[0] != '\0',
                  "participant_count", (json_int_t)c->participants->len, "self_view", c->self_view);
    if (!o)
        return o;
    json_t *streams = NULL;
    json_object_set_new(o, "recording", tsr_conference_outputs_json(c, &streams));
    json_object_set_new(o, "streams", streams);
    if (!with_roster)
        return o;
    json_t *list = json_array(), *talkers = json_array();
    for (guint i = 0; i < c->participants->len; i++)
        json_array_append_new(list, tsr_participant_to_json(c->participants->pdata[i]));
    for (guint i = 0; i < c->talkers->len; i++)
        json_array_append_new(talkers, json_string(c->talkers->pdata[i]));
    json_object_set_new(o, "participants", list);
    json_object_set_new(o, "talkers", talkers);
    return o;
}

int tsr_conference_set_layout(struct tsr_participant *actor, const char *layout)
{
    struct tsr_conference *c = actor->conf;
    if (actor->role != TSR_ROLE_HOST)
        return TSR_ERR_AUTH;
    layout = tsr_conference_layout_canonical(layout);
    if (!layout)
        return TSR_ERR_INVALID;
    if (strcmp(c->layout, layout) == 0)
        return 0;
    g_strlcpy(c->layout, layout, sizeof c->layout);
    if (c->reg->opts.media && c->reg->opts.media->set_layout)
        c->reg->opts.media->set_layout(c->reg->opts.media_user, c, c->layout);
    TSR_LOG(TSR_LOG_INFO, c->def.alias, "layout %s (by %s)", layout, actor->id);
    tsr_conference_emit(c, TSR_CONFERENCE_EVENT_LAYOUT, NULL,
                        json_pack("{s:s, s:s}", "layout", c->layout, "by", actor->id));
    return 0;
}

int tsr_conference_set_locked(struct tsr_participant *actor, bool locked)
{
    struct tsr_conference *c = actor->conf;
    if (actor->role != TSR_ROLE_HOST)
        return TSR_ERR_AUTH;
    if (c->locked == locked)
        return 0;
    c->locked = locked;
    TSR_LOG(TSR_LOG_INFO, c->def.alias, "%s (by %s)", locked ? "locked" : "unlocked", actor->id);
    tsr_conference_emit(c, TSR_CONFERENCE_EVENT_CONFERENCE_UPDATED, NULL,
                        tsr_conference_to_json(c, false));
    return 0;
}

int tsr_conference_end_for_all(struct tsr_participant *actor)
{
    struct tsr_conference *c = actor->conf;
    if (actor->role != TSR_ROLE_HOST)
        return TSR_ERR_AUTH;
    TSR_LOG(TSR_LOG_INFO, c->def.alias, "ended for everyone by %s", actor->id);
    /* The last leave may end and free c (empty_timeout_s 0): stop before that. */
    size_t n = c->participants->len;
    for (size_t i = 0; i < n; i++)
        tsr_participant_leave(g_ptr_array_index(c->participants, c->participants->len - 1),
                              TSR_LEAVE_CONFERENCE_ENDED);
    return 0;
}

static bool message_type_valid(const char *type)
{
    size_t n = type ? strlen(type) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isgraph(type[i]))
            return false;
    return strchr(type, '/') != NULL;
}

int tsr_conference_send_message(struct tsr_participant *actor, struct tsr_participant *target,
                                const char *type, const char *payload)
{
    struct tsr_conference *c = actor->conf;
    size_t n = payload ? strlen(payload) : 0;
    if (!message_type_valid(type) || !payload || n > TSR_CONFERENCE_MESSAGE_MAX ||
        !g_utf8_validate(payload, (gssize)n, NULL))
        return TSR_ERR_INVALID;
    if (target && target->conf != c)
        return TSR_ERR_AUTH;
    tsr_counter_inc(
        tsr_metrics_counter("tessera_chat_messages_total", NULL, "Chat messages relayed."));
    tsr_conference_emit(c, TSR_CONFERENCE_EVENT_MESSAGE, actor->id,
                        json_pack("{s:s, s:s, s:s, s:s, s:o}", "from", actor->id, "display_name",
                                  actor->display_name, "type", type, "payload", payload, "to",
                                  target ? json_string(target->id) : json_null()));
    return 0;
}
