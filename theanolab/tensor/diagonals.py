"""Diagonals and triangles: ``diag``, ``diagonal``, ``fill_diagonal``, ``tri``, ``tril``, ``triu``.

``diag`` follows Theano 1.0 (and NumPy): of a vector it builds a matrix
(:class:`AllocDiag`), of a matrix it extracts a diagonal
(:class:`ExtractDiag`, a copy).  Each is the other's gradient.
``fill_diagonal`` writes a scalar on the main diagonal of a copy.
``tril`` and ``triu`` keep one triangle of the last two dimensions, reading
the other as zeros through a :class:`Tri` mask (``numpy.tri``).

>>> import numpy as np, theanolab, theanolab.tensor as T
>>> v = T.dvector('v')
>>> T.diag(v).owner.op, T.diag(T.diag(v)).owner.op
(AllocDiag{offset=0, axis1=0, axis2=1}, ExtractDiag{offset=0, axis1=0, axis2=1, view=False})
>>> x = T.dmatrix('x')
>>> theanolab.function([x], T.tril(x))(np.ones((2, 3))).tolist()
[[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]
"""

from __future__ import annotations

import numbers

import numpy as np

from theanolab.graph.basic import Apply, Constant
from theanolab.graph.op import Op
from theanolab.scalar.basic import DISCRETE, INTEGER, upcast
from theanolab.tensor import math as tm
from theanolab.tensor.basic import NumpyMatrixOp, arange, cast, zeros_like, zeros_like_float
from theanolab.tensor.shape import shape_i
from theanolab.tensor.subtensor import set_subtensor
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable, constant

__all__ = ["AllocDiag", "ExtractDiag", "diag", "diagonal", "trace", "FillDiagonal", "fill_diagonal",
           "Tri", "tri", "tril", "triu"]


def _offset(value, where):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{where}: the offset must be an int, got {value!r}")
    return int(value)


class AllocDiag(Op):
    """The square matrix with the vector ``x`` on its diagonal ``offset`` (``numpy.diag(x, offset)``)."""

    __props__ = ("offset",)

    def __init__(self, offset=0):
        self.offset = _offset(offset, "AllocDiag")

    def __str__(self):
        return f"AllocDiag{{offset={self.offset}, axis1=0, axis2=1}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim != 1:
            raise TypeError(f"{self}: the input must be a vector, got {x} with {x.ndim} dimension(s)")
        return Apply(self, [x], [TensorType(x.dtype, (False, False))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.diag(inputs[0], self.offset)

    def infer_shape(self, node, input_shapes):
        side = input_shapes[0][0] + abs(self.offset)
        return [(side, side)]

    def grad(self, inputs, output_grads):
        if inputs[0].dtype in DISCRETE:
            return [zeros_like_float(inputs[0])]
        return [ExtractDiag(self.offset)(output_grads[0])]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0])]


class ExtractDiag(Op):
    """``numpy.diagonal(x, offset, axis1, axis2)``, as a copy.

    The two axes go away and the diagonal becomes the last dimension.
    """

    __props__ = ("offset", "axis1", "axis2", "view")

    def __init__(self, offset=0, axis1=0, axis2=1, view=False):
        self.offset = _offset(offset, "ExtractDiag")
        self.axis1, self.axis2 = int(axis1), int(axis2)
        if self.axis1 < 0 or self.axis2 < 0 or self.axis1 == self.axis2:
            raise ValueError(f"ExtractDiag: axis1 and axis2 must be two different non-negative axes, got "
                             f"{axis1} and {axis2}")
        if view:
            raise ValueError("ExtractDiag: only view=False (a copy) is supported")
        self.view = False

    def __str__(self):
        return (f"ExtractDiag{{offset={self.offset}, axis1={self.axis1}, axis2={self.axis2}, "
                f"view={self.view}}}")

    def _rest(self, ndim):
        return [d for d in range(ndim) if d not in (self.axis1, self.axis2)]

    def make_node(self, x):
        x = as_tensor_variable(x)
        if max(self.axis1, self.axis2) >= x.ndim:
            raise ValueError(f"{self}: {x} has only {x.ndim} dimension(s)")
        pattern = tuple(x.broadcastable[d] for d in self._rest(x.ndim)) + (False,)
        return Apply(self, [x], [TensorType(x.dtype, pattern)()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.diagonal(inputs[0], self.offset, self.axis1, self.axis2).copy()

    def _length(self, rows, cols):
        """The diagonal's length in a ``rows`` x ``cols`` plane (zero when the offset misses it)."""
        if self.offset >= 0:
            length = tm.minimum(rows, cols - self.offset)
        else:
            length = tm.minimum(rows + self.offset, cols)
        return tm.maximum(length, 0)

    def infer_shape(self, node, input_shapes):
        (shape,) = input_shapes
        rest = [shape[d] for d in self._rest(len(shape))]
        return [tuple(rest) + (self._length(shape[self.axis1], shape[self.axis2]),)]

    def grad(self, inputs, output_grads):
        (x,) = inputs
        if x.dtype in DISCRETE:
            return [zeros_like_float(x)]
        (gz,) = output_grads
        # Put the two axes first, so that two index vectors pick the diagonal's positions.
        order = [self.axis1, self.axis2] + self._rest(x.ndim)
        inverse = [order.index(d) for d in range(x.ndim)]
        steps = arange(gz.shape[-1])
        rows, cols = steps + max(0, -self.offset), steps + max(0, self.offset)
        diagonal_first = gz.dimshuffle([gz.ndim - 1] + list(range(gz.ndim - 1)))
        spread = set_subtensor(zeros_like(x).dimshuffle(order)[rows, cols], diagonal_first)
        return [spread.dimshuffle(inverse)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0])]


def _axis(axis, ndim, where):
    """``axis`` (an int, negative counting from the end) as a non-negative int."""
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{where}: axis must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{where}: axis {axis} is out of range for a tensor of {ndim} dimension(s)")
    return int(axis) % ndim


def diagonal(a, offset=0, axis1=0, axis2=1):
    """The diagonal ``offset`` of the plane (``axis1``, ``axis2``) of ``a``, as in ``numpy.diagonal``."""
    a = as_tensor_variable(a)
    if a.ndim < 2:
        raise ValueError(f"diagonal: {a} must have at least 2 dimensions, it has {a.ndim}")
    axis1, axis2 = _axis(axis1, a.ndim, "diagonal"), _axis(axis2, a.ndim, "diagonal")
    if axis1 == axis2:
        raise ValueError(f"diagonal: axis1 and axis2 are the same axis ({axis1})")
    return ExtractDiag(offset, axis1, axis2)(a)


def diag(v, k=0):
    """A vector's diagonal matrix, or a matrix's diagonal ``k``, as ``numpy.diag``.

    >>> import numpy as np, theanolab.tensor as T
    >>> T.diag(np.array([1, 2])).eval().tolist()
    [[1, 0], [0, 2]]
    """
    v = as_tensor_variable(v)
    if v.ndim == 1:
        return AllocDiag(k)(v)
    if v.ndim == 2:
        return ExtractDiag(k)(v)
    raise ValueError(f"diag: the input must be a vector or a matrix, got {v} with {v.ndim} dimension(s); "
                     "use diagonal(x, offset, axis1, axis2) for other tensors")


def trace(x):
    """The sum of the main diagonal of the matrix ``x`` (``x.trace()``)."""
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise ValueError(f"trace: {x} must be a matrix, it has {x.ndim} dimension(s)")
    return diagonal(x).sum()


class FillDiagonal(Op):
    """A copy of ``a`` with the scalar ``val`` on its main diagonal (``numpy.fill_diagonal``).

    ``a`` has at least 2 dimensions; beyond 2 they must all have the same
    length (NumPy's rule).
    """

    __props__ = ()

    def make_node(self, a, val):
        a, val = as_tensor_variable(a), as_tensor_variable(val)
        if a.ndim < 2:
            raise TypeError(f"FillDiagonal: the first input must have at least 2 dimensions, got {a} "
                            f"with {a.ndim}")
        if val.ndim != 0:
            raise TypeError(f"FillDiagonal: the value must be a scalar, got {val} with {val.ndim} "
                            "dimension(s)")
        if val.dtype != a.dtype:
            raise TypeError(f"FillDiagonal: the value {val} ({val.dtype}) must have the dtype of {a} "
                            f"({a.dtype})")
        return Apply(self, [a, val], [a.type()])

    def perform(self, node, inputs, output_storage):
        a, val = inputs
        out = a.copy()
        try:
            np.fill_diagonal(out, val)
        except ValueError as exc:
            raise ValueError(f"FillDiagonal: cannot fill the diagonal of an array of shape {a.shape}: "
                             f"{exc}") from None
        output_storage[0][0] = out

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, output_grads):
        a, val = inputs
        (gz,) = output_grads
        # The diagonal's entries came from val, the others from a.
        grad_a = zeros_like_float(a) if a.dtype in DISCRETE else fill_diagonal(gz, 0)
        if val.dtype in DISCRETE:
            grad_val = zeros_like_float(val)
        else:
            grad_val = (gz * fill_diagonal(zeros_like(gz), 1)).sum()
        return [grad_a, grad_val]

    def R_op(self, inputs, eval_points):
        if all(point is None for point in eval_points):
            return [None]
        a, val = (zeros_like(i) if p is None else p for i, p in zip(inputs, eval_points))
        return [self(a, val)]


def _value_for(a, val):
    """``val`` in the dtype of ``a``: a Python number (rounded for a float ``a``, exact
    otherwise), or a variable of a dtype that ``a``'s holds."""
    if isinstance(val, numbers.Number) and not isinstance(val, np.generic):
        converted = np.asarray(val).astype(a.dtype)
        if converted == val or converted.dtype.kind in "fc":
            return constant(converted)
        raise TypeError(f"fill_diagonal: {val!r} does not fit the dtype of {a} ({a.dtype})")
    val = as_tensor_variable(val)
    if val.dtype != a.dtype and upcast(a.dtype, val.dtype) == a.dtype:
        return cast(val, a.dtype)
    return val


def fill_diagonal(a, val):
    """A copy of ``a`` with ``val`` on the main diagonal (``numpy.fill_diagonal``, which works in place).

    >>> import numpy as np, theanolab.tensor as T
    >>> T.fill_diagonal(np.zeros((2, 3)), 5).eval().tolist()
    [[5.0, 0.0, 0.0], [0.0, 5.0, 0.0]]
    """
    a = as_tensor_variable(a)
    return FillDiagonal()(a, _value_for(a, val))


class Tri(NumpyMatrixOp):
    """``numpy.tri(N, M, k)``: ones at and below diagonal ``k`` of an N x M matrix, zeros above."""

    numpy_function = staticmethod(np.tri)
    argument_names = ("N", "M", "k")

    def output_pattern(self, inputs):
        return [isinstance(s, Constant) and int(s.data) == 1 for s in inputs[:2]]


def tri(N, M=None, k=0, dtype=None):
    """The N x M matrix of ``numpy.tri``; ``dtype`` defaults to floatX."""
    return Tri(dtype)(N, N if M is None else M, k)


def _triangle(m, k, where):
    """The mask of ``tri(rows, cols, k)`` over the last two dimensions of ``m``."""
    m = as_tensor_variable(m)
    if m.ndim < 2:
        raise ValueError(f"{where}: {m} must have at least 2 dimensions, it has {m.ndim}")
    k = as_tensor_variable(k)
    if k.ndim != 0 or k.dtype not in INTEGER:
        raise TypeError(f"{where}: k must be an integer scalar, got {k} ({k.type})")
    return m, tri(shape_i(m, m.ndim - 2), shape_i(m, m.ndim - 1), k, dtype="bool")


def tril(m, k=0):
    """``m`` with the entries above diagonal ``k`` of its last two dimensions set to zero."""
    m, mask = _triangle(m, k, "tril")
    return tm.switch(mask, m, constant(np.zeros((), m.dtype)))


def triu(m, k=0):
    """``m`` with the entries below diagonal ``k`` of its last two dimensions set to zero."""
    below = k - 1 if isinstance(k, numbers.Integral) else as_tensor_variable(k) - 1
    m, mask = _triangle(m, below, "triu")
    return tm.switch(mask, constant(np.zeros((), m.dtype)), m)
