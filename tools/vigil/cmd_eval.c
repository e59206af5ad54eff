/* cmd_eval.c - vigil eval: how well a model finds the anomalies of labelled footage.
 *
 *   vigil eval -m MODEL --labels FILE [--masks DIR] [--report DIR] [options] SOURCE...
 *
 * Scores every clip as vigil score does (each frame encoded once; the first T frames of a
 * clip are context and get no score), through the size, ROI and fit the model was trained
 * with, and keeps per scored frame its anomaly values (patch score, -PSNR), label, clip
 * and frame number; with --masks it also adds each frame's error map, pixel by pixel
 * against its mask, to a ROC histogram; with --report it keeps each clip's highest-scoring
 * frame for a heat map. eval_report.c then computes and shows the figures of SYSTEM.md's
 * evaluation protocol. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eval.h"

static void help(FILE *f) {
    fprintf(f,
            "usage: vigil eval -m MODEL --labels FILE [options] SOURCE...\n"
            "Scores labelled footage and reports frame-level ROC AUC pooled over every scored\n"
            "frame (micro), macro AUC, EER, case-level AUC (thesis 4.1: each anomalous or\n"
            "normal interval is one case), pixel-level AUROC with --masks, and TPR and false\n"
            "alarms per hour at the calibrated threshold; each also after per-clip min-max\n"
            "normalisation, labelled: it uses test statistics (comparison with papers only).\n"
            "  --labels FILE     ground truth, either JSON {\"clips\": {\"NAME\": [0,1,...]}}: one\n"
            "                    label per frame (e.g. ped2_frame_labels.json), or intervals:\n"
            "                    lines \"CLIP START END\" naming anomalous frames (0-based,\n"
            "                    inclusive; '#' comments; frames not listed are normal). NAME\n"
            "                    is the clip's folder or file name without extension\n"
            "  --masks DIR       pixel masks DIR/NAME/*.png, one per frame, the frames' size\n"
            "                    (e.g. ped2/testing/masks), taken through the model's ROI and\n"
            "                    fit by nearest neighbour: pixel-level AUROC of the error map\n"
            "  --report DIR      write DIR/report.html, self-contained: metrics, ROC curves,\n"
            "                    a score timeline per clip, its top heat map (also as\n"
            "                    DIR/heatmaps/NAME.png)\n"
            "  --threshold X     operating point, in the score's units (patch score, or PSNR\n"
            "                    dB: flagged at or below); default: the model's calibration\n"
            "  --score NAME      patch | psnr: the score of --threshold (default patch)\n"
            "  --fps F           frame rate for false alarms per hour (image folders state\n"
            "                    none; UCSD Ped2 was recorded at 10)\n"
            "  --smooth N        causal moving average of the scores for the ROC figures\n"
            "                    (default 1: none; the threshold figures use the calibration's)\n"
            "  --patch N         patch score window (default: the calibration's, else %d)\n"
            "  -o FILE           per-frame CSV: clip, frame, label, psnr, patch (smoothed as\n"
            "                    for the ROC figures)\n"
            "  --bf16            score in bfloat16 (AVX512_BF16 CPUs; about 2x faster)\n"
            "  --threads N\n",
            VG_PATCH_DEFAULT);
}

static int on_flag(void *opts, const char *a) {
    if (strcmp(a, "--bf16")) return 0;
    ((eval_opts *)opts)->bf16 = 1;
    return 1;
}

static int on_source(void *opts, const char *a) {
    eval_opts *o = opts;
    if (o->n_sources == EVAL_MAX_SOURCES)
        return fprintf(stderr, "vigil: eval: more than %d sources\n", EVAL_MAX_SOURCES), 0;
    o->sources[o->n_sources++] = a;
    return 1;
}

static int on_option(void *opts, const char *a, const char *v) {
    eval_opts *o = opts;
    long n = 0;
    int ok = 1, k = 0;
    if (!strcmp(a, "-m")) o->model = v;
    else if (!strcmp(a, "--labels")) o->labels = v;
    else if (!strcmp(a, "--masks")) o->masks = v;
    else if (!strcmp(a, "--report")) o->report = v;
    else if (!strcmp(a, "-o")) o->out = v;
    else if (!strcmp(a, "--threshold"))
        ok = cli_double(a, v, -1e300, 1e300, &o->threshold), o->has_threshold = 1;
    else if (!strcmp(a, "--score")) ok = cli_choice(a, v, cli_score_names, 2, &k), o->score = (vg_score_kind)k;
    else if (!strcmp(a, "--fps")) ok = cli_double(a, v, 1e-3, 1e6, &o->fps);
    else if (!strcmp(a, "--patch"))
        ok = cli_int(a, v, 1, 4096, &n), o->patch = (int)n, o->has_patch = 1;
    else if (!strcmp(a, "--smooth")) ok = cli_int(a, v, 1, 10000, &n), o->smooth = (int)n;
    else if (!strcmp(a, "--threads")) ok = cli_int(a, v, 0, 1024, &n), o->threads = (int)n;
    else return -1;
    return ok;
}

static int parse(int argc, char **argv, eval_opts *o) {
    memset(o, 0, sizeof *o);
    o->patch = VG_PATCH_DEFAULT;
    o->smooth = 1;
    o->score = VG_SCORE_PATCH;
    static const cli_parser parser = {"eval", help, on_flag, on_source, on_option};
    int rc = cli_parse(&parser, o, argc, argv);
    if (rc) return rc;
    if (!o->model || !o->labels)
        return fprintf(stderr, "vigil: eval: -m MODEL and --labels FILE are required\n"), 2;
    if (!o->n_sources) return fprintf(stderr, "vigil: eval: no footage given\n"), 2;
    return 0;
}

/* ---- the operating point --------------------------------------------------------------- */

/* The threshold figures' operating point: --threshold, else the model's calibration, whose
 * patch window then is the default. */
static int operating_point(eval_data *d, int *patch, vg_error *err) {
    const eval_opts *o = d->o;
    vg_calibration cal;
    int rc = vg_model_calibration(d->m, &cal, err), calibrated = rc == VG_OK;
    if (rc && rc != VG_ERR_MISSING) return rc;
    *patch = o->has_patch || !calibrated ? o->patch : cal.patch;
    if (o->has_threshold)
        d->point = (eval_point){1, o->score,
                                o->score == VG_SCORE_PSNR ? -o->threshold : o->threshold,
                                o->smooth, "--threshold"};
    else if (calibrated)
        d->point = (eval_point){1, cal.score, cal.threshold, cal.smooth,
                                "the model's calibration"};
    if (calibrated && !o->has_threshold && cal.score == VG_SCORE_PATCH && *patch != cal.patch)
        fprintf(stderr, "vigil: eval: note: the calibrated threshold is for --patch %d, the "
                "patch scores here use %d\n", cal.patch, *patch);
    return VG_OK;
}

/* ---- per-frame arrays ----------------------------------------------------------------- */

static int grow(eval_data *d) {
    long long cap = d->cap ? 2 * d->cap : 4096;
    void **cols[] = {(void **)&d->value[0], (void **)&d->value[1], (void **)&d->label,
                     (void **)&d->clip, (void **)&d->frame};
    size_t sizes[] = {sizeof(double), sizeof(double), 1, sizeof(int), sizeof(int)};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        void *p = realloc(*cols[k], (size_t)cap * sizes[k]);
        if (!p) return 0;
        *cols[k] = p;
    }
    d->cap = cap;
    return 1;
}

static int push_frame(eval_data *d, int frame, const vg_score *s) {
    if (d->n == d->cap && !grow(d)) return 0;
    for (int k = 0; k < EVAL_KINDS; k++) d->value[k][d->n] = vg_anomaly_value((vg_score_kind)k, s);
    d->label[d->n] = 0; /* known once the clip's length is */
    d->clip[d->n] = d->n_clips - 1, d->frame[d->n] = frame;
    d->n++;
    return 1;
}

/* The clip's name for the labels and masks: its last path component without extension. */
static void clip_name(const char *path, char *out, size_t size) {
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') len--;
    const char *base = path;
    for (size_t i = 0; i < len; i++)
        if (path[i] == '/') base = path + i + 1;
    size_t n = (size_t)(path + len - base);
    const char *dot = memchr(base, '.', n);
    if (dot && dot != base) n = (size_t)(dot - base);
    snprintf(out, size, "%.*s", (int)n, base);
}

static eval_clip *add_clip(eval_data *d, const char *path) {
    if (d->n_clips == d->cap_clips) {
        int cap = d->cap_clips ? 2 * d->cap_clips : 64;
        eval_clip *c = realloc(d->clips, (size_t)cap * sizeof *c);
        if (!c) return NULL;
        d->clips = c, d->cap_clips = cap;
    }
    eval_clip *c = &d->clips[d->n_clips++];
    *c = (eval_clip){.first = d->n, .best = -1, .best_patch = -INFINITY};
    clip_name(path, c->name, sizeof c->name);
    return c;
}

void eval_smooth(const eval_data *d, const double *in, int w, double *out) {
    for (int c = 0; c < d->n_clips; c++) {
        const eval_clip *k = &d->clips[c];
        vg_smooth(in + k->first, out + k->first, (int)k->n, w);
    }
}

/* ---- scoring -------------------------------------------------------------------------- */

typedef struct scoring {
    eval_data *d;
    vg_labels *labels;
    vg_scorer *sc;
    vg_source_params sp;
    int width, height;         /* the model's */
    float *map, *best_map;     /* error maps: with --masks or --report */
    unsigned char *mask, *best_rgb;
} scoring;

/* The size of path's frames as decoded (before any ROI), from its first frame. */
static int frame_size(const char *path, int *w, int *h, vg_error *err) {
    vg_source_params p = vg_source_default_params();
    vg_source *src = NULL;
    vg_frame f;
    int rc = vg_source_open(path, &p, &src, err);
    if (!rc) rc = vg_source_read(src, &f, err);
    if (!rc) *w = f.width, *h = f.height;
    vg_source_close(src);
    return rc;
}

static int open_masks(const scoring *s, const char *path, const char *name, vg_masks **out,
                      vg_error *err) {
    char dir[4096];
    int w = 0, h = 0;
    snprintf(dir, sizeof dir, "%s/%s", s->d->o->masks, name);
    int rc = frame_size(path, &w, &h, err);
    return rc ? rc : vg_masks_open(dir, w, h, &s->sp, out, err);
}

/* Scores frame k of clip c; keeps its values, adds its pixels, keeps it if it is the
 * clip's highest-scoring frame so far. */
static int score_frame(scoring *s, eval_clip *c, vg_masks *masks, const vg_frame *fr, int k,
                       vg_error *err) {
    vg_score sc;
    int scored = 0, rc = vg_scorer_push(s->sc, fr->rgb, &sc, s->map, NULL, &scored, err);
    if (rc || !scored) return rc;
    if (!push_frame(s->d, k, &sc)) return cli_set_error(err, VG_ERR_NOMEM, "out of memory for scores");
    c->n++;
    size_t pixels = (size_t)s->width * s->height;
    if (masks) rc = vg_masks_read(masks, k, s->mask, err);
    if (!rc && masks) rc = vg_roc_hist_add(s->d->pixels, s->map, s->mask, (long long)pixels, err);
    if (!rc && s->best_rgb && sc.patch > c->best_patch) {
        memcpy(s->best_rgb, fr->rgb, pixels * 3);
        memcpy(s->best_map, s->map, pixels * sizeof *s->map);
        c->best = k, c->best_patch = sc.patch;
    }
    return rc;
}

/* The clip's labels for its frame count, onto its scored frames. */
static int take_labels(scoring *s, eval_clip *c, vg_error *err) {
    if (!(c->truth = malloc((size_t)c->frames)))
        return cli_set_error(err, VG_ERR_NOMEM, "out of memory for labels");
    int rc = vg_labels_get(s->labels, c->name, c->frames, c->truth, err);
    for (long long j = c->first; !rc && j < c->first + c->n; j++)
        s->d->label[j] = c->truth[s->d->frame[j]];
    return rc;
}

static int write_heatmap(scoring *s, eval_clip *c, vg_error *err) {
    snprintf(c->heatmap, sizeof c->heatmap, "%s/heatmaps/%s.png", s->d->o->report, c->name);
    return vg_heatmap_png(c->heatmap, s->best_rgb, s->best_map, s->width, s->height, 0, err);
}

static int is_folder(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int eval_clip_at(scoring *s, const char *path, vg_error *err) {
    const eval_opts *o = s->d->o;
    eval_clip *c = add_clip(s->d, path);
    if (!c) return cli_set_error(err, VG_ERR_NOMEM, "out of memory for clips");
    vg_source *src = NULL;
    vg_masks *masks = NULL;
    int rc = vg_source_open(path, &s->sp, &src, err), k = 0;
    if (!rc && o->masks) rc = open_masks(s, path, c->name, &masks, err);
    if (!rc) c->fps = o->fps > 0 ? o->fps : is_folder(path) ? 0 : vg_source_fps(src);
    vg_scorer_reset(s->sc);
    vg_frame fr;
    while (!rc && (rc = vg_source_read(src, &fr, err)) == VG_OK) rc = score_frame(s, c, masks, &fr, k++, err);
    if (rc == VG_END) rc = VG_OK;
    c->frames = k;
    if (!rc && masks && vg_masks_count(masks) != k)
        rc = cli_set_error(err, VG_ERR_SHAPE, "%s/%s: %d masks, but %s has %d frames", o->masks,
                           c->name, vg_masks_count(masks), path, k);
    if (!rc) rc = take_labels(s, c, err);
    if (!rc && s->best_rgb && c->n) rc = write_heatmap(s, c, err);
    vg_masks_free(masks);
    vg_source_close(src);
    if (!rc && !c->n)
        fprintf(stderr, "vigil: eval: %s: %d frames, none scored (the first %d are context)\n",
                c->name, k, vg_model_describe(s->d->m).context);
    else if (!rc) fprintf(stderr, "vigil: eval: %s: %d frames\n", c->name, k);
    return rc;
}

/* Buffers for error maps, masks and heat maps, as the options need them. */
static int scoring_buffers(scoring *s, vg_error *err) {
    const eval_opts *o = s->d->o;
    size_t pixels = (size_t)s->width * s->height;
    int ok = 1;
    if (o->masks || o->report) ok &= !!(s->map = malloc(pixels * sizeof *s->map));
    if (o->masks) ok &= !!(s->mask = malloc(pixels));
    if (o->report) ok &= !!(s->best_map = malloc(pixels * sizeof *s->best_map));
    if (o->report) ok &= !!(s->best_rgb = malloc(pixels * 3));
    return ok ? VG_OK : cli_set_error(err, VG_ERR_NOMEM, "out of memory for error maps");
}

/* DIR and DIR/heatmaps for --report. */
static int make_report_dirs(const char *dir, vg_error *err) {
    char sub[4096];
    snprintf(sub, sizeof sub, "%s/heatmaps", dir);
    int rc = cli_make_dir(dir, err);
    return rc ? rc : cli_make_dir(sub, err);
}

static int score_all(scoring *s, vg_error *err) {
    const eval_opts *o = s->d->o;
    int rc = VG_OK;
    double t0 = cli_now();
    for (int i = 0; i < o->n_sources && !rc; i++) {
        char **clips = NULL;
        int n = 0;
        rc = vg_clips_list(o->sources[i], &clips, &n, err);
        for (int c = 0; c < n && !rc; c++) rc = eval_clip_at(s, clips[c], err);
        if (clips) vg_clips_free(clips, n);
    }
    s->d->seconds = cli_now() - t0;
    if (!rc && s->d->n == 0)
        rc = cli_set_error(err, VG_ERR_ARG, "no frame was scored: each clip needs more than %d "
                           "frames", vg_model_describe(s->d->m).context);
    return rc;
}

/* ---- the command ---------------------------------------------------------------------- */

static int write_csv(const eval_data *d, vg_error *err) {
    const eval_opts *o = d->o;
    FILE *f = fopen(o->out, "w");
    if (!f) return cli_set_error(err, VG_ERR_IO, "%s: cannot write (%s)", o->out, strerror(errno));
    double *v[EVAL_KINDS] = {malloc((size_t)d->n * sizeof(double)),
                             malloc((size_t)d->n * sizeof(double))};
    int rc = v[0] && v[1] ? VG_OK : cli_set_error(err, VG_ERR_NOMEM, "out of memory for the CSV");
    for (int k = 0; !rc && k < EVAL_KINDS; k++) eval_smooth(d, d->value[k], o->smooth, v[k]);
    fprintf(f, "clip,frame,label,psnr,patch\n");
    for (long long j = 0; !rc && j < d->n; j++)
        fprintf(f, "%s,%d,%d,%.4f,%.8g\n", d->clips[d->clip[j]].name, d->frame[j], d->label[j],
                -v[VG_SCORE_PSNR][j], v[VG_SCORE_PATCH][j]);
    if (fclose(f) && !rc) rc = cli_set_error(err, VG_ERR_IO, "%s: cannot write", o->out);
    free(v[0]), free(v[1]);
    return rc;
}

static int run(scoring *s, vg_error *err) {
    eval_data *d = s->d;
    const eval_opts *o = d->o;
    int patch = o->patch;
    int rc = vg_labels_load(o->labels, &s->labels, err);
    if (!rc) rc = vg_model_load(o->model, o->threads, &d->m, err);
    if (!rc && o->bf16) rc = vg_model_set_bf16(d->m, 1, err);
    if (!rc) rc = operating_point(d, &patch, err);
    if (!rc) rc = vg_scorer_create(d->m, patch, &s->sc, err);
    if (!rc && o->masks) rc = vg_roc_hist_create(1e-9, 1, 4096, &d->pixels, err);
    if (!rc && o->report) rc = make_report_dirs(o->report, err);
    if (!rc) {
        s->sp = vg_model_source_params(d->m);
        s->width = s->sp.width, s->height = s->sp.height;
        rc = scoring_buffers(s, err);
    }
    if (!rc) rc = score_all(s, err);
    if (!rc && o->out) rc = write_csv(d, err);
    return rc ? rc : eval_report(d, err);
}

static void data_free(eval_data *d) {
    for (int k = 0; k < EVAL_KINDS; k++) free(d->value[k]);
    free(d->label), free(d->clip), free(d->frame);
    for (int c = 0; c < d->n_clips; c++) free(d->clips[c].truth);
    free(d->clips);
    vg_roc_hist_free(d->pixels);
    vg_model_free(d->m);
}

int cmd_eval(int argc, char **argv) {
    eval_opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    eval_data d = {.o = &o};
    scoring s = {.d = &d};
    vg_error err = {0};
    rc = run(&s, &err);
    vg_scorer_free(s.sc);
    vg_labels_free(s.labels);
    free(s.map), free(s.best_map), free(s.mask), free(s.best_rgb);
    data_free(&d);
    return rc ? cli_fail("eval", &err) : 0;
}
