"""Shapes as symbolic values: ``x.shape``, ``Shape_i``, ``reshape``, ``flatten``.

A shape is an int64 vector computed at run time (``Shape``); ``Shape_i(i)``
is the length of one dimension as an int64 scalar.  ``MakeVector`` builds a
vector from scalars, which is how ``x.reshape((n, -1))`` passes a shape that
mixes symbols and numbers.
"""

from __future__ import annotations

import numpy as np

from theanolab.graph.basic import Apply, Constant, Variable
from theanolab.graph.op import Op
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import as_tensor_variable, constant

__all__ = ["shape", "Shape", "Shape_i", "shape_i", "MakeVector", "make_vector", "Reshape", "reshape",
           "flatten", "vector_length", "shape_padleft", "shape_padright", "shape_padaxis", "specify_shape", "SpecifyShape"]

_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


class Shape(Op):
    """The shape of a tensor, as an int64 vector."""

    __props__ = ()

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", (False,))()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0].shape, dtype="int64")

    def infer_shape(self, node, input_shapes):
        return [(constant(node.inputs[0].ndim, dtype="int64"),)]

    def grad(self, inputs, output_grads):
        return [None]

    def R_op(self, inputs, eval_points):
        return [None]


_shape = Shape()


def shape(x):
    """``x.shape``: the int64 vector of its dimensions' lengths."""
    return _shape(x)


class Shape_i(Op):
    """The length of dimension ``i`` of a tensor, as an int64 scalar."""

    __props__ = ("i",)

    def __init__(self, i):
        self.i = int(i)

    def __str__(self):
        return f"Shape_i{{{self.i}}}"

    def make_node(self, x):
        x = as_tensor_variable(x)
        if not 0 <= self.i < x.ndim:
            raise ValueError(f"Shape_i{{{self.i}}}: {x} has only {x.ndim} dimension(s)")
        return Apply(self, [x], [TensorType("int64", ())()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs[0].shape[self.i], dtype="int64")

    def infer_shape(self, node, input_shapes):
        return [()]

    def grad(self, inputs, output_grads):
        return [None]

    def R_op(self, inputs, eval_points):
        return [None]


def shape_i(x, i):
    """Length of dimension ``i`` of ``x``: a constant when the type says it is 1."""
    x = as_tensor_variable(x)
    if x.broadcastable[i]:
        return constant(1, dtype="int64")
    return Shape_i(i)(x)


class MakeVector(Op):
    """A vector made of scalars: ``make_vector(n, 3)`` is ``[n, 3]``."""

    __props__ = ("dtype",)

    def __init__(self, dtype="int64"):
        self.dtype = str(np.dtype(dtype))

    def make_node(self, *inputs):
        inputs = [as_tensor_variable(i) for i in inputs]
        for i in inputs:
            if i.ndim != 0:
                raise TypeError(f"MakeVector takes scalars, got {i} with {i.ndim} dimensions")
            if not np.can_cast(i.dtype, self.dtype, "same_kind"):
                raise TypeError(f"MakeVector{{{self.dtype}}} cannot hold {i} of dtype {i.dtype}")
        from theanolab.tensor.basic import cast

        inputs = [cast(i, self.dtype) for i in inputs]
        pattern = (len(inputs) == 1,)
        return Apply(self, inputs, [TensorType(self.dtype, pattern)()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = np.asarray(inputs, dtype=self.dtype).reshape(len(inputs))

    def infer_shape(self, node, input_shapes):
        return [(constant(len(node.inputs), dtype="int64"),)]

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        if self.dtype not in ("float16", "float32", "float64", "complex64", "complex128"):
            return [None] * len(inputs)
        return [gz[i] for i in range(len(inputs))]

    def R_op(self, inputs, eval_points):
        if any(p is None for p in eval_points):
            return [None]
        return [self(*eval_points)]


def make_vector(*scalars, dtype="int64"):
    return MakeVector(dtype)(*scalars)


def _as_shape_vector(newshape):
    """A symbolic int64 vector from a tuple of ints/scalars or a vector variable."""
    if isinstance(newshape, Variable):
        newshape = as_tensor_variable(newshape)
        if newshape.ndim != 1:
            raise ValueError(f"a shape must be a vector, got {newshape} with {newshape.ndim} dimensions")
        if newshape.dtype not in _INT_DTYPES:
            raise TypeError(f"a shape must hold integers, got dtype {newshape.dtype}")
        return newshape
    if isinstance(newshape, (int, np.integer)):
        newshape = (newshape,)
    parts = list(newshape)
    if all(isinstance(p, (int, np.integer)) for p in parts):
        return constant(np.asarray(parts, dtype="int64").reshape(len(parts)))
    parts = [as_tensor_variable(p) for p in parts]
    for p in parts:
        if p.ndim != 0 or p.dtype not in _INT_DTYPES:
            raise TypeError(f"each entry of a shape must be an integer scalar, got {p} ({p.type})")
    return make_vector(*parts)


def _shape_entries(shape_vector, ndim):
    """Symbolic scalars for each entry of a shape vector (constants where known)."""
    if isinstance(shape_vector, Constant):
        return [constant(int(v), dtype="int64") for v in shape_vector.data]
    if shape_vector.owner is not None and isinstance(shape_vector.owner.op, MakeVector):
        return list(shape_vector.owner.inputs)
    return [shape_vector[i] for i in range(ndim)]


class Reshape(Op):
    """``x`` with the same elements in a new shape (a view when NumPy can make one).

    One entry of the shape may be -1: it is computed from the size of ``x``.
    """

    __props__ = ("ndim",)
    view_map = {0: [0]}

    def __init__(self, ndim):
        self.ndim = int(ndim)

    def __str__(self):
        return f"Reshape{{{self.ndim}}}"

    def make_node(self, x, newshape):
        x = as_tensor_variable(x)
        newshape = as_tensor_variable(newshape)
        if newshape.ndim != 1 or newshape.dtype not in _INT_DTYPES:
            raise TypeError(f"Reshape needs an integer vector shape, got {newshape} ({newshape.type})")
        pattern = [False] * self.ndim
        if isinstance(newshape, Constant):
            if len(newshape.data) != self.ndim:
                raise ValueError(f"Reshape{{{self.ndim}}}: the shape {newshape.data.tolist()} has "
                                 f"{len(newshape.data)} entries")
            pattern = [int(v) == 1 for v in newshape.data]
        elif newshape.owner is not None and isinstance(newshape.owner.op, MakeVector):
            pattern = [isinstance(p, Constant) and int(p.data) == 1 for p in newshape.owner.inputs]
        return Apply(self, [x, newshape], [TensorType(x.dtype, pattern)()])

    def perform(self, node, inputs, output_storage):
        x, newshape = inputs
        if len(newshape) != self.ndim:
            raise ValueError(f"Reshape{{{self.ndim}}}: got a shape with {len(newshape)} entries "
                             f"({newshape.tolist()})")
        try:
            output_storage[0][0] = np.reshape(x, tuple(int(v) for v in newshape))
        except ValueError as exc:
            raise ValueError(f"cannot reshape an array of shape {x.shape} (size {x.size}) into "
                             f"shape {tuple(newshape.tolist())}: {exc}") from None

    def infer_shape(self, node, input_shapes):
        from theanolab.tensor import math as tm

        x, newshape = node.inputs
        entries = _shape_entries(newshape, self.ndim)
        size = _product(input_shapes[0])
        # max(..., 1): an empty array has no -1 to resolve, and must not divide by zero.
        if any(isinstance(e, Constant) and int(e.data) == -1 for e in entries):
            known = [e for e in entries if not (isinstance(e, Constant) and int(e.data) == -1)]
            missing = size // tm.maximum(_product(known), 1)
            return [tuple(missing if e not in known else e for e in entries)]
        # A symbolic entry may still be -1 at run time: resolve it generally.
        others = -_product(entries)
        return [tuple(tm.switch(tm.eq(e, -1), size // tm.maximum(others, 1), e) for e in entries)]

    def grad(self, inputs, output_grads):
        x, _ = inputs
        return [reshape(output_grads[0], shape(x), ndim=x.ndim), None]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], inputs[1])]


def _product(values):
    total = constant(1, dtype="int64")
    for v in values:
        total = total * v
    return total


def vector_length(vector):
    """The length of a symbolic vector when the graph tells it, else None."""
    if isinstance(vector, Constant):
        return len(vector.data)
    if vector.broadcastable[0]:
        return 1
    owner = vector.owner
    if owner is not None and isinstance(owner.op, MakeVector):
        return len(owner.inputs)
    if owner is not None and isinstance(owner.op, Shape):
        return owner.inputs[0].ndim
    return None


def reshape(x, newshape, ndim=None):
    """``x`` reshaped; ``newshape`` is a tuple of ints/scalars or an int vector."""
    x = as_tensor_variable(x)
    vector = _as_shape_vector(newshape)
    if ndim is None:
        ndim = vector_length(vector)
        if ndim is None:
            raise ValueError(f"reshape: the length of the new shape {vector} is not known; pass ndim=")
    return Reshape(ndim)(x, vector)


def flatten(x, ndim=1):
    """Keep the first ``ndim - 1`` dimensions and merge the rest into the last one."""
    x = as_tensor_variable(x)
    if not 1 <= ndim <= max(x.ndim, 1):
        raise ValueError(f"flatten: ndim must be between 1 and {max(x.ndim, 1)}, got {ndim}")
    kept = [shape_i(x, d) for d in range(ndim - 1)]
    return reshape(x, kept + [constant(-1, dtype="int64")] if kept else (-1,), ndim=ndim)


def shape_padleft(x, n_ones=1):
    """``x`` with ``n_ones`` broadcastable dimensions added on the left."""
    x = as_tensor_variable(x)
    return x.dimshuffle(["x"] * n_ones + list(range(x.ndim)))


def shape_padright(x, n_ones=1):
    """``x`` with ``n_ones`` broadcastable dimensions added on the right."""
    x = as_tensor_variable(x)
    return x.dimshuffle(list(range(x.ndim)) + ["x"] * n_ones)


def shape_padaxis(x, axis):
    """``x`` with a broadcastable dimension inserted at ``axis`` (negative counts from the end)."""
    x = as_tensor_variable(x)
    if axis < 0:
        axis += x.ndim + 1
    if not 0 <= axis <= x.ndim:
        raise IndexError(f"shape_padaxis: axis {axis} out of range for {x.ndim} dimensions")
    order = list(range(x.ndim))
    order.insert(axis, "x")
    return x.dimshuffle(order)


class SpecifyShape(Op):
    """``x``, checked at run time to have the given shape (which shape inference can then use)."""

    __props__ = ()
    view_map = {0: [0]}

    def make_node(self, x, target):
        x = as_tensor_variable(x)
        target = _as_shape_vector(target)
        return Apply(self, [x, target], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, target = inputs
        if x.shape != tuple(target.tolist()):
            raise ValueError(f"specify_shape: expected shape {tuple(target.tolist())}, got {x.shape}")
        output_storage[0][0] = x

    def infer_shape(self, node, input_shapes):
        return [tuple(_shape_entries(node.inputs[1], node.inputs[0].ndim))]

    def grad(self, inputs, output_grads):
        return [output_grads[0], None]


def specify_shape(x, target):
    return SpecifyShape()(x, target)
