/* Internal to the probe (probe.c runs it, probe_report.c renders it). */
#ifndef TSR_PROBE_INTERNAL_H
#define TSR_PROBE_INTERNAL_H

#include "probe_vaapi.h"

#include <libavcodec/packet.h>
#include <stdbool.h>

#define PROBE_FRAMES 5
#define PROBE_W 128
#define PROBE_H 96
#define PROBE_ENCODERS 4
#define PROBE_DECODERS 2

struct probe_codec {
    const char *name;  /* FFmpeg codec name */
    const char *codec; /* "h264" / "vp8" */
    bool hardware;
    bool usable;
    int frames_in;
    int packets_out; /* for decoders: frames decoded */
    char reason[1100];
    AVPacket *pkts[PROBE_FRAMES + 4]; /* kept for the decoder round trip */
};

struct tsr_probe {
    struct probe_codec enc[PROBE_ENCODERS];
    struct probe_codec dec[PROBE_DECODERS];
    struct tsr_probe_vaapi vaapi;
};

#endif
