/* methods.c — the two tables the program dispatches through, in every
 * regime: prefill (the kernel and its formulas), decode (the entry's
 * attn_decode, kernels/decode.h), training (backward: none yet).
 * Adding a method: write kernels/NAME.c (and kernels/decode_NAME.c for its
 * decode entry), declare it in methods.h (decode.h), add one line here. */
#include "decode.h"
#include "methods.h"

#include <stdio.h>
#include <string.h>

/* An operator kept outside the tree (tests/e2e_extra_method.sh builds one):
 * a header that declares its entries and defines ATTN_EXTRA_ENTRY, its table
 * line, compiled in with -DATTN_EXTRA_METHOD='"/path/NAME.h"' and its source
 * in EXTRA_SRCS (Makefile). */
#ifdef ATTN_EXTRA_METHOD
#include ATTN_EXTRA_METHOD
#endif

/* One line per method: name, summary, the KNOB_* it reads, its knob rules
 * (defaults and checks: the program knows no method's defaults), the
 * statistic its reference reports (ATTN_MASS_*, and the hook for KEPT), the
 * kernel, its flops and workspace formulas, its exact limit, its flags
 * (attention.h: what the analysis asks of it instead of its name), its
 * decode entry (NULL: none), its backward (NULL: none). */
const attn_method attn_methods[] = {
    /* name  summary  knobs  resolve  mass  kept_mass  forward  flops  workspace_bytes  exact_limit  exact_tol  flags  decode  backward */
    {"vanilla", "exact; materialises the (heads, n, n) scores", 0, resolve_none, ATTN_MASS_NONE, NULL, vanilla_forward, exact_flops, vanilla_workspace, exact_as_is, 1e-6, ATTN_EXACT | ATTN_BASELINE, &decode_exact, NULL},
    {"chunked", "exact; query x key blocks, online softmax, linear memory", KNOB_CHUNK, chunked_resolve, ATTN_MASS_NONE, NULL, chunked_forward, exact_flops, chunked_workspace, exact_as_is, 1e-6, ATTN_EXACT, &decode_exact, NULL},
    {"topk", "per query the k largest scores only; queries in chunks, linear memory", KNOB_K | KNOB_CHUNK, topk_resolve, ATTN_MASS_LARGEST, NULL, topk_forward, topk_flops, topk_workspace, topk_exact_limit, 1e-6, 0, &decode_topk, NULL},
    {"performer", "FAVOR+; M positive orthogonal random features, linear memory", KNOB_FEATURES, performer_resolve, ATTN_MASS_NONE, NULL, performer_forward, performer_flops, performer_workspace, exact_none, 0, 0, &decode_performer, NULL},
    {"window", "attention sinks + sliding window: the first sink keys and the window nearest; linear memory", KNOB_SINK | KNOB_WINDOW, window_resolve, ATTN_MASS_KEPT, window_kept_mass, window_forward, window_flops, window_workspace, window_exact_limit, 1e-6, 0, &decode_window, NULL},
    {"h2o", "H2O eviction: --budget keys per K/V head, the --recent newest and the most attended; causal", KNOB_BUDGET | KNOB_RECENT, h2o_resolve, ATTN_MASS_NONE, NULL, h2o_forward, h2o_flops, h2o_workspace, h2o_exact_limit, 1e-6, ATTN_CAUSAL_ONLY, &decode_h2o, NULL},
    {"tova", "TOVA eviction: --budget keys per K/V head; the one the current query attends to least goes; causal", KNOB_BUDGET, tova_resolve, ATTN_MASS_NONE, NULL, tova_forward, tova_flops, tova_workspace, tova_exact_limit, 1e-6, ATTN_CAUSAL_ONLY, &decode_tova, NULL},
    {"snapkv", "SnapKV: the --prompt compressed at its end to --budget keys per K/V head by its last --obs-window queries (pooled over --pool keys); causal", KNOB_BUDGET | KNOB_OBS_WINDOW | KNOB_POOL | KNOB_PROMPT, snapkv_resolve, ATTN_MASS_NONE, NULL, snapkv_forward, snapkv_flops, snapkv_workspace, snapkv_exact_limit, 1e-6, ATTN_CAUSAL_ONLY, &decode_snapkv, NULL},
#ifdef ATTN_EXTRA_ENTRY
    ATTN_EXTRA_ENTRY,
#endif
    {NULL, NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const proj_scheme proj_schemes[] = {
    {"mha", "one Q, K, V projection per head", 0, mha_project, mha_kv_heads, mha_params, proj_exact_as_is, 0, PROJ_REFERENCE, mha_decode_weights, NULL},
    {"mqa", "one K, V head shared by all query heads (mean of the MHA K, V)", 0, gqa_project, mqa_kv_heads, gqa_params, proj_exact_none, 0, 0, gqa_decode_weights, NULL},
    {"gqa", "--kv-heads G K, V heads, each the mean of its group's MHA K, V", KNOB_KV_HEADS, gqa_project, gqa_kv_heads, gqa_params, proj_exact_all_heads, 0, 0, gqa_decode_weights, NULL},
    {"mhe-add", "shared Q, K, V projection plus a head embedding added per head", 0, mhe_add_project, mhe_kv_heads, mhe_params, proj_exact_none, 0, 0, mhe_add_decode_weights, &mhe_add_embed},
    {"mhe-mul", "shared Q, K, V projection times a head embedding per head", 0, mhe_mul_project, mhe_kv_heads, mhe_params, proj_exact_none, 0, 0, mhe_mul_decode_weights, &mhe_mul_embed},
    {NULL, NULL, 0, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

/* the feed-forward layer's variants (`attnbench ffn --attention NAME`) */
const ffn_method ffn_methods[] = {
    {"topk", "per row the k largest pre-activations, their ReLU, the k matching rows of W2", KNOB_K | KNOB_CHUNK, ffn_topk_resolve, ATTN_MASS_LARGEST, ffn_topk_call, ffn_topk_flops_kn, ffn_topk_workspace_kn, 0},
    {"exact", "ReLU(X W1) W2, rows in chunks", KNOB_CHUNK, ffn_exact_resolve, ATTN_MASS_NONE, ffn_exact_call, ffn_exact_flops_kn, ffn_exact_workspace_kn, ATTN_EXACT},
    {NULL, NULL, 0, NULL, 0, NULL, NULL, NULL, 0},
};

int exact_as_is(const attn_shape *s, attn_knobs *kn) { (void)s; (void)kn; return 1; }
int exact_none(const attn_shape *s, attn_knobs *kn) { (void)s; (void)kn; return 0; }
int topk_exact_limit(const attn_shape *s, attn_knobs *kn) { kn->k = s->n; return 1; }
int proj_exact_as_is(size_t heads, size_t *kv_heads_opt) { (void)heads; *kv_heads_opt = 0; return 1; }
int proj_exact_all_heads(size_t heads, size_t *kv_heads_opt) { *kv_heads_opt = heads; return 1; }
int proj_exact_none(size_t heads, size_t *kv_heads_opt) { (void)heads; (void)kv_heads_opt; return 0; }

/* ---- the ffn table's adapters ---------------------------------------------- */

int ffn_topk_call(const ffn_shape *s, const attn_knobs *kn, const float *x, const float *w1,
                  const float *w2, float *out, workspace *ws) {
    return ffn_topk_forward(s, kn->k, kn->chunk, x, w1, w2, out, ws);
}
int ffn_exact_call(const ffn_shape *s, const attn_knobs *kn, const float *x, const float *w1,
                   const float *w2, float *out, workspace *ws) {
    return ffn_exact_forward(s, kn->chunk, x, w1, w2, out, ws);
}
double ffn_topk_flops_kn(const ffn_shape *s, const attn_knobs *kn) { return ffn_topk_flops(s, kn->k); }
double ffn_exact_flops_kn(const ffn_shape *s, const attn_knobs *kn) { (void)kn; return ffn_exact_flops(s); }
size_t ffn_topk_workspace_kn(const ffn_shape *s, const attn_knobs *kn) { return ffn_topk_workspace(s, kn->k, kn->chunk); }
size_t ffn_exact_workspace_kn(const ffn_shape *s, const attn_knobs *kn) { return ffn_exact_workspace(s, kn->chunk); }

const ffn_method *ffn_method_find(const char *name) {
    for (const ffn_method *m = ffn_methods; m->name; m++)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}

double exact_flops(const attn_shape *s, const attn_knobs *kn) {
    (void)kn;
    double f = 4.0 * (double)s->heads * (double)s->n * (double)s->n * (double)s->d_head;
    return s->causal ? f / 2 : f;
}

const attn_method *attn_method_find(const char *name) {
    for (const attn_method *m = attn_methods; m->name; m++)
        if (strcmp(m->name, name) == 0)
            return m;
    return NULL;
}

const attn_method *attn_decode_find(const char *name) {
    for (const attn_method *m = attn_methods; m->name; m++)
        if (m->decode && (strcmp(m->name, name) == 0 || strcmp(m->decode->name, name) == 0))
            return m;
    return NULL;
}

void attn_decode_names(char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    for (const attn_method *m = attn_methods; m->name && len < cap; m++) {
        if (!m->decode) continue;
        const attn_method *first = attn_decode_find(m->decode->name);
        if (first == m && strcmp(m->name, m->decode->name) != 0) /* the decode name, then the method's */
            len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", m->decode->name);
        if (len < cap) len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", m->name);
    }
}

const proj_scheme *proj_scheme_find(const char *name) {
    for (const proj_scheme *p = proj_schemes; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

const char *attn_strerror(int code) {
    switch (code) {
    case ATTN_OK: return "ok";
    case ATTN_ENOMEM: return "out of memory for the kernel's workspace";
    case ATTN_EINVAL: return "shape or knobs the kernel cannot handle";
    default: return "unknown error";
    }
}
