/* regime_rows.c — the rows, families and fronts the decode and model
 * analyses share (regime_rows.h). */
#include "regime_rows.h"
#include "kv_format.h"
#include "compare.h"
#include "fit.h"
#include "labels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rt_init(rtab *rt, const csv_table *t) {
    rt->t = t;
    for (int c = 0; c < COL_COUNT; c++) rt->col[c] = table_col(t, result_column_names[c]);
}

const char *rt_get(const rtab *rt, size_t r, int c) { return table_get(rt->t, r, rt->col[c]); }

double rt_num(const rtab *rt, size_t r, int c) {
    const char *s = rt_get(rt, r, c);
    char *end;
    if (!*s) return NAN;
    double v = strtod(s, &end);
    return *end ? NAN : v;
}

int rt_ok(const rtab *rt, size_t r) { return !strcmp(rt_get(rt, r, COL_status), "ok"); }
int rt_regime(const rtab *rt, size_t r, const char *regime) { return !strcmp(rt_get(rt, r, COL_regime), regime); }

int rt_exact_op(const char *a) { return op_exact(a); }

/* the knob of an approximate operator's family; 0 for the others */
static double op_knob(const rtab *rt, size_t r, const char *op) {
    const int c = family_knob_column(op);
    double v = c >= 0 ? rt_num(rt, r, c) : NAN;
    return isfinite(v) ? v : 0;
}

/* the K/V heads of a projection that chooses them (gqa), else 0 */
static double proj_knob(const rtab *rt, size_t r, const char *p) {
    const int c = family_knob_column(p);
    return c >= 0 ? rt_num(rt, r, c) : 0;
}

/* a cache format other than the reference's (kv_formats[0], f32) is a family
 * of its own: "@FORMAT" after the name (kivi with its bits: "@kivi-2") */
static void format_suffix(const rtab *rt, size_t r, char *out, size_t cap) {
    const char *f = rt_get(rt, r, COL_kv_format), *bits = rt_get(rt, r, COL_kv_bits);
    const size_t len = strlen(out);
    if (!*f || !strcmp(f, kv_formats[0].name) || len >= cap) return;
    snprintf(out + len, cap - len, *bits ? "@%s-%s" : "@%s", f, bits);
}

void decode_family(const rtab *rt, size_t r, char *out, size_t cap, double *knob) {
    const char *a = rt_get(rt, r, COL_attention), *p = rt_get(rt, r, COL_projection);
    if (!*p) p = reference_name();
    *knob = 0;
    if (rt_exact_op(a)) {
        snprintf(out, cap, "%s", p);
        *knob = proj_knob(rt, r, p);
    } else {
        if (proj_reference(p)) snprintf(out, cap, "%s", a);
        else snprintf(out, cap, "%s+%s", a, p);
        *knob = op_knob(rt, r, a);
    }
    format_suffix(rt, r, out, cap);
}

int model_family(const rtab *rt, size_t r, double native_kv, char *out, size_t cap, double *knob) {
    const char *a = rt_get(rt, r, COL_attention), *p = rt_get(rt, r, COL_projection);
    const char *layer = rt_get(rt, r, COL_layer);
    *knob = 0;
    if (strstr(layer, "ffn")) return -1;
    /* the checkpoint's own K/V heads: its own attention, as a scheme that chooses K/V heads gives them */
    int native = !*p || !strcmp(p, EVAL_OWN) || proj_reference(p) ||
                 ((proj_knobs(p) & KNOB_KV_HEADS) && rt_num(rt, r, COL_kv_heads) == native_kv);
    if (rt_exact_op(a)) {
        snprintf(out, cap, "%s", native ? reference_name() : p);
        if (!native) *knob = proj_knob(rt, r, p);
    } else {
        if (native) snprintf(out, cap, "%s", a);
        else snprintf(out, cap, "%s+%s", a, p);
        *knob = op_knob(rt, r, a);
    }
    format_suffix(rt, r, out, cap);
    return 0;
}

double rt_family_minor(const rtab *rt, size_t r, const char *family) {
    const int c = family_minor_column(family);
    return c >= 0 ? rt_num(rt, r, c) : 0;
}

int family_ramps(const char *family) { return KNOB_IS_METHOD(family_knob_bit(family)); }

int regime_style(const char *family, double knob, int *pt, char color[8]) {
    static const struct { const char *prefix; int pt; const char *color; } kv[] = {
        {"mha@f16", 4, "#6A3D9A"},  {"mha@bf16", 12, "#6A3D9A"}, {"mha@q8_0", 6, "#6A3D9A"},
        {"mha@q4_0", 8, "#6A3D9A"}, {"mha@kivi", 10, "#6A3D9A"}, {"mha@", 14, "#6A3D9A"},
        {"h2o", 1, "#E31A1C"},      {"tova", 2, "#B15928"},      {"snapkv", 3, "#1F78B4"},
    };
    *pt = family_marker(family);
    const char *base = family_color(family);
    int is_kv = 0;
    for (size_t i = 0; i < sizeof kv / sizeof kv[0] && !is_kv; i++)
        if (!strncmp(family, kv[i].prefix, strlen(kv[i].prefix))) { *pt = kv[i].pt; base = kv[i].color; is_kv = 1; }
    ramp_color(base, (is_kv || family_ramps(family)) ? knob : 0, color);
    return is_kv;
}

int plane_front(plane_pt *p, size_t n, double floor) {
    double *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!x || !y || !idx) { free(x); free(y); free(idx); return -1; }
    for (size_t i = 0; i < n; i++) {
        p[i].front = 0;
        x[i] = p[i].x > 0 ? p[i].x : NAN;
        y[i] = isfinite(p[i].y) ? fmax(p[i].y, floor) : NAN;
    }
    size_t nf = pareto_front(x, y, n, ERR_TIE, idx);
    for (size_t i = 0; i < nf; i++) p[idx[i]].front = 1;
    free(x); free(y); free(idx);
    return 0;
}

double front_ratio(int i) { return 0.5 / (double)(1 << i); }

const char *front_ratio_text(int i) {
    static const char *const text[FRONT_RATIOS] = {"1/2", "1/4", "1/8"};
    return i >= 0 && i < FRONT_RATIOS ? text[i] : "?";
}

int front_bucket(double ratio) {
    const double tol = 1e-9; /* a ratio of exactly 1/4 written as 0.25 */
    if (!isfinite(ratio) || ratio > front_ratio(0) * (1 + tol)) return -1;
    for (int i = 0; i + 1 < FRONT_RATIOS; i++)
        if (ratio > front_ratio(i + 1) * (1 + tol)) return i;
    return FRONT_RATIOS - 1;
}

int ci_overlap(double y1, double se1, double y2, double se2) {
    const double a = isfinite(se1) ? 1.96 * se1 : 0, b = isfinite(se2) ? 1.96 * se2 : 0;
    return y1 - a <= y2 + b && y2 - b <= y1 + a;
}

void family_words(const char *family, const char *base, char *out, size_t cap) {
    const char *at = strchr(family, '@');
    const int len = at ? (int)(at - family) : (int)strlen(family);
    if (base) snprintf(out, cap, "%s%s%s%s", base, at ? ", " : "", at ? at + 1 : "", at ? " cache" : "");
    else snprintf(out, cap, "%.*s%s%s%s", len, family, at ? ", " : "", at ? at + 1 : "", at ? " cache" : "");
}

char *env_value(const char *env_path, const char *key, char *out, size_t cap) {
    FILE *f = env_path ? fopen(env_path, "r") : NULL;
    if (!f) return NULL;
    char line[4096];
    size_t kl = strlen(key);
    char *got = NULL;
    while (!got && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kl) || line[kl] != '=') continue;
        line[strcspn(line, "\r\n")] = '\0';
        snprintf(out, cap, "%s", line + kl + 1);
        got = out;
    }
    fclose(f);
    return got;
}

void fmt_ratio_x(double num, double den, char *out, size_t cap) {
    double r = num / den;
    if (!isfinite(r) || r <= 0) snprintf(out, cap, "—");
    else if (r >= 100) snprintf(out, cap, "%.0fx", r);
    else snprintf(out, cap, "%.2gx", r);
}

void fmt_pct(double part, double whole, char *out, size_t cap) {
    double v = 100 * part / whole;
    if (!isfinite(v)) snprintf(out, cap, "—");
    else if (fabs(v) >= 10) snprintf(out, cap, "%.0f%%", v);
    else snprintf(out, cap, "%.2g%%", v);
}

void fmt_num(double v, char *out, size_t cap) {
    if (isfinite(v)) snprintf(out, cap, "%.3g", v);
    else snprintf(out, cap, "—");
}
