/* decode_proj.c — the projection a decode step runs (bench/decode/decode_cmd.h):
 * the scheme's weights, converted once, laid side by side so one sgemm
 * projects a batch of tokens. */
#include "decode_cmd.h"
#include "methods.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

/* w: (heads, d_model, d_head) -> columns [col0, col0 + heads d_head) of
 * p->w, head h in columns col0 + h d_head .. */
static void place(step_proj *p, size_t heads, const float *w, size_t col0) {
    const size_t dm = p->d_model, dh = p->d_head;
    for (size_t h = 0; h < heads; h++)
        for (size_t i = 0; i < dm; i++)
            memcpy(p->w + i * p->width + col0 + h * dh, w + (h * dm + i) * dh, dh * sizeof(float));
}

int step_proj_build(step_proj *p, const proj_scheme *ps, const layer_input *in, size_t kv) {
    memset(p, 0, sizeof *p);
    const size_t H = in->heads, dm = in->d_model, dh = in->d_head;
    p->d_model = dm; p->d_head = dh; p->heads = H;
    p->embed = ps->embed;
    p->qh = p->embed ? 1 : H;
    p->kvc = p->embed ? 1 : kv;
    p->width = (p->qh + 2 * p->kvc) * dh;
    p->w = malloc(dm * p->width * sizeof(float));
    float *stacked = malloc(dm * p->width * sizeof(float)); /* (qh + 2 kvc, d_model, d_head) */
    if (p->embed) p->emb = malloc(3 * H * dh * sizeof(float));
    int rc = p->w && stacked && (p->emb || !p->embed) ? ATTN_OK : ATTN_ENOMEM;
    workspace ws;
    ws_init(&ws, 0);
    const proj_shape s = {in->n, dm, H, kv, dh};
    if (rc == ATTN_OK)
        rc = ps->decode_weights(&s, in->t[IN_X], in->t[IN_WQ], in->t[IN_WK], in->t[IN_WV], stacked, p->emb, &ws);
    if (rc == ATTN_OK) place(p, p->qh + 2 * p->kvc, stacked, 0);
    free(stacked);
    if (rc) step_proj_free(p);
    return rc;
}

void step_proj_free(step_proj *p) {
    free(p->w); free(p->emb);
    p->w = p->emb = NULL;
}

void step_proj_rows(const step_proj *p, size_t rows, const float *x, float *y, size_t cols_from) {
    if (rows == 1) { /* one token (batch 1): a matrix-vector product, not an sgemm of one row */
        cblas_sgemv(CblasRowMajor, CblasTrans, (int)p->d_model, (int)(p->width - cols_from), 1.0f, p->w + cols_from,
                    (int)p->width, x, 1, 0.0f, y + cols_from, 1);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)(p->width - cols_from),
                (int)p->d_model, 1.0f, x, (int)p->d_model, p->w + cols_from, (int)p->width, 0.0f,
                y + cols_from, (int)p->width);
}

void step_proj_queries(const step_proj *p, size_t rows, const float *y, float *q) {
    const size_t H = p->heads, dh = p->d_head;
    for (size_t r = 0; r < rows; r++) {
        const float *yr = y + r * p->width;
        float *qr = q + r * H * dh;
        if (!p->embed) { memcpy(qr, yr, H * dh * sizeof(float)); continue; }
        for (size_t h = 0; h < H; h++) { /* the shared q, head h's Q embedding (the first) */
            memcpy(qr + h * dh, yr, dh * sizeof(float));
            p->embed->apply(qr + h * dh, p->emb + h * dh, dh);
        }
    }
}

double step_proj_bytes(const step_proj *p) {
    double b = 4.0 * (double)p->d_model * (double)p->width;
    if (p->emb) b += 4.0 * 3 * (double)p->heads * (double)p->d_head;
    return b;
}
