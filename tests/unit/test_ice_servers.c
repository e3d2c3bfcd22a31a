/* [webrtc] turn_servers: STUN and TURN entries, blanks and empty entries, and every
 * kind of bad entry refused with a message naming it. */
#include <tessera/err.h>
#include <tessera/ice_servers.h>

#include <glib.h>
#include <string.h>

static void test_good(void)
{
    struct tsr_ice_server *s = NULL;
    size_t n = 9;
    g_assert_cmpint(tsr_ice_servers_parse("", &s, &n, NULL), ==, 0);
    g_assert_null(s);
    g_assert_cmpuint(n, ==, 0);
    g_assert_cmpint(tsr_ice_servers_parse(NULL, &s, &n, NULL), ==, 0);
    g_assert_cmpuint(n, ==, 0);
    const char *text = " stun:stun.example.com:3478 ,, turn:turn.example.com:3478?transport=udp "
                       " alice   s3cret,turns:turn.example.com:443?transport=tcp bob pw ";
    g_assert_cmpint(tsr_ice_servers_parse(text, &s, &n, NULL), ==, 0);
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpstr(s[0].url, ==, "stun:stun.example.com:3478");
    g_assert_null(s[0].username);
    g_assert_false(s[0].turn);
    g_assert_cmpstr(s[1].url, ==, "turn:turn.example.com:3478?transport=udp");
    g_assert_cmpstr(s[1].username, ==, "alice");
    g_assert_cmpstr(s[1].credential, ==, "s3cret");
    g_assert_true(s[1].turn);
    g_assert_cmpstr(s[2].url, ==, "turns:turn.example.com:443?transport=tcp");
    tsr_ice_servers_free(s, n);
    tsr_ice_servers_free(NULL, 0);
}

static void test_bad(void)
{
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"http://example.com", "must start with"},
        {"turn:turn.example.com", "needs a username and a credential"},
        {"turn:turn.example.com alice", "needs a username and a credential"},
        {"stun:stun.example.com alice pw", "takes no username"},
        {"turn:t alice pw extra", "too many fields"},
        {"stun:", "no host"},
        {"stun:ok.example.com, turn:x", "\"turn:x\""},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct tsr_ice_server *s = (void *)0x1;
        size_t n = 77;
        char *err = NULL;
        g_assert_cmpint(tsr_ice_servers_parse(bad[i].text, &s, &n, &err), ==, TSR_ERR_CONFIG);
        g_assert_true(s == (void *)0x1);
        g_assert_cmpuint(n, ==, 77);
        if (!err || !strstr(err, bad[i].why))
            g_error("\"%s\": message \"%s\" lacks \"%s\"", bad[i].text, err, bad[i].why);
        g_free(err);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ice_servers/good", test_good);
    g_test_add_func("/ice_servers/bad", test_bad);
    return g_test_run();
}
