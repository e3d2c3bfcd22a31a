/* PIN entry for SIP callers. A call to a PIN-protected conference is answered at
 * once with audio receive-only (the caller's codec and telephone-event) and every
 * other section inactive; the caller is not a participant yet. Keys come as RFC
 * 4733 events on the lobby's UDP port or as SIP INFO dtmf-relay; '#' submits, and
 * the PIN goes through the conference core's join like any front's (the core
 * chooses host or guest and limits guesses per conference and address). Right:
 * the join's answer goes to the caller in a re-INVITE (same o= session, next
 * version) and the lobby closes. Wrong: the caller may try again; the third wrong
 * PIN, or the core's guess limit, ends the call with a BYE and a Reason.
 *
 * The lobby's socket is read on the API loop: it only looks at RTP headers and
 * 4-byte event payloads and drops the caller's audio unread (about 50 small
 * packets a second per caller waiting), which keeps the lobby free of any net
 * loop's state. The same socket plays the prompt tones (sip_prompt.c) to where the
 * caller's packets come from, one packet per 20 ms timer tick; the "enter PIN"
 * picture has a socket of its own (sip_lobby_picture.c).
 *
 * An INVITE without SDP (a delayed offer) gets our lobby offer in the 200
 * (sip_lobby_offer.c) on both sockets; the ACK's answer sets the lobby up as an
 * offer would, and after the right PIN the join makes the media layer's offer,
 * sent in the re-INVITE, whose 200 carries the caller's answer.
 * Home thread: the API loop. */
#include "sip_internal.h"
#include "sip_picture.h"
#include "sip_prompt.h"

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/rtp_dtmf.h>
#include <tessera/rtp_transport.h>
#include <tessera/srtp.h>

#include <gio/gio.h>
#include <string.h>

#define PIN_MAX 32
#define PIN_ATTEMPTS 3
#define RECV_BATCH 64
/* A caller that never finishes a PIN does not hold a port and a call for ever. */
#define LOBBY_TIMEOUT_S 120
#define PROMPT_FRAME_US 20000
#define PROMPT_CATCH_UP 5 /* frames sent at most per tick after a late wake-up */
/* The prompt goes only to where the caller's own packets come from, and only while
 * they keep coming: an INVITE naming someone else's address, or one spoofed
 * packet, cannot aim the lobby's media at a third party for long. */
#define PEER_QUIET_US (5 * G_USEC_PER_SEC)

struct sip_lobby {
    GSocket *sock;
    GSource *source;
    GSource *timeout;
    struct tsr_sip_lobby_sdp sdp;
    struct tsr_dtmf_collector collector;
    char pin[PIN_MAX + 1];
    size_t n;
    bool overflow;                     /* more than PIN_MAX keys before '#': that PIN is wrong */
    struct tsr_srtp *srtp;             /* SDES-SRTP lobbies: checks keys, protects the prompt */
    struct tsr_sip_prompt *prompt;     /* NULL: the caller's codec has no prompt here */
    struct tsr_sip_lobby_pic *picture; /* the "enter PIN" picture, or NULL */
    GSource *prompt_timer;
    GSocketAddress *peer; /* where the prompt goes: where the caller's packets come from */
    bool latched;
    int64_t heard_us; /* when the latched address last sent a genuine packet */
    int64_t prompt_t0;
    uint64_t prompt_sent;
    /* An INVITE without SDP: what our lobby offer said (its answer comes in the ACK). */
    char address[64];
    struct tsr_sip_lobby_ours ours;
    uint8_t sdes_keys[2][TSR_SDES_KEY_SALT_BYTES]; /* audio, video: offered with a=crypto */
};

/* One datagram from the caller; false when it is not its (S)RTP: an SRTP packet
 * that fails authentication moves nothing and is dropped. */
static bool on_packet(struct sip_call *c, uint8_t *buf, size_t len)
{
    struct sip_lobby *l = c->lobby;
    if (l->srtp) {
        int rc = tsr_srtp_unprotect_rtp(l->srtp, buf, &len);
        if (rc != 0) {
            TSR_LOG(TSR_LOG_DEBUG, "sip", "[%s] lobby: SRTP packet dropped: %s", c->alias,
                    tsr_strerror(rc));
            return false;
        }
    }
    if (l->sdp.event_pt < 0)
        return true;
    struct tsr_dtmf_event ev;
    int rc = tsr_rtp_dtmf_parse(buf, len, (uint8_t)l->sdp.event_pt, &ev);
    if (rc == TSR_ERR_NOT_FOUND)
        return true; /* the caller's audio */
    if (rc != 0) {
        tsr_counter_inc(c->front->dtmf_errors);
        TSR_LOG(TSR_LOG_DEBUG, "sip", "[%s] lobby: not an RTP event packet (%zu bytes): %s",
                c->alias, len, tsr_strerror(rc));
        return true;
    }
    /* The key itself is not logged: it is part of a PIN. */
    TSR_LOG(TSR_LOG_DEBUG, "sip", "[%s] lobby: event packet ts %u end %d duration %u volume %u",
            c->alias, ev.timestamp, ev.end, ev.duration, ev.volume);
    char key = tsr_dtmf_collector_push(&l->collector, &ev);
    if (key)
        tsr_sip_lobby_key(c, key); /* may close the lobby */
    return true;
}

static gboolean on_readable(GSocket *sock, GIOCondition cond, gpointer user)
{
    struct sip_call *c = user;
    struct sip_lobby *l = c->lobby;
    (void)cond;
    uint8_t buf[1500];
    /* A bounded batch, so a flood cannot hold the API loop; the source fires again. */
    for (int i = 0; i < RECV_BATCH && c->lobby == l; i++) {
        GSocketAddress *from = NULL;
        gssize n = g_socket_receive_from(sock, &from, (gchar *)buf, sizeof buf, NULL, NULL);
        if (n < 0)
            break;
        int pt = n >= 12 && (buf[0] & 0xc0) == 0x80 ? buf[1] & 0x7f : -1;
        bool ours = pt >= 0 && (pt == l->sdp.audio_pt || pt == l->sdp.event_pt);
        if (ours && on_packet(c, buf, (size_t)n) && c->lobby == l && from) {
            tsr_sip_latch(&l->peer, &l->latched, &l->heard_us, from, PEER_QUIET_US);
            if (l->picture)
                tsr_sip_lobby_pic_heard(l->picture, from);
        }
        g_clear_object(&from);
    }
    return G_SOURCE_CONTINUE; /* tsr_sip_lobby_close destroys the source */
}

static int lobby_bind(struct sip_call *c, struct sip_lobby *l, const char *addr, uint16_t *port)
{
    GInetAddress *ia = g_inet_address_new_from_string(addr);
    if (!ia)
        return TSR_ERR_IO;
    GSocketAddress *sa = g_inet_socket_address_new(ia, 0);
    l->sock = g_socket_new(g_inet_address_get_family(ia), G_SOCKET_TYPE_DATAGRAM,
                           G_SOCKET_PROTOCOL_UDP, NULL);
    bool ok = l->sock && g_socket_bind(l->sock, sa, FALSE, NULL);
    g_object_unref(sa);
    g_object_unref(ia);
    if (!ok)
        return TSR_ERR_IO;
    g_socket_set_blocking(l->sock, FALSE);
    GSocketAddress *bound = g_socket_get_local_address(l->sock, NULL);
    *port = bound ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)) : 0;
    if (bound)
        g_object_unref(bound);
    l->source = g_socket_create_source(l->sock, G_IO_IN, NULL);
    g_source_set_callback(l->source, G_SOURCE_FUNC(on_readable), c, NULL);
    g_source_attach(l->source, c->front->ctx);
    return *port ? 0 : TSR_ERR_IO;
}

static gboolean on_timeout(gpointer user)
{
    struct sip_call *c = user;
    if (!c->lobby || c->join)
        return G_SOURCE_CONTINUE; /* a PIN being checked: its answer decides */
    tsr_counter_inc(c->front->pin_hangups);
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s] no PIN within %d s: BYE", c->alias, LOBBY_TIMEOUT_S);
    tsr_sip_lobby_close(c);
    tsr_sip_call_bye(c, 408, "no PIN was entered in time");
    return G_SOURCE_CONTINUE; /* closing destroyed this source already */
}

/* The prompt's codec: the lobby's audio codec when we can encode it. */
static enum tsr_sip_prompt_codec prompt_codec(const struct tsr_sip_lobby_sdp *s)
{
    if (g_ascii_strncasecmp(s->audio_rtpmap, "opus/48000", 10) == 0)
        return TSR_SIP_PROMPT_OPUS;
    bool named = s->audio_rtpmap[0] != '\0';
    if (s->audio_pt == 0 && (!named || g_ascii_strncasecmp(s->audio_rtpmap, "PCMU/8000", 9) == 0))
        return TSR_SIP_PROMPT_PCMU;
    if (s->audio_pt == 8 && (!named || g_ascii_strncasecmp(s->audio_rtpmap, "PCMA/8000", 9) == 0))
        return TSR_SIP_PROMPT_PCMA;
    if (s->audio_pt == 9 && (!named || g_ascii_strncasecmp(s->audio_rtpmap, "G722/8000", 9) == 0))
        return TSR_SIP_PROMPT_G722;
    return TSR_SIP_PROMPT_NONE;
}

static gboolean on_prompt_tick(gpointer user)
{
    struct sip_call *c = user;
    struct sip_lobby *l = c->lobby;
    uint64_t due = (uint64_t)(g_get_monotonic_time() - l->prompt_t0) / PROMPT_FRAME_US + 1;
    if (due > l->prompt_sent + PROMPT_CATCH_UP)
        l->prompt_sent = due - PROMPT_CATCH_UP; /* a long stall: skip, do not burst */
    uint8_t pkt[512];
    bool live = l->latched && g_get_monotonic_time() - l->heard_us < PEER_QUIET_US;
    for (; l->prompt_sent < due; l->prompt_sent++) {
        size_t n = tsr_sip_prompt_next(l->prompt, (uint8_t)l->sdp.audio_pt, pkt, sizeof pkt);
        if (!live)
            continue; /* the cadence runs on; nothing is sent until the caller is heard */
        if (n && l->srtp && tsr_srtp_protect_rtp(l->srtp, pkt, &n, sizeof pkt) != 0)
            n = 0;
        if (n)
            g_socket_send_to(l->sock, l->peer, (const gchar *)pkt, n, NULL, NULL);
    }
    return G_SOURCE_CONTINUE;
}

/* Encodes the prompt in the caller's codec, if it can hear one; the answer then
 * says sendrecv. */
static void prompt_prepare(struct sip_call *c, struct sip_lobby *l)
{
    enum tsr_sip_prompt_codec codec = prompt_codec(&l->sdp);
    bool reachable = l->sdp.receives && l->sdp.remote_port &&
                     strcmp(l->sdp.remote_address, "0.0.0.0") != 0 &&
                     strcmp(l->sdp.remote_address, "::") != 0;
    if (codec == TSR_SIP_PROMPT_NONE || !reachable)
        return;
    if (tsr_sip_prompt_new(&l->prompt, codec) != 0) {
        TSR_LOG(TSR_LOG_WARN, "sip", "[%s] lobby: no prompt (cannot encode it)", c->alias);
        return;
    }
    l->sdp.prompt = true;
}

static void prompt_start(struct sip_call *c, struct sip_lobby *l)
{
    if (!l->prompt)
        return;
    l->prompt_t0 = g_get_monotonic_time();
    l->prompt_timer = g_timeout_source_new(PROMPT_FRAME_US / 1000);
    g_source_set_callback(l->prompt_timer, on_prompt_tick, c, NULL);
    g_source_attach(l->prompt_timer, c->front->ctx);
}

/* SDES: our key for the answer (the caller's tag and suite echoed), and the SRTP
 * session that checks its packets and protects the prompt. */
static int lobby_srtp(struct sip_lobby *l)
{
    struct tsr_sdp_crypto *ours = &l->sdp.local_crypto;
    int rc = 0;
    if (!l->sdp.local_keyed) { /* a delayed offer's lobby has the key it offered */
        ours->tag = l->sdp.remote_crypto.tag;
        ours->suite = l->sdp.remote_crypto.suite;
        rc = tsr_srtp_random_key(ours->key_salt, sizeof ours->key_salt);
    }
    struct tsr_dtls_srtp_keys keys;
    tsr_sdp_crypto_keys(ours, &l->sdp.remote_crypto, &keys);
    if (rc == 0)
        rc = tsr_srtp_new(&l->srtp, &keys);
    memset(&keys, 0, sizeof keys);
    return rc;
}

static void start_timeout(struct sip_call *c, struct sip_lobby *l)
{
    l->timeout = g_timeout_source_new_seconds(LOBBY_TIMEOUT_S);
    g_source_set_callback(l->timeout, on_timeout, c, NULL);
    g_source_attach(l->timeout, c->front->ctx);
}

/* Our o= session from the lobby's first SDP on, through the join's re-INVITE. */
static void new_session(struct sip_call *c)
{
    c->sdp_session_id = g_random_int() | ((uint64_t)g_random_int() << 31) | 1;
    c->sdp_version = 1;
}

int tsr_sip_lobby_open(struct sip_call *c, const char *offer, size_t len, const char **why)
{
    struct sip_lobby *l = g_new0(struct sip_lobby, 1);
    c->lobby = l;
    int rc = tsr_sip_lobby_sdp_read(offer, len, &l->sdp, why);
    char addr[64];
    uint16_t port = 0;
    if (rc == 0 &&
        (tsr_rtp_transport_route_address(l->sdp.remote_address, addr, sizeof addr) != 0 ||
         lobby_bind(c, l, addr, &port) != 0)) {
        rc = TSR_ERR_IO;
        *why = "no local address and port for PIN entry";
    }
    if (rc == 0 && l->sdp.srtp && (rc = lobby_srtp(l)) != 0)
        *why = "SRTP could not be set up for PIN entry";
    if (rc != 0) {
        tsr_sip_lobby_close(c);
        return rc;
    }
    prompt_prepare(c, l);
    new_session(c);
    uint16_t video_port = 0;
    if (l->sdp.video.pt >= 0 &&
        tsr_sip_lobby_pic_new(&l->picture, c->front->ctx, addr, &l->sdp.video, &video_port) == 0)
        l->sdp.video.picture = true;
    c->local_sdp =
        tsr_sip_lobby_sdp_answer(offer, len, &l->sdp, addr, port, video_port, c->sdp_session_id);
    c->answered = true;
    start_timeout(c, l);
    TSR_LOG(TSR_LOG_INFO, "sip",
            "[%s] PIN entry: lobby on %s:%u (telephone-event %d, INFO, %s, %s)", c->alias, addr,
            port, l->sdp.event_pt, l->prompt ? "prompt tones" : "no prompt for this codec",
            l->picture ? (l->sdp.video.h264 ? "picture H.264" : "picture VP8") : "no picture");
    prompt_start(c, l);
    if (l->picture)
        tsr_sip_lobby_pic_start(l->picture);
    nua_respond(c->nh, SIP_200_OK, TSR_SIP_CONTACT(c), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(c->local_sdp), TAG_END());
    return 0;
}

/* Where our offer says the lobby is: the address that routes to the caller's
 * signalling address (there is no SDP to route towards yet), else the default
 * route's, else loopback. */
static void offer_address(const struct sip_call *c, char *out, size_t size)
{
    if (c->client_address[0] && tsr_rtp_transport_route_address(c->client_address, out, size) == 0)
        return;
    if (tsr_rtp_transport_route_address("192.0.2.1", out, size) != 0) /* TEST-NET-1 */
        g_strlcpy(out, "127.0.0.1", size);
}

/* SDES keys for the lobby's offer when [sip] offer_srtp asks for them; without
 * randomness, plain RTP unless SRTP is mandatory. */
static int offer_keys(struct sip_call *c, struct sip_lobby *l, const char **why)
{
    enum tsr_sdp_offer_srtp mode = c->front->offer_srtp;
    if (mode == TSR_SDP_OFFER_SRTP_NONE)
        return 0;
    if (tsr_srtp_random_key(&l->sdes_keys[0][0], sizeof l->sdes_keys) != 0) {
        if (mode == TSR_SDP_OFFER_SRTP_MANDATORY) {
            *why = "no randomness for SDES keys, and [sip] offer_srtp is mandatory";
            return TSR_ERR_CRYPTO;
        }
        TSR_LOG(TSR_LOG_WARN, "sip", "[%s] no randomness for SDES keys: plain RTP offered",
                c->alias);
        return 0;
    }
    l->ours.offer_srtp = mode;
    l->ours.audio_key = l->sdes_keys[0];
    l->ours.video_key = l->sdes_keys[1];
    return 0;
}

int tsr_sip_lobby_offer(struct sip_call *c, const char **why)
{
    struct sip_lobby *l = g_new0(struct sip_lobby, 1);
    c->lobby = l;
    l->sdp.audio_pt = l->sdp.event_pt = l->sdp.video.pt = -1; /* nothing counts before the answer */
    offer_address(c, l->address, sizeof l->address);
    uint16_t port = 0, video_port = 0;
    int rc = lobby_bind(c, l, l->address, &port);
    if (rc == 0)
        rc = tsr_sip_lobby_pic_bind(&l->picture, c->front->ctx, l->address, &video_port);
    new_session(c);
    struct tsr_sip_lobby_ours ours = {.address = l->address,
                                      .audio_port = port,
                                      .video_port = video_port,
                                      .audio_ssrc = g_random_int() | 1,
                                      .video_ssrc =
                                          l->picture ? tsr_sip_lobby_pic_ssrc(l->picture) : 0,
                                      .session_id = c->sdp_session_id,
                                      .session_version = c->sdp_version};
    l->ours = ours;
    *why = "no local address and ports for PIN entry";
    if (rc == 0)
        rc = offer_keys(c, l, why);
    char *offer = NULL;
    if (rc == 0)
        rc = tsr_sip_lobby_sdp_offer(&l->ours, &offer);
    if (rc != 0) {
        tsr_sip_lobby_close(c);
        return rc;
    }
    c->local_sdp = offer;
    c->answered = true;
    c->awaiting_ack = true;
    start_timeout(c, l);
    TSR_LOG(TSR_LOG_INFO, "sip",
            "[%s] PIN entry for an INVITE without SDP: lobby offer on %s:%u "
            "(video %u), the answer due in the ACK",
            c->alias, l->address, port, video_port);
    nua_respond(c->nh, SIP_200_OK, TSR_SIP_CONTACT(c), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(c->local_sdp), TAG_END());
    return 0;
}

/* The picture where the answer takes video with a codec it can be sent in. */
static void answer_picture(struct sip_call *c, struct sip_lobby *l)
{
    if (l->sdp.video.pt >= 0 && l->picture &&
        tsr_sip_lobby_pic_setup(l->picture, &l->sdp.video) == 0) {
        l->sdp.video.picture = true;
        return;
    }
    if (l->sdp.video.pt >= 0)
        TSR_LOG(TSR_LOG_WARN, "sip", "[%s] lobby: no picture (cannot encode it)", c->alias);
    tsr_sip_lobby_pic_free(&l->picture);
}

void tsr_sip_lobby_answer(struct sip_call *c, const char *answer, size_t len)
{
    struct sip_lobby *l = c->lobby;
    char reason[TSR_SDP_REASON_MAX];
    int rc = tsr_sip_lobby_sdp_read_answer(answer, len, &l->ours, &l->sdp, reason);
    if (rc != 0) {
        tsr_sip_call_answer_failed(c, rc == TSR_ERR_INVALID ? 400 : 488, "bad_answer", reason);
        return;
    }
    if (l->sdp.srtp && lobby_srtp(l) != 0) {
        tsr_sip_call_answer_failed(c, 500, "bad_answer", "SRTP could not be set up for PIN entry");
        return;
    }
    prompt_prepare(c, l);
    if (l->prompt)
        tsr_sip_prompt_set_ssrc(l->prompt, l->ours.audio_ssrc);
    answer_picture(c, l);
    TSR_LOG(TSR_LOG_INFO, "sip",
            "[%s] PIN entry: the ACK's answer takes %s %d at %s:%u%s "
            "(telephone-event %d, INFO, %s, %s)",
            c->alias, l->sdp.audio_rtpmap, l->sdp.audio_pt, l->sdp.remote_address,
            l->sdp.remote_port, l->srtp ? " with SDES-SRTP" : "", l->sdp.event_pt,
            l->prompt ? "prompt tones" : "no prompt",
            l->picture ? (l->sdp.video.h264 ? "picture H.264" : "picture VP8") : "no picture");
    prompt_start(c, l);
    if (l->picture)
        tsr_sip_lobby_pic_start(l->picture);
}

void tsr_sip_lobby_close(struct sip_call *c)
{
    struct sip_lobby *l = c->lobby;
    if (!l)
        return;
    c->lobby = NULL;
    if (l->source) {
        g_source_destroy(l->source);
        g_source_unref(l->source);
    }
    if (l->timeout) {
        g_source_destroy(l->timeout);
        g_source_unref(l->timeout);
    }
    if (l->prompt_timer) {
        g_source_destroy(l->prompt_timer);
        g_source_unref(l->prompt_timer);
    }
    tsr_sip_prompt_free(&l->prompt);
    tsr_sip_lobby_pic_free(&l->picture);
    tsr_srtp_free(&l->srtp);
    g_clear_object(&l->peer);
    if (l->sock) {
        g_socket_close(l->sock, NULL);
        g_object_unref(l->sock);
    }
    memset(l->pin, 0, sizeof l->pin); /* a PIN is a secret */
    memset(l->sdes_keys, 0, sizeof l->sdes_keys);
    memset(&l->sdp, 0, sizeof l->sdp); /* both media's keys, ours and the caller's */
    g_free(l);
}

void tsr_sip_lobby_key(struct sip_call *c, char key)
{
    struct sip_lobby *l = c->lobby;
    /* Keys while a PIN is being checked are dropped, and so are keys (INFO) before
     * the ACK's answer to the lobby's offer: the join's re-INVITE must not cross
     * the ACK of the INVITE (RFC 3261 §14.1). */
    if (!l || c->join || c->awaiting_ack)
        return;
    if (key != '#') {
        if (l->n < PIN_MAX)
            l->pin[l->n++] = key;
        else
            l->overflow = true;
        return;
    }
    if (l->n == 0)
        return;
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s] PIN entered (%zu keys): checking", c->alias, l->n);
    /* Too long for any PIN: still goes to the core as a wrong one, so it counts. */
    tsr_sip_call_join(c, l->overflow ? "-" : l->pin);
    memset(l->pin, 0, sizeof l->pin);
    l->n = 0;
    l->overflow = false;
}

static void joined(struct sip_call *c, struct tsr_conference_result *res)
{
    tsr_sip_lobby_close(c);
    if (!res->sdp) { /* media always answers an offer; this is a broken media layer */
        tsr_sip_call_hangup(c, "no media answer");
        tsr_sip_call_bye(c, 500, "the media layer gave no answer");
        return;
    }
    tsr_counter_inc(c->front->pin_right);
    g_free(c->local_sdp);
    c->local_sdp = tsr_sip_sdp_set_origin(res->sdp, c->sdp_session_id, ++c->sdp_version);
    /* Without the caller's offer (an INVITE without SDP) the join made ours: the
     * caller's answer comes in its 200 (tsr_sip_call_reinvite_answer). */
    c->reinvite_offer = !c->offer;
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s/%s] PIN right: joined, re-INVITE with the media %s", c->alias,
            tsr_participant_id(res->participant), c->offer ? "answer" : "offer");
    nua_invite(c->nh, TSR_SIP_CONTACT(c), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
               SIPTAG_PAYLOAD_STR(c->local_sdp), TAG_END());
}

void tsr_sip_lobby_join_done(struct sip_call *c, struct tsr_conference_result *res)
{
    if (res->rc == 0) {
        joined(c, res);
        return;
    }
    c->session = tsr_front_session_unref(c->session); /* the core let go of it too */
    struct tsr_front_error e;
    tsr_front_refusal_error(&tsr_sip_front_desc, res->refusal, res->err_text, &e);
    tsr_front_count_error(&tsr_sip_front_desc, c->alias, &e);
    if (res->refusal == TSR_CONFERENCE_REFUSAL_WRONG_PIN) {
        tsr_counter_inc(c->front->pin_wrong);
        if (++c->pin_failures < PIN_ATTEMPTS) {
            TSR_LOG(TSR_LOG_INFO, "sip", "[%s] wrong PIN (%u of %d): enter it again", c->alias,
                    c->pin_failures, PIN_ATTEMPTS);
            if (c->lobby && c->lobby->prompt)
                tsr_sip_prompt_wrong_pin(c->lobby->prompt);
            return;
        }
        e.status = 403;
        e.text = "wrong PIN";
    }
    tsr_counter_inc(c->front->pin_hangups);
    TSR_LOG(TSR_LOG_INFO, "sip", "[%s] PIN entry ends: %u %s", c->alias, e.status, e.text);
    tsr_sip_lobby_close(c);
    tsr_sip_call_bye(c, e.status, e.text);
}

/* Responses name the request being handled (NUTAG_WITH_THIS): INFO is an
 * application method here, and the INVITE's transaction is over. Called from
 * nua's event callback only. */
/* RFC 5168 (what many room systems send instead of RTCP PLI): a media_control
 * document naming picture_fast_update. Looked for in the body's bytes (bounded,
 * not a C string), no XML parser: the element is all it can ask. */
static bool asks_fast_update(const sip_payload_t *pl)
{
    static const char want[] = "picture_fast_update";
    if (!pl || !pl->pl_data || pl->pl_len < sizeof want - 1)
        return false;
    for (size_t i = 0; i + sizeof want - 1 <= pl->pl_len; i++)
        if (memcmp(pl->pl_data + i, want, sizeof want - 1) == 0)
            return true;
    return false;
}

/* An INFO asking for a keyframe of what the caller receives: as a PLI would. */
static void info_fast_update(struct sip_call *c, const sip_payload_t *pl)
{
    struct tsr_participant *p = c->session ? tsr_front_session_participant(c->session) : NULL;
    if (asks_fast_update(pl) && p && tsr_participant_request_keyframe(p) == 0)
        tsr_counter_inc(c->front->fast_updates);
    nua_respond(c->nh, SIP_200_OK, NUTAG_WITH_THIS(c->front->nua), TAG_END());
}

void tsr_sip_call_info(struct sip_call *c, const sip_t *sip)
{
    const sip_content_type_t *ct = sip ? sip->sip_content_type : NULL;
    const sip_payload_t *pl = sip ? sip->sip_payload : NULL;
    if (ct && ct->c_type && g_ascii_strcasecmp(ct->c_type, "application/media_control+xml") == 0) {
        info_fast_update(c, pl);
        return;
    }
    if (!ct || !ct->c_type || g_ascii_strcasecmp(ct->c_type, "application/dtmf-relay") != 0) {
        /* other INFO packages: accepted and ignored */
        nua_respond(c->nh, SIP_200_OK, NUTAG_WITH_THIS(c->front->nua), TAG_END());
        return;
    }
    char key = 0;
    const char *why = NULL;
    if (!pl || tsr_sip_dtmf_relay_parse(pl->pl_data, pl->pl_len, &key, &why) != 0) {
        tsr_counter_inc(c->front->dtmf_errors);
        TSR_LOG(TSR_LOG_INFO, "sip", "[%s] INFO refused: %s", c->alias, why ? why : "no body");
        char reason[TSR_SIP_REASON_MAX];
        tsr_sip_reason_value(400, why ? why : "the dtmf-relay INFO has no body", reason);
        nua_respond(c->nh, SIP_400_BAD_REQUEST, NUTAG_WITH_THIS(c->front->nua),
                    SIPTAG_REASON_STR(reason), TAG_END());
        return;
    }
    nua_respond(c->nh, SIP_200_OK, NUTAG_WITH_THIS(c->front->nua), TAG_END());
    tsr_sip_lobby_key(c, key);
}

void tsr_sip_call_reinvite_failed(struct sip_call *c, int status, const char *phrase)
{
    TSR_LOG(TSR_LOG_WARN, "sip", "[%s] the caller refused our re-INVITE: %d %s", c->alias, status,
            phrase ? phrase : "");
    bool offered = c->reinvite_offer;
    c->reinvite_offer = false;
    tsr_sip_call_hangup(c, "re-INVITE refusal");
    tsr_sip_call_bye(c, 488,
                     offered ? "the caller refused the conference's media offer"
                             : "the caller refused the conference's media answer");
}
