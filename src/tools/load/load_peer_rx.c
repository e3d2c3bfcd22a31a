/* What a synthetic participant receives: the composite (frames counted at the
 * depacketizer's frame boundaries, freezes, bitrate; decoded for sampled receivers
 * and checked tile by tile), the mix (packets and sequence gaps), and the server's
 * RTCP (PLI/FIR restart the camera loop at its keyframe, REMB picks the rendition,
 * as a browser's encoder would). Like a browser it sends REMB for the composite and
 * NACK/PLI when its jitter buffer asks. */
#include "load_peer_internal.h"

#include <tessera/err.h>
#include <tessera/rtcp.h>
#include <tessera/rtp.h>

#include <string.h>
#include <sys/socket.h>

#define REMB_INTERVAL_US G_USEC_PER_SEC
#define REMB_ESTIMATE_BPS 8000000 /* a clean loopback link */
#define RENDITION_HOLD_US (2 * G_USEC_PER_SEC)
#define KEYFRAME_MIN_INTERVAL_US 300000

int load_peer_rx_init(struct load_peer *p, enum tsr_video_codec codec)
{
    bool h264 = codec == TSR_VIDEO_CODEC_H264;
    p->video_pt = h264 ? LOAD_H264_PT : LOAD_VP8_PT;
    p->rx_codec = h264 ? &tsr_rtp_codec_h264 : &tsr_rtp_codec_vp8;
    if (!p->p.camera)
        return 0;
    int rc = tsr_jitter_buffer_new(&p->jb, p->rx_codec, NULL);
    /* Every receiver decodes until its first picture (join time); sampled ones go on. */
    struct tsr_video_decoder_params dp = {.codec = codec, .log_ctx = p->name};
    if (rc == 0)
        rc = tsr_video_decoder_new(&p->vdec, &dp);
    return rc;
}

static void on_audio(struct load_peer *p, const struct tsr_rtp_header *h)
{
    p->st.audio_packets++;
    if (p->audio_seq_started) {
        int32_t d = tsr_rtp_seq_diff(p->audio_last_seq, h->seq);
        if (d <= 0)
            return; /* reordered or duplicate */
        if (d > 1 && p->p.run->res.in_window)
            p->st.audio_gaps += (uint64_t)(d - 1);
    }
    p->audio_seq_started = true;
    p->audio_last_seq = h->seq;
}

static void decode_frame(struct load_peer *p, const struct tsr_jitter_buffer_frame *fr,
                         int64_t now)
{
    gsize len;
    const uint8_t *d = g_bytes_get_data(fr->data, &len);
    if (tsr_video_decoder_decode(p->vdec, d, len, fr->timestamp_rtp, fr->keyframe) != 0)
        return;
    AVFrame *pic = NULL;
    if (tsr_video_decoder_latest(p->vdec, &pic, NULL) != 0)
        return;
    p->st.decoded++;
    if (!p->joined_measured) {
        p->joined_measured = true;
        double ms = (double)(now - p->join_sent_us) / 1000.0;
        g_array_append_val(p->p.run->res.join_ms, ms);
    }
    if (p->p.decode && p->p.run->res.in_window)
        load_check_composite(p->p.run, p, pic, g_get_monotonic_time(), p->last_stamp);
    av_frame_free(&pic);
    if (!p->p.decode) /* join measured: from now on only count frames */
        tsr_video_decoder_free(&p->vdec);
}

static void on_video(struct load_peer *p, const struct tsr_rtp_header *h)
{
    int64_t now = g_get_monotonic_time();
    p->server_video_ssrc = h->ssrc;
    p->st.video_bytes += h->payload_bytes;
    if (!p->jb)
        return;
    tsr_jitter_buffer_push(p->jb, h, now);
    struct tsr_jitter_buffer_frame fr;
    while (tsr_jitter_buffer_pop_frame(p->jb, now, &fr) == 0) {
        p->st.frames++;
        if (p->st.last_frame_us && now - p->st.last_frame_us > LOAD_FREEZE_US &&
            p->p.run->res.in_window)
            p->st.freezes++;
        p->st.last_frame_us = now;
        if (p->vdec)
            decode_frame(p, &fr, now);
        g_bytes_unref(fr.data);
    }
}

void load_peer_on_rtp(void *user, uint8_t *data, size_t len)
{
    struct load_peer *p = user;
    struct tsr_rtp_header h;
    if (tsr_rtp_parse(data, len, &h) != 0)
        return;
    if (h.payload_type == LOAD_AUDIO_PT)
        on_audio(p, &h);
    else if (h.payload_type == p->video_pt)
        on_video(p, &h);
}

static void on_remb(struct load_peer *p, const struct tsr_rtcp_remb *remb)
{
    struct load_run *run = p->p.run;
    run->res.remb_in++;
    p->last_remb_in_bps = (int64_t)MIN(remb->bitrate_bps, (uint64_t)INT64_MAX);
    if (!p->p.camera)
        return;
    int want = load_camera_rendition_for(p->p.camera, p->last_remb_in_bps);
    int64_t now = g_get_monotonic_time();
    if (want != p->rendition && now - p->last_switch_us >= RENDITION_HOLD_US) {
        p->pending_rendition = want;
        p->last_switch_us = now;
    }
}

void load_peer_on_rtcp(void *user, uint8_t *data, size_t len)
{
    struct load_peer *p = user;
    struct tsr_rtcp_item items[16];
    size_t n = 0;
    if (tsr_rtcp_parse(data, len, items, G_N_ELEMENTS(items), &n) != 0)
        return;
    int64_t now = g_get_monotonic_time();
    for (size_t i = 0; i < n; i++) {
        switch (items[i].kind) {
        case TSR_RTCP_KIND_PLI:
        case TSR_RTCP_KIND_FIR:
            p->p.run->res.plis_in++;
            if (now - p->last_keyframe_us >= KEYFRAME_MIN_INTERVAL_US) {
                p->pending_keyframe = true;
                p->last_keyframe_us = now;
            }
            break;
        case TSR_RTCP_KIND_REMB:
            on_remb(p, &items[i].u.remb);
            break;
        case TSR_RTCP_KIND_NACK:
            p->p.run->res.nacks_in++; /* loops are not kept for resending: counted */
            break;
        default:
            break;
        }
    }
}

static void send_feedback(struct load_peer *p, int64_t now)
{
    uint8_t buf[256];
    struct tsr_rtcp_writer w;
    tsr_rtcp_writer_init(&w, buf, sizeof buf);
    if (now >= p->next_remb_us) {
        p->next_remb_us = now + REMB_INTERVAL_US;
        tsr_rtcp_write_remb(&w, p->ssrc_video, REMB_ESTIMATE_BPS, &p->server_video_ssrc, 1);
    }
    uint16_t seqs[32];
    size_t n = 0;
    if (tsr_jitter_buffer_poll_nack(p->jb, now, seqs, G_N_ELEMENTS(seqs), &n) == 0 && n)
        tsr_rtcp_write_nack(&w, p->ssrc_video, p->server_video_ssrc, seqs, n);
    if (tsr_jitter_buffer_poll_keyframe_request(p->jb, now) != TSR_KEYFRAME_REQUEST_NONE)
        tsr_rtcp_write_pli(&w, p->ssrc_video, p->server_video_ssrc);
    if (w.len)
        tsr_webrtc_transport_send_rtcp(p->t, buf, w.len);
}

#define DRAIN_BATCH 32

/* RFC 5761: RTCP packet types 192..223 in the second byte. */
static bool is_rtcp(const uint8_t *d, size_t len)
{
    return len >= 2 && d[1] >= 192 && d[1] <= 223;
}

void load_peer_rx_drain(struct load_peer *p)
{
    if (!p->rx_sock)
        return;
    int fd = g_socket_get_fd(p->rx_sock);
    static uint8_t bufs[DRAIN_BATCH][1500]; /* one thread */
    struct mmsghdr msgs[DRAIN_BATCH];
    struct iovec iov[DRAIN_BATCH];
    for (;;) {
        memset(msgs, 0, sizeof msgs);
        for (int i = 0; i < DRAIN_BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = bufs[i], .iov_len = sizeof bufs[i]};
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = recvmmsg(fd, msgs, DRAIN_BATCH, MSG_DONTWAIT, NULL);
        for (int i = 0; i < n; i++) {
            struct tsr_rtp_header h;
            size_t len = msgs[i].msg_len;
            if (!is_rtcp(bufs[i], len) && tsr_rtp_parse(bufs[i], len, &h) == 0 &&
                h.payload_type == LOAD_AUDIO_PT)
                on_audio(p, &h);
        }
        if (n < DRAIN_BATCH)
            return;
    }
}

void load_peer_rx_poll(struct load_peer *p, int64_t now_us)
{
    if (p->rx_sock && now_us >= p->next_drain_us) {
        p->next_drain_us = now_us + LOAD_DRAIN_US;
        load_peer_rx_drain(p);
    }
    if (p->jb && p->server_video_ssrc)
        send_feedback(p, now_us);
}
