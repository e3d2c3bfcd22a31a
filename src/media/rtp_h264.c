/* H.264 RTP payload format (RFC 6184, packetization-mode 1): single NAL unit,
 * STAP-A and FU-A; and packetization-mode 0 (single NAL units only) for sending. Frames in and out
 * are Annex-B byte streams; the depacketizer writes 4-byte start codes and tracks SPS/PPS so an IDR
 * that arrives without them (sent once, earlier) still decodes. */
#include <tessera/rtp_codec.h>

#include <errno.h>
#include <string.h>

#include <tessera/err.h>

enum {
    NAL_SLICE = 1,
    NAL_IDR = 5,
    NAL_SEI = 6,
    NAL_SPS = 7,
    NAL_PPS = 8,
    NAL_AUD = 9,
    NAL_STAP_A = 24,
    NAL_FU_A = 28,
    PARAM_MAX = 256,
};

static const uint8_t start_code[4] = {0, 0, 0, 1};

/* Does a NAL of `type` whose next byte is `b1` begin an access unit? A slice with
 * first_mb_in_slice == 0 has ue(v) "1" as its first bit. */
static bool au_start(unsigned type, const uint8_t *rest, size_t rest_len)
{
    if (type == NAL_AUD || type == NAL_SPS || type == NAL_PPS || type == NAL_SEI)
        return true;
    if ((type == NAL_SLICE || type == NAL_IDR) && rest_len >= 1)
        return (rest[0] & 0x80) != 0;
    return false;
}

/* Walk the NALs of one payload; calls visit(type, nal, len) for whole NALs (single,
 * each STAP-A unit) and visit_fu for FU-A. Returns 0 or an error for a malformed
 * payload. Used by inspect (validation) and by the SPS/PPS/IDR scan. */
struct nal_visit {
    bool first_seen;
    bool frame_start;
    bool has_idr, has_sps, has_pps;
};

static void visit_nal(struct nal_visit *v, unsigned type, const uint8_t *rest, size_t rest_len,
                      bool is_first_of_fu_or_whole)
{
    if (!v->first_seen) {
        v->first_seen = true;
        v->frame_start = is_first_of_fu_or_whole && au_start(type, rest, rest_len);
    }
    v->has_idr |= type == NAL_IDR;
    v->has_sps |= type == NAL_SPS;
    v->has_pps |= type == NAL_PPS;
}

static int walk_payload(const uint8_t *p, size_t n, struct nal_visit *v)
{
    if (n < 1)
        return TSR_ERR_TRUNCATED;
    if (p[0] & 0x80)
        return TSR_ERR_INVALID; /* forbidden_zero_bit */
    unsigned type = p[0] & 0x1f;
    if (type >= 1 && type <= 23) {
        visit_nal(v, type, p + 1, n - 1, true);
        return 0;
    }
    if (type == NAL_STAP_A) {
        size_t off = 1;
        unsigned units = 0;
        while (off < n) {
            if (n - off < 2)
                return TSR_ERR_TRUNCATED;
            size_t ulen = ((size_t)p[off] << 8) | p[off + 1];
            off += 2;
            if (ulen == 0 || n - off < ulen)
                return TSR_ERR_TRUNCATED;
            if (p[off] & 0x80)
                return TSR_ERR_INVALID;
            unsigned ut = p[off] & 0x1f;
            if (ut == 0 || ut > 23)
                return TSR_ERR_INVALID; /* no nesting of aggregation/fragmentation */
            visit_nal(v, ut, p + off + 1, ulen - 1, true);
            off += ulen;
            units++;
        }
        return units ? 0 : TSR_ERR_TRUNCATED;
    }
    if (type == NAL_FU_A) {
        if (n < 3)
            return TSR_ERR_TRUNCATED;
        bool s = p[1] & 0x80, e = p[1] & 0x40;
        unsigned ft = p[1] & 0x1f;
        if ((s && e) || ft == 0 || ft > 23)
            return TSR_ERR_INVALID;
        visit_nal(v, ft, p + 2, n - 2, s);
        return 0;
    }
    return TSR_ERR_UNSUPPORTED; /* STAP-B, MTAP, FU-B: not in packetization-mode 1 */
}

static int h264_inspect(const uint8_t *payload, size_t len, struct tsr_rtp_payload_info *info)
{
    struct nal_visit v = {0};
    int rc = walk_payload(payload, len, &v);
    if (rc < 0)
        return rc;
    memset(info, 0, sizeof *info);
    info->frame_start = v.frame_start;
    info->keyframe = v.has_idr || v.has_sps;
    info->picture_id = -1;
    return 0;
}

struct h264_depay_state {
    uint8_t sps[PARAM_MAX], pps[PARAM_MAX];
    size_t sps_len, pps_len;
};

static void remember_param(struct h264_depay_state *st, const uint8_t *nal, size_t len)
{
    unsigned type = nal[0] & 0x1f;
    if (len > PARAM_MAX)
        return; /* unusual; the next keyframe will carry it again */
    if (type == NAL_SPS) {
        memcpy(st->sps, nal, len);
        st->sps_len = len;
    } else if (type == NAL_PPS) {
        memcpy(st->pps, nal, len);
        st->pps_len = len;
    }
}

static void emit_nal(GByteArray *out, const uint8_t *nal, size_t len)
{
    g_byte_array_append(out, start_code, sizeof start_code);
    g_byte_array_append(out, nal, (guint)len);
}

/* Append one payload; *in_fu carries FU-A reassembly across payloads. */
static int depay_one(struct h264_depay_state *st, const uint8_t *p, size_t n, GByteArray *out,
                     bool *in_fu, unsigned *fu_type)
{
    unsigned type = p[0] & 0x1f;
    if (type != NAL_FU_A && *in_fu)
        return TSR_ERR_INVALID; /* FU-A interrupted: its end was lost */
    if (type >= 1 && type <= 23) {
        remember_param(st, p, n);
        emit_nal(out, p, n);
        return 0;
    }
    if (type == NAL_STAP_A) {
        for (size_t off = 1; off < n;) {
            size_t ulen = ((size_t)p[off] << 8) | p[off + 1];
            remember_param(st, p + off + 2, ulen);
            emit_nal(out, p + off + 2, ulen);
            off += 2 + ulen;
        }
        return 0;
    }
    bool s = p[1] & 0x80, e = p[1] & 0x40;
    unsigned ft = p[1] & 0x1f;
    if (s) {
        if (*in_fu)
            return TSR_ERR_INVALID;
        uint8_t hdr = (uint8_t)((p[0] & 0xe0) | ft);
        g_byte_array_append(out, start_code, sizeof start_code);
        g_byte_array_append(out, &hdr, 1);
        *in_fu = true;
        *fu_type = ft;
    } else if (!*in_fu || ft != *fu_type) {
        return TSR_ERR_INVALID; /* continuation without its start */
    }
    g_byte_array_append(out, p + 2, (guint)(n - 2));
    if (e)
        *in_fu = false;
    return 0;
}

static int h264_depacketize(void *state, const uint8_t *const *payloads, const size_t *lens,
                            size_t n, GByteArray *out, struct tsr_rtp_frame_info *info)
{
    struct h264_depay_state *st = state;
    struct nal_visit v = {0};
    bool in_fu = false;
    unsigned fu_type = 0;

    for (size_t i = 0; i < n; i++) {
        int rc = walk_payload(payloads[i], lens[i], &v);
        if (rc < 0)
            return rc;
    }
    if (v.has_idr && (!v.has_sps || !v.has_pps)) {
        /* IDR without its parameter sets in this frame: use the last ones seen. */
        if ((!v.has_sps && !st->sps_len) || (!v.has_pps && !st->pps_len))
            return TSR_ERR_INVALID; /* undecodable: the caller asks for a keyframe */
        if (!v.has_sps)
            emit_nal(out, st->sps, st->sps_len);
        if (!v.has_pps)
            emit_nal(out, st->pps, st->pps_len);
    }
    for (size_t i = 0; i < n; i++) {
        int rc = depay_one(st, payloads[i], lens[i], out, &in_fu, &fu_type);
        if (rc < 0)
            return rc;
    }
    if (in_fu)
        return TSR_ERR_TRUNCATED;
    info->keyframe = v.has_idr;
    return 0;
}

/* ---- packetizer ---- */

/* Next Annex-B start code at or after `off`: returns its position (or n) and
 * its length in *sc (3 or 4). */
static size_t find_start(const uint8_t *p, size_t n, size_t off, size_t *sc)
{
    for (size_t i = off; i + 3 <= n; i++) {
        if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1) {
            if (i > off && p[i - 1] == 0) {
                *sc = 4;
                return i - 1;
            }
            *sc = 3;
            return i;
        }
    }
    *sc = 0;
    return n;
}

static int emit_fu(const uint8_t *nal, size_t len, size_t max_payload,
                   struct tsr_rtp_packetized *out)
{
    size_t max_body = max_payload - 2, data = len - 1;
    size_t npk = (data + max_body - 1) / max_body;
    size_t per = (data + npk - 1) / npk;
    for (size_t off = 0; off < data; off += per) {
        size_t body = data - off < per ? data - off : per;
        uint8_t hdr[2] = {
            (uint8_t)((nal[0] & 0xe0) | NAL_FU_A),
            (uint8_t)((off == 0 ? 0x80 : 0) | (off + body == data ? 0x40 : 0) | (nal[0] & 0x1f))};
        int rc = tsr_rtp_packetized_append(out, hdr, 2, nal + 1 + off, body);
        if (rc < 0)
            return rc;
    }
    return 0;
}

#define MAX_NALS 128

/* Packetization-mode 0 (RFC 6184 §6.2): each NAL unit is one packet, never
 * aggregated or fragmented. The encoder keeps slices under the packet size; an
 * SEI that does not fit (x264's first one carries its whole settings text) is
 * left out, as a decoder needs none; any other NAL unit too large is an error. */
static int packetize_single(const uint8_t *const *nal, const size_t *nlen, size_t count,
                            size_t max_payload, struct tsr_rtp_packetized *out)
{
    for (size_t i = 0; i < count; i++) {
        if (nlen[i] > max_payload && (nal[i][0] & 0x1f) == NAL_SEI)
            continue;
        if (nlen[i] > max_payload)
            return -EMSGSIZE;
        int rc = tsr_rtp_packetized_append(out, NULL, 0, nal[i], nlen[i]);
        if (rc < 0)
            return rc;
    }
    return tsr_rtp_packetized_count(out) ? 0 : -EINVAL;
}

static int packetize_frame(const uint8_t *frame, size_t len, size_t max_payload, bool single,
                           struct tsr_rtp_packetized *out)
{
    const uint8_t *nal[MAX_NALS];
    size_t nlen[MAX_NALS], count = 0, sc;
    uint8_t stap[TSR_RTP_DEFAULT_MTU_BYTES * 8];

    size_t pos = find_start(frame, len, 0, &sc);
    if (pos != 0)
        return -EINVAL; /* Annex-B frames begin with a start code */
    while (pos < len) {
        size_t begin = pos + sc, next_sc;
        size_t next = find_start(frame, len, begin, &next_sc);
        if (next > begin) {
            if (count == MAX_NALS)
                return -EMSGSIZE;
            nal[count] = frame + begin;
            nlen[count++] = next - begin;
        }
        pos = next;
        sc = next_sc;
    }
    if (count == 0 || max_payload < 8 || max_payload > sizeof stap)
        return -EINVAL;
    if (single)
        return packetize_single(nal, nlen, count, max_payload, out);
    for (size_t i = 0; i < count;) {
        if (nlen[i] > max_payload) {
            int rc = emit_fu(nal[i], nlen[i], max_payload, out);
            if (rc < 0)
                return rc;
            i++;
            continue;
        }
        /* Aggregate following small NALs (SPS, PPS, SEI) while they fit. */
        size_t j = i, total = 1;
        uint8_t nri = 0;
        while (j < count && total + 2 + nlen[j] <= max_payload) {
            total += 2 + nlen[j];
            if ((nal[j][0] & 0x60) > nri)
                nri = nal[j][0] & 0x60;
            j++;
        }
        int rc;
        if (j - i <= 1) {
            rc = tsr_rtp_packetized_append(out, NULL, 0, nal[i], nlen[i]);
            j = i + 1;
        } else {
            size_t off = 0;
            stap[off++] = (uint8_t)(nri | NAL_STAP_A);
            for (size_t k = i; k < j; k++) {
                stap[off++] = (uint8_t)(nlen[k] >> 8);
                stap[off++] = (uint8_t)nlen[k];
                memcpy(stap + off, nal[k], nlen[k]);
                off += nlen[k];
            }
            rc = tsr_rtp_packetized_append(out, NULL, 0, stap, off);
        }
        if (rc < 0)
            return rc;
        i = j;
    }
    return 0;
}

static int h264_packetize(void *state, const uint8_t *frame, size_t len, size_t max_payload,
                          struct tsr_rtp_packetized *out)
{
    (void)state;
    return packetize_frame(frame, len, max_payload, false, out);
}

static int h264_packetize_single(void *state, const uint8_t *frame, size_t len, size_t max_payload,
                                 struct tsr_rtp_packetized *out)
{
    (void)state;
    return packetize_frame(frame, len, max_payload, true, out);
}

const struct tsr_rtp_codec tsr_rtp_codec_h264_single = {
    .name = "H264",
    .id = TSR_RTP_CODEC_H264,
    .clock_rate = 90000,
    .video = true,
    .depay_state_size = sizeof(struct h264_depay_state),
    .pay_state_size = 0,
    .inspect = h264_inspect,
    .depacketize = h264_depacketize,
    .packetize = h264_packetize_single,
};

const struct tsr_rtp_codec tsr_rtp_codec_h264 = {
    .name = "H264",
    .id = TSR_RTP_CODEC_H264,
    .clock_rate = 90000,
    .video = true,
    .depay_state_size = sizeof(struct h264_depay_state),
    .pay_state_size = 0,
    .inspect = h264_inspect,
    .depacketize = h264_depacketize,
    .packetize = h264_packetize,
};
