/* input.h — what an attention layer is run on: synthetic tensors from a seed,
 * or .npy tensors from a directory, in layer form (x and MHA weights) or
 * operator form (q, k, v as the attention operators take them). */
#ifndef INPUT_H
#define INPUT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int layer_form;    /* 1: x, wq, wk, wv; 0: q, k, v */
    size_t n, heads, kv_heads, d_head, d_model;
    /* layer form: x (n, d_model); wq, wk, wv (heads, d_model, d_head)
     * operator form: q (heads, n, d_head); k, v (kv_heads, n, d_head) */
    float *t[4];
    /* float64 originals where the file held float64 (else NULL: use t) */
    double *orig[4];
} layer_input;

enum { IN_X = 0, IN_WQ = 1, IN_WK = 2, IN_WV = 3 };  /* layer form */
enum { IN_Q = 0, IN_K = 1, IN_V = 2 };                /* operator form */

/* Synthetic layer form: x ~ N(0, 1); each head's weights mix a common and a
 * per-head Gaussian matrix, sqrt(R) C + sqrt(1-R) P_h, scaled by 1/sqrt(d_model);
 * then wq and wk are rescaled so the logits q.k/sqrt(d_head) have standard
 * deviation score_std (measured in float64 on a fixed sample of pairs). */
int input_synthetic(layer_input *in, size_t n, size_t heads, size_t d_head, size_t d_model,
                    double score_std, double head_sim, uint64_t seed, char *err, size_t errlen);

/* DIR/x.npy + wq/wk/wv.npy (layer form) or DIR/q.npy, k.npy, v.npy */
int input_load(layer_input *in, const char *dir, char *err, size_t errlen);

void input_free(layer_input *in);

/* float64 MHA q (heads, n, d_head) and k, v (kv_heads, n, d_head) for the
 * reference; the caller frees. 0, or -1 on out of memory. */
int input_reference_qkv(const layer_input *in, double **q, double **k, double **v);

/* standard deviation of the logits q.k/sqrt(d_head) of the MHA q, k over a
 * fixed sample of query-key pairs (visible pairs only when causal) */
double input_logit_std(const layer_input *in, int causal);

#endif
