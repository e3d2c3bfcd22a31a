/* One synthetic participant's state, shared by load_peer.c (signalling, sending)
 * and load_peer_rx.c (receiving, RTCP). Home thread: the run's main loop. */
#ifndef TESSERA_LOAD_PEER_INTERNAL_H
#define TESSERA_LOAD_PEER_INTERNAL_H

#include "load.h"

#include <tessera/jitter_buffer.h>
#include <tessera/video_decoder.h>
#include <tessera/webrtc_transport.h>

#define LOAD_AUDIO_PT 111
#define LOAD_VP8_PT 96
#define LOAD_H264_PT 102
#define LOAD_AUDIO_LEVEL_EXT 1
#define LOAD_FREEZE_US 200000
#define LOAD_DRAIN_US 100000 /* a count-only receiver reads its socket 10 times a second */

enum load_peer_state {
    LOAD_PEER_JOINING,    /* join request sent */
    LOAD_PEER_CONNECTING, /* answered; ICE/DTLS under way */
    LOAD_PEER_CONNECTED,
    LOAD_PEER_LEAVING,
    LOAD_PEER_FAILED,
    LOAD_PEER_LEFT,
};

struct load_peer {
    struct load_peer_params p;
    enum load_peer_state state;
    char name[48];
    char *id, *token;
    struct tsr_webrtc_transport *t;
    GPtrArray *early_candidates; /* gathered before the join answer */
    bool http_busy;              /* a request holds a pointer to us */
    bool free_when_idle;

    /* sending */
    uint32_t ssrc_audio, ssrc_video;
    uint16_t seq_audio, seq_video;
    uint32_t ts_audio, ts_video0;
    int64_t start_us;
    int rendition, pending_rendition; /* −1: none pending */
    bool pending_keyframe;
    int64_t last_switch_us, last_keyframe_us;
    int loop_pos, audio_pos;
    bool dtx; /* the answer asked for Opus DTX: silence goes out once per 400 ms */
    unsigned silent_frames;
    int64_t sent_us[LOAD_LOOP_FRAMES];
    int64_t last_remb_in_bps;

    /* receiving */
    uint8_t video_pt;
    const struct tsr_rtp_codec *rx_codec;
    uint32_t server_video_ssrc;
    struct tsr_jitter_buffer *jb;
    struct tsr_video_decoder *vdec;
    bool audio_seq_started;
    uint16_t audio_last_seq;
    int64_t join_sent_us;
    bool joined_measured;
    int64_t next_remb_us, next_refresh_us, leave_at_us;
    int64_t next_audio_us, next_video_us;
    int last_stamp[LOAD_MAX_COLOURS];
    struct load_rx_stats st;
    GSocket *rx_sock; /* count_only: the pair's socket, read every LOAD_DRAIN_US */
    int64_t next_drain_us;
};

/* load_peer_rx.c */
void load_peer_on_rtp(void *user, uint8_t *data, size_t len);
void load_peer_on_rtcp(void *user, uint8_t *data, size_t len);
void load_peer_rx_poll(struct load_peer *p, int64_t now_us);
/* Purpose: count what waits on a count-only receiver's socket (RTP headers of the
 * mix, which SRTP leaves in clear; RTCP skipped). */
void load_peer_rx_drain(struct load_peer *p);
int load_peer_rx_init(struct load_peer *p, enum tsr_video_codec codec);

#endif
