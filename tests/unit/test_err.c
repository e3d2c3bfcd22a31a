/* Error codes: every TSR_ERR_* has its own string and name; errno passes through. */
#include <tessera/err.h>

#include <errno.h>
#include <glib.h>
#include <string.h>

static void test_every_code_named(void)
{
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (int e = TSR_ERR_FIRST; e < TSR_ERR_LAST; e++) {
        const char *text = tsr_strerror(e);
        g_assert_nonnull(text);
        g_assert_cmpstr(text, !=, "unknown error");
        g_assert_true(g_str_has_prefix(tsr_strerror_name(e), "TSR_ERR_"));
        g_assert_false(g_hash_table_contains(seen, text)); /* distinct texts */
        g_hash_table_add(seen, (gpointer)text);
    }
    g_hash_table_destroy(seen);
}

static void test_specific_strings(void)
{
    g_assert_cmpstr(tsr_strerror(0), ==, "success");
    g_assert_cmpstr(tsr_strerror_name(0), ==, "OK");
    g_assert_cmpstr(tsr_strerror(TSR_ERR_INVALID), ==, "invalid input");
    g_assert_cmpstr(tsr_strerror(TSR_ERR_HW_UNAVAILABLE), ==, "hardware acceleration unavailable");
    g_assert_cmpstr(tsr_strerror_name(TSR_ERR_AUTH), ==, "TSR_ERR_AUTH");
    g_assert_cmpstr(tsr_strerror(-ENOMEM), ==, g_strerror(ENOMEM));
    g_assert_cmpstr(tsr_strerror_name(-ENOMEM), ==, "ENOMEM");
    g_assert_cmpstr(tsr_strerror(TSR_ERR_LAST), ==, "unknown error");
    g_assert_cmpstr(tsr_strerror(-100000), ==, "unknown error");
    g_assert_cmpstr(tsr_strerror(5), ==, "unknown error");
}

static void test_codes_do_not_collide_with_errno(void)
{
    g_assert_cmpint(TSR_ERR_LAST, <, -4096);
    g_assert_cmpint(TSR_ERR_FIRST, <, TSR_ERR_LAST);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/err/every_code_named", test_every_code_named);
    g_test_add_func("/err/specific_strings", test_specific_strings);
    g_test_add_func("/err/no_errno_collision", test_codes_do_not_collide_with_errno);
    return g_test_run();
}
