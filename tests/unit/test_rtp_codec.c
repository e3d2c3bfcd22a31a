/* Payload formats end to end: frames from the real encoders (libvpx VP8, libx264
 * through libavcodec; libopus) → packetize once → per-subscriber RTP headers →
 * shuffled, duplicated, delayed within the window → parse → jitter buffer /
 * audio buffer → depacketize: byte-identical frames, in order. Plus hand-laid
 * RFC 7741 / RFC 6184 vectors and malformed payloads. */
#include <glib.h>
#include <libavcodec/avcodec.h>
#include <libavutil/opt.h>
#include <math.h>
#include <opus.h>
#include <string.h>

#include <tessera/audio_buffer.h>
#include <tessera/err.h>
#include <tessera/jitter_buffer.h>
#include <tessera/metrics.h>
#include <tessera/rtcp.h>
#include <tessera/rtp.h>
#include <tessera/rtp_codec.h>
#include <tessera/rtp_stream_out.h>

#define W 160
#define H 120
#define N_FRAMES 10

struct enc_frame {
    GBytes *data;
    bool key;
};

/* Noise-textured moving picture so keyframes exceed one MTU and need fragmenting. */
static void fill_picture(AVFrame *f, int i)
{
    uint32_t x = 12345u + (uint32_t)i * 7u;
    for (int y = 0; y < H; y++)
        for (int c = 0; c < W; c++) {
            x = x * 1103515245u + 12345u;
            f->data[0][y * f->linesize[0] + c] =
                (uint8_t)(((c + i * 3) & 0x3f) * 3 + ((x >> 16) & 0x3f));
        }
    for (int y = 0; y < H / 2; y++) {
        memset(f->data[1] + y * f->linesize[1], 100 + i, W / 2);
        memset(f->data[2] + y * f->linesize[2], 150 - i, W / 2);
    }
}

static void drain(AVCodecContext *ctx, AVPacket *pkt, GArray *out)
{
    while (avcodec_receive_packet(ctx, pkt) == 0) {
        struct enc_frame e = {g_bytes_new(pkt->data, (gsize)pkt->size),
                              (pkt->flags & AV_PKT_FLAG_KEY) != 0};
        g_array_append_val(out, e);
        av_packet_unref(pkt);
    }
}

static GArray *encode_video(const char *encoder)
{
    const AVCodec *codec = avcodec_find_encoder_by_name(encoder);
    g_assert_nonnull(codec);
    AVCodecContext *ctx = avcodec_alloc_context3(codec);
    ctx->width = W;
    ctx->height = H;
    ctx->pix_fmt = AV_PIX_FMT_YUV420P;
    ctx->time_base = (AVRational){1, 30};
    ctx->framerate = (AVRational){30, 1};
    ctx->gop_size = 100;
    ctx->max_b_frames = 0;
    ctx->bit_rate = 3000000;
    ctx->thread_count = 1;
    if (strcmp(encoder, "libx264") == 0) {
        av_opt_set(ctx->priv_data, "preset", "ultrafast", 0);
        av_opt_set(ctx->priv_data, "tune", "zerolatency", 0);
        /* two slices per picture: several NALs per frame, like real encoders */
        av_opt_set(ctx->priv_data, "x264-params", "slices=2:scenecut=0", 0);
    } else {
        av_opt_set(ctx->priv_data, "deadline", "realtime", 0);
        av_opt_set_int(ctx->priv_data, "cpu-used", 8, 0);
        av_opt_set_int(ctx->priv_data, "lag-in-frames", 0, 0);
    }
    g_assert_cmpint(avcodec_open2(ctx, codec, NULL), ==, 0);
    AVFrame *f = av_frame_alloc();
    AVPacket *pkt = av_packet_alloc();
    f->format = AV_PIX_FMT_YUV420P;
    f->width = W;
    f->height = H;
    g_assert_cmpint(av_frame_get_buffer(f, 0), ==, 0);
    GArray *out = g_array_new(FALSE, FALSE, sizeof(struct enc_frame));
    for (int i = 0; i < N_FRAMES; i++) {
        g_assert_cmpint(av_frame_make_writable(f), ==, 0);
        fill_picture(f, i);
        f->pts = i;
        g_assert_cmpint(avcodec_send_frame(ctx, f), ==, 0);
        drain(ctx, pkt, out);
    }
    avcodec_send_frame(ctx, NULL);
    drain(ctx, pkt, out);
    av_packet_free(&pkt);
    av_frame_free(&f);
    avcodec_free_context(&ctx);
    g_assert_cmpuint(out->len, ==, N_FRAMES);
    return out;
}

static void free_frames(GArray *a)
{
    for (guint i = 0; i < a->len; i++)
        g_bytes_unref(g_array_index(a, struct enc_frame, i).data);
    g_array_free(a, TRUE);
}

/* Annex-B with every start code rewritten to 4 bytes (what the depacketizer
 * writes; the start-code length is not carried over RTP). */
static GBytes *annexb_4byte(GBytes *in)
{
    gsize n;
    const uint8_t *p = g_bytes_get_data(in, &n);
    GByteArray *o = g_byte_array_new();
    static const uint8_t sc[4] = {0, 0, 0, 1};
    size_t i = 0;
    while (i + 3 <= n) {
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1) {
            if (o->len && o->data[o->len - 1] == 0)
                g_byte_array_set_size(o, o->len - 1); /* zero byte of a 4-byte code */
            g_byte_array_append(o, sc, 4);
            i += 3;
            continue;
        }
        g_byte_array_append(o, p + i, 1);
        i++;
    }
    g_byte_array_append(o, p + i, (guint)(n - i));
    return g_byte_array_free_to_bytes(o);
}

/* Shuffle within a window of 6 (the first packet stays first: it anchors the
 * stream), duplicate every 7th packet a few positions later. */
static GPtrArray *disorder(GPtrArray *pkts, GRand *r)
{
    for (guint k = 1; k + 1 < pkts->len; k++) {
        guint j = k + (guint)g_rand_int_range(r, 0, 6);
        if (j >= pkts->len)
            j = pkts->len - 1;
        gpointer t = pkts->pdata[k];
        pkts->pdata[k] = pkts->pdata[j];
        pkts->pdata[j] = t;
    }
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    for (guint k = 0; k < pkts->len; k++) {
        g_ptr_array_add(out, g_bytes_ref(pkts->pdata[k]));
        if (k % 7 == 6) /* a duplicate of a packet sent three positions earlier */
            g_ptr_array_add(out, g_bytes_ref(pkts->pdata[k - 3]));
    }
    return out;
}

static void video_roundtrip(const struct tsr_rtp_codec *codec, const char *encoder)
{
    GArray *frames = encode_video(encoder);
    struct tsr_rtp_packetizer *pz = NULL;
    struct tsr_rtp_stream_out *so = NULL;
    struct tsr_media_clock clock;
    struct tsr_rtp_stream_out_config cfg = {.ssrc = 0x5eed,
                                            .payload_type = 96,
                                            .clock_rate = 90000,
                                            .timestamp_offset = 4000000000u,
                                            .first_seq = 65530};
    GPtrArray *pkts = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    bool fragmented = false;

    tsr_media_clock_init(&clock, 0, 1700000000000000);
    g_assert_cmpint(tsr_rtp_packetizer_new(&pz, codec), ==, 0);
    g_assert_cmpint(tsr_rtp_stream_out_new(&so, &cfg, &clock), ==, 0);
    g_assert_true(g_array_index(frames, struct enc_frame, 0).key);
    for (guint i = 0; i < frames->len; i++) {
        struct enc_frame *e = &g_array_index(frames, struct enc_frame, i);
        gsize n;
        const uint8_t *d = g_bytes_get_data(e->data, &n);
        struct tsr_rtp_packetized *pk = NULL;
        g_assert_cmpint(tsr_rtp_packetizer_run(pz, d, n, 0, (int64_t)i * 33333, e->key, &pk), ==,
                        0);
        fragmented |= tsr_rtp_packetized_count(pk) > 1;
        for (size_t j = 0; j < tsr_rtp_packetized_count(pk); j++) {
            uint8_t buf[1500];
            size_t len;
            struct tsr_rtp_send_opts o = {
                .now_us = 0, .transport_cc_seq = -1, .audio_level_dbov = -1};
            g_assert_cmpint(tsr_rtp_stream_out_write(so, pk, j, &o, buf, sizeof buf, &len), ==, 0);
            g_assert_cmpuint(len, <=, TSR_RTP_DEFAULT_MTU_BYTES);
            g_ptr_array_add(pkts, g_bytes_new(buf, len));
        }
        tsr_rtp_packetized_unref(&pk);
    }
    g_assert_true(fragmented); /* the keyframe did not fit one packet */

    GRand *r = g_rand_new_with_seed(7);
    GPtrArray *wire = disorder(pkts, r);
    struct tsr_jitter_buffer *jb = NULL;
    g_assert_cmpint(tsr_jitter_buffer_new(&jb, codec, NULL), ==, 0);
    GPtrArray *got = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    GArray *got_ts = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    GArray *got_key = g_array_new(FALSE, FALSE, sizeof(bool));
    int64_t now = 1000000;
    for (guint k = 0; k <= wire->len; k++) {
        now += 1000 + g_rand_int_range(r, 0, 3000); /* delay: 1–4 ms apart */
        if (k < wire->len) {
            gsize n;
            const uint8_t *d = g_bytes_get_data(wire->pdata[k], &n);
            struct tsr_rtp_header h;
            g_assert_cmpint(tsr_rtp_parse(d, n, &h), ==, 0);
            int rc = tsr_jitter_buffer_push(jb, &h, now);
            g_assert_true(rc == 0 || rc == TSR_ERR_AGAIN);
        }
        struct tsr_jitter_buffer_frame f;
        while (tsr_jitter_buffer_pop_frame(jb, now, &f) == 0) {
            g_assert_cmpint(f.codec, ==, codec->id);
            g_ptr_array_add(got, f.data);
            g_array_append_val(got_ts, f.timestamp_rtp);
            g_array_append_val(got_key, f.keyframe);
        }
    }
    g_assert_cmpuint(got->len, ==, frames->len);
    for (guint i = 0; i < frames->len; i++) {
        struct enc_frame *e = &g_array_index(frames, struct enc_frame, i);
        GBytes *want =
            codec->id == TSR_RTP_CODEC_H264 ? annexb_4byte(e->data) : g_bytes_ref(e->data);
        g_assert_true(g_bytes_equal(want, got->pdata[i]));
        g_assert_cmpuint(g_array_index(got_ts, uint32_t, i), ==,
                         tsr_rtp_stream_out_timestamp(so, (int64_t)i * 33333));
        g_assert_cmpint(g_array_index(got_key, bool, i), ==, e->key);
        g_bytes_unref(want);
    }
    struct tsr_jitter_buffer_stats st;
    tsr_jitter_buffer_get_stats(jb, &st);
    g_assert_cmpuint(st.duplicates, >, 0);
    g_assert_cmpuint(st.frames_dropped, ==, 0);

    g_array_free(got_ts, TRUE);
    g_array_free(got_key, TRUE);
    g_ptr_array_unref(got);
    tsr_jitter_buffer_free(&jb);
    g_ptr_array_unref(wire);
    g_rand_free(r);
    g_ptr_array_unref(pkts);
    tsr_rtp_stream_out_free(&so);
    tsr_rtp_packetizer_free(&pz);
    free_frames(frames);
}

static void test_vp8_roundtrip(void)
{
    video_roundtrip(&tsr_rtp_codec_vp8, "libvpx");
}

static void test_h264_roundtrip(void)
{
    video_roundtrip(&tsr_rtp_codec_h264, "libx264");
}

/* Opus: 25 packets of 20 ms from libopus, reordered by one, through the audio buffer. */
static void test_opus_roundtrip(void)
{
    int err;
    OpusEncoder *enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
    g_assert_cmpint(err, ==, OPUS_OK);
    struct tsr_rtp_packetizer *pz = NULL;
    g_assert_cmpint(tsr_rtp_packetizer_new(&pz, &tsr_rtp_codec_opus), ==, 0);
    struct tsr_media_clock clock;
    tsr_media_clock_init(&clock, 0, 1700000000000000);
    struct tsr_rtp_stream_out_config cfg = {
        .ssrc = 0xa0, .payload_type = 111, .clock_rate = 48000, .first_seq = 1};
    struct tsr_rtp_stream_out *so = NULL;
    g_assert_cmpint(tsr_rtp_stream_out_new(&so, &cfg, &clock), ==, 0);
    GPtrArray *orig = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    GPtrArray *wire = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    for (int i = 0; i < 25; i++) {
        opus_int16 pcm[960];
        for (int s = 0; s < 960; s++)
            pcm[s] = (opus_int16)(8000 * sin((i * 960 + s) * 2 * G_PI * 440 / 48000));
        uint8_t out[400];
        int n = opus_encode(enc, pcm, 960, out, sizeof out);
        g_assert_cmpint(n, >, 0);
        g_assert_cmpint(tsr_rtp_opus_packet_samples(out, (size_t)n), ==, 960);
        g_ptr_array_add(orig, g_bytes_new(out, (gsize)n));
        struct tsr_rtp_packetized *pk = NULL;
        g_assert_cmpint(tsr_rtp_packetizer_run(pz, out, (size_t)n, 0, i * 20000, true, &pk), ==, 0);
        g_assert_cmpuint(tsr_rtp_packetized_count(pk), ==, 1);
        uint8_t buf[600];
        size_t len;
        g_assert_cmpint(tsr_rtp_stream_out_write(so, pk, 0, NULL, buf, sizeof buf, &len), ==, 0);
        g_ptr_array_add(wire, g_bytes_new(buf, len));
        tsr_rtp_packetized_unref(&pk);
    }
    /* swap neighbours 4/5, 10/11, 17/18 */
    for (int k = 4; k < 20; k += 6) {
        gpointer t = wire->pdata[k];
        wire->pdata[k] = wire->pdata[k + 1];
        wire->pdata[k + 1] = t;
    }
    struct tsr_audio_buffer_config ac;
    tsr_audio_buffer_config_default(&ac);
    ac.min_delay_ms = 60;
    struct tsr_audio_buffer *ab = NULL;
    g_assert_cmpint(tsr_audio_buffer_new(&ab, &ac), ==, 0);
    guint next_out = 0;
    for (guint tick = 0; tick < 40; tick++) {
        int64_t now = (int64_t)tick * 20000;
        if (tick < wire->len) {
            gsize n;
            const uint8_t *d = g_bytes_get_data(wire->pdata[tick], &n);
            struct tsr_rtp_header h;
            g_assert_cmpint(tsr_rtp_parse(d, n, &h), ==, 0);
            struct tsr_audio_packet pkt = {.data = h.payload, .len_bytes = h.payload_bytes,
                                           .ts_rtp = h.timestamp_rtp, .seq = h.seq,
                                           .level = TSR_AUDIO_LEVEL_ABSENT};
            g_assert_cmpint(tsr_audio_buffer_push(ab, &pkt, now), ==, 0);
        }
        struct tsr_audio_buffer_out o;
        enum tsr_audio_buffer_result r = tsr_audio_buffer_pop(ab, now, &o);
        g_assert_cmpint(r, !=, TSR_AUDIO_BUFFER_LOST);
        if (r == TSR_AUDIO_BUFFER_PACKET) {
            gsize n;
            const uint8_t *want = g_bytes_get_data(orig->pdata[next_out], &n);
            g_assert_cmpmem(o.data, o.len, want, n);
            g_assert_cmpuint(o.samples, ==, 960);
            g_assert_cmpuint(o.timestamp_rtp, ==,
                             tsr_rtp_stream_out_timestamp(so, next_out * 20000));
            next_out++;
        }
    }
    g_assert_cmpuint(next_out, ==, 25);
    tsr_audio_buffer_free(&ab);
    g_ptr_array_unref(wire);
    g_ptr_array_unref(orig);
    tsr_rtp_stream_out_free(&so);
    tsr_rtp_packetizer_free(&pz);
    opus_encoder_destroy(enc);
}

static int depay(const struct tsr_rtp_codec *c, const uint8_t *const *p, const size_t *l, size_t n,
                 GBytes **out, struct tsr_rtp_frame_info *fi)
{
    struct tsr_rtp_depacketizer *d = NULL;
    g_assert_cmpint(tsr_rtp_depacketizer_new(&d, c), ==, 0);
    int rc = tsr_rtp_depacketizer_run(d, p, l, n, out, fi);
    tsr_rtp_depacketizer_free(&d);
    return rc;
}

/* RFC 7741 §4.2: X=1 with I (7-bit picture id), L, T and K fields present. */
static void test_vp8_vector(void)
{
    const uint8_t p0[] = {
        0x90, 0xf0, 0x15, 0x07, 0x60, /* X S PID0 | I L T K | pic 21 | tl0 | tid */
        0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00, 0xaa};
    const uint8_t p1[] = {0x80, 0x80, 0x80, 0x15, 0xbb, 0xcc}; /* continuation, 15-bit pic 21 */
    struct tsr_rtp_payload_info info;
    g_assert_cmpint(tsr_rtp_codec_vp8.inspect(p0, sizeof p0, &info), ==, 0);
    g_assert_true(info.frame_start);
    g_assert_true(info.keyframe);
    g_assert_cmpint(info.picture_id, ==, 21);
    g_assert_cmpuint(info.width, ==, 320);
    g_assert_cmpuint(info.height, ==, 240);
    g_assert_cmpint(tsr_rtp_codec_vp8.inspect(p1, sizeof p1, &info), ==, 0);
    g_assert_false(info.frame_start);
    g_assert_cmpint(info.picture_id, ==, 21);

    const uint8_t *pl[] = {p0, p1};
    const size_t ll[] = {sizeof p0, sizeof p1};
    GBytes *f = NULL;
    struct tsr_rtp_frame_info fi;
    g_assert_cmpint(depay(&tsr_rtp_codec_vp8, pl, ll, 2, &f, &fi), ==, 0);
    const uint8_t want[] = {0x50, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x40,
                            0x01, 0xf0, 0x00, 0xaa, 0xbb, 0xcc};
    gsize n;
    const uint8_t *d = g_bytes_get_data(f, &n);
    g_assert_cmpmem(d, n, want, sizeof want);
    g_assert_true(fi.keyframe);
    g_assert_cmpuint(fi.width, ==, 320);
    g_bytes_unref(f);
    /* frame that does not begin at partition 0 start: rejected */
    const uint8_t *pl2[] = {p1};
    g_assert_cmpint(depay(&tsr_rtp_codec_vp8, pl2, &ll[1], 1, &f, &fi), ==, TSR_ERR_INVALID);
}

/* RFC 6184 §5.7.1 STAP-A (SPS, PPS) then FU-A start/middle/end of an IDR. */
static void test_h264_vector(void)
{
    const uint8_t stap[] = {0x78, 0x00, 0x04, 0x67, 0x42, 0xc0, 0x1e, 0x00, 0x03, 0x68, 0xce, 0x3c};
    const uint8_t fu0[] = {0x7c, 0x85, 0x88, 0x84}; /* FU ind NRI 3, FU hdr S type 5, first_mb=0 */
    const uint8_t fu1[] = {0x7c, 0x05, 0x11};
    const uint8_t fu2[] = {0x7c, 0x45, 0x22, 0x33};
    struct tsr_rtp_payload_info info;
    g_assert_cmpint(tsr_rtp_codec_h264.inspect(stap, sizeof stap, &info), ==, 0);
    g_assert_true(info.frame_start && info.keyframe);
    g_assert_cmpint(tsr_rtp_codec_h264.inspect(fu0, sizeof fu0, &info), ==, 0);
    g_assert_true(info.frame_start && info.keyframe);
    g_assert_cmpint(tsr_rtp_codec_h264.inspect(fu1, sizeof fu1, &info), ==, 0);
    g_assert_false(info.frame_start);

    const uint8_t *pl[] = {stap, fu0, fu1, fu2};
    const size_t ll[] = {sizeof stap, sizeof fu0, sizeof fu1, sizeof fu2};
    GBytes *f = NULL;
    struct tsr_rtp_frame_info fi;
    struct tsr_rtp_depacketizer *d = NULL;
    g_assert_cmpint(tsr_rtp_depacketizer_new(&d, &tsr_rtp_codec_h264), ==, 0);
    g_assert_cmpint(tsr_rtp_depacketizer_run(d, pl, ll, 4, &f, &fi), ==, 0);
    const uint8_t want[] = {0,    0,    0, 1, 0x67, 0x42, 0xc0, 0x1e, 0,    0,    0,    1,   0x68,
                            0xce, 0x3c, 0, 0, 0,    1,    0x65, 0x88, 0x84, 0x11, 0x22, 0x33};
    gsize n;
    const uint8_t *fd = g_bytes_get_data(f, &n);
    g_assert_cmpmem(fd, n, want, sizeof want);
    g_assert_true(fi.keyframe);
    g_bytes_unref(f);
    /* a later IDR without SPS/PPS gets the remembered ones in front */
    g_assert_cmpint(tsr_rtp_depacketizer_run(d, pl + 1, ll + 1, 3, &f, &fi), ==, 0);
    fd = g_bytes_get_data(f, &n);
    g_assert_cmpmem(fd, n, want, sizeof want);
    g_bytes_unref(f);
    /* FU-A missing its end, or its start: rejected */
    g_assert_cmpint(tsr_rtp_depacketizer_run(d, pl, ll, 3, &f, &fi), ==, TSR_ERR_TRUNCATED);
    const uint8_t *mid[] = {fu1, fu2};
    g_assert_cmpint(tsr_rtp_depacketizer_run(d, mid, ll + 2, 2, &f, &fi), ==, TSR_ERR_INVALID);
    tsr_rtp_depacketizer_free(&d);
    /* a fresh depacketizer has no SPS/PPS: an IDR alone is undecodable */
    g_assert_cmpint(depay(&tsr_rtp_codec_h264, pl + 1, ll + 1, 3, &f, &fi), ==, TSR_ERR_INVALID);

    /* packetizer: STAP-A for small NALs, FU-A for big ones */
    uint8_t frame[3000];
    const uint8_t head[] = {0, 0,    0,    1,    0x67, 0x42, 0xc0, 0x1e, 0,   0,
                            1, 0x68, 0xce, 0x3c, 0,    0,    0,    1,    0x65};
    memcpy(frame, head, sizeof head);
    for (size_t i = sizeof head; i < sizeof frame; i++)
        frame[i] = (uint8_t)(i * 7 + 1) | 1; /* no start code emulation */
    struct tsr_rtp_packetizer *pz = NULL;
    struct tsr_rtp_packetized *pk = NULL;
    g_assert_cmpint(tsr_rtp_packetizer_new(&pz, &tsr_rtp_codec_h264), ==, 0);
    g_assert_cmpint(tsr_rtp_packetizer_run(pz, frame, sizeof frame, 1200, 0, true, &pk), ==, 0);
    g_assert_cmpuint(tsr_rtp_packetized_count(pk), ==, 4); /* STAP-A + 3 FU-A */
    const uint8_t *pd;
    size_t plen;
    bool marker;
    tsr_rtp_packetized_get(pk, 0, &pd, &plen, &marker);
    const uint8_t want_stap[] = {0x78, 0x00, 0x04, 0x67, 0x42, 0xc0,
                                 0x1e, 0x00, 0x03, 0x68, 0xce, 0x3c};
    g_assert_cmpmem(pd, plen, want_stap, sizeof want_stap);
    g_assert_false(marker);
    tsr_rtp_packetized_get(pk, 1, &pd, &plen, &marker);
    g_assert_cmphex(pd[0], ==, 0x7c);
    g_assert_cmphex(pd[1], ==, 0x85);
    g_assert_cmpuint(plen, <=, 1200 - TSR_RTP_PACKET_OVERHEAD_BYTES);
    tsr_rtp_packetized_get(pk, 3, &pd, &plen, &marker);
    g_assert_cmphex(pd[1], ==, 0x45);
    g_assert_true(marker);
    tsr_rtp_packetized_unref(&pk);
    tsr_rtp_packetizer_free(&pz);
}

/* Malformed payloads of every kind: an error, never a crash or an over-read. */
static void test_malformed_payloads(void)
{
    static const struct {
        const struct tsr_rtp_codec *c;
        uint8_t b[6];
        size_t n;
    } cases[] = {
        {&tsr_rtp_codec_vp8, {0}, 0},
        {&tsr_rtp_codec_vp8, {0x90}, 1},                   /* descriptor only */
        {&tsr_rtp_codec_vp8, {0x90, 0x80}, 2},             /* I set, no picture id */
        {&tsr_rtp_codec_vp8, {0x90, 0x80, 0x80}, 3},       /* 15-bit pid cut */
        {&tsr_rtp_codec_vp8, {0x90, 0xf0, 0x01, 0x02}, 4}, /* L/T fields missing */
        {&tsr_rtp_codec_h264, {0}, 0},
        {&tsr_rtp_codec_h264, {0x85, 0x00}, 2},             /* forbidden bit */
        {&tsr_rtp_codec_h264, {0x78, 0x00, 0x09, 0x67}, 4}, /* STAP-A unit past the end */
        {&tsr_rtp_codec_h264, {0x78, 0x00}, 2},             /* STAP-A size cut */
        {&tsr_rtp_codec_h264, {0x78, 0x00, 0x01, 0x78}, 4}, /* nested STAP-A */
        {&tsr_rtp_codec_h264, {0x7c, 0xc5, 0x00}, 3},       /* FU-A with S and E */
        {&tsr_rtp_codec_h264, {0x7c, 0x85}, 2},             /* FU-A with no data */
        {&tsr_rtp_codec_h264, {0x79, 0x00}, 2},             /* STAP-B: unsupported */
        {&tsr_rtp_codec_opus, {0}, 0},
        {&tsr_rtp_codec_opus, {0x03}, 1},       /* code 3 without count */
        {&tsr_rtp_codec_opus, {0x03, 0x00}, 2}, /* zero frames */
        {&tsr_rtp_codec_opus, {0x1b, 0x3f}, 2}, /* 63 × 60 ms > 120 ms */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        uint8_t *copy = g_memdup2(cases[i].b, cases[i].n ? cases[i].n : 1);
        struct tsr_rtp_payload_info info;
        int rc = cases[i].c->inspect(copy, cases[i].n, &info);
        g_assert_cmpint(rc, <, 0);
        const uint8_t *pl[] = {copy};
        GBytes *f = NULL;
        struct tsr_rtp_frame_info fi;
        g_assert_cmpint(depay(cases[i].c, pl, &cases[i].n, 1, &f, &fi), <, 0);
        g_assert_null(f);
        g_free(copy);
    }
    g_assert_cmpuint(tsr_counter_value(tsr_metrics_counter("tessera_depacketize_errors_total",
                                                           "codec=\"H264\"", "x")),
                     >=, 8);
    g_assert_true(tsr_rtp_codec_by_name("h264") == &tsr_rtp_codec_h264);
    g_assert_true(tsr_rtp_codec_by_name("OPUS") == &tsr_rtp_codec_opus);
    g_assert_null(tsr_rtp_codec_by_name("VP9"));
    g_assert_true(tsr_rtp_codec_by_id(TSR_RTP_CODEC_VP8) == &tsr_rtp_codec_vp8);
    /* Opus is never fragmented */
    struct tsr_rtp_packetizer *pz = NULL;
    struct tsr_rtp_packetized *pk = NULL;
    uint8_t big[1300] = {0x78};
    tsr_rtp_packetizer_new(&pz, &tsr_rtp_codec_opus);
    g_assert_cmpint(tsr_rtp_packetizer_run(pz, big, sizeof big, 1200, 0, true, &pk), ==, -EMSGSIZE);
    g_assert_null(pk);
    tsr_rtp_packetizer_free(&pz);
}

/* G.711/G.722 frames are opaque: every 160-byte frame is one packet as it is, also
 * those whose first byte would be a malformed Opus TOC (0xff: code 3 and no frame
 * count), which the Opus packetizer rightly refuses. The mixer sent one G.711
 * frame in five through the Opus packetizer's check and lost it. */
static void test_narrowband(void)
{
    uint8_t frame[160];
    struct tsr_rtp_packetizer *opus = NULL, *narrow = NULL;
    g_assert_cmpint(tsr_rtp_packetizer_new(&opus, &tsr_rtp_codec_opus), ==, 0);
    g_assert_cmpint(tsr_rtp_packetizer_new(&narrow, &tsr_rtp_codec_narrowband), ==, 0);
    for (int first = 0; first < 256; first++) {
        memset(frame, 0x7f, sizeof frame);
        frame[0] = (uint8_t)first;
        struct tsr_rtp_packetized *pk = NULL;
        g_assert_cmpint(tsr_rtp_packetizer_run(narrow, frame, sizeof frame, 0, 1000, false, &pk), ==,
                        0);
        g_assert_cmpuint(tsr_rtp_packetized_count(pk), ==, 1);
        const uint8_t *data = NULL;
        size_t len = 0;
        bool marker = false;
        g_assert_cmpint(tsr_rtp_packetized_get(pk, 0, &data, &len, &marker), ==, 0);
        g_assert_cmpuint(len, ==, sizeof frame);
        g_assert_cmpmem(data, len, frame, sizeof frame);
        tsr_rtp_packetized_unref(&pk);
    }
    frame[0] = 0xff;
    struct tsr_rtp_packetized *pk = NULL;
    g_assert_cmpint(tsr_rtp_packetizer_run(opus, frame, 1, 0, 1000, false, &pk), !=, 0);
    g_assert_null(pk);
    g_assert_null(tsr_rtp_codec_by_name("narrowband")); /* not an SDP name */
    tsr_rtp_packetizer_free(&opus);
    tsr_rtp_packetizer_free(&narrow);
}

/* Packetization-mode 0: one NAL unit per packet as it is, in order, never
 * aggregated (the small SPS and PPS would be a STAP-A in mode 1) or fragmented; an
 * SEI too large is left out, a slice too large fails the frame. */
static size_t annexb_nal(uint8_t *out, uint8_t header, size_t len)
{
    static const uint8_t sc[4] = {0, 0, 0, 1};
    memcpy(out, sc, 4);
    out[4] = header;
    for (size_t i = 1; i < len; i++)
        out[4 + i] = (uint8_t)(0x40 + i % 64); /* no start code inside */
    return 4 + len;
}

static void test_h264_single_nal(void)
{
    static uint8_t frame[8000];
    size_t len = 0;
    len += annexb_nal(frame + len, 0x67, 12);   /* SPS */
    len += annexb_nal(frame + len, 0x68, 5);    /* PPS */
    len += annexb_nal(frame + len, 0x06, 1500); /* SEI over the packet */
    len += annexb_nal(frame + len, 0x65, 1100); /* IDR slice */
    len += annexb_nal(frame + len, 0x65, 700);  /* IDR slice */
    struct tsr_rtp_packetizer *pz = NULL;
    g_assert_cmpint(tsr_rtp_packetizer_new(&pz, &tsr_rtp_codec_h264_single), ==, 0);
    struct tsr_rtp_packetized *pk = NULL;
    g_assert_cmpint(tsr_rtp_packetizer_run(pz, frame, len, 0, 0, true, &pk), ==, 0);
    static const uint8_t types[] = {7, 8, 5, 5};
    static const size_t lens[] = {12, 5, 1100, 700};
    g_assert_cmpuint(tsr_rtp_packetized_count(pk), ==, 4);
    for (size_t i = 0; i < 4; i++) {
        const uint8_t *d;
        size_t n;
        bool marker;
        g_assert_cmpint(tsr_rtp_packetized_get(pk, i, &d, &n, &marker), ==, 0);
        g_assert_cmpuint(d[0] & 0x1f, ==, types[i]);
        g_assert_cmpuint(n, ==, lens[i]);
        g_assert_true(marker == (i == 3));
    }
    tsr_rtp_packetized_unref(&pk);
    /* The same frame in mode 1 aggregates SPS and PPS and fragments the SEI. */
    struct tsr_rtp_packetizer *pz1 = NULL;
    g_assert_cmpint(tsr_rtp_packetizer_new(&pz1, &tsr_rtp_codec_h264), ==, 0);
    g_assert_cmpint(tsr_rtp_packetizer_run(pz1, frame, len, 0, 0, true, &pk), ==, 0);
    const uint8_t *d;
    size_t n;
    bool marker;
    g_assert_cmpint(tsr_rtp_packetized_get(pk, 0, &d, &n, &marker), ==, 0);
    g_assert_cmpuint(d[0] & 0x1f, ==, 24);
    tsr_rtp_packetized_unref(&pk);
    tsr_rtp_packetizer_free(&pz1);
    /* A slice over the packet cannot be sent in mode 0. */
    len = annexb_nal(frame, 0x65, 1400);
    g_assert_cmpint(tsr_rtp_packetizer_run(pz, frame, len, 0, 0, true, &pk), ==, -EMSGSIZE);
    g_assert_null(pk);
    tsr_rtp_packetizer_free(&pz);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    av_log_set_level(AV_LOG_ERROR);
    g_test_add_func("/rtp_codec/vp8_roundtrip", test_vp8_roundtrip);
    g_test_add_func("/rtp_codec/h264_roundtrip", test_h264_roundtrip);
    g_test_add_func("/rtp_codec/opus_roundtrip", test_opus_roundtrip);
    g_test_add_func("/rtp_codec/vp8_vector", test_vp8_vector);
    g_test_add_func("/rtp_codec/h264_vector", test_h264_vector);
    g_test_add_func("/rtp_codec/malformed_payloads", test_malformed_payloads);
    g_test_add_func("/rtp_codec/narrowband", test_narrowband);
    g_test_add_func("/rtp_codec/h264_single_nal", test_h264_single_nal);
    int rc = g_test_run();
    tsr_metrics_reset();
    return rc;
}
