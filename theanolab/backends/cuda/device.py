"""Where GPU arrays live and GPU kernels run: a CuPy device, or a simulated one for testing.

Everything the CUDA backend does with a GPU goes through one :class:`Device`
object, so the rest of the backend (placement, kernels, runners) is the same
code on a real GPU and on :class:`SimulatedDevice`.  The interface:

- ``xp``: the array module (``cupy``; NumPy when simulated), for the ops that
  are written as array expressions (reductions, cuBLAS products, views);
- ``to_device(array)`` / ``to_host(array)`` / ``is_device_array(value)``;
- ``elementwise_kernel(in_params, out_params, operation, name, preamble)``:
  CuPy's ``ElementwiseKernel`` (broadcasting, any strides; the generated
  ``operation`` is the only CUDA source of ours in it);
- ``raw_kernel(code, name)``: a ``__global__`` function of ours, launched as
  ``kernel(grid, block, args)``;
- ``activate()``: a context in which the device is CUDA's current one.

Why a simulator: CI and most developers' machines have no GPU, and a backend
that has only ever run on a GPU lent for an hour would be untested code the
rest of the time.  With ``THEANOLAB_FLAGS=device=cuda,gpu_simulator=True``
the whole GPU path runs on the CPU: the placement rewrite, the transfers, the
device-resident shared variables, and every CUDA kernel's source, compiled by
the C compiler with a header that defines CUDA's thread indices and loops
over the launch grid (:mod:`theanolab.backends.cuda.simulator`).  What it
cannot test (CuPy's own code, the GPU's rounding of math functions, timing)
is checked on a real GPU (``docs/gpu-validation.md``).

CuPy is imported only when ``config.device`` asks for a GPU.
"""

from __future__ import annotations

import contextlib
import functools
import warnings

import numpy as np

from theanolab.config import config

__all__ = ["Device", "CupyDevice", "SimulatedDevice", "DeviceUnavailable", "current_device", "device_index"]


class DeviceUnavailable(RuntimeError):
    """``config.device`` names a GPU that cannot be used (no CuPy, no GPU, no such index)."""


class Device:
    """What the CUDA backend needs of a GPU (see the module's docstring)."""

    name = "device"
    index = 0
    xp = np

    def to_device(self, array):
        raise NotImplementedError

    def to_host(self, array):
        raise NotImplementedError

    def is_device_array(self, value):
        raise NotImplementedError

    def elementwise_kernel(self, in_params, out_params, operation, name, preamble=""):
        raise NotImplementedError

    def raw_kernel(self, code, name):
        raise NotImplementedError

    def activate(self):
        return contextlib.nullcontext()

    def synchronize(self):
        """Wait for every kernel launched so far (for timings; transfers to the host wait anyway)."""

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}>"


class CupyDevice(Device):
    """An NVIDIA GPU through CuPy: device memory is ``cupy.ndarray``, kernels compile with NVRTC."""

    def __init__(self, index=0):
        try:
            import cupy
        except ImportError as exc:
            raise DeviceUnavailable(
                f"device=cuda{index} needs CuPy, which is not installed ({exc}). Install the extra: "
                "pip install 'theanolab[cuda]' (cupy-cuda12x; use cupy-cuda13x with CUDA 13 drivers), "
                "or set device=cpu") from None
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDARuntimeError: no driver, no GPU
            raise DeviceUnavailable(f"device=cuda{index}: no usable NVIDIA GPU ({exc}); set device=cpu") from None
        if not 0 <= index < count:
            raise DeviceUnavailable(f"device=cuda{index}: this machine has {count} GPU(s), cuda0 to "
                                    f"cuda{count - 1}")
        self.cupy = cupy
        self.xp = cupy
        self.index = index
        self._device = cupy.cuda.Device(index)
        properties = cupy.cuda.runtime.getDeviceProperties(index)
        model = properties["name"]
        self.name = f"cuda{index} ({model.decode() if isinstance(model, bytes) else model})"

    def to_device(self, array):
        with self._device:
            return self.cupy.array(array, copy=True)

    def to_host(self, array):
        return self.cupy.asnumpy(array)

    def is_device_array(self, value):
        return isinstance(value, self.cupy.ndarray)

    #: NVRTC would contract a*b+c into one fused multiply-add, rounding once where NumPy (and the C
    #: backend, built with -ffp-contract=off) round twice: the kernels compute NumPy's numbers instead.
    COMPILE_OPTIONS = ("--fmad=false",)

    @functools.lru_cache(maxsize=None)
    def elementwise_kernel(self, in_params, out_params, operation, name, preamble=""):
        return self.cupy.ElementwiseKernel(in_params, out_params, operation, name, preamble=preamble,
                                           options=self.COMPILE_OPTIONS)

    @functools.lru_cache(maxsize=None)
    def raw_kernel(self, code, name):
        return self.cupy.RawKernel(code, name, options=self.COMPILE_OPTIONS)

    def activate(self):
        return self._device

    def synchronize(self):
        self._device.synchronize()


class SimulatedDevice(Device):
    """A GPU simulated on the CPU: NumPy arrays stand for device memory, kernels are compiled C.

    Transfers copy, as real ones do, so a program cannot rely on sharing
    memory between host and device.
    """

    def __init__(self, index=0):
        self.index = index
        self.name = f"cuda{index} (simulated on the CPU)"

    def to_device(self, array):
        return np.array(array, copy=True)

    def to_host(self, array):
        return np.array(array, copy=True)

    def is_device_array(self, value):
        return isinstance(value, np.ndarray)

    def elementwise_kernel(self, in_params, out_params, operation, name, preamble=""):
        from theanolab.backends.cuda import simulator

        return simulator.elementwise_kernel(in_params, out_params, operation, name, preamble)

    def raw_kernel(self, code, name):
        from theanolab.backends.cuda import simulator

        return simulator.raw_kernel(code, name)


def device_index(name):
    """The GPU index of a device name: ``'cuda'`` and ``'cuda0'`` are 0, ``'cuda1'`` is 1; None for ``'cpu'``."""
    if name == "cpu":
        return None
    return int(name[4:] or 0)


_warned = set()


def current_device():
    """The :class:`Device` that ``config.device`` names, or None when functions run on the CPU.

    Without a usable GPU this raises :class:`DeviceUnavailable`, or, when
    ``config.device_fallback`` allows it, warns once and returns None.
    """
    index = device_index(config.device)
    if index is None:
        return None
    try:
        return _device(index, config.gpu_simulator)
    except DeviceUnavailable as exc:
        if not config.device_fallback:
            raise
        if str(exc) not in _warned:
            _warned.add(str(exc))
            warnings.warn(f"{exc}. device_fallback=True: running on the CPU instead", stacklevel=3)
        return None


@functools.lru_cache(maxsize=None)
def _device(index, simulated):
    return SimulatedDevice(index) if simulated else CupyDevice(index)
