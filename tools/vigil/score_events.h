/* score_events.h - the events side of vigil score (--events): the model's score through a
 * decider, and the signal checks beside it, each class through its own, written as JSON
 * Lines (one vg_event_json object a line, flushed at once for a reader downstream). */
#ifndef VIGIL_SCORE_EVENTS_H
#define VIGIL_SCORE_EVENTS_H

#include "cli.h"

typedef struct score_events_opts {
    const char *path;     /* FILE or "-" (stdout); NULL: no events */
    const char *camera;   /* camera id in the events */
    const char *heatmaps; /* the heat-map folder, for snapshot paths; may be NULL */
    vg_score_kind kind;
    int has_kind;
    double threshold, exit; /* in the score's units (PSNR: dB); NAN: not given */
    int debounce, min_duration, merge_gap, update; /* -1: the class's default */
    const char *first;    /* the first events option given other than --events, if any */
} score_events_opts;

void score_events_defaults(score_events_opts *o);

/* An events option NAME VALUE (as cli_parser's option: 1 taken, 0 bad value printed, -1
 * not an events option). */
int score_events_option(score_events_opts *o, const char *name, const char *value);

/* Help lines of the events options. */
void score_events_help(FILE *f);

typedef struct score_events score_events;

/* Opens the events of a stream from source (fps: its stated rate, 0 unknown) scored by m.
 * The threshold comes from --threshold, else the model's calibration, else its validation
 * (with a note on stderr). *patch and *smooth are the scoring's patch window and moving
 * average, 0 when not given: they are set to those the threshold was measured with (the
 * defaults otherwise); given ones that contradict it are an error. */
int score_events_open(const score_events_opts *o, const vg_model *m, double fps, int *patch,
                      int *smooth, score_events **out, vg_error *err);

/* A frame read: the checks see it; sc is its score (NULL for a context frame). */
int score_events_frame(score_events *e, const vg_frame *fr, const vg_score *sc, vg_error *err);

/* The source failed after the last frame: a signal_lost event. */
int score_events_lost(score_events *e, vg_error *err);

/* Ends the open events (END lines), closes the file and frees e; accepts NULL. err must
 * not be NULL. */
int score_events_close(score_events *e, vg_error *err);

/* The heat-map picture of frame in folder dir (vigil score --heatmaps). */
void score_heatmap_path(char *buf, size_t size, const char *dir, long long frame);

#endif
