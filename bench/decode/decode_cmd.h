/* decode_cmd.h — the parts of `attnbench decode` (bench/decode*.c): the step
 * projection (decode_proj.c), the reference and error figures
 * (decode_ref.c), the command (decode.c). */
#ifndef DECODE_CMD_H
#define DECODE_CMD_H

#include "attention.h"
#include "decode.h"
#include "input.h"
#include "options.h"
#include "report.h"

/* The projection one step runs on its tokens, converted once from the MHA
 * weights by the scheme (its decode_weights): one sgemm (tokens, d_model) x
 * (d_model, width) gives each token's row [q heads | K/V heads of K | of V],
 * then the query embeddings. For a scheme with head embeddings (MHE) the
 * row holds the shared q, k, v, and the K and V embeddings go to the decode
 * kernel (applied at read time). */
typedef struct {
    size_t d_model, d_head, heads;
    size_t qh;        /* query heads in a row: heads, or 1 (embeddings: shared) */
    size_t kvc;       /* K/V heads in a row and in the cache: the scheme's, or 1 (embeddings) */
    size_t width;     /* (qh + 2 kvc) d_head */
    const head_embed *embed;  /* the scheme's; NULL: none */
    float *w;         /* (d_model, width) */
    float *emb;       /* embed: (3, heads, d_head) the Q, K, V embeddings; else NULL */
} step_proj;

/* in: layer form (x is the sequence a fit sees); kv: the scheme's K/V
 * heads. 0, or an ATTN_* code */
int step_proj_build(step_proj *p, const proj_scheme *ps, const layer_input *in, size_t kv);
void step_proj_free(step_proj *p);
/* x: (rows, d_model) -> y: (rows, width); cols_from: the first column wanted
 * (0: all; qh * d_head: K and V only), the others left as they were */
void step_proj_rows(const step_proj *p, size_t rows, const float *x, float *y, size_t cols_from);
/* y: (rows, width) -> q: (rows, heads, d_head), the query embeddings applied */
void step_proj_queries(const step_proj *p, size_t rows, const float *y, float *q);
/* bytes of weights (and embeddings) one step reads */
double step_proj_bytes(const step_proj *p);

/* Error figures of the decoded rows against float64 exact attention with
 * the MHA cache, over every sequence of the batch: inputs[b] is sequence b
 * (MHA q, k, v from it, rows L .. L+S-1, causal); out: (batch, S, heads,
 * d_head). m: the operator's table entry (NULL: exact), whose statistic
 * (m->mass: the mass of the k largest, or its kept_mass hook) fills mass.
 * Returns 0, or an ATTN_* code. */
typedef struct {
    error_stats e;
    double entropy, mass;  /* means; mass NAN where it does not apply */
} decode_errors;
int decode_reference(const layer_input *const *inputs, size_t batch, size_t L, size_t S,
                     const float *out, const attn_method *m, const attn_knobs *kn, decode_errors *r);

/* decode's defaults (options_defaults, then --attention exact, --context
 * 4096, --steps 64, --batch 1) */
void decode_options_defaults(run_options *o);
/* The identity columns of the row `decode` would write for o (parsed over
 * decode_options_defaults), resolved as the run resolves them (an --input's
 * shapes from its .npy headers); nothing runs, nothing is printed. 0, or -1
 * when decode would refuse o (the sweep then runs it to report why). */
int decode_point_row(const run_options *o, result_row *row);

/* decode_cli.c: --help, and --probe's lines (out of memory for its buffer:
 * one line, EXIT_OOM) */
void decode_usage(void);
int decode_probe(const run_options *o);

#endif
