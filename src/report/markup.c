/* markup.c - XML-safe text and the C numeric locale (see markup.h). */
#include "report/markup.h"

/* Length of the well-formed UTF-8 sequence at s of a character XML allows, with its code
 * point in *cp; 0 when s does not start one. */
static int utf8_next(const unsigned char *s, unsigned *cp) {
    static const unsigned min_cp[5] = {0, 0, 0x80, 0x800, 0x10000}; /* overlong below */
    int n = s[0] < 0x80   ? 1
            : s[0] < 0xC0 ? 0 /* a continuation byte cannot start a character */
            : s[0] < 0xE0 ? 2
            : s[0] < 0xF0 ? 3
            : s[0] < 0xF8 ? 4
                          : 0;
    if (!n) return 0;
    unsigned c = n == 1 ? s[0] : s[0] & (0x3Fu >> (n - 1));
    for (int k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0; /* also stops at the terminating 0 */
        c = c << 6 | (s[k] & 0x3Fu);
    }
    if (c < min_cp[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE ||
        c == 0xFFFF)
        return 0;
    *cp = c;
    return n;
}

int vg_text_chars(const char *s) {
    int count = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; count++) {
        unsigned cp;
        int len = utf8_next(p, &cp);
        p += len ? len : 1;
    }
    return count;
}

void vg_xml_text(FILE *f, const char *s, int max_chars) {
    int total = vg_text_chars(s), count = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; count++) {
        if (total > max_chars && count == max_chars - 1) {
            fputs("\xE2\x80\xA6", f); /* ... */
            return;
        }
        unsigned cp = 0;
        int len = utf8_next(p, &cp);
        if (!len) fputs("\xEF\xBF\xBD", f);
        else if (cp < 0x20) fputc(' ', f);
        else if (cp == '&') fputs("&amp;", f);
        else if (cp == '<') fputs("&lt;", f);
        else if (cp == '>') fputs("&gt;", f);
        else if (cp == '"') fputs("&quot;", f);
        else if (cp == '\'') fputs("&apos;", f);
        else fwrite(p, 1, (size_t)len, f);
        p += len ? len : 1;
    }
}

int vg_c_numeric_enter(vg_c_numeric *s) {
    s->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (s->c == (locale_t)0) return -1;
    s->caller = uselocale(s->c);
    return 0;
}

void vg_c_numeric_leave(vg_c_numeric *s) {
    uselocale(s->caller);
    freelocale(s->c);
}
