/* metrics.h - counters, gauges and histograms for /metrics, in Prometheus's text format
 * (version 0.0.4). Metrics are created once (at start or when a camera is added) and then
 * updated from any thread without locks (atomics); rendering takes the registry's lock. */
#ifndef VG_SERVE_METRICS_H
#define VG_SERVE_METRICS_H

#include <stddef.h>

#include "vigil/vigil.h"

typedef struct vg_metrics vg_metrics;
typedef struct vg_metric vg_metric;

int vg_metrics_create(vg_metrics **out, vg_error *err);
void vg_metrics_free(vg_metrics *r); /* accepts NULL */

/* A metric of family name (e.g. "vigil_frames_scored_total", [a-zA-Z_:][a-zA-Z0-9_:]*;
 * help: its one-line description, the first one given for a family is kept, NULL: none)
 * with labels (Prometheus form without braces, e.g. "camera=\"gate\"", values escaped as
 * vg_metrics_escape writes them; NULL or "": none). The same name and labels (byte for
 * byte) give the same metric; one name has one kind. Histograms take bucket upper bounds
 * (finite, increasing, n >= 0 of them; +Inf is added; every metric of a family has the same
 * ones) and may not have a label named le. NULL when out of memory or misused (a bad name
 * or label text, a kind or bucket clash). Safe to call from any thread. */
vg_metric *vg_metrics_counter(vg_metrics *r, const char *name, const char *help,
                              const char *labels);
vg_metric *vg_metrics_gauge(vg_metrics *r, const char *name, const char *help,
                            const char *labels);
vg_metric *vg_metrics_histogram(vg_metrics *r, const char *name, const char *help,
                                const char *labels, const double *bounds, int n);

/* Updates, lock-free from any thread. A NULL metric, or one of another kind, is ignored,
 * and so is a counter's negative or NaN add (a counter only goes up). */
void vg_metric_add(vg_metric *m, double v);     /* counters and gauges */
void vg_metric_set(vg_metric *m, double v);     /* gauges */
void vg_metric_observe(vg_metric *m, double v); /* histograms */
double vg_metric_value(const vg_metric *m);     /* counters, gauges: the value; histograms:
                                                   the count; NULL: NaN */

/* value as a label value: backslash, double quote and newline become \\, \" and \n. Writes
 * at most cap bytes into out (0-terminated when cap > 0) and returns the length the whole
 * escaped text needs, as snprintf does. */
size_t vg_metrics_escape(char *out, size_t cap, const char *value);

/* The registry as Prometheus text (free()): families in creation order, each with its
 * # HELP and # TYPE lines, then its metrics in creation order; histograms as cumulative
 * _bucket{le="..."} lines ending with +Inf, then _sum and _count. NULL when out of memory. */
char *vg_metrics_render(vg_metrics *r);

#endif
