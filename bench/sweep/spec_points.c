/* spec_points.c — a parsed spec expanded into its points: the cross
 * products of each group, knobs crossed only where they apply, duplicates
 * removed (spec.h). */
#include "spec.h"
#include "spec_internal.h"

#include "spec_hash.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- expansion ------------------------------------------------------- */

typedef struct {
    const sweep_spec *spec;
    const spec_group *group;
    const spec_list *list[SK_COUNT];  /* the effective list of each knob, or NULL */
    const char *value[SK_COUNT];      /* the current combination */
    sweep_point *points;
    size_t count, cap;
    size_t *slots;                    /* hash set of point indices + 1, for duplicates */
    size_t nslots;                    /* a power of two, at least twice count */
} expander;

/* FNV-1a over the command and the knob values */
static uint64_t point_hash(int command, const char *const *value) {
    unsigned char mark = (unsigned char)command;
    uint64_t h = spec_hash_bytes(SPEC_HASH_INIT, &mark, 1);
    for (int k = 0; k < SK_COUNT; k++) {
        mark = value[k] ? (unsigned char)(1 + k) : 0xff; /* which knob, or none */
        h = spec_hash_bytes(h, &mark, 1);
        if (value[k]) h = spec_hash_bytes(h, value[k], strlen(value[k]));
    }
    return h;
}

/* doubles the hash set and puts every point back */
static int slots_grow(expander *e) {
    size_t n = e->nslots ? 2 * e->nslots : 256;
    size_t *slots = calloc(n, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < e->count; i++) {
        size_t at = (size_t)point_hash(e->points[i].command, (const char *const *)e->points[i].value) & (n - 1);
        while (slots[at]) at = (at + 1) & (n - 1);
        slots[at] = i + 1;
    }
    free(e->slots);
    e->slots = slots;
    e->nslots = n;
    return 0;
}

/* the option "--NAME", or NULL when out of memory */
static char *option_text(const char *name) {
    size_t len = strlen(name) + 3;
    char *s = malloc(len);
    if (s) snprintf(s, len, "--%s", name);
    return s;
}

static int same_point(const sweep_point *a, int command, const char *const *value) {
    if (a->command != command) return 0;
    for (int k = 0; k < SK_COUNT; k++) {
        if (!a->value[k] != !value[k]) return 0;
        if (a->value[k] && strcmp(a->value[k], value[k])) return 0;
    }
    return 1;
}

static int add_point(expander *e) {
    if (2 * (e->count + 1) > e->nslots && slots_grow(e)) return -1;
    size_t at = (size_t)point_hash(e->group->command, e->value) & (e->nslots - 1);
    for (; e->slots[at]; at = (at + 1) & (e->nslots - 1))
        if (same_point(&e->points[e->slots[at] - 1], e->group->command, e->value)) return 0;
    e->slots[at] = e->count + 1;
    if (e->count == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 64;
        sweep_point *grown = realloc(e->points, cap * sizeof *grown);
        if (!grown) return -1;
        e->points = grown;
        e->cap = cap;
    }
    sweep_point *p = &e->points[e->count];
    memset(p, 0, sizeof *p);
    p->index = e->count;
    p->command = e->group->command;
    e->count++;
    if (!(p->group = strdup(e->group->name))) return -1;
    int argc = 0;
    for (int k = 0; k < SK_COUNT; k++)
        if (e->value[k]) argc += 2;
    p->argv = calloc((size_t)argc + 1, sizeof *p->argv);
    if (!p->argv) return -1;
    for (int k = 0; k < SK_COUNT; k++) {
        if (!e->value[k]) continue;
        if (!(p->value[k] = strdup(e->value[k]))) return -1;
        if (spec_knob_is_flag(k)) { /* a flag: present for 1 */
            if (strcmp(e->value[k], "1") == 0 && !(p->argv[p->argc++] = option_text(spec_knob_name(k))))
                return -1;
            continue;
        }
        if (!(p->argv[p->argc++] = option_text(spec_knob_name(k)))) return -1;
        if (!(p->argv[p->argc++] = strdup(e->value[k]))) return -1;
    }
    return 0;
}

/* Crosses knobs knob..SK_COUNT-1 given the values chosen before them. */
static int expand_from(expander *e, int knob) {
    if (knob == SK_COUNT) return add_point(e);
    const spec_list *l = e->list[knob];
    /* a point with an input takes its sizes from the files */
    int applies = l && !(e->value[SK_INPUT] && fixed_by_input(knob)) &&
                  spec_knob_applies_to(knob, e->group->command, e->value[SK_ATTENTION], e->value[SK_PROJECTION]);
    if (!applies) {
        e->value[knob] = NULL;
        return expand_from(e, knob + 1);
    }
    for (size_t i = 0; i < l->count; i++) {
        e->value[knob] = l->values[i];
        if (expand_from(e, knob + 1)) return -1;
    }
    e->value[knob] = NULL;
    return 0;
}

void spec_points_free(sweep_point *points, size_t count) {
    for (size_t i = 0; points && i < count; i++) {
        for (int k = 0; k < SK_COUNT; k++) free(points[i].value[k]);
        for (int a = 0; points[i].argv && a < points[i].argc; a++) free(points[i].argv[a]);
        free(points[i].argv);
        free(points[i].group);
    }
    free(points);
}

int spec_expand(const sweep_spec *s, sweep_point **points, size_t *count, char *err, size_t errlen) {
    expander e = {.spec = s};
    size_t bound = 0;
    for (size_t gi = 0; gi < s->ngroups; gi++) {
        e.group = &s->groups[gi];
        size_t prod = 1; /* the group's points at most (before knobs that do not apply drop out) */
        for (int k = 0; k < SK_COUNT; k++) {
            const spec_list *own = group_list(e.group, k);
            const spec_list *def = group_list(&s->defaults, k);
            e.list[k] = own ? own : (def && spec_knob_takes(k, e.group->command)) ? def : NULL;
            e.value[k] = NULL;
            if (e.list[k]) prod = prod > SPEC_MAX_POINTS ? prod : prod * e.list[k]->count;
        }
        bound += prod;
        if (bound > SPEC_MAX_POINTS) {
            spec_points_free(e.points, e.count);
            free(e.slots);
            set_err(err, errlen, "%s:%d: group '%s' takes the spec past %d points; split the study",
                    s->file, e.group->line, e.group->name, SPEC_MAX_POINTS);
            return -2;
        }
        if (expand_from(&e, 0)) {
            spec_points_free(e.points, e.count);
            free(e.slots);
            set_err(err, errlen, "%s: out of memory expanding group '%s'", s->file, e.group->name);
            return -1;
        }
    }
    free(e.slots);
    *points = e.points;
    *count = e.count;
    return 0;
}

int spec_parse_shard(const char *text, size_t *i, size_t *n, char *err, size_t errlen) {
    char *end;
    errno = 0;
    unsigned long long a = isdigit((unsigned char)text[0]) ? strtoull(text, &end, 10) : 0;
    if (!a || errno || *end != '/' || !isdigit((unsigned char)end[1])) goto bad;
    unsigned long long b = strtoull(end + 1, &end, 10);
    if (errno || *end || b < 1 || a > b) goto bad;
    *i = (size_t)a;
    *n = (size_t)b;
    return 0;
bad:
    set_err(err, errlen, "--shard '%s': expected I/N with 1 <= I <= N", text);
    return -1;
}

char *spec_point_describe(const sweep_point *p) {
    size_t cap = 256, len = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    s[0] = '\0';
    if (p->command != SPEC_RUN) len = (size_t)snprintf(s, cap, "%s", spec_command_name(p->command));
    for (int k = 0; k < SK_COUNT; k++) {
        if (!p->value[k] || spec_knob_column(k) < 0) continue; /* warmup, reps, ref-rows: not what a point is */
        const char *name = spec_knob_name(k);
        size_t need = strlen(name) + strlen(p->value[k]) + 3;
        if (len + need >= cap) {
            while (len + need >= cap) cap *= 2;
            char *grown = realloc(s, cap);
            if (!grown) { free(s); return NULL; }
            s = grown;
        }
        /* the method names speak for themselves */
        if (k == SK_ATTENTION || k == SK_PROJECTION)
            len += (size_t)snprintf(s + len, cap - len, "%s%s", len ? " " : "", p->value[k]);
        else
            len += (size_t)snprintf(s + len, cap - len, "%s%s=%s", len ? " " : "", name, p->value[k]);
    }
    return s;
}

