/* What a receiver's decoder takes (a SIP endpoint's H.264 max-fs / max-mbps or
 * level, its packetization mode) and the picture it is sent within them: the
 * conference's aspect, no larger than the canvas, at no more than its rate. Pure.
 *
 * The size is the widest one whose width is a multiple of 16 and whose height
 * (the canvas aspect, rounded to even) keeps the frame within max-fs macroblocks.
 * When max-mbps would then leave fewer than TSR_VIDEO_LIMITS_MIN_FPS frames a
 * second (or the canvas rate, when that is lower), the frame shrinks until it does
 * not: a smaller moving picture reads better than a large one at a few frames a
 * second. The rate is the most max-mbps allows at that size, at most the canvas's. */
#ifndef TESSERA_VIDEO_LIMITS_H
#define TESSERA_VIDEO_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#define TSR_VIDEO_LIMITS_MIN_FPS 15

struct tsr_video_limits {
    uint32_t max_fs_mbs; /* largest frame in 16x16 macroblocks; 0 = no limit */
    uint32_t max_mbps;   /* macroblocks a second; 0 = no limit */
    uint32_t max_kbps;   /* the most it takes, 1000 bit/s (H.264 max-br or MaxBR); 0 = none */
    bool single_nal;     /* H.264 packetization-mode 0: every NAL unit in one RTP packet */
};

/* The picture a receiver gets. */
struct tsr_video_format {
    int width, height; /* width a multiple of 16 (or the canvas's), height even */
    int fps;           /* 1..canvas fps */
};

/* Purpose: the picture for a receiver with limits `l` (NULL = none) of a canvas
 * canvas_w x canvas_h (even, >= 16) at canvas_fps (>= 1). Without limits, or with
 * limits the canvas fits, that is the canvas itself. Returns 0 and *out, or
 * -EINVAL for a bad canvas. Thread: any. */
int tsr_video_limits_fit(const struct tsr_video_limits *l, int canvas_w, int canvas_h,
                         int canvas_fps, struct tsr_video_format *out);

/* Purpose: 16x16 macroblocks of a w x h frame (partial ones count). */
uint32_t tsr_video_limits_mbs(int w, int h);

#endif
