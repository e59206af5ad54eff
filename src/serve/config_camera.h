/* config_camera.h - the `cameras` list of vigil watch's configuration file: each camera's
 * keys, privacy-mask polygons, ROI and checks (config.c reads the rest of the file). */
#ifndef VG_SERVE_CONFIG_CAMERA_H
#define VG_SERVE_CONFIG_CAMERA_H

#include "serve/config.h"
#include "serve/config_read.h"

#define VG_CFG_MAX_CAMERAS 1024
#define VG_CFG_MAX_POINTS 100000 /* privacy-mask points in the whole file: YAML aliases can
                                    repeat one polygon many times over in a few bytes */

/* The reader and what the camera readers count across the file. */
typedef struct vg_cfg_loader {
    vg_cfg_reader r; /* first: the readers get &l->r and cast it back */
    long points;     /* privacy-mask points read so far */
} vg_cfg_loader;

/* A vg_cfg_read_fn for the key "cameras" (base: the vg_watch_config; r: a vg_cfg_loader's):
 * at least one camera, ids unique. */
int vg_cfg_read_cameras(vg_cfg_reader *r, yaml_node_t *value, const char *path, void *base);

/* Frees what a camera holds (not the camera itself). */
void vg_cfg_camera_clear(vg_camera_config *c);

#endif
