"""C for views and shape lookups: DimShuffle, basic Subtensor and the shape family (``tensor/shape.py``).

These kernels are ``inline``: the mixed machine keeps ``perform`` (a NumPy
view or a tiny array costs less than a C call from Python), and a
whole-function driver (:mod:`theanolab.backends.c.whole`) compiles them into
its own code, so a graph using them still runs as one C function.

- ``DimShuffle`` is a view: the output's dimensions are some of the input's,
  reordered, with length-1 dimensions inserted (stride 0) or dropped.
- ``Subtensor`` (integers and slices) is a view, with Python's slice rules;
  an integer out of range raises NumPy's IndexError.  ``IncSubtensor`` copies
  ``x`` (unless it runs in place) and sets or adds ``y`` through the same view.
- ``Reshape`` is a view of a C-contiguous input and a copy otherwise (the
  ``view`` protocol of :class:`~theanolab.backends.c.dispatch.CKernel`), with
  NumPy's rules: one negative entry is computed from the size.
- ``Shape_i``, ``Shape`` and ``MakeVector`` write int64 scalars or short
  vectors.

Errors keep ``perform``'s wording.
"""

from __future__ import annotations

from string import Template

import numpy as np

from theanolab.backends.c import scalar
from theanolab.backends.c.dispatch import CKernel, c_kernel, c_shape_rule, kernel_name
from theanolab.backends.c.kernels.basic import c_format, c_types
from theanolab.tensor.elemwise import DimShuffle
from theanolab.tensor.shape import MakeVector, Reshape, Shape, Shape_i
from theanolab.tensor.subtensor import IncSubtensor, SliceSpec, Subtensor

__all__ = ["dimshuffle_kernel", "subtensor_kernel", "inc_subtensor_kernel", "reshape_kernel", "shape_kernel"]

_HEADERS = ("theanolab.h", "whole.h")


def _inline(prefix, body, ops, c_shapes=None, view=False):
    """An inline CKernel whose function body is ``body``."""
    name = kernel_name(prefix, body)
    code = (f"static int {name}(const tl_array *inputs, tl_array *outputs, char *error)\n{{\n"
            f"    (void)inputs; (void)outputs; (void)error;\n{body}    return 0;\n}}\n")
    return CKernel(name=name, code=code, ops=ops, headers=_HEADERS, c_shapes=c_shapes, view=view, inline=True)


@c_kernel.register(DimShuffle)
def dimshuffle_kernel(op, node):
    """A view: each output dimension is an input dimension, or an inserted length-1 one (stride 0)."""
    lines = ["    int64_t *shape = (int64_t *)outputs[0].shape, *strides = (int64_t *)outputs[0].strides;",
             "    outputs[0].data = inputs[0].data;"]
    for k, d in enumerate(op.new_order):
        lines.append(f"    shape[{k}] = 1; strides[{k}] = 0;" if d == "x" else
                     f"    shape[{k}] = inputs[0].shape[{d}]; strides[{k}] = inputs[0].strides[{d}];")
    return _inline("dimshuffle", "\n".join(lines) + "\n", str(op), view=True)


#: one integer index of Subtensor: the axis is dropped (``$$value``: the index's C expression).
_INDEX = Template(r"""    {
        const int64_t n = $x->shape[$axis];
        int64_t i = $value;
        if (i < 0) i += n;
        if (i < 0 || i >= n) {
            snprintf(error, TL_ERROR_SIZE, "index %lld is out of bounds for axis $axis with size %lld",
                     (long long)$value, (long long)n);
            return TL_INDEX_ERROR;
        }
        data += i * $x->strides[$axis];
    }
""")

#: one slice of Subtensor (Python's PySlice_Unpack then PySlice_AdjustIndices), output dimension $$out.
_SLICE = Template(r"""    {
        const int64_t n = $x->shape[$axis], step = $step;
        if (step == 0) {
            snprintf(error, TL_ERROR_SIZE, "slice step cannot be zero");
            return 1;
        }
        int64_t start = $start, stop = $stop, length = 0;
        if (start < 0) { start += n; if (start < 0) start = step < 0 ? -1 : 0; }
        else if (start >= n) start = step < 0 ? n - 1 : n;
        if (stop < 0) { stop += n; if (stop < 0) stop = step < 0 ? -1 : 0; }
        else if (stop >= n) stop = step < 0 ? n - 1 : n;
        if (step < 0 ? stop < start : start < stop)
            length = step < 0 ? (start - stop - 1) / -step + 1 : (stop - start - 1) / step + 1;
        data += start * $x->strides[$axis];
        shape[$out] = length;
        strides[$out] = $x->strides[$axis] * step;
    }
""")


def _region(idx_list, x, first_index, source):
    """C lines computing ``data``, ``shape[]`` and ``strides[]``: the view of ``source`` (a
    ``tl_array *`` holding ``x``) through integers and slices, whose values are the scalar inputs
    from ``first_index`` on; None if an index dtype has no C type."""
    position = iter(range(first_index, first_index + sum(
        sum(part is not None for part in e) if isinstance(e, SliceSpec) else 1 for e in idx_list)))
    if len(idx_list) > x.ndim:
        return None

    def value(dtype):
        types = c_types(dtype)
        return None if types is None else f"(int64_t)*(const {types[0]} *)inputs[{next(position)}].data"

    lines = [f"    char *data = {source}->data;"]
    out = 0
    for axis, entry in enumerate(idx_list):
        if not isinstance(entry, SliceSpec):
            index = value(entry)
            if index is None:
                return None
            lines.append(_INDEX.substitute(axis=axis, value=index, x=source).rstrip("\n"))
            continue
        bounds = [None if part is None else value(part) for part in entry]
        if any(bound is None for bound, part in zip(bounds, entry) if part is not None):
            return None
        start, stop, step = bounds
        lines.append(_SLICE.substitute(
            axis=axis, out=out, x=source, step=step or "1", start=start or "(step < 0 ? INT64_MAX : 0)",
            stop=stop or "(step < 0 ? INT64_MIN : INT64_MAX)").rstrip("\n"))
        out += 1
    for axis in range(len(idx_list), x.ndim):
        lines.append(f"    shape[{out}] = {source}->shape[{axis}]; strides[{out}] = {source}->strides[{axis}];")
        out += 1
    return lines


@c_kernel.register(Subtensor)
def subtensor_kernel(op, node):
    """A view of ``x[integers and slices]``: the slices' dimensions kept (start, length, step), the
    integers' dropped, the remaining dimensions as they are."""
    region = _region(op.idx_list, node.inputs[0], 1, "(&inputs[0])")
    if region is None:
        return None
    lines = ["    int64_t *shape = (int64_t *)outputs[0].shape, *strides = (int64_t *)outputs[0].strides;",
             *region, "    outputs[0].data = data;"]
    return _inline("subtensor", "\n".join(lines) + "\n", str(op), view=True)


#: IncSubtensor: ``x`` into the output (unless it is the output: in place), then ``y`` broadcast into
#: the region (``$$update``: the C statement updating ``*o`` with ``v``).
_INC = Template(r"""    const tl_array *x = &inputs[0], *y = &inputs[1];
    tl_array *out = &outputs[0];
    if (out->data != x->data) tl_copy_to_contiguous(out->data, x, sizeof($out_t));
    int64_t shape[$rank + 1], strides[$rank + 1], ys[$rank + 1], count[$rank + 1];
$region
    for (int64_t d = 0; d < $rank; d++) {
        const int64_t k = d - ($rank - y->ndim);
        count[d] = 0;
        if (k < 0 || y->shape[k] == 1) { ys[d] = 0; continue; }
        if (y->shape[k] != shape[d]) {
            char region[TL_ERROR_SIZE / 4], value[TL_ERROR_SIZE / 4];
            tl_format_shape(region, sizeof region, shape, $rank);
            tl_format_shape(value, sizeof value, y->shape, y->ndim);
            snprintf(error, TL_ERROR_SIZE, $message, value, region);
            return 1;
        }
        ys[d] = y->strides[k];
    }
    int64_t total = 1;
    for (int64_t d = 0; d < $rank; d++) total *= shape[d];
    const char *yp = y->data;
    for (int64_t r = 0; r < total; r++) {
        $out_t *o = ($out_t *)data;
        const $y_t v = *(const $y_t *)yp;
        $update
        for (int64_t d = $rank - 1; d >= 0; d--) {
            data += strides[d];
            yp += ys[d];
            if (++count[d] < shape[d]) break;
            data -= strides[d] * shape[d];
            yp -= ys[d] * shape[d];
            count[d] = 0;
        }
    }
""")


@c_kernel.register(IncSubtensor)
def inc_subtensor_kernel(op, node):
    """``x`` with ``x[integers and slices]`` set to, or increased by, ``y`` (broadcast, cast to x's
    dtype as ``astype`` does); in place when the driver passes ``x`` itself as the output."""
    x, y = node.inputs[:2]
    types = c_types(x.dtype, y.dtype)
    region = _region(op.idx_list, x, 2, "out")
    if types is None or region is None:
        return None
    value = scalar.cast(scalar.Value("v", y.dtype), x.dtype).expr
    if op.set_instead_of_inc:
        update, words = f"*o = {value};", ("could not broadcast input array from shape ", "%s", " into shape ", "%s")
    else:
        total = f"(*o | {value})" if x.dtype == "bool" else f"*o + {value}"
        update = f"*o = ({types[0]})({total});"
        words = ("operands could not be broadcast together with shapes ", "%s", " ", "%s")
    rank = sum(isinstance(e, SliceSpec) for e in op.idx_list) + x.ndim - len(op.idx_list)
    body = _INC.substitute(out_t=types[0], y_t=types[1], rank=rank, region="\n".join(region), update=update,
                           message=c_format(*words))
    return _inline("inc_subtensor", body, str(op), c_shape_rule("inc_subtensor", [
        f"inputs[0].shape[{d}]" for d in range(x.ndim)]))


_RESHAPE = Template(r"""    const tl_array *x = &inputs[0], *s = &inputs[1];
    tl_array *out = &outputs[0];
    int64_t *shape = (int64_t *)out->shape;
    if (out->data != NULL) {  /* called again with a C-contiguous buffer: copy */
        tl_copy_to_contiguous(out->data, x, $itemsize);
        return 0;
    }
    int64_t entries[TL_MAX_ENTRIES];  /* the first ones, for messages */
    const int64_t n = s->shape[0], shown = n < TL_MAX_ENTRIES ? n : TL_MAX_ENTRIES;
    for (int64_t k = 0; k < shown; k++) entries[k] = (int64_t)*($shape_t *)(s->data + k * s->strides[0]);
    if (n != $ndim) {
        char list[TL_ERROR_SIZE / 2];
        tl_format_int64s(list, sizeof list, entries, shown, n, TL_STYLE_LIST);
        snprintf(error, TL_ERROR_SIZE, $count_message, (long long)n, list);
        return 1;
    }
    const int64_t size = tl_size(x);
    int64_t known = 1, unknown = -1, unknowns = 0;
    for (int64_t k = 0; k < $ndim; k++) {
        shape[k] = entries[k];
        if (shape[k] < 0) { unknown = k; unknowns++; } else known *= shape[k];
    }
    if (unknowns > 1 || (unknowns == 1 ? (known == 0 || size % known != 0) : known != size)) {
        char have[TL_ERROR_SIZE / 4], want[TL_ERROR_SIZE / 4], numpy[TL_ERROR_SIZE / 4];
        tl_format_shape(have, sizeof have, x->shape, x->ndim);
        tl_format_int64s(want, sizeof want, entries, n, n, TL_STYLE_TUPLE);
        if (unknowns > 1) {
            snprintf(numpy, sizeof numpy, "can only specify one unknown dimension");
        } else {
            char numpy_shape[TL_ERROR_SIZE / 4];
            tl_format_int64s(numpy_shape, sizeof numpy_shape, entries, n, n, TL_STYLE_NUMPY);
            snprintf(numpy, sizeof numpy, "cannot reshape array of size %lld into shape %s", (long long)size,
                     numpy_shape);
        }
        snprintf(error, TL_ERROR_SIZE, $size_message, have, (long long)size, want, numpy);
        return 1;
    }
    if (unknowns) shape[unknown] = size / known;
    if (tl_is_contiguous(x, $itemsize)) {  /* a view; otherwise data stays NULL: copy */
        out->data = x->data;
        tl_contiguous_strides(out, $itemsize);
    }
""")


@c_kernel.register(Reshape)
def reshape_kernel(op, node):
    """A view of a C-contiguous input, else a copy in C order (NumPy's reshape, which copies then too)."""
    x, newshape = node.inputs
    shape_t = c_types(newshape.dtype)
    if shape_t is None or c_types(x.dtype) is None or op.ndim > 32:
        return None
    body = _RESHAPE.substitute(
        itemsize=np.dtype(x.dtype).itemsize, ndim=op.ndim, shape_t=f"const {shape_t[0]}",
        count_message=c_format(f"{op}: got a shape with ", "%lld", " entries (", "%s", ")"),
        size_message=c_format("cannot reshape an array of shape ", "%s", " (size ", "%lld", ") into shape ", "%s",
                              ": ", "%s"))
    return _inline("reshape", body, str(op), view=True)


@c_kernel.register(Shape_i)
@c_kernel.register(Shape)
@c_kernel.register(MakeVector)
def shape_kernel(op, node):
    """An int64 scalar (``Shape_i``) or vector (``Shape``; ``MakeVector`` of any dtype) written in place."""
    out_t = c_types(node.outputs[0].dtype)
    if out_t is None or any(v.dtype != node.outputs[0].dtype for v in node.inputs if isinstance(op, MakeVector)):
        return None  # MakeVector's inputs are cast to its dtype by make_node: anything else keeps perform
    at = "*({t} *)(outputs[0].data + {k} * outputs[0].strides[0])".format
    if isinstance(op, Shape_i):
        return _inline("shape_i", f"    *(int64_t *)outputs[0].data = inputs[0].shape[{op.i}];\n", str(op),
                       c_shape_rule("shape_i", []))
    if isinstance(op, Shape):
        ndim = node.inputs[0].ndim
        body = "".join(f"    {at(t='int64_t', k=k)} = inputs[0].shape[{k}];\n" for k in range(ndim))
        return _inline("shape", body, str(op), c_shape_rule("shape", [str(ndim)]))
    body = "".join(f"    {at(t=out_t[0], k=k)} = *(const {out_t[0]} *)inputs[{k}].data;\n"
                   for k in range(len(node.inputs)))
    return _inline("make_vector", body, str(op), c_shape_rule("make_vector", [str(len(node.inputs))]))
