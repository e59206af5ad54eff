/* progress.c - progress of long commands on stderr, and Ctrl-C as a polite stop.
 *
 * On a terminal: one bar redrawn in place with rate and ETA. Otherwise (logs, CI): a
 * plain line every 10 seconds and at the end of each stage. The first Ctrl-C asks the
 * library to stop at the next progress call (training then saves a checkpoint); a second
 * one kills the process as usual. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig) {
    (void)sig;
    interrupted = 1;
    signal(SIGINT, SIG_DFL); /* a second Ctrl-C ends the process at once */
}

void cli_catch_interrupt(void) {
    interrupted = 0;
    signal(SIGINT, on_sigint);
}

int cli_interrupted(void) { return interrupted; }

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_init(cli_progress *p) {
    memset(p, 0, sizeof *p);
    p->tty = isatty(STDERR_FILENO);
    p->t0 = cli_now();
}

static void fmt_time(char *out, size_t n, double s) {
    if (!(s >= 0) || s > 359999) {
        snprintf(out, n, "--:--");
        return;
    }
    int t = (int)(s + 0.5);
    if (t >= 3600) snprintf(out, n, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
    else snprintf(out, n, "%d:%02d", t / 60, t % 60);
}

/* Units still to do in the whole run, as far as p tells: later epochs count in full. */
static double remaining(const vg_progress *p) {
    double left = (double)(p->total - p->done);
    if (!strcmp(p->stage, "train") && p->epochs > p->epoch)
        left += (double)(p->epochs - p->epoch) * (double)p->total;
    return left;
}

int cli_progress_cb(const vg_progress *v, void *user) {
    cli_progress *p = user;
    double now = cli_now();
    if (strcmp(p->stage, v->stage) || v->epoch != p->epoch || v->done < p->stage_done) {
        if (p->tty && p->drawn) fputc('\n', stderr);
        snprintf(p->stage, sizeof p->stage, "%s", v->stage);
        p->stage_t0 = now;
        p->stage_done = v->done;
        p->epoch = v->epoch;
        p->drawn = 0;
    }
    int last = v->total > 0 && v->done >= v->total;
    if (!last && now - p->last < (p->tty ? 0.2 : 10.0)) return cli_interrupted();
    p->last = now;
    double rate = (double)(v->done - p->stage_done) / (now - p->stage_t0 + 1e-9);
    char eta[16], el[16], ep[32] = "", loss[32] = "", bar[32] = "";
    fmt_time(eta, sizeof eta, rate > 0 && v->total > 0 ? remaining(v) / rate : -1);
    fmt_time(el, sizeof el, now - p->t0);
    if (v->epochs) snprintf(ep, sizeof ep, "epoch %d/%d ", v->epoch, v->epochs);
    if (!strcmp(v->stage, "train")) snprintf(loss, sizeof loss, "  loss %.5f", v->loss);
    if (p->tty && v->total > 0) {
        int fill = (int)(24.0 * (double)v->done / (double)v->total);
        for (int i = 0; i < 24; i++) bar[i] = i < fill ? '#' : '.';
        bar[24] = 0;
    }
    char total[32] = "";
    if (v->total > 0) snprintf(total, sizeof total, "/%lld", v->total);
    fprintf(stderr, "%s%s%-8s %s%s%s%lld%s%s  %.1f/s  elapsed %s  ETA %s%s",
            p->tty ? "\r" : "", p->tty ? "\033[K" : "", v->stage, ep, bar, *bar ? " " : "",
            v->done, total, loss, rate, el, eta, p->tty ? "" : "\n");
    p->drawn = 1;
    if (p->tty && last && strcmp(v->stage, "train")) fputc('\n', stderr), p->drawn = 0;
    fflush(stderr);
    return cli_interrupted();
}

void cli_progress_end(cli_progress *p) {
    if (p->tty && p->drawn) fputc('\n', stderr);
    p->drawn = 0;
}
