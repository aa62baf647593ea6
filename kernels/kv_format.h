/* kv_format.h — how a KV cache stores one row (one token's K or V of one
 * K/V head, d_head values): a table of its own beside the attention methods
 * and the projection schemes. Queries are never stored in these formats.
 *
 *   f32    4 bytes a value (the reference)
 *   f16    IEEE half, round to nearest even            2 bytes
 *   bf16   the top half of the float32, nearest even   2 bytes
 *   q8_0   llama.cpp's q8_0: blocks of b = min(32, d) values, an fp16 scale
 *          d = max|x| / 127 and b int8 q = round(x / d) (ties away from 0);
 *          x' = q * fp16(d)                            (2 + b) bytes a block
 *   q4_0   llama.cpp's q4_0: blocks of b values, m = the value of largest
 *          magnitude, d = m / -8, q = min(15, (int8)(x / d + 8.5)) in a
 *          nibble (value j in the low nibble of byte j, value j + b/2 in its
 *          high nibble); x' = (q - 8) * fp16(d)        (2 + b/2) bytes a block
 *
 * Blocks: llama.cpp's blocks are 32 values and it refuses rows that are not
 * a multiple of 32; here a row of d < 32 is one block of d values (a stated
 * variant: the checkpoints' heads of 8 and 16 use it), and d must be a
 * multiple of min(32, d) (and even for q4_0). Like llama.cpp's reference
 * (non-SIMD) quantizers, the quantizer multiplies by 1/d computed from the
 * float32 scale, and dequantizes with the fp16 one. */
#ifndef KV_FORMAT_H
#define KV_FORMAT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;      /* --kv-format NAME */
    const char *summary;   /* one line for --help */
    /* bytes of one stored row of d values; 0 when the format cannot store
     * rows of d values (the reason from kv_format_check) */
    size_t (*row_bytes)(size_t d);
    void (*store)(const float *x, size_t d, void *dst);     /* quantize one row */
    void (*load)(const void *src, size_t d, float *x);      /* dequantize one row */
    /* the stated error of load(store(x)) for a value x of a block whose
     * largest magnitude is amax: at most tol_rel |x| + tol_block amax (+ 2^-24,
     * f16's subnormal rounding); tests/test_kv_format.c holds every entry to it */
    double tol_rel, tol_block;
} kv_format;

extern const kv_format kv_formats[];   /* terminated by a {NULL} entry; f32 first */
const kv_format *kv_format_find(const char *name);

/* 0 when f stores rows of d values, else -1 and a one-line reason */
int kv_format_check(const kv_format *f, size_t d, char *why, size_t cap);
/* bits a value costs: 8 * row_bytes(d) / d (q8_0 at d 64: 8.5) */
double kv_format_bits(const kv_format *f, size_t d);

/* the block of q8_0 and q4_0 for rows of d values: min(32, d) */
static inline size_t kv_block(size_t d) { return d < 32 ? d : 32; }

/* IEEE binary16 and bfloat16, round to nearest even (NaN stays NaN) */
uint16_t kv_fp32_to_fp16(float x);
float kv_fp16_to_fp32(uint16_t h);
uint16_t kv_fp32_to_bf16(float x);
float kv_bf16_to_fp32(uint16_t h);

#endif
