/* What SIP callers declare about their H.264 decoders, end to end through the
 * conference core, the media engine and the mixer (the path a SIP INVITE's offer
 * takes): two plain RTP callers on 127.0.0.1 join a conference whose canvas is
 * 640x360. One offers only packetization-mode 0 with max-fs=396 (a CIF-class room
 * system): every H.264 packet it gets is a single NAL unit (types 1..23, never
 * STAP-A 24 or FU-A 28) within one packet, and the pictures decode at 416x234,
 * the widest 16:9 frame in 396 macroblocks. It also sends its camera in mode 0
 * (slices of at most 1100 bytes, one NAL unit per packet), which the ordinary
 * receive chain takes: the other caller, which offers mode 1 at level 3.1 and
 * gets the canvas itself, sees its colour. */
#include <tessera/conference.h>
#include <tessera/config.h>
#include <tessera/media_engine.h>
#include <tessera/rtp.h>
#include <tessera/rtp_codec.h>
#include <tessera/video_decoder.h>
#include <tessera/video_encoder.h>

#include <gio/gio.h>
#include <glib.h>
#include <libavutil/frame.h>
#include <string.h>

#include "../common/conference_wait.h"
#include "../common/engine_registry.h"
#include "../common/loopback_udp.h"

#define VIDEO_PT 97
#define CAM_W 176
#define CAM_H 144
#define CAM_Y 81 /* red */
#define CAM_U 90
#define CAM_V 240

/* A plain RTP caller. Home: the test's thread. */
struct caller {
    const char *name;
    const char *fmtp;
    GSocket *audio, *video; /* bound on 127.0.0.1, rtcp-mux */
    struct tsr_participant *participant;
    struct tsr_rtp_depacketizer *depay;
    struct tsr_video_decoder *dec;
    GPtrArray *frame; /* GBytes payloads of the frame being received */
    uint32_t frame_ts;
    uint64_t packets, aggregated, fragmented, pictures;
    size_t largest_payload;
    int width, height; /* of the last decoded picture */
    uint8_t centre[3]; /* its Y, U, V at the centre */
    /* Sending (the camera, mode 0): where to, and the stream's state. */
    GSocketAddress *server_video;
    struct tsr_video_encoder *enc;
    struct tsr_rtp_packetizer *pz;
    AVFrame *cam;
    uint16_t seq;
    int sent_frames;
};

static char *caller_offer(const struct caller *c)
{
    return g_strdup_printf("v=0\r\no=- 7 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
                           "t=0 0\r\nm=audio %u RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n"
                           "a=rtcp-mux\r\na=sendrecv\r\n"
                           "m=video %u RTP/AVP %d\r\na=rtpmap:%d H264/90000\r\na=fmtp:%d %s\r\n"
                           "a=rtcp-fb:%d nack pli\r\na=rtcp-mux\r\na=sendrecv\r\n",
                           test_port_of(c->audio), test_port_of(c->video), VIDEO_PT, VIDEO_PT,
                           VIDEO_PT, c->fmtp, VIDEO_PT);
}

static void caller_open(struct caller *c)
{
    c->audio = test_loopback_udp();
    c->video = test_loopback_udp();
    c->frame = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    g_assert_cmpint(tsr_rtp_depacketizer_new(&c->depay, &tsr_rtp_codec_h264), ==, 0);
    struct tsr_video_decoder_params dp = {.codec = TSR_VIDEO_CODEC_H264, .log_ctx = c->name};
    g_assert_cmpint(tsr_video_decoder_new(&c->dec, &dp), ==, 0);
}

static void caller_close(struct caller *c)
{
    tsr_rtp_depacketizer_free(&c->depay);
    tsr_video_decoder_free(&c->dec);
    tsr_video_encoder_free(&c->enc);
    tsr_rtp_packetizer_free(&c->pz);
    av_frame_free(&c->cam);
    g_clear_object(&c->server_video);
    g_ptr_array_unref(c->frame);
    g_object_unref(c->audio);
    g_object_unref(c->video);
}

/* The frame in c->frame is complete (its marker bit came): decode it. */
static void frame_done(struct caller *c)
{
    const uint8_t *payloads[512];
    size_t lens[512], n = MIN(c->frame->len, G_N_ELEMENTS(payloads));
    for (size_t i = 0; i < n; i++) {
        gsize len;
        payloads[i] = g_bytes_get_data(g_ptr_array_index(c->frame, i), &len);
        lens[i] = len;
    }
    GBytes *au = NULL;
    struct tsr_rtp_frame_info info;
    if (n && tsr_rtp_depacketizer_run(c->depay, payloads, lens, n, &au, &info) == 0) {
        gsize len;
        const uint8_t *d = g_bytes_get_data(au, &len);
        AVFrame *pic = NULL;
        if (tsr_video_decoder_decode(c->dec, d, len, c->frame_ts, info.keyframe) == 0 &&
            tsr_video_decoder_latest(c->dec, &pic, NULL) == 0) {
            c->pictures++;
            c->width = pic->width;
            c->height = pic->height;
            int x = pic->width / 2, y = pic->height / 2;
            c->centre[0] = pic->data[0][y * pic->linesize[0] + x];
            c->centre[1] = pic->data[1][y / 2 * pic->linesize[1] + x / 2];
            c->centre[2] = pic->data[2][y / 2 * pic->linesize[2] + x / 2];
            av_frame_free(&pic);
        }
        g_bytes_unref(au);
    }
    g_ptr_array_set_size(c->frame, 0);
}

static void on_video_packet(struct caller *c, const uint8_t *buf, size_t len)
{
    struct tsr_rtp_header h;
    if (tsr_rtp_parse(buf, len, &h) != 0 || h.payload_type != VIDEO_PT || !h.payload_bytes)
        return; /* RTCP (muxed) */
    unsigned type = h.payload[0] & 0x1f;
    c->packets++;
    c->aggregated += type == 24;
    c->fragmented += type == 28;
    c->largest_payload = MAX(c->largest_payload, h.payload_bytes);
    if (c->frame->len && h.timestamp_rtp != c->frame_ts)
        g_ptr_array_set_size(c->frame, 0); /* the last frame's end was lost */
    c->frame_ts = h.timestamp_rtp;
    g_ptr_array_add(c->frame, g_bytes_new(h.payload, h.payload_bytes));
    if (h.marker)
        frame_done(c);
}

static void drain(struct caller *c)
{
    uint8_t buf[2048];
    gssize n;
    while ((n = g_socket_receive(c->video, (gchar *)buf, sizeof buf, NULL, NULL)) > 0)
        on_video_packet(c, buf, (size_t)n);
    while (g_socket_receive(c->audio, (gchar *)buf, sizeof buf, NULL, NULL) > 0)
        ; /* the mix: not what this test is about */
}

/* The answer's c= address and video port: where the caller's camera goes. */
static void read_answer(struct caller *c, const char *answer)
{
    char addr[64] = "";
    unsigned port = 0;
    const char *conn = strstr(answer, "c=IN IP4 "), *video = strstr(answer, "m=video ");
    g_assert_nonnull(conn);
    g_assert_nonnull(video);
    g_assert_cmpint(sscanf(conn, "c=IN IP4 %63[0-9.]", addr), ==, 1);
    g_assert_cmpint(sscanf(video, "m=video %u", &port), ==, 1);
    c->server_video = g_inet_socket_address_new_from_string(addr, port);
    g_assert_nonnull(c->server_video);
}

static void on_cam_packet(void *user, const AVPacket *pkt)
{
    struct caller *c = user;
    struct tsr_rtp_packetized *pk = NULL;
    g_assert_cmpint(tsr_rtp_packetizer_run(c->pz, pkt->data, (size_t)pkt->size, 0, 0, false, &pk),
                    ==, 0);
    for (size_t i = 0; i < tsr_rtp_packetized_count(pk); i++) {
        const uint8_t *d;
        size_t n, hlen;
        bool marker;
        uint8_t buf[1500];
        g_assert_cmpint(tsr_rtp_packetized_get(pk, i, &d, &n, &marker), ==, 0);
        g_assert_cmpuint(d[0] & 0x1f, <=, 23); /* mode 0 is what it offered */
        struct tsr_rtp_header h = {.version = 2,
                                   .marker = marker,
                                   .payload_type = VIDEO_PT,
                                   .seq = c->seq++,
                                   .timestamp_rtp = (uint32_t)pkt->pts,
                                   .ssrc = 0x5ca1ab1e};
        g_assert_cmpint(tsr_rtp_write_header(&h, buf, sizeof buf, &hlen), ==, 0);
        g_assert_cmpuint(hlen + n, <=, sizeof buf);
        memcpy(buf + hlen, d, n);
        g_socket_send_to(c->video, c->server_video, (const gchar *)buf, hlen + n, NULL, NULL);
    }
    tsr_rtp_packetized_unref(&pk);
}

/* One frame of a solid-colour camera, encoded and sent in mode 0; a keyframe
 * now and then stands in for answering the server's PLIs. */
static void send_camera_frame(struct caller *c)
{
    if (!c->enc) {
        struct tsr_video_encoder_params p = {.codec = TSR_VIDEO_CODEC_H264,
                                             .width = CAM_W,
                                             .height = CAM_H,
                                             .fps = 15,
                                             .bitrate_bps = 300000,
                                             .backend = TSR_ENCODER_BACKEND_SOFTWARE,
                                             .max_nal_bytes = 1100,
                                             .log_ctx = c->name};
        g_assert_cmpint(tsr_video_encoder_new(&c->enc, &p), ==, 0);
        g_assert_cmpint(tsr_rtp_packetizer_new(&c->pz, &tsr_rtp_codec_h264_single), ==, 0);
        c->cam = av_frame_alloc();
        c->cam->format = AV_PIX_FMT_YUV420P;
        c->cam->width = CAM_W;
        c->cam->height = CAM_H;
        g_assert_cmpint(av_frame_get_buffer(c->cam, 0), ==, 0);
        memset(c->cam->data[0], CAM_Y, (size_t)c->cam->linesize[0] * CAM_H);
        memset(c->cam->data[1], CAM_U, (size_t)c->cam->linesize[1] * CAM_H / 2);
        memset(c->cam->data[2], CAM_V, (size_t)c->cam->linesize[2] * CAM_H / 2);
    }
    if (c->sent_frames % 10 == 0)
        tsr_video_encoder_request_keyframe(c->enc);
    c->cam->pts = (int64_t)c->sent_frames * 6000; /* 15 fps at 90 kHz */
    g_assert_cmpint(tsr_video_encoder_encode(c->enc, c->cam, on_cam_packet, c), ==, 0);
    c->sent_frames++;
}

static void join(struct tsr_conference_registry *reg, struct caller *c, char **answer)
{
    char *offer = caller_offer(c);
    struct tsr_conference_join_request req = {
        .alias = "limits", .display_name = c->name, .offer_sdp = offer};
    char *err = NULL;
    enum tsr_conference_refusal refusal = TSR_CONFERENCE_REFUSAL_NONE;
    if (test_join(reg, &req, &c->participant, answer, &refusal, &err) != 0)
        g_error("join %s refused: %s (%s)", c->name, tsr_conference_refusal_code(refusal), err);
    g_free(offer);
}

static bool near(uint8_t a, uint8_t b)
{
    return a > b ? a - b <= 12 : b - a <= 12;
}

/* Both got pictures, and the second sees the first's camera. */
static bool enough(const struct caller *cs)
{
    return cs[0].pictures >= 10 && cs[1].pictures >= 10 && near(cs[1].centre[0], CAM_Y) &&
           near(cs[1].centre[1], CAM_U) && near(cs[1].centre[2], CAM_V);
}

/* A re-offer that changes only the H.264 mode and limits on the same payload type
 * (a room system re-INVITEing with what its decoder really takes) moves the call
 * to a fitted encoder: from then on single NAL units only, at 416x234. */
static void remode(struct caller *c)
{
    c->fmtp = "packetization-mode=0;profile-level-id=42e00d;max-fs=396";
    char *offer = caller_offer(c), *answer = NULL, *err = NULL;
    g_assert_cmpint(test_renegotiate(c->participant, offer, &answer, &err), ==, 0);
    g_assert_nonnull(strstr(answer, "packetization-mode=0;profile-level-id=42e00d"));
    drain(c); /* what was sent before the answer */
    c->packets = c->aggregated = c->fragmented = c->pictures = 0;
    c->largest_payload = 0;
    c->width = c->height = 0;
    gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while ((c->pictures < 10 || c->width != 416) && g_get_monotonic_time() < end) {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        drain(c);
        g_usleep(2000);
    }
    g_test_message("%s after its re-offer: %" G_GUINT64_FORMAT " packets (%" G_GUINT64_FORMAT
                   " STAP-A, %" G_GUINT64_FORMAT " FU-A), %" G_GUINT64_FORMAT " pictures, %dx%d",
                   c->name, c->packets, c->aggregated, c->fragmented, c->pictures, c->width,
                   c->height);
    g_assert_cmpuint(c->pictures, >=, 10);
    g_assert_cmpuint(c->aggregated, ==, 0);
    g_assert_cmpuint(c->fragmented, ==, 0);
    g_assert_cmpint(c->width, ==, 416);
    g_assert_cmpint(c->height, ==, 234);
    g_free(answer);
    g_free(offer);
}

static void test_mode0_max_fs(void)
{
    static const char conf[] = "[mixer]\ncanvas_width = 640\ncanvas_height = 360\nfps = 15\n"
                               "net_threads = 2\n[webrtc]\nvideo_codec = h264\n";
    struct tsr_media_engine *engine = NULL;
    struct tsr_conference_registry *reg = NULL;
    test_engine_registry(conf, &engine, &reg);

    struct caller cs[2] = {
        {.name = "cif-room", .fmtp = "packetization-mode=0;profile-level-id=42e00d;max-fs=396"},
        {.name = "hd-phone", .fmtp = "packetization-mode=1;profile-level-id=42e01f"},
    };
    for (size_t i = 0; i < 2; i++) {
        caller_open(&cs[i]);
        char *answer = NULL;
        join(reg, &cs[i], &answer);
        g_test_message("%s's answer:\n%s", cs[i].name, answer);
        g_assert_nonnull(strstr(answer, i == 0 ? "packetization-mode=0;profile-level-id=42e00d"
                                               : "packetization-mode=1;profile-level-id=42e01f"));
        read_answer(&cs[i], answer);
        g_free(answer);
    }
    gint64 end = g_get_monotonic_time() + 20 * G_USEC_PER_SEC, next_cam = 0;
    while (!enough(cs) && g_get_monotonic_time() < end) {
        while (g_main_context_iteration(NULL, FALSE))
            ;
        for (size_t i = 0; i < 2; i++)
            drain(&cs[i]);
        if (g_get_monotonic_time() >= next_cam) {
            send_camera_frame(&cs[0]);
            next_cam = g_get_monotonic_time() + G_USEC_PER_SEC / 15;
        }
        g_usleep(2000);
    }
    for (size_t i = 0; i < 2; i++)
        g_test_message("%s: %" G_GUINT64_FORMAT " packets (%" G_GUINT64_FORMAT
                       " STAP-A, %" G_GUINT64_FORMAT " FU-A, largest %zu bytes), %" G_GUINT64_FORMAT
                       " pictures, %dx%d, centre %u/%u/%u",
                       cs[i].name, cs[i].packets, cs[i].aggregated, cs[i].fragmented,
                       cs[i].largest_payload, cs[i].pictures, cs[i].width, cs[i].height,
                       cs[i].centre[0], cs[i].centre[1], cs[i].centre[2]);
    /* Mode 0, max-fs 396: single NAL units only, each within one packet, 416x234. */
    g_assert_cmpuint(cs[0].pictures, >=, 10);
    g_assert_cmpuint(cs[0].aggregated, ==, 0);
    g_assert_cmpuint(cs[0].fragmented, ==, 0);
    g_assert_cmpuint(cs[0].largest_payload, <=,
                     TSR_RTP_DEFAULT_MTU_BYTES - TSR_RTP_PACKET_OVERHEAD_BYTES);
    g_assert_cmpint(cs[0].width, ==, 416);
    g_assert_cmpint(cs[0].height, ==, 234);
    /* Mode 1 at level 3.1: the canvas (its SPS and PPS travel in a STAP-A). */
    g_assert_cmpuint(cs[1].pictures, >=, 10);
    g_assert_cmpuint(cs[1].aggregated, >, 0);
    g_assert_cmpint(cs[1].width, ==, 640);
    g_assert_cmpint(cs[1].height, ==, 360);
    /* The mode 0 camera arrived, decoded, and is on the other's canvas. */
    g_assert_true(enough(cs));
    remode(&cs[1]);

    for (size_t i = 0; i < 2; i++) {
        tsr_participant_leave(cs[i].participant, TSR_LEAVE_REQUESTED);
    }
    tsr_conference_registry_free(&reg);
    tsr_media_engine_free(&engine);
    while (g_main_context_iteration(NULL, FALSE))
        ;
    for (size_t i = 0; i < 2; i++)
        caller_close(&cs[i]);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/plain_video_limits/mode0_max_fs", test_mode0_max_fs);
    return g_test_run();
}
