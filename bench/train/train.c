/* train.c — `attnbench train --llama2c CKPT --projection P`: how much
 * uptraining buys back a conversion's loss. The student is the checkpoint
 * with its attention projections converted (mqa, gqa, mhe-add, mhe-mul; the
 * conversions eval makes, train_model.h), trained against the checkpoint as
 * teacher on sequences it sampled (or --tokens / --text; train_data.h) with
 * AdamW on a cosine schedule (train_opt.h), the loss KL(teacher || student)
 * of the next-token distributions (distillation), cross-entropy on the
 * tokens, or half each. Before, every --eval-every steps (the --curve CSV)
 * and after, the student is measured on held-out sequences against the
 * teacher: its NLL, the change dnll, KL(teacher || student), top-1
 * agreement. One CSV row (regime model, eval's columns, and train_steps,
 * train_tokens, train_seconds, dnll_before, kl_before, ...). --out FILE
 * writes the student (train_io.h) for `attnbench eval --llama2c FILE`.
 *
 * Order of work: every option, the checkpoint and the sequences are
 * validated before anything runs (bad input: one line, exit 2, no row); a
 * student or activations that do not fit in memory: an oom row, exit 3. */
#include "commands.h"
#include "decode.h"
#include "env.h"
#include "measure.h"
#include "methods.h"
#include "report.h"
#include "train_data.h"
#include "train_io.h"
#include "train_opt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cmd = "train";

enum { DEFAULT_STEPS = 100, DEFAULT_BATCH = 8 };
#define DEFAULT_LR 1e-3
#define PROGRESS_SECONDS 5.0

static void usage(void) {
    printf("usage: attnbench train --llama2c CHECKPOINT --projection P [options]\n\n"
           "Converts the checkpoint's attention projections (P: mqa, gqa with --kv-heads G,\n"
           "mhe-add, mhe-mul; mha: the checkpoint itself) as eval does, then trains the\n"
           "student against the checkpoint as teacher (AdamW, cosine schedule) on sampled\n"
           "sequences, and prints one CSV row (regime model): the held-out nll, dnll and\n"
           "kl after training, dnll_before and kl_before (the conversion alone), the\n"
           "budget (train_steps, train_tokens, train_seconds). Progress on stderr.\n\noptions:\n");
    options_usage(stdout, OPTS_TRAIN);
    printf("\nexit status: 0 ok; 2 bad input (no row); 3 out of memory (an oom row); 1 any other failure.\n");
}

typedef struct {
    run_options o;
    llama_model md;              /* the teacher */
    train_data data;
    train_model m;
    train_acts a;
    train_adamw opt;
    train_kind kind;
    size_t kv;
    train_loss_kind loss;
    const char *projection;
    const proj_scheme *ps;
    float *t_heldout, *t_batch;  /* teacher logits: (N, n, V), (B, n, V) */
    llama_state ts;              /* the teacher's state, one sequence */
    double nll_teacher, train_seconds;
    size_t steps_done;
} train_run;

/* the held-out figures of the student now */
typedef struct { double nll, dnll, dnll_se, kl, top1; } heldout_stats;

/* projection, kv heads, loss, trainable, numbers; 0 or 2 after a message */
static int configure(train_run *r) {
    run_options *o = &r->o;
    const llama_config *c = &r->md.c;
    if (!options_given(o, "projection"))
        return bad_input(cmd, "--projection is required (mqa, gqa, mhe-add, mhe-mul; mha: the checkpoint itself)");
    const proj_scheme *ps = proj_scheme_find(o->projection);
    if (!ps) return bad_input(cmd, "unknown --projection '%s' (mqa, gqa, mhe-add, mhe-mul, mha)", o->projection);
    r->projection = ps->name;
    r->ps = ps;
    r->kind = !ps->embed ? TRAIN_GROUPED : ps->embed->multiplies ? TRAIN_MHE_MUL : TRAIN_MHE_ADD;
    size_t want = options_given(o, "kv-heads") ? o->kv_heads : (ps->knobs & KNOB_KV_HEADS) ? (size_t)c->n_kv_heads : 0;
    r->kv = ps->kv_heads_for((size_t)c->n_heads, want);
    if (options_given(o, "kv-heads") && r->kv != o->kv_heads)
        return bad_input(cmd, "--kv-heads %zu does not apply to --projection %s (it has %zu K/V heads)", o->kv_heads, ps->name, r->kv);
    if (!r->kv || (size_t)c->n_heads % r->kv)
        return bad_input(cmd, "--kv-heads %zu must divide the checkpoint's %d heads", r->kv, c->n_heads);
    if (!strcmp(o->loss, "kl")) r->loss = TRAIN_LOSS_KL;
    else if (!strcmp(o->loss, "ce")) r->loss = TRAIN_LOSS_CE;
    else if (!strcmp(o->loss, "mix")) r->loss = TRAIN_LOSS_MIX;
    else return bad_input(cmd, "--loss '%s': kl, ce or mix", o->loss);
    if (strcmp(o->trainable, "attention") != 0 && strcmp(o->trainable, "all") != 0)
        return bad_input(cmd, "--trainable '%s': attention or all", o->trainable);
    if (!(o->lr > 0)) return bad_input(cmd, "--lr %g: must be positive", o->lr);
    if (o->weight_decay < 0) return bad_input(cmd, "--weight-decay %g: must be 0 or positive", o->weight_decay);
    if (!options_given(o, "warmup-steps")) o->warmup_steps = o->train_steps / 10;
    if (o->warmup_steps > o->train_steps) return bad_input(cmd, "--warmup-steps %zu exceeds --train-steps %zu", o->warmup_steps, o->train_steps);
    if (!o->eval_every) o->eval_every = o->train_steps >= 10 ? (o->train_steps + 9) / 10 : 1;
    return 0;
}

/* llama_override.attention: adds each layer's RMS-normed attention input to
 * ctx's running mean (for mhe-add's fit) and lets the model attend */
typedef struct { double *sum; size_t dim, rows; } xbar_ctx;
static int add_xb(void *ctx, int layer, const float *xb, size_t pos, size_t m, float *att) {
    (void)pos; (void)att;
    xbar_ctx *x = ctx;
    for (size_t r = 0; r < m; r++)
        for (size_t i = 0; i < x->dim; i++) x->sum[(size_t)layer * x->dim + i] += xb[r * x->dim + i];
    if (layer == 0) x->rows += m;
    return 0;
}

/* xbar (layers, dim): the mean attention input of each layer of the teacher
 * over the training sequences; 0 or -1 (memory) */
static int mean_inputs(train_run *r, float *xbar) {
    const llama_config *c = &r->md.c;
    const size_t L = (size_t)c->n_layers, d = (size_t)c->dim;
    xbar_ctx x = {calloc(L * d, sizeof(double)), d, 0};
    if (!x.sum) return -1;
    llama_override ov = {add_xb, NULL, &x};
    for (size_t s = 0; s < r->data.M; s++) llama_forward_with(&r->md, &r->ts, r->data.train + s * r->data.n, 0, r->data.n, &ov);
    for (size_t i = 0; i < L * d; i++) xbar[i] = (float)(x.sum[i] / (double)x.rows);
    free(x.sum);
    return 0;
}

/* the teacher's logits of count sequences of n tokens into out (count, n, V) */
static void teacher_logits(train_run *r, const int *tokens, size_t count, float *out) {
    const size_t n = r->data.n, V = (size_t)r->md.c.vocab_size;
    for (size_t s = 0; s < count; s++) {
        llama_forward(&r->md, &r->ts, tokens + s * n, 0, n);
        llama_logits(&r->md, r->ts.x, n, out + s * n * V);
    }
}

/* the student over the held-out sequences, B at a time (a partial batch
 * runs with fewer rows in the same activations) */
static int heldout(train_run *r, heldout_stats *h) {
    const size_t N = r->data.N, n = r->data.n, V = (size_t)r->md.c.vocab_size, B = r->a.B;
    double sum_dn = 0, sum_dn2 = 0;
    train_sums all = {0};
    int rc = 0;
    for (size_t s0 = 0; s0 < N && !rc; s0 += B) {
        const size_t b = N - s0 < B ? N - s0 : B;
        r->a.B = b;
        r->a.R = b * n;
        rc = train_forward(&r->m, &r->a, r->data.heldout + s0 * n);
        for (size_t i = 0; i < b && !rc; i++) {
            train_sums one = {0};
            train_compare(r->a.logits + i * n * V, r->t_heldout + (s0 + i) * n * V, r->data.heldout + (s0 + i) * n, 1, n,
                          V, &one);
            if (isnan(one.positions)) rc = -1;
            double dn = (one.nll - one.nll_teacher) / one.positions;
            sum_dn += dn;
            sum_dn2 += dn * dn;
            all.nll += one.nll; all.nll_teacher += one.nll_teacher; all.kl += one.kl;
            all.top1 += one.top1; all.positions += one.positions;
        }
    }
    r->a.B = B;
    r->a.R = B * n;
    if (rc) return -1;
    h->nll = all.nll / all.positions;
    r->nll_teacher = all.nll_teacher / all.positions;
    h->dnll = sum_dn / (double)N;
    double var = N > 1 ? (sum_dn2 - sum_dn * sum_dn / (double)N) / (double)(N - 1) : NAN;
    h->dnll_se = N > 1 ? sqrt(fmax(var, 0) / (double)N) : NAN;
    h->kl = all.kl / all.positions;
    h->top1 = all.top1 / all.positions;
    return 0;
}

/* the decoding cache of one sequence of n tokens, all layers (eval's
 * formula: MHE holds one shared K/V head) */
static size_t cache_bytes(const train_run *r, size_t n) {
    const llama_config *c = &r->md.c;
    const attn_method *exact = attn_methods; /* the first exact operator: vanilla */
    while (exact->name && !(exact->flags & ATTN_EXACT)) exact++;
    decode_config dc;
    attn_knobs kn;
    memset(&kn, 0, sizeof kn);
    kn.threads = 1;
    if (!exact->name || decode_config_of(&dc, exact, r->ps, (size_t)c->n_heads, r->kv, (size_t)c->head_size, n, &kn))
        return 0;
    return size_mul_sat((size_t)c->n_layers, decode_cache_bytes(&dc));
}

/* the columns that identify the point, and the configuration's */
static void fill_identity(result_row *row, const train_run *r) {
    const llama_config *c = &r->md.c;
    const run_options *o = &r->o;
    row_set(row, COL_regime, "model");
    row_set(row, COL_layer, "attention");
    row_set(row, COL_attention, "vanilla"); /* exact attention on the student's projections */
    row_set(row, COL_projection, "%s", r->projection);
    row_set(row, COL_n, "%zu", r->data.n);
    row_set(row, COL_heads, "%d", c->n_heads);
    row_set(row, COL_kv_heads, "%zu", r->kv);
    row_set(row, COL_d_head, "%d", c->head_size);
    row_set(row, COL_d_model, "%d", c->dim);
    row_set(row, COL_d_ff, "%d", c->hidden_dim);
    row_set(row, COL_causal, "1");
    row_set_common(row, o);
    row_set(row, COL_input, "%s", o->llama2c);
    row_set(row, COL_sequences, "%zu", r->data.N);
    row_set(row, COL_layers, "all");
    row_set(row, COL_train_steps, "%zu", o->train_steps);
    row_set(row, COL_train_lr, "%g", o->lr);
    row_set(row, COL_train_batch, "%zu", o->train_batch);
    row_set(row, COL_trainable, "%s", o->trainable);
    row_set(row, COL_train_loss, "%s", o->loss);
}

static void fill_row(result_row *row, const train_run *r, const heldout_stats *before, const heldout_stats *after) {
    const llama_config *c = &r->md.c;
    fill_identity(row, r);
    row_set(row, COL_status, "ok");
    row_set(row, COL_peak_rss_bytes, "%zu", rss_peak(&(rss_probe){0, 0}));
    proj_shape ps = {r->data.n, (size_t)c->dim, (size_t)c->n_heads, r->kv, (size_t)c->head_size};
    row_set(row, COL_params, "%zu", size_mul_sat((size_t)c->n_layers, proj_scheme_find(r->projection)->params(&ps)));
    row_set(row, COL_nll, "%.6g", after->nll);
    row_set(row, COL_dnll, "%.6g", after->dnll);
    if (isfinite(after->dnll_se)) row_set(row, COL_dnll_se, "%.3g", after->dnll_se);
    row_set(row, COL_kl, "%.6g", after->kl);
    row_set(row, COL_top1, "%.6g", after->top1);
    row_set(row, COL_cache_bytes, "%zu", cache_bytes(r, r->data.n));
    row_set(row, COL_train_tokens, "%zu", r->steps_done * r->o.train_batch * r->data.n);
    row_set(row, COL_train_seconds, "%.3f", r->train_seconds);
    row_set(row, COL_dnll_before, "%.6g", before->dnll);
    row_set(row, COL_kl_before, "%.6g", before->kl);
    row_set(row, COL_note, "exact nll %.6g; AdamW (0.9, 0.95), clip 1, weight decay %g, warmup %zu, cosine to lr/10; "
            "%zu training sequences; %s", r->nll_teacher, r->o.weight_decay, r->o.warmup_steps, r->data.M, r->data.source);
}

/* step (after `step` updates; loss: the mean since the last report, NAN at
 * step 0): a curve row and a progress line */
static int report(train_run *r, FILE *curve, size_t step, double loss) {
    heldout_stats h;
    if (heldout(r, &h)) return -1;
    const size_t tokens = step * r->o.train_batch * r->data.n;
    if (curve) {
        fprintf(curve, "%zu,%zu,", step, tokens);
        if (isfinite(loss)) fprintf(curve, "%.6g", loss);
        fprintf(curve, ",%.6g,%.6g\n", h.dnll, h.kl);
        fflush(curve);
    }
    const double el = r->train_seconds;
    if (!step)
        fprintf(stderr, "attnbench train: the conversion (%s, %zu K/V heads): held-out dnll %.4g kl %.4g\n", r->projection,
                r->kv, h.dnll, h.kl);
    else
        fprintf(stderr, "attnbench train: step %zu/%zu (%zu tokens) loss %.4g; held-out dnll %.4g kl %.4g; %.0f tok/s, "
                "ETA %.0f s\n", step, r->o.train_steps, tokens, loss, h.dnll, h.kl, (double)tokens / el,
                el / (double)step * (double)(r->o.train_steps - step));
    return 0;
}

/* the training loop; after it, r->steps_done updates. 0 or -1 with err */
static int train_loop(train_run *r, FILE *curve, char *err, size_t errlen) {
    const run_options *o = &r->o;
    const size_t B = o->train_batch, n = r->data.n, V = (size_t)r->md.c.vocab_size;
    int *batch = malloc(B * n * sizeof(int));
    if (!batch) { snprintf(err, errlen, "out of memory"); return -1; }
    double loss_sum = 0, last_print = now_seconds();
    size_t loss_count = 0;
    int rc = report(r, curve, 0, NAN);
    for (size_t step = 0; step < o->train_steps && !rc; step++) {
        const double t0 = now_seconds();
        for (size_t i = 0; i < B; i++) /* the training sequences in turn */
            memcpy(batch + i * n, r->data.train + ((step * B + i) % r->data.M) * n, n * sizeof(int));
        teacher_logits(r, batch, B, r->t_batch);
        train_zero_grad(&r->m);
        if (train_forward(&r->m, &r->a, batch)) { rc = -1; break; }
        double loss = train_loss_grad(r->loss, r->a.logits, r->t_batch, batch, B, n, V);
        if (!isfinite(loss) || train_backward(&r->m, &r->a, batch)) { rc = -1; break; }
        train_adamw_step(&r->opt, &r->m, train_lr(step, o->train_steps, o->warmup_steps, o->lr));
        r->train_seconds += now_seconds() - t0;
        r->steps_done = step + 1;
        loss_sum += loss;
        loss_count++;
        if (r->steps_done % o->eval_every == 0 || r->steps_done == o->train_steps) {
            rc = report(r, curve, r->steps_done, loss_sum / (double)loss_count);
            loss_sum = 0;
            loss_count = 0;
            last_print = now_seconds();
        } else if (now_seconds() - last_print > PROGRESS_SECONDS) {
            const double el = r->train_seconds;
            fprintf(stderr, "attnbench train: step %zu/%zu loss %.4g; %.0f tok/s, ETA %.0f s\n", r->steps_done,
                    o->train_steps, loss, (double)(r->steps_done * B * n) / el,
                    el / (double)r->steps_done * (double)(o->train_steps - r->steps_done));
            last_print = now_seconds();
        }
    }
    free(batch);
    if (rc) snprintf(err, errlen, "training failed at step %zu (non-finite loss, or out of memory)", r->steps_done);
    return rc;
}

static void train_run_free(train_run *r) {
    train_adamw_free(&r->opt);
    train_acts_free(&r->a);
    train_model_free(&r->m);
    free(r->t_heldout);
    free(r->t_batch);
    llama_state_free(&r->ts);
    train_data_free(&r->data);
    llama_free(&r->md);
}

/* the student, its activations, optimizer and the teacher's logits; 0, or
 * 3 after an oom row */
static int build(train_run *r) {
    const llama_config *c = &r->md.c;
    const size_t n = r->data.n, V = (size_t)c->vocab_size;
    char err[1024] = "out of memory";
    float *xbar = malloc((size_t)c->n_layers * (size_t)c->dim * sizeof(float));
    int bad = !xbar || llama_state_init(&r->ts, c, n, n, 0, err, sizeof err) ||
              (r->kind == TRAIN_MHE_ADD && mean_inputs(r, xbar)) ||
              train_model_init(&r->m, &r->md, r->kind, r->kv, xbar, err, sizeof err) ||
              train_acts_init(&r->a, &r->m, r->o.train_batch, n, err, sizeof err) ||
              train_adamw_init(&r->opt, &r->m, r->o.weight_decay) ||
              !(r->t_heldout = malloc(r->data.N * n * V * sizeof(float))) ||
              !(r->t_batch = malloc(r->o.train_batch * n * V * sizeof(float)));
    free(xbar);
    if (!bad) {
        r->m.all = !strcmp(r->o.trainable, "all");
        teacher_logits(r, r->data.heldout, r->data.N, r->t_heldout);
        return 0;
    }
    result_row row;
    row_init(&row);
    fill_identity(&row, r);
    row_set(&row, COL_status, "oom");
    row_set(&row, COL_note, "%s", err);
    fprintf(stderr, "attnbench train: %s\n", err);
    row_emit(cmd, &r->o, &row);
    row_free(&row);
    return 3;
}

int cmd_train(int argc, char **argv) {
    train_run r;
    memset(&r, 0, sizeof r);
    options_defaults(&r.o, OPTS_TRAIN);
    r.o.train_steps = DEFAULT_STEPS;
    r.o.train_batch = DEFAULT_BATCH;
    r.o.lr = DEFAULT_LR;
    r.o.trainable = "attention";
    r.o.loss = "kl";
    int rc = options_parse(&r.o, OPTS_TRAIN, argc, argv);
    if (rc == 1) { usage(); return 0; }
    if (rc) return rc;
    if (!r.o.llama2c) return bad_input(cmd, "--llama2c CHECKPOINT is required");
    char err[1024];
    if (llama_load(r.o.llama2c, &r.md, err, sizeof err)) return bad_input(cmd, "--llama2c %s", err);
    if (r.md.mhe) { llama_free(&r.md); return bad_input(cmd, "--llama2c %s: an MHE student (it has a sidecar); the teacher is a plain checkpoint", r.o.llama2c); }
    FILE *curve = NULL;
    if ((rc = configure(&r)) || (rc = train_data_get(cmd, &r.o, &r.md, &r.data))) { train_run_free(&r); return rc; }
    if (r.o.curve && !(curve = fopen(r.o.curve, "w"))) {
        train_run_free(&r);
        return bad_input(cmd, "--curve %s: cannot create", r.o.curve);
    }
    blas_set_threads((int)r.o.threads);
    if ((rc = build(&r))) goto done;
    rc = 1;
    if (curve) fprintf(curve, "step,tokens,loss,eval_dnll,eval_kl\n");
    heldout_stats before, after;
    if (heldout(&r, &before)) { fprintf(stderr, "attnbench train: out of memory\n"); goto done; }
    if (train_loop(&r, curve, err, sizeof err) || heldout(&r, &after)) { fprintf(stderr, "attnbench train: %s\n", err); goto done; }
    if (r.o.out && train_write(r.o.out, &r.m, err, sizeof err)) { fprintf(stderr, "attnbench train: --out %s\n", err); goto done; }
    result_row row;
    row_init(&row);
    fill_row(&row, &r, &before, &after);
    rc = row_emit(cmd, &r.o, &row);
    row_free(&row);
done:
    if (curve) fclose(curve);
    train_run_free(&r);
    return rc;
}
