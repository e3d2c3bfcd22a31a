/* Layout: every name for 0..30 participants — tiles inside the canvas, no overlaps,
 * even coordinates, most recent talkers shown, stable placement on join/leave. */
#include <tessera/err.h>
#include <tessera/layout.h>

#include <errno.h>
#include <glib.h>
#include <stdbool.h>
#include <string.h>

static const char *all_names[] = {"grid",    "ac",  "four", "4:0",  "single",      "1:0",
                                  "speaker", "1:7", "1:21", "2:21", "presentation"};

static int capacity(enum tsr_layout_kind k, bool content)
{
    switch (k) {
    case TSR_LAYOUT_GRID:
        return 25;
    case TSR_LAYOUT_FOUR:
        return 4;
    case TSR_LAYOUT_SINGLE:
        return 1;
    case TSR_LAYOUT_SPEAKER:
        return 8;
    case TSR_LAYOUT_1_21:
        return 22;
    case TSR_LAYOUT_2_21:
        return 23;
    case TSR_LAYOUT_PRESENTATION:
        return content ? 7 : 8;
    }
    return 0;
}

/* A number that changes exactly when the slot geometry changes. */
static int shape(enum tsr_layout_kind k, size_t n)
{
    if (k == TSR_LAYOUT_GRID || k == TSR_LAYOUT_FOUR) {
        if (k == TSR_LAYOUT_FOUR && n > 4)
            n = 4;
        return n <= 1 ? (int)n : n == 2 ? 2 : n <= 4 ? 4 : n <= 9 ? 9 : n <= 16 ? 16 : 25;
    }
    return n <= 1 ? (int)n : 2;
}

static void check_tiles(const struct tsr_layout_params *p, const struct tsr_layout_tile *t,
                        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        g_assert_cmpint(t[i].x, >=, 0);
        g_assert_cmpint(t[i].y, >=, 0);
        g_assert_cmpint(t[i].w, >=, 2);
        g_assert_cmpint(t[i].h, >=, 2);
        g_assert_cmpint(t[i].x + t[i].w, <=, p->canvas_w);
        g_assert_cmpint(t[i].y + t[i].h, <=, p->canvas_h);
        g_assert_cmpint(t[i].x % 2, ==, 0);
        g_assert_cmpint(t[i].y % 2, ==, 0);
        g_assert_cmpint(t[i].w % 2, ==, 0);
        g_assert_cmpint(t[i].h % 2, ==, 0);
        for (size_t j = 0; j < i; j++) {
            gboolean apart = t[i].x + t[i].w <= t[j].x || t[j].x + t[j].w <= t[i].x ||
                             t[i].y + t[i].h <= t[j].y || t[j].y + t[j].h <= t[i].y;
            g_assert_true(apart);
            g_assert_cmpuint(t[i].participant_id, !=, t[j].participant_id);
        }
    }
}

static const struct tsr_layout_tile *find(const struct tsr_layout_tile *t, size_t n, uint32_t id)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].participant_id == id)
            return &t[i];
    return NULL;
}

/* Every participant shown both times keeps role and slot (and the rectangle when the
 * shape is unchanged), unless it was pushed off by a shrinking geometry. */
static void check_stable(const struct tsr_layout_tile *a, size_t na,
                         const struct tsr_layout_tile *b, size_t nb, int shape_a, int shape_b)
{
    gboolean same_shape = shape_a == shape_b;
    if (shape_b < shape_a)
        return; /* fewer slots: those beyond the new count must move */
    for (size_t i = 0; i < nb; i++) {
        const struct tsr_layout_tile *old = find(a, na, b[i].participant_id);
        if (!old || old->role != b[i].role)
            continue;
        g_assert_cmpint(old->slot, ==, b[i].slot);
        if (same_shape) {
            g_assert_cmpint(old->x, ==, b[i].x);
            g_assert_cmpint(old->y, ==, b[i].y);
            g_assert_cmpint(old->w, ==, b[i].w);
            g_assert_cmpint(old->h, ==, b[i].h);
        }
    }
}

static void run_case(const char *name, int W, int H, int gap, uint32_t content_id)
{
    struct tsr_layout_params p = {
        .canvas_w = W, .canvas_h = H, .gap_px = gap, .content_id = content_id};
    g_assert_cmpint(tsr_layout_parse(name, &p.kind), ==, 0);
    uint32_t ids[40];
    for (size_t n = 0; n <= 30; n++) {
        for (size_t i = 0; i < n; i++)
            ids[i] = (uint32_t)(100 + i); /* speech order: 100 spoke last */
        struct tsr_layout_tile t[TSR_LAYOUT_MAX_TILES], j[TSR_LAYOUT_MAX_TILES],
            l[TSR_LAYOUT_MAX_TILES];
        size_t nt = 0, nj = 0, nl = 0;
        g_assert_cmpint(tsr_layout_compute(&p, ids, n, NULL, 0, t, &nt), ==, 0);
        check_tiles(&p, t, nt);
        bool content = content_id && p.kind == TSR_LAYOUT_PRESENTATION;
        size_t shown =
            n < (size_t)capacity(p.kind, content) ? n : (size_t)capacity(p.kind, content);
        g_assert_cmpuint(nt, ==, shown + (content ? 1 : 0));
        /* The most recent talkers are the ones shown. */
        for (size_t i = 0; i < shown; i++)
            g_assert_nonnull(find(t, nt, ids[i]));

        /* Join: a newcomer (has not spoken yet) goes to the end of the speech order. */
        ids[n] = 900;
        g_assert_cmpint(tsr_layout_compute(&p, ids, n + 1, t, nt, j, &nj), ==, 0);
        check_tiles(&p, j, nj);
        check_stable(t, nt, j, nj, shape(p.kind, n), shape(p.kind, n + 1));

        /* Leave: someone who is not a large-slot speaker leaves. */
        if (n >= 3) {
            size_t gone = n / 2 >= 2 ? n / 2 : 2;
            uint32_t rest[40];
            size_t nr = 0;
            for (size_t i = 0; i < n; i++)
                if (i != gone)
                    rest[nr++] = ids[i];
            g_assert_cmpint(tsr_layout_compute(&p, rest, nr, t, nt, l, &nl), ==, 0);
            check_tiles(&p, l, nl);
            g_assert_null(find(l, nl, ids[gone]));
            check_stable(t, nt, l, nl, shape(p.kind, n), shape(p.kind, nr));
        }
    }
}

static void test_all_names(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(all_names); i++) {
        run_case(all_names[i], 1280, 720, 0, 0);
        run_case(all_names[i], 1280, 720, 6, 0);
        run_case(all_names[i], 640, 360, 2, 0);
        run_case(all_names[i], 1920, 1080, 4, 77);
        run_case(all_names[i], 64, 36, 0, 0);
    }
}

static void test_aliases(void)
{
    enum tsr_layout_kind a, b;
    const char *pairs[][2] = {{"ac", "grid"},     {"4:0", "four"},  {"1:0", "single"},
                              {"1:7", "speaker"}, {"1:21", "1:21"}, {"2:21", "2:21"}};
    for (size_t i = 0; i < G_N_ELEMENTS(pairs); i++) {
        g_assert_cmpint(tsr_layout_parse(pairs[i][0], &a), ==, 0);
        g_assert_cmpint(tsr_layout_parse(pairs[i][1], &b), ==, 0);
        g_assert_cmpint(a, ==, b);
    }
    g_assert_cmpstr(tsr_layout_name(TSR_LAYOUT_SPEAKER), ==, "speaker");
    g_assert_cmpint(tsr_layout_parse("GRID", &a), ==, 0);
    g_assert_cmpint(tsr_layout_parse("3:3", &a), ==, TSR_ERR_INVALID);
    g_assert_cmpint(tsr_layout_parse(NULL, &a), ==, TSR_ERR_INVALID);
}

static void test_shapes(void)
{
    struct tsr_layout_params p = {.kind = TSR_LAYOUT_GRID, .canvas_w = 1280, .canvas_h = 720};
    uint32_t ids[] = {1, 2, 3, 4, 5};
    struct tsr_layout_tile t[TSR_LAYOUT_MAX_TILES];
    size_t n = 0;
    /* One fills the canvas; two side by side; four are a 2x2 of 640x360. */
    g_assert_cmpint(tsr_layout_compute(&p, ids, 1, NULL, 0, t, &n), ==, 0);
    g_assert_true(n == 1 && t[0].w == 1280 && t[0].h == 720);
    g_assert_cmpint(tsr_layout_compute(&p, ids, 2, NULL, 0, t, &n), ==, 0);
    g_assert_true(n == 2 && t[0].y == t[1].y && t[0].w == 640 && t[1].x == 640);
    g_assert_cmpint(tsr_layout_compute(&p, ids, 4, NULL, 0, t, &n), ==, 0);
    g_assert_cmpuint(n, ==, 4);
    for (size_t i = 0; i < 4; i++) {
        g_assert_cmpint(t[i].w, ==, 640);
        g_assert_cmpint(t[i].h, ==, 360);
        g_assert_cmpint(t[i].x, ==, (int)(i % 2) * 640);
        g_assert_cmpint(t[i].y, ==, (int)(i / 2) * 360);
    }
    /* Speaker: the latest talker is large, others in the strip; speech swaps them. */
    p.kind = TSR_LAYOUT_SPEAKER;
    g_assert_cmpint(tsr_layout_compute(&p, ids, 5, NULL, 0, t, &n), ==, 0);
    g_assert_cmpuint(t[0].participant_id, ==, 1);
    g_assert_cmpint(t[0].role, ==, TSR_LAYOUT_ROLE_MAIN);
    g_assert_cmpint(t[0].w, ==, 1280);
    uint32_t spoke[] = {3, 1, 2, 4, 5};
    struct tsr_layout_tile u[TSR_LAYOUT_MAX_TILES];
    size_t nu = 0;
    g_assert_cmpint(tsr_layout_compute(&p, spoke, 5, t, n, u, &nu), ==, 0);
    g_assert_cmpuint(u[0].participant_id, ==, 3);
    /* 2 and 4 stay where they were; 1 takes the strip slot 3 left. */
    g_assert_cmpint(find(u, nu, 2)->slot, ==, find(t, n, 2)->slot);
    g_assert_cmpint(find(u, nu, 4)->slot, ==, find(t, n, 4)->slot);
    g_assert_cmpint(find(u, nu, 1)->slot, ==, find(t, n, 3)->slot);
    /* Presentation: content first, letterboxed role, speakers in the strip. */
    p.kind = TSR_LAYOUT_PRESENTATION;
    p.content_id = 99;
    g_assert_cmpint(tsr_layout_compute(&p, ids, 5, NULL, 0, t, &n), ==, 0);
    g_assert_cmpuint(n, ==, 6);
    g_assert_cmpint(t[0].role, ==, TSR_LAYOUT_ROLE_CONTENT);
    g_assert_cmpuint(t[0].participant_id, ==, 99);
}

static void test_invalid(void)
{
    struct tsr_layout_params p = {.kind = TSR_LAYOUT_GRID, .canvas_w = 1280, .canvas_h = 720};
    struct tsr_layout_tile t[TSR_LAYOUT_MAX_TILES];
    size_t n = 12345;
    uint32_t dup[] = {1, 2, 1}, zero[] = {0};
    g_assert_cmpint(tsr_layout_compute(&p, dup, 3, NULL, 0, t, &n), ==, -EINVAL);
    g_assert_cmpint(tsr_layout_compute(&p, zero, 1, NULL, 0, t, &n), ==, -EINVAL);
    p.canvas_w = 1279;
    g_assert_cmpint(tsr_layout_compute(&p, dup, 2, NULL, 0, t, &n), ==, -EINVAL);
    g_assert_cmpuint(n, ==, 12345);
}

/* Pins first (pin order), then talkers, then join order; only present ids, once. */
static void test_order(void)
{
    const uint32_t present[] = {1, 2, 3, 4, 5};
    uint32_t out[8];
    /* No pins: talkers first, then join order. */
    const uint32_t talk[] = {4, 2};
    g_assert_cmpuint(tsr_layout_order(present, 5, NULL, 0, talk, 2, 0, out, 8), ==, 5);
    const uint32_t want0[] = {4, 2, 1, 3, 5};
    g_assert_cmpmem(out, sizeof want0, want0, sizeof want0);
    /* A pin beats the dominant talker; a pinned talker is listed once. */
    const uint32_t pins[] = {5, 2};
    g_assert_cmpuint(tsr_layout_order(present, 5, pins, 2, talk, 2, 0, out, 8), ==, 5);
    const uint32_t want1[] = {5, 2, 4, 1, 3};
    g_assert_cmpmem(out, sizeof want1, want1, sizeof want1);
    /* The viewer is left out of its own view, pinned or not; absent ids (a pinned
     * participant without video, a talker who left) are skipped. */
    const uint32_t pins2[] = {9, 5, 3}, talk2[] = {7, 1};
    g_assert_cmpuint(tsr_layout_order(present, 5, pins2, 3, talk2, 2, 5, out, 8), ==, 4);
    const uint32_t want2[] = {3, 1, 2, 4};
    g_assert_cmpmem(out, sizeof want2, want2, sizeof want2);
    /* cap bounds the output. */
    g_assert_cmpuint(tsr_layout_order(present, 5, pins, 2, talk, 2, 0, out, 2), ==, 2);
    g_assert_cmpuint(out[0], ==, 5);
    g_assert_cmpuint(out[1], ==, 2);
    g_assert_cmpuint(tsr_layout_order(NULL, 3, NULL, 0, NULL, 0, 0, out, 8), ==, 0);
}

static uint32_t main_tile(const struct tsr_layout_tile *t, size_t n, int slot)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].role == TSR_LAYOUT_ROLE_MAIN && t[i].slot == slot)
            return t[i].participant_id;
    return 0;
}

/* A pinned participant stays on the large tile while the talkers change, across
 * joins and leaves, with stable placement feeding each result into the next; once
 * unpinned, speech takes the tile back. */
static void test_pinned_keeps_main(void)
{
    struct tsr_layout_params p = {.kind = TSR_LAYOUT_SPEAKER, .canvas_w = 640, .canvas_h = 360};
    struct tsr_layout_tile prev[TSR_LAYOUT_MAX_TILES], t[TSR_LAYOUT_MAX_TILES];
    size_t n_prev = 0, n = 0;
    uint32_t present[] = {1, 2, 3, 4, 5, 6}, ids[8];
    const uint32_t pin[] = {3};
    const uint32_t talk_seq[][2] = {{1, 2}, {2, 0}, {4, 1}, {6, 5}, {0, 0}, {5, 4}};
    for (size_t step = 0; step < G_N_ELEMENTS(talk_seq); step++) {
        size_t n_present = step == 3 ? 5 : 6; /* 6 leaves for a step, then comes back */
        size_t n_talk = talk_seq[step][0] ? (talk_seq[step][1] ? 2 : 1) : 0;
        size_t k = tsr_layout_order(present, n_present, pin, 1, talk_seq[step], n_talk, 0, ids,
                                    G_N_ELEMENTS(ids));
        g_assert_cmpint(tsr_layout_compute(&p, ids, k, prev, n_prev, t, &n), ==, 0);
        g_assert_cmpuint(main_tile(t, n, 0), ==, 3);
        memcpy(prev, t, n * sizeof t[0]);
        n_prev = n;
    }
    /* Unpinned: the dominant talker takes the large tile. */
    const uint32_t talk[] = {5};
    size_t k = tsr_layout_order(present, 6, NULL, 0, talk, 1, 0, ids, G_N_ELEMENTS(ids));
    g_assert_cmpint(tsr_layout_compute(&p, ids, k, prev, n_prev, t, &n), ==, 0);
    g_assert_cmpuint(main_tile(t, n, 0), ==, 5);
    /* 2:21: two pins hold both large tiles, each keeping its side as talkers change. */
    p.kind = TSR_LAYOUT_2_21;
    const uint32_t pins2[] = {4, 2};
    n_prev = 0;
    uint32_t left = 0, right = 0;
    for (uint32_t talker = 1; talker <= 6; talker++) {
        k = tsr_layout_order(present, 6, pins2, 2, &talker, 1, 0, ids, G_N_ELEMENTS(ids));
        g_assert_cmpint(tsr_layout_compute(&p, ids, k, prev, n_prev, t, &n), ==, 0);
        uint32_t a = main_tile(t, n, 0), b = main_tile(t, n, 1);
        g_assert_true((a == 4 && b == 2) || (a == 2 && b == 4));
        if (left) {
            g_assert_cmpuint(a, ==, left);
            g_assert_cmpuint(b, ==, right);
        }
        left = a;
        right = b;
        memcpy(prev, t, n * sizeof t[0]);
        n_prev = n;
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/layout/all_names_0_30", test_all_names);
    g_test_add_func("/layout/aliases", test_aliases);
    g_test_add_func("/layout/shapes", test_shapes);
    g_test_add_func("/layout/invalid", test_invalid);
    g_test_add_func("/layout/order", test_order);
    g_test_add_func("/layout/pinned_keeps_main", test_pinned_keeps_main);
    return g_test_run();
}
