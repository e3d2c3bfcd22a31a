/* Routes the logs of the libraries we embed into TSR_LOG, so an operator sees one
 * stream with one format and one level switch. */
#include <tessera/log.h>

#include <glib.h>
#include <gnutls/gnutls.h>
#include <libavutil/log.h>
#include <nice/debug.h>
#include <stdio.h>
#include <string.h>

/* FFmpeg prints lines in fragments; collect them per thread until the newline. */
static _Thread_local char av_line[1024];
static _Thread_local size_t av_line_len;

static enum tsr_log_level av_to_tsr(int av_level)
{
    if (av_level <= AV_LOG_ERROR)
        return TSR_LOG_ERROR;
    if (av_level <= AV_LOG_WARNING)
        return TSR_LOG_WARN;
    /* FFmpeg's INFO is per-open chatter (x264 banner, stream summaries); at INFO it
     * would repeat for every encoder the mixer opens, so it becomes DEBUG. */
    if (av_level <= AV_LOG_VERBOSE)
        return TSR_LOG_DEBUG;
    return TSR_LOG_TRACE;
}

static void av_log_to_tsr(void *avcl, int level, const char *fmt, va_list vl)
{
    enum tsr_log_level lv = av_to_tsr(level);
    if ((int)lv > atomic_load_explicit(&tsr_log_threshold, memory_order_relaxed))
        return;
    if (av_line_len < sizeof av_line - 1) {
        int n = vsnprintf(av_line + av_line_len, sizeof av_line - av_line_len, fmt, vl);
        if (n > 0)
            av_line_len += (size_t)n < sizeof av_line - av_line_len
                               ? (size_t)n
                               : sizeof av_line - av_line_len - 1;
    }
    if (av_line_len == 0 || av_line[av_line_len - 1] != '\n')
        return;
    char ctx[64] = "ffmpeg";
    AVClass *cls = avcl ? *(AVClass **)avcl : NULL;
    if (cls && cls->item_name)
        snprintf(ctx, sizeof ctx, "ffmpeg/%s", cls->item_name(avcl));
    tsr_log_write(lv, ctx, "%s", av_line);
    av_line_len = 0;
    av_line[0] = '\0';
}

static GLogWriterOutput glib_to_tsr(GLogLevelFlags flags, const GLogField *fields, gsize n_fields,
                                    gpointer user)
{
    (void)user;
    const char *domain = NULL;
    const char *message = NULL;
    for (gsize i = 0; i < n_fields; i++) {
        if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0 && fields[i].length < 0)
            domain = fields[i].value;
        else if (strcmp(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
            message = fields[i].value;
    }
    enum tsr_log_level lv = TSR_LOG_DEBUG;
    if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        lv = TSR_LOG_ERROR;
    else if (flags & G_LOG_LEVEL_WARNING)
        lv = TSR_LOG_WARN;
    else if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        lv = TSR_LOG_INFO;
    char ctx[64];
    snprintf(ctx, sizeof ctx, "%s", domain ? domain : "glib");
    TSR_LOG(lv, ctx, "%s", message ? message : "(no message)");
    return G_LOG_WRITER_HANDLED;
}

static void gnutls_to_tsr(int level, const char *msg)
{
    TSR_LOG(level <= 2 ? TSR_LOG_DEBUG : TSR_LOG_TRACE, "gnutls", "%s", msg);
}

/* GnuTLS's audit channel mostly reports DTLS retransmissions it discarded
 * ("replayed handshake packet"), which are normal on lossy or slow links; real
 * failures reach us as error codes. Debug, so they do not read as warnings. */
static void gnutls_audit_to_tsr(gnutls_session_t session, const char *msg)
{
    (void)session;
    TSR_LOG(TSR_LOG_DEBUG, "gnutls", "%s", msg);
}

void tsr_log_bridge_install(void)
{
    static gsize once;
    if (!g_once_init_enter(&once))
        return;
    enum tsr_log_level lv = tsr_log_get_level();
    av_log_set_callback(av_log_to_tsr);
    av_log_set_level(lv >= TSR_LOG_TRACE ? AV_LOG_DEBUG : AV_LOG_VERBOSE);
    g_log_set_writer_func(glib_to_tsr, NULL, NULL);
    gnutls_global_set_log_function(gnutls_to_tsr);
    gnutls_global_set_audit_log_function(gnutls_audit_to_tsr);
    gnutls_global_set_log_level(lv >= TSR_LOG_TRACE ? 4 : lv >= TSR_LOG_DEBUG ? 2 : 0);
    /* libnice only produces its (very verbose) debug output when asked to. */
    if (lv >= TSR_LOG_TRACE)
        nice_debug_enable(TRUE);
    else
        nice_debug_disable(TRUE);
    g_once_init_leave(&once, 1);
}
