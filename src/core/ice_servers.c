/* [webrtc] turn_servers parsing; see include/core/tessera/ice_servers.h. */
#include <tessera/ice_servers.h>

#include <tessera/err.h>

#include <glib.h>
#include <string.h>

void tsr_ice_servers_free(struct tsr_ice_server *servers, size_t n)
{
    for (size_t i = 0; servers && i < n; i++) {
        g_free(servers[i].url);
        g_free(servers[i].username);
        g_free(servers[i].credential);
    }
    g_free(servers);
}

/* One entry's fields into *s; a static reason or NULL. */
static const char *parse_entry(const char *entry, struct tsr_ice_server *s)
{
    gchar **f = g_strsplit_set(entry, " \t", -1);
    const char *fields[4] = {0};
    size_t n = 0;
    const char *why = NULL;
    for (size_t i = 0; f[i] && !why; i++) {
        if (!*f[i])
            continue;
        if (n == 3)
            why = "too many fields (want URL [USERNAME CREDENTIAL])";
        else
            fields[n++] = f[i];
    }
    bool turn = fields[0] && (g_str_has_prefix(fields[0], "turn:") ||
                              g_str_has_prefix(fields[0], "turns:"));
    bool stun = fields[0] && (g_str_has_prefix(fields[0], "stun:") ||
                              g_str_has_prefix(fields[0], "stuns:"));
    if (!why && !turn && !stun)
        why = "the URL must start with stun:, stuns:, turn: or turns:";
    else if (!why && strlen(strchr(fields[0], ':') + 1) == 0)
        why = "the URL has no host";
    else if (!why && turn && n != 3)
        why = "a TURN server needs a username and a credential";
    else if (!why && stun && n != 1)
        why = "a STUN server takes no username or credential";
    if (!why) {
        s->url = g_strdup(fields[0]);
        s->username = turn ? g_strdup(fields[1]) : NULL;
        s->credential = turn ? g_strdup(fields[2]) : NULL;
        s->turn = turn;
    }
    g_strfreev(f);
    return why;
}

int tsr_ice_servers_parse(const char *text, struct tsr_ice_server **out, size_t *n_out,
                          char **err)
{
    gchar **entries = g_strsplit(text ? text : "", ",", -1);
    GArray *arr = g_array_new(FALSE, TRUE, sizeof(struct tsr_ice_server));
    int rc = 0;
    for (size_t i = 0; entries[i] && rc == 0; i++) {
        char *e = g_strstrip(entries[i]);
        if (!*e)
            continue;
        struct tsr_ice_server s = {0};
        const char *why = parse_entry(e, &s);
        if (why) {
            rc = TSR_ERR_CONFIG;
            if (err)
                *err = g_strdup_printf("turn_servers entry \"%s\": %s", e, why);
        } else {
            g_array_append_val(arr, s);
        }
    }
    g_strfreev(entries);
    size_t n = arr->len;
    struct tsr_ice_server *list = (struct tsr_ice_server *)g_array_free(arr, FALSE);
    if (rc != 0) {
        tsr_ice_servers_free(list, n);
        return rc;
    }
    if (n == 0) {
        g_free(list);
        list = NULL;
    }
    *out = list;
    *n_out = n;
    return 0;
}
