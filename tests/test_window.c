/* test_window.c — the sink + sliding-window operator against a plain float64
 * masked softmax written from the definition at the top of kernels/window.c
 * (causal and not, grouped K/V, sinks inside and outside the window, windows
 * wider than a block and than n, one and three threads); its kept mass
 * against the same plain loops; the exact cases (window >= n; causal
 * sink + window >= n); window 0 rejected, sink 0 accepted; the workspace
 * formula. The table-wide checks are test_methods.c's. */
#include "check.h"
#include "methods.h"

/* is key j in query i's kept set? (window.c's definition, written out) */
static int kept(const attn_shape *s, size_t sink, size_t window, size_t i, size_t j) {
    const size_t n = s->n, w = window < n ? window : n;
    if (s->causal) return j <= i && (j < sink || j + w > i);
    size_t lo = i >= w / 2 ? i - w / 2 : 0;
    if (lo + w > n) lo = n - w;
    return j < sink || (j >= lo && j < lo + w);
}

/* plain masked attention in float64 from the float inputs: out (heads, n, d);
 * mass (heads, n) the exact attention's probability on the kept set */
static void plain_window(const attn_shape *s, size_t sink, size_t window, const float *q,
                         const float *k, const float *v, double *out, double *mass) {
    const size_t n = s->n, d = s->d_head, group = s->heads / s->kv_heads;
    double *sc = malloc(n * sizeof(double));
    for (size_t h = 0; h < s->heads; h++)
        for (size_t i = 0; i < n; i++) {
            const float *kh = k + (h / group) * n * d, *vh = v + (h / group) * n * d;
            const size_t vis = s->causal ? i + 1 : n;
            double mx = -INFINITY, mk = -INFINITY, z = 0, zk = 0;
            for (size_t j = 0; j < vis; j++) {
                double dot = 0;
                for (size_t x = 0; x < d; x++) dot += (double)q[(h * n + i) * d + x] * kh[j * d + x];
                sc[j] = dot / sqrt((double)d);
                mx = fmax(mx, sc[j]);
                if (kept(s, sink, window, i, j)) mk = fmax(mk, sc[j]);
            }
            double *o = out + (h * n + i) * d;
            memset(o, 0, d * sizeof(double));
            for (size_t j = 0; j < vis; j++) {
                z += exp(sc[j] - mx);
                if (!kept(s, sink, window, i, j)) continue;
                const double p = exp(sc[j] - mk);
                zk += p;
                for (size_t x = 0; x < d; x++) o[x] += p * vh[j * d + x];
            }
            for (size_t x = 0; x < d; x++) o[x] /= zk;
            mass[h * n + i] = zk * exp(mk - mx) / z;
        }
    free(sc);
}

/* window against the plain loops on one shape and knob pair */
static void check_case(size_t heads, size_t kv, size_t n, size_t d, int causal, size_t sink,
                       size_t window, size_t threads) {
    attn_shape s = {heads, kv, n, d, causal};
    attn_knobs kn = {.sink = sink, .window = window, .threads = threads};
    const size_t nq = heads * n * d, nkv = kv * n * d;
    float *q = malloc(nq * sizeof(float)), *k = malloc(nkv * sizeof(float));
    float *v = malloc(nkv * sizeof(float)), *out = malloc(nq * sizeof(float));
    test_fill(q, nq, 1.5); test_fill(k, nkv, 1.5); test_fill(v, nkv, 1.0);
    double *ref = malloc(nq * sizeof(double)), *mass = malloc(heads * n * sizeof(double));
    plain_window(&s, sink, window, q, k, v, ref, mass);
    workspace ws;
    ws_init(&ws, 0);
    const int rc = window_forward(&s, &kn, q, k, v, out, &ws);
    CHECK(rc == ATTN_OK, "window forward: %s", attn_strerror(rc));
    CHECK(ws.live == 0 && ws.peak == window_workspace(&s, &kn), "workspace: peak %zu, formula %zu",
          ws.peak, window_workspace(&s, &kn));
    const double re = test_rel_err(out, ref, nq);
    CHECK(re <= 1e-6, "window heads %zu/%zu n %zu causal %d sink %zu window %zu threads %zu: rel_err %.3g",
          heads, kv, n, causal, sink, window, threads, re);
    CHECK(test_allclose("window", out, ref, nq, 1e-5, 1e-5), "window element-wise (n %zu sink %zu window %zu causal %d)",
          n, sink, window, causal);
    /* the kept mass, float64 from the same inputs */
    double *qd = test_to_double(q, nq), *kd = test_to_double(k, nkv);
    double *got = malloc(heads * n * sizeof(double)), worst = 0;
    CHECK(window_kept_mass(&s, &kn, qd, kd, NULL, 0, got, &ws) == ATTN_OK && ws.live == 0, "kept mass");
    for (size_t r = 0; r < heads * n; r++) worst = fmax(worst, fabs(got[r] - mass[r]));
    CHECK(worst < 1e-12, "kept mass n %zu sink %zu window %zu causal %d: off by %.3g", n, sink, window, causal, worst);
    /* a subset of rows gives the same rows, within float64 rounding (BLAS
     * blocks a subset differently on some cores, e.g. Haswell on AMD) */
    size_t rows[3] = {0, n / 2, n - 1};
    double sub[3 * 8];
    if (heads <= 8) {
        CHECK(window_kept_mass(&s, &kn, qd, kd, rows, 3, sub, &ws) == ATTN_OK, "kept mass, rows");
        for (size_t h = 0; h < heads; h++)
            for (size_t r = 0; r < 3; r++)
                CHECK(fabs(sub[h * 3 + r] - got[h * n + rows[r]]) <= 1e-12, "kept mass row %zu head %zu: %.17g vs %.17g",
                      rows[r], h, sub[h * 3 + r], got[h * n + rows[r]]);
    }
    free(q); free(k); free(v); free(out); free(ref); free(mass); free(qd); free(kd); free(got);
}

/* all keys visible: window >= n, or causal sink + window >= n, is exact
 * attention (rel_err <= 1e-6 against the float64 reference), mass 1 */
static void check_exact(size_t n, int causal, size_t sink, size_t window) {
    attn_shape s = {4, 2, n, 32, causal};
    attn_knobs kn = {.sink = sink, .window = window, .threads = 2};
    const size_t nq = 4 * n * 32, nkv = 2 * n * 32;
    float *q = malloc(nq * sizeof(float)), *k = malloc(nkv * sizeof(float));
    float *v = malloc(nkv * sizeof(float)), *out = malloc(nq * sizeof(float));
    test_fill(q, nq, 1.5); test_fill(k, nkv, 1.5); test_fill(v, nkv, 1.0);
    workspace ws;
    ws_init(&ws, 0);
    CHECK(window_forward(&s, &kn, q, k, v, out, &ws) == ATTN_OK, "exact case");
    double *ref = test_reference(&s, q, k, v);
    const double re = test_rel_err(out, ref, nq);
    CHECK(re <= 1e-6, "n %zu causal %d sink %zu window %zu: rel_err %.3g vs exact", n, causal, sink, window, re);
    double *qd = test_to_double(q, nq), *kd = test_to_double(k, nkv), mass[4 * 3];
    size_t rows[3] = {0, n / 3, n - 1};
    CHECK(window_kept_mass(&s, &kn, qd, kd, rows, 3, mass, &ws) == ATTN_OK, "mass");
    for (int r = 0; r < 12; r++) CHECK(fabs(mass[r] - 1) < 1e-12, "mass %d: %.17g, want 1", r, mass[r]);
    free(q); free(k); free(v); free(out); free(ref); free(qd); free(kd);
}

static void check_knobs(void) {
    attn_shape s = {2, 2, 50, 8, 1};
    float buf[2 * 50 * 8] = {0}, out[2 * 50 * 8];
    workspace ws;
    ws_init(&ws, 0);
    attn_knobs zero_w = {.sink = 4, .window = 0}, zero_s = {.sink = 0, .window = 3};
    CHECK(window_forward(&s, &zero_w, buf, buf, buf, out, &ws) == ATTN_EINVAL, "window 0 is rejected");
    CHECK(window_forward(&s, &zero_s, buf, buf, buf, out, &ws) == ATTN_OK, "sink 0 is valid");
    /* C = 50 rows, cols min(50, 4 + 3 + 49): 50 * 50 floats */
    attn_knobs kn = {.sink = 4, .window = 3};
    CHECK(window_workspace(&s, &kn) == 4 * 50 * 50, "workspace %zu", window_workspace(&s, &kn));
    s.n = 1000; /* C = 64: 64 * (4 + 3 + 63) floats per thread */
    CHECK(window_workspace(&s, &kn) == 4 * 64 * 70, "workspace at n 1000: %zu", window_workspace(&s, &kn));
    kn.threads = 3;
    CHECK(window_workspace(&s, &kn) == 3 * 4 * 64 * 70, "3 threads: %zu", window_workspace(&s, &kn));
    CHECK(WINDOW_DEFAULT_SINK == 4 && WINDOW_DEFAULT_WINDOW == 256, "defaults");
    /* flops: a narrow window costs far less than exact attention at large n */
    s.n = 16384; s.d_head = 64;
    attn_knobs def = {.sink = WINDOW_DEFAULT_SINK, .window = WINDOW_DEFAULT_WINDOW};
    CHECK(window_flops(&s, &def) < exact_flops(&s, &def) / 20, "flops %.3g vs exact %.3g",
          window_flops(&s, &def), exact_flops(&s, &def));
}

int main(void) {
    for (int causal = 0; causal <= 1; causal++) {
        check_case(2, 2, 37, 8, causal, 4, 5, 1);     /* sinks inside early windows */
        check_case(4, 2, 200, 16, causal, 4, 16, 3);  /* grouped K/V, several blocks */
        check_case(2, 1, 301, 8, causal, 0, 7, 1);    /* no sinks */
        check_case(2, 2, 300, 8, causal, 100, 8, 2);  /* sinks wider than a block */
        check_case(2, 2, 129, 8, causal, 3, 100, 1);  /* window wider than a block */
        check_case(2, 2, 130, 8, causal, 2, 64, 1);   /* even window */
        check_case(1, 1, 77, 4, causal, 5, 1, 1);     /* window 1: sinks and itself */
        check_case(2, 2, 65, 8, causal, 1, 1000, 3);  /* window > n */
        check_exact(150, causal, 3, 150);
        check_exact(1, causal, 0, 1);
    }
    check_exact(150, 1, 4, 146);  /* causal: sink + window = n is exact */
    check_exact(150, 1, 60, 100); /* and beyond */
    check_knobs();
    return check_summary("test_window");
}
