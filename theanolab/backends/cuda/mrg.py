"""The CUDA kernel of ``mrg_uniform`` (:mod:`theanolab.random.mrg`): MRG31k3p, one thread per stream.

Stream ``j`` of the state matrix gives samples ``j, j + n_streams, ...``
(``kernels/c/mrg31k3p.h``, which the kernel includes through the CUDA
prelude, documents the layout), so thread ``j`` reproduces the CPU's
sequence for its stream exactly: the GPU draws the same bits as
``mrg_uniform.perform`` and the C kernel.  As those, it reads the states and
writes an advanced copy; the input states are never modified.
"""

from __future__ import annotations

import functools
from string import Template

from theanolab.backends.cuda.sources import preamble

__all__ = ["BLOCK", "mrg_source"]

#: threads per block (the default 15360 streams fill 60 blocks).
BLOCK = 256

_KERNEL = Template(r"""
/* states: contiguous (streams, 6) int32; n samples; out_states: contiguous (streams, 6); sample: n. */
TL_KERNEL void $name(const int32_t *states, int64_t streams, int64_t n, int32_t *out_states, $c_t *sample)
{
    const int64_t j = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= streams) return;
    int64_t s[6];
    for (int c = 0; c < 6; c++) s[c] = states[j * 6 + c];
    for (int64_t i = j; i < n; i += streams) sample[i] = $convert(tl_mrg31k3p_next(s));
    for (int c = 0; c < 6; c++) out_states[j * 6 + c] = (int32_t)s[c];
}
""")


@functools.cache
def mrg_source(dtype):
    """``(name, complete CUDA source)`` of the kernel drawing ``dtype`` samples (float32 or float64)."""
    if dtype not in ("float32", "float64"):
        raise ValueError(f"MRG uniform samples are float32 or float64, not {dtype}")
    name = f"tl_mrg_uniform_{dtype}"
    kernel = _KERNEL.substitute(name=name, c_t="float" if dtype == "float32" else "double",
                                convert="TL_MRG_FLOAT32" if dtype == "float32" else "TL_MRG_FLOAT64")
    return name, preamble("mrg31k3p.h") + kernel
