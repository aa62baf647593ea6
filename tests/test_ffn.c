/* test_ffn.c — the feed-forward layer: the float64 reference against plain
 * loops; the exact chunked kernel and top-k with k >= d_ff against the
 * reference; top-k against a plain sort-based top-k in float64; ties (the
 * lower unit index wins); workspace formulas against the allocator's count;
 * FLOP counts; bad input. */
#include "check.h"
#include "methods.h"

typedef struct {
    double a;
    size_t j;
} scored;

/* descending pre-activation, then ascending index (the kernel's tie rule) */
static int by_score_lower_first(const void *p, const void *q) {
    const scored *x = p, *y = q;
    if (x->a != y->a) return x->a > y->a ? -1 : 1;
    return x->j < y->j ? -1 : (x->j > y->j);
}
/* descending pre-activation, then descending index: the wrong tie rule */
static int by_score_higher_first(const void *p, const void *q) {
    const scored *x = p, *y = q;
    if (x->a != y->a) return x->a > y->a ? -1 : 1;
    return x->j > y->j ? -1 : (x->j < y->j);
}

typedef struct {
    ffn_shape s;
    float *x, *w1, *w2;
} ffn_case;

/* x ~ N(0, 1), w1 ~ N(0, 1/d_model) so pre-activations are about N(0, 1) */
static ffn_case make_case(size_t n, size_t d_model, size_t d_ff) {
    ffn_case c = {{n, d_model, d_ff}, NULL, NULL, NULL};
    c.x = malloc(n * d_model * sizeof(float));
    c.w1 = malloc(d_model * d_ff * sizeof(float));
    c.w2 = malloc(d_ff * d_model * sizeof(float));
    test_fill(c.x, n * d_model, 1.0);
    test_fill(c.w1, d_model * d_ff, 1.0 / sqrt((double)d_model));
    test_fill(c.w2, d_ff * d_model, 1.0 / sqrt((double)d_ff));
    return c;
}
static void free_case(ffn_case *c) { free(c->x); free(c->w1); free(c->w2); }

/* ffn_reference on the float inputs, all rows; share: (n) for k, or NULL */
static double *reference_of(const ffn_case *c, size_t k, double *share) {
    const ffn_shape *s = &c->s;
    double *x = test_to_double(c->x, s->n * s->d_model);
    double *w1 = test_to_double(c->w1, s->d_model * s->d_ff);
    double *w2 = test_to_double(c->w2, s->d_ff * s->d_model);
    double *out = malloc(s->n * s->d_model * sizeof(double));
    workspace ws;
    ws_init(&ws, 0);
    int rc = ffn_reference(s, k, x, w1, w2, NULL, 0, out, NULL, share, &ws);
    CHECK(rc == ATTN_OK, "ffn_reference: %s", attn_strerror(rc));
    CHECK(ws.live == 0, "ffn_reference leaves %zu bytes held", ws.live);
    free(x); free(w1); free(w2);
    return out;
}

/* Plain top-k layer in float64 from the float inputs: per row every
 * pre-activation, a full sort, the ReLU of the first k times their W2 rows.
 * unclear (n) or NULL: set where the k-th and (k+1)-th pre-activations are
 * closer than `gap`, rows whose kept set float rounding may change. */
static double *plain_topk(const ffn_case *c, size_t k, int higher_wins, double gap,
                          unsigned char *unclear) {
    const size_t n = c->s.n, dm = c->s.d_model, dff = c->s.d_ff;
    double *out = calloc(n * dm, sizeof(double));
    scored *row = malloc(dff * sizeof(scored));
    size_t kr = k < dff ? k : dff;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < dff; j++) {
            double a = 0;
            for (size_t x = 0; x < dm; x++) a += (double)c->x[i * dm + x] * c->w1[x * dff + j];
            row[j].a = a;
            row[j].j = j;
        }
        qsort(row, dff, sizeof(scored), higher_wins ? by_score_higher_first : by_score_lower_first);
        if (unclear) unclear[i] = kr < dff && row[kr - 1].a - row[kr].a < gap;
        for (size_t j = 0; j < kr; j++) {
            double act = row[j].a > 0 ? row[j].a : 0;
            for (size_t x = 0; x < dm; x++) out[i * dm + x] += act * c->w2[row[j].j * dm + x];
        }
    }
    free(row);
    return out;
}

static float *run_exact(const ffn_case *c, size_t chunk) {
    float *out = malloc(c->s.n * c->s.d_model * sizeof(float));
    workspace ws;
    ws_init(&ws, 0);
    int rc = ffn_exact_forward(&c->s, chunk, c->x, c->w1, c->w2, out, &ws);
    CHECK(rc == ATTN_OK, "ffn_exact_forward: %s", attn_strerror(rc));
    CHECK(ws.live == 0, "ffn_exact_forward leaves %zu bytes held", ws.live);
    CHECK(ws.peak == ffn_exact_workspace(&c->s, chunk), "exact workspace n=%zu chunk=%zu: counted %zu, formula %zu",
          c->s.n, chunk, ws.peak, ffn_exact_workspace(&c->s, chunk));
    return out;
}

static float *run_topk(const ffn_case *c, size_t k, size_t chunk) {
    float *out = malloc(c->s.n * c->s.d_model * sizeof(float));
    workspace ws;
    ws_init(&ws, 0);
    int rc = ffn_topk_forward(&c->s, k, chunk, c->x, c->w1, c->w2, out, &ws);
    CHECK(rc == ATTN_OK, "ffn_topk_forward: %s", attn_strerror(rc));
    CHECK(ws.live == 0, "ffn_topk_forward leaves %zu bytes held", ws.live);
    CHECK(ws.peak == ffn_topk_workspace(&c->s, k, chunk),
          "topk workspace n=%zu d_ff=%zu k=%zu chunk=%zu: counted %zu, formula %zu", c->s.n,
          c->s.d_ff, k, chunk, ws.peak, ffn_topk_workspace(&c->s, k, chunk));
    return out;
}

/* the reference against plain loops on a tiny case, with a row subset */
static void check_reference_plain(void) {
    const size_t n = 5, dm = 4, dff = 9, K = 3;
    ffn_shape s = {n, dm, dff};
    double x[5 * 4], w1[4 * 9], w2[9 * 4], out[5 * 4], mass[5], share[5];
    for (size_t i = 0; i < n * dm; i++) x[i] = test_normal();
    for (size_t i = 0; i < dm * dff; i++) { w1[i] = test_normal(); w2[i] = test_normal(); }
    workspace ws;
    ws_init(&ws, 0);
    CHECK(ffn_reference(&s, K, x, w1, w2, NULL, 0, out, mass, share, &ws) == ATTN_OK, "reference");
    for (size_t i = 0; i < n; i++) {
        double h[9], sorted[9], m = 0, top = 0;
        for (size_t j = 0; j < dff; j++) {
            h[j] = 0;
            for (size_t c = 0; c < dm; c++) h[j] += x[i * dm + c] * w1[c * dff + j];
            sorted[j] = h[j];
            h[j] = h[j] > 0 ? h[j] : 0;
            m += h[j];
        }
        for (size_t a = 0; a < dff; a++)  /* insertion sort, descending */
            for (size_t b = a; b > 0 && sorted[b] > sorted[b - 1]; b--) {
                double t = sorted[b]; sorted[b] = sorted[b - 1]; sorted[b - 1] = t;
            }
        for (size_t j = 0; j < K; j++) top += sorted[j] > 0 ? sorted[j] : 0;
        for (size_t c = 0; c < dm; c++) {
            double o = 0;
            for (size_t j = 0; j < dff; j++) o += h[j] * w2[j * dm + c];
            CHECK(fabs(o - out[i * dm + c]) < 1e-12, "out[%zu,%zu]: %g vs %g", i, c, o, out[i * dm + c]);
        }
        CHECK(fabs(m - mass[i]) < 1e-12, "relu mass row %zu: %g vs %g", i, m, mass[i]);
        double want = m > 0 ? top / m : 1.0;
        CHECK(fabs(want - share[i]) < 1e-12, "top-%zu share row %zu: %g vs %g", K, i, want, share[i]);
    }
    size_t rows[2] = {4, 1};
    double sub[2 * 4], subshare[2];
    CHECK(ffn_reference(&s, K, x, w1, w2, rows, 2, sub, NULL, subshare, &ws) == ATTN_OK, "reference rows");
    for (size_t r = 0; r < 2; r++) {
        for (size_t c = 0; c < dm; c++)
            CHECK(fabs(sub[r * dm + c] - out[rows[r] * dm + c]) < 1e-14, "row subset row %zu", rows[r]);
        CHECK(fabs(subshare[r] - share[rows[r]]) < 1e-14, "row subset share row %zu", rows[r]);
    }
    CHECK(ws.live == 0, "reference leaves %zu bytes held", ws.live);
}

/* the chunked exact kernel, and top-k keeping every unit, against the reference */
static void check_exact(size_t n, size_t dm, size_t dff, size_t chunk) {
    ffn_case c = make_case(n, dm, dff);
    double *share = malloc(n * sizeof(double));
    double *ref = reference_of(&c, dff, share);
    float *ex = run_exact(&c, chunk);
    double re = test_rel_err(ex, ref, n * dm);
    CHECK(re <= 1e-5, "exact n=%zu d_model=%zu d_ff=%zu chunk=%zu: rel_err %.3g", n, dm, dff, chunk, re);
    CHECK(test_allclose("ffn exact", ex, ref, n * dm, 1e-5, 1e-4), "exact element-wise n=%zu", n);
    for (size_t extra = 0; extra <= 5; extra += 5) {  /* k = d_ff and k > d_ff */
        float *tk = run_topk(&c, dff + extra, chunk);
        re = test_rel_err(tk, ref, n * dm);
        CHECK(re <= 1e-5, "topk k=%zu >= d_ff=%zu n=%zu chunk=%zu: rel_err %.3g", dff + extra, dff, n, chunk, re);
        free(tk);
    }
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += fabs(share[i] - 1.0) > 1e-12;
    CHECK(bad == 0, "k = d_ff: %zu rows with a top-k share other than 1", bad);
    free(ex); free(ref); free(share); free_case(&c);
}

/* top-k against the plain sort, rows with a near-tie at the k boundary left out */
static void check_against_sort(size_t n, size_t dm, size_t dff, size_t k, size_t chunk) {
    ffn_case c = make_case(n, dm, dff);
    unsigned char *unclear = malloc(n);
    double *ref = plain_topk(&c, k, 0, 1e-4, unclear);
    float *got = run_topk(&c, k, chunk);
    double num = 0, den = 0;
    size_t skipped = 0;
    for (size_t i = 0; i < n; i++) {
        if (unclear[i]) { skipped++; continue; }
        for (size_t x = 0; x < dm; x++) {
            double e = (double)got[i * dm + x] - ref[i * dm + x];
            num += e * e;
            den += ref[i * dm + x] * ref[i * dm + x];
        }
    }
    double re = sqrt(num / den);
    CHECK(re <= 1e-5, "topk vs sort n=%zu d_model=%zu d_ff=%zu k=%zu chunk=%zu: rel_err %.3g", n, dm,
          dff, k, chunk, re);
    CHECK(skipped * 50 <= n, "%zu of %zu rows have a near-tie at the k boundary", skipped, n);
    free(unclear); free(ref); free(got); free_case(&c);
}

/* Integer-valued x and w1 in {-1, 0, 1}: pre-activations are exact small
 * integers in float and often equal. The kernel must match the sort that
 * lets the lower unit index win, and differ from the higher-index rule. */
static void check_ties(size_t n, size_t dm, size_t dff, size_t k, size_t chunk) {
    ffn_case c = make_case(n, dm, dff);
    for (size_t i = 0; i < n * dm; i++) c.x[i] = (float)(int)(test_uniform() * 3) - 1.0f;
    for (size_t i = 0; i < dm * dff; i++) c.w1[i] = (float)(int)(test_uniform() * 3) - 1.0f;
    float *got = run_topk(&c, k, chunk);
    double *lower = plain_topk(&c, k, 0, 0, NULL), *higher = plain_topk(&c, k, 1, 0, NULL);
    double re = test_rel_err(got, lower, n * dm), wrong = test_rel_err(got, higher, n * dm);
    CHECK(re <= 1e-5, "ties n=%zu d_ff=%zu k=%zu: rel_err %.3g vs lower-index-wins", n, dff, k, re);
    CHECK(wrong > 1e-2, "ties n=%zu d_ff=%zu k=%zu: the higher-index rule gives the same output "
          "(rel diff %.3g), so the test has no teeth", n, dff, k, wrong);
    free(got); free(lower); free(higher); free_case(&c);
}

static void check_formulas(void) {
    ffn_shape a = {4096, 512, 2048}, b = {16384, 512, 2048};
    CHECK(ffn_topk_workspace(&a, 64, 256) == ffn_topk_workspace(&b, 64, 256), "topk workspace depends on n");
    CHECK(ffn_topk_workspace(&a, 64, 256) == 4 * (256 * 2048 + 2048 + 2 * 256 * 64), "topk workspace formula");
    CHECK(ffn_topk_workspace(&a, 4096, 256) == ffn_topk_workspace(&a, 2048, 256), "k is clamped to d_ff");
    CHECK(ffn_exact_workspace(&a, 256) == 4 * 256 * 2048, "exact workspace formula");
    CHECK(ffn_exact_workspace(&a, 8192) == 4 * 4096 * 2048, "exact workspace: C = min(chunk, n)");
    CHECK(ffn_exact_flops(&a) == 4.0 * 4096 * 512 * 2048, "exact flops");
    CHECK(ffn_topk_flops(&a, 64) == 2.0 * 4096 * 512 * (2048 + 64), "topk flops");
    CHECK(ffn_topk_flops(&a, 9999) == 2.0 * 4096 * 512 * (2048 + 2048), "topk flops, k > d_ff");
}

static void check_bad_input(void) {
    ffn_shape s = {4, 3, 5}, empty = {0, 3, 5};
    float x[4 * 3] = {0}, w1[3 * 5] = {0}, w2[5 * 3] = {0}, out[4 * 3];
    workspace ws;
    ws_init(&ws, 0);
    CHECK(ffn_topk_forward(&s, 0, 2, x, w1, w2, out, &ws) == ATTN_EINVAL, "k = 0 accepted");
    CHECK(ffn_topk_forward(&s, 2, 0, x, w1, w2, out, &ws) == ATTN_EINVAL, "topk chunk = 0 accepted");
    CHECK(ffn_exact_forward(&s, 0, x, w1, w2, out, &ws) == ATTN_EINVAL, "exact chunk = 0 accepted");
    CHECK(ffn_exact_forward(&empty, 2, x, w1, w2, out, &ws) == ATTN_EINVAL, "n = 0 accepted");
    CHECK(ws.allocs == 0, "rejected calls allocated");
    workspace small;
    ws_init(&small, ffn_topk_workspace(&s, 2, 2) - 1);
    CHECK(ffn_topk_forward(&s, 2, 2, x, w1, w2, out, &small) == ATTN_ENOMEM, "topk: limit not honoured");
    CHECK(small.live == 0, "topk ENOMEM leaves %zu bytes held", small.live);
    ws_init(&small, ffn_exact_workspace(&s, 2) - 1);
    CHECK(ffn_exact_forward(&s, 2, x, w1, w2, out, &small) == ATTN_ENOMEM, "exact: limit not honoured");
}

int main(void) {
    check_reference_plain();
    check_formulas();
    check_bad_input();
    check_exact(333, 48, 200, 64);    /* chunk does not divide n */
    check_exact(17, 8, 33, 1000);     /* chunk > n */
    check_exact(100, 32, 128, 1);     /* chunk 1 */
    check_against_sort(200, 32, 333, 1, 64);     /* k = 1 */
    check_against_sort(150, 48, 256, 17, 1000);  /* chunk > n */
    check_against_sort(101, 16, 64, 63, 7);      /* k = d_ff - 1 */
    check_against_sort(300, 64, 1000, 100, 96);
    check_ties(120, 16, 300, 10, 32);
    check_ties(64, 8, 100, 1, 1000);
    check_ties(77, 16, 500, 60, 5);
    return check_summary("test_ffn");
}
