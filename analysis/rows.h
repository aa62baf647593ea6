/* rows.h — the row model of `analyze`: a results CSV as rows of one regime,
 * their identity (the columns that make a configuration), which of those
 * are a method's knobs, the memory a conclusion may use, and the studies
 * (synthetic, real layers, their twins) the rows belong to.
 *
 * Prefill only: `data` holds every row of the file (`all`, which the decode
 * and model analyses read, regimes.h) and a view `t` of the prefill rows
 * (regime empty, as in files older than the column, or "prefill"). Every
 * prefill figure, fit and table reads `t`, so a decode or model row cannot
 * enter one. */
#ifndef ROWS_H
#define ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "csv_table.h"
#include "results.h"

/* a set of results columns (COL_*, results.h): column c is BIT(c); 128 bits
 * (GCC's and clang's unsigned __int128 on 64-bit targets) */
__extension__ typedef unsigned __int128 colset;
#define BIT(c) ((colset)1 << (c))
_Static_assert(COL_COUNT <= 128, "a colset holds every results column");

/* The columns that make a configuration: the point identity's (bench/
 * point_id.c: the layer and the column of every registry entry that
 * identifies a point, knobs.h KF_ID), in the results' order but for the
 * method knobs, which stand together in knob_list.h's order at the first
 * one's place. *count gets how many. */
const int *id_columns(int *count);
colset id_cols(void);
/* every knob column: the registry entries a method or projection scheme
 * reads (knobs.h: an entry with a KNOB_* bit) */
colset knob_cols(void);
/* the knobs that change only speed and memory, never the result (KF_TUNING: chunk) */
colset tuning_cols(void);
/* the identity columns that are not a method's knobs: what it runs on */
colset shape_cols(void);
/* a method and its knobs: what tells the points of one study apart */
colset method_cols(void);
/* the knobs that tell a real layer's rows from its synthetic twin's */
#define INPUT_COLS (BIT(COL_input) | BIT(COL_score_std) | BIT(COL_head_sim) | BIT(COL_d_model))

/* a page; a measured kernel peak within NOISE_PAGES of zero is below what
 * resident-set growth resolves, and the counted workspace stands for it */
#define PAGE 4096.0
#define NOISE_PAGES 4
/* below 1 MiB the resident-set growth does not resolve a kernel's scratch
 * (its readings there range from a fraction to several times the counted
 * workspace; summary.md states the range): every conclusion takes the
 * counted workspace below it (row_memory) */
#define RSS_RESOLUTION (1024.0 * 1024.0)
/* the projection every error is measured against (docs/DESIGN.md, the error
 * columns) and the quadratic-memory baseline of the crossovers: the table
 * entries flagged PROJ_REFERENCE and ATTN_BASELINE (traits.h: proj_reference,
 * op_baseline) */

/* a captured layer: the rows of one input directory */
typedef struct {
    const char *input;          /* the rows' `input` */
    char name[80];              /* for figures: the path's last part ("layer0") */
    double logit_std, entropy;  /* as its rows measured them */
    double twin_std;            /* its synthetic twin's score std; NAN: none near */
} real_layer;

/* which study a row belongs to */
enum { STUDY_SYNTHETIC = 0, STUDY_REAL = 1, STUDY_TWIN = 2 };

typedef struct {
    csv_table all;              /* every row of the file (owned) */
    csv_table t;                /* a view: the prefill rows (rows point into all) */
    const char *path;
    int col[COL_COUNT];         /* t's column of each results column COL_* (-1: absent) */
    int status, time, peak, ws, rel_err, topk_mass, note, logit_std, entropy, params;
    char *study;                /* STUDY_* per row of t */
    size_t doubled;             /* rows that repeat an earlier row's point (point_id) */
    char doubled_example[200];
    size_t other_regimes;       /* rows of all that are not prefill */
    real_layer *layers;         /* in natural order of their input */
    size_t nlayers;
} data;

/* Takes the table (owned from here on, freed by data_free), finds the
 * columns, the prefill view, the doubled points and the real study.
 * 0; -1 out of memory; -2 not a results CSV (no status, n or attention). */
int data_init(data *d, csv_table *table, const char *path);
void data_free(data *d);
/* 1 when a row of the file is of the prefill regime (empty or "prefill") */
int regime_is_prefill(const char *regime);

typedef struct {
    size_t *r;
    size_t n, cap;
} rowset;
int rs_add(rowset *s, size_t r);  /* 0, or -1 */

const char *fld(const data *d, size_t r, int col);  /* the row's COL_* field, "" where absent */
double num(const data *d, size_t r, int col);  /* NAN where empty or not a number */
double idnum(const data *d, size_t r, int col);     /* num of a COL_* */
const char *status_of(const data *d, size_t r);
int is_ok(const data *d, size_t r);
int is_attention(const data *d, size_t r);
int is_ffn(const data *d, size_t r);
int is_real(const data *d, size_t r);  /* `input` names a directory */
int in_study(const data *d, size_t r, int study);
/* a row the sweep wrote for a method this build lacks */
int is_unknown_method(const data *d, size_t r);
/* numbers as numbers ("4" is "4.0"), the rest as text */
int same_text(const char *a, const char *b);
/* rows r and q agree on every identity column outside `skip`; with
 * `lenient`, a column empty in q matches anything */
int same_config(const data *d, size_t r, size_t q, colset skip, int lenient);

/* The knob columns of row r: the knob columns (knob_cols) that the row
 * fills, a projection's knob (K/V heads) only where its scheme reads it. */
colset row_knob_cols(const data *d, size_t r);

/* The memory a conclusion uses for row r: the measured kernel peak, or,
 * where that is below RSS_RESOLUTION (1 MiB), the counted workspace
 * (*counted = 1). NAN where neither is there. */
double row_memory(const data *d, size_t r, int *counted);
/* the rule row_memory applies to a measured peak and a counted workspace
 * (either NAN where absent), for rows read by other means (regime_rows.h) */
double memory_rule(double peak, double ws, int *counted);

/* the real study (real.c) */
int find_real_study(data *d);  /* 0, or -1 (memory) */
/* data_init, then find_real_study: the rows as analyze reads them (real.c,
 * above the row model); data_init's return, or -1 (memory) */
int data_load(data *d, csv_table *table, const char *path);
const real_layer *layer_of(const data *d, size_t r);
const char *input_name(const data *d, size_t r);  /* "layer0" for a real row */
int is_twin_of(const data *d, size_t r, const real_layer *l);
long twin_row(const data *d, size_t r);  /* the ok twin of real row r, or -1 */

#endif
