/* main.c - the vigil command: dispatches to one cmd_<verb>.c per command. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const struct command {
    const char *name, *help;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"bench", "measure inference and training speed (see bench/run for PyTorch ratios)", cmd_bench},
    {"demo", "the whole job on a synthetic conveyor belt, no input needed", cmd_demo},
    {"train", "learn normal footage: vigil train -o MODEL SOURCE...", cmd_train},
    {"score", "score a video or stream against a model: vigil score -m MODEL SOURCE", cmd_score},
    {"eval", "ROC, EER, case and pixel AUC on labelled footage: vigil eval -m MODEL --labels FILE SOURCE...", cmd_eval},
    {"calibrate", "thresholds from normal footage and synthetic anomalies: vigil calibrate -m MODEL --normal SOURCE...", cmd_calibrate},
    {"watch", "watch cameras in real time: events, alerts, metrics: vigil watch CONFIG", cmd_watch},
    {"info", "describe a model file", cmd_info},
};

int cli_int(const char *option, const char *value, long lo, long hi, long *out) {
    char *end = NULL;
    errno = 0;
    long v = value ? strtol(value, &end, 10) : 0;
    if (!value || !*value || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "vigil: %s: '%s' is not an integer in %ld..%ld\n", option,
                value ? value : "", lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse(const cli_parser *p, void *opts, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return p->help(stdout), -1;
        if (p->flag && p->flag(opts, a)) continue;
        if (a[0] != '-' || !a[1]) {
            if (p->positional && p->positional(opts, a)) continue;
            if (!p->positional)
                fprintf(stderr, "vigil: %s: unexpected argument '%s' (see --help)\n", p->cmd, a);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "vigil: %s: %s needs a value (see --help)\n", p->cmd, a);
            return 2;
        }
        int r = p->option(opts, a, argv[++i]);
        if (r < 0) fprintf(stderr, "vigil: %s: unknown option '%s' (see --help)\n", p->cmd, a);
        if (r <= 0) return 2;
    }
    return 0;
}

int cli_choice(const char *option, const char *value, const char *const *names, int n,
               int *out) {
    for (int i = 0; i < n; i++)
        if (!strcmp(value, names[i])) return *out = i, 1;
    fprintf(stderr, "vigil: %s: unknown value '%s' (", option, value);
    for (int i = 0; i < n; i++)
        fprintf(stderr, "%s%s", names[i], i + 2 < n ? ", " : i + 1 < n ? " or " : ")\n");
    return 0;
}

const char *const cli_score_names[2] = {"patch", "psnr"};

int cli_double(const char *option, const char *value, double lo, double hi, double *out) {
    char *end = NULL;
    errno = 0;
    double v = value ? strtod(value, &end) : 0;
    if (!value || !*value || *end || errno || !(v >= lo && v <= hi)) {
        fprintf(stderr, "vigil: %s: '%s' is not a number in %g..%g\n", option,
                value ? value : "", lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_size(const char *option, const char *value, int *w, int *h) {
    char tail;
    if (!value || sscanf(value, "%dx%d%c", w, h, &tail) != 2 || *w <= 0 || *h <= 0 ||
        *w > 8192 || *h > 8192) {
        fprintf(stderr, "vigil: %s: '%s' is not a size WxH (e.g. 224x224)\n", option,
                value ? value : "");
        return 0;
    }
    return 1;
}

int cli_roi(const char *option, const char *value, int roi[4]) {
    char tail;
    if (!value || sscanf(value, "%d,%d,%d,%d%c", &roi[0], &roi[1], &roi[2], &roi[3], &tail) != 4 ||
        roi[0] < 0 || roi[1] < 0 || roi[2] <= 0 || roi[3] <= 0) {
        fprintf(stderr, "vigil: %s: '%s' is not a region x,y,w,h (e.g. 0,40,360,200)\n",
                option, value ? value : "");
        return 0;
    }
    return 1;
}

int cli_make_dir(const char *path, vg_error *err) {
    if (!mkdir(path, 0777) || errno == EEXIST) return VG_OK;
    return cli_set_error(err, VG_ERR_IO, "%s: cannot create folder (%s)", path, strerror(errno));
}

int cli_set_error(vg_error *err, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    return code;
}

int cli_fail(const char *cmd, const vg_error *err) {
    fprintf(stderr, "vigil: %s: %s\n", cmd, err->msg[0] ? err->msg : vg_errstr(err->code));
    return err->code == VG_ERR_ABORTED ? 130 : 1;
}

static void usage(FILE *f) {
    fprintf(f, "usage: vigil <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'vigil <command> --help' describes a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "vigil: unknown command '%s' (try 'vigil --help')\n", argv[1]);
    return 2;
}
