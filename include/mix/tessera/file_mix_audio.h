/* The audio half of tessera-mix: the audio tracks of input files are the
 * participants of one audio mixer (tessera/audio_mixer.h), and the output file
 * gets one Opus stream: what a listener who is not talking hears (the full
 * mix), or with `audio_for` what that participant hears (everyone but itself),
 * exactly the packet sequence the server would send it.
 *
 * Every input can be mixed at once (K = number of inputs, up to the talker
 * limit), so the full mix holds everyone who speaks. Input packets are fed one
 * tick ahead, like a jitter buffer, so in-band FEC is usable. Output time 0 is
 * the start of the inputs; the caller drives the clock (run_until) so audio
 * stays interleaved with its video.
 *
 * Thread: one thread at a time. */
#ifndef TESSERA_FILE_MIX_AUDIO_H
#define TESSERA_FILE_MIX_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include <libavformat/avformat.h>

struct tsr_file_mix_audio;

struct tsr_file_mix_audio_params {
    int64_t bitrate_bps; /* output Opus bitrate */
    int channels;        /* output channels, 1 or 2 */
    uint32_t audio_for;  /* 0: the full mix; else the id of the input whose view is written */
};

/* Purpose: new, without inputs. Returns 0, -ENOMEM or TSR_ERR_INVALID. */
int tsr_file_mix_audio_new(struct tsr_file_mix_audio **out,
                           const struct tsr_file_mix_audio_params *p);
void tsr_file_mix_audio_free(struct tsr_file_mix_audio **fma);

/* Purpose: make the audio track of `path` participant `id` (id > 0). Returns 0,
 * TSR_ERR_NOT_FOUND (the file has no audio track: nothing added), TSR_ERR_IO,
 * TSR_ERR_CODEC, TSR_ERR_STATE (after open_output, or id taken), -ENOMEM. */
int tsr_file_mix_audio_add_input(struct tsr_file_mix_audio *fma, uint32_t id, const char *path);

/* Purpose: number of inputs with audio. */
size_t tsr_file_mix_audio_inputs(const struct tsr_file_mix_audio *fma);

/* Purpose: add the Opus stream to `oc` (before avformat_write_header) and
 * start the mixer. Returns 0, TSR_ERR_NOT_FOUND (no input has audio, or
 * audio_for names none), -ENOMEM, TSR_ERR_CODEC. Ownership: oc is borrowed and
 * must outlive the calls to run_until. */
int tsr_file_mix_audio_open_output(struct tsr_file_mix_audio *fma, AVFormatContext *oc);

/* Purpose: mix and write every 20 ms tick that ends at or before t_s seconds
 * (call after avformat_write_header). Inputs that ended are silent. Returns 0,
 * TSR_ERR_STATE (no open_output), TSR_ERR_IO or TSR_ERR_CODEC. */
int tsr_file_mix_audio_run_until(struct tsr_file_mix_audio *fma, double t_s);

/* Purpose: ticks written so far (20 ms each). */
int64_t tsr_file_mix_audio_ticks(const struct tsr_file_mix_audio *fma);

#endif
