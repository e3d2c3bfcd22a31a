/* Compositor benchmark: 2x2, 3x3 and 5x5 canvases at 1280x720 from 1280x720 I420
 * sources, every tile redrawn every frame (the worst case: all sources changed).
 * Measured side by side in one run:
 *   tessera      tsr_compositor_render, fast kernels (libyuv)
 *   reference    the same with the plain C kernels (correctness yardstick; slow)
 *   swscale      libswscale (SWS_BILINEAR, one cached context per tile size)
 *                scaling each source into its tile of the canvas
 *   memcpy floor bytes read + written per canvas frame at this machine's memcpy rate
 *   vulkan       tsr_compositor_render on the Vulkan backend (compositor = vulkan):
 *                wall ms per frame (upload, dispatches, wait, read-back) and the
 *                process CPU ms it cost (a CPU driver such as lavapipe computes on
 *                its own threads, which thread CPU time would miss)
 *   labels       the fast path with and without names, muted marks and the speaker
 *                border on every tile (labels.csv)
 * Prints tables and writes compositor.csv and labels.csv into argv[1]. */
#include <tessera/compositor.h>
#include <tessera/labels.h>
#include <tessera/layout.h>

#include <glib.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define W 1280
#define H 720

/* Thread CPU time: the machine is shared, and wall time would count other
 * people's processes; CPU time still includes our own memory stalls. */
static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static AVFrame *source_sized(int seed, int sw, int sh)
{
    AVFrame *f = av_frame_alloc();
    f->format = AV_PIX_FMT_YUV420P;
    f->width = sw;
    f->height = sh;
    if (av_frame_get_buffer(f, 0) < 0)
        abort();
    for (int p = 0; p < 3; p++) {
        int w = p ? sw / 2 : sw, h = p ? sh / 2 : sh;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                f->data[p][y * f->linesize[p] + x] =
                    (uint8_t)((x * 3 + y * 5 + seed * 17) ^ (x >> 3));
    }
    return f;
}

static AVFrame *source(int seed)
{
    return source_sized(seed, W, H);
}

static double clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* memcpy rate in bytes moved (read + written) per ms, on buffers beyond the caches. */
static double memcpy_rate(void)
{
    size_t n = 64u << 20;
    uint8_t *a = malloc(n), *b = malloc(n);
    memset(a, 1, n);
    memset(b, 2, n);
    double best = 1e30;
    for (int i = 0; i < 5; i++) {
        double t0 = now_ms();
        memcpy(b, a, n);
        double dt = now_ms() - t0;
        best = dt < best ? dt : best;
        a[i] = b[n - 1 - i]; /* keep the copies observable */
    }
    free(a);
    free(b);
    return 2.0 * (double)n / best;
}

static double run_compositor_ov(enum tsr_compositor_kernels k, const struct tsr_layout_tile *t,
                                size_t n, AVFrame **src, int iters,
                                const struct tsr_compositor_overlay *ov)
{
    struct tsr_compositor_params cp = {.width = W, .height = H, .kernels = k};
    struct tsr_compositor *c = NULL;
    if (tsr_compositor_new(&c, &cp) < 0)
        abort();
    struct tsr_compositor_source s[TSR_LAYOUT_MAX_TILES];
    for (size_t i = 0; i < n; i++)
        s[i] = (struct tsr_compositor_source){
            .frame = src[i], .changed = true, .overlay = ov ? &ov[i] : NULL};
    tsr_compositor_render(c, t, s, n, NULL); /* warm-up (and the one full redraw) */
    double t0 = now_ms();
    for (int i = 0; i < iters; i++)
        tsr_compositor_render(c, t, s, n, NULL);
    double per = (now_ms() - t0) / iters;
    tsr_compositor_free(&c);
    return per;
}

static double run_compositor(enum tsr_compositor_kernels k, const struct tsr_layout_tile *t,
                             size_t n, AVFrame **src, int iters)
{
    return run_compositor_ov(k, t, n, src, iters, NULL);
}

/* Names on every tile (a typical name, ellipsised where long), the muted mark on
 * every other one and the speaker border on the first: what a conference draws
 * over its tiles. Alternates runs with and without them (best of 3 each), so
 * both see the same machine. Returns false when the font is missing. */
static bool run_labels(const struct tsr_layout_tile *t, size_t n, AVFrame **src, int iters,
                       double *plain_ms, double *labelled_ms)
{
    const char *paths[] = {TSR_LABEL_FONT_DEFAULT, TSR_LABEL_FONT_FALLBACK_DEFAULT};
    struct tsr_label_font *font = NULL;
    if (tsr_label_font_new(&font, paths, 2) != 0)
        return false;
    struct tsr_compositor_overlay ov[TSR_LAYOUT_MAX_TILES];
    struct tsr_label *labels[TSR_LAYOUT_MAX_TILES] = {NULL};
    for (size_t i = 0; i < n; i++) {
        struct tsr_compositor_label_fit fit;
        tsr_compositor_label_fit(t[i].w, t[i].h, &fit);
        char name[48];
        snprintf(name, sizeof name, "Participant %u Example", (unsigned)(i + 1));
        if (fit.name_max_w)
            tsr_label_render(font, name, fit.name_px, fit.name_max_w, &labels[i]);
        ov[i] = (struct tsr_compositor_overlay){
            .name = labels[i], .highlight = i == 0, .mic_muted = i % 2 == 1};
    }
    *plain_ms = *labelled_ms = 1e9;
    for (int r = 0; r < 3; r++) {
        double a = run_compositor_ov(TSR_COMPOSITOR_KERNELS_FAST, t, n, src, iters, NULL);
        double b = run_compositor_ov(TSR_COMPOSITOR_KERNELS_FAST, t, n, src, iters, ov);
        *plain_ms = a < *plain_ms ? a : *plain_ms;
        *labelled_ms = b < *labelled_ms ? b : *labelled_ms;
    }
    for (size_t i = 0; i < n; i++)
        tsr_label_free(&labels[i]);
    tsr_label_font_free(&font);
    return true;
}

/* The Vulkan backend: wall and process CPU ms per frame; false when no device. */
static bool run_vulkan(const struct tsr_layout_tile *t, size_t n, AVFrame **src, int iters,
                       double *wall_ms, double *cpu_ms, char *device, size_t device_size)
{
    struct tsr_compositor_probe p;
    tsr_compositor_probe_run(TSR_COMPOSITOR_BACKEND_VULKAN, &p);
    snprintf(device, device_size, "%.200s (%.100s)", p.device[0] ? p.device : "none",
             p.device[0] ? p.device_type : p.reason);
    struct tsr_compositor_params cp = {
        .width = W, .height = H, .backend = TSR_COMPOSITOR_BACKEND_VULKAN};
    struct tsr_compositor *c = NULL;
    if (tsr_compositor_new(&c, &cp) < 0)
        abort();
    if (tsr_compositor_backend_in_use(c) != TSR_COMPOSITOR_BACKEND_VULKAN) {
        tsr_compositor_free(&c);
        return false;
    }
    struct tsr_compositor_source s[TSR_LAYOUT_MAX_TILES];
    for (size_t i = 0; i < n; i++)
        s[i] = (struct tsr_compositor_source){.frame = src[i], .changed = true};
    tsr_compositor_render(c, t, s, n, NULL);
    double w0 = clock_ms(CLOCK_MONOTONIC), c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
    for (int i = 0; i < iters; i++)
        tsr_compositor_render(c, t, s, n, NULL);
    *wall_ms = (clock_ms(CLOCK_MONOTONIC) - w0) / iters;
    *cpu_ms = (clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0) / iters;
    struct tsr_compositor_stats st;
    tsr_compositor_get_stats(c, &st);
    bool ok = st.gpu_renders == (uint64_t)iters + 1;
    tsr_compositor_free(&c);
    return ok;
}

static double run_swscale(const struct tsr_layout_tile *t, size_t n, AVFrame **src, int iters)
{
    AVFrame *canvas = av_frame_alloc();
    canvas->format = AV_PIX_FMT_YUV420P;
    canvas->width = W;
    canvas->height = H;
    if (av_frame_get_buffer(canvas, 0) < 0)
        abort();
    struct SwsContext *ctx[TSR_LAYOUT_MAX_TILES];
    for (size_t i = 0; i < n; i++)
        ctx[i] = sws_getContext(W, H, AV_PIX_FMT_YUV420P, t[i].w, t[i].h, AV_PIX_FMT_YUV420P,
                                SWS_BILINEAR, NULL, NULL, NULL);
    double t0 = 0;
    for (int it = -1; it < iters; it++) {
        if (it == 0)
            t0 = now_ms();
        for (size_t i = 0; i < n; i++) {
            uint8_t *dst[4] = {canvas->data[0] + t[i].y * canvas->linesize[0] + t[i].x,
                               canvas->data[1] + (t[i].y / 2) * canvas->linesize[1] + t[i].x / 2,
                               canvas->data[2] + (t[i].y / 2) * canvas->linesize[2] + t[i].x / 2,
                               NULL};
            sws_scale(ctx[i], (const uint8_t *const *)src[i]->data, src[i]->linesize, 0, H, dst,
                      canvas->linesize);
        }
    }
    double per = (now_ms() - t0) / iters;
    for (size_t i = 0; i < n; i++)
        sws_freeContext(ctx[i]);
    av_frame_free(&canvas);
    return per;
}

/* The cost of names, marks and the border, every tile redrawn every frame (their
 * worst case: an unchanged tile costs nothing either way). labels.csv. */
static void bench_labels(const char *dir)
{
    char *path = g_build_filename(dir, "labels.csv", NULL);
    FILE *csv = fopen(path, "w");
    g_free(path);
    if (!csv)
        return;
    printf("\nlabels (names on every tile, muted marks, speaker border), fast kernels, CPU ms per "
           "canvas frame\n%-6s %-9s %10s %10s %10s\n",
           "grid", "sources", "plain", "labelled", "overhead");
    fprintf(csv, "grid,sources,tiles,plain_ms,labelled_ms,overhead_pct\n");
    /* 1280x720 sources into gapless tiles (2x2 is then libyuv's exact 2:1 box, the
     * cheapest scale there is), and 640x360 cameras with the server's 4 px gaps
     * (what a conference composes). */
    AVFrame *src[2][25];
    for (int i = 0; i < 25; i++) {
        src[0][i] = source(i);
        src[1][i] = source_sized(i, 640, 360);
    }
    const int counts[] = {4, 9, 25};
    for (int row = 0; row < 6; row++) {
        int g = row % 3, k = row / 3;
        uint32_t ids[25];
        for (int i = 0; i < counts[g]; i++)
            ids[i] = (uint32_t)(i + 1);
        struct tsr_layout_params lp = {
            .kind = TSR_LAYOUT_GRID, .canvas_w = W, .canvas_h = H, .gap_px = k ? 4 : 0};
        struct tsr_layout_tile t[TSR_LAYOUT_MAX_TILES];
        size_t n = 0;
        double plain, labelled;
        if (tsr_layout_compute(&lp, ids, (size_t)counts[g], NULL, 0, t, &n) < 0 ||
            !run_labels(t, n, src[k], counts[g] == 25 ? 20 : 50, &plain, &labelled))
            break;
        const char *name = counts[g] == 4 ? "2x2" : counts[g] == 9 ? "3x3" : "5x5";
        const char *size = k ? "640x360" : "1280x720";
        double pct = (labelled / plain - 1) * 100;
        printf("%-6s %-9s %10.3f %10.3f %9.1f%%\n", name, size, plain, labelled, pct);
        fprintf(csv, "%s,%s,%zu,%.4f,%.4f,%.2f\n", name, size, n, plain, labelled, pct);
    }
    for (int i = 0; i < 25; i++) {
        av_frame_free(&src[0][i]);
        av_frame_free(&src[1][i]);
    }
    printf("target (DESIGN.md 8): labels, borders, presentation < 5 %% more compositor time\n");
    fclose(csv);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char *csv_path = g_build_filename(dir, "compositor.csv", NULL);
    FILE *csv = fopen(csv_path, "w");
    if (!csv) {
        fprintf(stderr, "bench_compositor: cannot write %s\n", csv_path);
        return 1;
    }
    AVFrame *src[25];
    for (int i = 0; i < 25; i++)
        src[i] = source(i);
    double rate = memcpy_rate();
    printf("compositor, 1280x720 canvas from 1280x720 I420 sources, all tiles changed (CPU ms per "
           "canvas frame)\n");
    printf("%-6s %10s %10s %10s %12s %14s %14s %10s %10s\n", "grid", "tessera", "swscale",
           "memcpy", "reference", "tessera/sws", "tessera/floor", "vk_wall", "vk_cpu");
    fprintf(csv, "grid,tiles,tessera_ms,swscale_ms,memcpy_floor_ms,reference_ms,ratio_vs_swscale,"
                 "ratio_vs_floor,vulkan_wall_ms,vulkan_cpu_ms,vulkan_device\n");
    char device[320] = "";
    const int counts[] = {4, 9, 25};
    for (int g = 0; g < 3; g++) {
        uint32_t ids[25];
        for (int i = 0; i < counts[g]; i++)
            ids[i] = (uint32_t)(i + 1);
        struct tsr_layout_params lp = {.kind = TSR_LAYOUT_GRID, .canvas_w = W, .canvas_h = H};
        struct tsr_layout_tile t[TSR_LAYOUT_MAX_TILES];
        size_t n = 0;
        if (tsr_layout_compute(&lp, ids, (size_t)counts[g], NULL, 0, t, &n) < 0)
            return 1;
        int iters = counts[g] == 25 ? 40 : 100;
        double fast = run_compositor(TSR_COMPOSITOR_KERNELS_FAST, t, n, src, iters);
        double sws = run_swscale(t, n, src, iters / 2);
        double ref = run_compositor(TSR_COMPOSITOR_KERNELS_REFERENCE, t, n, src, 2);
        double vk_wall = -1, vk_cpu = -1;
        if (!run_vulkan(t, n, src, counts[g] == 25 ? 5 : 10, &vk_wall, &vk_cpu, device,
                        sizeof device))
            vk_wall = vk_cpu = -1; /* no Vulkan device: -1 in the table */
        double bytes = (double)n * W * H * 1.5 + (double)W * H * 1.5;
        double floor_ms = bytes / rate;
        const char *name = counts[g] == 4 ? "2x2" : counts[g] == 9 ? "3x3" : "5x5";
        printf("%-6s %10.3f %10.3f %10.3f %12.1f %14.3f %14.2f %10.2f %10.2f\n", name, fast, sws,
               floor_ms, ref, fast / sws, fast / floor_ms, vk_wall, vk_cpu);
        fprintf(csv, "%s,%zu,%.4f,%.4f,%.4f,%.2f,%.4f,%.3f,%.3f,%.3f,\"%s\"\n", name, n, fast, sws,
                floor_ms, ref, fast / sws, fast / floor_ms, vk_wall, vk_cpu, device);
    }
    printf("target (DESIGN.md 8): tessera <= 0.1x swscale; memcpy rate %.1f GB/s (read+write)\n",
           rate / 1e6);
    bench_labels(dir);
    printf("vulkan device: %s\n", device);
    fclose(csv);
    g_free(csv_path);
    for (int i = 0; i < 25; i++)
        av_frame_free(&src[i]);
    return 0;
}
