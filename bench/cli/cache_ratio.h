/* cache_ratio.h — --cache-ratio R of decode and eval: an operator's knobs
 * (or the K/V heads a projection converts to) fitted so that its cache is
 * at most R of a reference f32 cache, one function for both commands
 * (kernels/decode.h decode_fit_ratio does the fitting). */
#ifndef CACHE_RATIO_H
#define CACHE_RATIO_H

#include "decode.h"
#include "options.h"

/* whether --cache-ratio chooses the K/V heads: it is given and --kv-heads
 * is not, --projection names a scheme that takes --kv-heads (gqa), and the
 * operator cannot shrink its own cache (no fit_ratio) */
int cache_ratio_chooses_kv(const run_options *o, const proj_scheme *ps, const attn_decode *dec);

/* c's knobs (choose_kv: its K/V heads) fitted so decode_cache_bytes(c) <=
 * o->cache_ratio * ref_bytes, *achieved <- the ratio held; a method knob
 * given on the line (`given`: its value as the command resolved it) that
 * the fit changes is refused. 0, or 2 after one line from cmd */
int cache_ratio_fit(const char *cmd, const run_options *o, decode_config *c, const attn_knobs *given, size_t ref_bytes,
                    int choose_kv, double *achieved);

#endif
