/* intervals.c - the intervals form of labels, for footage labelled by hand:
 *
 *     # clip  first  last     (frames, 0-based, inclusive)
 *     01      60     179
 *     02      94     179      # a comment may end a line
 *
 * One anomalous span per line: the clip's name (its folder or file name without
 * extension), the first and the last anomalous frame. Fields are separated by spaces or
 * tabs; '#' starts a comment; blank lines are ignored; spans may overlap and come in any
 * order. Frames in no span are normal, and a clip with no span is all normal, so the file
 * cannot know a clip's length: a span past the end is refused when the clip's labels are
 * taken for its frame count (labels.c vg_labels_get). Every error names the file and line. */
#include "eval/labels.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct field {
    const char *s;
    int len;
} field;

/* The fields of line [p, end) before any '#', up to 4 kept (a 4th means too many); returns
 * how many there are. */
static int split(const char *p, const char *end, field f[4]) {
    int n = 0;
    while (p < end && *p != '#') {
        if (*p == ' ' || *p == '\t' || *p == '\r') {
            p++;
            continue;
        }
        const char *s = p;
        while (p < end && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#') p++;
        if (n < 4) f[n] = (field){s, (int)(p - s)};
        n++;
    }
    return n;
}

/* A frame number: decimal digits, at most INT_MAX - 1; -1 when f is none. */
static int frame_number(field f) {
    long long v = 0;
    for (int i = 0; i < f.len; i++) {
        if (f.s[i] < '0' || f.s[i] > '9' || v > INT_MAX / 10) return -1;
        v = v * 10 + (f.s[i] - '0');
    }
    return f.len > 0 && v < INT_MAX ? (int)v : -1;
}

/* The first byte of [p, end) that no text line holds (a control character), or 0. */
static int control_char(const char *p, const char *end) {
    for (; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) return c ? c : 0x100;
    }
    return 0;
}

static int add_span(vg_labels *l, field name, vg_span s, vg_error *err) {
    char key[256];
    if (name.len >= (int)sizeof key)
        return vg_fail(err, VG_ERR_FORMAT, "%s:%d: clip name of %d bytes is too long", l->path,
                       s.line, name.len);
    memcpy(key, name.s, (size_t)name.len);
    key[name.len] = 0;
    vg_clip_labels *c = vg_labels_find(l, key);
    if (!c) c = vg_labels_add(l, key, (size_t)name.len);
    if (c && c->n_spans == c->cap) {
        int cap = c->cap ? 2 * c->cap : 8;
        vg_span *v = realloc(c->spans, (size_t)cap * sizeof *v);
        if (v) c->spans = v, c->cap = cap;
    }
    if (!c || c->n_spans == c->cap) return vg_fail(err, VG_ERR_NOMEM, "out of memory for labels");
    c->spans[c->n_spans++] = s;
    return VG_OK;
}

static int parse_line(vg_labels *l, const char *p, const char *end, int line, vg_error *err) {
    int bad = control_char(p, end);
    if (bad)
        return vg_fail(err, VG_ERR_FORMAT, "%s:%d: byte 0x%02x: not a text line (expected "
                       "\"CLIP START END\" or JSON)", l->path, line, bad & 0xff);
    field f[4];
    int n = split(p, end, f);
    if (n == 0) return VG_OK;
    if (n != 3)
        return vg_fail(err, VG_ERR_FORMAT, "%s:%d: %d field%s, expected \"CLIP START END\" "
                       "(frames, 0-based, inclusive)", l->path, line, n, n == 1 ? "" : "s");
    vg_span s = {frame_number(f[1]), frame_number(f[2]), line};
    for (int k = 1; k <= 2; k++)
        if ((k == 1 ? s.start : s.end) < 0)
            return vg_fail(err, VG_ERR_FORMAT, "%s:%d: %s '%.*s' is not a frame number (0, "
                           "1, ...)", l->path, line, k == 1 ? "START" : "END",
                           f[k].len > 32 ? 32 : f[k].len, f[k].s);
    if (s.end < s.start)
        return vg_fail(err, VG_ERR_FORMAT, "%s:%d: span %d..%d ends before it starts", l->path,
                       line, s.start, s.end);
    return add_span(l, f[0], s, err);
}

int vg_intervals_parse(vg_labels *l, const char *text, size_t len, vg_error *err) {
    int line = 1, rc = VG_OK;
    for (const char *p = text, *end = text + len; p < end && !rc; line++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end; /* a last line without its newline */
        rc = parse_line(l, p, eol, line, err);
        p = eol + 1;
    }
    if (!rc && l->n == 0) /* each clip listed has a span */
        return vg_fail(err, VG_ERR_FORMAT, "%s: no labels: neither JSON nor any line "
                       "\"CLIP START END\"", l->path);
    return rc;
}
