/* The presentation: a presenter's screen share, shown large in every view. It is a
 * media peer of its own (a second transport of the presenting participant) that the
 * mixer decodes like a camera, but it is kept out of `peers`: it is never laid out
 * as a participant, never subscribes to a view, and its audio (if any) is ignored.
 * tsr_mix_find() finds it, so frame taking, shared tiles and redraws (a new
 * picture redraws its tile) work as for cameras. Mixer (video) thread only. */
#include "conference_mixer_internal.h"

#include <tessera/log.h>

#include <string.h>

/* Screen content is mostly sharp text: a letterboxed full-canvas tile needs far
 * more than a camera tile of the same size to stay readable, and a sender held to
 * less lowers its resolution first. 4 Mb/s carries a 1080p screen at a readable
 * frame rate (Chrome's screen-share encoder keeps the resolution and drops frames
 * when it must). */
#define CONTENT_SEND_HINT_BPS 4000000

static void content_drop(struct tsr_conf_mixer *m)
{
    struct mix_peer *e = m->content;
    if (!e)
        return;
    TSR_LOG(TSR_LOG_INFO, m->log_ctx, "presentation of %s ends", e->pid);
    m->content = NULL;
    av_frame_free(&e->tick_frame);
    tsr_media_peer_unref(&e->peer);
    free(e->pid);
    free(e);
}

void tsr_mix_content_cmd(struct tsr_conf_mixer *m, struct mix_cmd *c)
{
    if (!c->peer) { /* clear: only the content it names (a newer one may be shown) */
        if (m->content && m->content->id == c->id)
            content_drop(m);
        return;
    }
    struct mix_peer *e = calloc(1, sizeof *e);
    if (!e) {
        TSR_LOG(TSR_LOG_ERROR, m->log_ctx, "out of memory: presentation of %s not shown",
                c->text ? c->text : "?");
        return;
    }
    content_drop(m); /* one presenter at a time: the newer one takes over */
    e->id = c->id;
    e->pid = g_steal_pointer(&c->text);
    e->peer = g_steal_pointer(&c->peer);
    e->has_video = tsr_media_peer_has_video(e->peer);
    e->codec = tsr_media_peer_video_codec(e->peer);
    e->joined_us = g_get_monotonic_time();
    m->content = e;
    TSR_LOG(TSR_LOG_INFO, m->log_ctx, "presentation of %s starts", e->pid ? e->pid : "?");
}

void tsr_mix_content_layout(const struct tsr_conf_mixer *m, struct tsr_layout_params *lp)
{
    if (!m->content || !m->content->has_video)
        return;
    lp->kind = TSR_LAYOUT_PRESENTATION;
    lp->content_id = m->content->id;
}

void tsr_mix_content_hint(struct tsr_conf_mixer *m)
{
    if (!m->content)
        return;
    tsr_media_peer_set_send_hint_bps(m->content->peer, CONTENT_SEND_HINT_BPS);
    tsr_media_peer_set_shown(m->content->peer, true);
}

void tsr_mix_content_free(struct tsr_conf_mixer *m)
{
    content_drop(m);
}

void tsr_mix_content_failed(struct tsr_conf_mixer *m, const char *why)
{
    TSR_LOG(TSR_LOG_WARN, m->log_ctx, "presentation transport failed (%s)", why ? why : "?");
    content_drop(m);
}
