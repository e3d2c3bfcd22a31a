/* Request-body parsers of the native API. Pure: bytes in, fields out, so they are
 * unit-testable and fuzzable without a server (tests/fuzz/fuzz_native_api.c). */
#include <tessera/err.h>
#include <tessera/front.h>
#include <tessera/native_api.h>

#include <glib.h>
#include <string.h>

static int parse_object(const uint8_t *body, size_t len, json_t **out, char **err_text)
{
    return tsr_front_parse_json(body, len, TSR_NATIVE_API_MAX_BODY_BYTES, 0, out, err_text);
}

/* Optional string member: absent or null gives NULL; another type (or a string with
 * an embedded NUL) is an error. */
static bool opt_string(json_t *root, const char *key, const char **out)
{
    bool bad = false;
    *out = tsr_front_json_str(root, key, &bad);
    return !bad;
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
    json_int_t idx = -1;
    bool idx_ok = tsr_front_json_int(root, "sdpMLineIndex", 0, 63, &idx);
    if (!opt_string(root, "candidate", &b.candidate) || !b.candidate ||
        !opt_string(root, "sdpMid", &b.mid) || !idx_ok) {
        json_decref(root);
        *err_text = g_strdup("body needs \"candidate\" (string), optional \"sdpMid\" (string) "
                             "and \"sdpMLineIndex\" (integer 0..63)");
        return TSR_ERR_INVALID;
    }
    b.mline_index = (int)idx;
    *out = b;
    return 0;
}

void tsr_native_candidate_body_fini(struct tsr_native_candidate_body *b)
{
    json_decref(b->root);
    memset(b, 0, sizeof *b);
}
