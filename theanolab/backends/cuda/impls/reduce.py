"""GPU reductions: the CAReduce family (Sum, Prod, Any, All, max and min) and MaxAndArgmax.

Each is one call of the array module's reduction (CuPy's on a GPU), with
the axes, the accumulator dtype and the output dtype fixed when the node is
placed, so a call does no Python work beyond it.  The dtypes are those of
``perform``: ``Sum`` and ``Prod`` accumulate in their ``acc_dtype`` (float32
in float64, integers in 64 bits) and cast once; a plain ``CAReduce{add}``
accumulates where NumPy's ``add.reduce`` does.  maximum and minimum
propagate NaN, and ``argmax`` gives the first maximum (or the first NaN), as
NumPy's and CuPy's do.  An empty reduction gives the identity, and for
max/min (none) the ValueError of ``perform``, decided on the shape alone.

A generic CAReduce runs on the GPU when the array module has its reduction:
add, mul, maximum, minimum, and and/or of booleans (all/any).  Bitwise
and/or/xor of integers have no CuPy reduction and stay on the CPU.
"""

from __future__ import annotations

import math

from theanolab import scalar as ts
from theanolab.backends.cuda.dispatch import cuda_impl
from theanolab.backends.cuda.impls.support import as_output
from theanolab.tensor.reduce import CAReduce, MaxAndArgmax

__all__ = ["careduce", "max_and_argmax"]

#: the array-module reduction of each scalar op (and/or only of booleans: all/any).
_REDUCTIONS = {ts.Add: "sum", ts.Mul: "prod", ts.Maximum: "max", ts.Minimum: "min"}
_LOGICAL_REDUCTIONS = {ts.AND: "all", ts.OR: "any"}


def _reduction_name(scalar_op, dtype):
    if dtype == "bool" and type(scalar_op) in _LOGICAL_REDUCTIONS:
        return _LOGICAL_REDUCTIONS[type(scalar_op)]
    return _REDUCTIONS.get(type(scalar_op))


def _check_not_empty(x, axes, message):
    """The ValueError of ``perform`` when a reduction without identity meets an empty axis
    (``message``: the text before and after the input's shape)."""
    if any(x.shape[d] == 0 for d in axes):
        before, after = message
        raise ValueError(f"{before}{x.shape}{after}")


@cuda_impl.register(CAReduce)
def careduce(op, node, device):
    """Any CAReduce whose scalar op has an array-module reduction (see the module docstring)."""
    x, out_dtype = node.inputs[0], node.outputs[0].dtype
    name = _reduction_name(op.scalar_op, x.dtype)
    if name is None:
        return None
    xp = device.xp
    reduce = getattr(xp, name)
    axes = op.axes_of(x)
    acc_dtype = getattr(op, "acc_dtype", None)  # Sum and Prod; their reductions take a dtype
    options = {"dtype": acc_dtype} if acc_dtype else {}
    needs_elements = op.scalar_op.identity is None
    message = (f"{op}: cannot reduce the empty axis of an input of shape ",
               f" with {op.scalar_op}, which has no identity")

    def run(inputs, output_cells):
        (value,) = inputs
        if needs_elements:
            _check_not_empty(value, axes, message)
        output_cells[0][0] = as_output(xp, reduce(value, axis=axes, **options), out_dtype)

    return run


@cuda_impl.register(MaxAndArgmax)
def max_and_argmax(op, node, device):
    """The maximum and its position, over the flattened reduced axes in ``op.axis``'s order.

    One axis is reduced in place; several are first moved last and merged
    (a copy unless they already are), as ``perform`` does.
    """
    xp = device.xp
    x = node.inputs[0]
    axes = tuple(op.axis)
    kept = tuple(d for d in range(x.ndim) if d not in axes)
    max_dtype = node.outputs[0].dtype
    message = (f"{op}: cannot take the maximum over an empty axis of an input of shape ", "")

    def flattened(value):
        """``value`` with the reduced axes as its last one, and that axis."""
        if len(axes) == 1:
            return value, axes[0]
        merged = math.prod(value.shape[d] for d in axes)
        return value.transpose(kept + axes).reshape(tuple(value.shape[d] for d in kept) + (merged,)), -1

    def run(inputs, output_cells):
        (value,) = inputs
        _check_not_empty(value, axes, message)
        flat, axis = flattened(value)
        output_cells[0][0] = as_output(xp, xp.max(flat, axis=axis), max_dtype)
        output_cells[1][0] = as_output(xp, xp.argmax(flat, axis=axis), "int64")

    return run
