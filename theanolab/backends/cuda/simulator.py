"""The kernels of :class:`~theanolab.backends.cuda.device.SimulatedDevice`: our CUDA sources, run on the CPU.

A kernel's CUDA source is compiled by the C compiler (cffi, through the C
backend's build cache) after ``kernels/cuda/host_emulation.h``, which turns
CUDA's qualifiers into C and its thread coordinates into globals; a
generated launcher sets them and calls the kernel once per (block, thread)
of the launch grid.  So the simulator runs the very text a GPU would (the
scalar helpers, the MRG generator, the kernels' index arithmetic), and a
wrong index or a missed element shows on machines without a GPU.

- :func:`raw_kernel` mimics ``cupy.RawKernel``: ``kernel(grid, block, args)``
  with NumPy arrays for pointer parameters and NumPy scalars of the exact C
  type for the others (a Python number would have to guess a width).
- :func:`elementwise_kernel` mimics ``cupy.ElementwiseKernel`` as the backend
  calls it (inputs, then the outputs, all passed): inputs are broadcast to
  the outputs' shape and made contiguous, a non-contiguous output gets a
  buffer copied back, and the operation runs in the grid-stride kernel of
  :func:`~theanolab.backends.cuda.sources.grid_stride_kernel`.

Threads run one after another, so a kernel that synchronizes threads
(``__syncthreads``, ``__shared__`` memory, atomics) is refused: the
simulator could not say what the GPU would compute.
"""

from __future__ import annotations

import functools
import re

import numpy as np

from theanolab.backends.c.build import load_module
from theanolab.backends.c.kernels.basic import C_TYPES
from theanolab.backends.cuda.sources import cuda_header, grid_stride_kernel, parse_params

__all__ = ["raw_kernel", "elementwise_kernel"]

#: CUDA features that need threads running together, which the simulator does not do.
_CONCURRENT = ("__syncthreads", "__shared__", "atomic", "__shfl")
#: the launch of the simulated elementwise kernel: a few blocks, so the grid-stride loop is exercised.
_ELEMENTWISE_GRID, _ELEMENTWISE_BLOCK = (3, 1, 1), (32, 1, 1)
_QUALIFIERS = {"const", "__restrict__", "restrict"}


class _KernelParam:
    """A parameter of a kernel's signature: its C type, and whether it is a pointer."""

    def __init__(self, declaration, kernel):
        words = declaration.replace("*", " * ").split()
        self.pointer = "*" in words
        types = [w for w in words[:-1] if w not in _QUALIFIERS and w != "*"]
        if len(types) != 1 or types[0] not in C_TYPES.values() or words.count("*") > 1:
            raise ValueError(f"the simulator cannot pass the parameter {declaration.strip()!r} of the CUDA "
                             f"kernel {kernel}: expected a C type of {sorted(set(C_TYPES.values()))}, "
                             "or a pointer to one")
        self.ctype = types[0]
        self.name = words[-1]

    def convert(self, value, ffi, kernel):
        """``value`` as cffi passes it, after checking it is what the kernel expects."""
        if self.pointer:
            if not isinstance(value, np.ndarray) or C_TYPES.get(value.dtype.name) != self.ctype:
                raise TypeError(f"CUDA kernel {kernel}: parameter {self.name} ({self.ctype} *) needs an array "
                                f"of that element type, got {_describe(value)}")
            return ffi.cast("void *", value.ctypes.data)
        if not isinstance(value, np.generic) or C_TYPES.get(value.dtype.name) != self.ctype:
            raise TypeError(f"CUDA kernel {kernel}: parameter {self.name} ({self.ctype}) needs a NumPy scalar "
                            f"of that C type, got {_describe(value)}")
        return value.item()


def _describe(value):
    dtype = getattr(value, "dtype", None)
    return f"{type(value).__name__} of dtype {dtype}" if dtype is not None else repr(value)


def _signature(code, name):
    """The parameters of the kernel ``name`` declared in ``code`` (``TL_KERNEL void name(...)``)."""
    match = re.search(rf"TL_KERNEL\s+void\s+{re.escape(name)}\s*\(([^)]*)\)", code)
    if match is None:
        raise ValueError(f"the simulator found no kernel 'TL_KERNEL void {name}(...)' in the CUDA source")
    return [_KernelParam(p, name) for p in match.group(1).split(",") if p.strip()]


def _dims(value, what, kernel):
    dims = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
    if not 1 <= len(dims) <= 3 or any(int(d) < 1 for d in dims):
        raise ValueError(f"CUDA kernel {kernel}: {what} must be 1 to 3 positive sizes, got {value!r}")
    return tuple(int(d) for d in dims) + (1,) * (3 - len(dims))


class _RawKernel:
    """A compiled kernel and its launcher: ``kernel(grid, block, args)`` as ``cupy.RawKernel``."""

    def __init__(self, module, name, params):
        self.module, self.name, self.params = module, name, params
        self._launch = getattr(module.lib, f"{name}_launch")

    def __call__(self, grid, block, args):
        args = tuple(args)
        if len(args) != len(self.params):
            raise TypeError(f"CUDA kernel {self.name} takes {len(self.params)} arguments, got {len(args)}")
        converted = [p.convert(a, self.module.ffi, self.name) for p, a in zip(self.params, args)]
        self._launch(*_dims(grid, "grid", self.name), *_dims(block, "block", self.name), *converted)


@functools.lru_cache(maxsize=None)
def raw_kernel(code, name):
    """The simulated ``cupy.RawKernel(code, name)`` (see the module's docstring)."""
    used = [word for word in _CONCURRENT if word in code]
    if used:
        raise NotImplementedError(f"CUDA kernel {name} uses {', '.join(used)}: its threads must run together, "
                                  "which the GPU simulator does not do")
    params = _signature(code, name)
    declared = ", ".join(f"{'void *' if p.pointer else p.ctype + ' '}{p.name}" for p in params)
    dims = "unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, unsigned int by, unsigned int bz"
    launcher = (
        f"\nvoid {name}_launch({dims}{', ' if params else ''}{declared})\n{{\n"
        "    gridDim.x = gx; gridDim.y = gy; gridDim.z = gz;\n"
        "    blockDim.x = bx; blockDim.y = by; blockDim.z = bz;\n"
        "    for (unsigned int kz = 0; kz < gz; kz++) for (unsigned int ky = 0; ky < gy; ky++)\n"
        "    for (unsigned int kx = 0; kx < gx; kx++) for (unsigned int tz = 0; tz < bz; tz++)\n"
        "    for (unsigned int ty = 0; ty < by; ty++) for (unsigned int tx = 0; tx < bx; tx++) {\n"
        "        blockIdx.x = kx; blockIdx.y = ky; blockIdx.z = kz;\n"
        "        threadIdx.x = tx; threadIdx.y = ty; threadIdx.z = tz;\n"
        f"        {name}({', '.join(p.name for p in params)});\n"
        "    }\n}\n")
    source = cuda_header("host_emulation.h") + "\n" + code + launcher
    module = load_module(f"void {name}_launch({dims}{', ' if params else ''}{declared});", source,
                         description=f"the CUDA kernel {name} (GPU simulator)")
    return _RawKernel(module, name, params)


class _ElementwiseKernel:
    """The simulated ``cupy.ElementwiseKernel``: broadcasting and layouts in NumPy, the operation in C."""

    def __init__(self, kernel, ins, outs):
        self.kernel, self.ins, self.outs = kernel, ins, outs

    def __call__(self, *args):
        nin, nout = len(self.ins), len(self.outs)
        if len(args) != nin + nout:
            raise TypeError(f"elementwise kernel {self.kernel.name} is called with its {nin} inputs and its {nout} "
                            f"outputs in the simulator, got {len(args)} arguments")
        inputs, outputs = [np.asarray(a) for a in args[:nin]], args[nin:]
        for param, value in zip(self.ins + self.outs, [*inputs, *outputs]):
            if not isinstance(value, np.ndarray) or value.dtype != param.dtype:
                raise TypeError(f"elementwise kernel {self.kernel.name}: {param.name} is declared {param.dtype}, "
                                f"got {_describe(value)}")
        shape = outputs[0].shape
        if any(o.shape != shape for o in outputs):
            raise ValueError(f"elementwise kernel {self.kernel.name}: outputs of different shapes "
                             f"{[o.shape for o in outputs]}")
        contiguous_inputs = [np.ascontiguousarray(np.broadcast_to(a, shape)) for a in inputs]
        buffers = [o if o.flags.c_contiguous else np.empty(shape, o.dtype) for o in outputs]
        size = int(np.prod(shape, dtype=np.int64))
        if size:
            self.kernel(_ELEMENTWISE_GRID, _ELEMENTWISE_BLOCK, (np.int64(size), *contiguous_inputs, *buffers))
        for output, buffer in zip(outputs, buffers):
            if buffer is not output:
                output[...] = buffer
        return outputs[0] if nout == 1 else tuple(outputs)


@functools.lru_cache(maxsize=None)
def elementwise_kernel(in_params, out_params, operation, name, preamble=""):
    """The simulated ``cupy.ElementwiseKernel(in_params, out_params, operation, name, preamble=preamble)``."""
    code = grid_stride_kernel(in_params, out_params, operation, name, preamble)
    return _ElementwiseKernel(raw_kernel(code, name), parse_params(in_params), parse_params(out_params))
