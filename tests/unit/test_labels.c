/* Labels and the compositor's overlay: names shape and rasterise in several scripts,
 * stay inside the room they get, and land in their tile's bottom band only; the
 * speaker border, the muted mark and a placeholder's initials land where they
 * should; a changed overlay redraws its tile. */
#include <tessera/compositor.h>
#include <tessera/err.h>
#include <tessera/labels.h>
#include <tessera/layout.h>

#include <errno.h>
#include <stdlib.h>

#include "video_testutil.h"

#define FONT "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
#define CJK_FONT "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

static struct tsr_label_font *font_open(void)
{
    const char *paths[] = {FONT, CJK_FONT};
    struct tsr_label_font *f = NULL;
    g_assert_cmpint(tsr_label_font_new(&f, paths, 2), ==, 0);
    return f;
}

static unsigned ink(const struct tsr_label *l)
{
    unsigned n = 0;
    for (int i = 0; i < l->w * l->h; i++)
        n += l->alpha[i] > 128;
    return n;
}

static void test_render(void)
{
    struct tsr_label_font *f = font_open();
    struct tsr_label *a = NULL, *b = NULL, *a2 = NULL;
    g_assert_cmpint(tsr_label_render(f, "Ada Lovelace", 20, 400, &a), ==, 0);
    g_assert_cmpint(tsr_label_render(f, "Grace Hopper", 20, 400, &b), ==, 0);
    g_assert_cmpint(tsr_label_render(f, "Ada Lovelace", 20, 400, &a2), ==, 0);
    g_assert_cmpint(a->w, >, 60);
    g_assert_cmpint(a->h, >=, 20);
    g_assert_cmpint(ink(a), >, 50);
    g_assert_false(a->ellipsised);
    g_assert_cmpuint(a->serial, !=, a2->serial);
    /* The same name draws the same pixels; another name draws others. */
    g_assert_cmpmem(a->alpha, (gsize)(a->w * a->h), a2->alpha, (gsize)(a2->w * a2->h));
    g_assert_true(a->w != b->w || memcmp(a->alpha, b->alpha, (size_t)(a->w * a->h)) != 0);
    /* Bigger text, bigger label. */
    struct tsr_label *big = NULL;
    g_assert_cmpint(tsr_label_render(f, "Ada Lovelace", 40, 800, &big), ==, 0);
    g_assert_cmpint(big->w, >, a->w * 3 / 2);
    tsr_label_free(&big);
    tsr_label_free(&a);
    tsr_label_free(&a2);
    tsr_label_free(&b);
    g_assert_null(a);
    tsr_label_font_free(&f);
}

static void test_scripts(void)
{
    struct tsr_label_font *f = font_open();
    const char *names[] = {
        "Иван Петров",          /* Cyrillic */
        "Ἀλέξανδρος",           /* Greek with a breathing mark */
        "שלום עליכם",           /* Hebrew, right to left */
        "مرحبا بكم",            /* Arabic: joined, right to left */
        "王小明",               /* CJK: only the fallback font has it */
        "José Müller-Łukasz",   /* Latin with diacritics */
        "e\xcc\x81tienne",      /* a combining acute */
        "\xe2\x80\x8b\xe2\x80\x8b", /* zero-width spaces only: drawn as nothing */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        struct tsr_label *l = NULL;
        g_assert_cmpint(tsr_label_render(f, names[i], 24, 300, &l), ==, 0);
        if (i + 1 < G_N_ELEMENTS(names))
            g_assert_cmpuint(ink(l), >, 30);
        else
            g_assert_cmpuint(ink(l), ==, 0);
        tsr_label_free(&l);
    }
    /* Without the fallback, CJK still renders (as missing-glyph boxes), no crash. */
    const char *only[] = {FONT};
    struct tsr_label_font *latin = NULL;
    struct tsr_label *l = NULL;
    g_assert_cmpint(tsr_label_font_new(&latin, only, 1), ==, 0);
    g_assert_cmpint(tsr_label_render(latin, "王小明", 24, 300, &l), ==, 0);
    tsr_label_free(&l);
    tsr_label_font_free(&latin);
    tsr_label_font_free(&f);
}

static void test_ellipsis(void)
{
    struct tsr_label_font *f = font_open();
    const char *longs[] = {
        "Maximilian Alexander von Habsburg-Lothringen of the Very Long Name Society",
        "שלום עליכם שלום עליכם שלום עליכם שלום עליכם שלום עליכם",
        "王小明王小明王小明王小明王小明王小明王小明王小明王小明",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(longs); i++) {
        struct tsr_label *l = NULL;
        g_assert_cmpint(tsr_label_render(f, longs[i], 18, 120, &l), ==, 0);
        g_assert_cmpint(l->w, <=, 120);
        g_assert_cmpint(l->w, >, 60); /* cut, not dropped */
        g_assert_true(l->ellipsised);
        tsr_label_free(&l);
    }
    /* Not even the ellipsis fits: an empty label, never a wider one. */
    struct tsr_label *l = NULL;
    g_assert_cmpint(tsr_label_render(f, "Ada", 40, 3, &l), ==, 0);
    g_assert_cmpint(l->w, ==, 0);
    tsr_label_free(&l);
    tsr_label_font_free(&f);
}

static void test_initials(void)
{
    struct {
        const char *name, *want;
    } cases[] = {
        {"Ada King Lovelace", "AL"}, {"ada", "A"},     {"  grace   hopper ", "GH"},
        {"Иван Петров", "ИП"},        {"王小明", "王"}, {"Bob (guest)", "BG"},
        {"- Bob -", "B"},             {"", ""},         {"\xff\xfe", ""},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *got = tsr_label_initials(cases[i].name);
        g_assert_cmpstr(got, ==, cases[i].want);
        g_free(got);
    }
}

static void test_invalid(void)
{
    const char *none[] = {"/nonexistent/font.ttf"};
    struct tsr_label_font *f = NULL;
    g_assert_cmpint(tsr_label_font_new(&f, none, 1), ==, TSR_ERR_NOT_FOUND);
    g_assert_null(f);
    f = font_open();
    struct tsr_label *l = NULL;
    g_assert_cmpint(tsr_label_render(f, "\xc3\x28", 20, 100, &l), ==, -EINVAL);
    g_assert_cmpint(tsr_label_render(f, "Ada", 2, 100, &l), ==, -EINVAL);
    g_assert_cmpint(tsr_label_render(f, "Ada", 20, 0, &l), ==, -EINVAL);
    g_assert_null(l);
    tsr_label_font_free(&f);
}

/* --- the overlay on a composed canvas ------------------------------------------ */

struct scene {
    struct tsr_compositor *comp;
    struct tsr_layout_tile t[TSR_LAYOUT_MAX_TILES];
    size_t nt;
    AVFrame *frames[4];
    struct tsr_compositor_source src[4];
    struct tsr_compositor_overlay ov[4];
};

static void scene_init(struct scene *s)
{
    struct tsr_compositor_params cp = {.width = 640, .height = 360, .background_rgb = 0x202020};
    g_assert_cmpint(tsr_compositor_new(&s->comp, &cp), ==, 0);
    struct tsr_layout_params lp = {.kind = TSR_LAYOUT_GRID, .canvas_w = 640, .canvas_h = 360};
    uint32_t ids[] = {1, 2, 3, 4};
    g_assert_cmpint(tsr_layout_compute(&lp, ids, 4, NULL, 0, s->t, &s->nt), ==, 0);
    g_assert_cmpuint(s->nt, ==, 4);
    for (int i = 0; i < 4; i++) {
        s->frames[i] = vt_frame_new(AV_PIX_FMT_YUV420P, 320, 180);
        vt_fill_solid(s->frames[i], (uint8_t)(60 + 40 * i), 100, 160);
        s->src[i] = (struct tsr_compositor_source){.frame = s->frames[i], .changed = true};
        s->ov[i] = (struct tsr_compositor_overlay){0};
    }
}

static void scene_fini(struct scene *s)
{
    for (int i = 0; i < 4; i++)
        av_frame_free(&s->frames[i]);
    tsr_compositor_free(&s->comp);
}

static AVFrame *scene_render(struct scene *s, bool overlays)
{
    AVFrame *out = NULL;
    for (int i = 0; i < 4; i++)
        s->src[i].overlay = overlays ? &s->ov[i] : NULL;
    g_assert_cmpint(tsr_compositor_render(s->comp, s->t, s->src, 4, &out), ==, 0);
    AVFrame *copy = av_frame_clone(out);
    g_assert_cmpint(av_frame_make_writable(copy), ==, 0); /* a private copy of the bytes */
    av_frame_free(&out);
    return copy;
}

static int luma(const AVFrame *f, int x, int y)
{
    return f->data[0][(size_t)y * f->linesize[0] + x];
}

static const struct tsr_layout_tile *tile_at(const struct scene *s, int x, int y)
{
    for (size_t i = 0; i < s->nt; i++)
        if (x >= s->t[i].x && x < s->t[i].x + s->t[i].w && y >= s->t[i].y &&
            y < s->t[i].y + s->t[i].h)
            return &s->t[i];
    return NULL;
}

/* Counts the pixels of tile i's band that are near white (text). */
static int white_in_band(const struct scene *s, const AVFrame *f, size_t i)
{
    struct tsr_compositor_label_fit fit;
    tsr_compositor_label_fit(s->t[i].w, s->t[i].h, &fit);
    int n = 0;
    for (int y = s->t[i].y + s->t[i].h - fit.band_h; y < s->t[i].y + s->t[i].h; y++)
        for (int x = s->t[i].x; x < s->t[i].x + s->t[i].w; x++)
            n += luma(f, x, y) > 200;
    return n;
}

static void test_overlay_band(void)
{
    struct tsr_label_font *font = font_open();
    struct scene s;
    scene_init(&s);
    const char *names[] = {"Ada", "Grace Hopper",
                           "An extremely long display name that cannot fit in any tile", "王小明"};
    struct tsr_label *labels[4];
    for (int i = 0; i < 4; i++) {
        struct tsr_compositor_label_fit fit;
        tsr_compositor_label_fit(s.t[i].w, s.t[i].h, &fit);
        g_assert_cmpint(tsr_label_render(font, names[i], fit.name_px, fit.name_max_w, &labels[i]),
                        ==, 0);
        s.ov[i].name = labels[i];
    }
    AVFrame *plain = scene_render(&s, false);
    for (int i = 0; i < 4; i++)
        s.src[i].changed = false; /* the overlay alone must cause the redraw */
    AVFrame *named = scene_render(&s, true);
    int changed = 0;
    for (int y = 0; y < 360; y++)
        for (int x = 0; x < 640; x++) {
            if (luma(plain, x, y) == luma(named, x, y))
                continue;
            changed++;
            const struct tsr_layout_tile *t = tile_at(&s, x, y);
            g_assert_nonnull(t); /* never in a gap or the background */
            struct tsr_compositor_label_fit fit;
            tsr_compositor_label_fit(t->w, t->h, &fit);
            if (y < t->y + t->h - fit.band_h)
                g_error("pixel %d,%d changed above its tile's band", x, y);
        }
    g_assert_cmpint(changed, >, 0);
    for (size_t i = 0; i < 4; i++)
        g_assert_cmpint(white_in_band(&s, named, i), >, 20);
    /* Two names, two different bands (same tile size, same picture brightness aside). */
    g_assert_true(labels[0]->w != labels[1]->w);
    g_assert_true(labels[2]->ellipsised);
    av_frame_free(&plain);
    av_frame_free(&named);
    for (int i = 0; i < 4; i++)
        tsr_label_free(&labels[i]);
    scene_fini(&s);
    tsr_label_font_free(&font);
}

static void test_overlay_border_mark_initials(void)
{
    struct tsr_label_font *font = font_open();
    struct scene s;
    scene_init(&s);
    struct tsr_compositor_label_fit fit;
    tsr_compositor_label_fit(s.t[0].w, s.t[0].h, &fit);
    struct tsr_label *name = NULL, *initials = NULL;
    g_assert_cmpint(tsr_label_render(font, "Ada Lovelace", fit.name_px, fit.name_max_w, &name), ==,
                    0);
    g_assert_cmpint(
        tsr_label_render(font, "AL", fit.initials_px, fit.initials_max_w, &initials), ==, 0);
    s.ov[0] = (struct tsr_compositor_overlay){.name = name, .highlight = true};
    s.ov[1] = (struct tsr_compositor_overlay){.name = name, .mic_muted = true};
    s.ov[2] = (struct tsr_compositor_overlay){.name = name, .initials = initials};
    s.src[2].frame = NULL; /* camera off: placeholder with initials */
    AVFrame *f = scene_render(&s, true);
    /* Tile 0: amber border on all four edges, picture inside. */
    uint8_t by, bu, bv;
    tsr_compositor_rgb_to_yuv(0xffb300, &by, &bu, &bv);
    const struct tsr_layout_tile *t = &s.t[0];
    g_assert_cmpint(luma(f, t->x, t->y + t->h / 2), ==, by);
    g_assert_cmpint(luma(f, t->x + t->w - 1, t->y + t->h / 2), ==, by);
    g_assert_cmpint(luma(f, t->x + t->w / 2, t->y), ==, by);
    g_assert_cmpint(luma(f, t->x + t->w / 2, t->y + t->h / 2), ==, 60);
    /* Tile 1: no border; a red mark in the band after the name. */
    t = &s.t[1];
    g_assert_cmpint(luma(f, t->x + t->w / 2, t->y), ==, 100);
    int red = 0;
    for (int y = t->y + t->h - fit.band_h; y < t->y + t->h; y += 2)
        for (int x = t->x + name->w; x < t->x + t->w; x += 2) {
            int V = f->data[2][(size_t)(y / 2) * f->linesize[2] + x / 2];
            red += V > 190; /* red has a high Cr */
        }
    g_assert_cmpint(red, >, 4);
    /* Tile 2: placeholder colour with white initials in the middle. */
    t = &s.t[2];
    uint8_t py, pu, pv;
    tsr_compositor_rgb_to_yuv(tsr_compositor_placeholder_rgb(t->participant_id), &py, &pu, &pv);
    g_assert_cmpint(luma(f, t->x + 2, t->y + 2), ==, py);
    int white = 0;
    for (int y = t->y + t->h / 4; y < t->y + t->h * 3 / 4; y++)
        for (int x = t->x + t->w / 4; x < t->x + t->w * 3 / 4; x++)
            white += luma(f, x, y) > 220;
    g_assert_cmpint(white, >, 100);
    /* Turning the border off redraws tile 0 without it, though its picture is old. */
    av_frame_free(&f);
    for (int i = 0; i < 4; i++)
        s.src[i].changed = false;
    s.ov[0].highlight = false;
    f = scene_render(&s, true);
    g_assert_cmpint(luma(f, s.t[0].x, s.t[0].y + s.t[0].h / 2), ==, 60);
    av_frame_free(&f);
    tsr_label_free(&name);
    tsr_label_free(&initials);
    scene_fini(&s);
    tsr_label_font_free(&font);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/labels/render", test_render);
    g_test_add_func("/labels/scripts", test_scripts);
    g_test_add_func("/labels/ellipsis", test_ellipsis);
    g_test_add_func("/labels/initials", test_initials);
    g_test_add_func("/labels/invalid", test_invalid);
    g_test_add_func("/labels/overlay_band", test_overlay_band);
    g_test_add_func("/labels/overlay_border_mark_initials", test_overlay_border_mark_initials);
    return g_test_run();
}
