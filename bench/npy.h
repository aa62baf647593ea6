/* npy.h — NumPy .npy files: a careful reader (format 1.0, 2.0, 3.0; little-
 * endian float32/float64 and integers; C order) and a writer NumPy reads back.
 * Errors are returned as one line of text naming the file. */
#ifndef NPY_H
#define NPY_H

#include <stddef.h>

enum { NPY_MAX_DIMS = 8 };
#define NPY_MAX_HEADER (1u << 20) /* a header longer than 1 MiB is refused */

typedef struct {
    int ndim;
    size_t shape[NPY_MAX_DIMS];
    size_t count;     /* product of shape */
    char descr[8];    /* as in the file, e.g. "<f4" */
    double *data;     /* count values, converted to double */
} npy_array;

/* 0, or -1 with a message in err ("q.npy: truncated: ...") */
int npy_read(const char *path, npy_array *a, char *err, size_t errlen);
void npy_free(npy_array *a);

/* writes float32 (descr "<f4") or float64 ("<f8") data; 0, or -1 with err */
int npy_write_f32(const char *path, const float *data, int ndim, const size_t *shape,
                  char *err, size_t errlen);
int npy_write_f64(const char *path, const double *data, int ndim, const size_t *shape,
                  char *err, size_t errlen);

#endif
