"""GPU implementation of ``mrg_uniform``: the kernel of :mod:`theanolab.backends.cuda.mrg`.

The checks are ``mrg_uniform.perform``'s, in its order and with its
messages, made before anything is allocated; the size vector (a few
integers, needed to allocate the sample) stays on the host.
"""

from __future__ import annotations

import numpy as np

from theanolab.backends.cuda.dispatch import cuda_impl
from theanolab.backends.cuda.mrg import BLOCK, mrg_source
from theanolab.random.mrg import mrg_uniform

__all__ = []


@cuda_impl.register(mrg_uniform)
def _mrg_uniform(op, node, device):
    xp = device.xp
    dtype = op.output_type.dtype
    name, code = mrg_source(dtype)

    def run(inputs, output_cells):
        states, size = inputs
        shape, _ = op.sample_shape(states, size)
        states = xp.ascontiguousarray(states)
        streams = states.shape[0]
        new_states = xp.empty((streams, 6), dtype=xp.int32)
        sample = xp.empty(shape, dtype=dtype)
        kernel = device.raw_kernel(code, name)  # cached by the device
        kernel(((streams + BLOCK - 1) // BLOCK,), (BLOCK,),
               (states, np.int64(streams), np.int64(sample.size), new_states, sample))
        output_cells[0][0] = new_states
        output_cells[1][0] = sample

    run.host_inputs = (1,)  # the size: read on the host to allocate the sample
    return run
