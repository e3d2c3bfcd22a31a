/* Layouts: where each participant's video goes on a canvas. A pure module: no
 * threads, no I/O, no globals, no allocation.
 *
 * Names (Pexip's names accepted as aliases):
 *   grid          1, 2 side by side, 2x2, 3x3, 4x4 or 5x5, chosen by count   (ac)
 *   four          grid of at most 4 (2x2)                                      (4:0)
 *   single        the current speaker alone                                    (1:0)
 *   speaker       one large + up to 7 small in a strip below                   (1:7)
 *   1:21          one large + up to 21 small (3 rows of 7)
 *   2:21          two large side by side + up to 21 small (3 rows of 7)
 *   presentation  the content stream large + a strip of up to 7 speakers
 *                 (without content it behaves like `speaker`)
 *
 * The speakers are given in order of recent speech (most recent first); when there
 * are more participants than tiles, the most recent talkers are shown. Placement is
 * stable: a participant shown in the previous result keeps its slot (the same
 * rectangle, as long as the grid shape is unchanged) when others join or leave;
 * only speech moves it (into or out of a large slot, or off the canvas). All
 * coordinates and sizes are even (I420 chroma alignment); tiles never overlap and
 * lie inside the canvas; `gap_px` (rounded up to even) separates them. */
#ifndef TESSERA_LAYOUT_H
#define TESSERA_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* Enough for the biggest layout (5x5 grid; 2:21 has 23; presentation 8). */
#define TSR_LAYOUT_MAX_TILES 25

enum tsr_layout_kind {
    TSR_LAYOUT_GRID = 0,
    TSR_LAYOUT_FOUR,
    TSR_LAYOUT_SINGLE,
    TSR_LAYOUT_SPEAKER,
    TSR_LAYOUT_1_21,
    TSR_LAYOUT_2_21,
    TSR_LAYOUT_PRESENTATION,
};

enum tsr_layout_role {
    TSR_LAYOUT_ROLE_MAIN = 0, /* a large speaker tile (camera: crop to fill) */
    TSR_LAYOUT_ROLE_SMALL,    /* a grid cell or strip tile (camera: crop to fill) */
    TSR_LAYOUT_ROLE_CONTENT,  /* the presentation (letterboxed, never cropped) */
};

struct tsr_layout_tile {
    uint32_t participant_id; /* for CONTENT: params.content_id */
    enum tsr_layout_role role;
    int slot;       /* index in the layout's slot list; stable across calls */
    int x, y, w, h; /* pixels, all even, inside the canvas */
};

struct tsr_layout_params {
    enum tsr_layout_kind kind;
    int canvas_w, canvas_h; /* even, >= 64x36 */
    int gap_px;             /* >= 0; rounded up to even */
    uint32_t content_id;    /* 0 = no content stream */
};

/* Purpose: parse a layout name or Pexip alias ("grid", "ac", "1:7" …; case-insensitive).
 * Returns 0 and writes *out, or TSR_ERR_INVALID. Thread: any. */
int tsr_layout_parse(const char *name, enum tsr_layout_kind *out);

/* Purpose: the canonical name ("grid", "speaker", "1:21" …). Static string. */
const char *tsr_layout_name(enum tsr_layout_kind kind);

/* Purpose: compute the tiles.
 * `speakers`: participant ids, most recent talker first, no duplicates, no 0
 * (borrowed). `prev`/`n_prev`: the previous result for this canvas (borrowed; NULL/0
 * the first time) — it is what keeps placement stable. `out` must hold
 * TSR_LAYOUT_MAX_TILES tiles; on success *n_out tiles are written (content first,
 * then by slot). Returns 0, or -EINVAL (bad canvas size, NULL pointers, duplicate or
 * zero ids) leaving `out` untouched. Thread: any (pure). */
int tsr_layout_compute(const struct tsr_layout_params *params, const uint32_t *speakers,
                       size_t n_speakers, const struct tsr_layout_tile *prev, size_t n_prev,
                       struct tsr_layout_tile *out, size_t *n_out);

/* Purpose: the speaker order a mixer hands to tsr_layout_compute: the pinned
 * (spotlighted) participants first, in the order given (earliest pin first), then
 * the talkers (dominant first), then everyone else in join order. Only ids in
 * `present` (the participants with video, in join order) are written, each once;
 * `exclude` (0: none) is left out (a view without its viewer). A pinned participant
 * therefore takes the first large tile of the speaker layouts whatever the talkers
 * do, and talkers take the large tiles that pins leave free. Writes at most `cap`
 * ids to `out` and returns how many. Every array is borrowed and may be NULL when
 * its count is 0. Thread: any (pure). */
size_t tsr_layout_order(const uint32_t *present, size_t n_present, const uint32_t *pinned,
                        size_t n_pinned, const uint32_t *talkers, size_t n_talkers,
                        uint32_t exclude, uint32_t *out, size_t cap);

#endif
