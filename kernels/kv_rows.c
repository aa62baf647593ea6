/* kv_rows.c — the formats' bulk loaders (kv_format.h, the entry's
 * load_rows): a run of consecutive stored rows dequantized in one call, so
 * a decode tile (decode_format.c) costs one call, not one per row. With
 * AVX-512 a block is converted 16 values at a time (f16: vcvtph2ps; bf16: a
 * shift; q8_0: sign-extend, convert, times the block's fp16 scale; q4_0 and
 * kivi: the codes unpacked in lanes); the rest, and every block without
 * AVX-512, by the portable loops. Dequantization is exact (q * fp16(d),
 * kivi q s' + m' as a product then a sum, never fused), so both paths give
 * the same floats as the entry's one-row load, bit for bit: the test holds
 * them to that (tests/test_kv_rows.c). */
#include "kv_format.h"

#include <string.h>

#if defined(__AVX512F__)
#include <immintrin.h>
#define ROWS_SIMD 1
#else
#define ROWS_SIMD 0
#endif

/* an fp16 scale at p (unaligned) */
static inline float half_at(const unsigned char *p) {
#if ROWS_SIMD
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
#else
    return kv_get_half(p);
#endif
}

void kv_rows_f32(const void *src, size_t rows, size_t d, const kv_params *p, float *x) {
    (void)p;
    memcpy(x, src, rows * d * sizeof(float));
}

/* f16 (bf 0) and bf16 (bf 1) rows have no headers: a run of n values */
static inline void halves(const void *src, size_t n, float *x, int bf) {
    const uint16_t *h = src;
    size_t i = 0;
#if ROWS_SIMD
    for (; i + 16 <= n; i += 16) {
        const __m256i w = _mm256_loadu_si256((const __m256i *)(h + i));
        _mm512_storeu_ps(x + i, bf ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(w), 16)) : _mm512_cvtph_ps(w));
    }
#endif
    for (; i < n; i++) x[i] = bf ? kv_bf16_to_fp32(h[i]) : kv_fp16_to_fp32(h[i]);
}

void kv_rows_f16(const void *src, size_t rows, size_t d, const kv_params *p, float *x) { (void)p; halves(src, rows * d, x, 0); }
void kv_rows_bf16(const void *src, size_t rows, size_t d, const kv_params *p, float *x) { (void)p; halves(src, rows * d, x, 1); }

#if ROWS_SIMD
/* 16 int32 lanes times s, into x */
static inline void scaled16(__m512i q, __m512 s, float *x) { _mm512_storeu_ps(x, _mm512_mul_ps(_mm512_cvtepi32_ps(q), s)); }
#endif

/* q8_0 and q4_0: rows * d / b blocks of b = kv_block(d) values, one after
 * another whatever row they belong to */
void kv_rows_q8_0(const void *src, size_t rows, size_t d, const kv_params *kp, float *x) {
    (void)kp;
    const size_t b = kv_block(d), n = rows * (d / b);
    const unsigned char *p = src;
    for (size_t k = 0; k < n; k++, p += 2 + b, x += b) {
        const float s = half_at(p);
#if ROWS_SIMD
        if (b % 16 == 0) {
            const __m512 vs = _mm512_set1_ps(s);
            for (size_t j = 0; j < b; j += 16)
                scaled16(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(p + 2 + j))), vs, x + j);
            continue;
        }
#endif
        for (size_t j = 0; j < b; j++) x[j] = (float)(int8_t)p[2 + j] * s;
    }
}

void kv_rows_q4_0(const void *src, size_t rows, size_t d, const kv_params *kp, float *x) {
    (void)kp;
    const size_t b = kv_block(d), n = rows * (d / b), h = b / 2;
    const unsigned char *p = src;
    for (size_t k = 0; k < n; k++, p += 2 + h, x += b) {
        const float s = half_at(p);
#if ROWS_SIMD
        if (b == 32 || b == 16) { /* value j in the low nibble of byte j, value j + b/2 in its high one */
            const __m512 vs = _mm512_set1_ps(s);
            const __m512i eight = _mm512_set1_epi32(8), low = _mm512_set1_epi32(15);
            __m512i q;
            if (b == 32) {
                q = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + 2)));
                scaled16(_mm512_sub_epi32(_mm512_and_si512(q, low), eight), vs, x);
                scaled16(_mm512_sub_epi32(_mm512_srli_epi32(q, 4), eight), vs, x + 16);
            } else {
                const __m256i w = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 2)));
                q = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_and_si256(w, _mm256_set1_epi32(15))),
                                       _mm256_srli_epi32(w, 4), 1);
                scaled16(_mm512_sub_epi32(q, eight), vs, x);
            }
            continue;
        }
#endif
        for (size_t j = 0; j < h; j++) {
            x[j] = (float)((p[2 + j] & 15) - 8) * s;
            x[h + j] = (float)((p[2 + j] >> 4) - 8) * s;
        }
    }
}

#if ROWS_SIMD
/* kivi's codes (value i at bits i * bits from bit 0 of byte 0), 16 at a
 * time: lane l takes code first + l out of the byte it starts in */
typedef struct { __m512i byte, shift, mask; } kivi_unpack;

static inline kivi_unpack kivi_unpack_of(unsigned bits, unsigned first) {
    const __m512i i = _mm512_add_epi32(_mm512_set1_epi32((int)first),
                                       _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
    const __m512i bit = _mm512_mullo_epi32(i, _mm512_set1_epi32((int)bits));
    return (kivi_unpack){_mm512_srli_epi32(bit, 3), _mm512_and_si512(bit, _mm512_set1_epi32(7)),
                         _mm512_set1_epi32((int)((1u << bits) - 1))};
}

/* the 16 codes of u out of the bytes c (one a lane, as int32) */
static inline __m512i kivi_codes16(__m512i c, const kivi_unpack *u) {
    return _mm512_and_si512(_mm512_srlv_epi32(_mm512_permutexvar_epi32(u->byte, c), u->shift), u->mask);
}

/* the n (4, 8 or 16) bytes at p, zero-extended into int32 lanes */
static inline __m512i code_bytes(const unsigned char *p, size_t n) {
#if defined(__AVX512BW__) && defined(__AVX512VL__) /* a masked load reads none of the bytes past n */
    return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8((__mmask16)((1u << n) - 1), p));
#else
    unsigned char b[16] = {0};
    memcpy(b, p, n);
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)b));
#endif
}

/* x[0..15] <- q s + m: the product rounded, then the sum (as the scalar path) */
static inline void affine16(__m512i q, __m512 s, __m512 m, float *x) {
    _mm512_storeu_ps(x, _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(q), s), m));
}
#endif

/* kivi value rows: per channel group of b = min(G, d), [m' | s' | codes] */
void kivi_rows_load(const void *src, size_t rows, size_t d, const kv_params *p, float *x) {
    const unsigned bits = p->bits;
    const size_t b = p->group < d ? p->group : d, cb = b * bits / 8, n = rows * (d / b);
    const unsigned char *o = src;
#if ROWS_SIMD
    const kivi_unpack u0 = kivi_unpack_of(bits, 0), u16 = kivi_unpack_of(bits, 16);
#endif
    for (size_t k = 0; k < n; k++, o += 4 + cb, x += b) {
        const float m = half_at(o), s = half_at(o + 2);
#if ROWS_SIMD
        if (b == 16 || b == 32) {
            const __m512i c = code_bytes(o + 4, cb);
            const __m512 vs = _mm512_set1_ps(s), vm = _mm512_set1_ps(m);
            affine16(kivi_codes16(c, &u0), vs, vm, x);
            if (b == 32) affine16(kivi_codes16(c, &u16), vs, vm, x + 16);
            continue;
        }
#endif
        for (size_t j = 0; j < b; j++) x[j] = (float)((o[4 + j * bits / 8] >> (j * bits % 8)) & ((1u << bits) - 1)) * s + m;
    }
}

/* kivi key group rows t0 .. t0 + rows - 1: [d mins | d scales | codes,
 * token-major]; with AVX-512 and d % 16 == 0, 16 channels at a time (a
 * row's 16 codes are 16 bits / 8 whole bytes) */
int kivi_key_rows_simd(const void *src, size_t d, const kv_params *p, size_t t0, size_t rows, float *x) {
#if ROWS_SIMD
    if (d % 16) return 0;
    const unsigned char *o = src, *codes = o + 4 * d;
    const unsigned bits = p->bits;
    const size_t cb = 16 * bits / 8, rb = d * bits / 8; /* a row's codes: whole bytes at d % 16 == 0 */
    const kivi_unpack u = kivi_unpack_of(bits, 0);
    for (size_t c = 0; c < d; c += 16) {
        const __m512 m = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(o + 2 * c)));
        const __m512 s = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(o + 2 * (d + c))));
        const unsigned char *row = codes + t0 * rb + c * bits / 8;
        for (size_t t = 0; t < rows; t++, row += rb) affine16(kivi_codes16(code_bytes(row, cb), &u), s, m, x + t * d + c);
    }
    return 1;
#else
    (void)src, (void)d, (void)p, (void)t0, (void)rows, (void)x;
    return 0;
#endif
}
