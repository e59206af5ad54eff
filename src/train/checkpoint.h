/* checkpoint.h - resumable training: the model file plus the optimiser's state beside it.
 *
 * PATH is an ordinary model file (usable as it is); PATH.state holds Adam's moments, the
 * step count and the position in the schedule (epoch, batch). */
#ifndef VG_CHECKPOINT_H
#define VG_CHECKPOINT_H

#include "vigil/vigil.h"

/* Saves the model to path and the state to path.state; epoch and batch are where training
 * continues (batch 0 of epoch e: epochs 0..e-1 are done). */
int vg_checkpoint_save(const char *path, const vg_model *m, vg_trainer *t, int epoch,
                       int batch, vg_error *err);

/* Restores the trainer's state from path.state and says where to continue. */
int vg_checkpoint_load_state(const char *path, vg_trainer *t, int *epoch, int *batch,
                             vg_error *err);

#endif
