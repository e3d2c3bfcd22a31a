/* SRTP/SRTCP (RFC 3711, RFC 7714) with libsrtp2: one inbound and one outbound
 * session per transport, keyed from DTLS-SRTP.
 *
 * Protect and unprotect work in place. Protect needs TSR_SRTP_MAX_TRAILER_BYTES
 * of room after the packet (auth tag, SRTCP index). Home thread: the owner's net
 * loop (a session is not thread-safe). Every failure increments
 * tessera_srtp_errors_total{op=…}. */
#ifndef TESSERA_SRTP_H
#define TESSERA_SRTP_H

#include <stddef.h>
#include <stdint.h>

#include <tessera/dtls.h>

#define TSR_SRTP_MAX_TRAILER_BYTES 148 /* SRTP_MAX_TRAILER_LEN of libsrtp2 */

struct tsr_srtp;

/* Purpose: inbound + outbound sessions for keys->profile. The outbound session
 * allows repeated sequence numbers (NACK retransmissions on the same SSRC).
 * Ownership: keys copied. Returns 0, -EINVAL (profile NONE or bad lengths),
 * TSR_ERR_CRYPTO (libsrtp refused), -ENOMEM. */
int tsr_srtp_new(struct tsr_srtp **out, const struct tsr_dtls_srtp_keys *keys);

/* Purpose: free; NULLs *srtp; accepts NULL. */
void tsr_srtp_free(struct tsr_srtp **srtp);

/* Purpose: protect in place. *len is the plain length on entry and the protected
 * length on success; cap is the buffer size (must be ≥ *len + trailer).
 * Returns 0, -EMSGSIZE (no room), TSR_ERR_INVALID (not an RTP/RTCP packet),
 * TSR_ERR_CRYPTO (libsrtp error). */
int tsr_srtp_protect_rtp(struct tsr_srtp *s, uint8_t *buf, size_t *len, size_t cap);
int tsr_srtp_protect_rtcp(struct tsr_srtp *s, uint8_t *buf, size_t *len, size_t cap);

/* Purpose: unprotect in place; *len becomes the plain length on success.
 * Returns 0, TSR_ERR_INVALID (too short / malformed), TSR_ERR_AUTH
 * (authentication failed), TSR_ERR_PROTOCOL (replayed packet), TSR_ERR_CRYPTO. */
int tsr_srtp_unprotect_rtp(struct tsr_srtp *s, uint8_t *buf, size_t *len);
int tsr_srtp_unprotect_rtcp(struct tsr_srtp *s, uint8_t *buf, size_t *len);

/* Purpose: fill out with len bytes of key-grade randomness (SDES master keys).
 * Returns 0 or TSR_ERR_CRYPTO. Thread: any. */
int tsr_srtp_random_key(uint8_t *out, size_t len);

#endif
