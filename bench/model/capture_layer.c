/* capture_layer.c — `attnbench capture`'s layer form: x and the per-head
 * projection weights of each layer of a llama2.c checkpoint (see
 * capture_layer.h for what is written and what the missing RoPE means). */
#include "capture_layer.h"
#include "npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* every layer's attention input, caught on its way through the forward pass */
typedef struct {
    float *x; /* (layers, n, dim) */
    size_t n, dim;
} x_record;

/* llama_override.attention: keeps xb and lets the model's own attention run */
static int keep_x(void *ctx, int layer, const float *xb, size_t pos, size_t m, float *att) {
    (void)att;
    x_record *r = ctx;
    memcpy(r->x + ((size_t)layer * r->n + pos) * r->dim, xb, m * r->dim * sizeof(float));
    return 0;
}

static int fail_line(const char *what, const char *why) {
    fprintf(stderr, "attnbench capture: %s: %s\n", what, why);
    return 1;
}

/* DIR/NAME.npy from data of the given shape; 0 or 1 after a message */
static int write_one(const char *dir, const char *name, const float *data, int ndim, const size_t *shape) {
    char path[4200], err[1024];
    snprintf(path, sizeof path, "%s/%s.npy", dir, name);
    if (npy_write_f32(path, data, ndim, shape, err, sizeof err)) {
        fprintf(stderr, "attnbench capture: %s\n", err);
        return 1;
    }
    return 0;
}

int capture_layer_forms(const llama_model *md, const int *tokens, size_t n, const char *out) {
    const llama_config *c = &md->c;
    const size_t dim = (size_t)c->dim, hs = (size_t)c->head_size, heads = (size_t)c->n_heads;
    const size_t per_layer = n * dim, weights = heads * dim * hs; /* dim = heads * hs: no overflow past the model's own */
    char err[1024];
    llama_state s;
    if (llama_state_init(&s, c, n, n, 0, err, sizeof err)) return fail_line("layer form", err);
    x_record rec = {malloc((size_t)c->n_layers * per_layer * sizeof(float)), n, dim};
    float *w[3] = {malloc(weights * sizeof(float)), malloc(weights * sizeof(float)), malloc(weights * sizeof(float))};
    int rc = 1;
    if (!rec.x || !w[0] || !w[1] || !w[2]) { fail_line("layer form", "out of memory"); goto done; }

    /* the same pass as the operator form's, so x is bit for bit the input
     * the model's own projections saw */
    llama_override ov = {keep_x, NULL, &rec};
    if (llama_forward_with(md, &s, tokens, 0, n, &ov)) { fail_line("layer form", "the forward pass failed"); goto done; }

    static const char *const names[3] = {"wq", "wk", "wv"};
    for (int l = 0; l < c->n_layers; l++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/layer%d/layer", out, l);
        if (mkdir(dir, 0777) != 0 && errno != EEXIST) { fail_line(dir, strerror(errno)); goto done; }
        size_t xshape[2] = {n, dim}, wshape[3] = {heads, dim, hs};
        if (write_one(dir, "x", rec.x + (size_t)l * per_layer, 2, xshape)) goto done;
        llama_layer_mha_weights(md, l, w[0], w[1], w[2]);
        for (int i = 0; i < 3; i++)
            if (write_one(dir, names[i], w[i], 3, wshape)) goto done;
    }
    rc = 0;
done:
    llama_state_free(&s);
    free(rec.x);
    for (int i = 0; i < 3; i++) free(w[i]);
    return rc;
}
