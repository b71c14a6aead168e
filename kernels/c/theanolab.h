/* theanolab.h: the array view every generated C kernel receives.
 *
 * A kernel is `int NAME(const tl_array *inputs, tl_array *outputs, char *error)`.
 * Shapes are element counts, strides are in BYTES (as NumPy's), so any view
 * (transposed, sliced, negative strides, broadcast with stride 0) is passed
 * without copying.  Outputs are allocated by the caller with the shapes the
 * kernel's Python shape rule computed.  A kernel returns 0, or non-zero after
 * writing a message of at most TL_ERROR_SIZE bytes into `error`.
 */
#ifndef THEANOLAB_H
#define THEANOLAB_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <math.h>

#define TL_ERROR_SIZE 512

typedef struct {
    char *data;              /* address of element (0, 0, ...) */
    int64_t ndim;
    const int64_t *shape;    /* ndim lengths */
    const int64_t *strides;  /* ndim byte strides */
} tl_array;

static inline int64_t tl_size(const tl_array *a) {
    int64_t n = 1;
    for (int64_t d = 0; d < a->ndim; d++) n *= a->shape[d];
    return n;
}

/* True if the array is C-contiguous for elements of `itemsize` bytes. */
static inline int tl_is_contiguous(const tl_array *a, int64_t itemsize) {
    int64_t expected = itemsize;
    for (int64_t d = a->ndim - 1; d >= 0; d--) {
        if (a->shape[d] != 1 && a->strides[d] != expected) return 0;
        expected *= a->shape[d];
    }
    return 1;
}

#endif
