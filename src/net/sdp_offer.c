/* Server re-offers that add send-only m-lines; see include/net/tessera/sdp_offer.h.
 * Pure. The offer is built from our own current local description, so only the
 * answer is hostile input. */
#include <tessera/sdp_offer.h>

#include <tessera/err.h>

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#define URI_MID "urn:ietf:params:rtp-hdrext:sdes:mid"

static const char *const DIRECTIONS[] = {"sendrecv", "sendonly", "recvonly", "inactive"};

static int fail(char *reason, int rc, const char *msg)
{
    if (reason)
        g_strlcpy(reason, msg, TSR_SDP_REASON_MAX);
    return rc;
}

void tsr_sdp_send_offer_free(struct tsr_sdp_send_offer **o)
{
    if (!o || !*o)
        return;
    g_free((*o)->sdp);
    g_free(*o);
    *o = NULL;
}

static enum tsr_sdp_media_kind kind_of(const struct tsr_sdp_media *m)
{
    return strcmp(m->kind, "audio") == 0   ? TSR_SDP_MEDIA_KIND_AUDIO
           : strcmp(m->kind, "video") == 0 ? TSR_SDP_MEDIA_KIND_VIDEO
                                           : TSR_SDP_MEDIA_KIND_OTHER;
}

static bool is_direction(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(DIRECTIONS); i++)
        if (strcmp(name, DIRECTIONS[i]) == 0)
            return true;
    return false;
}

static const char *direction(const struct tsr_sdp_media *m)
{
    for (size_t i = 0; i < m->n_attrs; i++)
        if (is_direction(m->attrs[i].name))
            return m->attrs[i].name;
    return "sendrecv";
}

/* A live section: a port, or port 0 with a=bundle-only (RFC 8843 §7.3.1: an
 * answerer may mark every bundled section but the tagged one that way; JSEP's
 * max-bundle offers do the same). */
static bool is_live(const struct tsr_sdp_media *m)
{
    return m->port != 0 || tsr_sdp_attr_find(m->attrs, m->n_attrs, "bundle-only") != NULL;
}

static bool has_format(const struct tsr_sdp_media *m, const char *fmt)
{
    for (size_t i = 0; i < m->n_fmts; i++)
        if (strcmp(m->fmts[i], fmt) == 0)
            return true;
    return false;
}

static const char *media_mid(const struct tsr_sdp_media *m)
{
    const char *mid = tsr_sdp_attr_find(m->attrs, m->n_attrs, "mid");
    return mid ? mid : "";
}

/* Which accepted line of each kind can serve as template, and whether we already
 * send that kind somewhere. */
struct plan {
    int template_index[2]; /* by kind; -1 = none accepted */
    bool sends[2];
    size_t n_new;
    enum tsr_sdp_media_kind new_kinds[2];
};

static void make_plan(const struct tsr_sdp *local, struct plan *pl)
{
    memset(pl, 0, sizeof *pl);
    pl->template_index[0] = pl->template_index[1] = -1;
    for (size_t i = 0; i < local->n_media; i++) {
        const struct tsr_sdp_media *m = &local->media[i];
        enum tsr_sdp_media_kind k = kind_of(m);
        if (k == TSR_SDP_MEDIA_KIND_OTHER || m->port == 0)
            continue;
        const char *dir = direction(m);
        if (strcmp(dir, "sendrecv") == 0 || strcmp(dir, "sendonly") == 0)
            pl->sends[k] = true;
        if (pl->template_index[k] < 0)
            pl->template_index[k] = (int)i;
    }
    for (int k = 0; k < 2; k++)
        if (pl->template_index[k] >= 0 && !pl->sends[k])
            pl->new_kinds[pl->n_new++] = (enum tsr_sdp_media_kind)k;
}

/* "- <session id> <version> IN IP4 …" with the version incremented. */
static char *next_origin(const char *origin)
{
    gchar **t = g_strsplit(origin, " ", -1);
    char *out = NULL;
    if (g_strv_length(t) == 6) {
        char *end;
        guint64 v = g_ascii_strtoull(t[2], &end, 10);
        if (*end == '\0' && end != t[2]) {
            g_free(t[2]);
            t[2] = g_strdup_printf("%" G_GUINT64_FORMAT, v + 1);
            out = g_strjoinv(" ", t);
        }
    }
    g_strfreev(t);
    return out;
}

static bool mid_used(const struct tsr_sdp *local, const char *mid)
{
    for (size_t i = 0; i < local->n_media; i++)
        if (strcmp(media_mid(&local->media[i]), mid) == 0)
            return true;
    return false;
}

static struct tsr_sdp_media *copy_media_line(struct tsr_sdp *o, const struct tsr_sdp_media *m,
                                             uint16_t port)
{
    struct tsr_sdp_media *out = NULL;
    if (tsr_sdp_add_media(o, m->kind, port, m->proto, (const char *const *)m->fmts, m->n_fmts,
                          &out) != 0)
        return NULL;
    if (m->connection)
        tsr_sdp_set_connection(out, m->connection);
    return out;
}

/* An existing line, unchanged except: lines we do not send on lose their SSRC and
 * msid (the added line claims our media), and an offer says setup:actpass. */
static int copy_existing(struct tsr_sdp *o, const struct tsr_sdp_media *m)
{
    struct tsr_sdp_media *out = copy_media_line(o, m, m->port);
    if (!out)
        return -ENOMEM;
    const char *dir = direction(m);
    bool sends = strcmp(dir, "sendrecv") == 0 || strcmp(dir, "sendonly") == 0;
    for (size_t i = 0; i < m->n_attrs; i++) {
        const char *n = m->attrs[i].name;
        if (!sends &&
            (strcmp(n, "ssrc") == 0 || strcmp(n, "ssrc-group") == 0 || strcmp(n, "msid") == 0))
            continue;
        int rc =
            tsr_sdp_add_attr(o, out, n, strcmp(n, "setup") == 0 ? "actpass" : m->attrs[i].value);
        if (rc)
            return rc;
    }
    return 0;
}

/* Our lines carry one codec, preceded by RED (red/48000/2) on an audio line
 * that negotiated it (sdp_negotiate.c): the codec is the first other format. */
static void describe_line(const struct tsr_sdp_media *t, struct tsr_sdp_send_line *line)
{
    line->pt = line->red_pt = -1;
    line->codec = TSR_SDP_CODEC_NONE;
    for (size_t k = 0; k < t->n_fmts && line->pt < 0; k++) {
        struct tsr_sdp_rtpmap r;
        int pt = tsr_sdp_media_fmt_pt(t, k);
        bool red =
            pt >= 0 && tsr_sdp_media_rtpmap(t, pt, &r) && g_ascii_strcasecmp(r.name, "red") == 0;
        if (red && line->red_pt < 0)
            line->red_pt = pt;
        else if (!red)
            line->pt = pt >= 0 ? pt : atoi(t->fmts[k]);
    }
    for (size_t i = 0; i < t->n_attrs; i++) {
        const char *n = t->attrs[i].name, *v = t->attrs[i].value;
        struct tsr_sdp_rtpmap r;
        struct tsr_sdp_extmap e;
        if (strcmp(n, "rtpmap") == 0 && tsr_sdp_parse_rtpmap(v, &r) == 0 && r.pt == line->pt)
            line->codec = g_ascii_strcasecmp(r.name, "opus") == 0   ? TSR_SDP_CODEC_OPUS
                          : g_ascii_strcasecmp(r.name, "H264") == 0 ? TSR_SDP_CODEC_H264
                                                                    : TSR_SDP_CODEC_VP8;
        else if (strcmp(n, "extmap") == 0 && tsr_sdp_parse_extmap(v, &e) == 0 &&
                 strcmp(e.uri, URI_MID) == 0)
            line->ext_mid_id = e.id;
    }
}

/* The added line: the template's codec, feedback, extensions, ICE/DTLS and
 * candidates, with its own mid, sendonly, our msid and SSRC. */
static int add_send_line(struct tsr_sdp *o, const struct tsr_sdp_media *t,
                         const struct tsr_sdp_send_offer_params *pp, struct tsr_sdp_send_line *line)
{
    struct tsr_sdp_media *out = copy_media_line(o, t, 9);
    if (!out)
        return -ENOMEM;
    const char *kind = line->kind == TSR_SDP_MEDIA_KIND_AUDIO ? "audio" : "video";
    int rc = 0;
    for (size_t i = 0; i < t->n_attrs && rc == 0; i++) {
        const char *n = t->attrs[i].name, *v = t->attrs[i].value;
        if (strcmp(n, "ssrc") == 0 || strcmp(n, "ssrc-group") == 0 || strcmp(n, "msid") == 0 ||
            is_direction(n))
            continue;
        if (strcmp(n, "mid") == 0)
            v = line->mid;
        else if (strcmp(n, "setup") == 0)
            v = "actpass";
        rc = tsr_sdp_add_attr(o, out, n, v);
    }
    if (rc == 0)
        rc = tsr_sdp_add_attr(o, out, "sendonly", NULL);
    if (rc == 0)
        rc = tsr_sdp_add_attrf(o, out, "msid", "%s %s-%s", pp->stream_id, pp->stream_id, kind);
    if (rc == 0)
        rc = tsr_sdp_add_attrf(o, out, "ssrc", "%u cname:%s", line->ssrc, pp->cname);
    if (rc == 0)
        rc = tsr_sdp_add_attrf(o, out, "ssrc", "%u msid:%s %s-%s", line->ssrc, pp->stream_id,
                               pp->stream_id, kind);
    describe_line(t, line);
    return rc;
}

static int build(const struct tsr_sdp *local, const struct plan *pl,
                 const struct tsr_sdp_send_offer_params *pp, struct tsr_sdp_send_offer *so)
{
    char *origin = next_origin(local->origin);
    if (!origin)
        return TSR_ERR_INVALID;
    struct tsr_sdp *o = NULL;
    int rc = tsr_sdp_new(&o, origin, local->session_name);
    g_free(origin);
    if (rc)
        return rc;
    GString *group = g_string_new("BUNDLE");
    for (size_t i = 0; i < local->n_media; i++)
        if (local->media[i].port != 0 && *media_mid(&local->media[i]))
            g_string_append_printf(group, " %s", media_mid(&local->media[i]));
    for (size_t k = 0; k < pl->n_new; k++) {
        struct tsr_sdp_send_line *line = &so->lines[k];
        line->kind = pl->new_kinds[k];
        line->index = local->n_media + k;
        line->ssrc = line->kind == TSR_SDP_MEDIA_KIND_AUDIO ? pp->audio_ssrc : pp->video_ssrc;
        g_snprintf(line->mid, sizeof line->mid, "%zu", line->index);
        if (mid_used(local, line->mid))
            g_snprintf(line->mid, sizeof line->mid, "tsr%zu", line->index);
        g_string_append_printf(group, " %s", line->mid);
    }
    rc = tsr_sdp_add_attr(o, NULL, "group", group->str);
    g_string_free(group, TRUE);
    for (size_t i = 0; i < local->n_attrs && rc == 0; i++)
        if (strcmp(local->attrs[i].name, "group") != 0)
            rc = tsr_sdp_add_attr(o, NULL, local->attrs[i].name, local->attrs[i].value);
    for (size_t i = 0; i < local->n_media && rc == 0; i++)
        rc = copy_existing(o, &local->media[i]);
    for (size_t k = 0; k < pl->n_new && rc == 0; k++)
        rc = add_send_line(o, &local->media[pl->template_index[pl->new_kinds[k]]], pp,
                           &so->lines[k]);
    if (rc == 0)
        rc = tsr_sdp_write(o, &so->sdp);
    tsr_sdp_free(&o);
    so->n_lines = pl->n_new;
    so->n_mlines = local->n_media + pl->n_new;
    return rc;
}

int tsr_sdp_send_offer_new(struct tsr_sdp_send_offer **out, const char *local, size_t len,
                           const struct tsr_sdp_send_offer_params *params,
                           char reason[TSR_SDP_REASON_MAX])
{
    if (!out || !local || !params || !params->audio_ssrc || !params->video_ssrc || !params->cname ||
        !*params->cname || !params->stream_id || !*params->stream_id)
        return -EINVAL;
    struct tsr_sdp *parsed = NULL;
    const char *why = NULL;
    int rc = tsr_sdp_parse(local, len, &parsed, &why);
    if (rc)
        return fail(reason, rc == -ENOMEM ? rc : TSR_ERR_INVALID, why ? why : "malformed SDP");
    struct plan pl;
    make_plan(parsed, &pl);
    struct tsr_sdp_send_offer *so = NULL;
    if (pl.n_new == 0) {
        rc = fail(reason, TSR_ERR_NOT_FOUND, "every accepted m-line already carries our media");
    } else if (parsed->n_media + pl.n_new > TSR_SDP_MAX_MEDIA) {
        rc = fail(reason, TSR_ERR_FULL, "no room for more m-lines");
    } else {
        so = g_new0(struct tsr_sdp_send_offer, 1);
        rc = build(parsed, &pl, params, so);
        if (rc == TSR_ERR_INVALID)
            fail(reason, rc, "the local description's o= line cannot be versioned");
    }
    tsr_sdp_free(&parsed);
    if (rc) {
        tsr_sdp_send_offer_free(&so);
        return rc;
    }
    *out = so;
    return 0;
}

static unsigned answer_feedback(const struct tsr_sdp_media *m, int pt)
{
    unsigned fb = 0;
    for (size_t i = 0; i < m->n_attrs; i++) {
        struct tsr_sdp_rtcp_fb f;
        if (strcmp(m->attrs[i].name, "rtcp-fb") != 0 ||
            tsr_sdp_parse_rtcp_fb(m->attrs[i].value, &f) != 0 || (f.pt != -1 && f.pt != pt))
            continue;
        if (strcmp(f.type, "nack") == 0)
            fb |= f.subtype[0] ? (strcmp(f.subtype, "pli") == 0 ? TSR_SDP_FB_PLI : 0)
                               : TSR_SDP_FB_NACK;
        else if (strcmp(f.type, "ccm") == 0 && strcmp(f.subtype, "fir") == 0)
            fb |= TSR_SDP_FB_FIR;
        else if (strcmp(f.type, "goog-remb") == 0)
            fb |= TSR_SDP_FB_REMB;
    }
    return fb;
}

/* One added line of the answer; returns a static reason or NULL when fine. */
static const char *check_answer_line(const struct tsr_sdp *a, const struct tsr_sdp_send_line *want,
                                     struct tsr_sdp_send_line *got)
{
    const struct tsr_sdp_media *m = &a->media[want->index];
    if (kind_of(m) != want->kind || strcmp(media_mid(m), want->mid) != 0)
        return "the answer's m-lines do not match the offer (kind or mid)";
    if (!is_live(m) || strcmp(direction(m), "recvonly") != 0)
        return "the answer rejected an added m-line or is not recvonly on it";
    char pt[8];
    g_snprintf(pt, sizeof pt, "%d", want->pt);
    if (!has_format(m, pt)) /* the answerer may list more, in its own order */
        return "the answer chose a payload type that was not offered";
    const char *setup = tsr_sdp_media_attr(a, m, "setup");
    if (setup && strcmp(setup, "active") != 0)
        return "the answer changes the DTLS role (setup must stay active)";
    *got = *want;
    got->ext_mid_id = 0;
    for (size_t i = 0; i < m->n_attrs; i++) {
        struct tsr_sdp_extmap e;
        if (strcmp(m->attrs[i].name, "extmap") == 0 &&
            tsr_sdp_parse_extmap(m->attrs[i].value, &e) == 0 && strcmp(e.uri, URI_MID) == 0 &&
            e.id <= 14)
            got->ext_mid_id = e.id;
    }
    got->fb = answer_feedback(m, want->pt);
    char red[8];
    g_snprintf(red, sizeof red, "%d", want->red_pt);
    if (want->red_pt >= 0 && !has_format(m, red))
        got->red_pt = -1; /* the answerer does not take RED: plain Opus */
    return NULL;
}

int tsr_sdp_send_offer_apply_answer(const struct tsr_sdp_send_offer *offer, const char *answer,
                                    size_t len, struct tsr_sdp_send_line lines[2], size_t *n_lines,
                                    char reason[TSR_SDP_REASON_MAX])
{
    if (!offer || !answer || !lines || !n_lines)
        return -EINVAL;
    struct tsr_sdp *a = NULL;
    const char *why = NULL;
    int rc = tsr_sdp_parse(answer, len, &a, &why);
    if (rc)
        return fail(reason, rc == -ENOMEM ? rc : TSR_ERR_INVALID, why ? why : "malformed SDP");
    struct tsr_sdp_send_line got[2];
    if (a->n_media != offer->n_mlines)
        why = "the answer has a different number of m-lines than the offer";
    for (size_t k = 0; k < offer->n_lines && !why; k++)
        why = check_answer_line(a, &offer->lines[k], &got[k]);
    tsr_sdp_free(&a);
    if (why)
        return fail(reason, TSR_ERR_INVALID, why);
    memcpy(lines, got, sizeof got[0] * offer->n_lines);
    *n_lines = offer->n_lines;
    return 0;
}

/* --- re-offers on the running session ------------------------------------------ */

/* ICE ufrag/pwd and fingerprint of the first bundled line: what identifies the
 * transport. */
static bool same_transport(const struct tsr_sdp *a, const struct tsr_sdp *b)
{
    static const char *const keys[] = {"ice-ufrag", "ice-pwd", "fingerprint"};
    if (a->n_media == 0 || b->n_media == 0)
        return false;
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        const char *va = tsr_sdp_media_attr(a, &a->media[0], keys[i]);
        const char *vb = tsr_sdp_media_attr(b, &b->media[0], keys[i]);
        if (!va || !vb || g_ascii_strcasecmp(va, vb) != 0)
            return false;
    }
    return true;
}

/* Our direction: what we did on the line, limited by what the re-offer allows. */
static const char *answer_direction(const char *ours, const char *theirs)
{
    bool we_send = strcmp(ours, "sendrecv") == 0 || strcmp(ours, "sendonly") == 0;
    bool we_recv = strcmp(ours, "sendrecv") == 0 || strcmp(ours, "recvonly") == 0;
    bool they_send = strcmp(theirs, "sendrecv") == 0 || strcmp(theirs, "sendonly") == 0;
    bool they_recv = strcmp(theirs, "sendrecv") == 0 || strcmp(theirs, "recvonly") == 0;
    bool send = we_send && they_recv, recv = we_recv && they_send;
    return send && recv ? "sendrecv" : send ? "sendonly" : recv ? "recvonly" : "inactive";
}

static int answer_line(struct tsr_sdp *ans, const struct tsr_sdp_media *ours,
                       const struct tsr_sdp_media *theirs)
{
    struct tsr_sdp_media *out = copy_media_line(ans, ours, ours->port);
    if (!out)
        return -ENOMEM;
    const char *dir = ours->port ? answer_direction(direction(ours), direction(theirs)) : NULL;
    bool sends = dir && (strcmp(dir, "sendrecv") == 0 || strcmp(dir, "sendonly") == 0);
    int rc = 0;
    for (size_t i = 0; i < ours->n_attrs && rc == 0; i++) {
        const char *n = ours->attrs[i].name, *v = ours->attrs[i].value;
        if (!sends &&
            (strcmp(n, "ssrc") == 0 || strcmp(n, "ssrc-group") == 0 || strcmp(n, "msid") == 0))
            continue;
        if (is_direction(n)) {
            if (!dir)
                continue;
            n = dir;
            v = NULL;
        } else if (strcmp(n, "setup") == 0 && v && strcmp(v, "actpass") == 0) {
            v = "passive"; /* our offer was answered active: we stay the DTLS server */
        }
        rc = tsr_sdp_add_attr(ans, out, n, v);
    }
    return rc;
}

/* Checks the re-offer line by line against our lines; a static reason or NULL. */
static const char *check_reoffer(const struct tsr_sdp *local, const struct tsr_sdp *offer)
{
    if (offer->n_media < local->n_media)
        return "the re-offer drops m-lines of the running session";
    for (size_t i = 0; i < local->n_media; i++) {
        const struct tsr_sdp_media *l = &local->media[i], *o = &offer->media[i];
        if (strcmp(l->kind, o->kind) != 0 || strcmp(media_mid(l), media_mid(o)) != 0)
            return "the re-offer changes the kind or mid of an existing m-line";
        bool all_formats = true;
        for (size_t k = 0; k < l->n_fmts && all_formats; k++)
            all_formats = has_format(o, l->fmts[k]);
        if (l->port != 0 && (!is_live(o) || !all_formats))
            return "the re-offer drops a running m-line or its payload type";
    }
    return NULL;
}

/* ICE credentials, fingerprint and DTLS role of `from` onto a rejected line, so a
 * strict parser (webrtcbin) finds them in every section; actpass becomes passive. */
static int copy_transport(struct tsr_sdp *ans, struct tsr_sdp_media *out,
                          const struct tsr_sdp_media *from)
{
    static const char *const keys[] = {"ice-ufrag", "ice-pwd", "fingerprint", "setup"};
    int rc = 0;
    for (size_t k = 0; k < G_N_ELEMENTS(keys) && rc == 0; k++) {
        const char *v = tsr_sdp_attr_find(from->attrs, from->n_attrs, keys[k]);
        if (v && strcmp(keys[k], "setup") == 0 && strcmp(v, "actpass") == 0)
            v = "passive";
        if (v)
            rc = tsr_sdp_add_attr(ans, out, keys[k], v);
    }
    return rc;
}

static int build_reanswer(const struct tsr_sdp *local, const struct tsr_sdp *offer, char **answer)
{
    char *origin = next_origin(local->origin);
    if (!origin)
        return TSR_ERR_INVALID;
    struct tsr_sdp *ans = NULL;
    int rc = tsr_sdp_new(&ans, origin, local->session_name);
    g_free(origin);
    for (size_t i = 0; i < local->n_attrs && rc == 0; i++)
        rc = tsr_sdp_add_attr(ans, NULL, local->attrs[i].name, local->attrs[i].value);
    for (size_t i = 0; i < local->n_media && rc == 0; i++)
        rc = answer_line(ans, &local->media[i], &offer->media[i]);
    for (size_t i = local->n_media; i < offer->n_media && rc == 0; i++) {
        const struct tsr_sdp_media *o = &offer->media[i]; /* appended: rejected */
        struct tsr_sdp_media *out = NULL;
        const char *fmts[] = {o->fmts[0]};
        rc = tsr_sdp_add_media(ans, o->kind, 0, o->proto, fmts, 1, &out);
        if (rc == 0)
            rc = tsr_sdp_set_connection(out, "IN IP4 0.0.0.0");
        if (rc == 0 && *media_mid(o))
            rc = tsr_sdp_add_attr(ans, out, "mid", media_mid(o));
        if (rc == 0 && local->n_media)
            rc = copy_transport(ans, out, &local->media[0]);
    }
    if (rc == 0)
        rc = tsr_sdp_write(ans, answer);
    tsr_sdp_free(&ans);
    return rc;
}

int tsr_sdp_answer_reoffer(const char *local, const char *prev_remote, const char *offer,
                           size_t len, char **answer, char reason[TSR_SDP_REASON_MAX])
{
    if (!local || !prev_remote || !offer || !answer)
        return -EINVAL;
    struct tsr_sdp *l = NULL, *prev = NULL, *o = NULL;
    const char *why = NULL;
    int rc = tsr_sdp_parse(offer, len, &o, &why);
    if (rc) {
        rc = fail(reason, rc == -ENOMEM ? rc : TSR_ERR_INVALID, why ? why : "malformed SDP");
        goto out;
    }
    if (tsr_sdp_parse(local, strlen(local), &l, NULL) != 0 ||
        tsr_sdp_parse(prev_remote, strlen(prev_remote), &prev, NULL) != 0) {
        rc = fail(reason, TSR_ERR_INVALID, "the running session's descriptions do not parse");
        goto out;
    }
    if (!same_transport(prev, o))
        why = "the re-offer restarts ICE or changes the DTLS fingerprint";
    else
        why = check_reoffer(l, o);
    if (why)
        rc = fail(reason, TSR_ERR_UNSUPPORTED, why);
    else if ((rc = build_reanswer(l, o, answer)) == TSR_ERR_INVALID)
        fail(reason, rc, "the local description's o= line cannot be versioned");
out:
    tsr_sdp_free(&o);
    tsr_sdp_free(&l);
    tsr_sdp_free(&prev);
    return rc;
}
