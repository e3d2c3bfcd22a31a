/* WebSocket signalling messages: the pure parser of client messages and the
 * builders of server messages. No I/O, no globals; fuzzed by
 * tests/fuzz/fuzz_ws_signalling.c. Wire format: include/api/tessera/ws_signalling.h. */
#include <tessera/ws_signalling.h>
#include <tessera/err.h>

#include <glib.h>
#include <jansson.h>
#include <string.h>

/* Longest trickled candidate line; the conference core refuses longer ones too. */
#define CANDIDATE_MAX_BYTES 1024
/* A media id is a short token ("0", "audio"); RFC 8843 puts no bound, browsers stay tiny. */
#define MID_MAX_BYTES 64
#define MLINE_INDEX_MAX 1023

/* Parse failure in progress: the code and message to hand back. */
struct parse_err {
    int rc;
    const char *code;
    char *text;
};

static int fail(struct parse_err *e, int rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct parse_err *e, int rc, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    e->rc = rc;
    e->code = code;
    e->text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return rc;
}

static bool has_control_chars(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    }
    return false;
}

/* An optional string member of at most max_bytes: absent or null leaves *out NULL. */
static int opt_string(json_t *obj, const char *key, size_t max_bytes, char **out,
                      struct parse_err *e)
{
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return fail(e, TSR_ERR_PROTOCOL, "bad_message", "\"%s\" must be a string", key);
    if (json_string_length(v) > max_bytes)
        return fail(e, TSR_ERR_PROTOCOL, "bad_message", "\"%s\" is longer than %zu bytes", key,
                    max_bytes);
    *out = g_strdup(json_string_value(v));
    return 0;
}

static int parse_join(json_t *v, struct tsr_ws_signalling_message *m, struct parse_err *e)
{
    if (!json_is_object(v))
        return fail(e, TSR_ERR_PROTOCOL, "bad_message",
                    "\"join\" must be an object: {\"display_name\": …, \"pin\": …}");
    m->type = TSR_WS_SIGNALLING_MESSAGE_JOIN;
    int rc = opt_string(v, "display_name", TSR_CONFERENCE_NAME_MAX, &m->display_name, e);
    if (rc == 0 && !m->display_name)
        rc = opt_string(v, "name", TSR_CONFERENCE_NAME_MAX, &m->display_name, e);
    if (rc == 0)
        rc = opt_string(v, "pin", TSR_CONFERENCE_PIN_MAX, &m->pin, e);
    return rc;
}

static int parse_sdp(json_t *v, struct tsr_ws_signalling_message *m, struct parse_err *e)
{
    json_t *text = v;
    if (json_is_object(v)) {
        json_t *type = json_object_get(v, "type");
        if (type && !(json_is_string(type) && strcmp(json_string_value(type), "offer") == 0))
            return fail(e, TSR_ERR_PROTOCOL, "bad_message",
                        "only offers are accepted (\"type\": \"offer\"); Tessera answers");
        text = json_object_get(v, "sdp");
        m->sdp_as_object = true;
    }
    if (!json_is_string(text) || json_string_length(text) == 0)
        return fail(e, TSR_ERR_PROTOCOL, "bad_message",
                    "\"sdp\" must be the offer text or {\"type\": \"offer\", \"sdp\": text}");
    m->type = TSR_WS_SIGNALLING_MESSAGE_SDP;
    m->sdp = g_strdup(json_string_value(text));
    return 0;
}

/* Checks and stores the candidate line itself ("" ends the candidates). */
static int take_candidate_line(const char *line, struct tsr_ws_signalling_message *m,
                               struct parse_err *e)
{
    if (g_str_has_prefix(line, "a="))
        line += 2;
    if (strlen(line) > CANDIDATE_MAX_BYTES || has_control_chars(line) ||
        (*line && !g_str_has_prefix(line, "candidate:")))
        return fail(e, TSR_ERR_PROTOCOL, "bad_message",
                    "a candidate is one \"candidate:…\" line of at most %d bytes, or \"\"",
                    CANDIDATE_MAX_BYTES);
    m->candidate = g_strdup(line);
    return 0;
}

static int parse_candidate(json_t *v, struct tsr_ws_signalling_message *m, struct parse_err *e)
{
    m->type = TSR_WS_SIGNALLING_MESSAGE_CANDIDATE;
    m->mline_index = -1;
    if (json_is_null(v))
        return take_candidate_line("", m, e);
    if (json_is_string(v))
        return take_candidate_line(json_string_value(v), m, e);
    json_t *line = json_is_object(v) ? json_object_get(v, "candidate") : NULL;
    if (!json_is_string(line))
        return fail(e, TSR_ERR_PROTOCOL, "bad_message",
                    "\"candidate\" must be a string, null, or {\"candidate\": string, "
                    "\"sdpMid\", \"sdpMLineIndex\"}");
    json_t *idx = json_object_get(v, "sdpMLineIndex");
    if (idx && !json_is_null(idx)) {
        if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
            json_integer_value(idx) > MLINE_INDEX_MAX)
            return fail(e, TSR_ERR_PROTOCOL, "bad_message",
                        "\"sdpMLineIndex\" must be an integer 0..%d", MLINE_INDEX_MAX);
        m->mline_index = (int)json_integer_value(idx);
    }
    int rc = opt_string(v, "sdpMid", MID_MAX_BYTES, &m->mid, e);
    if (rc == 0 && m->mid && has_control_chars(m->mid))
        rc = fail(e, TSR_ERR_PROTOCOL, "bad_message", "\"sdpMid\" has control characters");
    return rc ? rc : take_candidate_line(json_string_value(line), m, e);
}

static int parse_object(json_t *root, struct tsr_ws_signalling_message *m, struct parse_err *e)
{
    static const char *const keys[] = {"join", "sdp", "candidate", "bye"};
    const char *key = NULL;
    json_t *v = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        json_t *x = json_object_get(root, keys[i]);
        if (!x)
            continue;
        if (key)
            return fail(e, TSR_ERR_PROTOCOL, "bad_message",
                        "one message carries one of join, sdp, candidate, bye; this has \"%s\" "
                        "and \"%s\"",
                        key, keys[i]);
        key = keys[i];
        v = x;
    }
    if (!key)
        return fail(e, TSR_ERR_UNSUPPORTED, "unknown_message",
                    "expected one of {\"join\"}, {\"sdp\"}, {\"candidate\"}, {\"bye\": true}");
    if (strcmp(key, "join") == 0)
        return parse_join(v, m, e);
    if (strcmp(key, "sdp") == 0)
        return parse_sdp(v, m, e);
    if (strcmp(key, "candidate") == 0)
        return parse_candidate(v, m, e);
    if (!json_is_true(v))
        return fail(e, TSR_ERR_PROTOCOL, "bad_message", "\"bye\" must be true");
    m->type = TSR_WS_SIGNALLING_MESSAGE_BYE;
    return 0;
}

int tsr_ws_signalling_parse(const uint8_t *data, size_t len, struct tsr_ws_signalling_message *out,
                            const char **err_code, char **err_text)
{
    struct parse_err e = {0};
    struct tsr_ws_signalling_message m = {.mline_index = -1};
    json_t *root = NULL;
    if (len > TSR_WS_SIGNALLING_MAX_MESSAGE_BYTES) {
        fail(&e, TSR_ERR_FULL, "too_large", "message is %zu bytes; the limit is %d", len,
             TSR_WS_SIGNALLING_MAX_MESSAGE_BYTES);
        goto out;
    }
    json_error_t jerr;
    root = json_loadb(len ? (const char *)data : "", len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        fail(&e, TSR_ERR_INVALID, "bad_json", "not valid JSON: %s (column %d)", jerr.text,
             jerr.column);
        goto out;
    }
    if (!json_is_object(root)) {
        fail(&e, TSR_ERR_INVALID, "bad_json", "a message must be a JSON object");
        goto out;
    }
    parse_object(root, &m, &e);
out:
    json_decref(root);
    if (e.rc != 0) {
        tsr_ws_signalling_message_fini(&m);
        *err_code = e.code;
        *err_text = e.text;
        return e.rc;
    }
    *out = m;
    return 0;
}

void tsr_ws_signalling_message_fini(struct tsr_ws_signalling_message *m)
{
    if (!m)
        return;
    g_free(m->display_name);
    g_free(m->pin);
    g_free(m->sdp);
    g_free(m->candidate);
    g_free(m->mid);
    memset(m, 0, sizeof *m);
    m->mline_index = -1;
}

static char *dump(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    char *copy = g_strdup(s ? s : "{}");
    free(s);
    json_decref(o);
    return copy;
}

char *tsr_ws_signalling_format_answer(const char *answer_sdp, bool as_object)
{
    json_t *sdp = as_object ? json_pack("{s:s, s:s}", "type", "answer", "sdp", answer_sdp)
                            : json_string(answer_sdp);
    return dump(json_pack("{s:o}", "sdp", sdp));
}

char *tsr_ws_signalling_format_error(const char *code, const char *text)
{
    return dump(json_pack("{s:s, s:s}", "error", code, "message", text ? text : code));
}
