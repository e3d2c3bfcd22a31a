/* The SIP front's wire tests' harness: see sip_wire.c. */
#ifndef TSR_TEST_SIP_WIRE_H
#define TSR_TEST_SIP_WIRE_H

#include <tessera/conference.h>
#include <tessera/sip_front.h>

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

#endif
