/* ICE-lite on the plain RTP sockets (RFC 8445 §2.5): a SIP caller whose offer
 * carries ICE gets our credentials and host candidates in the answer, runs its
 * connectivity checks against our RTP and RTCP ports, and we answer each check
 * that carries our username and our password's MESSAGE-INTEGRITY (libnice's STUN
 * agent parses and signs); the pair it nominates (USE-CANDIDATE) is where that
 * socket sends from then on, as latching would. We never send checks ourselves
 * (lite agents do not) and are always the controlled side. Home: the net loop. */
#include "rtp_transport_internal.h"

#include <tessera/err.h>
#include <tessera/log.h>

#include <gio/gnetworking.h>
#include <stun/stunagent.h>
#include <stun/usages/ice.h>
#include <string.h>

struct rtp_ice {
    StunAgent agent;
    char ufrag[257];
    char pwd[257];
    uint64_t tie;
};

static const uint16_t known_attributes[] = {
    STUN_ATTRIBUTE_USERNAME,       STUN_ATTRIBUTE_MESSAGE_INTEGRITY,
    STUN_ATTRIBUTE_FINGERPRINT,    STUN_ATTRIBUTE_PRIORITY,
    STUN_ATTRIBUTE_USE_CANDIDATE,  STUN_ATTRIBUTE_ICE_CONTROLLING,
    STUN_ATTRIBUTE_ICE_CONTROLLED, 0};

static void count(const char *result)
{
    char labels[48];
    g_snprintf(labels, sizeof labels, "result=\"%s\"", result);
    tsr_counter_inc(tsr_metrics_counter("tessera_sip_ice_checks_total", labels,
                                        "ICE connectivity checks on plain RTP ports (ICE-lite)."));
}

/* The check's USERNAME must be "<our ufrag>:<theirs>"; the key is our password. */
static bool validate(StunAgent *agent, StunMessage *msg, uint8_t *username, uint16_t len,
                     uint8_t **password, size_t *password_len, void *user)
{
    (void)agent, (void)msg;
    struct rtp_ice *ice = user;
    size_t n = strlen(ice->ufrag);
    if (len <= n || memcmp(username, ice->ufrag, n) != 0 || username[n] != ':')
        return false;
    *password = (uint8_t *)ice->pwd;
    *password_len = strlen(ice->pwd);
    return true;
}

int tsr_rtp_transport_set_ice(struct tsr_rtp_transport *t, const char *ufrag, const char *pwd)
{
    if (!ufrag || !pwd || !*ufrag || !*pwd || strlen(ufrag) >= sizeof t->ice->ufrag ||
        strlen(pwd) >= sizeof t->ice->pwd)
        return -EINVAL;
    if (!t->ice)
        t->ice = g_new0(struct rtp_ice, 1);
    stun_agent_init(&t->ice->agent, known_attributes, STUN_COMPATIBILITY_RFC5389,
                    STUN_AGENT_USAGE_SHORT_TERM_CREDENTIALS | STUN_AGENT_USAGE_USE_FINGERPRINT);
    g_strlcpy(t->ice->ufrag, ufrag, sizeof t->ice->ufrag);
    g_strlcpy(t->ice->pwd, pwd, sizeof t->ice->pwd);
    t->ice->tie = ((uint64_t)g_random_int() << 32) | g_random_int();
    return 0;
}

void tsr_rtp_transport_ice_free(struct tsr_rtp_transport *t)
{
    if (t->ice)
        memset(t->ice->pwd, 0, sizeof t->ice->pwd);
    g_clear_pointer(&t->ice, g_free);
}

/* RFC 7983: 0..3 is STUN; with the magic cookie of RFC 5389. */
static bool looks_like_stun(const uint8_t *buf, size_t len)
{
    return len >= 20 && buf[0] < 4 && buf[4] == 0x21 && buf[5] == 0x12 && buf[6] == 0xa4 &&
           buf[7] == 0x42;
}

static void reply(struct rtp_sock *s, StunMessage *req, GSocketAddress *from)
{
    struct rtp_ice *ice = s->t->ice;
    struct sockaddr_storage src;
    if (!g_socket_address_to_native(from, &src, sizeof src, NULL))
        return;
    uint8_t out[512];
    size_t len = sizeof out;
    StunMessage res;
    bool control = false; /* a lite agent is the controlled one */
    StunUsageIceReturn rc = stun_usage_ice_conncheck_create_reply(
        &ice->agent, req, &res, out, &len, &src, (socklen_t)g_socket_address_get_native_size(from),
        &control, ice->tie, STUN_USAGE_ICE_COMPATIBILITY_RFC5245);
    if (rc != STUN_USAGE_ICE_RETURN_SUCCESS && rc != STUN_USAGE_ICE_RETURN_ROLE_CONFLICT) {
        count("unanswerable");
        return;
    }
    GError *err = NULL;
    if (g_socket_send_to(s->socket, from, (const gchar *)out, len, NULL, &err) < 0) {
        TSR_LOG_RL(TSR_LOG_WARN, s->t->log_ctx, 5000, "ICE check answer not sent: %s",
                   err->message);
        g_error_free(err);
        count("unsent");
        return;
    }
    if (rc == STUN_USAGE_ICE_RETURN_ROLE_CONFLICT) {
        count("role_conflict");
        return;
    }
    count("answered");
    if (stun_usage_ice_conncheck_use_candidate(req))
        tsr_rtp_transport_latch(s, from);
}

bool tsr_rtp_transport_ice_take(struct rtp_sock *s, const uint8_t *buf, size_t len,
                                GSocketAddress *from)
{
    struct rtp_ice *ice = s->t->ice;
    if (!ice || !looks_like_stun(buf, len))
        return false;
    StunMessage req;
    StunValidationStatus v = stun_agent_validate(&ice->agent, &req, buf, len, validate, ice);
    if (v != STUN_VALIDATION_SUCCESS || stun_message_get_class(&req) != STUN_REQUEST ||
        stun_message_get_method(&req) != STUN_BINDING) {
        count(v == STUN_VALIDATION_UNAUTHORIZED || v == STUN_VALIDATION_UNAUTHORIZED_BAD_REQUEST
                  ? "unauthorized"
                  : "malformed");
        return true; /* STUN that is not a check of ours goes nowhere */
    }
    reply(s, &req, from);
    return true;
}
