/* run_ffn.c — `attnbench ffn`: the feed-forward layer out = ReLU(X W1) W2,
 * exact or top-k over the d_ff hidden units (Gupta et al., 2021), one CSV row.
 * The same order of work as `run`: validate, build the input, time, then the
 * float64 reference and the errors. */
#include "commands.h"
#include "env.h"
#include "knobs.h"
#include "measure.h"
#include "methods.h"
#include "npy.h"
#include "options.h"
#include "report.h"
#include "exit_status.h"
#include "memlimit.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(void) {
    printf("usage: attnbench ffn [options]\n\n"
           "Runs the feed-forward layer ReLU(X W1) W2 with X (n, d_model), W1 (d_model, d_ff),\n"
           "W2 (d_ff, d_model), exact (--attention exact, rows in chunks) or top-k\n"
           "(--attention topk: per row the k largest pre-activations, their ReLU, the k\n"
           "matching rows of W2), and prints one CSV row; error against the exact layer\n"
           "in float64.\n\noptions (default; range):\n"
           "  --attention NAME     topk (default) or exact\n"
           "  --n N                rows of X (4096; 1..2^31-1)\n"
           "  --d-model N          model width (768; 1..2^31-1)\n"
           "  --d-ff N             hidden units (4*d_model; 1..2^31-1)\n"
           "  --k N                topk only: hidden units kept per row (min(256, d_ff); 1..d_ff)\n"
           "  --chunk N            rows per block (256; 1..2^31-1)\n"
           "  --seed N             seed of the synthetic X, W1, W2 (1)\n"
           "  --threads N          threads of BLAS and the kernels (1; 1..1024)\n"
           "  --warmup N           untimed calls before timing (1; 0..100000)\n"
           "  --reps N             timed calls (0: at least 3 and 1 s of work; 0..100000)\n"
           "  --ref-rows N         error over N evenly spaced rows (0: all)\n"
           "  --input DIR          read DIR/x.npy, w1.npy, w2.npy instead of synthetic\n"
           "  --dump DIR           write out.npy and ref.npy into DIR (created if missing)\n"
           "  --csv FILE           append the row to FILE (header if new); the sidecar is\n"
           "                       FILE with a final .csv replaced by .env\n"
           "  --row-only           print only the data line (for the sweep runner)\n"
           "\nexit status: 0 a measured row (ok, or nonfinite: the output held NaN or Inf,\n"
           "the first bad element in note); 2 bad input (no row); 3 out of memory (row\n"
           "with status oom); 1 any other failure.\n");
}

typedef struct {
    const ffn_method *m;
    ffn_shape s;
    attn_knobs kn;
    const float *x, *w1, *w2;
    float *out;
    size_t ws_limit, ws_peak;
} ffn_ctx;

static int ffn_call(void *p) {
    ffn_ctx *c = p;
    workspace ws;
    ws_init(&ws, c->ws_limit);
    int rc = c->m->forward(&c->s, &c->kn, c->x, c->w1, c->w2, c->out, &ws);
    if (ws.peak > c->ws_peak) c->ws_peak = ws.peak;
    return rc;
}

/* the header of DIR/NAME, a 2-D tensor (data not read yet); 0, or 2 after
 * printing the problem */
static int open2(const char *dir, const char *name, npy_array *a) {
    char path[4096], err[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (npy_open(path, a, err, sizeof err)) return bad_input("ffn", "%s", err);
    if (a->ndim != 2 || !a->shape[0] || !a->shape[1]) { npy_free(a); return bad_input("ffn", "%s: expected a non-empty 2-D array", path); }
    return 0;
}

static float *to_float(const double *d, size_t count) {
    float *f = malloc(count ? count * sizeof(float) : 1);
    if (f) for (size_t i = 0; i < count; i++) f[i] = (float)d[i];
    return f;
}

/* x, w1, w2 from DIR: every header and shape first, then the data (float64
 * values beyond float32's range refused); 0, or 2 after one line */
static int load_inputs(const run_options *o, npy_array in[3], ffn_shape *s) {
    static const char *const names[3] = {"x.npy", "w1.npy", "w2.npy"};
    int rc = 0;
    for (int i = 0; i < 3 && !rc; i++) rc = open2(o->input, names[i], &in[i]);
    if (!rc) {
        *s = (ffn_shape){in[0].shape[0], in[0].shape[1], in[1].shape[1]};
        if (in[1].shape[0] != s->d_model || in[2].shape[0] != s->d_ff || in[2].shape[1] != s->d_model)
            rc = bad_input("ffn", "%s: shapes disagree: x (%zu, %zu), w1 (%zu, %zu), w2 (%zu, %zu); want (n, d_model), (d_model, d_ff), (d_ff, d_model)",
                           o->input, in[0].shape[0], in[0].shape[1], in[1].shape[0], in[1].shape[1], in[2].shape[0], in[2].shape[1]);
    }
    static const char *const fixed[3] = {"n", "d-model", "d-ff"};
    size_t have[3] = {s->n, s->d_model, s->d_ff}, want[3] = {o->n, o->d_model, o->d_ff};
    for (int i = 0; i < 3 && !rc; i++)
        if (options_given(o, fixed[i]) && have[i] != want[i])
            rc = bad_input("ffn", "--%s %zu disagrees with the input's %zu in %s", fixed[i], want[i], have[i], o->input);
    char path[4096], err[600];
    for (int i = 0; i < 3 && !rc; i++) {
        snprintf(path, sizeof path, "%s/%s", o->input, names[i]);
        if (npy_load(path, &in[i], err, sizeof err) || npy_f32_range(path, &in[i], err, sizeof err))
            rc = bad_input("ffn", "%s", err);
    }
    if (rc) for (int j = 0; j < 3; j++) npy_free(&in[j]);
    return rc;
}

/* Long (about 160 lines) for the same reason as cmd_run: the order of work,
 * in one place, each failure a return with its cleanup. */
int cmd_ffn(int argc, char **argv) {
    const char *cmd = "ffn";
    run_options o;
    options_defaults(&o, OPTS_FFN);
    int prc = options_parse(&o, OPTS_FFN, argc, argv);
    if (prc == 1) { usage(); return 0; }
    if (prc) return prc;
    const ffn_method *m = ffn_method_find(o.attention);
    if (!m) {
        char names[200];
        size_t len = 0;
        for (const ffn_method *f = ffn_methods; f->name && len < sizeof names; f++)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "", f->name);
        return bad_input(cmd, "unknown --attention '%s' (one of: %s)", o.attention, names);
    }
    char kerr[400];
    if (knobs_check_read(&o, OPTS_FFN, m->knobs, "attention", m->name, kerr, sizeof kerr)) return bad_input(cmd, "%s", kerr);
    char derr[600];
    if (o.dump && make_dirs(o.dump, derr, sizeof derr)) return bad_input(cmd, "--dump %s", derr);

    /* float64 originals (x, w1, w2); the kernels see float copies */
    npy_array in[3];
    memset(in, 0, sizeof in);
    ffn_shape s;
    if (o.input) {
        int lrc = load_inputs(&o, in, &s);
        if (lrc) return lrc;
    } else {
        if (!o.d_ff && size_mul(4, o.d_model, &o.d_ff)) return bad_input(cmd, "--d-model too large");
        s = (ffn_shape){o.n, o.d_model, o.d_ff};
        if (!s.n || !s.d_model || !s.d_ff) return bad_input(cmd, "--%s must be at least 1", !s.n ? "n" : !s.d_model ? "d-model" : "d-ff");
    }
    attn_knobs kn;
    knobs_fill(&o, &kn);
    if (m->resolve(&s, &kn, kerr, sizeof kerr)) { /* the variant's defaults and checks */
        for (int j = 0; j < 3; j++) npy_free(&in[j]);
        return bad_input(cmd, "%s", kerr);
    }
    knobs_clear_unread(&kn, m->knobs);
    /* x, w1, w2, out in float and float64, plus the reference output */
    size_t nx, nw, need;
    int ovf = size_mul(s.n, s.d_model, &nx) || size_mul(s.d_model, s.d_ff, &nw) || nx > SIZE_MAX / 64 ||
              nw > SIZE_MAX / 64 || size_mul(3 * nx + 2 * nw, 12, &need) ||
              s.n > INT32_MAX || s.d_model > INT32_MAX || s.d_ff > INT32_MAX;
    if (ovf || (mem_total_bytes() && need > mem_total_bytes())) {
        for (int j = 0; j < 3; j++) npy_free(&in[j]);
        return ovf ? bad_input(cmd, "sizes overflow: n %zu, d_model %zu, d_ff %zu", s.n, s.d_model, s.d_ff)
                   : bad_input(cmd, "inputs and reference need %.3g GiB, more than this machine's %.3g GiB", need / 1073741824.0, mem_total_bytes() / 1073741824.0);
    }
    int rc = 1;
    result_row row;
    row_init(&row);
    row_set(&row, COL_layer, "ffn");
    row_set(&row, COL_regime, "prefill");
    row_set(&row, COL_attention, "%s", m->name);
    row_set(&row, COL_n, "%zu", s.n);
    row_set(&row, COL_d_model, "%zu", s.d_model);
    row_set(&row, COL_d_ff, "%zu", s.d_ff);
    knobs_set_columns(&row, m->knobs, &kn);
    row_set(&row, COL_causal, "0");
    row_set(&row, COL_params, "%zu", 2 * nw);
    row_set_common(&row, &o);
    {
        char note[400];
        if (mem_fits_as_limit(need, o.threads, note, sizeof note)) {
            row_set(&row, COL_status, "oom");
            row_set(&row, COL_note, "%s", note);
            exit_now(row_emit_oom(cmd, &o, &row)); /* not exit(): OpenBLAS may be stuck on a refused buffer */
        }
    }
    float *x = NULL, *w1 = NULL, *w2 = NULL, *out = NULL;
    double *ref = NULL, *share = NULL;
    size_t *rows = NULL;
    if (!o.input) {
        rng r;
        double *dst[3];
        size_t counts[3] = {nx, nw, nw};
        const double stds[3] = {1.0, 1.0 / sqrt((double)s.d_model), 1.0 / sqrt((double)s.d_ff)};
        for (int i = 0; i < 3; i++) {
            dst[i] = malloc(counts[i] * sizeof(double));
            if (!dst[i]) { for (int j = 0; j < i; j++) free(dst[j]); fprintf(stderr, "attnbench ffn: out of memory\n"); goto done; }
            rng_seed(&r, o.seed, 101 + (uint64_t)i);
            /* rounded to float first, so the reference sees exactly the kernel's input */
            for (size_t e = 0; e < counts[i]; e++) dst[i][e] = (float)(stds[i] * rng_normal(&r));
            in[i].data = dst[i];
            in[i].count = counts[i];
        }
    }
    x = to_float(in[0].data, nx); w1 = to_float(in[1].data, nw); w2 = to_float(in[2].data, nw);
    out = calloc(nx ? nx : 1, sizeof(float));
    if (!x || !w1 || !w2 || !out) { fprintf(stderr, "attnbench ffn: out of memory\n"); goto done; }

    blas_set_threads((int)o.threads);
    blas_prime();
    make_resident(out, nx * sizeof(float));
    if (blas_core_is_fallback())
        fprintf(stderr, "attnbench ffn: warning: OpenBLAS runs on its generic '%s' kernels; timings are not representative (set OPENBLAS_CORETYPE)\n", blas_core_name());
    env_timing_line("ffn", o.threads, o.row_only); /* the timing context, one line on stderr */
    ffn_ctx c = {m, s, kn, x, w1, w2, out, mem_total_bytes(), 0};
    timing t;
    measure(ffn_call, &c, o.warmup, o.reps, &t);
    fault_nan(out, nx); /* tests only (report.h) */

    size_t bad;
    switch (row_from_timing(cmd, m->name, &row, &t, m->flops(&s, &kn), c.ws_peak, m->workspace_bytes(&s, &kn), out, nx, &bad)) {
    case TAIL_OOM: rc = row_emit_oom(cmd, &o, &row); goto done;
    case TAIL_FAILED: goto done;
    }
    if (bad < nx) {
        /* a measured row without error figures: they would be NaN */
        row_set(&row, COL_note, "output element (row %zu, col %zu) is %s", bad / s.d_model, bad % s.d_model,
                isnan(out[bad]) ? "NaN" : "Inf");
        rc = row_emit(cmd, &o, &row);
        goto done;
    }

    size_t nrows;
    rows = error_rows(s.n, o.dump ? 0 : o.ref_rows, &nrows);
    ref = malloc(nrows * s.d_model * sizeof(double));
    share = malloc(nrows * sizeof(double));
    workspace rws;
    ws_init(&rws, 0);
    if (!ref || !share || ffn_reference(&s, m->mass == ATTN_MASS_LARGEST ? kn.k : 0, in[0].data, in[1].data, in[2].data, rows, nrows, ref, NULL, m->mass == ATTN_MASS_LARGEST ? share : NULL, &rws)) {
        fprintf(stderr, "attnbench ffn: the float64 reference failed (out of memory)\n");
        goto done;
    }
    if (first_nonfinite_f64(ref, nrows * s.d_model) < nrows * s.d_model) {
        rc = bad_input(cmd, "the float64 reference is not finite: the input's values are too large");
        goto done;
    }
    error_stats es;
    error_compare(out, ref, 1, s.n, s.d_model, rows, nrows, &es);
    row_set(&row, COL_rel_err, "%.6g", es.rel_err);
    row_set(&row, COL_max_abs_err, "%.6g", es.max_abs_err);
    row_set(&row, COL_cos_err, "%.6g", es.cos_err);
    if (m->mass == ATTN_MASS_LARGEST) {
        double sum = 0;
        for (size_t i = 0; i < nrows; i++) sum += share[i];
        row_set(&row, COL_topk_mass, "%.6g", sum / (double)nrows);
    }
    row_set(&row, COL_err_rows, "%zu", nrows);
    if (o.dump && (dump_npy(cmd, o.dump, "out.npy", out, NULL, 0, s.n, s.d_model) ||
                   dump_npy(cmd, o.dump, "ref.npy", NULL, ref, 0, s.n, s.d_model)))
        goto done;
    rc = row_emit(cmd, &o, &row);
done:
    row_free(&row);
    for (int j = 0; j < 3; j++) npy_free(&in[j]);
    free(x); free(w1); free(w2); free(out); free(ref); free(share); free(rows);
    return rc;
}
