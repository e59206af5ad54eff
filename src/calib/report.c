/* report.c - the calibration's report.html (seed 000 step 7): the normal score histogram
 * with the threshold, the thresholds of each strategy, recall against the threshold per
 * category, the per-case table and example heat maps of the operational cases. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib/calib.h"
#include "core/status.h"

#define CURVE_POINTS 64

static int summary(vg_html *h, const calib_run *r, vg_error *err) {
    const vg_calibrate_params *p = r->p;
    char text[512];
    snprintf(text, sizeof text,
             "Score: %s (patch %d px), moving average over %d frames. %lld held-out normal "
             "frames. Operational threshold: %s = %.6g, normal FPR %.4f (target %.4f). "
             "Signal checks flag %.4f of the normal frames.",
             vg_score_kind_name(p->score), p->patch, p->smooth, r->n_normal,
             vg_threshold_strategy_name(p->strategy), calib_display(r, r->chosen),
             r->fpr[p->strategy], p->fpr,
             r->check_frames ? (double)r->check_flagged / (double)r->check_frames : 0.0);
    int rc = vg_html_text(h, text, err);
    char cells[4][3][48];
    const char *tab[4 * 3] = {"strategy", "threshold", "normal FPR"};
    for (int s = 0; s < STRATEGIES; s++) {
        snprintf(cells[s][0], 48, "%s", vg_threshold_strategy_name((vg_threshold_strategy)s));
        snprintf(cells[s][1], 48, "%.6g", calib_display(r, r->threshold[s]));
        snprintf(cells[s][2], 48, "%.4f", r->fpr[s]);
        for (int c = 0; c < 3; c++) tab[3 * (s + 1) + c] = cells[s][c];
    }
    return rc ? rc : vg_html_table(h, tab, 4, 3, err);
}

static int histogram(vg_html *h, const calib_run *r, vg_error *err) {
    double *v = malloc((size_t)r->n_normal * sizeof *v);
    if (!v) return vg_fail(err, VG_ERR_NOMEM, "out of memory for the report");
    for (long long i = 0; i < r->n_normal; i++) v[i] = calib_display(r, r->normal[i]);
    vg_series s = {"normal frames", v, NULL, r->n_normal};
    vg_chart c = {.kind = VG_CHART_HISTOGRAM, .title = "Smoothed score of the normal frames",
                  .xlabel = r->p->score == VG_SCORE_PSNR ? "PSNR dB" : "patch score",
                  .series = &s, .n_series = 1, .bins = 60,
                  .marker = calib_display(r, r->chosen), .has_marker = 1};
    int rc = vg_html_chart(h, &c, err);
    free(v);
    return rc;
}

/* Recall of a category's bursts (all its cases and severities pooled) at n thresholds
 * spread over the normal scores' upper range and the bursts' peaks. */
static void recall_curve(const calib_run *r, vg_synth_category cat, const double *t, int n,
                         double *out) {
    for (int k = 0; k < n; k++) {
        long long hit = 0, all = 0;
        for (int i = 0; i < r->n_cases; i++) {
            const case_result *cr = &r->cases[i];
            if (cr->c->category != cat) continue;
            for (int b = 0; b < cr->applicable; b++) hit += cr->peak[b] >= t[k];
            all += cr->applicable;
        }
        out[k] = all ? (double)hit / (double)all : NAN;
    }
}

static int recall_chart(vg_html *h, const calib_run *r, vg_error *err) {
    double lo = r->normal[r->n_normal / 2], hi = r->normal[r->n_normal - 1];
    for (int i = 0; i < r->n_cases; i++)
        for (int b = 0; b < r->cases[i].applicable; b++) hi = fmax(hi, r->cases[i].peak[b]);
    double t[CURVE_POINTS], x[CURVE_POINTS], y[VG_SYNTH_CATEGORIES][CURVE_POINTS];
    vg_series s[VG_SYNTH_CATEGORIES];
    /* the patch score, an MSE, spans decades between normal frames and gross anomalies:
       thresholds on a log scale; PSNR is logarithmic already */
    int logx = r->p->score == VG_SCORE_PATCH && lo > 0;
    for (int k = 0; k < CURVE_POINTS; k++) {
        double f = (double)k / (CURVE_POINTS - 1);
        t[k] = logx ? lo * pow(hi / lo, f) : lo + (hi - lo) * f;
        x[k] = logx ? log10(t[k]) : calib_display(r, t[k]);
    }
    for (int c = 0; c < VG_SYNTH_CATEGORIES; c++) {
        recall_curve(r, (vg_synth_category)c, t, CURVE_POINTS, y[c]);
        s[c] = (vg_series){vg_synth_category_name((vg_synth_category)c), x, y[c], CURVE_POINTS};
    }
    vg_chart ch = {.kind = VG_CHART_LINES, .title = "Recall of synthetic bursts vs threshold "
                                                    "(model alone, all severities)",
                   .xlabel = logx ? "threshold (log10 patch score)" : "threshold PSNR dB",
                   .ylabel = "recall", .series = s, .n_series = VG_SYNTH_CATEGORIES,
                   .marker = logx ? log10(r->chosen) : calib_display(r, r->chosen),
                   .has_marker = 1, .marker_label = logx ? "threshold, log10" : NULL};
    return vg_html_chart(h, &ch, err);
}

static void pct(char *out, long long a, long long b) {
    if (b) snprintf(out, 16, "%.1f%%", 100.0 * (double)a / (double)b);
    else snprintf(out, 16, "n/a");
}

static int case_table(vg_html *h, const calib_run *r, vg_error *err) {
    enum { COLS = 6 };
    const char **tab = calloc((size_t)(r->n_cases + 1) * COLS, sizeof *tab);
    char (*cells)[COLS][40] = calloc((size_t)r->n_cases, sizeof *cells);
    if (!tab || !cells) return free(tab), free(cells), vg_fail(err, VG_ERR_NOMEM, "out of memory");
    static const char *head[COLS] = {"case", "category", "bursts (applicable)", "recall",
                                     "with checks", "frame recall"};
    memcpy(tab, head, sizeof head);
    for (int i = 0; i < r->n_cases; i++) {
        const case_result *cr = &r->cases[i];
        snprintf(cells[i][0], 40, "%s%s", cr->c->name, cr->c->operational ? " *" : "");
        snprintf(cells[i][1], 40, "%s", vg_synth_category_name(cr->c->category));
        snprintf(cells[i][2], 40, "%d (%d)", cr->bursts, cr->applicable);
        pct(cells[i][3], cr->caught, cr->applicable);
        pct(cells[i][4], cr->caught_any, cr->applicable);
        pct(cells[i][5], cr->frames_caught, cr->truth_frames);
        for (int c = 0; c < COLS; c++) tab[(i + 1) * COLS + c] = cells[i][c];
    }
    int rc = vg_html_text(h, "Recall at the operational threshold. * operational severity. A "
                             "burst is caught when a smoothed score at or over the threshold "
                             "falls in it or in the smoothing delay after it; 'with checks' "
                             "also counts the signal checks (frozen, black, flat, signal "
                             "lost); frame recall counts the changed frames at or over it.",
                          err);
    if (!rc) rc = vg_html_table(h, tab, r->n_cases + 1, COLS, err);
    free(tab), free(cells);
    return rc;
}

static int examples(vg_html *h, const calib_run *r, vg_error *err) {
    int rc = VG_OK;
    for (int i = 0; i < r->n_cases && !rc; i++) {
        const case_result *cr = &r->cases[i];
        if (!cr->example[0]) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", r->p->report, cr->example);
        rc = vg_html_image(h, path, cr->c->name, err);
    }
    return rc;
}

int calib_report(const calib_run *r, vg_error *err) {
    vg_html *h = NULL;
    int rc = vg_html_create("vigil calibration", &h, err);
    if (!rc) rc = vg_html_section(h, "Operating point", err);
    if (!rc) rc = summary(h, r, err);
    if (!rc) rc = histogram(h, r, err);
    if (!rc && r->n_cases) rc = vg_html_section(h, "Synthetic anomalies", err);
    if (!rc && r->n_cases) rc = recall_chart(h, r, err);
    if (!rc && r->n_cases) rc = case_table(h, r, err);
    if (!rc && r->n_cases) rc = vg_html_section(h, "Examples (operational severities)", err);
    if (!rc && r->n_cases) rc = examples(h, r, err);
    char path[4096];
    snprintf(path, sizeof path, "%s/report.html", r->p->report);
    if (!rc) rc = vg_html_write(h, path, err);
    vg_html_free(h);
    return rc;
}
