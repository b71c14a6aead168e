"""Reductions: sum, prod, max, min, argmax, argmin, any, all, mean, var, std.

One generic op, :class:`CAReduce`, reduces with a commutative and
associative scalar op over a tuple of axes; ``Sum``, ``Prod``, ``Any`` and
``All`` are thin subclasses that add their dtype rule and gradient.  ``max``
builds Theano's two-output :class:`MaxAndArgmax` (so ``x.max(axis=1)`` prints
``MaxAndArgmax{axis=(1,)}`` as in Theano), and ``min`` / ``argmin`` are
``max`` / ``argmax`` of a negated input.  ``mean``, ``var`` and ``std`` are
compositions, so their gradients come for free.  ``keepdims=True`` is a
DimShuffle that puts back the reduced axes as broadcastable ones.

>>> import theanolab.tensor as T
>>> x = T.tensor3('x')
>>> x.sum(axis=(0, 2)).owner.op
Sum{axis=[0, 2], acc_dtype=float64}
>>> x.max(axis=1).owner.op
MaxAndArgmax{axis=(1,)}
"""

from __future__ import annotations

import builtins

import numpy as np

from theanolab import scalar as ts
from theanolab.graph.basic import Apply, Constant, Variable
from theanolab.graph.op import Op
from theanolab.scalar.basic import DISCRETE, upcast
from theanolab.tensor import math as tm
from theanolab.tensor.basic import cast, zeros_like_float
from theanolab.tensor.shape import shape_i
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable, constant

__all__ = ["CAReduce", "Sum", "Prod", "Any", "All", "MaxAndArgmax", "sum", "prod", "mean", "var",
           "std", "max", "min", "argmax", "argmin", "max_and_argmax", "any", "all"]


# ------------------------------------------------------------------ axes


def _axis_values(axis, where):
    """A user's axis argument (int, list, tuple or constant tensor) as a list of ints."""
    if isinstance(axis, Variable):
        if not isinstance(axis, Constant):
            raise TypeError(f"{where}: axis must be known when the graph is built, got the variable {axis}")
        axis = axis.data
    values = np.asarray(axis)
    if values.dtype.kind not in "iu" and values.size:
        raise TypeError(f"{where}: axis must be an int or a sequence of ints, got {axis!r}")
    return [int(a) for a in values.reshape(-1)]


def normalize_axis(axis, ndim, where):
    """Sorted non-negative axes for an input of ``ndim`` dimensions (``None`` means all).

    Negative axes count from the end as in NumPy; an axis out of range or
    repeated is a ValueError naming the axis and ``ndim``.
    """
    if axis is None:
        return tuple(range(ndim))
    result = []
    for a in _axis_values(axis, where):
        if not -ndim <= a < ndim:
            raise ValueError(f"{where}: axis {a} is out of range for an input of {ndim} dimension(s)")
        a %= ndim
        if a in result:
            raise ValueError(f"{where}: axis {a} appears twice")
        result.append(a)
    return tuple(sorted(result))


def _reduced_shape(shape, axes):
    return tuple(length for d, length in enumerate(shape) if d not in axes)


def _expand(reduced, axes, ndim):
    """Put back the reduced ``axes`` of ``reduced`` as broadcastable dimensions."""
    order, kept = [], 0
    for d in range(ndim):
        if d in axes:
            order.append("x")
        else:
            order.append(kept)
            kept += 1
    return reduced.dimshuffle(order)


def _keepdims(result, axes, ndim, keepdims):
    return _expand(result, axes, ndim) if keepdims else result


# ------------------------------------------------------------------ generic op


class CAReduce(Op):
    """Reduce ``x`` over ``axis`` (a tuple of non-negative ints, ``None`` for all)
    with the commutative, associative ``scalar_op`` (``add`` gives a sum).

    The output drops the reduced dimensions; an empty reduction gives the
    scalar op's identity (0 for add, 1 for mul), and is a ValueError for ops
    that have none (maximum, minimum), as in NumPy.
    """

    __props__ = ("scalar_op", "axis")

    def __init__(self, scalar_op, axis=None):
        if not (scalar_op.commutative and scalar_op.associative):
            raise ValueError(f"CAReduce needs a commutative and associative scalar op, got {scalar_op}")
        self.scalar_op = scalar_op
        self.axis = None if axis is None else tuple(int(a) for a in axis)

    def __str__(self):
        name = type(self).__name__ if type(self) is not CAReduce else f"CAReduce{{{self.scalar_op}}}"
        return name if self.axis is None else f"{name}{{{', '.join(str(a) for a in self.axis)}}}"

    def axes_of(self, x):
        """The axes this op reduces on ``x`` (all of them when ``axis`` is None)."""
        return normalize_axis(self.axis, x.ndim, str(self))

    def output_dtype(self, input_dtype):
        return input_dtype

    def make_node(self, x):
        x = as_tensor_variable(x)
        axes = self.axes_of(x)
        pattern = _reduced_shape(x.broadcastable, axes)
        return Apply(self, [x], [TensorType(self.output_dtype(x.dtype), pattern)()])

    def _reduce(self, x, axes):
        """The reduction in NumPy; subclasses change the accumulator, not the meaning."""
        return self.scalar_op.nfunc.reduce(x, axis=axes)

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        axes = self.axes_of(node.inputs[0])
        if self.scalar_op.identity is None and builtins.any(x.shape[d] == 0 for d in axes):
            raise ValueError(f"{self}: cannot reduce the empty axis of an input of shape {x.shape} "
                             f"with {self.scalar_op}, which has no identity")
        output_storage[0][0] = np.asarray(self._reduce(x, axes), dtype=node.outputs[0].dtype)

    def infer_shape(self, node, input_shapes):
        return [_reduced_shape(input_shapes[0], self.axes_of(node.inputs[0]))]


class _AccumulatingReduce(CAReduce):
    """A CAReduce with Theano's ``dtype`` (of the output) and ``acc_dtype`` (of the
    accumulator): integers accumulate in 64 bits, float16/32 in float32/64."""

    __props__ = ("axis", "dtype", "acc_dtype")
    scalar = None

    #: default output dtype per input dtype (others keep theirs).
    _OUTPUT = {"bool": "int64", "int8": "int64", "int16": "int64", "int32": "int64",
               "uint8": "uint64", "uint16": "uint64", "uint32": "uint64"}
    _ACCUMULATOR = {"float16": "float32", "float32": "float64", "complex64": "complex128"}

    def __init__(self, axis=None, dtype=None, acc_dtype=None):
        super().__init__(self.scalar, axis)
        self.dtype = None if dtype is None else str(np.dtype(dtype))
        self.acc_dtype = None if acc_dtype is None else str(np.dtype(acc_dtype))

    def __str__(self):
        parts = [] if self.axis is None else [f"axis={list(self.axis)}"]
        return f"{type(self).__name__}{{{', '.join(parts + [f'acc_dtype={self.acc_dtype}'])}}}"

    def output_dtype(self, input_dtype):
        return self.dtype or self._OUTPUT.get(input_dtype, input_dtype)

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.dtype is None or self.acc_dtype is None:
            # Fill in the defaults from the input's dtype, so the op prints them as Theano does.
            dtype = self.output_dtype(x.dtype)
            acc_dtype = self.acc_dtype or self._ACCUMULATOR.get(dtype, upcast(dtype, self._OUTPUT.get(dtype, dtype)))
            return type(self)(self.axis, dtype, acc_dtype).make_node(x)
        if upcast(x.dtype, self.acc_dtype) != self.acc_dtype:
            raise TypeError(f"{self}: the accumulator dtype {self.acc_dtype} cannot hold the input "
                            f"{x} of dtype {x.dtype} without loss; leave acc_dtype unset or widen it")
        return super().make_node(x)

    def _reduce(self, x, axes):
        return self.scalar_op.nfunc.reduce(x, axis=axes, dtype=self.acc_dtype)


class Sum(_AccumulatingReduce):
    """``x.sum(axis)``; its gradient broadcasts the output gradient back over ``axis``."""

    scalar = ts.add

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        if x.dtype in DISCRETE:
            return [zeros_like_float(x)]
        return [tm.second(x, _expand(output_grads[0], self.axes_of(x), x.ndim))]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0])]


class Prod(_AccumulatingReduce):
    """``x.prod(axis)``; the gradient is right when the input holds zeros.

    With no zero in a group, d prod / d x_i is prod / x_i.  With exactly one
    zero, only that position gets a gradient: the product of the others.
    With two or more zeros every partial derivative is 0.
    """

    scalar = ts.mul

    def __str__(self):
        return f"Prod{{axis={self.axis}, dtype={self.dtype!r}, acc_dtype={self.acc_dtype!r}}}"

    def _partials(self, x):
        """d prod / d x, shaped like ``x``."""
        axes = self.axes_of(x)
        is_zero = tm.eq(x, 0)
        zeros = _expand(Sum(axes)(is_zero), axes, x.ndim)
        others = _expand(self(tm.switch(is_zero, 1, x)), axes, x.ndim)
        no_zero = others / tm.switch(is_zero, 1, x)
        lone_zero = tm.switch(tm.and_(is_zero, tm.eq(zeros, 1)), others, 0)
        return tm.switch(tm.eq(zeros, 0), no_zero, lone_zero)

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        if x.dtype in DISCRETE:
            return [zeros_like_float(x)]
        return [self._partials(x) * _expand(output_grads[0], self.axes_of(x), x.ndim)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        (x,) = inputs
        return [Sum(self.axis)(self._partials(x) * eval_points[0])]


class _LogicalReduce(CAReduce):
    """``any`` / ``all``: reduce the truth of ``x`` (``x != 0``); not differentiable."""

    __props__ = ("axis",)
    scalar = None

    def __init__(self, axis=None):
        super().__init__(self.scalar, axis)

    def output_dtype(self, input_dtype):
        return "bool"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.dtype != "bool":
            x = tm.neq(x, 0)
        return super().make_node(x)

    def L_op(self, inputs, outputs, output_grads):
        return [zeros_like_float(inputs[0])]


class Any(_LogicalReduce):
    scalar = ts.or_


class All(_LogicalReduce):
    scalar = ts.and_


# ------------------------------------------------------------------ max and argmax


class MaxAndArgmax(Op):
    """The maximum of ``x`` over ``axis`` and where it is (outputs ``max`` and ``argmax``).

    Over several axes the index counts in the flattened reduced axes (in
    their order in ``x``), as Theano does.  The gradient of ``max`` goes to
    every position equal to the maximum; ``argmax`` has a zero gradient.
    """

    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = tuple(int(a) for a in axis)

    def __str__(self):
        return f"MaxAndArgmax{{axis={self.axis}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        normalize_axis(self.axis, x.ndim, str(self))
        pattern = _reduced_shape(x.broadcastable, self.axis)
        return Apply(self, [x], [TensorType(x.dtype, pattern)("max"), TensorType("int64", pattern)("argmax")])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        if builtins.any(x.shape[d] == 0 for d in self.axis):
            raise ValueError(f"{self}: cannot take the maximum over an empty axis of an input of shape {x.shape}")
        kept = tuple(d for d in range(x.ndim) if d not in self.axis)
        # Move the reduced axes last and flatten them, so one argmax finds the position.
        reduced_size = int(np.prod([x.shape[d] for d in self.axis]))
        flat = x.transpose(kept + self.axis).reshape(_reduced_shape(x.shape, self.axis) + (reduced_size,))
        output_storage[0][0] = np.asarray(np.max(flat, axis=-1), dtype=x.dtype)
        output_storage[1][0] = np.asarray(np.argmax(flat, axis=-1), dtype="int64")

    def infer_shape(self, node, input_shapes):
        shape = _reduced_shape(input_shapes[0], self.axis)
        return [shape, shape]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        if x.dtype in DISCRETE:
            return [zeros_like_float(x)]
        g_max = _expand(output_grads[0], self.axis, x.ndim)
        return [self._winners(x, outputs[0]) * g_max]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None, None]
        (x,) = inputs
        return [Sum(self.axis)(self._winners(x, self(x)[0]) * eval_points[0]), None]

    def _winners(self, x, peak):
        """Where ``x`` equals its maximum: the positions the derivative of ``max`` flows to."""
        return tm.eq(x, _expand(peak, self.axis, x.ndim))


# ------------------------------------------------------------------ user functions


def sum(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Sum over ``axis`` (None: all; an int, a list or a tuple; negative counts from the end).

    Integers and bools sum to 64-bit integers (uint64 for unsigned), floats
    keep their dtype (float32 accumulates in float64), as in Theano.
    """
    x = as_tensor_variable(x)
    axes = normalize_axis(axis, x.ndim, "sum")
    result = Sum(None if axis is None else axes, dtype, acc_dtype)(x)
    return _keepdims(result, axes, x.ndim, keepdims)


def prod(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Product over ``axis``; dtypes as :func:`sum`; an empty product is 1."""
    x = as_tensor_variable(x)
    axes = normalize_axis(axis, x.ndim, "prod")
    result = Prod(None if axis is None else axes, dtype, acc_dtype)(x)
    return _keepdims(result, axes, x.ndim, keepdims)


def _flip(x):
    """An order-reversing bijection of ``x``'s dtype (its own inverse): min is flip(max(flip(x)))."""
    if x.dtype == "bool":
        return tm.invert(x)
    if x.dtype.startswith("uint"):
        return constant(np.iinfo(x.dtype).max, dtype=x.dtype) - x
    return -x


def max_and_argmax(x, axis=None, keepdims=False):
    """``[max, argmax]`` over ``axis``, from one node (as Theano's ``T.max_and_argmax``)."""
    x = as_tensor_variable(x)
    axes = normalize_axis(axis, x.ndim, "max_and_argmax")
    return [_keepdims(out, axes, x.ndim, keepdims) for out in MaxAndArgmax(axes)(x)]


def max(x, axis=None, keepdims=False):
    """The largest element over ``axis``; an empty axis is a ValueError when run."""
    return max_and_argmax(x, axis, keepdims)[0]


def argmax(x, axis=None, keepdims=False):
    """The int64 position of the largest element over ``axis`` (the first on ties)."""
    return max_and_argmax(x, axis, keepdims)[1]


def min(x, axis=None, keepdims=False):
    """The smallest element over ``axis``, as ``flip(max(flip(x)))`` (``-max(-x)`` for signed dtypes)."""
    x = as_tensor_variable(x)
    return _flip(max(_flip(x), axis, keepdims))


def argmin(x, axis=None, keepdims=False):
    """The int64 position of the smallest element over ``axis`` (the first on ties)."""
    return argmax(_flip(as_tensor_variable(x)), axis, keepdims)


def any(x, axis=None, keepdims=False):
    """Whether some element over ``axis`` is non-zero (bool); False when empty."""
    x = as_tensor_variable(x)
    axes = normalize_axis(axis, x.ndim, "any")
    return _keepdims(Any(None if axis is None else axes)(x), axes, x.ndim, keepdims)


def all(x, axis=None, keepdims=False):
    """Whether every element over ``axis`` is non-zero (bool); True when empty."""
    x = as_tensor_variable(x)
    axes = normalize_axis(axis, x.ndim, "all")
    return _keepdims(All(None if axis is None else axes)(x), axes, x.ndim, keepdims)


def _count(x, axes, dtype):
    """The number of elements reduced over ``axes``, as a ``dtype`` scalar."""
    count = constant(1, dtype="int64")
    for d in axes:
        count = count * shape_i(x, d)
    return cast(count, dtype)


def _float_dtype(dtype):
    return "float64" if dtype in DISCRETE else dtype


def mean(x, axis=None, dtype=None, keepdims=False, acc_dtype=None):
    """Sum over ``axis`` divided by the number of elements; integers give float64."""
    x = as_tensor_variable(x)
    axes = normalize_axis(axis, x.ndim, "mean")
    total = sum(x, axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)
    out_dtype = _float_dtype(total.dtype)
    result = cast(total, out_dtype) / _count(x, axes, out_dtype)
    result.name = "mean"
    return result


def var(x, axis=None, ddof=0, keepdims=False, corrected=False):
    """Variance over ``axis``: ``sum((x - mean) ** 2) / (n - ddof)``.

    ``corrected=True`` subtracts ``sum(x - mean) ** 2 / n`` first (the
    compensated two-pass algorithm), which cancels rounding error in the mean.
    """
    x = as_tensor_variable(x)
    axes = normalize_axis(axis, x.ndim, "var")
    centered = x - mean(x, axis, keepdims=True)
    dtype = centered.dtype
    squares = sum(centered * centered, axis, keepdims=keepdims)
    if corrected:
        squares = squares - sum(centered, axis, keepdims=keepdims) ** 2 / _count(x, axes, dtype)
    result = squares / (_count(x, axes, dtype) - constant(ddof, dtype=dtype))
    result.name = "var"
    return result


def std(x, axis=None, ddof=0, keepdims=False, corrected=False):
    """Standard deviation: the square root of :func:`var` (same arguments)."""
    result = tm.sqrt(var(x, axis, ddof=ddof, keepdims=keepdims, corrected=corrected))
    result.name = "std"
    return result
