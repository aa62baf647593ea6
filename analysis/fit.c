/* fit.c — see fit.h. */
#include "fit.h"

#include <math.h>
#include <stdlib.h>

size_t fit_loglog(const double *x, const double *y, size_t n, double *slope) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(x[i] > 0 && y[i] > 0 && isfinite(x[i]) && isfinite(y[i]))) continue;
        double lx = log(x[i]), ly = log(y[i]);
        sx += lx; sy += ly; sxx += lx * lx; sxy += lx * ly;
        m++;
    }
    *slope = NAN;
    if (m < 2) return m;
    double den = (double)m * sxx - sx * sx;
    /* all x equal: no slope */
    if (fabs(den) <= 1e-12 * fmax(1.0, (double)m * sxx)) return m;
    *slope = ((double)m * sxy - sx * sy) / den;
    return m;
}

/* sort key for pareto_front: memory, then error */
typedef struct {
    const double *mem, *err;
} mem_err;
static int by_mem_then_err(const void *a, const void *b, void *arg) {
    const mem_err *me = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (me->mem[i] != me->mem[j]) return me->mem[i] < me->mem[j] ? -1 : 1;
    if (me->err[i] != me->err[j]) return me->err[i] < me->err[j] ? -1 : 1;
    return i < j ? -1 : i > j;
}

size_t pareto_front(const double *mem, const double *err, size_t n, double tol, size_t *idx) {
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order) return 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(mem[i]) && isfinite(err[i])) order[m++] = i;
    mem_err me = {mem, err};
    qsort_r(order, m, sizeof *order, by_mem_then_err, &me);
    /* in increasing memory (ties: smaller error first), a point is on the
     * front when every error seen so far is more than (1 + tol) times its own */
    size_t k = 0;
    double best = INFINITY;
    for (size_t i = 0; i < m; i++) {
        double e = err[order[i]];
        if (best > e * (1 + tol)) idx[k++] = order[i];
        if (e < best) best = e;
    }
    free(order);
    return k;
}
