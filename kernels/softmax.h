/* softmax.h — row operations shared by the float kernels: a polynomial expf
 * the compiler turns into vector code, and the row passes built on it.
 *
 * Why not expf from libm: it is a function call per score and does not
 * vectorise without -ffast-math, and the kernels spend most of their
 * non-BLAS time in it. exp_fast below is within 1e-7 relative of exp (about
 * 1 ulp) on [-87, 88]; each row pass works in blocks of EXP_LANES
 * independent lanes, a loop of known trip count that gcc -O2 vectorises
 * (the plain `sum += x[j]` would need reassociation, which C forbids). */
#ifndef SOFTMAX_H
#define SOFTMAX_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

enum { EXP_LANES = 16 }; /* one AVX-512 vector of floats, two AVX2 ones */

/* e^x, relative error < 1e-7 for x in [-87, 88]; 0 below -87 (so e^-inf = 0),
 * e^88 above 88. x = n ln2 + r with |r| <= ln2/2 (Cody-Waite, two-part ln2),
 * e^r by the degree-7 minimax polynomial of Cephes' expf, 2^n built in the
 * exponent bits. Plain C with fmaf: with FMA hardware gcc inlines it and
 * vectorises every loop below. */
static inline float exp_fast(float x) {
    const float lo = -87.0f, hi = 88.0f, shifter = 12582912.0f; /* 1.5 * 2^23: round to integer */
    float xc = x < lo ? lo : x; /* two plain selects: gcc if-converts these */
    xc = xc > hi ? hi : xc;
    const float t = fmaf(xc, 1.44269504088896341f, shifter); /* n + shifter, n = round(x / ln2) */
    const float n = t - shifter;
    float r = fmaf(n, -0.693359375f, xc);  /* ln2 = 0.693359375 - 2.12194440e-4 */
    r = fmaf(n, 2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = fmaf(p, r, 1.3981999507e-3f);
    p = fmaf(p, r, 8.3334519073e-3f);
    p = fmaf(p, r, 4.1665795894e-2f);
    p = fmaf(p, r, 1.6666665459e-1f);
    p = fmaf(p, r, 5.0000001201e-1f);
    p = fmaf(p * r, r, r) + 1.0f;          /* e^r */
    union { float f; uint32_t u; } tn = {t}, two_n;
    two_n.u = (tn.u - 0x4B400000u + 127u) << 23; /* n + 127 in the exponent field, n in [-126, 127] */
    return x < lo ? 0.0f : p * two_n.f;
}

/* x: (len) -> the largest value (-inf for len 0) */
static inline float row_max(const float *x, size_t len) {
    float acc[EXP_LANES];
    for (size_t l = 0; l < EXP_LANES; l++) acc[l] = -INFINITY;
    size_t j = 0;
    for (; j + EXP_LANES <= len; j += EXP_LANES)
        for (size_t l = 0; l < EXP_LANES; l++) acc[l] = x[j + l] > acc[l] ? x[j + l] : acc[l];
    float mx = -INFINITY;
    for (; j < len; j++) mx = x[j] > mx ? x[j] : mx;
    for (size_t l = 0; l < EXP_LANES; l++) mx = acc[l] > mx ? acc[l] : mx;
    return mx;
}

/* x: (len) -> e^(x - shift) in place; returns their sum: float lanes over
 * blocks of 256 values (16 per lane, so float rounding stays near 1e-7),
 * the blocks' sums added in double */
static inline float exp_shift_sum(float *x, size_t len, float shift) {
    double sum = 0;
    size_t j = 0;
    while (j + EXP_LANES <= len) {
        const size_t block = 16 * EXP_LANES;
        const size_t end = len - j >= block ? j + block : len - (len - j) % EXP_LANES;
        float acc[EXP_LANES] = {0};
        for (; j < end; j += EXP_LANES)
            for (size_t l = 0; l < EXP_LANES; l++) {
                const float e = exp_fast(x[j + l] - shift);
                x[j + l] = e;
                acc[l] += e;
            }
        for (size_t l = 0; l < EXP_LANES; l++) sum += acc[l];
    }
    for (; j < len; j++) {
        x[j] = exp_fast(x[j] - shift);
        sum += x[j];
    }
    return (float)sum;
}

/* x: (len) -> scale * e^(x - shift) in place */
static inline void exp_shift_scale(float *x, size_t len, float shift, float scale) {
    size_t j = 0;
    for (; j + EXP_LANES <= len; j += EXP_LANES)
        for (size_t l = 0; l < EXP_LANES; l++) x[j + l] = scale * exp_fast(x[j + l] - shift);
    for (; j < len; j++) x[j] = scale * exp_fast(x[j] - shift);
}

/* x: (len) *= s */
static inline void scale_row(float *x, size_t len, float s) {
    size_t j = 0;
    for (; j + EXP_LANES <= len; j += EXP_LANES)
        for (size_t l = 0; l < EXP_LANES; l++) x[j + l] *= s;
    for (; j < len; j++) x[j] *= s;
}

/* y: (len) += a * x: (len) */
static inline void axpy_row(float *restrict y, size_t len, float a, const float *restrict x) {
    size_t j = 0;
    for (; j + EXP_LANES <= len; j += EXP_LANES)
        for (size_t l = 0; l < EXP_LANES; l++) y[j + l] = fmaf(a, x[j + l], y[j + l]);
    for (; j < len; j++) y[j] = fmaf(a, x[j], y[j]);
}

/* x: (len) -> softmax(x) in place; returns the normaliser's sum */
static inline float softmax_row(float *x, size_t len) {
    const float sum = exp_shift_sum(x, len, row_max(x, len));
    scale_row(x, len, 1.0f / sum);
    return sum;
}

#endif
