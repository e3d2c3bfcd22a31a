/* The configuration schema: every key Tessera reads, its type, range, default
 * and why. config/tessera.conf must agree with this table (tests/unit/test_config.c). */
#include <tessera/config.h>

#include <stddef.h>

#define STR_KEY(sec, name, field, dflt, why)                                                       \
    {sec, name, TSR_CONFIG_STRING, offsetof(struct tsr_config, field),                              \
     sizeof(((struct tsr_config *)0)->field), 0, 0, NULL, dflt, why}
#define ENUM_KEY(sec, name, field, allowed_, dflt, why)                                            \
    {sec, name, TSR_CONFIG_ENUM, offsetof(struct tsr_config, field),                                \
     sizeof(((struct tsr_config *)0)->field), 0, 0, allowed_, dflt, why}
#define HOSTPORT_KEY(sec, name, field, dflt, why)                                                  \
    {sec, name, TSR_CONFIG_HOSTPORT, offsetof(struct tsr_config, field),                            \
     sizeof(((struct tsr_config *)0)->field), 0, 0, NULL, dflt, why}
#define INT_KEY(sec, name, field, lo, hi, dflt, why)                                               \
    {sec, name, TSR_CONFIG_INT, offsetof(struct tsr_config, field),                                 \
     sizeof(((struct tsr_config *)0)->field), lo, hi, NULL, dflt, why}
#define BOOL_KEY(sec, name, field, dflt, why)                                                      \
    {sec, name, TSR_CONFIG_BOOL, offsetof(struct tsr_config, field),                                \
     sizeof(((struct tsr_config *)0)->field), 0, 1, NULL, dflt, why}

static const struct tsr_config_key schema[] = {
    HOSTPORT_KEY("server", "listen", listen, "0.0.0.0:8080",
                 "HTTP address for the API, the web client, /healthz and /metrics."),
    STR_KEY("server", "web_root", web_root, "",
            "Directory of the web client served at /; empty means web/ in the source tree."),
    ENUM_KEY("log", "level", log_level, "error|warn|info|debug|trace", "info",
             "info shows joins, leaves and errors; debug adds per-stream detail."),
    ENUM_KEY("media", "encoder", encoder, "auto|software|vaapi", "auto",
             "auto uses VAAPI when the start-up probe finds it working, else software."),
    STR_KEY("media", "vaapi_device", vaapi_device, "/dev/dri/renderD128",
            "DRM render node for VAAPI; a missing node means software encoding."),
    BOOL_KEY("conferences", "allow_adhoc", allow_adhoc, "true",
             "A join to an unknown alias creates the conference; false admits only defined ones."),
    INT_KEY("conferences", "empty_timeout_s", empty_timeout_s, 0, 86400, "60",
            "An empty conference lingers this long so a dropped caller can rejoin its state."),
    INT_KEY("conferences", "token_ttl_s", token_ttl_s, 10, 3600, "120",
            "A participant whose client stops refreshing its token is removed after this."),
    INT_KEY("conferences", "max_participants", max_participants, 1, 1000, "25",
            "Limit for ad-hoc conferences; defined ones set their own."),
    ENUM_KEY("conferences", "default_layout", default_layout, "grid|speaker|single", "grid",
             "Layout a new conference starts with; hosts can change it."),
    /* Predefined conferences live in a JSON file rather than in sections of this file:
     * the schema is flat (fixed sections and keys), and a list of rooms, each with
     * PINs, layout and limit, is data, not settings. See config/conferences.example.json. */
    STR_KEY("conferences", "file", conferences_file, "",
            "JSON file of predefined conferences (alias, name, PINs, layout, limit); empty: none."),
    {NULL, NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL},
};

const struct tsr_config_key *tsr_config_schema(void)
{
    return schema;
}
