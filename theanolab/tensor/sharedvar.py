"""Shared tensor variables: ``theanolab.shared(numpy_array)``."""

from __future__ import annotations

import numbers

import numpy as np

from theanolab.compile.sharedvalue import (
    SharedValueError,
    SharedVariable,
    reject_unknown_arguments,
    shared_constructor,
)
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import TensorOperators


class TensorSharedVariable(TensorOperators, SharedVariable):
    """A shared variable holding an ndarray; usable in expressions like any tensor."""

    __hash__ = SharedVariable.__hash__


def shared_pattern(array, broadcastable):
    """The broadcastable pattern of a shared ``array``: none by default (its shape may change later)."""
    if broadcastable is None:
        return (False,) * array.ndim
    if len(broadcastable) != array.ndim:
        raise SharedValueError(
            f"broadcastable={tuple(broadcastable)} has {len(broadcastable)} entries but the value "
            f"has {array.ndim} dimensions"
        )
    return tuple(broadcastable)


@shared_constructor
def tensor_constructor(value, name=None, strict=False, allow_downcast=None, borrow=False,
                       broadcastable=None, **kwargs):
    """Shared variable for an ndarray, a NumPy scalar, a Python number or a list of numbers."""
    if not isinstance(value, (np.ndarray, np.generic, numbers.Number, list, tuple)):
        raise TypeError(f"expected an array or a number, got {type(value).__name__}")
    reject_unknown_arguments("tensor", kwargs)
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    if array.dtype == object:
        raise TypeError("expected numbers, got Python objects")
    tensor_type = TensorType(array.dtype, shared_pattern(array, broadcastable))
    if not borrow and array is value:
        array = array.copy()
    return TensorSharedVariable(tensor_type, array, name=name, strict=strict, allow_downcast=allow_downcast)
