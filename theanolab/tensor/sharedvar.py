"""Shared tensor variables: ``theanolab.shared(numpy_array)``."""

from __future__ import annotations

import numbers

import numpy as np

from theanolab.compile.sharedvalue import SharedVariable, shared_constructor
from theanolab.tensor.type import TensorType
from theanolab.tensor.variable import TensorOperators


class TensorSharedVariable(TensorOperators, SharedVariable):
    """A shared variable holding an ndarray; usable in expressions like any tensor."""

    __hash__ = SharedVariable.__hash__


@shared_constructor
def tensor_constructor(value, name=None, strict=False, allow_downcast=None, borrow=False,
                       broadcastable=None):
    """Shared variable for an ndarray, a NumPy scalar, a Python number or a list of numbers."""
    if not isinstance(value, (np.ndarray, np.generic, numbers.Number, list, tuple)):
        raise TypeError(f"expected an array or a number, got {type(value).__name__}")
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    if array.dtype == object:
        raise TypeError("expected numbers, got Python objects")
    if broadcastable is None:
        broadcastable = (False,) * array.ndim
    elif len(broadcastable) != array.ndim:
        raise TypeError(
            f"broadcastable={tuple(broadcastable)} has {len(broadcastable)} entries but the value "
            f"has {array.ndim} dimensions"
        )
    tensor_type = TensorType(array.dtype, broadcastable)
    if not borrow and array is value:
        array = array.copy()
    return TensorSharedVariable(tensor_type, array, name=name, strict=strict, allow_downcast=allow_downcast)
