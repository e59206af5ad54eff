/* vigil.h - the public API of libvigil.
 *
 * Status: every function that can fail returns an int result code (VG_OK = 0) and fills
 * the caller's vg_error with one readable line. Codes are only ever appended.
 */
#ifndef VIGIL_H
#define VIGIL_H

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes. */
#define VG_OK              0  /* success */
#define VG_ERR_NOMEM       1  /* an allocation failed */
#define VG_ERR_IO          2  /* a file could not be opened, read or written */
#define VG_ERR_FORMAT      3  /* a file is truncated, corrupt or not of the expected kind */
#define VG_ERR_MISSING     4  /* a required tensor or field is absent */
#define VG_ERR_SHAPE       5  /* a tensor or input has the wrong shape */
#define VG_ERR_ARG         6  /* an argument is out of range or inconsistent */
#define VG_ERR_BACKEND     7  /* the compute backend (oneDNN) refused or failed */
#define VG_ERR_UNSUPPORTED 8  /* a valid request this build cannot serve */
#define VG_ERR_ABORTED     9  /* a callback asked to stop */

/* The detail of a failure: the code and one line naming the thing and the problem. */
typedef struct vg_error {
    int code;
    char msg[512];
} vg_error;

/* Fixed English text of a result code (never NULL). */
const char *vg_errstr(int code);

#ifdef __cplusplus
}
#endif
#endif
