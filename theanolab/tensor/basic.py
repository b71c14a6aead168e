"""Tensor creation and joining: cast, zeros/ones, alloc, arange, eye, join, split, stack.

``alloc(value, *shape)`` broadcasts a value to a shape known only at run
time; ``zeros`` and ``ones`` are allocs of a constant.  ``join`` (also
``concatenate``) glues tensors along an axis, ``split`` cuts one apart, and
each is the other's gradient.  ``stack`` of scalars is a ``MakeVector``; of
tensors, a join of copies with a new axis, as in Theano.

>>> import theanolab.tensor as T
>>> T.zeros((2, 3)).owner.op, T.arange(10).dtype
(Alloc, 'int64')
>>> T.concatenate([T.dmatrix(), T.dmatrix()], axis=1).owner.op
Join
"""

from __future__ import annotations

import numbers

import numpy as np

from theanolab import scalar as ts
from theanolab.config import config
from theanolab.graph.basic import Apply, Constant, Variable
from theanolab.graph.op import Op
from theanolab.scalar.basic import CONTINUOUS, DISCRETE, INTEGER, upcast
from theanolab.tensor import math as tm
from theanolab.tensor.elemwise import Elemwise
from theanolab.tensor.shape import MakeVector, Shape, make_vector, shape_i, shape_padaxis, vector_length
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable, constant

__all__ = ["cast", "ones_like", "zeros_like", "Alloc", "alloc", "zeros", "ones", "ARange", "arange",
           "NumpyMatrixOp", "Eye", "eye", "identity_like", "Join", "join", "concatenate", "Split", "split", "stack"]

_casts = {}


def cast(x, dtype):
    """``x`` converted to ``dtype`` (``'floatX'`` means config.floatX); a no-op if it already is."""
    x = as_tensor_variable(x)
    dtype = config.floatX if dtype == "floatX" else str(np.dtype(dtype))
    if x.dtype == dtype:
        return x
    if dtype not in _casts:
        _casts[dtype] = Elemwise(ts.Cast(dtype))
    return _casts[dtype](x)


def ones_like(model, dtype=None):
    """Ones of the shape of ``model`` (``fill(model, 1)``)."""
    model = as_tensor_variable(model)
    return tm.fill(model, constant(1.0 if dtype is None else 1, dtype=dtype or model.dtype))


def zeros_like(model, dtype=None):
    """Zeros of the shape of ``model`` (``fill(model, 0)``)."""
    model = as_tensor_variable(model)
    return tm.fill(model, constant(0.0 if dtype is None else 0, dtype=dtype or model.dtype))


def zeros_like_float(model):
    """Float zeros shaped like ``model``: the gradient of a discrete variable."""
    model = as_tensor_variable(model)
    return zeros_like(model, dtype=model.dtype if model.dtype in CONTINUOUS else config.floatX)


def unbroadcast_sum(grad, target):
    """``grad`` summed down to the type of ``target``: what broadcasting ``target`` spread out.

    The gradient of an op that broadcasts ``target`` (alloc, an increment by a
    smaller value) has extra leading dimensions and full-length dimensions
    where ``target`` is broadcastable; both are sums.
    """
    leading = grad.ndim - target.ndim
    if leading:
        grad = grad.sum(axis=tuple(range(leading)))
    spread = [d for d in range(target.ndim) if target.broadcastable[d] and not grad.broadcastable[d]]
    if spread:
        grad = grad.sum(axis=spread, keepdims=True)
    return grad


def _integer_scalar(value, role, where):
    """``value`` as an integer scalar tensor, or a TypeError saying which argument is wrong."""
    value = as_tensor_variable(value)
    if value.ndim != 0 or value.dtype not in INTEGER:
        raise TypeError(f"{where}: {role} must be an integer scalar, got {value} ({value.type})")
    return value


def _shape_scalars(shape, where):
    """A shape given as an int, a sequence of ints/scalars, or a symbolic vector, as scalars."""
    if isinstance(shape, Variable) and as_tensor_variable(shape).ndim == 1:
        shape = as_tensor_variable(shape)
        length = vector_length(shape)
        if length is None:
            raise ValueError(f"{where}: the length of the shape vector {shape} is not known when the graph "
                             "is built; pass a tuple of scalars")
        if shape.owner is not None and isinstance(shape.owner.op, MakeVector):
            return list(shape.owner.inputs)
        if shape.owner is not None and isinstance(shape.owner.op, Shape):
            return [shape_i(shape.owner.inputs[0], d) for d in range(length)]
        return [shape[d] for d in range(length)]
    if isinstance(shape, np.ndarray):
        shape = shape.tolist()
    return list(shape) if isinstance(shape, (list, tuple)) else [shape]


# ------------------------------------------------------------------ alloc, zeros, ones


class Alloc(Op):
    """``value`` broadcast to a shape given by integer scalars: ``alloc(0.0, n, 3)``.

    The value fills the trailing dimensions, as in NumPy broadcasting; a
    dimension whose length is the constant 1 is broadcastable.
    """

    __props__ = ()

    def make_node(self, value, *shape):
        value = as_tensor_variable(value)
        shape = [_integer_scalar(s, f"shape argument {i}", "Alloc") for i, s in enumerate(shape)]
        if value.ndim > len(shape):
            raise TypeError(f"Alloc: the value {value} has {value.ndim} dimensions, more than the "
                            f"{len(shape)} of the shape")
        for i, s in enumerate(shape):
            if isinstance(s, Constant) and int(s.data) < 0:
                raise ValueError(f"Alloc: shape argument {i} is negative ({int(s.data)})")
        pattern = [isinstance(s, Constant) and int(s.data) == 1 for s in shape]
        return Apply(self, [value, *shape], [TensorType(value.dtype, pattern)()])

    def perform(self, node, inputs, output_storage):
        value, *shape = inputs
        shape = tuple(int(s) for s in shape)
        out = np.empty(shape, dtype=node.outputs[0].dtype)
        try:
            out[...] = value
        except ValueError:
            raise ValueError(f"Alloc: cannot broadcast a value of shape {np.shape(value)} to shape "
                             f"{shape}") from None
        output_storage[0][0] = out

    def infer_shape(self, node, input_shapes):
        return [tuple(cast(s, "int64") for s in node.inputs[1:])]

    def grad(self, inputs, output_grads):
        value, *shape = inputs
        if value.dtype in DISCRETE:
            return [zeros_like_float(value)] + [None] * len(shape)
        return [unbroadcast_sum(output_grads[0], value)] + [None] * len(shape)

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]


alloc_ = Alloc()


def alloc(value, *shape):
    """``value`` broadcast to ``shape`` (integer scalars, symbolic or not).

    >>> import theanolab.tensor as T
    >>> n = T.iscalar('n')
    >>> T.alloc(0.5, n, 3).eval({n: 2}).tolist()
    [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
    """
    return alloc_(value, *shape)


def _filled(fill_value, shape, dtype):
    dtype = config.floatX if dtype is None else str(np.dtype(dtype))
    return alloc(constant(np.asarray(fill_value, dtype=dtype)), *_shape_scalars(shape, "zeros/ones"))


def zeros(shape, dtype=None):
    """Zeros of ``shape`` (an int, a tuple of ints/scalars or a vector such as ``x.shape``)."""
    return _filled(0, shape, dtype)


def ones(shape, dtype=None):
    """Ones of ``shape`` (an int, a tuple of ints/scalars or a vector such as ``x.shape``)."""
    return _filled(1, shape, dtype)


# ------------------------------------------------------------------ arange, eye


class ARange(Op):
    """``numpy.arange(start, stop, step)`` on scalars, with a fixed output dtype."""

    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = str(np.dtype(dtype))

    def make_node(self, start, stop, step):
        inputs = [as_tensor_variable(v) for v in (start, stop, step)]
        for role, v in zip(("start", "stop", "step"), inputs):
            if v.ndim != 0 or v.dtype.startswith("complex"):
                raise TypeError(f"arange: {role} must be a real scalar, got {v} ({v.type})")
        return Apply(self, inputs, [TensorType(self.dtype, (False,))()])

    def perform(self, node, inputs, output_storage):
        start, stop, step = inputs
        if step == 0:
            raise ValueError("arange: step cannot be zero")
        output_storage[0][0] = np.arange(start, stop, step, dtype=self.dtype)

    def infer_shape(self, node, input_shapes):
        start, stop, step = node.inputs
        if all(v.dtype in DISCRETE for v in node.inputs):
            start, stop, step = (cast(v, "int64") for v in node.inputs)
            length = -((start - stop) // step)
        else:
            start, stop, step = (cast(v, "float64") for v in node.inputs)
            length = cast(tm.ceil((stop - start) / step), "int64")
        return [(tm.maximum(length, 0),)]

    def L_op(self, inputs, outputs, output_grads):
        start, _, step = inputs
        if self.dtype in DISCRETE:
            return [zeros_like_float(start), None, zeros_like_float(step)]
        (gz,) = output_grads
        positions = arange(outputs[0].shape[0], dtype=self.dtype)
        d_start = zeros_like_float(start) if start.dtype in DISCRETE else gz.sum()
        d_step = zeros_like_float(step) if step.dtype in DISCRETE else (gz * positions).sum()
        return [d_start, None, d_step]


def _arange_dtype(start, stop, step):
    """Theano's rule: the inputs' common dtype, with every integer result widened to int64."""
    dtype = upcast(start.dtype, stop.dtype, step.dtype)
    return "int64" if dtype in DISCRETE else dtype


def arange(start, stop=None, step=1, dtype=None):
    """``numpy.arange`` with symbolic bounds: ``arange(n)``, ``arange(a, b, 2)``.

    >>> import theanolab.tensor as T
    >>> T.arange(T.iscalar()).dtype, T.arange(0, 10, 0.5).dtype
    ('int64', 'float32')
    """
    if stop is None:
        start, stop = 0, start
    start, stop, step = (as_tensor_variable(v) for v in (start, stop, step))
    dtype = _arange_dtype(start, stop, step) if dtype is None else dtype
    return ARange(dtype)(start, stop, step)


class NumpyMatrixOp(Op):
    """An ``n`` x ``m`` matrix that a NumPy function makes from ``(n, m, k)``: the base of ``Eye`` and ``Tri``.

    Subclasses name the function (``numpy_function``), the arguments' names in
    errors (``argument_names``) and, where it is more than "never", the
    broadcastable pattern of the result (``output_pattern``).
    """

    __props__ = ("dtype",)
    numpy_function = None
    argument_names = ("n", "m", "k")

    def __init__(self, dtype=None):
        self.dtype = str(np.dtype(dtype or config.floatX))

    def output_pattern(self, inputs):
        return (False, False)

    def make_node(self, n, m, k):
        where = type(self).__name__.lower()
        inputs = [_integer_scalar(v, role, where) for v, role in zip((n, m, k), self.argument_names)]
        return Apply(self, inputs, [TensorType(self.dtype, self.output_pattern(inputs))()])

    def perform(self, node, inputs, output_storage):
        n, m, k = (int(v) for v in inputs)
        output_storage[0][0] = self.numpy_function(n, m, k, dtype=self.dtype)

    def infer_shape(self, node, input_shapes):
        return [(cast(node.inputs[0], "int64"), cast(node.inputs[1], "int64"))]

    def grad(self, inputs, output_grads):
        return [None, None, None]


class Eye(NumpyMatrixOp):
    """An ``n`` x ``m`` matrix with ones on diagonal ``k`` (``numpy.eye``)."""

    numpy_function = staticmethod(np.eye)


def eye(n, m=None, k=0, dtype=None):
    """The identity-like matrix of ``numpy.eye``; ``dtype`` defaults to floatX."""
    return Eye(dtype)(n, n if m is None else m, k)


def identity_like(x):
    """The identity matrix of the shape and dtype of the matrix ``x``."""
    x = as_tensor_variable(x)
    return eye(x.shape[0], x.shape[1], 0, dtype=x.dtype)


# ------------------------------------------------------------------ join, split, stack


def _axis_input(axis, ndim, where):
    """The axis as an integer scalar tensor, and its non-negative value when it is a constant."""
    axis = _integer_scalar(axis, "axis", where)
    if not isinstance(axis, Constant):
        return axis, None
    value = int(axis.data)
    if not -ndim <= value < ndim:
        raise ValueError(f"{where}: axis {value} is out of range for tensors of {ndim} dimension(s)")
    return axis, value % ndim


def _axis_entries(axis, known_axis, ndim, on_axis, elsewhere):
    """Per dimension: ``on_axis`` for the joined axis, ``elsewhere[d]`` for the others."""
    if known_axis is not None:
        return tuple(on_axis if d == known_axis else elsewhere[d] for d in range(ndim))
    return tuple(tm.switch(tm.or_(tm.eq(axis, d), tm.eq(axis, d - ndim)), on_axis, elsewhere[d])
                 for d in range(ndim))


class Join(Op):
    """Tensors of equal rank glued along ``axis`` (``numpy.concatenate``).

    Inputs: the axis (an integer scalar, possibly symbolic), then the tensors.
    """

    __props__ = ()

    def make_node(self, axis, *tensors):
        if not tensors:
            raise ValueError("Join needs at least one tensor to join")
        tensors = [as_tensor_variable(t) for t in tensors]
        ndim = tensors[0].ndim
        if ndim == 0:
            raise TypeError("Join cannot join scalars (0-dimensional tensors); use stack to make a vector")
        for i, t in enumerate(tensors):
            if t.ndim != ndim:
                raise TypeError(f"Join can only join tensors with the same number of dimensions: input "
                                f"{i} ({t}) has {t.ndim}, input 0 has {ndim}")
        axis, known = _axis_input(axis, ndim, "Join")
        if known is None:
            pattern = (False,) * ndim
        else:
            joined = len(tensors) == 1 and tensors[0].broadcastable[known]
            others = [any(t.broadcastable[d] for t in tensors) for d in range(ndim)]
            pattern = _axis_entries(axis, known, ndim, joined, others)
        dtype = upcast(*(t.dtype for t in tensors))
        return Apply(self, [axis, *tensors], [TensorType(dtype, pattern)()])

    def perform(self, node, inputs, output_storage):
        axis, *tensors = inputs
        joined = np.concatenate(tensors, axis=int(axis))
        output_storage[0][0] = joined.astype(node.outputs[0].dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        axis = node.inputs[0]
        ndim = node.outputs[0].ndim
        shapes = input_shapes[1:]
        known = int(axis.data) % ndim if isinstance(axis, Constant) else None
        if known is None:
            total = _sum(_along(axis, shape) for shape in shapes)
        else:
            total = _sum(shape[known] for shape in shapes)
        return [_axis_entries(axis, known, ndim, total, shapes[0])]

    def L_op(self, inputs, outputs, output_grads):
        axis, *tensors = inputs
        lengths = [_length_along(t, axis) for t in tensors]
        pieces = Split(len(tensors))(output_grads[0], axis, stack(lengths))
        pieces = pieces if isinstance(pieces, list) else [pieces]
        grads = [zeros_like_float(t) if t.dtype in DISCRETE else g for t, g in zip(tensors, pieces)]
        return [None] + grads

    def R_op(self, inputs, eval_points):
        axis, *tensors = inputs
        if all(p is None for p in eval_points[1:]):
            return [None]
        points = [zeros_like(t) if p is None else p for t, p in zip(tensors, eval_points[1:])]
        return [self(axis, *points)]


def _sum(values):
    values = list(values)
    total = values[0]
    for value in values[1:]:
        total = total + value
    return total


def _along(axis, shape):
    """The entry of a symbolic shape at a symbolic axis (which may be negative)."""
    return make_vector(*(cast(s, "int64") for s in shape))[axis]


def _length_along(x, axis):
    if isinstance(axis, Constant):
        return shape_i(x, int(axis.data) % x.ndim)
    return x.shape[axis]


class Split(Op):
    """``x`` cut along ``axis`` into ``len_splits`` pieces of the given lengths (Join's inverse)."""

    __props__ = ("len_splits",)

    def __init__(self, len_splits):
        self.len_splits = int(len_splits)
        self.view_map = {k: [0] for k in range(self.len_splits)}  # np.split returns views of x

    def __str__(self):
        return f"Split{{{self.len_splits}}}"

    def make_node(self, x, axis, splits):
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise TypeError(f"Split cannot cut the scalar {x}")
        axis, known = _axis_input(axis, x.ndim, "Split")
        splits = as_tensor_variable(splits)
        if splits.ndim != 1 or splits.dtype not in INTEGER:
            raise TypeError(f"Split: the lengths must be an integer vector, got {splits} ({splits.type})")
        if isinstance(splits, Constant) and len(splits.data) != self.len_splits:
            raise ValueError(f"Split{{{self.len_splits}}}: got {len(splits.data)} lengths")
        pattern = (False,) * x.ndim if known is None else _axis_entries(axis, known, x.ndim, False, x.broadcastable)
        outputs = [TensorType(x.dtype, pattern)() for _ in range(self.len_splits)]
        return Apply(self, [x, axis, splits], outputs)

    def perform(self, node, inputs, output_storage):
        x, axis, splits = inputs
        axis = int(axis)
        if len(splits) != self.len_splits:
            raise ValueError(f"Split{{{self.len_splits}}}: got {len(splits)} lengths ({splits.tolist()})")
        if np.any(splits < 0) or splits.sum() != x.shape[axis]:
            raise ValueError(f"Split: the lengths {splits.tolist()} do not cut axis {axis} of length "
                             f"{x.shape[axis]}")
        for storage, piece in zip(output_storage, np.split(x, np.cumsum(splits)[:-1], axis=axis)):
            storage[0] = piece

    def infer_shape(self, node, input_shapes):
        x, axis, splits = node.inputs
        known = int(axis.data) % x.ndim if isinstance(axis, Constant) else None
        return [_axis_entries(axis, known, x.ndim, cast(splits[i], "int64"), input_shapes[0])
                for i in range(self.len_splits)]

    def L_op(self, inputs, outputs, output_grads):
        x, axis, _ = inputs
        if x.dtype in DISCRETE:
            return [zeros_like_float(x), None, None]
        return [join(axis, *output_grads), None, None]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None] * self.len_splits
        result = self(eval_points[0], *inputs[1:])
        return result if isinstance(result, list) else [result]


def split(x, splits_size, n_splits, axis=0):
    """``x`` cut along ``axis`` into ``n_splits`` pieces of lengths ``splits_size``."""
    result = Split(n_splits)(x, axis, splits_size)
    return result if isinstance(result, list) else [result]


def join(axis, *tensors_list):
    """``tensors_list`` glued along ``axis``; a single tensor is returned as it is.

    >>> import theanolab.tensor as T
    >>> T.join(0, T.dvector(), T.dvector()).type
    TensorType(float64, vector)
    """
    if len(tensors_list) == 1:
        return as_tensor_variable(tensors_list[0])
    return Join()(axis, *tensors_list)


def concatenate(tensor_list, axis=0):
    """``numpy.concatenate`` for tensors: ``concatenate([x, y], axis=1)``."""
    if not isinstance(tensor_list, (list, tuple)):
        raise TypeError(f"concatenate takes a list or tuple of tensors, got {tensor_list!r}; "
                        "did you mean join(axis, *tensors)?")
    return join(axis, *tensor_list)


def _stack_arguments(args, kwargs):
    """``(tensors, axis)`` from ``stack(tensors, axis=0)`` or Theano's older ``stack(*tensors)``."""
    unknown = set(kwargs) - {"tensors", "axis"}
    if unknown:
        raise TypeError(f"stack got unexpected keyword argument(s) {sorted(unknown)}")
    if "tensors" in kwargs:
        if args:
            raise TypeError("stack got tensors both by position and by keyword")
        return list(kwargs["tensors"]), kwargs.get("axis", 0)
    if args and isinstance(args[0], (list, tuple)):
        if len(args) > 2 or (len(args) == 2 and "axis" in kwargs):
            raise TypeError("stack takes (tensors, axis=0)")
        return list(args[0]), args[1] if len(args) == 2 else kwargs.get("axis", 0)
    return list(args), kwargs.get("axis", 0)


def _is_scalar(value):
    if isinstance(value, Variable):
        return isinstance(value.type, TensorType) and value.ndim == 0
    return isinstance(value, (numbers.Number, np.number))


def stack(*args, **kwargs):
    """Tensors of equal shape stacked along a new ``axis``: ``stack([x, y], axis=0)``.

    Scalars (and Python numbers) make a vector with ``MakeVector``; the older
    form ``stack(x, y, z)`` is accepted too.

    >>> import theanolab.tensor as T
    >>> T.stack([T.dvector(), T.dvector()]).type
    TensorType(float64, matrix)
    """
    tensors, axis = _stack_arguments(args, kwargs)
    if not tensors:
        raise ValueError("stack needs at least one tensor")
    if all(_is_scalar(t) for t in tensors):
        tensors = [as_tensor_variable(t) for t in tensors]
        return make_vector(*tensors, dtype=upcast(*(t.dtype for t in tensors)))
    tensors = [as_tensor_variable(t) for t in tensors]
    return join(axis, *(shape_padaxis(t, axis) for t in tensors))
