/* SDP parser and writer (RFC 8866). Pure; see include/net/tessera/sdp.h.
 *
 * The parser builds the whole tree in a scratch description and hands it out only
 * when every line passed, so a failure has no side effect. Values are copied once
 * per line (GLib allocations); an offer is a few kilobytes, parsed once per join,
 * so clarity wins over an arena here. */
#include <tessera/sdp.h>

#include <tessera/err.h>

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- small lexing helpers: each reads from *p and advances it on success ---- */

static bool is_token_char(char c)
{
    return g_ascii_isalnum(c) || strchr("!#$%&'*+-.^_`{|}~", c) != NULL;
}

/* Decimal digits into *out, at most `max`; at least one digit. */
static bool lex_uint(const char **p, uint64_t max, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (!g_ascii_isdigit(*s))
        return false;
    while (g_ascii_isdigit(*s)) {
        v = v * 10 + (uint64_t)(*s - '0');
        if (v > max)
            return false;
        s++;
    }
    *out = v;
    *p = s;
    return true;
}

/* A run of non-space characters copied into buf (must fit, at least one char). */
static bool lex_word(const char **p, char *buf, size_t size)
{
    const char *s = *p;
    size_t n = 0;
    while (s[n] && s[n] != ' ' && s[n] != '\t')
        n++;
    if (n == 0 || n >= size)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    *p = s + n;
    return true;
}

static bool lex_spaces(const char **p)
{
    const char *s = *p;
    if (*s != ' ' && *s != '\t')
        return false;
    while (*s == ' ' || *s == '\t')
        s++;
    *p = s;
    return true;
}

/* ---- tree building ---- */

static void attrs_free(struct tsr_sdp_attr *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        g_free(attrs[i].name);
        g_free(attrs[i].value);
    }
    g_free(attrs);
}

static void media_fini(struct tsr_sdp_media *m)
{
    g_free(m->kind);
    g_free(m->proto);
    for (size_t i = 0; i < m->n_fmts; i++)
        g_free(m->fmts[i]);
    g_free(m->fmts);
    g_free(m->connection);
    attrs_free(m->attrs, m->n_attrs);
}

void tsr_sdp_free(struct tsr_sdp **sdp)
{
    if (!sdp || !*sdp)
        return;
    struct tsr_sdp *s = *sdp;
    g_free(s->origin);
    g_free(s->session_name);
    g_free(s->connection);
    attrs_free(s->attrs, s->n_attrs);
    for (size_t i = 0; i < s->n_media; i++)
        media_fini(&s->media[i]);
    g_free(s->media);
    g_free(s);
    *sdp = NULL;
}

int tsr_sdp_new(struct tsr_sdp **out, const char *origin, const char *session_name)
{
    if (!out || !origin || !session_name)
        return -EINVAL;
    struct tsr_sdp *s = g_new0(struct tsr_sdp, 1);
    s->origin = g_strdup(origin);
    s->session_name = g_strdup(session_name);
    *out = s;
    return 0;
}

static bool has_line_break(const char *s)
{
    return s && (strchr(s, '\r') || strchr(s, '\n'));
}

/* Grows to the next power of two, so appends are amortised O(1). */
static int attr_append(struct tsr_sdp_attr **attrs, size_t *n, char *name, char *value)
{
    if (*n >= TSR_SDP_MAX_ATTRS) {
        g_free(name);
        g_free(value);
        return TSR_ERR_FULL;
    }
    if ((*n & (*n - 1)) == 0)
        *attrs = g_renew(struct tsr_sdp_attr, *attrs, *n ? *n * 2 : 4);
    (*attrs)[*n].name = name;
    (*attrs)[*n].value = value;
    (*n)++;
    return 0;
}

int tsr_sdp_add_attr(struct tsr_sdp *sdp, struct tsr_sdp_media *media, const char *name,
                     const char *value)
{
    if (!sdp || !name || !*name || has_line_break(name) || has_line_break(value))
        return TSR_ERR_INVALID;
    if (media)
        return attr_append(&media->attrs, &media->n_attrs, g_strdup(name), g_strdup(value));
    return attr_append(&sdp->attrs, &sdp->n_attrs, g_strdup(name), g_strdup(value));
}

int tsr_sdp_add_attrf(struct tsr_sdp *sdp, struct tsr_sdp_media *media, const char *name,
                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *value = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    int rc = tsr_sdp_add_attr(sdp, media, name, value);
    g_free(value);
    return rc;
}

int tsr_sdp_add_media(struct tsr_sdp *sdp, const char *kind, uint16_t port, const char *proto,
                      const char *const *fmts, size_t n_fmts, struct tsr_sdp_media **out)
{
    if (!sdp || !kind || !proto || (n_fmts && !fmts) || n_fmts > TSR_SDP_MAX_FORMATS)
        return -EINVAL;
    if (sdp->n_media >= TSR_SDP_MAX_MEDIA)
        return TSR_ERR_FULL;
    sdp->media = g_renew(struct tsr_sdp_media, sdp->media, sdp->n_media + 1);
    struct tsr_sdp_media *m = &sdp->media[sdp->n_media++];
    memset(m, 0, sizeof(*m));
    m->kind = g_strdup(kind);
    m->port = port;
    m->proto = g_strdup(proto);
    m->n_fmts = n_fmts;
    m->fmts = g_new0(char *, n_fmts + 1);
    for (size_t i = 0; i < n_fmts; i++)
        m->fmts[i] = g_strdup(fmts[i]);
    if (out)
        *out = m;
    return 0;
}

int tsr_sdp_set_connection(struct tsr_sdp_media *media, const char *connection)
{
    if (!media || has_line_break(connection))
        return -EINVAL;
    g_free(media->connection);
    media->connection = g_strdup(connection);
    return 0;
}

/* ---- parser ---- */

struct parse_state {
    struct tsr_sdp *sdp;
    const char *reason;
    bool seen_v, seen_o, seen_s, seen_t;
};

static int fail(struct parse_state *st, int rc, const char *reason)
{
    st->reason = reason;
    return rc;
}

/* m=<media> <port>[/<count>] <proto> <fmt> … */
static int parse_m_line(struct parse_state *st, const char *v)
{
    char kind[32], proto[64], fmt[64];
    uint64_t port, count;
    const char *fmts[TSR_SDP_MAX_FORMATS];
    char fmt_store[TSR_SDP_MAX_FORMATS][64];
    size_t n = 0;

    if (!lex_word(&v, kind, sizeof(kind)) || !lex_spaces(&v) || !lex_uint(&v, 65535, &port))
        return fail(st, TSR_ERR_INVALID, "m= line: bad media or port");
    if (*v == '/' && (v++, !lex_uint(&v, 65535, &count)))
        return fail(st, TSR_ERR_INVALID, "m= line: bad port count");
    if (!lex_spaces(&v) || !lex_word(&v, proto, sizeof(proto)))
        return fail(st, TSR_ERR_INVALID, "m= line: bad protocol");
    for (size_t i = 0; kind[i]; i++)
        if (!is_token_char(kind[i]))
            return fail(st, TSR_ERR_INVALID, "m= line: bad media");
    while (lex_spaces(&v) && *v) {
        if (n >= TSR_SDP_MAX_FORMATS)
            return fail(st, TSR_ERR_FULL, "m= line: too many formats");
        if (!lex_word(&v, fmt, sizeof(fmt)))
            return fail(st, TSR_ERR_INVALID, "m= line: bad format");
        memcpy(fmt_store[n], fmt, sizeof(fmt));
        fmts[n] = fmt_store[n];
        n++;
    }
    if (*v)
        return fail(st, TSR_ERR_INVALID, "m= line: trailing garbage");
    if (n == 0)
        return fail(st, TSR_ERR_INVALID, "m= line: no formats");
    int rc = tsr_sdp_add_media(st->sdp, kind, (uint16_t)port, proto, fmts, n, NULL);
    if (rc == TSR_ERR_FULL)
        return fail(st, rc, "too many m= lines");
    return rc;
}

static int parse_a_line(struct parse_state *st, const char *v)
{
    const char *colon = strchr(v, ':');
    size_t name_len = colon ? (size_t)(colon - v) : strlen(v);
    if (name_len == 0)
        return fail(st, TSR_ERR_INVALID, "a= line without a name");
    for (size_t i = 0; i < name_len; i++)
        if (!is_token_char(v[i]))
            return fail(st, TSR_ERR_INVALID, "a= line: bad attribute name");
    struct tsr_sdp_media *m = st->sdp->n_media ? &st->sdp->media[st->sdp->n_media - 1] : NULL;
    char *name = g_strndup(v, name_len);
    char *value = colon ? g_strdup(colon + 1) : NULL;
    int rc = m ? attr_append(&m->attrs, &m->n_attrs, name, value)
               : attr_append(&st->sdp->attrs, &st->sdp->n_attrs, name, value);
    if (rc == TSR_ERR_FULL)
        return fail(st, rc, "too many attributes");
    return rc;
}

static int parse_session_field(struct parse_state *st, char type, const char *v)
{
    char **slot = NULL;
    bool *seen = NULL;
    if (type == 'o') {
        slot = &st->sdp->origin;
        seen = &st->seen_o;
    } else if (type == 's') {
        slot = &st->sdp->session_name;
        seen = &st->seen_s;
    } else if (type == 't') {
        st->seen_t = true;
        return 0;
    } else {
        return 0; /* i= u= e= p= b= z= k= r=: not needed for WebRTC */
    }
    if (*seen)
        return fail(st, TSR_ERR_INVALID, "repeated o= or s= line");
    *seen = true;
    *slot = g_strdup(v);
    return 0;
}

/* b=<type>:<value>: AS and TIAS are kept; the rest is optional and ignored. */
static void parse_b_line(struct tsr_sdp_bandwidth *bw, const char *v)
{
    uint64_t value;
    bool as = g_ascii_strncasecmp(v, "AS:", 3) == 0;
    bool tias = g_ascii_strncasecmp(v, "TIAS:", 5) == 0;
    const char *p = v + (as ? 3 : 5);
    if ((!as && !tias) || !lex_uint(&p, UINT32_MAX, &value) || *p)
        return;
    if (as)
        bw->as_kbps = value;
    else
        bw->tias_bps = value;
}

static int parse_line(struct parse_state *st, const char *line, size_t len)
{
    if (len < 2 || line[1] != '=' || !g_ascii_islower(line[0]))
        return fail(st, TSR_ERR_INVALID, "line is not <letter>=<value>");
    for (size_t i = 2; i < len; i++)
        if ((unsigned char)line[i] < 0x20 && line[i] != '\t')
            return fail(st, TSR_ERR_INVALID, "control character in a line");
    char type = line[0];
    const char *v = line + 2;
    if (!st->seen_v) {
        if (type != 'v' || strcmp(v, "0") != 0)
            return fail(st, TSR_ERR_INVALID, "SDP must start with v=0");
        st->seen_v = true;
        return 0;
    }
    if (type == 'v')
        return fail(st, TSR_ERR_INVALID, "repeated v= line");
    if (type == 'm') {
        if (!st->seen_o || !st->seen_s || !st->seen_t)
            return fail(st, TSR_ERR_INVALID, "m= before o=, s= and t=");
        return parse_m_line(st, v);
    }
    if (type == 'a')
        return parse_a_line(st, v);
    if (type == 'c') {
        char **slot = st->sdp->n_media ? &st->sdp->media[st->sdp->n_media - 1].connection
                                       : &st->sdp->connection;
        g_free(*slot);
        *slot = g_strdup(v);
        return 0;
    }
    if (type == 'b') {
        parse_b_line(st->sdp->n_media ? &st->sdp->media[st->sdp->n_media - 1].bw : &st->sdp->bw, v);
        return 0;
    }
    if (st->sdp->n_media)
        return 0; /* i= k= inside a section: ignored */
    return parse_session_field(st, type, v);
}

int tsr_sdp_parse(const char *text, size_t len, struct tsr_sdp **out, const char **reason)
{
    struct parse_state st = {0};
    int rc = 0;
    char *line = NULL;

    if (!text || !out)
        return -EINVAL;
    if (len > TSR_SDP_MAX_BYTES) {
        rc = fail(&st, TSR_ERR_FULL, "SDP too large");
        goto out;
    }
    if (memchr(text, '\0', len)) {
        rc = fail(&st, TSR_ERR_INVALID, "NUL byte in SDP");
        goto out;
    }
    st.sdp = g_new0(struct tsr_sdp, 1);
    line = g_malloc(TSR_SDP_MAX_LINE_BYTES + 1);
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t n = end - pos;
        if (n && text[pos + n - 1] == '\r')
            n--;
        if (n > TSR_SDP_MAX_LINE_BYTES) {
            rc = fail(&st, TSR_ERR_FULL, "SDP line too long");
            break;
        }
        if (n) { /* blank lines (a trailing CRLF) are tolerated */
            memcpy(line, text + pos, n);
            line[n] = '\0';
            rc = parse_line(&st, line, n);
        }
        pos = end + 1;
    }
    if (rc == 0 && (!st.seen_v || !st.seen_o || !st.seen_s || !st.seen_t))
        rc = fail(&st, TSR_ERR_INVALID, "missing v=, o=, s= or t= line");
    if (rc == 0) {
        *out = st.sdp;
        st.sdp = NULL;
    }
out:
    g_free(line);
    tsr_sdp_free(&st.sdp);
    if (rc && reason)
        *reason = st.reason ? st.reason : "out of memory";
    return rc;
}

/* ---- writer ---- */

static void write_attrs(GString *s, const struct tsr_sdp_attr *attrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (attrs[i].value)
            g_string_append_printf(s, "a=%s:%s\r\n", attrs[i].name, attrs[i].value);
        else
            g_string_append_printf(s, "a=%s\r\n", attrs[i].name);
    }
}

uint64_t tsr_sdp_media_max_bps(const struct tsr_sdp *sdp, const struct tsr_sdp_media *m)
{
    const struct tsr_sdp_bandwidth *bws[2] = {&m->bw, &sdp->bw};
    for (size_t i = 0; i < 2; i++) {
        if (bws[i]->tias_bps)
            return bws[i]->tias_bps;
        if (bws[i]->as_kbps)
            return bws[i]->as_kbps * 1000;
    }
    return 0;
}

static void write_bw(GString *s, const struct tsr_sdp_bandwidth *bw)
{
    if (bw->as_kbps)
        g_string_append_printf(s, "b=AS:%" G_GUINT64_FORMAT "\r\n", bw->as_kbps);
    if (bw->tias_bps)
        g_string_append_printf(s, "b=TIAS:%" G_GUINT64_FORMAT "\r\n", bw->tias_bps);
}

int tsr_sdp_write(const struct tsr_sdp *sdp, char **out)
{
    if (!sdp || !out)
        return -EINVAL;
    GString *s = g_string_sized_new(2048);
    g_string_append_printf(s, "v=0\r\no=%s\r\ns=%s\r\n",
                           sdp->origin ? sdp->origin : "- 0 0 IN IP4 0.0.0.0",
                           sdp->session_name && *sdp->session_name ? sdp->session_name : "-");
    if (sdp->connection)
        g_string_append_printf(s, "c=%s\r\n", sdp->connection);
    write_bw(s, &sdp->bw);
    g_string_append(s, "t=0 0\r\n");
    write_attrs(s, sdp->attrs, sdp->n_attrs);
    for (size_t i = 0; i < sdp->n_media; i++) {
        const struct tsr_sdp_media *m = &sdp->media[i];
        g_string_append_printf(s, "m=%s %u %s", m->kind, m->port, m->proto);
        for (size_t f = 0; f < m->n_fmts; f++)
            g_string_append_printf(s, " %s", m->fmts[f]);
        g_string_append(s, "\r\n");
        if (m->connection)
            g_string_append_printf(s, "c=%s\r\n", m->connection);
        write_bw(s, &m->bw);
        write_attrs(s, m->attrs, m->n_attrs);
    }
    *out = g_string_free(s, FALSE);
    return 0;
}

/* ---- lookups ---- */

const char *tsr_sdp_attr_find(const struct tsr_sdp_attr *attrs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(attrs[i].name, name) == 0)
            return attrs[i].value ? attrs[i].value : "";
    return NULL;
}

const char *tsr_sdp_media_attr(const struct tsr_sdp *sdp, const struct tsr_sdp_media *m,
                               const char *name)
{
    const char *v = m ? tsr_sdp_attr_find(m->attrs, m->n_attrs, name) : NULL;
    return v ? v : tsr_sdp_attr_find(sdp->attrs, sdp->n_attrs, name);
}

/* ---- typed decoders ---- */

int tsr_sdp_parse_rtpmap(const char *value, struct tsr_sdp_rtpmap *out)
{
    struct tsr_sdp_rtpmap r = {.channels = 1};
    uint64_t pt, clock, ch;
    const char *p = value;
    size_t n = 0;

    if (!p || !out || !lex_uint(&p, 127, &pt) || !lex_spaces(&p))
        return TSR_ERR_INVALID;
    while (p[n] && p[n] != '/' && p[n] != ' ')
        n++;
    if (n == 0 || n >= sizeof(r.name) || p[n] != '/')
        return TSR_ERR_INVALID;
    memcpy(r.name, p, n);
    p += n + 1;
    if (!lex_uint(&p, 10000000, &clock) || clock == 0)
        return TSR_ERR_INVALID;
    if (*p == '/') {
        p++;
        if (!lex_uint(&p, 255, &ch) || ch == 0)
            return TSR_ERR_INVALID;
        r.channels = (unsigned)ch;
    }
    if (*p)
        return TSR_ERR_INVALID;
    r.pt = (int)pt;
    r.clock_rate = (uint32_t)clock;
    *out = r;
    return 0;
}

int tsr_sdp_parse_fmtp(const char *value, int *pt, const char **params)
{
    const char *p = value;
    uint64_t v;
    if (!p || !pt || !params || !lex_uint(&p, 127, &v) || !lex_spaces(&p))
        return TSR_ERR_INVALID;
    *pt = (int)v;
    *params = p;
    return 0;
}

int tsr_sdp_fmtp_get(const char *params, const char *key, char *buf, size_t buf_size)
{
    size_t key_len = strlen(key);
    const char *p = params;
    while (p && *p) {
        while (*p == ' ' || *p == ';')
            p++;
        const char *end = strchr(p, ';');
        size_t item = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', item);
        if (eq && (size_t)(eq - p) == key_len && g_ascii_strncasecmp(p, key, key_len) == 0) {
            size_t vlen = item - key_len - 1;
            while (vlen && eq[vlen] == ' ')
                vlen--;
            if (vlen >= buf_size)
                return TSR_ERR_INVALID;
            memcpy(buf, eq + 1, vlen);
            buf[vlen] = '\0';
            return 0;
        }
        p = end;
    }
    return TSR_ERR_NOT_FOUND;
}

int tsr_sdp_parse_rtcp_fb(const char *value, struct tsr_sdp_rtcp_fb *out)
{
    struct tsr_sdp_rtcp_fb fb = {.pt = -1};
    const char *p = value;
    uint64_t pt;
    if (!p || !out)
        return TSR_ERR_INVALID;
    if (*p == '*') {
        p++;
    } else {
        if (!lex_uint(&p, 127, &pt))
            return TSR_ERR_INVALID;
        fb.pt = (int)pt;
    }
    if (!lex_spaces(&p) || !lex_word(&p, fb.type, sizeof(fb.type)))
        return TSR_ERR_INVALID;
    if (lex_spaces(&p) && *p && !lex_word(&p, fb.subtype, sizeof(fb.subtype)))
        return TSR_ERR_INVALID;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p)
        return TSR_ERR_INVALID;
    *out = fb;
    return 0;
}

int tsr_sdp_parse_extmap(const char *value, struct tsr_sdp_extmap *out)
{
    struct tsr_sdp_extmap e = {0};
    const char *p = value;
    char dir[16];
    uint64_t id;
    if (!p || !out || !lex_uint(&p, 255, &id) || id == 0)
        return TSR_ERR_INVALID;
    if (*p == '/' && (p++, !lex_word(&p, dir, sizeof(dir))))
        return TSR_ERR_INVALID;
    if (!lex_spaces(&p) || !lex_word(&p, e.uri, sizeof(e.uri)))
        return TSR_ERR_INVALID;
    e.id = (int)id; /* extension attributes after the URI are allowed and ignored */
    *out = e;
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = g_ascii_tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

int tsr_sdp_parse_fingerprint(const char *value, struct tsr_sdp_fingerprint *out)
{
    struct tsr_sdp_fingerprint fp = {0};
    const char *p = value;
    if (!p || !out || !lex_word(&p, fp.hash, sizeof(fp.hash)) || !lex_spaces(&p))
        return TSR_ERR_INVALID;
    for (char *h = fp.hash; *h; h++)
        *h = g_ascii_tolower(*h);
    for (;;) {
        int hi = hex_value(p[0]), lo = hi < 0 ? -1 : hex_value(p[1]);
        if (hi < 0 || lo < 0 || fp.len >= sizeof(fp.bytes))
            return TSR_ERR_INVALID;
        fp.bytes[fp.len++] = (uint8_t)(hi << 4 | lo);
        p += 2;
        if (*p != ':')
            break;
        p++;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p || fp.len < 16)
        return TSR_ERR_INVALID;
    *out = fp;
    return 0;
}

int tsr_sdp_format_fingerprint(const uint8_t *bytes, size_t len, char *buf, size_t buf_size)
{
    if (!bytes || !buf || len == 0 || buf_size < 3 * len)
        return TSR_ERR_INVALID;
    for (size_t i = 0; i < len; i++)
        snprintf(buf + 3 * i, 4, "%02X%s", bytes[i], i + 1 < len ? ":" : "");
    return 0;
}

/* raddr/rport and extension pairs after "typ <type>". */
static int parse_candidate_tail(const char *p, struct tsr_sdp_candidate *c)
{
    char key[32], val[256];
    uint64_t v;
    while (lex_spaces(&p) && *p) {
        if (!lex_word(&p, key, sizeof(key)) || !lex_spaces(&p) || !lex_word(&p, val, sizeof(val)))
            return TSR_ERR_INVALID;
        if (strcmp(key, "raddr") == 0) {
            if (strlen(val) >= sizeof(c->raddr))
                return TSR_ERR_INVALID;
            strcpy(c->raddr, val);
        } else if (strcmp(key, "rport") == 0) {
            const char *q = val;
            if (!lex_uint(&q, 65535, &v) || *q)
                return TSR_ERR_INVALID;
            c->rport = (uint16_t)v;
        }
    }
    return *p ? TSR_ERR_INVALID : 0;
}

int tsr_sdp_parse_candidate(const char *value, struct tsr_sdp_candidate *out)
{
    struct tsr_sdp_candidate c = {0};
    const char *p = value;
    uint64_t comp, prio, port;
    char typ[8];
    if (!p || !out)
        return TSR_ERR_INVALID;
    if (g_str_has_prefix(p, "a="))
        p += 2;
    if (!g_str_has_prefix(p, "candidate:"))
        return TSR_ERR_INVALID;
    p += strlen("candidate:");
    if (!lex_word(&p, c.foundation, sizeof(c.foundation)) || !lex_spaces(&p) ||
        !lex_uint(&p, 256, &comp) || comp == 0 || !lex_spaces(&p) ||
        !lex_word(&p, c.transport, sizeof(c.transport)) || !lex_spaces(&p) ||
        !lex_uint(&p, UINT32_MAX, &prio) || !lex_spaces(&p) ||
        !lex_word(&p, c.address, sizeof(c.address)) || !lex_spaces(&p) ||
        !lex_uint(&p, 65535, &port) || !lex_spaces(&p) || !lex_word(&p, typ, sizeof(typ)) ||
        strcmp(typ, "typ") != 0 || !lex_spaces(&p) || !lex_word(&p, c.type, sizeof(c.type)))
        return TSR_ERR_INVALID;
    for (char *t = c.transport; *t; t++)
        *t = g_ascii_tolower(*t);
    if (strcmp(c.type, "host") && strcmp(c.type, "srflx") && strcmp(c.type, "prflx") &&
        strcmp(c.type, "relay"))
        return TSR_ERR_INVALID;
    c.component = (unsigned)comp;
    c.priority = (uint32_t)prio;
    c.port = (uint16_t)port;
    if (parse_candidate_tail(p, &c) != 0)
        return TSR_ERR_INVALID;
    *out = c;
    return 0;
}

int tsr_sdp_parse_ssrc(const char *value, uint32_t *ssrc, const char **attr_name)
{
    const char *p = value;
    uint64_t v;
    if (!p || !ssrc || !attr_name || !lex_uint(&p, UINT32_MAX, &v) || !lex_spaces(&p) || !*p)
        return TSR_ERR_INVALID;
    *ssrc = (uint32_t)v;
    *attr_name = p;
    return 0;
}

int tsr_sdp_parse_ssrc_group_fid(const char *value, uint32_t *primary, uint32_t *rtx)
{
    const char *p = value;
    uint64_t a, b;
    if (!p || !primary || !rtx || !g_str_has_prefix(p, "FID"))
        return TSR_ERR_INVALID;
    p += 3;
    if (!lex_spaces(&p) || !lex_uint(&p, UINT32_MAX, &a) || !lex_spaces(&p) ||
        !lex_uint(&p, UINT32_MAX, &b))
        return TSR_ERR_INVALID;
    while (*p == ' ')
        p++;
    if (*p)
        return TSR_ERR_INVALID;
    *primary = (uint32_t)a;
    *rtx = (uint32_t)b;
    return 0;
}

/* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839). */
static bool ice_chars_ok(const char *s, size_t min, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (n < min || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isalnum(s[i]) && s[i] != '+' && s[i] != '/')
            return false;
    return true;
}

bool tsr_sdp_ice_credentials_valid(const char *ufrag, const char *pwd)
{
    return ice_chars_ok(ufrag, 4, 256) && ice_chars_ok(pwd, 22, 256);
}

bool tsr_sdp_media_rtpmap(const struct tsr_sdp_media *m, int pt, struct tsr_sdp_rtpmap *out)
{
    for (size_t i = 0; i < m->n_attrs; i++) {
        struct tsr_sdp_rtpmap r;
        if (strcmp(m->attrs[i].name, "rtpmap") == 0 &&
            tsr_sdp_parse_rtpmap(m->attrs[i].value, &r) == 0 && r.pt == pt) {
            *out = r;
            return true;
        }
    }
    return false;
}

const char *tsr_sdp_media_fmtp(const struct tsr_sdp_media *m, int pt)
{
    for (size_t i = 0; i < m->n_attrs; i++) {
        int fpt;
        const char *params;
        if (strcmp(m->attrs[i].name, "fmtp") == 0 &&
            tsr_sdp_parse_fmtp(m->attrs[i].value, &fpt, &params) == 0 && fpt == pt)
            return params;
    }
    return "";
}

int tsr_sdp_media_fmt_pt(const struct tsr_sdp_media *m, size_t k)
{
    char *end;
    long v = strtol(m->fmts[k], &end, 10);
    return (*end || end == m->fmts[k] || v < 0 || v > 127) ? -1 : (int)v;
}
