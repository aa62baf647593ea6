/* extra_op.c — an attention operator that exists only for a test
 * (tests/e2e_extra_method.sh): exact attention (vanilla's kernel) under a
 * name of its own, "extraop", with a decode entry of its own. Its table line
 * is tests/extra_op.h; nothing else in the tree names it, and the test shows
 * it in run, decode, eval, a sweep's point keys and analyze. */
#include "decode.h"
#include "methods.h"

const attn_decode decode_extraop = {
    .name = "extraop",
    .summary = "test only: softmax over every held key",
    .knobs = 0,
    .resolve = resolve_none,
    .slots = decode_all_slots,
    .scratch_floats = decode_exact_scratch,
    .attend = decode_attend_softmax,
    .read_bytes = decode_exact_read_bytes,
};
