/* decode_proj.c — the projection a decode step runs (bench/decode_cmd.h):
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

int step_proj_build(step_proj *p, const char *scheme, const layer_input *in, size_t kv) {
    memset(p, 0, sizeof *p);
    const size_t H = in->heads, dm = in->d_model, dh = in->d_head;
    const int mhe = !strncmp(scheme, "mhe", 3), mul = !strcmp(scheme, "mhe-mul");
    p->d_model = dm; p->d_head = dh; p->heads = H;
    p->qh = mhe ? 1 : H;
    p->kvc = mhe ? 1 : kv;
    p->width = (p->qh + 2 * p->kvc) * dh;
    p->embed = !mhe ? DECODE_EMBED_NONE : mul ? DECODE_EMBED_MUL : DECODE_EMBED_ADD;
    p->w = malloc(dm * p->width * sizeof(float));
    if (!p->w) return ATTN_ENOMEM;
    const float *wq = in->t[IN_WQ], *wk = in->t[IN_WK], *wv = in->t[IN_WV];
    workspace ws;
    ws_init(&ws, 0);
    int rc = ATTN_OK;
    if (mhe) {
        proj_shape s = {in->n, dm, H, H, dh};
        float *wm = malloc(3 * dm * dh * sizeof(float));
        p->emb = malloc(3 * H * dh * sizeof(float));
        rc = wm && p->emb ? mhe_fit(&s, mul, in->t[IN_X], wq, wk, wv, wm, p->emb, &ws) : ATTN_ENOMEM;
        for (int t = 0; t < 3 && rc == ATTN_OK; t++) place(p, 1, wm + t * dm * dh, t * dh);
        free(wm);
    } else if (kv == H) {
        place(p, H, wq, 0); place(p, H, wk, H * dh); place(p, H, wv, 2 * H * dh);
    } else { /* gqa, mqa: each group's K, V the mean of its heads' (proj_gqa.c) */
        float *wg = malloc(kv * dm * dh * sizeof(float));
        if (!wg) rc = ATTN_ENOMEM;
        if (wg) {
            place(p, H, wq, 0);
            gqa_group_mean(H, kv, dm * dh, wk, wg);
            place(p, kv, wg, H * dh);
            gqa_group_mean(H, kv, dm * dh, wv, wg);
            place(p, kv, wg, (H + kv) * dh);
        }
        free(wg);
    }
    if (rc) step_proj_free(p);
    return rc;
}

void step_proj_free(step_proj *p) {
    free(p->w); free(p->emb);
    p->w = p->emb = NULL;
}

void step_proj_rows(const step_proj *p, size_t rows, const float *x, float *y, size_t cols_from) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)(p->width - cols_from),
                (int)p->d_model, 1.0f, x, (int)p->d_model, p->w + cols_from, (int)p->width, 0.0f,
                y + cols_from, (int)p->width);
}

void step_proj_queries(const step_proj *p, size_t rows, const float *y, float *q) {
    const size_t H = p->heads, dh = p->d_head;
    for (size_t r = 0; r < rows; r++) {
        const float *yr = y + r * p->width;
        float *qr = q + r * H * dh;
        if (p->embed == DECODE_EMBED_NONE) { memcpy(qr, yr, H * dh * sizeof(float)); continue; }
        for (size_t h = 0; h < H; h++) {
            const float *e = p->emb + h * dh; /* Q embeddings first */
            for (size_t j = 0; j < dh; j++)
                qr[h * dh + j] = p->embed == DECODE_EMBED_MUL ? yr[j] * e[j] : yr[j] + e[j];
        }
    }
}

double step_proj_bytes(const step_proj *p) {
    double b = 4.0 * (double)p->d_model * (double)p->width;
    if (p->emb) b += 4.0 * 3 * (double)p->heads * (double)p->d_head;
    return b;
}
