/* sweep.c — `attnbench sweep SPEC`: every point of a spec, each in its own
 * process (this program's `run`/`ffn` with --row-only), one CSV row per point
 * appended as it finishes.
 *
 * A child gets a memory limit (RLIMIT_AS) and a time limit; whatever happens
 * to it, the point gets a row: the child's own (ok, or oom when the kernel's
 * workspace could not be allocated), or one built here from the point's knobs
 * (oom, timeout, crashed, invalid, skipped) with the reason in `note`. Rows
 * go out with one write(2) each (results_append), so an interrupted sweep
 * leaves whole rows only, and a rerun skips the points the file holds. */
#include "commands.h"
#include "env.h"
#include "measure.h"
#include "methods.h"
#include "options.h"
#include "results.h"
#include "spec.h"
#include "spec_hash.h"
#include "table.h"

#include <cblas.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* AddressSanitizer reserves terabytes of address space: RLIMIT_AS would stop
 * an instrumented child before main, so such builds run children unlimited
 * (points over the limit are still skipped from the workspace formula). */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

static const char *const CMD = "sweep";

typedef struct {
    const char *spec_path, *out;
    size_t mem_limit;
    double timeout_s;
    size_t jobs;
    size_t shard_i, shard_n;
    int dry_run;
    spec_env env;           /* --define, --capture; input values are globbed */
} sweep_opts;

static void usage(FILE *f) {
    fprintf(f,
        "usage: attnbench sweep SPEC [options]\n\n"
        "Runs every point of the sweep spec SPEC (bench/sweeps/NAME.sweep; the format is\n"
        "described at the top of bench/sweeps/default.sweep), each in its own process\n"
        "(`attnbench run ... --row-only`), and appends one CSV row per point to --out.\n"
        "Rerunning the same command skips the points the file already holds, so an\n"
        "interrupted sweep resumes where it stopped. Points that run with the same\n"
        "options (a default left out in one group and given in another) run once.\n\n"
        "options:\n"
        "  --out FILE         results CSV to append to (default results/sweep.csv);\n"
        "                     the .env sidecar beside it is written once\n"
        "  --mem-limit BYTES  address-space limit of each point (suffix K, M, G, T;\n"
        "                     default 80%% of MemTotal). Points whose workspace formula\n"
        "                     plus tensors exceed it are recorded as skipped, unrun;\n"
        "                     points that run out of it are recorded as oom\n"
        "  --timeout S        seconds a point may run before it is killed and recorded\n"
        "                     as timeout (default 600)\n"
        "  --jobs J           points run in parallel (default 1). Timings are only\n"
        "                     comparable when points run one at a time: J > 1 is for\n"
        "                     error and memory studies\n"
        "  --shard I/N        run only the I-th of N disjoint slices of the points\n"
        "                     (1 <= I <= N, round-robin); join the files with\n"
        "                     `attnbench merge`\n"
        "  --define NAME=VALUE  the value of ${NAME} in the spec (repeatable); a value may\n"
        "                     hold several words: --define 'STDS=1 2 4'\n"
        "  --capture DIR      a capture (`attnbench capture --out DIR`): defines CAPTURE\n"
        "                     (DIR), CAPTURE_N, CAPTURE_HEADS, CAPTURE_D_HEAD and\n"
        "                     CAPTURE_LOGIT_STDS (each layer's logit std, 3 digits) from\n"
        "                     DIR/capture.txt, for `input ${CAPTURE}/layer*` and its\n"
        "                     synthetic twins. Groups that `needs` a variable nobody\n"
        "                     defined are left out, with a note\n"
        "  --dry-run          list the points and what would happen to each; run nothing\n\n"
        "Row status: ok, oom, timeout, crashed (the signal in note), invalid (the run's\n"
        "error in note), skipped (unknown method, or over --mem-limit).\n"
        "Exit status: 0 the sweep went through (whatever the rows' status); 2 bad\n"
        "spec or options; 1 the results file could not be read or written.\n");
}

/* "16G", "512M", "1.5G", "123456" -> bytes */
static int parse_bytes(const char *s, size_t *out) {
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*s)) return -1;
    double v = strtod(s, &end);
    if (errno || end == s) return -1;
    double mult = 1;
    switch (toupper((unsigned char)*end)) {
    case 'K': mult = 1024.0; end++; break;
    case 'M': mult = 1048576.0; end++; break;
    case 'G': mult = 1073741824.0; end++; break;
    case 'T': mult = 1099511627776.0; end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'I') end++;
    if (*end == 'B' || *end == 'b') end++;
    if (*end) return -1;
    v *= mult;
    if (!(v >= 1) || v >= 1.8e19) return -1;
    *out = (size_t)v;
    return 0;
}

/* 80% of MemTotal, or 0 (no limit) where /proc/meminfo cannot be read */
static size_t default_mem_limit(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) break;
    fclose(f);
    return (size_t)(kb * 1024ull / 10 * 8);
}

static int parse_args(int argc, char **argv, sweep_opts *o) {
    memset(o, 0, sizeof *o);
    o->out = "results/sweep.csv";
    o->mem_limit = default_mem_limit();
    o->timeout_s = 600;
    o->jobs = 1;
    o->env.glob = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 1; }
        if (!strcmp(a, "--dry-run")) { o->dry_run = 1; continue; }
        if (a[0] != '-' || a[1] != '-') {
            if (o->spec_path) return bad_input(CMD, "unexpected argument '%s' (one SPEC only)", a);
            o->spec_path = a;
            continue;
        }
        int known = !strcmp(a, "--out") || !strcmp(a, "--mem-limit") || !strcmp(a, "--timeout") ||
                    !strcmp(a, "--jobs") || !strcmp(a, "--shard") || !strcmp(a, "--define") ||
                    !strcmp(a, "--capture");
        if (!known) return bad_input(CMD, "unknown option '%s' (see attnbench sweep --help)", a);
        if (!val) return bad_input(CMD, "%s needs a value", a);
        i++;
        if (!strcmp(a, "--out")) {
            if (!*val) return bad_input(CMD, "--out: empty file name");
            o->out = val;
        } else if (!strcmp(a, "--mem-limit")) {
            if (parse_bytes(val, &o->mem_limit)) return bad_input(CMD, "--mem-limit '%s': expected bytes, e.g. 4G or 500M", val);
        } else if (!strcmp(a, "--timeout")) {
            char *end;
            errno = 0;
            o->timeout_s = strtod(val, &end);
            if (errno || *end || !(o->timeout_s > 0) || o->timeout_s > 1e7)
                return bad_input(CMD, "--timeout '%s': expected positive seconds", val);
        } else if (!strcmp(a, "--jobs")) {
            char *end;
            errno = 0;
            unsigned long v = isdigit((unsigned char)*val) ? strtoul(val, &end, 10) : 0;
            if (!v || errno || *end || v > 1024) return bad_input(CMD, "--jobs '%s': expected 1..1024", val);
            o->jobs = v;
        } else if (!strcmp(a, "--define") || !strcmp(a, "--capture")) {
            char err[4400];
            int bad = !strcmp(a, "--define") ? spec_env_define(&o->env, val, err, sizeof err)
                                             : spec_env_capture(&o->env, val, err, sizeof err);
            if (bad) return bad_input(CMD, "%s", err);
        } else {
            char err[200];
            if (spec_parse_shard(val, &o->shard_i, &o->shard_n, err, sizeof err)) return bad_input(CMD, "%s", err);
        }
    }
    if (!o->spec_path) return bad_input(CMD, "no SPEC given (e.g. bench/sweeps/quick.sweep)");
    return 0;
}

/* ---- what one point needs ------------------------------------------------ */

/* VmPeak of this process, in bytes; 0 if unknown */
static size_t vm_peak_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    unsigned long long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmPeak: %llu kB", &kb) == 1) break;
    fclose(f);
    return (size_t)(kb * 1024);
}

/* The address space any point needs before its tensors: this program, its
 * libraries, OpenBLAS's threads and its buffer (allocated on the first BLAS
 * call: 128 MiB on common builds). Measured here, in the same program, after
 * one small sgemm — a lower bound of every child's (RLIMIT_AS counts it). */
static size_t runtime_bytes(void) {
    if (UNDER_ASAN) return 0; /* its shadow memory is address space no child is limited by */
    float a[32 * 32], c[32 * 32];
    for (int i = 0; i < 32 * 32; i++) a[i] = 1.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 32, 32, 32, 1.0f, a, 32, a, 32, 0.0f, c, 32);
    return vm_peak_bytes();
}

typedef struct {
    const sweep_point *pt;
    run_options o;          /* the point's options over run's / ffn's defaults */
    const char *skip;       /* non-NULL: record as skipped without running */
    char why[320];          /* the skip note */
    size_t need;            /* least bytes the point needs; 0 unknown */
    double weight;          /* estimated work, for the ETA */
    int done;               /* the results file already holds it */
    int dup;                /* runs with the options of an earlier point: left out */
} plan;

static double ffn_weight(const run_options *o, size_t d_model, size_t d_ff) {
    double calls = (double)o->warmup + (o->reps ? (double)o->reps : 3.0);
    double f = 4.0 * (double)o->n * (double)d_model * (double)d_ff;
    return calls * f + 1e9;
}

/* The point's options, whether it can run here, and how long it may take.
 * Memory: the runtime (see runtime_bytes), the tensors (x, the MHA weights,
 * q, k, v, out in float) and the larger of the kernel's workspace formula and
 * the float64 reference's q, k, v, out — a lower bound of the child's peak,
 * so no point that could fit is skipped. */
static void plan_point(const sweep_point *p, size_t mem_limit, size_t runtime, plan *pl) {
    memset(pl, 0, sizeof *pl);
    pl->pt = p;
    opts_kind kind = p->command == SPEC_FFN ? OPTS_FFN : OPTS_RUN;
    options_defaults(&pl->o, kind);
    char *args[512];
    int argc = 0;
    args[argc++] = (char *)(kind == OPTS_FFN ? "ffn" : "run");
    for (int i = 0; i < p->argc && argc < 511; i++) args[argc++] = p->argv[i];
    args[argc] = NULL;
    /* spec values are checked already; a refusal here is for the child to report */
    int saved = dup(2), devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved >= 0 && devnull >= 0) dup2(devnull, 2);
    int prc = options_parse(&pl->o, kind, argc, args);
    if (saved >= 0 && devnull >= 0) dup2(saved, 2);
    if (saved >= 0) close(saved);
    if (devnull >= 0) close(devnull);
    const run_options *o = &pl->o;
    if (prc) { pl->weight = 1e9; return; }

    size_t floats, doubles, ws;
    size_t rows = o->ref_rows && o->ref_rows < o->n ? o->ref_rows : o->n;
    if (kind == OPTS_FFN) {
        size_t d_model = o->d_model ? o->d_model : 768;
        size_t d_ff = o->d_ff ? o->d_ff : size_mul_sat(4, d_model);
        ffn_shape fs = {o->n, d_model, d_ff};
        size_t xs = size_mul_sat(o->n, d_model), w = size_mul_sat(d_model, d_ff);
        floats = size_mul_sat(4, size_add_sat(size_mul_sat(2, xs), size_mul_sat(2, w)));
        doubles = size_mul_sat(8, size_add_sat(size_add_sat(xs, size_mul_sat(2, w)), size_mul_sat(rows, d_model)));
        ws = ffn_exact_workspace(&fs, o->chunk); /* top-k holds this and a little more */
        pl->weight = ffn_weight(o, d_model, d_ff);
    } else {
        const attn_method *m = attn_method_find(o->attention);
        const proj_scheme *ps = proj_scheme_find(o->projection);
        if (!m || !ps) {
            pl->skip = "skipped";
            snprintf(pl->why, sizeof pl->why, "unknown method: %s '%s' is not in this build",
                     !m ? "attention" : "projection", !m ? o->attention : o->projection);
            return;
        }
        size_t d_model = o->d_model ? o->d_model : size_mul_sat(o->heads, o->d_head);
        size_t kv = ps->kv_heads_for(o->heads, o->kv_heads);
        if (!kv || kv > o->heads) kv = o->heads;
        attn_shape s = {o->heads, kv, o->n, o->d_head, o->causal};
        attn_knobs kn = {.k = o->k, .chunk = o->chunk, .features = o->features, .seed = o->seed,
                         .threads = o->threads};
        size_t qn = size_mul_sat(o->heads, size_mul_sat(o->n, o->d_head));
        size_t kvn = size_mul_sat(kv, size_mul_sat(o->n, o->d_head));
        size_t xw = size_add_sat(size_mul_sat(o->n, d_model),
                                 size_mul_sat(3, size_mul_sat(o->heads, size_mul_sat(d_model, o->d_head))));
        floats = size_mul_sat(4, size_add_sat(xw, size_add_sat(size_mul_sat(2, qn), size_mul_sat(2, kvn))));
        doubles = size_mul_sat(8, size_add_sat(size_mul_sat(3, qn),
                                               size_mul_sat(o->heads, size_mul_sat(rows, o->d_head))));
        /* the kernel's knob defaults are the run's business; 0 keeps this a lower bound */
        ws = (m->knobs & KNOB_CHUNK) && !kn.chunk ? 0 : m->workspace_bytes(&s, &kn);
        double calls = (double)o->warmup + (o->reps ? (double)o->reps : 3.0);
        double f = m->flops(&s, &kn), floor1s = o->reps ? 0 : 5e9; /* reps 0: >= 1 s of calls */
        double ref = 4.0 * 4.0 * (double)o->heads * (double)rows * (double)o->n * (double)o->d_head;
        pl->weight = fmax(calls * f, floor1s) + ref + 1e9;
    }
    if (o->input) return; /* the shapes are in the files */
    /* each thread past the first: its stack (8 MiB) and, once it calls BLAS,
     * an OpenBLAS buffer of its own (128 MiB) — without room for it OpenBLAS
     * spins instead of failing */
    if (o->threads > 1)
        runtime = size_add_sat(runtime, size_mul_sat(o->threads - 1, (size_t)136 << 20));
    size_t tensors = size_add_sat(floats, ws > doubles ? 0 : doubles - ws);
    pl->need = size_add_sat(runtime, size_add_sat(tensors, ws));
    if (mem_limit && pl->need > mem_limit) {
        const double G = 1073741824.0;
        pl->skip = "skipped";
        snprintf(pl->why, sizeof pl->why,
                 "needs at least %.3g GiB (workspace %.3g, tensors %.3g, runtime %.3g), over --mem-limit %.3g GiB",
                 pl->need / G, ws / G, tensors / G, runtime / G, mem_limit / G);
    }
}

/* A row built here, for a point whose child gave none (or never ran): the
 * point's knobs over the command's defaults, as run would have recorded them. */
static void point_row(const plan *pl, const char *status, const char *note, result_row *r) {
    const sweep_point *p = pl->pt;
    const run_options *o = &pl->o;
    row_init(r);
    if (p->command == SPEC_FFN) {
        row_set(r, COL_layer, "ffn");
        row_set(r, COL_attention, "%s", o->attention);
        if (!o->input) row_set(r, COL_n, "%zu", o->n); /* else the files' */
    } else {
        row_set(r, COL_layer, "attention");
        row_set(r, COL_attention, "%s", o->attention);
        row_set(r, COL_projection, "%s", o->projection);
        if (!o->input) { /* else the sizes are the files', unknown here */
            row_set(r, COL_n, "%zu", o->n);
            row_set(r, COL_heads, "%zu", o->heads);
            row_set(r, COL_d_head, "%zu", o->d_head);
        }
        row_set(r, COL_causal, "%d", o->causal);
        if (!o->input) {
            row_set(r, COL_score_std, "%g", o->score_std);
            row_set(r, COL_head_sim, "%g", o->head_sim);
        }
    }
    row_set(r, COL_seed, "%llu", (unsigned long long)o->seed);
    row_set(r, COL_threads, "%zu", o->threads);
    row_set(r, COL_input, "%s", o->input ? o->input : "synthetic");
    /* the knobs not set above, as the spec gave them */
    for (int k = 0; k < SK_COUNT; k++) {
        int col = spec_knob_column(k);
        if (col >= 0 && p->value[k] && !*row_get(r, col)) row_set(r, col, "%s", p->value[k]);
    }
    row_set(r, COL_status, "%s", status);
    if (note && *note) row_set(r, COL_note, "%s", note);
}

/* ---- the points a results file already holds ---------------------------- */

/* numbers compare as numbers ("4" is "4.0"), the rest as text */
static int same_value(const char *a, const char *b) {
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    /* rows print reals with %g: six significant digits */
    if (*a && *b && !*ea && !*eb) return x == y || fabs(x - y) <= 1e-5 * fmax(fabs(x), fabs(y));
    return strcmp(a, b) == 0;
}

/* Two points are one configuration when the options they run with are the
 * same, whatever their spelling: one leaves score-std to the default 4 and
 * another says 4 (or 4.0). The key: the row point_row builds from the
 * plan's parsed options, plus the knobs no column shows. */
typedef struct {
    char *key;
    size_t at;
} point_key;

static int point_key_cmp(const void *a, const void *b) {
    const point_key *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->at > y->at) - (x->at < y->at);
}

/* Marks .dup on every plan but the first of each set of equivalent ones.
 * 0, or -1 when out of memory (nothing marked). */
static int mark_equivalent(plan *pl, size_t count) {
    point_key *keys = calloc(count ? count : 1, sizeof *keys);
    int rc = -1;
    if (!keys) return -1;
    for (size_t i = 0; i < count; i++) {
        result_row r;
        point_row(&pl[i], "", "", &r);
        char *line = row_to_line(&r);
        row_free(&r);
        size_t len = line ? strlen(line) + 96 : 0;
        keys[i].key = line ? malloc(len) : NULL;
        keys[i].at = i;
        if (!keys[i].key) { free(line); goto out; }
        snprintf(keys[i].key, len, "%d|%zu|%zu|%zu|%s", (int)pl[i].pt->command, pl[i].o.warmup, pl[i].o.reps,
                 pl[i].o.ref_rows, line);
        free(line);
    }
    qsort(keys, count, sizeof *keys, point_key_cmp);
    for (size_t i = 1; i < count; i++)
        if (!strcmp(keys[i].key, keys[i - 1].key)) pl[keys[i].at].dup = 1;
    rc = 0;
out:
    for (size_t i = 0; i < count; i++) free(keys[i].key);
    free(keys);
    return rc;
}

/* The point's knobs that the row shows: each knob the point sets must be in
 * the row with its value; knobs the point leaves to the defaults match any
 * value. Returns how many knobs matched (the more, the better the match),
 * or -1 when the row is not this point. */
static int row_match(const csv_table *t, size_t r, const int *colmap, int layer_col,
                     const sweep_point *p) {
    const char *layer = table_get(t, r, layer_col);
    if (layer_col >= 0 && strcmp(layer, p->command == SPEC_FFN ? "ffn" : "attention")) return -1;
    int score = 0;
    for (int k = 0; k < SK_COUNT; k++) {
        if (!p->value[k] || colmap[k] == -2) continue;
        if (colmap[k] < 0) return -1; /* the file lacks a column the point sets */
        if (!same_value(table_get(t, r, colmap[k]), p->value[k])) return -1;
        score++;
    }
    return score;
}

/* Marks pl[i].done for the points FILE holds. A row counts for the unmatched
 * point it matches best, so two points that differ only in a knob one of them
 * leaves to its default each find their own row. Rows skipped as "unknown
 * method" whose method this build has do not count: those points run now. */
static void mark_done(const csv_table *t, plan *pl, size_t np) {
    int colmap[SK_COUNT];
    for (int k = 0; k < SK_COUNT; k++) {
        int col = spec_knob_column(k);
        colmap[k] = col < 0 ? -2 : table_col(t, result_column_names[col]);
    }
    int layer_col = table_col(t, "layer"), status_col = table_col(t, "status"), note_col = table_col(t, "note");
    int att_col = table_col(t, "attention"), proj_col = table_col(t, "projection");
    for (size_t r = 0; r < t->nrows; r++) {
        if (!strcmp(table_get(t, r, status_col), "skipped") &&
            !strncmp(table_get(t, r, note_col), "unknown method", 14)) {
            const char *a = table_get(t, r, att_col), *pr = table_get(t, r, proj_col);
            if ((!*a || attn_method_find(a)) && (!*pr || proj_scheme_find(pr))) continue;
        }
        int best = -1;
        size_t bi = 0;
        for (size_t i = 0; i < np; i++) {
            if (pl[i].done) continue;
            int s = row_match(t, r, colmap, layer_col, pl[i].pt);
            if (s > best) { best = s; bi = i; }
        }
        if (best >= 0) pl[bi].done = 1;
    }
}

/* Reads FILE for the resume: checks its header, drops a torn last line
 * (truncating it away unless dry), and marks the points it holds.
 * 0 (also when FILE does not exist), or -1 after a message. */
static int load_existing(const char *path, plan *pl, size_t np, int dry) {
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) return 0;
        fprintf(stderr, "attnbench sweep: %s: %s\n", path, strerror(errno));
        return -1;
    }
    /* a device or a pipe holds no rows to resume from (and /dev/zero never ends) */
    if (!S_ISREG(st.st_mode)) return 0;
    int fd = -1;
    if (!dry) { /* hold the lock while reading and repairing: other writers append whole rows */
        fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX) != 0) {
            fprintf(stderr, "attnbench sweep: %s: %s\n", path, strerror(errno));
            if (fd >= 0) close(fd);
            return -1;
        }
    }
    csv_table t;
    char err[512];
    int rc = -1;
    if (table_read(path, &t, err, sizeof err)) {
        fprintf(stderr, "attnbench sweep: %s\n", err);
        goto out;
    }
    if (t.ncols) {
        char *head = results_header_line();
        int same = head != NULL;
        if (same) {
            size_t len = strlen(head) - 1, pos = 0;
            same = t.ncols == COL_COUNT;
            for (size_t c = 0; same && c < t.ncols; c++) {
                size_t cl = strlen(t.header[c]);
                same = pos + cl <= len && !strncmp(head + pos, t.header[c], cl);
                pos += cl + 1;
            }
        }
        free(head);
        if (!same) {
            fprintf(stderr, "attnbench sweep: %s: its header is not this attnbench's columns; write to a new --out\n", path);
            table_free(&t);
            goto out;
        }
    }
    if (t.torn_bytes) {
        fprintf(stderr, "attnbench sweep: %s: %s a torn last line (%zu bytes, no newline)\n", path,
                dry ? "would drop" : "dropped", t.torn_bytes);
        if (!dry && ftruncate(fd, (off_t)t.whole_bytes) != 0) {
            fprintf(stderr, "attnbench sweep: %s: cannot truncate the torn line: %s\n", path, strerror(errno));
            table_free(&t);
            goto out;
        }
    }
    if (t.bad_rows)
        fprintf(stderr, "attnbench sweep: %s: ignored %zu malformed row(s)\n", path, t.bad_rows);
    mark_done(&t, pl, np);
    table_free(&t);
    rc = 0;
out:
    if (fd >= 0) close(fd);
    return rc;
}

/* --out results/x.csv: creates results/ when it is missing (one level) */
static int make_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return 0;
    char *dir = strndup(path, (size_t)(slash - path));
    if (!dir) return -1;
    int rc = 0;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "attnbench sweep: cannot create %s: %s\n", dir, strerror(errno));
        rc = -1;
    }
    free(dir);
    return rc;
}

/* ---- children -------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
} buf;

static void buf_add(buf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (b->len + n + 1 > cap) cap *= 2;
        if (cap > (1u << 22)) return; /* a runaway child: keep the first 4 MiB */
        char *grown = realloc(b->data, cap);
        if (!grown) return;
        b->data = grown;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

typedef struct {
    plan *pl;
    pid_t pid;
    int fd[2];           /* child's stdout, stderr; -1 once closed */
    buf out, err;
    double start, deadline;
    int timed_out, exited, wstatus;
} slot;

/* Starts the child for pl: its own process group (so a timeout kills all of
 * it), killed if the sweep dies, RLIMIT_AS = mem_limit. 0, or -1. */
static int child_start(slot *s, plan *pl, const sweep_opts *so) {
    memset(s, 0, sizeof *s);
    s->pl = pl;
    s->fd[0] = s->fd[1] = -1;
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC)) return -1;
    if (pipe2(pe, O_CLOEXEC)) { close(po[0]); close(po[1]); return -1; }
    const sweep_point *p = pl->pt;
    char **argv = calloc((size_t)p->argc + 4, sizeof *argv);
    if (!argv) { close(po[0]); close(po[1]); close(pe[0]); close(pe[1]); return -1; }
    int a = 0;
    argv[a++] = "attnbench";
    argv[a++] = p->command == SPEC_FFN ? "ffn" : "run";
    for (int i = 0; i < p->argc; i++) argv[a++] = p->argv[i];
    argv[a++] = "--row-only";
    argv[a] = NULL;
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        if (so->mem_limit && !UNDER_ASAN) {
            struct rlimit rl = {so->mem_limit, so->mem_limit};
            setrlimit(RLIMIT_AS, &rl);
        }
        execv("/proc/self/exe", argv);
        fprintf(stderr, "attnbench sweep: cannot execute /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    free(argv);
    close(po[1]);
    close(pe[1]);
    if (pid < 0) { close(po[0]); close(pe[0]); return -1; }
    setpgid(pid, pid); /* also here, so the group exists before any kill */
    s->pid = pid;
    s->fd[0] = po[0];
    s->fd[1] = pe[0];
    s->start = now_seconds();
    s->deadline = s->start + so->timeout_s;
    return 0;
}

/* the last non-empty line of text (in place), or "" */
static const char *last_line(char *text) {
    if (!text) return "";
    size_t len = strlen(text);
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) text[--len] = '\0';
    char *nl = strrchr(text, '\n');
    return nl ? nl + 1 : text;
}

static int mentions_memory(const char *text) {
    static const char *const words[] = {"out of memory", "cannot allocate", "enomem", "memory allocation",
                                        "bad_alloc", "allocate too many", "mmap", NULL};
    for (int i = 0; words[i]; i++)
        if (strcasestr(text, words[i])) return 1;
    return 0;
}

/* The CSV line the child printed (its last line), as a row; -1 when there is none. */
static int parse_child_row(char *text, result_row *r) {
    const char *line = last_line(text);
    char *head = results_header_line();
    if (!*line || !head) { free(head); return -1; }
    size_t hl = strlen(head), ll = strlen(line);
    char *csv = malloc(hl + ll + 2);
    if (!csv) { free(head); return -1; }
    memcpy(csv, head, hl);
    memcpy(csv + hl, line, ll);
    csv[hl + ll] = '\n';
    free(head);
    csv_table t;
    int rc = -1;
    if (table_parse(csv, hl + ll + 1, &t, NULL, 0) == 0) {
        if (t.nrows == 1 && t.ncols == COL_COUNT && !t.bad_rows) {
            for (int c = 0; c < COL_COUNT; c++)
                if (t.rows[0][c][0]) row_set(r, c, "%s", t.rows[0][c]);
            rc = 0;
        }
        table_free(&t);
    }
    free(csv);
    return rc;
}

/* The row for a finished child, from its exit and its output. */
static void child_row(slot *s, result_row *r, char *status_out, size_t cap) {
    char note[600];
    char *errtext = s->err.data ? s->err.data : "";
    int mem = mentions_memory(errtext);
    const char *line = last_line(errtext);
    int code = WIFEXITED(s->wstatus) ? WEXITSTATUS(s->wstatus) : -1;
    const char *status = NULL;
    if (s->timed_out) {
        snprintf(note, sizeof note, "killed after %.4g s (--timeout)", s->deadline - s->start);
        status = "timeout";
    } else if (WIFSIGNALED(s->wstatus)) {
        int sig = WTERMSIG(s->wstatus);
        snprintf(note, sizeof note, "signal %d (%s)%s%s%s", sig, strsignal(sig),
                 sig == SIGKILL ? "; the kernel's OOM killer?" : "", *line ? ": " : "", line);
        status = mem ? "oom" : "crashed";
    } else if ((code == 0 || code == 3) && parse_child_row(s->out.data, r) == 0) {
        snprintf(status_out, cap, "%s", row_get(r, COL_status));
        return;
    } else if (code == 3) {
        snprintf(note, sizeof note, "out of memory%s%s", *line ? ": " : "", line);
        status = "oom";
    } else if (code == 2) {
        snprintf(note, sizeof note, "%s", *line ? line : "exit 2 (bad input)");
        status = "invalid";
        if (strstr(line, "unknown --attention") || strstr(line, "unknown --projection") ||
            strstr(line, "unknown command")) {
            snprintf(note, sizeof note, "unknown method: %s", line);
            status = "skipped";
        }
    } else if (code == 0) {
        snprintf(note, sizeof note, "exit 0 without a CSV row on stdout");
        status = "crashed";
    } else {
        snprintf(note, sizeof note, "exit %d%s%s", code, *line ? ": " : "", line);
        status = mem ? "oom" : "crashed";
    }
    point_row(s->pl, status, note, r);
    snprintf(status_out, cap, "%s", status);
}

/* ---- progress ------------------------------------------------------------ */

typedef struct {
    int tty;
    double t0;
    size_t total, finished;
    double weight_total, weight_done;
    char shown[256];       /* current point's description */
    size_t counts[8];      /* rows by status */
    char **warnings;       /* child warnings already shown */
    size_t nwarnings;
} progress;

static const char *const statuses[] = {"ok", "oom", "timeout", "crashed", "invalid", "skipped", "other"};

static void count_status(progress *pg, const char *st) {
    int i = 0;
    while (i < 6 && strcmp(statuses[i], st)) i++;
    pg->counts[i]++;
}

static void fmt_duration(double s, char *out, size_t cap) {
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(out, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(out, cap, "%ldm%02lds", t / 60, t % 60);
    else snprintf(out, cap, "%lds", t);
}

static void progress_show(progress *pg, size_t running) {
    if (!pg->tty) return;
    double el = now_seconds() - pg->t0;
    char e[32], eta[32] = "?";
    fmt_duration(el, e, sizeof e);
    if (pg->weight_done > 0 && pg->weight_total >= pg->weight_done)
        fmt_duration(el * (pg->weight_total - pg->weight_done) / pg->weight_done, eta, sizeof eta);
    char more[32] = "", line[512];
    if (running > 1) snprintf(more, sizeof more, " (+%zu more)", running - 1);
    int len = snprintf(line, sizeof line, "[%zu/%zu] %s elapsed, ETA %s | %s%s", pg->finished, pg->total,
                       e, eta, pg->shown, more);
    /* one terminal line, or the \r cannot take it back */
    struct winsize ws;
    size_t width = ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10 ? ws.ws_col : 80;
    if (len > 0 && (size_t)len >= width && width < sizeof line) line[width - 1] = '\0';
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
}

static void progress_clear(progress *pg) {
    if (pg->tty) fprintf(stderr, "\r\033[K");
}

/* the children's warnings (OpenBLAS on a generic core, ...), each once */
static void show_warnings(progress *pg, const char *errtext) {
    if (!errtext) return;
    const char *p = errtext;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len && memmem(p, len, "warning", 7)) {
            int seen = 0;
            for (size_t i = 0; i < pg->nwarnings && !seen; i++)
                seen = strlen(pg->warnings[i]) == len && !strncmp(pg->warnings[i], p, len);
            char **grown = seen ? NULL : realloc(pg->warnings, (pg->nwarnings + 1) * sizeof *grown);
            if (grown) {
                pg->warnings = grown;
                pg->warnings[pg->nwarnings] = strndup(p, len);
                if (pg->warnings[pg->nwarnings]) {
                    progress_clear(pg);
                    fprintf(stderr, "%s\n", pg->warnings[pg->nwarnings++]);
                }
            }
        }
        p += len + (eol ? 1 : 0);
    }
}

/* ---- the sweep ------------------------------------------------------------- */

/* Appends the row; writes the .env sidecar with the file's first row. */
static int append_row(const char *out, const result_row *r, int *sidecar_done) {
    int wrote_header = 0;
    if (results_append(out, r, &wrote_header) != 0) {
        fprintf(stderr, "attnbench sweep: cannot append to %s: %s\n", out, strerror(errno));
        return -1;
    }
    if (!*sidecar_done) {
        char *envp = env_sidecar_path(out);
        struct stat st;
        int need = envp && (wrote_header || stat(envp, &st) != 0);
        free(envp);
        if (need && env_write_sidecar(out) != 0) {
            fprintf(stderr, "attnbench sweep: cannot write the .env sidecar of %s: %s\n", out, strerror(errno));
            return -1;
        }
        *sidecar_done = 1;
    }
    return 0;
}

static void record(progress *pg, const plan *pl, const char *status) {
    pg->finished++;
    if (!pl->skip) pg->weight_done += pl->weight;
    count_status(pg, status);
}

static void dry_run_list(plan *pl, size_t np, const sweep_opts *so) {
    size_t run = 0, done = 0, skip = 0;
    for (size_t i = 0; i < np; i++) {
        const sweep_point *p = pl[i].pt;
        const char *what = pl[i].done ? "done" : pl[i].skip ? "skip" : "run";
        printf("%4zu %-4s attnbench %s", p->index, what, p->command == SPEC_FFN ? "ffn" : "run");
        for (int a = 0; a < p->argc; a++) printf(" %s", p->argv[a]);
        if (pl[i].skip && !pl[i].done) printf("   # %s", pl[i].why);
        printf("\n");
        if (pl[i].done) done++;
        else if (pl[i].skip) skip++;
        else run++;
    }
    printf("# %zu point(s)%s: %zu to run, %zu skipped, %zu already in %s\n", np,
           so->shard_n ? " in this shard" : "", run, skip, done, so->out);
}

int cmd_sweep(int argc, char **argv) {
    sweep_opts so;
    int rc = parse_args(argc, argv, &so);
    if (rc) {
        spec_env_free(&so.env);
        return rc == 1 ? 0 : rc;
    }

    sweep_spec spec;
    char err[4400];
    rc = spec_load_env(so.spec_path, &so.env, &spec, err, sizeof err);
    spec_env_free(&so.env);
    if (rc) return bad_input(CMD, "%s", err);
    if (spec.nleft_out) { /* one line: what was left out and how to add it */
        fprintf(stderr, "attnbench sweep: %s: left out", spec.file);
        for (size_t i = 0; i < spec.nleft_out; i++) fprintf(stderr, "%s %s", i ? "," : "", spec.left_out[i]);
        fprintf(stderr, "; give the variables with --define NAME=VALUE or --capture DIR\n");
    }
    sweep_point *points;
    size_t npoints;
    rc = spec_expand(&spec, &points, &npoints, err, sizeof err);
    if (rc) {
        spec_free(&spec);
        if (rc == -2) return bad_input(CMD, "%s", err);
        fprintf(stderr, "attnbench sweep: %s\n", err);
        return 1;
    }
    plan *pl = calloc(npoints ? npoints : 1, sizeof *pl);
    slot *slots = calloc(so.jobs, sizeof *slots);
    if (!pl || !slots) {
        fprintf(stderr, "attnbench sweep: out of memory\n");
        rc = 1;
        goto done;
    }
    size_t np = 0, runtime = runtime_bytes();
    for (size_t i = 0; i < npoints; i++) plan_point(&points[i], so.mem_limit, runtime, &pl[i]);
    /* equivalent points are left out before the shards are cut, so every
     * shard leaves out the same ones; then the shard keeps its own */
    (void)mark_equivalent(pl, npoints); /* out of memory: run them all */
    uint64_t points_hash = SPEC_HASH_INIT;
    for (size_t i = 0; i < npoints; i++) {
        if (pl[i].dup) continue;
        points_hash = spec_point_hash(points_hash, pl[i].pt);
        if (spec_in_shard(pl[i].pt->index, so.shard_i, so.shard_n)) pl[np++] = pl[i];
    }
    env_note_sweep(so.spec_path, points_hash, so.shard_i, so.shard_n);
    if (load_existing(so.out, pl, np, so.dry_run)) { rc = 1; goto done; }
    if (!so.dry_run && make_parent_dir(so.out)) { rc = 1; goto done; }
    if (so.dry_run) {
        dry_run_list(pl, np, &so);
        rc = 0;
        goto done;
    }

    progress pg = {.tty = isatty(2), .t0 = now_seconds()};
    size_t already = 0;
    for (size_t i = 0; i < np; i++) {
        if (pl[i].done) { already++; continue; }
        pg.total++;
        pg.weight_total += pl[i].skip ? 0 : pl[i].weight;
    }
    if (UNDER_ASAN && so.mem_limit)
        fprintf(stderr, "attnbench sweep: note: an AddressSanitizer build runs points without RLIMIT_AS\n");
    fprintf(stderr, "attnbench sweep: %s: %zu point(s)%s, %zu already in %s, %zu to go\n", spec.file, np,
            so.shard_n ? " in this shard" : "", already, so.out, pg.total);

    int sidecar_done = 0, io_failed = 0;
    size_t next = 0, running = 0;
    while (!io_failed) {
        /* start points while slots are free; skipped ones are recorded at once */
        while (running < so.jobs && next < np && !io_failed) {
            plan *p = &pl[next++];
            if (p->done) continue;
            if (p->skip) {
                result_row r;
                point_row(p, p->skip, p->why, &r);
                if (append_row(so.out, &r, &sidecar_done)) io_failed = 1;
                else record(&pg, p, "skipped");
                row_free(&r);
                continue;
            }
            size_t si = 0;
            while (slots[si].pl) si++;
            if (child_start(&slots[si], p, &so)) {
                fprintf(stderr, "attnbench sweep: cannot start a child: %s\n", strerror(errno));
                io_failed = 1;
                break;
            }
            running++;
            char *d = spec_point_describe(p->pt);
            snprintf(pg.shown, sizeof pg.shown, "%s", d ? d : "");
            free(d);
        }
        if (running == 0) break;
        progress_show(&pg, running);

        /* wait for output, an exit, a deadline, or the next progress tick */
        struct pollfd fds[2 * 1024];
        slot *owner[2 * 1024];
        int which[2 * 1024];
        nfds_t nf = 0;
        double now = now_seconds(), wait_s = pg.tty ? 1.0 : 5.0;
        for (size_t i = 0; i < so.jobs; i++) {
            slot *s = &slots[i];
            if (!s->pl) continue;
            for (int f = 0; f < 2; f++)
                if (s->fd[f] >= 0) {
                    fds[nf] = (struct pollfd){.fd = s->fd[f], .events = POLLIN};
                    owner[nf] = s;
                    which[nf++] = f;
                }
            if (s->fd[0] < 0 && s->fd[1] < 0) wait_s = fmin(wait_s, 0.02); /* closed, not yet reaped */
            if (!s->timed_out) wait_s = fmin(wait_s, s->deadline - now);
        }
        int ms = wait_s <= 0 ? 0 : (int)ceil(wait_s * 1000);
        int pr = poll(fds, nf, ms);
        if (pr < 0 && errno != EINTR) {
            fprintf(stderr, "attnbench sweep: poll: %s\n", strerror(errno));
            io_failed = 1;
            break;
        }
        for (nfds_t i = 0; pr > 0 && i < nf; i++) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            char chunk[8192];
            ssize_t got = read(fds[i].fd, chunk, sizeof chunk);
            if (got > 0) {
                buf_add(which[i] ? &owner[i]->err : &owner[i]->out, chunk, (size_t)got);
            } else if (got == 0 || errno != EINTR) {
                close(fds[i].fd);
                owner[i]->fd[which[i]] = -1;
            }
        }
        now = now_seconds();
        for (size_t i = 0; i < so.jobs; i++) {
            slot *s = &slots[i];
            if (!s->pl) continue;
            if (!s->exited && waitpid(s->pid, &s->wstatus, WNOHANG) == s->pid) s->exited = 1;
            if (!s->exited && !s->timed_out && now >= s->deadline) {
                kill(-s->pid, SIGKILL);
                s->timed_out = 1;
            }
            if (s->exited && (s->fd[0] >= 0 || s->fd[1] >= 0) && s->timed_out)
                kill(-s->pid, SIGKILL); /* a leftover grandchild holds the pipes */
            if (!s->exited || s->fd[0] >= 0 || s->fd[1] >= 0) continue;
            if (!s->timed_out) kill(-s->pid, SIGKILL); /* nothing of the point outlives it */
            result_row r;
            char status[32];
            row_init(&r);
            child_row(s, &r, status, sizeof status);
            show_warnings(&pg, s->err.data);
            if (append_row(so.out, &r, &sidecar_done)) io_failed = 1;
            else record(&pg, s->pl, status);
            row_free(&r);
            free(s->out.data);
            free(s->err.data);
            memset(s, 0, sizeof *s);
            running--;
        }
    }
    /* on an I/O failure, stop the points still running */
    for (size_t i = 0; i < so.jobs; i++)
        if (slots[i].pl) {
            kill(-slots[i].pid, SIGKILL);
            waitpid(slots[i].pid, NULL, 0);
            if (slots[i].fd[0] >= 0) close(slots[i].fd[0]);
            if (slots[i].fd[1] >= 0) close(slots[i].fd[1]);
            free(slots[i].out.data);
            free(slots[i].err.data);
        }
    progress_clear(&pg);
    char el[32];
    fmt_duration(now_seconds() - pg.t0, el, sizeof el);
    fprintf(stderr, "attnbench sweep: %s%zu of %zu point(s) in %s:", io_failed ? "stopped after " : "",
            pg.finished, pg.total, el);
    for (int i = 0; i < 7; i++)
        if (pg.counts[i]) fprintf(stderr, " %zu %s", pg.counts[i], statuses[i]);
    fprintf(stderr, "%s -> %s%s\n", pg.finished ? "" : " nothing done", so.out,
            io_failed ? " (the same command resumes)" : "");
    for (size_t i = 0; i < pg.nwarnings; i++) free(pg.warnings[i]);
    free(pg.warnings);
    rc = io_failed ? 1 : 0;
done:
    free(slots);
    free(pl);
    spec_points_free(points, npoints);
    spec_free(&spec);
    return rc;
}
