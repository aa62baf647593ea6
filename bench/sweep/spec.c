/* spec.c — the spec parser: lines, groups, commands, needs (format in spec.h).
 * The knob rules are spec_knobs.c, variables spec_env.c, points spec_points.c. */
#include "spec.h"
#include "spec_internal.h"

#include "readfile.h"

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

/* ---- values of one knob ------------------------------------------------ */

const spec_list *group_list(const spec_group *g, int knob) {
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
    int knob = spec_knob_find(w[0]);
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
                    spec_knob_name(l->knob), input->line);
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
        if (!spec_knob_takes(l->knob, g->command)) {
            set_err(err, errlen, "%s:%d: knob '%s' does not apply to `attnbench %s` (group '%s')",
                    file, l->line, spec_knob_name(l->knob), spec_command_name(g->command), g->name);
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
        if (spec_knob_find(first) < 0) {
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
    if ((*g)->command_line) { /* as a knob given twice: the group would silently take the last */
        set_err(err, errlen, "%s:%d: 'command' given twice in group '%s' (first at line %d)", file, lineno, (*g)->name,
                (*g)->command_line);
        return -1;
    }
    int command = nw == 2 ? spec_command_find(words[1]) : -1;
    if (command < 0) {
        set_err(err, errlen, "%s:%d: command is 'run', 'ffn', 'decode' or 'eval'", file, lineno);
        return -1;
    }
    (*g)->command = command;
    (*g)->command_line = lineno;
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

