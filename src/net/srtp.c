/* SRTP/SRTCP with libsrtp2; see include/net/tessera/srtp.h.
 *
 * Two libsrtp sessions per transport: outbound (ssrc_any_outbound, our SSRCs)
 * and inbound (ssrc_any_inbound, whatever the peer sends). libsrtp creates a
 * stream per SSRC on first use, so SSRCs need not be known up front. */
#include <tessera/srtp.h>

#include <tessera/err.h>
#include <tessera/log.h>
#include <tessera/metrics.h>

#include <errno.h>
#include <glib.h>
#include <gnutls/crypto.h>
#include <limits.h>
#include <nss.h>
#include <srtp2/srtp.h>
#include <string.h>

G_STATIC_ASSERT(TSR_SRTP_MAX_TRAILER_BYTES >= SRTP_MAX_TRAILER_LEN);

/* Replay window (packets). 1024 tolerates the reordering browsers produce under
 * loss and NACK retransmission; memory cost is 128 bytes per stream. */
#define REPLAY_WINDOW 1024

struct tsr_srtp {
    srtp_t inbound;
    srtp_t outbound;
};

enum srtp_op { OP_PROTECT_RTP, OP_PROTECT_RTCP, OP_UNPROTECT_RTP, OP_UNPROTECT_RTCP, OP_COUNT };

static struct tsr_counter *error_counter(enum srtp_op op)
{
    static const char *const labels[OP_COUNT] = {"op=\"protect_rtp\"", "op=\"protect_rtcp\"",
                                                 "op=\"unprotect_rtp\"", "op=\"unprotect_rtcp\""};
    /* Looked up per error, not cached: the registry can be reset by tests, and
     * errors are the rare path. */
    return tsr_metrics_counter("tessera_srtp_errors_total", labels[op],
                               "SRTP/SRTCP packets that failed protection or authentication.");
}

/* Debian's libsrtp2 does its AES and HMAC in NSS, and starts NSS itself with
 * NSS_NoDB_Init when nobody has, which tells NSS to optimise for space: 32 hash
 * buckets for the key objects of every session. Each SRTP session keeps its keys
 * there, so with a thousand participants every packet walked chains of a hundred
 * keys (bench_srtp: 1 µs per protect with 100 live sessions, 10 µs with 1,000).
 * Starting NSS first, without NSS_INIT_OPTIMIZESPACE, gives it 1,024 buckets. */
static void start_nss(void)
{
    if (NSS_IsInitialized())
        return;
    if (NSS_Initialize("", "", "", "", NSS_INIT_READONLY | NSS_INIT_NOCERTDB | NSS_INIT_NOMODDB |
                                           NSS_INIT_FORCEOPEN | NSS_INIT_NOROOTINIT) !=
        SECSuccess)
        TSR_LOG(TSR_LOG_WARN, "srtp", "NSS_Initialize failed; libsrtp2 starts NSS itself");
}

static gpointer init_once(gpointer unused)
{
    (void)unused;
    start_nss();
    return GINT_TO_POINTER(srtp_init() == srtp_err_status_ok ? 1 : -1);
}

static bool library_ready(void)
{
    static GOnce once = G_ONCE_INIT;
    return GPOINTER_TO_INT(g_once(&once, init_once, NULL)) == 1;
}

static int make_session(srtp_t *out, const struct tsr_dtls_srtp_keys *k, bool outbound)
{
    uint8_t master[TSR_SRTP_MAX_KEY_BYTES + TSR_SRTP_MAX_SALT_BYTES];
    srtp_policy_t p;
    memset(&p, 0, sizeof(p));
    if (k->profile == TSR_SRTP_PROFILE_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
    } else if (k->profile == TSR_SRTP_PROFILE_AES128_CM_SHA1_32) {
        /* RFC 4568 §6.2: the short tag is for RTP only; SRTCP keeps 80 bits. */
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p.rtp);
        srtp_crypto_policy_set_rtcp_default(&p.rtcp);
    } else {
        srtp_crypto_policy_set_rtp_default(&p.rtp); /* AES_CM_128_HMAC_SHA1_80 */
        srtp_crypto_policy_set_rtcp_default(&p.rtcp);
    }
    memcpy(master, outbound ? k->local_key : k->remote_key, k->key_len);
    memcpy(master + k->key_len, outbound ? k->local_salt : k->remote_salt, k->salt_len);
    p.key = master;
    p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    p.window_size = REPLAY_WINDOW;
    p.allow_repeat_tx = outbound; /* NACK answers resend the same sequence number */
    srtp_err_status_t st = srtp_create(out, &p);
    memset(master, 0, sizeof(master));
    if (st != srtp_err_status_ok) {
        TSR_LOG(TSR_LOG_ERROR, "srtp", "srtp_create failed: %d", (int)st);
        return TSR_ERR_CRYPTO;
    }
    return 0;
}

int tsr_srtp_new(struct tsr_srtp **out, const struct tsr_dtls_srtp_keys *keys)
{
    struct tsr_srtp *s = NULL;
    int rc = 0;
    if (!out || !keys)
        return -EINVAL;
    size_t want_salt = keys->profile == TSR_SRTP_PROFILE_AEAD_AES_128_GCM    ? 12
                       : keys->profile == TSR_SRTP_PROFILE_AES128_CM_SHA1_80 ? 14
                       : keys->profile == TSR_SRTP_PROFILE_AES128_CM_SHA1_32 ? 14
                                                                             : 0;
    if (!want_salt || keys->key_len != 16 || keys->salt_len != want_salt)
        return -EINVAL;
    if (!library_ready())
        return TSR_ERR_CRYPTO;
    s = g_new0(struct tsr_srtp, 1);
    rc = make_session(&s->inbound, keys, false);
    if (rc == 0)
        rc = make_session(&s->outbound, keys, true);
    if (rc != 0)
        goto fail;
    *out = s;
    return 0;
fail:
    tsr_srtp_free(&s);
    return rc;
}

void tsr_srtp_free(struct tsr_srtp **srtp)
{
    if (!srtp || !*srtp)
        return;
    if ((*srtp)->inbound)
        srtp_dealloc((*srtp)->inbound);
    if ((*srtp)->outbound)
        srtp_dealloc((*srtp)->outbound);
    g_free(*srtp);
    *srtp = NULL;
}

static int map_status(srtp_err_status_t st)
{
    switch (st) {
    case srtp_err_status_ok:
        return 0;
    case srtp_err_status_auth_fail:
        return TSR_ERR_AUTH;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        return TSR_ERR_PROTOCOL;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err:
        return TSR_ERR_INVALID;
    default:
        return TSR_ERR_CRYPTO;
    }
}

static int finish(enum srtp_op op, srtp_err_status_t st, size_t *len, int out_len)
{
    int rc = map_status(st);
    if (rc == 0) {
        *len = (size_t)out_len;
        return 0;
    }
    tsr_counter_inc(error_counter(op));
    /* Replays are expected: a sender answering our NACK for a packet that was only
     * late delivers it twice. Everything else means a broken or forged packet. */
    if (rc == TSR_ERR_PROTOCOL)
        TSR_LOG_RL(TSR_LOG_DEBUG, "srtp", 2000, "SRTP op %d: duplicate packet dropped (libsrtp %d)",
                   (int)op, (int)st);
    else
        TSR_LOG_RL(TSR_LOG_WARN, "srtp", 2000, "SRTP op %d failed: libsrtp status %d (%s)",
                   (int)op, (int)st, tsr_strerror(rc));
    return rc;
}

/* RTP needs the 12-byte fixed header; RTCP the 8-byte header (+4 index +tag on
 * the way in). libsrtp checks the rest. */
static int check_input(enum srtp_op op, const uint8_t *buf, size_t len, size_t min)
{
    if (!buf || len < min || len > INT_MAX - TSR_SRTP_MAX_TRAILER_BYTES || (buf[0] >> 6) != 2) {
        tsr_counter_inc(error_counter(op));
        return TSR_ERR_INVALID;
    }
    return 0;
}

int tsr_srtp_protect_rtp(struct tsr_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
    int rc = check_input(OP_PROTECT_RTP, buf, len ? *len : 0, 12);
    if (rc)
        return rc;
    if (cap < *len + SRTP_MAX_TRAILER_LEN)
        return -EMSGSIZE;
    int n = (int)*len;
    srtp_err_status_t st = srtp_protect(s->outbound, buf, &n);
    return finish(OP_PROTECT_RTP, st, len, n);
}

int tsr_srtp_protect_rtcp(struct tsr_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
    int rc = check_input(OP_PROTECT_RTCP, buf, len ? *len : 0, 8);
    if (rc)
        return rc;
    if (cap < *len + SRTP_MAX_TRAILER_LEN)
        return -EMSGSIZE;
    int n = (int)*len;
    srtp_err_status_t st = srtp_protect_rtcp(s->outbound, buf, &n);
    return finish(OP_PROTECT_RTCP, st, len, n);
}

int tsr_srtp_unprotect_rtp(struct tsr_srtp *s, uint8_t *buf, size_t *len)
{
    int rc = check_input(OP_UNPROTECT_RTP, buf, len ? *len : 0, 12);
    if (rc)
        return rc;
    int n = (int)*len;
    srtp_err_status_t st = srtp_unprotect(s->inbound, buf, &n);
    return finish(OP_UNPROTECT_RTP, st, len, n);
}

int tsr_srtp_unprotect_rtcp(struct tsr_srtp *s, uint8_t *buf, size_t *len)
{
    int rc = check_input(OP_UNPROTECT_RTCP, buf, len ? *len : 0, 8 + 4);
    if (rc)
        return rc;
    int n = (int)*len;
    srtp_err_status_t st = srtp_unprotect_rtcp(s->inbound, buf, &n);
    return finish(OP_UNPROTECT_RTCP, st, len, n);
}

int tsr_srtp_random_key(uint8_t *out, size_t len)
{
    /* The key strength is the call's secrecy: the TLS library's key-grade RNG. */
    return gnutls_rnd(GNUTLS_RND_KEY, out, len) == 0 ? 0 : TSR_ERR_CRYPTO;
}
