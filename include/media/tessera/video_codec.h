/* Video codec identifiers shared by the decoder, the encoders and the encoder groups.
 *
 * Kept in its own tiny header so that a module that only names a codec (SDP
 * negotiation, the conference) does not pull in libavcodec. */
#ifndef TESSERA_VIDEO_CODEC_H
#define TESSERA_VIDEO_CODEC_H

enum tsr_video_codec {
    TSR_VIDEO_CODEC_VP8 = 0,
    TSR_VIDEO_CODEC_H264 = 1,
};

/* Purpose: "vp8" / "h264". Ownership: static string. Thread: any. */
const char *tsr_video_codec_name(enum tsr_video_codec codec);

/* Purpose: parse "vp8" or "h264" (case-insensitive; "avc" is accepted for h264).
 * Returns 0 and writes *out, or TSR_ERR_INVALID (NULL or unknown name). Thread: any. */
int tsr_video_codec_parse(const char *name, enum tsr_video_codec *out);

#endif
