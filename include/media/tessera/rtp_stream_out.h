/* Outgoing RTP stream of one subscriber: its own SSRC, sequence numbers and
 * timestamps in front of shared, packetized-once payloads; a retransmission
 * buffer answering NACKs (RTX, RFC 4588, when negotiated, else plain resend);
 * the numbers for its RTCP sender reports.
 *
 * Timestamps come from the frame's capture time on the participant's media clock
 * (struct tsr_media_clock), never from the encoder, so SSRC/seq/ts stay
 * continuous when the subscriber moves to another encoder and SRs of audio and
 * video describe one timeline. The retransmission buffer holds references to the
 * packetized frames (no copies). Home thread: the subscriber's net loop; not
 * thread-safe. Pure: the caller sends the bytes (after SRTP protect). */
#ifndef TESSERA_RTP_STREAM_OUT_H
#define TESSERA_RTP_STREAM_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tessera/rtcp.h>
#include <tessera/rtp_codec.h>

struct tsr_rtp_stream_out_config {
    uint32_t ssrc;
    uint8_t payload_type;
    uint32_t clock_rate;       /* 90000 video, 48000 Opus */
    uint32_t timestamp_offset; /* random initial RTP timestamp offset */
    uint16_t first_seq;        /* random initial sequence number */
    uint32_t rtx_ssrc;         /* used when rtx_payload_type != 0 */
    uint8_t rtx_payload_type;  /* 0: RTX not negotiated, resend the original packet */
    uint16_t rtx_first_seq;
    size_t history_packets;     /* retransmission buffer size, default 512 (0 = default) */
    int64_t history_max_age_ms; /* older packets are not resent, default 1000 (0 = default) */
    /* Header extension ids to write (0 = do not write). */
    uint8_t ext_mid_id;
    char mid[17];
    uint8_t ext_abs_send_time_id;
    uint8_t ext_transport_cc_id;
    uint8_t ext_audio_level_id;
    /* RED (RFC 2198, audio): 0 = send payloads as they are. Else the RTP payload
     * type is red_payload_type and each payload travels as RED's primary block
     * (payload_type) after copies of the red_distance payloads sent before it
     * (1..TSR_RTP_STREAM_OUT_MAX_RED_DISTANCE; 0 = 1) that are still within RED's
     * reach (14-bit timestamp offset, 1023 bytes). Header extensions are as usual. */
    uint8_t red_payload_type;
    uint8_t red_distance;
    /* A stream that carries on another under the same SSRC (a codec change): what
     * that one sent, so sender reports keep counting (RFC 3550 §6.4.1 resets the
     * counts only with a new SSRC). 0 for a new stream. */
    uint64_t carried_packets, carried_octets;
};

#define TSR_RTP_STREAM_OUT_MAX_RED_DISTANCE 4

struct tsr_rtp_stream_out;

/* Purpose: create. `clock` is borrowed and must outlive the stream (one per
 * participant, shared by its audio and video streams). Returns 0, -EINVAL, -ENOMEM. */
int tsr_rtp_stream_out_new(struct tsr_rtp_stream_out **out,
                           const struct tsr_rtp_stream_out_config *cfg,
                           const struct tsr_media_clock *clock);
void tsr_rtp_stream_out_free(struct tsr_rtp_stream_out **s);

/* Per-packet extras chosen by the caller. */
struct tsr_rtp_send_opts {
    int64_t now_us;           /* send time: abs-send-time and history ageing */
    int32_t transport_cc_seq; /* −1: none; else written when ext id configured */
    int audio_level_dbov;     /* −1: none; 0..127 */
    bool voice_activity;
};

/* Purpose: write RTP packet for payload `index` of `pkts` into buf (header +
 * extensions + payload; SRTP trailer room is the caller's business) and remember
 * it for retransmission. Returns 0 and *len, -EINVAL, TSR_ERR_FULL (cap too small;
 * nothing consumed: the sequence number is not advanced).
 * Ownership: takes a new reference to `pkts` for the history. */
int tsr_rtp_stream_out_write(struct tsr_rtp_stream_out *s, struct tsr_rtp_packetized *pkts,
                             size_t index, const struct tsr_rtp_send_opts *opts, uint8_t *buf,
                             size_t cap, size_t *len);

/* Purpose: answer a NACK for `seq`: RTX packet (rtx_ssrc, next RTX seq, original
 * seq as the first 2 payload bytes) or the original packet again (in RED, with
 * the copies it had, when RED is on).
 * Returns 0 and *len; TSR_ERR_NOT_FOUND when seq is not (or no longer) in history
 * (counted); TSR_ERR_FULL when cap is too small. */
int tsr_rtp_stream_out_retransmit(struct tsr_rtp_stream_out *s, uint16_t seq,
                                  const struct tsr_rtp_send_opts *opts, uint8_t *buf, size_t cap,
                                  size_t *len);

/* Purpose: start (red_payload_type non-zero) or stop sending RED from the next
 * packet on, after a renegotiation; same meaning as the config fields.
 * Returns 0, -EINVAL. */
int tsr_rtp_stream_out_set_red(struct tsr_rtp_stream_out *s, uint8_t red_payload_type,
                               uint8_t red_distance);

/* Purpose: fill a sender report (ssrc, NTP and RTP time of `now_us` from the media
 * clock, packet and octet counts; n_reports = 0: the caller adds report blocks).
 * Returns 0, or TSR_ERR_STATE before anything was sent (RFC 3550: no SR yet). */
int tsr_rtp_stream_out_fill_sr(const struct tsr_rtp_stream_out *s, int64_t now_us,
                               struct tsr_rtcp_sr *sr);

/* Purpose: RTP timestamp this stream uses for media-clock time `capture_us`. */
uint32_t tsr_rtp_stream_out_timestamp(const struct tsr_rtp_stream_out *s, int64_t capture_us);

uint32_t tsr_rtp_stream_out_ssrc(const struct tsr_rtp_stream_out *s);
/* Next sequence number to be used. */
uint16_t tsr_rtp_stream_out_next_seq(const struct tsr_rtp_stream_out *s);

struct tsr_rtp_stream_out_stats {
    uint64_t packets_sent;
    uint64_t octets_sent; /* payload octets, as in SR */
    uint64_t retransmitted;
    uint64_t nack_misses; /* NACKed seq not in history */
};

void tsr_rtp_stream_out_get_stats(const struct tsr_rtp_stream_out *s,
                                  struct tsr_rtp_stream_out_stats *out);

#endif
