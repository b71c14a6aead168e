"""GPU implementation of ``mrg_uniform``: the kernel of :mod:`theanolab.backends.cuda.mrg`.

The checks are ``mrg_uniform.perform``'s, in its order and with its
messages, made before anything is allocated; the size vector (a few
integers, needed to allocate the sample) stays on the host.
"""

from __future__ import annotations

import numpy as np

from theanolab.backends.cuda.dispatch import cuda_impl
from theanolab.backends.cuda.mrg import BLOCK, mrg_source
from theanolab.random import mrg31k3p
from theanolab.random.mrg import mrg_uniform

__all__ = []


def _sample_shape(op, states, size):
    """The sample's shape, after the checks of ``perform``."""
    shape = tuple(int(n) for n in size)
    if len(shape) != op.output_type.ndim:
        raise ValueError(f"{op}: size {shape} does not have {op.output_type.ndim} entries")
    if min(shape, default=0) < 0:
        raise ValueError(f"{op}: negative dimensions are not allowed (size {shape})")
    n = int(np.prod(shape, dtype=np.int64))
    if n > mrg31k3p.M1:
        raise ValueError(f"{op}: MRG draws are limited to 2**31 - 1 samples, {n} asked for")
    if states.ndim != 2 or states.shape[1] != 6 or states.shape[0] == 0:
        raise ValueError(f"{op}: the generator states must have shape (n_streams >= 1, 6), got {states.shape}")
    return shape


@cuda_impl.register(mrg_uniform)
def _mrg_uniform(op, node, device):
    xp = device.xp
    dtype = op.output_type.dtype
    name, code = mrg_source(dtype)

    def run(inputs, output_cells):
        states, size = inputs
        shape = _sample_shape(op, states, size)
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
