"""Sorting along an axis: ``sort`` and ``argsort`` (Theano's ``theano.tensor.sort``).

The axis is an input of the node (an integer scalar, so it may be
symbolic), as in Theano: ``T.sort(x)`` prints ``SortOp{quicksort,
None}(x, -1)``.  ``axis=None`` sorts the flattened tensor.

Sorting permutes each line along the axis, so its gradient sends every
output gradient back to the position its value came from: the output
gradient read through the inverse permutation (the argsort of the
argsort).  ``argsort`` returns int64 positions; its gradient is zero.

>>> import numpy as np, theanolab, theanolab.tensor as T
>>> x = T.dmatrix('x')
>>> f = theanolab.function([x], [T.sort(x), T.argsort(x, axis=0)])
>>> values, order = f(np.array([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]]))
>>> values.tolist(), order.tolist()
([[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]], [[1, 0, 1], [0, 1, 0]])
"""

from __future__ import annotations

import numpy as np

from theanolab.graph.basic import Apply, Constant
from theanolab.graph.op import Op
from theanolab.scalar.basic import DISCRETE, INTEGER
from theanolab.tensor import math as tm
from theanolab.tensor.basic import arange, zeros_like_float
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable

__all__ = ["SortOp", "ArgSortOp", "sort", "argsort"]

_KINDS = ("quicksort", "mergesort", "heapsort", "stable")


class _SortBase(Op):
    """What sort and argsort share: the algorithm, the axis input, the shape."""

    __props__ = ("kind", "order")

    def __init__(self, kind="quicksort", order=None):
        if kind not in _KINDS:
            raise ValueError(f"{type(self).__name__}: kind must be one of {_KINDS}, got {kind!r}")
        if order is not None:
            raise ValueError(f"{type(self).__name__}: order is for arrays of records, which tensors are "
                             f"not; it must be None, got {order!r}")
        self.kind = kind
        self.order = order

    def __str__(self):
        return f"{type(self).__name__}{{{self.kind}, {self.order}}}"

    def _inputs(self, x, axis):
        x = as_tensor_variable(x)
        axis = as_tensor_variable(axis)
        if axis.ndim != 0 or axis.dtype not in INTEGER:
            raise TypeError(f"{self}: the axis must be an integer scalar, got {axis} ({axis.type})")
        if x.ndim == 0:
            raise ValueError(f"{self}: cannot sort the scalar {x} (use axis=None to sort it as a vector)")
        if isinstance(axis, Constant) and not -x.ndim <= int(axis.data) < x.ndim:
            raise ValueError(f"{self}: axis {int(axis.data)} is out of range for {x}, which has {x.ndim} "
                             "dimension(s)")
        return x, axis

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


class SortOp(_SortBase):
    """``numpy.sort(x, axis, kind)``: a sorted copy of ``x``."""

    def make_node(self, x, axis):
        x, axis = self._inputs(x, axis)
        return Apply(self, [x, axis], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, axis = inputs
        output_storage[0][0] = np.sort(x, axis=int(axis), kind=self.kind)

    def L_op(self, inputs, outputs, output_grads):
        x, axis = inputs
        if x.dtype in DISCRETE:
            return [zeros_like_float(x), None]
        positions = ArgSortOp(self.kind)(x, axis)
        inverse = ArgSortOp(self.kind)(positions, axis)
        return [take_along_axis(output_grads[0], inverse, axis), None]

    def R_op(self, inputs, eval_points):
        x, axis = inputs
        if eval_points[0] is None:
            return [None]
        return [take_along_axis(eval_points[0], ArgSortOp(self.kind)(x, axis), axis)]


class ArgSortOp(_SortBase):
    """``numpy.argsort(x, axis, kind)``: the int64 positions that sort ``x``."""

    def make_node(self, x, axis):
        x, axis = self._inputs(x, axis)
        return Apply(self, [x, axis], [TensorType("int64", x.broadcastable)()])

    def perform(self, node, inputs, output_storage):
        x, axis = inputs
        output_storage[0][0] = np.argsort(x, axis=int(axis), kind=self.kind).astype("int64", copy=False)

    def L_op(self, inputs, outputs, output_grads):
        return [zeros_like_float(inputs[0]), None]

    def R_op(self, inputs, eval_points):
        return [None]


def take_along_axis(a, positions, axis):
    """``numpy.take_along_axis(a, positions, axis)`` as advanced indexing (``axis`` may be symbolic).

    Every other dimension is indexed by a broadcastable ``arange``, so each
    line along ``axis`` is read at its own ``positions``.
    """
    ndim = a.ndim
    if ndim == 1:
        return a[positions]
    if isinstance(axis, Constant):
        known = int(axis.data) % ndim
    else:
        known = None
        axis = tm.switch(tm.lt(axis, 0), axis + ndim, axis)
    index = []
    for d in range(ndim):
        along = arange(a.shape[d]).dimshuffle(["x"] * d + [0] + ["x"] * (ndim - d - 1))
        if known is None:
            index.append(tm.switch(tm.eq(axis, d), positions, along))
        else:
            index.append(positions if d == known else along)
    return a[tuple(index)]


def _prepare(a, axis):
    """``(a, axis)`` with ``axis=None`` meaning: the flattened tensor, along axis 0."""
    a = as_tensor_variable(a)
    if axis is None:
        return a.flatten(), 0
    return a, axis


def sort(a, axis=-1, kind="quicksort", order=None):
    """A copy of ``a`` sorted along ``axis`` (the last by default; ``None``: flattened)."""
    a, axis = _prepare(a, axis)
    return SortOp(kind, order)(a, axis)


def argsort(a, axis=-1, kind="quicksort", order=None):
    """The int64 positions that sort ``a`` along ``axis`` (``None``: flattened)."""
    a, axis = _prepare(a, axis)
    return ArgSortOp(kind, order)(a, axis)
