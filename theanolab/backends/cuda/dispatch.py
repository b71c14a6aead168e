"""Which ops run on the GPU: the ``cuda_impl`` dispatch table.

``cuda_impl(op, node, device)`` returns a function ``run(inputs, output_cells)``
computing ``node`` on ``device`` (inputs are device arrays; it stores device
arrays in ``output_cells[k][0]``, reusing an input's memory only where the op
declares it in ``destroy_map``/``view_map``), or None when this node cannot
run there (a dtype the kernels lack, say): the placement rewrite then leaves
it on the CPU.  Registering an op class is all a new GPU op takes:

>>> @cuda_impl.register(MyOp)                       # doctest: +SKIP
... def _(op, node, device):
...     xp = device.xp
...     def run(inputs, output_cells):
...         output_cells[0][0] = xp.negative(inputs[0])
...     return run

``node`` is the CPU node being placed (its types say dtypes and broadcastable
patterns); the implementation must compute exactly what ``op.perform`` does.
"""

from __future__ import annotations

import functools

__all__ = ["cuda_impl", "register_implementations"]


@functools.singledispatch
def cuda_impl(op, node, device):
    """No GPU implementation: the node stays on the CPU."""
    return None


def register_implementations():
    """Import the modules that fill the ``cuda_impl`` table."""
    import theanolab.backends.cuda.impls  # noqa: F401
