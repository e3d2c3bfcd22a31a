/* The probe's two renderings: JSON for machines, text for people. */
#include <tessera/probe.h>

#include "probe_internal.h"

#include <glib.h>
#include <gnutls/gnutls.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <nice/nice.h>
#include <opus.h>
#include <srtp2/srtp.h>
#include <stdio.h>
#include <va/va_version.h>

static json_t *json_str_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *libraries_json(const struct tsr_probe *p)
{
    unsigned v = avcodec_version();
    char avc[32], nice[32];
    snprintf(avc, sizeof avc, "%u.%u.%u", v >> 16, (v >> 8) & 0xff, v & 0xff);
    snprintf(nice, sizeof nice, "%d.%d.%d", NICE_VERSION_MAJOR, NICE_VERSION_MINOR,
             NICE_VERSION_MICRO);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ffmpeg", av_version_info(),
                     "libavcodec", avc, "opus", opus_get_version_string(), "libnice",
                     nice, "gnutls", gnutls_check_version(NULL), "libsrtp2",
                     srtp_get_version_string(), "libva",
                     p->vaapi.libva_version[0] ? p->vaapi.libva_version : VA_VERSION_S);
}

json_t *tsr_probe_to_json(const struct tsr_probe *p)
{
    json_t *encs = json_array(), *decs = json_array();
    for (int i = 0; i < PROBE_ENCODERS; i++) {
        const struct probe_codec *c = &p->enc[i];
        json_array_append_new(
            encs, json_pack("{s:s, s:s, s:b, s:b, s:i, s:i, s:o}", "name", c->name, "codec",
                            c->codec, "hardware", c->hardware, "usable", c->usable, "frames_in",
                            c->frames_in, "packets_out", c->packets_out, "reason",
                            json_str_or_null(c->usable ? NULL : c->reason)));
    }
    for (int i = 0; i < PROBE_DECODERS; i++) {
        const struct probe_codec *d = &p->dec[i];
        json_array_append_new(decs, json_pack("{s:s, s:s, s:b, s:i, s:o}", "name", d->name,
                                              "codec", d->codec, "usable", d->usable,
                                              "frames_out", d->packets_out, "reason",
                                              json_str_or_null(d->usable ? NULL : d->reason)));
    }
    const struct tsr_probe_vaapi *va = &p->vaapi;
    json_t *vaapi = json_pack("{s:b, s:o, s:o, s:O, s:o}", "available", va->available,
                              "render_node", json_str_or_null(va->render_node), "driver",
                              json_str_or_null(va->driver), "profiles", va->profiles, "reason",
                              json_str_or_null(va->available ? NULL : va->reason));
    json_t *autos = json_pack("{s:o, s:o}", "h264",
                              json_str_or_null(tsr_probe_auto_encoder(p, "h264")), "vp8",
                              json_str_or_null(tsr_probe_auto_encoder(p, "vp8")));
    return json_pack("{s:o, s:o, s:o, s:o, s:o}", "encoders", encs, "decoders", decs, "vaapi",
                     vaapi, "auto", autos, "libraries", libraries_json(p));
}

static void text_vaapi(GString *s, const struct tsr_probe_vaapi *va)
{
    if (!va->available) {
        g_string_append_printf(s, "VAAPI: unavailable: %s\n", va->reason);
        return;
    }
    g_string_append_printf(s, "VAAPI: available on %s, driver '%s', libva %s\n", va->render_node,
                           va->driver, va->libva_version);
    size_t i;
    json_t *row;
    json_array_foreach(va->profiles, i, row) {
        g_string_append_printf(s, "  %-36s", json_string_value(json_object_get(row, "profile")));
        size_t j;
        json_t *ep;
        json_array_foreach(json_object_get(row, "entrypoints"), j, ep)
            g_string_append_printf(s, " %s", json_string_value(ep));
        g_string_append_c(s, '\n');
    }
}

char *tsr_probe_to_text(const struct tsr_probe *p)
{
    GString *s = g_string_new(NULL);
    text_vaapi(s, &p->vaapi);
    g_string_append(s, "Video encoders:\n");
    for (int i = 0; i < PROBE_ENCODERS; i++) {
        const struct probe_codec *c = &p->enc[i];
        if (c->usable)
            g_string_append_printf(s, "  %-11s %-4s %s  usable (%d frames in, %d packets out)\n",
                                   c->name, c->codec, c->hardware ? "hw" : "sw", c->frames_in,
                                   c->packets_out);
        else
            g_string_append_printf(s, "  %-11s %-4s %s  UNUSABLE: %s\n", c->name, c->codec,
                                   c->hardware ? "hw" : "sw", c->reason);
    }
    g_string_append(s, "Video decoders:\n");
    for (int i = 0; i < PROBE_DECODERS; i++) {
        const struct probe_codec *d = &p->dec[i];
        g_string_append_printf(s, "  %-11s %s\n", d->name, d->usable ? "usable" : d->reason);
    }
    const char *h264 = tsr_probe_auto_encoder(p, "h264"), *vp8 = tsr_probe_auto_encoder(p, "vp8");
    g_string_append_printf(s, "encoder = auto uses: H.264 -> %s, VP8 -> %s%s\n",
                           h264 ? h264 : "NONE", vp8 ? vp8 : "NONE",
                           p->vaapi.available ? "" : " (software fallback: no VAAPI)");
    json_t *libs = libraries_json(p);
    const char *key;
    json_t *val;
    g_string_append(s, "Libraries:");
    json_object_foreach(libs, key, val) {
        g_string_append_printf(s, " %s %s;", key,
                               json_is_string(val) ? json_string_value(val) : "n/a");
    }
    g_string_truncate(s, s->len - 1);
    g_string_append_c(s, '\n');
    json_decref(libs);
    return g_string_free(s, FALSE);
}
