/* VP8 RTP payload format (RFC 7741). */
#include <tessera/rtp_codec.h>

#include <errno.h>
#include <string.h>

#include <tessera/err.h>

struct vp8_desc {
    size_t len;   /* descriptor bytes */
    bool start;   /* S bit */
    unsigned pid; /* partition index */
    int32_t picture_id;
};

/* RFC 7741 §4.2 payload descriptor. */
static int vp8_parse_desc(const uint8_t *p, size_t n, struct vp8_desc *d)
{
    size_t off = 1;
    if (n < 1)
        return TSR_ERR_TRUNCATED;
    d->start = (p[0] & 0x10) != 0;
    d->pid = p[0] & 0x07;
    d->picture_id = -1;
    if (p[0] & 0x80) { /* X: extension byte */
        if (n < 2)
            return TSR_ERR_TRUNCATED;
        uint8_t x = p[1];
        off = 2;
        if (x & 0x80) { /* I: picture id, 7 or 15 bits */
            if (n - off < 1)
                return TSR_ERR_TRUNCATED;
            if (p[off] & 0x80) {
                if (n - off < 2)
                    return TSR_ERR_TRUNCATED;
                d->picture_id = ((p[off] & 0x7f) << 8) | p[off + 1];
                off += 2;
            } else {
                d->picture_id = p[off];
                off += 1;
            }
        }
        if (x & 0x40) /* L: TL0PICIDX */
            off += 1;
        if (x & 0x30) /* T or K: TID/Y/KEYIDX */
            off += 1;
        if (off > n)
            return TSR_ERR_TRUNCATED;
    }
    if (off >= n)
        return TSR_ERR_TRUNCATED; /* a descriptor with no VP8 data */
    d->len = off;
    return 0;
}

/* Keyframe and size from the VP8 payload header (RFC 7741 §4.3, RFC 6386 §9.1). */
static bool vp8_frame_header(const uint8_t *v, size_t n, uint16_t *w, uint16_t *h)
{
    bool key = n >= 1 && !(v[0] & 0x01);
    *w = *h = 0;
    if (key && n >= 10 && v[3] == 0x9d && v[4] == 0x01 && v[5] == 0x2a) {
        *w = (uint16_t)((v[6] | (v[7] << 8)) & 0x3fff);
        *h = (uint16_t)((v[8] | (v[9] << 8)) & 0x3fff);
    }
    return key;
}

static int vp8_inspect(const uint8_t *payload, size_t len, struct tsr_rtp_payload_info *info)
{
    struct vp8_desc d;
    int rc = vp8_parse_desc(payload, len, &d);
    if (rc < 0)
        return rc;
    memset(info, 0, sizeof *info);
    info->picture_id = d.picture_id;
    info->frame_start = d.start && d.pid == 0;
    if (info->frame_start)
        info->keyframe =
            vp8_frame_header(payload + d.len, len - d.len, &info->width, &info->height);
    return 0;
}

static int vp8_depacketize(void *state, const uint8_t *const *payloads, const size_t *lens,
                           size_t n, GByteArray *out, struct tsr_rtp_frame_info *info)
{
    (void)state;
    for (size_t i = 0; i < n; i++) {
        struct vp8_desc d;
        int rc = vp8_parse_desc(payloads[i], lens[i], &d);
        if (rc < 0)
            return rc;
        if (i == 0) {
            if (!d.start || d.pid != 0)
                return TSR_ERR_INVALID; /* frame must begin with partition 0 start */
            info->keyframe =
                vp8_frame_header(payloads[i] + d.len, lens[i] - d.len, &info->width, &info->height);
        }
        g_byte_array_append(out, payloads[i] + d.len, (guint)(lens[i] - d.len));
    }
    return 0;
}

struct vp8_pay_state {
    uint16_t picture_id; /* 15-bit, incremented per frame */
};

/* Descriptor: X=1, S on the first packet, PID 0; I=1 with a 15-bit picture id
 * (what Chrome sends, and what receivers use to detect frame loss). Payloads are
 * split evenly so no packet is a runt. */
static int vp8_packetize(void *state, const uint8_t *frame, size_t len, size_t max_payload,
                         struct tsr_rtp_packetized *out)
{
    struct vp8_pay_state *st = state;
    const size_t desc_len = 4;
    if (max_payload <= desc_len)
        return -EINVAL;
    size_t max_body = max_payload - desc_len;
    size_t npk = (len + max_body - 1) / max_body;
    size_t per = (len + npk - 1) / npk;
    uint16_t pic = st->picture_id & 0x7fff;
    st->picture_id = (uint16_t)((pic + 1) & 0x7fff);
    for (size_t off = 0, i = 0; off < len; off += per, i++) {
        size_t body = len - off < per ? len - off : per;
        uint8_t desc[4] = {(uint8_t)(0x80 | (i == 0 ? 0x10 : 0)), 0x80,
                           (uint8_t)(0x80 | (pic >> 8)), (uint8_t)pic};
        int rc = tsr_rtp_packetized_append(out, desc, desc_len, frame + off, body);
        if (rc < 0)
            return rc;
    }
    return 0;
}

const struct tsr_rtp_codec tsr_rtp_codec_vp8 = {
    .name = "VP8",
    .id = TSR_RTP_CODEC_VP8,
    .clock_rate = 90000,
    .video = true,
    .depay_state_size = 0,
    .pay_state_size = sizeof(struct vp8_pay_state),
    .inspect = vp8_inspect,
    .depacketize = vp8_depacketize,
    .packetize = vp8_packetize,
};
