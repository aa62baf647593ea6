/* methods.c — the two tables the program dispatches through.
 * Adding a method: write kernels/NAME.c, declare it in methods.h, add one line here. */
#include "methods.h"

#include <string.h>

const attn_method attn_methods[] = {
    /* name        summary                                                      knobs                   forward            flops              workspace_bytes    exact_limit  exact_tol */
    {"vanilla", "exact; materialises the (heads, n, n) scores", 0, vanilla_forward, exact_flops, vanilla_workspace, exact_as_is, 1e-6},
    {"chunked", "exact; query x key blocks, online softmax, linear memory", KNOB_CHUNK, chunked_forward, exact_flops, chunked_workspace, exact_as_is, 1e-6},
    {"topk", "per query the k largest scores only; queries in chunks, linear memory", KNOB_K | KNOB_CHUNK, topk_forward, topk_flops, topk_workspace, topk_exact_limit, 1e-6},
    {"performer", "FAVOR+; M positive orthogonal random features, linear memory", KNOB_FEATURES, performer_forward, performer_flops, performer_workspace, exact_none, 0},
    {"window", "attention sinks + sliding window: the first sink keys and the window nearest; linear memory", KNOB_SINK | KNOB_WINDOW, window_forward, window_flops, window_workspace, window_exact_limit, 1e-6},
    {NULL, NULL, 0, NULL, NULL, NULL, NULL, 0},
};

const proj_scheme proj_schemes[] = {
    {"mha", "one Q, K, V projection per head", mha_project, mha_kv_heads, mha_params, proj_exact_as_is, 0},
    {"mqa", "one K, V head shared by all query heads (mean of the MHA K, V)", gqa_project, mqa_kv_heads, gqa_params, proj_exact_none, 0},
    {"gqa", "--kv-heads G K, V heads, each the mean of its group's MHA K, V", gqa_project, gqa_kv_heads, gqa_params, proj_exact_all_heads, 0},
    {"mhe-add", "shared Q, K, V projection plus a head embedding added per head", mhe_add_project, mhe_kv_heads, mhe_params, proj_exact_none, 0},
    {"mhe-mul", "shared Q, K, V projection times a head embedding per head", mhe_mul_project, mhe_kv_heads, mhe_params, proj_exact_none, 0},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0},
};

int exact_as_is(const attn_shape *s, attn_knobs *kn) { (void)s; (void)kn; return 1; }
int exact_none(const attn_shape *s, attn_knobs *kn) { (void)s; (void)kn; return 0; }
int topk_exact_limit(const attn_shape *s, attn_knobs *kn) { kn->k = s->n; return 1; }
int proj_exact_as_is(size_t heads, size_t *kv_heads_opt) { (void)heads; *kv_heads_opt = 0; return 1; }
int proj_exact_all_heads(size_t heads, size_t *kv_heads_opt) { *kv_heads_opt = heads; return 1; }
int proj_exact_none(size_t heads, size_t *kv_heads_opt) { (void)heads; (void)kv_heads_opt; return 0; }

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
