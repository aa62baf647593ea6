/* decode_tile.c — see decode_tile.h. */
#include "decode_tile.h"
#include "kv_format.h"
#include "softmax.h"

#include <math.h>
#include <string.h>

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

/* The rows as stored (decode_tile_attend_stored): 16 values of the row at
 * `row` from column c (c % 16 == 0), dequantized exactly as kv_rows.c's
 * load_rows does (q * fp16(d) one product), so a score or a weighted sum is
 * the same float as over the dequantized rows. F is a compile-time
 * constant in every call: each instance has one format's loads. */
INLINE __m512 half_scale(const unsigned char *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _mm512_cvtph_ps(_mm256_set1_epi16((short)h));
}

INLINE __m512 load16(const unsigned char *row, size_t c, const int F) {
    switch (F) {
    case KV_STORED_F16: return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 2 * c)));
    case KV_STORED_BF16:
        return _mm512_castsi512_ps(
            _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(row + 2 * c))), 16));
    case KV_STORED_Q8_0: { /* blocks of 32: an fp16 scale, 32 int8 */
        const unsigned char *b = row + c / 32 * 34;
        const __m512i q = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + 2 + c % 32)));
        return _mm512_mul_ps(_mm512_cvtepi32_ps(q), half_scale(b));
    }
    case KV_STORED_Q4_0: { /* blocks of 32: an fp16 scale, 16 bytes; value j low nibble, j + 16 high */
        const unsigned char *b = row + c / 32 * 18;
        __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(b + 2)));
        q = c % 32 ? _mm512_srli_epi32(q, 4) : _mm512_and_si512(q, _mm512_set1_epi32(15));
        return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(q, _mm512_set1_epi32(8))), half_scale(b));
    }
    default: return _mm512_loadu_ps((const float *)row + c);
    }
}

/* 32 values from column c (c % 32 == 0) into lo, hi: load16 at c and
 * c + 16, one scale (and, q4_0, one load of 16 bytes) for both */
INLINE void load32(const unsigned char *row, size_t c, __m512 *lo, __m512 *hi, const int F) {
    if (F == KV_STORED_Q8_0) {
        const unsigned char *b = row + c / 32 * 34;
        const __m512 s = half_scale(b);
        *lo = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + 2)))), s);
        *hi = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + 18)))), s);
    } else if (F == KV_STORED_Q4_0) {
        const unsigned char *b = row + c / 32 * 18;
        const __m512 s = half_scale(b);
        const __m512i q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(b + 2))), eight = _mm512_set1_epi32(8);
        *lo = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_and_si512(q, _mm512_set1_epi32(15)), eight)), s);
        *hi = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(q, 4), eight)), s);
    } else {
        *lo = load16(row, c, F);
        *hi = load16(row, c + 16, F);
    }
}

/* QN queries x KN keys (QN KN = 16) of scores into sc (QN, ld): 16
 * accumulators, one per (query, key), over d; reduced into one vector whose
 * lane r is query r / KN's score of key r % KN */
INLINE void scores_block(const unsigned char *K, size_t rb, size_t d, const float *qe, float scale, float *sc,
                         size_t ld, const int QN, const int KN, const int F) {
    __m512 a[16];
#pragma GCC unroll 16
    for (int r = 0; r < 16; r++) a[r] = _mm512_setzero_ps();
    if (d % 32 == 0) { /* a block of 32 at a time: a quantized row's scale loaded once */
        for (size_t c = 0; c < d; c += 32) {
            __m512 q0[4], q1[4];
#pragma GCC unroll 4
            for (int i = 0; i < QN; i++) q0[i] = _mm512_loadu_ps(qe + i * d + c), q1[i] = _mm512_loadu_ps(qe + i * d + c + 16);
#pragma GCC unroll 16
            for (int x = 0; x < KN; x++) {
                __m512 k0, k1;
                load32(K + x * rb, c, &k0, &k1, F);
#pragma GCC unroll 4
                for (int i = 0; i < QN; i++) a[i * KN + x] = _mm512_fmadd_ps(k1, q1[i], _mm512_fmadd_ps(k0, q0[i], a[i * KN + x]));
            }
        }
    } else {
        for (size_t c = 0; c < d; c += 16) {
            __m512 q[4];
#pragma GCC unroll 4
            for (int i = 0; i < QN; i++) q[i] = _mm512_loadu_ps(qe + i * d + c);
#pragma GCC unroll 16
            for (int x = 0; x < KN; x++) {
                const __m512 k = load16(K + x * rb, c, F);
#pragma GCC unroll 4
                for (int i = 0; i < QN; i++) a[i * KN + x] = _mm512_fmadd_ps(k, q[i], a[i * KN + x]);
            }
        }
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

/* the scores of keys [0, n16), n16 a multiple of 16, rows rb bytes apart:
 * queries by 4 (4 keys at a time: K is loaded once per 4 queries), then 2,
 * then 1 */
INLINE void scores_rows(const unsigned char *K, size_t rb, size_t n16, size_t d, const float *qe, size_t G,
                        float scale, float *sc, size_t ld, const int F) {
    size_t i = 0;
    for (; i + 4 <= G; i += 4)
        for (size_t j = 0; j < n16; j += 4)
            scores_block(K + j * rb, rb, d, qe + i * d, scale, sc + i * ld + j, ld, 4, 4, F);
    for (; i + 2 <= G; i += 2)
        for (size_t j = 0; j < n16; j += 8)
            scores_block(K + j * rb, rb, d, qe + i * d, scale, sc + i * ld + j, ld, 2, 8, F);
    for (; i < G; i++)
        for (size_t j = 0; j < n16; j += 16)
            scores_block(K + j * rb, rb, d, qe + i * d, scale, sc + i * ld + j, ld, 1, 16, F);
}

/* acc (NQ, d) columns c0 .. c0 + 16 NV += P (NQ, ldp) V (n, d): NQ x NV
 * accumulators in registers over the n rows */
INLINE void pv_block(const unsigned char *V, size_t rb, size_t n, size_t d, const float *P, size_t ldp, float *acc,
                     size_t c0, const int NQ, const int NV, const int F) {
    __m512 a[4][4];
#pragma GCC unroll 4
    for (int i = 0; i < NQ; i++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) a[i][v] = _mm512_loadu_ps(acc + i * d + c0 + 16 * v);
    for (size_t j = 0; j < n; j++) {
        __m512 x[4];
#pragma GCC unroll 2
        for (int v = 0; v + 1 < NV; v += 2) load32(V + j * rb, c0 + 16 * v, &x[v], &x[v + 1], F);
        if (NV % 2) x[NV - 1] = load16(V + j * rb, c0 + 16 * (NV - 1), F);
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
INLINE void pv_queries(const unsigned char *V, size_t rb, size_t n, size_t d, const float *P, size_t ldp, float *acc,
                       const int NQ, const int F) {
    size_t c0 = 0;
    for (; c0 + 64 <= d; c0 += 64) pv_block(V, rb, n, d, P, ldp, acc, c0, NQ, 4, F);
    for (; c0 < d; c0 += 16) pv_block(V, rb, n, d, P, ldp, acc, c0, NQ, 1, F);
}

INLINE void pv_rows(const unsigned char *V, size_t rb, size_t n, size_t d, const float *P, size_t ldp, size_t G,
                    float *acc, const int F) {
    size_t i = 0;
    for (; i + 4 <= G; i += 4) pv_queries(V, rb, n, d, P + i * ldp, ldp, acc + i * d, 4, F);
    switch (G - i) {
    case 3: pv_queries(V, rb, n, d, P + i * ldp, ldp, acc + i * d, 3, F); break;
    case 2: pv_queries(V, rb, n, d, P + i * ldp, ldp, acc + i * d, 2, F); break;
    case 1: pv_queries(V, rb, n, d, P + i * ldp, ldp, acc + i * d, 1, F); break;
    default: break;
    }
}

static void scores_simd(const float *K, size_t n16, size_t d, const float *qe, size_t G, float scale, float *sc,
                        size_t ld) {
    scores_rows((const unsigned char *)K, d * sizeof(float), n16, d, qe, G, scale, sc, ld, KV_STORED_F32);
}

static void pv_tile(const float *V, size_t n, size_t d, const float *P, size_t ldp, size_t G, float *acc) {
    pv_rows((const unsigned char *)V, d * sizeof(float), n, d, P, ldp, G, acc, KV_STORED_F32);
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

/* ---- rows as stored ---------------------------------------------------- */

int decode_tile_stored_ok(int stored, size_t d) {
    if (!TILE_SIMD || d % 16) return 0;
    switch (stored) {
    case KV_STORED_F32: case KV_STORED_F16: case KV_STORED_BF16: return 1;
    case KV_STORED_Q8_0: case KV_STORED_Q4_0: return d % 32 == 0; /* blocks of 32 */
    default: return 0;
    }
}

#if TILE_SIMD
/* rows [0, n) of stored rows (rb bytes apart) dequantized into x (n, d) */
INLINE void stored_rows(const unsigned char *R, size_t rb, size_t n, size_t d, float *x, const int F) {
    for (size_t j = 0; j < n; j++)
        for (size_t c = 0; c < d; c += 16) _mm512_storeu_ps(x + j * d + c, load16(R + j * rb, c, F));
}

/* decode_tile_attend over stored rows: per tile the scores of its keys in
 * 16s read in place, the rest (< 16) dequantized into the end of the tile
 * buffer's spare rows and scored as decode_tile_scores does */
INLINE void attend_stored(const unsigned char *K, const unsigned char *V, size_t rb, size_t n, size_t d,
                          const float *qe, size_t G, float scale, float *m, float *l, float *acc, float *tile,
                          float *rest, const int F) {
    for (size_t j0 = 0; j0 < n; j0 += DECODE_TILE) {
        const size_t t = n - j0 < DECODE_TILE ? n - j0 : DECODE_TILE, t16 = t - t % 16;
        scores_rows(K + j0 * rb, rb, t16, d, qe, G, scale, tile, DECODE_TILE, F);
        if (t16 < t) {
            stored_rows(K + (j0 + t16) * rb, rb, t - t16, d, rest, F);
            for (size_t j = t16; j < t; j++)
                for (size_t i = 0; i < G; i++) tile[i * DECODE_TILE + j] = scale * dot(rest + (j - t16) * d, qe + i * d, d);
        }
        decode_tile_softmax(tile, t, d, G, m, l, acc);
        pv_rows(V + j0 * rb, rb, t, d, tile, DECODE_TILE, G, acc, F);
    }
}
#endif

void decode_tile_attend_stored(int stored, const void *K, const void *V, size_t rb, size_t n, size_t d,
                               const float *qe, size_t G, float scale, float *m, float *l, float *acc, float *tile,
                               float *rest) {
#if TILE_SIMD
    switch (stored) {
    case KV_STORED_F16: attend_stored(K, V, rb, n, d, qe, G, scale, m, l, acc, tile, rest, KV_STORED_F16); return;
    case KV_STORED_BF16: attend_stored(K, V, rb, n, d, qe, G, scale, m, l, acc, tile, rest, KV_STORED_BF16); return;
    case KV_STORED_Q8_0: attend_stored(K, V, rb, n, d, qe, G, scale, m, l, acc, tile, rest, KV_STORED_Q8_0); return;
    case KV_STORED_Q4_0: attend_stored(K, V, rb, n, d, qe, G, scale, m, l, acc, tile, rest, KV_STORED_Q4_0); return;
    default: attend_stored(K, V, rb, n, d, qe, G, scale, m, l, acc, tile, rest, KV_STORED_F32); return;
    }
#else
    (void)stored, (void)K, (void)V, (void)rb, (void)n, (void)d, (void)qe, (void)G, (void)scale;
    (void)m, (void)l, (void)acc, (void)tile, (void)rest;
#endif
}
