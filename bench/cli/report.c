/* report.c — see report.h. */
#include "report.h"
#include "exit_status.h"
#include "knobs.h"
#include "attention.h"
#include "env.h"
#include "measure.h"
#include "npy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void error_compare(const float *out, const double *ref, size_t heads, size_t n, size_t d,
                   const size_t *rows, size_t nrows, error_stats *e) {
    double num = 0, den = 0, maxabs = 0, cos_sum = 0;
    if (!rows) nrows = n;
    for (size_t h = 0; h < heads; h++)
        for (size_t r = 0; r < nrows; r++) {
            const float *o = out + (h * n + (rows ? rows[r] : r)) * d;
            const double *f = ref + (h * nrows + r) * d;
            double dot = 0, oo = 0, ff = 0;
            for (size_t c = 0; c < d; c++) {
                double diff = (double)o[c] - f[c];
                num += diff * diff;
                den += f[c] * f[c];
                if (fabs(diff) > maxabs) maxabs = fabs(diff);
                dot += (double)o[c] * f[c];
                oo += (double)o[c] * o[c];
                ff += f[c] * f[c];
            }
            /* 1 - cos; two zero rows agree, one zero row is as far as orthogonal */
            double cs = (oo > 0 && ff > 0) ? dot / sqrt(oo * ff) : (oo == ff ? 1.0 : 0.0);
            cos_sum += 1.0 - cs;
        }
    e->rel_err = den > 0 ? sqrt(num / den) : sqrt(num);
    e->max_abs_err = maxabs;
    e->cos_err = cos_sum / (double)(heads * nrows);
}

size_t *error_rows(size_t n, size_t want, size_t *nrows) {
    if (!want || want >= n) { *nrows = n; return NULL; }
    size_t *rows = malloc(want * sizeof(size_t));
    if (!rows) { *nrows = n; return NULL; }
    /* spread over the whole sequence, first and last row included */
    for (size_t i = 0; i < want; i++) rows[i] = want == 1 ? n - 1 : i * (n - 1) / (want - 1);
    *nrows = want;
    return rows;
}

void row_set_common(result_row *r, const run_options *o) {
    row_set(r, COL_seed, "%llu", (unsigned long long)o->seed);
    row_set(r, COL_threads, "%zu", o->threads);
    row_set(r, COL_input, "%s", o->input ? o->input : "synthetic");
    row_set(r, COL_blas_core, "%s", blas_core_name());
}

int row_emit(const char *cmd, const run_options *o, result_row *r) {
    row_check_finite(r);
    if (o->row_only) {
        char *line = row_to_line(r);
        if (!line || fputs(line, stdout) < 0 || fflush(stdout) != 0) {
            free(line);
            fprintf(stderr, "attnbench %s: cannot write the row to stdout\n", cmd);
            return 1;
        }
        free(line);
        return 0;
    }
    if (o->csv) {
        int wrote_header = 0;
        if (results_append(o->csv, r, &wrote_header) != 0) {
            fprintf(stderr, "attnbench %s: cannot append to %s: %s\n", cmd, o->csv, strerror(errno));
            return 1;
        }
        char *envp = env_sidecar_path(o->csv);
        struct stat st;
        int need = envp && (wrote_header || stat(envp, &st) != 0);
        free(envp);
        if (need && env_write_sidecar(o->csv) != 0) {
            fprintf(stderr, "attnbench %s: cannot write the .env sidecar of %s: %s\n", cmd, o->csv, strerror(errno));
            return 1;
        }
        return 0;
    }
    char *head = results_header_line(), *line = row_to_line(r);
    int ok = head && line && fputs(head, stdout) >= 0 && fputs(line, stdout) >= 0 && fflush(stdout) == 0;
    free(head); free(line);
    if (!ok) { fprintf(stderr, "attnbench %s: cannot write to stdout\n", cmd); return 1; }
    return 0;
}

int dump_npy(const char *cmd, const char *dir, const char *name, const float *f, const double *d,
             size_t a, size_t b, size_t c) {
    char path[4096], err[600];
    size_t shape3[3] = {a, b, c};
    const size_t *shape = a ? shape3 : shape3 + 1;
    int ndim = a ? 3 : 2;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = f ? npy_write_f32(path, f, ndim, shape, err, sizeof err)
               : npy_write_f64(path, d, ndim, shape, err, sizeof err);
    if (rc) fprintf(stderr, "attnbench %s: --dump: %s\n", cmd, err);
    return rc ? 1 : 0;
}

void row_set_attention_point(result_row *r, const run_options *o, const char *regime,
                             const char *attention, const char *projection, size_t n,
                             size_t kv_heads, int layer_form, unsigned knob_bits,
                             const attn_knobs *kn, int causal) {
    row_set(r, COL_layer, "attention");
    row_set(r, COL_regime, "%s", regime);
    row_set(r, COL_attention, "%s", attention);
    row_set(r, COL_projection, "%s", projection);
    row_set(r, COL_n, "%zu", n);
    row_set(r, COL_heads, "%zu", o->heads);
    row_set(r, COL_kv_heads, "%zu", kv_heads);
    row_set(r, COL_d_head, "%zu", o->d_head);
    if (layer_form) row_set(r, COL_d_model, "%zu", o->d_model);
    knobs_set_columns(r, knob_bits, kn);
    row_set(r, COL_causal, "%d", causal);
    if (!o->input) {
        row_set(r, COL_score_std, "%g", o->score_std);
        row_set(r, COL_head_sim, "%g", o->head_sim);
    }
    row_set_common(r, o);
}

int row_emit_oom(const char *cmd, const run_options *o, result_row *r) {
    return row_emit(cmd, o, r) ? EXIT_INTERNAL : EXIT_OOM;
}

int row_from_timing(const char *cmd, const char *method, result_row *row, const timing *t, double flops,
                    size_t ws_peak, size_t ws_formula, const float *out, size_t count, size_t *bad) {
    if (!t->rss_exact) row_set(row, COL_note, "peak RSS from getrusage (clear_refs refused)");
    if (t->error == ATTN_ENOMEM) {
        row_set(row, COL_status, "oom");
        row_set(row, COL_workspace_bytes, "%zu", ws_formula);
        row_set(row, COL_note, "workspace of %zu bytes could not be allocated", ws_formula);
        return TAIL_OOM;
    }
    if (t->error) {
        fprintf(stderr, "attnbench %s: %s: %s\n", cmd, method, attn_strerror(t->error));
        return TAIL_FAILED;
    }
    *bad = first_nonfinite(out, count);
    row_set(row, COL_status, *bad < count ? "nonfinite" : "ok");
    row_set(row, COL_time_median_s, "%.6g", t->median_s);
    row_set(row, COL_time_min_s, "%.6g", t->min_s);
    row_set(row, COL_reps, "%zu", t->reps);
    row_set(row, COL_gflops, "%.4g", flops / t->median_s * 1e-9);
    row_set(row, COL_peak_rss_bytes, "%zu", t->peak_rss);
    row_set(row, COL_kernel_peak_bytes, "%zu", t->kernel_peak);
    row_set(row, COL_workspace_bytes, "%zu", ws_peak);
    return TAIL_MEASURED;
}

size_t mem_total_bytes(void) {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (size_t)pages * (size_t)page : 0;
}

void fault_nan(float *out, size_t count) {
    const char *f = getenv("ATTNBENCH_FAULT");
    if (f && !strcmp(f, "nan") && count) out[count / 2] = NAN;
}

size_t first_nonfinite(const float *a, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (!isfinite(a[i])) return i;
    return count;
}

size_t first_nonfinite_f64(const double *a, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (!isfinite(a[i])) return i;
    return count;
}

double max_abs(const float *a, size_t count) {
    float m = 0.0f;
    for (size_t i = 0; i < count; i++) m = fabsf(a[i]) > m ? fabsf(a[i]) : m;
    return m;
}

int check_range(const char *cmd, const char *name, size_t v, size_t lo, size_t hi) {
    if (v >= lo && v <= hi) return 0;
    return bad_input(cmd, "--%s %zu: must be %zu..%zu", name, v, lo, hi);
}

int make_dirs(const char *path, char *err, size_t cap) {
    char buf[4096];
    size_t len = strlen(path);
    if (!len || len >= sizeof buf) { snprintf(err, cap, "%s: path too long", path); return -1; }
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        const char saved = buf[i];
        buf[i] = '\0';
        struct stat st;
        if (stat(buf, &st) != 0) {
            if (errno != ENOENT || (mkdir(buf, 0777) != 0 && errno != EEXIST)) {
                snprintf(err, cap, "%s: %s", buf, strerror(errno));
                return -1;
            }
        } else if (!S_ISDIR(st.st_mode)) {
            snprintf(err, cap, "%s: not a directory", buf);
            return -1;
        }
        buf[i] = saved;
    }
    return 0;
}

void exit_now(int status) {
    fflush(stdout);
    fflush(stderr);
    _exit(status);
}
