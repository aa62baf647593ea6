/* train_opt.h — what `attnbench train` optimises and how: the loss on the
 * next-token distributions and its gradient, the held-out figures, AdamW
 * with a cosine schedule. */
#ifndef TRAIN_OPT_H
#define TRAIN_OPT_H

#include "train_model.h"

typedef enum { TRAIN_LOSS_KL, TRAIN_LOSS_CE, TRAIN_LOSS_MIX } train_loss_kind;

/* Over the positions t < T - 1 of B sequences of T tokens (position t
 * predicts tokens[t + 1]), the mean of
 *   kl:  KL(teacher || student) of the next-token distributions,
 *   ce:  -log student(tokens[t + 1]),
 *   mix: (kl + ce) / 2.
 * ls (B T, V): the student's logits, replaced by dloss/dlogits (zero at
 * t = T - 1); lt (B T, V): the teacher's (unread for ce). Returns the loss. */
double train_loss_grad(train_loss_kind kind, float *ls, const float *lt, const int *tokens, size_t B, size_t T,
                       size_t V);

/* sums over the same positions: the student's and the teacher's NLL of the
 * next token, KL(teacher || student), the positions where both argmaxes
 * agree; positions NAN when out of memory */
typedef struct { double nll, nll_teacher, kl, top1, positions; } train_sums;
void train_compare(const float *ls, const float *lt, const int *tokens, size_t B, size_t T, size_t V,
                   train_sums *sums);

typedef struct {
    float *m, *v;        /* (count) moments */
    size_t t;            /* steps taken */
    double beta1, beta2, eps, weight_decay, clip; /* clip: the gradient's global norm cap, 0: none */
} train_adamw;

/* 0, or -1 (memory) */
int train_adamw_init(train_adamw *o, const train_model *m, double weight_decay);
void train_adamw_free(train_adamw *o);
/* one step at learning rate lr on the tensors the model trains (m->all:
 * every one; else the attention's); decoupled weight decay on the matrices
 * only. Returns the gradient's global norm before clipping. */
double train_adamw_step(train_adamw *o, train_model *m, double lr);
/* the gradient of every tensor set to zero */
void train_zero_grad(train_model *m);

/* the learning rate at step (0-based) of steps: linear warmup over warmup
 * steps, then a cosine from lr down to lr / 10 at the last step */
double train_lr(size_t step, size_t steps, size_t warmup, double lr);

#endif
