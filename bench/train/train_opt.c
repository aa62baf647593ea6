/* train_opt.c — the loss, the held-out figures and AdamW (train_opt.h). */
#include "train_opt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LR_FLOOR 0.1 /* the cosine ends at lr * LR_FLOOR */


/* one position: KL(teacher || student) from log-probabilities */
static double kl_of(const double *lt, const double *ls, size_t V) {
    double kl = 0;
    for (size_t j = 0; j < V; j++) kl += exp(lt[j]) * (lt[j] - ls[j]);
    return kl > 0 ? kl : 0; /* rounding can leave a tiny negative */
}

double train_loss_grad(train_loss_kind kind, float *ls, const float *lt, const int *tokens, size_t B, size_t T,
                       size_t V) {
    double *ps = malloc(2 * V * sizeof(double)), *pt = ps + V, total = 0;
    if (!ps) return NAN;
    const double P = (double)(B * (T - 1)), wkl = kind == TRAIN_LOSS_CE ? 0 : kind == TRAIN_LOSS_KL ? 1 : 0.5;
    const double wce = 1 - wkl;
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t < T; t++) {
            const size_t r = b * T + t;
            float *g = ls + r * V;
            if (t + 1 == T) { memset(g, 0, V * sizeof(float)); continue; }
            llama_log_softmax(g, V, ps);
            const int next = tokens[r + 1];
            if (wkl > 0) {
                llama_log_softmax(lt + r * V, V, pt);
                total += wkl * kl_of(pt, ps, V);
            }
            total -= wce * ps[next];
            /* d/dlogits: wkl (p_s - p_t) + wce (p_s - onehot) */
            for (size_t j = 0; j < V; j++) {
                double gj = exp(ps[j]) - (wkl > 0 ? wkl * exp(pt[j]) : 0) - (j == (size_t)next ? wce : 0);
                g[j] = (float)(gj / P);
            }
        }
    free(ps);
    return total / P;
}

void train_compare(const float *ls, const float *lt, const int *tokens, size_t B, size_t T, size_t V,
                   train_sums *sums) {
    double *ps = malloc(2 * V * sizeof(double)), *pt = ps + V;
    if (!ps) { sums->positions = NAN; return; }
    for (size_t b = 0; b < B; b++)
        for (size_t t = 0; t + 1 < T; t++) {
            const size_t r = b * T + t;
            sums->top1 += llama_log_softmax(ls + r * V, V, ps) == llama_log_softmax(lt + r * V, V, pt);
            sums->nll -= ps[tokens[r + 1]];
            sums->nll_teacher -= pt[tokens[r + 1]];
            sums->kl += kl_of(pt, ps, V);
            sums->positions += 1;
        }
    free(ps);
}

int train_adamw_init(train_adamw *o, const train_model *m, double weight_decay) {
    memset(o, 0, sizeof *o);
    o->m = calloc(m->count ? m->count : 1, sizeof(float));
    o->v = calloc(m->count ? m->count : 1, sizeof(float));
    o->beta1 = 0.9;
    o->beta2 = 0.95;
    o->eps = 1e-8;
    o->weight_decay = weight_decay;
    o->clip = 1.0;
    if (!o->m || !o->v) { train_adamw_free(o); return -1; }
    return 0;
}

void train_adamw_free(train_adamw *o) {
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}

static int trains(const train_model *m, const train_tensor *t) { return m->all || t->attention; }

double train_adamw_step(train_adamw *o, train_model *m, double lr) {
    double norm2 = 0;
    for (int i = 0; i < m->nt; i++)
        if (trains(m, &m->t[i]))
            for (size_t j = 0; j < m->t[i].count; j++) norm2 += (double)m->grads[m->t[i].offset + j] * m->grads[m->t[i].offset + j];
    const double norm = sqrt(norm2), scale = o->clip > 0 && norm > o->clip ? o->clip / norm : 1.0;
    o->t++;
    const double c1 = 1 - pow(o->beta1, (double)o->t), c2 = 1 - pow(o->beta2, (double)o->t);
    for (int i = 0; i < m->nt; i++) {
        const train_tensor *t = &m->t[i];
        if (!trains(m, t)) continue;
        const double wd = t->matrix ? o->weight_decay : 0;
        for (size_t j = t->offset; j < t->offset + t->count; j++) {
            const double g = m->grads[j] * scale;
            const double mj = o->beta1 * o->m[j] + (1 - o->beta1) * g, vj = o->beta2 * o->v[j] + (1 - o->beta2) * g * g;
            o->m[j] = (float)mj;
            o->v[j] = (float)vj;
            const double p = m->params[j];
            m->params[j] = (float)(p - lr * ((mj / c1) / (sqrt(vj / c2) + o->eps) + wd * p));
        }
    }
    return norm;
}

void train_zero_grad(train_model *m) { memset(m->grads, 0, m->count * sizeof(float)); }

double train_lr(size_t step, size_t steps, size_t warmup, double lr) {
    if (step < warmup) return lr * (double)(step + 1) / (double)warmup;
    if (steps <= warmup + 1) return lr;
    const double frac = (double)(step - warmup) / (double)(steps - warmup - 1);
    return lr * (LR_FLOOR + (1 - LR_FLOOR) * 0.5 * (1 + cos(M_PI * frac)));
}
