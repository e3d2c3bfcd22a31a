/* A real media engine and a conference registry on it, from config text, as the
 * server wires them: for integration tests that join through the core. */
#ifndef TSR_TEST_ENGINE_REGISTRY_H
#define TSR_TEST_ENGINE_REGISTRY_H

#include <tessera/conference.h>
#include <tessera/config.h>
#include <tessera/media_engine.h>

#include <glib.h>
#include <string.h>

static inline void test_engine_registry(const char *conf, struct tsr_media_engine **engine,
                                        struct tsr_conference_registry **reg)
{
    struct tsr_config cfg;
    tsr_config_defaults(&cfg);
    char *err = NULL;
    if (tsr_config_apply_text(&cfg, conf, strlen(conf), "test", &err) != 0)
        g_error("%s", err);
    g_assert_cmpint(tsr_media_engine_new(engine, &cfg), ==, 0);
    struct tsr_conference_registry_opts opts;
    tsr_conference_registry_opts_from_config(&opts, &cfg);
    opts.media = tsr_media_engine_ops();
    opts.media_user = *engine;
    g_assert_cmpint(tsr_conference_registry_new(reg, &opts), ==, 0);
    tsr_media_engine_set_registry(*engine, *reg);
}

#endif
