/* report.h — error figures of an output against the float64 reference, and
 * the way every command emits its row. */
#ifndef REPORT_H
#define REPORT_H

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

/* prints or appends the row as --csv / --row-only say; 0, or 1 after an error message */
int row_emit(const char *cmd, const run_options *o, const result_row *r);

/* writes DIR/NAME, float32 data (f) or float64 (d), shape (a, b, c), or
 * (b, c) when a is 0; 0, or 1 after printing an error */
int dump_npy(const char *cmd, const char *dir, const char *name, const float *f, const double *d,
             size_t a, size_t b, size_t c);

/* total physical memory in bytes, or 0 if unknown */
size_t mem_total_bytes(void);

#endif
