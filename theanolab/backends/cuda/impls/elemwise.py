"""GPU implementation of Elemwise (every scalar op, and fused Composites): one generated kernel per node.

The kernel comes from :func:`theanolab.backends.cuda.elemwise.elementwise_parts`
(the C backend's scalar statements as a CuPy elementwise kernel), compiled
on the node's first run (the device caches it: placement asks about nodes
that may never run).  The run function does what ``Elemwise.perform`` does
around the computation: Theano's length check (same message), the
broadcast output shape, fresh outputs, or the destroyed input itself for an
in-place node (its type equals the output's, so its shape does too).
"""

from __future__ import annotations

import numpy as np

from theanolab.backends.cuda.dispatch import cuda_impl
from theanolab.backends.cuda.elemwise import elementwise_parts
from theanolab.tensor.elemwise import Elemwise, _check_lengths

__all__ = []


@cuda_impl.register(Elemwise)
def _elemwise(op, node, device):
    in_dtypes = tuple(v.type.dtype for v in node.inputs)
    out_dtypes = tuple(v.type.dtype for v in node.outputs)
    parts = elementwise_parts(op.scalar_op, in_dtypes, out_dtypes)
    if parts is None:
        return None
    xp = device.xp
    destroyed = dict(op.inplace_pattern)

    def operand(array):
        return array.view(xp.uint8) if array.dtype == xp.bool_ else array

    def run(inputs, output_cells):
        shapes = [a.shape for a in inputs]
        if any(s != shapes[0] for s in shapes):
            _check_lengths(node, inputs)
        shape = np.broadcast_shapes(*shapes)
        outputs = [inputs[destroyed[j]] if j in destroyed else xp.empty(shape, dtype=dtype)
                   for j, dtype in enumerate(out_dtypes)]
        if all(shape):
            kernel = device.elementwise_kernel(*parts.kernel_args)  # cached by the device
            flags = [xp.any(inputs[k] < 0).astype(xp.uint8) for k in parts.flagged]
            kernel(*map(operand, inputs), *flags, *map(operand, outputs))
        for cell, output in zip(output_cells, outputs):
            cell[0] = output

    return run
