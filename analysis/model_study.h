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
/* the best point within `share` of the exact NLL, its whole 95% interval
 * (mckpt_within_state 2; least cache, then least knob), leaving out the
 * exact model; NULL: none */
const plane_pt *mckpt_within(const rtab *rt, const mckpt *c, double share);

/* the share of the exact cache row r holds: its cache_ratio, else its
 * cache_bytes over those of the checkpoint's exact row (of the same n
 * where there is one); NAN: neither */
double mckpt_ratio(const rtab *rt, const mckpt *c, size_t r);
/* the checkpoint's own attention for people, with its K/V heads from row
 * r: "own attention (GQA, 4 K/V heads of 8)" */
void mckpt_own_label(const rtab *rt, size_t r, char *out, size_t cap);
/* a family for people (family_words), the exact model's as its own attention */
void mckpt_family_label(const rtab *rt, size_t r, const char *family, char *out, size_t cap);
/* a point's setting for people: the knob ("k=32", top-k with k/n and the
 * share of causal pairs it keeps), a format's bits per value; "—": none */
void mckpt_setting(const rtab *rt, size_t r, const char *family, double knob, char *out, size_t cap);
/* the share of the n(n+1)/2 causal (query, key) pairs that keeping the k
 * largest keeps: sum over t < n of min(k, t + 1) */
double causal_share(double k, double n);
/* against `share` of the exact NLL: 2 when ΔNLL + 1.96 se is within it,
 * 1 when the 95% interval straddles it (not distinguishable), 0 beyond */
int mckpt_within_state(const rtab *rt, const mckpt *c, size_t r, double share);

/* the model section of summary.md (model_summary.c) */
void model_summary(FILE *f, const rtab *rt, const mckpt *c, size_t count);
/* the claims of the seeds against the rows (model_claims.c) */
void claims_table(FILE *f, const rtab *rt, const mckpt *c, size_t count);
/* the KV-cache front of one checkpoint at 1/2, 1/4, 1/8 of its cache (model_front.c) */
void model_front(FILE *f, const rtab *rt, const mckpt *c);

#endif
