/* Layouts (pure): slot geometry per layout name, then a stable assignment of
 * participants to slots.
 *
 * Geometry is fixed per (layout, shape): grid cells, or large slots on top and a
 * strip of 7-wide cells below. Cells never move when the count changes inside one
 * shape, which is what lets a participant keep its rectangle when others join or
 * leave (a centred strip would slide everybody sideways on every join). */
#include <tessera/err.h>
#include <tessera/layout.h>

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define STRIP_COLS 7

struct rect {
    int x, y, w, h;
};

struct geometry {
    bool content; /* main[0] holds the content stream */
    int n_main;
    struct rect main[2];
    int n_small;
    struct rect small[TSR_LAYOUT_MAX_TILES];
};

static const struct {
    const char *name;
    enum tsr_layout_kind kind;
} names[] = {
    {"grid", TSR_LAYOUT_GRID},
    {"ac", TSR_LAYOUT_GRID},
    {"four", TSR_LAYOUT_FOUR},
    {"4:0", TSR_LAYOUT_FOUR},
    {"single", TSR_LAYOUT_SINGLE},
    {"1:0", TSR_LAYOUT_SINGLE},
    {"speaker", TSR_LAYOUT_SPEAKER},
    {"1:7", TSR_LAYOUT_SPEAKER},
    {"1:21", TSR_LAYOUT_1_21},
    {"2:21", TSR_LAYOUT_2_21},
    {"presentation", TSR_LAYOUT_PRESENTATION},
};

int tsr_layout_parse(const char *name, enum tsr_layout_kind *out)
{
    if (!name || !out)
        return TSR_ERR_INVALID;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!strcasecmp(name, names[i].name)) {
            *out = names[i].kind;
            return 0;
        }
    }
    return TSR_ERR_INVALID;
}

const char *tsr_layout_name(enum tsr_layout_kind kind)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].kind == kind)
            return names[i].name; /* the first entry of each kind is canonical */
    return "unknown";
}

static int even_down(int v)
{
    return v & ~1;
}

/* Cell [x0,x1) x [y0,y1) (even edges) shrunk by half a gap on every side. */
static struct rect cell(int x0, int y0, int x1, int y1, int gap)
{
    int half = gap / 2;
    struct rect r;
    r.x = even_down(x0 + half + 1);
    r.y = even_down(y0 + half + 1);
    if (half == 0) {
        r.x = x0;
        r.y = y0;
    }
    r.w = even_down(x1 - half) - r.x;
    r.h = even_down(y1 - half) - r.y;
    return r;
}

/* cols x rows cells covering [x0,x1) x [y0,y1), reading order. */
static int grid_cells(struct rect *out, int cols, int rows, int x0, int y0, int x1, int y1, int gap)
{
    int n = 0;
    for (int r = 0; r < rows; r++) {
        int ya = y0 + even_down((y1 - y0) * r / rows);
        int yb = y0 + even_down((y1 - y0) * (r + 1) / rows);
        if (r == rows - 1)
            yb = y1;
        for (int c = 0; c < cols; c++) {
            int xa = x0 + even_down((x1 - x0) * c / cols);
            int xb = c == cols - 1 ? x1 : x0 + even_down((x1 - x0) * (c + 1) / cols);
            out[n++] = cell(xa, ya, xb, yb, gap);
        }
    }
    return n;
}

static void grid_geometry(struct geometry *g, size_t n, int W, int H, int gap)
{
    int dim = n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : n <= 16 ? 4 : 5;
    if (n == 0)
        return;
    if (n == 2) {
        /* Side by side at the canvas' own aspect: a band through the middle. */
        int y0 = even_down(H / 4), y1 = even_down(H * 3 / 4);
        g->n_small = grid_cells(g->small, 2, 1, 0, y0, W, y1, gap);
        return;
    }
    g->n_small = grid_cells(g->small, dim, dim, 0, 0, W, H, gap);
}

/* Large slots on top, `strip_rows` rows of 7 cells below, each row H/7 high. */
static void strip_geometry(struct geometry *g, int n_main, int strip_rows, int W, int H, int gap)
{
    int strip_y = H - even_down(H * strip_rows / STRIP_COLS);
    g->n_main = grid_cells(g->main, n_main, 1, 0, 0, W, strip_y, gap);
    g->n_small = grid_cells(g->small, STRIP_COLS, strip_rows, 0, strip_y, W, H, gap);
}

static void make_geometry(struct geometry *g, const struct tsr_layout_params *p, size_t n_cams,
                          bool content)
{
    int W = p->canvas_w, H = p->canvas_h, gap = p->gap_px;
    memset(g, 0, sizeof *g);
    enum tsr_layout_kind kind = p->kind;
    if (kind == TSR_LAYOUT_PRESENTATION && content) {
        g->content = true;
        strip_geometry(g, 1, 1, W, H, gap);
        return;
    }
    if (kind == TSR_LAYOUT_PRESENTATION)
        kind = TSR_LAYOUT_SPEAKER;
    switch (kind) {
    case TSR_LAYOUT_GRID:
        grid_geometry(g, n_cams > 25 ? 25 : n_cams, W, H, gap);
        return;
    case TSR_LAYOUT_FOUR:
        grid_geometry(g, n_cams > 4 ? 4 : n_cams, W, H, gap);
        return;
    default:
        break;
    }
    if (n_cams == 0)
        return;
    if (kind == TSR_LAYOUT_SINGLE || n_cams == 1) {
        g->n_main = grid_cells(g->main, 1, 1, 0, 0, W, H, gap);
        return;
    }
    if (kind == TSR_LAYOUT_SPEAKER)
        strip_geometry(g, 1, 1, W, H, gap);
    else if (kind == TSR_LAYOUT_1_21)
        strip_geometry(g, 1, 3, W, H, gap);
    else
        strip_geometry(g, 2, 3, W, H, gap);
}

/* Previous slot of `id` with `role`, or -1. */
static int prev_slot(const struct tsr_layout_tile *prev, size_t n_prev, uint32_t id,
                     enum tsr_layout_role role)
{
    for (size_t i = 0; i < n_prev; i++)
        if (prev[i].participant_id == id && prev[i].role == role)
            return prev[i].slot;
    return -1;
}

/* Assign ids[0..n) to slots [0, n_slots) of one role: keep previous slots, then fill
 * the lowest free ones in speech order. */
static void assign(const uint32_t *ids, size_t n, int n_slots, enum tsr_layout_role role,
                   const struct tsr_layout_tile *prev, size_t n_prev, int *slot_of)
{
    bool used[TSR_LAYOUT_MAX_TILES] = {false};
    for (size_t i = 0; i < n; i++) {
        int s = prev_slot(prev, n_prev, ids[i], role);
        slot_of[i] = -1;
        if (s >= 0 && s < n_slots && !used[s]) {
            slot_of[i] = s;
            used[s] = true;
        }
    }
    int next = 0;
    for (size_t i = 0; i < n; i++) {
        if (slot_of[i] >= 0)
            continue;
        while (used[next])
            next++;
        slot_of[i] = next;
        used[next] = true;
    }
}

static int validate(const struct tsr_layout_params *p, const uint32_t *speakers, size_t n)
{
    if (!p || (n && !speakers) || p->canvas_w < 64 || p->canvas_h < 36 || (p->canvas_w & 1) ||
        (p->canvas_h & 1) || p->gap_px < 0 || p->gap_px > 64 || (int)p->kind < 0 ||
        p->kind > TSR_LAYOUT_PRESENTATION)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (speakers[i] == 0)
            return -EINVAL;
        for (size_t j = 0; j < i; j++)
            if (speakers[j] == speakers[i])
                return -EINVAL;
    }
    return 0;
}

static void emit(struct tsr_layout_tile *t, uint32_t id, enum tsr_layout_role role, int slot,
                 struct rect r)
{
    t->participant_id = id;
    t->role = role;
    t->slot = slot;
    t->x = r.x;
    t->y = r.y;
    t->w = r.w;
    t->h = r.h;
}

int tsr_layout_compute(const struct tsr_layout_params *params, const uint32_t *speakers,
                       size_t n_speakers, const struct tsr_layout_tile *prev, size_t n_prev,
                       struct tsr_layout_tile *out, size_t *n_out)
{
    if (!out || !n_out || (n_prev && !prev) || validate(params, speakers, n_speakers) < 0)
        return -EINVAL;
    struct tsr_layout_params p = *params;
    p.gap_px = (p.gap_px + 1) & ~1;
    /* Cameras = speakers without the content stream's own id. */
    uint32_t cams[4096];
    size_t n_cams = 0;
    bool content = p.content_id != 0;
    for (size_t i = 0; i < n_speakers && n_cams < sizeof cams / sizeof cams[0]; i++)
        if (speakers[i] != p.content_id)
            cams[n_cams++] = speakers[i];
    struct geometry g;
    make_geometry(&g, &p, n_cams, content);
    for (int i = 0; i < g.n_main; i++)
        if (g.main[i].w < 2 || g.main[i].h < 2)
            return -EINVAL;
    for (int i = 0; i < g.n_small; i++)
        if (g.small[i].w < 2 || g.small[i].h < 2)
            return -EINVAL;

    size_t k = 0;
    size_t cam_main = g.content ? 0 : (size_t)g.n_main;
    if (cam_main > n_cams)
        cam_main = n_cams;
    size_t n_small = n_cams - cam_main;
    if (n_small > (size_t)g.n_small)
        n_small = (size_t)g.n_small;
    int main_slot[2], small_slot[TSR_LAYOUT_MAX_TILES];
    assign(cams, cam_main, g.n_main, TSR_LAYOUT_ROLE_MAIN, prev, n_prev, main_slot);
    assign(cams + cam_main, n_small, g.n_small, TSR_LAYOUT_ROLE_SMALL, prev, n_prev, small_slot);
    if (g.content)
        emit(&out[k++], p.content_id, TSR_LAYOUT_ROLE_CONTENT, 0, g.main[0]);
    /* Output by slot, so a caller diffing two results walks them in one order. */
    for (int s = 0; s < g.n_main; s++)
        for (size_t i = 0; i < cam_main; i++)
            if (main_slot[i] == s)
                emit(&out[k++], cams[i], TSR_LAYOUT_ROLE_MAIN, s, g.main[s]);
    for (int s = 0; s < g.n_small; s++)
        for (size_t i = 0; i < n_small; i++)
            if (small_slot[i] == s)
                emit(&out[k++], cams[cam_main + i], TSR_LAYOUT_ROLE_SMALL, s, g.small[s]);
    *n_out = k;
    return 0;
}

static bool listed(const uint32_t *ids, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* Appends the ids of `from` that are present (when `present` is not NULL), not
 * excluded and not yet in out. */
static size_t append_present(const uint32_t *present, size_t n_present, const uint32_t *from,
                             size_t n_from, uint32_t exclude, uint32_t *out, size_t n, size_t cap)
{
    for (size_t i = 0; i < n_from && n < cap; i++)
        if (from[i] != 0 && from[i] != exclude &&
            (!present || listed(present, n_present, from[i])) && !listed(out, n, from[i]))
            out[n++] = from[i];
    return n;
}

size_t tsr_layout_order(const uint32_t *present, size_t n_present, const uint32_t *pinned,
                        size_t n_pinned, const uint32_t *talkers, size_t n_talkers,
                        uint32_t exclude, uint32_t *out, size_t cap)
{
    if (!out || !present || (n_pinned && !pinned) || (n_talkers && !talkers))
        return 0;
    size_t n = append_present(present, n_present, pinned, n_pinned, exclude, out, 0, cap);
    n = append_present(present, n_present, talkers, n_talkers, exclude, out, n, cap);
    /* The rest of `present` needs no presence check: O(n_present x cap). */
    return append_present(NULL, 0, present, n_present, exclude, out, n, cap);
}
