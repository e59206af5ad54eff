/* cli.h - what the command files share: one entry point per command and small helpers
 * for parsing numbers with a clear error. */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

#include "vigil/vigil.h"

int cmd_bench(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_eval(int argc, char **argv);

/* Parses an integer option value in [lo, hi]; prints "vigil: OPTION: ..." and returns 0
 * on failure. */
int cli_int(const char *option, const char *value, long lo, long hi, long *out);

/* Parses a real option value in [lo, hi] (same conventions). */
int cli_double(const char *option, const char *value, double lo, double hi, double *out);

/* "WxH" (sizes) and "x,y,w,h" (regions); same conventions. */
int cli_size(const char *option, const char *value, int *w, int *h);
int cli_roi(const char *option, const char *value, int roi[4]);

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
