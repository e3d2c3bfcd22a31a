/* The conference media operations, implemented with media peers on the net loops
 * and one mixer thread per conference. API loop only, and it never waits: each SDP
 * operation is a job posted to the participant's net loop, which posts the job
 * back when done; the conference's call is finished from there. */
#include <tessera/media_engine.h>

#include <tessera/conference_mixer.h>
#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/media_peer.h>
#include <tessera/metrics.h>
#include <tessera/net_loops.h>
#include <tessera/output.h>
#include <tessera/video_load.h>
#include <tessera/webrtc_transport.h>

#include "media_engine_stun.h"

#include <errno.h>
#include <string.h>

/* Home: the API loop. */
struct tsr_media_engine {
    struct tsr_config cfg;
    struct tsr_net_loops *loops;
    struct tsr_dtls_cert *cert;
    struct tsr_webrtc_config webrtc;
    struct tsr_conference_registry *reg;
    GHashTable *confs;                 /* alias → struct engine_conf* */
    struct tsr_video_load *video_load; /* the mixers add to it; admission reads it */
    struct engine_stun *stun;
    struct tsr_conference_link *link; /* what mixer threads post through */
    GThreadPool *closer;              /* stops ended conferences' mixers, off the API loop */
    GMainContext *api_ctx;            /* where jobs come back: the API loop */
    unsigned n_jobs;                  /* jobs not back yet; freeing the engine waits for them */
    uint32_t next_id;
};

/* One live conference's mixer; also the user of its mixer callbacks. */
struct engine_conf {
    struct tsr_media_engine *engine;
    char *alias;
    struct tsr_conf_mixer *mixer;
    GHashTable *outputs; /* output id → struct tsr_output* (recordings and streams) */
};

/* A participant's media: its media data in the conference. Lives from attach to
 * detach; while it lives, its participant does (the conference detaches first). */
struct engine_peer {
    struct engine_conf *conf;
    struct tsr_participant *p;
    struct tsr_media_peer *peer; /* NULL until the attach is back from the net loop */
    GMainContext *ctx;           /* the net loop it is pinned to */
    uint32_t id;
    GPtrArray *jobs; /* struct engine_job* in flight */
    /* Presentation: the screen-share transport of p (its own peer and jobs), or
     * NULL; on that one, `owner` is the camera's engine_peer (else NULL). */
    struct engine_peer *content, *owner;
    /* Presentation on the call itself (Pexip's slides m-line): the id of the call's
     * slides receiver, and whether the mixer shows it as the content now. */
    uint32_t slides_id;
    bool slides_shown;
    /* Our plain RTP offer is out (a SIP INVITE without SDP): the peer has ports but
     * no media, and joins the mix when the answer is applied. */
    bool awaiting_answer;
};

enum job_kind {
    JOB_ATTACH = 0,
    JOB_RENEGOTIATE,
    JOB_CANDIDATE,
    JOB_SEND_OFFER,
    JOB_SEND_ANSWER,
    JOB_REOFFER,
    JOB_PLAIN_ANSWER, /* the answer to an attach that offered */
    JOB_RECODEC,      /* a SIP re-offer that changes codecs, with the peer out of the mix */
};

/* One SDP operation: made on the API loop, run on the participant's net loop,
 * finished back on the API loop. While it runs on the net loop only that thread
 * touches it; the API loop does not look at it until job_back. */
struct engine_job {
    struct tsr_media_engine *engine;
    struct engine_peer *ep; /* NULL once detach abandoned it */
    struct tsr_conference_call *call;
    enum job_kind kind;
    GMainContext *ctx;           /* the net loop */
    GMainContext *api_ctx;       /* where it comes back */
    struct tsr_media_peer *peer; /* a reference; JOB_ATTACH: the peer it made */
    char *in;                    /* offer, answer or candidate */
    /* JOB_ATTACH: what tsr_media_peer_new needs, owned by the job. */
    struct tsr_media_peer_params params;
    struct tsr_webrtc_config webrtc;
    char *log_ctx, *stun;
    /* Written on the net loop. */
    int rc;
    char *out;
    char reason[TSR_SDP_REASON_MAX];
};

/* Mixer thread → API loop, through the registry's thread-safe posts. */
static void on_talkers(void *user, const char *const *ids, size_t n)
{
    struct engine_conf *ec = user;
    if (ec->engine->link)
        tsr_conference_link_post_talkers(ec->engine->link, ec->alias, ids, n);
}

static void on_failed(void *user, const char *id, const char *why)
{
    struct engine_conf *ec = user;
    TSR_LOG(TSR_LOG_WARN, ec->alias, "participant %s: media failed (%s); removing it", id, why);
    if (ec->engine->link)
        tsr_conference_link_post_media_failed(ec->engine->link, id);
}

static enum tsr_encoder_backend backend_from(const char *name)
{
    enum tsr_encoder_backend b = TSR_ENCODER_BACKEND_AUTO;
    tsr_encoder_backend_parse(name, &b);
    return b;
}

static enum tsr_compositor_backend compositor_from(const char *name)
{
    enum tsr_compositor_backend b = TSR_COMPOSITOR_BACKEND_AUTO;
    tsr_compositor_backend_parse(name, &b);
    return b;
}

/* Work that joins threads, for the closer thread: the API loop must not wait. */
struct closer_task {
    GDestroyNotify run; /* takes data */
    gpointer data;
};

static void closer_run(gpointer data, gpointer user)
{
    struct closer_task *t = data;
    (void)user;
    t->run(t->data);
    g_free(t);
}

static void close_later(struct tsr_media_engine *e, GDestroyNotify run, gpointer data)
{
    struct closer_task *t = g_new0(struct closer_task, 1);
    t->run = run;
    t->data = data;
    g_thread_pool_push(e->closer, t, NULL);
}

/* The closer thread: waits for the writer (its trailer), then drops the engine's
 * reference. */
static void output_close_unref(gpointer data)
{
    struct tsr_output *o = data;
    tsr_output_close(o);
    tsr_output_unref(&o);
}

static struct engine_conf *conf_get(struct tsr_media_engine *e, struct tsr_conference *c)
{
    const char *alias = tsr_conference_alias(c);
    struct engine_conf *ec = g_hash_table_lookup(e->confs, alias);
    if (ec)
        return ec;
    ec = g_new0(struct engine_conf, 1);
    ec->engine = e;
    ec->alias = g_strdup(alias);
    struct tsr_conf_mixer_params mp = {
        .log_ctx = alias,
        .canvas_w = (int)e->cfg.mixer_canvas_width,
        .canvas_h = (int)e->cfg.mixer_canvas_height,
        .fps = (int)e->cfg.mixer_fps,
        .layout = tsr_conference_layout(c),
        .gap_px = (int)e->cfg.mixer_gap_px,
        .personal_view_min_tile_pct = (int)e->cfg.mixer_personal_view_min_tile_pct,
        .self_view = tsr_conference_self_view(c),
        .background_rgb = 0x15181d,
        .video_bitrate_bps = e->cfg.mixer_video_bitrate_bps,
        .backend = backend_from(e->cfg.encoder),
        .vaapi_device = e->cfg.vaapi_device,
        .compositor = compositor_from(e->cfg.compositor),
        .keyframe_min_interval_ms = e->cfg.mixer_keyframe_min_interval_ms,
        .names = e->cfg.layout_names,
        .font = e->cfg.layout_font,
        .font_fallback = e->cfg.layout_font_fallback,
        .speaker_border = e->cfg.layout_speaker_border,
        .media_timeout_ms = e->cfg.mixer_media_timeout_s * 1000,
        .on_talkers = on_talkers,
        .on_failed = on_failed,
        .user = ec,
        .video_load = e->video_load,
    };
    tsr_audio_mixer_params_from_config(&mp.audio, &mp.audio_variant, &e->cfg);
    tsr_audio_buffer_config_default(&mp.audio_buffer);
    mp.audio_buffer.min_delay_ms = e->cfg.audio_jitter_min_ms;
    mp.audio_buffer.max_delay_ms = MAX(e->cfg.audio_jitter_max_ms, e->cfg.audio_jitter_min_ms);
    int rc = tsr_conf_mixer_new(&ec->mixer, &mp);
    if (rc) {
        TSR_LOG(TSR_LOG_ERROR, alias, "cannot start the mixer: %s", tsr_strerror(rc));
        g_free(ec->alias);
        g_free(ec);
        return NULL;
    }
    ec->outputs = g_hash_table_new_full(NULL, NULL, NULL, output_close_unref);
    g_hash_table_insert(e->confs, ec->alias, ec);
    return ec;
}

/* The closer thread: stopping a mixer joins its threads, which waits for the tick
 * under way; the API loop must not wait for that. The mixer's callbacks may run
 * until the close returns: they only use ec and the registry link, both alive.
 * The outputs were told to finish before (their trailers are written meanwhile);
 * once the mixer stops feeding them, each writer is waited for. */
static void conf_close(gpointer data)
{
    struct engine_conf *ec = data;
    tsr_conf_mixer_close(ec->mixer);
    g_hash_table_destroy(ec->outputs);
    tsr_conf_mixer_unref(&ec->mixer);
    g_free(ec->alias);
    g_free(ec);
}

/* The conference ended (API loop): its outputs are told to finish, its mixer
 * stops in the background. */
static void conf_free(gpointer data)
{
    struct engine_conf *ec = data;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, ec->outputs);
    while (g_hash_table_iter_next(&it, NULL, &v))
        tsr_output_stop(v);
    close_later(ec->engine, conf_close, ec);
}

/* --- jobs ---------------------------------------------------------------------- */

static struct engine_job *job_new(struct engine_peer *ep, enum job_kind kind,
                                  struct tsr_conference_call *call)
{
    struct tsr_media_engine *e = ep->conf->engine;
    struct engine_job *job = g_new0(struct engine_job, 1);
    job->engine = e;
    job->ep = ep;
    job->call = call;
    job->kind = kind;
    job->ctx = ep->ctx;
    job->api_ctx = e->api_ctx;
    job->peer = ep->peer ? tsr_media_peer_ref(ep->peer) : NULL;
    g_ptr_array_add(ep->jobs, job);
    e->n_jobs++;
    return job;
}

static gboolean drop_sink_user(gpointer data)
{
    tsr_conf_mixer_unref_cb(data);
    return G_SOURCE_REMOVE;
}

static void job_free(struct engine_job *job)
{
    job->engine->n_jobs--;
    /* Never handed to a peer. The last reference to a mixer frees its encoder pool,
     * which waits for the pool's threads: let the net loop drop it, not the API loop. */
    if (job->kind == JOB_ATTACH && job->params.sink_user_free)
        tsr_loop_post(job->ctx, drop_sink_user, job->params.sink_user, NULL);
    tsr_media_peer_unref(&job->peer);
    g_free(job->in);
    g_free(job->out);
    g_free(job->log_ctx);
    g_free(job->stun);
    g_free(job);
}

/* Net loop: the peer calls, which belong to this thread. */
static void job_run_peer(struct engine_job *job)
{
    struct tsr_media_peer *p = job->peer;
    switch (job->kind) {
    case JOB_ATTACH:
        job->params.webrtc = &job->webrtc;
        job->rc =
            job->in ? tsr_media_peer_new(&job->peer, &job->params, job->in, &job->out, job->reason)
                    : tsr_media_peer_new_offer(&job->peer, &job->params, &job->out, job->reason);
        job->params.sink_user_free = NULL; /* the peer owns sink_user now, even on failure */
        break;
    case JOB_RENEGOTIATE:
        job->rc = tsr_media_peer_renegotiate(p, job->in, &job->out, job->reason);
        break;
    case JOB_CANDIDATE:
        job->rc = tsr_media_peer_add_candidate(p, job->in);
        break;
    case JOB_SEND_OFFER:
        job->rc = tsr_media_peer_create_send_offer(p, &job->out, job->reason);
        break;
    case JOB_SEND_ANSWER:
        job->rc = tsr_media_peer_apply_send_answer(p, job->in, job->reason);
        break;
    case JOB_REOFFER:
        job->rc = tsr_media_peer_answer_reoffer(p, job->in, &job->out, job->reason);
        break;
    case JOB_PLAIN_ANSWER:
        job->rc = tsr_media_peer_apply_plain_answer(p, job->in, job->reason);
        break;
    case JOB_RECODEC:
        job->rc = tsr_media_peer_renegotiate_codecs(p, job->in, &job->out, job->reason);
        break;
    }
}

static gboolean job_back(gpointer data);
static void slides_sync(struct engine_peer *ep);

static gboolean job_run(gpointer data)
{
    struct engine_job *job = data;
    job_run_peer(job);
    tsr_loop_post(job->api_ctx, job_back, job, NULL);
    return G_SOURCE_REMOVE;
}

/* The message media gives the conference: the peer's reason, or the code's text. */
static char *job_reason(const struct engine_job *job)
{
    return g_strdup(job->reason[0] ? job->reason : tsr_strerror(job->rc));
}

/* The conference's spotlight list as mixer peer ids; participants without media
 * (yet) are skipped and come in when their attach is back. */
static void spotlight_to_mixer(struct engine_conf *ec, struct tsr_participant *const *spotlit,
                               size_t n)
{
    uint32_t ids[TSR_CONF_MIXER_SPOTLIGHT_MAX];
    size_t k = 0;
    for (size_t i = 0; i < n && k < G_N_ELEMENTS(ids); i++) {
        const struct engine_peer *ep = tsr_participant_media_data(spotlit[i]);
        if (ep && ep->peer)
            ids[k++] = ep->id;
    }
    tsr_conf_mixer_set_spotlight(ec->mixer, ids, k);
}

static void push_spotlight(struct engine_conf *ec, struct tsr_conference *c)
{
    struct tsr_participant *list[TSR_CONF_MIXER_SPOTLIGHT_MAX];
    size_t n = tsr_conference_spotlight(c, list, G_N_ELEMENTS(list));
    spotlight_to_mixer(ec, list, MIN(n, G_N_ELEMENTS(list)));
}

/* API loop: ep's peer joins the mix with the participant's mute state as it is now. */
static void mix_in(struct engine_peer *ep)
{
    tsr_conf_mixer_add_peer(ep->conf->mixer, ep->peer, tsr_participant_id(ep->p));
    tsr_conf_mixer_set_name(ep->conf->mixer, ep->id, tsr_participant_display_name(ep->p));
    tsr_conf_mixer_set_muted(ep->conf->mixer, ep->id, tsr_participant_muted(ep->p),
                             tsr_participant_video_muted(ep->p));
    if (tsr_participant_spotlight_s(ep->p))
        push_spotlight(ep->conf, tsr_participant_conference(ep->p));
}

/* API loop: the attach is back. Success wires the peer into the mixer (an offer's
 * peer waits for its answer); failure undoes the media data. */
static void attach_back(struct engine_job *job, struct engine_peer *ep)
{
    struct tsr_conference_call *call = job->call;
    int rc = job->rc;
    char *answer = g_steal_pointer(&job->out), *reason = rc ? job_reason(job) : NULL;
    if (rc == 0 && ep->owner) {
        ep->peer = g_steal_pointer(&job->peer);
        tsr_conf_mixer_set_content(ep->conf->mixer, ep->peer, tsr_participant_id(ep->p));
    } else if (rc == 0) {
        ep->peer = g_steal_pointer(&job->peer);
        if (!ep->awaiting_answer)
            mix_in(ep);
    } else {
        if (ep->owner)
            ep->owner->content = NULL;
        else
            tsr_participant_set_media_data(ep->p, NULL);
        g_ptr_array_free(ep->jobs, TRUE);
        g_free(ep);
    }
    job_free(job);
    tsr_conference_call_done(call, rc, answer, reason);
}

static void job_post(struct engine_job *job);

/* A SIP re-offer changes codecs: the mixer reads a peer's codecs when it adds it,
 * so the peer leaves the mix, changes on its net loop, and comes back (job_back).
 * The same job goes round again. False when the peer is not in the mix. */
static bool recodec_start(struct engine_job *job, struct engine_peer *ep)
{
    if (!ep->peer || ep->awaiting_answer || ep->owner)
        return false;
    tsr_conf_mixer_remove_peer(ep->conf->mixer, ep->id);
    job->kind = JOB_RECODEC;
    job->rc = 0;
    job->reason[0] = '\0';
    g_free(g_steal_pointer(&job->out));
    g_ptr_array_add(ep->jobs, job);
    job_post(job);
    return true;
}

static gboolean job_back(gpointer data)
{
    struct engine_job *job = data;
    struct engine_peer *ep = job->ep;
    if (!ep) { /* detached meanwhile: a peer made for nobody goes again */
        if (job->kind == JOB_ATTACH && job->rc == 0 && job->peer)
            tsr_media_peer_close(job->peer);
        job_free(job);
        return G_SOURCE_REMOVE;
    }
    g_ptr_array_remove_fast(ep->jobs, job);
    if (job->kind == JOB_ATTACH) {
        attach_back(job, ep);
        return G_SOURCE_REMOVE;
    }
    if (job->kind == JOB_RENEGOTIATE && job->rc == TSR_ERR_AGAIN && recodec_start(job, ep))
        return G_SOURCE_REMOVE;
    if (job->kind == JOB_RECODEC) /* back into the mix with the codecs it runs now */
        mix_in(ep);
    if (job->kind == JOB_RENEGOTIATE && job->rc == 0)
        slides_sync(ep); /* the offer may have started or stopped its slides */
    if (job->kind == JOB_PLAIN_ANSWER && job->rc == 0 && ep->awaiting_answer) {
        ep->awaiting_answer = false;
        mix_in(ep);
    }
    /* Finish last: the conference may detach ep from inside done. */
    struct tsr_conference_call *call = job->call;
    int rc = job->rc;
    char *out = g_steal_pointer(&job->out), *reason = rc && job->reason[0] ? job_reason(job) : NULL;
    job_free(job);
    tsr_conference_call_done(call, rc, out, reason);
    return G_SOURCE_REMOVE;
}

static void job_post(struct engine_job *job)
{
    tsr_loop_post(job->ctx, job_run, job, NULL);
}

/* --- the ops --------------------------------------------------------------------- */

/* The STUN address is known (or none is configured): the attach goes to its loop. */
static void attach_stun_ready(void *data, const char *literal, const char *error)
{
    struct engine_job *job = data;
    if (!job->ep) { /* detached while waiting */
        job_free(job);
        return;
    }
    if (error) {
        g_strlcpy(job->reason, error, sizeof job->reason);
        job->rc = TSR_ERR_CONFIG;
        tsr_loop_post(job->api_ctx, job_back, job, NULL);
        return;
    }
    job->stun = g_strdup(literal);
    job->webrtc.stun_server = job->stun;
    job_post(job);
}

/* Starts making ep's peer from `offer` (ep is new: no peer, no jobs). */
static void attach_start(struct tsr_media_engine *e, struct engine_peer *ep, const char *offer,
                         struct tsr_conference_call *call)
{
    struct engine_conf *ec = ep->conf;
    struct tsr_participant *p = ep->p;
    struct engine_job *job = job_new(ep, JOB_ATTACH, call);
    job->in = g_strdup(offer);
    job->log_ctx =
        g_strdup_printf("%s/%s%s", ec->alias, tsr_participant_id(p), ep->owner ? "/content" : "");
    job->webrtc = e->webrtc;
    job->params = (struct tsr_media_peer_params){
        .id = ep->id,
        .log_ctx = job->log_ctx,
        .ctx = ep->ctx,
        .send_batch = tsr_net_loops_batch(e->loops, ep->ctx),
        .video_pref = strcmp(e->cfg.webrtc_video_codec, "h264") == 0 ? TSR_SDP_VIDEO_PREF_H264
                                                                     : TSR_SDP_VIDEO_PREF_VP8,
        .ask_dtx = e->cfg.audio_client_dtx,
        .offer_srtp = tsr_sdp_offer_srtp_from_name(e->cfg.sip_offer_srtp),
        .audio_red_distance = (unsigned)e->cfg.audio_red_distance,
        .consent_failure_ms = e->cfg.mixer_consent_timeout_s * 1000,
        .sink = &tsr_conf_mixer_peer_sink,
        .sink_user = tsr_conf_mixer_ref(ec->mixer),
        .sink_user_free = tsr_conf_mixer_unref_cb,
        .slides_id = ep->slides_id,
    };
    engine_stun_use(e->stun, attach_stun_ready, job);
}

static struct engine_peer *engine_peer_new(struct tsr_media_engine *e, struct engine_conf *ec,
                                           struct tsr_participant *p, GMainContext *ctx)
{
    struct engine_peer *ep = g_new0(struct engine_peer, 1);
    ep->conf = ec;
    ep->p = p;
    ep->ctx = ctx;
    ep->id = ++e->next_id ? e->next_id : ++e->next_id;
    ep->jobs = g_ptr_array_new();
    return ep;
}

/* Shows the slides of p's call as the presentation while p holds the floor, its
 * call sends slides, and no content transport of p is up (that one wins: it is
 * what the web client and the native API present with); else takes them out. */
static void slides_sync(struct engine_peer *ep)
{
    if (ep->owner || !ep->peer || !ep->slides_id)
        return;
    struct tsr_media_peer *slides =
        tsr_participant_presenting(ep->p) && !ep->content ? tsr_media_peer_slides(ep->peer) : NULL;
    if (slides && !ep->slides_shown)
        tsr_conf_mixer_set_content(ep->conf->mixer, slides, tsr_participant_id(ep->p));
    else if (!slides && ep->slides_shown)
        tsr_conf_mixer_clear_content(ep->conf->mixer, ep->slides_id);
    ep->slides_shown = slides != NULL;
    tsr_media_peer_unref(&slides);
}

/* A new participant's media on a net loop of its own: answering its offer, or,
 * with none (a SIP caller without an offer), making ours, whose answer comes
 * through apply_send_answer. */
static void attach_new(struct tsr_media_engine *e, struct tsr_participant *p, const char *offer,
                       struct tsr_conference_call *call)
{
    struct engine_conf *ec = conf_get(e, tsr_participant_conference(p));
    if (!ec) {
        tsr_conference_call_done(call, TSR_ERR_CODEC, NULL,
                                 g_strdup("the conference mixer could not start"));
        return;
    }
    struct engine_peer *ep = engine_peer_new(e, ec, p, tsr_net_loops_pick(e->loops));
    if (offer)
        ep->slides_id = ++e->next_id ? e->next_id : ++e->next_id;
    else
        ep->awaiting_answer = true;
    tsr_participant_set_media_data(p, ep);
    attach_start(e, ep, offer, call);
}

static void engine_attach(void *user, struct tsr_participant *p, const char *offer,
                          struct tsr_conference_call *call)
{
    attach_new(user, p, offer, call);
}

static void engine_attach_offer(void *user, struct tsr_participant *p,
                                struct tsr_conference_call *call)
{
    attach_new(user, p, NULL, call);
}

/* The content transport goes: its jobs are abandoned, the mix drops it. */
static void content_free(struct engine_peer *owner)
{
    struct engine_peer *cp = owner->content;
    if (!cp)
        return;
    owner->content = NULL;
    for (guint i = 0; i < cp->jobs->len; i++)
        ((struct engine_job *)cp->jobs->pdata[i])->ep = NULL;
    g_ptr_array_free(cp->jobs, TRUE);
    if (cp->peer) {
        tsr_conf_mixer_clear_content(cp->conf->mixer, cp->id);
        tsr_media_peer_close(cp->peer);
        tsr_media_peer_unref(&cp->peer);
    }
    g_free(cp);
}

/* The presentation gets its own transport on the camera's net loop (the two are
 * one participant's load), replacing any previous one of p. */
static void engine_attach_content(void *user, struct tsr_participant *p, const char *offer,
                                  struct tsr_conference_call *call)
{
    struct tsr_media_engine *e = user;
    struct engine_peer *ep = tsr_participant_media_data(p);
    if (!ep || !ep->peer) {
        tsr_conference_call_done(call, TSR_ERR_STATE, NULL, g_strdup("no media"));
        return;
    }
    content_free(ep);
    ep->content = engine_peer_new(e, ep->conf, p, ep->ctx);
    ep->content->owner = ep;
    slides_sync(ep);
    attach_start(e, ep->content, offer, call);
}

static void engine_detach_content(void *user, struct tsr_participant *p)
{
    (void)user;
    struct engine_peer *ep = tsr_participant_media_data(p);
    if (ep)
        content_free(ep);
}

static void engine_add_content_candidate(void *user, struct tsr_participant *p,
                                         const char *candidate, struct tsr_conference_call *call)
{
    (void)user;
    struct engine_peer *ep = tsr_participant_media_data(p);
    struct engine_peer *cp = ep ? ep->content : NULL;
    if (!cp || !cp->peer) {
        tsr_conference_call_done(call, TSR_ERR_STATE, NULL, g_strdup("no presentation media"));
        return;
    }
    struct engine_job *job = job_new(cp, JOB_CANDIDATE, call);
    job->in = g_strdup(candidate ? candidate : "");
    job_post(job);
}

/* Every job in flight is abandoned (its call is the conference's again), then the
 * peer, if it was made, is taken out of the mixer and closed. */
static void engine_detach(void *user, struct tsr_participant *p)
{
    (void)user;
    struct engine_peer *ep = tsr_participant_media_data(p);
    if (!ep)
        return;
    tsr_participant_set_media_data(p, NULL);
    content_free(ep);
    if (ep->slides_shown)
        tsr_conf_mixer_clear_content(ep->conf->mixer, ep->slides_id);
    for (guint i = 0; i < ep->jobs->len; i++)
        ((struct engine_job *)ep->jobs->pdata[i])->ep = NULL;
    g_ptr_array_free(ep->jobs, TRUE);
    if (ep->peer) {
        if (!ep->awaiting_answer)
            tsr_conf_mixer_remove_peer(ep->conf->mixer, ep->id);
        tsr_media_peer_close(ep->peer);
        tsr_media_peer_unref(&ep->peer);
    }
    g_free(ep);
}

/* An op on p's running peer: a job with `in` (copied; may be NULL) to its loop. */
static void peer_op(struct tsr_participant *p, enum job_kind kind, const char *in,
                    struct tsr_conference_call *call)
{
    struct engine_peer *ep = tsr_participant_media_data(p);
    if (!ep || !ep->peer) {
        tsr_conference_call_done(call, TSR_ERR_STATE, NULL, g_strdup("no media"));
        return;
    }
    struct engine_job *job = job_new(ep, kind, call);
    job->in = g_strdup(in);
    job_post(job);
}

static void engine_add_candidate(void *user, struct tsr_participant *p, const char *candidate,
                                 const char *mid, int mline_index, struct tsr_conference_call *call)
{
    (void)user, (void)mid, (void)mline_index;
    peer_op(p, JOB_CANDIDATE, candidate ? candidate : "", call);
}

static void engine_renegotiate(void *user, struct tsr_participant *p, const char *offer,
                               struct tsr_conference_call *call)
{
    (void)user;
    peer_op(p, JOB_RENEGOTIATE, offer, call);
}

static void engine_floor_changed(void *user, struct tsr_participant *p, bool presenting)
{
    (void)user, (void)presenting;
    struct engine_peer *ep = tsr_participant_media_data(p);
    if (ep)
        slides_sync(ep);
}

static void engine_set_layout(void *user, struct tsr_conference *c, const char *layout)
{
    struct tsr_media_engine *e = user;
    struct engine_conf *ec = g_hash_table_lookup(e->confs, tsr_conference_alias(c));
    if (ec)
        tsr_conf_mixer_set_layout(ec->mixer, layout);
}

static void engine_set_muted(void *user, struct tsr_participant *p, bool audio, bool video)
{
    (void)user;
    struct engine_peer *ep = tsr_participant_media_data(p);
    if (ep)
        tsr_conf_mixer_set_muted(ep->conf->mixer, ep->id, audio, video);
}

/* As a PLI from the participant's endpoint: the mixer's sink is thread-safe. */
static void engine_request_keyframe(void *user, struct tsr_participant *p)
{
    (void)user;
    struct engine_peer *ep = tsr_participant_media_data(p);
    if (ep)
        tsr_conf_mixer_peer_sink.on_keyframe_request(ep->conf->mixer, ep->id);
}

static void engine_set_spotlight(void *user, struct tsr_conference *c,
                                 struct tsr_participant *const *spotlit, size_t n)
{
    struct tsr_media_engine *e = user;
    struct engine_conf *ec = g_hash_table_lookup(e->confs, tsr_conference_alias(c));
    if (ec)
        spotlight_to_mixer(ec, spotlit, n);
}

static void engine_set_self_view(void *user, struct tsr_conference *c, bool on)
{
    struct tsr_media_engine *e = user;
    struct engine_conf *ec = g_hash_table_lookup(e->confs, tsr_conference_alias(c));
    if (ec)
        tsr_conf_mixer_set_self_view(ec->mixer, on);
}

static void engine_conference_ended(void *user, struct tsr_conference *c)
{
    struct tsr_media_engine *e = user;
    g_hash_table_remove(e->confs, tsr_conference_alias(c));
}

static void engine_create_send_offer(void *user, struct tsr_participant *p,
                                     struct tsr_conference_call *call)
{
    (void)user;
    peer_op(p, JOB_SEND_OFFER, NULL, call);
}

static void engine_apply_send_answer(void *user, struct tsr_participant *p, const char *answer_sdp,
                                     struct tsr_conference_call *call)
{
    (void)user;
    const struct engine_peer *ep = tsr_participant_media_data(p);
    peer_op(p, ep && ep->awaiting_answer ? JOB_PLAIN_ANSWER : JOB_SEND_ANSWER, answer_sdp, call);
}

static void engine_answer_reoffer(void *user, struct tsr_participant *p, const char *offer_sdp,
                                  struct tsr_conference_call *call)
{
    (void)user;
    peer_op(p, JOB_REOFFER, offer_sdp, call);
}

/* Writer thread → API loop: the conference core reports the state in events. */
static void on_output_state(void *user, uint32_t id, enum tsr_output_state st, const char *detail)
{
    struct engine_conf *ec = user;
    static const enum tsr_conference_output_state map[] = {
        [TSR_OUTPUT_STARTING] = TSR_CONFERENCE_OUTPUT_STARTING,
        [TSR_OUTPUT_ACTIVE] = TSR_CONFERENCE_OUTPUT_ACTIVE,
        [TSR_OUTPUT_RECONNECTING] = TSR_CONFERENCE_OUTPUT_RECONNECTING,
        [TSR_OUTPUT_STOPPED] = TSR_CONFERENCE_OUTPUT_STOPPED,
        [TSR_OUTPUT_FAILED] = TSR_CONFERENCE_OUTPUT_FAILED,
    };
    if (ec->engine->link)
        tsr_conference_link_post_output_state(ec->engine->link, ec->alias, id, map[st], detail);
}

/* Outputs that reached a final state: their writers have ended (or are about to);
 * the closer thread joins them, in order before any later close of their conference. */
static void outputs_sweep(struct engine_conf *ec)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, ec->outputs);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        if (tsr_output_finished(v)) {
            g_hash_table_iter_steal(&it);
            close_later(ec->engine, output_close_unref, v);
        }
    }
}

static void output_params(struct engine_conf *ec, enum tsr_conference_output_kind kind,
                          struct tsr_output_params *p)
{
    const struct tsr_config *cfg = &ec->engine->cfg;
    enum tsr_video_codec codec = TSR_VIDEO_CODEC_H264;
    if (kind == TSR_CONFERENCE_OUTPUT_RECORDING)
        tsr_video_codec_parse(cfg->recording_video_codec, &codec);
    *p = (struct tsr_output_params){
        .kind = kind == TSR_CONFERENCE_OUTPUT_STREAM ? TSR_OUTPUT_STREAM : TSR_OUTPUT_RECORDING,
        .log_ctx = ec->alias,
        .video_codec = codec,
        .width = (int)cfg->mixer_canvas_width,
        .height = (int)cfg->mixer_canvas_height,
        .audio_channels = (int)cfg->audio_channels,
        .aac_bitrate_bps = cfg->streaming_audio_bitrate_bps,
        .io_timeout_ms = cfg->streaming_connect_timeout_s * 1000,
        .retry_min_ms = 1000,
        .retry_max_ms = cfg->streaming_retry_max_s * 1000,
        .reconnect_timeout_ms = cfg->streaming_reconnect_timeout_s * 1000,
        .on_state = on_output_state,
        .user = ec,
    };
}

/* Starts the writer thread (it opens the file or connects) and returns. */
static int engine_start_output(void *user, struct tsr_conference *c, uint32_t id,
                               enum tsr_conference_output_kind kind, const char *target,
                               char **err_text)
{
    struct tsr_media_engine *e = user;
    struct engine_conf *ec = conf_get(e, c);
    if (!ec) {
        *err_text = g_strdup("the conference mixer could not start");
        return TSR_ERR_CODEC;
    }
    outputs_sweep(ec);
    struct tsr_output_params p;
    output_params(ec, kind, &p);
    p.id = id;
    p.target = target;
    struct tsr_output *o = NULL;
    int rc = tsr_output_new(&o, &p);
    if (rc) {
        *err_text = g_strdup_printf("cannot start: %s", tsr_strerror(rc));
        return rc;
    }
    g_hash_table_insert(ec->outputs, GUINT_TO_POINTER(id), o);
    tsr_conf_mixer_add_output(ec->mixer, o);
    return 0;
}

static void engine_stop_output(void *user, struct tsr_conference *c, uint32_t id)
{
    struct tsr_media_engine *e = user;
    struct engine_conf *ec = g_hash_table_lookup(e->confs, tsr_conference_alias(c));
    struct tsr_output *o = ec ? g_hash_table_lookup(ec->outputs, GUINT_TO_POINTER(id)) : NULL;
    if (!o)
        return;
    tsr_output_stop(o);
    tsr_conf_mixer_remove_output(ec->mixer, id);
    outputs_sweep(ec);
}

static double engine_load(void *user)
{
    struct tsr_media_engine *e = user;
    return tsr_video_load_get(e->video_load);
}

static const struct tsr_conference_media_ops engine_ops = {
    .attach = engine_attach,
    .detach = engine_detach,
    .add_candidate = engine_add_candidate,
    .renegotiate = engine_renegotiate,
    .request_keyframe = engine_request_keyframe,
    .set_layout = engine_set_layout,
    .set_muted = engine_set_muted,
    .set_spotlight = engine_set_spotlight,
    .set_self_view = engine_set_self_view,
    .conference_ended = engine_conference_ended,
    .attach_offer = engine_attach_offer,
    .create_send_offer = engine_create_send_offer,
    .apply_send_answer = engine_apply_send_answer,
    .answer_reoffer = engine_answer_reoffer,
    .load = engine_load,
    .start_output = engine_start_output,
    .stop_output = engine_stop_output,
    .attach_content = engine_attach_content,
    .detach_content = engine_detach_content,
    .add_content_candidate = engine_add_content_candidate,
    .floor_changed = engine_floor_changed,
};

struct tsr_net_loops *tsr_media_engine_net_loops(struct tsr_media_engine *e)
{
    return e->loops;
}

const struct tsr_conference_media_ops *tsr_media_engine_ops(void)
{
    return &engine_ops;
}

int tsr_media_engine_new(struct tsr_media_engine **out, const struct tsr_config *cfg)
{
    struct tsr_media_engine *e = g_new0(struct tsr_media_engine, 1);
    e->cfg = *cfg;
    int rc = tsr_webrtc_cert_from_config(&e->cfg, &e->cert);
    if (rc) {
        TSR_LOG(TSR_LOG_ERROR, "media", "DTLS certificate: %s", tsr_strerror(rc));
        g_free(e);
        return rc;
    }
    rc = tsr_webrtc_config_from(&e->webrtc, &e->cfg);
    if (rc == 0)
        rc = engine_stun_new(&e->stun, e->cfg.webrtc_stun_server);
    if (rc) {
        tsr_dtls_cert_unref(&e->cert);
        g_free(e);
        return rc;
    }
    e->webrtc.cert = e->cert;
    e->webrtc.stun_server = NULL; /* each attach gets the resolved address */
    e->api_ctx = g_main_context_ref_thread_default();
    e->confs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, conf_free);
    e->closer = g_thread_pool_new(closer_run, NULL, 1, FALSE, NULL);
    if (tsr_video_load_new(&e->video_load, 0) != 0) /* unmetered: never refuses for load */
        TSR_LOG(TSR_LOG_ERROR, "media", "no memory for the video load meter");
    tsr_net_loops_new(&e->loops, (size_t)e->cfg.mixer_net_threads);
    TSR_LOG(TSR_LOG_INFO, "media", "DTLS fingerprint sha-256 %s",
            tsr_dtls_cert_fingerprint(e->cert));
    *out = e;
    return 0;
}

/* Refreshes the conference gauges just before /metrics renders (API loop). */
static void collect_conferences(void *user)
{
    struct tsr_media_engine *e = user;
    if (!e->reg)
        return;
    tsr_gauge_set(tsr_metrics_gauge("tessera_conferences", NULL, "Live conferences."),
                  (double)tsr_conference_registry_n_conferences(e->reg));
    tsr_gauge_set(tsr_metrics_gauge("tessera_participants", NULL, "Participants in conferences."),
                  (double)tsr_conference_registry_n_participants(e->reg));
    tsr_gauge_set(tsr_metrics_gauge("tessera_mixers", NULL, "Conference mixer threads."),
                  (double)g_hash_table_size(e->confs));
    tsr_gauge_set(tsr_metrics_gauge("tessera_participants_with_media", NULL,
                                    "Participants with media, all conferences (what [mixer] "
                                    "max_participants caps)."),
                  (double)tsr_conference_registry_n_with_media(e->reg));
    tsr_gauge_set(tsr_metrics_gauge("tessera_video_load", NULL,
                                    "Smoothed share of the usable CPU cores busy composing and "
                                    "encoding video (1 = all); joins are refused above [mixer] "
                                    "max_load_percent."),
                  tsr_video_load_get(e->video_load));
    tsr_gauge_set(tsr_metrics_gauge("tessera_usable_cpu_cores", NULL,
                                    "CPU cores this process may run on (what the video load "
                                    "divides by)."),
                  (double)tsr_video_load_cores(e->video_load));
}

void tsr_media_engine_set_registry(struct tsr_media_engine *e, struct tsr_conference_registry *reg)
{
    if (!e->reg && reg)
        tsr_metrics_add_collector(collect_conferences, e);
    e->reg = reg;
    if (!e->link && reg) /* set before any mixer runs, read by their threads */
        e->link = tsr_conference_registry_link(reg);
}

void tsr_media_engine_free(struct tsr_media_engine **pp)
{
    if (!pp || !*pp)
        return;
    struct tsr_media_engine *e = *pp;
    tsr_metrics_remove_collector(collect_conferences, e);
    engine_stun_free(&e->stun);
    /* Shutdown only (the fronts and the registry are gone): jobs abandoned by the
     * last detaches come back from the net loops and close what they made. */
    if (e->n_jobs > 0)
        tsr_loop_assert_may_wait("media jobs still on the net loops");
    while (e->n_jobs > 0)
        g_main_context_iteration(e->api_ctx, TRUE);
    g_hash_table_destroy(e->confs); /* normally empty: conferences ended first */
    tsr_loop_assert_may_wait("stopping the last conference mixers");
    g_thread_pool_free(e->closer, FALSE, TRUE); /* the mixers stopping in the background */
    tsr_conference_link_unref(&e->link);
    tsr_video_load_free(&e->video_load); /* after the mixers that add to it stopped */
    tsr_net_loops_free(&e->loops);
    tsr_dtls_cert_unref(&e->cert);
    g_main_context_unref(e->api_ctx);
    g_free(e);
    *pp = NULL;
}
