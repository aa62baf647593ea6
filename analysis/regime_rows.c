/* regime_rows.c — the rows, families and fronts the decode and model
 * analyses share (regime_rows.h). */
#include "regime_rows.h"
#include "compare.h"
#include "fit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const rt_names[RC_COUNT] = {
#define RT_NAME(name) #name,
    RT_COLUMNS(RT_NAME)
#undef RT_NAME
};

void rt_init(rtab *rt, const csv_table *t) {
    rt->t = t;
    for (int c = 0; c < RC_COUNT; c++) rt->col[c] = table_col(t, rt_names[c]);
}

const char *rt_get(const rtab *rt, size_t r, int c) { return table_get(rt->t, r, rt->col[c]); }

double rt_num(const rtab *rt, size_t r, int c) {
    const char *s = rt_get(rt, r, c);
    char *end;
    if (!*s) return NAN;
    double v = strtod(s, &end);
    return *end ? NAN : v;
}

int rt_ok(const rtab *rt, size_t r) { return !strcmp(rt_get(rt, r, RC_status), "ok"); }
int rt_regime(const rtab *rt, size_t r, const char *regime) { return !strcmp(rt_get(rt, r, RC_regime), regime); }

int rt_exact_op(const char *a) {
    return !strcmp(a, "exact") || !strcmp(a, "vanilla") || !strcmp(a, "chunked") || !strcmp(a, "model");
}

/* the knob of an approximate operator's family; 0 for the others */
static double op_knob(const rtab *rt, size_t r, const char *op) {
    int c = !strcmp(op, "topk") ? RC_k : !strcmp(op, "window") ? RC_window : !strcmp(op, "performer") ? RC_features : -1;
    double v = c >= 0 ? rt_num(rt, r, c) : NAN;
    return isfinite(v) ? v : 0;
}

void decode_family(const rtab *rt, size_t r, char *out, size_t cap, double *knob) {
    const char *a = rt_get(rt, r, RC_attention), *p = rt_get(rt, r, RC_projection);
    if (!*p) p = "mha";
    *knob = 0;
    if (rt_exact_op(a)) {
        snprintf(out, cap, "%s", p);
        if (!strcmp(p, "gqa")) *knob = rt_num(rt, r, RC_kv_heads);
        return;
    }
    if (!strcmp(p, "mha")) snprintf(out, cap, "%s", a);
    else snprintf(out, cap, "%s+%s", a, p);
    *knob = op_knob(rt, r, a);
}

int model_family(const rtab *rt, size_t r, double native_kv, char *out, size_t cap, double *knob) {
    const char *a = rt_get(rt, r, RC_attention), *p = rt_get(rt, r, RC_projection);
    const char *layer = rt_get(rt, r, RC_layer);
    *knob = 0;
    if (strstr(layer, "ffn")) return -1;
    int native = !*p || !strcmp(p, "model") || !strcmp(p, "mha") ||
                 (!strcmp(p, "gqa") && rt_num(rt, r, RC_kv_heads) == native_kv);
    if (rt_exact_op(a)) {
        snprintf(out, cap, "%s", native ? "mha" : p);
        if (!native && !strcmp(p, "gqa")) *knob = rt_num(rt, r, RC_kv_heads);
        return 0;
    }
    if (native) snprintf(out, cap, "%s", a);
    else snprintf(out, cap, "%s+%s", a, p);
    *knob = op_knob(rt, r, a);
    return 0;
}

void family_setting(const char *family, double knob, double sink, char *out, size_t cap) {
    out[0] = '\0';
    if (knob <= 0) return;
    if (!strncmp(family, "topk", 4)) snprintf(out, cap, "k=%g", knob);
    else if (!strncmp(family, "performer", 9)) snprintf(out, cap, "M=%g", knob);
    else if (!strncmp(family, "window", 6) && sink > 0) snprintf(out, cap, "s=%g w=%g", sink, knob);
    else if (!strncmp(family, "window", 6)) snprintf(out, cap, "w=%g", knob);
    else if (!strcmp(family, "gqa")) snprintf(out, cap, "G=%g", knob);
    else snprintf(out, cap, "%g", knob);
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
