/* elemwise.h: the loop driver shared by every elementwise kernel.
 *
 * A generated kernel (theanolab/backends/c/kernels/elemwise.py) supplies ONE
 * loop, `loop(m, ptrs, flags)`, over `m` contiguous elements of every operand
 * (the inputs, then the outputs), which the compiler vectorizes.
 *
 * tl_elemwise() checks the input shapes against the output's (an input axis
 * of length 1 broadcasts with stride 0; missing leading axes too), drops
 * length-1 axes and merges the axes that every operand walks contiguously, so
 * contiguous arrays of any rank become one row.  Each row is cut into blocks
 * of at most TL_BLOCK elements.  Operands contiguous along the row are used in
 * place; the others go through per-thread buffers: an input broadcast along
 * the row is repeated into one, a strided input is gathered into one, a
 * strided output is computed into one and scattered.  An input marked
 * `single` (its type is broadcastable on every axis, so it holds one
 * element) needs neither: the loop reads its one element before it starts.
 *
 * The loop is only ever called on a multiple of TL_LANES elements: the last
 * few elements of a block are copied into zero-padded buffers of TL_LANES.
 * So no element is computed by a scalar remainder loop: every element goes
 * through the same vector code (vector math functions differ from the scalar
 * ones in the last bit), and a value never depends on where it sits in an
 * array, on its layout, on fusion or on the number of threads.
 *
 * With OpenMP (-fopenmp) the blocks are shared between threads when the
 * output has at least `minsize` elements.  `flags` is passed through to the
 * loop (facts about whole inputs that some scalar expressions need, see
 * tl_any_negative).
 */
#ifndef THEANOLAB_ELEMWISE_H
#define THEANOLAB_ELEMWISE_H

#include "theanolab.h"
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define TL_BLOCK 1024
#define TL_LANES 64 /* a multiple of every vectorization factor: 64 one-byte lanes of AVX-512 */
#define TL_MAX_DIMS 64

/* The vectorized loops are compiled for AVX-512, AVX2 and the baseline, the
 * best one chosen when the module loads: no -march=native, so one cache can
 * serve machines of different generations. */
#ifndef TL_VECTOR_CLONES
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__)
#define TL_VECTOR_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TL_VECTOR_CLONES
#endif
#endif

/* glibc's vector math library (libmvec, within 4 ULP) for the math functions of
 * vectorized loops.  glibc's math.h declares these SIMD variants only under
 * -ffast-math, which would also change arithmetic; declaring them here keeps
 * IEEE semantics everywhere else.  The Python side defines TL_USE_LIBMVEC
 * (and links -lmvec) only where libmvec exists. */
#if defined(TL_USE_LIBMVEC) && defined(__GLIBC__) && defined(__x86_64__) && defined(__GNUC__) && \
    !defined(__clang__) && !defined(__FAST_MATH__)
#define TL_SIMD_DECLARE(T, F) __attribute__((__simd__("notinbranch"))) T F(T);
#define TL_SIMD_DECLARE2(T, F) __attribute__((__simd__("notinbranch"))) T F(T, T);
#define TL_SIMD_FUNCTIONS(T, S)                                                                  \
    TL_SIMD_DECLARE(T, exp##S) TL_SIMD_DECLARE(T, log##S) TL_SIMD_DECLARE(T, sin##S)            \
    TL_SIMD_DECLARE(T, cos##S) TL_SIMD_DECLARE2(T, pow##S)
TL_SIMD_FUNCTIONS(double, )
TL_SIMD_FUNCTIONS(float, f)
#if __GLIBC_PREREQ(2, 35)
#define TL_SIMD_FUNCTIONS_235(T, S)                                                              \
    TL_SIMD_DECLARE(T, acos##S) TL_SIMD_DECLARE(T, acosh##S) TL_SIMD_DECLARE(T, asin##S)        \
    TL_SIMD_DECLARE(T, asinh##S) TL_SIMD_DECLARE(T, atan##S) TL_SIMD_DECLARE(T, atanh##S)       \
    TL_SIMD_DECLARE(T, cosh##S) TL_SIMD_DECLARE(T, erf##S) TL_SIMD_DECLARE(T, erfc##S)          \
    TL_SIMD_DECLARE(T, exp2##S) TL_SIMD_DECLARE(T, expm1##S) TL_SIMD_DECLARE(T, log10##S)       \
    TL_SIMD_DECLARE(T, log1p##S) TL_SIMD_DECLARE(T, log2##S) TL_SIMD_DECLARE(T, sinh##S)        \
    TL_SIMD_DECLARE(T, tan##S) TL_SIMD_DECLARE(T, tanh##S) TL_SIMD_DECLARE2(T, atan2##S)
TL_SIMD_FUNCTIONS_235(double, )
TL_SIMD_FUNCTIONS_235(float, f)
#endif
#endif

typedef void (*tl_loop)(int64_t m, char *const *ptrs, const int64_t *flags);

/* 1 if some element of `a` (signed integers of `itemsize` bytes, or floats when
 * is_float) is below zero: Pow on integers switches to floats for the whole
 * array when one exponent is negative. */
static int64_t tl_any_negative(const tl_array *a, int64_t itemsize, int is_float)
{
    const int64_t n = tl_size(a);
    int64_t index[TL_MAX_DIMS] = {0};
    const char *p = a->data;
    for (int64_t k = 0; k < n; k++) {
        int negative;
        if (is_float) negative = itemsize == 4 ? *(const float *)p < 0 : *(const double *)p < 0;
        else switch (itemsize) {
            case 1: negative = *(const int8_t *)p < 0; break;
            case 2: negative = *(const int16_t *)p < 0; break;
            case 4: negative = *(const int32_t *)p < 0; break;
            default: negative = *(const int64_t *)p < 0; break;
        }
        if (negative) return 1;
        for (int64_t d = a->ndim - 1; d >= 0; d--) {
            p += a->strides[d];
            if (++index[d] < a->shape[d]) break;
            p -= a->strides[d] * a->shape[d];
            index[d] = 0;
        }
    }
    return 0;
}

/* dst[j] = src[j * step] for j < count, elements of `itemsize` bytes (or the reverse: scatter). */
static void tl_gather(char *dst, const char *src, int64_t step, int64_t count, int64_t itemsize)
{
    switch (itemsize) {
        case 8: for (int64_t j = 0; j < count; j++) memcpy(dst + 8 * j, src + j * step, 8); break;
        case 4: for (int64_t j = 0; j < count; j++) memcpy(dst + 4 * j, src + j * step, 4); break;
        case 2: for (int64_t j = 0; j < count; j++) memcpy(dst + 2 * j, src + j * step, 2); break;
        case 1: for (int64_t j = 0; j < count; j++) dst[j] = src[j * step]; break;
        default: for (int64_t j = 0; j < count; j++) memcpy(dst + itemsize * j, src + j * step, (size_t)itemsize);
    }
}

static void tl_scatter(char *dst, int64_t step, const char *src, int64_t count, int64_t itemsize)
{
    switch (itemsize) {
        case 8: for (int64_t j = 0; j < count; j++) memcpy(dst + j * step, src + 8 * j, 8); break;
        case 4: for (int64_t j = 0; j < count; j++) memcpy(dst + j * step, src + 4 * j, 4); break;
        case 2: for (int64_t j = 0; j < count; j++) memcpy(dst + j * step, src + 2 * j, 2); break;
        case 1: for (int64_t j = 0; j < count; j++) dst[j * step] = src[j]; break;
        default: for (int64_t j = 0; j < count; j++) memcpy(dst + j * step, src + itemsize * j, (size_t)itemsize);
    }
}

/* The work after collapsing: rows of m elements along the last axis, each cut in blocks. */
typedef struct {
    int nops, nin, ndim;
    const int64_t *shape;     /* ndim collapsed lengths */
    const int64_t *strides;   /* nops x ndim byte strides */
    char *const *base;        /* nops data pointers */
    const int64_t *itemsizes; /* nops */
    const char *single;       /* nin: 1 for an input of one element, which the loop reads once */
    int64_t m, blocks_per_row;
    tl_loop loop;
    const int64_t *flags;
} tl_elemwise_plan;

/* One block of `count` elements: `at[k]` its first element in operand k, `steps[k]` its byte step. */
static void tl_elemwise_block(const tl_elemwise_plan *plan, int64_t count, char *const *at, const int64_t *steps,
                              char *const *buffers, int64_t (*tails)[TL_LANES], int refill)
{
    const int nops = plan->nops, nin = plan->nin;
    char *ptrs[nops];
    const int64_t body = count - count % TL_LANES, rest = count - body;
    for (int k = 0; k < nops; k++) {
        const int64_t size = plan->itemsizes[k];
        if (steps[k] == size || (k < nin && plan->single[k])) {
            ptrs[k] = at[k];
        } else {
            ptrs[k] = buffers[k];
            if (k < nin && steps[k] == 0) {
                const int64_t fill = plan->m < TL_BLOCK ? plan->m : TL_BLOCK;
                if (refill) tl_gather(buffers[k], at[k], 0, fill, size);  /* the value repeated, no call per element */
            } else if (k < nin) {
                tl_gather(buffers[k], at[k], steps[k], body, size);
            }
        }
    }
    if (body) plan->loop(body, ptrs, plan->flags);
    for (int k = nin; k < nops; k++)
        if (steps[k] != plan->itemsizes[k]) tl_scatter(at[k], steps[k], buffers[k], body, plan->itemsizes[k]);
    if (!rest) return;
    /* The last elements, zero-padded to TL_LANES (every op is defined on zeros). */
    for (int k = 0; k < nops; k++) {
        const int64_t size = plan->itemsizes[k];
        if (k < nin && plan->single[k]) { ptrs[k] = at[k]; continue; }
        ptrs[k] = (char *)tails[k];
        if (k < nin) tl_gather(ptrs[k], at[k] + body * steps[k], steps[k], rest, size);
        memset(ptrs[k] + rest * size, 0, (size_t)((TL_LANES - rest) * size));
    }
    plan->loop(TL_LANES, ptrs, plan->flags);
    for (int k = nin; k < nops; k++)
        tl_scatter(at[k] + body * steps[k], steps[k], (const char *)tails[k], rest, plan->itemsizes[k]);
}

/* Whether operand k, stepping `step` bytes along the row, goes through a buffer. */
static int tl_elemwise_buffered(const tl_elemwise_plan *plan, int k, int64_t step)
{
    return step != plan->itemsizes[k] && !(k < plan->nin && plan->single[k]);
}

/* Run items [lo, hi) (item = block b of row r, numbered r * blocks_per_row + b); 0, or -1 if out of memory. */
static int tl_elemwise_items(const tl_elemwise_plan *plan, int64_t lo, int64_t hi)
{
    const int nops = plan->nops, outer = plan->ndim - 1;
    char *row[nops], *at[nops], *buffers[nops];
    int64_t steps[nops], index[TL_MAX_DIMS], tails[nops][TL_LANES];
    int64_t row_number = lo / plan->blocks_per_row, block = lo % plan->blocks_per_row;
    int64_t rest = row_number, size = 0;
    const int64_t buffer_length = plan->m < TL_BLOCK ? plan->m : TL_BLOCK;  /* small arrays: small buffers */
    for (int d = outer - 1; d >= 0; d--) {
        index[d] = rest % plan->shape[d];
        rest /= plan->shape[d];
    }
    for (int k = 0; k < nops; k++) {
        const int64_t *s = plan->strides + (int64_t)k * plan->ndim;
        row[k] = plan->base[k];
        for (int d = 0; d < outer; d++) row[k] += index[d] * s[d];
        steps[k] = s[outer];
        if (tl_elemwise_buffered(plan, k, steps[k])) size += buffer_length * plan->itemsizes[k];
    }
    char *scratch = NULL;
    if (size) {
        scratch = (char *)malloc((size_t)size);
        if (scratch == NULL) return -1;
    }
    size = 0;
    for (int k = 0; k < nops; k++) {
        buffers[k] = NULL;
        if (tl_elemwise_buffered(plan, k, steps[k])) {
            buffers[k] = scratch + size;
            size += buffer_length * plan->itemsizes[k];
        }
    }
    int refill = 1; /* the broadcast buffers hold the value of this row */
    for (int64_t item = lo; item < hi; item++) {
        const int64_t start = block * TL_BLOCK;
        const int64_t count = plan->m - start < TL_BLOCK ? plan->m - start : TL_BLOCK;
        for (int k = 0; k < nops; k++) at[k] = row[k] + start * steps[k];
        tl_elemwise_block(plan, count, at, steps, buffers, tails, refill);
        refill = 0;
        if (++block < plan->blocks_per_row) continue;
        block = 0;
        refill = 1;
        for (int d = outer - 1; d >= 0; d--) { /* next row: the odometer over the outer axes */
            for (int k = 0; k < nops; k++) row[k] += plan->strides[(int64_t)k * plan->ndim + d];
            if (++index[d] < plan->shape[d]) break;
            for (int k = 0; k < nops; k++) row[k] -= plan->strides[(int64_t)k * plan->ndim + d] * plan->shape[d];
            index[d] = 0;
        }
    }
    free(scratch);
    return 0;
}

/* Apply the loop to inputs[0:nin] giving outputs[0:nout] (allocated with the broadcast shape). */
static int tl_elemwise(int nin, int nout, const tl_array *inputs, tl_array *outputs, const int64_t *itemsizes,
                       const char *single, tl_loop loop, const int64_t *flags, int64_t minsize, char *error)
{
    const int nops = nin + nout;
    const tl_array *out = &outputs[0];
    const int64_t ndim = out->ndim;
    if (ndim > TL_MAX_DIMS) {
        snprintf(error, TL_ERROR_SIZE, "elemwise: %lld dimensions, at most %d are supported",
                 (long long)ndim, TL_MAX_DIMS);
        return 1;
    }
    for (int k = 0; k < nin; k++) {
        const tl_array *a = &inputs[k];
        if (a->ndim > ndim) {
            snprintf(error, TL_ERROR_SIZE, "elemwise: input %d has %lld dimensions, more than the output's %lld",
                     k, (long long)a->ndim, (long long)ndim);
            return 1;
        }
        for (int64_t d = 0; d < a->ndim; d++) {
            const int64_t length = a->shape[d], target = out->shape[ndim - a->ndim + d];
            if (length != target && length != 1) {
                snprintf(error, TL_ERROR_SIZE,
                         "Input dimension mismatch: input %d has length %lld on axis %lld where the output "
                         "has %lld", k, (long long)length, (long long)(ndim - a->ndim + d), (long long)target);
                return 1;
            }
        }
    }
    const int64_t n = tl_size(out);
    if (n == 0) return 0;

    /* Byte strides of every operand on the output's axes (0 where an input broadcasts),
     * length-1 axes dropped, then each axis merged into the next inner one wherever every
     * operand steps over the inner axis exactly as far as one step of the outer. */
    int64_t shape[TL_MAX_DIMS], strides[nops][TL_MAX_DIMS];
    char *base[nops];
    int kept = 0;
    for (int64_t d = 0; d < ndim; d++) {
        if (out->shape[d] == 1) continue;
        shape[kept] = out->shape[d];
        for (int k = 0; k < nops; k++) {
            const tl_array *a = k < nin ? &inputs[k] : &outputs[k - nin];
            const int64_t axis = d - (ndim - a->ndim);
            strides[k][kept] = (axis < 0 || a->shape[axis] != out->shape[d]) ? 0 : a->strides[axis];
        }
        kept++;
    }
    for (int k = 0; k < nops; k++) base[k] = k < nin ? inputs[k].data : outputs[k - nin].data;
    if (kept == 0) { /* a single element: a contiguous row of one */
        shape[0] = 1;
        for (int k = 0; k < nops; k++) strides[k][0] = itemsizes[k];
        kept = 1;
    }
    int merged = 0; /* axes [0, merged] hold the result, outermost first */
    for (int d = 1; d < kept; d++) {
        int joinable = 1;
        for (int k = 0; k < nops && joinable; k++) joinable = strides[k][merged] == strides[k][d] * shape[d];
        if (joinable) {
            shape[merged] *= shape[d];
            for (int k = 0; k < nops; k++) strides[k][merged] = strides[k][d];
        } else {
            merged++;
            shape[merged] = shape[d];
            for (int k = 0; k < nops; k++) strides[k][merged] = strides[k][d];
        }
    }
    const int cdim = merged + 1;
    int64_t compact[nops * cdim];
    for (int k = 0; k < nops; k++)
        for (int d = 0; d < cdim; d++) compact[k * cdim + d] = strides[k][d];

    tl_elemwise_plan plan;
    plan.nops = nops;
    plan.nin = nin;
    plan.ndim = cdim;
    plan.shape = shape;
    plan.strides = compact;
    plan.base = base;
    plan.itemsizes = itemsizes;
    plan.single = single;
    plan.m = shape[cdim - 1];
    plan.blocks_per_row = (plan.m + TL_BLOCK - 1) / TL_BLOCK;
    plan.loop = loop;
    plan.flags = flags;
    const int64_t items = (n / plan.m) * plan.blocks_per_row;
    int failed = 0;
#ifdef _OPENMP
    if (n < minsize || items < 2) {  /* no parallel region at all: entering one costs even when it is off */
        failed = tl_elemwise_items(&plan, 0, items) != 0;
    } else
#pragma omp parallel
    {
        const int64_t threads = omp_get_num_threads(), thread = omp_get_thread_num();
        const int64_t lo = items * thread / threads, hi = items * (thread + 1) / threads;
        if (lo < hi && tl_elemwise_items(&plan, lo, hi) != 0) {
#pragma omp atomic write
            failed = 1;
        }
    }
#else
    (void)minsize;
    failed = tl_elemwise_items(&plan, 0, items) != 0;
#endif
    if (failed) {
        snprintf(error, TL_ERROR_SIZE, "elemwise: out of memory for the buffers of strided operands");
        return 1;
    }
    return 0;
}

#endif
