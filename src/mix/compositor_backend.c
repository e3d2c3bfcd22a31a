/* The compositor's backend setting and what the probe reports about it. */
#include <tessera/compositor.h>

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "vk_context.h"

static const char *const names[] = {
    [TSR_COMPOSITOR_BACKEND_CPU] = "cpu",
    [TSR_COMPOSITOR_BACKEND_AUTO] = "auto",
    [TSR_COMPOSITOR_BACKEND_VULKAN] = "vulkan",
};

int tsr_compositor_backend_parse(const char *name, enum tsr_compositor_backend *out)
{
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (enum tsr_compositor_backend)i;
            return 0;
        }
    return -EINVAL;
}

const char *tsr_compositor_backend_name(enum tsr_compositor_backend b)
{
    return (size_t)b < sizeof names / sizeof names[0] ? names[b] : "?";
}

void tsr_compositor_probe_run(enum tsr_compositor_backend setting, struct tsr_compositor_probe *out)
{
    memset(out, 0, sizeof *out);
    out->setting = setting;
    out->chosen = TSR_COMPOSITOR_BACKEND_CPU;
    struct tsr_vk_context *ctx = NULL;
    struct tsr_vk_info info;
    /* cpu asks nothing of the device, but the probe still says what is there */
    bool gpu_only = setting != TSR_COMPOSITOR_BACKEND_VULKAN;
    int rc = tsr_vk_context_get(&ctx, gpu_only, &info);
    out->loader = info.loader;
    if (info.device) {
        snprintf(out->device, sizeof out->device, "%s", info.name);
        snprintf(out->device_type, sizeof out->device_type, "%s", tsr_vk_type_name(info.type));
    }
    if (setting == TSR_COMPOSITOR_BACKEND_CPU)
        snprintf(out->reason, sizeof out->reason, "compositor = cpu%s%s",
                 rc == 0 ? "" : "; Vulkan would not be used either: ", rc == 0 ? "" : info.reason);
    else if (rc == 0) {
        out->chosen = TSR_COMPOSITOR_BACKEND_VULKAN;
        snprintf(out->reason, sizeof out->reason, "compositor = %s and %s is a %s device",
                 tsr_compositor_backend_name(setting), info.name, tsr_vk_type_name(info.type));
    } else
        snprintf(out->reason, sizeof out->reason, "%s", info.reason);
    tsr_vk_context_unref(&ctx);
}

char *tsr_compositor_probe_to_text(const struct tsr_compositor_probe *p)
{
    const char *dev = p->device[0] ? p->device : "none";
    return g_strdup_printf("compositor: %s (setting %s): %s\n"
                           "vulkan: loader %s, device %s%s%s%s\n",
                           tsr_compositor_backend_name(p->chosen),
                           tsr_compositor_backend_name(p->setting), p->reason,
                           p->loader ? "yes" : "no", dev, p->device[0] ? " (" : "",
                           p->device_type, p->device[0] ? ")" : "");
}

json_t *tsr_compositor_probe_to_json(const struct tsr_compositor_probe *p)
{
    return json_pack("{s:s, s:s, s:b, s:s?, s:s?, s:s}", "setting",
                     tsr_compositor_backend_name(p->setting), "chosen",
                     tsr_compositor_backend_name(p->chosen), "vulkan_loader", p->loader, "device",
                     p->device[0] ? p->device : NULL, "device_type",
                     p->device[0] ? p->device_type : NULL, "reason", p->reason);
}
