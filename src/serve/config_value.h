/* config_value.h - the value forms of vigil watch's configuration file, on plain text:
 * integers, numbers, booleans, durations, sizes, and "${NAME}" references to the
 * environment. They know nothing of YAML or of keys: each parser takes the whole text and
 * returns 1 with the value, or 0 when the text is not of its form; the caller names the key
 * and says what was expected. Numbers are plain decimal ("12", "-0.5", "3e-3"): no hex, no
 * inf or nan. */
#ifndef VG_SERVE_CONFIG_VALUE_H
#define VG_SERVE_CONFIG_VALUE_H

#include <stddef.h>

/* A decimal integer. Beyond long long it is clamped to its ends, so that the caller's
 * range check rejects it with the text the user wrote. */
int vg_cfg_int(const char *s, long long *out);

/* A finite decimal number. */
int vg_cfg_number(const char *s, double *out);

/* true, false, yes or no, in any case. */
int vg_cfg_bool(const char *s, int *out);

/* Seconds: a number, or a number and a unit ms, s, m, h or d ("500ms", "1.5h", "30d";
 * spaces between are allowed). */
int vg_cfg_duration(const char *s, double *out);

/* Bytes: a number, or a number and a unit, in any case: B; kB, MB, GB, TB (powers of
 * 1000, as disks are sold); KiB, MiB, GiB, TiB (powers of 1024). "20GB" = 2e10,
 * "1.5GiB" = 1610612736. */
int vg_cfg_size(const char *s, double *out);

/* s with every "${NAME}" (NAME: letters, digits, '_', not starting with a digit) replaced
 * by the environment variable NAME, into *buf (grown as needed: *cap bytes, free() it).
 * Returns VG_OK; VG_ERR_MISSING when NAME is not set, *at and *at_len then give NAME in s;
 * VG_ERR_FORMAT for a "${" without a valid NAME and '}', *at pointing at it (*at_len: to
 * the end of s); VG_ERR_NOMEM. A '$' not followed by '{' is kept as it is. */
int vg_cfg_expand(const char *s, char **buf, size_t *cap, const char **at, size_t *at_len);

#endif
