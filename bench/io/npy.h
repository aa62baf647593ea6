/* npy.h — NumPy .npy files: a careful reader (format 1.0, 2.0, 3.0; little-
 * endian float32/float64 and integers; C order) and a writer NumPy reads back.
 * Errors are returned as one line of text naming the file. */
#ifndef NPY_H
#define NPY_H

#include <stddef.h>
#include <stdint.h>

enum { NPY_MAX_DIMS = 8 };
#define NPY_MAX_HEADER (1u << 20) /* a header longer than 1 MiB is refused */

typedef struct {
    int ndim;
    size_t shape[NPY_MAX_DIMS];
    size_t count;     /* product of shape */
    char descr[8];    /* as in the file, e.g. "<f4" */
    double *data;     /* count values, converted to double */
    /* between npy_open and npy_load: the open file, positioned at the data */
    void *file;
    size_t item;
    char kind;
} npy_array;

/* Opens PATH and reads its header only: ndim, shape, count, descr; no data.
 * The file is opened with O_NONBLOCK and must be a regular file (a FIFO,
 * /dev/zero or a directory is refused before a byte is read), and its size
 * must be exactly what the header implies. So a set of files can have every
 * header and shape checked against the others before any is read in full.
 * 0, or -1 with a message in err ("q.npy: truncated: ..."). */
int npy_open(const char *path, npy_array *a, char *err, size_t errlen);
/* Reads the data of an npy_open'ed array (NaN and Inf refused) and closes
 * the file; path is for messages. 0, or -1 with err (the array is freed). */
int npy_load(const char *path, npy_array *a, char *err, size_t errlen);
/* npy_open + npy_load */
int npy_read(const char *path, npy_array *a, char *err, size_t errlen);
/* Every value of a loaded array within float32's range: 0, or -1 with err
 * naming the first that is not (a float64 1e300 would become Inf). */
int npy_f32_range(const char *path, const npy_array *a, char *err, size_t errlen);
void npy_free(npy_array *a); /* frees the data and closes the file, if open */

/* writes float32 (descr "<f4") or float64 ("<f8") data; 0, or -1 with err */
int npy_write_f32(const char *path, const float *data, int ndim, const size_t *shape,
                  char *err, size_t errlen);
int npy_write_f64(const char *path, const double *data, int ndim, const size_t *shape,
                  char *err, size_t errlen);
/* int32 ("<i4"): token sequences */
int npy_write_i32(const char *path, const int32_t *data, int ndim, const size_t *shape,
                  char *err, size_t errlen);

#endif
