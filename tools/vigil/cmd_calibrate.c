/* cmd_calibrate.c - vigil calibrate: the threshold a model ships with.
 *
 *   vigil calibrate -m MODEL --normal SOURCE... [options]
 *
 * Scores held-out normal footage, chooses the threshold (lowest with normal FPR <= --fpr by
 * default), measures recall on synthetic anomalies at it, and writes the operating point
 * into MODEL, the record into calibration.json and, with --report, report.html. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_SOURCES 256

typedef struct calibrate_opts {
    const char *model, *report, *out, *save;
    const char *sources[MAX_SOURCES];
    int n_sources, threads, bf16;
    vg_calibrate_params p;
} calibrate_opts;

static void help(FILE *f) {
    vg_calibrate_params d = vg_calibrate_default_params();
    fprintf(f,
            "usage: vigil calibrate -m MODEL --normal SOURCE... [options]\n"
            "Thresholds from normal footage held out from training, and recall on synthetic\n"
            "anomalies (compression, resolution, colour, freezes, out-of-format frames).\n"
            "  --normal SOURCE   held-out normal footage (repeatable; more SOURCEs may follow)\n"
            "  --fpr F           normal false-positive rate of the threshold (default %g)\n"
            "  --recall R        recall a category must reach (default %g)\n"
            "  --strategy S      percentile (default: lowest threshold with FPR <= --fpr),\n"
            "                    meanstd (mean + k sigma; PSNR: mean - k sigma), worst\n"
            "                    (worst normal score with a margin)\n"
            "  --k K             meanstd's k (default %g)\n"
            "  --margin DB       worst's margin in dB (default %g)\n"
            "  --score S         patch (default) or psnr\n"
            "  --smooth N        moving average over N frames before the threshold (default %d)\n"
            "  --patch N         patch score window in pixels (default %d)\n"
            "  --burst N         frames per synthetic burst (default %d)\n"
            "  --fps F           frame rate of the footage (default %g; image folders have none)\n"
            "  --no-synthetic    the normal distribution only\n"
            "  --report DIR      write DIR/report.html and DIR/calibration.json\n"
            "  -o FILE           calibration.json here (default: beside the model,\n"
            "                    MODEL.calibration.json, or in --report DIR)\n"
            "  --save-as FILE    write the calibrated model here instead of over MODEL\n"
            "  --bf16, --threads N\n",
            d.fpr, d.recall, d.k_sigma, d.margin_db, d.smooth, d.patch, d.burst, d.fps);
}

static int on_flag(void *opts, const char *a) {
    calibrate_opts *o = opts;
    if (!strcmp(a, "--bf16")) return o->bf16 = 1;
    if (!strcmp(a, "--no-synthetic")) return o->p.synthetic = 0, 1;
    return 0;
}

static int on_source(void *opts, const char *a) {
    calibrate_opts *o = opts;
    if (o->n_sources == MAX_SOURCES)
        return fprintf(stderr, "vigil: calibrate: too many sources\n"), 0;
    o->sources[o->n_sources++] = a;
    return 1;
}

static int on_option(void *opts, const char *a, const char *v) {
    calibrate_opts *o = opts;
    static const char *const strategies[] = {"percentile", "meanstd", "worst"};
    long n = 0;
    int ok = 1, k = 0;
    if (!strcmp(a, "-m")) o->model = v;
    else if (!strcmp(a, "--normal")) ok = on_source(o, v);
    else if (!strcmp(a, "--report")) o->report = v;
    else if (!strcmp(a, "-o")) o->out = v;
    else if (!strcmp(a, "--save-as")) o->save = v;
    else if (!strcmp(a, "--fpr")) ok = cli_double(a, v, 1e-6, 0.5, &o->p.fpr);
    else if (!strcmp(a, "--recall")) ok = cli_double(a, v, 0.01, 1, &o->p.recall);
    else if (!strcmp(a, "--k")) ok = cli_double(a, v, 0, 100, &o->p.k_sigma);
    else if (!strcmp(a, "--margin")) ok = cli_double(a, v, 0, 100, &o->p.margin_db);
    else if (!strcmp(a, "--fps")) ok = cli_double(a, v, 0.1, 1000, &o->p.fps);
    else if (!strcmp(a, "--strategy")) ok = cli_choice(a, v, strategies, 3, &k), o->p.strategy = k;
    else if (!strcmp(a, "--score")) ok = cli_choice(a, v, cli_score_names, 2, &k), o->p.score = k;
    else if (!strcmp(a, "--smooth")) ok = cli_int(a, v, 1, 10000, &n), o->p.smooth = (int)n;
    else if (!strcmp(a, "--patch")) ok = cli_int(a, v, 1, 4096, &n), o->p.patch = (int)n;
    else if (!strcmp(a, "--burst")) ok = cli_int(a, v, 1, 1000, &n), o->p.burst = (int)n;
    else if (!strcmp(a, "--threads")) ok = cli_int(a, v, 0, 1024, &n), o->threads = (int)n;
    else return -1;
    return ok;
}

static int parse(int argc, char **argv, calibrate_opts *o) {
    memset(o, 0, sizeof *o);
    o->p = vg_calibrate_default_params();
    static const cli_parser parser = {"calibrate", help, on_flag, on_source, on_option};
    int rc = cli_parse(&parser, o, argc, argv);
    if (rc) return rc;
    if (!o->model) return fprintf(stderr, "vigil: calibrate: -m MODEL is required\n"), 2;
    if (!o->n_sources)
        return fprintf(stderr, "vigil: calibrate: no normal footage (--normal SOURCE)\n"), 2;
    return 0;
}

/* One line per category and the cases below target, from the record. */
static void print_summary(const cJSON *rec) {
    const cJSON *syn = cJSON_GetObjectItem(rec, "synthetic"), *c;
    printf("threshold: %s %s %.6g (%s; normal FPR %.4f over %d frames)\n",
           cJSON_GetObjectItem(rec, "score")->valuestring,
           strcmp(cJSON_GetObjectItem(rec, "score")->valuestring, "psnr") ? ">=" : "<=",
           cJSON_GetObjectItem(rec, "threshold")->valuedouble,
           cJSON_GetObjectItem(rec, "strategy")->valuestring,
           cJSON_GetObjectItem(rec, "fpr")->valuedouble,
           cJSON_GetObjectItem(rec, "normal_frames")->valueint);
    const cJSON *normal = cJSON_GetObjectItem(rec, "normal");
    printf("signal checks: normal FPR %.4f (scene's normal motion %.3f, detail %.3f)\n",
           cJSON_GetObjectItem(normal, "checks_fpr")->valuedouble,
           cJSON_GetObjectItem(normal, "motion")->valuedouble,
           cJSON_GetObjectItem(normal, "detail")->valuedouble);
    if (!syn) return;
    printf("synthetic anomalies (recall of %d-frame bursts at the threshold; * operational):\n",
           cJSON_GetObjectItem(syn, "burst")->valueint);
    printf("  %-20s %-12s %8s %12s %8s\n", "case", "category", "model", "with checks", "frames");
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(syn, "cases")) {
        double r = cJSON_GetObjectItem(c, "recall")->valuedouble;
        double w = cJSON_GetObjectItem(c, "recall_with_checks")->valuedouble;
        double fr = cJSON_GetObjectItem(c, "frame_recall")->valuedouble;
        int applicable = cJSON_GetObjectItem(c, "applicable")->valueint;
        char name[40];
        snprintf(name, sizeof name, "%s%s", cJSON_GetObjectItem(c, "name")->valuestring,
                 cJSON_IsTrue(cJSON_GetObjectItem(c, "operational")) ? " *" : "");
        if (!applicable)
            printf("  %-20s %-12s %s\n", name, cJSON_GetObjectItem(c, "category")->valuestring,
                   "not applicable (changes nothing in this footage)");
        else
            printf("  %-20s %-12s %7.1f%% %11.1f%% %7.1f%%\n", name,
                   cJSON_GetObjectItem(c, "category")->valuestring, 100 * r, 100 * w, 100 * fr);
    }
    printf("categories at their operational severity (target %.0f%%):\n",
           100 * cJSON_GetObjectItem(syn, "recall_target")->valuedouble);
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(syn, "categories")) {
        const cJSON *r = cJSON_GetObjectItem(c, "recall"), *w = cJSON_GetObjectItem(c, "recall_with_checks");
        if (cJSON_IsNumber(r))
            printf("  %-12s model %5.1f%%, with checks %5.1f%%: %s\n",
                   cJSON_GetObjectItem(c, "name")->valuestring, 100 * r->valuedouble,
                   100 * w->valuedouble, cJSON_GetObjectItem(c, "verdict")->valuestring);
        else
            printf("  %-12s %s\n", cJSON_GetObjectItem(c, "name")->valuestring,
                   cJSON_GetObjectItem(c, "verdict")->valuestring);
    }
}

static int write_text(const char *path, const char *text, vg_error *err) {
    FILE *f = fopen(path, "w");
    int ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f)) ok = 0;
    return ok ? VG_OK : cli_set_error(err, VG_ERR_IO, "%s: cannot write", path);
}

/* Where calibration.json goes: -o, else the report folder, else beside the model. */
static void record_path(const calibrate_opts *o, char *out, size_t size) {
    if (o->out) snprintf(out, size, "%s", o->out);
    else if (o->report) snprintf(out, size, "%s/calibration.json", o->report);
    else {
        const char *base = o->save ? o->save : o->model, *dot = strrchr(base, '.');
        int n = dot && !strchr(dot, '/') ? (int)(dot - base) : (int)strlen(base);
        snprintf(out, size, "%.*s.calibration.json", n, base);
    }
}

static int run(calibrate_opts *o, vg_model **m, vg_footage **f, char **json, vg_error *err) {
    cli_progress bar;
    cli_progress_init(&bar);
    int rc = vg_model_load(o->model, o->threads, m, err);
    if (!rc && o->bf16) rc = vg_model_set_bf16(*m, 1, err);
    if (!rc && o->report) rc = cli_make_dir(o->report, err);
    vg_source_params sp = rc ? vg_source_default_params() : vg_model_source_params(*m);
    if (!rc) rc = vg_footage_load(o->sources, o->n_sources, &sp, cli_progress_cb, &bar, f, err);
    if (!rc) {
        fprintf(stderr, "vigil: calibrate: %d clips, %lld normal frames\n",
                vg_footage_clips(*f), vg_footage_frames(*f));
        o->p.report = o->report;
        o->p.progress = cli_progress_cb, o->p.user = &bar;
        rc = vg_calibrate(*m, *f, &o->p, json, err);
    }
    cli_progress_end(&bar);
    return rc;
}

int cmd_calibrate(int argc, char **argv) {
    calibrate_opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    cli_catch_interrupt();
    vg_model *m = NULL;
    vg_footage *f = NULL;
    char *json = NULL, path[4096];
    vg_error err = {0};
    double t0 = cli_now();
    rc = run(&o, &m, &f, &json, &err);
    record_path(&o, path, sizeof path);
    if (!rc) rc = write_text(path, json, &err);
    if (!rc) rc = vg_model_save(m, o.save ? o.save : o.model, &err);
    if (!rc) {
        cJSON *rec = cJSON_Parse(json);
        print_summary(rec);
        cJSON_Delete(rec);
        printf("wrote %s, the calibration into %s%s%s (%.0f s)\n", path, o.save ? o.save : o.model,
               o.report ? ", and a report into " : "", o.report ? o.report : "", cli_now() - t0);
    }
    free(json);
    vg_footage_free(f);
    vg_model_free(m);
    return rc ? cli_fail("calibrate", &err) : 0;
}
