/* plot.h - charts (vg_chart_svg) written into any stream, for a report that inlines them. */
#ifndef VG_PLOT_H
#define VG_PLOT_H

#include <stdio.h>

#include "core/status.h"

/* What vg_chart_svg refuses, with messages starting "what: ". */
int vg_chart_check(const char *what, const vg_chart *c, vg_error *err);

/* The SVG of a checked chart into f, in the caller's numeric locale (markup.h); standalone
 * adds the XML declaration a file starts with, which an HTML page must not carry. */
void vg_chart_write(FILE *f, const vg_chart *c, int standalone);

#endif
