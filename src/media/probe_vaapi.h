/* Internal to the probe: the VAAPI half. */
#ifndef TSR_PROBE_VAAPI_H
#define TSR_PROBE_VAAPI_H

#include <jansson.h>
#include <stdbool.h>

struct tsr_probe_vaapi {
    bool available;      /* a render node opened, libva initialised, an encode entrypoint */
    char render_node[256];
    char driver[256];    /* libva vendor string */
    char libva_version[32];
    char reason[1024];   /* why not available, or "" */
    json_t *profiles;    /* [{profile, entrypoints:[…]}] */
    bool h264_encode;
    bool vp8_encode;
};

/* Fills *out; never fails (failures become `reason`). Caller json_decref()s profiles. */
void tsr_probe_vaapi_run(struct tsr_probe_vaapi *out, const char *device);

#endif
