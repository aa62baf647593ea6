/* test_policies.c — each eviction policy, run from its table entry
 * (attn_methods[]: its decode entry and its prefill), against a float64
 * implementation here that makes the same decisions independently, from
 * the definition at the top of the policy's file:
 *   - the positions each K/V head holds after every step (the entry's held
 *     hook) equal the reference's, exactly;
 *   - the steps' outputs equal the reference's within rel_err 1e-5 and
 *     element-wise 1e-5 + 1e-4 |want|;
 *   - the inputs are well apart: every decision's chosen score is at least
 *     1e-3 (relative) from each other candidate's, or equal to it (keys
 *     repeated exactly: a tie in float32 too, decided by position), so that
 *     no decision can flip on float32 rounding (checked on the reference);
 *   - the prefill (heads, n, d) equals the decode, bitwise (it is the decode);
 *   - a budget at or over the length is exact attention (float64);
 *   - the cache is bounded: the same bytes at max_len 100 and 100000
 *     (snapkv: the prompt until its end, then min(prompt, budget) + steps);
 *   - not causal, a context appended without its queries, and knobs out of
 *     range are refused;
 *   - with the cache in each row format (f16, bf16, q8_0, q4_0): the same
 *     sets and outputs as the reference fed K and V rows stored in the
 *     format and loaded back (their margin 1e-4: the rounded rows bring some
 *     decisions nearer, yet far from float32 rounding), and the cache
 *     the f32 one's rows at the format's bytes; kivi is refused.
 * Heads 4 over 2 K/V heads (groups of 2, whose probabilities are summed),
 * d_head 8, 96 tokens; random q, k, v of a fixed seed, and the same with
 * the keys repeating every 4 positions (ties). */
#include "check.h"
#include "decode.h"
#include "knobs.h"
#include "methods.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N = 96, H = 4, KV = 2, G = H / KV, D = 8, ROW = N + 1 };

/* token-major inputs: q (N, H, D), k and v (N, KV, D) */
typedef struct {
    float q[N * H * D], k[N * KV * D], v[N * KV * D];
} inputs;

/* a policy's decisions and outputs in float64 */
typedef struct {
    double out[N * H * D];    /* (N, H, D) */
    uint32_t held[N * KV * ROW]; /* after step t, K/V head g: [0] the count, then the positions ascending */
    double margin;            /* the least relative gap between a chosen score and another candidate's */
    size_t ties;              /* decisions between exactly equal scores (identical keys) */
} ref_run;

typedef void (*ref_fn)(const inputs *in, const attn_knobs *kn, ref_run *r);

/* ---- the float64 pieces the references share --------------------------------- */

/* query t of K/V head g's heads over the held positions pos (m): out
 * (float64) of each head, p[x] the probabilities summed over the heads */
static void ref_attend(const inputs *in, size_t t, size_t g, const uint32_t *pos, size_t m, double *p, double *out) {
    double l[N];
    for (size_t x = 0; x < m; x++) p[x] = 0;
    for (size_t h = g * G; h < (g + 1) * G; h++) {
        const float *q = in->q + (t * H + h) * D;
        double mx = -INFINITY, z = 0;
        for (size_t x = 0; x < m; x++) {
            const float *k = in->k + ((size_t)pos[x] * KV + g) * D;
            double dot = 0;
            for (size_t c = 0; c < D; c++) dot += (double)q[c] * k[c];
            l[x] = dot / sqrt((double)D);
            mx = fmax(mx, l[x]);
        }
        for (size_t x = 0; x < m; x++) z += (l[x] = exp(l[x] - mx));
        double *o = out + (t * H + h) * D;
        for (size_t c = 0; c < D; c++) o[c] = 0;
        for (size_t x = 0; x < m; x++) {
            const double w = l[x] / z;
            p[x] += w;
            for (size_t c = 0; c < D; c++) o[c] += w * in->v[((size_t)pos[x] * KV + g) * D + c];
        }
    }
}

static int cmp_u32(const void *a, const void *b) {
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* the set held after step t by K/V head g, sorted into its row */
static void record(ref_run *r, size_t t, size_t g, const uint32_t *pos, size_t m) {
    uint32_t *row = r->held + (t * KV + g) * ROW;
    row[0] = (uint32_t)m;
    memcpy(row + 1, pos, m * sizeof(uint32_t));
    qsort(row + 1, m, sizeof(uint32_t), cmp_u32);
}

/* the gap between a chosen score and another candidate's into r: relative,
 * or a tie (equal: identical keys, equal in float32 too) counted */
static void note_gap(ref_run *r, double chosen, double other) {
    if (other == chosen) r->ties++;
    else r->margin = fmin(r->margin, fabs(other - chosen) / fmax(fabs(other), fabs(chosen)));
}

/* among candidates (ok[x]) the least s[x], the lower pos on a tie; the gaps
 * to the other candidates into r; m when none */
static size_t least(const double *s, const uint32_t *pos, const int *ok, size_t m, ref_run *r) {
    size_t best = m;
    for (size_t x = 0; x < m; x++)
        if (ok[x] && (best == m || s[x] < s[best] || (s[x] == s[best] && pos[x] < pos[best]))) best = x;
    for (size_t x = 0; x < m && best < m; x++)
        if (ok[x] && x != best) note_gap(r, s[best], s[x]);
    return best;
}

/* ---- the references ------------------------------------------------------------ */

/* h2o.c's definition */
static void ref_h2o(const inputs *in, const attn_knobs *kn, ref_run *r) {
    const size_t B = kn->budget, R = kn->recent;
    for (size_t g = 0; g < KV; g++) {
        uint32_t pos[N];
        double score[N], p[N];
        int ok[N];
        size_t m = 0;
        for (size_t t = 0; t < N; t++) {
            size_t j = m;
            if (m == B) { /* evict: the least score outside the R most recent, the older on a tie */
                for (size_t x = 0; x < m; x++) ok[x] = pos[x] + R <= t;
                j = least(score, pos, ok, m, r);
            } else {
                m++;
            }
            pos[j] = (uint32_t)t;
            score[j] = 0;
            ref_attend(in, t, g, pos, m, p, r->out);
            for (size_t x = 0; x < m; x++) score[x] += p[x];
            record(r, t, g, pos, m);
        }
    }
}

/* tova.c's definition */
static void ref_tova(const inputs *in, const attn_knobs *kn, ref_run *r) {
    const size_t B = kn->budget;
    for (size_t g = 0; g < KV; g++) {
        uint32_t pos[N + 1];
        double p[N + 1];
        int ok[N + 1];
        size_t m = 0;
        for (size_t t = 0; t < N; t++) {
            pos[m++] = (uint32_t)t;
            ref_attend(in, t, g, pos, m, p, r->out);
            if (m > B) { /* evict the least attended, the older on a tie */
                for (size_t x = 0; x < m; x++) ok[x] = 1;
                const size_t j = least(p, pos, ok, m, r);
                pos[j] = pos[--m];
            }
            record(r, t, g, pos, m);
        }
    }
}

static int cmp_pooled(const void *a, const void *b, void *pooled);

/* snapkv.c's definition */
static void ref_snapkv(const inputs *in, const attn_knobs *kn, ref_run *r) {
    const size_t B = kn->budget, P = kn->prompt, K = kn->pool, W = kn->obs_window < P ? kn->obs_window : P;
    for (size_t g = 0; g < KV; g++) {
        uint32_t pos[N], order[N];
        double p[N], score[N] = {0}, pooled[N];
        size_t m = 0;
        for (size_t t = 0; t < N; t++) {
            pos[m++] = (uint32_t)t;
            ref_attend(in, t, g, pos, m, p, r->out);
            if (t < P && t + W >= P) /* a window query: pos[j] = j in the prompt */
                for (size_t j = 0; j + W < P; j++) score[j] += p[j];
            if (t + 1 == P && P > B) { /* the B - W best pooled before the window, and the window */
                const size_t n = P - W;
                for (size_t j = 0; j < n; j++) {
                    /* the max over [j - K/2, j - K/2 + K) within [0, n), well apart from the next */
                    const size_t lo = j >= K / 2 ? j - K / 2 : 0, hi = j + K - K / 2 < n ? j + K - K / 2 : n;
                    size_t top = lo;
                    for (size_t x = lo; x < hi; x++) if (score[x] > score[top]) top = x;
                    for (size_t x = lo; x < hi; x++) if (x != top) note_gap(r, score[top], score[x]);
                    pooled[j] = score[top];
                    order[j] = (uint32_t)j;
                }
                qsort_r(order, n, sizeof(uint32_t), cmp_pooled, pooled); /* descending, the lower first on a tie */
                if (B > W && B - W < n) note_gap(r, pooled[order[B - W - 1]], pooled[order[B - W]]);
                m = 0;
                for (size_t x = 0; x < B - W; x++) pos[m++] = order[x];
                for (size_t j = n; j < P; j++) pos[m++] = (uint32_t)j;
            }
            record(r, t, g, pos, m);
        }
    }
}

static int cmp_pooled(const void *a, const void *b, void *pooled) {
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    const double px = ((const double *)pooled)[x], py = ((const double *)pooled)[y];
    return px != py ? (px < py) - (px > py) : (x > y) - (x < y);
}

/* the policies and the knobs each is run at (prompt: snapkv's, the others ignore it) */
static const struct {
    const char *name;
    ref_fn ref;
    attn_knobs kn[3];
    int grows; /* its cache grows by the steps after the prompt */
} POLICIES[] = {
    {"h2o", ref_h2o, {{.budget = 16, .recent = 8}, {.budget = 20, .recent = 0}, {.budget = 12, .recent = 12}}, 0},
    {"tova", ref_tova, {{.budget = 16}, {.budget = 1}, {.budget = 40}}, 0},
    {"snapkv", ref_snapkv, {{.budget = 16, .obs_window = 4, .pool = 5, .prompt = 64},
                            {.budget = 24, .obs_window = 8, .pool = 1, .prompt = 80},
                            {.budget = 12, .obs_window = 12, .pool = 4, .prompt = 50}},
     1},
};

/* ---- the entry against its reference ------------------------------------------ */

/* the entry's decode of the inputs, its cache in format f (NULL: f32), its
 * held sets checked step by step against r's; out (N, H, D). 0, or the
 * number of steps that differ */
static size_t decode_policy(const attn_method *m, const attn_knobs *kn, const kv_format *f, const inputs *in,
                            const ref_run *r, float *out) {
    decode_config c = {.op = m->decode, .heads = H, .kv_heads = KV, .d_head = D, .max_len = N, .batch = 1, .kn = *kn, .fmt = f};
    workspace ws;
    ws_init(&ws, 0);
    decode_ctx d;
    decode_seq s;
    int rc = decode_init(&d, &c, &ws);
    CHECK(rc == ATTN_OK, "%s: decode_init: %s", m->name, attn_strerror(rc));
    if (rc) return N;
    rc = decode_seq_init(&d, &s, &ws);
    CHECK(rc == ATTN_OK, "%s: decode_seq_init: %s", m->name, attn_strerror(rc));
    CHECK(decode_append(&d, &s, 1, in->k, in->v, KV * D) == ATTN_EINVAL && s.len == 0,
          "%s: a context appended without its queries was taken", m->name);
    size_t bad = 0;
    for (size_t t = 0; t < N && rc == ATTN_OK; t++) {
        rc = decode_step(&d, &s, 1, in->q + t * H * D, H * D, in->k + t * KV * D, in->v + t * KV * D, KV * D,
                         out + t * H * D);
        CHECK(rc == ATTN_OK, "%s: step %zu: %s", m->name, t, attn_strerror(rc));
        int differs = 0;
        for (size_t g = 0; g < KV; g++) {
            uint32_t got[ROW];
            const uint32_t *want = r->held + (t * KV + g) * ROW;
            got[0] = (uint32_t)m->decode->held(&d, &s, g, got + 1);
            qsort(got + 1, got[0], sizeof(uint32_t), cmp_u32);
            if (got[0] == want[0] && !memcmp(got + 1, want + 1, got[0] * sizeof(uint32_t))) continue;
            if (!bad && !differs) {
                fprintf(stderr, "  %s step %zu, K/V head %zu: holds", m->name, t, g);
                for (size_t x = 1; x <= got[0]; x++) fprintf(stderr, " %u", got[x]);
                fprintf(stderr, "\n  the reference holds");
                for (size_t x = 1; x <= want[0]; x++) fprintf(stderr, " %u", want[x]);
                fprintf(stderr, "\n");
            }
            differs = 1;
        }
        bad += differs;
    }
    decode_seq_free(&s, &ws);
    decode_free(&d, &ws);
    CHECK(ws.live == 0, "%s: decode memory left", m->name);
    return bad;
}

/* token-major (n, heads, d) <-> (heads, n, d) */
static void to_heads(float *dst, const float *src, size_t heads) {
    for (size_t t = 0; t < N; t++)
        for (size_t h = 0; h < heads; h++) memcpy(dst + (h * N + t) * D, src + (t * heads + h) * D, D * sizeof(float));
}

/* the entry's prefill of the inputs: out (H, N, D); its return code */
static int prefill(const attn_method *m, const attn_knobs *kn, const inputs *in, int causal, float *out) {
    static float q[N * H * D], k[N * KV * D], v[N * KV * D];
    to_heads(q, in->q, H);
    to_heads(k, in->k, KV);
    to_heads(v, in->v, KV);
    const attn_shape s = {H, KV, N, D, causal};
    workspace ws;
    ws_init(&ws, 0);
    const int rc = m->forward(&s, kn, q, k, v, out, &ws);
    CHECK(ws.live == 0, "%s: prefill memory left", m->name);
    return rc;
}

static const kv_params no_params; /* a row format reads none */

/* in's K and V rows stored in f and loaded back (the values a cache in f holds) */
static void round_trip(const kv_format *f, const inputs *in, inputs *rt) {
    unsigned char buf[4 * D];
    *rt = *in;
    for (size_t r = 0; r < N * KV; r++) {
        f->store(in->k + r * D, D, &no_params, buf);
        f->load(buf, D, &no_params, rt->k + r * D);
        f->store(in->v + r * D, D, &no_params, buf);
        f->load(buf, D, &no_params, rt->v + r * D);
    }
}

/* the policy with its cache in f (NULL: f32) on in against the float64
 * reference on in's rows round-tripped through f: the same sets, the same
 * outputs; with f, the prefill is not compared (it is the f32 decode) */
static void check_setting(const attn_method *m, ref_fn ref, const attn_knobs *kn, const kv_format *f, const inputs *in,
                          const char *input) {
    static inputs rt;
    char what[160];
    size_t len = (size_t)snprintf(what, sizeof what, "%s (%s%s%s)", m->name, input, f ? ", cache " : "", f ? f->name : "");
    for (int i = 0; i < KN_COUNT; i++) /* the knobs it reads */
        if (knob_defs[i].bit & m->knobs)
            len += (size_t)snprintf(what + len, sizeof what - len, " %s %zu", knob_defs[i].name,
                                    *knob_field((attn_knobs *)kn, knob_defs[i].bit));
    const int before = check_failures;
    ref_run *r = calloc(1, sizeof *r);
    r->margin = INFINITY;
    if (f) round_trip(f, in, &rt);
    ref(f ? &rt : in, kn, r);
    /* the rounded rows bring some decisions nearer: 1e-4 is still 1000 times
     * float32's rounding of a score the decode sums from the same stored values */
    const double apart = f ? 1e-4 : 1e-3;
    CHECK(r->margin >= apart, "%s: the inputs are not well apart: a decision within %.3g (relative)", what, r->margin);
    float *out = malloc(N * H * D * sizeof(float)), *pre = malloc(N * H * D * sizeof(float));
    float *pre_tok = malloc(N * H * D * sizeof(float));
    const size_t bad = decode_policy(m, kn, f, in, r, out);
    CHECK(bad == 0, "%s: %zu of %d steps hold another set than the reference", what, bad, N);
    const double re = test_rel_err(out, r->out, N * H * D);
    CHECK(re <= 1e-5, "%s: decode vs the float64 reference: rel_err %.3g", what, re);
    if (!test_allclose(what, out, r->out, N * H * D, 1e-5, 1e-4)) check_failures++;
    const int rc = f ? ATTN_OK : prefill(m, kn, in, 1, pre);
    CHECK(rc == ATTN_OK, "%s: prefill: %s", what, attn_strerror(rc));
    for (size_t t = 0; t < N && !f; t++)
        for (size_t h = 0; h < H; h++) memcpy(pre_tok + (t * H + h) * D, pre + (h * N + t) * D, D * sizeof(float));
    CHECK(f || rc || !memcmp(pre_tok, out, N * H * D * sizeof(float)), "%s: the prefill differs from the decode", what);
    printf("%s %-62s decisions over %d steps, rel_err %.2g, least gap %.2g, %zu ties\n",
           check_failures > before ? "FAIL" : "ok  ", what, N, re, r->margin, r->ties);
    free(r); free(out); free(pre); free(pre_tok);
}

/* a budget at or over the length: exact attention; not causal: refused */
static void check_exact_and_refusals(const attn_method *m, const attn_knobs *base, const inputs *in) {
    static float q[N * H * D], k[N * KV * D], v[N * KV * D], out[N * H * D];
    to_heads(q, in->q, H);
    to_heads(k, in->k, KV);
    to_heads(v, in->v, KV);
    const attn_shape s = {H, KV, N, D, 1};
    double *want = test_reference(&s, q, k, v);
    const size_t budgets[2] = {N, N + 7};
    for (int b = 0; b < 2; b++) {
        attn_knobs kn = *base;
        kn.budget = budgets[b];
        const int rc = prefill(m, &kn, in, 1, out);
        const double re = rc ? INFINITY : test_rel_err(out, want, N * H * D);
        CHECK(re <= 1e-6, "%s budget %zu of %d tokens: rel_err %.3g from exact (%s)", m->name, kn.budget, N, re,
              attn_strerror(rc));
    }
    free(want);
    CHECK(prefill(m, base, in, 0, out) == ATTN_EINVAL, "%s: not causal was taken", m->name);
    char why[200] = "";
    attn_knobs kn = *base;
    CHECK(m->resolve(&(attn_shape){H, KV, N, D, 0}, &kn, why, sizeof why) == ATTN_EINVAL && strstr(why, "causal"),
          "%s: not causal: resolve's reason '%s'", m->name, why);
    kn = *base;
    kn.budget = 0;
    CHECK(m->resolve(&s, &kn, why, sizeof why) == ATTN_EINVAL && strstr(why, "--budget"),
          "%s: budget 0: resolve's reason '%s'", m->name, why);
}

/* with a row format: the cache is the f32 one's rows at the format's
 * bytes (the state beside them unchanged); kivi refused with a reason */
static void check_format_bytes(const attn_method *m, const attn_knobs *kn) {
    decode_config c = {.op = m->decode, .heads = H, .kv_heads = KV, .d_head = D, .max_len = N, .batch = 1, .kn = *kn};
    const size_t f32 = decode_cache_bytes(&c), slots = m->decode->slots(&c);
    for (const kv_format *f = kv_formats + 1; f->name; f++) {
        c.fmt = f;
        c.kvp = (kv_params){4, 8, 16};
        char why[300] = "";
        if (f->key_group_bytes) {
            CHECK(decode_format_ok(&c, why, sizeof why) && strstr(why, "eviction policy"), "%s with %s: '%s'", m->name,
                  f->name, why);
            continue;
        }
        const size_t want = f32 - 2 * KV * slots * 4 * D + 2 * KV * slots * f->row_bytes(D, &no_params);
        CHECK(decode_cache_bytes(&c) == want, "%s with %s: %zu bytes, want %zu (%zu slots)", m->name, f->name,
              decode_cache_bytes(&c), want, slots);
    }
}

/* what one sequence holds: bounded, the same at max_len 100 and 100000;
 * or (grows: snapkv) the prompt of 1000 until its end, then min(1000, B)
 * and the steps, 10 or 2000 */
static void check_bounded(const attn_method *m, const attn_knobs *kn, int grows) {
    decode_config c = {.op = m->decode, .heads = H, .kv_heads = KV, .d_head = D, .max_len = 100, .batch = 1, .kn = *kn};
    if (grows) {
        c.kn.prompt = 1000;
        const size_t kept = kn->budget < 1000 ? kn->budget : 1000, steps[2] = {10, 2000};
        for (int x = 0; x < 2; x++) {
            c.max_len = 1000 + steps[x];
            const size_t want = kept + steps[x] > 1000 ? kept + steps[x] : 1000;
            CHECK(decode_cache_bytes(&c) && m->decode->slots(&c) == want,
                  "%s: %zu slots after a prompt of 1000 and %zu steps, want %zu", m->name, m->decode->slots(&c), steps[x],
                  want);
        }
        return;
    }
    const size_t small = decode_cache_bytes(&c);
    c.max_len = 100000;
    const size_t large = decode_cache_bytes(&c);
    CHECK(small > 0 && small == large, "%s: cache %zu bytes at 100 tokens, %zu at 100000", m->name, small, large);
}

int main(void) {
    static inputs in, rep; /* random; the same with keys repeating every 4 positions (exact ties) */
    test_fill(in.q, N * H * D, 1.2);
    test_fill(in.k, N * KV * D, 1.2);
    test_fill(in.v, N * KV * D, 1.0);
    rep = in;
    for (size_t t = 4; t < N; t++) memcpy(rep.k + t * KV * D, rep.k + (t % 4) * KV * D, KV * D * sizeof(float));
    for (size_t p = 0; p < sizeof POLICIES / sizeof POLICIES[0]; p++) {
        const attn_method *m = attn_method_find(POLICIES[p].name);
        CHECK(m && m->decode && m->decode->held && m->decode->queries && (m->flags & ATTN_CAUSAL_ONLY),
              "%s: no table entry of an eviction policy", POLICIES[p].name);
        if (!m || !m->decode || !m->decode->held) continue;
        for (int x = 0; x < 3; x++) {
            attn_knobs kn = POLICIES[p].kn[x];
            kn.threads = 1;
            for (const kv_format *f = kv_formats; f->name; f++) {
                if (f->key_group_bytes) continue; /* kivi: refused (check_format_bytes) */
                const kv_format *fmt = f == kv_formats ? NULL : f;
                check_setting(m, POLICIES[p].ref, &kn, fmt, &in, "random");
                check_setting(m, POLICIES[p].ref, &kn, fmt, &rep, "repeating keys");
            }
        }
        check_format_bytes(m, &POLICIES[p].kn[0]);
        check_exact_and_refusals(m, &POLICIES[p].kn[0], &in);
        check_bounded(m, &POLICIES[p].kn[0], POLICIES[p].grows);
    }
    return check_summary("test_policies");
}
