/* llama2c_mhe.c — the multi-head-embedding sidecar of a llama2.c checkpoint
 * (llama2c.h): what a student of `attnbench train --projection mhe-add` or
 * `mhe-mul` needs beyond the plain file, found by llama_load beside it.
 *
 * PATH.mhe, little-endian:
 *   8 bytes   "ATTNMHE1"
 *   5 int32   mode (0 add, 1 mul), n_layers, n_heads, head_size, dim
 *   float32   wm (n_layers, 3, head_size, dim): the shared Q, K, V projections
 *             (out x in, as llama2.c stores matrices)
 *   float32   e (n_layers, 3, n_heads, head_size): the Q, K, V head embeddings
 * The checkpoint itself (n_kv_heads = n_heads) holds the per-head matrices
 * these expand to (llama_mhe_expand): head h of wq is wm_q (add) or
 * diag(e_q,h) wm_q (mul). So mhe-mul is a plain llama2.c model any reader
 * runs; mhe-add also adds e as a bias to every row of q, k, v before the
 * rotary embeddings, which only this sidecar carries. The loader checks that
 * the checkpoint's matrices are the expansion (a stale sidecar is refused). */
#include "llama2c.h"
#include "readfile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MHE_MAGIC "ATTNMHE1"

struct llama_mhe {
    int mode, layers, heads, head_size, dim;
    float *wm, *e;
};

void llama_mhe_expand(int mode, size_t heads, size_t hs, size_t dim, const float *wm, const float *e, float *w) {
    for (size_t h = 0; h < heads; h++)
        for (size_t j = 0; j < hs; j++)
            for (size_t i = 0; i < dim; i++)
                w[(h * hs + j) * dim + i] = mode ? wm[j * dim + i] * e[h * hs + j] : wm[j * dim + i];
}

int llama_mhe_write(const char *path, int mode, const llama_config *c, const float *wm, const float *e,
                    char *err, size_t errlen) {
    const size_t L = (size_t)c->n_layers, H = (size_t)c->n_heads, hs = (size_t)c->head_size, d = (size_t)c->dim;
    FILE *f = fopen(path, "wb");
    if (!f) return snprintf(err, errlen, "%s: cannot create", path), -1;
    const int32_t head[5] = {mode, c->n_layers, c->n_heads, c->head_size, c->dim};
    int ok = fwrite(MHE_MAGIC, 1, 8, f) == 8 && fwrite(head, 4, 5, f) == 5 &&
             fwrite(wm, sizeof(float), L * 3 * hs * d, f) == L * 3 * hs * d &&
             fwrite(e, sizeof(float), L * 3 * H * hs, f) == L * 3 * H * hs;
    if (fclose(f) != 0) ok = 0;
    return ok ? 0 : (snprintf(err, errlen, "%s: write failed", path), -1);
}

void llama_mhe_free(llama_mhe *x) {
    if (!x) return;
    free(x->wm);
    free(x->e);
    free(x);
}

/* the checkpoint's wq, wk, wv are the sidecar's expansion: 0, or -1 with err */
static int check_expansion(const char *path, const llama_model *m, const llama_mhe *x, char *err, size_t errlen) {
    const size_t L = (size_t)x->layers, H = (size_t)x->heads, hs = (size_t)x->head_size, d = (size_t)x->dim;
    float *w = malloc(H * hs * d * sizeof(float));
    if (!w) return snprintf(err, errlen, "%s: out of memory", path), -1;
    const float *have[3] = {m->wq, m->wk, m->wv};
    int rc = 0;
    for (size_t l = 0; l < L && !rc; l++)
        for (size_t t = 0; t < 3 && !rc; t++) {
            llama_mhe_expand(x->mode, H, hs, d, x->wm + (l * 3 + t) * hs * d, x->e + (l * 3 + t) * H * hs, w);
            if (memcmp(w, have[t] + l * H * hs * d, H * hs * d * sizeof(float)))
                rc = -1, snprintf(err, errlen, "%s: the checkpoint's w%c of layer %zu is not this sidecar's expansion (a stale sidecar?)",
                          path, "qkv"[t], l);
        }
    free(w);
    return rc;
}

int llama_mhe_attach(const char *ckpt, llama_model *m, char *err, size_t errlen) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s.mhe", ckpt) >= (int)sizeof path || access(path, F_OK) != 0) return 0;
    int fd = readfile_open(path, SIZE_MAX, err, errlen);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "rb");
    if (!f) { close(fd); return snprintf(err, errlen, "%s: cannot read", path), -1; }
    char magic[8];
    int32_t h[5];
    llama_mhe *x = calloc(1, sizeof *x);
    const llama_config *c = &m->c;
    int rc = -1;
    if (!x) { snprintf(err, errlen, "%s: out of memory", path); goto done; }
    if (fread(magic, 1, 8, f) != 8 || memcmp(magic, MHE_MAGIC, 8) || fread(h, 4, 5, f) != 5) {
        snprintf(err, errlen, "%s: not an attnbench MHE sidecar (magic " MHE_MAGIC ")", path);
        goto done;
    }
    *x = (llama_mhe){h[0], h[1], h[2], h[3], h[4], NULL, NULL};
    if ((x->mode != 0 && x->mode != 1) || x->layers != c->n_layers || x->heads != c->n_heads ||
        x->head_size != c->head_size || x->dim != c->dim || c->n_kv_heads != c->n_heads) {
        snprintf(err, errlen, "%s: mode %d, %d layers, %d heads of %d, dim %d do not fit the checkpoint (%d layers, %d heads, "
             "%d K/V heads of %d, dim %d)", path, x->mode, x->layers, x->heads, x->head_size, x->dim, c->n_layers,
             c->n_heads, c->n_kv_heads, c->head_size, c->dim);
        goto done;
    }
    const size_t L = (size_t)c->n_layers, nw = L * 3 * (size_t)c->head_size * (size_t)c->dim,
                 ne = L * 3 * (size_t)c->n_heads * (size_t)c->head_size;
    x->wm = malloc(nw * sizeof(float));
    x->e = malloc(ne * sizeof(float));
    char extra;
    if (!x->wm || !x->e) { snprintf(err, errlen, "%s: out of memory", path); goto done; }
    if (fread(x->wm, sizeof(float), nw, f) != nw || fread(x->e, sizeof(float), ne, f) != ne || fread(&extra, 1, 1, f) != 0) {
        snprintf(err, errlen, "%s: not the size its header implies", path);
        goto done;
    }
    if (check_expansion(path, m, x, err, errlen)) goto done;
    m->mhe = x;
    x = NULL;
    rc = 0;
done:
    fclose(f);
    llama_mhe_free(x);
    return rc;
}

void llama_mhe_bias(const llama_model *m, int layer, float *q, size_t ldq, float *k, float *v, size_t ldkv,
                    size_t rows) {
    const llama_mhe *x = m->mhe;
    if (!x || x->mode != 0) return;
    const size_t width = (size_t)x->heads * (size_t)x->head_size;
    float *y[3] = {q, k, v};
    const size_t ld[3] = {ldq, ldkv, ldkv};
    for (size_t t = 0; t < 3; t++) {
        const float *e = x->e + ((size_t)layer * 3 + t) * width;
        for (size_t r = 0; r < rows; r++)
            for (size_t i = 0; i < width; i++) y[t][r * ld[t] + i] += e[i];
    }
}

const char *llama_mhe_scheme(const llama_model *m) {
    return !m->mhe ? NULL : m->mhe->mode ? "mhe-mul" : "mhe-add";
}
