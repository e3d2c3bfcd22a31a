/* VAAPI device cache: one AVHWDeviceContext per render node, shared. */
#include <tessera/err.h>
#include <tessera/hwdevice.h>
#include <tessera/log.h>

#include <errno.h>
#include <glib.h>
#include <libavutil/hwcontext.h>
#include <string.h>
#include <unistd.h>

#define MAX_DEVICES 4
#define DEFAULT_NODE "/dev/dri/renderD128"

static GMutex lock;
static struct {
    char path[256];
    AVBufferRef *ref;
} cache[MAX_DEVICES];

static AVBufferRef *lookup_locked(const char *path)
{
    for (int i = 0; i < MAX_DEVICES; i++)
        if (cache[i].ref && !strcmp(cache[i].path, path))
            return cache[i].ref;
    return NULL;
}

static void store_locked(const char *path, AVBufferRef *ref)
{
    for (int i = 0; i < MAX_DEVICES; i++) {
        if (!cache[i].ref) {
            g_strlcpy(cache[i].path, path, sizeof cache[i].path);
            cache[i].ref = av_buffer_ref(ref); /* NULL on OOM: simply not cached */
            return;
        }
    }
}

int tsr_hwdevice_vaapi_get(const char *path, AVBufferRef **out)
{
    if (!out)
        return -EINVAL;
    if (!path || !*path)
        path = DEFAULT_NODE;
    if (strlen(path) >= sizeof cache[0].path)
        return -EINVAL;
    g_mutex_lock(&lock);
    AVBufferRef *ref = lookup_locked(path);
    ref = ref ? av_buffer_ref(ref) : NULL;
    g_mutex_unlock(&lock);
    if (ref) {
        *out = ref;
        return 0;
    }
    /* Check the node first: libva prints alarming lines for a missing node, and a
     * missing node is the ordinary "no GPU here" case. Opening is done unlocked;
     * two racing first users may both open, and the loser's device is dropped. */
    if (access(path, R_OK | W_OK) != 0) {
        TSR_LOG(TSR_LOG_DEBUG, "vaapi", "render node %s not usable: %s", path, strerror(errno));
        return TSR_ERR_HW_UNAVAILABLE;
    }
    if (av_hwdevice_ctx_create(&ref, AV_HWDEVICE_TYPE_VAAPI, path, NULL, 0) < 0) {
        TSR_LOG(TSR_LOG_INFO, "vaapi", "cannot initialise VAAPI on %s", path);
        return TSR_ERR_HW_UNAVAILABLE;
    }
    g_mutex_lock(&lock);
    AVBufferRef *existing = lookup_locked(path);
    if (existing) {
        av_buffer_unref(&ref);
        ref = av_buffer_ref(existing);
    } else {
        store_locked(path, ref);
    }
    g_mutex_unlock(&lock);
    if (!ref)
        return -ENOMEM;
    *out = ref;
    return 0;
}

void tsr_hwdevice_release_all(void)
{
    g_mutex_lock(&lock);
    for (int i = 0; i < MAX_DEVICES; i++)
        av_buffer_unref(&cache[i].ref);
    g_mutex_unlock(&lock);
}
