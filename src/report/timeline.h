/* timeline.h - the timeline SVG (vg_timeline_svg) written into any stream, for a report
 * that embeds it. */
#ifndef VG_TIMELINE_H
#define VG_TIMELINE_H

#include <stdio.h>

#include "core/status.h"

/* What vg_timeline_svg refuses, with messages starting "what: ". */
int vg_timeline_check(const char *what, const vg_timeline *tl, vg_error *err);

/* The SVG of a checked timeline into f, in the caller's numeric locale (markup.h). */
void vg_timeline_write(FILE *f, const vg_timeline *tl);

#endif
