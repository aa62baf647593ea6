/* test_regimes.c — the decode and model analyses (analysis/regimes.h) on a
 * small results table built in memory: families and knobs, the plane's
 * context, the Pareto fronts, where a family overtakes exact decode, the
 * "within 1%" answer, the data files the headline reads and the claims. */
#include "check.h"
#include "csv_table.h"
#include "decode_study.h"
#include "model_study.h"
#include "regime_rows.h"
#include "regimes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const CSV =
    "layer,attention,projection,n,heads,kv_heads,d_head,d_model,k,features,sink,window,score_std,head_sim,input,"
    "threads,status,kernel_peak_bytes,workspace_bytes,params,rel_err,topk_mass,note,regime,context,steps,batch,"
    "cache_bytes,step_time_s,read_gbps,sequences,layers,nll,dnll,dnll_se,kl,top1\n"
    /* decode: exact mha, mqa, top-k, Performer at 1k and 4k; window at 1k (4k: oom) */
    "attention,exact,mha,1056,8,8,4,32,,,,,4,0,synthetic,1,ok,,,512,1e-6,,,decode,1024,32,1,1000,1.0,20,,,,,,,\n"
    "attention,exact,mha,4128,8,8,4,32,,,,,4,0,synthetic,1,ok,,,512,1.2e-6,,,decode,4096,32,1,4000,4.0,21,,,,,,,\n"
    "attention,exact,mqa,1056,8,1,4,32,,,,,4,0,synthetic,1,ok,,,320,0.9,,,decode,1024,32,1,125,0.9,,,,,,,,\n"
    "attention,exact,mqa,4128,8,1,4,32,,,,,4,0,synthetic,1,ok,,,320,0.8,,,decode,4096,32,1,500,3.0,,,,,,,,\n"
    "attention,topk,mha,1056,8,8,4,32,64,,,,4,0,synthetic,1,ok,,,512,0.1,0.9,,decode,1024,32,1,1000,1.1,,,,,,,,\n"
    "attention,topk,mha,4128,8,8,4,32,64,,,,4,0,synthetic,1,ok,,,512,0.2,0.8,,decode,4096,32,1,4000,2.0,,,,,,,,\n"
    "attention,performer,mha,1056,8,8,4,32,,64,,,4,0,synthetic,1,ok,,,512,1.5,,,decode,1024,32,1,50,0.1,,,,,,,,\n"
    "attention,performer,mha,4128,8,8,4,32,,64,,,4,0,synthetic,1,ok,,,512,1.6,,,decode,4096,32,1,50,0.1,,,,,,,,\n"
    "attention,window,mha,1056,8,8,4,32,,,4,256,4,0,synthetic,1,ok,,,512,2.0,0.1,,decode,1024,32,1,100,0.2,,,,,,,,\n"
    "attention,window,mha,4128,8,8,4,32,,,4,256,4,0,synthetic,1,oom,,,,,,,decode,4096,32,1,,,,,,,,,,\n"
    /* model: the checkpoint (4 heads, 2 K/V heads), top-k, window, mqa, one layer at a time, the FFN */
    "attention,model,model,64,4,2,4,16,,,,,,,/d/tiny.bin,1,ok,,,,,,,model,,,,800,,,4,all,3.0,0,0,0,1\n"
    "attention,topk,gqa,64,4,2,4,16,8,,,,,,/d/tiny.bin,1,ok,,,,,,,model,,,,800,,,4,all,3.1,0.1,0.01,0.1,0.9\n"
    "attention,topk,gqa,64,4,2,4,16,32,,,,,,/d/tiny.bin,1,ok,,,,,,,model,,,,800,,,4,all,3.02,0.02,0.01,0.02,0.97\n"
    "attention,window,gqa,64,4,2,4,16,,,4,16,,,/d/tiny.bin,1,ok,,,,,,,model,,,,200,,,4,all,3.025,0.025,0.002,0.03,0.96\n"
    "attention,chunked,mqa,64,4,1,4,16,,,,,,,/d/tiny.bin,1,ok,,,,,,,model,,,,400,,,4,all,5.0,2.0,0.1,2.0,0.2\n"
    "attention,topk,gqa,64,4,2,4,16,8,,,,,,/d/tiny.bin,1,ok,,,,,,,model,,,,800,,,4,0,3.05,0.05,0.01,0.05,0.95\n"
    "attention,topk,gqa,64,4,2,4,16,8,,,,,,/d/tiny.bin,1,ok,,,,,,,model,,,,800,,,4,1,3.01,0.01,0.01,0.01,0.99\n"
    "attention,topk,gqa,64,4,2,4,16,8;16,,,,,,/d/tiny.bin,1,ok,,,,,,,model,,,,800,,,4,all,3.04,0.04,0.01,0.04,0.95\n"
    "ffn,model,model,64,4,2,4,16,,,,,,,/d/tiny.bin,1,ok,,,,,,,model,,,,800,,,4,all,3.5,0.5,0.05,0.5,0.7\n"
    /* prefill: top-k's memory against n (linear), MHE's params (3*16*4 + 3*4*4 = 240) */
    "attention,topk,mha,256,4,4,4,16,8,,,,4,0,synthetic,1,ok,,25600,,0.1,,,,,,,,,,,,,,,,\n"
    "attention,topk,mha,512,4,4,4,16,8,,,,4,0,synthetic,1,ok,,51200,,0.1,,,,,,,,,,,,,,,,\n"
    "attention,topk,mha,1024,4,4,4,16,8,,,,4,0,synthetic,1,ok,,102400,,0.1,,,,,,,,,,,,,,,,\n"
    "attention,vanilla,mhe-add,256,4,4,4,16,,,,,4,0,synthetic,1,ok,,1000,240,0.5,,,,,,,,,,,,,,,,\n";

/* the whole of a stream */
static char *slurp(FILE *f) {
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    char *s = calloc((size_t)len + 1, 1);
    if (s && fread(s, 1, (size_t)len, f) != (size_t)len) s[0] = '\0';
    return s;
}

static char *read_path(const char *dir, const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) return calloc(1, 1);
    char *s = slurp(f);
    fclose(f);
    return s;
}

static void test_families(const csv_table *t) {
    rtab rt;
    rt_init(&rt, t);
    char fam[48];
    double knob;
    decode_family(&rt, 2, fam, sizeof fam, &knob);
    CHECK(!strcmp(fam, "mqa") && knob == 0, "decode row 2: %s %g", fam, knob);
    decode_family(&rt, 4, fam, sizeof fam, &knob);
    CHECK(!strcmp(fam, "topk") && knob == 64, "decode row 4: %s %g", fam, knob);
    decode_family(&rt, 8, fam, sizeof fam, &knob);
    CHECK(!strcmp(fam, "window") && knob == 256, "decode row 8: %s %g", fam, knob);
    /* the checkpoint's own attention is the exact model; pooled K/V heads are a conversion */
    CHECK(model_family(&rt, 10, 2, fam, sizeof fam, &knob) == 0 && !strcmp(fam, "mha"), "model row 10: %s", fam);
    CHECK(model_family(&rt, 11, 2, fam, sizeof fam, &knob) == 0 && !strcmp(fam, "topk") && knob == 8, "model row 11: %s %g", fam, knob);
    CHECK(model_family(&rt, 14, 2, fam, sizeof fam, &knob) == 0 && !strcmp(fam, "mqa"), "model row 14: %s", fam);
    CHECK(model_family(&rt, 18, 2, fam, sizeof fam, &knob) == -1, "the FFN row has no family");
    CHECK(model_single_layer(&rt, 15) == 0 && model_single_layer(&rt, 16) == 1 && model_single_layer(&rt, 11) == -1,
          "single layers");
    CHECK(!model_uniform(&rt, 17) && model_uniform(&rt, 11), "a k per layer is not uniform");
}

static void test_front(void) {
    plane_pt p[4] = {{.x = 100, .y = 1}, {.x = 50, .y = 2}, {.x = 100, .y = 0.5}, {.x = 200, .y = 0.6}};
    CHECK(plane_front(p, 4, 0) == 0, "front");
    CHECK(!p[0].front && p[1].front && p[2].front && !p[3].front, "front flags %d %d %d %d", p[0].front, p[1].front,
          p[2].front, p[3].front);
}

static void test_decode(const csv_table *t, const char *dir) {
    rtab rt;
    rt_init(&rt, t);
    dstudy *s = NULL;
    size_t ns = 0;
    CHECK(dstudies_find(&rt, &s, &ns) == 0 && ns == 1, "one decode study, got %zu", ns);
    if (ns != 1) { dstudies_free(s, ns); return; }
    CHECK(s[0].nfam == 5 && s[0].nctx == 2, "families %zu contexts %zu", s[0].nfam, s[0].nctx);
    CHECK(s[0].plane_L == 1024 && s[0].plane_count == 5, "plane L %g (%zu families): the window ran only at 1k",
          s[0].plane_L, s[0].plane_count);
    dfam topk = {"topk", 64, 0}, perf = {"performer", 64, 0}, mqa = {"mqa", 0, 0};
    CHECK(dstudy_overtakes(&rt, &s[0], &topk) == 4096, "top-k overtakes from %g", dstudy_overtakes(&rt, &s[0], &topk));
    CHECK(dstudy_overtakes(&rt, &s[0], &perf) == 1024, "performer from %g", dstudy_overtakes(&rt, &s[0], &perf));
    CHECK(dstudy_overtakes(&rt, &s[0], &mqa) == 1024, "mqa from %g", dstudy_overtakes(&rt, &s[0], &mqa));
    dstudies_free(s, ns);

    FILE *sum = tmpfile();
    char err[300] = "";
    CHECK(analyze_decode(t, NULL, dir, sum, err, sizeof err) == 0, "analyze_decode: %s", err);
    char *text = slurp(sum), *dat = read_path(dir, "serving_plane.dat");
    fclose(sum);
    CHECK(!strncmp(dat, "# L=1024\n", 9), "serving_plane.dat starts with the context: %.40s", dat);
    CHECK(strstr(dat, "\n1000 1e-06 mha 0 1 ") != NULL, "mha on the front:\n%s", dat);
    CHECK(strstr(dat, "\n125 0.9 mqa 0 1 ") != NULL, "mqa on the front");
    CHECK(strstr(dat, "\n50 1.5 performer 64 1 ") != NULL, "performer on the front");
    CHECK(strstr(dat, "\n100 2 window 256 0 ") != NULL, "window beaten by performer");
    CHECK(strstr(dat, "\n1000 0.1 topk 64 0 ") != NULL, "top-k beaten by exact at the same cache");
    /* the summary: cache and time saved against exact MHA, the crossovers, the probe */
    CHECK(strstr(text, "| mqa | — | 125 B | 8x | 900 ms | 1.1x | 0.9 |") != NULL, "mqa's line:\n%s", text);
    CHECK(strstr(text, "| topk | k=64 | 1000 B | 1x | 1.1e+03 ms | 0.91x | 0.1 | 0.9 |  | L = 4k |") != NULL,
          "top-k's line with its crossover");
    CHECK(strstr(text, "probe not recorded") != NULL, "no .env: probe not recorded");
    CHECK(strstr(text, "1 decode row(s) of this study did not run") != NULL, "the oom row");
    /* the front: at 1k, everything at or below 1/8 of exact MHA's cache, by rel_err; the oom row kept */
    const char *mq = strstr(text, "| 1k | 1/8 | mqa | 0.125 | — | 0.9 | 900 ms | 1.1x faster |"),
               *pf = strstr(text, "| 1k | 1/8 | performer M=64 | 0.05 | — | 1.5 | 100 ms | 10x faster |"),
               *wi = strstr(text, "| 1k | 1/8 | window s=4 w=256 | 0.1 | — | 2 | 200 ms | 5x faster |");
    CHECK(mq && pf && wi && mq < pf && pf < wi, "the decode front at 1k by rel_err:\n%s", text);
    CHECK(strstr(text, "| 4k | — | window s=4 w=256 | — | — | oom (did not run) |") != NULL, "the oom row in the front");
    CHECK(strstr(text, "At L = 1k, 1/8 of the cache: the front is mqa (0.12 of the cache, rel_err 0.9, 1.1x faster than exact f32)") != NULL,
          "the decode front's sentence");
    free(text);
    free(dat);
}

static void test_model(const csv_table *t, const char *dir) {
    FILE *sum = tmpfile();
    char err[300] = "";
    CHECK(analyze_model(t, NULL, dir, sum, err, sizeof err) == 0, "analyze_model: %s", err);
    char *text = slurp(sum), *dat = read_path(dir, "model_dnll.dat");
    fclose(sum);
    CHECK(strstr(dat, "\n# model=tiny\n") != NULL, "a block per checkpoint:\n%s", dat);
    CHECK(strstr(dat, "\n800 0 mha 0 1 0 7 0\n") != NULL, "the exact model on the front, no error bar, its marker (pt 7, black):\n%s", dat);
    CHECK(strstr(dat, "\n200 0.025 window 16 1 ") != NULL, "window on the front");
    CHECK(strstr(dat, "\n800 0.02 topk 32 0 ") != NULL && strstr(dat, "\n400 2 mqa 0 0 ") != NULL, "the others");
    CHECK(strstr(dat, "8;16") == NULL && strstr(dat, "ffn") == NULL, "per-layer and FFN rows stay out of the plane");
    /* 1% of 3.0 nats: window (200 B) beats top-k k=32 (800 B) */
    CHECK(strstr(text, "on tiny:** window s=4 w=16, ΔNLL 0.025") != NULL, "the 1%% answer:\n%s", text);
    /* top-k k=32: 0.02 ± 1.96 * 0.01 straddles 0.03 */
    CHECK(strstr(text, "Not distinguishable from 1% (the 95% interval straddles it): topk k=32 (k/n 0.5, 75% of causal pairs).") != NULL,
          "top-k k=32 is not distinguishable from 1%%");
    CHECK(strstr(text, "| own attention (GQA, 2 K/V heads of 4) | — | 800 B | 0 ± 0 |") != NULL, "the model's own attention");
    CHECK(strstr(text, "| 0 | 0.05 |") != NULL && strstr(text, "| 1 | 0.01 |") != NULL, "per-layer sensitivity");
    /* claims: every number from the rows */
    CHECK(strstr(text, "memory grows as n^1.00") != NULL, "top-k's memory slope");
    CHECK(strstr(text, "tiny: holds from k = 32") != NULL, "drop-in from k = 32");
    CHECK(strstr(text, "1 of 1 MHE rows' params equal the formula") != NULL, "MHE's formula");
    CHECK(strstr(text, "cache 500 / 4000 bytes = 1/8 (heads 8)") != NULL, "MQA's cache");
    free(text);
    free(dat);
    char *fig = read_path(dir, "layer_sensitivity.meta");
    CHECK(strstr(fig, "layer 0") && strstr(fig, "layer 1"), "a line per layer");
    free(fig);
}

/* the model's KV-cache front: a checkpoint (8 heads, 4 K/V heads, n 64,
 * exact NLL 3) whose front at 1/4 is h2o B=16 (0.24, given) then q4_0
 * (190 / 1000 = 0.19, computed); the window at exactly 1/8 lands at 1/8;
 * q8_0 at 1/2; top-k keeps the whole cache; snapkv holds its prompt; an
 * oom row without a cache and a skipped row with one */
static const char *const FRONT_CSV =
    "layer,attention,projection,n,heads,kv_heads,d_head,k,sink,window,input,threads,status,regime,cache_bytes,sequences,"
    "layers,nll,dnll,dnll_se,kl,top1,kv_format,bits_per_value,cache_ratio,budget,prompt,dnll_beyond,kl_p90,kl_p99\n"
    "attention,model,model,64,8,4,4,,,,/d/front.bin,1,ok,model,1000,4,all,3.0,0,0,0,1,,,,,,,0,0\n"
    "attention,vanilla,gqa,64,8,4,4,,,,/d/front.bin,1,ok,model,190,4,all,3.68,0.68,0.03,0.7,0.5,q4_0,4.5,,,,,1.5,4\n"
    "attention,h2o,gqa,64,8,4,4,,,,/d/front.bin,1,ok,model,250,4,all,3.5,0.5,0.02,0.5,0.6,,,0.24,16,,0.9,1.2,3\n"
    "attention,window,gqa,64,8,4,4,,4,8,/d/front.bin,1,ok,model,125,4,all,3.3,0.3,0.02,0.3,0.7,,,,,,0.4,0.8,2\n"
    "attention,vanilla,gqa,64,8,4,4,,,,/d/front.bin,1,ok,model,300,4,all,3.01,0.01,0.005,0.01,0.99,q8_0,8.5,,,,,0.02,0.1\n"
    "attention,topk,gqa,64,8,4,4,16,,,/d/front.bin,1,ok,model,1000,4,all,3.1,0.1,0.01,0.1,0.9,,,,,,,0.2,0.5\n"
    "attention,snapkv,gqa,64,8,4,4,,,,/d/front.bin,1,ok,model,600,4,all,3.2,0.2,0.02,0.2,0.8,,,,8,32,0.3,0.4,1\n"
    "attention,tova,gqa,64,8,4,4,,,,/d/front.bin,1,oom,model,,4,all,,,,,,,,,8,,,,\n"
    "attention,h2o,gqa,64,8,4,4,,,,/d/front.bin,1,skipped,model,,4,all,,,,,,,,0.1,4,,,,\n";

static void test_model_front(const char *dir) {
    csv_table t;
    char err[300];
    if (table_parse(FRONT_CSV, strlen(FRONT_CSV), &t, err, sizeof err) || t.bad_rows) {
        CHECK(0, "front CSV: %s (%zu bad rows)", err, t.bad_rows);
        return;
    }
    CHECK(front_bucket(0.25) == 1 && front_bucket(0.125) == 2 && front_bucket(0.126) == 1 && front_bucket(0.51) == -1 &&
          front_bucket(0.01) == 2, "buckets");
    CHECK(causal_share(16, 64) > 0.4345 && causal_share(16, 64) < 0.4347 && causal_share(64, 64) == 1, "causal share %g",
          causal_share(16, 64));
    FILE *sum = tmpfile();
    CHECK(analyze_model(&t, NULL, dir, sum, err, sizeof err) == 0, "analyze_model: %s", err);
    char *text = slurp(sum);
    fclose(sum);
    const char *h2o = strstr(text, "| 1/4 | h2o | B=16 | 0.24 | 0.5 ± 0.02 | 0.9 | 0.5 | 1.2 | 3 | 0.6 |"),
               *q4 = strstr(text, "| 1/4 | own attention (GQA, 4 K/V heads of 8), q4_0 cache | 4.5 bits/value | 0.19 | 0.68 ± 0.03 |");
    CHECK(h2o && q4 && h2o < q4, "at 1/4: h2o, then q4_0 (by ΔNLL):\n%s", text);
    CHECK(strstr(text, "| 1/8 | window | s=4 w=8 | 0.125 | 0.3 ± 0.02 |") != NULL, "exactly 1/8 lands at 1/8");
    CHECK(strstr(text, "| 1/2 | own attention (GQA, 4 K/V heads of 8), q8_0 cache | 8.5 bits/value | 0.3 |") != NULL, "q8_0 at 1/2");
    CHECK(strstr(text, "| 1/8 | h2o | B=4 | 0.1 | skipped (did not run) |") != NULL, "the skipped row keeps its place");
    CHECK(strstr(text, "Did not run, so on no front: tova B=8 (oom).") != NULL, "the oom row is said");
    CHECK(strstr(text, "At 1/4 of the cache on front the front is h2o B=16 (0.24 of the cache, ΔNLL 0.5 ± 0.02), then q4_0 "
                       "cache (0.19 of the cache, ΔNLL 0.68 ± 0.03); h2o and q4_0 cache are distinguishable (their 95% "
                       "intervals do not overlap). With less cache, window s=4 w=8 (0.12 of the cache, ΔNLL 0.3 ± 0.02) does better.") != NULL,
          "the sentence at 1/4");
    CHECK(strstr(text, "topk (least 1 of the cache: it keeps the whole cache at every setting run)") != NULL, "top-k cannot reach 1/2");
    CHECK(strstr(text, "snapkv (least 0.6 of the cache: it holds its prompt (32 tokens) until the prompt's end)") != NULL,
          "snapkv holds its prompt");
    CHECK(strstr(text, "| topk | k=16 (k/n 0.25, 43% of causal pairs) |") != NULL, "top-k's k with k/n and its share");
    CHECK(strstr(text, "| tova | B=8 | — | oom (did not run) |") != NULL, "the oom row in the model's table");
    free(text);
    table_free(&t);
}

int main(void) {
    csv_table t;
    char err[300];
    if (table_parse(CSV, strlen(CSV), &t, err, sizeof err) || t.bad_rows) {
        fprintf(stderr, "test CSV: %s (%zu bad rows)\n", err, t.bad_rows);
        return 1;
    }
    char dir[] = "/tmp/test_regimes_XXXXXX";
    if (!mkdtemp(dir)) return 1;
    test_families(&t);
    test_front();
    test_decode(&t, dir);
    test_model(&t, dir);
    test_model_front(dir);
    table_free(&t);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    if (!check_failures) printf("test_regimes: ok\n");
    return check_summary("test_regimes");
}
