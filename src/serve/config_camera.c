/* config_camera.c - the `cameras` list of the configuration file (see config_camera.h). */
#include "serve/config_camera.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PIXELS 65535 /* an ROI's or a mask point's coordinate at most */


static int read_id(vg_cfg_reader *r, yaml_node_t *v, const char *path, void *base) {
    vg_camera_config *c = base;
    int rc = vg_cfg_read_string(r, v, path, 0, &c->id);
    if (rc) return rc;
    size_t len = strlen(c->id);
    char q[VG_CFG_EXCERPT];
    if (len >= VG_CAMERA_ID_MAX)
        return vg_cfg_fail(r, VG_ERR_FORMAT, v, path, "'%s' is longer than %d characters",
                           vg_cfg_excerpt(q, c->id), VG_CAMERA_ID_MAX - 1);
    if (strspn(c->id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != len)
        return vg_cfg_fail(r, VG_ERR_FORMAT, v, path, "'%s' may hold only letters, digits, '_' "
                           "and '-' (it names the camera in topics, URLs and files)",
                           vg_cfg_excerpt(q, c->id));
    return VG_OK;
}

static int read_roi(vg_cfg_reader *r, yaml_node_t *v, const char *path, void *base) {
    static const char *const names[4] = {"x", "y", "w", "h"};
    vg_camera_config *c = base;
    int n, roi[4];
    yaml_node_item_t *items = vg_cfg_items(v, &n);
    if (v->type != YAML_SEQUENCE_NODE) return vg_cfg_expected(r, v, path, "4 integers x, y, w, h");
    if (n != 4)
        return vg_cfg_fail(r, VG_ERR_FORMAT, v, path, "expected 4 integers x, y, w, h, got %d", n);
    for (int i = 0; i < 4; i++) {
        char sub[VG_CFG_PATH_MAX];
        int rc = vg_cfg_read_int(r, vg_cfg_node(r, items[i]), vg_cfg_join(sub, path, names[i]),
                                 i < 2 ? 0 : 1, MAX_PIXELS, &roi[i]);
        if (rc) return rc;
    }
    memcpy(c->roi, roi, sizeof roi);
    return VG_OK;
}

static int read_fit(vg_cfg_reader *r, yaml_node_t *v, const char *path, void *base) {
    vg_camera_config *c = base;
    const char *const fit_names[] = {vg_fit_name(VG_FIT_STRETCH), vg_fit_name(VG_FIT_CROP),
                                     vg_fit_name(VG_FIT_PAD)};
    int i, rc = vg_cfg_read_choice(r, v, path, fit_names, 3, &i);
    if (!rc) c->fit = (vg_fit)i, c->has_fit = 1;
    return rc;
}

/* The names are the library's (vg_score_kind_name), as calibration files write them. */
static int read_score(vg_cfg_reader *r, yaml_node_t *v, const char *path, void *base) {
    static const vg_score_kind kinds[2] = {VG_SCORE_PATCH, VG_SCORE_PSNR};
    const char *names[2] = {vg_score_kind_name(kinds[0]), vg_score_kind_name(kinds[1])};
    vg_camera_config *c = base;
    int i, rc = vg_cfg_read_choice(r, v, path, names, 2, &i);
    if (!rc) c->score = kinds[i], c->has_score = 1;
    return rc;
}

/* One polygon: at least 3 points [x, y] of numbers >= 0. */
static int read_polygon(vg_cfg_loader *l, yaml_node_t *v, const char *path, vg_polygon *p) {
    vg_cfg_reader *r = &l->r;
    int n;
    yaml_node_item_t *items = vg_cfg_items(v, &n);
    if (v->type != YAML_SEQUENCE_NODE)
        return vg_cfg_expected(r, v, path, "a polygon, a list of points [x, y]");
    if (n < 3)
        return vg_cfg_fail(r, VG_ERR_FORMAT, v, path, "a polygon needs at least 3 points [x, y], "
                           "got %d", n);
    if (n > VG_CFG_MAX_POINTS - l->points)
        return vg_cfg_fail(r, VG_ERR_FORMAT, v, path, "the privacy masks hold more than %d "
                           "points in all", VG_CFG_MAX_POINTS);
    l->points += n;
    if (!(p->xy = malloc(2 * (size_t)n * sizeof *p->xy)))
        return vg_cfg_fail(r, VG_ERR_NOMEM, v, path, "out of memory");
    p->n = n;
    for (int i = 0; i < n; i++) {
        char pt[VG_CFG_PATH_MAX], sub[VG_CFG_PATH_MAX];
        yaml_node_t *point = vg_cfg_node(r, items[i]);
        int m, rc = VG_OK;
        yaml_node_item_t *xy = vg_cfg_items(point, &m);
        vg_cfg_index(pt, path, i);
        if (point->type != YAML_SEQUENCE_NODE)
            return vg_cfg_expected(r, point, pt, "a point [x, y]");
        if (m != 2)
            return vg_cfg_fail(r, VG_ERR_FORMAT, point, pt, "expected a point [x, y], got %d "
                               "numbers", m);
        for (int k = 0; k < 2 && !rc; k++)
            rc = vg_cfg_read_number(r, vg_cfg_node(r, xy[k]), vg_cfg_join(sub, pt, k ? "y" : "x"),
                                    0, MAX_PIXELS, &p->xy[2 * i + k]);
        if (rc) return rc;
    }
    return VG_OK;
}

static int read_masks(vg_cfg_reader *r, yaml_node_t *v, const char *path, void *base) {
    vg_camera_config *c = base;
    int n;
    yaml_node_item_t *items = vg_cfg_items(v, &n);
    if (vg_cfg_is_null(v) || (v->type == YAML_SEQUENCE_NODE && !n)) return VG_OK;
    if (v->type != YAML_SEQUENCE_NODE)
        return vg_cfg_expected(r, v, path, "a list of polygons [[x, y], [x, y], [x, y], ...]");
    if (!(c->masks = calloc((size_t)n, sizeof *c->masks)))
        return vg_cfg_fail(r, VG_ERR_NOMEM, v, path, "out of memory");
    c->n_masks = n;
    for (int i = 0; i < n; i++) {
        char sub[VG_CFG_PATH_MAX];
        int rc = read_polygon((vg_cfg_loader *)r, vg_cfg_node(r, items[i]),
                              vg_cfg_index(sub, path, i), &c->masks[i]);
        if (rc) return rc;
    }
    return VG_OK;
}

/* Thresholds are patch scores or PSNR in dB, both above 0. An exit level must let an event
 * end: at most the threshold for the patch score, at least it for PSNR (lower PSNR is more
 * anomalous). When no score is given the runtime takes the calibration's, and checks. */
static int check_camera(vg_cfg_reader *r, yaml_node_t *map, const char *path, void *base) {
    const vg_camera_config *c = base;
    char sub[VG_CFG_PATH_MAX], sub2[VG_CFG_PATH_MAX];
    if (!isnan(c->threshold) && !(c->threshold > 0))
        return vg_cfg_fail(r, VG_ERR_FORMAT, vg_cfg_find(r, map, "threshold"),
                           vg_cfg_join(sub, path, "threshold"), "%g is not above 0 (a patch "
                           "score or a PSNR in dB)", c->threshold);
    if (!c->has_score || isnan(c->threshold) || isnan(c->exit)) return VG_OK;
    int psnr = c->score == VG_SCORE_PSNR;
    if (psnr ? c->exit >= c->threshold : c->exit <= c->threshold) return VG_OK;
    yaml_node_t *at = vg_cfg_find(r, vg_cfg_find(r, map, "decide"), "exit");
    const char *p = vg_cfg_join(sub2, vg_cfg_join(sub, path, "decide"), "exit");
    return psnr ? vg_cfg_fail(r, VG_ERR_FORMAT, at, p, "%g dB is below the threshold %g dB: an "
                              "event ends when PSNR is back above the exit level, so it must be "
                              "at least the threshold", c->exit, c->threshold)
                : vg_cfg_fail(r, VG_ERR_FORMAT, at, p, "%g is above the threshold %g: an event "
                              "ends when the score falls below the exit level, so it must be at "
                              "most the threshold", c->exit, c->threshold);
}

static const vg_cfg_field decide_fields[] = {
    {.key = "exit", .kind = VG_CFG_NUMBER, .offset = offsetof(vg_camera_config, exit),
     .lo = -1e300, .hi = 1e300},
    {.key = "smooth", .kind = VG_CFG_INT, .offset = offsetof(vg_camera_config, smooth), .lo = 1,
     .hi = 10000},
    {.key = "debounce", .kind = VG_CFG_INT, .offset = offsetof(vg_camera_config, debounce),
     .lo = 1, .hi = 100000},
    {.key = "min_duration", .kind = VG_CFG_INT,
     .offset = offsetof(vg_camera_config, min_duration), .lo = 1, .hi = 100000},
    {.key = "merge_gap", .kind = VG_CFG_INT, .offset = offsetof(vg_camera_config, merge_gap),
     .lo = 0, .hi = 100000},
    {.key = "update_every", .kind = VG_CFG_INT,
     .offset = offsetof(vg_camera_config, update_every), .lo = 0, .hi = 100000},
    {0}};

static const vg_cfg_field camera_fields[] = {
    {.key = "id", .kind = VG_CFG_CUSTOM, .required = 1, .read = read_id},
    {.key = "source", .kind = VG_CFG_STRING, .offset = offsetof(vg_camera_config, source),
     .required = 1},
    {.key = "model", .kind = VG_CFG_STRING, .offset = offsetof(vg_camera_config, model),
     .required = 1},
    {.key = "roi", .kind = VG_CFG_CUSTOM, .read = read_roi},
    {.key = "fit", .kind = VG_CFG_CUSTOM, .read = read_fit},
    {.key = "privacy_masks", .kind = VG_CFG_CUSTOM, .read = read_masks},
    {.key = "threshold", .kind = VG_CFG_NUMBER, .offset = offsetof(vg_camera_config, threshold),
     .lo = -1e300, .hi = 1e300},
    {.key = "score", .kind = VG_CFG_CUSTOM, .read = read_score},
    {.key = "decide", .kind = VG_CFG_SECTION, .fields = decide_fields},
    {.key = "allowlist_radius", .kind = VG_CFG_NUMBER,
     .offset = offsetof(vg_camera_config, allowlist_radius), .lo = 0, .hi = 2},
    {.key = "shadow", .kind = VG_CFG_BOOL, .offset = offsetof(vg_camera_config, shadow)},
    {.key = "realtime", .kind = VG_CFG_BOOL, .offset = offsetof(vg_camera_config, realtime)},
    {.key = "loop", .kind = VG_CFG_BOOL, .offset = offsetof(vg_camera_config, loop)},
    {0}};

/* The defaults of config.h. */
static vg_camera_config camera_defaults(void) {
    return (vg_camera_config){.fit = VG_FIT_STRETCH,
                              .threshold = NAN,
                              .score = VG_SCORE_PATCH,
                              .exit = NAN,
                              .smooth = -1,
                              .debounce = -1,
                              .min_duration = -1,
                              .merge_gap = -1,
                              .update_every = -1,
                              .allowlist_radius = VG_ALLOWLIST_RADIUS,
                              .realtime = 1};
}

int vg_cfg_read_cameras(vg_cfg_reader *r, yaml_node_t *v, const char *path, void *base) {
    vg_watch_config *cfg = base;
    int n;
    yaml_node_item_t *items = vg_cfg_items(v, &n);
    if (v->type != YAML_SEQUENCE_NODE && !vg_cfg_is_null(v))
        return vg_cfg_expected(r, v, path, "a list of cameras (lines '- id: ...')");
    if (!n)
        return vg_cfg_fail(r, VG_ERR_MISSING, v, path,
                           "the list is empty; give at least one camera");
    if (n > VG_CFG_MAX_CAMERAS)
        return vg_cfg_fail(r, VG_ERR_FORMAT, v, path, "%d cameras; at most %d", n,
                           VG_CFG_MAX_CAMERAS);
    if (!(cfg->cameras = calloc((size_t)n, sizeof *cfg->cameras)))
        return vg_cfg_fail(r, VG_ERR_NOMEM, v, path, "out of memory");
    cfg->n_cameras = n;
    for (int i = 0; i < n; i++) cfg->cameras[i] = camera_defaults();
    for (int i = 0; i < n; i++) {
        char sub[VG_CFG_PATH_MAX], id_path[VG_CFG_PATH_MAX];
        yaml_node_t *item = vg_cfg_node(r, items[i]);
        vg_camera_config *c = &cfg->cameras[i];
        int rc = vg_cfg_read_map(r, item, vg_cfg_index(sub, path, i), camera_fields,
                                 check_camera, c);
        if (rc) return rc;
        for (int j = 0; j < i; j++)
            if (!strcmp(cfg->cameras[j].id, c->id))
                return vg_cfg_fail(r, VG_ERR_FORMAT, vg_cfg_find(r, item, "id"),
                                   vg_cfg_join(id_path, sub, "id"),
                                   "'%s' is already the id of cameras[%d]", c->id, j);
    }
    return VG_OK;
}

void vg_cfg_camera_clear(vg_camera_config *c) {
    for (int i = 0; i < c->n_masks; i++) free(c->masks[i].xy);
    free(c->masks);
    free(c->id);
    free(c->source);
    free(c->model);
}
