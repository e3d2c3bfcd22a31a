/* WebSocket signalling messages: every accepted form parses to the right fields,
 * every bad one gets its wire code and leaves the output untouched, and the
 * server's messages are the documented JSON. */
#include <tessera/err.h>
#include <tessera/ws_signalling.h>

#include <glib.h>
#include <jansson.h>
#include <string.h>

static int parse(const char *text, struct tsr_ws_signalling_message *m, const char **code)
{
    char *err = NULL;
    int rc = tsr_ws_signalling_parse((const uint8_t *)text, strlen(text), m, code, &err);
    if (rc != 0) {
        g_assert_nonnull(err);
        g_assert_cmpuint(strlen(err), >, 0);
    }
    g_free(err);
    return rc;
}

static void test_sdp_forms(void)
{
    struct tsr_ws_signalling_message m;
    const char *code = NULL;
    g_assert_cmpint(parse("{\"sdp\":\"v=0\\r\\no=- 1 2 IN IP4 0.0.0.0\\r\\n\"}", &m, &code), ==, 0);
    g_assert_cmpint(m.type, ==, TSR_WS_SIGNALLING_MESSAGE_SDP);
    g_assert_cmpstr(m.sdp, ==, "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n");
    g_assert_false(m.sdp_as_object);
    tsr_ws_signalling_message_fini(&m);
    g_assert_null(m.sdp);

    g_assert_cmpint(parse("{\"sdp\":{\"type\":\"offer\",\"sdp\":\"v=0\"},\"extra\":1}", &m, &code),
                    ==, 0);
    g_assert_cmpstr(m.sdp, ==, "v=0");
    g_assert_true(m.sdp_as_object);
    tsr_ws_signalling_message_fini(&m);

    /* "type" may be left out of the object; the offer is implied */
    g_assert_cmpint(parse("{\"sdp\":{\"sdp\":\"v=0\"}}", &m, &code), ==, 0);
    g_assert_true(m.sdp_as_object);
    tsr_ws_signalling_message_fini(&m);
}

static void test_candidate_forms(void)
{
    struct tsr_ws_signalling_message m;
    const char *code = NULL;
    g_assert_cmpint(parse("{\"candidate\":{\"candidate\":\"candidate:1 1 udp 2122260223 "
                          "192.0.2.1 50000 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":1,"
                          "\"usernameFragment\":\"abcd\"}}",
                          &m, &code),
                    ==, 0);
    g_assert_cmpint(m.type, ==, TSR_WS_SIGNALLING_MESSAGE_CANDIDATE);
    g_assert_cmpstr(m.candidate, ==, "candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host");
    g_assert_cmpstr(m.mid, ==, "0");
    g_assert_cmpint(m.mline_index, ==, 1);
    tsr_ws_signalling_message_fini(&m);

    /* a bare line, with the SDP "a=" prefix some clients keep */
    g_assert_cmpint(
        parse("{\"candidate\":\"a=candidate:2 1 udp 1 192.0.2.2 9 typ host\"}", &m, &code), ==, 0);
    g_assert_cmpstr(m.candidate, ==, "candidate:2 1 udp 1 192.0.2.2 9 typ host");
    g_assert_null(m.mid);
    g_assert_cmpint(m.mline_index, ==, -1);
    tsr_ws_signalling_message_fini(&m);

    /* end of candidates: null, "" or an object with "" and null members */
    const char *ends[] = {"{\"candidate\":null}", "{\"candidate\":\"\"}",
                          "{\"candidate\":{\"candidate\":\"\",\"sdpMid\":null,"
                          "\"sdpMLineIndex\":null}}"};
    for (size_t i = 0; i < G_N_ELEMENTS(ends); i++) {
        g_assert_cmpint(parse(ends[i], &m, &code), ==, 0);
        g_assert_cmpstr(m.candidate, ==, "");
        g_assert_null(m.mid);
        g_assert_cmpint(m.mline_index, ==, -1);
        tsr_ws_signalling_message_fini(&m);
    }
}

static void test_join_and_bye(void)
{
    struct tsr_ws_signalling_message m;
    const char *code = NULL;
    g_assert_cmpint(parse("{\"join\":{\"display_name\":\"Ann\",\"pin\":\"1234\"}}", &m, &code), ==,
                    0);
    g_assert_cmpint(m.type, ==, TSR_WS_SIGNALLING_MESSAGE_JOIN);
    g_assert_cmpstr(m.display_name, ==, "Ann");
    g_assert_cmpstr(m.pin, ==, "1234");
    tsr_ws_signalling_message_fini(&m);

    g_assert_cmpint(parse("{\"join\":{\"name\":\"Bo\"}}", &m, &code), ==, 0);
    g_assert_cmpstr(m.display_name, ==, "Bo");
    g_assert_null(m.pin);
    tsr_ws_signalling_message_fini(&m);

    g_assert_cmpint(parse("{\"join\":{}}", &m, &code), ==, 0);
    g_assert_null(m.display_name);
    tsr_ws_signalling_message_fini(&m);

    g_assert_cmpint(parse("{\"bye\":true}", &m, &code), ==, 0);
    g_assert_cmpint(m.type, ==, TSR_WS_SIGNALLING_MESSAGE_BYE);
    tsr_ws_signalling_message_fini(&m);
}

struct bad_case {
    const char *text;
    int rc;
    const char *code;
};

static void test_bad_messages(void)
{
    static const struct bad_case cases[] = {
        {"", TSR_ERR_INVALID, "bad_json"},
        {"not json", TSR_ERR_INVALID, "bad_json"},
        {"{\"sdp\":\"v=0\"", TSR_ERR_INVALID, "bad_json"},
        {"[\"sdp\"]", TSR_ERR_INVALID, "bad_json"},
        {"\"sdp\"", TSR_ERR_INVALID, "bad_json"},
        {"{\"sdp\":\"a\",\"sdp\":\"b\"}", TSR_ERR_INVALID, "bad_json"},
        {"{}", TSR_ERR_UNSUPPORTED, "unknown_message"},
        {"{\"hello\":1}", TSR_ERR_UNSUPPORTED, "unknown_message"},
        {"{\"type\":\"offer\"}", TSR_ERR_UNSUPPORTED, "unknown_message"},
        {"{\"sdp\":\"v=0\",\"bye\":true}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"sdp\":5}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"sdp\":\"\"}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"sdp\":null}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"sdp\":{\"type\":\"answer\",\"sdp\":\"v=0\"}}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"sdp\":{\"type\":\"offer\"}}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"sdp\":{\"type\":1,\"sdp\":\"v=0\"}}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"candidate\":5}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"candidate\":\"typ host\"}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"candidate\":\"candidate:1\\r\\na=x\"}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"candidate\":{\"sdpMid\":\"0\"}}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"candidate\":{\"candidate\":\"candidate:1\",\"sdpMLineIndex\":-1}}", TSR_ERR_PROTOCOL,
         "bad_message"},
        {"{\"candidate\":{\"candidate\":\"candidate:1\",\"sdpMLineIndex\":\"0\"}}",
         TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"candidate\":{\"candidate\":\"candidate:1\",\"sdpMid\":0}}", TSR_ERR_PROTOCOL,
         "bad_message"},
        {"{\"bye\":false}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"bye\":1}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"join\":\"Ann\"}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"join\":{\"pin\":1234}}", TSR_ERR_PROTOCOL, "bad_message"},
        {"{\"join\":{\"pin\":\"123456789012345678901234567890123\"}}", TSR_ERR_PROTOCOL,
         "bad_message"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        /* on failure the output is left exactly as it was */
        struct tsr_ws_signalling_message m;
        memset(&m, 0xa5, sizeof m);
        struct tsr_ws_signalling_message before = m;
        const char *code = NULL;
        int rc = parse(cases[i].text, &m, &code);
        if (rc != cases[i].rc || g_strcmp0(code, cases[i].code) != 0)
            g_error("%s: rc %d code %s, want %d %s", cases[i].text, rc, code, cases[i].rc,
                    cases[i].code);
        g_assert_cmpmem(&m, sizeof m, &before, sizeof before);
    }
}

static void test_size_limit(void)
{
    /* exactly at the limit is parsed; one byte more is refused before parsing */
    size_t limit = TSR_WS_SIGNALLING_MAX_MESSAGE_BYTES;
    GString *s = g_string_new("{\"sdp\":\"");
    while (s->len < limit - 2)
        g_string_append_c(s, 'x');
    g_string_append(s, "\"}");
    g_assert_cmpuint(s->len, ==, limit);
    struct tsr_ws_signalling_message m;
    const char *code = NULL;
    char *err = NULL;
    g_assert_cmpint(tsr_ws_signalling_parse((const uint8_t *)s->str, s->len, &m, &code, &err), ==,
                    0);
    g_assert_cmpuint(strlen(m.sdp), ==, limit - 10);
    tsr_ws_signalling_message_fini(&m);
    g_string_insert_c(s, 8, 'x');
    g_assert_cmpint(tsr_ws_signalling_parse((const uint8_t *)s->str, s->len, &m, &code, &err), ==,
                    TSR_ERR_FULL);
    g_assert_cmpstr(code, ==, "too_large");
    g_assert_nonnull(strstr(err, "65536"));
    g_free(err);
    g_string_free(s, TRUE);
    /* a NUL inside the text is not JSON */
    static const uint8_t nul[] = "{\"bye\":true}\0";
    g_assert_cmpint(tsr_ws_signalling_parse(nul, sizeof nul - 1, &m, &code, &err), ==,
                    TSR_ERR_INVALID);
    g_assert_cmpstr(code, ==, "bad_json");
    g_free(err);
}

static void test_server_messages(void)
{
    json_error_t jerr;
    char *text = tsr_ws_signalling_format_answer("v=0\r\n", false);
    json_t *o = json_loads(text, 0, &jerr);
    g_assert_cmpuint(json_object_size(o), ==, 1);
    g_assert_cmpstr(json_string_value(json_object_get(o, "sdp")), ==, "v=0\r\n");
    json_decref(o);
    g_free(text);

    text = tsr_ws_signalling_format_answer("v=0\r\n", true);
    o = json_loads(text, 0, &jerr);
    json_t *sdp = json_object_get(o, "sdp");
    g_assert_cmpstr(json_string_value(json_object_get(sdp, "type")), ==, "answer");
    g_assert_cmpstr(json_string_value(json_object_get(sdp, "sdp")), ==, "v=0\r\n");
    json_decref(o);
    g_free(text);

    text = tsr_ws_signalling_format_error("wrong_pin", "the PIN is \"wrong\"");
    o = json_loads(text, 0, &jerr);
    g_assert_cmpuint(json_object_size(o), ==, 2);
    g_assert_cmpstr(json_string_value(json_object_get(o, "error")), ==, "wrong_pin");
    g_assert_cmpstr(json_string_value(json_object_get(o, "message")), ==, "the PIN is \"wrong\"");
    json_decref(o);
    g_free(text);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ws_signalling/sdp_forms", test_sdp_forms);
    g_test_add_func("/ws_signalling/candidate_forms", test_candidate_forms);
    g_test_add_func("/ws_signalling/join_and_bye", test_join_and_bye);
    g_test_add_func("/ws_signalling/bad_messages", test_bad_messages);
    g_test_add_func("/ws_signalling/size_limit", test_size_limit);
    g_test_add_func("/ws_signalling/server_messages", test_server_messages);
    return g_test_run();
}
