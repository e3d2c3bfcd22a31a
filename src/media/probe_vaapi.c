/* VAAPI part of the probe: find a render node, initialise libva on it, list the
 * profiles and entrypoints the driver reports. Any failure becomes a sentence in
 * `reason`, because "VAAPI unavailable" alone does not tell an operator what to fix. */
#include "probe_vaapi.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <va/va.h>
#include <va/va_drm.h>
#include <va/va_str.h>

/* The configured node if it exists, else the first /dev/dri/renderD*; "" if none. */
static void pick_node(const char *device, char *node, size_t size, char *why, size_t why_size)
{
    node[0] = '\0';
    if (device && *device && g_file_test(device, G_FILE_TEST_EXISTS)) {
        g_strlcpy(node, device, size);
        return;
    }
    GDir *dir = g_dir_open("/dev/dri", 0, NULL);
    const char *name;
    while (dir && (name = g_dir_read_name(dir))) {
        if (g_str_has_prefix(name, "renderD")) {
            snprintf(node, size, "/dev/dri/%s", name);
            break;
        }
    }
    if (dir)
        g_dir_close(dir);
    if (!node[0])
        snprintf(why, why_size,
                 "no DRM render node: %s does not exist and /dev/dri has no renderD* "
                 "nodes (no GPU, or its kernel driver is not loaded)",
                 device && *device ? device : "(none configured)");
}

static void list_profiles(struct tsr_probe_vaapi *out, VADisplay dpy)
{
    int max_p = vaMaxNumProfiles(dpy), max_e = vaMaxNumEntrypoints(dpy), np = 0;
    VAProfile *profiles = calloc((size_t)(max_p > 0 ? max_p : 1), sizeof *profiles);
    VAEntrypoint *eps = calloc((size_t)(max_e > 0 ? max_e : 1), sizeof *eps);
    if (!profiles || !eps || vaQueryConfigProfiles(dpy, profiles, &np) != VA_STATUS_SUCCESS)
        np = 0;
    for (int i = 0; i < np; i++) {
        int ne = 0;
        if (vaQueryConfigEntrypoints(dpy, profiles[i], eps, &ne) != VA_STATUS_SUCCESS)
            continue;
        json_t *list = json_array();
        for (int j = 0; j < ne; j++) {
            json_array_append_new(list, json_string(vaEntrypointStr(eps[j])));
            gboolean enc = eps[j] == VAEntrypointEncSlice || eps[j] == VAEntrypointEncSliceLP;
            if (enc && (profiles[i] == VAProfileH264ConstrainedBaseline ||
                        profiles[i] == VAProfileH264Main || profiles[i] == VAProfileH264High))
                out->h264_encode = true;
            if (enc && profiles[i] == VAProfileVP8Version0_3)
                out->vp8_encode = true;
        }
        json_array_append_new(out->profiles, json_pack("{s:s, s:o}", "profile",
                                                       vaProfileStr(profiles[i]), "entrypoints",
                                                       list));
    }
    free(profiles);
    free(eps);
}

/* libva prints its own "va_openDriver() returns -1" lines on stderr; they are
 * repeated by our reason text, so silence them. */
static void va_quiet(void *ctx, const char *message)
{
    (void)ctx, (void)message;
}

void tsr_probe_vaapi_run(struct tsr_probe_vaapi *out, const char *device)
{
    memset(out, 0, sizeof *out);
    out->profiles = json_array();
    pick_node(device, out->render_node, sizeof out->render_node, out->reason, sizeof out->reason);
    if (!out->render_node[0])
        return;
    int fd = open(out->render_node, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(out->reason, sizeof out->reason, "cannot open %s: %s", out->render_node,
                 g_strerror(errno));
        return;
    }
    VADisplay dpy = vaGetDisplayDRM(fd);
    int major = 0, minor = 0;
    if (!dpy) {
        snprintf(out->reason, sizeof out->reason, "%s is not a DRM device libva can use",
                 out->render_node);
        goto out_fd;
    }
    vaSetErrorCallback(dpy, va_quiet, NULL);
    vaSetInfoCallback(dpy, va_quiet, NULL);
    VAStatus st = vaInitialize(dpy, &major, &minor);
    if (st != VA_STATUS_SUCCESS) {
        snprintf(out->reason, sizeof out->reason,
                 "vaInitialize on %s failed: %s (no VA driver for this GPU; install one, e.g. "
                 "intel-media-va-driver or mesa-va-drivers, or set LIBVA_DRIVER_NAME)",
                 out->render_node, vaErrorStr(st));
        goto out_term;
    }
    snprintf(out->libva_version, sizeof out->libva_version, "%d.%d", major, minor);
    const char *vendor = vaQueryVendorString(dpy);
    g_strlcpy(out->driver, vendor ? vendor : "unknown", sizeof out->driver);
    list_profiles(out, dpy);
    out->available = out->h264_encode || out->vp8_encode;
    if (!out->available)
        snprintf(out->reason, sizeof out->reason,
                 "driver '%s' on %s reports no H.264 or VP8 encode entrypoint", out->driver,
                 out->render_node);
out_term:
    vaTerminate(dpy);
out_fd:
    close(fd);
}
