/* The web client's static files. The directory is flat (index.html, app.css,
 * app.js, icon.svg), so a request names one file by a plain name, which keeps the
 * conference alias rule (tsr_conference_alias_valid: 1-64 of [A-Za-z0-9._-], no
 * leading dot): anything with a slash, a leading dot or another character is
 * refused before the file system is touched, which rules out traversal ("..",
 * "%2e", "\") without having to canonicalise paths. The files are small and read
 * per request: no cache to invalidate while the client is being edited. */
#include "native_internal.h"

#include <tessera/log.h>

#include <string.h>

static const struct {
    const char *ext;
    const char *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".webmanifest", "application/manifest+json"},
};

static const char *content_type_for(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(content_types); i++)
        if (g_str_has_suffix(name, content_types[i].ext))
            return content_types[i].type;
    return "application/octet-stream";
}

/* "/" and "/c/ALIAS" are the app; "/NAME" is a file; everything else is not ours. */
static const char *file_for_path(const char *path)
{
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0)
        return "index.html";
    if (g_str_has_prefix(path, "/c/") && tsr_conference_alias_valid(path + 3))
        return "index.html";
    if (path[0] == '/' && tsr_conference_alias_valid(path + 1))
        return path + 1;
    return NULL;
}

void tsr_web_files_handle(SoupServer *server, SoupServerMessage *msg, const char *path,
                          GHashTable *query, gpointer user)
{
    struct tsr_native_api *api = user;
    (void)server, (void)query;
    const char *method = soup_server_message_get_method(msg);
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        tsr_http_reply_error(msg, 405, "method_not_allowed", "%s is not allowed on %s", method,
                             path);
        return;
    }
    const char *name = file_for_path(path);
    char *full = name ? g_build_filename(api->web_root, name, NULL) : NULL;
    char *data = NULL;
    gsize len = 0;
    if (!full || !g_file_get_contents(full, &data, &len, NULL)) {
        g_free(full);
        tsr_http_reply_error(msg, 404, "not_found", "no resource at %s", path);
        return;
    }
    SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
    soup_message_headers_replace(h, "Cache-Control", "no-cache");
    soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
    soup_message_headers_replace(h, "Referrer-Policy", "no-referrer");
    soup_server_message_set_status(msg, 200, NULL);
    soup_server_message_set_response(msg, content_type_for(name), SOUP_MEMORY_TAKE, data, len);
    g_free(full);
}
