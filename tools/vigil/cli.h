/* cli.h - what the command files share: one entry point per command and small helpers
 * for parsing numbers with a clear error. */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

#include <stdio.h>

#include "vigil/vigil.h"

int cmd_bench(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_watch(int argc, char **argv);

/* Parses an integer option value in [lo, hi]; prints "vigil: OPTION: ..." and returns 0
 * on failure. */
int cli_int(const char *option, const char *value, long lo, long hi, long *out);

/* How a command reads its arguments: cli_parse walks them and hands each to the command.
 * flag: a valueless option, 1 when it was one (may be NULL). positional: an argument not
 * starting with '-', 1 when taken, 0 after printing why not (NULL: none taken). option:
 * NAME VALUE, 1 when taken, 0 after printing what is wrong with VALUE, -1 when NAME is
 * unknown. */
typedef struct cli_parser {
    const char *cmd;
    void (*help)(FILE *f);
    int (*flag)(void *opts, const char *arg);
    int (*positional)(void *opts, const char *arg);
    int (*option)(void *opts, const char *name, const char *value);
} cli_parser;

/* Returns 0, 2 after printing a usage error, -1 after printing --help. */
int cli_parse(const cli_parser *p, void *opts, int argc, char **argv);

/* The index of value among names (same conventions: "vigil: OPTION: unknown value 'V' (a,
 * b or c)"). */
int cli_choice(const char *option, const char *value, const char *const *names, int n,
               int *out);

/* vg_score_kind's names in its order, for cli_choice. */
extern const char *const cli_score_names[2];

/* Parses a real option value in [lo, hi] (same conventions). */
int cli_double(const char *option, const char *value, double lo, double hi, double *out);

/* "WxH" (sizes) and "x,y,w,h" (regions); same conventions. */
int cli_size(const char *option, const char *value, int *w, int *h);
int cli_roi(const char *option, const char *value, int roi[4]);

/* Makes folder path unless it exists; VG_ERR_IO "PATH: cannot create folder (REASON)". */
int cli_make_dir(const char *path, vg_error *err);

/* Fills err as the library does, for failures found by the CLI itself; returns code. */
int cli_set_error(vg_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints "vigil: CMD: <message>" for a failed library call and returns its exit code. */
int cli_fail(const char *cmd, const vg_error *err);

/* ---- progress (progress.c) ------------------------------------------------------------ */

typedef struct cli_progress {
    int tty, drawn;
    double t0, last, stage_t0;
    long long stage_done;
    int epoch;
    char stage[16];
} cli_progress;

void cli_progress_init(cli_progress *p);
int cli_progress_cb(const vg_progress *v, void *user); /* a vg_progress_fn; user: cli_progress */
void cli_progress_end(cli_progress *p);

/* Ctrl-C sets a flag the progress callback returns (the library then stops cleanly). */
void cli_catch_interrupt(void);
int cli_interrupted(void);
double cli_now(void);

#endif
