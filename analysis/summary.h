/* summary.h — DIR/summary.md: the prefill sections (summary.c), the tables
 * of every family (summary_families.c) and the real study (summary_real.c);
 * the decode and model sections come from regimes.h between them and the
 * list of figures. */
#ifndef SUMMARY_H
#define SUMMARY_H

#include <stdio.h>

#include "rows.h"
#include "scaling.h"

/* the title, machine, rows by status, per-method table, scaling,
 * crossovers, Pareto fronts, the families, the real study, rows that did
 * not run and doubled points. 0, or -1 (memory) */
int summary_prefill(FILE *f, const data *d, const scaling *s);
void summary_env(FILE *f, const char *csv);
void summary_real(FILE *f, const data *d);
/* each method at its best setting beside exact chunked (plain words) */
void summary_methods(FILE *f, const data *d);
/* the projection schemes: params, K/V cache per token, error against head similarity */
void summary_projections(FILE *f, const data *d);
/* the top-k feed-forward beside the dense layer: error, time, memory against k */
void summary_ffn(FILE *f, const data *d);
/* the sliding window's error against its width, non-causal beside causal (summary_window.c) */
void summary_window(FILE *f, const data *d);
/* the window study's largest window at the score std nearest 4: its rel_err
 * non-causal and causal, at n (nearest 2048) */
typedef struct {
    double n, sd, w, sink, err, err_causal;
} window_pair;
/* 0, or -1: the study lacks a causal or a non-causal row there */
int window_causal_pair(const data *d, window_pair *p);
/* an attention row on the reference projection (MHA) with an error */
int keep_mha_err(const data *d, size_t r);
/* keeps the rows of s whose column id is the value nearest want (log
 * distance); that value, NAN: none positive */
double keep_nearest(const data *d, rowset *s, int id, double want);
/* the section "Verdicts": each regime's guidance, computed from the rows
 * (verdicts.c); 0, or -1 (memory) */
int summary_verdicts(FILE *f, const data *d, const scaling *s);
/* links to every figure of the registry */
void summary_figures(FILE *f);

#endif
