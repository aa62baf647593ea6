/* decode_layer.h — what the decode tests (test_decode.c,
 * test_decode_methods.c) share: one layer projected by a scheme, as the
 * prefill sees it (q, k, v per head) and as decode is given it (token-major,
 * the shared K, V of a scheme with head embeddings), a decode run of it
 * with its memory checked against the formulas, and the prefill's rows. */
#ifndef DECODE_LAYER_H
#define DECODE_LAYER_H

#include "check.h"
#include "decode.h"
#include "methods.h"

enum { L = 150, S = 40, N = L + S, H = 4, DH = 16, DM = 32 };

typedef struct {
    const proj_scheme *ps;
    size_t kv;               /* K/V heads of the projection (prefill) */
    float *q, *k, *v;        /* (H, N, DH), (kv, N, DH), (kv, N, DH) as the prefill sees them */
    /* what decode is given, token-major: q (N, H, DH); k, v (N, kvc, DH) */
    float *dq, *dk, *dv;
    size_t kvc;              /* K/V heads in the cache: kv, or 1 with head embeddings */
    const head_embed *embed;
    float *emb;              /* embed: (3, H, DH) */
} layer;

/* the test's knobs: approximate settings of every operator (the eviction
 * policies: 40 keys of the 150 of the context, which is snapkv's prompt) */
static const attn_knobs layer_knobs = {.k = 12, .chunk = 32, .features = 40, .sink = 3, .window = 24,
                                       .budget = 40, .recent = 12, .obs_window = 8, .pool = 3, .prompt = L,
                                       .seed = 7};

static inline float *alloc_fill(size_t count, double scale) {
    float *a = malloc(count * sizeof(float));
    test_fill(a, count, scale);
    return a;
}

/* (heads, n, d) -> (n, heads, d) */
static inline float *token_major(const float *a, size_t heads, size_t n, size_t d) {
    float *t = malloc(heads * n * d * sizeof(float));
    for (size_t h = 0; h < heads; h++)
        for (size_t i = 0; i < n; i++) memcpy(t + (i * heads + h) * d, a + (h * n + i) * d, d * sizeof(float));
    return t;
}

/* x (N, DM); w[3] (H, DM, DH) the MHA weights; kv_opt: --kv-heads */
static inline layer make_layer(const proj_scheme *ps, size_t kv_opt, const float *x, float *const w[3]) {
    layer ly = {.ps = ps, .embed = ps->embed};
    ly.kv = ps->kv_heads_for(H, kv_opt);
    proj_shape s = {N, DM, H, ly.kv, DH};
    ly.q = malloc(H * N * DH * sizeof(float));
    ly.k = malloc(ly.kv * N * DH * sizeof(float));
    ly.v = malloc(ly.kv * N * DH * sizeof(float));
    workspace ws;
    ws_init(&ws, 0);
    int rc = ps->project(&s, x, w[0], w[1], w[2], ly.q, ly.k, ly.v, &ws);
    CHECK(rc == ATTN_OK, "%s project: %s", ps->name, attn_strerror(rc));
    ly.dq = token_major(ly.q, H, N, DH);
    if (ps->embed) { /* decode holds the shared K, V: decode_weights' heads 1 and 2 */
        float *wm = malloc(3 * DM * DH * sizeof(float));
        ly.emb = malloc(3 * H * DH * sizeof(float));
        rc = ps->decode_weights(&s, x, w[0], w[1], w[2], wm, ly.emb, &ws);
        CHECK(rc == ATTN_OK, "%s decode_weights: %s", ps->name, attn_strerror(rc));
        ly.kvc = 1;
        proj_shape one = {N, DM, 1, 1, DH};
        ly.dk = malloc(N * DH * sizeof(float));
        ly.dv = malloc(N * DH * sizeof(float));
        project_heads(&one, 1, x, wm + DM * DH, ly.dk);     /* shared K: (N, 1, DH) */
        project_heads(&one, 1, x, wm + 2 * DM * DH, ly.dv); /* shared V */
        free(wm);
    } else {
        ly.kvc = ly.kv;
        ly.dk = token_major(ly.k, ly.kv, N, DH);
        ly.dv = token_major(ly.v, ly.kv, N, DH);
    }
    CHECK(ws.live == 0, "%s: projection holds workspace", ps->name);
    return ly;
}

static inline void free_layer(layer *ly) {
    free(ly->q); free(ly->k); free(ly->v); free(ly->dq); free(ly->dk); free(ly->dv); free(ly->emb);
}

/* operator op on the layer's cache layout, the test's knobs */
static inline decode_config layer_config(const layer *ly, const attn_decode *op, size_t batch, size_t threads) {
    decode_config c = {.op = op, .heads = H, .kv_heads = ly->kvc, .d_head = DH, .max_len = N,
                       .batch = batch, .embed = ly->embed, .kn = layer_knobs};
    if (ly->emb) { c.ek = ly->emb + H * DH; c.ev = ly->emb + 2 * H * DH; }
    c.kn.threads = threads;
    return c;
}

/* the S steps of c.batch copies of the layer after a context of L: out
 * (batch, S, H, DH); the counted workspace and cache checked against
 * decode_workspace_bytes and decode_cache_bytes; a step past max_len refused */
static inline float *run_decode(const layer *ly, const decode_config *c) {
    const char *name = c->op->name;
    const size_t batch = c->batch;
    workspace mws, sws[4];
    ws_init(&mws, 0);
    decode_ctx d;
    int rc = decode_init(&d, c, &mws);
    CHECK(rc == ATTN_OK, "%s decode_init: %s", name, attn_strerror(rc));
    if (rc) return NULL;
    CHECK(mws.peak == decode_workspace_bytes(c), "%s, %s: workspace counted %zu, formula %zu",
          ly->ps->name, name, mws.peak, decode_workspace_bytes(c));
    decode_seq seqs[4];
    const size_t ldq = H * DH, ldkv = ly->kvc * DH;
    for (size_t b = 0; b < batch; b++) {
        ws_init(&sws[b], 0);
        rc = decode_seq_init(&d, &seqs[b], &sws[b]);
        CHECK(rc == ATTN_OK, "decode_seq_init: %s", attn_strerror(rc));
    }
    float *out = malloc(batch * S * H * DH * sizeof(float));
    float *qb = malloc(batch * ldq * sizeof(float)), *kb = malloc(batch * ldkv * sizeof(float));
    float *vb = malloc(batch * ldkv * sizeof(float)), *ob = malloc(batch * H * DH * sizeof(float));
    /* the context: appended, or decoded as steps by an entry that decides by its queries */
    for (size_t b = 0; b < batch; b++) {
        rc = decode_append(&d, &seqs[b], L, ly->dk, ly->dv, ldkv);
        CHECK(c->op->queries ? rc == ATTN_EINVAL && !seqs[b].len : rc == ATTN_OK && seqs[b].len == L,
              "%s: context append: %s", name, attn_strerror(rc));
        for (size_t t = 0; c->op->queries && t < L; t++)
            rc = decode_step(&d, &seqs[b], 1, ly->dq + t * ldq, ldq, ly->dk + t * ldkv, ly->dv + t * ldkv, ldkv, ob);
        CHECK(rc == ATTN_OK && seqs[b].len == L, "%s: context of %d: %s", name, L, attn_strerror(rc));
    }
    for (size_t t = 0; t < S; t++) {
        for (size_t b = 0; b < batch; b++) {
            memcpy(qb + b * ldq, ly->dq + (L + t) * ldq, ldq * sizeof(float));
            memcpy(kb + b * ldkv, ly->dk + (L + t) * ldkv, ldkv * sizeof(float));
            memcpy(vb + b * ldkv, ly->dv + (L + t) * ldkv, ldkv * sizeof(float));
        }
        rc = decode_step(&d, seqs, batch, qb, ldq, kb, vb, ldkv, ob);
        CHECK(rc == ATTN_OK, "step %zu: %s", t, attn_strerror(rc));
        for (size_t b = 0; b < batch; b++)
            memcpy(out + (b * S + t) * H * DH, ob + b * H * DH, H * DH * sizeof(float));
    }
    rc = decode_step(&d, seqs, 1, qb, ldq, kb, vb, ldkv, ob);
    CHECK(rc == ATTN_EINVAL, "a step past max_len: %s, want EINVAL", attn_strerror(rc));
    for (size_t b = 0; b < batch; b++) {
        CHECK(sws[b].live == decode_cache_bytes(c), "%s, %s: cache counted %zu, formula %zu",
              ly->ps->name, name, sws[b].live, decode_cache_bytes(c));
        decode_seq_free(&seqs[b], &sws[b]);
        CHECK(sws[b].live == 0, "sequence memory left");
    }
    decode_free(&d, &mws);
    CHECK(mws.live == 0, "decode context memory left");
    free(qb); free(kb); free(vb); free(ob);
    return out;
}

/* the last S rows of operator m's causal prefill of the layer, (S, H, DH) float64 */
static inline double *prefill_rows(const layer *ly, const attn_method *m, const attn_knobs *kn) {
    attn_shape s = {H, ly->kv, N, DH, 1};
    float *out = malloc(H * N * DH * sizeof(float));
    workspace ws;
    ws_init(&ws, 0);
    int rc = m->forward(&s, kn, ly->q, ly->k, ly->v, out, &ws);
    CHECK(rc == ATTN_OK, "%s prefill: %s", m->name, attn_strerror(rc));
    double *r = malloc(S * H * DH * sizeof(double));
    for (size_t t = 0; t < S; t++)
        for (size_t h = 0; h < H; h++)
            for (size_t x = 0; x < DH; x++) r[(t * H + h) * DH + x] = out[(h * N + L + t) * DH + x];
    free(out);
    return r;
}

/* decoded rows within rel_err tol of want, and element-wise within 1e-5 + 1e-4 |want| */
static inline void compare_rows(const char *what, const layer *ly, const float *got, const double *want, double tol) {
    const double re = test_rel_err(got, want, S * H * DH);
    CHECK(re <= tol, "%s, %s: rel_err %.3g > %.1g", what, ly->ps->name, re, tol);
    if (!test_allclose(what, got, want, S * H * DH, 1e-5, 1e-4)) check_failures++;
}

/* the MHA weights and input every decode test projects */
static inline void layer_inputs(float **x, float *w[3]) {
    *x = alloc_fill(N * DM, 1.0);
    /* Q, K scaled up for peaked attention (logit std about 3), as top-k and window need */
    for (int t = 0; t < 3; t++) w[t] = alloc_fill(H * DM * DH, t < 2 ? 1.3 / sqrt(DM) : 1.0 / sqrt(DM));
}

#endif
