/* eval_report.c - vigil eval's figures: computed from the per-frame arrays of cmd_eval.c,
 * shown as one table on stdout and, with --report, as a self-contained HTML page.
 *
 * Every ROC figure is given twice, side by side: on the raw scores pooled over all clips
 * (SYSTEM.md's protocol: a deployed detector has no other), and after per-clip min-max
 * normalisation, labelled as using test statistics, for comparison with papers (FFP, MNAD)
 * that report it. Pixel-level AUROC and the threshold figures exist only for raw scores. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

#define ROWS 13 /* header, 5 ROC rows x 2 scores, pixels, spare */
#define COLS 4
#define CELL 96
#define LINES 4
#define LINE 256

/* The order scores are shown in. */
static const vg_score_kind SHOWN[EVAL_KINDS] = {VG_SCORE_PSNR, VG_SCORE_PATCH};

typedef struct figures {
    vg_roc frame[EVAL_KINDS][2], cases[EVAL_KINDS][2]; /* [kind][normalised] */
    double macro[EVAL_KINDS];                          /* NaN: undefined */
    int macro_clips[EVAL_KINDS];
    vg_roc pixel;
    const char *pixel_note; /* why there is no pixel figure, or NULL */
    vg_alarm_stats alarms;
    double normal_seconds;  /* NaN: a clip's frame rate is unknown */
    char cells[ROWS][COLS][CELL];
    int rows;
    char lines[LINES][LINE]; /* the operating point's figures */
    int n_lines;
} figures;

/* ---- computing ------------------------------------------------------------------------ */

/* ROC figures of one score, raw (v) and normalised (into norm). */
static int roc_figures(const eval_data *d, int k, const double *v, double *norm, figures *f,
                       vg_error *err) {
    int rc = vg_roc_curve(v, d->label, d->n, &f->frame[k][0], err);
    if (!rc) rc = vg_roc_cases(v, d->label, d->clip, d->n, &f->cases[k][0], err);
    vg_minmax_per_clip(v, d->clip, d->n, norm);
    if (!rc) rc = vg_roc_curve(norm, d->label, d->n, &f->frame[k][1], err);
    if (!rc) rc = vg_roc_cases(norm, d->label, d->clip, d->n, &f->cases[k][1], err);
    if (rc) return rc;
    vg_error undefined;
    if (vg_roc_macro_auc(v, d->label, d->clip, d->n, &f->macro[k], &f->macro_clips[k],
                         &undefined))
        f->macro[k] = NAN;
    return VG_OK;
}

/* Seconds of normal scored footage, clip by clip at its frame rate; NaN when a clip with
 * normal frames has no known rate. */
static double normal_seconds(const eval_data *d) {
    double s = 0;
    for (int c = 0; c < d->n_clips; c++) {
        const eval_clip *k = &d->clips[c];
        long long normal = 0;
        for (long long j = k->first; j < k->first + k->n; j++) normal += !d->label[j];
        if (normal) s += k->fps > 0 ? (double)normal / k->fps : NAN;
    }
    return s;
}

static int point_figures(const eval_data *d, double *v, figures *f, vg_error *err) {
    if (!d->point.known) return VG_OK;
    eval_smooth(d, d->value[d->point.score], d->point.smooth, v);
    f->normal_seconds = normal_seconds(d);
    return vg_alarm_stats_at(v, d->label, d->clip, d->n, d->point.threshold, &f->alarms, err);
}

static int compute(const eval_data *d, figures *f, vg_error *err) {
    double *v = malloc((size_t)d->n * sizeof *v), *norm = malloc((size_t)d->n * sizeof *norm);
    int rc = v && norm ? VG_OK : cli_set_error(err, VG_ERR_NOMEM, "out of memory for the ROC");
    for (int k = 0; k < EVAL_KINDS && !rc; k++) {
        eval_smooth(d, d->value[k], d->o->smooth, v);
        rc = roc_figures(d, k, v, norm, f, err);
    }
    if (!rc) rc = point_figures(d, v, f, err);
    vg_error undefined;
    if (!rc && d->pixels && vg_roc_hist_curve(d->pixels, &f->pixel, &undefined))
        f->pixel_note = "undefined: the masks have pixels of one class only";
    if (!d->pixels) f->pixel_note = "no --masks";
    free(v), free(norm);
    return rc;
}

static void figures_free(figures *f) {
    for (int k = 0; k < EVAL_KINDS; k++)
        for (int z = 0; z < 2; z++) vg_roc_free(&f->frame[k][z]), vg_roc_free(&f->cases[k][z]);
    vg_roc_free(&f->pixel);
}

/* ---- the table ------------------------------------------------------------------------ */

static void row(figures *f, const char *metric, const char *score, const char *raw,
                const char *norm) {
    const char *v[COLS] = {metric, score, raw, norm};
    for (int c = 0; c < COLS; c++) snprintf(f->cells[f->rows][c], CELL, "%s", v[c]);
    f->rows++;
}

static void fill_table(const eval_data *d, figures *f) {
    row(f, "metric", "score", "raw scores, pooled", "per-clip min-max normalised *");
    char raw[CELL], norm[CELL];
    for (int i = 0; i < EVAL_KINDS; i++) {
        int k = SHOWN[i];
        const char *name = vg_score_kind_name((vg_score_kind)k);
        snprintf(raw, CELL, "%.4f", f->frame[k][0].auc);
        snprintf(norm, CELL, "%.4f", f->frame[k][1].auc);
        row(f, "frame AUC (micro)", name, raw, norm);
        if (isnan(f->macro[k])) snprintf(raw, CELL, "undefined: no clip has both classes");
        else snprintf(raw, CELL, "%.4f (%d of %d clips)", f->macro[k], f->macro_clips[k],
                      d->n_clips);
        row(f, "frame AUC (macro)", name, raw, isnan(f->macro[k]) ? raw : "the same (per clip)");
        snprintf(raw, CELL, "%.4f", f->frame[k][0].eer);
        snprintf(norm, CELL, "%.4f", f->frame[k][1].eer);
        row(f, "frame EER", name, raw, norm);
        snprintf(raw, CELL, "%.4f (%lld cases, %lld anomalous)", f->cases[k][0].auc,
                 f->cases[k][0].pos + f->cases[k][0].neg, f->cases[k][0].pos);
        snprintf(norm, CELL, "%.4f", f->cases[k][1].auc);
        row(f, "case AUC (thesis 4.1)", name, raw, norm);
    }
    if (f->pixel_note) snprintf(raw, CELL, "%s", f->pixel_note);
    else snprintf(raw, CELL, "%.4f (+-%.4f binning)", f->pixel.auc, f->pixel.auc_bound);
    row(f, "pixel AUROC", "error map", raw, "n/a");
}

/* The threshold in the score's own units, e.g. "patch >= 0.0123" or "PSNR <= 28.1 dB". */
static void describe_point(const eval_point *p, char *out, size_t size) {
    if (p->score == VG_SCORE_PSNR) snprintf(out, size, "PSNR <= %.4g dB", -p->threshold);
    else snprintf(out, size, "patch score >= %.6g", p->threshold);
}

/* Where the frame rate of the false-alarm figure came from. */
static void describe_fps(const eval_data *d, char *out, size_t size) {
    double fps = d->clips[0].fps;
    int same = 1;
    for (int c = 1; c < d->n_clips; c++) same &= d->clips[c].fps == fps;
    if (d->o->fps > 0) snprintf(out, size, "%g fps, from --fps", d->o->fps);
    else if (same) snprintf(out, size, "%g fps, as the files state", fps);
    else snprintf(out, size, "each file at the rate it states");
}

static void fill_lines(const eval_data *d, figures *f) {
    const eval_point *p = &d->point;
    const vg_alarm_stats *a = &f->alarms;
    char thr[96], fps[96];
    if (!p->known) {
        snprintf(f->lines[f->n_lines++], LINE, "operating point: no calibrated threshold (run "
                 "vigil calibrate, or pass --threshold X)");
        return;
    }
    describe_point(p, thr, sizeof thr);
    char smooth[64] = "raw scores";
    if (p->smooth > 1) snprintf(smooth, sizeof smooth, "scores smoothed over %d frames", p->smooth);
    snprintf(f->lines[f->n_lines++], LINE, "operating point: %s (%s; from %s)", thr, smooth,
             p->from);
    snprintf(f->lines[f->n_lines++], LINE, "  frames  TPR %.4f (%lld of %lld anomalous), FPR "
             "%.4f (%lld of %lld normal)", a->tpr, a->hits, a->anomalous, a->fpr,
             a->false_hits, a->normal);
    snprintf(f->lines[f->n_lines++], LINE, "  cases   %lld of %lld anomalous intervals caught "
             "(a frame flagged)", a->cases_detected, a->cases);
    if (isnan(f->normal_seconds)) {
        snprintf(f->lines[f->n_lines++], LINE, "  alarms  %lld false alarms; per hour: unknown "
                 "frame rate (image folders state none: pass --fps, 10 for UCSD Ped2)",
                 a->false_alarms);
        return;
    }
    describe_fps(d, fps, sizeof fps);
    snprintf(f->lines[f->n_lines++], LINE, "  alarms  %lld false alarms in %.1f s of normal "
             "footage: %.1f per hour (%s)", a->false_alarms, f->normal_seconds,
             f->normal_seconds > 0 ? (double)a->false_alarms * 3600 / f->normal_seconds : NAN,
             fps);
}

static const char *const NORMALISED_NOTE =
    "* each test clip's scores mapped to [0, 1] by that clip's own min and max, as FFP, MNAD\n"
    "  and MemAE evaluate: test statistics a detector cannot know; for comparison with\n"
    "  published numbers only.";

static void print_table(const eval_data *d, const figures *f) {
    long long pos = 0;
    for (long long j = 0; j < d->n; j++) pos += d->label[j];
    printf("%lld scored frames of %d clips (%lld anomalous)\n", d->n, d->n_clips, pos);
    int w[COLS] = {0};
    for (int r = 0; r < f->rows; r++)
        for (int c = 0; c < COLS; c++) {
            int len = (int)strlen(f->cells[r][c]);
            w[c] = len > w[c] ? len : w[c];
        }
    for (int r = 0; r < f->rows; r++)
        printf("  %-*s  %-*s  %-*s  %s\n", w[0], f->cells[r][0], w[1], f->cells[r][1], w[2],
               f->cells[r][2], f->cells[r][3]);
    printf("%s\n", NORMALISED_NOTE);
    for (int i = 0; i < f->n_lines; i++) printf("%s\n", f->lines[i]);
    printf("scoring: %.1f s, %.1f frames/s (decode included)\n", d->seconds,
           (double)d->n / d->seconds);
}

/* ---- the HTML report ------------------------------------------------------------------ */

static int roc_chart(vg_html *h, const char *title, vg_roc (*rocs)[2], int z,
                     const vg_roc *pixel, vg_error *err) {
    vg_series s[EVAL_KINDS + 1];
    int n = 0;
    for (int i = 0; i < EVAL_KINDS; i++) {
        const vg_roc *r = &rocs[SHOWN[i]][z];
        s[n++] = (vg_series){vg_score_kind_name(SHOWN[i]), r->fpr, r->tpr, r->n};
    }
    if (pixel) s[n++] = (vg_series){"pixels (error map)", pixel->fpr, pixel->tpr, pixel->n};
    vg_chart c = {.kind = VG_CHART_ROC, .title = title, .series = s, .n_series = n};
    return vg_html_chart(h, &c, err);
}

/* The value of frame j in the score's own units (PSNR in dB). */
static double shown_value(vg_score_kind k, double anomaly) {
    return k == VG_SCORE_PSNR ? -anomaly : anomaly;
}

/* The normal frames' and the anomalous frames' scores, with the threshold. */
static int histogram(vg_html *h, const eval_data *d, vg_score_kind k, vg_error *err) {
    double *v[2] = {malloc((size_t)d->n * sizeof(double)), malloc((size_t)d->n * sizeof(double))};
    long long n[2] = {0, 0};
    int rc = v[0] && v[1] ? VG_OK : cli_set_error(err, VG_ERR_NOMEM, "out of memory for a histogram");
    for (long long j = 0; !rc && j < d->n; j++)
        v[d->label[j] != 0][n[d->label[j] != 0]++] = shown_value(k, d->value[k][j]);
    vg_series s[2] = {{"normal frames", v[0], NULL, n[0]}, {"anomalous frames", v[1], NULL, n[1]}};
    char title[128];
    snprintf(title, sizeof title, "%s per frame (raw), by ground truth", k == VG_SCORE_PSNR ?
             "PSNR dB" : "patch score");
    vg_chart c = {.kind = VG_CHART_HISTOGRAM, .title = title, .series = s, .n_series = 2,
                  .bins = 60, .has_marker = d->point.known && d->point.score == k,
                  .marker = shown_value(k, d->point.threshold)};
    if (!rc) rc = vg_html_chart(h, &c, err);
    free(v[0]), free(v[1]);
    return rc;
}

/* One clip's score over its frames (context frames empty) with the truth shaded. */
static int clip_timeline(vg_html *h, const eval_data *d, const eval_clip *c, vg_score_kind k,
                         int smooth, vg_error *err) {
    double *v = malloc((size_t)c->frames * sizeof *v), *s = malloc((size_t)c->frames * sizeof *s);
    if (!v || !s) {
        free(v), free(s);
        return cli_set_error(err, VG_ERR_NOMEM, "out of memory for a timeline");
    }
    for (int i = 0; i < c->frames; i++) v[i] = NAN;
    for (long long j = c->first; j < c->first + c->n; j++)
        v[d->frame[j]] = shown_value(k, d->value[k][j]);
    vg_smooth(v, s, c->frames, smooth);
    static const char *const lo[][3] = {{"patch_score", "percentiles", "0.5"},
                                        {"psnr", "percentiles", "0.5"}};
    static const char *const hi[][3] = {{"patch_score", "percentiles", "99.5"},
                                        {"psnr", "percentiles", "99.5"}};
    char title[320];
    snprintf(title, sizeof title, "clip %s", c->name);
    vg_timeline tl = {.title = title, .ylabel = k == VG_SCORE_PSNR ? "PSNR dB" : "patch score",
                      .score = v, .smooth = smooth > 1 ? s : NULL, .n = c->frames,
                      .higher_is_normal = k == VG_SCORE_PSNR, .truth = c->truth,
                      .has_threshold = d->point.known && d->point.score == k,
                      .threshold = shown_value(k, d->point.threshold)};
    if (!(vg_model_meta_number(d->m, "validation", lo[k], 3, &tl.band_lo) &&
          vg_model_meta_number(d->m, "validation", hi[k], 3, &tl.band_hi)))
        tl.band_lo = tl.band_hi = 0;
    int rc = vg_html_timeline(h, &tl, err);
    free(v), free(s);
    return rc;
}

static int report_intro(vg_html *h, const eval_data *d, vg_error *err) {
    vg_model_info i = vg_model_describe(d->m);
    char text[1024];
    snprintf(text, sizeof text, "Model %s: encoder %s, variant %s, %d past frames %d apart, "
             "%dx%d. Footage: %lld scored frames of %d clips (the first %d frames of each clip "
             "are context and get no score). Labels: %s. ROC figures use scores smoothed over "
             "%d frame(s).", d->o->model, i.encoder, i.variant, i.frames, i.step, i.width,
             i.height, d->n, d->n_clips, i.context, d->o->labels, d->o->smooth);
    return vg_html_text(h, text, err);
}

static int report_figures(vg_html *h, const eval_data *d, figures *f, vg_error *err) {
    const char *cells[ROWS * COLS];
    for (int r = 0; r < f->rows; r++)
        for (int c = 0; c < COLS; c++) cells[r * COLS + c] = f->cells[r][c];
    int rc = vg_html_section(h, "Metrics", err);
    if (!rc) rc = vg_html_table(h, cells, f->rows, COLS, err);
    if (!rc) rc = vg_html_text(h, NORMALISED_NOTE, err);
    if (!rc) rc = vg_html_section(h, "Operating point", err);
    for (int i = 0; i < f->n_lines && !rc; i++) rc = vg_html_text(h, f->lines[i], err);
    if (!rc) rc = vg_html_section(h, "ROC curves", err);
    if (!rc) rc = roc_chart(h, "frame level, raw scores pooled", f->frame, 0,
                            f->pixel_note ? NULL : &f->pixel, err);
    if (!rc) rc = roc_chart(h, "case level (thesis 4.1), raw scores", f->cases, 0, NULL, err);
    if (!rc) rc = roc_chart(h, "frame level, per-clip min-max normalised (test statistics)",
                            f->frame, 1, NULL, err);
    vg_score_kind k = d->point.known ? d->point.score : VG_SCORE_PATCH;
    if (!rc) rc = histogram(h, d, k, err);
    return rc;
}

static int report_clips(vg_html *h, const eval_data *d, vg_error *err) {
    vg_score_kind k = d->point.known ? d->point.score : VG_SCORE_PATCH;
    int smooth = d->point.known ? d->point.smooth : d->o->smooth;
    int rc = vg_html_section(h, "Score timelines (ground truth shaded)", err);
    for (int c = 0; c < d->n_clips && !rc; c++)
        if (d->clips[c].n) rc = clip_timeline(h, d, &d->clips[c], k, smooth, err);
    if (!rc) rc = vg_html_section(h, "Heat maps: each clip's highest patch score", err);
    for (int c = 0; c < d->n_clips && !rc; c++) {
        const eval_clip *e = &d->clips[c];
        char caption[400];
        snprintf(caption, sizeof caption, "clip %s, frame %d: patch score %.4g", e->name, e->best,
                 e->best_patch);
        if (e->n) rc = vg_html_image(h, e->heatmap, caption, err);
    }
    return rc;
}

static int write_html(const eval_data *d, figures *f, vg_error *err) {
    char title[4200], path[4200];
    snprintf(title, sizeof title, "vigil eval: %s", d->o->model);
    snprintf(path, sizeof path, "%s/report.html", d->o->report);
    vg_html *h = NULL;
    int rc = vg_html_create(title, &h, err);
    if (!rc) rc = report_intro(h, d, err);
    if (!rc) rc = report_figures(h, d, f, err);
    if (!rc) rc = report_clips(h, d, err);
    if (!rc) rc = vg_html_write(h, path, err);
    vg_html_free(h);
    if (!rc) fprintf(stderr, "vigil: eval: wrote %s\n", path);
    return rc;
}

int eval_report(const eval_data *d, vg_error *err) {
    figures *f = calloc(1, sizeof *f);
    if (!f) return cli_set_error(err, VG_ERR_NOMEM, "out of memory for the figures");
    int rc = compute(d, f, err);
    if (!rc) {
        fill_table(d, f);
        fill_lines(d, f);
        print_table(d, f);
    }
    if (!rc && d->o->report) rc = write_html(d, f, err);
    figures_free(f);
    free(f);
    return rc;
}
