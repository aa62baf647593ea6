/* labels.c — names, shapes and colours of rows (labels.h). */
#include "labels.h"
#include "figure.h"
#include "methods.h"
#include "knobs.h"
#include "spec.h"
#include "traits.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void method_label(const data *d, size_t r, char *out, size_t cap) {
    const char *a = fld(d, r, COL_attention), *p = fld(d, r, COL_projection);
    if (is_ffn(d, r)) { snprintf(out, cap, "ffn-%s", *a ? a : "?"); return; }
    size_t len = (size_t)snprintf(out, cap, "%s", *a ? a : "?");
    if (*p && !proj_reference(p) && len < cap) len += (size_t)snprintf(out + len, cap - len, "/%s", p);
    if ((row_knob_cols(d, r) & BIT(COL_kv_heads)) && len < cap)
        snprintf(out + len, cap - len, " G=%s", fld(d, r, COL_kv_heads));
}

const char *knob_short(int id) {
    const char *label = knob_label_of_column(id); /* the registry's: k C M s w G */
    return label ? label : id >= 0 && id < COL_COUNT ? result_column_names[id] : "?";
}

void knob_label(const data *d, size_t r, colset which, char *out, size_t cap) {
    /* K/V heads are part of the method label */
    colset bits = row_knob_cols(d, r) & which & ~BIT(COL_kv_heads);
    size_t len = 0;
    out[0] = '\0';
    int n;
    const int *ids = id_columns(&n);
    for (int i = 0, c; i < n && len < cap; i++)
        if (bits & BIT(c = ids[i])) len += (size_t)snprintf(out + len, cap - len, " %s=%s", knob_short(c), fld(d, r, c));
}

void family_of(const data *d, size_t r, char *out, size_t cap) {
    const char *a = fld(d, r, COL_attention), *p = fld(d, r, COL_projection);
    if (is_ffn(d, r)) snprintf(out, cap, "ffn-%s", a);
    else if (*p && !proj_reference(p) && op_baseline(a)) snprintf(out, cap, "%s", p);
    else if (*p && !proj_reference(p)) snprintf(out, cap, "%s+%s", a, p);
    else snprintf(out, cap, "%s", a);
}

/* The analysis's one display table: per family (a method of the tables,
 * by its name) its shape and colour (Okabe-Ito and Tol's colour-blind-safe
 * sets) and its rank in the decode and model legends (exact MHA, the
 * projections, the operators; -1: none); decode's exact attention is named
 * by its projection ("mha"). A family not listed is drawn by its place in
 * the tables (other_index). Display only: no behaviour reads it. */
static const struct {
    const char *family;
    int pt;
    const char *color;
    int rank;
} families[] = {
    {"vanilla", 5, "#000000", -1},  {"mha", 7, "#000000", 0},       {"exact", 7, "#000000", -1},
    {"chunked", 7, "#E69F00", -1},  {"topk", 9, "#0072B2", 5},      {"performer", 11, "#009E73", 7},
    {"window", 13, "#CC79A7", 6},   {"mqa", 5, "#D55E00", 2},       {"gqa", 15, "#56B4E9", 1},
    {"mhe-add", 3, "#882255", 3},   {"mhe-mul", 2, "#999933", 4},   {"ffn-exact", 7, "#000000", -1},
    {"ffn-topk", 9, "#0072B2", -1},
};
enum { NFAM = sizeof families / sizeof families[0] };

/* a family not in the table (a method added later): by its place in the tables */
static int other_index(const char *family) {
    int i = 0;
    for (const attn_method *m = attn_methods; m->name; m++, i++)
        if (!strncmp(family, m->name, strlen(m->name))) return i;
    for (const proj_scheme *p = proj_schemes; p->name; p++, i++)
        if (!strcmp(family, p->name)) return i;
    return i;
}

int family_rank(const char *family) {
    for (int i = 0; i < NFAM; i++)
        if (!strcmp(families[i].family, family)) return families[i].rank;
    return -1;
}

int family_ranks(void) {
    int n = 0;
    for (int i = 0; i < NFAM; i++) n = families[i].rank >= n ? families[i].rank + 1 : n;
    return n;
}

int family_marker(const char *family) {
    for (int i = 0; i < NFAM; i++)
        if (!strcmp(families[i].family, family)) return families[i].pt;
    const char *plus = strchr(family, '+'); /* topk+mqa: the operator's shape */
    if (plus) {
        char op[64];
        snprintf(op, sizeof op, "%.*s", (int)(plus - family), family);
        return family_marker(op);
    }
    static const int spare[] = {4, 6, 8, 10, 12, 14, 1};
    return spare[other_index(family) % 7];
}

const char *family_color(const char *family) {
    for (int i = 0; i < NFAM; i++)
        if (!strcmp(families[i].family, family)) return families[i].color;
    const char *plus = strchr(family, '+');
    if (plus) { /* an operator on a shared projection: the projection's colour */
        for (int i = 0; i < NFAM; i++)
            if (!strcmp(families[i].family, plus + 1)) return families[i].color;
    }
    static const char *const spare[] = {"#44AA99", "#AA4499", "#332288", "#117733", "#DDCC77", "#777777"};
    return spare[other_index(family) % 6];
}

int hollow_point(int pt) { return pt == 5 || pt == 7 || pt == 9 || pt == 11 || pt == 13 || pt == 15 ? pt - 1 : pt; }

void ramp_color(const char *base, double v, char out[8]) {
    /* log2 of the knob from 1 (light) to 1024 (the full colour): one ramp
     * for every family, so a colour means one knob size everywhere */
    double t = v > 0 ? 0.75 * (1 - fmin(1, fmax(0, log2(v) / 10))) : 0;
    color_tint(base, t, out);
}

int write_family_gp(const char *datadir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/families.gp", datadir);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f, "# families.gp: written by `attnbench analyze` (analysis/labels.c): one marker shape and\n"
               "# colour per family; ramp(rgb, v) lightens a colour for a small knob value v\n");
    fprintf(f, "family_pt(s) = ");
    for (int i = 0; i < NFAM; i++) fprintf(f, "s eq \"%s\" ? %d : ", families[i].family, families[i].pt);
    fprintf(f, "(strstrt(s, \"+\") > 0 ? family_pt(s[1:strstrt(s, \"+\") - 1]) : 1)\n");
    fprintf(f, "family_rgb(s) = ");
    for (int i = 0; i < NFAM; i++)
        fprintf(f, "s eq \"%s\" ? 0x%s : ", families[i].family, families[i].color + 1);
    fprintf(f, "(strstrt(s, \"+\") > 0 ? family_rgb(s[strstrt(s, \"+\") + 1:]) : 0x777777)\n");
    fprintf(f, "ramp_t(v) = v > 0 ? 0.75 * (1 - (log(v) / log(2) / 10 > 1 ? 1 : log(v) / log(2) / 10 < 0 ? 0 : log(v) / log(2) / 10)) : 0\n"
               "tint1(c, t) = int(c + (255 - c) * t + 0.5)\n"
               "ramp(rgb, v) = tint1(int(rgb / 65536) %% 256, ramp_t(v)) * 65536 + "
               "tint1(int(rgb / 256) %% 256, ramp_t(v)) * 256 + tint1(rgb %% 256, ramp_t(v))\n");
    int bad = ferror(f);
    return fclose(f) || bad ? -1 : 0;
}

const char *row_color(const data *d, size_t r) {
    char fam[128];
    family_of(d, r, fam, sizeof fam);
    return family_color(fam);
}

double method_order(const data *d, size_t r) {
    int ai = 99, pj = 0, i = 0;
    for (const attn_method *m = attn_methods; m->name; m++, i++)
        if (!strcmp(m->name, fld(d, r, COL_attention))) ai = i;
    i = 0;
    for (const proj_scheme *p = proj_schemes; p->name; p++, i++)
        if (!strcmp(p->name, fld(d, r, COL_projection))) pj = i;
    return (is_ffn(d, r) ? 1000.0 : 0.0) + ai * 10.0 + pj;
}

/* which knobs tell points apart first: a method's main knobs, a
 * projection's, a minor one, a tuning one (knob_list.h's roles) */
static int knob_role(const knob_def *k) {
    if (!KNOB_IS_METHOD(k->bit)) return 1;
    return k->flags & KF_TUNING ? 3 : k->flags & KF_MINOR ? 2 : 0;
}

const char *knob_of(const data *d, size_t r) {
    colset bits = row_knob_cols(d, r);
    for (int role = 0; role < 4; role++)
        for (int i = 0; i < KN_COUNT; i++)
            if (knob_defs[i].bit && knob_defs[i].column >= 0 && (bits & BIT(knob_defs[i].column)) &&
                knob_role(&knob_defs[i]) == role)
                return fld(d, r, knob_defs[i].column);
    return "";
}

double knob_value(const data *d, size_t r) {
    const char *v = knob_of(d, r);
    return *v ? strtod(v, NULL) : 0;
}

void fmt_bytes(double b, char *out, size_t cap) {
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    if (!isfinite(b)) { snprintf(out, cap, "—"); return; }
    int u = 0;
    while (b >= 1024 && u < 4) { b /= 1024; u++; }
    snprintf(out, cap, u ? "%.3g %s" : "%.0f %s", b, units[u]);
}

void fmt_slope(double v, char *out, size_t cap) {
    if (isfinite(v)) snprintf(out, cap, "%.2f", v);
    else snprintf(out, cap, "—");
}

void fmt_from(double n, char *out, size_t cap) {
    if (isfinite(n)) snprintf(out, cap, "n ≥ %g", n);
    else snprintf(out, cap, "never");
}

void note_over_one(FILE *f, int any) {
    if (any) fprintf(f, "\nA rel_err above 1 is worse than returning zeros (an all-zero output has rel_err 1).\n");
}
