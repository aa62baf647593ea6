/* test_spec.c — the sweep spec parser: crossing, knobs crossed only for the
 * methods that read them, groups and defaults, errors with line numbers,
 * shards that are disjoint and cover the spec; variables (--define,
 * --capture, `needs`), input globs, and the sizes an input's files fix. */
#include "check.h"
#include "spec.h"

#include <sys/stat.h>
#include <unistd.h>

static int parse(const char *text, sweep_spec *s, char *err, size_t errlen) {
    return spec_parse(text, "t.sweep", s, err, errlen);
}

/* the points of text; count in *n (0 and a failed check on a parse error) */
static sweep_point *points_of(const char *text, size_t *n) {
    sweep_spec s;
    char err[512];
    sweep_point *p = NULL;
    *n = 0;
    if (parse(text, &s, err, sizeof err)) {
        CHECK(0, "parse failed: %s\n---\n%s", err, text);
        return NULL;
    }
    CHECK(spec_expand(&s, &p, n, err, sizeof err) == 0, "expand: %s", err);
    spec_free(&s);
    return p;
}

static const char *val(const sweep_point *p, int knob) { return p->value[knob] ? p->value[knob] : "-"; }

/* argv holds "--name value" (or the bare flag) for each knob the point sets */
static int argv_has(const sweep_point *p, const char *opt, const char *value) {
    for (int i = 0; i < p->argc; i++)
        if (!strcmp(p->argv[i], opt))
            return value == NULL || (i + 1 < p->argc && !strcmp(p->argv[i + 1], value));
    return 0;
}

static void test_crossing(void) {
    size_t n;
    sweep_point *p = points_of("[g]\nattention vanilla\nn 64 128\nscore-std 1 4.0 8\n", &n);
    CHECK(n == 6, "2 x 3 values give %zu points, want 6", n);
    /* knobs nest in spec.h's order: score-std outside n */
    static const char *const want[6][2] = {{"1", "64"}, {"1", "128"}, {"4", "64"},
                                           {"4", "128"}, {"8", "64"}, {"8", "128"}};
    for (size_t i = 0; i < n && i < 6; i++) {
        CHECK(!strcmp(val(&p[i], SK_SCORE_STD), want[i][0]) && !strcmp(val(&p[i], SK_N), want[i][1]),
              "point %zu: score-std %s n %s, want %s %s", i, val(&p[i], SK_SCORE_STD), val(&p[i], SK_N),
              want[i][0], want[i][1]);
        CHECK(p[i].index == i, "point %zu has index %zu", i, p[i].index);
        CHECK(argv_has(&p[i], "--n", want[i][1]) && argv_has(&p[i], "--attention", "vanilla"),
              "point %zu argv lacks --n/--attention", i);
        CHECK(p[i].argv[p[i].argc] == NULL, "argv not NULL-terminated");
        CHECK(p[i].command == SPEC_RUN, "default command is run");
    }
    spec_points_free(p, n);

    /* causal 1 is the bare flag; causal 0 passes nothing but identifies the point */
    p = points_of("[g]\nattention vanilla\ncausal 0 1\n", &n);
    CHECK(n == 2, "causal 0 1: %zu points", n);
    if (n == 2) {
        CHECK(!argv_has(&p[0], "--causal", NULL) && !strcmp(val(&p[0], SK_CAUSAL), "0"), "causal 0");
        CHECK(argv_has(&p[1], "--causal", NULL) && !strcmp(val(&p[1], SK_CAUSAL), "1"), "causal 1");
    }
    spec_points_free(p, n);
}

/* k, chunk, features, kv-heads appear exactly where the tables say they apply */
static void test_method_knobs(void) {
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof text, "[g]\nattention");
    size_t nmethods = 0;
    for (const attn_method *m = attn_methods; m->name; m++, nmethods++)
        len += (size_t)snprintf(text + len, sizeof text - len, " %s", m->name);
    len += (size_t)snprintf(text + len, sizeof text - len, " not-landed-yet\nprojection");
    for (const proj_scheme *ps = proj_schemes; ps->name; ps++)
        len += (size_t)snprintf(text + len, sizeof text - len, " %s", ps->name);
    snprintf(text + len, sizeof text - len, "\nheads 4\nk 8 16\nchunk 32 64 128\nfeatures 16 32\nkv-heads 1 2\nsink 0 4\nwindow 16 32 64\n");
    size_t n;
    sweep_point *p = points_of(text, &n);
    size_t expect = 0;
    for (const attn_method *m = attn_methods; m->name; m++)
        for (const proj_scheme *ps = proj_schemes; ps->name; ps++) {
            size_t c = 1;
            if (m->knobs & KNOB_K) c *= 2;
            if (m->knobs & KNOB_CHUNK) c *= 3;
            if (m->knobs & KNOB_FEATURES) c *= 2;
            if (m->knobs & KNOB_SINK) c *= 2;
            if (m->knobs & KNOB_WINDOW) c *= 3;
            if (spec_knob_applies(SK_KV_HEADS, m->name, ps->name)) c *= 2;
            expect += c;
        }
    for (const proj_scheme *ps = proj_schemes; ps->name; ps++) /* the unknown method: no method knobs */
        expect += spec_knob_applies(SK_KV_HEADS, "not-landed-yet", ps->name) ? 2 : 1;
    CHECK(n == expect, "%zu points, want %zu", n, expect);
    for (size_t i = 0; i < n; i++) {
        const attn_method *m = attn_method_find(p[i].value[SK_ATTENTION]);
        unsigned knobs = m ? m->knobs : 0;
        CHECK(!p[i].value[SK_K] == !(knobs & KNOB_K), "point %zu (%s): k %s", i, val(&p[i], SK_ATTENTION), val(&p[i], SK_K));
        CHECK(!p[i].value[SK_CHUNK] == !(knobs & KNOB_CHUNK), "point %zu (%s): chunk %s", i, val(&p[i], SK_ATTENTION), val(&p[i], SK_CHUNK));
        CHECK(!p[i].value[SK_FEATURES] == !(knobs & KNOB_FEATURES), "point %zu (%s): features %s", i, val(&p[i], SK_ATTENTION), val(&p[i], SK_FEATURES));
        CHECK(!p[i].value[SK_SINK] == !(knobs & KNOB_SINK), "point %zu (%s): sink %s", i, val(&p[i], SK_ATTENTION), val(&p[i], SK_SINK));
        CHECK(!p[i].value[SK_WINDOW] == !(knobs & KNOB_WINDOW), "point %zu (%s): window %s", i, val(&p[i], SK_ATTENTION), val(&p[i], SK_WINDOW));
        CHECK(!!argv_has(&p[i], "--window", NULL) == !!p[i].value[SK_WINDOW], "point %zu: --window in argv iff set", i);
        int kv = spec_knob_applies(SK_KV_HEADS, p[i].value[SK_ATTENTION], p[i].value[SK_PROJECTION]);
        CHECK(!p[i].value[SK_KV_HEADS] == !kv, "point %zu (%s): kv-heads %s", i, val(&p[i], SK_PROJECTION), val(&p[i], SK_KV_HEADS));
        CHECK(!!argv_has(&p[i], "--k", NULL) == !!p[i].value[SK_K], "point %zu: --k in argv iff set", i);
    }
    /* mha reads no --kv-heads; a projection whose K/V heads follow --kv-heads does */
    CHECK(!spec_knob_applies(SK_KV_HEADS, "vanilla", "mha"), "mha takes no kv-heads");
    const proj_scheme *gqa = proj_scheme_find("gqa");
    if (gqa) CHECK(spec_knob_applies(SK_KV_HEADS, "vanilla", "gqa"), "gqa takes kv-heads");
    CHECK(!spec_knob_applies(SK_K, "vanilla", NULL) && spec_knob_applies(SK_CHUNK, "chunked", NULL),
          "vanilla reads no k; chunked reads chunk");
    spec_points_free(p, n);
}

static void test_groups(void) {
    const char *text =
        "# defaults\n"
        "heads 2   # trailing comment\n"
        "d-head 16\n"
        "score-std 4\n"
        "n 64\n"
        "\n"
        "[nscale]\n"
        "attention vanilla chunked\n"
        "n 64 128 256\n"
        "chunk 32\n"
        "[sharp]\n"
        "attention vanilla\n"
        "score-std 1 4 8\n"
        "[ffn-k]\n"
        "command ffn\n"
        "attention exact topk\n"
        "d-model 32\n"
        "k 4 8\n";
    size_t n;
    sweep_point *p = points_of(text, &n);
    /* nscale: 2 x 3 = 6; sharp: 3, but (vanilla, n 64, score-std 4) is nscale's: 2 new;
     * ffn: exact 1 + topk 2 (k applies to topk only) = 3 */
    size_t ffn = 0, k_ffn = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK(!strcmp(val(&p[i], SK_HEADS), p[i].command == SPEC_FFN ? "-" : "2"),
              "point %zu: heads %s (defaults apply where the command takes them)", i, val(&p[i], SK_HEADS));
        if (p[i].command == SPEC_FFN) {
            ffn++;
            CHECK(!p[i].value[SK_SCORE_STD], "ffn point %zu got score-std", i);
            CHECK(!strcmp(val(&p[i], SK_N), "64"), "ffn point %zu inherits n 64: %s", i, val(&p[i], SK_N));
            CHECK(!strcmp(p[i].group, "ffn-k"), "ffn point's group %s", p[i].group);
            if (p[i].value[SK_K]) k_ffn++;
        }
    }
    CHECK(n == 11, "%zu points, want 6 + 2 + 3 = 11", n);
    CHECK(ffn == 3 && k_ffn == 2, "ffn points %zu (want 3), with k %zu (want 2)", ffn, k_ffn);
    if (n == 11) {
        CHECK(!strcmp(p[6].group, "sharp") && !strcmp(val(&p[6], SK_SCORE_STD), "1"), "sharp's first new point");
        CHECK(!strcmp(p[0].group, "nscale"), "first group");
    }
    char *d = n ? spec_point_describe(&p[0]) : NULL;
    CHECK(d && strstr(d, "vanilla") && strstr(d, "n=64"), "describe: %s", d ? d : "(null)");
    free(d);
    spec_points_free(p, n);
}

static void expect_error(const char *text, const char *want) {
    sweep_spec s;
    char err[512] = "";
    int rc = parse(text, &s, err, sizeof err);
    CHECK(rc == -1, "parsed, want error '%s'\n---\n%s", want, text);
    if (rc == 0) { spec_free(&s); return; }
    CHECK(strstr(err, want) != NULL, "error '%s', want it to contain '%s'", err, want);
}

static void test_errors(void) {
    expect_error("[g]\nattention vanilla\n\n# c\nfoo 1 2\n", "t.sweep:5: unknown knob 'foo'");
    expect_error("[g]\nattention vanilla\nn 64 12x\n", "t.sweep:3: n: '12x' is not a whole number");
    expect_error("[g]\nattention vanilla\nn -4\n", "t.sweep:3: n: '-4' is not");
    expect_error("[g]\nattention vanilla\nscore-std 1 nan\n", "t.sweep:3: score-std: 'nan' is not a finite number");
    expect_error("[g]\nattention vanilla\ncausal 2\n", "t.sweep:3: causal: '2' is not 0 or 1");
    expect_error("[g]\nattention vanilla\nn 64\nn 128\n", "t.sweep:4: knob 'n' given twice in group 'g' (first at line 3)");
    expect_error("[g]\nattention vanilla\nn 64 64.0\n", "t.sweep:3: n: '64.0' is not a whole number");
    /* the registry's range, as run's command line has it (fuzz_spec found n 0) */
    expect_error("[g]\nattention vanilla\nn 0 2\n", "t.sweep:3: n: '0' is not a whole number in 1..");
    expect_error("[g]\nattention vanilla\nn 64 064\n", "t.sweep:3: n: value '064' listed twice");
    expect_error("[g]\nattention\n", "t.sweep:2: knob 'attention' has no values");
    expect_error("[g]\nn 64\n", "t.sweep:1: group 'g' names no attention method");
    expect_error("n 64\n", "no [group]");
    expect_error("command ffn\n[g]\nattention vanilla\n", "t.sweep:1: 'command' belongs inside a [group]");
    expect_error("[g]\ncommand walk\n", "t.sweep:2: command is 'run', 'ffn', 'decode' or 'eval'");
    /* issue: a second `command` line replaced the first while a repeated knob was refused */
    expect_error("[g]\ncommand ffn\nattention exact\ncommand decode\n", "t.sweep:4: 'command' given twice in group 'g' (first at line 2)");
    expect_error("[g]\ncommand run\ncommand run\nattention vanilla\n", "t.sweep:3: 'command' given twice in group 'g' (first at line 2)");
    expect_error("[g]\nattention vanilla\n[g]\n", "t.sweep:3: group 'g' defined twice (first at line 1)");
    expect_error("[a b]\n", "t.sweep:1: a group line is [NAME]");
    expect_error("[]\n", "t.sweep:1: a group line is [NAME]");
    expect_error("[f]\ncommand ffn\nscore-std 2\n", "t.sweep:3: knob 'score-std' does not apply to `attnbench ffn`");
    expect_error("[g]\nattention vanilla\ninput a,b\n", "t.sweep:3: input: 'a,b' is not a name");
    /* a cross product past SPEC_MAX_POINTS is refused before it is expanded */
    {
        sweep_spec big;
        char e2[512];
        const char *huge = "n 1 2 3 4 5 6 7 8 9 10\nk 1 2 3 4 5 6 7 8 9 10\nchunk 1 2 3 4 5 6 7 8 9 10\n"
                           "seed 1 2 3 4 5 6 7 8 9 10\nreps 1 2 3 4 5 6 7 8 9 10 11\n[g]\nattention topk\n";
        CHECK(parse(huge, &big, e2, sizeof e2) == 0, "huge spec parses: %s", e2);
        sweep_point *hp = NULL;
        size_t hn = 0;
        CHECK(spec_expand(&big, &hp, &hn, e2, sizeof e2) == -2 && strstr(e2, "t.sweep:6: group 'g' takes the spec past"),
              "huge spec expanded (%zu points): %s", hn, e2);
        spec_free(&big);
    }
    /* and a spec that is fine: CRLF line ends, tabs, no final newline */
    sweep_spec s;
    char err[512];
    CHECK(parse("[g]\r\nattention\tvanilla\r\nn 64", &s, err, sizeof err) == 0, "CRLF spec: %s", err);
    spec_free(&s);
}

static void test_shards(void) {
    size_t np;
    sweep_point *p = points_of("[g]\nattention vanilla chunked\nn 64 128 256 512 1024\nchunk 32 64\n", &np);
    CHECK(np == 15, "%zu points, want 5 + 10", np);
    for (size_t nsh = 1; nsh <= np + 3; nsh++) {
        for (size_t i = 0; i < np; i++) {
            size_t owners = 0;
            for (size_t sh = 1; sh <= nsh; sh++) owners += spec_in_shard(p[i].index, sh, nsh);
            CHECK(owners == 1, "N=%zu: point %zu is in %zu shards", nsh, i, owners);
        }
        /* no shard is much bigger than another (round-robin) */
        size_t lo = np, hi = 0;
        for (size_t sh = 1; sh <= nsh; sh++) {
            size_t c = 0;
            for (size_t i = 0; i < np; i++) c += spec_in_shard(p[i].index, sh, nsh);
            if (c < lo) lo = c;
            if (c > hi) hi = c;
        }
        CHECK(hi - lo <= 1, "N=%zu: shard sizes %zu..%zu", nsh, lo, hi);
    }
    CHECK(spec_in_shard(3, 0, 0), "no --shard: every point");
    spec_points_free(p, np);

    size_t i, n;
    char err[200];
    CHECK(spec_parse_shard("2/5", &i, &n, err, sizeof err) == 0 && i == 2 && n == 5, "2/5");
    CHECK(spec_parse_shard("7/7", &i, &n, err, sizeof err) == 0 && i == 7 && n == 7, "7/7");
    static const char *const bad[] = {"0/3", "4/3", "1/0", "a/b", "1", "1/", "/2", "1/2x", "-1/2", ""};
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
        CHECK(spec_parse_shard(bad[b], &i, &n, err, sizeof err) == -1, "--shard '%s' accepted", bad[b]);
}

/* ---- variables, needs, input globs -------------------------------------- */

static sweep_point *points_env(const char *text, const spec_env *env, size_t *n, sweep_spec *keep) {
    sweep_spec s;
    char err[512];
    sweep_point *p = NULL;
    *n = 0;
    if (spec_parse_env(text, "t.sweep", env, &s, err, sizeof err)) {
        CHECK(0, "parse failed: %s\n---\n%s", err, text);
        return NULL;
    }
    CHECK(spec_expand(&s, &p, n, err, sizeof err) == 0, "expand: %s", err);
    if (keep) *keep = s;
    else spec_free(&s);
    return p;
}

static void expect_env_error(const char *text, const spec_env *env, const char *want) {
    sweep_spec s;
    char err[512] = "";
    int rc = spec_parse_env(text, "t.sweep", env, &s, err, sizeof err);
    CHECK(rc == -1, "parsed, want error '%s'\n---\n%s", want, text);
    if (rc == 0) { spec_free(&s); return; }
    CHECK(strstr(err, want) != NULL, "error '%s', want it to contain '%s'", err, want);
    CHECK(strchr(err, '\n') == NULL, "error is not one line: '%s'", err);
}

static void test_variables(void) {
    spec_env env = {0};
    char err[300];
    CHECK(spec_env_define(&env, "N=64 128", err, sizeof err) == 0, "%s", err);
    CHECK(spec_env_define(&env, "STDS=1  4.0", err, sizeof err) == 0, "%s", err);
    CHECK(spec_env_define(&env, "EMPTY=", err, sizeof err) == 0, "%s", err);
    CHECK(spec_env_get(&env, "N") && !strcmp(spec_env_get(&env, "N"), "64 128"), "N");
    CHECK(spec_env_get(&env, "NOPE") == NULL, "NOPE");
    CHECK(spec_env_define(&env, "N=1", err, sizeof err) == -1 && strstr(err, "N defined twice"), "twice: %s", err);
    CHECK(spec_env_define(&env, "novalue", err, sizeof err) == -1 && strstr(err, "NAME=VALUE"), "no '=': %s", err);
    CHECK(spec_env_define(&env, "1X=2", err, sizeof err) == -1 && strstr(err, "'1X'"), "digit first: %s", err);
    CHECK(spec_env_define(&env, "A-B=2", err, sizeof err) == -1, "'-' in a name");
    CHECK(spec_env_define(&env, "=2", err, sizeof err) == -1, "empty name");

    /* a variable may hold several values, beside values written out */
    size_t n;
    sweep_point *p = points_env("[g]\nattention vanilla\nn ${N} 256   # a comment with ${UNDEFINED}\nscore-std ${STDS}\n", &env, &n, NULL);
    CHECK(n == 6, "${N} 256 x ${STDS}: %zu points, want 6", n);
    if (n == 6) CHECK(!strcmp(val(&p[1], SK_N), "128") && !strcmp(val(&p[2], SK_N), "256") &&
                      !strcmp(val(&p[3], SK_SCORE_STD), "4"), "values %s %s %s", val(&p[1], SK_N), val(&p[2], SK_N), val(&p[3], SK_SCORE_STD));
    spec_points_free(p, n);

    expect_env_error("[g]\nattention vanilla\nn ${M}\n", &env, "t.sweep:3: ${M} is not defined (attnbench sweep --define M=VALUE)");
    expect_env_error("[g]\nattention vanilla\ninput ${CAPTURE}/layer*\n", &env, "t.sweep:3: ${CAPTURE} is not defined");
    expect_env_error("[g]\nattention vanilla\ninput ${CAPTURE}\n", &env, "--capture DIR");
    expect_env_error("[g]\nattention vanilla\nn $N\n", &env, "t.sweep:3: '$' starts a variable");
    expect_env_error("[g]\nattention vanilla\nn ${N\n", &env, "t.sweep:3: '$' starts a variable");
    expect_env_error("[g]\nattention vanilla\nn ${1N}\n", &env, "t.sweep:3: '$' starts a variable");
    expect_env_error("[g]\nattention vanilla\nn ${EMPTY}\n", &env, "t.sweep:3: knob 'n' has no values");
    /* a knob's name is literal: a line of variables alone is no knob line (nor a crash) */
    expect_env_error("${EMPTY}\n[g]\nattention vanilla\n", &env, "t.sweep:1: unknown knob '${EMPTY}'");
    expect_env_error("[g]\nattention vanilla\n${N}\n", &env, "t.sweep:3: unknown knob '${N}'");
    expect_env_error("[g]\nattention vanilla\nn ${N} 64\n", &env, "t.sweep:3: n: value '64' listed twice");
    expect_env_error("[g]\nattention vanilla\nn ${N}\n", NULL, "${N} is not defined");

    /* needs: the group is left out, and said so; the rest runs */
    const char *text = "[real]\nneeds CAPTURE N\ninput ${CAPTURE}/layer*\nattention topk\nk ${K}\n"
                       "[syn]\nattention vanilla\nn ${N}\n";
    sweep_spec s;
    p = points_env(text, &env, &n, &s);
    CHECK(n == 2 && s.ngroups == 1 && !strcmp(s.groups[0].name, "syn"), "needs: %zu points, %zu groups", n, s.ngroups);
    CHECK(s.nleft_out == 1 && !strcmp(s.left_out[0], "real (needs CAPTURE)"), "left out: %s",
          s.nleft_out ? s.left_out[0] : "(none)");
    spec_points_free(p, n);
    spec_free(&s);
    spec_env capture = {0};
    CHECK(spec_env_define(&capture, "CAPTURE=/data/run1", err, sizeof err) == 0 &&
          spec_env_define(&capture, "N=64", err, sizeof err) == 0 && spec_env_define(&capture, "K=4 8", err, sizeof err) == 0, "%s", err);
    p = points_env(text, &capture, &n, &s); /* globbing off: the pattern is taken as written */
    CHECK(n == 3 && s.ngroups == 2 && s.nleft_out == 0, "needs met: %zu points, %zu groups", n, s.ngroups);
    CHECK(n && !strcmp(val(&p[0], SK_INPUT), "/data/run1/layer*") && argv_has(&p[0], "--input", "/data/run1/layer*"),
          "input %s", n ? val(&p[0], SK_INPUT) : "-");
    spec_points_free(p, n);
    spec_free(&s);
    spec_env_free(&capture);

    expect_env_error("needs N\n[g]\nattention vanilla\n", &env, "t.sweep:1: 'needs' belongs inside a [group]");
    expect_env_error("[g]\nneeds\nattention vanilla\n", &env, "t.sweep:2: needs: name the variables");
    expect_env_error("[g]\nneeds a-b\nattention vanilla\n", &env, "t.sweep:2: needs: 'a-b' is not a variable name");
    expect_env_error("[g]\nneeds X\nattention vanilla\n", &env, "t.sweep: every group is left out: g (needs X)");
    /* a line that uses the variable before `needs` names it: an error */
    expect_env_error("[g]\nn ${X}\nneeds X\nattention vanilla\n[h]\nattention vanilla\n", &env, "t.sweep:2: ${X} is not defined");
    /* a left-out group's knob names are still checked */
    expect_env_error("[g]\nneeds X\nattention vanilla\nsocre-std ${X}\n[h]\nattention vanilla\n", &env, "t.sweep:4: unknown knob 'socre-std'");
    spec_env_free(&env);
    CHECK(env.count == 0 && env.names == NULL, "spec_env_free");
}

static char tmpdir[64];

static void make_dir_at(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    CHECK(mkdir(path, 0755) == 0, "mkdir %s", path);
}

static void test_input_glob(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_spec_XXXXXX");
    if (!mkdtemp(tmpdir)) { CHECK(0, "mkdtemp"); return; }
    static const char *const dirs[] = {"layer10", "layer2", "layer0", "layer1", "other"};
    for (size_t i = 0; i < 5; i++) make_dir_at(dirs[i]);
    spec_env env = {.glob = 1};
    char err[300];
    CHECK(spec_env_define(&env, "D", err, sizeof err) == -1, "a define without '='");
    char assign[128];
    snprintf(assign, sizeof assign, "CAPTURE=%s", tmpdir);
    CHECK(spec_env_define(&env, assign, err, sizeof err) == 0, "%s", err);

    /* defaults that fix sizes are not passed to a point with an input */
    size_t n;
    sweep_point *p = points_env("heads 4\nd-head 16\nn 64\nd-model 64\nscore-std 2\nhead-sim 0.5\nk 4\n"
                                "[real]\ninput ${CAPTURE}/layer*\nattention topk\ncausal 1\n"
                                "[syn]\nattention topk\n", &env, &n, NULL);
    CHECK(n == 5, "4 layers + 1 synthetic: %zu points", n);
    static const char *const order[] = {"layer0", "layer1", "layer2", "layer10"};
    for (size_t i = 0; i < 4 && i < n; i++) {
        char want[128];
        snprintf(want, sizeof want, "%s/%s", tmpdir, order[i]);
        CHECK(!strcmp(val(&p[i], SK_INPUT), want), "point %zu: input %s, want %s (natural order)", i, val(&p[i], SK_INPUT), want);
        CHECK(argv_has(&p[i], "--input", want) && argv_has(&p[i], "--k", "4") && argv_has(&p[i], "--causal", NULL),
              "point %zu argv lacks --input/--k/--causal", i);
        static const char *const fixed[] = {"--n", "--heads", "--d-head", "--d-model", "--score-std", "--head-sim"};
        for (size_t f = 0; f < 6; f++) CHECK(!argv_has(&p[i], fixed[f], NULL), "point %zu (an input) got %s", i, fixed[f]);
        CHECK(!p[i].value[SK_N] && !p[i].value[SK_SCORE_STD], "point %zu identifies by n/score-std", i);
    }
    if (n == 5) CHECK(argv_has(&p[4], "--n", "64") && argv_has(&p[4], "--score-std", "2") && !p[4].value[SK_INPUT],
                      "the synthetic point keeps its sizes");
    spec_points_free(p, n);

    /* a pattern that matches nothing: FILE:LINE */
    expect_env_error("[real]\nattention topk\ninput ${CAPTURE}/nothing* ${CAPTURE}/layer0\n", &env, "t.sweep:3: input: '");
    expect_env_error("[real]\nattention topk\ninput ${CAPTURE}/nothing*\n", &env, "/nothing*' matches nothing");
    /* the same directory twice, by a pattern and by name */
    expect_env_error("[real]\nattention topk\ninput ${CAPTURE}/layer? ${CAPTURE}/layer1\n", &env, "listed twice");
    /* an input's own group may not set what its files fix */
    expect_env_error("[real]\nattention topk\ninput ${CAPTURE}/layer0\nn 64\n", &env,
                     "t.sweep:4: knob 'n' does not go with 'input' (line 3)");
    expect_env_error("[real]\nattention topk\ninput ${CAPTURE}/layer0\nscore-std 4\n", &env, "t.sweep:4: knob 'score-std' does not go with 'input'");
    expect_env_error("input x\n[g]\nattention topk\nheads 2\n", &env, "t.sweep:4: knob 'heads' does not go with 'input' (line 1)");
    expect_env_error("input x\nd-head 8\n[g]\nattention topk\n", &env, "t.sweep:2: knob 'd-head' does not go with 'input'");
    /* ffn: its sizes too */
    expect_env_error("[f]\ncommand ffn\ninput x\nd-ff 64\n", &env, "t.sweep:4: knob 'd-ff' does not go with 'input'");
    spec_env_free(&env);

    /* --capture: the variables from DIR/capture.txt */
    char path[256];
    snprintf(path, sizeof path, "%s/capture.txt", tmpdir);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "# attnbench capture: q, k, v of a llama2.c checkpoint\ncheckpoint x.bin\n"
                   "config dim 64 hidden_dim 172 n_layers 3 n_heads 8 n_kv_heads 4 vocab_size 512 seq_len 512 shared_classifier 1\n"
                   "n 512\nnll_nats_per_token 2.979447\n"
                   "layer 0 logit_std 4.540038 entropy 1.945531\nlayer 1 logit_std 2.297716 entropy 3.366840\n"
                   "layer 2 logit_std 4.541 entropy 1.9\n");
        fclose(f);
    }
    spec_env cap = {0};
    CHECK(spec_env_capture(&cap, tmpdir, err, sizeof err) == 0, "capture: %s", err);
    static const char *const want[][2] = {{"CAPTURE_N", "512"}, {"CAPTURE_HEADS", "8"}, {"CAPTURE_D_HEAD", "8"},
                                          {"CAPTURE_LOGIT_STDS", "4.54 2.3"}};
    CHECK(spec_env_get(&cap, "CAPTURE") && !strcmp(spec_env_get(&cap, "CAPTURE"), tmpdir), "CAPTURE");
    for (size_t i = 0; i < 4; i++) {
        const char *v = spec_env_get(&cap, want[i][0]);
        CHECK(v && !strcmp(v, want[i][1]), "%s = '%s', want '%s'", want[i][0], v ? v : "(undefined)", want[i][1]);
    }
    CHECK(spec_env_capture(&cap, tmpdir, err, sizeof err) == -1 && strstr(err, "defined twice"), "capture twice: %s", err);
    spec_env_free(&cap);
    snprintf(path, sizeof path, "%s/layer0", tmpdir);
    CHECK(spec_env_capture(&cap, path, err, sizeof err) == -1 && strstr(err, "layer0/capture.txt") && strstr(err, "cannot read"),
          "not a capture: %s", err);
    snprintf(path, sizeof path, "%s/other/capture.txt", tmpdir);
    f = fopen(path, "w");
    if (f) { fprintf(f, "n 512\n"); fclose(f); }
    snprintf(path, sizeof path, "%s/other", tmpdir);
    CHECK(spec_env_capture(&cap, path, err, sizeof err) == -1 && strstr(err, "lacks the n, config or layer lines"),
          "a capture.txt without layers: %s", err);
    spec_env_free(&cap);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    CHECK(system(cmd) == 0, "%s", cmd);
}

/* the specs in the repository parse (when the test runs from its root) */
static void test_repo_specs(void) {
    static const char *const files[] = {"bench/sweeps/default.sweep", "bench/sweeps/quick.sweep"};
    for (size_t f = 0; f < 2; f++) {
        if (access(files[f], R_OK) != 0) continue;
        sweep_spec s;
        char err[512];
        CHECK(spec_load(files[f], &s, err, sizeof err) == 0, "%s", err);
        if (check_failures) continue;
        sweep_point *p;
        size_t n;
        CHECK(spec_expand(&s, &p, &n, err, sizeof err) == 0 && n > 0, "%s: %s", files[f], err);
        spec_points_free(p, n);
        spec_free(&s);
        /* and with a capture's and the models' variables (globbing off): the
         * real and model-level studies join */
        spec_env env = {0};
        static const char *const defs[] = {"CAPTURE=results/real", "CAPTURE_N=512", "CAPTURE_HEADS=8",
                                           "CAPTURE_D_HEAD=8", "CAPTURE_LOGIT_STDS=2.3 4.54",
                                           "MODELS=a.bin b.bin"};
        for (size_t i = 0; i < 6; i++) CHECK(spec_env_define(&env, defs[i], err, sizeof err) == 0, "%s", err);
        CHECK(spec_load_env(files[f], &env, &s, err, sizeof err) == 0 && s.nleft_out == 0, "%s with a capture: %s", files[f], err);
        if (check_failures) { spec_env_free(&env); continue; }
        size_t with;
        CHECK(spec_expand(&s, &p, &with, err, sizeof err) == 0 && with > n, "%s: %zu points with a capture, %zu without", files[f], with, n);
        spec_points_free(p, with);
        spec_free(&s);
        spec_env_free(&env);
    }
    sweep_spec s;
    char err[512];
    CHECK(spec_load("/nonexistent/x.sweep", &s, err, sizeof err) == -1 && strstr(err, "x.sweep"),
          "missing file: %s", err);
}

/* `command decode` and `command eval` groups: their own knobs (context,
 * steps, batch; llama2c, sequences, layers) cross there only; a method's
 * knobs only for the methods that read them (decode's exact reads none);
 * defaults a command does not take are not passed; `needs MODEL` leaves an
 * eval group out until --define MODEL=path */
static void test_commands(void) {
    const char *text = "n 64\nscore-std 2\nthreads 1\n"
                       "[dec]\ncommand decode\nattention exact topk performer\ncontext 128 256\nsteps 8\nbatch 1 2\n"
                       "k 4 8\nfeatures 16\n"
                       "[model]\ncommand eval\nneeds MODEL\nllama2c ${MODEL}\nattention model topk\nk 8 16 32\nsequences 4\n";
    spec_env env = {0};
    char err[512];
    sweep_spec s;
    CHECK(spec_parse_env(text, "t.sweep", &env, &s, err, sizeof err) == 0, "parse without MODEL: %s", err);
    size_t n = 0;
    sweep_point *p = NULL;
    if (!check_failures) {
        CHECK(s.ngroups == 1 && s.nleft_out == 1 && strstr(s.left_out[0], "model (needs MODEL)"), "eval group left out: %zu groups, %zu left out",
              s.ngroups, s.nleft_out);
        CHECK(spec_expand(&s, &p, &n, err, sizeof err) == 0, "expand: %s", err);
        /* exact 2x2 (context, batch), topk 2x2x2 (k), performer 2x2 */
        size_t want = 4 + 8 + (attn_method_find("performer") ? 4 : 4);
        CHECK(n == want, "decode points %zu, want %zu", n, want);
        for (size_t i = 0; i < n; i++) {
            const unsigned reads = knob_method_bits(SPEC_DECODE, p[i].value[SK_ATTENTION]);
            CHECK(p[i].command == SPEC_DECODE && !strcmp(spec_command_name(p[i].command), "decode"), "point %zu: command %d", i, p[i].command);
            CHECK(!p[i].value[SK_K] == !(reads & KNOB_K) || !strcmp(p[i].value[SK_ATTENTION], "exact"), "decode point %zu (%s): k %s", i,
                  val(&p[i], SK_ATTENTION), val(&p[i], SK_K));
            CHECK(!strcmp(p[i].value[SK_ATTENTION], "exact") ? !p[i].value[SK_K] && !p[i].value[SK_FEATURES] : 1, "exact reads no knob");
            CHECK(argv_has(&p[i], "--context", NULL) && argv_has(&p[i], "--steps", "8") && argv_has(&p[i], "--batch", NULL),
                  "decode point %zu: context, steps, batch in argv", i);
            CHECK(!p[i].value[SK_N] && p[i].value[SK_SCORE_STD] && !strcmp(p[i].value[SK_THREADS], "1"),
                  "decode point %zu: n %s (decode takes none), score-std %s", i, val(&p[i], SK_N), val(&p[i], SK_SCORE_STD));
        }
        spec_points_free(p, n);
        spec_free(&s);
    }
    CHECK(spec_env_define(&env, "MODEL=/m/stories.bin", err, sizeof err) == 0, "define: %s", err);
    CHECK(spec_parse_env(text, "t.sweep", &env, &s, err, sizeof err) == 0, "parse with MODEL: %s", err);
    if (check_failures) { spec_env_free(&env); return; }
    CHECK(spec_expand(&s, &p, &n, err, sizeof err) == 0, "expand: %s", err);
    size_t eval = 0, k_eval = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i].command != SPEC_EVAL) continue;
        eval++;
        k_eval += p[i].value[SK_K] != NULL;
        CHECK(argv_has(&p[i], "--llama2c", "/m/stories.bin") && argv_has(&p[i], "--sequences", "4") && argv_has(&p[i], "--n", "64"),
              "eval point %zu: llama2c, sequences, n in argv", i);
        CHECK(!p[i].value[SK_SCORE_STD], "eval point %zu got score-std", i);
        char *d = spec_point_describe(&p[i]);
        CHECK(d && !strncmp(d, "eval ", 5), "describe: %s", d ? d : "(null)");
        free(d);
    }
    CHECK(eval == (attn_method_find("topk") ? 4u : 1u) && k_eval == eval - 1, "eval points %zu (k on %zu): model once, topk per k", eval, k_eval);
    spec_points_free(p, n);
    spec_free(&s);
    spec_env_free(&env);
    expect_error("[g]\nattention vanilla\ncontext 128\n", "t.sweep:3: knob 'context' does not apply to `attnbench run`");
    expect_error("[g]\ncommand decode\nchunk 16\n", "t.sweep:3: knob 'chunk' does not apply to `attnbench decode`");
    expect_error("[g]\nattention vanilla\ncsv x.csv\n", "t.sweep:3: unknown knob 'csv'");
}

int main(void) {
    test_crossing();
    test_method_knobs();
    test_groups();
    test_errors();
    test_shards();
    test_variables();
    test_input_glob();
    test_repo_specs();
    test_commands();
    return check_summary("test_spec");
}
