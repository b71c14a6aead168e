"""C kernels for the softmax family and the one-hot cross-entropy (``theanolab.tensor.nnet``).

Each kernel runs row by row over a float matrix of any layout, computing what
``perform`` computes in the same order of operations: the row maximum first,
then ``exp`` of the shifted row, so ``softmax([1000, -1000])`` is ``[1, 0]``
with no overflow (a NaN in a row makes its sum, hence the whole row, NaN, as
in NumPy).  Row sums accumulate in double, which keeps float32 within a
rounding of NumPy's float32 pairwise sums.  Errors (shapes that do not fit,
class indices out of range) are ``perform``'s, word for word.

Softmax and log-softmax copy the row into the output first, so their loops
run on contiguous memory and vectorize, with glibc's vector ``exp`` where it
exists (within a few ULP of NumPy's; see ``basic.vector_options``).  With
``config.openmp`` the rows of the softmax-family kernels are shared between
threads when the matrix has ``config.openmp_elemwise_minsize`` elements or
more.
"""

from __future__ import annotations

from string import Template

from theanolab.backends.c.dispatch import CKernel, c_kernel, c_shape_rule, kernel_name
from theanolab.backends.c.kernels.basic import c_format, c_types, openmp_settings, vector_options
from theanolab.tensor.nnet import (
    CrossentropyCategorical1Hot,
    CrossentropyCategorical1HotGrad,
    LogSoftmax,
    Softmax,
    SoftmaxGrad,
)

__all__ = ["nnet_kernel"]

#: the C math functions of each float dtype.
_MATH = {"float32": {"exp": "expf", "log": "logf"}, "float64": {"exp": "exp", "log": "log"}}

_KERNEL = Template(r"""
#include <string.h>
#if $openmp
#include <omp.h>
#endif
/* Element k of row r of inputs[i], of C type t (byte strides: any layout). */
#define AT(t, i, r, k) (*(const t *)(inputs[i].data + (r) * inputs[i].strides[0] + (k) * inputs[i].strides[1]))
#define AT1(t, i, r) (*(const t *)(inputs[i].data + (r) * inputs[i].strides[0]))

/* Row r of the output (`o`, contiguous, `cols` long). */
static $clones void ${name}_row(const tl_array *inputs, int64_t r, int64_t cols, $out_t *o)
{
    (void)cols;
$row
}

int $name(const tl_array *inputs, tl_array *outputs, char *error)
{
    const int64_t rows = inputs[0].shape[0];
    const int64_t cols = outputs[0].ndim == 2 ? outputs[0].shape[1] : 1;
    $out_t *out = ($out_t *)outputs[0].data;
    (void)error;
$checks
$parallel
    for (int64_t r = 0; r < rows; r++) ${name}_row(inputs, r, cols, out + r * cols);
    return 0;
}
#undef AT
#undef AT1
""")

#: the row copied into the output, contiguous (so the loops after it vectorize), and its maximum.
_ROW_MAX = r"""
    $t m = -INFINITY;
    for (int64_t k = 0; k < cols; k++) { const $t v = AT($t, 0, r, k); o[k] = v; m = v > m ? v : m; }
    double sum = 0;"""

_ROWS = {
    Softmax: _ROW_MAX + r"""
    #pragma omp simd reduction(+:sum)
    for (int64_t k = 0; k < cols; k++) { const $t e = $exp(o[k] - m); o[k] = e; sum += e; }
    #pragma omp simd
    for (int64_t k = 0; k < cols; k++) o[k] = ($t)(o[k] / sum);""",
    LogSoftmax: _ROW_MAX + r"""
    #pragma omp simd reduction(+:sum)
    for (int64_t k = 0; k < cols; k++) sum += $exp(o[k] - m);
    const $t lse = ($t)log(sum);
    #pragma omp simd
    for (int64_t k = 0; k < cols; k++) o[k] = (o[k] - m) - lse;""",
    SoftmaxGrad: r"""
    double sum = 0;
    for (int64_t k = 0; k < cols; k++) sum += ($t)AT($dy_t, 0, r, k) * ($t)AT($sm_t, 1, r, k);
    const $t s = ($t)sum;
    for (int64_t k = 0; k < cols; k++) o[k] = (($t)AT($dy_t, 0, r, k) - s) * ($t)AT($sm_t, 1, r, k);""",
    CrossentropyCategorical1Hot: r"""
    const int64_t k = (int64_t)AT1($y_t, 1, r);
    o[0] = -$log(AT($t, 0, r, k));""",
    CrossentropyCategorical1HotGrad: r"""
    const int64_t k = (int64_t)AT1($y_t, 2, r);
    memset(o, 0, sizeof($t) * cols);
    o[k] = -($t)AT1($g_t, 0, r) / ($t)AT($c_t, 1, r, k);""",
}

_SAME_SHAPES = r"""
    if (inputs[0].shape[0] != inputs[1].shape[0] || inputs[0].shape[1] != inputs[1].shape[1]) {
        char dy[200], sm[200];
        tl_format_shape(dy, sizeof dy, inputs[0].shape, 2);
        tl_format_shape(sm, sizeof sm, inputs[1].shape, 2);
        snprintf(error, TL_ERROR_SIZE, $message, dy, sm);
        return 1;
    }"""

_GRAD_ROWS = r"""
    if (inputs[0].shape[0] != inputs[1].shape[0]) {
        snprintf(error, TL_ERROR_SIZE, $message, (long long)inputs[0].shape[0], (long long)inputs[1].shape[0]);
        return 1;
    }"""

#: the class-index checks of ``perform``'s ``_picked`` (``$c``: coding_dist, ``$y``: the indices).
_CLASSES = r"""
    {
        const int64_t n = inputs[$y].shape[0], width = inputs[$c].shape[1];
        if (n != inputs[$c].shape[0]) {
            snprintf(error, TL_ERROR_SIZE, $count_message, (long long)n, (long long)inputs[$c].shape[0]);
            return 1;
        }
        if (n > 0) {
            $y_t low = AT1($y_t, $y, 0), high = low;
            for (int64_t r = 1; r < n; r++) {
                const $y_t v = AT1($y_t, $y, r);
                low = v < low ? v : low;
                high = v > high ? v : high;
            }
            if (low < 0 || high >= width) {
                char a[32], b[32];
                snprintf(a, sizeof a, "$y_format", ($y_cast)low);
                snprintf(b, sizeof b, "$y_format", ($y_cast)high);
                snprintf(error, TL_ERROR_SIZE, $range_message, (long long)width, a, b);
                return 1;
            }
        }
    }"""


def _class_checks(op, coding, y, y_dtype):
    """``_CLASSES`` for the inputs numbered ``coding`` and ``y`` (of dtype ``y_dtype``)."""
    unsigned = y_dtype.startswith("u")
    return Template(_CLASSES).substitute(
        c=coding, y=y, y_t=c_types(y_dtype)[0], y_format="%llu" if unsigned else "%lld",
        y_cast="unsigned long long" if unsigned else "long long",
        count_message=c_format(f"{op}: ", "%lld", " class indices for ", "%lld", " rows of coding_dist"),
        range_message=c_format(f"{op}: class indices must lie in [0, ", "%lld", "), got values from ", "%s",
                               " to ", "%s"),
    )


#: the output's shape: the first dimensions of one input, as (input, how many dimensions; None: all).
_SHAPE_OF = {Softmax: (0, None), LogSoftmax: (0, None), SoftmaxGrad: (1, None),
             CrossentropyCategorical1Hot: (0, 1), CrossentropyCategorical1HotGrad: (1, None)}


def _shape_rules(op, node):
    """``(output_shapes, c_shapes)``: the output's shape in Python and in C (``_SHAPE_OF``)."""
    source, count = _SHAPE_OF[type(op)]
    ndim = node.inputs[source].ndim if count is None else count
    return ((lambda arrays: [arrays[source].shape[:ndim]]),
            c_shape_rule("nnet", [f"inputs[{source}].shape[{d}]" for d in range(ndim)]))


def _spec(op, node):
    """``(row types, checks, softmax family)`` of ``node``, or None without exact C.

    Only the softmax family has rows worth vectorizing and sharing between threads."""
    inputs, out = node.inputs, node.outputs[0]
    if isinstance(op, (Softmax, LogSoftmax)):
        return {"t": inputs[0].dtype}, "", True
    if isinstance(op, SoftmaxGrad):
        checks = Template(_SAME_SHAPES).substitute(
            message=c_format("SoftmaxGrad: dy has shape ", "%s", " but sm has shape ", "%s"))
        types = {"t": out.dtype, "dy_t": inputs[0].dtype, "sm_t": inputs[1].dtype}
        return types, checks, True
    y_dtype = inputs[-1].dtype
    if c_types(y_dtype) is None:
        return None
    if isinstance(op, CrossentropyCategorical1Hot):
        types = {"t": out.dtype, "y_t": y_dtype}
        return types, _class_checks(op, 0, 1, y_dtype), False
    rows = Template(_GRAD_ROWS).substitute(message=c_format(
        f"{op}: g has ", "%lld", " entries but coding_dist has ", "%lld", " rows"))
    types = {"t": out.dtype, "g_t": inputs[0].dtype, "c_t": inputs[1].dtype, "y_t": y_dtype}
    return types, rows + _class_checks(op, 1, 2, y_dtype), False


def nnet_kernel(op, node):
    """The CKernel of a softmax-family or one-hot cross-entropy node, or None for other dtypes."""
    spec = _spec(op, node)
    if spec is None:
        return None
    types, checks, softmax_family = spec
    output_shapes, c_shapes = _shape_rules(op, node)
    float_types = [dtype for key, dtype in types.items() if key != "y_t"]
    if any(dtype not in _MATH for dtype in float_types):
        return None
    openmp, minsize, build = openmp_settings() if softmax_family else (0, 0, {})
    name = kernel_name(type(op).__name__, sorted(types.items()), openmp, minsize)
    c_names = {key: c_types(dtype)[0] for key, dtype in types.items()}
    row = Template(_ROWS[type(op)]).substitute(c_names, **_MATH[types["t"]])
    parallel = f"#pragma omp parallel for schedule(static) if (rows * cols >= {minsize})" if openmp else ""
    code = _KERNEL.substitute(name=name, openmp=openmp, out_t=c_names["t"], checks=checks, parallel=parallel,
                              row=row, clones="TL_VECTOR_CLONES" if softmax_family else "")
    vector = vector_options()
    return CKernel(name=name, code=code, output_shapes=output_shapes, c_shapes=c_shapes, ops=str(op),
                   headers=("theanolab.h", "reduce.h", "elemwise.h"), libraries=vector.get("libraries", ()),
                   extra_compile_args=vector["extra_compile_args"] + build.get("extra_compile_args", ()),
                   extra_link_args=build.get("extra_link_args", ()))


for _op_class in _ROWS:
    c_kernel.register(_op_class)(nnet_kernel)
