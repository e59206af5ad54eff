/* zip.h - the stored (uncompressed) entries of a zip archive held in memory.
 *
 * Enough of the zip format for torch.save's archives: the end-of-central-directory
 * record (zip64 too, which PyTorch always writes), the central directory, and local
 * headers whose extra field pads the data to 64 bytes. Compressed or encrypted entries
 * are refused; each entry's CRC-32 is checked when it is read. Private to src/io. */
#ifndef VG_IO_ZIP_H
#define VG_IO_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

typedef struct vg_zip vg_zip;

/* Reads the directory of the archive in buf (which must outlive the handle). */
int vg_zip_open(const uint8_t *buf, size_t len, vg_zip **out, vg_error *err);
void vg_zip_close(vg_zip *z); /* accepts NULL */

int vg_zip_count(const vg_zip *z);

/* The name of entry i (not NUL-terminated) and its length. */
const char *vg_zip_name(const vg_zip *z, int i, size_t *name_len);

/* The index of the entry called name, or -1. */
int vg_zip_find(const vg_zip *z, const char *name);

/* The bytes of entry i inside buf, after checking its headers, bounds and CRC. */
int vg_zip_data(const vg_zip *z, int i, const uint8_t **data, size_t *size, vg_error *err);

#endif
