/* cmd_score.c - vigil score: per-frame anomaly scores of a video or stream.
 *
 *   vigil score -m MODEL [options] SOURCE
 *
 * Each frame is encoded once and scored against the model's prediction of it from the T
 * frames before (frames 0..T-1 are context and get no score). Output: CSV or JSON Lines
 * per scored frame; optionally heat maps and a timeline plot with the model's normal band
 * from validation. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

typedef struct score_opts {
    const char *model, *source, *out, *heatmaps, *timeline;
    int smooth, patch, threads, jsonl, roi[4], has_roi, bf16;
} score_opts;

static void help(FILE *f) {
    fprintf(f,
            "usage: vigil score -m MODEL [options] SOURCE\n"
            "Scores every frame of SOURCE (video file, image folder, URL or V4L2 device).\n"
            "  -m MODEL          model file from vigil train\n"
            "  -o FILE           scores (default stdout); .jsonl/.json: JSON Lines, else CSV\n"
            "  --smooth N        causal moving average over N frames (default 1: none)\n"
            "  --patch N         patch score window in pixels (default %d)\n"
            "  --heatmaps DIR    write DIR/frame_NNNNNN.png: the frame with its error overlaid\n"
            "  --timeline FILE   write an SVG plot of PSNR over time with the normal band\n"
            "  --roi x,y,w,h     crop (default: the ROI the model was trained with)\n"
            "  --threads N       (default: all cores)\n"
            "  --bf16            score in bfloat16 (AVX512_BF16 CPUs; about 2x faster)\n"
            "Columns: frame, pts (s), psnr (dB), mse, patch, psnr_smooth, patch_smooth.\n",
            VG_PATCH_DEFAULT);
}

static int on_flag(void *opts, const char *a) {
    if (strcmp(a, "--bf16")) return 0;
    ((score_opts *)opts)->bf16 = 1;
    return 1;
}

static int on_source(void *opts, const char *a) {
    score_opts *o = opts;
    if (o->source) return fprintf(stderr, "vigil: score: one SOURCE at a time\n"), 0;
    o->source = a;
    return 1;
}

static int on_option(void *opts, const char *a, const char *v) {
    score_opts *o = opts;
    long n = 0;
    int ok = 1;
    if (!strcmp(a, "-m")) o->model = v;
    else if (!strcmp(a, "-o")) o->out = v;
    else if (!strcmp(a, "--heatmaps")) o->heatmaps = v;
    else if (!strcmp(a, "--timeline")) o->timeline = v;
    else if (!strcmp(a, "--smooth")) ok = cli_int(a, v, 1, 10000, &n), o->smooth = (int)n;
    else if (!strcmp(a, "--patch")) ok = cli_int(a, v, 1, 4096, &n), o->patch = (int)n;
    else if (!strcmp(a, "--threads")) ok = cli_int(a, v, 0, 1024, &n), o->threads = (int)n;
    else if (!strcmp(a, "--roi")) ok = cli_roi(a, v, o->roi), o->has_roi = 1;
    else return -1;
    return ok;
}

static int parse(int argc, char **argv, score_opts *o) {
    *o = (score_opts){.smooth = 1, .patch = VG_PATCH_DEFAULT};
    static const cli_parser parser = {"score", help, on_flag, on_source, on_option};
    int rc = cli_parse(&parser, o, argc, argv);
    if (rc) return rc;
    if (!o->model) return fprintf(stderr, "vigil: score: -m MODEL is required\n"), 2;
    if (!o->source) return fprintf(stderr, "vigil: score: no SOURCE given\n"), 2;
    const char *dot = o->out ? strrchr(o->out, '.') : NULL;
    o->jsonl = dot && (!strcmp(dot, ".jsonl") || !strcmp(dot, ".json"));
    return 0;
}

/* The source parameters the model was trained with (size, ROI, fit), from its metadata. */
static vg_source_params source_params(const vg_model *m, const score_opts *o) {
    vg_source_params sp = vg_source_default_params();
    vg_model_info i = vg_model_describe(m);
    sp.width = i.width, sp.height = i.height;
    char *tj = vg_model_get_meta(m, "training");
    cJSON *t = cJSON_Parse(tj);
    const cJSON *roi = cJSON_GetObjectItem(t, "roi"), *fit = cJSON_GetObjectItem(t, "fit");
    if (cJSON_GetArraySize(roi) == 4) {
        sp.roi_x = cJSON_GetArrayItem(roi, 0)->valueint;
        sp.roi_y = cJSON_GetArrayItem(roi, 1)->valueint;
        sp.roi_w = cJSON_GetArrayItem(roi, 2)->valueint;
        sp.roi_h = cJSON_GetArrayItem(roi, 3)->valueint;
    }
    if (cJSON_IsString(fit))
        sp.fit = !strcmp(fit->valuestring, "crop") ? VG_FIT_CROP
                 : !strcmp(fit->valuestring, "pad") ? VG_FIT_PAD : VG_FIT_STRETCH;
    cJSON_Delete(t);
    free(tj);
    if (o->has_roi)
        sp.roi_x = o->roi[0], sp.roi_y = o->roi[1], sp.roi_w = o->roi[2], sp.roi_h = o->roi[3];
    return sp;
}

/* Scores kept for smoothing and the timeline. */
typedef struct series {
    double *t, *psnr, *patch, *psnr_s, *patch_s;
    long long n, cap;
} series;

static int series_push(series *s, double t, const vg_score *sc) {
    if (s->n == s->cap) {
        long long cap = s->cap ? 2 * s->cap : 1024;
        double **cols[] = {&s->t, &s->psnr, &s->patch, &s->psnr_s, &s->patch_s};
        for (size_t k = 0; k < 5; k++) {
            double *p = realloc(*cols[k], (size_t)cap * sizeof *p);
            if (!p) return 0;
            *cols[k] = p;
        }
        s->cap = cap;
    }
    s->t[s->n] = t, s->psnr[s->n] = sc->psnr, s->patch[s->n] = sc->patch;
    s->n++;
    return 1;
}

static void series_free(series *s) {
    free(s->t), free(s->psnr), free(s->patch), free(s->psnr_s), free(s->patch_s);
}

/* Mean of the last w values ending at n-1 (the causal moving average of vg_smooth). */
static double tail_mean(const double *v, long long n, int w) {
    long long a = n > w ? n - w : 0;
    double s = 0;
    for (long long i = a; i < n; i++) s += v[i];
    return s / (double)(n - a);
}

static void write_row(FILE *f, const score_opts *o, const vg_frame *fr, const vg_score *sc,
                      double ps, double pa) {
    if (o->jsonl)
        fprintf(f, "{\"frame\":%lld,\"pts\":%.6f,\"psnr\":%.4f,\"mse\":%.8g,\"patch\":%.8g,"
                   "\"psnr_smooth\":%.4f,\"patch_smooth\":%.8g}\n",
                fr->index, fr->pts, sc->psnr, sc->mse, sc->patch, ps, pa);
    else
        fprintf(f, "%lld,%.6f,%.4f,%.8g,%.8g,%.4f,%.8g\n", fr->index, fr->pts, sc->psnr,
                sc->mse, sc->patch, ps, pa);
}

/* The validation band of PSNR (0.5th .. 99.5th percentile) from the model, if any. */
static int psnr_band(const vg_model *m, double *lo, double *hi) {
    static const char *const p_lo[] = {"psnr", "percentiles", "0.5"};
    static const char *const p_hi[] = {"psnr", "percentiles", "99.5"};
    return cli_meta_number(m, "validation", p_lo, 3, lo) &&
           cli_meta_number(m, "validation", p_hi, 3, hi);
}

static int write_timeline(const score_opts *o, const vg_model *m, const series *s,
                          vg_error *err) {
    vg_timeline tl = {.title = o->source, .ylabel = "PSNR dB", .t = s->t, .score = s->psnr,
                      .smooth = o->smooth > 1 ? s->psnr_s : NULL, .n = (int)s->n,
                      .higher_is_normal = 1};
    psnr_band(m, &tl.band_lo, &tl.band_hi);
    return vg_timeline_svg(o->timeline, &tl, err);
}

typedef struct scoring {
    const score_opts *o;
    vg_model *m;
    vg_source *src;
    vg_scorer *sc;
    FILE *out;
    float *emap;
    series s;
} scoring;

static int score_frame(scoring *st, const vg_frame *fr, vg_error *err) {
    vg_score sc;
    int scored = 0;
    int rc = vg_scorer_push(st->sc, fr->rgb, &sc, st->emap, NULL, &scored, err);
    if (rc || !scored) return rc;
    series *s = &st->s;
    if (!series_push(s, fr->pts, &sc)) return cli_set_error(err, VG_ERR_NOMEM, "out of memory for scores");
    s->psnr_s[s->n - 1] = tail_mean(s->psnr, s->n, st->o->smooth);
    s->patch_s[s->n - 1] = tail_mean(s->patch, s->n, st->o->smooth);
    write_row(st->out, st->o, fr, &sc, s->psnr_s[s->n - 1], s->patch_s[s->n - 1]);
    if (!st->o->heatmaps) return VG_OK;
    char path[4096];
    snprintf(path, sizeof path, "%s/frame_%06lld.png", st->o->heatmaps, fr->index);
    /* 0.02 mean squared error (about 17 dB) is drawn fully opaque */
    return vg_heatmap_png(path, fr->rgb, st->emap, fr->width, fr->height, 0.02f, err);
}

static int run(scoring *st, vg_error *err) {
    const score_opts *o = st->o;
    int rc = vg_model_load(o->model, o->threads, &st->m, err);
    if (!rc && o->bf16) rc = vg_model_set_bf16(st->m, 1, err);
    vg_source_params sp = rc ? vg_source_default_params() : source_params(st->m, o);
    if (!rc) rc = vg_source_open(o->source, &sp, &st->src, err);
    if (!rc) rc = vg_scorer_create(st->m, o->patch, &st->sc, err);
    if (!rc && !(st->emap = malloc((size_t)sp.width * sp.height * sizeof *st->emap)))
        rc = cli_set_error(err, VG_ERR_NOMEM, "out of memory for the error map");
    if (!rc && o->heatmaps && mkdir(o->heatmaps, 0777) && errno != EEXIST)
        rc = cli_set_error(err, VG_ERR_IO, "%s: cannot create folder (%s)", o->heatmaps, strerror(errno));
    if (!rc && !o->jsonl) fprintf(st->out, "frame,pts,psnr,mse,patch,psnr_smooth,patch_smooth\n");
    vg_frame fr;
    while (!rc && !cli_interrupted() && (rc = vg_source_read(st->src, &fr, err)) == VG_OK)
        rc = score_frame(st, &fr, err);
    if (rc == VG_END) rc = VG_OK;
    if (!rc && vg_source_errors(st->src))
        fprintf(stderr, "vigil: score: %s: %lld frames could not be decoded and were skipped\n",
                o->source, vg_source_errors(st->src));
    if (!rc && o->timeline && st->s.n) rc = write_timeline(o, st->m, &st->s, err);
    return rc;
}

int cmd_score(int argc, char **argv) {
    score_opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    scoring st = {.o = &o, .out = stdout};
    if (o.out && !(st.out = fopen(o.out, "w"))) {
        fprintf(stderr, "vigil: score: %s: cannot write (%s)\n", o.out, strerror(errno));
        return 1;
    }
    cli_catch_interrupt();
    vg_error err = {0};
    rc = run(&st, &err);
    if (st.out != stdout && fclose(st.out) && !rc)
        rc = cli_set_error(&err, VG_ERR_IO, "%s: cannot write (%s)", o.out, strerror(errno));
    else if (st.out == stdout) fflush(stdout);
    vg_scorer_free(st.sc);
    vg_source_close(st.src);
    vg_model_free(st.m);
    free(st.emap);
    series_free(&st.s);
    if (rc) return cli_fail("score", &err);
    if (cli_interrupted()) fprintf(stderr, "vigil: score: stopped after %lld scored frames\n", st.s.n);
    return 0;
}
