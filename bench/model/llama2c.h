/* llama2c.h — a llama2.c checkpoint (the legacy float32 layout of Karpathy's
 * run.c) read, validated and run forward in float32 with OpenBLAS, so that
 * `attnbench capture` can record the q, k, v a real pretrained model makes.
 *
 * The file: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size — negative when the classifier is not shared with the token
 * embedding — seq_len), then float32 tensors, every matrix stored out x in:
 *   token_embedding (vocab, dim)     rms_att (layers, dim)
 *   wq (layers, dim, dim)            wk, wv (layers, kv_dim, dim)
 *   wo (layers, dim, dim)            rms_ffn (layers, dim)
 *   w1, w3 (layers, hidden, dim)     w2 (layers, dim, hidden)
 *   rms_final (dim)                  two RoPE tables, seq_len*head_size/2 each (skipped)
 *   wcls (vocab, dim)                only when vocab_size was negative
 * where head_size = dim / n_heads and kv_dim = head_size * n_kv_heads.
 *
 * The model: RMSNorm (eps 1e-5) before attention and feed-forward; rotary
 * embeddings on the pairs (2i, 2i+1) of each head at frequency
 * 10000^(-2i/head_size); causal grouped-query attention (query head h reads
 * K/V head h / (n_heads / n_kv_heads)); SwiGLU w2(silu(w1 x) * w3 x);
 * residuals; a final RMSNorm and the classifier.
 *
 * Library code: errors come back as one line of text; nothing is printed. */
#ifndef LLAMA2C_H
#define LLAMA2C_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
    int shared_classifier; /* 1: the classifier is the token embedding */
    int head_size, kv_dim;
} llama_config;

typedef struct llama_mhe llama_mhe; /* llama2c_mhe.c */

typedef struct {
    llama_config c;
    llama_mhe *mhe; /* the multi-head-embedding sidecar PATH.mhe (below), or NULL */
    float *file; /* the whole file after the header; the pointers below point into it */
    const float *token_embedding, *rms_att, *wq, *wk, *wv, *wo, *rms_ffn, *w1, *w2, *w3,
        *rms_final, *wcls;
} llama_model;

/* Reads and validates PATH: every header field, the exact file size the
 * header implies, finite weights; and PATH.mhe when it exists (below).
 * 0, or -1 with "PATH: problem" in err. */
int llama_load(const char *path, llama_model *m, char *err, size_t errlen);
void llama_free(llama_model *m);
/* The header only (7 int32), checked as llama_load checks it, with nothing
 * else read. 0, or -1 with err. */
int llama_read_config(const char *path, llama_config *c, char *err, size_t errlen);

/* The running state of one sequence of at most max_n positions, fed at most
 * max_m positions per llama_forward call. */
typedef struct {
    size_t max_n, max_m;
    float *k_cache, *v_cache; /* (layers, max_n, kv_dim), after rotary */
    float *q_record;          /* (layers, max_n, dim) after rotary, or NULL */
    float *x;                 /* (max_m, dim): after llama_forward, the final-normed hidden states */
    float *xb, *q, *att, *h1, *h3, *scores, *rope;
} llama_state;

/* a buffer of a * b * c floats (malloc), or NULL with *bad set (on overflow
 * or out of memory; nothing is tried once *bad is set): for allocating a
 * state's buffers in a row and checking once */
float *llama_alloc_floats(size_t a, size_t b, size_t c, int *bad);

/* record_q: also keep every position's post-rotary q in q_record.
 * 0, or -1 with err (sizes that overflow, out of memory). */
int llama_state_init(llama_state *s, const llama_config *c, size_t max_n, size_t max_m,
                     int record_q, char *err, size_t errlen);
void llama_state_free(llama_state *s);

/* Runs tokens[0..m) at positions pos..pos+m-1, after positions < pos are in
 * the cache (pos = 0, m = n: the whole sequence at once; m = 1: one step).
 * Fills the caches (and q_record) at those positions and leaves the final
 * RMS-normed hidden states in s->x (m, dim). Token ids must be < vocab. */
void llama_forward(const llama_model *md, llama_state *s, const int *tokens, size_t pos, size_t m);

/* A caller's substitutes inside the forward pass (`attnbench eval`), each
 * NULL for the model's own computation:
 *   attention: given xb (m, dim), the RMS-normed input of `layer` at
 *     positions pos..pos+m-1, writes att (m, dim), the heads' outputs before
 *     wo, and returns 1; or returns 0 (the model's own attention for this
 *     layer) or -1 (an error the caller keeps in ctx). A substituted layer
 *     leaves the K/V cache (and q_record) of those positions unfilled.
 *   ffn: may change h (m, hidden_dim), the SwiGLU's gated hidden units
 *     silu(w1 x) * w3 x of `layer`, in place before w2; 0, or -1 (error). */
typedef struct {
    int (*attention)(void *ctx, int layer, const float *xb, size_t pos, size_t m, float *att);
    int (*ffn)(void *ctx, int layer, float *h, size_t m);
    void *ctx;
} llama_override;

/* llama_forward with substitutes (ov NULL: the same as llama_forward);
 * 0, or -1 when a substitute failed */
int llama_forward_with(const llama_model *md, llama_state *s, const int *tokens, size_t pos, size_t m,
                       const llama_override *ov);

/* logits (m, vocab) = the classifier applied to x (m, dim) */
void llama_logits(const llama_model *md, const float *x, size_t m, float *logits);

/* Mean negative log-likelihood (nats per token) of tokens[1..n) given their
 * prefixes, from the final hidden states x (n, dim) of a forward pass over
 * tokens[0..n). n >= 2. 0, or -1 with err (out of memory). */
int llama_nll(const llama_model *md, const float *x, const int *tokens, size_t n, double *nll,
              char *err, size_t errlen);

/* The activations a forward pass over positions 0..n) left in s, all
 * finite: each layer's recorded q (when s records q), K and V caches, and
 * the final hidden states x (n rows: the pass fed all n at once). Finite
 * weights can still overflow float32 here. 0, or -1 with err naming the
 * first bad tensor ("layer 0's k is not finite at position 2: ..."). */
int llama_state_finite(const llama_config *c, const llama_state *s, size_t n, char *err, size_t errlen);

/* Layer L's recorded q, k, v in the layout `attnbench run --input` reads:
 * (n_heads, n, head_size) each, K/V heads repeated so k and v have n_heads
 * heads. q needs a state with record_q. */
void llama_layer_qkv(const llama_config *c, const llama_state *s, int layer, size_t n, float *q,
                     float *k, float *v);

/* Rotary embeddings on x (heads, n, head_size), row t at position pos + t,
 * as the forward pass applies them to its q and k. */
void llama_rope_heads(const llama_config *c, float *x, size_t heads, size_t n, size_t pos);

/* Layer L's projection weights in the layout of kernels/ (heads, dim,
 * head_size), y = x w per head: wq per query head, and wk, wv with each
 * K/V head repeated for the n_heads / n_kv_heads query heads that read it.
 * Any of wq, wk, wv may be NULL. */
void llama_layer_mha_weights(const llama_model *md, int layer, float *wq, float *wk, float *wv);

/* tokens[0] = BOS (1), tokens[1..n) drawn one at a time from the model at
 * `temperature` (0: greedy argmax) with the seeded generator (a BOS drawn
 * mid-sequence starts a new story and the sampling goes on, so there are
 * always n tokens). n >= 1, n <= seq_len. 0, or -1 with err (memory). */
int llama_sample(const llama_model *md, int *tokens, size_t n, uint64_t seed, double temperature,
                 char *err, size_t errlen);

/* ---- the MHE sidecar (llama2c_mhe.c, where its format is documented) -----
 * A student of `attnbench train --projection mhe-add|mhe-mul` is written as
 * a llama2.c checkpoint with n_kv_heads = n_heads, whose wq, wk, wv are the
 * per-head expansion of one shared projection and head embeddings, plus
 * PATH.mhe holding those; mhe-add's embeddings are also a bias on q, k, v
 * that llama_forward adds (mhe-mul needs none: its expansion is exact). */

/* PATH.mhe into m->mhe when the file exists (checked against the loaded
 * checkpoint); 0 (also when absent), or -1 with err */
int llama_mhe_attach(const char *path, llama_model *m, char *err, size_t errlen);
void llama_mhe_free(llama_mhe *x);
/* w (heads * hs, dim) = the per-head matrices of the shared wm (hs, dim)
 * and embeddings e (heads, hs): mode 0 (add) wm per head, 1 (mul) e_h * wm */
void llama_mhe_expand(int mode, size_t heads, size_t hs, size_t dim, const float *wm, const float *e, float *w);
/* writes PATH.mhe's contents to path: wm (layers, 3, hs, dim), e (layers, 3,
 * heads, hs) for the shape c; 0, or -1 with err */
int llama_mhe_write(const char *path, int mode, const llama_config *c, const float *wm, const float *e,
                    char *err, size_t errlen);
/* mhe-add: adds layer's embeddings to rows of q (row stride ldq) and k, v
 * (stride ldkv) before the rotary embeddings; nothing otherwise */
void llama_mhe_bias(const llama_model *m, int layer, float *q, size_t ldq, float *k, float *v, size_t ldkv,
                    size_t rows);
/* "mhe-add" or "mhe-mul" for a model with a sidecar, else NULL */
const char *llama_mhe_scheme(const llama_model *m);

/* lp (V) <- log softmax(logits) in double; returns the argmax (eval's and
 * train's figures of a position) */
size_t llama_log_softmax(const float *logits, size_t V, double *lp);

#endif
