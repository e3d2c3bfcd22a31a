/* Labels: shape with HarfBuzz, draw with FreeType, once per (name, size). The
 * compositor only blends the result (compositor_overlay.c), so a name costs one
 * rasterisation when a tile changes size and a blend per redraw of the tile. */
#include <tessera/err.h>
#include <tessera/labels.h>
#include <tessera/log.h>

#include <ft2build.h>
#include FT_FREETYPE_H
#include <glib.h>
#include <hb-ft.h>
#include <hb.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FONTS 4
#define ELLIPSIS "\xe2\x80\xa6" /* U+2026 */

struct face {
    FT_Face ft;
    hb_font_t *hb;
    int px; /* the size set on both, 0 = none yet */
};

/* Home thread: its user (one at a time). */
struct tsr_label_font {
    FT_Library lib;
    struct face faces[MAX_FONTS];
    size_t n;
};

#define MAX_RUNS 16

/* A shaped run: one font's stretch of the text, glyphs in visual order with their
 * pen advances (26.6 fixed point). */
struct shaped {
    struct face *face;
    hb_buffer_t *buf;
    unsigned n;
    const hb_glyph_info_t *info;
    const hb_glyph_position_t *pos;
};

/* A whole name: its runs in visual order. */
struct line {
    struct shaped runs[MAX_RUNS];
    size_t n;
    int64_t width_26_6;
};

static atomic_uint_fast64_t next_serial = 1;

int tsr_label_font_new(struct tsr_label_font **out, const char *const *paths, size_t n_paths)
{
    if (!out || (!paths && n_paths))
        return -EINVAL;
    struct tsr_label_font *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    if (FT_Init_FreeType(&f->lib) != 0) {
        free(f);
        return -ENOMEM;
    }
    for (size_t i = 0; i < n_paths && f->n < MAX_FONTS; i++) {
        FT_Face ft = NULL;
        if (!paths[i] || !*paths[i])
            continue;
        if (FT_New_Face(f->lib, paths[i], 0, &ft) != 0 || !FT_IS_SCALABLE(ft)) {
            TSR_LOG(TSR_LOG_WARN, "labels", "cannot use the font %s (missing or not scalable)",
                    paths[i]);
            if (ft)
                FT_Done_Face(ft);
            continue;
        }
        f->faces[f->n++] = (struct face){.ft = ft, .hb = hb_ft_font_create_referenced(ft)};
    }
    if (f->n == 0) {
        tsr_label_font_free(&f);
        return TSR_ERR_NOT_FOUND;
    }
    *out = f;
    return 0;
}

void tsr_label_font_free(struct tsr_label_font **p)
{
    if (!p || !*p)
        return;
    struct tsr_label_font *f = *p;
    for (size_t i = 0; i < f->n; i++) {
        hb_font_destroy(f->faces[i].hb); /* drops its reference on the face */
        FT_Done_Face(f->faces[i].ft);
    }
    FT_Done_FreeType(f->lib);
    free(f);
    *p = NULL;
}

void tsr_label_free(struct tsr_label **p)
{
    if (!p || !*p)
        return;
    free(*p);
    *p = NULL;
}

/* The text as drawn: control characters (and bidi controls the core refuses
 * anyway) dropped, so they neither draw boxes nor move the pen. */
static char *printable(const char *utf8)
{
    GString *s = g_string_sized_new(strlen(utf8));
    for (const char *p = utf8; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (!g_unichar_iscntrl(c) && g_unichar_type(c) != G_UNICODE_FORMAT)
            g_string_append_unichar(s, c);
    }
    return g_string_free(s, FALSE);
}

/* The first font with a glyph for c; -1 when none has one. */
static int face_for(const struct tsr_label_font *f, gunichar c)
{
    for (size_t i = 0; i < f->n; i++)
        if (FT_Get_Char_Index(f->faces[i].ft, c) != 0)
            return (int)i;
    return -1;
}

static int set_size(struct face *fc, int px)
{
    if (fc->px == px)
        return 0;
    if (FT_Set_Pixel_Sizes(fc->ft, 0, (FT_UInt)px) != 0)
        return TSR_ERR_UNSUPPORTED;
    hb_ft_font_changed(fc->hb);
    fc->px = px;
    return 0;
}

static void line_fini(struct line *l)
{
    for (size_t i = 0; i < l->n; i++)
        hb_buffer_destroy(l->runs[i].buf);
    *l = (struct line){0};
}

/* Shapes text[0..len) with face `fi` as the line's next run. */
static int add_run(struct tsr_label_font *f, struct line *l, int fi, const char *text, size_t len,
                   int px)
{
    struct face *fc = &f->faces[fi < 0 ? 0 : fi];
    if (set_size(fc, px) != 0)
        return TSR_ERR_UNSUPPORTED;
    hb_buffer_t *buf = hb_buffer_create();
    if (!hb_buffer_allocation_successful(buf)) {
        hb_buffer_destroy(buf);
        return -ENOMEM;
    }
    hb_buffer_add_utf8(buf, text, (int)len, 0, (int)len);
    hb_buffer_guess_segment_properties(buf); /* script, language, direction (RTL too) */
    hb_shape(fc->hb, buf, NULL, 0);
    struct shaped *r = &l->runs[l->n++];
    *r = (struct shaped){.face = fc, .buf = buf};
    r->info = hb_buffer_get_glyph_infos(buf, &r->n);
    r->pos = hb_buffer_get_glyph_positions(buf, NULL);
    for (unsigned i = 0; i < r->n; i++)
        l->width_26_6 += r->pos[i].x_advance;
    return 0;
}

/* 1: a right-to-left letter; -1: a left-to-right letter or a digit (digits read
 * left to right inside right-to-left text too); 0: neutral (spaces, punctuation). */
static int direction_of(gunichar c)
{
    switch (g_unichar_get_script(c)) {
    case G_UNICODE_SCRIPT_ARABIC:
    case G_UNICODE_SCRIPT_HEBREW:
    case G_UNICODE_SCRIPT_SYRIAC:
    case G_UNICODE_SCRIPT_THAANA:
    case G_UNICODE_SCRIPT_NKO:
        return 1;
    default:
        return g_unichar_isalnum(c) ? -1 : 0;
    }
}

/* Splits `text` into runs of one font and one direction each: the font is the first
 * that has the character (so a CJK name with a Latin suffix takes two fonts and
 * shows no missing-glyph boxes); spaces, punctuation and characters no font has stay
 * in the run they are in. Each run is shaped in its own direction, and the runs are
 * laid out in the direction of the name's first letter. That is the two-level case
 * of the Unicode bidi algorithm, which is what names need (no FriBidi). */
static int shape_line(struct tsr_label_font *f, const char *text, int px, struct line *out)
{
    *out = (struct line){0};
    const char *start = text, *p = text;
    int cur = -1, cur_dir = 0, first_dir = 0, rc = 0;
    for (; *p && out->n < MAX_RUNS - 1; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        int want = g_unichar_isspace(c) ? -1 : face_for(f, c), dir = direction_of(c);
        first_dir = first_dir ? first_dir : dir;
        bool same_font = want < 0 || want == cur || cur < 0;
        bool same_dir = dir == 0 || dir == cur_dir || cur_dir == 0;
        if (same_font && same_dir) {
            cur = cur < 0 ? want : cur;
            cur_dir = cur_dir ? cur_dir : dir;
            continue;
        }
        if ((rc = add_run(f, out, cur, start, (size_t)(p - start), px)) != 0)
            break;
        start = p;
        cur = want;
        cur_dir = dir;
    }
    if (rc == 0 && *start) /* the rest (all of it past MAX_RUNS - 1 changes) */
        rc = add_run(f, out, cur, start, strlen(start), px);
    if (rc) {
        line_fini(out);
        return rc;
    }
    for (size_t i = 0; first_dir > 0 && i < out->n / 2; i++) {
        struct shaped t = out->runs[i];
        out->runs[i] = out->runs[out->n - 1 - i];
        out->runs[out->n - 1 - i] = t;
    }
    return 0;
}

/* The first `chars` characters of text followed by "…". */
static char *cut(const char *text, long chars)
{
    const char *end = g_utf8_offset_to_pointer(text, chars);
    GString *s = g_string_new_len(text, end - text);
    while (s->len && s->str[s->len - 1] == ' ')
        g_string_truncate(s, s->len - 1);
    g_string_append(s, ELLIPSIS);
    return g_string_free(s, FALSE);
}

/* Shapes `text`, or the longest "prefix…" that fits `max_w` (binary search on the
 * number of characters: shaping is cheap next to how rarely this runs). */
static int shape_to_fit(struct tsr_label_font *f, const char *text, int px, int max_w,
                        struct line *out, bool *ellipsised)
{
    int rc = shape_line(f, text, px, out);
    *ellipsised = false;
    if (rc || out->width_26_6 <= (int64_t)max_w * 64)
        return rc;
    line_fini(out);
    *ellipsised = true;
    long lo = 0, hi = g_utf8_strlen(text, -1) - 1; /* lo always fits (may be just "…") */
    while (lo < hi) {
        long mid = (lo + hi + 1) / 2;
        char *t = cut(text, mid);
        struct line l;
        rc = shape_line(f, t, px, &l);
        g_free(t);
        if (rc)
            return rc;
        bool fits = l.width_26_6 <= (int64_t)max_w * 64;
        line_fini(&l);
        if (fits)
            lo = mid;
        else
            hi = mid - 1;
    }
    char *t = cut(text, lo);
    rc = shape_line(f, t, px, out);
    g_free(t);
    if (rc == 0 && out->width_26_6 > (int64_t)max_w * 64)
        line_fini(out); /* not even "…" fits: an empty label */
    return rc;
}

/* Adds one rendered glyph bitmap into the label at (x0, y0), clipped. */
static void blit(struct tsr_label *l, const FT_Bitmap *bm, int x0, int y0)
{
    for (unsigned r = 0; r < bm->rows; r++) {
        int y = y0 + (int)r;
        if (y < 0 || y >= l->h)
            continue;
        const uint8_t *src = bm->buffer + (ptrdiff_t)r * bm->pitch;
        for (unsigned c = 0; c < bm->width; c++) {
            int x = x0 + (int)c;
            if (x < 0 || x >= l->w)
                continue;
            unsigned v = l->alpha[(size_t)y * l->w + x] + src[c];
            l->alpha[(size_t)y * l->w + x] = (uint8_t)(v > 255 ? 255 : v);
        }
    }
}

/* The line's height: the tallest ascent and deepest descent of the fonts it uses
 * (the primary font's when it is empty). */
static void line_extent(const struct tsr_label_font *f, const struct line *l, int *ascent,
                        int *descent)
{
    *ascent = *descent = 0;
    for (size_t r = 0; r < (l->n ? l->n : 1); r++) {
        const struct face *fc = l->n ? l->runs[r].face : &f->faces[0];
        const FT_Size_Metrics *m = &fc->ft->size->metrics;
        int a = (int)((m->ascender + 63) >> 6), d = (int)((-m->descender + 63) >> 6);
        *ascent = a > *ascent ? a : *ascent;
        *descent = d > *descent ? d : *descent;
    }
}

static int rasterise(struct tsr_label_font *f, const struct line *line, int px, bool ellipsised,
                     struct tsr_label **out)
{
    if (set_size(&f->faces[0], px) != 0)
        return TSR_ERR_UNSUPPORTED;
    int ascent, descent;
    line_extent(f, line, &ascent, &descent);
    int w = line->n ? (int)((line->width_26_6 + 63) >> 6) : 0, h = ascent + descent;
    struct tsr_label *l = calloc(1, sizeof *l + (size_t)w * (size_t)h);
    if (!l)
        return -ENOMEM;
    l->w = w;
    l->h = h;
    l->ellipsised = ellipsised;
    l->serial = atomic_fetch_add(&next_serial, 1);
    int64_t pen = 0;
    for (size_t r = 0; r < line->n; r++) {
        const struct shaped *s = &line->runs[r];
        FT_Face ft = s->face->ft;
        for (unsigned i = 0; i < s->n; i++) {
            if (FT_Load_Glyph(ft, s->info[i].codepoint, FT_LOAD_DEFAULT) == 0 &&
                FT_Render_Glyph(ft->glyph, FT_RENDER_MODE_NORMAL) == 0) {
                const FT_GlyphSlot g = ft->glyph;
                int x = (int)((pen + s->pos[i].x_offset) >> 6) + g->bitmap_left;
                int y = ascent - (int)(s->pos[i].y_offset >> 6) - g->bitmap_top;
                blit(l, &g->bitmap, x, y);
            }
            pen += s->pos[i].x_advance;
        }
    }
    *out = l;
    return 0;
}

int tsr_label_render(struct tsr_label_font *font, const char *utf8, int px_size, int max_w,
                     struct tsr_label **out)
{
    if (!font || !utf8 || !out || px_size < 4 || px_size > 512 || max_w < 1 ||
        !g_utf8_validate(utf8, -1, NULL))
        return -EINVAL;
    char *text = printable(utf8);
    struct line line = {0};
    bool ellipsised = false;
    int rc = shape_to_fit(font, text, px_size, max_w, &line, &ellipsised);
    if (rc == 0)
        rc = rasterise(font, &line, px_size, ellipsised, out);
    line_fini(&line);
    g_free(text);
    return rc;
}

static gunichar first_letter(const char *word, const char *end)
{
    for (const char *p = word; p < end; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_isalnum(c))
            return g_unichar_toupper(c);
    }
    return 0;
}

char *tsr_label_initials(const char *name)
{
    GString *s = g_string_new(NULL);
    if (!name || !g_utf8_validate(name, -1, NULL))
        return g_string_free(s, FALSE);
    const char *first = NULL, *first_end = NULL, *last = NULL, *last_end = NULL;
    const char *p = name;
    while (*p) {
        while (*p && g_unichar_isspace(g_utf8_get_char(p)))
            p = g_utf8_next_char(p);
        if (!*p)
            break;
        const char *w = p;
        while (*p && !g_unichar_isspace(g_utf8_get_char(p)))
            p = g_utf8_next_char(p);
        if (!first_letter(w, p))
            continue; /* "-", "(guest)" … carry no initial */
        if (!first) {
            first = w;
            first_end = p;
        } else {
            last = w;
            last_end = p;
        }
    }
    gunichar a = first ? first_letter(first, first_end) : 0;
    gunichar b = last ? first_letter(last, last_end) : 0;
    if (a)
        g_string_append_unichar(s, a);
    if (b)
        g_string_append_unichar(s, b);
    return g_string_free(s, FALSE);
}
