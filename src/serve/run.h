/* run.h - one configuration running: what vigil watch starts from a config file and stops
 * as a whole (on exit, and around a reload). */
#ifndef VG_SERVE_RUN_H
#define VG_SERVE_RUN_H

#include "serve/engine.h"
#include "serve/http.h"

typedef struct vg_run vg_run;

/* Loads the models, opens the store under cfg->dir, starts the sinks, the cameras, the
 * inference worker and the HTTP server (cfg must outlive the run). Fails without starting
 * anything when a model cannot be loaded or has no threshold for a camera. */
int vg_run_start(const vg_watch_config *cfg, vg_log_fn log, void *user, vg_run **out,
                 vg_error *err);

/* Checks what start would: the models load, each camera has a threshold, file sources
 * exist; starts nothing. */
int vg_run_check(const vg_watch_config *cfg, vg_error *err);

/* Stops the cameras and the worker (their open events end), gives the sinks until
 * deadline seconds to deliver, closes the store. Accepts NULL. */
void vg_run_stop(vg_run *r, double deadline);

void vg_run_stats(vg_run *r, vg_watch_stats *out);

#endif
