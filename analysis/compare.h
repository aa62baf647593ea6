/* compare.h — conclusions that set methods against each other: where a
 * method beats the baseline for good (crossovers), and which configurations
 * no other beats on both memory and error (Pareto fronts). Memory here is
 * row_memory: the counted workspace where the measured peak is noise. */
#ifndef COMPARE_H
#define COMPARE_H

#include <stddef.h>

#include "rows.h"
#include "scaling.h"

/* errors within 5% of each other tie on a Pareto front (float32 rounding
 * separates the exact methods by less) */
#define ERR_TIE 0.05

/* a method beside the baseline at each n both ran (or the baseline could not) */
typedef struct {
    double n[64];
    int beat_peak[64], beat_ws[64], beat_time[64];
    size_t count;
} versus;

void compare_with_baseline(const data *d, const config *g, versus *v);
/* the smallest compared n from which the method wins at every larger n (NAN: never) */
double crossover(const versus *v, const int *beat);

/* ok attention rows with an error that agree on everything but the method
 * and its knobs (and d_model, which the projections set): one Pareto group */
typedef struct {
    size_t *rows;        /* m rows of t */
    double *mem, *err;   /* per row: row_memory, rel_err */
    int *counted;        /* per row: memory is the counted workspace */
    size_t m, methods;   /* rows, distinct methods */
    size_t *front;       /* nf indices into rows, in increasing memory */
    size_t nf;
} pareto_group;

/* every group of 3 or more rows of 2 or more methods; 0, or -1 (memory) */
int pareto_groups(const data *d, pareto_group **out, size_t *nout);
void pareto_groups_free(pareto_group *g, size_t n);

#endif
