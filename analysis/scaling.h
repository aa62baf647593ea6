/* scaling.h — studies and fits: the slice of rows a figure or table is
 * about, its fixed knobs in words, and each configuration's log-log slopes
 * of memory and time against n. */
#ifndef SCALING_H
#define SCALING_H

#include <stddef.h>

#include "rows.h"

/* Narrows s to one study: for every identity column outside `free_cols`, n
 * first, the most common non-empty value is kept (ties: the larger n, else
 * the one met first); rows where the column is empty pass, since it does
 * not apply to them (chunked has no k). */
void slice(const data *d, rowset *s, colset free_cols);
/* "n = 4096, 8 heads, d_head 64, score std 4": the fixed knobs of a study */
void study_text(const data *d, const rowset *s, colset skip, char *out, size_t cap);
/* the ok rows of the synthetic study that `keep` takes */
void rows_where(const data *d, rowset *s, int (*keep)(const data *, size_t));
/* the ok rows of the real layers and of their twins that `keep` takes */
void real_rows_where(const data *d, rowset *s, int (*keep)(const data *, size_t));

/* one configuration: ok rows that agree on every identity column but n */
typedef struct {
    size_t first;        /* a row of the configuration */
    rowset ok;           /* its ok rows */
    size_t distinct_n;
    double slope_peak;   /* memory (row_memory: counted workspace below the noise) */
    double slope_ws, slope_time;
    size_t counted;      /* rows whose memory is the counted workspace */
} config;

typedef struct {
    config *c;
    size_t nc;
    size_t *pick;        /* per method, the configuration with the most n (at least 3) */
    size_t np;
} scaling;

int scaling_init(const data *d, scaling *s);  /* 0, or -1 (memory) */
void scaling_free(scaling *s);

#endif
