/* atomic.h - files that appear whole or not at all.
 *
 * A report (heat map, timeline) is written to PATH.tmp, flushed to the disk and renamed over
 * PATH: a reader or a crash sees the old file or the new one, never half of one. */
#ifndef VG_ATOMIC_H
#define VG_ATOMIC_H

#include <stdio.h>

#include "core/status.h"

#define VG_WHY_LEN 160 /* room for the reason a writer gives */

/* Writes the content into f: 0, or -1 with why filled (errors of f itself, as in fprintf
 * to a full disk, need not be checked: vg_write_atomic reads ferror). */
typedef int (*vg_write_fn)(FILE *f, void *ctx, char why[VG_WHY_LEN]);

/* Writes path through fn. On failure nothing is left at PATH.tmp, path is untouched and
 * err reads "PATH: cannot write (REASON)" with VG_ERR_IO, or VG_ERR_NOMEM. */
int vg_write_atomic(const char *path, vg_write_fn fn, void *ctx, vg_error *err);

#endif
