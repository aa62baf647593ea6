/* decode_cli.c — `attnbench decode`'s help and its roofline probe (the
 * command itself is decode.c). */
#include "bandwidth.h"
#include "decode_cmd.h"
#include "exit_status.h"
#include "knobs.h"
#include "kv_format.h"
#include "measure.h"
#include "memlimit.h"
#include "methods.h"
#include "options.h"
#include "roofline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


void decode_usage(void) {
    printf("usage: attnbench decode [options]\n\n"
           "A context of --context L tokens fills each sequence's cache (untimed), then\n"
           "--steps S tokens are generated one at a time: each step projects its token,\n"
           "runs one query per head against the cache (Performer: its recurrent state)\n"
           "and appends. One CSV row: time per step (median over the S steps), tokens/s,\n"
           "cache_bytes (what one sequence holds after the last step), bytes read per\n"
           "step and GB/s, and the error of the S step outputs against float64 exact\n"
           "attention with the full MHA cache.\n\noptions:\n");
    options_usage(stdout, OPTS_DECODE);
    printf("\nattention operators (--attention; a prefill method's name gives its decode):\n");
    for (const attn_method *m = attn_methods; m->name; m++)
        if (m->decode && attn_decode_find(m->decode->name) == m)
            printf("  %-12s %s\n", m->decode->name, m->decode->summary);
    printf("\nprojection schemes (--projection):\n");
    for (const proj_scheme *p = proj_schemes; p->name; p++) printf("  %-12s %s\n", p->name, p->summary);
    printf("\ncache formats (--kv-format; the cache holds them as stored, each step reads them so):\n");
    for (const kv_format *f = kv_formats; f->name; f++) printf("  %-12s %s\n", f->name, f->summary);
    printf("\n--warmup W: the context's last W tokens are decoded by untimed steps (an eviction\n"
           "policy: all of them, its queries score the keys; its prompt is the context).\n"
           "--probe: print the roofline probe on 1 and --threads threads: the read\n"
           "bandwidth at %d working-set sizes from 256 KiB to 1 GiB and the sgemm rate\n"
           "(CSV threads,read_gbps,bytes,sgemm_gflops; about a second per thread count).\n", BANDWIDTH_CURVE);
    printf(
           "--probe-file FILE: that output, measured before; the row gets roofline_s =\n"
           "max(read_bytes_per_step / GB/s at that working set (log-linear between the\n"
           "sizes), the step's flops / sgemm rate) and roofline_frac = roofline_s / step_time_s.\n"
           "exit status: 0 a measured row: ok, or nonfinite (the output held NaN or Inf;\n"
           "the first bad element in note); 2 bad input (no row); 3 out of memory (row\n"
           "with status oom); 1 any other failure.\n");
}

/* the probe's lines (roofline.h); out of memory for its buffer: one line, exit 3 */
int decode_probe(const run_options *o) {
    roofline_probe one, all;
    const int rc = roofline_measure(&one, 1) || (o->threads > 1 && roofline_measure(&all, o->threads));
    if (rc) {
        const size_t lim = mem_as_limit();
        fprintf(stderr, "attnbench decode: --probe: out of memory for the probe's buffer of 1024 MiB%s",
                lim ? " (address-space limit, ulimit -v: " : "\n");
        if (lim) fprintf(stderr, "%zu MiB)\n", lim >> 20);
        return EXIT_OOM;
    }
    roofline_print(stdout, &one, 1);
    if (o->threads > 1) roofline_print(stdout, &all, 0);
    return 0;
}
