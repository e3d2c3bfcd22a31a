/* The whole media path without a browser: two WebRTC clients built from our own
 * modules (ICE, DTLS-SRTP, RTP, libvpx, Opus) join one conference through the
 * conference core and the media engine, each sending a solid-colour camera and a
 * tone. Each must receive a composite that shows the other's colour, and a mix
 * that carries the other's tone and not its own (mix-minus), over real SRTP on
 * 127.0.0.1. Then one leaves and the other's composite no longer shows it. A
 * three-party room checks the personal views built from shared tiles. */
#include <tessera/conference.h>
#include <tessera/config.h>
#include <tessera/err.h>
#include <tessera/jitter_buffer.h>
#include <tessera/log.h>
#include <tessera/media_engine.h>
#include <tessera/metrics.h>
#include <tessera/net_loops.h>
#include <tessera/opus_codec.h>
#include <tessera/rtcp.h>
#include <tessera/rtp.h>
#include <tessera/rtp_codec.h>
#include <tessera/rtp_stream_out.h>
#include <tessera/sdp.h>
#include <tessera/video_decoder.h>
#include <tessera/video_encoder.h>
#include <tessera/webrtc_transport.h>

#include <gio/gio.h>
#include <glib.h>
#include <libavutil/frame.h>
#include <math.h>
#include <string.h>

#include "../common/conference_wait.h"

#define CAM_W 160
#define CAM_H 120
#define AUDIO_PT 111
#define VIDEO_PT 96
#define AUDIO_LEVEL_EXT 1

/* A client endpoint. Home: the test's main context. */
struct client {
    const char *name;
    uint8_t y, u, v; /* camera colour */
    double tone_hz;
    struct tsr_dtls_cert *cert;
    struct tsr_webrtc_transport *t;
    struct tsr_media_clock clock;
    struct tsr_rtp_stream_out *out_audio, *out_video;
    struct tsr_rtp_packetizer *pz_video, *pz_audio;
    struct tsr_video_encoder *venc;
    struct tsr_opus_encoder *aenc;
    struct tsr_opus_decoder *adec;
    struct tsr_jitter_buffer *jb;
    struct tsr_video_decoder *vdec;
    uint64_t sample_pos;
    bool connected;
    char server_addr[64]; /* the server's first candidate, from the answer */
    uint16_t server_port;
    /* what it received */
    AVFrame *last_picture;
    uint64_t pictures;
    uint64_t audio_packets;
    double goertzel_own, goertzel_other;
    double other_hz;
    uint32_t server_video_ssrc;
    uint64_t remb_bps;      /* non-zero: report this downlink estimate (REMB) */
    unsigned video_as_kbps; /* non-zero: the offer's video section says b=AS */
    uint32_t tmmbn_owner;   /* from the server's last TMMBN: owner SSRC and rate */
    uint64_t tmmbn_bps;
    bool swap_audio;    /* send each pair of audio packets in reverse order */
    uint8_t held[1500]; /* swap_audio: the first of the pair, sent after the second */
    size_t held_len;
    struct tsr_participant *participant;
    char *answer; /* the server's first answer */
};

static void client_on_state(void *user, enum tsr_webrtc_state s)
{
    struct client *c = user;
    if (s == TSR_WEBRTC_STATE_CONNECTED)
        c->connected = true;
}

/* Power of `hz` in `n` samples (Goertzel). */
static double goertzel(const int16_t *pcm, size_t n, double hz)
{
    double k = 2 * cos(2 * M_PI * hz / 48000), s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = pcm[i] + k * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return s1 * s1 + s2 * s2 - k * s1 * s2;
}

static void client_on_audio(struct client *c, const struct tsr_rtp_header *h)
{
    int16_t pcm[5760];
    int n = tsr_opus_decode(c->adec, h->payload, h->payload_bytes, pcm, G_N_ELEMENTS(pcm));
    if (n <= 0)
        return;
    c->audio_packets++;
    if (c->audio_packets > 25) { /* past the start-up fade */
        c->goertzel_own += goertzel(pcm, (size_t)n, c->tone_hz);
        c->goertzel_other += goertzel(pcm, (size_t)n, c->other_hz);
    }
}

static void client_on_video(struct client *c, const struct tsr_rtp_header *h)
{
    int64_t now = g_get_monotonic_time();
    c->server_video_ssrc = h->ssrc;
    tsr_jitter_buffer_push(c->jb, h, now);
    struct tsr_jitter_buffer_frame fr;
    while (tsr_jitter_buffer_pop_frame(c->jb, now, &fr) == 0) {
        gsize len;
        const uint8_t *d = g_bytes_get_data(fr.data, &len);
        if (tsr_video_decoder_decode(c->vdec, d, len, fr.timestamp_rtp, fr.keyframe) == 0) {
            av_frame_free(&c->last_picture);
            tsr_video_decoder_latest(c->vdec, &c->last_picture, NULL);
            c->pictures++;
        }
        g_bytes_unref(fr.data);
    }
}

static void client_on_rtp(void *user, uint8_t *data, size_t len)
{
    struct client *c = user;
    struct tsr_rtp_header h;
    if (tsr_rtp_parse(data, len, &h) != 0)
        return;
    if (h.payload_type == AUDIO_PT)
        client_on_audio(c, &h);
    else if (h.payload_type == VIDEO_PT)
        client_on_video(c, &h);
}

/* Keeps what the server's TMMBN (RFC 5104) says; the rest of its RTCP is unread. */
static void client_on_rtcp(void *user, uint8_t *data, size_t len)
{
    struct client *c = user;
    struct tsr_rtcp_item items[8];
    size_t n = 0;
    if (tsr_rtcp_parse(data, len, items, G_N_ELEMENTS(items), &n) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        unsigned overhead;
        if (items[i].kind == TSR_RTCP_KIND_TMMBN && items[i].u.tmmb.n_entries)
            tsr_rtcp_tmmb_entry(&items[i].u.tmmb, 0, &c->tmmbn_owner, &c->tmmbn_bps, &overhead);
    }
}

static void client_init(struct client *c, GMainContext *ctx)
{
    static const struct tsr_webrtc_callbacks cbs = {
        .on_rtp = client_on_rtp, .on_rtcp = client_on_rtcp, .on_state = client_on_state};
    g_assert_cmpint(tsr_dtls_cert_generate(&c->cert), ==, 0);
    struct tsr_webrtc_config wc = {.cert = c->cert, .ice_controlling = true};
    g_assert_cmpint(tsr_webrtc_transport_new(&c->t, ctx, &wc, &cbs, c), ==, 0);
    tsr_media_clock_init(&c->clock, g_get_monotonic_time(), g_get_real_time());
    struct tsr_rtp_stream_out_config ac = {.ssrc = 0x1000 + c->y,
                                           .payload_type = AUDIO_PT,
                                           .clock_rate = 48000,
                                           .ext_audio_level_id = AUDIO_LEVEL_EXT};
    struct tsr_rtp_stream_out_config vc = {
        .ssrc = 0x2000 + c->y, .payload_type = VIDEO_PT, .clock_rate = 90000};
    g_assert_cmpint(tsr_rtp_stream_out_new(&c->out_audio, &ac, &c->clock), ==, 0);
    g_assert_cmpint(tsr_rtp_stream_out_new(&c->out_video, &vc, &c->clock), ==, 0);
    g_assert_cmpint(tsr_rtp_packetizer_new(&c->pz_video, &tsr_rtp_codec_vp8), ==, 0);
    g_assert_cmpint(tsr_rtp_packetizer_new(&c->pz_audio, &tsr_rtp_codec_opus), ==, 0);
    struct tsr_video_encoder_params vp = {.codec = TSR_VIDEO_CODEC_VP8,
                                          .width = CAM_W,
                                          .height = CAM_H,
                                          .fps = 15,
                                          .bitrate_bps = 200000,
                                          .backend = TSR_ENCODER_BACKEND_SOFTWARE};
    g_assert_cmpint(tsr_video_encoder_new(&c->venc, &vp), ==, 0);
    struct tsr_opus_encoder_params op = {
        .bitrate_bps = 32000, .channels = 1, .complexity = 5, .voice = true};
    g_assert_cmpint(tsr_opus_encoder_new(&c->aenc, &op), ==, 0);
    g_assert_cmpint(tsr_opus_decoder_new(&c->adec), ==, 0);
    g_assert_cmpint(tsr_jitter_buffer_new(&c->jb, &tsr_rtp_codec_vp8, NULL), ==, 0);
    struct tsr_video_decoder_params dp = {.codec = TSR_VIDEO_CODEC_VP8};
    g_assert_cmpint(tsr_video_decoder_new(&c->vdec, &dp), ==, 0);
}

static void client_fini(struct client *c)
{
    tsr_webrtc_transport_free(&c->t);
    tsr_rtp_stream_out_free(&c->out_audio);
    tsr_rtp_stream_out_free(&c->out_video);
    tsr_rtp_packetizer_free(&c->pz_video);
    tsr_rtp_packetizer_free(&c->pz_audio);
    tsr_video_encoder_free(&c->venc);
    tsr_opus_encoder_free(&c->aenc);
    tsr_opus_decoder_free(&c->adec);
    tsr_jitter_buffer_free(&c->jb);
    tsr_video_decoder_free(&c->vdec);
    av_frame_free(&c->last_picture);
    tsr_dtls_cert_unref(&c->cert);
    g_free(c->answer);
    c->answer = NULL;
}

/* The offer a browser would send: BUNDLE, rtcp-mux, Opus with audio levels, VP8. */
static char *client_offer(struct client *c)
{
    struct tsr_sdp_local l;
    memset(&l, 0, sizeof l);
    g_assert_cmpint(tsr_webrtc_transport_local(c->t, &l), ==, 0);
    GString *cands = g_string_new(NULL);
    for (size_t i = 0; i < l.n_candidates; i++)
        g_string_append_printf(cands, "a=%s\r\n", l.candidates[i]);
    char *transport = g_strdup_printf("a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n"
                                      "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\n"
                                      "a=rtcp-mux\r\n%s",
                                      l.ice_ufrag, l.ice_pwd, l.fingerprint_sha256, cands->str);
    char bw[32] = "";
    if (c->video_as_kbps)
        g_snprintf(bw, sizeof bw, "b=AS:%u\r\n", c->video_as_kbps);
    char *offer = g_strdup_printf(
        "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
        "a=group:BUNDLE 0 1\r\na=msid-semantic: WMS cam\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\n%s"
        "a=mid:0\r\na=extmap:%d urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
        "a=sendrecv\r\na=msid:cam mic\r\na=rtpmap:%d opus/48000/2\r\n"
        "a=fmtp:%d minptime=10;useinbandfec=1\r\na=ssrc:%u cname:%s\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\n%s%s"
        "a=mid:1\r\na=sendrecv\r\na=msid:cam camera\r\na=rtpmap:%d VP8/90000\r\n"
        "a=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\na=rtcp-fb:%d ccm fir\r\n"
        "a=rtcp-fb:%d goog-remb\r\na=ssrc:%u cname:%s\r\n",
        AUDIO_PT, transport, AUDIO_LEVEL_EXT, AUDIO_PT, AUDIO_PT,
        tsr_rtp_stream_out_ssrc(c->out_audio), c->name, VIDEO_PT, bw, transport, VIDEO_PT, VIDEO_PT,
        VIDEO_PT, VIDEO_PT, VIDEO_PT, tsr_rtp_stream_out_ssrc(c->out_video), c->name);
    g_string_free(cands, TRUE);
    g_free(transport);
    return offer;
}

/* Reads the server's ICE credentials, fingerprint and candidates from its answer. */
static void client_apply_answer(struct client *c, const char *answer)
{
    struct tsr_sdp *sdp = NULL;
    g_assert_cmpint(tsr_sdp_parse(answer, strlen(answer), &sdp, NULL), ==, 0);
    g_assert_cmpuint(sdp->n_media, ==, 2);
    const struct tsr_sdp_media *m = &sdp->media[0];
    g_assert_cmpuint(m->port, !=, 0);
    g_assert_cmpstr(tsr_sdp_media_attr(sdp, m, "setup"), ==, "passive");
    struct tsr_sdp_fingerprint fp;
    g_assert_cmpint(tsr_sdp_parse_fingerprint(tsr_sdp_media_attr(sdp, m, "fingerprint"), &fp), ==,
                    0);
    GPtrArray *cands = g_ptr_array_new();
    for (size_t i = 0; i < m->n_attrs; i++)
        if (strcmp(m->attrs[i].name, "candidate") == 0)
            g_ptr_array_add(cands, g_strdup_printf("candidate:%s", m->attrs[i].value));
    g_assert_cmpuint(cands->len, >, 0);
    struct tsr_sdp_candidate sc;
    g_assert_cmpint(tsr_sdp_parse_candidate(g_ptr_array_index(cands, 0), &sc), ==, 0);
    g_strlcpy(c->server_addr, sc.address, sizeof c->server_addr);
    c->server_port = sc.port;
    struct tsr_webrtc_remote r = {.ice_ufrag = tsr_sdp_media_attr(sdp, m, "ice-ufrag"),
                                  .ice_pwd = tsr_sdp_media_attr(sdp, m, "ice-pwd"),
                                  .fingerprint = &fp,
                                  .local_role = TSR_DTLS_ROLE_CLIENT,
                                  .candidates = (const char *const *)cands->pdata,
                                  .n_candidates = cands->len};
    g_assert_cmpint(tsr_webrtc_transport_set_remote(c->t, &r), ==, 0);
    g_ptr_array_set_free_func(cands, g_free);
    g_ptr_array_unref(cands);
    tsr_sdp_free(&sdp);
}

static void send_packetized(struct client *c, struct tsr_rtp_stream_out *out,
                            struct tsr_rtp_packetized *pk, int level)
{
    struct tsr_rtp_send_opts opts = {.now_us = g_get_monotonic_time(),
                                     .transport_cc_seq = -1,
                                     .audio_level_dbov = level,
                                     .voice_activity = level >= 0};
    uint8_t buf[1500];
    for (size_t i = 0; i < tsr_rtp_packetized_count(pk); i++) {
        size_t len = 0;
        if (tsr_rtp_stream_out_write(out, pk, i, &opts, buf, sizeof buf, &len) == 0)
            tsr_webrtc_transport_send_rtp(c->t, buf, len);
    }
}

struct vsend {
    struct client *c;
    int64_t capture_us;
};

static void on_cam_packet(void *user, const AVPacket *pkt)
{
    struct vsend *vs = user;
    struct tsr_rtp_packetized *pk = NULL;
    if (tsr_rtp_packetizer_run(vs->c->pz_video, pkt->data, (size_t)pkt->size, 0, vs->capture_us,
                               (pkt->flags & AV_PKT_FLAG_KEY) != 0, &pk) == 0) {
        send_packetized(vs->c, vs->c->out_video, pk, -1);
        tsr_rtp_packetized_unref(&pk);
    }
}

static void send_camera_frame(struct client *c, int64_t now)
{
    AVFrame *f = av_frame_alloc();
    f->format = AV_PIX_FMT_YUV420P;
    f->width = CAM_W;
    f->height = CAM_H;
    g_assert_cmpint(av_frame_get_buffer(f, 0), ==, 0);
    memset(f->data[0], c->y, (size_t)f->linesize[0] * CAM_H);
    memset(f->data[1], c->u, (size_t)f->linesize[1] * CAM_H / 2);
    memset(f->data[2], c->v, (size_t)f->linesize[2] * CAM_H / 2);
    /* Noise in the top quarter keeps the composite's bitrate real (a flat picture
     * encodes to a few kb/s); the centre stays the solid colour the checks read. */
    for (int y = 0; y < CAM_H / 4; y++)
        for (int x = 0; x < CAM_W; x++)
            f->data[0][y * f->linesize[0] + x] = (uint8_t)g_random_int_range(16, 235);
    f->pts = now * 9 / 100;
    struct vsend vs = {c, now};
    tsr_video_encoder_encode(c->venc, f, on_cam_packet, &vs);
    av_frame_free(&f);
}

static void send_audio_frame(struct client *c, int64_t now)
{
    int16_t pcm[960];
    for (int i = 0; i < 960; i++, c->sample_pos++)
        pcm[i] = (int16_t)(8000 * sin(2 * M_PI * c->tone_hz * (double)c->sample_pos / 48000));
    uint8_t opus[1500];
    int n = tsr_opus_encode(c->aenc, pcm, 960, opus, sizeof opus);
    struct tsr_rtp_packetized *pk = NULL;
    if (n <= 0 || tsr_rtp_packetizer_run(c->pz_audio, opus, (size_t)n, 0, now, false, &pk) != 0)
        return;
    if (!c->swap_audio && !c->held_len) {
        send_packetized(c, c->out_audio, pk, 20); /* -20 dBov, talking */
        tsr_rtp_packetized_unref(&pk);
        return;
    }
    struct tsr_rtp_send_opts opts = {
        .now_us = now, .transport_cc_seq = -1, .audio_level_dbov = 20, .voice_activity = true};
    uint8_t buf[1500];
    size_t len = 0;
    if (tsr_rtp_stream_out_write(c->out_audio, pk, 0, &opts, buf, sizeof buf, &len) == 0) {
        if (!c->held_len) { /* the first of a pair waits for the second */
            memcpy(c->held, buf, len);
            c->held_len = len;
        } else {
            tsr_webrtc_transport_send_rtp(c->t, buf, len);
            tsr_webrtc_transport_send_rtp(c->t, c->held, c->held_len);
            c->held_len = 0;
        }
    }
    tsr_rtp_packetized_unref(&pk);
}

static struct client clients[3]; /* the third only in the three-party test */

static gboolean tick_audio(gpointer data)
{
    (void)data;
    int64_t now = g_get_monotonic_time();
    for (size_t i = 0; i < G_N_ELEMENTS(clients); i++)
        if (clients[i].connected && clients[i].t)
            send_audio_frame(&clients[i], now);
    return G_SOURCE_CONTINUE;
}

static void send_remb(struct client *c)
{
    uint8_t buf[64];
    struct tsr_rtcp_writer w;
    tsr_rtcp_writer_init(&w, buf, sizeof buf);
    g_assert_cmpint(tsr_rtcp_write_remb(&w, tsr_rtp_stream_out_ssrc(c->out_video), c->remb_bps,
                                        &c->server_video_ssrc, 1),
                    ==, 0);
    tsr_webrtc_transport_send_rtcp(c->t, buf, w.len);
}

static gboolean tick_video(gpointer data)
{
    (void)data;
    int64_t now = g_get_monotonic_time();
    for (size_t i = 0; i < G_N_ELEMENTS(clients); i++) {
        if (!clients[i].connected || !clients[i].t)
            continue;
        send_camera_frame(&clients[i], now);
        if (clients[i].remb_bps && clients[i].server_video_ssrc)
            send_remb(&clients[i]);
    }
    return G_SOURCE_CONTINUE;
}

static double metric(const char *series);

static bool tier_switched(void)
{
    return metric("tessera_bitrate_tier_switches_total") >= 1;
}

typedef bool (*cond_fn)(void);

/* Runs the main context until cond() holds; false after timeout_s. */
static bool run_until(cond_fn cond, int timeout_s)
{
    int64_t end = g_get_monotonic_time() + (int64_t)timeout_s * 1000000;
    while (!cond() && g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    return cond();
}

static bool near(int a, int b, int tol)
{
    return a - b <= tol && b - a <= tol;
}

/* The point (x, y), in fractions of the picture, of what c last decoded shows o's
 * camera colour. */
static bool point_is(const struct client *c, double fx, double fy, const struct client *o)
{
    const AVFrame *f = c->last_picture;
    if (!f)
        return false;
    int x = (int)(f->width * fx) & ~1, y = (int)(f->height * fy) & ~1;
    return near(f->data[0][y * f->linesize[0] + x], o->y, 14) &&
           near(f->data[1][y / 2 * f->linesize[1] + x / 2], o->u, 14) &&
           near(f->data[2][y / 2 * f->linesize[2] + x / 2], o->v, 14);
}

/* The centre of what c last decoded has colour (y,u,v). */
static bool centre_is(const struct client *c, uint8_t y, uint8_t u, uint8_t v)
{
    const struct client colour = {.y = y, .u = u, .v = v};
    return point_is(c, 0.5, 0.5, &colour);
}

static bool both_connected(void)
{
    return clients[0].connected && clients[1].connected;
}

static bool each_sees_the_other(void)
{
    return centre_is(&clients[0], clients[1].y, clients[1].u, clients[1].v) &&
           centre_is(&clients[1], clients[0].y, clients[0].u, clients[0].v) &&
           clients[0].audio_packets > 100 && clients[1].audio_packets > 100;
}

static bool a_alone(void)
{
    return clients[0].last_picture &&
           !centre_is(&clients[0], clients[1].y, clients[1].u, clients[1].v) &&
           clients[0].pictures > 0;
}

static void join(struct tsr_conference_registry *reg, struct client *c)
{
    char *offer = client_offer(c);
    struct tsr_conference_join_request req = {
        .alias = "media-test", .display_name = c->name, .offer_sdp = offer};
    char *answer = NULL, *err = NULL;
    enum tsr_conference_refusal refusal = TSR_CONFERENCE_REFUSAL_NONE;
    int rc = test_join(reg, &req, &c->participant, &answer, &refusal, &err);
    if (rc)
        g_error("join %s refused: %s (%s)", c->name, tsr_conference_refusal_code(refusal), err);
    client_apply_answer(c, answer);
    g_free(c->answer);
    c->answer = answer;
    g_free(offer);
}

/* The value of the first line of `sdp` starting with `prefix` (newly allocated). */
static char *sdp_line(const char *sdp, const char *prefix)
{
    const char *at = strstr(sdp, prefix);
    g_assert_nonnull(at);
    at += strlen(prefix);
    return g_strndup(at, strcspn(at, "\r\n"));
}

/* Our side of the answer must not move under a running call. */
static void assert_same_transport(const char *a, const char *b)
{
    static const char *const keys[] = {
        "a=ice-ufrag:", "a=ice-pwd:", "a=fingerprint:", "a=ssrc:", "a=candidate:", NULL};
    for (size_t i = 0; keys[i]; i++) {
        char *va = sdp_line(a, keys[i]), *vb = sdp_line(b, keys[i]);
        g_assert_cmpstr(va, ==, vb);
        g_free(va);
        g_free(vb);
    }
    /* the second m-line's SSRC too */
    const char *va = strstr(strstr(a, "m=video"), "a=ssrc:"),
               *vb = strstr(strstr(b, "m=video"), "a=ssrc:");
    g_assert_cmpint(strcspn(va, " "), ==, strcspn(vb, " "));
    g_assert_cmpint(strncmp(va, vb, strcspn(va, " ")), ==, 0);
}

static char *replace_line(const char *sdp, const char *prefix, const char *value)
{
    char *old = sdp_line(sdp, prefix);
    char *from = g_strconcat(prefix, old, NULL), *to = g_strconcat(prefix, value, NULL);
    gchar **parts = g_strsplit(sdp, from, -1);
    char *out = g_strjoinv(to, parts);
    g_strfreev(parts);
    g_free(old), g_free(from), g_free(to);
    return out;
}

static uint64_t pictures_before;
static bool alice_still_sees_bob(void)
{
    return clients[0].pictures >= pictures_before + 15 &&
           centre_is(&clients[0], clients[1].y, clients[1].u, clients[1].v);
}

/* Renegotiation on the running call: the same offer again, an ICE restart (new
 * ufrag/pwd), and a changed fingerprint (refused). Our answers keep the transport
 * (credentials, fingerprint, SSRCs, candidates) and count o= versions; the media
 * keeps flowing through all three. */
static void renegotiate(struct client *c)
{
    char *offer = client_offer(c), *answer = NULL, *err = NULL;
    g_assert_cmpint(test_renegotiate(c->participant, offer, &answer, &err), ==, 0);
    assert_same_transport(c->answer, answer);
    g_assert_nonnull(strstr(answer, " 3 IN IP4"));
    g_free(answer);
    char *restart = replace_line(offer, "a=ice-ufrag:", "rstrt");
    char *restart2 = replace_line(restart, "a=ice-pwd:", "restartrestartrestart0001");
    g_assert_cmpint(test_renegotiate(c->participant, restart2, &answer, &err), ==, 0);
    assert_same_transport(c->answer, answer);
    g_assert_nonnull(strstr(answer, " 4 IN IP4"));
    g_free(answer);
    answer = NULL;
    char *other_fp = replace_line(offer, "a=fingerprint:sha-256 ",
                                  "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                                  "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF");
    g_assert_cmpint(test_renegotiate(c->participant, other_fp, &answer, &err), ==,
                    TSR_ERR_UNSUPPORTED);
    g_assert_null(answer);
    g_assert_nonnull(strstr(err, "fingerprint"));
    g_free(err);
    g_free(other_fp), g_free(restart2), g_free(restart), g_free(offer);
    pictures_before = clients[0].pictures;
    g_assert_true(run_until(alice_still_sees_bob, 20));
}

/* The server side of a test: a media engine and a registry wired to it. */
struct server {
    struct tsr_media_engine *engine;
    struct tsr_conference_registry *reg;
};

static void server_start(struct server *s, const char *conf)
{
    struct tsr_config cfg;
    tsr_config_defaults(&cfg);
    char *err = NULL;
    if (tsr_config_apply_text(&cfg, conf, strlen(conf), "test", &err) != 0)
        g_error("%s", err);
    g_assert_cmpint(tsr_media_engine_new(&s->engine, &cfg), ==, 0);
    struct tsr_conference_registry_opts opts;
    tsr_conference_registry_opts_from_config(&opts, &cfg);
    opts.media = tsr_media_engine_ops();
    opts.media_user = s->engine;
    g_assert_cmpint(tsr_conference_registry_new(&s->reg, &opts), ==, 0);
    tsr_media_engine_set_registry(s->engine, s->reg);
}

static void server_stop(struct server *s)
{
    tsr_conference_registry_free(&s->reg);
    tsr_media_engine_free(&s->engine);
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

static const char two_client_conf[] =
    "[mixer]\ncanvas_width = 320\ncanvas_height = 180\nfps = 15\nnet_threads = 2\n";

/* Alice and Bob join and see and hear each other; bob's offer says b=AS:bob_as_kbps
 * on video when that is not 0. */
static void start_two_clients_as(struct server *srv, unsigned bob_as_kbps)
{
    clients[0] = (struct client){
        .name = "alice", .y = 81, .u = 90, .v = 240, .tone_hz = 440, .other_hz = 1000};
    clients[1] = (struct client){.name = "bob",
                                 .y = 41,
                                 .u = 240,
                                 .v = 110,
                                 .tone_hz = 1000,
                                 .other_hz = 440,
                                 .video_as_kbps = bob_as_kbps};
    for (int i = 0; i < 2; i++) {
        client_init(&clients[i], g_main_context_default());
        join(srv->reg, &clients[i]);
    }
    g_assert_true(run_until(both_connected, 30));
    if (!run_until(each_sees_the_other, 60))
        g_error("composites/mixes not as expected: alice %" G_GUINT64_FORMAT
                " pictures %" G_GUINT64_FORMAT " audio; bob %" G_GUINT64_FORMAT
                " pictures %" G_GUINT64_FORMAT " audio",
                clients[0].pictures, clients[0].audio_packets, clients[1].pictures,
                clients[1].audio_packets);
}

static void start_two_clients(struct server *srv)
{
    start_two_clients_as(srv, 0);
}

static uint64_t pictures_target;
static bool both_keep_receiving(void);

/* Three parties, grid: each receives its own view, the other two side by side. */
static bool each_sees_the_others(void)
{
    for (int i = 0; i < 3; i++) {
        const struct client *a = &clients[(i + 1) % 3], *b = &clients[(i + 2) % 3];
        const struct client *c = &clients[i];
        if (!((point_is(c, 0.25, 0.5, a) && point_is(c, 0.75, 0.5, b)) ||
              (point_is(c, 0.25, 0.5, b) && point_is(c, 0.75, 0.5, a))))
            return false;
    }
    return true;
}

/* Each party's tile is in the other two views at one size: it is scaled once per
 * new picture (a shared tile) and copied into both, and every view still shows the
 * right two cameras and never its viewer's own. */
static void test_three_clients_share_tiles(void)
{
    struct server srv = {0};
    server_start(&srv, two_client_conf);
    guint ta = g_timeout_add(20, tick_audio, NULL), tv = g_timeout_add(66, tick_video, NULL);
    double shared_before = metric("tessera_shared_tiles_scaled_total");
    clients[0] = (struct client){.name = "alice", .y = 81, .u = 90, .v = 240, .tone_hz = 440};
    clients[1] = (struct client){.name = "bob", .y = 41, .u = 240, .v = 110, .tone_hz = 1000};
    clients[2] = (struct client){.name = "carol", .y = 170, .u = 60, .v = 60, .tone_hz = 700};
    for (int i = 0; i < 3; i++) {
        client_init(&clients[i], g_main_context_default());
        join(srv.reg, &clients[i]);
    }
    if (!run_until(each_sees_the_others, 60))
        g_error("three-party composites not as expected (%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                ", %" G_GUINT64_FORMAT " pictures)",
                clients[0].pictures, clients[1].pictures, clients[2].pictures);
    pictures_target = clients[0].pictures + 15;
    g_assert_true(run_until(both_keep_receiving, 30));
    g_assert_true(each_sees_the_others());
    /* 15 new composites: at least one new camera picture each, scaled once each */
    g_assert_cmpfloat(metric("tessera_shared_tiles_scaled_total"), >, shared_before + 10);
    g_source_remove(ta);
    g_source_remove(tv);
    server_stop(&srv);
    for (int i = 0; i < 3; i++)
        client_fini(&clients[i]);
    memset(&clients[2], 0, sizeof clients[2]);
}

/* The same room composed by the Vulkan backend (lavapipe here): every view shows the
 * right cameras, and GPU views leave the shared tiles alone (the GPU scales each). */
static void test_three_clients_on_the_gpu(void)
{
    static const char conf[] = "[media]\ncompositor = vulkan\n"
                               "[mixer]\ncanvas_width = 320\ncanvas_height = 180\nfps = 15\n"
                               "net_threads = 2\n";
    struct server srv = {0};
    server_start(&srv, conf);
    guint ta = g_timeout_add(20, tick_audio, NULL), tv = g_timeout_add(66, tick_video, NULL);
    double shared_before = metric("tessera_shared_tiles_scaled_total");
    clients[0] = (struct client){.name = "alice", .y = 81, .u = 90, .v = 240, .tone_hz = 440};
    clients[1] = (struct client){.name = "bob", .y = 41, .u = 240, .v = 110, .tone_hz = 1000};
    clients[2] = (struct client){.name = "carol", .y = 170, .u = 60, .v = 60, .tone_hz = 700};
    for (int i = 0; i < 3; i++) {
        client_init(&clients[i], g_main_context_default());
        join(srv.reg, &clients[i]);
    }
    if (!run_until(each_sees_the_others, 90))
        g_error("GPU composites not as expected (%" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                ", %" G_GUINT64_FORMAT " pictures)",
                clients[0].pictures, clients[1].pictures, clients[2].pictures);
    g_assert_cmpfloat(metric("tessera_compositors{backend=\"vulkan\"}"), >=, 3);
    pictures_target = clients[0].pictures + 10;
    g_assert_true(run_until(both_keep_receiving, 30));
    g_assert_true(each_sees_the_others());
    g_assert_cmpfloat(metric("tessera_shared_tiles_scaled_total"), ==, shared_before);
    g_source_remove(ta);
    g_source_remove(tv);
    server_stop(&srv);
    for (int i = 0; i < 3; i++)
        client_fini(&clients[i]);
    memset(&clients[2], 0, sizeof clients[2]);
}

static uint64_t audio_target;
static bool bob_heard_enough(void)
{
    return clients[1].audio_packets >= audio_target;
}

static void test_two_clients(void)
{
    struct server srv = {0};
    server_start(&srv, two_client_conf);
    struct tsr_conference_registry *reg = srv.reg;
    guint ta = g_timeout_add(20, tick_audio, NULL), tv = g_timeout_add(66, tick_video, NULL);
    start_two_clients(&srv);
    /* mix-minus: each hears the other's tone, not its own (≥ 20 dB apart) */
    for (int i = 0; i < 2; i++) {
        g_test_message("%s: other %.3g own %.3g", clients[i].name, clients[i].goertzel_other,
                       clients[i].goertzel_own);
        g_assert_cmpfloat(clients[i].goertzel_other, >, 100 * clients[i].goertzel_own);
    }
    /* alice's network reorders her audio (every pair swapped): her packets reach the
     * mixer in order through her audio buffer, none is dropped as late, and bob
     * still hears her tone and not his own */
    double late_before = metric("tessera_audio_packets_late_total");
    clients[0].swap_audio = true;
    clients[1].goertzel_own = clients[1].goertzel_other = 0;
    uint64_t heard = clients[1].audio_packets;
    audio_target = heard + 100;
    g_assert_true(run_until(bob_heard_enough, 30));
    clients[0].swap_audio = false;
    g_test_message("reordered: late %.0f, bob other %.3g own %.3g",
                   metric("tessera_audio_packets_late_total") - late_before,
                   clients[1].goertzel_other, clients[1].goertzel_own);
    g_assert_cmpfloat(metric("tessera_audio_packets_late_total"), ==, late_before);
    g_assert_cmpfloat(clients[1].goertzel_other, >, 100 * clients[1].goertzel_own);
    renegotiate(&clients[0]);
    /* bob's browser reports a weak downlink: after the grace and hold times he moves
     * to the low bitrate tier (another encoder of the same view) and still sees alice */
    clients[1].remb_bps = 200000;
    g_assert_true(run_until(tier_switched, 90)); /* generous: 35 s seen on a loaded machine */
    clients[1].remb_bps = 0;
    pictures_target = clients[1].pictures + 10;
    g_assert_true(run_until(both_keep_receiving, 30));
    g_assert_true(centre_is(&clients[1], clients[0].y, clients[0].u, clients[0].v));
    /* bob leaves: alice's composite no longer shows him */
    tsr_participant_leave(clients[1].participant, TSR_LEAVE_REQUESTED);
    clients[1].participant = NULL;
    tsr_webrtc_transport_close(clients[1].t);
    clients[1].connected = false;
    g_assert_true(run_until(a_alone, 30));
    g_assert_cmpuint(tsr_conference_registry_n_participants(reg), ==, 1);

    g_source_remove(ta);
    g_source_remove(tv);
    server_stop(&srv);
    for (int i = 0; i < 2; i++)
        client_fini(&clients[i]);
}

/* Value of one series in /metrics (0 when absent). */
static double metric(const char *series)
{
    char *text = tsr_metrics_render();
    char *needle = g_strdup_printf("\n%s ", series);
    char *at = strstr(text, needle);
    double v = at ? g_ascii_strtod(at + strlen(needle), NULL) : 0;
    g_free(needle);
    g_free(text);
    return v;
}

static bool both_keep_receiving(void)
{
    return clients[0].pictures >= pictures_target && clients[1].pictures >= pictures_target;
}

static size_t expected_participants;
static struct tsr_conference_registry *watched_reg;
static bool participants_back(void)
{
    return tsr_conference_registry_n_participants(watched_reg) == expected_participants;
}

static int join_text(struct tsr_conference_registry *reg, const char *offer,
                     enum tsr_conference_refusal *refusal)
{
    struct tsr_conference_join_request req = {
        .alias = "media-test", .display_name = "bad", .offer_sdp = offer};
    struct tsr_participant *p = NULL;
    char *answer = NULL, *err = NULL;
    int rc = test_join(reg, &req, &p, &answer, refusal, &err);
    g_test_message("join refused: %s: %s", tsr_conference_refusal_code(*refusal), err);
    g_free(answer);
    g_free(err);
    return rc;
}

static char *strip_lines(const char *text, const char *prefix)
{
    gchar **lines = g_strsplit(text, "\r\n", -1);
    GString *out = g_string_new(NULL);
    for (int i = 0; lines[i]; i++)
        if (*lines[i] && !g_str_has_prefix(lines[i], prefix))
            g_string_append_printf(out, "%s\r\n", lines[i]);
    g_strfreev(lines);
    return g_string_free(out, FALSE);
}

static void send_garbage(const struct client *c, int n)
{
    GSocket *sock =
        g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, NULL);
    GInetAddress *ia = g_inet_address_new_from_string(c->server_addr);
    g_assert_nonnull(ia);
    GSocketAddress *to = g_inet_socket_address_new(ia, c->server_port);
    for (int i = 0; i < n; i++) {
        uint8_t junk[64];
        for (size_t k = 0; k < sizeof junk; k++)
            junk[k] = (uint8_t)g_random_int();
        junk[0] = (uint8_t)(64 + i % 64); /* neither STUN, DTLS nor RTP (RFC 7983) */
        g_socket_send_to(sock, to, (const char *)junk, sizeof junk, NULL, NULL);
    }
    g_object_unref(to);
    g_object_unref(ia);
    g_object_unref(sock);
}

/* RTP the server cannot use: an unnegotiated payload type, and VP8 payloads whose
 * descriptor promises bytes that are not there. */
static void send_bad_rtp(struct client *c, int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t buf[64];
        size_t hlen = 0;
        for (int kind = 0; kind < 2; kind++) {
            struct tsr_rtp_header h = {.version = 2,
                                       .payload_type = kind ? VIDEO_PT : 77,
                                       .seq = (uint16_t)(40000 + i * 2 + kind),
                                       .timestamp_rtp = 1234,
                                       .ssrc = tsr_rtp_stream_out_ssrc(c->out_video)};
            g_assert_cmpint(tsr_rtp_write_header(&h, buf, sizeof buf, &hlen), ==, 0);
            buf[hlen] = 0x80; /* VP8: X bit set, but the extension byte is missing */
            tsr_webrtc_transport_send_rtp(c->t, buf, hlen + 1);
        }
    }
}

/* A client whose offer names another certificate's fingerprint. */
static void join_with_wrong_fingerprint(struct tsr_conference_registry *reg, struct client *c)
{
    struct tsr_dtls_cert *other = NULL;
    g_assert_cmpint(tsr_dtls_cert_generate(&other), ==, 0);
    char *offer = client_offer(c);
    char *stripped = strip_lines(offer, "a=fingerprint:");
    GString *forged = g_string_new(NULL);
    gchar **parts = g_strsplit(stripped, "a=setup:actpass\r\n", -1);
    for (int i = 0; parts[i]; i++) {
        g_string_append(forged, parts[i]);
        if (parts[i + 1])
            g_string_append_printf(forged, "a=fingerprint:sha-256 %s\r\na=setup:actpass\r\n",
                                   tsr_dtls_cert_fingerprint(other));
    }
    struct tsr_conference_join_request req = {
        .alias = "media-test", .display_name = c->name, .offer_sdp = forged->str};
    char *answer = NULL, *err = NULL;
    enum tsr_conference_refusal refusal;
    g_assert_cmpint(test_join(reg, &req, &c->participant, &answer, &refusal, &err), ==, 0);
    client_apply_answer(c, answer);
    g_free(answer);
    g_strfreev(parts);
    g_string_free(forged, TRUE);
    g_free(stripped);
    g_free(offer);
    tsr_dtls_cert_unref(&other);
}

/* Malformed SDP, an offer without fingerprint, garbage UDP on a media port and a
 * fingerprint mismatch: each is refused or dropped and counted, and the two
 * connected participants keep receiving their composites throughout. */
static double switches_target;

static bool switches_reached(void)
{
    return metric("tessera_bitrate_tier_switches_total") >= switches_target;
}

/* The server's log while a test watches it (tsr_log_set_sink). */
static GMutex log_lock;
static GString *log_seen;

static void log_capture(enum tsr_log_level level, const char *line, void *user)
{
    (void)level;
    (void)user;
    g_mutex_lock(&log_lock);
    g_string_append_printf(log_seen, "%s\n", line);
    g_mutex_unlock(&log_lock);
}

static const char *log_wanted[2];

/* Whether one line of the log has both log_wanted strings. */
static bool log_has_wanted(void)
{
    g_mutex_lock(&log_lock);
    bool found = false;
    for (const char *at = log_seen->str; at && *at && !found;) {
        const char *end = strchr(at, '\n');
        char *line = g_strndup(at, end ? (size_t)(end - at) : strlen(at));
        found = strstr(line, log_wanted[0]) && strstr(line, log_wanted[1]);
        g_free(line);
        at = end ? end + 1 : NULL;
    }
    g_mutex_unlock(&log_lock);
    return found;
}

static bool log_says(const char *a, const char *b)
{
    log_wanted[0] = a;
    log_wanted[1] = b;
    return run_until(log_has_wanted, 10);
}

static bool alice_got_tmmbn(void)
{
    return clients[0].tmmbn_owner == tsr_rtp_stream_out_ssrc(clients[0].out_video) &&
           switches_reached();
}

/* Limits a receiver signals cap what it is sent the way a REMB does. Bob's offer
 * says b=AS:300 on video and he never sends a REMB: the line alone moves him to
 * an encoder at the 256 kb/s rate step, and he still sees alice. Alice then sends
 * an RTCP TMMBR (RFC 5104) of 200 kb/s for our video: it is acknowledged with a
 * TMMBN naming her as the owner of the limit, and she moves to the 192 kb/s step. */
static void test_bandwidth_limits(void)
{
    struct server srv = {0};
    log_seen = g_string_new(NULL);
    enum tsr_log_level level = tsr_log_get_level();
    tsr_log_set_sink(log_capture, NULL);
    tsr_log_set_level(TSR_LOG_INFO);
    server_start(&srv, two_client_conf);
    guint ta = g_timeout_add(20, tick_audio, NULL), tv = g_timeout_add(66, tick_video, NULL);
    double before = metric("tessera_bitrate_tier_switches_total");
    start_two_clients_as(&srv, 300);
    g_assert_true(strstr(clients[1].answer, "b=AS") == NULL); /* WebRTC answers stay as they were */
    switches_target = before + 1;
    g_assert_true(run_until(switches_reached, 30));
    pictures_target = clients[1].pictures + 10;
    g_assert_true(run_until(both_keep_receiving, 30));
    g_assert_true(centre_is(&clients[1], clients[0].y, clients[0].u, clients[0].v));
    g_assert_true(log_says("signalled limit 300 kb/s", "its encoder now at 256 kb/s"));

    uint8_t buf[64];
    struct tsr_rtcp_writer w;
    tsr_rtcp_writer_init(&w, buf, sizeof buf);
    struct tsr_rtcp_tmmb_fci fci = {
        .ssrc = clients[0].server_video_ssrc, .bitrate_bps = 200000, .overhead = 40};
    g_assert_cmpint(
        tsr_rtcp_write_tmmb(&w, 3, tsr_rtp_stream_out_ssrc(clients[0].out_video), &fci, 1), ==, 0);
    double tmmbr_before = metric("tessera_rtcp_tmmbr_received_total");
    tsr_webrtc_transport_send_rtcp(clients[0].t, buf, w.len);
    switches_target = before + 2;
    g_assert_true(run_until(alice_got_tmmbn, 30));
    g_assert_cmpuint(clients[0].tmmbn_bps, ==, 200000);
    g_assert_cmpfloat(metric("tessera_rtcp_tmmbr_received_total"), ==, tmmbr_before + 1);
    pictures_target = clients[0].pictures + 10;
    g_assert_true(run_until(both_keep_receiving, 30));
    g_assert_true(log_says("signalled limit 200 kb/s", "its encoder now at 192 kb/s"));

    g_source_remove(ta);
    g_source_remove(tv);
    server_stop(&srv);
    tsr_log_set_sink(NULL, NULL);
    tsr_log_set_level(level);
    g_string_free(log_seen, TRUE);
    for (int i = 0; i < 2; i++)
        client_fini(&clients[i]);
}

static void test_bad_input(void)
{
    struct server srv = {0};
    server_start(&srv, two_client_conf);
    guint ta = g_timeout_add(20, tick_audio, NULL), tv = g_timeout_add(66, tick_video, NULL);
    start_two_clients(&srv);
    enum tsr_conference_refusal refusal;
    g_assert_cmpint(join_text(srv.reg, "v=0\r\nthis is not SDP\r\n", &refusal), !=, 0);
    g_assert_cmpint(refusal, ==, TSR_CONFERENCE_REFUSAL_BAD_SDP);
    char *offer = client_offer(&clients[0]);
    char *no_fp = strip_lines(offer, "a=fingerprint:");
    g_assert_cmpint(join_text(srv.reg, no_fp, &refusal), !=, 0);
    g_assert_cmpint(refusal, ==, TSR_CONFERENCE_REFUSAL_BAD_SDP);
    g_free(no_fp);
    g_free(offer);
    g_assert_cmpuint(tsr_conference_registry_n_participants(srv.reg), ==, 2);

    double bad_before = metric("tessera_webrtc_bad_packets_total{reason=\"unknown\"}");
    send_garbage(&clients[0], 200);
    pictures_target = clients[0].pictures + 15;
    pictures_target = MAX(pictures_target, clients[1].pictures + 15);
    g_assert_true(run_until(both_keep_receiving, 30));
    /* libnice drops datagrams from addresses that are not a checked candidate pair
     * before they reach us, so only "nobody noticed" can be asserted for them. */
    (void)bad_before;

    /* Malformed media from the participant itself, inside its SRTP session. */
    double pt_before = metric("tessera_media_rx_errors_total{kind=\"payload_type\"}");
    double vp_before = metric("tessera_media_rx_errors_total{kind=\"video_payload\"}");
    send_bad_rtp(&clients[0], 50);
    pictures_target = MAX(clients[0].pictures, clients[1].pictures) + 15;
    g_assert_true(run_until(both_keep_receiving, 30));
    g_assert_cmpfloat(metric("tessera_media_rx_errors_total{kind=\"payload_type\"}"), >=,
                      pt_before + 50);
    g_assert_cmpfloat(metric("tessera_media_rx_errors_total{kind=\"video_payload\"}"), >=,
                      vp_before + 50);

    struct client mallory = {.name = "mallory", .y = 200, .u = 100, .v = 100, .tone_hz = 700};
    client_init(&mallory, g_main_context_default());
    join_with_wrong_fingerprint(srv.reg, &mallory);
    g_assert_cmpuint(tsr_conference_registry_n_participants(srv.reg), ==, 3);
    watched_reg = srv.reg;
    expected_participants = 2;
    g_assert_true(run_until(participants_back, 30)); /* dropped: media failed */
    g_assert_cmpfloat(metric("tessera_dtls_errors_total{reason=\"fingerprint_mismatch\"}"), >=, 1);
    g_assert_false(mallory.connected);
    pictures_target = MAX(clients[0].pictures, clients[1].pictures) + 15;
    g_assert_true(run_until(both_keep_receiving, 30));
    g_assert_true(each_sees_the_other());

    g_source_remove(ta);
    g_source_remove(tv);
    server_stop(&srv);
    client_fini(&mallory);
    for (int i = 0; i < 2; i++)
        client_fini(&clients[i]);
}

static unsigned open_fds(void)
{
    unsigned n = 0;
    GDir *d = g_dir_open("/proc/self/fd", 0, NULL);
    while (d && g_dir_read_name(d))
        n++;
    if (d)
        g_dir_close(d);
    return n;
}

static unsigned fd_baseline;
static bool fds_back_to_baseline(void)
{
    return open_fds() <= fd_baseline;
}

/* One join with a real offer and an immediate leave: the server gathers ICE
 * candidates (sockets), creates DTLS, SRTP, mixer state; all of it must go. */
static void join_and_leave(struct tsr_conference_registry *reg)
{
    struct client c = {.name = "loop", .y = 100, .u = 100, .v = 100, .tone_hz = 500};
    client_init(&c, g_main_context_default());
    join(reg, &c);
    tsr_participant_leave(c.participant, TSR_LEAVE_REQUESTED);
    client_fini(&c);
}

static void test_join_leave_loop(void)
{
    struct tsr_config cfg;
    tsr_config_defaults(&cfg);
    char *err = NULL;
    const char *conf = "[mixer]\ncanvas_width = 160\ncanvas_height = 90\nfps = 10\n"
                       "net_threads = 2\n[conferences]\nempty_timeout_s = 0\n";
    g_assert_cmpint(tsr_config_apply_text(&cfg, conf, strlen(conf), "test", &err), ==, 0);
    struct tsr_media_engine *engine = NULL;
    g_assert_cmpint(tsr_media_engine_new(&engine, &cfg), ==, 0);
    struct tsr_conference_registry_opts opts;
    tsr_conference_registry_opts_from_config(&opts, &cfg);
    opts.media = tsr_media_engine_ops();
    opts.media_user = engine;
    struct tsr_conference_registry *reg = NULL;
    g_assert_cmpint(tsr_conference_registry_new(&reg, &opts), ==, 0);
    tsr_media_engine_set_registry(engine, reg);
    tsr_api_loop_enter(); /* a wait for another thread from here on aborts */
    join_and_leave(reg);  /* warm-up: libraries open their one-time files */
    run_until(fds_back_to_baseline, 1);
    fd_baseline = open_fds();
    for (int i = 0; i < 50; i++)
        join_and_leave(reg);
    g_assert_cmpuint(tsr_conference_registry_n_participants(reg), ==, 0);
    if (!run_until(fds_back_to_baseline, 10))
        g_error("file descriptors leaked: %u open, %u before the loop", open_fds(), fd_baseline);
    tsr_api_loop_leave(); /* shutdown may wait */
    tsr_conference_registry_free(&reg);
    tsr_media_engine_free(&engine);
    while (g_main_context_iteration(NULL, FALSE))
        ;
}

/* [mixer] max_participants = 2: with two real participants in, a third join with
 * media is refused (capacity, counted) and nothing is set up for it; the two keep
 * their media and keep seeing each other; the video work of their conference shows
 * in tessera_video_load; after one leaves, a join with media gets in again. */
static void test_capacity_cap(void)
{
    struct server srv = {0};
    char *conf = g_strconcat(two_client_conf, "max_participants = 2\n", NULL);
    server_start(&srv, conf);
    g_free(conf);
    guint ta = g_timeout_add(20, tick_audio, NULL), tv = g_timeout_add(66, tick_video, NULL);
    start_two_clients(&srv);
    double refused_before = metric("tessera_join_refusals_total{reason=\"capacity\"}");
    struct client carol = {.name = "carol", .y = 200, .u = 100, .v = 100, .tone_hz = 700};
    client_init(&carol, g_main_context_default());
    char *offer = client_offer(&carol);
    enum tsr_conference_refusal refusal = TSR_CONFERENCE_REFUSAL_NONE;
    g_assert_cmpint(join_text(srv.reg, offer, &refusal), ==, TSR_ERR_FULL);
    g_assert_cmpint(refusal, ==, TSR_CONFERENCE_REFUSAL_CAPACITY);
    g_assert_cmpint(join_text(srv.reg, offer, &refusal), ==, TSR_ERR_FULL);
    g_assert_cmpfloat(metric("tessera_join_refusals_total{reason=\"capacity\"}"), ==,
                      refused_before + 2);
    g_assert_cmpuint(tsr_conference_registry_n_participants(srv.reg), ==, 2);
    g_assert_cmpuint(tsr_conference_registry_n_with_media(srv.reg), ==, 2);
    g_assert_true(tsr_participant_has_media(clients[0].participant) &&
                  tsr_participant_has_media(clients[1].participant));
    pictures_target = MAX(clients[0].pictures, clients[1].pictures) + 15;
    g_assert_true(run_until(both_keep_receiving, 30));
    g_assert_true(each_sees_the_other());
    g_assert_cmpfloat(metric("tessera_video_load"), >, 0);
    g_assert_cmpfloat(metric("tessera_participants_with_media"), ==, 2);

    tsr_participant_leave(clients[1].participant, TSR_LEAVE_REQUESTED);
    clients[1].participant = NULL;
    tsr_webrtc_transport_close(clients[1].t);
    clients[1].connected = false;
    join(srv.reg, &carol);
    g_assert_true(tsr_participant_has_media(carol.participant));
    g_assert_cmpuint(tsr_conference_registry_n_with_media(srv.reg), ==, 2);
    tsr_participant_leave(carol.participant, TSR_LEAVE_REQUESTED);
    g_free(offer);
    g_source_remove(ta);
    g_source_remove(tv);
    server_stop(&srv);
    client_fini(&carol);
    for (int i = 0; i < 2; i++)
        client_fini(&clients[i]);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_log_set_always_fatal(G_LOG_FATAL_MASK);
    tsr_log_set_level(g_getenv("TSR_TEST_LOG") ? TSR_LOG_DEBUG : TSR_LOG_WARN);
    tsr_log_bridge_install();
    g_test_add_func("/conference_media/two_clients", test_two_clients);
    g_test_add_func("/conference_media/bandwidth_limits", test_bandwidth_limits);
    g_test_add_func("/conference_media/join_leave_loop", test_join_leave_loop);
    g_test_add_func("/conference_media/bad_input", test_bad_input);
    g_test_add_func("/conference_media/three_clients_share_tiles", test_three_clients_share_tiles);
    g_test_add_func("/conference_media/capacity_cap", test_capacity_cap);
    g_test_add_func("/conference_media/three_clients_on_the_gpu", test_three_clients_on_the_gpu);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
