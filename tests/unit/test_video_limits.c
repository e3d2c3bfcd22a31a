/* A receiver's picture within its declared decoder limits: sizes and rates for
 * H.264 levels and max-fs / max-mbps against a 1280x720 at 30 fps canvas. */
#include <tessera/sdp_h264.h>
#include <tessera/video_limits.h>

#include <errno.h>
#include <glib.h>

static struct tsr_video_format fit(uint32_t max_fs, uint32_t max_mbps)
{
    struct tsr_video_limits l = {.max_fs_mbs = max_fs, .max_mbps = max_mbps};
    struct tsr_video_format f;
    g_assert_cmpint(tsr_video_limits_fit(&l, 1280, 720, 30, &f), ==, 0);
    /* Always within what was declared, width a multiple of 16, height even. */
    g_assert_cmpint(f.width % 16, ==, 0);
    g_assert_cmpint(f.height % 2, ==, 0);
    if (max_fs)
        g_assert_cmpuint(tsr_video_limits_mbs(f.width, f.height), <=, max_fs);
    if (max_mbps)
        g_assert_cmpuint(tsr_video_limits_mbs(f.width, f.height) * (uint32_t)f.fps, <=, max_mbps);
    return f;
}

static struct tsr_video_format fit_level(unsigned level_idc)
{
    uint32_t fs, mbps;
    tsr_sdp_h264_level_limits(level_idc, false, &fs, &mbps, NULL);
    return fit(fs, mbps);
}

#define ASSERT_FORMAT(f, w, h, r)                                                                  \
    do {                                                                                           \
        g_assert_cmpint((f).width, ==, (w));                                                       \
        g_assert_cmpint((f).height, ==, (h));                                                      \
        g_assert_cmpint((f).fps, ==, (r));                                                         \
    } while (0)

static void test_no_limits(void)
{
    struct tsr_video_format f;
    g_assert_cmpint(tsr_video_limits_fit(NULL, 1280, 720, 30, &f), ==, 0);
    ASSERT_FORMAT(f, 1280, 720, 30);
    struct tsr_video_limits none = {0};
    g_assert_cmpint(tsr_video_limits_fit(&none, 1280, 720, 30, &f), ==, 0);
    ASSERT_FORMAT(f, 1280, 720, 30);
    /* Limits the canvas fits leave it as it is (level 3.1 is exactly 720p30). */
    ASSERT_FORMAT(fit_level(31), 1280, 720, 30);
    ASSERT_FORMAT(fit_level(40), 1280, 720, 30);
    ASSERT_FORMAT(fit(8160, 0), 1280, 720, 30);
    g_assert_cmpint(tsr_video_limits_fit(NULL, 1280, 721, 30, &f), ==, -EINVAL);
    g_assert_cmpint(tsr_video_limits_fit(NULL, 1280, 720, 0, &f), ==, -EINVAL);
}

static void test_max_fs(void)
{
    /* CIF's 396 macroblocks: the widest 16:9 picture in them is 416x234 (390). */
    ASSERT_FORMAT(fit(396, 0), 416, 234, 30);
    /* QCIF's 99: 176x100 is 11x7 = 77; 192x108 would be 12x7 = 84, 208x118 13x8 = 104. */
    ASSERT_FORMAT(fit(99, 0), 192, 108, 30);
    /* 720p's 3600 minus one macroblock: the next width down. */
    struct tsr_video_format f = fit(3599, 0);
    g_assert_cmpint(f.width, <, 1280);
    g_assert_cmpint(f.width, >=, 1200);
}

static void test_levels(void)
{
    /* 1.3: 396 MBs at 11880 MB/s: CIF-class at 30 fps. */
    ASSERT_FORMAT(fit_level(13), 416, 234, 30);
    /* 3.0: 1620 MBs at 40500 MB/s: 848x478 (53x30 = 1590 MBs) at 25 fps. */
    ASSERT_FORMAT(fit_level(30), 848, 478, 25);
    /* 1.1: 396 MBs but only 3000 MB/s: rather than 416x234 at 7 fps, shrink to keep
     * 15 fps: 288x162 (18x11 = 198 MBs). */
    ASSERT_FORMAT(fit_level(11), 288, 162, 15);
    /* 1.0 (and 1b): QCIF's 99 MBs at 1485 MB/s: 192x108 (84 MBs) at 17 fps. */
    ASSERT_FORMAT(fit_level(10), 192, 108, 17);
    uint32_t fs, mbps;
    uint32_t br;
    tsr_sdp_h264_level_limits(11, true, &fs, &mbps, &br); /* 1b */
    g_assert_cmpuint(fs, ==, 99);
    g_assert_cmpuint(mbps, ==, 1485);
    g_assert_cmpuint(br, ==, 128);
    tsr_sdp_h264_level_limits(13, false, &fs, &mbps, &br);
    g_assert_cmpuint(br, ==, 768);
    /* Unknown levels take the one below: 3.5 is 3.2's, 0 is 1.0's. */
    tsr_sdp_h264_level_limits(35, false, &fs, &mbps, NULL);
    g_assert_cmpuint(fs, ==, 5120);
    tsr_sdp_h264_level_limits(0, false, &fs, &mbps, NULL);
    g_assert_cmpuint(fs, ==, 99);
}

static void test_max_mbps(void)
{
    /* The full canvas at 54000 MB/s: 15 fps at 1280x720. */
    ASSERT_FORMAT(fit(3600, 54000), 1280, 720, 15);
    /* Below the 15 fps floor at full size: shrink to 900 MBs (13500 / 15). */
    struct tsr_video_format f = fit(3600, 13500);
    g_assert_cmpint(f.fps, >=, 15);
    g_assert_cmpuint(tsr_video_limits_mbs(f.width, f.height), <=, 900);
    /* The canvas rate is the ceiling, and a slow canvas lowers the floor. */
    struct tsr_video_limits l = {.max_fs_mbs = 3600, .max_mbps = 3600 * 10};
    g_assert_cmpint(tsr_video_limits_fit(&l, 1280, 720, 10, &f), ==, 0);
    ASSERT_FORMAT(f, 1280, 720, 10);
    l.max_mbps = 3600 * 5;
    g_assert_cmpint(tsr_video_limits_fit(&l, 1280, 720, 10, &f), ==, 0);
    g_assert_cmpint(f.fps, ==, 10);
    g_assert_cmpint(f.width, <, 1280);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/video_limits/no_limits", test_no_limits);
    g_test_add_func("/video_limits/max_fs", test_max_fs);
    g_test_add_func("/video_limits/levels", test_levels);
    g_test_add_func("/video_limits/max_mbps", test_max_mbps);
    return g_test_run();
}
