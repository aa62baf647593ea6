/* kv_half.c — IEEE half and bfloat16 conversions, round to nearest even
 * (kv_format.h), and a block's fp16 scale; below the formats (kv_format.c,
 * kv_kivi.c), which both use them. */
#include "kv_format.h"

#include <string.h>

static uint32_t bits_of(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static float float_of(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }

/* drops the low `shift` bits of m, rounding to nearest, ties to even */
static uint32_t round_shift(uint32_t m, unsigned shift) {
    const uint32_t kept = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    return kept + (rem > half || (rem == half && (kept & 1)));
}

uint16_t kv_fp32_to_fp16(float f) {
    uint32_t x = bits_of(f);
    const uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    x &= 0x7fffffff;
    if (x > 0x7f800000) return sign | 0x7e00;                   /* NaN */
    const int e = (int)(x >> 23) - 127 + 15;                    /* the half's exponent */
    const uint32_t m = x & 0x7fffff;
    if (e >= 31) return sign | 0x7c00;                          /* Inf, or too large */
    if (e <= 0) {                                               /* subnormal half, or 0 */
        if (e < -10) return sign;
        return sign | (uint16_t)round_shift(m | 0x800000, (unsigned)(14 - e));
    }
    uint32_t h = round_shift(((uint32_t)e << 23) | m, 13);     /* a carry raises the exponent */
    return sign | (uint16_t)(h >= 0x7c00 ? 0x7c00 : h);
}

float kv_fp16_to_fp32(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e == 0) {
        const float v = (float)m * 0x1p-24f;
        return sign ? -v : v;
    }
    if (e == 31) return float_of(sign | 0x7f800000 | (m << 13));
    return float_of(sign | ((e - 15 + 127) << 23) | (m << 13));
}

uint16_t kv_fp32_to_bf16(float f) {
    uint32_t x = bits_of(f);
    if ((x & 0x7fffffff) > 0x7f800000) return (uint16_t)((x >> 16) | 0x40); /* quiet NaN */
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}

float kv_bf16_to_fp32(uint16_t h) { return float_of((uint32_t)h << 16); }

void kv_put_half(unsigned char *p, float d) { uint16_t h = kv_fp32_to_fp16(d); memcpy(p, &h, 2); }
float kv_get_half(const unsigned char *p) { uint16_t h; memcpy(&h, p, 2); return kv_fp16_to_fp32(h); }
