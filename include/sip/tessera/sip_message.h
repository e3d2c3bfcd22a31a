/* What the SIP front reads from a request and writes into its answers. Pure: no
 * I/O, no globals; the request comes from Sofia-SIP's parser (hostile input that
 * parsed), so every field may be absent, empty or absurd.
 *
 * Thread: any. */
#ifndef TESSERA_SIP_MESSAGE_H
#define TESSERA_SIP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/sip.h>

#include <tessera/conference.h>

#define TSR_SIP_DEFAULT_DISPLAY_NAME "SIP caller"
#define TSR_SIP_REASON_MAX 256

/* An INVITE as the front needs it. Strings are copies; sdp is borrowed from the
 * message (NULL when the INVITE has no body). */
struct tsr_sip_invite {
    char alias[TSR_CONFERENCE_ALIAS_MAX + 1];         /* "" when the request-URI has no user */
    char display_name[TSR_CONFERENCE_NAME_MAX + 1];   /* always a valid display name */
    const char *sdp;
    size_t sdp_len;
};

/* Purpose: read an INVITE: the alias is the request-URI's user part (the To's
 * when the request-URI has none; copied as written, the caller checks it with
 * tsr_conference_alias_valid), the display name is From's display name
 * (unquoted), else its user part, else TSR_SIP_DEFAULT_DISPLAY_NAME, and the body
 * is the SDP when its type is application/sdp.
 * Returns 0; TSR_ERR_INVALID when the body is not application/sdp (415) or the
 * request has no request line; *why then says why (static text). */
int tsr_sip_invite_read(const sip_t *sip, struct tsr_sip_invite *out, const char **why);

/* Purpose: the value of a Reason header (RFC 3326) for a SIP status and a human
 * text: SIP;cause=404;text="there is no conference 'x'". Quotes, backslashes and
 * control characters in text become safe; long text is cut at a UTF-8 boundary.
 * Writes a NUL-terminated string into buf (TSR_SIP_REASON_MAX bytes). */
void tsr_sip_reason_value(unsigned status, const char *text, char buf[TSR_SIP_REASON_MAX]);

/* Purpose: the standard phrase for a SIP status ("Not Found"), "" for unknown ones. */
const char *tsr_sip_status_phrase(unsigned status);

#endif
