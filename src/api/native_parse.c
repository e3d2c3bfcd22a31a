/* Request-body parsers of the native API. Pure: bytes in, fields out, so they are
 * unit-testable and fuzzable without a server (tests/fuzz/fuzz_native_api.c). */
#include <tessera/err.h>
#include <tessera/native_api.h>

#include <glib.h>
#include <string.h>

static int parse_object(const uint8_t *body, size_t len, json_t **out, char **err_text)
{
    if (len > TSR_NATIVE_API_MAX_BODY_BYTES) {
        *err_text = g_strdup_printf("request body is %zu bytes; the limit is %d", len,
                                    TSR_NATIVE_API_MAX_BODY_BYTES);
        return TSR_ERR_FULL;
    }
    json_error_t jerr;
    /* Duplicate keys are refused: two "pin" members must not mean whichever wins. */
    json_t *root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        *err_text = g_strdup_printf("body is not valid JSON: %s (line %d, column %d)", jerr.text,
                                    jerr.line, jerr.column);
        return TSR_ERR_INVALID;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        *err_text = g_strdup("body must be a JSON object");
        return TSR_ERR_INVALID;
    }
    *out = root;
    return 0;
}

/* Optional string member: absent or null gives NULL; another type is an error.
 * Strings with an embedded NUL are refused (jansson allows them; C APIs do not). */
static bool opt_string(json_t *root, const char *key, const char **out)
{
    json_t *v = json_object_get(root, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
        return false;
    *out = json_string_value(v);
    return true;
}

int tsr_native_api_parse_join(const uint8_t *body, size_t len, struct tsr_native_join_body *out,
                              char **err_text)
{
    json_t *root = NULL;
    int rc = parse_object(body, len, &root, err_text);
    if (rc != 0)
        return rc;
    struct tsr_native_join_body b = {.root = root};
    if (!opt_string(root, "display_name", &b.display_name) || !b.display_name ||
        !opt_string(root, "pin", &b.pin) || !opt_string(root, "sdp", &b.sdp)) {
        json_decref(root);
        *err_text = g_strdup("body needs \"display_name\" (string), optional \"pin\" and \"sdp\" "
                             "(strings)");
        return TSR_ERR_INVALID;
    }
    *out = b;
    return 0;
}

void tsr_native_join_body_fini(struct tsr_native_join_body *b)
{
    json_decref(b->root);
    memset(b, 0, sizeof *b);
}

int tsr_native_api_parse_candidate(const uint8_t *body, size_t len,
                                   struct tsr_native_candidate_body *out, char **err_text)
{
    json_t *root = NULL;
    int rc = parse_object(body, len, &root, err_text);
    if (rc != 0)
        return rc;
    struct tsr_native_candidate_body b = {.root = root, .mline_index = -1};
    json_t *idx = json_object_get(root, "sdpMLineIndex");
    bool idx_ok =
        !idx || json_is_null(idx) ||
        (json_is_integer(idx) && json_integer_value(idx) >= 0 && json_integer_value(idx) < 64);
    if (!opt_string(root, "candidate", &b.candidate) || !b.candidate ||
        !opt_string(root, "sdpMid", &b.mid) || !idx_ok) {
        json_decref(root);
        *err_text = g_strdup("body needs \"candidate\" (string), optional \"sdpMid\" (string) "
                             "and \"sdpMLineIndex\" (integer 0..63)");
        return TSR_ERR_INVALID;
    }
    if (json_is_integer(idx))
        b.mline_index = (int)json_integer_value(idx);
    *out = b;
    return 0;
}

void tsr_native_candidate_body_fini(struct tsr_native_candidate_body *b)
{
    json_decref(b->root);
    memset(b, 0, sizeof *b);
}
