/* backward.h — gradients of an attention operator, for training
 * (`attnbench train`). A backward hook has the forward's shape conventions
 * (attention.h): q (heads, n, d_head), k, v (kv_heads, n, d_head), out and
 * dout (heads, n, d_head); it writes dq (heads, n, d_head) and dk, dv
 * (kv_heads, n, d_head), the gradients of the loss through out = f(q, k, v),
 * summed over the query heads that share a K/V head. It is the shape an
 * attn_method entry could point to beside its forward (an optional
 * `backward`): exact attention's now; top-k or the window would be one more
 * function of this type (their gradient flows through the kept keys only). */
#ifndef BACKWARD_H
#define BACKWARD_H

#include "attention.h"

typedef int (*attn_backward_fn)(const attn_shape *s, const attn_knobs *kn, const float *q,
                                const float *k, const float *v, const float *out,
                                const float *dout, float *dq, float *dk, float *dv,
                                workspace *ws);

/* softmax(q k^T / sqrt(d_head)) v, causal or not: the probabilities are
 * recomputed from q and k a block of query rows at a time (no (n, n) state
 * is kept between forward and backward); out is the forward's output (it
 * gives the row terms sum_j dP_ij P_ij = dout_i . out_i). Workspace: two
 * (BACKWARD_ROWS, n) float blocks. ATTN_OK, ATTN_EINVAL, ATTN_ENOMEM. */
int exact_attention_backward(const attn_shape *s, const attn_knobs *kn, const float *q,
                             const float *k, const float *v, const float *out,
                             const float *dout, float *dq, float *dk, float *dv, workspace *ws);

/* The forward that goes with it: out = softmax(q k^T / sqrt(d_head)) v,
 * causal or not, a block of BACKWARD_ROWS query rows at a time with one
 * (BACKWARD_ROWS, n) float block of workspace (vanilla's (heads, n, n)
 * scores, freshly mapped on every call, cost a training step more in page
 * faults than in arithmetic). The same result as vanilla_forward. */
int exact_attention_forward(const attn_shape *s, const attn_knobs *kn, const float *q, const float *k,
                            const float *v, float *out, workspace *ws);

#endif
