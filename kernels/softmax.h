/* softmax.h — row operations shared by the float kernels. */
#ifndef SOFTMAX_H
#define SOFTMAX_H

#include <math.h>
#include <stddef.h>

/* x: (len) -> softmax(x) in place; the sum is accumulated in double */
static inline void softmax_row(float *x, size_t len) {
    float mx = -INFINITY;
    for (size_t j = 0; j < len; j++) mx = x[j] > mx ? x[j] : mx;
    double sum = 0;
    for (size_t j = 0; j < len; j++) {
        x[j] = expf(x[j] - mx);
        sum += x[j];
    }
    const float inv = (float)(1.0 / sum);
    for (size_t j = 0; j < len; j++) x[j] *= inv;
}

static inline float row_max(const float *x, size_t len) {
    float mx = -INFINITY;
    for (size_t j = 0; j < len; j++) mx = x[j] > mx ? x[j] : mx;
    return mx;
}

#endif
