/* H.264 fmtp parameters of a SIP offer (RFC 6184 §8.1): the packetization mode and
 * what the offerer's decoder takes, as frame size and macroblock rate. Pure.
 *
 * The limits come from max-fs / max-mbps when the offer has them, else from the
 * level of profile-level-id (ITU-T H.264 Table A-1: MaxFS, MaxMBPS), else from
 * RFC 6184's default 42000A (level 1.0: QCIF). A max-fs or max-mbps below the
 * level's value is not what RFC 6184 allows a receiver to say, but room systems do
 * say it to shrink what they get, so the stated value wins either way: sending no
 * more than a receiver declares is never wrong. */
#ifndef TESSERA_SDP_H264_H
#define TESSERA_SDP_H264_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The level Tessera answers at most (3.1: 1280x720 at 30 fps) and its limits. */
#define TSR_SDP_H264_OUR_LEVEL 0x1f
#define TSR_SDP_H264_OUR_MAX_FS 3600u
#define TSR_SDP_H264_OUR_MAX_MBPS 108000u

struct tsr_sdp_h264 {
    int mode;             /* packetization-mode: 0 (single NAL unit) or 1 (non-interleaved) */
    unsigned level_idc;   /* profile-level-id's level byte (10 = 1.0, 31 = 3.1); 9 = 1b */
    uint32_t max_fs;      /* largest frame the offerer decodes, in 16x16 macroblocks */
    uint32_t max_mbps;    /* macroblocks per second it decodes */
    uint32_t max_br_kbps; /* bits it takes: max-br, else its level's MaxBR (1000 bit/s) */
    bool max_fs_said;     /* max-fs was in the fmtp (not just the level's) */
    bool max_mbps_said;   /* max-mbps was in the fmtp */
};

/* Purpose: the limits of an H.264 level (level_idc 9 or 11 with constraint_set3
 * for 1b). Unknown levels take the highest known level below them (at least 1.0).
 * Writes *max_fs, *max_mbps and (may be NULL) *max_br_kbps, the baseline
 * profile's MaxBR in 1000 bit/s. Thread: any. */
void tsr_sdp_h264_level_limits(unsigned level_idc, bool constraint_set3, uint32_t *max_fs,
                               uint32_t *max_mbps, uint32_t *max_br_kbps);

/* Purpose: read an H.264 fmtp ("packetization-mode=0;profile-level-id=42e01f;
 * max-fs=396") into *out (max-br in 1000 bit/s, baseline's unit). Returns 0, or TSR_ERR_UNSUPPORTED
 * when it is not one Tessera sends and receives: packetization-mode other than 0 or 1, a profile
 * outside the (constrained) baseline family, a malformed profile-level-id, or a
 * max-fs / max-mbps / max-br that is not a number in 1..2^31. *out is written only on
 * success. Thread: any. */
int tsr_sdp_h264_read(const char *fmtp, struct tsr_sdp_h264 *out);

/* Purpose: the fmtp value our answer carries for the offer's `h` (its mode, the
 * lower of its level and TSR_SDP_H264_OUR_LEVEL, and, when that is below ours,
 * max-fs and max-mbps saying what we decode: RFC 6184 §8.2.2 lets an answerer
 * lower the level, never raise it, and declare its receive limits above it).
 * Never the offerer's own max-fs: those are what it takes, not what we take.
 * Writes at most `size` bytes (NUL-terminated). Thread: any. */
void tsr_sdp_h264_answer_fmtp(const struct tsr_sdp_h264 *h, char *buf, size_t size);

#endif
