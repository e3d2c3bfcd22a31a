/* Conferences and participants: who is in which room, with what role and state.
 *
 * A registry holds every live conference by alias. A conference is created on the
 * first join, either from a definition (loaded from the JSON file named by
 * [conferences] file, with PINs, layout and a participant limit) or ad hoc when
 * allow_adhoc is on. It is removed after it has been empty for empty_timeout_s;
 * a defined conference keeps its definition and comes back on the next join.
 *
 * PIN rules (the Pexip model): no PINs → everyone joins as host; a host PIN only →
 * the PIN is required and makes a host; host and guest PINs → the PIN entered
 * chooses the role. A guest PIN without a host PIN is rejected when loading.
 *
 * Media is not done here. The conference calls a table of media operations
 * (struct tsr_conference_media_ops) that the WebRTC/mixing layer implements; media
 * threads report back (talkers, ICE failure) with the tsr_conference_post_* calls,
 * which are the only functions here that may be called from any thread.
 *
 * Home thread: the API loop (the GMainContext given in the options). Every other
 * function must be called there. Events are delivered there, synchronously, from
 * inside the call that caused them. Nothing here waits for another thread: what
 * needs a net loop (joins with an offer, offers, answers, candidates) is a call
 * that completes by callback (see "asynchronous calls" below), so one slow join
 * never stalls the other requests. */
#ifndef TESSERA_CONFERENCE_H
#define TESSERA_CONFERENCE_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tessera/ice_servers.h>

struct tsr_config;
struct tsr_conference_registry;
struct tsr_conference;
struct tsr_participant;

#define TSR_CONFERENCE_ALIAS_MAX 64 /* bytes; [A-Za-z0-9._-] */
#define TSR_CONFERENCE_NAME_MAX 128 /* bytes of UTF-8, display name too */
#define TSR_CONFERENCE_PIN_MAX 32   /* digits */
/* The alias and display-name rules, as fronts quote them in a refusal. */
#define TSR_CONFERENCE_ALIAS_RULE                                                                  \
    "a conference alias is 1-64 of A-Z a-z 0-9 . _ - and does not start with '.'"
#define TSR_CONFERENCE_DISPLAY_NAME_RULE                                                           \
    "a display name is 1-128 bytes of printable UTF-8, not only blanks or zero-width "             \
    "characters, without direction overrides"

/* Purpose: the one alias rule of every front: 1..TSR_CONFERENCE_ALIAS_MAX bytes of
 * [A-Za-z0-9._-], not starting with '.'. NULL is invalid. Pure; thread: any. */
bool tsr_conference_alias_valid(const char *alias);
/* Purpose: whether ch may appear in an alias at all (fronts that map foreign ids
 * onto aliases use it to tell an alias-shaped id from one to hash). */
bool tsr_conference_alias_char(char ch);
/* Purpose: the one display-name rule: 1..TSR_CONFERENCE_NAME_MAX bytes of valid
 * UTF-8, no control characters, at least one visible character. Pure. */
bool tsr_conference_display_name_valid(const char *name);

/* Wrong PINs allowed per conference per window before joins needing a PIN are
 * refused until the window ends: a 4-digit PIN would otherwise fall to 10,000
 * requests in seconds. Right PINs reset nothing, so guessing cannot be mixed in. */
#define TSR_CONFERENCE_PIN_TRIES 10
#define TSR_CONFERENCE_PIN_WINDOW_S 60

enum tsr_role {
    TSR_ROLE_GUEST = 0,
    TSR_ROLE_HOST = 1,
};

/* Why a join was refused; each maps to one HTTP status and error code in the API. */
enum tsr_conference_refusal {
    TSR_CONFERENCE_REFUSAL_NONE = 0,
    TSR_CONFERENCE_REFUSAL_BAD_REQUEST, /* bad alias or display name */
    TSR_CONFERENCE_REFUSAL_NO_SUCH_CONFERENCE,
    TSR_CONFERENCE_REFUSAL_PIN_REQUIRED,
    TSR_CONFERENCE_REFUSAL_WRONG_PIN,
    TSR_CONFERENCE_REFUSAL_FULL,
    TSR_CONFERENCE_REFUSAL_LOCKED,
    TSR_CONFERENCE_REFUSAL_BAD_SDP,           /* media attach said TSR_ERR_INVALID */
    TSR_CONFERENCE_REFUSAL_NO_COMMON_CODEC,   /* media attach said TSR_ERR_UNSUPPORTED */
    TSR_CONFERENCE_REFUSAL_MEDIA_UNAVAILABLE, /* an offer came but no media ops are wired */
    TSR_CONFERENCE_REFUSAL_MEDIA_FAILED,      /* media attach failed otherwise */
    TSR_CONFERENCE_REFUSAL_TOO_MANY_ATTEMPTS, /* PIN guessing: see TSR_CONFERENCE_PIN_TRIES */
    TSR_CONFERENCE_REFUSAL_CAPACITY,          /* the server cannot carry one more participant with
                                               * media: the configured cap, or the measured load */
};
#define TSR_CONFERENCE_REFUSAL_COUNT (TSR_CONFERENCE_REFUSAL_CAPACITY + 1)

/* Why a participant left; carried in the participant_left event. */
enum tsr_leave_reason {
    TSR_LEAVE_REQUESTED = 0, /* the participant hung up */
    TSR_LEAVE_KICKED,
    TSR_LEAVE_TOKEN_EXPIRED,
    TSR_LEAVE_MEDIA_FAILED,     /* ICE consent lost, DTLS failed … (posted by media) */
    TSR_LEAVE_SHUTDOWN,         /* the registry is being freed */
    TSR_LEAVE_CONFERENCE_ENDED, /* a host ended the conference for everyone */
};

enum tsr_conference_event_type {
    TSR_CONFERENCE_EVENT_PARTICIPANT_JOINED = 0,
    TSR_CONFERENCE_EVENT_PARTICIPANT_LEFT,
    TSR_CONFERENCE_EVENT_PARTICIPANT_UPDATED, /* mute, video mute, hand, spotlight, media */
    TSR_CONFERENCE_EVENT_LAYOUT,
    TSR_CONFERENCE_EVENT_CONFERENCE_UPDATED, /* lock or self-view changed */
    TSR_CONFERENCE_EVENT_TALKERS,
    TSR_CONFERENCE_EVENT_ENDED,
    TSR_CONFERENCE_EVENT_MESSAGE,   /* chat: {"from","display_name","type","payload","to"} */
    TSR_CONFERENCE_EVENT_RECORDING, /* {"id","state","file","reason","by","active"} */
    TSR_CONFERENCE_EVENT_STREAM,    /* {"id","state","url","reason","by","active"} */
    /* A participant took the floor: {"participant_id","display_name"}. */
    TSR_CONFERENCE_EVENT_PRESENTATION_START,
    /* It ended: {"participant_id","reason"} with reason "stopped", "taken_over" (a
     * presentation_start of the new presenter follows), "left" or "media_gone". */
    TSR_CONFERENCE_EVENT_PRESENTATION_STOP,
    /* A call a host dialled out changed state (see "dial-out"):
     * {"participant_id","uri","state","status","reason","by"}. */
    TSR_CONFERENCE_EVENT_DIAL,
};

/* A recording (the shared view and the full mix into a file) or a live stream
 * (pushed to an RTMP/RTMPS URL) of a conference: an "output". */
enum tsr_conference_output_kind {
    TSR_CONFERENCE_OUTPUT_RECORDING = 0,
    TSR_CONFERENCE_OUTPUT_STREAM,
};

/* What media reports about an output; STOPPED and FAILED are final. */
enum tsr_conference_output_state {
    TSR_CONFERENCE_OUTPUT_STARTING = 0, /* opening the file / connecting */
    TSR_CONFERENCE_OUTPUT_ACTIVE,       /* writing / sending */
    TSR_CONFERENCE_OUTPUT_RECONNECTING, /* a stream lost its server and tries again */
    TSR_CONFERENCE_OUTPUT_STOPPED,      /* stopped on request */
    TSR_CONFERENCE_OUTPUT_FAILED,       /* ended by a fault (disk full, unreachable …) */
};

/* One event. Everything is borrowed for the duration of the callback only.
 * `data` is the JSON payload the API sends as is (participant object, {"layout"},
 * {"talkers":[ids]}, {"id","reason"} …). */
struct tsr_conference_event {
    enum tsr_conference_event_type type;
    const char *alias;
    const char *participant_id; /* the participant concerned, or NULL */
    json_t *data;
};

/* Called on the API loop, synchronously. It may unsubscribe itself (or others),
 * but must not free the registry. */
typedef void (*tsr_conference_event_fn)(const struct tsr_conference_event *ev, void *user);

/* --- asynchronous calls --------------------------------------------------------
 * Joins with an offer, offers, answers and candidates run on the participant's net
 * loop, so the API loop never waits for them: the function starts the work and
 * returns, and `done` reports the outcome later on the API loop. A call is one
 * struct tsr_conference_call; the same object travels down to the media layer,
 * which finishes it with tsr_conference_call_done(). */
struct tsr_conference_call;

/* What a call produced. Borrowed for the callback; the callback may take sdp or
 * err_text (set the member to NULL) and must then g_free it. */
struct tsr_conference_result {
    int rc;                              /* 0 or a negative code, as each call documents */
    enum tsr_conference_refusal refusal; /* joins and attach_media: why refused, else NONE */
    struct tsr_participant *participant; /* join: the admitted participant (rc 0), else NULL */
    char *sdp;                           /* the answer or offer (rc 0), or NULL */
    char *err_text;                      /* a human message on failure; may be NULL */
};

/* Called exactly once per call, on the API loop, never from inside the function
 * that started it (so a caller may finish its own bookkeeping first), unless the
 * call was cancelled before. The call handle is freed when this returns. It may do
 * anything a handler may (leave, join, …) except free the registry. */
typedef void (*tsr_conference_done_fn)(void *user, struct tsr_conference_result *res);

/* Purpose: the caller no longer wants the outcome (its request or socket is gone):
 * done is not called. A join that has not completed is undone (nothing is left in
 * the conference); media attached by a cancelled attach_media is detached again;
 * a candidate, offer or answer already handed to media still takes effect. Accepts
 * NULL and *call NULL; NULLs *call. Thread: the API loop. */
void tsr_conference_call_cancel(struct tsr_conference_call **call);

/* Purpose: the media layer finishes a call it was given: rc 0 and, where the op
 * has one, `sdp` (the answer or offer), or a negative code and maybe `err_text`.
 * Takes ownership of sdp and err_text (either may be NULL). Must be called exactly
 * once per call handed to an op, on the API loop, before or after the op returns —
 * except after detach(p): from detach on, the calls of p belong to the conference
 * again and media must never finish them. Thread: the API loop. */
void tsr_conference_call_done(struct tsr_conference_call *call, int rc, char *sdp, char *err_text);

/* The seam to the media layer. Every function is called on the API loop and must
 * not block: create state, post work to the net/mix threads, return. The SDP
 * operations get a call and finish it with tsr_conference_call_done() once their
 * net loop has answered; their string arguments are borrowed for the op call only.
 * Any member may be NULL except attach and detach. `user` is media_user from the
 * options. */
struct tsr_conference_media_ops {
    /* Set up media for p from the browser's SDP offer; finish `call` with the SDP
     * answer, or with TSR_ERR_INVALID (bad SDP), TSR_ERR_UNSUPPORTED (no common
     * codec), another negative code for other failures, and a human message. On
     * failure media has undone what it set up and detach is not called. */
    void (*attach)(void *user, struct tsr_participant *p, const char *offer_sdp,
                   struct tsr_conference_call *call);
    /* Tear down p's media, or what an attach still in flight has set up; p is freed
     * (or stays roster-only) right after this returns. Calls of p still in flight
     * are abandoned: media must not finish them (see tsr_conference_call_done). */
    void (*detach)(void *user, struct tsr_participant *p);
    /* A trickled remote candidate ("candidate:…" line, or "" for end-of-candidates).
     * Finishes with 0 or TSR_ERR_INVALID. */
    void (*add_candidate)(void *user, struct tsr_participant *p, const char *candidate,
                          const char *mid, int mline_index, struct tsr_conference_call *call);
    /* A new offer from the browser on p's existing transport (renegotiation, ICE
     * restart). Same contract as attach; on failure the media keeps running with
     * what was negotiated before. May be NULL (renegotiation unsupported). */
    void (*renegotiate)(void *user, struct tsr_participant *p, const char *offer_sdp,
                        struct tsr_conference_call *call);
    void (*set_layout)(void *user, struct tsr_conference *c, const char *layout);
    void (*set_muted)(void *user, struct tsr_participant *p, bool audio_muted, bool video_muted);
    /* The conference is being removed (after its last participant was detached). */
    void (*conference_ended)(void *user, struct tsr_conference *c);
    /* Set up media for p, which joined without an offer (a SIP INVITE without SDP,
     * RFC 3261 §13.2.1): finish `call` with our own plain RTP offer (real ports,
     * every codec we take); media starts when apply_send_answer brings the answer.
     * Failures as for attach. May be NULL: such joins are refused. */
    void (*attach_offer)(void *user, struct tsr_participant *p, struct tsr_conference_call *call);
    /* Server-initiated offer for a participant whose own m-lines cannot carry the
     * mix back (it offered them send-only, as the inLive JS SDK does): an offer that
     * keeps every m-line of the current session (same mids, rejected ones at port 0)
     * and adds a sendonly audio and/or video m-line carrying the mix (one msid
     * stream). Finishes with the offer, TSR_ERR_AGAIN (media not connected yet: ask
     * again later), TSR_ERR_NOT_FOUND (nothing to add: p already receives the mix on
     * its own m-lines), TSR_ERR_STATE (an offer is outstanding or lines were already
     * added), or another negative code. May be NULL (no server offers). */
    void (*create_send_offer)(void *user, struct tsr_participant *p,
                              struct tsr_conference_call *call);
    /* The participant's answer to the last create_send_offer: from now on the mix
     * goes out on the added m-lines. Finishes with 0, TSR_ERR_STATE (no offer
     * outstanding), TSR_ERR_INVALID (bad SDP or the added lines were rejected; the
     * offer is dropped and media continues as before). May be NULL.
     * Also the answer to attach_offer's offer: media starts from it; TSR_ERR_INVALID
     * (malformed answer) or TSR_ERR_UNSUPPORTED (it picks nothing we offered) leave
     * the participant without media (the front ends the call). */
    void (*apply_send_answer)(void *user, struct tsr_participant *p, const char *answer_sdp,
                              struct tsr_conference_call *call);
    /* A re-offer on p's running session (same ICE credentials and fingerprint, same
     * m-lines, maybe more appended), answered from the current local description so
     * that lines added by a server offer keep the mix. Finishes with the answer,
     * TSR_ERR_UNSUPPORTED (ICE restart or changed m-lines), TSR_ERR_INVALID,
     * TSR_ERR_STATE (a server offer is outstanding). May be NULL. */
    void (*answer_reoffer)(void *user, struct tsr_participant *p, const char *offer_sdp,
                           struct tsr_conference_call *call);
    /* The measured load that admission control compares with max_load: the
     * smoothed share of the usable CPU cores busy composing and encoding video
     * (1.0 = all of them). Called before every join with media, so it must be cheap
     * and never wait (an atomic read). May be NULL: no measured limit. */
    double (*load)(void *user);
    /* Start output `output_id` of c: a recording into the file `target` or a push to
     * the URL `target`. Returns at once (opening and connecting happen on another
     * thread) with 0, and the states follow through tsr_conference_post_output_state;
     * or a negative code with *err_text (g_free; may stay NULL) when it cannot even
     * start (no mixer). May be NULL: outputs unsupported. */
    int (*start_output)(void *user, struct tsr_conference *c, uint32_t output_id,
                        enum tsr_conference_output_kind kind, const char *target, char **err_text);
    /* Stop output `output_id` of c; returns at once, STOPPED follows. May be NULL. */
    void (*stop_output)(void *user, struct tsr_conference *c, uint32_t output_id);
    /* The spotlighted participants of c changed: `spotlit` (borrowed for the call)
     * lists them earliest first; they lead the layout's speaker order, so they hold
     * the large tiles. Spotlighted participants without media may be listed; a
     * media layer that attaches one later asks tsr_conference_spotlight. May be NULL. */
    void (*set_spotlight)(void *user, struct tsr_conference *c,
                          struct tsr_participant *const *spotlit, size_t n);
    /* p's endpoint asked for a keyframe of what it receives outside RTCP (a SIP
     * INFO picture_fast_update): as a PLI would. May be NULL. */
    void (*request_keyframe)(void *user, struct tsr_participant *p);
    /* Self-view on or off for c (tsr_conference_self_view). May be NULL. */
    void (*set_self_view)(void *user, struct tsr_conference *c, bool on);
    /* Presentation: a second transport of p carrying its screen share (one video
     * m-line), made from the browser's offer; the mix shows it as the content of
     * the presentation layout. Same contract as attach; it replaces p's previous
     * content transport. May be NULL (no presentation media). */
    void (*attach_content)(void *user, struct tsr_participant *p, const char *offer_sdp,
                           struct tsr_conference_call *call);
    /* Close p's content transport (or the attach_content in flight) and take it
     * out of the mix; its calls in flight are abandoned as with detach. detach(p)
     * also closes it. */
    void (*detach_content)(void *user, struct tsr_participant *p);
    /* A trickled candidate for the content transport; as add_candidate. */
    void (*add_content_candidate)(void *user, struct tsr_participant *p, const char *candidate,
                                  struct tsr_conference_call *call);
    /* p took (true) or lost (false) the floor. A participant that presents on its
     * own call (Pexip's slides m-line) rather than on a content transport is shown
     * from here on while its call sends slides. May be NULL. */
    void (*floor_changed)(void *user, struct tsr_participant *p, bool presenting);
};

/* Clock for tests; NULL means g_get_monotonic_time(). */
typedef int64_t (*tsr_conference_clock_fn)(void *user);

struct tsr_conference_registry_opts {
    bool allow_adhoc;
    int64_t empty_timeout_s;          /* 0: removed as soon as the last one leaves */
    int64_t token_ttl_s;              /* a token lapses this long after its last refresh */
    int64_t default_max_participants; /* for ad-hoc conferences */
    const char *default_layout;       /* NULL: "grid" */
    /* Server-wide admission control for joins with media (all conferences):
     * refused with TSR_CONFERENCE_REFUSAL_CAPACITY when this many participants
     * already have media (0: no cap), or when media->load() is above max_load
     * (0: off). A new participant adds decoding and often a view to encode, so the
     * join is refused before the frame rate of everyone already in suffers. */
    int64_t max_media_participants;
    double max_load;
    /* Where recordings go ([recording] dir; copied); "" or NULL: recording disabled. */
    const char *recording_dir;
    /* ICE servers for clients ([webrtc] turn_servers text, see ice_servers.h);
     * NULL/"": none. Parsed and copied by _new. */
    const char *ice_servers;
    const struct tsr_conference_media_ops *media; /* NULL: signalling-only server */
    void *media_user;
    tsr_conference_clock_fn clock;
    void *clock_user;
    GMainContext *context; /* NULL: the thread-default context */
};

/* Purpose: fill *opts from the [conferences] section of cfg, the capacity keys
 * of [mixer] (max_participants, max_load_percent) and [recording] dir; media and
 * clock NULL. opts borrows strings of cfg. */
void tsr_conference_registry_opts_from_config(struct tsr_conference_registry_opts *opts,
                                              const struct tsr_config *cfg);

/* Purpose: create a registry; starts a 1 s sweep timer on opts->context that lapses
 * tokens and removes empty conferences. opts is copied (media ops table and users
 * are borrowed for the registry's life). Returns 0, -EINVAL (bad default layout),
 * TSR_ERR_CONFIG (bad ice_servers; logged).
 * Thread: the API loop. */
int tsr_conference_registry_new(struct tsr_conference_registry **out,
                                const struct tsr_conference_registry_opts *opts);

/* Purpose: every participant leaves (TSR_LEAVE_SHUTDOWN, events emitted), every
 * conference ends, then free. Calls still in flight are finished first, from
 * inside this function: joins are undone and every done gets TSR_ERR_STATE
 * ("shutting down"). Accepts NULL; NULLs *p. */
void tsr_conference_registry_free(struct tsr_conference_registry **p);

/* Purpose: load conference definitions from JSON text:
 *   {"conferences":[{"alias":"board","name":"Board","host_pin":"1234",
 *                    "guest_pin":"5678","layout":"speaker","max_participants":8,
 *                    "auto_record":true}]}
 * (auto_record: a recording starts with the conference, see tsr_conference_start_recording).
 * All-or-nothing: on failure nothing is defined, returns TSR_ERR_CONFIG and *err
 * is a newly allocated message naming the entry (g_free). Redefining an alias
 * replaces its definition (a live conference keeps running with its old settings).
 * `name` is used in messages only. */
int tsr_conference_registry_load_json(struct tsr_conference_registry *reg, const char *text,
                                      size_t len, const char *name, char **err);
/* Purpose: the same for a file; an unreadable file is TSR_ERR_CONFIG naming it. */
int tsr_conference_registry_load_file(struct tsr_conference_registry *reg, const char *path,
                                      char **err);

/* One conference definition; strings borrowed for the call. NULL name: the alias;
 * NULL PINs: none; NULL layout: the registry's default; max_participants 0: the
 * registry's default (ad hoc limit); auto_record: record from the conference's start
 * (needs [recording] dir). */
struct tsr_conference_definition {
    const char *alias;
    const char *name;
    const char *host_pin;
    const char *guest_pin;
    const char *layout;
    int64_t max_participants;
    bool auto_record; /* start a recording when the conference starts */
};
/* Purpose: define (or redefine) one conference, with the checks of load_json: a
 * front that creates rooms (inLive) makes its alias joinable with ad hoc
 * conferences off. Returns 0, or TSR_ERR_CONFIG with *err (g_free) saying why;
 * nothing changes on failure. A live conference keeps its settings. */
int tsr_conference_registry_define(struct tsr_conference_registry *reg,
                                   const struct tsr_conference_definition *def, char **err);
/* Purpose: forget the definition of `alias` (a live conference keeps running until
 * it ends); unknown aliases are ignored. */
void tsr_conference_registry_undefine(struct tsr_conference_registry *reg, const char *alias);

/* Purpose: lapse expired tokens and remove conferences empty for long enough.
 * Called by the registry's timer; tests call it after moving their clock. */
void tsr_conference_registry_sweep(struct tsr_conference_registry *reg);

/* Purpose: true when media ops are wired (joins with an SDP offer can succeed). */
bool tsr_conference_registry_has_media(const struct tsr_conference_registry *reg);
bool tsr_conference_registry_allow_adhoc(const struct tsr_conference_registry *reg);
/* Purpose: the ICE servers fronts hand to clients (borrowed, valid for the
 * registry's life; NULL when none); *n gets the count. */
const struct tsr_ice_server *
tsr_conference_registry_ice_servers(const struct tsr_conference_registry *reg, size_t *n);
size_t tsr_conference_registry_n_conferences(const struct tsr_conference_registry *reg);
size_t tsr_conference_registry_n_participants(const struct tsr_conference_registry *reg);
/* Purpose: participants that have media, in every conference (what the cap counts). */
size_t tsr_conference_registry_n_with_media(const struct tsr_conference_registry *reg);

/* Seconds a client refused for capacity is asked to wait before trying again (the
 * HTTP fronts' Retry-After): about how long the smoothed video load takes to show a
 * leave, and long enough that retrying clients do not pile joins onto a full server. */
#define TSR_CONFERENCE_CAPACITY_RETRY_AFTER_S 10

/* Admission decision for one more participant with media. */
enum tsr_conference_capacity {
    TSR_CONFERENCE_CAPACITY_ADMIT = 0,
    TSR_CONFERENCE_CAPACITY_CAP,  /* n_with_media has reached max_media_participants */
    TSR_CONFERENCE_CAPACITY_LOAD, /* the measured load is above max_load */
};
/* Purpose: the admission decision as a pure function: CAP when max_media > 0 and
 * n_with_media >= max_media; else LOAD when max_load > 0 and load > max_load (a
 * load that is not a number admits: unknown is not overloaded); else ADMIT.
 * Thread: any. */
enum tsr_conference_capacity tsr_conference_capacity_decide(size_t n_with_media, int64_t max_media,
                                                            double load, double max_load);

/* Purpose: the live conference `alias`, or NULL. Borrowed, valid until it ends. */
struct tsr_conference *tsr_conference_registry_find(struct tsr_conference_registry *reg,
                                                    const char *alias);

/* Purpose: true when `alias` is live or defined (a join could find it without ad hoc). */
bool tsr_conference_registry_knows(struct tsr_conference_registry *reg, const char *alias);

/* Purpose: whether joining `alias` needs a PIN (defined with a host PIN).
 * Returns 0 and *out, or TSR_ERR_NOT_FOUND when neither live nor defined. */
int tsr_conference_registry_pin_required(struct tsr_conference_registry *reg, const char *alias,
                                         bool *out);

/* Purpose: find participant `id` and check `token` (constant-time compare) and its
 * expiry. Returns 0 and *out (borrowed), TSR_ERR_NOT_FOUND (no such id) or
 * TSR_ERR_AUTH (wrong or lapsed token). */
int tsr_conference_registry_authenticate(struct tsr_conference_registry *reg, const char *id,
                                         const char *token, struct tsr_participant **out);

/* Purpose: participant `id` without checking anything (the target of a host
 * action), or NULL. Borrowed, valid until it leaves. */
struct tsr_participant *
tsr_conference_registry_find_participant(struct tsr_conference_registry *reg, const char *id);

/* Purpose: find whichever participant holds `token` (for streams authenticated by
 * token only). Same returns as authenticate, TSR_ERR_AUTH when no one holds it. */
int tsr_conference_registry_authenticate_token(struct tsr_conference_registry *reg,
                                               const char *token, struct tsr_participant **out);

/* Purpose: subscribe to the events of conference `alias` (NULL: all conferences).
 * The subscription outlives conferences ending and starting again. Returns 0 and
 * *out_id (never 0), or -ENOMEM. `user` is borrowed until unsubscribed. */
int tsr_conference_registry_subscribe(struct tsr_conference_registry *reg, const char *alias,
                                      tsr_conference_event_fn fn, void *user, uint64_t *out_id);
/* Purpose: drop a subscription; unknown ids are ignored. Safe inside a callback. */
void tsr_conference_registry_unsubscribe(struct tsr_conference_registry *reg, uint64_t id);

/* --- who holds a participant: the seam to the fronts ---------------------------
 * A front joins each participant with a holder (its session object) and says how
 * the participant stays alive. LEASE: by its token, which lapses token_ttl_s after
 * the last tsr_participant_refresh (the native and Pexip APIs, whose clients
 * refresh). BOUND: as long as the front's connection is (a WebSocket, a registered
 * inLive client); the token never lapses and the front makes the participant
 * leave when the connection goes. The core holds a reference to the holder from
 * the start of the join until the participant leaves (a join refused or undone on
 * the way lets it go without a word), and tells it the participant left, whatever
 * the reason (kick, media failure, lapse, end, shutdown). */
enum tsr_participant_liveness {
    TSR_PARTICIPANT_LEASE = 0,
    TSR_PARTICIPANT_BOUND,
};

struct tsr_participant_holder;

/* Called on the API loop. */
struct tsr_participant_holder_ops {
    void (*ref)(struct tsr_participant_holder *h);
    void (*unref)(struct tsr_participant_holder *h);
    /* p was admitted with this holder (before participant_joined is emitted and
     * the join's done runs); p is borrowed until left. May be NULL. */
    void (*joined)(struct tsr_participant_holder *h, struct tsr_participant *p);
    /* p has left (participant_left was emitted); p is readable during the call
     * only, and already out of every table. May be NULL. */
    void (*left)(struct tsr_participant_holder *h, struct tsr_participant *p,
                 enum tsr_leave_reason reason);
};

/* Embedded in the front's session object; ops is static. */
struct tsr_participant_holder {
    const struct tsr_participant_holder_ops *ops;
    enum tsr_participant_liveness liveness;
};

/* A join request; all strings borrowed. offer_sdp NULL: a roster-only participant
 * (signalling and events without media, e.g. a control panel). */
struct tsr_conference_join_request {
    const char *alias;
    const char *display_name;
    const char *pin;
    /* Where the request came from (IP address; behind a trusted proxy the address
     * it names): wrong PINs are limited per conference and address, so guessing
     * from one address never locks out another. NULL: unknown (one shared slot). */
    const char *client_address;
    const char *offer_sdp;
    /* offer_sdp NULL and media wanted at once: media makes the offer (attach_offer)
     * and done's `sdp` is that offer; the answer follows with
     * tsr_participant_apply_send_answer. */
    bool make_offer;
    /* No offer yet, but media follows at once (a Pexip request_token, whose app
     * calls next): the capacity check applies now, so the refusal comes before the
     * participant is listed. attach_media checks again. */
    bool media_expected;
    /* Who holds the participant (referenced from the start of the join, see
     * struct tsr_participant_holder); NULL: a token lease nobody is told about. */
    struct tsr_participant_holder *holder;
    /* A callee a host dialled (tsr_conference_dial) joins with the id and role the
     * dial gave it, without a PIN and into a locked conference too: the host let
     * it in. NULL for everyone else (a fresh id, the role from the PIN). */
    const struct tsr_conference_invitation *invitation;
};

/* Purpose: admit a participant: find or create the conference, check PIN, lock and
 * limit, server capacity (joins with media), attach media (on a net loop), emit
 * participant_joined. What can be checked at once is checked inside the call; the
 * participant is counted against the limits from then on but listed (and the event
 * emitted) only when it is admitted, right before `done`. done's result: rc 0,
 * `participant` (borrowed; the registry owns it until it leaves) and, when an
 * offer was given, `sdp` (the answer); or a negative code, `refusal` and
 * `err_text`, and nothing is created or left behind. req is borrowed for the call.
 * *call (may be NULL) gets the handle for tsr_conference_call_cancel. */
void tsr_conference_join(struct tsr_conference_registry *reg,
                         const struct tsr_conference_join_request *req, tsr_conference_done_fn done,
                         void *user, struct tsr_conference_call **call);

/* Purpose: the same admission for a join without an offer (req->offer_sdp NULL; a
 * roster-only participant, or one whose media follows with attach_media), done at
 * once because nothing waits for a net loop. Returns 0 and *out (borrowed), or a
 * negative code, *refusal and *err_text (g_free); an offer is refused with
 * TSR_ERR_INVALID (BAD_REQUEST): use tsr_conference_join. */
int tsr_conference_join_roster(struct tsr_conference_registry *reg,
                               const struct tsr_conference_join_request *req,
                               struct tsr_participant **out, enum tsr_conference_refusal *refusal,
                               char **err_text);

/* Purpose: the stable machine word for a refusal ("wrong_pin", "conference_full"). */
const char *tsr_conference_refusal_code(enum tsr_conference_refusal r);
const char *tsr_leave_reason_name(enum tsr_leave_reason r);
const char *tsr_conference_event_name(enum tsr_conference_event_type t);

/* Purpose: true when `layout` is a name or Pexip alias the layout module composes
 * (include/tessera/layout.h: grid, four, single, speaker, 1:21, 2:21, presentation;
 * ac, 4:0, 1:0, 1:7). Conferences store and report the canonical name. */
bool tsr_conference_layout_valid(const char *layout);
/* Purpose: the canonical name of a valid layout ("1:7" → "speaker"), else NULL. Static. */
const char *tsr_conference_layout_canonical(const char *layout);

/* --- conference state; all borrowed, valid until the conference ends ---------- */
const char *tsr_conference_alias(const struct tsr_conference *c);
const char *tsr_conference_name(const struct tsr_conference *c);
const char *tsr_conference_layout(const struct tsr_conference *c);
bool tsr_conference_locked(const struct tsr_conference *c);
size_t tsr_conference_n_participants(const struct tsr_conference *c);
/* Purpose: the participants in join order; *n set. Borrowed array, valid until the
 * next join or leave in this conference. */
struct tsr_participant *const *tsr_conference_participants(const struct tsr_conference *c,
                                                           size_t *n);
/* Purpose: the conference as JSON ({"alias","name","layout","locked","self_view",
 * "max_participants","recording","streams","participants":[…],"talkers":[…]});
 * with_roster false leaves out participants and talkers. Returns a new reference. */
json_t *tsr_conference_to_json(const struct tsr_conference *c, bool with_roster);

/* --- host actions; `actor` is the participant asking --------------------------
 * Each returns 0, TSR_ERR_AUTH when actor may not do it (not a host, or another
 * conference), TSR_ERR_INVALID for a bad value. A change that changes nothing
 * emits nothing. */
int tsr_conference_set_layout(struct tsr_participant *actor, const char *layout);
int tsr_conference_set_locked(struct tsr_participant *actor, bool locked);
/* Purpose: mute or unmute target's audio (video false) or video (video true). A
 * participant may do it to itself; a host may do it to anyone in its conference. */
/* Purpose: ask for a keyframe of the composite p receives (SIP INFO
 * picture_fast_update). Returns 0, or TSR_ERR_STATE when p has no media or the
 * media layer cannot (the request is then dropped). */
int tsr_participant_request_keyframe(struct tsr_participant *p);
int tsr_participant_set_muted(struct tsr_participant *actor, struct tsr_participant *target,
                              bool video, bool muted);
/* Purpose: a host removes target (frees it; TSR_LEAVE_KICKED). A host may not
 * kick itself (that is leave). */
int tsr_participant_kick(struct tsr_participant *actor, struct tsr_participant *target);
/* Purpose: raise (true) or lower target's hand. A participant may raise or lower its
 * own; a host may lower anyone's in its conference. Emits participant_updated. */
int tsr_participant_set_hand_raised(struct tsr_participant *actor, struct tsr_participant *target,
                                    bool raised);
/* Purpose: a host spotlights (pins) target onto the large tiles, or takes the
 * spotlight away (Pexip's spotlighton / spotlightoff). Several may be spotlighted;
 * the earliest pin comes first (the speaker layouts' large tile), talkers fill the
 * large tiles that pins leave free. The spotlight survives layout changes and media
 * renegotiation and goes when target leaves. Emits participant_updated with
 * "spotlight" (unix seconds of the pin, 0 = off). Returns 0, TSR_ERR_AUTH (actor
 * not a host, or target in another conference). */
int tsr_participant_set_spotlight(struct tsr_participant *actor, struct tsr_participant *target,
                                  bool on);
/* Purpose: when p was spotlighted (unix seconds, >= 1), 0 when it is not. */
int64_t tsr_participant_spotlight_s(const struct tsr_participant *p);
/* Purpose: c's spotlighted participants, earliest pin first: writes at most `cap`
 * to `out` (borrowed pointers, valid until they leave) and returns how many there
 * are in all. */
size_t tsr_conference_spotlight(const struct tsr_conference *c, struct tsr_participant **out,
                                size_t cap);
/* Purpose: a host turns self-view on or off for c. Off (the default, Pexip's model):
 * a participant shown in a large tile receives a picture without itself. On:
 * everyone receives the common picture, themselves included (and the mixer needs
 * no personal views). The conference state says "self_view"; a change emits
 * conference_updated. Returns 0 or TSR_ERR_AUTH. */
int tsr_conference_set_self_view(struct tsr_participant *actor, bool on);
bool tsr_conference_self_view(const struct tsr_conference *c);
/* Purpose: a host ends the conference for everyone: every participant (the host
 * too) leaves with TSR_LEAVE_CONFERENCE_ENDED. actor is dangling on return. */
int tsr_conference_end_for_all(struct tsr_participant *actor);

/* --- recording and streaming (host actions; conference_outputs.c) -------------
 * The conference state (tsr_conference_to_json) lists them as "recording" (an
 * object, or null when none runs) and "streams" (an array); every change is a
 * recording / stream event to everyone in the conference. */

/* Streams one conference may push at once. */
#define TSR_CONFERENCE_STREAMS_MAX 4
/* Longest stream URL accepted (bytes). */
#define TSR_CONFERENCE_URL_MAX 1024

/* Purpose: start recording c into "<[recording] dir>/<alias>-<UTC start>.mkv".
 * actor NULL: the server itself (auto-record). Returns 0, TSR_ERR_AUTH (actor not
 * a host), TSR_ERR_STATE (already recording), TSR_ERR_UNSUPPORTED (no media, or
 * no recording dir), or media's error with *err_text (g_free, may stay NULL). */
int tsr_conference_start_recording(struct tsr_conference *c, struct tsr_participant *actor,
                                   char **err_text);
/* Purpose: stop the running recording (the file is finished). Returns 0,
 * TSR_ERR_AUTH, TSR_ERR_STATE (not recording). */
int tsr_conference_stop_recording(struct tsr_participant *actor);
/* Purpose: push c to `url` (rtmp:// or rtmps://, at most TSR_CONFERENCE_URL_MAX
 * bytes). *out_id (borrowed, valid while the stream is listed) names it for
 * remove_stream. Returns 0, TSR_ERR_AUTH, TSR_ERR_INVALID (bad URL), TSR_ERR_FULL
 * (TSR_CONFERENCE_STREAMS_MAX running), TSR_ERR_UNSUPPORTED, or media's error
 * with *err_text. */
int tsr_conference_add_stream(struct tsr_participant *actor, const char *url, const char **out_id,
                              char **err_text);
/* Purpose: stop stream `stream_id`. Returns 0, TSR_ERR_AUTH, TSR_ERR_NOT_FOUND. */
int tsr_conference_remove_stream(struct tsr_participant *actor, const char *stream_id);
/* Purpose: true while a recording runs (starting, active); for indicators. */
bool tsr_conference_recording(const struct tsr_conference *c);
/* Purpose: streams listed now (starting, active, reconnecting). */
size_t tsr_conference_n_streams(const struct tsr_conference *c);
/* Purpose: a stream URL as shown to participants: its last path segment (the
 * stream key, a secret) replaced by "***". Newly allocated (g_free). Thread: any. */
char *tsr_conference_redact_url(const char *url);

/* --- dial-out (host action; conference_dial.c) ---------------------------------
 * A host calls someone into its conference: a SIP URI today. The core checks who
 * may, names the future participant and hands the call to the dialler a front
 * registered (the SIP front); the callee joins through that front once it answers,
 * with the id and role the dial chose and without a PIN (a join request with an
 * invitation). The dialler reports progress with tsr_conference_dial_state, which
 * emits a dial event to the conference. */

/* Longest URI that can be dialled (bytes). */
#define TSR_CONFERENCE_DIAL_URI_MAX 512

/* Who an invited join becomes; strings borrowed. */
struct tsr_conference_invitation {
    const char *participant_id; /* the id the dial answered with */
    enum tsr_role role;
};

/* One dial as the dialler gets it; borrowed for the call. */
struct tsr_conference_dial_request {
    const char *alias;          /* the conference the callee joins */
    const char *uri;            /* "sip:…", at most TSR_CONFERENCE_DIAL_URI_MAX bytes */
    const char *display_name;   /* NULL: the dialler's choice (the URI's user part) */
    enum tsr_role role;         /* what the callee joins as */
    const char *participant_id; /* what the callee will be (a fresh UUID) */
    const char *by;             /* the host's participant id */
};

/* What a front registers to place calls (the API loop; must return at once). */
struct tsr_conference_dialler {
    /* Start calling req->uri. Returns 0, TSR_ERR_INVALID (a URI it cannot call)
     * or another negative code, with *err_text (g_free) saying why. */
    int (*dial)(void *user, const struct tsr_conference_dial_request *req, char **err_text);
    /* Hang up the call that will be or is participant_id of alias (a pending call
     * is cancelled, an answered one gets a BYE). Returns 0 or TSR_ERR_NOT_FOUND. */
    int (*hangup)(void *user, const char *alias, const char *participant_id);
};

/* Purpose: the dialler for "sip:" URIs (d borrowed with user until replaced);
 * d NULL: none (dials answer TSR_ERR_UNSUPPORTED). */
void tsr_conference_registry_set_dialler(struct tsr_conference_registry *reg,
                                         const struct tsr_conference_dialler *d, void *user);
/* Purpose: actor (a host) calls `uri` into its conference. display_name NULL: the
 * dialler's choice. Returns 0 and out_id (the callee's participant id once it
 * answers, NUL-terminated, 37 bytes), TSR_ERR_AUTH (not a host), TSR_ERR_INVALID
 * (not a sip: URI, too long, bad display name, or the dialler refused it; *err_text),
 * TSR_ERR_UNSUPPORTED (no dialler: SIP is off), or the dialler's error. */
int tsr_conference_dial(struct tsr_participant *actor, const char *uri, const char *display_name,
                        enum tsr_role role, char out_id[37], char **err_text);
/* Purpose: actor (a host) hangs up call `participant_id` while it is pending (an
 * answered callee is kicked like anyone). Returns 0, TSR_ERR_AUTH,
 * TSR_ERR_NOT_FOUND, TSR_ERR_UNSUPPORTED (no dialler). */
int tsr_conference_dial_hangup(struct tsr_participant *actor, const char *participant_id);
/* Purpose: the dialler reports call participant_id of alias: state "calling",
 * "ringing", "answered", "failed" or "ended"; status the SIP status (0: none);
 * reason NULL or why. Emits a dial event when the conference is live. */
void tsr_conference_dial_state(struct tsr_conference_registry *reg, const char *alias,
                               const char *participant_id, const char *uri, const char *by,
                               const char *state, unsigned status, const char *reason);

/* Largest chat payload accepted (bytes). */
#define TSR_CONFERENCE_MESSAGE_MAX 4096
/* Purpose: chat. Emits a message event {"from","display_name","type","payload",
 * "to"} where "to" is target's id (a direct message) or null (to everyone); the
 * fronts deliver it to everyone but the sender, or to the target only.
 * type is a MIME type ("text/plain", "application/json"; 1..64 bytes), payload
 * UTF-8 up to TSR_CONFERENCE_MESSAGE_MAX bytes. target NULL: everyone; else it
 * must be in actor's conference. Returns 0, TSR_ERR_INVALID (bad type/payload),
 * TSR_ERR_AUTH (target elsewhere). */
int tsr_conference_send_message(struct tsr_participant *actor, struct tsr_participant *target,
                                const char *type, const char *payload);

/* --- participant ----------------------------------------------------------- */
/* Purpose: p leaves: media detached, participant_left emitted, p freed (the
 * pointer is dangling on return). */
void tsr_participant_leave(struct tsr_participant *p, enum tsr_leave_reason reason);
/* Purpose: the holder p joined with (borrowed), or NULL. */
struct tsr_participant_holder *tsr_participant_holder(const struct tsr_participant *p);
/* Purpose: how p stays alive: its holder's liveness, LEASE without a holder. */
enum tsr_participant_liveness tsr_participant_liveness(const struct tsr_participant *p);
/* Purpose: rotate p's token: a fresh one that lapses token_ttl_s from now; the one
 * it replaces stays valid until its own expiry. `presented` is the token the
 * client refreshed with: only the current one may refresh (a copied older token
 * cannot mint new ones). Returns the TTL in seconds, or TSR_ERR_AUTH.
 * A BOUND participant does not lapse whatever its expiry says. */
int64_t tsr_participant_refresh(struct tsr_participant *p, const char *presented);
/* Purpose: whether `token` is p's current token, or its previous one before that
 * one's expiry, and p has not lapsed (constant-time compare). */
bool tsr_participant_token_valid(const struct tsr_participant *p, const char *token,
                                 int64_t now_us);
/* The calls below complete by callback (see "asynchronous calls"): `done` gets the
 * result later on the API loop, *call (may be NULL) the handle. Strings are
 * borrowed for the call. A participant that leaves (or whose media is detached)
 * while a call is in flight gets rc TSR_ERR_STATE for it — except a candidate,
 * which media had taken before its media went: rc 0. */

/* Remote candidates one participant may trickle; more get TSR_ERR_FULL. */
#define TSR_PARTICIPANT_MAX_CANDIDATES 200
/* Purpose: hand a trickled candidate to media. rc 0, TSR_ERR_INVALID, TSR_ERR_STATE
 * (p has no media). done may be NULL (nobody wants the outcome). */
void tsr_participant_add_candidate(struct tsr_participant *p, const char *candidate,
                                   const char *mid, int mline_index, tsr_conference_done_fn done,
                                   void *user, struct tsr_conference_call **call);
/* Purpose: give media to a participant that joined roster-only (offer_sdp NULL):
 * the capacity check, the media ops' attach with `offer_sdp`, then
 * participant_updated (has_media) right before done. rc 0 and sdp (the answer); on
 * failure a negative code, refusal (CAPACITY, BAD_SDP, NO_COMMON_CODEC,
 * MEDIA_UNAVAILABLE, MEDIA_FAILED) and err_text, and p is unchanged. TSR_ERR_STATE
 * (refusal BAD_REQUEST) when p already has media or an attach in flight. */
void tsr_participant_attach_media(struct tsr_participant *p, const char *offer_sdp,
                                  tsr_conference_done_fn done, void *user,
                                  struct tsr_conference_call **call);
/* Purpose: renegotiate p's media with a new offer (same transport; ICE restart
 * when the offer's ufrag changed). rc 0 and sdp (the answer), or TSR_ERR_STATE (no
 * media), TSR_ERR_UNSUPPORTED (media cannot renegotiate, or the offer changes what
 * cannot change), TSR_ERR_INVALID (bad SDP), with err_text. */
void tsr_participant_renegotiate(struct tsr_participant *p, const char *offer_sdp,
                                 tsr_conference_done_fn done, void *user,
                                 struct tsr_conference_call **call);
/* Purpose: drop p's media but keep it in the roster (a call hung up while the
 * participant stays signed in). Emits participant_updated; no-op without media. */
void tsr_participant_detach_media(struct tsr_participant *p);

/* Purpose: ask media for a server-initiated offer adding send-only m-lines for the
 * mix (see create_send_offer in struct tsr_conference_media_ops). rc and sdp (the
 * offer) as the op finishes, TSR_ERR_UNSUPPORTED when no such op is wired,
 * TSR_ERR_STATE when p has no media; err_text may stay NULL. */
void tsr_participant_create_send_offer(struct tsr_participant *p, tsr_conference_done_fn done,
                                       void *user, struct tsr_conference_call **call);
/* Purpose: hand p's answer to that offer, or to the offer a join with
 * make_offer gave, to media. Same results as the op, TSR_ERR_UNSUPPORTED /
 * TSR_ERR_STATE as above. */
void tsr_participant_apply_send_answer(struct tsr_participant *p, const char *answer_sdp,
                                       tsr_conference_done_fn done, void *user,
                                       struct tsr_conference_call **call);

/* Purpose: hand p's re-offer on its running session to media (answer_reoffer in
 * struct tsr_conference_media_ops). Same results (sdp: the answer),
 * TSR_ERR_UNSUPPORTED when no such op is wired, TSR_ERR_STATE when p has no media. */
/* --- presentation (content sharing) --------------------------------------------
 * One presenter per conference holds the floor; a new one takes it over (the old
 * one gets presentation_stop "taken_over", and its content transport is closed).
 * Events: presentation_start / presentation_stop to everyone, participant_updated
 * (is_presenting) for the presenter. Leaving or losing media ends a presentation. */

/* Purpose: open p's screen-share transport from `offer_sdp` and, once media has
 * answered, give p the floor. rc 0 and sdp (the answer); TSR_ERR_STATE when p has
 * no media or a presentation of p is being set up (err_text says which),
 * TSR_ERR_UNSUPPORTED when the media layer has no presentation, or media's codes
 * (TSR_ERR_INVALID bad SDP, TSR_ERR_UNSUPPORTED no codec) with err_text. */
void tsr_participant_start_presentation(struct tsr_participant *p, const char *offer_sdp,
                                        tsr_conference_done_fn done, void *user,
                                        struct tsr_conference_call **handle);
/* Purpose: a trickled candidate for p's screen-share transport. rc 0,
 * TSR_ERR_INVALID (not a candidate line), TSR_ERR_STATE (no presentation media). */
void tsr_participant_add_content_candidate(struct tsr_participant *p, const char *candidate,
                                           tsr_conference_done_fn done, void *user,
                                           struct tsr_conference_call **handle);
/* Purpose: give p the floor without a transport of its own (the Pexip flow, where
 * the slides travel on p's call). Returns 0, TSR_ERR_STATE (p has no media). */
int tsr_participant_take_floor(struct tsr_participant *p);
/* Purpose: end p's presentation (floor and content transport). Returns 0, or
 * TSR_ERR_NOT_FOUND when p does not present. */
int tsr_participant_stop_presentation(struct tsr_participant *p);
bool tsr_participant_presenting(const struct tsr_participant *p);
/* Purpose: the participant holding the floor (borrowed), or NULL. */
struct tsr_participant *tsr_conference_presenter(const struct tsr_conference *c);

void tsr_participant_answer_reoffer(struct tsr_participant *p, const char *offer_sdp,
                                    tsr_conference_done_fn done, void *user,
                                    struct tsr_conference_call **call);

const char *tsr_participant_id(const struct tsr_participant *p);
const char *tsr_participant_token(const struct tsr_participant *p);
const char *tsr_participant_display_name(const struct tsr_participant *p);
enum tsr_role tsr_participant_role(const struct tsr_participant *p);
bool tsr_participant_muted(const struct tsr_participant *p);
bool tsr_participant_video_muted(const struct tsr_participant *p);
bool tsr_participant_has_media(const struct tsr_participant *p);
/* Purpose: when the hand was raised (unix seconds), 0 when it is down. */
int64_t tsr_participant_hand_raised_at_s(const struct tsr_participant *p);
/* Purpose: when p joined (unix seconds, wall clock). */
int64_t tsr_participant_joined_at_s(const struct tsr_participant *p);
struct tsr_conference *tsr_participant_conference(const struct tsr_participant *p);
/* Purpose: seconds until the token lapses (may be <= 0 just before the sweep). */
int64_t tsr_participant_expires_in_s(const struct tsr_participant *p);
/* Purpose: the participant as JSON ({"id","display_name","role","muted",
 * "video_muted","has_media","hand_raised_at","spotlight"}); never contains the
 * token. New reference. */
json_t *tsr_participant_to_json(const struct tsr_participant *p);
/* Media layer's per-participant state; the conference never looks inside. */
void tsr_participant_set_media_data(struct tsr_participant *p, void *data);
void *tsr_participant_media_data(const struct tsr_participant *p);

/* --- from media threads (thread: any) ------------------------------------------
 * These copy their arguments and post to the API loop; the ids are looked up there,
 * so a participant or conference that is gone by then is silently skipped. */

/* Purpose: the current talkers of `alias`, loudest first (participant ids). */
void tsr_conference_post_talkers(struct tsr_conference_registry *reg, const char *alias,
                                 const char *const *participant_ids, size_t n);
/* Purpose: output `output_id` of `alias` changed state; `detail` (may be NULL,
 * copied) names the cause of FAILED / RECONNECTING. Emits a recording or stream
 * event; a final state removes the output from the conference state. */
void tsr_conference_post_output_state(struct tsr_conference_registry *reg, const char *alias,
                                      uint32_t output_id, enum tsr_conference_output_state state,
                                      const char *detail);
/* Purpose: p's media failed (ICE consent lost for 30 s, DTLS failure): it leaves
 * with TSR_LEAVE_MEDIA_FAILED. */
void tsr_conference_post_media_failed(struct tsr_conference_registry *reg,
                                      const char *participant_id);

/* A reference on the registry for threads that may outlive it (a conference mixer
 * stopping in the background): the same posts through it are dropped once the
 * registry is freed, and posting never reads the registry itself. Refcounted. */
struct tsr_conference_link;
/* Purpose: a new reference. Thread: the API loop. */
struct tsr_conference_link *tsr_conference_registry_link(struct tsr_conference_registry *reg);
/* Purpose: drop a reference; NULLs *link, accepts NULL. Thread: any. */
void tsr_conference_link_unref(struct tsr_conference_link **link);
/* Purpose: tsr_conference_post_talkers / _post_media_failed / _post_output_state
 * through a link. Thread: any. */
void tsr_conference_link_post_talkers(struct tsr_conference_link *link, const char *alias,
                                      const char *const *participant_ids, size_t n);
void tsr_conference_link_post_media_failed(struct tsr_conference_link *link,
                                           const char *participant_id);
void tsr_conference_link_post_output_state(struct tsr_conference_link *link, const char *alias,
                                           uint32_t output_id,
                                           enum tsr_conference_output_state state,
                                           const char *detail);

#endif
