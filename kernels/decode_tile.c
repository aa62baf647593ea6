/* decode_tile.c — see decode_tile.h. */
#include "decode_tile.h"
#include "softmax.h"

#include <math.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#define TILE_SIMD 1
#define INLINE static inline __attribute__((always_inline))

/* the 16 lanes of a[r] summed, r = 0..15, as one vector (lane r): pairs
 * of vectors interleaved and added, halving the vectors at each level */
INLINE __m512 reduce16(__m512 a[16]) {
    __m512 w[8], u[4], z[2];
#pragma GCC unroll 8
    for (int k = 0; k < 8; k++) /* per 128-bit lane: [a2k, a2k+1, a2k, a2k+1] */
        w[k] = _mm512_add_ps(_mm512_unpacklo_ps(a[2 * k], a[2 * k + 1]), _mm512_unpackhi_ps(a[2 * k], a[2 * k + 1]));
#pragma GCC unroll 4
    for (int k = 0; k < 4; k++) { /* per 128-bit lane: a4k .. a4k+3 */
        const __m512d x = _mm512_castps_pd(w[2 * k]), y = _mm512_castps_pd(w[2 * k + 1]);
        u[k] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)), _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
    }
#pragma GCC unroll 2
    for (int k = 0; k < 2; k++) /* 128-bit lanes: u2k (two halves), u2k+1 (two halves) */
        z[k] = _mm512_add_ps(_mm512_shuffle_f32x4(u[2 * k], u[2 * k + 1], 0x88),
                             _mm512_shuffle_f32x4(u[2 * k], u[2 * k + 1], 0xdd));
    return _mm512_add_ps(_mm512_shuffle_f32x4(z[0], z[1], 0x88), _mm512_shuffle_f32x4(z[0], z[1], 0xdd));
}

/* QN queries x KN keys (QN KN = 16) of scores into sc (QN, ld): 16
 * accumulators, one per (query, key), over d; reduced into one vector whose
 * lane r is query r / KN's score of key r % KN */
INLINE void scores_block(const float *K, size_t d, const float *qe, float scale, float *sc, size_t ld,
                         const int QN, const int KN) {
    __m512 a[16];
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++) a[r] = _mm512_setzero_ps();
    for (size_t c = 0; c < d; c += 16) {
        __m512 k[16], q[4];
#pragma GCC unroll 16
        for (int x = 0; x < KN; x++) k[x] = _mm512_loadu_ps(K + x * d + c);
#pragma GCC unroll 4
        for (int i = 0; i < QN; i++) q[i] = _mm512_loadu_ps(qe + i * d + c);
#pragma GCC unroll 4
        for (int i = 0; i < QN; i++)
#pragma GCC unroll 16
            for (int x = 0; x < KN; x++) a[i * KN + x] = _mm512_fmadd_ps(k[x], q[i], a[i * KN + x]);
    }
    const __m512 s = _mm512_mul_ps(reduce16(a), _mm512_set1_ps(scale));
    if (QN == 1) {
        _mm512_storeu_ps(sc, s);
    } else if (QN == 2) {
        _mm256_storeu_ps(sc, _mm512_castps512_ps256(s));
        _mm256_storeu_ps(sc + ld, _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s), 1)));
    } else {
        _mm_storeu_ps(sc, _mm512_castps512_ps128(s));
        _mm_storeu_ps(sc + ld, _mm512_extractf32x4_ps(s, 1));
        _mm_storeu_ps(sc + 2 * ld, _mm512_extractf32x4_ps(s, 2));
        _mm_storeu_ps(sc + 3 * ld, _mm512_extractf32x4_ps(s, 3));
    }
}

/* the scores of keys [0, n16), n16 a multiple of 16: queries by 4 (4 keys
 * at a time: K is loaded once per 4 queries), then 2, then 1 */
static void scores_simd(const float *K, size_t n16, size_t d, const float *qe, size_t G, float scale,
                        float *sc, size_t ld) {
    size_t i = 0;
    for (; i + 4 <= G; i += 4)
        for (size_t j = 0; j < n16; j += 4) scores_block(K + j * d, d, qe + i * d, scale, sc + i * ld + j, ld, 4, 4);
    for (; i + 2 <= G; i += 2)
        for (size_t j = 0; j < n16; j += 8) scores_block(K + j * d, d, qe + i * d, scale, sc + i * ld + j, ld, 2, 8);
    for (; i < G; i++)
        for (size_t j = 0; j < n16; j += 16) scores_block(K + j * d, d, qe + i * d, scale, sc + i * ld + j, ld, 1, 16);
}

/* acc (NQ, d) columns c0 .. c0 + 16 NV += P (NQ, ldp) V (n, d): NQ x NV
 * accumulators in registers over the n rows */
INLINE void pv_block(const float *V, size_t n, size_t d, const float *P, size_t ldp, float *acc, size_t c0,
                     const int NQ, const int NV) {
    __m512 a[4][4];
#pragma GCC unroll 4
    for (int i = 0; i < NQ; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) a[i][v] = _mm512_loadu_ps(acc + i * d + c0 + 16 * v);
    for (size_t j = 0; j < n; j++) {
        __m512 x[4];
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) x[v] = _mm512_loadu_ps(V + j * d + c0 + 16 * v);
#pragma GCC unroll 4
        for (int i = 0; i < NQ; i++) {
            const __m512 p = _mm512_set1_ps(P[i * ldp + j]);
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) a[i][v] = _mm512_fmadd_ps(p, x[v], a[i][v]);
        }
    }
#pragma GCC unroll 4
    for (int i = 0; i < NQ; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) _mm512_storeu_ps(acc + i * d + c0 + 16 * v, a[i][v]);
}

/* NQ queries (1..4): the columns in blocks of 64, then of 16 */
INLINE void pv_queries(const float *V, size_t n, size_t d, const float *P, size_t ldp, float *acc, const int NQ) {
    size_t c0 = 0;
    for (; c0 + 64 <= d; c0 += 64) pv_block(V, n, d, P, ldp, acc, c0, NQ, 4);
    for (; c0 < d; c0 += 16) pv_block(V, n, d, P, ldp, acc, c0, NQ, 1);
}

static void pv_tile(const float *V, size_t n, size_t d, const float *P, size_t ldp, size_t G, float *acc) {
    size_t i = 0;
    for (; i + 4 <= G; i += 4) pv_queries(V, n, d, P + i * ldp, ldp, acc + i * d, 4);
    switch (G - i) {
    case 3: pv_queries(V, n, d, P + i * ldp, ldp, acc + i * d, 3); break;
    case 2: pv_queries(V, n, d, P + i * ldp, ldp, acc + i * d, 2); break;
    case 1: pv_queries(V, n, d, P + i * ldp, ldp, acc + i * d, 1); break;
    default: break;
    }
}
#else
#define TILE_SIMD 0
#endif

static float dot(const float *a, const float *b, size_t d) {
    float t = 0;
    for (size_t c = 0; c < d; c++) t = fmaf(a[c], b[c], t);
    return t;
}

void decode_tile_scores(const float *K, size_t n, size_t d, const float *qe, size_t G, float scale,
                        float *sc, size_t ld) {
    size_t j = 0;
#if TILE_SIMD
    if (d % 16 == 0) {
        j = n - n % 16;
        scores_simd(K, j, d, qe, G, scale, sc, ld);
    }
#endif
    for (; j < n; j++)
        for (size_t i = 0; i < G; i++) sc[i * ld + j] = scale * dot(K + j * d, qe + i * d, d);
}

void decode_tile_weighted(const float *V, size_t n, size_t d, const float *P, size_t ldp, size_t G, float *acc) {
#if TILE_SIMD
    if (d % 16 == 0) {
        pv_tile(V, n, d, P, ldp, G, acc);
        return;
    }
#endif
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < G; i++) axpy_row(acc + i * d, d, P[i * ldp + j], V + j * d);
}

void decode_tile_softmax(float *tile, size_t t, size_t d, size_t G, float *m, float *l, float *acc) {
    for (size_t i = 0; i < G; i++) {
        float *s = tile + i * DECODE_TILE;
        const float mt = row_max(s, t), mn = mt > m[i] ? mt : m[i];
        const float alpha = exp_fast(m[i] - mn); /* 0 for the first tile (m -inf) */
        l[i] = l[i] * alpha + exp_shift_sum(s, t, mn);
        if (alpha != 1.0f) scale_row(acc + i * d, d, alpha);
        m[i] = mn;
    }
}

void decode_tile_attend(const float *K, const float *V, size_t n, size_t d, const float *qe, size_t G,
                        float scale, float *m, float *l, float *acc, float *tile) {
    for (size_t j0 = 0; j0 < n; j0 += DECODE_TILE) {
        const size_t t = n - j0 < DECODE_TILE ? n - j0 : DECODE_TILE;
        decode_tile_scores(K + j0 * d, t, d, qe, G, scale, tile, DECODE_TILE);
        decode_tile_softmax(tile, t, d, G, m, l, acc);
        decode_tile_weighted(V + j0 * d, t, d, tile, DECODE_TILE, G, acc);
    }
}
