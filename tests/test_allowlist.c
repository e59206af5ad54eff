/* test_allowlist.c - the rare-but-normal allowlist: cosine distance against unit vectors,
 * the radius as an inclusive bound, zero vectors skipped, and the oldest entries replaced
 * once VG_ALLOWLIST_MAX are held. Tolerance: distances within 1e-6 of the exact value (the
 * list keeps float unit vectors). */
#include <math.h>

#include "serve/allowlist.h"
#include "test.h"

static void test_match(void) {
    vg_allowlist *a = NULL;
    vg_error err = {0};
    CHECK_OK(vg_allowlist_create(2, 0.05, &a, &err), &err);
    if (!a) return;
    double d = 0;
    int empty = vg_allowlist_match(a, (float[]){1, 0}, &d);
    CHECK(!empty && d == 2);
    CHECK_OK(vg_allowlist_add(a, (float[]){3, 0, 0, 0}, 2, &err), &err); /* the zero one skipped */
    /* 1 - cos(angle): 10 degrees is 0.0152, 20 degrees 0.0603 */
    float near[2] = {(float)cos(0.1745), (float)sin(0.1745)}, far[2] = {(float)cos(0.349), (float)sin(0.349)};
    int hit = vg_allowlist_match(a, near, &d);
    double dn = d;
    int miss = vg_allowlist_match(a, far, &d);
    int scaled = vg_allowlist_match(a, (float[]){50, 0}, NULL);
    printf("%-44s size %d, 10 deg: %d (%.4f), 20 deg: %d (%.4f), x50 length: %d %s\n",
           "radius 0.05", vg_allowlist_size(a), hit, dn, miss, d, scaled,
           vg_allowlist_size(a) == 1 && hit && !miss && scaled && fabs(dn - 0.01519) < 1e-4 ? "ok" : "FAIL");
    CHECK(vg_allowlist_size(a) == 1 && hit && !miss && scaled && fabs(dn - 0.01519) < 1e-4);
    vg_allowlist_free(a);
    CHECK(vg_allowlist_create(0, 0.1, &a, &err) == VG_ERR_ARG);
    CHECK(vg_allowlist_create(4, 3, &a, &err) == VG_ERR_ARG);
}

/* Past VG_ALLOWLIST_MAX the oldest entries go first: the first entry, (0, 0, 1), is
 * orthogonal to the VG_ALLOWLIST_MAX that follow it in the plane z = 0. */
static void test_full(void) {
    vg_allowlist *a = NULL;
    vg_error err = {0};
    CHECK_OK(vg_allowlist_create(3, 0.01, &a, &err), &err);
    if (!a) return;
    vg_allowlist_add(a, (float[]){0, 0, 1}, 1, &err);
    int before = vg_allowlist_match(a, (float[]){0, 0, 1}, NULL);
    float v[3] = {0};
    for (int k = 0; k < VG_ALLOWLIST_MAX; k++) {
        v[0] = (float)cos(k * 1e-3), v[1] = (float)sin(k * 1e-3);
        vg_allowlist_add(a, v, 1, &err);
    }
    int first = vg_allowlist_match(a, (float[]){0, 0, 1}, NULL), newest = vg_allowlist_match(a, v, NULL);
    int ok = before && vg_allowlist_size(a) == VG_ALLOWLIST_MAX && !first && newest;
    printf("%-44s size %d, the first held then replaced: %d %d, the newest held: %d %s\n",
           "full list", vg_allowlist_size(a), before, !first, newest, ok ? "ok" : "FAIL");
    CHECK(ok);
    vg_allowlist_free(a);
}

int main(void) {
    test_match();
    test_full();
    return test_result();
}
