/* watch.c - vigil watch's public face (vigil.h "the service"): a configuration file and
 * the run started from it, replaced as a whole on reload. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/status.h"
#include "serve/run.h"

#define DRAIN_SECONDS 5.0 /* the sinks' time to deliver at a stop */

struct vg_watch {
    char *path;
    vg_watch_params p;
    vg_watch_config *cfg;
    vg_run *run;
};

vg_watch_params vg_watch_default_params(void) { return (vg_watch_params){0}; }

static char *summarise(const vg_watch_config *c) {
    size_t n = 512 + (size_t)c->n_cameras * 512;
    char *s = malloc(n);
    if (!s) return NULL;
    size_t k = (size_t)snprintf(s, n, "%d camera%s, events stored in %s/events.db\n",
                                c->n_cameras, c->n_cameras == 1 ? "" : "s", c->dir);
    for (int i = 0; i < c->n_cameras && k < n; i++)
        k += (size_t)snprintf(s + k, n - k, "  %s: %s, model %s%s\n", c->cameras[i].id,
                              c->cameras[i].source, c->cameras[i].model,
                              c->cameras[i].shadow ? " (shadow: no alerts)" : "");
    if (k < n)
        k += (size_t)snprintf(s + k, n - k, "sinks:%s%s%s%s\n", c->jsonl ? " jsonl" : "",
                              c->webhook.url ? " webhook" : "", c->mqtt.host ? " mqtt" : "",
                              c->jsonl || c->webhook.url || c->mqtt.host ? "" : " none (store only)");
    if (k < n && c->http_port)
        snprintf(s + k, n - k, "HTTP on %s:%d%s\n", c->http_bind, c->http_port,
                 c->token ? " (token required)" : "");
    return s;
}

/* Reads and checks a configuration file as --check does, its models loaded; on failure
 * *cfg and *models are NULL. */
static int prepare(const char *path, vg_watch_config **cfg, vg_run_models **models,
                   vg_error *err) {
    *cfg = NULL, *models = NULL;
    int rc = vg_watch_config_load(path, cfg, err);
    if (!rc) rc = vg_run_models_load(*cfg, models, err);
    if (!rc) rc = vg_run_check_sources(*cfg, err);
    if (rc) {
        vg_run_models_free(*models);
        vg_watch_config_free(*cfg);
        *cfg = NULL, *models = NULL;
    }
    return rc;
}

int vg_watch_check(const char *config, char **summary, vg_error *err) {
    vg_watch_config *cfg;
    vg_run_models *models;
    if (summary) *summary = NULL;
    int rc = prepare(config, &cfg, &models, err);
    if (!rc && summary) *summary = summarise(cfg);
    vg_run_models_free(models);
    vg_watch_config_free(cfg);
    return rc;
}

static void say(vg_watch *w, const char *line) {
    if (w->p.log) w->p.log(w->p.user, line);
}

int vg_watch_start(const char *config, const vg_watch_params *p, vg_watch **out,
                   vg_error *err) {
    *out = NULL;
    vg_watch *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(config))) {
        free(w);
        return vg_fail(err, VG_ERR_NOMEM, "out of memory for vigil watch");
    }
    w->p = p ? *p : vg_watch_default_params();
    vg_run_models *models = NULL;
    int rc = vg_watch_config_load(config, &w->cfg, err);
    if (!rc) rc = vg_run_models_load(w->cfg, &models, err);
    if (!rc) rc = vg_run_start(w->cfg, models, w->p.log, w->p.user, &w->run, err);
    if (rc) {
        vg_watch_stop(w);
        return rc;
    }
    *out = w;
    return VG_OK;
}

int vg_watch_reload(vg_watch *w, vg_error *err) {
    vg_watch_config *cfg;
    vg_run_models *models;
    int rc = prepare(w->path, &cfg, &models, err);
    if (rc) return rc;
    vg_run_stop(w->run, DRAIN_SECONDS);
    w->run = NULL;
    rc = vg_run_start(cfg, models, w->p.log, w->p.user, &w->run, err);
    if (!rc) {
        vg_watch_config_free(w->cfg);
        w->cfg = cfg;
        say(w, "configuration reloaded");
        return VG_OK;
    }
    /* the new configuration passed its check yet failed to start (a port taken, say):
       the old one ran a moment ago, so it goes back */
    vg_error again;
    vg_watch_config_free(cfg);
    if (vg_run_models_load(w->cfg, &models, &again) ||
        vg_run_start(w->cfg, models, w->p.log, w->p.user, &w->run, &again)) {
        char line[700];
        snprintf(line, sizeof line, "the previous configuration failed to restart too: %s", again.msg);
        say(w, line);
    }
    return rc;
}

void vg_watch_get_stats(vg_watch *w, vg_watch_stats *out) {
    memset(out, 0, sizeof *out);
    if (w->run) vg_run_stats(w->run, out);
}

void vg_watch_stop(vg_watch *w) {
    if (!w) return;
    vg_run_stop(w->run, DRAIN_SECONDS);
    vg_watch_config_free(w->cfg);
    free(w->path);
    free(w);
}
