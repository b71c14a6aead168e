"""The ``devices`` fixture: every CUDA test runs on the simulated GPU, and on a real one where there is one.

The simulated device needs the C compiler (its kernels are compiled C); the
CuPy device needs CuPy and an NVIDIA GPU.  Each case is skipped with the
reason when its machine lacks them, so the suite passes on any machine and
says what it could not check.
"""

from __future__ import annotations

import pytest

from theanolab.backends.c.build import compiler_available
from theanolab.backends.cuda.device import CupyDevice, DeviceUnavailable, SimulatedDevice
from theanolab.backends.cuda.dispatch import register_implementations


def _simulated():
    if not compiler_available():
        pytest.skip("the simulated GPU compiles its kernels with the C compiler, which is missing")
    return SimulatedDevice()


def _cupy():
    try:
        return CupyDevice(0)
    except DeviceUnavailable as exc:
        pytest.skip(f"no real GPU to test on: {exc}")


@pytest.fixture(scope="session", params=["simulated", "cupy"])
def devices(request):
    """A :class:`~theanolab.backends.cuda.device.Device` with the ``cuda_impl`` table filled."""
    register_implementations()
    return _simulated() if request.param == "simulated" else _cupy()
