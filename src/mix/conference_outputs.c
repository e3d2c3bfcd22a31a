/* The conference mixer's recordings and streams (tessera/output.h): the video
 * thread subscribes each to the common view's encoder group at its codec and hands
 * it every frame that group encodes; the audio thread adds each as a listener that
 * never talks, so it gets the shared mix everyone who is not talking hears (the
 * variant encoder's payload: no extra encode), and hands it on every tick. */
#include "conference_mixer_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>

#include <string.h>

/* Listener ids of outputs in the audio mixer: far above the peers' ids, which the
 * media engine counts up from 1. */
#define LISTENER_ID_BASE 0xF0000000u

static struct mix_output *find(GPtrArray *list, uint32_t id)
{
    for (guint i = 0; i < list->len; i++) {
        struct mix_output *o = g_ptr_array_index(list, i);
        if (o->id == id)
            return o;
    }
    return NULL;
}

static struct mix_output *output_new(struct mix_cmd *c)
{
    struct mix_output *o = calloc(1, sizeof *o);
    if (!o)
        return NULL;
    o->out = g_steal_pointer(&c->output);
    o->id = tsr_output_id(o->out);
    o->listener_id = LISTENER_ID_BASE | (o->id & 0x0fffffffu);
    return o;
}

/* ---- video thread ---- */

/* The encoder group's callback: the output queues a reference (no copy). The
 * canvas pts is 90 kHz from the mixer's start, the audio clock's origin too. */
static void on_output_packet(void *user, const AVPacket *pkt)
{
    struct mix_output *o = user;
    tsr_output_push_video(o->out, pkt, pkt->pts * 100 / 9);
}

static void video_detach(struct mix_output *o)
{
    if (o->group)
        tsr_mix_vgroup_release(o->group, o->sub_id);
    o->group = NULL;
}

static void video_remove(struct tsr_conf_mixer *m, struct mix_output *o)
{
    video_detach(o);
    g_ptr_array_remove(m->outputs, o);
    tsr_output_unref(&o->out);
    free(o);
}

void tsr_mix_outputs_video_cmd(struct tsr_conf_mixer *m, struct mix_cmd *c)
{
    if (c->type == MIX_CMD_OUTPUT_ADD) {
        struct mix_output *o = output_new(c);
        if (o)
            g_ptr_array_add(m->outputs, o);
        else
            TSR_LOG(TSR_LOG_ERROR, m->log_ctx, "out of memory: an output gets no video");
    } else if (c->type == MIX_CMD_OUTPUT_REMOVE) {
        struct mix_output *o = find(m->outputs, c->id);
        if (o)
            video_remove(m, o);
    }
}

static void video_attach(struct tsr_conf_mixer *m, struct mix_output *o, struct mix_view *common)
{
    enum tsr_video_codec codec = tsr_output_video_codec(o->out);
    struct mix_vgroup *g = &common->groups[codec * MIXER_TIERS]; /* the top tier */
    if (tsr_mix_vgroup_open(m, g) != 0)
        return;
    if (tsr_encoder_group_subscribe(g->group, on_output_packet, o, &o->sub_id) != 0)
        return;
    TSR_LOG(TSR_LOG_INFO, m->log_ctx, "output %u takes the common view's %s encoder (%s)", o->id,
            tsr_video_codec_name(codec), g->subscribers ? "shared with receivers" : "its own");
    g->subscribers++;
    o->group = g;
    common->keyframe_wanted = true;
}

void tsr_mix_outputs_video_tick(struct tsr_conf_mixer *m, struct mix_view *common, int64_t now_us)
{
    for (guint i = 0; i < m->outputs->len;) {
        struct mix_output *o = g_ptr_array_index(m->outputs, i);
        if (tsr_output_finished(o->out)) {
            video_remove(m, o);
            continue;
        }
        i++;
        if (!o->group)
            video_attach(m, o, common);
        if (o->group && tsr_output_take_keyframe_request(o->out)) {
            tsr_encoder_group_request_keyframe(o->group->group, o->sub_id, now_us);
            common->keyframe_wanted = true;
        }
    }
}

void tsr_mix_outputs_video_forget(struct tsr_conf_mixer *m)
{
    for (guint i = 0; i < m->outputs->len; i++) {
        struct mix_output *o = g_ptr_array_index(m->outputs, i);
        o->group = NULL;
    }
}

void tsr_mix_outputs_video_free_all(struct tsr_conf_mixer *m)
{
    while (m->outputs->len)
        video_remove(m, g_ptr_array_index(m->outputs, m->outputs->len - 1));
}

/* ---- audio thread ---- */

static void audio_remove(struct tsr_conf_mixer *m, struct mix_output *o)
{
    tsr_audio_mixer_remove(m->audio, o->listener_id);
    g_ptr_array_remove(m->audio_outputs, o);
    tsr_output_unref(&o->out);
    free(o);
}

void tsr_mix_outputs_audio_cmd(struct tsr_conf_mixer *m, struct mix_cmd *c)
{
    if (c->type == MIX_CMD_OUTPUT_ADD) {
        struct mix_output *o = output_new(c);
        if (!o) {
            TSR_LOG(TSR_LOG_ERROR, m->log_ctx, "out of memory: an output gets no audio");
            return;
        }
        int rc = tsr_audio_mixer_add(m->audio, o->listener_id, &m->params.audio_variant);
        if (rc)
            TSR_LOG(TSR_LOG_ERROR, m->log_ctx, "output %u gets no audio: %s", o->id,
                    tsr_strerror(rc));
        g_ptr_array_add(m->audio_outputs, o);
    } else if (c->type == MIX_CMD_OUTPUT_REMOVE) {
        struct mix_output *o = find(m->audio_outputs, c->id);
        if (o)
            audio_remove(m, o);
    }
}

void tsr_mix_outputs_audio_tick(struct tsr_conf_mixer *m, const struct tsr_audio_out *outs,
                                size_t n, int64_t t_us)
{
    for (guint i = 0; i < m->audio_outputs->len;) {
        struct mix_output *o = g_ptr_array_index(m->audio_outputs, i);
        if (tsr_output_finished(o->out)) {
            audio_remove(m, o);
            continue;
        }
        i++;
        for (size_t k = 0; k < n; k++) {
            if (outs[k].participant_id != o->listener_id || !outs[k].payload)
                continue;
            size_t len = 0;
            const uint8_t *data = tsr_audio_payload_data(outs[k].payload, &len);
            const int16_t *pcm = NULL;
            if (tsr_output_kind(o->out) == TSR_OUTPUT_STREAM &&
                tsr_audio_mixer_last_pcm(m->audio, o->listener_id, &pcm) != 0)
                pcm = NULL;
            tsr_output_push_audio(o->out, data, len, pcm, pcm ? TSR_AUDIO_TICK_SAMPLES : 0, t_us);
            break;
        }
    }
}

void tsr_mix_outputs_audio_free_all(struct tsr_conf_mixer *m)
{
    while (m->audio_outputs->len)
        audio_remove(m, g_ptr_array_index(m->audio_outputs, m->audio_outputs->len - 1));
}
