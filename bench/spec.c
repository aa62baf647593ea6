/* spec.c — parses sweep specs and expands them into points (format in spec.h). */
#include "spec.h"

#include "attention.h"
#include "options.h"
#include "readfile.h"
#include "results.h"
#include "spec_hash.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { KIND_INT, KIND_REAL, KIND_BOOL, KIND_NAME };
enum { FOR_RUN = 1u << SPEC_RUN, FOR_FFN = 1u << SPEC_FFN, FOR_BOTH = FOR_RUN | FOR_FFN };

typedef struct {
    const char *name;    /* as written in a spec and as the option, less "--" */
    const char *column;  /* results column that identifies the point, or NULL */
    int kind;
    unsigned commands;   /* FOR_*: the subcommands that take it */
} knob_info;

/* indexed by SK_*; the order of SPEC_KNOBS */
static const knob_info knobs[SK_COUNT] = {
    [SK_ATTENTION] = {"attention", "attention", KIND_NAME, FOR_BOTH},
    [SK_PROJECTION] = {"projection", "projection", KIND_NAME, FOR_RUN},
    [SK_INPUT] = {"input", "input", KIND_NAME, FOR_BOTH},
    [SK_HEADS] = {"heads", "heads", KIND_INT, FOR_RUN},
    [SK_D_HEAD] = {"d-head", "d_head", KIND_INT, FOR_RUN},
    [SK_D_MODEL] = {"d-model", "d_model", KIND_INT, FOR_BOTH},
    [SK_D_FF] = {"d-ff", "d_ff", KIND_INT, FOR_FFN},
    [SK_CAUSAL] = {"causal", "causal", KIND_BOOL, FOR_RUN},
    [SK_SCORE_STD] = {"score-std", "score_std", KIND_REAL, FOR_RUN},
    [SK_HEAD_SIM] = {"head-sim", "head_sim", KIND_REAL, FOR_RUN},
    [SK_N] = {"n", "n", KIND_INT, FOR_BOTH},
    [SK_KV_HEADS] = {"kv-heads", "kv_heads", KIND_INT, FOR_RUN},
    [SK_K] = {"k", "k", KIND_INT, FOR_BOTH},
    [SK_CHUNK] = {"chunk", "chunk", KIND_INT, FOR_BOTH},
    [SK_FEATURES] = {"features", "features", KIND_INT, FOR_RUN},
    [SK_SEED] = {"seed", "seed", KIND_INT, FOR_BOTH},
    [SK_THREADS] = {"threads", "threads", KIND_INT, FOR_BOTH},
    [SK_WARMUP] = {"warmup", NULL, KIND_INT, FOR_BOTH},
    [SK_REPS] = {"reps", NULL, KIND_INT, FOR_BOTH},
    [SK_REF_ROWS] = {"ref-rows", NULL, KIND_INT, FOR_BOTH},
};

static const char *const command_names[] = {"run", "ffn"};

const char *spec_knob_name(int knob) { return knobs[knob].name; }

int spec_knob_column(int knob) {
    return knobs[knob].column ? result_column_find(knobs[knob].column) : -1;
}

static int knob_find(const char *name) {
    for (int i = 0; i < SK_COUNT; i++)
        if (strcmp(knobs[i].name, name) == 0) return i;
    return -1;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- values --------------------------------------------------------- */

/* The canonical text of a value, so "4", "4.0" and "04" are one point;
 * NULL (and *why set) when it is not of the knob's kind. */
static char *canonical_value(int knob, const char *text, const char **why) {
    char *end, *out = NULL;
    errno = 0;
    switch (knobs[knob].kind) {
    case KIND_INT: {
        if (!isdigit((unsigned char)text[0])) { *why = "a whole number >= 0"; return NULL; }
        unsigned long long v = strtoull(text, &end, 10);
        if (*end || errno) { *why = "a whole number >= 0"; return NULL; }
        if (asprintf(&out, "%llu", v) < 0) out = NULL;
        break;
    }
    case KIND_REAL: {
        double v = strtod(text, &end);
        if (end == text || *end || errno || v != v || v - v != 0) { *why = "a finite number"; return NULL; }
        if (asprintf(&out, "%.15g", v == 0 ? 0.0 : v) < 0) out = NULL;
        break;
    }
    case KIND_BOOL:
        if (strcmp(text, "0") && strcmp(text, "1")) { *why = "0 or 1"; return NULL; }
        out = strdup(text);
        break;
    default:
        for (const char *c = text; *c; c++)
            if (*c == ',' || *c == '"' || (unsigned char)*c < ' ') { *why = "a name without commas or quotes"; return NULL; }
        out = strdup(text);
    }
    if (!out) *why = "(out of memory)";
    return out;
}

/* ---- parsing -------------------------------------------------------- */

static void group_free(spec_group *g) {
    for (size_t i = 0; i < g->nlists; i++) {
        for (size_t j = 0; j < g->lists[i].count; j++) free(g->lists[i].values[j]);
        free(g->lists[i].values);
    }
    free(g->lists);
    free(g->name);
    free(g->missing);
    memset(g, 0, sizeof *g);
}

void spec_free(sweep_spec *s) {
    group_free(&s->defaults);
    for (size_t i = 0; i < s->ngroups; i++) group_free(&s->groups[i]);
    free(s->groups);
    for (size_t i = 0; i < s->nleft_out; i++) free(s->left_out[i]);
    free(s->left_out);
    free(s->file);
    memset(s, 0, sizeof *s);
}

/* ---- variables ------------------------------------------------------ */

static int is_var_name(const char *s, size_t len) {
    if (!len || isdigit((unsigned char)s[0])) return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_') return 0;
    return 1;
}

static const char *env_lookup(const spec_env *e, const char *name, size_t len) {
    for (size_t i = 0; e && i < e->count; i++)
        if (strlen(e->names[i]) == len && !strncmp(e->names[i], name, len)) return e->values[i];
    return NULL;
}

const char *spec_env_get(const spec_env *e, const char *name) { return env_lookup(e, name, strlen(name)); }

static int env_set(spec_env *e, const char *name, size_t len, const char *value, char *err, size_t errlen) {
    if (!is_var_name(name, len)) {
        set_err(err, errlen, "--define '%.*s': a name is letters, digits and '_', not starting with a digit", (int)len, name);
        return -1;
    }
    if (env_lookup(e, name, len)) {
        set_err(err, errlen, "variable %.*s defined twice", (int)len, name);
        return -1;
    }
    char **n = realloc(e->names, (e->count + 1) * sizeof *n);
    if (n) e->names = n;
    char **v = n ? realloc(e->values, (e->count + 1) * sizeof *v) : NULL;
    if (v) e->values = v;
    char *nc = v ? strndup(name, len) : NULL, *vc = nc ? strdup(value) : NULL;
    if (!vc) {
        free(nc);
        set_err(err, errlen, "out of memory");
        return -1;
    }
    e->names[e->count] = nc;
    e->values[e->count++] = vc;
    return 0;
}

int spec_env_define(spec_env *e, const char *assignment, char *err, size_t errlen) {
    const char *eq = strchr(assignment, '=');
    if (!eq) {
        set_err(err, errlen, "--define '%s': expected NAME=VALUE", assignment);
        return -1;
    }
    return env_set(e, assignment, (size_t)(eq - assignment), eq + 1, err, errlen);
}

void spec_env_free(spec_env *e) {
    for (size_t i = 0; i < e->count; i++) {
        free(e->names[i]);
        free(e->values[i]);
    }
    free(e->names);
    free(e->values);
    e->names = e->values = NULL;
    e->count = 0;
}

int spec_env_capture(spec_env *e, const char *dir, char *err, size_t errlen) {
    char path[4096], line[1024], why[4200];
    snprintf(path, sizeof path, "%s/capture.txt", dir);
    int fd = readfile_open(path, READFILE_SPEC_MAX, why, sizeof why);
    FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        set_err(err, errlen, "--capture %s: cannot read %s (not a directory written by attnbench capture?)",
                dir, fd >= 0 ? path : why);
        return -1;
    }
    unsigned long long n = 0;
    int dim = 0, heads = 0, layers = 0;
    char stds[4096] = "";
    size_t len = 0;
    while (fgets(line, sizeof line, f)) {
        int l;
        double sd, ent;
        char v[32];
        if (sscanf(line, "n %llu", &n) == 1) continue;
        if (sscanf(line, "config dim %d hidden_dim %*d n_layers %*d n_heads %d", &dim, &heads) == 2) continue;
        if (sscanf(line, "layer %d logit_std %lf entropy %lf", &l, &sd, &ent) != 3 || !(sd > 0) || !isfinite(sd))
            continue;
        layers++;
        snprintf(v, sizeof v, "%.3g", sd);
        /* each value once: two layers as sharp as each other share a twin */
        int seen = 0;
        for (const char *w = stds; *w && !seen;) {
            size_t wl = strcspn(w, " ");
            seen = wl == strlen(v) && !strncmp(w, v, wl);
            w += wl + (w[wl] == ' ');
        }
        if (!seen && len + strlen(v) + 2 < sizeof stds)
            len += (size_t)snprintf(stds + len, sizeof stds - len, "%s%s", len ? " " : "", v);
    }
    fclose(f);
    if (!n || dim <= 0 || heads <= 0 || dim % heads || !layers) {
        set_err(err, errlen, "--capture %s: %s lacks the n, config or layer lines attnbench capture writes", dir, path);
        return -1;
    }
    char nb[32], hb[32], db[32];
    snprintf(nb, sizeof nb, "%llu", n);
    snprintf(hb, sizeof hb, "%d", heads);
    snprintf(db, sizeof db, "%d", dim / heads);
    static const char *const names[] = {"CAPTURE", "CAPTURE_N", "CAPTURE_HEADS", "CAPTURE_D_HEAD", "CAPTURE_LOGIT_STDS"};
    const char *values[] = {dir, nb, hb, db, stds};
    for (int i = 0; i < 5; i++)
        if (env_set(e, names[i], strlen(names[i]), values[i], err, errlen)) return -1;
    return 0;
}

/* The line with each ${NAME} replaced by its value; NULL with err (an
 * undefined name, a '$' that starts no ${NAME}, out of memory). */
static char *expand_vars(const char *line, const spec_env *env, const char *file, int lineno,
                         char *err, size_t errlen) {
    size_t cap = strlen(line) + 1, len = 0;
    char *out = malloc(cap);
    for (const char *p = line; out && *p;) {
        const char *piece = p;
        size_t plen = 1;
        if (*p == '$') {
            const char *close = p[1] == '{' ? strchr(p + 2, '}') : NULL;
            if (!close || !is_var_name(p + 2, (size_t)(close - p - 2))) {
                set_err(err, errlen, "%s:%d: '$' starts a variable, written ${NAME} (letters, digits, '_')", file, lineno);
                free(out);
                return NULL;
            }
            piece = env_lookup(env, p + 2, (size_t)(close - p - 2));
            if (!piece) {
                set_err(err, errlen, "%s:%d: ${%.*s} is not defined (attnbench sweep --define %.*s=VALUE%s)",
                        file, lineno, (int)(close - p - 2), p + 2, (int)(close - p - 2), p + 2,
                        !strncmp(p + 2, "CAPTURE", 7) ? ", or --capture DIR" : "");
                free(out);
                return NULL;
            }
            plen = strlen(piece);
            p = close + 1;
        } else {
            p++;
        }
        if (len + plen + 1 > cap) {
            while (len + plen + 1 > cap) cap *= 2;
            char *grown = realloc(out, cap);
            if (!grown) { free(out); out = NULL; break; }
            out = grown;
        }
        memcpy(out + len, piece, plen);
        len += plen;
    }
    if (!out) {
        set_err(err, errlen, "%s:%d: out of memory", file, lineno);
        return NULL;
    }
    out[len] = '\0';
    return out;
}

/* glob(3) matches in natural order: layer2 before layer10 */
static int by_version(const void *a, const void *b) {
    return strverscmp(*(char *const *)a, *(char *const *)b);
}

/* ---- values of one knob ------------------------------------------------ */

/* the knobs an input's files fix, or that only the synthetic input reads */
static int fixed_by_input(int knob) {
    return knob == SK_N || knob == SK_HEADS || knob == SK_D_HEAD || knob == SK_D_MODEL ||
           knob == SK_D_FF || knob == SK_SCORE_STD || knob == SK_HEAD_SIM;
}

static const spec_list *group_list(const spec_group *g, int knob) {
    for (size_t i = 0; i < g->nlists; i++)
        if (g->lists[i].knob == knob) return &g->lists[i];
    return NULL;
}

static int is_name_char(int c) { return isalnum(c) || c == '-' || c == '_' || c == '.'; }

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Splits a line in place into whitespace-separated words; returns their count. */
static size_t split_words(char *line, char **words, size_t max) {
    size_t n = 0;
    char *p = line;
    while (*p) {
        while (is_space(*p)) p++;
        if (!*p) break;
        if (n == max) return max + 1;
        words[n++] = p;
        while (*p && !is_space(*p)) p++;
        if (*p) *p++ = '\0';
    }
    return n;
}

enum { MAX_WORDS = 256 };

/* Adds one value (as written) to list l, in canonical form, refusing a
 * second copy. 0, or -1 with err. */
static int list_add(const char *file, int lineno, const char *knob_word, spec_list *l, const char *word,
                    char *err, size_t errlen) {
    const char *why = "";
    char *v = canonical_value(l->knob, word, &why);
    if (!v) {
        set_err(err, errlen, "%s:%d: %s: '%s' is not %s", file, lineno, knob_word, word, why);
        return -1;
    }
    for (size_t j = 0; j < l->count; j++)
        if (strcmp(l->values[j], v) == 0) {
            set_err(err, errlen, "%s:%d: %s: value '%s' listed twice", file, lineno, knob_word, word);
            free(v);
            return -1;
        }
    char **grown = realloc(l->values, (l->count + 1) * sizeof *grown);
    if (!grown) {
        free(v);
        set_err(err, errlen, "%s:%d: out of memory", file, lineno);
        return -1;
    }
    l->values = grown;
    l->values[l->count++] = v;
    return 0;
}

/* An input value with wildcards, replaced by the paths it matches. */
static int list_add_glob(const char *file, int lineno, const char *knob_word, spec_list *l,
                         const char *pattern, char *err, size_t errlen) {
    glob_t g;
    int rc = glob(pattern, GLOB_NOSORT, NULL, &g);
    if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
        if (rc == 0) globfree(&g);
        set_err(err, errlen, "%s:%d: %s: '%s' matches nothing", file, lineno, knob_word, pattern);
        return -1;
    }
    if (rc != 0) {
        set_err(err, errlen, "%s:%d: %s: '%s': %s", file, lineno, knob_word, pattern,
                rc == GLOB_NOSPACE ? "out of memory" : "cannot read a directory on the way");
        return -1;
    }
    qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, by_version);
    rc = 0;
    for (size_t i = 0; i < g.gl_pathc && !rc; i++) rc = list_add(file, lineno, knob_word, l, g.gl_pathv[i], err, errlen);
    globfree(&g);
    return rc;
}

/* One knob line "KNOB VALUE..." into group g. 0, or -1 with err. */
static int parse_knob_line(const char *file, int lineno, char **w, size_t nw, spec_group *g,
                           const spec_env *env, char *err, size_t errlen) {
    int knob = knob_find(w[0]);
    if (knob < 0) {
        set_err(err, errlen, "%s:%d: unknown knob '%s'", file, lineno, w[0]);
        return -1;
    }
    if (nw < 2) {
        set_err(err, errlen, "%s:%d: knob '%s' has no values", file, lineno, w[0]);
        return -1;
    }
    const spec_list *prev = group_list(g, knob);
    if (prev) {
        set_err(err, errlen, "%s:%d: knob '%s' given twice in %s%s%s (first at line %d)", file,
                lineno, w[0], g->name[0] ? "group '" : "the defaults", g->name,
                g->name[0] ? "'" : "", prev->line);
        return -1;
    }
    spec_list *grown = realloc(g->lists, (g->nlists + 1) * sizeof *grown);
    if (!grown) {
        set_err(err, errlen, "%s:%d: out of memory", file, lineno);
        return -1;
    }
    g->lists = grown;
    spec_list *l = &g->lists[g->nlists++];
    *l = (spec_list){.knob = knob, .line = lineno};
    for (size_t i = 1; i < nw; i++) {
        int globbed = knob == SK_INPUT && env && env->glob && strpbrk(w[i], "*?[");
        if (globbed ? list_add_glob(file, lineno, w[0], l, w[i], err, errlen)
                    : list_add(file, lineno, w[0], l, w[i], err, errlen))
            return -1;
    }
    return 0;
}

/* "needs NAME...": the group is left out unless every NAME is defined. */
static int parse_needs(const char *file, int lineno, char **w, size_t nw, spec_group *g,
                       const spec_env *env, char *err, size_t errlen) {
    if (!g->name[0]) {
        set_err(err, errlen, "%s:%d: 'needs' belongs inside a [group]", file, lineno);
        return -1;
    }
    if (nw < 2) {
        set_err(err, errlen, "%s:%d: needs: name the variables the group needs", file, lineno);
        return -1;
    }
    for (size_t i = 1; i < nw; i++) {
        if (!is_var_name(w[i], strlen(w[i]))) {
            set_err(err, errlen, "%s:%d: needs: '%s' is not a variable name (letters, digits, '_')", file, lineno, w[i]);
            return -1;
        }
        if (!g->missing && !env_lookup(env, w[i], strlen(w[i])) && !(g->missing = strdup(w[i]))) {
            set_err(err, errlen, "%s:%d: out of memory", file, lineno);
            return -1;
        }
    }
    return 0;
}

/* A group with an input takes its sizes from the files: its own lines (or,
 * for the defaults, their own lines) may not set what the files fix. */
static int check_input_knobs(const char *file, const spec_group *g, const spec_list *input, char *err,
                             size_t errlen) {
    for (size_t i = 0; input && i < g->nlists; i++) {
        const spec_list *l = &g->lists[i];
        if (fixed_by_input(l->knob)) {
            set_err(err, errlen, "%s:%d: knob '%s' does not go with 'input' (line %d): the input's files "
                    "fix the sizes, and score-std, head-sim are for synthetic input", file, l->line,
                    knobs[l->knob].name, input->line);
            return -1;
        }
    }
    return 0;
}

/* The checks that need a whole group: its command takes its knobs, a run
 * group has an attention method (its own or the defaults'), and a group
 * with an input sets no size of its own. */
static int check_group(const char *file, const sweep_spec *s, const spec_group *g, char *err,
                       size_t errlen) {
    for (size_t i = 0; i < g->nlists; i++) {
        const spec_list *l = &g->lists[i];
        if (!(knobs[l->knob].commands & (1u << g->command))) {
            set_err(err, errlen, "%s:%d: knob '%s' does not apply to `attnbench %s` (group '%s')",
                    file, l->line, knobs[l->knob].name, command_names[g->command], g->name);
            return -1;
        }
    }
    if (g->command == SPEC_RUN && !group_list(g, SK_ATTENTION) &&
        !group_list(&s->defaults, SK_ATTENTION)) {
        set_err(err, errlen, "%s:%d: group '%s' names no attention method", file, g->line, g->name);
        return -1;
    }
    const spec_list *input = group_list(g, SK_INPUT);
    return check_input_knobs(file, g, input ? input : group_list(&s->defaults, SK_INPUT), err, errlen);
}

/* "[NAME]": a new group g. 0, or -1 with err. */
static int parse_group_line(const char *file, int lineno, char **words, size_t nw, sweep_spec *out,
                            spec_group **g, char *err, size_t errlen) {
    size_t wl = strlen(words[0]);
    int ok = nw == 1 && wl > 2 && words[0][wl - 1] == ']';
    for (size_t i = 1; ok && i + 1 < wl; i++) ok = is_name_char((unsigned char)words[0][i]);
    if (!ok) {
        set_err(err, errlen, "%s:%d: a group line is [NAME], NAME of letters, digits, '-', '_', '.'", file, lineno);
        return -1;
    }
    for (size_t i = 0; i < out->ngroups; i++)
        if (strlen(out->groups[i].name) == wl - 2 && !strncmp(out->groups[i].name, words[0] + 1, wl - 2)) {
            set_err(err, errlen, "%s:%d: group '%s' defined twice (first at line %d)", file, lineno,
                    out->groups[i].name, out->groups[i].line);
            return -1;
        }
    char *name = strndup(words[0] + 1, wl - 2);
    spec_group *grown = name ? realloc(out->groups, (out->ngroups + 1) * sizeof *grown) : NULL;
    if (!grown) {
        free(name);
        set_err(err, errlen, "%s:%d: out of memory", file, lineno);
        return -1;
    }
    out->groups = grown;
    *g = &out->groups[out->ngroups++];
    memset(*g, 0, sizeof **g);
    (*g)->name = name;
    (*g)->line = lineno;
    (*g)->command = SPEC_RUN;
    return 0;
}

/* 1 with err when split_words found more words than a line may hold */
static int too_many_words(size_t nw, const char *file, int lineno, char *err, size_t errlen) {
    if (nw <= MAX_WORDS) return 0;
    set_err(err, errlen, "%s:%d: more than %d values on one line", file, lineno, MAX_WORDS - 1);
    return 1;
}

/* One line (comment already cut) into the spec. 0, or -1 with err. */
static int parse_line(char *line, const char *file, int lineno, const spec_env *env, sweep_spec *out,
                      spec_group **g, char *err, size_t errlen) {
    char *words[MAX_WORDS];
    /* the statement is the first word; variables are only replaced in knob values */
    char *first = line + strspn(line, " \t\r\n");
    size_t flen = strcspn(first, " \t\r\n");
    if (!flen) return 0;
    int is_group = first[0] == '[', is_command = flen == 7 && !strncmp(first, "command", 7),
        is_needs = flen == 5 && !strncmp(first, "needs", 5);
    if (!is_group && !is_command && !is_needs) {
        /* the knob's name is literal: only its values may use variables */
        char *values = first + flen + (first[flen] != '\0');
        first[flen] = '\0';
        if (knob_find(first) < 0) {
            set_err(err, errlen, "%s:%d: unknown knob '%s'", file, lineno, first);
            return -1;
        }
        if ((*g)->missing) return 0; /* a left-out group: its values may use what is not defined */
        char *expanded = strchr(values, '$') ? expand_vars(values, env, file, lineno, err, errlen) : NULL;
        if (strchr(values, '$') && !expanded) return -1;
        words[0] = first;
        size_t nw = 1 + split_words(expanded ? expanded : values, words + 1, MAX_WORDS - 1);
        int rc = too_many_words(nw, file, lineno, err, errlen) ? -1
                 : parse_knob_line(file, lineno, words, nw, *g, env, err, errlen);
        free(expanded);
        return rc;
    }
    size_t nw = split_words(line, words, MAX_WORDS);
    if (too_many_words(nw, file, lineno, err, errlen)) return -1;
    if (is_group) return parse_group_line(file, lineno, words, nw, out, g, err, errlen);
    if (is_needs) return parse_needs(file, lineno, words, nw, *g, env, err, errlen);
    if (*g == &out->defaults) {
        set_err(err, errlen, "%s:%d: 'command' belongs inside a [group]", file, lineno);
        return -1;
    }
    if (nw != 2 || (strcmp(words[1], "run") && strcmp(words[1], "ffn"))) {
        set_err(err, errlen, "%s:%d: command is 'run' or 'ffn'", file, lineno);
        return -1;
    }
    (*g)->command = strcmp(words[1], "ffn") == 0 ? SPEC_FFN : SPEC_RUN;
    return 0;
}

/* Moves the groups whose `needs` are not met out of the spec, into left_out. */
static int drop_left_out(sweep_spec *s) {
    size_t kept = 0;
    for (size_t i = 0; i < s->ngroups; i++) {
        spec_group *g = &s->groups[i];
        if (!g->missing) {
            s->groups[kept++] = *g;
            continue;
        }
        char **grown = realloc(s->left_out, (s->nleft_out + 1) * sizeof *grown);
        char *note = NULL;
        if (!grown || asprintf(&note, "%s (needs %s)", g->name, g->missing) < 0) {
            if (grown) s->left_out = grown;
            for (size_t j = i; j < s->ngroups; j++) s->groups[kept++] = s->groups[j];
            s->ngroups = kept;
            return -1;
        }
        s->left_out = grown;
        s->left_out[s->nleft_out++] = note;
        group_free(g);
    }
    s->ngroups = kept;
    return 0;
}

int spec_parse_env(const char *text, const char *file, const spec_env *env, sweep_spec *out,
                   char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->file = strdup(file ? file : "spec");
    out->defaults.name = strdup("");
    if (!out->file || !out->defaults.name) {
        set_err(err, errlen, "out of memory");
        spec_free(out);
        return -1;
    }
    file = out->file;
    spec_group *g = &out->defaults;
    const char *p = text;
    int lineno = 0;
    while (*p) {
        lineno++;
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char *line = strndup(p, len);
        p = eol ? eol + 1 : p + len;
        if (!line) { set_err(err, errlen, "%s:%d: out of memory", file, lineno); goto fail; }
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        int rc = parse_line(line, file, lineno, env, out, &g, err, errlen);
        free(line);
        if (rc) goto fail;
    }
    if (drop_left_out(out)) {
        set_err(err, errlen, "%s: out of memory", file);
        goto fail;
    }
    if (out->ngroups == 0) {
        if (out->nleft_out)
            set_err(err, errlen, "%s: every group is left out: %s%s (attnbench sweep --define NAME=VALUE, "
                    "or --capture DIR)", file, out->left_out[0], out->nleft_out > 1 ? ", ..." : "");
        else
            set_err(err, errlen, "%s: no [group] in the spec", file);
        goto fail;
    }
    if (check_input_knobs(file, &out->defaults, group_list(&out->defaults, SK_INPUT), err, errlen)) goto fail;
    for (size_t i = 0; i < out->ngroups; i++)
        if (check_group(file, out, &out->groups[i], err, errlen)) goto fail;
    return 0;
fail:
    spec_free(out);
    return -1;
}

int spec_parse(const char *text, const char *file, sweep_spec *out, char *err, size_t errlen) {
    return spec_parse_env(text, file, NULL, out, err, errlen);
}

int spec_load(const char *path, sweep_spec *out, char *err, size_t errlen) {
    return spec_load_env(path, NULL, out, err, errlen);
}

int spec_load_env(const char *path, const spec_env *env, sweep_spec *out, char *err, size_t errlen) {
    char *text;
    size_t len;
    /* a regular file of at most 1 MiB: a FIFO or /dev/zero is refused at once */
    if (readfile_all(path, READFILE_SPEC_MAX, &text, &len, err, errlen)) return -1;
    if (strlen(text) != len) {
        free(text);
        set_err(err, errlen, "%s: not a text file (NUL byte)", path);
        return -1;
    }
    const char *base = strrchr(path, '/');
    int rc = spec_parse_env(text, base ? base + 1 : path, env, out, err, errlen);
    free(text);
    return rc;
}

/* ---- which knobs a method reads -------------------------------------- */

/* A projection takes --kv-heads when the K/V heads it produces depend on it. */
static int projection_uses_kv_heads(const proj_scheme *p) {
    const size_t heads = 8;
    return p->kv_heads_for(heads, 1) != p->kv_heads_for(heads, 2) ||
           p->kv_heads_for(heads, 2) != p->kv_heads_for(heads, 4);
}

int spec_knob_applies(int knob, const char *attention, const char *projection) {
    unsigned mask = knob == SK_K ? KNOB_K : knob == SK_CHUNK ? KNOB_CHUNK
                  : knob == SK_FEATURES ? KNOB_FEATURES : 0;
    run_options d;
    options_defaults(&d, OPTS_RUN);
    if (mask) {
        const attn_method *m = attn_method_find(attention ? attention : d.attention);
        return m && (m->knobs & mask);
    }
    if (knob == SK_KV_HEADS) {
        const proj_scheme *p = proj_scheme_find(projection ? projection : d.projection);
        return p && projection_uses_kv_heads(p);
    }
    return 1;
}

/* The feed-forward layer's methods are `exact` and `topk`: every one reads
 * chunk; k where the attention method of that name reads k. */
static int ffn_knob_applies(int knob, const char *attention) {
    if (knob != SK_K) return 1;
    run_options d;
    options_defaults(&d, OPTS_FFN);
    const attn_method *m = attn_method_find(attention ? attention : d.attention);
    return m && (m->knobs & KNOB_K);
}

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
        if (knobs[k].kind == KIND_BOOL) { /* a flag: present for 1 */
            if (strcmp(e->value[k], "1") == 0 && !(p->argv[p->argc++] = option_text(knobs[k].name)))
                return -1;
            continue;
        }
        if (!(p->argv[p->argc++] = option_text(knobs[k].name))) return -1;
        if (!(p->argv[p->argc++] = strdup(e->value[k]))) return -1;
    }
    return 0;
}

/* Crosses knobs knob..SK_COUNT-1 given the values chosen before them. */
static int expand_from(expander *e, int knob) {
    if (knob == SK_COUNT) return add_point(e);
    const spec_list *l = e->list[knob];
    /* a point with an input takes its sizes from the files */
    int applies = l && !(e->value[SK_INPUT] && fixed_by_input(knob)) && (e->group->command == SPEC_FFN
                            ? ffn_knob_applies(knob, e->value[SK_ATTENTION])
                            : spec_knob_applies(knob, e->value[SK_ATTENTION], e->value[SK_PROJECTION]));
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
        unsigned takes = 1u << e.group->command;
        size_t prod = 1; /* the group's points at most (before knobs that do not apply drop out) */
        for (int k = 0; k < SK_COUNT; k++) {
            const spec_list *own = group_list(e.group, k);
            const spec_list *def = group_list(&s->defaults, k);
            e.list[k] = own ? own : (def && (knobs[k].commands & takes)) ? def : NULL;
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
    if (p->command == SPEC_FFN) len = (size_t)snprintf(s, cap, "ffn");
    for (int k = 0; k < SK_COUNT; k++) {
        if (!p->value[k] || !knobs[k].column) continue; /* warmup, reps, ref-rows: not what a point is */
        const char *name = knobs[k].name;
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
