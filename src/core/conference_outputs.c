/* Recording and streaming of a conference as the conference core sees them: who
 * may start and stop them, their names and states, the events. The media itself
 * (files, RTMP pushes) is behind the media ops' start_output / stop_output, which
 * return at once; states come back through tsr_conference_post_output_state.
 * Home thread: the API loop. */
#include "conference_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/net_loops.h>

#include <string.h>

static const char *state_name(enum tsr_conference_output_state s)
{
    static const char *const names[] = {"starting", "active", "reconnecting", "stopped", "failed"};
    return (unsigned)s < G_N_ELEMENTS(names) ? names[s] : "unknown";
}

static bool is_final(enum tsr_conference_output_state s)
{
    return s == TSR_CONFERENCE_OUTPUT_STOPPED || s == TSR_CONFERENCE_OUTPUT_FAILED;
}

static void output_free(gpointer data)
{
    struct conf_output *o = data;
    g_free(o->target);
    g_free(o->shown);
    g_free(o->reason);
    g_free(o);
}

static json_t *output_json(const struct conf_output *o)
{
    bool rec = o->kind == TSR_CONFERENCE_OUTPUT_RECORDING;
    return json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:I, s:b}", "id", o->sid, "state",
                     state_name(o->state), rec ? "file" : "url", o->shown, "reason", o->reason,
                     "by", o->by[0] ? o->by : NULL, "started_at", (json_int_t)o->started_at_s,
                     "active", !is_final(o->state));
}

static struct conf_output *find_recording(const struct tsr_conference *c)
{
    for (guint i = 0; c->outputs && i < c->outputs->len; i++) {
        struct conf_output *o = g_ptr_array_index(c->outputs, i);
        if (o->kind == TSR_CONFERENCE_OUTPUT_RECORDING)
            return o;
    }
    return NULL;
}

json_t *tsr_conference_outputs_json(const struct tsr_conference *c, json_t **streams)
{
    *streams = json_array();
    for (guint i = 0; c->outputs && i < c->outputs->len; i++) {
        struct conf_output *o = g_ptr_array_index(c->outputs, i);
        if (o->kind == TSR_CONFERENCE_OUTPUT_STREAM)
            json_array_append_new(*streams, output_json(o));
    }
    struct conf_output *rec = find_recording(c);
    return rec ? output_json(rec) : json_null();
}

void tsr_conference_outputs_free(struct tsr_conference *c)
{
    if (c->outputs)
        g_ptr_array_free(c->outputs, TRUE);
    c->outputs = NULL;
}

bool tsr_conference_recording(const struct tsr_conference *c)
{
    return find_recording(c) != NULL;
}

size_t tsr_conference_n_streams(const struct tsr_conference *c)
{
    size_t n = 0;
    for (guint i = 0; c->outputs && i < c->outputs->len; i++)
        n += ((struct conf_output *)g_ptr_array_index(c->outputs, i))->kind ==
             TSR_CONFERENCE_OUTPUT_STREAM;
    return n;
}

char *tsr_conference_redact_url(const char *url)
{
    const char *scheme_end = strstr(url, "://");
    const char *host = scheme_end ? scheme_end + 3 : url;
    const char *first_slash = strchr(host, '/');
    const char *last_slash = strrchr(host, '/');
    /* rtmp://host/app/KEY: the key goes; rtmp://host/app keeps its app name. */
    if (!first_slash || last_slash == first_slash || last_slash[1] == '\0')
        return g_strdup(url);
    return g_strdup_printf("%.*s/***", (int)(last_slash - url), url);
}

static void emit(struct tsr_conference *c, const struct conf_output *o)
{
    tsr_conference_emit(c,
                        o->kind == TSR_CONFERENCE_OUTPUT_RECORDING ? TSR_CONFERENCE_EVENT_RECORDING
                                                                    : TSR_CONFERENCE_EVENT_STREAM,
                        o->by[0] ? o->by : NULL, output_json(o));
}

/* Lists the output and asks media to start it; on refusal nothing is left. */
static int output_start(struct tsr_conference *c, struct tsr_participant *actor,
                        enum tsr_conference_output_kind kind, char *target, char *shown,
                        struct conf_output **out, char **err_text)
{
    const struct tsr_conference_media_ops *media = c->reg->opts.media;
    if (!media || !media->start_output) {
        g_free(target);
        g_free(shown);
        return TSR_ERR_UNSUPPORTED;
    }
    struct conf_output *o = g_new0(struct conf_output, 1);
    o->id = ++c->reg->next_output_id;
    g_snprintf(o->sid, sizeof o->sid, "%s-%u",
               kind == TSR_CONFERENCE_OUTPUT_RECORDING ? "rec" : "stream", o->id);
    o->kind = kind;
    o->target = target;
    o->shown = shown;
    o->started_at_s = g_get_real_time() / G_USEC_PER_SEC;
    if (actor)
        g_strlcpy(o->by, tsr_participant_id(actor), sizeof o->by);
    int rc = media->start_output(c->reg->opts.media_user, c, o->id, kind, target, err_text);
    if (rc) {
        output_free(o);
        return rc;
    }
    if (!c->outputs)
        c->outputs = g_ptr_array_new_with_free_func(output_free);
    g_ptr_array_add(c->outputs, o);
    TSR_LOG(TSR_LOG_INFO, c->def.alias, "%s %s starting: %s (by %s)",
            kind == TSR_CONFERENCE_OUTPUT_RECORDING ? "recording" : "stream", o->sid, o->shown,
            o->by[0] ? o->by : "the server");
    emit(c, o);
    *out = o;
    return 0;
}

/* <dir>/<alias>-<UTC start>.mkv; a second recording in the same second gets -2, -3 … */
static char *recording_path(const struct tsr_conference *c)
{
    GDateTime *now = g_date_time_new_now_utc();
    char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%SZ");
    g_date_time_unref(now);
    char *path = NULL;
    for (int n = 1; n < 100; n++) {
        char *name = n == 1 ? g_strdup_printf("%s-%s.mkv", c->def.alias, stamp)
                            : g_strdup_printf("%s-%s-%d.mkv", c->def.alias, stamp, n);
        g_free(path);
        path = g_build_filename(c->reg->recording_dir, name, NULL);
        g_free(name);
        if (!g_file_test(path, G_FILE_TEST_EXISTS))
            break;
    }
    g_free(stamp);
    return path;
}

int tsr_conference_start_recording(struct tsr_conference *c, struct tsr_participant *actor,
                                   char **err_text)
{
    if (actor && (tsr_participant_role(actor) != TSR_ROLE_HOST ||
                  tsr_participant_conference(actor) != c))
        return TSR_ERR_AUTH;
    if (find_recording(c))
        return TSR_ERR_STATE;
    if (!c->reg->recording_dir[0])
        return TSR_ERR_UNSUPPORTED;
    char *path = recording_path(c);
    struct conf_output *o = NULL;
    return output_start(c, actor, TSR_CONFERENCE_OUTPUT_RECORDING, path, g_path_get_basename(path),
                        &o, err_text);
}

static int output_stop(struct tsr_participant *actor, struct conf_output *o)
{
    struct tsr_conference *c = tsr_participant_conference(actor);
    if (tsr_participant_role(actor) != TSR_ROLE_HOST)
        return TSR_ERR_AUTH;
    if (!o)
        return TSR_ERR_NOT_FOUND;
    TSR_LOG(TSR_LOG_INFO, c->def.alias, "%s stopping (by %s)", o->sid, tsr_participant_id(actor));
    if (c->reg->opts.media->stop_output)
        c->reg->opts.media->stop_output(c->reg->opts.media_user, c, o->id);
    return 0;
}

int tsr_conference_stop_recording(struct tsr_participant *actor)
{
    struct conf_output *o = find_recording(tsr_participant_conference(actor));
    int rc = output_stop(actor, o);
    return rc == TSR_ERR_NOT_FOUND ? TSR_ERR_STATE : rc;
}

static bool url_valid(const char *url)
{
    size_t len = url ? strlen(url) : 0;
    if (len == 0 || len > TSR_CONFERENCE_URL_MAX ||
        !(g_str_has_prefix(url, "rtmp://") || g_str_has_prefix(url, "rtmps://")))
        return false;
    for (const char *p = url; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    const char *host = strstr(url, "://") + 3;
    return *host && *host != '/';
}

int tsr_conference_add_stream(struct tsr_participant *actor, const char *url, const char **out_id,
                              char **err_text)
{
    struct tsr_conference *c = tsr_participant_conference(actor);
    if (tsr_participant_role(actor) != TSR_ROLE_HOST)
        return TSR_ERR_AUTH;
    if (!url_valid(url))
        return TSR_ERR_INVALID;
    if (tsr_conference_n_streams(c) >= TSR_CONFERENCE_STREAMS_MAX)
        return TSR_ERR_FULL;
    struct conf_output *o = NULL;
    int rc = output_start(c, actor, TSR_CONFERENCE_OUTPUT_STREAM, g_strdup(url),
                          tsr_conference_redact_url(url), &o, err_text);
    if (rc == 0)
        *out_id = o->sid;
    return rc;
}

int tsr_conference_remove_stream(struct tsr_participant *actor, const char *stream_id)
{
    struct tsr_conference *c = tsr_participant_conference(actor);
    struct conf_output *found = NULL;
    for (guint i = 0; c->outputs && i < c->outputs->len && !found; i++) {
        struct conf_output *o = g_ptr_array_index(c->outputs, i);
        if (o->kind == TSR_CONFERENCE_OUTPUT_STREAM && strcmp(o->sid, stream_id) == 0)
            found = o;
    }
    return output_stop(actor, found);
}

/* ---- from media threads ---- */

struct state_post {
    struct tsr_conference_link *link;
    char *alias;
    uint32_t id;
    enum tsr_conference_output_state state;
    char *detail;
};

static void state_post_free(gpointer data)
{
    struct state_post *sp = data;
    tsr_conference_link_unref(&sp->link);
    g_free(sp->alias);
    g_free(sp->detail);
    g_free(sp);
}

static void apply_state(struct tsr_conference *c, struct conf_output *o,
                        enum tsr_conference_output_state state, const char *detail)
{
    if (o->state == state && g_strcmp0(o->reason, detail) == 0)
        return;
    o->state = state;
    g_free(o->reason);
    o->reason = g_strdup(detail);
    if (state == TSR_CONFERENCE_OUTPUT_FAILED)
        TSR_LOG(TSR_LOG_WARN, c->def.alias, "%s %s failed: %s; the conference goes on", o->sid,
                o->shown, detail ? detail : "unknown cause");
    emit(c, o);
    if (is_final(state))
        g_ptr_array_remove(c->outputs, o);
}

static gboolean state_apply(gpointer data)
{
    struct state_post *sp = data;
    struct tsr_conference *c =
        sp->link->reg ? tsr_conference_registry_find(sp->link->reg, sp->alias) : NULL;
    for (guint i = 0; c && c->outputs && i < c->outputs->len; i++) {
        struct conf_output *o = g_ptr_array_index(c->outputs, i);
        if (o->id == sp->id) {
            apply_state(c, o, sp->state, sp->detail);
            break;
        }
    }
    return G_SOURCE_REMOVE;
}

void tsr_conference_link_post_output_state(struct tsr_conference_link *link, const char *alias,
                                           uint32_t output_id,
                                           enum tsr_conference_output_state state,
                                           const char *detail)
{
    struct state_post *sp = g_new0(struct state_post, 1);
    g_atomic_ref_count_inc(&link->ref);
    sp->link = link;
    sp->alias = g_strdup(alias);
    sp->id = output_id;
    sp->state = state;
    sp->detail = g_strdup(detail);
    tsr_loop_post(link->context, state_apply, sp, state_post_free);
}

void tsr_conference_post_output_state(struct tsr_conference_registry *reg, const char *alias,
                                      uint32_t output_id, enum tsr_conference_output_state state,
                                      const char *detail)
{
    tsr_conference_link_post_output_state(reg->link, alias, output_id, state, detail);
}
