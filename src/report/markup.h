/* markup.h - text that SVG and HTML files can carry safely, and numbers written the same
 * way whatever the caller's locale. Shared by timelines, charts and HTML reports. */
#ifndef VG_MARKUP_H
#define VG_MARKUP_H

#include <locale.h>
#include <stdio.h>

/* Writes s as XML (and HTML) character data, at most max_chars characters (the last one
 * then an ellipsis): markup characters escaped, control characters as spaces, bytes that
 * are not UTF-8 as U+FFFD, so any caller's string makes a well-formed file. */
void vg_xml_text(FILE *f, const char *s, int max_chars);

/* Characters (code points) in s, counting each byte that is not UTF-8 as one. */
int vg_text_chars(const char *s);

/* While a report is written, this thread formats numbers in the C locale: a ',' decimal
 * point from the caller's locale would break every coordinate. The caller's and other
 * threads' locales stay as they are. */
typedef struct vg_c_numeric {
    locale_t c, caller;
} vg_c_numeric;

/* Enters the C numeric locale: 0, or -1 when it cannot be made (out of memory). */
int vg_c_numeric_enter(vg_c_numeric *s);
void vg_c_numeric_leave(vg_c_numeric *s);

#endif
