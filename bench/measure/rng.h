/* rng.h — the seeded generator for synthetic inputs: the same seed gives the
 * same bytes on every machine (integer splitmix64/xoshiro256**, Box–Muller in
 * double, compiled without FP contraction). */
#ifndef RNG_H
#define RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct { uint64_t s[4]; } rng;

void rng_seed(rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(rng *r);
double rng_uniform(rng *r);          /* [0, 1) */
double rng_normal(rng *r);           /* N(0, 1) */
void rng_fill_normal(rng *r, float *a, size_t count, double std);

#endif
