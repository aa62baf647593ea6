/* test_methods.c — the conformance test over the two method tables, ggml's
 * test-backend-ops in spirit: every entry of attn_methods[] and
 * proj_schemes[] is run through the same cases, with no list of names here,
 * so an operator or scheme added to a table is tested the day it lands.
 *
 * Attention operators, over causal and not (ATTN_CAUSAL_ONLY: causal), kv_heads = heads and grouped
 * (heads 4, kv_heads 2), odd n (37, 129), chunk 16 and chunk > n, threads 1
 * and 3, at the test's approximate knobs and at the entry's exact limit:
 *   - the stated workspace formula equals the allocator's counted peak, and a
 *     limit one byte under it gives ATTN_ENOMEM; nothing is left held;
 *   - at the exact limit (exact_limit hook) rel_err against the float64
 *     reference is at most the entry's exact_tol, and element-wise
 *     |got - ref| <= 10 tol (1 + |ref|) (first mismatches printed);
 *     an entry with no hook fails; one whose hook returns 0 is approximate
 *     only and is held to the checks below;
 *   - outputs are finite and inside the range of the head's V columns (every
 *     operator takes a weighted mean of V rows);
 *   - threads 3 equals threads 1 within rel 1e-6 (the summary says whether
 *     bitwise);
 *   - bad shapes (n 0, d_head 0, heads 0, kv_heads 0, heads not a multiple
 *     of kv_heads; not causal for a causal-only method, its resolve giving a
 *     reason) return ATTN_EINVAL; a knob the method reads set to 0, 1,
 *     n, n + 1 or SIZE_MAX gives ATTN_OK (then the checks above) or
 *     ATTN_EINVAL, never anything else;
 *   - flops are positive and grow with n.
 * Projection schemes: kv_heads_for either follows --kv-heads or ignores it,
 * and gives a divisor of heads; params positive and growing with d_model;
 * q, k, v written in full and nothing past them; nothing left held; at the
 * scheme's exact setting (exact_limit hook) q, k, v equal mha's (the
 * reference scheme) within its exact_tol (0: bitwise). */
#include "check.h"
#include "methods.h"

#include <stddef.h>

enum { HEADS = 4, D_HEAD = 12 };

/* ---- helpers ----------------------------------------------------------- */

/* ||a - b|| / ||a|| over count floats */
static double rel_diff(const float *a, const float *b, size_t count) {
    double num = 0, den = 0;
    for (size_t i = 0; i < count; i++) {
        const double e = (double)a[i] - b[i];
        num += e * e;
        den += (double)a[i] * a[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* the knobs a method may read (kernels/knob_list.h), by option, for the generic edge values */
#define KNOB_FIELD_ENTRY(A, ID, field, ...) {KNOB_##ID, offsetof(attn_knobs, field), KNOB_OPTION(field)},
static const struct { unsigned bit; size_t offset; const char *name; } KNOB_FIELDS[] = {
    ATTN_KNOB_LIST(KNOB_FIELD_ENTRY, )
};
#undef KNOB_FIELD_ENTRY
enum { NKNOBS = sizeof KNOB_FIELDS / sizeof KNOB_FIELDS[0] };

static size_t *knob_field(attn_knobs *kn, size_t i) {
    return (size_t *)((char *)kn + KNOB_FIELDS[i].offset);
}

/* one case's inputs: q (heads, n, d); k, v (kv_heads, n, d); the reference */
typedef struct {
    attn_shape s;
    float *q, *k, *v;
    double *ref;
} attn_case;

static attn_case case_new(size_t kv_heads, size_t n, int causal) {
    attn_case c = {.s = {HEADS, kv_heads, n, D_HEAD, causal}};
    const size_t nq = HEADS * n * D_HEAD, nkv = kv_heads * n * D_HEAD;
    c.q = malloc(nq * sizeof(float));
    c.k = malloc(nkv * sizeof(float));
    c.v = malloc(nkv * sizeof(float));
    test_fill(c.q, nq, 1.5); test_fill(c.k, nkv, 1.5); test_fill(c.v, nkv, 1.0);
    c.ref = test_reference(&c.s, c.q, c.k, c.v);
    return c;
}

static void case_free(attn_case *c) {
    free(c->q); free(c->k); free(c->v); free(c->ref);
}

/* the knobs the test runs every method at away from its exact limit: each
 * knob's test value of kernels/knob_list.h, for a sequence of n keys */
static attn_knobs approx_knobs(size_t n) {
#define KNOB_TEST_VALUE(A, ID, field, cmds, lists, flags, label, min, max, test, help) .field = (test),
    return (attn_knobs){ATTN_KNOB_LIST(KNOB_TEST_VALUE, ) .seed = 1, .threads = 1};
#undef KNOB_TEST_VALUE
}

/* every method knob ATTN_KNOB_UNSET: what the program hands resolve() when
 * no knob was given */
static attn_knobs unset_knobs(void) {
    attn_knobs kn = {.seed = 1, .threads = 1};
    for (size_t f = 0; f < NKNOBS; f++) *knob_field(&kn, f) = ATTN_KNOB_UNSET;
    return kn;
}

/* per method: what the summary line reports */
typedef struct {
    size_t runs;
    double worst_exact;   /* largest rel_err at the exact limit, -1: none run */
    double worst_threads; /* largest rel diff threads 3 vs 1 */
    int bitwise;          /* threads 3 equal threads 1 bit for bit throughout */
} tally;

/* out: (heads, n, d) inside [min, max] of its head's V columns, finite */
static int inside_v_range(const attn_case *c, const float *out) {
    const size_t n = c->s.n, d = c->s.d_head, group = c->s.heads / c->s.kv_heads;
    for (size_t h = 0; h < c->s.heads; h++)
        for (size_t x = 0; x < d; x++) {
            double lo = INFINITY, hi = -INFINITY;
            const float *vh = c->v + (h / group) * n * d;
            for (size_t j = 0; j < n; j++) { lo = fmin(lo, vh[j * d + x]); hi = fmax(hi, vh[j * d + x]); }
            const double slack = 1e-4 * (hi - lo) + 1e-6;
            for (size_t i = 0; i < n; i++) {
                const float o = out[(h * n + i) * d + x];
                if (!(o >= lo - slack && o <= hi + slack)) {
                    fprintf(stderr, "  out[h=%zu, i=%zu, %zu] = %.9g outside V's [%.6g, %.6g]\n",
                            h, i, x, (double)o, lo, hi);
                    return 0;
                }
            }
        }
    return 1;
}

/* ---- attention operators ---------------------------------------------- */

/* forward at *kn on fresh workspace: the counted peak equals the stated
 * formula, nothing is held after, and one byte less of limit is ENOMEM.
 * Returns the forward's code. */
static int run_counted(const attn_method *m, const attn_case *c, const attn_knobs *kn,
                       float *out, const char *what) {
    workspace ws;
    ws_init(&ws, 0);
    const int rc = m->forward(&c->s, kn, c->q, c->k, c->v, out, &ws);
    CHECK(ws.live == 0, "%s %s: %zu workspace bytes left held", m->name, what, ws.live);
    if (rc != ATTN_OK)
        return rc;
    const size_t formula = m->workspace_bytes(&c->s, kn);
    CHECK(ws.peak == formula, "%s %s: counted peak %zu bytes, formula %zu", m->name, what,
          ws.peak, formula);
    if (formula > 1 && kn->threads <= 1) {
        ws_init(&ws, formula - 1);
        const int tight = m->forward(&c->s, kn, c->q, c->k, c->v, out, &ws);
        CHECK(tight == ATTN_ENOMEM && ws.live == 0,
              "%s %s: limit formula - 1: %s, %zu bytes held", m->name, what, attn_strerror(tight),
              ws.live);
    }
    return rc;
}

/* one setting of the knobs on one case: threads 1 and 3, the checks above;
 * exact: compare with the reference under the entry's tolerance */
static void check_setting(const attn_method *m, const attn_case *c, attn_knobs kn, int exact,
                          const char *what, tally *t) {
    const size_t count = c->s.heads * c->s.n * c->s.d_head;
    float *o1 = malloc(count * sizeof(float)), *o3 = malloc(count * sizeof(float));
    kn.threads = 1;
    int rc = run_counted(m, c, &kn, o1, what);
    CHECK(rc == ATTN_OK, "%s %s threads 1: %s", m->name, what, attn_strerror(rc));
    kn.threads = 3;
    int rc3 = run_counted(m, c, &kn, o3, what);
    CHECK(rc3 == ATTN_OK, "%s %s threads 3: %s", m->name, what, attn_strerror(rc3));
    t->runs += 2;
    if (rc == ATTN_OK && rc3 == ATTN_OK) {
        CHECK(inside_v_range(c, o1), "%s %s: output not a mean of V rows", m->name, what);
        const double dt = rel_diff(o1, o3, count);
        t->worst_threads = fmax(t->worst_threads, dt);
        t->bitwise &= memcmp(o1, o3, count * sizeof(float)) == 0;
        CHECK(dt <= 1e-6, "%s %s: threads 3 differ from threads 1 by rel %.3g", m->name, what, dt);
        if (exact) {
            const double re = test_rel_err(o1, c->ref, count), tol = m->exact_tol;
            t->worst_exact = fmax(t->worst_exact, re);
            CHECK(re <= tol, "%s %s at its exact limit: rel_err %.3g > exact_tol %.3g", m->name,
                  what, re, tol);
            CHECK(test_allclose(m->name, o1, c->ref, count, 10 * tol, 10 * tol),
                  "%s %s at its exact limit: element-wise", m->name, what);
        }
    }
    free(o1); free(o3);
}

/* bad shapes: ATTN_EINVAL, nothing held (a causal-only method: not causal
 * too, and its resolve says why) */
static void check_bad_shapes(const attn_method *m, const attn_case *c, const attn_knobs *kn) {
    const attn_shape good = c->s;
    attn_shape bad[6] = {good, good, good, good, good, good};
    const char *why[6] = {"n 0", "d_head 0", "heads 0", "kv_heads 0", "heads 4, kv_heads 3", "causal only, not causal"};
    bad[0].n = 0; bad[1].d_head = 0; bad[2].heads = 0; bad[3].kv_heads = 0; bad[4].kv_heads = 3; bad[5].causal = 0;
    const int nbad = (m->flags & ATTN_CAUSAL_ONLY) && good.causal ? 6 : 5;
    attn_knobs r = *kn;
    char reason[200] = "";
    CHECK(nbad == 5 || (m->resolve(&bad[5], &r, reason, sizeof reason) == ATTN_EINVAL && reason[0]),
          "%s: causal only, but its resolve takes a non-causal shape without a reason", m->name);
    float *out = malloc(good.heads * good.n * good.d_head * sizeof(float));
    for (int b = 0; b < nbad; b++) {
        workspace ws;
        ws_init(&ws, 0);
        const int rc = m->forward(&bad[b], kn, c->q, c->k, c->v, out, &ws);
        CHECK(rc == ATTN_EINVAL && ws.live == 0, "%s, %s: %s (want ATTN_EINVAL), %zu bytes held",
              m->name, why[b], attn_strerror(rc), ws.live);
    }
    free(out);
}

/* every knob the method reads at 0, 1, n, n + 1, SIZE_MAX: accepted (and
 * then conforming) or ATTN_EINVAL */
static void check_knob_edges(const attn_method *m, const attn_case *c, const attn_knobs *base) {
    const size_t n = c->s.n, values[5] = {0, 1, n, n + 1, SIZE_MAX};
    float *out = malloc(c->s.heads * n * c->s.d_head * sizeof(float));
    for (size_t f = 0; f < NKNOBS; f++) {
        if (!(m->knobs & KNOB_FIELDS[f].bit)) continue;
        for (int x = 0; x < 5; x++) {
            attn_knobs kn = *base;
            *knob_field(&kn, f) = values[x];
            char what[64];
            snprintf(what, sizeof what, "%s %zu (n %zu)", KNOB_FIELDS[f].name, values[x], n);
            const int rc = run_counted(m, c, &kn, out, what);
            CHECK(rc == ATTN_OK || rc == ATTN_EINVAL, "%s %s: %s (want ok or ATTN_EINVAL)",
                  m->name, what, attn_strerror(rc));
            if (rc == ATTN_OK)
                CHECK(inside_v_range(c, out), "%s %s: output not a mean of V rows", m->name, what);
        }
    }
    free(out);
}

/* flops positive, and larger at 2n than at n */
static void check_flops(const attn_method *m, const attn_shape *s, const attn_knobs *kn,
                        const char *what) {
    attn_shape twice = *s;
    twice.n = 2 * s->n;
    const double f = m->flops(s, kn), f2 = m->flops(&twice, kn);
    CHECK(f > 0 && f2 > f, "%s %s: flops %.6g at n %zu, %.6g at n %zu", m->name, what, f, s->n,
          f2, twice.n);
}

/* the table entry's hooks and fields: a missing one is a failed case */
static int entry_complete(const attn_method *m) {
    int ok = m->summary && m->forward && m->flops && m->workspace_bytes;
    CHECK(ok, "%s: summary, forward, flops and workspace_bytes are all required", m->name);
    CHECK(m->exact_limit != NULL,
          "%s: no exact_limit hook, so no conformance case at an exact limit (a hook returning 0 "
          "declares the method approximate only)", m->name);
    unsigned known = 0;
    for (size_t f = 0; f < NKNOBS; f++) known |= KNOB_FIELDS[f].bit;
    CHECK(!(m->knobs & ~known), "%s: knob bits %#x unknown to this test", m->name, m->knobs & ~known);
    return ok && m->exact_limit;
}

/* every case for one method; one summary line */
static void check_method(const attn_method *m) {
    const int before = check_failures;
    tally t = {0, -1, 0, 1};
    int has_exact = 0;
    const int complete = entry_complete(m);
    if (complete) {
        const size_t kvs[2] = {HEADS, 2}, ns[2] = {37, 129}, chunks[2] = {16, 1000};
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                for (int causal = 0; causal <= 1; causal++) {
                    attn_case c = case_new(kvs[a], ns[b], causal);
                    if (!causal && (m->flags & ATTN_CAUSAL_ONLY)) { case_free(&c); continue; } /* a bad shape */
                    for (int ch = 0; ch < 2; ch++) {
                        char what[96];
                        attn_knobs kn = approx_knobs(ns[b]);
                        kn.chunk = chunks[ch]; /* each method at two block sizes */
                        attn_knobs ex = kn;
                        snprintf(what, sizeof what, "(kv_heads %zu, n %zu, causal %d, chunk %zu)",
                                 kvs[a], ns[b], causal, chunks[ch]);
                        has_exact = m->exact_limit(&c.s, &ex);
                        check_setting(m, &c, kn, 0, what, &t);
                        if (has_exact) check_setting(m, &c, ex, 1, what, &t);
                        check_flops(m, &c.s, &kn, what);
                        if (has_exact) check_flops(m, &c.s, &ex, what);
                    }
                    const attn_knobs base = approx_knobs(ns[b]);
                    check_bad_shapes(m, &c, &base);
                    if (b == 0) check_knob_edges(m, &c, &base);
                    case_free(&c);
                }
    }
    const int failed = check_failures - before;
    printf("%s %-10s ", failed ? "FAIL" : "ok  ", m->name);
    if (!complete)
        printf("no conformance case: the table entry is incomplete");
    else {
        printf("%3zu runs, ", t.runs);
        if (has_exact) printf("exact limit rel_err <= %.2g (tol %.2g)", t.worst_exact, m->exact_tol);
        else printf("approximate only (no exact limit)");
        if (t.bitwise) printf(", threads 1 vs 3 bitwise");
        else printf(", threads 1 vs 3 rel <= %.2g", t.worst_threads);
    }
    printf(failed ? ", %d check(s) failed\n" : "\n", failed);
}

/* ---- projection schemes ------------------------------------------------ */

enum { P_N = 37, P_DM = 24, P_DH = 8, GUARD = 16 };

typedef struct {
    float *x, *w[3];   /* x (n, d_model); wq, wk, wv (heads, d_model, d_head) */
} proj_inputs;

/* q, k, v in one buffer (heads + 2 kv_heads, n, d_head) with GUARD NaN-free
 * sentinels after it; the buffer starts all NaN. Returns it, or NULL. */
static float *run_projection(const proj_scheme *p, const proj_inputs *in, size_t kv_opt,
                             size_t *kv_out) {
    proj_shape s = {P_N, P_DM, HEADS, p->kv_heads_for(HEADS, kv_opt), P_DH};
    *kv_out = s.kv_heads;
    if (!s.kv_heads) return NULL;
    const size_t nq = HEADS * P_N * P_DH, nkv = s.kv_heads * P_N * P_DH, all = nq + 2 * nkv;
    float *qkv = malloc((all + GUARD) * sizeof(float));
    for (size_t i = 0; i < all; i++) qkv[i] = NAN;
    for (size_t i = 0; i < GUARD; i++) qkv[all + i] = 12345.0f;
    workspace ws;
    ws_init(&ws, 0);
    const int rc = p->project(&s, in->x, in->w[0], in->w[1], in->w[2], qkv, qkv + nq,
                              qkv + nq + nkv, &ws);
    CHECK(rc == ATTN_OK, "%s kv_heads %zu: %s", p->name, s.kv_heads, attn_strerror(rc));
    CHECK(ws.live == 0, "%s: %zu workspace bytes left held", p->name, ws.live);
    size_t unset = 0, past = 0;
    for (size_t i = 0; i < all; i++) unset += !isfinite(qkv[i]);
    for (size_t i = 0; i < GUARD; i++) past += qkv[all + i] != 12345.0f;
    CHECK(unset == 0 && past == 0, "%s kv_heads %zu: %zu of q, k, v not written, %zu written past",
          p->name, s.kv_heads, unset, past);
    return qkv;
}

/* kv_heads_for follows --kv-heads (G = opt) or ignores it (G constant), and
 * G divides heads; params positive and growing with d_model */
static void check_kv_heads(const proj_scheme *p) {
    const size_t opts[3] = {1, 2, 4}, fixed = p->kv_heads_for(HEADS, 0);
    int follows = 1, ignores = 1;
    for (int o = 0; o < 3; o++) {
        const size_t G = p->kv_heads_for(HEADS, opts[o]);
        follows &= G == opts[o];
        ignores &= G == fixed;
        CHECK(G == p->kv_heads_for(HEADS, opts[o]), "%s: kv_heads_for not repeatable", p->name);
        if (G) {
            CHECK(HEADS % G == 0, "%s --kv-heads %zu: %zu K/V heads do not divide %d", p->name, opts[o], G, HEADS);
            proj_shape s = {P_N, P_DM, HEADS, G, P_DH}, wide = s;
            wide.d_model *= 2;
            CHECK(p->params(&s) > 0 && p->params(&wide) > p->params(&s),
                  "%s kv_heads %zu: params %zu, %zu at twice d_model", p->name, G, p->params(&s), p->params(&wide));
        }
    }
    CHECK(follows || (ignores && fixed && HEADS % fixed == 0),
          "%s: kv_heads_for neither follows --kv-heads nor gives one fixed divisor of heads", p->name);
}

static void check_scheme(const proj_scheme *p, const proj_scheme *ref, const proj_inputs *in,
                         const float *ref_qkv) {
    const int before = check_failures;
    const int complete = p->summary && p->project && p->kv_heads_for && p->params;
    CHECK(complete, "%s: summary, project, kv_heads_for and params are all required", p->name);
    CHECK(p->exact_limit != NULL, "%s: no exact_limit hook, so no conformance case at its exact "
          "setting (a hook returning 0 declares it approximate only)", p->name);
    int has_exact = 0;
    double err = 0;
    if (complete && p->exact_limit) {
        check_kv_heads(p);
        const size_t opts[4] = {0, 1, 2, 4};
        for (int o = 0; o < 4; o++) {
            size_t G;
            free(run_projection(p, in, opts[o], &G));
        }
        size_t opt = 0, G = 0;
        has_exact = p->exact_limit(HEADS, &opt);
        if (has_exact) {
            float *qkv = run_projection(p, in, opt, &G);
            CHECK(G == HEADS, "%s at its exact setting: %zu K/V heads, want %d", p->name, G, HEADS);
            const size_t all = 3 * HEADS * P_N * P_DH;
            if (qkv && G == HEADS && ref_qkv) {
                err = rel_diff(ref_qkv, qkv, all);
                if (p->exact_tol == 0)
                    CHECK(memcmp(qkv, ref_qkv, all * sizeof(float)) == 0,
                          "%s at its exact setting differs from %s (rel %.3g; exact_tol 0: bitwise)",
                          p->name, ref->name, err);
                else
                    CHECK(err <= p->exact_tol, "%s at its exact setting: rel %.3g from %s > %.3g",
                          p->name, err, ref->name, p->exact_tol);
            }
            free(qkv);
        }
    }
    const int failed = check_failures - before;
    printf("%s %-10s %s", failed ? "FAIL" : "ok  ", p->name,
           !(complete && p->exact_limit) ? "no conformance case: the table entry is incomplete"
           : has_exact ? "exact setting = mha's q, k, v" : "approximate only (no exact setting)");
    if (has_exact) printf(p->exact_tol == 0 ? " bitwise" : " (rel %.2g)", err);
    printf(failed ? ", %d check(s) failed\n" : "\n", failed);
}

/* the reference scheme (mha) against plain float64 loops: q_h = x wq_h */
static void check_reference_scheme(const proj_scheme *ref, const proj_inputs *in, const float *qkv) {
    double worst = 0;
    for (int t = 0; t < 3; t++)
        for (size_t h = 0; h < HEADS; h++)
            for (size_t i = 0; i < P_N; i++)
                for (size_t j = 0; j < P_DH; j++) {
                    double y = 0;
                    for (size_t a = 0; a < P_DM; a++)
                        y += (double)in->x[i * P_DM + a] * in->w[t][(h * P_DM + a) * P_DH + j];
                    const float got = qkv[((t * HEADS + h) * P_N + i) * P_DH + j];
                    worst = fmax(worst, fabs(got - y) / (1 + fabs(y)));
                }
    CHECK(worst <= 1e-5, "%s against float64 loops: %.3g", ref->name, worst);
}

static void check_schemes(void) {
    proj_inputs in;
    in.x = malloc(P_N * P_DM * sizeof(float));
    test_fill(in.x, P_N * P_DM, 1.0);
    for (int t = 0; t < 3; t++) {
        in.w[t] = malloc(HEADS * P_DM * P_DH * sizeof(float));
        test_fill(in.w[t], HEADS * P_DM * P_DH, 1.0 / sqrt((double)P_DM));
    }
    const proj_scheme *ref = proj_scheme_find("mha");
    CHECK(ref != NULL, "the reference scheme mha is not in the table");
    float *ref_qkv = NULL;
    size_t G = 0;
    if (ref) {
        ref_qkv = run_projection(ref, &in, 0, &G);
        CHECK(G == HEADS, "mha: %zu K/V heads", G);
        if (ref_qkv) check_reference_scheme(ref, &in, ref_qkv);
    }
    for (const proj_scheme *p = proj_schemes; p->name; p++) check_scheme(p, ref, &in, ref_qkv);
    free(ref_qkv); free(in.x);
    for (int t = 0; t < 3; t++) free(in.w[t]);
}

/* names unique; the terminator is all zero */
static void check_tables(void) {
    size_t n = 0;
    for (const attn_method *m = attn_methods; m->name; m++, n++)
        for (const attn_method *o = attn_methods; o != m; o++)
            CHECK(strcmp(o->name, m->name), "attention %s listed twice", m->name);
    CHECK(n > 0 && !attn_methods[n].forward, "attn_methods[]: %zu entries, terminator", n);
    n = 0;
    for (const proj_scheme *p = proj_schemes; p->name; p++, n++)
        for (const proj_scheme *o = proj_schemes; o != p; o++)
            CHECK(strcmp(o->name, p->name), "projection %s listed twice", p->name);
    CHECK(n > 0 && !proj_schemes[n].project, "proj_schemes[]: %zu entries, terminator", n);
}

/* ---- the knob rules (resolve hooks) and the reference statistic ----------- */

/* Every entry owns its knobs: with every knob unset, resolve() fills the
 * knobs the method reads (and no other) and the kernel runs with them;
 * resolving again changes nothing; for each knob it reads set to 0, 1, n,
 * n + 1 or SIZE_MAX - 1, resolve either refuses with a one-line reason
 * naming the option ("--k ...") or the kernel accepts the value (ATTN_OK, or
 * ATTN_ENOMEM under a 256 MiB limit), never ATTN_EINVAL: resolve is the gate.
 * The reference statistic: ATTN_MASS_KEPT has its kept_mass hook, and at
 * the exact limit the kept set carries all the mass; ATTN_MASS_LARGEST
 * reads k. */
static void check_resolve(const attn_method *m) {
    const int before = check_failures;
    CHECK(m->resolve != NULL, "%s: no resolve hook: the program would have to know its defaults", m->name);
    if (!m->resolve) return;
    attn_case c = case_new(2, 37, 1);
    float *out = malloc(HEADS * 37 * D_HEAD * sizeof(float));
    const attn_knobs unset = unset_knobs();
    attn_knobs kn = unset;
    char why[300] = "";
    int rc = m->resolve(&c.s, &kn, why, sizeof why);
    CHECK(rc == ATTN_OK, "%s: resolve of unset knobs: %s (%s)", m->name, attn_strerror(rc), why);
    for (size_t f = 0; f < NKNOBS; f++) {
        const int reads = (m->knobs & KNOB_FIELDS[f].bit) != 0;
        CHECK(reads == (*knob_field(&kn, f) != ATTN_KNOB_UNSET), "%s: --%s %s after resolve (it %s it)", m->name,
              KNOB_FIELDS[f].name, *knob_field(&kn, f) == ATTN_KNOB_UNSET ? "unset" : "set",
              reads ? "reads" : "does not read");
    }
    attn_knobs again = kn;
    CHECK(m->resolve(&c.s, &again, why, sizeof why) == ATTN_OK && !memcmp(&again, &kn, sizeof kn),
          "%s: resolving resolved knobs changed them", m->name);
    workspace ws;
    ws_init(&ws, 0);
    CHECK(rc != ATTN_OK || m->forward(&c.s, &kn, c.q, c.k, c.v, out, &ws) == ATTN_OK,
          "%s: the kernel refused its own defaults", m->name);
    const size_t vals[5] = {0, 1, 37, 38, SIZE_MAX - 1};
    for (size_t f = 0; f < NKNOBS; f++) {
        if (!(m->knobs & KNOB_FIELDS[f].bit)) continue;
        for (int i = 0; i < 5; i++) {
            attn_knobs t = unset;
            *knob_field(&t, f) = vals[i];
            why[0] = '\0';
            rc = m->resolve(&c.s, &t, why, sizeof why);
            char opt[40];
            snprintf(opt, sizeof opt, "--%s", KNOB_FIELDS[f].name);
            if (rc != ATTN_OK) {
                CHECK(rc == ATTN_EINVAL && !strncmp(why, opt, strlen(opt)),
                      "%s %s %zu: refused with %s, reason '%s' (want ATTN_EINVAL naming %s)", m->name, opt, vals[i],
                      attn_strerror(rc), why, opt);
                continue;
            }
            CHECK(*knob_field(&t, f) == vals[i], "%s %s %zu: resolve changed a given value to %zu", m->name, opt,
                  vals[i], *knob_field(&t, f));
            ws_init(&ws, (size_t)1 << 28);
            const int frc = m->forward(&c.s, &t, c.q, c.k, c.v, out, &ws);
            CHECK(frc == ATTN_OK || frc == ATTN_ENOMEM, "%s %s %zu: resolve accepted it, the kernel: %s", m->name, opt,
                  vals[i], attn_strerror(frc));
        }
    }
    CHECK((m->mass == ATTN_MASS_KEPT) == (m->kept_mass != NULL), "%s: mass %d but kept_mass hook %s", m->name,
          m->mass, m->kept_mass ? "set" : "missing");
    CHECK(m->mass != ATTN_MASS_LARGEST || (m->knobs & KNOB_K), "%s: the mass of the k largest, but it reads no k",
          m->name);
    attn_knobs ex = kn;
    if (m->kept_mass && m->exact_limit && m->exact_limit(&c.s, &ex)) {
        const size_t nq = HEADS * 37 * D_HEAD, nk = 2 * 37 * D_HEAD;
        double *qd = malloc(nq * sizeof(double)), *kd = malloc(nk * sizeof(double)), *mass = malloc(HEADS * 37 * sizeof(double));
        for (size_t i = 0; i < nq; i++) qd[i] = c.q[i];
        for (size_t i = 0; i < nk; i++) kd[i] = c.k[i];
        ws_init(&ws, 0);
        rc = m->kept_mass(&c.s, &ex, qd, kd, NULL, 37, mass, &ws);
        double worst = 0;
        for (size_t i = 0; i < HEADS * 37; i++) worst = fmax(worst, fabs(mass[i] - 1));
        CHECK(rc == ATTN_OK && worst <= 1e-12 && ws.live == 0,
              "%s: kept mass at the exact limit: %s, off 1 by %.3g, %zu bytes held", m->name, attn_strerror(rc), worst, ws.live);
        free(qd); free(kd); free(mass);
    }
    free(out);
    case_free(&c);
    printf("%s %-10s knob rules (resolve: defaults, checks) and reference statistic\n",
           check_failures > before ? "FAIL" : "ok  ", m->name);
}

/* a projection declares --kv-heads (KNOB_KV_HEADS) exactly when its K/V
 * heads follow the option */
static void check_scheme_knobs(const proj_scheme *p) {
    const int follows = p->kv_heads_for(HEADS, 1) != p->kv_heads_for(HEADS, 2) ||
                        p->kv_heads_for(HEADS, 2) != p->kv_heads_for(HEADS, 4);
    CHECK(follows == !!(p->knobs & KNOB_KV_HEADS), "%s: knobs %#x, but its K/V heads %s --kv-heads", p->name,
          p->knobs, follows ? "follow" : "ignore");
    CHECK(!(p->knobs & ~(unsigned)KNOB_KV_HEADS), "%s: a projection reads only --kv-heads (knobs %#x)", p->name, p->knobs);
}

/* the ffn table: defaults filled, k past d_ff refused, the stated workspace
 * is the counted peak, and every variant at its widest equals exact */
static void check_ffn_methods(void) {
    const ffn_shape s = {21, 16, 40};
    const size_t nx = s.n * s.d_model, nw = s.d_model * s.d_ff;
    float *x = malloc(nx * sizeof(float)), *w1 = malloc(nw * sizeof(float)), *w2 = malloc(nw * sizeof(float));
    float *out = malloc(nx * sizeof(float)), *ref = malloc(nx * sizeof(float));
    test_fill(x, nx, 1.0); test_fill(w1, nw, 0.25); test_fill(w2, nw, 0.25);
    workspace ws;
    ws_init(&ws, 0);
    CHECK(ffn_exact_forward(&s, 8, x, w1, w2, ref, &ws) == ATTN_OK, "ffn exact");
    size_t count = 0;
    for (const ffn_method *f = ffn_methods; f->name; f++, count++) {
        const int before = check_failures;
        attn_knobs kn = unset_knobs();
        char why[300] = "";
        CHECK(f->resolve && f->forward && f->flops && f->workspace_bytes, "ffn %s: hooks missing", f->name);
        if (!f->resolve || !f->forward || !f->flops || !f->workspace_bytes) continue;
        CHECK(f->resolve(&s, &kn, why, sizeof why) == ATTN_OK, "ffn %s: resolve: %s", f->name, why);
        CHECK(!(f->knobs & KNOB_CHUNK) || kn.chunk != ATTN_KNOB_UNSET, "ffn %s: no default chunk", f->name);
        CHECK(!(f->knobs & KNOB_K) || (kn.k >= 1 && kn.k <= s.d_ff), "ffn %s: default k %zu", f->name, kn.k);
        if (f->knobs & KNOB_K) {
            attn_knobs big = kn;
            big.k = s.d_ff + 1;
            CHECK(f->resolve(&s, &big, why, sizeof why) == ATTN_EINVAL && !strncmp(why, "--k", 3),
                  "ffn %s: k past d_ff: '%s'", f->name, why);
            kn.k = s.d_ff;
        }
        kn.chunk = 8;
        ws_init(&ws, 0);
        CHECK(f->forward(&s, &kn, x, w1, w2, out, &ws) == ATTN_OK && ws.live == 0, "ffn %s: forward", f->name);
        CHECK(ws.peak == f->workspace_bytes(&s, &kn), "ffn %s: counted peak %zu, formula %zu", f->name, ws.peak,
              f->workspace_bytes(&s, &kn));
        CHECK(rel_diff(ref, out, nx) <= 1e-5, "ffn %s at its widest vs exact: rel %.3g", f->name, rel_diff(ref, out, nx));
        CHECK(f->flops(&s, &kn) > 0, "ffn %s: flops", f->name);
        CHECK((f->mass == ATTN_MASS_LARGEST) == !!(f->knobs & KNOB_K), "ffn %s: mass %d, knobs %#x", f->name, f->mass, f->knobs);
        printf("%s ffn %-6s knob rules, workspace formula, widest = exact\n", check_failures > before ? "FAIL" : "ok  ", f->name);
    }
    CHECK(count > 0, "ffn_methods[] is empty");
    free(x); free(w1); free(w2); free(out); free(ref);
}

int main(void) {
    check_tables();
    for (const attn_method *m = attn_methods; m->name; m++) check_method(m);
    for (const attn_method *m = attn_methods; m->name; m++) check_resolve(m);
    for (const proj_scheme *p = proj_schemes; p->name; p++) check_scheme_knobs(p);
    check_ffn_methods();
    check_schemes();
    return check_summary("test_methods");
}
