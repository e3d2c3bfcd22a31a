/* Internal to conference_mixer*.c. Everything below the command queue is owned by
 * the mixer thread. */
#ifndef TSR_CONFERENCE_MIXER_INTERNAL_H
#define TSR_CONFERENCE_MIXER_INTERNAL_H

#include <tessera/compositor.h>
#include <tessera/conference_mixer.h>
#include <tessera/encoder_group.h>
#include <tessera/labels.h>
#include <tessera/layout.h>
#include <tessera/output.h>
#include <tessera/rtp_codec.h>
#include <tessera/video_limits.h>
#include <tessera/video_load.h>

#include <glib.h>
#include <stdatomic.h>
#include <stdlib.h>

#define MIXER_CODECS 2 /* TSR_VIDEO_CODEC_VP8, TSR_VIDEO_CODEC_H264 */
#define MIXER_TIERS 2  /* 0: the configured bitrate; 1: a third of it, for weak downlinks */
#define MIXER_GROUPS (MIXER_CODECS * MIXER_TIERS)

struct mix_view;
struct tsr_conf_mixer;

/* One unit of a fork-join phase on the mixer's worker pool. */
struct mix_job {
    void (*run)(struct tsr_conf_mixer *m, void *arg);
    void *arg;
};

/* A participant's picture scaled once for one tile size and role, shared by every
 * view that shows it so (conference_tiles.c). Written only by its scale job in the
 * first phase of a tick; read by the views' render jobs in the second. */
struct mix_shared_tile {
    uint32_t id; /* participant */
    int w, h;
    enum tsr_layout_role role;
    size_t users; /* due views showing it this tick */
    bool ok;      /* holds picture `seq` */
    uint64_t seq;
    const AVFrame *pending; /* the picture to scale this tick (the peer's tick_frame) */
    uint64_t pending_seq;
    struct tsr_compositor_tile *tile;
    struct mix_job job;
};

/* One encoder group of a view, with the frame it packetized last (packetize once). */
struct mix_vgroup {
    struct mix_view *view;
    enum tsr_video_codec codec;
    int tier;
    /* The picture it encodes: the canvas, or for receivers that declared smaller
     * decoders (conference_fitted.c) the canvas scaled to fmt, encoded only every
     * canvas tick fmt.fps allows; single_nal: H.264 packetization-mode 0. */
    struct tsr_video_format fmt;
    bool single_nal;
    int64_t max_bps;     /* fitted: what its receivers' decoders take (0: no limit) */
    bool fitted;         /* in view->fitted (heap, freed with its last subscriber) */
    int64_t next_due_us; /* fitted: the earliest time of its next frame */
    AVFrame *scaled;     /* fitted: the scaled canvas, reused */
    int64_t scaled_us;   /* fitted: the canvas time `scaled` holds */
    struct tsr_encoder_group *group;
    struct tsr_rtp_packetizer *packetizer;
    struct tsr_rtp_packetized *last; /* payloads of the last encoded frame */
    int64_t last_pts;
    size_t subscribers;
};

/* A picture some participants receive: the common canvas (exclude_id 0) or a
 * visible participant's canvas without itself. */
struct mix_view {
    uint32_t exclude_id;
    struct tsr_compositor *comp;
    struct tsr_layout_tile tiles[TSR_LAYOUT_MAX_TILES];
    size_t n_tiles;
    uint64_t shown_seq[TSR_LAYOUT_MAX_TILES]; /* per tile: picture seq last drawn */
    bool shown_video[TSR_LAYOUT_MAX_TILES];
    uint64_t shown_overlay[TSR_LAYOUT_MAX_TILES]; /* per tile: a digest of its last overlay */
    struct mix_vgroup groups[MIXER_GROUPS];       /* index: codec * MIXER_TIERS + tier */
    GPtrArray *fitted; /* struct mix_vgroup*: other sizes, rates, packetization modes */
    int64_t last_encode_us;
    int64_t capture_us; /* media-clock time of the frame being encoded */
    bool keyframe_wanted;
    bool tick_layout_changed; /* set by the video thread before an encode job */
    int64_t tick_now_us;
    struct mix_shared_tile *tick_shared[TSR_LAYOUT_MAX_TILES];        /* per tile, this tick */
    struct tsr_compositor_overlay tick_overlay[TSR_LAYOUT_MAX_TILES]; /* per tile, this tick */
    struct mix_job job;                                               /* compose + encode */
};

/* A participant's labels for one tile size (conference_labels.c). */
struct mix_label {
    int w, h;               /* the tile */
    struct tsr_label *name; /* w 0 when the tile is too narrow for it */
    struct tsr_label *initials;
    struct tsr_label *stalled; /* "name · reconnecting…", drawn when first needed */
    uint64_t used_tick;        /* label_tick when last shown: the oldest is redrawn */
};

struct mix_peer {
    uint32_t id;
    char *pid; /* participant id string */
    struct tsr_media_peer *peer;
    bool audio_muted, video_muted;
    bool has_video, has_audio;
    enum tsr_video_codec codec;
    struct tsr_video_format fmt; /* the picture its decoder takes (the canvas, or smaller) */
    bool single_nal;             /* H.264 packetization-mode 0 */
    int64_t level_bps;           /* its decoder's bit rate limit (H.264 level); 0: none */
    int64_t cap_step_bps;        /* the rate step under its signalled limit; 0: none */
    int64_t max_bps;             /* the lower of the two: its encoder's rate limit; 0: none */
    struct mix_view *view;       /* what it receives */
    struct mix_vgroup *group;    /* the encoder it is subscribed to, in `view` */
    uint64_t sub_id;
    int tier; /* bitrate tier it should receive (its REMB decides) */
    int64_t joined_us;
    int64_t low_since_us;  /* REMB below the demotion threshold since; 0 = not */
    int64_t high_since_us; /* REMB above the promotion threshold since; 0 = not */
    bool capped;           /* its tier follows a signalled limit (b=, TMMBR) */
    int64_t cap_moved_us;  /* when that limit last moved it */
    /* Its latest picture, taken once per tick before the views compose (so every view
     * and shared tile shows the same one); released after. NULL: placeholder. */
    AVFrame *tick_frame;
    uint64_t tick_seq;
    bool tick_taken;
    char *name, *initials;      /* display name (NULL until told) and its initials */
    bool stalled;               /* no packets for params.media_timeout_ms: a placeholder */
    struct mix_label labels[4]; /* the last sizes it was shown at */
};

enum mix_cmd_type {
    MIX_CMD_ADD,
    MIX_CMD_REMOVE,
    MIX_CMD_LAYOUT,
    MIX_CMD_SPOTLIGHT,
    MIX_CMD_SELF_VIEW,
    MIX_CMD_MUTE,
    MIX_CMD_NAME,
    MIX_CMD_AUDIO,
    MIX_CMD_KEYFRAME,
    MIX_CMD_FAILED,
    MIX_CMD_OUTPUT_ADD,
    MIX_CMD_OUTPUT_REMOVE,
    MIX_CMD_CONTENT, /* peer: the new content (a reference); NULL: clear `id` */
    MIX_CMD_STOP,
};

struct mix_cmd {
    enum mix_cmd_type type;
    uint32_t id;
    struct tsr_media_peer *peer; /* ADD: a reference */
    struct tsr_output *output;   /* OUTPUT_ADD: a reference */
    char *text;                  /* ADD: participant id; LAYOUT, NAME: name; FAILED: why */
    bool a, b;                   /* MUTE: audio, video; SELF_VIEW: a */
    struct tsr_audio_packet pkt; /* AUDIO: data points at `bytes` */
    int64_t at_us;               /* AUDIO: when it arrived (monotonic) */
    uint8_t bytes[];             /* AUDIO payload copy; SPOTLIGHT: `id` uint32_t ids */
};

/* A recording or stream as one of the mixer's threads feeds it (each thread has
 * its own, holding its own reference; conference_outputs.c). */
struct mix_output {
    struct tsr_output *out;
    uint32_t id;              /* the output's id */
    struct mix_vgroup *group; /* video: the common view's encoder it takes frames from */
    uint64_t sub_id;
    uint32_t listener_id; /* audio: its id as a silent listener of the audio mixer */
};

/* One participant as the audio thread sees it. */
struct audio_peer {
    uint32_t id;
    char *pid;
    struct tsr_media_peer *peer;
    struct tsr_audio_buffer *buffer; /* reorder + jitter in front of the mixer */
    int64_t queued;                  /* samples handed to the mixer and not yet mixed */
    int rate_ratio;                  /* 48 kHz samples per RTP clock tick: 1 Opus, 6 G.711 */
    bool has_audio; /* read from the peer when added: a re-INVITE changes it out of the mix */
};

struct tsr_conf_mixer {
    gint refs;
    gint closed;
    char *log_ctx;
    struct tsr_conf_mixer_params params;
    GAsyncQueue *queue;       /* video thread's commands */
    GThread *thread;          /* video: layout, compose, encode */
    GAsyncQueue *audio_queue; /* audio thread's commands and packets */
    GThread *audio_thread;    /* audio: the 20 ms mix-minus tick, never held up by video */
    GMutex talkers_lock;
    uint32_t talkers_shared[TSR_LAYOUT_MAX_TILES]; /* written by audio, read by video */
    size_t n_talkers_shared;
    GMutex stats_lock;
    struct tsr_conf_mixer_stats stats;

    /* Video thread only. */
    enum tsr_layout_kind layout;
    uint32_t spotlight[TSR_CONF_MIXER_SPOTLIGHT_MAX]; /* pinned ids, earliest first */
    size_t n_spotlight;
    bool self_view;                         /* everyone receives the common view */
    GPtrArray *peers;                       /* struct mix_peer*, in join order */
    GPtrArray *views;                       /* struct mix_view* */
    uint32_t talkers[TSR_LAYOUT_MAX_TILES]; /* snapshot taken at each video tick */
    size_t n_talkers;
    GThreadPool *encoders;   /* shared tiles, then views, in parallel: fork-join phases */
    GPtrArray *shared_tiles; /* struct mix_shared_tile* (conference_tiles.c) */
    GPtrArray *tick_due;     /* views composed this tick; reused */
    GPtrArray *tick_jobs;    /* struct mix_job* of the running phase; reused */
    GMutex jobs_lock;
    GCond jobs_done;
    int jobs_pending;
    _Atomic int64_t tick_worker_cpu_us; /* CPU time of this tick's jobs on the pool */
    struct tsr_video_load_share load;   /* this conference's part of params.video_load */
    GPtrArray *outputs;                 /* struct mix_output*: recordings and streams */
    struct tsr_label_font *font;        /* names on tiles; opened on first use */
    bool font_failed;                   /* it could not be: names are off */
    uint64_t label_tick;
    /* The presentation (conference_content.c): found by tsr_mix_find like a peer so
     * tiles and frames treat it alike, but not in `peers`: never a participant tile,
     * never a receiver. NULL: nobody presents. */
    struct mix_peer *content;

    /* Audio thread only. */
    struct tsr_audio_mixer *audio;
    GPtrArray *audio_peers;            /* struct audio_peer* */
    GPtrArray *audio_outputs;          /* struct mix_output*: the same outputs, audio side */
    struct mix_cmd *stop, *audio_stop; /* allocated up front: stopping never fails */
    int64_t start_us;
    size_t gauge_encoders[2]; /* what this mixer added to tessera_video_encoders{backend} */
};

/* conference_video.c */
void tsr_mix_video_tick(struct tsr_conf_mixer *m, int64_t now_us);
void tsr_mix_video_detach(struct tsr_conf_mixer *m, struct mix_peer *e);
void tsr_mix_video_keyframe(struct tsr_conf_mixer *m, struct mix_peer *e);
void tsr_mix_video_free_all(struct tsr_conf_mixer *m);
/* GThreadPool worker: runs one struct mix_job and counts it done. */
void tsr_mix_video_job(gpointer job, gpointer mixer);
/* Publishes the live encoders by backend in tessera_video_encoders. */
void tsr_mix_video_count_encoders(struct tsr_conf_mixer *m);

/* Opens g's encoder and packetizer if it has none. Returns 0 or the error (logged). */
int tsr_mix_vgroup_open(struct tsr_conf_mixer *m, struct mix_vgroup *g);
/* Drops subscriber sub_id of g; the last one closes the encoder. */
void tsr_mix_vgroup_release(struct mix_vgroup *g, uint64_t sub_id);

/* conference_fitted.c */
/* The view's groups: the canvas ones first, then the fitted ones; i < n. */
size_t tsr_mix_view_n_groups(const struct mix_view *v);
struct mix_vgroup *tsr_mix_view_group(struct mix_view *v, size_t i);
/* The group of v that e receives (created, not opened, when new); NULL: no memory. */
struct mix_vgroup *tsr_mix_view_group_for(struct tsr_conf_mixer *m, struct mix_view *v,
                                          const struct mix_peer *e);
/* The bit rate g encodes at, from its tier's rate at the canvas size. */
int64_t tsr_mix_vgroup_bitrate(const struct tsr_conf_mixer *m, const struct mix_vgroup *g,
                               int64_t tier_bps);
/* The rate step a signalled limit of cap_bps (b=AS/TIAS, TMMBR) gets: the highest
 * of 64, 96, 128, 192, 256, 384, 512, 768 kb/s, 1, 1.5, 2, 3, 4, 6, 8 Mb/s… that is
 * not above it (64 kb/s below that). Receivers whose limits fall on one step share
 * an encoder. */
int64_t tsr_mix_rate_step(int64_t cap_bps);
/* A fitted group without subscribers leaves its view and is freed. */
void tsr_mix_vgroup_drop_if_unused(struct mix_vgroup *g);
/* Frees every fitted group of v. */
void tsr_mix_view_free_fitted(struct mix_view *v);
/* Whether g encodes the canvas of now_us (fitted groups skip ticks to keep their
 * rate); advances its schedule when it does. */
bool tsr_mix_vgroup_due(struct tsr_conf_mixer *m, struct mix_vgroup *g, int64_t now_us);
/* The picture g encodes from `canvas` (borrowed; its time now_us): the canvas
 * itself, or it scaled to g->fmt once per size and canvas, shared by the view's
 * groups of that size. Returns 0 and *out (borrowed until the next call), or an
 * error (logged and counted). */
int tsr_mix_vgroup_picture(struct tsr_conf_mixer *m, struct mix_vgroup *g, const AVFrame *canvas,
                           int64_t now_us, const AVFrame **out);

/* conference_outputs.c */
void tsr_mix_outputs_video_cmd(struct tsr_conf_mixer *m, struct mix_cmd *c);
/* Subscribes each output to the common view's encoder at its codec (opening it if no
 * receiver uses it), drops finished ones, and passes on their keyframe requests. */
void tsr_mix_outputs_video_tick(struct tsr_conf_mixer *m, struct mix_view *common, int64_t now_us);
/* The views are being freed: every output's subscription goes with them. */
void tsr_mix_outputs_video_forget(struct tsr_conf_mixer *m);
void tsr_mix_outputs_video_free_all(struct tsr_conf_mixer *m);
void tsr_mix_outputs_audio_cmd(struct tsr_conf_mixer *m, struct mix_cmd *c);
/* Hands each output this tick's shared mix (`t_us` on the media clock). */
void tsr_mix_outputs_audio_tick(struct tsr_conf_mixer *m, const struct tsr_audio_out *outs,
                                size_t n, int64_t t_us);
void tsr_mix_outputs_audio_free_all(struct tsr_conf_mixer *m);

/* conference_tiles.c */
/* Matches the tiles of the `due` views (whose peers' tick frames are taken) to
 * shared tiles, creating and dropping them as layouts change, sets each view's
 * tick_shared[], and appends to `jobs` a scale job for every tile that two or more
 * views show and whose picture is new. */
void tsr_mix_tiles_plan(struct tsr_conf_mixer *m, GPtrArray *due, GPtrArray *jobs);
void tsr_mix_tiles_free_all(struct tsr_conf_mixer *m);

/* conference_labels.c */
/* Fills each due view's tick_overlay[] (drawing labels for new tile sizes). */
void tsr_mix_labels_plan(struct tsr_conf_mixer *m, GPtrArray *due);
/* Sets e's display name (its labels are drawn again). */
void tsr_mix_labels_set_name(struct mix_peer *e, const char *name);
/* Frees e's name and labels. */
void tsr_mix_labels_peer_fini(struct mix_peer *e);
/* Closes the font (the mixer stops). */
void tsr_mix_labels_free_all(struct tsr_conf_mixer *m);
/* conference_content.c */
void tsr_mix_content_cmd(struct tsr_conf_mixer *m, struct mix_cmd *c);
/* While content is shown: the presentation layout with its id in *lp. */
void tsr_mix_content_layout(const struct tsr_conf_mixer *m, struct tsr_layout_params *lp);
/* Asks the content's sender for a full-resolution rate (each tick). */
void tsr_mix_content_hint(struct tsr_conf_mixer *m);
void tsr_mix_content_free(struct tsr_conf_mixer *m);
/* The content's transport failed: it is no longer shown (the presenter stays). */
void tsr_mix_content_failed(struct tsr_conf_mixer *m, const char *why);

/* conference_mixer.c */
struct mix_peer *tsr_mix_find(struct tsr_conf_mixer *m, uint32_t id);
/* NULL when memory ran out: the post functions count and drop it. */
struct mix_cmd *tsr_mix_cmd_new(enum mix_cmd_type type, uint32_t id, size_t extra);
void tsr_mix_count_lost_command(void);
void tsr_mix_cmd_free(struct mix_cmd *c);

/* conference_audio.c */
void tsr_mix_audio_start(struct tsr_conf_mixer *m);
void tsr_mix_audio_post(struct tsr_conf_mixer *m, struct mix_cmd *c);
void tsr_mix_audio_stop(struct tsr_conf_mixer *m);

#endif
