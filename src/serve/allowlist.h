/* allowlist.h - rare-but-normal pictures an operator has vouched for (SYSTEM.md: sponsor
 * cards, alert templates). Marking an event "normal" adds the embeddings of its frames
 * (vg_scorer_embedding); a later frame that scores as anomalous but lies within `radius`
 * (cosine distance) of one of them is suppressed and counted instead of raising an event.
 * One list per camera: what is normal is a property of the scene. Adds come from the HTTP
 * thread and matches from the inference worker, hence the lock. */
#ifndef VG_SERVE_ALLOWLIST_H
#define VG_SERVE_ALLOWLIST_H

#include "vigil/vigil.h"

#define VG_ALLOWLIST_MAX 4096 /* embeddings per camera; the oldest go first beyond it */

typedef struct vg_allowlist vg_allowlist;

int vg_allowlist_create(int dim, double radius, vg_allowlist **out, vg_error *err);
void vg_allowlist_free(vg_allowlist *a); /* accepts NULL */

/* Adds n embeddings of dim floats each (v: n * dim). Zero vectors are skipped. */
int vg_allowlist_add(vg_allowlist *a, const float *v, int n, vg_error *err);

/* 1 when e lies within the radius of an allowlisted embedding; *distance (may be NULL)
 * gets the nearest cosine distance (2 when the list is empty). */
int vg_allowlist_match(vg_allowlist *a, const float *e, double *distance);

int vg_allowlist_size(vg_allowlist *a);

#endif
