/* metrics.c - the metrics registry and its Prometheus text (format 0.0.4).
 *
 * A value that threads update is a double kept as its bit pattern in an atomic 64-bit
 * word: C11 has no atomic add for doubles, so an add is a compare-exchange loop that
 * retries with whatever another thread stored in between. A histogram keeps one atomic
 * count per bucket (not cumulative, so an observation touches one word) and an atomic sum;
 * rendering makes the counts cumulative. Rendering reads each word once without stopping
 * writers, so a scrape during updates may see a sum one observation ahead of its counts,
 * as Prometheus's own client libraries allow.
 *
 * The registry's lock guards only its shape (families and their metrics), which changes
 * when a metric is created; metric handles stay valid until the registry is freed. */
#include "serve/metrics.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"

_Static_assert(sizeof(double) == sizeof(uint64_t), "a double's bits must fit a uint64_t");

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } metric_kind;

static const char *const kind_names[] = {"counter", "gauge", "histogram"};

struct vg_metric {
    metric_kind kind;
    char *labels;            /* as given (validated), or NULL */
    const double *bounds;    /* histograms: the family's n bucket bounds */
    int n;
    _Atomic uint64_t value;  /* counters, gauges: the value's bits; histograms: the sum's */
    _Atomic uint64_t counts[]; /* histograms: n + 1 buckets, the last one +Inf */
};

typedef struct family {
    char *name, *help;
    metric_kind kind;
    double *bounds;          /* histograms: n increasing finite bounds */
    int n;
    vg_metric **metrics;     /* in creation order, which is the rendering order */
    int count, cap;
} family;

struct vg_metrics {
    pthread_mutex_t lock;
    family *families;        /* in creation order */
    int count, cap;
};

/* ---- atomic doubles --------------------------------------------------------------------- */

static uint64_t to_bits(double v) {
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double from_bits(uint64_t b) {
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static double load_double(const _Atomic uint64_t *a) {
    return from_bits(atomic_load_explicit(a, memory_order_relaxed));
}

static void add_double(_Atomic uint64_t *a, double v) {
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    /* On failure old gets the value another thread stored; add to that instead. */
    while (!atomic_compare_exchange_weak_explicit(a, &old, to_bits(from_bits(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed)) {
    }
}

/* ---- updates ------------------------------------------------------------------------------ */

void vg_metric_add(vg_metric *m, double v) {
    if (!m || m->kind == KIND_HISTOGRAM) return;
    /* A counter only goes up: Prometheus reads any decrease as a restart of the process. */
    if (m->kind == KIND_COUNTER && !(v >= 0)) return;
    add_double(&m->value, v);
}

void vg_metric_set(vg_metric *m, double v) {
    if (m && m->kind == KIND_GAUGE)
        atomic_store_explicit(&m->value, to_bits(v), memory_order_relaxed);
}

void vg_metric_observe(vg_metric *m, double v) {
    if (!m || m->kind != KIND_HISTOGRAM) return;
    int i = 0;
    while (i < m->n && !(v <= m->bounds[i])) i++; /* NaN lands in +Inf, as in Prometheus */
    atomic_fetch_add_explicit(&m->counts[i], 1, memory_order_relaxed);
    add_double(&m->value, v);
}

static uint64_t histogram_count(const vg_metric *m) {
    uint64_t total = 0;
    for (int i = 0; i <= m->n; i++)
        total += atomic_load_explicit(&m->counts[i], memory_order_relaxed);
    return total;
}

double vg_metric_value(const vg_metric *m) {
    if (!m) return NAN;
    return m->kind == KIND_HISTOGRAM ? (double)histogram_count(m) : load_double(&m->value);
}

/* ---- names and labels ------------------------------------------------------------------- */

static int is_name_char(char c, int first, int colon) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return 1;
    if (colon && c == ':') return 1;
    return !first && c >= '0' && c <= '9';
}

/* A metric name: [a-zA-Z_:][a-zA-Z0-9_:]*. */
static int valid_metric_name(const char *s) {
    if (!s || !*s) return 0;
    for (const char *p = s; *p; p++)
        if (!is_name_char(*p, p == s, 1)) return 0;
    return 1;
}

/* Skips one label pair name="value" at *p (value escaped as vg_metrics_escape writes it);
 * 0 when it is malformed or a histogram's pair is named "le" (rendering adds that one). */
static int skip_label_pair(const char **p, metric_kind kind) {
    const char *s = *p, *name = s;
    if (!is_name_char(*s, 1, 0)) return 0;
    while (is_name_char(*s, 0, 0)) s++;
    if (kind == KIND_HISTOGRAM && s - name == 2 && !strncmp(name, "le", 2)) return 0;
    if (*s++ != '=' || *s++ != '"') return 0;
    while (*s != '"') {
        if (!*s || *s == '\n') return 0;
        if (*s == '\\') { /* an escape: \\, \" or \n */
            s++;
            if (*s != '\\' && *s != '"' && *s != 'n') return 0;
        }
        s++;
    }
    *p = s + 1;
    return 1;
}

/* Labels: pairs separated by commas; the rendered text must always parse. */
static int valid_labels(const char *labels, metric_kind kind) {
    const char *p = labels;
    for (;;) {
        if (!skip_label_pair(&p, kind)) return 0;
        if (!*p) return 1;
        if (*p++ != ',') return 0;
    }
}

size_t vg_metrics_escape(char *out, size_t cap, const char *value) {
    size_t n = 0, written = 0; /* written: what fits, whole escapes only */
    for (const char *p = value ? value : ""; *p; p++) {
        const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
        size_t len = esc ? 2 : 1;
        if (written == n && n + len < cap) {
            memcpy(out + n, esc ? esc : p, len);
            written += len;
        }
        n += len;
    }
    if (cap) out[written] = '\0';
    return n;
}

/* ---- the registry ------------------------------------------------------------------------- */

int vg_metrics_create(vg_metrics **out, vg_error *err) {
    *out = NULL;
    vg_metrics *r = calloc(1, sizeof *r);
    if (!r) return vg_fail(err, VG_ERR_NOMEM, "out of memory for a metrics registry");
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        return vg_fail(err, VG_ERR_NOMEM, "cannot make the metrics registry's lock");
    }
    *out = r;
    return VG_OK;
}

static void free_metric(vg_metric *m) {
    if (!m) return;
    free(m->labels);
    free(m);
}

static void free_family(family *f) {
    for (int i = 0; i < f->count; i++) free_metric(f->metrics[i]);
    free(f->metrics);
    free(f->name);
    free(f->help);
    free(f->bounds);
}

void vg_metrics_free(vg_metrics *r) {
    if (!r) return;
    for (int i = 0; i < r->count; i++) free_family(&r->families[i]);
    free(r->families);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static char *copy_text(const char *s) {
    return s ? strdup(s) : NULL;
}

static int same_bounds(const family *f, const double *bounds, int n) {
    return f->n == n && (n == 0 || !memcmp(f->bounds, bounds, (size_t)n * sizeof *bounds));
}

/* The family called name, made when it is new; NULL for a clash of kind or buckets or
 * when out of memory. Called under the lock. */
static family *find_family(vg_metrics *r, const char *name, const char *help, metric_kind kind,
                           const double *bounds, int n) {
    for (int i = 0; i < r->count; i++) {
        family *f = &r->families[i];
        if (strcmp(f->name, name)) continue;
        return f->kind == kind && (kind != KIND_HISTOGRAM || same_bounds(f, bounds, n)) ? f : NULL;
    }
    if (r->count == r->cap) {
        int cap = r->cap ? 2 * r->cap : 16;
        family *grown = realloc(r->families, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        r->families = grown;
        r->cap = cap;
    }
    family f = {.name = strdup(name), .help = copy_text(help), .kind = kind, .n = n};
    if (n > 0 && (f.bounds = malloc((size_t)n * sizeof *bounds)))
        memcpy(f.bounds, bounds, (size_t)n * sizeof *bounds);
    if (!f.name || (help && !f.help) || (n > 0 && !f.bounds)) {
        free_family(&f);
        return NULL;
    }
    r->families[r->count] = f;
    return &r->families[r->count++];
}

static vg_metric *new_metric(const family *f, const char *labels) {
    size_t buckets = f->kind == KIND_HISTOGRAM ? (size_t)f->n + 1 : 0;
    vg_metric *m = calloc(1, sizeof *m + buckets * sizeof m->counts[0]);
    if (!m) return NULL;
    m->kind = f->kind;
    m->bounds = f->bounds;
    m->n = f->n;
    atomic_init(&m->value, to_bits(0.0));
    for (size_t i = 0; i < buckets; i++) atomic_init(&m->counts[i], 0);
    if (labels && !(m->labels = strdup(labels))) {
        free(m);
        return NULL;
    }
    return m;
}

/* The family's metric with these labels, made when it is new. Called under the lock. */
static vg_metric *find_metric(family *f, const char *labels) {
    for (int i = 0; i < f->count; i++) {
        const char *have = f->metrics[i]->labels;
        if (have == labels || (have && labels && !strcmp(have, labels))) return f->metrics[i];
    }
    if (f->count == f->cap) {
        int cap = f->cap ? 2 * f->cap : 4;
        vg_metric **grown = realloc(f->metrics, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        f->metrics = grown;
        f->cap = cap;
    }
    vg_metric *m = new_metric(f, labels);
    if (m) f->metrics[f->count++] = m;
    return m;
}

static int valid_bounds(const double *bounds, int n) {
    if (n < 0 || (n > 0 && !bounds)) return 0;
    for (int i = 0; i < n; i++)
        if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) return 0;
    return 1;
}

static vg_metric *get_metric(vg_metrics *r, const char *name, const char *help,
                             const char *labels, metric_kind kind, const double *bounds,
                             int n) {
    if (labels && !*labels) labels = NULL;
    if (!r || !valid_metric_name(name) || (labels && !valid_labels(labels, kind)) ||
        (kind == KIND_HISTOGRAM && !valid_bounds(bounds, n)))
        return NULL;
    pthread_mutex_lock(&r->lock);
    family *f = find_family(r, name, help, kind, bounds, n);
    vg_metric *m = f ? find_metric(f, labels) : NULL;
    pthread_mutex_unlock(&r->lock);
    return m;
}

vg_metric *vg_metrics_counter(vg_metrics *r, const char *name, const char *help,
                              const char *labels) {
    return get_metric(r, name, help, labels, KIND_COUNTER, NULL, 0);
}

vg_metric *vg_metrics_gauge(vg_metrics *r, const char *name, const char *help,
                            const char *labels) {
    return get_metric(r, name, help, labels, KIND_GAUGE, NULL, 0);
}

vg_metric *vg_metrics_histogram(vg_metrics *r, const char *name, const char *help,
                                const char *labels, const double *bounds, int n) {
    return get_metric(r, name, help, labels, KIND_HISTOGRAM, bounds, n);
}

/* ---- rendering ---------------------------------------------------------------------------- */

/* A sample value as Prometheus writes it: the shortest decimal that reads back exactly,
 * or NaN, +Inf, -Inf. */
static void put_value(FILE *f, double v) {
    if (isnan(v)) {
        fputs("NaN", f);
    } else if (isinf(v)) {
        fputs(v > 0 ? "+Inf" : "-Inf", f);
    } else {
        char text[32];
        for (int digits = 15; digits <= 17; digits++) {
            snprintf(text, sizeof text, "%.*g", digits, v);
            if (strtod(text, NULL) == v) break;
        }
        fputs(text, f);
    }
}

/* HELP text escapes backslash and newline (and nothing else, unlike label values). */
static void put_help(FILE *f, const family *fam) {
    if (!fam->help) return;
    fprintf(f, "# HELP %s ", fam->name);
    for (const char *p = fam->help; *p; p++) {
        if (*p == '\\') fputs("\\\\", f);
        else if (*p == '\n') fputs("\\n", f);
        else fputc(*p, f);
    }
    fputc('\n', f);
}

/* name{labels} or name{labels,le="bound"}: the braces only when there is a label. */
static void put_series(FILE *f, const char *name, const char *suffix, const char *labels,
                       const char *le, double bound) {
    fprintf(f, "%s%s", name, suffix);
    if (!labels && !le) return;
    fprintf(f, "{%s", labels ? labels : "");
    if (le) {
        fprintf(f, "%sle=\"", labels ? "," : "");
        put_value(f, bound);
        fputc('"', f);
    }
    fputc('}', f);
}

static void put_histogram(FILE *f, const char *name, const vg_metric *m) {
    uint64_t cumulative = 0;
    for (int i = 0; i <= m->n; i++) {
        cumulative += atomic_load_explicit(&m->counts[i], memory_order_relaxed);
        put_series(f, name, "_bucket", m->labels, "le", i < m->n ? m->bounds[i] : INFINITY);
        fprintf(f, " %" PRIu64 "\n", cumulative);
    }
    put_series(f, name, "_sum", m->labels, NULL, 0);
    fputc(' ', f);
    put_value(f, load_double(&m->value));
    fputc('\n', f);
    put_series(f, name, "_count", m->labels, NULL, 0);
    fprintf(f, " %" PRIu64 "\n", cumulative);
}

static void put_family(FILE *f, const family *fam) {
    put_help(f, fam);
    fprintf(f, "# TYPE %s %s\n", fam->name, kind_names[fam->kind]);
    for (int i = 0; i < fam->count; i++) {
        const vg_metric *m = fam->metrics[i];
        if (fam->kind == KIND_HISTOGRAM) {
            put_histogram(f, fam->name, m);
            continue;
        }
        put_series(f, fam->name, "", m->labels, NULL, 0);
        fputc(' ', f);
        put_value(f, load_double(&m->value));
        fputc('\n', f);
    }
}

char *vg_metrics_render(vg_metrics *r) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = r ? open_memstream(&text, &len) : NULL;
    if (!f) return NULL;
    pthread_mutex_lock(&r->lock);
    for (int i = 0; i < r->count; i++) put_family(f, &r->families[i]);
    pthread_mutex_unlock(&r->lock);
    int failed = ferror(f);
    if (fclose(f) != 0 || failed) {
        free(text);
        return NULL;
    }
    return text;
}
