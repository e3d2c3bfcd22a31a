/* Internal to src/sip: the PIN lobby's "enter PIN" picture (sip_picture.c). */
#ifndef TSR_SIP_PICTURE_H
#define TSR_SIP_PICTURE_H

#include <gio/gio.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Purpose: the picture as one encoded keyframe (H.264 Annex B, or VP8), made on
 * first use and kept for the process. Returns a new reference, or NULL when it
 * cannot be encoded (logged). Thread: any. */
GBytes *tsr_sip_picture_get(bool h264);

struct tsr_sip_lobby_video;

/* Purpose: symmetric RTP for the lobby's media: a genuine packet from `from`
 * latches *peer to it when nothing is latched or the latched address has been
 * quiet for quiet_us, and refreshes *heard_us when it comes from *peer; packets
 * from elsewhere while the latched address is live change nothing. */
void tsr_sip_latch(GSocketAddress **peer, bool *latched, int64_t *heard_us, GSocketAddress *from,
                   int64_t quiet_us);
struct tsr_sip_lobby_pic;

/* Purpose: the lobby's video sender for section `sec` (its codec, address, SDES):
 * a UDP socket on `local` (*port), the picture packetized, our SRTP key written
 * into sec->local_crypto. Returns 0, TSR_ERR_CODEC (no picture), TSR_ERR_IO.
 * Ownership: *out is the caller's. Thread: the API loop (ctx). */
int tsr_sip_lobby_pic_new(struct tsr_sip_lobby_pic **out, GMainContext *ctx, const char *local,
                          struct tsr_sip_lobby_video *sec, uint16_t *port);
/* Purpose: the same in two steps, for our own offer (an INVITE without SDP): the
 * socket first (its port goes in the offer; until the setup only RTCP latches and
 * nothing is sent), then the section the answer chose. _bind returns 0 or
 * TSR_ERR_IO; _setup 0, TSR_ERR_CODEC (no picture; the sender stays silent) or
 * TSR_ERR_INVALID (set up already). */
int tsr_sip_lobby_pic_bind(struct tsr_sip_lobby_pic **out, GMainContext *ctx, const char *local,
                           uint16_t *port);
int tsr_sip_lobby_pic_setup(struct tsr_sip_lobby_pic *v, struct tsr_sip_lobby_video *sec);
/* Purpose: the SSRC the picture is sent with (for our offer's a=ssrc). */
uint32_t tsr_sip_lobby_pic_ssrc(const struct tsr_sip_lobby_pic *v);
/* Purpose: the caller's audio was heard from audio_from: the picture may go to the
 * offer's video port at that address (until its own video or RTCP shows another). */
void tsr_sip_lobby_pic_heard(struct tsr_sip_lobby_pic *v, GSocketAddress *audio_from);
/* Purpose: send the first picture now (after the answer went out). */
void tsr_sip_lobby_pic_start(struct tsr_sip_lobby_pic *v);
void tsr_sip_lobby_pic_free(struct tsr_sip_lobby_pic **p);

#endif
