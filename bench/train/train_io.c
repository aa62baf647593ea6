/* train_io.c — the student written as a llama2.c checkpoint (train_io.h):
 * the legacy layout of llama2c.h with n_kv_heads the student's (mqa 1, gqa
 * G), and for MHE the per-head expansion with n_kv_heads = n_heads plus the
 * sidecar PATH.mhe (llama2c_mhe.c). */
#include "train_io.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* count floats to f; 0 or -1 */
static int put(FILE *f, const float *p, size_t count) { return fwrite(p, sizeof(float), count, f) == count ? 0 : -1; }

/* the two RoPE tables llama2.c's export writes: cos, then sin, of t theta_i,
 * (seq_len, head_size / 2) each (its readers recompute them; written for
 * the layout) */
static int put_rope(FILE *f, const llama_config *c) {
    const size_t half = (size_t)c->head_size / 2;
    float *row = malloc(half * sizeof(float));
    if (!row) return -1;
    int rc = 0;
    for (int part = 0; part < 2 && !rc; part++)
        for (int t = 0; t < c->seq_len && !rc; t++) {
            for (size_t i = 0; i < half; i++) {
                double a = (double)t * pow(10000.0, -2.0 * (double)i / c->head_size);
                row[i] = (float)(part ? sin(a) : cos(a));
            }
            rc = put(f, row, half);
        }
    free(row);
    return rc;
}

/* wq, wk, wv of every layer: the matrices, or mhe's expansion per layer
 * (which 0, 1, 2: q, k, v) */
static int put_projection(FILE *f, const train_model *m, int which, float *scratch) {
    const llama_config *c = &m->c;
    const size_t L = (size_t)c->n_layers, d = (size_t)c->dim, hs = (size_t)c->head_size, H = (size_t)c->n_heads;
    const float *w[3] = {m->wq, m->wk, m->wv}, *e[3] = {m->eq, m->ek, m->ev};
    if (m->kind == TRAIN_GROUPED) return put(f, w[which], L * (which ? (size_t)c->kv_dim : d) * d);
    for (size_t l = 0; l < L; l++) {
        llama_mhe_expand(m->kind == TRAIN_MHE_MUL, H, hs, d, w[which] + l * hs * d, e[which] + l * H * hs, scratch);
        if (put(f, scratch, H * hs * d)) return -1;
    }
    return 0;
}

/* the sidecar's wm (layers, 3, hs, dim) and e (layers, 3, heads, hs) */
static int write_sidecar(const char *path, const train_model *m, char *err, size_t errlen) {
    const llama_config *c = &m->c;
    const size_t L = (size_t)c->n_layers, d = (size_t)c->dim, hs = (size_t)c->head_size, H = (size_t)c->n_heads;
    float *wm = malloc(L * 3 * hs * d * sizeof(float)), *e = malloc(L * 3 * H * hs * sizeof(float));
    if (!wm || !e) { free(wm); free(e); snprintf(err, errlen, "out of memory"); return -1; }
    const float *w[3] = {m->wq, m->wk, m->wv}, *es[3] = {m->eq, m->ek, m->ev};
    for (size_t l = 0; l < L; l++)
        for (size_t t = 0; t < 3; t++) {
            memcpy(wm + (l * 3 + t) * hs * d, w[t] + l * hs * d, hs * d * sizeof(float));
            memcpy(e + (l * 3 + t) * H * hs, es[t] + l * H * hs, H * hs * sizeof(float));
        }
    char side[4096];
    int rc = snprintf(side, sizeof side, "%s.mhe", path) >= (int)sizeof side
                 ? (snprintf(err, errlen, "%s: path too long", path), -1)
                 : llama_mhe_write(side, m->kind == TRAIN_MHE_MUL, c, wm, e, err, errlen);
    free(wm); free(e);
    return rc;
}

int train_write(const char *path, const train_model *m, char *err, size_t errlen) {
    const llama_config *c = &m->c;
    const size_t L = (size_t)c->n_layers, d = (size_t)c->dim, hid = (size_t)c->hidden_dim, V = (size_t)c->vocab_size;
    FILE *f = fopen(path, "wb");
    if (!f) { snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno)); return -1; }
    const int32_t head[7] = {c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads,
                             c->shared_classifier ? c->vocab_size : -c->vocab_size, c->seq_len};
    float *scratch = malloc(d * d * sizeof(float));
    int rc = !scratch || fwrite(head, 4, 7, f) != 7 || put(f, m->emb, V * d) || put(f, m->rms_att, L * d) ||
             put_projection(f, m, 0, scratch) || put_projection(f, m, 1, scratch) || put_projection(f, m, 2, scratch) ||
             put(f, m->wo, L * d * d) || put(f, m->rms_ffn, L * d) || put(f, m->w1, L * hid * d) ||
             put(f, m->w2, L * d * hid) || put(f, m->w3, L * hid * d) || put(f, m->rms_final, d) || put_rope(f, c) ||
             (!c->shared_classifier && put(f, m->wcls, V * d));
    free(scratch);
    if (fclose(f) != 0) rc = 1;
    if (rc) { snprintf(err, errlen, "%s: write failed", path); return -1; }
    if (m->kind != TRAIN_GROUPED) return write_sidecar(path, m, err, errlen);
    /* a sidecar left beside the file by an earlier MHE student belongs to the replaced file */
    char side[4096];
    if (snprintf(side, sizeof side, "%s.mhe", path) < (int)sizeof side) unlink(side);
    return 0;
}
