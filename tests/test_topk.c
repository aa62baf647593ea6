/* test_topk.c — top-k attention: k = n against the exact float64 reference;
 * any k against a plain sort-based top-k in float64 (rows long enough for the
 * lane bound too, one and several threads); ties (the lower key index wins);
 * the row selection on its own, short and long rows; the stated workspace
 * formula against the allocator's count; the FLOP count; bad knobs. */
#include "check.h"
#include "methods.h"

typedef struct {
    double s;
    size_t j;
} scored;

/* descending score, then ascending index (the kernel's tie rule) */
static int by_score_lower_first(const void *a, const void *b) {
    const scored *x = a, *y = b;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    return x->j < y->j ? -1 : (x->j > y->j);
}
/* descending score, then descending index: the wrong tie rule */
static int by_score_higher_first(const void *a, const void *b) {
    const scored *x = a, *y = b;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    return x->j > y->j ? -1 : (x->j < y->j);
}

/* Plain top-k attention in float64 from the float inputs: per row, every
 * visible score, a full sort, softmax over the first k, their V rows summed.
 * out: (heads, n, d). unclear (heads * n) or NULL: set where the k-th and
 * (k+1)-th scores are closer than `gap`, rows whose kept set float rounding
 * may legitimately change. */
static double *plain_topk(const attn_shape *s, size_t K, const float *q, const float *k,
                          const float *v, int higher_wins, double gap, unsigned char *unclear) {
    const size_t n = s->n, d = s->d_head, group = s->heads / s->kv_heads;
    double *out = calloc(s->heads * n * d, sizeof(double));
    scored *row = malloc(n * sizeof(scored));
    double *p = malloc(n * sizeof(double));
    for (size_t h = 0; h < s->heads; h++) {
        const float *kh = k + (h / group) * n * d, *vh = v + (h / group) * n * d;
        for (size_t i = 0; i < n; i++) {
            const float *qi = q + (h * n + i) * d;
            size_t vis = s->causal ? i + 1 : n;
            for (size_t j = 0; j < vis; j++) {
                double dot = 0;
                for (size_t x = 0; x < d; x++) dot += (double)qi[x] * kh[j * d + x];
                row[j].s = dot / sqrt((double)d);
                row[j].j = j;
            }
            qsort(row, vis, sizeof(scored), higher_wins ? by_score_higher_first : by_score_lower_first);
            size_t kr = K < vis ? K : vis;
            if (unclear) unclear[h * n + i] = kr < vis && row[kr - 1].s - row[kr].s < gap;
            double z = 0;
            for (size_t j = 0; j < kr; j++) { p[j] = exp(row[j].s - row[0].s); z += p[j]; }
            double *o = out + (h * n + i) * d;
            for (size_t j = 0; j < kr; j++)
                for (size_t x = 0; x < d; x++) o[x] += p[j] / z * vh[row[j].j * d + x];
        }
    }
    free(row); free(p);
    return out;
}

/* ||got - ref|| / ||ref|| over the rows (of d values) not marked unclear */
static double rel_err_clear_rows(const float *got, const double *ref, const unsigned char *unclear,
                                 size_t rows, size_t d) {
    double num = 0, den = 0;
    for (size_t r = 0; r < rows; r++) {
        if (unclear && unclear[r]) continue;
        for (size_t x = 0; x < d; x++) {
            double e = (double)got[r * d + x] - ref[r * d + x];
            num += e * e;
            den += ref[r * d + x] * ref[r * d + x];
        }
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* runs topk_forward on `threads` threads (0: the default, one), checking the
 * workspace count against the formula */
static float *run_topk_threads(const attn_shape *s, size_t K, size_t chunk, const float *q,
                               const float *k, const float *v, size_t threads) {
    attn_knobs kn = {.k = K, .chunk = chunk, .features = 0, .seed = 1, .threads = threads};
    float *out = malloc(s->heads * s->n * s->d_head * sizeof(float));
    workspace ws;
    ws_init(&ws, 0);
    int rc = topk_forward(s, &kn, q, k, v, out, &ws);
    CHECK(rc == ATTN_OK, "topk forward: %s", attn_strerror(rc));
    CHECK(ws.live == 0, "topk leaves %zu workspace bytes held", ws.live);
    CHECK(ws.peak == topk_workspace(s, &kn), "topk workspace n=%zu k=%zu chunk=%zu threads=%zu: counted %zu, formula %zu",
          s->n, K, chunk, threads, ws.peak, topk_workspace(s, &kn));
    return out;
}

static float *run_topk(const attn_shape *s, size_t K, size_t chunk, const float *q,
                       const float *k, const float *v) {
    return run_topk_threads(s, K, chunk, q, k, v, 0);
}

static void make_inputs(const attn_shape *s, float **q, float **k, float **v) {
    size_t nq = s->heads * s->n * s->d_head, nkv = s->kv_heads * s->n * s->d_head;
    *q = malloc(nq * sizeof(float)); *k = malloc(nkv * sizeof(float)); *v = malloc(nkv * sizeof(float));
    test_fill(*q, nq, 1.5); test_fill(*k, nkv, 1.5); test_fill(*v, nkv, 1.0);
}

/* k = n keeps every key: the exact attention */
static void check_k_equals_n(size_t heads, size_t kv_heads, size_t n, size_t d, size_t chunk, int causal) {
    attn_shape s = {heads, kv_heads, n, d, causal};
    float *q, *k, *v;
    make_inputs(&s, &q, &k, &v);
    float *out = run_topk(&s, n, chunk, q, k, v);
    double *ref = test_reference(&s, q, k, v);
    size_t count = heads * n * d;
    double re = test_rel_err(out, ref, count);
    CHECK(re <= 1e-5, "k=n heads=%zu kv=%zu n=%zu d=%zu chunk=%zu causal=%d: rel_err %.3g",
          heads, kv_heads, n, d, chunk, causal, re);
    CHECK(test_allclose("topk k=n", out, ref, count, 1e-5, 1e-4), "k=n element-wise (n=%zu causal=%d)", n, causal);
    free(q); free(k); free(v); free(out); free(ref);
}

/* any k against the plain sort-based top-k, rows with a near-tie at the k
 * boundary left out (and required to be rare) */
static void check_against_sort_threads(size_t heads, size_t kv_heads, size_t n, size_t d, size_t K,
                                       size_t chunk, int causal, size_t threads) {
    attn_shape s = {heads, kv_heads, n, d, causal};
    float *q, *k, *v;
    make_inputs(&s, &q, &k, &v);
    float *out = run_topk_threads(&s, K, chunk, q, k, v, threads);
    size_t rows = heads * n, skipped = 0;
    unsigned char *unclear = malloc(rows);
    double *ref = plain_topk(&s, K, q, k, v, 0, 1e-4, unclear);
    for (size_t r = 0; r < rows; r++) skipped += unclear[r];
    double re = rel_err_clear_rows(out, ref, unclear, rows, d);
    CHECK(re <= 1e-5, "vs sort heads=%zu kv=%zu n=%zu d=%zu k=%zu chunk=%zu causal=%d threads=%zu: rel_err %.3g",
          heads, kv_heads, n, d, K, chunk, causal, threads, re);
    CHECK(skipped * 50 <= rows, "%zu of %zu rows have a near-tie at the k boundary", skipped, rows);
    free(q); free(k); free(v); free(out); free(ref); free(unclear);
}

static void check_against_sort(size_t heads, size_t kv_heads, size_t n, size_t d, size_t K,
                               size_t chunk, int causal) {
    check_against_sort_threads(heads, kv_heads, n, d, K, chunk, causal, 0);
}

/* Integer-valued q and k with d = 16 (so 1/sqrt(d) = 1/4): every score is
 * exact in float and many are equal, and distinct V rows make the kept set
 * visible in the output. The kernel must match the sort that lets the lower
 * index win, and differ from the one that lets the higher index win. */
static void check_ties(size_t heads, size_t kv_heads, size_t n, size_t K, size_t chunk, int causal) {
    attn_shape s = {heads, kv_heads, n, 16, causal};
    size_t nq = heads * n * 16, nkv = kv_heads * n * 16;
    float *q = malloc(nq * sizeof(float)), *k = malloc(nkv * sizeof(float)), *v = malloc(nkv * sizeof(float));
    for (size_t i = 0; i < nq; i++) q[i] = (float)(int)(test_uniform() * 3) - 1.0f;  /* -1, 0, 1 */
    for (size_t i = 0; i < nkv; i++) k[i] = (float)(int)(test_uniform() * 3) - 1.0f;
    test_fill(v, nkv, 1.0);
    float *out = run_topk(&s, K, chunk, q, k, v);
    double *lower = plain_topk(&s, K, q, k, v, 0, 0, NULL);
    double *higher = plain_topk(&s, K, q, k, v, 1, 0, NULL);
    double re = test_rel_err(out, lower, nq), wrong = test_rel_err(out, higher, nq);
    CHECK(re <= 1e-5, "ties n=%zu k=%zu chunk=%zu causal=%d: rel_err %.3g vs lower-index-wins", n, K,
          chunk, causal, re);
    CHECK(wrong > 1e-2, "ties n=%zu k=%zu causal=%d: the higher-index rule gives the same output "
          "(rel diff %.3g), so the test has no teeth", n, K, causal, wrong);
    free(q); free(k); free(v); free(out); free(lower); free(higher);
}

/* all keys equal: every score ties, so row i keeps keys 0 .. min(k, vis)-1
 * with equal weights */
static void check_all_equal(int causal) {
    const size_t n = 8, d = 4, K = 3;
    attn_shape s = {1, 1, n, d, causal};
    float q[8 * 4], k[8 * 4], v[8 * 4];
    for (size_t i = 0; i < n * d; i++) { q[i] = (float)test_normal(); k[i] = 0.5f; v[i] = (float)test_normal(); }
    float *out = run_topk(&s, K, 3, q, k, v);
    double want[8 * 4];
    for (size_t i = 0; i < n; i++) {
        size_t vis = causal ? i + 1 : n, kr = K < vis ? K : vis;
        for (size_t x = 0; x < d; x++) {
            double sum = 0;
            for (size_t j = 0; j < kr; j++) sum += v[j * d + x];
            want[i * d + x] = sum / (double)kr;
        }
    }
    CHECK(test_allclose("all-equal", out, want, n * d, 1e-6, 1e-6), "all scores equal, causal=%d", causal);
    free(out);
}

/* the row selection alone, against a sort, on values with many repeats */
static void check_select_row(void) {
    const size_t lens[] = {1, 2, 5, 31, 100, 1000};
    float s[1000], scratch[1000];
    uint32_t idx[1000];
    scored srt[1000];
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t len = lens[li];
        for (int levels = 1; levels <= 1000; levels *= 10) {
            for (size_t j = 0; j < len; j++) s[j] = (float)(int)(test_uniform() * levels);
            const size_t ks[] = {1, 2, len / 3 + 1, len - 1, len, len + 4};
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
                size_t K = ks[ki];
                if (K == 0) continue;
                size_t m = topk_select_row(s, len, K, scratch, idx);
                size_t kr = K < len ? K : len;
                CHECK(m == kr, "select len=%zu k=%zu: wrote %zu", len, K, m);
                for (size_t j = 0; j < len; j++) { srt[j].s = s[j]; srt[j].j = j; }
                qsort(srt, len, sizeof(scored), by_score_lower_first);
                /* the kept set, ascending, is the sort's first kr indices, ascending */
                unsigned char want[1000] = {0};
                for (size_t j = 0; j < kr; j++) want[srt[j].j] = 1;
                size_t w = 0, bad = 0;
                for (size_t j = 0; j < len; j++)
                    if (want[j]) bad += w >= m || idx[w++] != j;
                CHECK(bad == 0, "select len=%zu k=%zu levels=%d: %zu indices differ from the sort",
                      len, K, levels, bad);
            }
        }
    }
}

/* the row selection on long rows, where small k takes the lane bound: random
 * values with many repeats, all equal, ascending and descending (every
 * score beats the ones before it, or none does), against a sort */
static void check_select_long_rows(void) {
    const size_t lens[] = {2048, 2049, 3001, 8192};
    const size_t ks[] = {1, 2, 63, 64, 127, 128, 129, 700};
    float *s = malloc(8192 * sizeof(float)), *scratch = malloc(8192 * sizeof(float));
    uint32_t *idx = malloc(8192 * sizeof(uint32_t));
    scored *srt = malloc(8192 * sizeof(scored));
    unsigned char *want = malloc(8192);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        const size_t len = lens[li];
        for (int kind = 0; kind < 6; kind++) {
            for (size_t j = 0; j < len; j++) {
                switch (kind) {
                case 0: s[j] = (float)(8.0 * test_normal()); break;         /* continuous */
                case 1: s[j] = (float)(int)(test_uniform() * 10); break;    /* heavy ties */
                case 2: s[j] = (float)(int)(test_uniform() * 1000); break;  /* some ties */
                case 3: s[j] = 0.25f; break;                                /* all equal */
                case 4: s[j] = (float)j * 1e-3f; break;                     /* ascending */
                default: s[j] = -(float)j * 1e-3f; break;                   /* descending */
                }
            }
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++) {
                const size_t K = ks[ki];
                size_t m = topk_select_row(s, len, K, scratch, idx);
                CHECK(m == K, "select len=%zu k=%zu kind=%d: wrote %zu", len, K, kind, m);
                for (size_t j = 0; j < len; j++) { srt[j].s = s[j]; srt[j].j = j; }
                qsort(srt, len, sizeof(scored), by_score_lower_first);
                memset(want, 0, len);
                for (size_t j = 0; j < K; j++) want[srt[j].j] = 1;
                size_t w = 0, bad = 0;
                for (size_t j = 0; j < len; j++)
                    if (want[j]) bad += w >= m || idx[w++] != j;
                CHECK(bad == 0, "select len=%zu k=%zu kind=%d: %zu indices differ from the sort", len, K,
                      kind, bad);
            }
        }
    }
    free(s); free(scratch); free(idx); free(srt); free(want);
}

/* the formula counts one selection row per thread */
static void check_thread_formula(void) {
    attn_shape s = {8, 8, 4096, 64, 0};
    attn_knobs one = {.k = 64, .chunk = 1024, .threads = 1}, two = {.k = 64, .chunk = 1024, .threads = 2};
    CHECK(topk_workspace(&s, &two) == topk_workspace(&s, &one) + 4 * 4096,
          "2 threads: one more selection row (%zu vs %zu)", topk_workspace(&s, &two), topk_workspace(&s, &one));
    attn_knobs tiny = {.k = 4, .chunk = 16, .threads = 8}; /* one task: one thread */
    attn_knobs tiny1 = {.k = 4, .chunk = 16, .threads = 1};
    CHECK(topk_workspace(&s, &tiny) == topk_workspace(&s, &tiny1), "threads beyond the tasks are not counted");
}

/* formula = counted peak is checked on every run; here: linear in n, and the FLOP count */
static void check_formulas(void) {
    attn_shape a = {8, 8, 4096, 64, 1}, b = {8, 8, 16384, 64, 1};
    attn_knobs kn = {.k = 64, .chunk = 256};
    double ratio = (double)topk_workspace(&b, &kn) / (double)topk_workspace(&a, &kn);
    CHECK(ratio <= 5.0 && ratio >= 3.0, "workspace n=16384 / n=4096 = %.3f, want about 4", ratio);
    CHECK(topk_workspace(&a, &kn) == 4 * (256 * 4096 + 4096 + 2 * 256 * 64), "workspace formula at n=4096");
    /* FLOPs against a row-by-row count of what the kernel computes */
    const size_t shapes[][3] = {{1000, 96, 32}, {333, 1000, 1}, {17, 1, 5}, {64, 7, 64}};
    for (size_t t = 0; t < 4; t++)
        for (int causal = 0; causal <= 1; causal++) {
            attn_shape s = {3, 1, shapes[t][0], 16, causal};
            attn_knobs k2 = {.k = shapes[t][2], .chunk = shapes[t][1]};
            size_t C = k2.chunk < s.n ? k2.chunk : s.n;
            double f = 0;
            for (size_t i0 = 0; i0 < s.n; i0 += C) {
                size_t bq = s.n - i0 < C ? s.n - i0 : C;
                f += 2.0 * 16 * (double)bq * (double)(causal ? i0 + bq : s.n);
                for (size_t i = i0; i < i0 + bq; i++) {
                    size_t vis = causal ? i + 1 : s.n;
                    f += 2.0 * 16 * (double)(k2.k < vis ? k2.k : vis);
                }
            }
            CHECK(topk_flops(&s, &k2) == 3 * f, "flops n=%zu chunk=%zu k=%zu causal=%d: %.0f, want %.0f",
                  s.n, k2.chunk, k2.k, causal, topk_flops(&s, &k2), 3 * f);
        }
    const attn_method *m = attn_method_find("topk");
    CHECK(m && m->forward == topk_forward && m->knobs == (KNOB_K | KNOB_CHUNK) &&
          m->workspace_bytes == topk_workspace && m->flops == topk_flops, "topk table entry");
}

static void check_bad_input(void) {
    attn_shape s = {2, 1, 10, 4, 0};
    float q[2 * 10 * 4] = {0}, k[10 * 4] = {0}, v[10 * 4] = {0}, out[2 * 10 * 4];
    workspace ws;
    ws_init(&ws, 0);
    attn_knobs k0 = {.k = 0, .chunk = 4}, kbig = {.k = 11, .chunk = 4}, c0 = {.k = 2, .chunk = 0};
    CHECK(topk_forward(&s, &k0, q, k, v, out, &ws) == ATTN_EINVAL, "k = 0 accepted");
    CHECK(topk_forward(&s, &kbig, q, k, v, out, &ws) == ATTN_EINVAL, "k > n accepted");
    CHECK(topk_forward(&s, &c0, q, k, v, out, &ws) == ATTN_EINVAL, "chunk = 0 accepted");
    attn_shape g = {3, 2, 10, 4, 0};
    attn_knobs ok = {.k = 2, .chunk = 4};
    CHECK(topk_forward(&g, &ok, q, k, v, out, &ws) == ATTN_EINVAL, "heads %% kv_heads != 0 accepted");
    workspace small;
    ws_init(&small, topk_workspace(&s, &ok) - 1);
    CHECK(topk_forward(&s, &ok, q, k, v, out, &small) == ATTN_ENOMEM, "workspace limit not honoured");
    CHECK(small.live == 0, "ENOMEM leaves %zu bytes held", small.live);
    CHECK(ws.allocs == 0, "rejected calls allocated");
}

int main(void) {
    check_select_row();
    check_select_long_rows();
    check_thread_formula();
    for (int causal = 0; causal <= 1; causal++) {
        /* rows of 2048 keys and more: the lane bound inside the kernel */
        check_against_sort(1, 1, 2600, 16, 64, 300, causal);
        check_against_sort_threads(2, 1, 2300, 16, 100, 1000, causal, 2);
        check_against_sort_threads(3, 3, 333, 32, 7, 50, causal, 3); /* more tasks than rows per task */
        check_against_sort_threads(2, 2, 1000, 16, 32, 96, causal, 2);
    }
    check_formulas();
    check_bad_input();
    for (int causal = 0; causal <= 1; causal++) {
        check_k_equals_n(4, 2, 333, 32, 96, causal);   /* chunk does not divide n, grouped K/V */
        check_k_equals_n(2, 2, 1000, 48, 256, causal);
        check_k_equals_n(3, 1, 17, 8, 1000, causal);   /* chunk > n */
        check_against_sort(2, 1, 1000, 32, 32, 96, causal);  /* chunk does not divide n */
        check_against_sort(3, 3, 333, 32, 1, 1000, causal);  /* k = 1, chunk > n */
        check_against_sort(4, 2, 333, 16, 7, 50, causal);
        check_against_sort(2, 2, 17, 8, 5, 1, causal);      /* chunk 1 */
        check_against_sort(2, 1, 64, 16, 63, 7, causal);     /* k = n - 1 */
        check_ties(2, 1, 200, 10, 64, causal);
        check_ties(2, 2, 101, 1, 1000, causal);
        check_ties(1, 1, 300, 40, 7, causal);
        check_all_equal(causal);
    }
    return check_summary("test_topk");
}
