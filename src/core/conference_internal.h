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
/* conference_pins.c: has `address` had too many wrong PINs for `alias` lately;
 * count one more. address may be NULL (unknown: one shared slot). */
bool tsr_conference_pin_throttled(struct tsr_conference_registry *reg, const char *alias,
                                  const char *address);
void tsr_conference_pin_failed(struct tsr_conference_registry *reg, const char *alias,
                               const char *address);

/* Outlives the registry so that posts from media threads (queued, or made by a
 * thread that outlives the registry) find reg == NULL and do nothing. Refcounted;
 * context is fixed at creation (posts read it from any thread); reg is read and
 * written only on the API loop. */
struct tsr_conference_link {
    gatomicrefcount ref;
    GMainContext *context; /* ref held */
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
    struct tsr_conference_link *link;
    GQueue calls;           /* struct tsr_conference_call*, in flight (conference_call.c) */
    size_t n_media_pending; /* joins with an offer and attaches in flight (capacity) */
    struct tsr_ice_server *ice_servers; /* owned, n_ice_servers long */
    size_t n_ice_servers;
    char *recording_dir; /* "" = recording disabled */
    const struct tsr_conference_dialler *dialler; /* borrowed; NULL: dial-out off */
    void *dialler_user;
    uint32_t next_output_id;
    bool freeing;
};

/* A recording or stream of a conference (conference_outputs.c). */
struct conf_output {
    uint32_t id;  /* media's output id, unique in the registry's process */
    char sid[24]; /* "rec-N" / "stream-N": the API's id */
    enum tsr_conference_output_kind kind;
    enum tsr_conference_output_state state;
    char *target; /* file path or URL (with its stream key) */
    char *shown;  /* file name / URL without the key: what participants see */
    char *reason; /* of FAILED / RECONNECTING, or NULL */
    char by[37];  /* participant id of the host who started it; "" = the server */
    int64_t started_at_s;
};

/* Home thread: the API loop. Owned by the registry's conferences table. */
struct tsr_conference {
    struct tsr_conference_registry *reg;
    struct conf_def def; /* settings it was created with */
    char layout[16];
    bool locked;
    bool self_view;          /* everyone sees the common view, themselves included */
    uint64_t spotlight_seq;  /* the last spotlight order number handed out */
    GPtrArray *participants; /* struct tsr_participant*, owned, join order */
    GPtrArray *talkers;      /* char* ids, loudest first */
    int64_t empty_since_us;  /* valid while participants is empty */
    GPtrArray *outputs;      /* struct conf_output*, owned: the recording and streams */
    unsigned pending_joins;  /* joins in flight: they count against the limit and keep
                              * the conference from ending */
    bool ever_joined;        /* someone was admitted (a refused first join drops it silently) */
    struct tsr_participant *presenter; /* holds the floor (conference_present.c), or NULL */
};

/* Home thread: the API loop. Owned by its conference's participants array. */
struct tsr_participant {
    struct tsr_conference *conf;
    char id[37];    /* UUID */
    char token[65]; /* 32 random bytes, hex */
    /* The token before the last refresh: still accepted until its own expiry, so
     * requests in flight with it (and an EventSource's URL) keep working. */
    char prev_token[65];
    int64_t prev_expires_us;
    char display_name[TSR_CONFERENCE_NAME_MAX + 1];
    enum tsr_role role;
    bool muted;
    bool video_muted;
    bool has_media;
    bool media_pending;                    /* an attach_media is in flight */
    bool has_content;                      /* its screen-share transport is up */
    bool content_pending;                  /* a start_presentation is in flight */
    int64_t hand_raised_at_s;              /* unix seconds; 0 = hand down */
    int64_t spotlight_at_s;                /* unix seconds; 0 = not spotlighted */
    uint64_t spotlight_seq;                /* orders pins made in the same second */
    unsigned candidates;                   /* trickled remote candidates taken (capped) */
    int64_t joined_at_s;                   /* unix seconds */
    int64_t expires_us;                    /* the token's lapse; ignored while bound (see holder) */
    struct tsr_participant_holder *holder; /* ref held; NULL: a lease nobody holds */
    void *media_data;
};

int64_t tsr_conference_now_us(const struct tsr_conference_registry *reg);
/* True when p's token has lapsed at now_us (never while it is BOUND). */
bool tsr_participant_lapsed(const struct tsr_participant *p, int64_t now_us);
void tsr_conference_emit(struct tsr_conference *c, enum tsr_conference_event_type type,
                         const char *participant_id, json_t *data_stolen);
/* participant.c: participant_updated for p; `by` (may be NULL) named as its cause. */
void tsr_participant_emit_updated(struct tsr_participant *p, const struct tsr_participant *by);
/* conference_spotlight.c: p is leaving (already out of the participants array):
 * its spotlight goes, and media hears the new list. */
void tsr_conference_spotlight_left(struct tsr_participant *p);
/* The conference lost its last participant: start the empty timer or end it now. */
void tsr_conference_became_empty(struct tsr_conference *c);
/* conference_outputs.c */
json_t *tsr_conference_outputs_json(const struct tsr_conference *c, json_t **streams);
/* The conference is going: its outputs are forgotten (media stops them with it). */
void tsr_conference_outputs_free(struct tsr_conference *c);
/* Compares without an early exit so response time does not reveal a prefix. */
bool tsr_secret_equal(const char *a, const char *b);

/* Allocate a participant with fresh id and token (not yet in any table). */
int tsr_participant_new(struct tsr_participant **out, struct tsr_conference *c,
                        const char *display_name, enum tsr_role role);
void tsr_participant_free(struct tsr_participant **p);
/* Counts a refused join in tessera_join_refusals_total{reason}. */
void tsr_conference_count_refusal(enum tsr_conference_refusal r);
/* --- conference_call.c: calls that complete by callback --------------------- */
enum tsr_call_kind {
    TSR_CALL_JOIN = 0,
    TSR_CALL_ATTACH,
    TSR_CALL_CANDIDATE,
    TSR_CALL_RENEGOTIATE,
    TSR_CALL_SEND_OFFER,
    TSR_CALL_SEND_ANSWER,
    TSR_CALL_REOFFER,
    TSR_CALL_PRESENT,           /* start_presentation: the content transport */
    TSR_CALL_CONTENT_CANDIDATE, /* a candidate for it */
};

/* Where the media layer is with a call. */
enum tsr_call_media {
    TSR_CALL_MEDIA_NONE = 0, /* not handed to media (or media let go of it: detach) */
    TSR_CALL_MEDIA_ASKED,    /* media holds it and will finish it */
    TSR_CALL_MEDIA_DONE,     /* media finished it; res holds what it said */
};

/* One call in flight. Home thread: the API loop. Owned by reg->calls from its start
 * until it is delivered (done called) or cancelled, and never freed while media
 * holds it. */
struct tsr_conference_call {
    struct tsr_conference_registry *reg;
    enum tsr_call_kind kind;
    struct tsr_participant *p;   /* the participant; NULL once it left. JOIN: owned
                                  * by the call until admitted */
    struct tsr_conference *conf; /* JOIN: the conference it counts in */
    bool counts_media;           /* counted in reg->n_media_pending */
    bool with_offer;             /* JOIN: an offer was given */
    bool starting;               /* inside the function that started it */
    bool cancelled;
    enum tsr_call_media media;
    tsr_conference_done_fn done;
    void *user;
    struct tsr_conference_result res;
    GSource *deliver; /* delivery scheduled on the registry's context */
    GList link;       /* in reg->calls */
};

/* A new call in reg->calls; *handle (may be NULL) gets it. */
struct tsr_conference_call *tsr_call_new(struct tsr_conference_registry *reg,
                                         enum tsr_call_kind kind, struct tsr_participant *p,
                                         tsr_conference_done_fn done, void *user,
                                         struct tsr_conference_call **handle);
/* Finish without media: rc, refusal, err_text (taken); delivered later. */
void tsr_call_fail(struct tsr_conference_call *call, int rc, enum tsr_conference_refusal refusal,
                   char *err_text);
/* Mark the call handed to media; call right before the op, tsr_call_asked after. */
void tsr_call_asking(struct tsr_conference_call *call);
void tsr_call_asked(struct tsr_conference_call *call);
/* p's media went away (leave, detach): its calls end with TSR_ERR_STATE and `why`. */
void tsr_call_abandon_participant(struct tsr_conference_registry *reg, struct tsr_participant *p,
                                  const char *why);
/* p's content transport went away: only its calls end, as above. */
void tsr_call_abandon_content(struct tsr_conference_registry *reg, struct tsr_participant *p,
                              const char *why);
/* Registry teardown: joins undone, every other call delivered with TSR_ERR_STATE now. */
void tsr_call_undo_joins(struct tsr_conference_registry *reg);
void tsr_call_finish_all(struct tsr_conference_registry *reg);

/* conference.c: a join whose media answered (or that was cancelled): admit or undo. */
void tsr_conference_join_finish(struct tsr_conference_call *call);
void tsr_conference_join_undo(struct tsr_conference_call *call);
/* participant.c: an attach whose media answered: has_media or the refusal. */
void tsr_participant_attach_finish(struct tsr_conference_call *call);
/* conference_present.c: a start_presentation whose media answered: the floor or
 * the refusal. */
void tsr_participant_present_finish(struct tsr_conference_call *call);
/* A present call cancelled or taken away at shutdown: its transport is closed. */
void tsr_participant_present_undo(struct tsr_conference_call *call);
/* p leaves or loses its media: its presentation ends with `reason`. */
void tsr_participant_presentation_gone(struct tsr_participant *p, const char *reason);
/* Maps a media failure code to the refusal of a join or attach. */
enum tsr_conference_refusal tsr_conference_media_refusal(int rc);

/* conference_capacity.c: NONE, or CAPACITY with *msg (g_free) when the server
 * cannot take one more participant with media (see the registry options). */
enum tsr_conference_refusal tsr_conference_capacity_check(struct tsr_conference_registry *reg,
                                                          char **msg);

#endif
