/* Start-up probe: which video encoders and decoders really work on this machine
 * right now, what VAAPI offers (or exactly why it cannot be used), and the
 * versions of the media and security libraries. Run by `tessera --probe` and
 * logged at server start; `encoder = auto` follows its verdict. */
#ifndef TESSERA_PROBE_H
#define TESSERA_PROBE_H

#include <jansson.h>
#include <stdbool.h>

struct tsr_probe;

/* Purpose: run the probe. Each encoder is opened and fed a few small frames;
 * each decoder decodes what the matching encoder produced. `vaapi_device` is the
 * configured render node (e.g. "/dev/dri/renderD128"). Takes about a second.
 * Returns 0 and *out (free with tsr_probe_free), or -ENOMEM. Thread: any, but it
 * blocks, so not on a media loop. */
int tsr_probe_run(struct tsr_probe **out, const char *vaapi_device);

/* Accepts NULL; NULLs *p. */
void tsr_probe_free(struct tsr_probe **p);

/* Purpose: is the named encoder ("libx264", "libvpx", "h264_vaapi", "vp8_vaapi")
 * or decoder ("vp8", "h264") usable? Unknown names are false. */
bool tsr_probe_encoder_usable(const struct tsr_probe *p, const char *name);
bool tsr_probe_decoder_usable(const struct tsr_probe *p, const char *name);
bool tsr_probe_vaapi_available(const struct tsr_probe *p);

/* Purpose: the encoder `encoder = auto` will use for codec "h264" or "vp8", or
 * NULL when none works. Static string. */
const char *tsr_probe_auto_encoder(const struct tsr_probe *p, const char *codec);

/* Purpose: the whole result as JSON (new reference; caller json_decref()s):
 * {"encoders":[{name,codec,hardware,usable,frames_in,packets_out,reason}],
 *  "decoders":[{name,codec,usable,frames_out,reason}],
 *  "vaapi":{available,render_node,driver,profiles:[{profile,entrypoints:[…]}],reason},
 *  "auto":{"h264":…, "vp8":…}, "libraries":{ffmpeg,libavcodec,opus,libnice,gnutls,libsrtp2,libva}} */
json_t *tsr_probe_to_json(const struct tsr_probe *p);

/* Purpose: the same as readable text, one line per fact. Caller g_free()s. */
char *tsr_probe_to_text(const struct tsr_probe *p);

#endif
