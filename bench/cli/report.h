/* report.h — error figures of an output against the float64 reference, and
 * the way every command emits its row. */
#ifndef REPORT_H
#define REPORT_H

#include "attention.h"
#include "measure.h"
#include "options.h"
#include "results.h"

#include <stddef.h>

typedef struct {
    double rel_err, max_abs_err, cos_err;
} error_stats;

/* out: (heads, n, d) float; ref: (heads, nrows, d) float64 at `rows` (NULL: all) */
void error_compare(const float *out, const double *ref, size_t heads, size_t n, size_t d,
                   const size_t *rows, size_t nrows, error_stats *e);

/* R evenly spaced rows of 0..n-1 (R >= n: NULL, meaning all); caller frees */
size_t *error_rows(size_t n, size_t want, size_t *nrows);

/* the common measurement columns of a row */
void row_set_common(result_row *r, const run_options *o);
/* the columns that name an attention point, run's and decode's alike: layer
 * "attention", regime, the method and scheme, n, heads, kv_heads, d_head,
 * d_model (layer form only), the knobs of `knob_bits` from kn, causal, the
 * synthetic input's knobs (without --input) and row_set_common's */
void row_set_attention_point(result_row *r, const run_options *o, const char *regime,
                             const char *attention, const char *projection, size_t n,
                             size_t kv_heads, int layer_form, unsigned knob_bits,
                             const attn_knobs *kn, int causal);

/* prints or appends the row as --csv / --row-only say, after the check every
 * row passes (row_check_finite: an `ok` row with a NaN or Inf becomes
 * `nonfinite`); 0, or 1 after an error message */
int row_emit(const char *cmd, const run_options *o, result_row *r);
/* row_emit of an oom row: EXIT_OOM, or EXIT_INTERNAL if it could not be written */
int row_emit_oom(const char *cmd, const run_options *o, result_row *r);

/* The tail every timed prefill command shares (run, ffn): the measurement
 * into the row. When the kernel's workspace was refused: the oom row's
 * columns (workspace_bytes the stated formula), TAIL_OOM; another kernel
 * error: one line on stderr, TAIL_FAILED; else status ok, or nonfinite when
 * out[*bad] is NaN or Inf (*bad = count when all are finite: the caller
 * names the element in note), the time, GFLOP/s, peaks and the counted
 * workspace, TAIL_MEASURED. */
enum { TAIL_MEASURED, TAIL_OOM, TAIL_FAILED };
int row_from_timing(const char *cmd, const char *method, result_row *row, const timing *t, double flops,
                    size_t ws_peak, size_t ws_formula, const float *out, size_t count, size_t *bad);

/* writes DIR/NAME, float32 data (f) or float64 (d), shape (a, b, c), or
 * (b, c) when a is 0; 0, or 1 after printing an error */
int dump_npy(const char *cmd, const char *dir, const char *name, const float *f, const double *d,
             size_t a, size_t b, size_t c);

/* total physical memory in bytes, or 0 if unknown */
size_t mem_total_bytes(void);

/* flushes stdout and stderr and ends the process at once, skipping exit's
 * handlers: under a low address-space limit OpenBLAS's worker thread may be
 * retrying a refused buffer forever, and its exit handler waits for it */
void exit_now(int status) __attribute__((noreturn));

/* Test-only: with ATTNBENCH_FAULT=nan, sets out[count / 2] to NaN, so the
 * `nonfinite` status can be tested (run, ffn and decode call it on their
 * output right after the timed calls; run's =crash and =hang are its own).
 * Nothing but the tests sets it. */
void fault_nan(float *out, size_t count);

/* index of the first NaN or Inf of a[0..count), or count if all are finite */
size_t first_nonfinite(const float *a, size_t count);
size_t first_nonfinite_f64(const double *a, size_t count);

/* the largest |a[i]| of finite a[0..count) */
double max_abs(const float *a, size_t count);

/* mkdir -p PATH: 0, or -1 with one line in err */
int make_dirs(const char *path, char *err, size_t cap);

/* checks --NAME's value v against [lo, hi]: 0, or 2 after a one-line error */
int check_range(const char *cmd, const char *name, size_t v, size_t lo, size_t hi);

#endif
