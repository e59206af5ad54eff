/* config_value.c - the value forms of the configuration file (see config_value.h). */
#include "serve/config_value.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/status.h"

/* What an environment variable's name may hold. */
#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"

typedef struct unit {
    const char *name;
    double scale;
} unit;

static const unit durations[] = {{"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
static const unit sizes[] = {{"b", 1},           {"kb", 1e3},           {"mb", 1e6},
                             {"gb", 1e9},        {"tb", 1e12},          {"kib", 1024.0},
                             {"mib", 1048576.0}, {"gib", 1073741824.0}, {"tib", 1099511627776.0}};

/* The finite decimal number at the start of s, and where it ends. strtod also reads hex,
 * "inf" and "nan", and skips leading spaces; those use characters outside the decimal set,
 * so a number that runs past the decimal span is refused. */
static int decimal(const char *s, double *v, const char **end) {
    size_t span = strspn(s, "0123456789+-.eE");
    char *e;
    *v = strtod(s, &e);
    *end = e;
    return e > s && e <= s + span && isfinite(*v);
}

/* A number, optionally followed by spaces and one of n units (names compared in any case
 * when any_case), scaled by the unit. */
static int with_unit(const char *s, const unit *units, int n, int any_case, double *out) {
    double v;
    const char *e;
    if (!decimal(s, &v, &e)) return 0;
    e += strspn(e, " ");
    if (!*e) {
        *out = v;
        return 1;
    }
    for (int i = 0; i < n; i++) {
        if (any_case ? strcasecmp(e, units[i].name) : strcmp(e, units[i].name)) continue;
        *out = v * units[i].scale;
        return isfinite(*out);
    }
    return 0;
}

int vg_cfg_int(const char *s, long long *out) {
    const char *digits = s + (*s == '-' || *s == '+');
    if (!isdigit((unsigned char)*digits) || digits[strspn(digits, "0123456789")]) return 0;
    *out = strtoll(s, NULL, 10); /* ERANGE clamps to LLONG_MIN or LLONG_MAX */
    return 1;
}

int vg_cfg_number(const char *s, double *out) {
    const char *e;
    return decimal(s, out, &e) && !*e;
}

int vg_cfg_bool(const char *s, int *out) {
    if (!strcasecmp(s, "true") || !strcasecmp(s, "yes")) return *out = 1, 1;
    if (!strcasecmp(s, "false") || !strcasecmp(s, "no")) return *out = 0, 1;
    return 0;
}

/* Durations are case-sensitive: "m" is minutes, and an "M" would read as months. */
int vg_cfg_duration(const char *s, double *out) {
    return with_unit(s, durations, (int)(sizeof durations / sizeof *durations), 0, out);
}

int vg_cfg_size(const char *s, double *out) {
    return with_unit(s, sizes, (int)(sizeof sizes / sizeof *sizes), 1, out);
}

/* Appends len bytes of piece to *buf at *n, keeping it 0-terminated. */
static int append(char **buf, size_t *cap, size_t *n, const char *piece, size_t len) {
    if (*n + len + 1 > *cap) {
        size_t want = (*n + len + 1) * 2;
        char *b = realloc(*buf, want);
        if (!b) return VG_ERR_NOMEM;
        *buf = b, *cap = want;
    }
    memcpy(*buf + *n, piece, len);
    *n += len;
    (*buf)[*n] = '\0';
    return VG_OK;
}

int vg_cfg_expand(const char *s, char **buf, size_t *cap, const char **at, size_t *at_len) {
    size_t n = 0;
    int rc = append(buf, cap, &n, "", 0);
    for (const char *p = s; *p && !rc;) {
        if (p[0] != '$' || p[1] != '{') {
            size_t len = 1 + strcspn(p + 1, "$");
            rc = append(buf, cap, &n, p, len);
            p += len;
            continue;
        }
        const char *name = p + 2;
        size_t len = strspn(name, NAME_CHARS);
        if (!len || isdigit((unsigned char)name[0]) || name[len] != '}') {
            *at = p, *at_len = strlen(p);
            return VG_ERR_FORMAT;
        }
        char *key = strndup(name, len);
        if (!key) return VG_ERR_NOMEM;
        const char *v = getenv(key);
        free(key);
        if (!v) {
            *at = name, *at_len = len;
            return VG_ERR_MISSING;
        }
        rc = append(buf, cap, &n, v, strlen(v));
        p = name + len + 1;
    }
    return rc;
}
