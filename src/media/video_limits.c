/* A receiver's picture within its decoder's limits (see tessera/video_limits.h). */
#include <tessera/video_limits.h>

#include <errno.h>

uint32_t tsr_video_limits_mbs(int w, int h)
{
    return (uint32_t)((w + 15) / 16) * (uint32_t)((h + 15) / 16);
}

/* The canvas aspect at width w, rounded to the nearest even height (at least 2). */
static int height_for(int w, int canvas_w, int canvas_h)
{
    int64_t h2 = ((int64_t)w * canvas_h + canvas_w) / (2 * (int64_t)canvas_w);
    return h2 < 1 ? 2 : (int)(h2 * 2);
}

/* The widest multiple-of-16 width whose frame has at most max_mbs macroblocks. */
static int widest(uint32_t max_mbs, int canvas_w, int canvas_h)
{
    int best = 16;
    for (int w = 16; w <= canvas_w; w += 16)
        if (tsr_video_limits_mbs(w, height_for(w, canvas_w, canvas_h)) <= max_mbs)
            best = w;
    return best;
}

int tsr_video_limits_fit(const struct tsr_video_limits *l, int canvas_w, int canvas_h,
                         int canvas_fps, struct tsr_video_format *out)
{
    if (canvas_w < 16 || canvas_h < 16 || (canvas_w | canvas_h) & 1 || canvas_fps < 1 || !out)
        return -EINVAL;
    struct tsr_video_format f = {canvas_w, canvas_h, canvas_fps};
    uint32_t canvas_mbs = tsr_video_limits_mbs(canvas_w, canvas_h);
    uint32_t max_mbs = l && l->max_fs_mbs ? l->max_fs_mbs : UINT32_MAX;
    uint32_t mbps = l && l->max_mbps ? l->max_mbps : UINT32_MAX;
    /* Keep at least the floor rate where max-mbps is what limits. */
    uint32_t floor =
        canvas_fps < TSR_VIDEO_LIMITS_MIN_FPS ? (uint32_t)canvas_fps : TSR_VIDEO_LIMITS_MIN_FPS;
    if (mbps / floor < max_mbs)
        max_mbs = mbps / floor > 0 ? mbps / floor : 1;
    if (max_mbs < canvas_mbs) {
        f.width = widest(max_mbs, canvas_w, canvas_h);
        f.height = height_for(f.width, canvas_w, canvas_h);
    }
    uint32_t rate = mbps / tsr_video_limits_mbs(f.width, f.height);
    if (rate < (uint32_t)f.fps)
        f.fps = rate > 0 ? (int)rate : 1;
    *out = f;
    return 0;
}
