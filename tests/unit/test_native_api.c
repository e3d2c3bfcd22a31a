/* Native API request-body parsers: accepted shapes, every refusal, size limit,
 * and that a refusal leaves the output untouched. */
#include <tessera/err.h>
#include <tessera/native_api.h>

#include <glib.h>
#include <string.h>

static int join(const char *text, struct tsr_native_join_body *out, char **err)
{
    return tsr_native_api_parse_join((const uint8_t *)text, strlen(text), out, err);
}

static void test_join_ok(void)
{
    struct tsr_native_join_body b = {0};
    char *err = NULL;
    g_assert_cmpint(
        join("{\"display_name\":\"Ann\",\"pin\":\"12\",\"sdp\":\"v=0\",\"x\":1}", &b, &err), ==, 0);
    g_assert_null(err);
    g_assert_cmpstr(b.display_name, ==, "Ann");
    g_assert_cmpstr(b.pin, ==, "12");
    g_assert_cmpstr(b.sdp, ==, "v=0");
    tsr_native_join_body_fini(&b);
    g_assert_null(b.root);
    g_assert_cmpint(join("{\"display_name\":\"Ann\",\"pin\":null}", &b, &err), ==, 0);
    g_assert_null(b.pin);
    g_assert_null(b.sdp);
    tsr_native_join_body_fini(&b);
}

static void test_join_refused(void)
{
    const char *bad[] = {
        "",                                                /* empty */
        "{\"display_name\":",                              /* truncated */
        "[\"display_name\"]",                              /* not an object */
        "\"Ann\"",                                         /* not an object */
        "{}",                                              /* missing name */
        "{\"display_name\":null}",                         /* null name */
        "{\"display_name\":7}",                            /* wrong type */
        "{\"display_name\":\"A\",\"pin\":1234}",           /* numeric PIN */
        "{\"display_name\":\"A\",\"sdp\":{}}",             /* wrong type */
        "{\"display_name\":\"A\\u0000B\"}",                /* embedded NUL */
        "{\"display_name\":\"A\",\"display_name\":\"B\"}", /* duplicate key */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct tsr_native_join_body b = {.display_name = "untouched"};
        char *err = NULL;
        g_assert_cmpint(join(bad[i], &b, &err), ==, TSR_ERR_INVALID);
        g_assert_nonnull(err);
        g_assert_cmpstr(b.display_name, ==, "untouched");
        g_assert_null(b.root);
        g_free(err);
    }
}

static void test_size_limit(void)
{
    size_t n = TSR_NATIVE_API_MAX_BODY_BYTES + 1;
    char *big = g_malloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    struct tsr_native_join_body b = {0};
    char *err = NULL;
    g_assert_cmpint(tsr_native_api_parse_join((const uint8_t *)big, n, &b, &err), ==, TSR_ERR_FULL);
    g_assert_nonnull(strstr(err, "limit"));
    g_free(err);
    err = NULL;
    /* one byte less is parsed (and refused only for lacking a name) */
    big[n - 2] = '}';
    g_assert_cmpint(tsr_native_api_parse_join((const uint8_t *)big, n - 1, &b, &err), ==,
                    TSR_ERR_INVALID);
    g_assert_null(strstr(err, "limit"));
    g_free(err);
    g_free(big);
}

static int cand(const char *text, struct tsr_native_candidate_body *out)
{
    char *err = NULL;
    int rc = tsr_native_api_parse_candidate((const uint8_t *)text, strlen(text), out, &err);
    g_assert_true((rc == 0) == (err == NULL));
    g_free(err);
    return rc;
}

static void test_candidate(void)
{
    struct tsr_native_candidate_body b = {0};
    g_assert_cmpint(cand("{\"candidate\":\"candidate:1 1 udp 9 10.0.0.1 9 typ host\","
                         "\"sdpMid\":\"0\",\"sdpMLineIndex\":1}",
                         &b),
                    ==, 0);
    g_assert_cmpstr(b.candidate, ==, "candidate:1 1 udp 9 10.0.0.1 9 typ host");
    g_assert_cmpstr(b.mid, ==, "0");
    g_assert_cmpint(b.mline_index, ==, 1);
    tsr_native_candidate_body_fini(&b);
    g_assert_cmpint(cand("{\"candidate\":\"\",\"sdpMid\":null,\"sdpMLineIndex\":null}", &b), ==, 0);
    g_assert_cmpstr(b.candidate, ==, "");
    g_assert_null(b.mid);
    g_assert_cmpint(b.mline_index, ==, -1);
    tsr_native_candidate_body_fini(&b);
    const char *bad[] = {"{}",
                         "{\"candidate\":1}",
                         "{\"candidate\":\"\",\"sdpMLineIndex\":-1}",
                         "{\"candidate\":\"\",\"sdpMLineIndex\":1.5}",
                         "{\"candidate\":\"\",\"sdpMLineIndex\":99999999999}",
                         "{\"candidate\":\"\",\"sdpMid\":0}"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        g_assert_cmpint(cand(bad[i], &b), ==, TSR_ERR_INVALID);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/native_api/join_ok", test_join_ok);
    g_test_add_func("/native_api/join_refused", test_join_refused);
    g_test_add_func("/native_api/size_limit", test_size_limit);
    g_test_add_func("/native_api/candidate", test_candidate);
    return g_test_run();
}
