/* Generic half of the payload formats: codec lookup, depacketizer and packetizer
 * objects around the per-codec hook tables, and the packetized-once frame. */
#include <tessera/rtp_codec.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <tessera/err.h>
#include <tessera/metrics.h>

/* G.711 and G.722 (RFC 3551): one 20 ms frame per packet, opaque bytes (any byte
 * value is a valid sample, so there is nothing to check). Not in the table below:
 * its name is no SDP encoding name, and nothing depacketizes with it. */
static int narrow_packetize(void *state, const uint8_t *frame, size_t len, size_t max_payload,
                            struct tsr_rtp_packetized *out)
{
    (void)state;
    if (len == 0)
        return -EINVAL;
    if (len > max_payload)
        return -EMSGSIZE;
    return tsr_rtp_packetized_append(out, NULL, 0, frame, len);
}

const struct tsr_rtp_codec tsr_rtp_codec_narrowband = {
    .name = "narrowband",
    .id = TSR_RTP_CODEC_NARROWBAND,
    .clock_rate = 8000,
    .video = false,
    .packetize = narrow_packetize,
};

static const struct tsr_rtp_codec *const all_codecs[] = {
    &tsr_rtp_codec_vp8,
    &tsr_rtp_codec_h264,
    &tsr_rtp_codec_opus,
};

const struct tsr_rtp_codec *tsr_rtp_codec_by_name(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof all_codecs / sizeof all_codecs[0]; i++)
        if (strcasecmp(all_codecs[i]->name, name) == 0)
            return all_codecs[i];
    return NULL;
}

const struct tsr_rtp_codec *tsr_rtp_codec_by_id(enum tsr_rtp_codec_id id)
{
    for (size_t i = 0; i < sizeof all_codecs / sizeof all_codecs[0]; i++)
        if (all_codecs[i]->id == id)
            return all_codecs[i];
    return NULL;
}

/* ---- depacketizer ---- */

struct tsr_rtp_depacketizer {
    const struct tsr_rtp_codec *codec;
    size_t last_frame_bytes; /* size hint so the output rarely reallocates */
    void *state;
};

int tsr_rtp_depacketizer_new(struct tsr_rtp_depacketizer **out, const struct tsr_rtp_codec *codec)
{
    struct tsr_rtp_depacketizer *d;
    if (!out || !codec)
        return -EINVAL;
    d = calloc(1, sizeof *d);
    if (!d)
        return -ENOMEM;
    d->codec = codec;
    if (codec->depay_state_size) {
        d->state = calloc(1, codec->depay_state_size);
        if (!d->state) {
            free(d);
            return -ENOMEM;
        }
    }
    *out = d;
    return 0;
}

void tsr_rtp_depacketizer_free(struct tsr_rtp_depacketizer **d)
{
    if (!d || !*d)
        return;
    free((*d)->state);
    free(*d);
    *d = NULL;
}

int tsr_rtp_depacketizer_run(struct tsr_rtp_depacketizer *d, const uint8_t *const *payloads,
                             const size_t *lens, size_t n, GBytes **frame,
                             struct tsr_rtp_frame_info *info)
{
    struct tsr_rtp_frame_info fi;
    size_t total = 0;

    if (!d || !payloads || !lens || n == 0 || !frame || !info)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        total += lens[i];
    /* H.264 adds start codes and may prepend SPS/PPS: leave some headroom. */
    GByteArray *ba = g_byte_array_sized_new((guint)(total + total / 8 + 64));
    memset(&fi, 0, sizeof fi);
    int rc = d->codec->depacketize(d->state, payloads, lens, n, ba, &fi);
    if (rc < 0) {
        char labels[48];
        snprintf(labels, sizeof labels, "codec=\"%s\"", d->codec->name);
        tsr_counter_inc(tsr_metrics_counter("tessera_depacketize_errors_total", labels,
                                            "Frames the depacketizer rejected"));
        g_byte_array_unref(ba);
        return rc;
    }
    d->last_frame_bytes = ba->len;
    *frame = g_byte_array_free_to_bytes(ba);
    *info = fi;
    return 0;
}

/* ---- packetized frame ---- */

struct payload_ent {
    size_t off;
    size_t len;
    bool marker;
};

struct tsr_rtp_packetized {
    gint refcount;
    const struct tsr_rtp_codec *codec;
    int64_t capture_us;
    bool keyframe;
    uint8_t *buf;
    size_t len, cap;
    struct payload_ent *ents;
    size_t n, ents_cap;
};

static int packetized_new(struct tsr_rtp_packetized **out, const struct tsr_rtp_codec *codec,
                          size_t bytes_hint, size_t ents_hint)
{
    struct tsr_rtp_packetized *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->refcount = 1;
    p->codec = codec;
    p->cap = bytes_hint ? bytes_hint : 64;
    p->ents_cap = ents_hint ? ents_hint : 4;
    p->buf = malloc(p->cap);
    p->ents = malloc(p->ents_cap * sizeof *p->ents);
    if (!p->buf || !p->ents) {
        free(p->buf);
        free(p->ents);
        free(p);
        return -ENOMEM;
    }
    *out = p;
    return 0;
}

int tsr_rtp_packetized_append(struct tsr_rtp_packetized *p, const uint8_t *hdr, size_t hdr_len,
                              const uint8_t *body, size_t body_len)
{
    if (!p || (hdr_len && !hdr) || (body_len && !body))
        return -EINVAL;
    size_t need = hdr_len + body_len;
    if (p->cap - p->len < need) {
        size_t ncap = p->cap * 2 > p->len + need ? p->cap * 2 : p->len + need;
        uint8_t *nb = realloc(p->buf, ncap);
        if (!nb)
            return -ENOMEM;
        p->buf = nb;
        p->cap = ncap;
    }
    if (p->n == p->ents_cap) {
        struct payload_ent *ne = realloc(p->ents, p->ents_cap * 2 * sizeof *ne);
        if (!ne)
            return -ENOMEM;
        p->ents = ne;
        p->ents_cap *= 2;
    }
    if (hdr_len)
        memcpy(p->buf + p->len, hdr, hdr_len);
    if (body_len)
        memcpy(p->buf + p->len + hdr_len, body, body_len);
    p->ents[p->n].off = p->len;
    p->ents[p->n].len = need;
    p->ents[p->n].marker = false;
    p->n++;
    p->len += need;
    return 0;
}

struct tsr_rtp_packetized *tsr_rtp_packetized_ref(struct tsr_rtp_packetized *p)
{
    if (p)
        g_atomic_int_inc(&p->refcount);
    return p;
}

void tsr_rtp_packetized_unref(struct tsr_rtp_packetized **pp)
{
    if (!pp || !*pp)
        return;
    struct tsr_rtp_packetized *p = *pp;
    *pp = NULL;
    if (g_atomic_int_dec_and_test(&p->refcount)) {
        free(p->buf);
        free(p->ents);
        free(p);
    }
}

size_t tsr_rtp_packetized_count(const struct tsr_rtp_packetized *p)
{
    return p ? p->n : 0;
}

int tsr_rtp_packetized_get(const struct tsr_rtp_packetized *p, size_t i, const uint8_t **data,
                           size_t *len, bool *marker)
{
    if (!p || i >= p->n || !data || !len)
        return -EINVAL;
    *data = p->buf + p->ents[i].off;
    *len = p->ents[i].len;
    if (marker)
        *marker = p->ents[i].marker;
    return 0;
}

int64_t tsr_rtp_packetized_capture_us(const struct tsr_rtp_packetized *p)
{
    return p ? p->capture_us : 0;
}

/* ---- packetizer ---- */

struct tsr_rtp_packetizer {
    const struct tsr_rtp_codec *codec;
    void *state;
};

int tsr_rtp_packetizer_new(struct tsr_rtp_packetizer **out, const struct tsr_rtp_codec *codec)
{
    struct tsr_rtp_packetizer *p;
    if (!out || !codec)
        return -EINVAL;
    p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->codec = codec;
    if (codec->pay_state_size) {
        p->state = calloc(1, codec->pay_state_size);
        if (!p->state) {
            free(p);
            return -ENOMEM;
        }
    }
    *out = p;
    return 0;
}

void tsr_rtp_packetizer_free(struct tsr_rtp_packetizer **p)
{
    if (!p || !*p)
        return;
    free((*p)->state);
    free(*p);
    *p = NULL;
}

int tsr_rtp_packetizer_run(struct tsr_rtp_packetizer *p, const uint8_t *frame, size_t len,
                           size_t mtu_bytes, int64_t capture_us, bool keyframe,
                           struct tsr_rtp_packetized **out)
{
    struct tsr_rtp_packetized *pk = NULL;
    int rc;

    if (!p || !frame || len == 0 || !out)
        return -EINVAL;
    if (mtu_bytes == 0)
        mtu_bytes = TSR_RTP_DEFAULT_MTU_BYTES;
    if (mtu_bytes <= TSR_RTP_PACKET_OVERHEAD_BYTES + 16)
        return -EINVAL;
    size_t max_payload = mtu_bytes - TSR_RTP_PACKET_OVERHEAD_BYTES;
    size_t est = len / (max_payload - 8) + 1;
    rc = packetized_new(&pk, p->codec, len + est * 8 + 16, est + 1);
    if (rc < 0)
        goto fail;
    pk->capture_us = capture_us;
    pk->keyframe = keyframe;
    rc = p->codec->packetize(p->state, frame, len, max_payload, pk);
    if (rc < 0)
        goto fail;
    if (pk->n == 0) {
        rc = -EINVAL;
        goto fail;
    }
    pk->ents[pk->n - 1].marker = true;
    *out = pk;
    return 0;
fail:
    tsr_rtp_packetized_unref(&pk);
    return rc;
}
