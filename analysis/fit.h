/* fit.h — the two derivations the analysis makes from result rows:
 * log-log scaling exponents and error/memory Pareto fronts. Pure functions. */
#ifndef FIT_H
#define FIT_H

#include <stddef.h>

/* Least-squares slope of log(y) on log(x) over the points where both are
 * positive and finite. Returns the number of points used; the slope is set
 * only when at least 2 distinct x were used (else NAN). */
size_t fit_loglog(const double *x, const double *y, size_t n, double *slope);

/* The points no other point beats on both axes: a point is beaten by one
 * with no more memory and an error at most (1 + tol) times its own (tol > 0
 * lets float32 rounding noise tie the exact methods). Writes the indices of
 * the front into idx in increasing memory and returns how many. Points with
 * a non-finite coordinate take no part. */
size_t pareto_front(const double *mem, const double *err, size_t n, double tol, size_t *idx);

#endif
