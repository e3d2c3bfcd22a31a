/* The conference media operations, implemented with media peers on the net loops
 * and one mixer thread per conference. API loop only. */
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

#include <errno.h>
#include <string.h>

/* Home: the API loop. */
struct tsr_media_engine {
    struct tsr_config cfg;
    struct tsr_net_loops *loops;
    struct tsr_dtls_cert *cert;
    struct tsr_webrtc_config webrtc;
    struct tsr_conference_registry *reg;
    GHashTable *confs; /* alias → struct engine_conf* */
    struct tsr_video_load *video_load; /* the mixers add to it; admission reads it */
    uint32_t next_id;
};

/* One live conference's mixer; also the user of its mixer callbacks. */
struct engine_conf {
    struct tsr_media_engine *engine;
    char *alias;
    struct tsr_conf_mixer *mixer;
    GHashTable *outputs; /* output id → struct tsr_output* (recordings and streams) */
};

/* A participant's media: its media data in the conference. */
struct engine_peer {
    struct engine_conf *conf;
    struct tsr_media_peer *peer;
    uint32_t id;
};

/* Mixer thread → API loop, through the registry's thread-safe posts. */
static void on_talkers(void *user, const char *const *ids, size_t n)
{
    struct engine_conf *ec = user;
    if (ec->engine->reg)
        tsr_conference_post_talkers(ec->engine->reg, ec->alias, ids, n);
}

static void on_failed(void *user, const char *id, const char *why)
{
    struct engine_conf *ec = user;
    TSR_LOG(TSR_LOG_WARN, ec->alias, "participant %s: media failed (%s); removing it", id, why);
    if (ec->engine->reg)
        tsr_conference_post_media_failed(ec->engine->reg, id);
}

static enum tsr_encoder_backend backend_from(const char *name)
{
    enum tsr_encoder_backend b = TSR_ENCODER_BACKEND_AUTO;
    tsr_encoder_backend_parse(name, &b);
    return b;
}

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
        .background_rgb = 0x15181d,
        .video_bitrate_bps = e->cfg.mixer_video_bitrate_bps,
        .backend = backend_from(e->cfg.encoder),
        .vaapi_device = e->cfg.vaapi_device,
        .keyframe_min_interval_ms = e->cfg.mixer_keyframe_min_interval_ms,
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

/* Every output is told to finish first (their trailers are written in parallel),
 * then the mixer stops feeding them, then each writer is waited for. */
static void conf_free(gpointer data)
{
    struct engine_conf *ec = data;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, ec->outputs);
    while (g_hash_table_iter_next(&it, NULL, &v))
        tsr_output_stop(v);
    tsr_conf_mixer_close(ec->mixer);
    g_hash_table_destroy(ec->outputs);
    tsr_conf_mixer_unref(&ec->mixer);
    g_free(ec->alias);
    g_free(ec);
}

struct new_peer_job {
    const struct tsr_media_peer_params *params;
    const char *offer;
    struct tsr_media_peer *peer;
    char *answer;
    char reason[TSR_SDP_REASON_MAX];
};

static int new_peer_job_run(void *data)
{
    struct new_peer_job *job = data;
    return tsr_media_peer_new(&job->peer, job->params, job->offer, &job->answer, job->reason);
}

static int engine_attach(void *user, struct tsr_participant *p, const char *offer,
                         char **answer_sdp, char **err_text)
{
    struct tsr_media_engine *e = user;
    struct engine_conf *ec = conf_get(e, tsr_participant_conference(p));
    if (!ec) {
        *err_text = g_strdup("the conference mixer could not start");
        return TSR_ERR_CODEC;
    }
    char log_ctx[160];
    g_snprintf(log_ctx, sizeof log_ctx, "%s/%s", ec->alias, tsr_participant_id(p));
    struct tsr_media_peer_params params = {
        .id = ++e->next_id ? e->next_id : ++e->next_id,
        .log_ctx = log_ctx,
        .ctx = tsr_net_loops_pick(e->loops),
        .webrtc = &e->webrtc,
        .video_pref = strcmp(e->cfg.webrtc_video_codec, "h264") == 0 ? TSR_SDP_VIDEO_PREF_H264
                                                                      : TSR_SDP_VIDEO_PREF_VP8,
        .consent_failure_ms = e->cfg.mixer_consent_timeout_s * 1000,
        .sink = &tsr_conf_mixer_peer_sink,
        .sink_user = tsr_conf_mixer_ref(ec->mixer),
        .sink_user_free = tsr_conf_mixer_unref_cb,
    };
    struct new_peer_job job = {.params = &params, .offer = offer};
    int rc = tsr_loop_run_sync(params.ctx, new_peer_job_run, &job);
    if (rc) {
        *err_text = g_strdup(job.reason[0] ? job.reason : tsr_strerror(rc));
        return rc;
    }
    struct engine_peer *ep = g_new0(struct engine_peer, 1);
    ep->conf = ec;
    ep->peer = job.peer;
    ep->id = params.id;
    tsr_participant_set_media_data(p, ep);
    tsr_conf_mixer_add_peer(ec->mixer, ep->peer, tsr_participant_id(p));
    tsr_conf_mixer_set_muted(ec->mixer, ep->id, tsr_participant_muted(p),
                             tsr_participant_video_muted(p));
    *answer_sdp = job.answer;
    return 0;
}

static void engine_detach(void *user, struct tsr_participant *p)
{
    (void)user;
    struct engine_peer *ep = tsr_participant_media_data(p);
    if (!ep)
        return;
    tsr_participant_set_media_data(p, NULL);
    tsr_conf_mixer_remove_peer(ep->conf->mixer, ep->id);
    tsr_media_peer_close(ep->peer);
    tsr_media_peer_unref(&ep->peer);
    g_free(ep);
}

static int engine_add_candidate(void *user, struct tsr_participant *p, const char *candidate,
                                const char *mid, int mline_index)
{
    (void)user, (void)mid, (void)mline_index;
    struct engine_peer *ep = tsr_participant_media_data(p);
    return ep ? tsr_media_peer_add_candidate(ep->peer, candidate) : TSR_ERR_STATE;
}

struct reneg_job {
    struct tsr_media_peer *peer;
    const char *offer;
    char *answer;
    char reason[TSR_SDP_REASON_MAX];
};

static int reneg_job_run(void *data)
{
    struct reneg_job *job = data;
    return tsr_media_peer_renegotiate(job->peer, job->offer, &job->answer, job->reason);
}

/* A new offer on the participant's transport; runs on its net loop and waits. */
static int engine_renegotiate(void *user, struct tsr_participant *p, const char *offer,
                              char **answer_sdp, char **err_text)
{
    (void)user;
    struct engine_peer *ep = tsr_participant_media_data(p);
    if (!ep) {
        *err_text = g_strdup("no media");
        return TSR_ERR_STATE;
    }
    struct reneg_job job = {.peer = ep->peer, .offer = offer};
    int rc = tsr_loop_run_sync(tsr_media_peer_context(ep->peer), reneg_job_run, &job);
    if (rc) {
        *err_text = g_strdup(job.reason[0] ? job.reason : tsr_strerror(rc));
        return rc;
    }
    *answer_sdp = job.answer;
    return 0;
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

static void engine_conference_ended(void *user, struct tsr_conference *c)
{
    struct tsr_media_engine *e = user;
    g_hash_table_remove(e->confs, tsr_conference_alias(c));
}

/* The three SDP operations after the first answer share one shape: find the
 * participant's peer, run the call, turn its reason (if any) into the message. */
enum sdp_op { SDP_OP_SEND_OFFER, SDP_OP_SEND_ANSWER, SDP_OP_REOFFER };

static int engine_sdp_op(struct tsr_participant *p, enum sdp_op op, const char *sdp_in,
                         char **sdp_out, char **err_text)
{
    struct engine_peer *ep = tsr_participant_media_data(p);
    char reason[TSR_SDP_REASON_MAX] = "";
    if (!ep)
        return TSR_ERR_STATE;
    int rc = op == SDP_OP_SEND_OFFER ? tsr_media_peer_create_send_offer(ep->peer, sdp_out, reason)
             : op == SDP_OP_SEND_ANSWER
                 ? tsr_media_peer_apply_send_answer(ep->peer, sdp_in, reason)
                 : tsr_media_peer_answer_reoffer(ep->peer, sdp_in, sdp_out, reason);
    if (rc && reason[0])
        *err_text = g_strdup(reason);
    return rc;
}

static int engine_create_send_offer(void *user, struct tsr_participant *p, char **offer_sdp,
                                    char **err_text)
{
    (void)user;
    return engine_sdp_op(p, SDP_OP_SEND_OFFER, NULL, offer_sdp, err_text);
}

static int engine_apply_send_answer(void *user, struct tsr_participant *p, const char *answer_sdp,
                                    char **err_text)
{
    (void)user;
    return engine_sdp_op(p, SDP_OP_SEND_ANSWER, answer_sdp, NULL, err_text);
}

static int engine_answer_reoffer(void *user, struct tsr_participant *p, const char *offer_sdp,
                                 char **answer_sdp, char **err_text)
{
    (void)user;
    return engine_sdp_op(p, SDP_OP_REOFFER, offer_sdp, answer_sdp, err_text);
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
    if (ec->engine->reg)
        tsr_conference_post_output_state(ec->engine->reg, ec->alias, id, map[st], detail);
}

/* Outputs that reached a final state: their writers have ended (or are about to),
 * so joining them costs nothing. */
static void outputs_sweep(struct engine_conf *ec)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, ec->outputs);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (tsr_output_finished(v))
            g_hash_table_iter_remove(&it);
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
    .set_layout = engine_set_layout,
    .set_muted = engine_set_muted,
    .conference_ended = engine_conference_ended,
    .create_send_offer = engine_create_send_offer,
    .apply_send_answer = engine_apply_send_answer,
    .answer_reoffer = engine_answer_reoffer,
    .load = engine_load,
    .start_output = engine_start_output,
    .stop_output = engine_stop_output,
};

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
    tsr_webrtc_config_from(&e->webrtc, &e->cfg);
    e->webrtc.cert = e->cert;
    e->confs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, conf_free);
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

void tsr_media_engine_set_registry(struct tsr_media_engine *e,
                                   struct tsr_conference_registry *reg)
{
    if (!e->reg && reg)
        tsr_metrics_add_collector(collect_conferences, e);
    e->reg = reg;
}

void tsr_media_engine_free(struct tsr_media_engine **pp)
{
    if (!pp || !*pp)
        return;
    struct tsr_media_engine *e = *pp;
    tsr_metrics_remove_collector(collect_conferences, e);
    g_hash_table_destroy(e->confs); /* normally empty: conferences ended first */
    tsr_video_load_free(&e->video_load); /* after the mixers that add to it stopped */
    tsr_net_loops_free(&e->loops);
    tsr_dtls_cert_unref(&e->cert);
    g_free(e);
    *pp = NULL;
}
