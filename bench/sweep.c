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
#include "cli.h"
#include "commands.h"
#include "env.h"
#include "measure.h"
#include "methods.h"
#include "options.h"
#include "results.h"
#include "spec.h"
#include "spec_hash.h"
#include "sweep_out.h"
#include "point_id.h"
#include "readfile.h"
#include "csv_table.h"

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
    int dry_run, check;
    resume_mode resume;
    const char *capture;    /* --capture DIR, or NULL */
    spec_env env;           /* --define, --capture; input values are globbed */
} sweep_opts;

enum { O_OUT, O_MEM, O_TIMEOUT, O_JOBS, O_SHARD, O_DEFINE, O_CAPTURE, O_RESUME, O_DRY, O_CHECK, NOPTS };
static const cli_opt opts[NOPTS] = {
    [O_OUT] = {"out", "FILE", 0, "results CSV to append to (default results/sweep.csv; not a directory);\n"
               "                       its .env sidecar beside it records what made the rows"},
    [O_MEM] = {"mem-limit", "BYTES", 0, "address-space limit of each point (suffix K, M, G, T; default 80%\n"
               "                       of MemTotal). Points whose formula (workspace, tensors, and the\n"
               "                       program with OpenBLAS's per-thread buffers) exceeds it are\n"
               "                       recorded as skipped, unrun; points that run out of it as oom"},
    [O_TIMEOUT] = {"timeout", "S", 0, "seconds a point may run before it is killed and recorded as\n"
                   "                       timeout (default 600)"},
    [O_JOBS] = {"jobs", "J", 0, "points run in parallel (default 1). Timings are only comparable\n"
                "                       when points run one at a time: J > 1 is for error and memory studies"},
    [O_SHARD] = {"shard", "I/N", 0, "run only the I-th of N disjoint slices of the points (1 <= I <= N,\n"
                 "                       round-robin; default: all); join the files with `attnbench merge`"},
    [O_DEFINE] = {"define", "NAME=VALUE", 1, "the value of ${NAME} in the spec (repeatable; default none); a\n"
                  "                       value may hold several words: --define 'STDS=1 2 4'"},
    [O_CAPTURE] = {"capture", "DIR", 0, "a capture (`attnbench capture --out DIR`; default none): defines\n"
                   "                       CAPTURE, CAPTURE_N, CAPTURE_HEADS, CAPTURE_D_HEAD and\n"
                   "                       CAPTURE_LOGIT_STDS from DIR/capture.txt. Groups that `needs` a\n"
                   "                       variable nobody defined are left out, with a note"},
    [O_RESUME] = {"resume", "MODE", 0, "auto (default): go on from the rows --out holds when its .env\n"
                  "                       records this build's source_hash, the same spec points and capture,\n"
                  "                       else move the file and its .env aside to NAME.old-N.csv and start\n"
                  "                       afresh; always: go on from any rows; never: always move aside"},
    [O_DRY] = {"dry-run", NULL, 0, "list the points and what would happen to each; run nothing"},
    [O_CHECK] = {"check", NULL, 0, "check the spec (parse and expand it) and the options; touch nothing"},
};

static void usage(FILE *f) {
    fprintf(f,
        "usage: attnbench sweep SPEC [options]\n\n"
        "Runs every point of the sweep spec SPEC (bench/sweeps/NAME.sweep; the format is\n"
        "described at the top of bench/sweeps/default.sweep), each in its own process\n"
        "(`attnbench run ... --row-only`), and appends one CSV row per point to --out.\n"
        "Rerunning the same command skips the points the file already holds, so an\n"
        "interrupted sweep resumes where it stopped. A point is its method and the knobs\n"
        "it runs with, defaults resolved (features left to the default is the features\n"
        "the default gives for that shape); points two groups share run once. The file\n"
        "is locked while the sweep runs: a second sweep on it is refused (exit 2).\n"
        "No row is ever deleted or overwritten.\n\n"
        "options:\n");
    cli_usage(f, opts, NOPTS);
    fprintf(f,
        "\nRow status: ok, nonfinite (the output held NaN or Inf), oom (the run exited 3:\n"
        "memory refused), timeout, crashed (the signal or exit in note), invalid (the\n"
        "run's error in note), skipped (unknown method, or over --mem-limit).\n"
        "Exit status: 0 the sweep went through (whatever the rows' status); 2 bad\n"
        "spec or options, or --out is locked by another sweep; 1 the results file\n"
        "could not be read or written.\n");
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

static int on_option(void *ctx, int opt, const char *val) {
    sweep_opts *o = ctx;
    char err[4400];
    switch (opt) {
    case -1:
        if (o->spec_path) return bad_input(CMD, "unexpected argument '%s' (one SPEC only)", val);
        o->spec_path = val;
        return 0;
    case O_OUT: o->out = val; return 0;
    case O_DRY: o->dry_run = 1; return 0;
    case O_CHECK: o->check = 1; return 0;
    case O_MEM:
        if (parse_bytes(val, &o->mem_limit)) return bad_input(CMD, "--mem-limit '%s': expected bytes, e.g. 4G or 500M", val);
        return 0;
    case O_TIMEOUT: {
        char *end;
        errno = 0;
        o->timeout_s = strtod(val, &end);
        if (errno || *end || !(o->timeout_s > 0) || o->timeout_s > 1e7)
            return bad_input(CMD, "--timeout '%s': expected seconds in (0, 1e7]", val);
        return 0;
    }
    case O_JOBS: {
        char *end;
        errno = 0;
        unsigned long v = isdigit((unsigned char)*val) ? strtoul(val, &end, 10) : 0;
        if (!v || errno || *end || v > 1024) return bad_input(CMD, "--jobs '%s': expected 1..1024", val);
        o->jobs = v;
        return 0;
    }
    case O_SHARD:
        if (spec_parse_shard(val, &o->shard_i, &o->shard_n, err, sizeof err)) return bad_input(CMD, "%s", err);
        return 0;
    case O_DEFINE:
        if (spec_env_define(&o->env, val, err, sizeof err)) return bad_input(CMD, "%s", err);
        return 0;
    case O_CAPTURE:
        if (spec_env_capture(&o->env, val, err, sizeof err)) return bad_input(CMD, "%s", err);
        o->capture = val;
        return 0;
    case O_RESUME:
        if (!strcmp(val, "auto")) o->resume = RESUME_AUTO;
        else if (!strcmp(val, "always") || !strcmp(val, "1")) o->resume = RESUME_ALWAYS;
        else if (!strcmp(val, "never") || !strcmp(val, "0")) o->resume = RESUME_NEVER;
        else return bad_input(CMD, "--resume '%s': expected auto, always or never", val);
        return 0;
    }
    return 2;
}

static int parse_args(int argc, char **argv, sweep_opts *o) {
    memset(o, 0, sizeof *o);
    o->out = "results/sweep.csv";
    o->mem_limit = default_mem_limit();
    o->timeout_s = 600;
    o->jobs = 1;
    o->env.glob = 1;
    int rc = cli_parse(CMD, opts, NOPTS, argc, argv, on_option, o);
    if (rc == 1) { usage(stdout); return 1; }
    if (rc) return rc;
    if (!o->spec_path) return bad_input(CMD, "no SPEC given (e.g. bench/sweeps/quick.sweep)");
    struct stat st;
    if (o->dry_run && stat(o->out, &st) == 0 && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
        return 0; /* a dry run with --out /dev/null: no rows to read, nothing opened */
    if (!o->check && cli_out_file(CMD, "--out", o->out)) return 2;
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
 * libraries, and OpenBLAS's threads with their buffers. Debian's pthread
 * OpenBLAS starts its threads when the library loads and gives each a buffer
 * of about 128 MiB on the first large call (the run's blas_prime): measured
 * with `ulimit -v`, a tiny `run` needs ~330 MiB on 2 cores, 42 MiB with
 * OPENBLAS_NUM_THREADS=1. So it is measured here, in the same program after
 * the same priming call, before the spec is read: every child starts from
 * at least this (RLIMIT_AS counts it), and a limit below it is a `skipped`
 * row at once, not a child spinning on a refused buffer. */
static size_t runtime_bytes(void) {
    if (UNDER_ASAN) return 0; /* its shadow memory is address space no child is limited by */
    blas_prime();
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
    char *key;              /* its identity (point_id), made once by plan_key */
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
    /* spec values are checked already; a refusal here is for the child to
     * report (the caller sends stderr to /dev/null meanwhile) */
    int prc = options_parse(&pl->o, kind, argc, args);
    const run_options *o = &pl->o;
    if (prc) { pl->weight = 1e9; return; }

    size_t floats, doubles, ws;
    size_t rows = o->ref_rows && o->ref_rows < o->n ? o->ref_rows : o->n;
    if (kind == OPTS_FFN && strcmp(o->attention, "topk") && strcmp(o->attention, "exact")) {
        pl->skip = "skipped";
        snprintf(pl->why, sizeof pl->why, "unknown method: ffn attention '%s' is not in this build", o->attention);
        return;
    }
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
    /* each kernel thread past the first: its stack (8 MiB); each BLAS thread
     * beyond the pool OpenBLAS started (measured in runtime): its stack and
     * buffer (128 MiB) — without room for it OpenBLAS spins instead of failing */
    int nt = openblas_get_num_threads();
    size_t pool = nt > 1 ? (size_t)nt : 1;
    if (o->threads > 1)
        runtime = size_add_sat(runtime, size_mul_sat(o->threads - 1, (size_t)8 << 20));
    if (o->threads > pool)
        runtime = size_add_sat(runtime, size_mul_sat(o->threads - pool, (size_t)128 << 20));
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

/* The shape knobs of an input point, from its files' headers (0 where the
 * headers cannot be read: the child then says why, and the row leaves them
 * empty as run would) */
static void input_sizes(const sweep_point *p, run_options *o, size_t *kv, int *layer_form) {
    input_shape sh;
    *kv = 0;
    *layer_form = 0;
    if (point_id_peek_input(o->input, p->command == SPEC_FFN, &sh)) {
        o->n = o->heads = o->d_head = o->d_model = o->d_ff = 0;
        return;
    }
    o->n = sh.n, o->heads = sh.heads, o->d_head = sh.d_head, o->d_model = sh.d_model, o->d_ff = sh.d_ff;
    *kv = sh.kv_heads;
    *layer_form = sh.layer_form;
}

static void set_size(result_row *r, int col, size_t v) {
    if (v) row_set(r, col, "%zu", v);
}

/* an ffn point's knobs as run_ffn resolves them */
static void ffn_knobs(const sweep_point *p, run_options *o, result_row *r) {
    int topk = !strcmp(o->attention, "topk");
    if (o->input) input_sizes(p, o, &(size_t){0}, &(int){0});
    else if (!o->d_ff) o->d_ff = size_mul_sat(4, o->d_model);
    set_size(r, COL_n, o->n);
    set_size(r, COL_d_model, o->d_model);
    set_size(r, COL_d_ff, o->d_ff);
    if (topk && (o->d_ff || options_given(o, "k")))
        row_set(r, COL_k, "%zu", options_given(o, "k") ? o->k : o->d_ff < 256 ? o->d_ff : 256);
    row_set(r, COL_chunk, "%zu", o->chunk);
    row_set(r, COL_causal, "0");
}

/* an attention point's knobs as run resolves them: kv_heads from the
 * projection, d_model, and the method's k, chunk, features defaults */
static void attention_knobs(const sweep_point *p, run_options *o, result_row *r) {
    const attn_method *m = attn_method_find(o->attention);
    const proj_scheme *ps = proj_scheme_find(o->projection);
    size_t kv = 0;
    int layer_form = 1;
    if (o->input) input_sizes(p, o, &kv, &layer_form);
    else if (!o->d_model) o->d_model = size_mul_sat(o->heads, o->d_head);
    if (ps && layer_form && o->heads) kv = ps->kv_heads_for(o->heads, o->kv_heads);
    set_size(r, COL_n, o->n);
    set_size(r, COL_heads, o->heads);
    set_size(r, COL_kv_heads, kv);
    set_size(r, COL_d_head, o->d_head);
    if (layer_form) set_size(r, COL_d_model, o->d_model);
    if (m && (m->knobs & KNOB_K) && (o->n || options_given(o, "k")))
        row_set(r, COL_k, "%zu", options_given(o, "k") ? o->k : o->n < 64 ? o->n : 64);
    if (m && (m->knobs & KNOB_CHUNK)) row_set(r, COL_chunk, "%zu", o->chunk);
    if (m && (m->knobs & KNOB_FEATURES) && (o->d_head || options_given(o, "features"))) {
        double f = ceil((double)o->d_head * log((double)o->d_head));
        row_set(r, COL_features, "%zu", options_given(o, "features") ? o->features : f < 1 ? 1 : (size_t)f);
    }
    row_set(r, COL_causal, "%d", o->causal);
    if (!o->input) {
        row_set(r, COL_score_std, "%g", o->score_std);
        row_set(r, COL_head_sim, "%g", o->head_sim);
    }
}

/* A row built here, for a point whose child gave none (or never ran): the
 * point's knobs over the command's defaults, resolved as run and ffn resolve
 * them, so its identity (point_id) is the one the child's row would have. */
static void point_row(const plan *pl, const char *status, const char *note, result_row *r) {
    const sweep_point *p = pl->pt;
    run_options o = pl->o;
    row_init(r);
    row_set(r, COL_layer, p->command == SPEC_FFN ? "ffn" : "attention");
    row_set(r, COL_attention, "%s", o.attention);
    if (p->command == SPEC_FFN) {
        ffn_knobs(p, &o, r);
    } else {
        row_set(r, COL_projection, "%s", o.projection);
        attention_knobs(p, &o, r);
    }
    row_set(r, COL_seed, "%llu", (unsigned long long)o.seed);
    row_set(r, COL_threads, "%zu", o.threads);
    row_set(r, COL_input, "%s", o.input ? o.input : "synthetic");
    /* a method not in this build: the knobs as the spec gave them */
    if (p->command != SPEC_FFN && (!attn_method_find(o.attention) || !proj_scheme_find(o.projection)))
        for (int k = 0; k < SK_COUNT; k++) {
            int col = spec_knob_column(k);
            if (col >= 0 && p->value[k] && !*row_get(r, col)) row_set(r, col, "%s", p->value[k]);
        }
    row_set(r, COL_status, "%s", status);
    if (note && *note) row_set(r, COL_note, "%s", note);
}

/* ---- the points a results file already holds ---------------------------- */

/* The identity key of a plan (point_id of the row point_row builds), made
 * once; NULL when out of memory. */
static const char *plan_key(plan *pl) {
    if (!pl->key) {
        result_row r;
        point_row(pl, "", "", &r);
        pl->key = point_id_row(&r);
        row_free(&r);
    }
    return pl->key;
}

/* Marks .dup on every plan but the first of each set with one identity: two
 * groups that share a point (one leaves score-std to the default 4, another
 * says 4.0) run it once. 0, or -1 when out of memory (nothing marked). */
static int mark_equivalent(plan *pl, size_t count) {
    point_set set = {0};
    for (size_t i = 0; i < count; i++) {
        const char *k = plan_key(&pl[i]);
        char *copy = k ? strdup(k) : NULL;
        int added = point_set_add(&set, copy, i, NULL);
        if (added < 0) { point_set_free(&set); return -1; }
        if (added == 0) pl[i].dup = 1;
    }
    point_set_free(&set);
    return 0;
}

/* Marks pl[i].done for the points the table holds (any status: every row is
 * a finished point), in time linear in rows + points; counts the points the
 * table holds more than once into *doubled. Rows skipped as "unknown method"
 * whose method this build has do not count: those points run now. */
static int mark_done(const csv_table *t, plan *pl, size_t np, size_t *doubled) {
    int colmap[COL_COUNT];
    point_id_colmap(t, colmap);
    int status_col = colmap[COL_status], note_col = colmap[COL_note];
    point_set rows = {0};
    *doubled = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        if (!strcmp(table_get(t, r, status_col), "skipped") &&
            !strncmp(table_get(t, r, note_col), "unknown method", 14)) {
            const char *a = table_get(t, r, colmap[COL_attention]), *pr = table_get(t, r, colmap[COL_projection]);
            if ((!*a || attn_method_find(a)) && (!*pr || proj_scheme_find(pr))) continue;
        }
        int added = point_set_add(&rows, point_id_table_row(t, r, colmap), r, NULL);
        if (added < 0) { point_set_free(&rows); return -1; }
        if (added == 0) ++*doubled;
    }
    for (size_t i = 0; i < np; i++) {
        const char *k = plan_key(&pl[i]);
        if (!k) { point_set_free(&rows); return -1; }
        if (point_set_find(&rows, k, NULL)) pl[i].done = 1;
    }
    point_set_free(&rows);
    return 0;
}

/* 1 when the table's header is this attnbench's columns */
static int header_is_ours(const csv_table *t) {
    if (t->ncols != COL_COUNT) return 0;
    for (size_t c = 0; c < t->ncols; c++)
        if (strcmp(t->header[c], result_column_names[c])) return 0;
    return 1;
}

/* Reads the results file for the resume: checks its header, drops a torn
 * last line (truncating it away through fd, the locked output; fd < 0: a dry
 * run, which only says so), and marks the points it holds. 0 (also when the
 * file does not exist), or -1 after a message. */
static int load_existing(const char *path, int fd, plan *pl, size_t np) {
    if (fd < 0 && access(path, F_OK) != 0 && errno == ENOENT) return 0;
    csv_table t;
    char err[4400];
    if (table_read(path, &t, err, sizeof err)) {
        fprintf(stderr, "attnbench sweep: %s\n", err);
        return -1;
    }
    int rc = -1;
    if (t.ncols && !header_is_ours(&t)) {
        fprintf(stderr, "attnbench sweep: %s: its header is not this attnbench's columns; write to a new --out\n", path);
        goto out;
    }
    if (t.torn_bytes) {
        fprintf(stderr, "attnbench sweep: %s: %s a torn last line (%zu bytes, no newline)\n", path,
                fd < 0 ? "would drop" : "dropped", t.torn_bytes);
        if (fd >= 0 && ftruncate(fd, (off_t)t.whole_bytes) != 0) {
            fprintf(stderr, "attnbench sweep: %s: cannot truncate the torn line: %s\n", path, strerror(errno));
            goto out;
        }
    }
    if (t.bad_rows)
        fprintf(stderr, "attnbench sweep: %s: ignored %zu malformed row(s)\n", path, t.bad_rows);
    size_t doubled;
    if (mark_done(&t, pl, np, &doubled)) {
        fprintf(stderr, "attnbench sweep: out of memory\n");
        goto out;
    }
    if (doubled)
        fprintf(stderr, "attnbench sweep: %s: warning: %zu row(s) repeat a point an earlier row holds "
                        "(`attnbench analyze` lists them)\n", path, doubled);
    rc = 0;
out:
    table_free(&t);
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

/* The row for a finished child, from its exit status and its row, never
 * from the words of its stderr (which only fills `note`): its own row when
 * it printed one (ok, nonfinite, oom, ...); else exit 3 is oom (run's status
 * for memory refused), exit 2 invalid, a signal or any other exit crashed. */
static void child_row(slot *s, result_row *r, char *status_out, size_t cap) {
    char note[600];
    const char *line = last_line(s->err.data);
    int code = WIFEXITED(s->wstatus) ? WEXITSTATUS(s->wstatus) : -1;
    const char *status = NULL;
    if (s->timed_out) {
        snprintf(note, sizeof note, "killed after %.4g s (--timeout)", s->deadline - s->start);
        status = "timeout";
    } else if (WIFSIGNALED(s->wstatus)) {
        int sig = WTERMSIG(s->wstatus);
        snprintf(note, sizeof note, "signal %d (%s)%s%s%s", sig, strsignal(sig),
                 sig == SIGKILL ? "; the kernel's OOM killer?" : "", *line ? ": " : "", line);
        status = "crashed";
    } else if ((code == 0 || code == 3) && parse_child_row(s->out.data, r) == 0) {
        snprintf(status_out, cap, "%s", row_get(r, COL_status));
        char *got = point_id_row(r);
        const char *want = plan_key(s->pl);
        if (got && want && strcmp(got, want))
            fprintf(stderr, "\nattnbench sweep: warning: point %zu's row records other knobs than the sweep "
                            "resolved for it; a resume will not find it\n", s->pl->pt->index);
        free(got);
        return;
    } else if (code == 3) {
        snprintf(note, sizeof note, "out of memory (exit 3)%s%s", *line ? ": " : "", line);
        status = "oom";
    } else if (code == 2) {
        snprintf(note, sizeof note, "%s", *line ? line : "exit 2 (bad input)");
        status = "invalid";
    } else if (code == 0) {
        snprintf(note, sizeof note, "exit 0 without a CSV row on stdout");
        status = "crashed";
    } else {
        snprintf(note, sizeof note, "exit %d%s%s", code, *line ? ": " : "", line);
        status = "crashed";
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
    size_t counts[ST_COUNT + 1]; /* rows by status (ST_*; the last: any other) */
    char **warnings;       /* child warnings already shown */
    size_t nwarnings;
} progress;

static void count_status(progress *pg, const char *st) {
    int i = result_status_find(st);
    pg->counts[i < 0 ? ST_COUNT : i]++;
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

/* Appends the row through the locked output (its sidecar was written when
 * it was opened). */
static int append_row(int fd, const char *out, const result_row *r) {
    if (results_append_fd(fd, r, NULL) != 0) {
        fprintf(stderr, "attnbench sweep: cannot append to %s: %s\n", out, strerror(errno));
        return -1;
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

/* The points of the shard, equivalent ones left out: pl[0..*np). Frees
 * the keys of the plans it drops. Returns the hash of every shard's points. */
static uint64_t keep_shard(plan *pl, size_t npoints, const sweep_opts *so, size_t *np) {
    /* equivalent points are left out before the shards are cut, so every
     * shard leaves out the same ones; then the shard keeps its own */
    (void)mark_equivalent(pl, npoints); /* out of memory: run them all */
    uint64_t points_hash = SPEC_HASH_INIT;
    *np = 0;
    for (size_t i = 0; i < npoints; i++) {
        if (!pl[i].dup) points_hash = spec_point_hash(points_hash, pl[i].pt);
        if (!pl[i].dup && spec_in_shard(pl[i].pt->index, so->shard_i, so->shard_n)) pl[(*np)++] = pl[i];
        else free(pl[i].key);
    }
    return points_hash;
}

/* --dry-run: what the sweep would do with the file as it is; touches nothing */
static int dry_run(plan *pl, size_t np, const sweep_opts *so, const sweep_origin *origin) {
    char why[400];
    if (readfile_check_regular_or_absent(so->out, why, sizeof why)) { /* /dev/null: holds no rows */
        dry_run_list(pl, np, so);
        return 0;
    }
    if (!sweep_out_may_resume(so->out, so->resume, origin, why, sizeof why))
        printf("# %s: %s: would be moved aside, every point run\n", so->out, why);
    else if (load_existing(so->out, -1, pl, np))
        return 1;
    dry_run_list(pl, np, so);
    return 0;
}

int cmd_sweep(int argc, char **argv) {
    sweep_opts so;
    int rc = parse_args(argc, argv, &so);
    if (rc) {
        spec_env_free(&so.env);
        return rc == 1 ? 0 : rc;
    }
    /* before anything else is allocated: the program's own footprint */
    size_t runtime = so.check ? 0 : runtime_bytes();

    /* the spec is read, parsed and expanded before any file is touched */
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
    int fd = -1;
    plan *pl = calloc(npoints ? npoints : 1, sizeof *pl);
    slot *slots = calloc(so.jobs, sizeof *slots);
    size_t np = 0;
    if (!pl || !slots) {
        fprintf(stderr, "attnbench sweep: out of memory\n");
        rc = 1;
        goto done;
    }
    if (so.check) {
        printf("%s: %zu point(s)\n", spec.file, npoints);
        rc = 0;
        goto done;
    }
    int saved = dup(2), devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved >= 0 && devnull >= 0) dup2(devnull, 2);
    for (size_t i = 0; i < npoints; i++) plan_point(&points[i], so.mem_limit, runtime, &pl[i]);
    if (saved >= 0 && devnull >= 0) dup2(saved, 2);
    if (saved >= 0) close(saved);
    if (devnull >= 0) close(devnull);
    uint64_t points_hash = keep_shard(pl, npoints, &so, &np);
    env_note_sweep(so.spec_path, points_hash, so.shard_i, so.shard_n);
    char points_hex[17];
    snprintf(points_hex, sizeof points_hex, "%016llx", (unsigned long long)points_hash);
    sweep_origin origin = {env_source_hash(), env_commit(), points_hex,
                           so.capture ? env_note_capture(so.capture) : ""};
    if (so.dry_run) {
        rc = dry_run(pl, np, &so, &origin);
        goto done;
    }
    if (np == 0) { /* a shard beyond the points: no file to write */
        fprintf(stderr, "attnbench sweep: %s: 0 point(s)%s: nothing to do; %s not written\n", spec.file,
                so.shard_n ? " in this shard" : "", so.out);
        rc = 0;
        goto done;
    }
    if (make_parent_dir(so.out)) { rc = 1; goto done; }
    if ((fd = sweep_out_open(so.out, so.resume, &origin, &rc)) < 0) goto done;
    if (load_existing(so.out, fd, pl, np)) { rc = 1; goto done; }

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

    int io_failed = 0;
    size_t next = 0, running = 0;
    while (!io_failed) {
        /* start points while slots are free; skipped ones are recorded at once */
        while (running < so.jobs && next < np && !io_failed) {
            plan *p = &pl[next++];
            if (p->done) continue;
            if (p->skip) {
                result_row r;
                point_row(p, p->skip, p->why, &r);
                if (append_row(fd, so.out, &r)) io_failed = 1;
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
            if (append_row(fd, so.out, &r)) io_failed = 1;
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
    for (int i = 0; i <= ST_COUNT; i++)
        if (pg.counts[i]) fprintf(stderr, " %zu %s", pg.counts[i], i < ST_COUNT ? result_status_names[i] : "other");
    fprintf(stderr, "%s -> %s%s\n", pg.finished ? "" : " nothing done", so.out,
            io_failed ? " (the same command resumes)" : "");
    for (size_t i = 0; i < pg.nwarnings; i++) free(pg.warnings[i]);
    free(pg.warnings);
    rc = io_failed ? 1 : 0;
done:
    if (fd >= 0) close(fd); /* and with it the lock */
    for (size_t i = 0; pl && i < np; i++) free(pl[i].key);
    free(slots);
    free(pl);
    spec_points_free(points, npoints);
    spec_free(&spec);
    return rc;
}
