/* The naming rules every way in must agree on: conference aliases and display
 * names. Fronts check them with these functions (and quote the rule texts in their
 * refusals) so that one name is never accepted by one front and refused by another.
 * Pure; thread: any. */
#include <tessera/conference.h>

#include <string.h>

bool tsr_conference_alias_valid(const char *alias)
{
    size_t n = alias ? strlen(alias) : 0;
    if (n == 0 || n > TSR_CONFERENCE_ALIAS_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!tsr_conference_alias_char(alias[i]))
            return false;
    /* A leading dot would make "/c/.x" a hidden name and ".." a path step. */
    return alias[0] != '.';
}

bool tsr_conference_alias_char(char ch)
{
    return g_ascii_isalnum(ch) || ch == '.' || ch == '_' || ch == '-';
}

/* Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069):
 * a name carrying one can make the text after it in a roster read backwards. */
static bool bidi_control(gunichar ch)
{
    return (ch >= 0x202A && ch <= 0x202E) || (ch >= 0x2066 && ch <= 0x2069);
}

bool tsr_conference_display_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > TSR_CONFERENCE_NAME_MAX || !g_utf8_validate(name, (gssize)n, NULL))
        return false;
    bool visible = false;
    for (const char *s = name; *s; s = g_utf8_next_char(s)) {
        gunichar ch = g_utf8_get_char(s);
        if (g_unichar_iscntrl(ch) || bidi_control(ch))
            return false;
        /* blanks and zero-width characters (format: ZWSP, ZWJ, BOM…) show nothing */
        visible |= !g_unichar_isspace(ch) && g_unichar_type(ch) != G_UNICODE_FORMAT;
    }
    return visible;
}
