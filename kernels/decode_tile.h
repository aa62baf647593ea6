/* decode_tile.h — the decode micro-kernel over float32 cache rows: the G
 * query heads of a group against a contiguous range of keys, tile by tile
 * (DECODE_TILE keys: their G x DECODE_TILE scores stay in L1), with an
 * online softmax per tile, so each K and V row is read once per group and
 * the scores never leave the cache. decode_cache.c calls it for the f32
 * rows; a stored format (f16, q8_0, ...) either converts a tile of rows into
 * float32 scratch and calls it, or has a kernel of its own with the same
 * contract (decode_cache.c's decode_cache_attend is the hook).
 *
 * With AVX-512 and d % 16 == 0 the scores run 16 keys x 1 query in 16
 * vector accumulators (one transpose-reduction per 16 keys) and p V runs
 * up to 4 queries x 64 columns in 16 accumulators, all held in registers;
 * otherwise plain loops with fmaf (the portable path, same results up to
 * float rounding). */
#ifndef DECODE_TILE_H
#define DECODE_TILE_H

#include <stddef.h>

enum { DECODE_TILE = 128 }; /* keys per tile */

/* sc (G, ld) <- scale * qe K^T: K (n, d) rows, qe (G, d) */
void decode_tile_scores(const float *K, size_t n, size_t d, const float *qe, size_t G, float scale,
                        float *sc, size_t ld);

/* acc (G, d) += P (G, ldp) V: V (n, d) rows */
void decode_tile_weighted(const float *V, size_t n, size_t d, const float *P, size_t ldp, size_t G,
                          float *acc);

/* One tile's step of the online softmax below: the t <= DECODE_TILE scores
 * of each query i in tile (G, DECODE_TILE) become e^(s - m[i]) with m[i]
 * raised to their max, l[i] and acc (G, d) rescaled to it, l[i] += their sum
 * (then acc += tile V: decode_tile_weighted). */
void decode_tile_softmax(float *tile, size_t t, size_t d, size_t G, float *m, float *l, float *acc);

/* The online softmax of G queries over n keys (K, V: (n, d) rows): per
 * query i a running max m[i], sum l[i] of e^(s - m[i]) and the unnormalised
 * output acc (G, d) = sum e^(s - m[i]) v, updated in place (start: m -inf,
 * l 0, acc 0). tile: G * DECODE_TILE floats of scratch. */
void decode_tile_attend(const float *K, const float *V, size_t n, size_t d, const float *qe, size_t G,
                        float scale, float *m, float *l, float *acc, float *tile);

/* The same over rows as a cache format stores them (kv_format.h's
 * `stored`: f16, bf16, q8_0, q4_0; rows rb bytes apart, K and V alike),
 * each row dequantized in registers as the micro-kernel loads it, so a step
 * reads the stored bytes once and writes no dequantized copy: the same
 * floats, bit for bit, as decode_tile_attend over the rows dequantized by
 * the format's load_rows (tests/test_kv_rows.c). Only where
 * decode_tile_stored_ok(stored, d): AVX-512, d a multiple of 16 (of 32 for
 * q8_0 and q4_0, one block of 32 a chunk). rest: 16 * d floats of scratch
 * (a tile's last keys, fewer than 16, dequantized). */
int decode_tile_stored_ok(int stored, size_t d);
void decode_tile_attend_stored(int stored, const void *K, const void *V, size_t rb, size_t n, size_t d,
                               const float *qe, size_t G, float scale, float *m, float *l, float *acc, float *tile,
                               float *rest);

#endif
