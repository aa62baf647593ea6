/* train_grad.c — the student's forward pass, keeping what the backward
 * reads, and the backward pass (train_model.h). Every matrix product is one
 * sgemm over the batch's R rows; the attention runs per sequence through the
 * kernels (exact_attention_forward and the model's attn_backward hook, backward.h).
 *
 * Notation per layer: x_in -> xb = rmsnorm(x_in) -> q, k, v -> out ->
 * att (rows) -> x_mid = x_in + att wo^T -> xb2 = rmsnorm(x_mid) ->
 * hg = silu(xb2 w1^T) * (xb2 w3^T) -> x_in of the next layer = x_mid + hg w2^T. */
#include "train_model.h"
#include "methods.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#define RMS_EPS 1e-5

/* y (R, out) = x (R, in) w^T, w (out, in); beta 1 adds to y */
static void mm(float *y, const float *x, const float *w, size_t R, size_t out, size_t in, float beta) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)R, (int)out, (int)in, 1.0f, x, (int)in, w, (int)in,
                beta, y, (int)out);
}
/* dx (R, in) = dy (R, out) w (out, in); beta 1 adds */
static void mm_dx(float *dx, const float *dy, const float *w, size_t R, size_t out, size_t in, float beta) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)R, (int)in, (int)out, 1.0f, dy, (int)out, w,
                (int)in, beta, dx, (int)in);
}
/* dw (out, in) += dy^T (out, R) x (R, in) */
static void mm_dw(float *dw, const float *dy, const float *x, size_t R, size_t out, size_t in) {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out, (int)in, (int)R, 1.0f, dy, (int)out, x, (int)in,
                1.0f, dw, (int)in);
}

/* y = g * x / rms(x) row by row, r <- 1 / rms (llama2c.c's expressions) */
static void rmsnorm_fwd(float *y, float *r, const float *x, const float *g, size_t R, size_t d) {
    for (size_t i = 0; i < R; i++) {
        const float *xr = x + i * d;
        double ss = 0;
        for (size_t j = 0; j < d; j++) ss += (double)xr[j] * xr[j];
        float s = (float)(1.0 / sqrt(ss / (double)d + RMS_EPS));
        r[i] = s;
        for (size_t j = 0; j < d; j++) y[i * d + j] = g[j] * (xr[j] * s);
    }
}

/* dx += d(y)/dx^T dy; dg (or NULL) += sum over rows of dy * x * r */
static void rmsnorm_bwd(float *dx, float *dg, const float *dy, const float *x, const float *r, const float *g,
                        size_t R, size_t d) {
    for (size_t i = 0; i < R; i++) {
        const float *xr = x + i * d, *dyr = dy + i * d;
        double dot = 0;
        for (size_t j = 0; j < d; j++) dot += (double)g[j] * dyr[j] * xr[j];
        const float s = r[i], c = (float)((double)s * s * s * dot / (double)d);
        for (size_t j = 0; j < d; j++) dx[i * d + j] += g[j] * dyr[j] * s - c * xr[j];
        if (dg)
            for (size_t j = 0; j < d; j++) dg[j] += dyr[j] * xr[j] * s;
    }
}

/* rows (R = B T, heads * hs) <-> heads (B, heads, T, hs) */
static void rows_to_heads(const float *rows, float *x, size_t B, size_t T, size_t heads, size_t hs) {
    for (size_t b = 0; b < B; b++)
        for (size_t h = 0; h < heads; h++)
            for (size_t t = 0; t < T; t++)
                memcpy(x + ((b * heads + h) * T + t) * hs, rows + (b * T + t) * heads * hs + h * hs, hs * sizeof(float));
}
static void heads_to_rows(const float *x, float *rows, size_t B, size_t T, size_t heads, size_t hs) {
    for (size_t b = 0; b < B; b++)
        for (size_t h = 0; h < heads; h++)
            for (size_t t = 0; t < T; t++)
                memcpy(rows + (b * T + t) * heads * hs + h * hs, x + ((b * heads + h) * T + t) * hs, hs * sizeof(float));
}

/* rotary embeddings on x (S sequences of T rows of hs), position t = row;
 * inverse: the transposed rotation (the backward of the forward's) */
static void rope(float *x, size_t S, size_t T, size_t hs, const float *tab, int inverse) {
    for (size_t s = 0; s < S; s++)
        for (size_t t = 0; t < T; t++) {
            float *xr = x + (s * T + t) * hs;
            const float *cs = tab + t * hs;
            for (size_t i = 0; i < hs; i += 2) {
                float c = cs[i], sn = inverse ? -cs[i + 1] : cs[i + 1], a = xr[i], b = xr[i + 1];
                xr[i] = a * c - b * sn;
                xr[i + 1] = a * sn + b * c;
            }
        }
}

/* mhe: y (R, heads * hs) from the shared s (R, hs) and e (heads, hs) */
static void embed(float *y, const float *s, const float *e, size_t R, size_t H, size_t hs, int multiply) {
    for (size_t r = 0; r < R; r++)
        for (size_t h = 0; h < H; h++)
            for (size_t j = 0; j < hs; j++)
                y[(r * H + h) * hs + j] = multiply ? s[r * hs + j] * e[h * hs + j] : s[r * hs + j] + e[h * hs + j];
}

/* layer l's q, k, v from a->xb into a->q, k, v (rotated) */
static void project(const train_model *m, train_acts *a, size_t l) {
    const llama_config *c = &m->c;
    const size_t R = a->R, d = (size_t)c->dim, hs = (size_t)c->head_size, H = (size_t)c->n_heads,
                 G = (size_t)c->n_kv_heads, kvd = (size_t)c->kv_dim;
    const float *xb = a->xb + l * R * d;
    float *rows[3] = {a->s_heads, a->s_kv, a->s_kv2};
    if (m->kind == TRAIN_GROUPED) {
        mm(rows[0], xb, m->wq + l * d * d, R, d, d, 0.0f);
        mm(rows[1], xb, m->wk + l * kvd * d, R, kvd, d, 0.0f);
        mm(rows[2], xb, m->wv + l * kvd * d, R, kvd, d, 0.0f);
    } else {
        const float *w[3] = {m->wq, m->wk, m->wv}, *e[3] = {m->eq, m->ek, m->ev};
        for (size_t i = 0; i < 3; i++) {
            float *s = a->sq + (l * 3 + i) * R * hs;
            mm(s, xb, w[i] + l * hs * d, R, hs, d, 0.0f);
            embed(rows[i], s, e[i] + l * H * hs, R, H, hs, m->kind == TRAIN_MHE_MUL);
        }
    }
    float *q = a->q + l * R * d, *k = a->k + l * R * kvd, *v = a->v + l * R * kvd;
    rows_to_heads(rows[0], q, a->B, a->T, H, hs);
    rows_to_heads(rows[1], k, a->B, a->T, G, hs);
    rows_to_heads(rows[2], v, a->B, a->T, G, hs);
    rope(q, a->B * H, a->T, hs, a->rope, 0);
    rope(k, a->B * G, a->T, hs, a->rope, 0);
}

int train_forward(const train_model *m, train_acts *a, const int *tokens) {
    const llama_config *c = &m->c;
    const size_t R = a->R, T = a->T, d = (size_t)c->dim, hid = (size_t)c->hidden_dim, hs = (size_t)c->head_size,
                 H = (size_t)c->n_heads, G = (size_t)c->n_kv_heads, kvd = (size_t)c->kv_dim;
    float *x = a->s_dim;
    for (size_t r = 0; r < R; r++) memcpy(x + r * d, m->emb + (size_t)tokens[r] * d, d * sizeof(float));
    const attn_shape as = {H, G, T, hs, 1};
    const attn_knobs kn = {0};
    for (size_t l = 0; l < (size_t)c->n_layers; l++) {
        const size_t o = l * R * d;
        memcpy(a->x_in + o, x, R * d * sizeof(float));
        rmsnorm_fwd(a->xb + o, a->r_att + l * R, x, m->rms_att + l * d, R, d);
        project(m, a, l);
        for (size_t b = 0; b < a->B; b++) {
            workspace ws;
            ws_init(&ws, 0);
            if (exact_attention_forward(&as, &kn, a->q + o + b * T * d, a->k + l * R * kvd + b * T * kvd,
                                a->v + l * R * kvd + b * T * kvd, a->out + o + b * T * d, &ws) != ATTN_OK)
                return -1;
        }
        heads_to_rows(a->out + o, a->att + o, a->B, T, H, hs);
        mm(x, a->att + o, m->wo + l * d * d, R, d, d, 1.0f);
        memcpy(a->x_mid + o, x, R * d * sizeof(float));
        rmsnorm_fwd(a->xb2 + o, a->r_ffn + l * R, x, m->rms_ffn + l * d, R, d);
        float *h1 = a->h1 + l * R * hid, *h3 = a->h3 + l * R * hid, *hg = a->hg + l * R * hid;
        mm(h1, a->xb2 + o, m->w1 + l * hid * d, R, hid, d, 0.0f);
        mm(h3, a->xb2 + o, m->w3 + l * hid * d, R, hid, d, 0.0f);
        for (size_t i = 0; i < R * hid; i++) hg[i] = h1[i] / (1.0f + expf(-h1[i])) * h3[i];
        mm(x, hg, m->w2 + l * d * hid, R, d, hid, 1.0f);
    }
    memcpy(a->x_fin, x, R * d * sizeof(float));
    rmsnorm_fwd(a->xf, a->r_fin, x, m->rms_final, R, d);
    mm(a->logits, a->xf, m->wcls, R, (size_t)c->vocab_size, d, 0.0f);
    return 0;
}

/* mhe: from dy (R, heads * hs), the gradient of the shared ds (R, hs) and
 * de (heads, hs) += ..., for y = s + e or s * e */
static void embed_bwd(const float *dy, const float *s, const float *e, float *ds, float *de, size_t R, size_t H,
                      size_t hs, int multiply) {
    memset(ds, 0, R * hs * sizeof(float));
    for (size_t r = 0; r < R; r++)
        for (size_t h = 0; h < H; h++)
            for (size_t j = 0; j < hs; j++) {
                const float g = dy[(r * H + h) * hs + j];
                ds[r * hs + j] += multiply ? g * e[h * hs + j] : g;
                de[h * hs + j] += multiply ? g * s[r * hs + j] : g;
            }
}

/* layer l's attention backward: dX (R, dim) holds dL/dx_mid; adds the
 * attention's path to it (dL/dx_in) and the attention tensors' gradients */
static int attention_bwd(train_model *m, train_acts *a, size_t l, float *dX) {
    const llama_config *c = &m->c;
    const size_t R = a->R, T = a->T, B = a->B, d = (size_t)c->dim, hs = (size_t)c->head_size,
                 H = (size_t)c->n_heads, G = (size_t)c->n_kv_heads, kvd = (size_t)c->kv_dim, o = l * R * d;
    float *datt = a->s_dim2, *dout = a->s_heads2, *dq = a->s_heads, *dk = a->s_kv, *dv = a->s_kv2;
    mm_dx(datt, dX, m->wo + l * d * d, R, d, d, 0.0f);
    mm_dw(train_grad_of(m, m->wo) + l * d * d, dX, a->att + o, R, d, d);
    rows_to_heads(datt, dout, B, T, H, hs);
    const attn_shape as = {H, G, T, hs, 1};
    const attn_knobs kn = {0};
    for (size_t b = 0; b < B; b++) {
        workspace ws;
        ws_init(&ws, 0);
        const size_t qo = o + b * T * d, ko = l * R * kvd + b * T * kvd;
        if (m->attn_backward(&as, &kn, a->q + qo, a->k + ko, a->v + ko, a->out + qo, dout + b * T * d,
                             dq + b * T * d, dk + b * T * kvd, dv + b * T * kvd, &ws) != ATTN_OK)
            return -1;
    }
    rope(dq, B * H, T, hs, a->rope, 1);
    rope(dk, B * G, T, hs, a->rope, 1);
    float *drows[3] = {a->s_dq, a->s_dk, a->s_dv};
    heads_to_rows(dq, drows[0], B, T, H, hs);
    heads_to_rows(dk, drows[1], B, T, G, hs);
    heads_to_rows(dv, drows[2], B, T, G, hs);
    const float *xb = a->xb + o;
    float *dxb = a->s_dim2;
    const float *w[3] = {m->wq, m->wk, m->wv};
    if (m->kind == TRAIN_GROUPED) {
        const size_t rows[3] = {d, kvd, kvd};
        for (int i = 0; i < 3; i++) {
            mm_dx(dxb, drows[i], w[i] + l * rows[i] * d, R, rows[i], d, i ? 1.0f : 0.0f);
            mm_dw(train_grad_of(m, w[i]) + l * rows[i] * d, drows[i], xb, R, rows[i], d);
        }
    } else {
        const float *e[3] = {m->eq, m->ek, m->ev};
        for (int i = 0; i < 3; i++) {
            const float *s = a->sq + (l * 3 + (size_t)i) * R * hs;
            embed_bwd(drows[i], s, e[i] + l * H * hs, a->s_rows, train_grad_of(m, e[i]) + l * H * hs, R, H, hs,
                      m->kind == TRAIN_MHE_MUL);
            mm_dx(dxb, a->s_rows, w[i] + l * hs * d, R, hs, d, i ? 1.0f : 0.0f);
            mm_dw(train_grad_of(m, w[i]) + l * hs * d, a->s_rows, xb, R, hs, d);
        }
    }
    rmsnorm_bwd(dX, m->all ? train_grad_of(m, m->rms_att) + l * d : NULL, dxb, a->x_in + o, a->r_att + l * R,
                m->rms_att + l * d, R, d);
    return 0;
}

/* layer l's feed-forward backward: dX holds dL/d(x_mid + ffn); adds the path
 * through the feed-forward (then dX is dL/dx_mid) and, with m->all, its
 * tensors' gradients */
static void ffn_bwd(train_model *m, train_acts *a, size_t l, float *dX) {
    const llama_config *c = &m->c;
    const size_t R = a->R, d = (size_t)c->dim, hid = (size_t)c->hidden_dim, o = l * R * d;
    const float *h1 = a->h1 + l * R * hid, *h3 = a->h3 + l * R * hid, *xb2 = a->xb2 + o;
    float *dh1 = a->s_hid, *dh3 = a->s_hid2;
    mm_dx(dh1, dX, m->w2 + l * d * hid, R, d, hid, 0.0f); /* dL/dhg */
    if (m->all) mm_dw(train_grad_of(m, m->w2) + l * d * hid, dX, a->hg + l * R * hid, R, d, hid);
    for (size_t i = 0; i < R * hid; i++) {
        const float sg = 1.0f / (1.0f + expf(-h1[i])), g = dh1[i];
        dh3[i] = g * h1[i] * sg;
        dh1[i] = g * h3[i] * sg * (1.0f + h1[i] * (1.0f - sg));
    }
    if (m->all) {
        mm_dw(train_grad_of(m, m->w1) + l * hid * d, dh1, xb2, R, hid, d);
        mm_dw(train_grad_of(m, m->w3) + l * hid * d, dh3, xb2, R, hid, d);
    }
    float *dxb2 = a->s_dim2;
    mm_dx(dxb2, dh1, m->w1 + l * hid * d, R, hid, d, 0.0f);
    mm_dx(dxb2, dh3, m->w3 + l * hid * d, R, hid, d, 1.0f);
    rmsnorm_bwd(dX, m->all ? train_grad_of(m, m->rms_ffn) + l * d : NULL, dxb2, a->x_mid + o, a->r_ffn + l * R,
                m->rms_ffn + l * d, R, d);
}

int train_backward(train_model *m, train_acts *a, const int *tokens) {
    const llama_config *c = &m->c;
    const size_t R = a->R, d = (size_t)c->dim, V = (size_t)c->vocab_size;
    float *dX = a->s_dim, *dxf = a->s_dim2;
    mm_dx(dxf, a->logits, m->wcls, R, V, d, 0.0f);
    if (m->all) mm_dw(train_grad_of(m, m->wcls), a->logits, a->xf, R, V, d);
    memset(dX, 0, R * d * sizeof(float));
    rmsnorm_bwd(dX, m->all ? train_grad_of(m, m->rms_final) : NULL, dxf, a->x_fin, a->r_fin, m->rms_final, R, d);
    for (size_t l = (size_t)c->n_layers; l-- > 0;) {
        ffn_bwd(m, a, l, dX);
        if (attention_bwd(m, a, l, dX)) return -1;
    }
    if (m->all) {
        float *ge = train_grad_of(m, m->emb);
        for (size_t r = 0; r < R; r++)
            for (size_t j = 0; j < d; j++) ge[(size_t)tokens[r] * d + j] += dX[r * d + j];
    }
    return 0;
}
