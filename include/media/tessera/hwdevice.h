/* Hardware device (VAAPI) for encoders and, later, GPU scaling.
 *
 * One libavutil VAAPI device per render node is opened on first use and shared by
 * every encoder (a VA display per encoder would cost a DRM fd and driver state
 * each). Thread: any (a mutex guards the cache; callers never hold it). */
#ifndef TESSERA_HWDEVICE_H
#define TESSERA_HWDEVICE_H

#include <libavutil/buffer.h>

/* Purpose: a new reference to the VAAPI device on render node `path` (NULL =
 * /dev/dri/renderD128), opening it on first use. Ownership: the caller owns *out
 * (av_buffer_unref). Returns 0, -EINVAL, or TSR_ERR_HW_UNAVAILABLE (no such node,
 * no VA driver, initialisation failed; nothing is cached, a later call retries). */
int tsr_hwdevice_vaapi_get(const char *path, AVBufferRef **out);

/* Purpose: drop the cache's references (process exit, tests). Devices stay alive
 * while encoders still hold references. */
void tsr_hwdevice_release_all(void);

#endif
