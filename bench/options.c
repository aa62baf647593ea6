/* options.c — one table of options; strict number parsing. */
#include "options.h"
#include "attention.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef enum { T_STR, T_SIZE, T_U64, T_DOUBLE, T_FLAG } opt_type;

typedef struct {
    const char *name;
    opt_type type;
    size_t offset;
    unsigned kinds;      /* bit OPTS_RUN, bit OPTS_FFN */
    const char *help;
} opt_def;

#define RUN (1u << OPTS_RUN)
#define FFN (1u << OPTS_FFN)
#define CAP (1u << OPTS_CAPTURE)
#define DEC (1u << OPTS_DECODE)
#define EVAL (1u << OPTS_EVAL)
#define OFF(f) offsetof(run_options, f)
static const opt_def defs[] = {
    {"attention", T_STR, OFF(attention), RUN | FFN | EVAL | DEC, "run: attention operator; ffn: topk or exact (see below)"},
    {"projection", T_STR, OFF(projection), RUN | EVAL | DEC, "projection scheme (see below)"},
    {"llama2c", T_STR, OFF(llama2c), CAP | EVAL, "the llama2.c checkpoint (required)"},
    {"out", T_STR, OFF(out), CAP, "where to write (created if missing; required)"},
    {"n", T_SIZE, OFF(n), RUN | FFN | CAP | EVAL, "sequence length (capture: default the checkpoint's seq_len)"},
    {"heads", T_SIZE, OFF(heads), RUN | DEC, "query heads"},
    {"kv-heads", T_SIZE, OFF(kv_heads), RUN | EVAL | DEC, "key/value heads for gqa (divides heads)"},
    {"d-head", T_SIZE, OFF(d_head), RUN | DEC, "head size"},
    {"d-model", T_SIZE, OFF(d_model), RUN | FFN | DEC, "model width (default heads*d_head; ffn 768)"},
    {"d-ff", T_SIZE, OFF(d_ff), FFN, "feed-forward hidden units (default 4*d_model)"},
    {"k", T_SIZE, OFF(k), RUN | FFN | DEC, "top-k: keys kept per query (default min(64, n))"},
    {"chunk", T_SIZE, OFF(chunk), RUN | FFN, "query (and key) block size"},
    {"features", T_SIZE, OFF(features), RUN | DEC, "Performer random features (default ceil(d_head ln d_head))"},
    {"causal", T_FLAG, OFF(causal), RUN, "causal mask (--causal, or --causal=0|1)"},
    {"score-std", T_DOUBLE, OFF(score_std), RUN | DEC, "synthetic: std of the logits q.k/sqrt(d) (1 flat .. 8 peaked)"},
    {"head-sim", T_DOUBLE, OFF(head_sim), RUN | DEC, "synthetic: similarity of the heads' weights, 0..1"},
    {"seed", T_U64, OFF(seed), RUN | FFN | CAP | EVAL | DEC, "seed of the synthetic input, random features, or sampler"},
    {"temperature", T_DOUBLE, OFF(temperature), CAP | EVAL, "sampling temperature (default 1; 0: greedy argmax)"},
    {"tokens", T_STR, OFF(tokens), CAP | EVAL, "use this 1-D integer .npy token sequence instead of sampling"},
    {"threads", T_SIZE, OFF(threads), RUN | FFN | CAP | EVAL | DEC, "threads: of BLAS and of the kernels (default 1)"},
    {"warmup", T_SIZE, OFF(warmup), RUN | FFN | DEC, "untimed calls before timing"},
    {"reps", T_SIZE, OFF(reps), RUN | FFN, "timed calls (0: at least 3 and 1 s of work)"},
    {"ref-rows", T_SIZE, OFF(ref_rows), RUN | FFN, "error over R evenly spaced query rows (0: all)"},
    {"input", T_STR, OFF(input), RUN | FFN | DEC, "read .npy tensors from DIR instead of synthetic"},
    {"dump", T_STR, OFF(dump), RUN | FFN, "write q/k/v, out.npy and ref.npy into DIR"},
    {"csv", T_STR, OFF(csv), RUN | FFN | EVAL | DEC, "append the row to FILE (header if new); sidecar: FILE with .csv replaced by .env"},
    {"row-only", T_FLAG, OFF(row_only), RUN | FFN | EVAL | DEC, "print only the data line (for the sweep runner)"},
    /* eval: knobs as one value or one per substituted layer ("8,16,32") */
    {"layers", T_STR, OFF(layers), EVAL, "eval: substituted layers: all (default) or a list, e.g. 0,2,4"},
    {"k", T_STR, OFF(eval_k), EVAL, "eval: top-k keys kept, one value or one per layer (default min(64, n))"},
    {"chunk", T_STR, OFF(eval_chunk), EVAL, "eval: query block size, one value or one per layer (default 256)"},
    {"features", T_STR, OFF(eval_features), EVAL, "eval: Performer features, one value or one per layer"},
    {"sink", T_STR, OFF(eval_sink), EVAL, "eval: window sink keys, one value or one per layer (default 4)"},
    {"window", T_STR, OFF(eval_window), EVAL, "eval: window keys, one value or one per layer (default min(64, n))"},
    {"ffn", T_STR, OFF(ffn), EVAL, "eval: topk: also the SwiGLU of the substituted layers (--ffn-k)"},
    {"ffn-k", T_SIZE, OFF(ffn_k), EVAL, "eval: gated hidden units kept per token by --ffn topk"},
    {"sequences", T_SIZE, OFF(sequences), EVAL, "eval: sequences sampled from BOS (default 8) or taken"},
    {"text", T_STR, OFF(text), EVAL, "eval: tokenize this text file (with --tokenizer) into sequences"},
    {"tokenizer", T_STR, OFF(tokenizer), EVAL, "eval: a llama2.c tokenizer file (tokenizer.bin)"},
    {"generate", T_SIZE, OFF(generate), EVAL, "eval: greedy-generate G tokens after the first n-G, both models"},
    {"target-dnll", T_DOUBLE, OFF(target_dnll), EVAL, "eval: plan per-layer top-k k for this dnll (nats/token)"},
    {"target-kl", T_DOUBLE, OFF(target_kl), EVAL, "eval: plan per-layer top-k k for this KL (nats/token)"},
    {"context", T_SIZE, OFF(context), DEC, "tokens in the cache before the timed steps (default 4096)"},
    {"steps", T_SIZE, OFF(steps), DEC, "tokens generated one at a time, timed (default 64)"},
    {"batch", T_SIZE, OFF(batch), DEC, "sequences decoded together, a cache each (default 1)"},
    {"sink", T_SIZE, OFF(sink), DEC, "window: the first keys every query sees (default 4)"},
    {"window", T_SIZE, OFF(window), DEC, "window: the most recent keys a query sees (default 256)"},
    {"probe", T_FLAG, OFF(probe), DEC, "print the read-bandwidth probe (1 and --threads threads) instead"},
};
enum { NDEFS = sizeof defs / sizeof defs[0] };

int bad_input(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "attnbench %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
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
    o->chunk = 256;
    o->score_std = 4.0;
    o->head_sim = 0.0;
    o->seed = 1;
    o->threads = 1;
    o->warmup = 1;
    o->reps = 0;
}

int options_given(const run_options *o, const char *name) {
    for (int i = 0; i < NDEFS; i++)
        if (!strcmp(defs[i].name, name)) return (o->set >> i) & 1;
    return 0;
}

void options_usage(FILE *f, opts_kind kind) {
    for (int i = 0; i < NDEFS; i++) {
        if (!(defs[i].kinds & (1u << kind))) continue;
        char lhs[40];
        snprintf(lhs, sizeof lhs, "--%s%s", defs[i].name,
                 defs[i].type == T_FLAG ? "" : defs[i].type == T_STR ? " NAME" : " N");
        fprintf(f, "  %-20s %s\n", lhs, defs[i].help);
    }
}

static int parse_value(const char *cmd, const opt_def *d, const char *val, run_options *o) {
    char *p = (char *)o + d->offset, *end;
    errno = 0;
    switch (d->type) {
    case T_STR:
        if (!*val) return bad_input(cmd, "--%s: empty value", d->name);
        *(const char **)p = val;
        return 0;
    case T_SIZE:
    case T_U64: {
        if (*val == '-' || *val == '+' || *val == ' ' || !*val)
            return bad_input(cmd, "--%s '%s': expected a non-negative integer", d->name, val);
        unsigned long long v = strtoull(val, &end, 10);
        if (*end) return bad_input(cmd, "--%s '%s': expected a non-negative integer", d->name, val);
        if (errno == ERANGE || (d->type == T_SIZE && v > SIZE_MAX))
            return bad_input(cmd, "--%s '%s': too large", d->name, val);
        if (d->type == T_SIZE) *(size_t *)p = (size_t)v;
        else *(uint64_t *)p = (uint64_t)v;
        return 0;
    }
    case T_DOUBLE: {
        double v = strtod(val, &end);
        if (*val && !*end && errno == ERANGE) /* strtod: beyond double's range, or below its smallest normal */
            return bad_input(cmd, "--%s '%s': out of range (%s)", d->name, val,
                             fabs(v) < 1 ? "too small: it underflows a double" : "too large for a double");
        if (!*val || *end || !isfinite(v))
            return bad_input(cmd, "--%s '%s': expected a finite number", d->name, val);
        *(double *)p = v;
        return 0;
    }
    case T_FLAG:
        if (!strcmp(val, "1") || !strcmp(val, "true")) *(int *)p = 1;
        else if (!strcmp(val, "0") || !strcmp(val, "false")) *(int *)p = 0;
        else return bad_input(cmd, "--%s='%s': expected 0 or 1", d->name, val);
        return 0;
    }
    return 2;
}

int options_parse(run_options *o, opts_kind kind, int argc, char **argv) {
    const char *cmd = argv[0];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return 1;
        if (strncmp(a, "--", 2) != 0) return bad_input(cmd, "unexpected argument '%s'", a);
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const opt_def *d = NULL;
        int di = 0;
        for (di = 0; di < NDEFS; di++)
            if (strlen(defs[di].name) == nlen && !strncmp(defs[di].name, name, nlen) &&
                (defs[di].kinds & (1u << kind))) { d = &defs[di]; break; }
        if (!d) return bad_input(cmd, "unknown option '%.*s' (see attnbench %s --help)", (int)(nlen + 2), a, cmd);
        if ((o->set >> di) & 1) return bad_input(cmd, "--%s given twice", d->name);
        o->set |= 1ull << di;
        const char *val;
        if (eq) val = eq + 1;
        else if (d->type == T_FLAG) val = "1";
        else if (i + 1 < argc) val = argv[++i];
        else return bad_input(cmd, "--%s needs a value", d->name);
        int rc = parse_value(cmd, d, val, o);
        if (rc) return rc;
    }
    return 0;
}
