/* init.h - the random parameters of the test fixtures, drawn by name.
 *
 * The PyTorch fixture scripts (tests/fixtures/) and the C tests regenerate the same
 * random weights from (seed, name) instead of committing them. The rule, shared with
 * tests/fixtures/README.md and draw() in tests/fixtures/torch_models.py, for a tensor NAME
 * drawn as vg_fill_uniform(x, n, vg_seed_for(seed, NAME), lo, hi), by its last name part:
 *   "running_mean"                U(-0.1, 0.1)
 *   "running_var"                 U(0.5, 1.5)
 *   any other with ndim >= 2      U(-b, b), b = sqrt(3 / fan_in) rounded to float32,
 *                                 fan_in = shape[1] * shape[2] * ... (PyTorch's for conv,
 *                                 transposed conv and linear layouts alike)
 *   1-D "bias"                    U(-0.1, 0.1)
 *   1-D "weight" (BN gamma)       U(0.5, 1.5)
 * NAME is the full name as stored in the file, prefix included ("encoder.conv1.weight"). */
#ifndef VG_INIT_H
#define VG_INIT_H

#include <stdint.h>

#include "models/encoder.h"

/* Fills out (prod(shape) floats) with the fixture value of the tensor called name;
 * VG_ERR_ARG when no rule covers name/ndim. */
int vg_init_fixture_param(const char *name, int ndim, const int64_t *shape, uint64_t seed,
                          float *out, vg_error *err);

/* A vg_weights source that makes every requested tensor by the rule above, named
 * prefix + name. It owns what it hands out until freed. */
typedef struct vg_fixture_weights vg_fixture_weights;

int vg_fixture_weights_create(uint64_t seed, const char *prefix, vg_fixture_weights **out,
                              vg_error *err);
vg_weights vg_fixture_weights_source(vg_fixture_weights *fw);
void vg_fixture_weights_free(vg_fixture_weights *fw); /* accepts NULL */

#endif
