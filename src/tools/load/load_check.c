/* Checks one decoded composite the way a person would look at it: every tile of
 * the layout shows another member's camera (its palette colour), never the
 * viewer's own, and the frame stamp in it says which of the sender's frames it
 * is, which gives the added latency (sender sent frame k → this receiver decoded
 * a composite holding frame k; one process, one clock).
 *
 * Tile rectangles come from Tessera's own layout module (pure) for the number of
 * other members, the layout and the canvas; the server places the same way. A
 * tile is identified by its average chroma (the cameras' chroma is the palette
 * colour everywhere), and its stamp is read where the compositor's centred
 * crop-to-fill puts the sender's stamp band. */
#include "load.h"

#include <math.h>

#define MAX_LATENCY_US (2 * G_USEC_PER_SEC)

/* Average of a plane over a rectangle (clipped to the plane). */
static double plane_mean(const uint8_t *plane, int stride, int pw, int ph, int x0, int y0, int x1,
                         int y1)
{
    x0 = CLAMP(x0, 0, pw - 1), x1 = CLAMP(x1, x0 + 1, pw);
    y0 = CLAMP(y0, 0, ph - 1), y1 = CLAMP(y1, y0 + 1, ph);
    uint64_t sum = 0;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++)
            sum += plane[(size_t)y * stride + x];
    return (double)sum / ((double)(x1 - x0) * (y1 - y0));
}

static int tile_colour(const AVFrame *f, const struct tsr_layout_tile *t)
{
    int x0 = (t->x + t->w * 3 / 10) / 2, x1 = (t->x + t->w * 7 / 10) / 2;
    int y0 = (t->y + t->h * 25 / 100) / 2, y1 = (t->y + t->h * 40 / 100) / 2;
    int cw = f->width / 2, ch = f->height / 2;
    double u = plane_mean(f->data[1], f->linesize[1], cw, ch, x0, y0, x1, y1);
    double v = plane_mean(f->data[2], f->linesize[2], cw, ch, x0, y0, x1, y1);
    return load_palette_match(u, v);
}

/* The stamp as the compositor drew it: source (sw, sh) cropped to fill the tile. */
static uint32_t tile_stamp(const AVFrame *f, const struct tsr_layout_tile *t, int sw, int sh)
{
    double scale = fmax((double)t->w / sw, (double)t->h / sh);
    double crop_x = (sw - t->w / scale) / 2, crop_y = (sh - t->h / scale) / 2;
    double sy = sh * (LOAD_STAMP_Y0 + LOAD_STAMP_Y1) / 2;
    int ty = t->y + (int)((sy - crop_y) * scale);
    uint32_t stamp = 0;
    for (int b = 0; b < LOAD_STAMP_BLOCKS; b++) {
        double sx = sw * (LOAD_STAMP_X0 + (b + 0.5) * (LOAD_STAMP_X1 - LOAD_STAMP_X0) /
                                              LOAD_STAMP_BLOCKS);
        int tx = t->x + (int)((sx - crop_x) * scale);
        double y = plane_mean(f->data[0], f->linesize[0], f->width, f->height, tx - 1, ty - 1,
                              tx + 2, ty + 2);
        if (y > 125)
            stamp |= 1u << b;
    }
    return stamp;
}

static struct load_peer *peer_with_colour(GPtrArray *others, int colour)
{
    for (guint i = 0; i < others->len; i++)
        if (load_peer_colour(g_ptr_array_index(others, i)) == colour)
            return g_ptr_array_index(others, i);
    return NULL;
}

static void read_latency(struct load_results *res, const AVFrame *f,
                         const struct tsr_layout_tile *t, const struct load_peer *sender,
                         int64_t decoded_us, int *last_stamp)
{
    int sw, sh;
    load_peer_source_size(sender, &sw, &sh);
    int index = load_stamp_decode(tile_stamp(f, t, sw, sh));
    if (index < 0) {
        res->stamps_bad++;
        return;
    }
    res->stamps_read++;
    int colour = load_peer_colour(sender);
    if (last_stamp[colour] == index)
        return; /* the same source frame again: not a new observation */
    last_stamp[colour] = index;
    int64_t sent = load_peer_sent_us(sender, index);
    if (sent <= 0 || sent > decoded_us || decoded_us - sent > MAX_LATENCY_US)
        return; /* sent in another lap of the loop */
    double ms = (double)(decoded_us - sent) / 1000.0;
    g_array_append_val(res->latency_ms, ms);
}

void load_check_composite(struct load_run *run, struct load_peer *self, const AVFrame *f,
                          int64_t decoded_us, int *last_stamp)
{
    GPtrArray *others = NULL;
    load_run_conference_peers(run, load_peer_conference(self), &others);
    g_ptr_array_remove(others, self);
    if (others->len == 0 || f->format != AV_PIX_FMT_YUV420P) {
        g_ptr_array_unref(others);
        return;
    }
    uint32_t ids[TSR_LAYOUT_MAX_TILES];
    size_t n_ids = MIN(others->len, TSR_LAYOUT_MAX_TILES);
    for (size_t i = 0; i < n_ids; i++)
        ids[i] = (uint32_t)i + 1;
    struct tsr_layout_params lp = {.kind = run->layout_kind, .canvas_w = f->width,
                                   .canvas_h = f->height, .gap_px = run->opt.gap_px};
    struct tsr_layout_tile tiles[TSR_LAYOUT_MAX_TILES];
    size_t n_tiles = 0;
    if (tsr_layout_compute(&lp, ids, n_ids, NULL, 0, tiles, &n_tiles) != 0) {
        g_ptr_array_unref(others);
        return;
    }
    struct load_results *res = &run->res;
    bool seen[LOAD_MAX_COLOURS] = {false};
    for (size_t i = 0; i < n_tiles; i++) {
        res->tiles_checked++;
        int colour = tile_colour(f, &tiles[i]);
        if (colour < 0)
            continue;
        if (colour == load_peer_colour(self)) {
            /* The server shows a participant its own camera only in a small tile
             * ([mixer] personal_view_min_tile_pct): a gallery-style self view. */
            int64_t pct = (int64_t)tiles[i].w * tiles[i].h * 100 / ((int64_t)f->width * f->height);
            if (pct >= run->opt.self_view_pct) {
                res->own_tile_seen++;
            } else {
                res->self_view_tiles++;
                res->tiles_correct++;
            }
            continue;
        }
        struct load_peer *sender = peer_with_colour(others, colour);
        if (!sender || seen[colour])
            continue;
        seen[colour] = true;
        res->tiles_correct++;
        read_latency(res, f, &tiles[i], sender, decoded_us, last_stamp);
    }
    g_ptr_array_unref(others);
}
