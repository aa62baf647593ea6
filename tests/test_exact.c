/* test_exact.c — vanilla and chunked against the float64 reference, causal and
 * not, odd sizes, grouped K/V heads; and every method's stated workspace
 * formula against the allocator's count. */
#include "check.h"
#include "methods.h"

static void check_method(const char *name, size_t heads, size_t kv_heads, size_t n, size_t d,
                         size_t chunk, int causal, double tol) {
    const attn_method *m = attn_method_find(name);
    CHECK(m != NULL, "method %s not in the table", name);
    if (!m) return;
    attn_shape s = {heads, kv_heads, n, d, causal};
    attn_knobs kn = {.k = 0, .chunk = chunk, .features = 0, .seed = 1};
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
    CHECK(re <= tol, "%s heads=%zu kv=%zu n=%zu d=%zu chunk=%zu causal=%d: rel_err %.3g > %.3g",
          name, heads, kv_heads, n, d, chunk, causal, re, tol);
    CHECK(test_allclose(name, out, ref, nq, 1e-5, 1e-4), "%s element-wise (n=%zu causal=%d)", name, n, causal);
    free(q); free(k); free(v); free(out); free(ref);
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
