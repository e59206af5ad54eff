/* clock.h - the two clocks threads share: wall-clock time for what people read (event
 * times, the store) and monotonic time for what is measured (latency, backoff). */
#ifndef VG_CLOCK_H
#define VG_CLOCK_H

double vg_wall_now(void); /* Unix seconds */
double vg_mono_now(void); /* seconds since an arbitrary start; never jumps */

#endif
