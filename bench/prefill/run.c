/* run.c — `attnbench run`: one attention configuration, one CSV row.
 *
 * Order of work, so the reference never inflates the measured memory:
 *   1. parse and validate (bad input: one line, exit 2, no row);
 *   2. build the input and project it to q, k, v (untimed);
 *   3. warm-up calls, then timed calls; peak RSS and the workspace count;
 *   4. the float64 reference and the error figures;
 *   5. the row. */
#include "commands.h"
#include "env.h"
#include "input.h"
#include "knobs.h"
#include "measure.h"
#include "methods.h"
#include "npy.h"
#include "options.h"
#include "report.h"
#include "memlimit.h"
#include "exit_status.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const cmd = "run";

static void usage(void) {
    printf("usage: attnbench run [options]\n\n"
           "Runs one attention configuration and prints one CSV row (a header first,\n"
           "unless --csv or --row-only). Error figures are against exact attention in\n"
           "float64 with the MHA projection.\n\noptions:\n");
    options_usage(stdout, OPTS_RUN);
    printf("\nAn option the chosen --attention does not read (see each operator's knobs\n"
           "below) is an error; the operator fills the defaults of those it reads.\n"
           "--dump DIR is created if missing. --csv FILE: the sidecar is FILE with a final\n"
           ".csv replaced by .env (results/sweep.csv -> results/sweep.env; a FILE without\n"
           ".csv gets FILE.env).\n");
    printf("\nattention operators (--attention):\n");
    char reads[200];
    for (const attn_method *m = attn_methods; m->name; m++) {
        knobs_describe(m->knobs, reads, sizeof reads);
        printf("  %-12s %s%s\n", m->name, m->summary, reads);
    }
    printf("\nprojection schemes (--projection):\n");
    for (const proj_scheme *p = proj_schemes; p->name; p++) {
        knobs_describe(p->knobs, reads, sizeof reads);
        printf("  %-12s %s%s\n", p->name, p->summary, reads);
    }
    printf("\nexit status: 0 a measured row: ok, or nonfinite (the output held NaN or Inf;\n"
           "the first bad element in note); 2 bad input (no row), inputs whose values\n"
           "overflow float32 included; 3 out of memory (row with status oom: the kernel's\n"
           "workspace, or the point's stated memory over the machine or the address-space\n"
           "limit, refused before allocating); 1 any other failure.\n");
}

static void list_names(char *out, size_t cap, int attention) {
    size_t len = 0;
    out[0] = '\0';
    if (attention)
        for (const attn_method *m = attn_methods; m->name && len < cap; m++)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "", m->name);
    else
        for (const proj_scheme *p = proj_schemes; p->name && len < cap; p++)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "", p->name);
}

/* the state one timed call needs */
typedef struct {
    const attn_method *m;
    attn_shape s;
    attn_knobs kn;
    const float *q, *k, *v;
    float *out;
    size_t ws_limit, ws_peak;
    int ws_leak;
} call_ctx;

static int one_call(void *p) {
    call_ctx *c = p;
    workspace ws;
    ws_init(&ws, c->ws_limit);
    int rc = c->m->forward(&c->s, &c->kn, c->q, c->k, c->v, c->out, &ws);
    if (ws.peak > c->ws_peak) c->ws_peak = ws.peak;
    if (ws.live) c->ws_leak = 1;
    return rc;
}

/* Test-only fault injection, so the sweep's handling of a point that dies or
 * hangs can be tested: ATTNBENCH_FAULT=crash aborts, =hang sleeps forever,
 * =nan poisons the output (fault_nan: the `nonfinite` status), right after the timed
 * calls. Nothing but the tests sets it. */
static void fault_point(float *out, size_t count) {
    const char *f = getenv("ATTNBENCH_FAULT");
    if (!f) return;
    if (!strcmp(f, "crash")) abort();
    if (!strcmp(f, "hang")) for (;;) pause();
    fault_nan(out, count);
}

/* Values float32 cannot carry through attention are bad input, not a row:
 * a q, k or v that is not finite (a projection that overflowed), scores
 * q.k that could overflow (|x|^2 d_head over FLT_MAX for the largest |q| or
 * |k|), or output sums that could (n |v|max over FLT_MAX: Performer sums
 * up to n values before it divides). 0, or 1 with one line in err. */
static int qkv_overflow(const float *q, const float *k, const float *v, size_t qn, size_t kvn,
                        size_t n, size_t d, const char *what, char *err, size_t cap) {
    const float *t[3] = {q, k, v};
    const char *names[3] = {"q", "k", "v"};
    for (int i = 0; i < 3; i++) {
        const size_t cnt = i ? kvn : qn, at = first_nonfinite(t[i], cnt);
        if (at < cnt) {
            snprintf(err, cap, "%s: %s holds %s at element %zu (its values overflow float32)", what, names[i],
                     isnan(t[i][at]) ? "NaN" : "Inf", at);
            return 1;
        }
    }
    const double mq = max_abs(q, qn), mk = max_abs(k, kvn), mv = max_abs(v, kvn), mx = mq > mk ? mq : mk;
    if (mx * mx * (double)d > FLT_MAX) {
        snprintf(err, cap, "%s: the largest |q| or |k| is %g; %g^2 x d_head %zu = %g overflows float32 (max %g): "
                 "the scores q.k would not be finite", what, mx, mx, d, mx * mx * (double)d, (double)FLT_MAX);
        return 1;
    }
    if (mv * (double)n > FLT_MAX) {
        snprintf(err, cap, "%s: the largest |v| is %g; x n %zu = %g overflows float32 (max %g): the output sums "
                 "would not be finite", what, mv, n, mv * (double)n, (double)FLT_MAX);
        return 1;
    }
    return 0;
}

/* option checks that need no input and that the registry's ranges do not
 * make: --kv-heads at most --heads, --dump's directory (created); 0, or 2
 * after one line */
static int check_run_options(const run_options *o) {
    if (options_given(o, "kv-heads") && o->kv_heads > o->heads)
        return bad_input(cmd, "--kv-heads %zu: must be 1..%zu", o->kv_heads, o->heads);
    char err[600];
    if (o->dump && make_dirs(o->dump, err, sizeof err)) return bad_input(cmd, "--dump %s", err);
    return 0;
}

/* ---- the phases, in the order of work at the top -------------------------- */

/* what the phases share; each returns 0 to go on, or the exit status */
typedef struct {
    run_options o;
    const attn_method *m;
    const proj_scheme *ps;
    layer_input in;
    attn_shape s;
    attn_knobs kn;
    size_t qn, kvn, need;      /* q and k/v element counts; bytes the inputs and reference need */
    result_row row;
    float *q, *k, *v, *out;    /* q, k, v: projected (layer form) or the input's own */
    size_t params;
    call_ctx c;
    timing t;
} run_state;

/* the options, the operator and the scheme: 0, 1 (help printed) or 2 */
static int phase_options(run_state *r, int argc, char **argv) {
    run_options *o = &r->o;
    options_defaults(o, OPTS_RUN);
    int prc = options_parse(o, OPTS_RUN, argc, argv);
    if (prc) return prc;
    char names[512], kerr[400];
    if (!(r->m = attn_method_find(o->attention))) {
        list_names(names, sizeof names, 1);
        return bad_input(cmd, "unknown --attention '%s' (one of: %s)", o->attention, names);
    }
    if (!(r->ps = proj_scheme_find(o->projection))) {
        list_names(names, sizeof names, 0);
        return bad_input(cmd, "unknown --projection '%s' (one of: %s)", o->projection, names);
    }
    if (knobs_check_read(o, OPTS_RUN, r->m->knobs, "attention", r->m->name, kerr, sizeof kerr))
        return bad_input(cmd, "%s", kerr);
    return check_run_options(o);
}

/* --input's shapes against the options, or the synthetic input's sizes */
static int phase_input(run_state *r) {
    run_options *o = &r->o;
    layer_input *in = &r->in;
    char err[1024];
    if (!o->input) {
        if (!o->d_model && size_mul(o->heads, o->d_head, &o->d_model)) return bad_input(cmd, "--heads * --d-head overflows");
        if (!o->n || !o->heads || !o->d_head || !o->d_model)
            return bad_input(cmd, "--%s must be at least 1", !o->n ? "n" : !o->heads ? "heads" : !o->d_head ? "d-head" : "d-model");
        if (!(o->score_std > 0)) return bad_input(cmd, "--score-std %g: must be positive", o->score_std);
        if (o->head_sim < 0 || o->head_sim > 1) return bad_input(cmd, "--head-sim %g: must be in [0, 1]", o->head_sim);
        /* the logit scale is calibrated on query-key pairs: one pair has no spread */
        if (o->n * o->heads < 2)
            return bad_input(cmd, "synthetic input with --n 1 needs --heads 2 or more (--score-std is calibrated over query-key pairs)");
        return 0;
    }
    static const char *const fixed[] = {"n", "heads", "d-head", "d-model", "score-std", "head-sim"};
    if (input_load(in, o->input, err, sizeof err)) return bad_input(cmd, "%s", err);
    const size_t have[4] = {in->n, in->heads, in->d_head, in->d_model}, want[4] = {o->n, o->heads, o->d_head, o->d_model};
    for (int i = 0; i < 6; i++) {
        if (!options_given(o, fixed[i])) continue;
        if (i >= 4) return bad_input(cmd, "--%s applies to synthetic input only, not --input", fixed[i]);
        if (i == 3 && !in->layer_form) return bad_input(cmd, "--d-model does not apply to operator-form input (q.npy, k.npy, v.npy)");
        if (have[i] != want[i]) return bad_input(cmd, "--%s %zu disagrees with the input's %zu in %s", fixed[i], want[i], have[i], o->input);
    }
    o->n = in->n; o->heads = in->heads; o->d_head = in->d_head; o->d_model = in->d_model;
    if (!in->layer_form && !(r->ps->flags & PROJ_REFERENCE)) /* only MHA takes q, k, v as they are */
        return bad_input(cmd, "--projection %s needs the layer form (x.npy, wq.npy, wk.npy, wv.npy); %s holds q, k, v", r->ps->name, o->input);
    return 0;
}

/* the K/V heads, the shape and the method's knobs (its defaults and checks) */
static int phase_shape(run_state *r) {
    run_options *o = &r->o;
    if (o->n > (size_t)INT32_MAX || o->d_head > (size_t)INT32_MAX || o->d_model > (size_t)INT32_MAX)
        return bad_input(cmd, "sizes beyond 2^31-1 are not supported by BLAS");
    const size_t kv = r->in.layer_form || !o->input ? r->ps->kv_heads_for(o->heads, o->kv_heads) : r->in.kv_heads;
    if (!o->input) r->in.layer_form = 1; /* not made yet: synthetic input is layer form */
    if (options_given(o, "kv-heads") && kv != o->kv_heads)
        return bad_input(cmd, "--kv-heads %zu does not apply to --projection %s (it has %zu K/V heads)", o->kv_heads, r->ps->name, kv);
    if (!kv) return bad_input(cmd, "--projection %s needs --kv-heads G (a divisor of --heads %zu)", r->ps->name, o->heads);
    if (o->heads % kv) return bad_input(cmd, "--kv-heads %zu must divide --heads %zu", kv, o->heads);
    r->s = (attn_shape){o->heads, kv, o->n, o->d_head, o->causal};
    char kerr[400];
    if (knobs_resolve(o, OPTS_RUN, r->m, &r->s, &r->kn, kerr, sizeof kerr)) return bad_input(cmd, "%s", kerr);
    return 0;
}

/* the memory the inputs and the reference need, refused before anything
 * large is allocated: over the machine, bad input; over the address-space
 * limit (with OpenBLAS's buffers) or the workspace formula over the
 * machine, an oom row at once */
static int phase_memory(run_state *r) {
    const run_options *o = &r->o;
    size_t xw = 0;
    int ovf = size_mul3(o->heads, o->n, o->d_head, &r->qn) || size_mul3(r->s.kv_heads, o->n, o->d_head, &r->kvn);
    if (!ovf && r->in.layer_form) {
        size_t xs, ws_;
        ovf = size_mul(o->n, o->d_model, &xs) || size_mul3(o->heads, o->d_model, o->d_head, &ws_) ||
              __builtin_add_overflow(xs, 3 * ws_, &xw) || ws_ > SIZE_MAX / 4;
    }
    if (!ovf) { /* float: inputs, q, k, v, out; float64: reference q, k, v, out */
        size_t fl = 0, db = 0;
        ovf = __builtin_add_overflow(xw, 2 * r->qn, &fl) || __builtin_add_overflow(fl, 2 * r->kvn, &fl) ||
              __builtin_add_overflow(2 * r->qn, 2 * r->kvn, &db) || size_mul(fl, 4, &fl) || size_mul(db, 8, &db) ||
              __builtin_add_overflow(fl, db, &r->need) || r->qn > SIZE_MAX / 4 || r->kvn > SIZE_MAX / 4;
    }
    const size_t total = mem_total_bytes();
    if (ovf) return bad_input(cmd, "sizes overflow: heads %zu x n %zu x d_head %zu", o->heads, o->n, o->d_head);
    if (total && r->need > total)
        return bad_input(cmd, "inputs and reference need %.3g GiB, more than this machine's %.3g GiB",
                         r->need / 1073741824.0, total / 1073741824.0);
    row_set_attention_point(&r->row, o, "prefill", r->m->name, r->ps->name, o->n, r->s.kv_heads, r->in.layer_form,
                            r->m->knobs, &r->kn, o->causal);
    const size_t wsb = r->m->workspace_bytes(&r->s, &r->kn);
    char note[400] = "";
    if (total && wsb > total)
        snprintf(note, sizeof note, "the workspace formula gives %zu bytes, more than this machine's %zu", wsb, total);
    else
        (void)mem_fits_as_limit(size_add_sat(r->need, wsb), o->threads, note, sizeof note);
    if (!note[0]) return 0;
    row_set(&r->row, COL_status, "oom");
    row_set(&r->row, COL_workspace_bytes, "%zu", wsb);
    row_set(&r->row, COL_note, "%s", note);
    exit_now(row_emit_oom(cmd, o, &r->row)); /* not exit(): OpenBLAS may be stuck on a refused buffer */
}

/* the synthetic input, OpenBLAS, q, k, v as the method sees them, and out */
static int phase_qkv(run_state *r) {
    const run_options *o = &r->o;
    layer_input *in = &r->in;
    char err[1024];
    if (!o->input && input_synthetic(in, o->n, o->heads, o->d_head, o->d_model, o->score_std, o->head_sim, o->seed, err, sizeof err)) {
        fprintf(stderr, "attnbench run: %s\n", err);
        return EXIT_INTERNAL;
    }
    blas_set_threads((int)o->threads);
    blas_prime();
    if (blas_core_is_fallback())
        fprintf(stderr, "attnbench run: warning: OpenBLAS runs on its generic '%s' kernels; timings are not representative (set OPENBLAS_CORETYPE)\n", blas_core_name());
    if (in->layer_form) {
        r->q = malloc(r->qn * sizeof(float)); r->k = malloc(r->kvn * sizeof(float)); r->v = malloc(r->kvn * sizeof(float));
        if (!r->q || !r->k || !r->v) { fprintf(stderr, "attnbench run: out of memory for q, k, v\n"); return EXIT_INTERNAL; }
        proj_shape pshape = {o->n, o->d_model, o->heads, r->s.kv_heads, o->d_head};
        workspace pws;
        ws_init(&pws, 0);
        int prc = r->ps->project(&pshape, in->t[IN_X], in->t[IN_WQ], in->t[IN_WK], in->t[IN_WV], r->q, r->k, r->v, &pws);
        if (prc) { fprintf(stderr, "attnbench run: projection %s: %s\n", r->ps->name, attn_strerror(prc)); return EXIT_INTERNAL; }
        r->params = r->ps->params(&pshape);
    } else {
        r->q = in->t[IN_Q]; r->k = in->t[IN_K]; r->v = in->t[IN_V];
    }
    if (qkv_overflow(r->q, r->k, r->v, r->qn, r->kvn, o->n, o->d_head, o->input ? o->input : "synthetic input", err, sizeof err))
        return bad_input(cmd, "%s", err);
    if (!(r->out = malloc(r->qn * sizeof(float)))) { fprintf(stderr, "attnbench run: out of memory for the output\n"); return EXIT_INTERNAL; }
    make_resident(r->out, r->qn * sizeof(float)); /* resident before the measurement starts */
    return 0;
}

/* the timed calls into the row: 0 (go on to the reference), or the exit
 * status of a finished row (oom, nonfinite) or a failure */
static int phase_time(run_state *r) {
    const run_options *o = &r->o;
    env_timing_line(cmd, o->threads, o->row_only); /* the timing context, one line on stderr */
    r->c = (call_ctx){r->m, r->s, r->kn, r->q, r->k, r->v, r->out, mem_total_bytes(), 0, 0};
    measure(one_call, &r->c, o->warmup, o->reps, &r->t);
    fault_point(r->out, r->qn);
    if (r->in.layer_form) row_set(&r->row, COL_params, "%zu", r->params);
    row_set(&r->row, COL_logit_std, "%.4g", input_logit_std(&r->in, o->causal));
    size_t bad;
    switch (row_from_timing(cmd, r->m->name, &r->row, &r->t, r->m->flops(&r->s, &r->kn), r->c.ws_peak,
                            r->m->workspace_bytes(&r->s, &r->kn), r->out, r->qn, &bad)) {
    case TAIL_OOM: return row_emit_oom(cmd, o, &r->row);
    case TAIL_FAILED: return EXIT_INTERNAL;
    }
    if (r->c.ws_leak) { fprintf(stderr, "attnbench run: %s returned holding workspace memory\n", r->m->name); return EXIT_INTERNAL; }
    if (bad == r->qn) return 0;
    /* a measured row without error figures: they would be NaN */
    const size_t per_head = o->n * o->d_head;
    row_set(&r->row, COL_note, "output element (head %zu, row %zu, col %zu) is %s", bad / per_head,
            bad % per_head / o->d_head, bad % o->d_head, isnan(r->out[bad]) ? "NaN" : "Inf");
    return row_emit(cmd, o, &r->row) ? EXIT_INTERNAL : -1; /* -1: emitted, exit 0 */
}

/* the float64 reference after the measurement, and the error figures */
static int phase_reference(run_state *r) {
    const run_options *o = &r->o;
    const attn_method *m = r->m;
    size_t nrows;
    size_t *rows = error_rows(o->n, o->dump ? 0 : o->ref_rows, &nrows);
    double *rq, *rk, *rv;
    if (input_reference_qkv(&r->in, &rq, &rk, &rv)) { fprintf(stderr, "attnbench run: out of memory for the reference\n"); free(rows); return EXIT_INTERNAL; }
    attn_shape rs = {o->heads, r->in.layer_form ? o->heads : r->in.kv_heads, o->n, o->d_head, o->causal};
    /* the method's statistic: the mass of the k largest (in the reference's
     * own pass) or of the set it keeps (its hook) */
    ref_opts ro = {.topk = m->mass == ATTN_MASS_LARGEST ? r->kn.k : 0, .block = 0};
    double *ref = malloc(o->heads * nrows * o->d_head * sizeof(double)), *ent = malloc(o->heads * nrows * sizeof(double));
    double *mass = m->mass != ATTN_MASS_NONE ? malloc(o->heads * nrows * sizeof(double)) : NULL;
    workspace rws;
    ws_init(&rws, 0);
    int rrc = (!ref || !ent || (m->mass && !mass)) ? ATTN_ENOMEM
              : reference_attention(&rs, rq, rk, rv, rows, nrows, &ro, ref, ent, mass, &rws);
    if (!rrc && m->mass == ATTN_MASS_KEPT) rrc = m->kept_mass(&rs, &r->kn, rq, rk, rows, nrows, mass, &rws);
    free(rq); free(rk); free(rv);
    int rc = 0;
    if (rrc) {
        fprintf(stderr, "attnbench run: reference: %s\n", attn_strerror(rrc));
        rc = EXIT_INTERNAL;
    } else if (first_nonfinite_f64(ref, o->heads * nrows * o->d_head) < o->heads * nrows * o->d_head) {
        rc = bad_input(cmd, "the float64 reference is not finite: the input's values are too large");
    } else {
        error_stats es;
        error_compare(r->out, ref, o->heads, o->n, o->d_head, rows, nrows, &es);
        double esum = 0, msum = 0;
        for (size_t i = 0; i < o->heads * nrows; i++) { esum += ent[i]; if (mass) msum += mass[i]; }
        row_set(&r->row, COL_rel_err, "%.6g", es.rel_err);
        row_set(&r->row, COL_max_abs_err, "%.6g", es.max_abs_err);
        row_set(&r->row, COL_cos_err, "%.6g", es.cos_err);
        row_set(&r->row, COL_entropy, "%.6g", esum / (double)(o->heads * nrows));
        if (mass) row_set(&r->row, COL_topk_mass, "%.6g", msum / (double)(o->heads * nrows));
        row_set(&r->row, COL_err_rows, "%zu", nrows);
        if (o->dump && (dump_npy(cmd, o->dump, "q.npy", r->q, NULL, o->heads, o->n, o->d_head) ||
                        dump_npy(cmd, o->dump, "k.npy", r->k, NULL, r->s.kv_heads, o->n, o->d_head) ||
                        dump_npy(cmd, o->dump, "v.npy", r->v, NULL, r->s.kv_heads, o->n, o->d_head) ||
                        dump_npy(cmd, o->dump, "out.npy", r->out, NULL, o->heads, o->n, o->d_head) ||
                        dump_npy(cmd, o->dump, "ref.npy", NULL, ref, o->heads, o->n, o->d_head)))
            rc = EXIT_INTERNAL;
    }
    free(rows); free(ref); free(ent); free(mass);
    return rc;
}

int cmd_run(int argc, char **argv) {
    run_state r;
    memset(&r, 0, sizeof r);
    row_init(&r.row);
    int rc = phase_options(&r, argc, argv);
    if (rc == 1) { usage(); rc = 0; goto done; }
    if (!rc) rc = phase_input(&r);
    if (!rc) rc = phase_shape(&r);
    if (!rc) rc = phase_memory(&r);
    if (!rc) rc = phase_qkv(&r);
    if (!rc) rc = phase_time(&r);
    if (!rc) rc = phase_reference(&r);
    if (!rc) rc = row_emit(cmd, &r.o, &r.row) ? EXIT_INTERNAL : EXIT_ROW;
    if (rc < 0) rc = EXIT_ROW; /* a row phase_time emitted */
done:
    row_free(&r.row);
    if (r.in.layer_form) { free(r.q); free(r.k); free(r.v); }
    free(r.out);
    input_free(&r.in);
    return rc;
}
