/* sweep_plan.c — the sweep's planner: what one point needs (options, memory,
 * weight) and the row that stands for it when its child gives none. */
#include "sweep_plan.h"
#include "decode_cmd.h"
#include "eval.h"
#include "methods.h"
#include "point_id.h"
#include "knobs.h"
#include "memlimit.h"

#include <sys/stat.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

static double ffn_weight(const run_options *o, size_t d_model, size_t d_ff) {
    double calls = (double)o->warmup + (o->reps ? (double)o->reps : 3.0);
    double f = 4.0 * (double)o->n * (double)d_model * (double)d_ff;
    return calls * f + 1e9;
}

/* The least memory of a decode or eval point (a lower bound, so no point
 * that could fit is skipped). decode: the inputs (x per sequence, the MHA
 * weights), the float64 reference of one sequence and B caches (the
 * operator's decode entry: decode_cache_bytes; 0 where the knobs or names
 * are the child's to refuse); eval: the checkpoint as loaded. */
static void plan_model_memory(const run_options *o, opts_kind kind, size_t *floats, size_t *doubles) {
    *floats = *doubles = 0;
    if (kind == OPTS_EVAL) {
        struct stat st;
        if (o->llama2c && stat(o->llama2c, &st) == 0 && st.st_size > 0) *floats = (size_t)st.st_size;
        return;
    }
    const size_t n = size_add_sat(o->context, o->steps), B = o->batch ? o->batch : 1;
    const size_t d_model = o->d_model ? o->d_model : size_mul_sat(o->heads, o->d_head);
    const proj_scheme *ps = proj_scheme_find(o->projection);
    size_t kv = ps ? ps->kv_heads_for(o->heads, o->kv_heads) : 1;
    if (!kv || kv > o->heads) kv = 1;
    size_t x = size_mul_sat(B, size_mul_sat(n, d_model));
    size_t w = size_mul_sat(3, size_mul_sat(o->heads, size_mul_sat(d_model, o->d_head)));
    size_t cache = 0;
    attn_knobs kn;
    knobs_fill(o, &kn);
    decode_config c;
    if (ps && decode_config_of(&c, attn_decode_find(o->attention), ps, o->heads, kv, o->d_head, n, &kn) == ATTN_OK)
        cache = size_mul_sat(B, decode_cache_bytes(&c));
    *floats = size_add_sat(size_mul_sat(4, size_add_sat(x, w)), cache);
    *doubles = size_mul_sat(8, size_mul_sat(4, size_mul_sat(o->heads, size_mul_sat(n, o->d_head))));
}

/* an ffn point's tensors and workspace (the variant's formula at its
 * resolved knobs); -1 (skipped) for a variant not in this build */
static int plan_ffn(const run_options *o, size_t rows, size_t *floats, size_t *doubles, size_t *ws, plan *pl) {
    const ffn_method *fm = ffn_method_find(o->attention);
    if (!fm) {
        pl->skip = "skipped";
        snprintf(pl->why, sizeof pl->why, "unknown method: ffn attention '%s' is not in this build", o->attention);
        return -1;
    }
    size_t d_model = o->d_model ? o->d_model : 768;
    size_t d_ff = o->d_ff ? o->d_ff : size_mul_sat(4, d_model);
    ffn_shape fs = {o->n, d_model, d_ff};
    size_t xs = size_mul_sat(o->n, d_model), w = size_mul_sat(d_model, d_ff);
    *floats = size_mul_sat(4, size_add_sat(size_mul_sat(2, xs), size_mul_sat(2, w)));
    *doubles = size_mul_sat(8, size_add_sat(size_add_sat(xs, size_mul_sat(2, w)), size_mul_sat(rows, d_model)));
    attn_knobs kn;
    knobs_fill(o, &kn);
    *ws = fm->resolve(&fs, &kn, NULL, 0) ? 0 : fm->workspace_bytes(&fs, &kn);
    pl->weight = ffn_weight(o, d_model, d_ff);
    return 0;
}

/* The point's options, whether it can run here, and how long it may take.
 * Memory: the runtime (see runtime_bytes), the tensors (x, the MHA weights,
 * q, k, v, out in float) and the larger of the kernel's workspace formula and
 * the float64 reference's q, k, v, out — a lower bound of the child's peak,
 * so no point that could fit is skipped. */
void plan_point(const sweep_point *p, size_t mem_limit, size_t runtime, plan *pl) {
    memset(pl, 0, sizeof *pl);
    pl->pt = p;
    opts_kind kind = (opts_kind)p->command;
    if (kind == OPTS_DECODE) decode_options_defaults(&pl->o);
    else options_defaults(&pl->o, kind);
    char *args[512], err[512];
    int argc = 0;
    args[argc++] = (char *)spec_command_name(p->command);
    for (int i = 0; i < p->argc && argc < 511; i++) args[argc++] = p->argv[i];
    args[argc] = NULL;
    /* spec values are checked already; a refusal here is for the child to report */
    int prc = options_read(&pl->o, kind, argc, args, err, sizeof err);
    const run_options *o = &pl->o;
    if (prc) { pl->weight = 1e9; return; }

    size_t floats = 0, doubles = 0, ws = 0;
    size_t rows = o->ref_rows && o->ref_rows < o->n ? o->ref_rows : o->n;
    if (kind == OPTS_EVAL || kind == OPTS_DECODE) {
        plan_model_memory(o, kind, &floats, &doubles);
        pl->weight = 1e10;
    } else if (kind == OPTS_FFN) {
        if (plan_ffn(o, rows, &floats, &doubles, &ws, pl)) return;
    } else {
        const attn_method *m = attn_method_find(o->attention);
        const proj_scheme *ps = proj_scheme_find(o->projection);
        if (!m || !ps) {
            pl->skip = "skipped";
            snprintf(pl->why, sizeof pl->why, "unknown method: %s '%s' is not in this build",
                     !m ? "attention" : "projection", !m ? o->attention : o->projection);
            return;
        }
        size_t d_model = o->d_model ? o->d_model : size_mul_sat(o->heads, o->d_head);
        size_t kv = ps->kv_heads_for(o->heads, o->kv_heads);
        if (!kv || kv > o->heads) kv = o->heads;
        attn_shape s = {o->heads, kv, o->n, o->d_head, o->causal};
        attn_knobs kn;
        knobs_fill(o, &kn);
        int bad = m->resolve(&s, &kn, NULL, 0) != ATTN_OK; /* the child says why */
        size_t qn = size_mul_sat(o->heads, size_mul_sat(o->n, o->d_head));
        size_t kvn = size_mul_sat(kv, size_mul_sat(o->n, o->d_head));
        size_t xw = size_add_sat(size_mul_sat(o->n, d_model),
                                 size_mul_sat(3, size_mul_sat(o->heads, size_mul_sat(d_model, o->d_head))));
        floats = size_mul_sat(4, size_add_sat(xw, size_add_sat(size_mul_sat(2, qn), size_mul_sat(2, kvn))));
        doubles = size_mul_sat(8, size_add_sat(size_mul_sat(3, qn),
                                               size_mul_sat(o->heads, size_mul_sat(rows, o->d_head))));
        ws = bad ? 0 : m->workspace_bytes(&s, &kn);
        double calls = (double)o->warmup + (o->reps ? (double)o->reps : 3.0);
        double f = bad ? 0 : m->flops(&s, &kn), floor1s = o->reps ? 0 : 5e9; /* reps 0: >= 1 s of calls */
        double ref = 4.0 * 4.0 * (double)o->heads * (double)rows * (double)o->n * (double)o->d_head;
        pl->weight = fmax(calls * f, floor1s) + ref + 1e9;
    }
    if (o->input) return; /* the shapes are in the files */
    /* OpenBLAS's buffers (one per worker and per calling thread) and the
     * threads' stacks, as the child computes them before its first BLAS
     * call (memlimit.h); none under ASan (runtime 0: no RLIMIT_AS) */
    if (runtime) runtime = size_add_sat(runtime, mem_threads_bytes(o->threads));
    size_t tensors = size_add_sat(floats, ws > doubles ? 0 : doubles - ws);
    pl->need = size_add_sat(runtime, size_add_sat(tensors, ws));
    if (mem_limit && pl->need > mem_limit) {
        const double G = 1073741824.0;
        pl->skip = "skipped";
        snprintf(pl->why, sizeof pl->why,
                 "needs at least %.3g GiB (workspace %.3g, tensors %.3g, runtime %.3g), over --mem-limit %.3g GiB",
                 pl->need / G, ws / G, tensors / G, runtime / G, mem_limit / G);
    }
}

/* The shape knobs of an input point, from its files' headers (0 where the
 * headers cannot be read: the child then says why, and the row leaves them
 * empty as run would) */
static void input_sizes(const sweep_point *p, run_options *o, size_t *kv, int *layer_form) {
    input_shape sh;
    *kv = 0;
    *layer_form = 0;
    if (point_id_peek_input(o->input, p->command == SPEC_FFN, &sh)) {
        o->n = o->heads = o->d_head = o->d_model = o->d_ff = 0;
        return;
    }
    o->n = sh.n, o->heads = sh.heads, o->d_head = sh.d_head, o->d_model = sh.d_model, o->d_ff = sh.d_ff;
    *kv = sh.kv_heads;
    *layer_form = sh.layer_form;
}

static void set_size(result_row *r, int col, size_t v) {
    if (v) row_set(r, col, "%zu", v);
}

/* an ffn point's knobs as run_ffn resolves them (the variant's resolve) */
static void ffn_knobs(const sweep_point *p, run_options *o, result_row *r) {
    const ffn_method *fm = ffn_method_find(o->attention);
    if (o->input) input_sizes(p, o, &(size_t){0}, &(int){0});
    else if (!o->d_ff) o->d_ff = size_mul_sat(4, o->d_model);
    set_size(r, COL_n, o->n);
    set_size(r, COL_d_model, o->d_model);
    set_size(r, COL_d_ff, o->d_ff);
    attn_knobs kn;
    knobs_fill(o, &kn);
    ffn_shape fs = {o->n, o->d_model, o->d_ff};
    if (fm && (o->d_ff || !(fm->knobs & KNOB_K)) && fm->resolve(&fs, &kn, NULL, 0) == ATTN_OK)
        knobs_set_columns(r, fm->knobs, &kn);
    row_set(r, COL_causal, "0");
}

/* an attention point's knobs as run resolves them: kv_heads from the
 * projection, d_model, and the method's knobs (its resolve hook) */
static void attention_knobs(const sweep_point *p, run_options *o, result_row *r) {
    const attn_method *m = attn_method_find(o->attention);
    const proj_scheme *ps = proj_scheme_find(o->projection);
    size_t kv = 0;
    int layer_form = 1;
    if (o->input) input_sizes(p, o, &kv, &layer_form);
    else if (!o->d_model) o->d_model = size_mul_sat(o->heads, o->d_head);
    if (ps && layer_form && o->heads) kv = ps->kv_heads_for(o->heads, o->kv_heads);
    set_size(r, COL_n, o->n);
    set_size(r, COL_heads, o->heads);
    set_size(r, COL_kv_heads, kv);
    set_size(r, COL_d_head, o->d_head);
    if (layer_form) set_size(r, COL_d_model, o->d_model);
    attn_knobs kn;
    knobs_fill(o, &kn);
    attn_shape s = {o->heads, kv ? kv : o->heads, o->n, o->d_head, o->causal};
    /* the files' shape unread (n 0): the knobs as given, the defaults unknown */
    if (m && o->n && o->d_head && m->resolve(&s, &kn, NULL, 0) == ATTN_OK) knobs_set_columns(r, m->knobs, &kn);
    else if (m)
        for (int i = 0; i < KN_COUNT; i++) {
            const size_t *f = knob_field(&kn, knob_defs[i].bit);
            if (f && (m->knobs & knob_defs[i].bit) && *f != ATTN_KNOB_UNSET) row_set(r, knob_defs[i].column, "%zu", *f);
        }
    row_set(r, COL_causal, "%d", o->causal);
    if (!o->input) {
        row_set(r, COL_score_std, "%g", o->score_std);
        row_set(r, COL_head_sim, "%g", o->head_sim);
    }
}

/* A row built here, for a point whose child gave none (or never ran): the
 * point's knobs over the command's defaults, resolved as run and ffn resolve
 * them (decode and eval: by the command's own code), so its identity
 * (point_id) is the one the child's row would have. */
void point_row(const plan *pl, const char *status, const char *note, result_row *r) {
    const sweep_point *p = pl->pt;
    run_options o = pl->o;
    row_init(r);
    if ((p->command == SPEC_DECODE && decode_point_row(&o, r) == 0) ||
        (p->command == SPEC_EVAL && eval_point_row(&o, r) == 0))
        goto done;
    row_set(r, COL_layer, p->command == SPEC_FFN ? "ffn" : "attention");
    row_set(r, COL_attention, "%s", o.attention);
    if (p->command == SPEC_FFN) {
        ffn_knobs(p, &o, r);
    } else {
        row_set(r, COL_projection, "%s", o.projection);
        attention_knobs(p, &o, r);
    }
    row_set(r, COL_seed, "%llu", (unsigned long long)o.seed);
    row_set(r, COL_threads, "%zu", o.threads);
    row_set(r, COL_input, "%s", o.input ? o.input : "synthetic");
    if (p->command == SPEC_DECODE || p->command == SPEC_EVAL) {
        row_set(r, COL_regime, p->command == SPEC_DECODE ? "decode" : "model");
        if (p->command == SPEC_EVAL && o.llama2c) row_set(r, COL_input, "%s", o.llama2c);
    }
    /* a method not in this build, a decode or eval point the command would
     * refuse (its child says why): the knobs as the spec gave them */
    if (p->command == SPEC_DECODE || p->command == SPEC_EVAL ||
        (p->command != SPEC_FFN && (!attn_method_find(o.attention) || !proj_scheme_find(o.projection))))
        for (int k = 0; k < SK_COUNT; k++) {
            int col = spec_knob_column(k);
            if (col >= 0 && p->value[k] && !*row_get(r, col)) row_set(r, col, "%s", p->value[k]);
        }
done:
    row_set(r, COL_status, "%s", status);
    if (note && *note) row_set(r, COL_note, "%s", note);
}

/* The identity key of a plan (point_id of the row point_row builds), made
 * once; NULL when out of memory. */
const char *plan_key(plan *pl) {
    if (!pl->key) {
        result_row r;
        point_row(pl, "", "", &r);
        pl->key = point_id_row(&r);
        row_free(&r);
    }
    return pl->key;
}
