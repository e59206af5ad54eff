/* params.h - a model's parameters: one float array described by a table of named tensors
 * (llm.c's layout). Trainable tensors come first, then the batch-norm running statistics,
 * so the optimiser updates one prefix and a model file is written from one table. Names
 * and shapes are PyTorch's (tests/fixtures/torch_models.py), so files and fixtures match
 * by name. */
#ifndef VG_PARAMS_H
#define VG_PARAMS_H

#include <stddef.h>
#include <stdint.h>

typedef struct vg_param {
    char name[40];
    int ndim;
    int64_t shape[4];
    size_t offset, count; /* into the parameter array, in floats */
} vg_param;

#define VG_MAX_PARAMS 96 /* tensors of the largest table, the U-Net's 87 */

typedef struct vg_param_table {
    int n;             /* all tensors */
    int n_trainable;   /* the first n_trainable are trained; the rest are BN statistics */
    size_t total;      /* floats in all tensors */
    size_t trainable;  /* floats in the trainable prefix */
    vg_param p[VG_MAX_PARAMS];
} vg_param_table;

/* Appends a tensor of shape {a, b, c, d}, its first ndim entries, after the last one. */
void vg_param_add(vg_param_table *t, const char *name, int ndim, int64_t a, int64_t b,
                  int64_t c, int64_t d);

/* Marks everything added so far as the trainable prefix. */
void vg_param_end_trainable(vg_param_table *t);

/* The tensor called name, or NULL. */
const vg_param *vg_param_find(const vg_param_table *t, const char *name);

/* PyTorch's default initialisation, drawn from seed: kaiming-uniform(a = sqrt(5)) weights
 * and uniform biases, both U(-1/sqrt(fan_in), 1/sqrt(fan_in)); BN weight 1, bias 0,
 * running mean 0, variance 1. Batch-norm tensors are those whose name contains ".bn.";
 * a 1-D bias follows its weight in the table. */
void vg_params_init(const vg_param_table *t, float *params, uint64_t seed);

#endif
