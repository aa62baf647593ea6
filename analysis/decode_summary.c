/* decode_summary.c — the decode section of summary.md (decode_study.h):
 * per study, each family's cache and time saved against exact MHA and the
 * error it costs, at the plane's context and at every context; where each
 * overtakes exact decode; exact decode's share of the read bandwidth. */
#include "decode_study.h"
#include "env.h"
#include "labels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* one table line: family, setting, cache, saved, step, saved, rel_err, mass */
static void family_cells(FILE *f, const rtab *rt, size_t r, long ref, const dfam *fam) {
    char set[64], cache[32], cs[32], ts[32], err[32], mass[32];
    family_setting(fam->family, fam->knob, fam->minor, set, sizeof set);
    double c = rt_num(rt, r, COL_cache_bytes), st = rt_num(rt, r, COL_step_time_s);
    fmt_bytes(c, cache, sizeof cache);
    fmt_ratio_x(ref >= 0 ? rt_num(rt, (size_t)ref, COL_cache_bytes) : NAN, c, cs, sizeof cs);
    fmt_ratio_x(ref >= 0 ? rt_num(rt, (size_t)ref, COL_step_time_s) : NAN, st, ts, sizeof ts);
    fmt_num(rt_num(rt, r, COL_rel_err), err, sizeof err);
    fmt_num(rt_num(rt, r, COL_topk_mass), mass, sizeof mass);
    fprintf(f, "| %s | %s | %s | %s | %.3g ms | %s | %s | %s |", fam->family, *set ? set : "—", cache, cs, st * 1e3, ts,
            err, mass);
}

/* exact MHA's read bandwidth at every context beside the probe of the .env */
static void bandwidth(FILE *f, const rtab *rt, const dstudy *s, const char *csv) {
    const dfam mha = dfam_reference();
    long any = -1;
    for (size_t c = 0; c < s->nctx && any < 0; c++) any = dstudy_row(rt, s, &mha, s->ctx[c]);
    if (any < 0) return;
    double threads = rt_num(rt, (size_t)any, COL_threads);
    const char *key = threads > 1 ? "read_gbps_all" : "read_gbps_1t";
    char *envp = csv ? env_sidecar_path(csv) : NULL, val[64];
    double probe = NAN;
    if (env_value(envp, key, val, sizeof val)) probe = strtod(val, NULL);
    const char *slash = envp ? strrchr(envp, '/') : NULL;
    fprintf(f, "\nExact MHA decode streams its whole cache every step: its achieved read bandwidth");
    if (isfinite(probe) && probe > 0)
        fprintf(f, " beside the read probe of %s (`%s` = %.3g GB/s):\n\n| L | read GB/s | share of the probe |\n| --- | --- | --- |\n",
                slash ? slash + 1 : envp, key, probe);
    else
        fprintf(f, " (probe not recorded: no `%s` in %s):\n\n| L | read GB/s | share of the probe |\n| --- | --- | --- |\n",
                key, envp ? (slash ? slash + 1 : envp) : "the results' .env");
    for (size_t c = 0; c < s->nctx; c++) {
        long r = dstudy_row(rt, s, &mha, s->ctx[c]);
        if (r < 0) continue;
        char L[32], share[32] = "—";
        ctx_text(s->ctx[c], L, sizeof L);
        double g = rt_num(rt, (size_t)r, COL_read_gbps);
        if (isfinite(probe) && probe > 0 && isfinite(g)) snprintf(share, sizeof share, "%.0f%%", 100 * g / probe);
        fprintf(f, "| %s | %.3g | %s |\n", L, g, share);
    }
    free(envp);
}

/* the table at the plane's context, with the front and the crossovers */
static void plane_table(FILE *f, const rtab *rt, const dstudy *s) {
    const dfam mha = dfam_reference();
    long ref = dstudy_row(rt, s, &mha, s->plane_L);
    char L[32];
    ctx_text(s->plane_L, L, sizeof L);
    /* the front among the families at plane_L */
    plane_pt *p = calloc(s->nfam ? s->nfam : 1, sizeof *p);
    if (!p) return;
    for (size_t j = 0; j < s->nfam; j++) {
        long r = dstudy_row(rt, s, &s->fam[j], s->plane_L);
        p[j].x = r >= 0 ? rt_num(rt, (size_t)r, COL_cache_bytes) : NAN;
        p[j].y = r >= 0 ? rt_num(rt, (size_t)r, COL_rel_err) : NAN;
    }
    plane_front(p, s->nfam, 0);
    fprintf(f, "At L = %s, the largest context every family ran (%zu families)%s. Saved: exact MHA's cache or step "
               "time divided by the family's (above 1: it saves). Overtakes: the smallest L from which its step is "
               "faster than exact MHA's at every larger L both ran.\n\n"
               "| family | setting | cache / sequence | cache saved | step time | time saved | rel_err | kept mass | "
               "Pareto front | overtakes exact MHA from |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
            L, s->plane_count, ref < 0 ? "; no exact MHA row there, so nothing is saved against it" : "");
    for (size_t j = 0; j < s->nfam; j++) {
        long r = dstudy_row(rt, s, &s->fam[j], s->plane_L);
        if (r < 0) continue;
        family_cells(f, rt, (size_t)r, ref, &s->fam[j]);
        char from[32] = "—";
        if (!dfam_is_reference(&s->fam[j])) {
            double x = dstudy_overtakes(rt, s, &s->fam[j]);
            if (isfinite(x)) { ctx_text(x, from, sizeof from); memmove(from + 4, from, strlen(from) + 1); memcpy(from, "L = ", 4); }
            else snprintf(from, sizeof from, "never");
        }
        fprintf(f, " %s | %s |\n", p[j].front ? "yes" : "", from);
    }
    fprintf(f, "\nOn the front (least cache first):");
    int any = 0;
    for (;;) { /* the front's points by increasing cache */
        long best = -1;
        for (size_t j = 0; j < s->nfam; j++)
            if (p[j].front && p[j].x > 0 && (best < 0 || p[j].x < p[best].x)) best = (long)j;
        if (best < 0) break;
        char set[64], cache[32], err[32];
        family_setting(s->fam[best].family, s->fam[best].knob, s->fam[best].minor, set, sizeof set);
        fmt_bytes(p[best].x, cache, sizeof cache);
        fmt_num(p[best].y, err, sizeof err);
        fprintf(f, "%s %s%s%s (%s, rel_err %s)", any++ ? ";" : "", s->fam[best].family, *set ? " " : "", set, cache, err);
        p[best].front = 0;
    }
    fprintf(f, "%s\n", any ? "." : " none.");
    free(p);
}

/* every context: the long table */
static void context_table(FILE *f, const rtab *rt, const dstudy *s) {
    const dfam mha = dfam_reference();
    fprintf(f, "\nEvery context:\n\n| L | family | setting | cache / sequence | cache saved | step time | time saved | "
               "rel_err | kept mass |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for (size_t j = 0; j < s->nfam; j++)
        for (size_t c = 0; c < s->nctx; c++) {
            long r = dstudy_row(rt, s, &s->fam[j], s->ctx[c]);
            if (r < 0) continue;
            char L[32];
            ctx_text(s->ctx[c], L, sizeof L);
            fprintf(f, "| %s ", L);
            family_cells(f, rt, (size_t)r, dstudy_row(rt, s, &mha, s->ctx[c]), &s->fam[j]);
            fputc('\n', f);
        }
}

void decode_summary(FILE *f, const rtab *rt, const dstudy *s, size_t count, const char *csv) {
    fprintf(f, "\n## Decoding with a KV cache\n\n");
    if (!count) { fprintf(f, "No decode rows (`attnbench decode`).\n"); return; }
    fprintf(f, "Rows of `attnbench decode`: a context of L tokens fills each sequence's cache, then every timed step "
               "generates one token against it. Cache: what one sequence holds after the last step (exact and top-k: "
               "every key and value; window: sinks + window; Performer: its state); step time: the median over the "
               "steps; rel_err: the steps' outputs against float64 exact attention with the full MHA cache; kept mass: "
               "the attention probability top-k or the window keeps. Figures: [the serving plane](figures/serving_plane.svg), "
               "[time per step against L](figures/decode_time_vs_L.svg).\n");
    for (size_t i = 0; i < count; i++) {
        char name[120], text[300];
        dstudy_name(rt, &s[i], name, sizeof name);
        dstudy_text(rt, &s[i], text, sizeof text);
        fprintf(f, "\n### Decode, %s (%s)\n\n", name, text);
        if (!s[i].nfam) { fprintf(f, "No row of this study ran.\n"); continue; }
        plane_table(f, rt, &s[i]);
        decode_front(f, rt, &s[i]);
        context_table(f, rt, &s[i]);
        bandwidth(f, rt, &s[i], csv);
        size_t failed = 0;
        for (size_t k = 0; k < s[i].n; k++) failed += !rt_ok(rt, s[i].rows[k]);
        if (failed) fprintf(f, "\n%zu decode row(s) of this study did not run (see the figure's marks).\n", failed);
    }
}
