"""Tensor creation and conversion: cast, fill, zeros/ones, alloc, arange, join, stack."""

from __future__ import annotations

import numpy as np

from theanolab import scalar as ts
from theanolab.config import config
from theanolab.scalar.basic import CONTINUOUS
from theanolab.tensor import math as tm
from theanolab.tensor.elemwise import Elemwise
from theanolab.tensor.variable import as_tensor_variable, constant

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
