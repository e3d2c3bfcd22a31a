/* The mixer's groups for receivers with smaller decoders (conference_fitted.c):
 * which group a receiver lands in, the rate schedule that skips canvas ticks, and
 * the canvas scaled once per size and shared by the view's groups of that size. */
#include <tessera/err.h>
#include <tessera/video_limits.h>

#include <stdlib.h>

#include "../../src/mix/conference_mixer_internal.h"
#include "video_testutil.h"

static struct tsr_conf_mixer *mixer_new(int w, int h, int fps)
{
    struct tsr_conf_mixer *m = calloc(1, sizeof *m);
    m->params.canvas_w = w;
    m->params.canvas_h = h;
    m->params.fps = fps;
    m->log_ctx = "test";
    return m;
}

static struct mix_peer peer(int w, int h, int fps, bool single_nal, int tier)
{
    return (struct mix_peer){
        .codec = TSR_VIDEO_CODEC_H264, .fmt = {w, h, fps}, .single_nal = single_nal, .tier = tier};
}

static void test_groups(void)
{
    struct tsr_conf_mixer *m = mixer_new(1280, 720, 30);
    struct mix_view v = {0};
    struct mix_peer canvas = peer(1280, 720, 30, false, 0), cif = peer(416, 234, 30, true, 0),
                    cif2 = cif, cif_mode1 = peer(416, 234, 30, false, 0),
                    canvas_mode0 = peer(1280, 720, 30, true, 0);
    /* The canvas at mode 1 is the fixed group of its codec and tier, as before. */
    g_assert_true(tsr_mix_view_group_for(m, &v, &canvas) ==
                  &v.groups[TSR_VIDEO_CODEC_H264 * MIXER_TIERS]);
    /* Same size, rate and mode: one group; another mode or size: another one. */
    struct mix_vgroup *a = tsr_mix_view_group_for(m, &v, &cif);
    g_assert_true(tsr_mix_view_group_for(m, &v, &cif2) == a);
    g_assert_true(a->fitted && a->single_nal);
    g_assert_cmpint(a->fmt.width, ==, 416);
    struct mix_vgroup *b = tsr_mix_view_group_for(m, &v, &cif_mode1);
    struct mix_vgroup *c = tsr_mix_view_group_for(m, &v, &canvas_mode0);
    g_assert_true(b != a && c != a && c != b);
    g_assert_cmpuint(tsr_mix_view_n_groups(&v), ==, MIXER_GROUPS + 3);
    g_assert_true(tsr_mix_view_group(&v, MIXER_GROUPS) == a);
    /* Without subscribers a fitted group goes; the fixed ones stay. */
    tsr_mix_vgroup_drop_if_unused(b);
    g_assert_cmpuint(tsr_mix_view_n_groups(&v), ==, MIXER_GROUPS + 2);
    tsr_mix_vgroup_drop_if_unused(&v.groups[0]);
    tsr_mix_view_free_fitted(&v);
    g_assert_null(v.fitted);
    free(m);
}

/* A 25 fps group on a 30 fps canvas encodes 25 of 30 ticks, evenly; one at the
 * canvas rate encodes every tick; after a pause it starts again at once without
 * catching up. */
static void test_rate(void)
{
    struct tsr_conf_mixer *m = mixer_new(1280, 720, 30);
    struct mix_vgroup g25 = {.fitted = true, .fmt = {848, 478, 25}};
    struct mix_vgroup g30 = {.fitted = true, .fmt = {416, 234, 30}};
    int n25 = 0, n30 = 0, run = 0, longest_skip_run = 0;
    for (int i = 0; i < 300; i++) {
        int64_t now = 1000000 + (int64_t)i * 1000000 / 30;
        bool due = tsr_mix_vgroup_due(m, &g25, now);
        n25 += due;
        n30 += tsr_mix_vgroup_due(m, &g30, now);
        run = due ? 0 : run + 1;
        longest_skip_run = MAX(longest_skip_run, run);
    }
    g_assert_cmpint(n25, ==, 250);
    g_assert_cmpint(n30, ==, 300);
    g_assert_cmpint(longest_skip_run, ==, 1);
    /* 5 fps after a 10 s pause: the first tick is due, the next ones wait 200 ms. */
    struct mix_vgroup g5 = {.fitted = true, .fmt = {192, 108, 5}};
    g_assert_true(tsr_mix_vgroup_due(m, &g5, 1000000));
    int64_t t = 11000000;
    g_assert_true(tsr_mix_vgroup_due(m, &g5, t));
    int later = 0;
    for (int i = 1; i <= 30; i++)
        later += tsr_mix_vgroup_due(m, &g5, t + (int64_t)i * 1000000 / 30);
    g_assert_cmpint(later, ==, 5);
    free(m);
}

/* Groups of one size share one scaled picture of each canvas; the canvas size
 * takes the canvas itself. A uniform canvas stays uniform when scaled. */
static void test_picture(void)
{
    struct tsr_conf_mixer *m = mixer_new(640, 360, 30);
    struct mix_view v = {0};
    struct mix_peer low0 = peer(320, 180, 30, false, 0), low1 = peer(320, 180, 30, false, 1),
                    mode0 = peer(640, 360, 30, true, 0);
    struct mix_vgroup *a = tsr_mix_view_group_for(m, &v, &low0);
    struct mix_vgroup *b = tsr_mix_view_group_for(m, &v, &low1);
    struct mix_vgroup *c = tsr_mix_view_group_for(m, &v, &mode0);
    AVFrame *canvas = vt_frame_new(AV_PIX_FMT_YUV420P, 640, 360);
    memset(canvas->data[0], 81, (size_t)canvas->linesize[0] * 360);
    memset(canvas->data[1], 90, (size_t)canvas->linesize[1] * 180);
    memset(canvas->data[2], 240, (size_t)canvas->linesize[2] * 180);
    canvas->pts = 4500;
    for (int tick = 0; tick < 2; tick++) {
        const AVFrame *pa = NULL, *pb = NULL, *pc = NULL;
        int64_t now = 1000000 + tick * 33333;
        g_assert_cmpint(tsr_mix_vgroup_picture(m, a, canvas, now, &pa), ==, 0);
        g_assert_cmpint(tsr_mix_vgroup_picture(m, b, canvas, now, &pb), ==, 0);
        g_assert_cmpint(tsr_mix_vgroup_picture(m, c, canvas, now, &pc), ==, 0);
        g_assert_true(pa == pb); /* scaled once */
        g_assert_null(b->scaled);
        g_assert_true(pc == canvas);
        g_assert_cmpint(pa->width, ==, 320);
        g_assert_cmpint(pa->height, ==, 180);
        g_assert_cmpint(pa->pts, ==, canvas->pts);
        for (int y = 0; y < 180; y += 37)
            for (int x = 0; x < 320; x += 29) {
                g_assert_cmpuint(pa->data[0][y * pa->linesize[0] + x], ==, 81);
                g_assert_cmpuint(pa->data[1][y / 2 * pa->linesize[1] + x / 2], ==, 90);
                g_assert_cmpuint(pa->data[2][y / 2 * pa->linesize[2] + x / 2], ==, 240);
            }
    }
    /* A canvas in a format the scaler does not take is refused, not misread. */
    AVFrame *nv12 = vt_frame_new(AV_PIX_FMT_NV12, 640, 360);
    const AVFrame *p = NULL;
    g_assert_cmpint(tsr_mix_vgroup_picture(m, a, nv12, 2000000, &p), ==, TSR_ERR_UNSUPPORTED);
    av_frame_free(&nv12);
    av_frame_free(&canvas);
    tsr_mix_view_free_fitted(&v);
    free(m);
}

/* A fitted group's bit rate: its share of the canvas's pixels a second, at least
 * a quarter of its tier's rate, within its decoders' limit (the H.264 level). A
 * receiver at the canvas size with a limit below the tiers gets a group too. */
static void test_bitrate(void)
{
    struct tsr_conf_mixer *m = mixer_new(1280, 720, 30);
    m->params.video_bitrate_bps = 1500000;
    struct mix_vgroup canvas = {.fmt = {1280, 720, 30}};
    struct mix_vgroup half = {.fitted = true, .fmt = {1280, 720, 15}};
    struct mix_vgroup cif = {.fitted = true, .fmt = {416, 234, 30}};
    struct mix_vgroup qcif = {.fitted = true, .fmt = {192, 108, 17}, .max_bps = 64000};
    g_assert_cmpint(tsr_mix_vgroup_bitrate(m, &canvas, 1500000), ==, 1500000);
    g_assert_cmpint(tsr_mix_vgroup_bitrate(m, &half, 1500000), ==, 750000);
    g_assert_cmpint(tsr_mix_vgroup_bitrate(m, &cif, 1500000), ==, 375000);
    g_assert_cmpint(tsr_mix_vgroup_bitrate(m, &cif, 500000), ==, 125000);
    g_assert_cmpint(tsr_mix_vgroup_bitrate(m, &qcif, 1500000), ==, 64000);
    qcif.max_bps = 20000; /* below what an encoder takes: its floor */
    g_assert_cmpint(tsr_mix_vgroup_bitrate(m, &qcif, 1500000), ==, 50000);
    struct mix_view v = {0};
    struct mix_peer capped = peer(1280, 720, 30, false, 0);
    capped.max_bps = 768000;
    struct mix_vgroup *g = tsr_mix_view_group_for(m, &v, &capped);
    g_assert_true(g->fitted);
    g_assert_cmpint(tsr_mix_vgroup_bitrate(m, g, 1500000), ==, 768000);
    tsr_mix_view_free_fitted(&v);
    free(m);
}

/* Signalled limits (b=AS/TIAS, TMMBR) fall on a ladder of rate steps, so
 * receivers with nearby limits share an encoder: 300 and 280 kb/s both get the
 * 256 kb/s step's group, 200 kb/s the 192 kb/s one. */
static void test_rate_steps(void)
{
    static const struct {
        int64_t cap, step;
    } cases[] = {
        {1, 64000},         {63999, 64000},     {64000, 64000},     {95999, 64000},
        {96000, 96000},     {200000, 192000},   {300000, 256000},   {383999, 256000},
        {384000, 384000},   {1000000, 768000},  {1024000, 1024000}, {1600000, 1536000},
        {2500000, 2048000}, {5000000, 4096000}, {8192000, 8192000},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        g_assert_cmpint(tsr_mix_rate_step(cases[i].cap), ==, cases[i].step);
    struct tsr_conf_mixer *m = mixer_new(1280, 720, 30);
    m->params.video_bitrate_bps = 1500000;
    struct mix_view v = {0};
    struct mix_peer a = peer(1280, 720, 30, false, 0), b = a, c = a;
    a.max_bps = tsr_mix_rate_step(300000);
    b.max_bps = tsr_mix_rate_step(280000);
    c.max_bps = tsr_mix_rate_step(200000);
    struct mix_vgroup *ga = tsr_mix_view_group_for(m, &v, &a);
    g_assert_true(tsr_mix_view_group_for(m, &v, &b) == ga);
    struct mix_vgroup *gc = tsr_mix_view_group_for(m, &v, &c);
    g_assert_true(gc != ga);
    g_assert_cmpint(tsr_mix_vgroup_bitrate(m, ga, 1500000), ==, 256000);
    g_assert_cmpint(tsr_mix_vgroup_bitrate(m, gc, 1500000), ==, 192000);
    tsr_mix_view_free_fitted(&v);
    free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/conference_fitted/groups", test_groups);
    g_test_add_func("/conference_fitted/rate", test_rate);
    g_test_add_func("/conference_fitted/picture", test_picture);
    g_test_add_func("/conference_fitted/bitrate", test_bitrate);
    g_test_add_func("/conference_fitted/rate_steps", test_rate_steps);
    return g_test_run();
}
