/* traits.h — what the analysis asks of a row's method, answered by the
 * method tables (kernels/methods.c: the entry's knobs, mass and flags) and
 * the knob registry (bench/cli/knobs.h: labels and roles), never by comparing
 * a method's name. A name no table knows (a row of a method this build
 * lacks) has no trait.
 *
 * A family (regime_rows.h) is what a reader tells apart: an attention
 * operator ("topk"), the same on a projection other than the reference
 * ("topk+mqa"), or, for exact attention, the projection ("gqa", "mha"). */
#ifndef TRAITS_H
#define TRAITS_H

#include <stddef.h>

#include "attention.h"
#include "eval.h" /* EVAL_OWN */

/* ---- attention operators (a row's `attention`) ---------------------------- */
/* exact attention: an ATTN_EXACT entry of attn_methods[] or ffn_methods[]
 * (decode's and ffn's "exact" is the latter), or eval's own */
int op_exact(const char *attention);
/* the quadratic-memory baseline (ATTN_BASELINE) */
int op_baseline(const char *attention);
const char *baseline_name(void);
/* the first exact method that is not the baseline (linear memory: chunked) */
const char *exact_linear_name(void);
/* the table entry keeps the k largest (ATTN_MASS_LARGEST: top-k attention or
 * its feed-forward) */
int op_keeps_largest(const char *attention, int ffn);
/* the name of the attention method that keeps the k largest, or NULL */
const char *keeps_largest_name(void);

/* ---- projection schemes ----------------------------------------------------- */
int proj_reference(const char *projection);        /* PROJ_REFERENCE: mha */
const char *reference_name(void);
int proj_embeds(const char *projection);           /* an embed entry: mhe-add, mhe-mul */
unsigned proj_knobs(const char *projection);       /* the KNOB_* bits it reads (gqa: K/V heads) */
/* one K/V head whatever --heads (multi-query attention) */
int proj_one_kv_head(const char *projection);

/* ---- families ------------------------------------------------------------ */
/* the family's operator (NULL: exact attention) and projection (NULL: the
 * reference, or a name no table knows) */
void family_parse(const char *family, const attn_method **op, const proj_scheme **proj);
/* the KNOB_* bit of the knob that tells a family's points apart (its
 * operator's first knob that is not KF_TUNING or KF_MINOR, else the
 * projection's), 0: none; its results column, -1: none */
unsigned family_knob_bit(const char *family);
int family_knob_column(const char *family);
/* the column of the family operator's KF_MINOR knob (window's sink), -1: none */
int family_minor_column(const char *family);
/* exact attention on the reference projection: the exact model */
int family_reference(const char *family);
/* top-k attention on the reference projection */
int family_keeps_largest(const char *family);
/* "k=64", "G=2", "M=256", "s=4 w=256" (the registry's labels of the main
 * knob and of a positive minor one), "" for knob <= 0 */
void family_setting(const char *family, double knob, double minor, char *out, size_t cap);
/* a figure axis of the family's knob: its label and --help line, "k (keys kept per query)" */
void family_axis(const char *family, char *out, size_t cap);

#endif
