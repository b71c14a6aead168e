"""Tensor variables: Python operators, methods like ``.sum()``, and constants.

Python numbers become constants of the smallest dtype that holds them
exactly, as in Theano: ``2`` is int8, ``1.0`` and ``0.5`` are float32, ``0.1``
is float64.  So ``dscalar * 2`` stays float64 and ``fscalar * 0.5`` stays
float32.  ``==`` keeps Python's meaning (identity; variables are dict keys):
use ``T.eq`` for elementwise equality.
"""

from __future__ import annotations

import numbers

import numpy as np

from theanolab.config import config
from theanolab.graph.basic import Apply, Constant, Variable
from theanolab.tensor.type import TensorType


def _math():
    from theanolab.tensor import math

    return math


def _module(name):
    import importlib

    return importlib.import_module(f"theanolab.tensor.{name}")


class TensorOperators:
    """Operators and methods shared by tensor variables, constants and shared variables."""

    # Makes ``ndarray + variable`` call our reflected operator, not build an object array.
    __array_priority__ = 1000

    # Python operators ---------------------------------------------------------
    def __add__(self, other):
        return _binary("add", self, other)

    def __radd__(self, other):
        return _binary("add", other, self)

    def __sub__(self, other):
        return _binary("sub", self, other)

    def __rsub__(self, other):
        return _binary("sub", other, self)

    def __mul__(self, other):
        return _binary("mul", self, other)

    def __rmul__(self, other):
        return _binary("mul", other, self)

    def __truediv__(self, other):
        return _binary("true_div", self, other)

    def __rtruediv__(self, other):
        return _binary("true_div", other, self)

    def __floordiv__(self, other):
        return _binary("int_div", self, other)

    def __rfloordiv__(self, other):
        return _binary("int_div", other, self)

    def __mod__(self, other):
        return _binary("mod", self, other)

    def __rmod__(self, other):
        return _binary("mod", other, self)

    def __pow__(self, other):
        return _binary("pow", self, other)

    def __rpow__(self, other):
        return _binary("pow", other, self)

    def __and__(self, other):
        return _binary("and_", self, other)

    def __rand__(self, other):
        return _binary("and_", other, self)

    def __or__(self, other):
        return _binary("or_", self, other)

    def __ror__(self, other):
        return _binary("or_", other, self)

    def __xor__(self, other):
        return _binary("xor", self, other)

    def __rxor__(self, other):
        return _binary("xor", other, self)

    def __matmul__(self, other):
        return _module("blas").dot(self, other)

    def __rmatmul__(self, other):
        return _module("blas").dot(other, self)

    def __lt__(self, other):
        return _binary("lt", self, other)

    def __le__(self, other):
        return _binary("le", self, other)

    def __gt__(self, other):
        return _binary("gt", self, other)

    def __ge__(self, other):
        return _binary("ge", self, other)

    def __neg__(self):
        return _math().neg(self)

    def __abs__(self):
        return _math().abs_(self)

    def __invert__(self):
        return _math().invert(self)

    def __pos__(self):
        return self

    def __bool__(self):
        raise TypeError(
            f"a symbolic variable ({self}) has no truth value: use T.switch for a condition "
            "inside a graph, or compare values after calling the compiled function"
        )

    def __iter__(self):
        """Iterate over a vector whose length the graph knows (``T.alloc(0., *x.shape)``)."""
        length = _module("shape").vector_length(self) if self.ndim == 1 else None
        if length is None:
            raise TypeError(
                f"cannot iterate over the symbolic variable {self}: its length is only known at run "
                "time; index it (x[i]) or use scan"
            )
        return (self[i] for i in range(length))

    def __len__(self):
        raise TypeError(f"len() of the symbolic variable {self} is unknown; use {self}.shape[0]")

    # Attributes ---------------------------------------------------------------
    @property
    def ndim(self):
        return self.type.ndim

    @property
    def dtype(self):
        return self.type.dtype

    @property
    def broadcastable(self):
        return self.type.broadcastable

    @property
    def shape(self):
        return _module("shape").shape(self)

    @property
    def size(self):
        return _module("reduce").prod(self.shape)

    @property
    def T(self):
        return self.transpose()

    # Shape manipulation -------------------------------------------------------
    def dimshuffle(self, *pattern):
        """Reorder, add (``'x'``) or drop (broadcastable) dimensions: ``x.dimshuffle(1, 'x', 0)``."""
        from theanolab.tensor.elemwise import DimShuffle

        if len(pattern) == 1 and isinstance(pattern[0], (list, tuple)):
            pattern = pattern[0]
        return DimShuffle(self.broadcastable, pattern)(self)

    def transpose(self, *axes):
        if not axes:
            axes = tuple(range(self.ndim))[::-1]
        elif len(axes) == 1 and isinstance(axes[0], (list, tuple)):
            axes = tuple(axes[0])
        return self.dimshuffle(axes)

    def reshape(self, shape, *rest, ndim=None):
        if rest:
            shape = (shape,) + rest
        return _module("shape").reshape(self, shape, ndim=ndim)

    def flatten(self, ndim=1, outdim=None):
        return _module("shape").flatten(self, outdim or ndim)

    def ravel(self):
        return _module("shape").flatten(self)

    def squeeze(self):
        return _module("extra_ops").squeeze(self)

    def swapaxes(self, axis1, axis2):
        return _module("extra_ops").swapaxes(self, axis1, axis2)

    def repeat(self, repeats, axis=None):
        return _module("extra_ops").repeat(self, repeats, axis=axis)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return _module("diagonals").diagonal(self, offset, axis1, axis2)

    def trace(self):
        return _module("diagonals").trace(self)

    def sort(self, axis=-1, kind="quicksort", order=None):
        return _module("sort").sort(self, axis=axis, kind=kind, order=order)

    def argsort(self, axis=-1, kind="quicksort", order=None):
        return _module("sort").argsort(self, axis=axis, kind=kind, order=order)

    def cumsum(self, axis=None):
        return _module("extra_ops").cumsum(self, axis=axis)

    def cumprod(self, axis=None):
        return _module("extra_ops").cumprod(self, axis=axis)

    def astype(self, dtype):
        return _module("basic").cast(self, dtype)

    def copy(self, name=None):
        result = _math().tensor_copy(self)
        result.name = name
        return result

    def clip(self, a_min, a_max):
        return _math().clip(self, a_min, a_max)

    def round(self, mode=None):
        return _math().round(self, mode) if mode else _math().round(self)

    # Reductions ---------------------------------------------------------------
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _module("reduce").sum(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def prod(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _module("reduce").prod(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def mean(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _module("reduce").mean(self, axis=axis, dtype=dtype, keepdims=keepdims, acc_dtype=acc_dtype)

    def var(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _module("reduce").var(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def std(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _module("reduce").std(self, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected)

    def max(self, axis=None, keepdims=False):
        return _module("reduce").max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _module("reduce").min(self, axis=axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _module("reduce").argmax(self, axis=axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _module("reduce").argmin(self, axis=axis, keepdims=keepdims)

    def ptp(self, axis=None):
        return _module("extra_ops").ptp(self, axis=axis)

    def any(self, axis=None, keepdims=False):
        return _module("reduce").any(self, axis=axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return _module("reduce").all(self, axis=axis, keepdims=keepdims)

    def norm(self, L, axis=None):
        if L == 1:
            return abs(self).sum(axis=axis)
        if L == 2:
            return _math().sqrt((self**2).sum(axis=axis))
        return (abs(self) ** L).sum(axis=axis) ** (1.0 / L)

    def dot(self, other):
        return _module("blas").dot(self, other)

    # Indexing -----------------------------------------------------------------
    def __getitem__(self, index):
        return _module("subtensor").getitem(self, index)


def _binary(name, left, right):
    """Apply a binary elementwise op, or NotImplemented if an operand cannot be a tensor."""
    try:
        left, right = as_tensor_variable(left), as_tensor_variable(right)
    except TypeError:
        return NotImplemented
    return getattr(_math(), name)(left, right)


class TensorVariable(TensorOperators, Variable):
    """A symbolic array: what ``T.matrix()`` and every tensor op return."""

    __hash__ = Variable.__hash__


class TensorConstant(TensorOperators, Constant):
    """An array known when the graph is built (``TensorConstant{2}``)."""

    __hash__ = Constant.__hash__


TensorType.variable_type = TensorVariable
TensorType.constant_type = TensorConstant


def autocast_python_number(value):
    """Theano's dtype for a Python number: the smallest that holds it exactly."""
    if isinstance(value, bool):
        return np.asarray(value, dtype="bool")
    if isinstance(value, numbers.Integral):
        for dtype in ("int8", "int16", "int32", "int64"):
            if np.iinfo(dtype).min <= value <= np.iinfo(dtype).max:
                return np.asarray(value, dtype=dtype)
        return np.asarray(value, dtype="uint64")
    if isinstance(value, numbers.Real):
        if config.floatX != "float64":
            return np.asarray(value, dtype=config.floatX)
        with np.errstate(over="ignore"):
            as_float32 = np.asarray(value, dtype="float32")
        # float(): NumPy 2 would compare a float32 with a Python float in float32 (0.1 == 0.1f).
        if float(as_float32) == value or np.isnan(value):
            return as_float32
        return np.asarray(value, dtype="float64")
    if isinstance(value, numbers.Complex):
        return np.asarray(value, dtype="complex128")
    raise TypeError(f"{value!r} is not a number")


def constant(value, name=None, ndim=None, dtype=None):
    """A TensorConstant; dimensions of length 1 are broadcastable."""
    # NumPy scalars keep their dtype (np.float64 is a Python float too, but Theano keeps it float64).
    if isinstance(value, numbers.Number) and not isinstance(value, np.generic) and dtype is None:
        data = autocast_python_number(value)
    else:
        try:
            data = np.asarray(value, dtype=dtype)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"cannot make a tensor constant of {value!r}: {exc}") from None
        if data.dtype == object or data.dtype.kind in "USV":
            raise TypeError(f"cannot make a tensor constant of {value!r} (dtype {data.dtype})")
    if ndim is not None:
        if data.ndim > ndim:
            raise ValueError(f"constant {value!r} has {data.ndim} dimensions, more than ndim={ndim}")
        data = data.reshape((1,) * (ndim - data.ndim) + data.shape)
    broadcastable = tuple(length == 1 for length in data.shape)
    return TensorConstant(TensorType(data.dtype, broadcastable), data, name=name)


def as_tensor_variable(value, name=None, ndim=None):
    """Turn a variable, an Apply node, a number, a list or an array into a tensor variable."""
    if isinstance(value, Apply):
        value = value.out
    if isinstance(value, Variable):
        if not isinstance(value.type, TensorType):
            converter = getattr(value.type, "as_tensor", None)
            if converter is None:
                raise TypeError(f"{value} of type {value.type} cannot be used as a tensor")
            value = converter(value)
        if ndim is not None and value.ndim != ndim:
            if value.ndim < ndim:
                value = value.dimshuffle(["x"] * (ndim - value.ndim) + list(range(value.ndim)))
            else:
                raise ValueError(f"{value} has {value.ndim} dimensions, expected {ndim}")
        return value
    if isinstance(value, (list, tuple)) and any(isinstance(v, Variable) for v in value):
        return _module("basic").stack([as_tensor_variable(v) for v in value])
    return constant(value, name=name, ndim=ndim)
