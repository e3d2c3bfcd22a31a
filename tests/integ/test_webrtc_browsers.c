/* Interop with real browsers at the transport level: headless Chromium and, when
 * installed, Firefox ESR (fake camera and microphone) offer to a page served here; the answer comes
 * from tsr_sdp_negotiate + a Tessera transport. The test checks that Opus and VP8 RTP arrive
 * decrypted, and reflects them back under our SSRCs so Chromium decodes our SRTP video (its
 * getStats framesDecoded > 0). Each browser is skipped when not installed (CI installs chromium
 * with the test packages; Firefox is optional). */
#include <tessera/err.h>
#include <tessera/sdp_negotiate.h>
#include <tessera/webrtc_transport.h>

#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#define CHROMIUM "/usr/bin/chromium"
#define FIREFOX "/usr/bin/firefox-esr"
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

/* Our answer to the page's offer, or a 400 with the reason. *status and *body
 * are the HTTP response (body newly allocated). */
static void answer_offer(struct harness *h, const char *offer, gsize n, int *status, char **body)
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
    *status = rc ? 400 : 200;
    *body = g_strdup(rc ? reason : h->neg->answer);
}

/* Reads one HTTP/1.1 request (headers + Content-Length body). The browser is
 * local and sends it at once, so blocking reads with a timeout are fine here. */
static bool read_request(GSocket *sock, char **path, char **body, gsize *body_len)
{
    GString *in = g_string_new(NULL);
    char buf[4096];
    const char *hdr_end = NULL;
    gsize want = 0;
    g_socket_set_blocking(sock, TRUE);
    g_socket_set_timeout(sock, 10);
    for (;;) {
        if (!hdr_end && (hdr_end = strstr(in->str, "\r\n\r\n"))) {
            const char *cl = g_strstr_len(in->str, hdr_end - in->str, "Content-Length:");
            want = (gsize)(hdr_end - in->str) + 4 + (cl ? strtoul(cl + 15, NULL, 10) : 0);
        }
        if (hdr_end && in->len >= want)
            break;
        gssize r = g_socket_receive(sock, buf, sizeof(buf), NULL, NULL);
        if (r <= 0) {
            g_string_free(in, TRUE);
            return false;
        }
        g_string_append_len(in, buf, r);
        hdr_end = NULL;
    }
    hdr_end = strstr(in->str, "\r\n\r\n");
    const char *sp = strchr(in->str, ' ');
    const char *sp2 = sp ? strchr(sp + 1, ' ') : NULL;
    *path = sp2 ? g_strndup(sp + 1, (gsize)(sp2 - sp - 1)) : g_strdup("");
    *body_len = want - (gsize)(hdr_end + 4 - in->str);
    *body = g_strndup(hdr_end + 4, *body_len);
    g_string_free(in, TRUE);
    return true;
}

static gboolean on_incoming(GSocketService *svc, GSocketConnection *conn, GObject *src,
                            gpointer user)
{
    struct harness *h = user;
    GSocket *sock = g_socket_connection_get_socket(conn);
    char *path = NULL, *body = NULL, *out = NULL;
    gsize n = 0;
    int status = 404;
    const char *type = "text/plain";
    (void)svc, (void)src;
    if (!read_request(sock, &path, &body, &n))
        return TRUE;
    if (strcmp(path, "/") == 0) {
        status = 200;
        type = "text/html";
        out = g_strdup(page);
    } else if (strcmp(path, "/offer") == 0) {
        answer_offer(h, body, n, &status, &out);
    } else if (strcmp(path, "/log") == 0) {
        g_free(h->browser_result);
        h->browser_result = g_strdup(body);
        status = 200;
    }
    char *resp = g_strdup_printf("HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                                 "Connection: close\r\n\r\n%s",
                                 status, type, out ? strlen(out) : 0, out ? out : "");
    g_socket_send(sock, resp, strlen(resp), NULL, NULL);
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    g_free(resp);
    g_free(out);
    g_free(path);
    g_free(body);
    return TRUE;
}

static gboolean wake(gpointer data)
{
    *(bool *)data = true;
    return G_SOURCE_REMOVE;
}

/* Command line for `browser` opening url with a fresh profile in dir. */
static char **browser_argv(const char *browser, const char *dir, const char *url)
{
    if (strcmp(browser, FIREFOX) == 0) {
        char *prefs = g_build_filename(dir, "user.js", NULL);
        g_assert_true(g_file_set_contents(
            prefs,
            "user_pref(\"media.navigator.streams.fake\", true);\n"
            "user_pref(\"media.navigator.permission.disabled\", true);\n"
            "user_pref(\"browser.shell.checkDefaultBrowser\", false);\n"
            "user_pref(\"datareporting.policy.dataSubmissionEnabled\", false);\n",
            -1, NULL));
        g_free(prefs);
        char *argv[] = {(char *)browser, "--headless", "--no-remote", "--profile",
                        (char *)dir,     (char *)url,  NULL};
        return g_strdupv(argv);
    }
    char *user_dir = g_strdup_printf("--user-data-dir=%s", dir);
    char *argv[] = {(char *)browser,
                    "--headless=new",
                    "--no-sandbox",
                    "--use-fake-ui-for-media-stream",
                    "--use-fake-device-for-media-stream",
                    "--disable-background-networking",
                    "--disable-gpu",
                    user_dir,
                    (char *)url,
                    NULL};
    char **out = g_strdupv(argv);
    g_free(user_dir);
    return out;
}

static void test_browser(gconstpointer data)
{
    const char *browser = data;
    if (!g_file_test(browser, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("browser not installed");
        return;
    }
    struct harness h = {.ctx = g_main_context_ref_thread_default()};
    g_assert_cmpint(tsr_dtls_cert_generate(&h.cert), ==, 0);
    GSocketService *svc = g_socket_service_new();
    guint16 port = g_socket_listener_add_any_inet_port(G_SOCKET_LISTENER(svc), NULL, NULL);
    g_assert_cmpuint(port, >, 0);
    g_signal_connect(svc, "incoming", G_CALLBACK(on_incoming), &h);
    g_socket_service_start(svc);
    char *url = g_strdup_printf("http://127.0.0.1:%u/", port);
    char *profile = g_dir_make_tmp("tsr-browser-XXXXXX", NULL);
    char **argv = browser_argv(browser, profile, url);
    GPid pid;
    g_assert_true(g_spawn_async(NULL, argv, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                                    G_SPAWN_STDERR_TO_DEV_NULL,
                                NULL, NULL, &pid, NULL));
    bool timed_out = false;
    GSource *deadline = g_timeout_source_new_seconds(DEADLINE_S);
    g_source_set_callback(deadline, wake, &timed_out, NULL);
    g_source_attach(deadline, h.ctx);
    /* The page reports after ten decoded frames, which can come before the
     * browser's first RTCP compound (Chromium sends its first one about a
     * second in); keep serving until that has arrived too. */
    while ((!h.browser_result || h.rtcp == 0) && !timed_out)
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
    g_socket_service_stop(svc);
    g_socket_listener_close(G_SOCKET_LISTENER(svc));
    g_object_unref(svc);
    char *rm_argv[] = {"rm", "-rf", profile, NULL};
    g_spawn_sync(NULL, rm_argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    g_free(profile);
    g_strfreev(argv);
    g_free(url);
    g_free(h.browser_result);
    while (g_main_context_iteration(h.ctx, FALSE))
        ;
    g_main_context_unref(h.ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_data_func("/webrtc/chromium_interop", CHROMIUM, test_browser);
    g_test_add_data_func("/webrtc/firefox_interop", FIREFOX, test_browser);
    return g_test_run();
}
