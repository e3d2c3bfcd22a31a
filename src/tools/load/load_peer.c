/* A synthetic participant: joins over the native API with a browser-like offer
 * (BUNDLE, rtcp-mux, Opus with the RFC 6464 audio level, VP8 or H.264 with
 * nack/pli/fir/goog-remb), trickles its candidates, runs full controlling ICE and
 * DTLS-SRTP, sends its pre-encoded camera and microphone, and leaves.
 *
 * Peers are freed only at the end of the run (load_main.c), so a late HTTP answer
 * never finds a freed peer; a peer that left has released its transport, decoder and
 * buffers already, keeping only its counters. */
#include "load_peer_internal.h"

#include <tessera/dtls.h>
#include <tessera/err.h>
#include <tessera/rtp.h>
#include <tessera/sdp.h>

#include <string.h>

#define REFRESH_INTERVAL_US (40 * G_USEC_PER_SEC)
#define CHURN_STAY_US (1 * G_USEC_PER_SEC)

static char *api_url(const struct load_peer *p, const char *fmt, const char *arg)
{
    char *path = g_strdup_printf(fmt, arg);
    char *url = g_strdup_printf("%s/api/v1/%s", p->p.run->opt.server, path);
    g_free(path);
    return url;
}

static const char *alias_of(const struct load_peer *p)
{
    return p->p.run->conf_alias[p->p.conference];
}

/* `what` NULL: the caller has counted the error already. */
static void fail(struct load_peer *p, const char *what)
{
    if (what)
        load_results_error(&p->p.run->res, what);
    if (p->state == LOAD_PEER_JOINING)
        p->p.run->res.joins_failed++;
    p->state = LOAD_PEER_FAILED;
    load_run_peer_gone(p->p.run, p);
}

/* ---- the offer ---------------------------------------------------------------- */

static char *video_section(const struct load_peer *p, const char *transport)
{
    bool h264 = p->p.run->opt.codec == TSR_VIDEO_CODEC_H264;
    int pt = h264 ? LOAD_H264_PT : LOAD_VP8_PT;
    char fmtp[128] = "";
    if (h264)
        g_snprintf(fmtp, sizeof fmtp,
                   "a=fmtp:%d level-asymmetry-allowed=1;packetization-mode=1;"
                   "profile-level-id=42e01f\r\n",
                   pt);
    return g_strdup_printf("m=video 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\n%s"
                           "a=mid:1\r\na=sendrecv\r\na=msid:load cam\r\n"
                           "a=rtpmap:%d %s/90000\r\n%s"
                           "a=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\na=rtcp-fb:%d ccm fir\r\n"
                           "a=rtcp-fb:%d goog-remb\r\na=ssrc:%u cname:%s\r\n",
                           pt, transport, pt, h264 ? "H264" : "VP8", fmtp, pt, pt, pt, pt,
                           p->ssrc_video, p->name);
}

static char *build_offer(struct load_peer *p)
{
    struct tsr_sdp_local l;
    memset(&l, 0, sizeof l);
    if (tsr_webrtc_transport_local(p->t, &l) != 0)
        return NULL;
    GString *s = g_string_new(NULL);
    for (size_t i = 0; i < l.n_candidates; i++)
        g_string_append_printf(s, "a=%s\r\n", l.candidates[i]);
    char *transport = g_strdup_printf("a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
                                      "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\n"
                                      "a=rtcp-mux\r\n%s",
                                      l.ice_ufrag, l.ice_pwd, l.fingerprint_sha256, s->str);
    g_string_free(s, TRUE);
    bool video = p->p.camera != NULL;
    char *vsec = video ? video_section(p, transport) : g_strdup("");
    char *offer = g_strdup_printf(
        "v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        "a=group:BUNDLE 0%s\r\na=msid-semantic: WMS load\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\n%s"
        "a=mid:0\r\na=extmap:%d urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
        "a=sendrecv\r\na=msid:load mic\r\na=rtpmap:%d opus/48000/2\r\n"
        "a=fmtp:%d minptime=10;useinbandfec=1\r\na=ssrc:%u cname:%s\r\n%s",
        p->ssrc_audio, video ? " 1" : "", LOAD_AUDIO_PT, transport, LOAD_AUDIO_LEVEL_EXT,
        LOAD_AUDIO_PT, LOAD_AUDIO_PT, p->ssrc_audio, p->name, vsec);
    g_free(vsec);
    g_free(transport);
    return offer;
}

/* ---- the answer ------------------------------------------------------------------ */

static int apply_answer(struct load_peer *p, const char *answer)
{
    struct tsr_sdp *sdp = NULL;
    if (!answer || tsr_sdp_parse(answer, strlen(answer), &sdp, NULL) != 0)
        return TSR_ERR_INVALID;
    int rc = TSR_ERR_INVALID;
    const struct tsr_sdp_media *m = sdp->n_media ? &sdp->media[0] : NULL;
    struct tsr_sdp_fingerprint fp;
    GPtrArray *cands = g_ptr_array_new_with_free_func(g_free);
    char usedtx[4] = "";
    if (m && tsr_sdp_fmtp_get(tsr_sdp_media_fmtp(m, LOAD_AUDIO_PT), "usedtx", usedtx,
                              sizeof usedtx) == 0)
        p->dtx = strcmp(usedtx, "1") == 0;
    if (m && tsr_sdp_parse_fingerprint(tsr_sdp_media_attr(sdp, m, "fingerprint"), &fp) == 0) {
        for (size_t i = 0; i < m->n_attrs; i++)
            if (strcmp(m->attrs[i].name, "candidate") == 0)
                g_ptr_array_add(cands, g_strdup_printf("candidate:%s", m->attrs[i].value));
        struct tsr_webrtc_remote r = {.ice_ufrag = tsr_sdp_media_attr(sdp, m, "ice-ufrag"),
                                      .ice_pwd = tsr_sdp_media_attr(sdp, m, "ice-pwd"),
                                      .fingerprint = &fp,
                                      .local_role = TSR_DTLS_ROLE_CLIENT,
                                      .candidates = (const char *const *)cands->pdata,
                                      .n_candidates = cands->len};
        rc = r.ice_ufrag && r.ice_pwd ? tsr_webrtc_transport_set_remote(p->t, &r)
                                      : TSR_ERR_INVALID;
    }
    g_ptr_array_unref(cands);
    tsr_sdp_free(&sdp);
    return rc;
}

static void on_candidate_posted(void *user, int status, json_t *body, GBytes *raw)
{
    (void)raw;
    struct load_peer *p = user;
    if (status != 204 && p->state != LOAD_PEER_LEFT && p->state != LOAD_PEER_LEAVING)
        load_results_http_error(&p->p.run->res, "candidate", status, body);
}

static void post_candidate(struct load_peer *p, const char *candidate)
{
    char *url = api_url(p, "participants/%s/candidates", p->id);
    json_t *b = json_pack("{s:s, s:s, s:i}", "candidate", candidate, "sdpMid", "0",
                          "sdpMLineIndex", 0);
    load_http_request(p->p.run->http, "POST", url, b, p->token, on_candidate_posted, p);
    json_decref(b);
    g_free(url);
}

static void on_joined(void *user, int status, json_t *body, GBytes *raw)
{
    (void)raw;
    struct load_peer *p = user;
    const char *id = json_string_value(json_object_get(body, "participant_id"));
    const char *token = json_string_value(json_object_get(body, "token"));
    const char *answer = json_string_value(json_object_get(body, "sdp"));
    if (p->state != LOAD_PEER_JOINING) { /* told to leave while the join was under way */
        if (status == 200 && id && token) {
            p->id = g_strdup(id);
            p->token = g_strdup(token);
            p->state = LOAD_PEER_CONNECTING;
            load_peer_leave(p);
        }
        return;
    }
    if (status != 200 || !id || !token) {
        load_results_http_error(&p->p.run->res, "join", status, body);
        fail(p, NULL);
        return;
    }
    p->id = g_strdup(id);
    p->token = g_strdup(token);
    if (apply_answer(p, answer) != 0) {
        fail(p, "join: unusable SDP answer");
        return;
    }
    p->p.run->res.joins_ok++;
    p->state = LOAD_PEER_CONNECTING;
    for (guint i = 0; i < p->early_candidates->len; i++)
        post_candidate(p, g_ptr_array_index(p->early_candidates, i));
    post_candidate(p, ""); /* end of candidates, as browsers send */
    g_ptr_array_set_size(p->early_candidates, 0);
    p->next_refresh_us = g_get_monotonic_time() + REFRESH_INTERVAL_US;
    load_run_peer_joined(p->p.run, p, p->token);
}

/* ---- transport callbacks ------------------------------------------------------------ */

static void on_state(void *user, enum tsr_webrtc_state s)
{
    struct load_peer *p = user;
    if (s == TSR_WEBRTC_STATE_CONNECTED && p->state == LOAD_PEER_CONNECTING) {
        p->state = LOAD_PEER_CONNECTED;
        int64_t now = g_get_monotonic_time();
        if (p->p.count_only && (p->rx_sock = tsr_webrtc_transport_take_receive(p->t))) {
            p->p.run->res.counted_only++;
            p->next_drain_us = now + LOAD_DRAIN_US;
        }
        if (p->p.churn)
            p->leave_at_us = now + CHURN_STAY_US;
    } else if (s == TSR_WEBRTC_STATE_FAILED && p->state <= LOAD_PEER_CONNECTED) {
        p->p.run->res.ice_dtls_failures++;
        fail(p, "ICE/DTLS failed");
    }
}

static void on_local_candidate(void *user, const char *candidate)
{
    struct load_peer *p = user;
    if (p->id)
        post_candidate(p, candidate);
    else
        g_ptr_array_add(p->early_candidates, g_strdup(candidate));
}

/* ---- life cycle ---------------------------------------------------------------------- */

int load_peer_new(struct load_peer **out, const struct load_peer_params *params)
{
    static const struct tsr_webrtc_callbacks cbs = {.on_rtp = load_peer_on_rtp,
                                                    .on_rtcp = load_peer_on_rtcp,
                                                    .on_state = on_state,
                                                    .on_candidate = on_local_candidate};
    struct load_peer *p = g_new0(struct load_peer, 1);
    p->p = *params;
    p->early_candidates = g_ptr_array_new_with_free_func(g_free);
    g_snprintf(p->name, sizeof p->name, "load-%d-%d%s", params->conference, params->index,
               params->churn ? "c" : "");
    p->ssrc_audio = g_random_int() | 1;
    p->ssrc_video = g_random_int() | 2;
    p->seq_audio = (uint16_t)g_random_int();
    p->seq_video = (uint16_t)g_random_int();
    p->ts_audio = g_random_int();
    p->ts_video0 = g_random_int();
    p->pending_rendition = -1;
    memset(p->last_stamp, 0xff, sizeof p->last_stamp);
    struct tsr_webrtc_config wc = {.cert = params->run->cert, .ice_controlling = true,
                                   .media_addresses = params->run->opt.media_address,
                                   .log_ctx = p->name};
    int rc = tsr_webrtc_transport_new(&p->t, g_main_context_default(), &wc, &cbs, p);
    if (rc == 0)
        rc = load_peer_rx_init(p, params->run->opt.codec);
    char *offer = rc == 0 ? build_offer(p) : NULL;
    if (!offer) {
        load_peer_free(&p);
        return rc ? rc : -ENOMEM;
    }
    if (params->camera)
        p->rendition = params->camera->n_renditions - 1;
    p->start_us = p->join_sent_us = g_get_monotonic_time();
    p->state = LOAD_PEER_JOINING;
    char *url = api_url(p, "conferences/%s/join", alias_of(p));
    json_t *b = json_pack("{s:s, s:s}", "display_name", p->name, "sdp", offer);
    load_http_request(params->run->http, "POST", url, b, NULL, on_joined, p);
    json_decref(b);
    g_free(url);
    g_free(offer);
    *out = p;
    return 0;
}

static void release_media(struct load_peer *p)
{
    g_clear_object(&p->rx_sock);
    tsr_webrtc_transport_free(&p->t);
    tsr_jitter_buffer_free(&p->jb);
    tsr_video_decoder_free(&p->vdec);
}

static void on_left(void *user, int status, json_t *body, GBytes *raw)
{
    (void)raw;
    struct load_peer *p = user;
    if (status != 204) {
        load_results_http_error(&p->p.run->res, "leave", status, body);
    } else {
        p->p.run->res.leaves++;
    }
    p->state = LOAD_PEER_LEFT;
}

void load_peer_leave(struct load_peer *p)
{
    if (p->state == LOAD_PEER_LEAVING || p->state == LOAD_PEER_LEFT ||
        p->state == LOAD_PEER_FAILED)
        return;
    bool joined = p->id != NULL;
    load_run_peer_gone(p->p.run, p);
    release_media(p);
    if (!joined) { /* still joining: on_joined will see the state and stop */
        p->state = LOAD_PEER_LEFT;
        return;
    }
    p->state = LOAD_PEER_LEAVING;
    char *url = api_url(p, "participants/%s/leave", p->id);
    load_http_request(p->p.run->http, "POST", url, NULL, p->token, on_left, p);
    g_free(url);
}

void load_peer_free(struct load_peer **pp)
{
    if (!pp || !*pp)
        return;
    struct load_peer *p = *pp;
    release_media(p);
    g_ptr_array_unref(p->early_candidates);
    g_free(p->id);
    g_free(p->token);
    g_free(p);
    *pp = NULL;
}

/* ---- sending -------------------------------------------------------------------------- */

static void send_payload(struct load_peer *p, uint8_t pt, bool marker, uint16_t seq, uint32_t ts,
                         uint32_t ssrc, const uint8_t *payload, size_t len, int level)
{
    uint8_t buf[1500];
    uint8_t ext[8], lvl;
    struct tsr_rtp_header h = {.version = 2, .marker = marker, .payload_type = pt, .seq = seq,
                               .timestamp_rtp = ts, .ssrc = ssrc};
    if (level >= 0) {
        lvl = (uint8_t)(level | (level < 127 ? 0x80 : 0));
        struct tsr_rtp_ext_elem e = {.id = LOAD_AUDIO_LEVEL_EXT, .len = 1, .data = &lvl};
        size_t ext_len = 0;
        if (tsr_rtp_ext_write(&e, 1, ext, sizeof ext, &h.ext_profile, &ext_len) == 0) {
            h.extension = true;
            h.ext_data = ext;
            h.ext_bytes = ext_len;
        }
    }
    size_t hl = 0;
    if (tsr_rtp_write_header(&h, buf, sizeof buf, &hl) != 0 || hl + len > sizeof buf)
        return;
    memcpy(buf + hl, payload, len);
    tsr_webrtc_transport_send_rtp(p->t, buf, hl + len);
}

static void send_video(struct load_peer *p, int64_t now_us)
{
    const struct load_camera *cam = p->p.camera;
    if (p->state != LOAD_PEER_CONNECTED || !cam)
        return;
    if (p->pending_rendition >= 0 || p->pending_keyframe) {
        if (p->pending_rendition >= 0 && p->pending_rendition != p->rendition) {
            p->rendition = p->pending_rendition;
            p->p.run->res.rendition_switches++;
        }
        p->pending_rendition = -1;
        p->pending_keyframe = false;
        p->loop_pos = 0; /* frame 0 is the loop's keyframe */
    }
    int pos = p->loop_pos;
    p->loop_pos = (pos + 1) % LOAD_LOOP_FRAMES;
    struct tsr_rtp_packetized *f = cam->r[p->rendition].frames[pos];
    if (!f)
        return;
    uint32_t ts = p->ts_video0 + (uint32_t)((now_us - p->start_us) * 9 / 100);
    size_t n = tsr_rtp_packetized_count(f);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *d;
        size_t len;
        bool marker;
        if (tsr_rtp_packetized_get(f, i, &d, &len, &marker) == 0)
            send_payload(p, p->video_pt, marker, p->seq_video++, ts, p->ssrc_video, d, len, -1);
    }
    p->sent_us[pos] = now_us;
}

static void send_audio(struct load_peer *p, int64_t now_us)
{
    (void)now_us;
    const struct load_audio *a = p->p.audio;
    if (p->state != LOAD_PEER_CONNECTED || !a)
        return;
    GBytes *pkt = a->talker ? a->packets[p->audio_pos] : a->packets[0];
    p->audio_pos = (p->audio_pos + 1) % LOAD_AUDIO_LOOP_PACKETS;
    /* A browser told usedtx=1 sends silence as one packet every 400 ms (20
     * frames); the RTP timestamp runs on, the sequence number only per packet. */
    if (!a->talker && p->dtx && p->silent_frames++ % LOAD_DTX_FRAMES != 0) {
        p->ts_audio += 960;
        return;
    }
    gsize len = 0;
    const uint8_t *d = g_bytes_get_data(pkt, &len);
    send_payload(p, LOAD_AUDIO_PT, false, p->seq_audio++, p->ts_audio, p->ssrc_audio, d, len,
                 a->talker ? 20 : 127);
    p->ts_audio += 960;
}

static void on_refreshed(void *user, int status, json_t *body, GBytes *raw)
{
    (void)raw;
    struct load_peer *p = user;
    const char *token = json_string_value(json_object_get(body, "token"));
    if (status == 200 && token) {
        g_free(p->token);
        p->token = g_strdup(token);
    } else if (p->state <= LOAD_PEER_CONNECTED) {
        char what[64];
        g_snprintf(what, sizeof what, "refresh: HTTP %d", status);
        load_results_error(&p->p.run->res, what);
    }
}

/* Sends every period that came due since the last tick; after a stall of the
 * loop it starts afresh instead of bursting. */
static void send_due(struct load_peer *p, int64_t now_us)
{
    const int64_t audio_us = 20000, video_us = G_USEC_PER_SEC / LOAD_FPS;
    if (!p->next_audio_us) { /* each peer at its own phase, as unsynchronised browsers */
        p->next_audio_us = now_us + g_random_int_range(0, (int32_t)audio_us);
        p->next_video_us = now_us + g_random_int_range(0, (int32_t)video_us);
    }
    if (now_us - p->next_audio_us > 10 * audio_us)
        p->next_audio_us = now_us;
    if (now_us - p->next_video_us > 3 * video_us)
        p->next_video_us = now_us;
    for (; now_us >= p->next_audio_us; p->next_audio_us += audio_us)
        send_audio(p, now_us);
    for (; now_us >= p->next_video_us; p->next_video_us += video_us)
        send_video(p, now_us);
}

void load_peer_tick(struct load_peer *p, int64_t now_us)
{
    if (p->state != LOAD_PEER_CONNECTED && p->state != LOAD_PEER_CONNECTING)
        return;
    if (p->leave_at_us && now_us >= p->leave_at_us) {
        load_peer_leave(p);
        return;
    }
    if (p->id && now_us >= p->next_refresh_us) {
        p->next_refresh_us = now_us + REFRESH_INTERVAL_US;
        char *url = api_url(p, "participants/%s/refresh", p->id);
        load_http_request(p->p.run->http, "POST", url, NULL, p->token, on_refreshed, p);
        g_free(url);
    }
    if (p->state == LOAD_PEER_CONNECTED) {
        send_due(p, now_us);
        load_peer_rx_poll(p, now_us);
    }
}

/* ---- accessors ------------------------------------------------------------------------ */

bool load_peer_connected(const struct load_peer *p)
{
    return p->state == LOAD_PEER_CONNECTED;
}

bool load_peer_done(const struct load_peer *p)
{
    return p->state == LOAD_PEER_FAILED || p->state == LOAD_PEER_LEFT;
}

bool load_peer_failed(const struct load_peer *p)
{
    return p->state == LOAD_PEER_FAILED;
}

const struct load_rx_stats *load_peer_stats(const struct load_peer *p)
{
    return &p->st;
}

bool load_peer_churn(const struct load_peer *p)
{
    return p->p.churn;
}

bool load_peer_has_video(const struct load_peer *p)
{
    return p->p.camera != NULL;
}

int load_peer_colour(const struct load_peer *p)
{
    return p->p.index % LOAD_MAX_COLOURS;
}

void load_peer_source_size(const struct load_peer *p, int *w, int *h)
{
    const struct load_rendition *r = &p->p.camera->r[p->rendition];
    *w = r->width;
    *h = r->height;
}

int64_t load_peer_sent_us(const struct load_peer *p, int index)
{
    return index >= 0 && index < LOAD_LOOP_FRAMES ? p->sent_us[index] : 0;
}

int load_peer_conference(const struct load_peer *p)
{
    return p->p.conference;
}

void load_peer_window_start(struct load_peer *p, int64_t now_us)
{
    load_peer_rx_drain(p);
    p->st.frames_at_window = p->st.frames;
    p->st.video_bytes_at_window = p->st.video_bytes;
    p->st.audio_packets_at_window = p->st.audio_packets;
    p->st.audio_gaps = 0;
    p->st.freezes = 0;
    if (p->st.last_frame_us)
        p->st.last_frame_us = MAX(p->st.last_frame_us, now_us - LOAD_FREEZE_US + 1);
}

void load_peer_window_end(struct load_peer *p, int64_t now_us)
{
    load_peer_rx_drain(p);
    if (p->p.camera && p->state == LOAD_PEER_CONNECTED &&
        (!p->st.last_frame_us || now_us - p->st.last_frame_us > LOAD_FREEZE_US))
        p->st.freezes++;
}
