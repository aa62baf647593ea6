/* input.c — see input.h. Compiled without floating-point contraction: the
 * synthetic tensors and the logit calibration must be the same bytes on
 * every machine. */
#include "input.h"
#include "attention.h"
#include "npy.h"
#include "rng.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static size_t tensor_count(const layer_input *in, int i) {
    if (in->layer_form)
        return i == IN_X ? in->n * in->d_model : in->heads * in->d_model * in->d_head;
    return (i == IN_Q ? in->heads : in->kv_heads) * in->n * in->d_head;
}

void input_free(layer_input *in) {
    for (int i = 0; i < 4; i++) { free(in->t[i]); free(in->orig[i]); }
    memset(in, 0, sizeof *in);
}

/* one row of x w_h in float64: x_row (d_model); w_h (d_model, d_head); out (d_head) */
static void row_times_w(const float *x_row, const float *w_h, size_t d_model, size_t d_head, double *out) {
    for (size_t c = 0; c < d_head; c++) out[c] = 0;
    for (size_t m = 0; m < d_model; m++) {
        double xm = x_row[m];
        const float *wr = w_h + m * d_head;
        for (size_t c = 0; c < d_head; c++) out[c] += xm * (double)wr[c];
    }
}

/* row `i` of head `h` of the MHA q (which = IN_WQ) or k (IN_WK), float64 */
static void mha_row(const layer_input *in, int which, size_t h, size_t i, double *out) {
    if (in->layer_form) {
        row_times_w(in->t[IN_X] + i * in->d_model, in->t[which] + h * in->d_model * in->d_head,
                    in->d_model, in->d_head, out);
    } else {
        size_t hh = which == IN_WQ ? h : h / (in->heads / in->kv_heads);
        const float *src = in->t[which == IN_WQ ? IN_Q : IN_K] + (hh * in->n + i) * in->d_head;
        for (size_t c = 0; c < in->d_head; c++) out[c] = src[c];
    }
}

double input_logit_std(const layer_input *in, int causal) {
    enum { SAMPLE_Q = 128, SAMPLE_K = 512 };
    const size_t n = in->n, d = in->d_head;
    size_t nq = n < SAMPLE_Q ? n : SAMPLE_Q, nk = n < SAMPLE_K ? n : SAMPLE_K;
    double *qs = malloc(nq * d * sizeof(double)), *ks = malloc(nk * d * sizeof(double));
    if (!qs || !ks) { free(qs); free(ks); return NAN; }
    double sum = 0, sum2 = 0, count = 0, scale = 1.0 / sqrt((double)d);
    for (size_t h = 0; h < in->heads; h++) {
        for (size_t a = 0; a < nq; a++) mha_row(in, IN_WQ, h, a * n / nq, qs + a * d);
        for (size_t b = 0; b < nk; b++) mha_row(in, IN_WK, h, b * n / nk, ks + b * d);
        for (size_t a = 0; a < nq; a++)
            for (size_t b = 0; b < nk; b++) {
                if (causal && b * n / nk > a * n / nq) break;
                double s = 0;
                for (size_t c = 0; c < d; c++) s += qs[a * d + c] * ks[b * d + c];
                s *= scale;
                sum += s; sum2 += s * s; count += 1;
            }
    }
    free(qs); free(ks);
    double mean = sum / count, var = sum2 / count - mean * mean;
    return sqrt(var > 0 ? var : 0);
}

static int alloc_tensors(layer_input *in) {
    for (int i = 0; i < 4; i++) {
        if (!in->layer_form && i == 3) break;
        size_t bytes;
        if (size_mul(tensor_count(in, i), sizeof(float), &bytes)) return -1;
        in->t[i] = malloc(bytes ? bytes : 1);
        if (!in->t[i]) return -1;
    }
    return 0;
}

int input_synthetic(layer_input *in, size_t n, size_t heads, size_t d_head, size_t d_model,
                    double score_std, double head_sim, uint64_t seed, char *err, size_t errlen) {
    memset(in, 0, sizeof *in);
    in->layer_form = 1;
    in->n = n; in->heads = heads; in->kv_heads = heads; in->d_head = d_head; in->d_model = d_model;
    if (alloc_tensors(in)) { input_free(in); snprintf(err, errlen, "out of memory for the synthetic input"); return -1; }
    rng r;
    rng_seed(&r, seed, 1);
    rng_fill_normal(&r, in->t[IN_X], n * d_model, 1.0);
    const size_t per_head = d_model * d_head;
    const double a = sqrt(head_sim), b = sqrt(1.0 - head_sim), s = 1.0 / sqrt((double)d_model);
    for (int w = IN_WQ; w <= IN_WV; w++) {
        rng common, own;
        rng_seed(&common, seed, 2 + (uint64_t)w);
        /* the common matrix is drawn once and reused by every head */
        double *c = malloc(per_head * sizeof(double));
        if (!c) { input_free(in); snprintf(err, errlen, "out of memory for the synthetic input"); return -1; }
        for (size_t e = 0; e < per_head; e++) c[e] = rng_normal(&common);
        for (size_t h = 0; h < heads; h++) {
            rng_seed(&own, seed, 16 + 3 * (uint64_t)h + (uint64_t)w);
            float *wh = in->t[w] + h * per_head;
            for (size_t e = 0; e < per_head; e++) wh[e] = (float)(s * (a * c[e] + b * rng_normal(&own)));
        }
        free(c);
    }
    /* logits scale with the product of the q and k scales: sqrt on each */
    double measured = input_logit_std(in, 0);
    if (!(measured > 0)) { input_free(in); snprintf(err, errlen, "degenerate synthetic logits"); return -1; }
    float f = (float)sqrt(score_std / measured);
    for (size_t e = 0; e < heads * per_head; e++) { in->t[IN_WQ][e] *= f; in->t[IN_WK][e] *= f; }
    return 0;
}

/* the data of the npy_open'ed DIR/NAME into slot i as float (and its
 * float64 original if f8); values beyond float32's range refused */
static int load_one(layer_input *in, const char *dir, const char *name, int i, npy_array *arr,
                    char *err, size_t errlen) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (npy_load(path, arr, err, errlen) || npy_f32_range(path, arr, err, errlen)) return -1;
    in->t[i] = malloc(arr->count ? arr->count * sizeof(float) : 1);
    if (!in->t[i]) { snprintf(err, errlen, "%s: out of memory", path); return -1; }
    for (size_t e = 0; e < arr->count; e++) in->t[i][e] = (float)arr->data[e];
    if (!strcmp(arr->descr, "<f8")) { in->orig[i] = arr->data; arr->data = NULL; }
    else npy_free(arr);
    return 0;
}

/* 1 if DIR/NAME exists, 0 if it does not (ENOENT, not even a dangling
 * link), -1 with err naming the real cause otherwise: a symlink loop
 * (ELOOP), an unsearchable directory (EACCES), a dangling link */
static int exists(const char *dir, const char *name, char *err, size_t errlen) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (stat(path, &st) == 0) return 1;
    const int e = errno;
    if (e == ENOENT && lstat(path, &st) == 0) {
        snprintf(err, errlen, "%s: a dangling symbolic link (%s)", path, strerror(e));
        return -1;
    }
    if (e == ENOENT) return 0;
    snprintf(err, errlen, "%s: %s", path, strerror(e));
    return -1;
}

static void shape_str(const npy_array *a, char *out, size_t cap) {
    size_t len = (size_t)snprintf(out, cap, "(");
    for (int i = 0; i < a->ndim && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%zu%s", a->shape[i], i + 1 < a->ndim ? ", " : "");
    if (len < cap) snprintf(out + len, cap - len, ")");
}

int input_load(layer_input *in, const char *dir, char *err, size_t errlen) {
    memset(in, 0, sizeof *in);
    struct stat st;
    if (stat(dir, &st) != 0) { snprintf(err, errlen, "--input %s: %s", dir, strerror(errno)); return -1; }
    if (!S_ISDIR(st.st_mode)) { snprintf(err, errlen, "--input %s: not a directory", dir); return -1; }
    int has_x = exists(dir, "x.npy", err, errlen), has_q = has_x ? 0 : exists(dir, "q.npy", err, errlen);
    if (has_x < 0 || has_q < 0) return -1;
    in->layer_form = has_x;
    static const char *const layer_names[4] = {"x.npy", "wq.npy", "wk.npy", "wv.npy"};
    static const char *const op_names[3] = {"q.npy", "k.npy", "v.npy"};
    const char *const *names = in->layer_form ? layer_names : op_names;
    int count = in->layer_form ? 4 : 3;
    if (!in->layer_form && !has_q) {
        snprintf(err, errlen, "--input %s: holds neither x.npy (layer form) nor q.npy (operator form)", dir);
        return -1;
    }
    /* every header and shape first, the data only once they agree */
    npy_array arr[4];
    memset(arr, 0, sizeof arr);
    int rc = -1;
    char path[4096];
    for (int i = 0; i < count; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (npy_open(path, &arr[i], err, errlen)) goto out;
    }
    char s0[128], s1[128];
    if (in->layer_form) {
        if (arr[0].ndim != 2) { shape_str(&arr[0], s0, sizeof s0); snprintf(err, errlen, "%s/x.npy: shape %s, expected [n, d_model]", dir, s0); goto out; }
        in->n = arr[0].shape[0]; in->d_model = arr[0].shape[1];
        for (int i = 1; i < 4; i++) {
            if (arr[i].ndim != 3 || arr[i].shape[1] != in->d_model ||
                (i > 1 && (arr[i].shape[0] != arr[1].shape[0] || arr[i].shape[2] != arr[1].shape[2]))) {
                shape_str(&arr[i], s0, sizeof s0); shape_str(&arr[0], s1, sizeof s1);
                snprintf(err, errlen, "%s/%s: shape %s disagrees with x.npy %s and wq.npy (expected [heads, d_model, d_head])", dir, names[i], s0, s1);
                goto out;
            }
        }
        in->heads = in->kv_heads = arr[1].shape[0]; in->d_head = arr[1].shape[2];
    } else {
        for (int i = 0; i < 3; i++)
            if (arr[i].ndim != 3) { shape_str(&arr[i], s0, sizeof s0); snprintf(err, errlen, "%s/%s: shape %s, expected [heads, n, d_head]", dir, names[i], s0); goto out; }
        in->heads = arr[0].shape[0]; in->n = arr[0].shape[1]; in->d_head = arr[0].shape[2];
        in->kv_heads = arr[1].shape[0];
        for (int i = 1; i < 3; i++)
            if (arr[i].shape[0] != in->kv_heads || arr[i].shape[1] != in->n || arr[i].shape[2] != in->d_head ||
                !in->kv_heads || in->heads % in->kv_heads) {
                shape_str(&arr[i], s0, sizeof s0); shape_str(&arr[0], s1, sizeof s1);
                snprintf(err, errlen, "%s/%s: shape %s disagrees with q.npy %s", dir, names[i], s0, s1);
                goto out;
            }
    }
    if (!in->n || !in->heads || !in->d_head || (in->layer_form && !in->d_model)) {
        snprintf(err, errlen, "--input %s: a dimension is zero", dir);
        goto out;
    }
    for (int i = 0; i < count; i++)
        if (load_one(in, dir, names[i], i, &arr[i], err, errlen)) goto out;
    rc = 0;
out:
    for (int i = 0; i < count; i++) npy_free(&arr[i]);
    if (rc) input_free(in);
    return rc;
}

/* the float64 values of slot i: the original, or the float widened */
static double *widen(const layer_input *in, int i) {
    size_t count = tensor_count(in, i);
    double *d = malloc(count ? count * sizeof(double) : 1);
    if (!d) return NULL;
    if (in->orig[i]) memcpy(d, in->orig[i], count * sizeof(double));
    else for (size_t e = 0; e < count; e++) d[e] = in->t[i][e];
    return d;
}

int input_reference_qkv(const layer_input *in, double **q, double **k, double **v) {
    double **dst[3] = {q, k, v};
    *q = *k = *v = NULL;
    if (!in->layer_form) {
        for (int i = 0; i < 3; i++)
            if (!(*dst[i] = widen(in, i))) goto fail;
        return 0;
    }
    const size_t n = in->n, dm = in->d_model, d = in->d_head;
    double *x = widen(in, IN_X);
    if (!x) goto fail;
    for (int i = 0; i < 3; i++) {
        double *w = widen(in, IN_WQ + i);
        *dst[i] = malloc(in->heads * n * d * sizeof(double));
        if (!w || !*dst[i]) { free(w); free(x); goto fail; }
        /* (n, d) = (n, d_model) x (d_model, d) per head, in float64 */
        for (size_t h = 0; h < in->heads; h++)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)d, (int)dm, 1.0, x,
                        (int)dm, w + h * dm * d, (int)d, 0.0, *dst[i] + h * n * d, (int)d);
        free(w);
    }
    free(x);
    return 0;
fail:
    for (int i = 0; i < 3; i++) { free(*dst[i]); *dst[i] = NULL; }
    return -1;
}
