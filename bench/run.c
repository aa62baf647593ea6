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
#include "measure.h"
#include "methods.h"
#include "npy.h"
#include "options.h"
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(void) {
    printf("usage: attnbench run [options]\n\n"
           "Runs one attention configuration and prints one CSV row (a header first,\n"
           "unless --csv or --row-only). Error figures are against exact attention in\n"
           "float64 with the MHA projection.\n\noptions:\n");
    options_usage(stdout, OPTS_RUN);
    printf("\nattention operators (--attention):\n");
    for (const attn_method *m = attn_methods; m->name; m++) printf("  %-12s %s\n", m->name, m->summary);
    printf("\nprojection schemes (--projection):\n");
    for (const proj_scheme *p = proj_schemes; p->name; p++) printf("  %-12s %s\n", p->name, p->summary);
    printf("\nexit status: 0 ok; 2 bad input (no row); 3 the kernel ran out of memory\n"
           "(row with status oom); 1 any other failure.\n");
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
 * right after the timed calls. Nothing but the tests sets it. */
static void fault_point(void) {
    const char *f = getenv("ATTNBENCH_FAULT");
    if (!f) return;
    if (!strcmp(f, "crash")) abort();
    if (!strcmp(f, "hang")) for (;;) pause();
}

int cmd_run(int argc, char **argv) {
    const char *cmd = "run";
    run_options o;
    options_defaults(&o, OPTS_RUN);
    int prc = options_parse(&o, OPTS_RUN, argc, argv);
    if (prc == 1) { usage(); return 0; }
    if (prc) return prc;

    char names[512];
    const attn_method *m = attn_method_find(o.attention);
    if (!m) { list_names(names, sizeof names, 1); return bad_input(cmd, "unknown --attention '%s' (one of: %s)", o.attention, names); }
    const proj_scheme *ps = proj_scheme_find(o.projection);
    if (!ps) { list_names(names, sizeof names, 0); return bad_input(cmd, "unknown --projection '%s' (one of: %s)", o.projection, names); }
    if (o.dump) {
        struct stat st;
        if (stat(o.dump, &st) != 0 || !S_ISDIR(st.st_mode)) return bad_input(cmd, "--dump %s: not a directory", o.dump);
    }

    /* ---- the input ---- */
    char err[1024];
    layer_input in;
    if (o.input) {
        static const char *const fixed[] = {"n", "heads", "d-head", "d-model", "score-std", "head-sim"};
        if (input_load(&in, o.input, err, sizeof err)) return bad_input(cmd, "%s", err);
        size_t have[4] = {in.n, in.heads, in.d_head, in.d_model};
        size_t want[4] = {o.n, o.heads, o.d_head, o.d_model};
        for (int i = 0; i < 6; i++) {
            if (!options_given(&o, fixed[i])) continue;
            if (i >= 4) { input_free(&in); return bad_input(cmd, "--%s applies to synthetic input only, not --input", fixed[i]); }
            if (i == 3 && !in.layer_form) { input_free(&in); return bad_input(cmd, "--d-model does not apply to operator-form input (q.npy, k.npy, v.npy)"); }
            if (have[i] != want[i]) {
                input_free(&in);
                return bad_input(cmd, "--%s %zu disagrees with the input's %zu in %s", fixed[i], want[i], have[i], o.input);
            }
        }
        o.n = in.n; o.heads = in.heads; o.d_head = in.d_head; o.d_model = in.d_model;
        if (!in.layer_form && strcmp(ps->name, "mha") != 0) {
            input_free(&in);
            return bad_input(cmd, "--projection %s needs the layer form (x.npy, wq.npy, wk.npy, wv.npy); %s holds q, k, v", ps->name, o.input);
        }
    } else {
        if (!o.d_model) {
            if (size_mul(o.heads, o.d_head, &o.d_model)) return bad_input(cmd, "--heads * --d-head overflows");
        }
        if (!o.n || !o.heads || !o.d_head || !o.d_model)
            return bad_input(cmd, "--%s must be at least 1", !o.n ? "n" : !o.heads ? "heads" : !o.d_head ? "d-head" : "d-model");
        if (!(o.score_std > 0)) return bad_input(cmd, "--score-std %g: must be positive", o.score_std);
        if (o.head_sim < 0 || o.head_sim > 1) return bad_input(cmd, "--head-sim %g: must be in [0, 1]", o.head_sim);
    }
    if (o.n > (size_t)INT32_MAX || o.d_head > (size_t)INT32_MAX || o.d_model > (size_t)INT32_MAX)
        { if (o.input) input_free(&in); return bad_input(cmd, "sizes beyond 2^31-1 are not supported by BLAS"); }

    /* ---- shape and knobs ---- */
    size_t kv = in.layer_form || !o.input ? ps->kv_heads_for(o.heads, o.kv_heads) : in.kv_heads;
    if (!o.input) in.layer_form = 1; /* not loaded yet: synthetic is layer form */
    if (options_given(&o, "kv-heads") && kv != o.kv_heads) {
        if (o.input) input_free(&in);
        return bad_input(cmd, "--kv-heads %zu does not apply to --projection %s (it has %zu K/V heads)", o.kv_heads, ps->name, kv);
    }
    if (!kv) {
        if (o.input) input_free(&in);
        return bad_input(cmd, "--projection %s needs --kv-heads G (a divisor of --heads %zu)", ps->name, o.heads);
    }
    if (o.heads % kv) {
        if (o.input) input_free(&in);
        return bad_input(cmd, "--kv-heads %zu must divide --heads %zu", kv, o.heads);
    }
    attn_shape s = {o.heads, kv, o.n, o.d_head, o.causal};
    attn_knobs kn = {.k = o.k, .chunk = o.chunk, .features = o.features, .seed = o.seed, .threads = o.threads};
    if (m->knobs & KNOB_K) {
        if (!options_given(&o, "k")) kn.k = o.n < 64 ? o.n : 64;
        if (kn.k < 1) { if (o.input) input_free(&in); return bad_input(cmd, "--k must be at least 1"); }
        if (kn.k > o.n) { if (o.input) input_free(&in); return bad_input(cmd, "--k %zu is larger than --n %zu", kn.k, o.n); }
    }
    if ((m->knobs & KNOB_CHUNK) && kn.chunk < 1) { if (o.input) input_free(&in); return bad_input(cmd, "--chunk must be at least 1"); }
    if (m->knobs & KNOB_FEATURES) {
        if (!options_given(&o, "features")) {
            double f = ceil((double)o.d_head * log((double)o.d_head));
            kn.features = f < 1 ? 1 : (size_t)f;
        }
        if (kn.features < 1) { if (o.input) input_free(&in); return bad_input(cmd, "--features must be at least 1"); }
    }
    if (o.threads < 1 || o.threads > 1024) { if (o.input) input_free(&in); return bad_input(cmd, "--threads %zu: must be 1..1024", o.threads); }

    /* ---- memory the inputs and the reference need, refused before allocation ---- */
    size_t qn, kvn, xw = 0, need = 0;
    int ovf = size_mul3(o.heads, o.n, o.d_head, &qn) || size_mul3(kv, o.n, o.d_head, &kvn);
    if (!ovf && in.layer_form) {
        size_t xs, ws_;
        ovf = size_mul(o.n, o.d_model, &xs) || size_mul3(o.heads, o.d_model, o.d_head, &ws_) ||
              __builtin_add_overflow(xs, 3 * ws_, &xw) || ws_ > SIZE_MAX / 4;
    }
    /* float: inputs, q, k, v, out; float64: reference q, k, v, out */
    if (!ovf) {
        size_t fl = 0, db = 0;
        ovf = __builtin_add_overflow(xw, 2 * qn, &fl) || __builtin_add_overflow(fl, 2 * kvn, &fl) ||
              __builtin_add_overflow(2 * qn, 2 * kvn, &db) || size_mul(fl, 4, &fl) || size_mul(db, 8, &db) ||
              __builtin_add_overflow(fl, db, &need) || qn > SIZE_MAX / 4 || kvn > SIZE_MAX / 4;
    }
    size_t total = mem_total_bytes();
    if (ovf) { if (o.input) input_free(&in); return bad_input(cmd, "sizes overflow: heads %zu x n %zu x d_head %zu", o.heads, o.n, o.d_head); }
    if (total && need > total) {
        if (o.input) input_free(&in);
        return bad_input(cmd, "inputs and reference need %.3g GiB, more than this machine's %.3g GiB", need / 1073741824.0, total / 1073741824.0);
    }

    if (!o.input && input_synthetic(&in, o.n, o.heads, o.d_head, o.d_model, o.score_std, o.head_sim, o.seed, err, sizeof err)) {
        fprintf(stderr, "attnbench run: %s\n", err);
        return 1;
    }

    blas_set_threads((int)o.threads);
    blas_prime();
    if (blas_core_is_fallback())
        fprintf(stderr, "attnbench run: warning: OpenBLAS runs on its generic '%s' kernels; timings are not representative (set OPENBLAS_CORETYPE)\n", blas_core_name());

    /* ---- q, k, v as the method sees them ---- */
    float *q = NULL, *k = NULL, *v = NULL, *out = NULL;
    int rc = 1;
    result_row row;
    row_init(&row);
    size_t params = 0;
    if (in.layer_form) {
        q = malloc(qn * sizeof(float)); k = malloc(kvn * sizeof(float)); v = malloc(kvn * sizeof(float));
        if (!q || !k || !v) { fprintf(stderr, "attnbench run: out of memory for q, k, v\n"); goto done; }
        proj_shape pshape = {o.n, o.d_model, o.heads, kv, o.d_head};
        workspace pws;
        ws_init(&pws, 0);
        int prc2 = ps->project(&pshape, in.t[IN_X], in.t[IN_WQ], in.t[IN_WK], in.t[IN_WV], q, k, v, &pws);
        if (prc2) { fprintf(stderr, "attnbench run: projection %s: %s\n", ps->name, attn_strerror(prc2)); goto done; }
        params = ps->params(&pshape);
    } else {
        q = in.t[IN_Q]; k = in.t[IN_K]; v = in.t[IN_V];
    }
    out = malloc(qn * sizeof(float));
    if (!out) { fprintf(stderr, "attnbench run: out of memory for the output\n"); goto done; }
    make_resident(out, qn * sizeof(float)); /* resident before the measurement starts */

    /* ---- timed calls ---- */
    call_ctx c = {m, s, kn, q, k, v, out, mem_total_bytes(), 0, 0};
    timing t;
    measure(one_call, &c, o.warmup, o.reps, &t);
    fault_point();

    row_set(&row, COL_layer, "attention");
    row_set(&row, COL_attention, "%s", m->name);
    row_set(&row, COL_projection, "%s", ps->name);
    row_set(&row, COL_n, "%zu", o.n);
    row_set(&row, COL_heads, "%zu", o.heads);
    row_set(&row, COL_kv_heads, "%zu", kv);
    row_set(&row, COL_d_head, "%zu", o.d_head);
    if (in.layer_form) row_set(&row, COL_d_model, "%zu", o.d_model);
    if (m->knobs & KNOB_K) row_set(&row, COL_k, "%zu", kn.k);
    if (m->knobs & KNOB_CHUNK) row_set(&row, COL_chunk, "%zu", kn.chunk);
    if (m->knobs & KNOB_FEATURES) row_set(&row, COL_features, "%zu", kn.features);
    row_set(&row, COL_causal, "%d", o.causal);
    if (!o.input) {
        row_set(&row, COL_score_std, "%g", o.score_std);
        row_set(&row, COL_head_sim, "%g", o.head_sim);
    }
    row_set_common(&row, &o);
    if (in.layer_form) row_set(&row, COL_params, "%zu", params);
    row_set(&row, COL_logit_std, "%.4g", input_logit_std(&in, o.causal));
    if (!t.rss_exact) row_set(&row, COL_note, "peak RSS from getrusage (clear_refs refused)");

    if (t.error == ATTN_ENOMEM) {
        row_set(&row, COL_status, "oom");
        row_set(&row, COL_workspace_bytes, "%zu", m->workspace_bytes(&s, &kn));
        row_set(&row, COL_note, "workspace of %zu bytes could not be allocated", m->workspace_bytes(&s, &kn));
        rc = row_emit(cmd, &o, &row) ? 1 : 3;
        goto done;
    }
    if (t.error) { fprintf(stderr, "attnbench run: %s: %s\n", m->name, attn_strerror(t.error)); rc = 1; goto done; }
    if (c.ws_leak) { fprintf(stderr, "attnbench run: %s returned holding workspace memory\n", m->name); goto done; }

    row_set(&row, COL_status, "ok");
    row_set(&row, COL_time_median_s, "%.6g", t.median_s);
    row_set(&row, COL_time_min_s, "%.6g", t.min_s);
    row_set(&row, COL_reps, "%zu", t.reps);
    row_set(&row, COL_gflops, "%.4g", m->flops(&s, &kn) / t.median_s * 1e-9);
    row_set(&row, COL_peak_rss_bytes, "%zu", t.peak_rss);
    row_set(&row, COL_kernel_peak_bytes, "%zu", t.kernel_peak);
    row_set(&row, COL_workspace_bytes, "%zu", c.ws_peak);

    /* ---- the reference, after the measurement ---- */
    {
        size_t nrows;
        size_t *rows = error_rows(o.n, o.dump ? 0 : o.ref_rows, &nrows);
        double *rq, *rk, *rv, *ref = NULL, *ent = NULL, *mass = NULL;
        if (input_reference_qkv(&in, &rq, &rk, &rv)) { fprintf(stderr, "attnbench run: out of memory for the reference\n"); free(rows); goto done; }
        attn_shape rs = {o.heads, in.layer_form ? o.heads : in.kv_heads, o.n, o.d_head, o.causal};
        ref_opts ro = {.topk = (m->knobs & KNOB_K) ? kn.k : 0, .block = 0};
        ref = malloc(o.heads * nrows * o.d_head * sizeof(double));
        ent = malloc(o.heads * nrows * sizeof(double));
        mass = ro.topk ? malloc(o.heads * nrows * sizeof(double)) : NULL;
        workspace rws;
        ws_init(&rws, 0);
        int rrc = (!ref || !ent || (ro.topk && !mass)) ? ATTN_ENOMEM
                  : reference_attention(&rs, rq, rk, rv, rows, nrows, &ro, ref, ent, mass, &rws);
        free(rq); free(rk); free(rv);
        if (rrc) {
            fprintf(stderr, "attnbench run: reference: %s\n", attn_strerror(rrc));
            free(rows); free(ref); free(ent); free(mass);
            goto done;
        }
        error_stats es;
        error_compare(out, ref, o.heads, o.n, o.d_head, rows, nrows, &es);
        double esum = 0, msum = 0;
        for (size_t i = 0; i < o.heads * nrows; i++) { esum += ent[i]; if (mass) msum += mass[i]; }
        row_set(&row, COL_rel_err, "%.6g", es.rel_err);
        row_set(&row, COL_max_abs_err, "%.6g", es.max_abs_err);
        row_set(&row, COL_cos_err, "%.6g", es.cos_err);
        row_set(&row, COL_entropy, "%.6g", esum / (double)(o.heads * nrows));
        if (mass) row_set(&row, COL_topk_mass, "%.6g", msum / (double)(o.heads * nrows));
        row_set(&row, COL_err_rows, "%zu", nrows);
        int drc = 0;
        if (o.dump) {
            drc = dump_npy("run", o.dump, "q.npy", q, NULL, o.heads, o.n, o.d_head) ||
                  dump_npy("run", o.dump, "k.npy", k, NULL, kv, o.n, o.d_head) ||
                  dump_npy("run", o.dump, "v.npy", v, NULL, kv, o.n, o.d_head) ||
                  dump_npy("run", o.dump, "out.npy", out, NULL, o.heads, o.n, o.d_head) ||
                  dump_npy("run", o.dump, "ref.npy", NULL, ref, o.heads, o.n, o.d_head);
        }
        free(rows); free(ref); free(ent); free(mass);
        if (drc) goto done;
    }
    rc = row_emit(cmd, &o, &row);
done:
    row_free(&row);
    if (in.layer_form) { free(q); free(k); free(v); }
    free(out);
    input_free(&in);
    return rc;
}
