"""CUDA elementwise kernels rendered from the scalar ops' C statements (one source of truth per op).

:func:`elementwise_parts` turns ``(scalar_op, input dtypes, output dtypes)``
into the arguments of ``cupy.ElementwiseKernel``: the ``operation`` is the
list of C statements that :func:`theanolab.backends.c.scalar.c_statements`
gives the C backend (a fused Composite included), and the ``preamble`` the
CUDA prelude with ``kernels/c/scalar.h``.  So a scalar op computes the same
expression, with the same NumPy-faithful helpers, on every backend.

Conventions of the rendered kernels:

- an input ``k`` is the parameter ``x{k}``, an output ``j`` is ``y{j}``;
  bools are passed as ``uint8`` (the C tables' type for them; the caller
  views bool arrays as uint8, which costs nothing), so no C++ ``bool``
  semantics enter the expressions;
- an integer ``pow`` with possibly negative exponents computes every element
  in float64 if ANY exponent is negative (``Pow.impl``); the C kernel scans
  the exponent first, here the caller does: each input whose flag the
  statements ask for becomes an extra ``uint8 neg{k}`` input, which
  :class:`ElementwiseParts` lists in ``flagged`` and the caller fills with
  the 0-d device array ``any(input_k < 0)`` (broadcast by the kernel, no
  transfer to the host);
- dtypes or ops without exact C (float16, complex) give None: the node stays
  on the CPU.

:func:`standalone_source` is the complete ``.cu`` translation unit of a
kernel, which ``nvcc`` compiles in the tests (acceptance: a syntax error in
generated CUDA cannot land unseen) and the simulator runs.
"""

from __future__ import annotations

import functools
import hashlib
from typing import NamedTuple

from theanolab.backends.c import scalar
from theanolab.backends.cuda.sources import grid_stride_kernel, preamble

__all__ = ["ElementwiseParts", "elementwise_parts", "standalone_source", "kernel_dtype"]


def kernel_dtype(dtype):
    """The dtype of an operand as the kernel declares it: bools travel as uint8."""
    return "uint8" if dtype == "bool" else dtype


class ElementwiseParts(NamedTuple):
    """The ``cupy.ElementwiseKernel`` arguments of one scalar op on given dtypes, and its flag inputs."""

    in_params: str
    out_params: str
    operation: str
    name: str
    preamble: str
    flagged: tuple  # the inputs whose "some element is negative" flag follows the inputs, in this order

    @property
    def kernel_args(self):
        return self.in_params, self.out_params, self.operation, self.name, self.preamble


@functools.lru_cache(maxsize=1024)
def elementwise_parts(scalar_op, in_dtypes, out_dtypes):
    """The :class:`ElementwiseParts` of ``scalar_op`` on these dtypes, or None if it has no exact C."""
    args, flagged = scalar.input_values(in_dtypes, lambda k: f"neg{k}")
    outputs = [scalar.Value(f"y{j}", dtype) for j, dtype in enumerate(out_dtypes)]
    body = scalar.c_statements(scalar_op, args, outputs, scalar.name_source())
    if body is None:
        return None
    in_params = ", ".join([f"{kernel_dtype(d)} x{k}" for k, d in enumerate(in_dtypes)]
                          + [f"uint8 neg{k}" for k in flagged])
    out_params = ", ".join(f"{kernel_dtype(d)} y{j}" for j, d in enumerate(out_dtypes))
    operation = "\n".join(body)
    digest = hashlib.sha256(f"{in_params}|{out_params}|{operation}".encode()).hexdigest()[:12]
    name = f"tl_{type(scalar_op).__name__.lower()}_{digest}"
    return ElementwiseParts(in_params, out_params, operation, name, preamble(*scalar.HEADERS), tuple(flagged))


def standalone_source(parts):
    """The complete ``.cu`` source of ``parts``' kernel: the operation in a grid-stride ``__global__`` loop."""
    return grid_stride_kernel(*parts.kernel_args)
