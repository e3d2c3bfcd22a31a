/* The audio half of tessera-mix: see include/mix/tessera/file_mix_audio.h. */
#include <tessera/audio_file.h>
#include <tessera/audio_mixer.h>
#include <tessera/err.h>
#include <tessera/file_mix_audio.h>
#include <tessera/log.h>
#include <tessera/talkers.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define TICK TSR_AUDIO_TICK_SAMPLES
#define MAX_INPUTS 64
/* The listener that never talks: its output is the full mix. */
#define LISTENER_ID UINT32_MAX

struct fm_input {
    uint32_t id;
    struct tsr_audio_source *src;
    struct tsr_audio_packet pending; /* read ahead, not yet due */
    bool has_pending, eof;
};

struct tsr_file_mix_audio {
    struct tsr_file_mix_audio_params p;
    struct fm_input in[MAX_INPUTS];
    size_t n;
    struct tsr_audio_mixer *mixer;
    AVFormatContext *oc;
    AVStream *st;
    int64_t ticks;
};

int tsr_file_mix_audio_new(struct tsr_file_mix_audio **out,
                           const struct tsr_file_mix_audio_params *p)
{
    if (!p || p->bitrate_bps < 6000 || p->bitrate_bps > 510000 ||
        (p->channels != 1 && p->channels != 2) || p->audio_for == LISTENER_ID)
        return TSR_ERR_INVALID;
    struct tsr_file_mix_audio *f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->p = *p;
    *out = f;
    return 0;
}

void tsr_file_mix_audio_free(struct tsr_file_mix_audio **fma)
{
    if (!fma || !*fma)
        return;
    struct tsr_file_mix_audio *f = *fma;
    for (size_t i = 0; i < f->n; i++)
        tsr_audio_source_free(&f->in[i].src);
    tsr_audio_mixer_free(&f->mixer);
    free(f);
    *fma = NULL;
}

int tsr_file_mix_audio_add_input(struct tsr_file_mix_audio *f, uint32_t id, const char *path)
{
    if (f->mixer || id == 0 || id == LISTENER_ID || f->n == MAX_INPUTS)
        return TSR_ERR_STATE;
    for (size_t i = 0; i < f->n; i++) {
        if (f->in[i].id == id)
            return TSR_ERR_STATE;
    }
    struct tsr_audio_source *src = NULL;
    int ret = tsr_audio_source_open(&src, path);
    if (ret < 0)
        return ret;
    f->in[f->n++] = (struct fm_input){.id = id, .src = src};
    return 0;
}

size_t tsr_file_mix_audio_inputs(const struct tsr_file_mix_audio *f)
{
    return f->n;
}

/* Everyone may be heard at once (up to the talker limit), at any level: a file
 * mix has no background participants to keep out. The full-mix listener is
 * muted so it never takes a talker slot. */
static int start_mixer(struct tsr_file_mix_audio *f)
{
    struct tsr_audio_mixer_params mp;
    tsr_audio_mixer_params_default(&mp);
    mp.talkers = f->n < TSR_TALKERS_MAX_K ? (int)f->n : TSR_TALKERS_MAX_K;
    mp.active_level = TSR_TALKERS_LEVEL_SILENT;
    int ret = tsr_audio_mixer_new(&f->mixer, &mp);
    if (ret < 0)
        return ret;
    struct tsr_audio_variant v = {.bitrate_bps = f->p.bitrate_bps, .channels = f->p.channels};
    for (size_t i = 0; i < f->n && ret == 0; i++)
        ret = tsr_audio_mixer_add(f->mixer, f->in[i].id, &v);
    if (ret == 0)
        ret = tsr_audio_mixer_add(f->mixer, LISTENER_ID, &v);
    if (ret == 0)
        ret = tsr_audio_mixer_set_muted(f->mixer, LISTENER_ID, TSR_AUDIO_MUTE_HOST, true);
    if (ret < 0)
        tsr_audio_mixer_free(&f->mixer);
    return ret;
}

int tsr_file_mix_audio_open_output(struct tsr_file_mix_audio *f, AVFormatContext *oc)
{
    if (f->n == 0)
        return TSR_ERR_NOT_FOUND;
    bool found = f->p.audio_for == 0;
    for (size_t i = 0; i < f->n; i++)
        found |= f->in[i].id == f->p.audio_for;
    if (!found)
        return TSR_ERR_NOT_FOUND;
    if (f->mixer)
        return TSR_ERR_STATE;
    int ret = tsr_audio_sink_add_stream(oc, f->p.channels, &f->st);
    if (ret < 0)
        return ret;
    ret = start_mixer(f);
    if (ret < 0)
        return ret;
    f->oc = oc;
    return 0;
}

/* Push every packet of `in` that starts before the end of the tick after this
 * one (a one-tick jitter buffer, so a gap's successor is queued for FEC). */
static void feed(struct tsr_file_mix_audio *f, struct fm_input *in)
{
    uint32_t horizon = (uint32_t)((f->ticks + 2) * TICK);
    while (!in->eof) {
        if (!in->has_pending) {
            int r = tsr_audio_source_read(in->src, &in->pending);
            if (r != 0) {
                if (r < 0)
                    TSR_LOG(TSR_LOG_WARN, "mix", "input %u: audio read failed: %s", in->id,
                            tsr_strerror(r));
                in->eof = true;
                return;
            }
            in->has_pending = true;
        }
        if (in->pending.ts_rtp >= horizon)
            return;
        tsr_audio_mixer_push(f->mixer, in->id, &in->pending); /* bad packets are counted */
        in->has_pending = false;
    }
}

static int tick_once(struct tsr_file_mix_audio *f)
{
    for (size_t i = 0; i < f->n; i++)
        feed(f, &f->in[i]);
    const struct tsr_audio_out *outs;
    size_t n;
    int ret = tsr_audio_mixer_tick(f->mixer, f->ticks * 20, &outs, &n);
    uint32_t want = f->p.audio_for ? f->p.audio_for : LISTENER_ID;
    for (size_t i = 0; i < n; i++) {
        if (outs[i].participant_id != want || !outs[i].payload)
            continue;
        size_t len;
        const uint8_t *data = tsr_audio_payload_data(outs[i].payload, &len);
        ret = tsr_audio_sink_write(f->oc, f->st, data, len, f->ticks * TICK, TICK);
    }
    f->ticks++;
    return ret;
}

int tsr_file_mix_audio_run_until(struct tsr_file_mix_audio *f, double t_s)
{
    if (!f->mixer)
        return TSR_ERR_STATE;
    while ((double)(f->ticks + 1) * 0.020 <= t_s + 1e-9) {
        int ret = tick_once(f);
        if (ret < 0)
            return ret;
    }
    return 0;
}

int64_t tsr_file_mix_audio_ticks(const struct tsr_file_mix_audio *f)
{
    return f->ticks;
}
