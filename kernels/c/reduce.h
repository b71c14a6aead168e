/* reduce.h: the loop plan shared by every reduction kernel, and shape text for errors.
 *
 * A reduction of an n-d input over some axes is one walk over every input
 * element that folds it into an accumulator cell.  Seen from the input, the
 * accumulator is an array of the input's rank whose reduced axes have stride
 * 0, so the walk may visit the dimensions in any order: the plan orders them
 * by the input's byte strides (largest outside), which walks memory in order
 * whatever the layout (a column sum of a C-contiguous matrix adds whole rows
 * into the accumulator vector; a transposed input is read as stored).  Length-1
 * dimensions are dropped and dimensions that are contiguous in every array
 * are merged, so a contiguous full reduction is one flat loop.
 *
 * Three strides per dimension: the input's (bytes), the accumulator's
 * (elements, 0 on reduced axes; the accumulator is C-ordered over the kept
 * axes, like the output) and the flat position among the reduced axes
 * (elements, 0 on kept axes; what an argmax returns).
 */
#ifndef THEANOLAB_REDUCE_H
#define THEANOLAB_REDUCE_H

#include "theanolab.h"

#define TL_REDUCE_MAXDIM 64

typedef struct {
    int64_t nd;                          /* >= 1 */
    int64_t len[TL_REDUCE_MAXDIM];
    int64_t x[TL_REDUCE_MAXDIM];         /* input byte strides */
    int64_t a[TL_REDUCE_MAXDIM];         /* accumulator element strides */
    int64_t i[TL_REDUCE_MAXDIM];         /* flat reduced-position strides */
} tl_reduce_plan;

static inline int64_t tl_abs64(int64_t v) { return v < 0 ? -v : v; }

/* The plan reducing `x` over `axes` (the first `naxes`, in the order that
 * numbers reduced positions).  `x` must not be empty and have at most
 * TL_REDUCE_MAXDIM dimensions. */
static void tl_reduce_plan_make(tl_reduce_plan *p, const tl_array *x, const int64_t *axes, int64_t naxes)
{
    int64_t reduced[TL_REDUCE_MAXDIM] = {0}, a[TL_REDUCE_MAXDIM], i[TL_REDUCE_MAXDIM];
    for (int64_t k = 0; k < naxes; k++) reduced[axes[k]] = 1;
    int64_t running = 1;
    for (int64_t d = x->ndim - 1; d >= 0; d--) {
        a[d] = reduced[d] ? 0 : running;
        if (!reduced[d]) running *= x->shape[d];
    }
    running = 1;
    for (int64_t d = 0; d < x->ndim; d++) i[d] = 0;
    for (int64_t k = naxes - 1; k >= 0; k--) {
        i[axes[k]] = running;
        running *= x->shape[axes[k]];
    }
    /* Keep the dimensions longer than 1, sorted by |input stride|, largest first (stable). */
    p->nd = 0;
    for (int64_t d = 0; d < x->ndim; d++) {
        if (x->shape[d] == 1) continue;
        int64_t k = p->nd++;
        while (k > 0 && tl_abs64(p->x[k - 1]) < tl_abs64(x->strides[d])) {
            p->len[k] = p->len[k - 1]; p->x[k] = p->x[k - 1]; p->a[k] = p->a[k - 1]; p->i[k] = p->i[k - 1];
            k--;
        }
        p->len[k] = x->shape[d]; p->x[k] = x->strides[d]; p->a[k] = a[d]; p->i[k] = i[d];
    }
    if (p->nd == 0) {
        p->nd = 1; p->len[0] = 1; p->x[0] = 0; p->a[0] = 0; p->i[0] = 0;
        return;
    }
    /* Merge an outer dimension into the next inner one when every stride allows it. */
    int64_t kept = 0;
    for (int64_t d = 1; d < p->nd; d++) {
        int64_t n = p->len[d];
        if (p->x[kept] == p->x[d] * n && p->a[kept] == p->a[d] * n && p->i[kept] == p->i[d] * n) {
            p->len[kept] *= n; p->x[kept] = p->x[d]; p->a[kept] = p->a[d]; p->i[kept] = p->i[d];
        } else {
            kept++;
            p->len[kept] = n; p->x[kept] = p->x[d]; p->a[kept] = p->a[d]; p->i[kept] = p->i[d];
        }
    }
    p->nd = kept + 1;
}

/* `shape` written as Python writes a tuple: "()", "(3,)", "(2, 3)". */
static void tl_format_shape(char *text, size_t size, const int64_t *shape, int64_t ndim)
{
    size_t used = (size_t)snprintf(text, size, "(");
    for (int64_t d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(text + used, size - used, d ? ", %lld" : "%lld", (long long)shape[d]);
    if (used < size) snprintf(text + used, size - used, ndim == 1 ? ",)" : ")");
}

#endif
