/* The SIP front's wire tests' harness: see sip_wire.c. */
#ifndef TSR_TEST_SIP_WIRE_H
#define TSR_TEST_SIP_WIRE_H

#include <tessera/conference.h>
#include <tessera/sip_front.h>
#include <tessera/srtp.h>

#include <gio/gio.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define FAKE_ANSWER                                                                                \
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"                    \
    "m=audio 40000 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n"

/* What the fake media answers to a re-offer (another port). */
#define FAKE_REANSWER                                                                              \
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"                    \
    "m=audio 40002 RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n"

/* What the fake media offers to an INVITE without SDP (attach_offer). */
#define FAKE_OFFER                                                                                 \
    "v=0\r\no=- 3 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"                    \
    "m=audio 40004 RTP/AVP 96 0\r\na=rtpmap:96 opus/48000/2\r\na=sendrecv\r\n"

struct server {
    GMainContext *ctx;
    GMainLoop *loop;
    GThread *thread;
    struct tsr_conference_registry *reg;
    struct tsr_sip_front *sip;
    uint16_t port;
    GMutex lock;
    GCond cond;
    bool ready;
    int start_rc;
};

struct caller {
    GSocket *sock;
    uint16_t port;
    GSocketAddress *server;
    unsigned cseq;
};

/* The fake media (a test double for the media engine) and what it saw. */
extern const struct tsr_conference_media_ops fake_media;
extern gint keyframe_requests; /* request_keyframe calls (SIP INFO picture_fast_update) */
/* The next answer the fake media is given for its offer (apply_send_answer; one
 * marked "nocodec" is refused as picking no offered codec), g_free; g_error
 * after 10 s. */
char *fake_next_answer(void);
/* The next server's [sip] session_expires_s (and min_se_s); 0: default. */
extern unsigned session_expires_s;
/* The next server's [sip] offer_srtp (none by default). */
extern enum tsr_sdp_offer_srtp server_offer_srtp;
/* Non-NULL: the caller's media is SRTP under it (send_rtp_from and send_udp
 * protect, read_prompt unprotects and asserts that it checks). */
extern struct tsr_srtp *caller_srtp;
/* A plain Opus offer from 127.0.0.1:4000. */
extern const char *const offer_sdp;

/* The server thread with conferences "room", "pin" (host 1234, guest 5678) and
 * "small" (one seat), SIP on a random UDP port of 127.0.0.1 (s->port). */
void server_start(struct server *s);
void server_stop(struct server *s);
/* Participants in the registry (asked on the server thread). */
size_t n_participants(struct server *s);

void caller_open(struct caller *c, uint16_t server_port);
void caller_close(struct caller *c);
/* One request; to_tag "" means none on To; extra: header lines, each ending CRLF. */
void send_full(struct caller *c, const char *method, const char *user, const char *call_id,
               const char *to_tag, const char *extra, const char *type, const char *body);
void send_typed(struct caller *c, const char *method, const char *user, const char *call_id,
                const char *to_tag, const char *type, const char *body);
void send_request(struct caller *c, const char *method, const char *user, const char *call_id,
                  const char *to_tag, const char *body);
/* The next message that is not a provisional response (g_error after 10 s). */
char *receive_final(struct caller *c);
/* The value of header `name` (first line), or NULL; the To tag ("" when none). */
char *header(const char *msg, const char *name);
char *to_tag(const char *msg);
char *st_replace(const char *text, const char *from, const char *to);
/* A response to a request the server sent (its Via, From, To, Call-ID, CSeq back). */
void respond_request(struct caller *c, const char *req, const char *status);
void answer_request(struct caller *c, const char *req);

void respond_request_sdp(struct caller *c, const char *req, const char *status, const char *sdp);

/* tessera_sip_errors_total{code} now. */
uint64_t sip_errors(const char *code);
/* The BYE the server sends (g_error when the next message is not one): its
 * Reason must be `reason`; answered 200. */
void expect_bye(struct caller *c, const char *reason);
/* Keys by SIP INFO application/dtmf-relay to conference "pin", each answered 200. */
void send_keys(struct caller *c, const char *call_id, const char *tag, const char *keys);

/* The lobby's prompt as a caller hears it. */
struct prompt_rx {
    int pt; /* 0 (PCMU) or 9 (G.722) */
    struct tsr_g722_decoder *g722;
    unsigned packets, beeps_880, beeps_330, quiet;
    uint16_t last_seq;
    uint32_t last_ts;
};
/* Reads n RTP packets of the prompt: rx->pt, 20 ms, consecutive sequence numbers
 * and timestamps 160 apart; counts 880 Hz, 330 Hz and quiet frames. */
void read_prompt(GSocket *rtp, unsigned n, struct prompt_rx *rx);
/* A UDP socket on 127.0.0.1 (*port), 10 s receive timeout. */
GSocket *loopback_udp(uint16_t *port);
/* The usual start of a lobby test: the server, a caller on it, and the caller's RTP
 * socket (loopback_udp, *port). */
GSocket *lobby_rig_open(struct server *s, struct caller *c, uint16_t *port);
/* The port of the SDP's first `kind` ("audio", "video") section in msg. */
uint16_t answer_port(const char *msg, const char *kind);
/* One RTP packet of payload type pt from sock to 127.0.0.1:port. */
void send_rtp_from(GSocket *sock, uint16_t port, int pt);
/* The RTP packet pkt (len bytes, room for an SRTP tag after them) from sock to
 * 127.0.0.1:port, protected when caller_srtp is set. */
void send_udp(GSocket *sock, uint16_t port, uint8_t *pkt, size_t len);
/* One whole H.264 frame of payload type pt (up to the marker), depacketized; its
 * RTP timestamp in *ts. */
GBytes *receive_frame(GSocket *sock, int pt, uint32_t *ts);
struct AVFrame;
/* The lobby's "enter PIN" picture on sock (H.264, payload type pt): two frames a
 * second (90000 ticks) apart, the second decoded at 640x360; av_frame_free it. */
struct AVFrame *receive_lobby_picture(GSocket *sock, int pt);

#endif
