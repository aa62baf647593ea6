/* test_train.c — the student of `attnbench train` (bench/train/train_model.h):
 *   - converted at the checkpoint's own K/V heads, the student is the
 *     checkpoint (its logits equal llama_forward's);
 *   - exact attention's backward against central differences of its forward;
 *   - every trainable tensor's gradient against central differences of the
 *     loss along a direction (the gradient's own plus a random one), for
 *     mha/the checkpoint's gqa, mqa, mhe-add, mhe-mul, trainable attention and
 *     all, loss kl and ce, shared and unshared classifier;
 *   - AdamW's step and the schedule's ends.
 * `test_train --dump DIR` instead writes, per configuration, the weights,
 * tokens and gradients that tests/train_torch.py checks against PyTorch. */
#include "check.h"
#include "llama_tiny.h"
#include "methods.h"
#include "npy.h"
#include "train_opt.h"

#include <sys/stat.h>
#include <unistd.h>

enum { B = 2, T = 7 };

typedef struct {
    const char *name;
    train_kind kind;
    size_t kv;
} kind_case;

static const kind_case kinds[] = {
    {"gqa", TRAIN_GROUPED, 2}, /* the checkpoint's own grouping */
    {"mha", TRAIN_GROUPED, 4},
    {"mqa", TRAIN_GROUPED, 1},
    {"mhe-add", TRAIN_MHE_ADD, 0},
    {"mhe-mul", TRAIN_MHE_MUL, 0},
};

static llama_model load_tiny(const char *path, int vocab) {
    llama_tiny_header hd = {{16, 24, 2, 4, 2, vocab, 16}};
    llama_model md;
    char err[512];
    CHECK(llama_tiny_write(path, &hd) == 0, "cannot write %s", path);
    CHECK(llama_load(path, &md, err, sizeof err) == 0, "%s", err);
    return md;
}

/* teacher logits (B T, V) of tokens */
static void teacher_logits(const llama_model *t, const int *tokens, float *lt) {
    llama_state s;
    char err[256];
    CHECK(llama_state_init(&s, &t->c, T, T, 0, err, sizeof err) == 0, "%s", err);
    for (size_t b = 0; b < B; b++) {
        llama_forward(t, &s, tokens + b * T, 0, T);
        llama_logits(t, s.x, T, lt + b * T * (size_t)t->c.vocab_size);
    }
    llama_state_free(&s);
}

/* a student of kind kc with its parameters moved off the conversion */
static void make_student(train_model *m, const llama_model *t, const kind_case *kc, int all) {
    float xbar[2 * 16];
    test_fill(xbar, 2 * 16, 1.0);
    char err[256];
    CHECK(train_model_init(m, t, kc->kind, kc->kv, xbar, err, sizeof err) == 0, "%s", err);
    for (size_t i = 0; i < m->count; i++) m->params[i] += (float)(0.05 * test_normal());
    m->all = all;
}

static double loss_at(train_model *m, train_acts *a, train_loss_kind lk, const int *tok, const float *lt) {
    CHECK(train_forward(m, a, tok) == 0, "forward failed");
    return train_loss_grad(lk, a->logits, lt, tok, B, T, (size_t)m->c.vocab_size);
}

/* the gradient (loss, backward) into m->grads */
static void gradient(train_model *m, train_acts *a, train_loss_kind lk, const int *tok, const float *lt) {
    train_zero_grad(m);
    loss_at(m, a, lk, tok, lt);
    CHECK(train_backward(m, a, tok) == 0, "backward failed");
}

/* central differences along u = g/|g| + r/|r| per trainable tensor */
static void check_fd(train_model *m, train_acts *a, train_loss_kind lk, const int *tok, const float *lt,
                     const char *what) {
    gradient(m, a, lk, tok, lt);
    float *g = malloc(m->count * sizeof(float)), *u = malloc(m->count * sizeof(float));
    memcpy(g, m->grads, m->count * sizeof(float));
    for (int i = 0; i < m->nt; i++) {
        const train_tensor *t = &m->t[i];
        if (!m->all && !t->attention) continue;
        double gn = 0, rn = 0, an = 0;
        for (size_t j = 0; j < t->count; j++) {
            u[j] = (float)test_normal();
            gn += (double)g[t->offset + j] * g[t->offset + j];
            rn += (double)u[j] * u[j];
        }
        gn = sqrt(gn) > 0 ? sqrt(gn) : 1;
        for (size_t j = 0; j < t->count; j++) {
            u[j] = (float)(g[t->offset + j] / gn + u[j] / sqrt(rn));
            an += (double)g[t->offset + j] * u[j];
        }
        const double eps = 1e-2 / sqrt(2.0);
        float *p = m->params + t->offset, *saved = malloc(t->count * sizeof(float));
        memcpy(saved, p, t->count * sizeof(float));
        for (size_t j = 0; j < t->count; j++) p[j] = saved[j] + (float)(eps * u[j]);
        double lp = loss_at(m, a, lk, tok, lt);
        for (size_t j = 0; j < t->count; j++) p[j] = saved[j] - (float)(eps * u[j]);
        double lm = loss_at(m, a, lk, tok, lt);
        memcpy(p, saved, t->count * sizeof(float));
        free(saved);
        double fd = (lp - lm) / (2 * eps);
        CHECK(fabs(fd - an) <= 2e-2 * fabs(an) + 1e-6, "%s: tensor %s: directional derivative %.8g, finite differences %.8g",
              what, t->name, an, fd);
    }
    free(g); free(u);
}

/* exact attention's backward against central differences of vanilla_forward */
static void test_attention_backward(void) {
    const attn_shape s = {4, 2, 9, 6, 1};
    const size_t nq = 4 * 9 * 6, nk = 2 * 9 * 6;
    float *q = malloc(nq * 4), *k = malloc(nk * 4), *v = malloc(nk * 4), *out = malloc(nq * 4), *w = malloc(nq * 4);
    float *dq = malloc(nq * 4), *dk = malloc(nk * 4), *dv = malloc(nk * 4);
    test_fill(q, nq, 1); test_fill(k, nk, 1); test_fill(v, nk, 1); test_fill(w, nq, 1);
    attn_knobs kn = {0};
    workspace ws;
    ws_init(&ws, 0);
    CHECK(vanilla_forward(&s, &kn, q, k, v, out, &ws) == ATTN_OK, "forward");
    CHECK(exact_attention_backward(&s, &kn, q, k, v, out, w, dq, dk, dv, &ws) == ATTN_OK, "backward");
    float *x[3] = {q, k, v}, *g[3] = {dq, dk, dv};
    const size_t cnt[3] = {nq, nk, nk};
    for (int t = 0; t < 3; t++)
        for (size_t i = 0; i < cnt[t]; i += 7) { /* loss = sum(w * out) */
            const float x0 = x[t][i], eps = 1e-2f;
            double l[2];
            for (int sgn = 0; sgn < 2; sgn++) {
                x[t][i] = x0 + (sgn ? -eps : eps);
                CHECK(vanilla_forward(&s, &kn, q, k, v, out, &ws) == ATTN_OK, "forward");
                l[sgn] = 0;
                for (size_t j = 0; j < nq; j++) l[sgn] += (double)w[j] * out[j];
            }
            x[t][i] = x0;
            double fd = (l[0] - l[1]) / (2 * eps);
            CHECK(fabs(fd - g[t][i]) <= 2e-3 + 2e-2 * fabs(fd), "attention backward: %c[%zu] %.6g, differences %.6g",
                  "qkv"[t], i, g[t][i], fd);
        }
    free(q); free(k); free(v); free(out); free(w); free(dq); free(dk); free(dv);
}

/* converted at its own grouping, the student computes the checkpoint */
static void test_identity(const llama_model *t, const int *tok, const float *lt) {
    train_model m;
    char err[256];
    CHECK(train_model_init(&m, t, TRAIN_GROUPED, (size_t)t->c.n_kv_heads, NULL, err, sizeof err) == 0, "%s", err);
    train_acts a;
    CHECK(train_acts_init(&a, &m, B, T, err, sizeof err) == 0, "%s", err);
    CHECK(train_forward(&m, &a, tok) == 0, "forward");
    const size_t cnt = (size_t)B * T * (size_t)t->c.vocab_size;
    double *ref = test_to_double(lt, cnt);
    double e = test_rel_err(a.logits, ref, cnt);
    CHECK(e < 1e-5, "the student at the checkpoint's own K/V heads: logits rel_err %.3g", e);
    free(ref);
    train_acts_free(&a);
    train_model_free(&m);
}

static void test_adamw(void) {
    CHECK(fabs(train_lr(0, 100, 10, 1.0) - 0.1) < 1e-12, "warmup start");
    CHECK(fabs(train_lr(10, 100, 10, 1.0) - 1.0) < 1e-12, "warmup end");
    CHECK(fabs(train_lr(99, 100, 10, 1.0) - 0.1) < 1e-12, "cosine end");
    CHECK(train_lr(50, 100, 0, 1.0) < train_lr(40, 100, 0, 1.0), "cosine decreasing");
}

/* the configurations' weights, tokens and gradients for train_torch.py */
static int dump(const char *dir) {
    char path[1024], err[512];
    mkdir(dir, 0777);
    int tok32[B * T], tok[B * T];
    for (int vi = 0; vi < 2; vi++) {
        const int vocab = vi ? -19 : 19;
        snprintf(path, sizeof path, "%s/teacher%d.bin", dir, vi);
        llama_model t = load_tiny(path, vocab);
        for (size_t i = 0; i < B * T; i++) tok[i] = tok32[i] = (int)(test_rand64() % 19);
        float *lt = malloc((size_t)B * T * 19 * sizeof(float));
        teacher_logits(&t, tok, lt);
        for (size_t kc = 0; kc < sizeof kinds / sizeof kinds[0]; kc++)
            for (int all = 0; all < 2; all++)
                for (int lk = 0; lk < 2; lk++) {
                    snprintf(path, sizeof path, "%s/%s-%s-%s-%s", dir, kinds[kc].name, all ? "all" : "attention",
                             lk ? "ce" : "kl", vi ? "unshared" : "shared");
                    mkdir(path, 0777);
                    train_model m;
                    make_student(&m, &t, &kinds[kc], all);
                    train_acts a;
                    CHECK(train_acts_init(&a, &m, B, T, err, sizeof err) == 0, "%s", err);
                    gradient(&m, &a, lk ? TRAIN_LOSS_CE : TRAIN_LOSS_KL, tok, lt);
                    char f[1200];
                    FILE *meta = (snprintf(f, sizeof f, "%s/meta.txt", path), fopen(f, "w"));
                    fprintf(meta, "teacher teacher%d.bin\nkind %s\nkv %d\nall %d\nloss %s\nB %d\nT %d\n", vi,
                            kinds[kc].name, m.c.n_kv_heads, all, lk ? "ce" : "kl", B, T);
                    fclose(meta);
                    size_t shape[2] = {B, T};
                    snprintf(f, sizeof f, "%s/tokens.npy", path);
                    CHECK(npy_write_i32(f, tok32, 2, shape, err, sizeof err) == 0, "%s", err);
                    for (int i = 0; i < m.nt; i++) {
                        size_t n1 = m.t[i].count;
                        snprintf(f, sizeof f, "%s/%s.npy", path, m.t[i].name);
                        CHECK(npy_write_f32(f, m.params + m.t[i].offset, 1, &n1, err, sizeof err) == 0, "%s", err);
                        snprintf(f, sizeof f, "%s/%s.grad.npy", path, m.t[i].name);
                        CHECK(npy_write_f32(f, m.grads + m.t[i].offset, 1, &n1, err, sizeof err) == 0, "%s", err);
                    }
                    train_acts_free(&a);
                    train_model_free(&m);
                }
        free(lt);
        llama_free(&t);
    }
    return check_failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--dump")) return dump(argv[2]);
    test_attention_backward();
    test_adamw();
    char path[] = "/tmp/test_train-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    int tok[B * T];
    char err[256];
    for (int vi = 0; vi < 2; vi++) {
        llama_model t = load_tiny(path, vi ? -19 : 19);
        for (size_t i = 0; i < B * T; i++) tok[i] = (int)(test_rand64() % 19);
        float *lt = malloc((size_t)B * T * 19 * sizeof(float));
        teacher_logits(&t, tok, lt);
        test_identity(&t, tok, lt);
        for (size_t kc = 0; kc < sizeof kinds / sizeof kinds[0]; kc++)
            for (int all = 0; all < 2; all++)
                for (int lk = 0; lk < 3; lk++) {
                    train_model m;
                    make_student(&m, &t, &kinds[kc], all);
                    train_acts a;
                    CHECK(train_acts_init(&a, &m, B, T, err, sizeof err) == 0, "%s", err);
                    char what[128];
                    snprintf(what, sizeof what, "%s %s loss %d %s", kinds[kc].name, all ? "all" : "attention", lk,
                             vi ? "unshared" : "shared");
                    check_fd(&m, &a, (train_loss_kind)lk, tok, lt, what);
                    train_acts_free(&a);
                    train_model_free(&m);
                }
        free(lt);
        llama_free(&t);
    }
    unlink(path);
    if (check_failures) fprintf(stderr, "%d check(s) failed\n", check_failures);
    return check_failures ? 1 : 0;
}
