/* Fuzz the native API's request bodies: the join and candidate parsers, and what
 * a parsed join does to the conference core (a registry without media, joined
 * and left again so every path that allocates also frees). The first input byte
 * picks the route. */
#include <tessera/conference.h>
#include <tessera/log.h>
#include <tessera/metrics.h>
#include <tessera/native_api.h>

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_join(const uint8_t *data, size_t size)
{
    struct tsr_native_join_body jb = {0};
    char *err = NULL;
    if (tsr_native_api_parse_join(data, size, &jb, &err) != 0) {
        if (!err)
            abort(); /* every refusal carries a message */
        g_free(err);
        return;
    }
    struct tsr_conference_registry_opts o = {.allow_adhoc = true,
                                             .empty_timeout_s = 0,
                                             .token_ttl_s = 60,
                                             .default_max_participants = 4};
    struct tsr_conference_registry *reg = NULL;
    if (tsr_conference_registry_new(&reg, &o) != 0)
        abort();
    /* The display name doubles as the alias so both validators see hostile text. */
    struct tsr_conference_join_request req = {
        .alias = jb.display_name, .display_name = jb.display_name, .pin = jb.pin};
    struct tsr_participant *p = NULL;
    enum tsr_conference_refusal why;
    if (tsr_conference_join_roster(reg, &req, &p, &why, &err) == 0)
        tsr_participant_leave(p, TSR_LEAVE_REQUESTED);
    else
        g_free(err);
    tsr_conference_registry_free(&reg);
    tsr_native_join_body_fini(&jb);
}

static void fuzz_candidate(const uint8_t *data, size_t size)
{
    struct tsr_native_candidate_body cb = {0};
    char *err = NULL;
    if (tsr_native_api_parse_candidate(data, size, &cb, &err) != 0) {
        g_free(err);
        return;
    }
    if (!cb.candidate || cb.mline_index < -1 || cb.mline_index > 63)
        abort();
    tsr_native_candidate_body_fini(&cb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {
        tsr_log_set_level(TSR_LOG_ERROR);
        once = 1;
    }
    if (size < 1)
        return 0;
    if (data[0] & 1)
        fuzz_candidate(data + 1, size - 1);
    else
        fuzz_join(data + 1, size - 1);
    return 0;
}
