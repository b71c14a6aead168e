"""Array functions beyond elementwise math: cumulative sums, repeat, tile, roll, squeeze...

The import path is Theano's ``theano.tensor.extra_ops`` (``cumsum``,
``cumprod``, ``CumOp``, ``repeat``, ``RepeatOp``, ``squeeze``,
``fill_diagonal``, ``FillDiagonal``); the functions that Theano kept in
``theano.tensor.basic`` (``transpose``, ``swapaxes``, ``tile``, ``roll``,
``ptp``, ``power``, ``isclose``, ``allclose``) live here too.  All are
re-exported as ``T.<name>``.

Only :class:`CumOp` and :class:`RepeatOp` (with a vector of counts) are new
ops.  The rest are compositions of existing ones, as in Theano, so their
gradients come from those ops: ``squeeze``, ``transpose`` and ``swapaxes``
are DimShuffles, ``tile`` and ``repeat`` by a scalar count are an alloc
and a reshape, ``roll`` joins two slices, ``ptp`` is max minus min.

>>> import numpy as np, theanolab, theanolab.tensor as T
>>> x = T.dmatrix('x')
>>> T.cumsum(x, axis=0).owner.op, T.swapaxes(x, 0, 1).owner.op
(CumOp{0, add}, InplaceDimShuffle{1,0})
>>> theanolab.function([x], T.cumsum(x, axis=1))(np.ones((2, 3))).tolist()
[[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
"""

from __future__ import annotations

import numbers

import numpy as np

from theanolab.graph.basic import Apply, Constant, Variable
from theanolab.graph.op import Op
from theanolab.scalar.basic import DISCRETE, INTEGER
from theanolab.tensor import math as tm
from theanolab.tensor import reduce
from theanolab.tensor.basic import alloc, arange, cast, join, zeros_like_float
from theanolab.tensor.diagonals import FillDiagonal, _axis, fill_diagonal
from theanolab.tensor.shape import reshape, shape_i, vector_length
from theanolab.tensor.subtensor import advanced_inc_subtensor1
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable, constant

__all__ = ["CumOp", "cumsum", "cumprod", "RepeatOp", "repeat", "tile", "roll", "squeeze", "transpose",
           "swapaxes", "power", "isclose", "allclose", "ptp", "FillDiagonal", "fill_diagonal"]


def _along(axis, ndim, index):
    """An index tuple applying the slice ``index`` on ``axis`` only."""
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)


def _times(a, b):
    """``a * b`` for int64 scalars, folded to a constant when both are constants (so a
    reshape to it keeps a length-1 dimension broadcastable)."""
    if isinstance(a, Constant) and isinstance(b, Constant):
        return constant(int(a.data) * int(b.data), dtype="int64")
    return cast(a, "int64") * cast(b, "int64")


def _int64_scalar(value, role, where):
    value = as_tensor_variable(value)
    if value.ndim != 0 or value.dtype not in INTEGER:
        raise TypeError(f"{where}: {role} must be an integer scalar, got {value} ({value.type})")
    if isinstance(value, Constant):
        if int(value.data) < 0:
            raise ValueError(f"{where}: {role} must not be negative, got {int(value.data)}")
        return constant(int(value.data), dtype="int64")
    return cast(value, "int64")


# ------------------------------------------------------------------ cumulative sums and products


class CumOp(Op):
    """Cumulative sum (``mode='add'``) or product (``mode='mul'``) along ``axis``.

    ``axis=None`` runs over the flattened tensor and gives a vector.  The
    dtype is the input's, as in Theano (NumPy would widen small integers).
    """

    __props__ = ("axis", "mode")
    _NUMPY = {"add": np.cumsum, "mul": np.cumprod}

    def __init__(self, axis=None, mode="add"):
        if mode not in self._NUMPY:
            raise ValueError(f"CumOp: mode must be 'add' or 'mul', got {mode!r}")
        if axis is not None and (isinstance(axis, bool) or not isinstance(axis, numbers.Integral)):
            raise TypeError(f"CumOp: axis must be an int or None, got {axis!r}")
        self.axis = None if axis is None else int(axis)
        self.mode = mode

    def __str__(self):
        return f"CumOp{{{self.axis}, {self.mode}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is None:
            return Apply(self, [x], [TensorType(x.dtype, (False,))()])
        if not -x.ndim <= self.axis < x.ndim:
            raise ValueError(f"{self}: axis {self.axis} is out of range for {x}, which has {x.ndim} "
                             "dimension(s)")
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        output_storage[0][0] = self._NUMPY[self.mode](x, axis=self.axis, dtype=x.dtype)

    def infer_shape(self, node, input_shapes):
        if self.axis is None:
            size = constant(1, dtype="int64")
            for length in input_shapes[0]:
                size = size * length
            return [(size,)]
        return [input_shapes[0]]

    def _reversed_cumsum(self, g):
        """``g``'s sums from each position to the end, along the op's axis (0 for a flattened one)."""
        axis = 0 if self.axis is None else self.axis % g.ndim
        flip = _along(axis, g.ndim, slice(None, None, -1))
        return CumOp(axis, "add")(g[flip])[flip]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        if x.dtype in DISCRETE:
            return [zeros_like_float(x)]
        (gz,) = output_grads
        if self.mode == "mul":
            gz = gz * outputs[0]
        grad = self._reversed_cumsum(gz)
        if self.axis is None:
            grad = grad.reshape(x.shape, ndim=x.ndim)
        # d out_i / d x_j = out_i / x_j for j <= i: undefined where x is 0, as in Theano.
        return [grad / x if self.mode == "mul" else grad]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        if self.mode == "add":
            return [self(eval_points[0])]
        (x,) = inputs
        return [self(x) * CumOp(self.axis, "add")(eval_points[0] / x)]


def cumsum(x, axis=None):
    """Cumulative sum along ``axis`` (``None``: of the flattened tensor), as ``numpy.cumsum``."""
    return CumOp(axis, "add")(x)


def cumprod(x, axis=None):
    """Cumulative product along ``axis`` (``None``: of the flattened tensor), as ``numpy.cumprod``."""
    return CumOp(axis, "mul")(x)


# ------------------------------------------------------------------ repeat, tile, roll


class RepeatOp(Op):
    """``numpy.repeat(x, repeats, axis)`` with a vector of counts, one per position along ``axis``.

    ``axis=None`` repeats the elements of the flattened tensor.  A vector of
    one count (broadcastable) repeats every position that many times.  The
    gradient adds up the gradients of the copies of each element.
    """

    __props__ = ("axis",)

    def __init__(self, axis=None):
        self.axis = None if axis is None else int(axis)

    def __str__(self):
        return f"RepeatOp{{axis={self.axis}}}"

    def make_node(self, x, repeats):
        x, repeats = as_tensor_variable(x), as_tensor_variable(repeats)
        if repeats.dtype not in INTEGER:
            raise TypeError(f"{self}: the counts must be integers, got {repeats} ({repeats.dtype})")
        if repeats.ndim != 1:
            raise ValueError(f"{self}: the counts must be a vector, got {repeats} with {repeats.ndim} "
                             "dimension(s); repeat() takes a scalar count too")
        if self.axis is None:
            pattern = (False,)
        else:
            if not 0 <= self.axis < x.ndim:
                raise ValueError(f"{self}: axis {self.axis} is out of range for {x}, which has {x.ndim} "
                                 "dimension(s)")
            pattern = tuple(False if d == self.axis else b for d, b in enumerate(x.broadcastable))
        return Apply(self, [x, repeats], [TensorType(x.dtype, pattern)()])

    def perform(self, node, inputs, output_storage):
        x, repeats = inputs
        if np.any(repeats < 0):
            raise ValueError(f"{self}: the counts must not be negative, got {repeats.tolist()}")
        length = x.size if self.axis is None else x.shape[self.axis]
        if repeats.size not in (1, length):
            raise ValueError(f"{self}: got {repeats.size} counts for {length} positions (input shape "
                             f"{x.shape}); give one count, or one per position")
        output_storage[0][0] = np.repeat(x, repeats.astype("int64"), axis=self.axis)

    def infer_shape(self, node, input_shapes):
        x, repeats = node.inputs
        shape = input_shapes[0]
        if self.axis is None:
            length = constant(1, dtype="int64")
            for entry in shape:
                length = length * entry
        else:
            length = shape[self.axis]
        if repeats.broadcastable[0]:
            total = length * cast(repeats[0], "int64")
        else:
            total = cast(repeats.sum(), "int64")
        if self.axis is None:
            return [(total,)]
        return [tuple(total if d == self.axis else entry for d, entry in enumerate(shape))]

    def grad(self, inputs, output_grads):
        x, repeats = inputs
        if x.dtype in DISCRETE:
            return [zeros_like_float(x), None]
        (gz,) = output_grads
        if self.axis is None:
            flat = x.flatten()
            sources = RepeatOp(0)(arange(flat.shape[0]), repeats)
            total = advanced_inc_subtensor1(zeros_like_float(flat), gz, sources)
            return [total.reshape(x.shape, ndim=x.ndim), None]
        # With the axis first, each output row adds into the input row it copies.
        order = [self.axis] + [d for d in range(x.ndim) if d != self.axis]
        inverse = [order.index(d) for d in range(x.ndim)]
        sources = RepeatOp(0)(arange(shape_i(x, self.axis)), repeats)
        total = advanced_inc_subtensor1(zeros_like_float(x).dimshuffle(order), gz.dimshuffle(order), sources)
        return [total.dimshuffle(inverse), None]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], inputs[1])]


def repeat(x, repeats, axis=None):
    """Each position of ``x`` along ``axis`` repeated ``repeats`` times, as ``numpy.repeat``.

    ``repeats`` is one count (an int or an integer scalar) or a vector of
    counts; ``axis=None`` repeats the elements of the flattened tensor.  One
    count builds an alloc and a reshape (as Theano does), a vector a
    :class:`RepeatOp`.

    >>> import numpy as np, theanolab.tensor as T
    >>> T.repeat(np.array([[1, 2], [3, 4]]), 2, axis=0).eval().tolist()
    [[1, 2], [1, 2], [3, 4], [3, 4]]
    """
    x = as_tensor_variable(x)
    repeats = as_tensor_variable(repeats)
    if repeats.dtype not in INTEGER:
        raise TypeError(f"repeat: the counts must be integers, got {repeats} ({repeats.dtype})")
    if repeats.ndim > 1:
        raise ValueError(f"repeat: the counts must be a scalar or a vector, got {repeats} with "
                         f"{repeats.ndim} dimensions")
    if repeats.ndim == 1:
        return RepeatOp(None if axis is None else _axis(axis, x.ndim, "repeat"))(x, repeats)
    if axis is None:
        x, axis = x.flatten(), 0
    else:
        axis = _axis(axis, x.ndim, "repeat")
    count = _int64_scalar(repeats, "the count", "repeat")
    lengths = [shape_i(x, d) for d in range(x.ndim)]
    # x with a new axis after `axis`, stretched to `count`, then the two axes merged.
    spread = x.dimshuffle(list(range(axis + 1)) + ["x"] + list(range(axis + 1, x.ndim)))
    copies = alloc(spread, *lengths[:axis + 1], count, *lengths[axis + 1:])
    merged = lengths[:axis] + [_times(lengths[axis], count)] + lengths[axis + 1:]
    return reshape(copies, merged, ndim=x.ndim)


def _reps(reps, ndim, where):
    """The counts of ``tile`` as int64 scalars, from a sequence or a symbolic vector."""
    if isinstance(reps, Variable) and as_tensor_variable(reps).ndim == 1:
        reps = as_tensor_variable(reps)
        if reps.dtype not in INTEGER:
            raise TypeError(f"{where}: the counts must be integers, got {reps} ({reps.dtype})")
        length = vector_length(reps)
        if length is None:
            if ndim is None:
                raise ValueError(f"{where}: the length of the vector of counts {reps} is not known when "
                                 "the graph is built; pass ndim=")
            length = ndim
        return [_int64_scalar(reps[i], f"count {i}", where) for i in range(length)]
    if isinstance(reps, (numbers.Integral, Variable)):
        reps = [reps]
    return [_int64_scalar(r, f"count {i}", where) for i, r in enumerate(reps)]


def tile(x, reps, ndim=None):
    """``x`` repeated ``reps[d]`` times along each dimension ``d``, as ``numpy.tile``.

    ``reps`` is a sequence of ints or integer scalars, or an integer vector.
    The shorter of ``x``'s shape and ``reps`` is padded with ones on the left;
    ``ndim`` (at least both lengths) sets the result's number of dimensions.

    >>> import numpy as np, theanolab.tensor as T
    >>> T.tile(np.array([1, 2]), (2, 2)).eval().tolist()
    [[1, 2, 1, 2], [1, 2, 1, 2]]
    """
    x = as_tensor_variable(x)
    counts = _reps(reps, ndim, "tile")
    if ndim is None:
        ndim = max(x.ndim, len(counts))
    elif ndim < max(x.ndim, len(counts)):
        raise ValueError(f"tile: ndim={ndim} is smaller than the {x.ndim} dimension(s) of {x} or the "
                         f"{len(counts)} count(s)")
    counts = [constant(1, dtype="int64")] * (ndim - len(counts)) + counts
    x = x.dimshuffle(["x"] * (ndim - x.ndim) + list(range(x.ndim)))
    lengths = [shape_i(x, d) for d in range(ndim)]
    # (counts..., lengths...), interleaved to (count0, length0, count1, ...), then merged in pairs.
    copies = alloc(x, *counts, *lengths)
    interleaved = copies.dimshuffle([d for pair in zip(range(ndim), range(ndim, 2 * ndim)) for d in pair])
    return reshape(interleaved, [_times(c, n) for c, n in zip(counts, lengths)], ndim=ndim)


def roll(x, shift, axis=None):
    """``x`` shifted by ``shift`` positions along ``axis``, wrapping around, as ``numpy.roll``.

    ``axis=None`` rolls the flattened tensor and restores the shape.  Built
    as the join of two slices, so ``shift`` may be symbolic.

    >>> import numpy as np, theanolab.tensor as T
    >>> T.roll(np.arange(5), 2).eval().tolist()
    [3, 4, 0, 1, 2]
    """
    x = as_tensor_variable(x)
    shift = as_tensor_variable(shift)
    if shift.ndim != 0 or shift.dtype not in INTEGER:
        raise TypeError(f"roll: the shift must be an integer scalar, got {shift} ({shift.type})")
    if axis is None:
        return roll(x.flatten(), shift, 0).reshape(x.shape, ndim=x.ndim)
    axis = _axis(axis, x.ndim, "roll")
    length = shape_i(x, axis)
    # max(length, 1): an empty axis has nothing to roll, and must not divide by zero.
    cut = length - cast(shift, "int64") % tm.maximum(length, 1)
    return join(axis, x[_along(axis, x.ndim, slice(cut, None))], x[_along(axis, x.ndim, slice(None, cut))])


# ------------------------------------------------------------------ dimensions


def squeeze(x):
    """``x`` without its broadcastable dimensions (those the type declares of length 1).

    Unlike ``numpy.squeeze``, a dimension of length 1 that the type does not
    declare broadcastable stays (the type cannot know its length).
    """
    x = as_tensor_variable(x)
    return x.dimshuffle([d for d in range(x.ndim) if not x.broadcastable[d]])


def transpose(x, axes=None):
    """``x`` with its dimensions reversed, or permuted by ``axes`` (a DimShuffle, as ``x.T``)."""
    x = as_tensor_variable(x)
    return x.transpose() if axes is None else x.transpose(tuple(axes))


def swapaxes(y, axis1, axis2):
    """``y`` with dimensions ``axis1`` and ``axis2`` exchanged (a DimShuffle)."""
    y = as_tensor_variable(y)
    axis1, axis2 = _axis(axis1, y.ndim, "swapaxes"), _axis(axis2, y.ndim, "swapaxes")
    order = list(range(y.ndim))
    order[axis1], order[axis2] = axis2, axis1
    return y.dimshuffle(order)


# ------------------------------------------------------------------ elementwise compositions


def power(x, y):
    """``x ** y`` elementwise (``numpy.power``)."""
    return tm.pow(x, y)


def _as_float(value):
    """Integers compared as float64, as NumPy's isclose does (their difference cannot wrap around)."""
    value = as_tensor_variable(value)
    return cast(value, "float64") if value.dtype in DISCRETE else value


def isclose(a, b, rtol=1.0e-5, atol=1.0e-8, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol * |b|`` as a bool tensor, as ``numpy.isclose``.

    Infinities are close only to the same infinity; NaN is close to nothing,
    or to NaN when ``equal_nan`` is true.

    >>> import numpy as np, theanolab.tensor as T
    >>> T.isclose(np.array([1.0, np.inf, np.nan]), np.array([1.0 + 1e-9, np.inf, np.nan])).eval().tolist()
    [True, True, False]
    """
    a, b = _as_float(a), _as_float(b)
    finite = tm.invert(tm.or_(tm.or_(tm.isnan(a), tm.isinf(a)), tm.or_(tm.isnan(b), tm.isinf(b))))
    # Zeros instead of the others, so that no inf - inf (a floating-point warning) is computed.
    a_finite, b_finite = tm.switch(finite, a, 0), tm.switch(finite, b, 0)
    within = tm.and_(tm.le(abs(a_finite - b_finite), atol + rtol * abs(b_finite)), finite)
    close = tm.or_(within, tm.eq(a, b))
    if equal_nan:
        close = tm.or_(close, tm.and_(tm.isnan(a), tm.isnan(b)))
    return close


def allclose(a, b, rtol=1.0e-5, atol=1.0e-8, equal_nan=False):
    """Whether every element of ``a`` is close to ``b`` (see :func:`isclose`): a bool scalar."""
    return reduce.all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def ptp(a, axis=None):
    """The range (max - min) of ``a`` along ``axis`` (``None``: all axes), as ``numpy.ptp``."""
    a = as_tensor_variable(a)
    return reduce.max(a, axis=axis) - reduce.min(a, axis=axis)
