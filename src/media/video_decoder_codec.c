/* Codec names shared by the video decoder, encoders and encoder groups. */
#include <tessera/err.h>
#include <tessera/video_codec.h>

#include <strings.h>

const char *tsr_video_codec_name(enum tsr_video_codec codec)
{
    switch (codec) {
    case TSR_VIDEO_CODEC_VP8:
        return "vp8";
    case TSR_VIDEO_CODEC_H264:
        return "h264";
    }
    return "unknown";
}

int tsr_video_codec_parse(const char *name, enum tsr_video_codec *out)
{
    if (!name || !out)
        return TSR_ERR_INVALID;
    if (!strcasecmp(name, "vp8")) {
        *out = TSR_VIDEO_CODEC_VP8;
        return 0;
    }
    if (!strcasecmp(name, "h264") || !strcasecmp(name, "avc")) {
        *out = TSR_VIDEO_CODEC_H264;
        return 0;
    }
    return TSR_ERR_INVALID;
}
