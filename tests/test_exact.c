/* test_exact.c — vanilla and chunked against the float64 reference, causal and
 * not, odd sizes, grouped K/V heads, one and several threads; every method's
 * stated workspace formula against the allocator's count; the vector exp and
 * the thread helper the kernels share. */
#include "check.h"
#include "methods.h"
#include "parallel.h"
#include "softmax.h"

static void check_method_threads(const char *name, size_t heads, size_t kv_heads, size_t n,
                                 size_t d, size_t chunk, int causal, double tol, size_t threads) {
    const attn_method *m = attn_method_find(name);
    CHECK(m != NULL, "method %s not in the table", name);
    if (!m) return;
    attn_shape s = {heads, kv_heads, n, d, causal};
    attn_knobs kn = {.k = 0, .chunk = chunk, .features = 0, .seed = 1, .threads = threads};
    size_t nq = heads * n * d, nkv = kv_heads * n * d;
    float *q = malloc(nq * sizeof(float)), *k = malloc(nkv * sizeof(float));
    float *v = malloc(nkv * sizeof(float)), *out = malloc(nq * sizeof(float));
    test_fill(q, nq, 1.5); test_fill(k, nkv, 1.5); test_fill(v, nkv, 1.0);
    workspace ws;
    ws_init(&ws, 0);
    int rc = m->forward(&s, &kn, q, k, v, out, &ws);
    CHECK(rc == ATTN_OK, "%s forward: %s", name, attn_strerror(rc));
    CHECK(ws.live == 0, "%s leaves %zu workspace bytes held", name, ws.live);
    CHECK(ws.peak == m->workspace_bytes(&s, &kn), "%s workspace: counted %zu, formula %zu",
          name, ws.peak, m->workspace_bytes(&s, &kn));
    double *ref = test_reference(&s, q, k, v);
    double re = test_rel_err(out, ref, nq);
    CHECK(re <= tol, "%s heads=%zu kv=%zu n=%zu d=%zu chunk=%zu causal=%d threads=%zu: rel_err %.3g > %.3g",
          name, heads, kv_heads, n, d, chunk, causal, threads, re, tol);
    CHECK(test_allclose(name, out, ref, nq, 1e-5, 1e-4), "%s element-wise (n=%zu causal=%d threads=%zu)",
          name, n, causal, threads);
    free(q); free(k); free(v); free(out); free(ref);
}

static void check_method(const char *name, size_t heads, size_t kv_heads, size_t n, size_t d,
                         size_t chunk, int causal, double tol) {
    check_method_threads(name, heads, kv_heads, n, d, chunk, causal, tol, 0);
}

/* the workspace formulas count per-thread scratch: chunked's grows with the
 * threads it uses (at most one per task), vanilla's does not */
static void check_thread_formulas(void) {
    attn_shape s = {8, 8, 4096, 64, 0};
    attn_knobs one = {.chunk = 256, .threads = 1}, two = {.chunk = 256, .threads = 2};
    attn_knobs many = {.chunk = 4096, .threads = 64}; /* 8 tasks: 8 threads */
    CHECK(chunked_workspace(&s, &two) == 2 * chunked_workspace(&s, &one), "chunked: 2 threads, 2x scratch");
    CHECK(chunked_workspace(&s, &many) == 8 * 4 * (4096 * 256 + 2 * 4096),
          "chunked: threads beyond the tasks: %zu", chunked_workspace(&s, &many));
    CHECK(vanilla_workspace(&s, &two) == vanilla_workspace(&s, &one), "vanilla: one score tensor");
    attn_knobs unset = {.chunk = 256};
    CHECK(chunked_workspace(&s, &unset) == chunked_workspace(&s, &one), "threads 0 means 1");
}

/* exp_fast against exp in double: relative error < 2e-7 on [-87, 88],
 * exactly 0 below (e^-inf = 0), NaN stays NaN; and the row passes built on it */
static void check_exp_fast(void) {
    double worst = 0, at = 0;
    for (int i = 0; i <= 300007; i++) {
        const float x = -87.0f + 175.0f * (float)i / 300007.0f;
        const double e = exp((double)x), r = fabs((double)exp_fast(x) - e) / e;
        if (r > worst) { worst = r; at = x; }
    }
    CHECK(worst < 2e-7, "exp_fast: relative error %.3g at x = %.9g", worst, at);
    CHECK(exp_fast(-INFINITY) == 0.0f && exp_fast(-100.0f) == 0.0f && exp_fast(-87.5f) == 0.0f,
          "exp_fast below -87: %g %g", exp_fast(-INFINITY), exp_fast(-100.0f));
    CHECK(exp_fast(0.0f) == 1.0f, "exp_fast(0) = %.9g", exp_fast(0.0f));
    CHECK(isnan(exp_fast(NAN)), "exp_fast(NaN) = %g", exp_fast(NAN));
    /* row passes, every length around the vector width: against plain loops in double */
    float x[300], y[300];
    for (size_t len = 1; len <= 300; len += (len < 40 ? 1 : 37)) {
        for (size_t j = 0; j < len; j++) x[j] = (float)(4.0 * test_normal());
        double mx = -INFINITY, sum = 0;
        for (size_t j = 0; j < len; j++) mx = x[j] > mx ? x[j] : mx;
        CHECK(row_max(x, len) == (float)mx, "row_max len %zu", len);
        for (size_t j = 0; j < len; j++) sum += exp((double)x[j] - mx);
        memcpy(y, x, len * sizeof(float));
        const float got = exp_shift_sum(y, len, (float)mx);
        CHECK(fabs(got - sum) <= 1e-6 * sum, "exp_shift_sum len %zu: %.9g, want %.9g", len, got, sum);
        double bad = 0; /* each element: e^(x - shift), the difference taken in float */
        for (size_t j = 0; j < len; j++) {
            const double e = exp((double)(x[j] - (float)mx));
            bad = fmax(bad, fabs(y[j] - e) / e);
        }
        CHECK(bad < 2e-7, "exp_shift_sum len %zu: element rel err %.3g", len, bad);
    }
}

/* par_run: every task runs once, on a thread number below the count; the
 * first error comes back */
static int count_task(void *ctx, size_t task, size_t thread) {
    int *seen = ctx;
    __atomic_add_fetch(&seen[task], 1, __ATOMIC_RELAXED);
    if (thread >= 3) __atomic_add_fetch(&seen[100], 1, __ATOMIC_RELAXED);
    return task == 57 ? ATTN_ENOMEM : ATTN_OK;
}

static void check_par_run(void) {
    int seen[101] = {0};
    attn_knobs kn = {.threads = 3};
    CHECK(par_threads(&kn, 100) == 3 && par_threads(&kn, 2) == 2 && par_threads(&kn, 0) == 1,
          "par_threads: %zu %zu %zu", par_threads(&kn, 100), par_threads(&kn, 2), par_threads(&kn, 0));
    int rc = par_run(3, 57, count_task, seen); /* tasks 0..56: no error */
    int once = 1;
    for (int t = 0; t < 57; t++) once &= seen[t] == 1;
    CHECK(rc == ATTN_OK && once && seen[100] == 0, "par_run: rc %d, every task once %d, bad thread %d",
          rc, once, seen[100]);
    CHECK(par_run(3, 100, count_task, seen) == ATTN_ENOMEM, "par_run: the task's error is returned");
    CHECK(par_run(1, 100, count_task, seen) == ATTN_ENOMEM, "par_run, one thread: the error is returned");
}

/* the reference itself against a plain triple loop, on a tiny case */
static void check_reference_plain(void) {
    attn_shape s = {2, 1, 7, 5, 1};
    double q[2 * 7 * 5], k[7 * 5], v[7 * 5], out[2 * 7 * 5], ent[2 * 7], mass[2 * 7];
    for (size_t i = 0; i < 70; i++) q[i] = test_normal();
    for (size_t i = 0; i < 35; i++) { k[i] = test_normal(); v[i] = test_normal(); }
    workspace ws;
    ws_init(&ws, 0);
    ref_opts o = {.topk = 2, .block = 3};
    CHECK(reference_attention(&s, q, k, v, NULL, 0, &o, out, ent, mass, &ws) == 0, "reference");
    double maxdiff = 0;
    for (size_t h = 0; h < 2; h++)
        for (size_t i = 0; i < 7; i++) {
            double p[7], z = 0, mx = -1e300;
            for (size_t j = 0; j <= i; j++) {
                double dot = 0;
                for (size_t x = 0; x < 5; x++) dot += q[(h * 7 + i) * 5 + x] * k[j * 5 + x];
                p[j] = dot / sqrt(5.0);
                if (p[j] > mx) mx = p[j];
            }
            for (size_t j = 0; j <= i; j++) { p[j] = exp(p[j] - mx); z += p[j]; }
            double h_ent = 0, top1 = 0, top2 = 0;
            for (size_t j = 0; j <= i; j++) {
                p[j] /= z;
                h_ent -= p[j] * log(p[j]);
                if (p[j] > top1) { top2 = top1; top1 = p[j]; } else if (p[j] > top2) top2 = p[j];
            }
            for (size_t x = 0; x < 5; x++) {
                double o_ = 0;
                for (size_t j = 0; j <= i; j++) o_ += p[j] * v[j * 5 + x];
                double dd = fabs(o_ - out[(h * 7 + i) * 5 + x]);
                if (dd > maxdiff) maxdiff = dd;
            }
            CHECK(fabs(h_ent - ent[h * 7 + i]) < 1e-12, "entropy row %zu: %g vs %g", i, h_ent, ent[h * 7 + i]);
            CHECK(fabs(top1 + top2 - mass[h * 7 + i]) < 1e-12, "top-2 mass row %zu: %g vs %g", i,
                  top1 + top2, mass[h * 7 + i]);
        }
    CHECK(maxdiff < 1e-12, "reference vs plain loops: max diff %g", maxdiff);
    /* a subset of rows gives the same rows */
    size_t rows[3] = {0, 3, 6};
    double sub[2 * 3 * 5];
    CHECK(reference_attention(&s, q, k, v, rows, 3, NULL, sub, NULL, NULL, &ws) == 0, "reference rows");
    for (size_t h = 0; h < 2; h++)
        for (size_t r = 0; r < 3; r++)
            for (size_t x = 0; x < 5; x++)
                CHECK(fabs(sub[(h * 3 + r) * 5 + x] - out[(h * 7 + rows[r]) * 5 + x]) < 1e-14,
                      "row subset h=%zu row=%zu", h, rows[r]);
}

int main(void) {
    check_reference_plain();
    check_exp_fast();
    check_par_run();
    check_thread_formulas();
    /* several threads: the same results, the formula counting each thread's scratch */
    for (int causal = 0; causal <= 1; causal++)
        for (size_t threads = 2; threads <= 3; threads++) {
            check_method_threads("vanilla", 3, 3, 1000, 48, 96, causal, 1e-5, threads);
            check_method_threads("chunked", 3, 3, 1000, 48, 96, causal, 1e-5, threads);
            check_method_threads("chunked", 4, 2, 333, 32, 1000, causal, 1e-5, threads); /* one block per head */
            check_method_threads("chunked", 1, 1, 700, 16, 64, causal, 1e-5, threads);
        }
    const char *exact[] = {"vanilla", "chunked"};
    for (int e = 0; e < 2; e++) {
        for (int causal = 0; causal <= 1; causal++) {
            check_method(exact[e], 8, 8, 1024, 64, 256, causal, 1e-5);
            check_method(exact[e], 3, 3, 1000, 48, 96, causal, 1e-5);   /* chunk does not divide n */
            check_method(exact[e], 4, 2, 333, 32, 1000, causal, 1e-5);  /* chunk > n, grouped K/V */
            check_method(exact[e], 4, 1, 17, 8, 1, causal, 1e-5);       /* chunk 1, one K/V head */
        }
    }
    return check_summary("test_exact");
}
