/* Names on tiles: what each tile of a view has drawn over it this tick (the name,
 * a placeholder's initials, the muted mark, the active speaker's border).
 *
 * Labels are rasterised here, on the video thread, before the views compose in
 * parallel: FreeType faces serve one thread at a time, and the render jobs then only
 * read finished labels. Each participant keeps the labels of the last few tile
 * sizes it was shown at, so a name is drawn once per (name, size) and a layout
 * that moves back and forth (speaker changes) costs nothing new. The font opens
 * when a view first needs a label; if it cannot, names are left off with one
 * warning and the conference goes on. Video thread only. */
#include "conference_mixer_internal.h"

#include <tessera/labels.h>
#include <tessera/log.h>

#include <string.h>

void tsr_mix_labels_peer_fini(struct mix_peer *e)
{
    for (size_t i = 0; i < G_N_ELEMENTS(e->labels); i++) {
        tsr_label_free(&e->labels[i].name);
        tsr_label_free(&e->labels[i].initials);
        tsr_label_free(&e->labels[i].stalled);
        e->labels[i] = (struct mix_label){0};
    }
    g_free(e->name);
    g_free(e->initials);
    e->name = e->initials = NULL;
}

void tsr_mix_labels_set_name(struct mix_peer *e, const char *name)
{
    if (e->name && name && strcmp(e->name, name) == 0)
        return;
    tsr_mix_labels_peer_fini(e); /* every size is drawn again with the new name */
    e->name = g_strdup(name ? name : "");
    e->initials = tsr_label_initials(e->name);
}

void tsr_mix_labels_free_all(struct tsr_conf_mixer *m)
{
    tsr_label_font_free(&m->font);
}

static bool font_ready(struct tsr_conf_mixer *m)
{
    if (m->font || m->font_failed)
        return m->font != NULL;
    const char *paths[] = {m->params.font, m->params.font_fallback};
    int rc = tsr_label_font_new(&m->font, paths, G_N_ELEMENTS(paths));
    if (rc) {
        m->font_failed = true;
        TSR_LOG(TSR_LOG_WARN, m->log_ctx, "no usable font for names on tiles ([layout] font %s)",
                m->params.font ? m->params.font : "unset");
    }
    return m->font != NULL;
}

/* The labels of e for a w x h tile: the cached ones, or drawn now into the entry
 * used longest ago. NULL when they cannot be drawn (the tile shows no name). */
static struct mix_label *labels_for(struct tsr_conf_mixer *m, struct mix_peer *e, int w,
                                          int h)
{
    struct mix_label *oldest = &e->labels[0];
    for (size_t i = 0; i < G_N_ELEMENTS(e->labels); i++) {
        struct mix_label *l = &e->labels[i];
        if (l->w == w && l->h == h && l->name) {
            l->used_tick = m->label_tick;
            return l;
        }
        if (l->used_tick < oldest->used_tick)
            oldest = l;
    }
    struct tsr_compositor_label_fit fit;
    tsr_compositor_label_fit(w, h, &fit);
    tsr_label_free(&oldest->name);
    tsr_label_free(&oldest->initials);
    tsr_label_free(&oldest->stalled);
    *oldest = (struct mix_label){.w = w, .h = h, .used_tick = m->label_tick};
    int rc = fit.name_max_w ? tsr_label_render(m->font, e->name, fit.name_px, fit.name_max_w,
                                               &oldest->name)
                            : tsr_label_render(m->font, "", fit.name_px, 1, &oldest->name);
    if (rc == 0)
        rc = tsr_label_render(m->font, e->initials, fit.initials_px, fit.initials_max_w,
                              &oldest->initials);
    if (rc) {
        TSR_LOG_RL(TSR_LOG_WARN, m->log_ctx, 5000, "%s: name not drawn (%d)", e->pid, rc);
        tsr_label_free(&oldest->name);
        tsr_label_free(&oldest->initials);
        oldest->w = oldest->h = 0;
        return NULL;
    }
    return oldest;
}

/* The name band of a participant that stopped sending: "name · reconnecting…"
 * (cut at the name's end when narrow: the ellipsis then still says something is off). */
static const struct tsr_label *stalled_label(struct tsr_conf_mixer *m, struct mix_peer *e,
                                             struct mix_label *l)
{
    if (!l->stalled) {
        struct tsr_compositor_label_fit fit;
        tsr_compositor_label_fit(l->w, l->h, &fit);
        char *text = g_strdup_printf("%s \xc2\xb7 reconnecting\xe2\x80\xa6", e->name);
        if (fit.name_max_w)
            tsr_label_render(m->font, text, fit.name_px, fit.name_max_w, &l->stalled);
        g_free(text);
    }
    return l->stalled && l->stalled->w ? l->stalled : l->name;
}

/* Whose tile has the border: the dominant talker, when someone else is there to
 * tell it from (a lone participant talking is no news). */
static uint32_t highlighted(const struct tsr_conf_mixer *m)
{
    if (!m->params.speaker_border || m->n_talkers == 0 || m->peers->len < 2)
        return 0;
    return m->talkers[0];
}

void tsr_mix_labels_plan(struct tsr_conf_mixer *m, GPtrArray *due)
{
    bool names = m->params.names && font_ready(m);
    uint32_t speaker = highlighted(m);
    m->label_tick++;
    for (guint k = 0; k < due->len; k++) {
        struct mix_view *v = g_ptr_array_index(due, k);
        for (size_t i = 0; i < v->n_tiles; i++) {
            const struct tsr_layout_tile *t = &v->tiles[i];
            struct mix_peer *e = tsr_mix_find(m, t->participant_id);
            struct tsr_compositor_overlay *ov = &v->tick_overlay[i];
            *ov = (struct tsr_compositor_overlay){.highlight = speaker &&
                                                               t->participant_id == speaker};
            struct mix_label *l =
                names && e && e->name && *e->name ? labels_for(m, e, t->w, t->h) : NULL;
            if (l) {
                ov->name = e->stalled ? stalled_label(m, e, l) : l->name;
                ov->name = ov->name->w ? ov->name : NULL;
                ov->initials = l->initials;
                ov->mic_muted = e->audio_muted;
            }
        }
    }
}
