/* Interop with a real browser at the transport level: headless Chromium (fake
 * camera and microphone) offers to a page served here; the answer comes from
 * tsr_sdp_negotiate + a Tessera transport. The test checks that Opus and VP8
 * RTP arrive decrypted, and reflects them back under our SSRCs so Chromium
 * decodes our SRTP video (its getStats framesDecoded > 0). Skipped when
 * /usr/bin/chromium is missing (CI installs it with the test packages). */
#include <tessera/err.h>
#include <tessera/sdp_negotiate.h>
#include <tessera/webrtc_transport.h>

#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define CHROMIUM "/usr/bin/chromium"
#define DEADLINE_S 45
#define AUDIO_SSRC 0x7e55e7a1u
#define VIDEO_SSRC 0x7e55e7a2u

static const char page[] =
    "<html><body><script>\n"
    "const log = m => fetch('/log', {method: 'POST', body: m});\n"
    "(async () => { try {\n"
    " const pc = new RTCPeerConnection();\n"
    " const s = await navigator.mediaDevices.getUserMedia({audio: true, video: true});\n"
    " s.getTracks().forEach(t => pc.addTrack(t, s));\n"
    " pc.createDataChannel('chat');\n"
    " await pc.setLocalDescription(await pc.createOffer());\n"
    " await new Promise(r => { pc.onicegatheringstatechange = () =>\n"
    "   pc.iceGatheringState === 'complete' && r(); setTimeout(r, 3000); });\n"
    " const res = await fetch('/offer', {method: 'POST', body: pc.localDescription.sdp});\n"
    " const answer = await res.text();\n"
    " if (!res.ok) { await log('error ' + answer); return; }\n"
    " await pc.setRemoteDescription({type: 'answer', sdp: answer});\n"
    " for (;;) {\n"
    "  await new Promise(r => setTimeout(r, 250));\n"
    "  let frames = 0, cipher = '';\n"
    "  (await pc.getStats()).forEach(r => {\n"
    "   if (r.type === 'inbound-rtp' && r.kind === 'video') frames = r.framesDecoded || 0;\n"
    "   if (r.type === 'transport') cipher = r.srtpCipher || ''; });\n"
    "  if (frames >= 10) { await log('decoded ' + frames + ' ' + cipher); return; }\n"
    " }\n"
    "} catch (e) { log('error ' + e); } })();\n"
    "</script></body></html>\n";

struct harness {
    GMainContext *ctx;
    struct tsr_dtls_cert *cert;
    struct tsr_webrtc_transport *t;
    struct tsr_sdp_negotiation *neg;
    enum tsr_webrtc_state state;
    unsigned audio_rtp, video_rtp, rtcp, reflected;
    char *browser_result; /* the page's final message */
};

static void on_rtp(void *user, uint8_t *d, size_t len)
{
    struct harness *h = user;
    int pt = d[1] & 0x7f;
    uint32_t ssrc;
    g_assert_cmpuint(len, >=, 12);
    g_assert_cmpuint(d[0] >> 6, ==, 2);
    if (pt == h->neg->mlines[h->neg->audio_index].pt) {
        h->audio_rtp++;
        ssrc = AUDIO_SSRC;
    } else if (pt == h->neg->mlines[h->neg->video_index].pt) {
        h->video_rtp++;
        ssrc = VIDEO_SSRC;
    } else {
        return;
    }
    d[8] = (uint8_t)(ssrc >> 24); /* reflect under our SSRC */
    d[9] = (uint8_t)(ssrc >> 16);
    d[10] = (uint8_t)(ssrc >> 8);
    d[11] = (uint8_t)ssrc;
    if (tsr_webrtc_transport_send_rtp(h->t, d, len) == 0)
        h->reflected++;
}

static void on_rtcp(void *user, uint8_t *d, size_t len)
{
    (void)d, (void)len;
    ((struct harness *)user)->rtcp++;
}

static void on_state(void *user, enum tsr_webrtc_state s)
{
    ((struct harness *)user)->state = s;
}

static void answer_offer(struct harness *h, SoupServerMessage *msg, const char *offer, gsize n)
{
    struct tsr_webrtc_config cfg = {.cert = h->cert};
    struct tsr_webrtc_callbacks cb = {on_rtp, on_rtcp, on_state, NULL};
    struct tsr_sdp_local l = {0};
    char reason[TSR_SDP_REASON_MAX] = "transport";
    int rc = h->t ? TSR_ERR_STATE : tsr_webrtc_transport_new(&h->t, h->ctx, &cfg, &cb, h);
    rc = rc ? rc : tsr_webrtc_transport_local(h->t, &l);
    l.audio_ssrc = AUDIO_SSRC;
    l.video_ssrc = VIDEO_SSRC;
    l.cname = "tessera-test";
    l.stream_id = "tessera";
    rc = rc ? rc : tsr_sdp_negotiate(offer, n, &l, &h->neg, reason);
    rc = rc ? rc : tsr_webrtc_transport_set_remote_description(h->t, h->neg);
    if (rc != 0) {
        soup_server_message_set_status(msg, 400, NULL);
        soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_COPY, reason,
                                         strlen(reason));
        return;
    }
    soup_server_message_set_status(msg, 200, NULL);
    soup_server_message_set_response(msg, "application/sdp", SOUP_MEMORY_COPY, h->neg->answer,
                                     strlen(h->neg->answer));
}

static void handle(SoupServer *srv, SoupServerMessage *msg, const char *path, GHashTable *q,
                   gpointer user)
{
    struct harness *h = user;
    (void)srv, (void)q;
    /* no keep-alive: nothing of libsoup's outlives the test's server */
    soup_message_headers_append(soup_server_message_get_response_headers(msg), "Connection",
                                "close");
    if (strcmp(path, "/") == 0) {
        soup_server_message_set_status(msg, 200, NULL);
        soup_server_message_set_response(msg, "text/html", SOUP_MEMORY_STATIC, page,
                                         strlen(page));
        return;
    }
    GBytes *body = soup_message_body_flatten(soup_server_message_get_request_body(msg));
    gsize n = 0;
    const char *data = g_bytes_get_data(body, &n);
    if (strcmp(path, "/offer") == 0) {
        answer_offer(h, msg, data, n);
    } else if (strcmp(path, "/log") == 0) {
        g_free(h->browser_result);
        h->browser_result = g_strndup(data, n);
        soup_server_message_set_status(msg, 200, NULL);
    } else {
        soup_server_message_set_status(msg, 404, NULL);
    }
    g_bytes_unref(body);
}

static gboolean wake(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

static void test_chromium(void)
{
    if (!g_file_test(CHROMIUM, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip(CHROMIUM " not installed");
        return;
    }
    struct harness h = {.ctx = g_main_context_ref_thread_default()};
    g_assert_cmpint(tsr_dtls_cert_generate(&h.cert), ==, 0);
    SoupServer *srv = soup_server_new(NULL, NULL);
    soup_server_add_handler(srv, NULL, handle, &h, NULL);
    /* Our own listening socket: soup_server_get_uris() leaks an address in
     * libsoup 3.0 (Debian 12), and the port is all we need. */
    GSocket *sock = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL);
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *addr = g_inet_socket_address_new(lo, 0);
    g_assert_true(g_socket_bind(sock, addr, TRUE, NULL));
    g_assert_true(g_socket_listen(sock, NULL));
    GSocketAddress *bound = g_socket_get_local_address(sock, NULL);
    char *url = g_strdup_printf("http://127.0.0.1:%u/",
                                g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound)));
    g_assert_true(soup_server_listen_socket(srv, sock, 0, NULL));
    g_object_unref(bound);
    g_object_unref(addr);
    g_object_unref(lo);
    char *profile = g_dir_make_tmp("tsr-chromium-XXXXXX", NULL);
    char *user_dir = g_strdup_printf("--user-data-dir=%s", profile);
    char *argv[] = {CHROMIUM, "--headless=new", "--no-sandbox", "--use-fake-ui-for-media-stream",
                    "--use-fake-device-for-media-stream", "--disable-background-networking",
                    "--disable-gpu", user_dir, url, NULL};
    GPid pid;
    g_assert_true(g_spawn_async(NULL, argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                    G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &pid, NULL));
    bool timed_out = false;
    GSource *deadline = g_timeout_source_new_seconds(DEADLINE_S);
    g_source_set_callback(deadline, wake, &timed_out, NULL);
    g_source_attach(deadline, h.ctx);
    while (!h.browser_result && !timed_out)
        g_main_context_iteration(h.ctx, TRUE);
    g_source_destroy(deadline);
    g_source_unref(deadline);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    g_spawn_close_pid(pid);

    g_test_message("browser: %s; server got audio %u video %u rtcp %u, reflected %u",
                   h.browser_result ? h.browser_result : "(nothing)", h.audio_rtp, h.video_rtp,
                   h.rtcp, h.reflected);
    g_assert_nonnull(h.browser_result);
    g_assert_true(g_str_has_prefix(h.browser_result, "decoded "));
    g_assert_nonnull(strstr(h.browser_result, "SRTP_"));
    g_assert_cmpint(h.state, ==, TSR_WEBRTC_STATE_CONNECTED);
    g_assert_cmpuint(h.audio_rtp, >, 0);
    g_assert_cmpuint(h.video_rtp, >, 0);
    g_assert_cmpuint(h.rtcp, >, 0);

    tsr_webrtc_transport_free(&h.t);
    tsr_sdp_negotiation_free(&h.neg);
    tsr_dtls_cert_unref(&h.cert);
    soup_server_disconnect(srv);
    g_object_unref(srv);
    g_object_unref(sock);
    char *rm_argv[] = {"rm", "-rf", profile, NULL};
    g_spawn_sync(NULL, rm_argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(profile);
    g_free(user_dir);
    g_free(url);
    g_free(h.browser_result);
    while (g_main_context_iteration(h.ctx, FALSE))
        ;
    g_main_context_unref(h.ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/webrtc/chromium_interop", test_chromium);
    return g_test_run();
}
