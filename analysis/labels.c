/* labels.c — names, shapes and colours of rows (labels.h). */
#include "labels.h"
#include "figure.h"
#include "methods.h"
#include "spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void method_label(const data *d, size_t r, char *out, size_t cap) {
    const char *a = fld(d, r, ID_ATTENTION), *p = fld(d, r, ID_PROJECTION);
    if (is_ffn(d, r)) { snprintf(out, cap, "ffn-%s", *a ? a : "?"); return; }
    size_t len = (size_t)snprintf(out, cap, "%s", *a ? a : "?");
    if (*p && strcmp(p, REF_PROJECTION) && len < cap) len += (size_t)snprintf(out + len, cap - len, "/%s", p);
    if ((row_knob_cols(d, r) & BIT(ID_KV_HEADS)) && len < cap)
        snprintf(out + len, cap - len, " G=%s", fld(d, r, ID_KV_HEADS));
}

const char *knob_short(int id) {
    switch (id) {
    case ID_K: return "k";
    case ID_CHUNK: return "C";
    case ID_FEATURES: return "m";
    case ID_SINK: return "s";
    case ID_WINDOW: return "w";
    case ID_KV_HEADS: return "G";
    default: return id >= 0 && id < ID_COUNT ? id_names[id] : "?";
    }
}

void knob_label(const data *d, size_t r, unsigned which, char *out, size_t cap) {
    /* K/V heads are part of the method label */
    unsigned bits = row_knob_cols(d, r) & which & ~BIT(ID_KV_HEADS);
    size_t len = 0;
    out[0] = '\0';
    for (int c = 0; c < ID_COUNT && len < cap; c++)
        if (bits & BIT(c)) len += (size_t)snprintf(out + len, cap - len, " %s=%s", knob_short(c), fld(d, r, c));
}

void family_of(const data *d, size_t r, char *out, size_t cap) {
    const char *a = fld(d, r, ID_ATTENTION), *p = fld(d, r, ID_PROJECTION);
    if (is_ffn(d, r)) snprintf(out, cap, "ffn-%s", a);
    else if (*p && strcmp(p, REF_PROJECTION) && !strcmp(a, BASELINE)) snprintf(out, cap, "%s", p);
    else if (*p && strcmp(p, REF_PROJECTION)) snprintf(out, cap, "%s+%s", a, p);
    else snprintf(out, cap, "%s", a);
}

/* one shape and colour per family (Okabe-Ito and Tol's colour-blind-safe
 * sets); decode's exact attention is named by its projection ("mha") */
static const struct {
    const char *family;
    int pt;
    const char *color;
} families[] = {
    {"vanilla", 5, "#000000"},   {"mha", 7, "#000000"},       {"exact", 7, "#000000"},
    {"chunked", 7, "#E69F00"},   {"topk", 9, "#0072B2"},      {"performer", 11, "#009E73"},
    {"window", 13, "#CC79A7"},   {"mqa", 5, "#D55E00"},       {"gqa", 15, "#56B4E9"},
    {"mhe-add", 3, "#882255"},   {"mhe-mul", 2, "#999933"},   {"ffn-exact", 7, "#000000"},
    {"ffn-topk", 9, "#0072B2"},
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
        if (!strcmp(m->name, fld(d, r, ID_ATTENTION))) ai = i;
    i = 0;
    for (const proj_scheme *p = proj_schemes; p->name; p++, i++)
        if (!strcmp(p->name, fld(d, r, ID_PROJECTION))) pj = i;
    return (is_ffn(d, r) ? 1000.0 : 0.0) + ai * 10.0 + pj;
}

const char *knob_of(const data *d, size_t r) {
    static const int prefer[] = {ID_K, ID_FEATURES, ID_WINDOW, ID_KV_HEADS, ID_SINK, ID_CHUNK};
    unsigned bits = row_knob_cols(d, r);
    for (size_t i = 0; i < sizeof prefer / sizeof prefer[0]; i++)
        if (bits & BIT(prefer[i])) return fld(d, r, prefer[i]);
    for (int c = 0; c < ID_COUNT; c++) /* a knob added later */
        if (bits & BIT(c)) return fld(d, r, c);
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
