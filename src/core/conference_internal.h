/* Structures shared by conference.c and participant.c; private to src/core.
 * Home thread of everything here: the API loop. */
#ifndef TSR_CORE_CONFERENCE_INTERNAL_H
#define TSR_CORE_CONFERENCE_INTERNAL_H

#include <tessera/conference.h>

#include "event_bus.h"

/* A conference as defined in the conferences file. */
struct conf_def {
    char alias[TSR_CONFERENCE_ALIAS_MAX + 1];
    char name[TSR_CONFERENCE_NAME_MAX + 1];
    char host_pin[TSR_CONFERENCE_PIN_MAX + 1]; /* "" = none */
    char guest_pin[TSR_CONFERENCE_PIN_MAX + 1];
    char layout[16];
    int64_t max_participants;
    bool auto_record; /* recording starts with the conference */
};

/* Wrong PINs for one alias in the current window. */
struct pin_failures {
    int64_t window_start_us;
    int count;
};

/* Outlives the registry so that posts from media threads already queued when the
 * registry is freed find reg == NULL and do nothing. Refcounted; reg is read and
 * written only on the API loop. */
struct reg_anchor {
    gatomicrefcount ref;
    struct tsr_conference_registry *reg;
};

struct tsr_conference_registry {
    struct tsr_conference_registry_opts opts;
    char default_layout[16];
    GMainContext *context;    /* ref held */
    GHashTable *defs;         /* alias → struct conf_def* (owned) */
    GHashTable *conferences;  /* alias → struct tsr_conference* (owned) */
    GHashTable *participants; /* id → struct tsr_participant* (borrowed from conferences) */
    GHashTable *pin_failures; /* alias → struct pin_failures* (owned) */
    struct tsr_event_bus *bus;
    GSource *sweep_timer;
    struct reg_anchor *anchor;
    char *recording_dir; /* "" = recording disabled */
    uint32_t next_output_id;
    bool freeing;
};

/* A recording or stream of a conference (conference_outputs.c). */
struct conf_output {
    uint32_t id;   /* media's output id, unique in the registry's process */
    char sid[24];  /* "rec-N" / "stream-N": the API's id */
    enum tsr_conference_output_kind kind;
    enum tsr_conference_output_state state;
    char *target;  /* file path or URL (with its stream key) */
    char *shown;   /* file name / URL without the key: what participants see */
    char *reason;  /* of FAILED / RECONNECTING, or NULL */
    char by[37];   /* participant id of the host who started it; "" = the server */
    int64_t started_at_s;
};

/* Home thread: the API loop. Owned by the registry's conferences table. */
struct tsr_conference {
    struct tsr_conference_registry *reg;
    struct conf_def def; /* settings it was created with */
    char layout[16];
    bool locked;
    GPtrArray *participants; /* struct tsr_participant*, owned, join order */
    GPtrArray *talkers;      /* char* ids, loudest first */
    int64_t empty_since_us;  /* valid while participants is empty */
    GPtrArray *outputs;      /* struct conf_output*, owned: the recording and streams */
};

/* Home thread: the API loop. Owned by its conference's participants array. */
struct tsr_participant {
    struct tsr_conference *conf;
    char id[37];    /* UUID */
    char token[65]; /* 32 random bytes, hex */
    char display_name[TSR_CONFERENCE_NAME_MAX + 1];
    enum tsr_role role;
    bool muted;
    bool video_muted;
    bool has_media;
    int64_t hand_raised_at_s; /* unix seconds; 0 = hand down */
    int64_t joined_at_s;      /* unix seconds */
    int64_t expires_us;
    void *media_data;
};

int64_t tsr_conference_now_us(const struct tsr_conference_registry *reg);
void tsr_conference_emit(struct tsr_conference *c, enum tsr_conference_event_type type,
                         const char *participant_id, json_t *data_stolen);
/* The conference lost its last participant: start the empty timer or end it now. */
void tsr_conference_became_empty(struct tsr_conference *c);
void tsr_reg_anchor_unref(struct reg_anchor *a);
/* conference_outputs.c */
json_t *tsr_conference_outputs_json(const struct tsr_conference *c, json_t **streams);
/* The conference is going: its outputs are forgotten (media stops them with it). */
void tsr_conference_outputs_free(struct tsr_conference *c);
/* Allocate a participant with fresh id and token (not yet in any table). */
int tsr_participant_new(struct tsr_participant **out, struct tsr_conference *c,
                        const char *display_name, enum tsr_role role);
void tsr_participant_free(struct tsr_participant **p);
/* Counts a refused join in tessera_join_refusals_total{reason}. */
void tsr_conference_count_refusal(enum tsr_conference_refusal r);
/* conference_capacity.c: NONE, or CAPACITY with *msg (g_free) when the server
 * cannot take one more participant with media (see the registry options). */
enum tsr_conference_refusal tsr_conference_capacity_check(struct tsr_conference_registry *reg,
                                                          char **msg);

#endif
