/* Configuration parsing and validation against the schema in config_schema.c. */
#include <tessera/config.h>
#include <tessera/err.h>

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct tsr_config_key *schema_find(const char *section, const char *key)
{
    for (const struct tsr_config_key *k = tsr_config_schema(); k->key; k++) {
        if (strcmp(k->section, section) == 0 && strcmp(k->key, key) == 0)
            return k;
    }
    return NULL;
}

static gboolean section_known(const char *section)
{
    for (const struct tsr_config_key *k = tsr_config_schema(); k->key; k++) {
        if (strcmp(k->section, section) == 0)
            return TRUE;
    }
    return FALSE;
}

/* "server, log, media": each section once, in schema order. */
static char *allowed_sections(void)
{
    GString *s = g_string_new(NULL);
    for (const struct tsr_config_key *k = tsr_config_schema(); k->key; k++) {
        gboolean seen = FALSE;
        for (const struct tsr_config_key *p = tsr_config_schema(); p != k; p++)
            seen |= strcmp(p->section, k->section) == 0;
        if (!seen)
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", k->section);
    }
    return g_string_free(s, FALSE);
}

static char *allowed_keys(const char *section)
{
    GString *s = g_string_new(NULL);
    for (const struct tsr_config_key *k = tsr_config_schema(); k->key; k++) {
        if (strcmp(k->section, section) == 0)
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", k->key);
    }
    return g_string_free(s, FALSE);
}

static gboolean enum_allows(const char *allowed, const char *value)
{
    gchar **opts = g_strsplit(allowed, "|", -1);
    gboolean ok = g_strv_contains((const gchar *const *)opts, value);
    g_strfreev(opts);
    return ok;
}

static gboolean parse_int(const char *value, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(value, &end, 10);
    if (errno || end == value || *end != '\0')
        return FALSE;
    *out = v;
    return TRUE;
}

static gboolean parse_bool(const char *value, bool *out)
{
    if (!g_ascii_strcasecmp(value, "true") || !g_ascii_strcasecmp(value, "yes") ||
        !strcmp(value, "1") || !g_ascii_strcasecmp(value, "on"))
        *out = true;
    else if (!g_ascii_strcasecmp(value, "false") || !g_ascii_strcasecmp(value, "no") ||
             !strcmp(value, "0") || !g_ascii_strcasecmp(value, "off"))
        *out = false;
    else
        return FALSE;
    return TRUE;
}

/* Accepts HOST:PORT and [V6]:PORT; HOST non-empty, PORT 1..65535. */
static gboolean parse_hostport(const char *value, char *host, size_t host_size, uint16_t *port)
{
    const char *colon = strrchr(value, ':');
    if (!colon || colon == value)
        return FALSE;
    const char *h = value;
    size_t hlen = (size_t)(colon - value);
    if (h[0] == '[') {
        if (hlen < 3 || h[hlen - 1] != ']')
            return FALSE;
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen)) {
        return FALSE; /* bare IPv6 must be bracketed */
    }
    int64_t p = 0;
    if (!parse_int(colon + 1, &p) || p < 1 || p > 65535 || hlen + 1 > host_size)
        return FALSE;
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    *port = (uint16_t)p;
    return TRUE;
}

/* Validates `value` for row `k` and stores it in *cfg. `where` prefixes messages. */
static int store_value(struct tsr_config *cfg, const struct tsr_config_key *k, const char *value,
                       const char *where, char **err)
{
    char *field = (char *)cfg + k->offset;
    char host[TSR_CONFIG_STR_MAX];
    uint16_t port;
    int64_t iv;
    switch (k->type) {
    case TSR_CONFIG_ENUM:
        if (!enum_allows(k->allowed, value)) {
            *err = g_strdup_printf("%s: [%s] %s: '%s' is not allowed; allowed values: %s", where,
                                   k->section, k->key, value, k->allowed);
            return TSR_ERR_CONFIG;
        }
        break;
    case TSR_CONFIG_HOSTPORT:
        if (!parse_hostport(value, host, sizeof host, &port)) {
            *err = g_strdup_printf("%s: [%s] %s: expected ADDR:PORT with port 1..65535, got '%s'",
                                   where, k->section, k->key, value);
            return TSR_ERR_CONFIG;
        }
        break;
    case TSR_CONFIG_INT:
        if (!parse_int(value, &iv)) {
            *err = g_strdup_printf("%s: [%s] %s: expected an integer in %" G_GINT64_FORMAT
                                   "..%" G_GINT64_FORMAT ", got '%s'",
                                   where, k->section, k->key, k->min, k->max, value);
            return TSR_ERR_CONFIG;
        }
        if (iv < k->min || iv > k->max) {
            *err = g_strdup_printf("%s: [%s] %s: %" G_GINT64_FORMAT
                                   " is out of range; allowed %" G_GINT64_FORMAT
                                   "..%" G_GINT64_FORMAT,
                                   where, k->section, k->key, iv, k->min, k->max);
            return TSR_ERR_CONFIG;
        }
        *(int64_t *)field = iv;
        return 0;
    case TSR_CONFIG_BOOL:
        if (!parse_bool(value, (bool *)field)) {
            *err = g_strdup_printf("%s: [%s] %s: expected true or false, got '%s'", where,
                                   k->section, k->key, value);
            return TSR_ERR_CONFIG;
        }
        return 0;
    case TSR_CONFIG_STRING:
        break;
    }
    if (strlen(value) + 1 > k->size) {
        *err = g_strdup_printf("%s: [%s] %s: value is longer than %zu bytes", where, k->section,
                               k->key, k->size - 1);
        return TSR_ERR_CONFIG;
    }
    g_strlcpy(field, value, k->size);
    return 0;
}

int tsr_config_defaults(struct tsr_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (const struct tsr_config_key *k = tsr_config_schema(); k->key; k++) {
        char *err = NULL;
        if (store_value(cfg, k, k->def, "built-in default", &err) != 0) {
            /* A bad default is a programming error caught by the unit tests. */
            g_error("%s", err);
        }
    }
    return 0;
}

/* Strips surrounding whitespace and one pair of double quotes; drops an
 * unquoted trailing " # comment". Modifies `s` in place. */
static char *clean_value(char *s)
{
    s = g_strstrip(s);
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        return s + 1;
    }
    char *hash = strstr(s, " #");
    if (hash)
        *hash = '\0';
    return g_strstrip(s);
}

static int parse_line(struct tsr_config *cfg, char *line, char *section, size_t section_size,
                      const char *where, char **err)
{
    char *s = g_strstrip(line);
    if (*s == '\0' || *s == '#' || *s == ';')
        return 0;
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (!close || close[1] != '\0') {
            *err = g_strdup_printf("%s: malformed section header '%s'; expected [name]", where, s);
            return TSR_ERR_CONFIG;
        }
        *close = '\0';
        char *name = g_strstrip(s + 1);
        if (!section_known(name)) {
            char *allowed = allowed_sections();
            *err = g_strdup_printf("%s: unknown section [%s]; allowed sections: %s", where, name,
                                   allowed);
            g_free(allowed);
            return TSR_ERR_CONFIG;
        }
        g_strlcpy(section, name, section_size);
        return 0;
    }
    char *eq = strchr(s, '=');
    if (!eq) {
        *err = g_strdup_printf("%s: expected 'key = value' or '[section]', got '%s'", where, s);
        return TSR_ERR_CONFIG;
    }
    *eq = '\0';
    char *key = g_strstrip(s);
    char *value = clean_value(eq + 1);
    if (*section == '\0') {
        *err = g_strdup_printf("%s: key '%s' appears before any [section]", where, key);
        return TSR_ERR_CONFIG;
    }
    const struct tsr_config_key *k = schema_find(section, key);
    if (!k) {
        char *allowed = allowed_keys(section);
        *err = g_strdup_printf("%s: unknown key '%s' in [%s]; allowed keys: %s", where, key,
                               section, allowed);
        g_free(allowed);
        return TSR_ERR_CONFIG;
    }
    return store_value(cfg, k, value, where, err);
}

int tsr_config_apply_text(struct tsr_config *cfg, const char *text, size_t len, const char *name,
                          char **err)
{
    struct tsr_config work = *cfg; /* all-or-nothing */
    char section[64] = "";
    char *copy = g_strndup(text, len);
    gchar **lines = g_strsplit(copy, "\n", -1);
    int rc = 0;
    if (memchr(text, '\0', len)) {
        *err = g_strdup_printf("%s: contains a NUL byte; expected a text file", name);
        rc = TSR_ERR_CONFIG;
        goto out;
    }
    for (int i = 0; lines[i]; i++) {
        char where[512];
        snprintf(where, sizeof where, "%s:%d", name, i + 1);
        rc = parse_line(&work, lines[i], section, sizeof section, where, err);
        if (rc)
            goto out;
    }
    *cfg = work;
out:
    g_strfreev(lines);
    g_free(copy);
    return rc;
}

int tsr_config_apply_file(struct tsr_config *cfg, const char *path, char **err)
{
    gchar *text = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, &len, &gerr)) {
        *err = g_strdup_printf("%s: cannot read the file: %s", path,
                               g_strerror(gerr->code == G_FILE_ERROR_NOENT ? ENOENT
                                          : gerr->code == G_FILE_ERROR_ACCES ? EACCES
                                          : gerr->code == G_FILE_ERROR_ISDIR ? EISDIR
                                                                             : EIO));
        g_error_free(gerr);
        return TSR_ERR_CONFIG;
    }
    int rc = tsr_config_apply_text(cfg, text, len, path, err);
    g_free(text);
    return rc;
}

int tsr_config_set(struct tsr_config *cfg, const char *section, const char *key, const char *value,
                   const char *origin, char **err)
{
    const struct tsr_config_key *k = schema_find(section, key);
    if (!k) {
        *err = g_strdup_printf("%s: no configuration key [%s] %s", origin, section, key);
        return TSR_ERR_CONFIG;
    }
    struct tsr_config work = *cfg;
    int rc = store_value(&work, k, value, origin, err);
    if (rc == 0)
        *cfg = work;
    return rc;
}

char *tsr_config_render_defaults(void)
{
    GString *s = g_string_new("# Tessera configuration: every key with its default and why.\n");
    const char *section = "";
    for (const struct tsr_config_key *k = tsr_config_schema(); k->key; k++) {
        if (strcmp(section, k->section) != 0) {
            g_string_append_printf(s, "\n[%s]\n", k->section);
            section = k->section;
        }
        g_string_append_printf(s, "# %s", k->why);
        if (k->type == TSR_CONFIG_ENUM)
            g_string_append_printf(s, " (%s)", k->allowed);
        else if (k->type == TSR_CONFIG_INT)
            g_string_append_printf(s, " (%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT ")", k->min,
                                   k->max);
        g_string_append_printf(s, "\n%s = %s\n", k->key, k->def);
    }
    return g_string_free(s, FALSE);
}

int tsr_config_listen_split(const struct tsr_config *cfg, char *host, size_t host_size,
                            uint16_t *port)
{
    return parse_hostport(cfg->listen, host, host_size, port) ? 0 : TSR_ERR_INVALID;
}
