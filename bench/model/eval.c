/* eval.c — `attnbench eval --llama2c CKPT`: the model-level verdict. The
 * checkpoint's forward pass, teacher-forced over token sequences, with an
 * attention operator and projection scheme substituted in chosen layers
 * (knobs per layer), against the exact model on the same tokens: NLL, its
 * change and standard error over the sequences, KL of the next-token
 * distributions, top-1 agreement, each substituted layer's attention
 * rel_err inside the running model, the decoding cache, and optionally
 * greedy generation. With --target-dnll / --target-kl, the planner
 * (eval_plan.c) instead. One CSV row per configuration (regime "model").
 *
 * Order of work: every option, the checkpoint and the sequences are
 * validated before anything runs (bad input: one line, exit 2, no row). */
#include "cache_ratio.h"
#include "commands.h"
#include "decode.h"
#include "env.h"
#include "eval.h"
#include "eval_layer.h"
#include "eval_seq.h"
#include "knobs.h"
#include "kv_options.h"
#include "measure.h"
#include "memlimit.h"
#include "methods.h"
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const cmd = "eval";

enum { MAX_LIST = 4096 };

static void usage(void) {
    printf("usage: attnbench eval --llama2c CHECKPOINT [options]\n\n"
           "Runs a llama2.c checkpoint over token sequences with --attention and\n"
           "--projection substituted in --layers, against the exact model on the same\n"
           "tokens, and prints one CSV row (regime model): nll, dnll and its standard\n"
           "error over the sequences, kl (exact || substituted), top1 agreement,\n"
           "layer_rel_err per substituted layer inside the running model, cache_bytes\n"
           "a sequence would hold while decoding, dnll_beyond: dnll over the positions\n"
           "past a fixed token budget (--budget B, window: sink + window), the first B\n"
           "being exact. An eviction policy runs token by token (its prefill is its\n"
           "decode). --attention model (the default)\n"
           "substitutes nothing. Projections convert the checkpoint's own weights: gqa\n"
           "(default, --kv-heads the checkpoint's) and mqa mean-pool its K/V heads,\n"
           "mhe-add and mhe-mul are fitted as `run` fits them.\n\noptions:\n");
    options_usage(stdout, OPTS_EVAL);
    printf("\nattention operators (--attention): model");
    for (const attn_method *m = attn_methods; m->name; m++) printf(", %s", m->name);
    printf("\nprojection schemes (--projection):");
    for (const proj_scheme *p = proj_schemes; p->name; p++) printf(" %s", p->name);
    printf("\n\nexit status: 0 a row: ok, or nonfinite (a figure was NaN or Inf; the column in\n"
           "note); 2 bad input (no row), a checkpoint whose exact forward overflows float32\n"
           "included; 3 out of memory (a row with status oom); 1 any other failure.\n");
}

/* "8,16,32" into vals; 0, or 2 after a message */
static int parse_list(const char *opt, const char *s, size_t *vals, size_t *count) {
    *count = 0;
    for (const char *p = s;;) {
        char *end;
        if (*p < '0' || *p > '9') return bad_input(cmd, "--%s '%s': expected non-negative integers separated by commas", opt, s);
        unsigned long long v = strtoull(p, &end, 10);
        if (v > (unsigned long long)SIZE_MAX / 2) return bad_input(cmd, "--%s '%s': a value is too large", opt, s);
        if (*count == MAX_LIST) return bad_input(cmd, "--%s '%s': more than %d values", opt, s, MAX_LIST);
        vals[(*count)++] = (size_t)v;
        if (!*end) return 0;
        if (*end != ',') return bad_input(cmd, "--%s '%s': expected non-negative integers separated by commas", opt, s);
        p = end + 1;
    }
}

typedef struct {
    run_options o;
    llama_model md;
    eval_tokens toks;
    eval_sub e;
    int *order;            /* the substituted layers in --layers order */
    size_t nsub;
    const char *attention_name, *projection_name;
} eval_run;

/* the method knobs of the substituted layers: each as given (one value, or
 * one per substituted layer in --layers order, registry.lists), the rest
 * left to the operator, whose resolve() fills its defaults and checks them
 * (knobs.h, attention.h); 0 or 2 after a message */
static int set_knobs(eval_run *r) {
    const attn_method *m = r->e.op;
    const llama_config *c = &r->md.c;
    static size_t vals[MAX_LIST];
    for (int l = 0; l < c->n_layers; l++) knobs_fill(&r->o, &r->e.knobs[l]);
    for (int i = 0; i < KN_COUNT; i++) {
        const knob_def *d = &knob_defs[i];
        if (!(d->lists & C_EVAL) || !r->o.given[i]) continue;
        if (!m || !(m->knobs & d->bit))
            return bad_input(cmd, "--%s does not apply to --attention %s", d->name, r->attention_name);
        size_t count;
        if (parse_list(d->name, r->o.list[i], vals, &count)) return 2;
        if (count != 1 && count != r->nsub)
            return bad_input(cmd, "--%s has %zu values for %zu substituted layers (give one, or one per layer)", d->name, count, r->nsub);
        for (size_t j = 0; j < r->nsub; j++) *knob_field(&r->e.knobs[r->order[j]], d->bit) = vals[count == 1 ? 0 : j];
    }
    for (int l = 0; l < c->n_layers; l++)
        if (!m || !r->e.sub[l]) knobs_clear_unread(&r->e.knobs[l], 0); /* not substituted: no knob */
    if (!m) return 0;
    const attn_shape s = {(size_t)c->n_heads, r->e.kv, r->toks.n, (size_t)c->head_size, 1};
    for (size_t j = 0; j < r->nsub; j++) {
        char why[300] = "";
        if (m->resolve(&s, &r->e.knobs[r->order[j]], why, sizeof why) != ATTN_OK)
            return bad_input(cmd, "%s%s", why, r->nsub > 1 ? " (in a substituted layer)" : "");
        knobs_clear_unread(&r->e.knobs[r->order[j]], m->knobs);
    }
    return 0;
}

/* --layers: all, or a list without repeats, each < n_layers; 0 or 2 */
static int parse_layers(eval_run *r) {
    const int L = r->md.c.n_layers;
    r->nsub = 0;
    if (!r->o.layers || !strcmp(r->o.layers, "all")) {
        for (int l = 0; l < L; l++) { r->order[r->nsub++] = l; r->e.sub[l] = 1; }
        return 0;
    }
    static size_t vals[MAX_LIST];
    size_t count;
    if (parse_list("layers", r->o.layers, vals, &count)) return 2;
    for (size_t i = 0; i < count; i++) {
        if (vals[i] >= (size_t)L) return bad_input(cmd, "--layers: layer %zu is out of range (the checkpoint has layers 0..%d)", vals[i], L - 1);
        if (r->e.sub[vals[i]]) return bad_input(cmd, "--layers: layer %zu is listed twice", vals[i]);
        r->e.sub[vals[i]] = 1;
        r->order[r->nsub++] = (int)vals[i];
    }
    return 0;
}

/* --kv-format: the substituted layers' decode through the format, checked
 * per layer against the operator's entry; 0 or 2 after a message */
static int configure_format(eval_run *r) {
    const run_options *o = &r->o;
    eval_sub *e = &r->e;
    static const char *const fmt_opts[] = {"kv-format", "bits", "kivi-group", "residual"};
    for (int i = 0; i < 4; i++)
        if (!e->op && options_given(o, fmt_opts[i])) return bad_input(cmd, "--%s needs a substituted --attention", fmt_opts[i]);
    if (!options_given(o, "kv-format")) {
        e->fmt = NULL;
        return options_given(o, "bits") || options_given(o, "kivi-group") || options_given(o, "residual")
                   ? bad_input(cmd, "--bits, --kivi-group and --residual go with --kv-format kivi")
                   : 0;
    }
    if (kv_format_of_options(cmd, o, (size_t)r->md.c.head_size, &e->fmt, &e->kvp)) return 2;
    if (!e->op->decode) return bad_input(cmd, "--kv-format: --attention %s has no decode", e->op->name);
    return 0;
}

/* --cache-ratio R: per substituted layer, the operator's knobs (or the
 * scheme's K/V heads, cache_ratio_chooses_kv) fitted so that the layer's
 * cache at n, in the format, is at most R of the f32 cache of the
 * checkpoint's own K/V heads at n (eval_ref_bytes); then the format checked
 * per layer. 0 or 2 after a message */
static int configure_ratio(eval_run *r) {
    const run_options *o = &r->o;
    eval_sub *e = &r->e;
    const llama_config *mc = &r->md.c;
    const size_t n = r->toks.n;
    if (options_given(o, "cache-ratio") && !e->op) return bad_input(cmd, "--cache-ratio needs a substituted --attention");
    if (options_given(o, "cache-ratio") && !e->op->decode)
        return bad_input(cmd, "--cache-ratio: --attention %s has no decode (no cache to fit)", e->op->name);
    const int choose_kv = e->op && cache_ratio_chooses_kv(o, e->ps, e->op->decode);
    if (choose_kv) e->kv = (size_t)mc->n_heads;
    for (size_t j = 0; j < r->nsub && options_given(o, "cache-ratio"); j++) {
        attn_knobs *kn = &r->e.knobs[r->order[j]];
        decode_config c;
        double got;
        if (eval_layer_config(e, r->order[j], n, &c) || cache_ratio_fit(cmd, o, &c, kn, eval_ref_bytes(e, n), choose_kv, &got))
            return 2;
        e->kv = c.kv_heads; /* the same in every layer */
        *kn = c.kn;
        char why[300] = "";
        const attn_shape s = {(size_t)mc->n_heads, e->kv, n, (size_t)mc->head_size, 1};
        if (e->op->resolve(&s, kn, why, sizeof why) != ATTN_OK) return bad_input(cmd, "--cache-ratio %g: %s", o->cache_ratio, why);
        knobs_clear_unread(kn, e->op->knobs);
    }
    for (size_t j = 0; e->fmt && j < r->nsub; j++) {
        char why[400];
        if (eval_format_ok(e, r->order[j], n, why, sizeof why)) return bad_input(cmd, "%s", why);
    }
    return 0;
}

/* operator, scheme, layers, knobs, ffn; 0 or 2 after a message */
static int configure(eval_run *r) {
    run_options *o = &r->o;
    const llama_config *c = &r->md.c;
    eval_sub *e = &r->e;
    r->attention_name = o->attention;
    if (!options_given(o, "attention")) r->attention_name = options_given(o, "projection") ? "vanilla" : EVAL_OWN;
    if (strcmp(r->attention_name, EVAL_OWN) != 0) {
        e->op = attn_method_find(r->attention_name);
        if (!e->op) return bad_input(cmd, "unknown --attention '%s' (model, or an operator of attnbench run --help)", r->attention_name);
    }
    r->projection_name = options_given(o, "projection") ? o->projection : e->op ? "gqa" : EVAL_OWN;
    if (e->op) {
        e->ps = proj_scheme_find(r->projection_name);
        if (!e->ps) return bad_input(cmd, "unknown --projection '%s' (see attnbench run --help)", r->projection_name);
        /* a scheme that takes --kv-heads has the checkpoint's by default */
        size_t want = options_given(o, "kv-heads") ? o->kv_heads : (e->ps->knobs & KNOB_KV_HEADS) ? (size_t)c->n_kv_heads : 0;
        e->kv = e->ps->kv_heads_for((size_t)c->n_heads, want);
        if (options_given(o, "kv-heads") && e->kv != o->kv_heads)
            return bad_input(cmd, "--kv-heads %zu does not apply to --projection %s (it has %zu K/V heads)", o->kv_heads, e->ps->name, e->kv);
        if (!e->kv || (size_t)c->n_heads % e->kv)
            return bad_input(cmd, "--kv-heads %zu must divide the checkpoint's %d heads", e->kv, c->n_heads);
    } else if (options_given(o, "kv-heads")) {
        return bad_input(cmd, "--kv-heads needs a substituted --attention");
    }
    if (parse_layers(r)) return 2;
    if (set_knobs(r)) return 2;
    const size_t n = r->toks.n;
    for (int l = 0; l < c->n_layers; l++) {
        e->knobs[l].seed = o->seed + (uint64_t)l * 0x9E3779B97F4A7C15ull; /* Performer: other features per layer */
        e->knobs[l].threads = o->threads;
    }
    /* the feed-forward variant that keeps the k largest units (ffn_methods[]) */
    const ffn_method *fm = o->ffn ? ffn_method_find(o->ffn) : NULL;
    if (o->ffn && (!fm || fm->mass != ATTN_MASS_LARGEST)) return bad_input(cmd, "--ffn '%s': only topk", o->ffn);
    if (o->ffn && !options_given(o, "ffn-k")) return bad_input(cmd, "--ffn topk needs --ffn-k K");
    if (!o->ffn && options_given(o, "ffn-k")) return bad_input(cmd, "--ffn-k needs --ffn topk");
    if (o->ffn && (o->ffn_k < 1 || o->ffn_k > (size_t)c->hidden_dim))
        return bad_input(cmd, "--ffn-k %zu: must be 1 to the checkpoint's hidden_dim %d", o->ffn_k, c->hidden_dim);
    e->ffn_k = o->ffn ? o->ffn_k : 0;
    if (configure_format(r) || configure_ratio(r)) return 2;
    if (options_given(o, "generate") && (o->generate < 1 || o->generate >= n))
        return bad_input(cmd, "--generate %zu: must be 1 to n - 1 = %zu (the prompt is the first n - G tokens)", o->generate, n - 1);
    int plan = options_given(o, "target-dnll") + options_given(o, "target-kl");
    if (plan > 1) return bad_input(cmd, "--target-dnll and --target-kl: give one");
    if (plan && (!e->op || !(e->op->knobs & KNOB_K))) return bad_input(cmd, "the planner (--target-*) chooses top-k's k: it needs --attention topk");
    if (plan && o->given[KN_K]) return bad_input(cmd, "the planner chooses --k; leave it out");
    if (plan && options_given(o, "generate")) return bad_input(cmd, "--generate does not go with the planner");
    if (plan && !((options_given(o, "target-dnll") ? o->target_dnll : o->target_kl) > 0))
        return bad_input(cmd, "--target-%s must be positive", options_given(o, "target-dnll") ? "dnll" : "kl");
    return 0;
}

/* a knob's column: one value, or "a;b;c" over the substituted layers */
static void set_knob_column(result_row *row, int col, const eval_run *r, const eval_sub *e, size_t offset) {
    char buf[4096];
    size_t len = 0, first = *(const size_t *)((const char *)&e->knobs[r->order[0]] + offset);
    int same = 1;
    for (size_t i = 0; i < r->nsub; i++) {
        size_t v = *(const size_t *)((const char *)&e->knobs[r->order[i]] + offset);
        same &= v == first;
        if (len < sizeof buf) len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%zu", i ? ";" : "", v);
    }
    if (same) row_set(row, col, "%zu", first);
    else row_set(row, col, "%s", buf);
}

/* the columns that identify the configuration (point_id), and the other
 * columns the options and the checkpoint's header give: what a row holds
 * before anything is measured (eval_point_row builds the same) */
static void fill_identity(result_row *row, eval_run *r, const eval_sub *e) {
    const llama_config *c = &r->md.c;
    r->nsub = 0; /* the substituted layers in ascending order (the planner changes them) */
    for (int l = 0; l < c->n_layers; l++) if (e->sub[l]) r->order[r->nsub++] = l;
    const size_t n = r->toks.n;
    const attn_method *m = e->op;
    row_set(row, COL_regime, "model");
    row_set(row, COL_layer, "%s", e->ffn_k && m ? "attention+ffn" : e->ffn_k ? "ffn" : "attention");
    row_set(row, COL_attention, "%s", m ? m->name : EVAL_OWN);
    row_set(row, COL_projection, "%s", m ? e->ps->name : EVAL_OWN);
    row_set(row, COL_n, "%zu", n);
    row_set(row, COL_heads, "%d", c->n_heads);
    row_set(row, COL_kv_heads, "%zu", m ? e->kv : (size_t)c->n_kv_heads);
    row_set(row, COL_d_head, "%d", c->head_size);
    row_set(row, COL_d_model, "%d", c->dim);
    row_set(row, COL_d_ff, "%d", c->hidden_dim);
    if (m && r->nsub) {
        for (int i = 0; i < KN_COUNT; i++) /* the registry's method knobs that the operator reads */
            if ((m->knobs & knob_defs[i].bit) && KNOB_IS_METHOD(knob_defs[i].bit) && knob_defs[i].column >= 0)
                set_knob_column(row, knob_defs[i].column, r, e, knob_attn_offset(knob_defs[i].bit));
    }
    /* the feed-forward's knob: its kept units (k of an ffn row, as `ffn` rows hold it) */
    if (e->ffn_k && !m) row_set(row, COL_k, "%zu", e->ffn_k);
    row_set(row, COL_causal, "1");
    row_set_common(row, &r->o);
    row_set(row, COL_input, "%s", r->o.llama2c);
    row_set(row, COL_sequences, "%zu", r->toks.N);
    char buf[8192];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->nsub && len < sizeof buf; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%d", i ? ";" : "", r->order[i]);
    row_set(row, COL_layers, "%s", r->nsub == (size_t)c->n_layers ? "all" : buf);
    if (options_given(&r->o, "generate")) row_set(row, COL_gen_tokens, "%zu", r->o.generate);
    if (e->fmt) kv_format_set_columns(row, e->fmt, &e->kvp, 0);
}

static void fill_row(result_row *row, eval_run *r, const eval_sub *e, const eval_stats *st) {
    fill_identity(row, r, e);
    const llama_config *c = &r->md.c;
    const size_t n = r->toks.n;
    const attn_method *m = e->op;
    row_set(row, COL_status, "ok");
    row_set(row, COL_time_median_s, "%.6g", st->time_median_s);
    row_set(row, COL_peak_rss_bytes, "%zu", rss_peak(&(rss_probe){0, 0})); /* getrusage: the process's peak */
    /* Q, K, V parameters of every layer: the scheme's where substituted, the checkpoint's elsewhere */
    size_t params = 0;
    for (int l = 0; l < c->n_layers; l++) {
        proj_shape ps = {n, (size_t)c->dim, (size_t)c->n_heads, m && e->sub[l] ? e->kv : (size_t)c->n_kv_heads, (size_t)c->head_size};
        params = size_add_sat(params, m && e->sub[l] ? e->ps->params(&ps) : gqa_params(&ps));
    }
    row_set(row, COL_params, "%zu", params);
    row_set(row, COL_nll, "%.6g", st->nll);
    row_set(row, COL_dnll, "%.6g", st->dnll);
    if (!isnan(st->dnll_beyond)) row_set(row, COL_dnll_beyond, "%.6g", st->dnll_beyond);
    if (isfinite(st->dnll_se)) row_set(row, COL_dnll_se, "%.3g", st->dnll_se);
    row_set(row, COL_kl, "%.6g", st->kl);
    row_set(row, COL_top1, "%.6g", st->top1);
    if (isfinite(st->kl_se)) row_set(row, COL_kl_se, "%.3g", st->kl_se);
    row_set(row, COL_kl_p50, "%.6g", st->kl_p50);
    row_set(row, COL_kl_p90, "%.6g", st->kl_p90);
    row_set(row, COL_kl_p99, "%.6g", st->kl_p99);
    row_set(row, COL_kl_max, "%.6g", st->kl_max);
    row_set(row, COL_dp_rms, "%.6g", st->dp_rms);
    char buf[8192];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; m && i < r->nsub && len < sizeof buf; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%.4g", i ? ";" : "", st->layer_rel_err[r->order[i]]);
    if (m && r->nsub) row_set(row, COL_layer_rel_err, "%s", buf);
    const size_t cache = eval_cache_bytes(e, n);
    if (cache) row_set(row, COL_cache_bytes, "%zu", cache);
    if (cache) row_set(row, COL_cache_ratio, "%.6g", (double)cache / ((double)eval_ref_bytes(e, n) * c->n_layers));
    if (e->fmt && m && r->nsub) { /* the first substituted layer's */
        row_set(row, COL_bits_per_value, "%.6g", eval_bits_per_value(e, r->order[0], n));
    }
    row_set(row, COL_note, "exact nll %.6g; %s", st->nll_exact, r->toks.source);
}

typedef struct {
    eval_run *r;
    const eval_exact *ex;
    int rows;
} emit_ctx;

/* eval_emit_fn: one row per configuration; the header before the first only */
static int emit_row(void *p, eval_sub *e, const eval_stats *st, const char *note) {
    emit_ctx *x = p;
    result_row row;
    row_init(&row);
    fill_row(&row, x->r, e, st);
    if (note) row_set(&row, COL_note, "%s; exact nll %.6g; %s", note, st->nll_exact, x->r->toks.source);
    run_options o = x->r->o;
    if (x->rows++ && !o.csv) o.row_only = 1;
    int rc = row_emit(cmd, &o, &row);
    row_free(&row);
    return rc;
}

static void eval_run_free(eval_run *r) {
    eval_sub_free(&r->e);
    free(r->e.sub); free(r->e.knobs); free(r->order);
    eval_tokens_free(&r->toks);
    llama_free(&r->md);
}

int eval_point_row(const run_options *o, result_row *row) {
    eval_run r;
    memset(&r, 0, sizeof r);
    r.o = *o;
    char err[1024];
    if (!o->llama2c || options_given(o, "target-dnll") || options_given(o, "target-kl")) return -1;
    if (llama_read_config(o->llama2c, &r.md.c, err, sizeof err)) return -1;
    if (eval_tokens_shape(o, &r.md.c, &r.toks.N, &r.toks.n)) return -1;
    const size_t L = (size_t)r.md.c.n_layers;
    r.e.md = &r.md;
    r.e.sub = calloc(L, sizeof(int));
    r.e.knobs = calloc(L, sizeof(attn_knobs));
    r.order = calloc(L, sizeof(int));
    int rc = -1;
    if (r.e.sub && r.e.knobs && r.order) {
        bad_input_quiet(1);
        rc = configure(&r);
        bad_input_quiet(0);
    }
    if (!rc) fill_identity(row, &r, &r.e);
    free(r.e.sub); free(r.e.knobs); free(r.order);
    return rc ? -1 : 0;
}

/* The least memory of an eval of N sequences of n tokens beside the
 * checkpoint (file bytes): the substituted layers' weights and float and
 * float64 q, k, v, out, the exact hidden states, the model's state for n
 * positions (KV cache, activations, one block of scores) and the logits. */
static size_t eval_need(const llama_config *c, size_t file, size_t N, size_t n) {
    const size_t L = (size_t)c->n_layers, H = (size_t)c->n_heads, d = (size_t)c->dim;
    const size_t hs = (size_t)c->head_size, hid = (size_t)c->hidden_dim, V = (size_t)c->vocab_size;
    size_t f = size_mul_sat(size_mul_sat(3 * L, H), size_mul_sat(d, hs));        /* sub weights */
    f = size_add_sat(f, size_mul_sat(4 + 8, size_mul_sat(H, size_mul_sat(n, hs)))); /* q k v out, float64 ones x2 */
    f = size_add_sat(f, size_mul_sat(N, size_mul_sat(n, d)));                      /* exact hidden states */
    f = size_add_sat(f, size_mul_sat(2 * L, size_mul_sat(n, (size_t)c->kv_dim)));  /* KV cache */
    f = size_add_sat(f, size_mul_sat(n, size_add_sat(4 * d, 2 * hid + hs + 64)));  /* activations, scores */
    f = size_add_sat(f, size_mul_sat(2 * 64 + 4, V));                              /* logits */
    return size_add_sat(file, size_mul_sat(4, f));
}

/* an oom row for o (its identity as the run would resolve it), note in it;
 * exit status 3, or 1 when it cannot be written */
static int eval_oom(const run_options *o, const char *note) {
    result_row row;
    row_init(&row);
    if (eval_point_row(o, &row)) {
        row_set(&row, COL_layer, "model");
        row_set(&row, COL_regime, "model");
        row_set(&row, COL_input, "%s", o->llama2c);
    }
    row_set(&row, COL_status, "oom");
    row_set(&row, COL_note, "%s", note);
    int rc = row_emit_oom(cmd, o, &row);
    row_free(&row);
    return rc;
}

/* the address-space limit, before the checkpoint is read and before any
 * BLAS call (memlimit.h): 0, or the exit status after an oom row */
static int eval_fits(const run_options *o) {
    llama_config c;
    char err[1024];
    size_t N, n;
    struct stat st;
    if (!mem_as_limit() || stat(o->llama2c, &st) || llama_read_config(o->llama2c, &c, err, sizeof err) ||
        eval_tokens_shape(o, &c, &N, &n))
        return 0; /* the load says what is wrong */
    if (!mem_fits_as_limit(eval_need(&c, (size_t)st.st_size, N, n), o->threads, err, sizeof err)) return 0;
    return eval_oom(o, err);
}

/* a failure's message err: an oom row where it is out of memory, else the
 * line on stderr; the exit status */
static int eval_failed(const run_options *o, const char *err) {
    if (!strncmp(err, "out of memory", 13)) return eval_oom(o, err);
    fprintf(stderr, "attnbench eval: %s\n", err);
    return 1;
}

int cmd_eval(int argc, char **argv) {
    eval_run r;
    memset(&r, 0, sizeof r);
    options_defaults(&r.o, OPTS_EVAL);
    int rc = options_parse(&r.o, OPTS_EVAL, argc, argv);
    if (rc == 1) { usage(); return 0; }
    if (rc) return rc;
    if (!r.o.llama2c) return bad_input(cmd, "--llama2c CHECKPOINT is required");
    if (r.o.threads < 1 || r.o.threads > 1024) return bad_input(cmd, "--threads %zu: must be 1..1024", r.o.threads);
    char err[1024];
    if ((rc = eval_fits(&r.o))) return rc;
    if (llama_load(r.o.llama2c, &r.md, err, sizeof err)) {
        if (strstr(err, "out of memory")) return eval_oom(&r.o, err);
        return bad_input(cmd, "--llama2c %s", err);
    }
    const size_t L = (size_t)r.md.c.n_layers;
    r.e.md = &r.md;
    r.e.sub = calloc(L, sizeof(int));
    r.e.knobs = calloc(L, sizeof(attn_knobs));
    r.order = calloc(L, sizeof(int));
    if (!r.e.sub || !r.e.knobs || !r.order) { eval_run_free(&r); fprintf(stderr, "attnbench eval: out of memory\n"); return 1; }
    blas_set_threads((int)r.o.threads);
    if ((rc = eval_tokens_get(cmd, &r.o, &r.md, &r.toks)) || (rc = configure(&r))) { eval_run_free(&r); return rc; }

    rc = 1;
    eval_exact ex = {0};
    eval_stats st = {0};
    r.e.max_n = r.toks.n;
    r.e.beyond = eval_budget(&r.e, r.toks.n);
    r.e.measure_err = 1;
    int erc = eval_sub_init(&r.e, err, sizeof err) ? -1 : eval_exact_run(&r.md, &ex, r.toks.tokens, r.toks.N, r.toks.n, err, sizeof err);
    if (erc == 2) { rc = bad_input(cmd, "--llama2c %s: %s", r.o.llama2c, err); goto done; }
    if (erc) {
        rc = eval_failed(&r.o, err);
        goto done;
    }
    emit_ctx x = {&r, &ex, 0};
    if (options_given(&r.o, "target-dnll") || options_given(&r.o, "target-kl")) {
        int kl = options_given(&r.o, "target-kl");
        rc = eval_plan(&r.e, &ex, kl, kl ? r.o.target_kl : r.o.target_dnll, emit_row, &x);
        goto done;
    }
    if (eval_measure(&r.e, &ex, &st, err, sizeof err)) { rc = eval_failed(&r.o, err); goto done; }
    result_row row;
    row_init(&row);
    fill_row(&row, &r, &r.e, &st);
    row_set(&row, COL_note, "exact nll %.6g; exact forward %.3g s; %s", st.nll_exact, ex.exact_seconds, r.toks.source);
    if (options_given(&r.o, "generate")) {
        double first, match;
        if (eval_generate(&r.e, r.toks.tokens, r.toks.N, r.toks.n, r.o.generate, &first, &match, err, sizeof err)) {
            fprintf(stderr, "attnbench eval: generation: %s\n", err);
            row_free(&row);
            goto done;
        }
        if (first >= 0) row_set(&row, COL_gen_first_diff, "%.6g", first);
        row_set(&row, COL_gen_match, "%.6g", match);
    }
    rc = row_emit(cmd, &r.o, &row);
    row_free(&row);
done:
    free(st.layer_rel_err);
    eval_exact_free(&ex);
    eval_run_free(&r);
    return rc;
}
