/* decode_front.c — the KV-cache front of a decode study (decode_study.h):
 * at each context, every setting that holds at most 1/2, 1/4 or 1/8 of
 * exact MHA's f32 cache (the cache formats, the eviction policies, the
 * window, Performer's state, the conversions), listed once at the smallest
 * of those ratios it fits (front_bucket), by rel_err, with its bits per
 * value and step time against exact f32 decode at the same context and
 * threads; a sentence per ratio; a row that did not run keeps its place,
 * marked with its status. */
#include "decode_study.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    size_t row;
    dfam fam;
    double L, ratio, err;
    int bucket, ok;
} dpoint;

/* the row's share of exact MHA's f32 cache at its context: its cache_ratio, else the bytes over the exact row's */
static double row_ratio(const rtab *rt, const dstudy *s, size_t r) {
    const double given = rt_num(rt, r, COL_cache_ratio);
    if (isfinite(given)) return given;
    const dfam mha = dfam_reference();
    long ref = dstudy_row(rt, s, &mha, rt_num(rt, r, COL_context));
    return ref >= 0 ? rt_num(rt, r, COL_cache_bytes) / rt_num(rt, (size_t)ref, COL_cache_bytes) : NAN;
}

static int by_place(const void *a, const void *b) {
    const dpoint *x = a, *y = b;
    if (x->L != y->L) return x->L < y->L ? -1 : 1;
    if (x->bucket != y->bucket) return x->bucket < y->bucket ? -1 : 1;
    if (x->ok != y->ok) return x->ok ? -1 : 1;
    if (x->err != y->err) return x->err < y->err ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* every row of the study that holds at most 1/2 of the cache, and every row that did not run */
static dpoint *gather(const rtab *rt, const dstudy *s, size_t *count) {
    dpoint *v = calloc(s->n ? s->n : 1, sizeof *v);
    size_t n = 0;
    if (!v) return NULL;
    for (size_t i = 0; i < s->n; i++) {
        size_t r = s->rows[i];
        dpoint p = {.row = r, .ok = rt_ok(rt, r)};
        decode_family(rt, r, p.fam.family, sizeof p.fam.family, &p.fam.knob);
        p.fam.minor = rt_family_minor(rt, r, p.fam.family);
        p.L = rt_num(rt, r, COL_context);
        if (p.ok && dstudy_row(rt, s, &p.fam, p.L) != (long)r) continue; /* the first of a doubled point */
        p.ratio = row_ratio(rt, s, r);
        p.bucket = front_bucket(p.ratio);
        p.err = p.ok ? rt_num(rt, r, COL_rel_err) : NAN;
        if (p.bucket < 0 && p.ok) continue;
        if (p.bucket < 0) p.bucket = FRONT_RATIOS; /* did not run, no ratio: after the fronts */
        v[n++] = p;
    }
    qsort(v, n, sizeof *v, by_place);
    *count = n;
    return v;
}

/* "17x slower" / "1.9x faster" than exact f32 decode at the same context;
 * "—" and 0 when there is nothing to time it against */
static int against(const rtab *rt, const dstudy *s, const dpoint *p, char *out, size_t cap) {
    const dfam mha = dfam_reference();
    long ref = dstudy_row(rt, s, &mha, p->L);
    double t = rt_num(rt, p->row, COL_step_time_s), t0 = ref >= 0 ? rt_num(rt, (size_t)ref, COL_step_time_s) : NAN;
    if (!(t > 0) || !(t0 > 0)) return snprintf(out, cap, "—"), 0;
    if (t <= t0) snprintf(out, cap, "%.2gx faster", t0 / t);
    else snprintf(out, cap, "%.2gx slower", t / t0);
    return 1;
}

static void name_of(const dpoint *p, char *out, size_t cap) {
    char words[96], set[64];
    family_words(p->fam.family, NULL, words, sizeof words);
    family_setting(p->fam.family, p->fam.knob, p->fam.minor, set, sizeof set);
    snprintf(out, cap, "%s%s%s", words, *set ? " " : "", set);
}

static void table_line(FILE *f, const rtab *rt, const dstudy *s, const dpoint *p) {
    char L[32], name[192], bits[32], err[48], step[32], vs[32], ratio[32];
    ctx_text(p->L, L, sizeof L);
    name_of(p, name, sizeof name);
    fmt_num(rt_num(rt, p->row, COL_bits_per_value), bits, sizeof bits);
    fmt_num(p->ratio, ratio, sizeof ratio);
    if (p->ok) fmt_num(p->err, err, sizeof err);
    else snprintf(err, sizeof err, "%s (did not run)", rt_get(rt, p->row, COL_status));
    double t = rt_num(rt, p->row, COL_step_time_s);
    if (isfinite(t)) snprintf(step, sizeof step, "%.3g ms", 1e3 * t);
    else snprintf(step, sizeof step, "—");
    against(rt, s, p, vs, sizeof vs);
    fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", L, p->bucket < FRONT_RATIOS ? front_ratio_text(p->bucket) : "—",
            name, ratio, bits, err, step, vs);
}

/* one sentence per context and ratio: the front's first three, and which are faster than exact f32 */
static void sentences(FILE *f, const rtab *rt, const dstudy *s, const dpoint *v, size_t n) {
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && v[j].L == v[i].L && v[j].bucket == v[i].bucket) j++;
        if (v[i].bucket < FRONT_RATIOS && v[i].ok) {
            char L[32], name[192], vs[32];
            ctx_text(v[i].L, L, sizeof L);
            fprintf(f, "\nAt L = %s, %s of the cache: the front is", L, front_ratio_text(v[i].bucket));
            size_t shown = 0;
            for (size_t k = i; k < j && shown < 3; k++) {
                if (!v[k].ok) continue;
                name_of(&v[k], name, sizeof name);
                const int timed = against(rt, s, &v[k], vs, sizeof vs);
                fprintf(f, "%s %s (%.2g of the cache, rel_err %.2g%s%s%s)", shown++ ? ", then" : "", name, v[k].ratio,
                        v[k].err, timed ? ", " : "", timed ? vs : "",
                        timed ? " than exact f32" : "; no exact f32 row at this L to time it against");
            }
            fprintf(f, ".\n");
        }
        i = j;
    }
}

void decode_front(FILE *f, const rtab *rt, const dstudy *s) {
    size_t n = 0;
    dpoint *v = gather(rt, s, &n);
    if (!v) return;
    fprintf(f, "\n**The KV-cache front:** at each context, every setting that holds at most 1/2, 1/4 or 1/8 of exact "
               "MHA's f32 cache (its cache_ratio), listed once, at the smallest of those ratios it fits (1/4: above 1/8 "
               "and at most 1/4; 1/8: at most 1/8), by rel_err; step time against exact f32 decode at the same context "
               "and threads.\n\n");
    if (!n) {
        fprintf(f, "No decode row of this study holds 1/2 of the cache or less.\n");
        free(v);
        return;
    }
    fprintf(f, "| L | at | family | cache ratio | bits / value | rel_err | step time | against exact f32 |\n"
               "| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (size_t i = 0; i < n; i++) table_line(f, rt, s, &v[i]);
    sentences(f, rt, s, v, n);
    free(v);
}
