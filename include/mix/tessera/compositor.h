/* Compositor: draws layout tiles from decoded participant frames into one canvas.
 *
 * One compositor per canvas. Each tile is scaled and converted straight from the
 * decoded frame (yuv420p, yuvj420p, yuv422p, yuv444p, nv12) into its rectangle in
 * the canvas; there is no intermediate full-size copy. Camera tiles (MAIN, SMALL)
 * are cropped to fill their rectangle; CONTENT tiles are letterboxed (scaled to fit,
 * bars in the background colour). A tile whose source is NULL (no video yet, or
 * video muted) gets a placeholder: a flat colour derived from the participant id.
 *
 * Only what changed is redrawn: a tile whose source did not produce a new frame
 * (changed == false) keeps its bytes in the canvas untouched, unless the layout
 * changed (then everything is redrawn once) or the tile switches between video and
 * placeholder.
 *
 * Shared tiles: when several canvases show one source frame at one tile size and
 * role (personal views of a room, each without its viewer), scale it once into a
 * struct tsr_compositor_tile and hand that to each canvas's render; they copy its
 * rows (memcpy cost) instead of scaling again. The bytes are the ones a render
 * without it would write, so sharing changes cost, never pictures.
 *
 * Kernels (scale a plane, fill, NV12 split/merge) sit behind one function table: a
 * plain C reference and a fast path (libyuv, chosen by measurement, see README).
 *
 * Backends: the CPU (those kernels), or Vulkan (compute shaders in shaders/, one
 * dispatch per changed tile; the canvas is read back into the same AVFrame, so the
 * encoders see no difference). The Vulkan canvas equals the reference kernels'
 * within ±2 per sample; it ignores shared tiles (the GPU scales every tile). If the
 * device is lost or a dispatch fails, that frame and every later one are drawn on
 * the CPU: the conference never misses a frame (logged once, counted in
 * tessera_compositor_fallbacks_total).
 *
 * Thread: none of its own; the caller serializes calls (the conference mixer). */
#ifndef TESSERA_COMPOSITOR_H
#define TESSERA_COMPOSITOR_H

#include <jansson.h>
#include <libavutil/frame.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tessera/labels.h>
#include <tessera/layout.h>

struct tsr_compositor;
struct tsr_compositor_tile;

enum tsr_compositor_format {
    TSR_COMPOSITOR_FORMAT_I420 = 0, /* software encoders */
    TSR_COMPOSITOR_FORMAT_NV12,     /* feeds a VAAPI encoder without conversion */
};

enum tsr_compositor_kernels {
    TSR_COMPOSITOR_KERNELS_FAST = 0,  /* libyuv (SIMD) */
    TSR_COMPOSITOR_KERNELS_REFERENCE, /* plain C; what the tests compare against */
};

/* The `[media] compositor` setting. */
enum tsr_compositor_backend {
    TSR_COMPOSITOR_BACKEND_CPU = 0,
    TSR_COMPOSITOR_BACKEND_AUTO,   /* Vulkan on an integrated or discrete GPU, else the CPU */
    TSR_COMPOSITOR_BACKEND_VULKAN, /* Vulkan on any device, CPU implementations included */
};

struct tsr_compositor_params {
    int width, height; /* even, >= 2 */
    enum tsr_compositor_format format;
    uint32_t background_rgb; /* 0xRRGGBB */
    enum tsr_compositor_kernels kernels; /* the CPU's (also after a GPU fallback) */
    enum tsr_compositor_backend backend; /* no usable device: the CPU */
};

/* What is drawn over a tile: its name in a band along the bottom edge (with a
 * muted-microphone mark at the band's end), its initials in the middle when the
 * tile is a placeholder, and a border round the active speaker's tile. Drawn after
 * the picture, each time the tile is redrawn; a tile whose overlay changed (another
 * label, the border or the mark on or off) is redrawn. Labels are borrowed for the
 * call and matched by their serial. */
struct tsr_compositor_overlay {
    const struct tsr_label *name;     /* NULL: no band */
    const struct tsr_label *initials; /* placeholder tiles only; NULL: none */
    bool highlight;                   /* the active speaker's border */
    bool mic_muted;                   /* the mark in the band (drawn only with a band) */
};

/* One per tile, in the same order as the tiles. */
struct tsr_compositor_source {
    const AVFrame *frame; /* borrowed for the call; NULL = placeholder */
    bool changed;         /* the source produced a new frame since the last render */
    /* Optional (borrowed, read-only for the call): `frame` already scaled by
     * tsr_compositor_tile_scale for this tile's w, h and role, in this canvas's format.
     * Its rows are copied instead of scaling `frame`. Ignored (frame scaled here) when
     * it was scaled for another size, role, format or picture, or its scale failed. */
    const struct tsr_compositor_tile *scaled;
    const struct tsr_compositor_overlay *overlay; /* borrowed for the call; NULL: none */
};

struct tsr_compositor_stats {
    uint64_t renders;
    uint64_t tiles_scaled;       /* tiles drawn from video, scaled here */
    uint64_t tiles_copied;       /* tiles drawn from video, copied from a shared tile */
    uint64_t tiles_placeholder;  /* placeholder tiles drawn */
    uint64_t full_redraws;       /* layout changes */
    uint64_t canvas_copies;      /* canvas still referenced by a consumer: copied first */
    uint64_t unsupported_frames; /* frames in a pixel format we do not take (tile left as is) */
    uint64_t gpu_renders;        /* renders drawn by the GPU */
    uint64_t gpu_fallbacks;      /* the GPU failed mid-stream (0 or 1) */
    uint64_t overlays_drawn;     /* tiles redrawn with a name band, initials or border */
};

/* Purpose: create a compositor; the canvas starts filled with the background.
 * Ownership: *out is the caller's. Returns 0, -EINVAL, -ENOMEM. */
int tsr_compositor_new(struct tsr_compositor **out, const struct tsr_compositor_params *params);

/* Purpose: free it. Canvas references handed out stay valid. NULLs *p; accepts NULL. */
void tsr_compositor_free(struct tsr_compositor **p);

/* Purpose: bring the canvas up to date and return a new reference to it.
 * `tiles` (from tsr_layout_compute for this canvas size) and `sources` (one per tile)
 * are borrowed. If a previous canvas reference is still held elsewhere (e.g. by an
 * encoder), the canvas is copied first so that reference never changes under its
 * holder (counted in canvas_copies; release references promptly to avoid it).
 * `canvas_out` may be NULL (render only). On success *canvas_out is a new reference
 * (caller av_frame_free()s; read-only). Returns 0, -EINVAL (tile outside the canvas,
 * n > TSR_LAYOUT_MAX_TILES), -ENOMEM. */
int tsr_compositor_render(struct tsr_compositor *comp, const struct tsr_layout_tile *tiles,
                          const struct tsr_compositor_source *sources, size_t n,
                          AVFrame **canvas_out);

/* Purpose: create a shared tile: one source picture scaled for a tile size and role,
 * in a canvas format (`format`, `kernels` as in tsr_compositor_params). Empty until
 * scaled. Ownership: *out is the caller's. Returns 0, -EINVAL, -ENOMEM. */
int tsr_compositor_tile_new(struct tsr_compositor_tile **out, enum tsr_compositor_format format,
                            enum tsr_compositor_kernels kernels);

/* Purpose: free it. NULLs *p; accepts NULL. */
void tsr_compositor_tile_free(struct tsr_compositor_tile **p);

/* Purpose: scale `frame` (borrowed for the call) as a tile of w x h (even, >= 2) with
 * `role` shows it (crop to fill, or letterboxed content), into the tile's own buffer.
 * The buffer is kept and reused; it grows only for a larger size, so re-scaling each
 * new frame allocates nothing. Compositors accept the result for that frame only
 * (matched by its data[0]); the caller keeps `frame` alive while they copy from it.
 * Thread: any; one call at a time per tile, none while a render reads it.
 * Returns 0; -EINVAL; TSR_ERR_UNSUPPORTED (pixel format: the tile stays empty, and
 * renders handle the frame themselves); -ENOMEM. On failure the tile is empty. */
int tsr_compositor_tile_scale(struct tsr_compositor_tile *tile, const AVFrame *frame, int w, int h,
                              enum tsr_layout_role role);

/* How big the labels of a w x h tile are drawn: hand tsr_label_render these. */
struct tsr_compositor_label_fit {
    int name_px, name_max_w;         /* the name band's text; name_max_w 0: the tile is
                                      * too small for a band (it would cover more than
                                      * a third of it) */
    int initials_px, initials_max_w; /* a placeholder's initials */
    int band_h;                      /* the band's height at the tile's bottom edge */
};

/* Purpose: the label sizes for a tile of w x h pixels (both even, >= 2).
 * Thread: any (pure). */
void tsr_compositor_label_fit(int w, int h, struct tsr_compositor_label_fit *out);

/* Purpose: the placeholder colour for a participant as 0xRRGGBB: a fixed hash of the
 * id onto mid-saturation colours, so everyone sees the same colour. Thread: any. */
uint32_t tsr_compositor_placeholder_rgb(uint32_t participant_id);

/* Purpose: convert 0xRRGGBB to limited-range BT.601 Y, U, V. Thread: any. */
void tsr_compositor_rgb_to_yuv(uint32_t rgb, uint8_t *y, uint8_t *u, uint8_t *v);

void tsr_compositor_get_stats(const struct tsr_compositor *comp, struct tsr_compositor_stats *out);

/* Purpose: the backend drawing now: TSR_COMPOSITOR_BACKEND_CPU or _VULKAN. */
enum tsr_compositor_backend tsr_compositor_backend_in_use(const struct tsr_compositor *comp);

/* Purpose: parse "auto", "cpu" or "vulkan". Returns 0 or -EINVAL (*out untouched). */
int tsr_compositor_backend_parse(const char *name, enum tsr_compositor_backend *out);

/* Purpose: "auto", "cpu" or "vulkan". Static string. */
const char *tsr_compositor_backend_name(enum tsr_compositor_backend b);

/* What `--probe` says about composition. */
struct tsr_compositor_probe {
    enum tsr_compositor_backend setting; /* asked for */
    enum tsr_compositor_backend chosen;  /* what compositors will use: CPU or VULKAN */
    bool loader;                         /* the Vulkan loader (libvulkan.so.1) opened */
    char device[256];                    /* the best Vulkan device; "" if none */
    char device_type[16];                /* "discrete", "integrated", "virtual", "cpu", "other" */
    char reason[640];                    /* why `chosen` */
};

/* Purpose: find out what `setting` gives on this machine; with a usable device this
 * builds the compose pipeline on it (tens of ms), so it proves the GPU path works.
 * Thread: any (blocks). */
void tsr_compositor_probe_run(enum tsr_compositor_backend setting, struct tsr_compositor_probe *out);

/* Purpose: the probe as text lines ("compositor: …", "vulkan: …"); caller g_free()s. */
char *tsr_compositor_probe_to_text(const struct tsr_compositor_probe *p);

/* Purpose: the probe as JSON {setting, chosen, vulkan_loader, device, device_type,
 * reason} (new reference; caller json_decref()s). */
json_t *tsr_compositor_probe_to_json(const struct tsr_compositor_probe *p);

#endif
