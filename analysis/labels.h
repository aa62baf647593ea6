/* labels.h — how `analyze` names and draws a row: its method and knob
 * labels, its family (the method a reader tells apart: an attention
 * operator, or the projection scheme of exact attention), one marker SHAPE
 * per family, one colour per family and a ramp from light (small knob
 * value) to the family's colour (large), and numbers for people. */
#ifndef LABELS_H
#define LABELS_H

#include <stddef.h>
#include <stdio.h>

#include "rows.h"

/* "topk", "vanilla/gqa G=2", "ffn-topk" */
void method_label(const data *d, size_t r, char *out, size_t cap);
/* " k=64 C=256 s=4 w=60": the row's knobs among `which` (a colset) */
void knob_label(const data *d, size_t r, colset which, char *out, size_t cap);
/* the short name of a knob column in labels: the registry's ("k", "C", "M", "s", "w", "G") */
const char *knob_short(int id);

/* the family of a row: its attention operator, or for exact attention
 * (vanilla) on a projection other than MHA the projection; "ffn-topk" */
void family_of(const data *d, size_t r, char *out, size_t cap);
int family_marker(const char *family);        /* gnuplot pt, a filled shape */
/* the family's rank in the decode and model legends, -1: none; ranks 0 .. family_ranks() - 1 */
int family_rank(const char *family);
int family_ranks(void);
const char *family_color(const char *family); /* "#rrggbb" */
int hollow_point(int pt);                     /* the open version of a filled pt */
/* the family's colour at knob value v: lighter for small v (v <= 0: the colour) */
void ramp_color(const char *base, double v, char out[8]);
/* gnuplot functions family_pt(s) and family_rgb(s) for every family, so
 * scripts that read other data (the regimes' files) draw the same shapes */
int write_family_gp(const char *datadir);

const char *row_color(const data *d, size_t r);
/* the legend's order: attention operators as in attn_methods[], each with
 * its projection schemes as in proj_schemes[], then the FFN */
double method_order(const data *d, size_t r);
/* the knob that tells a method's points apart (k, m, w, G, C), "" if none */
const char *knob_of(const data *d, size_t r);
double knob_value(const data *d, size_t r);  /* knob_of as a number, 0: none */

void fmt_bytes(double b, char *out, size_t cap);
void fmt_slope(double v, char *out, size_t cap);
void fmt_from(double n, char *out, size_t cap);  /* "n ≥ 512" or "never" */

/* after a table that shows a rel_err above 1 (any): the line that says
 * what it means */
void note_over_one(FILE *f, int any);

#endif
