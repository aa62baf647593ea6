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

typedef struct {
    int dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
    int shared_classifier; /* 1: the classifier is the token embedding */
    int head_size, kv_dim;
} llama_config;

typedef struct {
    llama_config c;
    float *file; /* the whole file after the header; the pointers below point into it */
    const float *token_embedding, *rms_att, *wq, *wk, *wv, *wo, *rms_ffn, *w1, *w2, *w3,
        *rms_final, *wcls;
} llama_model;

/* Reads and validates PATH: every header field, the exact file size the
 * header implies, finite weights. 0, or -1 with "PATH: problem" in err. */
int llama_load(const char *path, llama_model *m, char *err, size_t errlen);
void llama_free(llama_model *m);

/* The running state of one sequence of at most max_n positions, fed at most
 * max_m positions per llama_forward call. */
typedef struct {
    size_t max_n, max_m;
    float *k_cache, *v_cache; /* (layers, max_n, kv_dim), after rotary */
    float *q_record;          /* (layers, max_n, dim) after rotary, or NULL */
    float *x;                 /* (max_m, dim): after llama_forward, the final-normed hidden states */
    float *xb, *q, *att, *h1, *h3, *scores, *rope;
} llama_state;

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

/* logits (m, vocab) = the classifier applied to x (m, dim) */
void llama_logits(const llama_model *md, const float *x, size_t m, float *logits);

/* Mean negative log-likelihood (nats per token) of tokens[1..n) given their
 * prefixes, from the final hidden states x (n, dim) of a forward pass over
 * tokens[0..n). n >= 2. 0, or -1 with err (out of memory). */
int llama_nll(const llama_model *md, const float *x, const int *tokens, size_t n, double *nll,
              char *err, size_t errlen);

/* Layer L's recorded q, k, v in the layout `attnbench run --input` reads:
 * (n_heads, n, head_size) each, K/V heads repeated so k and v have n_heads
 * heads. q needs a state with record_q. */
void llama_layer_qkv(const llama_config *c, const llama_state *s, int layer, size_t n, float *q,
                     float *k, float *v);

#endif
