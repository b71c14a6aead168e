"""Rules for basic indexing: reading back what an ``inc_subtensor`` / ``set_subtensor`` wrote.

The gradient of ``x[c:]`` is ``inc_subtensor(zeros_like(x)[c:], g)``: a whole
buffer of zeros with ``g`` added to its tail.  When the only use of that
buffer is to slice a part of the tail back out (scan's gradient does exactly
this: it takes the rows for the steps, reversed), the slice is a slice of
``g`` itself, and neither the zeros nor the addition needs to run.

>>> import theanolab, theanolab.tensor as T
>>> x, g = T.dmatrix('x'), T.dmatrix('g')
>>> buf = T.inc_subtensor(T.zeros_like(x)[1:], g)
>>> f = theanolab.function([x, g], buf[2:])
>>> 'IncSubtensor' in str([n.op for n in f.maker.fgraph.toposort()])
False
"""

from __future__ import annotations

from theanolab.graph.basic import Constant
from theanolab.graph.rewriting import node_rewriter, register
from theanolab.tensor import math as tm
from theanolab.tensor.basic import Alloc, cast
from theanolab.tensor.rewriting.shape import same_shape
from theanolab.tensor.rewriting.utils import scalar_constant_value
from theanolab.tensor.subtensor import IncSubtensor, SliceSpec, Subtensor
from theanolab.tensor.variable import constant

__all__ = ["subtensor_of_inc_subtensor"]


def _const_int(var):
    """The Python int of a constant integer scalar, or None."""
    if isinstance(var, Constant) and var.data.ndim == 0 and var.dtype.startswith(("int", "uint")):
        return int(var.data)
    return None


def _row_slice(idx_list, index):
    """``(start, stop)`` variables (None where omitted) of an index that is one step-less slice, or None."""
    if len(idx_list) != 1 or not isinstance(idx_list[0], SliceSpec) or idx_list[0].step is not None:
        return None
    spec, values = idx_list[0], list(index)
    start = values.pop(0) if spec.start is not None else None
    stop = values.pop(0) if spec.stop is not None else None
    return start, stop


def _is_zeros(var):
    """True if every element of ``var`` is known to be 0 (a fill or alloc of the constant 0)."""
    if var.owner is not None and isinstance(var.owner.op, Alloc):
        var = var.owner.inputs[0]
    value = scalar_constant_value(var)
    return value is not None and value == 0


@register("canonicalize", "fast_run", "subtensor")
@node_rewriter([Subtensor])
def subtensor_of_inc_subtensor(fgraph, node):
    """inc_subtensor(zeros_like(z)[c:], y)[a:s] -> y[a-c:s'] for constants 0 <= c <= a (set_subtensor: any z)

    Why: the rows read back all lie in the part y filled, so they are rows of y; the zeros buffer and the update never run.
    The stop s' is s - c (at least 0) for s >= 0 and s itself for s < 0 (both count from y's end, which is z's end);
    y must provably have the shape of z[c:] (no broadcasting), which the shape feature checks.
    """
    buffer = node.inputs[0]
    inc = buffer.owner
    if inc is None or not isinstance(inc.op, IncSubtensor):
        return None
    read = _row_slice(node.op.idx_list, node.inputs[1:])
    written = _row_slice(inc.op.idx_list, inc.inputs[2:])
    if read is None or written is None or written[1] is not None:
        return None
    base, y = inc.inputs[0], inc.inputs[1]
    if not inc.op.set_instead_of_inc and not _is_zeros(base):
        return None
    c = 0 if written[0] is None else _const_int(written[0])
    a = 0 if read[0] is None else _const_int(read[0])
    if c is None or a is None or not 0 <= c <= a:
        return None
    if y.ndim != base.ndim or not same_shape(fgraph, base[constant(c, dtype="int64"):], y):
        return None
    stop = read[1]
    if stop is None:
        new = y[constant(a - c, dtype="int64"):]
    else:
        s = _const_int(stop)
        if s is not None:
            y_stop = constant(max(s - c, 0) if s >= 0 else s, dtype="int64")
        else:
            stop = cast(stop, "int64")
            y_stop = tm.switch(tm.ge(stop, 0), tm.maximum(stop - c, 0), stop)
        new = y[constant(a - c, dtype="int64"):y_stop]
    out = node.outputs[0]
    new = cast(new, out.dtype)
    if new.type != out.type:
        return None
    return [new]
