/* Probe: the JSON shape, real software encoders, and VAAPI reported unusable with
 * a reason when its render node does not exist. */
#include <tessera/probe.h>

#include <glib.h>
#include <string.h>

static json_t *find_named(json_t *array, const char *name)
{
    size_t i;
    json_t *row;
    json_array_foreach(array, i, row) {
        if (strcmp(json_string_value(json_object_get(row, "name")), name) == 0)
            return row;
    }
    return NULL;
}

static void assert_string_or_null(json_t *v)
{
    g_assert_true(json_is_string(v) || json_is_null(v));
}

static void test_shape_and_software(void)
{
    struct tsr_probe *p = NULL;
    g_assert_cmpint(tsr_probe_run(&p, "/dev/dri/renderD9999-does-not-exist"), ==, 0);
    json_t *j = tsr_probe_to_json(p);
    json_t *encs = json_object_get(j, "encoders");
    g_assert_true(json_is_array(encs));
    g_assert_cmpuint(json_array_size(encs), ==, 4);
    const char *names[] = {"libx264", "libvpx", "h264_vaapi", "vp8_vaapi"};
    for (int i = 0; i < 4; i++) {
        json_t *e = find_named(encs, names[i]);
        g_assert_nonnull(e);
        g_assert_true(json_is_string(json_object_get(e, "codec")));
        g_assert_true(json_is_boolean(json_object_get(e, "hardware")));
        g_assert_true(json_is_boolean(json_object_get(e, "usable")));
        g_assert_true(json_is_integer(json_object_get(e, "frames_in")));
        g_assert_true(json_is_integer(json_object_get(e, "packets_out")));
        assert_string_or_null(json_object_get(e, "reason"));
    }
    /* software encoders really encode here, and their output decodes */
    json_t *x264 = find_named(encs, "libx264");
    g_assert_true(json_is_true(json_object_get(x264, "usable")));
    g_assert_cmpint(json_integer_value(json_object_get(x264, "packets_out")), >, 0);
    g_assert_true(json_is_null(json_object_get(x264, "reason")));
    g_assert_true(tsr_probe_encoder_usable(p, "libvpx"));
    g_assert_true(tsr_probe_decoder_usable(p, "vp8"));
    g_assert_true(tsr_probe_decoder_usable(p, "h264"));
    json_t *vp8dec = find_named(json_object_get(j, "decoders"), "vp8");
    g_assert_cmpint(json_integer_value(json_object_get(vp8dec, "frames_out")), >, 0);

    json_t *libs = json_object_get(j, "libraries");
    const char *lib_keys[] = {"ffmpeg", "libavcodec", "opus", "libnice", "gnutls", "libsrtp2",
                              "libva"};
    for (unsigned i = 0; i < G_N_ELEMENTS(lib_keys); i++)
        g_assert_true(json_string_length(json_object_get(libs, lib_keys[i])) > 0);
    json_decref(j);
    tsr_probe_free(&p);
    g_assert_null(p);
}

/* With a node that does not exist (and, in CI, no /dev/dri at all) VAAPI must be
 * unusable, say why, and auto must name the software encoders. When the machine
 * does have a GPU, the probe may pick another node; then only the reason shape
 * is checked. */
static void test_vaapi_missing_node(void)
{
    struct tsr_probe *p = NULL;
    tsr_probe_run(&p, "/dev/dri/renderD9999-does-not-exist");
    json_t *j = tsr_probe_to_json(p);
    json_t *va = json_object_get(j, "vaapi");
    g_assert_true(json_is_boolean(json_object_get(va, "available")));
    g_assert_true(json_is_array(json_object_get(va, "profiles")));
    assert_string_or_null(json_object_get(va, "render_node"));
    assert_string_or_null(json_object_get(va, "driver"));
    if (!g_file_test("/dev/dri", G_FILE_TEST_IS_DIR)) {
        g_assert_false(tsr_probe_vaapi_available(p));
        const char *reason = json_string_value(json_object_get(va, "reason"));
        g_assert_nonnull(strstr(reason, "/dev/dri/renderD9999-does-not-exist does not exist"));
        json_t *hw = find_named(json_object_get(j, "encoders"), "h264_vaapi");
        g_assert_true(json_is_false(json_object_get(hw, "usable")));
        g_assert_true(g_str_has_prefix(json_string_value(json_object_get(hw, "reason")),
                                       "VAAPI unavailable: "));
        g_assert_cmpstr(tsr_probe_auto_encoder(p, "h264"), ==, "libx264");
        g_assert_cmpstr(tsr_probe_auto_encoder(p, "vp8"), ==, "libvpx");
        char *text = tsr_probe_to_text(p);
        g_assert_nonnull(strstr(text, "VAAPI: unavailable: no DRM render node"));
        g_assert_nonnull(strstr(text, "H.264 -> libx264, VP8 -> libvpx (software fallback"));
        g_free(text);
    }
    json_t *autos = json_object_get(j, "auto");
    g_assert_true(json_is_string(json_object_get(autos, "h264")));
    json_decref(j);
    tsr_probe_free(&p);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/probe/shape_and_software", test_shape_and_software);
    g_test_add_func("/probe/vaapi_missing_node", test_vaapi_missing_node);
    return g_test_run();
}
