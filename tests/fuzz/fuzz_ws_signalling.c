/* libFuzzer target: the WebSocket signalling message parser, plus the server
 * messages built from what it returns. Any text a client can send must either
 * parse into a consistent message or fail with a wire code and a message, with
 * nothing leaked and the output untouched. */
#include <tessera/ws_signalling.h>

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const struct tsr_ws_signalling_message *m)
{
    switch (m->type) {
    case TSR_WS_SIGNALLING_MESSAGE_SDP: {
        if (!m->sdp || !*m->sdp)
            __builtin_trap();
        g_free(tsr_ws_signalling_format_answer(m->sdp, m->sdp_as_object));
        break;
    }
    case TSR_WS_SIGNALLING_MESSAGE_CANDIDATE:
        if (!m->candidate || (*m->candidate && strncmp(m->candidate, "candidate:", 10) != 0) ||
            m->mline_index < -1)
            __builtin_trap();
        break;
    case TSR_WS_SIGNALLING_MESSAGE_JOIN:
    case TSR_WS_SIGNALLING_MESSAGE_BYE:
        break;
    default:
        __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tsr_ws_signalling_message m;
    memset(&m, 0x5a, sizeof m);
    const char *code = NULL;
    char *text = NULL;
    int rc = tsr_ws_signalling_parse(data, size, &m, &code, &text);
    if (rc == 0) {
        check_message(&m);
        tsr_ws_signalling_message_fini(&m);
        return 0;
    }
    if (!code || !text)
        __builtin_trap();
    g_free(tsr_ws_signalling_format_error(code, text));
    g_free(text);
    return 0;
}
