/* RTP header extensions (RFC 8285 one-byte and two-byte forms) and the four
 * extensions WebRTC browsers send us. */
#include <tessera/rtp.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <tessera/err.h>
#include <tessera/metrics.h>

static const char *const ext_uris[TSR_RTP_EXT_COUNT] = {
    [TSR_RTP_EXT_AUDIO_LEVEL] = "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    [TSR_RTP_EXT_MID] = "urn:ietf:params:rtp-hdrext:sdes:mid",
    [TSR_RTP_EXT_ABS_SEND_TIME] = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    [TSR_RTP_EXT_TRANSPORT_CC] =
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01",
};

void tsr_rtp_ext_map_init(struct tsr_rtp_ext_map *m)
{
    memset(m, 0, sizeof *m);
}

int tsr_rtp_ext_map_set(struct tsr_rtp_ext_map *m, int id, enum tsr_rtp_ext ext)
{
    if (!m || id < 1 || id > 255 || (int)ext < 0 || ext >= TSR_RTP_EXT_COUNT)
        return -EINVAL;
    m->by_id[id] = (uint8_t)ext;
    return 0;
}

int tsr_rtp_ext_map_set_uri(struct tsr_rtp_ext_map *m, int id, const char *uri)
{
    if (!uri)
        return -EINVAL;
    for (int e = 1; e < TSR_RTP_EXT_COUNT; e++)
        if (strcasecmp(uri, ext_uris[e]) == 0)
            return tsr_rtp_ext_map_set(m, id, (enum tsr_rtp_ext)e);
    return TSR_ERR_UNSUPPORTED;
}

int tsr_rtp_ext_map_id(const struct tsr_rtp_ext_map *m, enum tsr_rtp_ext ext)
{
    if (!m || ext == TSR_RTP_EXT_NONE)
        return 0;
    for (int id = 1; id < 256; id++)
        if (m->by_id[id] == ext)
            return id;
    return 0;
}

static int ext_error(int err, const char *kind)
{
    char labels[48];
    snprintf(labels, sizeof labels, "kind=\"%s\"", kind);
    tsr_counter_inc(tsr_metrics_counter("tessera_rtp_ext_errors_total", labels,
                                        "RTP header extension blocks rejected"));
    return err;
}

/* Store one element's value; sizes follow each extension's spec. */
static int ext_store(enum tsr_rtp_ext e, const uint8_t *d, size_t n, struct tsr_rtp_ext_values *v)
{
    switch (e) {
    case TSR_RTP_EXT_AUDIO_LEVEL:
        if (n < 1)
            return TSR_ERR_INVALID;
        v->has_audio_level = true;
        v->voice_activity = (d[0] & 0x80) != 0;
        v->audio_level_dbov = d[0] & 0x7f;
        return 0;
    case TSR_RTP_EXT_MID:
        if (n < 1 || n > TSR_RTP_MID_MAX)
            return TSR_ERR_INVALID;
        memcpy(v->mid, d, n);
        v->mid[n] = '\0';
        if (strlen(v->mid) != n)
            return TSR_ERR_INVALID; /* embedded NUL: not an RFC 8843 token */
        v->has_mid = true;
        return 0;
    case TSR_RTP_EXT_ABS_SEND_TIME:
        if (n != 3)
            return TSR_ERR_INVALID;
        v->has_abs_send_time = true;
        v->abs_send_time = ((uint32_t)d[0] << 16) | ((uint32_t)d[1] << 8) | d[2];
        return 0;
    case TSR_RTP_EXT_TRANSPORT_CC:
        if (n != 2)
            return TSR_ERR_INVALID;
        v->has_transport_cc = true;
        v->transport_cc_seq = (uint16_t)((d[0] << 8) | d[1]);
        return 0;
    default:
        return 0;
    }
}

int tsr_rtp_ext_parse(const struct tsr_rtp_ext_map *map, const struct tsr_rtp_header *h,
                      struct tsr_rtp_ext_values *out)
{
    struct tsr_rtp_ext_values v;
    bool one_byte, two_byte;
    size_t off = 0;

    if (!map || !h || !out)
        return -EINVAL;
    memset(&v, 0, sizeof v);
    one_byte = h->ext_profile == 0xBEDE;
    two_byte = (h->ext_profile & 0xfff0) == 0x1000;
    if (!h->extension || !h->ext_data || (!one_byte && !two_byte)) {
        *out = v; /* no block, or a profile we do not interpret */
        return 0;
    }
    const uint8_t *d = h->ext_data;
    size_t n = h->ext_bytes;
    while (off < n) {
        unsigned id, elen;
        if (d[off] == 0) { /* padding byte, in both forms */
            off++;
            continue;
        }
        if (one_byte) {
            id = d[off] >> 4;
            elen = (d[off] & 0x0f) + 1u;
            if (id == 15)
                break; /* RFC 8285 §4.2: stop processing */
            off++;
        } else {
            if (n - off < 2)
                return ext_error(TSR_ERR_TRUNCATED, "element");
            id = d[off];
            elen = d[off + 1];
            off += 2;
        }
        if (n - off < elen)
            return ext_error(TSR_ERR_TRUNCATED, "element");
        int r = ext_store((enum tsr_rtp_ext)map->by_id[id], d + off, elen, &v);
        if (r < 0)
            return ext_error(r, "value");
        off += elen;
    }
    *out = v;
    return 0;
}

int tsr_rtp_ext_write(const struct tsr_rtp_ext_elem *elems, size_t n, uint8_t *buf, size_t cap,
                      uint16_t *profile, size_t *len)
{
    bool two = false;
    size_t need = 0, off = 0;

    if ((!elems && n) || !buf || !profile || !len)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        if (elems[i].id == 0 || (elems[i].len && !elems[i].data))
            return -EINVAL;
        if (elems[i].id > 14 || elems[i].len == 0 || elems[i].len > 16)
            two = true;
    }
    for (size_t i = 0; i < n; i++)
        need += (two ? 2u : 1u) + elems[i].len;
    need = (need + 3) & ~(size_t)3;
    if (need > cap)
        return TSR_ERR_FULL;
    for (size_t i = 0; i < n; i++) {
        if (two) {
            buf[off++] = elems[i].id;
            buf[off++] = elems[i].len;
        } else {
            buf[off++] = (uint8_t)((elems[i].id << 4) | (elems[i].len - 1));
        }
        if (elems[i].len)
            memcpy(buf + off, elems[i].data, elems[i].len);
        off += elems[i].len;
    }
    while (off < need)
        buf[off++] = 0;
    *profile = two ? 0x1000 : 0xBEDE;
    *len = need;
    return 0;
}

void tsr_rtp_ext_encode_abs_send_time(uint32_t abs_send_time, uint8_t out[3])
{
    out[0] = (uint8_t)(abs_send_time >> 16);
    out[1] = (uint8_t)(abs_send_time >> 8);
    out[2] = (uint8_t)abs_send_time;
}

uint32_t tsr_rtp_abs_send_time_from_us(int64_t t_us)
{
    /* 6.18 fixed point seconds: (us << 18) / 1e6, wrapped to 24 bits (64 s). */
    uint64_t u = (uint64_t)(t_us < 0 ? 0 : t_us);
    return (uint32_t)(((u << 18) / 1000000u) & 0xffffffu);
}
