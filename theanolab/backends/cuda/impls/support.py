"""What the array-expression GPU implementations share: host values of shape and index inputs,
index bounds checks, and outputs of the exact dtype.

Shapes, axes, split lengths and slice bounds are host integers in the end
(CuPy takes them as Python ints), but the placement rewrite moves every input
of a GPU node to the GPU.  Reading one back costs a device-to-host copy, which
waits for the GPU (a synchronisation, about 10 us).  Most such inputs are
constants, so :func:`host_reader` reads a :class:`Constant` once, when the
node is placed, and only a run-time value is copied back at each call.
"""

from __future__ import annotations

import numpy as np

from theanolab.graph.basic import Constant

__all__ = ["host_reader", "outside", "as_output"]


def host_reader(device, variable):
    """A function from the run-time value of ``variable`` (a node input) to a NumPy array on the host.

    A constant's value is fixed when the node is placed (no copy per call);
    any other value is copied back from the device, which synchronises.
    """
    if isinstance(variable, Constant):
        data = np.asarray(variable.data)
        return lambda value: data
    return lambda value: device.to_host(value) if device.is_device_array(value) else np.asarray(value)


def outside(indices, low, high):
    """Whether an integer array holds a value outside ``[low, high)``.

    One comparison on the device and one boolean read back (a
    synchronisation on a GPU): CuPy's indexing wraps an index that NumPy
    would reject, so the implementations check first to fail as ``perform`` does.
    """
    if indices.size == 0:
        return False
    beyond = indices >= high
    if low > 0 or indices.dtype.kind != "u":  # an unsigned index is never below 0
        beyond |= indices < low
    return bool(beyond.any())


def as_output(xp, value, dtype):
    """``value`` as an array of ``dtype``: NumPy's reductions return scalars for 0-d results,
    and an output must be an array of the node's output dtype."""
    return xp.asarray(value, dtype=dtype)
