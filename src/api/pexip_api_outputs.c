/* Pexip client API: recording, streaming and dial-out. The SDK's `dial` with a SIP
 * destination calls it into the conference, with an RTMP destination starts a
 * stream (host only); recordings and streams are listed in the
 * roster as streaming participants (protocol "rtmp", is_streaming_conference true),
 * which is what the SDK turns into its isStreaming indicator, and disconnecting
 * such a participant stops it. Home thread: the API loop. */
#include "pexip_internal.h"

#include <tessera/err.h>

#include <string.h>

json_t *tsr_pex_output_json(const json_t *output, bool recording, const char *alias)
{
    const char *where = json_string_value(json_object_get(output, recording ? "file" : "url"));
    char *name = recording ? g_strdup("Recording") : g_strdup_printf("Streaming to %s", where);
    struct tsr_pex_fields f = {
        .uuid = json_string_value(json_object_get(output, "id")),
        .display_name = name,
        .alias = alias,
        .protocol = "rtmp",
        .uri = recording ? "" : where,
        .outgoing = true,
        .has_media = true,
        .streaming = true,
        .start_time = json_integer_value(json_object_get(output, "started_at")),
    };
    json_t *o = f.uuid ? tsr_pex_object(&f) : NULL;
    g_free(name);
    return o;
}

json_t *tsr_pex_output_participants(struct tsr_conference *c)
{
    json_t *conf = tsr_conference_to_json(c, false);
    json_t *list = json_array();
    json_t *rec = json_object_get(conf, "recording");
    if (json_is_object(rec))
        json_array_append_new(list, tsr_pex_output_json(rec, true, tsr_conference_alias(c)));
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(conf, "streams"), i, s)
        json_array_append_new(list, tsr_pex_output_json(s, false, tsr_conference_alias(c)));
    json_decref(conf);
    return list;
}

/* A SIP destination ("protocol":"sip", or a sip: URI with "auto" or none): the
 * conference core's dial-out; the result is the callee's future participant uuid,
 * which the roster shows once it answers. */
static void dial_sip(struct tsr_front_req *r, struct tsr_participant *a, const char *dest)
{
    bool bad = false;
    const char *role_s = tsr_front_json_str(r->body, "role", &bad);
    const char *name = tsr_front_json_str(r->body, "source_display_name", &bad);
    bool host = role_s && (g_ascii_strcasecmp(role_s, "host") == 0 ||
                           g_ascii_strcasecmp(role_s, "chair") == 0);
    char id[37];
    char *err = NULL;
    int rc = bad ? TSR_ERR_INVALID
                 : tsr_conference_dial(a, dest, name && *name ? name : NULL,
                                       host ? TSR_ROLE_HOST : TSR_ROLE_GUEST, id, &err);
    if (rc == 0)
        tsr_pex_reply(r, 200, json_pack("[s]", id));
    else if (rc == TSR_ERR_AUTH)
        tsr_front_req_fail(r, 403, "forbidden", "Only a host may dial out");
    else if (rc == TSR_ERR_INVALID)
        tsr_front_req_fail(r, 400, "bad_uri", "%s", err ? err : "Not a SIP URI");
    else if (rc == TSR_ERR_UNSUPPORTED)
        tsr_front_req_fail(r, 503, "sip_disabled", "%s", err ? err : "Dial-out is off");
    else
        tsr_front_req_fail(r, 500, "dial_failed", "%s", err ? err : tsr_strerror(rc));
    g_free(err);
}

void tsr_pex_handle_dial(struct tsr_front_req *r, struct tsr_participant *a)
{
    bool bad = false;
    const char *dest = tsr_front_json_str(r->body, "destination", &bad);
    const char *protocol = tsr_front_json_str(r->body, "protocol", &bad);
    bool sip_uri = dest && g_ascii_strncasecmp(dest, "sip:", 4) == 0;
    if (!bad && dest &&
        ((protocol && strcmp(protocol, "sip") == 0) ||
         (sip_uri && (!protocol || strcmp(protocol, "auto") == 0)))) {
        dial_sip(r, a, dest);
        return;
    }
    bool rtmp = dest && (g_str_has_prefix(dest, "rtmp://") || g_str_has_prefix(dest, "rtmps://"));
    if (bad || !rtmp ||
        (protocol && strcmp(protocol, "rtmp") != 0 && strcmp(protocol, "auto") != 0)) {
        tsr_front_req_fail(r, 400, "bad_request",
                           "Only dialling out to a SIP URI (protocol sip) or an RTMP/RTMPS URL "
                           "(a stream) is supported");
        return;
    }
    const char *id = NULL;
    char *err = NULL;
    int rc = tsr_conference_add_stream(a, dest, &id, &err);
    if (rc == 0)
        tsr_pex_reply(r, 200, json_pack("[s]", id));
    else if (rc == TSR_ERR_AUTH)
        tsr_front_req_fail(r, 403, "forbidden", "Only a host may start a stream");
    else if (rc == TSR_ERR_INVALID)
        tsr_front_req_fail(r, 400, "bad_url", "Not an RTMP URL");
    else if (rc == TSR_ERR_FULL)
        tsr_front_req_fail(r, 403, "too_many_streams", "At most %d streams at once",
                           TSR_CONFERENCE_STREAMS_MAX);
    else
        tsr_front_req_fail(r, 500, "output_failed", "%s", err ? err : tsr_strerror(rc));
    g_free(err);
}

bool tsr_pex_output_disconnect(struct tsr_front_req *r, struct tsr_participant *a, const char *uuid)
{
    int rc;
    if (g_str_has_prefix(uuid, "rec-")) {
        json_t *conf = tsr_conference_to_json(tsr_participant_conference(a), false);
        const char *id = json_string_value(json_object_get(json_object_get(conf, "recording"), "id"));
        rc = id && strcmp(id, uuid) == 0 ? tsr_conference_stop_recording(a) : TSR_ERR_NOT_FOUND;
        json_decref(conf);
    } else if (g_str_has_prefix(uuid, "stream-")) {
        rc = tsr_conference_remove_stream(a, uuid);
    } else {
        return false;
    }
    if (rc == TSR_ERR_NOT_FOUND)
        return false;
    if (rc == 0)
        tsr_pex_reply(r, 200, NULL);
    else
        tsr_front_req_fail(r, 403, "forbidden", "Only a host may stop a recording or stream");
    return true;
}
