"""TensorType: an n-dimensional array type, and the variable constructors.

A tensor type is a dtype plus a *broadcastable pattern*: one boolean per
dimension saying whether that dimension is known to have length 1 (and so may
be stretched by broadcasting).  ``T.row`` is ``(True, False)``; ``T.matrix``
is ``(False, False)``.  The number of dimensions is ``len(broadcastable)``.

>>> import theanolab.tensor as T
>>> T.TensorType('float32', (False, False, False))('x').type
TensorType(float32, 3D)
>>> T.dscalars('x', 'y')
(x, y)
"""

from __future__ import annotations

import numpy as np

from theanolab.config import config
from theanolab.graph.type import Type
from theanolab.scalar.basic import ALL_DTYPES


class TensorType(Type):
    """Arrays of ``dtype`` with ``len(broadcastable)`` dimensions."""

    def __init__(self, dtype, broadcastable, name=None):
        try:
            dtype = str(np.dtype(dtype))
        except TypeError:
            raise TypeError(f"{dtype!r} is not a dtype; expected one of {', '.join(ALL_DTYPES)}") from None
        if dtype not in ALL_DTYPES:
            raise TypeError(f"unsupported dtype {dtype!r}; expected one of {', '.join(ALL_DTYPES)}")
        self.dtype = dtype
        self.broadcastable = tuple(bool(b) for b in broadcastable)
        self.name = name

    @property
    def ndim(self):
        return len(self.broadcastable)

    @property
    def numpy_dtype(self):
        return np.dtype(self.dtype)

    def clone(self, dtype=None, broadcastable=None):
        return type(self)(dtype or self.dtype, self.broadcastable if broadcastable is None else broadcastable)

    # ------------------------------------------------------------------ values

    def filter(self, data, strict=False, allow_downcast=None):
        """Check a run-time value and convert it to an ndarray of this type.

        Conversions follow Theano: an array of another dtype is accepted when
        the cast is safe; a Python number or list when its values survive the
        cast; a Python float becomes floatX; anything else needs
        ``allow_downcast=True``.
        """
        if strict:
            if not isinstance(data, np.ndarray):
                raise TypeError(f"{self} expects a numpy.ndarray, got {type(data).__name__}")
            if data.dtype != self.numpy_dtype:
                raise TypeError(f"{self} expects dtype {self.dtype}, got {data.dtype}")
            value = data
        elif isinstance(data, np.ndarray) and data.dtype == self.numpy_dtype:
            value = data
        elif allow_downcast:
            value = np.asarray(data, dtype=self.dtype)
        elif isinstance(data, float) and self.dtype == config.floatX:
            value = np.asarray(data, dtype=self.dtype)
        elif isinstance(data, (np.ndarray, np.generic)):
            if not np.can_cast(data.dtype, self.numpy_dtype, casting="safe"):
                raise TypeError(
                    f"{self} cannot store a value of dtype {data.dtype} without risking loss of "
                    f"precision. If you do not mind this loss, you can: 1) explicitly cast your "
                    f"data to {self.dtype}, or 2) set allow_input_downcast=True when calling "
                    f"function."
                )
            value = np.asarray(data, dtype=self.dtype)
        else:
            value = self._filter_python_value(data)
        self._check_shape(value)
        return value

    def _filter_python_value(self, data):
        try:
            original = np.asarray(data)
        except ValueError as exc:
            raise TypeError(f"{self} cannot store {data!r}: {exc}") from None
        if original.dtype.kind not in "biufc":
            raise TypeError(f"{self} expects numbers, got a value of type {type(data).__name__}: {data!r}")
        if original.dtype.kind == "c" and self.numpy_dtype.kind != "c":
            raise TypeError(f"{self} cannot store the complex value {data!r}")
        with np.errstate(invalid="ignore", over="ignore"):
            value = original.astype(self.dtype)
            # Exact values only: [94.2] would silently become 94.19999694824219 in float32.
            same = np.array_equal(value, original, equal_nan=original.dtype.kind in "fc")
        if not same and not np.can_cast(original.dtype, self.numpy_dtype, casting="safe"):
            raise TypeError(
                f"{self} cannot store accurately value {data!r}: it would be changed to "
                f"{value.astype(original.dtype).tolist()!r}. Set allow_input_downcast=True to allow "
                "the conversion."
            )
        return value

    def _check_shape(self, value):
        if value.ndim != self.ndim:
            raise TypeError(
                f"Wrong number of dimensions: expected {self.ndim}, got {value.ndim} with shape {value.shape}."
            )
        for axis, (broadcastable, length) in enumerate(zip(self.broadcastable, value.shape)):
            if broadcastable and length != 1:
                raise TypeError(
                    f"Non-unit value on shape on a broadcastable dimension: {self} expects length 1 "
                    f"on axis {axis}, got shape {value.shape}."
                )

    def values_eq(self, a, b):
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)

    def values_eq_approx(self, a, b, rtol=None, atol=None):
        if a.shape != b.shape:
            return False
        tol = 1e-4 if self.dtype in ("float32", "float16", "complex64") else 1e-8
        return bool(np.allclose(a, b, rtol=rtol or tol, atol=atol or tol, equal_nan=True))

    def value_key(self, data):
        return (data.dtype.str, data.shape, data.tobytes())

    def format_value(self, data):
        """Theano's short form of a constant: ``2``, ``[1 2 3]``, ``(2, 3) of 0.0``, ``[ 0  1  2 .. 27 28 29]``."""
        if data.ndim and data.size and (data == data.reshape(-1)[0]).all():
            text = f"{data.shape} of {data.reshape(-1)[0]}"
        else:
            text = str(data)
        return text if len(text) <= 20 else f"{text[:10]}..{text[-10:]}"

    # ------------------------------------------------------------------ identity

    def __eq__(self, other):
        return type(self) is type(other) and self.dtype == other.dtype and self.broadcastable == other.broadcastable

    def __hash__(self):
        return hash((type(self), self.dtype, self.broadcastable))

    def is_compatible(self, other):
        """A variable of ``other`` may replace one of ``self`` if it is at least as specific."""
        return (
            isinstance(other, TensorType)
            and other.dtype == self.dtype
            and other.ndim == self.ndim
            and all(new or not old for old, new in zip(self.broadcastable, other.broadcastable))
        )

    _PATTERN_NAMES = {(): "scalar", (False,): "vector", (False, True): "col",
                      (True, False): "row", (False, False): "matrix"}

    def pattern_name(self):
        """``scalar``, ``vector``, ``row``, ``col``, ``matrix``, ``3D``..., or the pattern itself."""
        pattern = self._PATTERN_NAMES.get(self.broadcastable)
        if pattern is None:
            pattern = str(self.broadcastable) if any(self.broadcastable) else f"{self.ndim}D"
        return pattern

    def __str__(self):
        if self.name:
            return self.name
        return f"TensorType({self.dtype}, {self.pattern_name()})"

    def __repr__(self):
        return str(self)


# ---------------------------------------------------------------------- constructors

_PREFIX_DTYPES = {"b": "int8", "w": "int16", "i": "int32", "l": "int64",
                  "f": "float32", "d": "float64", "c": "complex64", "z": "complex128"}

_KIND_PATTERNS = {"scalar": (), "vector": (False,), "row": (True, False), "col": (False, True),
                  "matrix": (False, False), "tensor3": (False,) * 3, "tensor4": (False,) * 4,
                  "tensor5": (False,) * 5}


def _make_constructor(kind, prefix):
    pattern = _KIND_PATTERNS[kind]
    if prefix:
        def constructor(name=None):
            return TensorType(_PREFIX_DTYPES[prefix], pattern)(name)
    else:
        def constructor(name=None, dtype=None):
            return TensorType(dtype or config.floatX, pattern)(name)

    constructor.__name__ = constructor.__qualname__ = prefix + kind
    constructor.__doc__ = (
        f"A symbolic {kind} of dtype {_PREFIX_DTYPES.get(prefix, 'config.floatX')}, "
        f"broadcastable pattern {pattern}."
    )
    return constructor


def _plural_name(name):
    """English plurals, as Theano spells them: ``dmatrices``, ``fscalars``."""
    return name[:-1] + "ces" if name.endswith("matrix") else name + "s"


def _make_plural(single):
    def plural(*names):
        if len(names) == 1 and isinstance(names[0], int):
            names = [None] * names[0]
        return tuple(single(name) for name in names)

    plural.__name__ = plural.__qualname__ = _plural_name(single.__name__)
    plural.__doc__ = f"As many {single.__name__} variables as names: ``{plural.__name__}('x', 'y')``."
    return plural


def _build_constructors():
    table = {}
    for kind in _KIND_PATTERNS:
        for prefix in ("",) + tuple(_PREFIX_DTYPES):
            single = _make_constructor(kind, prefix)
            table[single.__name__] = single
            plural = _make_plural(single)
            table[plural.__name__] = plural
    return table


_CONSTRUCTORS = _build_constructors()
globals().update(_CONSTRUCTORS)
__all__ = ["TensorType", "tensor"] + sorted(_CONSTRUCTORS)


def tensor(dtype=None, broadcastable=None, name=None, *, ndim=None):
    """A variable of any rank: ``tensor('float32', (False, True))`` or ``tensor(ndim=3)``."""
    if broadcastable is None:
        broadcastable = (False,) * (ndim or 0)
    return TensorType(dtype or config.floatX, broadcastable)(name)
