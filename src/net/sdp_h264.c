/* H.264 fmtp parameters (see tessera/sdp_h264.h). Pure. */
#include <tessera/sdp_h264.h>
#include <tessera/err.h>
#include <tessera/sdp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ITU-T H.264 (08/2021) Table A-1: level_idc, MaxMBPS, MaxFS, MaxBR (1000 bit/s,
 * baseline). 1b is apart. */
static const struct {
    unsigned idc;
    uint32_t mbps, fs, br;
} levels[] = {
    {10, 1485, 99, 64},
    {11, 3000, 396, 192},
    {12, 6000, 396, 384},
    {13, 11880, 396, 768},
    {20, 11880, 396, 2000},
    {21, 19800, 792, 4000},
    {22, 20250, 1620, 4000},
    {30, 40500, 1620, 10000},
    {31, 108000, 3600, 14000},
    {32, 216000, 5120, 20000},
    {40, 245760, 8192, 20000},
    {41, 245760, 8192, 50000},
    {42, 522240, 8704, 50000},
    {50, 589824, 22080, 135000},
    {51, 983040, 36864, 240000},
    {52, 2073600, 36864, 240000},
    {60, 4177920, 139264, 240000},
    {61, 8355840, 139264, 480000},
    {62, 16711680, 139264, 800000},
};

void tsr_sdp_h264_level_limits(unsigned level_idc, bool constraint_set3, uint32_t *max_fs,
                               uint32_t *max_mbps, uint32_t *max_br_kbps)
{
    size_t k = 0; /* level 1.0 for anything below it */
    bool one_b = level_idc == 9 || (level_idc == 11 && constraint_set3);
    if (one_b)
        level_idc = 10; /* 1b: level 1.0's frame size and rate, 128 kb/s instead of 64 */
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        if (levels[i].idc <= level_idc)
            k = i;
    *max_fs = levels[k].fs;
    *max_mbps = levels[k].mbps;
    if (max_br_kbps)
        *max_br_kbps = one_b ? 128 : levels[k].br;
}

/* A positive decimal parameter; false when present and malformed. */
static bool read_count(const char *fmtp, const char *key, uint32_t *out, bool *said)
{
    char buf[16], *end = NULL;
    int rc = tsr_sdp_fmtp_get(fmtp, key, buf, sizeof buf);
    *said = false;
    if (rc == TSR_ERR_NOT_FOUND)
        return true;
    if (rc != 0 || buf[0] < '0' || buf[0] > '9')
        return false;
    unsigned long v = strtoul(buf, &end, 10);
    if (*end || v == 0 || v > 0x80000000ul)
        return false;
    *out = (uint32_t)v;
    *said = true;
    return true;
}

int tsr_sdp_h264_read(const char *fmtp, struct tsr_sdp_h264 *out)
{
    char mode[8] = "0", plid[16] = "42000a", *end = NULL;
    if (!fmtp)
        fmtp = "";
    if (tsr_sdp_fmtp_get(fmtp, "packetization-mode", mode, sizeof mode) == TSR_ERR_INVALID ||
        tsr_sdp_fmtp_get(fmtp, "profile-level-id", plid, sizeof plid) == TSR_ERR_INVALID)
        return TSR_ERR_UNSUPPORTED;
    unsigned long v = strtoul(plid, &end, 16);
    unsigned idc = (unsigned)(v >> 16) & 0xff, iop = (unsigned)(v >> 8) & 0xff;
    bool cb = idc == 0x42 || (idc == 0x4d && (iop & 0x80)) || (idc == 0x58 && (iop & 0xc0));
    if (strlen(plid) != 6 || *end || !cb || (strcmp(mode, "0") != 0 && strcmp(mode, "1") != 0))
        return TSR_ERR_UNSUPPORTED;
    struct tsr_sdp_h264 h = {.mode = mode[0] - '0', .level_idc = (unsigned)v & 0xff};
    tsr_sdp_h264_level_limits(h.level_idc, (iop & 0x10) != 0, &h.max_fs, &h.max_mbps,
                              &h.max_br_kbps);
    if (h.level_idc == 11 && (iop & 0x10))
        h.level_idc = 9; /* baseline's spelling of 1b: keep it below 1.1 */
    bool br_said;
    if (!read_count(fmtp, "max-fs", &h.max_fs, &h.max_fs_said) ||
        !read_count(fmtp, "max-mbps", &h.max_mbps, &h.max_mbps_said) ||
        !read_count(fmtp, "max-br", &h.max_br_kbps, &br_said))
        return TSR_ERR_UNSUPPORTED;
    *out = h;
    return 0;
}

void tsr_sdp_h264_answer_fmtp(const struct tsr_sdp_h264 *h, char *buf, size_t size)
{
    unsigned level = h->level_idc < TSR_SDP_H264_OUR_LEVEL ? h->level_idc : TSR_SDP_H264_OUR_LEVEL;
    if (level == 9)
        level = 10; /* 1b as 42e009 is not a baseline spelling; 1.0 is below it */
    int n = snprintf(buf, size, "packetization-mode=%d;profile-level-id=42e0%02x", h->mode, level);
    if (level < TSR_SDP_H264_OUR_LEVEL && n > 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, ";max-fs=%u;max-mbps=%u", TSR_SDP_H264_OUR_MAX_FS,
                 TSR_SDP_H264_OUR_MAX_MBPS);
}
