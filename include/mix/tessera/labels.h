/* Labels: a participant's name (or initials) rasterised once into an 8-bit coverage
 * bitmap, which the compositor blends over a tile each time it redraws the tile.
 *
 * Text is shaped with HarfBuzz and drawn with FreeType, so joined scripts (Arabic),
 * right-to-left scripts (Hebrew, Arabic), combining marks and CJK (where a font has
 * it) come out right. Each character is drawn with the first font of the list (the
 * `[layout] font` and its fallback) that has it. A name mixing directions ("مرحبا
 * Ahmed") is laid out as runs in the direction of its first letter, each run shaped
 * in its own: the two-level case of the Unicode bidi algorithm, which is what names
 * need (deeper nesting is not done; no FriBidi).
 *
 * A name wider than the room it gets is cut at a character boundary and ends in
 * "…", so it never leaves its tile.
 *
 * Thread: a font is used by one thread at a time (FreeType faces are not thread
 * safe); labels are immutable once made and may be read from any thread. */
#ifndef TESSERA_LABELS_H
#define TESSERA_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Debian's fonts-dejavu-core and fonts-droid-fallback (the `[layout] font` defaults). */
#define TSR_LABEL_FONT_DEFAULT "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
#define TSR_LABEL_FONT_FALLBACK_DEFAULT "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

struct tsr_label_font;

/* An immutable coverage bitmap: alpha[y * w + x], 0 (background) .. 255 (ink). */
struct tsr_label {
    uint64_t serial; /* unique per label made in this process: tells labels apart */
    int w, h;        /* pixels; w is 0 for an empty name */
    bool ellipsised; /* cut to fit, ends in "…" */
    uint8_t alpha[];
};

/* Purpose: open the fonts at `paths` (TrueType/OpenType files; the first is the
 * primary, the others are fallbacks). Files that cannot be opened are skipped with
 * a warning; at least one must open. Ownership: *out is the caller's.
 * Returns 0, TSR_ERR_NOT_FOUND (no font opened), -ENOMEM. */
int tsr_label_font_new(struct tsr_label_font **out, const char *const *paths, size_t n_paths);

/* Purpose: free it (labels made with it stay valid). NULLs *p; accepts NULL. */
void tsr_label_font_free(struct tsr_label_font **p);

/* Purpose: rasterise `utf8` with glyphs `px_size` pixels high (the em size) in at
 * most `max_w` pixels of width (cut with "…" when wider). Control characters are
 * dropped. Ownership: *out is the caller's (tsr_label_free). Returns 0,
 * -EINVAL (not UTF-8, px_size outside 4..512, max_w < 1), -ENOMEM.
 * Thread: one call at a time per font. */
int tsr_label_render(struct tsr_label_font *font, const char *utf8, int px_size, int max_w,
                     struct tsr_label **out);

/* Purpose: free a label. NULLs *p; accepts NULL. */
void tsr_label_free(struct tsr_label **p);

/* Purpose: the initials a placeholder shows for `name`: the first letters of its
 * first and last words, upper-cased ("Ada King Lovelace" -> "AL", "Ada" -> "A");
 * for a name written without spaces in a script without case (CJK) its first
 * character. "" for an empty name. Caller g_free()s. Thread: any. */
char *tsr_label_initials(const char *name);

#endif
