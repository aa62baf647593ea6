/* train_model.h — the student of `attnbench train`: a llama2.c model (see
 * llama2c.h) whose attention projections are one of the suite's conversions,
 * with its forward pass, the backward pass of every parameter, and the
 * conversion that initialises it from the checkpoint (the teacher).
 *
 * The projections (per layer; matrices stored out x in, as llama2.c does):
 *   grouped (mha, gqa, mqa): wq (dim, dim), wk, wv (kv * head_size, dim); query
 *     head h reads K/V head h / (heads / kv). Converted by mean-pooling the
 *     teacher's K/V heads in groups (kernels/proj_gqa.c).
 *   mhe-add: one shared wq, wk, wv (head_size, dim) and per-head embeddings
 *     eq, ek, ev (heads, head_size): q_h = xb wq^T + eq_h, likewise k, v.
 *   mhe-mul: the same tensors, q_h = (xb wq^T) * eq_h element by element.
 *     Both converted by mhe_fit (kernels/proj_mhe.c), mhe-add at the mean
 *     RMS-normed input of the layer over the training sequences.
 * Then rotary embeddings on q, k and causal softmax attention, as llama2.c.
 *
 * Layouts of the activations: rows r = b T + t of a batch of B sequences of
 * T tokens; q (B, heads, T, head_size) and k, v (B, kv_heads, T, head_size)
 * per sequence, the kernels' layout (attention.h), after rotary. */
#ifndef TRAIN_MODEL_H
#define TRAIN_MODEL_H

#include "backward.h"
#include "llama2c.h"

#include <stddef.h>

typedef enum { TRAIN_GROUPED, TRAIN_MHE_ADD, TRAIN_MHE_MUL } train_kind;

/* one parameter tensor: params[offset .. offset + count) */
typedef struct {
    const char *name;    /* "wq", "eq", "rms_att", ... */
    size_t offset, count;
    int attention;       /* part of the attention (--trainable attention) */
    int matrix;          /* a weight matrix (AdamW's weight decay applies) */
} train_tensor;

enum { TRAIN_MAX_TENSORS = 16 };

typedef struct {
    llama_config c;      /* the student's shape; n_kv_heads: the K/V heads it computes */
    train_kind kind;
    float *params, *grads; /* (count) each */
    size_t count;
    train_tensor t[TRAIN_MAX_TENSORS];
    int nt;
    /* into params: as llama_model's, wq, wk, wv by kind; eq, ek, ev NULL when grouped */
    float *emb, *rms_att, *wq, *wk, *wv, *wo, *rms_ffn, *w1, *w2, *w3, *rms_final, *wcls, *eq, *ek, *ev;
    int all;             /* gradients of every tensor (1) or of the attention's only (0) */
    attn_backward_fn attn_backward; /* the attention operator's backward (exact) */
} train_model;

/* The student of kind with kv K/V heads (grouped; mhe: n_heads), converted
 * from the teacher. xbar (layers, dim): the mean RMS-normed attention input
 * of each layer (read by mhe-add only). 0, or -1 with err. */
int train_model_init(train_model *m, const llama_model *teacher, train_kind kind, size_t kv, const float *xbar,
                     char *err, size_t errlen);
void train_model_free(train_model *m);
/* the tensor named name, or NULL */
const train_tensor *train_tensor_find(const train_model *m, const char *name);
/* the gradient of a parameter pointer p of m */
static inline float *train_grad_of(const train_model *m, const float *p) { return m->grads + (p - m->params); }

/* the activations of a batch of B sequences of T tokens */
typedef struct {
    size_t B, T, R;                /* R = B T rows */
    float *x_in, *xb, *r_att;      /* (layers, R, dim), (layers, R, dim), (layers, R) */
    float *q, *k, *v, *out;        /* (layers, B, heads or kv, T, head_size) */
    float *sq;                     /* (layers, 3, R, head_size): mhe's shared xb wq^T, xb wk^T, xb wv^T */
    float *att, *x_mid, *xb2, *r_ffn; /* (layers, R, dim), ..., (layers, R) */
    float *h1, *h3, *hg;           /* (layers, R, hidden) */
    float *x_fin, *r_fin, *xf;     /* (R, dim), (R), (R, dim) */
    float *logits;                 /* (R, vocab); the backward reads dlogits here instead */
    float *rope;                   /* (T, head_size): cos, sin of pair i at position t */
    /* scratch: (R, head_size), (R, dim) x2, (R, hidden) x2, (R, dim) x2, (R, kv_dim) x2,
     * the projections' gradients (R, dim), (R, kv_dim) x2 */
    float *s_rows, *s_dim, *s_dim2, *s_hid, *s_hid2, *s_heads, *s_heads2, *s_kv, *s_kv2, *s_dq, *s_dk, *s_dv;
} train_acts;

/* 0, or -1 with err (memory) */
int train_acts_init(train_acts *a, const train_model *m, size_t B, size_t T, char *err, size_t errlen);
void train_acts_free(train_acts *a);

/* the student's forward over tokens (B, T): logits (R, vocab) in a->logits,
 * every activation the backward reads kept. 0, or -1 (memory). */
int train_forward(const train_model *m, train_acts *a, const int *tokens);
/* with the loss's gradient in a->logits (overwritten), adds the gradient of
 * every tensor the model trains (m->all) to m->grads. 0, or -1 (memory). */
int train_backward(train_model *m, train_acts *a, const int *tokens);

#endif
