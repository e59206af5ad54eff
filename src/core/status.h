/* status.h - result codes and the error record that carries a readable message.
 *
 * Every fallible internal function returns an int status (VG_OK on success) and takes a
 * vg_error* as its last argument; on failure it fills the record with one line naming the
 * thing and the problem ("weights.safetensors: tensor 'conv1.weight' has shape [64,3,7,7],
 * expected [64,3,3,3]"). The public codes live in include/vigil/vigil.h. */
#ifndef VG_STATUS_H
#define VG_STATUS_H

#include "vigil/vigil.h"

/* Records code and a printf-style message in err (which may be NULL); returns code. */
int vg_fail(vg_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in err with "prefix: " (e.g. a file name); returns err->code. */
int vg_wrap(vg_error *err, const char *prefix);

#endif
