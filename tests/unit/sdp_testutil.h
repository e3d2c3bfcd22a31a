/* Helpers shared by the SDP unit tests: the fixture offers of tests/data/sdp/ and
 * text edits on them. Header-only (static functions) so each test stays one
 * executable. */
#ifndef TSR_SDP_TESTUTIL_H
#define TSR_SDP_TESTUTIL_H

#include <glib.h>

/* tests/data/sdp/<name> (g_free); the test fails when it cannot be read. */
static inline char *st_load_fixture(const char *name)
{
    const char *src = g_getenv("TSR_SOURCE_DIR") ? g_getenv("TSR_SOURCE_DIR") : TSR_SOURCE_DIR;
    char *path = g_build_filename(src, "tests", "data", "sdp", name, NULL);
    char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_free(path);
    return text;
}

/* `text` with every `from` replaced by `to` (g_free). */
static inline char *st_replace_all(const char *text, const char *from, const char *to)
{
    gchar **parts = g_strsplit(text, from, -1);
    char *out = g_strjoinv(to, parts);
    g_strfreev(parts);
    return out;
}

#endif
