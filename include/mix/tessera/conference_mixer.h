/* The conference mixer: one thread per conference that composes and encodes the
 * video views and mixes the audio, on one monotonic media clock (DESIGN.md §1, §3).
 *
 * Video: at the output frame rate the speakers (spotlighted participants first,
 * then talkers, then join order) are laid out on the common canvas. A participant
 * visible on it gets a personal view that leaves itself out (Pexip's model), unless
 * the conference shows self-view; everyone off-canvas shares the common view.
 * Each view has one compositor and one encoder group per codec in use, so
 * encoders ≈ visible tiles + 1. Tiles are redrawn only when their source
 * has a new picture; a view is encoded when something changed, and at least
 * every 200 ms (5 fps) so browsers never see the video stop. Each encoded frame
 * is packetized once and the same payloads go to every subscriber of the group.
 * Audio: every 20 ms the Opus mixer (tessera/audio_mixer.h) produces each
 * participant's mix-minus; a shared payload is packetized once per tick.
 *
 * Thread: the tsr_conf_mixer_* calls are thread-safe (they queue a command and
 * return); the mixer's own thread runs the ticks and the callbacks in params.
 * Lifetime: refcounted (peers hold references as their sink); _close stops the
 * thread, the last unref frees. */
#ifndef TESSERA_CONFERENCE_MIXER_H
#define TESSERA_CONFERENCE_MIXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tessera/audio_buffer.h>
#include <tessera/audio_mixer.h>
#include <tessera/compositor.h>
#include <tessera/media_peer.h>
#include <tessera/output.h>
#include <tessera/video_encoder.h>

struct tsr_conf_mixer;

/* Called on the mixer thread. `ids` are participant ids (strings given to add_peer). */
typedef void (*tsr_conf_mixer_talkers_fn)(void *user, const char *const *ids, size_t n);
typedef void (*tsr_conf_mixer_failed_fn)(void *user, const char *id, const char *why);

struct tsr_conf_mixer_params {
    const char *log_ctx;          /* the conference alias; copied */
    int canvas_w, canvas_h;       /* even */
    int fps;                      /* 1..60 */
    const char *layout;           /* a tessera/layout.h name or Pexip alias */
    int gap_px;
    /* A participant shown in a tile of at least this % of the canvas gets a personal
     * view without itself; in smaller tiles it sees the shared view (0: always personal). */
    int personal_view_min_tile_pct;
    /* Self-view on: everyone receives the common view, themselves included (no
     * personal views: one encoder per codec and tier whatever the layout). */
    bool self_view;
    uint32_t background_rgb;
    int64_t video_bitrate_bps;
    enum tsr_encoder_backend backend;
    const char *vaapi_device;
    /* Where views are composed ([media] compositor); 0 is the CPU. */
    enum tsr_compositor_backend compositor;
    int64_t keyframe_min_interval_ms;
    /* [layout]: names on tiles (FreeType fonts: the first, then the fallback for
     * characters it lacks; both copied) and the active speaker's border. */
    bool names;
    const char *font, *font_fallback;
    bool speaker_border;
    /* [mixer] media_timeout_s, in ms: a participant with no packets this long shows as a
     * "reconnecting" placeholder (its last picture would be a lie); 0: never. */
    int64_t media_timeout_ms;
    struct tsr_audio_mixer_params audio;
    struct tsr_audio_variant audio_variant;
    /* Each participant's adaptive audio buffer in front of the mixer (clock_rate 0:
     * the defaults of tessera/audio_buffer.h). */
    struct tsr_audio_buffer_config audio_buffer;
    tsr_conf_mixer_talkers_fn on_talkers;
    tsr_conf_mixer_failed_fn on_failed;
    void *user;                   /* borrowed until _close returns */
    /* Where the video thread adds the CPU time its ticks take (tessera/video_load.h);
     * borrowed until _close returns; NULL: not metered. */
    struct tsr_video_load *video_load;
};

/* Purpose: start a mixer thread. Returns 0, -EINVAL (bad sizes or layout), or the
 * audio mixer's errors. *out holds one reference. */
int tsr_conf_mixer_new(struct tsr_conf_mixer **out, const struct tsr_conf_mixer_params *params);

/* Purpose: stop the thread (after it released every peer) and never call back again.
 * Idempotent. Thread: not the mixer's own. */
void tsr_conf_mixer_close(struct tsr_conf_mixer *m);

struct tsr_conf_mixer *tsr_conf_mixer_ref(struct tsr_conf_mixer *m);
/* NULLs *m; accepts NULL. */
void tsr_conf_mixer_unref(struct tsr_conf_mixer **m);
/* For GDestroyNotify slots (a peer's sink_user). */
void tsr_conf_mixer_unref_cb(void *m);

/* The sink table peers report to; sink_user is a mixer reference. */
extern const struct tsr_media_peer_sink tsr_conf_mixer_peer_sink;

/* Purpose: add a participant. Takes a reference to `peer`; `participant_id` copied. */
void tsr_conf_mixer_add_peer(struct tsr_conf_mixer *m, struct tsr_media_peer *peer,
                             const char *participant_id);
/* Purpose: remove participant `peer_id`; its reference is dropped on the mixer thread. */
/* Purpose: the participant's display name, drawn on its tiles (call after
 * add_peer, and again when it changes). `name` is copied. Thread: any. */
void tsr_conf_mixer_set_name(struct tsr_conf_mixer *m, uint32_t peer_id, const char *name);
void tsr_conf_mixer_remove_peer(struct tsr_conf_mixer *m, uint32_t peer_id);
void tsr_conf_mixer_set_layout(struct tsr_conf_mixer *m, const char *layout);
/* Spotlighted participants the mixer keeps; more are ignored (they could not all be
 * on the large tiles anyway: 2:21 has two). */
#define TSR_CONF_MIXER_SPOTLIGHT_MAX 16
/* Purpose: the spotlighted (pinned) participants, earliest first: they lead the
 * speaker order ahead of the talkers, so they hold the large tiles of the speaker
 * layouts. Replaces the previous list; n 0 clears it. `peer_ids` is copied (at most
 * TSR_CONF_MIXER_SPOTLIGHT_MAX); ids not (or no longer) in the mixer are skipped. */
void tsr_conf_mixer_set_spotlight(struct tsr_conf_mixer *m, const uint32_t *peer_ids, size_t n);
/* Purpose: self-view on or off (see params.self_view). */
void tsr_conf_mixer_set_self_view(struct tsr_conf_mixer *m, bool on);

/* Purpose: show `peer` (a presenter's screen share: its own transport carrying one
 * video) as the presentation. While a content peer is set every view uses the
 * presentation layout (the content large and letterboxed, cameras in a strip) and
 * goes back to the conference's layout when it is cleared; the content is never a
 * participant tile, never receives anything, and is asked (REMB) for enough bitrate
 * to send the canvas' full resolution. Takes a reference to `peer`; a previous
 * content peer is dropped (one presenter at a time). `participant_id` (copied) is
 * the presenter's, for logs. Thread: any (queued). */
void tsr_conf_mixer_set_content(struct tsr_conf_mixer *m, struct tsr_media_peer *peer,
                                const char *participant_id);
/* Purpose: stop showing content peer `peer_id` (nothing if another is shown now);
 * its reference is dropped on the mixer thread. Thread: any (queued). */
void tsr_conf_mixer_clear_content(struct tsr_conf_mixer *m, uint32_t peer_id);
void tsr_conf_mixer_set_muted(struct tsr_conf_mixer *m, uint32_t peer_id, bool audio_muted,
                              bool video_muted);

/* Purpose: feed a recording or stream (tessera/output.h) the common view, encoded at
 * the output's codec by the view's encoder group (shared with any receiver of that
 * view at the top bitrate tier; opened for it otherwise), and the shared mix. Takes
 * its own references; an output that finishes is dropped by the mixer by itself. */
void tsr_conf_mixer_add_output(struct tsr_conf_mixer *m, struct tsr_output *out);
/* Purpose: stop feeding output `output_id` (its references are dropped on the mixer
 * threads). Stopping the output itself is tsr_output_stop's job. */
void tsr_conf_mixer_remove_output(struct tsr_conf_mixer *m, uint32_t output_id);

struct tsr_conf_mixer_stats {
    size_t peers;
    size_t views;
    size_t video_encoders;
    size_t audio_encoders;
    uint64_t video_ticks;
    uint64_t video_frames_encoded;
    uint64_t shared_tiles_scaled; /* pictures scaled once for several views (shared tiles) */
    uint64_t audio_ticks;
};
/* Purpose: a snapshot of the counters (updated by the mixer thread). Thread: any. */
void tsr_conf_mixer_get_stats(struct tsr_conf_mixer *m, struct tsr_conf_mixer_stats *out);

#endif
