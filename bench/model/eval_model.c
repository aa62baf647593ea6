/* eval_model.c — the substituted attention inside the llama2.c forward pass
 * and the figures that compare the substituted model with the exact one.
 *
 * A substituted layer: xb (n, dim), the layer's RMS-normed input, goes
 * through the projection scheme converted from the checkpoint's own weights
 * (its grouped K/V expanded to one K/V per query head first, so gqa with the
 * checkpoint's kv_heads mean-pools identical heads and is the model again),
 * rotary embeddings at positions 0..n-1 as the model applies them, and the
 * attention operator; the heads' outputs go back to the model's wo. The
 * layer's rel_err is measured there against the model's own exact attention
 * on the same xb (float64), so errors of earlier layers show up compounded.
 * With a cache format (e->fmt, --kv-format) the operator runs as decode
 * runs it instead: the roped q, k, v one token at a time through its decode
 * entry, K and V stored in the format and read as stored (with f32 it
 * equals the prefill to float rounding: tests/test_eval.c). */
#include "decode.h"
#include "eval.h"
#include "eval_layer.h"
#include "measure.h"
#include "methods.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LOGIT_BLOCK = 64 };

static void *alloc_count(size_t a, size_t b, size_t c, size_t elem, int *bad) {
    size_t count;
    if (*bad || size_mul3(a, b, c, &count) || count > SIZE_MAX / elem) { *bad = 1; return NULL; }
    void *p = malloc(count ? count * elem : 1);
    if (!p) *bad = 1;
    return p;
}

int eval_sub_init(eval_sub *e, char *err, size_t errlen) {
    const llama_config *c = &e->md->c;
    const size_t H = (size_t)c->n_heads, d = (size_t)c->dim, hs = (size_t)c->head_size, L = (size_t)c->n_layers;
    int bad = 0;
    e->w = alloc_count(L * 3, H * d, hs, sizeof(float), &bad);
    e->q = alloc_count(H, e->max_n, hs, sizeof(float), &bad);
    e->k = alloc_count(H, e->max_n, hs, sizeof(float), &bad);
    e->v = alloc_count(H, e->max_n, hs, sizeof(float), &bad);
    e->out = alloc_count(H, e->max_n, hs, sizeof(float), &bad);
    e->tok = e->fmt ? alloc_count(4, e->max_n, H * hs, sizeof(float), &bad) : NULL;
    e->dq = alloc_count(H, e->max_n, hs, sizeof(double), &bad);
    e->dk = alloc_count(H, e->max_n, hs, sizeof(double), &bad);
    e->dv = alloc_count(H, e->max_n, hs, sizeof(double), &bad);
    e->dref = alloc_count(H, e->max_n, hs, sizeof(double), &bad);
    e->habs = alloc_count((size_t)c->hidden_dim, 1, 1, sizeof(float), &bad);
    e->hscratch = alloc_count((size_t)c->hidden_dim, 1, 1, sizeof(float), &bad);
    e->hidx = alloc_count((size_t)c->hidden_dim, 1, 1, sizeof(uint32_t), &bad);
    e->hkeep = alloc_count((size_t)c->hidden_dim, 1, 1, 1, &bad);
    e->err_num = alloc_count(L, 1, 1, sizeof(double), &bad);
    e->err_den = alloc_count(L, 1, 1, sizeof(double), &bad);
    if (bad) {
        eval_sub_free(e);
        snprintf(err, errlen, "out of memory for the substituted layers' weights and scratch (n %zu)", e->max_n);
        return -1;
    }
    for (size_t l = 0; l < L; l++) {
        float *w = e->w + l * 3 * H * d * hs;
        if (e->sub[l]) llama_layer_mha_weights(e->md, (int)l, w, w + H * d * hs, w + 2 * H * d * hs);
        e->err_num[l] = e->err_den[l] = 0;
    }
    e->ref_seconds = 0;
    return 0;
}

void eval_sub_free(eval_sub *e) {
    free(e->w); free(e->q); free(e->k); free(e->v); free(e->out); free(e->tok);
    e->tok = NULL;
    free(e->dq); free(e->dk); free(e->dv); free(e->dref);
    free(e->habs); free(e->hscratch); free(e->hidx); free(e->hkeep);
    free(e->err_num); free(e->err_den);
    e->w = e->q = e->k = e->v = e->out = e->habs = e->hscratch = NULL;
    e->dq = e->dk = e->dv = e->dref = e->err_num = e->err_den = NULL;
    e->hidx = NULL;
    e->hkeep = NULL;
}

/* the model's own exact attention of layer l on xb (m, dim) in float64,
 * compared with e->out: adds to err_num[l], err_den[l]; 0 or -1 */
static int reference_error(eval_sub *e, int l, const float *xb, size_t m) {
    const llama_config *c = &e->md->c;
    const size_t H = (size_t)c->n_heads, d = (size_t)c->dim, hs = (size_t)c->head_size, cnt = H * m * hs;
    const float *w = e->w + (size_t)l * 3 * H * d * hs;
    proj_shape ps = {m, d, H, H, hs};
    /* q, k, v reused: the substituted output is already in e->out */
    mha_project(&ps, xb, w, w + H * d * hs, w + 2 * H * d * hs, e->q, e->k, e->v, NULL);
    llama_rope_heads(c, e->q, H, m, 0);
    llama_rope_heads(c, e->k, H, m, 0);
    for (size_t i = 0; i < cnt; i++) { e->dq[i] = e->q[i]; e->dk[i] = e->k[i]; e->dv[i] = e->v[i]; }
    attn_shape as = {H, H, m, hs, 1};
    workspace ws;
    ws_init(&ws, 0);
    int rc = reference_attention(&as, e->dq, e->dk, e->dv, NULL, m, NULL, e->dref, NULL, NULL, &ws);
    if (rc) { snprintf(e->err, sizeof e->err, "layer %d: reference: %s", l, attn_strerror(rc)); return -1; }
    double num = 0, den = 0;
    for (size_t i = 0; i < cnt; i++) {
        double diff = (double)e->out[i] - e->dref[i];
        num += diff * diff;
        den += e->dref[i] * e->dref[i];
    }
    e->err_num[l] += num;
    e->err_den[l] += den;
    return 0;
}

static void eval_decode_config(const eval_sub *e, int l, size_t n, decode_config *c) {
    const llama_config *mc = &e->md->c;
    decode_config_of(c, e->op, NULL, (size_t)mc->n_heads, e->kv, (size_t)mc->head_size, n, &e->knobs[l]);
    c->fmt = e->fmt;
    c->kvp = e->kvp;
}

int eval_format_ok(const eval_sub *e, int l, size_t n, char *why, size_t cap) {
    decode_config c;
    eval_decode_config(e, l, n, &c);
    return decode_format_ok(&c, why, cap);
}

double eval_bits_per_value(const eval_sub *e, int l, size_t n) {
    decode_config c;
    eval_decode_config(e, l, n, &c);
    return decode_bits_per_value(&c);
}

/* (heads, m, hs) -> (m, heads, hs) at t */
static void to_tokens(const float *a, size_t heads, size_t m, size_t hs, float *t) {
    for (size_t h = 0; h < heads; h++)
        for (size_t i = 0; i < m; i++) memcpy(t + (i * heads + h) * hs, a + (h * m + i) * hs, hs * sizeof(float));
}

/* e->out <- the operator's decode of e->q, e->k, e->v (m tokens, roped), one
 * token a step, its cache in e->fmt; 0 or -1 with e->err */
static int decode_layer(eval_sub *e, int l, size_t m, const attn_knobs *kn) {
    const llama_config *mc = &e->md->c;
    const size_t H = (size_t)mc->n_heads, hs = (size_t)mc->head_size, kv = e->kv;
    decode_config c;
    eval_decode_config(e, l, m, &c);
    c.kn = *kn;
    float *tq = e->tok, *tk = tq + m * H * hs, *tv = tk + m * H * hs, *to = tv + m * H * hs;
    to_tokens(e->q, H, m, hs, tq);
    to_tokens(e->k, kv, m, hs, tk);
    to_tokens(e->v, kv, m, hs, tv);
    workspace mws, sws;
    ws_init(&mws, 0);
    ws_init(&sws, 0);
    decode_ctx d;
    decode_seq sq;
    int rc = decode_init(&d, &c, &mws);
    if (!rc) {
        rc = decode_seq_init(&d, &sq, &sws);
        for (size_t t = 0; t < m && !rc; t++)
            rc = decode_step(&d, &sq, 1, tq + t * H * hs, H * hs, tk + t * kv * hs, tv + t * kv * hs, kv * hs, to + t * H * hs);
        decode_seq_free(&sq, &sws);
        decode_free(&d, &mws);
    }
    if (rc) {
        snprintf(e->err, sizeof e->err, "layer %d: decode %s (--kv-format %s): %s", l, e->op->name, e->fmt->name, attn_strerror(rc));
        return -1;
    }
    for (size_t t = 0; t < m; t++)
        for (size_t h = 0; h < H; h++) memcpy(e->out + (h * m + t) * hs, to + (t * H + h) * hs, hs * sizeof(float));
    return 0;
}

/* llama_override.attention: see the top of the file */
static int substituted_attention(void *ctx, int l, const float *xb, size_t pos, size_t m, float *att) {
    eval_sub *e = ctx;
    if (!e->op || !e->sub[l]) return 0;
    const llama_config *c = &e->md->c;
    const size_t H = (size_t)c->n_heads, d = (size_t)c->dim, hs = (size_t)c->head_size;
    if (pos != 0 || m > e->max_n) {
        snprintf(e->err, sizeof e->err, "a substituted layer runs whole sequences of at most %zu tokens (got %zu at %zu)",
                 e->max_n, m, pos);
        return -1;
    }
    const float *w = e->w + (size_t)l * 3 * H * d * hs;
    proj_shape ps = {m, d, H, e->kv, hs};
    workspace ws;
    ws_init(&ws, 0);
    int rc = e->ps->project(&ps, xb, w, w + H * d * hs, w + 2 * H * d * hs, e->q, e->k, e->v, &ws);
    if (rc) { snprintf(e->err, sizeof e->err, "layer %d: projection %s: %s", l, e->ps->name, attn_strerror(rc)); return -1; }
    llama_rope_heads(c, e->q, H, m, 0);
    llama_rope_heads(c, e->k, e->kv, m, 0);
    attn_shape as = {H, e->kv, m, hs, 1};
    ws_init(&ws, 0);
    attn_knobs kn = e->knobs[l];
    if (kn.k > m) kn.k = m; /* a prefix shorter than k (generation): every key, as causal rows do */
    if (e->fmt) {
        if (decode_layer(e, l, m, &kn)) return -1;
    } else {
        rc = e->op->forward(&as, &kn, e->q, e->k, e->v, e->out, &ws);
    }
    if (rc) { snprintf(e->err, sizeof e->err, "layer %d: %s: %s", l, e->op->name, attn_strerror(rc)); return -1; }
    for (size_t h = 0; h < H; h++)
        for (size_t t = 0; t < m; t++) memcpy(att + t * d + h * hs, e->out + (h * m + t) * hs, hs * sizeof(float));
    if (e->measure_err) {
        double t0 = now_seconds();
        rc = reference_error(e, l, xb, m);
        e->ref_seconds += now_seconds() - t0;
        if (rc) return -1;
    }
    return 1;
}

/* llama_override.ffn: per token, the ffn_k gated units of largest magnitude
 * are kept, the others zeroed (h: (m, hidden)) */
static int substituted_ffn(void *ctx, int l, float *h, size_t m) {
    eval_sub *e = ctx;
    if (!e->ffn_k || !e->sub[l]) return 0;
    const size_t hid = (size_t)e->md->c.hidden_dim;
    if (e->ffn_k >= hid) return 0;
    for (size_t r = 0; r < m; r++) {
        float *hr = h + r * hid;
        for (size_t i = 0; i < hid; i++) { e->habs[i] = fabsf(hr[i]); e->hkeep[i] = 0; }
        size_t got = topk_select_row(e->habs, hid, e->ffn_k, e->hscratch, e->hidx);
        for (size_t i = 0; i < got; i++) e->hkeep[e->hidx[i]] = 1;
        for (size_t i = 0; i < hid; i++) if (!e->hkeep[i]) hr[i] = 0.0f;
    }
    return 0;
}

static llama_override override_of(eval_sub *e) {
    llama_override ov = {substituted_attention, substituted_ffn, e};
    return ov;
}

int eval_layer_config(const eval_sub *e, int l, size_t n, decode_config *c) {
    const llama_config *mc = &e->md->c;
    if (decode_config_of(c, e->op, e->ps, (size_t)mc->n_heads, e->kv, (size_t)mc->head_size, n, &e->knobs[l])) return -1;
    c->fmt = e->fmt;
    c->kvp = e->kvp;
    return 0;
}

size_t eval_ref_bytes(const eval_sub *e, size_t n) {
    const llama_config *c = &e->md->c;
    const decode_config dc = {.op = &decode_exact, .heads = (size_t)c->n_heads, .kv_heads = (size_t)c->n_kv_heads,
                              .d_head = (size_t)c->head_size, .max_len = n, .batch = 1};
    return decode_cache_bytes(&dc);
}

/* decode's formula (kernels/decode.h) per layer: the checkpoint's own K/V
 * under exact attention where not substituted (eval_ref_bytes); where
 * substituted, the operator's decode entry under the scheme. 0 if an
 * operator does not decode (attn_method.decode NULL): no cache to count */
size_t eval_cache_bytes(const eval_sub *e, size_t n) {
    size_t total = 0;
    for (int l = 0; l < e->md->c.n_layers; l++) {
        decode_config dc;
        if (e->op && e->sub[l] && eval_layer_config(e, l, n, &dc)) return 0;
        total = size_add_sat(total, e->op && e->sub[l] ? decode_cache_bytes(&dc) : eval_ref_bytes(e, n));
    }
    return total;
}

size_t eval_budget(const eval_sub *e, size_t n) {
    const llama_config *c = &e->md->c;
    size_t least = SIZE_MAX;
    for (int l = 0; l < c->n_layers && e->op; l++) {
        if (!e->sub[l]) continue;
        decode_config dc;
        size_t b = SIZE_MAX;
        const int dec = !decode_config_of(&dc, e->op, e->ps, (size_t)c->n_heads, e->kv, (size_t)c->head_size, n,
                                          &e->knobs[l]);
        if (e->op->knobs & KNOB_BUDGET) b = e->knobs[l].budget;
        else if (dec && dc.op->slots && dc.op->slots(&dc) < n) b = dc.op->slots(&dc);
        if (b == SIZE_MAX) return SIZE_MAX;
        if (b < least) least = b;
    }
    return least;
}

/* ---- the exact pass ---------------------------------------------------------- */

int eval_exact_run(const llama_model *md, eval_exact *ex, const int *tokens, size_t N, size_t n,
                   char *err, size_t errlen) {
    const size_t d = (size_t)md->c.dim;
    memset(ex, 0, sizeof *ex);
    int bad = 0;
    ex->x = alloc_count(N, n, d, sizeof(float), &bad);
    double *times = alloc_count(N, 1, 1, sizeof(double), &bad);
    llama_state s;
    if (bad || llama_state_init(&s, &md->c, n, n, 0, err, errlen)) {
        free(ex->x); free(times); ex->x = NULL;
        if (bad) snprintf(err, errlen, "out of memory for the exact model's hidden states of %zu sequences", N);
        return -1;
    }
    for (size_t i = 0; i < N; i++) {
        double t0 = now_seconds();
        llama_forward(md, &s, tokens + i * n, 0, n);
        times[i] = now_seconds() - t0;
        memcpy(ex->x + i * n * d, s.x, n * d * sizeof(float));
        char why[400];
        if (llama_state_finite(&md->c, &s, n, why, sizeof why)) { /* every verdict would compare against NaN */
            snprintf(err, errlen, "sequence %zu: %s (the exact model's own forward)", i, why);
            llama_state_free(&s);
            free(ex->x); free(times); ex->x = NULL;
            return 2;
        }
    }
    llama_state_free(&s);
    ex->N = N;
    ex->n = n;
    ex->tokens = tokens;
    for (size_t i = 1; i < N; i++) /* median: insertion sort of a few values */
        for (size_t j = i; j > 0 && times[j] < times[j - 1]; j--) { double t = times[j]; times[j] = times[j - 1]; times[j - 1] = t; }
    ex->exact_seconds = N % 2 ? times[N / 2] : (times[N / 2 - 1] + times[N / 2]) / 2;
    free(times);
    return 0;
}

void eval_exact_free(eval_exact *ex) {
    free(ex->x);
    ex->x = NULL;
}

/* ---- figures ------------------------------------------------------------------ */


/* over positions 0..n-2 of one sequence: sums of the exact and the
 * substituted NLL of the next token, KL(exact || substituted), top-1
 * matches, the squared change of the next token's probability; kls (n-1):
 * each position's KL; beyond: the NLL difference over positions from on */
typedef struct { double nll_exact, nll, kl, top1, dp2, beyond; } seq_sums;

static int compare_sequence(const llama_model *md, const float *xe, const float *xa, const int *tokens, size_t n,
                            size_t from, seq_sums *r, double *kls) {
    const size_t V = (size_t)md->c.vocab_size, d = (size_t)md->c.dim;
    float *le = malloc(LOGIT_BLOCK * V * sizeof(float)), *la = malloc(LOGIT_BLOCK * V * sizeof(float));
    double *pe = malloc(V * sizeof(double)), *pa = malloc(V * sizeof(double));
    if (!le || !la || !pe || !pa) { free(le); free(la); free(pe); free(pa); return -1; }
    memset(r, 0, sizeof *r);
    for (size_t t0 = 0; t0 + 1 < n; t0 += LOGIT_BLOCK) {
        size_t rows = n - 1 - t0 < LOGIT_BLOCK ? n - 1 - t0 : LOGIT_BLOCK;
        llama_logits(md, xe + t0 * d, rows, le);
        llama_logits(md, xa + t0 * d, rows, la);
        for (size_t i = 0; i < rows; i++) {
            size_t be = llama_log_softmax(le + i * V, V, pe), ba = llama_log_softmax(la + i * V, V, pa);
            int next = tokens[t0 + i + 1];
            r->nll_exact -= pe[next];
            r->nll -= pa[next];
            if (t0 + i >= from) r->beyond += pe[next] - pa[next];
            double kl = 0;
            for (size_t j = 0; j < V; j++) kl += exp(pe[j]) * (pe[j] - pa[j]);
            kl = kl < 0 ? 0 : kl; /* rounding can leave a tiny negative; a NaN stays, for the row's check */
            r->kl += kl;
            kls[t0 + i] = kl;
            const double dp = exp(pa[next]) - exp(pe[next]);
            r->dp2 += dp * dp;
            r->top1 += be == ba;
        }
    }
    free(le); free(la); free(pe); free(pa);
    return 0;
}

static double median_of(double *a, size_t N) {
    for (size_t i = 1; i < N; i++)
        for (size_t j = i; j > 0 && a[j] < a[j - 1]; j--) { double t = a[j]; a[j] = a[j - 1]; a[j - 1] = t; }
    return N % 2 ? a[N / 2] : (a[N / 2 - 1] + a[N / 2]) / 2;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* the nearest-rank p-th percentile of sorted a (P values): a[ceil(p P / 100) - 1] */
static double nearest_rank(const double *a, size_t P, double p) {
    size_t r = (size_t)ceil(p / 100 * (double)P);
    return a[r < 1 ? 0 : r > P ? P - 1 : r - 1];
}

/* the standard error of the mean of x (N values), NAN for one */
static double std_err(const double *x, size_t N) {
    double mean = 0, var = 0;
    for (size_t i = 0; i < N; i++) mean += x[i];
    mean /= (double)N;
    for (size_t i = 0; i < N; i++) var += (x[i] - mean) * (x[i] - mean);
    return N > 1 ? sqrt(var / (double)(N - 1) / (double)N) : NAN;
}

/* kl_se, the percentiles, kl_max and dp_rms of st from the positions' KL
 * kls (P, sorted here), the sequences' mean KL seq_kl (N), the summed
 * squared probability change */
static void kl_spread(eval_stats *st, double *kls, size_t P, const double *seq_kl, size_t N, double dp2) {
    st->kl_se = std_err(seq_kl, N);
    qsort(kls, P, sizeof(double), cmp_double);
    st->kl_p50 = nearest_rank(kls, P, 50);
    st->kl_p90 = nearest_rank(kls, P, 90);
    st->kl_p99 = nearest_rank(kls, P, 99);
    st->kl_max = kls[P - 1];
    st->dp_rms = sqrt(dp2 / (double)P);
}

int eval_measure(eval_sub *e, const eval_exact *ex, eval_stats *st, char *err, size_t errlen) {
    const llama_model *md = e->md;
    const size_t N = ex->N, n = ex->n, d = (size_t)md->c.dim, L = (size_t)md->c.n_layers;
    memset(st, 0, sizeof *st);
    llama_state s;
    if (llama_state_init(&s, &md->c, n, n, 0, err, errlen)) return -1;
    double *dn = malloc(N * sizeof(double)), *times = malloc(N * sizeof(double));
    double *kls = malloc(N * (n - 1) * sizeof(double)), *seq_kl = malloc(N * sizeof(double));
    const size_t from = e->beyond; /* positions from .. n-2, if any, for dnll_beyond */
    const int has_beyond = from < n - 1;
    st->layer_rel_err = malloc(L * sizeof(double));
    if (!dn || !times || !kls || !seq_kl || !st->layer_rel_err) {
        free(dn); free(times); free(kls); free(seq_kl); free(st->layer_rel_err); st->layer_rel_err = NULL; llama_state_free(&s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t l = 0; l < L; l++) e->err_num[l] = e->err_den[l] = 0;
    llama_override ov = override_of(e);
    double sum_e = 0, sum_a = 0, kl = 0, top1 = 0, dp2 = 0, beyond = 0;
    int rc = 0;
    for (size_t i = 0; i < N && !rc; i++) {
        const int *tok = ex->tokens + i * n;
        e->ref_seconds = 0;
        double t0 = now_seconds();
        if (llama_forward_with(md, &s, tok, 0, n, &ov)) { snprintf(err, errlen, "%s", e->err); rc = -1; break; }
        times[i] = now_seconds() - t0 - e->ref_seconds;
        seq_sums r;
        if (compare_sequence(md, ex->x + i * n * d, s.x, tok, n, from, &r, kls + i * (n - 1))) {
            snprintf(err, errlen, "out of memory for the logits");
            rc = -1;
            break;
        }
        sum_e += r.nll_exact; sum_a += r.nll; kl += r.kl; top1 += r.top1; dp2 += r.dp2;
        seq_kl[i] = r.kl / (double)(n - 1);
        if (has_beyond) beyond += r.beyond / (double)(n - 1 - from);
        dn[i] = (r.nll - r.nll_exact) / (double)(n - 1);
    }
    if (!rc) {
        double P = (double)(N * (n - 1)), mean = 0;
        for (size_t i = 0; i < N; i++) mean += dn[i];
        st->nll = sum_a / P;
        st->nll_exact = sum_e / P;
        st->dnll = mean / (double)N;
        st->dnll_se = std_err(dn, N);
        st->dnll_beyond = has_beyond ? beyond / (double)N : NAN;
        st->kl = kl / P;
        st->top1 = top1 / P;
        kl_spread(st, kls, N * (n - 1), seq_kl, N, dp2);
        st->time_median_s = median_of(times, N);
        for (size_t l = 0; l < L; l++)
            st->layer_rel_err[l] = e->op && e->sub[l] && e->measure_err && e->err_den[l] > 0
                                       ? sqrt(e->err_num[l] / e->err_den[l]) : NAN;
    } else {
        free(st->layer_rel_err);
        st->layer_rel_err = NULL;
    }
    free(dn); free(times); free(kls); free(seq_kl);
    llama_state_free(&s);
    return rc;
}

/* ---- generation ------------------------------------------------------------------ */

static int argmax_last(const llama_model *md, const float *x_row, float *logits) {
    llama_logits(md, x_row, 1, logits);
    int best = 0;
    for (int j = 1; j < md->c.vocab_size; j++) if (logits[j] > logits[best]) best = j;
    return best;
}

/* Both continuations of prompt tok[0..P): exact through the K/V cache one
 * step at a time, substituted by running the whole prefix again per token
 * (the substituted layers hold no cache). Reason for the length: the two
 * loops share their buffers and bookkeeping. */
int eval_generate(eval_sub *e, const int *tokens, size_t N, size_t n, size_t G, double *first_diff,
                  double *match, char *err, size_t errlen) {
    const llama_model *md = e->md;
    const size_t P = n - G, d = (size_t)md->c.dim;
    llama_state s;
    if (llama_state_init(&s, &md->c, n, n, 0, err, errlen)) return -1;
    int *ge = malloc(n * sizeof(int)), *ga = malloc(n * sizeof(int));
    float *logits = malloc((size_t)md->c.vocab_size * sizeof(float));
    double *firsts = malloc(N * sizeof(double));
    if (!ge || !ga || !logits || !firsts) {
        free(ge); free(ga); free(logits); free(firsts); llama_state_free(&s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int saved = e->measure_err, rc = 0, any = 0;
    e->measure_err = 0;
    llama_override ov = override_of(e);
    size_t same = 0;
    for (size_t i = 0; i < N && !rc; i++) {
        memcpy(ge, tokens + i * n, P * sizeof(int));
        memcpy(ga, tokens + i * n, P * sizeof(int));
        llama_forward(md, &s, ge, 0, P);
        for (size_t g = 0; g < G; g++) {
            ge[P + g] = argmax_last(md, s.x + (g ? 0 : (P - 1) * d), logits);
            if (g + 1 < G) llama_forward(md, &s, ge + P + g, P + g, 1);
        }
        for (size_t g = 0; g < G; g++) {
            if (llama_forward_with(md, &s, ga, 0, P + g, &ov)) { snprintf(err, errlen, "%s", e->err); rc = -1; break; }
            ga[P + g] = argmax_last(md, s.x + (P + g - 1) * d, logits);
        }
        firsts[i] = (double)G;
        for (size_t g = G; g-- > 0;) if (ge[P + g] != ga[P + g]) firsts[i] = (double)g;
        for (size_t g = 0; g < G; g++) same += ge[P + g] == ga[P + g];
        if (firsts[i] < (double)G) any = 1;
    }
    e->measure_err = saved;
    if (!rc) {
        *first_diff = any ? median_of(firsts, N) : -1;
        *match = (double)same / (double)(N * G);
    }
    free(ge); free(ga); free(logits); free(firsts);
    llama_state_free(&s);
    return rc;
}
