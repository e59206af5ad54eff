/* zip.c - the directory and stored entries of an in-memory zip archive.
 *
 * Everything is found through the end-of-central-directory record and the central
 * directory, never by scanning local headers: torch.save sets the data-descriptor flag,
 * so its local headers carry zero sizes and CRCs, and the central directory is the only
 * authority. Every offset is checked against the buffer before use. */
#include "io/zip.h"

#include <stdlib.h>
#include <string.h>

#include "io/bytes.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_LOCATOR64 0x07064b50u
#define CENTRAL_SIZE 46 /* fixed part of a central directory entry */
#define LOCAL_SIZE 30   /* fixed part of a local header */

typedef struct zip_entry {
    const char *name;
    size_t name_len;
    uint64_t local_off, csize, usize;
    uint32_t crc;
    uint16_t method, flags;
} zip_entry;

struct vg_zip {
    const uint8_t *buf;
    uint64_t data_end; /* entries' data lies before the central directory */
    zip_entry *e;      /* sorted by name */
    int n;
    uint32_t crc_table[8][256];
};

/* The reflected CRC-32 tables for slicing by 8 (t[0] is the classic byte table), built
 * per handle to keep no global state; eight bytes a step make checking resnet18's 45 MB
 * cheap next to reading it. */
static void crc_init(uint32_t t[8][256]) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[0][i] = c;
    }
    for (int k = 1; k < 8; k++)
        for (int i = 0; i < 256; i++) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
}

static uint32_t crc32_of(const uint32_t t[8][256], const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (; n >= 8; p += 8, n -= 8) { /* eight bytes per step */
        uint32_t lo = c ^ vg_rd32(p), hi = vg_rd32(p + 4);
        c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
            t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    }
    for (; n > 0; p++, n--) c = t[0][(c ^ *p) & 0xff] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* The EOCD record is the last 22 bytes plus its comment; its comment length must
 * reach exactly to the end, which rejects stray signatures in data. */
static int find_eocd(const uint8_t *b, size_t len, size_t *pos) {
    if (len < 22) return -1;
    size_t lo = len - 22 > 0xFFFF ? len - 22 - 0xFFFF : 0;
    for (size_t p = len - 22;; p--) { /* backwards: the last record is the real one */
        if (vg_rd32(b + p) == SIG_EOCD && p + 22 + vg_rd16(b + p + 20) == len) {
            *pos = p;
            return 0;
        }
        if (p == lo) return -1;
    }
}

/* Where the central directory is: from the zip64 record when its locator precedes the
 * EOCD, else from the EOCD's 16/32-bit fields. *limit is where the directory must end. */
static int locate_directory(const uint8_t *b, size_t eocd, uint64_t *count, uint64_t *off,
                            uint64_t *size, uint64_t *limit, vg_error *err) {
    *count = vg_rd16(b + eocd + 10);
    *size = vg_rd32(b + eocd + 12);
    *off = vg_rd32(b + eocd + 16);
    *limit = eocd;
    if (eocd >= 20 && vg_rd32(b + eocd - 20) == SIG_LOCATOR64) {
        uint64_t z64 = vg_rd64(b + eocd - 20 + 8);
        if (z64 > eocd - 20 || eocd - 20 - z64 < 56 || vg_rd32(b + z64) != SIG_EOCD64)
            return vg_fail(err, VG_ERR_FORMAT, "zip64 end-of-directory record is damaged");
        *count = vg_rd64(b + z64 + 32);
        *size = vg_rd64(b + z64 + 40);
        *off = vg_rd64(b + z64 + 48);
        *limit = z64;
    } else if (*count == 0xFFFF || *size == 0xFFFFFFFFu || *off == 0xFFFFFFFFu) {
        return vg_fail(err, VG_ERR_FORMAT, "zip64 archive without its zip64 end record");
    }
    if (*off > *limit || *size > *limit - *off || *count > *size / CENTRAL_SIZE ||
        *count > INT32_MAX)
        return vg_fail(err, VG_ERR_FORMAT, "zip central directory lies outside the file");
    return VG_OK;
}

/* Replaces the 32-bit fields marked 0xFFFFFFFF by the zip64 extra field's values, which
 * appear in this fixed order and only when marked. */
static int apply_zip64_extra(const uint8_t *x, size_t m, zip_entry *e) {
    uint64_t *fields[3] = {&e->usize, &e->csize, &e->local_off};
    while (m >= 4) {
        size_t id = vg_rd16(x), sz = vg_rd16(x + 2);
        if (sz > m - 4) return -1;
        const uint8_t *q = x + 4;
        size_t left = sz;
        for (int i = 0; id == 1 && i < 3; i++) {
            if (*fields[i] != 0xFFFFFFFFu) continue;
            if (left < 8) return -1;
            *fields[i] = vg_rd64(q);
            q += 8;
            left -= 8;
        }
        x += 4 + sz;
        m -= 4 + sz;
    }
    return 0;
}

/* Parses the central directory entry at p (avail bytes left); *used is its length. */
static int parse_entry(const uint8_t *p, size_t avail, zip_entry *e, size_t *used,
                       vg_error *err) {
    if (avail < CENTRAL_SIZE || vg_rd32(p) != SIG_CENTRAL)
        return vg_fail(err, VG_ERR_FORMAT, "zip central directory is damaged");
    size_t n = vg_rd16(p + 28), m = vg_rd16(p + 30), k = vg_rd16(p + 32);
    if (CENTRAL_SIZE + n + m + k > avail)
        return vg_fail(err, VG_ERR_FORMAT, "zip central directory is damaged");
    e->flags = vg_rd16(p + 8);
    e->method = vg_rd16(p + 10);
    e->crc = vg_rd32(p + 16);
    e->csize = vg_rd32(p + 20);
    e->usize = vg_rd32(p + 24);
    e->local_off = vg_rd32(p + 42);
    e->name = (const char *)p + CENTRAL_SIZE;
    e->name_len = n;
    if (apply_zip64_extra(p + CENTRAL_SIZE + n, m, e) != 0)
        return vg_fail(err, VG_ERR_FORMAT, "zip entry '%.*s' has a damaged zip64 field",
                       (int)(n > 200 ? 200 : n), e->name);
    *used = CENTRAL_SIZE + n + m + k;
    return VG_OK;
}

static int cmp_names(const char *a, size_t na, const char *b, size_t nb) {
    int c = memcmp(a, b, na < nb ? na : nb);
    return c ? c : (na > nb) - (na < nb);
}

static int cmp_entry(const void *a, const void *b) {
    const zip_entry *x = a, *y = b;
    return cmp_names(x->name, x->name_len, y->name, y->name_len);
}

/* Reads all central directory entries into z->e, sorted by name. */
static int read_directory(vg_zip *z, size_t len, vg_error *err) {
    size_t eocd;
    uint64_t count, off, size, limit;
    if (find_eocd(z->buf, len, &eocd) != 0)
        return vg_fail(err, VG_ERR_FORMAT, "truncated or damaged zip (no end-of-directory "
                       "record)");
    int rc = locate_directory(z->buf, eocd, &count, &off, &size, &limit, err);
    if (rc != VG_OK) return rc;
    z->e = calloc(count ? count : 1, sizeof *z->e);
    if (!z->e) return vg_fail(err, VG_ERR_NOMEM, "out of memory reading the zip directory");
    const uint8_t *p = z->buf + off;
    size_t avail = size;
    for (uint64_t i = 0; i < count; i++) {
        size_t used = 0;
        rc = parse_entry(p, avail, &z->e[i], &used, err);
        if (rc != VG_OK) return rc;
        p += used;
        avail -= used;
    }
    z->n = (int)count;
    z->data_end = off;
    qsort(z->e, (size_t)z->n, sizeof *z->e, cmp_entry);
    return VG_OK;
}

int vg_zip_open(const uint8_t *buf, size_t len, vg_zip **out, vg_error *err) {
    *out = NULL;
    vg_zip *z = calloc(1, sizeof *z);
    if (!z) return vg_fail(err, VG_ERR_NOMEM, "out of memory");
    z->buf = buf;
    crc_init(z->crc_table);
    int rc = read_directory(z, len, err);
    if (rc != VG_OK) {
        vg_zip_close(z);
        return rc;
    }
    *out = z;
    return VG_OK;
}

void vg_zip_close(vg_zip *z) {
    if (!z) return;
    free(z->e);
    free(z);
}

int vg_zip_count(const vg_zip *z) {
    return z ? z->n : 0;
}

const char *vg_zip_name(const vg_zip *z, int i, size_t *name_len) {
    *name_len = z->e[i].name_len;
    return z->e[i].name;
}

int vg_zip_find(const vg_zip *z, const char *name) {
    zip_entry key = {.name = name, .name_len = strlen(name)};
    const zip_entry *hit = bsearch(&key, z->e, (size_t)z->n, sizeof *z->e, cmp_entry);
    return hit ? (int)(hit - z->e) : -1;
}

int vg_zip_data(const vg_zip *z, int i, const uint8_t **data, size_t *size, vg_error *err) {
    const zip_entry *e = &z->e[i];
    int show = e->name_len > 200 ? 200 : (int)e->name_len;
    if (e->flags & 1)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "zip entry '%.*s' is encrypted", show, e->name);
    if (e->method != 0)
        return vg_fail(err, VG_ERR_UNSUPPORTED, "zip entry '%.*s' is compressed (method %u); "
                       "torch.save stores entries uncompressed, so save the weights again "
                       "with torch.save instead of re-zipping them", show, e->name, e->method);
    uint64_t lo = e->local_off;
    if (e->csize != e->usize || lo > z->data_end || z->data_end - lo < LOCAL_SIZE ||
        vg_rd32(z->buf + lo) != SIG_LOCAL)
        return vg_fail(err, VG_ERR_FORMAT, "zip entry '%.*s' has a damaged local header", show,
                       e->name);
    uint64_t start = lo + LOCAL_SIZE + vg_rd16(z->buf + lo + 26) + vg_rd16(z->buf + lo + 28);
    if (start > z->data_end || e->usize > z->data_end - start)
        return vg_fail(err, VG_ERR_FORMAT, "zip entry '%.*s' runs past the end of its data",
                       show, e->name);
    if (crc32_of(z->crc_table, z->buf + start, (size_t)e->usize) != e->crc)
        return vg_fail(err, VG_ERR_FORMAT, "zip entry '%.*s' is damaged (CRC mismatch)", show,
                       e->name);
    *data = z->buf + start;
    *size = (size_t)e->usize;
    return VG_OK;
}
