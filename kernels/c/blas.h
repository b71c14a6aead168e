/* blas.h: the dot family's products as CBLAS calls on tl_array views.
 *
 * BLAS reads a matrix with one unit stride and a leading dimension (rows or
 * columns contiguous and not overlapping), and a vector with any non-zero
 * increment.  Every operand is described here as a 2-D view (a vector is an
 * n x 1 view); a view BLAS can read is passed as it is (a column-major
 * matrix as the transpose of a row-major one, CblasTrans), any other layout
 * (negative or non-unit strides in both dimensions, broadcast stride 0) is
 * first packed into a contiguous scratch copy.  The product itself is always
 * the BLAS call; the only loops here copy, zero or scale.
 *
 * The result is written where BLAS can write it: into the output itself
 * when its layout fits and it overlaps no operand, else into a scratch copy
 * written back at the end.  An update's z (Gemm, Gemv, Ger) is copied into
 * that target first, unless it is the target (an in-place call) or beta is 0
 * (then z is never read, so NaNs in it do not propagate).
 *
 * Element size 8 is double, 4 float.  TL_CBLAS_PREFIX is the library's
 * symbol prefix (scipy_ for scipy-openblas32, see blas_library.py); BLAS
 * integers are 32-bit, so larger dimensions are an error.
 */
#ifndef THEANOLAB_BLAS_H
#define THEANOLAB_BLAS_H

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>
#include "theanolab.h"

#ifndef TL_CBLAS_PREFIX
#define TL_CBLAS_PREFIX
#endif
#define TL_CBLAS_PASTE(prefix, name) prefix##cblas_##name
#define TL_CBLAS_EXPAND(prefix, name) TL_CBLAS_PASTE(prefix, name)
#define TL_CBLAS(name) TL_CBLAS_EXPAND(TL_CBLAS_PREFIX, name)

/* A 2-D view: rows x cols elements with byte strides. */
typedef struct {
    char *data;
    int64_t rows, cols, rs, cs;
} tl_view;

static tl_view tl_view_of(const tl_array *a, int64_t isz) {
    tl_view v = {a->data, 1, 1, isz, isz};
    if (a->ndim >= 1) { v.rows = a->shape[0]; v.rs = a->strides[0]; }
    if (a->ndim >= 2) { v.cols = a->shape[1]; v.cs = a->strides[1]; }
    return v;
}

static tl_view tl_view_t(tl_view v) {
    tl_view t = {v.data, v.cols, v.rows, v.cs, v.rs};
    return t;
}

static tl_view tl_view_contiguous(char *data, int64_t rows, int64_t cols, int64_t isz) {
    tl_view v = {data, rows, cols, cols * isz, isz};
    return v;
}

static int64_t tl_max1(int64_t n) { return n > 1 ? n : 1; }

/* A row-major layout BLAS reads in place: 1 and *ld (elements), else 0. */
static int tl_row_major(const tl_view *v, int64_t isz, int *ld) {
    int64_t least = tl_max1(v->cols);
    if (v->cols > 1 && v->cs != isz) return 0;
    if (v->rows <= 1) { *ld = (int)least; return 1; }
    if (v->rs % isz != 0 || v->rs / isz < least || v->rs / isz > INT_MAX) return 0;
    *ld = (int)(v->rs / isz);
    return 1;
}

/* How BLAS reads v in place: row-major (*trans = 0) or as the transpose of
 * a row-major matrix (*trans = 1), with leading dimension *ld; 0 if neither. */
static int tl_blas_layout(tl_view v, int64_t isz, int *trans, int *ld) {
    *trans = 0;
    if (tl_row_major(&v, isz, ld)) return 1;
    v = tl_view_t(v);
    *trans = 1;
    return tl_row_major(&v, isz, ld);
}

/* The increment BLAS reads the n x 1 view v with (1 and *inc), else 0. */
static int tl_blas_increment(tl_view v, int64_t isz, int *inc) {
    if (v.rows <= 1) { *inc = 1; return 1; }
    if (v.rs == 0 || v.rs % isz != 0 || v.rs / isz > INT_MAX || v.rs / isz < -INT_MAX) return 0;
    *inc = (int)(v.rs / isz);
    return 1;
}

/* BLAS expects a vector with a negative increment at its lowest address. */
static char *tl_blas_vector_start(tl_view v, int inc) {
    return inc < 0 ? v.data + (v.rows - 1) * v.rs : v.data;
}

static void tl_copy(tl_view dst, tl_view src, int64_t isz) {
    int64_t row = src.cols * isz;
    if (dst.cs == isz && src.cs == isz && (src.rows <= 1 || (dst.rs == row && src.rs == row))) {
        memcpy(dst.data, src.data, (size_t)(src.rows * row));
        return;
    }
    for (int64_t i = 0; i < src.rows; i++) {
        char *d = dst.data + i * dst.rs;
        const char *s = src.data + i * src.rs;
        if (dst.cs == isz && src.cs == isz) {
            memcpy(d, s, (size_t)(src.cols * isz));
        } else if (isz == 8) {
            for (int64_t j = 0; j < src.cols; j++) memcpy(d + j * dst.cs, s + j * src.cs, 8);
        } else {
            for (int64_t j = 0; j < src.cols; j++) memcpy(d + j * dst.cs, s + j * src.cs, 4);
        }
    }
}

/* v = beta * v (all zeros when beta is 0, whatever v held). */
static void tl_scale(tl_view v, double beta, int64_t isz) {
    if (beta == 1) return;
    for (int64_t i = 0; i < v.rows; i++) {
        for (int64_t j = 0; j < v.cols; j++) {
            char *p = v.data + i * v.rs + j * v.cs;
            if (isz == 8) {
                double x = beta == 0 ? 0 : beta * *(double *)p;
                *(double *)p = x;
            } else {
                float x = beta == 0 ? 0 : (float)beta * *(float *)p;
                *(float *)p = x;
            }
        }
    }
}

static int tl_empty(tl_view v) { return v.rows == 0 || v.cols == 0; }

/* The bytes [lo, hi) a non-empty view touches. */
static void tl_extent(tl_view v, int64_t isz, intptr_t *lo, intptr_t *hi) {
    intptr_t start = (intptr_t)v.data, end = start + isz;
    int64_t row_span = (v.rows - 1) * v.rs, col_span = (v.cols - 1) * v.cs;
    if (row_span < 0) start += row_span; else end += row_span;
    if (col_span < 0) start += col_span; else end += col_span;
    *lo = start;
    *hi = end;
}

static int tl_overlap(tl_view a, tl_view b, int64_t isz) {
    intptr_t alo, ahi, blo, bhi;
    if (tl_empty(a) || tl_empty(b)) return 0;
    tl_extent(a, isz, &alo, &ahi);
    tl_extent(b, isz, &blo, &bhi);
    return alo < bhi && blo < ahi;
}

static int tl_same(tl_view a, tl_view b) {
    return a.data == b.data && a.rows == b.rows && a.cols == b.cols
        && (a.rows <= 1 || a.rs == b.rs) && (a.cols <= 1 || a.cs == b.cs);
}

static int tl_blas_out_of_memory(const char *op, char *error) {
    snprintf(error, TL_ERROR_SIZE, "%s: out of memory for a scratch copy of an operand", op);
    return 1;
}

/* An operand as BLAS reads it: in place, or packed into `scratch` (freed by the caller). */
typedef struct {
    char *data;
    int trans, ld, inc;
    char *scratch;
} tl_operand;

/* Scratch memory starting on a 64-byte boundary: BLAS reads a packed operand from aligned rows, and
 * tl_gemv_peel then never splits it, whatever address malloc would have returned (so two functions
 * packing the same operand compute it alike). Freed with free(). */
static void *tl_scratch(int64_t bytes) {
    return aligned_alloc(64, (size_t)((tl_max1(bytes) + 63) / 64 * 64));
}

static int tl_pack(tl_view v, int64_t isz, tl_operand *o) {
    o->scratch = tl_scratch(v.rows * v.cols * isz);
    if (o->scratch == NULL) return 1;
    tl_copy(tl_view_contiguous(o->scratch, v.rows, v.cols, isz), v, isz);
    o->data = o->scratch;
    o->trans = 0;
    o->ld = (int)tl_max1(v.cols);
    o->inc = 1;
    return 0;
}

static int tl_matrix_operand(tl_view v, int64_t isz, tl_operand *o) {
    o->scratch = NULL;
    o->inc = 1;
    if (tl_blas_layout(v, isz, &o->trans, &o->ld)) { o->data = v.data; return 0; }
    return tl_pack(v, isz, o);
}

static int tl_vector_operand(tl_view v, int64_t isz, tl_operand *o) {
    o->scratch = NULL;
    o->trans = 0;
    o->ld = 1;
    if (tl_blas_increment(v, isz, &o->inc)) { o->data = tl_blas_vector_start(v, o->inc); return 0; }
    return tl_pack(v, isz, o);
}

/* Where BLAS writes the output `out`: see the header comment. */
typedef struct {
    tl_view out, at;
    char *scratch;
} tl_target;

static int tl_target_open(tl_target *t, tl_view out, const tl_view *z, const tl_view *reads, int n_reads,
                          int is_matrix, int64_t isz) {
    int fits, trans, ld;
    fits = is_matrix ? tl_blas_layout(out, isz, &trans, &ld) : tl_blas_increment(out, isz, &ld);
    for (int i = 0; i < n_reads; i++) fits = fits && !tl_overlap(out, reads[i], isz);
    if (z != NULL) fits = fits && (tl_same(out, *z) || !tl_overlap(out, *z, isz));
    t->out = out;
    t->at = out;
    t->scratch = NULL;
    if (!fits) {
        t->scratch = tl_scratch(out.rows * out.cols * isz);
        if (t->scratch == NULL) return 1;
        t->at = tl_view_contiguous(t->scratch, out.rows, out.cols, isz);
    }
    if (z != NULL && !tl_same(t->at, *z)) tl_copy(t->at, *z, isz);
    return 0;
}

static void tl_target_close(tl_target *t, int64_t isz) {
    if (t->scratch == NULL) return;
    tl_copy(t->out, t->at, isz);
    free(t->scratch);
}

/* ------------------------------------------------------------------ shape checks */

static void tl_shape_text(const tl_array *a, char *text, size_t size) {
    size_t used = (size_t)snprintf(text, size, "(");
    for (int64_t d = 0; d < a->ndim && used < size; d++)
        used += (size_t)snprintf(text + used, size - used, d ? ", %lld" : "%lld", (long long)a->shape[d]);
    if (used < size) snprintf(text + used, size - used, a->ndim == 1 ? ",)" : ")");
}

/* 0 if the last dimension of a equals the first of b, else an error as Dot.perform words it. */
static int tl_check_aligned(const char *op, const tl_array *a, const tl_array *b, char *error) {
    int64_t inner_a = a->shape[a->ndim - 1], inner_b = b->shape[0];
    char sa[96], sb[96];
    if (inner_a == inner_b) return 0;
    tl_shape_text(a, sa, sizeof sa);
    tl_shape_text(b, sb, sizeof sb);
    snprintf(error, TL_ERROR_SIZE, "%s: shapes %s and %s are not aligned: the last dimension of the first "
             "input (%lld) must equal the first dimension of the second (%lld)",
             op, sa, sb, (long long)inner_a, (long long)inner_b);
    return 1;
}

/* 0 if the product of a and b, of shape (rows[, cols]), has the shape of the updated input z. */
static int tl_check_update(const char *op, const tl_array *z, const tl_array *a, const tl_array *b,
                           int64_t rows, int64_t cols, char *error) {
    char sz[96], sa[96], sb[96], sp[96];
    if (z->shape[0] == rows && (z->ndim == 1 || z->shape[1] == cols)) return 0;
    tl_shape_text(z, sz, sizeof sz);
    tl_shape_text(a, sa, sizeof sa);
    tl_shape_text(b, sb, sizeof sb);
    if (z->ndim == 1) snprintf(sp, sizeof sp, "(%lld,)", (long long)rows);
    else snprintf(sp, sizeof sp, "(%lld, %lld)", (long long)rows, (long long)cols);
    snprintf(error, TL_ERROR_SIZE, "%s: the product of shapes %s and %s has shape %s, but the updated "
             "input has shape %s", op, sa, sb, sp, sz);
    return 1;
}

/* 0 if every dimension fits BLAS's 32-bit integers. */
static int tl_check_int(const char *op, const tl_array *const *arrays, int n, char *error) {
    for (int i = 0; i < n; i++) {
        for (int64_t d = 0; d < arrays[i]->ndim; d++) {
            if (arrays[i]->shape[d] > INT_MAX) {
                snprintf(error, TL_ERROR_SIZE, "%s: a dimension of %lld elements is too large for the "
                         "BLAS's 32-bit integers", op, (long long)arrays[i]->shape[d]);
                return 1;
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ BLAS calls on views */

static CBLAS_TRANSPOSE tl_trans(int trans) { return trans ? CblasTrans : CblasNoTrans; }

/* c = alpha * a @ b + beta * c (c already holds z), c row-major or column-major. */
static int tl_gemm_views(tl_view c, double alpha, tl_view a, tl_view b, double beta, int64_t isz) {
    tl_operand A = {0}, B = {0};
    int trans = 0, ldc = 1, failed;
    if (tl_empty(c)) return 0;
    if (a.cols == 0) { tl_scale(c, beta, isz); return 0; }
    tl_blas_layout(c, isz, &trans, &ldc);
    if (trans) {  /* c^T = b^T a^T, row-major */
        tl_view a_t = tl_view_t(b);
        b = tl_view_t(a);
        a = a_t;
        c = tl_view_t(c);
        tl_blas_layout(c, isz, &trans, &ldc);
    }
    failed = tl_matrix_operand(a, isz, &A);
    failed = failed || tl_matrix_operand(b, isz, &B);
    if (!failed && isz == 8)
        TL_CBLAS(dgemm)(CblasRowMajor, tl_trans(A.trans), tl_trans(B.trans), (int)c.rows, (int)c.cols,
                        (int)a.cols, alpha, (const double *)A.data, A.ld, (const double *)B.data, B.ld,
                        beta, (double *)c.data, ldc);
    else if (!failed)
        TL_CBLAS(sgemm)(CblasRowMajor, tl_trans(A.trans), tl_trans(B.trans), (int)c.rows, (int)c.cols,
                        (int)a.cols, (float)alpha, (const float *)A.data, A.ld, (const float *)B.data, B.ld,
                        (float)beta, (float *)c.data, ldc);
    free(A.scratch);
    free(B.scratch);
    return failed;
}

/* One BLAS matrix-vector call: y = alpha * A @ x + beta * y for the m x n matrix A as BLAS reads it. */
static void tl_gemv_call(int trans, int m, int n, double alpha, const char *a, int lda, const tl_operand *x,
                         double beta, char *y, int incy, int64_t isz) {
    if (isz == 8)
        TL_CBLAS(dgemv)(CblasRowMajor, tl_trans(trans), m, n, alpha, (const double *)a, lda,
                        (const double *)x->data, x->inc, beta, (double *)y, incy);
    else
        TL_CBLAS(sgemv)(CblasRowMajor, tl_trans(trans), m, n, (float)alpha, (const float *)a, lda,
                        (const float *)x->data, x->inc, (float)beta, (float *)y, incy);
}

/* Aligned rows.  A NumPy matrix's data usually starts 16 bytes past a page
 * (malloc's header), so every row of a 784-double matrix starts 16 bytes off
 * a 32-byte boundary and half of BLAS's vector loads straddle two cache lines:
 * a 400x784 gemv took 28 us there against 25.7 us from an aligned address.
 * When every row starts at the same offset (the row stride is a multiple of
 * the alignment), the first `peel` columns go to a call of their own and the
 * long call starts aligned.  For a^T @ x that only splits the output; for
 * a @ x each element becomes (sum over the long part) + (sum over the peeled
 * columns), a different rounding order than one call, as a BLAS's own
 * unrolling is.  Small matrices stay one call (each call costs ~0.1 us). */
#define TL_GEMV_PEEL_MIN_BYTES (64 * 1024)

/* Columns to peel so that a row starting at `a` (row stride `ld_bytes`) is read from 64 or 32-byte
 * aligned addresses, or 0. */
static int64_t tl_gemv_peel(const char *a, int64_t ld_bytes, int64_t m, int64_t n, int64_t isz) {
    if (m * ld_bytes < TL_GEMV_PEEL_MIN_BYTES || (uintptr_t)a % (uintptr_t)isz != 0) return 0;
    for (int64_t align = 64; align >= 32; align /= 2) {
        if (ld_bytes % align == 0) {
            int64_t peel = (int64_t)((uintptr_t)(align - (int64_t)((uintptr_t)a % (uintptr_t)align)) % (uintptr_t)align) / isz;
            return peel < n ? peel : 0;
        }
    }
    return 0;
}

/* tl_gemv_call with the first `peel` columns of a row-major A in a call of their own (see above). */
static void tl_gemv_aligned(int trans, int m, int n, int64_t peel, double alpha, const char *a, int lda,
                            const tl_operand *x, double beta, char *y, int incy, int64_t isz) {
    if (peel == 0) {
        tl_gemv_call(trans, m, n, alpha, a, lda, x, beta, y, incy, isz);
        return;
    }
    tl_operand rest = *x;
    if (trans) {  /* y (n) = A^T x: the peeled columns give the first outputs */
        tl_gemv_call(1, m, n - (int)peel, alpha, a + peel * isz, lda, x, beta, y + peel * incy * isz, incy, isz);
        tl_gemv_call(1, m, (int)peel, alpha, a, lda, x, beta, y, incy, isz);
    } else {      /* y (m) = A x: the peeled columns' terms are added last */
        rest.data = x->data + peel * x->inc * isz;
        tl_gemv_call(0, m, n - (int)peel, alpha, a + peel * isz, lda, &rest, beta, y, incy, isz);
        tl_gemv_call(0, m, (int)peel, alpha, a, lda, x, 1.0, y, incy, isz);
    }
}

/* Bottom-up traversal (see tl_gemv_views): blocks of about this many bytes of the
 * matrix, and only for a matrix of at least two blocks (a smaller one stays in
 * any cache between two passes, whatever their order). */
#define TL_GEMV_BLOCK_BYTES (256 * 1024)

/* Rows per block for a bottom-up pass over rows of `row_bytes` bytes (a multiple of 4, BLAS's unroll). */
static int64_t tl_gemv_block_rows(int64_t rows, int64_t row_bytes) {
    int64_t block = (TL_GEMV_BLOCK_BYTES / tl_max1(row_bytes)) & ~(int64_t)3;
    block = block < 4 ? 4 : block;
    return rows * row_bytes >= 2 * TL_GEMV_BLOCK_BYTES ? block : rows;
}

/* y = alpha * a @ x + beta * y (y already holds z), a matrix, x and y vectors.
 *
 * bottom_up: read a's rows from the last block to the first.  Each element of
 * y is one row's dot product with x, so the order changes no result; it
 * changes which rows are still in cache: when the next pass over a (the
 * gradient's a^T @ g) reads it top-down, it starts on the rows this pass read
 * last, and the following call's bottom-up pass starts where that one ended
 * (see the rewrite `reuse_cached_rows`).  Only a row-major a is read so;
 * read as a transpose, each y element sums over all rows and stays one call. */
static int tl_gemv_views(tl_view y, double alpha, tl_view a, tl_view x, double beta, int64_t isz,
                         int bottom_up) {
    tl_operand A = {0}, X = {0};
    int incy = 1, failed;
    if (tl_empty(y)) return 0;
    if (a.cols == 0) { tl_scale(y, beta, isz); return 0; }
    tl_blas_increment(y, isz, &incy);
    failed = tl_matrix_operand(a, isz, &A);
    failed = failed || tl_vector_operand(x, isz, &X);
    /* A transposed holds a^T row-major: (cols x rows) with Trans. */
    int m = (int)(A.trans ? a.cols : a.rows), n = (int)(A.trans ? a.rows : a.cols);
    char *y_start = tl_blas_vector_start(y, incy);
    int64_t block = bottom_up && !A.trans && incy > 0 ? tl_gemv_block_rows(m, (int64_t)A.ld * isz) : m;
    /* decided once for the whole matrix, so that every row is computed alike whatever its block */
    int64_t peel = !failed && X.inc > 0 && incy > 0 ? tl_gemv_peel(A.data, (int64_t)A.ld * isz, m, n, isz) : 0;
    for (int64_t first = (m - 1) / block * block; !failed && first >= 0; first -= block) {
        int rows = (int)(first + block > m ? m - first : block);
        tl_gemv_aligned(A.trans, rows, n, peel, alpha, A.data + first * A.ld * isz, A.ld, &X, beta,
                        y_start + first * incy * isz, incy, isz);
    }
    free(A.scratch);
    free(X.scratch);
    return failed;
}

/* c += alpha * outer(x, y) (c already holds z). */
static int tl_ger_views(tl_view c, double alpha, tl_view x, tl_view y, int64_t isz) {
    tl_operand X = {0}, Y = {0};
    int trans = 0, ldc = 1, failed;
    if (tl_empty(c)) return 0;
    tl_blas_layout(c, isz, &trans, &ldc);
    if (trans) {  /* c^T += alpha * outer(y, x), row-major */
        tl_view x_t = y;
        y = x;
        x = x_t;
        c = tl_view_t(c);
        tl_blas_layout(c, isz, &trans, &ldc);
    }
    failed = tl_vector_operand(x, isz, &X);
    failed = failed || tl_vector_operand(y, isz, &Y);
    if (!failed && isz == 8)
        TL_CBLAS(dger)(CblasRowMajor, (int)c.rows, (int)c.cols, alpha, (const double *)X.data, X.inc,
                       (const double *)Y.data, Y.inc, (double *)c.data, ldc);
    else if (!failed)
        TL_CBLAS(sger)(CblasRowMajor, (int)c.rows, (int)c.cols, (float)alpha, (const float *)X.data, X.inc,
                       (const float *)Y.data, Y.inc, (float *)c.data, ldc);
    free(X.scratch);
    free(Y.scratch);
    return failed;
}

/* ------------------------------------------------------------------ the ops' entry points */

/* out = alpha * x @ y + beta * z for matrices (z NULL: beta is 0): Gemm, Dot22, Dot22Scalar, dot. */
static int tl_blas_gemm(const char *op, int64_t isz, const tl_array *z, double alpha, const tl_array *x,
                        const tl_array *y, double beta, tl_array *out, char *error) {
    const tl_array *arrays[] = {x, y, out};
    tl_view reads[] = {tl_view_of(x, isz), tl_view_of(y, isz)}, zv;
    tl_target t;
    if (tl_check_aligned(op, x, y, error)) return 1;
    if (z != NULL && tl_check_update(op, z, x, y, x->shape[0], y->shape[1], error)) return 1;
    if (tl_check_int(op, arrays, 3, error)) return 1;
    if (z != NULL) zv = tl_view_of(z, isz);
    if (tl_target_open(&t, tl_view_of(out, isz), z != NULL && beta != 0 ? &zv : NULL, reads, 2, 1, isz))
        return tl_blas_out_of_memory(op, error);
    int failed = tl_gemm_views(t.at, alpha, reads[0], reads[1], beta, isz);
    tl_target_close(&t, isz);
    return failed ? tl_blas_out_of_memory(op, error) : 0;
}

/* out = alpha * a @ x + beta * z, a a matrix (z NULL: beta is 0): Gemv, dot(matrix, vector);
 * bottom_up: see tl_gemv_views. */
static int tl_blas_gemv(const char *op, int64_t isz, const tl_array *z, double alpha, const tl_array *a,
                        const tl_array *x, double beta, int bottom_up, tl_array *out, char *error) {
    const tl_array *arrays[] = {a, x, out};
    tl_view reads[] = {tl_view_of(a, isz), tl_view_of(x, isz)}, zv;
    tl_target t;
    if (tl_check_aligned(op, a, x, error)) return 1;
    if (z != NULL && tl_check_update(op, z, a, x, a->shape[0], 1, error)) return 1;
    if (tl_check_int(op, arrays, 3, error)) return 1;
    if (z != NULL) zv = tl_view_of(z, isz);
    if (tl_target_open(&t, tl_view_of(out, isz), z != NULL && beta != 0 ? &zv : NULL, reads, 2, 0, isz))
        return tl_blas_out_of_memory(op, error);
    int failed = tl_gemv_views(t.at, alpha, reads[0], reads[1], beta, isz, bottom_up);
    tl_target_close(&t, isz);
    return failed ? tl_blas_out_of_memory(op, error) : 0;
}

/* out = x @ a for a vector x and a matrix a: dot(vector, matrix), a^T @ x through gemv. */
static int tl_blas_vector_matrix(const char *op, int64_t isz, const tl_array *x, const tl_array *a,
                                 tl_array *out, char *error) {
    const tl_array *arrays[] = {x, a, out};
    tl_view reads[] = {tl_view_t(tl_view_of(a, isz)), tl_view_of(x, isz)};
    tl_target t;
    if (tl_check_aligned(op, x, a, error)) return 1;
    if (tl_check_int(op, arrays, 3, error)) return 1;
    if (tl_target_open(&t, tl_view_of(out, isz), NULL, reads, 2, 0, isz)) return tl_blas_out_of_memory(op, error);
    int failed = tl_gemv_views(t.at, 1, reads[0], reads[1], 0, isz, 0);
    tl_target_close(&t, isz);
    return failed ? tl_blas_out_of_memory(op, error) : 0;
}

/* out = z + alpha * outer(x, y): Ger. */
static int tl_blas_ger(const char *op, int64_t isz, const tl_array *z, double alpha, const tl_array *x,
                       const tl_array *y, tl_array *out, char *error) {
    const tl_array *arrays[] = {x, y, out};
    tl_view reads[] = {tl_view_of(x, isz), tl_view_of(y, isz)}, zv = tl_view_of(z, isz);
    tl_target t;
    if (tl_check_update(op, z, x, y, x->shape[0], y->shape[0], error)) return 1;
    if (tl_check_int(op, arrays, 3, error)) return 1;
    if (tl_target_open(&t, tl_view_of(out, isz), &zv, reads, 2, 1, isz)) return tl_blas_out_of_memory(op, error);
    int failed = tl_ger_views(t.at, alpha, reads[0], reads[1], isz);
    tl_target_close(&t, isz);
    return failed ? tl_blas_out_of_memory(op, error) : 0;
}

/* out (0-d) = x . y for vectors: dot(vector, vector). */
static int tl_blas_dot(const char *op, int64_t isz, const tl_array *x, const tl_array *y, tl_array *out,
                       char *error) {
    const tl_array *arrays[] = {x, y};
    tl_operand X = {0}, Y = {0};
    if (tl_check_aligned(op, x, y, error)) return 1;
    if (tl_check_int(op, arrays, 2, error)) return 1;
    int n = (int)x->shape[0];
    int failed = tl_vector_operand(tl_view_of(x, isz), isz, &X);
    failed = failed || tl_vector_operand(tl_view_of(y, isz), isz, &Y);
    if (!failed && isz == 8) {
        double r = n ? TL_CBLAS(ddot)(n, (const double *)X.data, X.inc, (const double *)Y.data, Y.inc) : 0;
        memcpy(out->data, &r, 8);
    } else if (!failed) {
        float r = n ? TL_CBLAS(sdot)(n, (const float *)X.data, X.inc, (const float *)Y.data, Y.inc) : 0;
        memcpy(out->data, &r, 4);
    }
    free(X.scratch);
    free(Y.scratch);
    return failed ? tl_blas_out_of_memory(op, error) : 0;
}

#endif
