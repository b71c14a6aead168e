"""C kernels for reductions: CAReduce (Sum, Prod, Any, All, max and min) and MaxAndArgmax.

Each kernel walks the input once (the plan of ``kernels/c/reduce.h``: memory
order whatever the layout) folding every element into an accumulator cell of
the accumulator dtype, then converts the cells to the output dtype.  So the
dtypes are those of ``perform``: a float32 ``Sum`` adds in float64 and rounds
once; integers add in 64 bits and wrap (``-fwrapv``) as NumPy's do.  A plain
``CAReduce{add}`` or ``{mul}`` accumulates where NumPy's ``reduce`` does
(64-bit integers), and float32 in float64, which stays within NumPy's
pairwise-summation error.  An empty reduction gives the fold's identity, and
for max/min (no identity) the same ValueError as ``perform``.

Speed: a reduced inner loop folds into many independent lanes at once (a
vector loop, no wait on one accumulator's latency); float max/min compare
plainly there and note NaNs apart.  The walk is compiled for AVX-512, AVX2
and the baseline (``TL_VECTOR_CLONES``), the best chosen at load time.

``MaxAndArgmax`` takes a row's maximum that way, then the first position
holding it (or the first NaN).  Between rows, threads or a kept inner
dimension, a candidate wins on a larger value, or an equal one at a smaller
position, or a first NaN: so the answer does not depend on the walk's order,
and matches NumPy's first occurrence and NaN rule.

Threads (``config.openmp``, above ``config.openmp_elemwise_minsize``
elements): the outermost dimension of the walk is split between threads.  If
it is a kept dimension the threads own disjoint outputs; if it is reduced
(a full sum, say) each thread folds into cells of its own, merged at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

import numpy as np

from theanolab import scalar as ts
from theanolab.backends.c.dispatch import CKernel, c_kernel, c_shape_rule, kernel_name
from theanolab.backends.c.kernels.basic import HIGHEST, LOWEST, c_format, c_types, openmp_settings, vector_options
from theanolab.tensor.reduce import CAReduce, MaxAndArgmax

__all__ = ["careduce_kernel", "max_and_argmax_kernel"]

#: accumulators of NumPy's ``add.reduce`` / ``multiply.reduce`` without a dtype (float32: see above).
_NUMPY_ACCUMULATOR = {"bool": "int64", "int8": "int64", "int16": "int64", "int32": "int64",
                      "uint8": "uint64", "uint16": "uint64", "uint32": "uint64", "float32": "float64"}

_BITWISE = (type(ts.and_), type(ts.or_), type(ts.xor))
_FLOATS = ("float32", "float64")


@dataclass(frozen=True)
class _Fold:
    """A fold in C: ``expression`` of the accumulator ``a`` and a value ``v``, its ``identity``, and
    ``fast``, the same fold except for NaN (one vector instruction), which lanes may use instead
    when they note NaNs apart."""

    expression: str
    identity: str
    fast: str = ""


def _fold(scalar_op, acc):
    """The :class:`_Fold` of ``scalar_op`` in dtype ``acc``, or None for a scalar op with no fold here."""
    if acc == "bool":  # NumPy's bool add is or, its bool multiply is and
        scalar_op = {type(ts.add): ts.or_, type(ts.mul): ts.and_}.get(type(scalar_op), scalar_op)
    folds = [
        (ts.Add, _Fold("a + v", "0")),
        (ts.Mul, _Fold("a * v", "1")),
        (ts.Maximum, _max_fold(acc)),
        (ts.Minimum, _Fold("(v < a || v != v) ? v : a", HIGHEST[acc], "v < a ? v : a")),
        (type(ts.and_), _Fold("a & v", "1" if acc == "bool" else "-1")),
        (type(ts.or_), _Fold("a | v", "0")),
        (type(ts.xor), _Fold("a ^ v", "0")),
    ]
    for kind, fold in folds:
        if isinstance(scalar_op, kind):
            return fold
    return None


def _max_fold(acc):
    """NumPy's maximum: the larger of a and v, NaN if either is (v != v is false for integers)."""
    return _Fold("(v > a || v != v) ? v : a", LOWEST[acc], "v > a ? v : a")


#: bytes of independent partial folds in a reduced inner loop (see ``_SPAN``).
_LANE_BYTES = 256

#: The fold of n elements (byte stride xs) into r: $lanes partial folds, vectorized across, so
#: they do not wait for each other's latency, folded together at the end.  Float max/min fold the
#: lanes with a plain comparison (one vector instruction, FAST) and note NaNs apart (NOTE).
_SPAN = r"""
static inline ${name}_acc ${name}_span(const char *q, int64_t n, int64_t xs, ${name}_acc r)
{
    ${name}_acc lane[$lanes];
    ${name}_flag nan[$lanes], any = 0;
    for (int j = 0; j < $lanes; j++) { lane[j] = $identity; nan[j] = 0; }
    int64_t k = 0;
    if (xs == (int64_t)sizeof(${name}_in)) {
        const ${name}_in *v = (const ${name}_in *)q;
        for (; k + $lanes <= n; k += $lanes) {
            #pragma omp simd
            for (int j = 0; j < $lanes; j++) {
                const ${name}_acc e = v[k + j];
                lane[j] = FAST(lane[j], e);
                NOTE;
            }
        }
    } else {
        for (; k + $lanes <= n; k += $lanes) {
            #pragma omp simd
            for (int j = 0; j < $lanes; j++) {
                const ${name}_acc e = L(q + (k + j) * xs);
                lane[j] = FAST(lane[j], e);
                NOTE;
            }
        }
    }
    for (; k < n; k++) r = F(r, L(q + k * xs));
    for (int j = 0; j < $lanes; j++) { r = F(r, lane[j]); any |= nan[j]; }
    return any ? (${name}_acc)NAN : r;
}"""

_FOLD_LOOPS = {
    # The inner dimension is reduced: one running value.
    "scalar": r"""
            acc[ao] = ${name}_span(x + xo, n, xs, acc[ao]);""",
    # The inner dimension is kept: one fold per accumulator cell, elementwise.
    "vector": r"""
            const char *q = x + xo;
            ${name}_acc *restrict c = acc + ao;
            if (as == 1 && xs == (int64_t)sizeof(${name}_in)) {
                const ${name}_in *restrict v = (const ${name}_in *)q;
                #pragma omp simd
                for (int64_t k = 0; k < n; k++) c[k] = F(c[k], v[k]);
            } else {
                for (int64_t k = 0; k < n; k++) c[k * as] = F(c[k * as], L(q + k * xs));
            }""",
}

_ARGMAX_LOOPS = {
    # The inner dimension is reduced: its maximum (NaN if it holds one), then its first position.
    "scalar": r"""
            const char *q = x + xo;
            const ${name}_acc m = ${name}_span(q, n, xs, $identity);
            const ${name}_flag nan = m != m;
            int64_t k = 0;
            for (; k + $lanes <= n; k += $lanes) {  /* skip whole blocks without it, vectorized */
                ${name}_flag hit = 0;
                #pragma omp simd reduction(|:hit)
                for (int j = 0; j < $lanes; j++) {
                    const ${name}_acc e = L(q + (k + j) * xs);
                    hit |= e == m || (nan & (e != e));
                }
                if (hit) break;
            }
            while (!(L(q + k * xs) == m || (nan && L(q + k * xs) != L(q + k * xs)))) k++;
            if (B(m, io + k * is, acc[ao], arg[ao])) { acc[ao] = m; arg[ao] = io + k * is; }""",
    "vector": r"""
            const char *q = x + xo;
            ${name}_acc *restrict c = acc + ao;
            int64_t *restrict g = arg + ao;
            #pragma omp simd
            for (int64_t k = 0; k < n; k++) {
                const ${name}_acc v = L(q + k * xs);
                const int better = B(v, io, c[k * as], g[k * as]);
                c[k * as] = better ? v : c[k * as];
                g[k * as] = better ? io : g[k * as];
            }""",
}

_REDUCE = Template(r"""
#include <stdlib.h>
#if $openmp
#include <omp.h>
#endif

typedef $in_t ${name}_in;
typedef $acc_t ${name}_acc;
typedef $out_t ${name}_out;
typedef $flag_t ${name}_flag;  /* "a NaN was seen", as wide as the accumulator so both vectorize alike */
/* Short names inside this kernel only (undefined at its end). */
#define F ${name}_fold
#define B ${name}_better
#define L(p) ((${name}_acc)*(const ${name}_in *)(p))
#define FAST(a, v) ($fast)
#define NOTE $note
static inline ${name}_acc F(${name}_acc a, ${name}_acc v) { return $expression; }
$functions
$span

static void ${name}_init(${name}_acc *acc, int64_t *arg, int64_t count)
{
    (void)arg;
    for (int64_t j = 0; j < count; j++) { $init }
}

/* Fold every element the plan visits into its cell (see reduce.h); `io`: the first position. */
static TL_VECTOR_CLONES void ${name}_walk(const tl_reduce_plan *p, const char *x, ${name}_acc *acc,
                                          int64_t *arg, int64_t io)
{
    const int64_t inner = p->nd - 1, n = p->len[inner], xs = p->x[inner], as = p->a[inner], is = p->i[inner];
    int64_t count[TL_REDUCE_MAXDIM] = {0}, xo = 0, ao = 0;
    (void)arg; (void)is;
    for (;;) {
        if (as == 0) {$scalar
        } else {$vector
        }
        int64_t d = inner - 1;
        for (; d >= 0; d--) {
            if (++count[d] < p->len[d]) { xo += p->x[d]; ao += p->a[d]; io += p->i[d]; break; }
            xo -= p->x[d] * (p->len[d] - 1);
            ao -= p->a[d] * (p->len[d] - 1);
            io -= p->i[d] * (p->len[d] - 1);
            count[d] = 0;
        }
        if (d < 0) return;
    }
}

#if $openmp
/* The plan's walk split over threads along its outer dimension; 0 if it cannot get the memory. */
static int ${name}_threaded(const tl_reduce_plan *p, const char *x, ${name}_acc *acc, int64_t *arg,
                            int64_t out_size, int64_t parts)
{
    const int shared = p->a[0] != 0;  /* a kept outer dimension: the parts own disjoint cells */
    ${name}_acc *pacc = NULL;
    int64_t *parg = NULL;
    if (!shared) {
        pacc = malloc(sizeof(*pacc) * (parts - 1) * out_size);
        parg = $has_arg ? malloc(sizeof(*parg) * (parts - 1) * out_size) : NULL;
        if (!pacc || ($has_arg && !parg)) { free(pacc); free(parg); return 0; }
    }
    #pragma omp parallel for schedule(static, 1)
    for (int64_t t = 0; t < parts; t++) {
        const int64_t lo = p->len[0] * t / parts, hi = p->len[0] * (t + 1) / parts;
        tl_reduce_plan s = *p;
        s.len[0] = hi - lo;
        ${name}_acc *ta = acc + (shared ? lo * p->a[0] : 0);
        int64_t *tg = arg ? arg + (shared ? lo * p->a[0] : 0) : NULL;
        if (!shared && t > 0) {
            ta = pacc + (t - 1) * out_size;
            tg = parg ? parg + (t - 1) * out_size : NULL;
            ${name}_init(ta, tg, out_size);
        }
        ${name}_walk(&s, x + lo * p->x[0], ta, tg, lo * p->i[0]);
    }
    for (int64_t t = 1; !shared && t < parts; t++) {
        const ${name}_acc *ta = pacc + (t - 1) * out_size;
        const int64_t *tg = parg ? parg + (t - 1) * out_size : NULL;
        (void)tg;
        for (int64_t j = 0; j < out_size; j++) { $merge }
    }
    free(pacc);
    free(parg);
    return 1;
}
#endif

static void ${name}_run(const tl_reduce_plan *p, const char *x, ${name}_acc *acc, int64_t *arg, int64_t out_size)
{
#if $openmp
    int64_t total = 1, parts = omp_get_max_threads();
    for (int64_t d = 0; d < p->nd; d++) total *= p->len[d];
    if (parts > p->len[0]) parts = p->len[0];
    if (total >= $minsize && parts > 1 && ${name}_threaded(p, x, acc, arg, out_size, parts)) return;
#endif
    ${name}_walk(p, x, acc, arg, 0);
}

int $name(const tl_array *inputs, tl_array *outputs, char *error)
{
    static const int64_t axes[] = {$axes};
    const int64_t naxes = $naxes, out_size = tl_size(&outputs[0]);
    const tl_array *x = &inputs[0];
    for (int64_t k = 0; $empty_is_error && k < naxes; k++) {
        if (x->shape[axes[k]] == 0) {
            char shape[256];
            tl_format_shape(shape, sizeof shape, x->shape, x->ndim);
            snprintf(error, TL_ERROR_SIZE, $empty_message, shape);
            return 1;
        }
    }
    ${name}_acc *acc = $acc_buffer;
    int64_t *arg = $arg_buffer;
    if ($separate && !acc) {
        snprintf(error, TL_ERROR_SIZE, $memory_message);
        return 1;
    }
    ${name}_init(acc, arg, out_size);
    if (tl_size(x) > 0) {
        tl_reduce_plan plan;
        tl_reduce_plan_make(&plan, x, axes, naxes);
        ${name}_run(&plan, x->data, acc, arg, out_size);
    }
    if ($separate) {
        ${name}_out *out = (${name}_out *)outputs[0].data;
        for (int64_t j = 0; j < out_size; j++) { const ${name}_acc v = acc[j]; out[j] = $convert; }
        free(acc);
    }
    return 0;
}
#undef F
#undef B
#undef L
#undef FAST
#undef NOTE
""")


def _kernel(op, node, axes, dtypes, fold, pieces, empty_is_error, empty_message):
    """A reduction CKernel from the parts that differ between CAReduce and MaxAndArgmax.

    ``dtypes`` is (input, accumulator, output); ``pieces`` holds the C of
    ``functions``, ``init``, ``merge``, the two fold loops and ``has_arg``.
    """
    x = node.inputs[0]
    if x.ndim > 64:
        return None
    in_dtype, acc_dtype, out_dtype = dtypes
    types = c_types(in_dtype, acc_dtype, out_dtype)
    if types is None:
        return None
    openmp, minsize, build = openmp_settings()
    ingredients = (type(op).__name__, str(op), dtypes, x.ndim, axes, openmp, minsize)
    name = kernel_name(f"reduce_{type(op).__name__}", *ingredients)
    has_arg = pieces["has_arg"]
    separate = acc_dtype != out_dtype
    lanes = _LANE_BYTES // np.dtype(acc_dtype).itemsize
    values = dict(
        name=name, in_t=types[0], acc_t=types[1], out_t=types[2], openmp=openmp, minsize=minsize,
        axes=", ".join(str(a) for a in axes) or "0", naxes=len(axes), empty_is_error=int(empty_is_error),
        empty_message=c_format(*empty_message), memory_message=c_format(f"{op}: out of memory"),
        acc_buffer=(f"malloc(sizeof({name}_acc) * (out_size ? out_size : 1))" if separate
                    else f"({name}_acc *)outputs[0].data"),
        arg_buffer="(int64_t *)outputs[1].data" if has_arg else "NULL",
        separate=int(separate), convert="v != 0" if out_dtype == "bool" else f"({name}_out)v",
        flag_t=f"int{8 * np.dtype(acc_dtype).itemsize}_t", expression=fold.expression,
        fast=fold.fast or fold.expression,
        note="nan[j] |= e != e" if fold.fast and acc_dtype in _FLOATS else "(void)0",
        span=Template(_SPAN).substitute(name=name, lanes=lanes, identity=fold.identity),
        **{key: Template(value).substitute(name=name, identity=fold.identity, lanes=lanes)
           for key, value in pieces.items() if key != "has_arg"},
        has_arg=int(has_arg),
    )
    kept = [d for d in range(x.ndim) if d not in axes]
    n_outputs = len(node.outputs)

    def output_shapes(arrays):
        shape = tuple(arrays[0].shape[d] for d in kept)
        return [shape] * n_outputs

    # -fwrapv: integers wrap as NumPy's do.  Vectorized folds reorder a float sum, within the
    # reference's own (pairwise) rounding.
    flags = ("-fwrapv",) + vector_options()["extra_compile_args"] + build.get("extra_compile_args", ())
    c_shapes = c_shape_rule("reduce", [f"inputs[0].shape[{d}]" for d in kept] * n_outputs)
    return CKernel(name=name, code=_REDUCE.substitute(values), output_shapes=output_shapes, c_shapes=c_shapes,
                   ops=str(op),
                   headers=("theanolab.h", "reduce.h", "elemwise.h"), extra_compile_args=flags,
                   extra_link_args=build.get("extra_link_args", ()))


def careduce_kernel(op, node):
    """The CKernel of a CAReduce node (any subclass), or None where only ``perform`` is exact."""
    x, out = node.inputs[0], node.outputs[0]
    in_dtype, out_dtype = x.dtype, out.dtype
    acc_dtype = getattr(op, "acc_dtype", None)
    if acc_dtype is None:
        acc_dtype = _NUMPY_ACCUMULATOR.get(in_dtype, in_dtype) if isinstance(op.scalar_op, (ts.Add, ts.Mul)) \
            else in_dtype
    if c_types(in_dtype, acc_dtype, out_dtype) is None:
        return None
    float_acc = acc_dtype.startswith("float")
    if (float_acc and out_dtype != "bool" and not out_dtype.startswith("float")) or (
            float_acc and isinstance(op.scalar_op, _BITWISE)):
        return None  # C's float-to-integer conversion is undefined where NumPy's is not; no float bitwise
    fold = _fold(op.scalar_op, acc_dtype)
    if fold is None:
        return None
    pieces = {
        "functions": "",
        "init": "acc[j] = $identity;",
        "merge": "acc[j] = F(acc[j], ta[j]);",
        "scalar": _FOLD_LOOPS["scalar"],
        "vector": _FOLD_LOOPS["vector"],
        "has_arg": False,
    }
    axes = op.axes_of(x)
    message = (f"{op}: cannot reduce the empty axis of an input of shape ", "%s",
               f" with {op.scalar_op}, which has no identity")
    return _kernel(op, node, axes, (in_dtype, acc_dtype, out_dtype), fold, pieces,
                   op.scalar_op.identity is None, message)


_BETTER = r"""
/* Whether value v at position j beats the best so far: larger, or equal and earlier; NaN wins, first NaN. */
static inline int B(${name}_acc v, int64_t j, ${name}_acc best, int64_t at)
{
    if (best != best) return v != v && j < at;
    return v != v || v > best || (v == best && j < at);
}"""


def max_and_argmax_kernel(op, node):
    """The CKernel of a MaxAndArgmax node, or None where only ``perform`` is exact."""
    x = node.inputs[0]
    axes = op.axis
    if c_types(x.dtype) is None or any(a < 0 or a >= x.ndim for a in axes) or len(set(axes)) != len(axes):
        return None
    pieces = {
        "functions": _BETTER,
        "init": "acc[j] = $identity; arg[j] = INT64_MAX;",
        "merge": "if (B(ta[j], tg[j], acc[j], arg[j])) { acc[j] = ta[j]; arg[j] = tg[j]; }",
        "scalar": _ARGMAX_LOOPS["scalar"],
        "vector": _ARGMAX_LOOPS["vector"],
        "has_arg": True,
    }
    message = (f"{op}: cannot take the maximum over an empty axis of an input of shape ", "%s")
    return _kernel(op, node, tuple(axes), (x.dtype, x.dtype, x.dtype), _max_fold(x.dtype), pieces, True,
                   message)


c_kernel.register(CAReduce)(careduce_kernel)
c_kernel.register(MaxAndArgmax)(max_and_argmax_kernel)
