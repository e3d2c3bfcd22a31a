/* tessera-load: N synthetic WebRTC participants against a running Tessera, built
 * from Tessera's own net and media modules (full controlling ICE with libnice, DTLS
 * with GnuTLS, SRTP with libsrtp2, the RTP packetizers and depacketizers).
 *
 * Everything runs on one GLib main loop (one thread), so the tool costs one core at
 * most and its figures are not disturbed by its own locking. What makes it cheap
 * enough not to be the bottleneck: cameras are encoded once at start-up into short
 * loops per colour and rendition, each frame packetized once; per participant only
 * the RTP header and SRTP protection are done per packet; only every Nth receiver
 * decodes the composite. */
#ifndef TESSERA_LOAD_H
#define TESSERA_LOAD_H

#include <glib.h>
#include <jansson.h>
#include <libavutil/frame.h>
#include <libsoup/soup.h>
#include <stdbool.h>
#include <stdint.h>

#include <tessera/layout.h>
#include <tessera/rtp_codec.h>
#include <tessera/video_codec.h>

/* ---- synthetic camera and microphone (load_source.c) ---------------------- */

/* Frames in a camera loop (~2.1 s at 30 fps); frame 0 is the loop's only keyframe.
 * The frame stamp carries the index, so it must stay below 2^LOAD_STAMP_INDEX_BITS. */
#define LOAD_LOOP_FRAMES 64
#define LOAD_STAMP_INDEX_BITS 10
#define LOAD_STAMP_BLOCKS 16
#define LOAD_FPS 30
#define LOAD_AUDIO_LOOP_PACKETS 50 /* 1 s of 20 ms Opus packets */
#define LOAD_DTX_FRAMES 20        /* a DTX sender's silence: one packet per 400 ms */
#define LOAD_MAX_RENDITIONS 3
#define LOAD_MAX_COLOURS 120

struct load_colour {
    uint8_t y, u, v;
};

/* Purpose: the dominant colour of palette entry `index` (0..LOAD_MAX_COLOURS-1):
 * chroma on a 16-step grid, never near grey (the compositor's background). */
void load_palette(int index, struct load_colour *out);
/* Purpose: the palette index whose chroma is within tolerance of (u, v), or −1. */
int load_palette_match(double u, double v);

/* Purpose: the frame stamp for loop index `index`: 10 index bits + 6 check bits. */
uint32_t load_stamp_encode(uint32_t index);
/* Purpose: the index from a read stamp, or −1 when the check bits disagree. */
int load_stamp_decode(uint32_t stamp);

/* Stamp and colour sample positions, as fractions of the source picture. Shared by
 * the picture generator and the tile checker so both agree. */
#define LOAD_STAMP_X0 0.10
#define LOAD_STAMP_X1 0.90
#define LOAD_STAMP_Y0 0.44
#define LOAD_STAMP_Y1 0.56
#define LOAD_COLOUR_X0 0.30
#define LOAD_COLOUR_X1 0.70
#define LOAD_COLOUR_Y0 0.20
#define LOAD_COLOUR_Y1 0.32

/* Purpose: draw frame `index` of the synthetic camera of `colour` into f (yuv420p,
 * allocated by the caller): moving luma waves, sensor-like noise on every plane,
 * and the stamp band. Deterministic in (colour, index). */
void load_picture_draw(AVFrame *f, const struct load_colour *colour, int index);

/* One rendition: LOAD_LOOP_FRAMES frames, each packetized once. Immutable. */
struct load_rendition {
    int width, height;
    int64_t bitrate_bps;
    struct tsr_rtp_packetized *frames[LOAD_LOOP_FRAMES];
};

/* A camera loop per palette colour: renditions smallest first. Immutable. */
struct load_camera {
    int colour;
    int n_renditions;
    struct load_rendition r[LOAD_MAX_RENDITIONS];
};

/* Purpose: encode the loops of palette colour `colour` for every rendition up to
 * max_width (320x240, 640x360, 1280x720). Returns 0 or a TSR_ERR_* / -errno. */
int load_camera_new(struct load_camera **out, int colour, enum tsr_video_codec codec,
                    int max_width);
void load_camera_free(struct load_camera **cam);
/* Purpose: the rendition a browser would send for a REMB of `bps`, capped at the
 * camera's largest. */
int load_camera_rendition_for(const struct load_camera *cam, int64_t bps);

/* A microphone loop: 1 s of a tone (talker) or one DTX-like silence packet. */
struct load_audio {
    bool talker;
    double tone_hz;
    GBytes *packets[LOAD_AUDIO_LOOP_PACKETS]; /* talker: the loop; else [0] only */
};

int load_audio_new(struct load_audio **out, double tone_hz /* 0 = silence */);
void load_audio_free(struct load_audio **a);

/* ---- options, results --------------------------------------------------------- */

struct load_options {
    char *server;
    int conferences, participants;
    char *layout;               /* NULL: the server's default */
    int video_width;            /* 0: audio only */
    enum tsr_video_codec codec; /* what the cameras send and the offer asks for */
    int talkers;
    double seconds;
    double ramp_per_s;
    double churn_per_s;
    int decode_every; /* 0: decode nobody */
    char *json_path;
    char *prefix;  /* conference alias prefix */
    int gap_px;    /* the server's [mixer] gap_px, for tile geometry */
    double warmup_s;
    int self_view_pct; /* the server's [mixer] personal_view_min_tile_pct */
    char *media_address; /* where participants gather candidates; NULL: every interface */
};

/* Counters of one participant (window = the measurement period). */
struct load_rx_stats {
    uint64_t frames, frames_at_window;
    uint64_t video_bytes, video_bytes_at_window;
    uint64_t audio_packets, audio_packets_at_window;
    uint64_t audio_gaps; /* missing sequence numbers, in the window */
    uint64_t freezes;    /* > 200 ms without a new frame, in the window */
    int64_t last_frame_us;
    uint64_t decoded;
};

/* Everything the run measured; shared by every participant (one thread). */
struct load_results {
    GArray *latency_ms;  /* double */
    GArray *join_ms;     /* double */
    uint64_t tiles_checked, tiles_correct, own_tile_seen, self_view_tiles;
    uint64_t stamps_read, stamps_bad;
    uint64_t joins_ok, joins_failed, leaves;
    uint64_t ice_dtls_failures;
    GHashTable *errors; /* "HTTP 503 capacity" → count (g_strdup keys, GUINT_TO_POINTER) */
    uint64_t plis_in, nacks_in, remb_in, rendition_switches;
    uint64_t counted_only; /* receivers that counted headers without SRTP checks */
    bool in_window;
};

void load_results_init(struct load_results *r);
void load_results_fini(struct load_results *r);
void load_results_error(struct load_results *r, const char *what);
/* Purpose: count a bad HTTP answer as "WHAT: HTTP STATUS ERROR-CODE" (status 0: "WHAT:
 * no answer"); `body` is the parsed answer or NULL. */
void load_results_http_error(struct load_results *r, const char *what, int status,
                             json_t *body);

/* ---- a synthetic participant (load_peer.c) --------------------------------------- */

struct load_run;
struct load_peer;

struct load_peer_params {
    struct load_run *run;
    int conference;    /* index */
    int index;         /* in its conference: colour and talker choice */
    bool churn;        /* leaves by itself after a while */
    bool decode;       /* sampled receiver */
    bool count_only;   /* audio only, unsampled: counts packet headers in batches */
    const struct load_camera *camera; /* NULL: audio only */
    const struct load_audio *audio;
};

int load_peer_new(struct load_peer **out, const struct load_peer_params *p);
/* Purpose: leave (POST …/leave) and stop media; the peer frees itself when done. */
void load_peer_leave(struct load_peer *p);
void load_peer_free(struct load_peer **p);
/* Sending, called by the scheduler when due. */
/* Purpose: send what is due (camera frames at 30 fps, audio every 20 ms, each peer
 * at its own phase), feedback, token refresh, a churner's leave. */
void load_peer_tick(struct load_peer *p, int64_t now_us);
void load_peer_window_start(struct load_peer *p, int64_t now_us);
void load_peer_window_end(struct load_peer *p, int64_t now_us);
bool load_peer_connected(const struct load_peer *p);
bool load_peer_done(const struct load_peer *p); /* failed, or left */
bool load_peer_failed(const struct load_peer *p);
const struct load_rx_stats *load_peer_stats(const struct load_peer *p);
bool load_peer_has_video(const struct load_peer *p);
bool load_peer_churn(const struct load_peer *p);
/* Palette colour and current rendition size (what a tile of it shows). */
int load_peer_colour(const struct load_peer *p);
void load_peer_source_size(const struct load_peer *p, int *w, int *h);
/* Send time of loop frame `index`, or 0. */
int64_t load_peer_sent_us(const struct load_peer *p, int index);
int load_peer_conference(const struct load_peer *p);

/* ---- the run (load_main.c) -------------------------------------------------------- */

struct load_run {
    struct load_options opt;
    GMainLoop *loop;
    SoupSession *http;
    /* /metrics samples are read synchronously on a session of their own: on the
     * shared one they would queue behind a burst of joins whose answers only the
     * (then blocked) main loop can complete. */
    SoupSession *metrics_http;
    struct tsr_dtls_cert *cert;
    struct load_results res;
    GPtrArray *peers;          /* struct load_peer*, every one ever made (owned) */
    GPtrArray *conf_members;   /* per conference: GPtrArray of its live peers */
    char **conf_alias;         /* per conference */
    char **conf_host_token;    /* per conference: first joiner's token (layout) */
    enum tsr_layout_kind layout_kind;
};

/* The other live, connected members of p's conference with video. */
void load_run_conference_peers(struct load_run *run, int conference, GPtrArray **out);
/* Called by a peer once it has joined (token known): the first sets the layout. */
void load_run_peer_joined(struct load_run *run, struct load_peer *p, const char *token);
void load_run_peer_gone(struct load_run *run, struct load_peer *p);

/* ---- HTTP (load_http.c): JSON requests on the run's main loop ---------------------- */

/* Called with the status (0 = transport error), the parsed JSON body (borrowed, may
 * be NULL) and the raw body (borrowed, may be NULL). */
typedef void (*load_http_fn)(void *user, int status, json_t *body, GBytes *raw);

/* Purpose: send `method` `url` with an optional JSON body and bearer token; `cb`
 * runs on the main loop. The request holds no reference to `user`: keep it alive
 * or pass a refcounted one. */
void load_http_request(SoupSession *s, const char *method, const char *url, json_t *body,
                       const char *token, load_http_fn cb, void *user);
/* Purpose: GET url synchronously (start/end of run only): the body or NULL. */
char *load_http_get_sync(SoupSession *s, const char *url, int *status);
/* Purpose: the sum of the Prometheus samples `name` (any labels) in a /metrics text;
 * NAN if absent. */
double load_metrics_value(const char *text, const char *name);

/* ---- composite checks (load_check.c) -------------------------------------------- */

/* Purpose: check one decoded composite as seen by `self`: each tile of the layout
 * for the number of other members is identified by its colour (never self's), its
 * stamp is read, and the latency from the sender's send time is recorded. */
void load_check_composite(struct load_run *run, struct load_peer *self, const AVFrame *f,
                          int64_t decoded_us, int *last_stamp /* per colour */);

/* ---- report (load_report.c) ------------------------------------------------------ */

struct load_server_sample {
    double cpu_s, rss_bytes, open_fds, video_encoders;
    int64_t at_us;
};

struct load_report {
    double window_s;
    struct load_server_sample server_start, server_end, server_before, server_after;
    double load_cpu_s;
    int64_t left_at_us; /* everyone had left (or the leave phase timed out) */
};

/* Purpose: the figures of the measurement window (call at its end, before anyone
 * leaves). Ownership: new reference. */
json_t *load_report_window(struct load_run *run, const struct load_report *rep);
/* Purpose: add what was read after everyone left, print the table and (json_path)
 * write the JSON object `o` (borrowed). Returns 0 or -EIO. */
int load_report_write(struct load_run *run, const struct load_report *rep, json_t *o);

#endif
