/* train_model.c — the student's tensors, its conversion from the teacher,
 * and the activations' memory (train_model.h). */
#include "train_model.h"
#include "methods.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* appends a tensor of count floats; returns its offset */
static size_t add_tensor(train_model *m, const char *name, size_t count, int attention, int matrix) {
    train_tensor *t = &m->t[m->nt++];
    t->name = name;
    t->offset = m->count;
    t->count = count;
    t->attention = attention;
    t->matrix = matrix;
    m->count += count;
    return t->offset;
}

enum { NPTR = 15 };
#define ABSENT SIZE_MAX

/* the tensors in llama2.c's order, then the classifier (unshared) and the
 * head embeddings (mhe): off[NPTR] their offsets in the order of
 * set_pointers, ABSENT where the kind has none; sets m->count */
static void lay_out(train_model *m, size_t *off) {
    const llama_config *c = &m->c;
    const size_t d = (size_t)c->dim, hid = (size_t)c->hidden_dim, L = (size_t)c->n_layers,
                 hs = (size_t)c->head_size, H = (size_t)c->n_heads, V = (size_t)c->vocab_size;
    const int mhe = m->kind != TRAIN_GROUPED;
    const size_t qrows = mhe ? hs : d, kvrows = mhe ? hs : (size_t)c->kv_dim;
    m->nt = 0;
    m->count = 0;
    off[0] = add_tensor(m, "token_embedding", V * d, 0, 1);
    off[1] = add_tensor(m, "rms_att", L * d, 0, 0);
    off[2] = add_tensor(m, "wq", L * qrows * d, 1, 1);
    off[3] = add_tensor(m, "wk", L * kvrows * d, 1, 1);
    off[4] = add_tensor(m, "wv", L * kvrows * d, 1, 1);
    off[5] = add_tensor(m, "wo", L * d * d, 1, 1);
    off[6] = add_tensor(m, "rms_ffn", L * d, 0, 0);
    off[7] = add_tensor(m, "w1", L * hid * d, 0, 1);
    off[8] = add_tensor(m, "w2", L * d * hid, 0, 1);
    off[9] = add_tensor(m, "w3", L * hid * d, 0, 1);
    off[10] = add_tensor(m, "rms_final", d, 0, 0);
    off[11] = c->shared_classifier ? off[0] : add_tensor(m, "wcls", V * d, 0, 1);
    off[12] = mhe ? add_tensor(m, "eq", L * H * hs, 1, 0) : ABSENT;
    off[13] = mhe ? add_tensor(m, "ek", L * H * hs, 1, 0) : ABSENT;
    off[14] = mhe ? add_tensor(m, "ev", L * H * hs, 1, 0) : ABSENT;
}

/* the named pointers into the allocated params */
static void set_pointers(train_model *m, const size_t *off) {
    float **p[NPTR] = {&m->emb, &m->rms_att, &m->wq, &m->wk, &m->wv, &m->wo, &m->rms_ffn, &m->w1, &m->w2,
                       &m->w3, &m->rms_final, &m->wcls, &m->eq, &m->ek, &m->ev};
    for (int i = 0; i < NPTR; i++) *p[i] = off[i] == ABSENT ? NULL : m->params + off[i];
}

/* w (heads, dim, hs), the kernels' per-head layout, into dst (heads * hs, dim), llama2.c's */
static void to_llama(const float *w, size_t heads, size_t dim, size_t hs, float *dst) {
    for (size_t h = 0; h < heads; h++)
        for (size_t i = 0; i < dim; i++)
            for (size_t j = 0; j < hs; j++) dst[(h * hs + j) * dim + i] = w[(h * dim + i) * hs + j];
}

/* layer l's projections converted from the teacher; scratch: 4 (heads, dim, hs) */
static int convert_layer(train_model *m, const llama_model *t, size_t l, const float *xbar, float *scratch) {
    const llama_config *c = &m->c;
    const size_t d = (size_t)c->dim, hs = (size_t)c->head_size, H = (size_t)c->n_heads, per = d * hs;
    float *wq = scratch, *wk = wq + H * per, *wv = wk + H * per, *wg = wv + H * per;
    llama_layer_mha_weights(t, (int)l, wq, wk, wv);
    if (m->kind == TRAIN_GROUPED) {
        const size_t G = (size_t)c->n_kv_heads, kvd = (size_t)c->kv_dim;
        memcpy(m->wq + l * d * d, t->wq + l * d * d, d * d * sizeof(float));
        gqa_group_mean(H, G, per, wk, wg);
        to_llama(wg, G, d, hs, m->wk + l * kvd * d);
        gqa_group_mean(H, G, per, wv, wg);
        to_llama(wg, G, d, hs, m->wv + l * kvd * d);
        return 0;
    }
    /* wg: (3, dim, hs) shared weights, then (3, heads, hs) embeddings */
    proj_shape ps = {1, d, H, H, hs};
    workspace ws;
    ws_init(&ws, 0);
    float *e = wg + 3 * per;
    if (mhe_fit(&ps, m->kind == TRAIN_MHE_MUL, xbar + l * d, wq, wk, wv, wg, e, &ws) != ATTN_OK) return -1;
    float *shared[3] = {m->wq, m->wk, m->wv}, *emb[3] = {m->eq, m->ek, m->ev};
    for (int i = 0; i < 3; i++) {
        to_llama(wg + (size_t)i * per, 1, d, hs, shared[i] + l * hs * d);
        memcpy(emb[i] + l * H * hs, e + (size_t)i * H * hs, H * hs * sizeof(float));
    }
    return 0;
}

int train_model_init(train_model *m, const llama_model *teacher, train_kind kind, size_t kv, const float *xbar,
                     char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    m->c = teacher->c;
    m->kind = kind;
    m->attn_backward = exact_attention_backward;
    const size_t H = (size_t)m->c.n_heads;
    if (kind != TRAIN_GROUPED) kv = H;
    if (!kv || H % kv) return snprintf(err, errlen, "%zu K/V heads do not divide the %zu heads", kv, H), -1;
    m->c.n_kv_heads = (int)kv;
    m->c.kv_dim = m->c.head_size * (int)kv;
    size_t off[NPTR];
    lay_out(m, off);
    m->params = malloc(m->count * sizeof(float));
    m->grads = calloc(m->count, sizeof(float));
    const size_t d = (size_t)m->c.dim, hs = (size_t)m->c.head_size;
    float *scratch = malloc((4 * H * d * hs + 3 * H * hs) * sizeof(float));
    if (!m->params || !m->grads || !scratch) {
        free(scratch);
        train_model_free(m);
        return snprintf(err, errlen, "out of memory for the student's %zu parameters", m->count), -1;
    }
    set_pointers(m, off);
    const size_t L = (size_t)m->c.n_layers, V = (size_t)m->c.vocab_size, hid = (size_t)m->c.hidden_dim;
    /* everything but the projections as the teacher has it */
    memcpy(m->emb, teacher->token_embedding, V * d * sizeof(float));
    memcpy(m->rms_att, teacher->rms_att, L * d * sizeof(float));
    memcpy(m->wo, teacher->wo, L * d * d * sizeof(float));
    memcpy(m->rms_ffn, teacher->rms_ffn, L * d * sizeof(float));
    memcpy(m->w1, teacher->w1, L * hid * d * sizeof(float));
    memcpy(m->w2, teacher->w2, L * d * hid * sizeof(float));
    memcpy(m->w3, teacher->w3, L * hid * d * sizeof(float));
    memcpy(m->rms_final, teacher->rms_final, d * sizeof(float));
    if (!m->c.shared_classifier) memcpy(m->wcls, teacher->wcls, V * d * sizeof(float));
    int rc = 0;
    for (size_t l = 0; l < L && !rc; l++) rc = convert_layer(m, teacher, l, xbar, scratch);
    free(scratch);
    if (rc) {
        train_model_free(m);
        return snprintf(err, errlen, "the conversion's fit failed (out of memory)"), -1;
    }
    return 0;
}

void train_model_free(train_model *m) {
    free(m->params);
    free(m->grads);
    m->params = m->grads = NULL;
}

const train_tensor *train_tensor_find(const train_model *m, const char *name) {
    for (int i = 0; i < m->nt; i++)
        if (!strcmp(m->t[i].name, name)) return &m->t[i];
    return NULL;
}

/* ---- activations ------------------------------------------------------------- */

int train_acts_init(train_acts *a, const train_model *m, size_t B, size_t T, char *err, size_t errlen) {
    memset(a, 0, sizeof *a);
    const llama_config *c = &m->c;
    const size_t L = (size_t)c->n_layers, d = (size_t)c->dim, hid = (size_t)c->hidden_dim,
                 hs = (size_t)c->head_size, kvd = (size_t)c->kv_dim, V = (size_t)c->vocab_size;
    int bad = size_mul(B, T, &a->R) != 0;
    const size_t R = a->R;
    a->B = B;
    a->T = T;
    a->x_in = llama_alloc_floats(L, R, d, &bad);
    a->xb = llama_alloc_floats(L, R, d, &bad);
    a->r_att = llama_alloc_floats(L, R, 1, &bad);
    a->q = llama_alloc_floats(L, R, d, &bad);
    a->k = llama_alloc_floats(L, R, kvd, &bad);
    a->v = llama_alloc_floats(L, R, kvd, &bad);
    a->out = llama_alloc_floats(L, R, d, &bad);
    a->sq = llama_alloc_floats(L * 3, R, hs, &bad);
    a->att = llama_alloc_floats(L, R, d, &bad);
    a->x_mid = llama_alloc_floats(L, R, d, &bad);
    a->xb2 = llama_alloc_floats(L, R, d, &bad);
    a->r_ffn = llama_alloc_floats(L, R, 1, &bad);
    a->h1 = llama_alloc_floats(L, R, hid, &bad);
    a->h3 = llama_alloc_floats(L, R, hid, &bad);
    a->hg = llama_alloc_floats(L, R, hid, &bad);
    a->x_fin = llama_alloc_floats(R, d, 1, &bad);
    a->r_fin = llama_alloc_floats(R, 1, 1, &bad);
    a->xf = llama_alloc_floats(R, d, 1, &bad);
    a->logits = llama_alloc_floats(R, V, 1, &bad);
    a->rope = llama_alloc_floats(T, hs, 1, &bad);
    a->s_rows = llama_alloc_floats(R, hs, 1, &bad);
    a->s_dim = llama_alloc_floats(R, d, 1, &bad);
    a->s_dim2 = llama_alloc_floats(R, d, 1, &bad);
    a->s_hid = llama_alloc_floats(R, hid, 1, &bad);
    a->s_hid2 = llama_alloc_floats(R, hid, 1, &bad);
    a->s_heads = llama_alloc_floats(R, d, 1, &bad);
    a->s_heads2 = llama_alloc_floats(R, d, 1, &bad);
    a->s_kv = llama_alloc_floats(R, kvd, 1, &bad);
    a->s_kv2 = llama_alloc_floats(R, kvd, 1, &bad);
    a->s_dq = llama_alloc_floats(R, d, 1, &bad);
    a->s_dk = llama_alloc_floats(R, kvd, 1, &bad);
    a->s_dv = llama_alloc_floats(R, kvd, 1, &bad);
    if (bad) {
        train_acts_free(a);
        return snprintf(err, errlen, "out of memory for the activations of %zu sequences of %zu tokens", B, T), -1;
    }
    /* the expressions of llama2c.c's rope_table, so the rotation is the model's */
    for (size_t t = 0; t < T; t++)
        for (size_t i = 0; i < hs / 2; i++) {
            double angle = (double)t * pow(10000.0, -2.0 * (double)i / (double)hs);
            a->rope[t * hs + 2 * i] = (float)cos(angle);
            a->rope[t * hs + 2 * i + 1] = (float)sin(angle);
        }
    return 0;
}

void train_acts_free(train_acts *a) {
    float **p[] = {&a->x_in, &a->xb, &a->r_att, &a->q, &a->k, &a->v, &a->out, &a->sq, &a->att, &a->x_mid,
                   &a->xb2, &a->r_ffn, &a->h1, &a->h3, &a->hg, &a->x_fin, &a->r_fin, &a->xf, &a->logits,
                   &a->rope, &a->s_rows, &a->s_dim, &a->s_dim2, &a->s_hid, &a->s_hid2, &a->s_heads,
                   &a->s_heads2, &a->s_kv, &a->s_kv2, &a->s_dq, &a->s_dk, &a->s_dv};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
        free(*p[i]);
        *p[i] = NULL;
    }
}
