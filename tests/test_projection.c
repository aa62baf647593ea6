/* test_projection.c — the projection schemes converted from MHA weights:
 * gqa with G = heads is mha; mqa is gqa with G = 1 and its K, V are the
 * group means; mhe-add and mhe-mul are exact when the heads are identical
 * (mhe-mul also when heads differ by a scale per column), their error falls
 * as the heads become more similar; the parameter formulas. */
#include "check.h"
#include "methods.h"

typedef struct {
    proj_shape s;
    float *x, *w[3];  /* x (n, d_model); wq, wk, wv (heads, d_model, d_head) */
} layer;

/* W_h = (sqrt(R) C + sqrt(1 - R) P_h) / sqrt(d_model), C shared, P_h per head;
 * x Gaussian with a random offset per column, so its mean row is not 0 */
static layer make_layer(size_t n, size_t d_model, size_t heads, size_t d_head, double R) {
    layer L = {.s = {n, d_model, heads, heads, d_head}};
    const size_t per_head = d_model * d_head;
    L.x = malloc(n * d_model * sizeof(float));
    test_fill(L.x, n * d_model, 1.0);
    for (size_t i = 0; i < d_model; i++) {
        float off = (float)(0.5 * test_normal());
        for (size_t r = 0; r < n; r++) L.x[r * d_model + i] += off;
    }
    float *c = malloc(per_head * sizeof(float));
    for (int t = 0; t < 3; t++) {
        L.w[t] = malloc(heads * per_head * sizeof(float));
        test_fill(c, per_head, 1.0);
        test_fill(L.w[t], heads * per_head, 1.0);
        for (size_t h = 0; h < heads; h++)
            for (size_t x = 0; x < per_head; x++) {
                float *wx = L.w[t] + h * per_head + x;
                *wx = (float)((sqrt(R) * c[x] + sqrt(1 - R) * *wx) / sqrt((double)d_model));
            }
    }
    free(c);
    return L;
}

static void free_layer(layer *L) {
    free(L->x);
    for (int t = 0; t < 3; t++) free(L->w[t]);
}

/* q (heads, n, d_head), k, v (kv_heads, n, d_head) in one buffer */
static float *project(const char *name, layer *L, size_t kv_heads_opt, size_t *kv_out, int *rc) {
    const proj_scheme *p = proj_scheme_find(name);
    CHECK(p != NULL, "projection %s not in the table", name);
    if (!p) { *rc = -1; return NULL; }
    proj_shape s = L->s;
    s.kv_heads = p->kv_heads_for(s.heads, kv_heads_opt);
    const size_t nq = s.heads * s.n * s.d_head, nkv = s.kv_heads * s.n * s.d_head;
    float *qkv = malloc((nq + 2 * nkv) * sizeof(float));
    workspace ws;
    ws_init(&ws, 0);
    *rc = p->project(&s, L->x, L->w[0], L->w[1], L->w[2], qkv, qkv + nq, qkv + nq + nkv, &ws);
    CHECK(ws.live == 0, "%s leaves %zu workspace bytes held", name, ws.live);
    if (kv_out) *kv_out = s.kv_heads;
    return qkv;
}

static void check_gqa(void) {
    layer L = make_layer(64, 48, 4, 12, 0.3);
    const size_t n = 64, d = 12, H = 4, nq = H * n * d;
    int rc;
    size_t kv;
    float *mha = project("mha", &L, 0, NULL, &rc);
    float *g4 = project("gqa", &L, 4, &kv, &rc);
    CHECK(rc == ATTN_OK && kv == 4, "gqa G=4: %s, kv_heads %zu", attn_strerror(rc), kv);
    CHECK(memcmp(mha, g4, 3 * nq * sizeof(float)) == 0, "gqa with G = heads differs from mha");
    /* mqa = gqa G=1; gqa G=2 and G=1: K, V of group g = mean of the group's MHA K, V */
    float *m1 = project("mqa", &L, 0, &kv, &rc);
    CHECK(rc == ATTN_OK && kv == 1, "mqa: %s, kv_heads %zu", attn_strerror(rc), kv);
    for (size_t G = 1; G <= 2; G++) {
        float *g = project("gqa", &L, G, &kv, &rc);
        CHECK(rc == ATTN_OK && kv == G, "gqa G=%zu: %s", G, attn_strerror(rc));
        const size_t nkv = G * n * d, group = H / G;
        if (G == 1)
            CHECK(memcmp(m1, g, (nq + 2 * nkv) * sizeof(float)) == 0, "mqa differs from gqa G=1");
        CHECK(memcmp(mha, g, nq * sizeof(float)) == 0, "gqa G=%zu: queries differ from mha", G);
        for (int t = 1; t <= 2; t++) { /* k, then v */
            double *want = calloc(nkv, sizeof(double));
            const float *mt = mha + t * nq;
            for (size_t h = 0; h < H; h++)
                for (size_t x = 0; x < n * d; x++) want[(h / group) * n * d + x] += mt[h * n * d + x] / (double)group;
            CHECK(test_allclose(t == 1 ? "k" : "v", g + nq + (t - 1) * nkv, want, nkv, 1e-5, 1e-5),
                  "gqa G=%zu: %s is not the mean of its group's MHA heads", G, t == 1 ? "K" : "V");
            free(want);
        }
        free(g);
    }
    /* heads not a multiple of G */
    proj_shape bad = L.s;
    bad.kv_heads = 3;
    float *out = malloc(3 * nq * sizeof(float));
    workspace ws;
    ws_init(&ws, 0);
    CHECK(gqa_project(&bad, L.x, L.w[0], L.w[1], L.w[2], out, out + nq, out + 2 * nq, &ws) == ATTN_EINVAL,
          "gqa with heads 4, G 3 accepted");
    bad.kv_heads = 0;
    CHECK(gqa_project(&bad, L.x, L.w[0], L.w[1], L.w[2], out, out + nq, out + 2 * nq, &ws) == ATTN_EINVAL,
          "gqa with G 0 accepted");
    free(out); free(mha); free(g4); free(m1);
    free_layer(&L);
}

/* rel err of a scheme's q, k, v (kv_heads = heads) against mha's */
static double err_vs_mha(const char *name, layer *L) {
    int rc;
    const size_t count = 3 * L->s.heads * L->s.n * L->s.d_head;
    float *mha = project("mha", L, 0, NULL, &rc), *got = project(name, L, 0, NULL, &rc);
    CHECK(rc == ATTN_OK, "%s: %s", name, attn_strerror(rc));
    double *ref = test_to_double(mha, count);
    double e = test_rel_err(got, ref, count);
    free(mha); free(got); free(ref);
    return e;
}

static void check_mhe(void) {
    const char *names[2] = {"mhe-add", "mhe-mul"};
    /* identical heads: exact */
    layer L = make_layer(64, 48, 4, 12, 1.0);
    for (int m = 0; m < 2; m++) {
        double e = err_vs_mha(names[m], &L);
        CHECK(e < 1e-6, "%s with identical heads: rel err %.3g", names[m], e);
    }
    /* mhe-mul is also exact when heads differ by a scale per column j */
    const size_t dm = 48, dh = 12, H = 4;
    for (int t = 0; t < 3; t++)
        for (size_t h = 1; h < H; h++)
            for (size_t j = 0; j < dh; j++) {
                float scale = (float)(1.0 + 0.5 * test_normal());
                for (size_t i = 0; i < dm; i++)
                    L.w[t][(h * dm + i) * dh + j] = L.w[t][i * dh + j] * scale;
            }
    double e_mul = err_vs_mha("mhe-mul", &L), e_add = err_vs_mha("mhe-add", &L);
    CHECK(e_mul < 1e-6, "mhe-mul with heads scaled per column: rel err %.3g", e_mul);
    CHECK(e_add > 1e-2, "mhe-add with heads scaled per column: rel err %.3g (should not fit)", e_add);
    free_layer(&L);
    /* mhe-add's residual has zero mean over rows (least squares in e_h) */
    layer A = make_layer(80, 32, 3, 8, 0.5);
    int rc;
    const size_t n = 80;
    float *mha = project("mha", &A, 0, NULL, &rc), *add = project("mhe-add", &A, 0, NULL, &rc);
    double worst = 0;
    for (size_t t = 0; t < 3 * 3; t++) /* (q, k, v) x heads */
        for (size_t j = 0; j < 8; j++) {
            double mean = 0;
            for (size_t i = 0; i < n; i++) mean += ((double)mha[t * n * 8 + i * 8 + j] - add[t * n * 8 + i * 8 + j]) / n;
            worst = fmax(worst, fabs(mean));
        }
    CHECK(worst < 1e-5, "mhe-add residual column mean %.3g, want 0", worst);
    free(mha); free(add);
    free_layer(&A);
    /* mhe-mul is the best rank-one fit of each column: against an independent
     * SVD by alternating power iteration on A_j = [w_1[:, j] ... w_H[:, j]] */
    layer B = make_layer(20, 16, 4, 6, 0.5);
    float *mul = project("mhe-mul", &B, 0, NULL, &rc);
    for (int t = 0; t < 3; t++) {
        double *want = malloc(4 * 20 * 6 * sizeof(double));
        for (size_t j = 0; j < 6; j++) {
            double u[16], e[4] = {1, 0, 0, 0}, ue[16];
            for (int it = 0; it < 5000; it++) {
                double nu = 0, ne = 0;
                for (size_t i = 0; i < 16; i++) {
                    u[i] = 0;
                    for (size_t h = 0; h < 4; h++) u[i] += B.w[t][(h * 16 + i) * 6 + j] * e[h];
                    nu += u[i] * u[i];
                }
                for (size_t h = 0; h < 4; h++) {
                    e[h] = 0;
                    for (size_t i = 0; i < 16; i++) e[h] += B.w[t][(h * 16 + i) * 6 + j] * u[i] / sqrt(nu);
                    ne += e[h] * e[h];
                }
                for (size_t h = 0; h < 4; h++) e[h] /= sqrt(ne);
            }
            for (size_t i = 0; i < 16; i++) { /* best rank one: (A e) e^T */
                ue[i] = 0;
                for (size_t h = 0; h < 4; h++) ue[i] += B.w[t][(h * 16 + i) * 6 + j] * e[h];
            }
            for (size_t h = 0; h < 4; h++)
                for (size_t r = 0; r < 20; r++) {
                    double xw = 0;
                    for (size_t i = 0; i < 16; i++) xw += B.x[r * 16 + i] * ue[i];
                    want[(h * 20 + r) * 6 + j] = xw * e[h];
                }
        }
        CHECK(test_allclose("mhe-mul", mul + t * 4 * 20 * 6, want, 4 * 20 * 6, 1e-5, 1e-4),
              "mhe-mul %c is not the best rank-one fit", "qkv"[t]);
        free(want);
    }
    free(mul);
    free_layer(&B);
    /* error falls as heads become similar */
    const double R[4] = {0, 0.5, 0.9, 0.99};
    const char *all[4] = {"mhe-add", "mhe-mul", "mqa", "gqa"};
    for (int m = 0; m < 4; m++) {
        double prev = INFINITY;
        for (int r = 0; r < 4; r++) {
            test_rng_state = 42; /* the same C and P_h for every R */
            layer S = make_layer(128, 64, 8, 16, R[r]);
            double e;
            if (m < 2) {
                e = err_vs_mha(all[m], &S);
            } else { /* K, V of mqa / gqa G = 2 against the MHA heads they replace */
                size_t kv;
                const size_t per = 128 * 16, nq8 = 8 * per;
                float *mh = project("mha", &S, 0, NULL, &rc), *g = project(all[m], &S, 2, &kv, &rc);
                double num = 0, den = 0;
                for (int t = 1; t <= 2; t++)
                    for (size_t h = 0; h < 8; h++)
                        for (size_t x = 0; x < per; x++) {
                            double a = mh[t * nq8 + h * per + x];
                            double b = g[nq8 + (t - 1) * kv * per + (h / (8 / kv)) * per + x];
                            num += (a - b) * (a - b);
                            den += a * a;
                        }
                e = sqrt(num / den);
                free(mh); free(g);
            }
            CHECK(e < prev, "%s: error %.3g at R=%.2f not below %.3g at the previous R", all[m], e, R[r], prev);
            prev = e;
            free_layer(&S);
        }
        CHECK(prev < 0.2, "%s: error %.3g at R=0.99", all[m], prev);
    }
}

static void check_params(void) {
    proj_shape s = {.n = 1, .d_model = 768, .heads = 12, .kv_heads = 12, .d_head = 64};
    CHECK(mha_params(&s) == 1769472, "mha params %zu", mha_params(&s));
    CHECK(mhe_params(&s) == 149760, "mhe params %zu", mhe_params(&s));
    s.kv_heads = 4;
    CHECK(gqa_params(&s) == 983040, "gqa G=4 params %zu", gqa_params(&s));
    s.kv_heads = 1;
    CHECK(gqa_params(&s) == 688128, "mqa params %zu", gqa_params(&s));
    s.kv_heads = 12;
    CHECK(gqa_params(&s) == mha_params(&s), "gqa G=heads params %zu != mha", gqa_params(&s));
    const size_t Hs[4] = {1, 2, 8, 12}, ds[3] = {1, 64, 128};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 3; b++) {
            const size_t H = Hs[a], d = ds[b];
            proj_shape p = {.n = 1, .d_model = H * d, .heads = H, .kv_heads = H, .d_head = d};
            const long long diff = (long long)mha_params(&p) - (long long)mhe_params(&p);
            const long long want = (3LL * (long long)(H * H) - 3LL * (long long)H) * (long long)(d * d) - 3LL * (long long)(H * d);
            CHECK(diff == want, "H=%zu d=%zu: mha - mhe = %lld, want %lld", H, d, diff, want);
        }
    /* the table's entries point to the formulas */
    const proj_scheme *g = proj_scheme_find("gqa"), *m = proj_scheme_find("mqa");
    CHECK(g && g->kv_heads_for(12, 4) == 4 && m && m->kv_heads_for(12, 0) == 1 &&
              proj_scheme_find("mhe-add")->kv_heads_for(12, 3) == 12,
          "kv_heads_for");
}

int main(void) {
    check_gqa();
    check_mhe();
    check_params();
    return check_summary("test_projection");
}
