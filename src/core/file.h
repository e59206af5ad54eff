/* file.h - a whole file in memory, and folders. */
#ifndef VG_FILE_H
#define VG_FILE_H

#include <stddef.h>

#include "core/status.h"

/* The bytes of path followed by a 0 (so text can be parsed in place), *len of them (may be
 * NULL); free with free(). NULL on failure: VG_ERR_IO naming path and the reason, or
 * VG_ERR_NOMEM. */
char *vg_read_file(const char *path, size_t *len, vg_error *err);

/* Makes folder path unless it exists: VG_ERR_IO "PATH: cannot create folder (REASON)". */
int vg_make_dir(const char *path, vg_error *err);

#endif
