/* Error codes shared by every module.
 *
 * Functions return int: 0 on success, a negative errno (-ENOMEM, -EINVAL …) or one
 * of the TSR_ERR_* codes below on failure. TSR_ERR_* sit far below any errno value
 * so the two never collide (the same idea as FFmpeg's AVERROR). */
#ifndef TESSERA_ERR_H
#define TESSERA_ERR_H

enum tsr_err {
    TSR_ERR_FIRST = -20000,
    TSR_ERR_INVALID = TSR_ERR_FIRST, /* malformed input (packet, SDP, JSON, file) */
    TSR_ERR_TRUNCATED,               /* input shorter than its own lengths say */
    TSR_ERR_UNSUPPORTED,             /* valid but not something we implement */
    TSR_ERR_NOT_FOUND,               /* no such conference, participant, key … */
    TSR_ERR_CONFIG,                  /* configuration rejected */
    TSR_ERR_CODEC,                   /* codec library failed */
    TSR_ERR_HW_UNAVAILABLE,          /* hardware path (VAAPI) cannot be used */
    TSR_ERR_STATE,                   /* call not valid in the object's current state */
    TSR_ERR_AGAIN,                   /* nothing yet; call again later */
    TSR_ERR_FULL,                    /* capacity reached (conference, buffer) */
    TSR_ERR_AUTH,                    /* wrong or missing PIN or token */
    TSR_ERR_CRYPTO,                  /* DTLS or SRTP failure */
    TSR_ERR_PROTOCOL,                /* peer broke the protocol */
    TSR_ERR_TIMEOUT,                 /* deadline passed */
    TSR_ERR_IO,                      /* socket or file I/O failed */
    TSR_ERR_LAST                     /* not an error; keep last */
};

/* Purpose: a short English description of `err` (a TSR_ERR_* code, a negative
 * errno, or 0). Never returns NULL; unknown codes give "unknown error".
 * Ownership: the string is static; do not free. Thread: any. */
const char *tsr_strerror(int err);

/* Purpose: the symbolic name of `err` ("TSR_ERR_INVALID", "ENOMEM", "OK").
 * Ownership: static string. Thread: any. */
const char *tsr_strerror_name(int err);

#endif
