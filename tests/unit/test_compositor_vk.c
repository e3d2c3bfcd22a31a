/* The Vulkan compositor on Mesa's lavapipe (a CPU Vulkan driver, so the real shaders
 * run on machines without a GPU): its canvas against the C reference kernels within
 * ±2 per sample (1, 4, 9, 25 tiles, odd source sizes, every source format, full
 * range, letterbox, placeholders, partial redraws), a device failure mid-stream
 * continuing on the CPU with the next frame byte-identical to the CPU path, `auto`
 * refusing a CPU implementation, and no loader / no device giving the CPU.
 * Canvases are small: lavapipe runs on the test machine's two cores. */
#include <tessera/compositor.h>
#include <tessera/layout.h>
#include <tessera/metrics.h>

#include <glob.h>
#include <stdlib.h>

#include "../../src/mix/compositor_gpu.h"
#include "../../src/mix/vk_context.h"
#include "video_testutil.h"

#define BG_RGB 0x15181du
#define CW 320
#define CH 180

/* Only lavapipe: the `auto` case must see a CPU implementation, whatever else the
 * machine has. */
static void use_lavapipe_only(void)
{
    glob_t g;
    if (glob("/usr/share/vulkan/icd.d/lvp_icd.*.json", 0, NULL, &g) != 0)
        g_error("lavapipe is not installed (Debian mesa-vulkan-drivers; scripts/deps.sh test)");
    g_setenv("VK_ICD_FILENAMES", g.gl_pathv[0], TRUE);
    g_setenv("VK_DRIVER_FILES", g.gl_pathv[0], TRUE);
    globfree(&g);
}

static struct tsr_compositor *comp_new(enum tsr_compositor_backend b,
                                       enum tsr_compositor_format fmt,
                                       enum tsr_compositor_kernels k)
{
    struct tsr_compositor_params cp = {
        .width = CW, .height = CH, .format = fmt, .background_rgb = BG_RGB, .kernels = k,
        .backend = b};
    struct tsr_compositor *c = NULL;
    g_assert_cmpint(tsr_compositor_new(&c, &cp), ==, 0);
    return c;
}

/* Every sample of every plane within `tol`; returns the largest difference. */
static int compare_canvas(const AVFrame *a, const AVFrame *b, int tol)
{
    g_assert_cmpint(a->format, ==, b->format);
    bool nv12 = a->format == AV_PIX_FMT_NV12;
    int worst = 0;
    for (int p = 0; p < (nv12 ? 2 : 3); p++) {
        int w = p == 0 || nv12 ? a->width : a->width / 2, h = p ? a->height / 2 : a->height;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int d = abs(a->data[p][y * a->linesize[p] + x] - b->data[p][y * b->linesize[p] + x]);
                if (d > tol)
                    g_error("plane %d sample %d,%d: %d vs %d", p, x, y,
                            a->data[p][y * a->linesize[p] + x], b->data[p][y * b->linesize[p] + x]);
                worst = d > worst ? d : worst;
            }
    }
    return worst;
}

/* A room of pictures of awkward sizes and every format the compositor takes. */
#define N_KINDS 6
static AVFrame *room_frame(int i, int t)
{
    static const struct {
        int fmt, w, h;
    } kinds[N_KINDS] = {
        {AV_PIX_FMT_YUV420P, 97, 55},  {AV_PIX_FMT_NV12, 322, 182},   {AV_PIX_FMT_YUV422P, 161, 121},
        {AV_PIX_FMT_YUVJ420P, 640, 360}, {AV_PIX_FMT_YUV444P, 75, 99}, {AV_PIX_FMT_YUV420P, 33, 17},
    };
    AVFrame *f = vt_frame_new(kinds[i % N_KINDS].fmt, kinds[i % N_KINDS].w, kinds[i % N_KINDS].h);
    vt_fill_pattern(f, t + 7 * i);
    return f;
}

static size_t grid_tiles(int n, struct tsr_layout_tile *tiles)
{
    uint32_t ids[32];
    for (int i = 0; i < n; i++)
        ids[i] = (uint32_t)(i + 1);
    struct tsr_layout_params lp = {
        .kind = TSR_LAYOUT_GRID, .canvas_w = CW, .canvas_h = CH, .gap_px = 2};
    size_t nt = 0;
    g_assert_cmpint(tsr_layout_compute(&lp, ids, (size_t)n, NULL, 0, tiles, &nt), ==, 0);
    g_assert_cmpuint(nt, ==, (size_t)n);
    return nt;
}

/* Renders the same sources on both compositors and compares. */
static int render_both(struct tsr_compositor *gpu, struct tsr_compositor *ref,
                       const struct tsr_layout_tile *tiles, const struct tsr_compositor_source *src,
                       size_t n, int tol)
{
    AVFrame *a = NULL, *b = NULL;
    g_assert_cmpint(tsr_compositor_render(gpu, tiles, src, n, &a), ==, 0);
    g_assert_cmpint(tsr_compositor_render(ref, tiles, src, n, &b), ==, 0);
    int worst = compare_canvas(a, b, tol);
    av_frame_free(&a);
    av_frame_free(&b);
    return worst;
}

/* n tiles; the last participant has no video (placeholder). Frame 2 changes every
 * other tile only, so the GPU's kept canvas must still hold the others. */
static void grid_case(int n, enum tsr_compositor_format fmt)
{
    struct tsr_compositor *gpu = comp_new(TSR_COMPOSITOR_BACKEND_VULKAN, fmt,
                                          TSR_COMPOSITOR_KERNELS_REFERENCE);
    struct tsr_compositor *ref = comp_new(TSR_COMPOSITOR_BACKEND_CPU, fmt,
                                          TSR_COMPOSITOR_KERNELS_REFERENCE);
    g_assert_cmpint(tsr_compositor_backend_in_use(gpu), ==, TSR_COMPOSITOR_BACKEND_VULKAN);
    struct tsr_layout_tile tiles[TSR_LAYOUT_MAX_TILES];
    size_t nt = grid_tiles(n, tiles);
    AVFrame *frames[TSR_LAYOUT_MAX_TILES] = {0};
    struct tsr_compositor_source src[TSR_LAYOUT_MAX_TILES];
    int worst = 0;
    for (int t = 0; t < 2; t++) {
        for (size_t i = 0; i < nt; i++) {
            bool change = t == 0 || i % 2 == 0;
            if (change && (n == 1 || i + 1 < nt)) {
                av_frame_free(&frames[i]);
                frames[i] = room_frame((int)i, t * 3);
            }
            src[i] = (struct tsr_compositor_source){.frame = frames[i], .changed = change};
        }
        int w = render_both(gpu, ref, tiles, src, nt, 2);
        worst = w > worst ? w : worst;
    }
    struct tsr_compositor_stats st;
    tsr_compositor_get_stats(gpu, &st);
    g_assert_cmpuint(st.gpu_renders, ==, 2);
    g_assert_cmpuint(st.gpu_fallbacks, ==, 0);
    g_test_message("%d tiles, %s: largest difference %d", n,
                   fmt == TSR_COMPOSITOR_FORMAT_NV12 ? "nv12" : "i420", worst);
    for (size_t i = 0; i < nt; i++)
        av_frame_free(&frames[i]);
    tsr_compositor_free(&gpu);
    tsr_compositor_free(&ref);
}

static void test_grids_match_reference(void)
{
    static const int counts[] = {1, 4, 9, 25};
    for (size_t i = 0; i < G_N_ELEMENTS(counts); i++)
        grid_case(counts[i], TSR_COMPOSITOR_FORMAT_I420);
    grid_case(4, TSR_COMPOSITOR_FORMAT_NV12);
    grid_case(9, TSR_COMPOSITOR_FORMAT_NV12);
}

/* Content tiles are letterboxed: bars left and right, then top and bottom; and a
 * large source shrunk more than 5x takes the 4x box stage. */
static void test_letterbox_and_large_shrink(void)
{
    struct tsr_layout_tile tiles[] = {
        {.participant_id = 1, .role = TSR_LAYOUT_ROLE_CONTENT, .x = 0, .y = 0, .w = 200, .h = 90},
        {.participant_id = 2, .role = TSR_LAYOUT_ROLE_CONTENT, .x = 202, .y = 0, .w = 110, .h = 178},
        {.participant_id = 3, .role = TSR_LAYOUT_ROLE_SMALL, .x = 0, .y = 92, .w = 46, .h = 26},
        {.participant_id = 4, .role = TSR_LAYOUT_ROLE_SMALL, .x = 50, .y = 92, .w = 130, .h = 86},
    };
    AVFrame *f[4] = {vt_frame_new(AV_PIX_FMT_YUV420P, 121, 91), vt_frame_new(AV_PIX_FMT_NV12, 256, 144),
                     vt_frame_new(AV_PIX_FMT_YUV420P, 1280, 720),
                     vt_frame_new(AV_PIX_FMT_YUV420P, 20, 12)};
    struct tsr_compositor_source src[4];
    for (int i = 0; i < 4; i++) {
        vt_fill_pattern(f[i], i);
        src[i] = (struct tsr_compositor_source){.frame = f[i], .changed = true};
    }
    for (int fmt = 0; fmt < 2; fmt++) {
        struct tsr_compositor *gpu = comp_new(TSR_COMPOSITOR_BACKEND_VULKAN, fmt,
                                              TSR_COMPOSITOR_KERNELS_REFERENCE);
        struct tsr_compositor *ref = comp_new(TSR_COMPOSITOR_BACKEND_CPU, fmt,
                                              TSR_COMPOSITOR_KERNELS_REFERENCE);
        int worst = render_both(gpu, ref, tiles, src, G_N_ELEMENTS(tiles), 2);
        g_test_message("letterbox, format %d: largest difference %d", fmt, worst);
        tsr_compositor_free(&gpu);
        tsr_compositor_free(&ref);
    }
    for (int i = 0; i < 4; i++)
        av_frame_free(&f[i]);
}

static uint64_t fallbacks(const char *reason)
{
    char labels[64];
    g_snprintf(labels, sizeof labels, "reason=\"%s\"", reason);
    return tsr_counter_value(tsr_metrics_counter("tessera_compositor_fallbacks_total", labels, ""));
}

/* The device fails mid-stream: that frame and the next are drawn on the CPU,
 * byte for byte what a CPU compositor (same kernels) draws. */
static void test_device_failure_falls_back(void)
{
    struct tsr_compositor *gpu = comp_new(TSR_COMPOSITOR_BACKEND_VULKAN,
                                          TSR_COMPOSITOR_FORMAT_I420, TSR_COMPOSITOR_KERNELS_FAST);
    struct tsr_compositor *cpu = comp_new(TSR_COMPOSITOR_BACKEND_CPU, TSR_COMPOSITOR_FORMAT_I420,
                                          TSR_COMPOSITOR_KERNELS_FAST);
    struct tsr_compositor *other = comp_new(TSR_COMPOSITOR_BACKEND_VULKAN,
                                            TSR_COMPOSITOR_FORMAT_I420, TSR_COMPOSITOR_KERNELS_FAST);
    uint64_t lost0 = fallbacks("device_lost");
    struct tsr_layout_tile tiles[TSR_LAYOUT_MAX_TILES];
    size_t nt = grid_tiles(4, tiles);
    struct tsr_compositor_source src[4];
    AVFrame *frames[4];
    for (int t = 0; t < 4; t++) {
        for (size_t i = 0; i < nt; i++) {
            frames[i] = room_frame((int)i, t);
            src[i] = (struct tsr_compositor_source){.frame = frames[i], .changed = true};
        }
        if (t == 2)
            tsr_compositor_inject_gpu_failure(gpu);
        /* Before the failure the GPU follows the reference kernels, not libyuv's. */
        int worst = render_both(gpu, cpu, tiles, src, nt, t < 2 ? 255 : 0);
        if (t >= 2) { /* exact: the CPU drew it */
            g_assert_cmpint(worst, ==, 0);
            g_assert_cmpint(tsr_compositor_backend_in_use(gpu), ==, TSR_COMPOSITOR_BACKEND_CPU);
        }
        for (size_t i = 0; i < nt; i++)
            av_frame_free(&frames[i]);
    }
    struct tsr_compositor_stats st;
    tsr_compositor_get_stats(gpu, &st);
    g_assert_cmpuint(st.gpu_renders, ==, 2);
    g_assert_cmpuint(st.gpu_fallbacks, ==, 1);
    g_assert_cmpuint(st.renders, ==, 4);
    /* The device is shared: a compositor on it falls back at its next render too. */
    AVFrame *c = NULL;
    g_assert_cmpint(tsr_compositor_render(other, tiles, src, 0, &c), ==, 0);
    av_frame_free(&c);
    g_assert_cmpint(tsr_compositor_backend_in_use(other), ==, TSR_COMPOSITOR_BACKEND_CPU);
    g_assert_cmpuint(fallbacks("device_lost"), ==, lost0 + 2);
    tsr_compositor_free(&gpu);
    tsr_compositor_free(&cpu);
    tsr_compositor_free(&other);
    /* A later conference gets a fresh device. */
    gpu = comp_new(TSR_COMPOSITOR_BACKEND_VULKAN, TSR_COMPOSITOR_FORMAT_I420,
                   TSR_COMPOSITOR_KERNELS_FAST);
    g_assert_cmpint(tsr_compositor_backend_in_use(gpu), ==, TSR_COMPOSITOR_BACKEND_VULKAN);
    tsr_compositor_free(&gpu);
}

/* lavapipe is a CPU implementation: auto keeps the (faster) CPU compositor; vulkan
 * takes it; cpu does not ask. */
static void test_auto_refuses_cpu_implementation(void)
{
    struct tsr_compositor_probe p;
    tsr_compositor_probe_run(TSR_COMPOSITOR_BACKEND_AUTO, &p);
    g_test_message("auto: %s", p.reason);
    g_assert_true(p.loader);
    g_assert_cmpstr(p.device_type, ==, "cpu");
    g_assert_cmpint(p.chosen, ==, TSR_COMPOSITOR_BACKEND_CPU);
    g_assert_nonnull(strstr(p.reason, "not a GPU"));
    tsr_compositor_probe_run(TSR_COMPOSITOR_BACKEND_VULKAN, &p);
    g_assert_cmpint(p.chosen, ==, TSR_COMPOSITOR_BACKEND_VULKAN);
    tsr_compositor_probe_run(TSR_COMPOSITOR_BACKEND_CPU, &p);
    g_assert_cmpint(p.chosen, ==, TSR_COMPOSITOR_BACKEND_CPU);
    struct tsr_compositor *c = comp_new(TSR_COMPOSITOR_BACKEND_AUTO, TSR_COMPOSITOR_FORMAT_I420,
                                        TSR_COMPOSITOR_KERNELS_FAST);
    g_assert_cmpint(tsr_compositor_backend_in_use(c), ==, TSR_COMPOSITOR_BACKEND_CPU);
    tsr_compositor_free(&c);
    enum tsr_compositor_backend b = TSR_COMPOSITOR_BACKEND_CPU;
    g_assert_cmpint(tsr_compositor_backend_parse("vulkan", &b), ==, 0);
    g_assert_cmpint(b, ==, TSR_COMPOSITOR_BACKEND_VULKAN);
    g_assert_cmpint(tsr_compositor_backend_parse("opengl", &b), <, 0);
    g_assert_cmpstr(tsr_compositor_backend_name(TSR_COMPOSITOR_BACKEND_AUTO), ==, "auto");
}

/* A compositor that asked for Vulkan and cannot have it draws on the CPU. */
static void assert_cpu_when_unavailable(bool want_loader)
{
    struct tsr_compositor_probe p;
    tsr_compositor_probe_run(TSR_COMPOSITOR_BACKEND_VULKAN, &p);
    g_test_message("vulkan: %s", p.reason);
    g_assert_cmpint(p.loader, ==, want_loader);
    g_assert_cmpstr(p.device, ==, "");
    g_assert_cmpint(p.chosen, ==, TSR_COMPOSITOR_BACKEND_CPU);
    struct tsr_compositor *c = comp_new(TSR_COMPOSITOR_BACKEND_VULKAN, TSR_COMPOSITOR_FORMAT_I420,
                                        TSR_COMPOSITOR_KERNELS_FAST);
    g_assert_cmpint(tsr_compositor_backend_in_use(c), ==, TSR_COMPOSITOR_BACKEND_CPU);
    struct tsr_layout_tile tiles[TSR_LAYOUT_MAX_TILES];
    size_t nt = grid_tiles(4, tiles);
    struct tsr_compositor_source src[4] = {{0}};
    AVFrame *canvas = NULL;
    g_assert_cmpint(tsr_compositor_render(c, tiles, src, nt, &canvas), ==, 0);
    av_frame_free(&canvas);
    tsr_compositor_free(&c);
}

static void test_no_loader_no_device(void)
{
    tsr_vk_set_loader_name("libvulkan-tessera-missing.so.1");
    assert_cpu_when_unavailable(false);
    char *icd = g_strdup(g_getenv("VK_ICD_FILENAMES"));
    g_setenv("VK_ICD_FILENAMES", "/nonexistent/tessera_icd.json", TRUE);
    g_setenv("VK_DRIVER_FILES", "/nonexistent/tessera_icd.json", TRUE);
    tsr_vk_set_loader_name(NULL);
    assert_cpu_when_unavailable(true);
    g_setenv("VK_ICD_FILENAMES", icd, TRUE);
    g_setenv("VK_DRIVER_FILES", icd, TRUE);
    g_free(icd);
    tsr_vk_set_loader_name(NULL);
}

/* Views render on the mixer's worker threads at once, sharing one device. */
static gpointer render_thread(gpointer arg)
{
    enum tsr_compositor_format fmt = GPOINTER_TO_INT(arg);
    struct tsr_compositor *gpu = comp_new(TSR_COMPOSITOR_BACKEND_VULKAN, fmt,
                                          TSR_COMPOSITOR_KERNELS_REFERENCE);
    struct tsr_compositor *ref = comp_new(TSR_COMPOSITOR_BACKEND_CPU, fmt,
                                          TSR_COMPOSITOR_KERNELS_REFERENCE);
    struct tsr_layout_tile tiles[TSR_LAYOUT_MAX_TILES];
    size_t nt = grid_tiles(4, tiles);
    for (int t = 0; t < 3; t++) {
        AVFrame *frames[4];
        struct tsr_compositor_source src[4];
        for (size_t i = 0; i < nt; i++) {
            frames[i] = room_frame((int)i + t, t);
            src[i] = (struct tsr_compositor_source){.frame = frames[i], .changed = true};
        }
        render_both(gpu, ref, tiles, src, nt, 2);
        for (size_t i = 0; i < nt; i++)
            av_frame_free(&frames[i]);
    }
    tsr_compositor_free(&gpu);
    tsr_compositor_free(&ref);
    return NULL;
}

static void test_threads_share_device(void)
{
    GThread *a = g_thread_new("view-a", render_thread, GINT_TO_POINTER(TSR_COMPOSITOR_FORMAT_I420));
    GThread *b = g_thread_new("view-b", render_thread, GINT_TO_POINTER(TSR_COMPOSITOR_FORMAT_NV12));
    g_thread_join(a);
    g_thread_join(b);
}

int main(int argc, char **argv)
{
    use_lavapipe_only();
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/compositor_vk/grids_match_reference", test_grids_match_reference);
    g_test_add_func("/compositor_vk/letterbox_and_large_shrink", test_letterbox_and_large_shrink);
    g_test_add_func("/compositor_vk/device_failure_falls_back", test_device_failure_falls_back);
    g_test_add_func("/compositor_vk/auto_refuses_cpu_implementation",
                    test_auto_refuses_cpu_implementation);
    g_test_add_func("/compositor_vk/no_loader_no_device", test_no_loader_no_device);
    g_test_add_func("/compositor_vk/threads_share_device", test_threads_share_device);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
