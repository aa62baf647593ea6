/* eval.h — `attnbench eval`: a llama2.c checkpoint's forward pass with an
 * attention operator and projection scheme substituted in chosen layers,
 * measured against the exact model on the same tokens. Shared by eval.c
 * (the command), eval_model.c (substitution and measurement) and eval_plan.c
 * (the per-layer budget planner). */
#ifndef EVAL_H
#define EVAL_H

#include "attention.h"
#include "kv_format.h"
#include "llama2c.h"
#include "options.h"
#include "results.h"

#include <stddef.h>
#include <stdint.h>

/* the attention and projection columns of a row of the checkpoint's own
 * attention (nothing substituted) */
#define EVAL_OWN "model"

/* what is substituted, layer by layer */
typedef struct {
    const llama_model *md;
    const attn_method *op;  /* NULL: the model's own attention everywhere */
    const proj_scheme *ps;  /* with op */
    size_t kv;              /* K/V heads the scheme makes in substituted layers */
    int *sub;               /* (layers) 1: this layer's attention (and ffn) is substituted */
    attn_knobs *knobs;      /* (layers) the operator's knobs per layer */
    size_t ffn_k;           /* 0: the model's SwiGLU; else keep the ffn_k largest |gated units| per token */
    int measure_err;        /* measure the attention rel_err in each substituted layer */
    size_t max_n;           /* longest sequence the scratch holds */
    /* a cache format (--kv-format given, f32 too): the substituted layers
     * run token by token through the operator's decode entry, the cache
     * stored and read in fmt; NULL: the operator's prefill */
    const kv_format *fmt;
    kv_params kvp;
    size_t beyond;          /* dnll_beyond's first position (eval_budget); SIZE_MAX: none */

    /* built by eval_sub_init */
    float *w;               /* (layers, 3, heads, dim, head_size) per-head Q, K, V weights */
    float *q, *k, *v, *out; /* (heads, max_n, head_size) scratch */
    float *tok;             /* fmt: (3, max_n, heads, head_size) token-major q, k, v; and one step's out */
    double *dq, *dk, *dv, *dref; /* float64 reference scratch, when measure_err */
    float *habs;            /* (hidden) scratch of the ffn top-k, and (hidden) */
    float *hscratch;
    uint32_t *hidx;         /* (ffn_k) */
    unsigned char *hkeep;   /* (hidden) */
    double *err_num, *err_den; /* (layers) sums over calls: |out - ref|^2, |ref|^2 */
    double ref_seconds;     /* time spent on the reference inside the forward */
    char err[512];          /* why a substitute failed */
} eval_sub;

int eval_sub_init(eval_sub *e, char *err, size_t errlen);
void eval_sub_free(eval_sub *e);

/* figures of one configuration over N sequences of n tokens */
typedef struct {
    double nll, nll_exact, dnll, dnll_se, kl, top1;
    /* KL(exact || substituted) over the scored positions: the standard
     * error of its mean over sequences (as dnll_se), nearest-rank
     * percentiles and the largest; dp_rms: the RMS change of the observed
     * next token's probability */
    double kl_se, kl_p50, kl_p90, kl_p99, kl_max, dp_rms;
    double dnll_beyond;     /* dnll over positions e->beyond .. n-2; NAN: none */
    double time_median_s;   /* the substituted forward of one sequence */
    double *layer_rel_err;  /* (layers), NAN where not substituted or not measured; caller frees */
} eval_stats;

/* The exact model's final hidden states of every sequence, kept so that
 * many configurations compare against one exact pass.
 * tokens: (N, n); x: (N, n, dim) */
typedef struct {
    size_t N, n;
    const int *tokens;
    float *x;
    double exact_seconds;   /* median exact forward of one sequence */
} eval_exact;

/* 0; -1 with err (out of memory); 2 with err naming the layer and position
 * where the exact forward is not finite (bad input: finite weights that
 * overflow float32) */
int eval_exact_run(const llama_model *md, eval_exact *ex, const int *tokens, size_t N, size_t n,
                   char *err, size_t errlen);
void eval_exact_free(eval_exact *ex);

/* Runs the substituted model over every sequence of ex. 0, or -1 with err. */
int eval_measure(eval_sub *e, const eval_exact *ex, eval_stats *st, char *err, size_t errlen);

/* greedy generation of G tokens after the first n - G of each sequence,
 * substituted against exact: the median over sequences of the first position
 * that differs (a sequence with none counts G; -1 when none differs at all)
 * and the share of generated tokens that match. 0, or -1 with err. */
int eval_generate(eval_sub *e, const int *tokens, size_t N, size_t n, size_t G, double *first_diff,
                  double *match, char *err, size_t errlen);

/* bytes one sequence of n tokens holds while decoding under this
 * configuration, all layers together (each operator's decode entry); 0
 * when a substituted operator does not decode */
size_t eval_cache_bytes(const eval_sub *e, size_t n);
/* one layer's cache: the f32 cache of the checkpoint's own K/V heads at n
 * (the unit of cache_ratio and of --cache-ratio) */
size_t eval_ref_bytes(const eval_sub *e, size_t n);
/* substituted layer l's decode for sequences of n (the operator's entry,
 * the scheme's K/V heads without embeddings: the per-head K, V the
 * projection gives; the format): 0 when decode takes it, else -1 and one
 * line in why; the bits a stored K or V value costs */
int eval_format_ok(const eval_sub *e, int l, size_t n, char *why, size_t cap);
double eval_bits_per_value(const eval_sub *e, int l, size_t n);

/* the positions a fixed token budget keeps exact, the fewest over the
 * substituted layers: the --budget B of an operator that reads one (an
 * eviction policy), else a bounded cache's keys (window: sink + window);
 * SIZE_MAX when some layer has none (exact, top-k, Performer) */
size_t eval_budget(const eval_sub *e, size_t n);

/* the planner (eval_plan.c): per-layer top-k against the uniform k for a
 * target dnll or kl; prints one row per verified configuration through
 * `emit`. 0, or 1 after a message. */
typedef int (*eval_emit_fn)(void *ctx, eval_sub *e, const eval_stats *st, const char *note);
int eval_plan(eval_sub *e, const eval_exact *ex, int use_kl, double target, eval_emit_fn emit, void *ctx);

/* The identity columns of the row `eval` would write for o, resolved by
 * the command's own code from the checkpoint's header (and --tokens'
 * header) without loading weights or sampling; nothing is printed. 0, or
 * -1 when they cannot be known here (a checkpoint that cannot be read,
 * --text, --target-*, options eval would refuse). */
int eval_point_row(const run_options *o, result_row *row);

#endif
