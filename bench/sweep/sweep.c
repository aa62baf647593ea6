/* sweep.c — `attnbench sweep SPEC`: its options, and the sweep from the spec
 * to the rows: the spec is read and expanded (spec.c), each point planned
 * (sweep_plan.c), equivalent points and other shards left out and the points
 * the results file holds marked done (sweep_resume.c), the file opened and
 * locked (sweep_out.c), and the rest run, each in its own process, one row
 * each appended as it finishes (sweep_pool.c, sweep_progress.c). */
#include "cli.h"
#include "commands.h"
#include "env.h"
#include "measure.h"
#include "spec.h"
#include "spec_hash.h"
#include "sweep_out.h"
#include "sweep_plan.h"
#include "sweep_pool.h"
#include "sweep_progress.h"
#include "sweep_resume.h"
#include "readfile.h"
#include "report.h"
#include "memlimit.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const CMD = "sweep";

typedef struct {
    const char *spec_path, *out;
    size_t mem_limit;
    const char *mem_from;   /* what set --mem-limit's default, or NULL */
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
               "                       of MemTotal, or of the cgroup's memory limit where lower, and at\n"
               "                       most the inherited ulimit -v, which also caps a given one). Points whose formula (workspace, tensors, and the\n"
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
        "\nRow status: ok, nonfinite (the output or another figure held NaN or Inf), oom (the run exited 3:\n"
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

/* 80% of the machine's memory, or of the cgroup's memory limit (resident
 * memory) where lower, at most the inherited address-space limit (which no
 * child can exceed); 0 (no limit) where none can be read. *from: which. */
static size_t default_mem_limit(const char **from) {
    const size_t total = mem_total_bytes(), cg = mem_cgroup_limit(), as = mem_as_limit();
    size_t lim = total / 10 * 8;
    *from = NULL;
    if (cg && (!lim || cg / 10 * 8 < lim)) lim = cg / 10 * 8, *from = "80% of the cgroup's memory limit";
    if (as && (!lim || as < lim)) lim = as, *from = "the inherited address-space limit (ulimit -v)";
    return lim;
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
        o->mem_from = NULL;
        if (mem_as_limit() && o->mem_limit > mem_as_limit()) { /* no child can have more */
            o->mem_limit = mem_as_limit();
            o->mem_from = "the inherited address-space limit (ulimit -v), below --mem-limit";
        }
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
    o->mem_limit = default_mem_limit(&o->mem_from);
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
    struct stat ss;
    if (stat(o->out, &st) == 0 && stat(o->spec_path, &ss) == 0 && st.st_dev == ss.st_dev && st.st_ino == ss.st_ino)
        return bad_input(CMD, "--out %s is the spec itself: give the results their own file", o->out);
    return 0;
}

/* ---- the sweep ------------------------------------------------------------- */

static void dry_run_list(plan *pl, size_t np, const sweep_opts *so) {
    size_t run = 0, done = 0, skip = 0;
    for (size_t i = 0; i < np; i++) {
        const sweep_point *p = pl[i].pt;
        const char *what = pl[i].done ? "done" : pl[i].skip ? "skip" : "run";
        printf("%4zu %-4s attnbench %s", p->index, what, spec_command_name(p->command));
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

/* --dry-run: what the sweep would do with the file as it is; touches nothing */
static int dry_run(plan *pl, size_t np, const sweep_opts *so, const sweep_origin *origin) {
    char why[400];
    if (readfile_check_regular_or_absent(so->out, why, sizeof why)) { /* /dev/null: holds no rows */
        dry_run_list(pl, np, so);
        return 0;
    }
    if (!sweep_out_may_resume(so->out, so->resume, origin, why, sizeof why))
        printf("# %s: %s: would be moved aside, every point run\n", so->out, why);
    else if (sweep_resume_load(so->out, -1, pl, np))
        return 1;
    dry_run_list(pl, np, so);
    return 0;
}

/* The spec read, parsed and expanded before any file is touched; 0, or the
 * exit status after a message. */
static int load_points(sweep_opts *so, sweep_spec *spec, sweep_point **points, size_t *npoints) {
    char err[4400];
    int rc = spec_load_env(so->spec_path, &so->env, spec, err, sizeof err);
    spec_env_free(&so->env);
    if (rc) return bad_input(CMD, "%s", err);
    if (spec->nleft_out) { /* one line: what was left out and how to add it */
        fprintf(stderr, "attnbench sweep: %s: left out", spec->file);
        for (size_t i = 0; i < spec->nleft_out; i++) fprintf(stderr, "%s %s", i ? "," : "", spec->left_out[i]);
        fprintf(stderr, "; give the variables with --define NAME=VALUE or --capture DIR\n");
    }
    rc = spec_expand(spec, points, npoints, err, sizeof err);
    if (rc) {
        spec_free(spec);
        if (rc == -2) return bad_input(CMD, "%s", err);
        fprintf(stderr, "attnbench sweep: %s\n", err);
        return 1;
    }
    return 0;
}

/* Every point planned, with stderr silenced (a refusal is for the child to
 * report), then this shard's points kept; returns the points' hash. */
static uint64_t prepare_points(sweep_point *points, size_t npoints, plan *pl, const sweep_opts *so,
                               size_t runtime, size_t *np) {
    int saved = dup(2), devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (saved >= 0 && devnull >= 0) dup2(devnull, 2);
    for (size_t i = 0; i < npoints; i++) plan_point(&points[i], so->mem_limit, runtime, &pl[i]);
    if (saved >= 0 && devnull >= 0) dup2(saved, 2);
    if (saved >= 0) close(saved);
    if (devnull >= 0) close(devnull);
    return sweep_keep_shard(pl, npoints, so->shard_i, so->shard_n, np);
}

/* 1 when opening --out will write its sidecar: none or an empty one, or rows
 * of another origin that go aside. The probe runs before the file is opened,
 * so a sweep killed meanwhile leaves no empty results file. */
static int sidecar_is_new(const sweep_opts *so, const sweep_origin *origin) {
    char *envp = env_sidecar_path(so->out), why[400];
    struct stat st;
    int absent = !envp || stat(envp, &st) != 0 || st.st_size == 0;
    free(envp);
    return absent || !sweep_out_may_resume(so->out, so->resume, origin, why, sizeof why);
}

/* The sweep proper: the results file opened, locked and resumed, the points
 * not in it run. The exit status. */
static int run_points(plan *pl, size_t np, const sweep_opts *so, const sweep_origin *origin, const char *file) {
    if (np == 0) { /* a shard beyond the points: no file to write */
        fprintf(stderr, "attnbench sweep: %s: 0 point(s)%s: nothing to do; %s not written\n", file,
                so->shard_n ? " in this shard" : "", so->out);
        return 0;
    }
    if (sweep_out_make_parent(so->out)) return 1;
    env_timing_line(CMD, 0, 0); /* the load average it reads goes into a new sidecar */
    /* so does the bandwidth probe (not under AddressSanitizer: 10x slower, no timing build) */
    if (!sweep_under_asan() && sidecar_is_new(so, origin)) env_sidecar_probe();
    int rc, fd = sweep_out_open(so->out, so->resume, origin, &rc);
    if (fd < 0) return rc;
    if (sweep_resume_load(so->out, fd, pl, np)) { close(fd); return 1; }
    progress pg = {.tty = isatty(2), .t0 = now_seconds()};
    size_t already = 0;
    for (size_t i = 0; i < np; i++) {
        if (pl[i].done) { already++; continue; }
        pg.total++;
        pg.weight_total += pl[i].skip ? 0 : pl[i].weight;
    }
    if (sweep_under_asan() && so->mem_limit)
        fprintf(stderr, "attnbench sweep: note: an AddressSanitizer build runs points without RLIMIT_AS\n");
    fprintf(stderr, "attnbench sweep: %s: %zu point(s)%s, %zu already in %s, %zu to go\n", file, np,
            so->shard_n ? " in this shard" : "", already, so->out, pg.total);
    sweep_pool_cfg cfg = {so->mem_limit, so->timeout_s, so->jobs, fd, so->out};
    int io_failed = sweep_pool_run(pl, np, &cfg, &pg);
    progress_done(&pg, so->out, io_failed);
    close(fd); /* and with it the lock */
    return io_failed ? 1 : 0;
}

int cmd_sweep(int argc, char **argv) {
    sweep_opts so;
    int rc = parse_args(argc, argv, &so);
    if (rc) {
        spec_env_free(&so.env);
        return rc == 1 ? 0 : rc;
    }
    /* before anything else is allocated: the program's own footprint */
    size_t runtime = so.check ? 0 : sweep_runtime_bytes();
    sweep_spec spec;
    sweep_point *points;
    size_t npoints, np = 0;
    if ((rc = load_points(&so, &spec, &points, &npoints))) return rc;
    plan *pl = calloc(npoints ? npoints : 1, sizeof *pl);
    if (!pl) {
        fprintf(stderr, "attnbench sweep: out of memory\n");
        rc = 1;
    } else if (so.check) {
        printf("%s: %zu point(s)\n", spec.file, npoints);
        rc = 0;
    } else {
        if (so.mem_from && !sweep_under_asan())
            fprintf(stderr, "attnbench sweep: --mem-limit %zu MiB: %s\n", so.mem_limit >> 20, so.mem_from);
        uint64_t points_hash = prepare_points(points, npoints, pl, &so, runtime, &np);
        env_note_sweep(so.spec_path, points_hash, so.shard_i, so.shard_n);
        char points_hex[17];
        snprintf(points_hex, sizeof points_hex, "%016llx", (unsigned long long)points_hash);
        sweep_origin origin = {env_source_hash(), env_commit(), points_hex,
                               so.capture ? env_note_capture(so.capture) : ""};
        rc = so.dry_run ? dry_run(pl, np, &so, &origin) : run_points(pl, np, &so, &origin, spec.file);
    }
    for (size_t i = 0; pl && i < np; i++) free(pl[i].key);
    free(pl);
    spec_points_free(points, npoints);
    spec_free(&spec);
    return rc;
}
