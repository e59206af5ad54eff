/* run.h - one configuration running: what vigil watch starts from a config file and stops
 * as a whole (on exit, and around a reload). */
#ifndef VG_SERVE_RUN_H
#define VG_SERVE_RUN_H

#include "serve/engine.h"
#include "serve/http.h"

typedef struct vg_run vg_run;
typedef struct vg_run_models vg_run_models;

/* Loads each model file of cfg once and checks that it has a threshold for each of its
 * cameras. A reload does this while the old configuration still runs. */
int vg_run_models_load(const vg_watch_config *cfg, vg_run_models **out, vg_error *err);
void vg_run_models_free(vg_run_models *m);

/* The cameras' file sources exist: `--check` and a reload refuse a file that is not there,
 * a start waits for it to appear (as for a camera not yet up). */
int vg_run_check_sources(const vg_watch_config *cfg, vg_error *err);

/* Opens the store under cfg->dir, starts the sinks, the cameras, the inference worker and
 * the HTTP server with the models loaded for cfg, which the run takes over (also when it
 * fails to start); cfg must outlive the run. */
int vg_run_start(const vg_watch_config *cfg, vg_run_models *models, vg_log_fn log, void *user,
                 vg_run **out, vg_error *err);

/* Stops the cameras and the worker (their open events end), gives the sinks until
 * deadline seconds to deliver, closes the store. Accepts NULL. */
void vg_run_stop(vg_run *r, double deadline);

void vg_run_stats(vg_run *r, vg_watch_stats *out);

#endif
