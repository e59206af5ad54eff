/* cmd_eval.c - vigil eval: frame-level ROC AUC of a model on labelled footage.
 *
 *   vigil eval -m MODEL --labels FILE [options] SOURCE...
 *
 * Scores every clip as vigil score does (each frame encoded once, the first T frames of a
 * clip are context) and reports the AUC of PSNR (lower = anomalous) and of the patch score
 * pooled over all scored frames, the protocol of SYSTEM.md; and, labelled as such, the
 * figure after per-clip min-max normalisation, which uses the test clips' own statistics
 * and is shown only for comparison with papers that report it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_SOURCES 256

typedef struct eval_opts {
    const char *model, *labels, *out;
    const char *sources[MAX_SOURCES];
    int n_sources, patch, smooth, threads, bf16;
} eval_opts;

typedef struct frames {
    double *psnr, *patch;
    unsigned char *label;
    int *clip;
    long long n, cap;
} frames;

static void help(FILE *f) {
    fprintf(f,
            "usage: vigil eval -m MODEL --labels FILE [options] SOURCE...\n"
            "Frame-level ROC AUC, pooled over every scored frame of every clip.\n"
            "  --labels FILE     {\"clips\": {\"NAME\": [0,1,...]}}: one label per frame, NAME\n"
            "                    the clip's folder or file name (e.g. ped2_frame_labels.json)\n"
            "  --smooth N        causal moving average of the scores (default 1: none)\n"
            "  --patch N         patch score window (default %d)\n"
            "  -o FILE           per-frame CSV: clip, frame, label, psnr, patch\n"
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
    if (o->n_sources == MAX_SOURCES) return fprintf(stderr, "vigil: eval: too many sources\n"), 0;
    o->sources[o->n_sources++] = a;
    return 1;
}

static int on_option(void *opts, const char *a, const char *v) {
    eval_opts *o = opts;
    long n = 0;
    int ok = 1;
    if (!strcmp(a, "-m")) o->model = v;
    else if (!strcmp(a, "--labels")) o->labels = v;
    else if (!strcmp(a, "-o")) o->out = v;
    else if (!strcmp(a, "--patch")) ok = cli_int(a, v, 1, 4096, &n), o->patch = (int)n;
    else if (!strcmp(a, "--smooth")) ok = cli_int(a, v, 1, 10000, &n), o->smooth = (int)n;
    else if (!strcmp(a, "--threads")) ok = cli_int(a, v, 0, 1024, &n), o->threads = (int)n;
    else return -1;
    return ok;
}

static int parse(int argc, char **argv, eval_opts *o) {
    memset(o, 0, sizeof *o);
    o->patch = VG_PATCH_DEFAULT;
    o->smooth = 1;
    static const cli_parser parser = {"eval", help, on_flag, on_source, on_option};
    int rc = cli_parse(&parser, o, argc, argv);
    if (rc) return rc;
    if (!o->model || !o->labels)
        return fprintf(stderr, "vigil: eval: -m MODEL and --labels FILE are required\n"), 2;
    if (!o->n_sources) return fprintf(stderr, "vigil: eval: no footage given\n"), 2;
    return 0;
}

static int push(frames *f, int clip, double psnr, double patch, unsigned char label) {
    if (f->n == f->cap) {
        long long cap = f->cap ? 2 * f->cap : 4096;
        double *a = realloc(f->psnr, (size_t)cap * sizeof *a);
        if (a) f->psnr = a;
        double *b = realloc(f->patch, (size_t)cap * sizeof *b);
        if (b) f->patch = b;
        unsigned char *c = realloc(f->label, (size_t)cap);
        if (c) f->label = c;
        int *d = realloc(f->clip, (size_t)cap * sizeof *d);
        if (d) f->clip = d;
        if (!a || !b || !c || !d) return 0;
        f->cap = cap;
    }
    f->psnr[f->n] = psnr, f->patch[f->n] = patch, f->label[f->n] = label, f->clip[f->n] = clip;
    f->n++;
    return 1;
}

/* The clip's name for the labels: its last path component without an extension. */
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

typedef struct eval_run {
    const eval_opts *o;
    vg_model *m;
    vg_labels *labels;
    vg_scorer *sc;
    frames f;
    int clips;
    FILE *csv;
} eval_run;

/* Scores one clip; its frame count must match its labels. */
static int eval_clip(eval_run *r, const char *path, vg_error *err) {
    char name[256];
    clip_name(path, name, sizeof name);
    int n = 0;
    const unsigned char *lab = vg_labels_clip(r->labels, name, &n);
    if (!lab) return cli_set_error(err, VG_ERR_ARG, "%s: the labels have no clip '%s'", path, name);
    vg_model_info i = vg_model_describe(r->m);
    vg_source_params sp = vg_source_default_params();
    sp.width = i.width, sp.height = i.height;
    vg_source *src = NULL;
    int rc = vg_source_open(path, &sp, &src, err), k = 0;
    long long first = r->f.n;
    vg_frame fr;
    vg_scorer_reset(r->sc);
    while (!rc && (rc = vg_source_read(src, &fr, err)) == VG_OK) {
        vg_score s;
        int scored = 0;
        rc = vg_scorer_push(r->sc, fr.rgb, &s, NULL, NULL, &scored, err);
        if (!rc && scored && k < n && !push(&r->f, r->clips, s.psnr, s.patch, lab[k]))
            rc = cli_set_error(err, VG_ERR_NOMEM, "out of memory for scores");
        k++;
    }
    vg_source_close(src);
    if (rc == VG_END) rc = VG_OK;
    if (!rc && k != n)
        rc = cli_set_error(err, VG_ERR_ARG, "%s: %d frames, but the labels of '%s' have %d", path,
                           k, name, n);
    /* smoothing stays inside the clip */
    if (!rc) vg_smooth(r->f.psnr + first, r->f.psnr + first, (int)(r->f.n - first), r->o->smooth);
    if (!rc) vg_smooth(r->f.patch + first, r->f.patch + first, (int)(r->f.n - first), r->o->smooth);
    for (long long j = first; !rc && r->csv && j < r->f.n; j++)
        fprintf(r->csv, "%s,%lld,%d,%.4f,%.8g\n", name, j - first + i.frames, r->f.label[j],
                r->f.psnr[j], r->f.patch[j]);
    r->clips++;
    fprintf(stderr, "vigil: eval: %s: %d frames\n", name, k);
    return rc;
}

/* Each clip's scores mapped to [0, 1] by its own min and max (test statistics!). */
static void per_clip_minmax(const frames *f, const double *in, double *out) {
    for (long long a = 0; a < f->n;) {
        long long b = a;
        double lo = in[a], hi = in[a];
        while (b < f->n && f->clip[b] == f->clip[a]) lo = fmin(lo, in[b]), hi = fmax(hi, in[b]), b++;
        for (long long j = a; j < b; j++) out[j] = hi > lo ? (in[j] - lo) / (hi - lo) : 0;
        a = b;
    }
}

static int report(const frames *f, int clips, double secs, vg_error *err) {
    double *neg = malloc((size_t)f->n * sizeof *neg), *norm = malloc((size_t)f->n * sizeof *norm);
    if (!neg || !norm) {
        free(neg), free(norm);
        return cli_set_error(err, VG_ERR_NOMEM, "out of memory for the ROC");
    }
    for (long long j = 0; j < f->n; j++) neg[j] = -f->psnr[j];
    double auc[4];
    int rc = vg_roc_auc(neg, f->label, f->n, &auc[0], err);
    if (!rc) rc = vg_roc_auc(f->patch, f->label, f->n, &auc[1], err);
    per_clip_minmax(f, neg, norm);
    if (!rc) rc = vg_roc_auc(norm, f->label, f->n, &auc[2], err);
    per_clip_minmax(f, f->patch, norm);
    if (!rc) rc = vg_roc_auc(norm, f->label, f->n, &auc[3], err);
    free(neg), free(norm);
    if (rc) return rc;
    long long pos = 0;
    for (long long j = 0; j < f->n; j++) pos += f->label[j];
    printf("frame-level ROC AUC over %lld scored frames of %d clips (%lld anomalous)\n", f->n,
           clips, pos);
    printf("  %-8s %-8s %s\n", "score", "pooled", "per-clip min-max normalised (test statistics; "
           "for comparison with papers only)");
    printf("  %-8s %-8.4f %.4f\n", "psnr", auc[0], auc[2]);
    printf("  %-8s %-8.4f %.4f\n", "patch", auc[1], auc[3]);
    printf("scoring: %.1f s, %.1f frames/s (decode included)\n", secs, (double)f->n / secs);
    return VG_OK;
}

static int run(eval_run *r, vg_error *err) {
    const eval_opts *o = r->o;
    int rc = vg_labels_load(o->labels, &r->labels, err);
    if (!rc) rc = vg_model_load(o->model, o->threads, &r->m, err);
    if (!rc && o->bf16) rc = vg_model_set_bf16(r->m, 1, err);
    if (!rc) rc = vg_scorer_create(r->m, o->patch, &r->sc, err);
    double t0 = cli_now();
    for (int s = 0; s < o->n_sources && !rc; s++) {
        char **clips = NULL;
        int n = 0;
        rc = vg_clips_list(o->sources[s], &clips, &n, err);
        for (int c = 0; c < n && !rc; c++) rc = eval_clip(r, clips[c], err);
        if (clips) vg_clips_free(clips, n);
    }
    return rc ? rc : report(&r->f, r->clips, cli_now() - t0, err);
}

int cmd_eval(int argc, char **argv) {
    eval_opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    eval_run r = {.o = &o};
    vg_error err = {0};
    if (o.out && !(r.csv = fopen(o.out, "w"))) {
        fprintf(stderr, "vigil: eval: %s: cannot write\n", o.out);
        return 1;
    }
    if (r.csv) fprintf(r.csv, "clip,frame,label,psnr,patch\n");
    rc = run(&r, &err);
    if (r.csv && fclose(r.csv) && !rc) rc = cli_set_error(&err, VG_ERR_IO, "%s: cannot write", o.out);
    vg_scorer_free(r.sc);
    vg_model_free(r.m);
    vg_labels_free(r.labels);
    free(r.f.psnr), free(r.f.patch), free(r.f.label), free(r.f.clip);
    return rc ? cli_fail("eval", &err) : 0;
}
