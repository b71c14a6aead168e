/* whole.h: what a whole-function driver is made of (theanolab/backends/c/whole.py).
 *
 * A driver is generated per compiled function: one C function, `execute`,
 * runs every node of the graph in order, calling each node's shape rule and
 * kernel (kernels of their own modules through a table of pointers, small
 * `inline` ones compiled into the driver).  This header, plain C, holds what
 * the generated code uses:
 *
 *   - the description of a graph (tl_graph) the driver exports, and the
 *     state of one compiled function (tl_state): a tl_array per variable
 *     (shapes and strides in the state), a buffer per intermediate, grown
 *     when a call needs more and kept for the next call;
 *   - the placement of a node's outputs: a fresh NumPy array for a function
 *     output (made by the runtime, whole_runtime.h: the caller owns it, it
 *     never aliases state the next call reuses), the variable's buffer, or
 *     the input an in-place node destroys (which the destroy handler
 *     guarantees no one else reads);
 *   - helpers for shape rules and inline kernels: shapes written as Python
 *     prints them, contiguous strides, copies.
 *
 * A shape rule, view or kernel compiled into a driver returns 0, or non-zero
 * after writing `error`: TL_INDEX_ERROR raises IndexError, anything else
 * ValueError; the driver's own allocation failures raise MemoryError.
 */
#ifndef THEANOLAB_WHOLE_H
#define THEANOLAB_WHOLE_H

#include <stdlib.h>
#include <string.h>
#include "theanolab.h"
#include "reduce.h"

#define TL_INDEX_ERROR 2
#define TL_MEMORY_ERROR 3

#define TL_MAX_ENTRIES 32
#define TL_STYLE_LIST 0   /* [1, 2] */
#define TL_STYLE_TUPLE 1  /* (1, 2) and (1,) */
#define TL_STYLE_NUMPY 2  /* (1,2) and (1,newaxis): NumPy's reshape messages */

/* ------------------------------------------------------------------ helpers for rules and inline kernels */

/* `count` shapes written as Python prints a list of tuples: "[(2, 3), (3, 2)]". */
static void tl_format_shapes(char *text, size_t size, const tl_array *arrays, int count)
{
    size_t used = (size_t)snprintf(text, size, "[");
    for (int k = 0; k < count && used < size; k++) {
        if (k) used += (size_t)snprintf(text + used, size - used, ", ");
        if (used < size) tl_format_shape(text + used, size - used, arrays[k].shape, arrays[k].ndim);
        used = strlen(text);
    }
    if (used < size) snprintf(text + used, size - used, "]");
}

/* `values` (the first `shown` of `n`) as a list, a tuple or NumPy's shape text (see TL_STYLE_*). */
static void tl_format_int64s(char *text, size_t size, const int64_t *values, int64_t shown, int64_t n, int style)
{
    const char *separator = style == TL_STYLE_NUMPY ? "," : ", ";
    size_t used = (size_t)snprintf(text, size, style == TL_STYLE_LIST ? "[" : "(");
    for (int64_t k = 0; k < shown && used < size; k++) {
        const char *before = k ? separator : "";
        if (style == TL_STYLE_NUMPY && values[k] < 0)
            used += (size_t)snprintf(text + used, size - used, "%snewaxis", before);
        else
            used += (size_t)snprintf(text + used, size - used, "%s%lld", before, (long long)values[k]);
    }
    if (used < size && shown < n) used += (size_t)snprintf(text + used, size - used, ", ...");
    if (used < size) snprintf(text + used, size - used, style == TL_STYLE_LIST ? "]" : (n == 1 ? ",)" : ")"));
}

/* C-contiguous strides for a's shape (as NumPy's: a length-0 dimension counts as 1). */
static void tl_contiguous_strides(tl_array *a, int64_t itemsize)
{
    int64_t *strides = (int64_t *)a->strides, step = itemsize;
    for (int64_t d = a->ndim - 1; d >= 0; d--) {
        strides[d] = step;
        step *= a->shape[d] > 1 ? a->shape[d] : 1;
    }
}

/* Copy `src` (any layout) into `dst`, C-contiguous, in C order. */
static void tl_copy_to_contiguous(char *dst, const tl_array *src, int64_t itemsize)
{
    const int64_t total = tl_size(src), nd = src->ndim;
    if (total == 0) return;
    if (tl_is_contiguous(src, itemsize)) {
        memcpy(dst, src->data, (size_t)(total * itemsize));
        return;
    }
    const int64_t n = src->shape[nd - 1], step = src->strides[nd - 1];
    int64_t count[TL_REDUCE_MAXDIM] = {0};
    const char *row = src->data;
    for (int64_t r = 0; r < total / n; r++) {
        for (int64_t k = 0; k < n; k++, dst += itemsize) memcpy(dst, row + k * step, (size_t)itemsize);
        for (int64_t d = nd - 2; d >= 0; d--) {
            row += src->strides[d];
            if (++count[d] < src->shape[d]) break;
            row -= src->strides[d] * src->shape[d];
            count[d] = 0;
        }
    }
}

/* ------------------------------------------------------------------ a graph and its state */

typedef int (*tl_kernel)(const tl_array *inputs, tl_array *outputs, char *error);

typedef struct {
    int ndim;
    int typenum;       /* NumPy's type number */
    int itemsize;
} tl_var;

typedef struct tl_state tl_state;

/* What a driver exports (tl_driver_graph): the graph, numbered, and the function running it. */
typedef struct {
    int nvars, ninputs, nconstants, nbuffers, nfresh, noutputs, nkernels, nnodes, nshapes;
    const tl_var *vars;               /* variables: graph inputs, constants, then node outputs */
    const uint64_t *broadcastable;    /* per graph input and constant: bit d set if dimension d must be 1 long */
    const int *outputs;               /* per graph output: its variable */
    const int *fresh;                 /* per graph output: the fresh array it takes, or -1: a copy */
    const int *node_inputs;           /* node k's input variables: node_inputs[node_start[k]...] */
    const int *node_start;            /* nnodes + 1 */
    int (*execute)(tl_state *s);      /* 0, or 1 + the failing node (s->status, s->error say what) */
} tl_graph;

struct tl_state {
    const tl_graph *g;
    tl_array *a;                      /* per variable */
    int64_t *meta;                    /* shapes and strides of every variable */
    char **buffers;
    size_t *capacity;
    tl_kernel *kernels;
    int64_t *shapes;                  /* shape rules write here */
    int status;                       /* what the failing rule or kernel returned (TL_*_ERROR) */
    /* the runtime's: a new array (fresh slot f) for variable v, its shape set; 0, or 1 (status set) */
    int (*fresh)(tl_state *s, int v, int f);
    char error[TL_ERROR_SIZE];
};

/* ------------------------------------------------------------------ placing outputs, from the generated code */

/* a[v] gets `shape` and C-contiguous strides. */
static inline void tl_set_shape(tl_state *s, int v, const int64_t *shape)
{
    tl_array *a = &s->a[v];
    memcpy((int64_t *)a->shape, shape, sizeof(int64_t) * (size_t)a->ndim);
    tl_contiguous_strides(a, s->g->vars[v].itemsize);
}

static int tl_out_of_memory(tl_state *s, int v, size_t bytes)
{
    s->status = TL_MEMORY_ERROR;
    snprintf(s->error, TL_ERROR_SIZE, "out of memory: cannot allocate %zu bytes for an output of shape ", bytes);
    size_t used = strlen(s->error);
    tl_format_shape(s->error + used, TL_ERROR_SIZE - used, s->a[v].shape, s->a[v].ndim);
    return 1;
}

/* a[v] (its shape set) lives in buffer b, grown if needed; 0, or 1 when out of memory. */
static inline int tl_use_buffer(tl_state *s, int v, int b)
{
    const size_t bytes = (size_t)(tl_size(&s->a[v]) * s->g->vars[v].itemsize);
    if (bytes > s->capacity[b] || s->buffers[b] == NULL) {
        free(s->buffers[b]);
        s->capacity[b] = 0;
        s->buffers[b] = malloc(bytes ? bytes : 1);
        if (s->buffers[b] == NULL) return tl_out_of_memory(s, v, bytes);
        s->capacity[b] = bytes;
    }
    s->a[v].data = s->buffers[b];
    return 0;
}

/* a[v] (its shape set) lives in a new NumPy array, fresh slot f: it will be returned as it is. */
static inline int tl_use_fresh(tl_state *s, int v, int f)
{
    return s->fresh(s, v, f);
}

/* In place: a[v] becomes the destroyed input `d` if their shapes agree (1), else 0 (then a buffer). */
static inline int tl_use_destroyed(tl_state *s, int v, const tl_array *d)
{
    tl_array *a = &s->a[v];
    if (memcmp(a->shape, d->shape, sizeof(int64_t) * (size_t)a->ndim) != 0) return 0;
    memcpy((int64_t *)a->strides, d->strides, sizeof(int64_t) * (size_t)a->ndim);
    a->data = d->data;
    return 1;
}

#endif
