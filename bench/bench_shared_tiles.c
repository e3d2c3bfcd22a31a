/* Shared tiles: the personal views of one room (each participant sees everyone but
 * itself, Pexip's model) composed per tick
 *   direct   each view scales every tile it shows (what main did: 4 views x 3 tiles
 *            = 12 scalings per tick in a 4-party room)
 *   shared   each (source, tile size, role) shown by two or more views is scaled once
 *            into a tile buffer, and every view copies its rows (4 scalings + 12 copies)
 * side by side in one run, blocks of ticks alternating between the two so that noise
 * on this shared machine hits both alike. Every tick every camera has a new picture
 * (the worst case; a 30 fps camera into a 30 fps canvas). Time is thread CPU time,
 * so it is what one core spends.
 *
 * Then the same 4-party room with each view encoded too (1280x720, 1.5 Mb/s, the
 * server's software settings), to put the saving in proportion to the whole tick:
 * the encoders see identical canvases in both modes, so only composing differs.
 *
 * Usage: bench_shared_tiles OUT_DIR [TICKS] [noencode] [room=N]
 * Prints a table and writes OUT_DIR/shared_tiles.csv. For repeatable instruction
 * counts: valgrind --tool=callgrind --toggle-collect=compose_direct (or
 * compose_shared) bench_shared_tiles DIR 30 noencode room=0. (valgrind 3.19 stops
 * at libhwy's start-up RDTSCP, loaded through libavcodec -> libjxl; preloading a
 * stub of hwy::platform::TimerResolution() gets past it.) */
#include <tessera/compositor.h>
#include <tessera/layout.h>
#include <tessera/video_encoder.h>

#include <glib.h>
#include <libavutil/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define W 1280
#define H 720
#define MAXP 8
#define PICS 6 /* pictures per camera, cycled: each tick shows a new one */
#define BLOCK 10
#define MAXKEYS (MAXP * TSR_LAYOUT_MAX_TILES)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Camera-like: a moving smooth pattern, per-pixel sensor noise, and a colour tint
 * of its own per participant. */
static AVFrame *camera_picture(int w, int h, int who, int t, GRand *rng)
{
    AVFrame *f = av_frame_alloc();
    f->format = AV_PIX_FMT_YUV420P;
    f->width = w;
    f->height = h;
    if (!f || av_frame_get_buffer(f, 0) < 0)
        abort();
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int v = 110 + ((x * 3 + t * 4 + who * 40) & 63) + ((y * 2 - t * 3) & 31) +
                    g_rand_int_range(rng, -6, 7);
            f->data[0][y * f->linesize[0] + x] = (uint8_t)CLAMP(v, 16, 235);
        }
    for (int y = 0; y < h / 2; y++)
        for (int x = 0; x < w / 2; x++) {
            f->data[1][y * f->linesize[1] + x] = (uint8_t)(96 + who * 16 + ((x + t) & 7));
            f->data[2][y * f->linesize[2] + x] = (uint8_t)(160 - who * 12 + ((y - t) & 7));
        }
    return f;
}

struct key {
    uint32_t id;
    int w, h;
    enum tsr_layout_role role;
    int users; /* views showing it */
    struct tsr_compositor_tile *tile;
};

struct room {
    const char *name;
    enum tsr_layout_kind kind;
    int n, cam_w, cam_h;
    AVFrame *pics[MAXP][PICS];
    struct tsr_layout_tile tiles[MAXP][TSR_LAYOUT_MAX_TILES];
    size_t n_tiles[MAXP];
    struct tsr_compositor *direct[MAXP], *shared[MAXP];
    struct tsr_video_encoder *enc[MAXP];
    struct key keys[MAXKEYS];
    size_t n_keys;
    int scalings_direct, scalings_shared, copies;
};

static struct key *key_find(struct room *r, const struct tsr_layout_tile *t)
{
    for (size_t i = 0; i < r->n_keys; i++)
        if (r->keys[i].id == t->participant_id && r->keys[i].w == t->w && r->keys[i].h == t->h &&
            r->keys[i].role == t->role)
            return &r->keys[i];
    return NULL;
}

static void room_init(struct room *r, GRand *rng)
{
    struct tsr_compositor_params cp = {.width = W, .height = H, .background_rgb = 0x202020};
    struct tsr_layout_params lp = {.kind = r->kind, .canvas_w = W, .canvas_h = H, .gap_px = 4};
    for (int p = 0; p < r->n; p++) {
        for (int k = 0; k < PICS; k++)
            r->pics[p][k] = camera_picture(r->cam_w, r->cam_h, p, k, rng);
        uint32_t others[MAXP];
        size_t n = 0;
        for (int q = 0; q < r->n; q++)
            if (q != p)
                others[n++] = (uint32_t)(q + 1); /* talker order: join order */
        if (tsr_layout_compute(&lp, others, n, NULL, 0, r->tiles[p], &r->n_tiles[p]) < 0 ||
            tsr_compositor_new(&r->direct[p], &cp) < 0 ||
            tsr_compositor_new(&r->shared[p], &cp) < 0)
            abort();
        for (size_t i = 0; i < r->n_tiles[p]; i++) {
            struct key *k = key_find(r, &r->tiles[p][i]);
            if (!k) {
                const struct tsr_layout_tile *t = &r->tiles[p][i];
                k = &r->keys[r->n_keys++];
                *k = (struct key){.id = t->participant_id, .w = t->w, .h = t->h, .role = t->role};
                if (tsr_compositor_tile_new(&k->tile, TSR_COMPOSITOR_FORMAT_I420,
                                            TSR_COMPOSITOR_KERNELS_FAST) < 0)
                    abort();
            }
            k->users++;
        }
        r->scalings_direct += (int)r->n_tiles[p];
    }
    for (size_t i = 0; i < r->n_keys; i++) {
        r->scalings_shared += r->keys[i].users >= 2 ? 1 : r->keys[i].users;
        r->copies += r->keys[i].users >= 2 ? r->keys[i].users : 0;
    }
}

static void room_fini(struct room *r)
{
    for (int p = 0; p < r->n; p++) {
        for (int k = 0; k < PICS; k++)
            av_frame_free(&r->pics[p][k]);
        tsr_compositor_free(&r->direct[p]);
        tsr_compositor_free(&r->shared[p]);
        tsr_video_encoder_free(&r->enc[p]);
    }
    for (size_t i = 0; i < r->n_keys; i++)
        tsr_compositor_tile_free(&r->keys[i].tile);
}

static void on_packet(void *user, const AVPacket *pkt)
{
    *(int64_t *)user += pkt->size;
}

static int64_t encoded_bytes;

static void encode_view(struct room *r, int p, AVFrame *canvas, int tick)
{
    if (!r->enc[p])
        return;
    canvas->pts = (int64_t)tick * 3000;
    if (tsr_video_encoder_encode(r->enc[p], canvas, on_packet, &encoded_bytes) < 0)
        abort();
}

static void render(struct room *r, struct tsr_compositor *c, int p, int tick,
                   const struct tsr_compositor_tile *const *scaled)
{
    struct tsr_compositor_source src[TSR_LAYOUT_MAX_TILES];
    for (size_t i = 0; i < r->n_tiles[p]; i++)
        src[i] = (struct tsr_compositor_source){
            .frame = r->pics[r->tiles[p][i].participant_id - 1][tick % PICS],
            .changed = true,
            .scaled = scaled ? scaled[i] : NULL};
    AVFrame *canvas = NULL;
    if (tsr_compositor_render(c, r->tiles[p], src, r->n_tiles[p], r->enc[p] ? &canvas : NULL) < 0)
        abort();
    if (canvas)
        encode_view(r, p, canvas, tick);
    av_frame_free(&canvas);
}

/* noipa: callgrind's --toggle-collect needs them as functions of their own (no
 * inlining, no clones). */
__attribute__((noipa)) void compose_direct(struct room *r, int tick);
__attribute__((noipa)) void compose_direct(struct room *r, int tick)
{
    for (int p = 0; p < r->n; p++)
        render(r, r->direct[p], p, tick, NULL);
}

/* Phase 1 scales each shared key once; phase 2 composes every view from them (the
 * server runs each phase as a fork-join on its worker pool). */
__attribute__((noipa)) void compose_shared(struct room *r, int tick);
__attribute__((noipa)) void compose_shared(struct room *r, int tick)
{
    for (size_t i = 0; i < r->n_keys; i++) {
        struct key *k = &r->keys[i];
        if (k->users >= 2 && tsr_compositor_tile_scale(k->tile, r->pics[k->id - 1][tick % PICS],
                                                       k->w, k->h, k->role) < 0)
            abort();
    }
    for (int p = 0; p < r->n; p++) {
        const struct tsr_compositor_tile *scaled[TSR_LAYOUT_MAX_TILES];
        for (size_t i = 0; i < r->n_tiles[p]; i++) {
            const struct key *k = key_find(r, &r->tiles[p][i]);
            scaled[i] = k->users >= 2 ? k->tile : NULL;
        }
        render(r, r->shared[p], p, tick, scaled);
    }
}

/* Alternating blocks; returns ms per tick of each mode. */
static void measure(struct room *r, int ticks, double *direct_ms, double *shared_ms)
{
    double d = 0, s = 0;
    int tick = 0;
    compose_direct(r, tick++); /* warm-up: buffers, the one full redraw */
    compose_shared(r, tick++);
    for (int done = 0; done < ticks; done += BLOCK) {
        double t0 = now_ms();
        for (int i = 0; i < BLOCK; i++)
            compose_direct(r, tick++);
        double t1 = now_ms();
        for (int i = 0; i < BLOCK; i++)
            compose_shared(r, tick++);
        d += t1 - t0;
        s += now_ms() - t1;
    }
    int n = (ticks + BLOCK - 1) / BLOCK * BLOCK;
    *direct_ms = d / n;
    *shared_ms = s / n;
}

static void open_encoders(struct room *r, enum tsr_video_codec codec)
{
    for (int p = 0; p < r->n; p++) {
        struct tsr_video_encoder_params ep = {.codec = codec,
                                              .width = W,
                                              .height = H,
                                              .fps = 30,
                                              .bitrate_bps = 1500000,
                                              .backend = TSR_ENCODER_BACKEND_SOFTWARE};
        tsr_video_encoder_free(&r->enc[p]);
        if (tsr_video_encoder_new(&r->enc[p], &ep) < 0)
            abort();
    }
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    int ticks = argc > 2 ? atoi(argv[2]) : 120;
    bool encode = true;
    int only = -1;
    for (int a = 3; a < argc; a++) {
        if (!strcmp(argv[a], "noencode"))
            encode = false;
        else if (!strncmp(argv[a], "room=", 5))
            only = atoi(argv[a] + 5);
    }
    ticks = ticks < BLOCK ? BLOCK : ticks;
    char *csv_path = g_build_filename(dir, "shared_tiles.csv", NULL);
    FILE *csv = fopen(csv_path, "w");
    if (!csv) {
        fprintf(stderr, "bench_shared_tiles: cannot write %s\n", csv_path);
        return 1;
    }
    av_log_set_level(AV_LOG_ERROR); /* x264's and libvpx's banners */
    GRand *rng = g_rand_new_with_seed(10);
    struct room rooms[] = {
        {.name = "4-party grid, 320x240 cameras", .kind = TSR_LAYOUT_GRID, .n = 4, 320, 240},
        {.name = "4-party grid, 640x360 cameras", .kind = TSR_LAYOUT_GRID, .n = 4, 640, 360},
        {.name = "8-party 1:7, 320x240 cameras", .kind = TSR_LAYOUT_SPEAKER, .n = 8, 320, 240},
    };
    fprintf(csv, "room,encode,views,scalings_direct,scalings_shared,copies_shared,direct_ms,"
                 "shared_ms,ratio\n");
    printf("personal views per tick, 1280x720 I420 canvases, every camera new each tick "
           "(CPU ms per tick, %d ticks each, alternating blocks)\n",
           ticks);
    printf("%-32s %-6s %9s %9s %9s %9s %7s\n", "room", "encode", "scalings", "->shared", "direct",
           "shared", "ratio");
    for (size_t i = 0; i < G_N_ELEMENTS(rooms); i++) {
        struct room *r = &rooms[i];
        if (only >= 0 && (size_t)only != i)
            continue;
        room_init(r, rng);
        const char *enc_names[] = {"none", "vp8", "h264"};
        for (int e = 0; e < (encode && r->n == 4 && r->cam_w == 320 ? 3 : 1); e++) {
            if (e)
                open_encoders(r, e == 1 ? TSR_VIDEO_CODEC_VP8 : TSR_VIDEO_CODEC_H264);
            double d = 0, s = 0;
            measure(r, e ? ticks / 2 : ticks, &d, &s);
            printf("%-32s %-6s %9d %9d %9.3f %9.3f %7.3f\n", r->name, enc_names[e],
                   r->scalings_direct, r->scalings_shared, d, s, s / d);
            fprintf(csv, "%s,%s,%d,%d,%d,%d,%.4f,%.4f,%.4f\n", r->name, enc_names[e], r->n,
                    r->scalings_direct, r->scalings_shared, r->copies, d, s, s / d);
        }
        room_fini(r);
    }
    printf("ratio = shared / direct (lower is better); encoders: software, 1.5 Mb/s, "
           "%.0f kB encoded\n",
           (double)encoded_bytes / 1e3);
    g_rand_free(rng);
    fclose(csv);
    g_free(csv_path);
    return 0;
}
