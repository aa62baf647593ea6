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
 *   kivi   KIVI (Liu et al. 2024), asymmetric `bits` (2 or 4) quantization:
 *          keys per channel over groups of G tokens, values per token over
 *          groups of min(G, d) channels, each group a min m and a scale
 *          s = (max - m) / (2^bits - 1) as fp16, q = clamp(floor((x - m') / s'
 *          + 1/2), 0, 2^bits - 1) with m', s' the fp16 values, x' = q s' + m'
 *          (float32 arithmetic, no reciprocal); the most recent tokens kept
 *          in float32 (kv_kivi.c: when quantized, the residual)
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

/* a format's own knobs (kivi's: --bits, --kivi-group, --residual); the
 * row formats ignore them */
typedef struct {
    unsigned bits;         /* 2 or 4 */
    size_t group;          /* G: tokens of a key group, channels of a value group */
    size_t residual;       /* R: the recent tokens kept in float32 */
} kv_params;

typedef struct {
    const char *name;      /* --kv-format NAME */
    const char *summary;   /* one line for --help */
    /* bytes of one stored row of d values; 0 when the format cannot store
     * rows of d values (the reason from kv_format_check) */
    size_t (*row_bytes)(size_t d, const kv_params *p);
    void (*store)(const float *x, size_t d, const kv_params *p, void *dst);  /* quantize one row */
    void (*load)(const void *src, size_t d, const kv_params *p, float *x);   /* dequantize one row */
    /* dequantize `rows` consecutive stored rows at src into x (rows, d): the
     * same floats as load row by row, bit for bit (kv_rows.c, vectorised) */
    void (*load_rows)(const void *src, size_t rows, size_t d, const kv_params *p, float *x);
    /* the stated error of load(store(x)) for a value x of a block whose
     * largest magnitude is amax: at most tol_rel |x| + tol_block amax (+ 2^-24,
     * f16's subnormal rounding); tests/test_kv_format.c holds every entry to it */
    double tol_rel, tol_block;
    /* keys quantized per channel over groups of p->group tokens, the most
     * recent kept in float32 (kivi); NULL: keys are rows, as values.
     * key_group_bytes: one group of (group, d) keys, 0 when it cannot be;
     * key_group_store: x (group, d); key_load: rows t0 .. t0 + rows - 1 of
     * a group into x (rows, d) */
    size_t (*key_group_bytes)(size_t d, const kv_params *p);
    void (*key_group_store)(const float *x, size_t d, const kv_params *p, void *dst);
    void (*key_load)(const void *src, size_t d, const kv_params *p, size_t t0, size_t rows, float *x);
    /* how decode's micro-kernel reads the rows where they are stored
     * (decode_tile_attend_stored: dequantized in registers); KV_STORED_NONE:
     * it cannot, and they are dequantized into a tile first */
    int stored;
} kv_format;

enum { KV_STORED_NONE, KV_STORED_F32, KV_STORED_F16, KV_STORED_BF16, KV_STORED_Q8_0, KV_STORED_Q4_0 };

extern const kv_format kv_formats[];   /* terminated by a {NULL} entry; f32 first */
const kv_format *kv_format_find(const char *name);

/* 0 when f stores rows of d values (kivi: and key groups) with params p,
 * else -1 and a one-line reason */
int kv_format_check(const kv_format *f, size_t d, const kv_params *p, char *why, size_t cap);
/* bits a value costs: 8 * row_bytes(d) / d (q8_0 at d 64: 8.5; kivi: of
 * its values, the quantized part) */
double kv_format_bits(const kv_format *f, size_t d, const kv_params *p);
/* the values one scale covers in a row of d (kv_block; kivi: min(G, d)), and
 * the stated tol_block (kivi: half a step of 2^bits - 1 over a range of at
 * most 2 amax, and the fp16 min and scale) */
size_t kv_format_block(const kv_format *f, size_t d, const kv_params *p);
double kv_format_tol_block(const kv_format *f, const kv_params *p);
/* kivi's defaults: 4 bits, groups of 32, a residual of 128 */
extern const kv_params kv_params_default;

/* the block of q8_0 and q4_0 for rows of d values: min(32, d) */
static inline size_t kv_block(size_t d) { return d < 32 ? d : 32; }

/* IEEE binary16 and bfloat16, round to nearest even (NaN stays NaN) */
uint16_t kv_fp32_to_fp16(float x);
float kv_fp16_to_fp32(uint16_t h);
uint16_t kv_fp32_to_bf16(float x);
float kv_bf16_to_fp32(uint16_t h);

/* an fp16 value at p (2 bytes, unaligned): the quantized formats' scales */
void kv_put_half(unsigned char *p, float x);
float kv_get_half(const unsigned char *p);

/* kv_rows.c: the entries' load_rows */
void kv_rows_f32(const void *src, size_t rows, size_t d, const kv_params *p, float *x);
void kv_rows_f16(const void *src, size_t rows, size_t d, const kv_params *p, float *x);
void kv_rows_bf16(const void *src, size_t rows, size_t d, const kv_params *p, float *x);
void kv_rows_q8_0(const void *src, size_t rows, size_t d, const kv_params *p, float *x);
void kv_rows_q4_0(const void *src, size_t rows, size_t d, const kv_params *p, float *x);
void kivi_rows_load(const void *src, size_t rows, size_t d, const kv_params *p, float *x);
/* kivi_key_load's vectorised path: 1 when it loaded the rows, 0 when it
 * cannot (no AVX-512, or d not a multiple of 16) */
int kivi_key_rows_simd(const void *src, size_t d, const kv_params *p, size_t t0, size_t rows, float *x);

/* kv_kivi.c: kivi's rows (values) and key groups, as the entry's hooks */
size_t kivi_row_bytes(size_t d, const kv_params *p);
void kivi_row_store(const float *x, size_t d, const kv_params *p, void *dst);
void kivi_row_load(const void *src, size_t d, const kv_params *p, float *x);
size_t kivi_key_group_bytes(size_t d, const kv_params *p);
void kivi_key_group_store(const float *x, size_t d, const kv_params *p, void *dst);
void kivi_key_load(const void *src, size_t d, const kv_params *p, size_t t0, size_t rows, float *x);
/* tokens of a kivi cache quantized after len tokens: G floor((len - R) / G),
 * 0 while len <= R: the residual grows to R + G - 1 tokens, and the G
 * tokens that would make it R + G leave it as one key group */
static inline size_t kivi_quantized(const kv_params *p, size_t len) {
    return len > p->residual ? (len - p->residual) / p->group * p->group : 0;
}

#endif
