/* decode.c — `attnbench decode`: a context of L tokens in a cache, then S
 * tokens generated one at a time; one CSV row (regime decode).
 *
 * Order of work:
 *   1. parse and validate (bad input: one line, exit 2, no row);
 *   2. the inputs (sequence b of a synthetic batch from seed + b: its x, with
 *      the model weights of seed), the step projection, the caches;
 *   3. the context: tokens 0 .. L-W-1 appended in bulk (untimed), then the
 *      W = --warmup warm-up steps decode tokens L-W .. L-1 (untimed, the
 *      full step), so every timed step finds L + t tokens held; an entry
 *      that decides by the queries (an eviction policy: which keys it holds
 *      depends on the attention they got) decodes every context token as
 *      an untimed step (W = L), its query included;
 *   4. S timed steps, each: project the batch's tokens (one sgemm), one
 *      query per head against each cache, append;
 *   5. the float64 reference at the S step positions and the row.
 * Threads: --threads for BLAS in the context's bulk projection; in the
 * steps BLAS runs on one thread and --threads threads of one pool, started
 * once (kernels/pool.h), run the step's tasks (kernels/decode.h).
 * The roofline (bench/measure/roofline.h): not measured here (a second and a 1 GiB
 * buffer beside the caches); --probe prints it, --probe-file reads it back
 * and gives the row roofline_s and roofline_frac. */
#include "bandwidth.h"
#include "cache_ratio.h"
#include "commands.h"
#include "exit_status.h"
#include "decode_cmd.h"
#include "knobs.h"
#include "kv_options.h"
#include "env.h"
#include "measure.h"
#include "memlimit.h"
#include "methods.h"
#include "options.h"
#include "point_id.h"
#include "pool.h"
#include "report.h"
#include "roofline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cmd = "decode";

/* everything one run holds, freed by run_free */
typedef struct {
    run_options o;
    const attn_method *m;     /* the operator's table entry; m->decode its decode */
    const proj_scheme *ps;
    size_t L, S, B, n, kv;
    attn_knobs kn;
    const kv_format *fmt;     /* --kv-format, and its knobs */
    kv_params kvp;
    size_t ref_bytes;         /* the f32 cache of the scheme's model (MHA K/V heads) at n: cache_ratio's unit */
    layer_input *in;          /* (B) inputs; with --input one, shared */
    const layer_input **seq;  /* (B) sequence b's input */
    step_proj proj;
    int layer_form;           /* the input's form (synthetic: layer form) */
    size_t in_kv;             /* operator form: the K/V heads of the files */
    float *tok[3];            /* operator form: q (n, heads, d), k, v (n, kv, d) token-major */
    decode_ctx ctx;
    workspace mws, *sws;      /* the context's workspace, (B) the sequences' */
    decode_seq *seqs;
    float *x, *y, *q, *out, *all_out;  /* one step's x (B, dm), rows (B, width), q (B, H, d), out */
    double *times;
    par_pool *pool;           /* the steps' threads, started once */
    roofline_probe roof;      /* --probe-file's lines of --threads (roof.n 0: none) */
    int ctx_ready;
    size_t need;              /* bytes of inputs, caches and reference (setup_shape) */
} run_state;

/* operator form (heads, n, d) -> token-major (n, heads, d) */
static float *token_major(const float *a, size_t heads, size_t n, size_t d) {
    float *t = malloc(heads * n * d * sizeof(float));
    if (t)
        for (size_t h = 0; h < heads; h++)
            for (size_t i = 0; i < n; i++) memcpy(t + (i * heads + h) * d, a + (h * n + i) * d, d * sizeof(float));
    return t;
}

/* whether the scheme gives the MHA q, k, v as they are at any --kv-heads
 * (its exact limit leaves --kv-heads unset): operator form's files are that */
static int scheme_as_is(const proj_scheme *ps, size_t heads) {
    size_t kv_opt = SIZE_MAX;
    return ps->exact_limit(heads, &kv_opt) && kv_opt == 0;
}

/* the shape an --input's files give (loaded, or their headers): 0, or 2
 * after a message */
static int input_shape_set(run_state *r, const input_shape *sh) {
    run_options *o = &r->o;
    if (r->n > sh->n)
        return bad_input(cmd, "--context %zu + --steps %zu is more than the %zu positions of %s", r->L, r->S, sh->n, o->input);
    o->heads = sh->heads; o->d_head = sh->d_head; o->d_model = sh->d_model;
    r->layer_form = sh->layer_form;
    r->in_kv = sh->kv_heads;
    if (!sh->layer_form && !scheme_as_is(r->ps, sh->heads))
        return bad_input(cmd, "--projection %s needs the layer form (x.npy, wq.npy, wk.npy, wv.npy); %s holds q, k, v", r->ps->name, o->input);
    return 0;
}

/* --input's flags that are for synthetic input only: 0, or 2 after a message */
static int synthetic_only(const run_options *o) {
    static const char *const names[] = {"score-std", "head-sim", "heads", "d-head", "d-model"};
    for (int i = 0; i < 5; i++)
        if (options_given(o, names[i])) return bad_input(cmd, "--%s applies to synthetic input only, not --input", names[i]);
    return 0;
}

static int synthetic_shape(run_state *r);

/* the options and the input: 0, or 2 after a one-line message */
static int setup_input(run_state *r) {
    run_options *o = &r->o;
    char err[1024];
    r->in = calloc(r->B, sizeof(layer_input));
    r->seq = calloc(r->B, sizeof(*r->seq));
    if (!r->in || !r->seq) return bad_input(cmd, "out of memory");
    if (o->input) {
        if (synthetic_only(o)) return 2;
        if (input_load(&r->in[0], o->input, err, sizeof err)) return bad_input(cmd, "%s", err);
        const layer_input *in = &r->in[0];
        int rc = input_shape_set(r, &(input_shape){in->layer_form, in->n, in->heads, in->kv_heads, in->d_head, in->d_model, 0});
        if (rc) return rc;
        /* layer form: the first L + S rows of x are the sequence (the MHE fit
         * sees those); operator form keeps its (heads, n, d) layout, and the
         * causal reference never reads past the last step */
        if (r->in[0].layer_form) r->in[0].n = r->n;
        for (size_t b = 0; b < r->B; b++) r->seq[b] = &r->in[0];
        return 0;
    }
    return synthetic_shape(r);
}

/* synthetic input's shape: d_model (default heads * d_head) and the ranges;
 * 0, or 2 after a message */
static int synthetic_shape(run_state *r) {
    run_options *o = &r->o;
    r->layer_form = 1;
    if (!o->d_model && size_mul(o->heads, o->d_head, &o->d_model)) return bad_input(cmd, "--heads * --d-head overflows");
    if (!o->heads || !o->d_head || !o->d_model)
        return bad_input(cmd, "--%s must be at least 1", !o->heads ? "heads" : !o->d_head ? "d-head" : "d-model");
    if (!(o->score_std > 0)) return bad_input(cmd, "--score-std %g: must be positive", o->score_std);
    if (o->head_sim < 0 || o->head_sim > 1) return bad_input(cmd, "--head-sim %g: must be in [0, 1]", o->head_sim);
    return 0;
}

/* the decode configuration of the run: operator, scheme, shape, knobs, format */
static void config_of(const run_state *r, decode_config *c) {
    decode_config_of(c, r->m, r->ps, r->o.heads, r->kv, r->o.d_head, r->n, &r->kn);
    c->fmt = r->fmt;
    c->kvp = r->kvp;
}

/* --cache-ratio R: the entry's knobs (or gqa's K/V heads) fitted so the
 * cache is at most R of the f32 cache of the scheme's model; a knob given
 * on the line that the fit changes is refused. 0, or 2 after a message */
static int fit_cache_ratio(run_state *r, int choose_kv) {
    run_options *o = &r->o;
    if (!options_given(o, "cache-ratio")) return 0;
    decode_config c;
    config_of(r, &c);
    double got = 0;
    if (cache_ratio_fit(cmd, o, &c, &r->kn, r->ref_bytes, choose_kv, &got)) return 2;
    r->kv = c.kv_heads;
    r->kn = c.kn;
    char why[400];
    const attn_shape ks = {o->heads, r->kv, r->L, o->d_head, 1};
    if (r->m->decode->resolve && r->m->decode->resolve(&ks, &r->kn, why, sizeof why) != ATTN_OK)
        return bad_input(cmd, "--cache-ratio %g: %s", o->cache_ratio, why);
    return 0;
}

/* the format, its check against the operator, the unit of cache_ratio,
 * then --cache-ratio: 0, or 2 after a message */
static int resolve_format(run_state *r, int choose_kv) {
    run_options *o = &r->o;
    if (kv_format_of_options(cmd, o, o->d_head, &r->fmt, &r->kvp)) return 2;
    decode_config ref = {.op = &decode_exact, .heads = o->heads, .kv_heads = o->heads, /* MHA's, whatever the scheme */
                         .d_head = o->d_head, .max_len = r->n, .batch = 1};
    r->ref_bytes = decode_cache_bytes(&ref);
    if (fit_cache_ratio(r, choose_kv)) return 2;
    decode_config c;
    config_of(r, &c);
    char why[400];
    if (decode_format_ok(&c, why, sizeof why)) return bad_input(cmd, "%s", why);
    return 0;
}

/* K/V heads and the operator's knobs after the input: 0, or 2 after a message */
static int resolve_knobs(run_state *r) {
    run_options *o = &r->o;
    const int op_form = o->input && !r->layer_form;
    r->kv = op_form ? r->in_kv : r->ps->kv_heads_for(o->heads, o->kv_heads);
    /* --cache-ratio without --kv-heads under a scheme that takes it: chosen
     * below, when the operator cannot shrink its cache itself */
    const int choose_kv = !op_form && cache_ratio_chooses_kv(o, r->ps, r->m->decode);
    if (choose_kv) r->kv = o->heads;
    if (options_given(o, "kv-heads") && r->kv != o->kv_heads)
        return bad_input(cmd, "--kv-heads %zu does not apply to --projection %s (it has %zu K/V heads)", o->kv_heads, r->ps->name, r->kv);
    if (!r->kv) return bad_input(cmd, "--projection %s needs --kv-heads G (a divisor of --heads %zu)", r->ps->name, o->heads);
    if (o->heads % r->kv) return bad_input(cmd, "--kv-heads %zu must divide --heads %zu", r->kv, o->heads);
    if (r->n > (size_t)INT32_MAX || o->d_head > (size_t)INT32_MAX || o->d_model > (size_t)INT32_MAX)
        return bad_input(cmd, "sizes beyond 2^31-1 are not supported by BLAS");
    /* the operator's knobs: as given, else its defaults (the decode entry's
     * resolve, over the cache of --context tokens) */
    attn_knobs *kn = &r->kn;
    char kerr[400] = "";
    const attn_decode *dec = r->m->decode;
    if (knobs_check_read(o, OPTS_DECODE, dec->knobs, "attention", o->attention, kerr, sizeof kerr)) return bad_input(cmd, "%s", kerr);
    knobs_fill(o, kn);
    const attn_shape ks = {o->heads, r->kv, r->L, o->d_head, 1};
    if (dec->resolve && dec->resolve(&ks, kn, kerr, sizeof kerr) != ATTN_OK)
        return bad_input(cmd, "%s", kerr[0] ? kerr : "knobs the operator cannot take");
    knobs_clear_unread(kn, dec->knobs);
    return resolve_format(r, choose_kv);
}

/* shape and knobs after the input, and whether the run fits: 0, or 2 after a message */
static int setup_shape(run_state *r) {
    run_options *o = &r->o;
    if (resolve_knobs(r)) return 2;
    /* the inputs (x per sequence) and the float64 reference of one sequence */
    size_t hn, need = 0;
    int ovf = size_mul3(o->heads, r->n, o->d_head, &hn) || hn > SIZE_MAX / 64;
    if (!ovf) {
        size_t xs = 0;
        ovf = size_mul3(r->B, r->n, o->d_model, &xs) || xs > SIZE_MAX / 16;
        decode_config c;
        config_of(r, &c);
        need = ovf ? 0 : 4 * xs + 8 * (r->n * o->d_model) + 32 * hn + 2 * r->B * decode_cache_bytes(&c);
    }
    if (ovf) return bad_input(cmd, "sizes overflow: heads %zu x n %zu x d_head %zu", o->heads, r->n, o->d_head);
    const size_t total = mem_total_bytes();
    r->need = need;
    if (total && need > total)
        return bad_input(cmd, "inputs, caches and reference need %.3g GiB, more than this machine's %.3g GiB", need / 1073741824.0, total / 1073741824.0);
    return 0;
}

/* synthetic inputs, the step projection, the context and the sequences: 0, or an ATTN_* code / 1 */
static int setup_run(run_state *r) {
    run_options *o = &r->o;
    char err[1024];
    if (!o->input)
        for (size_t b = 0; b < r->B; b++) {
            if (input_synthetic(&r->in[b], r->n, o->heads, o->d_head, o->d_model, o->score_std, o->head_sim, o->seed + b, err, sizeof err)) {
                fprintf(stderr, "attnbench decode: %s\n", err);
                return 1;
            }
            /* one model: every sequence has sequence 0's weights */
            if (b) for (int i = IN_WQ; i <= IN_WV; i++) {
                free(r->in[b].t[i]);
                r->in[b].t[i] = r->in[0].t[i];
            }
            r->seq[b] = &r->in[b];
        }
    const size_t H = o->heads, d = o->d_head;
    decode_config c;
    config_of(r, &c);
    c.batch = r->B;
    if (o->threads > 1 && !(c.pool = r->pool = par_pool_new(o->threads))) return ATTN_ENOMEM;
    size_t width;
    if (r->layer_form) {
        int rc = step_proj_build(&r->proj, r->ps, &r->in[0], r->kv);
        if (rc) return rc;
        if (r->proj.emb) { c.ek = r->proj.emb + H * d; c.ev = r->proj.emb + 2 * H * d; }
        width = r->proj.width;
    } else {
        for (int i = 0; i < 3; i++)
            if (!(r->tok[i] = token_major(r->in[0].t[i], i ? r->kv : H, r->in[0].n, d))) return ATTN_ENOMEM;
        width = 0;
    }
    ws_init(&r->mws, 0);
    int rc = decode_init(&r->ctx, &c, &r->mws);
    if (rc) return rc;
    r->ctx_ready = 1;
    r->sws = calloc(r->B, sizeof(workspace));
    r->seqs = calloc(r->B, sizeof(decode_seq));
    r->x = malloc(r->B * o->d_model * sizeof(float));
    r->y = malloc(r->B * (width ? width : 1) * sizeof(float));
    r->q = malloc(r->B * H * d * sizeof(float));
    r->out = malloc(r->B * H * d * sizeof(float));
    r->all_out = malloc(r->B * r->S * H * d * sizeof(float));
    r->times = malloc(r->S * sizeof(double));
    if (!r->sws || !r->seqs || !r->x || !r->y || !r->q || !r->out || !r->all_out || !r->times) return ATTN_ENOMEM;
    for (size_t b = 0; b < r->B; b++) {
        ws_init(&r->sws[b], 0);
        if ((rc = decode_seq_init(&r->ctx, &r->seqs[b], &r->sws[b]))) return rc;
    }
    return ATTN_OK;
}

/* the tokens at position pos of every sequence, projected, then one step */
static int one_step(run_state *r, size_t pos) {
    const size_t H = r->o.heads, d = r->o.d_head, B = r->B;
    if (!r->layer_form) {
        for (size_t b = 0; b < B; b++) memcpy(r->q + b * H * d, r->tok[0] + pos * H * d, H * d * sizeof(float));
        const float *k = r->tok[1] + pos * r->kv * d, *v = r->tok[2] + pos * r->kv * d;
        return decode_step(&r->ctx, r->seqs, B, r->q, H * d, k, v, 0, r->out); /* ldkv 0: one row for all */
    }
    const size_t dm = r->o.d_model, W = r->proj.width;
    for (size_t b = 0; b < B; b++) memcpy(r->x + b * dm, r->seq[b]->t[IN_X] + pos * dm, dm * sizeof(float));
    step_proj_rows(&r->proj, B, r->x, r->y, 0);
    step_proj_queries(&r->proj, B, r->y, r->q);
    const size_t kcol = r->proj.qh * d;
    return decode_step(&r->ctx, r->seqs, B, r->q, H * d, r->y + kcol, r->y + kcol + r->proj.kvc * d, W, r->out);
}

/* tokens [0, len) of every sequence appended in bulk, in blocks of rows */
static int fill_context(run_state *r, size_t len) {
    enum { BLOCK = 1024 };
    const size_t d = r->o.d_head, dm = r->o.d_model;
    for (size_t b = 0; b < r->B; b++) {
        if (!r->layer_form) {
            int rc = decode_append(&r->ctx, &r->seqs[b], len, r->tok[1], r->tok[2], r->kv * d);
            if (rc) return rc;
            continue;
        }
        const size_t W = r->proj.width, kcol = r->proj.qh * d;
        float *y = malloc((len < BLOCK ? len : BLOCK) * W * sizeof(float) + sizeof(float));
        if (!y) return ATTN_ENOMEM;
        for (size_t i0 = 0; i0 < len; i0 += BLOCK) {
            const size_t rows = len - i0 < BLOCK ? len - i0 : BLOCK;
            step_proj_rows(&r->proj, rows, r->seq[b]->t[IN_X] + i0 * dm, y, kcol);
            int rc = decode_append(&r->ctx, &r->seqs[b], rows, y + kcol, y + kcol + r->proj.kvc * d, W);
            if (rc) { free(y); return rc; }
        }
        free(y);
    }
    return ATTN_OK;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* context, warm-up steps, timed steps: 0, or an ATTN_* code */
static int decode_all(run_state *r) {
    const size_t W = r->m->decode->queries ? r->L : r->o.warmup, H = r->o.heads, d = r->o.d_head;
    int rc = fill_context(r, r->L - W);
    /* the steps: BLAS on one thread (the step's sgemm is one row per
     * sequence), the tasks on --threads threads; OpenBLAS's own threads
     * would spin beside them after each call */
    blas_set_threads(1);
    for (size_t pos = r->L - W; pos < r->L && rc == ATTN_OK; pos++) rc = one_step(r, pos);
    for (size_t t = 0; t < r->S && rc == ATTN_OK; t++) {
        const double t0 = now_seconds();
        rc = one_step(r, r->L + t);
        r->times[t] = now_seconds() - t0;
        for (size_t b = 0; b < r->B; b++)
            memcpy(r->all_out + (b * r->S + t) * H * d, r->out + b * H * d, H * d * sizeof(float));
    }
    return rc;
}

static void run_free(run_state *r) {
    if (r->seqs) for (size_t b = 0; b < r->B; b++) decode_seq_free(&r->seqs[b], &r->sws[b]);
    if (r->ctx_ready) decode_free(&r->ctx, &r->mws);
    step_proj_free(&r->proj);
    par_pool_free(r->pool);
    for (int i = 0; i < 3; i++) free(r->tok[i]);
    if (r->in) {
        for (size_t b = 1; b < r->B && !r->o.input; b++)
            for (int i = IN_WQ; i <= IN_WV; i++) r->in[b].t[i] = NULL; /* sequence 0's */
        for (size_t b = 0; b < (r->o.input ? 1 : r->B); b++) input_free(&r->in[b]);
    }
    free(r->in); free(r->seq); free(r->sws); free(r->seqs);
    free(r->x); free(r->y); free(r->q); free(r->out); free(r->all_out); free(r->times);
}

/* the columns every decode row has */
static void row_describe(const run_state *r, result_row *row) {
    const run_options *o = &r->o;
    row_set_attention_point(row, o, "decode", r->m->decode->name, r->ps->name, r->n, r->kv, !o->input || r->layer_form,
                            r->m->decode->knobs, &r->kn, 1);
    row_set(row, COL_context, "%zu", r->L);
    row_set(row, COL_steps, "%zu", r->S);
    row_set(row, COL_batch, "%zu", r->B);
    decode_config c;
    config_of(r, &c);
    kv_format_set_columns(row, r->fmt, &r->kvp, decode_bits_per_value(&c));
}

/* time, memory and traffic columns after the steps */
static void row_measured(run_state *r, result_row *row) {
    const size_t S = r->S;
    qsort(r->times, S, sizeof(double), cmp_double);
    const double med = S % 2 ? r->times[S / 2] : 0.5 * (r->times[S / 2 - 1] + r->times[S / 2]);
    const decode_config *c = &r->ctx.c;
    double bytes = (double)r->B * decode_read_bytes(c, (double)r->L + (double)(S + 1) / 2);
    if (r->layer_form) bytes += step_proj_bytes(&r->proj);
    bytes += 4.0 * (double)r->ctx.shared_floats; /* the entry's tables (random features), as weights */
    row_set(row, COL_status, "ok");
    row_set(row, COL_time_median_s, "%.6g", med);
    row_set(row, COL_step_time_s, "%.6g", med);
    row_set(row, COL_time_min_s, "%.6g", r->times[0]);
    row_set(row, COL_reps, "%zu", S);
    row_set(row, COL_tokens_per_s, "%.6g", (double)r->B / med);
    row_set(row, COL_cache_bytes, "%zu", r->sws[0].live);
    row_set(row, COL_cache_ratio, "%.6g", (double)r->sws[0].live / (double)r->ref_bytes);
    row_set(row, COL_workspace_bytes, "%zu", r->mws.peak);
    row_set(row, COL_read_bytes_per_step, "%.6g", bytes);
    row_set(row, COL_read_gbps, "%.4g", bytes / med * 1e-9);
    if (r->roof.n) { /* the step's limit: the whole batch's bytes at that working set, and flops */
        const double flops = (double)r->B * decode_step_flops(c, (double)r->L + (double)(S + 1) / 2);
        const char *bound = NULL;
        const double roof = roofline_bound(&r->roof, bytes, flops, &bound);
        row_set(row, COL_roofline_s, "%.6g", roof);
        row_set(row, COL_roofline_frac, "%.4g", roof / med);
        row_set(row, COL_roofline_bound, "%s", bound);
        roofline_note(&r->roof);
    }
    if (r->layer_form) {
        proj_shape ps = {r->n, r->o.d_model, r->o.heads, r->kv, r->o.d_head};
        row_set(row, COL_params, "%zu", r->ps->params(&ps));
    }
}

static int row_errors(run_state *r, result_row *row) {
    const attn_method *m = r->m;
    const int mass_kind = m->mass;
    const size_t H = r->o.heads, d = r->o.d_head, count = r->B * r->S * H * d;
    fault_nan(r->all_out, count); /* tests only (report.h) */
    const size_t bad = first_nonfinite(r->all_out, count);
    if (bad < count) { /* a measured row without error figures: they would be NaN */
        row_set(row, COL_status, "nonfinite");
        row_set(row, COL_note, "output element (sequence %zu, step %zu, head %zu, col %zu) is %s", bad / (r->S * H * d),
                bad / (H * d) % r->S, bad / d % H, bad % d, isnan(r->all_out[bad]) ? "NaN" : "Inf");
        return 0;
    }
    decode_errors e;
    int rc = decode_reference(r->seq, r->B, r->L, r->S, r->all_out, m, &r->kn, &e);
    if (rc == ATTN_ENOMEM) return 3; /* an oom row */
    if (rc) { fprintf(stderr, "attnbench decode: reference: %s\n", attn_strerror(rc)); return 1; }
    row_set(row, COL_rel_err, "%.6g", e.e.rel_err);
    row_set(row, COL_max_abs_err, "%.6g", e.e.max_abs_err);
    row_set(row, COL_cos_err, "%.6g", e.e.cos_err);
    row_set(row, COL_entropy, "%.6g", e.entropy);
    if (mass_kind) row_set(row, COL_topk_mass, "%.6g", e.mass);
    row_set(row, COL_err_rows, "%zu", r->B * r->S);
    row_set(row, COL_logit_std, "%.4g", input_logit_std(r->seq[0], 1));
    return 0;
}

static int check_options(run_state *r);

/* the options alone: 0, 1 (help printed: exit 0) or 2 after a message */
static int parse(run_state *r, int argc, char **argv) {
    decode_options_defaults(&r->o);
    int prc = options_parse(&r->o, OPTS_DECODE, argc, argv);
    if (prc) return prc;
    if (r->o.probe) return 0;
    return check_options(r);
}

void decode_options_defaults(run_options *o) {
    options_defaults(o, OPTS_DECODE);
    o->attention = "exact";
    o->context = 4096; o->steps = 64; o->batch = 1;
}

/* the parsed options' operator, scheme and sizes: 0, or 2 after a message */
static int check_options(run_state *r) {
    run_options *o = &r->o;
    if (!(r->m = attn_decode_find(o->attention))) {
        char names[512];
        attn_decode_names(names, sizeof names);
        return bad_input(cmd, "%s --attention '%s' (one of: %s)", attn_method_find(o->attention) ? "no decode for" : "unknown",
                         o->attention, names);
    }
    if (!(r->ps = proj_scheme_find(o->projection))) return bad_input(cmd, "unknown --projection '%s'", o->projection);
    if (r->m->decode->queries && r->ps->embed)
        return bad_input(cmd, "--attention %s keeps one set of keys per stored K/V head, and --projection %s stores one "
                         "for every head: not supported (its prefill keeps one per head)", o->attention, o->projection);
    if (o->context < 1) return bad_input(cmd, "--context must be at least 1");
    if (o->steps < 1) return bad_input(cmd, "--steps must be at least 1");
    if (o->batch < 1) return bad_input(cmd, "--batch must be at least 1");
    if (o->batch > 4096) return bad_input(cmd, "--batch %zu: at most 4096", o->batch);
    if (o->threads < 1 || o->threads > 1024) return bad_input(cmd, "--threads %zu: must be 1..1024", o->threads);
    if (o->warmup > o->context) return bad_input(cmd, "--warmup %zu is more than --context %zu (warm-up steps decode the context's last tokens)", o->warmup, o->context);
    r->L = o->context; r->S = o->steps; r->B = o->batch;
    if (r->L > SIZE_MAX / 2 - r->S) return bad_input(cmd, "--context + --steps overflows");
    r->n = r->L + r->S;
    return 0;
}

/* The identity columns of the row a decode run of o would write, resolved
 * as the run resolves them (an --input's shapes from its headers), with
 * nothing run and nothing printed: 0, or -1 when the run would refuse o. */
int decode_point_row(const run_options *o, result_row *row) {
    run_state r;
    memset(&r, 0, sizeof r);
    r.o = *o;
    bad_input_quiet(1);
    int rc = check_options(&r);
    if (!rc && o->input) {
        input_shape sh;
        rc = synthetic_only(o) || point_id_peek_input(o->input, 0, &sh) || input_shape_set(&r, &sh);
    } else if (!rc) {
        rc = synthetic_shape(&r);
    }
    if (!rc) rc = resolve_knobs(&r);
    bad_input_quiet(0);
    if (rc) return -1;
    row_describe(&r, row);
    return 0;
}

/* the row of a run out of memory (its point's columns, status oom, note)
 * in place of row: exit status 3, or 1 when it cannot be written */
static int decode_oom(const run_state *r, result_row *row, const char *note) {
    row_free(row);
    row_init(row);
    row_describe(r, row);
    row_set(row, COL_status, "oom");
    row_set(row, COL_note, "%s", note);
    return row_emit_oom(cmd, &r->o, row);
}

int cmd_decode(int argc, char **argv) {
    run_state r;
    memset(&r, 0, sizeof r);
    int rc = parse(&r, argc, argv);
    if (rc == 1) { decode_usage(); return 0; }
    if (rc) return rc;
    if (r.o.probe) return decode_probe(&r.o);
    if ((rc = setup_input(&r)) || (rc = setup_shape(&r))) { run_free(&r); return rc; }
    char perr[1024];
    if (r.o.probe_file && roofline_load(&r.roof, r.o.probe_file, r.o.threads, perr, sizeof perr)) {
        run_free(&r);
        return bad_input(cmd, "--probe-file %s", perr);
    }
    result_row row;
    row_init(&row);
    /* the address-space limit before any BLAS call (memlimit.h) */
    char note[512] = "";
    if (mem_fits_as_limit(r.need, r.o.threads, note, sizeof note)) {
        rc = decode_oom(&r, &row, note);
        goto done;
    }
    env_timing_line(cmd, r.o.threads, r.o.row_only); /* the timing context, one line on stderr */
    blas_set_threads((int)r.o.threads);
    blas_prime();
    rc = setup_run(&r);
    row_describe(&r, &row);
    if (rc == ATTN_OK) rc = decode_all(&r);
    if (rc == ATTN_ENOMEM) {
        rc = decode_oom(&r, &row, "the caches or the step's scratch could not be allocated");
    } else if (rc) {
        fprintf(stderr, "attnbench decode: %s\n", rc == 1 ? "failed" : attn_strerror(rc));
        rc = 1;
    } else {
        row_measured(&r, &row);
        rc = row_errors(&r, &row);
        if (rc == 3) {
            snprintf(note, sizeof note, "the float64 reference of %zu step(s) could not be allocated", r.S);
            rc = decode_oom(&r, &row, note);
        } else if (!rc) {
            rc = row_emit(cmd, &r.o, &row);
        }
    }
done:
    row_free(&row);
    run_free(&r);
    return rc;
}
