/* model_study.h — the model rows (regime "model", `attnbench eval`) of a
 * results file by checkpoint; shared by model.c (data files, figures, the
 * model section) and model_claims.c (the claims table). */
#ifndef MODEL_STUDY_H
#define MODEL_STUDY_H

#include <stddef.h>
#include <stdio.h>

#include "regime_rows.h"

typedef struct {
    const char *input;   /* the checkpoint's path (the rows' input) */
    char name[128];      /* its basename without .bin */
    double native_kv;    /* its own K/V heads */
    double nll_exact;    /* the exact model's NLL on the rows' tokens */
    size_t *rows;        /* every model row of the checkpoint, any status */
    size_t n;
    plane_pt *plane;     /* the ΔNLL plane: all layers, one knob value, deduplicated */
    size_t nplane;
} mckpt;

int mckpts_find(const rtab *rt, mckpt **out, size_t *count);  /* 0, or -1 (memory) */
void mckpts_free(mckpt *c, size_t count);

/* a row that substitutes every layer with one setting (no per-layer list) */
int model_uniform(const rtab *rt, size_t r);
/* a row that substitutes one layer: its index, or -1 */
int model_single_layer(const rtab *rt, size_t r);
/* the plane point of family `family` at knob `knob` (NULL: none ran) */
const plane_pt *mckpt_point(const mckpt *c, const char *family, double knob);
/* the best point within 1% of the exact NLL (least cache, then least knob),
 * leaving out the exact model; NULL: none */
const plane_pt *mckpt_within(const rtab *rt, const mckpt *c, double share);

/* the model section of summary.md (model_summary.c) */
void model_summary(FILE *f, const rtab *rt, const mckpt *c, size_t count);
/* the claims of the seeds against the rows (model_claims.c) */
void claims_table(FILE *f, const rtab *rt, const mckpt *c, size_t count);

#endif
