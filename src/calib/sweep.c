/* sweep.c - recall on synthetic anomalies (seed 000 steps 2-4): every case of the sweep is
 * injected as short bursts into copies of the normal clips, the bursts are scored with the
 * frames before them as context, and each burst's largest smoothed value is kept, so that
 * recall can be read at any threshold afterwards (the recall curves).
 *
 * Bursts sit at fixed places (no randomness: a calibration is reproducible), spaced so that
 * neither the model's context nor the smoothing window of one burst reaches the next. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib/calib.h"
#include "core/status.h"

#define MAX_BURSTS 48 /* per case: enough for recall in steps of ~2%, and a bounded cost */
#define LEAD_IN 50    /* frames before a burst given to the synthesiser (H.264 warm-up) */

typedef struct burst {
    int clip, start, len;
} burst;

/* The places of a case's bursts over all clips, evenly thinned to MAX_BURSTS. */
static int plan(const calib_run *r, int len, burst *out) {
    int gap = len + r->context + r->p->smooth + 2, n = 0, total = 0;
    int first = r->context + r->p->smooth;
    for (int c = 0; c < r->f->n; c++)
        for (int s = first; s + len <= r->f->clips[c].frames; s += gap) total++;
    for (int c = 0, i = 0; c < r->f->n; c++)
        for (int s = first; s + len <= r->f->clips[c].frames; s += gap, i++)
            if ((long long)n * total <= (long long)i * MAX_BURSTS && n < MAX_BURSTS)
                out[n++] = (burst){c, s, len};
    return n;
}

/* A burst's working copy: the frames from LEAD_IN before it to the end of its window. */
typedef struct scratch {
    unsigned char *rgb, *truth;
    float *map, *best_map;
    unsigned char *best_rgb;
    double *raw;
} scratch;

/* The smoothed value at frame j of clip c when frames from s on scored raw_new. */
static double smoothed_at(const calib_run *r, int c, int s, const double *raw_new, int j) {
    double sum = 0;
    int n = 0;
    for (int i = j - r->p->smooth + 1; i <= j; i++) {
        double v = i < 0 ? NAN : i >= s ? raw_new[i - s] : r->raw[c][i];
        if (isfinite(v)) sum += v, n++;
    }
    return n ? sum / n : NAN;
}

/* Scores frames start .. end-1 of the copy (the context frames before start pushed first);
 * raw gets their anomaly values, any is set when a signal check flags one of them, and
 * best_map/best_rgb keep the most anomalous frame when want_example. */
static int score_copy(const calib_run *r, scratch *w, int start, int end, int want_example,
                      int *any, vg_error *err) {
    size_t frame = (size_t)r->width * r->height * 3;
    vg_checks *ck = NULL;
    int rc = vg_checks_create(&r->checks, &ck, err);
    double best = -INFINITY;
    vg_scorer_reset(r->scorer);
    *any = 0;
    for (int k = start - r->context; k < end && !rc; k++) {
        const unsigned char *rgb = w->rgb + (size_t)k * frame;
        vg_score s;
        vg_checks_frame cf;
        int scored = 0;
        rc = vg_scorer_push(r->scorer, rgb, &s, w->map, NULL, &scored, err);
        if (!rc) rc = vg_checks_push(ck, rgb, r->width, r->height, k / r->p->fps, &cf, err);
        if (rc || k < start) continue;
        double v = scored ? vg_anomaly_value(r->p->score, &s) : NAN;
        w->raw[k - start] = v;
        for (int e = 0; e < VG_EVENT_CLASSES; e++) *any |= cf.score[e] >= 1;
        if (want_example && v > best) {
            best = v;
            memcpy(w->best_map, w->map, (size_t)r->width * r->height * sizeof *w->map);
            memcpy(w->best_rgb, rgb, frame);
        }
    }
    vg_checks_free(ck);
    return rc;
}

/* The example heat map of an operational case: its first applicable burst's worst frame. */
static int write_example(const calib_run *r, case_result *cr, const scratch *w, vg_error *err) {
    char path[4096];
    snprintf(cr->example, sizeof cr->example, "example-%d.png", (int)(cr - r->cases));
    snprintf(path, sizeof path, "%s/%s", r->p->report, cr->example);
    int rc = vg_heatmap_png(path, w->best_rgb, w->best_map, r->width, r->height, 0, err);
    if (rc) cr->example[0] = 0;
    return rc;
}

/* Injects one burst into a copy of its clip, scores it, and adds it to the case's tally. */
static int run_burst(calib_run *r, case_result *cr, const burst *b, scratch *w, vg_error *err) {
    const vg_clip *c = &r->f->clips[b->clip];
    size_t frame = (size_t)r->width * r->height * 3;
    int from = b->start > LEAD_IN ? b->start - LEAD_IN : 0;
    int end = b->start + b->len + r->p->smooth - 1;
    if (end > c->frames) end = c->frames;
    memcpy(w->rgb, vg_clip_frame(c, from), (size_t)(end - from) * frame);
    vg_synth_clip copy = {w->rgb, end - from, r->width, r->height, r->p->fps};
    int rc = vg_synth_apply(cr->c, &copy, b->start - from, b->len, w->truth, err);
    int changed = 0;
    for (int k = 0; !rc && k < end - from; k++) changed |= w->truth[k];
    if (rc || !changed) return rc;
    int example = r->p->report && cr->c->operational && !cr->example[0], any = 0;
    rc = score_copy(r, w, b->start - from, end - from, example, &any, err);
    if (rc) return rc;
    double peak = -INFINITY;
    for (int j = b->start; j < end; j++) {
        double v = smoothed_at(r, b->clip, b->start, w->raw, j);
        if (v > peak) peak = v;
        int truth = w->truth[j - from];
        cr->truth_frames += truth;
        cr->frames_caught += truth && v >= r->chosen;
    }
    cr->peak[cr->applicable++] = peak;
    cr->caught += peak >= r->chosen;
    cr->caught_any += peak >= r->chosen || any;
    return example ? write_example(r, cr, w, err) : VG_OK;
}

static int run_case(calib_run *r, case_result *cr, scratch *w, burst *plan_buf, vg_error *err) {
    int n = plan(r, cr->c->frames ? cr->c->frames : r->p->burst, plan_buf);
    cr->peak = malloc((size_t)(n ? n : 1) * sizeof *cr->peak);
    if (!cr->peak) return vg_fail(err, VG_ERR_NOMEM, "out of memory for recall");
    int rc = VG_OK;
    for (int i = 0; i < n && !rc; i++) {
        cr->bursts++;
        rc = run_burst(r, cr, &plan_buf[i], w, err);
        if (!rc) rc = calib_progress(r, "synthetic", err);
    }
    return rc;
}

static int longest_case(const calib_run *r, const vg_synth_case *cases, int n) {
    int len = r->p->burst;
    for (int i = 0; i < n; i++) len = cases[i].frames > len ? cases[i].frames : len;
    return len;
}

int calib_sweep(calib_run *r, vg_error *err) {
    int n = 0;
    const vg_synth_case *cases = vg_synth_sweep(&n);
    size_t plane = (size_t)r->width * r->height;
    int span = LEAD_IN + longest_case(r, cases, n) + r->p->smooth;
    scratch w = {malloc((size_t)span * plane * 3), malloc((size_t)span),
                 malloc(plane * sizeof(float)), malloc(plane * sizeof(float)),
                 malloc(plane * 3), malloc((size_t)span * sizeof(double))};
    burst *buf = malloc(MAX_BURSTS * sizeof *buf);
    r->cases = calloc((size_t)n, sizeof *r->cases);
    int rc = w.rgb && w.truth && w.map && w.best_map && w.best_rgb && w.raw && buf && r->cases
                 ? VG_OK
                 : vg_fail(err, VG_ERR_NOMEM, "out of memory for synthetic anomalies");
    r->done = 0, r->total = 0;
    for (int i = 0; i < n && !rc; i++) r->total += plan(r, cases[i].frames ? cases[i].frames : r->p->burst, buf);
    for (int i = 0; i < n && !rc; i++) {
        r->cases[r->n_cases].c = &cases[i];
        rc = run_case(r, &r->cases[r->n_cases++], &w, buf, err);
    }
    free(w.rgb), free(w.truth), free(w.map), free(w.best_map), free(w.best_rgb), free(w.raw);
    free(buf);
    return rc;
}
