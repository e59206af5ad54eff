/* config_read.c - a YAML document into C structs through tables of fields (see
 * config_read.h). */
#include "serve/config_read.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/config_value.h"

int vg_cfg_fail(vg_cfg_reader *r, int code, const yaml_node_t *at, const char *path,
                const char *fmt, ...) {
    char msg[sizeof r->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    unsigned long line = at ? (unsigned long)at->start_mark.line + 1 : 1;
    if (path && *path) return vg_fail(r->err, code, "%s:%lu: %s: %s", r->file, line, path, msg);
    return vg_fail(r->err, code, "%s:%lu: %s", r->file, line, msg);
}

yaml_node_t *vg_cfg_node(vg_cfg_reader *r, int index) {
    return yaml_document_get_node(r->doc, index);
}

yaml_node_item_t *vg_cfg_items(yaml_node_t *seq, int *n) {
    *n = seq->type == YAML_SEQUENCE_NODE
             ? (int)(seq->data.sequence.items.top - seq->data.sequence.items.start)
             : 0;
    return *n ? seq->data.sequence.items.start : NULL;
}

int vg_cfg_is_null(const yaml_node_t *n) {
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    for (size_t i = 0; i < sizeof nulls / sizeof *nulls; i++)
        if (!strcmp((const char *)n->data.scalar.value, nulls[i])) return 1;
    return 0;
}

int vg_cfg_expected(vg_cfg_reader *r, const yaml_node_t *n, const char *path,
                    const char *expected) {
    const char *got = n->type == YAML_SEQUENCE_NODE ? "a list"
                      : n->type == YAML_MAPPING_NODE ? "a mapping"
                      : vg_cfg_is_null(n)            ? "nothing"
                                                     : NULL;
    char q[VG_CFG_EXCERPT];
    if (got) return vg_cfg_fail(r, VG_ERR_FORMAT, n, path, "expected %s, got %s", expected, got);
    return vg_cfg_fail(r, VG_ERR_FORMAT, n, path, "expected %s, got '%s'", expected,
                       vg_cfg_excerpt(q, (const char *)n->data.scalar.value));
}

const char *vg_cfg_excerpt(char *buf, const char *s) {
    enum { KEEP = 60 };
    size_t o = 0;
    for (; *s && o < KEEP; s++) {
        unsigned char c = (unsigned char)*s;
        const char *esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : NULL;
        if (esc) buf[o++] = esc[0], buf[o++] = esc[1];
        else buf[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (*s) { /* cut: not inside a UTF-8 sequence */
        while (o && ((unsigned char)buf[o - 1] & 0xc0) == 0x80) o--;
        if (o && (unsigned char)buf[o - 1] >= 0xc0) o--;
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

const char *vg_cfg_join(char *buf, const char *path, const char *key) {
    snprintf(buf, VG_CFG_PATH_MAX, "%s%s%s", path, *path ? "." : "", key);
    return buf;
}

const char *vg_cfg_index(char *buf, const char *path, int i) {
    snprintf(buf, VG_CFG_PATH_MAX, "%s[%d]", path, i);
    return buf;
}

/* The pair of map whose key is key (the first one), or NULL. */
static yaml_node_pair_t *find_pair(vg_cfg_reader *r, yaml_node_t *map, const char *key) {
    if (map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = vg_cfg_node(r, p->key);
        if (k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
            return p;
    }
    return NULL;
}

yaml_node_t *vg_cfg_find(vg_cfg_reader *r, yaml_node_t *map, const char *key) {
    yaml_node_pair_t *p = find_pair(r, map, key);
    return p ? vg_cfg_node(r, p->value) : NULL;
}

const char *vg_cfg_text(vg_cfg_reader *r, yaml_node_t *n, const char *path,
                        const char *expected) {
    if (n->type != YAML_SCALAR_NODE || vg_cfg_is_null(n)) {
        vg_cfg_expected(r, n, path, expected);
        return NULL;
    }
    const char *raw = (const char *)n->data.scalar.value, *at = NULL;
    size_t at_len = 0;
    char q[VG_CFG_EXCERPT];
    /* a double-quoted "\0" puts a NUL inside the value, which C strings would cut short */
    if (strlen(raw) != n->data.scalar.length) {
        vg_cfg_fail(r, VG_ERR_FORMAT, n, path, "the value holds a NUL character");
        return NULL;
    }
    int rc = vg_cfg_expand(raw, &r->text, &r->cap, &at, &at_len);
    if (rc == VG_ERR_MISSING)
        vg_cfg_fail(r, rc, n, path, "environment variable %.*s is not set",
                    (int)(at_len < 60 ? at_len : 60), at);
    else if (rc == VG_ERR_FORMAT)
        vg_cfg_fail(r, rc, n, path, "'%s' is not a reference ${NAME} (NAME: letters, digits "
                    "and '_', not starting with a digit)", vg_cfg_excerpt(q, at));
    else if (rc)
        vg_cfg_fail(r, rc, n, path, "out of memory");
    return rc ? NULL : r->text;
}

int vg_cfg_read_string(vg_cfg_reader *r, yaml_node_t *n, const char *path, int optional,
                       char **out) {
    char *copy = NULL;
    if (!optional || !vg_cfg_is_null(n)) {
        const char *t = vg_cfg_text(r, n, path, "a string");
        if (!t) return r->err->code;
        if (!*t)
            return vg_cfg_fail(r, VG_ERR_FORMAT, n, path, "is empty%s",
                               optional ? " (for none, leave the key out or write ~)" : "");
        if (!(copy = strdup(t))) return vg_cfg_fail(r, VG_ERR_NOMEM, n, path, "out of memory");
    }
    free(*out);
    *out = copy;
    return VG_OK;
}

int vg_cfg_read_int(vg_cfg_reader *r, yaml_node_t *n, const char *path, long long lo,
                    long long hi, int *out) {
    const char *t = vg_cfg_text(r, n, path, "an integer");
    long long v;
    char q[VG_CFG_EXCERPT];
    if (!t) return r->err->code;
    if (!vg_cfg_int(t, &v))
        return vg_cfg_fail(r, VG_ERR_FORMAT, n, path, "expected an integer, got '%s'",
                           vg_cfg_excerpt(q, t));
    if (v < lo || v > hi)
        return vg_cfg_fail(r, VG_ERR_FORMAT, n, path, "%s is out of range %lld..%lld",
                           vg_cfg_excerpt(q, t), lo, hi);
    *out = (int)v;
    return VG_OK;
}

/* A real value of one form: parse reads it, expected says what it should look like, unit
 * follows the range in an error. */
static int read_real(vg_cfg_reader *r, yaml_node_t *n, const char *path,
                     int (*parse)(const char *, double *), const char *expected,
                     const char *unit, double lo, double hi, double *out) {
    const char *t = vg_cfg_text(r, n, path, expected);
    double v;
    char q[VG_CFG_EXCERPT];
    if (!t) return r->err->code;
    if (!parse(t, &v))
        return vg_cfg_fail(r, VG_ERR_FORMAT, n, path, "expected %s, got '%s'", expected,
                           vg_cfg_excerpt(q, t));
    if (v < lo || v > hi)
        return vg_cfg_fail(r, VG_ERR_FORMAT, n, path, "%s is out of range %g..%g%s",
                           vg_cfg_excerpt(q, t), lo, hi, unit);
    *out = v;
    return VG_OK;
}

int vg_cfg_read_number(vg_cfg_reader *r, yaml_node_t *n, const char *path, double lo,
                       double hi, double *out) {
    return read_real(r, n, path, vg_cfg_number, "a number", "", lo, hi, out);
}

static int read_bool(vg_cfg_reader *r, yaml_node_t *n, const char *path, int *out) {
    const char *t = vg_cfg_text(r, n, path, "true or false");
    char q[VG_CFG_EXCERPT];
    if (!t) return r->err->code;
    return vg_cfg_bool(t, out) ? VG_OK
                               : vg_cfg_fail(r, VG_ERR_FORMAT, n, path,
                                             "expected true, false, yes or no, got '%s'",
                                             vg_cfg_excerpt(q, t));
}

int vg_cfg_read_choice(vg_cfg_reader *r, yaml_node_t *n, const char *path,
                       const char *const *names, int n_names, int *out) {
    char list[256] = "";
    for (int i = 0; i < n_names; i++) {
        size_t used = strlen(list);
        const char *sep = i == 0 ? "" : i + 1 < n_names ? ", " : " or ";
        snprintf(list + used, sizeof list - used, "%s%s", sep, names[i]);
    }
    const char *t = vg_cfg_text(r, n, path, list);
    if (!t) return r->err->code;
    for (int i = 0; i < n_names; i++)
        if (!strcmp(t, names[i])) return *out = i, VG_OK;
    char q[VG_CFG_EXCERPT];
    return vg_cfg_fail(r, VG_ERR_FORMAT, n, path, "unknown value '%s' (%s)", vg_cfg_excerpt(q, t),
                       list);
}

static int read_value(vg_cfg_reader *r, const vg_cfg_field *f, yaml_node_t *v,
                      const char *path, void *base) {
    void *dst = (char *)base + f->offset;
    switch (f->kind) {
    case VG_CFG_STRING: return vg_cfg_read_string(r, v, path, 0, dst);
    case VG_CFG_OPTIONAL: return vg_cfg_read_string(r, v, path, 1, dst);
    case VG_CFG_INT: return vg_cfg_read_int(r, v, path, (long long)f->lo, (long long)f->hi, dst);
    case VG_CFG_NUMBER: return vg_cfg_read_number(r, v, path, f->lo, f->hi, dst);
    case VG_CFG_BOOL: return read_bool(r, v, path, dst);
    case VG_CFG_DURATION:
        return read_real(r, v, path, vg_cfg_duration,
                         "a duration (seconds, or a number with ms, s, m, h or d: 500ms, 10s, "
                         "5m, 2h, 30d)", " seconds", f->lo, f->hi, dst);
    case VG_CFG_SIZE:
        return read_real(r, v, path, vg_cfg_size,
                         "a size (bytes, or a number with kB, MB, GB, TB, KiB, MiB, GiB or TiB: "
                         "512MB, 20GB)", " bytes", f->lo, f->hi, dst);
    case VG_CFG_SECTION: return vg_cfg_read_map(r, v, path, f->fields, f->check, base);
    case VG_CFG_CUSTOM: return f->read(r, v, path, base);
    }
    return vg_cfg_fail(r, VG_ERR_ARG, v, path, "no reader for this key"); /* a table bug */
}

/* Edits (insert, delete, substitute; case ignored) between a and b, or a large number for
 * names too long to be worth comparing. */
static int distance(const char *a, const char *b) {
    enum { LONGEST = 40 };
    size_t la = strlen(a), lb = strlen(b);
    if (la > LONGEST || lb > LONGEST) return LONGEST;
    int row[LONGEST + 1];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int above = row[j];
            int same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            int best = diag + !same;
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = above;
        }
    }
    return row[lb];
}

/* The known key a mistyped one most likely meant: one edit away (two for longer keys), or
 * NULL. */
static const char *closest(const vg_cfg_field *fields, const char *key) {
    const char *best = NULL;
    int best_d = strlen(key) > 4 ? 3 : 2;
    for (const vg_cfg_field *f = fields; f->key; f++) {
        int d = distance(key, f->key);
        if (d < best_d) best = f->key, best_d = d;
    }
    return best;
}

static int unknown_key(vg_cfg_reader *r, const yaml_node_t *k, const char *path, const char *key,
                       const vg_cfg_field *fields) {
    char where[VG_CFG_PATH_MAX + 8] = "at the top level", hint[300], q[VG_CFG_EXCERPT];
    if (*path) snprintf(where, sizeof where, "in %s", path);
    const char *near = closest(fields, key);
    if (near) {
        snprintf(hint, sizeof hint, "did you mean '%s'?", near);
    } else {
        int used = snprintf(hint, sizeof hint, "known keys:");
        for (const vg_cfg_field *f = fields; f->key && used < (int)sizeof hint; f++)
            used += snprintf(hint + used, sizeof hint - used, " %s", f->key);
    }
    return vg_cfg_fail(r, VG_ERR_FORMAT, k, NULL, "unknown key '%s' %s (%s)",
                       vg_cfg_excerpt(q, key), where, hint);
}

static int read_pair(vg_cfg_reader *r, yaml_node_t *map, yaml_node_pair_t *pair,
                     const char *path, const vg_cfg_field *fields, void *base) {
    yaml_node_t *k = vg_cfg_node(r, pair->key), *v = vg_cfg_node(r, pair->value);
    if (k->type != YAML_SCALAR_NODE) return vg_cfg_expected(r, k, path, "a key name");
    const char *key = (const char *)k->data.scalar.value;
    if (strlen(key) != k->data.scalar.length)
        return vg_cfg_fail(r, VG_ERR_FORMAT, k, path, "a key holds a NUL character");
    const vg_cfg_field *f = fields;
    while (f->key && strcmp(f->key, key)) f++;
    if (!f->key) return unknown_key(r, k, path, key, fields);
    /* Pairs, not key nodes, are compared: an alias can give two pairs the same key node. */
    yaml_node_pair_t *first = find_pair(r, map, key);
    if (first != pair)
        return vg_cfg_fail(r, VG_ERR_FORMAT, k, path, "key '%s' is given twice (first on line %lu)",
                           key, (unsigned long)vg_cfg_node(r, first->key)->start_mark.line + 1);
    char sub[VG_CFG_PATH_MAX];
    return read_value(r, f, v, vg_cfg_join(sub, path, key), base);
}

int vg_cfg_read_map(vg_cfg_reader *r, yaml_node_t *map, const char *path,
                    const vg_cfg_field *fields, vg_cfg_check_fn check, void *base) {
    if (map->type != YAML_MAPPING_NODE && !vg_cfg_is_null(map))
        return vg_cfg_expected(r, map, path, "a mapping (key: value lines)");
    if (map->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
             p < map->data.mapping.pairs.top; p++) {
            int rc = read_pair(r, map, p, path, fields, base);
            if (rc) return rc;
        }
    }
    for (const vg_cfg_field *f = fields; f->key; f++)
        if (f->required && !find_pair(r, map, f->key))
            return vg_cfg_fail(r, VG_ERR_MISSING, map, path, "missing '%s'", f->key);
    return check ? check(r, map, path, base) : VG_OK;
}
