/* options.c — the options of every command, from the registry (knobs.h);
 * strict number parsing; errors come back as text (options_read). */
#include "options.h"
#include "exit_status.h"
#include "kv_format.h"
#include "attention.h"
#include "knobs.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int quiet;
void bad_input_quiet(int on) { quiet = on; }

int bad_input(const char *cmd, const char *fmt, ...) {
    if (quiet) return EXIT_BAD_INPUT;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "attnbench %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_BAD_INPUT;
}

void options_defaults(run_options *o, opts_kind kind) {
    memset(o, 0, sizeof *o);
    o->attention = kind == OPTS_FFN ? "topk" : "vanilla";
    o->projection = "mha";
    o->n = kind == OPTS_FFN ? 4096 : kind == OPTS_CAPTURE ? 0 : 1024;
    o->temperature = 1.0;
    o->heads = 8;
    if (kind == OPTS_FFN) o->d_model = 768;
    o->d_head = 64;
    o->score_std = 4.0;
    o->head_sim = 0.0;
    o->seed = 1;
    o->threads = 1;
    o->warmup = 1;
    o->reps = 0;
    o->bits = kv_params_default.bits;
    o->kivi_group = kv_params_default.group;
    o->residual = kv_params_default.residual;
}

static int err_line(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int err_line(char *err, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return EXIT_BAD_INPUT;
}

int options_given(const run_options *o, const char *name) {
    int i = knob_find(name);
    return i >= 0 && o->given[i];
}

void options_usage(FILE *f, opts_kind kind) {
    for (int i = 0; i < KN_COUNT; i++) {
        const knob_def *d = &knob_defs[i];
        if (!(d->commands & (1u << kind))) continue;
        char lhs[40];
        snprintf(lhs, sizeof lhs, "--%s%s", d->name,
                 d->type == KT_FLAG ? "" : (d->lists & (1u << kind)) ? " N[,N...]"
                 : d->type == KT_NAME ? " NAME" : " N");
        char range[64] = "";
        if (d->type == KT_SIZE && d->max) snprintf(range, sizeof range, "; %zu..%zu", d->min, d->max);
        fprintf(f, "  %-20s %s%s%s\n", lhs, d->help, range,
                (d->lists & (1u << kind)) ? "; one value, or one per substituted layer" : "");
    }
}

/* a size value: digits only, no sign or space; 0 or 2 with err */
static int parse_size(const knob_def *d, const char *val, unsigned long long *v, char *err, size_t cap) {
    char *end;
    errno = 0;
    if (*val == '-' || *val == '+' || *val == ' ' || !*val)
        return err_line(err, cap, "--%s '%s': expected a non-negative integer", d->name, val);
    *v = strtoull(val, &end, 10);
    if (*end) return err_line(err, cap, "--%s '%s': expected a non-negative integer", d->name, val);
    if (errno == ERANGE || (d->type == KT_SIZE && *v > SIZE_MAX)) return err_line(err, cap, "--%s '%s': too large", d->name, val);
    /* a method knob's range: after the check that the method reads it (knobs.c) */
    const int method_knob = KNOB_IS_METHOD(d->bit);
    if (d->type == KT_SIZE && d->max && !method_knob && (*v < d->min || *v > d->max))
        return err_line(err, cap, "--%s %llu: must be %zu..%zu", d->name, *v, d->min, d->max);
    return 0;
}

/* "8,16,32": each a size in the knob's range; kept as text */
static int parse_list(const knob_def *d, const char *val, char *err, size_t cap) {
    char item[32];
    for (const char *p = val;;) {
        size_t len = strcspn(p, ",");
        if (!len || len >= sizeof item)
            return err_line(err, cap, "--%s '%s': expected non-negative integers separated by commas", d->name, val);
        memcpy(item, p, len);
        item[len] = '\0';
        unsigned long long v;
        int rc = parse_size(d, item, &v, err, cap);
        if (rc) return rc;
        if (!p[len]) return 0;
        p += len + 1;
    }
}

static int parse_value(opts_kind kind, int id, const char *val, run_options *o, char *err, size_t cap) {
    const knob_def *d = &knob_defs[id];
    char *p = (char *)o + d->offset, *end;
    errno = 0;
    if (d->lists & (1u << kind)) {
        if (!*val) return err_line(err, cap, "--%s: empty value", d->name);
        int rc = parse_list(d, val, err, cap);
        if (!rc) o->list[id] = val;
        if (!rc && !strchr(val, ',')) *(size_t *)p = (size_t)strtoull(val, NULL, 10);
        return rc;
    }
    switch (d->type) {
    case KT_NAME:
        if (!*val) return err_line(err, cap, "--%s: empty value", d->name);
        *(const char **)p = val;
        return 0;
    case KT_SIZE:
    case KT_U64: {
        unsigned long long v;
        int rc = parse_size(d, val, &v, err, cap);
        if (rc) return rc;
        if (d->type == KT_SIZE) *(size_t *)p = (size_t)v;
        else *(uint64_t *)p = (uint64_t)v;
        return 0;
    }
    case KT_REAL: {
        double v = strtod(val, &end);
        if (*val && !*end && errno == ERANGE) /* strtod: beyond double's range, or below its smallest normal */
            return err_line(err, cap, "--%s '%s': out of range (%s)", d->name, val,
                            fabs(v) < 1 ? "too small: it underflows a double" : "too large for a double");
        if (!*val || *end || !isfinite(v))
            return err_line(err, cap, "--%s '%s': expected a finite number", d->name, val);
        *(double *)p = v;
        return 0;
    }
    case KT_FLAG:
        if (!strcmp(val, "1") || !strcmp(val, "true")) *(int *)p = 1;
        else if (!strcmp(val, "0") || !strcmp(val, "false")) *(int *)p = 0;
        else return err_line(err, cap, "--%s='%s': expected 0 or 1", d->name, val);
        return 0;
    }
    return 2;
}

int options_read(run_options *o, opts_kind kind, int argc, char **argv, char *err, size_t cap) {
    const char *cmd = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return 1;
        if (strncmp(a, "--", 2) != 0) return err_line(err, cap, "unexpected argument '%s'", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        int id = -1;
        for (int k = 0; k < KN_COUNT && id < 0; k++)
            if (strlen(knob_defs[k].name) == nlen && !strncmp(knob_defs[k].name, name, nlen) &&
                (knob_defs[k].commands & (1u << kind)))
                id = k;
        if (id < 0) return err_line(err, cap, "unknown option '%.*s' (see attnbench %s --help)", (int)(nlen + 2), a, cmd);
        const knob_def *d = &knob_defs[id];
        if (o->given[id]) return err_line(err, cap, "--%s given twice", d->name);
        o->given[id] = 1;
        const char *val;
        if (eq) val = eq + 1;
        else if (d->type == KT_FLAG) val = "1";
        else if (i + 1 < argc) val = argv[++i];
        else return err_line(err, cap, "--%s needs a value", d->name);
        int rc = parse_value(kind, id, val, o, err, cap);
        if (rc) return rc;
    }
    return 0;
}

int options_parse(run_options *o, opts_kind kind, int argc, char **argv) {
    char err[512];
    int rc = options_read(o, kind, argc, argv, err, sizeof err);
    if (rc == 2) return bad_input(argv[0], "%s", err);
    return rc;
}
