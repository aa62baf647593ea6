/* traits.c — a row's method by its table entries and the registry (traits.h). */
#include "traits.h"
#include "knobs.h"
#include "methods.h"

#include <stdio.h>
#include <string.h>

int op_exact(const char *a) {
    const attn_method *m = attn_method_find(a);
    if (m) return (m->flags & ATTN_EXACT) != 0;
    const ffn_method *f = ffn_method_find(a);
    if (f) return (f->flags & ATTN_EXACT) != 0;
    return !strcmp(a, EVAL_OWN);
}

int op_baseline(const char *a) {
    const attn_method *m = attn_method_find(a);
    return m && (m->flags & ATTN_BASELINE);
}

const char *baseline_name(void) {
    for (const attn_method *m = attn_methods; m->name; m++)
        if (m->flags & ATTN_BASELINE) return m->name;
    return "";
}

const char *exact_linear_name(void) {
    for (const attn_method *m = attn_methods; m->name; m++)
        if ((m->flags & ATTN_EXACT) && !(m->flags & ATTN_BASELINE)) return m->name;
    return "";
}

int op_keeps_largest(const char *a, int ffn) {
    if (ffn) {
        const ffn_method *f = ffn_method_find(a);
        return f && f->mass == ATTN_MASS_LARGEST;
    }
    const attn_method *m = attn_method_find(a);
    return m && m->mass == ATTN_MASS_LARGEST;
}

const char *keeps_largest_name(void) {
    for (const attn_method *m = attn_methods; m->name; m++)
        if (m->mass == ATTN_MASS_LARGEST) return m->name;
    return NULL;
}

int proj_reference(const char *p) {
    const proj_scheme *s = proj_scheme_find(p);
    return s && (s->flags & PROJ_REFERENCE);
}

const char *reference_name(void) {
    for (const proj_scheme *s = proj_schemes; s->name; s++)
        if (s->flags & PROJ_REFERENCE) return s->name;
    return "";
}

int proj_embeds(const char *p) {
    const proj_scheme *s = proj_scheme_find(p);
    return s && s->embed;
}

unsigned proj_knobs(const char *p) {
    const proj_scheme *s = proj_scheme_find(p);
    return s ? s->knobs : 0;
}

int proj_one_kv_head(const char *p) {
    const proj_scheme *s = proj_scheme_find(p);
    return s && s->kv_heads_for(2, 0) == 1 && s->kv_heads_for(8, 0) == 1;
}

void family_parse(const char *family, const attn_method **op, const proj_scheme **proj) {
    const char *plus = strchr(family, '+');
    char name[64];
    *op = NULL;
    *proj = NULL;
    if (plus) {
        snprintf(name, sizeof name, "%.*s", (int)(plus - family), family);
        *op = attn_method_find(name);
        *proj = proj_scheme_find(plus + 1);
        return;
    }
    *op = attn_method_find(family);
    if (*op && ((*op)->flags & ATTN_EXACT)) *op = NULL;
    if (!*op) *proj = proj_scheme_find(family);
}

/* the registry entry of a knob bit, or NULL */
static const knob_def *knob_of_bit(unsigned bit) {
    for (int i = 0; bit && i < KN_COUNT; i++)
        if (knob_defs[i].bit == bit) return &knob_defs[i];
    return NULL;
}

/* the first knob of `reads` (registry order) whose flags meet want under mask */
static unsigned first_knob(unsigned reads, unsigned mask, unsigned want) {
    for (int i = 0; i < KN_COUNT; i++)
        if ((knob_defs[i].bit & reads) && (knob_defs[i].flags & mask) == want) return knob_defs[i].bit;
    return 0;
}

unsigned family_knob_bit(const char *family) {
    const attn_method *op;
    const proj_scheme *proj;
    family_parse(family, &op, &proj);
    if (op) return first_knob(op->knobs, KF_TUNING | KF_MINOR, 0);
    return proj ? first_knob(proj->knobs, 0, 0) : 0;
}

int family_knob_column(const char *family) {
    const knob_def *k = knob_of_bit(family_knob_bit(family));
    return k ? k->column : -1;
}

int family_minor_column(const char *family) {
    const attn_method *op;
    const proj_scheme *proj;
    family_parse(family, &op, &proj);
    const knob_def *k = op ? knob_of_bit(first_knob(op->knobs, KF_MINOR, KF_MINOR)) : NULL;
    return k ? k->column : -1;
}

int family_reference(const char *family) {
    const attn_method *op;
    const proj_scheme *proj;
    family_parse(family, &op, &proj);
    return !op && proj && (proj->flags & PROJ_REFERENCE);
}

int family_keeps_largest(const char *family) {
    const attn_method *op;
    const proj_scheme *proj;
    family_parse(family, &op, &proj);
    return op && !proj && op->mass == ATTN_MASS_LARGEST;
}

void family_setting(const char *family, double knob, double minor, char *out, size_t cap) {
    out[0] = '\0';
    if (knob <= 0) return;
    char base[64]; /* the knobs are the operator's: "h2o@q8_0" reads as "h2o" */
    snprintf(base, sizeof base, "%.*s", (int)strcspn(family, "@"), family);
    family = base;
    const knob_def *main = knob_of_bit(family_knob_bit(family));
    if (!main || !main->label) { snprintf(out, cap, "%g", knob); return; }
    const int minor_col = family_minor_column(family);
    size_t len = 0;
    for (int i = 0; i < KN_COUNT && len < cap; i++) { /* in the registry's order: "s=4 w=256" */
        const knob_def *k = &knob_defs[i];
        if (k == main) len += (size_t)snprintf(out + len, cap - len, "%s%s=%g", len ? " " : "", k->label, knob);
        else if (k->label && k->column == minor_col && minor_col >= 0 && minor > 0)
            len += (size_t)snprintf(out + len, cap - len, "%s%s=%g", len ? " " : "", k->label, minor);
    }
}

void family_axis(const char *family, char *out, size_t cap) {
    const knob_def *k = knob_of_bit(family_knob_bit(family));
    if (!k) { snprintf(out, cap, "knob"); return; }
    /* its --help line without the method it is for and the default:
     * "top-k: keys kept per query (default ...)" -> "keys kept per query" */
    const char *h = k->help, *colon = strstr(h, ": "), *paren = strstr(h, " (");
    if (colon && (!paren || colon < paren)) h = colon + 2;
    paren = strstr(h, " (");
    snprintf(out, cap, "%s (%.*s)", k->label ? k->label : k->name, paren ? (int)(paren - h) : (int)strlen(h), h);
}
