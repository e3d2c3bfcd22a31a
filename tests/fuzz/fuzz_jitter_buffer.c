/* libFuzzer target: the video jitter buffer and the audio buffer driven by a
 * stream of records [flags][len][RTP packet bytes]: flags pick the time step and
 * which polls run. Byte 0 picks VP8 or H.264 for the video buffer. Invariants:
 * every emitted frame spans whole sequence numbers, NACK lists fit their buffer. */
#include <stdint.h>
#include <stdlib.h>

#include <tessera/audio_buffer.h>
#include <tessera/jitter_buffer.h>
#include <tessera/rtp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tsr_jitter_buffer_config cfg;
    struct tsr_jitter_buffer *jb = NULL;
    struct tsr_audio_buffer *ab = NULL;
    int64_t now = 0;
    size_t off = 1;

    if (size < 1)
        return 0;
    tsr_jitter_buffer_config_default(&cfg);
    cfg.max_packets = 64; /* small ring: exercise wrap-around and flushes */
    if (tsr_jitter_buffer_new(&jb, (data[0] & 1) ? &tsr_rtp_codec_h264 : &tsr_rtp_codec_vp8,
                              &cfg) != 0 ||
        tsr_audio_buffer_new(&ab, NULL) != 0)
        abort();
    while (size - off >= 2) {
        uint8_t flags = data[off];
        size_t l = data[off + 1];
        off += 2;
        if (l > size - off)
            l = size - off;
        uint8_t *pkt = malloc(l ? l : 1);
        for (size_t i = 0; i < l; i++)
            pkt[i] = data[off + i];
        off += l;
        now += (int64_t)(flags & 0x0f) * 7000;
        struct tsr_rtp_header h;
        if (tsr_rtp_parse(pkt, l, &h) == 0) {
            if (flags & 0x10) {
                struct tsr_audio_packet ap = {.data = h.payload, .len_bytes = h.payload_bytes,
                                              .ts_rtp = h.timestamp_rtp, .seq = h.seq,
                                              .level = TSR_AUDIO_LEVEL_ABSENT};
                (void)tsr_audio_buffer_push(ab, &ap, now);
            } else
                (void)tsr_jitter_buffer_push(jb, &h, now);
        }
        struct tsr_jitter_buffer_frame f;
        while (tsr_jitter_buffer_pop_frame(jb, now, &f) == 0) {
            if ((uint16_t)(f.last_seq - f.first_seq) >= 64 || !f.data)
                abort();
            g_bytes_unref(f.data);
        }
        if (flags & 0x20) {
            uint16_t seqs[16];
            size_t n;
            tsr_jitter_buffer_poll_nack(jb, now, seqs, 16, &n);
            if (n > 16)
                abort();
        }
        if (flags & 0x40)
            (void)tsr_jitter_buffer_poll_keyframe_request(jb, now);
        if (flags & 0x80)
            tsr_jitter_buffer_request_keyframe(jb, now);
        struct tsr_audio_buffer_out o;
        if (tsr_audio_buffer_pop(ab, now, &o) != TSR_AUDIO_BUFFER_EMPTY && o.len > sizeof o.data)
            abort();
        (void)tsr_jitter_buffer_next_wakeup_us(jb);
        free(pkt);
    }
    tsr_jitter_buffer_free(&jb);
    tsr_audio_buffer_free(&ab);
    return 0;
}
