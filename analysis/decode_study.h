/* decode_study.h — the decode rows of a results file as studies (rows
 * that agree on the shape: heads, d_head, score std, head similarity,
 * input, batch, threads), each a grid of families × contexts; shared by
 * decode.c (the data files and figures) and decode_summary.c (summary.md). */
#ifndef DECODE_STUDY_H
#define DECODE_STUDY_H

#include <stddef.h>
#include <stdio.h>

#include "regime_rows.h"

enum { DS_MAX_CTX = 64 };

typedef struct {
    char family[48];
    double knob, minor;  /* its knob; its operator's minor knob (window's sink), 0: none */
} dfam;

typedef struct {
    size_t *rows;       /* every decode row of the study, any status */
    size_t n, cap;
    dfam *fam;          /* the families of its ok rows, in legend order */
    size_t nfam;
    double ctx[DS_MAX_CTX];  /* the contexts of its ok rows, ascending */
    size_t nctx;
    double plane_L;     /* the largest context every family ran (or the most did) */
    size_t plane_count; /* families at plane_L */
} dstudy;

/* the studies of the decode rows of rt, synthetic first, then by head
 * similarity; 0, or -1 (memory) */
int dstudies_find(const rtab *rt, dstudy **out, size_t *count);
void dstudies_free(dstudy *s, size_t count);

/* the first ok row of family f at context L, or -1 */
long dstudy_row(const rtab *rt, const dstudy *s, const dfam *f, double L);
/* the study of `count` that holds row r, or else (a failed row that stood
 * alone and was left out) the first that agrees on every study column r
 * has a value for; -1: none */
long dstudy_of_row(const rtab *rt, const dstudy *s, size_t count, size_t r);
/* the study the headline's panel shows: synthetic, the most families at
 * its plane_L, then the smallest head similarity; -1 when there is none */
long dstudy_headline(const rtab *rt, const dstudy *s, size_t count);
/* "head-sim 0.9" / "layer3" */
void dstudy_name(const rtab *rt, const dstudy *s, char *out, size_t cap);
/* "8 heads of 64, score std 4, batch 1, 1 thread(s), 32 steps" */
void dstudy_text(const rtab *rt, const dstudy *s, char *out, size_t cap);
/* the smallest context from which f's step is faster than exact mha's at
 * every larger context both ran (or mha could not run); NAN: never */
double dstudy_overtakes(const rtab *rt, const dstudy *s, const dfam *f);
int dfam_is_reference(const dfam *f);  /* exact attention, MHA */
dfam dfam_reference(void);             /* that family */

/* "4k" for 4096, else the number */
void ctx_text(double L, char *out, size_t cap);
/* the study's KV-cache front at 1/2, 1/4, 1/8 of the cache, per context (decode_front.c) */
void decode_front(FILE *f, const rtab *rt, const dstudy *s);
/* the decode section of summary.md; `csv` locates the .env sidecar */
void decode_summary(FILE *f, const rtab *rt, const dstudy *s, size_t count, const char *csv);

#endif
