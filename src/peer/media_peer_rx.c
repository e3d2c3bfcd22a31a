/* The peer's receive path: RTP routing by payload type, the video jitter buffer
 * and decoder, Opus packets (split out of RED ones) with their audio level to the
 * mixer, RTCP feedback in, and NACK / PLI / FIR out. Home thread: the peer's net loop. */
#include "media_peer_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/rtp_dtmf.h>
#include <tessera/rtp_red.h>

#include <string.h>

#define MAX_NACKS 64
#define MAX_RTCP_ITEMS 32

static void count_rx_error(const char *kind)
{
    char labels[64];
    g_snprintf(labels, sizeof labels, "kind=\"%s\"", kind);
    tsr_counter_inc(tsr_metrics_counter("tessera_media_rx_errors_total", labels,
                                        "Inbound media packets dropped, by reason."));
}

static void on_decoder_keyframe(void *user)
{
    struct tsr_media_peer *p = user;
    if (p->jitter)
        tsr_jitter_buffer_request_keyframe(p->jitter, g_get_monotonic_time());
}

static enum tsr_audio_codec audio_codec_of(const struct tsr_sdp_mline *m)
{
    return m->codec == TSR_SDP_CODEC_PCMU   ? TSR_AUDIO_CODEC_PCMU
           : m->codec == TSR_SDP_CODEC_PCMA ? TSR_AUDIO_CODEC_PCMA
           : m->codec == TSR_SDP_CODEC_G722 ? TSR_AUDIO_CODEC_G722
                                            : TSR_AUDIO_CODEC_OPUS;
}

static enum tsr_video_codec video_codec_of(const struct tsr_sdp_mline *m)
{
    return m->codec == TSR_SDP_CODEC_H264 ? TSR_VIDEO_CODEC_H264 : TSR_VIDEO_CODEC_VP8;
}

/* What the caller's H.264 decoder declared (none for VP8). */
static struct tsr_video_limits limits_of(const struct tsr_sdp_mline *m)
{
    if (!m->h264_read || video_codec_of(m) != TSR_VIDEO_CODEC_H264)
        return (struct tsr_video_limits){0};
    return (struct tsr_video_limits){.max_fs_mbs = m->h264.max_fs,
                                     .max_mbps = m->h264.max_mbps,
                                     .max_kbps = m->h264.max_br_kbps,
                                     .single_nal = m->h264.mode == 0};
}

bool tsr_media_peer_audio_differs(const struct tsr_media_peer *p, const struct tsr_sdp_mline *m)
{
    return m->pt != p->rx_audio.pt || audio_codec_of(m) != p->audio_codec;
}

/* Another payload type or codec, or H.264 with another packetization mode or
 * other decoder limits (they choose the encoder the call is fed from). */
bool tsr_media_peer_video_differs(const struct tsr_media_peer *p, const struct tsr_sdp_mline *m)
{
    struct tsr_video_limits l = limits_of(m);
    return m->pt != p->rx_video.pt || video_codec_of(m) != p->video_codec ||
           memcmp(&l, &p->video_limits, sizeof l) != 0;
}

static void rx_audio_setup(struct tsr_media_peer *p, const struct tsr_sdp_mline *m)
{
    p->has_audio = true;
    p->audio_codec = audio_codec_of(m);
    p->rx_audio.pt = m->pt;
    p->rx_audio.red_pt = p->audio_red_distance ? m->red_pt : -1;
    p->rx_audio.event_pt = m->event_pt >= 96 ? m->event_pt : -1;
    p->rx_audio.ssrc = m->remote_ssrc;
}

static int rx_video_setup(struct tsr_media_peer *p, const struct tsr_sdp_mline *m)
{
    p->has_video = true;
    p->rx_video.pt = m->pt;
    p->rx_video.rtx_pt = m->rtx_pt;
    p->rx_video.ssrc = m->remote_ssrc;
    p->rx_video_tmmbr = p->plain && (m->fb & TSR_SDP_FB_TMMBR) != 0;
    p->tmmbr_sent_kbps = 0;
    p->video_codec = video_codec_of(m);
    p->video_limits = limits_of(m); /* a re-offer may change them */
    const struct tsr_rtp_codec *codec =
        p->video_codec == TSR_VIDEO_CODEC_H264 ? &tsr_rtp_codec_h264 : &tsr_rtp_codec_vp8;
    int rc = tsr_jitter_buffer_new(&p->jitter, codec, NULL);
    if (rc)
        return rc;
    char ctx[160];
    g_snprintf(ctx, sizeof ctx, "%s/video", p->log_ctx);
    struct tsr_video_decoder_params dp = {.codec = p->video_codec,
                                          .log_ctx = ctx,
                                          .on_keyframe_request = on_decoder_keyframe,
                                          .user = p,
                                          .threads = 1};
    return tsr_video_decoder_new(&p->decoder, &dp);
}

int tsr_media_peer_rx_setup(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg)
{
    p->rx_audio.pt = p->rx_video.pt = p->rx_audio.rtx_pt = p->rx_video.rtx_pt = -1;
    p->rx_audio.red_pt = p->rx_video.red_pt = -1;
    p->rx_audio.event_pt = p->rx_video.event_pt = -1;
    tsr_rtp_ext_map_init(&p->ext_map);
    if (neg->audio_index >= 0) {
        const struct tsr_sdp_mline *m = &neg->mlines[neg->audio_index];
        rx_audio_setup(p, m);
        if (m->ext_audio_level_id > 0)
            tsr_rtp_ext_map_set(&p->ext_map, m->ext_audio_level_id, TSR_RTP_EXT_AUDIO_LEVEL);
        if (m->ext_mid_id > 0)
            tsr_rtp_ext_map_set(&p->ext_map, m->ext_mid_id, TSR_RTP_EXT_MID);
    }
    if (neg->video_index < 0)
        return 0;
    const struct tsr_sdp_mline *m = &neg->mlines[neg->video_index];
    g_atomic_int_set(&p->sdp_cap_kbps, (gint)MIN(m->remote_max_bps / 1000, (uint64_t)G_MAXINT));
    return rx_video_setup(p, m);
}

int tsr_media_peer_rx_recodec(struct tsr_media_peer *p, const struct tsr_sdp_negotiation *neg)
{
    if (neg->audio_index < 0) {
        p->has_audio = false;
        p->rx_audio.pt = p->rx_audio.event_pt = -1;
    } else if (!p->has_audio || tsr_media_peer_audio_differs(p, &neg->mlines[neg->audio_index])) {
        p->rx_audio.started = false; /* its statistics restart at the new clock */
        rx_audio_setup(p, &neg->mlines[neg->audio_index]);
    }
    const struct tsr_sdp_mline *vm = neg->video_index >= 0 ? &neg->mlines[neg->video_index] : NULL;
    if (vm && p->has_video && vm->pt == p->rx_video.pt && video_codec_of(vm) == p->video_codec) {
        p->video_limits = limits_of(vm); /* the same decoder; the mixer re-reads the limits */
        return 0;
    }
    tsr_jitter_buffer_free(&p->jitter);
    tsr_video_decoder_free(&p->decoder);
    p->jitter_dropped_seen = 0; /* the new buffer counts from zero */
    p->decoding_paused = false;
    p->rx_video.started = false;
    g_mutex_lock(&p->slot_lock); /* no picture of the old codec stays on show */
    av_frame_free(&p->slot_frame);
    g_mutex_unlock(&p->slot_lock);
    p->has_video = false;
    p->rx_video.pt = p->rx_video.rtx_pt = -1;
    return neg->video_index >= 0 ? rx_video_setup(p, &neg->mlines[neg->video_index]) : 0;
}

static void publish_frame(struct tsr_media_peer *p)
{
    AVFrame *f = NULL;
    uint64_t seq = 0;
    if (tsr_video_decoder_latest(p->decoder, &f, &seq) != 0)
        return;
    g_mutex_lock(&p->slot_lock);
    av_frame_free(&p->slot_frame);
    p->slot_frame = f;
    p->slot_seq = seq;
    g_mutex_unlock(&p->slot_lock);
}

/* Hidden participants' frames are assembled (NACKs keep working) but not decoded;
 * on return a keyframe is requested, since the decoder missed references. */
static bool decoding_wanted(struct tsr_media_peer *p, int64_t now_us)
{
    bool hidden = g_atomic_int_get(&p->hidden) != 0;
    if (hidden && !p->decoding_paused)
        TSR_LOG(TSR_LOG_DEBUG, p->log_ctx, "not shown anywhere: decoding paused");
    if (!hidden && p->decoding_paused) {
        TSR_LOG(TSR_LOG_DEBUG, p->log_ctx, "shown again: decoding resumes at a keyframe");
        tsr_jitter_buffer_request_keyframe(p->jitter, now_us);
    }
    p->decoding_paused = hidden;
    return !hidden;
}

static void drain_frames(struct tsr_media_peer *p, int64_t now_us)
{
    struct tsr_jitter_buffer_frame fr;
    bool decode = decoding_wanted(p, now_us);
    while (tsr_jitter_buffer_pop_frame(p->jitter, now_us, &fr) == 0) {
        if (!decode) {
            g_bytes_unref(fr.data);
            continue;
        }
        gsize len = 0;
        const uint8_t *data = g_bytes_get_data(fr.data, &len);
        int64_t t0 = g_get_monotonic_time();
        int rc =
            len ? tsr_video_decoder_decode(p->decoder, data, len, fr.timestamp_rtp, fr.keyframe)
                : TSR_ERR_TRUNCATED;
        tsr_counter_add(p->m_decode_us, (uint64_t)(g_get_monotonic_time() - t0));
        if (rc == 0)
            publish_frame(p);
        g_bytes_unref(fr.data);
    }
}

static void send_nacks_and_keyframe_requests(struct tsr_media_peer *p, int64_t now_us)
{
    uint16_t seqs[MAX_NACKS];
    size_t n = 0;
    uint8_t buf[512];
    struct tsr_rtcp_writer w;
    tsr_rtcp_writer_init(&w, buf, sizeof buf);
    /* A slides receiver sends its feedback as the call's video sender. */
    const struct tsr_media_peer *from = p->parent ? p->parent : p;
    uint32_t me = from->tx_video ? tsr_rtp_stream_out_ssrc(from->tx_video) : 1;
    tsr_jitter_buffer_poll_nack(p->jitter, now_us, seqs, MAX_NACKS, &n);
    if (n && p->rx_video.started)
        tsr_rtcp_write_nack(&w, me, p->rx_video.ssrc, seqs, n);
    enum tsr_keyframe_request kr = tsr_jitter_buffer_poll_keyframe_request(p->jitter, now_us);
    if (kr == TSR_KEYFRAME_REQUEST_PLI && p->rx_video.started)
        tsr_rtcp_write_pli(&w, me, p->rx_video.ssrc);
    else if (kr == TSR_KEYFRAME_REQUEST_FIR && p->rx_video.started)
        tsr_rtcp_write_fir(&w, me, p->rx_video.ssrc, p->fir_seq++);
    if (kr != TSR_KEYFRAME_REQUEST_NONE)
        tsr_counter_inc(tsr_metrics_counter("tessera_keyframe_requests_sent_total", NULL,
                                            "PLI/FIR sent to participants' cameras."));
    if (n)
        tsr_counter_add(tsr_metrics_counter("tessera_nacks_sent_total", NULL,
                                            "Sequence numbers NACKed to senders."),
                        n);
    if (w.len)
        tsr_media_peer_send_rtcp(p, buf, w.len);
}

void tsr_media_peer_service_rx(struct tsr_media_peer *p, int64_t now_us)
{
    if (!p->jitter || g_atomic_int_get(&p->closed))
        return;
    drain_frames(p, now_us);
    send_nacks_and_keyframe_requests(p, now_us);
    struct tsr_jitter_buffer_stats js;
    tsr_jitter_buffer_get_stats(p->jitter, &js);
    tsr_counter_add(p->m_frames_dropped, js.frames_dropped - p->jitter_dropped_seen);
    p->jitter_dropped_seen = js.frames_dropped;
}

static void note_stream(struct peer_rx *rx, const struct tsr_rtp_header *h, uint32_t clock_rate,
                        int64_t now_us)
{
    if (!rx->started || rx->ssrc != h->ssrc) {
        rx->ssrc = h->ssrc;
        tsr_rtp_stream_in_init(&rx->stats, h->ssrc, clock_rate);
        rx->started = true;
    }
    tsr_rtp_stream_in_update(&rx->stats, h->seq, h->timestamp_rtp, now_us);
}

/* A RED packet (RFC 2198): its Opus frames go on as packets of their own, the
 * copies of earlier packets first, marked redundant (the audio buffer takes a
 * copy only for a slot still missing). The packet's audio level goes with each:
 * a copy is at most a few frames older. A malformed packet is dropped whole. */
static void deliver_red(struct tsr_media_peer *p, const struct tsr_rtp_header *h,
                        struct tsr_audio_packet *pkt)
{
    struct tsr_rtp_red_frame fr[TSR_RTP_RED_MAX_BLOCKS];
    int n = tsr_rtp_red_frames(h->payload, h->payload_bytes, (uint8_t)p->rx_audio.pt,
                               h->timestamp_rtp, h->seq, fr, NULL);
    if (n < 0) {
        count_rx_error("red");
        TSR_LOG_RL(TSR_LOG_DEBUG, p->log_ctx, 5000, "malformed RED packet (%zu bytes): %s",
                   h->payload_bytes, tsr_strerror(n));
        return;
    }
    for (int i = 0; i < n; i++) {
        pkt->data = fr[i].data;
        pkt->len_bytes = fr[i].len;
        pkt->ts_rtp = fr[i].ts_rtp;
        pkt->seq = fr[i].seq;
        pkt->redundant = fr[i].redundant;
        p->sink->on_audio(p->sink_user, p->id, pkt);
    }
}

static void handle_audio(struct tsr_media_peer *p, const struct tsr_rtp_header *h, int64_t now)
{
    note_stream(&p->rx_audio, h, p->audio_codec == TSR_AUDIO_CODEC_OPUS ? 48000 : 8000, now);
    struct tsr_rtp_ext_values ext;
    memset(&ext, 0, sizeof ext);
    if (h->extension && tsr_rtp_ext_parse(&p->ext_map, h, &ext) != 0)
        count_rx_error("extension");
    struct tsr_audio_packet pkt = {
        .data = h->payload,
        .len_bytes = h->payload_bytes,
        .ts_rtp = h->timestamp_rtp,
        .seq = h->seq,
        .level = ext.has_audio_level ? ext.audio_level_dbov : TSR_AUDIO_LEVEL_ABSENT,
        .voice = ext.voice_activity,
    };
    if (!p->sink->on_audio)
        return;
    if (h->payload_type == p->rx_audio.red_pt)
        deliver_red(p, h, &pkt);
    else if (h->payload_bytes)
        p->sink->on_audio(p->sink_user, p->id, &pkt);
}

/* An RFC 4733 event on the audio port of a joined caller: keys mean nothing in a
 * conference yet (the PIN lobby takes them before the join), so a completed key
 * is counted and logged and the packets go no further: never into the audio
 * decoder. A malformed event payload is counted as an rx error. */
static void handle_event(struct tsr_media_peer *p, const uint8_t *data, size_t len)
{
    struct tsr_dtmf_event ev;
    int rc = tsr_rtp_dtmf_parse(data, len, (uint8_t)p->rx_audio.event_pt, &ev);
    if (rc != 0) {
        count_rx_error("telephone_event");
        return;
    }
    char key = tsr_dtmf_collector_push(&p->rx_audio.dtmf, &ev);
    if (!key)
        return;
    tsr_counter_inc(tsr_metrics_counter("tessera_sip_dtmf_keys_total", NULL,
                                        "RFC 4733 keys received from joined SIP callers "
                                        "(counted and ignored)."));
    TSR_LOG_RL(TSR_LOG_INFO, p->log_ctx, 1000, "key '%c' (RFC 4733) received; ignored", key);
}

/* RFC 4588: the original sequence number leads the RTX payload. */
static int unwrap_rtx(struct tsr_media_peer *p, struct tsr_rtp_header *h)
{
    if (h->payload_bytes < 2 || !p->rx_video.started)
        return TSR_ERR_TRUNCATED;
    h->seq = (uint16_t)(h->payload[0] << 8 | h->payload[1]);
    h->payload += 2;
    h->payload_bytes -= 2;
    h->payload_type = (uint8_t)p->rx_video.pt;
    h->ssrc = p->rx_video.ssrc;
    return 0;
}

void tsr_media_peer_rx_video(struct tsr_media_peer *p, struct tsr_rtp_header *h, int64_t now)
{
    if (h->payload_type == p->rx_video.rtx_pt) {
        if (unwrap_rtx(p, h) != 0 || h->payload_bytes == 0)
            return; /* padding-only RTX probes carry nothing */
    } else {
        note_stream(&p->rx_video, h, 90000, now);
    }
    int rc = tsr_jitter_buffer_push(p->jitter, h, now);
    if (rc == TSR_ERR_INVALID)
        count_rx_error("video_payload");
    drain_frames(p, now);
    send_nacks_and_keyframe_requests(p, now);
}

/* kind: -1 = by payload type (one BUNDLE'd flow), else the medium whose port the
 * packet came in on (plain RTP: audio and video may share a payload type). */
static void route_rtp(struct tsr_media_peer *p, uint8_t *data, size_t len, int kind)
{
    if (g_atomic_int_get(&p->closed) || p->awaiting_answer) /* no chains before the answer */
        return;
    struct tsr_rtp_header h;
    tsr_counter_add(p->m_rx_bytes, len);
    if (tsr_rtp_parse(data, len, &h) != 0) {
        count_rx_error("rtp");
        return;
    }
    int64_t now = g_get_monotonic_time();
    atomic_store_explicit(&p->last_rx_us, now, memory_order_relaxed);
    /* The slides line usually shares the camera's payload type: SSRC first. */
    if (kind == -1 && tsr_media_peer_slides_take(p, &h, now))
        return;
    if (kind != 1 && p->rx_audio.pt >= 0 &&
        (h.payload_type == p->rx_audio.pt || h.payload_type == p->rx_audio.red_pt)) {
        handle_audio(p, &h, now);
    } else if (kind != 1 && p->rx_audio.event_pt >= 0 && h.payload_type == p->rx_audio.event_pt) {
        handle_event(p, data, len);
    } else if (kind != 0 && p->jitter &&
               (h.payload_type == p->rx_video.pt ||
                (p->rx_video.rtx_pt >= 0 && h.payload_type == p->rx_video.rtx_pt))) {
        tsr_media_peer_rx_video(p, &h, now);
    } else {
        count_rx_error("payload_type");
        TSR_LOG_RL(TSR_LOG_DEBUG, p->log_ctx, 5000, "RTP with unnegotiated payload type %u",
                   h.payload_type);
    }
}

void tsr_media_peer_on_rtp(void *user, uint8_t *data, size_t len)
{
    route_rtp(user, data, len, -1);
}

void tsr_media_peer_on_audio_rtp(void *user, uint8_t *data, size_t len)
{
    route_rtp(user, data, len, 0);
}

void tsr_media_peer_on_video_rtp(void *user, uint8_t *data, size_t len)
{
    route_rtp(user, data, len, 1);
}

static bool fir_targets(const struct tsr_rtcp_fir *fir, uint32_t ssrc)
{
    for (size_t i = 0; i < fir->n_entries; i++) {
        uint32_t s;
        uint8_t seq;
        if (tsr_rtcp_fir_entry(fir, i, &s, &seq) == 0 && s == ssrc)
            return true;
    }
    return false;
}

/* RFC 5104 TMMBR for our video: the participant's temporary maximum, held until
 * the next one (it caps what we send the way a REMB does), acknowledged at once
 * with a TMMBN naming it as the owner of the bounding tuple (we keep one limit per
 * participant, so its own request is the whole bounding set). A request of 0
 * (pause) holds us at the lowest rate we have. Other SSRCs are not ours to cap. */
static void handle_tmmbr(struct tsr_media_peer *p, const struct tsr_rtcp_tmmb *t, uint32_t vssrc)
{
    for (size_t i = 0; i < t->n_entries; i++) {
        uint32_t ssrc;
        uint64_t bps;
        unsigned overhead;
        if (tsr_rtcp_tmmb_entry(t, i, &ssrc, &bps, &overhead) != 0 || !vssrc || ssrc != vssrc)
            continue;
        gint kbps = (gint)CLAMP(bps / 1000, 1, (uint64_t)G_MAXINT);
        g_atomic_int_set(&p->tmmbr_kbps, kbps);
        tsr_counter_inc(tsr_metrics_counter("tessera_rtcp_tmmbr_received_total", NULL,
                                            "TMMBR limits received for the video we send."));
        TSR_LOG_RL(TSR_LOG_INFO, p->log_ctx, 1000, "TMMBR: at most %d kb/s of video", kbps);
        uint8_t buf[32];
        struct tsr_rtcp_writer w;
        tsr_rtcp_writer_init(&w, buf, sizeof buf);
        struct tsr_rtcp_tmmb_fci fci = {
            .ssrc = t->sender_ssrc, .bitrate_bps = bps, .overhead = overhead};
        if (tsr_rtcp_write_tmmb(&w, 4, vssrc, &fci, 1) == 0)
            tsr_media_peer_send_rtcp(p, buf, w.len);
        return;
    }
}

static void handle_rtcp_item(struct tsr_media_peer *p, const struct tsr_rtcp_item *it, int64_t now)
{
    uint32_t vssrc = p->tx_video ? tsr_rtp_stream_out_ssrc(p->tx_video) : 0;
    bool keyframe = (it->kind == TSR_RTCP_KIND_PLI && it->u.pli.media_ssrc == vssrc) ||
                    (it->kind == TSR_RTCP_KIND_FIR && fir_targets(&it->u.fir, vssrc));
    if (keyframe) {
        tsr_counter_inc(tsr_metrics_counter("tessera_keyframe_requests_received_total", NULL,
                                            "PLI/FIR received from participants."));
        if (p->sink->on_keyframe_request)
            p->sink->on_keyframe_request(p->sink_user, p->id);
    } else if (it->kind == TSR_RTCP_KIND_NACK) {
        tsr_media_peer_answer_nack(p, &it->u.nack, now);
    } else if (it->kind == TSR_RTCP_KIND_REMB) {
        uint32_t first = 0;
        tsr_rtcp_remb_ssrc(&it->u.remb, 0, &first);
        TSR_LOG_RL(TSR_LOG_DEBUG, p->log_ctx, 1000,
                   "REMB %" G_GUINT64_FORMAT " b/s for %u SSRCs (%08x)", it->u.remb.bitrate_bps,
                   it->u.remb.n_ssrcs, first);
        g_atomic_int_set(&p->remb_kbps,
                         (gint)MIN(it->u.remb.bitrate_bps / 1000, (uint64_t)G_MAXINT));
    } else if (it->kind == TSR_RTCP_KIND_TMMBR) {
        handle_tmmbr(p, &it->u.tmmb, vssrc);
    } else if (it->kind == TSR_RTCP_KIND_SR) {
        struct peer_rx *rx = it->u.sr.ssrc == p->rx_video.ssrc   ? &p->rx_video
                             : it->u.sr.ssrc == p->rx_audio.ssrc ? &p->rx_audio
                                                                 : NULL;
        if (rx && rx->started)
            tsr_rtp_stream_in_on_sr(&rx->stats, &it->u.sr, now);
    }
}

void tsr_media_peer_on_rtcp(void *user, uint8_t *data, size_t len)
{
    struct tsr_media_peer *p = user;
    if (g_atomic_int_get(&p->closed) || p->awaiting_answer)
        return;
    atomic_store_explicit(&p->last_rx_us, g_get_monotonic_time(), memory_order_relaxed);
    struct tsr_rtcp_item items[MAX_RTCP_ITEMS];
    size_t n = 0;
    if (tsr_rtcp_parse(data, len, items, MAX_RTCP_ITEMS, &n) != 0) {
        count_rx_error("rtcp");
        return;
    }
    int64_t now = g_get_monotonic_time();
    for (size_t i = 0; i < n; i++)
        handle_rtcp_item(p, &items[i], now);
}
