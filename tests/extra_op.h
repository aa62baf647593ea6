/* extra_op.h — the table line of tests/extra_op.c's operator, compiled into
 * kernels/methods.c by tests/e2e_extra_method.sh (ATTN_EXTRA_METHOD). */
#include "decode.h"
#include "methods.h"

extern const attn_decode decode_extraop;

#define ATTN_EXTRA_ENTRY                                                                                     \
    {"extraop", "test only: exact attention under a name of its own", 0, resolve_none, ATTN_MASS_NONE, NULL, \
     vanilla_forward, exact_flops, vanilla_workspace, exact_as_is, 1e-6, 0, &decode_extraop, NULL}
