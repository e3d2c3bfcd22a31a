/* SDP (RFC 8866) parser and writer. Pure: no threads, no I/O, no globals.
 *
 * The parser turns hostile text into a generic tree (session fields, media
 * sections, attribute lists) and validates the line grammar; it never asserts on
 * input and has no side effects on failure. Typed helpers decode the attributes
 * WebRTC needs (rtpmap, fmtp, rtcp-fb, extmap, fingerprint, candidate, ssrc).
 * The same tree is built by hand and written out for answers.
 *
 * Limits (longer input is rejected, not truncated): TSR_SDP_MAX_BYTES of text,
 * TSR_SDP_MAX_MEDIA m-lines, TSR_SDP_MAX_ATTRS attributes per section,
 * TSR_SDP_MAX_LINE_BYTES per line. */
#ifndef TESSERA_SDP_H
#define TESSERA_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSR_SDP_MAX_BYTES 65536
#define TSR_SDP_MAX_MEDIA 16
#define TSR_SDP_MAX_ATTRS 256
#define TSR_SDP_MAX_FORMATS 64
#define TSR_SDP_MAX_LINE_BYTES 4096

/* One "a=name[:value]" line; value is NULL for flag attributes (a=rtcp-mux). */
struct tsr_sdp_attr {
    char *name;
    char *value;
};

/* One m= section. Strings are owned by the enclosing struct tsr_sdp. */
/* b= lines (RFC 4566 §5.8, RFC 3890): 0 = absent. Other types (CT, RS, RR …) and
 * values that are not a number are ignored, as the line itself is optional. Read
 * when parsing and written by tsr_sdp_write (after c=). */
struct tsr_sdp_bandwidth {
    uint64_t as_kbps;  /* b=AS: application-specific maximum, kb/s */
    uint64_t tias_bps; /* b=TIAS: transport-independent maximum, b/s */
};

struct tsr_sdp_media {
    char *kind;    /* "audio", "video", "application", or anything else */
    uint16_t port; /* 0 = rejected / disabled */
    char *proto;   /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP" … */
    size_t n_fmts;
    char **fmts;      /* formats as written: "111", "webrtc-datachannel" */
    char *connection; /* c= value or NULL */
    struct tsr_sdp_bandwidth bw;
    size_t n_attrs;
    struct tsr_sdp_attr *attrs;
};

/* A whole description. Thread: any; one owner. */
struct tsr_sdp {
    char *origin;       /* o= value */
    char *session_name; /* s= value */
    char *connection;   /* session c= value or NULL */
    struct tsr_sdp_bandwidth bw;
    size_t n_attrs;
    struct tsr_sdp_attr *attrs;
    size_t n_media;
    struct tsr_sdp_media *media;
};

/* Purpose: parse `len` bytes of SDP text (CRLF or LF line ends). Requires v=0, o=,
 * s= and t= in the session part and a well-formed m= line per section.
 * Ownership: *out is new; free with tsr_sdp_free(). Thread: any.
 * Returns 0, TSR_ERR_INVALID (grammar, with a reason in *reason when reason is
 * not NULL: a static string), TSR_ERR_FULL (a limit above), -ENOMEM. */
int tsr_sdp_parse(const char *text, size_t len, struct tsr_sdp **out, const char **reason);

/* Purpose: an empty description with the given origin and session name (copied).
 * Returns 0 or -ENOMEM. */
int tsr_sdp_new(struct tsr_sdp **out, const char *origin, const char *session_name);

/* Purpose: free a description; NULLs *sdp; accepts NULL. */
void tsr_sdp_free(struct tsr_sdp **sdp);

/* Purpose: append an m= section (strings copied; fmts may be NULL when n_fmts is 0).
 * Returns 0 and the new section through *out (borrowed, valid until the next
 * add_media or free), TSR_ERR_FULL or -ENOMEM. */
int tsr_sdp_add_media(struct tsr_sdp *sdp, const char *kind, uint16_t port, const char *proto,
                      const char *const *fmts, size_t n_fmts, struct tsr_sdp_media **out);

/* Purpose: append an attribute (copied; value NULL = flag) to the session
 * (media == NULL) or to `media`. Returns 0, TSR_ERR_INVALID (CR/LF inside),
 * TSR_ERR_FULL or -ENOMEM. Use the printf form for formatted values. */
int tsr_sdp_add_attr(struct tsr_sdp *sdp, struct tsr_sdp_media *media, const char *name,
                     const char *value);
int tsr_sdp_add_attrf(struct tsr_sdp *sdp, struct tsr_sdp_media *media, const char *name,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Purpose: set a section's c= line (copied). Returns 0 or -ENOMEM. */
int tsr_sdp_set_connection(struct tsr_sdp_media *media, const char *connection);

/* Purpose: write `sdp` as text with CRLF line ends (v=0 … t=0 0 …).
 * Ownership: *out is new, NUL-terminated; caller g_free()s. Returns 0 or -ENOMEM. */
int tsr_sdp_write(const struct tsr_sdp *sdp, char **out);

/* Purpose: the value of the first attribute `name` in attrs (NULL when absent;
 * "" for a flag attribute so presence can be tested). Borrowed. */
const char *tsr_sdp_attr_find(const struct tsr_sdp_attr *attrs, size_t n, const char *name);

/* Media attribute first, then the session attribute of the same name. */
const char *tsr_sdp_media_attr(const struct tsr_sdp *sdp, const struct tsr_sdp_media *m,
                               const char *name);

/* ---- typed attribute decoders: all return 0 or TSR_ERR_INVALID, write *out only
 * on success, and accept any byte string. ---- */

/* a=rtpmap:<pt> <name>/<clock>[/<channels>] */
struct tsr_sdp_rtpmap {
    int pt;        /* 0..127 */
    char name[32]; /* as written ("VP8", "opus", "H264") */
    uint32_t clock_rate;
    unsigned channels; /* 1 when omitted */
};
int tsr_sdp_parse_rtpmap(const char *value, struct tsr_sdp_rtpmap *out);

/* a=fmtp:<pt> <params>: *pt and a pointer into value at the parameters. */
int tsr_sdp_parse_fmtp(const char *value, int *pt, const char **params);

/* Purpose: the most the writer of `sdp` takes on section m, in b/s: b=TIAS (exact,
 * RFC 3890), else b=AS (kb/s, which counts IP/UDP/RTP overhead too), the section's
 * lines before the session's; 0 when it says nothing. */
uint64_t tsr_sdp_media_max_bps(const struct tsr_sdp *sdp, const struct tsr_sdp_media *m);

/* Purpose: the rtpmap of payload type pt in m. Returns true and *out when found. */
bool tsr_sdp_media_rtpmap(const struct tsr_sdp_media *m, int pt, struct tsr_sdp_rtpmap *out);
/* Purpose: the fmtp parameters of pt in m (borrowed from m), or "" when none. */
const char *tsr_sdp_media_fmtp(const struct tsr_sdp_media *m, int pt);
/* Purpose: payload type of m's k-th format, or -1 when it is not a number 0..127. */
int tsr_sdp_media_fmt_pt(const struct tsr_sdp_media *m, size_t k);

/* Purpose: look up `key` in a "k=v;k2=v2" fmtp parameter list (case-insensitive
 * key). Copies the value into buf (NUL-terminated). Returns 0, TSR_ERR_NOT_FOUND,
 * or TSR_ERR_INVALID when the value does not fit buf_size. */
int tsr_sdp_fmtp_get(const char *params, const char *key, char *buf, size_t buf_size);

/* a=rtcp-fb:<pt|*> <type>[ <subtype>]; pt is -1 for "*". */
struct tsr_sdp_rtcp_fb {
    int pt;
    char type[16];
    char subtype[16]; /* "" when absent */
};
int tsr_sdp_parse_rtcp_fb(const char *value, struct tsr_sdp_rtcp_fb *out);

/* a=extmap:<id>[/<direction>] <uri> */
struct tsr_sdp_extmap {
    int id; /* 1..255 */
    char uri[128];
};
int tsr_sdp_parse_extmap(const char *value, struct tsr_sdp_extmap *out);

/* a=fingerprint:<hash> <hex:hex:…> */
#define TSR_SDP_FINGERPRINT_MAX_BYTES 64
struct tsr_sdp_fingerprint {
    char hash[16]; /* lower case: "sha-256" */
    uint8_t bytes[TSR_SDP_FINGERPRINT_MAX_BYTES];
    size_t len;
};
int tsr_sdp_parse_fingerprint(const char *value, struct tsr_sdp_fingerprint *out);

/* Purpose: format bytes as upper-case "AB:CD:…" into buf (needs 3 × len bytes).
 * Returns 0 or TSR_ERR_INVALID when buf is too small. */
int tsr_sdp_format_fingerprint(const uint8_t *bytes, size_t len, char *buf, size_t buf_size);

/* a=candidate:<foundation> <component> <transport> <priority> <addr> <port> typ <type>
 * [raddr <a> rport <p>] [extensions…] (RFC 8839). */
struct tsr_sdp_candidate {
    char foundation[33];
    unsigned component; /* 1..256 */
    char transport[8];  /* lower case: "udp", "tcp" */
    uint32_t priority;
    char address[256]; /* IPv4, IPv6 or an mDNS/FQDN name */
    uint16_t port;
    char type[8];   /* "host", "srflx", "prflx", "relay" */
    char raddr[64]; /* "" when absent */
    uint16_t rport;
};
int tsr_sdp_parse_candidate(const char *value, struct tsr_sdp_candidate *out);

/* a=ssrc:<ssrc> <attr>[:<value>] — *attr_name points into value (not copied). */
int tsr_sdp_parse_ssrc(const char *value, uint32_t *ssrc, const char **attr_name);

/* a=ssrc-group:FID <primary> <rtx> */
int tsr_sdp_parse_ssrc_group_fid(const char *value, uint32_t *primary, uint32_t *rtx);

/* Purpose: whether an ICE ufrag and password are valid (RFC 8839 §5.4: ice-chars,
 * ufrag 4..256, password 22..256 characters). NULL is invalid. */
bool tsr_sdp_ice_credentials_valid(const char *ufrag, const char *pwd);

#endif
