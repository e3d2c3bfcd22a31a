/* Configuration: built-in defaults, an INI-style file, command-line overrides.
 *
 * Every key is described once in a schema (src/core/config_schema.c) with its
 * type, range, default and a line of why; config/tessera.conf is that schema
 * written out, and a unit test keeps the two equal. The file format:
 *
 *   # comment            ; comment
 *   [section]
 *   key = value          (value may be "quoted"; whitespace around = is ignored)
 *
 * Any unknown section or key, wrong type or out-of-range value rejects the whole
 * file with one message "FILE:LINE: …" naming what is allowed. */
#ifndef TESSERA_CONFIG_H
#define TESSERA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSR_CONFIG_STR_MAX 256

enum tsr_config_type {
    TSR_CONFIG_STRING,
    TSR_CONFIG_INT,
    TSR_CONFIG_BOOL,
    TSR_CONFIG_ENUM,     /* one of a '|'-separated list, stored as a string */
    TSR_CONFIG_HOSTPORT, /* ADDR:PORT, stored as a string; port 1..65535 */
};

/* The whole configuration as plain values; embedded by value, no ownership. */
struct tsr_config {
    /* [server] */
    char listen[TSR_CONFIG_STR_MAX];
    char web_root[TSR_CONFIG_STR_MAX];
    int64_t listen_backlog;
    int64_t max_connections;
    int64_t max_connections_per_address;
    int64_t idle_timeout_s;
    int64_t max_body_bytes;
    int64_t max_header_bytes;
    char trusted_proxies[TSR_CONFIG_STR_MAX];
    /* [log] */
    char log_level[16];
    /* [media] */
    char encoder[16];
    char vaapi_device[TSR_CONFIG_STR_MAX];
    char compositor[16];
    /* [audio] */
    int64_t audio_talkers;
    int64_t audio_hysteresis_db;
    int64_t audio_hold_ms;
    int64_t audio_active_level;
    int64_t audio_bitrate_bps;
    int64_t audio_channels;
    bool audio_fec;
    int64_t audio_red_distance;
    bool audio_dtx;
    bool audio_client_dtx;
    int64_t audio_complexity;
    int64_t audio_jitter_min_ms;
    int64_t audio_jitter_max_ms;
    /* [webrtc] */
    int64_t webrtc_port_min;
    int64_t webrtc_port_max;
    char webrtc_public_address[TSR_CONFIG_STR_MAX];
    char webrtc_stun_server[TSR_CONFIG_STR_MAX];
    char webrtc_certificate[TSR_CONFIG_STR_MAX];
    char webrtc_private_key[TSR_CONFIG_STR_MAX];
    char webrtc_video_codec[16];
    char webrtc_media_addresses[TSR_CONFIG_STR_MAX];
    bool webrtc_ice_tcp;
    char webrtc_turn_servers[1024];
    /* [conferences] */
    bool allow_adhoc;
    int64_t empty_timeout_s;
    int64_t token_ttl_s;
    int64_t max_participants;
    char default_layout[16];
    char conferences_file[TSR_CONFIG_STR_MAX];
    /* [inlive] */
    int64_t inlive_max_rooms;
    int64_t inlive_max_room_metadata_bytes;
    int64_t inlive_max_empty_room_timeout_s;
    bool inlive_open_metadata;
    /* [mixer] */
    int64_t mixer_canvas_width;
    int64_t mixer_canvas_height;
    int64_t mixer_fps;
    int64_t mixer_video_bitrate_bps;
    int64_t mixer_gap_px;
    int64_t mixer_personal_view_min_tile_pct;
    int64_t mixer_keyframe_min_interval_ms;
    int64_t mixer_consent_timeout_s;
    int64_t mixer_media_timeout_s;
    int64_t mixer_net_threads;
    int64_t mixer_max_participants;
    int64_t mixer_max_load_percent;
    /* [layout] */
    bool layout_names;
    char layout_font[TSR_CONFIG_STR_MAX];
    char layout_font_fallback[TSR_CONFIG_STR_MAX];
    bool layout_speaker_border;
    /* [recording] */
    char recording_dir[TSR_CONFIG_STR_MAX];
    char recording_video_codec[16];
    /* [streaming] */
    int64_t streaming_audio_bitrate_bps;
    int64_t streaming_connect_timeout_s;
    int64_t streaming_retry_max_s;
    int64_t streaming_reconnect_timeout_s;
    /* [sip] */
    bool sip_enabled;
    char sip_listen[TSR_CONFIG_STR_MAX];
    char sip_transports[16];
    int64_t sip_session_expires_s;
    int64_t sip_min_se_s;
    char sip_certificate[TSR_CONFIG_STR_MAX];
    char sip_private_key[TSR_CONFIG_STR_MAX];
    int64_t sip_tls_port;
    char sip_offer_srtp[16];
};

/* One schema row. `offset` locates the field in struct tsr_config. */
struct tsr_config_key {
    const char *section;
    const char *key;
    enum tsr_config_type type;
    size_t offset;
    size_t size;     /* field size for strings */
    int64_t min;     /* ints: inclusive range */
    int64_t max;
    const char *allowed; /* enums: "a|b|c" */
    const char *def;     /* default, as it appears in the file */
    const char *why;     /* one line for tessera.conf */
};

/* Purpose: the schema, terminated by a row with key == NULL. Static; thread: any. */
const struct tsr_config_key *tsr_config_schema(void);

/* Purpose: fill *cfg with the built-in defaults. Returns 0. */
int tsr_config_defaults(struct tsr_config *cfg);

/* Purpose: apply settings from `text` (the contents of file `name`, used only in
 * messages) onto *cfg. All-or-nothing: on failure *cfg is unchanged and *err is a
 * newly allocated "name:line: message" (caller g_free()s); on success *err is
 * untouched. Returns 0 or TSR_ERR_CONFIG. Thread: any. */
int tsr_config_apply_text(struct tsr_config *cfg, const char *text, size_t len, const char *name,
                          char **err);

/* Purpose: read and apply file `path`; an unreadable file is an error naming it. */
int tsr_config_apply_file(struct tsr_config *cfg, const char *path, char **err);

/* Purpose: set one key from the command line (`origin` names the flag in messages,
 * e.g. "--listen"). Same validation and error contract as a file line. */
int tsr_config_set(struct tsr_config *cfg, const char *section, const char *key, const char *value,
                   const char *origin, char **err);

/* Purpose: write the schema as a commented config file (what config/tessera.conf
 * holds). Returns a newly allocated string; caller g_free()s. */
char *tsr_config_render_defaults(void);

/* Purpose: split cfg->listen into host and port. Returns 0 or TSR_ERR_INVALID. */
int tsr_config_listen_split(const struct tsr_config *cfg, char *host, size_t host_size,
                            uint16_t *port);

#endif
